/*
 * cpu.h - the hub's hold on the x86-64 CPU: descriptor tables, exceptions,
 * guarded calls into modules, device-interrupt entry and page tables.
 *
 * References: Intel SDM Vol. 3A (chapter numbers move between editions,
 * so section titles are given with the numbers of the 2016-2022 editions)
 * and AMD APM Vol. 2.
 */
#ifndef PB_HUB_X86_64_CPU_H
#define PB_HUB_X86_64_CPU_H

#include <stddef.h>
#include <stdint.h>

struct handoff;
struct pe_image;
struct pb_module;

/* --- what the arch side exports ----------------------------------------- */

/* While boot services run: vectors 0-31 ours, 32-255 the firmware's. */
void arch_cpu_init_firmware(void);
/* Right after ExitBootServices: our GDT, TSS and IDT.  Returns with
 * interrupts disabled; the event loop's arch_idle() enables them. */
void arch_cpu_init_native(void);
/* In the firmware phase, once mem_alloc works: W^X for the pool and the
 * images in the firmware's tables. */
int arch_paging_early(const struct handoff *h);
/* After ExitBootServices and once mem_alloc works: our page tables. */
int arch_paging_init(const struct handoff *h);
/* Called by them: protection domains, unless isolate=no (domain.c). */
void domain_early(const struct handoff *h);
void domain_init(const struct handoff *h);
/* Module code's stack off the hub's (stacks.c), from domain_init;
 * nonzero: not split, module code runs on the hub's stack. */
int stacks_split(const struct handoff *h);
/* The page at va not present: a guard page (paging.c). */
int arch_page_absent(uint64_t va);

/* fn(arg) on this stack, as owner's code, in protection domain `domain`
 * (domain.c); PB_EFAULT if it faults inside, PB_EBUSY if GUARD_MAX
 * guarded calls are already nested. */
long arch_call_guarded(long (*fn)(void *arg), void *arg,
    struct pb_module *owner, uint32_t domain);

int arch_map_image(uint64_t base, const struct pe_image *img);
void arch_unmap_image(uint64_t base, uint32_t size);
void *arch_map_mmio(uint64_t phys, size_t len, int cache);
void arch_unmap_mmio(void *va, size_t len);
int arch_addr_executable(uint64_t va);

uint64_t arch_irq_hold(void);
void arch_irq_release(uint64_t held);
void arch_idle(void);

/* --- what the arch side expects from the portable core ------------------ */

/* The module whose image contains addr, or NULL. */
extern struct pb_module *hub_module_at(uint64_t addr);
/* Record a module's fault; called with interrupts disabled, on the
 * faulting stack, before the guard returns PB_EFAULT.  Must not fault. */
extern void hub_note_fault(struct pb_module *m, int vector, uint64_t rip,
    uint64_t addr);
/* A device interrupt on `vector` (32-255), interrupts disabled. */
extern void hub_irq_dispatch(int vector);

/* --- shared between the C and assembly halves --------------------------- */

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

#define VEC_NMI 2
#define VEC_DF 8
#define VEC_PF 14
#define VEC_MC 18
#define NVEC_EXC 32
#define NVEC 256

/* IST slots (1-based in the gate, SDM 3A §6.14.5 "Interrupt Stack Table"). */
#define IST_DF 1
#define IST_NMI 2
#define IST_MC 3
/* A page fault always ends in an unwind to a guard or a halt, never in a
 * return to the code it cut into, so one non-reentrant stack serves: a
 * page fault inside the handler halts before it could return. */
#define IST_PF 4
#define IST_STACK (16u << 10)
extern uint8_t ist_stacks[4][IST_STACK];	/* gdt.c */

#define RFLAGS_IF 0x200ull
#define RFLAGS_RESERVED1 0x2ull	/* bit 1 always reads 1 */

/*
 * What isr.S leaves on the stack for the C side: the general registers it
 * pushed, the vector and error code (a zero pushed by the stub when the CPU
 * pushes none), then the frame the CPU pushed.  In 64-bit mode the CPU always
 * pushes SS:RSP, even without a privilege change, and aligns RSP to 16 bytes
 * first (SDM 3A §6.14.2 "64-Bit Mode Stack Frame"; AMD APM Vol. 2 §8.9.3).
 * isr.S pushes in the reverse order of the fields below.
 */
struct intr_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error;
	/* pushed by the CPU */
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};
_Static_assert(offsetof(struct intr_frame, rax) == 14 * 8, "frame regs");
_Static_assert(offsetof(struct intr_frame, vector) == 15 * 8, "frame vector");
_Static_assert(offsetof(struct intr_frame, rip) == 17 * 8, "frame rip");
_Static_assert(sizeof(struct intr_frame) == 22 * 8, "intr_frame size");

