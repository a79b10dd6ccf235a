/*
 * mod_fbcon_font.c - fbcon's 8x16 font (abi/rt/font.c) read as the text it
 * is written in: every row 8 characters of '#' and '.', the metrics its
 * header promises, and no two characters drawn alike.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"

/* Keep each row's string instead of turning it into bits, under a name
 * of its own in the host-test binary. */
#define font_8x16 fbcon_font_text
#define FONT_ROW(s) s
#define FONT_ROW_T char *	/* font.c adds the const */
#include "../../abi/rt/font.c"

static const char *
name(unsigned g)
{
	static char buf[16];

	if (g == FONT_BOX)
		return "the box";
	buf[0] = '\'', buf[1] = (char)(FONT_FIRST + g), buf[2] = '\'';
	buf[3] = '\0';
	return buf;
}

/* Is pixel column x of row y of glyph g on? */
static int
on(unsigned g, unsigned y, unsigned x)
{
	return font_8x16[g][y][x] == '#';
}

static int
row_on(unsigned g, unsigned y)
{
	for (unsigned x = 0; x < FONT_W; x++)
		if (on(g, y, x))
			return 1;
	return 0;
}

/* First and last rows with a pixel; -1 for an empty glyph. */
static int
top(unsigned g)
{
	for (unsigned y = 0; y < FONT_H; y++)
		if (row_on(g, y))
			return (int)y;
	return -1;
}

static int
bottom(unsigned g)
{
	for (unsigned y = FONT_H; y-- > 0; )
		if (row_on(g, y))
			return (int)y;
	return -1;
}

static unsigned
glyph_of(char c)
{
	return (unsigned)(c - FONT_FIRST);
}

TEST(font_rows_are_8_pixels)
{
	for (unsigned g = 0; g < FONT_NGLYPHS; g++)
		for (unsigned y = 0; y < FONT_H; y++) {
			const char *r = font_8x16[g][y];

			CHECK_MSG(strlen(r) == FONT_W &&
			    strspn(r, "#.") == FONT_W, "%s row %u is \"%s\"",
			    name(g), y, r);
		}
}

/* Rows 0 and 15 and column 7 are the gaps between cells; only '_'
 * reaches into column 7, so that a run of them joins up. */
TEST(font_keeps_the_gaps)
{
	for (unsigned g = 0; g < FONT_NGLYPHS; g++) {
		CHECK_MSG(!row_on(g, 0) && !row_on(g, FONT_H - 1),
		    "%s touches the top or bottom row", name(g));
		if (g == glyph_of('_'))
			continue;
		for (unsigned y = 0; y < FONT_H; y++)
			CHECK_MSG(!on(g, y, FONT_W - 1), "%s uses column 7 "
			    "in row %u", name(g), y);
	}
}

TEST(font_glyphs_differ)
{
	CHECK_EQ_INT(top(glyph_of(' ')), -1);
	for (unsigned a = 0; a < FONT_NGLYPHS; a++) {
		if (a != glyph_of(' '))
			CHECK_MSG(top(a) >= 0, "%s is empty", name(a));
		for (unsigned b = a + 1; b < FONT_NGLYPHS; b++) {
			int same = 1;

			for (unsigned y = 0; y < FONT_H && same; y++)
				same = strcmp(font_8x16[a][y],
				    font_8x16[b][y]) == 0;
			CHECK_MSG(!same, "%s and %s look alike", name(a),
			    name(b));
		}
	}
}

/* Capitals and digits from row 2 to row 11 (Q's tail goes below). */
TEST(font_capitals_and_digits_line_up)
{
	static const char caps[] = "ABCDEFGHIJKLMNOPRSTUVWXYZ0123456789";

	for (const char *c = caps; *c; c++) {
		unsigned g = glyph_of(*c);

		CHECK_MSG(top(g) == 2 && bottom(g) == 11, "'%c' spans rows "
		    "%d-%d", *c, top(g), bottom(g));
	}
	CHECK_EQ_INT(top(glyph_of('Q')), 2);
}

/* Lowercase: x-height from row 5, ascenders from row 2, descenders to
 * row 14, and the baseline under row 11. */
TEST(font_lowercase_metrics)
{
	static const char x_height[] = "acemnorsuvwxz";
	static const char ascenders[] = "bdhkl";
	static const char descenders[] = "gjpqy";

	for (const char *c = x_height; *c; c++)
		CHECK_MSG(top(glyph_of(*c)) == 5 && bottom(glyph_of(*c)) == 11,
		    "'%c' spans rows %d-%d", *c, top(glyph_of(*c)),
		    bottom(glyph_of(*c)));
	for (const char *c = ascenders; *c; c++)
		CHECK_MSG(top(glyph_of(*c)) == 2 && bottom(glyph_of(*c)) == 11,
		    "'%c' spans rows %d-%d", *c, top(glyph_of(*c)),
		    bottom(glyph_of(*c)));
	for (const char *c = descenders; *c; c++)
		CHECK_MSG(bottom(glyph_of(*c)) == 14, "'%c' ends on row %d",
		    *c, bottom(glyph_of(*c)));
}

/* The box is a closed outline, so an unknown character is plain to see. */
TEST(font_box_is_closed)
{
	unsigned t = (unsigned)top(FONT_BOX), b = (unsigned)bottom(FONT_BOX);

	REQUIRE(top(FONT_BOX) >= 0 && b > t + 4);
	CHECK_STR(font_8x16[FONT_BOX][t], font_8x16[FONT_BOX][b]);
	for (unsigned y = t + 1; y < b; y++)
		CHECK_MSG(on(FONT_BOX, y, 0) && on(FONT_BOX, y, 6) &&
		    !on(FONT_BOX, y, 3), "box row %u is \"%s\"", y,
		    font_8x16[FONT_BOX][y]);
}
