/*
 * ttick - test module: a periodic timer every 20 ms, so the timer's alarm
 * must interrupt (an idle system takes no timer interrupts at all: the
 * hub sleeps until the next deadline, and there is none).  It counts its
 * ticks in its resource's properties.
 */
#include "../../../abi/pbmod.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_resource *res;
static const int tick_ops;
static unsigned ticks;

static void
tick(void *arg)
{
	char props[32];

	(void)arg;
	rt_snprintf(props, sizeof(props), "ticks=%u", ++ticks);
	hub->set_props(self, res, props);
}

static int
ttick_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	if (hub->size < offsetof(struct pb_hub, timer_every) + sizeof(void *))
		return PB_ENOTSUP;
	if (!(res = hub->publish(self, "ttick", "t0", "ticks=0", &tick_ops,
	    NULL)))
		return PB_ENOMEM;
	return hub->timer_every(self, 20000000ull, tick, NULL) > 0 ? PB_OK :
	    PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = ttick_start };

PB_MODULE(.name = "ttick", .version = "1.0", .desc = "test: ticks every 20 ms",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("ttick", 1, 0) });
