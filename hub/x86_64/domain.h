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
#define DOMAIN_SVC_STUB 8

/* conngate.S: one stub per slot of a provider's ops table. */
#define CONN_GATE_SLOTS 32
#define CONN_GATE_STUB 8
/* Offsets domain.c _Static_asserts: struct conn .res, struct pb_resource
 * .ops, .ctx and .owner (hub.h). */
#define CONN_RES 48
#define RES_OPS 376
#define RES_CTX 384
#define RES_OWNER 392
/* struct pb_module .key and .fault_pending (hub.h; domain.c
 * _Static_asserts them). */
#define MOD_KEY 1360
#define MOD_FAULT_PENDING 1292

/* The guard stack's pages (guard.S): the guard slots, then the ring of
 * pointers handed to providers (domain.c, grants): GRANT_NOTES notes of
 * 1 << GRANT_NOTE_SHIFT bytes: the provider, then RDX, R8, R9. */
#define GUARD_PAGES 3
/* The third page holds a copy of every guard slot, GUARD_MIRROR bytes on
 * from the slot (guardseal.c). */
#define GUARD_MIRROR 8192
/* struct hub_shared (hub.h), on the first guard page after the slots. */
#define HUB_SHARED_SIZE (32 + 64 * 8)
#define GRANT_NOTES 128
#define GRANT_NOTE_SHIFT 5

#ifndef __ASSEMBLER__
struct pb_module;
/* A provider's protection-key write on a page handed to it: grant it. */
int domain_grant(uint64_t addr, uint64_t rip, uint64_t err,
    struct pb_module *writer);
#endif

#ifdef __ASSEMBLER__
#define CR0_WP 0x10000		/* bit 16 (arch.h) */

/* struct guard (cpu.h, which _Static_asserts them). */
#define GUARD_MAX 16
#define GUARD_SHIFT 7		/* sizeof(struct guard) == 128 */
#define G_RBX 0
#define G_RBP 8
#define G_RDI 16
#define G_RSI 24
#define G_R12 32
#define G_R13 40
#define G_R14 48
#define G_R15 56
#define G_RSP 64
#define G_RIP 72
#define G_RFLAGS 80
#define G_CS 88
#define G_SS 96
#define G_OWNER 104
#define G_PKRS 112
#define G_PKRS_CHECK 116
#define G_SEAL 120

.macro GUARD_PUT slot, val, off, acc
	movq \val, \off(\slot)
	movq \val, \off+GUARD_MIRROR(\slot)
	xorq \val, \acc
.endm

/*
 * Fill the claimed guard slot at register `slot` for a call made by the
 * code whose return address is at ret(%rsp), and its copy, and seal both
 * (cpu.h, guardseal.c); RAX and acc are scratch.  The owner goes first.
 */
.macro GUARD_FILL slot, owner, ret, acc
	movq guard_key(%rip), \acc
	GUARD_PUT \slot, \owner, G_OWNER, \acc
	GUARD_PUT \slot, %rbx, G_RBX, \acc
	GUARD_PUT \slot, %rbp, G_RBP, \acc
	GUARD_PUT \slot, %rdi, G_RDI, \acc
	GUARD_PUT \slot, %rsi, G_RSI, \acc
	GUARD_PUT \slot, %r12, G_R12, \acc
	GUARD_PUT \slot, %r13, G_R13, \acc
	GUARD_PUT \slot, %r14, G_R14, \acc
	GUARD_PUT \slot, %r15, G_R15, \acc
	leaq \ret+8(%rsp), %rax
	GUARD_PUT \slot, %rax, G_RSP, \acc
	movq \ret(%rsp), %rax
	GUARD_PUT \slot, %rax, G_RIP, \acc
	pushfq
	popq %rax
	GUARD_PUT \slot, %rax, G_RFLAGS, \acc
	xorl %eax, %eax
	movw %cs, %ax
	GUARD_PUT \slot, %rax, G_CS, \acc
	movw %ss, %ax
	GUARD_PUT \slot, %rax, G_SS, \acc
	movq \acc, G_SEAL(\slot)
	movq \acc, G_SEAL+GUARD_MIRROR(\slot)
.endm

/* The caller's domain, EAX, into the slot and its copy, checked by
 * pkrs_check; EDX is scratch. */
