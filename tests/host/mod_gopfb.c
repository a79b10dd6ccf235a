/*
 * mod_gopfb.c - host tests of gop-fb: every GOP pixel format (RGB, BGR,
 * bit masks of 32, 24 and 16 bits) encoded and decoded, fills, blits,
 * overlapping copies and reads against a reference model on a framebuffer
 * whose stride exceeds its width (no RAM copy of the screen), and
 * the clipping and argument checks of the display operations; and the
 * swap state both ways with bochs-display (its state.c compiled in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>

#include "check.h"
#include "../../mods/gop-fb/pixfmt.c"
#include "../../mods/gop-fb/fb.c"
#include "../../mods/gop-fb/gopfb.c"
#include "../../abi/rt/rect.c"
#include "../../abi/rt/setting.c"
/* bochs-display's swap state, to check both take over from each other. */
#include "../../mods/bochs-display/state.c"

static int fails;
static void fake_log(struct pb_module *m, int l, const char *msg) { (void)m; (void)l; (void)msg; }
static const struct pb_hub fake_hub = { .log = fake_log };
#define EXPECT(c, ...) do { if (!(c)) { fails++; if (!first_fail[0]) snprintf(first_fail, sizeof(first_fail), __VA_ARGS__); } } while (0)
static char first_fail[160];

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) { rnd_state = rnd_state * 1103515245 + 12345; return rnd_state >> 8; }

static int close8(uint32_t a, uint32_t b, int tol) {
	for (int s = 0; s < 24; s += 8) { int d = (int)(a >> s & 255) - (int)(b >> s & 255); if (d < -tol || d > tol) return 0; }
	return 1;
}

struct fmtcase { const char *name; uint32_t f, r, g, b, x; uint32_t bytes; int tol; int kind; };

static void
run_format(const struct fmtcase *c)
{
	struct pixfmt p;
	int e = pixfmt_init(&p, c->f, c->r, c->g, c->b, c->x);
	EXPECT(e == 0, "%s init %d", c->name, e);
	if (e) return;
	EXPECT(p.bytes == c->bytes, "%s bytes %u", c->name, p.bytes);
	EXPECT((int)p.kind == c->kind, "%s kind %u", c->name, p.kind);
	/* encode/decode */
	for (int i = 0; i < 1000; i++) {
		uint32_t v = rnd() & 0xffffff;
		uint32_t d = pixfmt_decode(&p, pixfmt_encode(&p, v));
		EXPECT(close8(v, d, c->tol), "%s rt %06x -> %06x", c->name, v, d);
		if (!close8(v, d, c->tol)) break;
	}
	EXPECT(pixfmt_decode(&p, pixfmt_encode(&p, 0xffffff)) == 0xffffff, "%s white", c->name);
	EXPECT(pixfmt_decode(&p, pixfmt_encode(&p, 0)) == 0, "%s black", c->name);
	/* a framebuffer with stride > width and a guard band */
	uint32_t W = 37, H = 23, stride = 45;
	size_t pitch = (size_t)stride * p.bytes, sz = pitch * H;
	uint8_t *mem = malloc(sz);
	memset(mem, 0xa5, sz);
	uint32_t *ref = calloc(W * H, 4);
	struct fb f = { mem, W, H, pitch, &p };
	/* start: the screen is a5a5a5...; model it */
	for (uint32_t y = 0; y < H; y++) for (uint32_t x = 0; x < W; x++) ref[y * W + x] = pixfmt_decode(&p, load(mem + y * pitch + x * p.bytes, p.bytes));
	for (int op = 0; op < 400; op++) {
		uint32_t x = rnd() % W, y = rnd() % H, w = 1 + rnd() % (W - x), h = 1 + rnd() % (H - y);
		int k = rnd() % 3;
		if (k == 0) {
			uint32_t v = rnd() & 0xffffff;
			fb_fill(&f, x, y, w, h, v);
			for (uint32_t j = y; j < y + h; j++) for (uint32_t i = x; i < x + w; i++) ref[j * W + i] = pixfmt_decode(&p, pixfmt_encode(&p, v));
		} else if (k == 1) {
			uint32_t bp = w + rnd() % 5;
			uint32_t *buf = malloc(bp * h * 4);
			for (uint32_t i = 0; i < bp * h; i++) buf[i] = rnd() & 0xffffff;
			fb_blit(&f, buf, bp, x, y, w, h);
			for (uint32_t j = 0; j < h; j++) for (uint32_t i = 0; i < w; i++) ref[(y + j) * W + x + i] = pixfmt_decode(&p, pixfmt_encode(&p, buf[j * bp + i]));
			free(buf);
		} else {
			uint32_t dx = rnd() % W, dy = rnd() % H;
			if (w > W - dx) w = W - dx;
			if (h > H - dy) h = H - dy;
			fb_copy(&f, x, y, dx, dy, w, h);
			uint32_t *tmp = malloc(w * h * 4);
			for (uint32_t j = 0; j < h; j++) for (uint32_t i = 0; i < w; i++) tmp[j * w + i] = ref[(y + j) * W + x + i];
			for (uint32_t j = 0; j < h; j++) for (uint32_t i = 0; i < w; i++) ref[(dy + j) * W + dx + i] = tmp[j * w + i];
			free(tmp);
		}
	}
	/* compare screen (decode) and read-back */
	uint32_t *rd = malloc(W * H * 4);
	fb_read(&f, rd, W, 0, 0, W, H);
	int bad = 0;
	for (uint32_t y = 0; y < H; y++) for (uint32_t x = 0; x < W; x++) {
		uint32_t scr = pixfmt_decode(&p, load(mem + y * pitch + x * p.bytes, p.bytes));
		if (scr != ref[y * W + x] && bad++ < 3) printf("  %s/%d screen %u,%u %06x want %06x\n", c->name, 0, x, y, scr, ref[y * W + x]);
		if (!close8(rd[y * W + x], ref[y * W + x], c->tol) && bad++ < 3) printf("  %s/%d read %u,%u %06x want %06x\n", c->name, 0, x, y, rd[y * W + x], ref[y * W + x]);
	}
	EXPECT(!bad, "%s: %d bad pixels", c->name, bad);
	/* the stride padding is never touched */
	for (uint32_t y = 0; y < H; y++) for (size_t i = (size_t)W * p.bytes; i < pitch; i++)
		if (mem[y * pitch + i] != 0xa5) { EXPECT(0, "%s padding touched at row %u", c->name, y); y = H; break; }
	free(rd); free(mem); free(ref);
}

