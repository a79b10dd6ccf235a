/*
 * cmd_fsedit.c - the commands that change files: cp, mv, rm, mkdir,
 * rmdir, write, and echo's `> PATH` / `>> PATH`.
 *
 * cp and mv name a destination that may be a directory (the source goes
 * into it under its own name) or a file (replaced).  mv on one volume is
 * a rename; across volumes it is a copy, then the source goes.  rm, mkdir
 * and rmdir take several paths, one after another; each failure is its
 * own error line and the others still happen.
 */
#include "files.h"

#define CP_CHUNK (64u << 10)
#define CP_SLOTS 3

/* --- cp and mv ----------------------------------------------------------- */

struct xfer {
	struct place src, dst;
	struct fs_stat sst, dst_st;
	int move;
	int into;		/* dst was a directory: dst/base(src) now */
	int exists;		/* dst is a file that gets replaced */
	uint32_t out;		/* the destination's handle */
};

static void xfer_dst_stated(struct job *j, struct jreq *r);

static int
failed_op(struct job *j, const char *shown, int err)
{
	job_error(j, shown, err);
	job_end(j);
	return err;
}

/* The last step (the source renamed or removed): its error, or done. */
static void
xfer_src_done(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	if (r->fs.status != PB_OK)
		failed_op(j, x->src.abs, r->fs.status);
	else
		job_end(j);
}

/* Both files closed (the copy written out): the source goes. */
static void
xfer_closed(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	(void)r;
	if (j->inflight)
		return;		/* the other close */
	if (j->failed)		/* a close failed: the source stays */
		job_end(j);
	else
		job_path_op(j, &x->src, FS_UNLINK, 0, NULL, 0, xfer_src_done);
}

static void
xfer_copied(struct job *j)
{
	struct xfer *x = j->data;
	struct jreq *r;

	if (!x->move) {
		job_end(j);
		return;
	}
	r = job_slot(j);
	r->fs.handle = j->s.handle;
	job_submit(j, r, x->src.m, FS_CLOSE, x->src.abs, xfer_closed);
	r = job_slot(j);
	r->fs.handle = x->out;
	job_submit(j, r, x->dst.m, FS_CLOSE, x->dst.abs, xfer_closed);
}

static void
xfer_written(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	if (r->fs.status != PB_OK || r->fs.result != r->fs.len) {
		failed_op(j, x->dst.abs, r->fs.status != PB_OK ?
		    r->fs.status : PB_ENOSPC);
		return;
	}
	stream_give_back(j, r);
}

/* A piece of the source: written at the same offset of the copy. */
static int
xfer_consume(struct job *j, struct jreq *r, uint32_t n)
{
	struct xfer *x = j->data;

	r->fs.handle = x->out;
	r->fs.offset = r->at;
	r->fs.buf = r->buf;
	r->fs.len = n;
	job_submit(j, r, x->dst.m, FS_WRITE, x->dst.abs, xfer_written);
	return 1;
}

static void
xfer_dst_opened(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	if (r->fs.status != PB_OK) {
		failed_op(j, x->dst.abs, r->fs.status);
		return;
	}
	x->out = r->fs.handle;
	stream_open(j, &x->src, CP_CHUNK, CP_SLOTS, xfer_consume,
	    xfer_copied);
}

static void
xfer_rename(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	if (r && r->fs.status != PB_OK) {	/* the old destination */
		failed_op(j, x->dst.abs, r->fs.status);
		return;
	}
	r = job_slot(j);
	r->fs.path = ON_VOLUME(&x->src);
	r->fs.path2 = ON_VOLUME(&x->dst);
	job_submit(j, r, x->src.m, FS_RENAME, x->src.abs, xfer_src_done);
}

/* Where the destination is known: rename, or copy. */
static void
xfer_go(struct job *j)
{
	struct xfer *x = j->data;

	if (x->move && x->src.m == x->dst.m) {
		if (x->exists)	/* rename will not replace a file */
			job_path_op(j, &x->dst, FS_UNLINK, 0, NULL, 0,
			    xfer_rename);
		else
			xfer_rename(j, NULL);
		return;
	}
	if (x->sst.type == FS_TYPE_DIR && x->move) {
		fail("%s %s: a directory cannot move to another volume",
		    j->cmd, x->src.abs);
		j->failed = 1;
		job_end(j);
		return;
	}
	if (x->sst.type == FS_TYPE_DIR) {
		failed_op(j, x->src.abs, PB_EISDIR);
		return;
	}
	job_path_op(j, &x->dst, FS_OPEN, FS_O_WRITE | FS_O_CREATE |
	    FS_O_TRUNC, NULL, 0, xfer_dst_opened);
}

