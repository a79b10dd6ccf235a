/*
 * disk.c - `firmware` 1.1's disks: the whole disks the firmware's Block
 * I/O protocol shows (UEFI 2.10 §13.9), for efi-block until the takeover.
 *
 * The disks are listed once, at the first question, in the handle
 * database's order, leaving out partitions (Media->LogicalPartition) so
 * an index stays the same disk.  Reads and writes are synchronous
 * ReadBlocks/WriteBlocks; a buffer the firmware's IoAlign refuses goes
 * through a bounce buffer of boot-services memory, which the hub takes
 * back after ExitBootServices.  Every operation answers PB_ENOTSUP once
 * boot services are gone.
 *
 *   qemu-system-x86_64 -machine q35 ... -device ide-hd,drive=d,bus=ide.0
 *   shows PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0): pci:00:1f.2/sata:0
 */
#include "stub.h"
#include "devpath.h"
#include "../abi/pb.h"
#include "../abi/rt/rt.h"

#define MAX_DISKS 32
#define BOUNCE_BYTES (128u << 10)
#define IDENTIFY_BYTES 4096	/* NVMe Identify Controller; ATA uses 512 */
#define DEVPATH_MAX 1024	/* bytes of device path read at most */

/* EFI_DISK_INFO_PROTOCOL (UEFI PI 1.7 vol. 5 §12.11); gnu-efi lacks it. */
typedef struct _DISK_INFO DISK_INFO;
struct _DISK_INFO {
	EFI_GUID Interface;
	EFI_STATUS (EFIAPI *Inquiry)(DISK_INFO *This, VOID *Data, UINT32 *Size);
	EFI_STATUS (EFIAPI *Identify)(DISK_INFO *This, VOID *Data, UINT32 *Size);
	EFI_STATUS (EFIAPI *SenseData)(DISK_INFO *This, VOID *Data,
	    UINT32 *Size, UINT8 *Number);
	EFI_STATUS (EFIAPI *WhichIde)(DISK_INFO *This, UINT32 *Channel,
	    UINT32 *Device);
};

static EFI_GUID blockio_guid = EFI_BLOCK_IO_PROTOCOL_GUID;
static EFI_GUID devpath_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static EFI_GUID pciio_guid = EFI_PCI_IO_PROTOCOL_GUID;
static EFI_GUID totext_guid = EFI_DEVICE_PATH_TO_TEXT_PROTOCOL_GUID;
static EFI_GUID diskinfo_guid = { 0xd432a67f, 0x14dc, 0x484b,
    { 0xb3, 0xbb, 0x3f, 0x02, 0x91, 0x84, 0x93, 0x27 } };
static EFI_GUID di_ide_guid = { 0x5e948fe3, 0x26d3, 0x42b5,
    { 0xaf, 0x17, 0x61, 0x02, 0x87, 0x18, 0x8d, 0xec } };
static EFI_GUID di_ahci_guid = { 0x9e498932, 0x4abc, 0x45af,
    { 0xa3, 0x4d, 0x02, 0x47, 0x78, 0x7b, 0xe7, 0xc6 } };
static EFI_GUID di_usb_guid = { 0xcb871572, 0xc11a, 0x47b5,
    { 0xb4, 0x92, 0x67, 0x5e, 0xaf, 0xa7, 0x77, 0x27 } };
static EFI_GUID di_scsi_guid = { 0x08f74baa, 0xea36, 0x41d9,
    { 0x95, 0x21, 0x21, 0xa7, 0x0f, 0x87, 0x80, 0xbc } };
static EFI_GUID di_nvme_guid = { 0x3ab14680, 0x5d3f, 0x4a4d,
    { 0xbc, 0xdc, 0xcc, 0x38, 0x00, 0x18, 0xc7, 0xf7 } };

static struct {
	EFI_HANDLE handle;
	EFI_BLOCK_IO *bio;
} disks[MAX_DISKS];
static unsigned ndisks;
static int listed;
static uint8_t *bounce;		/* BOUNCE_BYTES, page aligned */

/* Every whole disk, once. */
static void
list_disks(void)
{
	EFI_HANDLE *handles;
	UINTN n;

	listed = 1;
	if (EFI_ERROR(bs->LocateHandleBuffer(ByProtocol, &blockio_guid, NULL,
	    &n, &handles)))
		return;
	for (UINTN i = 0; i < n && ndisks < MAX_DISKS; i++) {
		EFI_BLOCK_IO *bio;

		if (EFI_ERROR(bs->HandleProtocol(handles[i], &blockio_guid,
		    (void **)&bio)) || !bio->Media ||
		    bio->Media->LogicalPartition)
			continue;
		disks[ndisks].handle = handles[i];
		disks[ndisks++].bio = bio;
	}
	bs->FreePool(handles);
}

