/*
 * test_serial.c - the console providers' pure logic: the serial module's
 * terminal key decoder, key queue and output ring (mods/serial/vt.c,
 * keyq.c, txring.c), and the firmware console's ConOut filter, key
 * translation and output ring (mods/efi-console/ansi.c, keys.c, ring.c).
 *
 * The module files are compiled into this file: they are part of their
 * modules, not of the hub, and have no hardware or hub calls.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/serial/vt.c"
#include "../../abi/rt/keyq.c"
#include "../../abi/rt/textring.c"
#include "../../mods/efi-console/ansi.c"
#include "../../mods/efi-console/keys.c"

/* ---- serial: vt.c ------------------------------------------------ */

#define MAXK 64

struct keys {
	struct key_event ev[MAXK];
	unsigned n;
};

/* Feed bytes one by one, collecting the events. */
static void
feed(struct vt *vt, const char *s, size_t len, struct keys *k)
{
	struct key_event out[VT_MAX_OUT];

	for (size_t i = 0; i < len; i++) {
		unsigned n = vt_feed(vt, (uint8_t)s[i], out);

		for (unsigned j = 0; j < n && k->n < MAXK; j++)
			k->ev[k->n++] = out[j];
	}
}

/* The keys a whole string makes, from a fresh decoder (no timeout). */
static struct keys
decode(const char *s, size_t len)
{
	struct vt vt;
	struct keys k = { .n = 0 };

	vt_init(&vt);
	feed(&vt, s, len, &k);
	return k;
}

#define DECODE(lit) decode(lit, sizeof(lit) - 1)

/* One key, with modifiers, from the string. */
static void
check_one(const char *s, size_t len, uint32_t code, uint16_t mods, int line)
{
	struct keys k = decode(s, len);

	if (k.n != 1)
		check_fail(__FILE__, line, "%u keys from \"%s\", not 1", k.n,
		    s + (s[0] == 0x1b));
	else if (k.ev[0].code != code || k.ev[0].mods != mods ||
	    k.ev[0].pressed != 1)
		check_fail(__FILE__, line, "\"%s\": code 0x%x mods %u, not "
		    "0x%x mods %u", s + (s[0] == 0x1b), k.ev[0].code,
		    k.ev[0].mods, code, mods);
}

#define ONE(lit, code, mods) check_one(lit, sizeof(lit) - 1, code, mods, \
	__LINE__)

TEST(serial_vt_characters)
{
	struct keys k = DECODE("ab~ \t\003");

	REQUIRE(k.n == 6);
	CHECK_EQ_INT(k.ev[0].code, 'a');
	CHECK_EQ_INT(k.ev[2].code, '~');
	CHECK_EQ_INT(k.ev[4].code, '\t');
	CHECK_EQ_INT(k.ev[5].code, 3);		/* ctrl-C passes */
	ONE("\x7f", 0x08, 0);			/* DEL is backspace */
	ONE("\x08", 0x08, 0);
}

TEST(serial_vt_enter)
{
	struct keys k;

	ONE("\r", '\r', 0);
	ONE("\n", '\r', 0);			/* a lone LF is enter too */
	ONE("\r\n", '\r', 0);			/* CR LF is one enter */
	k = DECODE("\r\r\n\n");
	CHECK_EQ_INT(k.n, 3);
	k = DECODE("a\nb\r\nc");
	REQUIRE(k.n == 5);
	CHECK_EQ_INT(k.ev[1].code, '\r');
	CHECK_EQ_INT(k.ev[3].code, '\r');
	CHECK_EQ_INT(k.ev[4].code, 'c');
}

TEST(serial_vt_cursor_keys)
{
	ONE("\033[A", KEY_UP, 0);
	ONE("\033[B", KEY_DOWN, 0);
	ONE("\033[C", KEY_RIGHT, 0);
	ONE("\033[D", KEY_LEFT, 0);
	ONE("\033OA", KEY_UP, 0);		/* application cursor mode */
	ONE("\033OB", KEY_DOWN, 0);
	ONE("\033OC", KEY_RIGHT, 0);
	ONE("\033OD", KEY_LEFT, 0);
	ONE("\033[H", KEY_HOME, 0);
	ONE("\033[F", KEY_END, 0);
	ONE("\033OH", KEY_HOME, 0);
	ONE("\033OF", KEY_END, 0);
}

TEST(serial_vt_editing_and_function_keys)
{
	ONE("\033[1~", KEY_HOME, 0);
	ONE("\033[2~", KEY_INSERT, 0);
	ONE("\033[3~", KEY_DELETE, 0);
	ONE("\033[4~", KEY_END, 0);
	ONE("\033[5~", KEY_PGUP, 0);
	ONE("\033[6~", KEY_PGDN, 0);
	ONE("\033[7~", KEY_HOME, 0);
	ONE("\033[8~", KEY_END, 0);
	ONE("\033OP", KEY_F1, 0);
	ONE("\033OS", KEY_F4, 0);
	ONE("\033[11~", KEY_F1, 0);
	ONE("\033[15~", KEY_F5, 0);
	ONE("\033[17~", KEY_F6, 0);
	ONE("\033[21~", KEY_F10, 0);
	ONE("\033[23~", KEY_F11, 0);
	ONE("\033[24~", KEY_F12, 0);
	ONE("\033OM", '\r', 0);			/* keypad enter */
	ONE("\033[Z", '\t', KEYMOD_SHIFT);
}

TEST(serial_vt_modifiers)
{
	ONE("\033[1;5A", KEY_UP, KEYMOD_CTRL);
	ONE("\033[1;2D", KEY_LEFT, KEYMOD_SHIFT);
	ONE("\033[1;3C", KEY_RIGHT, KEYMOD_ALT);
	ONE("\033[1;8H", KEY_HOME, KEYMOD_SHIFT | KEYMOD_ALT | KEYMOD_CTRL);
	ONE("\033[3;5~", KEY_DELETE, KEYMOD_CTRL);
	ONE("\033[1;2P", KEY_F1, KEYMOD_SHIFT);
	ONE("\033O5A", KEY_UP, KEYMOD_CTRL);
}

TEST(serial_vt_unknown_sequences_swallowed)
{
	struct keys k;

	CHECK_EQ_INT(DECODE("\033[200~").n, 0);	/* bracketed paste */
	CHECK_EQ_INT(DECODE("\033[99X").n, 0);
	CHECK_EQ_INT(DECODE("\033[?1;2c").n, 0);	/* a DA answer */
	CHECK_EQ_INT(DECODE("\033[1;2;3A").n, 0);
	CHECK_EQ_INT(DECODE("\033[99999999~").n, 0);	/* clamped, unknown */
	CHECK_EQ_INT(DECODE("\033Oz").n, 0);
	k = DECODE("\033[0nx");
	REQUIRE(k.n == 1);
	CHECK_EQ_INT(k.ev[0].code, 'x');
}

TEST(serial_vt_escape_key)
{
	struct key_event out[VT_MAX_OUT];
	struct keys k = { .n = 0 };
	struct vt vt;

	vt_init(&vt);
	feed(&vt, "\033", 1, &k);
	CHECK_EQ_INT(k.n, 0);
	CHECK(vt_pending(&vt));
	REQUIRE(vt_timeout(&vt, out) == 1);
	CHECK_EQ_INT(out[0].code, KEY_ESC);
	CHECK(!vt_pending(&vt));
	CHECK_EQ_INT(vt_timeout(&vt, out), 0);	/* nothing twice */

	k = DECODE("\033x");			/* ESC, then a key */
	REQUIRE(k.n == 2);
	CHECK_EQ_INT(k.ev[0].code, KEY_ESC);
	CHECK_EQ_INT(k.ev[1].code, 'x');

	k.n = 0;				/* ESC ESC [ A */
	vt_init(&vt);
	feed(&vt, "\033\033[A", 4, &k);
	REQUIRE(k.n == 2);
	CHECK_EQ_INT(k.ev[0].code, KEY_ESC);
	CHECK_EQ_INT(k.ev[1].code, KEY_UP);
}

TEST(serial_vt_timeouts_of_partial_sequences)
{
	struct key_event out[VT_MAX_OUT];
	struct keys k = { .n = 0 };
	struct vt vt;

	vt_init(&vt);
	feed(&vt, "\033[", 2, &k);		/* typed: ESC then [ */
	REQUIRE(vt_timeout(&vt, out) == 2);
	CHECK_EQ_INT(out[0].code, KEY_ESC);
	CHECK_EQ_INT(out[1].code, '[');
	feed(&vt, "\033O", 2, &k);
	REQUIRE(vt_timeout(&vt, out) == 2);
	CHECK_EQ_INT(out[1].code, 'O');
	feed(&vt, "\033[1;", 4, &k);		/* half a sequence: noise */
	CHECK_EQ_INT(vt_timeout(&vt, out), 0);
	CHECK_EQ_INT(k.n, 0);
	feed(&vt, "a", 1, &k);			/* and the decoder goes on */
	CHECK_EQ_INT(k.n, 1);
}

TEST(serial_vt_sequence_cut_by_control)
{
	struct keys k = DECODE("\033[1\r");

	REQUIRE(k.n == 1);
	CHECK_EQ_INT(k.ev[0].code, '\r');
	k = DECODE("\033[\x7f");
	REQUIRE(k.n == 1);
	CHECK_EQ_INT(k.ev[0].code, 0x08);
	k = DECODE("\033O\033[B");
	REQUIRE(k.n == 1);
	CHECK_EQ_INT(k.ev[0].code, KEY_DOWN);
}

