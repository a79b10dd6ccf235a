/*
 * dir.c - directories (spec "Directory Structure", "Long File Name
 * Implementation"): the FAT12/16 root is a fixed run of sectors, every
 * other directory a cluster chain of at most 65536 entries.
 *
 * Reading assembles a long name from the entries before a short one:
 * ordinals counting down from the one flagged LFN_LAST, every checksum
 * equal to the short name's.  Anything else (an orphan, a gap, a wrong
 * checksum) is ignored and the short name stands, as the spec says; so
 * does a long name holding an unpaired surrogate (logged once).
 *
 * Creating gives a name that does not fit 8.3 a long name and an alias
 * basis~N, N the smallest number no alias of that basis in the directory
 * uses; the entries go in the first run of free slots long enough, or in
 * a cluster added to the directory.
 */
#include "fat.h"

#define DIR_RA_BYTES (32u * 1024)	/* read ahead in a directory */

static int
fixed_root(const struct fat_vol *v, uint32_t dir)
{
	return dir == 0 && v->g.type != FAT32;
}

uint32_t
dir_root(const struct fat_vol *v)
{
	return v->g.type == FAT32 ? v->g.root_cluster : 0;
}

void
dir_start(struct fat_vol *v, struct dir_iter *it, uint32_t dir)
{
	dir_at(v, it, dir, 0, dir);
}

/* An iterator at entry idx, which is in cluster clus. */
void
dir_at(struct fat_vol *v, struct dir_iter *it, uint32_t dir, uint32_t idx,
    uint32_t clus)
{
	it->dir = dir;
	it->idx = idx;
	it->clus = fixed_root(v, dir) ? 0 : clus;
	it->cnum = fixed_root(v, dir) ? 0 :
	    (uint32_t)((uint64_t)idx * DIRENT_SIZE / v->g.cluster_bytes);
}

uint32_t
dent_cluster(const struct fat_vol *v, const struct dirent83 *e)
{
	uint32_t hi = v->g.type == FAT32 ? e->fst_clus_hi : 0;

	return hi << 16 | e->fst_clus_lo;
}

void
dent_set_cluster(struct dirent83 *e, uint32_t c)
{
	e->fst_clus_hi = (uint16_t)(c >> 16);
	e->fst_clus_lo = (uint16_t)c;
}

int
dent_is_dot(const struct dent *d)
{
	return d->e.name[0] == '.' && (d->e.name[1] == ' ' ||
	    (d->e.name[1] == '.' && d->e.name[2] == ' '));
}

/*
 * The sector and byte offset of entry it->idx, walking the chain forward
 * to it; PB_ENOENT past the directory's end (*last, if asked, is then
 * the chain's last cluster).
 */
static int
iter_pos(struct fat_vol *v, struct dir_iter *it, uint32_t *sec,
    uint32_t *off, uint32_t *ra)
{
	uint64_t byte = (uint64_t)it->idx * DIRENT_SIZE;
	uint32_t cn, in, next;
	int r;

	*off = (uint32_t)(byte % v->g.bps);
	if (fixed_root(v, it->dir)) {
		if (it->idx >= v->g.root_entries)
			return PB_ENOENT;
		*sec = v->g.root_start + (uint32_t)(byte / v->g.bps);
		*ra = v->g.root_start + v->g.root_sectors - *sec - 1;
		return PB_OK;
	}
	if (it->idx >= DIR_MAX_ENTRIES)
		return PB_ENOENT;
	cn = (uint32_t)(byte / v->g.cluster_bytes);
	if (it->cnum > cn) {		/* never: iterators go forward */
		it->clus = it->dir;
		it->cnum = 0;
	}
	while (it->cnum < cn) {
		if ((r = fat_next(v, it->clus, &next)) != PB_OK)
			return r;
		if (next == 0)
			return PB_ENOENT;
		it->clus = next;
		it->cnum++;
	}
	if (!fat_valid_cluster(v, it->clus)) {
		vol_corrupt(v, "directory outside the volume at cluster",
		    it->clus);
		return PB_ECORRUPT;
	}
	in = (uint32_t)(byte % v->g.cluster_bytes) / v->g.bps;
	*sec = clus_sec(v, it->clus) + in;
	*ra = v->g.spc - in - 1;
	return PB_OK;
}

