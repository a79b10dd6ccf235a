/*
 * fault.c - what happens on a CPU exception.
 *
 * Every exception is logged with the registers.  If a guarded call is
 * active (above the current interrupt's floor), the fault is a module's,
 * wherever the instruction pointer is: the module whose image holds it,
 * else the innermost guarded call's (a hub service it called, a jump to
 * NULL, a bad return; hub_fault_culprit).  The core records it and the
 * innermost guarded call returns PB_EFAULT.  Only a fault with no module
 * call in progress is the hub's own (or the firmware's), and is fatal.
 *
 * Runs with interrupts disabled (interrupt gates), on the faulting stack,
 * or on an IST stack for #DF, NMI and #MC.
 */
#include "arch.h"
#include "cpu.h"
#include "domain.h"
#include "watch.h"
#include "../hub.h"

#define VEC_DB 1

/* SDM 3A Table 6-1 "Protected-Mode Exceptions and Interrupts"; AMD APM
 * Vol. 2 Table 8-1 adds #VC (29); #HV is AMD's (28). */
static const char *const vec_short[NVEC_EXC] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static const char *const vec_long[NVEC_EXC] = {
	"divide error", "debug", "non-maskable interrupt", "breakpoint",
	"overflow", "bound range exceeded", "invalid opcode",
	"device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack fault",
	"general protection", "page fault", "reserved", "x87 error",
	"alignment check", "machine check", "SIMD exception",
	"virtualization exception", "control protection", "reserved",
	"reserved", "reserved", "reserved", "reserved", "reserved",
	"hypervisor injection", "VMM communication", "security exception",
	"reserved",
};

/* Nesting of arch_exception: a fault while reporting a fault must not
 * recurse into the same report. */
static unsigned nesting;

/* The guard depth when the current device interrupt came in (cpu.h).
 * The hub's own memory, not the guard page: only the interrupt path
 * writes it, in the hub's domain (isr.S). */
volatile uint32_t guard_floor;

static __attribute__((noreturn)) void
halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* #PF error code bits (SDM 3A §4.7 "Page-Fault Exceptions", Figure 4-12). */
static void
log_pf_error(uint64_t err, uint64_t cr2)
{
	log_event(LOG_FAULT, "  cr2 0x%016llx: %s, %s, %s%s%s",
	    (unsigned long long)cr2,
	    err & 1 ? "protection" : "not present",
	    err & 2 ? "write" : "read",
	    err & 4 ? "user" : "supervisor",
	    err & 8 ? ", reserved bit" : "",
	    err & 16 ? ", instruction fetch" : "");
}