.macro GUARD_PKRS slot
	movl %eax, G_PKRS(\slot)
	movl %eax, G_PKRS+GUARD_MIRROR(\slot)
	movl %eax, %edx
	xorl guard_key(%rip), %edx
	movl %edx, G_PKRS_CHECK(\slot)
	movl %edx, G_PKRS_CHECK+GUARD_MIRROR(\slot)
.endm

/* reg32 := the domain slot `base + index` records for its caller, checked
 * first: a slot a stray write damaged goes to guard_damaged (guard.S), a
 * fault there, which the slot's sound copy unwinds (guardseal.c).  ECX is
 * scratch. */
.macro GUARD_CALLER_PKRS base, index, reg
	movl G_PKRS(\base,\index), \reg
	movl G_PKRS_CHECK(\base,\index), %ecx
	xorl guard_key(%rip), %ecx
	cmpl %ecx, \reg
	jne guard_damaged
.endm

/* guard_depth := val, with its check (XOR guard_key's low half) in the
 * word after it, both in one 8-byte store so that an interrupt never finds
 * them apart, then both again on the copies' page (guardseal.c).  val and
 * scr are 64-bit registers; val's upper half must be zero (a 32-bit
 * operation leaves it so); scr is clobbered. */
.macro DEPTH_PUT val, scr
	movq guard_key(%rip), \scr
	shlq $32, \scr
	xorq \val, \scr
	shlq $32, \val
	xorq \val, \scr
	shrq $32, \val
	movq \scr, guard_depth(%rip)
	movq \scr, guard_depth_copy(%rip)
.endm

/* reg := guard_depth (64-bit, its upper half zero), checked first: with
 * t the word XOR guard_key's low half moved up, depth and check agree
 * when t's halves are equal, that is when t XOR t rotated by 32 is 0.  A
 * depth a stray write damaged is healed from its copy (guard.S,
 * guard_depth_heal) and read again.  scr is scratch. */
.macro DEPTH_GET reg, scr
	movq guard_depth(%rip), \scr
	movq guard_key(%rip), \reg
	shlq $32, \reg
	xorq \reg, \scr
	movq \scr, \reg
	rorq $32, \reg
	xorq \scr, \reg
	jz .LDEPTH_GET9\@
	call guard_depth_heal
.LDEPTH_GET9\@:
	movq guard_depth(%rip), \reg
	shlq $32, \reg
	shrq $32, \reg
.endm


/*
 * The domain registers.  With supervisor protection keys a domain is the
 * IA32_PKRS value itself.  Without them (domain_wp, domain.c) the hub's
 * memory is mapped read-only and CR0.WP says whether ring 0 honours that
 * (SDM 3A §4.6.1): clear in the hub's domain (0), set in every module's
 * (any other value); a read gives back domain_wp_value for a module's.
 * All three clobber EAX, ECX and EDX only (RAX: its upper half).
 */

/* EAX := the domain the CPU is in. */
.macro DOMAIN_READ
	cmpb $0, domain_wp(%rip)
	jne .LDOMAIN_READ1\@
	movl $MSR_PKRS, %ecx
	rdmsr
	jmp .LDOMAIN_READ9\@
.LDOMAIN_READ1\@:
	movq %cr0, %rax
	testl $CR0_WP, %eax
	movl $0, %eax
	cmovnzl domain_wp_value(%rip), %eax
.LDOMAIN_READ9\@:
.endm

/* The domain := reg32 (not EAX, ECX or EDX). */
.macro PKRS_SET reg
	cmpb $0, domain_wp(%rip)
	jne .LPKRS_SET1\@
	movl $MSR_PKRS, %ecx
	movl \reg, %eax
	xorl %edx, %edx
	wrmsr
	jmp .LPKRS_SET9\@
.LPKRS_SET1\@:
	movq %cr0, %rax
	movq %rax, %rdx
	andq $~CR0_WP, %rax
	testl \reg, \reg
	jz .LPKRS_SET2\@
	orq $CR0_WP, %rax
.LPKRS_SET2\@:
	cmpq %rax, %rdx		/* CR0 writes serialise: only a change */
	je .LPKRS_SET9\@
	movq %rax, %cr0
