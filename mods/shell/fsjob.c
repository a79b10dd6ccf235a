/*
 * fsjob.c - a running file command: the `fs` requests it makes and what
 * happens when they complete.
 *
 * Every file operation is asynchronous (fs.h): a command resolves its
 * paths, makes a job, submits its first request and holds the session
 * (session_hold): no prompt until the job ends.  Each request sits in one
 * of the job's slots; its completion runs as the shell's work and calls
 * the step the command gave with it, which submits the next request or
 * ends the job.  The job keeps account of the files it has open and
 * closes them at its end, whatever happened; then the command's report,
 * then the prompt.
 *
 * What can go wrong without the command's say:
 *  - a submit refused at once completes like any other request, with
 *    its error, so a step has one place to look;
 *  - a volume that goes away (PB_EV_DISCONNECTED) with requests of the
 *    job on it: they are written off as lost, its open files are
 *    forgotten, the job says so and ends; the lost requests still belong
 *    to the provider until it completes them, so the job's memory is
 *    freed only after the last one comes back (never, if the provider is
 *    gone for good: a bounded leak instead of a use after free);
 *  - a provider that stops answering: after STALL_NS without a single
 *    completion the job says so and ends the same way.
 */
#include "files.h"

#define STALL_NS (30ull * 1000 * 1000 * 1000)

char fs_cwd[FS_PATH_MAX] = "/";
static struct job *current;	/* the file command running, if any */

static void req_done(void *arg);
static void step_run(void *arg);

/* --- places -------------------------------------------------------------- */

/* Resolve `arg` for cmd against the current directory; an error line
 * when it does not lead to a mounted volume (or the root). */
static int
fs_place(const char *cmd, const char *arg, struct place *p)
{
	char mnt[MOUNT_NAME_MAX];
	const char *rest;
	int r = path_resolve(fs_cwd, arg, p->abs, sizeof(p->abs));

	if (r == PB_EINVAL)
		return fail("%s %s: path too long", cmd, arg);
	if (r != PB_OK || path_split(p->abs, mnt, sizeof(mnt), &rest) != PB_OK)
		return fail("%s %s: %s", cmd, arg, fs_strerror(PB_ENOENT));
	p->m = NULL;
	p->rest = (unsigned)(rest - p->abs);
	if (mnt[0] && !(p->m = mount_find(mnt)))
		return fail("%s %s: %s", cmd, p->abs, fs_strerror(PB_ENOENT));
	return PB_OK;
}

/* As fs_place, and the job notes the volume: if it goes, the job ends. */
int
job_place(struct job *j, const char *arg, struct place *p)
{
	int r = fs_place(j->cmd, arg, p);

	if (r != PB_OK) {
		j->failed = 1;
		return r;
	}
	for (unsigned i = 0; p->m && i < JOB_MOUNTS; i++) {
		if (j->uses[i] == p->m)
			break;
		if (!j->uses[i]) {
			j->uses[i] = p->m;
			break;
		}
	}
	return PB_OK;
}

/* The places resolved so far are done with (a command that takes its
 * paths one after another). */
void
job_places_clear(struct job *j)
{
	memset(j->uses, 0, sizeof(j->uses));
}

/* --- a job's life -------------------------------------------------------- */

struct job *
job_new(const char *cmd, size_t data_size)
{
	struct job *j = shell_hub->alloc(shell_self, sizeof(*j) + data_size);

	if (!j) {
		fail("%s: out of memory", cmd);
		return NULL;
	}
	rt_strlcpy(j->cmd, cmd, sizeof(j->cmd));
	j->timer = -1;
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		j->r[i].job = j;
		shell_hub->work_init(shell_self, &j->r[i].fs.done, req_done,
		    &j->r[i]);
	}
	shell_hub->work_init(shell_self, &j->step, step_run, j);
	j->data = j + 1;
	return j;
}

/* Free the job once nothing refers to it any more. */
static void
job_free_if_quiet(struct job *j)
{
	if (!j->over || j->inflight || j->lost)
		return;
	if (j->cleanup)
		j->cleanup(j);
	if (j->bufs)
		shell_hub->free(shell_self, j->bufs);
	shell_hub->free(shell_self, j);
}

/* A job that never submitted anything (its command failed first). */
void
job_drop(struct job *j)
{
	j->over = 1;
	job_free_if_quiet(j);
}