TEST(serial_vt_utf8)
{
	struct keys k;

	ONE("\xc3\xa9", 0xe9, 0);
	ONE("\xe2\x82\xac", 0x20ac, 0);
	ONE("\xf0\x9f\x98\x80", 0x1f600, 0);
	k = DECODE("\xc0\x80");			/* overlong: both bad */
	REQUIRE(k.n == 2);
	CHECK_EQ_INT(k.ev[0].code, VT_REPLACEMENT);
	CHECK_EQ_INT(k.ev[1].code, VT_REPLACEMENT);
	ONE("\xe0\x80\x80", VT_REPLACEMENT, 0);	/* overlong 3-byte */
	ONE("\xed\xa0\x80", VT_REPLACEMENT, 0);	/* a surrogate */
	ONE("\xf4\x90\x80\x80", VT_REPLACEMENT, 0);	/* above U+10FFFF */
	k = DECODE("\xe2\x82z");		/* cut short */
	REQUIRE(k.n == 2);
	CHECK_EQ_INT(k.ev[0].code, VT_REPLACEMENT);
	CHECK_EQ_INT(k.ev[1].code, 'z');
	k = DECODE("\xff\xfe");
	CHECK_EQ_INT(k.n, 2);
}

/* Every byte string decodes without overflowing out[] or the state. */
TEST(serial_vt_random_bytes)
{
	struct key_event out[VT_MAX_OUT];
	unsigned seed = 12345;
	struct vt vt;

	vt_init(&vt);
	for (int i = 0; i < 200000; i++) {
		uint8_t c;

		seed = seed * 1103515245u + 12345u;
		c = (uint8_t)(seed >> 16);
		if ((seed >> 8) % 5 == 0)
			c = "\033[O;1~A\r"[(seed >> 12) % 8];
		CHECK(vt_feed(&vt, c, out) <= VT_MAX_OUT);
		if (i % 1000 == 0)
			CHECK(vt_timeout(&vt, out) <= VT_MAX_OUT);
	}
}

/* ---- serial: keyq.c ---------------------------------------------- */

static struct key_event
key(uint32_t code)
{
	return (struct key_event){ .code = code, .pressed = 1 };
}

TEST(serial_keyq_order_and_overflow)
{
	struct keyq *q = calloc(1, sizeof(*q));
	struct key_event ev, peek[4];

	REQUIRE(q);
	keyq_init(q);
	CHECK(!keyq_get(q, &ev));
	for (uint32_t i = 0; i < KEYQ_SIZE + 5; i++) {
		ev = key(i);
		CHECK_EQ_INT(keyq_put(q, &ev), i < KEYQ_SIZE);
	}
	CHECK_EQ_INT(keyq_len(q), KEYQ_SIZE);
	CHECK_EQ_INT(q->dropped, 5);
	CHECK_EQ_INT(keyq_peek(q, peek, 4), 4);
	CHECK_EQ_INT(peek[3].code, 3);
	CHECK_EQ_INT(keyq_len(q), KEYQ_SIZE);	/* peek keeps them */
	for (uint32_t i = 0; i < KEYQ_SIZE; i++) {
		REQUIRE(keyq_get(q, &ev));
		CHECK_EQ_INT(ev.code, i);	/* the first typed survive */
	}
	CHECK(!keyq_get(q, &ev));
	free(q);
}

TEST(serial_keyq_wraps)
{
	struct keyq *q = calloc(1, sizeof(*q));
	struct key_event ev;
	uint32_t next_in = 0, next_out = 0;

	REQUIRE(q);
	keyq_init(q);
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 3; i++) {
			ev = key(next_in++);
			CHECK(keyq_put(q, &ev));
		}
		for (int i = 0; i < (round & 1 ? 4 : 2); i++) {
			REQUIRE(keyq_get(q, &ev));
			CHECK_EQ_INT(ev.code, next_out++);
		}
	}
	CHECK_EQ_INT(keyq_peek(q, &ev, 1), keyq_len(q) ? 1 : 0);
	free(q);
}

/* ---- both rings: txring.c (serial), ring.c (efi-console) --------- */

/* Copy a ring into a string, at most max bytes. */
#define RING_TEXT(copy, r, max, buf) \
	(buf[copy(r, buf, max)] = '\0', buf)

TEST(console_rings_keep_text_as_written)
{
	char store[16], out[64];
	struct rt_textring t;

	rt_textring_init(&t, store, sizeof(store));
	rt_textring_put(&t, "one\n", 4);
	rt_textring_put(&t, "\033[1mtwo", 7);
	CHECK_STR(RING_TEXT(rt_textring_copy, &t, 64, out), "one\n\033[1mtwo");
	CHECK_EQ_INT(rt_textring_copy(&t, NULL, 64), 11);
}

TEST(console_rings_cut_at_a_line_when_full)
{
	char store[16], out[64];
	struct rt_textring t, r;

	/* 22 bytes into 16: the oldest go, and the copy starts at a line. */
	rt_textring_init(&t, store, sizeof(store));
	rt_textring_put(&t, "first\nsecond\nthird", 18);
	rt_textring_put(&t, "!!!\n", 4);
	CHECK_STR(RING_TEXT(rt_textring_copy, &t, 64, out), "third!!!\n");
	/* Asked for less than it holds: cut too. */
	rt_textring_init(&t, store, sizeof(store));
	rt_textring_put(&t, "ab\ncd\nef", 8);
	CHECK_STR(RING_TEXT(rt_textring_copy, &t, 4, out), "ef");
	CHECK_EQ_INT(rt_textring_copy(&t, NULL, 4), 2);
	/* One long line: kept whole, as far as it goes. */
	rt_textring_put(&t, "0123456789abcdefXYZ", 19);
	CHECK_STR(RING_TEXT(rt_textring_copy, &t, 64, out), "3456789abcdefXYZ");

	rt_textring_init(&r, store, sizeof(store));
	rt_textring_put(&r, "first\nsecond\nthird", 18);
	rt_textring_put(&r, "!!!\n", 4);
	CHECK_STR(RING_TEXT(rt_textring_copy, &r, 64, out), "third!!!\n");
	rt_textring_put(&r, "a very long write, longer than the ring", 39);
	CHECK_STR(RING_TEXT(rt_textring_copy, &r, 64, out), "er than the ring");
	CHECK_EQ_INT(r.total, 61);
}

/* ---- efi-console: ansi.c ----------------------------------------- */

/* Filter a whole string in pieces of `piece` bytes; returns what ConOut
 * gets, with "<CLS>" where it would clear the screen. */
static char *
filter(struct ansi *a, const char *s, size_t piece, size_t cap)
{
	static char res[32768];
	size_t len = strlen(s), rn = 0;

	for (size_t off = 0; off < len; ) {
		size_t chunk = len - off < piece ? len - off : piece;
		size_t done = 0;

		while (done < chunk || ansi_pending(a)) {
			char out[256];
			size_t n;
			int act;

			done += ansi_filter(a, s + off + done, chunk - done,
			    out, cap, &n, &act);
			memcpy(res + rn, out, n);
			rn += n;
			if (act == ANSI_CLEAR) {
				memcpy(res + rn, "<CLS>", 5);
				rn += 5;
			}
		}
		off += chunk;
	}
	res[rn] = '\0';
	return res;
}

TEST(eficon_ansi_strips_sequences)
{
	struct ansi a;

	ansi_init(&a, 80, 25);
	CHECK_STR(filter(&a, "a\033[1;31mb\033[0mc", 256, 256), "abc");
	CHECK_STR(filter(&a, "\033]0;title\007x\033]2;t\033\\y", 256, 256),
	    "xy");
	CHECK_STR(filter(&a, "\033(Bq\033=r\0337s", 256, 256), "qrs");
	CHECK_STR(filter(&a, "\033[?25l\033[10;20Hz\033[K", 256, 256), "z");
	CHECK_STR(filter(&a, "bell\007 nul\001", 256, 256), "bell nul");
	CHECK_STR(filter(&a, "caf\xc3\xa9\r\n", 256, 256), "caf\xc3\xa9\r\n");
}

TEST(eficon_ansi_split_anywhere)
{
	static const char s[] = "x\033[38;2;1;2;3mA\033[2JB\033]0;t\007C\n";
	struct ansi a;

	for (size_t piece = 1; piece < sizeof(s); piece++) {
		ansi_init(&a, 80, 25);
		CHECK_STR(filter(&a, s, piece, 16), "xA<CLS>BC\n");
		CHECK_EQ_INT(a.fg, 0x010203);
	}
}

TEST(eficon_ansi_colours)
{
	struct ansi a;

	ansi_init(&a, 80, 25);
	CHECK_EQ_INT(a.fg, ANSI_FG);
	filter(&a, "\033[31;44m", 256, 256);
	CHECK_EQ_INT(a.fg, 0xaa0000);
	CHECK_EQ_INT(a.bg, 0x0000aa);
	filter(&a, "\033[92;103m", 256, 256);
	CHECK_EQ_INT(a.fg, 0x55ff55);
	CHECK_EQ_INT(a.bg, 0xffff55);
	filter(&a, "\033[39m", 256, 256);
	CHECK_EQ_INT(a.fg, ANSI_FG);
	CHECK_EQ_INT(a.bg, 0xffff55);
	filter(&a, "\033[m", 256, 256);
	CHECK_EQ_INT(a.bg, ANSI_BG);
	filter(&a, "\033[38;5;196;48;5;244m", 256, 256);
	CHECK_EQ_INT(a.fg, 0xff0000);
	CHECK_EQ_INT(a.bg, 0x808080);
	filter(&a, "\033[38;5;4m", 256, 256);
	CHECK_EQ_INT(a.fg, 0x0000aa);
	filter(&a, "\033[38;2;300m\033[1m", 256, 256);	/* malformed */
	CHECK_EQ_INT(a.fg, 0x0000aa);
	filter(&a, "\033[?31m", 256, 256);		/* private: ignored */
	CHECK_EQ_INT(a.fg, 0x0000aa);
}

TEST(eficon_ansi_clear_and_reset)
{
	struct ansi a;

	ansi_init(&a, 80, 25);
	CHECK_STR(filter(&a, "ab\033[2Jcd\033[Jef\033[3J", 256, 256),
	    "ab<CLS>cdef<CLS>");
	filter(&a, "\033[31m", 256, 256);
	CHECK_STR(filter(&a, "x\033cy", 256, 256), "x<CLS>y");
	CHECK_EQ_INT(a.fg, ANSI_FG);		/* RIS resets the colours */
	CHECK_EQ_INT(a.col, 1);
}

