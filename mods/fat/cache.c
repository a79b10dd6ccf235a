/*
 * cache.c - a volume's sector cache: fixed-size units (a cluster, 4 KiB
 * at most), up to boot.cfg's fs-cache=KiB (512 KiB by default), whose
 * memory comes FAT_CHUNK at a time as the volume's use first needs it;
 * found by hash, evicted least recently used first once the cache is at
 * its size, written back by class (wb.c).
 *
 * Units tile the volume from the data area's start, so every cluster is a
 * whole number of units: a new directory cluster or a file's full unit is
 * written without being read first (CG_NEW).  The unit holding sectors
 * before that phase point is shorter.
 *
 * The running step's units are pinned (not evicted) until it commits:
 * after a miss it runs again and finds what it read before.  A scan that
 * does not need that passes CG_NOPIN.  Every unit a step changes goes
 * through cache_write, which keeps a copy in the undo log first; a step
 * that misses or fails is rolled back from it (tx_rollback), so a step
 * never leaves half a change behind.
 */
#include "fat.h"

static uint64_t
unit_key(const struct cache *c, uint32_t sec)
{
	return ((uint64_t)sec + c->spu - c->origin) / c->spu;
}

/* Sectors of unit `key`, clamped to the volume. */
static void
unit_span(const struct fat_vol *v, uint64_t key, uint32_t *first,
    uint16_t *n)
{
	const struct cache *c = &v->c;
	int64_t f = (int64_t)key * c->spu + c->origin - c->spu;
	int64_t end = f + c->spu;

	if (f < 0)
		f = 0;
	if (end > v->g.total_sectors)
		end = v->g.total_sectors;
	*first = (uint32_t)f;
	*n = (uint16_t)(end > f ? end - f : 0);
}

static unsigned
hash_of(const struct cache *c, uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 40) & c->hmask;
}

static struct unit *
lookup(struct cache *c, uint64_t key)
{
	for (struct unit *u = c->hash[hash_of(c, key)]; u; u = u->hnext)
		if (u->key == key)
			return u;
	return NULL;
}

static void
list_remove(struct unit *u)
{
	u->prev->next = u->next;
	u->next->prev = u->prev;
	u->prev = u->next = u;
}

static void
list_append(struct unit *head, struct unit *u)
{
	u->prev = head->prev;
	u->next = head;
	head->prev->next = u;
	head->prev = u;
}

static void
hash_insert(struct cache *c, struct unit *u)
{
	unsigned h = hash_of(c, u->key);

	u->hnext = c->hash[h];
	c->hash[h] = u;
}

static void
hash_remove(struct cache *c, struct unit *u)
{
	struct unit **pp = &c->hash[hash_of(c, u->key)];

	while (*pp && *pp != u)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = u->hnext;
	u->hnext = NULL;
}

/* Give unit u back to the free list (it holds nothing any more). */
static void
unit_release(struct cache *c, struct unit *u)
{
	if (u->dirty)
		c->ndirty--;
	if (u->state == U_LOADING)
		c->nloading--;
	unit_unstale(c, u);
	hash_remove(c, u);
	list_remove(u);
	u->state = U_FREE;
	u->dirty = WB_NONE;
	u->pin = 0;
	list_append(&c->freel, u);
}

/* Units of chunk k: chunk_units, or fewer for the last one. */
unsigned
cache_chunk_count(const struct cache *c, unsigned k)
{
	unsigned n = c->nunits - k * c->chunk_units;

	return n < c->chunk_units ? n : c->chunk_units;
}

/* Chunk k's units: after its data. */
struct unit *
cache_chunk_units(const struct cache *c, unsigned k)
{
	return (struct unit *)(void *)(c->chunk[k] +
	    (size_t)cache_chunk_count(c, k) * c->unit_bytes);
}

/* Pages of chunk k: its units' data (DMA-able), then their records. */
static size_t
chunk_pages(const struct cache *c, unsigned k)
{
	return ((size_t)cache_chunk_count(c, k) * (c->unit_bytes +
	    sizeof(struct unit)) + 4095) / 4096;
}

