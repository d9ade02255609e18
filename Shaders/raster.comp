// Passes 1 and 2 of the warp: exact top-left-rule coverage of every triangle (integer edge functions on the
// 1/256-pixel grid, 64-bit products). One invocation per row of one triangle's box (64 rows a work group:
// llvmpipe pays per work group, and most triangles are small), stepping along the row.
// Depth pass: every covered pixel takes the minimum fragment depth (atomicMin on a buffer: image atomics are
// not core in GLSL ES 3.10).
// Owner pass: a fragment whose depth equals that minimum offers its draw-order index; the smallest wins.
// Together: the nearest fragment, and among equally near ones the first drawn — the CPU's depth test.
// Packed pass (both in one, when the frame's depths fit): each fragment offers the key
// (depth − depthBase) << indexBits | index, and the smallest key is the same winner. The CPU checks that every
// depth of the frame lies in depthBase … depthBase + 2^(32 − indexBits) − 2 (so no key is ~0, "empty").
#include "common.glsl"
layout(local_size_x = 64) in;

// Row r of the frame's row list belongs to triangle rowTriangle[r]; its y is minY + r − firstRow.
layout(std430, binding = 1) readonly buffer Rows { int rowTriangle[]; };
layout(std430, binding = 3) coherent buffer DepthBuffer { int depthBuffer[]; };
layout(std430, binding = 4) coherent buffer OwnerBuffer { uint ownerBuffer[]; };
uniform int outputWidth;
uniform int rowCount;
uniform int passKind;  // 0: depth, 1: owner, 2: packed
uniform int depthBase;
uniform int indexBits;

void main() {
    int row = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 64u + gl_LocalInvocationID.x);
    if (row >= rowCount) return;
    int t = rowTriangle[row];
    int base = t * STRIDE;
    int minX = tri[base + MINX], minY = tri[base + MINY], maxX = tri[base + MAXX];
    int y = minY + row - tri[base + FIRST_ROW];
    int flags = tri[base + FLAGS];
    ivec2 from0, ab0, from1, ab1, from2, ab2;
    edge(base, 0, from0, ab0);
    edge(base, 1, from1, ab1);
    edge(base, 2, from2, ab2);
    int cy = y * 256 + 128;
    int dy = y - minY;
    for (int x = minX; x <= maxX; x++) {
        int cx = x * 256 + 128;
        if (!atLeast(mulAdd64(ab0.x, cx - from0.x, ab0.y, cy - from0.y), flags & 1)) continue;
        if (!atLeast(mulAdd64(ab1.x, cx - from1.x, ab1.y, cy - from1.y), (flags >> 1) & 1)) continue;
        if (!atLeast(mulAdd64(ab2.x, cx - from2.x, ab2.y, cy - from2.y), (flags >> 2) & 1)) continue;
        int z = planeAt(base + Z0, x - minX, dy);
        int i = y * outputWidth + x;
        if (passKind == 2) {
            atomicMin(ownerBuffer[i], (uint(z - depthBase) << uint(indexBits)) | uint(t));
        } else if (passKind == 0) {
            atomicMin(depthBuffer[i], z);
        } else if (depthBuffer[i] == z) {
            atomicMin(ownerBuffer[i], uint(t));
        }
    }
}
