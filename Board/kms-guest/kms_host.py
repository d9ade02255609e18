#!/usr/bin/env python3
"""Host side of Board/test-kms: screendumps while the guest shows the face, then every pixel and audio check.

    kms_host.py dumps WORK [QEMU_PID]
                              wait for the guest's first speech frames, take two screendumps ~1 s apart (QEMU
                              paused for each, so the trace says which frame was on screen), ask for the stop
    kms_host.py check WORK    compare the dumps with host renders of the same frames (`parla live --preview`),
                              check the mouth moved, the centre shows a face, the sound arrived in the loopback;
                              print one "PASS name" / "FAIL name: why" line per check

WORK holds qmp.sock, results/ (the guest's share) and run.json (binary, avatar, audio, mode). Pure Python (no
numpy or Pillow): PPM and PNG are decoded here.
"""
import json
import os
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
# Mean picture-minus-sound offset allowed with the audio clock: this, or this fraction of the median frame time
# if larger (frames take 200–400 ms under TCG).
AV_TOLERANCE_MS = 50
AV_FRACTION_OF_FRAME = 0.35


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


def take_dumps(work, qemu_pid=None):
    results = os.path.join(work, "results")
    trace_path = os.path.join(results, "trace.csv")
    deadline = time.monotonic() + 240
    while True:
        rows = read_trace(trace_path)
        if len(rows) >= 3 and rows[-1]["speech"] == "1":
            break
        if (os.path.exists(os.path.join(results, "guest-done")) or time.monotonic() > deadline
                or not alive(qemu_pid)):
            print("kms_host: no speech frames on screen in time; no dumps taken", file=sys.stderr)
            open(os.path.join(results, "stop-main"), "w").close()
            return
        time.sleep(0.2)
    qmp = QMP(os.path.join(work, "qmp.sock"))
    dumps = []
    for k in (1, 2):
        if k == 2:
            time.sleep(1.0)
        qmp.command("stop")
        ppm = os.path.join(work, f"dump-{k}.ppm")
        qmp.command("screendump", filename=ppm)
        if k == 1:
            qmp.command("screendump", filename=os.path.join(work, "dump-1.png"), format="png")
        seen = read_trace(trace_path)
        qmp.command("cont")
        # The picture on screen is the last traced flip's, or, if QEMU stopped between a flip and its trace line,
        # the next one's: wait for that line too.
        candidates = [seen[-1]] if seen else []
        until = time.monotonic() + 20
        while time.monotonic() < until:
            after = read_trace(trace_path)
            if len(after) > len(seen):
                candidates.append(after[len(seen)])
                break
            time.sleep(0.1)
        dumps.append({"dump": ppm, "candidates": candidates})
        print(f"kms_host: dump {k}: frames {[c['frame'] for c in candidates]}", file=sys.stderr)
    with open(os.path.join(work, "dumps.json"), "w") as f:
        json.dump(dumps, f, indent=1)
    open(os.path.join(results, "stop-main"), "w").close()


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


def render_expected(run, work, frame):
    path = os.path.join(work, f"expected-{frame}.png")
    if not os.path.exists(path):
        subprocess.run([run["binary"], "live", "--avatar", run["avatar"], "--audio", run["audio"], "--mode", run["mode"],
                        "--preview", path, "--preview-frame", str(frame)], check=True)
    return read_png(path)


