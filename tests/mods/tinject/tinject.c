/*
 * tinject - test module for fault injection (hub/inject.c): something the
 * hub calls at every moment an injection can take, all the time.
 *
 *   entry	start (load) and its events
 *   work	a timer every 10 ms, whose work sends a self-IPI
 *   irq	the IPI's handler, which counts and posts a work item
 *
 * Every 100 ticks it logs "tinject: alive N" (N handled interrupts), so a
 * test sees it serve again after an injection charged to it.  The tick is
 * the first code of the image (an external function is emitted before
 * the static ones), where inject.c's store puts its own instruction for
 * a moment: a store that left it there would stop the ticks.  Its state
 * starts with scratch words that a corrupted pointer near it may hit
 * harmlessly (`work pointer 0` writes the second).
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/irq.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *irq;		/* requirement 0 */
static int vector;
/* Every function reaches its state through its argument, as a driver
 * reaches its device's: a corrupted argument is a corrupted pointer. */
struct state {
	uint64_t scratch[4];
	unsigned ticks, handled, counted;
	struct pb_work count_work;
};
static struct state st __attribute__((aligned(64)));

void tinject_tick(void *arg);

/* Every 10 ms: an IPI to ourselves, and the alive line. */
void
tinject_tick(void *arg)
{
	struct state *s = arg;

	if (irq && PB_CALL(irq, irq_ops, send_self, vector) != PB_OK)
		return;
	if (++s->ticks % 100 == 0)
		pb_logf(hub, self, PB_LOG_INFO, "alive %u (%u counted)",
		    s->handled, s->counted);
}

static void
count(void *arg)
{
	struct state *s = arg;

	s->counted++;
}

static void
handler(void *arg)
{
	struct state *s = arg;

	s->handled++;
	hub->work_post(self, &s->count_work);
}

static int
tinject_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	int err, id;

	hub = h;
	self = m;
	st = (struct state){ 0 };
	if (!irq)
		return PB_ENOENT;
	if ((vector = h->irq_alloc(m)) < 0)
		return vector;
	if ((err = h->irq_register(m, vector, handler, &st)) != PB_OK)
		return err;
	h->work_init(m, &st.count_work, count, &st);
	id = h->timer_every(m, 10000000ull, tinject_tick, &st);
	return id < 0 ? id : PB_OK;
}

static void
tinject_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		irq = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = tinject_start,
	.event = tinject_event,
};

PB_MODULE(.name = "tinject", .version = "1.0",
    .desc = "test: a target for every fault injection moment",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(IRQ_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START) });
