// Pass 3 of the warp: one invocation per output pixel. The pixel's winning triangle (raster.comp) gives its
// rest-pose sample position; the portrait is sampled once (fixed-point bilinear, the CPU's integer rule), blended
// with the background plate where the triangle is flagged (BackgroundBlend), and mouth-strip pixels are blended
// towards the drawn interior (MouthShading). Uncovered pixels take the identity (cover) mapping. Resets the depth
// and owner buffers for the next frame.
#include "common.glsl"
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 3) buffer DepthBuffer { int depthBuffer[]; };
layout(std430, binding = 4) buffer OwnerBuffer { uint ownerBuffer[]; };
layout(std430, binding = 2) writeonly buffer Frame { uint frame[]; };
uniform usampler2D portrait;
uniform usampler2D plate;     // background plate: RGB = background, A = person mask (1×1 when the avatar has none)
uniform ivec2 outputSize;
uniform ivec3 identity;       // origin u, origin v, step (16 fractional bits)
uniform float mouthWidth;
uniform int drawsInterior;
uniform uint ownerMask;       // the draw-index bits of an owner key (all bits after separate depth/owner passes)

const uint NONE = 0xffffffffu;

// Fixed-point bilinear sample (16 fractional bits), clamp-to-edge: exactly TextureSampler.sample.
uvec4 sampleTexture(usampler2D image, int u, int v) {
    ivec2 size = textureSize(image, 0);
    int uc = clamp(u, 0, (size.x - 1) << 16);
    int vc = clamp(v, 0, (size.y - 1) << 16);
    int wx = ((uc & 0xffff) + 128) >> 8;
    int wy = ((vc & 0xffff) + 128) >> 8;
    int x0 = uc >> 16, y0 = vc >> 16;
    int x1 = min(x0 + 1, size.x - 1), y1 = min(y0 + 1, size.y - 1);
    ivec4 p00 = ivec4(texelFetch(image, ivec2(x0, y0), 0));
    ivec4 p01 = ivec4(texelFetch(image, ivec2(x1, y0), 0));
    ivec4 p10 = ivec4(texelFetch(image, ivec2(x0, y1), 0));
    ivec4 p11 = ivec4(texelFetch(image, ivec2(x1, y1), 0));
    ivec4 top = p00 * (256 - wx) + p01 * wx;
    ivec4 bottom = p10 * (256 - wx) + p11 * wx;
    return uvec4((top * (256 - wy) + bottom * wy + 32768) >> 16);
}

// BackgroundBlend.composite: portrait + (B_id − B_w)·(255 − α_w)/255 per colour channel, rounded half away from
// zero, clamped; B_w, α_w: the plate at the warped position (u, v), B_id: at the identity position of pixel p.
uvec4 blendBackground(uvec4 color, int u, int v, ivec2 p) {
    uvec4 warped = sampleTexture(plate, u, v);
    if (warped.a == 255u) return color;
    uvec4 id = sampleTexture(plate, identity.x + identity.z * p.x, identity.y + identity.z * p.y);
    ivec3 t = (ivec3(id.rgb) - ivec3(warped.rgb)) * (255 - int(warped.a));
    ivec3 r = ivec3(greaterThanEqual(t, ivec3(0))) * 2 - 1;
    ivec3 rounded = r * ((abs(t) + 127) / 255);
    return uvec4(uvec3(clamp(ivec3(color.rgb) + rounded, 0, 255)), color.a);
}

// MouthShading.swift, line for line.
float cover(float distance) { return clamp(distance + 0.5, 0.0, 1.0); }

float toothLine(float c, vec4 boundaries, float width, float strength) {
    float a = abs(c);
    vec4 diff = abs(vec4(a) - boundaries);
    float distance = min(min(min(diff.x, diff.y), min(diff.z, diff.w)), a) * 0.5 * width;
    return 1.0 - strength * clamp(1.0 - distance / 0.8, 0.0, 1.0);
}