def check_dumps(work, run, checks):
    try:
        with open(os.path.join(work, "dumps.json")) as f:
            dumps = json.load(f)
    except FileNotFoundError:
        checks.report("screendumps", False, "no screendumps were taken (the guest never showed speech frames)")
        return
    matched = []
    for k, d in enumerate(dumps, 1):
        w, h, rgb = read_ppm(d["dump"])
        if k == 1:
            std = luminance_std(box(rgb, w, 0, 0, w, h)[::7])
            checks.report("dump-not-blank", std > 20, f"luminance std {std:.1f}")
        best = None
        for c in d["candidates"]:
            ew, eh, expected = render_expected(run, work, int(c["frame"]))
            if (ew, eh) != (w, h):
                checks.report(f"dump-{k}-size", False, f"dump {w}x{h}, expected {ew}x{eh}")
                return
            mean, fraction = difference(rgb, expected)
            if best is None or mean < best[1]:
                best = (c, mean, fraction, expected)
        if best is None:
            checks.report(f"dump-{k}-matches-render", False, "no traced frame to compare with")
            return
        c, mean, fraction, expected = best
        ok = mean <= MEAN_TOLERANCE and fraction >= PIXEL_FRACTION
        checks.report(f"dump-{k}-matches-render", ok,
                      f"frame {c['frame']} (jawOpen {c['jaw_open']}): mean |diff| {mean:.3f}, {100 * fraction:.2f} % of pixels within {PIXEL_TOLERANCE}")
        matched.append((rgb, w, h, c, expected))
    if len(matched) != 2:
        return
    (d1, w, h, c1, e1), (d2, _, _, c2, e2) = matched

    # The face: strong structure and skin tones in the middle of the screen.
    centre = box(d1, w, w * 3 // 10, h * 3 // 10, w * 7 // 10, h * 7 // 10)
    std = luminance_std(centre)
    skin = sum(1 for p in centre if is_skin(*p)) / len(centre)
    checks.report("face-in-centre", std > 15 and skin > 0.10, f"luminance std {std:.1f}, skin-tone pixels {100 * skin:.0f} %")

    # The mouth: the two frames differ in the mouth (jawOpen), the change sits in the lower middle of the face,
    # and the screen changed there too.
    weights = [(x, y, sum(abs(e1[i + j] - e2[i + j]) for j in range(3)))
               for y in range(h) for x in range(w) for i in [(y * w + x) * 3]]
    total = sum(v for _, _, v in weights)
    jaw_change = abs(float(c1["jaw_open"]) - float(c2["jaw_open"]))
    if total == 0:
        checks.report("mouth-moves", False, f"frames {c1['frame']} and {c2['frame']} render identically")
        return
    cx = sum(x * v for x, _, v in weights) / total
    cy = sum(y * v for _, y, v in weights) / total
    x0, x1 = max(0, int(cx - w * 0.08)), min(w, int(cx + w * 0.08))
    y0, y1 = max(0, int(cy - h * 0.08)), min(h, int(cy + h * 0.08))
    a, b = box(d1, w, x0, y0, x1, y1), box(d2, w, x0, y0, x1, y1)
    changed = sum(abs(p[j] - q[j]) for p, q in zip(a, b) for j in range(3)) / (3 * len(a))
    central = 0.3 * w < cx < 0.7 * w and 0.35 * h < cy < 0.9 * h
    checks.report("mouth-moves", jaw_change > 0.02 and central and changed > 2,
                  f"frames {c1['frame']} → {c2['frame']}, jawOpen change {jaw_change:.3f}, change centred at "
                  f"({cx:.0f}, {cy:.0f}), mean |diff| there {changed:.1f}")


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
    start = (onset_cap - onset_clip) / 16000
    checks.report("audio-arrived-bit-exact", n >= 16000 and same == n,
                  f"{n / 16000:.2f} s compared, {same} of {n} samples identical, clip started {start:.2f} s into the recording")


def check_av_offset(work, checks):
    """With the audio clock the picture must be neither early nor late on average. Under TCG single frames take
    hundreds of milliseconds and jitter by as much, so the mean may stray by a fraction of the median frame time
    (at least AV_TOLERANCE_MS); a systematic lag of a whole frame fails."""
    path = os.path.join(work, "results", "live-audio.log")
    summary = [l for l in open(path) if l.startswith("live summary")] if os.path.exists(path) else []
    if not summary:
        checks.report("av-offset", False, "no summary in live-audio.log")
        return
    mean = float(summary[-1].split("a/v mean ")[1].split(" ms")[0])
    median = float(summary[-1].split("frame time median ")[1].split(" ms")[0])
    limit = max(AV_TOLERANCE_MS, AV_FRACTION_OF_FRAME * median)
    checks.report("av-offset", abs(mean) <= limit,
                  f"a/v mean {mean:+.0f} ms on the audio clock, frame time median {median:.0f} ms (limit ±{limit:.0f} ms)")


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
    check_dumps(work, run, checks)
    check_audio(work, run, checks)
    check_av_offset(work, checks)
    print(f"kms: {checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("dumps", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "dumps":
        take_dumps(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None)
    else:
        sys.exit(check(sys.argv[2]))
