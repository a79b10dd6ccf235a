/*
 * tkeysc - test module: a client of tkeysp that does, in start(), what
 * boot.cfg `tkeys=WHAT` says:
 *
 *   peer	ask tkeysp where its data is and write it: another module's
 *		memory, read-only to tkeysc, so the write faults, charged
 *		to tkeysc (restarted twice, then stopped)
 *   grant	hand tkeysp a request in a page of its own heap and point
 *		the request at a word of its .data: tkeysp may write the
 *		request (granted) but not the word, so its call faults,
 *		charged to tkeysp, and returns PB_EFAULT here; it logs
 *		what it finds in both
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/rt/rt.h"
#include "../tkeysp/tkeysp.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static volatile uint32_t other = TKEYS_OTHER;
static struct pb_conn *con;		/* to tkeysp, before start */

static void
write_peer(struct pb_conn *c)
{
	struct tkeys_where w = { sizeof(w), 0, NULL };
	int r = PB_CALL(c, tkeysp_ops, where, &w);

	if (r != PB_OK || !w.secret) {
		pb_logf(hub, self, PB_LOG_ERR, "where: %d", r);
		return;
	}
	pb_logf(hub, self, PB_LOG_INFO, "writing tkeysp's data at 0x%llx",
	    (unsigned long long)(uintptr_t)w.secret);
	*w.secret = 0xbad;
	pb_logf(hub, self, PB_LOG_INFO, "wrote tkeysp's data");
}

static int
hand_request(struct pb_conn *c)
{
	struct tkeys_req *req = hub->alloc_pages(self, 1, PB_MEM_ZERO, NULL);
	int r;

	if (!req)
		return PB_ENOMEM;
	req->size = sizeof(*req);
	req->status = -1;
	req->other = &other;
	r = PB_CALL(c, tkeysp_ops, serve, req);
	pb_logf(hub, self, PB_LOG_INFO, "serve returned %d; request status "
	    "%d; my other memory 0x%x", r, (int)req->status,
	    (unsigned)other);
	return PB_OK;
}

static int
tkeysc_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct pb_conn *c;
	char what[16];

	(void)mode;
	self = m;
	hub = h;
	if (!pb_setting(hub, "tkeys", what, sizeof(what)))
		rt_strlcpy(what, "peer", sizeof(what));
	if (!(c = con))
		return PB_ENODEV;
	if (!strcmp(what, "peer"))
		write_peer(c);
	else if (!strcmp(what, "grant"))
		return hand_request(c);
	return PB_OK;
}

static void
tkeysc_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	if (req == 0 && ev == PB_EV_CONNECTED)
		con = c;
}

static const struct pb_module_ops ops = {
	.start = tkeysc_start,
	.event = tkeysc_event,
};

PB_MODULE(.name = "tkeysc", .version = "1.0",
    .desc = "test: writes another module's memory, hands a request",
    .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE("tkeysp", 1, 0, PB_CARD_ONE, PB_AT_START) });