TEST(eficon_ansi_cursor_and_tabs)
{
	struct ansi a;

	ansi_init(&a, 10, 3);
	CHECK_STR(filter(&a, "a\tb", 256, 256), "a       b");
	CHECK_EQ_INT(a.col, 9);
	filter(&a, "c", 256, 256);		/* the margin wraps */
	CHECK_EQ_INT(a.col, 0);
	CHECK_EQ_INT(a.row, 1);
	filter(&a, "\xc3\xa9\xe2\x82\xac", 256, 256);	/* two cells */
	CHECK_EQ_INT(a.col, 2);
	filter(&a, "\b\b\b", 256, 256);
	CHECK_EQ_INT(a.col, 0);
	filter(&a, "\n\n\n\nxy\rz", 256, 256);	/* the last row stays */
	CHECK_EQ_INT(a.row, 2);
	CHECK_EQ_INT(a.col, 1);
}

/* What a line editor sends, as ConOut can show it: moves within the row
 * by writing again what the row holds (ConOut's BS erases). */
TEST(eficon_ansi_line_editing)
{
	struct ansi a;

	ansi_init(&a, 80, 25);
	/* Insert X before "lo" of "hello": "Xlo", then back 2. */
	CHECK_STR(filter(&a, "> hello\033[2DXlo\033[2D", 256, 256),
	    "> hello\r> helXlo\r> helX");
	CHECK_EQ_INT(a.col, 6);
	CHECK_STR(a.line, "> helXlo");
	/* Forward writes again what is there; never past the margin. */
	CHECK_STR(filter(&a, "\033[C\033[5C", 256, 256), "lo    ");
	CHECK_EQ_INT(a.col, 12);
	/* Back never past the start of the row. */
	CHECK_STR(filter(&a, "\r\033[3C\033[9D", 256, 256), "\r> h\r");
	CHECK_EQ_INT(a.col, 0);
	/* Erase to the end: blanks, then back. */
	CHECK_STR(filter(&a, "\033[4C\033[K", 256, 256),
	    "> he        \r> he");
	CHECK_EQ_INT(a.col, 4);
	CHECK_STR(filter(&a, "\033[1K\033[2K", 256, 256), "");	/* not these */
	CHECK_STR(filter(&a, "\n\033[D\033[K", 256, 256), "\n\r");
	CHECK_EQ_INT(a.col, 0);
	CHECK(!ansi_pending(&a));
	ansi_init(&a, 10, 5);
	CHECK_STR(filter(&a, "abc\033[99C\033[C", 256, 256), "abc      ");
	CHECK_EQ_INT(a.col, 9);
	CHECK_EQ_INT(a.row, 0);			/* no wrap */
	CHECK_STR(filter(&a, "\r", 256, 256), "\r");
	CHECK(!ansi_pending(&a));		/* nothing stale */
}

/* A long move with a small output buffer comes out in pieces. */
TEST(eficon_ansi_long_moves_in_pieces)
{
	char line[200];
	struct ansi a;

	memset(line, 'x', 150);
	strcpy(line + 150, "\033[140D");
	ansi_init(&a, 200, 25);
	CHECK_EQ_INT(strlen(filter(&a, line, 1000, 16)), 161);
	CHECK_EQ_INT(a.col, 10);
	CHECK(!ansi_pending(&a));
}

TEST(eficon_ansi_small_output_makes_progress)
{
	char big[2000];
	struct ansi a;

	memset(big, '\t', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ansi_init(&a, 80, 25);
	CHECK_EQ_INT(strlen(filter(&a, big, 700, ROOM)), 8 * 1999);
}

/* ---- efi-console: keys.c ----------------------------------------- */

static uint32_t
efikey(uint16_t scan, uint32_t ch)
{
	struct firmware_key k = { .ch = ch, .scan = scan };
	struct key_event ev = { .code = 0xdead };

	if (!efikey_translate(&k, &ev))
		return 0;
	CHECK_EQ_INT(ev.pressed, 1);
	CHECK_EQ_INT(ev.mods, 0);
	return ev.code;
}

TEST(eficon_keys_translate)
{
	CHECK_EQ_INT(efikey(0x01, 0), KEY_UP);
	CHECK_EQ_INT(efikey(0x02, 0), KEY_DOWN);
	CHECK_EQ_INT(efikey(0x03, 0), KEY_RIGHT);
	CHECK_EQ_INT(efikey(0x04, 0), KEY_LEFT);
	CHECK_EQ_INT(efikey(0x05, 0), KEY_HOME);
	CHECK_EQ_INT(efikey(0x06, 0), KEY_END);
	CHECK_EQ_INT(efikey(0x07, 0), KEY_INSERT);
	CHECK_EQ_INT(efikey(0x08, 0), KEY_DELETE);
	CHECK_EQ_INT(efikey(0x09, 0), KEY_PGUP);
	CHECK_EQ_INT(efikey(0x0a, 0), KEY_PGDN);
	CHECK_EQ_INT(efikey(0x0b, 0), KEY_F1);
	CHECK_EQ_INT(efikey(0x10, 0), KEY_F6);
	CHECK_EQ_INT(efikey(0x16, 0), KEY_F12);
	CHECK_EQ_INT(efikey(0x17, 0), KEY_ESC);
	CHECK_EQ_INT(efikey(0, 'a'), 'a');
	CHECK_EQ_INT(efikey(0, 0x08), 0x08);	/* backspace */
	CHECK_EQ_INT(efikey(0, 0x0d), 0x0d);	/* enter */
	CHECK_EQ_INT(efikey(0, 0x20ac), 0x20ac);
	CHECK_EQ_INT(efikey(0x48, 0), 0);	/* unknown scan code */
	CHECK_EQ_INT(efikey(0x48, 'q'), 'q');
	CHECK_EQ_INT(efikey(0, 0), 0);
}

TEST(eficon_keybuf_holds_a_state_worth)
{
	struct keybuf b = { .n = 0 };
	struct key_event ev;

	for (uint32_t i = 0; i < CONSOLE_STATE_KEYS; i++) {
		ev = key('a' + i % 26);
		CHECK(keybuf_put(&b, &ev));
	}
	CHECK(keybuf_full(&b));
	ev = key('!');
	CHECK(!keybuf_put(&b, &ev));
	REQUIRE(keybuf_get(&b, &ev));
	CHECK_EQ_INT(ev.code, 'a');
	REQUIRE(keybuf_get(&b, &ev));
	CHECK_EQ_INT(ev.code, 'b');
	CHECK_EQ_INT(b.n, CONSOLE_STATE_KEYS - 2);
	while (keybuf_get(&b, &ev))
		;
	CHECK_EQ_INT(b.n, 0);
}

/* ==== the modules themselves, against models ==========================
 *
 * The serial module runs against a model of four 16550s behind inb/outb
 * (abi/portio.h declares them for host builds), and efi-console
 * against a fake `firmware`; both get a fake hub with a clock that moves
 * 1 us per look, so every bounded wait ends quickly.
 */
#include "../../abi/pbmod.h"
/* Each module's descriptor under a name of its own. */
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo MODINFO = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#define MODINFO serial_modinfo
#include "../../mods/serial/uart.c"
#include "../../mods/serial/port.c"
#include "../../mods/serial/poll.c"
#include "../../mods/serial/irq.c"
#include "../../mods/serial/state.c"
#include "../../mods/serial/serial.c"
#undef MODINFO
#define MODINFO eficon_modinfo
#include "../../mods/efi-console/efi-console.c"
#include "../../mods/efi-console/state.c"
#include "../../mods/efi-console/hublines.c"
#include "../../abi/rt/logfmt.c"

/* ---- the fake hub (the rest is fakehub.h) ------------------------ */
#include "fakehub.h"

struct fake_res {
	int used;
	char name[48];
	char props[128];
	const void *ops;
	void *ctx;
};

static struct fake_res fres[16];
static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	for (unsigned i = 0; i < 16; i++)
		if (!fres[i].used) {
			fres[i].used = 1;
			snprintf(fres[i].name, sizeof(fres[i].name), "%s:%s",
			    iface, name);
			snprintf(fres[i].props, sizeof(fres[i].props), "%s",
			    props);
			fres[i].ops = ops;
			fres[i].ctx = ctx;
			return (struct pb_resource *)&fres[i];
		}
	return NULL;
}

static int
fake_set_props(struct pb_module *self, struct pb_resource *r,
    const char *props)
{
	struct fake_res *f = (struct fake_res *)r;

	snprintf(f->props, sizeof(f->props), "%s", props);
	return PB_OK;
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	memset(r, 0, sizeof(struct fake_res));
	return PB_OK;
}

/* The heap: COM2-4's key queues (kept in ser.ports, reused by the next
 * test's start, as a restarted instance would). */
static void *
fake_alloc(struct pb_module *self, size_t n)
{
	return malloc(n);
}

static void
fake_free(struct pb_module *self, void *p)
{
	free(p);
}

/* Run every armed timer once (what 10 ms of the event loop does). */
static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.publish = fake_publish,
	.set_props = fake_set_props,
	.withdraw = fake_withdraw,
	.queue_work = fake_queue_work,
	.irq_alloc = fake_irq_alloc,
	.irq_register = fake_irq_register,
	.irq_unregister = fake_irq_unregister,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
};

static struct fake_res *
fake_find(const char *name)
{
	for (unsigned i = 0; i < 16; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static unsigned
fake_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 16; i++)
		n += fres[i].used;
	return n;
}

static unsigned
log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = log_text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void
fake_hub_reset(void)
{
	memset(fres, 0, sizeof(fres));
	memset(ftimer, 0, sizeof(ftimer));
	memset(fvec, 0, sizeof(fvec));
	fwork_n = 0;
	log_text[0] = '\0';
}

/* ---- the 16550 model --------------------------------------------- */

struct uart_model {
	uint16_t base;
	int present;		/* else every register reads 0xff */
	int floating;		/* only SCR answers: a bus that echoes */
	int stuck;		/* THR never empties */
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t rx[256];
	unsigned rxn;
	uint8_t on_loop[8];	/* arrive from the line as LOOP is set */
	unsigned non_loop;
	char tx[8192];
	unsigned txn;
};

