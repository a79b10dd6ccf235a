/*
 * mod_bochs.c - host tests of bochs-display against a model of the Bochs
 * DISPI registers as QEMU's std VGA and bochs-display implement them
 * (hw/display/vga.c: GETCAPS, the reset of VIRT_WIDTH and the offsets and
 * the clearing of the video memory on enable, the rounding of what the
 * device cannot show), reached through BAR2 or the I/O ports, with the
 * VGA attribute controller beside it.
 *
 * What is checked: the order of the mode-set writes (HARDWARE.md) on both
 * paths, the ID check, GETCAPS leaving the picture alone, the mode list
 * from the maxima and the video memory, refused and failing modes (the
 * old mode comes back, black), the drawing against a reference with a
 * stride wider than the screen (no RAM copy of the screen), the
 * unblank on std VGA only, and the swap state: taking gop-fb's struct
 * fb_info keeps the firmware's mode without touching a register.  The
 * other direction (gop-fb taking bochs-display's state) is in
 * mod_gopfb.c, which compiles both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/bochs-display/dispi.c"
#include "../../mods/bochs-display/vga.c"
#include "../../mods/bochs-display/modes.c"
#include "../../mods/bochs-display/draw.c"
#include "../../mods/bochs-display/state.c"
#include "../../mods/bochs-display/bochs.c"
#include "../../abi/rt/rect.c"
#include "../../abi/rt/setting.c"

/* --- the device model ------------------------------------------------ */

#define VRAM_MAX (16u << 20)
#define FB_PHYS 0xc0000000ull

static struct model {
	uint16_t regs[16];
	uint16_t index;			/* the port-side index register */
	uint32_t max_w, max_h, max_bpp;
	uint64_t vram_bytes;
	uint8_t *vram;
	uint32_t line_offset;		/* bytes per scan line, when enabled */
	/* every DISPI write, in order */
	struct { uint16_t index, value; } w[256];
	unsigned nw;
	unsigned cleared;		/* enables that cleared the memory */
	/* the attribute controller */
	int flipflop_index;		/* 1: the next 0x3C0 write is an index */
	unsigned is1_reads, ar_index_writes;
	uint8_t ar_index;
	unsigned port_accesses, mmio_accesses;
	int plain;			/* QEMU's bochs-display: plain storage */
} dev;

static uint8_t bar2[4096];

static void
fixup(void)
{
	uint16_t *r = dev.regs;
	uint32_t bits, maxy, off;

	if (!(r[DISPI_INDEX_ENABLE] & DISPI_ENABLED))
		return;
	bits = r[DISPI_INDEX_BPP];
	if (bits != 8 && bits != 16 && bits != 24 && bits != 32)
		bits = r[DISPI_INDEX_BPP] = 8;
	r[DISPI_INDEX_XRES] &= ~7u;
	if (!r[DISPI_INDEX_XRES])
		r[DISPI_INDEX_XRES] = 8;
	if (r[DISPI_INDEX_XRES] > dev.max_w)
		r[DISPI_INDEX_XRES] = (uint16_t)dev.max_w;
	r[DISPI_INDEX_VIRT_WIDTH] &= ~7u;
	if (r[DISPI_INDEX_VIRT_WIDTH] < r[DISPI_INDEX_XRES])
		r[DISPI_INDEX_VIRT_WIDTH] = r[DISPI_INDEX_XRES];
	dev.line_offset = r[DISPI_INDEX_VIRT_WIDTH] * bits / 8;
	maxy = (uint32_t)(dev.vram_bytes / dev.line_offset);
	if (!r[DISPI_INDEX_YRES])
		r[DISPI_INDEX_YRES] = 1;
	if (r[DISPI_INDEX_YRES] > dev.max_h)
		r[DISPI_INDEX_YRES] = (uint16_t)dev.max_h;
	if (r[DISPI_INDEX_YRES] > maxy)
		r[DISPI_INDEX_YRES] = (uint16_t)maxy;
	off = r[DISPI_INDEX_X_OFFSET] * bits / 8 +
	    r[DISPI_INDEX_Y_OFFSET] * dev.line_offset;
	if (off + r[DISPI_INDEX_YRES] * dev.line_offset > dev.vram_bytes)
		r[DISPI_INDEX_X_OFFSET] = r[DISPI_INDEX_Y_OFFSET] = 0;
	r[DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)maxy;
}

