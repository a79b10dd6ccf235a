/*
 * guardhook.S - a guarded call that stays in the caller's protection
 * domain, for the hooks the hub calls most: the clock's now_ns and arm,
 * and the interrupt controller's end of interrupt (work.c).
 *
 *	long arch_call_hook(long (*fn)(void *arg), void *arg,
 *	    struct pb_module *owner);
 *
 * It is arch_call_guarded (guard.S) with the caller's own IA32_PKRS as
 * the domain, so the slot is claimed and filled there: a fault or the
 * watchdog inside is charged to `owner` and unwinds with PB_EFAULT, and
 * the exception path restores the caller's PKRS from the slot
 * (domain.h, DOMAIN_LEAVE).  No IA32_PKRS write happens (guard.S writes
 * only a value that differs): under QEMU's TCG each write flushes the
 * TLB, and the clock is read many times per request.  So the hook is
 * attributed and recovered from like any module call, but runs with its
 * caller's rights (the hub's, mostly): domain.c lists it as not
 * isolated.
 */
#include "domain.h"

	.text
	.globl arch_call_hook
	.balign 16
arch_call_hook:
	xorl %r9d, %r9d
	cmpb $0, domain_on(%rip)
	je 1f
	/* RDMSR takes ECX and clobbers EDX: RCX and RDX are fn and arg. */
	movq %rcx, %r10
	movq %rdx, %r11
	movl $MSR_PKRS, %ecx
	rdmsr
	movl %eax, %r9d
	movq %r10, %rcx
	movq %r11, %rdx
1:
	jmp arch_call_guarded
