/*
 * pixfmt.c - the pixel formats of pixfmt.h.
 */
#include "pixfmt.h"
#include "../../abi/pb.h"
#include "../../abi/framebuffer.h"

static uint32_t
lowest_bit(uint32_t m)
{
	uint32_t i = 0;

	while (!(m & 1u << i))
		i++;
	return i;
}

static uint32_t
highest_bit(uint32_t m)
{
	uint32_t i = 31;

	while (!(m & 1u << i))
		i--;
	return i;
}

/* A channel mask: not empty, and one run of bits. */
static int
contiguous(uint32_t m)
{
	uint32_t v;

	if (!m)
		return 0;
	v = m >> lowest_bit(m);
	return (v & (v + 1)) == 0;
}

/* Channel c's place and its table: level l of 255 is round(l*max/255). */
static void
channel(struct pixfmt *p, int c, uint32_t mask)
{
	p->shift[c] = lowest_bit(mask);
	p->max[c] = mask >> p->shift[c];
	for (uint32_t l = 0; l < 256; l++)
		p->enc[c][l] = (uint32_t)(((uint64_t)l * p->max[c] + 127) / 255)
		    << p->shift[c];
}

static int
masks_init(struct pixfmt *p, uint32_t r, uint32_t g, uint32_t b, uint32_t x)
{
	uint32_t top;

	if (!contiguous(r) || !contiguous(g) || !contiguous(b) ||
	    (r & g) || (r & b) || (g & b) || (x & (r | g | b)))
		return PB_ENOTSUP;
	top = highest_bit(r | g | b | x);
	p->bytes = top / 8 + 1;
	if (p->bytes < 2)
		return PB_ENOTSUP;	/* 8 bits or fewer: not worth it */
	p->kind = PIX_MASK;
	p->name = "bitmask";
	if (p->bytes == 4 && r == 0xff0000 && g == 0xff00 && b == 0xff)
		p->kind = PIX_BGRX32, p->name = "bgrx";
	if (p->bytes == 4 && r == 0xff && g == 0xff00 && b == 0xff0000)
		p->kind = PIX_RGBX32, p->name = "rgbx";
	channel(p, 0, r);
	channel(p, 1, g);
	channel(p, 2, b);
	return PB_OK;
}

int
pixfmt_init(struct pixfmt *p, uint32_t format, uint32_t mask_r,
    uint32_t mask_g, uint32_t mask_b, uint32_t mask_x)
{
	switch (format) {
	case FB_RGBX:
		return masks_init(p, 0xff, 0xff00, 0xff0000, 0xff000000u);
	case FB_BGRX:
		return masks_init(p, 0xff0000, 0xff00, 0xff, 0xff000000u);
	case FB_BITMASK:
		return masks_init(p, mask_r, mask_g, mask_b, mask_x);
	}
	return PB_ENOTSUP;
}

/* Channel c of hardware value v, as a level of 255 (rounded). */
static uint32_t
level(const struct pixfmt *p, int c, uint32_t v)
{
	uint32_t n = v >> p->shift[c] & p->max[c];

	return (uint32_t)(((uint64_t)n * 255 + p->max[c] / 2) / p->max[c]);
}

uint32_t
pixfmt_decode(const struct pixfmt *p, uint32_t v)
{
	switch (p->kind) {
	case PIX_BGRX32:
		return v & 0xffffff;
	case PIX_RGBX32:
		return (v >> 16 & 0xff) | (v & 0xff00) | (v & 0xff) << 16;
	default:
		return level(p, 0, v) << 16 | level(p, 1, v) << 8 |
		    level(p, 2, v);
	}
}
