/*
 * guardhook.S - a guarded call that stays in the caller's protection
 * domain, for the hooks the hub calls most: the clock's now_ns and arm,
 * and the interrupt controller's end of interrupt (work.c).
 *
 *	long arch_call_hook(long (*fn)(void *arg), void *arg,
 *	    struct pb_module *owner);
 *
 * The slot is claimed and filled as arch_call_guarded's (guard.S), so a
 * fault or the watchdog inside is charged to `owner` and unwinds to here
 * with PB_EFAULT.  It records the caller's IA32_PKRS, which the exception
 * path restores after an unwind (domain.h, DOMAIN_LEAVE), but does not
 * switch: under QEMU's TCG each write to IA32_PKRS flushes the TLB, and
 * the clock is read many times per request.  So the hook is attributed
 * and recovered from like any module call, but runs with its caller's
 * rights (the hub's, mostly): domain.c lists it as not isolated.
 */
#include "domain.h"

#define PB_EBUSY (-4)

	.text
	.globl arch_call_hook
	.balign 16
arch_call_hook:
	movl guard_depth(%rip), %eax
	cmpl $GUARD_MAX, %eax
	jae 9f
	incl guard_depth(%rip)
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %r10
	addq %rax, %r10
	GUARD_FILL %r10, %r8, 0
	movq %rcx, %r11
	cmpb $0, domain_on(%rip)
	je 1f
	movq %rdx, %r9
	movl $MSR_PKRS, %ecx
	rdmsr
	movl %eax, G_PKRS(%r10)
	movq %r9, %rdx
1:
	movq %rdx, %rcx
	subq $40, %rsp
	call *%r11
	addq $40, %rsp
	decl guard_depth(%rip)
	ret
9:
	movq $PB_EBUSY, %rax
	ret
