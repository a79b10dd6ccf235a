/*
 * table.c - FAT entries and cluster chains (spec "FAT Data Structure").
 *
 * Entries are read from the active FAT and written to every FAT (or only
 * the active one when mirroring is off, BPB_ExtFlags bit 7).  FAT12
 * entries are 12 bits packed two in three bytes and may straddle a
 * sector; FAT32 entries keep their top four bits when written.
 *
 * Every walk is bounded: a chain is never followed for more steps than
 * the volume has clusters, and a link to a free, reserved, bad or
 * out-of-range cluster ends it as corruption (a loop, or a chain that
 * leaves the volume).
 *
 * Allocation finds every cluster it needs before it writes one, and
 * links them last, so a full volume (PB_ENOSPC) leaves nothing changed.
 * free_hint is a lower bound of the free clusters (all below it are in
 * use); unlike the FSInfo hint it is kept through a step's undo, which
 * can only free what the step took above it.
 */
#include "fat.h"

#define FAT_RA_BYTES (64u * 1024)	/* read ahead in the FAT */

int
fat_valid_cluster(const struct fat_vol *v, uint32_t c)
{
	return c >= 2 && c - 2 < v->g.clusters;
}

uint32_t
fat_eoc(const struct fat_vol *v)
{
	return v->g.type == FAT12 ? 0xFFFu : v->g.type == FAT16 ? 0xFFFFu :
	    FAT32_MASK;
}

static uint32_t
eoc_min(const struct fat_vol *v)
{
	return v->g.type == FAT12 ? FAT12_EOC_MIN : v->g.type == FAT16 ?
	    FAT16_EOC_MIN : FAT32_EOC_MIN;
}

uint32_t
clus_sec(const struct fat_vol *v, uint32_t c)
{
	return v->g.data_start + (c - 2) * v->g.spc;
}

/* Byte offset of entry n in a FAT. */
static uint32_t
entry_byte(const struct fat_vol *v, uint32_t n)
{
	switch (v->g.type) {
	case FAT12:
		return n + n / 2;
	case FAT16:
		return n * 2;
	default:
		return n * 4;
	}
}

static uint32_t
fat_sec(const struct fat_vol *v, unsigned copy, uint32_t byte)
{
	return v->g.fat_start + copy * v->g.fat_sectors + byte / v->g.bps;
}

/* Read ahead in FAT `copy` from sector sec, within it. */
static uint32_t
fat_ra(const struct fat_vol *v, unsigned copy, uint32_t sec)
{
	uint32_t end = v->g.fat_start + (copy + 1) * v->g.fat_sectors;
	uint32_t ra = FAT_RA_BYTES / v->g.bps;

	return sec + ra >= end ? end - sec - 1 : ra;
}

int
fat_get(struct fat_vol *v, uint32_t n, uint32_t *val, int flags)
{
	unsigned copy = v->g.active_fat;
	uint32_t byte = entry_byte(v, n), off = byte % v->g.bps;
	uint32_t sec = fat_sec(v, copy, byte);
	uint8_t *p, *q;
	int r;

	if (n >= v->g.clusters + 2)
		return PB_EINVAL;
	if ((r = cache_get(v, sec, fat_ra(v, copy, sec), flags, &p)) != PB_OK)
		return r;
	switch (v->g.type) {
	case FAT12: {
		uint16_t w;

		if (off + 1 < v->g.bps) {
			w = get16(p + off);
		} else {
			if ((r = cache_get(v, sec + 1, 0, flags, &q)) != PB_OK)
				return r;
			w = (uint16_t)(p[off] | q[0] << 8);
		}
		*val = n & 1 ? w >> 4 : w & 0xFFF;
		break;
	}
	case FAT16:
		*val = get16(p + off);
		break;
	default:
		*val = get32(p + off) & FAT32_MASK;
		break;
	}
	return PB_OK;
}

/* Entry n of FAT `copy` := val. */
static int
set_one(struct fat_vol *v, unsigned copy, uint32_t n, uint32_t val)
{
	uint32_t byte = entry_byte(v, n), off = byte % v->g.bps;
	uint32_t sec = fat_sec(v, copy, byte);
	uint8_t *p, *q;
	int r;

	if ((r = cache_write(v, sec, WB_FAT, 0, &p)) != PB_OK)
		return r;
	switch (v->g.type) {
	case FAT12: {
		uint8_t *hi = p + off + 1;
		uint16_t w;

		if (off + 1 >= v->g.bps) {
			if ((r = cache_write(v, sec + 1, WB_FAT, 0, &q)) != PB_OK)
				return r;
			hi = q;
		}
		w = (uint16_t)(p[off] | *hi << 8);
		if (n & 1)
			w = (uint16_t)((w & 0x000F) | (val & 0xFFF) << 4);
		else
			w = (uint16_t)((w & 0xF000) | (val & 0xFFF));
		p[off] = (uint8_t)w;
		*hi = (uint8_t)(w >> 8);
		break;
	}
	case FAT16:
		put16(p + off, (uint16_t)val);
		break;
	default:
		put32(p + off, (get32(p + off) & ~FAT32_MASK) |
		    (val & FAT32_MASK));
		break;
	}
	return PB_OK;
}

