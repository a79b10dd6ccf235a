/*
 * vga.h - the legacy VGA side of QEMU's std VGA: after a DISPI mode set
 * the attribute controller still blanks the screen until its palette
 * address source bit is set again.  bochs-display has no VGA side.
 *
 * The VGA ports 0x3C0-0x3DF are reached through the register BAR at
 * 0x400 + (port - 0x3C0) when there is one (QEMU
 * docs/specs/standard-vga.rst), else as I/O ports.
 */
#ifndef BOCHS_VGA_H
#define BOCHS_VGA_H

#include <stdint.h>

#define VGA_MMIO_BASE	0x400	/* port 0x3C0 in BAR2 */
#define VGA_AR_INDEX	0x3c0	/* attribute controller index/data */
#define VGA_IS1_COLOR	0x3da	/* input status 1 (colour) */
#define VGA_AR_PAS	0x20	/* palette address source: show the picture */

/* Unblank: read input status 1 (the attribute controller's flip-flop
 * goes back to "index"), then write an index with PAS set.  IBM VGA
 * Technical Reference, attribute controller registers. */
void vga_unblank(volatile uint8_t *regs);

#endif
