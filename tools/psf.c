/*
 * psf.c - PC Screen Font files checked and read (see psf.h).
 */
#include "psf.h"

#define PSF1_MAGIC0 0x36
#define PSF1_MAGIC1 0x04
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_MODEHASSEQ 0x04
#define PSF1_SEPARATOR 0xffff
#define PSF1_STARTSEQ 0xfffe
#define PSF1_HEADER 4

#define PSF2_MAGIC 0x864ab572u	/* 72 b5 4a 86, little-endian */
#define PSF2_HAS_UNICODE_TABLE 0x01
#define PSF2_SEPARATOR 0xff
#define PSF2_STARTSEQ 0xfe
#define PSF2_HEADER 32

const char *
psf_error(int err)
{
	static const char *const what[] = {
		[PSF_OK] = "ok",
		[PSF_ESHORT] = "shorter than its header",
		[PSF_EMAGIC] = "not a PSF1 or PSF2 font (bad magic)",
		[PSF_EVERSION] = "unknown PSF2 version",
		[PSF_EHEADER] = "bad PSF2 header size",
		[PSF_EFLAGS] = "unknown mode or flag bits",
		[PSF_ESIZE] = "bad glyph size, width or height",
		[PSF_ECOUNT] = "no glyphs, or too many",
		[PSF_EGLYPHS] = "glyphs run past the end of the file",
		[PSF_ETABLE] = "Unicode table cut short, or an empty sequence",
		[PSF_EUTF8] = "malformed UTF-8 in the Unicode table",
		[PSF_ECODE] = "a code point that is not a Unicode scalar value",
		[PSF_ETRAILING] = "bytes after the end of the font",
	};

	return err >= 0 && err < (int)(sizeof(what) / sizeof(what[0])) ?
	    what[err] : "unknown error";
}

static uint32_t
le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
scalar(uint32_t cp)
{
	return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

/* One UTF-8 character at p[0..n): its length, or 0 when malformed
 * (the Unicode Standard, 3.9 table 3-7: well-formed byte sequences). */
static size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min)
		return 0;	/* overlong */
	*cp = c;
	return len;
}

/*
 * The table walked entry by entry, each single code point (not those in
 * sequences) given to fn when there is one.  The same walk checks the
 * table for psf_parse (fn NULL) and reads it for psf_each.
 */
struct walk {
	const struct psf *f;
	size_t base;		/* the table's offset in the file */
	size_t pos;
	int (*fn)(void *ctx, uint32_t glyph, uint32_t cp);
	void *ctx;
};

/* The next table unit: a code point, or a PSF1 separator/startseq (as
 * PSF1_*), PSF2's bytes mapped to those too.  PSF_OK or an error. */
static int
next_unit(struct walk *w, uint32_t *u)
{
	const uint8_t *t = w->f->table;
	size_t left = w->f->table_len - w->pos, k;

	if (left == 0)
		return PSF_ETABLE;
	if (w->f->version == 1) {
		if (left < 2)
			return PSF_ETABLE;
		*u = t[w->pos] | (uint32_t)t[w->pos + 1] << 8;
		if (*u < PSF1_STARTSEQ && !scalar(*u))
			return PSF_ECODE;
		w->pos += 2;
		return PSF_OK;
	}
	if (t[w->pos] == PSF2_SEPARATOR || t[w->pos] == PSF2_STARTSEQ) {
		*u = t[w->pos] == PSF2_SEPARATOR ? PSF1_SEPARATOR :
		    PSF1_STARTSEQ;
		w->pos++;
		return PSF_OK;
	}
	if (!(k = utf8_decode(t + w->pos, left, u)))
		return PSF_EUTF8;
	if (!scalar(*u))
		return PSF_ECODE;
	w->pos += k;
	return PSF_OK;
}

/* Glyph g's entry: code points, then sequences, then the separator. */
static int
walk_entry(struct walk *w, uint32_t g)
{
	int in_seq = 0, err;
	uint32_t seq_len = 0, u;

	for (;;) {
		if ((err = next_unit(w, &u)) != PSF_OK)
			return err;
		if (u == PSF1_SEPARATOR || u == PSF1_STARTSEQ) {
			if (in_seq && seq_len == 0)
				return PSF_ETABLE;
			if (u == PSF1_SEPARATOR)
				return PSF_OK;
			in_seq = 1;
			seq_len = 0;
		} else if (in_seq) {
			seq_len++;
		} else if (w->fn && (err = w->fn(w->ctx, g, u)) != 0) {
			return err;
		}
	}
}

static int
walk_table(struct walk *w)
{
	int err;

	for (uint32_t g = 0; g < w->f->nglyphs; g++)
		if ((err = walk_entry(w, g)) != PSF_OK)
			return err;
	return w->pos == w->f->table_len ? PSF_OK : PSF_ETRAILING;
}

/* The header's fields into f; *off: where the glyphs start; *tab: does a
 * Unicode table follow them. */