static void
reg_write(uint16_t i, uint16_t v)
{
	uint16_t *r = dev.regs;

	if (dev.nw < 256)
		dev.w[dev.nw].index = i, dev.w[dev.nw++].value = v;
	if (dev.plain) {		/* no checks, no clearing */
		if (i != DISPI_INDEX_ID && i < 0xa)
			r[i] = v;
		if (i == DISPI_INDEX_ENABLE || i == DISPI_INDEX_VIRT_WIDTH)
			dev.line_offset = (r[DISPI_INDEX_VIRT_WIDTH] >
			    r[DISPI_INDEX_XRES] ? r[DISPI_INDEX_VIRT_WIDTH] :
			    r[DISPI_INDEX_XRES]) * 4u;
		return;
	}
	switch (i) {
	case DISPI_INDEX_XRES: case DISPI_INDEX_YRES: case DISPI_INDEX_BPP:
	case DISPI_INDEX_VIRT_WIDTH: case DISPI_INDEX_X_OFFSET:
	case DISPI_INDEX_Y_OFFSET: case DISPI_INDEX_BANK:
		r[i] = v;
		fixup();
		break;
	case DISPI_INDEX_ENABLE:
		if ((v & DISPI_ENABLED) && !(r[i] & DISPI_ENABLED)) {
			r[DISPI_INDEX_VIRT_WIDTH] = 0;
			r[DISPI_INDEX_X_OFFSET] = r[DISPI_INDEX_Y_OFFSET] = 0;
			r[i] |= DISPI_ENABLED;
			fixup();
			if (!(v & DISPI_NOCLEARMEM)) {
				memset(dev.vram, 0, (size_t)r[DISPI_INDEX_YRES] *
				    dev.line_offset);
				dev.cleared++;
			}
		}
		r[i] = v;
		break;
	default:		/* ID, VIRT_HEIGHT: read-only here */
		break;
	}
}

static uint16_t
reg_read(uint16_t i)
{
	uint16_t *r = dev.regs;

	if (i == DISPI_INDEX_VIDEO_MEMORY_64K)
		return (uint16_t)(dev.vram_bytes >> 16);
	if (i > 0xa)
		return 0;
	if ((r[DISPI_INDEX_ENABLE] & DISPI_GETCAPS) && !dev.plain) {
		if (i == DISPI_INDEX_XRES)
			return (uint16_t)dev.max_w;
		if (i == DISPI_INDEX_YRES)
			return (uint16_t)dev.max_h;
		if (i == DISPI_INDEX_BPP)
			return (uint16_t)dev.max_bpp;
	}
	return r[i];
}

/* The VGA ports 0x3C0-0x3DF, through either path. */
static uint8_t
vga_read(uint16_t port)
{
	if (port == VGA_IS1_COLOR) {
		dev.is1_reads++;
		dev.flipflop_index = 1;
	}
	return 0;
}

static void
vga_write(uint16_t port, uint8_t v)
{
	if (port == VGA_AR_INDEX && dev.flipflop_index) {
		dev.ar_index = v;
		dev.ar_index_writes++;
		dev.flipflop_index = 0;
	}
}

static size_t
bar2_off(const volatile void *reg)
{
	size_t off = (size_t)((const volatile uint8_t *)reg - bar2);

	if (off >= sizeof(bar2)) {
		fprintf(stderr, "access outside BAR2\n");
		abort();
	}
	dev.mmio_accesses++;
	return off;
}

uint16_t
mmio_read16(const volatile void *p)
{
	size_t off = bar2_off(p);

	if (off >= DISPI_MMIO_BASE && off < DISPI_MMIO_BASE + 0x20 && !(off & 1))
		return reg_read((uint16_t)((off - DISPI_MMIO_BASE) >> 1));
	return 0xffff;
}

void
mmio_write16(volatile void *p, uint16_t v)
{
	size_t off = bar2_off(p);

	if (off >= DISPI_MMIO_BASE && off < DISPI_MMIO_BASE + 0x20 && !(off & 1))
		reg_write((uint16_t)((off - DISPI_MMIO_BASE) >> 1), v);
}

uint8_t
mmio_read8(const volatile void *p)
{
	size_t off = bar2_off(p);

	if (off >= VGA_MMIO_BASE && off < VGA_MMIO_BASE + 0x20)
		return vga_read((uint16_t)(VGA_AR_INDEX + off - VGA_MMIO_BASE));
	return 0xff;
}

void
mmio_write8(volatile void *p, uint8_t v)
{
	size_t off = bar2_off(p);

	if (off >= VGA_MMIO_BASE && off < VGA_MMIO_BASE + 0x20)
		vga_write((uint16_t)(VGA_AR_INDEX + off - VGA_MMIO_BASE), v);
}

uint16_t
inw(uint16_t port)
{
	dev.port_accesses++;
	return port == DISPI_PORT_DATA ? reg_read(dev.index) : 0xffff;
}

void
outw(uint16_t port, uint16_t v)
{
	dev.port_accesses++;
	if (port == DISPI_PORT_INDEX)
		dev.index = v;
	else if (port == DISPI_PORT_DATA)
		reg_write(dev.index, v);
}

uint8_t
inb(uint16_t port)
{
	dev.port_accesses++;
	return vga_read(port);
}

void
outb(uint16_t port, uint8_t v)
{
	dev.port_accesses++;
	vga_write(port, v);
}

