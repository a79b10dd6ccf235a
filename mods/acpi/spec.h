/*
 * spec.h - the ACPI structures the module reads, laid out as in ACPI 6.5
 * (and, for MCFG and HPET, the PCI Firmware 3.2 and IA-PC HPET 1.0a
 * specifications).  Field names follow the specs.
 *
 * The parser never dereferences these over firmware memory: it copies a
 * bounded number of bytes into a zeroed local, so a field the table is too
 * short to hold reads as 0, and alignment does not matter.
 */
#ifndef PB_ACPI_SPEC_H
#define PB_ACPI_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_PACKED __attribute__((packed))

/* Root System Description Pointer (§5.2.5.3, Table 5.3). */
struct rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;		/* 0: ACPI 1.0; 2: 2.0 and later */
	uint32_t rsdt_address;
	/* revision >= 2 only: */
	uint32_t length;		/* of the whole structure */
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* over `length` bytes */
	uint8_t reserved[3];
} ACPI_PACKED;
_Static_assert(sizeof(struct rsdp) == 36, "RSDP");
_Static_assert(offsetof(struct rsdp, length) == 20, "RSDP v1 part");
_Static_assert(offsetof(struct rsdp, xsdt_address) == 24, "RSDP XSDT");
#define RSDP_V1_LEN 20

/* System Description Table header (§5.2.6, Table 5.4). */
struct sdt_header {
	char signature[4];
	uint32_t length;		/* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;		/* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} ACPI_PACKED;
_Static_assert(sizeof(struct sdt_header) == 36, "SDT header");
_Static_assert(offsetof(struct sdt_header, checksum) == 9, "SDT checksum");

/* Generic Address Structure (§5.2.3.2, Table 5.1). */
struct gas {
	uint8_t address_space_id;	/* 0 system memory, 1 system I/O */
	uint8_t register_bit_width;
	uint8_t register_bit_offset;
	uint8_t access_size;
	uint64_t address;
} ACPI_PACKED;
_Static_assert(sizeof(struct gas) == 12, "GAS");
#define GAS_MEMORY 0
#define GAS_IO 1

/* Fixed ACPI Description Table (§5.2.9, Table 5.9), up to revision 6.5.
 * ACPI 1.0's FADT ends at `flags` (116 bytes). */
struct fadt {
	struct sdt_header header;	/* "FACP" */
	uint32_t firmware_ctrl;		/* FACS, 32-bit */
	uint32_t dsdt;
	uint8_t reserved0;		/* INT_MODEL in ACPI 1.0 */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk;
	uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat;
	uint16_t flush_size, flush_stride;
	uint8_t duty_offset, duty_width;
	uint8_t day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;	/* revision >= 2 (reserved in 1.0) */
	uint8_t reserved1;
	uint32_t flags;
	/* ACPI 2.0 and later: */
	struct gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct gas x_pm2_cnt_blk;
	struct gas x_pm_tmr_blk;
	struct gas x_gpe0_blk, x_gpe1_blk;
	struct gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_identity;
} ACPI_PACKED;
_Static_assert(offsetof(struct fadt, sci_int) == 46, "FADT SCI_INT");
_Static_assert(offsetof(struct fadt, pm_tmr_blk) == 76, "FADT PM_TMR_BLK");
_Static_assert(offsetof(struct fadt, pm_tmr_len) == 91, "FADT PM_TMR_LEN");
_Static_assert(offsetof(struct fadt, century) == 108, "FADT CENTURY");
_Static_assert(offsetof(struct fadt, iapc_boot_arch) == 109, "FADT boot arch");
_Static_assert(offsetof(struct fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct fadt, reset_value) == 128, "FADT RESET_VALUE");
_Static_assert(offsetof(struct fadt, x_firmware_ctrl) == 132, "FADT X_FACS");
_Static_assert(offsetof(struct fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR");
_Static_assert(sizeof(struct fadt) == 276, "FADT 6.5");
#define FADT_V1_LEN 116		/* ACPI 1.0: through `flags` */
/* Where the fields the parser reads end, for the length checks. */
#define FADT_END(field) \
	(offsetof(struct fadt, field) + sizeof(((struct fadt *)0)->field))

/* FADT fixed feature flags (§5.2.9, Table 5.10). */
#define FADT_TMR_VAL_EXT	(1u << 8)	/* the PM timer is 32 bits */
#define FADT_RESET_REG_SUP	(1u << 10)
#define FADT_HW_REDUCED_ACPI	(1u << 20)	/* no PM timer, no SCI */

/* Firmware ACPI Control Structure (§5.2.10, Table 5.14): no checksum, no
 * SDT header; signature and length come first as in one. */
struct facs {
	char signature[4];		/* "FACS" */
	uint32_t length;		/* >= 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} ACPI_PACKED;
_Static_assert(sizeof(struct facs) == 64, "FACS");
_Static_assert(offsetof(struct facs, version) == 32, "FACS version");

/* Multiple APIC Description Table (§5.2.12, Table 5.19). */
struct madt {
	struct sdt_header header;	/* "APIC" */
	uint32_t local_apic_address;
	uint32_t flags;			/* bit 0: PCAT_COMPAT */
	/* followed by interrupt controller structures */
} ACPI_PACKED;
_Static_assert(sizeof(struct madt) == 44, "MADT");

/* Every interrupt controller structure starts with these (Table 5.21). */
struct madt_entry {
	uint8_t type;
	uint8_t length;
} ACPI_PACKED;

enum madt_type {
	MADT_LOCAL_APIC = 0,
	MADT_IO_APIC = 1,
	MADT_INT_SRC_OVERRIDE = 2,
	MADT_NMI_SOURCE = 3,
	MADT_LOCAL_APIC_NMI = 4,
	MADT_LOCAL_APIC_OVERRIDE = 5,
	MADT_LOCAL_X2APIC = 9,
	MADT_LOCAL_X2APIC_NMI = 10,
};

/* Processor Local APIC (§5.2.12.2, Table 5.22). */
struct madt_local_apic {
	struct madt_entry h;		/* type 0, length 8 */
	uint8_t acpi_processor_uid;
	uint8_t apic_id;
	uint32_t flags;			/* Table 5.23 */
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_local_apic) == 8, "MADT local APIC");

/* Local APIC flags (Table 5.23), also those of the x2APIC entry. */
#define MADT_ENABLED		0x1u
#define MADT_ONLINE_CAPABLE	0x2u

/* I/O APIC (§5.2.12.3, Table 5.24). */
struct madt_io_apic {
	struct madt_entry h;		/* type 1, length 12 */
	uint8_t io_apic_id;
	uint8_t reserved;
	uint32_t io_apic_address;
	uint32_t global_system_interrupt_base;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_io_apic) == 12, "MADT I/O APIC");

/* Interrupt Source Override (§5.2.12.5, Table 5.25). */
struct madt_int_src_override {
	struct madt_entry h;		/* type 2, length 10 */
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* bus-relative IRQ */
	uint32_t global_system_interrupt;
	uint16_t flags;			/* MPS INTI flags, Table 5.26 */
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_int_src_override) == 10, "MADT ISO");

/* Non-Maskable Interrupt Source (§5.2.12.6, Table 5.27). */
struct madt_nmi_source {
	struct madt_entry h;		/* type 3, length 8 */
	uint16_t flags;
	uint32_t global_system_interrupt;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_nmi_source) == 8, "MADT NMI source");

