/*
 * io.c - `block` 1.0 on a port: requests checked, queued in submission
 * order, put into command slots, finished, retried, failed.
 *
 * A request lives in the port's queue (linked through its scratch, in
 * `seq` order) until a slot takes it: any free tag below the queue depth
 * for READ/WRITE FPDMA QUEUED when the device does NCQ (never beside a
 * non-queued command, SATA 3.x §13.6.1), else one command at a time.
 * A slot is finished when its PxCI bit (non-queued) or PxSACT bit (NCQ)
 * clears; the request's status is set and its `done` posted, once.
 *
 * Errors (§6.2.2): a fatal PxIS bit, or an NCQ error the device reported
 * with ERR in the task file, stops the port.  Finished slots complete;
 * the rest go back to the queue in order and the port is recovered.
 * When one command was in flight it is the culprit and its tries count;
 * when several were, all are suspects and are issued one at a time until
 * each has run alone, so a bad sector fails only the request that reads
 * it (PB_EIO after AHCI_TRIES) and the others carry on.  A command that
 * does not finish in T_IO is handled the same way, with COMRESET.
 */
#include "ahci.h"

/* --- block_ops ----------------------------------------------------------- */

static uint32_t
max_transfer(const struct ahci_disk *d)
{
	uint64_t dev = (uint64_t)(d->kind == DISK_ATAPI ? ATAPI_MAX_BLOCKS :
	    ATA_MAX_SECTORS) * d->block_size;

	return dev < AHCI_MAX_XFER ? (uint32_t)dev : AHCI_MAX_XFER;
}

static int
io_info(void *ctx, struct block_info *info)
{
	struct ahci_port *p = ctx;
	const struct ahci_disk *d = &p->disk;
	struct block_info bi;
	uint32_t size;

	if (!info || info->size < sizeof(uint32_t))
		return PB_EINVAL;
	if (!p->res)
		return PB_ENODEV;
	if (!disk_known(p))
		return PB_EAGAIN;	/* taken over in a swap, still probing */
	size = info->size < sizeof(bi) ? info->size : (uint32_t)sizeof(bi);
	bi = (struct block_info){
		.size = size,
		.block_size = d->block_size,
		.block_count = d->block_count,
		.max_transfer = max_transfer(d),
		.max_segments = AHCI_MAX_SEGS,
		.queue_depth = d->ncq_depth ? d->ncq_depth : 1,
		.align = AHCI_ALIGN,
		.flags = d->flags,
		.seg_boundary = 0,
		.dma_limit = p->a->dma_limit,
		.media_id = 1,
	};
	memcpy(info, &bi, size);
	return PB_OK;
}

/* The segments: in number, each aligned and whole blocks, adding up. */
static int
check_segments(const struct ahci_port *p, const struct block_req *r)
{
	uint64_t sum = 0;

	if (!r->segs || r->nseg == 0 || r->nseg > AHCI_MAX_SEGS)
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];

		if (!s->len || s->len % p->disk.block_size ||
		    ((uintptr_t)s->va & (AHCI_ALIGN - 1)) ||
		    (s->bus & (AHCI_ALIGN - 1)) || (!s->va && !s->bus))
			return PB_EINVAL;
		sum += s->len;
	}
	return sum == (uint64_t)r->count * p->disk.block_size ? PB_OK :
	    PB_EINVAL;
}

/*
 * Can the port run r?  What the request says alone is checked always;
 * its place on the disk only once the disk is known (a request handed
 * over in a swap may come before the probe ends: dispatch checks again).
 */