/* Is `inner` the directory `outer` or under it (by path)? */
static int
path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	return strncmp(inner, outer, n) == 0 &&
	    (inner[n] == '\0' || inner[n] == '/');
}

/* The destination is a directory: the source goes into it. */
static void
xfer_into(struct job *j)
{
	struct xfer *x = j->data;
	char path[FS_PATH_MAX];

	x->into = 1;
	if (path_join(x->dst.abs, path_base(x->src.abs), path,
	    sizeof(path)) != PB_OK || job_place(j, path, &x->dst) != PB_OK) {
		job_end(j);
		return;
	}
	job_path_op(j, &x->dst, FS_STAT, 0, &x->dst_st, sizeof(x->dst_st),
	    xfer_dst_stated);
}

static void
xfer_dst_stated(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;
	/* FAT has no links: one entry, one path (ASCII case aside), and
	 * an id unique among files with clusters. */
	int same = x->src.m == x->dst.m && r->fs.status == PB_OK &&
	    (name_eq(ON_VOLUME(&x->src), ON_VOLUME(&x->dst)) ||
	    (x->sst.id && x->dst_st.id == x->sst.id));

	if (r->fs.status == PB_OK && x->dst_st.type == FS_TYPE_DIR &&
	    !x->into && !same) {
		xfer_into(j);
		return;
	}
	if (r->fs.status != PB_OK && r->fs.status != PB_ENOENT) {
		failed_op(j, x->dst.abs, r->fs.status);
		return;
	}
	if (x->sst.type == FS_TYPE_DIR && x->src.m == x->dst.m &&
	    path_within(x->dst.abs, x->src.abs)) {
		fail("%s %s: cannot go into itself (%s)", j->cmd, x->src.abs,
		    x->dst.abs);
		j->failed = 1;
		job_end(j);
		return;
	}
	if (same && !x->move) {
		fail("%s %s: %s is the same file", j->cmd, x->src.abs,
		    x->dst.abs);
		j->failed = 1;
		job_end(j);
		return;
	}
	if (r->fs.status == PB_OK && x->dst_st.type == FS_TYPE_DIR && !same) {
		failed_op(j, x->dst.abs, PB_EISDIR);
		return;
	}
	/* A change of case names the same entry: a plain rename. */
	x->exists = r->fs.status == PB_OK && !same;
	xfer_go(j);
}

static void
xfer_src_stated(struct job *j, struct jreq *r)
{
	struct xfer *x = j->data;

	if (r->fs.status != PB_OK) {
		failed_op(j, x->src.abs, r->fs.status);
		return;
	}
	if (!x->dst.m) {	/* the destination is the tree's root */
		failed_op(j, x->dst.abs, PB_EROFS);
		return;
	}
	job_path_op(j, &x->dst, FS_STAT, 0, &x->dst_st, sizeof(x->dst_st),
	    xfer_dst_stated);
}

static int
xfer_start(char **argv, int move)
{
	struct job *j = job_new(argv[0], sizeof(struct xfer));
	struct xfer *x;

	if (!j)
		return PB_ENOMEM;
	x = j->data;
	x->move = move;
	if (job_place(j, argv[1], &x->src) != PB_OK ||
	    job_place(j, argv[2], &x->dst) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!x->src.m || !*ON_VOLUME(&x->src)) {
		return job_refuse(j, x->src.abs, "is a mount point");
	}
	job_path_op(j, &x->src, FS_STAT, 0, &x->sst, sizeof(x->sst),
	    xfer_src_stated);
	return job_hold(j);
}

int
cmd_cp(int argc, char **argv)
{
	(void)argc;
	return xfer_start(argv, 0);
}

int
cmd_mv(int argc, char **argv)
{
	(void)argc;
	return xfer_start(argv, 1);
}

/* --- rm, mkdir, rmdir: each path in turn --------------------------------- */

struct each {
	struct place p;
	int op;
	int next;		/* the argument to do next */
};

static void each_step(struct job *j, struct jreq *r);

static void
each_done(struct job *j, struct jreq *r)
{
	if (r->fs.status != PB_OK)
		job_error(j, r->shown, r->fs.status);
	each_step(j, NULL);
}

