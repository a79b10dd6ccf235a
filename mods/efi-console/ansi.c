/*
 * ansi.c - the ConOut filter (see ansi.h).  Sequence syntax: ECMA-48
 * section 5.4 (CSI P...P I...I F), 8.3.89 (OSC), 8.3.143 (ST); colours:
 * SGR, section 8.3.117, with the xterm 256-colour and direct-colour forms.
 */
#include "ansi.h"

enum ansi_state { A_GROUND, A_ESC, A_ESC_INTER, A_CSI, A_STR, A_STR_ESC };

#define ESC 0x1b
#define BEL 0x07
#define TAB 8
#define ROOM 9			/* the most one input byte writes (a tab) */
#define PARAM_MAX 9999

/* The 16 colours: VGA's, which are also EFI's text attributes. */
static const uint32_t palette[16] = {
	0x000000, 0xaa0000, 0x00aa00, 0xaa5500,
	0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
	0x555555, 0xff5555, 0x55ff55, 0xffff55,
	0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

void
ansi_init(struct ansi *a, uint32_t cols, uint32_t rows)
{
	*a = (struct ansi){ .state = A_GROUND, .fg = ANSI_FG, .bg = ANSI_BG,
	    .cols = cols ? cols : 80, .rows = rows ? rows : 25 };
}

static void
newline(struct ansi *a)
{
	a->col = a->used = 0;
	if (a->row + 1 < a->rows)
		a->row++;
}

/* Character c in the cell under the cursor, which moves on: ConOut wraps
 * at the right margin. */
static void
advance(struct ansi *a, char c)
{
	if (a->col < ANSI_ROW)
		a->line[a->col] = c;
	if (++a->col > a->used)
		a->used = a->col;
	if (a->col >= a->cols)
		newline(a);
}

int
ansi_pending(const struct ansi *a)
{
	return a->blank || a->cr || a->col < a->goal;
}

/* CUB, CUF, EL (ECMA-48 8.3.18, 8.3.20, 8.3.41), in this row only. */
static void
cursor_work(struct ansi *a, uint8_t c)
{
	uint32_t n = a->nparam && a->param[0] ? a->param[0] : 1;
	uint32_t room = a->cols - 1 - a->col;

	if (c == 'D') {
		a->cr = 1;
		a->goal = a->col - (n < a->col ? n : a->col);
	} else if (c == 'C') {
		a->goal = a->col + (n < room ? n : room);
	} else if (c == 'K' && (!a->nparam || a->param[0] == 0) &&
	    a->used > a->col) {
		a->blank = a->used - a->col;
		a->cr = 1;
		a->goal = a->col;
	}
	if (!a->cr && a->goal <= a->col)
		a->goal = 0;		/* nothing to do */
}

/* xterm's 256 colours: 16 base, a 6x6x6 cube, 24 greys. */
static uint32_t
color256(uint16_t n)
{
	static const uint8_t level[6] = { 0, 95, 135, 175, 215, 255 };

	if (n < 16)
		return palette[n];
	if (n < 232) {
		n -= 16;
		return (uint32_t)level[n / 36] << 16 |
		    (uint32_t)level[n / 6 % 6] << 8 | level[n % 6];
	}
	if (n < 256) {
		uint32_t g = 8 + 10 * (uint32_t)(n - 232);
		return g << 16 | g << 8 | g;
	}
	return ANSI_FG;
}

/* SGR 38/48 ; 5 ; n  or  38/48 ; 2 ; r ; g ; b: parameters used. */
static unsigned
extended(const struct ansi *a, unsigned i, uint32_t *color)
{
	const uint16_t *p = a->param;

	if (i + 2 < a->nparam && p[i + 1] == 5) {
		*color = color256(p[i + 2]);
		return 2;
	}
	if (i + 4 < a->nparam && p[i + 1] == 2) {
		*color = (uint32_t)(p[i + 2] & 0xff) << 16 |
		    (uint32_t)(p[i + 3] & 0xff) << 8 | (p[i + 4] & 0xff);
		return 4;
	}
	return a->nparam - i;		/* malformed: the rest is ignored */
}

static void
sgr(struct ansi *a)
{
	if (a->nparam == 0)
		a->nparam = 1;		/* CSI m is CSI 0 m */
	for (unsigned i = 0; i < a->nparam; i++) {
		uint16_t p = a->param[i];

		if (p == 0) {
			a->fg = ANSI_FG;
			a->bg = ANSI_BG;
		} else if (p >= 30 && p <= 37) {
			a->fg = palette[p - 30];
		} else if (p >= 90 && p <= 97) {
			a->fg = palette[p - 90 + 8];
		} else if (p == 39) {
			a->fg = ANSI_FG;
		} else if (p >= 40 && p <= 47) {
			a->bg = palette[p - 40];
		} else if (p >= 100 && p <= 107) {
			a->bg = palette[p - 100 + 8];
		} else if (p == 49) {
			a->bg = ANSI_BG;
		} else if (p == 38) {
			i += extended(a, i, &a->fg);
		} else if (p == 48) {
			i += extended(a, i, &a->bg);
		}
	}
}

/* The final byte of a CSI sequence: what ConOut can honour. */
static int
csi_end(struct ansi *a, uint8_t c)
{
	a->state = A_GROUND;
	if (a->odd)
		return ANSI_NONE;
	if (c == 'm') {
		sgr(a);
	} else if (c == 'J' && a->nparam && (a->param[0] == 2 ||
	    a->param[0] == 3)) {
		a->col = a->row = a->used = 0;
		return ANSI_CLEAR;
	} else if (c == 'C' || c == 'D' || c == 'K') {
		cursor_work(a, c);
	}
	return ANSI_NONE;		/* other moves and the rest: dropped */
}

static void
csi_param(struct ansi *a, uint8_t c)
{
	if (c == ';' || c == ':') {
		if (a->nparam == 0)
			a->nparam = 1;
		if (a->nparam < ANSI_PARAMS)
			a->param[a->nparam++] = 0;
		return;
	}
	if (a->nparam == 0)
		a->nparam = 1;
	uint16_t *p = &a->param[a->nparam - 1];
	*p = *p >= PARAM_MAX / 10 ? PARAM_MAX : (uint16_t)(*p * 10 + c - '0');
}

static int text_byte(struct ansi *a, uint8_t c, char *out, size_t *n);

static int
csi_byte(struct ansi *a, uint8_t c, char *out, size_t *n)
{
	if ((c >= '0' && c <= '9') || c == ';' || c == ':')
		csi_param(a, c);
	else if ((c >= 0x3c && c <= 0x3f) || (c >= 0x20 && c <= 0x2f))
		a->odd = 1;		/* private markers, intermediates */
	else if (c >= 0x40 && c <= 0x7e)
		return csi_end(a, c);
	else {				/* a control byte cuts it short */
		a->state = A_GROUND;
		return text_byte(a, c, out, n);
	}
	return ANSI_NONE;
}

static int
esc_byte(struct ansi *a, uint8_t c)
{
	a->state = A_GROUND;
	a->nparam = a->odd = 0;
	for (unsigned i = 0; i < ANSI_PARAMS; i++)
		a->param[i] = 0;
	if (c == '[')
		a->state = A_CSI;
	else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
		a->state = A_STR;	/* OSC, DCS, SOS, PM, APC: to ST */
	else if (c >= 0x20 && c <= 0x2f)
		a->state = A_ESC_INTER;	/* ESC ( B and the like */
	else if (c == 'c') {		/* RIS: reset to initial state */
		ansi_init(a, a->cols, a->rows);
		return ANSI_CLEAR;
	} else if (c == ESC)
		a->state = A_ESC;
	return ANSI_NONE;
}

static int
text_byte(struct ansi *a, uint8_t c, char *out, size_t *n)
{
	if (c == ESC) {
		a->state = A_ESC;
	} else if (c == '\t') {
		do {
			out[(*n)++] = ' ';
			advance(a, ' ');
		} while (a->col % TAB);
	} else if (c == '\n') {
		out[(*n)++] = (char)c;
		newline(a);
	} else if (c == '\r') {
		out[(*n)++] = (char)c;
		a->col = 0;
	} else if (c == '\b') {
		out[(*n)++] = (char)c;
		if (a->col)
			a->col--;
	} else if (c >= 0x20 && c != 0x7f) {
		out[(*n)++] = (char)c;
		if (c < 0x80)
			advance(a, (char)c);
		else if ((c & 0xc0) != 0x80)	/* a cell per UTF-8 lead */
			advance(a, '?');	/* what the stub shows */
	}				/* other controls: dropped */
	return ANSI_NONE;
}

static int
step(struct ansi *a, uint8_t c, char *out, size_t *n)
{
	switch (a->state) {
	case A_ESC:
		return esc_byte(a, c);
	case A_ESC_INTER:
		if (c >= 0x30 && c <= 0x7e)
			a->state = A_GROUND;
		else if (c < 0x20)
			a->state = A_GROUND;
		return ANSI_NONE;
	case A_CSI:
		return csi_byte(a, c, out, n);
	case A_STR:
		if (c == BEL)
			a->state = A_GROUND;
		else if (c == ESC)
			a->state = A_STR_ESC;
		return ANSI_NONE;
	case A_STR_ESC:			/* ESC \ is ST; any ESC ends it */
		a->state = A_GROUND;
		return c == '\\' ? ANSI_NONE : esc_byte(a, c);
	default:
		return text_byte(a, c, out, n);
	}
}

/* What the row shows at column k (a blank where nothing was written). */
static uint8_t
cell(const struct ansi *a, uint32_t k)
{
	return (uint8_t)(k < a->used && k < ANSI_ROW ? a->line[k] : ' ');
}

/* One byte of pending cursor work. */
static void
pending_step(struct ansi *a, char *out, size_t *n)
{
	if (a->blank) {
		a->blank--;
		text_byte(a, ' ', out, n);
	} else if (a->cr) {
		a->cr = 0;
		text_byte(a, '\r', out, n);
	} else {
		text_byte(a, cell(a, a->col), out, n);
	}
	if (a->col >= a->goal && !a->blank && !a->cr)
		a->goal = 0;
}

size_t
ansi_filter(struct ansi *a, const char *s, size_t len, char *out,
    size_t cap, size_t *outlen, int *act)
{
	size_t i = 0;

	*outlen = 0;
	*act = ANSI_NONE;
	while ((i < len || ansi_pending(a)) && cap - *outlen >= ROOM) {
		if (ansi_pending(a)) {
			pending_step(a, out, outlen);
			continue;
		}
		*act = step(a, (uint8_t)s[i++], out, outlen);
		if (*act != ANSI_NONE)
			break;
	}
	return i;
}