int
io_check(struct ahci_port *p, const struct block_req *r)
{
	const struct ahci_disk *d = &p->disk;
	unsigned nprd;
	int err;

	if (!r || r->size < sizeof(struct block_req))
		return PB_EINVAL;
	if (!p->res)
		return PB_ENODEV;
	if (r->op == BLOCK_FLUSH)
		return r->count || r->nseg ? PB_EINVAL : PB_OK;
	if (r->op != BLOCK_READ && r->op != BLOCK_WRITE)
		return PB_ENOTSUP;
	if (!r->count || (r->flags & ~BLOCK_REQ_FUA))
		return PB_EINVAL;
	if (!disk_known(p))
		return PB_OK;
	if (r->op == BLOCK_WRITE && (d->flags & BLOCK_RO))
		return PB_EROFS;
	if ((r->flags & BLOCK_REQ_FUA) &&
	    (r->op != BLOCK_WRITE || !(d->flags & BLOCK_FUA)))
		return PB_EINVAL;
	if (r->lba >= d->block_count || r->count > d->block_count - r->lba ||
	    (uint64_t)r->count * d->block_size > max_transfer(d))
		return PB_EINVAL;
	if ((err = check_segments(p, r)) != PB_OK)
		return err;
	return cmd_prd_count(p->a, r, &nprd);
}

/* Does r need the device at all?  A flush of a disk without a write
 * cache command, or of a read-only one, is done at once. */
static int
flush_is_noop(const struct ahci_port *p, const struct block_req *r)
{
	return r->op == BLOCK_FLUSH && disk_known(p) &&
	    (p->disk.kind == DISK_ATAPI || !(p->disk.flags & BLOCK_FLUSHES));
}

static void
complete(struct ahci_port *p, struct block_req *r, int status)
{
	struct ahci_rq *q = rq_of(r);

	if (q->suspect && p->careful)
		p->careful--;
	q->state = RQ_FREE;
	q->next = NULL;
	ahci_post_done(p->a, r, status);
}

/* A checked request is ours: queued (or done at once, a flush that
 * needs no device). */
void
io_take(struct ahci_port *p, struct block_req *r)
{
	if (flush_is_noop(p, r)) {
		ahci_post_done(p->a, r, PB_OK);
		return;
	}
	io_queue(p, r);
	rq_of(r)->checked = disk_known(p);
}

static int
io_submit(void *ctx, struct block_req *r)
{
	struct ahci_port *p = ctx;
	int err;

	if ((err = io_check(p, r)) != PB_OK)
		return err;
	io_take(p, r);
	io_dispatch(p);
	return PB_OK;
}

const struct block_ops ahci_block_ops = {
	.info = io_info,	/* PB_EAGAIN while a handed-over disk probes */
	.submit = io_submit,	/* queued; done posted once, by work */
};

/* --- the queue --------------------------------------------------------- */

/* Into the queue by seq: a request put back after an error keeps its
 * place before those submitted after it. */
void
io_requeue(struct ahci_port *p, struct block_req *r)
{
	struct ahci_rq *q = rq_of(r);
	struct block_req **at = &p->head;

	while (*at && (int32_t)(rq_of(*at)->seq - q->seq) < 0)
		at = &rq_of(*at)->next;
	q->next = *at;
	q->state = RQ_QUEUED;
	*at = r;
	if (!q->next)
		p->tail = r;
	p->nqueued++;
}

void
io_queue(struct ahci_port *p, struct block_req *r)
{
	struct ahci_rq *q = rq_of(r);

	memset(q, 0, sizeof(*q));
	q->owner = p->a;
	q->seq = ++p->a->seq;
	q->state = RQ_QUEUED;
	if (p->tail)
		rq_of(p->tail)->next = r;
	else
		p->head = r;
	p->tail = r;
	p->nqueued++;
}

/* At the head of the queue (a request given back: the oldest). */
void
io_queue_first(struct ahci_port *p, struct block_req *r)
{
	struct ahci_rq *q = rq_of(r);
	uint32_t seq = p->head ? rq_of(p->head)->seq - 1 : ++p->a->seq;

	memset(q, 0, sizeof(*q));
	q->owner = p->a;
	q->seq = seq;
	q->state = RQ_QUEUED;
	q->next = p->head;
	p->head = r;
	if (!p->tail)
		p->tail = r;
	p->nqueued++;
}

static struct block_req *
pop(struct ahci_port *p)
{
	struct block_req *r = p->head;

	if (!r)
		return NULL;
	p->head = rq_of(r)->next;
	if (!p->head)
		p->tail = NULL;
	rq_of(r)->next = NULL;
	p->nqueued--;
	return r;
}

