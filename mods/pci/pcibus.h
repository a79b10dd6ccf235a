/*
 * pcibus.h - the pci module's parts and what they share.
 *
 *   pci.c      descriptor, start/stop, the acpi connection, publishing
 *   ecam.c     configuration access through ECAM (PCIe 5.0 §7.2.2)
 *   portcfg.c  configuration access through ports 0xCF8/0xCFC
 *              (PCI 3.0 §3.2.2.3.2), when there is no MCFG
 *   enum.c     walking the buses: devices, functions, bridges
 *   bar.c      sizing the BARs (PCI 3.0 §6.2.5.1)
 *   caps.c     the capability list (PCI 3.0 §6.7)
 *   props.c    the resource's property line
 *   ops.c      struct pci_ops: what the bound driver may do
 *   msi.c      MSI and MSI-X programming (PCI 3.0 §6.8)
 *   flr.c      function-level reset when a driver faulted (PCIe 3.0
 *              §6.6.2, PCI Advanced Features ECN)
 *   xhcileg.c  whether an xHCI's firmware SMIs may be armed (xHCI 1.2
 *              §7.1), before its bus mastering goes off
 *
 * Every configuration access goes through a segment's struct cfg_ops, so
 * ECAM, port I/O and the host tests' model of a bus share the rest.
 * Rules: while a function's decode is off for BAR sizing nothing is
 * printed (the console may be that device); every walk is bounded (a bus
 * is visited once, a capability list has at most CAPS_MAX entries).
 */
#ifndef PB_PCIBUS_H
#define PB_PCIBUS_H

#include "../../abi/pbmod.h"
#include "../../abi/pci.h"
#include "../../abi/acpi.h"
#include "../../abi/mmio.h"

#define PCI_MAX_SEGMENTS ACPI_MAX_ECAM
#define PCI_MAX_FUNCS	256	/* a big PC has 40-60 */
#define PCI_NBUS	256
#define PCI_NDEV	32
#define PCI_NFN		8
#define PCI_PROPS_MAX	256	/* the hub's property line */
#define PCI_ECAM_SIZE	4096	/* config bytes per function, ECAM */
#define PCI_LEGACY_SIZE	256	/* through ports 0xCF8/0xCFC */

/* Header registers pci.h leaves out (PCI 3.0 §6.1, PCI-PCI bridge 1.2
 * §3.2). */
#define PCI_STATUS_CAPS		0x0010	/* capabilities list present */
#define PCI_HDR_MULTIFN		0x80
#define PCI_HDR_TYPE_MASK	0x7f
#define PCI_HDR_NORMAL		0
#define PCI_HDR_BRIDGE		1
#define PCI_HDR_CARDBUS		2
#define PCI_SUBSYS_VENDOR	0x2c	/* type 0 only */
#define PCI_SUBSYS_ID		0x2e
#define PCI_PRIMARY_BUS		0x18	/* type 1 */
#define PCI_SECONDARY_BUS	0x19
#define PCI_SUBORDINATE_BUS	0x1a
#define PCI_CARDBUS_CAP_PTR	0x14	/* type 2 */

/* How configuration space is reached: one per segment. */
struct cfg_ops {
	uint32_t (*read)(void *ctx, unsigned bus, unsigned dev, unsigned fn,
	    unsigned off, unsigned width);
	void (*write)(void *ctx, unsigned bus, unsigned dev, unsigned fn,
	    unsigned off, unsigned width, uint32_t v);
};

struct segment {
	uint16_t number;
	uint8_t bus_start, bus_end;
	uint16_t cfg_size;	/* PCI_ECAM_SIZE or PCI_LEGACY_SIZE */
	const char *how;	/* "ECAM" or "port I/O" */
	const struct cfg_ops *ops;
	void *ctx;
	void *ecam;		/* ECAM: bus_start's mapping, in our ledger */
};

