// Shared by the frame decoder's compute passes (docs/frame-decoder.md, "GLES backend").
// The loader replaces `#include "common.glsl"` with this file.
precision highp float;
precision highp int;
precision highp iimage2D;
precision highp uimage2D;
precision highp usampler2D;

// One record per drawable triangle, in draw order (FrameGeometry.encode / GPUTriangle): 36 ints.
const int STRIDE = 36;
const int P0X = 0, P0Y = 1, P1X = 2, P1Y = 3, P2X = 4, P2Y = 5;
const int MINX = 6, MINY = 7, MAXX = 8, MAXY = 9, FLAGS = 10, FIRST_ROW = 11;
const int U0 = 12, V0 = 15, Z0 = 18, UP0 = 21, LO0 = 24, ACROSS0 = 27, WEIGHT0 = 30;
const int FLAG_MOUTH = 8;
const int FLAG_BACKGROUND = 16;  // the triangle's pixels blend with the background plate
const int FLAG_PLATE = 32;       // the triangle's pixels are the plate's identity sample, alpha 255

layout(std430, binding = 0) readonly buffer Triangles { int tri[]; };

// Value of a fixed-point plane (origin, stepX, stepY) at offset (dx, dy) from the triangle's box corner,
// with wrapping 32-bit arithmetic (= the CPU's Int64 value modulo 2^32).
int planeAt(int base, int dx, int dy) {
    return tri[base] + tri[base + 1] * dx + tri[base + 2] * dy;
}

float floatPlaneAt(int base, float dx, float dy) {
    return intBitsToFloat(tri[base]) + intBitsToFloat(tri[base + 1]) * dx + intBitsToFloat(tri[base + 2]) * dy;
}

// a·b + c·d as a 64-bit (hi, lo) pair, exactly.
ivec2 mulAdd64(int a, int b, int c, int d) {
    int h1, l1, h2, l2;
    imulExtended(a, b, h1, l1);
    imulExtended(c, d, h2, l2);
    uint carry;
    uint lo = uaddCarry(uint(l1), uint(l2), carry);
    return ivec2(h1 + h2 + int(carry), int(lo));
}

// Whether a 64-bit value minus bias (0 or 1) is ≥ 0.
bool atLeast(ivec2 v, int bias) {
    uint borrow;
    usubBorrow(uint(v.y), uint(bias), borrow);
    return v.x - int(borrow) >= 0;
}

// Edge i of the triangle at `base` (0: p1→p2, 1: p2→p0, 2: p0→p1): its start vertex and (a, b) with
// E(p) = a·(p.x − from.x) + b·(p.y − from.y), positive inside.
void edge(int base, int i, out ivec2 from, out ivec2 ab) {
    ivec2 p[3] = ivec2[3](ivec2(tri[base + P0X], tri[base + P0Y]), ivec2(tri[base + P1X], tri[base + P1Y]),
                          ivec2(tri[base + P2X], tri[base + P2Y]));
    ivec2 f = p[(i + 1) % 3], t = p[(i + 2) % 3];
    from = f;
    ab = ivec2(f.y - t.y, t.x - f.x);
}
