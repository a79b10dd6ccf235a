/*
 * term.c - escape sequences applied to the grid (see term.h).
 *
 * References: ECMA-48 8.3 for the control functions (CUU 8.3.22, CUD
 * 8.3.19, CUF 8.3.20, CUB 8.3.18, CUP 8.3.21, HVP 8.3.63, ED 8.3.39, EL
 * 8.3.41, SGR 8.3.117, ICH 8.3.64, DCH 8.3.26, ECH 8.3.38); xterm's
 * ctlseqs for the private ones (DECSC/DECRC, DECTCEM, SGR 38/48).
 */
#include "term.h"
#include "palette.h"
#include "../../abi/rt/rt.h"

static void
t_text(void *ctx, const char *s, size_t n)
{
	grid_text(&((struct term *)ctx)->g, s, n);
}

static void
t_glyph(void *ctx, uint32_t cp)
{
	grid_put(&((struct term *)ctx)->g, cp);
}

static void
t_control(void *ctx, int c)
{
	struct grid *g = &((struct term *)ctx)->g;

	switch (c) {
	case '\b':
		grid_goto(g, (long)g->cx - 1, g->cy);
		break;
	case '\t':		/* tab stops every 8 columns */
		grid_goto(g, (long)(g->cx / 8 + 1) * 8, g->cy);
		break;
	case '\r':
		grid_goto(g, 0, g->cy);
		break;
	default:		/* LF, VT, FF */
		grid_goto(g, 0, g->cy);
		grid_linefeed(g);
		break;
	}
}

static void
save(struct term *t)
{
	t->saved_x = t->g.cx;
	t->saved_y = t->g.cy;
	t->saved_pen = t->g.pen;
}

static void
restore(struct term *t)
{
	grid_goto(&t->g, t->saved_x, t->saved_y);
	t->g.pen = t->saved_pen;
}

void
term_init(struct term *t)
{
	ansi_init(&t->parser);
	t->cursor_on = 1;
	save(t);
}

static void
erase_display(struct grid *g, uint32_t how)
{
	uint32_t y;

	switch (how) {
	case 0:
		grid_erase(g, g->cy, g->cx, g->cols);
		for (y = g->cy + 1; y < g->rows; y++)
			grid_erase(g, y, 0, g->cols);
		break;
	case 1:
		for (y = 0; y < g->cy; y++)
			grid_erase(g, y, 0, g->cols);
		grid_erase(g, g->cy, 0, g->cx + 1);
		break;
	case 2:
		for (y = 0; y < g->rows; y++)
			grid_erase(g, y, 0, g->cols);
		break;
	case 3:
		grid_clear_history(g);
		break;
	}
}

static void
erase_line(struct grid *g, uint32_t how)
{
	if (how == 0)
		grid_erase(g, g->cy, g->cx, g->cols);
	else if (how == 1)
		grid_erase(g, g->cy, 0, g->cx + 1);
	else if (how == 2)
		grid_erase(g, g->cy, 0, g->cols);
}

/* SGR 38/48 extended colours at p[i]: 5;n or 2;r;g;b.  Returns the
 * parameters used after p[i], or -1 if malformed (the rest is ignored). */
static int
sgr_extended(const struct ansi_csi *c, unsigned i, uint8_t *colour)
{
	if (i + 2 < c->n && c->p[i + 1] == 5) {
		*colour = palette_nearest(palette_xterm256(c->p[i + 2]));
		return 2;
	}
	if (i + 4 < c->n && c->p[i + 1] == 2) {
		uint32_t r = c->p[i + 2], gr = c->p[i + 3], b = c->p[i + 4];

		if (r > 255 || gr > 255 || b > 255)
			return 4;
		*colour = palette_nearest(r << 16 | gr << 8 | b);
		return 4;
	}
	return -1;
}

