/*
 * ops.c - the `fs` interface (abi/fs.h): requests checked at submit and
 * queued on their volume; each runs as steps (run.c).
 *
 * A step that changes the volume checks everything first, so that a
 * refused request changes nothing: PB_EEXIST, PB_ENOENT, PB_EROFS and
 * the rest come before the first write, and a failing write undoes the
 * step.  Requests that free clusters (unlink, rmdir, truncate) first
 * update the directory, then free the chain in bounded steps.
 */
#include "fat.h"

/* A handle's file as a node; the root when it is the root. */
void
node_root(struct fat_vol *v, struct fat_node *n)
{
	memset(n, 0, sizeof(*n));
	n->first = dir_root(v);
	n->attr = ATTR_DIRECTORY;
	n->root = 1;
}

void
node_from_dent(struct fat_node *n, const struct dent *d, uint32_t first)
{
	memset(n, 0, sizeof(*n));
	n->first = first;
	n->size = d->e.attr & ATTR_DIRECTORY ? 0 : d->e.file_size;
	n->attr = d->e.attr;
	n->loc = d->loc;
}

static int
same_entry(const struct dloc *a, const struct dloc *b)
{
	return a->dir == b->dir && a->idx == b->idx;
}

/* Every handle on n's file learns its new size and chain. */
void
handles_update(struct fat_vol *v, const struct fat_node *n)
{
	for (unsigned i = 0; i < FAT_MAX_HANDLES; i++) {
		struct fat_handle *h = &v->handles[i];

		if (!h->id || h->node.root || !same_entry(&h->node.loc, &n->loc))
			continue;
		if (h->node.first != n->first || h->node.size > n->size)
			h->pos_clus = 0;	/* the chain changed */
		h->node.first = n->first;
		h->node.size = n->size;
	}
}

static int
is_dir(const struct fat_node *n)
{
	return n->root || (n->attr & ATTR_DIRECTORY);
}

/* A new entry's short entry: attributes, now, cluster, size. */
static void
proto_new(struct dirent83 *e, uint8_t attr, uint32_t first)
{
	struct fat_stamp s;

	fat_now(&s);
	memset(e, 0, sizeof(*e));
	e->attr = attr;
	e->crt_date = e->wrt_date = e->lst_acc_date = s.date;
	e->crt_time = e->wrt_time = s.time;
	e->crt_time_tenth = s.tenth;
	dent_set_cluster(e, first);
}

/* The first cluster of a found entry, checked: a file's may be 0 (empty). */
static int
entry_first(struct fat_vol *v, const struct dent *d, uint32_t *first)
{
	uint32_t c = dent_cluster(v, &d->e);

	if ((c == 0 && !(d->e.attr & ATTR_DIRECTORY)) ||
	    fat_valid_cluster(v, c)) {
		*first = c;
		return PB_OK;
	}
	vol_corrupt(v, "entry with a first cluster outside the volume:", c);
	return PB_ECORRUPT;
}

/* Resolve a walk's entry into a node. */
int
walk_node(struct fat_vol *v, struct walk *w, struct fat_node *n)
{
	uint32_t first;
	int r;

	if (w->nlen == 0) {
		node_root(v, n);
		return PB_OK;
	}
	if ((r = entry_first(v, &w->d, &first)) != PB_OK)
		return r;
	if ((w->d.e.attr & ATTR_DIRECTORY) && (first == w->parent ||
	    first == dir_root(v))) {
		vol_corrupt(v, "directory contains itself at cluster", first);
		return PB_ECORRUPT;
	}
	node_from_dent(n, &w->d, first);
	return PB_OK;
}

static int
has_mods_prefix(const char *norm)
{
	static const char p[] = "patchbay";

	for (unsigned i = 0; i < sizeof(p) - 1; i++)
		if ((norm[i] | 0x20) != p[i])
			return 0;
	return norm[sizeof(p) - 1] == '\0' || norm[sizeof(p) - 1] == '/';
}

/* ---- open ---------------------------------------------------------- */

static unsigned
handles_free(struct fat_vol *v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAT_MAX_HANDLES; i++)
		n += v->handles[i].id == 0;
	return n;
}

