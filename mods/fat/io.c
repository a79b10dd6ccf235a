/*
 * io.c - a volume's block requests (abi/block.h): a fixed set of
 * FAT_NIO requests per volume, each with its segments, nothing allocated
 * per I/O.  Requests fetch cache units, write them back, flush the
 * device's write cache, or move file data straight between the disk and
 * a client's buffer (direct transfers).
 *
 * Completion arrives as our own work (req.done); it marks what the
 * request did and runs the volume's jobs again (run.c).
 */
#include "fat.h"

static void io_done(void *arg);

/* Volume sectors to device blocks. */
static uint64_t
dev_lba(const struct fat_vol *v, uint32_t sec)
{
	return (uint64_t)sec << v->dev_shift;
}

struct fat_io *
io_get(struct fat_vol *v)
{
	for (unsigned i = 0; i < FAT_NIO; i++) {
		struct fat_io *io = &v->io[i];

		if (io->busy)
			continue;
		if (!io->vol) {
			io->vol = v;
			fm.hub->work_init(fm.self, &io->req.done, io_done, io);
		}
		io->busy = 1;
		io->nunits = 0;
		io->req.nseg = 0;
		io->buf = NULL;
		return io;
	}
	return NULL;
}

uint32_t
io_max_sectors(const struct fat_vol *v)
{
	uint32_t max = v->info.max_transfer ? v->info.max_transfer :
	    128u * 1024;
	uint32_t n = max / v->g.bps;

	return n ? n : 1;
}

unsigned
io_max_segs(const struct fat_vol *v)
{
	unsigned n = v->info.max_segments;

	return n && n < FAT_IO_SEGS ? n : FAT_IO_SEGS;
}

/* The bus address of va and how many bytes from there are contiguous. */
static int
bus_of(const void *va, size_t len, uint64_t *bus, size_t *run)
{
	const struct pb_hub *hub = fm.hub;

	if (hub->size >= offsetof(struct pb_hub, dma_addr) +
	    sizeof(hub->dma_addr) && hub->dma_addr)
		return hub->dma_addr(fm.self, va, len, bus, run);
	*bus = (uint64_t)(uintptr_t)va;		/* 1.1 hub: identity mapped */
	*run = len;
	return PB_OK;
}

/* Bytes from bus that may go in one segment (the segment boundary). */
static size_t
seg_room(const struct fat_vol *v, uint64_t bus, size_t want)
{
	uint64_t b = v->info.seg_boundary;
	uint64_t left;

	if (!b)
		return want;
	left = b - (bus & (b - 1));
	return left < want ? (size_t)left : want;
}

/* Append [va, va+len) to the request's segments: PB_EINVAL if the
 * memory is beyond the device's address limit, breaks its bus contiguity
 * inside a block, or needs more segments than the device takes. */
int
io_add(struct fat_vol *v, struct fat_io *io, void *va, uint32_t len)
{
	uint64_t limit = v->info.dma_limit ? v->info.dma_limit : ~0ull;
	uint8_t *p = va;

	while (len > 0) {
		uint64_t bus;
		size_t run;
		struct block_seg *s;

		if (bus_of(p, len, &bus, &run) != PB_OK || run == 0 ||
		    bus + run - 1 > limit || bus + run - 1 < bus)
			return PB_EINVAL;
		run = seg_room(v, bus, run);
		if (run < len && run % v->info.block_size)
			return PB_EINVAL;
		s = io->req.nseg ? &io->segs[io->req.nseg - 1] : NULL;
		if (s && (uint8_t *)s->va + s->len == p && s->bus + s->len ==
		    bus && seg_room(v, s->bus, s->len + run) == s->len + run) {
			s->len += (uint32_t)run;
		} else {
			if (io->req.nseg == io_max_segs(v))
				return PB_EINVAL;
			s = &io->segs[io->req.nseg++];
			*s = (struct block_seg){ .va = p, .bus = bus,
			    .len = (uint32_t)run };
		}
		p += run;
		len -= (uint32_t)run;
	}
	return PB_OK;
}

/* Can a buffer at buf go straight to or from the device?  Its alignment
 * first; io_add checks its bus addresses as it builds the segments. */
int
io_direct_ok(struct fat_vol *v, const void *buf)
{
	uint32_t align = v->info.align > 1 ? v->info.align : 1;

	return !((uintptr_t)buf & (align - 1));
}

int
io_submit(struct fat_vol *v, struct fat_io *io, int kind, uint32_t sec,
    uint32_t nsect)
{
	struct block_req *q = &io->req;
	int r;

	io->kind = (uint8_t)kind;
	io->sec = sec;
	io->nsect = nsect;
	q->size = sizeof(*q);
	q->op = kind == IO_FLUSH ? BLOCK_FLUSH : (kind == IO_WRITE ||
	    kind == IO_WB) ? BLOCK_WRITE : BLOCK_READ;
	q->flags = 0;
	q->lba = dev_lba(v, sec);
	q->count = kind == IO_FLUSH ? 0 : nsect << v->dev_shift;
	q->segs = io->segs;
	q->status = PB_OK;
	if (!v->blk) {
		r = PB_ENODEV;
	} else {
		r = PB_CALL(v->blk, block_ops, submit, q);
	}
	if (r != PB_OK) {
		io->busy = 0;
		return r;
	}
	v->inflight++;
	return PB_OK;
}

int
io_flush(struct fat_vol *v)
{
	struct fat_io *io = io_get(v);

	if (!io)
		return FAT_MISS;
	return io_submit(v, io, IO_FLUSH, 0, 0);
}

static void
io_done(void *arg)
{
	struct fat_io *io = arg;
	struct fat_vol *v = io->vol;
	int st = io->req.status;

	v->inflight--;
	if (st == PB_EMEDIA && !v->failed) {
		LOGF(PB_LOG_ERR, "%s: the medium changed under the volume; "
		    "unmounted", v->res_name);
		v->failed = PB_EMEDIA;
	}
	switch (io->kind) {
	case IO_FETCH:
		cache_fetched(v, io->units, io->nunits, st);
		break;
	case IO_WB:
		cache_wrote(v, io->units, io->nunits, st);
		/* fall through */
	case IO_FLUSH:
		if (st && !v->wb.err)
			v->wb.err = st;
		break;
	case IO_READ:
		if (st == PB_OK)
			cache_overlay(v, io->sec, io->nsect, io->buf);
		/* fall through */
	case IO_WRITE:
		if (st && io->kind == IO_WRITE)
			cache_drop_clean(v, io->sec, io->nsect);
		if (!st && io->kind == IO_WRITE)
			v->direct_wrote = 1;
		if (st && !io->job->err)
			io->job->err = st;
		io->job->inflight--;
		job_landed(v, io->job);
		break;
	}
	if (st && st != PB_EMEDIA)
		LOGF(PB_LOG_ERR, "%s: %s of sectors %u+%u failed (%d)",
		    v->res_name[0] ? v->res_name : v->disk,
		    io->kind == IO_WB || io->kind == IO_WRITE ? "write" :
		    io->kind == IO_FLUSH ? "flush" : "read", io->sec, io->nsect,
		    st);
	io->busy = 0;
	/* Someone waits for this: a step, a write-back, a queued job (a
	 * parked read's completion needs no run). */
	if (v->op.job || v->head || v->wb.active || v->failed)
		run_kick(v);
}
