/*
 * gone.c - a block client has gone (PB_EV_CLIENT_GONE): unloaded,
 * faulted, or it let go of the connection.
 *
 * Its requests are its memory, which the hub takes back when the event
 * returns.  The hub names the client in conn->client_data (abi/pb.h): its
 * requests are those on this LUN whose `done` it owns.  Those still
 * queued leave the queue without a word (nothing written into them,
 * nothing posted), as xhci's forget drops a gone driver's usb requests;
 * so does the one under way while no command of it is on the wire (it
 * waits for a unit becoming ready).  One whose command is on the wire
 * cannot be stopped before the event returns (its data stage moves into
 * or out of the client's buffer, or is about to): the hub is told so
 * (conn->ops NULL) and keeps the client's memory out of use; the
 * command ends as usual.
 */
#include "usbstor.h"

static int
gone_owns(const struct block_req *r, const struct usbstor_lun *l,
    const void *client)
{
	return r->done.owner == client &&
	    rq_of((struct block_req *)r)->lun == (uint32_t)(l - l->dev->lun);
}

/* The queued requests of client on l leave the queue; how many. */
static unsigned
gone_unqueue(struct usbstor_dev *d, const struct usbstor_lun *l,
    const void *client)
{
	struct block_req *r = d->head, *prev = NULL, *next;
	unsigned n = 0;

	for (; r; r = next) {
		next = rq_of(r)->next;
		if (!gone_owns(r, l, client)) {
			prev = r;
			continue;
		}
		if (prev)
			rq_of(prev)->next = next;
		else
			d->head = next;
		if (d->tail == r)
			d->tail = prev;
		d->nqueued--;
		n++;
	}
	return n;
}

/* Is l one of our LUNs, of a stick that has its LUNs? */
static struct usbstor_lun *
gone_lun(void *ctx)
{
	for (unsigned i = 0; i < USBSTOR_DEVS; i++) {
		struct usbstor_dev *d = us.dev[i];

		if (d && d->lun && ctx >= (void *)d->lun &&
		    ctx < (void *)(d->lun + USBSTOR_LUNS) &&
		    ((uintptr_t)ctx - (uintptr_t)d->lun) %
		    sizeof(*d->lun) == 0)
			return ctx;
	}
	return NULL;
}

void
io_client_gone(struct pb_conn *c)
{
	struct usbstor_lun *l = c ? gone_lun(c->ctx) : NULL;
	struct usbstor_dev *d = l ? l->dev : NULL;
	unsigned n;

	if (!d || !c->client_data)
		return;
	n = gone_unqueue(d, l, c->client_data);
	if (d->cur && gone_owns(d->cur, l, c->client_data)) {
		if (bot_busy(d)) {
			slog(PB_LOG_WARN, "block:%s: a client went while its "
			    "request is on the wire: its memory stays out of "
			    "use", l->name);
			c->ops = NULL;
		} else {
			d->cur = NULL;
			d->waiting = 0;
			n++;
			io_kick(d);
		}
	}
	if (n)
		slog(PB_LOG_INFO, "block:%s: a client went: %u of its requests "
		    "dropped", l->name, n);
}
