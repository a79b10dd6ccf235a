/*
 * guardseal.c - guard slots that a stray write cannot turn into a wrong
 * charge or a jump to nowhere.
 *
 * The guard slots (cpu.h) are on pages every module may write, because a
 * connection gate fills its slot in the client's protection domain
 * (conngate.S: the alternative is two more IA32_PKRS writes per call).
 * A slot holds what a fault needs most: whose call it is, and where and
 * in which domain the call returns.  So each slot is sealed (guard_key
 * XOR its fields; its caller's domain checked on its own) and kept twice,
 * the copy GUARD_MIRROR bytes on, on a page of its own: one stray write
 * damages at most one of them.  Code that decides from a slot (a fault,
 * the watchdogs) reads it through guard_sound(): the slot when it is
 * whole, else its copy, else nothing.  A call whose slot says a wrong
 * domain as it returns faults (guard.S, guard_damaged) and is unwound
 * from the copy, charged to the call's module.
 *
 * guard_depth, the number of slots in use, is on the same page and kept
 * the same way: with a check (guard_key XOR it) beside it and both again
 * on the copies' page.  guard.S checks it as a call starts and returns,
 * and the interrupt path as it comes in (DEPTH_GET): a damaged one is
 * healed from its copy there (no call is charged: the writer is not
 * known) and said soon after; C code reads it through guard_depth_now().
 *
 * guard_key is the hub's data, which modules may read but not write: the
 * seal stops accidents, as domains do, not malice.  It is a constant, so
 * that a seeded fault campaign runs the same on every boot.
 */
#include "cpu.h"
#include "domain.h"
#include "watch.h"
#include "../hub.h"

extern uint8_t domain_on;

uint64_t guard_key = 0x9e3779b97f4a7c15ull;	/* read by the assembly paths */

static uint64_t
seal_of(const struct guard *g)
{
	return guard_key ^ g->rbx ^ g->rbp ^ g->rdi ^ g->rsi ^ g->r12 ^
	    g->r13 ^ g->r14 ^ g->r15 ^ g->rsp ^ g->rip ^ g->rflags ^ g->cs ^
	    g->ss ^ (uint64_t)(uintptr_t)g->owner;
}

static struct guard *
copy_of(struct guard *g)
{
	return (struct guard *)(void *)((char *)g + GUARD_MIRROR);
}

/* Is g as guard.S wrote it?  Its domain counts only with domains on
 * (guard.S writes it only then). */
static int
whole(const struct guard *g)
{
	return g->seal == seal_of(g) && (!domain_on ||
	    (g->pkrs_before ^ g->pkrs_check) == (uint32_t)guard_key);
}

/* The depth as guard.S last wrote it: the word whose check agrees, else
 * its copy (one stray write damages at most one page); the larger of the
 * two, at most GUARD_MAX, when neither agrees (sound_depth, fault.c,
 * then looks for the innermost whole slot below it). */
uint32_t
guard_depth_now(void)
{
	uint32_t key = (uint32_t)guard_key, d;
	union guard_depth_word p, c;

	p.w = guard_depth_word.w;
	c.w = guard_depth_copy_word.w;
	if ((p.f.depth ^ p.f.check) == key)
		return p.f.depth;
	if ((c.f.depth ^ c.f.check) == key)
		return c.f.depth;
	d = p.f.depth > c.f.depth ? p.f.depth : c.f.depth;
	return d < GUARD_MAX ? d : GUARD_MAX;
}

/* guard_depth := d, with its check, in one store as DEPTH_PUT does (an
 * NMI may look between any two), then its copy (a fault's unwind, and the
 * hub's start, before which the checks are 0). */
void
guard_depth_set(uint32_t d)
{
	union guard_depth_word u = { .f = { d, d ^ (uint32_t)guard_key } };

	guard_depth_word.w = u.w;
	guard_depth_copy_word.w = u.w;
}

/* guard_depth_heal (guard.S) healed the depth: one line, soon after (a
 * fault's report, the next device interrupt's end). */
void
guard_depth_say(void)
{
	if (!guard_depth_healed)
		return;
	guard_depth_healed = 0;
	log_event(LOG_ERROR, "hub: the guard depth was damaged (a stray write "
	    "into the hub's records): its copy, %u, is used",
	    guard_depth_word.f.depth);
}

/* Slot d (0: outermost) as it was written, or NULL when both it and its
 * copy are damaged (or being filled: the seal goes last). */
const struct guard *
guard_sound(uint32_t d)
{
	struct guard *g;

	if (d >= GUARD_MAX)
		return NULL;
	g = &guard_stack[d];
	if (whole(g))
		return g;
	return whole(copy_of(g)) ? copy_of(g) : NULL;
}

/* The innermost active slot above the interrupt's floor, sound: the
 * owner of the call a fault or the watchdog ends.  NULL: none, or it is
 * damaged beyond its copy. */
const struct guard *
guard_innermost(void)
{
	uint32_t d = guard_depth_now();

	return d > guard_floor ? guard_sound(d - 1) : NULL;
}

/* Slot d is whole again: a damaged one takes its copy's fields (the
 * exception path's DOMAIN_LEAVE reads the domain it unwinds to from it).
 * 0: neither was whole. */
int
guard_repair(uint32_t d)
{
	const struct guard *s = guard_sound(d);

	if (!s)
		return 0;
	if (s != &guard_stack[d]) {
		log_event(LOG_FAULT, "  guard slot %u was damaged (a stray "
		    "write into the hub's records): its copy is used", d);
		guard_stack[d] = *s;
	}
	return 1;
}

/* The innermost call goes on as m's (arch_guard_retarget): each copy in
 * turn, so one stays whole; the seal changes by the owner's change only,
 * so a slot already damaged stays found damaged. */
void
guard_set_owner(struct pb_module *m)
{
	struct guard *g = &guard_stack[guard_depth_now() - 1];
	struct guard *c = copy_of(g);
	uint64_t was = (uint64_t)(uintptr_t)g->owner;

	g->seal ^= was ^ (uint64_t)(uintptr_t)m;
	g->owner = m;
	was = (uint64_t)(uintptr_t)c->owner;
	c->seal ^= was ^ (uint64_t)(uintptr_t)m;
	c->owner = m;
}

/* Domains come on (domain.c): calls under way were made from the hub's
 * domain, which their slots had no need to say until now. */
void
guard_domains_on(void)
{
	for (uint32_t d = 0; d < guard_depth_now() && d < GUARD_MAX; d++) {
		struct guard *g = &guard_stack[d];

		g->pkrs_before = copy_of(g)->pkrs_before = 0;
		g->pkrs_check = copy_of(g)->pkrs_check = (uint32_t)guard_key;
	}
}
