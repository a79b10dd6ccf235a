/*
 * queue.c - block_ops over the firmware: info, submit, and the queue.
 *
 * submit checks a request against the disk and abi/block.h's rules, then
 * queues it (it is ours until it completes); the work item `serve` takes
 * one request at a time, round robin over the disks, runs it through the
 * firmware's synchronous Block I/O and posts the client's `done` with
 * the status set, exactly once.  Nothing is dispatched while quiet
 * (quiesced, or in standby for a swap) or parked (released: the firmware
 * may be gone), but requests are still taken and queued, to be handed
 * over by export or served after resume/activate.
 */
#include "efi-block.h"

static int
efiblk_info(void *ctx, struct block_info *info)
{
	const struct efiblk_disk *d = ctx;
	struct block_info bi;
	size_t n;

	if (!info || info->size < sizeof(uint32_t))
		return PB_EINVAL;
	bi = (struct block_info){
		.block_size = d->fw.block_size,
		.block_count = d->block_count,
		.max_transfer = EFIBLK_MAX_TRANSFER,
		.max_segments = EFIBLK_MAX_SEGS,
		.queue_depth = 1,	/* Block I/O runs one request at a time */
		.align = d->fw.io_align > 1 ? d->fw.io_align : 1,
		/* FUA: a write is followed by FlushBlocks when it may sit
		 * in a write cache, and reaches the medium anyway if not. */
		.flags = BLOCK_FUA | (d->fw.read_only ? BLOCK_RO : 0) |
		    (d->fw.removable ? BLOCK_REMOVABLE : 0) |
		    (d->fw.write_caching ? BLOCK_FLUSHES : 0),
		.dma_limit = ~0ull,	/* the firmware copies or maps itself */
		.media_id = d->fw.media_id,
	};
	n = info->size < sizeof(bi) ? info->size : sizeof(bi);
	bi.size = (uint32_t)n;
	memcpy(info, &bi, n);
	return PB_OK;
}

/* The segments of a read or write: whole blocks, as many as count. */
static int
check_segments(const struct efiblk_disk *d, const struct block_req *req)
{
	uint64_t bytes = 0;

	if (!req->nseg || req->nseg > EFIBLK_MAX_SEGS || !req->segs)
		return PB_EINVAL;
	for (unsigned i = 0; i < req->nseg; i++) {
		const struct block_seg *s = &req->segs[i];

		if (!s->va || !s->len || s->len % d->fw.block_size)
			return PB_EINVAL;
		bytes += s->len;
	}
	return bytes == (uint64_t)req->count * d->fw.block_size ? PB_OK :
	    PB_EINVAL;
}

/* May d take req?  PB_OK, or why not (nothing is kept). */
int
efiblk_check(const struct efiblk_disk *d, const struct block_req *req)
{
	if (!req || req->size < sizeof(*req) || (req->flags & ~BLOCK_REQ_FUA))
		return PB_EINVAL;
	switch (req->op) {
	case BLOCK_FLUSH:
		return req->count == 0 ? PB_OK : PB_EINVAL;
	case BLOCK_WRITE:
		if (d->fw.read_only)
			return PB_EROFS;
		/* fall through */
	case BLOCK_READ:
		if (!d->fw.media_present)
			return PB_EMEDIA;
		if (!req->count || req->lba >= d->block_count ||
		    req->count > d->block_count - req->lba ||
		    (uint64_t)req->count * d->fw.block_size > EFIBLK_MAX_TRANSFER)
			return PB_EINVAL;
		return check_segments(d, req);
	}
	return PB_EINVAL;
}

/* req at the end of the chain head..tail, as a request of disk `disk`. */
void
efiblk_chain(struct block_req **head, struct block_req **tail,
    struct block_req *req, uint32_t disk)
{
	*efiblk_sc(req) = (struct efiblk_scratch){ .next = NULL, .disk = disk };
	if (*tail)
		efiblk_sc(*tail)->next = req;
	else
		*head = req;
	*tail = req;
}

void
efiblk_enqueue(struct efiblk_disk *d, struct block_req *req)
{
	efiblk_chain(&d->head, &d->tail, req, (uint32_t)(d - efb.disk));
}

/* A chain first..last (linked through their scratch) before the queue. */
void
efiblk_push_front(struct efiblk_disk *d, struct block_req *first,
    struct block_req *last)
{
	if (!first)
		return;
	efiblk_sc(last)->next = d->head;
	d->head = first;
	if (!d->tail)
		d->tail = last;
}

unsigned
efiblk_queued(const struct efiblk_disk *d)
{
	unsigned n = 0;

	for (struct block_req *r = d->head; r; r = efiblk_sc(r)->next)
		n++;
	return n;
}

static int
efiblk_submit(void *ctx, struct block_req *req)
{
	struct efiblk_disk *d = ctx;
	int r = efiblk_check(d, req);

	if (r != PB_OK)
		return r;
	efiblk_enqueue(d, req);
	efiblk_kick();
	return PB_OK;
}

const struct block_ops efiblk_block_ops = {
	.info = efiblk_info,		/* EFI_BLOCK_IO_MEDIA as told at start */
	.submit = efiblk_submit,	/* queued; served one per work item */
};