/* A device as QEMU resets it, then left by the firmware in w x h. */
static void
device(uint64_t vram_bytes, uint32_t max_w, uint32_t max_h, uint32_t w,
    uint32_t h)
{
	free(dev.vram);
	memset(&dev, 0, sizeof(dev));
	dev.vram_bytes = vram_bytes;
	dev.vram = calloc(1, vram_bytes);
	dev.max_w = max_w, dev.max_h = max_h, dev.max_bpp = 32;
	dev.regs[DISPI_INDEX_ID] = DISPI_ID5;
	if (w) {
		reg_write(DISPI_INDEX_BPP, 32);
		reg_write(DISPI_INDEX_XRES, (uint16_t)w);
		reg_write(DISPI_INDEX_YRES, (uint16_t)h);
		reg_write(DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
		for (size_t i = 0; i < (size_t)w * h * 4; i++)
			dev.vram[i] = (uint8_t)(i * 7 + 3);	/* a picture */
	}
	dev.nw = 0;
	dev.cleared = 0;
}

/* Did the device see exactly this sequence of (index, value) writes? */
static int
wrote(const uint16_t *seq, unsigned n)
{
	if (dev.nw != n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (dev.w[i].index != seq[2 * i] || dev.w[i].value != seq[2 * i + 1])
			return 0;
	return 1;
}

/* --- the hub and pci, faked ----------------------------------------- */

static char logbuf[4096];
static char cfg_props[128];
static char res_props[256];
static unsigned pages_out;

static void
fake_log(struct pb_module *m, int l, const char *msg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static void *
fake_alloc_pages(struct pb_module *m, size_t n, uint32_t flags, uint64_t *phys)
{
	pages_out += (unsigned)n;
	return malloc(n * 4096);
}

static void
fake_free_pages(struct pb_module *m, void *va, size_t n)
{
	pages_out -= (unsigned)n;
	free(va);
}

static struct pb_resource *
fake_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	return (struct pb_resource *)res_props;
}

static int
fake_set_props(struct pb_module *m, struct pb_resource *r, const char *p)
{
	snprintf(res_props, sizeof(res_props), "%s", p);
	return PB_OK;
}

static int
fake_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	if (index > 0)
		return PB_ENOENT;
	*out = (struct pb_res_info){ .name = "config:boot", .props = cfg_props };
	return PB_OK;
}

static unsigned unmaps;

static void
fake_unmap_mmio(struct pb_module *m, void *va)
{
	if (va == (void *)dev.vram || va == (void *)bar2)
		unmaps++;
}

static const struct pb_hub fake_hub = {
	.log = fake_log,
	.unmap_mmio = fake_unmap_mmio,
	.alloc_pages = fake_alloc_pages,
	.free_pages = fake_free_pages,
	.publish = fake_publish,
	.set_props = fake_set_props,
	.res_info = fake_res_info,
};

static struct pci_func_info func;
static uint16_t decode_bits;

static int
fake_info(void *ctx, struct pci_func_info *i)
{
	*i = func;
	return PB_OK;
}

static uint32_t cmd_reg;	/* COMMAND as cfg_read finds it */

static int
fake_cfg_read(void *ctx, uint16_t off, unsigned width, uint32_t *v)
{
	*v = off == PCI_COMMAND ? cmd_reg : 0;
	return PB_OK;
}

static int
fake_enable(void *ctx, uint16_t bits, int on)
{
	decode_bits = on ? decode_bits | bits : decode_bits & ~bits;
	return PB_OK;
}

static void *
fake_map_bar(void *ctx, struct pb_module *client, unsigned bar, int cache)
{
	if (bar == 0 && cache == PB_CACHE_WC)
		return dev.vram;
	if (bar == 2 && cache == PB_CACHE_UC)
		return bar2;
	return NULL;
}

static const struct pci_ops fake_pci = {
	.info = fake_info, .cfg_read = fake_cfg_read, .enable = fake_enable,
	.map_bar = fake_map_bar,
};
static struct pb_conn pci_conn = { .ops = &fake_pci, .res = "pci:00:02.0" };
static int dummy_module;
#define SELF ((struct pb_module *)&dummy_module)

/* A function of class 03.00 (std VGA) or 03.80 (bochs-display). */
static void
function(int vga, int with_bar2)
{
	memset(&func, 0, sizeof(func));
	func.vendor = 0x1234, func.device = 0x1111;
	func.class_code = 0x03, func.subclass = vga ? 0x00 : 0x80;
	func.bars[0] = (struct pci_bar){ FB_PHYS, dev.vram_bytes,
	    PCI_BAR_MEM32, 1, 0, 0 };
	if (with_bar2)
		func.bars[2] = (struct pci_bar){ 0xc1000000, 4096,
		    PCI_BAR_MEM32, 0, 0, 0 };
	decode_bits = 0;
	cmd_reg = 0;
}

/* The module as freshly loaded, bound to the function. */
static void
fresh_module(void)
{
	hub = NULL, self = NULL, pci = NULL, res = NULL;
	memset(&fn, 0, sizeof(fn));
	memset(&dispi, 0, sizeof(dispi));
	memset(&caps, 0, sizeof(caps));
	memset(&modes, 0, sizeof(modes));
	memset(&cur, 0, sizeof(cur));
	memset(&draw, 0, sizeof(draw));
	memset(&want, 0, sizeof(want));
	fb = NULL, fb_base = fb_size = vram = 0;
	has_vga = have_want = active = is_ready = measured = 0;
	decode = 0;
	memset(&found, 0, sizeof(found));
	logbuf[0] = res_props[0] = cfg_props[0] = '\0';
	bochs_event(SELF, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
}

static void
done(void)
{
	int mapped = (fb != NULL) + (dispi.regs != NULL);

	unmaps = 0;
	bochs_stop(SELF);
	CHECK_EQ_INT(pages_out, 0);
	CHECK_EQ_INT(unmaps, mapped);
	free(dev.vram);
	dev.vram = NULL;
}

static uint32_t
pixel(uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, dev.vram + (size_t)y * dev.line_offset + x * 4, 4);
	return v;
}

/* --- the register sequences ----------------------------------------- */

static const uint16_t set_1280x1024[] = {
	DISPI_INDEX_ENABLE, 0,
	DISPI_INDEX_BPP, 32,
	DISPI_INDEX_XRES, 1280,
	DISPI_INDEX_YRES, 1024,
	DISPI_INDEX_BANK, 0,
	DISPI_INDEX_VIRT_WIDTH, 1280,
	DISPI_INDEX_VIRT_HEIGHT, 1024,
	DISPI_INDEX_X_OFFSET, 0,
	DISPI_INDEX_Y_OFFSET, 0,
	DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED,
};

TEST(bochs_mode_set_order_through_bar2)
{
	struct dispi d = { bar2, 0 };
	struct dispi_mode got;
	const char *why = NULL;

	device(16u << 20, 16000, 12000, 1280, 800);
	CHECK_EQ_INT(dispi_probe(&d, &why), PB_OK);
	CHECK_EQ_INT(d.id, DISPI_ID5);
	CHECK_EQ_INT(dispi_set_mode(&d, 1280, 1024, &got, &why), PB_OK);
	CHECK(wrote(set_1280x1024, 10));
	CHECK_EQ_INT(got.width, 1280);
	CHECK_EQ_INT(got.height, 1024);
	CHECK_EQ_INT(got.pitch, 1280);
	CHECK(dispi_shows(&got, 1280, 1024));
	CHECK_EQ_INT(dev.cleared, 1);		/* enabled without NOCLEARMEM */
	CHECK_EQ_INT(dev.port_accesses, 0);
	free(dev.vram);
	dev.vram = NULL;
}

TEST(bochs_mode_set_order_through_the_ports)
{
	struct dispi d = { NULL, 0 };
	struct dispi_mode got;
	const char *why = NULL;

	device(16u << 20, 16000, 12000, 1280, 800);
	CHECK_EQ_INT(dispi_probe(&d, &why), PB_OK);
	CHECK_EQ_INT(dispi_set_mode(&d, 1280, 1024, &got, &why), PB_OK);
	CHECK(wrote(set_1280x1024, 10));
	CHECK_EQ_INT(dev.mmio_accesses, 0);
	CHECK(dispi_shows(&got, 1280, 1024));
	free(dev.vram);
	dev.vram = NULL;
}

TEST(bochs_id_register_checked)
{
	static const uint16_t ids[] = { 0xb0c0, 0xb0c1, 0xb0c2, 0xb0c5,
	    0xb0c6, 0xffff, 0x0000, 0x1234 };
	static const int ok[] = { 0, 0, 1, 1, 0, 0, 0, 0 };
	struct dispi d = { bar2, 0 };
	const char *why = NULL;

	device(16u << 20, 16000, 12000, 0, 0);
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		dev.regs[DISPI_INDEX_ID] = ids[i];
		CHECK_MSG((dispi_probe(&d, &why) == PB_OK) == ok[i],
		    "ID 0x%04x", ids[i]);
	}
	free(dev.vram);
	dev.vram = NULL;
}