/* The command refuses before its job began: its error line, and the job
 * goes.  Returns the error to return. */
int
job_refuse(struct job *j, const char *shown, const char *why)
{
	fail("%s %s: %s", j->cmd, shown, why);
	job_drop(j);
	return PB_EINVAL;
}

/* Keep copies of the command's words: the line they were cut from is
 * gone once the command returns. */
int
job_keep_args(struct job *j, int argc, char **argv)
{
	size_t n = 0, len;

	for (int i = 0; i < argc; i++) {
		len = strlen(argv[i]) + 1;
		if (i >= JOB_ARGS || n + len > sizeof(j->argbuf))
			return fail("%s: too many arguments", j->cmd);
		memcpy(j->argbuf + n, argv[i], len);
		j->argv[i] = j->argbuf + n;
		n += len;
	}
	j->argc = argc;
	return PB_OK;
}

/* A request of the job that names a volume `m` that went away. */
static int
refers_to(const struct job *j, const struct mount *m)
{
	for (unsigned i = 0; i < JOB_MOUNTS; i++)
		if (j->uses[i] == m)
			return 1;
	for (unsigned i = 0; i < JOB_SLOTS; i++)
		if (j->r[i].busy && !j->r[i].lost && j->r[i].m == m)
			return 1;
	for (unsigned i = 0; i < JOB_HANDLES; i++)
		if (j->open[i].m == m)
			return 1;
	return 0;
}

/* Write off the requests on m (every volume when m is NULL) and forget
 * the files open there; returns what a failing line should name. */
static const char *
write_off(struct job *j, const struct mount *m)
{
	const char *shown = NULL;

	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct jreq *r = &j->r[i];

		if (!r->busy || r->lost || (m && r->m != m))
			continue;
		r->lost = 1;
		j->inflight--;
		j->lost++;
		shown = r->shown;
	}
	for (unsigned i = 0; i < JOB_HANDLES; i++)
		if (j->open[i].m && (!m || j->open[i].m == m)) {
			if (!shown)
				shown = j->open[i].shown;
			j->open[i].m = NULL;
		}
	return shown;
}

static void
stall_check(void *arg)
{
	struct job *j = arg;
	const char *shown;

	j->timer = -1;
	if (j->progress == j->seen && j->inflight) {
		shown = write_off(j, NULL);
		fail("%s %s: no answer from the volume in %u s", j->cmd,
		    shown ? shown : "", (unsigned)(STALL_NS / 1000000000ull));
		j->failed = 1;
		job_end(j);
		return;
	}
	j->seen = j->progress;
	j->timer = shell_hub->timer_after(shell_self, STALL_NS, stall_check, j);
}

/* The command returns and the job goes on: the session waits for it. */
int
job_hold(struct job *j)
{
	current = j;
	j->held = 1;
	j->seen = j->progress;
	j->timer = shell_hub->timer_after(shell_self, STALL_NS, stall_check, j);
	session_hold();
	return PB_OK;
}

static void
finish(struct job *j)
{
	if (!j->failed && j->report)
		j->report(j);
	if (j->finally)
		j->finally(j);
	if (j->timer >= 0)
		shell_hub->timer_cancel(shell_self, j->timer);
	shell_hub->work_cancel(shell_self, &j->step);
	if (current == j)
		current = NULL;
	j->over = 1;
	job_free_if_quiet(j);
	session_release();
}

/*
 * No new requests: once those in flight are back, close what is open,
 * then the report and the prompt.  Every completion of an ending job
 * comes back here.
 */
void
job_end(struct job *j)
{
	struct jreq *r;

	j->ending = 1;
	if (!j->held) {
		/* Not from inside the command: the session is not held yet,
		 * and its caller prompts when it returns. */
		shell_hub->work_post(shell_self, &j->step);
		return;
	}
	if (j->over || j->inflight)
		return;
	for (unsigned i = 0; i < JOB_HANDLES; i++) {
		if (!j->open[i].m)
			continue;
		if (!(r = job_slot(j))) {
			/* Every slot is lost: the handle goes unclosed. */
			j->open[i].m = NULL;
			continue;
		}
		r->fs.handle = j->open[i].handle;
		job_submit(j, r, j->open[i].m, FS_CLOSE, j->open[i].shown, NULL);
	}
	if (!j->inflight)
		finish(j);
}

