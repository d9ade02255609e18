// The GPU scan-out path: one bilinear sample of the decoded picture per screen pixel (GL_LINEAR, edges clamped),
// blended over the background by the fixed-function blend (straight alpha), like FrameBlitter on the CPU path.
precision highp float;
in highp vec2 uv;
uniform sampler2D picture;
out vec4 color;

void main() {
    color = texture(picture, uv);
}
