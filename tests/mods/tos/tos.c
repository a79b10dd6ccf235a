/*
 * tos - test module: provides `testos`, the boot target of the hub's tests.
 * Requires one `tcon` at start, and an optional `tnothing` nobody provides
 * (which must not block it).  Writes a line when it starts and whenever
 * its tcon connection is rebound, naming the resource it reaches.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *con;
static unsigned rebinds;

static void
say(const char *what)
{
	char line[96];

	rt_snprintf(line, sizeof(line), "tos: %s via %s\n", what, con->res);
	PB_CALL(con, console_ops, write, line, strlen(line));
}

static int
tos_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	if (!con)
		return PB_ENOENT;
	say("hello");
	return hub->publish(self, "testos", "tos0", "test=1", &con, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static void
tos_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	char what[32];

	if (req != 0)
		return;
	if (ev == PB_EV_CONNECTED)
		con = c;
	else if (ev == PB_EV_DISCONNECTED)
		con = NULL;
	else if (ev == PB_EV_REBOUND) {
		rt_snprintf(what, sizeof(what), "rebound #%u", ++rebinds);
		say(what);
	}
}

static const struct pb_module_ops ops = {
	.start = tos_start,
	.event = tos_event,
};

PB_MODULE(.name = "tos", .version = "1.0", .desc = "test: the os target",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("testos", 1, 0) },
    .nrequires = 2,
    .requires = { PB_REQUIRE("tcon", 1, 0, PB_CARD_ONE, PB_AT_START),
	PB_REQUIRE("tnothing", 1, 0, PB_CARD_OPTIONAL, PB_AT_START) });
