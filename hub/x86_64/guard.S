/*
 * guard.S - guarded calls into modules.
 *
 *	long arch_call_guarded(long (*fn)(void *arg), void *arg,
 *	    struct pb_module *owner, uint32_t domain);
 *
 * Runs fn(arg) on the current stack and returns its result.  The slot
 * names `owner`, the module whose code the call runs: a fault anywhere
 * inside (in the module, in a hub service it called, at an address that
 * is no code at all) is charged to the innermost guard's owner.  Before the
 * call it records a recovery context: the registers the Microsoft x64 ABI
 * makes callee-saved (RBX, RBP, RDI, RSI, R12-R15), where the call returns
 * to (RSP after `ret` and the return address, both kept here rather than
 * read back from a stack a faulting module may have scribbled on), RFLAGS,
 * CS and SS.  If a module faults inside, however deep, arch_exception()
 * (fault.c) pops the innermost context and rewrites the interrupt frame
 * from it, so iretq lands at the return address with RAX = PB_EFAULT, as
 * if this function had returned that.  Contexts nest, at most GUARD_MAX.
 *
 * The slot is claimed (guard_depth incremented) before it is filled, and
 * the owner is its first field written, so a fault finds the owner of any
 * claimed slot; an
 * interrupt arriving in between takes the next slot for its own guards and
 * gives it back before returning, and cannot unwind into ours because the
 * interrupt path raises guard_floor to the depth it found.
 *
 * With protection domains on (domain.c), fn runs in `domain` (a PKRS
 * value): the switch is the last thing before the call, after every
 * write to the hub's memory, and the caller's domain, kept in the slot,
 * comes back first thing after it; IA32_PKRS is written only when the
 * value changes.  A fault that unwinds the call gets the caller's domain
 * back from the exception path (domain.h).
 *
 * Offsets follow struct guard in cpu.h, which _Static_asserts them.
 */
#include "domain.h"


#define PB_EBUSY (-4)

	.text
	.globl arch_call_guarded
	.balign 16
arch_call_guarded:
	movl guard_depth(%rip), %eax
	cmpl $GUARD_MAX, %eax
	jae 9f
	incl guard_depth(%rip)
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %r10
	addq %rax, %r10
	GUARD_FILL %r10, %r8, 0, %r11
	movq %rcx, %r11
	movq %rdx, %r8
	cmpb $0, domain_on(%rip)
	je 1f
	movl $MSR_PKRS, %ecx
	rdmsr
	GUARD_PKRS %r10
	cmpl %r9d, %eax
	je 1f
	PKRS_SET %r9d
1:
	/* fn(arg): RCX = arg, 32 bytes of shadow space, RSP 16-aligned at
	 * the call (it is 8 past alignment on entry, after our caller's
	 * call pushed the return address). */
	movq %r8, %rcx
	subq $40, %rsp
	call *%r11
	addq $40, %rsp
	cmpb $0, domain_on(%rip)
	je 2f
	movq %rax, %r10
	movl guard_depth(%rip), %eax
	decl %eax
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %r8
	GUARD_CALLER_PKRS %r8, %rax, %r9d
	PKRS_SWITCH %r9d
	movq %r10, %rax
2:
	decl guard_depth(%rip)
	ret
9:
	movq $PB_EBUSY, %rax
	ret

/* A guard slot whose caller's domain a stray write damaged, found as its
 * call returns (GUARD_CALLER_PKRS): an invalid opcode here is a fault of
 * the slot's call, unwound from its sound copy (fault.c, guardseal.c). */
	.globl guard_damaged
guard_damaged:
	ud2

/* Pages of their own: connection gates (conngate.S) fill slots and note
 * what the client hands, and now_ns and work_post write, in the
 * client's protection domain, so domain.c lets modules write these
 * pages. */
	.bss
	.balign 4096
	.globl guard_stack
guard_stack:
	.zero GUARD_MAX << GUARD_SHIFT
	.balign 4
	.globl guard_depth
guard_depth:
	.zero 4
	.globl guard_floor
guard_floor:
	.zero 4
	.globl grant_next
grant_next:
	.zero 4
	/* struct hub_shared (hub.h): what now_ns and work_post write in
	 * their caller's domain. */
	.balign 8
	.globl hub_shared
hub_shared:
	.zero HUB_SHARED_SIZE
	/* .org does not move backwards: the slots and hub_shared outgrowing
	 * their page fail the build. */
	.org guard_stack + 4096
	.globl grant_notes
grant_notes:
	.zero GRANT_NOTES << GRANT_NOTE_SHIFT
	.balign 4096
	/* The slots' copies (GUARD_MIRROR). */
	.org guard_stack + GUARD_MIRROR
	.zero GUARD_MAX << GUARD_SHIFT
	.balign 4096