/* One more chunk of free units, while the cache is below its size. */
static int
cache_grow(struct cache *c)
{
	unsigned k = c->nbacked;
	struct unit *u;

	if (k == c->nchunks || !(c->chunk[k] = fm.hub->alloc_pages(fm.self,
	    chunk_pages(c, k), PB_MEM_DMA32, NULL)))
		return PB_ENOMEM;
	c->nbacked++;
	u = cache_chunk_units(c, k);
	for (unsigned i = 0; i < cache_chunk_count(c, k); i++, u++) {
		memset(u, 0, sizeof(*u));
		u->data = c->chunk[k] + (size_t)i * c->unit_bytes;
		u->prev = u->next = u;
		list_append(&c->freel, u);
	}
	return PB_OK;
}

/* A unit to fill: a free one (the cache grows by a chunk when none is,
 * up to its size), else the least recently used that is not pinned,
 * dirty or being read. */
static struct unit *
unit_take(struct cache *c)
{
	struct unit *u = c->freel.next;

	if (u == &c->freel && cache_grow(c) == PB_OK)
		u = c->freel.next;
	if (u == &c->freel) {
		for (u = c->lru.next; u != &c->lru; u = u->next)
			if ((u->state == U_VALID || u->state == U_ERROR) &&
			    !u->dirty && u->pin != c->pin_seq)
				break;
		if (u == &c->lru) {
			c->no_slot = 1;
			return NULL;
		}
		hash_remove(c, u);
	}
	list_remove(u);
	return u;
}

static void
unit_place(struct fat_vol *v, struct unit *u, uint64_t key, int state)
{
	struct cache *c = &v->c;

	u->key = key;
	unit_span(v, key, &u->lba, &u->nsect);
	u->state = (uint8_t)state;
	u->dirty = WB_NONE;
	u->pin = 0;
	u->tx = 0;
	u->err = 0;
	c->nloading += state == U_LOADING;
	hash_insert(c, u);
	list_append(&c->lru, u);
}

int
cache_init(struct fat_vol *v, size_t bytes)
{
	struct cache *c = &v->c;
	const struct pb_hub *hub = fm.hub;
	unsigned nhash = 1;

	memset(c, 0, sizeof(*c));
	/* A cluster, up to 4 KiB: a unit never holds two clusters, so a
	 * fragmented directory of small clusters takes no more units than
	 * it has clusters. */
	c->unit_bytes = v->g.cluster_bytes < FAT_UNIT_MAX ?
	    v->g.cluster_bytes : FAT_UNIT_MAX;
	c->spu = c->unit_bytes / v->g.bps;
	c->origin = v->g.data_start % c->spu;
	c->nunits = (unsigned)(bytes / c->unit_bytes);
	if (c->nunits < FAT_UNDO_MAX)
		c->nunits = FAT_UNDO_MAX;
	while (nhash < c->nunits * 2)
		nhash <<= 1;
	c->hmask = nhash - 1;
	c->chunk_units = FAT_CHUNK / c->unit_bytes;
	c->nchunks = (c->nunits + c->chunk_units - 1) / c->chunk_units;
	c->undo_per = 4096 / c->unit_bytes;
	c->hash = hub->alloc(fm.self, nhash * sizeof(struct unit *));
	c->chunk = hub->alloc(fm.self, c->nchunks * sizeof(uint8_t *));
	v->wb.list = hub->alloc(fm.self, c->nunits * sizeof(struct unit *));
	if (!c->hash || !c->chunk || !v->wb.list) {
		cache_fini(v);
		return PB_ENOMEM;
	}
	memset(c->hash, 0, nhash * sizeof(struct unit *));
	memset(c->chunk, 0, c->nchunks * sizeof(uint8_t *));
	c->lru.prev = c->lru.next = &c->lru;
	c->freel.prev = c->freel.next = &c->freel;
	c->pin_seq = 1;
	return PB_OK;
}

void
cache_fini(struct fat_vol *v)
{
	struct cache *c = &v->c;
	const struct pb_hub *hub = fm.hub;

	if (c->hash)
		hub->free(fm.self, c->hash);
	for (unsigned k = 0; k < c->nbacked; k++)
		hub->free_pages(fm.self, c->chunk[k], chunk_pages(c, k));
	if (c->chunk)
		hub->free(fm.self, c->chunk);
	for (unsigned i = 0; i < FAT_UNDO_MAX; i++)
		if (c->undo_page[i])
			hub->free(fm.self, c->undo_page[i]);
	if (v->wb.list)
		hub->free(fm.self, v->wb.list);
	v->wb.list = NULL;
	memset(c, 0, sizeof(*c));
}

/*
 * Start reading the unit `key` and the absent units after it, up to
 * `last` (a sector), in one block request: one segment per unit.
 * Answers FAT_MISS (the caller waits for it) or an error.
 */
