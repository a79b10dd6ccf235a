/*
 * watch.h - the watchdog's arch side: ending a module call that has run
 * too long, from the alarm's interrupt (fault.c), an NMI (nmi.c) or the
 * firmware's timer event (fwwatch.c).
 */
#ifndef PB_HUB_X86_64_WATCH_H
#define PB_HUB_X86_64_WATCH_H

#include "cpu.h"

/* fault.c: resume the innermost guarded call as if it returned
 * PB_EFAULT, by rewriting f. */
void unwind_to_guard(struct intr_frame *f);

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
