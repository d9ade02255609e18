// EGL, GBM and OpenGL ES 3.2 headers for ParlaRenderGLES (and the live scan-out path). Only the render layer's
// GLES backend and the io layer import this module.
#ifndef PARLA_CEGL_SHIM_H
#define PARLA_CEGL_SHIM_H
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <gbm.h>
#include <GLES3/gl32.h>
#include <stdio.h>

// The name of the last EGL error on this thread (eglGetError), e.g. "EGL_BAD_MATCH"; unknown codes as
// "EGL error 0x…". One table for every EGL user (the GLES decoder's context and the GBM scan-out path).
static inline const char *parla_egl_last_error(void) {
    EGLint code = eglGetError();
    switch (code) {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_NATIVE_WINDOW: return "EGL_BAD_NATIVE_WINDOW";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    case EGL_BAD_SURFACE: return "EGL_BAD_SURFACE";
    default: {
        static _Thread_local char text[32];
        snprintf(text, sizeof text, "EGL error 0x%x", (unsigned)code);
        return text;
    }
    }
}
#endif
