/*
 * nmi.c - the watchdog that holding interrupts cannot keep out.
 *
 * The alarm's interrupt (fault.c, arch_irq_exit) cannot end a module's
 * interrupt handler, nor code that spins with interrupts held.  A
 * periodic NMI can: the timer module routes an HPET comparator to an I/O
 * APIC pin with NMI delivery (mods/timer/nmi.c), and every NMI comes
 * here, on its own IST stack (gdt.c, IST_NMI).  The hub only handles
 * vector 2; with no source, no NMI comes, and the alarm watches alone.
 *
 * What it may end: the innermost guarded call above the current
 * interrupt's floor, once the watched call or module interrupt handler
 * it belongs to is overdue (work.c, hub_watch_overdue, on the CPU's clock:
 * no module code runs here), and only while the CPU was running module
 * code (hub_watch_may_end).  The hub's own code is never cut short,
 * whatever it runs for a module: its data may be half-way through a
 * change.  A hung module is in its own code at most ticks, so a later
 * NMI catches it there.
 *
 * NMIs nest with nothing: the CPU blocks further NMIs until the next
 * IRET (SDM 3A §6.7.1 "Handling Multiple NMIs"), so this code must not
 * fault (an exception's IRET would let a second NMI in on the same IST
 * stack): it only reads the hub's tables.  An NMI that cuts into an
 * exception or interrupt entry, or into the hub, finds hub code at RIP
 * and returns.
 */
#include "arch.h"
#include "watch.h"
#include "../hub.h"

/* NMIs taken: the boot checks that the source ticks (nmi_check). */
static volatile uint32_t nmi_ticks;

unsigned
arch_guard_depth(void)
{
	return guard_depth_now();
}

struct pb_module *
arch_guard_owner(void)
{
	uint32_t d = guard_depth_now();
	const struct guard *g = d ? guard_sound(d - 1) : NULL;

	return g ? g->owner : NULL;
}

uint64_t
arch_guard_slot(void)
{
	return (uint64_t)(uintptr_t)&guard_stack[guard_depth_now() - 1];
}

uint64_t
arch_guard_depth_word(void)
{
	return (uint64_t)(uintptr_t)&guard_depth_word;
}

void
watchdog_end(struct intr_frame *f, struct pb_module *m, const char *by)
{
	log_event(LOG_FAULT, "watchdog: %s has not returned for %llu ms "
	    "(rip %s+0x%llx%s)", m->name,
	    (unsigned long long)(hub_watchdog_ns / 1000000), m->name,
	    (unsigned long long)(f->rip - m->base), by);
	hub_note_fault(m, FAULT_WATCHDOG, f->rip, 0);
	unwind_to_guard(f);
}

void
arch_nmi(struct intr_frame *f)
{
	const struct guard *g;
	struct pb_module *m;

	nmi_ticks++;
	if (guard_depth_now() <= guard_floor ||
	    !hub_watch_overdue(arch_now_ns(), guard_depth_now()) ||
	    !(g = guard_innermost()))
		return;
	m = hub_module_at(f->rip);
	if (!hub_watch_may_end(m, g->owner))
		return;
	watchdog_end(f, m, f->rflags & RFLAGS_IF ? ", by NMI" :
	    ", by NMI, interrupts held");
}

/* Two seconds after the takeover: did an NMI source start? */
static void
nmi_check(void *arg)
{
	(void)arg;
	if (nmi_ticks)
		log_event(LOG_INFO, "watchdog: NMI ticks (%u so far): interrupt "
		    "handlers and held interrupts are watched", nmi_ticks);
	else
		log_event(LOG_INFO, "watchdog: no NMI source; the alarm alone "
		    "watches, not interrupt handlers or held interrupts");
}

void
nmi_watch_start(void)
{
	timer_add(NULL, 2000000000ull, nmi_check, NULL);
}
