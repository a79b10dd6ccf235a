/*
 * test_lineedit.c - the shell's line editor (mods/shell/lineedit.c), on the
 * host: what each key does to the line and the exact bytes it echoes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/lineedit.c"

#define CSI "\x1b["

/* The echoes of a run of keys, joined, and the status of the last key. */
struct run {
	char echo[8192];
	int status;
};

static struct lineedit *
editor(void)
{
	struct lineedit *le = malloc(sizeof(*le));

	le_init(le);
	return le;
}

static void
keys_mod(struct lineedit *le, const uint32_t *k, size_t n, uint16_t mods,
    struct run *r)
{
	struct le_echo e;

	r->echo[0] = '\0';
	r->status = LE_EDITING;
	for (size_t i = 0; i < n; i++) {
		r->status = le_key(le, k[i], mods, &e);
		CHECK_EQ_INT(e.len, strlen(e.buf));
		strncat(r->echo, e.buf, sizeof(r->echo) - strlen(r->echo) - 1);
	}
}

/* Type a string: each byte is one key, as a serial terminal sends them. */
static void
type(struct lineedit *le, const char *s, struct run *r)
{
	uint32_t k[512];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		k[i] = (unsigned char)s[i];
	keys_mod(le, k, n, 0, r);
}

static void
key(struct lineedit *le, uint32_t code, struct run *r)
{
	keys_mod(le, &code, 1, 0, r);
}

TEST(lineedit_plain_typing)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "mods", &r);
	CHECK_STR(r.echo, "mods");
	CHECK_STR(le->line, "mods");
	CHECK_EQ_INT(le->cur, 4);
	CHECK_EQ_INT(r.status, LE_EDITING);
	type(le, "\r", &r);
	CHECK_EQ_INT(r.status, LE_ENTER);
	CHECK_STR(r.echo, "");		/* the shell ends the line itself */
	CHECK_STR(le->entered, "mods");
	CHECK_STR(le->line, "");
	CHECK_EQ_INT(le->cur, 0);
	free(le);
}

TEST(lineedit_insert_in_middle)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "hllo", &r);
	type(le, CSI "D" CSI "D" CSI "D", &r);
	CHECK_STR(r.echo, CSI "D" CSI "D" CSI "D");
	CHECK_EQ_INT(le->cur, 1);
	type(le, "e", &r);
	/* The rest of the line is rewritten, the cursor goes back after e. */
	CHECK_STR(r.echo, "ello" CSI "3D");
	CHECK_STR(le->line, "hello");
	CHECK_EQ_INT(le->cur, 2);
	/* Just before the last character: one move back. */
	key(le, KEY_END, &r);
	CHECK_STR(r.echo, CSI "3C");
	key(le, KEY_LEFT, &r);
	type(le, "!", &r);
	CHECK_STR(r.echo, "!o" CSI "D");
	CHECK_STR(le->line, "hell!o");
	free(le);
}

TEST(lineedit_backspace)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "abc\x7f", &r);
	CHECK_STR(r.echo, "abc" CSI "D " CSI "D");
	CHECK_STR(le->line, "ab");
	/* In the middle: the tail moves left and the last column is blanked. */
	type(le, "cd", &r);
	type(le, CSI "D" CSI "D" "\b", &r);
	CHECK_STR(r.echo, CSI "D" CSI "D" CSI "D" "cd " CSI "3D");
	CHECK_STR(le->line, "acd");
	CHECK_EQ_INT(le->cur, 1);
	free(le);
}

TEST(lineedit_backspace_at_start)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "ab", &r);
	key(le, KEY_HOME, &r);
	CHECK_STR(r.echo, CSI "2D");
	type(le, "\x7f\b", &r);
	CHECK_STR(r.echo, "");
	CHECK_STR(le->line, "ab");
	CHECK_EQ_INT(le->cur, 0);
	/* On an empty line too. */
	le_init(le);
	type(le, "\x7f", &r);
	CHECK_STR(r.echo, "");
	CHECK_EQ_INT(le->len, 0);
	free(le);
}

TEST(lineedit_delete_at_cursor)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "abcd", &r);
	key(le, KEY_HOME, &r);
	key(le, KEY_DELETE, &r);
	CHECK_STR(r.echo, "bcd " CSI "4D");
	CHECK_STR(le->line, "bcd");
	type(le, CSI "3~", &r);		/* the VT220 Delete key */
	CHECK_STR(le->line, "cd");
	type(le, "\x04", &r);		/* Ctrl-D */
	CHECK_STR(le->line, "d");
	key(le, KEY_END, &r);
	key(le, KEY_DELETE, &r);	/* nothing under the cursor */
	CHECK_STR(r.echo, "");
	CHECK_STR(le->line, "d");
	free(le);
}