TEST(gopfb_formats_and_clipping)
{
	static const struct fmtcase cases[] = {
		{ "rgbx", FB_RGBX, 0, 0, 0, 0, 4, 0, PIX_RGBX32 },
		{ "bgrx", FB_BGRX, 0, 0, 0, 0, 4, 0, PIX_BGRX32 },
		{ "mask-bgrx", FB_BITMASK, 0xff0000, 0xff00, 0xff, 0xff000000u, 4, 0, PIX_BGRX32 },
		{ "mask-rgbx", FB_BITMASK, 0xff, 0xff00, 0xff0000, 0xff000000u, 4, 0, PIX_RGBX32 },
		{ "mask-bgr-24", FB_BITMASK, 0xff, 0xff00, 0xff0000, 0, 3, 0, PIX_MASK },
		{ "mask-xrgb-high", FB_BITMASK, 0xff000000u, 0xff0000, 0xff00, 0xff, 4, 0, PIX_MASK },
		{ "mask-2101010", FB_BITMASK, 0x3ff00000, 0xffc00, 0x3ff, 0xc0000000u, 4, 0, PIX_MASK },
		{ "mask-888-24", FB_BITMASK, 0xff0000, 0xff00, 0xff, 0, 3, 0, PIX_MASK },
		{ "mask-565", FB_BITMASK, 0xf800, 0x7e0, 0x1f, 0, 2, 4, PIX_MASK },
		{ "mask-555", FB_BITMASK, 0x7c00, 0x3e0, 0x1f, 0x8000, 2, 4, PIX_MASK },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_format(&cases[i]);
	}
	struct pixfmt p;
	EXPECT(pixfmt_init(&p, FB_BITMASK, 0xff0000, 0xff0000, 0xff, 0) != 0, "overlap");
	EXPECT(pixfmt_init(&p, FB_BITMASK, 0xf0f000, 0xff00, 0xff, 0) != 0, "gap");
	EXPECT(pixfmt_init(&p, FB_BITMASK, 0, 0xff00, 0xff, 0) != 0, "zero");
	EXPECT(pixfmt_init(&p, FB_BITMASK, 0xe0, 0x1c, 0x3, 0) != 0, "8bpp");
	EXPECT(pixfmt_init(&p, 3, 0, 0, 0, 0) != 0, "blt-only");
	EXPECT(pixfmt_init(&p, FB_BITMASK, 0xff0000, 0xff00, 0xff, 0xff00ff00u) != 0, "x overlaps");

	/* clipping and arguments in gopfb.c */
	static uint8_t screen[64 * 40 * 4];
	pixfmt_init(&fmt, FB_BGRX, 0, 0, 0, 0);
	fb = (struct fb){ screen, 50, 40, 64 * 4, &fmt };
	info.width = 50; info.height = 40; info.mode = 3;
	uint32_t px[100 * 4];
	active = 0;
	EXPECT(gopfb_fill(NULL, 0, 0, 1, 1, 0) == PB_EBUSY, "busy");
	/* rt_rect_begin's order: busy, then nothing to draw, then the rest */
	EXPECT(gopfb_blit(NULL, NULL, 0, 99, 99, 1, 1) == PB_EBUSY, "busy first");
	EXPECT(gopfb_read(NULL, NULL, 0, 0, 0, 1, 1) == PB_EBUSY, "read busy");
	EXPECT(gopfb_copy(NULL, 0, 0, 0, 0, 1, 1) == PB_EBUSY, "copy busy");
	active = 1;
	EXPECT(gopfb_blit(NULL, NULL, 0, 99, 99, 1, 0) == PB_OK, "empty before px");
	EXPECT(gopfb_copy(NULL, 99, 0, 99, 0, 0, 1) == PB_OK, "empty copy");
	EXPECT(gopfb_fill(NULL, 0, 0, 0, 5, 0) == PB_OK, "zero w");
	EXPECT(gopfb_fill(NULL, 50, 0, 1, 1, 0) == PB_EINVAL, "x off");
	EXPECT(gopfb_fill(NULL, 0, 40, 1, 1, 0) == PB_EINVAL, "y off");
	memset(screen, 0, sizeof(screen));
	EXPECT(gopfb_fill(NULL, 45, 38, 100, 100, 0x123456) == PB_OK, "clip");
	EXPECT(((uint32_t *)screen)[39 * 64 + 49] == 0x123456, "clip corner");
	EXPECT(((uint32_t *)screen)[39 * 64 + 50] == 0, "stride pad untouched");
	EXPECT(((uint32_t *)screen)[37 * 64 + 49] == 0, "above untouched");
	EXPECT(gopfb_fill(NULL, 0xffffffffu, 0, 2, 1, 0) == PB_EINVAL, "wrap x");
	EXPECT(gopfb_fill(NULL, 1, 1, 0xffffffffu, 1, 7) == PB_OK, "huge w clipped");
	EXPECT(gopfb_blit(NULL, NULL, 10, 0, 0, 1, 1) == PB_EINVAL, "null px");
	EXPECT(gopfb_blit(NULL, px, 3, 0, 0, 4, 2) == PB_EINVAL, "short pitch");
	EXPECT(gopfb_blit(NULL, px, 3, 0, 0, 4, 1) == PB_OK, "pitch any for one row");
	for (int i = 0; i < 400; i++) px[i] = (uint32_t)i;
	EXPECT(gopfb_blit(NULL, px, 100, 48, 39, 100, 4) == PB_OK, "blit clip");
	EXPECT(((uint32_t *)screen)[39 * 64 + 49] == 1 && ((uint32_t *)screen)[39 * 64 + 50] == 0, "blit clipped right");
	EXPECT(gopfb_read(NULL, px, 100, 48, 39, 5, 5) == PB_OK && px[0] == 0 && px[1] == 1, "read clip");
	EXPECT(gopfb_copy(NULL, 0, 0, 50, 0, 1, 1) == PB_EINVAL, "copy dst off");
	EXPECT(gopfb_copy(NULL, 49, 0, 0, 0, 10, 1) == PB_OK, "copy clip src");
	EXPECT(gopfb_copy(NULL, 0, 0, 45, 0, 10, 1) == PB_OK, "copy clip dst");
	struct display_mode m;
	EXPECT(gopfb_get_mode(NULL, &m) == PB_OK && m.width == 50 && m.bpp == 32 && m.id == 3, "mode");
	EXPECT(gopfb_list_modes(NULL, 0, &m) == PB_OK && gopfb_list_modes(NULL, 1, &m) == PB_ENOENT, "list");
	EXPECT(gopfb_set_mode(NULL, 3) == PB_OK && gopfb_set_mode(NULL, 4) == PB_ENOTSUP, "set");
	hub = &fake_hub;
	/* import: refuse another mode */
	info.base = 0x80000000; info.stride = 64; info.format = FB_BGRX;
	struct fb_info s = info;
	EXPECT(gopfb_import(NULL, &s, sizeof(s), GOPFB_STATE_VERSION) == PB_OK, "same mode");
	EXPECT(gopfb_import(NULL, &s, sizeof(s), 2) == PB_ESTATE, "version");
	EXPECT(gopfb_import(NULL, &s, sizeof(s) - 1, 1) == PB_ESTATE, "len");
	s.width = 40;
	EXPECT(gopfb_import(NULL, &s, sizeof(s), 1) == PB_ESTATE, "other mode");
	CHECK_MSG(fails == 0, "%d failures, the first: %s", fails, first_fail);
}

