/*
 * png.h - a screen as a PNG, encoded a band of rows at a time as it is
 * written out: 8-bit RGB, no filter, the zlib stream in deflate "stored"
 * blocks (no compression: a screen is written once, and this stays a
 * page of code).  Pure C with no hub calls: the host tests decode it.
 *
 * The file: the signature and IHDR (png_begin), one IDAT per band
 * (png_rows: the zlib header in the first, the Adler-32 in the last),
 * then IEND (png_end).  PNG: ISO/IEC 15948 (W3C PNG 2nd ed.) §5, §11.2;
 * zlib: RFC 1950; stored blocks: RFC 1951 §3.2.4.
 */
#ifndef PB_SHELL_PNG_H
#define PB_SHELL_PNG_H

#include <stddef.h>
#include <stdint.h>

#define PNG_HEAD_LEN 33		/* signature 8, IHDR 25 */
#define PNG_END_LEN 12		/* IEND */

struct png {
	uint32_t width, height;
	uint32_t row;		/* rows encoded so far */
	uint32_t adler_a, adler_b;
};

/* The signature and IHDR for a w x h image into out (PNG_HEAD_LEN). */
size_t png_begin(struct png *p, uint32_t w, uint32_t h, uint8_t *out);
/* The bytes png_rows writes for n rows. */
size_t png_rows_len(const struct png *p, uint32_t n);
/* The next n rows of 0x00RRGGBB pixels (pitch in pixels) as one IDAT
 * chunk into out; returns its length. */
size_t png_rows(struct png *p, const uint32_t *px, uint32_t pitch,
    uint32_t n, uint8_t *out);
/* IEND into out (PNG_END_LEN). */
size_t png_end(uint8_t *out);

#endif
