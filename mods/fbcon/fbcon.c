/*
 * fbcon - the framebuffer console: provides `console` 1.0 over any
 * `display` 1.0, as text cells drawn with a Unicode console font (8x16,
 * from Debian's console-setup-linux at build time: abi/rt/font.h)
 * scaled by boot.cfg's font-scale=N (1-4), or by default from the screen's
 * height (font_scale_for: 1 up to 1399 lines, 2 for 1440p, 3 for 4K), since
 * 16-pixel text on a 4K laptop panel is too small to read.
 *
 * Writes go through the ANSI and UTF-8 parser (ansi.c, term.c) into the
 * grid of code point cells and its scrollback (grid.c), the console's
 * whole state: the screen is only a picture of it, redrawn from the cells
 * when the display connection is rebound (a display swap) or the mode
 * changes.
 * Frames (render.c) are paced: a write draws at once when the screen is
 * idle, otherwise a work item draws once the writer is done, so a burst
 * of text costs a few frames, not one per write.
 *
 * A console swap carries struct console_state (state.c) both ways; fbcon
 * outranks the firmware console, so the takeover at ExitBootServices
 * swaps it in and it redraws what the firmware console showed.  The state
 * is only the text its clients wrote, so it also survives a restart after
 * a fault (PB_MOD_RESTATE): the new instance draws the screen it had,
 * not an empty one.
 *
 * Try it: tools/qemu-run --config default with `target=console` and
 * `font-scale=2` in boot.cfg; the log names the grid it drew.
 */
#include "../../abi/pbmod.h"
#include "../../abi/console.h"
#include "../../abi/display.h"
#include "render.h"
#include "state.h"
#include "term.h"

#define FRAME_MIN_NS 10000000ull	/* frames at least 10 ms apart... */
#define FRAME_SHARE 4			/* ...and drawing at most 1/4 of it */
#define RETRY_NS 100000000ull		/* the display refused: try again */

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *disp;		/* requirement 0 */
static struct pb_resource *res;

static struct term term;
static void *grid_mem;
static struct render rend;
static void *rend_mem;
static void *state_buf;			/* STATE_MAX bytes, for export */
static uint32_t scale_cfg;		/* boot.cfg's font-scale, 0: auto */

static int serving;			/* writes accepted */
static int drawing;			/* owns the picture on the display */
static int work_queued, retry_queued;
static uint64_t last_frame_ns, frame_cost_ns;
static uint64_t redraw_ns;		/* the last full redraw took */

/* --- settings -------------------------------------------------------- */

/* font-scale from `config:boot`, the hub's resource for boot.cfg; 0
 * (chosen by the screen's height) when unset or `auto`. */
static uint32_t
config_font_scale(void)
{
	char v[16];
	const char *end;
	uint64_t n;

	if (!pb_setting(hub, "font-scale", v, sizeof(v)) ||
	    strcmp(v, "auto") == 0)
		return 0;
	n = rt_strtou(v, &end, 10);
	if (end != v && *end == '\0' && n >= 1 && n <= RENDER_MAX_SCALE)
		return (uint32_t)n;
	pb_logf(hub, self, PB_LOG_WARN, "font-scale must be 1 to %d or auto; "
	    "using auto", RENDER_MAX_SCALE);
	return 0;
}

/* --- size ------------------------------------------------------------ */

/* The configured scale, or a smaller one if the grid would be tiny. */
static uint32_t
fit_scale(uint32_t w, uint32_t h)
{
	uint32_t s = scale_cfg ? scale_cfg : font_scale_for(h), cols, rows;

	for (; s > 1; s--) {
		render_fit(w, h, s, &cols, &rows);
		if (cols >= 40 && rows >= 12)
			break;
	}
	return s;
}

