/*
 * svcgate.S - the hub's services entered from a module's domain.
 *
 * Modules call the services through the function pointers of struct
 * pb_hub.  Unless isolate=no, they get a copy of the table (domain.c)
 * whose pointers lead here; until domains are on, a stub goes straight on
 * to the service.  Then stub i loads the offset of its slot and jumps to
 * domain_svc_common, which switches to the hub's domain, calls the real
 * service through the same slot of hub_services with the caller's
 * arguments, and switches back to the caller's domain on return.
 *
 * Arguments (Microsoft x64 ABI): RCX, RDX, R8, R9, then the stack from
 * the caller's RSP+40.  No service takes more than six, so two stack
 * arguments are copied into the new frame.  Called from module code on
 * its half of the stack, the service runs on the hub's (stacks.c).  The
 * caller's PKRS and RSP are kept in the frame, on the hub's half then,
 * out of modules' reach: a service that faults never returns here (the
 * fault unwinds to a guard, and the exception path restores the domain,
 * domain.h).
 */
#include "domain.h"

#define F_PKRS 48
#define F_CALLER 56	/* the caller's RSP: its return address there */
#define F_MOD_SP 64	/* stack_mod_sp as the call found it */
#define F_SIZE 80	/* 32 shadow + 2 args + 3 saved, a multiple of 16 */

	.text
	.balign 16
domain_svc_common:
	movzbl %al, %eax
	cmpb $0, domain_on(%rip)
	jne 3f
	/* Domains not on (yet): straight to the service. */
	leaq hub_services(%rip), %r11
	jmp *8(%r11,%rax,8)
3:
	leal 8(,%rax,8), %r11d		/* the slot's offset in struct pb_hub */
	movq %rcx, %r10
	/* Into the hub's domain, still on the caller's stack: RDX and the
	 * caller's domain wait there across its read and write. */
	pushq %rdx
	DOMAIN_READ
	pushq %rax
	testl %eax, %eax
	jz 1f			/* the hub's domain already */
	DOMAIN_HUB
1:	leaq 16(%rsp), %rcx	/* the caller's RSP */
	cmpb $0, stack_split(%rip)
	je 4f
	cmpq stack_mod_lo(%rip), %rcx
	jb 4f
	cmpq stack_mod_hi(%rip), %rcx
	jae 4f
	/*
	 * Called from module code on its half of the stack (stacks.c): the
	 * service runs on the hub's half, below stack_hub_sp, and calls it
	 * makes into modules go below the caller's frames.  stack_mod_sp
	 * moves down before RSP leaves the module half and comes back after
	 * RSP returns there: an interrupt in between, taken on the hub's
	 * half, must not run module code over the caller's frames.
	 */
	movq stack_mod_sp(%rip), %rax
	movq %rsp, stack_mod_sp(%rip)
	movq stack_hub_sp(%rip), %rsp
	andq $-16, %rsp
	subq $F_SIZE, %rsp
	movq %rax, F_MOD_SP(%rsp)
	movq -16(%rcx), %rax
	movq -8(%rcx), %rdx
	movl %eax, F_PKRS(%rsp)
	jmp 5f
4:	popq %rax
	popq %rdx
	andq $-16, %rsp
	subq $F_SIZE, %rsp
	movl %eax, F_PKRS(%rsp)
	movq stack_mod_sp(%rip), %rax
	movq %rax, F_MOD_SP(%rsp)
5:	movq %rcx, F_CALLER(%rsp)
	movq 40(%rcx), %rax	/* arguments 5 and 6 */
	movq %rax, 32(%rsp)
	movq 48(%rcx), %rax
	movq %rax, 40(%rsp)
	movq %r10, %rcx
	leaq hub_services(%rip), %rax
	call *(%rax,%r11)
	/* Back: the caller's stack, stack_mod_sp as found, then the
	 * caller's domain (an interrupt never pushes onto the hub's half in
	 * a module's). */
	movq F_MOD_SP(%rsp), %rcx
	movl F_PKRS(%rsp), %r11d
	movq F_CALLER(%rsp), %rsp
	movq %rcx, stack_mod_sp(%rip)
	testl %r11d, %r11d
	jz 2f
	movq %rax, %r10
	PKRS_SET %r11d
	movq %r10, %rax
2:
	ret

/* Stub i, DOMAIN_SVC_STUB bytes from the last, serves slot i, at offset
 * 8 + 8 * i (after size and the ABI version). */
	.balign 16
	.globl domain_svc_stubs
domain_svc_stubs:
	.set i, 0
	.rept DOMAIN_NSVC
	.balign DOMAIN_SVC_STUB, 0xcc
	movb $i, %al
	jmp domain_svc_common
	.set i, i + 1
	.endr
