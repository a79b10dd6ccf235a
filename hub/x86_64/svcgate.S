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
 * arguments are copied into the new frame.  The caller's PKRS is kept in
 * the frame: a service that faults never returns here (the fault unwinds
 * to a guard, and the exception path restores the domain, domain.h).
 */
#include "domain.h"

#define F_PKRS 64
#define F_RCX 72
#define F_RDX 80
#define F_SIZE 88	/* 32 shadow + 2 args + 3 saved, RSP 16-aligned */

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
	subq $F_SIZE, %rsp
	movq %rcx, F_RCX(%rsp)
	movq %rdx, F_RDX(%rsp)
	leal 8(,%rax,8), %r11d		/* the slot's offset in struct pb_hub */
	movq F_SIZE+40(%rsp), %rax
	movq %rax, 32(%rsp)
	movq F_SIZE+48(%rsp), %rax
	movq %rax, 40(%rsp)
	movl $MSR_PKRS, %ecx
	rdmsr
	movl %eax, F_PKRS(%rsp)
	testl %eax, %eax
	jz 1f			/* the hub's domain already */
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
1:
	movq F_RCX(%rsp), %rcx
	movq F_RDX(%rsp), %rdx
	leaq hub_services(%rip), %rax
	call *(%rax,%r11)
	movl F_PKRS(%rsp), %r11d
	testl %r11d, %r11d
	jz 2f
	movq %rax, %r10
	PKRS_SET %r11d
	movq %r10, %rax
2:
	addq $F_SIZE, %rsp
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
