/*
 * mkfont - a PSF console font (gunzipped) to the C source of a struct
 * font (abi/rt/font.h), at build time:
 *
 *	mkfont console|ascii FONT.psf FONT_H_PATH > font_NAME.c
 *
 * `console` keeps every code point the font's Unicode table maps (for
 * fbcon); `ascii` keeps printable ASCII only (for the hub's own screen
 * text, which has no room to spare).  Glyphs that no kept code point uses
 * are left out, the rest keep their order, and a box is added last for
 * everything else.  U+FFFD is left out on purpose: it is what a malformed
 * UTF-8 sequence becomes, and those show the box.  The font must map all
 * of printable ASCII, or the build stops with the first one it lacks.
 *
 * The file is checked by tools/psf.c before anything in it is used; an
 * error names the file, the offset and what is wrong, and the exit
 * status is 1.  The output names the font, its size and its coverage in
 * its first comment.  Debian's fonts are third-party data: the output
 * goes to build/ and is never committed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psf.h"
#include "slurp.h"

#define REPLACEMENT 0xfffd

struct out_font {
	const struct psf *f;
	struct psf_pair *map;	/* kept code points, ascending */
	size_t nmap;
	uint32_t *renum;	/* font glyph -> output glyph, or UINT32_MAX */
	uint32_t nglyphs;	/* kept glyphs, without the box */
	uint16_t ascii[128];
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mkfont: error: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int
kept(int ascii_only, uint32_t cp)
{
	if (ascii_only)
		return cp >= 0x20 && cp <= 0x7e;
	return cp != REPLACEMENT;
}

/* The kept code points, and the glyphs they use renumbered in order. */
static void
select_glyphs(struct out_font *o, struct psf_pair *all, size_t n,
    int ascii_only)
{
	o->map = all;
	o->nmap = 0;
	for (size_t i = 0; i < n; i++)
		if (kept(ascii_only, all[i].cp))
			all[o->nmap++] = all[i];
	if (!(o->renum = malloc(o->f->nglyphs * sizeof(*o->renum))))
		die("out of memory");
	for (uint32_t g = 0; g < o->f->nglyphs; g++)
		o->renum[g] = UINT32_MAX;
	for (size_t i = 0; i < o->nmap; i++)
		o->renum[o->map[i].glyph] = 0;
	o->nglyphs = 0;
	for (uint32_t g = 0; g < o->f->nglyphs; g++)
		if (o->renum[g] != UINT32_MAX)
			o->renum[g] = o->nglyphs++;
}

static void
fill_ascii(struct out_font *o, const char *path)
{
	for (uint32_t cp = 0; cp < 128; cp++)
		o->ascii[cp] = (uint16_t)o->nglyphs;	/* the box */
	for (size_t i = 0; i < o->nmap && o->map[i].cp < 128; i++)
		o->ascii[o->map[i].cp] = (uint16_t)o->renum[o->map[i].glyph];
	for (uint32_t cp = 0x20; cp <= 0x7e; cp++)
		if (o->ascii[cp] == o->nglyphs)
			die("%s has no glyph for '%c': not a console font",
			    path, (int)cp);
}

static void
put_rows(const struct psf *f, const uint8_t *rows, const char *what)
{
	printf("\t/* %s */", what);
	for (uint32_t i = 0; i < f->glyph_bytes; i++)
		printf("%s0x%02x,", i % 12 ? " " : "\n\t", rows[i]);
	printf("\n");
}

/* The box: an outline from the cap height to the baseline, a column
 * short of the cell's width so that boxes side by side stay apart. */
static void
put_box(const struct psf *f)
{
	uint8_t rows[PSF_MAX_H * ((PSF_MAX_W + 7) / 8)];
	uint32_t top = f->height / 8, bottom = f->height - f->height / 4 - 1;
	uint32_t right = f->width > 2 ? f->width - 2 : f->width - 1;

	memset(rows, 0, f->glyph_bytes);
	for (uint32_t y = top; y <= bottom; y++)
		for (uint32_t x = 0; x <= right; x++)
			if (y == top || y == bottom || x == 0 || x == right)
				rows[y * f->pitch + x / 8] |=
				    (uint8_t)(0x80 >> (x % 8));
	put_rows(f, rows, "the box");
}