static int
header_psf1(struct psf *f, const uint8_t *p, size_t len, size_t *off,
    int *tab)
{
	if (len < PSF1_HEADER)
		return PSF_ESHORT;
	if (p[2] & ~(PSF1_MODE512 | PSF1_MODEHASTAB | PSF1_MODEHASSEQ))
		return PSF_EFLAGS;
	f->version = 1;
	f->width = 8;
	f->height = p[3];
	f->pitch = 1;
	f->glyph_bytes = p[3];
	f->nglyphs = p[2] & PSF1_MODE512 ? 512 : 256;
	*off = PSF1_HEADER;
	*tab = (p[2] & (PSF1_MODEHASTAB | PSF1_MODEHASSEQ)) != 0;
	return PSF_OK;
}

static int
header_psf2(struct psf *f, const uint8_t *p, size_t len, size_t *off,
    int *tab)
{
	uint32_t version, hsize, flags;

	if (len < PSF2_HEADER)
		return PSF_ESHORT;
	version = le32(p + 4);
	hsize = le32(p + 8);
	flags = le32(p + 12);
	if (version != 0)
		return PSF_EVERSION;
	if (hsize < PSF2_HEADER || hsize > len)
		return PSF_EHEADER;
	if (flags & ~(uint32_t)PSF2_HAS_UNICODE_TABLE)
		return PSF_EFLAGS;
	f->version = 2;
	f->nglyphs = le32(p + 16);
	f->glyph_bytes = le32(p + 20);
	f->height = le32(p + 24);
	f->width = le32(p + 28);
	f->pitch = (f->width + 7) / 8;
	*off = hsize;
	*tab = (flags & PSF2_HAS_UNICODE_TABLE) != 0;
	return PSF_OK;
}

int
psf_parse(struct psf *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t off = 0, glyphs_len;
	struct walk w = { f, 0, 0, NULL, NULL };
	int has_table = 0, err;

	*f = (struct psf){ 0 };
	if (len >= 2 && p[0] == PSF1_MAGIC0 && p[1] == PSF1_MAGIC1)
		err = header_psf1(f, p, len, &off, &has_table);
	else if (len >= 4 && le32(p) == PSF2_MAGIC)
		err = header_psf2(f, p, len, &off, &has_table);
	else
		err = len < 4 ? PSF_ESHORT : PSF_EMAGIC;
	if (err != PSF_OK)
		return err;
	if (f->width == 0 || f->width > PSF_MAX_W || f->height == 0 ||
	    f->height > PSF_MAX_H || f->glyph_bytes != f->height * f->pitch)
		return PSF_ESIZE;
	if (f->nglyphs == 0 || f->nglyphs > PSF_MAX_GLYPHS)
		return PSF_ECOUNT;
	/* Both are bounded above, so the product cannot overflow. */
	glyphs_len = (size_t)f->nglyphs * f->glyph_bytes;
	if (glyphs_len > len - off) {
		f->bad_at = len;
		return PSF_EGLYPHS;
	}
	f->glyphs = p + off;
	off += glyphs_len;
	if (!has_table) {
		f->bad_at = off;
		return off == len ? PSF_OK : PSF_ETRAILING;
	}
	f->table = p + off;
	f->table_len = len - off;
	w.base = off;
	err = walk_table(&w);
	f->bad_at = w.base + w.pos;
	return err;
}

int
psf_each(const struct psf *f,
    int (*fn)(void *ctx, uint32_t glyph, uint32_t cp), void *ctx)
{
	struct walk w = { f, 0, 0, fn, ctx };

	if (!f->table)
		return 0;
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		int err = walk_entry(&w, g);

		if (err != PSF_OK)
			return err;
	}
	return 0;
}

/* --- the sorted map ------------------------------------------------------ */

struct collect {
	struct psf_pair *out;
	size_t max, n;
};

static int
collect(void *ctx, uint32_t glyph, uint32_t cp)
{
	struct collect *c = ctx;

	if (c->n < c->max)
		c->out[c->n] = (struct psf_pair){ cp, glyph };
	c->n++;
	return 0;
}

static int
before(struct psf_pair a, struct psf_pair b)
{
	return a.cp < b.cp || (a.cp == b.cp && a.glyph < b.glyph);
}

/* Heapsort: in place, n log n whatever the input (a fuzzer's tables can
 * hold many thousands of pairs). */
static void
sift(struct psf_pair *a, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		struct psf_pair t;

		if (child + 1 < n && before(a[child], a[child + 1]))
			child++;
		if (!before(a[root], a[child]))
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
	}
}

static void
sort_pairs(struct psf_pair *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0; )
		sift(a, i, n);
	for (size_t end = n; end-- > 1; ) {
		struct psf_pair t = a[0];

		a[0] = a[end];
		a[end] = t;
		sift(a, 0, end);
	}
}

size_t
psf_map(const struct psf *f, struct psf_pair *out, size_t max, size_t *dups)
{
	struct collect c = { out, max, 0 };
	size_t n = 0;

	if (dups)
		*dups = 0;
	psf_each(f, collect, &c);
	if (c.n > max)
		return c.n;
	/* Sorted by code point, then glyph: table order is glyph order, so
	 * the first of each code point is the one the table named first. */
	sort_pairs(out, c.n);
	for (size_t i = 0; i < c.n; i++) {
		if (n && out[n - 1].cp == out[i].cp) {
			if (dups)
				(*dups)++;
			continue;
		}
		out[n++] = out[i];
	}
	return n;
}
