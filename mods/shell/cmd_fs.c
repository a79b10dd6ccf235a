/*
 * cmd_fs.c - the commands that read files: ls, cat, hexdump, sha256sum,
 * fsread.  Each resolves its path, starts a job (fsjob.c) and holds the
 * session until the job ends.  Output that may be long is cut per
 * completion (a read's worth of text, a part of a listing), so no work
 * item keeps the event loop for long on a slow console.
 */
#include "files.h"
#include "sha256.h"

#define CAT_CHUNK 4096u
#define HEXDUMP_CHUNK 1024u	/* ~4.5 KiB of text per completion */
#define SHA_CHUNK (128u << 10)
#define FSREAD_CHUNK (1u << 20)
#define READ_SLOTS 3
#define LS_BATCH 8		/* directory entries per FS_READDIR */
#define LS_LINES 64		/* lines printed per work item */

/* --- ls ------------------------------------------------------------------ */

struct ls_ent {
	uint64_t size;
	uint32_t type, attr;
	struct fs_time mtime;
	uint32_t name;			/* offset into the name pool */
};

struct ls {
	struct place p;
	int longfmt;
	int count_only;		/* ls -c: how many entries, not which */
	struct fs_dirent *batch;	/* LS_BATCH of them */
	struct ls_ent *ents;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	size_t printed;
	struct fs_stat st;		/* ls of a file */
};

/* "-r-a" and the like: read-only, hidden, system, archive. */
static void
ls_line(const struct ls *ls, const struct ls_ent *e, const char *name)
{
	char when[24];
	int dir = e->type == FS_TYPE_DIR;

	if (!ls->longfmt) {
		say("%s%s", name, dir ? "/" : "");
		return;
	}
	time_text(&e->mtime, when, sizeof(when));
	say("%c%c%c%c%c %12llu  %-16s  %s%s", dir ? 'd' : '-',
	    e->attr & FS_ATTR_RO ? 'r' : '-',
	    e->attr & FS_ATTR_HIDDEN ? 'h' : '-',
	    e->attr & FS_ATTR_SYSTEM ? 's' : '-',
	    e->attr & FS_ATTR_ARCHIVE ? 'a' : '-',
	    (unsigned long long)e->size, when, name, dir ? "/" : "");
}

/* Room for one more entry and `len` bytes of name, growing by doubling. */
static int
ls_grow(struct ls *ls, size_t len)
{
	void *p;

	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 256;

		if (!(p = shell_hub->alloc(shell_self, cap * sizeof(*ls->ents))))
			return PB_ENOMEM;
		if (ls->ents)
			memcpy(p, ls->ents, ls->n * sizeof(*ls->ents));
		shell_hub->free(shell_self, ls->ents);
		ls->ents = p;
		ls->cap = cap;
	}
	if (ls->names_len + len > ls->names_cap) {
		size_t cap = ls->names_cap ? ls->names_cap * 2 : 8192;

		while (cap < ls->names_len + len)
			cap *= 2;
		if (!(p = shell_hub->alloc(shell_self, cap)))
			return PB_ENOMEM;
		if (ls->names)
			memcpy(p, ls->names, ls->names_len);
		shell_hub->free(shell_self, ls->names);
		ls->names = p;
		ls->names_cap = cap;
	}
	return PB_OK;
}

static int
ls_add(struct ls *ls, const struct fs_dirent *d)
{
	size_t len = strnlen(d->name, sizeof(d->name) - 1) + 1;
	struct ls_ent *e;

	if (ls_grow(ls, len) != PB_OK)
		return PB_ENOMEM;
	e = &ls->ents[ls->n++];
	*e = (struct ls_ent){ d->size, d->type, d->attr, d->mtime,
	    (uint32_t)ls->names_len };
	memcpy(ls->names + ls->names_len, d->name, len - 1);
	ls->names[ls->names_len + len - 1] = '\0';
	ls->names_len += len;
	return PB_OK;
}

/* By name, byte by byte (shell sort: no recursion, no extra memory). */
static void
ls_sort(struct ls *ls)
{
	for (size_t gap = ls->n / 2; gap; gap /= 2)
		for (size_t i = gap; i < ls->n; i++)
			for (size_t k = i; k >= gap && strcmp(ls->names +
			    ls->ents[k - gap].name, ls->names +
			    ls->ents[k].name) > 0; k -= gap) {
				struct ls_ent t = ls->ents[k];

				ls->ents[k] = ls->ents[k - gap];
				ls->ents[k - gap] = t;
			}
}

/* When the job is freed: its last request is back. */
static void
ls_free(struct job *j)
{
	struct ls *ls = j->data;

	shell_hub->free(shell_self, ls->ents);
	shell_hub->free(shell_self, ls->names);
	shell_hub->free(shell_self, ls->batch);
	ls->ents = NULL;
	ls->names = NULL;
	ls->batch = NULL;
}

