/*
 * work.c - the event loop's work queue, one-shot timers, and the table of
 * interrupt handlers.
 *
 * Work items run to completion, one at a time, each through a guarded call.
 * Every item and timer remembers its owner's generation: unloading a module
 * bumps it, so an item queued by a module that is gone never runs.
 * Interrupt handlers of a module can be held back (during a swap): the
 * interrupt is counted and replayed when the hold is released.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define WORK_SLOTS 256
#define TIMER_SLOTS 64
#define VECTORS 256
#define VECTOR_FIRST 32		/* 0-31 are exceptions */
#define VECTOR_DYNAMIC 64	/* irq_alloc hands out 64..239 */
#define VECTOR_LAST 239		/* 240-255: kept for the irq provider */

struct work {
	pb_work_fn fn;
	void *arg;
	struct pb_module *owner;
	unsigned gen;
};

struct timer {
	int id;			/* 0: unused */
	uint64_t when;
	uint64_t period;	/* 0: one-shot */
	pb_work_fn fn;
	void *arg;
	struct pb_module *owner;
	unsigned gen;
};

struct vector {
	struct pb_module *owner;
	pb_irq_fn fn;
	void *arg;
	int used;
	int held;
	unsigned pending;
	uint64_t count;
};

static struct work queue[WORK_SLOTS];
static unsigned q_head, q_tail;		/* head: next to run */
static struct timer timers[TIMER_SLOTS];
static int next_timer_id = 1;
static struct vector vectors[VECTORS];

/* The timer provider's clock and alarm, and the interrupt controller's
 * end-of-interrupt hook, while modules give them. */
static struct {
	const struct pb_clock *clk;
	void *ctx;
	struct pb_module *owner;
	int64_t offset;		/* keeps hub_now_ns continuous across changes */
	uint64_t armed;		/* deadline asked of the alarm, ~0 none */
} clock = { .armed = ~0ull };

static struct {
	pb_eoi_fn fn;
	void *ctx;
	struct pb_module *owner;
} eoi;

/* Nanoseconds since boot: the timer provider's clock once there is one,
 * the CPU's (the stub's TSC calibration) before. */
uint64_t
hub_now_ns(void)
{
	uint64_t held = arch_irq_hold();
	uint64_t raw = clock.clk ? clock.clk->now_ns(clock.ctx) :
	    arch_now_ns();
	arch_irq_release(held);
	return raw + (uint64_t)clock.offset;
}

/* Switch clocks without a jump: the new one continues from now. */
int
hub_set_clock(struct pb_module *owner, const struct pb_clock *clk, void *ctx)
{
	uint64_t held = arch_irq_hold();
	uint64_t now = hub_now_ns();

	if (clock.clk && clock.owner != owner && clk) {
		arch_irq_release(held);
		return PB_EBUSY;
	}
	if (!clk && clock.owner != owner) {
		arch_irq_release(held);
		return PB_OK;
	}
	clock.clk = clk;
	clock.ctx = ctx;
	clock.owner = clk ? owner : NULL;
	clock.offset = (int64_t)(now - (clk ? clk->now_ns(ctx) :
	    arch_now_ns()));
	clock.armed = ~0ull;
	arch_irq_release(held);
	log_event(LOG_INFO, "hub: clock %s", clk ? owner->name : "cpu");
	return PB_OK;
}

/* Ask the alarm for an interrupt at `deadline` (hub time); ~0 none.
 * Returns 0 when there is no alarm to ask (the caller polls). */
int
hub_arm_alarm(uint64_t deadline)
{
	uint64_t now;

	if (!clock.clk || !clock.clk->arm)
		return 0;
	now = hub_now_ns();
	clock.armed = deadline;
	clock.clk->arm(clock.ctx, deadline == ~0ull ? ~0ull :
	    deadline > now ? deadline - now : 0);
	return 1;
}

int
hub_set_irq_eoi(struct pb_module *owner, pb_eoi_fn fn, void *ctx)
{
	uint64_t held = arch_irq_hold();
	int err = PB_OK;

	if (eoi.fn && eoi.owner != owner && fn)
		err = PB_EBUSY;
	else if (fn || eoi.owner == owner) {
		eoi.fn = fn;
		eoi.ctx = ctx;
		eoi.owner = fn ? owner : NULL;
	}
	arch_irq_release(held);
	return err;
}

static int
owner_alive(struct pb_module *owner, unsigned gen)
{
	return !owner || (owner->generation == gen &&
	    (owner->state == MOD_RUNNING || owner->state == MOD_STANDBY ||
	    owner->state == MOD_QUIESCED));
}

