/*
 * run.c - a volume's job queue and the loop that runs it.
 *
 * Jobs (client requests, module-source reads, the volume's own mount,
 * sync, unmount and listing) run one at a time in submission order; the
 * running one is v->op.  The loop calls its step inside a transaction:
 *   FAT_MISS      undo the step; run it again once nothing is in flight
 *                 (the fetch it started is in), or after a write-back if
 *                 the cache had no unit to give;
 *   FAT_PENDING   keep; run it again at the next completion (or now, if
 *                 nothing is in flight);
 *   FAT_CONTINUE  keep; run the next step now;
 *   PB_OK / error keep / undo, and complete the job.
 * A write-back (wb.c) runs between steps, never inside one.  The loop
 * gives the event loop back after RUN_BUDGET steps.
 */
#include "fat.h"

#define RUN_BUDGET 256

void
run_kick(struct fat_vol *v)
{
	fm.hub->work_post(fm.self, &v->run_work);
}

static void
job_init(struct fat_job *j, struct fat_vol *v, int kind, void *req)
{
	j->vol = v;
	j->kind = (uint32_t)kind;
	j->req = req;
	j->queued = 1;
	j->inflight = 0;
	j->parked = 0;
	j->err = PB_OK;
}

/* j at the end of the list head..tail. */
static void
append(struct fat_job **head, struct fat_job **tail, struct fat_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

/* Queue job j for v (at the tail); it runs when its turn comes. */
int
job_queue(struct fat_vol *v, struct fat_job *j, int kind, void *req)
{
	job_init(j, v, kind, req);
	append(&v->head, &v->tail, j);
	run_kick(v);
	return PB_OK;
}

/* Queue job j at the head: it runs next. */
void
job_push(struct fat_vol *v, struct fat_job *j, int kind, void *req)
{
	job_init(j, v, kind, req);
	j->next = v->head;
	v->head = j;
	if (!v->tail)
		v->tail = j;
	run_kick(v);
}

/* Only reads run beside parked reads: nothing changes what they read
 * before they have it. */
static int
is_read(const struct fat_job *j)
{
	return j->kind == JOB_MODSRC || (j->kind == JOB_FS &&
	    ((const struct fs_req *)j->req)->op == FS_READ);
}

static struct fat_job *
job_take(struct fat_vol *v)
{
	struct fat_job *j = v->head;

	if (j && v->parked && !is_read(j))
		return NULL;
	if (j && !(v->quiescing && v->barrier_passed)) {
		v->head = j->next;
		if (!v->head)
			v->tail = NULL;
		j->next = NULL;
		if (j == v->barrier)
			v->barrier_passed = 1;
		return j;
	}
	return NULL;
}

/* Tell the job's owner it is done. */
static void
job_done(struct fat_vol *v, struct fat_job *j, int status)
{
	j->queued = 0;
	switch (j->kind) {
	case JOB_FS: {
		struct fs_req *q = j->req;

		q->status = status;
		fm.hub->work_post(fm.self, &q->done);
		break;
	}
	case JOB_MODSRC: {
		struct modsrc_req *q = j->req;

		q->status = status;
		fm.hub->work_post(fm.self, &q->done);
		break;
	}
	case JOB_MOUNT:
		if (status != PB_OK)
			v->failed = status;
		break;
	case JOB_UNMOUNT:
		v->quiesced = 1;
		break;
	}
}

/* Parked jobs complete in the order they were submitted (a client may
 * count on it): the first of them once its transfers have all landed,
 * then the next. */
static void
park_drain(struct fat_vol *v)
{
	struct fat_job *j;

	while ((j = v->park_head) && j->inflight == 0) {
		v->park_head = j->next;
		if (!v->park_head)
			v->park_tail = NULL;
		j->next = NULL;
		j->parked = 0;
		v->parked--;
		job_done(v, j, j->err);
	}
}

/* Job j waits behind the parked ones, its status in err. */
static void
park(struct fat_vol *v, struct fat_job *j, int err)
{
	if (err && !j->err)
		j->err = err;
	j->parked = 1;
	append(&v->park_head, &v->park_tail, j);
	v->parked++;
	park_drain(v);
}

/* A direct transfer of job j landed. */
void
job_landed(struct fat_vol *v, struct fat_job *j)
{
	if (j->parked && j->inflight == 0)
		park_drain(v);
}

/* Fail every queued job (the volume is gone). */
void
job_fail_all(struct fat_vol *v, int err)
{
	struct fat_job *j;

	while ((j = v->head)) {
		v->head = j->next;
		j->next = NULL;
		job_done(v, j, err);
	}
	v->tail = NULL;
}

/* The running job is done; after the parked reads, if there are any. */
static void
op_finish(struct fat_vol *v, int status)
{
	struct fat_op *o = &v->op;
	struct fat_job *j = o->job;

	cache_unpin_all(v);
	o->job = NULL;
	if (v->park_head)
		park(v, j, status);
	else
		job_done(v, j, status);
}

static void
op_begin(struct fat_vol *v, struct fat_job *j)
{
	struct fat_op *o = &v->op;

	o->job = j;
	o->req = j->kind == JOB_FS ? j->req : NULL;
	o->phase = 0;
	o->last = 0;
	o->h = NULL;
	o->pos = o->end = o->done = o->zero_end = 0;
	o->rest = o->count = o->have = o->last_clus = o->free = 0;
	o->have_known = o->short_write = 0;
	o->pos_idx = o->pos_clus = 0;
	o->status = PB_OK;
	o->wb_started = 0;
	o->marking = 0;
	o->touch_mods = 0;
	o->idle_steps = 0;
	memset(&o->node, 0, sizeof(o->node));
}

/* Corruption found: say so once per volume and kind of problem (`what`
 * is a literal, so its address names the kind), and go on refusing what
 * needs it. */
void
vol_corrupt(struct fat_vol *v, const char *what, uint32_t where)
{
	unsigned i;

	for (i = 0; i < FAT_BAD_KINDS && v->bad[i]; i++)
		if (v->bad[i] == what)
			return;
	if (i == FAT_BAD_KINDS)
		return;
	v->bad[i] = what;
	LOGF(PB_LOG_ERR, "%s%s: corrupt: %s %u", v->res_name[0] ? "fs:" : "",
	    v->res_name[0] ? v->res_name : v->disk, what, where);
}

/* Is the cache stuck: nothing to evict and nothing in flight? */
static int
cache_stuck(struct fat_vol *v, int *err)
{
	if (!v->c.no_slot || v->inflight)
		return 0;
	v->c.no_slot = 0;
	if (v->c.ndirty && v->wb_failures) {
		v->wb_failures = 0;	/* the next job tries again */
		*err = PB_EIO;		/* the device refuses what frees units */
		return 1;
	}
	if (v->c.ndirty) {
		wb_start(v);
		return 1;
	}
	LOGF(PB_LOG_ERR, "%s: the cache (%u units) cannot hold one step of "
	    "this operation: raise fs-cache", v->res_name, v->c.nunits);
	*err = PB_ENOMEM;
	return 1;
}

/* A step that keeps waiting with nothing in flight would spin: fail it. */
static int
stalled(struct fat_vol *v, int r)
{
	struct fat_op *o = &v->op;

	if ((r != FAT_MISS && r != FAT_PENDING) || v->inflight ||
	    v->c.no_slot) {
		o->idle_steps = 0;
		return 0;
	}
	if (++o->idle_steps < 4)
		return 0;
	LOGF(PB_LOG_ERR, "%s: a step of job %u waits for nothing; failed",
	    v->res_name, o->job->kind);
	return 1;
}

/* One pass of the loop; 0 when there is nothing to do now. */
static int
run_once(struct fat_vol *v)
{
	struct fat_op *o = &v->op;
	struct fat_job *j;
	int r, err = PB_OK;

	if (v->wb.active) {
		r = wb_step(v);
		if (r == FAT_PENDING)
			return 0;
		v->wb_result = r;
		v->wb_failures = r == PB_OK ? 0 : v->wb_failures + 1;
		return 1;
	}
	if (!o->job) {
		if (!v->blk && !v->failed)
			return 0;	/* standby: activate connects it */
		if (v->c.hash && v->c.ndirty > v->c.nunits / 2 && !v->inflight &&
		    !v->ro && !v->wb_failures) {
			wb_start(v);	/* keep room for reads */
			return 1;
		}
		if (!(j = job_take(v)))
			return 0;
		op_begin(v, j);
	}
	if (o->last == FAT_MISS || o->last == FAT_PENDING) {
		if (cache_stuck(v, &err)) {
			if (err)
				op_finish(v, err);
			return 1;
		}
		if (o->last == FAT_MISS && v->inflight)
			return 0;
	}
	if (v->failed && o->job->kind != JOB_MOUNT) {
		if (v->inflight)
			return 0;	/* buffers are the device's till then */
		op_finish(v, v->failed);
		return 1;
	}
	tx_begin(v);
	r = op_step(v);
	o->last = r;
	if (r == FAT_MISS || r < 0)
		tx_rollback(v);
	else
		tx_commit(v);
	if (v->free_recount != ~0u) {
		v->m.free = v->free_recount;
		v->free_recount = ~0u;
	}
	if (stalled(v, r)) {
		op_finish(v, PB_EIO);
		return 1;
	}
	switch (r) {
	case FAT_MISS:
	case FAT_PENDING:
		return !v->inflight || v->c.no_slot;
	case FAT_CONTINUE:
		o->last = 0;
		return 1;
	case FAT_PARK:
		j = o->job;
		cache_unpin_all(v);
		o->job = NULL;
		park(v, j, PB_OK);
		return 1;
	default:		/* a step that stands may end with an error */
		op_finish(v, r == PB_OK ? o->status : r);
		return 1;
	}
}

static void
run_one_volume(struct fat_vol *v)
{
	for (int budget = RUN_BUDGET; budget > 0; budget--)
		if (!run_once(v)) {
			vol_idle(v);
			return;
		}
	run_kick(v);		/* more to do: after the others' work */
}

/*
 * A volume's run work.  Its argument is one of fm.vols from work_init
 * until vol_free; anything else is the item damaged (a flipped bit, a
 * stray write), and the kick it carried would be lost with it: the
 * volume's jobs would wait for a completion that already came (seed 2003
 * default 119: sha256sum got no answer for 30 s).  Every volume runs
 * then; running one with nothing to do costs a look at its queue.
 */
void
run_volume(void *arg)
{
	unsigned i;

	for (i = 0; i < FAT_MAX_VOLS; i++)
		if (fm.vols[i] && fm.vols[i] == arg) {
			run_one_volume(arg);
			return;
		}
	LOGF(PB_LOG_ERR, "run: work for %p, which is no volume: running "
	    "every volume", arg);
	for (i = 0; i < FAT_MAX_VOLS; i++)
		if (fm.vols[i] && fm.vols[i]->run_work.fn)
			run_one_volume(fm.vols[i]);
}
