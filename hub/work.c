/*
 * work.c - the event loop's work queue, timers, and the table of
 * interrupt handlers.
 *
 * The queue is one first-in, first-out order of struct pb_work (abi/pb.h).
 * A module's item lives in its own memory, so posting one allocates
 * nothing, and an item already queued stays queued once.  The order
 * itself is the hub's (workq.c): nothing of it lives in the items, which
 * their modules may write.  queue_work (ABI 1.0) takes its items from a
 * pool here and can run out; timers carry their own item, so a cancelled
 * timer's expiry is taken off the queue with it.  The queue is touched
 * with interrupts held: handlers post work.
 *
 * Work items run to completion, one at a time, each through a guarded
 * call.  Every item remembers its owner's generation: unloading a module
 * bumps it and unlinks the module's items (their memory goes back to the
 * allocator), so an item of a module that is gone never runs.  Interrupt
 * handlers of a module can be held back (during a swap): the interrupt
 * is counted and replayed when the hold is released.
 */
#include "hub.h"
#include "shared.h"
#include "../abi/rt/rt.h"

#define WORK_SLOTS 256		/* queue_work's pool */
#define TIMER_SLOTS 64
#define VECTORS 256
#define VECTOR_FIRST 32		/* 0-31 are exceptions */
#define VECTOR_DYNAMIC 64	/* irq_alloc hands out 64..239 */
#define VECTOR_LAST 239		/* 240-255: kept for the irq provider */

/* A slot is free when id is 0 and its item is not queued: a one-shot
 * timer keeps its id until its item runs, so timer_cancel finds it. */
struct timer {
	int id;			/* 0: unused */
	uint64_t when;		/* ~0: due and queued (one-shot) */
	uint64_t period;	/* 0: one-shot */
	struct pb_work work;	/* fn, arg, owner and generation */
};

struct vector {
	struct pb_module *owner;
	pb_irq_fn fn;
	void *arg;
	int used;
	int held;
	int on_loop;		/* PB_IRQ_ON_LOOP: run as the owner's work */
	unsigned pending;
	uint64_t count;
	struct pb_work work;	/* on_loop: the handler's turn */
};

static struct pb_work pool[WORK_SLOTS];	/* queue_work's items */
static struct pb_work *pool_free;
static unsigned pool_used;		/* high-water mark */
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

/* The items modules posted, and what now_ns writes for them: in memory
 * modules may write (hub.h, shared.c). */
static struct hub_shared *const shared = &hub_shared;

/* The watch over the running interrupt handler or hook the hub called
 * from its own code, in the hub's own memory: its deadline (CPU time, 0:
 * none) and the index of its guard.  Each deadline is one aligned 64-bit
 * store, written with interrupts held, so the NMI sees old or new. */
struct irq_watch {
	uint64_t due;
	unsigned depth;
};
static volatile struct irq_watch irq_watch;
static int clock_busy;		/* a clock hook the hub called runs */
/* The last time hub_now_ns gave the hub's code, and the CPU's clock
 * then. */
static uint64_t own_last, own_last_cpu;

/* A handler or hook about to take the next guard has the watchdog's
 * limit, counted by the NMI; the outer watch comes back after it. */
static struct irq_watch
irq_watch_begin(void)
{
	struct irq_watch outer = { irq_watch.due, irq_watch.depth };

	irq_watch.depth = arch_guard_depth();
	irq_watch.due = hub_watchdog_ns ? arch_now_ns() + hub_watchdog_ns : 0;
	return outer;
}

static void
irq_watch_end(struct irq_watch outer)
{
	irq_watch.due = outer.due;
	irq_watch.depth = outer.depth;
}

/*
 * The clock's and the interrupt controller's hooks run as guarded calls
 * of their module (guardhook.S: in the caller's domain), watched like an
 * interrupt handler, so a fault or a hang there is the module's, not the
 * hub's.  A hook that failed is dropped at once (the hub goes on with
 * the CPU's clock, or without an EOI until the controller is back) and
 * its module is recovered as the hub's work.
 */
struct hook_args {
	const struct pb_clock *clk;
	void *ctx;
	uint64_t value;		/* now_ns: the time; arm: the delay */
	int vector;		/* eoi */
	pb_eoi_fn eoi;
};

static long
hook_now(void *p)
{
	struct hook_args *a = p;

	a->value = a->clk->now_ns(a->ctx);
	return PB_OK;
}

static long
hook_arm(void *p)
{
	struct hook_args *a = p;

	a->clk->arm(a->ctx, a->value);
	return PB_OK;
}

static long
hook_eoi(void *p)
{
	struct hook_args *a = p;

	a->eoi(a->ctx, a->vector);
	return PB_OK;
}

/* A hook called for a module's now_ns (`svc`) runs in the module's
 * domain: its watch goes on the shared page, sealed (shared.c); the hub's
 * own calls keep theirs in the hub's memory. */