/* GETCAPS reads the maxima and puts ENABLE back: no clear, no new mode. */
TEST(bochs_getcaps_leaves_the_picture)
{
	struct dispi d = { bar2, 0 };
	struct dispi_caps c;
	struct dispi_mode m;
	const char *why;
	uint8_t first = 0;

	device(8u << 20, 2560, 1600, 1024, 768);
	first = dev.vram[100];
	dispi_probe(&d, &why);
	dispi_caps(&d, &c);
	CHECK_EQ_INT(c.max_width, 2560);
	CHECK_EQ_INT(c.max_height, 1600);
	CHECK_EQ_INT(c.max_bpp, 32);
	CHECK_EQ_INT(c.vram, 8u << 20);
	dispi_read_mode(&d, &m);
	CHECK(dispi_shows(&m, 1024, 768));
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_ENABLE],
	    DISPI_ENABLED | DISPI_LFB_ENABLED);
	CHECK_EQ_INT(dev.cleared, 0);
	CHECK_EQ_INT(dev.vram[100], first);
	for (unsigned i = 0; i < dev.nw; i++)
		CHECK_MSG(dev.w[i].index == DISPI_INDEX_ENABLE &&
		    (dev.w[i].value & DISPI_ENABLED), "write %u: index %u = 0x%x",
		    i, dev.w[i].index, dev.w[i].value);
	free(dev.vram);
	dev.vram = NULL;
}

