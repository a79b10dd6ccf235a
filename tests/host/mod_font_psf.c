/*
 * mod_font_psf.c - tools/psf.c, the PSF reader behind tools/mkfont, on
 * fonts made here byte by byte: good PSF1 and PSF2 files (with a Unicode
 * table, sequences, wide glyphs) read back exactly, and each way a file
 * can lie (magic, version, header size, flags, sizes, counts, a table cut
 * short, bad UTF-8, surrogates, trailing bytes) refused with its own
 * error and the offset where it is.  Every prefix of a good file is
 * refused too.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/psf.c"

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void
put(struct buf *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
put8(struct buf *f, uint8_t v)
{
	put(f, &v, 1);
}

static void
put16(struct buf *f, uint16_t v)
{
	put8(f, (uint8_t)v);
	put8(f, (uint8_t)(v >> 8));
}

static void
put32(struct buf *f, uint32_t v)
{
	put16(f, (uint16_t)v);
	put16(f, (uint16_t)(v >> 16));
}

static void
put_str(struct buf *f, const char *s)
{
	put(f, s, strlen(s));
}

/* A PSF2 header; glyph g's rows are all g + 1 (so glyphs differ). */
static void
psf2_head(struct buf *f, uint32_t n, uint32_t w, uint32_t h, uint32_t flags)
{
	uint32_t pitch = (w + 7) / 8;

	f->n = 0;
	put32(f, 0x864ab572);
	put32(f, 0);		/* version */
	put32(f, 32);		/* header size */
	put32(f, flags);
	put32(f, n);
	put32(f, h * pitch);
	put32(f, h);
	put32(f, w);
	for (uint32_t g = 0; g < n; g++)
		for (uint32_t i = 0; i < h * pitch; i++)
			put8(f, (uint8_t)(g + 1));
}

/* Three 8x4 glyphs: 'A'; U+00E9 and the sequence e + U+0301; U+2500
 * and U+2192. */
static void
psf2_good(struct buf *f)
{
	psf2_head(f, 3, 8, 4, 1);
	put_str(f, "A\xff");
	put_str(f, "\xc3\xa9\xfe" "e\xcc\x81\xff");
	put_str(f, "\xe2\x94\x80\xe2\x86\x92\xff");
}

/* 256 8x2 glyphs with a 16-bit table: glyph g is code point g, glyph
 * 0x41 also U+0391 (GREEK CAPITAL ALPHA) and a sequence. */
static void
psf1_good(struct buf *f, uint8_t mode)
{
	uint32_t n = mode & 1 ? 512 : 256;

	f->n = 0;
	put8(f, 0x36);
	put8(f, 0x04);
	put8(f, mode);
	put8(f, 2);
	for (uint32_t g = 0; g < n; g++) {
		put8(f, (uint8_t)g);
		put8(f, (uint8_t)~g);
	}
	for (uint32_t g = 0; g < n; g++) {
		put16(f, (uint16_t)g);
		if (g == 0x41) {
			put16(f, 0x391);
			put16(f, 0xfffe);
			put16(f, 'A');
			put16(f, 0x300);
		}
		put16(f, 0xffff);
	}
}

static int
parse(const struct buf *f, struct psf *p)
{
	return psf_parse(p, f->b, f->n);
}

struct seen {
	uint32_t glyph[8], cp[8];
	unsigned n;
};

static int
see(void *ctx, uint32_t glyph, uint32_t cp)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->glyph[s->n] = glyph;
		s->cp[s->n] = cp;
	}
	s->n++;
	return 0;
}

TEST(psf2_good_font_read_back)
{
	struct buf f;
	struct psf p;
	struct seen s = { 0 };

	psf2_good(&f);
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK_EQ_INT(p.version, 2);
	CHECK_EQ_INT(p.width, 8);
	CHECK_EQ_INT(p.height, 4);
	CHECK_EQ_INT(p.pitch, 1);
	CHECK_EQ_INT(p.nglyphs, 3);
	CHECK(p.glyphs == f.b + 32 && p.glyphs[4] == 2);
	CHECK(p.table == f.b + 32 + 12);
	CHECK_EQ_INT(psf_each(&p, see, &s), 0);
	/* the sequence e + U+0301 is skipped */
	REQUIRE(s.n == 4);
	CHECK(s.glyph[0] == 0 && s.cp[0] == 'A');
	CHECK(s.glyph[1] == 1 && s.cp[1] == 0xe9);
	CHECK(s.glyph[2] == 2 && s.cp[2] == 0x2500);
	CHECK(s.glyph[3] == 2 && s.cp[3] == 0x2192);
}

