/*
 * isr.S - interrupt and exception entry: 256 stubs and two common paths.
 *
 * Each stub is 16 bytes apart (vector v at isr_stubs + 16 * v, so the IDT
 * needs no table of addresses).  A stub pushes a zero in place of the error
 * code when the CPU pushes none, so every frame has one shape, then the
 * vector, and jumps to the exception path (0-31) or the device-interrupt
 * path (32-255).  The CPU pushes an error code for #DF, #TS, #NP, #SS, #GP,
 * #PF, #AC, #CP, #VC and #SX: vectors 8, 10-14, 17, 21, 29, 30 (SDM 3A
 * §6.13 "Error Code" and Table 6-1; AMD APM Vol. 2 Table 8-1).  External
 * interrupts never push one.
 *
 * The common paths push the general registers to complete struct
 * intr_frame (cpu.h), clear DF (the Microsoft x64 ABI requires it clear on
 * calls, and the interrupted code may have set it), align the stack and
 * call C with the frame in RCX and 32 bytes of shadow space.  The C side
 * may rewrite the frame: the exception path resumes a guarded call by
 * changing RIP, RSP, CS, SS, RFLAGS and the callee-saved registers there,
 * which iretq then loads (SDM 3A §6.14.3 "IRET in IA-32e Mode").
 */

#include "domain.h"

#define FRAME_VECTOR (15 * 8)	/* offsetof(struct intr_frame, vector) */

	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	/* .org refuses to move backwards: a stub outgrowing its 16 bytes
	 * fails the build instead of shifting every later vector. */
	.org isr_stubs + vec * 16, 0xcc
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushq $0
	.endif
	pushq $vec
	.if vec < 32
	jmp exc_common
	.else
	jmp irq_common
	.endif
	.set vec, vec + 1
	.endr
	.balign 16
isr_stubs_end:

/* Push the general registers in the reverse order of struct intr_frame. */
.macro SAVE_REGS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro RESTORE_REGS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

/*
 * RBX keeps the frame address across the call (callee-saved in the
 * Microsoft x64 ABI); the C side may change the *saved* RBX in the frame,
 * which RESTORE_REGS loads afterwards.  The CPU already aligned RSP to 16
 * before pushing its frame (SDM 3A §6.14.2), but aligning again costs
 * nothing and does not depend on that.
 */
exc_common:
	SAVE_REGS
	cld
	DOMAIN_ENTER
	DOMAIN_HUB_RETRY 3f
	movq %rsp, %rbx
	movq %rsp, %rcx
	andq $-16, %rsp
	subq $32, %rsp
	call arch_exception
	movq %rbx, %rsp
3:
	DOMAIN_LEAVE
	RESTORE_REGS
	addq $16, %rsp		/* vector and error code */
	iretq

/*
 * Device interrupts: guard_floor is raised to the current guard depth for
 * the handler's duration, so a fault in code the handler runs can only
 * unwind to a guard the handler itself set, never into the code the
 * interrupt cut into.  R12 (callee-saved) keeps the old floor.  With the
 * floor back, arch_irq_exit may end a module call that ran too long.
 */
irq_common:
	SAVE_REGS
	cld
	DOMAIN_ENTER
	movq %rsp, %rbx
	andq $-16, %rsp
	subq $32, %rsp
	movl guard_floor(%rip), %r12d
	movl guard_depth(%rip), %eax
	movl %eax, guard_floor(%rip)
	movl FRAME_VECTOR(%rbx), %ecx
	call hub_irq_dispatch
	movl %r12d, guard_floor(%rip)
	movq %rbx, %rcx
	call arch_irq_exit
	movq %rbx, %rsp
	DOMAIN_LEAVE
	RESTORE_REGS
	addq $16, %rsp
	iretq
