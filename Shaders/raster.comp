// Passes 1 and 2 of the warp: exact top-left-rule coverage of every triangle (integer edge functions on the
// 1/256-pixel grid, 64-bit products), one work group per 8-row band of one triangle.
// Depth pass: every covered pixel takes the minimum fragment depth (atomicMin on a buffer: image atomics are
// not core in GLSL ES 3.10).
// Otherwise (owner pass): a fragment whose depth equals that minimum offers its draw-order index; the smallest
// wins. Together: the nearest fragment, and among equally near ones the first drawn — the CPU's depth test.
#include "common.glsl"
layout(local_size_x = 8, local_size_y = 8) in;

layout(std430, binding = 1) readonly buffer Bands { int bandTriangle[]; };
layout(std430, binding = 3) coherent buffer DepthBuffer { int depthBuffer[]; };
layout(std430, binding = 4) coherent buffer OwnerBuffer { uint ownerBuffer[]; };
uniform int outputWidth;
uniform int bandCount;
uniform int passKind;  // 0: depth, 1: owner

void main() {
    int band = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    if (band >= bandCount) return;
    int t = bandTriangle[band];
    int base = t * STRIDE;
    int minX = tri[base + MINX], minY = tri[base + MINY], maxX = tri[base + MAXX], maxY = tri[base + MAXY];
    int y = minY + (band - tri[base + FIRST_BAND]) * BAND_ROWS + int(gl_LocalInvocationID.y);
    if (y > maxY) return;
    int flags = tri[base + FLAGS];
    ivec2 from0, ab0, from1, ab1, from2, ab2;
    edge(base, 0, from0, ab0);
    edge(base, 1, from1, ab1);
    edge(base, 2, from2, ab2);
    int cy = y * 256 + 128;
    int dy = y - minY;
    for (int x = minX + int(gl_LocalInvocationID.x); x <= maxX; x += 8) {
        int cx = x * 256 + 128;
        if (!atLeast(mulAdd64(ab0.x, cx - from0.x, ab0.y, cy - from0.y), flags & 1)) continue;
        if (!atLeast(mulAdd64(ab1.x, cx - from1.x, ab1.y, cy - from1.y), (flags >> 1) & 1)) continue;
        if (!atLeast(mulAdd64(ab2.x, cx - from2.x, ab2.y, cy - from2.y), (flags >> 2) & 1)) continue;
        int z = planeAt(base + Z0, x - minX, dy);
        int i = y * outputWidth + x;
        if (passKind == 0) {
            atomicMin(depthBuffer[i], z);
        } else if (depthBuffer[i] == z) {
            atomicMin(ownerBuffer[i], uint(t));
        }
    }
}
