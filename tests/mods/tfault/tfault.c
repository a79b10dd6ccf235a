/*
 * tfault - test module: faults on purpose.  `mode` in its descriptor-less
 * world is the number of its start: it writes through a null pointer from
 * a timer's work item, so the hub must catch the page fault, blame this
 * module, restart it from its image, and give up after the third fault,
 * while everything else keeps running.
 */
#include "../../../abi/pbmod.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const int fault_ops;

static void
crash(void *arg)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)arg;

	pb_logf(hub, self, PB_LOG_INFO, "about to write to %p", (void *)p);
	*p = 0xdead;
}

static int
tfault_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	if (hub->timer_after(self, 50000000ull, crash, NULL) < 0)
		return PB_ENOMEM;
	return hub->publish(self, "tfault", "f0", "", &fault_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tfault_start };

PB_MODULE(.name = "tfault", .version = "1.0", .desc = "test: faults",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tfault", 1, 0) });
