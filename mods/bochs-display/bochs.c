/*
 * bochs-display - provides `display` 1.1 on QEMU's std VGA (-vga std) and
 * on bochs-display (-device bochs-display): PCI 1234:1111 with the Bochs
 * DISPI registers (dispi.c), its framebuffer in BAR0 mapped
 * write-combining, any mode of modes.c at 32 bpp.
 *
 * It binds to the function's `pci` resource (a bind rule on vendor and
 * device) and outranks gop-fb: when pci publishes the function after the
 * takeover, the hub swaps gop-fb out and bochs-display in.  It takes
 * gop-fb's state (state.c: one struct fb_info), keeps the firmware's mode
 * as it finds it on the registers, and fbcon redraws its text on it.
 * Swapping back works while the mode is still the firmware's one: gop-fb
 * refuses any other.
 *
 * The two devices share their IDs and differ in class and legacy VGA:
 * std VGA is 03.00 (VGA compatible) and blanks after a DISPI mode set
 * until the attribute controller is told (vga.c); bochs-display is 03.80
 * and has no VGA side.  The registers are in BAR2 on both; an old std VGA
 * without BAR2 is driven through the DISPI I/O ports.
 *
 * Every drawing operation clips to the screen as gop-fb does: a rectangle
 * of zero size is nothing, one that starts outside is PB_EINVAL, and all
 * of them are PB_EBUSY while the module does not own the screen.
 *
 * boot.cfg: `bochs-display=no` keeps it off the device (gop-fb stays);
 * `bochs-mmio=no` uses the I/O ports although BAR2 is there (std VGA).
 * QEMU: tools/qemu-run --config default (std VGA) or --config bochs.
 */
#include "../../abi/pbmod.h"
#include "../../abi/display.h"
#include "../../abi/pci.h"
#include "dispi.h"
#include "draw.h"
#include "modes.h"
#include "state.h"
#include "vga.h"

#define PCI_CLASS_DISPLAY 0x03
#define PCI_SUBCLASS_VGA 0x00
#define FB_MIN_BYTES (1u << 20)
#define DEFAULT_W 1024		/* with no usable mode on the registers */
#define DEFAULT_H 768

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *pci;		/* the function the bind rule chose */
static struct pb_resource *res;

static struct pci_func_info fn;
static struct dispi dispi;
static struct dispi_caps caps;
static uint32_t *fb;			/* BAR0, write-combining */
static uint64_t fb_base, fb_size;
static uint64_t vram;			/* bytes a mode may use */
static int has_vga;			/* std VGA: the legacy side exists */
static uint16_t decode;			/* the COMMAND bits it needs */
static int is_ready;			/* see ready() */
static int measured;			/* see measure() */
static struct dispi_mode found;		/* the mode it found (firmware's) */

static struct mode_list modes;
static struct dispi_mode cur;		/* what the module shows */
static struct draw draw;
static struct fb_info want;		/* the mode an import asked for */
static int have_want;
static int active;			/* owns the screen */

/* --- checks ---------------------------------------------------------- */

/* Cut a client's rectangle to the screen (abi/rt/rect.c). */
static int
clip(uint32_t x, uint32_t y, uint32_t *w, uint32_t *h)
{
	return rt_clip_rect(x, y, w, h, draw.width, draw.height);
}

/* The checks every drawing operation begins with (abi/rt/rect.c): 0 or
 * an error to return, and *w or *h 0 for nothing to draw. */
static int
begin(const uint32_t *px, uint32_t pitch, int px_used, uint32_t x,
    uint32_t y, uint32_t *w, uint32_t *h)
{
	return rt_rect_begin(active, px, pitch, px_used, x, y, w, h,
	    draw.width, draw.height);
}

/* --- display 1.1 ----------------------------------------------------- */

static int
bochs_get_mode(void *ctx, struct display_mode *m)
{
	if (!m)
		return PB_EINVAL;
	*m = (struct display_mode){ cur.width, cur.height, DISPI_BPP,
	    mode_id(cur.width, cur.height) };
	return PB_OK;
}

static int
bochs_fill(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	int err = begin(NULL, 0, 0, x, y, &w, &h);

	if (err == PB_OK && w && h)
		draw_fill(&draw, x, y, w, h, rgb);
	return err;
}

static int
bochs_blit(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	int err = begin(px, pitch, 1, x, y, &w, &h);

	if (err == PB_OK && w && h)
		draw_blit(&draw, px, pitch, x, y, w, h);
	return err;
}

