/*
 * lineedit.c - the shell's line editor (see lineedit.h).
 *
 * A key becomes an action (insert, move, delete, recall...), the action
 * changes the line, and the echo redraws what changed: from the first
 * changed column to the end of the line, blanks over what got shorter,
 * and a cursor move back to where the cursor belongs.
 *
 * The line is UTF-8 (RFC 3629): a character typed is the keyboard's code
 * point, encoded.  Positions (len, cur) are bytes and always sit on a
 * character's first byte; the screen counts one column per character
 * (what fbcon draws; wide and combining characters are not told apart).
 */
#include "lineedit.h"
#include "../../abi/keyboard.h"
#include "../../abi/rt/rt.h"

enum action {
	A_NONE, A_INSERT, A_ENTER, A_CANCEL, A_BACKSPACE, A_DELETE,
	A_LEFT, A_RIGHT, A_HOME, A_END, A_UP, A_DOWN, A_KILL_START,
	A_KILL_END,
};

/* Escape sequence decoder states: ESC, ESC [ params, ESC O. */
enum { ESC_NONE, ESC_START, ESC_CSI, ESC_CSI_MORE, ESC_SS3 };

/* --- the echo ---------------------------------------------------------- */

static void
put(struct le_echo *e, const char *s, size_t n)
{
	/* Never overflows: LE_ECHO_MAX covers the longest echo anyway. */
	if (n > sizeof(e->buf) - 1 - e->len)
		n = sizeof(e->buf) - 1 - e->len;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void
put_spaces(struct le_echo *e, size_t n)
{
	while (n-- > 0)
		put(e, " ", 1);
}

/* CSI n D (left) or CSI n C (right); the count is left out for one. */
static void
put_move(struct le_echo *e, size_t n, char dir)
{
	char s[16], digits[8];
	size_t k = 0, d = 0;

	if (n == 0)
		return;
	s[k++] = '\x1b';
	s[k++] = '[';
	if (n > 1) {
		for (; n && d < sizeof(digits); n /= 10)
			digits[d++] = (char)('0' + n % 10);
		while (d)
			s[k++] = digits[--d];
	}
	s[k++] = dir;
	put(e, s, k);
}

/* --- UTF-8 ------------------------------------------------------------ */

static int
is_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* Columns of line[0..n): one per character, not per byte. */
static size_t
columns(const char *line, size_t n)
{
	size_t cols = 0;

	for (size_t i = 0; i < n; i++)
		cols += !is_continuation(line[i]);
	return cols;
}

static size_t
char_before(const struct lineedit *le, size_t at)
{
	while (at > 0 && is_continuation(le->line[--at]))
		;
	return at;
}

static size_t
char_after(const struct lineedit *le, size_t at)
{
	while (at < le->len && is_continuation(le->line[++at]))
		;
	return at;
}

/*
 * The screen cursor is at the column of byte `from`: write the line from
 * there, blank the columns of the old line (old_cols wide) that are no
 * longer used, and bring the cursor back to le->cur.
 */
static void
refresh_tail(const struct lineedit *le, struct le_echo *e, size_t from,
    size_t old_cols)
{
	size_t end = columns(le->line, le->len);

	put(e, le->line + from, le->len - from);
	if (old_cols > end) {
		put_spaces(e, old_cols - end);
		end = old_cols;
	}
	put_move(e, end - columns(le->line, le->cur), 'D');
}

/* --- history ----------------------------------------------------------- */

const char *
le_history(const struct lineedit *le, unsigned i)
{
	if (i >= le->nhist)
		return NULL;
	return le->hist[(le->hfirst + le->nhist - 1 - i) % LE_HISTORY];
}

/* Remember a line: not an empty one, nor the newest one again. */
static void
history_add(struct lineedit *le, const char *s)
{
	const char *newest = le_history(le, 0);
	unsigned slot;

	if (!*s || (newest && strcmp(newest, s) == 0))
		return;
	if (le->nhist < LE_HISTORY) {
		slot = (le->hfirst + le->nhist++) % LE_HISTORY;
	} else {
		slot = le->hfirst;	/* the oldest makes room */
		le->hfirst = (le->hfirst + 1) % LE_HISTORY;
	}
	memcpy(le->hist[slot], s, strlen(s) + 1);
}

/* --- editing ----------------------------------------------------------- */

static void
clear_line(struct lineedit *le)
{
	le->len = le->cur = 0;
	le->line[0] = '\0';
	le->hsel = 0;
}

/* Replace the whole line (a history recall), cursor at its end. */
static void
set_line(struct lineedit *le, const char *s, struct le_echo *e)
{
	size_t old = columns(le->line, le->len);

	put_move(e, columns(le->line, le->cur), 'D');
	le->len = le->cur = strlen(s);
	memmove(le->line, s, le->len + 1);
	refresh_tail(le, e, 0, old);
}

static void
insert(struct lineedit *le, uint32_t cp, struct le_echo *e)
{
	size_t from = le->cur;
	char utf8[4];
	size_t n = rt_utf8_encode(cp, utf8);

	if (n == 0 || le->len + n >= LE_LINE_MAX)
		return;		/* full: the key is refused */
	memmove(le->line + le->cur + n, le->line + le->cur, le->len - le->cur);
	memcpy(le->line + le->cur, utf8, n);
	le->cur += n;
	le->len += n;
	le->line[le->len] = '\0';
	refresh_tail(le, e, from, 0);
}

/* Remove bytes [at, at+n); the screen cursor is at `at`. */
static void
remove_at(struct lineedit *le, size_t at, size_t n, struct le_echo *e)
{
	size_t old = columns(le->line, le->len);

	memmove(le->line + at, le->line + at + n, le->len - at - n + 1);
	le->len -= n;
	le->cur = at;
	refresh_tail(le, e, at, old);
}

static void
backspace(struct lineedit *le, struct le_echo *e)
{
	if (le->cur == 0)
		return;
	put_move(e, 1, 'D');
	remove_at(le, char_before(le, le->cur), le->cur -
	    char_before(le, le->cur), e);
}

static void
kill_start(struct lineedit *le, struct le_echo *e)
{
	if (le->cur == 0)
		return;
	put_move(e, columns(le->line, le->cur), 'D');
	remove_at(le, 0, le->cur, e);
}

static void
move_to(struct lineedit *le, size_t to, struct le_echo *e)
{
	if (to < le->cur)
		put_move(e, columns(le->line + to, le->cur - to), 'D');
	else
		put_move(e, columns(le->line + le->cur, to - le->cur), 'C');
	le->cur = to;
}

static void
history_up(struct lineedit *le, struct le_echo *e)
{
	if (le->hsel >= le->nhist)
		return;
	if (le->hsel == 0)	/* keep what was being typed */
		memcpy(le->draft, le->line, le->len + 1);
	set_line(le, le_history(le, le->hsel++), e);
}

static void
history_down(struct lineedit *le, struct le_echo *e)
{
	if (le->hsel == 0)
		return;
	le->hsel--;
	set_line(le, le->hsel ? le_history(le, le->hsel - 1) : le->draft, e);
}

/* --- keys to actions --------------------------------------------------- */

/* Control characters, as a serial terminal or Ctrl+letter sends them. */
static int
control_action(uint32_t c)
{
	switch (c) {
	case '\r': case '\n':	return A_ENTER;
	case 0x01:		return A_HOME;		/* Ctrl-A */
	case 0x02:		return A_LEFT;		/* Ctrl-B */
	case 0x03:		return A_CANCEL;	/* Ctrl-C */
	case 0x04:		return A_DELETE;	/* Ctrl-D */
	case 0x05:		return A_END;		/* Ctrl-E */
	case 0x06:		return A_RIGHT;		/* Ctrl-F */
	case 0x08: case 0x7f:	return A_BACKSPACE;	/* Ctrl-H, DEL */
	case 0x0b:		return A_KILL_END;	/* Ctrl-K */
	case 0x0e:		return A_DOWN;		/* Ctrl-N */
	case 0x10:		return A_UP;		/* Ctrl-P */
	case 0x15:		return A_KILL_START;	/* Ctrl-U */
	}
	return A_NONE;
}

static int
special_action(uint32_t c)
{
	switch (c) {
	case KEY_UP:		return A_UP;
	case KEY_DOWN:		return A_DOWN;
	case KEY_LEFT:		return A_LEFT;
	case KEY_RIGHT:		return A_RIGHT;
	case KEY_HOME:		return A_HOME;
	case KEY_END:		return A_END;
	case KEY_DELETE:	return A_DELETE;
	}
	return A_NONE;
}

/* The end of ESC [ n X (CSI) or ESC O X (SS3). */
static int
escape_action(uint32_t final, unsigned n)
{
	switch (final) {
	case 'A':	return A_UP;
	case 'B':	return A_DOWN;
	case 'C':	return A_RIGHT;
	case 'D':	return A_LEFT;
	case 'H':	return A_HOME;
	case 'F':	return A_END;
	case '~':	/* VT220 keys: 1/7 home, 3 delete, 4/8 end */
		return n == 1 || n == 7 ? A_HOME : n == 4 || n == 8 ? A_END :
		    n == 3 ? A_DELETE : A_NONE;
	}
	return A_NONE;
}

/*
 * One key while an escape sequence is open.  Returns 1 when the key was
 * part of it (*act set), 0 when it was not (the sequence is dropped and
 * the key counts on its own: a lone Esc must not eat the next key).
 */
static int
escape_feed(struct lineedit *le, uint32_t c, int *act)
{
	int state = le->esc;

	*act = A_NONE;
	le->esc = ESC_NONE;
	if (state == ESC_START && (c == '[' || c == 'O')) {
		le->esc = c == '[' ? ESC_CSI : ESC_SS3;
		le->escnum = 0;
		return 1;
	}
	if (state == ESC_SS3 && c >= 0x40 && c <= 0x7e) {
		*act = escape_action(c, 0);
		return 1;
	}
	if (state != ESC_CSI && state != ESC_CSI_MORE)
		return 0;
	if (c >= '0' && c <= '9') {
		if (state == ESC_CSI && le->escnum < 1000)
			le->escnum = le->escnum * 10 + (c - '0');
		le->esc = state;
		return 1;
	}
	if (c == ';' || (c >= 0x20 && c <= 0x2f)) {
		le->esc = ESC_CSI_MORE;	/* later parameters are ignored */
		return 1;
	}
	if (c >= 0x40 && c <= 0x7e) {
		*act = escape_action(c, le->escnum);
		return 1;
	}
	return 0;
}

static int
decode(struct lineedit *le, uint32_t *c, uint16_t mods)
{
	int act;

	if (le->esc != ESC_NONE && escape_feed(le, *c, &act))
		return act;
	if (*c == 0x1b || *c == KEY_ESC) {
		le->esc = ESC_START;
		return A_NONE;
	}
	if ((mods & KEYMOD_CTRL) && (*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')
		*c &= 0x1f;
	if (*c < 0x20 || *c == 0x7f)
		return control_action(*c);
	/* Printable characters, not C1 controls (0x80-0x9f). */
	if (*c < 0x7f || (*c >= 0xa0 && *c < KEY_UP))
		return A_INSERT;
	return special_action(*c);
}

/* --- the editor -------------------------------------------------------- */

void
le_init(struct lineedit *le)
{
	memset(le, 0, sizeof(*le));
}

static int
apply(struct lineedit *le, int act, uint32_t c, struct le_echo *e)
{
	switch (act) {
	case A_INSERT:		insert(le, c, e); break;
	case A_BACKSPACE:	backspace(le, e); break;
	case A_DELETE:
		if (le->cur < le->len)
			remove_at(le, le->cur, char_after(le, le->cur) - le->cur,
			    e);
		break;
	case A_LEFT:		move_to(le, char_before(le, le->cur), e); break;
	case A_RIGHT:		move_to(le, char_after(le, le->cur), e); break;
	case A_HOME:		move_to(le, 0, e); break;
	case A_END:		move_to(le, le->len, e); break;
	case A_UP:		history_up(le, e); break;
	case A_DOWN:		history_down(le, e); break;
	case A_KILL_START:	kill_start(le, e); break;
	case A_KILL_END:
		if (le->cur < le->len)
			remove_at(le, le->cur, le->len - le->cur, e);
		break;
	case A_ENTER:
		memcpy(le->entered, le->line, le->len + 1);
		history_add(le, le->entered);
		clear_line(le);
		return LE_ENTER;
	case A_CANCEL:
		put(e, "^C", 2);
		clear_line(le);
		return LE_CANCEL;
	}
	return LE_EDITING;
}

int
le_key(struct lineedit *le, uint32_t code, uint16_t mods, struct le_echo *e)
{
	int cr = code == '\r';

	e->len = 0;
	e->buf[0] = '\0';
	/* A terminal may end a line with CR LF: that is one Enter. */
	if (code == '\n' && le->after_cr) {
		le->after_cr = 0;
		return LE_EDITING;
	}
	le->after_cr = cr;
	return apply(le, decode(le, &code, mods), code, e);
}

void
le_redraw(const struct lineedit *le, struct le_echo *e)
{
	e->len = 0;
	e->buf[0] = '\0';
	put(e, le->line, le->len);
	put_move(e, columns(le->line + le->cur, le->len - le->cur), 'D');
}
