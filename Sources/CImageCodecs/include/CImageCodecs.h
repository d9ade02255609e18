// CImageCodecs: thin C wrappers around libjpeg(-turbo) and libpng.
//
// Both libraries report fatal errors through setjmp/longjmp, which Swift cannot express, so every call that
// can fail runs inside a setjmp frame here and comes back as a return code plus a one-line message.
// All functions return CIC_OK (0) on success; on failure `status->message` holds a NUL-terminated message.
// Nothing here keeps global state: the functions are safe to call from several threads at once.
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes.
enum {
    CIC_OK = 0,
    CIC_CORRUPT = 1,      ///< the library rejected the data (bad marker, bad CRC, zero size, …)
    CIC_TRUNCATED = 2,    ///< the data ends before the image does
    CIC_UNSUPPORTED = 3,  ///< valid but of a kind we do not decode (e.g. unknown JPEG colour space)
    CIC_NO_MEMORY = 4,    ///< an allocation failed
    CIC_BAD_ARGUMENT = 5  ///< the caller passed a buffer of the wrong size or dimensions that changed
};

#define CIC_MESSAGE_CAPACITY 256

/// Error message carrier.
typedef struct cic_status {
    char message[CIC_MESSAGE_CAPACITY];
} cic_status;

/// JPEG colour spaces as reported by `cic_jpeg_read_info`.
enum {
    CIC_JPEG_OTHER = 0,
    CIC_JPEG_GRAY = 1,
    CIC_JPEG_YCBCR = 2,
    CIC_JPEG_RGB = 3,
    CIC_JPEG_CMYK = 4,
    CIC_JPEG_YCCK = 5
};

/// What the JPEG header says, and the size the decoder will produce at the requested scale.
typedef struct cic_jpeg_info {
    int width;           ///< stored width (from SOF)
    int height;          ///< stored height (from SOF)
    int output_width;    ///< width after DCT scaling by 1/scale_denominator
    int output_height;   ///< height after DCT scaling
    int components;      ///< number of colour components in the file
    int color_space;     ///< one of CIC_JPEG_*
    int progressive;     ///< 1 for progressive JPEG
    int adobe_inverted;  ///< 1 when an Adobe APP14 marker is present (CMYK stored inverted)
} cic_jpeg_info;

/// Reads the JPEG header only (no pixel memory is allocated). `scale_denominator` is 1, 2, 4 or 8.
int cic_jpeg_read_info(const uint8_t *data, size_t size, int scale_denominator,
                       cic_jpeg_info *info, cic_status *status);

/// Decodes a JPEG to tightly packed RGBA8 (alpha 255) into `rgba` (`width * height * 4` bytes, where width
/// and height must equal the `output_width/height` reported by `cic_jpeg_read_info` at the same scale).
/// Grayscale, YCbCr, RGB, CMYK and YCCK (Adobe inverted or not) are converted. A file that ends before the
/// image does is an error (CIC_TRUNCATED), not a grey-filled picture. That includes a file missing only its
/// final EOI marker: libjpeg's entropy decoder reads ahead, so it cannot tell that apart from lost data.
int cic_jpeg_decode_rgba(const uint8_t *data, size_t size, int scale_denominator,
                         uint8_t *rgba, int width, int height, cic_status *status);

/// Encodes RGBA8 (alpha ignored) as a baseline YCbCr 4:2:0 JFIF. `*out` is malloc'd: free it with `cic_free`.
int cic_jpeg_encode_rgba(const uint8_t *rgba, int width, int height, int quality,
                         uint8_t **out, size_t *out_size, cic_status *status);

/// What a PNG's IHDR says.
typedef struct cic_png_info {
    int width;
    int height;
    int bit_depth;   ///< 1, 2, 4, 8 or 16
    int color_type;  ///< PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int interlaced;  ///< 1 for Adam7
    int has_trns;    ///< 1 when a tRNS chunk gives transparency
} cic_png_info;

/// Reads a PNG's signature and chunks up to the first IDAT (no pixel memory is allocated).
int cic_png_read_info(const uint8_t *data, size_t size, cic_png_info *info, cic_status *status);

/// Decodes any PNG (1/2/4/8/16-bit; gray, gray+alpha, palette, RGB, RGBA; interlaced or not) to RGBA8
/// into `rgba` (`width * height * 4` bytes; width and height must match the header). 16-bit samples are
/// scaled with rounding; gamma and colour profiles are not applied. CRC errors in critical chunks and a
/// missing IEND are errors.
int cic_png_decode_rgba(const uint8_t *data, size_t size, uint8_t *rgba, int width, int height,
                        cic_status *status);

/// Encodes RGBA8 as an 8-bit PNG: RGBA when `keep_alpha` is non-zero, else RGB (alpha dropped).
/// `compression_level` is zlib's 0...9. `*out` is malloc'd: free it with `cic_free`.
int cic_png_encode_rgba(const uint8_t *rgba, int width, int height, int keep_alpha, int compression_level,
                        uint8_t **out, size_t *out_size, cic_status *status);

/// Frees memory returned by the encoders.
void cic_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
