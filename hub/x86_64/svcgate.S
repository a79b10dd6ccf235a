/*
 * svcgate.S - the hub's services entered from a module's domain.
 *
 * Modules call the services through the function pointers of struct
 * pb_hub.  Unless isolate=no, they get a copy of the table (domain.c)
 * whose pointers lead here; until domains are on, a stub goes straight on
 * to the service.  Then stub i jumps to domain_svc_common with i, which
 * finds the real service in the same slot of hub_services, and hub_enter
 * switches to the hub's domain, calls it with the caller's arguments, and
 * switches back to the caller's domain on return.
 *
 * The ops of the hub's own resources whose code is the hub's (log:hub,
 * the ramdisk) are entered the same way, through a gated connection
 * (domain.c, arch_conn_gate): stub i of hub_gate_stubs finds op i of the
 * resource the connection leads to, and its instance.  Without the gate,
 * the op's first write took the hub's domain and kept it for the rest of
 * the module's call (domain.h, the hub retry): the shell, which takes the
 * log's lines, then ran with the hub's rights.
 *
 * Arguments (Microsoft x64 ABI): RCX, RDX, R8, R9, then the stack from
 * the caller's RSP+40.  No service or op of the hub's takes more than
 * six, so two stack arguments are copied into the new frame.  Called
 * from module code on its half of the stack, the service runs on the
 * hub's (stacks.c).  The caller's domain and RSP are kept in the frame,
 * on the hub's half then, out of modules' reach: a service that faults
 * never returns here (the fault unwinds to a guard, and the exception
 * path restores the domain, domain.h).
 */
#include "domain.h"

#define PB_ENODEV (-6)

#define F_PKRS 48
#define F_CALLER 56	/* the caller's RSP: its return address there */
#define F_MOD_SP 64	/* stack_mod_sp as the call found it */
#define F_SIZE 80	/* 32 shadow + 2 args + 3 saved, a multiple of 16 */

	.text
	.balign 16
domain_svc_common:
	movzbl %al, %eax
	leaq hub_services(%rip), %r11
	movq 8(%r11,%rax,8), %r11	/* slot i, after size and version */
	jmp hub_enter

/* Op i of the hub's own resource that connection RCX leads to: the op,
 * with the resource's instance for RCX, as a service. */
hub_gate_common:
	movzbl %al, %eax
	movq CONN_RES(%rcx), %r11
	testq %r11, %r11
	jz 6f
	movq RES_CTX(%r11), %rcx
	movq RES_OPS(%r11), %r11
	movq (%r11,%rax,8), %r11
	jmp hub_enter
6:	/* the connection was closed under a client that kept its pointer */
	movq $PB_ENODEV, %rax
	ret

/* Call R11 with the caller's arguments, in the hub's domain. */
hub_enter:
	cmpb $0, domain_on(%rip)
	jne 3f
	jmp *%r11		/* domains not on (yet): straight there */
3:
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
	call *%r11
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

/* Stub i of a gated connection to the hub's own resource (domain.c,
 * arch_conn_gate) serves slot i of its ops table. */
	.balign 16
	.globl hub_gate_stubs
hub_gate_stubs:
	.set i, 0
	.rept CONN_GATE_SLOTS
	.balign CONN_GATE_STUB, 0xcc
	movb $i, %al
	jmp hub_gate_common
	.set i, i + 1
	.endr

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
