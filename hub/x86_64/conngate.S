/*
 * conngate.S - guarded calls from a client into its provider through a
 * connection.
 *
 * A gated connection (domain.c, arch_conn_gate) hands the client, in
 * place of the provider's ops table and instance, a table of stubs and
 * the connection itself.  PB_CALL(c, type, op, ...) then reaches stub i
 * with RCX = the connection: the common path looks up the resource the
 * connection leads to now (so a gate follows every rebind), claims a
 * guard slot owned by the provider exactly as arch_call_guarded does,
 * enters the provider's domain and calls op i with the provider's
 * instance and the client's other arguments (RDX, R8, R9 and four stack
 * arguments, more than any interface takes).  A fault in the provider
 * unwinds to this guard: it is charged to the provider, the client's call
 * returns PB_EFAULT (fault.c, domain.h), and the hub handles the fault
 * when the client's own guarded call ends (module.c, after_call).
 *
 * The guard stack has pages of its own that modules may write (guard.S),
 * so the gate fills its slot, and notes the provider and the client's
 * pointer arguments for grants (domain.c), in the client's domain; a
 * provider whose domain is the client's (they share a key) costs no
 * IA32_PKRS write at all.
 */
#include "domain.h"

#define PB_EBUSY (-4)
#define PB_ENODEV (-6)
#define PB_EFAULT (-11)

#define F_TARGET 64
#define F_RCX 72
#define F_RDX 80
#define F_SIZE 88	/* 32 shadow + 4 args + 3 saved: RSP 16-aligned */

	.text
	.balign 16
conn_gate_common:
	subq $F_SIZE, %rsp
	movq %rcx, F_RCX(%rsp)
	movq %rdx, F_RDX(%rsp)
	movq F_SIZE+40(%rsp), %r10
	movq %r10, 32(%rsp)
	movq F_SIZE+48(%rsp), %r10
	movq %r10, 40(%rsp)
	movq F_SIZE+56(%rsp), %r10
	movq %r10, 48(%rsp)
	movq F_SIZE+64(%rsp), %r10
	movq %r10, 56(%rsp)
	movzbl %al, %r11d
	shll $3, %r11d			/* the slot's offset in the ops table */
	movq CONN_RES(%rcx), %r10
	testq %r10, %r10
	jz 7f
	movq RES_OPS(%r10), %rax
	movq (%rax,%r11), %rax
	movq %rax, F_TARGET(%rsp)
	movq RES_CTX(%r10), %rax
	movq %rax, F_RCX(%rsp)		/* the provider's instance */
	movq RES_OWNER(%r10), %r11
	/* A provider whose fault is pending is not called again before its
	 * recovery, which comes when the client's call ends (as the block
	 * shadow's provider_call does): its code may be what faulted, and a
	 * client that writes its lines on through it (the hub's log, whose
	 * every fault adds lines) would fault it for ever (seed 2003
	 * default 86: serial, a flipped code bit; 98,000 #PF in 4 s). */
	testq %r11, %r11
	jz 4f
	cmpl $0, MOD_FAULT_PENDING(%r11)
	jne 9f
4:
	cmpb $0, domain_on(%rip)
	je 1f
	/* Note the provider and what the client hands it (domain.c, grants);
	 * R8 and R9 are still the client's arguments. */
	movl grant_next(%rip), %eax
	incl grant_next(%rip)
	andl $GRANT_NOTES - 1, %eax
	shlq $GRANT_NOTE_SHIFT, %rax
	leaq grant_notes(%rip), %r10
	addq %rax, %r10
	movq %r11, (%r10)
	movq F_RDX(%rsp), %rax
	movq %rax, 8(%r10)
	movq %r8, 16(%r10)
	movq %r9, 24(%r10)
1:
	DEPTH_GET %rax, %r10
	cmpl $GUARD_MAX, %eax
	jae 8f
	leal 1(%rax), %r10d
	DEPTH_PUT %r10, %rcx
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %r10
	addq %rax, %r10
	GUARD_FILL %r10, %r11, F_SIZE, %rcx
	cmpb $0, domain_on(%rip)
	je 2f
	DOMAIN_READ
	GUARD_PKRS %r10
	movzbl MOD_KEY(%r11), %r11d	/* the provider's domain */
	leaq domain_key_pkrs(%rip), %rcx
	movl (%rcx,%r11,4), %r11d
	cmpl %r11d, %eax
	je 2f
	PKRS_SET %r11d
2:
	movq F_RCX(%rsp), %rcx
	movq F_RDX(%rsp), %rdx
	call *F_TARGET(%rsp)
	movq %rax, %r10
	DEPTH_GET %rdx, %rcx
	cmpb $0, domain_on(%rip)
	je 3f
	/* back to the client's domain, kept in our slot */
	decl %edx
	shlq $GUARD_SHIFT, %rdx
	leaq guard_stack(%rip), %r8
	GUARD_CALLER_PKRS %r8, %rdx, %r9d
	PKRS_SWITCH %r9d
	movl guard_depth(%rip), %edx	/* checked above */
3:
	decl %edx
	DEPTH_PUT %rdx, %rcx
	movq %r10, %rax
	addq $F_SIZE, %rsp
	ret
7:	/* the connection was closed under a client that kept its pointer */
	movq $PB_ENODEV, %rax
	addq $F_SIZE, %rsp
	ret
8:	/* nested too deep */
	movq $PB_EBUSY, %rax
	addq $F_SIZE, %rsp
	ret
9:	/* its provider awaits its recovery */
	movq $PB_EFAULT, %rax
	addq $F_SIZE, %rsp
	ret

/* Stub i serves slot i of the provider's ops table. */
	.balign 16
	.globl conn_gate_stubs
conn_gate_stubs:
	.set i, 0
	.rept CONN_GATE_SLOTS
	.balign CONN_GATE_STUB, 0xcc
	movb $i, %al
	jmp conn_gate_common
	.set i, i + 1
	.endr
