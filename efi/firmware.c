/*
 * firmware.c - the `firmware` operations the hub publishes as a resource,
 * and ExitBootServices (the disks are in disk.c).
 *
 * Boot-services operations check `stub_booted` (cleared when boot services
 * are exited) and answer PB_ENOTSUP afterwards rather than calling into a
 * firmware that is gone.  Runtime services stay callable: we never call
 * SetVirtualAddressMap, and the hub's page tables map them 1:1.
 */
#include "stub.h"
#include "../abi/pb.h"
#include "../abi/rt/rt.h"

int stub_booted = 1;
static EFI_FILE_HANDLE boot_root;

static int
fw_con_write(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	stub_write(s, len);
	return PB_OK;
}

/*
 * ConIn's keys, read last thing before ExitBootServices: a key that
 * reached the UART after efi-console's last read, and that the firmware's
 * terminal moved into ConIn before the exit, would go with the firmware.
 * fw_con_read_key serves them first, after the exit too: the firmware
 * keyboard exports its state once more after the exit (hub/swap.c,
 * export_again), so they go to the native keyboard; or, kept because no
 * native keyboard took its keys (hub/kbdhold.c), it reads them when told
 * the firmware went.
 */
#define LATE_KEYS 32
static EFI_INPUT_KEY late_keys[LATE_KEYS];
static unsigned nlate, late_next;

static void
read_late_keys(void)
{
	while (nlate < LATE_KEYS && !EFI_ERROR(st->ConIn->ReadKeyStroke(
	    st->ConIn, &late_keys[nlate])))
		nlate++;
}

static int
fw_con_read_key(void *ctx, struct firmware_key *key)
{
	EFI_INPUT_KEY k;
	EFI_STATUS s;

	(void)ctx;
	if (late_next < nlate) {
		k = late_keys[late_next++];
	} else if (!stub_booted) {
		return PB_ENOTSUP;
	} else {
		s = st->ConIn->ReadKeyStroke(st->ConIn, &k);
		if (EFI_ERROR(s))
			return s == EFI_NOT_READY ? PB_EAGAIN : PB_EIO;
	}
	key->ch = k.UnicodeChar;
	key->scan = k.ScanCode;
	key->reserved = 0;
	return PB_OK;
}

static int
fw_con_clear(void *ctx)
{
	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	return EFI_ERROR(st->ConOut->ClearScreen(st->ConOut)) ? PB_EIO : PB_OK;
}

static int
fw_con_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	UINTN c, r;

	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	if (EFI_ERROR(st->ConOut->QueryMode(st->ConOut, st->ConOut->Mode->Mode,
	    &c, &r)))
		return PB_EIO;
	*cols = (uint32_t)c;
	*rows = (uint32_t)r;
	return PB_OK;
}

static int
fw_read_file(void *ctx, const char *path, void **data, size_t *len)
{
	CHAR16 wpath[256];
	UINTN size, i;
	EFI_STATUS s;

	(void)ctx;
	if (!stub_booted || !boot_root)
		return PB_ENOTSUP;
	for (i = 0; path[i] && i + 1 < 256; i++)
		wpath[i] = path[i] == '/' ? L'\\' : (unsigned char)path[i];
	wpath[i] = 0;
	s = files_read(boot_root, wpath, data, &size);
	if (s == EFI_NOT_FOUND)
		return PB_ENOENT;
	if (EFI_ERROR(s))
		return PB_EIO;
	*len = size;
	return PB_OK;
}

static int
fw_get_time(void *ctx, struct firmware_time *t)
{
	EFI_TIME et;

	(void)ctx;
	if (EFI_ERROR(st->RuntimeServices->GetTime(&et, NULL)))
		return PB_EIO;
	*t = (struct firmware_time){
		.year = et.Year, .month = et.Month, .day = et.Day,
		.hour = et.Hour, .minute = et.Minute, .second = et.Second,
		.nanosecond = et.Nanosecond, .tz_minutes = et.TimeZone,
		.daylight = et.Daylight,
	};
	return PB_OK;
}