TEST(lineedit_cursor_moves)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "hello", &r);
	key(le, KEY_RIGHT, &r);		/* at the end already */
	CHECK_STR(r.echo, "");
	key(le, KEY_LEFT, &r);
	CHECK_STR(r.echo, CSI "D");
	key(le, KEY_RIGHT, &r);
	CHECK_STR(r.echo, CSI "C");
	type(le, "\x01", &r);		/* Ctrl-A */
	CHECK_STR(r.echo, CSI "5D");
	CHECK_EQ_INT(le->cur, 0);
	key(le, KEY_LEFT, &r);		/* at the start already */
	CHECK_STR(r.echo, "");
	type(le, "\x05", &r);		/* Ctrl-E */
	CHECK_STR(r.echo, CSI "5C");
	CHECK_EQ_INT(le->cur, 5);
	/* Home and End as terminals send them: CSI H/F, SS3 H/F, CSI 1~/4~. */
	type(le, CSI "H", &r);
	CHECK_EQ_INT(le->cur, 0);
	type(le, "\x1bOF", &r);
	CHECK_EQ_INT(le->cur, 5);
	type(le, CSI "1~", &r);
	CHECK_EQ_INT(le->cur, 0);
	type(le, CSI "4~", &r);
	CHECK_EQ_INT(le->cur, 5);
	type(le, CSI "7~" CSI "C", &r);
	CHECK_EQ_INT(le->cur, 1);
	type(le, CSI "1;5D", &r);	/* Ctrl-Left: modifiers ignored */
	CHECK_EQ_INT(le->cur, 0);
	CHECK_STR(le->line, "hello");
	free(le);
}

TEST(lineedit_lone_escape_keeps_next_key)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "\x1bx", &r);
	CHECK_STR(le->line, "x");
	key(le, KEY_ESC, &r);
	type(le, "y", &r);
	CHECK_STR(le->line, "xy");
	type(le, CSI "Z", &r);		/* unknown sequences do nothing */
	CHECK_STR(le->line, "xy");
	CHECK_STR(r.echo, "");
	free(le);
}

TEST(lineedit_history_navigation)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "one\rtwo\rtwo\rthree\r", &r);
	CHECK_EQ_INT(le->nhist, 3);	/* no duplicate of the previous line */
	CHECK_STR(le_history(le, 0), "three");
	CHECK_STR(le_history(le, 1), "two");
	CHECK_STR(le_history(le, 2), "one");
	CHECK(le_history(le, 3) == NULL);
	type(le, "dr", &r);
	key(le, KEY_UP, &r);
	CHECK_STR(r.echo, CSI "2Dthree");
	CHECK_STR(le->line, "three");
	type(le, CSI "A", &r);
	/* Shorter than what it replaces: blanks, then back. */
	CHECK_STR(r.echo, CSI "5Dtwo  " CSI "2D");
	CHECK_STR(le->line, "two");
	type(le, "\x10", &r);		/* Ctrl-P */
	CHECK_STR(le->line, "one");
	key(le, KEY_UP, &r);		/* the oldest: stays */
	CHECK_STR(r.echo, "");
	CHECK_STR(le->line, "one");
	key(le, KEY_DOWN, &r);
	CHECK_STR(le->line, "two");
	type(le, CSI "B", &r);
	CHECK_STR(le->line, "three");
	key(le, KEY_DOWN, &r);		/* back to the draft */
	CHECK_STR(le->line, "dr");
	CHECK_STR(r.echo, CSI "5Ddr   " CSI "3D");
	key(le, KEY_DOWN, &r);
	CHECK_STR(r.echo, "");
	CHECK_STR(le->line, "dr");
	free(le);
}

TEST(lineedit_history_edit_recalled)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "load fbcon\rmods\r", &r);
	key(le, KEY_UP, &r);
	key(le, KEY_UP, &r);
	CHECK_STR(le->line, "load fbcon");
	type(le, "\x7f\x7f\x7f\x7f\x7fserial", &r);
	CHECK_STR(le->line, "load serial");
	key(le, KEY_HOME, &r);
	type(le, "un", &r);
	CHECK_STR(le->line, "unload serial");
	type(le, "\r", &r);
	CHECK_EQ_INT(r.status, LE_ENTER);
	CHECK_STR(le->entered, "unload serial");
	/* The edited line is new; the recalled one is unchanged. */
	CHECK_STR(le_history(le, 0), "unload serial");
	CHECK_STR(le_history(le, 1), "mods");
	CHECK_STR(le_history(le, 2), "load fbcon");
	/* Browsing starts from the newest again. */
	key(le, KEY_UP, &r);
	CHECK_STR(le->line, "unload serial");
	free(le);
}

