/*
 * mod_shell_png.c - the shell's PNG writer (mods/shell/png.c), decoded
 * back here by a reader written from the specifications: chunks and
 * their CRCs (a bitwise CRC-32, not rt_crc32), the zlib header, stored
 * blocks with LEN and NLEN, the Adler-32, and the pixels, for images
 * whose rows straddle stored blocks and bands of any height.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/png.c"
#include "../../abi/rt/crc32.c"

static uint32_t
crc_bitwise(const uint8_t *b, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= *b++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

/* Decode file (len bytes) into rgb (w*h*3); 0 and a reason on failure. */
static int
decode(const uint8_t *file, size_t len, uint32_t *w, uint32_t *h,
    uint8_t **rgb, const char **why)
{
	uint8_t *z = malloc(len), *raw;
	size_t zn = 0, pos = 8, rn = 0, at;
	uint32_t a = 1, bsum = 0;
	int final = 0, ended = 0;

	*rgb = NULL;
	if (len < 8 || memcmp(file, "\x89PNG\r\n\x1a\n", 8) != 0)
		return *why = "signature", free(z), 0;
	while (pos + 12 <= len && !ended) {
		uint32_t n = rd32(file + pos);
		const uint8_t *type = file + pos + 4, *body = file + pos + 8;

		if (pos + 12 + n > len)
			return *why = "chunk past the end", free(z), 0;
		if (crc_bitwise(type, 4 + n) != rd32(body + n))
			return *why = "chunk CRC", free(z), 0;
		if (memcmp(type, "IHDR", 4) == 0) {
			*w = rd32(body);
			*h = rd32(body + 4);
			if (n != 13 || body[8] != 8 || body[9] != 2 || body[12])
				return *why = "IHDR", free(z), 0;
		} else if (memcmp(type, "IDAT", 4) == 0) {
			memcpy(z + zn, body, n);
			zn += n;
		} else if (memcmp(type, "IEND", 4) == 0) {
			ended = 1;
		}
		pos += 12 + n;
	}
	if (!ended || pos != len)
		return *why = "IEND", free(z), 0;
	if (zn < 6 || (z[0] & 0x0f) != 8 || (z[0] << 8 | z[1]) % 31)
		return *why = "zlib header", free(z), 0;
	raw = malloc(zn);
	for (at = 2; !final; ) {
		uint32_t bl, nl;

		if (at + 5 > zn || (z[at] & 6) != 0)
			return *why = "not a stored block", free(z), free(raw), 0;
		final = z[at] & 1;
		bl = z[at + 1] | z[at + 2] << 8;
		nl = z[at + 3] | z[at + 4] << 8;
		if ((bl ^ nl) != 0xffff || at + 5 + bl > zn)
			return *why = "LEN/NLEN", free(z), free(raw), 0;
		memcpy(raw + rn, z + at + 5, bl);
		rn += bl;
		at += 5 + bl;
	}
	for (size_t i = 0; i < rn; i++) {
		a = (a + raw[i]) % 65521;
		bsum = (bsum + a) % 65521;
	}
	if (at + 4 != zn || rd32(z + at) != (bsum << 16 | a))
		return *why = "Adler-32", free(z), free(raw), 0;
	if (rn != (size_t)*h * (1 + 3 * (size_t)*w))
		return *why = "data length", free(z), free(raw), 0;
	*rgb = malloc((size_t)*w * *h * 3 + 1);
	for (uint32_t y = 0; y < *h; y++) {
		const uint8_t *r = raw + (size_t)y * (1 + 3 * (size_t)*w);

		if (r[0] != 0)
			return *why = "filter", free(z), free(raw), 0;
		memcpy(*rgb + (size_t)y * *w * 3, r + 1, (size_t)*w * 3);
	}
	free(z);
	free(raw);
	return 1;
}

/* Encode a w x h test picture in bands of `band` rows and decode it. */
static void
round_trip(uint32_t w, uint32_t h, uint32_t band)
{
	uint32_t pitch = w + 3, *px = malloc((size_t)pitch * h * 4), dw = 0,
	    dh = 0;
	size_t cap = PNG_HEAD_LEN + PNG_END_LEN, len = 0;
	struct png p;
	uint8_t *file, *rgb;
	const char *why = "";

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < pitch; x++)
			px[(size_t)y * pitch + x] = (x * 7 + y * 13) << 16 |
			    (x ^ y) << 8 | (x + y);
	for (uint32_t y = 0; y < h; y += band)
		cap += (size_t)(h - y < band ? h - y : band) * (1 + 3 * w) +
		    12 + 2 + 4 + 5 * (1 + (size_t)band * (1 + 3 * w) / 65535);
	file = calloc(1, cap);
	len = png_begin(&p, w, h, file);
	for (uint32_t y = 0; y < h; y += band) {
		uint32_t n = h - y < band ? h - y : band;
		size_t expect = png_rows_len(&p, n);

		REQUIRE(len + expect <= cap);
		CHECK_EQ_INT(png_rows(&p, px + (size_t)y * pitch, pitch, n,
		    file + len), expect);
		len += expect;
	}
	len += png_end(file + len);
	CHECK_MSG(decode(file, len, &dw, &dh, &rgb, &why), "%ux%u in bands "
	    "of %u: %s", w, h, band, why);
	CHECK_EQ_INT(dw, w);
	CHECK_EQ_INT(dh, h);
	for (uint32_t y = 0; rgb && y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = px[(size_t)y * pitch + x];
			const uint8_t *c = rgb + ((size_t)y * w + x) * 3;

			if (c[0] != (uint8_t)(v >> 16) ||
			    c[1] != (uint8_t)(v >> 8) || c[2] != (uint8_t)v) {
				CHECK_MSG(0, "pixel %u,%u", x, y);
				y = h;
				break;
			}
		}
	free(rgb);
	free(file);
	free(px);
}

TEST(png_round_trips)
{
	round_trip(1, 1, 1);
	round_trip(100, 300, 7);	/* rows cross the 65535-byte blocks */
	round_trip(100, 300, 300);
	round_trip(1280, 40, 16);	/* 3841-byte rows */
	round_trip(21845, 2, 1);	/* a row of exactly 65536 bytes */
}

TEST(png_header_is_the_size)
{
	uint8_t head[PNG_HEAD_LEN];
	struct png p;

	CHECK_EQ_INT(png_begin(&p, 1280, 800, head), PNG_HEAD_LEN);
	CHECK_EQ_INT(rd32(head + 16), 1280);
	CHECK_EQ_INT(rd32(head + 20), 800);
	CHECK_EQ_INT(rd32(head + 8), 13);
	CHECK(memcmp(head + 12, "IHDR", 4) == 0);
}
