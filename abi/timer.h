/*
 * timer.h - interface `timer` 1.0: a monotonic clock in nanoseconds, and
 * one-shot and periodic callbacks run as work items.
 *
 * The provider drives the hardware (HPET, local APIC timer, PM timer,
 * TSC) and gives the hub its clock and alarm (hub->set_clock), so the
 * hub's own now_ns and timer_after services use it too and the event loop
 * sleeps until the next deadline instead of polling.  Callbacks are the
 * hub's timers, held in the *client's* ledger: a client passes its own
 * `self`, and its callbacks die with it.
 */
#ifndef PB_ABI_TIMER_H
#define PB_ABI_TIMER_H

#include <stdint.h>

#include "pb.h"

#define TIMER_IFACE "timer"
#define TIMER_MAJOR 1
#define TIMER_MINOR 0

struct timer_info {
	char clock[16];		/* "hpet", "tsc", "pm-timer" */
	char alarm[16];		/* "lapic", "hpet" */
	uint64_t clock_hz;
	uint64_t alarm_hz;
	uint32_t alarm_vector;
	uint32_t reserved;
	uint64_t alarms;	/* alarm interrupts taken */
};

struct timer_ops {
	uint64_t (*now_ns)(void *ctx);
	/* fn(arg) runs as client's work after ns; returns an id > 0. */
	int (*after)(void *ctx, struct pb_module *client, uint64_t ns,
	    pb_work_fn fn, void *arg);
	/* fn(arg) runs every ns until cancelled. */
	int (*every)(void *ctx, struct pb_module *client, uint64_t ns,
	    pb_work_fn fn, void *arg);
	void (*cancel)(void *ctx, struct pb_module *client, int id);
	int (*info)(void *ctx, struct timer_info *info);
};

#endif