/* A part of the listing, then the rest as the next work. */
static void
ls_print(struct job *j, struct jreq *unused)
{
	struct ls *ls = j->data;

	(void)unused;
	for (unsigned k = 0; k < LS_LINES && ls->printed < ls->n; k++) {
		const struct ls_ent *e = &ls->ents[ls->printed++];

		ls_line(ls, e, ls->names + e->name);
	}
	if (ls->printed < ls->n) {
		job_later(j, ls_print);
		return;
	}
	job_end(j);
}

static void
ls_closed(struct job *j, struct jreq *r)
{
	(void)r;
	job_places_clear(j);	/* the volume may go now: all is read */
	if (((struct ls *)j->data)->count_only) {
		say("%llu entries", (unsigned long long)((struct ls *)
		    j->data)->n);
		job_end(j);
		return;
	}
	ls_sort(j->data);
	ls_print(j, NULL);
}

static void
ls_read(struct job *j, struct jreq *r)
{
	struct ls *ls = j->data;
	struct jreq *next;
	uint32_t handle = r->fs.handle;
	uint64_t count = r->fs.result;

	if (r->fs.status != PB_OK) {
		job_error(j, ls->p.abs, r->fs.status);
		job_end(j);
		return;
	}
	for (uint64_t i = 0; i < count && i < LS_BATCH; i++)
		if (ls_add(ls, &ls->batch[i]) != PB_OK) {
			job_error(j, ls->p.abs, PB_ENOMEM);
			job_end(j);
			return;
		}
	next = job_slot(j);
	next->fs.handle = handle;
	if (count == 0) {
		job_submit(j, next, ls->p.m, FS_CLOSE, ls->p.abs, ls_closed);
		return;
	}
	next->fs.offset = FS_CURSOR;
	next->fs.buf = ls->batch;
	next->fs.len = LS_BATCH * sizeof(*ls->batch);
	job_submit(j, next, ls->p.m, FS_READDIR, ls->p.abs, ls_read);
}

static void
ls_stated(struct job *j, struct jreq *r)
{
	struct ls *ls = j->data;
	struct ls_ent e;

	if (r->fs.status != PB_OK) {
		job_error(j, ls->p.abs, r->fs.status);
		job_end(j);
		return;
	}
	e = (struct ls_ent){ ls->st.size, ls->st.type, ls->st.attr,
	    ls->st.mtime, 0 };
	ls_line(ls, &e, ls->p.abs);
	job_end(j);
}

static void
ls_opened(struct job *j, struct jreq *r)
{
	struct ls *ls = j->data;
	struct jreq *next;
	uint32_t handle = r->fs.handle;

	if (r->fs.status == PB_ENOTDIR) {	/* a file: ls shows it */
		job_path_op(j, &ls->p, FS_STAT, 0, &ls->st, sizeof(ls->st),
		    ls_stated);
		return;
	}
	if (r->fs.status != PB_OK) {
		job_error(j, ls->p.abs, r->fs.status);
		job_end(j);
		return;
	}
	next = job_slot(j);	/* r's slot, cleared */
	next->fs.handle = handle;
	next->fs.offset = FS_REWIND;
	next->fs.buf = ls->batch;
	next->fs.len = LS_BATCH * sizeof(*ls->batch);
	job_submit(j, next, ls->p.m, FS_READDIR, ls->p.abs, ls_read);
}

/* ls of "/": the mount points. */
static int
ls_root(int longfmt)
{
	struct mount *m;
	char props[MOUNT_PROPS], type[16];

	for (unsigned i = 0; (m = mount_nth(i)); i++) {
		mount_props(m, props, sizeof(props));
		if (!rt_prop_get(props, "type", type, sizeof(type)))
			rt_strlcpy(type, "?", sizeof(type));
		if (longfmt)
			say("d---- %-8s %s  %s/", type, m->conn->res, m->name);
		else
			say("%s/", m->name);
	}
	return PB_OK;
}