/* The device rounds a height the memory cannot hold: set_mode says so. */
TEST(bochs_mode_the_device_cannot_hold_fails)
{
	struct dispi d = { bar2, 0 };
	struct dispi_mode got;
	const char *why = NULL;

	device(4u << 20, 16000, 12000, 0, 0);
	dispi_probe(&d, &why);
	CHECK_EQ_INT(dispi_set_mode(&d, 1280, 1024, &got, &why), PB_EIO);
	CHECK_CONTAINS(why, "YRES");
	CHECK_EQ_INT(dispi_set_mode(&d, 1003, 600, &got, &why), PB_EIO);
	CHECK_CONTAINS(why, "XRES");
	free(dev.vram);
	dev.vram = NULL;
}

/* --- the mode list ---------------------------------------------------- */

static int
listed(const struct mode_list *l, uint32_t w, uint32_t h)
{
	return modes_find(l, mode_id(w, h)) != NULL;
}

TEST(bochs_mode_list_from_caps_and_vram)
{
	struct dispi_caps c = { 1600, 1200, 32, 0 };
	struct mode_list l;
	const char *why;

	modes_build(&l, &c, 16u << 20, 1280, 800);
	CHECK(l.n > 5);
	CHECK(listed(&l, 640, 480));
	CHECK(listed(&l, 1280, 1024));
	CHECK(listed(&l, 1600, 1200));
	CHECK(!listed(&l, 1920, 1080));		/* wider than the maximum */
	for (unsigned i = 1; i < l.n; i++)
		CHECK_MSG(l.m[i - 1].width < l.m[i].width ||
		    (l.m[i - 1].width == l.m[i].width &&
		    l.m[i - 1].height < l.m[i].height), "order at %u", i);
	for (unsigned i = 0; i < l.n; i++)
		CHECK(l.m[i].bpp == 32 && l.m[i].id ==
		    mode_id(l.m[i].width, l.m[i].height) && l.m[i].width % 8 == 0);

	/* 4 MiB: 1280x800 (4,096,000 bytes) fits, 1280x1024 does not. */
	c = (struct dispi_caps){ 16000, 12000, 32, 0 };
	modes_build(&l, &c, 4u << 20, 0, 0);
	CHECK(listed(&l, 1280, 800));
	CHECK(!listed(&l, 1280, 1024));
	CHECK(!listed(&l, 3840, 2160));

	/* The firmware's odd mode is kept; one the device cannot show is not. */
	modes_build(&l, &c, 16u << 20, 1112, 704);
	CHECK(listed(&l, 1112, 704));
	modes_build(&l, &c, 16u << 20, 1366, 768);
	CHECK(!listed(&l, 1366, 768));
	CHECK(!mode_fits(&c, 16u << 20, 1366, 768, &why));
	CHECK_CONTAINS(why, "multiple of 8");
	CHECK(!mode_fits(&c, 16u << 20, 200, 100, &why));
	c.max_bpp = 24;
	CHECK(!mode_fits(&c, 16u << 20, 640, 480, &why));
	CHECK_CONTAINS(why, "32 bpp");
}

/* --- drawing --------------------------------------------------------- */

static uint32_t rnd_state = 99;
static uint32_t rnd(void) { rnd_state = rnd_state * 1103515245 + 12345; return rnd_state >> 8; }

static void
draw_against_reference(int nops)
{
	enum { W = 41, H = 29, P = 48 };
	uint32_t *screen = calloc(P * H, 4), *ref = calloc(W * H, 4);
	uint32_t *rd = calloc(W * H, 4);
	struct draw d = { screen, W, H, P };
	int bad = 0;

	for (uint32_t i = 0; i < P * H; i++)
		screen[i] = 0xa5a5a5a5u;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			ref[y * W + x] = screen[y * P + x];
	for (int op = 0; op < nops; op++) {
		uint32_t x = rnd() % W, y = rnd() % H;
		uint32_t w = 1 + rnd() % (W - x), h = 1 + rnd() % (H - y);
		int k = rnd() % 3;

		if (k == 0) {
			uint32_t v = rnd() & 0xffffff;

			draw_fill(&d, x, y, w, h, v);
			for (uint32_t j = y; j < y + h; j++)
				for (uint32_t i = x; i < x + w; i++)
					ref[j * W + i] = v;
		} else if (k == 1) {
			uint32_t bp = w + rnd() % 4, *buf = malloc(bp * h * 4);

			for (uint32_t i = 0; i < bp * h; i++)
				buf[i] = rnd() & 0xffffff;
			draw_blit(&d, buf, bp, x, y, w, h);
			for (uint32_t j = 0; j < h; j++)
				for (uint32_t i = 0; i < w; i++)
					ref[(y + j) * W + x + i] = buf[j * bp + i];
			free(buf);
		} else {
			uint32_t dx = rnd() % W, dy = rnd() % H, *tmp;

			if (rnd() % 2)
				dy = y;		/* same rows: a sideways move */
			if (w > W - dx)
				w = W - dx;
			if (h > H - dy)
				h = H - dy;
			draw_copy(&d, x, y, dx, dy, w, h);
			tmp = malloc(w * h * 4);
			for (uint32_t j = 0; j < h; j++)
				for (uint32_t i = 0; i < w; i++)
					tmp[j * w + i] = ref[(y + j) * W + x + i];
			for (uint32_t j = 0; j < h; j++)
				for (uint32_t i = 0; i < w; i++)
					ref[(dy + j) * W + dx + i] = tmp[j * w + i];
			free(tmp);
		}
	}
	draw_read(&d, rd, W, 0, 0, W, H);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			/* byte 3 is unused: the device shows 24 bits */
			bad += (screen[y * P + x] & 0xffffff) !=
			    (ref[y * W + x] & 0xffffff);
			bad += rd[y * W + x] != (ref[y * W + x] & 0xffffff);
		}
	CHECK_MSG(bad == 0, "%d ops: %d bad pixels", nops, bad);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = W; x < P; x++)
			CHECK_MSG(screen[y * P + x] == 0xa5a5a5a5u,
			    "stride padding touched at %u,%u", x, y);
	free(screen), free(ref), free(rd);
}

