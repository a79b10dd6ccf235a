/*
 * tdisp - test module: a second, deliberately plain `display` 1.0 provider
 * over the GOP framebuffer (32-bit RGBX/BGRX only, one pixel at a time),
 * so the display can be swapped both ways with gop-fb under fbcon.  Its
 * state is gop-fb's: one struct fb_info, version 1, of the current mode;
 * it takes over only the mode it finds on the screen.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/display.h"
#include "../../../abi/framebuffer.h"

#define STATE_VERSION 1

static const struct pb_hub *hub;
static struct pb_module *self;
static struct fb_info info;
static volatile uint32_t *fb;	/* mapped once active */
static int active;

static uint32_t
to_hw(uint32_t rgb)
{
	if (info.format == FB_BGRX)	/* byte 0 blue: 0x00RRGGBB as is */
		return rgb;
	return (rgb >> 16 & 0xff) | (rgb & 0xff00) | (rgb & 0xff) << 16;
}

static uint32_t
from_hw(uint32_t px)
{
	return to_hw(px) & 0xffffff;	/* the swap is its own inverse */
}

static int
clip(uint32_t x, uint32_t y, uint32_t *w, uint32_t *h)
{
	if (!active)
		return PB_EBUSY;
	if (x >= info.width || y >= info.height)
		return PB_EINVAL;
	if (*w > info.width - x)
		*w = info.width - x;
	if (*h > info.height - y)
		*h = info.height - y;
	return PB_OK;
}

static int
td_get_mode(void *ctx, struct display_mode *m)
{
	*m = (struct display_mode){ info.width, info.height, 32, info.mode };
	return PB_OK;
}

static int
td_fill(void *ctx, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
    uint32_t rgb)
{
	int r = clip(x, y, &w, &h);

	for (uint32_t j = 0; r == PB_OK && j < h; j++)
		for (uint32_t i = 0; i < w; i++)
			fb[(y + j) * info.stride + x + i] = to_hw(rgb);
	return r;
}

static int
td_blit(void *ctx, const uint32_t *px, uint32_t pitch, uint32_t x,
    uint32_t y, uint32_t w, uint32_t h)
{
	int r = clip(x, y, &w, &h);

	for (uint32_t j = 0; r == PB_OK && j < h; j++)
		for (uint32_t i = 0; i < w; i++)
			fb[(y + j) * info.stride + x + i] = to_hw(px[j * pitch + i]);
	return r;
}

static int
td_copy(void *ctx, uint32_t sx, uint32_t sy, uint32_t dx, uint32_t dy,
    uint32_t w, uint32_t h)
{
	int r = clip(sx, sy, &w, &h);

	if (r == PB_OK)
		r = clip(dx, dy, &w, &h);
	/* Rows in the order that never overwrites a source row unread. */
	for (uint32_t n = 0; r == PB_OK && n < h; n++) {
		uint32_t j = dy > sy ? h - 1 - n : n;
		volatile uint32_t *s = fb + (sy + j) * info.stride + sx;
		volatile uint32_t *d = fb + (dy + j) * info.stride + dx;

		if (d > s)
			for (uint32_t i = w; i-- > 0; )
				d[i] = s[i];
		else
			for (uint32_t i = 0; i < w; i++)
				d[i] = s[i];
	}
	return r;
}

static int
td_read(void *ctx, uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y,
    uint32_t w, uint32_t h)
{
	int r = clip(x, y, &w, &h);

	for (uint32_t j = 0; r == PB_OK && j < h; j++)
		for (uint32_t i = 0; i < w; i++)
			px[j * pitch + i] = from_hw(fb[(y + j) * info.stride + x + i]);
	return r;
}

static const struct display_ops td_ops = {
	.get_mode = td_get_mode, .fill = td_fill, .blit = td_blit,
	.copy = td_copy, .read = td_read,
};

static int
td_activate(struct pb_module *m)
{
	fb = hub->map_mmio(self, info.base, info.size, PB_CACHE_WC);
	if (!fb)
		return PB_ENOMEM;
	active = 1;
	return PB_OK;
}

static int
td_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	if (!info.base || (info.format != FB_RGBX && info.format != FB_BGRX))
		return PB_ENODEV;
	if (!hub->publish(self, "display", "tdisp0", "plain=yes", &td_ops, NULL))
		return PB_ENOMEM;
	return mode == PB_START_NORMAL ? td_activate(m) : PB_OK;
}

static void
td_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0 && ev == PB_EV_CONNECTED)
		info = *(const struct fb_info *)c->ops;
}

static int
td_quiesce(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

static int
td_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *ver)
{
	*len = sizeof(info);
	*ver = STATE_VERSION;
	if (buf && cap >= sizeof(info))
		memcpy(buf, &info, sizeof(info));
	return PB_OK;
}

static int
td_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	struct fb_info s;

	if (ver != STATE_VERSION || len != sizeof(s))
		return PB_ESTATE;
	memcpy(&s, buf, sizeof(s));
	if (s.width != info.width || s.height != info.height ||
	    s.stride != info.stride || s.base != info.base)
		return PB_ESTATE;
	return PB_OK;
}

static int
td_release(struct pb_module *m)
{
	active = 0;
	if (fb)
		hub->unmap_mmio(self, (void *)fb);
	fb = NULL;
	return PB_OK;
}

static int
td_resume(struct pb_module *m)
{
	return fb ? (active = 1, PB_OK) : td_activate(m);
}

static const struct pb_module_ops ops = {
	.start = td_start, .event = td_event, .quiesce = td_quiesce,
	.export_state = td_export, .import_state = td_import,
	.release = td_release, .activate = td_activate, .resume = td_resume,
};

PB_MODULE(.name = "tdisp", .version = "1.0",
    .desc = "test: a plain display over the GOP framebuffer",
    .flags = PB_MOD_HARDWARE, .rank = 0, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("display", 1, 0) },
    .nrequires = 1,
    .requires = { PB_REQUIRE("framebuffer", 1, 0, PB_CARD_ONE,
	PB_AT_START) });