static int
open_check(struct fat_vol *v, const struct fat_node *n, uint16_t flags)
{
	int writes = flags & (FS_O_WRITE | FS_O_TRUNC | FS_O_APPEND);

	if (is_dir(n))
		return !(flags & FS_O_DIR) ? PB_EISDIR : writes ? PB_EISDIR :
		    PB_OK;
	if (flags & FS_O_DIR)
		return PB_ENOTDIR;
	if (writes && (v->ro || (n->attr & ATTR_READ_ONLY)))
		return PB_EROFS;
	return PB_OK;
}

static int
open_lookup(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	struct dirent83 proto;
	int r;

	if (!handles_free(v))
		return PB_EBUSY;
	if ((r = path_walk(v, q->path, &o->w)) != PB_OK)
		return r;
	if (o->w.found) {
		if ((q->flags & FS_O_CREATE) && (q->flags & FS_O_EXCL))
			return PB_EEXIST;
		if ((r = walk_node(v, &o->w, &o->node)) != PB_OK)
			return r;
		if ((r = open_check(v, &o->node, q->flags)) != PB_OK)
			return r;
		if ((q->flags & FS_O_TRUNC) && (q->flags & FS_O_WRITE) &&
		    (o->node.size || o->node.first)) {
			o->phase = 1;		/* empty it first */
			return FAT_CONTINUE;
		}
		o->phase = 3;
		return FAT_CONTINUE;
	}
	if (!(q->flags & FS_O_CREATE) || (q->flags & FS_O_DIR))
		return PB_ENOENT;
	if (v->ro)
		return PB_EROFS;
	if (!name_valid_long(o->w.name, o->w.nlen))
		return PB_EINVAL;
	proto_new(&proto, ATTR_ARCHIVE, 0);
	if ((r = dir_create(v, o->w.parent, o->w.name, o->w.nlen, &proto,
	    &o->node.loc)) != PB_OK)
		return r;
	o->node.attr = ATTR_ARCHIVE;
	o->touch_mods = has_mods_prefix(o->w.norm);
	o->phase = 3;
	return FAT_CONTINUE;
}

static int
op_open(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	struct fat_handle *h;
	int r;

	switch (o->phase) {
	case 0:
		return open_lookup(v, o);
	case 1:				/* FS_O_TRUNC */
		if ((r = file_truncate_step(v, o, 0)) != PB_OK)
			return r;
		o->touch_mods = has_mods_prefix(o->w.norm);
		o->phase = 2;
		return FAT_CONTINUE;
	case 2:
		if ((r = file_free_step(v, o)) != PB_OK)
			return r;
		o->phase = 3;
		return FAT_CONTINUE;
	default:
		if (!(h = handle_new(v, 0)))
			return PB_EBUSY;
		h->flags = q->flags;
		h->node = o->node;
		rt_strlcpy(h->path, o->w.norm, sizeof(h->path));
		q->handle = h->id;
		q->result = o->node.size;
		return PB_OK;
	}
}

/* ---- read, write, truncate ------------------------------------------ */

static int
handle_for(struct fat_vol *v, struct fat_op *o, int want_dir)
{
	struct fat_handle *h = handle_find(v, o->req->handle);

	if (!h)
		return PB_EINVAL;
	if (h->dead)
		return PB_ENOENT;
	if (want_dir != is_dir(&h->node))
		return want_dir ? PB_ENOTDIR : PB_EISDIR;
	o->h = h;
	o->node = h->node;
	o->pos_idx = h->pos_idx;
	o->pos_clus = h->pos_clus;
	return PB_OK;
}

/* Keep the chain position the transfer reached in its handle. */
static void
handle_keep_pos(struct fat_op *o)
{
	if (o->h && o->h->node.first == o->node.first) {
		o->h->pos_idx = o->pos_idx;
		o->h->pos_clus = o->pos_clus;
	}
}

static int
op_read(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	int r;

	if (o->phase == 0) {
		if ((r = handle_for(v, o, 0)) != PB_OK)
			return r;
		o->pos = q->offset == FS_CURSOR ? o->h->cursor : q->offset;
		o->end = o->pos + q->len < o->node.size ? o->pos + q->len :
		    o->node.size;
		if (o->end < o->pos)
			o->end = o->pos;
		o->start = o->pos;
		o->phase = 1;
	}
	r = file_read_step(v, o, q->buf);
	if (r == PB_OK || r < 0) {
		q->result = o->pos - o->start;
		if (r == PB_OK)
			o->h->cursor = o->pos;
		handle_keep_pos(o);
	}
	return r;
}

