/*
 * dmaoff.c - bus mastering off, at ExitBootServices, for the storage and
 * network functions the firmware's drivers leave mastering the bus.
 *
 * UEFI drivers are asked to stop their DMA at ExitBootServices, and not
 * all do: OVMF's NVMe driver leaves the controller enabled, its queues
 * in boot-services memory that becomes the hub's, where an asynchronous
 * event's completion could still land; a network card's firmware driver
 * may leave its receive ring running.  So the stub turns bus mastering
 * off (PCI 3.0 §6.2.2, COMMAND bit 2) on every function of class 01h
 * (mass storage) or 02h (network) that has it on, after
 * ExitBootServices and the takeover's swaps, before the hub takes the
 * boot-services memory (the hub calls quiet_dma, hub/boot.c).  A native
 * driver turns it on again itself (HARDWARE.md: every driver sets Memory
 * Space and Bus Master).  Left alone: USB controllers (class 0Ch: their
 * firmware drivers halt them at ExitBootServices, and clearing it under
 * SMM that still uses them hangs some AMD boards, HARDWARE.md), and
 * bridges (their bus mastering forwards their children's DMA).  boot.cfg
 * `firmware-dma=keep` leaves every function as the firmware left it.
 *
 * The functions are found through EFI_PCI_IO_PROTOCOL when the stub
 * starts.  After the exit there is no PciIo, so COMMAND is written
 * through configuration mechanism #1 (ports 0xCF8/0xCFC, PCI 3.0
 * §3.2.2.3.2), which every PC has for segment 0.  A function on another
 * segment is done through PciIo just before the exit instead, inside
 * the takeover's blackout (each of OVMF's PciIo calls costs hundreds of
 * microseconds under TCG).
 */
#include "stub.h"
#include "../abi/pci.h"
#include "../abi/portio.h"

#define CLASS_STORAGE		0x01
#define CLASS_NETWORK		0x02
#define CONFIG_ADDRESS		0xcf8
#define CONFIG_DATA		0xcfc
#define CONFIG_ENABLE		0x80000000u

static EFI_GUID pciio_guid = EFI_PCI_IO_PROTOCOL_GUID;

/* The candidates, found once while the stub starts (PCI enumeration is
 * over by then). */
#define SUSPECTS_MAX 16
static struct suspect {
	EFI_PCI_IO_PROTOCOL *io;
	struct handoff_pci_loc at;
} suspects[SUSPECTS_MAX];
static unsigned nsuspects;

/* Is f a function whose firmware driver may leave DMA running? */
static int
dma_suspect(EFI_PCI_IO_PROTOCOL *f)
{
	UINT32 class_rev;

	/* The dword at the revision: the class code in bits 31:24. */
	if (EFI_ERROR(f->Pci.Read(f, EfiPciIoWidthUint32, PCI_REVISION, 1,
	    &class_rev)))
		return 0;
	return class_rev >> 24 == CLASS_STORAGE ||
	    class_rev >> 24 == CLASS_NETWORK;
}

void
dma_off_gather(void)
{
	EFI_HANDLE *handles;
	UINTN count, seg, bus, dev, fn;

	if (EFI_ERROR(bs->LocateHandleBuffer(ByProtocol, &pciio_guid, NULL,
	    &count, &handles)))
		return;
	for (UINTN i = 0; i < count && nsuspects < SUSPECTS_MAX; i++) {
		EFI_PCI_IO_PROTOCOL *f;

		if (EFI_ERROR(bs->HandleProtocol(handles[i], &pciio_guid,
		    (void **)&f)) || !dma_suspect(f) ||
		    EFI_ERROR(f->GetLocation(f, &seg, &bus, &dev, &fn)))
			continue;
		suspects[nsuspects++] = (struct suspect){ f,
		    { (uint16_t)seg, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn,
		    0, { 0, 0 } } };
	}
	bs->FreePool(handles);
}

/* COMMAND of segment 0's function at, through the ports. */
static uint16_t
port_command(const struct handoff_pci_loc *at, int write, uint16_t v)
{
	outl(CONFIG_ADDRESS, CONFIG_ENABLE | (uint32_t)at->bus << 16 |
	    (uint32_t)at->dev << 11 | (uint32_t)at->fn << 8 | PCI_COMMAND);
	if (write)
		outw(CONFIG_DATA, v);	/* 16 bits: STATUS is RW1C */
	return inw(CONFIG_DATA);
}

static uint16_t
pciio_command(EFI_PCI_IO_PROTOCOL *f, int write, uint16_t v)
{
	if (write)
		f->Pci.Write(f, EfiPciIoWidthUint16, PCI_COMMAND, 1, &v);
	v = 0;
	f->Pci.Read(f, EfiPciIoWidthUint16, PCI_COMMAND, 1, &v);
	return v;
}

static uint16_t
command(struct suspect *s, int firmware, int write, uint16_t v)
{
	return firmware ? pciio_command(s->io, write, v) :
	    port_command(&s->at, write, v);
}

/* Bus mastering off on the suspects of segment 0 (firmware 0: after the
 * exit, through the ports) or of the others (firmware 1: before it,
 * through PciIo); each one found on goes into the handoff, with whether
 * COMMAND read back off. */
static void
dma_off(struct handoff *h, int firmware)
{
	for (unsigned i = 0; i < nsuspects && !h->dma_off_keep; i++) {
		struct suspect *s = &suspects[i];
		uint16_t cmd;

		if ((s->at.segment != 0) != firmware ||
		    !((cmd = command(s, firmware, 0, 0)) & PCI_CMD_MASTER))
			continue;
		cmd = command(s, firmware, 1, cmd & (uint16_t)~PCI_CMD_MASTER);
		if (h->dma_off_count >= HANDOFF_DMA_OFF_MAX)
			continue;
		h->dma_off[h->dma_off_count] = s->at;
		h->dma_off[h->dma_off_count++].stopped =
		    !(cmd & PCI_CMD_MASTER);
	}
}

void
dma_off_before_exit(struct handoff *h)
{
	h->dma_off_count = 0;
	dma_off(h, 1);
}

void
dma_off_after_exit(struct handoff *h)
{
	dma_off(h, 0);
}