TEST(psf2_wide_glyphs_and_no_table)
{
	struct buf f;
	struct psf p;

	psf2_head(&f, 2, 12, 24, 0);	/* two bytes a row */
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK_EQ_INT(p.pitch, 2);
	CHECK_EQ_INT(p.glyph_bytes, 48);
	CHECK(p.table == NULL);
	CHECK_EQ_INT(psf_map(&p, NULL, 0, NULL), 0);
	/* a header longer than 32 bytes is skipped */
	psf2_head(&f, 1, 8, 1, 0);
	f.b[8] = 36;
	memmove(f.b + 36, f.b + 32, 1);
	f.n = 37;
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK(p.glyphs == f.b + 36);
}

TEST(psf1_good_font_read_back)
{
	struct buf f;
	struct psf p;
	struct psf_pair m[600];
	size_t dups;

	psf1_good(&f, 0x06);
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK_EQ_INT(p.version, 1);
	CHECK_EQ_INT(p.nglyphs, 256);
	CHECK_EQ_INT(p.height, 2);
	/* 256 code points and U+0391; 'A' only once (the sequence's is no
	 * single code point) */
	CHECK_EQ_INT(psf_map(&p, m, 600, &dups), 257);
	CHECK_EQ_INT(dups, 0);
	CHECK(m[0x41].cp == 'A' && m[0x41].glyph == 0x41);
	CHECK(m[256].cp == 0x391 && m[256].glyph == 0x41);
	psf1_good(&f, 0x03);
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK_EQ_INT(p.nglyphs, 512);
}

TEST(psf_map_is_sorted_first_glyph_wins)
{
	struct buf f;
	struct psf p;
	struct psf_pair m[8];
	size_t dups;

	psf2_head(&f, 3, 8, 1, 1);
	put_str(&f, "z\xe2\x86\x92\xff");	/* glyph 0: z → */
	put_str(&f, "a\xff");				/* glyph 1: a */
	put_str(&f, "\xe2\x86\x92" "b\xff");		/* glyph 2: → again, b */
	REQUIRE(parse(&f, &p) == PSF_OK);
	CHECK_EQ_INT(psf_map(&p, m, 2, NULL), 5);	/* no room: the count */
	CHECK_EQ_INT(psf_map(&p, m, 8, &dups), 4);
	CHECK_EQ_INT(dups, 1);
	CHECK(m[0].cp == 'a' && m[0].glyph == 1);
	CHECK(m[1].cp == 'b' && m[1].glyph == 2);
	CHECK(m[2].cp == 'z' && m[2].glyph == 0);
	CHECK(m[3].cp == 0x2192 && m[3].glyph == 0);
}

/* f, once changed, is refused with err at offset at. */
#define REFUSED(f, err, at) do { \
	struct psf p_; \
	CHECK_EQ_INT(parse(f, &p_), err); \
	if ((long)(at) >= 0) \
		CHECK_EQ_INT(p_.bad_at, at); \
} while (0)

TEST(psf_refuses_bad_headers)
{
	struct buf f;

	f.n = 0;
	REFUSED(&f, PSF_ESHORT, -1);
	put_str(&f, "\x36\x04\x02");
	REFUSED(&f, PSF_ESHORT, -1);
	psf2_good(&f);
	f.n = 31;
	REFUSED(&f, PSF_ESHORT, -1);
	psf2_good(&f);
	f.b[0] ^= 1;
	REFUSED(&f, PSF_EMAGIC, -1);
	psf2_good(&f);
	f.b[4] = 1;
	REFUSED(&f, PSF_EVERSION, -1);
	psf2_good(&f);
	f.b[8] = 31;
	REFUSED(&f, PSF_EHEADER, -1);
	psf2_good(&f);
	f.b[9] = 0x80;		/* past the end */
	REFUSED(&f, PSF_EHEADER, -1);
	psf2_good(&f);
	f.b[12] = 3;
	REFUSED(&f, PSF_EFLAGS, -1);
	psf1_good(&f, 0x02);
	f.b[2] = 0x0a;
	REFUSED(&f, PSF_EFLAGS, -1);
}