static struct uart_model um[4];
static unsigned io_count;

static struct uart_model *
model(uint16_t port)
{
	for (unsigned i = 0; i < 4; i++)
		if (um[i].base == (port & ~7u))
			return &um[i];
	return NULL;
}

static void
rx_push(struct uart_model *u, const char *s, size_t len)
{
	for (size_t i = 0; i < len && u->rxn < sizeof(u->rx); i++)
		u->rx[u->rxn++] = (uint8_t)s[i];
}

#define TYPE(u, lit) rx_push(u, lit, sizeof(lit) - 1)

static uint8_t
rx_pop(struct uart_model *u)
{
	uint8_t c;

	if (!u->rxn)
		return 0;
	c = u->rx[0];
	memmove(u->rx, u->rx + 1, --u->rxn);
	return c;
}

/* MSR in loopback: DCD RI DSR CTS are OUT2 OUT1 DTR RTS. */
static uint8_t
model_msr(const struct uart_model *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return 0xb0;		/* DCD DSR CTS from the terminal */
	return (uint8_t)((m & MCR_OUT2) << 4 | (m & MCR_OUT1) << 4 |
	    (m & MCR_DTR) << 5 | (m & MCR_RTS) << 3);
}

/* Holding interrupts: the model raises none, so only the pairing
 * matters: every hold is released. */
static int irq_holds;

uint64_t
cpu_irq_save(void)
{
	irq_holds++;
	return 0x200;
}

void
cpu_irq_restore(uint64_t flags)
{
	(void)flags;
	irq_holds--;
}

uint8_t
inb(uint16_t port)
{
	struct uart_model *u = model(port);
	int dlab;

	io_count++;
	if (!u || !u->present)
		return 0xff;
	dlab = u->lcr & LCR_DLAB;
	if (u->floating)
		return (port & 7) == UART_SCR ? u->scr : 0xff;
	switch (port & 7) {
	case UART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return (u->fcr & FCR_ENABLE) ? 0xc1 : 0x01;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return (uint8_t)((u->rxn ? LSR_DR : 0) |
		    (u->stuck ? 0 : LSR_THRE | LSR_TEMT));
	case UART_MSR:
		return model_msr(u);
	default:
		return u->scr;
	}
}

void
outb(uint16_t port, uint8_t v)
{
	struct uart_model *u = model(port);
	int dlab;

	io_count++;
	if (!u || !u->present)
		return;
	dlab = u->lcr & LCR_DLAB;
	switch (port & 7) {
	case UART_THR:
		if (dlab)
			u->dll = v;
		else if (u->mcr & MCR_LOOP)
			rx_push(u, (const char *)&v, 1);
		else if (!u->stuck && u->txn < sizeof(u->tx) - 1)
			u->tx[u->txn++] = (char)v;
		break;
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v;
		break;
	case UART_FCR:
		u->fcr = v;
		if (v & FCR_RXRESET)
			u->rxn = 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		if ((v & MCR_LOOP) && !(u->mcr & MCR_LOOP)) {
			rx_push(u, (const char *)u->on_loop, u->non_loop);
			u->non_loop = 0;
		}
		u->mcr = v;
		break;
	default:
		u->scr = v;
	}
}

/* Fresh models (present: a bit per COM port) and a fresh fake hub. */
static void
serial_setup(unsigned present)
{
	static const uint16_t bases[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

	rx_stop();		/* poll.c's timer, from an earlier test */
	rx_forget();
	memset(um, 0, sizeof(um));
	for (unsigned i = 0; i < 4; i++) {
		um[i].base = bases[i];
		um[i].present = (present >> i) & 1;
	}
	fake_hub_reset();
	io_count = 0;
}

static struct pb_conn
conn_to(const char *name)
{
	struct fake_res *r = fake_find(name);

	return (struct pb_conn){ .ops = r ? r->ops : NULL,
	    .ctx = r ? r->ctx : NULL, .res = name };
}

static int
con_write_to(const char *res, const char *s)
{
	struct pb_conn c = conn_to(res);

	if (!c.ops)
		return PB_ENOENT;
	return PB_CALL(&c, console_ops, write, s, strlen(s));
}

/* The keys waiting on a keyboard resource, as "x,UP,..." codes in hex. */
static char *
keys_of(const char *res)
{
	static char out[512];
	struct pb_conn c = conn_to(res);
	struct key_event ev;
	size_t n = 0;

	out[0] = '\0';
	while (c.ops && PB_CALL(&c, keyboard_ops, read, &ev) == PB_OK &&
	    n < sizeof(out) - 16)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%x",
		    n ? "," : "", ev.code);
	return out;
}

/* ---- serial: lifecycle ------------------------------------------- */

TEST(serial_declines_without_ports)
{
	serial_setup(0);
	CHECK_EQ_INT(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL),
	    PB_ENODEV);
	CHECK_EQ_INT(fake_count(), 0);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_CONTAINS(log_text, "no 16550 at 0x3f8");
	CHECK_MSG(io_count < 40, "%u port accesses to find nothing", io_count);
	serial_ops.stop(SELF);
}

TEST(serial_brings_up_com1)
{
	struct fake_res *r;

	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	REQUIRE((r = fake_find("console:com1")));
	CHECK_STR(r->props, "port=0x3f8 baud=115200 irq=4 fifo=16");
	CHECK(fake_find("keyboard:com1"));
	CHECK_EQ_INT(fake_count(), 2);
	/* 115200 8N1, FIFOs on, no interrupts, DTR RTS OUT2, not looped. */
	CHECK_EQ_INT(um[0].lcr, LCR_8N1);
	CHECK_EQ_INT(um[0].dll, 1);
	CHECK_EQ_INT(um[0].dlm, 0);
	CHECK_EQ_INT(um[0].ier, 0);
	CHECK_EQ_INT(um[0].fcr & FCR_ENABLE, FCR_ENABLE);
	CHECK_EQ_INT(um[0].fcr & FCR_RXRESET, 0);
	CHECK_EQ_INT(um[0].mcr, MCR_DTR | MCR_RTS | MCR_OUT2);
	CHECK_EQ_INT(um[0].rxn, 0);		/* the loop byte was read */
	CHECK_EQ_INT(um[0].txn, 0);		/* and never sent */
	CHECK_EQ_INT(timers_armed(), 1);
	CHECK_EQ_INT(con_write_to("console:com1", "one\ntwo\n"), 8);
	CHECK_STR(um[0].tx, "one\r\ntwo\r\n");
	serial_ops.stop(SELF);
	CHECK_EQ_INT(timers_armed(), 0);
}

TEST(serial_probes_every_port)
{
	serial_setup(0xf);
	um[2].floating = 1;			/* COM3: only SCR answers */
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK(fake_find("console:com1"));
	CHECK(fake_find("keyboard:com2"));
	CHECK_STR(fake_find("console:com2")->props,
	    "port=0x2f8 baud=115200 irq=3 fifo=16");
	CHECK(!fake_find("console:com3"));
	CHECK(fake_find("console:com4"));
	CHECK_EQ_INT(fake_count(), 6);
	CHECK_CONTAINS(log_text, "com3 at 0x3e8: scratch register "
	    "answers but loopback");
	CHECK_EQ_INT(con_write_to("console:com4", "4"), 1);
	CHECK_STR(um[3].tx, "4");
	CHECK_EQ_INT(um[0].txn, 0);
	serial_ops.stop(SELF);
}

TEST(serial_polls_and_decodes_keys)
{
	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	TYPE(&um[0], "x\033[A\x7f\r\n\033[3~\033OH");
	CHECK_STR(keys_of("keyboard:com1"), "");	/* not polled yet */
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "78,110000,8,d,110007,110004");
	CHECK_EQ_INT(timers_armed(), 1);		/* re-armed */
	/* A lone ESC is a key once the line stays idle for a while. */
	TYPE(&um[0], "\033");
	run_timers();
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "");
	run_timers();
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "110016");
	serial_ops.stop(SELF);
}

TEST(serial_reads_a_bounded_budget_per_tick)
{
	char many[100];

	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	memset(many, 'z', sizeof(many));
	rx_push(&um[0], many, sizeof(many));
	run_timers();
	CHECK_EQ_INT(um[0].rxn, sizeof(many) - POLL_BUDGET);
	run_timers();
	run_timers();
	run_timers();
	CHECK_EQ_INT(um[0].rxn, 0);
	CHECK_EQ_INT(keyq_len(ser.primary->keys), sizeof(many));
	serial_ops.stop(SELF);
}

TEST(serial_keeps_keys_typed_during_bringup)
{
	serial_setup(1);
	TYPE(&um[0], "ab");			/* in the FIFO before */
	um[0].on_loop[0] = 'c';			/* arrives just before LOOP */
	um[0].non_loop = 1;
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_STR(keys_of("keyboard:com1"), "61,62,63");
	serial_ops.stop(SELF);
}

TEST(serial_dead_port_never_hangs)
{
	unsigned before;
	uint64_t t0;

	serial_setup(1);
	um[0].stuck = 1;
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_CONTAINS(log_text, "LSR.TEMT not set within 20 ms");
	t0 = fake_ns;
	CHECK_EQ_INT(con_write_to("console:com1", "hello"), PB_EIO);
	CHECK_MSG(fake_ns - t0 < 60000000ull, "waited %llu ns",
	    (unsigned long long)(fake_ns - t0));
	before = io_count;
	CHECK_EQ_INT(con_write_to("console:com1", "again"), PB_EIO);
	CHECK_EQ_INT(io_count, before);		/* fails fast: no waiting */
	TYPE(&um[0], "k");			/* input still works */
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "6b");
	CHECK_EQ_INT(log_count("com1: LSR.THRE not set within 50 ms "
	    "(LSR=0x00): port marked dead (1 times)"), 1);
	run_timers();
	CHECK_EQ_INT(log_count("marked dead"), 1);	/* said once */
	um[0].stuck = 0;			/* the line recovers */
	run_timers();
	CHECK_EQ_INT(log_count("com1: LSR.THRE set again: port back"), 1);
	CHECK_EQ_INT(con_write_to("console:com1", "ok"), 2);
	CHECK_STR(um[0].tx, "ok");
	/* A line that keeps stalling is told at the 2nd, 4th... time. */
	for (int i = 0; i < 7; i++) {
		um[0].stuck = 1;
		con_write_to("console:com1", "x");
		run_timers();
		um[0].stuck = 0;
		run_timers();
	}
	CHECK_EQ_INT(log_count("marked dead"), 4);	/* 1, 2, 4, 8 */
	CHECK_EQ_INT(log_count("port back"), 4);
	CHECK_CONTAINS(log_text, "marked dead (8 times)");
	serial_ops.stop(SELF);
}