/* A write (or a truncate that grows): allocate, move data, update. */
static int
write_steps(struct fat_vol *v, struct fat_op *o, const uint8_t *buf)
{
	int r;

	switch (o->phase) {
	case 1:
		if ((r = file_alloc_step(v, o)) != PB_OK)
			return r;
		o->phase = 2;
		return FAT_CONTINUE;
	case 2:
		r = file_write_step(v, o, buf);
		if (r == FAT_PENDING || r == FAT_MISS || r == FAT_CONTINUE)
			return r;
		o->status = r;
		o->phase = 3;
		return FAT_CONTINUE;
	default:
		return file_entry_step(v, o);	/* o->status says how */
	}
}

static int
op_write(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	uint64_t pos;
	int r;

	if (o->phase == 0) {
		if ((r = handle_for(v, o, 0)) != PB_OK)
			return r;
		if (!(o->h->flags & (FS_O_WRITE | FS_O_APPEND)))
			return PB_EINVAL;
		if (v->ro)
			return PB_EROFS;
		pos = o->h->flags & FS_O_APPEND ? o->node.size :
		    q->offset == FS_CURSOR ? o->h->cursor : q->offset;
		if (pos >= 0xFFFFFFFFull)
			return PB_ENOSPC;	/* FAT files end below 4 GiB */
		o->start = pos;
		o->end = q->len < 0xFFFFFFFFull - pos ? pos + q->len :
		    0xFFFFFFFFull;
		o->short_write = o->end - pos < q->len;
		o->zero_end = pos;
		o->pos = o->node.size < pos ? o->node.size : pos;
		o->touch_mods = has_mods_prefix(o->h->path);
		o->phase = 1;
	}
	r = write_steps(v, o, q->buf);
	if (r == PB_OK || r < 0) {
		q->result = o->pos > o->start ? o->pos - o->start : 0;
		if (q->result)
			o->h->cursor = o->start + q->result;
		if (r == PB_OK && o->status == PB_OK && o->short_write)
			o->status = PB_ENOSPC;
		handle_keep_pos(o);
	}
	return r;
}

static int
op_truncate(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	int r;

	if (o->phase == 0) {
		if ((r = handle_for(v, o, 0)) != PB_OK)
			return r;
		if (!(o->h->flags & (FS_O_WRITE | FS_O_APPEND)))
			return PB_EINVAL;
		if (v->ro)
			return PB_EROFS;
		if (q->offset > 0xFFFFFFFFull)
			return PB_EINVAL;
		o->touch_mods = has_mods_prefix(o->h->path);
		if (q->offset >= o->node.size) {	/* grows: zeros */
			o->start = o->zero_end = o->end = q->offset;
			o->pos = o->node.size;
			o->phase = 1;
		} else {
			o->phase = 10;
		}
	}
	if (o->phase < 10)
		return write_steps(v, o, NULL);
	if (o->phase == 10) {
		if ((r = file_truncate_step(v, o, q->offset)) != PB_OK)
			return r;
		o->phase = 11;
		return FAT_CONTINUE;
	}
	return file_free_step(v, o);
}

/* ---- directories ----------------------------------------------------- */

static void
fill_dirent(const struct dent *d, struct fs_dirent *de)
{
	size_t len = 0;

	memset(de, 0, sizeof(*de) - sizeof(de->name));
	if (dent_name(d, de->name, sizeof(de->name), &len) != PB_OK) {
		struct dent sd = *d;

		sd.lfn_len = 0;		/* the 8.3 name always converts */
		dent_name(&sd, de->name, sizeof(de->name), &len);
	}
	de->name_len = (uint32_t)len;
	de->type = d->e.attr & ATTR_DIRECTORY ? FS_TYPE_DIR : FS_TYPE_FILE;
	de->attr = d->e.attr & (FS_ATTR_RO | FS_ATTR_HIDDEN | FS_ATTR_SYSTEM |
	    FS_ATTR_ARCHIVE);
	de->size = de->type == FS_TYPE_DIR ? 0 : d->e.file_size;
	fat_time_decode(d->e.wrt_date, d->e.wrt_time, &de->mtime);
}

