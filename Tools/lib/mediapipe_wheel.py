"""Fetch the pinned MediaPipe wheel from PyPI, check its hash, and open files inside it.

Every converted model and the face-mesh topology come from this one wheel, so the conversion is
reproducible: same wheel bytes (sha256 below), same outputs.

Source: https://pypi.org/project/mediapipe/0.10.14/ (Apache-2.0, see LICENSE inside the wheel).
"""
import hashlib
import os
import subprocess
import sys
import zipfile

MEDIAPIPE_VERSION = "0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"
LICENSE = "Apache-2.0"
SOURCE = f"PyPI mediapipe=={MEDIAPIPE_VERSION} ({WHEEL_NAME}, sha256 {WHEEL_SHA256})"

CACHE_DIR = os.environ.get("PARLA_WHEEL_CACHE", os.path.expanduser("~/.cache/parla/wheels"))


def wheel_path() -> str:
    """Returns the local path of the pinned wheel, downloading it once; exits if the hash differs."""
    path = os.path.join(CACHE_DIR, WHEEL_NAME)
    if not os.path.exists(path):
        os.makedirs(CACHE_DIR, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
             f"mediapipe=={MEDIAPIPE_VERSION}", "-d", CACHE_DIR],
            check=True,
        )
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"error: {path}: sha256 {digest} is not the pinned {WHEEL_SHA256}")
    return path


def read_member(member: str) -> bytes:
    """Returns the bytes of one file inside the wheel, e.g. 'mediapipe/modules/face_landmark/face_landmark.tflite'."""
    with zipfile.ZipFile(wheel_path()) as z:
        return z.read(member)