static void
set_props(void)
{
	char props[128];

	if (!res)
		return;
	/* kind=screen: the shell shows the log's errors here, and every
	 * line only with log=screen (abi/console.h). */
	rt_snprintf(props, sizeof(props), "cols=%u rows=%u font=%ux%u "
	    "scale=%u history=%u redraw-us=%llu kind=screen", term.g.cols,
	    term.g.rows, font_console.w, font_console.h, rend.scale,
	    GRID_HISTORY, (unsigned long long)(redraw_ns / 1000));
	hub->set_props(self, res, props);
}

/*
 * Size the grid and the renderer for the display's mode.  The text moves
 * into the new grid (grid_resize); the next frame redraws everything.
 */
static int
fit_display(void)
{
	struct display_mode m;
	uint32_t s, cols, rows;
	void *gm, *rm;
	struct grid g;
	int err;

	if (!disp)
		return PB_ENODEV;
	if ((err = PB_CALL(disp, display_ops, get_mode, &m)) != PB_OK)
		return err;
	s = fit_scale(m.width, m.height);
	if (grid_mem && m.width == rend.width && m.height == rend.height &&
	    s == rend.scale)
		return PB_OK;
	render_fit(m.width, m.height, s, &cols, &rows);
	if (!cols || !rows)
		return PB_ENODEV;
	gm = hub->alloc(self, grid_bytes(cols, rows));
	rm = hub->alloc(self, render_bytes(m.width, m.height, s));
	if (!gm || !rm) {
		hub->free(self, gm);
		hub->free(self, rm);
		return PB_ENOMEM;
	}
	if (grid_mem) {
		grid_resize(&g, gm, cols, rows, &term.g);
		term.g = g;
	} else {
		grid_init(&term.g, gm, cols, rows);
		term_init(&term);
	}
	hub->free(self, grid_mem);
	hub->free(self, rend_mem);
	grid_mem = gm;
	rend_mem = rm;
	render_setup(&rend, rm, m.width, m.height, s);
	set_props();
	return PB_OK;
}

/* --- frames ---------------------------------------------------------- */

static void frame(void);

static void
retry(void *arg)
{
	retry_queued = 0;
	frame();
}

/*
 * Draw what changed.  A full redraw (a new display, a new mode) has its
 * cost in the resource's properties (redraw-us), which the benchmarks
 * read.
 */
static void
frame(void)
{
	uint64_t t0 = hub->now_ns();
	int err, full = 0;

	if (!drawing || !disp)
		return;
	if ((err = fit_display()) == PB_OK) {
		full = !rend.valid;
		err = render_frame(&rend, disp, &term.g, term.cursor_on);
	}
	last_frame_ns = hub->now_ns();
	frame_cost_ns = last_frame_ns - t0;
	if (err == PB_OK && full) {
		redraw_ns = frame_cost_ns;
		set_props();
	}
	if (err != PB_OK && !retry_queued &&
	    hub->timer_after(self, RETRY_NS, retry, NULL) >= 0)
		retry_queued = 1;
}

static void
frame_work(void *arg)
{
	work_queued = 0;
	frame();
}

/* Text changed: draw now if the screen was idle, else soon. */
static void
kick(void)
{
	uint64_t gap = frame_cost_ns * FRAME_SHARE;

	if (!drawing || work_queued)	/* a frame is coming */
		return;
	if (gap < FRAME_MIN_NS)
		gap = FRAME_MIN_NS;
	if (hub->now_ns() - last_frame_ns >= gap) {
		frame();
		return;
	}
	if (!work_queued) {
		if (hub->queue_work(self, frame_work, NULL) == PB_OK)
			work_queued = 1;
		else
			frame();
	}
}

/* A full redraw from the cells. */
static void
redraw(void)
{
	rend.valid = 0;
	frame();
}

/* --- console 1.0 ----------------------------------------------------- */

static int
fbcon_write(void *ctx, const char *s, size_t len)
{
	if (!serving)
		return PB_EBUSY;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	term_write(&term, s, len);
	kick();
	return (int)len;
}

static int
fbcon_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = term.g.cols;
	*rows = term.g.rows;
	return PB_OK;
}

