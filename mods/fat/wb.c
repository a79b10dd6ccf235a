/*
 * wb.c - writing the cache's dirty units back, class by class: file data,
 * then the FATs (every copy), then directories, then FSInfo.  A class's
 * writes all complete (and, on a device with a write cache, a flush
 * follows) before the next class starts, so after a crash a directory
 * entry never points at clusters the FAT does not hold, nor a FAT at
 * data not written.  Freeing runs the other way round and is not
 * ordered: a crash may leave lost clusters, which the dirty flag tells
 * the next mount (and fsck) about.
 *
 * Units in a class go out sorted by sector, neighbours coalesced into one
 * request (a segment each).  The runner (run.c) drives wb_step between
 * job steps, never while a step's transaction or direct transfer is
 * open.
 */
#include "fat.h"

int
wb_start(struct fat_vol *v)
{
	if (!v->wb.active) {
		v->wb.active = 1;
		v->wb.cls = WB_NONE;
		v->wb.err = 0;
		/* Direct writes go first: flushed before the FATs. */
		v->wb.wrote = v->direct_wrote;
		v->direct_wrote = 0;
		v->wb.next = v->wb.n = 0;
	}
	return PB_OK;
}

/* Submit the next run of neighbouring units; 0 when none could go. */
static int
submit_run(struct fat_vol *v)
{
	struct wb *w = &v->wb;
	uint32_t max = io_max_sectors(v), nsect = 0, first;
	unsigned maxseg = io_max_segs(v);
	struct fat_io *io;
	int r;

	if (w->next >= w->n || !(io = io_get(v)))
		return 0;
	first = w->list[w->next]->lba;
	while (w->next < w->n && io->nunits < maxseg) {
		struct unit *u = w->list[w->next];

		if (u->lba != first + nsect || (nsect && nsect + u->nsect > max))
			break;
		if (io_add(v, io, u->data, (uint32_t)u->nsect * v->g.bps) !=
		    PB_OK)
			break;
		io->units[io->nunits++] = u;
		nsect += u->nsect;
		w->next++;
	}
	if (io->nunits == 0) {
		io->busy = 0;
		w->err = PB_EINVAL;
		w->next = w->n;
		return 0;
	}
	if ((r = io_submit(v, io, IO_WB, first, nsect)) != PB_OK) {
		if (!w->err)
			w->err = r;
		return 0;
	}
	w->wrote = 1;
	return 1;
}

/* Drive the write-back: FAT_PENDING while it works, then its status. */
int
wb_step(struct fat_vol *v)
{
	struct wb *w = &v->wb;

	for (;;) {
		while (w->next < w->n && submit_run(v))
			;
		if (v->inflight)
			return FAT_PENDING;
		if (w->wrote && (v->info.flags & BLOCK_FLUSHES) && !w->err) {
			w->wrote = 0;
			if (io_flush(v) == PB_OK)
				return FAT_PENDING;
		}
		w->wrote = 0;
		if (w->err || ++w->cls >= WB_NCLASS) {
			w->active = 0;
			return w->err;
		}
		w->n = cache_collect_dirty(v, w->cls, w->list, v->c.nunits);
		w->next = 0;
	}
}