static int
hook_call(long (*fn)(void *), struct hook_args *a, struct pb_module *m,
    int svc)
{
	struct irq_watch outer;
	long r;

	if (!m)
		return (int)fn(a);
	if (svc) {
		shared_hook_begin(arch_guard_depth(), hub_watchdog_ns ?
		    arch_now_ns() + hub_watchdog_ns : 0);
	} else {
		outer = irq_watch_begin();
		clock_busy += a->clk != NULL;
	}
	r = arch_call_hook(fn, a, m);
	if (svc) {
		shared_hook_end();
	} else {
		clock_busy -= a->clk != NULL;
		irq_watch_end(outer);
	}
	if (r == PB_OK)
		return PB_OK;
	recover_defer();
	return PB_EFAULT;
}

/* The last time given, as far as the hub knows: its own last reading,
 * and the CPU's clock since (a module's readings are not kept: they
 * would be kept where modules may write). */
static uint64_t
last_given(void)
{
	uint64_t cpu = arch_now_ns();

	/* Host tests set the CPU's clock back between tests. */
	return own_last + (cpu > own_last_cpu ? cpu - own_last_cpu : 0);
}

/* The clock failed: the CPU's goes on from the last time given. */
static void
clock_lost(void)
{
	log_event(LOG_ERROR, "hub: clock %s failed: the CPU's goes on",
	    clock.owner->name);
	clock.clk = NULL;
	clock.owner = NULL;
	clock.armed = ~0ull;
	clock.offset = (int64_t)(last_given() - arch_now_ns());
}

/* Nanoseconds since boot: the timer provider's clock once there is one,
 * the CPU's (the stub's TSC calibration) before.  `svc`: for a module,
 * in its domain (what it writes goes on the shared page). */
static uint64_t
now_ns(int svc)
{
	uint64_t held = arch_irq_hold();
	struct hook_args a = { .clk = clock.clk, .ctx = clock.ctx };
	uint64_t now;

	if (clock_busy || shared_hook_running()) {
		/* A clock hook runs: the time asked meanwhile (the report of
		 * its fault, the watchdog's line) is the last one given. */
		now = last_given();
		arch_irq_release(held);
		return now;
	}
	if (!clock.clk)
		a.value = arch_now_ns();
	else if (hook_call(hook_now, &a, clock.owner, svc) != PB_OK) {
		clock_lost();
		a.value = arch_now_ns();
	}
	now = a.value + (uint64_t)clock.offset;
	if (!svc) {
		own_last = now;
		own_last_cpu = arch_now_ns();
	}
	arch_irq_release(held);
	return now;
}

uint64_t
hub_now_ns(void)
{
	return now_ns(0);
}