.LPKRS_SET9\@:
.endm

/* The domain := reg32 unless it is that already: a write costs a TLB
 * flush under QEMU's TCG (and a pipeline drain on some CPUs), a read
 * little. */
.macro PKRS_SWITCH reg
	DOMAIN_READ
	cmpl \reg, %eax
	je .LPKRS_SWITCH9\@
	PKRS_SET \reg
.LPKRS_SWITCH9\@:
.endm

/* Into the hub's domain (0). */
.macro DOMAIN_HUB
	cmpb $0, domain_wp(%rip)
	jne .LDOMAIN_HUB1\@
	movl $MSR_PKRS, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	jmp .LDOMAIN_HUB9\@
.LDOMAIN_HUB1\@:
	movq %cr0, %rax
	andq $~CR0_WP, %rax
	movq %rax, %cr0
.LDOMAIN_HUB9\@:
.endm

/*
 * Interrupt and exception entry, after SAVE_REGS: the handler runs in the
 * hub's domain.  R13 keeps the interrupted code's PKRS (domains on), R14
 * the guard depth at entry, checked (domains on or off: the device
 * interrupt path takes its floor from it); both are callee-saved across
 * the C handler.
 */
.macro DOMAIN_ENTER
	cmpb $0, domain_on(%rip)
	je .LDOMAIN_ENTER1\@
	DOMAIN_READ
	movl %eax, %r13d
	testl %eax, %eax
	jz .LDOMAIN_ENTER1\@
	DOMAIN_HUB
.LDOMAIN_ENTER1\@:
	DEPTH_GET %r14, %rcx
.endm

/*
 * After DOMAIN_ENTER on the exception path, RSP at the frame: a
 * protection-key page fault (#PF error code bit 5; with domain_wp, a
 * write to a present page) in the hub's own code is the hub running in
 * a module's domain, reached through a function pointer other than the
 * services table and the gates (firmware-rt's reset, in a table that is
 * the stub's; the injector).  It is no fault: the instruction runs again
 * in the hub's domain, which stays until the module's guarded call ends.
 */
.macro DOMAIN_HUB_RETRY retry
	cmpb $0, domain_on(%rip)
	je .LDOMAIN_HUB_RETRY1\@
	cmpq $14, 15*8(%rsp)		/* vector */
	jne .LDOMAIN_HUB_RETRY1\@
	movq 16*8(%rsp), %rax		/* error code */
	cmpb $0, domain_wp(%rip)
	jne .LDOMAIN_HUB_RETRY2\@
	testl $0x20, %eax		/* PK */
	jz .LDOMAIN_HUB_RETRY1\@
	jmp .LDOMAIN_HUB_RETRY3\@
.LDOMAIN_HUB_RETRY2\@:
	andl $3, %eax			/* a write to a present page */
	cmpl $3, %eax
	jne .LDOMAIN_HUB_RETRY1\@
.LDOMAIN_HUB_RETRY3\@:
	movq 17*8(%rsp), %rax		/* rip */
	cmpq domain_hub_lo(%rip), %rax
	jb .LDOMAIN_HUB_RETRY1\@
	cmpq domain_hub_hi(%rip), %rax
	jae .LDOMAIN_HUB_RETRY1\@
	xorl %r13d, %r13d
	jmp \retry
.LDOMAIN_HUB_RETRY1\@:
.endm

/*
 * Before RESTORE_REGS: back to the interrupted code's domain, or, when
 * the handler unwound guarded calls (a fault, the watchdog), to the
 * domain the outermost unwound call was made from, which its guard slot
 * (free again, but not reused while interrupts are held) still records.
 */
.macro DOMAIN_LEAVE
	cmpb $0, domain_on(%rip)
	je .LDOMAIN_LEAVE2\@
	movl guard_depth(%rip), %eax
	cmpl %r14d, %eax
	jae .LDOMAIN_LEAVE1\@
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %rcx
	movl G_PKRS(%rcx,%rax), %r13d
.LDOMAIN_LEAVE1\@:
	testl %r13d, %r13d	/* the handler ran in the hub's domain */
	jz .LDOMAIN_LEAVE2\@
	PKRS_SET %r13d
.LDOMAIN_LEAVE2\@:
.endm

#endif
#endif