static char gop_log[512];

static void
gop_log_line(struct pb_module *m, int l, const char *msg)
{
	snprintf(gop_log, sizeof(gop_log), "%s", msg);
}

static const struct pb_hub log_hub = { .log = gop_log_line };

/* gop-fb and bochs-display hand the screen to each other: gop-fb's state
 * is what bochs-display takes, and bochs-display's is what gop-fb takes
 * back while the mode is the firmware's, refusing any other. */
TEST(gopfb_state_swaps_with_bochs_display)
{
	struct dispi_mode fw = { 1280, 800, 32, 1280, 0, 0, 0x41 };
	struct dispi_mode big = { 1280, 1024, 32, 1280, 0, 0, 0x41 };
	struct fb_info st, got;
	unsigned char blob[64];
	const char *why = NULL;
	size_t len;
	uint32_t ver;

	hub = &log_hub;
	info = (struct fb_info){ .base = 0xc0000000, .size = 1280 * 800 * 4,
	    .width = 1280, .height = 800, .stride = 1280, .format = FB_BGRX };
	CHECK(pixfmt_init(&fmt, FB_BGRX, 0, 0, 0, 0) == PB_OK);

	/* gop-fb -> bochs-display */
	CHECK(gopfb_export(NULL, blob, sizeof(blob), &len, &ver) == PB_OK);
	CHECK_EQ_INT(ver, FB_STATE_VERSION);
	CHECK_EQ_INT(state_import(blob, len, ver, 0xc0000000, 16u << 20, &got,
	    &why), PB_OK);
	CHECK(got.width == 1280 && got.height == 800 && got.stride == 1280);
	CHECK_EQ_INT(state_import(blob, len, ver, 0xd0000000, 16u << 20, &got,
	    &why), PB_ESTATE);		/* another device's framebuffer */

	/* bochs-display -> gop-fb, in the firmware's mode */
	state_export(&st, 0xc0000000, 16u << 20, &fw);
	CHECK_EQ_INT(gopfb_import(NULL, &st, sizeof(st), FB_STATE_VERSION),
	    PB_OK);
	/* ... and in a mode GOP cannot show */
	state_export(&st, 0xc0000000, 16u << 20, &big);
	gop_log[0] = '\0';
	CHECK_EQ_INT(gopfb_import(NULL, &st, sizeof(st), FB_STATE_VERSION),
	    PB_ESTATE);
	CHECK_CONTAINS(gop_log, "refusing 1280x1024");
	CHECK_CONTAINS(gop_log, "only the firmware's mode, 1280x800");

	/* A firmware that names BGRX by its masks takes the same layout. */
	info.format = FB_BITMASK;
	info.mask_r = 0xff0000, info.mask_g = 0xff00, info.mask_b = 0xff;
	info.mask_x = 0xff000000u;
	CHECK(pixfmt_init(&fmt, FB_BITMASK, info.mask_r, info.mask_g,
	    info.mask_b, info.mask_x) == PB_OK);
	state_export(&st, 0xc0000000, 16u << 20, &fw);
	CHECK_EQ_INT(gopfb_import(NULL, &st, sizeof(st), FB_STATE_VERSION),
	    PB_OK);
	CHECK(gopfb_export(NULL, blob, sizeof(blob), &len, &ver) == PB_OK);
	CHECK_EQ_INT(state_import(blob, len, ver, 0xc0000000, 16u << 20, &got,
	    &why), PB_OK);
	/* RGBX is another layout: refused both ways. */
	info.format = FB_RGBX;
	CHECK(pixfmt_init(&fmt, FB_RGBX, 0, 0, 0, 0) == PB_OK);
	CHECK_EQ_INT(gopfb_import(NULL, &st, sizeof(st), FB_STATE_VERSION),
	    PB_ESTATE);
	CHECK(gopfb_export(NULL, blob, sizeof(blob), &len, &ver) == PB_OK);
	CHECK_EQ_INT(state_import(blob, len, ver, 0xc0000000, 16u << 20, &got,
	    &why), PB_ESTATE);
}

