/*
 * handoff.h - what the UEFI stub gives the hub.
 *
 * The stub (efi/) fills this while boot services run and calls the hub's
 * entry with it.  Only plain data and the firmware operations cross: the
 * hub never includes UEFI headers.  Memory descriptors keep UEFI's layout
 * (UEFI 2.10 §7.2, EFI_MEMORY_DESCRIPTOR) and are walked by desc_size,
 * which the firmware may make larger than the struct.
 */
#ifndef PB_HUB_HANDOFF_H
#define PB_HUB_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/firmware.h"

#define HANDOFF_MAGIC 0x46464f4448425050ull	/* "PPBHDOFF" */
#define HANDOFF_VERSION 2

/* UEFI memory types we act on (UEFI 2.10 Table 7-6). */
enum {
	EFI_MT_RESERVED = 0,
	EFI_MT_LOADER_CODE = 1,
	EFI_MT_LOADER_DATA = 2,
	EFI_MT_BS_CODE = 3,
	EFI_MT_BS_DATA = 4,
	EFI_MT_RT_CODE = 5,
	EFI_MT_RT_DATA = 6,
	EFI_MT_CONVENTIONAL = 7,
	EFI_MT_UNUSABLE = 8,
	EFI_MT_ACPI_RECLAIM = 9,
	EFI_MT_ACPI_NVS = 10,
	EFI_MT_MMIO = 11,
	EFI_MT_MMIO_PORT = 12,
	EFI_MT_PAL = 13,
	EFI_MT_PERSISTENT = 14,
};

struct handoff_memdesc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys;
	uint64_t virt;
	uint64_t npages;	/* 4 KiB pages */
	uint64_t attr;
};
_Static_assert(sizeof(struct handoff_memdesc) == 40, "EFI_MEMORY_DESCRIPTOR");

/* A PCI function, as EFI_PCI_IO_PROTOCOL.GetLocation gives it. */
#define HANDOFF_DMA_OFF_MAX 8
struct handoff_pci_loc {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint8_t stopped;	/* COMMAND read back without bus mastering */
	uint8_t reserved[2];
};
_Static_assert(sizeof(struct handoff_pci_loc) == 8, "handoff_pci_loc");

/* Pixel formats, GOP's EFI_GRAPHICS_PIXEL_FORMAT (UEFI 2.10 §12.9). */
enum handoff_pixfmt {
	HANDOFF_PIX_RGBX = 0,	/* byte 0 red */
	HANDOFF_PIX_BGRX = 1,	/* byte 0 blue */
	HANDOFF_PIX_BITMASK = 2,
	HANDOFF_PIX_BLT_ONLY = 3,	/* no framebuffer */
	HANDOFF_PIX_NONE = 4,	/* no GOP at all */
};

struct handoff_fb {
	uint64_t base;
	uint64_t size;
	uint32_t width, height;
	uint32_t stride;	/* pixels per scan line */
	uint32_t format;	/* enum handoff_pixfmt */
	uint32_t mask_r, mask_g, mask_b, mask_x;	/* for BITMASK */
	uint32_t mode;		/* GOP mode number */
	uint32_t pad;
};

/* One file of the boot ramdisk. */
struct handoff_file {
	char name[64];		/* e.g. "serial.mod" */
	const void *data;	/* NULL: could not be read */
	uint64_t size;
	int32_t status;		/* 0, or why it could not be read */
	uint32_t pad;
};

#define HANDOFF_MAX_FILES 128
#define HANDOFF_MAX_SECTIONS 16
#define HANDOFF_CMDLINE_MAX 8192

struct handoff {
	uint64_t magic;
	uint32_t version;
	uint32_t size;		/* sizeof(struct handoff) */

	/* The memory map: refreshed by exit_boot_services(). */
	struct handoff_memdesc *memmap;
	uint64_t memmap_size;	/* bytes used */
	uint64_t memmap_cap;	/* bytes available */
	uint64_t desc_size;

	struct handoff_fb fb;
	uint64_t rsdp;		/* physical address, 0 if none */
	uint32_t acpi_rev;	/* 2 when the RSDP came from the ACPI 2.0 GUID */
	uint32_t pad;

	char boot_device[256];	/* device path as text */
	/* The boot partition's identity, spelled as block resources' path=
	 * (pci:00:1f.2/sata:0/part:1), or its device path as text. */
	char boot_path[128];
	char cmdline[HANDOFF_CMDLINE_MAX];	/* load options, then boot.cfg */

	uint64_t tsc_start;	/* TSC at stub entry */
	uint64_t tsc_hz;	/* measured against the firmware's Stall() */

