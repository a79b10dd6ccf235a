/*
 * ansi.h - a byte-at-a-time parser for the text a console is given: UTF-8
 * with ECMA-48 control functions (the "ANSI escape sequences").
 *
 * The parser only recognises; what a sequence means is its caller's (see
 * term.c).  It keeps its state between calls, so a sequence or a UTF-8
 * character may be split across writes anywhere.  It calls:
 *   text     a run of printable ASCII (0x20-0x7E) bytes;
 *   glyph    one other character, as a code point (U+FFFD for a malformed
 *            UTF-8 sequence, which never swallows the byte that broke it);
 *   control  a C0 control to execute: BS, HT, LF, VT, FF, CR (BEL, NUL and
 *            the rest are dropped);
 *   csi      a complete CSI sequence (ECMA-48 5.4): final byte, private
 *            marker, parameters;
 *   esc      a two-byte escape sequence ESC F (ESC 7, ESC 8, ESC c...).
 * Escape sequences with intermediates (ESC ( B), and control strings (OSC,
 * DCS, SOS, PM, APC, ended by ST or BEL) are recognised and dropped.
 *
 * Malformed input is dropped safely: parameters beyond ANSI_MAX_PARAMS are
 * ignored, values saturate at ANSI_PARAM_MAX, a CSI with a misplaced private
 * marker is ignored, CAN and SUB cancel a sequence, a sequence longer than
 * ANSI_SEQ_MAX bytes (or a control string longer than ANSI_STR_MAX) is
 * abandoned and the parser is back to text, and a byte >= 0x80 inside a
 * sequence ends it and starts a character.  Nothing here allocates or can
 * overflow.  Pure C: the host tests compile it (tests/host/test_ansi.c).
 */
#ifndef FBCON_ANSI_H
#define FBCON_ANSI_H

#include <stddef.h>
#include <stdint.h>

#define ANSI_MAX_PARAMS 16
#define ANSI_PARAM_MAX 9999
#define ANSI_SEQ_MAX 64		/* bytes of one escape sequence */
#define ANSI_STR_MAX 512	/* bytes of one control string */
#define ANSI_BAD_CHAR 0xFFFDu	/* U+FFFD REPLACEMENT CHARACTER */

/* A complete control sequence: CSI [priv] p1 ; p2 ... final. */
struct ansi_csi {
	uint16_t p[ANSI_MAX_PARAMS];	/* 0 where a parameter was omitted */
	uint8_t n;			/* parameters present (0 for none) */
	char priv;			/* '<' '=' '>' '?' or 0 */
	char final;			/* 0x40-0x7E */
};

struct ansi_ops {
	void (*text)(void *ctx, const char *s, size_t n);
	void (*glyph)(void *ctx, uint32_t cp);
	void (*control)(void *ctx, int c);
	void (*csi)(void *ctx, const struct ansi_csi *c);
	void (*esc)(void *ctx, int final);
};

struct ansi {
	uint8_t state;		/* enum in ansi.c */
	uint8_t bad;		/* the sequence will be ignored */
	uint8_t inter;		/* intermediate bytes seen (CSI) */
	uint8_t need;		/* UTF-8 continuation bytes still expected */
	uint16_t len;		/* bytes of the sequence or string so far */
	uint32_t cp, min;	/* UTF-8 code point so far; its least value */
	struct ansi_csi csi;
};

void ansi_init(struct ansi *a);
void ansi_feed(struct ansi *a, const char *s, size_t n,
    const struct ansi_ops *ops, void *ctx);

#endif
