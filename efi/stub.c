/*
 * stub.c - \EFI\BOOT\BOOTX64.EFI: the first Patchbay code the firmware runs.
 *
 * It reads \patchbay\hub.pe, \patchbay\boot.cfg and every \patchbay\mods\*.mod
 * from the partition it was loaded from, gathers the handoff (hub/handoff.h)
 * and calls the hub on a stack of its own.  The hub exits boot services
 * itself; the stub's firmware operations remain as its `firmware` resource.
 *
 *   qemu-system-x86_64 -machine q35 -drive if=pflash,... -hda build/patchbay.img
 */
#include "stub.h"
#include "../abi/rt/rt.h"

EFI_SYSTEM_TABLE *st;
EFI_BOOT_SERVICES *bs;
EFI_HANDLE image_handle;

#define HUB_PATH L"\\patchbay\\hub.pe"
#define CFG_PATH L"\\patchbay\\boot.cfg"
#define HUB_STACK (256u << 10)
#define HUB_POOL (32u << 20)

/* Call the hub with rcx = handoff on a fresh stack, keeping 32 bytes of
 * shadow space as the Microsoft x64 convention requires. */
static void
call_hub(hub_entry_fn fn, struct handoff *h, void *stack_top)
{
	__asm__ volatile(
	    "mov %%rsp, %%rbx\n\t"
	    "mov %2, %%rsp\n\t"
	    "sub $32, %%rsp\n\t"
	    "call *%0\n\t"
	    "mov %%rbx, %%rsp"
	    : : "r"(fn), "c"(h), "r"(stack_top)
	    : "rax", "rbx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
}

static EFI_STATUS
fail(const char *what, EFI_STATUS s)
{
	stub_printf("error: stub: %s: %s\n", what, efi_strerror(s));
	stub_printf("stub: returning to the firmware in 5 seconds\n");
	bs->Stall(5 * 1000 * 1000);
	return s;
}

static EFI_STATUS
alloc_pages(UINTN bytes, EFI_MEMORY_TYPE type, EFI_PHYSICAL_ADDRESS *addr)
{
	return bs->AllocatePages(AllocateAnyPages, type, bytes / 4096, addr);
}

EFI_STATUS EFIAPI
efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint64_t tsc0 = rdtsc();
	EFI_FILE_HANDLE root;
	EFI_PHYSICAL_ADDRESS hp, stack, pool;
	struct handoff *h;
	hub_entry_fn entry;
	void *hub_file, *cfg = NULL;
	UINTN hub_size, cfg_size = 0;
	EFI_STATUS s;

	st = systab;
	bs = systab->BootServices;
	image_handle = image;
	/* The firmware's 5-minute watchdog would reset a running system. */
	bs->SetWatchdogTimer(0, 0, 0, NULL);
	stub_printf("Patchbay stub: loading the hub\n");

	s = alloc_pages((sizeof(*h) + 4095) & ~4095ul, EfiLoaderData, &hp);
	if (EFI_ERROR(s))
		return fail("no memory for the handoff", s);
	h = (struct handoff *)(uintptr_t)hp;
	memset(h, 0, sizeof(*h));
	h->magic = HANDOFF_MAGIC;
	h->version = HANDOFF_VERSION;
	h->size = sizeof(*h);
	h->tsc_start = tsc0;

	if (EFI_ERROR((s = files_open_volume(&root))))
		return fail("cannot open the boot volume", s);
	if (EFI_ERROR((s = files_read(root, HUB_PATH, &hub_file, &hub_size))))
		return fail("cannot read \\patchbay\\hub.pe", s);
	s = files_read(root, CFG_PATH, &cfg, &cfg_size);
	if (EFI_ERROR(s) && s != EFI_NOT_FOUND)
		stub_printf("error: stub: cannot read \\patchbay\\boot.cfg: %s\n",
		    efi_strerror(s));
	s = files_read_mods(root, h);
	if (EFI_ERROR(s))
		stub_printf("error: stub: cannot list \\patchbay\\mods: %s\n",
		    efi_strerror(s));

	gather_fb(h);
	gather_acpi(h);
	gather_boot_device(h);
	gather_cmdline(h, cfg, cfg_size);
	gather_tsc(h);
	gather_props(h);

	if (EFI_ERROR((s = alloc_pages(HUB_STACK, EfiLoaderData, &stack))))
		return fail("no memory for the hub's stack", s);
	/* Module images are loaded into the pool: code pages, so firmware
	 * that maps loader data no-execute still runs them (memattr.c). */
	if (EFI_ERROR((s = alloc_pages(HUB_POOL, EfiLoaderCode, &pool))))
		return fail("no memory for the hub's pool", s);
	stub_make_executable(pool, HUB_POOL, "module pool");
	h->pool_base = pool;
	h->pool_size = HUB_POOL;
	if (EFI_ERROR((s = hub_load(hub_file, hub_size, h, &entry))))
		return fail("cannot load \\patchbay\\hub.pe", s);
	firmware_setup(h, root);
	if (!h->memmap)
		return fail("cannot read the memory map", EFI_OUT_OF_RESOURCES);

	h->stub_text = stub_text;
	h->stack_base = stack;
	h->stack_size = HUB_STACK;
	call_hub(entry, h, (void *)(uintptr_t)(stack + HUB_STACK));
	return fail("the hub returned", EFI_LOAD_ERROR);
}
