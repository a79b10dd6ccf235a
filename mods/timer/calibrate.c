/*
 * calibrate.c - counters extended to 64 bits, conversions between ticks
 * and nanoseconds, and one way to measure a counter's rate against
 * another, bounded: HARDWARE.md, "Timers" (calibration loops that hang
 * on real boards), so every loop here has a read budget, and a reference
 * that stops changing is reported as stuck instead of waited for.
 */
#include "timer.h"
#include "../../abi/cpu.h"

void
counter_init(struct counter *c, const char *name, uint64_t hz, unsigned bits,
    uint64_t (*read)(void *ctx), void *ctx)
{
	c->name = name;
	c->hz = hz;
	c->mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	c->read = read;
	c->ctx = ctx;
	c->last = read(ctx) & c->mask;
	c->ticks = 0;
}

/* Ticks since counter_init; a narrow counter must not wrap twice between
 * two calls. */
uint64_t
counter_ticks(struct counter *c)
{
	uint64_t raw = c->read(c->ctx) & c->mask;

	c->ticks += (raw - c->last) & c->mask;
	c->last = raw;
	return c->ticks;
}

/* How long the raw counter takes to wrap; ~0 when it never does. */
uint64_t
counter_wrap_ns(const struct counter *c)
{
	if (c->mask == ~0ull)
		return ~0ull;
	return ticks_to_ns(c->mask + 1, c->hz);
}

/* Split in whole seconds and the rest, so neither product overflows for
 * rates below 18 GHz. */
uint64_t
ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	return ticks / hz * NS_PER_S + ticks % hz * NS_PER_S / hz;
}

uint64_t
ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return ns / NS_PER_S * hz + ns % NS_PER_S * hz / NS_PER_S;
}

/* ticks counted while the reference counted ref_ticks at ref_hz. */
int
calibrate_rate(uint64_t ticks, uint64_t ref_ticks, uint64_t ref_hz,
    uint64_t *hz)
{
	if (!ref_ticks || !ref_hz)
		return PB_EINVAL;
	*hz = ticks / ref_ticks * ref_hz + ticks % ref_ticks * ref_hz /
	    ref_ticks;
	return *hz ? PB_OK : PB_EIO;
}

/* Read the reference until it changes: PB_ETIMEDOUT if it does not
 * within c->stuck_reads reads (or the budget runs out). */
static int
next_edge(struct calib *c, uint64_t *ref)
{
	uint64_t start = *ref;

	for (uint32_t same = 0; same < c->stuck_reads; same++) {
		if (c->reads >= c->max_reads)
			return PB_ETIMEDOUT;
		c->reads++;
		if ((*ref = counter_ticks(c->ref)) != start)
			return PB_OK;
		cpu_pause();
	}
	return PB_ETIMEDOUT;
}

/*
 * Count c->read's ticks over c->window_ns of the reference, from one edge
 * of the reference to another (so its resolution costs at most one tick
 * at the end).  PB_ETIMEDOUT: the reference stuck or the read budget ran
 * out; PB_EIO: the measured counter did not move.
 */
int
calibrate(struct calib *c)
{
	uint64_t want = ns_to_ticks(c->window_ns, c->ref->hz);
	uint64_t r0, r, x0, x1;
	int err;

	c->reads = 0;
	c->hz = c->ticks = c->ref_ticks = 0;
	if (!want)
		want = 1;
	r = counter_ticks(c->ref);
	if ((err = next_edge(c, &r)) != PB_OK)
		return err;
	r0 = r;
	x0 = c->read(c->ctx);
	while (r - r0 < want)
		if ((err = next_edge(c, &r)) != PB_OK)
			return err;
	x1 = c->read(c->ctx);
	c->ref_ticks = r - r0;
	c->ticks = x1 - x0;
	return calibrate_rate(c->ticks, c->ref_ticks, c->ref->hz, &c->hz);
}

/* Does the counter move within `reads` reads?  *value: what it read. */
int
counter_moves(uint64_t (*read)(void *ctx), void *ctx, uint32_t reads,
    uint64_t *value)
{
	uint64_t v0 = read(ctx);

	for (uint32_t i = 0; i < reads; i++) {
		if (read(ctx) != v0)
			return PB_OK;
		cpu_pause();
	}
	*value = v0;
	return PB_ETIMEDOUT;
}
