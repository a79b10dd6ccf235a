/*
 * tlog - test module for the log on the consoles and the screen.
 * boot.cfg `tlog=`:
 *   tick (the default)	a log line "tick N" every `tlog-ms` ms (50), so
 *			lines arrive while a line is being typed;
 *   overwrite		100 ms after its start, writes over its own work
 *			items, as a stray write would: a non-canonical
 *			address into the link and the owner of one the hub
 *			has queued (the hub keeps its queue in its own
 *			memory, hub/workq.c: it must not follow them, and
 *			the item runs as tlog's), and when it runs, over the
 *			owner of another, which it posts (the hub must
 *			refuse it and charge tlog).  Each restarted tlog
 *			does it again, and the third is left stopped.
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
static struct pb_module *const wild = (struct pb_module *)
    0x8000000000000000ull;

static void
nothing(void *arg)
{
	(void)arg;
}

/* The queued item, written over, runs as tlog's; then the other's owner
 * is written over, and it is posted. */
static void
queued_ran(void *arg)
{
	(void)arg;
	pb_logf(hub, self, PB_LOG_INFO, "the item written over ran");
	other.owner = wild;
	hub->work_post(self, &other);
}

/* A module's post waits in a ring until the hub takes it into its queue
 * (hub/work.c); cancelling another item makes it take it now, so what is
 * written after is written over a queued item. */
static void
overwrite(void *arg)
{
	(void)arg;
	hub->work_init(self, &stray, queued_ran, NULL);
	hub->work_init(self, &other, nothing, NULL);
	hub->work_post(self, &stray);
	hub->work_cancel(self, &other);
	stray.next = (struct pb_work *)wild;
	stray.owner = wild;
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
	    strcmp(v, "overwrite") == 0)
		return hub->timer_after(self, 100000000ull, overwrite, NULL) >
		    0 ? PB_OK : PB_ENOMEM;
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
