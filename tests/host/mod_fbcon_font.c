/*
 * mod_fbcon_font.c - fbcon's console font: the table tools/mkfont made
 * from the Debian PSF font (build/gen/font_console.c) checked against
 * that font file read again through tools/psf.c, its coverage (accented
 * letters, box drawing, arrows), the box for what it lacks, and the
 * renderer drawing a cell's code point with exactly the font's pixels at
 * scales 1 and 2 on a display in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define palette_xterm256 fbcon_palette_xterm256

#include "../../abi/rt/font.c"
#include "font_console.c"		/* build/gen: tools/mkfont's */
#include "../../tools/psf.c"
#include "../../mods/fbcon/ansi.c"
#include "../../mods/fbcon/grid.c"
#include "../../mods/fbcon/reflow.c"
#include "../../mods/fbcon/palette.c"
#include "../../mods/fbcon/term.c"
#include "../../mods/fbcon/render.c"

#define F (&font_console)

static int
is_box(uint32_t cp)
{
	return font_index(F, cp) == font_box(F);
}

static int
pixel(const uint8_t *bits, uint32_t x, uint32_t y)
{
	return (bits[y * F->pitch + x / 8] >> (7 - x % 8)) & 1;
}

TEST(font_console_is_well_formed)
{
	CHECK(F->w > 0 && F->h > 0);
	CHECK_EQ_INT(F->pitch, (F->w + 7) / 8);
	CHECK(F->nglyphs > 256);
	for (uint32_t i = 0; i < F->nmap; i++) {
		CHECK_MSG(F->map_cp[i] >= 0x80 && F->map_cp[i] <= 0x10ffff,
		    "entry %u is U+%04X", i, F->map_cp[i]);
		CHECK_MSG(i == 0 || F->map_cp[i - 1] < F->map_cp[i],
		    "entry %u out of order", i);
		CHECK(F->map_glyph[i] < font_box(F));
	}
	for (uint32_t cp = 0; cp < 0x80; cp++)
		CHECK(F->ascii[cp] <= font_box(F));
	for (uint32_t cp = 0x20; cp <= 0x7e; cp++)
		CHECK_MSG(!is_box(cp), "'%c' has no glyph", (int)cp);
}

TEST(font_console_covers_accents_box_drawing_arrows)
{
	uint32_t n = 0;

	for (uint32_t cp = 0xa0; cp <= 0xff; cp++)	/* Latin-1 */
		CHECK_MSG(!is_box(cp), "U+%04X has no glyph", cp);
	for (uint32_t cp = 0x2500; cp <= 0x257f; cp++)	/* box drawing */
		CHECK_MSG(!is_box(cp), "U+%04X has no glyph", cp);
	for (uint32_t cp = 0x2190; cp <= 0x2193; cp++)	/* arrows */
		CHECK_MSG(!is_box(cp), "U+%04X has no glyph", cp);
	for (uint32_t cp = 0x100; cp <= 0x17f; cp++)	/* Latin Ext-A */
		n += !is_box(cp);
	CHECK_MSG(n >= 100, "only %u of Latin Extended-A", n);
	/* distinct glyphs where they must differ */
	CHECK(font_index(F, 0xe9) != font_index(F, 'e'));
	CHECK(font_index(F, 0x2500) != font_index(F, '-'));
	CHECK(font_index(F, 0x2192) != font_index(F, 0x2190));
}

TEST(font_box_for_what_it_lacks)
{
	CHECK(is_box(0x2605));		/* BLACK STAR */
	CHECK(is_box(0x1f600));		/* beyond the BMP */
	CHECK(is_box(0x10ffff));
	CHECK(is_box(ANSI_BAD_CHAR));	/* bad UTF-8 is the box too */
	CHECK(is_box(0x7f) && is_box(0x1b));
}

TEST(font_box_is_closed)
{
	const uint8_t *b = font_bits(F, font_box(F));
	uint32_t top = F->h, bottom = 0, right = 0;

	for (uint32_t y = 0; y < F->h; y++)
		for (uint32_t x = 0; x < F->w; x++)
			if (pixel(b, x, y)) {
				top = y < top ? y : top;
				bottom = y > bottom ? y : bottom;
				right = x > right ? x : right;
			}
	REQUIRE(top < bottom && bottom - top > 4 && right > 2);
	for (uint32_t x = 0; x <= right; x++)
		CHECK(pixel(b, x, top) && pixel(b, x, bottom));
	for (uint32_t y = top; y <= bottom; y++)
		CHECK(pixel(b, 0, y) && pixel(b, right, y) &&
		    (y == top || y == bottom || !pixel(b, right / 2, y)));
	CHECK_MSG(right < F->w - 1, "boxes side by side would touch");
}

/* Every code point of the PSF file: the table gives it the file's glyph. */
static int
same_as_file(void *ctx, uint32_t glyph, uint32_t cp)
{
	const struct psf *f = ctx;
	const uint8_t *want = f->glyphs + (size_t)glyph * f->glyph_bytes;

	if (cp == ANSI_BAD_CHAR)
		return 0;		/* left out on purpose: the box */
	return memcmp(font_bits(F, font_index(F, cp)), want,
	    f->glyph_bytes) != 0;
}

