/*
 * modes.h - the modes bochs-display offers: the common resolutions the
 * device can show (at most the maxima GETCAPS reports, a width that is a
 * multiple of 8, as QEMU rounds XRES down to one, and 32 bpp within the
 * VRAM), plus the mode it found on the screen (the firmware's), so that
 * it can always go back to it.  Sorted by width, then height.
 *
 * A mode's id is width << 16 | height: the same mode keeps its number
 * whatever the list holds.  Pure C (tests/host/mod_bochs.c).
 */
#ifndef BOCHS_MODES_H
#define BOCHS_MODES_H

#include <stdint.h>

#include "../../abi/display.h"
#include "dispi.h"

#define MODES_MAX 32
#define MODE_MIN_WIDTH 320
#define MODE_MIN_HEIGHT 200

struct mode_list {
	unsigned n;
	struct display_mode m[MODES_MAX];
};

static inline uint32_t
mode_id(uint32_t w, uint32_t h)
{
	return w << 16 | h;
}

/* Bytes of VRAM a mode needs. */
static inline uint64_t
mode_bytes(uint32_t w, uint32_t h)
{
	return (uint64_t)w * h * (DISPI_BPP / 8);
}

/* Can the device show w x h at 32 bpp with `vram` bytes?  Else why not. */
int mode_fits(const struct dispi_caps *c, uint64_t vram, uint32_t w,
    uint32_t h, const char **why);
/* The list for caps and vram, with keep_w x keep_h in it if it fits
 * (0 x 0: nothing to keep). */
void modes_build(struct mode_list *l, const struct dispi_caps *c,
    uint64_t vram, uint32_t keep_w, uint32_t keep_h);
const struct display_mode *modes_find(const struct mode_list *l,
    uint32_t id);

#endif
