/*
 * gop-fb - provides `display` 1.1 over the framebuffer the firmware's GOP
 * left: the hub's `framebuffer:gop0` resource, whose ops pointer leads to
 * a struct fb_info (abi/framebuffer.h).  No firmware calls, so it serves
 * after ExitBootServices; it is a hardware module (it owns the screen), so
 * the hub starts it only then, while the firmware console draws before.
 *
 * Every operation clips its rectangle to the screen.  A rectangle of zero
 * size is nothing; one that starts outside the screen, a NULL buffer or a
 * pitch shorter than the rectangle is PB_EINVAL; PB_EBUSY while it does
 * not own the screen (standby, or swapped out).  GOP offers one mode
 * after ExitBootServices, so list_modes lists it and set_mode accepts it.
 *
 * Swaps: the state is the mode as a struct fb_info (version
 * GOPFB_STATE_VERSION).  A PCI display driver can take over from it; it
 * takes the screen back only while the mode is still the firmware's one
 * (import refuses any other with PB_ESTATE).  The framebuffer is mapped
 * from the start to the stop, in standby too, so that taking the screen
 * in a swap's blackout is a flag; there is no RAM copy of the screen
 * (fb.h): reads come from video memory.
 *
 * QEMU: tools/qemu-run --config default (-vga std: OVMF's GOP gives BGRX,
 * 1280x800 unless the EDID asks otherwise: --config nodisplay plus
 * -device VGA,xres=1024,yres=768 gives 1024x768) or --config bochs.  QEMU
 * only shows widths that are multiples of 8 (1366 is drawn sheared, the
 * firmware's own console too).
 */
#include "../../abi/pbmod.h"
#include "../../abi/display.h"
#include "../../abi/framebuffer.h"
#include "fb.h"
#include "pixfmt.h"

#define GOPFB_STATE_VERSION 1	/* the blob is one struct fb_info */
#define GOPFB_MAX_SIDE 16384	/* keeps every offset product in range */

_Static_assert(sizeof(struct fb_info) == 56, "fb_info layout");

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *fbres;		/* requirement 0: framebuffer */
static struct pb_resource *res;

static struct fb_info info;		/* the firmware's mode */
static struct pixfmt fmt;
static struct fb fb;
static size_t map_len;			/* bytes of the mode */
static int active;			/* owns the screen */

/* --- checks ---------------------------------------------------------- */

/* Is the firmware's description usable?  Its format and size if so. */
static int
check_info(const struct fb_info *i, struct pixfmt *p, size_t *len,
    const char **why)
{
	if (pixfmt_init(p, i->format, i->mask_r, i->mask_g, i->mask_b,
	    i->mask_x) != PB_OK) {
		*why = "unsupported pixel format";
		return PB_ENOTSUP;
	}
	if (!i->base || !i->width || !i->height) {
		*why = "no framebuffer";
		return PB_ENODEV;
	}
	if (i->width > i->stride || i->stride > GOPFB_MAX_SIDE ||
	    i->height > GOPFB_MAX_SIDE) {
		*why = "bad geometry";
		return PB_EINVAL;
	}
	/* Up to the last visible pixel: firmware may report the size so
	 * rather than stride x height (efi/fbfit.h). */
	*len = ((size_t)i->stride * (i->height - 1) + i->width) * p->bytes;
	if (i->size && i->size < *len) {
		*why = "framebuffer smaller than its mode";
		return PB_EINVAL;
	}
	return PB_OK;
}

/* Cut a client's rectangle to the screen (abi/rt/rect.c). */
static int
clip(uint32_t x, uint32_t y, uint32_t *w, uint32_t *h)
{
	return rt_clip_rect(x, y, w, h, fb.width, fb.height);
}

/* The checks every drawing operation begins with (abi/rt/rect.c): 0 or
 * an error to return, and *w or *h 0 for nothing to draw. */
static int
begin(const uint32_t *px, uint32_t pitch, int px_used, uint32_t x,
    uint32_t y, uint32_t *w, uint32_t *h)
{
	return rt_rect_begin(active, px, pitch, px_used, x, y, w, h,
	    fb.width, fb.height);
}

