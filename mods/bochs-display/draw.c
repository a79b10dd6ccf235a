/*
 * draw.c - rectangles on the framebuffer (see draw.h).
 *
 * Rows move 64 bits at a time: on hardware write-combining buffers fill best with wide stores, and
 * under emulation every guest access costs (a string instruction is a
 * step per byte there).
 */
#include "draw.h"

static uint32_t *
screen_at(const struct draw *d, uint32_t x, uint32_t y)
{
	return d->fb + (size_t)y * d->pitch + x;
}

/* n pixels from s to dst, lowest address first (dst below s, or apart). */
static void
put(uint32_t *dst, const uint32_t *s, size_t n)
{
	uint8_t *dp = (uint8_t *)dst;
	const uint8_t *sp = (const uint8_t *)s;
	uint64_t v;

	for (; n >= 2; n -= 2, dp += 8, sp += 8) {
		__builtin_memcpy(&v, sp, 8);
		__builtin_memcpy(dp, &v, 8);
	}
	if (n)
		__builtin_memcpy(dp, sp, 4);
}

/* The same, highest address first (dst above s, overlapping). */
static void
put_back(uint32_t *dst, const uint32_t *s, size_t n)
{
	uint8_t *dp = (uint8_t *)(dst + n);
	const uint8_t *sp = (const uint8_t *)(s + n);
	uint64_t v;

	for (; n >= 2; n -= 2) {
		dp -= 8, sp -= 8;
		__builtin_memcpy(&v, sp, 8);
		__builtin_memcpy(dp, &v, 8);
	}
	if (n)
		__builtin_memcpy(dp - 4, sp - 4, 4);
}

/* Overlapping rows of one line: the order that reads before it writes. */
static void
move(uint32_t *dst, const uint32_t *s, size_t n)
{
	if (dst > s && dst < s + n)
		put_back(dst, s, n);
	else
		put(dst, s, n);
}

static void
set(uint32_t *dst, uint32_t rgb, size_t n)
{
	uint64_t v2 = rgb | (uint64_t)rgb << 32;
	uint8_t *dp = (uint8_t *)dst;

	for (; n >= 2; n -= 2, dp += 8)
		__builtin_memcpy(dp, &v2, 8);
	if (n)
		__builtin_memcpy(dp, &rgb, 4);
}

/* n pixels of the screen as the clients' 0x00RRGGBB: the device keeps
 * whatever byte 3 was written with. */
static void
get(uint32_t *dst, const uint32_t *s, size_t n)
{
	uint64_t v;

	for (; n >= 2; n -= 2, dst += 2, s += 2) {
		__builtin_memcpy(&v, s, 8);
		v &= 0x00ffffff00ffffffull;
		__builtin_memcpy(dst, &v, 8);
	}
	if (n)
		*dst = *s & 0xffffff;
}

void
draw_fill(struct draw *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	rgb &= 0xffffff;
	for (uint32_t j = y; j < y + h; j++)
		set(screen_at(d, x, j), rgb, w);
}

void
draw_blit(struct draw *d, const uint32_t *px, size_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	for (uint32_t j = 0; j < h; j++, px += pitch)
		put(screen_at(d, x, y + j), px, w);
}

static void
copy_row(struct draw *d, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w)
{
	move(screen_at(d, dx, dy), screen_at(d, sx, sy), w);
}

void
draw_copy(struct draw *d, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	/* Rows in the order that never overwrites a row still to be read. */
	if (dy > sy)
		for (uint32_t j = h; j-- > 0; )
			copy_row(d, sx, sy + j, dx, dy + j, w);
	else
		for (uint32_t j = 0; j < h; j++)
			copy_row(d, sx, sy + j, dx, dy + j, w);
}

void
draw_read(struct draw *d, uint32_t *px, size_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	for (uint32_t j = 0; j < h; j++, px += pitch)
		get(px, screen_at(d, x, y + j), w);
}
