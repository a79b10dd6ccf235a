/*
 * tleaf - test module: takes memory, an interrupt vector and a timer, and
 * provides an interface nobody uses, so `gc` and `unload` must take all of
 * it back (the ledger check) and the timer must never fire once it is gone.
 */
#include "../../../abi/pbmod.h"

static const struct pb_hub *hub;
static struct pb_module *self;

static const int leaf_ops;

static void
irq(void *arg)
{
}

static void
late(void *arg)
{
	pb_logf(hub, self, PB_LOG_ERR, "timer of an unloaded module ran");
}

static int
tleaf_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	uint64_t phys;
	int v;

	self = m;
	hub = h;
	if (!hub->alloc_pages(self, 16, PB_MEM_ZERO | PB_MEM_DMA32, &phys) ||
	    !hub->alloc(self, 10000))
		return PB_ENOMEM;
	if ((v = hub->irq_alloc(self)) < 0 ||
	    hub->irq_register(self, v, irq, NULL) != PB_OK)
		return PB_EBUSY;
	if (hub->timer_after(self, 1000000000ull, late, NULL) < 0)
		return PB_ENOMEM;
	pb_logf(hub, self, PB_LOG_INFO, "holding 16+3 pages, vector %d", v);
	return hub->publish(self, "tleaf", "leaf0", "kind=leaf size=16", &leaf_ops,
	    NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tleaf_start };

PB_MODULE(.name = "tleaf", .version = "1.0", .desc = "test: ledger",
    .flags = PB_MOD_BOOT, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tleaf", 1, 0) });
