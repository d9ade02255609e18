// libdrm for Swift: the public headers plus small wrappers for what Swift cannot import (ioctl request
// macros, event-handler tables that need a C callback). Used only by ParlaIO's display code.
#ifndef PARLA_CDRM_SHIM_H
#define PARLA_CDRM_SHIM_H

#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <xf86drm.h>
#include <xf86drmMode.h>
#include <drm_fourcc.h>

/// DRM_FORMAT_XRGB8888 (the fourcc macro does not import into Swift).
static inline uint32_t parla_drm_format_xrgb8888(void) { return DRM_FORMAT_XRGB8888; }

/// Creates a dumb buffer; returns 0 or -errno.
static inline int parla_drm_create_dumb(int fd, uint32_t width, uint32_t height, uint32_t bpp,
                                        uint32_t *handle, uint32_t *pitch, uint64_t *size) {
    struct drm_mode_create_dumb req;
    memset(&req, 0, sizeof req);
    req.width = width;
    req.height = height;
    req.bpp = bpp;
    if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &req) != 0) return -errno;
    *handle = req.handle;
    *pitch = req.pitch;
    *size = req.size;
    return 0;
}

/// The fake offset to mmap a dumb buffer at; returns 0 or -errno.
static inline int parla_drm_map_dumb(int fd, uint32_t handle, uint64_t *offset) {
    struct drm_mode_map_dumb req;
    memset(&req, 0, sizeof req);
    req.handle = handle;
    if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &req) != 0) return -errno;
    *offset = req.offset;
    return 0;
}

/// Destroys a dumb buffer; returns 0 or -errno.
static inline int parla_drm_destroy_dumb(int fd, uint32_t handle) {
    struct drm_mode_destroy_dumb req;
    memset(&req, 0, sizeof req);
    req.handle = handle;
    if (drmIoctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &req) != 0) return -errno;
    return 0;
}

/// One page-flip completion read from the DRM fd.
struct parla_flip_event {
    uint32_t sequence;
    uint32_t crtc_id;
    uint64_t user_data;
    /// CLOCK_MONOTONIC time of the vblank the flip landed on, microseconds.
    uint64_t time_us;
    /// How many flip completions were recorded (the handler increments it).
    int count;
};

static inline void parla_drm_flip_handler2(int fd, unsigned int sequence, unsigned int tv_sec,
                                           unsigned int tv_usec, unsigned int crtc_id, void *user_data) {
    (void)fd;
    // user_data is the pointer passed with the flip request: the caller's event record.
    struct parla_flip_event *out = (struct parla_flip_event *)user_data;
    out->sequence = sequence;
    out->crtc_id = crtc_id;
    out->time_us = (uint64_t)tv_sec * 1000000u + tv_usec;
    out->count += 1;
}

/// Reads pending DRM events (blocks if none: poll first) and records page-flip completions into the
/// `parla_flip_event` whose address was passed as the flip's user data. Returns 0 or -errno.
static inline int parla_drm_handle_events(int fd) {
    drmEventContext ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.version = 3;
    ctx.page_flip_handler2 = parla_drm_flip_handler2;
    if (drmHandleEvent(fd, &ctx) != 0) return errno ? -errno : -EIO;
    return 0;
}

#endif