/* Local APIC NMI (§5.2.12.7, Table 5.28). */
struct madt_local_apic_nmi {
	struct madt_entry h;		/* type 4, length 6 */
	uint8_t acpi_processor_uid;	/* 0xff: all processors */
	uint16_t flags;
	uint8_t local_apic_lint;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_local_apic_nmi) == 6, "MADT LAPIC NMI");

/* Local APIC Address Override (§5.2.12.8, Table 5.29). */
struct madt_local_apic_override {
	struct madt_entry h;		/* type 5, length 12 */
	uint16_t reserved;
	uint64_t local_apic_address;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_local_apic_override) == 12,
    "MADT LAPIC address override");

/* Processor Local x2APIC (§5.2.12.12, Table 5.34). */
struct madt_local_x2apic {
	struct madt_entry h;		/* type 9, length 16 */
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;			/* as Table 5.23 */
	uint32_t acpi_processor_uid;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_local_x2apic) == 16, "MADT x2APIC");

/* Local x2APIC NMI (§5.2.12.13, Table 5.35). */
struct madt_local_x2apic_nmi {
	struct madt_entry h;		/* type 10, length 12 */
	uint16_t flags;
	uint32_t acpi_processor_uid;	/* 0xffffffff: all processors */
	uint8_t local_x2apic_lint;
	uint8_t reserved[3];
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_local_x2apic_nmi) == 12, "MADT x2APIC NMI");

/* PCI Express memory mapped configuration space base address description
 * table (PCI Firmware spec 3.2 §4.1.2, Tables 4-2 and 4-3). */
struct mcfg {
	struct sdt_header header;	/* "MCFG" */
	uint8_t reserved[8];
	/* followed by allocation structures */
} ACPI_PACKED;
_Static_assert(sizeof(struct mcfg) == 44, "MCFG");

struct mcfg_allocation {
	uint64_t base_address;		/* of bus 0, whatever start_bus is */
	uint16_t pci_segment_group;
	uint8_t start_bus_number;
	uint8_t end_bus_number;
	uint32_t reserved;
} ACPI_PACKED;
_Static_assert(sizeof(struct mcfg_allocation) == 16, "MCFG allocation");

/* HPET description table (IA-PC HPET spec 1.0a §3.2.4, Table 3). */
struct hpet_table {
	struct sdt_header header;	/* "HPET" */
	uint32_t event_timer_block_id;
	struct gas base_address;	/* system memory */
	uint8_t hpet_number;
	uint16_t main_counter_minimum_clock_tick;
	uint8_t page_protection;
} ACPI_PACKED;
_Static_assert(sizeof(struct hpet_table) == 56, "HPET table");
_Static_assert(offsetof(struct hpet_table, hpet_number) == 52, "HPET number");

/* DMA Remapping Reporting table (Intel VT-d 4.1 §8.1, Table 3): remapping
 * structures (DRHD, RMRR...) follow the fixed part. */
struct dmar {
	struct sdt_header header;	/* "DMAR" */
	uint8_t host_address_width;	/* the width less one */
	uint8_t flags;			/* ACPI_DMAR_* */
	uint8_t reserved[10];
} ACPI_PACKED;
_Static_assert(sizeof(struct dmar) == 48, "DMAR");
_Static_assert(offsetof(struct dmar, flags) == 37, "DMAR flags");

#endif