TEST(lineedit_history_limit)
{
	struct lineedit *le = editor();
	struct run r;
	char line[32];

	for (int i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "cmd%d\r", i);
		type(le, line, &r);
	}
	CHECK_EQ_INT(le->nhist, LE_HISTORY);
	CHECK_STR(le_history(le, 0), "cmd39");
	CHECK_STR(le_history(le, LE_HISTORY - 1), "cmd8");
	for (int i = 0; i < LE_HISTORY; i++)
		key(le, KEY_UP, &r);
	CHECK_STR(le->line, "cmd8");
	key(le, KEY_UP, &r);
	CHECK_STR(le->line, "cmd8");
	free(le);
}

TEST(lineedit_empty_lines_not_remembered)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "\r", &r);
	CHECK_EQ_INT(r.status, LE_ENTER);
	CHECK_STR(le->entered, "");
	CHECK_EQ_INT(le->nhist, 0);
	key(le, KEY_UP, &r);
	CHECK_STR(r.echo, "");
	free(le);
}

TEST(lineedit_ctrl_c)
{
	struct lineedit *le = editor();
	struct run r;
	uint32_t c = 'c';

	type(le, "mods\r", &r);
	type(le, "abc", &r);
	key(le, KEY_UP, &r);
	type(le, "\x03", &r);
	CHECK_EQ_INT(r.status, LE_CANCEL);
	CHECK_STR(r.echo, "^C");
	CHECK_STR(le->line, "");
	CHECK_EQ_INT(le->cur, 0);
	CHECK_EQ_INT(le->nhist, 1);	/* a cancelled line is not kept */
	key(le, KEY_UP, &r);		/* browsing starts over */
	CHECK_STR(le->line, "mods");
	/* A keyboard's Ctrl+c is the same key. */
	keys_mod(le, &c, 1, KEYMOD_CTRL, &r);
	CHECK_EQ_INT(r.status, LE_CANCEL);
	CHECK_STR(le->line, "");
	free(le);
}

TEST(lineedit_ctrl_u_and_k)
{
	struct lineedit *le = editor();
	struct run r;
	uint32_t u = 'U';

	type(le, "hello world", &r);
	type(le, CSI "5D", &r);		/* a count moves one step only */
	CHECK_EQ_INT(le->cur, 10);
	type(le, CSI "D" CSI "D" CSI "D" CSI "D", &r);
	CHECK_EQ_INT(le->cur, 6);
	type(le, "\x15", &r);
	CHECK_STR(r.echo, CSI "6Dworld      " CSI "11D");
	CHECK_STR(le->line, "world");
	CHECK_EQ_INT(le->cur, 0);
	type(le, "\x15", &r);		/* nothing before the cursor */
	CHECK_STR(r.echo, "");
	key(le, KEY_RIGHT, &r);
	type(le, "\x0b", &r);		/* Ctrl-K: kill to the end */
	CHECK_STR(r.echo, "    " CSI "4D");
	CHECK_STR(le->line, "w");
	keys_mod(le, &u, 1, KEYMOD_CTRL | KEYMOD_SHIFT, &r);
	CHECK_STR(le->line, "");
	free(le);
}

TEST(lineedit_long_line_at_limit)
{
	struct lineedit *le = editor();
	struct run r;
	char big[LE_LINE_MAX + 50], want[LE_LINE_MAX];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	type(le, big, &r);
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 1);
	CHECK_EQ_INT(strlen(r.echo), LE_LINE_MAX - 1);	/* the rest refused */
	CHECK_EQ_INT(le->line[LE_LINE_MAX - 1], '\0');
	/* Refused in the middle too, with nothing echoed. */
	key(le, KEY_HOME, &r);
	type(le, "b", &r);
	CHECK_STR(r.echo, "");
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 1);
	/* Deleting makes room again. */
	key(le, KEY_DELETE, &r);
	type(le, "b", &r);
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 1);
	CHECK_EQ_INT(le->line[0], 'b');
	type(le, "\r", &r);
	CHECK_EQ_INT(strlen(le->entered), LE_LINE_MAX - 1);
	/* A full line recalled over another full line: the echo is whole. */
	memset(big, 'z', LE_LINE_MAX - 1);
	big[LE_LINE_MAX - 1] = '\0';
	type(le, big, &r);
	key(le, KEY_UP, &r);
	snprintf(want, sizeof(want), CSI "%dD", LE_LINE_MAX - 1);
	CHECK_EQ_INT(strncmp(r.echo, want, strlen(want)), 0);
	CHECK_EQ_INT(strlen(r.echo), strlen(want) + LE_LINE_MAX - 1);
	CHECK_EQ_INT(le->line[0], 'b');
	key(le, KEY_DOWN, &r);
	CHECK_EQ_INT(le->line[0], 'z');
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 1);
	free(le);
}

