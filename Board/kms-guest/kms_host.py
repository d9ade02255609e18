#!/usr/bin/env python3
"""Host side of Board/test-kms: screendumps while the guest shows the face, then every pixel and audio check.

    kms_host.py dumps WORK [QEMU_PID]
                              wait for the guest's first speech frames, take two screendumps ~1 s apart (QEMU
                              paused for each, so the trace says which frame was on screen), ask for the stop
    kms_host.py dumps-gles WORK [QEMU_PID]
                              the same for the GPU path's run (`--backend gles`, trace-gles.csv): two dumps, taken
                              when a new frame has reached the screen (it renders slowly under TCG), then stop-gles
    kms_host.py dumps-serve WORK [QEMU_PID]
                              the `parla serve` run: once the guest's client saw the face speak (results/
                              serve-speaking), one screendump (dump-serve.ppm), then stop-serve
    kms_host.py check WORK    compare the dumps with host renders of the same frames (`parla live --preview`),
                              check the mouth moved, the centre shows a face, the sound arrived in the loopback;
                              print one "PASS name" / "FAIL name: why" line per check

WORK holds qmp.sock, results/ (the guest's share) and run.json (binary, avatar, audio, mode). Pure Python (no
numpy or Pillow): PPM and PNG are decoded here.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import wave
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

# A dump matches a host render when the mean absolute difference over all channels is at most this (0–255), and
# nearly every pixel is within PIXEL_TOLERANCE (libm differences between the host CPU and TCG's may move a few).
MEAN_TOLERANCE = 1.0
PIXEL_TOLERANCE = 3
PIXEL_FRACTION = 0.995
# Median picture-minus-sound offset allowed with the audio clock beyond the ideal (−1 frame, 0]: this, or this
# fraction of the median frame time if larger (frames take 200–400 ms under TCG). FPS is parla live's default.
AV_TOLERANCE_MS = 50
AV_FRACTION_OF_FRAME = 0.35
FPS = 30
# The two dumps should show clearly different mouths (the traced lip gap, mouth_open = jawOpen − mouthClose, apart
# by this much), eyes open; tries before giving up. jawOpen alone is no measure: a p/b/m closure opens the jaw behind
# closed lips.
MOUTH_CHANGE = 0.2
DUMP_ATTEMPTS = 16
# The dump with the wider lip gap must show this many more dark pixels (luminance < DARK, the mouth cavity) in the
# mouth region than the other, as a fraction of the region. Head motion and blinks move edges everywhere but do not
# open a dark hole in the middle of the mouth.
DARK = 60
CAVITY_GROWTH = 0.005
# The GPU path's run (guest-test.sh, run 6) draws this --size: llvmpipe inside TCG is slow.
GLES_SIZE = 256
# The GPU run's motion flags (guest-test.sh step 6), given to the host's --preview renders of the same frames.
# --hud: the GPU path draws the stats box too; the preview's box has the same labels in the same place, other figures.
GLES_FLAGS = ("--still", "--hud")
# The --hud box (HUDOverlay, LivePainter): colours, and its geometry in font cells (6x8 pixels times the scale).
HUD_BOX, HUD_TEXT = (0x10, 0x10, 0x10), (0xF0, 0xF0, 0xF0)
HUD_COLUMNS, HUD_ROWS = 24, 3


# MARK: - images

def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def read_png(path):
    """8-bit RGB or RGBA, non-interlaced PNG → (width, height, RGB bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, w = 8, [], 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are read here")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    if bpp == 4:
        rgb = bytearray(w * h * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = out[0::4], out[1::4], out[2::4]
        out = rgb
    return w, h, bytes(out)


def difference(a, b):
    """Mean absolute difference (0–255) and the fraction of pixels whose channels all lie within PIXEL_TOLERANCE."""
    total = sum(abs(x - y) for x, y in zip(a, b))
    close = 0
    n = len(a) // 3
    for i in range(0, len(a), 3):
        if (abs(a[i] - b[i]) <= PIXEL_TOLERANCE and abs(a[i + 1] - b[i + 1]) <= PIXEL_TOLERANCE
                and abs(a[i + 2] - b[i + 2]) <= PIXEL_TOLERANCE):
            close += 1
    return total / len(a), close / n


def without(rgb, w, rect):
    """The RGB bytes with the pixels of rect (x0, y0, x1, y1) left out."""
    x0, y0, x1, y1 = rect
    out = bytearray()
    for y in range(len(rgb) // (3 * w)):
        row = rgb[y * w * 3:(y + 1) * w * 3]
        out += row[:x0 * 3] + row[x1 * 3:] if y0 <= y < y1 else row
    return bytes(out)


def hud_geometry(w, h):
    """The --hud box at rotation 0 on a w x h screen: (scale, margin, padding, box of the 24-column minimum as
    (x0, y0, x1, y1), and the rectangle to leave out of picture comparisons (4 columns more: longer figures widen
    the box))."""
    s = max(1, min(w, h) // 240)
    margin, padding = 4 * s, 2 * s
    bw, bh = HUD_COLUMNS * 6 * s - s + 2 * padding, HUD_ROWS * 8 * s - s + 2 * padding
    return s, margin, padding, (margin, margin, margin + bw, margin + bh), (margin, margin, min(w, margin + bw + 4 * 6 * s), margin + bh)


def check_hud(matched, checks, prefix):
    """The GPU path's --hud box in each dump, where the CPU path puts it: only the box and text colours in it, its
    padding all box colour, and the label cells "FPS" (row 0) and "LAG" (row 1) exactly as in the CPU --preview of
    the same frame (figures differ: the preview has measured nothing)."""
    colours, labels, problems = [], [], []
    for k, (rgb, w, h, _, expected) in enumerate(matched, 1):
        s, _, padding, (x0, y0, x1, y1), _ = hud_geometry(w, h)
        pixels = box(rgb, w, x0, y0, x1, y1)
        foreign = sum(1 for p in pixels if p != HUD_BOX and p != HUD_TEXT)
        ring = [p for i, p in enumerate(pixels)
                if (i % (x1 - x0)) < padding or (i // (x1 - x0)) < padding or (i // (x1 - x0)) >= (y1 - y0) - padding]
        text = sum(1 for p in pixels if p == HUD_TEXT)
        ok = foreign == 0 and all(p == HUD_BOX for p in ring) and text >= 50
        colours.append(ok)
        if not ok:
            problems.append(f"dump {k}: {foreign} pixels neither box nor text colour, "
                            f"{sum(1 for p in ring if p != HUD_BOX)} padding pixels not box colour, {text} text pixels")
        for row in (0, 1):
            cx0, cy0 = x0 + padding, y0 + padding + row * 8 * s
            cell = (cx0, cy0, cx0 + 3 * 6 * s, cy0 + 7 * s)
            got, want = box(rgb, w, *cell), box(expected, w, *cell)
            labels.append(got == want and HUD_TEXT in want)
    checks.report(f"{prefix}hud-box", all(colours),
                  "; ".join(problems) or f"{len(matched)} dumps: box and text colours only, padding intact")
    checks.report(f"{prefix}hud-labels", all(labels) and len(labels) == 2 * len(matched),
                  f"FPS and LAG label cells {'equal' if all(labels) else 'differ from'} the --preview --hud render's")


def box(rgb, w, x0, y0, x1, y1):
    """The pixels of rectangle [x0, x1) × [y0, y1) as a list of (r, g, b)."""
    return [tuple(rgb[(y * w + x) * 3:(y * w + x) * 3 + 3]) for y in range(y0, y1) for x in range(x0, x1)]


def luminance_std(pixels):
    lum = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels]
    mean = sum(lum) / len(lum)
    return (sum((v - mean) ** 2 for v in lum) / len(lum)) ** 0.5


def is_skin(r, g, b):
    """A classic RGB skin-tone rule (Kovac et al.), loose enough for lit and painted faces."""
    return r > 95 and g > 40 and b > 20 and r > g and r > b and r - min(g, b) > 15 and abs(r - g) > 15


# MARK: - trace

def read_trace(path):
    """Complete lines of a `parla live --trace` CSV as dicts."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the last piece is empty or a partial line
    if not lines:
        return []
    keys = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        values = line.split(",")
        if len(values) == len(keys):
            rows.append(dict(zip(keys, values)))
    return rows


# MARK: - dumps

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (OSError, TypeError):
        return pid is None


def take_dumps(work, qemu_pid=None, run="", per_frame=False):
    """Dumps of the run whose trace is trace{run}.csv into dump{run}-1/2.ppm, dumps{run}.json; then stop{run or
    '-main'}. per_frame: between attempts wait for the next traced flip instead of 0.25 s (slow renderers)."""
    results = os.path.join(work, "results")
    trace_path = os.path.join(results, f"trace{run}.csv")
    stop_file = os.path.join(results, f"stop{run or '-main'}")
    deadline = time.monotonic() + (480 if per_frame else 240)
    while True:
        rows = read_trace(trace_path)
        if len(rows) >= 3 and rows[-1]["speech"] == "1":
            break
        if (os.path.exists(os.path.join(results, "guest-done")) or time.monotonic() > deadline
                or not alive(qemu_pid)):
            print(f"kms_host: no speech frames of trace{run}.csv on screen in time; no dumps taken", file=sys.stderr)
            open(stop_file, "w").close()
            return
        time.sleep(0.2)
    qmp = QMP(os.path.join(work, "qmp.sock"))
    dumps = []
    first_gap = None
    for k in (1, 2):
        if k == 2:
            time.sleep(1.0)
        # Pause, and keep the moment if the frame on screen suits: speech, eyes open, and for the second dump a
        # mouth clearly different from the first (lip gap apart by MOUTH_CHANGE). Otherwise resume and try again
        # a little later; after DUMP_ATTEMPTS take what is there.
        for attempt in range(DUMP_ATTEMPTS):
            qmp.command("stop")
            seen = read_trace(trace_path)
            last = seen[-1] if seen else None
            suits = last is not None and last["speech"] == "1" and float(last["blink"]) < 0.1 and (
                first_gap is None or abs(float(last["mouth_open"]) - first_gap) >= MOUTH_CHANGE)
            if suits or attempt == DUMP_ATTEMPTS - 1:
                break
            qmp.command("cont")
            if per_frame:
                until = time.monotonic() + 20
                while time.monotonic() < until and len(read_trace(trace_path)) <= len(seen):
                    time.sleep(0.1)
            else:
                time.sleep(0.25)
        ppm = os.path.join(work, f"dump{run}-{k}.ppm")
        qmp.command("screendump", filename=ppm)
        qmp.command("screendump", filename=os.path.join(work, f"dump{run}-{k}.png"), format="png")
        if k == 1:
            first_gap = float(last["mouth_open"]) if last else None
        qmp.command("cont")
        # The picture on screen is the last traced flip's, or, if QEMU stopped between a flip and its trace line,
        # the next one's: wait for that line too.
        candidates = [last] if last else []
        until = time.monotonic() + 20
        while time.monotonic() < until:
            after = read_trace(trace_path)
            if len(after) > len(seen):
                candidates.append(after[len(seen)])
                break
            time.sleep(0.1)
        dumps.append({"dump": ppm, "candidates": candidates, "attempts": attempt + 1})
        print(f"kms_host: dump{run} {k}: frames {[c['frame'] for c in candidates]} (attempt {attempt + 1})", file=sys.stderr)
    with open(os.path.join(work, f"dumps{run}.json"), "w") as f:
        json.dump(dumps, f, indent=1)
    if run:
        shutil.copyfile(os.path.join(work, f"dump{run}-2.png"), os.path.join(work, f"screendump{run}.png"))
        open(stop_file, "w").close()
        return
    # For docs/images: the dump with the wider open mouth.
    gaps = [float(d["candidates"][0]["mouth_open"]) if d["candidates"] else -1 for d in dumps]
    best = max(range(len(dumps)), key=lambda i: gaps[i])
    shutil.copyfile(os.path.join(work, f"dump-{best + 1}.png"), os.path.join(work, "screendump.png"))
    open(os.path.join(results, "stop-main"), "w").close()


def take_serve_dump(work, qemu_pid=None):
    """The `parla serve` run (guest-test.sh step 8): when results/serve-speaking appears (the control API said the
    face speaks after a /say), pause QEMU, dump the screen to dump-serve.ppm/png, resume, create stop-serve."""
    results = os.path.join(work, "results")
    deadline = time.monotonic() + 900
    while not os.path.exists(os.path.join(results, "serve-speaking")):
        if (os.path.exists(os.path.join(results, "guest-done")) or time.monotonic() > deadline
                or not alive(qemu_pid)):
            print("kms_host: parla serve never said it speaks; no dump taken", file=sys.stderr)
            open(os.path.join(results, "stop-serve"), "w").close()
            return
        time.sleep(0.2)
    qmp = QMP(os.path.join(work, "qmp.sock"))
    qmp.command("stop")
    qmp.command("screendump", filename=os.path.join(work, "dump-serve.ppm"))
    qmp.command("screendump", filename=os.path.join(work, "dump-serve.png"), format="png")
    qmp.command("cont")
    open(os.path.join(results, "stop-serve"), "w").close()
    print("kms_host: dump-serve taken", file=sys.stderr)


# MARK: - checks

class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def report(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({detail})" if detail else ""))
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")


def render_expected(run, work, frame, size=None, extra=()):
    sized = ["--size", str(size)] if size else []
    path = os.path.join(work, f"expected-{frame}" + (f"-{size}" if size else "") + "".join(extra).replace("-", "_") + ".png")
    if not os.path.exists(path):
        subprocess.run([run["binary"], "live", "--avatar", run["avatar"], "--audio", run["audio"], "--mode", run["mode"],
                        "--preview", path, "--preview-frame", str(frame)] + sized + list(extra), check=True)
    return read_png(path)


def check_dumps(work, run, checks, name="", size=None, extra=()):
    """The checks of one run's dumps (dumps{name}.json); check names get the prefix "{name}/" ("-gles/" for the
    GPU path, whose picture is drawn by the GLES decoder and GL's bilinear sampling, compared with the CPU render
    of the same frame at the same --size). With --hud in `extra` the box is left out of the picture comparison and
    checked on its own (check_hud)."""
    hud = "--hud" in extra
    prefix = f"{name.lstrip('-')}/" if name else ""
    try:
        with open(os.path.join(work, f"dumps{name}.json")) as f:
            dumps = json.load(f)
    except FileNotFoundError:
        checks.report(f"{prefix}screendumps", False, "no screendumps were taken (the guest never showed speech frames)")
        return
    matched = []
    for k, d in enumerate(dumps, 1):
        w, h, rgb = read_ppm(d["dump"])
        if k == 1:
            std = luminance_std(box(rgb, w, 0, 0, w, h)[::7])
            checks.report(f"{prefix}dump-not-blank", std > 20, f"luminance std {std:.1f}")
        best = None
        for c in d["candidates"]:
            ew, eh, expected = render_expected(run, work, int(c["frame"]), size, extra)
            if (ew, eh) != (w, h):
                checks.report(f"{prefix}dump-{k}-size", False, f"dump {w}x{h}, expected {ew}x{eh}")
                return
            if hud:
                masked = hud_geometry(w, h)[4]
                mean, fraction = difference(without(rgb, w, masked), without(expected, w, masked))
            else:
                mean, fraction = difference(rgb, expected)
            if best is None or mean < best[1]:
                best = (c, mean, fraction, expected)
        if best is None:
            checks.report(f"{prefix}dump-{k}-matches-render", False, "no traced frame to compare with")
            return
        c, mean, fraction, expected = best
        ok = mean <= MEAN_TOLERANCE and fraction >= PIXEL_FRACTION
        checks.report(f"{prefix}dump-{k}-matches-render", ok,
                      f"frame {c['frame']} (jawOpen {c['jaw_open']}): mean |diff| {mean:.3f}, {100 * fraction:.2f} % of pixels within {PIXEL_TOLERANCE}")
        matched.append((rgb, w, h, c, expected))
    if hud and matched:
        check_hud(matched, checks, prefix)
    if len(matched) != 2:
        return
    (d1, w, h, c1, e1), (d2, _, _, c2, e2) = matched

    # The face: strong structure and skin tones in the middle of the screen.
    centre = box(d1, w, w * 3 // 10, h * 3 // 10, w * 7 // 10, h * 7 // 10)
    std = luminance_std(centre)
    skin = sum(1 for p in centre if is_skin(*p)) / len(centre)
    checks.report(f"{prefix}face-in-centre", std > 15 and skin > 0.10, f"luminance std {std:.1f}, skin-tone pixels {100 * skin:.0f} %")

    # The mouth: the two frames differ in lip gap, the screen changed around the mouth, and the dump with the wider
    # gap shows more of the dark mouth cavity there. The region comes from the avatar framing (AvatarBuilder: square
    # texture, face centred, eyes at 40 % of the height): in the picture's rectangle, mouth x 38–62 %, y 50–70 %.
    gap1, gap2 = float(c1["mouth_open"]), float(c2["mouth_open"])
    side = min(w, h)  # contain: the square picture is side × side, centred
    left, top = (w - side) // 2, (h - side) // 2
    x0, x1 = left + int(0.38 * side), left + int(0.62 * side)
    y0, y1 = top + int(0.50 * side), top + int(0.70 * side)
    a, b = box(d1, w, x0, y0, x1, y1), box(d2, w, x0, y0, x1, y1)
    change = sum(abs(p[j] - q[j]) for p, q in zip(a, b) for j in range(3)) / (3 * len(a))

    def cavity(pixels):
        return sum(1 for r, g, b in pixels if 0.299 * r + 0.587 * g + 0.114 * b < DARK)

    wider, narrower = (b, a) if gap2 > gap1 else (a, b)
    growth = (cavity(wider) - cavity(narrower)) / len(a)
    checks.report(f"{prefix}mouth-moves",
                  abs(gap1 - gap2) >= 0.1 and change >= 3 and growth >= CAVITY_GROWTH,
                  f"frames {c1['frame']} → {c2['frame']}, lip gap {gap1:.2f} → {gap2:.2f}, jawOpen "
                  f"{float(c1['jaw_open']):.2f} → {float(c2['jaw_open']):.2f}; mouth region: mean |diff| {change:.1f}, "
                  f"dark cavity pixels {100 * growth:+.1f} % of the region in the wider-open dump")


def check_serve_dump(work, run, checks):
    """`parla serve` on the panel (its default sink) while speaking: the face in the centre, and the border in the
    --background it was given (the shared display options reach the engine): the 256×256 picture fills the
    480-pixel height of the 640×480 mode, centred, so the 80-pixel columns on either side are border."""
    path = os.path.join(work, "dump-serve.ppm")
    if not os.path.exists(path):
        checks.report("serve/screendump", False, "no screendump of the serve run (the face never spoke, see serve.log)")
        return
    w, h, rgb = read_ppm(path)
    std = luminance_std(box(rgb, w, 0, 0, w, h)[::7])
    checks.report("serve/dump-not-blank", std > 20, f"luminance std {std:.1f}")
    centre = box(rgb, w, w * 3 // 10, h * 3 // 10, w * 7 // 10, h * 7 // 10)
    std = luminance_std(centre)
    skin = sum(1 for p in centre if is_skin(*p)) / len(centre)
    checks.report("serve/face-in-centre", std > 15 and skin > 0.10, f"luminance std {std:.1f}, skin-tone pixels {100 * skin:.0f} %")
    colour = run["serve_background"].lstrip("#")
    want = tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))
    side = min(w, h)
    left = (w - side) // 2
    border = box(rgb, w, 0, 0, max(1, left - 4), h) + box(rgb, w, w - max(1, left - 4), 0, w, h)
    exact = sum(1 for p in border if p == want) / len(border)
    checks.report("serve/background-border", left >= 8 and exact >= 0.999,
                  f"{100 * exact:.2f} % of the border pixels are #{colour} (first {border[0]})")


def check_audio(work, run, checks):
    path = os.path.join(work, "results", "loopback.wav")
    if not os.path.exists(path):
        checks.report("audio-arrived", False, "no loopback recording")
        return
    with wave.open(path) as f:
        captured = struct.unpack(f"<{f.getnframes()}h", f.readframes(f.getnframes()))
    with wave.open(run["audio"]) as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            checks.report("audio-arrived", False, "the test clip must be 16-bit mono")
            return
        clip = struct.unpack(f"<{f.getnframes()}h", f.readframes(f.getnframes()))
    onset_clip = next((i for i, v in enumerate(clip) if abs(v) > 64), None)
    onset_cap = next((i for i, v in enumerate(captured) if abs(v) > 64), None)
    if onset_clip is None or onset_cap is None:
        checks.report("audio-arrived", False, f"only silence captured ({len(captured)} samples)")
        return
    n = min(len(clip) - onset_clip, len(captured) - onset_cap, 3 * 16000)
    same = sum(1 for i in range(n) if clip[onset_clip + i] == captured[onset_cap + i])
    first = next((i for i in range(n) if clip[onset_clip + i] != captured[onset_cap + i]), n)
    start = (onset_cap - onset_clip) / 16000
    underruns = audio_underruns(work)
    # Sample for sample from the first sound on; an underrun (the starved TCG guest) leaves a gap after which the
    # rest is shifted, so at least the first second must be exact.
    checks.report("audio-arrived-bit-exact", n >= 16000 and first >= 16000 and (same == n or underruns > 0),
                  f"{first / 16000:.2f} s identical from the first sound on, {same} of {n} samples over "
                  f"{n / 16000:.2f} s; clip started {start:.2f} s into the recording; {underruns} underruns")


def audio_underruns(work):
    path = os.path.join(work, "results", "live-audio.log")
    lines = [l for l in open(path) if "underruns" in l] if os.path.exists(path) else []
    return int(lines[-1].rsplit("underruns", 1)[1].split()[0]) if lines else 0


def check_av_offset(work, checks):
    """With the audio clock the picture must be neither early nor late. A frame is shown from its due time on, so
    in sync a picture lands between one frame late and on time. Under TCG single frames take hundreds of
    milliseconds and stall now and then, so the median offset of the run (from the trace) may stray by a fraction
    of the median frame time (at least AV_TOLERANCE_MS); a systematic lag of a whole frame fails."""
    summary_path = os.path.join(work, "results", "live-audio.log")
    summary = [l for l in open(summary_path) if l.startswith("live summary")] if os.path.exists(summary_path) else []
    rows = read_trace(os.path.join(work, "results", "trace-audio.csv"))[2:]
    if not summary or len(rows) < 5:
        checks.report("av-offset", False, f"no summary or too few frames ({len(rows)}) in the audio run")
        return
    frame_time = float(summary[-1].split("frame time median ")[1].split(" ms")[0])
    offsets = sorted(1000 * (int(r["tick"]) / FPS - float(r["audio_position"])) for r in rows)
    median = offsets[len(offsets) // 2]
    limit = max(AV_TOLERANCE_MS, AV_FRACTION_OF_FRAME * frame_time)
    checks.report("av-offset", -limit - 1000 / FPS <= median <= limit,
                  f"median a/v {median:+.0f} ms over {len(rows)} frames on the audio clock, frame time median "
                  f"{frame_time:.0f} ms (allowed {-limit - 1000 / FPS:.0f} … {limit:+.0f} ms)")


def check(work):
    with open(os.path.join(work, "run.json")) as f:
        run = json.load(f)
    checks = Checks()
    guest = os.path.join(work, "results", "guest-checks.txt")
    if os.path.exists(guest):
        for line in open(guest):
            status, _, rest = line.strip().partition(" ")
            name, _, detail = rest.partition(": ")
            checks.report(f"guest/{name}", status == "PASS", detail)
    else:
        checks.report("guest-ran", False, "the guest wrote no checks (see serial.log)")
    # A guest stopped by the timeout (or a crash) leaves its later checks unwritten: that is a failure, not fewer checks.
    finished = os.path.exists(os.path.join(work, "results", "guest-done"))
    checks.report("guest-finished", finished,
                  "" if finished else "the guest script did not reach its end (timeout or crash; see serial.log)")
    check_dumps(work, run, checks)
    check_dumps(work, run, checks, name="-gles", size=GLES_SIZE, extra=GLES_FLAGS)
    check_serve_dump(work, run, checks)
    check_audio(work, run, checks)
    check_av_offset(work, checks)
    print(f"kms: {checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("dumps", "dumps-gles", "dumps-serve", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "dumps":
        take_dumps(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None)
    elif sys.argv[1] == "dumps-gles":
        take_dumps(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None, run="-gles", per_frame=True)
    elif sys.argv[1] == "dumps-serve":
        take_serve_dump(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None)
    else:
        sys.exit(check(sys.argv[2]))
