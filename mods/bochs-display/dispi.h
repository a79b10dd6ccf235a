/*
 * dispi.h - the Bochs VBE "DISPI" registers: identification, capabilities
 * and mode setting of QEMU's std VGA (-vga std) and bochs-display.
 *
 * Register i is 16 bits wide.  It is reached through the register BAR
 * (BAR2) at 0x500 + (i << 1) when the function has one, else through the
 * I/O ports 0x1CE (index) and 0x1CF (data).  Indices, bits and the mode
 * sequence: Bochs iodev/vga.h (VBE_DISPI_*), QEMU
 * docs/specs/standard-vga.rst and include/hw/display/bochs-vbe.h.
 *
 * A mode is 32 bits per pixel, byte 0 blue (0x00RRGGBB little-endian),
 * pitch VIRT_WIDTH * 4 bytes, starting at offset 0 of the framebuffer
 * (BAR0).  Nothing here waits: DISPI writes take effect at once.
 *
 * QEMU's bochs-display keeps the registers as plain storage: it ignores
 * GETCAPS, does not clear the video memory when enabled and does not
 * round what it cannot show (hw/display/bochs-display.c); std VGA does
 * all three (hw/display/vga.c).
 */
#ifndef BOCHS_DISPI_H
#define BOCHS_DISPI_H

#include <stdint.h>

enum dispi_index {
	DISPI_INDEX_ID = 0x0,
	DISPI_INDEX_XRES = 0x1,
	DISPI_INDEX_YRES = 0x2,
	DISPI_INDEX_BPP = 0x3,
	DISPI_INDEX_ENABLE = 0x4,
	DISPI_INDEX_BANK = 0x5,
	DISPI_INDEX_VIRT_WIDTH = 0x6,
	DISPI_INDEX_VIRT_HEIGHT = 0x7,
	DISPI_INDEX_X_OFFSET = 0x8,
	DISPI_INDEX_Y_OFFSET = 0x9,
	DISPI_INDEX_VIDEO_MEMORY_64K = 0xa,	/* VRAM in 64 KiB units */
};

/* The ID register: the interface version.  ID2 brought 32 bpp and the
 * linear framebuffer, ID3 GETCAPS; QEMU reports ID5. */
#define DISPI_ID0	0xb0c0
#define DISPI_ID2	0xb0c2
#define DISPI_ID3	0xb0c3
#define DISPI_ID5	0xb0c5

/* ENABLE register bits. */
#define DISPI_ENABLED		0x01
#define DISPI_GETCAPS		0x02	/* XRES/YRES/BPP read the maxima */
#define DISPI_8BIT_DAC		0x20
#define DISPI_LFB_ENABLED	0x40
#define DISPI_NOCLEARMEM	0x80	/* enabling keeps the VRAM */

#define DISPI_MMIO_BASE		0x500	/* in BAR2 */
#define DISPI_MMIO_END		0x518	/* indices 0x0-0xb */
#define DISPI_PORT_INDEX	0x1ce
#define DISPI_PORT_DATA		0x1cf

#define DISPI_BPP		32
#define DISPI_MAX_SIDE		16384	/* keeps every offset product small */
#define DISPI_MAX_XRES		16000	/* Bochs and QEMU: VBE_DISPI_MAX_XRES */
#define DISPI_MAX_YRES		12000

struct dispi {
	volatile uint8_t *regs;	/* the register BAR, or NULL: I/O ports */
	uint16_t id;		/* the ID register, after dispi_probe */
};

/* What the device can show. */
struct dispi_caps {
	uint32_t max_width, max_height, max_bpp;
	uint64_t vram;		/* bytes the registers report, 0: unknown */
};

/* What the registers say the device shows. */
struct dispi_mode {
	uint32_t width, height, bpp;
	uint32_t pitch;		/* VIRT_WIDTH: pixels per scan line */
	uint32_t x_offset, y_offset;
	uint16_t enable;	/* the ENABLE register */
};

uint16_t dispi_get(const struct dispi *d, unsigned index);
void dispi_set(const struct dispi *d, unsigned index, uint16_t v);

/* Read the ID register: PB_OK for ID2 to ID5, else PB_ENODEV and why. */
int dispi_probe(struct dispi *d, const char **why);
/* The maxima (GETCAPS, which leaves the picture alone) and the VRAM. */
void dispi_caps(const struct dispi *d, struct dispi_caps *c);
void dispi_read_mode(const struct dispi *d, struct dispi_mode *m);
/* Does m show a whole w x h picture at 32 bpp from the framebuffer's
 * start?  (w = 0: any size.) */
int dispi_shows(const struct dispi_mode *m, uint32_t w, uint32_t h);
/* Program w x h at 32 bpp; the registers as read back go to *got.
 * PB_EIO and the register that disagrees when they do not hold it. */
int dispi_set_mode(const struct dispi *d, uint32_t w, uint32_t h,
    struct dispi_mode *got, const char **why);

#endif
