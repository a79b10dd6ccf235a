/*
 * state.c - what a swap of the fs provider hands over (abi/fs.h struct
 * fs_state): the volumes by their resource and block identity, every open
 * handle as (path, first cluster, size, cursor, flags), and the requests
 * queued after the quiesce began, which the new provider runs once it has
 * mounted.  The handles keep their numbers: a client goes on with them.
 *
 * Import checks the whole blob before taking anything.  A handle whose
 * file is not where its path says, with the same first cluster, comes
 * back dead (every request on it fails with PB_ENOENT) and is logged.
 *
 * A state taken after a fault also carries the units fat had not written
 * back, those it can vouch for (vouch.c): the mount takes them into the
 * new cache, dirty, before it reads anything else of the volume
 * (state_restore), so what the clients were told was written is.
 */
#include "fat.h"

#define STATE_MAX_REQS 4096

static unsigned
vol_index(const struct fat_vol *v)
{
	unsigned k = 0;

	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		if (fm.vols[i] == v)
			return k;
		k += fm.vols[i] != NULL;
	}
	return ~0u;
}

/*
 * v's jobs not completed, in the order they were submitted: the parked
 * reads (done but for their data), the running one, the queue.  After a
 * quiesce only the queue has any; a state taken after a fault (the hub's
 * replay of a restart, PB_MOD_RESTATE) has all three, and the new
 * instance runs each again from its start (fs.h: a request is whole or
 * not done).  Index i of them, or NULL past the last.
 */
static const struct fat_job *
pending_job(const struct fat_vol *v, unsigned i)
{
	for (const struct fat_job *j = v->park_head; j; j = j->next)
		if (i-- == 0)
			return j;
	if (v->op.job && (v->op.job->kind == JOB_FS ||
	    v->op.job->kind == JOB_MODSRC) && i-- == 0)
		return v->op.job;
	for (const struct fat_job *j = v->head; j; j = j->next)
		if (i-- == 0)
			return j;
	return NULL;
}

static unsigned
queued(const struct fat_vol *v, uint32_t kind)
{
	const struct fat_job *j;
	unsigned n = 0;

	for (unsigned i = 0; (j = pending_job(v, i)); i++)
		n += j->kind == kind;
	return n;
}

static size_t
state_size(unsigned nv, unsigned nh, unsigned nr, unsigned nm)
{
	return sizeof(struct fs_state) + nv * sizeof(struct fs_state_vol) +
	    nh * sizeof(struct fs_state_handle) + (size_t)(nr + nm) *
	    sizeof(void *);
}

/* A volume's unwritten units as runs: counted, and written from `out`
 * up to `end` when out is not NULL. */
struct runs {
	uint8_t *out, *end;
	size_t bytes;
	unsigned n;
	int over;			/* more than fit before end */
};

static void
run_out(struct fat_vol *v, const struct unit *u, const uint8_t *data,
    void *arg)
{
	struct runs *r = arg;
	struct fs_state_run run = {
		.offset = (uint64_t)u->lba * v->g.bps,
		.bytes = (uint32_t)u->nsect * v->g.bps,
		.order = u->dirty,
	};

	if (r->out && (size_t)(r->end - r->out) < sizeof(run) + run.bytes) {
		r->over = 1;
	} else if (r->out) {
		memcpy(r->out, &run, sizeof(run));
		memcpy(r->out + sizeof(run), data, run.bytes);
		r->out += sizeof(run) + run.bytes;
	}
	r->bytes += sizeof(run) + run.bytes;
	r->n++;
}

static struct runs
vol_runs(struct fat_vol *v, uint8_t *out, uint8_t *end)
{
	struct runs r = { out, end, 0, 0, 0 };

	if (v->c.ndirty && cache_each_unwritten(v, run_out, &r) != PB_OK) {
		if (out)
			LOGF(PB_LOG_ERR, "fs:%s: %u blocks written since the "
			    "last sync are not handed over: the cache holding "
			    "them is not as fat left it; the disk stays as of "
			    "that sync", v->res_name, v->c.ndirty);
		r = (struct runs){ out, end, 0, 0, 0 };
	}
	return r;
}

