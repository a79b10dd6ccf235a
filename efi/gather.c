/*
 * gather.c - collect the handoff: framebuffer, ACPI, boot device, command
 * line and TSC rate, each converted to the hub's plain form here, at the
 * firmware boundary.
 */
#include "stub.h"
#include "../abi/rt/rt.h"

static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID devpath_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static EFI_GUID totext_guid = EFI_DEVICE_PATH_TO_TEXT_PROTOCOL_GUID;

void
gather_fb(struct handoff *h)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
	struct handoff_fb *fb = &h->fb;

	fb->format = HANDOFF_PIX_NONE;
	if (EFI_ERROR(bs->LocateProtocol(&gop_guid, NULL, (void **)&gop)) ||
	    !gop->Mode || !gop->Mode->Info)
		return;
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
		break;
	default:
		fb->format = HANDOFF_PIX_BLT_ONLY;
		fb->base = 0;
	}
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
