/*
 * cpu.h - the x86-64 instructions drivers of the CPU's own devices need:
 * model-specific registers (the local APIC in x2APIC mode, IA32_APIC_BASE),
 * CPUID (features), the time-stamp counter, PAUSE in bounded polls, and
 * holding interrupts back around a register pair a handler also uses.
 *
 * Host tests of a module's logic (PB_HOSTED) put a model of the CPU behind
 * these functions instead, as they do for portio.h.
 */
#ifndef PB_ABI_CPU_H
#define PB_ABI_CPU_H

#include <stdint.h>

#ifdef PB_HOSTED
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t v);
/* r[0..3] = EAX, EBX, ECX, EDX of leaf `leaf`, subleaf `sub`. */
void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
uint64_t rdtsc(void);
void cpu_pause(void);
uint64_t cpu_irq_save(void);
void cpu_irq_restore(uint64_t flags);
#else
static inline uint64_t
rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
	    "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void
cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
	    "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The spin-wait hint (SDM 2B "PAUSE"): inside every bounded poll. */
static inline void
cpu_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/*
 * Hold interrupts back for a few instructions: around state a device's
 * handler also touches (work items run with interrupts open), such as an
 * index/data register pair.  Returns RFLAGS for cpu_irq_restore, which
 * opens them again only if they were open; the pairs nest.
 */
static inline uint64_t
cpu_irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void
cpu_irq_restore(uint64_t flags)
{
	if (flags & 0x200)		/* RFLAGS.IF */
		__asm__ volatile("sti" : : : "memory");
}
#endif

/* CPUID.1:ECX and CPUID.80000007h:EDX bits (SDM 2A "CPUID"). */
#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_EDX_APIC		(1u << 9)
#define CPUID1_EDX_TSC		(1u << 4)
#define CPUID80000007_EDX_INVTSC (1u << 8)

/* IA32_APIC_BASE (SDM 3A "Local APIC Status and Location"). */
#define MSR_IA32_APIC_BASE	0x1bu
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_EXTD		(1ull << 10)	/* x2APIC mode */
#define APIC_BASE_EN		(1ull << 11)	/* xAPIC global enable */
#define APIC_BASE_ADDR		0x000ffffffffff000ull

#endif