/* Print the error line for `shown` (one per failing path); returns err. */
int
job_error(struct job *j, const char *shown, int err)
{
	fail("%s %s: %s", j->cmd, shown, fs_strerror(err));
	j->failed = 1;
	return err;
}

/* Volume m is going: the running job ends if anything of it is there. */
void
jobs_volume_gone(struct mount *m)
{
	struct job *j = current;
	const char *shown;

	if (!j || !refers_to(j, m))
		return;
	shown = write_off(j, m);
	if (!j->failed)
		fail("%s %s: the volume went away", j->cmd,
		    shown ? shown : m->name);
	j->failed = 1;
	job_end(j);
}

/* The shell stops: the hub takes its memory, timers and work back. */
void
jobs_forget(void)
{
	current = NULL;
	rt_strlcpy(fs_cwd, "/", sizeof(fs_cwd));
}

/* --- requests ------------------------------------------------------------ */

/* A free slot with its inputs cleared, or NULL. */
struct jreq *
job_slot(struct job *j)
{
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct jreq *r = &j->r[i];

		if (r->busy)
			continue;
		r->fs.flags = 0;
		r->fs.handle = 0;
		r->fs.path = r->fs.path2 = NULL;
		r->fs.offset = 0;
		r->fs.buf = NULL;
		r->fs.len = 0;
		return r;
	}
	return NULL;
}

/* Submit r (its inputs set) to volume m; `then` runs at its completion,
 * a refusal included. */
void
job_submit(struct job *j, struct jreq *r, struct mount *m, int op,
    const char *shown, job_fn then)
{
	int err;

	r->fs.size = sizeof(r->fs);
	r->fs.op = (uint16_t)op;
	r->fs.status = PB_OK;
	r->fs.result = 0;
	r->fs.client_data = r;
	r->m = m;
	r->then = then;
	r->shown = shown;
	r->busy = 1;
	j->inflight++;
	err = m->conn ? PB_CALL(m->conn, fs_ops, submit, &r->fs) :
	    PB_ECANCELED;
	if (err != PB_OK) {
		r->fs.status = err;
		shell_hub->work_post(shell_self, &r->fs.done);
	}
}

/* An operation on place p's path. */
void
job_path_op(struct job *j, const struct place *p, int op, uint16_t flags,
    void *buf, uint64_t len, job_fn then)
{
	struct jreq *r = job_slot(j);

	if (!r) {	/* a command's mistake: it has all slots out */
		pb_logf(shell_hub, shell_self, PB_LOG_ERR, "%s: no free "
		    "request slot", j->cmd);
		job_error(j, p->abs, PB_EBUSY);
		job_end(j);
		return;
	}
	r->fs.path = ON_VOLUME(p);
	r->fs.flags = flags;
	r->fs.buf = buf;
	r->fs.len = len;
	job_submit(j, r, p->m, op, p->abs, then);
}

static void
track_open(struct job *j, const struct jreq *r)
{
	for (unsigned i = 0; i < JOB_HANDLES; i++)
		if (!j->open[i].m) {
			j->open[i].m = r->m;
			j->open[i].handle = r->fs.handle;
			j->open[i].shown = r->shown;
			return;
		}
	pb_logf(shell_hub, shell_self, PB_LOG_ERR, "%s: more than %u files "
	    "open: %s is left open", j->cmd, JOB_HANDLES, r->shown);
}

static void
track_close(struct job *j, const struct jreq *r)
{
	for (unsigned i = 0; i < JOB_HANDLES; i++)
		if (j->open[i].m == r->m && j->open[i].handle == r->fs.handle)
			j->open[i].m = NULL;
	if (r->fs.status != PB_OK)
		job_error(j, r->shown, r->fs.status);
}

/* A request completed: the shell's work, posted by the provider. */
static void
req_done(void *arg)
{
	struct jreq *r = arg;
	struct job *j = r->job;

	r->busy = 0;
	if (r->lost) {
		r->lost = 0;
		j->lost--;
		job_free_if_quiet(j);
		return;
	}
	j->inflight--;
	j->progress++;
	if (r->fs.op == FS_OPEN && r->fs.status == PB_OK)
		track_open(j, r);
	else if (r->fs.op == FS_CLOSE)
		track_close(j, r);
	if (j->ending || !r->then)
		job_end(j);
	else
		r->then(j, r);
}

