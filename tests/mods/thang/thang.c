/*
 * thang - test module: hangs on purpose.  A timer's work item spins and
 * never returns (or, with thang=start in boot.cfg, start() itself), so
 * the hub's watchdog must cut it off at the next interrupt, blame this
 * module, restart it from its image, and give up after the third hang,
 * while everything else keeps running.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/rt/rt.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const int hang_ops;

static void
spin(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "spinning forever");
	for (;;)
		__asm__ volatile("pause");
}

static int
thang_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char where[16];

	self = m;
	hub = h;
	if (pb_setting(hub, "thang", where, sizeof(where)) &&
	    !strcmp(where, "start"))
		spin(NULL);
	if (hub->timer_after(self, 50000000ull, spin, NULL) < 0)
		return PB_ENOMEM;
	return hub->publish(self, "thang", "h0", "", &hang_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = thang_start };

PB_MODULE(.name = "thang", .version = "1.0", .desc = "test: never returns",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("thang", 1, 0) });