static int
op_readdir(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	struct fs_dirent *out = q->buf;
	uint64_t max = q->len / sizeof(struct fs_dirent);
	struct fat_handle *h;
	struct dir_iter it;
	int r;

	if (o->phase == 0) {
		if ((r = handle_for(v, o, 1)) != PB_OK)
			return r;
		if (q->offset != FS_CURSOR && q->offset != FS_REWIND)
			return PB_EINVAL;
		if (q->offset == FS_REWIND) {
			o->h->cursor = 0;
			o->h->pos_clus = 0;
		}
		o->phase = 1;
	}
	h = o->h;
	dir_start(v, &it, h->node.first);
	it.idx = (uint32_t)h->cursor;
	if (h->pos_clus && (uint64_t)h->pos_idx * v->g.cluster_bytes <=
	    (uint64_t)it.idx * DIRENT_SIZE) {
		it.clus = h->pos_clus;
		it.cnum = h->pos_idx;
	}
	while (o->count < max) {
		if ((r = dir_read(v, &it, &o->d, DR_NOPIN)) == PB_ENOENT)
			break;
		if (r == FAT_MISS)
			return FAT_PENDING;
		if (r != PB_OK)
			return r;
		h->cursor = it.idx;
		h->pos_clus = it.clus;
		h->pos_idx = it.cnum;
		if (dent_is_dot(&o->d))
			continue;
		fill_dirent(&o->d, &out[o->count++]);
	}
	q->result = o->count;
	return PB_OK;
}

static int
op_stat(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	struct fs_stat *st = q->buf;
	struct dirent83 e;
	struct fat_node n;
	int r;

	memset(&e, 0, sizeof(e));
	if (q->path) {
		if ((r = path_walk(v, q->path, &o->w)) != PB_OK)
			return r;
		if (!o->w.found)
			return PB_ENOENT;
		if ((r = walk_node(v, &o->w, &n)) != PB_OK)
			return r;
		if (!n.root)
			e = o->w.d.e;
	} else {
		struct fat_handle *h = handle_find(v, q->handle);

		if (!h)
			return PB_EINVAL;
		if (h->dead)
			return PB_ENOENT;
		n = h->node;
		if (!n.root && (r = dir_get(v, &n.loc, &e)) != PB_OK)
			return r;
	}
	memset(st, 0, sizeof(*st));
	st->size = is_dir(&n) ? 0 : n.size;
	st->id = n.first;
	st->type = is_dir(&n) ? FS_TYPE_DIR : FS_TYPE_FILE;
	st->attr = e.attr & (FS_ATTR_RO | FS_ATTR_HIDDEN | FS_ATTR_SYSTEM |
	    FS_ATTR_ARCHIVE);
	fat_time_decode(e.wrt_date, e.wrt_time, &st->mtime);
	fat_time_decode(e.crt_date, e.crt_time, &st->ctime);
	fat_time_decode(e.lst_acc_date, 0, &st->atime);
	return PB_OK;
}

static int
op_mkdir(struct fat_vol *v, struct fat_op *o)
{
	struct dirent83 proto;
	struct dloc loc;
	uint32_t c;
	int r;

	if ((r = path_walk(v, o->req->path, &o->w)) != PB_OK)
		return r;
	if (o->w.found)
		return PB_EEXIST;
	if (v->ro)
		return PB_EROFS;
	if (!name_valid_long(o->w.name, o->w.nlen))
		return PB_EINVAL;
	if ((r = fat_alloc(v, 1, 0, &c, &c)) != PB_OK)
		return r;
	proto_new(&proto, ATTR_DIRECTORY, c);
	if ((r = dir_init_cluster(v, c, o->w.parent, &proto)) != PB_OK)
		return r;
	o->touch_mods = has_mods_prefix(o->w.norm);
	return dir_create(v, o->w.parent, o->w.name, o->w.nlen, &proto, &loc);
}

