/*
 * caps.c - what the controller says of itself: the capability registers
 * (xHCI 1.2 §5.3) and the extended capabilities (§7): where the USB Legacy
 * Support capability is (handoff.c), and which root ports speak USB 2 and
 * which USB 3, with their Protocol Speed IDs (Supported Protocol, §7.2).
 *
 * Everything here only reads (handoff_note_smis too).  A controller that
 * is not there (registers all ones), or whose registers would lie beyond
 * its BAR, is declined.
 * QEMU's qemu-xhci: HCIVERSION 1.00, 8 ports (USB 3 on 1-4, USB 2 on
 * 5-8), 64 slots, 32-byte contexts, no scratchpads, no legacy capability.
 */
#include "xhci.h"

#define XECP_MAX	64	/* capabilities walked at most */

/* One Supported Protocol capability at BAR0 + off. */
static void
proto_read(struct xhci *a, unsigned off)
{
	struct xhci_proto *p;
	uint32_t d0 = cap_rd(a, off), d2 = cap_rd(a, off + 8);
	unsigned psic = PROTO_PSIC(d2);

	if (cap_rd(a, off + 4) != PROTO_NAME_USB) {
		xlog(a, PB_LOG_WARN, "a Supported Protocol capability not for "
		    "USB (name 0x%08x): its ports are left alone",
		    cap_rd(a, off + 4));
		return;
	}
	if (a->nproto == XHCI_MAX_PROTO)
		return;
	p = &a->proto[a->nproto++];
	memset(p, 0, sizeof(*p));
	p->major = (uint8_t)PROTO_MAJOR(d0);
	p->minor = (uint8_t)(d0 >> 16);
	p->first = (uint8_t)PROTO_PORT_OFF(d2);
	p->count = (uint8_t)PROTO_PORT_COUNT(d2);
	p->slot_type = (uint8_t)PROTO_SLOT_TYPE(cap_rd(a, off + 12));
	for (unsigned i = 0; i < psic && i < XHCI_MAX_PSI; i++) {
		if (off + 16 + 4 * i + 4 > a->bar_size)
			break;
		p->psi[p->npsi++] = cap_rd(a, off + 16 + 4 * i);
	}
}

/* Walk the extended capabilities (§7), bounded in number and to the BAR. */
static void
xecp_walk(struct xhci *a)
{
	unsigned off = HCC1_XECP(a->hcc1) * 4u;

	for (unsigned n = 0; off && n < XECP_MAX; n++) {
		uint32_t v;

		if (off + 16 > a->bar_size)
			break;
		v = cap_rd(a, off);
		if (v == 0xffffffffu)
			break;
		if (XECP_ID(v) == XECP_LEGACY && !a->legacy)
			a->legacy = off;
		else if (XECP_ID(v) == XECP_PROTOCOL)
			proto_read(a, off);
		if (!XECP_NEXT(v))
			break;
		off += XECP_NEXT(v) * 4u;
	}
}

/* The root ports of each protocol; a port no capability names is taken
 * as USB 2 (it still gets a reset before it is used). */
void
caps_protocols(struct xhci *a)
{
	for (unsigned i = 0; i < XHCI_MAX_PORTS; i++) {
		a->port[i].no = (uint8_t)(i + 1);
		a->port[i].proto = -1;
		a->port[i].usb3 = 0;
	}
	for (unsigned k = 0; k < a->nproto; k++) {
		const struct xhci_proto *p = &a->proto[k];

		for (unsigned n = p->first; n && n < (unsigned)p->first +
		    p->count && n <= a->nports; n++) {
			a->port[n - 1].proto = (int8_t)k;
			a->port[n - 1].usb3 = p->major >= 3;
		}
	}
}

