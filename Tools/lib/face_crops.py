"""Real face inputs for calibrating and checking quantized face models.

Faces: three public-domain / CC0 photographs that Python packages ship —
  * astronaut.png from PyPI scikit-image==0.24.0 (skimage/data; NASA photograph of Eileen Collins, public domain)
  * grace_hopper.jpg from PyPI matplotlib==3.9.2 sample data (US Navy portrait, public domain), stored in
    Tests/Fixtures/grace_hopper.jpg.
  * camera.png from PyPI scikit-image==0.24.0 (skimage/data; grey-level photograph of a man at a camera, a
    three-quarter view; "No copyright restrictions. CC0 by the photographer (Lav Varshney)", skimage.data.camera).
Each face is located with the float models (detector -> mesh ROI -> mesh refined twice, as MediaPipe's tracking
does), then augmented: mirror, rotation, scale and shift of the crop, brightness and contrast; the varied sets
also narrow the crop like a turned head and make half of the pictures grey. Crops are taken
with an affine bilinear resample (Pillow), the way the app samples its ROIs.
"""
import hashlib
import io
import math
import os
import subprocess
import sys
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE_DIR = os.environ.get("PARLA_WHEEL_CACHE", os.path.expanduser("~/.cache/parla/wheels"))

SKIMAGE_VERSION = "0.24.0"
SKIMAGE_WHEEL = "scikit_image-0.24.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SKIMAGE_SHA256 = "fa27b3a0dbad807b966b8db2d78da734cb812ca4787f7fbb143764800ce2fa9c"
SOURCES = {
    "astronaut": f"PyPI scikit-image=={SKIMAGE_VERSION} ({SKIMAGE_WHEEL}, sha256 {SKIMAGE_SHA256}) "
                 "skimage/data/astronaut.png, NASA photograph, public domain",
    "camera": f"PyPI scikit-image=={SKIMAGE_VERSION} ({SKIMAGE_WHEEL}) skimage/data/camera.png, CC0 (Lav Varshney)",
    "grace_hopper": "Tests/Fixtures/grace_hopper.jpg (PyPI matplotlib==3.9.2 sample data, US Navy portrait, public domain)",
}


def _skimage_wheel():
    path = os.path.join(CACHE_DIR, SKIMAGE_WHEEL)
    if not os.path.exists(path):
        os.makedirs(CACHE_DIR, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
                        f"scikit-image=={SKIMAGE_VERSION}", "-d", CACHE_DIR], check=True)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != SKIMAGE_SHA256:
        sys.exit(f"error: {path}: sha256 {digest} is not the pinned {SKIMAGE_SHA256}")
    return path


def portrait(name):
    """The RGB portrait `astronaut`, `camera` (grey, as RGB) or `grace_hopper` as a Pillow image."""
    if name in ("astronaut", "camera"):
        with zipfile.ZipFile(_skimage_wheel()) as z:
            return Image.open(io.BytesIO(z.read(f"skimage/data/{name}.png"))).convert("RGB")
    return Image.open(os.path.join(ROOT, "Tests", "Fixtures", "grace_hopper.jpg")).convert("RGB")


# ------------------------------------------------------------------------------------------ geometry