static int
fetch(struct fat_vol *v, uint64_t key, uint32_t last)
{
	struct cache *c = &v->c;
	struct fat_io *io = io_get(v);
	uint32_t max_sec = io_max_sectors(v), nsect = 0, first = 0;
	unsigned maxseg = io_max_segs(v);
	int r;

	if (!io)
		return FAT_MISS;	/* everything in flight: wait for it */
	for (uint64_t k = key; io->nunits < maxseg; k++) {
		struct unit *u;
		uint32_t lba;
		uint16_t n;

		unit_span(v, k, &lba, &n);
		if (n == 0 || (k > key && (lba > last || lookup(c, k) ||
		    nsect + n > max_sec)))
			break;
		if (!(u = unit_take(c)))
			break;
		unit_place(v, u, k, U_LOADING);
		if (k == key)
			first = lba;
		io->units[io->nunits++] = u;
		io_add(v, io, u->data, (uint32_t)n * v->g.bps);
		nsect += n;
	}
	if (io->nunits == 0) {
		io->busy = 0;
		return FAT_MISS;	/* no slot: a write-back frees one */
	}
	c->no_slot = 0;
	if ((r = io_submit(v, io, IO_FETCH, first, nsect)) != PB_OK) {
		for (unsigned i = 0; i < io->nunits; i++)
			unit_release(c, io->units[i]);
		io->busy = 0;
		return r;
	}
	return FAT_MISS;
}

/* The unit of sector `sec`, resident and pinned, or why not. */
static int
get_unit(struct fat_vol *v, uint32_t sec, uint32_t ra, int flags,
    struct unit **out)
{
	struct cache *c = &v->c;
	uint64_t key;
	struct unit *u;
	int err;

	if (sec >= v->g.total_sectors) {
		/* Every sector asked for comes from the checked geometry
		 * (bpb.c) and from clusters checked as they were read
		 * (fat_valid_cluster): one beyond the volume is fat's own
		 * memory gone bad, not the disk.  Marking the volume damaged
		 * would refuse it for good; a restart mounts it again from
		 * the disk, its requests kept in the state it hands over. */
		LOGF(PB_LOG_ERR, "%s: sector %u beyond the volume (%u "
		    "sectors): fat's own state is corrupt", v->res_name, sec,
		    v->g.total_sectors);
		PB_SELF_CORRUPT();
	}
	key = unit_key(c, sec);
	if (!(u = lookup(c, key))) {
		if (!(flags & CG_NEW))
			return fetch(v, key, sec + ra);
		if (!(u = unit_take(c)))
			return FAT_MISS;
		unit_place(v, u, key, U_VALID);
		memset(u->data, 0, c->unit_bytes);
		u->tx = ~0u;		/* new: cache_write logs it as such */
	}
	switch (u->state) {
	case U_LOADING:
		return FAT_MISS;
	case U_ERROR:
		err = u->err ? u->err : PB_EIO;
		unit_release(c, u);	/* the next attempt reads again */
		return err;
	}
	list_remove(u);
	list_append(&c->lru, u);
	if (!(flags & CG_NOPIN))
		u->pin = c->pin_seq;
	*out = u;
	return PB_OK;
}

/* Does a write of `left` bytes at byte soff of sector sec cover its
 * whole unit (one cluster's, since units tile clusters)? */
int
cache_whole_unit(const struct fat_vol *v, uint32_t sec, uint32_t soff,
    uint64_t left)
{
	const struct cache *c = &v->c;

	return soff == 0 && sec >= c->origin &&
	    (sec - c->origin) % c->spu == 0 && left >= c->unit_bytes;
}

/* Is sector sec's unit in the cache (read or being read)? */
int
cache_resident(struct fat_vol *v, uint32_t sec)
{
	return sec < v->g.total_sectors &&
	    lookup(&v->c, unit_key(&v->c, sec)) != NULL;
}

static uint8_t *
sector_in(const struct fat_vol *v, struct unit *u, uint32_t sec)
{
	return u->data + (size_t)(sec - u->lba) * v->g.bps;
}

int
cache_get(struct fat_vol *v, uint32_t sec, uint32_t ra, int flags,
    uint8_t **p)
{
	struct unit *u;
	int r = get_unit(v, sec, ra, flags & ~CG_NEW, &u);

	if (r == PB_OK)
		*p = sector_in(v, u, sec);
	return r;
}