TEST(font_console_is_the_psf_file)
{
	FILE *fp = fopen(PB_GEN_DIR "/font.psf", "rb");
	static uint8_t buf[1 << 20];
	struct psf f;
	size_t len, n;

	REQUIRE(fp != NULL);
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	REQUIRE(psf_parse(&f, buf, len) == PSF_OK);
	CHECK_EQ_INT(f.width, F->w);
	CHECK_EQ_INT(f.height, F->h);
	CHECK_EQ_INT(psf_each(&f, same_as_file, &f), 0);
	/* every code point but U+FFFD kept */
	n = psf_map(&f, NULL, 0, NULL);
	{
		struct psf_pair *p = malloc(n * sizeof(*p));
		size_t ascii = 0, kept;

		REQUIRE(p != NULL);
		kept = psf_map(&f, p, n, NULL);
		for (size_t i = 0; i < kept; i++)
			ascii += p[i].cp < 0x80;
		for (size_t i = 0; i < kept; i++)
			if (p[i].cp == ANSI_BAD_CHAR)
				kept--;
		CHECK_EQ_INT(F->nmap, kept - ascii);
		free(p);
	}
}

/* --- the renderer, on a display in memory ------------------------------ */

#define DW 160
#define DH 64

static uint32_t screen[DW * DH];

static int
d_fill(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	for (uint32_t j = y; j < y + h && j < DH; j++)
		for (uint32_t i = x; i < x + w && i < DW; i++)
			screen[j * DW + i] = rgb;
	return PB_OK;
}

static int
d_blit(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	if (x + w > DW || y + h > DH)
		return PB_EINVAL;
	for (uint32_t j = 0; j < h; j++)
		memcpy(screen + (y + j) * DW + x, px + (size_t)j * pitch,
		    w * sizeof(uint32_t));
	return PB_OK;
}

static int
d_copy(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	return PB_EINVAL;	/* nothing here scrolls */
}

static const struct display_ops d_ops = {
	.fill = d_fill, .blit = d_blit, .copy = d_copy,
};

/* Does cell (col, row) at scale s show code point cp's glyph? */
static int
cell_is(uint32_t col, uint32_t row, uint32_t s, uint32_t cp)
{
	const uint8_t *bits = font_bits(F, font_index(F, cp));
	uint32_t fg = palette[GRID_FG], bg = palette[GRID_BG];

	for (uint32_t y = 0; y < F->h * s; y++)
		for (uint32_t x = 0; x < F->w * s; x++) {
			uint32_t p = screen[(row * F->h * s + y) * DW +
			    col * F->w * s + x];

			if (p != (pixel(bits, x / s, y / s) ? fg : bg))
				return 0;
		}
	return 1;
}

static void
draw(uint32_t scale, const char *text)
{
	struct pb_conn disp = { &d_ops, NULL, NULL, "display:mem" };
	struct render r;
	struct term t;
	void *rm = calloc(1, render_bytes(DW, DH, scale));
	void *gm;
	uint32_t cols, rows;

	render_init_tables();
	render_fit(DW, DH, scale, &cols, &rows);
	gm = calloc(1, grid_bytes(cols, rows));
	grid_init(&t.g, gm, cols, rows);
	term_init(&t);
	term_write(&t, text, strlen(text));
	render_setup(&r, rm, DW, DH, scale);
	memset(screen, 0x5a, sizeof(screen));
	CHECK_EQ_INT(render_frame(&r, &disp, &t.g, 0), PB_OK);
	free(gm);
	free(rm);
}

TEST(render_draws_the_font_glyph_of_each_code_point)
{
	/* é ─ → ★, then a byte that is no UTF-8 */
	draw(1, "\xc3\xa9\xe2\x94\x80\xe2\x86\x92\xe2\x98\x85\xff" "A");
	CHECK(cell_is(0, 0, 1, 0xe9));
	CHECK(cell_is(1, 0, 1, 0x2500));
	CHECK(cell_is(2, 0, 1, 0x2192));
	CHECK(cell_is(3, 0, 1, 0x2605) && is_box(0x2605));
	CHECK(cell_is(4, 0, 1, ANSI_BAD_CHAR));
	CHECK(cell_is(5, 0, 1, 'A'));
	CHECK(cell_is(6, 0, 1, ' '));
	CHECK(!cell_is(0, 0, 1, 'e'));	/* it can tell them apart */
}

TEST(render_scales_the_font)
{
	draw(2, "\xc3\xa9\xe2\x94\x82\xe2\x98\x85");	/* é │ ★ */
	CHECK(cell_is(0, 0, 2, 0xe9));
	CHECK(cell_is(1, 0, 2, 0x2502));
	CHECK(cell_is(2, 0, 2, 0x2605));
	CHECK(!cell_is(1, 0, 2, 0x2500));
}