static EFI_BLOCK_IO *
disk_at(unsigned index)
{
	if (!stub_booted)
		return NULL;
	if (!listed)
		list_disks();
	return index < ndisks ? disks[index].bio : NULL;
}

/* The device path as text, spaces made '_' (it becomes a property). */
static void
path_text(EFI_DEVICE_PATH *dp, char *out, size_t cap)
{
	EFI_DEVICE_PATH_TO_TEXT_PROTOCOL *tt;
	CHAR16 *text;

	rt_strlcpy(out, "unknown", cap);
	if (EFI_ERROR(bs->LocateProtocol(&totext_guid, NULL, (void **)&tt)) ||
	    !(text = tt->ConvertDevicePathToText(dp, FALSE, FALSE)))
		return;
	utf16_to_utf8(text, cap, out, cap);
	bs->FreePool(text);
	for (char *p = out; *p; p++)
		if (*p == ' ')
			*p = '_';
}

/* The identity: the PCI function under the disk, then what follows it
 * (a partition's handle adds /part:N). */
void
device_identity(EFI_HANDLE h, char *out, size_t cap)
{
	EFI_DEVICE_PATH *dp, *rest;
	EFI_HANDLE pci_handle;
	EFI_PCI_IO_PROTOCOL *pci;
	struct devpath_pci loc;
	UINTN seg, bus, dev, fn;

	if (EFI_ERROR(bs->HandleProtocol(h, &devpath_guid, (void **)&dp))) {
		rt_strlcpy(out, "unknown", cap);
		return;
	}
	rest = dp;
	if (!EFI_ERROR(bs->LocateDevicePath(&pciio_guid, &rest, &pci_handle)) &&
	    !EFI_ERROR(bs->HandleProtocol(pci_handle, &pciio_guid,
	    (void **)&pci)) &&
	    !EFI_ERROR(pci->GetLocation(pci, &seg, &bus, &dev, &fn))) {
		loc = (struct devpath_pci){ (uint32_t)seg, (uint32_t)bus,
		    (uint32_t)dev, (uint32_t)fn };
		if (devpath_identity(&loc, rest, DEVPATH_MAX, out, cap))
			return;
	}
	path_text(dp, out, cap);
}

/* An ASCII field of a device's identity data, spaces trimmed; ATA
 * strings hold two characters per word, the first in the high byte
 * (ATA8-ACS §3.3.10). */