/* Where the undo log's copy number n goes; NULL when out of memory. */
static uint8_t *
undo_copy(struct fat_vol *v, unsigned n)
{
	struct cache *c = &v->c;
	uint8_t **page = &c->undo_page[n / c->undo_per];

	if (!*page && !(*page = fm.hub->alloc(fm.self, 4096))) {
		LOGF(PB_LOG_ERR, "%s: no memory for the undo log's unit %u",
		    v->res_name, n);
		return NULL;
	}
	return *page + (size_t)(n % c->undo_per) * c->unit_bytes;
}

/* Log unit u in the step's undo before its first change. */
static int
undo_log(struct fat_vol *v, struct unit *u)
{
	struct cache *c = &v->c;
	struct undo *d;

	if (u->tx == c->tx_seq)
		return PB_OK;
	if (c->nundo == FAT_UNDO_MAX) {
		c->undo_full = 1;
		return PB_ENOMEM;
	}
	d = &c->undo[c->nundo];
	d->copy = NULL;			/* new: the undo drops it */
	if (u->tx != ~0u) {
		if (!(d->copy = undo_copy(v, c->nundo)))
			return PB_ENOMEM;
		memcpy(d->copy, u->data, c->unit_bytes);
	}
	d->u = u;
	d->dirty = u->dirty;
	c->nundo++;
	u->tx = c->tx_seq;
	return PB_OK;
}

/* Sector `sec`, to be changed by the step: logged, marked dirty with
 * write-back class `cls`.  CG_NEW: the caller overwrites the whole unit. */
int
cache_write(struct fat_vol *v, uint32_t sec, int cls, int flags, uint8_t **p)
{
	struct cache *c = &v->c;
	struct unit *u;
	int r;

	if (v->ro)
		return PB_EROFS;
	if ((r = get_unit(v, sec, 0, flags & ~CG_NOPIN, &u)) != PB_OK)
		return r;
	if (flags & CG_NOUNDO) {
		u->tx = 0;		/* not new to a later step's undo */
	} else if ((r = undo_log(v, u)) != PB_OK) {
		if (u->tx == ~0u)
			unit_release(c, u);
		return r;
	}
	if (!u->dirty)
		c->ndirty++;
	if (u->dirty < cls)
		u->dirty = (uint8_t)cls;
	unit_stale(c, u);
	*p = sector_in(v, u, sec);
	return PB_OK;
}

void
tx_begin(struct fat_vol *v)
{
	struct cache *c = &v->c;

	c->nundo = 0;
	c->undo_full = 0;
	if (++c->tx_seq == ~0u || c->tx_seq == 0)
		c->tx_seq = 1;
	v->m_saved = v->m;
}

/* The step stands: its changes stay, its pins go. */
void
tx_commit(struct fat_vol *v)
{
	struct cache *c = &v->c;

	c->nundo = 0;
	cache_seal(v);
	if (++c->pin_seq == 0)
		c->pin_seq = 1;
}

/* The step is undone: every unit it changed is as before, newest change
 * first; its pins stay for the re-run. */
void
tx_rollback(struct fat_vol *v)
{
	struct cache *c = &v->c;

	if (c->nundo)
		v->ext.first = 0;	/* a FAT may be as it was before */
	while (c->nundo > 0) {
		struct undo *d = &c->undo[--c->nundo];
		struct unit *u = d->u;

		u->tx = 0;
		if (!d->copy) {
			unit_release(c, u);
			continue;
		}
		memcpy(u->data, d->copy, c->unit_bytes);
		if (u->dirty && !d->dirty)
			c->ndirty--;
		u->dirty = d->dirty;
	}
	cache_seal(v);
	v->m = v->m_saved;
}

/* Forget the pins (a job ends). */
void
cache_unpin_all(struct fat_vol *v)
{
	if (++v->c.pin_seq == 0)
		v->c.pin_seq = 1;
}

void
cache_fetched(struct fat_vol *v, struct unit **u, unsigned n, int err)
{
	for (unsigned i = 0; i < n; i++) {
		u[i]->state = err ? U_ERROR : U_VALID;
		u[i]->err = err;
		v->c.nloading--;
	}
}

void
cache_wrote(struct fat_vol *v, struct unit **u, unsigned n, int err)
{
	for (unsigned i = 0; i < n; i++)
		if (!err && u[i]->dirty) {
			u[i]->dirty = WB_NONE;
			v->c.ndirty--;
		}
}