int
work_queue(struct pb_module *owner, pb_work_fn fn, void *arg)
{
	uint64_t held = arch_irq_hold();	/* handlers queue work too */
	int err = PB_OK;

	if (q_tail - q_head == WORK_SLOTS)
		err = PB_ENOMEM;
	else
		queue[q_tail++ % WORK_SLOTS] = (struct work){ fn, arg, owner,
		    owner ? owner->generation : 0 };
	arch_irq_release(held);
	return err;
}

struct work_args {
	pb_work_fn fn;
	void *arg;
};

/* The innermost watched module call running now. */
static struct watch running;
uint64_t hub_watchdog_ns = 5000000000ull;

/* The alarm must come by the watchdog's deadline, timers or not. */
static void
watch_arm(uint64_t since)
{
	uint64_t deadline = since + hub_watchdog_ns;

	if (hub_watchdog_ns && (clock.armed <= hub_now_ns() ||
	    clock.armed > deadline))
		hub_arm_alarm(deadline);
}

/*
 * The watchdog counts the innermost watched call.  A call that makes
 * others (a work item connecting, a command loading a module) has its
 * count paused meanwhile: they are counted, and blamed, on their own.
 */
struct watch
watch_begin(struct pb_module *m)
{
	uint64_t held = arch_irq_hold();
	struct watch outer = running;

	running.since = hub_now_ns();
	running.owner = m;
	watch_arm(running.since);
	arch_irq_release(held);
	return outer;
}

void
watch_end(struct watch outer)
{
	uint64_t held = arch_irq_hold();

	if (outer.since) {
		outer.since += hub_now_ns() - running.since;
		watch_arm(outer.since);
	}
	running = outer;
	arch_irq_release(held);
}

static long
call_work(void *p)
{
	struct work_args *a = p;

	a->fn(a->arg);
	return PB_OK;
}

/* The module whose watched call has run too long, or NULL. */
struct pb_module *
hub_watchdog_due(void)
{
	if (!running.since || !hub_watchdog_ns ||
	    hub_now_ns() - running.since < hub_watchdog_ns)
		return NULL;
	return running.owner;
}

/* After an interrupt: an alarm that came for a timer leaves the watched
 * call's deadline unarmed, and the event loop that would arm it again
 * does not run until the call returns. */
void
hub_watchdog_rearm(void)
{
	if (running.since)
		watch_arm(running.since);
}

static void
run_module_work(struct work *w)
{
	struct work_args a = { w->fn, w->arg };

	mod_call_watched(w->owner, call_work, &a);
}

/* Run one queued item; 0 when the queue was empty. */
int
work_run_one(void)
{
	uint64_t held = arch_irq_hold();
	struct work w;

	if (q_head == q_tail) {
		arch_irq_release(held);
		return 0;
	}
	w = queue[q_head++ % WORK_SLOTS];
	arch_irq_release(held);
	if (owner_alive(w.owner, w.gen)) {
		if (w.owner)
			run_module_work(&w);
		else
			w.fn(w.arg);
	}
	return 1;
}

/* Nothing of m's may run after this. */
void
work_drop_module(struct pb_module *m)
{
	uint64_t held = arch_irq_hold();

	for (unsigned i = q_head; i != q_tail; i++)
		if (queue[i % WORK_SLOTS].owner == m)
			queue[i % WORK_SLOTS].gen = ~0u;	/* never alive */
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (timers[i].id && timers[i].owner == m)
			timers[i].id = 0;
	if (clock.owner == m)
		hub_set_clock(m, NULL, NULL);
	if (eoi.owner == m)
		hub_set_irq_eoi(m, NULL, NULL);
	arch_irq_release(held);
}

int
timer_add(struct pb_module *owner, uint64_t ns, pb_work_fn fn, void *arg)
{
	return timer_add_every(owner, ns, 0, fn, arg);
}

/* fn runs after ns, then every period ns when period is not 0. */
int
timer_add_every(struct pb_module *owner, uint64_t ns, uint64_t period,
    pb_work_fn fn, void *arg)
{
	if (!fn)
		return PB_EINVAL;
	for (unsigned i = 0; i < TIMER_SLOTS; i++) {
		struct timer *t = &timers[i];

		if (t->id)
			continue;
		*t = (struct timer){ next_timer_id++, hub_now_ns() + ns, period,
		    fn, arg, owner, owner ? owner->generation : 0 };
		if (next_timer_id <= 0)
			next_timer_id = 1;
		return t->id;
	}
	return PB_ENOMEM;
}

void
timer_cancel(struct pb_module *owner, int id)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (timers[i].id == id && timers[i].owner == owner)
			timers[i].id = 0;
}

