/*
 * domain.h - protection-domain switches for the assembly entry paths
 * (isr.S, guard.S, svcgate.S); domain.c explains the domains.
 *
 * A domain is a value of IA32_PKRS (SDM 3A §4.6.2 "Protection Keys"): two
 * bits per key, AD (bit 2k) and WD (bit 2k+1).  The hub's domain is 0
 * (every key writable).  WRMSR to IA32_PKRS clobbers EAX, ECX and EDX;
 * the macros run only while `domain_on` is set, so a CPU without PKS
 * never sees the MSR.
 */
#ifndef PB_HUB_X86_64_DOMAIN_H
#define PB_HUB_X86_64_DOMAIN_H

#define MSR_PKRS 0x6e1
/* svcgate.S: one stub per service slot, at most DOMAIN_NSVC slots. */
#define DOMAIN_NSVC 40
#define DOMAIN_SVC_STUB 16

#ifdef __ASSEMBLER__

/* PKRS := reg32 (not EAX, ECX or EDX). */
.macro PKRS_SET reg
	movl $MSR_PKRS, %ecx
	movl \reg, %eax
	xorl %edx, %edx
	wrmsr
.endm

/*
 * Interrupt and exception entry, after SAVE_REGS: the handler runs in the
 * hub's domain.  R13 keeps the interrupted code's PKRS, R14 the guard
 * depth at entry (both callee-saved across the C handler).
 */
.macro DOMAIN_ENTER
	cmpb $0, domain_on(%rip)
	je 1f
	movl $MSR_PKRS, %ecx
	rdmsr
	movl %eax, %r13d
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	movl guard_depth(%rip), %r14d
1:
.endm

/*
 * After DOMAIN_ENTER on the exception path, RSP at the frame: a
 * protection-key page fault (#PF error code bit 5) in the hub's own code
 * is the hub running in a module's domain, reached through a function
 * pointer other than the services table (the ops of a resource the hub
 * publishes, such as the log's).  It is no fault: the instruction runs
 * again in the hub's domain, which stays until the module's guarded call
 * ends.
 */
.macro DOMAIN_HUB_RETRY retry
	cmpb $0, domain_on(%rip)
	je 1f
	cmpq $14, 15*8(%rsp)		/* vector */
	jne 1f
	testq $0x20, 16*8(%rsp)		/* error code: PK */
	jz 1f
	movq 17*8(%rsp), %rax		/* rip */
	cmpq domain_hub_lo(%rip), %rax
	jb 1f
	cmpq domain_hub_hi(%rip), %rax
	jae 1f
	xorl %r13d, %r13d
	jmp \retry
1:
.endm

/*
 * Before RESTORE_REGS: back to the interrupted code's domain, or, when
 * the handler unwound guarded calls (a fault, the watchdog), to the
 * domain the outermost unwound call was made from, which its guard slot
 * (free again, but not reused while interrupts are held) still records.
 */
.macro DOMAIN_LEAVE
	cmpb $0, domain_on(%rip)
	je 2f
	movl guard_depth(%rip), %eax
	cmpl %r14d, %eax
	jae 1f
	shlq $7, %rax
	leaq guard_stack(%rip), %rcx
	movl 112(%rcx,%rax), %r13d	/* struct guard .pkrs_before */
1:
	PKRS_SET %r13d
2:
.endm

#endif
#endif
