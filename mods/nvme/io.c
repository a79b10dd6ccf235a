/*
 * io.c - `block` 1.0 on a namespace: requests checked, queued in
 * submission order, turned into NVMe Read (02h), Write (01h) and Flush
 * (00h) commands (§6.9, §6.15, §6.8) in command slots, finished.
 *
 * Data go by PRPs (§4.3): PRP1 the first byte (dword aligned, any offset
 * in its page), then one entry per further page, each page aligned: in
 * PRP2 when there is one, else in the slot's PRP list page with PRP2
 * pointing at it.  Every entry but the last must end at a page end, and
 * every one but the first begin at a page start; a request's segments
 * (and the runs hub->dma_addr finds in them) that do not meet there
 * cannot share a command, so the request is split into pieces at those
 * places, and wherever a command would move more than MDTS allows
 * (ident.max_xfer, at most NVME_CMD_MAX: one list page).  Each piece is
 * a command with its own slot (the CID), the LBA advancing; the request
 * completes when its last piece does, with the first error any had.
 *
 * Slots are given in submission order: the oldest request takes slots
 * for its pieces until it has all, then the next.  A command that runs
 * past T_IO resets the controller (ctrl.c); what was on the device is
 * issued again from its first piece, up to NVME_TRIES times, then fails
 * with PB_EIO.  A flush on a namespace whose controller has no volatile
 * write cache (VWC 0) completes at once.
 */
#include "nvme.h"

/* --- block_ops ------------------------------------------------------------ */

static int
io_info(void *ctx, struct block_info *info)
{
	struct nvme_ns *ns = ctx;
	struct block_info bi;
	uint32_t size;

	if (!info || info->size < sizeof(uint32_t))
		return PB_EINVAL;
	if (!ns->res)
		return PB_ENODEV;
	if (!ns_known(ns))
		return PB_EAGAIN;	/* handed over, still starting */
	size = info->size < sizeof(bi) ? info->size : (uint32_t)sizeof(bi);
	bi = (struct block_info){
		.size = size,
		.block_size = ns->g.block_size,
		.block_count = ns->g.block_count,
		.max_transfer = NVME_MAX_XFER,	/* split by MDTS here */
		.max_segments = NVME_MAX_SEGS,
		.queue_depth = (uint16_t)(ns->c->nslots ? ns->c->nslots : 1),
		.align = NVME_ALIGN,
		.flags = ns->g.flags,
		.seg_boundary = 0,
		.dma_limit = ns->c->dma_limit,
		.media_id = 1,
	};
	memcpy(info, &bi, size);
	return PB_OK;
}

/* The bus run at byte off of segment s: the client's bus address (the
 * whole segment is contiguous), else hub->dma_addr's. */
static int
run_at(struct nvme *c, const struct block_seg *s, uint32_t off,
    uint64_t *bus, uint32_t *run)
{
	size_t n = 0;

	if (s->bus) {
		*bus = s->bus + off;
		*run = s->len - off;
	} else {
		if (c->hub->dma_addr(c->self, (const uint8_t *)s->va + off,
		    s->len - off, bus, &n) != PB_OK || !n || n > s->len - off)
			return PB_EINVAL;
		*run = (uint32_t)n;
	}
	if (*bus + *run < *bus || *bus + *run - 1 > c->dma_limit)
		return PB_EINVAL;
	return PB_OK;
}

/* The segments: in number, each dword aligned and whole blocks, adding
 * up, every byte reachable on the bus. */
static int
check_segments(struct nvme_ns *ns, const struct block_req *r)
{
	uint32_t bs = ns->g.block_size;
	uint64_t sum = 0, bus;
	uint32_t run;

	if (!r->segs || r->nseg == 0 || r->nseg > NVME_MAX_SEGS)
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];

		if (!s->len || s->len % bs ||
		    ((uintptr_t)s->va & (NVME_ALIGN - 1)) ||
		    (s->bus & (NVME_ALIGN - 1)) || (!s->va && !s->bus))
			return PB_EINVAL;
		for (uint32_t off = 0; off < s->len; off += run)
			if (run_at(ns->c, s, off, &bus, &run) != PB_OK)
				return PB_EINVAL;
		sum += s->len;
	}
	return sum == (uint64_t)r->count * bs ? PB_OK : PB_EINVAL;
}