/* A free slot for r, or -1. */
static int
free_slot(const struct ahci_port *p, int ncq)
{
	unsigned n = ncq ? p->disk.ncq_depth : 1;

	if (p->careful && p->issued)
		return -1;		/* suspects run alone */
	if (ncq ? (p->issued & ~p->ncq) != 0 : p->issued != 0)
		return -1;		/* queued and not beside each other */
	for (unsigned s = 0; s < n && s < p->a->nslots; s++)
		if (!(p->issued & (1u << s)))
			return (int)s;
	return -1;
}

/* Put queued requests into free slots while the port may run them. */
void
io_dispatch(struct ahci_port *p)
{
	struct ahci *a = p->a;
	struct block_req *r;
	int slot, err;

	if (a->quiesced || a->released || p->state != PS_READY)
		return;
	while ((r = p->head)) {
		int ncq = p->disk.ncq_depth && r->op != BLOCK_FLUSH;

		if ((slot = free_slot(p, ncq)) < 0)
			break;
		pop(p);
		if ((!rq_of(r)->checked && (err = io_check(p, r)) != PB_OK) ||
		    (!flush_is_noop(p, r) &&
		    (err = cmd_build_io(p, (unsigned)slot, r)) != PB_OK)) {
			complete(p, r, err);
			continue;
		}
		if (flush_is_noop(p, r)) {
			complete(p, r, PB_OK);
			continue;
		}
		p->slot[slot] = r;
		rq_of(r)->state = RQ_ISSUED;
		rq_of(r)->slot = (uint8_t)slot;
		rq_of(r)->deadline = ahci_now(a) + T_IO;
		cmd_issue(p, (unsigned)slot, ncq);
		tick_arm(a, rq_of(r)->deadline);
	}
}

/* --- completion -------------------------------------------------------- */

static void
finish_slot(struct ahci_port *p, unsigned s, int status)
{
	uint32_t bit = 1u << s;
	struct block_req *r = p->slot[s];

	p->issued &= ~bit;
	p->ncq &= ~bit;
	if (p->internal & bit) {
		port_internal_done(p, status);
		return;
	}
	p->slot[s] = NULL;
	if (r)
		complete(p, r, status);
}

/* Did the device stop on an error?  NCQ errors may come only as ERR in
 * the task file with a set-device-bits FIS (QEMU raises no TFES then). */
static int
port_error(const struct ahci_port *p, uint32_t is, uint32_t tfd)
{
	if (is & PXIS_FATAL)
		return 1;
	return (is & PXIS_SDBS) && p->ncq && (tfd & TFD_ERR);
}

/* The sense key an ATAPI device reports in the Error register's upper
 * nibble (PxTFD bits 15:12, ATA8-ACS PACKET "Normal outputs"): 2 NOT
 * READY, 6 UNIT ATTENTION (SPC-4 §4.5.6). */
#define SENSE_NOT_READY 0x2
#define SENSE_UNIT_ATTENTION 0x6

static int
atapi_not_ready(const struct ahci_port *p, uint32_t tfd)
{
	uint32_t key = (tfd >> 12) & 0xf;

	return p->disk.kind == DISK_ATAPI && (tfd & TFD_ERR) &&
	    (key == SENSE_NOT_READY || key == SENSE_UNIT_ATTENTION);
}

/* The PxIS bits the handler took (or polling read): finish what the
 * HBA finished, and on an error recover the port. */