int
fat_set(struct fat_vol *v, uint32_t n, uint32_t val)
{
	int r;

	v->ext.first = 0;		/* a chain may change */
	if (n >= v->g.clusters + 2)
		return PB_EINVAL;
	if (!v->g.mirror)
		return set_one(v, v->g.active_fat, n, val);
	for (unsigned copy = 0; copy < v->g.nfats; copy++)
		if ((r = set_one(v, copy, n, val)) != PB_OK)
			return r;
	return PB_OK;
}

/* What entry c's value val says comes next: *next = 0 at the end. */
static int
link_of(struct fat_vol *v, uint32_t c, uint32_t val, uint32_t *next)
{
	if (val >= eoc_min(v)) {
		*next = 0;
		return PB_OK;
	}
	if (!fat_valid_cluster(v, val)) {
		vol_corrupt(v, val == 0 ? "chain runs into a free cluster "
		    "after" : "chain leaves the volume after cluster", c);
		return PB_ECORRUPT;
	}
	*next = val;
	return PB_OK;
}

/* The cluster after c: *next = 0 at the end of the chain. */
int
fat_next(struct fat_vol *v, uint32_t c, uint32_t *next)
{
	uint32_t val;
	int r;

	if (!fat_valid_cluster(v, c)) {
		vol_corrupt(v, "chain leaves the volume at cluster", c);
		return PB_ECORRUPT;
	}
	if ((r = fat_get(v, c, &val, 0)) != PB_OK)
		return r;
	return link_of(v, c, val, next);
}

/* The index-th cluster of the chain from first (0: first itself);
 * PB_ENOENT if the chain is shorter.  It goes a run at a time (fat_run),
 * so a file in one piece costs a FAT sector per few hundred clusters. */
int
fat_walk(struct fat_vol *v, uint32_t first, uint32_t index, uint32_t *c)
{
	uint32_t cur = first, left = index, n, after;
	int r;

	if (index > v->g.clusters) {
		vol_corrupt(v, "chain longer than the volume from cluster",
		    first);
		return PB_ECORRUPT;
	}
	if (!fat_valid_cluster(v, cur)) {
		vol_corrupt(v, "chain starts outside the volume at", cur);
		return PB_ECORRUPT;
	}
	while (left > 0) {
		if ((r = fat_run(v, cur, left + 1, &n, &after)) != PB_OK)
			return r;
		if (left <= n - 1) {
			cur += left;	/* inside the run */
			break;
		}
		left -= n;		/* to the run's end, and one on */
		if (after == 0)
			return PB_ENOENT;
		cur = after;
	}
	*c = cur;
	return PB_OK;
}

/* The last cluster of the chain from first and its length.  A loop is
 * found within a few times the chain's length (Brent's cycle finding:
 * a marker left at each power of two), and no walk is longer than the
 * volume has clusters. */
int
fat_chain_end(struct fat_vol *v, uint32_t first, uint32_t *last,
    uint32_t *len)
{
	uint32_t cur = first, next, n = 1, mark = first, power = 1, lam = 0;
	int r;

	for (;;) {
		if ((r = fat_next(v, cur, &next)) != PB_OK)
			return r;
		if (next == 0)
			break;
		if (next == mark || ++n > v->g.clusters) {
			vol_corrupt(v, "cluster chain loops from", first);
			return PB_ECORRUPT;
		}
		cur = next;
		if (++lam == power) {
			mark = cur;
			power *= 2;
			lam = 0;
		}
	}
	*last = cur;
	*len = n;
	return PB_OK;
}

/*
 * The common case of a run, as tight as it goes: from entry *cur at byte
 * off of a FAT sector, while each entry says "the next cluster", step
 * on, as far as the sector, max and the volume's last cluster let (so
 * the loop only compares).  Returns the value of the entry it stopped at
 * (*cur's), which the caller reads as a link: at the sector's end that
 * is the last entry's, "the next" too.
 */
