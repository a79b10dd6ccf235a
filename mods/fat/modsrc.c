/*
 * modsrc.c - `module-source` 1.1 (abi/modsrc.h) for a volume's
 * patchbay/mods directory: the *.mod files, listed at mount and again
 * after any change under patchbay/, and read asynchronously into the
 * client's buffer like any file (file.c).  The 1.0 `read` (a whole file
 * in memory, synchronously) cannot be served from a disk: PB_ENOTSUP.
 *
 * The resource is `module-source:NAME` for the volume `fs:NAME`, with
 * properties `fs=fs:NAME files=N`.
 */
#include "fat.h"

static int
ends_with_mod(const char *s, size_t n)
{
	return n > 4 && s[n - 4] == '.' && (s[n - 3] | 0x20) == 'm' &&
	    (s[n - 2] | 0x20) == 'o' && (s[n - 1] | 0x20) == 'd';
}

/* A step: list patchbay/mods into v->mods (from scratch on a re-run). */
int
list_step(struct fat_vol *v, struct fat_op *o)
{
	struct dent *d = &v->scan;
	struct dir_iter it;
	uint32_t dir = 0;
	unsigned n = 0;
	size_t len;
	int r;

	r = path_walk(v, FAT_MODS_DIR, &o->w);
	if (r != PB_OK && r != PB_ENOENT && r != PB_ENOTDIR)
		return r;
	if (r == PB_OK && o->w.found && (o->w.d.e.attr & ATTR_DIRECTORY) &&
	    fat_valid_cluster(v, dent_cluster(v, &o->w.d.e)))
		dir = dent_cluster(v, &o->w.d.e);
	if (dir) {
		dir_start(v, &it, dir);
		while ((r = dir_read(v, &it, d, 0)) == PB_OK) {
			struct modfile *f = &v->mods_new[n];

			if (n == FAT_MODS_MAX || dent_is_dot(d) ||
			    (d->e.attr & (ATTR_DIRECTORY | ATTR_VOLUME_ID)))
				continue;
			if (dent_name(d, f->name, sizeof(f->name), &len) !=
			    PB_OK || !ends_with_mod(f->name, len))
				continue;
			f->size = d->e.file_size;
			n++;
		}
		if (r != PB_ENOENT)
			return r;
	}
	memcpy(v->mods, v->mods_new, n * sizeof(v->mods[0]));
	v->nmods = n;
	v->mods_dir = dir;
	modsrc_publish(v);
	return PB_OK;
}

/* List again after the current job (a change under patchbay/). */
void
vol_list_later(struct fat_vol *v)
{
	if (!v->job_list.queued)
		job_queue(v, &v->job_list, JOB_LIST, NULL);
}

static void
modsrc_props(struct fat_vol *v, char *buf, size_t cap)
{
	rt_snprintf(buf, cap, "fs=fs:%s files=%u", v->res_name, v->nmods);
}

/* Publish, update or withdraw the volume's module-source resource. */
void
modsrc_publish(struct fat_vol *v)
{
	char props[96];

	if (!v->mounted)
		return;
	modsrc_props(v, props, sizeof(props));
	if (!v->mods_dir) {
		if (v->mres)
			fm.hub->withdraw(fm.self, v->mres);
		v->mres = NULL;
		return;
	}
	if (v->mres) {
		fm.hub->set_props(fm.self, v->mres, props);
		return;
	}
	v->mres = fm.hub->publish(fm.self, MODSRC_IFACE, v->res_name, props,
	    &fat_modsrc_ops, v);
	if (!v->mres)
		LOGF(PB_LOG_WARN, "%s: cannot publish module-source:%s",
		    v->res_name, v->res_name);
}

static const struct modfile *
find_mod(const struct fat_vol *v, const char *name)
{
	for (unsigned i = 0; i < v->nmods; i++)
		if (strcmp(v->mods[i].name, name) == 0)
			return &v->mods[i];
	return NULL;
}

static int
ms_name(void *ctx, unsigned index, char *buf, size_t cap)
{
	struct fat_vol *v = ctx;

	if (index >= v->nmods)
		return PB_ENOENT;
	if (rt_strlcpy(buf, v->mods[index].name, cap) >= cap)
		return PB_EINVAL;
	return PB_OK;
}

static int
ms_read(void *ctx, const char *name, const void **data, size_t *len)
{
	return PB_ENOTSUP;		/* a disk: use submit */
}

static int
ms_size(void *ctx, const char *name, uint64_t *size)
{
	const struct modfile *f = find_mod(ctx, name);

	if (!f)
		return PB_ENOENT;
	*size = f->size;
	return PB_OK;
}

static int
ms_submit(void *ctx, struct modsrc_req *req)
{
	struct fat_vol *v = ctx;
	size_t n;

	if (!req || req->size < sizeof(*req) || (!req->buf && req->len))
		return PB_EINVAL;
	n = strnlen(req->name, sizeof(req->name));
	if (n == 0 || n == sizeof(req->name) || strchr(req->name, '/'))
		return PB_EINVAL;
	if (!fm.active)
		return PB_EBUSY;
	if (v->failed)
		return PB_EIO;
	req->result = 0;
	req->status = PB_OK;
	return job_queue(v, (struct fat_job *)req->scratch, JOB_MODSRC, req);
}

const struct modsrc_ops fat_modsrc_ops = {
	.name = ms_name,		/* from the listing */
	.read = ms_read,		/* PB_ENOTSUP: not in memory */
	.size = ms_size,		/* from the listing */
	.submit = ms_submit,		/* a job: file.c reads it */
};

/* The job of a module-source read: find the file, then read it. */
int
modsrc_read_step(struct fat_vol *v, struct fat_op *o)
{
	struct modsrc_req *q = o->job->req;
	uint64_t end;
	int r;

	if (o->phase == 0) {
		rt_snprintf(o->path, sizeof(o->path), "%s/%s", FAT_MODS_DIR,
		    q->name);
		if ((r = path_walk(v, o->path, &o->w)) != PB_OK)
			return r;
		if (!o->w.found)
			return PB_ENOENT;
		if ((r = walk_node(v, &o->w, &o->node)) != PB_OK)
			return r;
		if (o->node.attr & ATTR_DIRECTORY)
			return PB_EISDIR;
		o->start = o->pos = q->offset;
		end = q->offset + q->len;
		o->end = end > o->node.size || end < q->offset ?
		    o->node.size : end;
		if (o->end < o->pos)
			o->end = o->pos;
		o->phase = 1;
	}
	r = file_read_step(v, o, q->buf);
	if (r == PB_OK || r == FAT_PARK || r < 0)
		q->result = o->pos - o->start;
	return r;
}