uint64_t
hub_now_ns_svc(void)
{
	return now_ns(1);
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
	struct hook_args a;
	uint64_t now, held;
	int armed;

	if (!clock.clk || !clock.clk->arm)
		return 0;
	now = hub_now_ns();
	held = arch_irq_hold();
	a = (struct hook_args){ .clk = clock.clk, .ctx = clock.ctx,
	    .value = deadline == ~0ull ? ~0ull : deadline > now ?
	    deadline - now : 0 };
	armed = clock.clk && clock.clk->arm;	/* reading it may drop it */
	if (armed) {
		clock.armed = deadline;
		if (hook_call(hook_arm, &a, clock.owner, 0) != PB_OK) {
			clock_lost();
			armed = 0;
		}
	}
	arch_irq_release(held);
	return armed;
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

/* Set w up to run fn(arg) as owner's work (NULL: the hub's). */
void
work_init(struct pb_module *owner, struct pb_work *w, pb_work_fn fn,
    void *arg)
{
	*w = (struct pb_work){ .fn = fn, .arg = arg, .owner = owner,
	    .gen = owner ? owner->generation : 0 };
}

static int from_pool(const struct pb_work *w);
static int is_timer(const struct pb_work *w);

/* One of the module table's entries, exactly. */
static int
is_module(const struct pb_module *m)
{
	return m >= modules && m < modules + MAX_MODULES &&
	    ((uintptr_t)m - (uintptr_t)modules) % sizeof(*m) == 0;
}

/* May w be queued: a module's item, where the hub knows memory? */
int
work_post_ok(const struct pb_work *w)
{
	return w && hub_arg_known(w, sizeof(*w)) && is_module(w->owner);
}

/* Does w name its true owner: the module whose memory holds it, or any
 * module or none (the hub) when it is in the hub's memory?  Its code runs
 * as its owner's, with that module's rights; with none, as the hub's. */
static int
item_whole(const struct pb_work *w, const struct pb_module *owner)
{
	struct pb_module *holder;

	if (from_pool(w) || is_timer(w))
		return !owner || is_module(owner);
	holder = mem_holder((uint64_t)(uintptr_t)w);
	return holder ? owner == holder : !owner || is_module(owner);
}

/*
 * w names an owner other than the module whose memory holds it (no
 * module, another, or the hub): only a write over it can have done that,
 * by that module (nothing else may write there), and whose code it was
 * cannot be told.  It is not queued; that module is charged, and its
 * recovery (the shadow's replay) redoes what the item would have
 * finished.  Interrupts are held.
 */
static void
item_refused(const struct pb_work *w, const struct pb_module *owner)
{
	struct pb_module *m = mem_holder((uint64_t)(uintptr_t)w);

	log_event(LOG_ERROR, "hub: the work item at %p names a wrong owner "
	    "(%p)%s%s: not queued", (void *)w, (void *)owner,
	    m ? "; it lies in the memory of " : "", m ? m->name : "");
	if (m && !m->fault_pending) {
		hub_note_fault(m, FAULT_ITEM, 0, (uint64_t)(uintptr_t)w);
		recover_defer();
	}
}

/* A module posts w, whose owner is no module (services.c). */
void
work_post_refused(const struct pb_work *w)
{
	uint64_t held = arch_irq_hold();

	item_refused(w, w->owner);
	arch_irq_release(held);
}

static void
queue_full(const struct pb_module *owner)
{
	log_event(LOG_ERROR, "hub: the work queue is full (%d items): an "
	    "item of %s is not queued", WORKQ_SLOTS,
	    owner ? owner->name : "the hub");
}

/* Queue w at the tail, unless it is queued already, with the owner and
 * generation it has now (read once: it is its module's memory).
 * Interrupts are held. */
static void
post_link(struct pb_work *w)
{
	struct pb_module *owner = w->owner;

	if (workq_holds(w))
		return;
	if (!item_whole(w, owner))
		item_refused(w, owner);
	else if (!workq_put(w, owner, w->gen, 0))
		queue_full(owner);
	else
		w->queued = 1;
}

/* The ring's next item, its slot emptied: a count set back (a stray
 * write) finds no item it would run twice. */
static struct pb_work *
post_take(void)
{
	struct pb_work **slot = &shared->posts[shared->posts_out++ %
	    POSTS_RING];
	struct pb_work *w = *slot;

	*slot = NULL;
	return w;
}

/*
 * The items modules posted into the shared ring, queued in the order they
 * came, before anything reads the queue; interrupts are held.  The ring
 * is memory every module may write, so each item is checked again and
 * at most a ring's worth is taken, whatever the counts say; what is not
 * a module's item is dropped, with one line.
 */
static void
posts_drain(void)
{
	struct pb_work *bad = NULL;
	unsigned dropped = 0;

	for (unsigned n = 0; shared->posts_out != shared->posts_in &&
	    n < POSTS_RING; n++) {
		struct pb_work *w = post_take();

		if (work_post_ok(w))
			post_link(w);
		else if (!dropped++)
			bad = w;
	}
	shared->posts_out = shared->posts_in;
	if (dropped)
		log_event(LOG_ERROR, "hub: a posted work item at %p is no "
		    "module's: dropped (%u in all)", (void *)bad, dropped);
}

void
work_post(struct pb_work *w)
{
	uint64_t held = arch_irq_hold();	/* handlers post work too */

	posts_drain();
	post_link(w);
	arch_irq_release(held);
}

/* Is w queued to run, counting posts not drained yet? */
int
work_queued(const struct pb_work *w)
{
	uint64_t held = arch_irq_hold();
	int queued;

	posts_drain();
	queued = workq_holds(w);
	arch_irq_release(held);
	return queued;
}

/*
 * work_post as a module's service, in the module's protection domain
 * (x86_64/domain.c): the item goes into the shared ring, which the hub
 * drains into the queue before it reads it, so posting writes neither the
 * hub's memory nor the item (a provider posts its client's), and costs
 * no domain switch.  A full ring is drained here, which takes the hub's
 * domain for the rest of the module's call (domain.h, DOMAIN_HUB_RETRY).
 */
void
work_post_shared(struct pb_work *w)
{
	uint64_t held = arch_irq_hold();

	if (shared->posts_in - shared->posts_out < POSTS_RING)
		shared->posts[shared->posts_in++ % POSTS_RING] = w;
	else
		work_post(w);
	arch_irq_release(held);
}

static int
from_pool(const struct pb_work *w)
{
	return w >= pool && w < pool + WORK_SLOTS;
}

static int
is_timer(const struct pb_work *w)
{
	return w >= &timers[0].work && w <= &timers[TIMER_SLOTS - 1].work;
}

/* Take entry e off the queue.  Interrupts are held.  A pool item goes
 * back to the pool. */
static void
unlink_item(struct workq_ent *e)
{
	struct pb_work *w = e->w;

	workq_take(e);
	w->queued = 0;
	if (from_pool(w)) {
		w->next = pool_free;
		pool_free = w;
	}
}

/*
 * A module's work items run back to back under one guarded call, so in
 * one protection-domain switch each way (each costs a TLB flush under
 * QEMU's TCG): the items of one module that follow each other at the
 * head of the queue are taken together (a batch), and after them, while
 * the queue is empty, the items posted meanwhile (a completion, the next
 * step of a job) as the ring hands them over: the module's own, and
 * another module's in that module's domain, switched to directly (one
 * IA32_PKRS write instead of two through the hub's, arch_guard_retarget;
 * the guard then names that module, so a fault in its item is its own).
 * They share the call's watchdog count, so a batch takes no further item
 * once it has run WORK_BATCH_NS: the rest go back to the head of the
 * queue and run in calls of their own.  Items of queue_work's pool and
 * timers are not batched (their slots are free again once taken).  An
 * item cancelled, or whose module is dropped, before its turn in a batch
 * does not run (batches_forget).
 */
#define WORK_BATCH 16
#define WORK_BATCH_NS 1000000ull

/* A batch as the hub took it off the queue, in the hub's memory: the
 * module's code reads it (call_work, in the module's domain) and cannot
 * change what the hub later puts back or cancels. */
struct batch {
	struct pb_module *owner;
	int more;			/* may take the module's next posts */
	unsigned n;			/* items */
	struct {
		pb_work_fn fn;		/* NULL: cancelled */
		void *arg;
		const struct pb_work *w;
		uint32_t gen;
	} item[WORK_BATCH];
	struct work_args *run;		/* its progress */
};

/* A batch's progress, which call_work writes in the module's domain (on
 * the modules' stack, x86_64/stacks.c): the hub reads it back bounded. */
struct work_args {
	const struct batch *b;
	unsigned next;			/* the item running or last run */
	unsigned posts;			/* the module's next posts run */
	const struct pb_work *chained;	/* the chained post running */
	uint64_t since;			/* arch_now_ns at the first item */
	struct pb_module *running;	/* whose item runs now: owner, or the
					 * module of a post chained in */
};

/* The batches running, outermost first: each nests in a call. */
#define BATCH_NEST 16
static struct batch batches[BATCH_NEST];
static unsigned nbatches;

/* Is m's code in a call below (m->busy), counting a batch that runs
 * another module's chained post as that module's call, not its owner's:
 * the owner's items have returned, and the post's module must not run
 * again inside it (a swap's drain waits in the shell's item). */
static int
in_call(const struct pb_module *m)
{
	unsigned n = m->busy;

	for (unsigned i = 0; i < nbatches; i++) {
		const struct pb_module *running = batches[i].run->running;

		if (running != batches[i].owner) {
			n += running == m;
			n -= batches[i].owner == m && n;
		}
	}
	return n != 0;
}

static int
batchable(const struct pb_work *w)
{
	return !from_pool(w) && !is_timer(w);
}

/* A batch's items that did not get their turn go back to the head of the
 * queue, in their order. */
static void
batch_requeue(const struct batch *b, unsigned next)
{
	uint64_t held = arch_irq_hold();

	for (unsigned i = b->n; i-- > next + 1;) {
		struct pb_work *w = (struct pb_work *)(uintptr_t)b->item[i].w;

		if (!b->item[i].fn || workq_holds(w))
			continue;
		if (workq_put(w, b->owner, b->item[i].gen, 1))
			w->queued = 1;
		else
			queue_full(b->owner);
	}
	arch_irq_release(held);
}

/* Items not run yet: w, or all of m's. */
static void
batches_forget(const struct pb_work *w, const struct pb_module *m)
{
	for (unsigned k = 0; k < nbatches; k++) {
		struct batch *b = &batches[k];

		for (unsigned i = b->run->next + 1; i < b->n; i++)
			if (b->item[i].w == w || b->owner == m)
				b->item[i].fn = NULL;
	}
}

/* Take off the queue every entry `drop` says; interrupts are held. */
static void
unlink_if(int (*drop)(const struct workq_ent *e, const void *key),
    const void *key)
{
	uint32_t at = workq_start();
	struct workq_ent *e;

	while ((e = workq_next(&at)))
		if (drop(e, key))
			unlink_item(e);
}

static int
is_item(const struct workq_ent *e, const void *key)
{
	return e->w == key;
}

/* After this returns, w does not run for any earlier post. */
void
work_cancel(struct pb_work *w)
{
	uint64_t held = arch_irq_hold();

	posts_drain();
	unlink_if(is_item, w);
	batches_forget(w, NULL);
	arch_irq_release(held);
}

/* ABI 1.0: fn(arg) as owner's work, on an item of the hub's pool. */
int
work_queue(struct pb_module *owner, pb_work_fn fn, void *arg)
{
	uint64_t held = arch_irq_hold();
	struct pb_work *w = pool_free;

	if (w)
		pool_free = w->next;
	else if (pool_used < WORK_SLOTS)
		w = &pool[pool_used++];
	if (w) {
		work_init(owner, w, fn, arg);
		work_post(w);
	}
	arch_irq_release(held);
	return w ? PB_OK : PB_ENOMEM;
}

/* The innermost watched module call running now. */
static struct watch running;
uint64_t hub_watchdog_ns = 5000000000ull;

/*
 * What the NMI (and the firmware's timer event) read: when the innermost
 * watched call and the module interrupt handler being run are overdue, on
 * the CPU's clock (arch_now_ns runs no module's code), 0: none; and the
 * index of each one's guard.  Each deadline is one aligned 64-bit store,
 * written with interrupts held, so a reader that cuts in sees old or new.
 */
static volatile uint64_t call_due;
/* A provider's code that the watchdog ended inside the running watched
 * call (a call through a connection, conngate.S) took that call's time:
 * its count starts again, so the client is not charged for the hang too
 * (set from the fault path: only a flag; applied where the clock may be
 * read). */
static volatile int watch_fresh;

static void watch_publish(void);

static void
watch_refresh(void)
{
	if (!watch_fresh)
		return;
	watch_fresh = 0;
	if (running.since)
		running.since = hub_now_ns();
	watch_publish();
}

static void
watch_publish(void)
{
	uint64_t ran;

	if (!running.since || !running.owner || !hub_watchdog_ns) {
		call_due = 0;
		return;
	}
	ran = hub_now_ns() - running.since;
	call_due = arch_now_ns() + (ran < hub_watchdog_ns ?
	    hub_watchdog_ns - ran : 0);
}

/* Whichever of the two is innermost (the higher guard index) counts: a
 * handler that cut into a work item is judged by its own count, a call
 * made from inside a handler by its own.  One whose guard is gone is
 * stale (hub_watch_unwound clears it as the guard pops). */
int
hub_watch_overdue(uint64_t now, unsigned depth)
{
	uint64_t due = 0, hook;
	unsigned at = 0, index;

	if (call_due && running.depth < depth) {
		due = call_due;
		at = running.depth;
	}
	if (irq_watch.due && irq_watch.depth < depth &&
	    (!due || irq_watch.depth > at)) {
		due = irq_watch.due;
		at = irq_watch.depth;
	}
	/* A module's now_ns's clock hook, if its record is whole. */
	if ((hook = shared_hook_due(now, depth, &index)) &&
	    (!due || index > at))
		due = hook;
	return due && now >= due;
}

void
hub_watch_unwound(unsigned index)
{
	if (irq_watch.due && irq_watch.depth >= index)
		irq_watch.due = 0;
	shared_hook_unwound(index);
	if (call_due && running.depth >= index)
		call_due = 0;
	else if (running.since && running.depth < index) {
		watch_fresh = 1;
		if (call_due)	/* the NMI's view, on the CPU's clock */
			call_due = arch_now_ns() + hub_watchdog_ns;
	}
}

/* May the watchdog end the call of owner's that runs m's code now?  Not
 * where the hub called m itself, outside a guard (the clock, the
 * end-of-interrupt hook): hub code is half-way through below it. */
int
hub_watch_may_end(const struct pb_module *m, const struct pb_module *owner)
{
	return m && (m == owner || (m != clock.owner && m != eoi.owner));
}

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
	struct watch outer;

	watch_refresh();
	shared_say_damage();
	outer = running;
	running.since = hub_now_ns();
	running.owner = m;
	running.depth = arch_guard_depth();	/* the guard it is about to take */
	watch_arm(running.since);
	watch_publish();
	arch_irq_release(held);
	return outer;
}