/* Why a BAR is unusable (BAR_OK: it is usable, or not implemented). */
enum bar_why {
	BAR_OK = 0,
	BAR_ABSENT,		/* reads all ones: the function went away */
	BAR_TYPE_CHANGED,	/* the read-only type bits changed */
	BAR_RESERVED_TYPE,	/* memory type 3 */
	BAR_64_LAST,		/* a 64-bit BAR in the last slot */
	BAR_NOT_POW2,		/* the size mask is not 1...10...0 */
	BAR_MISALIGNED,		/* base not a multiple of the size */
};

/* How a function can be reset on its own (flr.c). */
enum flr_kind {
	FLR_NONE = 0,
	FLR_PCIE,		/* PCIe DevCap bit 28 */
	FLR_AF,			/* Advanced Features: TP and FLR */
};

struct func {
	struct segment *seg;
	struct pci_func_info info;
	uint8_t nbars;		/* 6 for type 0, 2 for bridges, 0 else */
	uint8_t bar_why[6];	/* enum bar_why */
	uint32_t bar_mask[6];	/* what sizing read back, for the log */
	/* What enumeration found, put back after a reset (flr.c). */
	uint32_t bar_orig[6];
	uint16_t cmd_orig;
	uint8_t cap_af;		/* Advanced Features capability, 0: none */
	uint8_t flr;		/* enum flr_kind */
	uint8_t client_faulted;	/* its driver faulted: reset as it goes */
	uint8_t resetting;	/* reset under way: not published */
	uint8_t reset_polls;	/* readiness checks after it */
	/* MSI-X (PCI 3.0 §6.8.2.4): the table's BAR and offset. */
	uint8_t msix_bir;
	uint32_t msix_offset;
	volatile uint32_t *msix_table;	/* mapped on first use, our ledger */
	uint32_t msix_mapped;		/* bytes mapped */
	struct pb_resource *res;
	char name[24];		/* "00:1f.2", "0001:00:1f.2" */
};

struct pcibus {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *acpi;	/* requirement 0, may be NULL */
	struct segment seg[PCI_MAX_SEGMENTS];
	unsigned nseg;
	/* The functions found: the table grows as the walk finds them
	 * (enum.c), so a machine holds pages for what it has. */
	struct func *funcs;
	unsigned nfuncs, cap;
	unsigned dropped;	/* functions beyond PCI_MAX_FUNCS */
};

extern struct pcibus pci;

#define pci_log(level, ...) pb_logf(pci.hub, pci.self, level, __VA_ARGS__)

/* Configuration access of one function. */
uint32_t cfg_read(const struct func *f, unsigned off, unsigned width);
void cfg_write(const struct func *f, unsigned off, unsigned width,
    uint32_t v);

/* ecam.c / portcfg.c: set up segment s; PB_OK or why not. */
int ecam_open(struct segment *s, const struct acpi_ecam *e);
void ecam_close(struct segment *s);
int portcfg_open(struct segment *s);
extern const struct cfg_ops ecam_ops, portcfg_ops;

/* enum.c: every function reachable from the segment's start bus;
 * funcs_free gives the table back. */
void enum_segment(struct segment *s);
void funcs_free(void);

/* bar.c */
void bars_size(struct func *f);
void bars_report(const struct func *f);

/* caps.c */
void caps_read(struct func *f);

/* flr.c: how f can be reset; reset it (its resource withdrawn until it
 * is back, then published again).  PB_OK: under way. */
void flr_probe(struct func *f);
int flr_start(struct func *f);

/* xhcileg.c: is f an xHCI (class 0c.03.30); are its firmware's SMIs
 * known off (1), or may they be armed (0, why says what was seen)? */
int func_is_xhci(const struct func *f);
int xhci_smis_off(const struct func *f, char *why, size_t cap);

/* pci.c: publish f's resource (again). */
void func_publish(struct func *f);

/* props.c: the property line; returns how many BARs did not fit. */
unsigned props_format(const struct func *f, char *buf, size_t cap);

/* ops.c */
extern const struct pci_ops pci_func_ops;

/* msi.c */
int msi_enable(struct func *f, int kind, unsigned entry, uint64_t addr,
    uint32_t data);
int msi_disable(struct func *f);
void msix_unmap(struct func *f);

#endif