int
state_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	struct fs_state st = { 0 };
	struct fs_state_vol *sv;
	struct fs_state_handle *sh;
	void **reqs, **mreqs;
	uint8_t *runs;
	size_t run_bytes = 0;

	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];

		if (!v)
			continue;
		st.nvols++;
		for (unsigned k = 0; k < FAT_MAX_HANDLES; k++)
			st.nhandles += v->handles[k].id != 0;
		st.nreqs += queued(v, JOB_FS);
		st.nmreqs += queued(v, JOB_MODSRC);
		run_bytes += vol_runs(v, NULL, NULL).bytes;
	}
	*version = FS_STATE_VERSION;
	*len = state_size(st.nvols, st.nhandles, st.nreqs, st.nmreqs) +
	    run_bytes;
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	memset(buf, 0, *len);
	memcpy(buf, &st, sizeof(st));
	sv = (struct fs_state_vol *)((struct fs_state *)buf + 1);
	sh = (struct fs_state_handle *)(sv + st.nvols);
	reqs = (void **)(sh + st.nhandles);
	mreqs = reqs + st.nreqs;
	runs = (uint8_t *)(mreqs + st.nmreqs);
	for (unsigned i = 0; i < FAT_MAX_VOLS; i++) {
		struct fat_vol *v = fm.vols[i];
		const struct fat_job *j;
		struct runs r;

		if (!v)
			continue;
		rt_snprintf(sv->res, sizeof(sv->res), "fs:%s", v->res_name);
		rt_strlcpy(sv->disk, v->disk, sizeof(sv->disk));
		rt_strlcpy(sv->path, v->bpath, sizeof(sv->path));
		sv->serial = v->g.serial;
		/* Set, or being set (its write may be on the disk already:
		 * campaign usb seed 8086 #235 faulted right then). */
		sv->flags = v->dirty_on_disk || v->op.marking ?
		    FS_STATE_VOL_DIRTY : 0;
		r = vol_runs(v, runs, (uint8_t *)buf + *len);
		if (r.over)		/* more than when it was sized */
			return PB_EINVAL;
		sv->nruns = v->runs_exported = r.n;
		runs = r.out;
		for (unsigned k = 0; (j = pending_job(v, k)); k++) {
			if (j->kind == JOB_FS) {
				*reqs++ = j->req;
				sv->nreqs++;
			} else if (j->kind == JOB_MODSRC) {
				*mreqs++ = j->req;
				sv->nmreqs++;
			}
		}
		for (unsigned k = 0; k < FAT_MAX_HANDLES; k++) {
			const struct fat_handle *h = &v->handles[k];

			if (!h->id)
				continue;
			sh->vol = vol_index(v);
			sh->handle = h->id;
			sh->flags = h->flags;
			sh->first = h->node.first;
			sh->size = h->node.size;
			sh->cursor = h->cursor;
			rt_strlcpy(sh->path, h->path, sizeof(sh->path));
			sh++;
		}
		sv++;
	}
	return PB_OK;
}

