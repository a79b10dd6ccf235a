/*
 * gone.c - a block client has gone (PB_EV_CLIENT_GONE): unloaded,
 * faulted, or it let go of the connection.
 *
 * Its requests are its memory, which the hub takes back when the event
 * returns.  The hub names the client in conn->client_data (abi/pb.h): its
 * requests are those on this namespace whose `done` it owns.  Those still
 * queued with nothing on the device leave the queue without a word
 * (nothing written into them, nothing posted).  One with a command on
 * the device cannot be taken back before the event returns: the
 * controller moves its data into or out of the client's buffer until it
 * posts the completion, and NVMe's Abort (§5.1) is itself only a request
 * the controller may ignore; only a controller reset ends it for sure,
 * which is no thing to do to every other client for one.  The hub is
 * told so (conn->ops NULL) and keeps the client's memory out of use; the
 * command ends as usual.
 */
#include "nvme.h"

/* ctx as one of c's namespaces, or NULL. */
static struct nvme_ns *
gone_ns(struct nvme *c, void *ctx)
{
	for (unsigned i = 0; i < c->nns; i++)
		if (ctx == (void *)&c->ns[i])
			return &c->ns[i];
	return NULL;
}

/* Does r have a command on the device? */
static int
on_device(const struct nvme *c, const struct block_req *r)
{
	for (unsigned s = 0; s < NVME_SLOTS; s++)
		if (c->slot[s].r == r)
			return 1;
	return 0;
}

/* The queued requests of client on ns with nothing on the device leave
 * the queue; how many. */
static unsigned
gone_unqueue(struct nvme *c, const struct nvme_ns *ns, const void *client)
{
	struct block_req *r = c->head, *prev = NULL, *next;
	unsigned n = 0;

	for (; r; r = next) {
		next = rq_of(r)->next;
		if (r->done.owner != client || rq_of(r)->ns != ns ||
		    on_device(c, r)) {
			prev = r;
			continue;
		}
		if (prev)
			rq_of(prev)->next = next;
		else
			c->head = next;
		if (c->tail == r)
			c->tail = prev;
		rq_of(r)->state = RQ_FREE;
		c->nqueued--;
		n++;
	}
	return n;
}

/* Does a slot hold a command of client's on ns? */
static int
gone_issued(const struct nvme *c, const struct nvme_ns *ns,
    const void *client)
{
	for (unsigned s = 0; s < NVME_SLOTS; s++) {
		struct block_req *r = c->slot[s].r;

		if (r && r->done.owner == client && rq_of(r)->ns == ns)
			return 1;
	}
	return 0;
}

void
io_client_gone(struct nvme *c, struct pb_conn *conn)
{
	struct nvme_ns *ns = conn ? gone_ns(c, conn->ctx) : NULL;
	unsigned n;

	if (!ns || !conn->client_data)
		return;
	n = gone_unqueue(c, ns, conn->client_data);
	if (n)
		nlog(c, PB_LOG_INFO, "%s: a client went: %u of its queued "
		    "requests dropped", ns->name, n);
	if (gone_issued(c, ns, conn->client_data)) {
		nlog(c, PB_LOG_WARN, "%s: a client went while the controller "
		    "runs its command: its memory stays out of use", ns->name);
		conn->ops = NULL;
	}
}
