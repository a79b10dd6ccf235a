/*
 * ansi.h - what ConOut can show of a console's text.
 *
 * Console text is UTF-8 with ANSI escape sequences (abi/console.h), but
 * the firmware's ConOut only prints characters (and its BS erases, in
 * EDK2's GraphicsConsole).  This filter removes every escape sequence
 * (CSI, OSC and the other ECMA-48 strings, two-byte ESC codes); turns
 * "clear screen" (CSI 2 J, CSI 3 J, ESC c) into an action for the caller;
 * does what a line editor needs within the current row with characters
 * only, writing again what the row holds: CSI n C goes forward over it,
 * CSI n D returns (CR) and goes forward to the column, CSI K blanks to
 * the end and returns; expands tabs; drops other control characters; and keeps what the text meant for
 * a console that takes over: the SGR colours and, as far as this text
 * tells, the cursor.  Pure logic, fed in pieces of any size; tested on the
 * host (tests/host/test_serial.c).
 */
#ifndef EFICON_ANSI_H
#define EFICON_ANSI_H

#include <stddef.h>
#include <stdint.h>

#define ANSI_PARAMS 16
#define ANSI_ROW 512		/* columns of the current row remembered */
#define ANSI_FG 0xaaaaaa	/* EFI_LIGHTGRAY, ConOut's default */
#define ANSI_BG 0x000000	/* EFI_BLACK */

enum ansi_act { ANSI_NONE = 0, ANSI_CLEAR = 1 };

struct ansi {
	uint8_t state;		/* enum ansi_state (ansi.c) */
	uint8_t nparam;		/* parameters begun */
	uint8_t odd;		/* private marker or intermediate: ignored */
	uint16_t param[ANSI_PARAMS];
	uint32_t fg, bg;	/* 0x00RRGGBB, from SGR */
	uint32_t col, row;	/* the cursor, as this text moved it */
	uint32_t cols, rows;	/* the screen, for wrapping */
	uint32_t used;		/* columns of this row written to */
	/* Cursor work still to write out, in this order: */
	uint32_t blank;		/* spaces */
	uint8_t cr;		/* a CR */
	uint32_t goal;		/* the row again, up to this column */
	char line[ANSI_ROW];	/* what this row shows, ConOut's way */
};

void ansi_init(struct ansi *a, uint32_t cols, uint32_t rows);
/*
 * Filter s[0..len) into out (cap bytes, at least 16).  Returns how many
 * input bytes were taken; *outlen bytes of out are for ConOut, and *act
 * says what to do after writing them (it stops early after an action, or
 * when out is full).  Call again with the rest, and while ansi_pending().
 */
size_t ansi_filter(struct ansi *a, const char *s, size_t len, char *out,
    size_t cap, size_t *outlen, int *act);
/* Is cursor work (a CSI C, D or K) still to be written out? */
int ansi_pending(const struct ansi *a);

#endif
