/*
 * pci.h - interface `pci` 1.0: one PCI function, for the one driver bound
 * to it.
 *
 * The `pci` module publishes one resource per function, named by its
 * address (`pci:00:1f.2`), with properties bind rules match on:
 *   bdf=00:1f.2 seg=0 vendor=8086 device=2922 class=01.06.01
 *   subsys=1af4:1100 rev=02 irq-pin=1 bar0=mem32:0xfebd1000+0x1000
 *   bar2=mem64p:0x800000000+0x4000 caps=msi,msix,pcie
 * (caps may also list `flr`: the function can be reset on its own, which
 * pci does when its driver faulted, the resource withdrawn meanwhile).
 * Each resource accepts a single client (the bound driver): config space,
 * BARs, decoding, bus mastering and MSI belong to it and nobody else.
 * Offsets and widths follow PCI Local Bus 3.0 §6 / PCIe 5.0 §7.
 */
#ifndef PB_ABI_PCI_H
#define PB_ABI_PCI_H

#include <stdint.h>

#include "pb.h"

#define PCI_IFACE "pci"
#define PCI_MAJOR 1
#define PCI_MINOR 0

/* Configuration header registers (PCI 3.0 §6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400

/* Capability IDs (PCI Code and ID Assignment §2). */
#define PCI_CAP_MSI	0x05
#define PCI_CAP_PCIE	0x10
#define PCI_CAP_MSIX	0x11

enum pci_bar_kind {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO = 1,
	PCI_BAR_MEM32 = 2,
	PCI_BAR_MEM64 = 3,
};

struct pci_bar {
	uint64_t base;		/* bus address as the firmware assigned it */
	uint64_t size;		/* 0: not implemented */
	uint8_t kind;		/* enum pci_bar_kind */
	uint8_t prefetchable;
	uint16_t reserved;
	uint32_t reserved2;
};

/* What the pci module found out about the function. */
struct pci_func_info {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint8_t header_type;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_pin;		/* 1-4: INTA-INTD, 0: none */
	uint8_t irq_line;		/* as the firmware left it */
	uint8_t cap_msi, cap_msix, cap_pcie;	/* config offsets, 0 if absent */
	uint8_t reserved;
	uint16_t msix_entries;
	struct pci_bar bars[6];
};

enum pci_irq_kind { PCI_IRQ_MSI = 1, PCI_IRQ_MSIX = 2 };

struct pci_ops {
	int (*info)(void *ctx, struct pci_func_info *info);
	/* Config space: width 1, 2 or 4, offset aligned to it. */
	int (*cfg_read)(void *ctx, uint16_t off, unsigned width, uint32_t *v);
	int (*cfg_write)(void *ctx, uint16_t off, unsigned width, uint32_t v);
	/* Turn PCI_CMD_* bits on (on=1) or off. */
	int (*enable)(void *ctx, uint16_t cmd_bits, int on);
	/* Map a memory BAR into the client's ledger (uncached unless asked
	 * otherwise: PB_CACHE_WC for framebuffers).  `client` is the
	 * caller's own self. */
	void *(*map_bar)(void *ctx, struct pb_module *client, unsigned bar,
	    int cache);
	/* Program MSI (entry 0 only) or MSI-X table entry `entry` with the
	 * message the irq provider gave, and enable it (INTx goes off). */
	int (*msi_enable)(void *ctx, int kind, unsigned entry, uint64_t addr,
	    uint32_t data);
	/* Turn MSI and MSI-X off again. */
	int (*msi_disable)(void *ctx);
};

#endif
