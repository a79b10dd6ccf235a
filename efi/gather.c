/*
 * gather.c - collect the handoff: framebuffer, ACPI, boot device, command
 * line and TSC rate, each converted to the hub's plain form here, at the
 * firmware boundary.
 */
#include "stub.h"
#include "fbfit.h"
#include "../abi/rt/rt.h"

static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID devpath_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static EFI_GUID totext_guid = EFI_DEVICE_PATH_TO_TEXT_PROTOCOL_GUID;

/* UEFI 2.10 §12.1: the protocol a console-out device's handle carries. */
static EFI_GUID conout_dev_guid = { 0xd3b36f2c, 0xd551, 0x11d4,
    { 0x9a, 0x46, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } };

/*
 * Some firmware leaves a GOP unstarted until a mode is set: QueryMode
 * answers EFI_NOT_STARTED (UEFI 2.10 §12.9, "call SetMode()") and Mode
 * describes nothing yet, so the machine would run without a framebuffer.
 * Such a GOP is started in the mode it names (0 if it names none);
 * GRUB's and Limine's loaders do the same.  A started GOP is left as it
 * is: SetMode clears the screen.
 */
static void
gop_start(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = NULL;
	UINTN size = 0;
	UINT32 mode = 0;
	EFI_STATUS st;

	if (gop->Mode && gop->Mode->Mode < gop->Mode->MaxMode)
		mode = gop->Mode->Mode;
	st = gop->QueryMode(gop, mode, &size, &info);
	if (!EFI_ERROR(st) && info)
		bs->FreePool(info);	/* callee-allocated (§12.9) */
	if (st != EFI_NOT_STARTED)
		return;
	st = gop->SetMode(gop, mode);
	stub_printf("stub: display: GOP not started; SetMode(%u): %s\n",
	    (unsigned)mode, EFI_ERROR(st) ? "failed" : "started");
}

static int
gop_has_framebuffer(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	return gop && gop->Mode && gop->Mode->Info &&
	    gop->Mode->Info->PixelFormat != PixelBltOnly &&
	    gop->Mode->Info->PixelFormat < PixelFormatMax &&
	    gop->Mode->FrameBufferBase;
}

/*
 * The GOP to hand over.  Hybrid graphics and docks expose several: prefer
 * one with a framebuffer on a handle that is also a console-out device
 * (where the firmware draws its console), then any with a framebuffer,
 * then the first (blt-only: no framebuffer).  Linux's EFI stub chooses
 * the same way.
 */
static EFI_GRAPHICS_OUTPUT_PROTOCOL *
find_gop(UINTN *count, int *on_conout)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *best = NULL, *first = NULL, *gop;
	EFI_HANDLE *handles = NULL;
	void *dummy;

	*count = 0;
	*on_conout = 0;
	if (EFI_ERROR(bs->LocateHandleBuffer(ByProtocol, &gop_guid, NULL, count,
	    &handles)) || !handles) {
		*count = 0;
		if (EFI_ERROR(bs->LocateProtocol(&gop_guid, NULL,
		    (void **)&gop)) || !gop)
			return NULL;
		*count = 1;
		gop_start(gop);
		return gop;
	}
	for (UINTN i = 0; i < *count; i++) {
		if (EFI_ERROR(bs->HandleProtocol(handles[i], &gop_guid,
		    (void **)&gop)) || !gop)
			continue;
		gop_start(gop);
		if (!first)
			first = gop;
		if (!gop_has_framebuffer(gop))
			continue;
		if (!EFI_ERROR(bs->HandleProtocol(handles[i], &conout_dev_guid,
		    &dummy))) {
			best = gop;
			*on_conout = 1;
			break;
		}
		if (!best)
			best = gop;
	}
	bs->FreePool(handles);
	return best ? best : first;
}

/* The mode's framebuffer must hold it; say so once when it does not. */
static int
fb_usable(struct handoff_fb *fb)
{
	uint64_t need = fb_bytes_needed(fb->width, fb->height, fb->stride);

	if (!need) {
		stub_printf("error: stub: display: GOP mode %ux%u with %u pixels "
		    "a line is impossible; no framebuffer\n", fb->width,
		    fb->height, fb->stride);
		return 0;
	}
	if (fb->size && fb->size < need) {
		stub_printf("error: stub: display: framebuffer of %llu bytes "
		    "cannot hold %ux%u (%llu bytes); no framebuffer\n",
		    (unsigned long long)fb->size, fb->width, fb->height,
		    (unsigned long long)need);
		return 0;
	}
	if (!fb->size)
		fb->size = need;
	return 1;
}