TEST(bochs_draw_against_a_reference)
{
	/* A few operations leave some of the first picture to read back. */
	draw_against_reference(12);
	draw_against_reference(500);
}

/* --- the module ------------------------------------------------------ */

/* gop-fb's state for the firmware's w x h at the framebuffer's address. */
static struct fb_info
gop_state(uint32_t w, uint32_t h)
{
	return (struct fb_info){ .base = FB_PHYS, .size = (uint64_t)w * h * 4,
	    .width = w, .height = h, .stride = w, .format = FB_BGRX,
	    .mode = 0 };
}

/* The boot's swap: standby, gop-fb's state, activate.  The firmware's
 * mode is on the registers: nothing is written, the picture stays. */
TEST(bochs_takes_over_the_firmware_mode_untouched)
{
	struct fb_info st = gop_state(1280, 800), out;
	struct display_mode m;
	size_t len;
	uint32_t ver, before;

	device(16u << 20, 16000, 12000, 1280, 800);
	function(1, 1);
	fresh_module();
	cmd_reg = PCI_CMD_MEM | PCI_CMD_IO;	/* as the firmware left it */
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_STANDBY) == PB_OK);
	/* Standby: nothing written, to the function or the registers. */
	CHECK_EQ_INT(decode_bits, 0);
	CHECK_EQ_INT(dev.nw, 0);
	CHECK_EQ_INT(bochs_fill(NULL, 0, 0, 1, 1, 0), PB_EBUSY);
	CHECK(bochs_get_mode(NULL, &m) == PB_OK && m.width == 1280 &&
	    m.height == 800 && m.bpp == 32);
	CHECK(bochs_list_modes(NULL, 0, &m) == PB_OK && m.width == 1280);
	CHECK_EQ_INT(bochs_list_modes(NULL, 1, &m), PB_ENOENT);
	before = pixel(5, 5);
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_OK);
	CHECK_EQ_INT(bochs_activate(SELF), PB_OK);
	/* Nothing written: decoding was on, and the mode is the one shown
	 * (GETCAPS waits for the first listing). */
	CHECK_EQ_INT(decode_bits, 0);
	CHECK_EQ_INT(dev.nw, 0);
	CHECK(bochs_list_modes(NULL, 1, &m) == PB_OK);
	for (unsigned i = 0; i < dev.nw; i++)
		CHECK_MSG(dev.w[i].index == DISPI_INDEX_ENABLE &&
		    (dev.w[i].value & DISPI_ENABLED), "write %u: index %u = 0x%x",
		    i, dev.w[i].index, dev.w[i].value);
	CHECK_EQ_INT(dev.cleared, 0);
	CHECK_EQ_INT(pixel(5, 5), before);
	CHECK_EQ_INT(dev.ar_index_writes, 0);
	/* Reads come from the screen, as the firmware left it. */
	uint32_t px[4];
	CHECK_EQ_INT(bochs_read(NULL, px, 4, 5, 5, 1, 1), PB_OK);
	CHECK_EQ_INT(px[0], before & 0xffffffu);
	CHECK_EQ_INT(bochs_fill(NULL, 10, 10, 3, 3, 0x123456), PB_OK);
	CHECK_EQ_INT(pixel(11, 11), 0x123456);
	/* The state out is the state in: gop-fb can take it back. */
	CHECK_EQ_INT(bochs_export(SELF, NULL, 0, &len, &ver), PB_OK);
	CHECK_EQ_INT(len, sizeof(out));
	CHECK_EQ_INT(ver, 1);
	CHECK_EQ_INT(bochs_export(SELF, &out, sizeof(out), &len, &ver), PB_OK);
	CHECK(out.base == st.base && out.width == 1280 && out.height == 800 &&
	    out.stride == 1280 && out.format == FB_BGRX);
	CHECK_CONTAINS(res_props, "w=1280 h=800");
	CHECK_CONTAINS(res_props, "regs=mmio vga=yes");
	CHECK_EQ_INT(pages_out, 0);	/* no RAM copy of the screen */
	done();
}

