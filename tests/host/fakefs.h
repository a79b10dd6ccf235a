/*
 * fakefs.h - an `fs` 1.0 provider in memory for the shell's host tests:
 * volumes of a few files and directories, requests queued as fs.h says
 * (owned by the provider from submit to completion, completed in order,
 * exactly once, by posting the client's work item), and the faults a
 * test needs: a volume that holds its requests, refuses them at submit,
 * or fails one operation with a chosen error.
 *
 * Names compare ASCII case-insensitively, as on FAT; the id of a file
 * with no data is 0, as FAT's first cluster is.
 */
#ifndef PB_TESTS_FAKEFS_H
#define PB_TESTS_FAKEFS_H

#include <stdlib.h>
#include <string.h>

#include "../../abi/fs.h"

#define FV_NODES 96
#define FV_HANDLES 8
#define FV_QUEUE 16

struct fnode {
	int used, parent, dir;
	char name[FS_NAME_MAX];
	uint8_t *data;
	uint64_t size;
};

struct fvol {
	struct fnode n[FV_NODES];	/* n[0]: the root */
	struct {
		int used, node;
		uint32_t flags;
		uint64_t cursor;
	} h[FV_HANDLES];
	struct fs_req *q[FV_QUEUE];	/* submitted, not completed */
	unsigned qn;
	unsigned max_queued;		/* the most in flight at once */
	int hold;			/* complete nothing */
	int refuse;			/* submit answers this */
	int fail_op, fail_err;		/* complete fail_op with fail_err */
	int fail_after;			/* ...after this many such ops */
	unsigned syncs, statfs;
	void (*post)(struct pb_work *w);	/* the client's work */
};

static void
fv_init(struct fvol *v, void (*post)(struct pb_work *w))
{
	for (unsigned i = 0; i < FV_NODES; i++)
		free(v->n[i].data);
	memset(v, 0, sizeof(*v));
	v->n[0].used = v->n[0].dir = 1;
	v->n[0].parent = -1;
	v->post = post;
}

static int
fv_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++) {
		char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		char y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];

		if (x != y || !x)
			return 0;
	}
	return a[i] == '\0';
}

static int
fv_child(const struct fvol *v, int dir, const char *name, size_t len)
{
	for (int i = 1; i < FV_NODES; i++)
		if (v->n[i].used && v->n[i].parent == dir &&
		    fv_eq(v->n[i].name, name, len))
			return i;
	return -1;
}

/* The node at path (or PB_ENOENT/PB_ENOTDIR); *parent and *last name
 * the place a new node would go. */
static int
fv_walk(const struct fvol *v, const char *path, int *parent,
    const char **last)
{
	int at = 0, k;
	const char *p = path, *e;

	*parent = -1;
	*last = NULL;
	while (*p == '/')
		p++;
	while (*p) {
		for (e = p; *e && *e != '/'; e++)
			;
		if (!v->n[at].dir)
			return PB_ENOTDIR;
		k = fv_child(v, at, p, (size_t)(e - p));
		while (*e == '/')
			e++;
		if (k < 0) {
			if (*e)
				return PB_ENOENT;
			*parent = at;
			*last = p;
			return PB_ENOENT;
		}
		at = k;
		p = e;
	}
	return at;
}

static int
fv_new(struct fvol *v, int parent, const char *name, int dir)
{
	for (int i = 1; i < FV_NODES; i++)
		if (!v->n[i].used) {
			memset(&v->n[i], 0, sizeof(v->n[i]));
			v->n[i].used = 1;
			v->n[i].parent = parent;
			v->n[i].dir = dir;
			snprintf(v->n[i].name, sizeof(v->n[i].name), "%s", name);
			return i;
		}
	return PB_ENOSPC;
}

/* Make a file (or, data NULL and len ~0, a directory) for a test. */
static int
fv_put(struct fvol *v, const char *path, const void *data, size_t len)
{
	int parent, k;
	const char *last;

	k = fv_walk(v, path, &parent, &last);
	if (k >= 0)
		return PB_EEXIST;
	if (parent < 0)
		return k;
	k = fv_new(v, parent, last, len == (size_t)~0);
	if (k > 0 && len != (size_t)~0) {
		v->n[k].data = malloc(len ? len : 1);
		memcpy(v->n[k].data, data, len);
		v->n[k].size = len;
	}
	return k;
}

