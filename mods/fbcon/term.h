/*
 * term.h - what the escape sequences do to the grid: a small VT100/xterm
 * subset for a console.
 *
 *   BS HT CR; LF VT FF  (LF goes to the start of the next line, as a
 *                        console's clients expect of "\n")
 *   CSI n A B C D       cursor up, down, right, left (default 1)
 *   CSI n E F G d       next/previous line, column, row
 *   CSI r;c H, f        cursor to row r, column c (1-based, default 1)
 *   CSI n J             erase display: 0 below, 1 above, 2 all, 3 history
 *   CSI n K             erase line: 0 right, 1 left, 2 all
 *   CSI n @ P X         insert, delete, erase characters
 *   CSI ... m           SGR 0 1 7 22 27 30-37 38 39 40-47 48 49 90-97 100-107
 *   CSI s u, ESC 7 8    save and restore the cursor
 *   CSI ? 25 h/l        show/hide the cursor
 *   ESC D E M c         index, next line, reverse index (it stops at the
 *                       top row: no scrolling down), reset
 * Anything else is ignored.  Every other character is one cell holding
 * its code point (U+FFFD for malformed UTF-8), drawn with the font's glyph
 * or as a box.  Pure C (tests/host/mod_fbcon_ansi.c).
 */
#ifndef FBCON_TERM_H
#define FBCON_TERM_H

#include "ansi.h"
#include "grid.h"

struct term {
	struct grid g;
	struct ansi parser;
	uint32_t saved_x, saved_y;	/* ESC 7, CSI s */
	struct cell saved_pen;
	uint8_t cursor_on;		/* DECTCEM */
};

/* After grid_init (or grid_resize) of t->g. */
void term_init(struct term *t);
void term_write(struct term *t, const char *s, size_t n);
void term_reset(struct term *t);	/* ESC c: clear, home, default pen */

#endif