void
gather_fb(struct handoff *h)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
	struct handoff_fb *fb = &h->fb;
	UINTN count;
	int on_conout;

	fb->format = HANDOFF_PIX_NONE;
	if (!(gop = find_gop(&count, &on_conout)) || !gop->Mode ||
	    !gop->Mode->Info)
		return;
	if (count > 1)
		stub_printf("stub: display: %u GOPs; using %s\n",
		    (unsigned)count, on_conout ? "the console-out device's" :
		    "the first with a framebuffer");
	mi = gop->Mode->Info;
	fb->base = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = mi->HorizontalResolution;
	fb->height = mi->VerticalResolution;
	fb->stride = mi->PixelsPerScanLine;
	fb->mode = gop->Mode->Mode;
	switch (mi->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		fb->format = HANDOFF_PIX_RGBX;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		fb->format = HANDOFF_PIX_BGRX;
		break;
	case PixelBitMask:
		fb->format = HANDOFF_PIX_BITMASK;
		fb->mask_r = mi->PixelInformation.RedMask;
		fb->mask_g = mi->PixelInformation.GreenMask;
		fb->mask_b = mi->PixelInformation.BlueMask;
		fb->mask_x = mi->PixelInformation.ReservedMask;
		if (!fb_bitmask_bytes(fb->mask_r, fb->mask_g, fb->mask_b,
		    fb->mask_x)) {
			stub_printf("error: stub: display: GOP bit masks "
			    "r=%08x g=%08x b=%08x x=%08x are not a 32-bit "
			    "pixel; no framebuffer\n", fb->mask_r, fb->mask_g,
			    fb->mask_b, fb->mask_x);
			fb->format = HANDOFF_PIX_BLT_ONLY;
		}
		break;
	default:
		fb->format = HANDOFF_PIX_BLT_ONLY;
	}
	if (fb->format != HANDOFF_PIX_BLT_ONLY && (!fb->base || !fb_usable(fb)))
		fb->format = HANDOFF_PIX_BLT_ONLY;
	if (fb->format == HANDOFF_PIX_BLT_ONLY)
		fb->base = 0;
}

static int
guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Prefer the ACPI 2.0 RSDP (XSDT); fall back to 1.0 (RSDT). */
void
gather_acpi(struct handoff *h)
{
	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];

		if (guid_eq(&t->VendorGuid, &acpi20_guid)) {
			h->rsdp = (uint64_t)(uintptr_t)t->VendorTable;
			h->acpi_rev = 2;
			return;
		}
		if (guid_eq(&t->VendorGuid, &acpi10_guid) && !h->rsdp) {
			h->rsdp = (uint64_t)(uintptr_t)t->VendorTable;
			h->acpi_rev = 1;
		}
	}
}

void
gather_boot_device(struct handoff *h)
{
	EFI_LOADED_IMAGE *li;
	EFI_DEVICE_PATH *dp;
	EFI_DEVICE_PATH_TO_TEXT_PROTOCOL *tt;
	CHAR16 *text;

	rt_strlcpy(h->boot_device, "unknown", sizeof(h->boot_device));
	rt_strlcpy(h->boot_path, "unknown", sizeof(h->boot_path));
	if (EFI_ERROR(bs->HandleProtocol(image_handle, &loaded_image_guid,
	    (void **)&li)))
		return;
	device_identity(li->DeviceHandle, h->boot_path, sizeof(h->boot_path));
	if (EFI_ERROR(bs->HandleProtocol(li->DeviceHandle, &devpath_guid,
	    (void **)&dp)) ||
	    EFI_ERROR(bs->LocateProtocol(&totext_guid, NULL, (void **)&tt)))
		return;
	text = tt->ConvertDevicePathToText(dp, FALSE, FALSE);
	if (!text)
		return;
	utf16_to_utf8(text, sizeof(h->boot_device), h->boot_device,
	    sizeof(h->boot_device));
	bs->FreePool(text);
}

static void
append(struct handoff *h, const char *s, size_t len)
{
	size_t n = strlen(h->cmdline);

	if (n && n + 1 < sizeof(h->cmdline))
		h->cmdline[n++] = '\n';
	for (size_t i = 0; i < len && n + 1 < sizeof(h->cmdline); i++)
		h->cmdline[n++] = s[i] == '\r' ? '\n' : s[i];
	h->cmdline[n] = '\0';
	if (n + 1 == sizeof(h->cmdline))
		stub_printf("error: stub: settings longer than %u bytes are cut "
		    "short\n", (unsigned)sizeof(h->cmdline) - 1);
}

/*
 * The command line is boot.cfg followed by the load options, one setting
 * per line, so a setting on the firmware's command line wins (the hub
 * takes the last value of each key).
 */
void
gather_cmdline(struct handoff *h, const void *cfg, UINTN cfg_size)
{
	EFI_LOADED_IMAGE *li;
	char opts[512];

	if (cfg)
		append(h, cfg, cfg_size);
	if (EFI_ERROR(bs->HandleProtocol(image_handle, &loaded_image_guid,
	    (void **)&li)) || !li->LoadOptions || li->LoadOptionsSize < 2)
		return;
	utf16_to_utf8(li->LoadOptions, li->LoadOptionsSize / 2, opts,
	    sizeof(opts));
	/* Options are space separated: one setting per line for the hub. */
	for (char *p = opts; *p; p++)
		if (*p == ' ')
			*p = '\n';
	append(h, opts, strlen(opts));
}

/* Measure the TSC against Stall(): 10 ms, taking the best of three. */
void
gather_tsc(struct handoff *h)
{
	uint64_t best = ~0ull;

	for (int i = 0; i < 3; i++) {
		uint64_t t0 = rdtsc(), dt;

		bs->Stall(10000);
		dt = rdtsc() - t0;
		if (dt < best)
			best = dt;
	}
	h->tsc_hz = best * 100;
}
