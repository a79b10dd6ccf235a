/*
 * tkeysp - test module: a provider with data of its own (tkeysc tries to
 * write it) that writes what its client hands it for a request, and then
 * a word of the client's memory that was not handed (which must fault,
 * charged to tkeysp).  When a client goes, it logs its data, so a test
 * sees it intact.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/rt/rt.h"
#include "tkeysp.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static volatile uint32_t secret = TKEYS_SECRET;

static int
tkeysp_where(void *ctx, struct tkeys_where *w)
{
	(void)ctx;
	w->secret = &secret;
	return PB_OK;
}

static int
tkeysp_serve(void *ctx, struct tkeys_req *req)
{
	(void)ctx;
	req->status = TKEYS_STATUS;
	pb_logf(hub, self, PB_LOG_INFO, "wrote the request at 0x%llx; "
	    "writing the client's other memory at 0x%llx",
	    (unsigned long long)(uintptr_t)req,
	    (unsigned long long)(uintptr_t)req->other);
	*req->other = 0xbad;
	pb_logf(hub, self, PB_LOG_INFO, "wrote the client's other memory");
	return PB_OK;
}

static const struct tkeysp_ops tkeysp_ops = {
	.where = tkeysp_where,
	.serve = tkeysp_serve,
};

static void
tkeysp_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	(void)c;
	(void)req;
	if (ev == PB_EV_CLIENT_GONE)
		pb_logf(hub, self, PB_LOG_INFO, "a client went; my data 0x%x",
		    (unsigned)secret);
}

static int
tkeysp_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	(void)mode;
	self = m;
	hub = h;
	return hub->publish(self, "tkeysp", "k0", "", &tkeysp_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = {
	.start = tkeysp_start,
	.event = tkeysp_event,
};

PB_MODULE(.name = "tkeysp", .version = "1.0",
    .desc = "test: a provider with data of its own and a request to serve",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tkeysp", 1, 0) });
