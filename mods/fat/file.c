/*
 * file.c - moving file data, and growing and shrinking cluster chains.
 *
 * A transfer walks the file by cluster runs (clusters that follow each
 * other on disk).  Sector-aligned stretches of FAT_DIRECT_MIN bytes or
 * more go straight between the disk and the client's buffer, one block
 * request per run (up to the device's max_transfer), several in flight;
 * the rest goes through the cache, reading ahead along the run.  The
 * cache stays coherent: a direct read is overlaid with newer cached
 * sectors at completion, a direct write updates the cached copies.
 *
 * Progress (o->pos) is the operation's own, so these steps commit as they
 * go (FAT_PENDING) and never run a byte twice.  The chain position
 * (o->pos_idx, o->pos_clus) is kept in the handle, so sequential access
 * does not walk the chain from its start every time.
 */
#include "fat.h"

#define RA_BYTES (64u * 1024)		/* read ahead through the cache */

static uint32_t
clusters_for(const struct fat_vol *v, uint64_t bytes)
{
	return (uint32_t)((bytes + v->g.cluster_bytes - 1) /
	    v->g.cluster_bytes);
}

/* The cluster holding byte pos of the file. */
static int
locate(struct fat_vol *v, struct fat_op *o, uint64_t pos, uint32_t *c)
{
	uint32_t ci = (uint32_t)(pos / v->g.cluster_bytes), start, steps;
	int r;

	if (o->node.first == 0) {
		vol_corrupt(v, "file with data but no cluster, entry",
		    o->node.loc.idx);
		return PB_ECORRUPT;
	}
	if (o->pos_clus && o->pos_idx <= ci) {
		start = o->pos_clus;
		steps = ci - o->pos_idx;
	} else {
		start = o->node.first;
		steps = ci;
	}
	r = fat_walk(v, start, steps, c);
	if (r == PB_ENOENT) {
		vol_corrupt(v, "file larger than its cluster chain from",
		    o->node.first);
		return PB_ECORRUPT;
	}
	if (r == PB_OK) {
		o->pos_idx = ci;
		o->pos_clus = *c;
	}
	return r;
}

