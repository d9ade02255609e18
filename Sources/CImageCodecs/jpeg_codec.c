// JPEG decode/encode through libjpeg(-turbo) with setjmp-based error recovery.
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// libjpeg error manager that longjmps back to the caller instead of calling exit().
typedef struct cic_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    cic_status *status;
    int code;
} cic_jpeg_error;

static void cic_copy_message(cic_status *status, const char *text) {
    if (status == NULL) return;
    snprintf(status->message, CIC_MESSAGE_CAPACITY, "%s", text);
}

static void cic_jpeg_format(j_common_ptr cinfo, cic_jpeg_error *err) {
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    cic_copy_message(err->status, buffer);
}

static void cic_jpeg_error_exit(j_common_ptr cinfo) {
    cic_jpeg_error *err = (cic_jpeg_error *)cinfo->err;
    cic_jpeg_format(cinfo, err);
    if (cinfo->err->msg_code == JERR_EMPTY_IMAGE) cic_copy_message(err->status, "JPEG has zero width or height");
    switch (cinfo->err->msg_code) {
    case JERR_OUT_OF_MEMORY:
        err->code = CIC_NO_MEMORY;
        break;
    case JERR_INPUT_EOF:
    case JERR_INPUT_EMPTY:
        err->code = CIC_TRUNCATED;
        break;
    default:
        err->code = CIC_CORRUPT;
        break;
    }
    longjmp(err->jump, 1);
}

/// Warnings are ignored (real cameras write harmless oddities such as extraneous bytes before a marker),
/// except running out of data: libjpeg would pad the picture with grey, we call it a truncated file.
static void cic_jpeg_emit_message(j_common_ptr cinfo, int level) {
    cic_jpeg_error *err = (cic_jpeg_error *)cinfo->err;
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
            cic_jpeg_format(cinfo, err);
            err->code = CIC_TRUNCATED;
            longjmp(err->jump, 1);
        }
        cinfo->err->num_warnings++;
    }
}

static void cic_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void cic_jpeg_install_errors(cic_jpeg_error *err, cic_status *status) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = cic_jpeg_error_exit;
    err->pub.emit_message = cic_jpeg_emit_message;
    err->pub.output_message = cic_jpeg_output_message;
    err->status = status;
    err->code = CIC_CORRUPT;
    if (status != NULL) status->message[0] = 0;
}

static int cic_jpeg_color_space(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return CIC_JPEG_GRAY;
    case JCS_YCbCr: return CIC_JPEG_YCBCR;
    case JCS_RGB: return CIC_JPEG_RGB;
    case JCS_CMYK: return CIC_JPEG_CMYK;
    case JCS_YCCK: return CIC_JPEG_YCCK;
    default: return CIC_JPEG_OTHER;
    }
}

static void cic_unsupported_space(cic_status *status, int components) {
    if (status == NULL) return;
    snprintf(status->message, CIC_MESSAGE_CAPACITY, "unsupported JPEG colour space with %d components", components);
}

static int cic_valid_denominator(int d) { return d == 1 || d == 2 || d == 4 || d == 8; }

/// Chooses the libjpeg output colour space; returns 0 when the file's colour space is not decodable.
static int cic_jpeg_prepare(struct jpeg_decompress_struct *cinfo, int scale_denominator) {
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_EXT_RGBA;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        break;
    default:
        return 0;
    }
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned int)scale_denominator;
    cinfo->dct_method = JDCT_ISLOW;
    return 1;
}

int cic_jpeg_read_info(const uint8_t *data, size_t size, int scale_denominator,
                       cic_jpeg_info *info, cic_status *status) {
    if (data == NULL || info == NULL || !cic_valid_denominator(scale_denominator)) {
        cic_copy_message(status, "bad arguments to cic_jpeg_read_info");
        return CIC_BAD_ARGUMENT;
    }
    struct jpeg_decompress_struct cinfo;
    cic_jpeg_error err;
    memset(info, 0, sizeof(*info));
    cinfo.err = &err.pub;
    cic_jpeg_install_errors(&err, status);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return err.code;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    info->components = cinfo.num_components;
    info->color_space = cic_jpeg_color_space(cinfo.jpeg_color_space);
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    info->adobe_inverted = cinfo.saw_Adobe_marker ? 1 : 0;
    if (!cic_jpeg_prepare(&cinfo, scale_denominator)) {
        cic_unsupported_space(status, cinfo.num_components);
        jpeg_destroy_decompress(&cinfo);
        return CIC_UNSUPPORTED;
    }
    jpeg_calc_output_dimensions(&cinfo);
    info->output_width = (int)cinfo.output_width;
    info->output_height = (int)cinfo.output_height;
    jpeg_destroy_decompress(&cinfo);
    return CIC_OK;
}