def crop(image, centre, size, angle, out, squeeze=1.0):
    """Samples an out×out crop: a square of side `size` px centred at `centre`, rotated by `angle` (radians).
    squeeze < 1 takes a rectangle size/squeeze px wide instead, so the picture is narrowed horizontally."""
    c, s = math.cos(angle), math.sin(angle)
    kx, ky = size / out / squeeze, size / out
    # output (u, v) -> image centre + R · diag(kx, ky) · ((u, v) - out/2)
    a, b = c * kx, -s * ky
    d, e = s * kx, c * ky
    cx = centre[0] - (a + b) * out / 2
    cy = centre[1] - (d + e) * out / 2
    img = image.transform((out, out), Image.AFFINE, (a, b, cx, d, e, cy), resample=Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def photometric(pixels, rng):
    """Random brightness/contrast change of uint8 pixels."""
    contrast = rng.uniform(0.7, 1.3)
    brightness = rng.uniform(-30, 30)
    v = (pixels.astype(np.float32) - 128) * contrast + 128 + brightness
    return np.clip(np.round(v), 0, 255).astype(np.uint8)


def grey(pixels):
    """The picture in grey levels (ITU-R 601 luma), still three channels."""
    y = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(np.clip(np.round(y), 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def letterbox(image, size):
    scale = size / max(image.size)
    w, h = round(image.size[0] * scale), round(image.size[1] * scale)
    canvas = Image.new("RGB", (size, size))
    canvas.paste(image.resize((w, h), Image.BILINEAR), ((size - w) // 2, (size - h) // 2))
    return np.asarray(canvas, dtype=np.uint8)


# ------------------------------------------------------------------------------------ detector decode

def anchors():
    out = []
    for stride, per in ((8, 2), (16, 6)):
        grid = 128 // stride
        for y in range(grid):
            for x in range(grid):
                out += [((x + 0.5) / grid, (y + 0.5) / grid)] * per
    return np.array(out, np.float32)


ANCHORS = anchors()


def best_box(regressors, logits):
    """The top-scoring detection: (xmin, ymin, xmax, ymax) in [0,1] input units, keypoints [6,2], score."""
    r = regressors.reshape(-1, 16)
    i = int(np.argmax(logits.reshape(-1)))
    c = r[i, :2] / 128 + ANCHORS[i]
    wh = r[i, 2:4] / 128
    kp = r[i, 4:].reshape(6, 2) / 128 + ANCHORS[i]
    score = 1 / (1 + math.exp(-float(np.clip(logits.reshape(-1)[i], -100, 100))))
    return np.concatenate([c - wh / 2, c + wh / 2]), kp, score


def iou(a, b):
    lo = np.maximum(a[:2], b[:2])
    hi = np.minimum(a[2:], b[2:])
    inter = np.prod(np.maximum(hi - lo, 0))
    area = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / area) if area > 0 else 0.0


# -------------------------------------------------------------------------------------- face location

RIGHT_EYE = (33, 133)
LEFT_EYE = (362, 263)


def mesh_roi(points):
    """MediaPipe's tracking ROI from landmarks (image px): centre of the bounding box, side 1.5 × max(w, h),
    rotation making the eye line horizontal."""
    lo, hi = points[:, :2].min(0), points[:, :2].max(0)
    r, l = points[RIGHT_EYE[0], :2], points[LEFT_EYE[1], :2]
    angle = math.atan2(l[1] - r[1], l[0] - r[0])
    return (lo + hi) / 2, float(max(hi - lo) * 1.5), angle


def crop_to_image(points, centre, size, angle, out):
    """Maps crop pixel coordinates (x, y, ...) back to image coordinates."""
    c, s = math.cos(angle), math.sin(angle)
    uv = (points[:, :2] - out / 2) * (size / out)
    x = centre[0] + c * uv[:, 0] - s * uv[:, 1]
    y = centre[1] + s * uv[:, 0] + c * uv[:, 1]
    return np.stack([x, y], 1)


def locate(image, run_detector, run_mesh):
    """Finds the face with the float models; returns its 468 landmarks in image pixels."""
    w, h = image.size
    side = max(w, h)
    det_in = letterbox(image, 128)
    box, kp, _ = best_box(*run_detector(det_in))
    # Letterbox [0,1] units -> image px.
    ox, oy = (side - w) / 2, (side - h) / 2
    box = box * side - np.array([ox, oy, ox, oy])
    centre = (box[:2] + box[2:]) / 2
    size = float(max(box[2:] - box[:2]) * 1.5)
    angle = 0.0
    points = None
    for _ in range(3):
        pts = run_mesh(crop(image, centre, size, angle, 192))
        points = crop_to_image(pts, centre, size, angle, 192)
        centre, size, angle = mesh_roi(points)
    return points


def eye_roi(points, eye):
    a, b = points[eye[0]], points[eye[1]]
    centre = (a + b) / 2
    return centre, float(np.linalg.norm(b - a) * 2.3), math.atan2(b[1] - a[1], b[0] - a[0])


# ------------------------------------------------------------------------------------------ datasets

def datasets(name, points, seed, count, varied=False):
    """Inputs for the three face models from `count` augmentations of one portrait (uint8 NHWC each):
    {'face_detection_short_range': [...], 'face_landmark': [...], 'iris_landmark': [...]}.

    varied: every input is augmented, and further than the plain set, to stand in for faces the portrait does not
    show: turned heads (the crop narrowed horizontally to 0.55-1 of its width, about where a three-quarter view
    puts the features), wider rotation, grey pictures (half of them), stronger light changes."""
    rng = np.random.default_rng(seed)
    vrng = np.random.default_rng(seed + 1000)
    image = portrait(name)
    w, h = image.size
    det, mesh, iris = [], [], []
    for k in range(count):
        mirrored = k % 2 == 1
        img = image.transpose(Image.FLIP_LEFT_RIGHT) if mirrored else image

        def upright(roi):
            """An ROI of the portrait moved into the (possibly mirrored) picture, still upright. The mirrored
            picture's landmarks carry the other side's numbers, so an ROI computed from them would turn the
            face upside down (eye line from image right to image left); the app never feeds that."""
            centre, size, angle = roi
            if mirrored:
                return np.array([w - 1 - centre[0], centre[1]]), size, -angle
            return centre, size, angle
        jitter = k > 0 or varied
        squeeze = vrng.uniform(0.55, 1.0) if varied else 1.0
        turn = vrng.uniform(-0.3, 0.3) if varied else 0.0

        def light(pixels):
            if not varied:
                return photometric(pixels, rng)
            pixels = photometric(photometric(pixels, rng), vrng)
            return grey(pixels) if k % 4 >= 2 else pixels
        # Detector: rotate the whole picture about the face and zoom to a random window holding it.
        centre, size, angle = upright(mesh_roi(points))
        rot = rng.uniform(-0.25, 0.25) if jitter else 0.0
        window = size * (rng.uniform(1.3, 3.0) if jitter else 2.5)
        shift = (rng.uniform(-0.2, 0.2, 2) * window) if jitter else np.zeros(2)
        det.append(light(crop(img, centre + shift, window, rot + turn, 128, squeeze)) if jitter
                   else letterbox(img, 128))
        # Face mesh: the tracking ROI with rotation/scale/shift noise.
        a = angle + (rng.uniform(-0.35, 0.35) if jitter else 0.0) + turn
        s = size * (rng.uniform(0.9, 1.15) if jitter else 1.0)
        c = centre + (rng.uniform(-0.06, 0.06, 2) * size if jitter else 0)
        m = crop(img, c, s, a, 192, squeeze)
        mesh.append(light(m) if jitter else m)
        # Iris: both eyes; the eye on the image's left (the subject's right eye, or its left one in a mirrored
        # picture) mirrored, as the app does.
        for eye, flip in ((LEFT_EYE, mirrored), (RIGHT_EYE, not mirrored)):
            ec, es, ea = upright(eye_roi(points[:, :2], eye))
            ea += rng.uniform(-0.2, 0.2) if jitter else 0.0
            es *= rng.uniform(0.9, 1.1) if jitter else 1.0
            ec = ec + (rng.uniform(-0.08, 0.08, 2) * es if jitter else 0)
            e = crop(img, ec, es, ea + turn, 64, squeeze)
            if flip:
                e = e[:, ::-1].copy()
            iris.append(light(e) if jitter else e)
    return {"face_detection_short_range": det, "face_landmark": mesh, "iris_landmark": iris}
