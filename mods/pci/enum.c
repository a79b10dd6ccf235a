/*
 * enum.c - the walk over a segment (PCI 3.0 §3.2.2.3, PCI-PCI Bridge 1.2
 * §3.2.5): bus by bus from the segment's start bus, 32 devices per bus, 8
 * functions when function 0's header type has bit 7 set (one otherwise),
 * and the secondary bus of every PCI-PCI bridge queued in turn.
 *
 * The firmware numbered the buses; we keep its numbers.  A bus is visited
 * at most once and must lie inside the segment, so a bridge graph that
 * points backwards or in circles ends the walk, with one line.
 */
#include "pcibus.h"

struct walk {
	struct segment *s;
	uint8_t queue[PCI_NBUS];
	unsigned head, tail;
	uint8_t seen[PCI_NBUS / 8];	/* queued or visited */
};

static int
seen(const struct walk *w, unsigned bus)
{
	return w->seen[bus / 8] >> (bus % 8) & 1;
}

static void
enqueue(struct walk *w, unsigned bus)
{
	w->seen[bus / 8] |= 1u << (bus % 8);
	w->queue[w->tail++ % PCI_NBUS] = (uint8_t)bus;
}

static uint32_t
seg_read(const struct segment *s, unsigned bus, unsigned dev, unsigned fn,
    unsigned off, unsigned width)
{
	return s->ops->read(s->ctx, bus, dev, fn, off, width);
}

/* The bus behind bridge f, if it is one we may walk. */
static void
follow_bridge(struct walk *w, const struct func *f)
{
	unsigned sec = cfg_read(f, PCI_SECONDARY_BUS, 1);

	if (sec <= f->info.bus || sec < w->s->bus_start ||
	    sec > w->s->bus_end) {
		pci_log(PB_LOG_WARN, "%s: bridge to bus %u, not below bus %u "
		    "or outside the segment's %u-%u: not followed", f->name,
		    sec, f->info.bus, w->s->bus_start, w->s->bus_end);
		return;
	}
	if (seen(w, sec)) {
		pci_log(PB_LOG_WARN, "%s: bridge to bus %u, which was reached "
		    "already: not followed", f->name, sec);
		return;
	}
	enqueue(w, sec);
}

static void
name_func(struct func *f)
{
	const struct pci_func_info *i = &f->info;

	if (i->segment)
		rt_snprintf(f->name, sizeof(f->name), "%04x:%02x:%02x.%x",
		    i->segment, i->bus, i->dev, i->fn);
	else
		rt_snprintf(f->name, sizeof(f->name), "%02x:%02x.%x", i->bus,
		    i->dev, i->fn);
}

/* What the header says about function f (PCI 3.0 §6.1, §6.2.4). */
static void
read_header(struct func *f)
{
	struct pci_func_info *i = &f->info;
	uint32_t cls = cfg_read(f, PCI_REVISION, 4);

	i->revision = cls & 0xff;
	i->prog_if = cls >> 8 & 0xff;
	i->subclass = cls >> 16 & 0xff;
	i->class_code = cls >> 24;
	i->irq_line = cfg_read(f, PCI_INTERRUPT_LINE, 1);
	i->irq_pin = cfg_read(f, PCI_INTERRUPT_PIN, 1);
	if (i->irq_pin > 4)
		i->irq_pin = 0;		/* 5-0xff are reserved */
	switch (i->header_type & PCI_HDR_TYPE_MASK) {
	case PCI_HDR_NORMAL:
		f->nbars = 6;
		i->subsys_vendor = cfg_read(f, PCI_SUBSYS_VENDOR, 2);
		i->subsys_device = cfg_read(f, PCI_SUBSYS_ID, 2);
		break;
	case PCI_HDR_BRIDGE:
		f->nbars = 2;
		break;
	default:
		f->nbars = 0;	/* CardBus: its one BAR is socket registers */
		break;
	}
}

void
funcs_free(void)
{
	if (pci.funcs)
		pci.hub->free(pci.self, pci.funcs);
	pci.funcs = NULL;
	pci.nfuncs = pci.cap = 0;
}

/* Room for one more function: a page of them first, then twice the
 * pages (the hub hands out whole pages).  Nothing keeps a pointer into
 * the table while the walk runs: functions are published after it. */
static int
funcs_grow(void)
{
	size_t bytes = pci.cap ? 2 * ((pci.cap * sizeof(struct func) + 4095) &
	    ~(size_t)4095) : 4096;
	unsigned cap = (unsigned)(bytes / sizeof(struct func));
	struct func *t;

	if (cap > PCI_MAX_FUNCS)
		cap = PCI_MAX_FUNCS;
	if (!(t = pci.hub->alloc(pci.self, cap * sizeof(*t))))
		return PB_ENOMEM;
	if (pci.nfuncs)
		memcpy(t, pci.funcs, pci.nfuncs * sizeof(*t));
	if (pci.funcs)
		pci.hub->free(pci.self, pci.funcs);
	pci.funcs = t;
	pci.cap = cap;
	return PB_OK;
}

/* Record function bus:dev.fn (present, header type ht). */
static struct func *
add_func(struct segment *s, unsigned bus, unsigned dev, unsigned fn,
    uint32_t id, uint8_t ht)
{
	struct func *f;

	if (pci.nfuncs == pci.cap && (pci.cap == PCI_MAX_FUNCS ||
	    funcs_grow() != PB_OK)) {
		pci.dropped++;
		return NULL;
	}
	f = &pci.funcs[pci.nfuncs++];
	*f = (struct func){ .seg = s };
	f->info.segment = s->number;
	f->info.bus = (uint8_t)bus;
	f->info.dev = (uint8_t)dev;
	f->info.fn = (uint8_t)fn;
	f->info.vendor = id & 0xffff;
	f->info.device = id >> 16;
	f->info.header_type = ht;
	name_func(f);
	read_header(f);
	f->cmd_orig = cfg_read(f, PCI_COMMAND, 2);
	bars_size(f);
	caps_read(f);
	flr_probe(f);
	return f;
}

static void
scan_device(struct walk *w, unsigned bus, unsigned dev)
{
	struct segment *s = w->s;
	unsigned nfn = 1;

	for (unsigned fn = 0; fn < nfn; fn++) {
		uint32_t id = seg_read(s, bus, dev, fn, PCI_VENDOR_ID, 4);
		uint8_t ht;
		struct func *f;

		/* No function answers: all ones (or a broken zero). */
		if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
			continue;
		ht = seg_read(s, bus, dev, fn, PCI_HEADER_TYPE, 1);
		if (fn == 0 && (ht & PCI_HDR_MULTIFN))
			nfn = PCI_NFN;
		f = add_func(s, bus, dev, fn, id, ht);
		if (f && (ht & PCI_HDR_TYPE_MASK) == PCI_HDR_BRIDGE)
			follow_bridge(w, f);
	}
}

void
enum_segment(struct segment *s)
{
	struct walk w = { .s = s };

	enqueue(&w, s->bus_start);
	while (w.head != w.tail) {
		unsigned bus = w.queue[w.head++ % PCI_NBUS];

		for (unsigned dev = 0; dev < PCI_NDEV; dev++) {
			uint32_t id = seg_read(s, bus, dev, 0, PCI_VENDOR_ID, 2);

			if (id != 0xffff && id != 0)
				scan_device(&w, bus, dev);
		}
	}
}
