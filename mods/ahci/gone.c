/*
 * gone.c - a block client has gone (PB_EV_CLIENT_GONE): unloaded,
 * faulted, or it let go of the connection.
 *
 * Its requests are its memory, which the hub takes back when the event
 * returns.  The hub names the client in conn->client_data (abi/pb.h): its
 * requests are those on this port whose `done` it owns.  Those still
 * queued leave the queue without a word (nothing written into them,
 * nothing posted).  One in a command slot cannot be taken back before
 * the event returns: the HBA moves its data into or out of the client's
 * buffer until the device ends the command, and stopping the port to
 * end it sooner takes up to 500 ms (AHCI 1.3.1 §10.1.2, PxCMD.CR), far
 * longer than an entry point may wait.  The hub is told so (conn->ops
 * NULL) and keeps the client's memory out of use; the command ends as
 * usual.
 */
#include "ahci.h"

/* ctx as one of a's ports, or NULL. */
static struct ahci_port *
gone_port(struct ahci *a, void *ctx)
{
	for (unsigned i = 0; a->port && i < a->nports; i++)
		if (ctx == (void *)&a->port[i])
			return &a->port[i];
	return NULL;
}

/* The queued requests whose done client owns leave the queue; how many. */
static unsigned
gone_unqueue(struct ahci_port *p, const void *client)
{
	struct block_req *r = p->head, *prev = NULL, *next;
	unsigned n = 0;

	for (; r; r = next) {
		next = rq_of(r)->next;
		if (r->done.owner != client) {
			prev = r;
			continue;
		}
		if (prev)
			rq_of(prev)->next = next;
		else
			p->head = next;
		if (p->tail == r)
			p->tail = prev;
		if (rq_of(r)->suspect && p->careful)
			p->careful--;	/* it runs alone no more */
		p->nqueued--;
		n++;
	}
	return n;
}

/* Does a slot hold a command of client's? */
static int
gone_issued(const struct ahci_port *p, const void *client)
{
	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++)
		if ((p->issued & (1u << s)) && p->slot[s] &&
		    p->slot[s]->done.owner == client)
			return 1;
	return 0;
}

void
io_client_gone(struct ahci *a, struct pb_conn *c)
{
	struct ahci_port *p = c ? gone_port(a, c->ctx) : NULL;
	unsigned n;

	if (!p || !c->client_data)
		return;
	n = gone_unqueue(p, c->client_data);
	if (n)
		alog(a, PB_LOG_INFO, "port %u: a client went: %u of its "
		    "queued requests dropped", p->no, n);
	if (gone_issued(p, c->client_data)) {
		alog(a, PB_LOG_WARN, "port %u: a client went while the disk "
		    "runs its command: its memory stays out of use", p->no);
		c->ops = NULL;
	}
}
