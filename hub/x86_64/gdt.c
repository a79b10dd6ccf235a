/*
 * gdt.c - the hub's own GDT and TSS, loaded once the firmware is gone.
 *
 * Long mode ignores segment bases and limits for code and data (SDM 3A
 * §3.2.4 "Segmentation in IA-32e Mode"), so the GDT only needs a 64-bit
 * ring-0 code segment, a data segment for SS/DS/ES and a TSS.  The TSS is
 * kept for its Interrupt Stack Table alone: double fault, NMI and machine
 * check switch to known-good stacks of their own (SDM 3A §6.14.5), so a
 * corrupt or exhausted stack still gets a report instead of a triple fault.
 */
#include "arch.h"
#include "cpu.h"

/* A code/data segment descriptor (SDM 3A §3.4.5 "Segment Descriptors",
 * Figure 3-8). */
struct seg_desc {
	uint16_t limit_lo;
	uint16_t base_lo;
	uint8_t base_mid;
	uint8_t access;		/* P, DPL, S, type */
	uint8_t flags_limit_hi;	/* G, D/B, L, AVL, limit 19:16 */
	uint8_t base_hi;
};
_Static_assert(sizeof(struct seg_desc) == 8, "segment descriptor");

/* A 64-bit TSS descriptor takes two slots (SDM 3A §7.2.3 "TSS Descriptor
 * in 64-bit mode", Figure 7-4). */
struct tss_desc {
	struct seg_desc lo;
	uint32_t base_upper;
	uint32_t reserved;
};
_Static_assert(sizeof(struct tss_desc) == 16, "TSS descriptor");

/* The 64-bit TSS (SDM 3A §7.7 "Task Management in 64-bit Mode",
 * Figure 7-11): RSP0-2, IST1-7 and the I/O map base, misaligned by the
 * leading reserved dword, hence packed. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];	/* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct tss64, rsp) == 0x04, "TSS RSP0");
_Static_assert(__builtin_offsetof(struct tss64, ist) == 0x24, "TSS IST1");
_Static_assert(__builtin_offsetof(struct tss64, iomap_base) == 0x66,
    "TSS I/O map base");
_Static_assert(sizeof(struct tss64) == 0x68, "TSS size");

struct gdt {
	struct seg_desc null;
	struct seg_desc code;
	struct seg_desc data;
	struct tss_desc tss;
};
_Static_assert(__builtin_offsetof(struct gdt, code) == SEL_CODE, "code sel");
_Static_assert(__builtin_offsetof(struct gdt, data) == SEL_DATA, "data sel");
_Static_assert(__builtin_offsetof(struct gdt, tss) == SEL_TSS, "TSS sel");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));
_Static_assert(sizeof(struct desc_ptr) == 10, "GDTR/IDTR operand");

#define ACC_P 0x80
#define ACC_S 0x10		/* code or data, not system */
#define ACC_CODE 0x0a		/* execute/read */
#define ACC_DATA 0x02		/* read/write */
#define ACC_TSS64 0x09		/* available 64-bit TSS */
#define FLG_G 0x80
#define FLG_DB 0x40
#define FLG_L 0x20

static struct gdt gdt __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
/* One stack per IST slot: an NMI may arrive while the #MC handler runs.
 * Page faults have their own, so a stack overflow onto the guard page
 * under the hub's stack is reported (and charged) rather than becoming a
 * double fault.  Page-aligned: the CPU pushes onto them in a module's
 * protection domain, so domain.c lets modules write them. */
uint8_t ist_stacks[4][IST_STACK] __attribute__((aligned(4096)));

static struct seg_desc
seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (struct seg_desc){
		.limit_lo = (uint16_t)limit,
		.base_lo = (uint16_t)base,
		.base_mid = (uint8_t)(base >> 16),
		.access = access,
		.flags_limit_hi = (uint8_t)(flags | ((limit >> 16) & 0x0f)),
		.base_hi = (uint8_t)(base >> 24),
	};
}

static void
tss_setup(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;

	tss.ist[IST_DF - 1] = (uint64_t)(uintptr_t)ist_stacks[0] + IST_STACK;
	tss.ist[IST_NMI - 1] = (uint64_t)(uintptr_t)ist_stacks[1] + IST_STACK;
	tss.ist[IST_MC - 1] = (uint64_t)(uintptr_t)ist_stacks[2] + IST_STACK;
	tss.ist[IST_PF - 1] = (uint64_t)(uintptr_t)ist_stacks[3] + IST_STACK;
	/* An I/O map base beyond the limit means no I/O bitmap; ring 0 never
	 * consults it anyway. */
	tss.iomap_base = sizeof(tss);
	gdt.tss.lo = seg((uint32_t)base, sizeof(tss) - 1, ACC_P | ACC_TSS64, 0);
	gdt.tss.base_upper = (uint32_t)(base >> 32);
	gdt.tss.reserved = 0;
}

/*
 * Load the GDT, then reload every segment register: CS only changes with a
 * far transfer, so push the new selector and the next instruction and
 * `lretq` (SDM 2B "RET - Return from Procedure", far return in 64-bit
 * mode).  Loading FS and GS with the null selector is allowed in 64-bit
 * mode and clears the bases the firmware may have left.
 */
static void
gdt_load(void)
{
	struct desc_ptr p = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)&gdt };

	__asm__ volatile(
	    "lgdt %0\n\t"
	    "pushq %1\n\t"
	    "leaq 1f(%%rip), %%rax\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:\n\t"
	    "movl %2, %%eax\n\t"
	    "movw %%ax, %%ds\n\t"
	    "movw %%ax, %%es\n\t"
	    "movw %%ax, %%ss\n\t"
	    "xorl %%eax, %%eax\n\t"
	    "movw %%ax, %%fs\n\t"
	    "movw %%ax, %%gs\n\t"
	    : : "m"(p), "i"((uint64_t)SEL_CODE), "i"(SEL_DATA)
	    : "rax", "memory");
	/* ltr marks the descriptor busy; it must be loaded exactly once. */
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS) : "memory");
}

void
gdt_init(void)
{
	gdt.null = (struct seg_desc){ 0 };
	/* 64-bit code: L=1 and D=0 (SDM 3A §5.2.1 "Code-Segment Descriptor
	 * in 64-bit Mode"); base and limit are ignored. */
	gdt.code = seg(0, 0xfffff, ACC_P | ACC_S | ACC_CODE, FLG_G | FLG_L);
	gdt.data = seg(0, 0xfffff, ACC_P | ACC_S | ACC_DATA, FLG_G | FLG_DB);
	tss_setup();
	gdt_load();
}

uint16_t
cpu_read_cs(void)
{
	uint16_t cs;

	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return cs;
}

uint16_t
cpu_read_ss(void)
{
	uint16_t ss;

	__asm__ volatile("movw %%ss, %0" : "=r"(ss));
	return ss;
}
