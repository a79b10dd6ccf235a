/*
 * tirq - test module: what an interrupt and a work item cost, in TSC
 * cycles, for tests/bench/run.
 *
 *   interrupt latency	from a self-IPI (irq provider's send_self, the
 *			event) to the first instruction of this module's
 *			handler, through the hub's IDT entry, dispatch and
 *			guarded call; the sender is a work item, which runs
 *			with interrupts open, spinning until the handler ran
 *   work dispatch	from queue_work to the queued item running, through
 *			the hub's event loop
 *
 * Each is sampled ROUNDS times; the median and the worst are logged in one
 * line "bench irq: ipi median M worst W, work median M worst W cycles; ...".  Under TCG these are emulated cycles.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/cpu.h"
#include "../../../abi/irq.h"

#define ROUNDS		200
#define SPIN_MAX	10000000u

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *irq;		/* requirement 0 */
static int vector;
static volatile uint64_t sent, seen;	/* TSC at send_self, in handler */
static uint64_t irq_cycles[ROUNDS], work_cycles[ROUNDS];
static unsigned nwork, lost;
static uint64_t queued_at, t_start, ns_start;

static void
handler(void *arg)
{
	(void)arg;
	seen = rdtsc();
}

static void
sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void
report(void)
{
	uint64_t cycles = rdtsc() - t_start;
	uint64_t us = (hub->now_ns() - ns_start) / 1000 + 1;

	sort(irq_cycles, ROUNDS);
	sort(work_cycles, ROUNDS);
	pb_logf(hub, self, PB_LOG_INFO, "bench irq: ipi median %llu worst "
	    "%llu, work median %llu worst %llu cycles; %u rounds, %u lost; "
	    "%llu cycles/us",
	    (unsigned long long)irq_cycles[ROUNDS / 2],
	    (unsigned long long)irq_cycles[ROUNDS - 1],
	    (unsigned long long)work_cycles[ROUNDS / 2],
	    (unsigned long long)work_cycles[ROUNDS - 1], ROUNDS, lost,
	    (unsigned long long)(cycles / us));
}

static void
work_item(void *arg)
{
	uint64_t now = rdtsc();

	(void)arg;
	work_cycles[nwork++] = now - queued_at;
	if (nwork == ROUNDS) {
		report();
		return;
	}
	queued_at = rdtsc();
	hub->queue_work(self, work_item, NULL);
}

/* A work item: interrupts are open, so the IPI is taken while we spin. */
static void
irq_rounds(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t spins = 0;

		seen = 0;
		sent = rdtsc();
		if (PB_CALL(irq, irq_ops, send_self, vector) != PB_OK)
			break;
		while (!seen && spins++ < SPIN_MAX)
			cpu_pause();
		if (!seen)
			lost++;
		irq_cycles[i] = seen ? seen - sent : ~0ull;
	}
	queued_at = rdtsc();
	hub->queue_work(self, work_item, NULL);
}

static int
tirq_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	int err;

	hub = h;
	self = m;
	nwork = lost = 0;
	if (!irq)
		return PB_ENOENT;
	if ((vector = h->irq_alloc(m)) < 0)
		return vector;
	if ((err = h->irq_register(m, vector, handler, NULL)) != PB_OK)
		return err;
	t_start = rdtsc();
	ns_start = h->now_ns();
	return h->queue_work(m, irq_rounds, NULL);
}

static void
tirq_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		irq = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = tirq_start,
	.event = tirq_event,
};

PB_MODULE(.name = "tirq", .version = "1.0",
    .desc = "test: interrupt latency and work dispatch cost",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(IRQ_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START) });
