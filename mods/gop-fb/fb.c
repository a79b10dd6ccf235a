/*
 * fb.c - rectangles on a linear framebuffer (see fb.h).
 *
 * Rows are moved 64 bits at a time where the format allows: under
 * emulation each guest access costs, and on hardware write-combining
 * buffers fill best with wide stores.
 */
#include "fb.h"

static uint8_t *
at(const struct fb *f, uint32_t x, uint32_t y)
{
	return f->base + (size_t)y * f->pitch + (size_t)x * f->fmt->bytes;
}

/* n 32-bit words, forwards (safe when d is below s). */
static void
copy32(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	uint64_t v;
	uint32_t w;

	for (; n >= 2; n -= 2, dp += 8, sp += 8) {
		__builtin_memcpy(&v, sp, 8);
		__builtin_memcpy(dp, &v, 8);
	}
	if (n) {
		__builtin_memcpy(&w, sp, 4);
		__builtin_memcpy(dp, &w, 4);
	}
}

/* n 32-bit words, backwards (safe when d is above s). */
static void
copy32_back(void *d, const void *s, size_t n)
{
	uint8_t *dp = (uint8_t *)d + n * 4;
	const uint8_t *sp = (const uint8_t *)s + n * 4;
	uint64_t v;
	uint32_t w;

	for (; n >= 2; n -= 2) {
		dp -= 8, sp -= 8;
		__builtin_memcpy(&v, sp, 8);
		__builtin_memcpy(dp, &v, 8);
	}
	if (n) {
		__builtin_memcpy(&w, sp - 4, 4);
		__builtin_memcpy(dp - 4, &w, 4);
	}
}

static void
move32(void *d, const void *s, size_t n)
{
	if ((uint8_t *)d <= (const uint8_t *)s ||
	    (uint8_t *)d >= (const uint8_t *)s + n * 4)
		copy32(d, s, n);
	else
		copy32_back(d, s, n);
}

/* Bytes, for the 16- and 24-bit formats. */
static void
move8(uint8_t *d, const uint8_t *s, size_t n)
{
	if (d <= s || d >= s + n)
		while (n--)
			*d++ = *s++;
	else
		while (n--)
			d[n] = s[n];
}

/* One encoded pixel of fmt->bytes bytes, little-endian (UEFI 2.10 2.3.1). */
static void
store(uint8_t *d, uint32_t v, uint32_t bytes)
{
	switch (bytes) {
	case 4:
		__builtin_memcpy(d, &v, 4);
		break;
	case 3:
		d[0] = (uint8_t)v, d[1] = (uint8_t)(v >> 8);
		d[2] = (uint8_t)(v >> 16);
		break;
	default:
		d[0] = (uint8_t)v, d[1] = (uint8_t)(v >> 8);
		break;
	}
}

static uint32_t
load(const uint8_t *s, uint32_t bytes)
{
	uint32_t v = 0;

	if (bytes == 4)
		__builtin_memcpy(&v, s, 4);
	else
		for (uint32_t i = 0; i < bytes; i++)
			v |= (uint32_t)s[i] << (8 * i);
	return v;
}

/* n client pixels to the framebuffer at d. */
static void
put_row(const struct fb *f, uint8_t *d, const uint32_t *src, uint32_t n)
{
	const struct pixfmt *p = f->fmt;

	if (p->kind == PIX_BGRX32) {
		copy32(d, src, n);
		return;
	}
	for (uint32_t i = 0; i < n; i++, d += p->bytes)
		store(d, pixfmt_encode(p, src[i]), p->bytes);
}

static void
get_row(const struct fb *f, const uint8_t *s, uint32_t *dst, uint32_t n)
{
	const struct pixfmt *p = f->fmt;

	for (uint32_t i = 0; i < n; i++, s += p->bytes)
		dst[i] = pixfmt_decode(p, load(s, p->bytes));
}

/* n copies of an encoded pixel. */
static void
set_row(const struct fb *f, uint8_t *d, uint32_t v, uint32_t n)
{
	uint32_t bytes = f->fmt->bytes;

	if (bytes == 4) {
		uint64_t v2 = v | (uint64_t)v << 32;

		for (; n >= 2; n -= 2, d += 8)
			__builtin_memcpy(d, &v2, 8);
		if (n)
			__builtin_memcpy(d, &v, 4);
		return;
	}
	for (; n; n--, d += bytes)
		store(d, v, bytes);
}

void
fb_fill(struct fb *f, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	uint32_t v = pixfmt_encode(f->fmt, rgb);

	for (uint32_t j = y; j < y + h; j++)
		set_row(f, at(f, x, j), v, w);
}

void
fb_blit(struct fb *f, const uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	for (uint32_t j = 0; j < h; j++, px += pitch)
		put_row(f, at(f, x, y + j), px, w);
}

/* One row of a copy, src row sy to dst row dy. */
static void
copy_row(struct fb *f, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w)
{
	if (f->fmt->bytes == 4) {
		move32(at(f, dx, dy), at(f, sx, sy), w);
	} else {
		move8(at(f, dx, dy), at(f, sx, sy), (size_t)w * f->fmt->bytes);
	}
}

void
fb_copy(struct fb *f, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	/* Rows in the order that never overwrites a row still to be read. */
	if (dy > sy)
		for (uint32_t j = h; j-- > 0; )
			copy_row(f, sx, sy + j, dx, dy + j, w);
	else
		for (uint32_t j = 0; j < h; j++)
			copy_row(f, sx, sy + j, dx, dy + j, w);
}

void
fb_read(struct fb *f, uint32_t *px, size_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	for (uint32_t j = 0; j < h; j++, px += pitch)
		get_row(f, at(f, x, y + j), px, w);
}
