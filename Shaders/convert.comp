// Output conversion: the decoded frame (a buffer of packed RGBA words) → rotated (0/90/180/270 clockwise), scaled
// (fixed-point bilinear, the decoder's sampling rule) and converted to RGBA, XRGB8888 or NV12 (BT.601 limited
// range, chroma averaged over each 2×2 block), one invocation per 32-bit output word. FrameConverter.swift is
// the CPU reference and documents the layout.
#include "common.glsl"
layout(local_size_x = 256) in;

layout(std430, binding = 2) readonly buffer Frame { uint frame[]; };
layout(std430, binding = 3) writeonly buffer Output { uint words[]; };
uniform ivec2 sourceSize;     // decoded frame
uniform ivec2 targetSize;     // output picture
uniform int rotation;         // quarter turns clockwise
uniform ivec4 sampling;       // origin u, origin v, step u, step v (16 fractional bits, rotated frame)
uniform int format;           // 0 RGBA, 1 XRGB8888, 2 NV12
uniform int wordCount;

ivec4 rotatedTexel(int x, int y) {
    ivec2 s;
    if (rotation == 0) s = ivec2(x, y);
    else if (rotation == 1) s = ivec2(y, sourceSize.y - 1 - x);
    else if (rotation == 2) s = ivec2(sourceSize.x - 1 - x, sourceSize.y - 1 - y);
    else s = ivec2(sourceSize.x - 1 - y, x);
    uint c = frame[s.y * sourceSize.x + s.x];
    return ivec4(int(c & 255u), int((c >> 8) & 255u), int((c >> 16) & 255u), int(c >> 24));
}

ivec4 pixel(int x, int y) {
    // Unscaled: the bilinear rule returns the texel itself.
    if (sampling == ivec4(0, 0, 65536, 65536)) return rotatedTexel(x, y);
    ivec2 rotated = (rotation & 1) == 1 ? sourceSize.yx : sourceSize;
    int uc = clamp(sampling.x + sampling.z * x, 0, (rotated.x - 1) << 16);
    int vc = clamp(sampling.y + sampling.w * y, 0, (rotated.y - 1) << 16);
    int wx = ((uc & 0xffff) + 128) >> 8;
    int wy = ((vc & 0xffff) + 128) >> 8;
    int x0 = uc >> 16, y0 = vc >> 16;
    int x1 = min(x0 + 1, rotated.x - 1), y1 = min(y0 + 1, rotated.y - 1);
    ivec4 top = rotatedTexel(x0, y0) * (256 - wx) + rotatedTexel(x1, y0) * wx;
    ivec4 bottom = rotatedTexel(x0, y1) * (256 - wx) + rotatedTexel(x1, y1) * wx;
    return (top * (256 - wy) + bottom * wy + 32768) >> 16;
}

uint nv12Byte(int i) {
    int w = targetSize.x, h = targetSize.y;
    if (i < w * h) {
        ivec4 c = pixel(i % w, i / w);
        return uint(((66 * c.r + 129 * c.g + 25 * c.b + 128) >> 8) + 16);
    }
    int j = i - w * h;
    int k = j >> 1, cw = w >> 1;
    int cx = (k % cw) * 2, cy = (k / cw) * 2;
    ivec4 sum = pixel(cx, cy) + pixel(cx + 1, cy) + pixel(cx, cy + 1) + pixel(cx + 1, cy + 1);
    ivec3 m = (sum.rgb + 2) / 4;
    int value = (j & 1) == 0 ? ((-38 * m.r - 74 * m.g + 112 * m.b + 128) >> 8) + 128
                             : ((112 * m.r - 94 * m.g - 18 * m.b + 128) >> 8) + 128;
    return uint(clamp(value, 0, 255));
}

void main() {
    int word = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x);
    if (word >= wordCount) return;
    if (format == 2) {
        uint v = 0u;
        for (int b = 0; b < 4; b++) v |= nv12Byte(word * 4 + b) << uint(8 * b);
        words[word] = v;
        return;
    }
    ivec4 c = pixel(word % targetSize.x, word / targetSize.x);
    if (format == 0) words[word] = uint(c.r) | uint(c.g) << 8 | uint(c.b) << 16 | uint(c.a) << 24;
    else words[word] = uint(c.b) | uint(c.g) << 8 | uint(c.r) << 16 | 0xff000000u;
}