static struct fnode *
fv_get(struct fvol *v, const char *path)
{
	int parent;
	const char *last;
	int k = fv_walk(v, path, &parent, &last);

	return k >= 0 ? &v->n[k] : NULL;
}

static unsigned
fv_open_handles(const struct fvol *v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FV_HANDLES; i++)
		n += v->h[i].used;
	return n;
}

static int
fv_handle(struct fvol *v, uint32_t h)
{
	return h >= 1 && h <= FV_HANDLES && v->h[h - 1].used ? (int)h - 1 :
	    -1;
}

static void
fv_stat_of(const struct fvol *v, int k, struct fs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = v->n[k].dir ? 0 : v->n[k].size;
	st->id = v->n[k].dir || v->n[k].size ? (uint64_t)k + 100 : 0;
	st->type = v->n[k].dir ? FS_TYPE_DIR : FS_TYPE_FILE;
	st->attr = v->n[k].dir ? 0x10 : FS_ATTR_ARCHIVE;
	st->mtime = (struct fs_time){ 2024, 5, 1, 12, 34, 56, 0 };
}

static int
fv_open(struct fvol *v, struct fs_req *r)
{
	int parent, k;
	const char *last;

	k = fv_walk(v, r->path, &parent, &last);
	if (k == PB_ENOENT && parent >= 0 && (r->flags & FS_O_CREATE))
		k = fv_new(v, parent, last, 0);
	else if (k >= 0 && (r->flags & FS_O_CREATE) && (r->flags & FS_O_EXCL))
		return PB_EEXIST;
	if (k < 0)
		return k;
	if (v->n[k].dir && !(r->flags & FS_O_DIR))
		return PB_EISDIR;
	if (!v->n[k].dir && (r->flags & FS_O_DIR))
		return PB_ENOTDIR;
	if (r->flags & FS_O_TRUNC)
		v->n[k].size = 0;
	for (unsigned i = 0; i < FV_HANDLES; i++)
		if (!v->h[i].used) {
			v->h[i].used = 1;
			v->h[i].node = k;
			v->h[i].flags = r->flags;
			v->h[i].cursor = 0;
			r->handle = i + 1;
			r->result = v->n[k].size;
			return PB_OK;
		}
	return PB_ENOMEM;
}

static int
fv_rw(struct fvol *v, struct fs_req *r)
{
	int h = fv_handle(v, r->handle);
	struct fnode *f;
	uint64_t off;

	if (h < 0)
		return PB_EINVAL;
	f = &v->n[v->h[h].node];
	off = r->offset == FS_CURSOR ? v->h[h].cursor : r->offset;
	if (r->op == FS_READ) {
		uint64_t n = off < f->size ? f->size - off : 0;

		if (n > r->len)
			n = r->len;
		memcpy(r->buf, f->data + off, n);
		r->result = n;
	} else {
		if (!(v->h[h].flags & FS_O_WRITE))
			return PB_EROFS;
		if (v->h[h].flags & FS_O_APPEND)
			off = f->size;
		if (off + r->len > f->size) {
			f->data = realloc(f->data, off + r->len);
			if (off > f->size)
				memset(f->data + f->size, 0, off - f->size);
			f->size = off + r->len;
		}
		memcpy(f->data + off, r->buf, r->len);
		r->result = r->len;
	}
	v->h[h].cursor = off + r->result;
	return PB_OK;
}

static int
fv_readdir(struct fvol *v, struct fs_req *r)
{
	int h = fv_handle(v, r->handle), dir;
	struct fs_dirent *d = r->buf;
	uint64_t pos, n = 0;

	if (h < 0 || !v->n[v->h[h].node].dir)
		return PB_EINVAL;
	dir = v->h[h].node;
	pos = r->offset == FS_REWIND ? 0 : v->h[h].cursor;
	for (; pos < FV_NODES && n < r->len / sizeof(*d); pos++) {
		struct fs_stat st;

		if (!v->n[pos].used || v->n[pos].parent != dir || pos == 0)
			continue;
		fv_stat_of(v, (int)pos, &st);
		memset(&d[n], 0, sizeof(d[n]));
		d[n].size = st.size;
		d[n].type = st.type;
		d[n].attr = st.attr;
		d[n].mtime = st.mtime;
		snprintf(d[n].name, sizeof(d[n].name), "%s", v->n[pos].name);
		d[n].name_len = (uint32_t)strlen(d[n].name);
		n++;
	}
	v->h[h].cursor = pos;
	r->result = n;
	return PB_OK;
}