TEST(bochs_refuses_a_state_it_cannot_show)
{
	struct fb_info st;

	device(16u << 20, 1600, 1200, 1280, 800);
	function(1, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_STANDBY) == PB_OK);
	st = gop_state(1280, 800);
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 2), PB_ESTATE);
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st) - 4, 1), PB_ESTATE);
	st.base = 0x80000000;
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_ESTATE);
	CHECK_CONTAINS(logbuf, "not in this device's framebuffer");
	st = gop_state(1280, 800);
	st.format = FB_RGBX;
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_ESTATE);
	st.format = FB_BITMASK;
	st.mask_r = 0xff0000, st.mask_g = 0xff00, st.mask_b = 0xff;
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_OK);
	st = gop_state(1920, 1080);		/* beyond the maximum */
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_ESTATE);
	st = gop_state(1280, 800);
	st.stride = 1000;
	CHECK_EQ_INT(bochs_import(SELF, &st, sizeof(st), 1), PB_ESTATE);
	done();
}

/* mode: program, clear, and draw on the new geometry; unknown ids and a
 * device that cannot hold the mode leave the old mode and its picture. */
TEST(bochs_set_mode_and_refusals)
{
	struct display_mode m;
	unsigned k;

	device(8u << 20, 16000, 12000, 1280, 800);
	function(1, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1280, 1020)), PB_ENOTSUP);
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1920, 1200)), PB_ENOTSUP);
	for (k = 0; bochs_list_modes(NULL, k, &m) == PB_OK; k++)
		CHECK(mode_bytes(m.width, m.height) <= (8u << 20));
	CHECK_EQ_INT(k, modes.n);
	CHECK_EQ_INT(bochs_list_modes(NULL, k, &m), PB_ENOENT);
	dev.nw = 0;
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1280, 800)), PB_OK);
	CHECK_EQ_INT(dev.nw, 0);		/* the mode it has: nothing */

	dev.nw = 0;
	dev.ar_index_writes = 0;
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1280, 1024)), PB_OK);
	CHECK(wrote(set_1280x1024, 10));
	CHECK_EQ_INT(dev.ar_index_writes, 1);	/* std VGA: unblanked */
	CHECK_EQ_INT(dev.ar_index & VGA_AR_PAS, VGA_AR_PAS);
	CHECK(bochs_get_mode(NULL, &m) == PB_OK && m.width == 1280 &&
	    m.height == 1024);
	CHECK_EQ_INT(bochs_fill(NULL, 1270, 1020, 100, 100, 0xabcdef), PB_OK);
	CHECK_EQ_INT(pixel(1279, 1023), 0xabcdef);
	CHECK_EQ_INT(pixel(1269, 1023), 0);	/* cleared by the enable */
	uint32_t px[2];
	CHECK_EQ_INT(bochs_read(NULL, px, 2, 1278, 1023, 2, 1), PB_OK);
	CHECK(px[0] == 0xabcdef && px[1] == 0xabcdef);
	CHECK_CONTAINS(res_props, "w=1280 h=1024");

	/* The device shrinks its memory under us: 1600x1200 cannot be held,
	 * the old mode comes back, black (the client redraws it). */
	dev.vram_bytes = 6u << 20;
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1600, 1200)), PB_EIO);
	CHECK_CONTAINS(logbuf, "YRES does not hold the height");
	CHECK(bochs_get_mode(NULL, &m) == PB_OK && m.width == 1280 &&
	    m.height == 1024);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_XRES], 1280);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_YRES], 1024);
	CHECK_EQ_INT(pixel(1279, 1023), 0);

	bochs_quiesce(SELF);
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1024, 768)), PB_EBUSY);
	done();
}

/* bochs-display (03.80): no VGA side, so no unblank; without BAR2 it has
 * no registers at all.  An old std VGA without BAR2 uses the ports. */
TEST(bochs_display_class_and_register_paths)
{
	device(16u << 20, 16000, 12000, 1024, 768);
	function(0, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(800, 600)), PB_OK);
	CHECK_EQ_INT(dev.ar_index_writes, 0);
	CHECK_EQ_INT(dev.is1_reads, 0);
	CHECK_EQ_INT(dev.port_accesses, 0);
	CHECK_CONTAINS(res_props, "vga=no");
	done();

	device(16u << 20, 16000, 12000, 1024, 768);
	function(0, 0);
	fresh_module();
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "no DISPI registers");
	done();

	device(16u << 20, 16000, 12000, 1024, 768);
	function(1, 0);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(decode_bits, PCI_CMD_MEM | PCI_CMD_IO);
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(640, 480)), PB_OK);
	CHECK_EQ_INT(dev.mmio_accesses, 0);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_XRES], 640);
	CHECK_EQ_INT(dev.ar_index_writes, 1);
	CHECK_CONTAINS(res_props, "regs=ports");
	done();

	/* boot.cfg forces the ports on std VGA. */
	device(16u << 20, 16000, 12000, 1024, 768);
	function(1, 1);
	fresh_module();
	snprintf(cfg_props, sizeof(cfg_props), "target=os bochs-mmio=no");
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(dev.mmio_accesses, 0);
	done();

	device(16u << 20, 16000, 12000, 1024, 768);
	function(1, 1);
	fresh_module();
	snprintf(cfg_props, sizeof(cfg_props), "bochs-display=no");
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	done();
}