void
io_scan(struct ahci_port *p, uint32_t is)
{
	uint32_t ci = px_rd(p, PX_CI), sact = px_rd(p, PX_SACT);
	uint32_t tfd = px_rd(p, PX_TFD), stray;
	int err = port_error(p, is, tfd);

	mmio_rmb();		/* PxCI/PxSACT before the results in memory */
	stray = (ci | sact) & ~p->issued;
	if (stray && !p->never_issued_logged) {
		p->never_issued_logged = 1;
		alog(p->a, PB_LOG_WARN, "port %u: slots 0x%08x busy that we "
		    "never issued (PxCI 0x%08x PxSACT 0x%08x): ignored", p->no,
		    stray, ci, sact);
	}
	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++) {
		uint32_t bit = 1u << s;

		if (!(p->issued & bit) || ((p->ncq & bit) ? sact : ci) & bit)
			continue;
		finish_slot(p, s, PB_OK);
	}
	if (!err || (!p->issued && !(is & PXIS_FATAL)))
		return;
	/* An ATAPI drive's probe meets NOT READY (no disc, or spinning up)
	 * and UNIT ATTENTION (after a reset) as a matter of course: the
	 * probe retries, then says so once, with no error lines. */
	if ((p->issued & p->internal) && atapi_not_ready(p, tfd)) {
		finish_slot(p, 0, PB_EMEDIA);
		return;
	}
	alog(p->a, PB_LOG_WARN, "port %u: error (PxIS 0x%08x PxTFD 0x%08x "
	    "PxSERR 0x%08x PxCI 0x%08x PxSACT 0x%08x)", p->no, is, tfd,
	    px_rd(p, PX_SERR), ci, sact);
	if (p->issued & p->internal)
		finish_slot(p, 0, PB_EIO);	/* the probe decides */
	else if (p->state == PS_READY)
		port_recover(p, p->disk.kind == DISK_ATA, "device error");
}

/* Commands past their deadline: the port is recovered with COMRESET. */
void
io_timeouts(struct ahci_port *p, uint64_t now)
{
	if (p->state != PS_READY)
		return;
	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++) {
		struct block_req *r = p->slot[s];

		if (!(p->issued & (1u << s)) || !r ||
		    rq_of(r)->deadline > now)
			continue;
		alog(p->a, PB_LOG_WARN, "port %u: slot %u (LBA %llu) timed out "
		    "(PxCI 0x%08x PxSACT 0x%08x PxTFD 0x%08x)", p->no, s,
		    (unsigned long long)r->lba, px_rd(p, PX_CI),
		    px_rd(p, PX_SACT), px_rd(p, PX_TFD));
		port_recover(p, 1, "command timeout");
		return;
	}
}

uint64_t
io_next_deadline(const struct ahci_port *p)
{
	uint64_t next = 0;

	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++) {
		struct block_req *r = p->slot[s];

		if ((p->issued & (1u << s)) && r &&
		    (!next || rq_of(r)->deadline < next))
			next = rq_of(r)->deadline;
	}
	return next;
}

/*
 * The port stops: what was in flight goes back to the queue.  A request
 * that was alone on the device caused the error; after AHCI_TRIES such
 * errors it fails.  Several in flight are suspects: each runs alone
 * until it has finished (p->careful counts them).
 */
void
io_requeue_issued(struct ahci_port *p)
{
	unsigned n = (unsigned)__builtin_popcount(p->issued & ~p->internal);

	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++) {
		struct block_req *r = p->slot[s];
		struct ahci_rq *q;

		if (!(p->issued & (1u << s)) || !r)
			continue;
		q = rq_of(r);
		p->slot[s] = NULL;
		if (n == 1 && ++q->tries >= AHCI_TRIES) {
			alog(p->a, PB_LOG_ERR, "port %u: %s of LBA %llu (%u "
			    "blocks) failed %u times: PB_EIO", p->no,
			    r->op == BLOCK_READ ? "read" : r->op == BLOCK_WRITE ?
			    "write" : "flush", (unsigned long long)r->lba,
			    r->count, q->tries);
			complete(p, r, PB_EIO);
			continue;
		}
		if (n > 1 && !q->suspect) {
			q->suspect = 1;
			p->careful++;
		}
		io_requeue(p, r);
	}
	p->issued &= p->internal;
	p->ncq = 0;
}

/* Every request of the port ends with status (the disk went, or the
 * driver stops). */
void
io_fail_all(struct ahci_port *p, int status)
{
	struct block_req *r;

	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++)
		if (p->slot[s]) {
			r = p->slot[s];
			p->slot[s] = NULL;
			complete(p, r, status);
		}
	p->issued = p->ncq = p->internal = 0;
	while ((r = pop(p)))
		complete(p, r, status);
	p->careful = 0;
}

/* The requests belong to the next driver now (a swap): let go of them
 * without a word. */
void
io_forget(struct ahci_port *p)
{
	memset(p->slot, 0, sizeof(p->slot));
	p->head = p->tail = NULL;
	p->issued = p->ncq = p->internal = 0;
	p->nqueued = 0;
	p->careful = 0;
}