/* A state blob as another console would export it. */
static size_t
make_state(void *buf, const char *text, const char *keys)
{
	struct console_state st = { .fg = 0xaaaaaa };

	st.text_len = (uint32_t)strlen(text);
	for (; *keys && st.nkeys < CONSOLE_STATE_KEYS; keys++)
		st.keys[st.nkeys++] = key((uint8_t)*keys);
	memcpy(buf, &st, sizeof(st));
	memcpy((char *)buf + sizeof(st), text, st.text_len);
	return sizeof(st) + st.text_len;
}

TEST(serial_standby_takes_over)
{
	char blob[1024];
	size_t len = make_state(blob, "before\n", "kl");

	serial_setup(1);
	TYPE(&um[0], "m");			/* typed during the takeover */
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY) ==
	    PB_OK);
	CHECK_EQ_INT(io_count, 1);		/* COM1's LSR read, nothing else */
	io_count = 0;
	CHECK_STR(fake_find("console:com1")->props,
	    "port=0x3f8 baud=115200 irq=4");
	CHECK(fake_find("keyboard:com1"));
	CHECK_EQ_INT(con_write_to("console:com1", "x"), PB_EBUSY);
	CHECK_EQ_INT(serial_ops.import_state(SELF, blob, len, 1), PB_OK);
	CHECK_EQ_INT(io_count, 0);
	REQUIRE(serial_ops.activate(SELF) == PB_OK);
	CHECK_STR(fake_find("console:com1")->props,
	    "port=0x3f8 baud=115200 irq=4 fifo=16");
	/* Handed-over keys first, then what the FIFO had. */
	CHECK_STR(keys_of("keyboard:com1"), "6b,6c,6d");
	CHECK_EQ_INT(con_write_to("console:com1", "after\n"), 6);
	CHECK_STR(um[0].tx, "after\r\n");	/* the text is not repeated */
	serial_ops.stop(SELF);
}

/* COM1's key queue is in .data, another port's comes from the heap when
 * the port is found: the writable data (the module state, its 2 KiB of
 * output, COM1's queue) fits one page (issue 16, memdiet). */
TEST(serial_key_queues_of_the_ports_found)
{
	_Static_assert(sizeof(ser) + sizeof(serial_text) +
	    sizeof(com1_keys) <= 4096, "serial's .data in one page");
	serial_setup(0x3);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK(ser.ports[0].keys == &com1_keys);
	REQUIRE(ser.ports[1].keys != NULL);
	CHECK(ser.ports[1].keys != &com1_keys);
	TYPE(&um[1], "z");
	TYPE(&um[0], "a");
	port_drain_all(64);
	CHECK_STR(keys_of("keyboard:com2"), "7a");
	CHECK_STR(keys_of("keyboard:com1"), "61");
	serial_ops.stop(SELF);
}

TEST(serial_standby_without_com1_moves_to_com2)
{
	char blob[1024];
	size_t len = make_state(blob, "", "q");

	serial_setup(2);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY) ==
	    PB_OK);
	REQUIRE(serial_ops.import_state(SELF, blob, len, 1) == PB_OK);
	REQUIRE(serial_ops.activate(SELF) == PB_OK);
	CHECK(!fake_find("console:com1"));
	CHECK(!fake_find("keyboard:com1"));
	CHECK(fake_find("console:com2"));
	CHECK_STR(keys_of("keyboard:com2"), "71");
	CHECK_CONTAINS(log_text, "com1 is absent: its resources are "
	    "withdrawn");
	serial_ops.stop(SELF);
}

/* No port at all (many PCs): standby declines already, having only read
 * the four LSRs, so the takeover knows there is no serial keyboard. */
TEST(serial_standby_without_ports_declines)
{
	serial_setup(0);
	CHECK_EQ_INT(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY),
	    PB_ENODEV);
	CHECK_EQ_INT(io_count, 4);
	CHECK(!fake_find("console:com1"));
	CHECK_CONTAINS(log_text, "their LSRs read 0xff");
	CHECK_EQ_INT(timers_armed(), 0);
	serial_ops.stop(SELF);
}

TEST(serial_quiesce_export_resume)
{
	struct console_state st;
	char buf[4096];
	size_t len = 0, len2 = 0;
	uint32_t ver = 0;

	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	con_write_to("console:com1", "\033[1mprompt> ");
	TYPE(&um[0], "ab\033[B");		/* typed, not polled yet */
	REQUIRE(serial_ops.quiesce(SELF) == PB_OK);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(um[0].rxn, 0);		/* the FIFO was kept */
	CHECK_EQ_INT(con_write_to("console:com1", "no"), PB_EBUSY);
	CHECK_STR(keys_of("keyboard:com1"), "");
	REQUIRE(serial_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	CHECK_EQ_INT(ver, CONSOLE_STATE_VERSION);
	CHECK_EQ_INT(len, sizeof(st) + 12);
	REQUIRE(serial_ops.export_state(SELF, buf, len, &len2, &ver) ==
	    PB_OK);
	CHECK_EQ_INT(len2, len);
	memcpy(&st, buf, sizeof(st));
	CHECK_EQ_INT(st.nkeys, 3);
	CHECK_EQ_INT(st.keys[2].code, KEY_DOWN);
	CHECK_EQ_INT(st.text_len, 12);
	CHECK(memcmp(buf + sizeof(st), "\033[1mprompt> ", 12) == 0);
	CHECK_EQ_INT(serial_ops.export_state(SELF, buf, 10, &len2, &ver),
	    PB_EINVAL);
	REQUIRE(serial_ops.release(SELF) == PB_OK);
	/* The swap failed: serve again, nothing lost. */
	REQUIRE(serial_ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(timers_armed(), 1);
	CHECK_STR(keys_of("keyboard:com1"), "61,62,110001");
	serial_ops.stop(SELF);
}

/* The swap got as far as the new side programming the port, then went
 * back: that side faulted in its watch window, or part way through its
 * activate, and may have left the line as it liked it (another divisor,
 * DLAB still set, its loopback probe on).  The port is ours again only
 * as we set it up: what we write goes out on the line, what comes in is
 * read as keys. */
TEST(serial_resume_after_a_release_sets_the_port_up_again)
{
	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	REQUIRE(serial_ops.quiesce(SELF) == PB_OK);
	REQUIRE(serial_ops.release(SELF) == PB_OK);
	um[0].lcr = LCR_DLAB | LCR_8N1;		/* the other side's */
	um[0].dll = 12;
	um[0].mcr = MCR_LOOP;
	um[0].txn = 0;
	REQUIRE(serial_ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(con_write_to("console:com1", "ok"), 2);
	CHECK_EQ_INT(um[0].txn, 2);
	CHECK(um[0].txn == 2 && memcmp(um[0].tx, "ok", 2) == 0);
	CHECK_EQ_INT(um[0].lcr, LCR_8N1);
	CHECK_EQ_INT(um[0].dll, 1);
	CHECK_EQ_INT(um[0].mcr, MCR_DTR | MCR_RTS | MCR_OUT2);
	TYPE(&um[0], "z");
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "7a");
	serial_ops.stop(SELF);
}

/* A line typed while serial could not run (a work item hung for a
 * watchdog period, the interrupt queueing all the while) is longer than
 * the state's keys[]: every key reaches the restarted instance, in
 * order, the rest after the text; a short blob keeps keys before text. */
TEST(serial_state_hands_over_every_unread_key)
{
	static const char line[] = "sha256sum /esp/patchbay/mods/shell.mod\r";
	char buf[4096], want[512];
	struct console_state st;
	size_t len = 0, len2 = 0, n = 0;
	uint32_t ver = 0;

	for (const char *c = line; *c; c++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%x",
		    n ? "," : "", *c == '\r' ? 0xd : (unsigned)*c);
	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	con_write_to("console:com1", "patchbay> ");
	TYPE(&um[0], "sha256sum /esp/patchbay/mods/shell.mod\r");
	run_timers();
	REQUIRE(serial_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	CHECK_EQ_INT(len, sizeof(st) + 10 + (39 - CONSOLE_STATE_KEYS) * 8);
	REQUIRE(serial_ops.export_state(SELF, buf, len, &len2, &ver) ==
	    PB_OK);
	CHECK_EQ_INT(len2, len);
	memcpy(&st, buf, sizeof(st));
	CHECK_EQ_INT(st.nkeys, CONSOLE_STATE_KEYS);
	CHECK_EQ_INT(st.text_len, 10);
	/* Too short for all: the keys that fit go, before any text. */
	REQUIRE(serial_ops.export_state(SELF, buf, sizeof(st) + 3 * 8, &len2,
	    &ver) == PB_OK);
	CHECK_EQ_INT(len2, sizeof(st) + 3 * 8);
	CHECK_CONTAINS(log_text, "4 unread keys do not fit");
	REQUIRE(serial_ops.export_state(SELF, buf, len, &len2, &ver) ==
	    PB_OK);
	serial_ops.stop(SELF);
	/* The restarted instance. */
	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY) ==
	    PB_OK);
	REQUIRE(serial_ops.import_state(SELF, buf, len2, ver) == PB_OK);
	REQUIRE(serial_ops.activate(SELF) == PB_OK);
	CHECK_STR(keys_of("keyboard:com1"), want);
	CHECK_CONTAINS(log_text, "39 unread keys taken over");
	serial_ops.stop(SELF);
}

TEST(serial_import_checks_the_state)
{
	char blob[1024];
	struct console_state st;
	size_t len = make_state(blob, "text", "ab");

	serial_setup(1);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY) ==
	    PB_OK);
	CHECK_EQ_INT(serial_ops.import_state(SELF, blob, len, 2), PB_ESTATE);
	CHECK_EQ_INT(serial_ops.import_state(SELF, blob, 100, 1), PB_ESTATE);
	CHECK_EQ_INT(serial_ops.import_state(SELF, blob, len - 1, 1),
	    PB_ESTATE);
	memcpy(&st, blob, sizeof(st));
	st.nkeys = CONSOLE_STATE_KEYS + 1;
	memcpy(blob, &st, sizeof(st));
	CHECK_EQ_INT(serial_ops.import_state(SELF, blob, len, 1), PB_ESTATE);
	CHECK_EQ_INT(keyq_len(ser.primary->keys), 0);	/* nothing taken */
	CHECK_EQ_INT(ser.text.total, 0);
	serial_ops.stop(SELF);
}

