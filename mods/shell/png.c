/*
 * png.c - a screen as a PNG (see png.h).
 */
#include "png.h"
#include "../../abi/rt/rt.h"

#define STORED_MAX 65535u	/* bytes of one stored block */
#define ADLER_MOD 65521u
#define ADLER_NMAX 5552u	/* bytes before the sums must be reduced */

static void
be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* A chunk's length, type and CRC around the body already at out + 8. */
static size_t
chunk(uint8_t *out, const char *type, uint32_t len)
{
	be32(out, len);
	memcpy(out + 4, type, 4);
	be32(out + 8 + len, rt_crc32(0, out + 4, 4 + (size_t)len));
	return 12 + (size_t)len;
}

size_t
png_begin(struct png *p, uint32_t w, uint32_t h, uint8_t *out)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
	    '\n' };
	uint8_t *ihdr = out + 8 + 8;

	*p = (struct png){ .width = w, .height = h, .adler_a = 1 };
	memcpy(out, sig, 8);
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8;		/* bits per sample */
	ihdr[9] = 2;		/* colour type: RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;	/* deflate, adaptive, none */
	return 8 + chunk(out + 8, "IHDR", 13);
}

static uint64_t
raw_len(const struct png *p, uint32_t n)
{
	return (uint64_t)n * (1 + 3 * (uint64_t)p->width);
}

size_t
png_rows_len(const struct png *p, uint32_t n)
{
	uint64_t raw = raw_len(p, n);
	uint64_t blocks = (raw + STORED_MAX - 1) / STORED_MAX;

	return (size_t)(12 + (p->row == 0 ? 2 : 0) + raw + 5 * blocks +
	    (p->row + n == p->height ? 4 : 0));
}

static void
adler(struct png *p, const uint8_t *b, size_t n)
{
	while (n) {
		size_t k = n < ADLER_NMAX ? n : ADLER_NMAX;

		n -= k;
		while (k--) {
			p->adler_a += *b++;
			p->adler_b += p->adler_a;
		}
		p->adler_a %= ADLER_MOD;
		p->adler_b %= ADLER_MOD;
	}
}

/* One row as the filter byte (none) and RGB triples. */
static size_t
row_bytes(const uint32_t *px, uint32_t w, uint8_t *out)
{
	out[0] = 0;
	for (uint32_t x = 0; x < w; x++) {
		out[1 + 3 * x] = (uint8_t)(px[x] >> 16);
		out[2 + 3 * x] = (uint8_t)(px[x] >> 8);
		out[3 + 3 * x] = (uint8_t)px[x];
	}
	return 1 + 3 * (size_t)w;
}

/* A stored block's header (RFC 1951 §3.2.4): BFINAL, BTYPE 00, then LEN
 * and NLEN, little-endian, on the next byte boundary. */
static void
block_head(uint8_t *b, uint32_t len, int final)
{
	b[0] = final ? 1 : 0;
	b[1] = (uint8_t)len;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)~len;
	b[4] = (uint8_t)(~len >> 8);
}

/*
 * The rows go where they end up once the stored blocks' headers are in:
 * first written together at the end of the chunk's room, then each block
 * moved down behind its header (never over a block not yet moved).
 */
size_t
png_rows(struct png *p, const uint32_t *px, uint32_t pitch, uint32_t n,
    uint8_t *out)
{
	uint8_t *base = out + 8 + (p->row == 0 ? 2 : 0), *raw, *b;
	uint64_t len = raw_len(p, n);
	uint64_t blocks = (len + STORED_MAX - 1) / STORED_MAX;
	int last = p->row + n == p->height;

	if (p->row == 0) {
		out[8] = 0x78;	/* CMF: deflate, 32 KiB window */
		out[9] = 0x01;	/* FLG: no dictionary, check bits */
	}
	raw = base + 5 * blocks;
	for (uint32_t y = 0; y < n; y++)
		row_bytes(px + (size_t)y * pitch, p->width,
		    raw + (size_t)y * (1 + 3 * (size_t)p->width));
	adler(p, raw, (size_t)len);
	for (uint64_t k = 0; k < blocks; k++) {
		uint64_t at = k * STORED_MAX;
		uint32_t bl = (uint32_t)(len - at < STORED_MAX ? len - at :
		    STORED_MAX);

		b = base + 5 * k + at;
		memmove(b + 5, raw + at, bl);
		block_head(b, bl, last && k == blocks - 1);
	}
	b = base + 5 * blocks + len;
	if (last) {
		be32(b, p->adler_b << 16 | p->adler_a);
		b += 4;
	}
	p->row += n;
	return chunk(out, "IDAT", (uint32_t)(b - out - 8));
}

size_t
png_end(uint8_t *out)
{
	return chunk(out, "IEND", 0);
}
