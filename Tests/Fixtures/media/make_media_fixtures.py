#!/usr/bin/env python3
"""Regenerates the small image fixtures used by Tests/ParlaMediaTests.

Run from anywhere:  python3 Tests/Fixtures/media/make_media_fixtures.py   (needs Pillow; made with Pillow 13)

* png/*.png with png/*.rgba: PNG colour types and bit depths, each with its expected RGBA8 pixels as raw bytes
  (width*height*4, row-major). Pillow writes the 8-bit and gray16 files; a tiny hand-written encoder below
  (zlib + CRC, no libpng) writes the 16-bit RGB/RGBA/gray-alpha and the Adam7-interlaced files.
* orientation/orientation_<n>.jpg: the same upright 32x16 picture (four coloured quadrants) stored rotated /
  mirrored so that applying EXIF orientation n shows it upright. Pillow writes little-endian ("II") EXIF;
  orientation_<n>_motorola.jpg carry a hand-built big-endian ("MM") EXIF block instead.
  orientation/upright.png is the reference picture.
* jpeg/gray.jpg, jpeg/cmyk_adobe.jpg, jpeg/progressive.jpg: other JPEG flavours, with *.rgba expectations
  computed from the source pixels (JPEG is lossy: tests compare with a tolerance).
"""
import os
import struct
import zlib

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 7, 5  # odd sizes on purpose


def out(*parts):
    path = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_rgba(path, pixels):
    with open(path, "wb") as f:
        for p in pixels:
            f.write(bytes(p))