vec3 mouthColor(float dUp, float dLo, float s, float width) {
    const vec3 cavityLight = vec3(118.0, 50.0, 44.0);
    const vec3 cavityMid = vec3(70.0, 27.0, 25.0);
    const vec3 cavityDark = vec3(26.0, 9.0, 9.0);
    const vec3 tongue = vec3(158.0, 72.0, 78.0);
    const vec3 teeth = vec3(228.0, 220.0, 202.0);
    float up = max(dUp, 0.0), lo = max(dLo, 0.0);
    float gap = max(up + lo, 1e-3);
    float c = clamp(2.0 * s - 1.0, -1.0, 1.0);
    float c2 = c * c;

    float halfway = min(up, lo) / (0.5 * gap);
    float openness = min(gap / (0.3 * max(width, 1.0)), 1.0);
    float rim = clamp(min(up, lo) / (0.07 * width + 1.0), 0.0, 1.0);
    float depth = clamp((0.6 * halfway + 0.4 * (1.0 - 0.5 * c2)) * (0.6 + 0.4 * openness), 0.0, 1.0);
    vec3 result = mix(cavityLight, mix(cavityMid, cavityDark, depth), rim);

    float tongueTop = min(0.13 * width, 0.4 * gap) * sqrt(max(1.0 - c2 / 0.36, 0.0));
    float tongueCover = cover(tongueTop - lo);
    if (tongueCover > 0.0) {
        float depthIn = clamp((tongueTop - lo) / (0.6 * tongueTop + 1.0), 0.0, 1.0);
        float shade = (0.7 + 0.3 * depthIn) * (1.0 - 0.3 * c2);
        result = mix(result, tongue * shade, tongueCover);
    }

    float lineStrength = 0.3 * clamp((width - 16.0) / 40.0, 0.0, 1.0);
    float lowerArch = sqrt(clamp((0.72 - abs(c)) / 0.25, 0.0, 1.0));
    float lowerHeight = min(0.055 * width, 0.3 * max(gap - 0.1 * width, 0.0)) * lowerArch;
    float lowerCover = cover(lowerHeight - lo);
    if (lowerCover > 0.0) {
        float line = toothLine(c, vec4(0.17, 0.33, 0.48, 0.6), width, lineStrength);
        result = mix(result, teeth * vec3(0.7, 0.68, 0.64) * ((1.0 - 0.5 * c2) * line), lowerCover);
    }
    float arch = sqrt(clamp((0.92 - abs(c)) / 0.3, 0.0, 1.0)) * (1.0 - 0.2 * c2);
    float upperHeight = min(0.13 * width, 0.62 * gap) * arch;
    float upperCover = cover(upperHeight - up);
    if (upperCover > 0.0) {
        float underLip = 0.8 + 0.2 * clamp(up / (0.3 * upperHeight + 0.5), 0.0, 1.0);
        float line = toothLine(c, vec4(0.26, 0.46, 0.62, 0.75), width, lineStrength);
        result = mix(result, teeth * ((1.0 - 0.42 * c2) * underLip * line), upperCover);
    }
    return result;
}

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (p.x >= outputSize.x || p.y >= outputSize.y) return;
    int i = p.y * outputSize.x + p.x;
    uint key = ownerBuffer[i];
    uint owner = key == NONE ? NONE : key & ownerMask;
    ownerBuffer[i] = NONE;
    depthBuffer[i] = 0x7fffffff;
    uvec4 color;
    if (owner == NONE) {
        color = sampleTexture(portrait, identity.x + identity.z * p.x, identity.y + identity.z * p.y);
    } else {
        int base = int(owner) * STRIDE;
        int dx = p.x - tri[base + MINX], dy = p.y - tri[base + MINY];
        int u = planeAt(base + U0, dx, dy), v = planeAt(base + V0, dx, dy);
        int flags = tri[base + FLAGS];
        if ((flags & FLAG_PLATE) != 0) {
            color = uvec4(sampleTexture(plate, identity.x + identity.z * p.x, identity.y + identity.z * p.y).rgb, 255u);
        } else {
            color = sampleTexture(portrait, u, v);
            if ((flags & FLAG_BACKGROUND) != 0) color = blendBackground(color, u, v, p);
        }
        if ((tri[base + FLAGS] & FLAG_MOUTH) != 0 && drawsInterior != 0) {
            float fx = float(dx), fy = float(dy);
            float opening = clamp(floatPlaneAt(base + WEIGHT0, fx, fy), 0.0, 1.0);
            float up = floatPlaneAt(base + UP0, fx, fy);
            float lo = floatPlaneAt(base + LO0, fx, fy);
            float alpha = opening * clamp(min(up, lo), 0.0, 1.0);
            if (alpha > 0.0) {
                float s = floatPlaneAt(base + ACROSS0, fx, fy);
                vec4 base4 = vec4(color);
                vec4 drawn = vec4(mouthColor(up, lo, s, mouthWidth), 255.0);
                vec4 mixed = clamp(base4 + (drawn - base4) * alpha + 0.5, 0.0, 255.0);
                color = uvec4(mixed);
            }
        }
    }
    frame[i] = color.r | (color.g << 8) | (color.b << 16) | (color.a << 24);
}
