/*
 * pmtimer.c - the ACPI power-management timer (ACPI 6.5 §4.8.3.3): a
 * 3.579545 MHz counter in the FADT's PM_TMR_BLK I/O port, 24 bits wide,
 * or 32 when the FADT sets TMR_VAL_EXT.  It wraps every 4.7 s (24 bits):
 * the counter extension in calibrate.c needs a read at least that often,
 * which the alarm's longest sleep (1 s) guarantees.
 * QEMU: q35's ICH9 LPC has it at 0x608, 24 bits.
 */
#include "timer.h"
#include "../../abi/portio.h"

uint64_t
pmtimer_read(void *ctx)
{
	struct pmtimer *p = ctx;

	return inl(p->port) & (p->wide ? 0xffffffffu : 0xffffffu);
}