static int
bochs_copy(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	int err = begin(NULL, 0, 0, sx, sy, &w, &h);

	/* Both rectangles on the screen: cut to the smaller room. */
	if (err == PB_OK && w && h && (err = clip(dx, dy, &w, &h)) == PB_OK)
		draw_copy(&draw, sx, sy, dx, dy, w, h);
	return err;
}

static int
bochs_read(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	int err = begin(px, pitch, 1, x, y, &w, &h);

	if (err == PB_OK && w && h)
		draw_read(&draw, px, pitch, x, y, w, h);
	return err;
}

static int measure(const char **why);

static int
bochs_list_modes(void *ctx, unsigned index, struct display_mode *m)
{
	const char *why;

	if (!m)
		return PB_EINVAL;
	if (!active || measure(&why) != PB_OK)	/* the mode it has */
		return index == 0 && dispi_shows(&cur, 0, 0) ?
		    bochs_get_mode(ctx, m) : PB_ENOENT;
	if (index >= modes.n)
		return PB_ENOENT;
	*m = modes.m[index];
	return PB_OK;
}

static int switch_mode(uint32_t w, uint32_t h);

static int
bochs_set_mode(void *ctx, uint32_t id)
{
	const struct display_mode *m;
	const char *why;

	if (!active)
		return PB_EBUSY;
	if (measure(&why) != PB_OK || !(m = modes_find(&modes, id)))
		return PB_ENOTSUP;
	if (m->width == cur.width && m->height == cur.height)
		return PB_OK;
	return switch_mode(m->width, m->height);
}

static const struct display_ops display_ops = {
	.get_mode = bochs_get_mode,		/* works in standby too */
	.fill = bochs_fill,
	.blit = bochs_blit,
	.copy = bochs_copy,			/* overlapping: scrolling */
	.read = bochs_read,			/* from video memory */
	.list_modes = bochs_list_modes,		/* modes.c, smallest first */
	.set_mode = bochs_set_mode,		/* ids from list_modes */
};

static void
set_props(void)
{
	char props[160];

	if (!res)
		return;
	rt_snprintf(props, sizeof(props), "w=%u h=%u bpp=32 stride=%u "
	    "fmt=bgrx modes=%u dispi=0x%04x regs=%s vga=%s",
	    cur.width, cur.height, cur.pitch, measured ? modes.n : 1, dispi.id,
	    dispi.regs ? "mmio" : "ports", has_vga ? "yes" : "no");
	hub->set_props(self, res, props);
}

/* --- the function ---------------------------------------------------- */

