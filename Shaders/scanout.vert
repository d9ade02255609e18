// The GPU scan-out path's quad (GLESScreenPainter): the decoded picture's rectangle on the screen, with the
// source point (0…1, row 0 at the top) each corner shows; rotation and fit are in the corners.
layout(location = 0) in vec2 position;     // normalized device coordinates
layout(location = 1) in vec2 sourcePoint;  // texture coordinates of the decoded picture
out highp vec2 uv;

void main() {
    uv = sourcePoint;
    gl_Position = vec4(position, 0.0, 1.0);
}