void
watch_end(struct watch outer)
{
	uint64_t held = arch_irq_hold();

	watch_fresh = 0;	/* the call it was about ends */
	if (outer.since) {
		outer.since += hub_now_ns() - running.since;
		watch_arm(outer.since);
	}
	running = outer;
	watch_publish();
	arch_irq_release(held);
}

static int held_back(const struct workq_ent *e);

/* The next post, taken from the ring in the running module's domain
 * (writing only the ring; the checks read), while the queue is empty: an
 * item of the module itself, or of another module that is in no call
 * (its code is not on the stack below) and whose hang the watchdog may
 * end inside this call (not the clock's or the interrupt controller's).
 * An item an injection waits for goes the normal way, where the injector
 * is armed in the hub's domain, and so does one that names a wrong owner
 * (post_link refuses it). */
static int
next_post(const struct pb_module *m, struct workq_ent *e)
{
	struct pb_work *w;

	if (!workq_empty() || shared->posts_out == shared->posts_in)
		return 0;
	w = shared->posts[shared->posts_out % POSTS_RING];
	if (!work_post_ok(w))
		return 0;
	*e = (struct workq_ent){ .w = w, .owner = w->owner, .gen = w->gen };
	if (!is_module(e->owner) || !item_whole(w, e->owner) ||
	    !owner_alive(e->owner, e->gen) ||
	    held_back(e) || inject_due(e->owner, INJECT_WORK) ||
	    (e->owner != m && (in_call(e->owner) ||
	    shadow_calling(e->owner) || !hub_watch_may_end(e->owner, NULL))))
		return 0;
	post_take();
	return 1;
}

