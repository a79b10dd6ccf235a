/*
 * mount.c - a volume's own jobs: mount, sync and unmount (quiesce), and
 * the dirty flag.
 *
 * Mount: the boot sector is read straight into the volume's scratch
 * buffer and checked (bpb.c) before anything else; then the cache is
 * set up, the dirty flag read (FAT[1]: FAT16 bit 15, FAT32 bit 27; a
 * volume not unmounted cleanly is mounted read-only, as is read-only
 * media), FSInfo read and checked (its free count is used only if it is
 * plausible and the volume was clean, else the FAT is counted: streamed
 * in big reads through the scratch buffer, not the cache, which overlays
 * what it holds newer), the label read from the root, and the resources
 * published.  Mounting writes nothing.  After a restart, the blocks the
 * faulted instance had not written go into the cache before the count
 * (state_restore).
 */
#include "fat.h"

/* Write back everything now: FAT_PENDING until done, then its status. */
static int
writeback(struct fat_vol *v, struct fat_op *o)
{
	if (!o->wb_started) {
		o->wb_started = 1;
		wb_start(v);
		return FAT_PENDING;
	}
	if (v->wb.active)
		return FAT_PENDING;
	o->wb_started = 0;
	return v->wb_result;
}

/* FAT[1]'s clean bit := clean (FAT16 and FAT32; FAT12 has none). */
int
vol_set_clean(struct fat_vol *v, int clean)
{
	uint32_t val, bit;
	int r;

	if (v->g.type == FAT12)
		return PB_OK;
	bit = v->g.type == FAT16 ? FAT16_CLEAN : FAT32_CLEAN;
	if ((r = fat_get(v, 1, &val, 0)) != PB_OK)
		return r;
	val = clean ? val | bit : val & ~bit;
	return fat_set(v, 1, val);
}

static int
fsinfo_plausible(const struct fat_vol *v, const struct fsinfo *fi)
{
	return fi->lead_sig == FSI_LEAD_SIG && fi->struc_sig == FSI_STRUC_SIG &&
	    fi->trail_sig == FSI_TRAIL_SIG;
}

/* FSInfo's free count and hint := ours (FAT32, when it is there). */
static int
fsinfo_update(struct fat_vol *v)
{
	struct fsinfo fi;
	uint8_t *p;
	int r;

	if (v->g.type != FAT32 || !v->g.fsinfo || !v->m.fsinfo_dirty)
		return PB_OK;
	if ((r = cache_get(v, v->g.fsinfo, 0, 0, &p)) != PB_OK)
		return r;
	memcpy(&fi, p, sizeof(fi));
	if (!fsinfo_plausible(v, &fi))
		return PB_OK;		/* not ours to make one */
	if ((r = cache_write(v, v->g.fsinfo, WB_META, 0, &p)) != PB_OK)
		return r;
	fi.free_count = v->m.free;
	fi.nxt_free = v->m.next_free;
	memcpy(p, &fi, sizeof(fi));
	v->m.fsinfo_dirty = 0;
	return PB_OK;
}

/* Read nsect sectors at sec into the scratch buffer. */
static int
read_scratch(struct fat_vol *v, struct fat_op *o, uint32_t sec,
    uint32_t nsect)
{
	struct fat_io *io = io_get(v);
	int r;

	if (!io)
		return FAT_PENDING;
	if (io_add(v, io, v->scratch, nsect * v->g.bps) != PB_OK) {
		io->busy = 0;
		return PB_EINVAL;
	}
	io->buf = v->scratch;
	io->job = o->job;
	if ((r = io_submit(v, io, IO_READ, sec, nsect)) != PB_OK)
		return r;
	o->job->inflight++;
	return FAT_PENDING;
}

static int
log2_of(uint32_t x)
{
	int n = 0;

	while (x > 1) {
		x >>= 1;
		n++;
	}
	return n;
}

/* Phase 0: the device's limits, and the boot sector. */
static int
mount_read_boot(struct fat_vol *v, struct fat_op *o)
{
	uint32_t bs, n;

	v->info.size = sizeof(v->info);
	if (PB_CALL(v->blk, block_ops, info, &v->info) != PB_OK)
		return PB_EIO;
	bs = v->info.block_size;
	if (bs < 512 || bs > 4096 || (bs & (bs - 1)) || !v->info.block_count) {
		LOGF(PB_LOG_ERR, "%s: block size %u: not a disk fat can use",
		    v->disk, bs);
		return PB_ENOTSUP;
	}
	v->g.bps = bs;			/* device blocks until the BPB says */
	v->dev_shift = 0;
	n = 4096 / bs;
	if (n > v->info.block_count)
		n = (uint32_t)v->info.block_count;
	o->phase = 1;
	return read_scratch(v, o, 0, n);
}

