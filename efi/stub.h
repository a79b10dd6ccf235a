/*
 * stub.h - the UEFI stub: reads the hub and the modules from the ESP,
 * gathers the handoff and starts the hub.
 *
 * The only part of Patchbay that includes gnu-efi's headers.  Everything
 * here runs under boot services.  Messages go to ConOut, which OVMF also
 * copies to the serial port, and errors start with "error: stub: ".
 */
#ifndef PB_EFI_STUB_H
#define PB_EFI_STUB_H

#include <efi.h>

#include "../hub/handoff.h"

extern EFI_SYSTEM_TABLE *st;
extern EFI_BOOT_SERVICES *bs;
extern EFI_HANDLE image_handle;

/* console.c */
extern char stub_text[HANDOFF_STUB_TEXT];
void stub_write(const char *s, size_t len);
void stub_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *efi_strerror(EFI_STATUS s);
size_t utf16_to_utf8(const CHAR16 *in, size_t inlen, char *out, size_t cap);

/* files.c */
EFI_STATUS files_open_volume(EFI_FILE_HANDLE *root);
EFI_STATUS files_read(EFI_FILE_HANDLE root, const CHAR16 *path, void **data,
    UINTN *size);
EFI_STATUS files_read_mods(EFI_FILE_HANDLE root, struct handoff *h);

/* gather.c */
void gather_fb(struct handoff *h);
void gather_acpi(struct handoff *h);
void gather_boot_device(struct handoff *h);
void gather_cmdline(struct handoff *h, const void *cfg, UINTN cfg_size);
void gather_tsc(struct handoff *h);
void gather_props(struct handoff *h);	/* props.c, after the others */

/* firmware.c */
extern int stub_booted;		/* boot services have not been exited */
void firmware_setup(struct handoff *h, EFI_FILE_HANDLE root);
/* pagetables.c: the boot map's pages set aside, then the map built. */
void pagetables_reserve(struct handoff *h);
void pagetables_build(struct handoff *h);

/* disk.c: firmware 1.1's disks (abi/firmware.h) */
void device_identity(EFI_HANDLE h, char *out, size_t cap);
int fw_disk_info(void *ctx, unsigned index, struct firmware_disk *out);
int fw_disk_io(void *ctx, unsigned index, uint32_t media_id, int write,
    uint64_t lba, void *buf, size_t len);
int fw_disk_flush(void *ctx, unsigned index);

/* dmaoff.c: bus mastering off on storage and network functions; the
 * candidates gathered at the start, their COMMAND at the exit (segment 0
 * after it, the others before). */
void dma_off_gather(void);
void dma_off_before_exit(struct handoff *h);
void dma_off_after_exit(struct handoff *h);

/* watch.c: the firmware timer event of the hub's watchdog */
void watch_setup(struct handoff *h);
void watch_close(void);

/* memattr.c */
void stub_make_executable(EFI_PHYSICAL_ADDRESS base, UINT64 len,
    const char *what);

/* hubload.c */
EFI_STATUS hub_load(const void *file, UINTN size, struct handoff *h,
    hub_entry_fn *entry);

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