long
call_work(void *p)
{
	struct work_args *a = p;
	const struct batch *b = a->b;
	struct pb_module *m = b->owner;	/* whose code runs now */
	struct workq_ent e;
	uint64_t held;
	int got;

	a->since = arch_now_ns();
	for (;; a->next++) {
		if (a->next < b->n && b->item[a->next].fn &&
		    owner_alive(b->owner, b->item[a->next].gen))
			b->item[a->next].fn(b->item[a->next].arg);
		if (a->next + 1 >= b->n)
			break;
		if (arch_now_ns() - a->since > WORK_BATCH_NS)
			return PB_OK;	/* the rest are queued again */
	}
	while (b->more && b->n + a->posts < WORK_BATCH &&
	    arch_now_ns() - a->since <= WORK_BATCH_NS) {
		held = arch_irq_hold();
		got = next_post(m, &e);
		arch_irq_release(held);
		if (!got)
			break;
		if (e.owner != m) {	/* a fault from here on is its */
			arch_guard_retarget(m = e.owner);
			a->running = m;
		}
		a->posts++;
		a->chained = e.w;
		e.w->fn(e.w->arg);
		a->chained = NULL;
	}
	return PB_OK;
}

/* The module whose watched call has run too long, or NULL. */
struct pb_module *
hub_watchdog_due(void)
{
	watch_refresh();
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

/* A one-shot timer's item left the queue to run: the slot is free. */
static void
timer_dequeued(const struct pb_work *w)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (w == &timers[i].work && !timers[i].period)
			timers[i].id = 0;
}

