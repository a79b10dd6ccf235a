/*
 * psf.h - a validating reader of PC Screen Font files, the console fonts
 * Linux and Debian ship (the .psf.gz files of /usr/share/consolefonts,
 * once gunzipped): version 1 (PSF1, 8 pixels wide, 256 or 512 glyphs) and
 * version 2 (PSF2, any size), each with an optional Unicode table that
 * says which code points every glyph draws.
 *
 * Formats, as kbd's psf.h and the Linux console documentation give them:
 *   PSF1: 2 magic bytes 36 04, a mode byte (bit 0: 512 glyphs, bit 1: a
 *         Unicode table, bit 2: it has sequences), the glyph height; the
 *         glyphs, one byte a row; the table: per glyph, 16-bit little-
 *         endian code points, FFFE before each sequence, FFFF at its end.
 *   PSF2: a 32-byte little-endian header (magic 72 b5 4a 86, version 0,
 *         header size, flags (bit 0: a Unicode table), glyph count, bytes
 *         a glyph, height, width); the glyphs, (width + 7) / 8 bytes a
 *         row, the leftmost pixel in a byte's bit 7; the table: per glyph,
 *         UTF-8 characters, FE before each sequence, FF at its end.
 * A sequence (a letter and combining marks drawn as one glyph) is checked
 * and skipped: one cell shows one code point here.
 *
 * Everything the file says is checked before it is believed: the magic,
 * the version, the header's size, the flags, that the glyph size matches
 * the width and height (and both are within PSF_MAX_W x PSF_MAX_H), the
 * glyph count, that the glyphs and the table are all inside the file,
 * that the table has exactly one entry per glyph with nothing after, and
 * that every code point is a Unicode scalar value in well-formed UTF-8 (no
 * overlong forms, surrogates or values past U+10FFFF).  Nothing is
 * allocated; no input can read outside the buffer (tests/fuzz/
 * fuzzmod_font.c).  Freestanding C: only the headers below.
 */
#ifndef PB_TOOLS_PSF_H
#define PB_TOOLS_PSF_H

#include <stddef.h>
#include <stdint.h>

#define PSF_MAX_W 64		/* pixels: larger is no console font */
#define PSF_MAX_H 128
#define PSF_MAX_GLYPHS 65534	/* glyph numbers fit 16 bits, with a box */

enum psf_err {
	PSF_OK,
	PSF_ESHORT,		/* shorter than its header */
	PSF_EMAGIC,		/* neither PSF1 nor PSF2 */
	PSF_EVERSION,		/* a PSF2 version other than 0 */
	PSF_EHEADER,		/* a PSF2 header size < 32 or past the end */
	PSF_EFLAGS,		/* mode or flag bits that mean nothing */
	PSF_ESIZE,		/* width, height or bytes a glyph wrong */
	PSF_ECOUNT,		/* no glyphs, or too many */
	PSF_EGLYPHS,		/* the glyphs run past the end */
	PSF_ETABLE,		/* the table ends inside an entry, or an
				   entry has an empty sequence */
	PSF_EUTF8,		/* malformed UTF-8 in a PSF2 table */
	PSF_ECODE,		/* not a Unicode scalar value */
	PSF_ETRAILING,		/* bytes after the last glyph or entry */
};

struct psf {
	uint32_t version;	/* 1 or 2 */
	uint32_t width, height;	/* pixels */
	uint32_t pitch;		/* bytes a glyph row: (width + 7) / 8 */
	uint32_t glyph_bytes;	/* height * pitch */
	uint32_t nglyphs;
	const uint8_t *glyphs;	/* nglyphs * glyph_bytes */
	const uint8_t *table;	/* the Unicode table; NULL without one */
	size_t table_len;
	size_t bad_at;		/* after an error: its offset in the file */
};

/* A code point and the glyph that draws it. */
struct psf_pair {
	uint32_t cp;
	uint32_t glyph;
};

/* Check buf as a whole font file and describe it in *f: PSF_OK, or the
 * first thing wrong (f->bad_at says where). */
int psf_parse(struct psf *f, const void *buf, size_t len);
const char *psf_error(int err);

/* Every single code point the table gives a glyph, in table order, to
 * fn; stops at, and returns, fn's first nonzero result.  Only for a font
 * psf_parse accepted. */
int psf_each(const struct psf *f,
    int (*fn)(void *ctx, uint32_t glyph, uint32_t cp), void *ctx);

/* The table as pairs sorted by code point, one per code point (the first
 * glyph the table names for it), into out (max entries).  Returns how
 * many were written; or, when the table names more than max pairs, how
 * many it names (nothing sorted: call again with that room).  *dups
 * counts the code points named again after the first time. */
size_t psf_map(const struct psf *f, struct psf_pair *out, size_t max,
    size_t *dups);

#endif
