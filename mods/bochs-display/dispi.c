/*
 * dispi.c - the DISPI registers (see dispi.h).
 */
#include "dispi.h"
#include "../../abi/pb.h"
#include "../../abi/mmio.h"
#include "../../abi/portio.h"

uint16_t
dispi_get(const struct dispi *d, unsigned index)
{
	if (d->regs)
		return mmio_read16(d->regs + DISPI_MMIO_BASE + (index << 1));
	outw(DISPI_PORT_INDEX, (uint16_t)index);
	return inw(DISPI_PORT_DATA);
}

void
dispi_set(const struct dispi *d, unsigned index, uint16_t v)
{
	if (d->regs) {
		mmio_write16(d->regs + DISPI_MMIO_BASE + (index << 1), v);
		return;
	}
	outw(DISPI_PORT_INDEX, (uint16_t)index);
	outw(DISPI_PORT_DATA, v);
}

int
dispi_probe(struct dispi *d, const char **why)
{
	d->id = dispi_get(d, DISPI_INDEX_ID);
	if ((d->id & 0xfff0) != DISPI_ID0 || d->id > DISPI_ID5) {
		*why = "the ID register is not 0xB0C0-0xB0C5";
		return PB_ENODEV;
	}
	if (d->id < DISPI_ID2) {
		*why = "DISPI older than ID2: no 32 bpp linear framebuffer";
		return PB_ENODEV;
	}
	return PB_OK;
}

/* A register value as a size: garbage (0, or past any real mode) is 0. */
static uint32_t
side(uint16_t v)
{
	return v && v <= DISPI_MAX_SIDE ? v : 0;
}

void
dispi_caps(const struct dispi *d, struct dispi_caps *c)
{
	uint16_t en, w, h, bpp;

	/* Before GETCAPS (ID3) the Bochs VBE stopped at 1024x768. */
	*c = (struct dispi_caps){ 1024, 768, DISPI_BPP, 0 };
	c->vram = (uint64_t)dispi_get(d, DISPI_INDEX_VIDEO_MEMORY_64K) << 16;
	if (d->id < DISPI_ID3)
		return;
	/* GETCAPS changes only what XRES/YRES/BPP read back: keeping the
	 * other ENABLE bits leaves the picture as it is. */
	w = dispi_get(d, DISPI_INDEX_XRES);
	h = dispi_get(d, DISPI_INDEX_YRES);
	bpp = dispi_get(d, DISPI_INDEX_BPP);
	en = dispi_get(d, DISPI_INDEX_ENABLE);
	dispi_set(d, DISPI_INDEX_ENABLE, en | DISPI_GETCAPS);
	c->max_width = side(dispi_get(d, DISPI_INDEX_XRES));
	c->max_height = side(dispi_get(d, DISPI_INDEX_YRES));
	c->max_bpp = dispi_get(d, DISPI_INDEX_BPP);
	dispi_set(d, DISPI_INDEX_ENABLE, en & ~DISPI_GETCAPS);
	/* QEMU's bochs-display reports ID5 but ignores GETCAPS: the
	 * registers read as they are, and only the video memory limits a
	 * mode (a maximum equal to the current mode is taken for that). */
	if (c->max_width == w && c->max_height == h && c->max_bpp == bpp) {
		c->max_width = DISPI_MAX_XRES;
		c->max_height = DISPI_MAX_YRES;
		c->max_bpp = DISPI_BPP;
	}
}

void
dispi_read_mode(const struct dispi *d, struct dispi_mode *m)
{
	m->enable = dispi_get(d, DISPI_INDEX_ENABLE);
	m->width = side(dispi_get(d, DISPI_INDEX_XRES));
	m->height = side(dispi_get(d, DISPI_INDEX_YRES));
	m->bpp = dispi_get(d, DISPI_INDEX_BPP);
	m->pitch = side(dispi_get(d, DISPI_INDEX_VIRT_WIDTH));
	m->x_offset = dispi_get(d, DISPI_INDEX_X_OFFSET);
	m->y_offset = dispi_get(d, DISPI_INDEX_Y_OFFSET);
}

int
dispi_shows(const struct dispi_mode *m, uint32_t w, uint32_t h)
{
	const uint16_t on = DISPI_ENABLED | DISPI_LFB_ENABLED;

	return (m->enable & on) == on && m->bpp == DISPI_BPP &&
	    m->width && m->height && m->pitch >= m->width &&
	    m->x_offset == 0 && m->y_offset == 0 &&
	    (!w || (m->width == w && m->height == h));
}

/*
 * The sequence of Linux's bochs_hw_setmode and HARDWARE.md: disable, the
 * geometry, then enable with the linear framebuffer.  The device resets
 * VIRT_WIDTH and the offsets when it is enabled and may round what it
 * cannot show, so the result is what the registers read back.
 */
int
dispi_set_mode(const struct dispi *d, uint32_t w, uint32_t h,
    struct dispi_mode *got, const char **why)
{
	dispi_set(d, DISPI_INDEX_ENABLE, 0);
	dispi_set(d, DISPI_INDEX_BPP, DISPI_BPP);
	dispi_set(d, DISPI_INDEX_XRES, (uint16_t)w);
	dispi_set(d, DISPI_INDEX_YRES, (uint16_t)h);
	dispi_set(d, DISPI_INDEX_BANK, 0);
	dispi_set(d, DISPI_INDEX_VIRT_WIDTH, (uint16_t)w);
	dispi_set(d, DISPI_INDEX_VIRT_HEIGHT, (uint16_t)h);
	dispi_set(d, DISPI_INDEX_X_OFFSET, 0);
	dispi_set(d, DISPI_INDEX_Y_OFFSET, 0);
	dispi_set(d, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);

	dispi_read_mode(d, got);
	if (got->width != w)
		*why = "XRES does not hold the width";
	else if (got->height != h)
		*why = "YRES does not hold the height";
	else if (got->bpp != DISPI_BPP)
		*why = "BPP does not hold 32";
	else if (!dispi_shows(got, w, h))
		*why = "ENABLE, VIRT_WIDTH or the offsets read back wrong";
	else
		return PB_OK;
	return PB_EIO;
}
