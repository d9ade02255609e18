// EGL, GBM and OpenGL ES 3.2 headers for ParlaRenderGLES (and the live scan-out path). Only the render layer's
// GLES backend and the io layer import this module.
#ifndef PARLA_CEGL_SHIM_H
#define PARLA_CEGL_SHIM_H
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <gbm.h>
#include <GLES3/gl32.h>
#endif
