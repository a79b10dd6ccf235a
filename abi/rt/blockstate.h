/*
 * blockstate.h - the state a `block` provider hands its successor in a
 * swap (abi/block.h BLOCK_STATE_VERSION), for the providers that export
 * and import it (blockstate.c).
 */
#ifndef PB_ABI_RT_BLOCKSTATE_H
#define PB_ABI_RT_BLOCKSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "../block.h"

/* The bytes of a block state's header, ndisks disks and nreq request
 * pointers (which start 8-byte aligned); a provider's own tail follows. */
size_t rt_block_state_size(uint32_t ndisks, uint32_t nreq);

/* Where the request pointers of the state at st begin. */
struct block_req **rt_block_state_reqs(const struct block_state *st);

/* Each disk of the state in buf (len bytes) with its requests, in turn,
 * to take(ctx, disk, reqs): PB_ESTATE, before any is taken, when the
 * layout does not hold (more than max_disks disks, counts past len, a
 * disk's requests not where the last one's ended, its path not
 * terminated); else the first answer of take that is not PB_OK, or
 * PB_OK. */
int rt_block_state_walk(const void *buf, size_t len, uint32_t max_disks,
    int (*take)(void *ctx, const struct block_state_disk *disk,
    struct block_req *const *reqs), void *ctx);

#endif
