/*
 * tbind - test module: loaded by a bind rule, never by a requirement.
 * When a `tleaf` resource with kind=leaf appears, the hub loads this module
 * and connects it to that resource (req PB_REQ_BIND) before its start,
 * which logs the resource's name.
 */
#include "../../../abi/pbmod.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static const char *bound;

static void
tbind_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req != PB_REQ_BIND)
		return;
	if (ev == PB_EV_CONNECTED)
		bound = c->res;		/* before start: hub not known yet */
}

static int
tbind_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	pb_logf(hub, self, PB_LOG_INFO, "started for %s",
	    bound ? bound : "nothing yet");
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tbind_start,
	.event = tbind_event,
};

PB_MODULE(.name = "tbind", .version = "1.0", .desc = "test: a bind rule",
    .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND("tleaf", "kind=leaf size=1*") });