	/* Memory the stub set aside for the hub before ExitBootServices. */
	uint64_t pool_base;
	uint64_t pool_size;

	/* The hub image as loaded. */
	uint64_t hub_base;
	uint64_t hub_size;

	uint32_t nfiles;
	uint32_t pad2;
	struct handoff_file files[HANDOFF_MAX_FILES];

	/* The firmware, and the one call only the hub makes. */
	const struct firmware_ops *fw;
	void *fw_ctx;
	/* Exit boot services, retrying on a stale map key; refreshes memmap.
	 * After success, only fw->get_time and fw->reset may be called.
	 * Fails with PB_ENOMEM when no ExitBootServices call was made (the
	 * firmware is intact); any other error means a call was made and
	 * failed, after which the firmware may have shut down in part (UEFI
	 * 2.10 §7.4.6): the boot-services operations answer PB_ENOTSUP from
	 * the first call on, success or not. */
	int (*exit_boot_services)(struct handoff *h);
	uint32_t exit_tries;	/* ExitBootServices calls made */
	/* Set by the hub from boot.cfg efi-exit-fail=N (tests): the first N
	 * tries act as if the map key were stale, without calling it. */
	uint32_t exit_fail_test;
	/* After ExitBootServices, before the hub takes the firmware's
	 * boot-services memory, quiet_dma turns bus mastering off on the
	 * storage and network functions that have it on (efi/dmaoff.c; one
	 * on a segment other than 0, within exit_boot_services), unless the
	 * hub set dma_off_keep (boot.cfg firmware-dma=keep); it lists the
	 * first HANDOFF_DMA_OFF_MAX, stopped 0 for one whose COMMAND still
	 * read bus mastering on. */
	void (*quiet_dma)(struct handoff *h);
	uint32_t dma_off_keep;
	uint32_t dma_off_count;
	struct handoff_pci_loc dma_off[HANDOFF_DMA_OFF_MAX];

	/* What the stub wrote on ConOut, lines ending in "\n", NUL-
	 * terminated (what fits in HANDOFF_STUB_TEXT bytes, first come
	 * first kept): the hub keeps them in its log.  Read in the firmware
	 * phase only. */
	const char *stub_text;
	/* The stack the stub calls the hub on: its lowest page becomes the
	 * guard page once the hub's page tables are on. */
	uint64_t stack_base;
	uint64_t stack_size;

	/* The watchdog before the takeover: a periodic firmware timer event
	 * (EVT_TIMER | EVT_NOTIFY_SIGNAL, TPL_CALLBACK) whose notify function
	 * calls tick() every period_ms; 0 closes it, and so does
	 * exit_boot_services. */
	int (*fw_watch)(uint32_t period_ms, void (*tick)(void));

	/* The hub image's sections as the stub loaded them (hub/pe.c), so
	 * the hub maps itself W^X without reading its own headers. */
	uint32_t hub_nsections;
	uint32_t pad3;
	struct handoff_section {
		uint32_t rva, size;
		uint32_t prot;		/* PE_PROT_* (hub/pe.h) */
	} hub_sections[HANDOFF_MAX_SECTIONS];

	/* The boot map (efi/pagetables.c): the identity map up to
	 * boot_map_top that the stub's build_boot_map makes from the final
	 * memory map (boot_pml4 0 if it could not), for the hub to load.  The
	 * hub calls it once the takeover's swaps are done, not inside their
	 * blackout (under emulation the build takes milliseconds); it calls
	 * no firmware.  Its tables are the first pt_used of pt_pages pages at
	 * pt_base (loader data); the hub takes back the rest. */
	void (*build_boot_map)(struct handoff *h);
	uint64_t boot_pml4;
	uint64_t boot_map_top;
	uint64_t pt_base;
	uint32_t pt_pages, pt_used;
	/* Its regions, which say what the hub may map as device memory. */
	const struct boot_region *boot_region_table;	/* x86_64/pte.h */
	uint32_t boot_regions;
	uint32_t boot_regions_dropped;	/* past the stub's table */

	/* What the CPU's page tables can do (CPUID, read by the stub): NX
	 * (PTE_NX or 0), 1 << MAXPHYADDR, and a PAT (1) or none (0). */
	uint64_t cpu_nx;
	uint64_t cpu_phys_limit;
	uint32_t cpu_pat;
	uint32_t pad5;

	/* The properties of framebuffer:gop0, rsdp:uefi and config:boot,
	 * which the hub publishes (efi/props.c); "" when there is none. */
	char fb_props[128];
	char rsdp_props[64];
	char config_props[256];		/* RES_PROPS_MAX */
};

#define HANDOFF_STUB_TEXT 2048

typedef void (*hub_entry_fn)(struct handoff *h);

#endif