/* unlink and rmdir: the entry goes, then its clusters. */
static int
op_remove(struct fat_vol *v, struct fat_op *o, int dir)
{
	uint32_t first;
	int r;

	if (o->phase == 1)
		return file_free_step(v, o);
	if ((r = path_walk(v, o->req->path, &o->w)) != PB_OK)
		return r;
	if (!o->w.found)
		return PB_ENOENT;
	if (o->w.nlen == 0)
		return PB_EBUSY;		/* the root */
	if (v->ro)
		return PB_EROFS;
	if ((r = entry_first(v, &o->w.d, &first)) != PB_OK)
		return r;
	if (dir != !!(o->w.d.e.attr & ATTR_DIRECTORY))
		return dir ? PB_ENOTDIR : PB_EISDIR;
	if (handle_busy(v, &o->w.d.loc, dir ? first : ~0u))
		return PB_EBUSY;
	if (dir && (r = dir_empty(v, first)) != PB_OK)
		return r;
	if ((r = dir_remove(v, &o->w.d.loc)) != PB_OK)
		return r;
	o->rest = first;
	o->touch_mods = has_mods_prefix(o->w.norm);
	o->phase = 1;
	return FAT_CONTINUE;
}

/* Is directory `sub` (a cluster) dir itself or inside it? */
static int
inside(struct fat_vol *v, uint32_t sub, uint32_t dir, int *yes)
{
	uint32_t up;
	int r;

	*yes = 0;
	for (unsigned depth = 0; depth < FS_PATH_MAX / 2; depth++) {
		if (sub == dir) {
			*yes = 1;
			return PB_OK;
		}
		if (sub == dir_root(v))
			return PB_OK;
		if ((r = path_parent_of(v, sub, &up)) != PB_OK)
			return r;
		sub = up;
	}
	vol_corrupt(v, "directory tree deeper than any path, at cluster",
	    sub);
	return PB_ECORRUPT;
}

static int
op_rename(struct fat_vol *v, struct fat_op *o)
{
	struct walk *from = &o->w, *to = &o->w2;
	struct dirent83 proto, *dot;
	struct dloc loc;
	uint32_t first;
	int r, isdir, loop;

	if ((r = path_walk(v, o->req->path, from)) != PB_OK)
		return r;
	if (!from->found)
		return PB_ENOENT;
	if (from->nlen == 0)
		return PB_EBUSY;
	if ((r = path_walk(v, o->req->path2, to)) != PB_OK)
		return r;
	if (to->nlen == 0 || (to->found && !same_entry(&to->d.loc,
	    &from->d.loc)))
		return PB_EEXIST;
	if (v->ro)
		return PB_EROFS;
	if (!name_valid_long(to->name, to->nlen))
		return PB_EINVAL;
	if ((r = entry_first(v, &from->d, &first)) != PB_OK)
		return r;
	isdir = !!(from->d.e.attr & ATTR_DIRECTORY);
	if (isdir && to->parent != from->parent) {
		if ((r = inside(v, to->parent, first, &loop)) != PB_OK)
			return r;
		if (loop)
			return PB_EINVAL;	/* into itself */
	}
	proto = from->d.e;
	if ((r = dir_remove(v, &from->d.loc)) != PB_OK)
		return r;
	if ((r = dir_create(v, to->parent, to->name, to->nlen, &proto,
	    &loc)) != PB_OK)
		return r;
	if (isdir && to->parent != from->parent) {
		struct dloc dl = { .dir = first, .idx = 1, .clus = first,
		    .lfn_idx = 1, .lfn_clus = first };

		if ((r = dir_update(v, &dl, &dot)) != PB_OK)
			return r;
		if (dot->name[0] == '.' && dot->name[1] == '.')
			dent_set_cluster(dot, to->parent == dir_root(v) ? 0 :
			    to->parent);
	}
	handles_rename(v, from->norm, to->norm, &loc, &from->d.loc);
	o->touch_mods = has_mods_prefix(from->norm) ||
	    has_mods_prefix(to->norm);
	return PB_OK;
}

int
op_statfs(struct fat_vol *v, struct fs_statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->block_size = v->g.cluster_bytes;
	st->flags = (v->ro ? FS_STATFS_RO : 0) |
	    (v->was_dirty ? FS_STATFS_DIRTY : 0);
	st->blocks = v->g.clusters;
	st->free = v->m.free;
	st->name_max = LFN_MAX_UNITS;
	rt_strlcpy(st->type, fat_type_name(v->g.type), sizeof(st->type));
	rt_strlcpy(st->label, v->label, sizeof(st->label));
	return PB_OK;
}