/* Serve what is queued, if we may call the firmware. */
void
efiblk_kick(void)
{
	if (!efb.quiet && !efb.parked && efb.fw)
		efb.hub->work_post(efb.self, &efb.serve);
}

/* The oldest request of the next disk with one, taken off its queue. */
static struct block_req *
take_next(struct efiblk_disk **dp)
{
	for (unsigned k = 0; k < efb.ndisks; k++) {
		unsigned i = (efb.next + k) % efb.ndisks;
		struct efiblk_disk *d = &efb.disk[i];
		struct block_req *req = d->head;

		if (!req)
			continue;
		d->head = efiblk_sc(req)->next;
		if (!d->head)
			d->tail = NULL;
		efb.next = (i + 1) % efb.ndisks;
		*dp = d;
		return req;
	}
	return NULL;
}

/* The medium changed: take the disk as the firmware describes it now. */
static void
refresh(struct efiblk_disk *d)
{
	struct firmware_disk fw = { .size = sizeof(fw) };
	char props[EFIBLK_PROPS];
	const char *why = "";

	if (PB_CALL(efb.fw, firmware_ops, disk_info, d->fw_index, &fw) !=
	    PB_OK || !efiblk_geometry_ok(&fw, &why)) {
		d->fw.media_present = 0;
		d->block_count = 0;	/* every read or write is refused */
		pb_logf(efb.hub, efb.self, PB_LOG_INFO, "block:%s: medium "
		    "changed: %s", d->name, why[0] ? why : "gone");
		return;
	}
	rt_strlcpy(fw.path, d->fw.path, sizeof(fw.path));	/* identity */
	fw.model[sizeof(fw.model) - 1] = fw.serial[sizeof(fw.serial) - 1] = '\0';
	d->fw = fw;
	d->block_count = fw.last_block + 1;
	efiblk_disk_props(d, props, sizeof(props));
	efb.hub->set_props(efb.self, d->res, props);
	pb_logf(efb.hub, efb.self, PB_LOG_INFO, "block:%s: medium changed: "
	    "%llu blocks of %u bytes", d->name,
	    (unsigned long long)d->block_count, fw.block_size);
}

/* A firmware error as the request's status: the medium changed, it is
 * read-only, or else the device failed (PB_EIO). */
static int
status_of(struct efiblk_disk *d, int r)
{
	if (r == PB_EMEDIA) {
		refresh(d);
		return PB_EMEDIA;
	}
	return r == PB_EROFS ? PB_EROFS : PB_EIO;
}

static int
run(struct efiblk_disk *d, const struct block_req *req)
{
	int write = req->op == BLOCK_WRITE;
	uint64_t lba = req->lba;
	int r;

	if (req->op == BLOCK_FLUSH)
		return (r = PB_CALL(efb.fw, firmware_ops, disk_flush,
		    d->fw_index)) == PB_OK ? PB_OK : status_of(d, r);
	for (unsigned i = 0; i < req->nseg; i++) {
		const struct block_seg *s = &req->segs[i];

		r = PB_CALL(efb.fw, firmware_ops, disk_io, d->fw_index,
		    d->fw.media_id, write, lba, s->va, s->len);
		if (r != PB_OK)
			return status_of(d, r);
		lba += s->len / d->fw.block_size;
	}
	if (write && (req->flags & BLOCK_REQ_FUA) && d->fw.write_caching &&
	    (r = PB_CALL(efb.fw, firmware_ops, disk_flush, d->fw_index)) !=
	    PB_OK)
		return status_of(d, r);
	return PB_OK;
}

static void
log_failure(struct efiblk_disk *d, const struct block_req *req)
{
	static const char *const ops[] = { "?", "read", "write", "flush" };

	if (++d->errors > EFIBLK_ERRORS_LOGGED)
		return;
	pb_logf(efb.hub, efb.self, PB_LOG_ERR, "block:%s: %s of %u blocks at "
	    "%llu failed (%d)%s", d->name, ops[req->op <= 3 ? req->op : 0],
	    req->count, (unsigned long long)req->lba, (int)req->status,
	    d->errors == EFIBLK_ERRORS_LOGGED ? "; further failures are not "
	    "logged" : "");
}

/* The work item: one request through the firmware, then the next item. */
void
efiblk_serve(void *arg)
{
	struct efiblk_disk *d;
	struct block_req *req;

	(void)arg;
	if (efb.quiet || efb.parked || !efb.fw || !(req = take_next(&d)))
		return;
	req->status = run(d, req);
	if (req->status != PB_OK)
		log_failure(d, req);
	efb.hub->work_post(efb.self, &req->done);	/* the client's now */
	for (unsigned i = 0; i < efb.ndisks; i++)
		if (efb.disk[i].head) {
			efiblk_kick();
			break;
		}
}

/* Complete everything queued with `status` (stop): how many. */
unsigned
efiblk_cancel_all(int status)
{
	unsigned n = 0;
	struct efiblk_disk *d;
	struct block_req *req;

	while ((req = take_next(&d))) {
		req->status = status;
		efb.hub->work_post(efb.self, &req->done);
		n++;
	}
	return n;
}
