/*
 * state.h - what bochs-display hands over in a swap, and takes: gop-fb's
 * format (mods/gop-fb/gopfb.c), one struct fb_info (abi/framebuffer.h),
 * version 1, describing the mode on the screen.  So gop-fb, tdisp and
 * bochs-display take over from each other in any order: gop-fb accepts
 * it only while the mode is still the firmware's.
 *
 * bochs-display accepts a picture in this device's framebuffer (BAR0)
 * at 32 bpp with byte 0 blue, the only layout it shows, and takes the
 * size from it.  Pure C (tests/host/mod_bochs.c).
 */
#ifndef BOCHS_STATE_H
#define BOCHS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "../../abi/framebuffer.h"
#include "dispi.h"

#define FB_STATE_VERSION 1	/* gop-fb's GOPFB_STATE_VERSION */

_Static_assert(sizeof(struct fb_info) == 56, "fb_info layout");

/* The state for mode m of the framebuffer at base, size bytes. */
void state_export(struct fb_info *out, uint64_t base, uint64_t size,
    const struct dispi_mode *m);
/* Check a blob against the framebuffer at base, size bytes: PB_OK and
 * the mode in *out, or PB_ESTATE and why. */
int state_import(const void *buf, size_t len, uint32_t version,
    uint64_t base, uint64_t size, struct fb_info *out, const char **why);

#endif