/* A 1366x768 laptop panel with 1376 pixels a line whose firmware reports
 * the framebuffer up to its last visible pixel: taken; one byte less is
 * refused. */
TEST(gopfb_size_up_to_the_last_visible_pixel)
{
	struct fb_info i = { .base = 0xc0000000, .width = 1366, .height = 768,
	    .stride = 1376, .format = FB_BGRX };
	struct pixfmt p;
	const char *why = NULL;
	size_t len;

	i.size = (767ull * 1376 + 1366) * 4;
	CHECK_EQ_INT(check_info(&i, &p, &len, &why), PB_OK);
	CHECK_EQ_INT(len, i.size);
	i.size--;
	CHECK_EQ_INT(check_info(&i, &p, &len, &why), PB_EINVAL);
	CHECK_STR(why, "framebuffer smaller than its mode");
}

/* The framebuffer is mapped once, at the start (standby too): the swap's
 * release and activate only flip a flag, the stop unmaps.  No pages are
 * allocated: there is no RAM copy of the screen. */
static int maps, unmaps, page_allocs;
static char map_props[128];
static uint32_t screen_mem[64 * 32];

static void *
map_alloc_pages(struct pb_module *m, size_t n, uint32_t f, uint64_t *ph)
{
	page_allocs++;
	return NULL;
}