/* Phase 1: the BPB, the geometry, the cache. */
static int
mount_geometry(struct fat_vol *v, struct fat_op *o)
{
	char why[96];
	uint64_t dev_bytes;
	int r;

	if (o->job->err)
		return o->job->err;
	if (bpb_parse(v->scratch, 4096, &v->g, why, sizeof(why)) != PB_OK) {
		LOGF(v->probe ? PB_LOG_DEBUG : PB_LOG_ERR,
		    "%s: not a FAT volume: %s", v->disk, why);
		return PB_ECORRUPT;
	}
	if (v->g.bps < v->info.block_size) {
		LOGF(PB_LOG_ERR, "%s: sectors of %u bytes on a device of %u-byte "
		    "blocks", v->disk, v->g.bps, v->info.block_size);
		return PB_ENOTSUP;
	}
	v->dev_shift = (uint32_t)log2_of(v->g.bps / v->info.block_size);
	dev_bytes = v->info.block_count * v->info.block_size;
	if ((uint64_t)v->g.total_sectors * v->g.bps > dev_bytes) {
		LOGF(PB_LOG_ERR, "%s: the volume (%u sectors) is larger than "
		    "its device", v->disk, v->g.total_sectors);
		return PB_ECORRUPT;
	}
	if ((r = cache_init(v, fm.cache_bytes)) != PB_OK)
		return r;
	v->free_hint = 2;
	v->m.free = v->g.clusters;
	v->m.next_free = 2;
	if (v->info.flags & BLOCK_RO) {
		v->ro = 1;
		LOGF(PB_LOG_INFO, "%s: read-only medium: mounted read-only",
		    v->disk);
	}
	o->phase = 2;
	return FAT_CONTINUE;
}

/* Phase 2: the dirty flag and FSInfo. */
static int
mount_flags(struct fat_vol *v, struct fat_op *o)
{
	uint32_t val, bit;
	struct fsinfo fi;
	uint8_t *p;
	int r;

	if (v->g.type != FAT12) {
		bit = v->g.type == FAT16 ? FAT16_CLEAN : FAT32_CLEAN;
		if ((r = fat_get(v, 1, &val, 0)) != PB_OK)
			return r;
		v->was_dirty = !(val & bit);
	}
	o->count = 1;			/* count the free clusters */
	if (v->g.type == FAT32 && v->g.fsinfo) {
		if ((r = cache_get(v, v->g.fsinfo, 0, 0, &p)) != PB_OK)
			return r;
		memcpy(&fi, p, sizeof(fi));
		if (fsinfo_plausible(v, &fi) && !v->was_dirty &&
		    fi.free_count <= v->g.clusters) {
			v->m.free = fi.free_count;
			o->count = 0;
		}
		if (fsinfo_plausible(v, &fi) && fat_valid_cluster(v,
		    fi.nxt_free))
			v->m.next_free = fi.nxt_free;
	}
	if (v->was_dirty && !v->ro && v->dirty_ours) {
		/* Set by the instance before us, which faulted: it stays set
		 * until the next sync, as it would have, and FSInfo is made
		 * right then (the FAT is counted now: the volume is dirty). */
		v->dirty_on_disk = 1;
		v->m.fsinfo_dirty = 1;
		LOGF(PB_LOG_INFO, "%s: the dirty flag is the one this driver "
		    "set before its restart: kept read-write", v->disk);
	} else if (v->was_dirty && !v->ro) {
		v->ro = 1;
		LOGF(PB_LOG_WARN, "%s: not unmounted cleanly (dirty flag set): "
		    "mounted read-only; run fsck", v->disk);
	}
	o->phase = 3;
	o->pos = 0;
	o->free = 0;
	return FAT_CONTINUE;
}

/* The free entries among FAT entries [first, first+n) in the scratch. */
static uint32_t
count_free(const struct fat_vol *v, uint32_t first, uint32_t n,
    uint32_t lo, uint32_t hi)
{
	uint32_t free = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t e = first + k, val;
		const uint8_t *p;

		if (e < lo || e >= hi)
			continue;
		switch (v->g.type) {
		case FAT12:
			p = v->scratch + k * 3 / 2;
			val = k & 1 ? get16(p) >> 4 : get16(p) & 0xFFF;
			break;
		case FAT16:
			val = get16(v->scratch + k * 2);
			break;
		default:
			val = get32(v->scratch + k * 4) & FAT32_MASK;
			break;
		}
		free += val == 0;
	}
	return free;
}

/*
 * Phase 3: count the free clusters, streaming the active FAT through the
 * scratch buffer in chunks of a multiple of 3 sectors (so FAT12's
 * 1.5-byte entries never straddle two).
 */
