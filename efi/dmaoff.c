/*
 * dmaoff.c - bus mastering off, just before ExitBootServices, for the
 * storage and network functions the firmware's drivers leave mastering
 * the bus.
 *
 * UEFI drivers are asked to stop their DMA at ExitBootServices, and not
 * all do: OVMF's NVMe driver leaves the controller enabled, its queues
 * in boot-services memory that becomes the hub's, where an asynchronous
 * event's completion could still land; a network card's firmware driver
 * may leave its receive ring running.  So the stub turns bus mastering
 * off (PCI 3.0 §6.2.2, COMMAND bit 2) through EFI_PCI_IO_PROTOCOL on
 * every function of class 01h (mass storage) or 02h (network) that has
 * it on, once the firmware's last I/O is done (the hub parks block
 * requests before the takeover).  A native driver turns it on again
 * itself (HARDWARE.md: every driver sets Memory Space and Bus Master).
 * Left alone: USB controllers (class 0Ch: their firmware drivers halt
 * them at ExitBootServices, and clearing it under SMM that still uses
 * them hangs some AMD boards, HARDWARE.md), and bridges (their bus
 * mastering forwards their children's DMA).  boot.cfg
 * `firmware-dma=keep` leaves every function as the firmware left it.
 */
#include "stub.h"

#define PCI_COMMAND		0x04
#define PCI_CLASS_REVISION	0x08	/* class code in bits 31:24 */
#define PCI_CMD_MASTER		0x0004
#define CLASS_STORAGE		0x01
#define CLASS_NETWORK		0x02

static EFI_GUID pciio_guid = EFI_PCI_IO_PROTOCOL_GUID;

/* Is f a function whose firmware driver may leave DMA running? */
static int
dma_suspect(EFI_PCI_IO_PROTOCOL *f)
{
	UINT32 class_rev;

	if (EFI_ERROR(f->Pci.Read(f, EfiPciIoWidthUint32, PCI_CLASS_REVISION,
	    1, &class_rev)))
		return 0;
	return class_rev >> 24 == CLASS_STORAGE ||
	    class_rev >> 24 == CLASS_NETWORK;
}

static UINT16
command(EFI_PCI_IO_PROTOCOL *f)
{
	UINT16 cmd = 0;

	f->Pci.Read(f, EfiPciIoWidthUint16, PCI_COMMAND, 1, &cmd);
	return cmd;
}

/* f masters the bus no more: its location goes into the handoff. */
static void
note(struct handoff *h, EFI_PCI_IO_PROTOCOL *f, int stopped)
{
	UINTN seg, bus, dev, fn;
	struct handoff_pci_loc *l;

	if (h->dma_off_count >= HANDOFF_DMA_OFF_MAX ||
	    EFI_ERROR(f->GetLocation(f, &seg, &bus, &dev, &fn)))
		return;
	l = &h->dma_off[h->dma_off_count++];
	*l = (struct handoff_pci_loc){ (uint16_t)seg, (uint8_t)bus,
	    (uint8_t)dev, (uint8_t)fn, (uint8_t)stopped, { 0, 0 } };
}

void
dma_off_before_exit(struct handoff *h)
{
	EFI_HANDLE *handles;
	UINTN count;

	h->dma_off_count = 0;
	if (h->dma_off_keep || EFI_ERROR(bs->LocateHandleBuffer(ByProtocol,
	    &pciio_guid, NULL, &count, &handles)))
		return;
	for (UINTN i = 0; i < count; i++) {
		EFI_PCI_IO_PROTOCOL *f;

		if (EFI_ERROR(bs->HandleProtocol(handles[i], &pciio_guid,
		    (void **)&f)) || !dma_suspect(f) ||
		    !(command(f) & PCI_CMD_MASTER))
			continue;
		f->Attributes(f, EfiPciIoAttributeOperationDisable,
		    EFI_PCI_IO_ATTRIBUTE_BUS_MASTER, NULL);
		/* Read back: the hub says which ones it could not stop. */
		note(h, f, !(command(f) & PCI_CMD_MASTER));
	}
	bs->FreePool(handles);
}