/* Entry it->idx, to read (w == 0) or to change (class WB_DIR). */
static int
entry_at(struct fat_vol *v, struct dir_iter *it, int w, int flags,
    uint8_t **e)
{
	uint32_t sec, off, ra, max = DIR_RA_BYTES / v->g.bps;
	uint8_t *p;
	int r;

	if ((r = iter_pos(v, it, &sec, &off, &ra)) != PB_OK)
		return r;
	r = w ? cache_write(v, sec, WB_DIR, 0, &p) :
	    cache_get(v, sec, ra < max ? ra : max, flags, &p);
	if (r == PB_OK)
		*e = p + off;
	return r;
}

/* The long-name units of one LFN entry into lfn[(ord-1)*13 ...]. */
static void
lfn_take(const uint8_t *e, uint16_t *lfn, unsigned ord)
{
	static const uint8_t at[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18,
	    20, 22, 24, 28, 30 };
	uint16_t *dst = lfn + (ord - 1) * LFN_CHARS;

	for (unsigned i = 0; i < LFN_CHARS; i++)
		dst[i] = get16(e + at[i]);
}

/* How long the assembled name is: to its NUL, or every unit. */
static unsigned
lfn_length(const uint16_t *lfn, unsigned units)
{
	for (unsigned i = 0; i < units; i++)
		if (lfn[i] == 0)
			return i;
	return units;
}

/* Can a short name be shown and looked up: no control character, no
 * '/' or '\\', not blank? */
static int
short_name_sane(const uint8_t *e)
{
	if (e[0] == ' ')
		return 0;
	for (int i = 0; i < 11; i++)
		if ((e[i] < 0x20 && !(i == 0 && e[i] == DIR_KANJI_E5)) ||
		    e[i] == '/' || e[i] == '\\')
			return 0;
	return 1;
}

/* Can a long name be shown and looked up: paired surrogates, no control
 * character, no '/', not "." or ".."? */
static int
long_name_sane(const uint16_t *u, unsigned n)
{
	if (!utf16_valid(u, n) || (n == 1 && u[0] == '.') ||
	    (n == 2 && u[0] == '.' && u[1] == '.'))
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == '/')
			return 0;
	return 1;
}

/*
 * The next entry from it: a short entry with its long name, skipping
 * free slots (and the volume label unless DR_LABEL).  PB_ENOENT at the
 * end.  `it` ends past the entry returned.  A short name no path can
 * name is corruption: skipped (logged once).
 */