int
caps_read(struct xhci *a, const char **why)
{
	uint32_t lv = cap_rd(a, CAP_LENGTH_VERSION), dboff, rtsoff;
	unsigned caplen, maxports, maxslots;

	if (lv == 0xffffffffu) {
		*why = "its registers read all ones (no controller there)";
		return PB_ENODEV;
	}
	caplen = CAPLENGTH(lv);
	a->version = (uint16_t)HCIVERSION(lv);
	a->hcs1 = cap_rd(a, CAP_HCSPARAMS1);
	a->hcs2 = cap_rd(a, CAP_HCSPARAMS2);
	a->hcc1 = cap_rd(a, CAP_HCCPARAMS1);
	dboff = cap_rd(a, CAP_DBOFF) & DBOFF_MASK;
	rtsoff = cap_rd(a, CAP_RTSOFF) & RTSOFF_MASK;
	maxports = HCS1_MAX_PORTS(a->hcs1);
	maxslots = HCS1_MAX_SLOTS(a->hcs1);
	if (caplen < 0x20 || !maxports || !maxslots) {
		*why = "CAPLENGTH, MaxPorts or MaxSlots is absurd";
		return PB_ENODEV;
	}
	if (caplen + OP_PORTSC(maxports) + 16 > a->bar_size ||
	    (uint64_t)rtsoff + RT_IR(1) > a->bar_size ||
	    (uint64_t)dboff + DB(maxslots + 1) > a->bar_size) {
		*why = "its registers lie beyond BAR0";
		return PB_ENODEV;
	}
	a->op = a->bar + caplen;
	a->rt = a->bar + rtsoff;
	a->db = a->bar + dboff;
	a->nports = maxports < XHCI_MAX_PORTS ? maxports : XHCI_MAX_PORTS;
	a->nslots = maxslots < XHCI_MAX_SLOTS ? maxslots : XHCI_MAX_SLOTS;
	a->ctxsz = (a->hcc1 & HCC1_CSZ) ? 64 : 32;
	a->nscratch = HCS2_SPB(a->hcs2);
	a->dma_limit = (a->hcc1 & HCC1_AC64) ? ~0ull : 0xffffffffull;
	if (maxports > XHCI_MAX_PORTS)
		xlog(a, PB_LOG_WARN, "%u root ports: only the first %u are "
		    "served", maxports, XHCI_MAX_PORTS);
	a->legacy = 0;
	a->nproto = 0;
	xecp_walk(a);
	caps_protocols(a);
	handoff_note_smis(a);
	return PB_OK;
}

/* The default speed IDs (§7.2.2.1.1, Table 7-13) */
static int
default_speed(unsigned psiv, int usb3)
{
	switch (psiv) {
	case PSIV_FULL: return USB_SPEED_FULL;
	case PSIV_LOW: return USB_SPEED_LOW;
	case PSIV_HIGH: return USB_SPEED_HIGH;
	case PSIV_SUPER: return USB_SPEED_SUPER;
	case 0: return USB_SPEED_NONE;
	default: return usb3 ? USB_SPEED_SUPER_PLUS : USB_SPEED_NONE;
	}
}

/* A PSI's bit rate in Mb/s (PSIM x 1000^PSIE b/s), at least 1. */
static uint64_t
psi_mbps(uint32_t psi)
{
	uint64_t v = PSI_PSIM(psi);

	for (unsigned e = PSI_PSIE(psi); e; e--)
		v *= 1000;
	return v / 1000000 ? v / 1000000 : 1;
}

/* enum usb_speed of a device that port p says runs at psiv (PORTSC Port
 * Speed): the protocol's PSI table when it has one, else the defaults. */
int
caps_speed(const struct xhci *a, const struct xhci_port *p, unsigned psiv)
{
	const struct xhci_proto *pr = p->proto >= 0 ? &a->proto[p->proto] :
	    NULL;

	if (!pr || !pr->npsi)
		return default_speed(psiv, p->usb3);
	for (unsigned i = 0; i < pr->npsi; i++) {
		uint64_t mbps;

		if (PSI_PSIV(pr->psi[i]) != psiv)
			continue;
		mbps = psi_mbps(pr->psi[i]);
		if (pr->major >= 3)
			return mbps <= 5000 ? USB_SPEED_SUPER :
			    USB_SPEED_SUPER_PLUS;
		return mbps <= 2 ? USB_SPEED_LOW : mbps <= 12 ?
		    USB_SPEED_FULL : USB_SPEED_HIGH;
	}
	return USB_SPEED_NONE;
}

/* The slot context's Speed for a device behind a hub: the default IDs. */
unsigned
caps_psiv(unsigned speed)
{
	switch (speed) {
	case USB_SPEED_LOW: return PSIV_LOW;
	case USB_SPEED_FULL: return PSIV_FULL;
	case USB_SPEED_HIGH: return PSIV_HIGH;
	case USB_SPEED_SUPER: return PSIV_SUPER;
	default: return PSIV_SUPER_PLUS;
	}
}

/* "5-8" (or "1-2,5", "none"): the ports of one protocol, for props. */
void
caps_port_range(const struct xhci *a, int usb3, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < a->nproto; k++) {
		const struct xhci_proto *p = &a->proto[k];
		unsigned last = (unsigned)p->first + p->count - 1;

		if ((p->major >= 3) != usb3 || !p->count || !p->first)
			continue;
		if (last > a->nports)
			last = a->nports;
		if (p->first > last)
			continue;
		if (p->first == last)
			n += (size_t)rt_snprintf(buf + n, cap - n, "%s%u",
			    n ? "," : "", p->first);
		else
			n += (size_t)rt_snprintf(buf + n, cap - n, "%s%u-%u",
			    n ? "," : "", p->first, last);
		if (n >= cap)
			break;
	}
	if (!buf[0])
		rt_strlcpy(buf, "none", cap);
}