def pixels(img):
    """Pixel values in row-major order (get_flattened_data is Pillow 12+'s name for getdata)."""
    return list(img.get_flattened_data() if hasattr(img, "get_flattened_data") else img.getdata())


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def handmade_png(path, width, height, color_type, bit_depth, rows, interlace=False):
    """rows[y][x] is a tuple of channel values. Filter type 0 everywhere."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    nbytes = bit_depth // 8

    def pack_row(pixels):
        raw = bytearray([0])
        for px in pixels:
            for v in px[:channels]:
                raw += v.to_bytes(nbytes, "big")
        return raw

    raw = bytearray()
    if not interlace:
        for y in range(height):
            raw += pack_row(rows[y])
    else:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                raw += pack_row([rows[y][x] for x in xs])
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def pattern(x, y):
    """A deterministic colourful pattern (r, g, b, a) in 0...255."""
    return ((x * 37 + y * 11) % 256, (x * 13 + y * 71 + 40) % 256, (x * 91 + y * 29 + 7) % 256, (x * 50 + y * 23 + 3) % 256)


def make_pngs():
    px = [[pattern(x, y) for x in range(W)] for y in range(H)]
    flat = [px[y][x] for y in range(H) for x in range(W)]

    img = Image.new("RGBA", (W, H))
    img.putdata(flat)
    img.save(out("png", "rgba8.png"))
    write_rgba(out("png", "rgba8.rgba"), flat)

    img.convert("RGB").save(out("png", "rgb8.png"))
    write_rgba(out("png", "rgb8.rgba"), [(r, g, b, 255) for r, g, b, _ in flat])

    gray = [p[0] for p in flat]
    g = Image.new("L", (W, H))
    g.putdata(gray)
    g.save(out("png", "gray8.png"))
    write_rgba(out("png", "gray8.rgba"), [(v, v, v, 255) for v in gray])

    # Gray with a tRNS colour key: value 48 (pattern(1, 1)[0]) becomes transparent.
    key = pattern(1, 1)[0]
    g.save(out("png", "gray8_trns.png"), transparency=key)
    write_rgba(out("png", "gray8_trns.rgba"), [(v, v, v, 0 if v == key else 255) for v in gray])

    la = Image.new("LA", (W, H))
    la.putdata([(p[0], p[3]) for p in flat])
    la.save(out("png", "gray_alpha8.png"))
    write_rgba(out("png", "gray_alpha8.rgba"), [(p[0], p[0], p[0], p[3]) for p in flat])

    one = Image.new("1", (W, H))
    one.putdata([255 if (x + y) % 3 == 0 else 0 for y in range(H) for x in range(W)])
    one.save(out("png", "gray1.png"))
    write_rgba(out("png", "gray1.rgba"), [(v, v, v, 255) for v in ((255 if (x + y) % 3 == 0 else 0) for y in range(H) for x in range(W))])

    # Palette, 16 colours at 4 bits per index, colour 5 transparent and colour 9 half transparent.
    palette = [((i * 53) % 256, (i * 97 + 10) % 256, (i * 31 + 200) % 256) for i in range(16)]
    alpha = [255] * 16
    alpha[5] = 0
    alpha[9] = 128
    indices = [(x * 3 + y * 5) % 16 for y in range(H) for x in range(W)]
    p = Image.new("P", (W, H))
    p.putpalette([c for rgb in palette for c in rgb])
    p.putdata(indices)
    p.save(out("png", "palette4_trns.png"), bits=4, transparency=bytes(alpha))
    write_rgba(out("png", "palette4_trns.rgba"), [palette[i] + (alpha[i],) for i in indices])

    # 16-bit: value k*257 + small offset scales to exactly k (both by truncation and by rounding).
    def wide(v, salt):
        return v * 257 + min(salt % 100, 255 - v)

    g16 = Image.new("I;16", (W, H))
    g16.putdata([wide(v, i) for i, v in enumerate(gray)])
    g16.save(out("png", "gray16.png"))
    write_rgba(out("png", "gray16.rgba"), [(v, v, v, 255) for v in gray])

    rows16 = [[tuple(wide(c, x + y + k) for k, c in enumerate(px[y][x])) for x in range(W)] for y in range(H)]
    handmade_png(out("png", "rgba16.png"), W, H, 6, 16, rows16)
    write_rgba(out("png", "rgba16.rgba"), flat)
    handmade_png(out("png", "rgb16.png"), W, H, 2, 16, rows16)
    write_rgba(out("png", "rgb16.rgba"), [(r, g, b, 255) for r, g, b, _ in flat])
    rows_la16 = [[(wide(px[y][x][0], x), wide(px[y][x][3], y)) for x in range(W)] for y in range(H)]
    handmade_png(out("png", "gray_alpha16.png"), W, H, 4, 16, rows_la16)
    write_rgba(out("png", "gray_alpha16.rgba"), [(p[0], p[0], p[0], p[3]) for p in flat])

    handmade_png(out("png", "rgba8_adam7.png"), W, H, 6, 8, px, interlace=True)
    write_rgba(out("png", "rgba8_adam7.rgba"), flat)

    # Cross-check every fixture against Pillow's own decoder.
    for name in ["rgba8", "rgb8", "gray8", "gray8_trns", "gray_alpha8", "gray1", "palette4_trns", "rgba16", "rgb16", "rgba8_adam7"]:
        decoded = Image.open(out("png", name + ".png")).convert("RGBA").tobytes()
        expected = open(out("png", name + ".rgba"), "rb").read()
        if name.endswith("16"):
            continue  # Pillow reduces 16-bit RGB(A) by truncation to 8 bits on open; covered by the Swift tests
        assert decoded == expected, name


UPRIGHT_W, UPRIGHT_H = 32, 16
QUADRANTS = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (240, 240, 240)]  # TL, TR, BL, BR


def upright():
    img = Image.new("RGB", (UPRIGHT_W, UPRIGHT_H))
    for y in range(UPRIGHT_H):
        for x in range(UPRIGHT_W):
            q = (1 if x >= UPRIGHT_W // 2 else 0) + (2 if y >= UPRIGHT_H // 2 else 0)
            img.putpixel((x, y), QUADRANTS[q])
    return img


# The stored picture for orientation n is the upright one transformed by the inverse of what EXIF n asks for.
INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,   # EXIF 6 = "rotate 90 CW to view": store it rotated 90 CCW
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def intel_exif(orientation):
    """APP1 payload: Exif header + little-endian TIFF with two IFD0 entries (ImageWidth, then Orientation)."""
    tiff = b"II" + struct.pack("<HI", 42, 8)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHIHH", 0x0100, 3, 1, UPRIGHT_W, 0)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + tiff


def insert_app1(jpeg_bytes, payload):
    assert jpeg_bytes[:2] == b"\xff\xd8"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_bytes[:2] + segment + jpeg_bytes[2:]


def make_orientations():
    base = upright()
    base.save(out("orientation", "upright.png"))
    import io
    for n in range(1, 9):
        stored = base if INVERSE[n] is None else base.transpose(INVERSE[n])
        exif = Image.Exif()
        exif[0x0112] = n
        path = out("orientation", "orientation_%d.jpg" % n)
        stored.save(path, quality=95, subsampling=0, exif=exif.tobytes())
        shown = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        assert shown.size == base.size, (n, shown.size)
        diff = max(abs(a - b) for pa, pb in zip(pixels(shown), pixels(base)) for a, b in zip(pa, pb))
        assert diff < 40, (n, diff)
        buf = io.BytesIO()
        stored.save(buf, "JPEG", quality=95, subsampling=0)
        with open(out("orientation", "orientation_%d_intel.jpg" % n), "wb") as f:
            f.write(insert_app1(buf.getvalue(), intel_exif(n)))


def make_jpegs():
    import io
    px = [[(x * 8, y * 16, 128) for x in range(32)] for y in range(16)]
    rgb = Image.new("RGB", (32, 16))
    rgb.putdata([p for row in px for p in row])

    gray = rgb.convert("L")
    gray.save(out("jpeg", "gray.jpg"), quality=95)
    write_rgba(out("jpeg", "gray.rgba"), [(v, v, v, 255) for v in pixels(gray)])

    rgb.save(out("jpeg", "progressive.jpg"), quality=95, progressive=True, subsampling=0)
    write_rgba(out("jpeg", "progressive.rgba"), [p + (255,) for p in pixels(rgb)])

    # CMYK blocks with known ink amounts; expected RGB = (255-C)(255-K)/255 etc.
    cmyk = Image.new("CMYK", (32, 16))
    inks = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 200, 0, 30), (0, 0, 255, 100), (60, 60, 60, 0), (0, 0, 0, 255), (128, 64, 0, 50), (10, 220, 90, 20)]
    cmyk.putdata([inks[(x // 8) + 4 * (y // 8)] for y in range(16) for x in range(32)])
    cmyk.save(out("jpeg", "cmyk_adobe.jpg"), quality=98)
    expected = []
    for y in range(16):
        for x in range(32):
            c, m, yy, k = inks[(x // 8) + 4 * (y // 8)]
            expected.append((round((255 - c) * (255 - k) / 255), round((255 - m) * (255 - k) / 255), round((255 - yy) * (255 - k) / 255), 255))
    write_rgba(out("jpeg", "cmyk_adobe.rgba"), expected)
    with open(out("jpeg", "cmyk_adobe.jpg"), "rb") as f:
        assert b"Adobe" in f.read(200), "Pillow should write an Adobe APP14 marker for CMYK"


if __name__ == "__main__":
    make_pngs()
    make_orientations()
    make_jpegs()
    print("fixtures written under", HERE)