static int
mem_bar(const struct pci_bar *b, uint64_t min)
{
	return (b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
	    b->base && b->size >= min;
}

/* Which device this is and how its registers are reached. */
static int
check_function(int *use_bar2, const char **why)
{
	if (PB_CALL(pci, pci_ops, info, &fn) != PB_OK) {
		*why = "pci gives no function info";
		return PB_EIO;
	}
	if (fn.class_code != PCI_CLASS_DISPLAY) {
		*why = "not a display controller";
		return PB_ENODEV;
	}
	has_vga = fn.subclass == PCI_SUBCLASS_VGA;
	if (!mem_bar(&fn.bars[0], FB_MIN_BYTES)) {
		*why = "BAR0 is no framebuffer";
		return PB_ENODEV;
	}
	*use_bar2 = mem_bar(&fn.bars[2], DISPI_MMIO_END) &&
	    !(has_vga && pb_setting_off(hub, "bochs-mmio"));
	if (!*use_bar2 && !has_vga) {
		*why = "no DISPI registers (no BAR2, no VGA ports)";
		return PB_ENODEV;
	}
	return PB_OK;
}

/*
 * The BARs mapped and, when the function decodes already, the DISPI
 * identified and its mode read.  Nothing is written to the device but,
 * through the I/O ports, the DISPI index: in standby the display driver
 * in charge is still drawing.
 */
static int
attach(const char **why)
{
	uint32_t cmd = 0;
	int use_bar2 = 0, err;

	if ((err = check_function(&use_bar2, why)) != PB_OK)
		return err;
	fb_base = fn.bars[0].base;
	fb_size = fn.bars[0].size;
	decode = use_bar2 ? PCI_CMD_MEM : PCI_CMD_MEM | PCI_CMD_IO;
	dispi.regs = NULL;
	if (use_bar2 && !(dispi.regs = PB_CALL(pci, pci_ops, map_bar, self, 2,
	    PB_CACHE_UC))) {
		*why = "BAR2 cannot be mapped";
		return PB_ENOMEM;
	}
	if (!(fb = PB_CALL(pci, pci_ops, map_bar, self, 0, PB_CACHE_WC))) {
		*why = "BAR0 cannot be mapped";
		return PB_ENOMEM;
	}
	if (PB_CALL(pci, pci_ops, cfg_read, PCI_COMMAND, 2, &cmd) != PB_OK ||
	    (cmd & decode) != decode)
		return PB_OK;		/* ready() enables it and looks then */
	if ((err = dispi_probe(&dispi, why)) != PB_OK)
		return err;
	dispi_read_mode(&dispi, &found);
	cur = found;
	return PB_OK;
}

/*
 * Take the device: decoding on and the DISPI identified.  Only reads,
 * and a COMMAND write when decoding is off: this runs inside a swap's
 * blackout.  (Writing COMMAND or ENABLE makes QEMU rebuild its memory
 * map, which costs milliseconds under emulation.)
 */
static int
ready(const char **why)
{
	uint32_t cmd = 0;
	int err;

	if (is_ready)
		return PB_OK;
	if ((PB_CALL(pci, pci_ops, cfg_read, PCI_COMMAND, 2, &cmd) != PB_OK ||
	    (cmd & decode) != decode) &&
	    PB_CALL(pci, pci_ops, enable, decode, 1) != PB_OK) {
		*why = "decoding cannot be enabled";
		return PB_EIO;
	}
	if ((err = dispi_probe(&dispi, why)) != PB_OK)
		return err;
	dispi_read_mode(&dispi, &cur);		/* not ours yet: as it is */
	if (!found.enable)
		found = cur;
	is_ready = 1;
	return PB_OK;
}

/*
 * What the device can show (GETCAPS and the video memory) and the mode
 * list built around the mode found on it (the firmware's).  Asked for
 * when modes are listed or set, or a mode must be checked: not in the
 * blackout of a swap that keeps the mode on the screen.
 */
static int
measure(const char **why)
{
	if (measured)
		return PB_OK;
	dispi_caps(&dispi, &caps);
	vram = fb_size;
	if (caps.vram && caps.vram < vram)
		vram = caps.vram;
	modes_build(&modes, &caps, vram, dispi_shows(&found, 0, 0) ?
	    found.width : 0, found.height);
	if (!modes.n) {
		*why = "no mode fits the device";
		return PB_ENODEV;
	}
	measured = 1;
	set_props();
	return PB_OK;
}

/* --- the screen ------------------------------------------------------ */

/* Draw on mode m from now on; the screen holds what it holds.  The
 * properties change only with the mode (not in a swap that keeps it). */
static void
use_mode(const struct dispi_mode *m)
{
	int same = cur.width == m->width && cur.height == m->height &&
	    cur.pitch == m->pitch;

	cur = *m;
	draw = (struct draw){ fb, m->width, m->height, m->pitch };
	if (!same)
		set_props();
}

/*
 * Program w x h and draw on it.  On failure the previous mode is
 * programmed again, black (there is no copy of the picture to put back:
 * the client redraws).
 */
static int
program(uint32_t w, uint32_t h)
{
	struct dispi_mode got, old = cur;
	const char *why;
	int err;

	if ((err = dispi_set_mode(&dispi, w, h, &got, &why)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "mode %ux%u: %s (XRES %u YRES %u "
		    "BPP %u VIRT_WIDTH %u ENABLE 0x%x)", w, h, why, got.width,
		    got.height, got.bpp, got.pitch, got.enable);
		if (old.width)
			dispi_set_mode(&dispi, old.width, old.height, &got, &why);
		if (has_vga)
			vga_unblank(dispi.regs);
		return err;
	}
	if (has_vga)
		vga_unblank(dispi.regs);
	use_mode(&got);
	return PB_OK;
}

/* A new mode for the clients, black: std VGA clears its memory when
 * enabled, bochs-display does not. */
static int
switch_mode(uint32_t w, uint32_t h)
{
	int err;

	if ((err = program(w, h)) != PB_OK)
		return err;
	draw_fill(&draw, 0, 0, draw.width, draw.height, 0);
	pb_logf(hub, self, PB_LOG_INFO, "mode %ux%u, stride %u", cur.width,
	    cur.height, cur.pitch);
	return PB_OK;
}

/* The mode to show when nothing asks for one: the registers' if usable. */
static void
initial_mode(uint32_t *w, uint32_t *h)
{
	const char *why;

	if (dispi_shows(&cur, 0, 0) &&
	    mode_fits(&caps, vram, cur.width, cur.height, &why)) {
		*w = cur.width, *h = cur.height;
		return;
	}
	*w = DEFAULT_W, *h = DEFAULT_H;
	if (!modes_find(&modes, mode_id(*w, *h)) && modes.n)
		*w = modes.m[0].width, *h = modes.m[0].height;
}

/*
 * Own the screen in mode w x h.  When the registers show it already (the
 * firmware's mode, handed over by gop-fb), nothing is programmed and the
 * picture stays; else the mode is set.
 */
static int
take_screen(uint32_t w, uint32_t h)
{
	struct dispi_mode now;
	int err;

	dispi_read_mode(&dispi, &now);
	if (dispi_shows(&now, w, h))
		use_mode(&now);
	else if ((err = switch_mode(w, h)) != PB_OK)
		return err;
	active = 1;
	return PB_OK;
}

/* --- the module ------------------------------------------------------ */

static void rehearse_swap(void);

static int
bochs_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	uint32_t w, ht;
	const char *why;
	int err;

	rt_use_hub(h);
	self = m;
	hub = h;
	if (pb_setting_off(hub, "bochs-display")) {
		pb_logf(hub, self, PB_LOG_INFO, "off (boot.cfg bochs-display=no)");
		return PB_ENODEV;
	}
	if (!pci) {
		pb_logf(hub, self, PB_LOG_ERR, "no PCI function bound");
		return PB_ENODEV;
	}
	if ((err = attach(&why)) != PB_OK || (mode == PB_START_NORMAL &&
	    ((err = ready(&why)) != PB_OK || (err = measure(&why)) != PB_OK))) {
		pb_logf(hub, self, PB_LOG_ERR, "%s: %s", pci->res, why);
		return err;
	}
	/* Decoding is on and a mode shows (attach read it): ready now for
	 * the likely import, so the swap's blackout only reads the mode. */
	if (mode == PB_START_STANDBY && dispi_shows(&cur, 0, 0) &&
	    ready(&why) != PB_OK)
		pb_logf(hub, self, PB_LOG_WARN, "%s: %s", pci->res, why);
	if (!(res = hub->publish(self, DISPLAY_IFACE, "bochs0", "",
	    &display_ops, NULL)))
		return PB_ENOMEM;
	if (is_ready)
		rehearse_swap();
	if (mode == PB_START_NORMAL) {
		initial_mode(&w, &ht);
		if ((err = take_screen(w, ht)) != PB_OK)
			return err;
	}
	set_props();
	pb_logf(hub, self, PB_LOG_INFO, "%s %s: DISPI 0x%04x via %s, BAR0 "
	    "%llu MiB at 0x%llx; %ux%u on the registers", has_vga ? "std VGA" :
	    "bochs-display", pci->res, dispi.id, dispi.regs ? "BAR2" :
	    "ports 0x1ce/0x1cf", (unsigned long long)(fb_size >> 20),
	    (unsigned long long)fb_base, cur.width, cur.height);
	return PB_OK;
}