/* The extent holding the file's cluster ci, or -1. */
static int
ext_find(const struct extmap *m, uint32_t ci)
{
	unsigned lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct extent *e = &m->e[mid];

		if (ci < e->ci)
			hi = mid;
		else if (ci - e->ci >= e->len)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

/* Learn that the file's clusters ci.. are c.. for n clusters. */
static void
ext_note(struct extmap *m, uint32_t first, uint32_t ci, uint32_t c,
    uint32_t n)
{
	unsigned k = 0;

	if (m->first != first) {
		m->first = first;
		m->n = 0;
	}
	while (k < m->n && m->e[k].ci + m->e[k].len <= ci)
		k++;
	if (k < m->n && m->e[k].ci <= ci)
		return;			/* known already (at least its start) */
	if (k > 0 && m->e[k - 1].ci + m->e[k - 1].len == ci &&
	    m->e[k - 1].c + m->e[k - 1].len == c &&
	    (k == m->n || ci + n <= m->e[k].ci)) {
		m->e[k - 1].len += n;	/* the run goes on */
		return;
	}
	if (m->n == FAT_EXTENTS || (k < m->n && ci + n > m->e[k].ci))
		return;
	memmove(&m->e[k + 1], &m->e[k], (m->n - k) * sizeof(m->e[0]));
	m->e[k] = (struct extent){ ci, c, n };
	m->n++;
}

/*
 * fat_run for the file's cluster ci (which is c), from the extents
 * learned when it was read before, else from the FAT (and learned): a
 * file read again costs no walk of its chain.
 */
static int
file_run(struct fat_vol *v, struct fat_op *o, uint32_t ci, uint32_t c,
    uint32_t max, uint32_t *n, uint32_t *after)
{
	struct extmap *m = &v->ext;
	int k, r;

	if (m->first == o->node.first && (k = ext_find(m, ci)) >= 0 &&
	    m->e[k].c + (ci - m->e[k].ci) == c) {
		uint32_t avail = m->e[k].len - (ci - m->e[k].ci);

		if (avail > max) {
			*n = max;
			*after = c + max;
			return PB_OK;
		}
		*n = avail;
		if ((unsigned)k + 1 < m->n &&
		    m->e[k + 1].ci == m->e[k].ci + m->e[k].len) {
			*after = m->e[k + 1].c;
			return PB_OK;
		}
		return fat_next(v, c + avail - 1, after);
	}
	if ((r = fat_run(v, c, max, n, after)) == PB_OK)
		ext_note(m, o->node.first, ci, c, *n);
	return r;
}

/* Sectors [sec, ...) worth reading ahead from cluster c (a run). */
static int
read_ahead(struct fat_vol *v, struct fat_op *o, uint32_t c, uint32_t in,
    uint64_t left, uint32_t *ra)
{
	uint32_t max = RA_BYTES / v->g.cluster_bytes, n, after;
	uint64_t bytes;
	int r;

	if ((r = file_run(v, o, o->pos_idx, c, max ? max : 1, &n, &after)) !=
	    PB_OK)
		return r;
	bytes = (uint64_t)n * v->g.cluster_bytes - in;
	if (bytes > left)
		bytes = left;
	*ra = bytes / v->g.bps ? (uint32_t)(bytes / v->g.bps) - 1 : 0;
	return PB_OK;
}

/* Start a direct transfer of nsect sectors at sec for [buf, ...). */
static int
direct(struct fat_vol *v, struct fat_op *o, int kind, uint32_t sec,
    uint32_t nsect, const uint8_t *buf)
{
	struct fat_io *io;
	int r;

	if (o->job->inflight >= FAT_NIO - 2 || !(io = io_get(v)))
		return FAT_PENDING;
	if (io_add(v, io, (void *)(uintptr_t)buf, nsect * v->g.bps) != PB_OK) {
		io->busy = 0;
		return PB_EINVAL;	/* the caller goes through the cache */
	}
	io->buf = (uint8_t *)(uintptr_t)buf;
	io->job = o->job;
	if (kind == IO_WRITE)
		cache_update(v, sec, nsect, buf);
	if ((r = io_submit(v, io, kind, sec, nsect)) != PB_OK)
		return r;
	o->job->inflight++;
	return PB_OK;
}

/* The run direct_span found: where a transfer along it ends up. */
struct span {
	uint32_t c, n, after;		/* n clusters from c, then after */
};

/* The chain position of pos after a transfer along span s that began in
 * cluster index ci: inside the run, or just past it. */
static void
span_moved(struct fat_vol *v, struct fat_op *o, const struct span *s,
    uint32_t ci)
{
	uint32_t k = (uint32_t)(o->pos / v->g.cluster_bytes) - ci;

	if (k < s->n) {
		o->pos_idx = ci + k;
		o->pos_clus = s->c + k;
	} else if (k == s->n && s->after) {
		o->pos_idx = ci + k;
		o->pos_clus = s->after;
	}
}

/* How many whole sectors from cluster c (offset in) may go in one
 * direct transfer, at most `left` bytes; 0 when not worth it. */
static int
direct_span(struct fat_vol *v, struct fat_op *o, uint32_t c, uint32_t in,
    uint64_t left, uint32_t *nsect, struct span *s)
{
	uint32_t maxc, n, after, max = io_max_sectors(v);
	uint64_t bytes;
	int r;

	*nsect = 0;
	if (in % v->g.bps || left < FAT_DIRECT_MIN)
		return PB_OK;
	if (left > (uint64_t)max * v->g.bps)
		left = (uint64_t)max * v->g.bps;	/* one request's worth */
	maxc = clusters_for(v, in + left);
	if ((r = file_run(v, o, o->pos_idx, c, maxc, &n, &after)) != PB_OK)
		return r;
	*s = (struct span){ c, n, after };
	bytes = (uint64_t)n * v->g.cluster_bytes - in;
	if (bytes > left)
		bytes = left;
	if (bytes < FAT_DIRECT_MIN)
		return PB_OK;
	*nsect = (uint32_t)(bytes / v->g.bps) < max ?
	    (uint32_t)(bytes / v->g.bps) : max;
	return PB_OK;
}

/* Stop at an error, but only once the device is done with the buffer. */
static int
transfer_end(struct fat_op *o, int r)
{
	if (r != PB_OK && !o->job->err)
		o->job->err = r;
	return o->job->inflight ? FAT_PENDING : o->job->err;
}

/* A read whose transfers are all on their way steps aside (FAT_PARK):
 * it completes when they land, and the next read starts meanwhile, so a
 * client's reads queued back to back keep the device busy. */
static int
read_end(struct fat_op *o)
{
	if (o->job->inflight && !o->job->err && o->pos >= o->end)
		return FAT_PARK;
	return transfer_end(o, PB_OK);
}

int
file_read_step(struct fat_vol *v, struct fat_op *o, uint8_t *buf)
{
	uint32_t bps = v->g.bps, c, in, sec, soff, nsect, ra;
	struct span sp;
	uint64_t left;
	uint8_t *p, *dst;
	int r;

	while (o->pos < o->end && !o->job->err) {
		dst = buf + (o->pos - o->start);
		left = o->end - o->pos;
		if ((r = locate(v, o, o->pos, &c)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		in = (uint32_t)(o->pos % v->g.cluster_bytes);
		sec = clus_sec(v, c) + in / bps;
		soff = in % bps;
		if ((r = direct_span(v, o, c, in, left, &nsect, &sp)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		if (nsect && io_direct_ok(v, dst)) {
			r = direct(v, o, IO_READ, sec, nsect, dst);
			if (r == PB_OK) {
				o->pos += (uint64_t)nsect * bps;
				span_moved(v, o, &sp, o->pos_idx);
				continue;
			}
			if (r != PB_EINVAL)
				return r == FAT_PENDING ? r : transfer_end(o, r);
		}
		ra = 0;			/* ahead in the file, not the request */
		if (!cache_resident(v, sec) && (r = read_ahead(v, o, c, in,
		    o->node.size > o->pos ? o->node.size - o->pos : 0, &ra)) !=
		    PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		if ((r = cache_get(v, sec, ra, CG_NOPIN, &p)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		left = left < bps - soff ? left : bps - soff;
		memcpy(dst, p + soff, (size_t)left);
		o->pos += left;
	}
	return read_end(o);
}

/* FAT_SCRATCH zero bytes to write a gap from: taken by the first write
 * past the end of a file, kept until the volume goes (most volumes never
 * need it). */
static const uint8_t *
zeros_of(struct fat_vol *v)
{
	if (!v->zeros && (v->zeros = fm.hub->alloc_pages(fm.self,
	    FAT_SCRATCH / 4096, PB_MEM_DMA32 | PB_MEM_ZERO, NULL)))
		memset(v->zeros, 0, FAT_SCRATCH);
	return v->zeros;
}

int
file_write_step(struct fat_vol *v, struct fat_op *o, const uint8_t *buf)
{
	uint32_t bps = v->g.bps, c, in, sec, soff, nsect;
	struct span sp;
	uint64_t left, lim;
	const uint8_t *src;
	uint8_t *p;
	int r, zero, flags;

	while (o->pos < o->end && !o->job->err) {
		zero = o->pos < o->zero_end;
		lim = zero ? o->zero_end : o->end;
		src = zero ? zeros_of(v) : buf + (o->pos - o->start);
		if (!src) {
			LOGF(PB_LOG_ERR, "%s: no memory for the zeros of a gap",
			    v->res_name);
			return transfer_end(o, PB_ENOMEM);
		}
		left = lim - o->pos;
		if ((r = locate(v, o, o->pos, &c)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		in = (uint32_t)(o->pos % v->g.cluster_bytes);
		sec = clus_sec(v, c) + in / bps;
		soff = in % bps;
		if ((r = direct_span(v, o, c, in, left, &nsect, &sp)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		if (zero && nsect > FAT_SCRATCH / bps)
			nsect = FAT_SCRATCH / bps;
		if (nsect && io_direct_ok(v, src)) {
			if (cache_range_loading(v, sec, nsect))
				return FAT_PENDING;
			r = direct(v, o, IO_WRITE, sec, nsect, src);
			if (r == PB_OK) {
				o->pos += (uint64_t)nsect * bps;
				span_moved(v, o, &sp, o->pos_idx);
				continue;
			}
			if (r != PB_EINVAL)
				return r == FAT_PENDING ? r : transfer_end(o, r);
		}
		/* A unit read now could hold sectors a direct write still
		 * has on the way: read it once those are down. */
		flags = CG_NOUNDO |
		    (cache_whole_unit(v, sec, soff, left) ? CG_NEW : 0);
		if (o->job->inflight && !(flags & CG_NEW) && !cache_resident(v, sec))
			return FAT_PENDING;
		if ((r = cache_write(v, sec, WB_DATA, flags, &p)) != PB_OK)
			return r == FAT_MISS ? FAT_PENDING : transfer_end(o, r);
		left = left < bps - soff ? left : bps - soff;
		if (zero)
			memset(p + soff, 0, (size_t)left);
		else
			memcpy(p + soff, src, (size_t)left);
		o->pos += left;
	}
	return transfer_end(o, PB_OK);
}

/*
 * Make the chain long enough for o->end, FAT_ALLOC_STEP clusters a step.
 * The first step counts what is there and checks the free count: a
 * write that cannot fit is cut to what fits (o->short_write), or refused
 * with PB_ENOSPC when nothing does.  PB_OK when the chain is long enough.
 */
int
file_alloc_step(struct fat_vol *v, struct fat_op *o)
{
	uint32_t need, k, f, l, len;
	uint64_t fit;
	int r;

	if (!o->have_known) {
		if (o->node.first == 0) {
			o->have = o->last_clus = 0;
		} else if (o->pos_clus) {
			if ((r = fat_chain_end(v, o->pos_clus, &o->last_clus,
			    &len)) != PB_OK)
				return r;
			o->have = o->pos_idx + len;
		} else {
			if ((r = fat_chain_end(v, o->node.first, &o->last_clus,
			    &len)) != PB_OK)
				return r;
			o->have = len;
		}
		o->have_known = 1;
		need = clusters_for(v, o->end);
		if (need > o->have && need - o->have > v->m.free) {
			fit = ((uint64_t)o->have + v->m.free) *
			    v->g.cluster_bytes;
			if (fit <= o->start)
				return PB_ENOSPC;
			o->end = fit;
			o->short_write = 1;
		}
		return FAT_CONTINUE;
	}
	need = clusters_for(v, o->end);
	if (o->have >= need)
		return PB_OK;
	k = need - o->have < FAT_ALLOC_STEP ? need - o->have : FAT_ALLOC_STEP;
	r = fat_alloc(v, k, o->last_clus, &f, &l);
	if (r == PB_ENOSPC) {		/* the free count was wrong */
		fit = (uint64_t)o->have * v->g.cluster_bytes;
		if (fit <= o->start)
			return PB_ENOSPC;
		o->end = fit;
		o->short_write = 1;
		return PB_OK;
	}
	if (r != PB_OK)
		return r;
	if (o->have == 0)
		o->node.first = f;
	o->have += k;
	o->last_clus = l;
	return FAT_CONTINUE;
}

/* The file's entry := its first cluster and size, written now; every
 * handle on it learns them. */
static int
entry_set(struct fat_vol *v, struct fat_op *o, uint32_t first,
    uint64_t size)
{
	struct dirent83 *e;
	int r;

	if ((r = dir_update(v, &o->node.loc, &e)) != PB_OK)
		return r;
	dent_set_cluster(e, first);
	e->file_size = (uint32_t)size;
	dent_touch(e);
	o->node.first = first;
	o->node.size = (uint32_t)size;
	handles_update(v, &o->node);
	return PB_OK;
}

/* The entry after a write: chain, size (if the data went), time. */
int
file_entry_step(struct fat_vol *v, struct fat_op *o)
{
	uint64_t size = o->node.size;

	if (o->status == PB_OK && o->pos > size)
		size = o->pos;
	return entry_set(v, o, o->node.first, size);
}

/*
 * Shrink the file to size: the entry and the chain's new end now; what
 * is cut off (o->rest) is freed by file_free_step afterwards.
 */
int
file_truncate_step(struct fat_vol *v, struct fat_op *o, uint64_t size)
{
	uint32_t keep = clusters_for(v, size), first = o->node.first;
	uint32_t last, rest = 0;
	int r;

	if (keep == 0) {
		rest = first;
		first = 0;
	} else {
		if ((r = fat_walk(v, first, keep - 1, &last)) == PB_ENOENT) {
			vol_corrupt(v, "file larger than its cluster chain from",
			    first);
			return PB_ECORRUPT;
		}
		if (r != PB_OK || (r = fat_next(v, last, &rest)) != PB_OK)
			return r;
		if (rest && (r = fat_set(v, last, fat_eoc(v))) != PB_OK)
			return r;
	}
	if ((r = entry_set(v, o, first, size)) != PB_OK)
		return r;
	o->rest = rest;
	return PB_OK;
}

/* Free what o->rest still holds, FAT_ALLOC_STEP clusters a step. */
int
file_free_step(struct fat_vol *v, struct fat_op *o)
{
	uint32_t rest;
	int r;

	if (!o->rest)
		return PB_OK;
	if ((r = fat_free_chain(v, o->rest, FAT_ALLOC_STEP, &rest)) != PB_OK)
		return r;
	o->rest = rest;
	return rest ? FAT_CONTINUE : PB_OK;
}
