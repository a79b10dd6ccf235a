/*
 * ctx.c - device contexts (xHCI 1.2 §6.2): the input context the driver
 * fills for Address Device, Configure Endpoint and Evaluate Context, and
 * what it reads of the output context the controller keeps.
 *
 * Contexts are 32 bytes, or 64 with HCCPARAMS1.CSZ; an input context is
 * the Input Control Context, the Slot Context and 31 Endpoint Contexts
 * (index 1 + DCI).  It is zeroed before every command: Intel's controllers
 * want the fields a command does not use zero (HARDWARE.md).  Only one
 * command runs at a time (cmd.c), so one input context serves them all.
 *
 * Endpoint fields from the descriptors (§6.2.3, §4.14.1.1):
 *   Interval (§6.2.3.6): HS/SS interrupt and isochronous bInterval-1;
 *     FS/LS interrupt 3 + log2(bInterval) (frames in 125 us units);
 *     FS isochronous bInterval-1+3; bulk and control 0.  Clamped.
 *   Max Burst: the SS companion's bMaxBurst; HS periodic: the extra
 *     transactions in wMaxPacketSize bits 12:11.
 *   Max ESIT Payload: SS wBytesPerInterval; HS MPS x (burst + 1); else MPS.
 *   Average TRB Length: control 8, interrupt its ESIT payload, bulk 3 KiB.
 *   CErr 3: the controller retries a transaction three times itself.
 */
#include "xhci.h"

void
ctx_input_clear(struct xhci *a)
{
	memset(a->ictx, 0, (CTX_ENTRIES + 1) * a->ctxsz);
}

/* Index 0: Input Control; 1: Slot; 1 + DCI: that endpoint. */
volatile uint32_t *
ctx_input(struct xhci *a, unsigned index)
{
	return (volatile uint32_t *)(void *)((uint8_t *)a->ictx +
	    index * a->ctxsz);
}

/* The output context: 0 the Slot Context, DCI an endpoint's. */
volatile uint32_t *
ctx_out(const struct xhci *a, const struct xhci_dev *d, unsigned dci)
{
	return (volatile uint32_t *)(void *)((volatile uint8_t *)d->out +
	    dci * a->ctxsz);
}

/* The endpoint's state as the controller says it (enum ep_state). */
unsigned
ep_state(const struct xhci *a, const struct xhci_dev *d, unsigned dci)
{
	mmio_rmb();
	return EP_STATE(ctx_out(a, d, dci)[0]);
}

/* The Slot Context of d (§6.2.2), into the input context. */
void
ctx_slot(struct xhci *a, const struct xhci_dev *d)
{
	volatile uint32_t *s = ctx_input(a, 1);
	int mtt = d->hub ? d->hub_mtt : d->mtt;
	unsigned ttt = d->hub && d->speed == USB_SPEED_HIGH ? d->ttt : 0;

	s[0] = (d->route & SLOT_ROUTE_MASK) |
	    (uint32_t)d->psiv << SLOT_SPEED_SHIFT | (mtt ? SLOT_MTT : 0) |
	    (d->hub ? SLOT_HUB : 0) | (uint32_t)d->entries << SLOT_ENTRIES_SHIFT;
	s[1] = (uint32_t)d->root_port << SLOT_ROOT_PORT_SHIFT |
	    (d->hub ? (uint32_t)d->nports << SLOT_NPORTS_SHIFT : 0);
	s[2] = (uint32_t)d->tt_slot << SLOT_TT_SLOT_SHIFT |
	    (uint32_t)d->tt_port << SLOT_TT_PORT_SHIFT |
	    (ttt & 3u) << SLOT_TTT_SHIFT;	/* interrupter 0 */
	s[3] = 0;
}

/* The Endpoint Context of d's endpoint dci (§6.2.3), its TR Dequeue
 * Pointer at deq with cycle dcs. */