int
dir_read(struct fat_vol *v, struct dir_iter *it, struct dent *d, int flags)
{
	uint16_t *lfn = d->lfn;
	int want = -1;			/* the ordinal expected next */
	unsigned units = 0;
	uint8_t chk = 0;
	uint32_t lfn_idx = 0, lfn_clus = 0;
	int r;

	for (;;) {
		int gflags = flags & DR_NOPIN ? CG_NOPIN : 0;
		uint32_t idx = it->idx, clus;
		uint8_t *e, attr, ord;
		int label;

		if ((r = entry_at(v, it, 0, gflags, &e)) != PB_OK)
			return r;
		clus = it->clus;
		if (e[0] == DIR_END)
			return PB_ENOENT;
		it->idx++;
		attr = e[11];
		if (e[0] == DIR_FREE) {
			want = -1;
			continue;
		}
		if ((attr & ATTR_LONG_MASK) == ATTR_LONG_NAME) {
			ord = e[0] & (uint8_t)~LFN_LAST;
			if (e[0] & LFN_LAST) {
				want = -1;
				if (ord == 0 || ord > LFN_MAX_ENTRIES)
					continue;
				units = ord * LFN_CHARS;
				chk = e[13];
				lfn_idx = idx;
				lfn_clus = clus;
				lfn_take(e, lfn, ord);
				want = ord - 1;
			} else if (want > 0 && ord == want && e[13] == chk) {
				lfn_take(e, lfn, ord);
				want--;
			} else {
				want = -1;
			}
			continue;
		}
		label = (attr & ATTR_VOLUME_ID) && !(attr & ATTR_DIRECTORY);
		if (label && !(flags & DR_LABEL)) {
			want = -1;
			continue;
		}
		if (!label && !short_name_sane(e) &&
		    !(e[0] == '.' && (e[1] == ' ' || e[1] == '.'))) {
			vol_corrupt(v, "entry with an unusable 8.3 name skipped "
			    "in directory", it->dir);
			want = -1;
			continue;
		}
		memcpy(&d->e, e, sizeof(d->e));
		d->loc = (struct dloc){ .dir = it->dir, .idx = idx,
		    .clus = clus, .lfn_idx = idx, .lfn_clus = clus };
		d->lfn_len = 0;
		if (want != 0 || lfn_checksum(e) != chk)
			return PB_OK;
		d->loc.lfn_idx = lfn_idx;
		d->loc.lfn_clus = lfn_clus;
		units = lfn_length(lfn, units);
		if (units == 0 || units > LFN_MAX_UNITS)
			return PB_OK;
		if (!utf16_valid(lfn, units)) {
			vol_corrupt(v, "long name with an unpaired surrogate "
			    "(the 8.3 name stands) in directory", it->dir);
			return PB_OK;
		}
		if (!long_name_sane(lfn, units)) {
			vol_corrupt(v, "long name with a control character or "
			    "'/' (the 8.3 name stands) in directory", it->dir);
			return PB_OK;
		}
		d->lfn_len = units;
		return PB_OK;
	}
}

/* Find name (case-insensitively) among dir's long and short names. */
int
dir_lookup(struct fat_vol *v, uint32_t dir, const uint16_t *name,
    unsigned n, struct dent *d)
{
	struct dir_iter it;
	uint16_t sn[13];
	int r;

	dir_start(v, &it, dir);
	while ((r = dir_read(v, &it, d, 0)) == PB_OK) {
		if (dent_is_dot(d))
			continue;
		if (d->lfn_len && name_eq_ci(d->lfn, d->lfn_len, name, n))
			return PB_OK;
		if (name_eq_ci(sn, name_83_to_utf16(d->e.name, 0, sn), name,
		    n))
			return PB_OK;
	}
	return r;
}

/* Zero cluster c, which a directory takes. */
static int
zero_cluster(struct fat_vol *v, uint32_t c)
{
	int whole = v->g.cluster_bytes >= v->c.unit_bytes;
	uint32_t sec = clus_sec(v, c);
	uint8_t *p;
	int r;

	for (uint32_t i = 0; i < v->g.spc; i++) {
		if ((r = cache_write(v, sec + i, WB_DIR, whole ? CG_NEW : 0,
		    &p)) != PB_OK)
			return r;
		memset(p, 0, v->g.bps);
	}
	return PB_OK;
}

/* The smallest alias tail of basis free in dir. */
static int
free_tail(struct fat_vol *v, uint32_t dir, const uint8_t basis[11],
    unsigned baselen, unsigned *num)
{
	const unsigned max = DIR_MAX_ENTRIES + 2;
	struct dir_iter it;
	struct dent *d = &v->scan;
	int r, t;

	memset(v->tails, 0, (max + 31) / 32 * 4);
	dir_start(v, &it, dir);
	while ((r = dir_read(v, &it, d, 0)) == PB_OK)
		if ((t = name_tail_of(basis, baselen, d->e.name)) > 0 &&
		    (unsigned)t < max)
			v->tails[t / 32] |= 1u << (t % 32);
	if (r != PB_ENOENT)
		return r;
	for (unsigned k = 1; k < max; k++)
		if (!(v->tails[k / 32] & (1u << (k % 32)))) {
			*num = k;
			return PB_OK;
		}
	return PB_ENOSPC;
}

/*
 * The first run of `count` free slots in dir: *at is where it starts.
 * A directory too full grows by a cluster (a fixed root cannot:
 * PB_ENOSPC).
 */
