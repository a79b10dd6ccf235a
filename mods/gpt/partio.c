/*
 * partio.c - a partition's `block` operations, and the way its requests
 * reach the disk.
 *
 * submit checks the request against the partition (lba + count within it,
 * else PB_EINVAL), then hands the disk one of gpt's inner requests with
 * the LBA moved by the partition's first block and the client's segments
 * as they are.  When the pool is empty, or gpt is quiesced for a swap, the
 * request waits in the disk's FIFO (linked through its scratch) and goes
 * when an inner request comes back.  The inner's completion, gpt's own
 * work, copies the status into the client's request and posts the
 * client's `done` with hub->work_post: exactly once, since a request is
 * in the FIFO, on the disk, or given back, never two of these.
 */
#include "gpt.h"

void
io_enqueue(struct gdisk *d, struct block_req *o)
{
	outer_of(o)->next = NULL;
	if (d->tail)
		outer_of(d->tail)->next = o;
	else
		d->head = o;
	d->tail = o;
}

static struct block_req *
dequeue(struct gdisk *d)
{
	struct block_req *o = d->head;

	if (o && !(d->head = outer_of(o)->next))
		d->tail = NULL;
	return o;
}

void
io_complete(struct block_req *o, int status)
{
	o->status = status;
	gpt_hub->work_post(gpt_self, &o->done);
}

/* Hand the disk the client's request o through a free inner request. */
static int
dispatch(struct gdisk *d, struct block_req *o)
{
	struct outer *ou = outer_of(o);
	struct ginner *in = d->free;
	struct block_req *r = &in->req;
	int err;

	d->free = in->next_free;
	r->size = sizeof(*r);
	r->op = o->op;
	r->flags = o->flags;
	r->lba = o->op == BLOCK_FLUSH ? 0 : ou->part->first + o->lba;
	r->count = o->count;
	r->nseg = o->nseg;
	r->segs = o->segs;
	r->status = 0;
	in->outer = o;
	d->busy++;
	err = PB_CALL(d->conn, block_ops, submit, r);
	if (err != PB_OK) {
		in->outer = NULL;
		in->next_free = d->free;
		d->free = in;
		d->busy--;
	}
	return err;
}

/* Send waiting requests while inner requests are free. */
void
io_pump(struct gdisk *d)
{
	struct block_req *o;
	int err;

	while (!gpt_quiesced && d->conn && d->free && (o = dequeue(d)))
		if ((err = dispatch(d, o)) != PB_OK)
			io_complete(o, err);
}

void
io_pump_all(void)
{
	for (unsigned i = 0; i < GPT_DISKS; i++)
		if (gpt_disks[i].used)
			io_pump(&gpt_disks[i]);
}

/* The disk finished an inner request (gpt's work). */
void
io_inner_done(void *arg)
{
	struct ginner *in = arg;
	struct gdisk *d = in->disk;
	struct block_req *o = in->outer;
	int status = in->req.status;

	in->outer = NULL;
	in->next_free = d->free;
	d->free = in;
	d->busy--;
	if (o)
		io_complete(o, status);
	if (status == PB_EMEDIA)
		disk_look_soon(d);	/* the medium changed: read it again */
	if (d->conn)
		io_pump(d);
	else
		disk_free_if_idle(d);
}

/*
 * Give up gp's requests: those waiting leave the FIFO, those on the disk
 * are let go (their completion will find no client).  With a status each
 * is completed with it; with 0 nobody is told (the client went, or a
 * swap handed the requests to the next gpt).
 */
void
io_forget(struct gpart *gp, int status)
{
	struct gdisk *d = gp->disk;
	struct block_req **link = &d->head, *o;

	d->tail = NULL;
	while ((o = *link)) {
		if (outer_of(o)->part != gp) {
			d->tail = o;
			link = &outer_of(o)->next;
			continue;
		}
		*link = outer_of(o)->next;
		if (status)
			io_complete(o, status);
	}
	for (unsigned i = 0; i < d->npool; i++) {
		struct ginner *in = &d->pool[i];

		if (!in->outer || outer_of(in->outer)->part != gp)
			continue;
		o = in->outer;
		in->outer = NULL;
		if (status)
			io_complete(o, status);
	}
}

int
io_in_flight(void)
{
	for (unsigned i = 0; i < GPT_DISKS; i++)
		if (gpt_disks[i].used &&
		    (gpt_disks[i].busy || gpt_disks[i].io_busy))
			return 1;
	return 0;
}

/* ---- the operations ------------------------------------------------ */

/* The disk's limits and flags, with the partition's size. */
static int
part_info(void *ctx, struct block_info *info)
{
	struct gpart *gp = ctx;
	struct gdisk *d = gp->disk;
	struct block_info di;
	uint32_t cap;
	int err;

	if (!info || info->size < sizeof(info->size))
		return PB_EINVAL;
	if (!d || !d->conn)
		return PB_ENODEV;
	memset(&di, 0, sizeof(di));
	di.size = sizeof(di);
	if ((err = PB_CALL(d->conn, block_ops, info, &di)) != PB_OK)
		return err;
	if (di.block_size != d->info.block_size)
		return PB_EMEDIA;	/* not the medium the table came from */
	di.block_count = gp->nblocks;
	cap = info->size < sizeof(di) ? info->size : sizeof(di);
	memcpy(info, &di, cap);
	info->size = cap;
	return PB_OK;
}

static int
part_submit(void *ctx, struct block_req *o)
{
	struct gpart *gp = ctx;
	struct gdisk *d = gp->disk;
	struct outer *ou;

	if (!o || o->size < sizeof(*o))
		return PB_EINVAL;
	if (!d || !d->conn)
		return PB_ENODEV;
	switch (o->op) {
	case BLOCK_READ:
	case BLOCK_WRITE:
		if (o->count == 0 || o->lba >= gp->nblocks ||
		    o->count > gp->nblocks - o->lba)
			return PB_EINVAL;
		break;
	case BLOCK_FLUSH:
		break;
	default:
		return PB_EINVAL;
	}
	ou = outer_of(o);
	ou->next = NULL;
	ou->part = gp;
	if (!gpt_quiesced && !d->head && d->free)
		return dispatch(d, o);
	io_enqueue(d, o);
	return PB_OK;
}

const struct block_ops gpt_part_ops = {
	.info = part_info,
	.submit = part_submit,
};
