/*
 * twatch - test module: hangs where only the NMI watchdog can reach it.
 * boot.cfg `twatch=` says where, 50 ms after each start:
 *
 *   irq	its interrupt handler spins (interrupts held by the gate); the
 *		self-IPI is sent with interrupts held from a work item that
 *		returns, so the handler runs once nothing of ours is on the
 *		stack below it
 *   cli	a work item clears IF and spins
 *   work	a work item spins with interrupts open (the alarm or the NMI)
 *
 * Each time the hub must end the call, blame this module, restart it from
 * its image, and give up after the third hang, while the shell answers.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/irq.h"
#include "../../../abi/rt/rt.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *irq;		/* requirement 0 */
static int vector;
static char where[8];

static void
spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

static void
handler(void *arg)
{
	(void)arg;
	spin();
}

static void
hang(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "hanging (%s)", where);
	if (!strcmp(where, "irq")) {
		__asm__ volatile("cli" : : : "memory");
		PB_CALL(irq, irq_ops, send_self, vector);
		return;
	}
	if (!strcmp(where, "cli"))
		__asm__ volatile("cli" : : : "memory");
	spin();
}

static int
twatch_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	int err;

	self = m;
	hub = h;
	if (!irq)
		return PB_ENOENT;
	if (!pb_setting(hub, "twatch", where, sizeof(where)))
		rt_strlcpy(where, "work", sizeof(where));
	if (!strcmp(where, "irq")) {
		if ((vector = h->irq_alloc(m)) < 0)
			return vector;
		if ((err = h->irq_register(m, vector, handler, NULL)) != PB_OK)
			return err;
	}
	return hub->timer_after(self, 50000000ull, hang, NULL) < 0 ?
	    PB_ENOMEM : PB_OK;
}

static void
twatch_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		irq = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = twatch_start,
	.event = twatch_event,
};

PB_MODULE(.name = "twatch", .version = "1.0",
    .desc = "test: hangs in an interrupt handler or with interrupts held",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(IRQ_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START) });