static int
free_run(struct fat_vol *v, uint32_t dir, unsigned count, struct dir_iter *at)
{
	struct dir_iter it, start;
	unsigned run = 0;
	uint32_t c, last;
	uint8_t *e;
	int r;

	dir_start(v, &it, dir);
	for (;;) {
		if ((r = entry_at(v, &it, 0, 0, &e)) == PB_ENOENT)
			break;
		if (r != PB_OK)
			return r;
		if (e[0] == DIR_FREE || e[0] == DIR_END) {
			if (run++ == 0)
				start = it;
			if (run == count) {
				*at = start;
				return PB_OK;
			}
		} else {
			run = 0;
		}
		it.idx++;
	}
	/* The end: grow the chain by as many clusters as the run needs. */
	if (fixed_root(v, dir) || it.idx >= DIR_MAX_ENTRIES)
		return PB_ENOSPC;
	last = it.clus;
	while (run < count) {
		if (it.idx + (v->g.cluster_bytes / DIRENT_SIZE) >
		    DIR_MAX_ENTRIES)
			return PB_ENOSPC;
		if ((r = fat_alloc(v, 1, last, &c, &c)) != PB_OK)
			return r;
		if ((r = zero_cluster(v, c)) != PB_OK)
			return r;
		if (run == 0)
			dir_at(v, &start, dir, it.idx, c);
		run += v->g.cluster_bytes / DIRENT_SIZE;
		it.idx += v->g.cluster_bytes / DIRENT_SIZE;
		last = c;
	}
	*at = start;
	return PB_OK;
}

/* One LFN entry: ordinal ord (1-based) of a name of n units. */
static void
lfn_fill(uint8_t *e, const uint16_t *name, unsigned n, unsigned ord,
    int first, uint8_t chk)
{
	static const uint8_t at[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18,
	    20, 22, 24, 28, 30 };

	memset(e, 0, DIRENT_SIZE);
	e[0] = (uint8_t)(ord | (first ? LFN_LAST : 0));
	e[11] = ATTR_LONG_NAME;
	e[13] = chk;
	for (unsigned i = 0; i < LFN_CHARS; i++) {
		unsigned k = (ord - 1) * LFN_CHARS + i;
		uint16_t u = k < n ? name[k] : k == n ? 0 : 0xFFFF;

		put16(e + at[i], u);
	}
}

/*
 * Make entries for name in dir from proto (attributes, times, cluster,
 * size); *loc says where they went.  The caller checked that the name is
 * valid and not there.
 */
int
dir_create(struct fat_vol *v, uint32_t dir, const uint16_t *name,
    unsigned n, const struct dirent83 *proto, struct dloc *loc)
{
	struct dirent83 se = *proto;
	uint8_t basis[11], ntres, *e;
	unsigned nlfn = 0, baselen, num;
	struct dir_iter it;
	int r;

	if (name_to_83(name, n, se.name, &ntres)) {
		se.nt_res = ntres;
	} else {
		name_basis(name, n, basis, &baselen);
		if ((r = free_tail(v, dir, basis, baselen, &num)) != PB_OK)
			return r;
		name_tail(basis, baselen, num, se.name);
		se.nt_res = 0;
		nlfn = (n + LFN_CHARS - 1) / LFN_CHARS;
	}
	if ((r = free_run(v, dir, nlfn + 1, &it)) != PB_OK)
		return r;
	loc->dir = dir;
	loc->lfn_idx = it.idx;
	for (unsigned i = 0; i <= nlfn; i++, it.idx++) {
		if ((r = entry_at(v, &it, 1, 0, &e)) != PB_OK)
			return r;
		if (i == 0)
			loc->lfn_clus = it.clus;
		if (i < nlfn) {
			lfn_fill(e, name, n, nlfn - i, i == 0,
			    lfn_checksum(se.name));
			continue;
		}
		memcpy(e, &se, sizeof(se));
		loc->idx = it.idx;
		loc->clus = it.clus;
	}
	return PB_OK;
}

/* Free the entries of loc: its long-name entries and the short one. */
int
dir_remove(struct fat_vol *v, const struct dloc *loc)
{
	struct dir_iter it;
	uint8_t *e;
	int r;

	dir_at(v, &it, loc->dir, loc->lfn_idx, loc->lfn_clus);
	for (; it.idx <= loc->idx; it.idx++) {
		if ((r = entry_at(v, &it, 1, 0, &e)) != PB_OK)
			return r;
		e[0] = DIR_FREE;
	}
	return PB_OK;
}