static int
fv_path_op(struct fvol *v, struct fs_req *r)
{
	int parent, k, k2, p2;
	const char *last, *last2;

	k = fv_walk(v, r->path, &parent, &last);
	switch (r->op) {
	case FS_STAT:
		if (k < 0)
			return k;
		fv_stat_of(v, k, r->buf);
		return PB_OK;
	case FS_MKDIR:
		if (k >= 0)
			return PB_EEXIST;
		return parent < 0 ? k : fv_new(v, parent, last, 1) > 0 ? PB_OK :
		    PB_ENOSPC;
	case FS_RMDIR:
	case FS_UNLINK:
		if (k < 0)
			return k;
		if (k == 0)
			return PB_EBUSY;
		if (r->op == FS_RMDIR && !v->n[k].dir)
			return PB_ENOTDIR;
		if (r->op == FS_UNLINK && v->n[k].dir)
			return PB_EISDIR;
		for (int i = 1; i < FV_NODES; i++)
			if (v->n[i].used && v->n[i].parent == k)
				return PB_ENOTEMPTY;
		for (unsigned i = 0; i < FV_HANDLES; i++)
			if (v->h[i].used && v->h[i].node == k)
				return PB_EBUSY;
		free(v->n[k].data);
		memset(&v->n[k], 0, sizeof(v->n[k]));
		return PB_OK;
	case FS_RENAME:
		if (k < 0)
			return k;
		k2 = fv_walk(v, r->path2, &p2, &last2);
		if (k2 >= 0 && k2 != k)
			return PB_EEXIST;
		if (k2 == k) {
			snprintf(v->n[k].name, sizeof(v->n[k].name), "%s",
			    strrchr(r->path2, '/') ? strrchr(r->path2, '/') + 1 :
			    r->path2);
			return PB_OK;
		}
		if (p2 < 0)
			return k2;
		v->n[k].parent = p2;
		snprintf(v->n[k].name, sizeof(v->n[k].name), "%s", last2);
		return PB_OK;
	}
	return PB_EINVAL;
}

static int
fv_do(struct fvol *v, struct fs_req *r)
{
	int h;

	switch (r->op) {
	case FS_OPEN:
		return fv_open(v, r);
	case FS_CLOSE:
		if ((h = fv_handle(v, r->handle)) < 0)
			return PB_EINVAL;
		v->h[h].used = 0;
		return PB_OK;
	case FS_READ:
	case FS_WRITE:
		return fv_rw(v, r);
	case FS_READDIR:
		return fv_readdir(v, r);
	case FS_SYNC:
		v->syncs++;
		return PB_OK;
	case FS_STATFS: {
		struct fs_statfs *sf = r->buf;

		v->statfs++;
		memset(sf, 0, sizeof(*sf));
		sf->block_size = 4096;
		sf->blocks = 16384;
		sf->free = 12288;
		memcpy(sf->type, "fat32", 6);
		return PB_OK;
	}
	}
	return fv_path_op(v, r);
}

static int
fv_submit(void *ctx, struct fs_req *r)
{
	struct fvol *v = ctx;

	if (v->refuse)
		return v->refuse;
	if (r->size < sizeof(*r) || v->qn == FV_QUEUE)
		return PB_EINVAL;
	v->q[v->qn++] = r;
	if (v->qn > v->max_queued)
		v->max_queued = v->qn;
	return PB_OK;
}

static const struct fs_ops fv_ops = { .submit = fv_submit };

/* Complete the queued requests, oldest first; returns how many. */
static unsigned
fv_run(struct fvol *v)
{
	unsigned n = 0;

	while (v->qn && !v->hold) {
		struct fs_req *r = v->q[0];

		memmove(v->q, v->q + 1, --v->qn * sizeof(v->q[0]));
		r->result = 0;
		if (r->op == v->fail_op && v->fail_after-- <= 0)
			r->status = v->fail_err;
		else
			r->status = fv_do(v, r);
		v->post(&r->done);
		n++;
	}
	return n;
}

#endif
