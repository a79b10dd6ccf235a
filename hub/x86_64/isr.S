/*
 * isr.S - interrupt and exception entry: 256 four-byte stubs and one
 * common path.
 *
 * A stub is `push imm8` (the vector, which the CPU sign-extends) and a
 * short jump to the end of its group of 32, where one near jump leads to
 * isr_common; the last stub of a group falls through to it.  So vector v
 * is at isr_stubs + (v / 32) * ISR_GROUP_SIZE + (v % 32) * ISR_STUB_SIZE
 * (cpu.h), and the IDT needs no table of addresses.
 *
 * isr_common makes every frame one shape: the vector zero-extended, and a
 * zero in place of the error code when the CPU pushed none.  The CPU
 * pushes one for #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC and #SX:
 * vectors 8, 10-14, 17, 21, 29, 30 (SDM 3A §6.13 "Error Code" and Table
 * 6-1; AMD APM Vol. 2 Table 8-1); external interrupts never push one.
 * It then pushes the general registers to complete struct intr_frame
 * (cpu.h), clears DF (the Microsoft x64 ABI requires it clear on calls,
 * and the interrupted code may have set it), aligns the stack and calls C
 * with the frame in RCX and 32 bytes of shadow space: arch_exception for
 * 0-31, hub_irq_dispatch and arch_irq_exit for 32-255.  The C side may
 * rewrite the frame: an unwind resumes a guarded call by changing RIP,
 * RSP, CS, SS, RFLAGS and the callee-saved registers there, which iretq
 * then loads (SDM 3A §6.14.3 "IRET in IA-32e Mode").
 */

#include "domain.h"

#define FRAME_VECTOR (15 * 8)	/* offsetof(struct intr_frame, vector) */
#define FRAME_SIZE (22 * 8)	/* sizeof(struct intr_frame) */
#define GROUP_SIZE (31 * 4 + 2 + 5)	/* ISR_GROUP_SIZE in cpu.h */

	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 8
	/* .org refuses to move backwards: a group outgrowing its size
	 * fails the build instead of shifting every later vector. */
	.org isr_stubs + (vec / 32) * GROUP_SIZE, 0xcc
	.rept 31
	.byte 0x6a, vec		/* push imm8 */
	jmp 1f
	.set vec, vec + 1
	.endr
	.byte 0x6a, vec
	.set vec, vec + 1
1:	jmp isr_common
	.endr
	.org isr_stubs + 8 * GROUP_SIZE, 0xcc

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
 * After DOMAIN_ENTER, in the hub's domain: an interrupt or exception that
 * cut into code on the module half of the stack (stacks.c) goes on with a
 * copy of its frame on the hub's half, below stack_hub_sp, and returns
 * from the copy (iretq reads it; it loads the module's RSP from it), so
 * the handler's frames and what it may rewrite are out of modules' reach.
 * stack_mod_sp moves down to the interrupted code's frames, for the calls
 * into modules the handler makes; R15 (callee-saved, 0: not switched)
 * keeps the old value for the way out.  RSI, RDI and RCX are in the frame
 * already.
 */
.macro STACK_TO_HUB
	cmpb $0, stack_split(%rip)
	je .LSTACK_TO_HUB1\@
	cmpq stack_mod_lo(%rip), %rsp
	jb .LSTACK_TO_HUB1\@
	cmpq stack_mod_hi(%rip), %rsp
	jae .LSTACK_TO_HUB1\@
	movq stack_mod_sp(%rip), %r15
	movq %rsp, stack_mod_sp(%rip)
	movq %rsp, %rsi
	movq stack_hub_sp(%rip), %rdi
	andq $-16, %rdi
	subq $FRAME_SIZE, %rdi
	movq %rdi, %rax
	movl $FRAME_SIZE / 8, %ecx
	rep movsq
	movq %rax, %rsp
.LSTACK_TO_HUB1\@:
.endm

/*
 * On entry: the vector (sign-extended), the CPU's error code if any, the
 * CPU's frame.  RBX keeps the frame address across the calls
 * (callee-saved in the Microsoft x64 ABI); the C side may change the
 * *saved* RBX in the frame, which RESTORE_REGS loads afterwards.
 */
isr_common:
	pushq %rax
	movzbl 8(%rsp), %eax
	btl %eax, errcode_vectors(%rip)
	jc 1f
	pushq (%rsp)		/* rax rax vec rip -> rax vec 0 rip */
	movq $0, 16(%rsp)
1:	movq %rax, 8(%rsp)
	popq %rax
	SAVE_REGS
	cld
	DOMAIN_ENTER
	xorl %r15d, %r15d
	DOMAIN_HUB_RETRY 4f
	STACK_TO_HUB
	movq %rsp, %rbx
	movq %rsp, %rcx
	andq $-16, %rsp
	subq $32, %rsp
	cmpl $32, FRAME_VECTOR(%rbx)
	jae 2f
	call arch_exception
	jmp 3f
/*
 * Device interrupts: guard_floor is raised to the current guard depth for
 * the handler's duration, so a fault in code the handler runs can only
 * unwind to a guard the handler itself set, never into the code the
 * interrupt cut into.  R12 (callee-saved) keeps the old floor.  With the
 * floor back, arch_irq_exit may end a module call that ran too long.
 */
2:	movl guard_floor(%rip), %r12d
	movl %r14d, guard_floor(%rip)	/* DOMAIN_ENTER's checked depth */
	movl FRAME_VECTOR(%rbx), %ecx
	call hub_irq_dispatch
	movl %r12d, guard_floor(%rip)
	movq %rbx, %rcx
	call arch_irq_exit
3:	movq %rbx, %rsp
	testq %r15, %r15
	jz 4f
	movq %r15, stack_mod_sp(%rip)	/* as STACK_TO_HUB found it */
4:	DOMAIN_LEAVE		/* 4: a hub retry, RSP still at the frame */
	RESTORE_REGS
	addq $16, %rsp		/* vector and error code */
	iretq

	.section .rdata, "dr"
	.balign 4
/* Bit v set: the CPU pushes an error code for vector v (0-255). */
errcode_vectors:
	.long (1 << 8) | (0x1f << 10) | (1 << 17) | (1 << 21) | (3 << 29)
	.zero 28