/*
 * One recovery context of a guarded call, filled by guard.S.  rsp and rip
 * are where the guarded call returns to (the caller's RSP after `ret`, and
 * the return address), so a fault resumes as if arch_call_guarded returned.
 * The size is a power of two so guard.S can index with a shift.
 *
 * Slots are on pages every module may write (connection gates fill them
 * in the client's domain), so a stray write may land on one: each is
 * sealed (seal: guard_key XOR every field from rbx to owner; pkrs_check:
 * pkrs_before XOR guard_key's low half) and written twice, the copy
 * GUARD_MIRROR bytes on (guardseal.c).
 */
#define GUARD_MAX 16
#define GUARD_SHIFT 7
struct guard {
	uint64_t rbx, rbp, rdi, rsi, r12, r13, r14, r15;
	uint64_t rsp;
	uint64_t rip;
	uint64_t rflags;
	uint64_t cs, ss;
	struct pb_module *owner;	/* whose code the call runs */
	uint32_t pkrs_before;		/* the caller's domain (domain.h) */
	uint32_t pkrs_check;		/* pkrs_before ^ (uint32_t)guard_key */
	uint64_t seal;			/* guard_key ^ rbx ^ ... ^ owner */
};
_Static_assert(offsetof(struct guard, r15) == 56, "guard regs (guard.S)");
_Static_assert(offsetof(struct guard, rsp) == 64, "guard rsp (guard.S)");
_Static_assert(offsetof(struct guard, rip) == 72, "guard rip (guard.S)");
_Static_assert(offsetof(struct guard, rflags) == 80, "guard rflags (guard.S)");
_Static_assert(offsetof(struct guard, cs) == 88, "guard cs (guard.S)");
_Static_assert(offsetof(struct guard, ss) == 96, "guard ss (guard.S)");
_Static_assert(offsetof(struct guard, owner) == 104, "guard owner (guard.S)");
_Static_assert(offsetof(struct guard, pkrs_before) == 112,
    "guard pkrs_before (guard.S, domain.h)");
_Static_assert(offsetof(struct guard, pkrs_check) == 116,
    "guard pkrs_check (guard.S, domain.h)");
_Static_assert(offsetof(struct guard, seal) == 120, "guard seal (guard.S)");
_Static_assert(sizeof(struct guard) == 1u << GUARD_SHIFT, "guard size");

/* guard.S: the stack of recovery contexts.  guard_depth counts the active
 * ones (on the page modules may write, with a check and a copy: read it
 * through guard_depth_now(), guardseal.c); guard_floor (fault.c, the
 * hub's own memory) is the depth when the current device interrupt came
 * in: a fault may only unwind to guards above it, never to a guard of the
 * code the interrupt cut into. */
extern struct guard guard_stack[GUARD_MAX];
/* guard.S's guard_depth and its check in one 8-byte word (DEPTH_PUT
 * writes it with one store), and its copy on the copies' page. */
union guard_depth_word {
	struct {
		uint32_t depth;
		uint32_t check;		/* depth ^ guard_key's low half */
	} f;
	uint64_t w;
};
_Static_assert(sizeof(union guard_depth_word) == 8, "guard.S DEPTH_PUT");
extern volatile union guard_depth_word guard_depth_word __asm__("guard_depth");
extern volatile union guard_depth_word guard_depth_copy_word
    __asm__("guard_depth_copy");
extern volatile uint8_t guard_depth_healed;	/* guard.S healed it */
extern volatile uint32_t guard_floor;
/* guard.S: the ud2 a call whose slot's domain was damaged returns through. */
extern const uint8_t guard_damaged[];

/* isr.S: 4-byte entry stubs in groups of 32, each group ending in a
 * near jump: vector v at isr_stubs + (v / 32) * ISR_GROUP_SIZE +
 * (v % 32) * ISR_STUB_SIZE. */
#define ISR_STUB_SIZE 4
#define ISR_GROUP_SIZE (31 * ISR_STUB_SIZE + 2 + 5)
extern const uint8_t isr_stubs[];

/* fault.c, called by isr.S with interrupts disabled. */
void arch_exception(struct intr_frame *f);

/* gdt.c, idt.c */
void gdt_init(void);
void idt_set_gate(int vec, uint64_t handler, uint16_t sel, int ist);
uint16_t cpu_read_cs(void);
uint16_t cpu_read_ss(void);

#endif
