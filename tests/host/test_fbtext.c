/*
 * test_fbtext.c - the hub's own screen text (hub/fbtext.c) on a
 * framebuffer in memory: glyphs where the cursor is, in the screen's
 * pixel format, lines that wrap to the top blanking the row they reach,
 * and nothing written outside the visible part of a scan line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../hub/fbtext.h"
#include "../../abi/rt/font.h"

#define W 200			/* 25 cells */
#define H 96			/* 6 rows */
#define STRIDE 208		/* 8 pixels of padding per scan line */
#define PAD 0xa5a5a5a5u

static uint32_t fbmem[STRIDE * H];

static struct fb_info
info(uint32_t format)
{
	return (struct fb_info){ .base = 0, .size = sizeof(fbmem),
	    .width = W, .height = H, .stride = STRIDE, .format = format };
}

static void
fill(uint32_t v)
{
	for (size_t i = 0; i < STRIDE * H; i++)
		fbmem[i] = v;
}

#define FW font_ascii.w		/* the generated font's cell */
#define FH font_ascii.h

/* Does cell (col, row) show glyph number g in fg on bg? */
static int
cell_shows_glyph(uint32_t col, uint32_t row, uint32_t g, uint32_t fg,
    uint32_t bg)
{
	const uint8_t *bits = font_bits(&font_ascii, g);

	for (uint32_t y = 0; y < FH; y++)
		for (uint32_t x = 0; x < FW; x++) {
			uint32_t p = fbmem[(row * FH + y) * STRIDE +
			    col * FW + x];
			int on = bits[y * font_ascii.pitch + x / 8] &
			    (0x80 >> x % 8);

			if (p != (on ? fg : bg))
				return 0;
		}
	return 1;
}

/* Does cell (col, row) show character c in fg on bg? */
static int
cell_shows(uint32_t col, uint32_t row, char c, uint32_t fg, uint32_t bg)
{
	return cell_shows_glyph(col, row, font_ascii.ascii[(unsigned char)c],
	    fg, bg);
}

static int
padding_intact(void)
{
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = W; x < STRIDE; x++)
			if (fbmem[y * STRIDE + x] != PAD)
				return 0;
	return 1;
}

TEST(fbtext_draws_glyphs_in_the_screen_format)
{
	struct fb_info fb = info(FB_BGRX);
	struct fbtext t;

	fill(PAD);
	REQUIRE(fbtext_init(&t, &fb, fbmem));
	CHECK_EQ_INT(t.cols, W / FW);
	CHECK_EQ_INT(t.rows, H / FH);
	fbtext_colors(&t, 0x112233, 0x445566);
	fbtext_home(&t);
	fbtext_write(&t, "Hi!\nok", 6);
	/* BGRX: byte 0 blue, so a pixel reads as 0x00RRGGBB. */
	CHECK(cell_shows(0, 0, 'H', 0x112233, 0x445566));
	CHECK(cell_shows(2, 0, '!', 0x112233, 0x445566));
	/* The rest of a finished line is blanked to the right edge. */
	CHECK(cell_shows(3, 0, ' ', 0x112233, 0x445566));
	CHECK(cell_shows(t.cols - 1, 0, ' ', 0x112233, 0x445566));
	CHECK(cell_shows(1, 1, 'k', 0x112233, 0x445566));
	CHECK(padding_intact());
	/* RGBX: byte 0 red. */
	fb = info(FB_RGBX);
	REQUIRE(fbtext_init(&t, &fb, fbmem));
	fbtext_colors(&t, 0x112233, 0x000000);
	fbtext_home(&t);
	fbtext_write(&t, "A", 1);
	CHECK(cell_shows(0, 0, 'A', 0x332211, 0));
}

TEST(fbtext_bitmask_format)
{
	struct fb_info fb = info(FB_BITMASK);
	struct fbtext t;

	/* 5-6-5 in the low 16 bits, as some firmware reports. */
	fb.mask_r = 0xf800, fb.mask_g = 0x07e0, fb.mask_b = 0x001f;
	fill(PAD);
	REQUIRE(fbtext_init(&t, &fb, fbmem));
	fbtext_colors(&t, 0xffffff, 0x000000);
	CHECK_EQ_INT(t.fg, 0xffff);
	fbtext_colors(&t, 0x800000, 0x000000);
	CHECK_EQ_INT(t.fg, 0x8000);
	/* No pixels to write: refused. */
	fb.format = 3;
	CHECK(!fbtext_init(&t, &fb, fbmem));
	fb = info(FB_BGRX);
	CHECK(!fbtext_init(&t, &fb, NULL));
}

TEST(fbtext_wraps_and_blanks_the_row_it_reaches)
{
	struct fb_info fb = info(FB_BGRX);
	struct fbtext t;
	char line[64];

	fill(PAD);
	REQUIRE(fbtext_init(&t, &fb, fbmem));
	fbtext_colors(&t, 0xffffff, 0);
	fbtext_home(&t);
	/* Seven lines on six rows: the seventh is on row 0 again, row 1
	 * (the next to be written) is blank, row 2 keeps line 3. */
	for (int i = 1; i <= 7; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		fbtext_write(&t, line, (size_t)n);
	}
	CHECK(cell_shows(5, 0, '7', 0xffffff, 0));
	CHECK(cell_shows(5, 1, ' ', 0xffffff, 0));
	CHECK(cell_shows(0, 1, ' ', 0xffffff, 0));
	CHECK(cell_shows(5, 2, '3', 0xffffff, 0));
	/* A line longer than the screen goes on below. */
	fbtext_home(&t);
	memset(line, 'x', t.cols + 5);
	fbtext_write(&t, line, t.cols + 5);
	CHECK(cell_shows(t.cols - 1, 0, 'x', 0xffffff, 0));
	CHECK(cell_shows(4, 1, 'x', 0xffffff, 0));
	CHECK(cell_shows(5, 1, ' ', 0xffffff, 0));
	CHECK(padding_intact());
}

TEST(fbtext_scales_for_tall_screens)
{
	static uint32_t big[1280 * 1440];
	struct fb_info fb = { .width = 1280, .height = 1440, .stride = 1280,
	    .format = FB_BGRX };
	struct fbtext t;

	REQUIRE(fbtext_init(&t, &fb, big));
	CHECK_EQ_INT(t.scale, 2);
	CHECK_EQ_INT(t.cols, 1280 / (2 * FW));
	CHECK_EQ_INT(t.rows, 1440 / (2 * FH));
}

TEST(fbtext_other_characters_are_one_box)
{
	struct fb_info fb = info(FB_BGRX);
	struct fbtext t;

	fill(PAD);
	REQUIRE(fbtext_init(&t, &fb, fbmem));
	fbtext_colors(&t, 0xffffff, 0);
	fbtext_home(&t);
	/* U+00E9 in UTF-8: its continuation byte takes no cell */
	fbtext_write(&t, "a\xc3\xa9" "b", 4);
	CHECK(cell_shows(0, 0, 'a', 0xffffff, 0));
	CHECK(cell_shows_glyph(1, 0, font_box(&font_ascii), 0xffffff, 0));
	CHECK(cell_shows(2, 0, 'b', 0xffffff, 0));
	/* the hub's font is printable ASCII and the box, nothing more */
	CHECK_EQ_INT(font_ascii.nglyphs, 0x7f - 0x20 + 1);
	CHECK_EQ_INT(font_ascii.nmap, 0);
}
