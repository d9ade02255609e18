// PNG decode/encode through libpng's classic API with setjmp-based error recovery.
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/// Everything a PNG call needs that must survive a longjmp lives here, on the heap, behind one pointer
/// that is never reassigned after setjmp.
typedef struct cic_png_context {
    cic_status *status;
    int code;
    char last_warning[CIC_MESSAGE_CAPACITY];
    // Reading
    const uint8_t *data;
    size_t size;
    size_t position;
    png_bytep *rows;
    // Writing
    uint8_t *output;
    size_t output_size;
    size_t output_capacity;
} cic_png_context;

static void cic_png_message(cic_png_context *ctx, const char *text) {
    if (ctx->status != NULL) snprintf(ctx->status->message, CIC_MESSAGE_CAPACITY, "%s", text);
}

static void cic_png_error(png_structp png, png_const_charp message) {
    cic_png_context *ctx = (cic_png_context *)png_get_error_ptr(png);
    if (ctx->code == CIC_OK) ctx->code = CIC_CORRUPT;
    // libpng warns with the specific IHDR problem ("Image width is zero in IHDR"), then fails generically.
    if (strcmp(message, "Invalid IHDR data") == 0 && ctx->last_warning[0] != 0) message = ctx->last_warning;
    if (ctx->status != NULL && ctx->status->message[0] == 0) cic_png_message(ctx, message);
    png_longjmp(png, 1);
}

/// Warnings do not stop decoding (bad ancillary chunks are skipped); the last one is kept for context.
static void cic_png_warning(png_structp png, png_const_charp message) {
    cic_png_context *ctx = (cic_png_context *)png_get_error_ptr(png);
    snprintf(ctx->last_warning, CIC_MESSAGE_CAPACITY, "%s", message);
}

static void cic_png_read(png_structp png, png_bytep out, size_t length) {
    cic_png_context *ctx = (cic_png_context *)png_get_io_ptr(png);
    if (length > ctx->size - ctx->position) {
        ctx->code = CIC_TRUNCATED;
        cic_png_message(ctx, "premature end of file");
        png_error(png, "premature end of file");
    }
    memcpy(out, ctx->data + ctx->position, length);
    ctx->position += length;
}

static cic_png_context *cic_png_new_context(cic_status *status) {
    cic_png_context *ctx = calloc(1, sizeof(cic_png_context));
    if (ctx != NULL) {
        ctx->status = status;
        ctx->code = CIC_OK;
    }
    if (status != NULL) status->message[0] = 0;
    return ctx;
}

/// Sets up a read struct over memory; returns NULL (with the status filled) when libpng cannot allocate.
static png_structp cic_png_open_read(cic_png_context *ctx, const uint8_t *data, size_t size, png_infop *info) {
    ctx->data = data;
    ctx->size = size;
    ctx->position = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, cic_png_error, cic_png_warning);
    if (png == NULL) return NULL;
    *info = png_create_info_struct(png);
    if (*info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return NULL;
    }
    png_set_read_fn(png, ctx, cic_png_read);
    return png;
}

int cic_png_read_info(const uint8_t *data, size_t size, cic_png_info *info_out, cic_status *status) {
    if (data == NULL || info_out == NULL) {
        if (status != NULL) snprintf(status->message, CIC_MESSAGE_CAPACITY, "bad arguments to cic_png_read_info");
        return CIC_BAD_ARGUMENT;
    }
    memset(info_out, 0, sizeof(*info_out));
    cic_png_context *ctx = cic_png_new_context(status);
    if (ctx == NULL) return CIC_NO_MEMORY;
    png_infop info = NULL;
    png_structp png = cic_png_open_read(ctx, data, size, &info);
    if (png == NULL) {
        cic_png_message(ctx, "out of memory");
        free(ctx);
        return CIC_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        int code = ctx->code == CIC_OK ? CIC_CORRUPT : ctx->code;
        png_destroy_read_struct(&png, &info, NULL);
        free(ctx);
        return code;
    }
    png_read_info(png, info);
    info_out->width = (int)png_get_image_width(png, info);
    info_out->height = (int)png_get_image_height(png, info);
    info_out->bit_depth = png_get_bit_depth(png, info);
    info_out->color_type = png_get_color_type(png, info);
    info_out->interlaced = png_get_interlace_type(png, info) == PNG_INTERLACE_ADAM7 ? 1 : 0;
    info_out->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) ? 1 : 0;
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx);
    return CIC_OK;
}

