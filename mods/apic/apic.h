/*
 * apic.h - the apic module's shared state, and what its files offer one
 * another.
 *
 *   apic.c	the module: descriptor, `irq` operations, start/stop, the
 *		end-of-interrupt hook and the spurious-interrupt handler
 *   lapic.c	this CPU's local APIC, as x2APIC MSRs or xAPIC MMIO
 *   ioapic.c	one I/O APIC at the register level (82093AA datasheet)
 *   route.c	ISA overrides and MPS flags decoded, GSIs to I/O APIC pins,
 *		the table of routed lines
 *   pic8259.c	the two legacy 8259s: remapped, then masked for good
 *   msi.c	MSI messages (SDM 3A "Message Signalled Interrupts")
 *
 * Vectors: the 8259s are parked at 0x20-0x2f, where nothing else lives, so
 * a stray IRQ7/IRQ15 from them is never taken for an exception.  Device
 * vectors come from the hub (0x40-0xef); the local APIC's spurious vector
 * is 0xff.  Only vectors 0x30-0xfe can be routed.
 */
#ifndef APIC_APIC_H
#define APIC_APIC_H

#include "../../abi/pbmod.h"
#include "../../abi/acpi.h"
#include "../../abi/irq.h"

#define VEC_PIC_BASE	0x20	/* 8259 master at 0x20, slave at 0x28 */
#define VEC_ROUTE_MIN	0x30
#define VEC_ROUTE_MAX	0xfe
#define VEC_SPURIOUS	0xff

#define APIC_MAX_ROUTES	64

struct lapic {
	int x2apic;			/* registers are MSRs; else MMIO */
	volatile uint8_t *mmio;		/* xAPIC: the 4 KiB register page */
	uint64_t phys;			/* xAPIC: its physical address */
	uint32_t id;			/* this CPU's APIC ID */
	uint32_t version;		/* version register */
};

struct ioapic {
	volatile uint8_t *regs;		/* IOREGSEL at 0, IOWIN at 0x10 */
	uint32_t id;			/* from the MADT */
	uint32_t phys;
	uint32_t gsi_base;		/* GSI of pin 0 */
	uint32_t nlines;		/* MRE + 1 */
	uint32_t version;		/* version register */
};

/* One routed line: which pin feeds which vector. */
struct route {
	int vector;			/* 0: slot unused */
	uint32_t gsi;
	unsigned flags;			/* IRQ_LEVEL | IRQ_ACTIVE_LOW | IRQ_NMI */
	int masked;
};

struct apic {
	const struct pb_hub *hub;
	struct pb_module *self;
	const struct acpi_platform *plat;
	struct lapic lapic;
	struct ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nioapics;
	struct route routes[APIC_MAX_ROUTES];
	uint32_t spurious;		/* spurious interrupts seen */
	int eoi_hooked;
	int spurious_registered;
};

/* lapic.c: registers are named by their xAPIC offsets (SDM 3A Table
 * "Local APIC Register Address Map"); x2APIC MSR = 0x800 + offset/16. */
#define LAPIC_ID	0x020
#define LAPIC_VERSION	0x030
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ESR	0x280
#define LAPIC_LVT_CMCI	0x2f0
#define LAPIC_ICR	0x300	/* low; high at 0x310 (xAPIC only) */
#define LAPIC_ICR_HIGH	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PMC	0x340
#define LAPIC_LVT_LINT0	0x350
#define LAPIC_LVT_LINT1	0x360
#define LAPIC_LVT_ERROR	0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	0x390
#define LAPIC_TIMER_DIV	0x3e0
#define LAPIC_SELF_IPI	0x3f0	/* x2APIC only */

#define X2APIC_MSR(off)	(0x800u + ((off) >> 4))

/* LVT and ICR fields (SDM 3A "Local Vector Table", "Interrupt Command
 * Register"). */
#define LVT_MASKED	(1u << 16)
#define LVT_LEVEL	(1u << 15)
#define LVT_ACTIVE_LOW	(1u << 13)
#define LVT_DELIV_NMI	(4u << 8)
#define LVT_TIMER_PERIODIC (1u << 17)
#define SVR_ENABLE	(1u << 8)
#define ICR_PENDING	(1u << 12)	/* delivery status, xAPIC */
#define ICR_ASSERT	(1u << 14)
#define ICR_SELF	(1u << 18)	/* destination shorthand 01 */

enum lapic_mode { LAPIC_NONE, LAPIC_XAPIC, LAPIC_X2APIC_ON, LAPIC_X2APIC_ENABLE };

enum lapic_mode lapic_choose(uint64_t apic_base, uint32_t cpuid1_ecx,
    uint32_t cpuid1_edx, int switch_on);
int lapic_init(struct apic *a);
uint32_t lapic_read(const struct lapic *l, uint32_t reg);
void lapic_write(const struct lapic *l, uint32_t reg, uint32_t v);
uint32_t lapic_lint_entry(const struct acpi_platform *plat, uint32_t apic_id,
    unsigned lint);
void lapic_eoi(const struct lapic *l);
int lapic_send_self(const struct apic *a, int vector);
int lapic_timer(const struct lapic *l, int vector, unsigned divide,
    uint32_t count, int periodic);
uint32_t lapic_timer_current(const struct lapic *l);
int lapic_divide_code(unsigned divide, uint32_t *code);

/* ioapic.c: 82093AA datasheet §3.2. */
#define IOAPIC_ID	0x00
#define IOAPIC_VER	0x01
#define IOAPIC_REDTBL	0x10	/* entry n: 0x10 + 2n (low), +1 (high) */

#define RTE_DELIV_NMI	(4ull << 8)
#define RTE_ACTIVE_LOW	(1ull << 13)
#define RTE_LEVEL	(1ull << 15)
#define RTE_MASKED	(1ull << 16)
#define RTE_DEST_SHIFT	56

uint32_t ioapic_read(const struct ioapic *io, uint32_t reg);
void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v);
int ioapic_probe(struct apic *a, struct ioapic *io);
uint64_t ioapic_entry(int vector, unsigned flags, uint32_t dest, int masked);
void ioapic_set(const struct ioapic *io, unsigned pin, uint64_t entry);
uint64_t ioapic_get(const struct ioapic *io, unsigned pin);
void ioapic_mask_all(const struct ioapic *io);

/* route.c */
unsigned mps_flags(uint16_t inti, unsigned bus_default);
int isa_to_gsi(const struct acpi_platform *plat, unsigned isa_irq,
    uint32_t *gsi, unsigned *flags);
struct ioapic *gsi_ioapic(struct apic *a, uint32_t gsi, unsigned *pin);
int route_line(struct apic *a, uint32_t gsi, unsigned flags, int vector);
int route_mask(struct apic *a, int vector, int masked);
int route_forget(struct apic *a, int vector);
void route_mask_everything(struct apic *a);
void route_nmi_sources(struct apic *a);

/* pic8259.c */
void pic_disable(int reinit);

/* msi.c */
int msi_compose(uint32_t apic_id, int vector, uint64_t *addr,
    uint32_t *data);

#endif