/* No device answering (all ones), a non-display class, no BAR0. */
TEST(bochs_declines_absent_or_wrong_devices)
{
	device(16u << 20, 16000, 12000, 0, 0);
	dev.regs[DISPI_INDEX_ID] = 0xffff;
	function(1, 1);
	fresh_module();
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "ID register");
	done();

	device(16u << 20, 16000, 12000, 0, 0);
	function(1, 1);
	func.class_code = 0x02;
	fresh_module();
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	done();

	device(16u << 20, 16000, 12000, 0, 0);
	function(1, 1);
	func.bars[0].size = 0;
	fresh_module();
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "BAR0");
	done();

	device(16u << 20, 16000, 12000, 0, 0);
	function(1, 1);
	fresh_module();
	bochs_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	CHECK_EQ_INT(bochs_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	done();
}

/* With the DISPI off (no firmware mode), a normal start sets 1024x768. */
TEST(bochs_normal_start_without_a_mode)
{
	struct display_mode m;

	device(16u << 20, 16000, 12000, 0, 0);
	function(1, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK(bochs_get_mode(NULL, &m) == PB_OK && m.width == 1024 &&
	    m.height == 768);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_ENABLE],
	    DISPI_ENABLED | DISPI_LFB_ENABLED);
	done();
}

/* A failed swap out: resume finds its mode changed by the other driver
 * and puts the mode back, black (no copy of the picture is kept), and
 * answers PB_RESUMED_LOST so the hub has its clients draw again. */
TEST(bochs_resume_restores_the_mode)
{
	struct dispi_mode got;
	const char *why;

	device(16u << 20, 16000, 12000, 1024, 768);
	function(1, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(bochs_fill(NULL, 0, 0, 1024, 768, 0x111111), PB_OK);
	CHECK_EQ_INT(bochs_fill(NULL, 7, 7, 1, 1, 0x777777), PB_OK);
	bochs_quiesce(SELF);
	bochs_release(SELF);
	dispi_set_mode(&dispi, 800, 600, &got, &why);	/* someone else */
	CHECK_EQ_INT(bochs_resume(SELF), PB_RESUMED_LOST);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_XRES], 1024);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_YRES], 768);
	CHECK_EQ_INT(pixel(7, 7), 0);
	CHECK_EQ_INT(pixel(1023, 767), 0);
	CHECK_CONTAINS(logbuf, "the picture is lost");
	CHECK_EQ_INT(bochs_fill(NULL, 0, 0, 1, 1, 0), PB_OK);
	done();
}

/* The other driver kept the size but changed the stride (VIRT_WIDTH, a
 * virtual screen wider than the visible one): resume takes the mode back
 * too, or every line it draws lands where the device shows another. */
TEST(bochs_resume_restores_a_changed_stride)
{
	device(16u << 20, 16000, 12000, 1024, 768);
	function(1, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	bochs_quiesce(SELF);
	bochs_release(SELF);
	dispi_set(&dispi, DISPI_INDEX_VIRT_WIDTH, 1280);	/* someone else */
	REQUIRE(dev.line_offset == 1280 * 4);
	CHECK_EQ_INT(bochs_resume(SELF), PB_RESUMED_LOST);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_XRES], 1024);
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_YRES], 768);
	CHECK_EQ_INT(bochs_fill(NULL, 0, 0, 1024, 768, 0x111111), PB_OK);
	CHECK_EQ_INT(bochs_fill(NULL, 5, 300, 1, 1, 0x777777), PB_OK);
	CHECK_EQ_INT(pixel(5, 300), 0x777777);
	CHECK_EQ_INT(pixel(1023, 767), 0x111111);
	done();
}

/* QEMU's bochs-display: GETCAPS ignored (the video memory is the limit),
 * nothing cleared on enable (the driver clears), no VGA side. */
TEST(bochs_display_without_getcaps)
{
	struct display_mode m;

	device(16u << 20, 16000, 12000, 0, 0);
	dev.plain = 1;
	reg_write(DISPI_INDEX_BPP, 32);
	reg_write(DISPI_INDEX_XRES, 1280);
	reg_write(DISPI_INDEX_YRES, 800);
	reg_write(DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	memset(dev.vram, 0x5a, 8u << 20);	/* the firmware's picture */
	dev.nw = 0;
	function(0, 1);
	fresh_module();
	REQUIRE(bochs_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(caps.max_width, DISPI_MAX_XRES);
	CHECK(modes_find(&modes, mode_id(1600, 1200)) != NULL);
	CHECK(modes_find(&modes, mode_id(1920, 1200)) != NULL);
	CHECK(modes_find(&modes, mode_id(3840, 2160)) == NULL);	/* 33 MB */
	CHECK_EQ_INT(dev.regs[DISPI_INDEX_ENABLE],
	    DISPI_ENABLED | DISPI_LFB_ENABLED);	/* GETCAPS taken back */
	CHECK_EQ_INT(bochs_set_mode(NULL, mode_id(1280, 1024)), PB_OK);
	CHECK(bochs_get_mode(NULL, &m) == PB_OK && m.width == 1280 &&
	    m.height == 1024);
	CHECK_EQ_INT(pixel(1000, 1000) & 0xffffff, 0);	/* cleared by us */
	CHECK_EQ_INT(pixel(0, 0) & 0xffffff, 0);
	CHECK_EQ_INT(dev.ar_index_writes, 0);
	done();
}
