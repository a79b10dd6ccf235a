/*
 * fwwatch.c - the watchdog before the takeover.
 *
 * While boot services run, the timer and its interrupt are the
 * firmware's, so the alarm cannot end a module call that never returns.
 * The firmware's own timer event can (efi/watch.c): its notify function
 * runs fw_tick on top of whatever the firmware's timer interrupt cut
 * into.  Leaving the notify function without returning would leave the
 * firmware's interrupt bookkeeping behind (its TPL, and OVMF's nested-
 * interrupt state, which then holds every later timer tick back), so the
 * tick only aims: if the innermost watched call is overdue, it finds the
 * interrupt's frame on the stack (below the guard's stack pointer: the
 * CPU's RIP, CS, RFLAGS with IF set, RSP and SS, SDM 3A §6.14.2), and when
 * that cut into module code it sets an instruction breakpoint there (DR0,
 * DR7, SDM 3B §17.2 "Debug Registers") and returns.  The firmware finishes
 * its interrupt; the module, back at that instruction, raises #DB, which
 * is one of the hub's exceptions in the firmware phase too, and
 * fw_watch_hit ends the call there as a fault would.  Interrupted
 * firmware or hub code is left alone (it may hold a lock); a later tick
 * catches the module in its own code.  A module spinning with interrupts
 * held is not caught before the takeover: the firmware's timer cannot
 * interrupt it, and no NMI source runs yet.
 */
#include "arch.h"
#include "watch.h"
#include "../hub.h"
#include "../handoff.h"

#define FW_WATCH_MS 50
#define RFLAGS_RESERVED_HI (~0ull << 22)
#define DR7_L0 0x1ull		/* DR0 enabled; R/W0 = LEN0 = 0: execution */
#define DR6_B0 0x1ull

static volatile uint64_t aimed;	/* the breakpoint's address, 0: none */

static void
breakpoint(uint64_t rip)
{
	aimed = rip;
	__asm__ volatile("mov %0, %%dr0" : : "r"(rip));
	__asm__ volatile("mov %0, %%dr7" : : "r"(rip ? DR7_L0 : 0ull));
}

/* The interrupt frame nearest above sp, below top: the one the firmware's
 * timer interrupt pushed when it cut into the guarded call. */
static const uint64_t *
cut_frame(const uint64_t *sp, const uint64_t *top)
{
	uint64_t cs = cpu_read_cs(), ss = cpu_read_ss();

	for (; sp + 5 <= top; sp++)
		if (sp[1] == cs && sp[4] == ss && (sp[2] & RFLAGS_IF) &&
		    (sp[2] & RFLAGS_RESERVED1) &&
		    !(sp[2] & RFLAGS_RESERVED_HI) &&
		    sp[3] > (uint64_t)(uintptr_t)sp &&
		    sp[3] <= (uint64_t)(uintptr_t)top)
			return sp;
	return NULL;
}

static int
may_end(uint64_t rip)
{
	const struct guard *g = guard_innermost();

	return g && hub_watch_overdue(arch_now_ns(), guard_depth_now()) &&
	    hub_watch_may_end(hub_module_at(rip), g->owner);
}

static void
fw_tick(void)
{
	const struct guard *g;
	const uint64_t *cut;
	uint32_t depth = guard_depth_now();

	if (!depth || !hub_watch_overdue(arch_now_ns(), depth)) {
		if (aimed)
			breakpoint(0);	/* the call it aimed at is over */
		return;
	}
	if (aimed || !(g = guard_sound(depth - 1)))
		return;
	cut = cut_frame(__builtin_frame_address(0), (const uint64_t *)
	    (uintptr_t)g->rsp);
	if (cut && may_end(cut[0]))
		breakpoint(cut[0]);
}

/* #DB: ours if the breakpoint was aimed and hit (DR6.B0).  The call is
 * ended if it is still overdue; either way the breakpoint is gone. */
int
fw_watch_hit(struct intr_frame *f)
{
	uint64_t dr6;

	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	if (!aimed || !(dr6 & DR6_B0))
		return 0;
	breakpoint(0);
	__asm__ volatile("mov %0, %%dr6" : : "r"(0ull));
	if (may_end(f->rip))
		watchdog_end(f, hub_module_at(f->rip),
		    ", by the firmware's timer");
	return 1;
}

/* From the hub's entry, while boot services run. */
void
fw_watch_start(struct handoff *h)
{
	if (h->fw_watch && h->fw_watch(FW_WATCH_MS, fw_tick) != PB_OK)
		log_event(LOG_ERROR, "watchdog: no firmware timer event: "
		    "a module hung before the takeover is not caught");
}