/* May e run while the hub waits inside a call (a swap's drain)?  Only
 * work of a module not in a call itself; not the hub's own. */
static int
may_run_waiting(const struct workq_ent *e)
{
	return e->owner && !in_call(e->owner) && !shadow_calling(e->owner);
}

/* Is e the work of a provider that has quiesced (a swap's old provider
 * between its PB_OK and its resume or unload, or a parked disk)?  It waits
 * in the queue: the provider promised to do nothing, and a resume runs it
 * then; an unload drops it (its generation changes). */
static int
held_back(const struct workq_ent *e)
{
	return e->owner && e->owner->state == MOD_QUIESCED &&
	    e->owner->generation == e->gen;
}

/*
 * m faulted in a batch's call, whose recovery runs now, inside that call's
 * end (recover.c, before it waits for m's requests): the item the batch
 * was running was taken off the queue and will not run.  A request's
 * completion is the shadow's to settle (shadow.c).  The batch's progress
 * is on the modules' stack: what it says is only compared.
 */
void
work_item_died(const struct pb_module *m)
{
	for (unsigned i = nbatches; i-- > 0;) {
		const struct batch *b = &batches[i];
		const struct work_args *a = b->run;

		if (!a || a->running != m)
			continue;
		if (a->chained)
			shadow_done_lost(a->chained);
		else if (a->next < b->n)
			shadow_done_lost(b->item[a->next].w);
		return;
	}
}

/* Run the first queued item that may run (not held back, and while the
 * hub waits inside a call, see may_run_waiting); 0: none. */
static int
run_one(int waiting)
{
	uint64_t held = arch_irq_hold();
	struct work_args local, *a;
	struct arch_room room;
	struct workq_ent *e;
	struct batch *b;
	uint32_t at;
	int alive, ran;

	posts_drain();
	at = workq_start();
	while ((e = workq_next(&at)) &&
	    (held_back(e) || (waiting && !may_run_waiting(e))))
		;
	if (!e || nbatches == BATCH_NEST) {
		arch_irq_release(held);
		return 0;
	}
	b = &batches[nbatches];
	b->owner = e->owner;
	b->more = b->owner && !waiting;
	b->n = 0;
	alive = owner_alive(b->owner, e->gen);
	/* The first item, and the same module's that follow it. */
	do {
		b->item[b->n].fn = e->w->fn;
		b->item[b->n].arg = e->w->arg;
		b->item[b->n].w = e->w;
		b->item[b->n++].gen = e->gen;
		timer_dequeued(e->w);
		unlink_item(e);
		e = workq_next(&at);
	} while (b->more && b->n < WORK_BATCH && e && e->owner == b->owner &&
	    !held_back(e) && batchable(e->w));
	arch_irq_release(held);
	if (alive && b->owner)
		inject_hook(b->owner, INJECT_WORK, &b->item[0].fn);
	if (!b->owner) {
		if (alive)
			b->item[0].fn(b->item[0].arg);
		return 1;
	}
	/* The progress where the module's code may write it, and where
	 * batches_forget finds what it wrote (no copy of it): on the
	 * modules' stack. */
	if (!(a = arch_module_room(&local, sizeof(local), &room)))
		a = &local;
	*a = (struct work_args){ .b = b, .running = b->owner };
	b->run = a;
	nbatches++;
	mod_call_watched(b->owner, call_work, a, sizeof(*a));
	nbatches--;
	batch_requeue(b, a->next < b->n ? a->next : b->n - 1);
	ran = (int)b->n + (int)(a->posts < WORK_BATCH ? a->posts : WORK_BATCH);
	arch_module_room_end(&room);
	return ran;
}

