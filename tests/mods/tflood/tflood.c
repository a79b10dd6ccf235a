/*
 * tflood - benchmark module: writes 10,000 lines of text at once through
 * the best-ranked `console` (fbcon on a machine with a display) and logs
 * how long it took, for tests/bench/run.  Loaded by `load tflood`.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"

#define LINES 10000

static struct pb_conn *con;

static int
tflood_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	char line[96];
	uint64_t bytes = 0, t0, t1;

	if (!con)
		return PB_ENOENT;
	t0 = hub->now_ns();
	for (int i = 0; i < LINES; i++) {
		int n = rt_snprintf(line, sizeof(line), "%05d the quick brown "
		    "fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMN\n", i);
		PB_CALL(con, console_ops, write, line, (size_t)n);
		bytes += (uint64_t)n;
	}
	t1 = hub->now_ns();
	pb_logf(hub, m, PB_LOG_INFO, "bench flood: %llu bytes in %llu us "
	    "through %s", (unsigned long long)bytes,
	    (unsigned long long)((t1 - t0) / 1000), con->res);
	return PB_OK;
}

static void
tflood_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == 0)
		con = ev == PB_EV_DISCONNECTED ? NULL : c;
}

static const struct pb_module_ops ops = {
	.start = tflood_start,
	.event = tflood_event,
};

PB_MODULE(.name = "tflood", .version = "1.0", .desc = "bench: 10,000 lines",
    .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE("console", 1, 0, PB_CARD_ONE, PB_AT_START) });