static void
log_frame(const struct intr_frame *f, uint64_t cr2, struct pb_module *m)
{
	int v = (int)f->vector;

	log_event(LOG_FAULT, "%s %s, error 0x%llx, rip 0x%016llx%s%s",
	    vec_short[v], vec_long[v], (unsigned long long)f->error,
	    (unsigned long long)f->rip, m ? " in module " : "",
	    m ? m->name : "");
	if (m)
		log_event(LOG_FAULT, "  %s+0x%llx", m->name,
		    (unsigned long long)(f->rip - m->base));
	if (v == VEC_PF)
		log_pf_error(f->error, cr2);
	log_event(LOG_FAULT, "  rsp 0x%016llx rflags 0x%llx cs 0x%llx ss 0x%llx",
	    (unsigned long long)f->rsp, (unsigned long long)f->rflags,
	    (unsigned long long)f->cs, (unsigned long long)f->ss);
	log_event(LOG_FAULT, "  rax %016llx rbx %016llx rcx %016llx rdx %016llx",
	    (unsigned long long)f->rax, (unsigned long long)f->rbx,
	    (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_event(LOG_FAULT, "  rsi %016llx rdi %016llx rbp %016llx r8  %016llx",
	    (unsigned long long)f->rsi, (unsigned long long)f->rdi,
	    (unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_event(LOG_FAULT, "  r9  %016llx r10 %016llx r11 %016llx r12 %016llx",
	    (unsigned long long)f->r9, (unsigned long long)f->r10,
	    (unsigned long long)f->r11, (unsigned long long)f->r12);
	log_event(LOG_FAULT, "  r13 %016llx r14 %016llx r15 %016llx",
	    (unsigned long long)f->r13, (unsigned long long)f->r14,
	    (unsigned long long)f->r15);
}

/*
 * Resume the innermost guarded call as if it returned PB_EFAULT: pop its
 * context and make iretq load it.  Only IF is taken from the guard's
 * RFLAGS; DF and AC come back clear as the ABI expects at a return.
 */
void
unwind_to_guard(struct intr_frame *f)
{
	uint32_t d = guard_depth_now() - 1;
	const struct guard *g = &guard_stack[d];

	guard_repair(d);	/* a damaged slot takes its copy */
	guard_depth_set(d);
	hub_watch_unwound(d);
	f->rbx = g->rbx;
	f->rbp = g->rbp;
	f->rdi = g->rdi;
	f->rsi = g->rsi;
	f->r12 = g->r12;
	f->r13 = g->r13;
	f->r14 = g->r14;
	f->r15 = g->r15;
	f->rax = (uint64_t)(int64_t)PB_EFAULT;
	f->rip = g->rip;
	f->rsp = g->rsp;
	f->cs = g->cs;
	f->ss = g->ss;
	f->rflags = (g->rflags & RFLAGS_IF) | RFLAGS_RESERVED1;
}

/* #DF and #MC are aborts: the interrupted state may not be restartable
 * (SDM 3A §6.5 "Exception Classifications"), so no guard can absorb them. */
static int
recoverable(int vec)
{
	return vec != VEC_DF && vec != VEC_MC;
}

static __attribute__((noreturn)) void
fatal(const struct intr_frame *f)
{
	log_event(LOG_ERROR, "hub: fatal %s at 0x%llx",
	    vec_short[f->vector & (NVEC_EXC - 1)], (unsigned long long)f->rip);
	/* Nothing runs again: what the log's reader has not shown goes out
	 * on the hub's own console, and the screen says why it froze. */
	log_take_back();
	screen_panic();
	halt_forever();
}

/*
 * The depth a fault unwinds to: that of the innermost guarded call above
 * the floor whose slot, or its copy, is whole (guardseal.c).  Calls inside
 * it whose slots a stray write damaged beyond their copies end with it.
 * guard_floor: none.
 */
static uint32_t
sound_depth(void)
{
	uint32_t d = guard_depth_now();

	while (d > guard_floor && !guard_sound(d - 1))
		d--;
	return d;
}

void
arch_exception(struct intr_frame *f)
{
	/* CR2 first: a page fault while logging would overwrite it. */
	uint64_t cr2 = read_cr2();
	int v = (int)(f->vector & (NVEC_EXC - 1));
	uint32_t top;
	struct pb_module *m, *owner;

	if (v == VEC_NMI) {
		/* Not a fault of the interrupted code: the watchdog's tick. */
		arch_nmi(f);
		return;
	}
	if (v == VEC_DB && fw_watch_hit(f))
		return;			/* the firmware-phase watchdog's */
	top = sound_depth();
	owner = top > guard_floor ? guard_sound(top - 1)->owner : NULL;
	if (v == VEC_PF && domain_grant(cr2, f->rip, f->error, owner))
		return;			/* a page a client handed: granted */
	if (++nesting > 2)
		halt_forever();		/* faulted while reporting twice */
	if (nesting > 1)
		fatal(f);		/* no lookups: they may be what faulted */
	m = hub_fault_culprit(f->rip, owner);
	log_frame(f, cr2, hub_module_at(f->rip));
	if (f->rip == (uint64_t)(uintptr_t)guard_damaged)
		log_event(LOG_FAULT, "  the domain its guard slot returns to "
		    "was damaged (a stray write into the hub's records)");
	guard_depth_say();
	if (top < guard_depth_now() && guard_depth_now() > guard_floor)
		log_event(LOG_FAULT, "  guard slots %u-%u damaged with their "
		    "copies: their calls end with slot %d's", top,
		    guard_depth_now() - 1, (int)top - 1);
	if (!m || !recoverable(v) || top <= guard_floor)
		fatal(f);
	hub_note_fault(m, v, f->rip, v == VEC_PF ? cr2 : 0);
	guard_depth_set(top);
	unwind_to_guard(f);
	log_event(LOG_FAULT, "  module %s: guarded call returns PB_EFAULT",
	    m->name);
	nesting--;
}

/*
 * After a device interrupt: if a module's work item has run past the
 * watchdog's limit and the interrupt cut into module code under a guard,
 * end that call as if the module had faulted.  Code of the hub's own is
 * never cut short: its data may be half-way through a change.
 */
void
arch_irq_exit(struct intr_frame *f)
{
	struct pb_module *m;

	guard_depth_say();
	if (guard_depth_now() <= guard_floor || !hub_watchdog_due() ||
	    !(m = hub_module_at(f->rip)) || !guard_innermost()) {
		hub_watchdog_rearm();
		return;
	}
	watchdog_end(f, m, "");
}