/* ---- serial: receiving by interrupt ------------------------------ */

/* A fake `irq` provider: ISA line -> vector, as route_isa was told. */
static int froute[16];
static int froute_fail;

static int
firq_route_isa(void *ctx, unsigned isa, int vector)
{
	if (isa >= 16 || froute_fail)
		return PB_EIO;
	froute[isa] = vector;
	return PB_OK;
}

static int
firq_unroute(void *ctx, int vector)
{
	for (unsigned i = 0; i < 16; i++)
		if (froute[i] == vector)
			froute[i] = 0;
	return PB_OK;
}

static const struct irq_ops firq_ops = {
	.route_isa = firq_route_isa,
	.unroute = firq_unroute,
};
static struct pb_conn firq_conn = { .ops = &firq_ops, .res = "irq:apic" };

/* The ISA line fires: the handler routed to it runs, if any. */
static int
raise_isa(unsigned isa)
{
	int v = froute[isa];

	if (!v || !fvec[v].fn)
		return 0;
	fvec[v].fn(fvec[v].arg);
	return 1;
}

static void
irq_setup(unsigned present)
{
	serial_setup(present);
	memset(froute, 0, sizeof(froute));
	froute_fail = 0;
}

TEST(serial_irq_provider_switches_from_polling)
{
	irq_setup(3);				/* COM1 (IRQ 4), COM2 (IRQ 3) */
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(timers_armed(), 1);	/* polled: no provider yet */
	CHECK_EQ_INT(um[0].ier, 0);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	CHECK_EQ_INT(timers_armed(), 1);	/* the poll stopped; the
						 * lost-interrupt look */
	CHECK(froute[4] >= 64);
	CHECK(froute[3] >= 64);
	CHECK(froute[4] != froute[3]);
	CHECK_EQ_INT(vectors_used(), 2);
	CHECK_EQ_INT(um[0].ier, IER_ERBFI);
	CHECK_EQ_INT(um[1].ier, IER_ERBFI);
	CHECK_CONTAINS(log_text, "receiving by interrupt: ISA IRQ 4 on "
	    "vector");
	run_work();
	/* A key on COM1: the handler reads it, the keys are there at once. */
	TYPE(&um[0], "hi\033[A");
	REQUIRE(raise_isa(4));
	CHECK_EQ_INT(um[0].rxn, 0);
	CHECK_STR(keys_of("keyboard:com1"), "68,69,110000");
	CHECK_EQ_INT(fwork_n, 1);		/* port_check and the rest */
	raise_isa(4);
	CHECK_EQ_INT(fwork_n, 1);		/* queued once */
	run_work();
	TYPE(&um[1], "z");
	raise_isa(3);
	CHECK_STR(keys_of("keyboard:com2"), "7a");
	CHECK_STR(keys_of("keyboard:com1"), "");
	run_work();
	CHECK_EQ_INT(timers_armed(), 1);	/* nothing pending, no tick:
						 * the look alone */
	serial_ops.stop(SELF);
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK_EQ_INT(froute[4], 0);
	CHECK_EQ_INT(um[0].ier, 0);
}

TEST(serial_irq_handler_is_bounded)
{
	char many[200];

	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(timers_armed(), 1);	/* by interrupt from the start:
						 * the look alone */
	CHECK_EQ_INT(froute[3], 0);		/* no port on IRQ 3 */
	run_work();
	memset(many, 'q', sizeof(many));
	rx_push(&um[0], many, sizeof(many));
	raise_isa(4);
	CHECK_EQ_INT(um[0].rxn, sizeof(many) - IRQ_BUDGET);
	run_work();				/* the work reads on */
	CHECK_EQ_INT(um[0].rxn, sizeof(many) - IRQ_BUDGET - WORK_BUDGET);
	serial_ops.stop(SELF);
}

/* More than the key queue holds, typed at once: the port is throttled
 * (receive interrupt off, bytes left in the UART) until reads make room,
 * and no key is lost. */
TEST(serial_irq_full_queue_throttles_and_loses_nothing)
{
	char many[250];		/* the model FIFO holds 256 */
	struct pb_conn c;
	struct key_event ev;
	unsigned got = 0;

	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	memset(many, 'x', sizeof(many));
	rx_push(&um[0], many, sizeof(many));
	for (int i = 0; i < 20; i++) {
		raise_isa(4);
		run_work();
	}
	CHECK(um[0].rxn > 0);			/* the rest waits in the UART */
	CHECK_EQ_INT(um[0].ier, 0);		/* receive interrupt off */
	c = conn_to("keyboard:com1");
	for (int spins = 0; spins < 100 && got < sizeof(many); spins++) {
		while (PB_CALL(&c, keyboard_ops, read, &ev) == PB_OK) {
			CHECK_EQ_INT(ev.code, 'x');
			got++;
		}
		run_work();			/* unthrottled: reads on */
		raise_isa(4);
		run_work();
	}
	CHECK_EQ_INT(got, sizeof(many));
	CHECK_EQ_INT(um[0].rxn, 0);
	CHECK_EQ_INT(um[0].ier, IER_ERBFI);	/* on again */
	CHECK_EQ_INT(irq_holds, 0);
	serial_ops.stop(SELF);
}

/* keyboard 1.1: the client's work is queued once when keys wait, and
 * again only after a read found the queue empty. */
static unsigned told;

static void
client_told(void *arg)
{
	(void)arg;
	told++;
}

TEST(serial_notify_tells_once_until_read_empty)
{
	struct pb_conn c;
	struct key_event ev;

	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	told = 0;
	c = conn_to("keyboard:com1");
	REQUIRE(PB_CALL(&c, keyboard_ops, notify, SELF, client_told, NULL) ==
	    PB_OK);
	run_work();
	CHECK_EQ_INT(told, 0);			/* nothing waits yet */
	TYPE(&um[0], "ab");
	raise_isa(4);
	TYPE(&um[0], "c");
	raise_isa(4);
	run_work();
	CHECK_EQ_INT(told, 1);			/* once, not per key */
	CHECK(PB_CALL(&c, keyboard_ops, read, &ev) == PB_OK);
	TYPE(&um[0], "d");
	raise_isa(4);
	run_work();
	CHECK_EQ_INT(told, 1);			/* not read empty yet */
	while (PB_CALL(&c, keyboard_ops, read, &ev) == PB_OK)
		;
	TYPE(&um[0], "e");
	raise_isa(4);
	run_work();
	CHECK_EQ_INT(told, 2);
	/* Unregistered: no more. */
	PB_CALL(&c, keyboard_ops, notify, SELF, NULL, NULL);
	while (PB_CALL(&c, keyboard_ops, read, &ev) == PB_OK)
		;
	TYPE(&um[0], "f");
	raise_isa(4);
	run_work();
	CHECK_EQ_INT(told, 2);
	serial_ops.stop(SELF);
}

TEST(serial_irq_lone_escape_times_out)
{
	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	TYPE(&um[0], "\033");
	raise_isa(4);
	run_work();
	CHECK_STR(keys_of("keyboard:com1"), "");
	CHECK_EQ_INT(timers_armed(), 2);	/* the ESC tick, the look */
	run_timers();
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "");
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "110016");
	CHECK_EQ_INT(timers_armed(), 1);
	serial_ops.stop(SELF);
}

TEST(serial_irq_route_failure_falls_back_to_polling)
{
	irq_setup(1);
	froute_fail = 1;
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_CONTAINS(log_text, "ISA IRQ 4 not routed (-5): polling "
	    "instead");
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK_EQ_INT(um[0].ier, 0);
	CHECK_EQ_INT(timers_armed(), 1);
	TYPE(&um[0], "p");
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "70");
	serial_ops.stop(SELF);
}

TEST(serial_irq_quiesce_export_resume)
{
	struct console_state st;
	char buf[4096];
	size_t len = 0;
	uint32_t ver = 0;

	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	TYPE(&um[0], "ab");			/* no interrupt yet */
	REQUIRE(serial_ops.quiesce(SELF) == PB_OK);
	CHECK_EQ_INT(um[0].ier, 0);		/* the port is quiet */
	CHECK_EQ_INT(froute[4], 0);		/* and the line unrouted */
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(um[0].rxn, 0);		/* the FIFO kept as keys */
	REQUIRE(serial_ops.export_state(SELF, buf, sizeof(buf), &len, &ver) ==
	    PB_OK);
	memcpy(&st, buf, sizeof(st));
	CHECK_EQ_INT(st.nkeys, 2);
	REQUIRE(serial_ops.release(SELF) == PB_OK);
	REQUIRE(serial_ops.resume(SELF) == PB_OK);
	CHECK(froute[4] >= 64);
	CHECK_EQ_INT(um[0].ier, IER_ERBFI);
	CHECK_EQ_INT(timers_armed(), 1);	/* the look */
	CHECK_STR(keys_of("keyboard:com1"), "61,62");
	serial_ops.stop(SELF);
}

/* The handler did not run (an injected skip, or a lost interrupt): the
 * bytes wait in the FIFO with INTRPT raised, and no edge comes again;
 * the 100 ms look queues the work that reads them. */
