/*
 * palette.h - the console's 16 colours, and colour conversions.
 *
 * Indices follow SGR (ECMA-48 8.3.117): 0 black, 1 red, 2 green, 3 yellow,
 * 4 blue, 5 magenta, 6 cyan, 7 white (grey), and 8-15 their bright forms.
 * Pure C (host-tested with term.c).
 */
#ifndef FBCON_PALETTE_H
#define FBCON_PALETTE_H

#include <stdint.h>

extern const uint32_t palette[16];	/* 0x00RRGGBB */

/* The palette entry closest to 0x00RRGGBB (squared distance). */
uint8_t palette_nearest(uint32_t rgb);
/* An xterm 256-colour index (SGR 38;5;n): 16-231 a 6x6x6 cube, 232-255
 * a grey ramp; as 0x00RRGGBB. */
uint32_t palette_xterm256(uint32_t n);

#endif
