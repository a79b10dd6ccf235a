/*
 * vga.c - the attribute controller unblank (see vga.h).
 */
#include "vga.h"
#include "../../abi/mmio.h"
#include "../../abi/portio.h"

void
vga_unblank(volatile uint8_t *regs)
{
	if (regs) {
		(void)mmio_read8(regs + VGA_MMIO_BASE + (VGA_IS1_COLOR -
		    VGA_AR_INDEX));
		mmio_write8(regs + VGA_MMIO_BASE, VGA_AR_PAS);
		return;
	}
	(void)inb(VGA_IS1_COLOR);
	outb(VGA_AR_INDEX, VGA_AR_PAS);
}
