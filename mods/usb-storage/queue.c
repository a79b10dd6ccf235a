/*
 * queue.c - a stick's block requests: queued in submission order (all its
 * LUNs in one queue: BOT runs one command at a time), dispatched one by
 * one as READ/WRITE(10) or (16) or SYNCHRONIZE CACHE(10), each completed
 * exactly once by posting its `done` with the status set.
 *
 * A request's data stage moves straight from or into its segments
 * (map.c); a big one runs as several commands, one after the other.  A
 * read or write must move every byte: a short transfer or a residue is
 * PB_EIO.  A failed command's sense decides (sense.c): done after all,
 * issued again (USBSTOR_TRIES in all; a unit "becoming ready" after
 * T_RETRY pauses), or failed.  A transport failure (the stick was reset)
 * is issued again too; a stick that stopped answering fails the request
 * PB_EIO and every later one PB_ENODEV; a stick that went fails them
 * PB_ECANCELED.
 */
#include "usbstor.h"

#define RETRY_LATER_MAX	50	/* pauses of T_RETRY: 5 s */

static const char *const op_names[] = { "?", "read", "write", "flush" };

static const char *
op_name(const struct block_req *r)
{
	return op_names[r->op <= BLOCK_FLUSH ? r->op : 0];
}

/* --- the queue ----------------------------------------------------------- */

void
io_queue(struct usbstor_dev *d, struct block_req *r, uint32_t lun)
{
	*rq_of(r) = (struct usbstor_rq){ .lun = lun };
	if (d->tail)
		rq_of(d->tail)->next = r;
	else
		d->head = r;
	d->tail = r;
	d->nqueued++;
}

/* Before everything queued (a request given back: the oldest). */
void
io_queue_first(struct usbstor_dev *d, struct block_req *r, uint32_t lun)
{
	*rq_of(r) = (struct usbstor_rq){ .next = d->head, .lun = lun };
	d->head = r;
	if (!d->tail)
		d->tail = r;
	d->nqueued++;
}

static struct block_req *
pop(struct usbstor_dev *d)
{
	struct block_req *r = d->head;

	if (!r)
		return NULL;
	d->head = rq_of(r)->next;
	if (!d->head)
		d->tail = NULL;
	rq_of(r)->next = NULL;
	d->nqueued--;
	return r;
}

void
io_kick(struct usbstor_dev *d)
{
	us.hub->work_post(us.self, &d->kick);
}

static void
post(struct block_req *r, int status)
{
	r->status = status;
	us.hub->work_post(us.self, &r->done);	/* the client's now */
}

/* Every request not under way completes with status (and the one under
 * way too when no command of it is on the wire). */
void
io_fail_all(struct usbstor_dev *d, int status)
{
	struct block_req *r;

	if (d->cur && !bot_busy(d)) {
		post(d->cur, status);
		d->cur = NULL;
		d->waiting = 0;
	}
	while ((r = pop(d)))
		post(r, status);
}

/* Queued requests of LUNs that are not published any more (a probe
 * after a swap found them gone) complete PB_ENODEV. */
void
io_drop_unserved(struct usbstor_dev *d)
{
	struct block_req *keep = NULL, *last = NULL, *r;
	unsigned n = 0;

	while ((r = pop(d))) {
		if (!d->lun[rq_of(r)->lun].res) {
			post(r, PB_ENODEV);
			continue;
		}
		rq_of(r)->next = NULL;
		if (last)
			rq_of(last)->next = r;
		else
			keep = r;
		last = r;
		n++;
	}
	d->head = keep;
	d->tail = last;
	d->nqueued = n;
}

/* The requests are the next driver's (a swap): let go without a word. */
void
io_forget(struct usbstor_dev *d)
{
	d->head = d->tail = d->cur = NULL;
	d->nqueued = 0;
	d->waiting = 0;
}

/* --- one request --------------------------------------------------------- */

static void issue(struct usbstor_dev *d);

static void
log_failure(struct usbstor_dev *d, const struct block_req *r,
    const char *what, const char *then)
{
	struct usbstor_lun *l = &d->lun[rq_of((struct block_req *)r)->lun];

	if (++l->errors > USBSTOR_ERRORS_LOGGED)
		return;
	slog(PB_LOG_WARN, "block:%s: %s of %u blocks at %llu: %s%s%s", l->name,
	    op_name(r), r->count, (unsigned long long)r->lba, what, then,
	    l->errors == USBSTOR_ERRORS_LOGGED ? " (no more such lines)" : "");
}

static void
complete(struct usbstor_dev *d, int status)
{
	struct block_req *r = d->cur;

	d->cur = NULL;
	d->waiting = 0;
	post(r, status);
	io_kick(d);
}

static void
issue_again(struct usbstor_dev *d)
{
	d->waiting = 0;
	if (d->state != DEV_READY || !d->cur)
		return;
	issue(d);
}

