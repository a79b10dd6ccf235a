/*
 * acpi.h - interface `acpi` 1.0: the firmware's ACPI tables, checked and
 * parsed, and the RSDP the hub publishes for the module that parses them.
 *
 * The hub publishes `rsdp:uefi` (interface `rsdp`) from the handoff; its
 * ops pointer leads to a struct acpi_rsdp.  The `acpi` module reads the
 * XSDT (RSDT when there is none), verifies every table's length and
 * checksum, and offers what the platform drivers need: the MADT (CPUs,
 * I/O APICs, interrupt source overrides, NMIs), MCFG, HPET, FADT and
 * (1.1) the DMAR's flags.  A table that fails its checks is listed with
 * the reason and not used, unless its only fault is the checksum (its
 * signature and length sane): that one is used all the same, as Linux
 * does, and listed as not valid with the problem "bad checksum, used".
 * Field names follow ACPI 6.5 (§5.2.x cited where the parser reads them).
 */
#ifndef PB_ABI_ACPI_H
#define PB_ABI_ACPI_H

#include <stdint.h>

#define RSDP_IFACE "rsdp"
#define ACPI_IFACE "acpi"
#define ACPI_MAJOR 1
#define ACPI_MINOR 1	/* 1.1: the DMAR's flags in acpi_platform */

/* What the hub publishes as `rsdp:uefi`. */
struct acpi_rsdp {
	uint64_t phys;		/* physical address of the RSDP */
	uint32_t revision;	/* 0: ACPI 1.0 (RSDT only), >= 2: XSDT */
	uint32_t reserved;
};

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_NMIS 16
#define ACPI_MAX_ECAM 8

/* A Generic Address Structure (ACPI 6.5 §5.2.3.2), as parsed. */
struct acpi_gas {
	uint8_t space;		/* 0 memory, 1 system I/O */
	uint8_t bit_width, bit_offset, access_size;
	uint64_t address;
};

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;		/* ACPI processor UID */
	uint8_t enabled;	/* or online-capable */
	uint8_t x2apic;		/* came from a Local x2APIC entry */
	uint16_t reserved;
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t phys;		/* register base */
	uint32_t gsi_base;
	uint32_t reserved;
};

/* MPS INTI flags (ACPI 6.5 Table 5.50). */
#define ACPI_POL_MASK	0x3
#define ACPI_POL_CONFORM 0x0
#define ACPI_POL_HIGH	0x1
#define ACPI_POL_LOW	0x3
#define ACPI_TRIG_MASK	0xc
#define ACPI_TRIG_CONFORM 0x0
#define ACPI_TRIG_EDGE	0x4
#define ACPI_TRIG_LEVEL	0xc

struct acpi_override {
	uint8_t bus;		/* 0: ISA */
	uint8_t source;		/* ISA IRQ */
	uint16_t flags;		/* MPS INTI flags */
	uint32_t gsi;
};

/* An NMI: a local APIC LINT pin (gsi ~0) or an I/O APIC input. */
struct acpi_nmi {
	uint32_t uid;		/* processor UID, ~0 for all */
	uint32_t gsi;		/* ~0 for a local APIC NMI */
	uint16_t flags;		/* MPS INTI flags */
	uint8_t lint;		/* local APIC LINT0/1 */
	uint8_t reserved;
};

struct acpi_ecam {
	uint64_t base;		/* address of bus 0, even when bus_start != 0 */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved;
};

/* FADT IA-PC boot architecture flags (ACPI 6.5 Table 5.11). */
#define ACPI_BOOT_LEGACY_DEVICES 0x1
#define ACPI_BOOT_8042		0x2
#define ACPI_BOOT_NO_VGA	0x4
#define ACPI_BOOT_NO_CMOS_RTC	0x20

/* DMAR flags (Intel VT-d 4.1 §8.1, "DMA Remapping Reporting Structure"). */
#define ACPI_DMAR_INTR_REMAP	0x1	/* interrupt remapping supported */
#define ACPI_DMAR_X2APIC_OPT_OUT 0x2	/* firmware asks: no x2APIC switch */
#define ACPI_DMAR_DMA_CTRL_OPT_IN 0x4

struct acpi_platform {
	/* MADT (§5.2.12) */
	uint64_t lapic_phys;
	uint32_t madt_flags;		/* bit 0: PCAT_COMPAT (8259s present) */
	uint32_t ncpus, nioapics, noverrides, nnmis;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	struct acpi_nmi nmis[ACPI_MAX_NMIS];
	/* MCFG (PCI Firmware spec 3.2 §4.1.2) */
	uint32_t necam;
	struct acpi_ecam ecam[ACPI_MAX_ECAM];
	/* HPET (IA-PC HPET spec 1.0a §3.2.4); hpet_phys 0 when absent */
	uint64_t hpet_phys;
	uint16_t hpet_min_tick;
	uint8_t hpet_number;
	uint8_t have_fadt;
	/* FADT (§5.2.9) */
	uint32_t fadt_flags;
	uint16_t iapc_boot_arch;	/* ACPI_BOOT_*; 0 when FADT rev < 2 */
	uint16_t sci_int;
	uint32_t pm_tmr_port;		/* ACPI PM timer I/O port, 0 if none */
	uint8_t pm_tmr_32bit;		/* TMR_VAL_EXT */
	uint8_t century;		/* CMOS index of the century, 0 if none */
	uint8_t reset_value;
	uint8_t fadt_revision;
	struct acpi_gas reset_reg;	/* valid when fadt_flags bit 10 */
	/* 1.1: DMAR (Intel VT-d 4.1 §8.1); all 0 when there is none */
	uint8_t have_dmar;
	uint8_t dmar_flags;		/* ACPI_DMAR_* */
	uint16_t reserved_dmar;
};

/* One table the module found, valid or not. */
struct acpi_table_info {
	char sig[5];
	uint8_t revision;
	uint8_t valid;		/* length and checksum verified */
	uint8_t reserved;
	char oem_id[7];
	char oem_table[9];
	uint32_t length;
	uint64_t phys;
	const char *problem;	/* why it is not valid; NULL when valid */
};

struct acpi_ops {
	/* The parsed platform description (stays valid while connected). */
	const struct acpi_platform *(*platform)(void *ctx);
	/* Table number `index` in the order found; PB_ENOENT past the end. */
	int (*table)(void *ctx, unsigned index, struct acpi_table_info *t);
	/* The `instance`th usable table (valid, or used despite its
	 * checksum) with signature sig (4 characters): its mapped bytes and
	 * length. */
	int (*find)(void *ctx, const char *sig, unsigned instance,
	    const void **data, uint32_t *len);
};

#endif
