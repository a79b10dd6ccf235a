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
 * isolated.  Called on the hub's half of a split stack, it runs on the
 * modules' half (guard.S, arch_call_guarded_switch), so a provider it
 * calls through a gate, in the provider's domain, has a stack it may
 * write.
 */
#include "domain.h"

	.text
	.globl arch_call_hook
	.balign 16
arch_call_hook:
	xorl %r9d, %r9d
	cmpb $0, domain_on(%rip)
	je 1f
	/* DOMAIN_READ clobbers ECX and EDX: RCX and RDX are fn and arg. */
	movq %rcx, %r10
	movq %rdx, %r11
	DOMAIN_READ
	movl %eax, %r9d
	movq %r10, %rcx
	movq %r11, %rdx
	/* On the hub's half of a split stack (stacks.c): the hook's code
	 * runs on the modules' half, as every module call made there. */
	cmpb $0, stack_split(%rip)
	je 1f
	movq %rsp, %rax
	subq stack_hub_lo(%rip), %rax
	cmpq stack_hub_size(%rip), %rax
	jb arch_call_guarded_switch
1:
	jmp arch_call_guarded