/* Run the next queued item (and the same module's after it, a batch):
 * how many ran, 0 when the queue was empty. */
int
work_run_one(void)
{
	return run_one(0);
}

/*
 * One turn of the event loop for hub code that waits inside a call (a
 * swap whose old provider drains): due timers, one item of a module not
 * in a call (see may_run_waiting), else sleep until an interrupt, the
 * next timer or `until`.  The caller's watchdog count is paused: the
 * wait is the hub's, bounded by its caller.
 */
void
hub_wait_step(uint64_t until)
{
	struct watch outer = watch_begin(NULL);
	uint64_t held, next;

	/* Timers run once the firmware is gone: the shell's first prompt
	 * waits for the boot's end, and a drain in the firmware phase
	 * (efi-console's at the takeover) polls. */
	if (hub_native)
		timers_run(hub_now_ns());
	if (run_one(1)) {
		arch_irq_window();
	} else {
		held = arch_irq_hold();
		next = timers_next();
		if (hub_arm_alarm(next < until ? next : until)) {
			arch_idle();
		} else {		/* no alarm: poll */
			arch_pause();
			arch_irq_window();
		}
		arch_irq_release(held);
	}
	watch_end(outer);
}

static int
owned_by(const struct workq_ent *e, const void *m)
{
	return e->owner == m;
}

/* Nothing of m's may run after this, and nothing queued may point into
 * its memory. */
void
work_drop_module(struct pb_module *m)
{
	uint64_t held = arch_irq_hold();

	posts_drain();
	unlink_if(owned_by, m);
	batches_forget(NULL, m);
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (timers[i].id && timers[i].work.owner == m)
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

		if (t->id || t->work.queued)
			continue;
		*t = (struct timer){ .id = next_timer_id++,
		    .when = hub_now_ns() + ns, .period = period };
		work_init(owner, &t->work, fn, arg);
		if (next_timer_id <= 0)
			next_timer_id = 1;
		return t->id;
	}
	return PB_ENOMEM;
}

/* After this, the timer's function does not run, even if it was due. */
void
timer_cancel(struct pb_module *owner, int id)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		if (timers[i].id == id && timers[i].work.owner == owner) {
			work_cancel(&timers[i].work);
			timers[i].id = 0;
		}
}

/* Queue the work of every timer that is due. */
void
timers_run(uint64_t now)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++) {
		struct timer *t = &timers[i];

		if (!t->id || t->when > now)
			continue;
		if (!owner_alive(t->work.owner, t->work.gen)) {
			t->id = 0;
			continue;
		}
		work_post(&t->work);	/* once, if still queued */
		if (!t->period)
			t->when = ~0ull;
		else	/* the next tick after now: a late loop skips ticks */
			t->when += ((now - t->when) / t->period + 1) * t->period;
	}
}

/* v is owner's now (NULL: free), with no handler; its turn on the event
 * loop, if queued, is taken back first (the item lives in v).  Interrupts
 * are held. */
static void
vector_reset(struct vector *v, struct pb_module *owner, uint64_t count)
{
	work_cancel(&v->work);
	*v = (struct vector){ .owner = owner, .used = owner != NULL,
	    .count = count };
}

int
irq_alloc(struct pb_module *owner)
{
	for (int v = VECTOR_DYNAMIC; v <= VECTOR_LAST; v++)
		if (!vectors[v].used) {
			vector_reset(&vectors[v], owner, 0);
			return v;
		}
	return PB_ENOMEM;
}

/* Claim `vector` (if not yet ours, or the device it serves is being
 * handed to us by its owner: a swap, which need not program the device's
 * MSI again) and set its handler.  Taken over, it is no longer held. */
