/*
 * tsc.c - the time-stamp counter as a clock.
 *
 * With an HPET or PM timer, only when it is invariant, ticking at one
 * rate in every P-, C- and T-state (CPUID.80000007H:EDX[8], SDM 3B
 * "Invariant TSC"), and its rate measured against that timer.
 *
 * Without either (firmware built for S0ix often hides both), the TSC is
 * the only clock left, and its rate comes from CPUID leaf 0x15 on Intel
 * parts (SDM 2A, CPUID "Time Stamp Counter and Nominal Core Crystal Clock
 * Information Leaf"): TSC = crystal Hz (ECX) x EBX / EAX.  Parts that
 * leave ECX 0 run the TSC at the base frequency of leaf 0x16 (EAX, MHz),
 * and the crystal is that times EAX / EBX; Linux's native_calibrate_tsc
 * reads them the same way.  The core crystal also drives the local APIC
 * timer on those parts, so the alarm needs no measuring either.  Leaf
 * 0x15 is not trusted under a hypervisor (CPUID.1:ECX[31]), which may
 * pass the host's through while scaling the guest's TSC, nor on other
 * vendors; TCG reads it as 0.  Then timer.c measures the TSC against the
 * hub's clock, whose rate the stub timed with the firmware's Stall().
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

/* Leaf 0x15's registers (EAX denominator, EBX numerator, ECX crystal Hz)
 * and leaf 0x16's EAX (base MHz, 0 when unknown) into rates. */
int
tsc_rates_decode(const uint32_t l15[4], uint32_t base_mhz,
    struct tsc_rates *out)
{
	uint64_t den = l15[0], num = l15[1], crystal = l15[2];

	if (!den || !num)
		return PB_ENOTSUP;	/* the ratio is not enumerated */
	if (crystal) {
		out->tsc_hz = crystal * num / den;
		out->crystal_hz = crystal;
		out->how = "CPUID 0x15";
		return PB_OK;
	}
	if (!(base_mhz & 0xffff))
		return PB_ENOTSUP;
	out->tsc_hz = (uint64_t)(base_mhz & 0xffff) * 1000000u;
	out->crystal_hz = out->tsc_hz * den / num;
	out->how = "CPUID 0x15 and 0x16";
	return PB_OK;
}

static int
cpu_is_intel(uint32_t *max_leaf)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	*max_leaf = r[0];
	/* "GenuineIntel" in EBX, EDX, ECX */
	return r[1] == 0x756e6547u && r[3] == 0x49656e69u &&
	    r[2] == 0x6c65746eu;
}

/* The TSC and crystal rates CPUID gives, where it may be believed;
 * *why says why not. */
int
tsc_rates_from_cpuid(struct tsc_rates *out, const char **why)
{
	uint32_t max, l15[4], r[4];

	if (!cpu_is_intel(&max)) {
		*why = "not an Intel CPU";
		return PB_ENOTSUP;
	}
	cpuid(1, 0, r);
	if (r[2] & CPUID1_ECX_HYPERVISOR) {
		*why = "under a hypervisor (CPUID.1:ECX[31])";
		return PB_ENOTSUP;
	}
	if (max < 0x15) {
		*why = "no CPUID leaf 0x15";
		return PB_ENOTSUP;
	}
	cpuid(0x15, 0, l15);
	r[0] = 0;
	if (max >= 0x16)
		cpuid(0x16, 0, r);
	if (tsc_rates_decode(l15, r[0], out) != PB_OK) {
		*why = "CPUID 0x15/0x16 do not give the rates";
		return PB_ENOTSUP;
	}
	return PB_OK;
}