/* --- display 1.1 ----------------------------------------------------- */

static int
gopfb_get_mode(void *ctx, struct display_mode *m)
{
	if (!m)
		return PB_EINVAL;
	*m = (struct display_mode){ info.width, info.height, fmt.bytes * 8,
	    info.mode };
	return PB_OK;
}

static int
gopfb_fill(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	int err = begin(NULL, 0, 0, x, y, &w, &h);

	if (err == PB_OK && w && h)
		fb_fill(&fb, x, y, w, h, rgb);
	return err;
}

static int
gopfb_blit(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	int err = begin(px, pitch, 1, x, y, &w, &h);

	if (err == PB_OK && w && h)
		fb_blit(&fb, px, pitch, x, y, w, h);
	return err;
}

static int
gopfb_copy(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	int err = begin(NULL, 0, 0, sx, sy, &w, &h);

	/* Both rectangles on the screen: cut to the smaller room. */
	if (err == PB_OK && w && h && (err = clip(dx, dy, &w, &h)) == PB_OK)
		fb_copy(&fb, sx, sy, dx, dy, w, h);
	return err;
}

static int
gopfb_read(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	int err = begin(px, pitch, 1, x, y, &w, &h);

	if (err == PB_OK && w && h)
		fb_read(&fb, px, pitch, x, y, w, h);
	return err;
}

static int
gopfb_list_modes(void *ctx, unsigned index, struct display_mode *m)
{
	return index == 0 ? gopfb_get_mode(ctx, m) : PB_ENOENT;
}

static int
gopfb_set_mode(void *ctx, uint32_t id)
{
	return id == info.mode ? PB_OK : PB_ENOTSUP;
}

static const struct display_ops display_ops = {
	.get_mode = gopfb_get_mode,		/* works in standby too */
	.fill = gopfb_fill,
	.blit = gopfb_blit,
	.copy = gopfb_copy,			/* overlapping: scrolling */
	.read = gopfb_read,			/* from video memory */
	.list_modes = gopfb_list_modes,		/* the firmware's mode only */
	.set_mode = gopfb_set_mode,
};

/* --- the screen ------------------------------------------------------ */

static void
display_props(char *props, size_t cap)
{
	rt_snprintf(props, cap, "w=%u h=%u bpp=%u stride=%u fmt=%s",
	    info.width, info.height, fmt.bytes * 8, info.stride, fmt.name);
}

/* Map the framebuffer (write-combining, HARDWARE.md) if it is not yet. */
static int
map_screen(void)
{
	if (!fb.base)
		fb.base = hub->map_mmio(self, info.base, map_len, PB_CACHE_WC);
	return fb.base ? PB_OK : PB_ENOMEM;
}

static void
unmap_screen(void)
{
	active = 0;
	if (fb.base)
		hub->unmap_mmio(self, fb.base);
	fb.base = NULL;
}

static void rehearse_swap(void);

static int
gopfb_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	const char *why;
	char props[128];
	int err;

	rt_use_hub(h);
	self = m;
	hub = h;
	if (!fbres)
		return PB_ENOENT;
	memcpy(&info, fbres->ops, sizeof(info));
	if ((err = check_info(&info, &fmt, &map_len, &why)) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "%s: %s", fbres->res, why);
		return err;
	}
	fb = (struct fb){ .width = info.width, .height = info.height,
	    .pitch = (size_t)info.stride * fmt.bytes, .fmt = &fmt };
	if ((err = map_screen()) != PB_OK) {
		pb_logf(hub, self, PB_LOG_ERR, "%s: the framebuffer cannot be "
		    "mapped", fbres->res);
		return err;
	}
	display_props(props, sizeof(props));
	if (!(res = hub->publish(self, DISPLAY_IFACE, "gop0", props,
	    &display_ops, NULL)))
		return PB_ENOMEM;
	rehearse_swap();
	active = mode == PB_START_NORMAL;
	pb_logf(hub, self, PB_LOG_INFO, "%ux%u %s, stride %u, at 0x%llx",
	    info.width, info.height, fmt.name, info.stride,
	    (unsigned long long)info.base);
	return PB_OK;
}