/* The next path that resolves, or the end. */
static void
each_step(struct job *j, struct jreq *r)
{
	struct each *e = j->data;

	(void)r;
	job_places_clear(j);
	while (e->next < j->argc) {
		if (job_place(j, j->argv[e->next++], &e->p) != PB_OK)
			continue;
		if (!e->p.m || !*ON_VOLUME(&e->p)) {
			fail("%s %s: is a mount point", j->cmd, e->p.abs);
			j->failed = 1;
			continue;
		}
		job_path_op(j, &e->p, e->op, 0, NULL, 0, each_done);
		return;
	}
	job_end(j);
}

static int
each_start(int argc, char **argv, int op)
{
	struct job *j = job_new(argv[0], sizeof(struct each));
	struct each *e;

	if (!j)
		return PB_ENOMEM;
	if (job_keep_args(j, argc, argv) != PB_OK) {
		job_drop(j);
		return PB_EINVAL;
	}
	e = j->data;
	e->op = op;
	e->next = 1;
	each_step(j, NULL);
	return job_hold(j);
}

int
cmd_rm(int argc, char **argv)
{
	return each_start(argc, argv, FS_UNLINK);
}

int
cmd_mkdir(int argc, char **argv)
{
	return each_start(argc, argv, FS_MKDIR);
}

int
cmd_rmdir(int argc, char **argv)
{
	return each_start(argc, argv, FS_RMDIR);
}

/* --- write, echo > ------------------------------------------------------- */

struct wr {
	struct place p;
	char text[LE_LINE_MAX + 1];
	size_t len;
	int append;
};

static void
wr_written(struct job *j, struct jreq *r)
{
	struct wr *w = j->data;

	if (r->fs.status != PB_OK || r->fs.result != w->len)
		job_error(j, w->p.abs, r->fs.status != PB_OK ? r->fs.status :
		    PB_ENOSPC);
	job_end(j);
}

static void
wr_opened(struct job *j, struct jreq *r)
{
	struct wr *w = j->data;
	uint32_t handle = r->fs.handle;

	if (r->fs.status != PB_OK) {
		failed_op(j, w->p.abs, r->fs.status);
		return;
	}
	r = job_slot(j);
	r->fs.handle = handle;
	r->fs.offset = w->append ? FS_CURSOR : 0;
	r->fs.buf = w->text;
	r->fs.len = w->len;
	job_submit(j, r, w->p.m, FS_WRITE, w->p.abs, wr_written);
}

/*
 * The words argv[first..last) joined by spaces, and a newline, into the
 * file at `path`: replacing what it held, or after it (append).
 */
int
write_words(const char *cmd, const char *path, int append, int first,
    int last, char **argv)
{
	struct job *j = job_new(cmd, sizeof(struct wr));
	struct wr *w;

	if (!j)
		return PB_ENOMEM;
	w = j->data;
	w->append = append;
	if (job_place(j, path, &w->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!w->p.m || !*ON_VOLUME(&w->p)) {
		return job_refuse(j, w->p.abs, fs_strerror(PB_EISDIR));
	}
	/* The words were cut from one line: they fit in one again (and
	 * are cut if not, leaving room for the newline). */
	for (int i = first; i < last && w->len < sizeof(w->text) - 2; i++)
		w->len += (size_t)rt_snprintf(w->text + w->len,
		    sizeof(w->text) - w->len - 1, "%s%s", i > first ? " " : "",
		    argv[i]);
	if (w->len > sizeof(w->text) - 2)
		w->len = sizeof(w->text) - 2;
	w->text[w->len++] = '\n';
	job_path_op(j, &w->p, FS_OPEN, FS_O_WRITE | FS_O_CREATE |
	    (append ? FS_O_APPEND : FS_O_TRUNC), NULL, 0, wr_opened);
	return job_hold(j);
}

int
cmd_write(int argc, char **argv)
{
	return write_words(argv[0], argv[1], 0, 2, argc, argv);
}

/* echo WORDS > PATH, echo WORDS >> PATH: 1 and the command's result when
 * the line redirects, 0 when it is a plain echo. */
int
echo_redirect(int argc, char **argv, int *result)
{
	const char *op = argc >= 3 ? argv[argc - 2] : "";

	if (strcmp(op, ">") != 0 && strcmp(op, ">>") != 0)
		return 0;
	*result = write_words(argv[0], argv[argc - 1], op[1] == '>', 1,
	    argc - 2, argv);
	return 1;
}