/*
 * Can the namespace run r?  What the request says alone is checked
 * always; its place on the disk only once the namespace is known (a
 * request handed over in a swap may come before the bring-up ends:
 * dispatch checks again).
 */
int
io_check(struct nvme_ns *ns, const struct block_req *r)
{
	if (!r || r->size < sizeof(struct block_req))
		return PB_EINVAL;
	if (!ns->res)
		return PB_ENODEV;
	if (r->op == BLOCK_FLUSH)
		return r->count || r->nseg || r->flags ? PB_EINVAL : PB_OK;
	if (r->op != BLOCK_READ && r->op != BLOCK_WRITE)
		return PB_ENOTSUP;
	if (!r->count || (r->flags & ~BLOCK_REQ_FUA))
		return PB_EINVAL;
	if ((r->flags & BLOCK_REQ_FUA) && r->op != BLOCK_WRITE)
		return PB_EINVAL;
	if (!ns_known(ns))
		return PB_OK;
	if (r->lba >= ns->g.block_count ||
	    r->count > ns->g.block_count - r->lba ||
	    (uint64_t)r->count * ns->g.block_size > NVME_MAX_XFER)
		return PB_EINVAL;
	return check_segments(ns, r);
}

static int
flush_is_noop(const struct nvme_ns *ns, const struct block_req *r)
{
	return r->op == BLOCK_FLUSH && ns_known(ns) &&
	    !(ns->g.flags & BLOCK_FLUSHES);
}

static void
complete(struct nvme *c, struct block_req *r, int status)
{
	struct nvme_rq *q = rq_of(r);

	q->state = RQ_FREE;
	q->next = NULL;
	nvme_post_done(c, r, status);
}

/* A checked request is ours: queued, or done at once (a flush with no
 * write cache to flush). */
void
io_take(struct nvme_ns *ns, struct block_req *r)
{
	if (flush_is_noop(ns, r)) {
		nvme_post_done(ns->c, r, PB_OK);
		return;
	}
	io_queue(ns, r);
	rq_of(r)->checked = ns_known(ns);
}

static int
io_submit(void *ctx, struct block_req *r)
{
	struct nvme_ns *ns = ctx;
	int err;

	if ((err = io_check(ns, r)) != PB_OK)
		return err;
	io_take(ns, r);
	io_dispatch(ns->c);
	return PB_OK;
}

const struct block_ops nvme_block_ops = {
	.info = io_info,	/* PB_EAGAIN while a handed-over disk starts */
	.submit = io_submit,	/* queued; done posted once, by work */
};

/* --- the queue ------------------------------------------------------------ */

static void
rq_fresh(struct nvme_ns *ns, struct block_req *r, uint32_t seq)
{
	struct nvme_rq *q = rq_of(r);

	memset(q, 0, sizeof(*q));
	q->owner = ns->c;
	q->ns = ns;
	q->seq = seq;
	q->state = RQ_QUEUED;
}

void
io_queue(struct nvme_ns *ns, struct block_req *r)
{
	struct nvme *c = ns->c;

	rq_fresh(ns, r, ++c->seq);
	if (c->tail)
		rq_of(c->tail)->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nqueued++;
}

/* At the head of the queue (a request given back: the oldest). */
void
io_queue_first(struct nvme_ns *ns, struct block_req *r)
{
	struct nvme *c = ns->c;

	rq_fresh(ns, r, c->head ? rq_of(c->head)->seq - 1 : ++c->seq);
	rq_of(r)->next = c->head;
	c->head = r;
	if (!c->tail)
		c->tail = r;
	c->nqueued++;
}

/* Back into the queue by seq, before those submitted after it. */
static void
requeue(struct nvme *c, struct block_req *r)
{
	struct nvme_rq *q = rq_of(r);
	struct block_req **at = &c->head;

	while (*at && (int32_t)(rq_of(*at)->seq - q->seq) < 0)
		at = &rq_of(*at)->next;
	q->next = *at;
	q->state = RQ_QUEUED;
	*at = r;
	if (!q->next)
		c->tail = r;
	c->nqueued++;
}

static void
unlink_head(struct nvme *c)
{
	struct block_req *r = c->head;

	c->head = rq_of(r)->next;
	if (!c->head)
		c->tail = NULL;
	rq_of(r)->next = NULL;
	c->nqueued--;
}

