/*
 * blockstate.c - the block state of a swap (abi/block.h, blockstate.h):
 * its size, and a walk over a received one that checks its layout before
 * the provider takes each disk's requests.
 */
#include "../pbmod.h"
#include "blockstate.h"

/* No state lists more requests than this: a damaged count is refused
 * before anything is sized by it. */
#define BLOCK_STATE_MAX_REQS (1u << 20)

size_t
rt_block_state_size(uint32_t ndisks, uint32_t nreq)
{
	size_t n = sizeof(struct block_state) +
	    ndisks * sizeof(struct block_state_disk);

	return ((n + 7) & ~(size_t)7) + nreq * sizeof(struct block_req *);
}

struct block_req **
rt_block_state_reqs(const struct block_state *st)
{
	return (struct block_req **)(void *)((uint8_t *)(uintptr_t)st +
	    rt_block_state_size(st->ndisks, 0));
}

static int
layout_holds(const struct block_state *st, size_t len, uint32_t max_disks)
{
	const struct block_state_disk *disks;
	uint32_t next = 0;

	if (len < sizeof(*st) || st->ndisks > max_disks ||
	    st->nreq > BLOCK_STATE_MAX_REQS ||
	    len < rt_block_state_size(st->ndisks, st->nreq))
		return 0;
	disks = (const struct block_state_disk *)(st + 1);
	for (uint32_t d = 0; d < st->ndisks; d++) {
		if (strnlen(disks[d].path, BLOCK_PATH_MAX) == BLOCK_PATH_MAX ||
		    disks[d].first != next || disks[d].nreq > st->nreq - next)
			return 0;
		next += disks[d].nreq;
	}
	return 1;
}

int
rt_block_state_walk(const void *buf, size_t len, uint32_t max_disks,
    int (*take)(void *ctx, const struct block_state_disk *disk,
    struct block_req *const *reqs), void *ctx)
{
	const struct block_state *st = buf;
	const struct block_state_disk *disks;
	struct block_req *const *reqs;
	int err;

	if (!buf || !layout_holds(st, len, max_disks))
		return PB_ESTATE;
	disks = (const struct block_state_disk *)(st + 1);
	reqs = rt_block_state_reqs(st);
	for (uint32_t d = 0; d < st->ndisks; d++)
		if ((err = take(ctx, &disks[d], reqs + disks[d].first)) != PB_OK)
			return err;
	return PB_OK;
}