void
ctx_ep(struct xhci *a, const struct xhci_dev *d, unsigned dci, uint64_t deq,
    uint8_t dcs)
{
	volatile uint32_t *e = ctx_input(a, 1 + dci);
	const struct xhci_ep *ep = d->ep[dci];

	e[0] = (uint32_t)ep->mult << EP_MULT_SHIFT |
	    (uint32_t)ep->interval << EP_INTERVAL_SHIFT |
	    (ep->esit >> 16) << EP_ESIT_HI_SHIFT;
	e[1] = 3u << EP_CERR_SHIFT | (uint32_t)ep->type << EP_TYPE_SHIFT |
	    (uint32_t)ep->burst << EP_BURST_SHIFT |
	    (uint32_t)ep->mps << EP_MPS_SHIFT;
	e[2] = (uint32_t)deq | (dcs & EP_DCS);
	e[3] = (uint32_t)(deq >> 32);
	e[4] = ep->avg | (ep->esit & 0xffffu) << EP_ESIT_LO_SHIFT;
}

/* EP0's max packet before the device says (HARDWARE.md, enumeration). */
unsigned
ctx_ep0_mps(unsigned speed)
{
	switch (speed) {
	case USB_SPEED_HIGH: return 64;
	case USB_SPEED_SUPER:
	case USB_SPEED_SUPER_PLUS: return 512;
	default: return 8;
	}
}

static unsigned
log2_floor(unsigned v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

static unsigned
clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* §6.2.3.6: the Interval field, 2^Interval x 125 us. */
unsigned
ctx_interval(unsigned speed, unsigned type, unsigned binterval)
{
	int fs = speed == USB_SPEED_LOW || speed == USB_SPEED_FULL;

	if (type != USB_EP_INTERRUPT && type != USB_EP_ISOCH)
		return 0;
	if (!binterval)
		binterval = 1;
	if (fs && type == USB_EP_INTERRUPT)
		return clamp(3 + log2_floor(binterval), 3, 10);
	return clamp(binterval > 16 ? 15 : binterval - 1 + (fs ? 3 : 0), 0,
	    15);
}

/* The endpoint context's fields from its descriptors: PB_OK, or
 * PB_ENOTSUP (isochronous, control beyond EP0), PB_EINVAL. */
int
ctx_ep_params(const struct xhci_dev *d, const struct usb_endpoint_desc *e,
    const struct usb_ss_ep_comp_desc *ss, struct xhci_ep *ep)
{
	unsigned type = e->bmAttributes & 3u, in = e->bEndpointAddress >> 7;
	unsigned mps = e->wMaxPacketSize & 0x7ffu;
	unsigned extra = (e->wMaxPacketSize >> 11) & 3u;
	int super = d->speed >= USB_SPEED_SUPER;

	if (e->bLength < sizeof(*e) || e->bDescriptorType != USB_DT_ENDPOINT ||
	    !(e->bEndpointAddress & 0x0fu) || (e->bEndpointAddress & 0x70u) ||
	    !mps || (ss && (ss->bLength < sizeof(*ss) ||
	    ss->bDescriptorType != USB_DT_SS_EP_COMP)))
		return PB_EINVAL;
	if (type == USB_EP_ISOCH || type == USB_EP_CONTROL)
		return PB_ENOTSUP;
	ep->type = (uint8_t)(type == USB_EP_BULK ? (in ? EPT_BULK_IN :
	    EPT_BULK_OUT) : (in ? EPT_INTR_IN : EPT_INTR_OUT));
	ep->mps = (uint16_t)mps;
	ep->mult = 0;
	ep->burst = 0;
	if (super && ss)
		ep->burst = (uint8_t)(ss->bMaxBurst > 15 ? 15 : ss->bMaxBurst);
	else if (d->speed == USB_SPEED_HIGH && type == USB_EP_INTERRUPT)
		ep->burst = (uint8_t)(extra > 2 ? 2 : extra);
	ep->interval = (uint8_t)ctx_interval(d->speed, type, e->bInterval);
	ep->esit = 0;
	if (type == USB_EP_INTERRUPT)
		ep->esit = super && ss ? ss->wBytesPerInterval :
		    mps * (ep->burst + 1u);
	ep->avg = (uint16_t)(type == USB_EP_BULK ? 3072 : ep->esit ?
	    (ep->esit > 0xffff ? 0xffff : ep->esit) : 1024);
	return PB_OK;
}