static int
terminated(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

/* The end of a volume's n runs from p, not past end; NULL unless each
 * is sane and their data is at most the cache's size (the mount takes
 * them into it whole). */
static const uint8_t *
runs_end(const uint8_t *p, const uint8_t *end, unsigned n)
{
	struct fs_state_run r;
	size_t bytes = 0;

	for (unsigned k = 0; k < n; k++) {
		if ((size_t)(end - p) < sizeof(r))
			return NULL;
		memcpy(&r, p, sizeof(r));
		if (r.bytes == 0 || r.bytes % 512 || r.offset % 512 ||
		    r.order == WB_NONE || r.order >= WB_NCLASS ||
		    r.reserved || (size_t)(end - p) - sizeof(r) < r.bytes)
			return NULL;
		bytes += r.bytes;
		p += sizeof(r) + r.bytes;
	}
	return bytes <= fm.cache_bytes ? p : NULL;
}

/* Is the blob whole and sane?  Nothing is taken before it is. */
static int
state_valid(const void *buf, size_t len, uint32_t version)
{
	const struct fs_state *st = buf;
	const struct fs_state_vol *sv;
	const struct fs_state_handle *sh;
	const uint8_t *runs, *end = (const uint8_t *)buf + len;
	unsigned nr = 0, nm = 0;

	if (version != FS_STATE_VERSION || !buf || len < sizeof(*st))
		return 0;
	if (st->nvols > FAT_MAX_VOLS || st->nhandles > FAT_MAX_VOLS *
	    FAT_MAX_HANDLES || st->nreqs > STATE_MAX_REQS ||
	    st->nmreqs > STATE_MAX_REQS ||
	    len < state_size(st->nvols, st->nhandles, st->nreqs, st->nmreqs))
		return 0;
	sv = (const struct fs_state_vol *)(st + 1);
	for (unsigned i = 0; i < st->nvols; i++, sv++) {
		if (!terminated(sv->res, sizeof(sv->res)) ||
		    strncmp(sv->res, "fs:", 3) != 0 ||
		    !terminated(sv->disk, sizeof(sv->disk)) ||
		    !terminated(sv->path, sizeof(sv->path)) ||
		    (sv->flags & ~FS_STATE_VOL_DIRTY))
			return 0;
		nr += sv->nreqs;
		nm += sv->nmreqs;
	}
	if (nr != st->nreqs || nm != st->nmreqs)
		return 0;
	sh = (const struct fs_state_handle *)sv;
	for (unsigned i = 0; i < st->nhandles; i++, sh++)
		if (sh->vol >= st->nvols || !terminated(sh->path,
		    sizeof(sh->path)) || (sh->handle & 0xff) == 0 ||
		    (sh->handle & 0xff) > FAT_MAX_HANDLES)
			return 0;
	runs = (const uint8_t *)((void *const *)sh + nr + nm);
	sv = (const struct fs_state_vol *)(st + 1);
	for (unsigned i = 0; i < st->nvols && runs; i++, sv++)
		runs = runs_end(runs, end, sv->nruns);
	return runs != NULL;
}

/*
 * A volume imported without a standby counterpart (a restart after a
 * fault, hub/replay.c: the old instance's resources are gone) is
 * published at once, under its old name, so its clients are rebound to
 * it before it is mounted; what they submit meanwhile waits in its queue
 * behind the mount, as after a swap.  The mount sets the properties.
 */
static void
publish_early(struct fat_vol *v)
{
	char props[256];

	if (v->res || !v->res_name[0])
		return;
	rt_snprintf(props, sizeof(props), "type=fat disk=%s path=%s", v->disk,
	    v->bpath[0] ? v->bpath : "-");
	if (!(v->res = fm.hub->publish(fm.self, FS_IFACE, v->res_name, props,
	    &fat_fs_ops, v)))
		LOGF(PB_LOG_WARN, "fs:%s: cannot publish it before its mount",
		    v->res_name);
}

/* The volume of a state entry: the standby one of that name, or new. */
static struct fat_vol *
import_vol(const struct fs_state_vol *sv)
{
	struct fat_vol *v;

	for (unsigned i = 0; i < FAT_MAX_VOLS; i++)
		if ((v = fm.vols[i]) && strcmp(v->res_name, sv->res + 3) == 0)
			goto found;
	if (!(v = vol_new(NULL, sv->disk, 0)))
		return NULL;
	/* A name fat never gives, which a stray write made in the faulted
	 * instance (campaign default seed 15 #129: four bytes of binary)
	 * and its clients would wait for in vain: named again at the
	 * mount, as a fresh volume is. */
	if (vol_name_ok(sv->res + 3))
		rt_strlcpy(v->res_name, sv->res + 3, sizeof(v->res_name));
	else
		LOGF(PB_LOG_WARN, "%s: the volume's name in the state is not "
		    "a name: named again at its mount", sv->disk);
found:
	rt_strlcpy(v->disk, sv->disk, sizeof(v->disk));
	rt_strlcpy(v->bpath, sv->path, sizeof(v->bpath));
	v->dirty_ours = (sv->flags & FS_STATE_VOL_DIRTY) != 0;
	publish_early(v);
	return v;
}

/* v's runs from p, kept for its mount (state_restore); where the next
 * volume's start, or NULL when there is no memory for them. */
static const uint8_t *
take_runs(struct fat_vol *v, const uint8_t *p, unsigned n,
    const uint8_t *end)
{
	const uint8_t *next = runs_end(p, end, n);	/* checked: not NULL */

	handed_free(v);
	if (n == 0)
		return next;
	if (!(v->handed = fm.hub->alloc(fm.self, (size_t)(next - p))))
		return NULL;
	memcpy(v->handed, p, (size_t)(next - p));
	v->handed_len = (size_t)(next - p);
	v->nhanded = n;
	return next;
}

int
state_import(const void *buf, size_t len, uint32_t version)
{
	const struct fs_state *st = buf;
	const struct fs_state_vol *sv;
	const struct fs_state_handle *sh;
	void *const *reqs, *const *mreqs;
	const uint8_t *runs;
	size_t hbytes;

	if (!state_valid(buf, len, version))
		return PB_ESTATE;
	sv = (const struct fs_state_vol *)(st + 1);
	sh = (const struct fs_state_handle *)(sv + st->nvols);
	reqs = (void *const *)(sh + st->nhandles);
	mreqs = reqs + st->nreqs;
	runs = (const uint8_t *)(mreqs + st->nmreqs);
	hbytes = st->nhandles * sizeof(*sh);
	if (hbytes && !(fm.imp = fm.hub->alloc(fm.self, hbytes)))
		return PB_ENOMEM;
	if (hbytes)
		memcpy(fm.imp, sh, hbytes);
	fm.nimp = st->nhandles;
	for (unsigned i = 0; i < st->nvols; i++, sv++) {
		struct fat_vol *v = import_vol(sv);

		if (!v)
			return PB_ENOMEM;
		fm.imp_vol[i] = v;
		/* Queued now, run after the mount activate queues first:
		 * the mount goes to the head (vol_activate). */
		for (unsigned k = 0; k < sv->nreqs; k++, reqs++)
			job_queue(v, (struct fat_job *)((struct fs_req *)
			    *reqs)->scratch, JOB_FS, *reqs);
		for (unsigned k = 0; k < sv->nmreqs; k++, mreqs++)
			job_queue(v, (struct fat_job *)((struct modsrc_req *)
			    *mreqs)->scratch, JOB_MODSRC, *mreqs);
		if (!(runs = take_runs(v, runs, sv->nruns,
		    (const uint8_t *)buf + len)))
			return PB_ENOMEM;
	}
	if (st->nhandles || st->nreqs || st->nmreqs)
		LOGF(PB_LOG_INFO, "took over %u volumes, %u handles, %u "
		    "requests", st->nvols, st->nhandles, st->nreqs + st->nmreqs);
	return PB_OK;
}

void
handed_free(struct fat_vol *v)
{
	if (v->handed)
		fm.hub->free(fm.self, v->handed);
	v->handed = NULL;
	v->handed_len = 0;
	v->nhanded = 0;
}

/* Run r into the cache, dirty with its order as class: a sector at a
 * time, a whole unit without reading it first.  Taken again whole after
 * a miss (the copy is the same). */
static int
restore_run(struct fat_vol *v, const struct fs_state_run *r,
    const uint8_t *data)
{
	uint32_t bps = v->g.bps, first = (uint32_t)(r->offset / bps);
	uint32_t n = r->bytes / bps;
	uint8_t *p;
	int err;

	for (uint32_t i = 0; i < n; i++) {
		int flags = CG_NOUNDO | (cache_whole_unit(v, first + i, 0,
		    (uint64_t)(n - i) * bps) ? CG_NEW : 0);

		if ((err = cache_write(v, first + i, r->order, flags, &p)) !=
		    PB_OK)
			return err;
		memcpy(p, data + (size_t)i * bps, bps);
	}
	return PB_OK;
}

/* Do v's runs lie on its sectors, whole? */
static int
runs_fit(const struct fat_vol *v)
{
	const struct fs_state_run *r;

	for (size_t at = 0; at < v->handed_len; at += sizeof(*r) + r->bytes) {
		r = (const struct fs_state_run *)(v->handed + at);
		if (r->offset % v->g.bps || r->bytes % v->g.bps ||
		    r->offset / v->g.bps + r->bytes / v->g.bps >
		    v->g.total_sectors)
			return 0;
	}
	return 1;
}

/* Why v's runs cannot be taken (before the first), or NULL. */
static const char *
cannot_restore(const struct fat_vol *v)
{
	if (v->ro)
		return "the volume is read-only";
	if (!v->dirty_ours || !(v->dirty_on_disk || v->g.type == FAT12))
		return "the volume was not marked dirty";
	if (!runs_fit(v))
		return "they do not fit the volume";
	return NULL;
}

/*
 * A mount step, before anything else is read through the cache: the
 * units the faulted instance before us had not written back, dirty in
 * ours, on a volume it marked dirty (they are written as its own were:
 * at the next sync).  o->pos: bytes of v->handed taken so far.
 */
int
state_restore(struct fat_vol *v, struct fat_op *o)
{
	const char *lost;
	int err;

	if (!v->handed)
		return PB_OK;
	if (o->pos == 0 && (lost = cannot_restore(v))) {
		LOGF(PB_LOG_ERR, "%s: %u blocks written before the restart "
		    "are lost: %s", v->disk, v->nhanded, lost);
		handed_free(v);
		return PB_OK;
	}
	while (o->pos < v->handed_len) {
		const struct fs_state_run *r = (const struct fs_state_run *)
		    (v->handed + o->pos);

		if ((err = restore_run(v, r, (const uint8_t *)(r + 1))) !=
		    PB_OK)
			return err;
		o->pos += sizeof(*r) + r->bytes;
	}
	v->dirty_on_disk = 1;		/* FAT12: no flag says so */
	LOGF(PB_LOG_INFO, "%s: %u blocks written before the restart taken "
	    "back, to be written", v->disk, v->nhanded);
	handed_free(v);
	return PB_OK;
}

/* A mount step: the imported handles of v, found again by path. */
int
state_reattach(struct fat_vol *v, struct fat_op *o)
{
	for (unsigned i = 0; i < fm.nimp; i++) {
		const struct fs_state_handle *sh = &fm.imp[i];
		struct fat_handle *h;
		struct fat_node n;
		int r, ok;

		if (fm.imp_vol[sh->vol] != v || handle_find(v, sh->handle))
			continue;
		r = path_walk(v, sh->path, &o->w);
		if (r == FAT_MISS)
			return r;
		ok = r == PB_OK && o->w.found &&
		    walk_node(v, &o->w, &n) == PB_OK && n.first == sh->first;
		if (!(h = handle_new(v, sh->handle)))
			continue;
		h->flags = sh->flags;
		h->cursor = sh->cursor;
		rt_strlcpy(h->path, sh->path, sizeof(h->path));
		if (ok) {
			h->node = n;
			continue;
		}
		h->dead = 1;
		LOGF(PB_LOG_WARN, "fs:%s: handle %x on %s: the file is not "
		    "there any more", v->res_name, sh->handle, sh->path);
	}
	return PB_OK;
}