static void
ascii_field(char *out, size_t cap, const uint8_t *src, size_t len, int swap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		uint8_t c = src[swap ? i ^ 1 : i];

		if (c == ' ' && n == 0)
			continue;
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static int
guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Model and serial from the Disk Info protocol, when there is one:
 * ATA IDENTIFY words 10-19 and 27-46 (ATA8-ACS §7.16.7), SCSI INQUIRY
 * bytes 8-31 (SPC-4 §6.4.2), NVMe Identify Controller bytes 4-23 and
 * 24-63 (NVMe 1.4 §5.15.2.1). */
static void
disk_names(EFI_HANDLE h, struct firmware_disk *d)
{
	static uint8_t id[IDENTIFY_BYTES];
	DISK_INFO *di;
	UINT32 size = sizeof(id);
	char vendor[12], product[20];

	d->model[0] = d->serial[0] = '\0';
	if (EFI_ERROR(bs->HandleProtocol(h, &diskinfo_guid, (void **)&di)))
		return;
	if (guid_eq(&di->Interface, &di_ahci_guid) ||
	    guid_eq(&di->Interface, &di_ide_guid)) {
		if (EFI_ERROR(di->Identify(di, id, &size)) || size < 94)
			return;
		ascii_field(d->serial, sizeof(d->serial), id + 20, 20, 1);
		ascii_field(d->model, sizeof(d->model), id + 54, 40, 1);
	} else if (guid_eq(&di->Interface, &di_nvme_guid)) {
		if (EFI_ERROR(di->Identify(di, id, &size)) || size < 64)
			return;
		ascii_field(d->serial, sizeof(d->serial), id + 4, 20, 0);
		ascii_field(d->model, sizeof(d->model), id + 24, 40, 0);
	} else if (guid_eq(&di->Interface, &di_usb_guid) ||
	    guid_eq(&di->Interface, &di_scsi_guid)) {
		if (EFI_ERROR(di->Inquiry(di, id, &size)) || size < 32)
			return;
		ascii_field(vendor, sizeof(vendor), id + 8, 8, 0);
		ascii_field(product, sizeof(product), id + 16, 16, 0);
		rt_snprintf(d->model, sizeof(d->model), "%s%s%s", vendor,
		    vendor[0] && product[0] ? " " : "", product);
	}
}

int
fw_disk_info(void *ctx, unsigned index, struct firmware_disk *out)
{
	EFI_BLOCK_IO *bio = disk_at(index);
	EFI_BLOCK_IO_MEDIA *m;
	struct firmware_disk d;
	size_t n;

	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	if (!bio)
		return PB_ENOENT;
	if (!out || out->size < offsetof(struct firmware_disk, path))
		return PB_EINVAL;
	m = bio->Media;
	d = (struct firmware_disk){
		.size = sizeof(d), .block_size = m->BlockSize,
		.last_block = m->LastBlock, .media_id = m->MediaId,
		.io_align = m->IoAlign, .read_only = m->ReadOnly,
		.removable = m->RemovableMedia,
		.media_present = m->MediaPresent,
		.write_caching = m->WriteCaching,
	};
	device_identity(disks[index].handle, d.path, sizeof(d.path));
	disk_names(disks[index].handle, &d);
	n = out->size < sizeof(d) ? out->size : sizeof(d);
	d.size = (uint32_t)n;
	memcpy(out, &d, n);
	return PB_OK;
}

static int
map_status(EFI_STATUS s)
{
	switch (s) {
	case EFI_SUCCESS:
		return PB_OK;
	case EFI_MEDIA_CHANGED:
	case EFI_NO_MEDIA:
		return PB_EMEDIA;
	case EFI_WRITE_PROTECTED:
		return PB_EROFS;
	case EFI_BAD_BUFFER_SIZE:
	case EFI_INVALID_PARAMETER:
		return PB_EINVAL;
	default:
		return PB_EIO;
	}
}

static EFI_STATUS
blocks(EFI_BLOCK_IO *bio, uint32_t media_id, int write, uint64_t lba,
    void *buf, size_t len)
{
	return write ? bio->WriteBlocks(bio, media_id, lba, len, buf) :
	    bio->ReadBlocks(bio, media_id, lba, len, buf);
}

/* A buffer IoAlign refuses, through the bounce buffer, a piece at a time. */
static EFI_STATUS
bounced(EFI_BLOCK_IO *bio, uint32_t media_id, int write, uint64_t lba,
    uint8_t *buf, size_t len)
{
	uint32_t bsize = bio->Media->BlockSize;
	size_t chunk = BOUNCE_BYTES - BOUNCE_BYTES % bsize;
	EFI_PHYSICAL_ADDRESS pa;
	EFI_STATUS s;

	if (!bounce) {
		s = bs->AllocatePages(AllocateAnyPages, EfiBootServicesData,
		    BOUNCE_BYTES / 4096, &pa);
		if (EFI_ERROR(s))
			return s;
		bounce = (uint8_t *)(uintptr_t)pa;
	}
	for (size_t done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;

		if (write)
			memcpy(bounce, buf + done, n);
		s = blocks(bio, media_id, write, lba + done / bsize, bounce, n);
		if (EFI_ERROR(s))
			return s;
		if (!write)
			memcpy(buf + done, bounce, n);
	}
	return EFI_SUCCESS;
}

int
fw_disk_io(void *ctx, unsigned index, uint32_t media_id, int write,
    uint64_t lba, void *buf, size_t len)
{
	EFI_BLOCK_IO *bio = disk_at(index);
	EFI_BLOCK_IO_MEDIA *m;
	uint32_t align;

	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	if (!bio)
		return PB_ENOENT;
	m = bio->Media;
	align = m->IoAlign > 1 ? m->IoAlign : 1;
	if (!buf || !len || !m->BlockSize || len % m->BlockSize ||
	    lba > m->LastBlock || (len / m->BlockSize) - 1 > m->LastBlock - lba)
		return PB_EINVAL;
	if ((uintptr_t)buf & (align - 1)) {
		/* The bounce buffer is page aligned and holds whole blocks. */
		if (align > 4096 || m->BlockSize > BOUNCE_BYTES)
			return PB_EINVAL;
		return map_status(bounced(bio, media_id, write, lba, buf, len));
	}
	return map_status(blocks(bio, media_id, write, lba, buf, len));
}

int
fw_disk_flush(void *ctx, unsigned index)
{
	EFI_BLOCK_IO *bio = disk_at(index);

	(void)ctx;
	if (!stub_booted)
		return PB_ENOTSUP;
	if (!bio)
		return PB_ENOENT;
	return map_status(bio->FlushBlocks(bio));
}
