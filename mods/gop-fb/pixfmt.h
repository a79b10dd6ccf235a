/*
 * pixfmt.h - GOP pixel formats (UEFI 2.10 12.9, EFI_GRAPHICS_PIXEL_FORMAT)
 * turned into one form at the boundary: how a 0x00RRGGBB pixel is stored.
 *
 *   PixelRedGreenBlueReserved8BitPerColor  byte 0 red: 32-bit 0x00BBGGRR
 *   PixelBlueGreenRedReserved8BitPerColor  byte 0 blue: 32-bit 0x00RRGGBB
 *   PixelBitMask  EFI_PIXEL_BITMASK: each channel where its mask says; the
 *                 pixel is as many bytes as the highest mask bit needs
 *   PixelBltOnly  no framebuffer: refused (abi/framebuffer.h has no code)
 * Bit masks equal to one of the first two formats use its fast path.
 */
#ifndef GOPFB_PIXFMT_H
#define GOPFB_PIXFMT_H

#include <stdint.h>

enum pix_kind {
	PIX_BGRX32,	/* stored as the client's 0x00RRGGBB: a plain copy */
	PIX_RGBX32,	/* red and blue swapped */
	PIX_MASK,	/* anything else the masks describe */
};

struct pixfmt {
	uint32_t kind;		/* enum pix_kind */
	uint32_t bytes;		/* per pixel: 2, 3 or 4 */
	uint32_t shift[3];	/* red, green, blue: lowest bit */
	uint32_t max[3];	/* largest value (mask >> shift) */
	uint32_t enc[3][256];	/* 8-bit level -> its bits in place */
	const char *name;	/* "bgrx", "rgbx", "bitmask" */
};

/* Check a GOP format (enum fb_format) and its masks: PB_OK or PB_ENOTSUP. */
int pixfmt_init(struct pixfmt *p, uint32_t format, uint32_t mask_r,
    uint32_t mask_g, uint32_t mask_b, uint32_t mask_x);

/* 0x00RRGGBB to the hardware's value, and back. */
static inline uint32_t
pixfmt_encode(const struct pixfmt *p, uint32_t rgb)
{
	switch (p->kind) {
	case PIX_BGRX32:
		return rgb & 0xffffff;
	case PIX_RGBX32:
		return (rgb >> 16 & 0xff) | (rgb & 0xff00) | (rgb & 0xff) << 16;
	default:
		return p->enc[0][rgb >> 16 & 0xff] |
		    p->enc[1][rgb >> 8 & 0xff] | p->enc[2][rgb & 0xff];
	}
}

uint32_t pixfmt_decode(const struct pixfmt *p, uint32_t v);

#endif
