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
 * interrupt path raises guard_floor to the depth it found.  guard_depth
 * is checked as a call starts and as it returns (DEPTH_GET): it is on a
 * page modules may write, kept with a check and a copy (guardseal.c),
 * and a damaged one is healed from the copy there and then.
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

/* Claim the next slot and fill it for the caller of the function this
 * opens; to `full` when GUARD_MAX calls are nested.  Leaves the slot in
 * R10, fn in R11, arg in R8, the domain in R9D. */
.macro GUARD_CLAIM full
	DEPTH_GET %rax, %r10
	cmpl $GUARD_MAX, %eax
	jae \full
	leal 1(%rax), %r10d
	DEPTH_PUT %r10, %r11
	shlq $GUARD_SHIFT, %rax
	leaq guard_stack(%rip), %r10
	addq %rax, %r10
	GUARD_FILL %r10, %r8, 0, %r11
	movq %rcx, %r11
	movq %rdx, %r8
.endm

/* Into the callee's domain (R9D), the caller's kept in the slot (R10). */
.macro GUARD_DOMAIN_IN
	cmpb $0, domain_on(%rip)
	je .LGUARD_DOMAIN_IN1\@
	DOMAIN_READ
	GUARD_PKRS %r10
	cmpl %r9d, %eax
	je .LGUARD_DOMAIN_IN1\@
	PKRS_SET %r9d
.LGUARD_DOMAIN_IN1\@:
.endm

/* fn(arg): RCX = arg, 32 bytes of shadow space, RSP 16-aligned at the
 * call (it is 8 past alignment here, as after our caller's call).  The
 * result goes to R10. */
.macro GUARD_CALL
	movq %r8, %rcx
	subq $40, %rsp
	call *%r11
	addq $40, %rsp
	movq %rax, %r10
.endm

/* Back to the caller's domain, as the slot records it; EDX := the depth
 * (checked), the slot still claimed. */
.macro GUARD_DOMAIN_OUT
	DEPTH_GET %rdx, %rcx
	cmpb $0, domain_on(%rip)
	je .LGUARD_DOMAIN_OUT1\@
	decl %edx
	shlq $GUARD_SHIFT, %rdx
	leaq guard_stack(%rip), %r8
	GUARD_CALLER_PKRS %r8, %rdx, %r9d
	PKRS_SWITCH %r9d
	movl guard_depth(%rip), %edx	/* checked above */
.LGUARD_DOMAIN_OUT1\@:
.endm

/* Give the slot back and return fn's result. */
.macro GUARD_RETURN
	decl %edx
	DEPTH_PUT %rdx, %rcx
	movq %r10, %rax
	ret
.endm

	.text
	.globl arch_call_guarded
	.balign 16
arch_call_guarded:
	GUARD_CLAIM 9f
	GUARD_DOMAIN_IN
	GUARD_CALL
	GUARD_DOMAIN_OUT
	GUARD_RETURN
9:
	movq $PB_EBUSY, %rax
	ret

/*
 * The same, called on the hub's half of the stack (stacks.c): fn runs on
 * the module half, below stack_mod_sp, so the hub's frames above
 * stack_hub_sp, where this call sets it, are out of its reach.  The stack
 * changes while the caller's domain holds (the hub's, or a hook's caller),
 * before the callee's and after it: an interrupt never pushes onto the
 * hub's half in a module's domain.  The way back is kept for the slot in
 * stack_hub_at, in the hub's memory; a fault unwinds to the slot's RSP,
 * on the hub's half too.
 */
	.globl arch_call_guarded_switch
	.balign 16
arch_call_guarded_switch:
	GUARD_CLAIM 9b
	movq %r10, %rax
	leaq guard_stack(%rip), %rcx
	subq %rcx, %rax
	shrq $GUARD_SHIFT - 3, %rax
	leaq stack_hub_at(%rip), %rcx
	movq %rsp, (%rcx,%rax)
	movq %rsp, stack_hub_sp(%rip)
	movq stack_mod_sp(%rip), %rsp
	andq $-16, %rsp
	subq $8, %rsp
	GUARD_DOMAIN_IN
	GUARD_CALL
	GUARD_DOMAIN_OUT
	leaq stack_hub_at(%rip), %rcx
	movq -8(%rcx,%rdx,8), %rsp
	GUARD_RETURN

/* A guard slot whose caller's domain a stray write damaged, found as its
 * call returns (GUARD_CALLER_PKRS): an invalid opcode here is a fault of
 * the slot's call, unwound from its sound copy (fault.c, guardseal.c). */
	.globl guard_damaged
guard_damaged:
	ud2

/*
 * guard_depth and its check disagree (DEPTH_GET): a stray write.  Whose
 * it was is not known (any module since the last check), so no call is
 * charged: the pair takes the copy's, in one store, when the copy's
 * agree (else guard_damaged: a fault, and the fault path decides), and
 * guard_depth_healed tells the hub to say so (guardseal.c).  Every
 * register but RFLAGS is kept.
 */
	.globl guard_depth_heal
guard_depth_heal:
	pushq %rax
	pushq %rcx
	movl guard_depth_copy_check(%rip), %ecx
	xorl guard_key(%rip), %ecx
	cmpl guard_depth_copy(%rip), %ecx
	jne guard_damaged
	movq guard_depth_copy(%rip), %rax
	movq %rax, guard_depth(%rip)
	movb $1, guard_depth_healed(%rip)
	popq %rcx
	popq %rax
	ret

/* Pages of their own: connection gates (conngate.S) fill slots and note
 * what the client hands, and now_ns and work_post write, in the
 * client's protection domain, so domain.c lets modules write these
 * pages. */
	.bss
	.balign 4096
	.globl guard_stack
guard_stack:
	.zero GUARD_MAX << GUARD_SHIFT
	.balign 8
	.globl guard_depth
guard_depth:
	.zero 4
	.globl guard_depth_check
guard_depth_check:
	.zero 4
	.globl guard_depth_healed
guard_depth_healed:
	.zero 1
	.balign 4
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
	/* The slots' copies (GUARD_MIRROR), and guard_depth's. */
	.org guard_stack + GUARD_MIRROR
	.zero GUARD_MAX << GUARD_SHIFT
	.balign 8
	.globl guard_depth_copy
guard_depth_copy:
	.zero 4
	.globl guard_depth_copy_check
guard_depth_copy_check:
	.zero 4
	.balign 4096
