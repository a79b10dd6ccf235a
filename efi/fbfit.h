/*
 * fbfit.h - does a GOP mode's framebuffer hold the mode?  Pure, so the
 * host tests check it (tests/host/mod_efifb.c).
 */
#ifndef PB_EFI_FBFIT_H
#define PB_EFI_FBFIT_H

#include <stdint.h>

/* 4 bytes a pixel: every GOP format the hub takes (UEFI 2.10 §12.9:
 * PixelBitMask modes here are 32-bit too, checked by fb_bitmask_bytes). */
#define FB_BYTES_PER_PIXEL 4

/*
 * The bytes a width x height mode with `stride` pixels per scan line
 * touches: (height - 1) full lines and one of width pixels.  Firmware
 * sometimes reports FrameBufferSize as exactly that rather than
 * stride x height (a real laptop's 1366 x 768 with stride 1376); either
 * is enough.  0 when the geometry is impossible.
 */
uint64_t fb_bytes_needed(uint32_t width, uint32_t height, uint32_t stride);

/* Pixel size of a PixelBitMask mode from its masks: 4 when they fit in 32
 * bits and do not overlap, else 0 (unusable). */
unsigned fb_bitmask_bytes(uint32_t r, uint32_t g, uint32_t b, uint32_t x);

#endif