static void
fw_reset(void *ctx, int kind)
{
	EFI_RESET_TYPE type = kind == FIRMWARE_RESET_SHUTDOWN ? EfiResetShutdown :
	    kind == FIRMWARE_RESET_WARM ? EfiResetWarm : EfiResetCold;

	(void)ctx;
	st->RuntimeServices->ResetSystem(type, EFI_SUCCESS, 0, NULL);
}

static const struct firmware_ops fw_ops = {
	.con_write = fw_con_write,
	.con_read_key = fw_con_read_key,
	.con_clear = fw_con_clear,
	.con_size = fw_con_size,
	.read_file = fw_read_file,
	.get_time = fw_get_time,
	.reset = fw_reset,
	.disk_info = fw_disk_info,
	.disk_io = fw_disk_io,
	.disk_flush = fw_disk_flush,
};

/* UEFI 2.9 lets a loader allocate memory between ExitBootServices tries,
 * and firmware that is older does not mind in practice: a map that outgrew
 * its slack gets a bigger buffer. */
static int
grow_map(struct handoff *h, UINTN need)
{
	void *buf;

	need += 16 * h->desc_size;
	if (EFI_ERROR(bs->AllocatePool(EfiLoaderData, need, &buf)))
		return 0;
	h->memmap = buf;
	h->memmap_cap = need;
	return 1;
}

#define EXIT_TRIES 64	/* Limine allows 128, Linux 2; events rarely fire twice */

/*
 * UEFI 2.10 §7.4.6: ExitBootServices fails with EFI_INVALID_PARAMETER when
 * the map key is stale (an event allocated memory after GetMemoryMap), and
 * then only GetMemoryMap and memory allocation may be called before trying
 * again: the firmware may already have shut down in part.  So from the
 * first call on, the boot-services operations are fenced (stub_booted 0),
 * whatever the outcome.
 */
static int
exit_tries(struct handoff *h)
{
	for (uint32_t tries = 0; tries < EXIT_TRIES; tries++) {
		UINTN size = h->memmap_cap, key, dsize;
		UINT32 dver;
		EFI_STATUS s;

		s = bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)h->memmap,
		    &key, &dsize, &dver);
		if (s == EFI_BUFFER_TOO_SMALL && grow_map(h, size))
			s = bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)
			    h->memmap, &key, &dsize, &dver);
		if (EFI_ERROR(s))
			return h->exit_tries ? PB_EIO : PB_ENOMEM;
		h->memmap_size = size;
		h->desc_size = dsize;
		stub_booted = 0;
		h->exit_tries++;
		if (h->exit_tries <= h->exit_fail_test)
			s = EFI_INVALID_PARAMETER;
		else
			s = bs->ExitBootServices(image_handle, key);
		if (!EFI_ERROR(s))
			return PB_OK;
		if (s != EFI_INVALID_PARAMETER)
			return PB_EIO;
	}
	return PB_ETIMEDOUT;
}

/* Once a call was made, the firmware is gone or going: the hub then has
 * the boot map built from the last map read (build_boot_map). */
static int
exit_boot_services(struct handoff *h)
{
	watch_close();
	dma_off_before_exit(h);
	read_late_keys();
	return exit_tries(h);
}

void
firmware_setup(struct handoff *h, EFI_FILE_HANDLE root)
{
	UINTN size = 0, key, dsize;
	UINT32 dver;
	void *buf;

	boot_root = root;
	h->fw = &fw_ops;
	h->fw_ctx = NULL;
	h->exit_boot_services = exit_boot_services;
	h->build_boot_map = pagetables_build;
	h->quiet_dma = dma_off_after_exit;
	watch_setup(h);
	dma_off_gather();
	/* Size the map once now, with room for the allocations still to come. */
	bs->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
	size += 64 * dsize;
	if (EFI_ERROR(bs->AllocatePool(EfiLoaderData, size, &buf)))
		return;
	h->memmap = buf;
	h->memmap_cap = size;
	h->desc_size = dsize;
	size = h->memmap_cap;
	if (!EFI_ERROR(bs->GetMemoryMap(&size, buf, &key, &dsize, &dver)))
		h->memmap_size = size;
	pagetables_reserve(h);
}