TEST(campaign_serial_lost_interrupt_taken_by_the_look)
{
	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	TYPE(&um[0], "ls\r");			/* no interrupt comes */
	run_work();
	CHECK_STR(keys_of("keyboard:com1"), "");
	time_passes(100000000ull);
	CHECK_EQ_INT(fwork_n, 1);
	run_work();
	CHECK_STR(keys_of("keyboard:com1"), "6c,73,d");
	CHECK_CONTAINS(log_text, "com1: data waited with no interrupt");
	CHECK_EQ_INT(irq_holds, 0);
	CHECK_EQ_INT(timers_armed(), 1);	/* it looks again */
	serial_ops.stop(SELF);
	CHECK_EQ_INT(timers_armed(), 0);
}

static void
trapped(int sig)
{
	(void)sig;
	_exit(77);
}

/* Data that waits look after look with nothing read (the receive work
 * lost: a work item that ran with a corrupted argument and never read)
 * is a receive path that does not work: serial faults, to be restarted
 * from its image.  The fault is taken in a child. */
TEST(campaign_serial_receive_path_that_never_reads_faults)
{
	pid_t pid;
	int status = 0;

	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	TYPE(&um[0], "x");
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		struct sigaction sa = { .sa_handler = trapped };

		sigaction(SIGILL, &sa, NULL);
		work_queued = 1;		/* queued, and never runs */
		for (int i = 0; i < 9; i++)
			time_passes(100000000ull);
		if (strstr(log_text, "receive path is broken"))
			_exit(9);		/* too soon: nine looks */
		time_passes(100000000ull);
		_exit(0);
	}
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 77,
	    "the child %s %d", WIFEXITED(status) ? "exited" : "died of",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	/* Read at every look: nothing is broken. */
	for (int i = 0; i < 12; i++) {
		TYPE(&um[0], "y");
		time_passes(100000000ull);
		run_work();
	}
	CHECK(!strstr(log_text, "receive path is broken"));
	serial_ops.stop(SELF);
}

TEST(serial_irq_provider_leaves)
{
	irq_setup(1);
	serial_ops.event(SELF, PB_EV_CONNECTED, &firq_conn, REQ_IRQ);
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	run_work();
	serial_ops.event(SELF, PB_EV_DISCONNECTED, &firq_conn, REQ_IRQ);
	CHECK_CONTAINS(log_text, "the irq provider left: polling");
	CHECK_EQ_INT(um[0].ier, 0);
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK_EQ_INT(timers_armed(), 1);
	TYPE(&um[0], "k");
	run_timers();
	CHECK_STR(keys_of("keyboard:com1"), "6b");
	serial_ops.stop(SELF);
}

/* ---- efi-console, against a fake firmware ------------------------ */

static char fw_out[8192];
static size_t fw_outn;
static unsigned fw_clears, fw_calls;
static struct firmware_key fw_keys[64];
static unsigned fw_nkeys, fw_keyi;
static int fw_gone;

static int
fw_write(void *ctx, const char *s, size_t len)
{
	fw_calls++;
	if (fw_gone)
		return PB_ENOTSUP;
	memcpy(fw_out + fw_outn, s, len);
	fw_outn += len;
	fw_out[fw_outn] = '\0';
	return PB_OK;
}

/* When each key reaches ConIn (fake_ns), as the firmware's terminal
 * polls its serial driver: 0, at once. */
static uint64_t fw_key_at[64];

/* The keys the stub read from ConIn last thing before the exit: served
 * after it too (efi/firmware.c, read_late_keys). */
static unsigned fw_late;

static int
fw_read_key(void *ctx, struct firmware_key *k)
{
	fw_calls++;
	if (fw_gone && !fw_late)
		return PB_ENOTSUP;
	if (fw_gone)
		fw_late--;
	else if (fw_keyi == fw_nkeys || fw_key_at[fw_keyi] > fake_ns)
		return PB_EAGAIN;
	*k = fw_keys[fw_keyi++];
	return PB_OK;
}

static int
fw_clear(void *ctx)
{
	fw_calls++;
	fw_clears++;
	return fw_gone ? PB_ENOTSUP : PB_OK;
}

static int
fw_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	fw_calls++;
	*cols = 100;
	*rows = 31;
	return fw_gone ? PB_ENOTSUP : PB_OK;
}

static const struct firmware_ops fake_fw_ops = {
	.con_write = fw_write, .con_read_key = fw_read_key,
	.con_clear = fw_clear, .con_size = fw_size,
};
static struct pb_conn fw_conn = { .ops = &fake_fw_ops, .res = "firmware:uefi" };

static void
fw_key(uint16_t scan, uint32_t ch)
{
	fw_keys[fw_nkeys++] = (struct firmware_key){ .ch = ch, .scan = scan };
}

static void
eficon_setup(void)
{
	fake_hub_reset();
	memset(&efc, 0, sizeof(efc));
	fw_outn = fw_clears = fw_calls = fw_nkeys = fw_keyi = 0;
	memset(fw_key_at, 0, sizeof(fw_key_at));
	fw_gone = 0;
	fw_late = 0;
	fw_out[0] = '\0';
	eficon_ops.event(SELF, PB_EV_CONNECTED, &fw_conn, 0);
}

static struct log_line hub_lines[4];
static struct pb_conn hub_log_conn;
static void hub_line(unsigned i, uint64_t seq, int flags, const char *text);

/* The takeover's quiesce: PB_EAGAIN while the firmware's terminal
 * settles, the event loop turning meanwhile (1 ms a turn here). */
static int
eficon_settle(void)
{
	int r = PB_EAGAIN;

	for (int i = 0; i < 1000 && r == PB_EAGAIN; i++) {
		if ((r = eficon_ops.quiesce(SELF)) == PB_EAGAIN)
			fake_ns += 1000000;
	}
	return r;
}

TEST(eficon_declines_without_firmware)
{
	eficon_setup();
	eficon_ops.event(SELF, PB_EV_DISCONNECTED, &fw_conn, 0);
	CHECK_EQ_INT(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL),
	    PB_ENOENT);
	CHECK_EQ_INT(fake_count(), 0);
}

TEST(eficon_writes_what_conout_can_show)
{
	struct pb_conn c;
	uint32_t cols = 0, rows = 0;
	char raw[64];

	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_STR(fake_find("console:efi")->props, "via=conout cols=100 "
	    "rows=31");
	CHECK(fake_find("keyboard:efi"));
	c = conn_to("console:efi");
	PB_CALL(&c, console_ops, size, &cols, &rows);
	CHECK_EQ_INT(cols, 100);
	CHECK_EQ_INT(rows, 31);
	CHECK_EQ_INT(con_write_to("console:efi", "\033[31mred\033[0m\tx\n"),
	    15);
	CHECK_STR(fw_out, "red     x\n");
	CHECK_EQ_INT(con_write_to("console:efi", "a\033[2Jb"), 6);
	CHECK_EQ_INT(fw_clears, 1);
	CHECK_EQ_INT(PB_CALL(&c, console_ops, clear), PB_OK);
	CHECK_EQ_INT(fw_clears, 2);
	CHECK_STR(fw_out, "red     x\nab");
	/* The ring has the text as written. */
	raw[rt_textring_copy(&efc.text, raw, sizeof(raw) - 1)] = '\0';
	CHECK_STR(raw, "\033[31mred\033[0m\tx\na\033[2Jb\033[2J\033[H");
}

TEST(eficon_reads_keys)
{
	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	fw_key(0x01, 0);
	fw_key(0, 'a');
	fw_key(0x50, 0);			/* unknown: skipped */
	fw_key(0, 0x0d);
	fw_key(0x17, 0);
	CHECK_STR(keys_of("keyboard:efi"), "110000,61,d,110016");
}