static void *
map_map_mmio(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	maps++;
	return cache == PB_CACHE_WC ? screen_mem : NULL;
}

static void
map_unmap_mmio(struct pb_module *m, void *va)
{
	unmaps++;
}

static struct pb_resource *
map_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	snprintf(map_props, sizeof(map_props), "%s", props);
	return (struct pb_resource *)map_props;
}

static const struct pb_hub map_hub = { .log = gop_log_line,
	.alloc_pages = map_alloc_pages, .map_mmio = map_map_mmio,
	.unmap_mmio = map_unmap_mmio, .publish = map_publish };

TEST(gopfb_maps_at_start_and_swaps_by_a_flag)
{
	static struct fb_info fw = { .base = 0xc0000000, .size = 64 * 32 * 4,
	    .width = 64, .height = 32, .stride = 64, .format = FB_BGRX };
	struct pb_conn conn = { .ops = &fw, .res = "framebuffer:gop0" };

	gopfb_event(NULL, PB_EV_CONNECTED, &conn, 0);
	REQUIRE(gopfb_start(NULL, &map_hub, PB_START_STANDBY) == PB_OK);
	CHECK_EQ_INT(maps, 1);
	CHECK(!active);
	CHECK_EQ_INT(gopfb_fill(NULL, 0, 0, 1, 1, 0), PB_EBUSY);
	CHECK_EQ_INT(gopfb_import(NULL, &fw, sizeof(fw), 1), PB_OK);
	CHECK_EQ_INT(gopfb_activate(NULL), PB_OK);
	CHECK(active);
	CHECK_EQ_INT(gopfb_fill(NULL, 1, 1, 1, 1, 0x123456), PB_OK);
	CHECK_EQ_INT(screen_mem[64 + 1], 0x123456);
	CHECK_EQ_INT(gopfb_release(NULL), PB_OK);
	CHECK(!active);
	CHECK_EQ_INT(gopfb_activate(NULL), PB_OK);	/* a resume */
	CHECK_EQ_INT(maps, 1);
	CHECK_EQ_INT(unmaps, 0);
	CHECK_EQ_INT(page_allocs, 0);
	CHECK_CONTAINS(map_props, "w=64 h=32 bpp=32");
	gopfb_stop(NULL);
	CHECK_EQ_INT(unmaps, 1);
	CHECK(!active && fb.base == NULL);
	gopfb_event(NULL, PB_EV_DISCONNECTED, &conn, 0);
	res = NULL;
}
