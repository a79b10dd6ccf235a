/*
 * shared.h - the record of the clock hook a module's now_ns runs, on the
 * page every module may write (struct hub_shared, hub.h; shared.c says
 * what the hub believes of it).  Inline: now_ns is the service modules
 * call most, in their own domain, and each call costs under emulation.
 *
 * The record is written with its index last and cleared with it first,
 * so an NMI between two stores finds no hook or a whole one.
 */
#ifndef PB_HUB_SHARED_H
#define PB_HUB_SHARED_H

#include "hub.h"

#define SEAL_MIX 0x9e3779b97f4a7c15ull
#define SEAL_SALT 0x5bd1e9955bd1e995ull

static inline uint64_t
shared_seal(uint64_t due, uint32_t depth)
{
	return due ^ (depth * SEAL_MIX) ^ SEAL_SALT;
}

/* A hook about to take guard `index`, overdue at CPU time `due`. */
static inline void
shared_hook_begin(unsigned index, uint64_t due)
{
	hub_shared.hook_depth = 0;
	hub_shared.hook_due = due;
	hub_shared.hook_seal = shared_seal(due, index + 1);
	hub_shared.hook_depth = index + 1;
}

static inline void
shared_hook_end(void)
{
	hub_shared.hook_depth = 0;
	hub_shared.hook_seal = 0;
}

/* Does a record name a hook, whole?  (A damaged one is noted.) */
int shared_hook_whole(uint64_t limit);

static inline int
shared_hook_running(void)
{
	return hub_shared.hook_depth && shared_hook_whole(~0ull);
}

#endif
