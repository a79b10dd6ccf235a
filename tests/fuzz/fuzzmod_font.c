/*
 * fuzzmod_font.c - libFuzzer target for tools/psf.c, the PSF console font
 * reader tools/mkfont runs on the font file of a Debian package.
 *
 * Input: a whole font file.  Beyond the sanitizers it traps on broken
 * promises: a font accepted whose glyphs or table lie outside the input,
 * whose sizes disagree or pass the limits, or whose table names a glyph
 * that is not there or a code point that is no Unicode scalar value; a
 * psf_map that is not sorted, has a code point twice, or disagrees with
 * psf_each about how many pairs there are.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_font/ (made by tests/fuzz/mkseeds-font).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/psf.c"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

struct count {
	const struct psf *f;
	size_t n;
};

static int
check_pair(void *ctx, uint32_t glyph, uint32_t cp)
{
	struct count *c = ctx;

	must(glyph < c->f->nglyphs);
	must(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
	c->n++;
	return 0;
}

static void
check_font(const struct psf *f, const uint8_t *data, size_t size)
{
	struct count c = { f, 0 };
	struct psf_pair *m;
	size_t n, kept, dups;

	must(f->version == 1 || f->version == 2);
	must(f->width >= 1 && f->width <= PSF_MAX_W);
	must(f->height >= 1 && f->height <= PSF_MAX_H);
	must(f->pitch == (f->width + 7) / 8);
	must(f->glyph_bytes == f->height * f->pitch);
	must(f->nglyphs >= 1 && f->nglyphs <= PSF_MAX_GLYPHS);
	must(f->glyphs > data && f->glyphs + (size_t)f->nglyphs *
	    f->glyph_bytes <= data + size);
	if (f->table) {
		must(f->table == f->glyphs + (size_t)f->nglyphs *
		    f->glyph_bytes);
		must(f->table + f->table_len == data + size);
	}
	must(psf_each(f, check_pair, &c) == 0);
	n = psf_map(f, NULL, 0, NULL);
	must(n == c.n);
	if (!(m = malloc((n ? n : 1) * sizeof(*m))))
		return;
	kept = psf_map(f, m, n, &dups);
	must(kept + dups == n);
	for (size_t i = 0; i < kept; i++) {
		must(m[i].glyph < f->nglyphs);
		must(i == 0 || m[i - 1].cp < m[i].cp);
	}
	free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct psf f;
	int err;

	if (!copy)
		return 0;
	memcpy(copy, data, size);	/* exactly size bytes, for ASan */
	err = psf_parse(&f, copy, size);
	must(err >= PSF_OK && err <= PSF_ETRAILING);
	must(strcmp(psf_error(err), "unknown error") != 0);
	if (err == PSF_OK)
		check_font(&f, copy, size);
	else
		must(f.bad_at <= size);
	free(copy);
	return 0;
}