/* The picture stays: whoever comes next takes it over. */
static void
bochs_stop(struct pb_module *m)
{
	active = 0;
	if (fb)
		hub->unmap_mmio(self, fb);
	if (dispi.regs)
		hub->unmap_mmio(self, (void *)dispi.regs);
	fb = NULL;
	dispi.regs = NULL;
}

static int
bochs_quiesce(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

static int
bochs_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct fb_info st;

	*len = sizeof(st);
	*version = FB_STATE_VERSION;
	if (!buf)
		return PB_OK;
	if (cap < sizeof(st))
		return PB_EINVAL;
	state_export(&st, fb_base, fb_size, &cur);
	memcpy(buf, &st, sizeof(st));
	return PB_OK;
}

static int
bochs_release(struct pb_module *m)
{
	active = 0;	/* the mappings stay until stop: a resume is quick */
	return PB_OK;
}

/* Can this device show the mode the old provider had? */
static int
bochs_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	const char *why;
	int err;

	if ((err = ready(&why)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "%s: %s", pci->res, why);
		return err;
	}
	if ((err = state_import(buf, len, version, fb_base, fb_size, &want,
	    &why)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_WARN, "refusing the display state: %s",
		    why);
		return err;
	}
	/* A mode on the registers the device shows; another must fit. */
	if (!dispi_shows(&cur, want.width, want.height) &&
	    ((err = measure(&why)) != PB_OK ||
	    !mode_fits(&caps, vram, want.width, want.height, &why))) {
		pb_logf(hub, self, PB_LOG_WARN, "refusing %ux%u: %s", want.width,
		    want.height, why);
		return PB_ESTATE;
	}
	have_want = 1;
	return PB_OK;
}