/* Take r out of the queue wherever it is. */
static void
unlink(struct nvme *c, struct block_req *r)
{
	struct block_req **at = &c->head, *prev = NULL;

	while (*at && *at != r) {
		prev = *at;
		at = &rq_of(*at)->next;
	}
	if (!*at)
		return;
	*at = rq_of(r)->next;
	if (c->tail == r)
		c->tail = prev;
	rq_of(r)->next = NULL;
	c->nqueued--;
}

/* --- commands ------------------------------------------------------------- */

static int
free_slot(const struct nvme *c)
{
	for (unsigned s = 0; s < c->nslots; s++)
		if (!c->slot[s].r)
			return (int)s;
	return -1;
}

static int
sq_full(const struct nvme_queue *q)
{
	return (uint16_t)((q->sq_tail + 1) % q->size) == q->sq_head;
}

static uint32_t
total_bytes(struct block_req *r)
{
	return r->count * rq_of(r)->ns->g.block_size;
}

/*
 * The next piece of r into the slot's PRPs (§4.3): as many bytes as one
 * command can take from where the last piece ended, stopping where a
 * run begins or ends inside a page (PB_EINVAL: a hub answer that splits
 * a block, which checks at submit make impossible).
 */
static int
build_prps(struct nvme *c, struct nvme_slot *sl, struct block_req *r,
    struct nvme_sqe *e, uint32_t *bytes)
{
	struct nvme_rq *q = rq_of(r);
	uint32_t bs = q->ns->g.block_size, done = 0, limit, off = q->seg_off;
	uint16_t seg = q->seg;
	unsigned n = 0;
	uint64_t bus;
	uint32_t run;

	limit = total_bytes(r) - q->issued;
	if (limit > c->id.max_xfer)
		limit = c->id.max_xfer;
	while (done < limit && seg < r->nseg) {
		const struct block_seg *s = &r->segs[seg];
		uint32_t take;

		if (run_at(c, s, off, &bus, &run) != PB_OK)
			return PB_EINVAL;
		if (n && (bus & NVME_PAGE_MASK))
			break;		/* only PRP1 starts mid-page */
		take = run < limit - done ? run : limit - done;
		/* One entry per page the run touches: PRP1 first, the rest
		 * into the list (entry n is list[n - 1]). */
		for (uint64_t p = bus; p < bus + take;
		    p = (p & ~(uint64_t)NVME_PAGE_MASK) + NVME_PAGE) {
			if (n == 0) {
				e->prp1 = p;
			} else {
				if (n > NVME_PRP_PER_PAGE)
					return PB_EINVAL;
				sl->prp[n - 1] = p;
			}
			n++;
		}
		done += take;
		off += take;
		if (off == s->len) {
			seg++;
			off = 0;
		}
		if (((bus + take) & NVME_PAGE_MASK) && done < limit)
			break;		/* only the last ends mid-page */
	}
	if (!done || done % bs)
		return PB_EINVAL;
	e->prp2 = n == 2 ? sl->prp[0] : n > 2 ? sl->prp_bus : 0;
	q->seg = seg;
	q->seg_off = off;
	*bytes = done;
	return PB_OK;
}

/* The next piece of r as a command in slot s; PB_EINVAL for a buffer
 * that cannot be mapped. */
static int
build_piece(struct nvme *c, unsigned s, struct block_req *r)
{
	struct nvme_rq *q = rq_of(r);
	struct nvme_slot *sl = &c->slot[s];
	struct nvme_sqe e = { .cid = (uint16_t)s, .nsid = q->ns->g.nsid };
	uint32_t bytes = 0, bs = q->ns->g.block_size;
	uint64_t lba;
	int err;

	if (r->op == BLOCK_FLUSH) {
		e.opc = NVM_FLUSH;
	} else {
		if ((err = build_prps(c, sl, r, &e, &bytes)) != PB_OK)
			return err;
		lba = r->lba + q->issued / bs;
		e.opc = r->op == BLOCK_WRITE ? NVM_WRITE : NVM_READ;
		e.cdw10 = (uint32_t)lba;
		e.cdw11 = (uint32_t)(lba >> 32);
		e.cdw12 = (bytes / bs - 1u) | (r->flags & BLOCK_REQ_FUA ?
		    RW_FUA : 0);
	}
	c->ioq.sq[c->ioq.sq_tail] = e;
	c->ioq.sq_tail = (uint16_t)((c->ioq.sq_tail + 1) % c->ioq.size);
	sl->r = r;
	sl->opc = e.opc;
	sl->deadline = nvme_now(c) + T_IO;
	c->inflight++;
	q->issued += bytes;
	q->pieces++;
	return PB_OK;
}

