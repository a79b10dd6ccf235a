/*
 * lineedit.h - the shell's line editor: keys in, the line and the exact
 * bytes to echo out.
 *
 * Pure C with no hub calls, so the host tests include lineedit.c as is.
 * The echo uses only printable characters, spaces and the ANSI cursor
 * moves CSI n C / CSI n D, which every console (serial terminals, fbcon)
 * understands; the line is assumed to fit the console's width.
 *
 * Keys are the keyboard interface's codes (abi/keyboard.h): a character,
 * or KEY_UP and the like.  Raw control characters (0x03 for Ctrl-C, 0x7f
 * for backspace) and ANSI escape sequences (ESC [ A ...) are understood
 * too, because a serial line delivers keys that way.
 */
#ifndef PB_SHELL_LINEEDIT_H
#define PB_SHELL_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#define LE_LINE_MAX 256		/* bytes with the NUL: 255 bytes of UTF-8 */
#define LE_HISTORY 32		/* lines remembered */
/* The longest echo of one key: a recalled line replacing another. */
#define LE_ECHO_MAX (2 * LE_LINE_MAX + 32)

/* What a key did. */
enum le_status {
	LE_EDITING = 0,		/* the line goes on */
	LE_ENTER = 1,		/* a line is complete: see le->entered */
	LE_CANCEL = 2,		/* Ctrl-C: the line was dropped */
};

/* The bytes to echo for one key, NUL-terminated. */
struct le_echo {
	char buf[LE_ECHO_MAX];
	size_t len;
};

struct lineedit {
	char line[LE_LINE_MAX];		/* being edited */
	size_t len, cur;		/* length, cursor (0..len) */
	char entered[LE_LINE_MAX];	/* the last line completed */
	char hist[LE_HISTORY][LE_LINE_MAX];	/* a ring, oldest at hfirst */
	unsigned nhist, hfirst;
	unsigned hsel;			/* 0: the draft; k: k-th newest */
	char draft[LE_LINE_MAX];	/* the typed line, while browsing */
	int esc;			/* escape sequence decoder state */
	unsigned escnum;		/* its first numeric parameter */
	int after_cr;			/* an LF right after CR is no new key */
};

void le_init(struct lineedit *le);
/* Feed one key (code, KEYMOD_* mods); e receives the echo. */
int le_key(struct lineedit *le, uint32_t code, uint16_t mods,
    struct le_echo *e);
/* The echo that shows the current line again after a fresh prompt. */
void le_redraw(const struct lineedit *le, struct le_echo *e);
/* The i-th newest history line (0 = newest), or NULL. */
const char *le_history(const struct lineedit *le, unsigned i);

#endif