int
irq_register(struct pb_module *owner, int vector, pb_irq_fn fn, void *arg)
{
	int on_loop = (vector & PB_IRQ_ON_LOOP) != 0 && owner;
	struct vector *v;
	uint64_t held;

	vector &= ~PB_IRQ_ON_LOOP;
	if (vector < VECTOR_FIRST || vector >= VECTORS || !fn)
		return PB_EINVAL;
	v = &vectors[vector];
	if (v->used && (owner == &hub_quarantine || (v->owner != owner &&
	    !res_hands_over(v->owner, owner))))
		return PB_EBUSY;
	held = arch_irq_hold();
	vector_reset(v, owner, v->count);
	v->fn = fn;
	v->arg = arg;
	v->on_loop = on_loop;
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
			vector_reset(&vectors[i], NULL, 0);
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
	pb_irq_fn fn = a->v->fn;
	void *arg = a->v->arg;

	inject_hook(a->v->owner, INJECT_IRQ, &fn);
	fn(arg);
	return PB_OK;
}

static void
irq_deliver(int vector)
{
	struct vector *v = &vectors[vector];
	struct irq_args a = { v, vector };
	struct irq_watch outer;

	if (!v->owner) {
		v->fn(v->arg);
		return;
	}
	/* A handler has the watchdog's limit too, counted by the NMI. */
	outer = irq_watch_begin();
	mod_call(v->owner, call_irq, &a, sizeof(a));
	irq_watch_end(outer);
}

/* An on_loop handler's turn, as its owner's work, in its domain: the
 * vector as it is now (unregistered meanwhile: nothing). */
static void
irq_on_loop(void *p)
{
	const struct vector *v = p;
	pb_irq_fn fn = v->fn;

	if (fn && v->on_loop)
		fn(v->arg);
}

/*
 * The handler runs on the event loop (PB_IRQ_ON_LOOP): its item is
 * queued once however many interrupts come first, and it batches with
 * the work the handler posts (work.c's batches), so interrupt and
 * completion cost one guarded call.  An injection waiting for the
 * module's interrupt takes it here, in the interrupt, as before.
 */
static void
irq_to_loop(struct vector *v, int vector)
{
	if (inject_due(v->owner, INJECT_IRQ)) {
		irq_deliver(vector);
		return;
	}
	if (!v->work.queued) {
		work_init(v->owner, &v->work, irq_on_loop, v);
		work_post(&v->work);
	}
}

static void
irq_eoi(int vector)
{
	struct hook_args a = { .eoi = eoi.fn, .ctx = eoi.ctx, .vector = vector };

	if (hook_call(hook_eoi, &a, eoi.owner, 0) != PB_OK) {
		log_event(LOG_ERROR, "hub: %s's end of interrupt failed",
		    eoi.owner->name);
		eoi.fn = NULL;
		eoi.owner = NULL;
	}
}

/* Device interrupts being handled now (nested): a fault in one is
 * recovered from later, outside (recover_defer). */
unsigned hub_in_irq;

/* Called by the arch side for vectors 32-255, interrupts disabled. */
void
hub_irq_dispatch(int vector)
{
	struct vector *v;

	if (vector < VECTOR_FIRST || vector >= VECTORS)
		return;
	v = &vectors[vector];
	v->count++;
	hub_in_irq++;
	if (v->fn && v->held)
		v->pending++;
	else if (v->fn && v->on_loop)
		irq_to_loop(v, vector);
	else if (v->fn)
		irq_deliver(vector);
	/* The controller's end of interrupt, after the handler quieted its
	 * device (a level-triggered line would fire again otherwise), and
	 * whether or not the handler returned. */
	if (eoi.fn)
		irq_eoi(vector);
	hub_in_irq--;
}

/* Call m's handlers once, as if their interrupts had come (shadow.c: a
 * request that waits too long); not those of the interrupt controller or
 * the clock, which serve no request.  How many. */
unsigned
irq_poll_module(struct pb_module *m)
{
	unsigned n = 0;

	for (int i = VECTOR_FIRST; i < VECTORS && m != eoi.owner &&
	    m != clock.owner; i++) {
		struct vector *v = &vectors[i];
		uint64_t held;

		if (!v->used || v->owner != m || !v->fn || v->held)
			continue;
		held = arch_irq_hold();
		irq_deliver(i);
		arch_irq_release(held);
		n++;
	}
	return n;
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

struct pb_module hub_quarantine = { .name = "quarantine" };

/* m is going but its device may still raise its vectors: they go to
 * nobody, for good (counted, never delivered, never handed out). */
void
irq_quarantine(struct pb_module *m)
{
	char list[96] = "";
	uint64_t held = arch_irq_hold();

	for (int i = VECTOR_FIRST; i < VECTORS; i++) {
		struct vector *v = &vectors[i];
		size_t n = strlen(list);

		if (!v->used || v->owner != m)
			continue;
		vector_reset(v, &hub_quarantine, v->count);
		rt_snprintf(list + n, sizeof(list) - n, " %d", i);
	}
	arch_irq_release(held);
	if (list[0])
		log_event(LOG_ERROR, "%s: vectors%s quarantined: a provider "
		    "failed to silence its device", m->name, list);
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