static int
fs_step(struct fat_vol *v, struct fat_op *o)
{
	struct fs_req *q = o->req;
	struct fat_handle *h;

	switch (q->op) {
	case FS_OPEN:
		return op_open(v, o);
	case FS_CLOSE:
		if (!(h = handle_find(v, q->handle)))
			return PB_EINVAL;
		handle_free(h);
		return PB_OK;
	case FS_READ:
		return op_read(v, o);
	case FS_WRITE:
		return op_write(v, o);
	case FS_READDIR:
		return op_readdir(v, o);
	case FS_STAT:
		return op_stat(v, o);
	case FS_MKDIR:
		return op_mkdir(v, o);
	case FS_RMDIR:
		return op_remove(v, o, 1);
	case FS_UNLINK:
		return op_remove(v, o, 0);
	case FS_RENAME:
		return op_rename(v, o);
	case FS_TRUNCATE:
		return op_truncate(v, o);
	case FS_SYNC:
		return sync_step(v, o);
	case FS_STATFS:
		return op_statfs(v, q->buf);
	}
	return PB_EINVAL;
}

/* May the request change the volume? */
static int
changes(const struct fs_req *q)
{
	switch (q->op) {
	case FS_OPEN:
		return (q->flags & FS_O_CREATE) || ((q->flags & FS_O_TRUNC) &&
		    (q->flags & FS_O_WRITE));
	case FS_WRITE:
	case FS_TRUNCATE:
	case FS_MKDIR:
	case FS_RMDIR:
	case FS_UNLINK:
	case FS_RENAME:
		return 1;
	}
	return 0;
}

int
op_step(struct fat_vol *v)
{
	struct fat_op *o = &v->op;
	int r;

	switch (o->job->kind) {
	case JOB_MOUNT:
		return mount_step(v, o);
	case JOB_SYNC:
	case JOB_UNMOUNT:
		return sync_step(v, o);
	case JOB_LIST:
		return list_step(v, o);
	case JOB_MODSRC:
		return modsrc_read_step(v, o);
	}
	if (o->marking || (changes(o->req) && !v->dirty_on_disk && !v->ro &&
	    !v->failed))
		return mark_dirty_step(v, o);
	r = fs_step(v, o);
	if (r == PB_OK && o->touch_mods)
		vol_list_later(v);
	return r;
}

/* ---- submit ------------------------------------------------------- */

static int
path_ok(const char *p)
{
	return p && strnlen(p, FS_PATH_MAX) < FS_PATH_MAX;
}

/* What each op needs of the request, checked before it is taken. */
static int
req_valid(const struct fs_req *q)
{
	if (q->size < sizeof(struct fs_req))
		return 0;
	switch (q->op) {
	case FS_OPEN:
	case FS_MKDIR:
	case FS_RMDIR:
	case FS_UNLINK:
		return path_ok(q->path);
	case FS_RENAME:
		return path_ok(q->path) && path_ok(q->path2);
	case FS_READ:
	case FS_WRITE:
		return q->buf || q->len == 0;
	case FS_READDIR:
		return q->buf && q->len >= sizeof(struct fs_dirent);
	case FS_STAT:
		return q->buf && q->len >= sizeof(struct fs_stat) &&
		    (!q->path || path_ok(q->path));
	case FS_STATFS:
		return q->buf && q->len >= sizeof(struct fs_statfs);
	case FS_CLOSE:
	case FS_TRUNCATE:
	case FS_SYNC:
		return 1;
	}
	return 0;
}

int
fs_submit(void *ctx, struct fs_req *req)
{
	struct fat_vol *v = ctx;

	if (!req || !req_valid(req))
		return PB_EINVAL;
	if (!fm.active)
		return PB_EBUSY;
	if (!v || v->failed)
		return v && v->failed == PB_EMEDIA ? PB_EMEDIA : PB_EIO;
	req->result = 0;
	req->status = PB_OK;
	return job_queue(v, (struct fat_job *)req->scratch, JOB_FS, req);
}

const struct fs_ops fat_fs_ops = {
	.submit = fs_submit,
};
