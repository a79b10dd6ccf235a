/*
 * watch.h - the watchdog's arch side: ending a module call that has run
 * too long, from the alarm's interrupt (fault.c), an NMI (nmi.c) or the
 * firmware's timer event (fwwatch.c).
 */
#ifndef PB_HUB_X86_64_WATCH_H
#define PB_HUB_X86_64_WATCH_H

#include "cpu.h"

/* fault.c: resume the innermost guarded call as if it returned
 * PB_EFAULT, by rewriting f; its slot must be sound (guard_innermost). */
void unwind_to_guard(struct intr_frame *f);

/* guardseal.c: the slots, read as they were written despite a stray
 * write (cpu.h). */
const struct guard *guard_sound(uint32_t d);
const struct guard *guard_innermost(void);
uint32_t guard_depth_now(void);
void guard_depth_set(uint32_t d);
void guard_depth_say(void);
int guard_repair(uint32_t d);
void guard_set_owner(struct pb_module *m);
void guard_domains_on(void);

/* nmi.c: log, charge m with FAULT_WATCHDOG and unwind f; `by` says what
 * caught it ("" for the alarm). */
void watchdog_end(struct intr_frame *f, struct pb_module *m, const char *by);
/* nmi.c: vector 2, from arch_exception; the boot's check that NMIs come,
 * at the takeover. */
void arch_nmi(struct intr_frame *f);
void nmi_watch_start(void);

/* fwwatch.c: the firmware's timer event, from the hub's entry; and its
 * breakpoint's #DB (1: it was ours). */
struct handoff;
void fw_watch_start(struct handoff *h);
int fw_watch_hit(struct intr_frame *f);

#endif