int cic_png_decode_rgba(const uint8_t *data, size_t size, uint8_t *rgba, int width, int height,
                        cic_status *status) {
    if (data == NULL || rgba == NULL || width <= 0 || height <= 0) {
        if (status != NULL) snprintf(status->message, CIC_MESSAGE_CAPACITY, "bad arguments to cic_png_decode_rgba");
        return CIC_BAD_ARGUMENT;
    }
    cic_png_context *ctx = cic_png_new_context(status);
    if (ctx == NULL) return CIC_NO_MEMORY;
    png_infop info = NULL;
    png_structp png = cic_png_open_read(ctx, data, size, &info);
    if (png == NULL) {
        cic_png_message(ctx, "out of memory");
        free(ctx);
        return CIC_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        int code = ctx->code == CIC_OK ? CIC_CORRUPT : ctx->code;
        png_destroy_read_struct(&png, &info, NULL);
        free(ctx->rows);
        free(ctx);
        return code;
    }
    png_read_info(png, info);
    if ((int)png_get_image_width(png, info) != width || (int)png_get_image_height(png, info) != height) {
        ctx->code = CIC_BAD_ARGUMENT;
        png_error(png, "PNG dimensions differ from the buffer size");
    }
    const int color_type = png_get_color_type(png, info);
    const int bit_depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    int has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0;
    if (png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_set_tRNS_to_alpha(png);
        has_alpha = 1;
    }
    if (bit_depth == 16) png_set_scale_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (!has_alpha) png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4) {
        ctx->code = CIC_UNSUPPORTED;
        png_error(png, "PNG transformations did not produce RGBA8");
    }
    ctx->rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (ctx->rows == NULL) {
        ctx->code = CIC_NO_MEMORY;
        png_error(png, "out of memory");
    }
    for (int y = 0; y < height; y++) ctx->rows[y] = rgba + (size_t)y * (size_t)width * 4;
    png_read_image(png, ctx->rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx->rows);
    free(ctx);
    return CIC_OK;
}

static void cic_png_write(png_structp png, png_bytep bytes, size_t length) {
    cic_png_context *ctx = (cic_png_context *)png_get_io_ptr(png);
    if (length > ctx->output_capacity - ctx->output_size) {
        size_t capacity = ctx->output_capacity < 4096 ? 4096 : ctx->output_capacity;
        while (length > capacity - ctx->output_size) capacity *= 2;
        uint8_t *grown = realloc(ctx->output, capacity);
        if (grown == NULL) {
            ctx->code = CIC_NO_MEMORY;
            cic_png_message(ctx, "out of memory");
            png_error(png, "out of memory");
        }
        ctx->output = grown;
        ctx->output_capacity = capacity;
    }
    memcpy(ctx->output + ctx->output_size, bytes, length);
    ctx->output_size += length;
}

static void cic_png_flush(png_structp png) { (void)png; }

int cic_png_encode_rgba(const uint8_t *rgba, int width, int height, int keep_alpha, int compression_level,
                        uint8_t **out, size_t *out_size, cic_status *status) {
    if (rgba == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0) {
        if (status != NULL) snprintf(status->message, CIC_MESSAGE_CAPACITY, "bad arguments to cic_png_encode_rgba");
        return CIC_BAD_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    cic_png_context *ctx = cic_png_new_context(status);
    if (ctx == NULL) return CIC_NO_MEMORY;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, cic_png_error, cic_png_warning);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (png == NULL || info == NULL) {
        cic_png_message(ctx, "out of memory");
        png_destroy_write_struct(&png, &info);
        free(ctx);
        return CIC_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        int code = ctx->code == CIC_OK ? CIC_CORRUPT : ctx->code;
        png_destroy_write_struct(&png, &info);
        free(ctx->output);
        free(ctx);
        return code;
    }
    png_set_write_fn(png, ctx, cic_png_write, cic_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 keep_alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    int level = compression_level < 0 ? 0 : (compression_level > 9 ? 9 : compression_level);
    png_set_compression_level(png, level);
    png_write_info(png, info);
    if (!keep_alpha) png_set_filler(png, 0, PNG_FILLER_AFTER);  // on write: strip the 4th byte of each pixel
    const size_t stride = (size_t)width * 4;
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgba + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = ctx->output;
    *out_size = ctx->output_size;
    free(ctx);
    return CIC_OK;
}