static void
gopfb_stop(struct pb_module *m)
{
	unmap_screen();
}

static int
gopfb_quiesce(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

static int
gopfb_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	*len = sizeof(info);
	*version = GOPFB_STATE_VERSION;
	if (buf) {
		if (cap < sizeof(info))
			return PB_EINVAL;
		memcpy(buf, &info, sizeof(info));
	}
	return PB_OK;
}

/* The mapping stays until stop: a resume is a flag. */
static int
gopfb_release(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

/* Does s lay pixels out as the firmware's mode does, under whichever
 * name (a bit mask may spell out BGRX)? */
static int
same_layout(const struct fb_info *s)
{
	struct pixfmt p;

	if (pixfmt_init(&p, s->format, s->mask_r, s->mask_g, s->mask_b,
	    s->mask_x) != PB_OK)
		return 0;
	return p.kind == fmt.kind && p.bytes == fmt.bytes &&
	    memcmp(p.shift, fmt.shift, sizeof(p.shift)) == 0 &&
	    memcmp(p.max, fmt.max, sizeof(p.max)) == 0;
}

/*
 * Is the screen still in the firmware's mode, laid out where it was?  GOP
 * cannot set a mode after ExitBootServices, so gop-fb takes the screen
 * back from a PCI display driver only in that mode.
 */
static int
gopfb_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	struct fb_info s;

	if (version != GOPFB_STATE_VERSION || len != sizeof(s) || !buf) {
		pb_logf(hub, self, PB_LOG_WARN, "refusing a display state of "
		    "version %u, %zu bytes: not a struct fb_info", version, len);
		return PB_ESTATE;
	}
	memcpy(&s, buf, sizeof(s));
	if (s.base != info.base || s.width != info.width ||
	    s.height != info.height || s.stride != info.stride ||
	    !same_layout(&s)) {
		pb_logf(hub, self, PB_LOG_WARN, "refusing %ux%u stride %u at "
		    "0x%llx: GOP can show only the firmware's mode, %ux%u "
		    "stride %u at 0x%llx", s.width,
		    s.height, s.stride, (unsigned long long)s.base, info.width,
		    info.height, info.stride, (unsigned long long)info.base);
		return PB_ESTATE;
	}
	return PB_OK;
}

static int
gopfb_activate(struct pb_module *m)
{
	int err = map_screen();

	active = err == PB_OK;
	return err;
}

/*
 * A swap's steps run once at the start, where they change nothing (the
 * screen is not owned yet): the state this module exports must be one it
 * takes back.  Besides checking that early, it runs the code a swap's
 * blackout runs before any blackout: under emulation new code is
 * translated the first time it runs, hundreds of microseconds for a
 * freshly loaded module.
 */
static void
rehearse_swap(void)
{
	struct fb_info st;
	size_t len;
	uint32_t ver;

	gopfb_quiesce(self);
	if (gopfb_export(self, NULL, 0, &len, &ver) != PB_OK ||
	    gopfb_export(self, &st, sizeof(st), &len, &ver) != PB_OK ||
	    gopfb_release(self) != PB_OK ||
	    gopfb_import(self, &st, len, ver) != PB_OK)
		pb_logf(hub, self, PB_LOG_WARN, "refuses its own swap state");
}

static void
gopfb_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		fbres = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = gopfb_start,
	.stop = gopfb_stop,
	.quiesce = gopfb_quiesce,
	.export_state = gopfb_export,
	.import_state = gopfb_import,
	.release = gopfb_release,
	.activate = gopfb_activate,
	.resume = gopfb_activate,
	.event = gopfb_event,
};

PB_MODULE(.name = "gop-fb", .version = "1.0",
    .desc = "display on the GOP framebuffer",
    .rank = 0, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(DISPLAY_IFACE, DISPLAY_MAJOR, DISPLAY_MINOR) },
    .nrequires = 1,
    .requires = { PB_REQUIRE(FRAMEBUFFER_IFACE, 1, 0, PB_CARD_ONE,
	PB_AT_START) });