/* The head request has every piece out, or stops (an error): it leaves
 * the queue, completing now if nothing of it is on the device. */
static void
head_out(struct nvme *c, int status)
{
	struct block_req *r = c->head;
	struct nvme_rq *q = rq_of(r);

	unlink_head(c);
	if (status != PB_OK && !q->err)
		q->err = status;
	if (!q->pieces) {
		complete(c, r, q->err);
		return;
	}
	q->state = RQ_ISSUED;
}

/* Put queued requests' pieces into free slots while the controller may
 * run them; the doorbell once for all. */
void
io_dispatch(struct nvme *c)
{
	uint16_t tail0 = c->ioq.sq_tail;
	struct block_req *r;
	int s, err;

	if (c->quiesced || c->released || c->state != C_READY ||
	    !c->ioq.live)
		return;
	while ((r = c->head)) {
		struct nvme_rq *q = rq_of(r);

		if (!q->checked) {
			if ((err = io_check(q->ns, r)) != PB_OK) {
				head_out(c, err);
				continue;
			}
			q->checked = 1;
		}
		if (q->err || flush_is_noop(q->ns, r)) {
			head_out(c, PB_OK);
			continue;
		}
		if ((s = free_slot(c)) < 0 || sq_full(&c->ioq))
			break;
		if ((err = build_piece(c, (unsigned)s, r)) != PB_OK) {
			head_out(c, err);
			continue;
		}
		if (r->op == BLOCK_FLUSH || q->issued == total_bytes(r))
			head_out(c, PB_OK);
	}
	if (c->ioq.sq_tail == tail0)
		return;
	mmio_wmb();		/* entries before the doorbell */
	reg_wr(c, DB_SQ(c->ioq.qid, c->dstrd), c->ioq.sq_tail);
	tick_rearm(c);
}

/* --- completion ----------------------------------------------------------- */

/* Names for the status codes a driver meets (§4.6.1.2). */
const char *
io_status_name(uint16_t st)
{
	if (STATUS_SCT(st) == SCT_GENERIC) {
		switch (STATUS_SC(st)) {
		case SC_SUCCESS: return "success";
		case SC_INVALID_OPCODE: return "invalid opcode";
		case SC_INVALID_FIELD: return "invalid field";
		case SC_INVALID_NS: return "invalid namespace";
		case SC_LBA_RANGE: return "LBA out of range";
		case SC_CAPACITY: return "capacity exceeded";
		default: return "generic error";
		}
	}
	if (STATUS_SCT(st) == SCT_MEDIA)
		return "media or data integrity error";
	return STATUS_SCT(st) == 1 ? "command specific error" : "error";
}

static int
status_err(uint16_t st)
{
	if (STATUS_SCT(st) == SCT_GENERIC &&
	    (STATUS_SC(st) == SC_INVALID_FIELD ||
	    STATUS_SC(st) == SC_LBA_RANGE || STATUS_SC(st) == SC_CAPACITY ||
	    STATUS_SC(st) == SC_INVALID_NS))
		return PB_EINVAL;
	return PB_EIO;
}

static const char *
op_name(const struct block_req *r)
{
	return r->op == BLOCK_READ ? "read" : r->op == BLOCK_WRITE ? "write" :
	    "flush";
}

/* An I/O completion the handler took (irq.c). */
void
io_done(struct nvme *c, const struct nvme_done *d)
{
	struct nvme_slot *sl = d->cid < c->nslots ? &c->slot[d->cid] : NULL;
	struct block_req *r;
	struct nvme_rq *q;

	if (!sl || !sl->r) {
		nlog(c, PB_LOG_WARN, "%s: completion for CID %u, not "
		    "outstanding: ignored", c->name, d->cid);
		return;
	}
	r = sl->r;
	q = rq_of(r);
	sl->r = NULL;
	c->inflight--;
	q->pieces--;
	if (d->status && !q->err) {
		q->err = status_err(d->status);
		nlog(c, PB_LOG_ERR, "%s: %s of LBA %llu (%u blocks) failed: "
		    "status 0x%03x (SCT %u SC 0x%02x: %s)", q->ns->name,
		    op_name(r), (unsigned long long)r->lba, r->count,
		    d->status, STATUS_SCT(d->status), STATUS_SC(d->status),
		    io_status_name(d->status));
	} else if (!d->status) {
		c->resets = 0;		/* the controller works */
	}
	if (!q->pieces && q->state == RQ_ISSUED)
		complete(c, r, q->err);
	/* A queued one with pieces to go: dispatch carries on (or ends it
	 * for its error). */
}

