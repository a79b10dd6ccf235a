/*
 * twatchfw - test module: starts by itself at boot, before the takeover
 * (AUTOSTART, no hardware), and its start() never returns.  Only the
 * firmware's timer event can end it then (hub/x86_64/fwwatch.c): the hub
 * must blame it, restart it twice, give up, and take over as usual.
 */
#include "../../../abi/pbmod.h"

static int
twatchfw_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	pb_logf(h, m, PB_LOG_INFO, "hanging in start");
	for (;;)
		__asm__ volatile("pause");
}

static const struct pb_module_ops ops = { .start = twatchfw_start };

PB_MODULE(.name = "twatchfw", .version = "1.0",
    .desc = "test: start() never returns, before the takeover",
    .flags = PB_MOD_AUTOSTART, .ops = &ops);