int
cmd_ls(int argc, char **argv)
{
	struct job *j;
	struct ls *ls;
	int longfmt = argc > 1 && strcmp(argv[1], "-l") == 0;
	int count = argc > 1 && strcmp(argv[1], "-c") == 0;
	int opt = longfmt || count;
	const char *arg = argc > 1 + opt ? argv[1 + opt] : ".";

	if (argc > 2 + opt || (argc > 1 && argv[1][0] == '-' && !opt))
		return fail("ls: usage: ls [-l|-c] [PATH]");
	if (!(j = job_new(argv[0], sizeof(*ls))))
		return PB_ENOMEM;
	ls = j->data;
	ls->longfmt = longfmt;
	ls->count_only = count;
	j->cleanup = ls_free;
	if (job_place(j, arg, &ls->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!ls->p.m) {
		job_drop(j);
		return ls_root(longfmt);
	}
	if (!(ls->batch = shell_hub->alloc(shell_self,
	    LS_BATCH * sizeof(*ls->batch)))) {
		job_drop(j);
		return fail("ls: out of memory");
	}
	job_path_op(j, &ls->p, FS_OPEN, FS_O_READ | FS_O_DIR, NULL, 0,
	    ls_opened);
	return job_hold(j);
}

/* --- cat, hexdump, sha256sum, fsread: a file start to end ---------------- */

struct reader {
	struct place p;
	char arg[LE_LINE_MAX];		/* as typed, for sha256sum's line */
	struct hexdump hd;
	struct sha256 sha;
	uint64_t bytes, t0, t1;
};

/* Start reading argv[1] with a job whose data is a struct reader. */
static int
read_file(char **argv, uint32_t chunk,
    int (*consume)(struct job *, struct jreq *, uint32_t),
    void (*done)(struct job *))
{
	struct job *j = job_new(argv[0], sizeof(struct reader));
	struct reader *rd;

	if (!j)
		return PB_ENOMEM;
	rd = j->data;
	rt_strlcpy(rd->arg, argv[1], sizeof(rd->arg));
	if (job_place(j, argv[1], &rd->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!rd->p.m || !*ON_VOLUME(&rd->p)) {
		return job_refuse(j, rd->p.abs, fs_strerror(PB_EISDIR));
	}
	hexdump_init(&rd->hd);
	sha256_init(&rd->sha);
	rd->t0 = shell_hub->now_ns();
	stream_open(j, &rd->p, chunk, READ_SLOTS, consume, done);
	return job_hold(j);
}

static void
read_done(struct job *j)
{
	job_end(j);
}

static int
cat_consume(struct job *j, struct jreq *r, uint32_t n)
{
	(void)j;
	out_write((const char *)r->buf, n);
	return 0;
}

int
cmd_cat(int argc, char **argv)
{
	(void)argc;
	return read_file(argv, CAT_CHUNK, cat_consume, read_done);
}

static void
hexdump_say(void *arg, const char *line)
{
	(void)arg;
	say("%s", line);
}

static int
hexdump_consume(struct job *j, struct jreq *r, uint32_t n)
{
	struct reader *rd = j->data;

	hexdump_feed(&rd->hd, r->buf, n, hexdump_say, NULL);
	return 0;
}

static void
hexdump_done(struct job *j)
{
	struct reader *rd = j->data;

	hexdump_end(&rd->hd, hexdump_say, NULL);
	job_end(j);
}

int
cmd_hexdump(int argc, char **argv)
{
	(void)argc;
	return read_file(argv, HEXDUMP_CHUNK, hexdump_consume, hexdump_done);
}

static int
sha_consume(struct job *j, struct jreq *r, uint32_t n)
{
	struct reader *rd = j->data;

	sha256_update(&rd->sha, r->buf, n);
	return 0;
}

static void
sha_report(struct job *j)
{
	struct reader *rd = j->data;
	uint8_t digest[SHA256_DIGEST];
	char hex[65];

	sha256_final(&rd->sha, digest);
	sha256_hex(digest, hex);
	say("%s  %s", hex, rd->arg);
}

static void
sha_done(struct job *j)
{
	j->report = sha_report;
	job_end(j);
}

int
cmd_sha256sum(int argc, char **argv)
{
	(void)argc;
	return read_file(argv, SHA_CHUNK, sha_consume, sha_done);
}

static int
fsread_consume(struct job *j, struct jreq *r, uint32_t n)
{
	struct reader *rd = j->data;

	(void)r;
	rd->bytes += n;
	return 0;
}

static void
fsread_report(struct job *j)
{
	struct reader *rd = j->data;
	/* From the open on, as blkread times its reads: the buffers and the
	 * lookup are not the rate of the reads. */
	uint64_t ns = rd->t1 - (j->s.opened_ns ? j->s.opened_ns : rd->t0);
	char rate[32];

	rate_text(rd->bytes, ns, rate, sizeof(rate));
	say("fsread %s: %llu bytes in %llu.%03llu s, %s", rd->p.abs,
	    (unsigned long long)rd->bytes,
	    (unsigned long long)(ns / 1000000000ull),
	    (unsigned long long)(ns / 1000000ull % 1000), rate);
}

static void
fsread_done(struct job *j)
{
	struct reader *rd = j->data;

	rd->t1 = shell_hub->now_ns();
	j->report = fsread_report;
	job_end(j);
}

int
cmd_fsread(int argc, char **argv)
{
	(void)argc;
	return read_file(argv, FSREAD_CHUNK, fsread_consume, fsread_done);
}