/* What the sense does to the LUN itself, beyond this request. */
static void
sense_effects(struct usbstor_dev *d, struct usbstor_lun *l, int act)
{
	char props[USBSTOR_PROPS];
	const struct scsi_sense *s = &d->sense;

	if (s->key == SK_UNIT_ATTENTION && s->asc == ASC_MEDIUM_CHANGED)
		l->media_id++;
	if (s->key == SK_DATA_PROTECT && !(l->flags & BLOCK_RO)) {
		l->flags = (l->flags | BLOCK_RO) & ~(BLOCK_FLUSHES | BLOCK_FUA);
		slog(PB_LOG_WARN, "block:%s: the medium is write-protected: "
		    "read-only from now on", l->name);
	} else if (act == ACT_OK && s->key == SK_ILLEGAL_REQUEST &&
	    (l->flags & BLOCK_FLUSHES)) {
		l->flags &= ~BLOCK_FLUSHES;
		slog(PB_LOG_INFO, "block:%s: SYNCHRONIZE CACHE is not "
		    "supported: no flushes", l->name);
		return;
	} else {
		return;
	}
	lun_props(l, props, sizeof(props));
	us.hub->set_props(us.self, l->res, props);
}

static void
checked(struct usbstor_dev *d, struct usbstor_lun *l)
{
	struct block_req *r = d->cur;
	char text[96];
	int status, act = sense_action(&d->sense, r->op, &status);

	cmd_sense_text(d, text, sizeof(text));
	sense_effects(d, l, act);
	if (act == ACT_RETRY && ++d->cur_tries < USBSTOR_TRIES) {
		log_failure(d, r, text, ": again");
		issue(d);
	} else if (act == ACT_RETRY_LATER && ++d->cur_waits < RETRY_LATER_MAX) {
		d->waiting = 1;
		dev_wait(d, T_RETRY, issue_again);
	} else if (act == ACT_OK) {
		complete(d, status);
	} else {
		log_failure(d, r, text, "");
		complete(d, act == ACT_FAIL ? status : PB_EIO);
	}
}

static void
io_done(struct usbstor_dev *d)
{
	struct block_req *r = d->cur;
	struct usbstor_lun *l;
	char text[80];

	if (!r)
		return;
	l = &d->lun[rq_of(r)->lun];
	switch (d->result) {
	case CMD_GOOD:
		if (r->op != BLOCK_FLUSH && (d->residue ||
		    d->actual != d->cur_len)) {
			rt_snprintf(text, sizeof(text), "%u of %u bytes moved, "
			    "residue %u", d->actual, d->cur_len, d->residue);
			log_failure(d, r, text, "");
			complete(d, PB_EIO);
		} else if (r->op != BLOCK_FLUSH && (d->cur_off += d->cur_len) <
		    (uint64_t)r->count * l->block_size) {
			d->cur_tries = 0;
			issue(d);	/* the next piece of a big request */
		} else {
			complete(d, PB_OK);
		}
		break;
	case CMD_CHECK:
		checked(d, l);
		break;
	case PB_ECANCELED:
		dev_gone(d, "its requests were cancelled");
		if (d->cur)		/* gone already: this one was left */
			complete(d, PB_ECANCELED);
		break;
	case PB_ENODEV:
		complete(d, PB_EIO);
		dev_dead(d);
		break;
	default:	/* the transport failed and the stick was reset */
		if (++d->cur_tries < USBSTOR_TRIES) {
			issue(d);
			break;
		}
		log_failure(d, r, "the transport failed", "");
		complete(d, PB_EIO);
		break;
	}
}

/* The command of d->cur (its piece from cur_off on) onto the wire. */
static void
issue(struct usbstor_dev *d)
{
	struct block_req *r = d->cur;
	struct usbstor_lun *l = &d->lun[rq_of(r)->lun];
	struct bot_cmd *c = &d->bot.cmd;
	uint32_t bs = l->block_size, total = r->count * bs, max;
	unsigned n;

	c->lun = l->lun;
	c->nseg = 0;
	c->length = d->cur_len = 0;
	c->in = r->op == BLOCK_READ;
	if (r->op == BLOCK_FLUSH) {
		n = scsi_cdb_sync_cache(c->cdb);
	} else {
		max = map_chunk_max(d, bs);
		if (max > total - d->cur_off)
			max = total - d->cur_off;
		d->cur_len = max ? map_range(d, r, d->cur_off, max, bs, c) : 0;
		if (!d->cur_len) {
			log_failure(d, r, "its buffer cannot be handed to the "
			    "bus", "");
			complete(d, PB_EINVAL);
			return;
		}
		n = scsi_cdb_rw(c->cdb, r->op == BLOCK_WRITE,
		    r->lba + d->cur_off / bs, d->cur_len / bs,
		    (r->flags & BLOCK_REQ_FUA) != 0);
		c->length = d->cur_len;
	}
	c->cdb_len = (uint8_t)n;
	cmd_run(d, io_done);
}

/* The work item: the next request onto the wire, when the stick is free. */
void
io_dispatch(void *arg)
{
	struct usbstor_dev *d = dev_of(arg, "the dispatch");
	struct block_req *r;
	int err;

	if (!d) {
		for (unsigned i = 0; i < USBSTOR_DEVS; i++)
			if (us.dev[i])
				io_dispatch(us.dev[i]);
		return;
	}
	if (d->state != DEV_READY || us.quiesced || us.released ||
	    us.standby || d->cur || bot_busy(d))
		return;
	while ((r = pop(d))) {
		struct usbstor_lun *l = &d->lun[rq_of(r)->lun];

		if (!rq_of(r)->checked && (err = io_check(l, r)) != PB_OK) {
			post(r, err);
			continue;
		}
		if (r->op == BLOCK_FLUSH && !(l->flags & BLOCK_FLUSHES)) {
			post(r, PB_OK);		/* no write cache */
			continue;
		}
		d->cur = r;
		d->cur_tries = d->cur_waits = 0;
		d->cur_off = 0;
		issue(d);
		return;
	}
}