/* Run fn(j, NULL) as the shell's next work (a long listing prints a part
 * at a time, so no work item runs long). */
void
job_later(struct job *j, job_fn fn)
{
	j->later = fn;
	shell_hub->work_post(shell_self, &j->step);
}

static void
step_run(void *arg)
{
	struct job *j = arg;

	if (j->ending)
		job_end(j);
	else
		j->later(j, NULL);
}

/* --- a file read start to end ------------------------------------------- */

static void stream_read(struct job *j, struct jreq *r);

/* The next read into r's buffer; 0 when everything was asked for. */
static int
stream_issue(struct job *j, struct jreq *r)
{
	struct stream *s = &j->s;

	if (s->eof || s->next >= s->size)
		return 0;
	r->fs.path = NULL;
	r->fs.flags = 0;
	r->fs.handle = s->handle;
	r->fs.offset = s->next;
	r->fs.buf = r->buf;
	r->fs.len = s->chunk;
	r->at = s->next;
	s->next += s->chunk;
	job_submit(j, r, s->m, FS_READ, s->shown, stream_read);
	return 1;
}

/* r's buffer is free again: read on, or the end when all is consumed. */
static void
stream_refill(struct job *j, struct jreq *r)
{
	if (!stream_issue(j, r) && !j->inflight && !j->s.kept)
		j->s.done(j);
}

static void
stream_read(struct job *j, struct jreq *r)
{
	struct stream *s = &j->s;
	uint32_t n = (uint32_t)r->fs.result;

	if (r->fs.status != PB_OK || r->fs.result > s->chunk) {
		job_error(j, s->shown, r->fs.status != PB_OK ? r->fs.status :
		    PB_EIO);
		job_end(j);
		return;
	}
	/* fs.h: a volume's requests complete in the order submitted. */
	if (r->at != s->delivered) {
		pb_logf(shell_hub, shell_self, PB_LOG_ERR, "%s: read at %llu "
		    "completed before the one at %llu", r->m->conn->res,
		    (unsigned long long)r->at,
		    (unsigned long long)s->delivered);
		job_error(j, s->shown, PB_EIO);
		job_end(j);
		return;
	}
	s->delivered += n;
	if (n < s->chunk)
		s->eof = 1;
	if (n && s->consume(j, r, n)) {
		s->kept++;
		return;
	}
	stream_refill(j, r);
}

/* The consumer is done with the buffer it kept. */
void
stream_give_back(struct job *j, struct jreq *r)
{
	j->s.kept--;
	stream_refill(j, r);
}

static void
stream_opened(struct job *j, struct jreq *r)
{
	struct stream *s = &j->s;
	int issued = 0;

	if (r->fs.status != PB_OK) {
		job_error(j, s->shown, r->fs.status);
		job_end(j);
		return;
	}
	s->handle = r->fs.handle;
	s->size = r->fs.result;
	s->opened_ns = shell_hub->now_ns();
	for (unsigned i = 0; i < JOB_SLOTS && j->r[i].buf; i++)
		if (!j->r[i].busy)
			issued |= stream_issue(j, &j->r[i]);
	if (!issued && !j->inflight)
		s->done(j);
}

/*
 * Read place p from start to end, `slots` requests of `chunk` bytes in
 * flight; each piece goes to consume in order, then done.  Errors end
 * the job with their line.
 */
void
stream_open(struct job *j, const struct place *p, uint32_t chunk,
    unsigned slots, int (*consume)(struct job *, struct jreq *, uint32_t),
    void (*done)(struct job *))
{
	struct stream *s = &j->s;

	memset(s, 0, sizeof(*s));
	s->m = p->m;
	s->shown = p->abs;
	s->chunk = chunk;
	s->consume = consume;
	s->done = done;
	if (slots > JOB_SLOTS)
		slots = JOB_SLOTS;
	if (!(j->bufs = shell_hub->alloc(shell_self, (size_t)slots * chunk))) {
		job_error(j, p->abs, PB_ENOMEM);
		job_end(j);
		return;
	}
	for (unsigned i = 0; i < slots; i++)
		j->r[i].buf = j->bufs + (size_t)i * chunk;
	job_path_op(j, p, FS_OPEN, FS_O_READ, NULL, 0, stream_opened);
}
