/*
 * resolve.h - the resolver: which modules to start, and in which order, so
 * that a target interface (or one given module) can run.
 *
 * It works on a snapshot the caller builds (struct rs_set): every known
 * module with a state, plus the resources the hub itself publishes (the
 * `firmware`).  It has no side effects besides the plan it fills, and it is
 * deterministic: the same set gives the same plan, whatever the order of
 * the candidate array (ties of rank and name fall to the lower index).
 *
 * The rules, for one requirement `iface M.m` of a client:
 *  - Providers are matched with iface_serves (match.h).  A client never
 *    serves itself; REFUSED candidates never serve.
 *  - A hub resource or a RUNNING module satisfies it without a load, and is
 *    preferred.  Otherwise AVAILABLE candidates are tried best first (rank
 *    descending, then name, then index); one "resolves" when all of its
 *    own AT_START requirements do.  If the best does not, the next is tried,
 *    and the plan's notes say what was skipped and why.
 *  - PB_CARD_ONE takes the first provider that resolves; PB_CARD_OPTIONAL
 *    likewise, but never fails; PB_CARD_ALL takes every AVAILABLE provider
 *    that resolves, skipping (with a note) those that do not, and fails only
 *    when nothing at all serves.
 *  - PB_AT_START providers come before their client in the order.  PB_LATER
 *    requirements never block: once everything the target needs to start is
 *    planned, each planned module's LATER requirements are resolved in plan
 *    order, and what resolves is appended (so after its client).
 *  - Errors name the way down from the target: `os -> fs -> block: no
 *    provider`, `os -> console: need console 2.0, serial provides console
 *    1.3`, `... no provider (ahci refused)`; a cycle among AT_START
 *    requirements names its members: `cycle: a -> b -> a`.  When every
 *    provider of a requirement fails, the best one's reason is reported.
 *
 * Limits: at most RS_MAX candidates, each with a descriptor (otherwise
 * PB_EINVAL, and bind_candidates finds nothing); RS_MAX_EXT sizes
 * the callers' arrays of hub resources.  The resolver keeps its working
 * state in static storage (about 34 KiB): the hub is single-threaded, and
 * resolve calls do not nest.  Recursion is one level per module on the
 * stack, a few small frames each.  Failures of modules are remembered
 * within one call, so no module's requirements are explored more than a
 * few times even when many alternatives fail.
 */
#ifndef PB_HUB_RESOLVE_H
#define PB_HUB_RESOLVE_H

#include <stdint.h>
#include "../abi/pb.h"

#define RS_MAX 128		/* candidates, and modules in a plan */
#define RS_MAX_EXT 32		/* resources published by the hub itself */

/* What the resolver may do with a candidate. */
enum rs_state {
	RS_AVAILABLE = 0,	/* known, not loaded: may be chosen and started */
	RS_RUNNING = 1,		/* loaded and serving: satisfies without a load */
	RS_REFUSED = 2,		/* failed, refused or unusable now: never chosen */
};

struct rs_cand {
	const struct pb_modinfo *desc;
	int state;		/* enum rs_state */
};

/* A resource published from outside the module set (the hub's own). */
struct rs_res {
	const char *iface;
	uint16_t major, minor;
};

struct rs_set {
	const struct rs_cand *cands;
	int ncands;
	const struct rs_res *ext;
	int next;
};

struct rs_plan {
	int order[RS_MAX];	/* indexes into cands: providers first, once each */
	int n;
	char error[256];	/* why it failed; "" on success */
	char notes[512];	/* what was skipped on the way, "; "-separated */
};

/* Plan the start of whatever serves `iface major.minor`: 0, or PB_ENOENT
 * (no provider) or PB_EINVAL (cycle, bad set) with plan->error set. */
int resolve(const struct rs_set *set, const char *iface, uint16_t major,
    uint16_t minor, struct rs_plan *plan);

/* Plan the start of candidate `index` itself (the last in the order, but
 * for its LATER providers).  Empty when it runs already; PB_ENOENT when it
 * is refused. */
int resolve_module(const struct rs_set *set, int index, struct rs_plan *plan);

/* AVAILABLE candidates with a bind rule on `iface` whose pattern matches
 * props, best first (rank descending, then name, then index), each once.
 * Fills at most max entries of out and returns how many it filled. */
int bind_candidates(const struct rs_set *set, const char *iface,
    const char *props, int *out, int max);

#endif
