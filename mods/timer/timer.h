/*
 * timer.h - the timer module's shared state, and what its files offer one
 * another.
 *
 *   timer.c	the module: descriptor, `timer` operations, the hub's clock
 *		and alarm (struct pb_clock), start/stop
 *   hpet.c	the HPET's main counter (IA-PC HPET spec 1.0a)
 *   pmtimer.c	the ACPI PM timer (ACPI 6.5 §4.8.3.3)
 *   tsc.c	the time-stamp counter: when it is invariant, or the only
 *		clock left; its rate and the crystal's from CPUID 0x15/0x16
 *   calibrate.c	counters extended to 64 bits, ticks <-> ns, and one
 *		bounded way to measure a counter's rate against another
 *
 * The clock is the first of HPET, PM timer that works; the TSC replaces it
 * when invariant, once measured against it.  With neither, the TSC is the
 * clock, its rate from CPUID or measured against the hub's own clock (the
 * stub's Stall()-timed rate).  The alarm is the local APIC timer,
 * one-shot, driven through the irq provider (irq 1.1), at the crystal's
 * rate when CPUID gives it, else measured against the clock.
 */
#ifndef TIMER_TIMER_H
#define TIMER_TIMER_H

#include "../../abi/pbmod.h"
#include "../../abi/acpi.h"
#include "../../abi/irq.h"
#include "../../abi/timer.h"

#define NS_PER_S	1000000000ull
#define FS_PER_S	1000000000000000ull

/* A free-running counter that counts up, extended to 64 bits in software
 * when it is narrower: every read adds (raw - last) mod 2^bits, so it must
 * be read at least once per wrap (the alarm sees to it). */
struct counter {
	const char *name;		/* "hpet", "pm-timer", "tsc" */
	uint64_t hz;
	uint64_t mask;			/* 2^bits - 1 */
	uint64_t (*read)(void *ctx);	/* the raw value */
	void *ctx;
	uint64_t last;			/* raw at the last read */
	uint64_t ticks;			/* extended */
};

/* calibrate.c */
void counter_init(struct counter *c, const char *name, uint64_t hz,
    unsigned bits, uint64_t (*read)(void *ctx), void *ctx);
uint64_t counter_ticks(struct counter *c);
uint64_t counter_wrap_ns(const struct counter *c);
uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz);
uint64_t ns_to_ticks(uint64_t ns, uint64_t hz);

/* Calibration: how fast does `read` go, against the reference counter? */
struct calib {
	struct counter *ref;		/* known rate, counts up */
	uint64_t (*read)(void *ctx);	/* the one measured, counts up */
	void *ctx;
	uint64_t window_ns;		/* how long to measure */
	uint32_t max_reads;		/* of the reference, in all */
	uint32_t stuck_reads;		/* reads without a change: stuck */
	/* results */
	uint64_t hz;
	uint64_t ref_ticks, ticks;	/* what was measured */
	uint32_t reads;
};

int calibrate(struct calib *c);
int calibrate_rate(uint64_t ticks, uint64_t ref_ticks, uint64_t ref_hz,
    uint64_t *hz);

/* hpet.c: IA-PC HPET 1.0a §2.3. */
#define HPET_GCAP_ID	0x000
#define HPET_GEN_CONF	0x010
#define HPET_MAIN_CNT	0x0f0
#define HPET_TN_CONF(n)	(0x100 + 0x20 * (n))
#define HPET_MMIO_LEN	0x400

#define HPET_MAX_PERIOD_FS 100000000u	/* 100 ns (§2.3.4) */

struct hpet_caps {
	uint32_t period_fs;		/* COUNTER_CLK_PERIOD */
	uint16_t vendor;
	uint8_t rev;
	uint8_t ntimers;		/* NUM_TIM_CAP + 1 */
	uint8_t wide;			/* COUNT_SIZE_CAP: 64-bit counter */
	uint8_t legacy;			/* LEG_RT_CAP */
	uint64_t hz;
};

struct hpet {
	volatile uint8_t *regs;
	uint64_t phys;
	struct hpet_caps caps;
};

/* nmi.c: the hub's watchdog tick on comparator *which, through pin *gsi. */
int hpet_nmi_start(struct hpet *h, struct pb_conn *irq, unsigned *which,
    int *gsi);
void hpet_nmi_stop(struct hpet *h, struct pb_conn *irq, unsigned which);

int hpet_parse_caps(uint64_t gcap, struct hpet_caps *caps);
int hpet_start(struct hpet *h, const struct pb_hub *hub,
    struct pb_module *self, uint64_t phys);
uint64_t hpet_read(void *ctx);

/* pmtimer.c */
#define PMTMR_HZ	3579545u

struct pmtimer {
	uint16_t port;
	uint8_t wide;			/* TMR_VAL_EXT: 32 bits, else 24 */
};

uint64_t pmtimer_read(void *ctx);

/* tsc.c */
#define CPUID1_ECX_HYPERVISOR	(1u << 31)	/* SDM 2A: reserved, 0 */

struct tsc_rates {
	uint64_t tsc_hz;
	uint64_t crystal_hz;		/* the core crystal: the APIC timer's */
	const char *how;		/* which leaves said so */
};

int tsc_invariant(void);
uint64_t tsc_read(void *ctx);
int tsc_rates_decode(const uint32_t l15[4], uint32_t base_mhz,
    struct tsc_rates *out);
int tsc_rates_from_cpuid(struct tsc_rates *out, const char **why);

/* The bounded check that a counter moves at all. */
int counter_moves(uint64_t (*read)(void *ctx), void *ctx, uint32_t reads,
    uint64_t *value);

#endif