static void
sgr(struct grid *g, const struct ansi_csi *c)
{
	struct cell *pen = &g->pen;
	unsigned n = c->n ? c->n : 1;	/* CSI m is CSI 0 m */

	for (unsigned i = 0; i < n; i++) {
		uint32_t v = c->p[i];
		int used;

		if (v == 0)
			*pen = (struct cell){ ' ', GRID_FG, GRID_BG, 0 };
		else if (v == 1)
			pen->attr |= CELL_BOLD;
		else if (v == 22)
			pen->attr &= (uint8_t)~CELL_BOLD;
		else if (v == 7)
			pen->attr |= CELL_REVERSE;
		else if (v == 27)
			pen->attr &= (uint8_t)~CELL_REVERSE;
		else if (v >= 30 && v <= 37)
			pen->fg = (uint8_t)(v - 30);
		else if (v == 39)
			pen->fg = GRID_FG;
		else if (v >= 40 && v <= 47)
			pen->bg = (uint8_t)(v - 40);
		else if (v == 49)
			pen->bg = GRID_BG;
		else if (v >= 90 && v <= 97)
			pen->fg = (uint8_t)(v - 90 + 8);
		else if (v >= 100 && v <= 107)
			pen->bg = (uint8_t)(v - 100 + 8);
		else if (v == 38 || v == 48) {
			uint8_t colour = v == 38 ? pen->fg : pen->bg;

			used = sgr_extended(c, i, &colour);
			if (used < 0)
				return;
			if (v == 38)
				pen->fg = colour;
			else
				pen->bg = colour;
			i += (unsigned)used;
		}
	}
}

static void
private_mode(struct term *t, const struct ansi_csi *c)
{
	if (c->priv != '?' || (c->final != 'h' && c->final != 'l'))
		return;
	for (unsigned i = 0; i < c->n; i++)
		if (c->p[i] == 25)
			t->cursor_on = c->final == 'h';
}

static void
t_csi(void *ctx, const struct ansi_csi *c)
{
	struct term *t = ctx;
	struct grid *g = &t->g;
	uint32_t p0 = c->n ? c->p[0] : 0, n = p0 ? p0 : 1;
	long x = g->cx, y = g->cy;

	if (c->priv) {
		private_mode(t, c);
		return;
	}
	switch (c->final) {
	case 'A': grid_goto(g, x, y - (long)n); break;
	case 'B': grid_goto(g, x, y + (long)n); break;
	case 'C': grid_goto(g, x + (long)n, y); break;
	case 'D': grid_goto(g, x - (long)n, y); break;
	case 'E': grid_goto(g, 0, y + (long)n); break;
	case 'F': grid_goto(g, 0, y - (long)n); break;
	case 'G': grid_goto(g, (long)n - 1, y); break;
	case 'd': grid_goto(g, x, (long)n - 1); break;
	case 'H':
	case 'f':
		grid_goto(g, (c->n > 1 && c->p[1] ? (long)c->p[1] : 1) - 1,
		    (long)n - 1);
		break;
	case 'J': erase_display(g, p0); break;
	case 'K': erase_line(g, p0); break;
	case '@': grid_insert(g, n); break;
	case 'P': grid_delete(g, n); break;
	case 'X': grid_erase(g, g->cy, g->cx, g->cx + n); break;
	case 'm': sgr(g, c); break;
	case 's': save(t); break;
	case 'u': restore(t); break;
	}
}

void
term_reset(struct term *t)
{
	struct grid *g = &t->g;

	g->pen = (struct cell){ ' ', GRID_FG, GRID_BG, 0 };
	erase_display(g, 2);
	grid_goto(g, 0, 0);
	term_init(t);
}

static void
t_esc(void *ctx, int f)
{
	struct term *t = ctx;
	struct grid *g = &t->g;

	switch (f) {
	case '7': save(t); break;
	case '8': restore(t); break;
	case 'c': term_reset(t); break;
	case 'D': g->wrap = 0; grid_linefeed(g); break;
	case 'E': grid_goto(g, 0, g->cy); grid_linefeed(g); break;
	case 'M': grid_goto(g, g->cx, (long)g->cy - 1); break;
	}
}

static const struct ansi_ops term_ops = {
	.text = t_text,
	.glyph = t_glyph,
	.control = t_control,
	.csi = t_csi,
	.esc = t_esc,
};

void
term_write(struct term *t, const char *s, size_t n)
{
	ansi_feed(&t->parser, s, n, &term_ops, t);
}
