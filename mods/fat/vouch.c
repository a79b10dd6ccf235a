/*
 * vouch.c - what a faulted fat can still hand over of the blocks its
 * clients were told were written and it had not yet written back (its
 * write-back cache's dirty units; abi/fs.h struct fs_state_run).
 *
 * A fault may have come from a stray write through fat's own memory, and
 * the dirty units are fat's memory: handing over one a stray write went
 * through would put that on the disk.  So each unit carries a sum of its
 * place and data (rt_sum64) as the last step left them: a step's changes
 * mark the unit stale, and the step's end (commit or roll-back) sums the
 * stale units again.  A fault inside a step leaves its changes undone in
 * the hand-over: a unit the step had logged goes as its undo copy (what
 * the last step left), the step itself runs again in the new instance.
 * Any unit whose data no longer matches its sum, or that the step changed
 * without an undo copy (file data, CG_NOUNDO), or whose class is none, or
 * a dirty count that does not add up, and the volume hands over nothing:
 * its disk as of the last sync is consistent (wb.c), half of its
 * unwritten blocks would not be.
 */
#include "fat.h"

/* Every unit u of the cache c's backed chunks (cache.c). */
#define EACH_UNIT(c, k, i, u) \
	for (unsigned k = 0; k < (c)->nbacked; k++) \
		for (unsigned i = 0; i < cache_chunk_count((c), k) && \
		    ((u) = cache_chunk_units((c), k) + i); i++)

static uint64_t
unit_sum(const struct cache *c, const struct unit *u, const uint8_t *data)
{
	uint64_t place = (uint64_t)u->lba << 16 | u->nsect;

	return rt_sum64(RT_SUM64_SEED ^ place, data,
	    (size_t)u->nsect * (c->unit_bytes / c->spu));
}

/* u's data is about to change within the running step. */
void
unit_stale(struct cache *c, struct unit *u)
{
	if (!u->stale) {
		u->stale = 1;
		c->nstale++;
	}
}

/* u holds nothing any more. */
void
unit_unstale(struct cache *c, struct unit *u)
{
	if (u->stale) {
		u->stale = 0;
		c->nstale--;
	}
}

/* The step is over: the units it changed are summed as they are now. */
void
cache_seal(struct fat_vol *v)
{
	struct cache *c = &v->c;
	struct unit *u;

	if (c->nstale)
		EACH_UNIT(c, k, i, u)
			if (u->stale) {
				u->sum = unit_sum(c, u, u->data);
				unit_unstale(c, u);
			}
}

/* What dirty unit u held when the last step ended, checked against its
 * sum (when `check`), in *data: 1; 0 when it was not dirty then (the
 * running step made it so: nothing to hand over); -1 when that cannot be
 * vouched for. */
static int
as_last_left(const struct cache *c, const struct unit *u,
    const uint8_t **data, int check)
{
	*data = u->data;
	if (c->nundo && u->tx == c->tx_seq) {
		for (unsigned i = 0; i < c->nundo; i++)
			if (c->undo[i].u == u) {
				if (!c->undo[i].copy || !c->undo[i].dirty)
					return 0;
				*data = c->undo[i].copy;
				break;
			}
	} else if (u->stale) {
		return -1;
	}
	return !check || unit_sum(c, u, *data) == u->sum ? 1 : -1;
}

/*
 * Call fn for every unit not yet written, with the data the last step
 * left in it, when every one of them is as summed: PB_OK.  Else
 * PB_ECORRUPT, and fn is called for none.
 */
int
cache_each_unwritten(struct fat_vol *v, void (*fn)(struct fat_vol *,
    const struct unit *, const uint8_t *, void *), void *arg)
{
	struct cache *c = &v->c;
	const uint8_t *data;
	struct unit *u;
	unsigned dirty = 0;

	EACH_UNIT(c, k, i, u) {
		if (u->state != U_VALID || u->dirty == WB_NONE)
			continue;
		dirty++;
		if (u->dirty >= WB_NCLASS || as_last_left(c, u, &data, 1) < 0)
			return PB_ECORRUPT;
	}
	if (dirty != c->ndirty)
		return PB_ECORRUPT;
	EACH_UNIT(c, k, i, u)
		if (u->state == U_VALID && u->dirty != WB_NONE &&
		    as_last_left(c, u, &data, 0) > 0)
			fn(v, u, data, arg);
	return PB_OK;
}
