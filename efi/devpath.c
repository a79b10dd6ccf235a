/*
 * devpath.c - a disk's identity from the device path nodes after its PCI
 * function (see devpath.h).  Node layouts: UEFI 2.10 §10.3.1 (the generic
 * header: type, subtype, 16-bit length), §10.3.4 (messaging: USB 5,
 * Device Logical Unit 17, SATA 18, NVMe namespace 23), §10.3.5.1 (media:
 * Hard Drive 1, whose PartitionNumber counts GPT entries and MBR slots
 * from 1), End type 0x7f.
 */
#include "devpath.h"
#include "../abi/rt/rt.h"

enum {
	DP_TYPE_MSG = 0x03,
	DP_TYPE_MEDIA = 0x04,
	DP_TYPE_END = 0x7f,
	DP_MEDIA_HD = 1,	/* PartitionNumber, start, size, signature */
	DP_MSG_USB = 5,		/* ParentPortNumber, InterfaceNumber */
	DP_MSG_UNIT = 17,	/* Lun */
	DP_MSG_SATA = 18,	/* HBAPortNumber, PortMultiplierPortNumber, Lun */
	DP_MSG_NVME = 23,	/* NamespaceId, EUI-64 */
};

#define DP_HEADER 4
#define USB_TIERS 7		/* a root port and up to 6 hubs (USB 2.0 §4.1.1) */
#define SATA_NO_PMP 0xffff	/* "directly connected" (§10.3.4.6) */

enum kind { K_NONE, K_SATA, K_NVME, K_USB };

struct ident {
	enum kind kind;
	uint32_t port, pmp, lun, nsid;
	uint32_t usb[USB_TIERS];
	unsigned tiers;
	int unit_seen;
	uint32_t part;		/* 0: the whole disk */
};

static uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* One messaging node into id: 0 when it does not fit what came before. */
static int
node(struct ident *id, const uint8_t *p, size_t len)
{
	switch (p[1]) {
	case DP_MSG_SATA:
		if (id->kind != K_NONE || len < 10)
			return 0;
		id->kind = K_SATA;
		id->port = le16(p + 4);
		id->pmp = le16(p + 6);
		id->lun = le16(p + 8);
		return 1;
	case DP_MSG_NVME:
		if (id->kind != K_NONE || len < 16)
			return 0;
		id->kind = K_NVME;
		id->nsid = le32(p + 4);
		return 1;
	case DP_MSG_USB:
		if ((id->kind != K_NONE && id->kind != K_USB) || len < 6 ||
		    id->unit_seen || id->tiers == USB_TIERS)
			return 0;
		id->kind = K_USB;
		id->usb[id->tiers++] = p[4] + 1u;	/* USB ports count from 1 */
		return 1;
	case DP_MSG_UNIT:
		if (id->kind != K_USB || len < 5 || id->unit_seen)
			return 0;
		id->unit_seen = 1;
		id->lun = p[4];
		return 1;
	}
	return 0;
}

/* A partition's node, the last before End: the disk's identity must be
 * known by then. */
static int
media_node(struct ident *id, const uint8_t *p, size_t len)
{
	if (p[1] != DP_MEDIA_HD || len < 42 || id->kind == K_NONE || id->part)
		return 0;
	id->part = le32(p + 4);
	return id->part != 0;
}

/* Walk the nodes up to End: 0 for a malformed or unknown one. */
static int
walk(struct ident *id, const uint8_t *p, size_t max)
{
	for (;;) {
		size_t len;

		if (max < DP_HEADER)
			return 0;
		len = le16(p + 2);
		if (len < DP_HEADER || len > max)
			return 0;
		if (p[0] == DP_TYPE_END)
			return 1;
		if (id->part)		/* nothing may follow a partition */
			return 0;
		if (p[0] == DP_TYPE_MEDIA ? !media_node(id, p, len) :
		    p[0] != DP_TYPE_MSG || !node(id, p, len))
			return 0;
		p += len;
		max -= len;
	}
}

/* Formatted text appended to out; n counts what did not fit too. */
struct text {
	char *out;
	size_t cap, n;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	size_t at = t->n < t->cap ? t->n : t->cap - 1;
	va_list ap;

	va_start(ap, fmt);
	t->n += (size_t)rt_vsnprintf(t->out + at, t->cap - at, fmt, ap);
	va_end(ap);
}

int
devpath_identity(const struct devpath_pci *pci, const void *tail, size_t max,
    char *out, size_t cap)
{
	struct ident id = { .kind = K_NONE };
	struct text t = { out, cap, 0 };

	if (!pci || !tail || !cap || !walk(&id, tail, max))
		return 0;
	if (pci->segment)
		put(&t, "pci:%04x:", pci->segment);
	put(&t, "%s%02x:%02x.%x", pci->segment ? "" : "pci:", pci->bus,
	    pci->dev, pci->fn);
	switch (id.kind) {
	case K_SATA:
		put(&t, "/sata:%u", id.port);
		if (id.pmp != SATA_NO_PMP)
			put(&t, ".%u", id.pmp);
		if (id.lun)
			put(&t, "/lun:%u", id.lun);
		break;
	case K_NVME:
		put(&t, "/nvme:%u", id.nsid);
		break;
	case K_USB:
		put(&t, "/usb:");
		for (unsigned i = 0; i < id.tiers; i++)
			put(&t, "%s%u", i ? "." : "", id.usb[i]);
		put(&t, "/lun:%u", id.lun);
		break;
	case K_NONE:
		break;
	}
	if (id.part)
		put(&t, "/part:%u", id.part);
	return t.n < cap;
}