/// CMYK → RGB. Adobe applications store CMYK inverted (0 = full ink); libjpeg passes the stored values.
static void cic_cmyk_row_to_rgba(const JSAMPLE *cmyk, uint8_t *rgba, int width, int inverted) {
    for (int x = 0; x < width; x++) {
        int c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
        }
        // Now each value is "amount of paper showing": 255 = no ink.
        rgba[4 * x] = (uint8_t)((c * k + 127) / 255);
        rgba[4 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgba[4 * x + 2] = (uint8_t)((y * k + 127) / 255);
        rgba[4 * x + 3] = 255;
    }
}

int cic_jpeg_decode_rgba(const uint8_t *data, size_t size, int scale_denominator,
                         uint8_t *rgba, int width, int height, cic_status *status) {
    if (data == NULL || rgba == NULL || width <= 0 || height <= 0 || !cic_valid_denominator(scale_denominator)) {
        cic_copy_message(status, "bad arguments to cic_jpeg_decode_rgba");
        return CIC_BAD_ARGUMENT;
    }
    struct jpeg_decompress_struct cinfo;
    cic_jpeg_error err;
    cinfo.err = &err.pub;
    cic_jpeg_install_errors(&err, status);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return err.code;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (!cic_jpeg_prepare(&cinfo, scale_denominator)) {
        cic_unsupported_space(status, cinfo.num_components);
        jpeg_destroy_decompress(&cinfo);
        return CIC_UNSUPPORTED;
    }
    jpeg_calc_output_dimensions(&cinfo);
    if ((int)cinfo.output_width != width || (int)cinfo.output_height != height) {
        cic_copy_message(status, "JPEG dimensions differ from the buffer size");
        jpeg_destroy_decompress(&cinfo);
        return CIC_BAD_ARGUMENT;
    }
    const int is_cmyk = cinfo.out_color_space == JCS_CMYK;
    const int inverted = cinfo.saw_Adobe_marker ? 1 : 0;
    jpeg_start_decompress(&cinfo);
    const size_t stride = (size_t)width * 4;
    if (is_cmyk) {
        // One scratch row owned by libjpeg's image pool: freed by jpeg_destroy_decompress on any path.
        JSAMPARRAY scratch = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, (JDIMENSION)stride, 1);
        while (cinfo.output_scanline < cinfo.output_height) {
            size_t y = cinfo.output_scanline;
            if (jpeg_read_scanlines(&cinfo, scratch, 1) != 1) break;
            cic_cmyk_row_to_rgba(scratch[0], rgba + y * stride, width, inverted);
        }
    } else {
        enum { BATCH = 16 };
        JSAMPROW rows[BATCH];
        while (cinfo.output_scanline < cinfo.output_height) {
            size_t y = cinfo.output_scanline;
            size_t count = cinfo.output_height - y;
            if (count > BATCH) count = BATCH;
            for (size_t i = 0; i < count; i++) rows[i] = rgba + (y + i) * stride;
            if (jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)count) == 0) break;
        }
    }
    if (cinfo.output_scanline < cinfo.output_height) {
        cic_copy_message(status, "decoder stopped before the last row");
        jpeg_destroy_decompress(&cinfo);
        return CIC_TRUNCATED;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return CIC_OK;
}

/// Encoder state that must survive a longjmp: kept behind a pointer so it is never a register copy.
typedef struct cic_jpeg_sink {
    unsigned char *buffer;
    unsigned long size;
} cic_jpeg_sink;

int cic_jpeg_encode_rgba(const uint8_t *rgba, int width, int height, int quality,
                         uint8_t **out, size_t *out_size, cic_status *status) {
    if (rgba == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0 || width > 65500 ||
        height > 65500) {
        cic_copy_message(status, "bad arguments to cic_jpeg_encode_rgba");
        return CIC_BAD_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    cic_jpeg_sink *sink = calloc(1, sizeof(cic_jpeg_sink));
    if (sink == NULL) {
        cic_copy_message(status, "out of memory");
        return CIC_NO_MEMORY;
    }
    struct jpeg_compress_struct cinfo;
    cic_jpeg_error err;
    cinfo.err = &err.pub;
    cic_jpeg_install_errors(&err, status);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(sink->buffer);
        free(sink);
        return err.code;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &sink->buffer, &sink->size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_EXT_RGBA;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    const size_t stride = (size_t)width * 4;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgba + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = sink->buffer;
    *out_size = (size_t)sink->size;
    free(sink);
    return CIC_OK;
}

void cic_free(void *pointer) { free(pointer); }