static uint32_t
seq_in_sector(const struct fat_vol *v, const uint8_t *p, uint32_t off,
    uint32_t *cur, uint32_t *n, uint32_t max)
{
	uint32_t esz = v->g.type == FAT16 ? 2 : 4, c = *cur, i = 0;
	uint32_t steps = (v->g.bps - off) / esz - 1;

	if (steps > max - *n)
		steps = max - *n;
	if (steps > v->g.clusters + 1 - c)
		steps = v->g.clusters + 1 - c;
	if (esz == 2) {
		while (i < steps && get16(p + off + 2 * i) == c + 1 + i)
			i++;
	} else {
		while (i < steps && (get32(p + off + 4 * i) & FAT32_MASK) ==
		    c + 1 + i)
			i++;
	}
	*cur = c + i;
	*n += i;
	off += esz * i;
	return esz == 2 ? get16(p + off) : get32(p + off) & FAT32_MASK;
}

/* How many clusters from c (at most max) follow each other on disk:
 * *n of them, then *after (0: the chain ends).  A run's entries follow
 * each other in the FAT too: FAT16 and FAT32 read them a sector at a
 * time (a large file's run is thousands of them). */
int
fat_run(struct fat_vol *v, uint32_t c, uint32_t max, uint32_t *n,
    uint32_t *after)
{
	uint32_t cur = c, next, byte, sec, off, val;
	uint8_t *p;
	int r;

	*n = 1;
	if (!fat_valid_cluster(v, c)) {
		vol_corrupt(v, "chain leaves the volume at cluster", c);
		return PB_ECORRUPT;
	}
	for (;;) {
		if (v->g.type == FAT12) {
			if ((r = fat_next(v, cur, &next)) != PB_OK)
				return r;
		} else {
			byte = entry_byte(v, cur);
			sec = fat_sec(v, v->g.active_fat, byte);
			off = byte % v->g.bps;
			if ((r = cache_get(v, sec, fat_ra(v, v->g.active_fat,
			    sec), 0, &p)) != PB_OK)
				return r;
			val = seq_in_sector(v, p, off, &cur, n, max);
			if ((r = link_of(v, cur, val, &next)) != PB_OK)
				return r;
		}
		if (next != cur + 1 || *n >= max)
			break;
		cur = next;
		(*n)++;
	}
	*after = next;
	return PB_OK;
}

/*
 * Allocate count (<= FAT_ALLOC_STEP) clusters as one chain ending in EOC
 * and, when prev is not 0, link prev to it.  Finds them all first: a
 * volume without enough gives PB_ENOSPC having changed nothing.
 */
int
fat_alloc(struct fat_vol *v, uint32_t count, uint32_t prev, uint32_t *first,
    uint32_t *last)
{
	uint32_t *list = v->alloc_list, found = 0, val;
	uint32_t c = v->free_hint < 2 ? 2 : v->free_hint;
	int r;

	if (count == 0 || count > FAT_ALLOC_STEP)
		return PB_EINVAL;
	if (count > v->m.free)
		return PB_ENOSPC;
	for (; c < v->g.clusters + 2 && found < count; c++) {
		if ((r = fat_get(v, c, &val, CG_NOPIN)) != PB_OK) {
			if (found == 0)
				v->free_hint = c;	/* all before are used */
			return r;
		}
		if (val != 0)
			continue;
		if (found == 0)
			v->free_hint = c;
		list[found++] = c;
	}
	if (found < count) {
		/* The scan saw every cluster from the hint: the count was
		 * wrong.  Kept through the undo (run.c applies it). */
		v->free_recount = found;
		return PB_ENOSPC;
	}
	for (uint32_t i = 0; i < count; i++)
		if ((r = fat_set(v, list[i], i + 1 < count ? list[i + 1] :
		    fat_eoc(v))) != PB_OK)
			return r;
	if (prev && (r = fat_set(v, prev, list[0])) != PB_OK)
		return r;
	v->m.free -= count;
	v->m.next_free = list[count - 1] + 1;
	v->m.fsinfo_dirty = 1;
	*first = list[0];
	*last = list[count - 1];
	return PB_OK;
}

/* Free at most max clusters of the chain from c; *rest is where the
 * chain goes on (0: all freed).  A broken chain (logged) is freed up to
 * the break: what lies beyond is lost clusters, not a reason to keep
 * the rest. */
int
fat_free_chain(struct fat_vol *v, uint32_t c, uint32_t max, uint32_t *rest)
{
	uint32_t next;
	int r;

	for (uint32_t i = 0; i < max && c; i++) {
		if ((r = fat_next(v, c, &next)) == PB_ECORRUPT) {
			*rest = 0;
			return PB_OK;
		}
		if (r != PB_OK)
			return r;
		if ((r = fat_set(v, c, 0)) != PB_OK)
			return r;
		v->m.free++;
		v->m.fsinfo_dirty = 1;
		if (c < v->free_hint)
			v->free_hint = c;
		c = next;
	}
	*rest = c;
	return PB_OK;
}
