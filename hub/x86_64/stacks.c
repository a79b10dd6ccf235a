/*
 * stacks.c - module code runs on a stack of its own, off the hub's.
 *
 * With protection domains on (domain.c), the hub's stack (the one the
 * stub allocated) is split in two.  The upper half is the hub's, key 0,
 * read-only to modules.  The lower half is where module code runs, key
 * 15 as before: every module may write it.  A module's stray write above
 * its own frames therefore meets a guard page, not the hub's return
 * addresses, saved registers and locals.
 *
 *	stack_base                  + STACK/2                    + STACK
 *	| guard | module stack ...  | guard | hub stack ...             |
 *
 * The hub's code runs on the hub half, module code on the module half;
 * the switches are where the one calls the other:
 *   - a guarded call made on the hub half (arch_call_module) runs the
 *     module on the module half, below stack_mod_sp, after copying the
 *     call's argument block there (the hub's trampolines and the module
 *     write it: results, the step a swap reached), and copies it back as
 *     the call returns or is unwound (guard.S, arch_call_guarded_switch);
 *   - a service entered from the module half (svcgate.S) runs on the hub
 *     half, below stack_hub_sp, and moves stack_mod_sp down to the
 *     caller's frames, so calls it makes into modules go below them;
 *   - an interrupt or exception that cuts into module code (isr.S)
 *     copies the frame the CPU pushed onto the module half to the hub
 *     half and runs, and returns, from the copy.  Page faults, NMIs, #DF
 *     and #MC run on IST stacks of their own as before (gdt.c).
 * Code that is on the module half already (a trampoline's nested call,
 * a gated connection, the hub's code a module called) stays there.
 *
 * stack_mod_sp, stack_hub_sp and stack_hub_at are in the hub's memory:
 * only the hub moves them.  stack_mod_sp comes back to what it was as each
 * switch ends (the C side, after a guarded call, also one a fault unwound;
 * the gate and the interrupt path as they return).  stack_hub_sp is set
 * by every switch onto the module half and left there: while module code
 * runs, it is the hub's RSP at the innermost switch still running, or
 * lower (a switch made and ended below it since), never inside a live
 * frame of the hub's.  A switch returns to the RSP it kept for its guard
 * slot in stack_hub_at.
 *
 * Not split: with domains off (isolate=no, no PKS), and before the
 * takeover, when the firmware's tables carry no keys: modules run on the
 * hub's stack as before.
 */
#include "arch.h"
#include "cpu.h"
#include "pte.h"
#include "../hub.h"
#include "../handoff.h"
#include "../../abi/rt/rt.h"

/* Read by guard.S, svcgate.S and isr.S. */
uint8_t stack_split;
uint64_t stack_hub_lo, stack_hub_size;	/* the hub's half, its guard too */
uint64_t stack_mod_lo, stack_mod_hi;	/* the module half */
uint64_t stack_mod_sp;	/* module code starts below this */
uint64_t stack_hub_sp;	/* the hub's code, entered from a module, below this */
uint64_t stack_hub_at[GUARD_MAX];	/* per guard slot: where a switch returns */

/* Room kept free under the copies: module code needs a stack. */
#define MOD_STACK_SPARE (16u << 10)

long arch_call_guarded_switch(long (*fn)(void *), void *arg,
    struct pb_module *owner, uint32_t domain);
int arch_set_key(uint64_t base, uint64_t size, unsigned key);
int arch_page_absent(uint64_t va);

static int
on_hub_half(uint64_t p)
{
	return stack_split && p - stack_hub_lo < stack_hub_size;
}

static int
running_on_hub_half(void)
{
	return on_hub_half((uint64_t)(uintptr_t)__builtin_frame_address(0));
}

/* Split the hub's stack: called by domain_init once keys are on, while
 * only the hub's code is on the stack (the takeover). */
int
stacks_split(const struct handoff *h)
{
	uint64_t half = h->stack_size / 2 & ~(uint64_t)(PAGE - 1);
	uint64_t mid = h->stack_base + half;

	if (half < 8 * PAGE || (uint64_t)(uintptr_t)
	    __builtin_frame_address(0) < mid + 2 * PAGE) {
		log_event(LOG_ERROR, "stacks: not split (stack of %llu KiB): "
		    "module code runs on the hub's stack",
		    (unsigned long long)(h->stack_size >> 10));
		return PB_EINVAL;
	}
	if (arch_page_absent(mid)) {
		log_event(LOG_ERROR, "stacks: not split (no page table for "
		    "a guard page): module code runs on the hub's stack");
		return PB_ENOMEM;
	}
	hub_stack_top_guard = mid;	/* module.c names faults there */
	arch_set_key(h->stack_base, half, KEY_SHARED);
	stack_hub_lo = mid;
	stack_hub_size = h->stack_size - half;
	stack_mod_lo = h->stack_base;
	stack_mod_hi = mid;
	stack_mod_sp = mid;
	stack_hub_sp = h->stack_base + h->stack_size;
	stack_split = 1;
	log_event(LOG_BOOT, "stacks: modules run on 0x%llx-0x%llx, the hub "
	    "on 0x%llx-0x%llx (read-only to modules)",
	    (unsigned long long)stack_mod_lo, (unsigned long long)stack_mod_hi,
	    (unsigned long long)(mid + PAGE),
	    (unsigned long long)(h->stack_base + h->stack_size));
	return PB_OK;
}

/*
 * Room for an argument block module code may write (hub.h): `local`
 * itself, unless the hub runs on its half and `local` is there, out of
 * the module's reach; then `size` bytes below stack_mod_sp, which moves
 * down past them until arch_module_room_end.  NULL (for size > 0): no
 * room is left.
 */
void *
arch_module_room(void *local, size_t size, struct arch_room *room)
{
	uint64_t at;

	room->mod_sp = stack_mod_sp;
	if (!size || !running_on_hub_half() ||
	    !on_hub_half((uint64_t)(uintptr_t)local))
		return local;
	at = (stack_mod_sp - size) & ~15ull;
	if (at < stack_mod_lo + MOD_STACK_SPARE) {
		log_event(LOG_ERROR, "stacks: the module stack is full "
		    "(0x%llx): a call into module code is refused",
		    (unsigned long long)stack_mod_sp);
		return NULL;
	}
	stack_mod_sp = at;
	return (void *)(uintptr_t)at;
}

void
arch_module_room_end(const struct arch_room *room)
{
	stack_mod_sp = room->mod_sp;
}

/* The same room, holding a copy of arg (or arg itself). */
void *
arch_module_arg(void *arg, size_t size, struct arch_room *room)
{
	void *copy = arch_module_room(arg, size, room);

	if (copy && copy != arg)
		memcpy(copy, arg, size);
	return copy;
}

/* The copy back into arg, and the room given back. */
void
arch_module_arg_end(void *arg, const void *copy, size_t size,
    const struct arch_room *room)
{
	if (copy != arg)
		memcpy(arg, copy, size);
	arch_module_room_end(room);
}

/* fn(arg) as owner's code (hub.h): on the module half, with the argument
 * block copied there and back, when the hub calls from its own half. */
long
arch_call_module(long (*fn)(void *), void *arg, size_t size,
    struct pb_module *owner, uint32_t domain)
{
	struct arch_room room;
	void *copy;
	long r;

	if (!running_on_hub_half())
		return arch_call_guarded(fn, arg, owner, domain);
	if (!(copy = arch_module_arg(arg, size, &room)) && size)
		return PB_EBUSY;
	r = arch_call_guarded_switch(fn, copy, owner, domain);
	arch_module_arg_end(arg, copy, size, &room);
	return r;
}