static int
mount_count(struct fat_vol *v, struct fat_op *o)
{
	uint32_t bps = v->g.bps, chunk = FAT_SCRATCH / (3 * bps) * 3;
	uint32_t per = chunk * bps, entries, first, nsect;
	uint64_t fat_bytes;

	if (!o->count) {
		o->phase = 5;
		return FAT_CONTINUE;
	}
	if (o->job->inflight)
		return FAT_PENDING;
	if (o->job->err)
		return o->job->err;
	fat_bytes = v->g.type == FAT12 ? ((uint64_t)v->g.clusters + 2) * 3 / 2 +
	    1 : ((uint64_t)v->g.clusters + 2) * (v->g.type == FAT16 ? 2 : 4);
	entries = v->g.type == FAT12 ? per * 2 / 3 : per / (v->g.type ==
	    FAT16 ? 2 : 4);
	if (o->done) {			/* a chunk is in: count it */
		first = (uint32_t)(o->pos / per) * entries;
		o->free += count_free(v, first, entries, 2, v->g.clusters + 2);
		o->pos += per;
		o->done = 0;
	}
	if (o->pos >= fat_bytes) {
		v->m.free = o->free;
		o->phase = 5;
		return FAT_CONTINUE;
	}
	nsect = (uint32_t)((fat_bytes - o->pos + bps - 1) / bps);
	if (nsect > chunk)
		nsect = chunk;
	if (o->pos / bps + nsect > v->g.fat_sectors)
		nsect = v->g.fat_sectors - (uint32_t)(o->pos / bps);
	memset(v->scratch, 0, FAT_SCRATCH);
	o->done = 1;
	return read_scratch(v, o, v->g.fat_start + v->g.active_fat *
	    v->g.fat_sectors + (uint32_t)(o->pos / bps), nsect);
}

int
mount_step(struct fat_vol *v, struct fat_op *o)
{
	int r;

	switch (o->phase) {
	case 0:
		return mount_read_boot(v, o);
	case 1:
		if (o->job->inflight)
			return FAT_PENDING;
		return mount_geometry(v, o);
	case 2:
		return mount_flags(v, o);
	case 3:
		if ((r = state_restore(v, o)) != PB_OK)
			return r;
		o->phase = 4;
		o->pos = 0;
		return FAT_CONTINUE;
	case 4:
		return mount_count(v, o);
	case 5:
		o->phase = 6;		/* the dirty flag waits for a change */
		return FAT_CONTINUE;
	case 6:
		r = dir_label(v, v->label, sizeof(v->label));
		if (r == PB_ENOENT || r == PB_ECORRUPT)
			rt_strlcpy(v->label, v->g.label, sizeof(v->label));
		else if (r != PB_OK)
			return r;
		if (strcmp(v->label, "NO NAME") == 0)
			v->label[0] = '\0';
		o->phase = 7;
		return FAT_CONTINUE;
	case 7:
		if ((r = state_reattach(v, o)) != PB_OK)
			return r;
		o->phase = 8;
		return FAT_CONTINUE;
	case 8:
		if ((r = list_step(v, o)) != PB_OK)
			return r;
		return vol_mounted(v);
	}
	return PB_EINVAL;
}

/*
 * The dirty flag goes on the disk before the first change after a mount
 * or a sync reaches it (a step of its own, before the job that changes),
 * and comes off at every sync and at the unmount, once everything else
 * is written: so the flag is set exactly while the disk may hold half of
 * what was written.  A volume only read stays clean through a power cut.
 */
int
mark_dirty_step(struct fat_vol *v, struct fat_op *o)
{
	int r;

	if (v->g.type == FAT12) {	/* no flag to set */
		v->dirty_on_disk = 1;
		return FAT_CONTINUE;
	}
	if (!o->marking) {
		if ((r = vol_set_clean(v, 0)) != PB_OK)
			return r;
		o->marking = 1;
		return FAT_CONTINUE;
	}
	if ((r = writeback(v, o)) != PB_OK)
		return r;
	o->marking = 0;
	v->dirty_on_disk = 1;
	return FAT_CONTINUE;
}

/* Sync, and the unmount of a quiesce: everything out (FSInfo last),
 * then the clean flag, written and flushed too. */
int
sync_step(struct fat_vol *v, struct fat_op *o)
{
	int r;

	if (v->ro || !v->mounted)
		return PB_OK;
	switch (o->phase) {
	case 0:
		if ((r = fsinfo_update(v)) != PB_OK)
			return r;
		o->phase = 1;
		return FAT_CONTINUE;
	case 1:
		if ((r = writeback(v, o)) != PB_OK)
			return r;
		if (!v->dirty_on_disk)
			return PB_OK;
		o->phase = 2;
		return FAT_CONTINUE;
	case 2:
		if ((r = vol_set_clean(v, 1)) != PB_OK)
			return r;
		o->phase = 3;
		return FAT_CONTINUE;
	default:
		if ((r = writeback(v, o)) != PB_OK)
			return r;
		v->dirty_on_disk = 0;
		return PB_OK;
	}
}