static void
put_glyphs(const struct out_font *o)
{
	const struct psf *f = o->f;
	uint32_t *first = malloc(f->nglyphs * sizeof(*first));

	if (!first)
		die("out of memory");
	for (uint32_t g = 0; g < f->nglyphs; g++)
		first[g] = UINT32_MAX;
	for (size_t i = o->nmap; i-- > 0; )	/* the lowest code point */
		first[o->map[i].glyph] = o->map[i].cp;
	printf("static const uint8_t glyphs[] = {\n");
	for (uint32_t g = 0; g < f->nglyphs; g++) {
		char what[32];

		if (o->renum[g] == UINT32_MAX)
			continue;
		snprintf(what, sizeof(what), "%u: U+%04X", o->renum[g],
		    first[g]);
		put_rows(f, f->glyphs + (size_t)g * f->glyph_bytes, what);
	}
	put_box(f);
	printf("};\n\n");
	free(first);
}

static void
put_tables(const struct out_font *o)
{
	size_t first = 0;

	printf("static const uint16_t ascii[128] = {");
	for (uint32_t cp = 0; cp < 128; cp++)
		printf("%s%u,", cp % 12 ? " " : "\n\t", o->ascii[cp]);
	printf("\n};\n\n");
	while (first < o->nmap && o->map[first].cp < 128)
		first++;
	if (first == o->nmap)
		return;
	printf("static const uint32_t map_cp[] = {");
	for (size_t i = first; i < o->nmap; i++)
		printf("%s0x%04x,", (i - first) % 8 ? " " : "\n\t",
		    o->map[i].cp);
	printf("\n};\n\nstatic const uint16_t map_glyph[] = {");
	for (size_t i = first; i < o->nmap; i++)
		printf("%s%u,", (i - first) % 12 ? " " : "\n\t",
		    o->renum[o->map[i].glyph]);
	printf("\n};\n\n");
}

static void
put_font(const struct out_font *o, const char *name, const char *path,
    const char *include)
{
	const struct psf *f = o->f;
	size_t nbig = 0;

	for (size_t i = 0; i < o->nmap; i++)
		nbig += o->map[i].cp >= 128;
	printf("/*\n * Generated by tools/mkfont from %s: do not edit, never "
	    "commit.\n * font_%s: %ux%u, %u glyphs and the box, %zu code "
	    "points.\n */\n#include \"%s\"\n\n", path, name, f->width,
	    f->height, o->nglyphs, o->nmap, include);
	put_glyphs(o);
	put_tables(o);
	printf("const struct font font_%s = {\n\t.w = %u, .h = %u, "
	    ".pitch = %u,\n\t.nglyphs = %u, .nmap = %zu,\n\t.glyphs = glyphs,"
	    "\n\t.ascii = ascii,\n", name, f->width, f->height, f->pitch,
	    o->nglyphs + 1, nbig);
	if (nbig)
		printf("\t.map_cp = map_cp,\n\t.map_glyph = map_glyph,\n");
	printf("};\n");
}

int
main(int argc, char **argv)
{
	struct psf f;
	struct out_font o = { .f = &f };
	struct psf_pair *pairs;
	unsigned char *buf;
	size_t len, n, dups;
	int err, ascii_only;

	if (argc != 4 || (strcmp(argv[1], "console") != 0 &&
	    strcmp(argv[1], "ascii") != 0)) {
		fprintf(stderr, "usage: mkfont console|ascii FONT.psf "
		    "FONT_H_PATH > font_NAME.c\n");
		return 2;
	}
	ascii_only = strcmp(argv[1], "ascii") == 0;
	if (!(buf = slurp(argv[2], &len)))
		die("%s: %s", argv[2], strerror(errno));
	if ((err = psf_parse(&f, buf, len)) != PSF_OK)
		die("%s: offset %zu: %s", argv[2], f.bad_at, psf_error(err));
	if (!f.table)
		die("%s: no Unicode table: code points cannot be mapped to "
		    "its glyphs", argv[2]);
	n = psf_map(&f, NULL, 0, NULL);
	if (!(pairs = malloc((n ? n : 1) * sizeof(*pairs))))
		die("out of memory");
	n = psf_map(&f, pairs, n, &dups);
	select_glyphs(&o, pairs, n, ascii_only);
	fill_ascii(&o, argv[2]);
	put_font(&o, argv[1], argv[2], argv[3]);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	free(o.renum);
	free(pairs);
	free(buf);
	return 0;
}