TEST(lineedit_crlf_is_one_enter)
{
	struct lineedit *le = editor();
	struct run r;
	int enters = 0;
	struct le_echo e;
	const char *s = "ls\r\nmods\necho\r\r";

	for (const char *p = s; *p; p++)
		enters += le_key(le, (unsigned char)*p, 0, &e) == LE_ENTER;
	CHECK_EQ_INT(enters, 4);	/* ls, mods, echo, and an empty line */
	CHECK_STR(le_history(le, 0), "echo");
	CHECK_STR(le_history(le, 1), "mods");
	CHECK_STR(le_history(le, 2), "ls");
	type(le, "x", &r);
	free(le);
}

TEST(lineedit_ignores_other_keys)
{
	struct lineedit *le = editor();
	struct run r;

	type(le, "a\tb", &r);
	key(le, 0x85, &r);		/* a C1 control: ignored */
	key(le, 0xd800, &r);		/* a surrogate: cannot be encoded */
	key(le, KEY_F1, &r);
	key(le, KEY_PGUP, &r);
	CHECK_STR(r.echo, "");
	CHECK_STR(le->line, "ab");
	free(le);
}

TEST(lineedit_redraw)
{
	struct lineedit *le = editor();
	struct run r;
	struct le_echo e;

	le_redraw(le, &e);
	CHECK_STR(e.buf, "");
	type(le, "abcd" CSI "D" CSI "D", &r);
	le_redraw(le, &e);
	CHECK_STR(e.buf, "abcd" CSI "2D");
	CHECK_EQ_INT(e.len, 8);
	free(le);
}

/* Characters beyond ASCII are stored as UTF-8; the cursor moves, deletes
 * and redraws by characters, one column each, never by bytes. */
TEST(lineedit_utf8)
{
	struct lineedit *le = editor();
	struct run r;
	struct le_echo e;

	key(le, 'a', &r);
	key(le, 0xe9, &r);		/* é: 2 bytes */
	CHECK_STR(r.echo, "\xc3\xa9");
	key(le, 0x2192, &r);		/* →: 3 bytes */
	key(le, 0x1f600, &r);		/* 4 bytes */
	CHECK_STR(le->line, "a\xc3\xa9\xe2\x86\x92\xf0\x9f\x98\x80");
	CHECK_EQ_INT(le->len, 10);
	/* Left twice: two columns, onto the é's end. */
	key(le, KEY_LEFT, &r);
	key(le, KEY_LEFT, &r);
	CHECK_STR(r.echo, CSI "D");
	CHECK_EQ_INT(le->cur, 3);
	/* Insert before →: the tail is written again, cursor back 2. */
	key(le, 'x', &r);
	CHECK_STR(r.echo, "x\xe2\x86\x92\xf0\x9f\x98\x80" CSI "2D");
	/* Backspace removes the x, then the whole é. */
	key(le, 0x7f, &r);
	key(le, 0x7f, &r);
	CHECK_STR(r.echo, CSI "D" "\xe2\x86\x92\xf0\x9f\x98\x80 " CSI "3D");
	CHECK_STR(le->line, "a\xe2\x86\x92\xf0\x9f\x98\x80");
	CHECK_EQ_INT(le->cur, 1);
	/* Delete takes the whole →; the redraw moves back by columns. */
	key(le, KEY_DELETE, &r);
	CHECK_STR(le->line, "a\xf0\x9f\x98\x80");
	le_redraw(le, &e);
	CHECK_STR(e.buf, "a\xf0\x9f\x98\x80" CSI "D");
	key(le, KEY_END, &r);
	CHECK_STR(r.echo, CSI "C");
	/* Ctrl-U: back 2 columns, 2 blanks. */
	key(le, 0x15, &r);
	CHECK_STR(r.echo, CSI "2D" "  " CSI "2D");
	CHECK_STR(le->line, "");
	free(le);
}

/* A character that does not fit whole is refused, never cut. */
TEST(lineedit_utf8_full_line)
{
	struct lineedit *le = editor();
	struct run r;
	char big[LE_LINE_MAX];

	memset(big, 'a', LE_LINE_MAX - 2);
	big[LE_LINE_MAX - 2] = '\0';
	type(le, big, &r);
	key(le, 0xe9, &r);
	CHECK_STR(r.echo, "");
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 2);
	key(le, 'b', &r);
	CHECK_EQ_INT(le->len, LE_LINE_MAX - 1);
	free(le);
}