/* Call fn for every resident unit overlapping sectors [sec, sec+n), with
 * the overlap in sectors: from (in the unit) and at (from sec). */
static void
each_unit(struct fat_vol *v, uint32_t sec, uint32_t n,
    void (*fn)(struct fat_vol *, struct unit *, uint32_t at, uint32_t from,
    uint32_t cnt, void *), void *arg)
{
	struct cache *c = &v->c;
	uint64_t end = (uint64_t)sec + n;

	if (!c->hash || n == 0)
		return;
	for (uint64_t k = unit_key(c, sec); ; k++) {
		uint32_t lba, lo, hi;
		uint16_t cnt;
		struct unit *u;

		unit_span(v, k, &lba, &cnt);
		if (cnt == 0 || lba >= end)
			break;
		if (!(u = lookup(c, k)))
			continue;
		lo = lba > sec ? lba : sec;
		hi = (uint64_t)lba + cnt < end ? lba + cnt : (uint32_t)end;
		if (lo < hi)
			fn(v, u, lo - sec, lo - lba, hi - lo, arg);
	}
}

static void
overlay_one(struct fat_vol *v, struct unit *u, uint32_t at, uint32_t from,
    uint32_t cnt, void *arg)
{
	if (u->state == U_VALID && u->dirty)
		memcpy((uint8_t *)arg + (size_t)at * v->g.bps,
		    u->data + (size_t)from * v->g.bps, (size_t)cnt * v->g.bps);
}

/* A direct read put the disk's sectors in buf: newer ones still in the
 * cache win. */
void
cache_overlay(struct fat_vol *v, uint32_t sec, uint32_t n, uint8_t *buf)
{
	if (v->c.ndirty)		/* else nothing is newer than the disk */
		each_unit(v, sec, n, overlay_one, buf);
}

static void
update_one(struct fat_vol *v, struct unit *u, uint32_t at, uint32_t from,
    uint32_t cnt, void *arg)
{
	if (u->state != U_VALID)
		return;
	if (u->dirty)
		unit_stale(&v->c, u);
	memcpy(u->data + (size_t)from * v->g.bps,
	    (const uint8_t *)arg + (size_t)at * v->g.bps,
	    (size_t)cnt * v->g.bps);
}

/* A direct write goes to the disk: the cache holds the same. */
void
cache_update(struct fat_vol *v, uint32_t sec, uint32_t n, const uint8_t *buf)
{
	each_unit(v, sec, n, update_one, (void *)(uintptr_t)buf);
}

static void
drop_one(struct fat_vol *v, struct unit *u, uint32_t at, uint32_t from,
    uint32_t cnt, void *arg)
{
	if (u->state == U_VALID && !u->dirty)
		unit_release(&v->c, u);
}

/* A direct write failed: what the cache holds of it may not be on disk. */
void
cache_drop_clean(struct fat_vol *v, uint32_t sec, uint32_t n)
{
	each_unit(v, sec, n, drop_one, NULL);
}

static void
loading_one(struct fat_vol *v, struct unit *u, uint32_t at, uint32_t from,
    uint32_t cnt, void *arg)
{
	if (u->state == U_LOADING)
		*(int *)arg = 1;
}

/* Is a read of any of these sectors in flight? */
int
cache_range_loading(struct fat_vol *v, uint32_t sec, uint32_t n)
{
	int any = 0;

	if (v->c.nloading)
		each_unit(v, sec, n, loading_one, &any);
	return any;
}

/* The dirty units of class cls, by sector (shell sort: no allocation). */
unsigned
cache_collect_dirty(struct fat_vol *v, int cls, struct unit **out,
    unsigned max)
{
	struct cache *c = &v->c;
	unsigned n = 0;

	for (unsigned k = 0; k < c->nbacked; k++) {
		struct unit *u = cache_chunk_units(c, k);

		for (unsigned i = 0; i < cache_chunk_count(c, k) && n < max;
		    i++)
			if (u[i].state == U_VALID && u[i].dirty == cls)
				out[n++] = &u[i];
	}
	for (unsigned gap = n / 2; gap > 0; gap /= 2)
		for (unsigned i = gap; i < n; i++) {
			struct unit *t = out[i];
			unsigned j = i;

			for (; j >= gap && out[j - gap]->lba > t->lba; j -= gap)
				out[j] = out[j - gap];
			out[j] = t;
		}
	return n;
}
