/*
 * screen.c - the hub's own text on the screen (fbtext.c) as a writer of
 * the log: after the takeover while no module draws on a display (until
 * fbcon serves, or for good without it), and a fatal fault's report.
 *
 * The framebuffer is mapped write-combining and recorded as the hub's
 * own at the boot, so it stays mapped whichever display driver comes and
 * goes.  What the hub knows of it is the firmware's mode: after a display
 * driver changed the mode, a fatal report may come out sheared.
 */
#include "hub.h"
#include "fbtext.h"
#include "../abi/rt/rt.h"

static struct fbtext screen;
static int started;		/* the first line goes at the top */

void
screen_init(const struct fb_info *fb)
{
	void *px = arch_map_mmio(fb->base, fb->size, PB_CACHE_WC);

	if (px && mem_note_mmio(NULL, (uint64_t)(uintptr_t)px, fb->size) !=
	    PB_OK)
		px = NULL;
	fbtext_init(&screen, fb, px);
}

/* Does a running module draw on a display (fbcon)? */
static int
screen_taken(void)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = &conns[i];

		if (c->used && c->res && c->client &&
		    c->client->state == MOD_RUNNING &&
		    res_serves(c->res, "display", 1, 0))
			return 1;
	}
	return 0;
}

void
screen_log(const char *s, size_t len)
{
	if (!screen.px || screen_taken())
		return;
	if (!started) {
		fbtext_home(&screen);
		started = 1;
	}
	fbtext_write(&screen, s, len);
}

/* The newest lines of the log, white on red from the top, each cut to
 * the screen's width so the last of them stays in view. */
void
screen_panic(void)
{
	const struct log_line *l;
	char line[LOG_FORMAT_MAX];
	unsigned n = 0, first;

	if (!screen.px)
		return;
	fbtext_colors(&screen, 0xffffff, 0x800000);
	fbtext_home(&screen);
	while (log_get(n))
		n++;
	first = n > screen.rows - 1 ? n - (screen.rows - 1) : 0;
	for (unsigned i = first; (l = log_get(i)); i++) {
		size_t len = log_format(l, line, sizeof(line));

		if (len > screen.cols + 1) {
			line[screen.cols] = '\n';
			len = screen.cols + 1;
		}
		fbtext_write(&screen, line, len);
	}
}