/* Queue the work of every timer that is due. */
void
timers_run(uint64_t now)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++) {
		struct timer *t = &timers[i];

		if (!t->id || t->when > now)
			continue;
		if (!owner_alive(t->owner, t->gen)) {
			t->id = 0;
			continue;
		}
		work_queue(t->owner, t->fn, t->arg);
		if (!t->period)
			t->id = 0;
		else	/* the next tick after now: a late loop skips ticks */
			t->when += ((now - t->when) / t->period + 1) * t->period;
	}
}

int
irq_alloc(struct pb_module *owner)
{
	for (int v = VECTOR_DYNAMIC; v <= VECTOR_LAST; v++)
		if (!vectors[v].used) {
			vectors[v] = (struct vector){ .owner = owner, .used = 1 };
			return v;
		}
	return PB_ENOMEM;
}

/* Claim `vector` (if not yet ours) and set its handler. */
int
irq_register(struct pb_module *owner, int vector, pb_irq_fn fn, void *arg)
{
	struct vector *v;
	uint64_t held;

	if (vector < VECTOR_FIRST || vector >= VECTORS || !fn)
		return PB_EINVAL;
	v = &vectors[vector];
	if (v->used && v->owner != owner)
		return PB_EBUSY;
	held = arch_irq_hold();
	*v = (struct vector){ .owner = owner, .fn = fn, .arg = arg, .used = 1,
	    .count = v->count };
	arch_irq_release(held);
	return PB_OK;
}

/* Release one vector of owner's, or all of them when vector < 0. */
void
irq_unregister(struct pb_module *owner, int vector)
{
	uint64_t held = arch_irq_hold();

	for (int i = VECTOR_FIRST; i < VECTORS; i++)
		if (vectors[i].used && vectors[i].owner == owner &&
		    (vector < 0 || vector == i))
			vectors[i] = (struct vector){ 0 };
	arch_irq_release(held);
}

unsigned
irq_count(const struct pb_module *m)
{
	unsigned n = 0;

	for (int i = VECTOR_FIRST; i < VECTORS; i++)
		if (vectors[i].used && vectors[i].owner == m)
			n++;
	return n;
}

struct irq_args {
	struct vector *v;
	int vector;
};

static long
call_irq(void *p)
{
	struct irq_args *a = p;

	a->v->fn(a->v->arg);
	return PB_OK;
}

static void
irq_deliver(int vector)
{
	struct vector *v = &vectors[vector];
	struct irq_args a = { v, vector };

	if (v->owner)
		mod_call(v->owner, call_irq, &a);
	else
		v->fn(v->arg);
}

/* Called by the arch side for vectors 32-255, interrupts disabled. */
void
hub_irq_dispatch(int vector)
{
	struct vector *v;

	if (vector < VECTOR_FIRST || vector >= VECTORS)
		return;
	v = &vectors[vector];
	v->count++;
	if (v->fn && v->held)
		v->pending++;
	else if (v->fn)
		irq_deliver(vector);
	/* The controller's end of interrupt, after the handler quieted its
	 * device (a level-triggered line would fire again otherwise). */
	if (eoi.fn)
		eoi.fn(eoi.ctx, vector);
}

/* Hold back (or release, replaying what came meanwhile) m's interrupts. */
void
irq_hold_module(struct pb_module *m, int hold)
{
	for (int i = VECTOR_FIRST; i < VECTORS; i++) {
		struct vector *v = &vectors[i];
		uint64_t held;

		if (!v->used || v->owner != m)
			continue;
		held = arch_irq_hold();
		v->held = hold;
		/* Replay only to a provider that still drives the device: one
		 * that was swapped out released it, and the new one has its
		 * own handlers. */
		if (!hold && m->state != MOD_RUNNING)
			v->pending = 0;
		if (!hold && v->pending && v->fn) {
			v->pending = 0;
			irq_deliver(i);
		}
		arch_irq_release(held);
	}
}

/* Vectors irq_alloc can still hand out. */
unsigned
irq_free_count(void)
{
	unsigned n = 0;

	for (int v = VECTOR_DYNAMIC; v <= VECTOR_LAST; v++)
		n += !vectors[v].used;
	return n;
}

/* Interrupts counted per vector, for the shell's `irqs`. */
uint64_t
irq_stats(int vector, struct pb_module **owner)
{
	if (vector < 0 || vector >= VECTORS)
		return 0;
	*owner = vectors[vector].owner;
	return vectors[vector].count;
}

/* When the next timer is due, or ~0 when none is set. */
uint64_t
timers_next(void)
{
	uint64_t next = ~0ull;

	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (timers[i].id && timers[i].when < next)
			next = timers[i].when;
	return next;
}