/* Commands past their deadline: the controller is reset. */
void
io_timeouts(struct nvme *c, uint64_t now)
{
	char why[112];

	for (unsigned s = 0; s < c->nslots; s++) {
		struct nvme_slot *sl = &c->slot[s];

		if (!sl->r || sl->deadline > now)
			continue;
		rt_snprintf(why, sizeof(why), "%s: command CID %u (opcode "
		    "0x%02x, LBA %llu) timed out after %llu ms", c->name, s,
		    sl->opc, (unsigned long long)sl->r->lba,
		    (unsigned long long)(T_IO / MS));
		ctrl_reset(c, why);
		return;
	}
}

uint64_t
io_next_deadline(const struct nvme *c)
{
	uint64_t next = 0;

	for (unsigned s = 0; s < c->nslots; s++)
		if (c->slot[s].r && (!next || c->slot[s].deadline < next))
			next = c->slot[s].deadline;
	return next;
}

/* A request starts from its first piece again. */
static void
rq_rewind(struct nvme_rq *q)
{
	q->issued = q->seg_off = 0;
	q->seg = 0;
	q->pieces = 0;
	q->err = 0;
}

/*
 * The controller is reset: what was on the device goes back to the
 * queue, from its first piece, in its old place; a request that has
 * lived through NVME_TRIES resets fails with PB_EIO.
 */
void
io_requeue_inflight(struct nvme *c)
{
	for (unsigned s = 0; s < NVME_SLOTS; s++) {
		struct block_req *r = c->slot[s].r;
		struct nvme_rq *q;

		if (!r)
			continue;
		for (unsigned k = s; k < NVME_SLOTS; k++)
			if (c->slot[k].r == r)
				c->slot[k].r = NULL;
		q = rq_of(r);
		if (q->state == RQ_QUEUED)
			unlink(c, r);
		rq_rewind(q);
		if (++q->tries >= NVME_TRIES) {
			nlog(c, PB_LOG_ERR, "%s: %s of LBA %llu (%u blocks) "
			    "failed through %u resets: PB_EIO", q->ns->name,
			    op_name(r), (unsigned long long)r->lba, r->count,
			    q->tries);
			complete(c, r, PB_EIO);
			continue;
		}
		requeue(c, r);
	}
	c->inflight = 0;
}

/* Every request of ns (NULL: of all) ends with status. */
static void
fail_where(struct nvme *c, struct nvme_ns *ns, int status)
{
	struct block_req *r, *next;

	for (unsigned s = 0; s < NVME_SLOTS; s++) {
		r = c->slot[s].r;
		if (!r || (ns && rq_of(r)->ns != ns))
			continue;
		for (unsigned k = s; k < NVME_SLOTS; k++)
			if (c->slot[k].r == r) {
				c->slot[k].r = NULL;
				c->inflight--;
			}
		if (rq_of(r)->state == RQ_QUEUED)
			unlink(c, r);
		complete(c, r, status);
	}
	for (r = c->head; r; r = next) {
		next = rq_of(r)->next;
		if (ns && rq_of(r)->ns != ns)
			continue;
		unlink(c, r);
		complete(c, r, status);
	}
}

void
io_fail_all(struct nvme *c, int status)
{
	fail_where(c, NULL, status);
	c->inflight = 0;
}

void
io_fail_ns(struct nvme *c, struct nvme_ns *ns, int status)
{
	fail_where(c, ns, status);
}

/* The requests belong to the next driver now (a swap): let go of them
 * without a word. */
void
io_forget(struct nvme *c)
{
	for (unsigned s = 0; s < NVME_SLOTS; s++)
		c->slot[s].r = NULL;
	c->head = c->tail = NULL;
	c->nqueued = 0;
	c->inflight = 0;
}
