/*
 * ansi.c - the console's escape sequence and UTF-8 parser (see ansi.h).
 *
 * References: ECMA-48 5th edition (1991): 5.3 escape sequences, 5.4
 * control sequences (CSI P...P I...I F), 5.6 control strings, 8.3 the C0
 * set; the Unicode Standard 15, 3.9 table 3-7 (well-formed UTF-8).
 */
#include "ansi.h"
#include "../../abi/rt/rt.h"

enum {
	GROUND,		/* text */
	UTF8,		/* inside a multi-byte character */
	ESC,		/* after ESC */
	ESC_INTER,	/* ESC and intermediates (0x20-0x2F): to the final */
	CSI,		/* inside ESC [ ... */
	STR,		/* a control string: OSC, DCS, SOS, PM, APC */
	STR_ESC,	/* an ESC inside a control string: ST follows? */
};

#define C_BEL 0x07
#define C_BS 0x08
#define C_CR 0x0d
#define C_CAN 0x18
#define C_SUB 0x1a
#define C_ESC 0x1b
#define C_DEL 0x7f

void
ansi_init(struct ansi *a)
{
	memset(a, 0, sizeof(*a));
}

static void
enter(struct ansi *a, int state)
{
	a->state = (uint8_t)state;
	a->len = 0;
	a->bad = 0;
	a->inter = 0;
	if (state == CSI)
		memset(&a->csi, 0, sizeof(a->csi));
}

/* C0 controls a console acts on: BS HT LF VT FF CR (ECMA-48 8.3). */
static void
control(uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c >= C_BS && c <= C_CR)
		ops->control(ctx, c);
}

/* A byte >= 0x80 in text: the lead byte of a UTF-8 character. */
static void
utf8_lead(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c >= 0xc2 && c <= 0xdf) {
		a->need = 1, a->cp = c & 0x1f, a->min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		a->need = 2, a->cp = c & 0x0f, a->min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		a->need = 3, a->cp = c & 0x07, a->min = 0x10000;
	} else {		/* continuation, overlong C0/C1, > U+10FFFF */
		ops->glyph(ctx, ANSI_BAD_CHAR);
		return;
	}
	a->state = UTF8;
}

/* Returns 0 when c ended a broken character and must be read again. */
static int
utf8_next(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	uint32_t cp;

	a->state = GROUND;
	if ((c & 0xc0) != 0x80) {
		ops->glyph(ctx, ANSI_BAD_CHAR);
		return 0;
	}
	a->cp = a->cp << 6 | (c & 0x3f);
	if (--a->need) {
		a->state = UTF8;
		return 1;
	}
	cp = a->cp;
	if (cp < a->min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = ANSI_BAD_CHAR;	/* overlong, too big, or a surrogate */
	ops->glyph(ctx, cp);
	return 1;
}

static void
ground(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c == C_ESC)
		enter(a, ESC);
	else if (c < 0x20)
		control(c, ops, ctx);
	else if (c >= 0x80)
		utf8_lead(a, c, ops, ctx);
	/* DEL is dropped; printable bytes never get here (ansi_feed). */
}

/* ESC F: ECMA-48 5.3.  '[' opens a CSI, ']' 'P' 'X' '^' '_' strings. */
static void
escape(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c == '[') {
		enter(a, CSI);
	} else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
		enter(a, STR);
	} else if (c >= 0x20 && c <= 0x2f) {
		a->state = ESC_INTER;
	} else {
		enter(a, GROUND);
		ops->esc(ctx, c);
	}
}

/* One parameter byte 0x30-0x3F of a CSI (ECMA-48 5.4.1 and 5.4.2). */
static void
csi_param(struct ansi *a, uint8_t c)
{
	struct ansi_csi *q = &a->csi;

	if (c >= '<') {			/* private marker: first byte only */
		if (q->n || q->priv)
			a->bad = 1;
		else
			q->priv = (char)c;
		return;
	}
	if (q->n == 0)
		q->n = 1;
	if (c == ';' || c == ':') {	/* next parameter (':' sub-parameter) */
		if (q->n <= ANSI_MAX_PARAMS)
			q->n++;
		return;
	}
	if (q->n <= ANSI_MAX_PARAMS) {
		uint32_t v = q->p[q->n - 1] * 10u + (c - '0');

		q->p[q->n - 1] = (uint16_t)(v > ANSI_PARAM_MAX ?
		    ANSI_PARAM_MAX : v);
	}
}

static void
csi(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c >= 0x30 && c <= 0x3f) {
		if (a->inter)		/* parameters after intermediates */
			a->bad = 1;
		csi_param(a, c);
	} else if (c >= 0x20 && c <= 0x2f) {
		a->inter = 1;
		a->bad = 1;		/* we know no sequence that has them */
	} else {
		if (a->csi.n > ANSI_MAX_PARAMS)
			a->csi.n = ANSI_MAX_PARAMS;
		a->csi.final = (char)c;
		a->state = GROUND;
		if (!a->bad)
			ops->csi(ctx, &a->csi);
	}
}

/* Control strings end with ST (ESC \) or, as xterm allows, BEL. */
static int
string(struct ansi *a, uint8_t c)
{
	if (a->state == STR_ESC) {
		if (c == '\\') {
			a->state = GROUND;
			return 1;
		}
		enter(a, ESC);
		return 0;	/* an ESC that starts something else */
	}
	if (c == C_BEL || c == C_CAN || c == C_SUB)
		a->state = GROUND;
	else if (c == C_ESC)
		a->state = STR_ESC;
	else if (++a->len > ANSI_STR_MAX)
		a->state = GROUND;
	return 1;
}

/*
 * A byte inside an escape or control sequence.  Returns 0 when it ended
 * the sequence without being part of it, so it must be read again.
 */
static int
sequence(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	if (c >= 0x80) {		/* not 7-bit: the sequence is broken */
		a->state = GROUND;
		return 0;
	}
	if (c == C_ESC) {
		enter(a, ESC);
		return 1;
	}
	if (c == C_CAN || c == C_SUB) {
		a->state = GROUND;
		return 1;
	}
	if (c < 0x20) {			/* run in the middle, as a VT does */
		control(c, ops, ctx);
		return 1;
	}
	if (c == C_DEL)
		return 1;
	if (++a->len > ANSI_SEQ_MAX) {	/* overlong: abandon it */
		a->state = GROUND;
		return 1;
	}
	if (a->state == ESC)
		escape(a, c, ops, ctx);
	else if (a->state == CSI)
		csi(a, c, ops, ctx);
	else if (c >= 0x30)		/* ESC_INTER: the final byte */
		a->state = GROUND;
	return 1;
}

static int
step(struct ansi *a, uint8_t c, const struct ansi_ops *ops, void *ctx)
{
	switch (a->state) {
	case GROUND:
		ground(a, c, ops, ctx);
		return 1;
	case UTF8:
		return utf8_next(a, c, ops, ctx);
	case STR:
	case STR_ESC:
		return string(a, c);
	default:
		return sequence(a, c, ops, ctx);
	}
}

void
ansi_feed(struct ansi *a, const char *s, size_t n, const struct ansi_ops *ops,
    void *ctx)
{
	size_t i = 0, j;

	while (i < n) {
		if (a->state == GROUND) {	/* the common case: text */
			for (j = i; j < n && (uint8_t)s[j] >= 0x20 &&
			    (uint8_t)s[j] < C_DEL; j++)
				;
			if (j > i) {
				ops->text(ctx, s + i, j - i);
				i = j;
				continue;
			}
		}
		i += (size_t)step(a, (uint8_t)s[i], ops, ctx);
	}
}