TEST(eficon_quiesce_keeps_every_key)
{
	struct console_state st;
	char buf[4096];
	size_t len = 0, len2 = 0;
	uint32_t ver = 0;

	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	con_write_to("console:efi", "hello\n\033[32mok");
	fw_key(0, 'a');
	fw_key(0x02, 0);
	REQUIRE(eficon_settle() == PB_OK);
	CHECK_EQ_INT(fw_keyi, 2);		/* ConIn drained */
	CHECK_EQ_INT(con_write_to("console:efi", "late"), PB_EBUSY);
	CHECK_STR(keys_of("keyboard:efi"), "");
	fw_key(0, 'z');				/* typed during the takeover */
	REQUIRE(eficon_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	CHECK_EQ_INT(len, sizeof(st) + 13);
	for (int twice = 0; twice < 2; twice++) {
		REQUIRE(eficon_ops.export_state(SELF, buf, len, &len2, &ver) ==
		    PB_OK);
		CHECK_EQ_INT(ver, CONSOLE_STATE_VERSION);
		CHECK_EQ_INT(len2, len);
		memcpy(&st, buf, sizeof(st));
		CHECK_EQ_INT(st.cols, 100);
		CHECK_EQ_INT(st.rows, 31);
		CHECK_EQ_INT(st.cur_x, 2);
		CHECK_EQ_INT(st.cur_y, 1);
		CHECK_EQ_INT(st.fg, 0x00aa00);
		CHECK_EQ_INT(st.nkeys, 3);
		CHECK_EQ_INT(st.keys[1].code, KEY_DOWN);
		CHECK_EQ_INT(st.keys[2].code, 'z');
		CHECK_EQ_INT(st.text_len, 13);
		CHECK(memcmp(buf + sizeof(st), "hello\n\033[32mok", 13) == 0);
	}
	/* The swap failed: the keys are served first, then ConIn's. */
	fw_key(0, 'y');
	REQUIRE(eficon_ops.resume(SELF) == PB_OK);
	CHECK_STR(keys_of("keyboard:efi"), "61,110001,7a,79");
}

/* A key the firmware's serial driver already holds reaches ConIn at the
 * terminal's next poll (20 ms apart in EDK2): the quiesce answers
 * PB_EAGAIN, serving, until ConIn has stayed empty longer than that, and
 * no longer than its bound; the export then waits for nothing. */
TEST(eficon_quiesce_waits_for_the_terminals_poll)
{
	struct console_state st;
	char buf[4096];
	size_t len = 0;
	uint32_t ver = 0;
	uint64_t t0, t_ok;

	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK(con_write_to("console:efi", "> ") == 2);	/* may take bytes */
	t0 = fake_ns;
	fw_key(0, 'q');
	fw_key_at[0] = t0 + 15000000;		/* the next poll */
	fw_key(0, 'r');
	fw_key_at[1] = t0 + 35000000;		/* the one after */
	fw_key(0, 's');
	fw_key_at[2] = t0 + 200000000;		/* past the bound */
	REQUIRE(eficon_settle() == PB_OK);
	t_ok = fake_ns;
	/* Quiet for 25 ms after 'r', and within 100 ms in all. */
	CHECK(t_ok >= t0 + 60000000);
	CHECK(t_ok < t0 + 110000000);
	CHECK_EQ_INT(con_write_to("console:efi", "late"), PB_EBUSY);
	REQUIRE(eficon_ops.export_state(SELF, buf, sizeof(buf), &len, &ver) ==
	    PB_OK);
	CHECK(fake_ns - t_ok < 1000000);	/* no wait in the blackout */
	memcpy(&st, buf, sizeof(st));
	CHECK_EQ_INT(st.nkeys, 2);
	CHECK_EQ_INT(st.keys[0].code, 'q');
	CHECK_EQ_INT(st.keys[1].code, 'r');
}

/* Nothing written and no key for longer than the terminal's poll: the
 * quiesce waits for nothing (the hub writes nothing while it prepares the
 * takeover), and neither does a line the hub wrote long before. */
TEST(eficon_quiet_already_no_wait)
{
	uint64_t t0;

	hub_line(0, 3, LOG_F_SHOWN, "Patchbay stub: loading the hub");
	hub_line(1, 5, LOG_F_SHOWN, "hub line");
	hub_line(2, 6, 0, "shown by the shell");
	hub_line(3, 7, LOG_F_QUIET, "quiet");
	eficon_setup();
	eficon_ops.event(SELF, PB_EV_CONNECTED, &hub_log_conn, 1);
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK(con_write_to("console:efi", "x") == 1);
	fake_ns += 30000000;
	t0 = fake_ns;
	CHECK_EQ_INT(eficon_ops.quiesce(SELF), PB_EAGAIN);	/* hub lines */
	CHECK_EQ_INT(eficon_ops.quiesce(SELF), PB_OK);
	CHECK(fake_ns - t0 < 1000000);
	/* A line the hub wrote just now: 25 ms from its end. */
	REQUIRE(eficon_ops.resume(SELF) == PB_OK);
	hub_line(3, 8, LOG_F_SHOWN, "takeover: an error");
	hub_lines[3].ns = fake_ns;
	t0 = fake_ns;
	REQUIRE(eficon_settle() == PB_OK);
	CHECK(fake_ns >= t0 + 25000000);
}

/* While it settles the module serves: a key read meanwhile goes to the
 * client, and a write on ConOut (which may make the firmware take bytes
 * from the UART) starts the quiet time again. */
TEST(eficon_serves_while_it_settles)
{
	uint64_t t0;
	int r;

	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	fw_key(0, 'k');
	t0 = fake_ns;
	CHECK_EQ_INT(eficon_ops.quiesce(SELF), PB_EAGAIN);
	CHECK_STR(keys_of("keyboard:efi"), "6b");
	fake_ns += 20000000;
	CHECK_EQ_INT(eficon_ops.quiesce(SELF), PB_EAGAIN);
	CHECK(con_write_to("console:efi", "echo") == 4);
	fake_ns += 20000000;
	CHECK_EQ_INT(eficon_ops.quiesce(SELF), PB_EAGAIN);
	r = eficon_settle();
	CHECK_EQ_INT(r, PB_OK);
	CHECK(fake_ns >= t0 + 45000000);	/* 25 ms after the write */
	REQUIRE(eficon_ops.resume(SELF) == PB_OK);
	CHECK(con_write_to("console:efi", "again") == 5);
}

TEST(eficon_resume_after_the_firmware_left)
{
	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	REQUIRE(eficon_settle() == PB_OK);
	fw_gone = 1;
	eficon_ops.event(SELF, PB_EV_DISCONNECTED, &fw_conn, 0);
	fw_calls = 0;
	REQUIRE(eficon_ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(fw_calls, 0);		/* resume calls nothing */
	CHECK_EQ_INT(con_write_to("console:efi", "x"), PB_EIO);
	CHECK_STR(keys_of("keyboard:efi"), "");
	CHECK_EQ_INT(fw_calls, 0);
}

/* No native keyboard took its keys at the exit (hub/kbdhold.c): a key
 * that reached ConIn after the quiesce's read, which the stub read last
 * thing before the exit, is served too, and keeps the keyboard. */
TEST(eficon_kept_after_the_exit_serves_the_firmware_s_last_keys)
{
	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	REQUIRE(eficon_settle() == PB_OK);
	fw_key(0, 'z');
	fw_gone = 1;
	fw_late = 1;
	eficon_ops.event(SELF, PB_EV_DISCONNECTED, &fw_conn, 0);
	CHECK_EQ_INT(fw_late, 0);
	REQUIRE(eficon_ops.resume(SELF) == PB_OK);
	fw_calls = 0;
	CHECK_STR(keys_of("keyboard:efi"), "7a");
	CHECK_EQ_INT(fw_calls, 0);	/* the firmware is not asked again */
	CHECK(!strstr(log_text, "withdrawn"));
}

/* The takeover, module to module: efi-console's state into serial. */
TEST(eficon_to_serial_keys_survive)
{
	char buf[CONSOLE_STATE_TEXT_MAX + 512];
	size_t len = 0;
	uint32_t ver = 0;

	eficon_setup();
	serial_setup(1);
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	con_write_to("console:efi", "patchbay> ");
	fw_key(0, 'l');				/* in ConIn */
	REQUIRE(serial_ops.start(SELF, &fake_hub, PB_START_STANDBY) ==
	    PB_OK);
	REQUIRE(eficon_settle() == PB_OK);
	fw_key(0, 's');				/* still in ConIn at export */
	REQUIRE(eficon_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	REQUIRE(eficon_ops.export_state(SELF, buf, len, &len, &ver) == PB_OK);
	TYPE(&um[0], "\r");			/* in the UART's FIFO */
	REQUIRE(serial_ops.import_state(SELF, buf, len, ver) == PB_OK);
	REQUIRE(serial_ops.activate(SELF) == PB_OK);
	CHECK_STR(keys_of("keyboard:com1"), "6c,73,d");
	/* And serial hands the whole history on to the next console. */
	CHECK_EQ_INT(rt_textring_copy(&ser.text, NULL, 100), 10);
	serial_ops.stop(SELF);
}

TEST(eficon_import_takes_keys)
{
	char blob[1024];
	size_t len = make_state(blob, "old text\n", "ab");

	eficon_setup();
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	fw_key(0, 'c');
	CHECK_EQ_INT(eficon_ops.import_state(SELF, blob, len, 7), PB_ESTATE);
	CHECK_EQ_INT(eficon_ops.import_state(SELF, blob, len, 1), PB_OK);
	CHECK_STR(keys_of("keyboard:efi"), "61,62,63");
	CHECK_EQ_INT(rt_textring_copy(&efc.text, NULL, 100), 9);
}

/* ---- efi-console: the stub's and the hub's lines first ----------- */

static int
hub_log_read(void *ctx, uint64_t seq, struct log_line *out)
{
	for (unsigned i = 0; i < 4; i++)
		if (hub_lines[i].seq >= seq) {
			*out = hub_lines[i];
			return PB_OK;
		}
	return PB_ENOENT;
}

static const struct log_ops hub_log_ops = { .read = hub_log_read };
static struct pb_conn hub_log_conn = { .ops = &hub_log_ops, .res = "log:hub" };

static void
hub_line(unsigned i, uint64_t seq, int flags, const char *text)
{
	hub_lines[i] = (struct log_line){ .seq = seq, .ns = seq * 1000000,
	    .kind = LOG_BOOT, .flags = (uint8_t)flags };
	snprintf(hub_lines[i].text, sizeof(hub_lines[i].text), "%s", text);
}

/* The lines the stub and the hub wrote on ConOut themselves (SHOWN) come
 * before what the clients wrote; the clients' text has the room first. */
TEST(eficon_export_puts_the_hubs_own_lines_first)
{
	struct console_state st;
	char buf[4096];
	size_t len = 0;
	uint32_t ver = 0;

	hub_line(0, 3, LOG_F_SHOWN, "Patchbay stub: loading the hub");
	hub_line(1, 5, LOG_F_SHOWN, "hub line");
	hub_line(2, 6, 0, "shown by the shell");
	hub_line(3, 7, LOG_F_QUIET, "quiet");
	eficon_setup();
	eficon_ops.event(SELF, PB_EV_CONNECTED, &hub_log_conn, 1);
	REQUIRE(eficon_ops.start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	con_write_to("console:efi", "patchbay> ");
	REQUIRE(eficon_settle() == PB_OK);
	REQUIRE(eficon_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	REQUIRE(eficon_ops.export_state(SELF, buf, len, &len, &ver) == PB_OK);
	memcpy(&st, buf, sizeof(st));
	buf[len] = '\0';
	CHECK_STR(buf + sizeof(st), "[    0.003000] Patchbay stub: loading "
	    "the hub\n[    0.005000] hub line\npatchbay> ");
	CHECK_EQ_INT(st.text_len, len - sizeof(st));
	/* Short of room: the newest whole lines that fit. */
	REQUIRE(eficon_ops.export_state(SELF, buf, sizeof(st) + 40, &len,
	    &ver) == PB_OK);
	buf[len] = '\0';
	CHECK_STR(buf + sizeof(st), "[    0.005000] hub line\npatchbay> ");
	REQUIRE(eficon_ops.export_state(SELF, buf, sizeof(st) + 12, &len,
	    &ver) == PB_OK);
	buf[len] = '\0';
	CHECK_STR(buf + sizeof(st), "patchbay> ");
	eficon_ops.event(SELF, PB_EV_DISCONNECTED, &hub_log_conn, 1);
}