TEST(psf_refuses_bad_sizes_and_counts)
{
	struct buf f;

	psf2_good(&f);
	f.b[20] = 5;		/* 5 bytes a glyph for 8x4 */
	REFUSED(&f, PSF_ESIZE, -1);
	psf2_good(&f);
	f.b[28] = 0;		/* width 0 */
	f.b[20] = 0;
	REFUSED(&f, PSF_ESIZE, -1);
	psf2_good(&f);
	f.b[28] = PSF_MAX_W + 1;
	REFUSED(&f, PSF_ESIZE, -1);
	psf2_good(&f);
	f.b[24] = 0, f.b[20] = 0;	/* height 0 */
	REFUSED(&f, PSF_ESIZE, -1);
	psf1_good(&f, 0x02);
	f.b[3] = 0;
	REFUSED(&f, PSF_ESIZE, -1);
	psf2_good(&f);
	f.b[16] = 0;		/* no glyphs */
	REFUSED(&f, PSF_ECOUNT, -1);
	psf2_good(&f);
	f.b[19] = 0x80;		/* 2^31 glyphs */
	REFUSED(&f, PSF_ECOUNT, -1);
	psf2_good(&f);
	f.b[16] = 200;		/* more glyphs than the file holds */
	REFUSED(&f, PSF_EGLYPHS, f.n);
	psf2_head(&f, 2, 8, 4, 0);
	f.n--;
	REFUSED(&f, PSF_EGLYPHS, f.n);
}

TEST(psf_refuses_bad_tables)
{
	struct buf f;

	psf2_good(&f);
	f.n--;			/* the last entry never ends */
	REFUSED(&f, PSF_ETABLE, f.n);
	psf2_good(&f);
	put8(&f, 'x');		/* an entry for a glyph that is not there */
	REFUSED(&f, PSF_ETRAILING, f.n - 1);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "a\xfe\xff");	/* an empty sequence */
	REFUSED(&f, PSF_ETABLE, 32 + 4 + 3);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "\xc0\x80\xff");	/* overlong NUL */
	REFUSED(&f, PSF_EUTF8, 32 + 4);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "\xe2\x82\xff");	/* cut short by the separator */
	REFUSED(&f, PSF_EUTF8, 32 + 4);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "ab\x80\xff");	/* a stray continuation */
	REFUSED(&f, PSF_EUTF8, 32 + 4 + 2);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "\xed\xa0\x80\xff");	/* a surrogate */
	REFUSED(&f, PSF_ECODE, 32 + 4);
	psf2_head(&f, 1, 8, 4, 1);
	put_str(&f, "\xf4\x90\x80\x80\xff");	/* past U+10FFFF */
	REFUSED(&f, PSF_ECODE, 32 + 4);
	psf2_head(&f, 1, 8, 4, 0);
	put8(&f, 0);		/* no table, yet more bytes */
	REFUSED(&f, PSF_ETRAILING, f.n - 1);
	psf1_good(&f, 0x02);
	put8(&f, 0);		/* half a 16-bit unit */
	REFUSED(&f, PSF_ETRAILING, -1);
	psf1_good(&f, 0x02);
	f.b[516] = 0x00, f.b[517] = 0xd8;	/* glyph 0 is U+D800 */
	REFUSED(&f, PSF_ECODE, 516);
	psf1_good(&f, 0x02);
	f.n -= 3;		/* the last entry cut in its middle */
	REFUSED(&f, PSF_ETABLE, -1);
}

TEST(psf_refuses_every_prefix_of_a_good_font)
{
	struct buf a, b;
	struct psf p;

	psf2_good(&a);
	psf1_good(&b, 0x06);
	for (size_t n = 0; n < a.n; n++)
		CHECK_MSG(psf_parse(&p, a.b, n) != PSF_OK, "PSF2 prefix %zu", n);
	for (size_t n = 0; n < b.n; n++)
		if (psf_parse(&p, b.b, n) == PSF_OK) {
			CHECK_MSG(0, "PSF1 prefix %zu", n);
			break;
		}
}

TEST(psf_error_names_each_error)
{
	for (int e = PSF_OK; e <= PSF_ETRAILING; e++)
		CHECK(strcmp(psf_error(e), "unknown error") != 0);
	CHECK_STR(psf_error(-1), "unknown error");
	CHECK_STR(psf_error(PSF_ETRAILING + 1), "unknown error");
}