static int
fbcon_clear(void *ctx)
{
	if (!serving)
		return PB_EBUSY;
	term_write(&term, "\033[0m\033[2J\033[H", 11);
	kick();
	return PB_OK;
}

static const struct console_ops console_ops = {
	.write = fbcon_write,
	.size = fbcon_size,
	.clear = fbcon_clear,
};

/* --- the module ------------------------------------------------------ */

static int
fbcon_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	int err;

	rt_use_hub(h);
	self = m;
	hub = h;
	if (!disp)
		return PB_ENOENT;
	render_init_tables();
	scale_cfg = config_font_scale();
	if ((err = fit_display()) != PB_OK)
		return err;
	if (!(state_buf = hub->alloc(self, STATE_MAX)))
		return PB_ENOMEM;
	res = hub->publish(self, CONSOLE_IFACE, "fb0", "", &console_ops, NULL);
	if (!res)
		return PB_ENOMEM;
	set_props();
	pb_logf(hub, self, PB_LOG_INFO, "%ux%u cells on %s (%ux%u, font %ux%u "
	    "x%u, %u lines of history)", term.g.cols, term.g.rows, disp->res,
	    rend.width, rend.height, font_console.w, font_console.h,
	    rend.scale, GRID_HISTORY);
	/* In standby the text may come from an import; activate draws it. */
	serving = drawing = mode == PB_START_NORMAL;
	if (drawing)
		redraw();
	return PB_OK;
}

static void
fbcon_stop(struct pb_module *m)
{
	serving = drawing = 0;
	hub->free(self, state_buf);
	hub->free(self, rend_mem);
	hub->free(self, grid_mem);
	state_buf = rend_mem = grid_mem = NULL;
}

static int
fbcon_quiesce(struct pb_module *m)
{
	serving = drawing = 0;
	return PB_OK;
}

static int
fbcon_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	*len = state_export(&term, state_buf);
	*version = CONSOLE_STATE_VERSION;
	if (buf) {
		if (cap < *len)
			return PB_EINVAL;
		memcpy(buf, state_buf, *len);
	}
	return PB_OK;
}

static int
fbcon_release(struct pb_module *m)
{
	drawing = 0;		/* the display's picture is the new console's */
	return PB_OK;
}

static int
fbcon_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return state_import(&term, buf, len, version);
}

/* Take the screen (after an import, or back after a failed swap).  The
 * full redraw runs as work, after the swap's rebind: not in its
 * blackout. */
static int
fbcon_activate(struct pb_module *m)
{
	serving = drawing = 1;
	rend.valid = 0;
	if (!work_queued && hub->queue_work(self, frame_work, NULL) == PB_OK)
		work_queued = 1;
	else if (!work_queued)
		frame();
	return PB_OK;
}

static void
fbcon_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req != 0)
		return;
	switch (ev) {
	case PB_EV_CONNECTED:
		disp = c;
		if (grid_mem)		/* a display again, after none */
			redraw();
		break;
	case PB_EV_DISCONNECTED:
		disp = NULL;
		break;
	case PB_EV_REBOUND:	/* another display: its mode, then all again */
		if (hub)
			redraw();
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = fbcon_start,
	.stop = fbcon_stop,
	.quiesce = fbcon_quiesce,
	.export_state = fbcon_export,
	.import_state = fbcon_import,
	.release = fbcon_release,
	.activate = fbcon_activate,
	.resume = fbcon_activate,
	.event = fbcon_event,
};

PB_MODULE(.name = "fbcon", .version = "1.0",
    .desc = "text console on any display: Unicode font, ANSI, scrollback",
    .rank = 20, .flags = PB_MOD_HARDWARE | PB_MOD_RESTATE, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE(CONSOLE_IFACE, 1, 0) },
    .nrequires = 1,
    .requires = { PB_REQUIRE(DISPLAY_IFACE, 1, 0, PB_CARD_ONE,
	PB_AT_START) });
