/*
 * tsc.c - the time-stamp counter as a clock: only when it is invariant,
 * ticking at one rate in every P-, C- and T-state (CPUID.80000007H:EDX[8],
 * SDM 3B "Invariant TSC").  Its rate is measured against the HPET or PM
 * timer: CPUID leaves 0x15/0x16 read zero under TCG and on many boards.
 */
#include "timer.h"
#include "../../abi/cpu.h"

int
tsc_invariant(void)
{
	uint32_t r[4];

	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000007u)
		return 0;
	cpuid(0x80000007u, 0, r);
	return (r[3] & CPUID80000007_EDX_INVTSC) != 0;
}

uint64_t
tsc_read(void *ctx)
{
	(void)ctx;
	return rdtsc();
}