/* The short entry of loc, to change. */
int
dir_update(struct fat_vol *v, const struct dloc *loc, struct dirent83 **e)
{
	struct dir_iter it;
	uint8_t *p;
	int r;

	dir_at(v, &it, loc->dir, loc->idx, loc->clus);
	if ((r = entry_at(v, &it, 1, 0, &p)) != PB_OK)
		return r;
	*e = (struct dirent83 *)p;
	return PB_OK;
}

/* A copy of the short entry of loc. */
int
dir_get(struct fat_vol *v, const struct dloc *loc, struct dirent83 *out)
{
	struct dir_iter it;
	uint8_t *p;
	int r;

	dir_at(v, &it, loc->dir, loc->idx, loc->clus);
	if ((r = entry_at(v, &it, 0, 0, &p)) != PB_OK)
		return r;
	memcpy(out, p, sizeof(*out));
	return PB_OK;
}

/* PB_OK if dir holds nothing but "." and "..", else PB_ENOTEMPTY. */
int
dir_empty(struct fat_vol *v, uint32_t dir)
{
	struct dir_iter it;
	struct dent *d = &v->scan;
	int r;

	dir_start(v, &it, dir);
	while ((r = dir_read(v, &it, d, 0)) == PB_OK)
		if (!dent_is_dot(d))
			return PB_ENOTEMPTY;
	return r == PB_ENOENT ? PB_OK : r;
}

/* A new directory's first cluster c: zeros, then "." and ".." (whose
 * cluster is 0 when the parent is the root, spec "Directory Structure"). */
int
dir_init_cluster(struct fat_vol *v, uint32_t c, uint32_t parent,
    const struct dirent83 *proto)
{
	struct dirent83 dot = *proto;
	uint8_t *p;
	int r;

	if ((r = zero_cluster(v, c)) != PB_OK)
		return r;
	if ((r = cache_write(v, clus_sec(v, c), WB_DIR, 0, &p)) != PB_OK)
		return r;
	memset(dot.name, ' ', 11);
	dot.name[0] = '.';
	dot.attr = ATTR_DIRECTORY;
	dot.nt_res = 0;
	dot.file_size = 0;
	dent_set_cluster(&dot, c);
	memcpy(p, &dot, sizeof(dot));
	dot.name[1] = '.';
	dent_set_cluster(&dot, parent == dir_root(v) ? 0 : parent);
	memcpy(p + DIRENT_SIZE, &dot, sizeof(dot));
	return PB_OK;
}

/* The volume label entry of the root, if there is one. */
int
dir_label(struct fat_vol *v, char *label, size_t cap)
{
	struct dir_iter it;
	struct dent *d = &v->scan;
	int r;

	dir_start(v, &it, dir_root(v));
	while ((r = dir_read(v, &it, d, DR_LABEL | DR_NOPIN)) == PB_OK) {
		unsigned n = 11;

		if (!(d->e.attr & ATTR_VOLUME_ID) ||
		    (d->e.attr & ATTR_LONG_MASK) == ATTR_LONG_NAME)
			continue;
		while (n > 0 && d->e.name[n - 1] == ' ')
			n--;
		if (n >= cap)
			n = (unsigned)cap - 1;
		for (unsigned i = 0; i < n; i++)
			label[i] = d->e.name[i] >= 0x20 && d->e.name[i] < 0x7f ?
			    (char)d->e.name[i] : '_';
		label[n] = '\0';
		return PB_OK;
	}
	return r;
}

/* The entry's name in UTF-8: the long one if valid, else 8.3. */
int
dent_name(const struct dent *d, char *out, size_t cap, size_t *len)
{
	uint16_t sn[13];

	if (d->lfn_len)
		return utf16_to_utf8(d->lfn, d->lfn_len, out, cap, len);
	return utf16_to_utf8(sn, name_83_to_utf16(d->e.name, d->e.nt_res, sn),
	    out, cap, len);
}