static int
bochs_activate(struct pb_module *m)
{
	uint32_t w = want.width, h = want.height;
	const char *why;
	int err;

	if ((err = ready(&why)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "%s: %s", pci->res, why);
		return err;
	}
	if (!have_want) {
		dispi_read_mode(&dispi, &cur);
		if ((err = measure(&why)) != PB_OK) {
			pb_logf(hub, self, PB_LOG_ERR, "%s: %s", pci->res, why);
			return err;
		}
		initial_mode(&w, &h);
	}
	have_want = 0;
	return take_screen(w, h);
}

/* Back after a failed swap: the mode is ours unless the other driver
 * changed it (its size, or only its stride: VIRT_WIDTH, which we draw
 * by); then it is set again, black (there is no copy of the picture:
 * the hub has the clients draw it again). */
static int
bochs_resume(struct pb_module *m)
{
	struct dispi_mode now;
	int err;

	dispi_read_mode(&dispi, &now);
	if (!dispi_shows(&now, cur.width, cur.height) ||
	    now.pitch != cur.pitch) {
		pb_logf(hub, self, PB_LOG_WARN, "the mode changed under a failed "
		    "swap: %ux%u set again, the picture is lost", cur.width,
		    cur.height);
		if ((err = program(cur.width, cur.height)) != PB_OK)
			return err;
		draw_fill(&draw, 0, 0, draw.width, draw.height, 0);
		active = 1;
		return PB_RESUMED_LOST;		/* the clients draw it again */
	}
	active = 1;
	return PB_OK;
}

/*
 * A swap's steps run once at the start, before the screen is owned, on
 * the mode the registers show, where they write nothing to the device:
 * that mode, exported, must be one the module takes.  Besides checking that early, it runs
 * the code a swap's blackout runs before any blackout: under emulation
 * new code is translated the first time it runs, hundreds of
 * microseconds for a freshly loaded module.
 */
static void
rehearse_swap(void)
{
	uint8_t st[sizeof(struct fb_info)];
	struct dispi_mode now;
	size_t len;
	uint32_t ver;

	if (!dispi_shows(&cur, 0, 0))
		return;			/* nothing to export yet */
	bochs_quiesce(self);
	if (bochs_export(self, NULL, 0, &len, &ver) != PB_OK ||
	    bochs_export(self, st, sizeof(st), &len, &ver) != PB_OK ||
	    bochs_release(self) != PB_OK ||
	    bochs_import(self, st, len, ver) != PB_OK) {
		pb_logf(hub, self, PB_LOG_WARN, "refuses its own swap state");
		return;
	}
	/* Activate writes nothing while the registers show the mode. */
	dispi_read_mode(&dispi, &now);
	if (dispi_shows(&now, want.width, want.height))
		bochs_activate(self);
	have_want = 0;
	active = 0;
}

static void
bochs_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req != PB_REQ_BIND)
		return;
	if (ev == PB_EV_DISCONNECTED) {
		pci = NULL;
		active = 0;	/* the function is gone: hands off */
	} else if (ev == PB_EV_CONNECTED) {
		pci = c;
	}
}

static const struct pb_module_ops ops = {
	.start = bochs_start,
	.stop = bochs_stop,
	.quiesce = bochs_quiesce,
	.export_state = bochs_export,
	.import_state = bochs_import,
	.release = bochs_release,
	.activate = bochs_activate,
	.resume = bochs_resume,
	.event = bochs_event,
};

PB_MODULE(.name = "bochs-display", .version = "1.0",
    .desc = "display on QEMU std VGA and bochs-display (DISPI)",
    .rank = 10, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(DISPLAY_IFACE, DISPLAY_MAJOR, DISPLAY_MINOR) },
    .nbinds = 1,
    .binds = { PB_BIND(PCI_IFACE, "vendor=1234 device=1111") });
