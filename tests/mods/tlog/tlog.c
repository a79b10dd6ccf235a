/*
 * tlog - test module for the log on the consoles and the screen.
 * boot.cfg `tlog=`:
 *   tick (the default)	a log line "tick N" every `tlog-ms` ms (50), so
 *			lines arrive while a line is being typed;
 *   hubfault		100 ms after its start, queues a work item and then
 *			writes a non-canonical address into the hub's link
 *			in it, once the hub has taken it into its queue (a stray write into memory the hub owns, which
 *			nothing stops until protection domains come): the
 *			hub itself takes the #GP walking its queue, outside
 *			any module's call, a fatal fault it must show on the
 *			screen.  (A bad pointer handed to a service no longer
 *			does: the hub checks it, hub/argcheck.c.)
 */
#include "../../../abi/pbmod.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const int tlog_res_ops;
static unsigned ticks;

static void
tick(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "tick %u", ++ticks);
}

static struct pb_work stray, other;

static void
nothing(void *arg)
{
	(void)arg;
}

/* A module's post waits in a ring until the hub takes it into its queue
 * (hub/work.c); cancelling another item makes it take it now, so the
 * link written after is the one the hub walks. */
static void
hub_fault(void *arg)
{
	(void)arg;
	hub->work_init(self, &stray, nothing, NULL);
	hub->work_init(self, &other, nothing, NULL);
	hub->work_post(self, &stray);
	hub->work_cancel(self, &other);
	stray.next = (struct pb_work *)0x8000000000000000ull;
}

static int
tlog_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char v[16];
	uint64_t ms = 50;

	(void)mode;
	self = m;
	hub = h;
	ticks = 0;
	if (!hub->publish(self, "tlog", "t0", "", &tlog_res_ops, NULL))
		return PB_ENOMEM;
	if (pb_setting(hub, "tlog", v, sizeof(v)) &&
	    strcmp(v, "hubfault") == 0)
		return hub->timer_after(self, 100000000ull, hub_fault, NULL) > 0 ?
		    PB_OK : PB_ENOMEM;
	if (pb_setting(hub, "tlog-ms", v, sizeof(v)))
		ms = rt_strtou(v, NULL, 10);
	if (hub->size < offsetof(struct pb_hub, timer_every) + sizeof(void *))
		return PB_ENOTSUP;
	return hub->timer_every(self, (ms ? ms : 50) * 1000000ull, tick,
	    NULL) > 0 ? PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tlog_start };

PB_MODULE(.name = "tlog", .version = "1.0",
    .desc = "test: log lines on a timer, or a fault of the hub",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tlog", 1, 0) });
