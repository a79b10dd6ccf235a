/*
 * mod_pci.c - host tests of the pci module (mods/pci) against a model of
 * configuration space: every function is 4 KiB of registers with a mask
 * of writable bits, so BAR sizing reads back what a real BAR would, and
 * writes are watched (were decode off and interrupts held while a BAR was
 * sized? did anything get printed meanwhile?).
 *
 * The machine modelled:
 *   00:00.0 host bridge 8086:29c0 (decode on, never toggled)
 *   00:01.0 PCI-PCI bridge 1b36:0001 to bus 1
 *   00:02.0 multi-function device, fn 0 (SATA, mem32 BAR with the MSI-X
 *           table, caps MSI 64-bit -> MSI-X -> PCIe) and fn 3 (SMBus,
 *           I/O BAR, 32-bit MSI); fn 1, 2 absent
 *   00:03.0 a capability list that loops back
 *   00:04.0 BAR1 sizes to garbage, BAR0 fine
 *   00:05.0 a bridge pointing back to bus 0
 *   00:06.0 a second bridge to bus 1
 *   00:07.0 a single-function device answering on every function number
 *   01:00.0 1234:1111: 64-bit prefetchable BAR0/1, 32-bit BAR2, I/O BAR4
 *           with a 16-bit decoder
 * reached through the module's port I/O path (0xCF8/0xCFC modelled behind
 * cfgport_in/out) or directly through a cfg_ops of its own.  ecam.c is
 * tested on a memory window.  A function-level reset (PCIe Device Control
 * bit 15, or Advanced Features Control bit 0) clears every writable bit,
 * as after power-on, and the function answers only after ready_ns (Vendor
 * ID reads 0x0001, a CRS completion, until then); any access in the first
 * 100 ms is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/pci/pci.c"
#include "../../mods/pci/ecam.c"
#include "../../mods/pci/portcfg.c"
#include "../../mods/pci/enum.c"
#include "../../mods/pci/bar.c"
#include "../../mods/pci/caps.c"
#include "../../mods/pci/props.c"
#include "../../mods/pci/ops.c"
#include "../../mods/pci/msi.c"
#include "../../mods/pci/flr.c"
#include "../../mods/pci/xhcileg.c"

/* ---- the model ----------------------------------------------------- */

#define NBUS 2
#define BARMEM_BASE 0xfebd0000ull	/* 00:02.0's BAR0 page lives here */

struct fdev {
	int present;
	uint8_t cfg[4096];
	uint8_t wmask[4096];
	uint16_t boot_cmd;
	uint32_t boot_bar[6];
	/* Function-level reset: where it is started, what it did. */
	unsigned flr_devctl, flr_afctl;	/* config offsets, 0: none */
	uint64_t ready_ns;		/* after a reset, till it answers */
	uint64_t reset_at;		/* now_ns of the last reset */
	int in_reset;
	unsigned flrs, touched_early;
};

static uint64_t now_ns;			/* the fake hub's clock */
#define FLR_QUIET_NS 100000000ull	/* PCIe 3.0 §6.6.2 */

#include "pciports.h"

static struct fdev devs[NBUS][32][8];
static unsigned sized_with_decode;	/* all-ones BAR writes, decode on */
static unsigned bar_writes;		/* all-ones BAR writes in all */
static unsigned logged_while_off;	/* log lines while decode was off */
static unsigned sized_with_irqs;	/* all-ones BAR writes, irqs open */
static unsigned bus1_scans;		/* header type reads, 01:00.0 */
static unsigned cmd_writes;		/* COMMAND writes, any function */
static uint8_t barmem[0x1000];		/* 00:02.0 BAR0: the MSI-X table */
#define XHCI_BAR_BASE 0xf7f00000ull	/* an xHCI's BAR0 (boot_xhci) */
static uint8_t xhcimem[0x10000];

/* The pci module reads an xHCI's registers through mmio.h. */
uint32_t
mmio_read32(const volatile void *reg)
{
	uint32_t v;

	memcpy(&v, (const void *)reg, 4);
	return v;
}

static struct fdev *
fd(unsigned bus, unsigned dev, unsigned fn)
{
	return bus < NBUS && dev < 32 && fn < 8 ? &devs[bus][dev][fn] : NULL;
}

static uint32_t
get(const struct fdev *d, unsigned off, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)d->cfg[off + i] << 8 * i;
	return v;
}

static void
put(struct fdev *d, unsigned off, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++)
		d->cfg[off + i] = v >> 8 * i & 0xff;
}

static void
writable(struct fdev *d, unsigned off, unsigned width, uint32_t mask)
{
	for (unsigned i = 0; i < width; i++)
		d->wmask[off + i] = mask >> 8 * i & 0xff;
}

static int
is_host_bridge(const struct fdev *d)
{
	return get(d, 0x0a, 2) == 0x0600;
}

static unsigned
nbars_of(const struct fdev *d)
{
	return (d->cfg[0x0e] & 0x7f) == 0 ? 6 : (d->cfg[0x0e] & 0x7f) == 1 ?
	    2 : 0;
}

/* Is d inside its reset?  Counts an access that came too early. */
static int
resetting(struct fdev *d)
{
	if (!d->in_reset)
		return 0;
	if (now_ns < d->reset_at + FLR_QUIET_NS)
		d->touched_early++;
	if (now_ns < d->reset_at + d->ready_ns)
		return 1;
	d->in_reset = 0;
	return 0;
}

/* Every writable bit back to zero: the firmware's BARs are gone too. */
static void
model_flr(struct fdev *d)
{
	for (unsigned i = 0; i < sizeof(d->cfg); i++)
		d->cfg[i] &= (uint8_t)~d->wmask[i];
	d->flrs++;
	d->in_reset = 1;
	d->reset_at = now_ns;
}

static uint32_t
model_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width)
{
	struct fdev *d = fd(bus, dev, fn);
	uint32_t ones = width == 4 ? 0xffffffffu : (1u << 8 * width) - 1;

	(void)ctx;
	if (bus == 1 && dev == 0 && fn == 0 && off == PCI_HEADER_TYPE)
		bus1_scans++;
	if (!d || !d->present)
		return ones;
	if (resetting(d))
		return off == 0 ? (0x0001 & ones) : ones;
	return get(d, off, width);
}

static void
model_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width, uint32_t v)
{
	struct fdev *d = fd(bus, dev, fn);

	(void)ctx;
	if (!d || !d->present || resetting(d))
		return;
	if (off <= PCI_COMMAND && off + width > PCI_COMMAND)
		cmd_writes++;
	if ((d->flr_devctl && off == d->flr_devctl && width >= 2 &&
	    (v & 0x8000)) || (d->flr_afctl && off == d->flr_afctl && (v & 1))) {
		model_flr(d);
		return;
	}
	if (width == 4 && v == 0xffffffffu && off >= 0x10 &&
	    off < 0x10 + 4 * nbars_of(d)) {
		bar_writes++;
		if ((get(d, 4, 2) & 3) && !is_host_bridge(d))
			sized_with_decode++;
		if (!irq_held)
			sized_with_irqs++;
	}
	for (unsigned i = 0; i < width; i++)
		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~d->wmask[off + i]) |
		    ((v >> 8 * i) & d->wmask[off + i]));
}

static const struct cfg_ops model_ops = { model_read, model_write };

static struct fdev *
fnew(unsigned bus, unsigned dev, unsigned fn, uint16_t vendor,
    uint16_t device, uint32_t class, uint8_t rev, uint8_t ht)
{
	struct fdev *d = fd(bus, dev, fn);

	memset(d, 0, sizeof(*d));
	d->present = 1;
	put(d, 0x00, 2, vendor);
	put(d, 0x02, 2, device);
	put(d, 0x04, 2, 0x0003);		/* firmware left decode on */
	writable(d, 0x04, 2, 0x0407);
	put(d, 0x08, 4, class << 8 | rev);
	put(d, 0x0e, 1, ht);
	writable(d, 0x3c, 1, 0xff);
	if ((ht & 0x7f) == 0) {
		put(d, 0x2c, 2, 0x1af4);
		put(d, 0x2e, 2, 0x1100);
	}
	return d;
}

/* A BAR: flags as the low bits say, writable above the size. */
static void
fbar(struct fdev *d, unsigned i, uint32_t flags, uint64_t base,
    uint64_t size)
{
	unsigned off = 0x10 + 4 * i;
	uint64_t addr = ~(size - 1);

	put(d, off, 4, (uint32_t)base | flags);
	if (flags & 1) {
		writable(d, off, 4, (uint32_t)addr & 0xfffc);	/* 16-bit I/O */
		return;
	}
	writable(d, off, 4, (uint32_t)addr & ~0xfu);
	if ((flags & 6) == 4) {
		put(d, off + 4, 4, (uint32_t)(base >> 32));
		writable(d, off + 4, 4, (uint32_t)(addr >> 32));
	}
}

static void
fbridge(struct fdev *d, unsigned primary, unsigned secondary)
{
	put(d, 0x18, 1, primary);
	put(d, 0x19, 1, secondary);
	put(d, 0x1a, 1, secondary);
	writable(d, 0x18, 3, 0xffffff);
}

/* A capability list: ids and where each lives, in list order. */
static void
fcaps(struct fdev *d, const uint8_t *at, const uint8_t *id, unsigned n,
    uint8_t last_next)
{
	put(d, 0x06, 2, get(d, 0x06, 2) | 0x10);
	put(d, 0x34, 1, at[0]);
	for (unsigned i = 0; i < n; i++) {
		put(d, at[i], 1, id[i]);
		put(d, at[i] + 1, 1, i + 1 < n ? at[i + 1] : last_next);
	}
}

static void
build_model(void)
{
	struct fdev *d;

	memset(devs, 0, sizeof(devs));
	memset(barmem, 0, sizeof(barmem));
	sized_with_decode = bar_writes = logged_while_off = bus1_scans = 0;
	sized_with_irqs = 0;
	irq_held = 0;

	d = fnew(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0, 0);
	put(d, 0x04, 2, 0x0006);		/* memory + master */

	d = fnew(0, 1, 0, 0x1b36, 0x0001, 0x060400, 0, 1);
	fbridge(d, 0, 1);

	/* 00:02.0: MSI (64-bit, per-vector masking) -> MSI-X -> PCIe */
	d = fnew(0, 2, 0, 0x8086, 0x2922, 0x010601, 2, 0x80);
	fbar(d, 5, 0, BARMEM_BASE, 0x1000);
	fcaps(d, (const uint8_t[]){ 0x50, 0x68, 0x80 },
	    (const uint8_t[]){ 0x05, 0x11, 0x10 }, 3, 0);
	put(d, 0x52, 2, 0x0180);		/* 64-bit, masking */
	writable(d, 0x52, 2, 0x0071);
	writable(d, 0x54, 4, 0xfffffffc);
	writable(d, 0x58, 4, 0xffffffff);
	writable(d, 0x5c, 2, 0xffff);
	put(d, 0x60, 4, 0x1);			/* vector 0 masked */
	writable(d, 0x60, 4, 0x1);
	put(d, 0x6a, 2, 0x0003);		/* 4 entries */
	writable(d, 0x6a, 2, 0xc000);
	put(d, 0x6c, 4, 0x800 | 5);		/* BAR5 + 0x800 */
	put(d, 0x3d, 1, 1);
	for (unsigned e = 0; e < 4; e++)	/* entries reset masked */
		barmem[0x800 + 16 * e + 12] = 1;

	/* 00:02.3: 32-bit MSI only */
	d = fnew(0, 2, 3, 0x8086, 0x2930, 0x0c0500, 2, 0);
	fbar(d, 4, 1, 0x6000, 0x40);
	fcaps(d, (const uint8_t[]){ 0x40 }, (const uint8_t[]){ 0x05 }, 1, 0);
	writable(d, 0x42, 2, 0x0071);
	writable(d, 0x44, 4, 0xfffffffc);
	writable(d, 0x48, 2, 0xffff);
	put(d, 0x3d, 1, 2);

	/* 00:03.0: PCIe at 0x40, MSI at 0x48, which points back to 0x40 */
	d = fnew(0, 3, 0, 0x1af4, 0x1041, 0x020000, 1, 0);
	fcaps(d, (const uint8_t[]){ 0x40, 0x48 },
	    (const uint8_t[]){ 0x10, 0x05 }, 2, 0x40);

	/* 00:04.0: BAR1's size mask has a hole: 0xfff0f000 */
	d = fnew(0, 4, 0, 0x1234, 0xbad0, 0x078000, 0, 0);
	fbar(d, 0, 0, 0xfe000000, 0x1000);
	put(d, 0x14, 4, 0xfd000000);
	writable(d, 0x14, 4, 0xfff0f000);

	d = fnew(0, 5, 0, 0x1b36, 0x0001, 0x060400, 0, 1);
	fbridge(d, 0, 0);			/* back to bus 0 */
	d = fnew(0, 6, 0, 0x1b36, 0x0001, 0x060400, 0, 1);
	fbridge(d, 0, 1);			/* bus 1 again */

	/* 00:07.0: single function, decodes no function number */
	d = fnew(0, 7, 0, 0x8086, 0x100e, 0x020000, 3, 0);
	for (unsigned f = 1; f < 8; f++)
		devs[0][7][f] = *d;

	/* 01:00.0 */
	d = fnew(1, 0, 0, 0x1234, 0x1111, 0x030000, 2, 0);
	fbar(d, 0, 0xc, 0x800000000ull, 0x4000);	/* mem64p */
	fbar(d, 2, 0, 0xc1000000, 0x1000000);		/* mem32 */
	fbar(d, 4, 1, 0xc000, 0x20);			/* io */
	put(d, 0x3d, 1, 1);

	for (unsigned b = 0; b < NBUS; b++)
		for (unsigned v = 0; v < 32; v++)
			for (unsigned f = 0; f < 8; f++) {
				d = &devs[b][v][f];
				d->boot_cmd = get(d, 0x04, 2);
				for (unsigned i = 0; i < 6; i++)
					d->boot_bar[i] = get(d, 0x10 + 4 * i, 4);
			}
}

/* ---- the hub ------------------------------------------------------- */

static int self_token, client_token;
#define SELF ((struct pb_module *)&self_token)
#define CLIENT ((struct pb_module *)&client_token)

static char logbuf[16384];

struct pubrec {
	char name[48], props[PCI_PROPS_MAX];
	const void *ops;
	void *ctx;
	unsigned limit;
	int withdrawn;
};
static struct pubrec pubs[32];
static unsigned npubs;

struct maprec {
	struct pb_module *owner;
	uint64_t phys;
	size_t len;
	int cache, unmapped;
	void *va;
};
static struct maprec maps[16];
static unsigned nmaps;
static uint8_t *ecam_window;		/* what an ECAM map returns */

static void
fake_log(struct pb_module *m, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)m;
	(void)level;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
	for (unsigned b = 0; b < NBUS; b++)
		for (unsigned v = 0; v < 32; v++)
			for (unsigned f = 0; f < 8; f++) {
				struct fdev *d = &devs[b][v][f];

				if (d->present && (get(d, 4, 2) & 3) !=
				    (d->boot_cmd & 3))
					logged_while_off++;
			}
}

static void *
fake_map(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	struct maprec *r = &maps[nmaps++];
	void *va = (void *)(uintptr_t)phys;	/* never dereferenced */

	if (phys >= BARMEM_BASE && phys + len <= BARMEM_BASE + sizeof(barmem))
		va = barmem + (phys - BARMEM_BASE);
	else if (phys == XHCI_BAR_BASE && len <= sizeof(xhcimem))
		va = xhcimem;
	else if (ecam_window)
		va = ecam_window;
	*r = (struct maprec){ m, phys, len, cache, 0, va };
	return va;
}

static void
fake_unmap(struct pb_module *m, void *va)
{
	for (unsigned i = 0; i < nmaps; i++)
		if (maps[i].va == va && maps[i].owner == m && !maps[i].unmapped) {
			maps[i].unmapped = 1;
			return;
		}
	check_fail(__FILE__, __LINE__, "unmap of %p, which is not mapped", va);
}

static struct pb_resource *
fake_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	struct pubrec *r = &pubs[npubs++];

	(void)m;
	snprintf(r->name, sizeof(r->name), "%s:%s", iface, name);
	snprintf(r->props, sizeof(r->props), "%s", props);
	r->ops = ops;
	r->ctx = ctx;
	return (struct pb_resource *)r;
}

static int
fake_limit(struct pb_module *m, struct pb_resource *res, unsigned max)
{
	(void)m;
	((struct pubrec *)res)->limit = max;
	return PB_OK;
}

static int
fake_withdraw(struct pb_module *m, struct pb_resource *res)
{
	(void)m;
	((struct pubrec *)res)->withdrawn = 1;
	return PB_OK;
}

/* One-shot timers, run as now_ns passes their time. */
static struct {
	uint64_t when;
	pb_work_fn fn;
	void *arg;
} ftimers[4];

static int
fake_timer_after(struct pb_module *m, uint64_t ns, pb_work_fn fn, void *arg)
{
	(void)m;
	for (unsigned i = 0; i < 4; i++)
		if (!ftimers[i].fn) {
			ftimers[i].when = now_ns + ns;
			ftimers[i].fn = fn;
			ftimers[i].arg = arg;
			return (int)i + 1;
		}
	return PB_ENOMEM;
}

static unsigned
timers_armed(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 4; i++)
		n += ftimers[i].fn != NULL;
	return n;
}

static void
time_passes(uint64_t ns)
{
	now_ns += ns;
	for (unsigned i = 0; i < 4; i++)
		if (ftimers[i].fn && ftimers[i].when <= now_ns) {
			pb_work_fn fn = ftimers[i].fn;

			ftimers[i].fn = NULL;
			fn(ftimers[i].arg);
		}
}

static void *
fake_alloc(struct pb_module *m, size_t bytes)
{
	(void)m;
	return calloc(1, bytes);
}

static void
fake_free(struct pb_module *m, void *p)
{
	(void)m;
	free(p);
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.map_mmio = fake_map,
	.unmap_mmio = fake_unmap,
	.publish = fake_publish,
	.withdraw = fake_withdraw,
	.res_limit = fake_limit,
	.timer_after = fake_timer_after,
};

static void
reset_all(void)
{
	free(pci.funcs);	/* a test that did not stop the module */
	memset(&pci, 0, sizeof(pci));
	memset(pubs, 0, sizeof(pubs));
	memset(maps, 0, sizeof(maps));
	npubs = nmaps = 0;
	logbuf[0] = '\0';
	cf8 = 0;
	cf8_dead = 0;
	ecam_window = NULL;
	memset(ftimers, 0, sizeof(ftimers));
	now_ns = 0;
	build_model();
}

/* Boot the module over the port path; returns start()'s answer. */
static int
boot(void)
{
	reset_all();
	return pci_start(SELF, &fake_hub, PB_START_NORMAL);
}

static struct func *
func_at(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < pci.nfuncs; i++) {
		struct func *f = &pci.funcs[i];

		if (f->info.bus == bus && f->info.dev == dev && f->info.fn == fn)
			return f;
	}
	return NULL;
}

static const struct pubrec *
pub_named(const char *name)
{
	for (unsigned i = 0; i < npubs; i++)
		if (strcmp(pubs[i].name, name) == 0)
			return &pubs[i];
	return NULL;
}

static unsigned
count_lines(const char *needle)
{
	unsigned n = 0;

	for (const char *p = logbuf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- tests --------------------------------------------------------- */

TEST(pci_enumerates_buses_bridges_and_functions)
{
	static const char *const want[] = {
		"00:00.0", "00:01.0", "00:02.0", "00:02.3", "00:03.0",
		"00:04.0", "00:05.0", "00:06.0", "00:07.0", "01:00.0",
	};
	unsigned n = sizeof(want) / sizeof(want[0]);

	REQUIRE(boot() == PB_OK);
	CHECK_EQ_INT(pci.nseg, 1);
	CHECK_STR(pci.seg[0].how, "port I/O");
	CHECK_EQ_INT(pci.seg[0].cfg_size, 256);
	REQUIRE(pci.nfuncs == n);
	for (unsigned i = 0; i < n; i++)
		CHECK_STR(pci.funcs[i].name, want[i]);
	/* Bus 1 is walked once although two bridges lead there. */
	CHECK_EQ_INT(bus1_scans, 1);
	CHECK_STR(pci.funcs[n - 2].name, "00:07.0");
	/* One line per function, after the walk. */
	CHECK_CONTAINS(logbuf, "segment 0 buses 00-ff through port I/O\n");
	CHECK_CONTAINS(logbuf, "00:02.0 8086:2922 class 01.06.01\n");
	CHECK_CONTAINS(logbuf, "00:01.0 1b36:0001 class 06.04.00 (bridge)\n");
	CHECK_CONTAINS(logbuf, "01:00.0 1234:1111 class 03.00.00\n");
	CHECK_EQ_INT(count_lines(" class "), n);
	/* The bogus bridges: one line each, the walk goes on. */
	CHECK_CONTAINS(logbuf, "00:05.0: bridge to bus 0, not below bus 0");
	CHECK_CONTAINS(logbuf, "00:06.0: bridge to bus 1, which was reached "
	    "already: not followed");
	CHECK_CONTAINS(logbuf, "no acpi module: configuration through ports");
}

TEST(pci_bar_sizing_decodes_and_restores)
{
	struct func *f;
	const struct pci_bar *b;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(1, 0, 0)) != NULL);
	b = f->info.bars;
	CHECK_EQ_INT(b[0].kind, PCI_BAR_MEM64);
	CHECK(b[0].base == 0x800000000ull);
	CHECK(b[0].size == 0x4000);
	CHECK_EQ_INT(b[0].prefetchable, 1);
	CHECK_EQ_INT(b[1].kind, PCI_BAR_NONE);	/* upper half of bar0 */
	CHECK_EQ_INT(b[2].kind, PCI_BAR_MEM32);
	CHECK(b[2].base == 0xc1000000 && b[2].size == 0x1000000);
	CHECK_EQ_INT(b[2].prefetchable, 0);
	CHECK_EQ_INT(b[4].kind, PCI_BAR_IO);
	CHECK(b[4].base == 0xc000 && b[4].size == 0x20);
	CHECK_EQ_INT(b[3].kind, PCI_BAR_NONE);
	CHECK_EQ_INT(b[5].kind, PCI_BAR_NONE);
	REQUIRE((f = func_at(0, 2, 3)) != NULL);
	CHECK(f->info.bars[4].kind == PCI_BAR_IO && f->info.bars[4].size == 0x40);

	/* Every BAR sized, never with decode on (host bridge aside). */
	CHECK(bar_writes >= 40);
	CHECK_EQ_INT(sized_with_decode, 0);
	CHECK_EQ_INT(logged_while_off, 0);
	/* ... with interrupts held, and given back after */
	CHECK_EQ_INT(sized_with_irqs, 0);
	CHECK_EQ_INT(irq_held, 0);
	/* COMMAND and the BARs are as the firmware left them. */
	for (unsigned v = 0; v < 32; v++)
		for (unsigned fn = 0; fn < 8; fn++)
			for (unsigned bus = 0; bus < NBUS; bus++) {
				struct fdev *d = &devs[bus][v][fn];

				if (!d->present)
					continue;
				CHECK_MSG(get(d, 4, 2) == d->boot_cmd, "%02x:%02x.%u "
				    "COMMAND 0x%04x, was 0x%04x", bus, v, fn,
				    get(d, 4, 2), d->boot_cmd);
				for (unsigned i = 0; i < 6; i++)
					CHECK_MSG(get(d, 0x10 + 4 * i, 4) ==
					    d->boot_bar[i], "%02x:%02x.%u bar%u "
					    "0x%08x, was 0x%08x", bus, v, fn, i,
					    get(d, 0x10 + 4 * i, 4),
					    d->boot_bar[i]);
			}
}

TEST(pci_garbage_bar_is_told_and_boot_goes_on)
{
	struct func *f;
	const struct pubrec *p;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 4, 0)) != NULL);
	CHECK_EQ_INT(f->info.bars[0].kind, PCI_BAR_MEM32);
	CHECK_EQ_INT(f->info.bars[1].kind, PCI_BAR_NONE);
	CHECK(f->info.bars[1].size == 0);
	CHECK_EQ_INT(f->bar_why[1], BAR_NOT_POW2);
	CHECK_EQ_INT(count_lines("unusable"), 1);
	CHECK_CONTAINS(logbuf, "00:04.0: bar1 unusable: size mask is not a "
	    "power of two (size mask 0xfff0f000)\n");
	/* The walk went on past it, and it is published without bar1. */
	CHECK(func_at(0, 5, 0) != NULL);
	CHECK(func_at(1, 0, 0) != NULL);
	REQUIRE((p = pub_named("pci:00:04.0")) != NULL);
	CHECK_STR(p->props, "bdf=00:04.0 seg=0 vendor=1234 device=bad0 "
	    "class=07.80.00 subsys=1af4:1100 rev=00 irq-pin=0 "
	    "bar0=mem32:0xfe000000+0x1000");
}

TEST(pci_bar_garbage_kinds)
{
	struct func f = { 0 };
	struct probe p[6] = { 0 };

	f.nbars = 6;
	/* absent: all ones */
	p[0] = (struct probe){ 0xffffffff, 0xffffffff };
	/* type bits changing */
	p[1] = (struct probe){ 0xfe000000, 0xfffff001 };
	/* reserved memory type 3 */
	p[2] = (struct probe){ 0xfe000006, 0xfffff006 };
	/* misaligned base */
	p[3] = (struct probe){ 0xfe000800, 0xfffff000 };
	/* a 64-bit BAR in the last slot */
	p[5] = (struct probe){ 0xfe000004, 0xfffff004 };
	decode(&f, p);
	CHECK_EQ_INT(f.bar_why[0], BAR_ABSENT);
	CHECK_EQ_INT(f.bar_why[1], BAR_TYPE_CHANGED);
	CHECK_EQ_INT(f.bar_why[2], BAR_RESERVED_TYPE);
	CHECK_EQ_INT(f.bar_why[3], BAR_MISALIGNED);
	CHECK_EQ_INT(f.bar_why[4], BAR_OK);
	CHECK_EQ_INT(f.bar_why[5], BAR_64_LAST);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ_INT(f.info.bars[i].kind, PCI_BAR_NONE);

	/* A 64-bit BAR of 8 GiB: low mask 0, high mask 0xfffffffe. */
	memset(&f, 0, sizeof(f));
	f.nbars = 6;
	memset(p, 0, sizeof(p));
	p[0] = (struct probe){ 0x0000000c, 0x0000000c };
	p[1] = (struct probe){ 0x00000004, 0xfffffffe };
	decode(&f, p);
	CHECK_EQ_INT(f.bar_why[0], BAR_OK);
	CHECK_EQ_INT(f.info.bars[0].kind, PCI_BAR_MEM64);
	CHECK(f.info.bars[0].base == 0x400000000ull);
	CHECK(f.info.bars[0].size == 0x200000000ull);
}

TEST(pci_props_are_exact)
{
	const struct pubrec *p;

	REQUIRE(boot() == PB_OK);
	CHECK_EQ_INT(npubs, 10);
	REQUIRE((p = pub_named("pci:01:00.0")) != NULL);
	CHECK_STR(p->props, "bdf=01:00.0 seg=0 vendor=1234 device=1111 "
	    "class=03.00.00 subsys=1af4:1100 rev=02 irq-pin=1 "
	    "bar0=mem64p:0x800000000+0x4000 bar2=mem32:0xc1000000+0x1000000 "
	    "bar4=io:0xc000+0x20");
	REQUIRE((p = pub_named("pci:00:02.0")) != NULL);
	CHECK_STR(p->props, "bdf=00:02.0 seg=0 vendor=8086 device=2922 "
	    "class=01.06.01 subsys=1af4:1100 rev=02 irq-pin=1 "
	    "bar5=mem32:0xfebd0000+0x1000 caps=msi,msix,pcie");
	REQUIRE((p = pub_named("pci:00:01.0")) != NULL);
	CHECK_STR(p->props, "bdf=00:01.0 seg=0 vendor=1b36 device=0001 "
	    "class=06.04.00 rev=00 irq-pin=0");
	REQUIRE((p = pub_named("pci:00:02.3")) != NULL);
	CHECK_STR(p->props, "bdf=00:02.3 seg=0 vendor=8086 device=2930 "
	    "class=0c.05.00 subsys=1af4:1100 rev=02 irq-pin=2 "
	    "bar4=io:0x6000+0x40 caps=msi");
	for (unsigned i = 0; i < npubs; i++) {
		CHECK_EQ_INT(pubs[i].limit, 1);
		CHECK(pubs[i].ops == &pci_func_ops);
	}
}

TEST(pci_props_fit_in_256_bytes)
{
	struct func f = { 0 };
	char buf[PCI_PROPS_MAX];
	unsigned cut;

	f.info.vendor = 0x8086;
	f.info.cap_msi = 0x50;
	f.info.cap_msix = 0x60;
	f.info.cap_pcie = 0x70;
	for (unsigned i = 0; i < 6; i++)
		f.info.bars[i] = (struct pci_bar){ .base = 0xfffff000 - i *
		    0x1000, .size = 0x1000, .kind = PCI_BAR_MEM32,
		    .prefetchable = 1 };
	cut = props_format(&f, buf, sizeof(buf));
	CHECK(cut > 0 && cut < 6);
	CHECK(strlen(buf) < sizeof(buf));
	CHECK_CONTAINS(buf, " bar0=mem32p:0xfffff000+0x1000 ");
	/* caps are never the ones cut, and end the line */
	CHECK(strlen(buf) > 19 &&
	    strcmp(buf + strlen(buf) - 19, " caps=msi,msix,pcie") == 0);
}

TEST(pci_capabilities)
{
	struct func *f;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	CHECK_EQ_INT(f->info.cap_msi, 0x50);
	CHECK_EQ_INT(f->info.cap_msix, 0x68);
	CHECK_EQ_INT(f->info.cap_pcie, 0x80);
	CHECK_EQ_INT(f->info.msix_entries, 4);
	CHECK_EQ_INT(f->msix_bir, 5);
	CHECK_EQ_INT(f->msix_offset, 0x800);
	/* the loop: what came before it is kept, one line says so */
	REQUIRE((f = func_at(0, 3, 0)) != NULL);
	CHECK_EQ_INT(f->info.cap_pcie, 0x40);
	CHECK_EQ_INT(f->info.cap_msi, 0x48);
	CHECK_CONTAINS(logbuf, "00:03.0: capability list loops back to 0x40");
	CHECK_EQ_INT(count_lines("capability"), 1);
	REQUIRE((f = func_at(0, 7, 0)) != NULL);
	CHECK_EQ_INT(f->info.cap_msi, 0);
}

TEST(pci_capability_pointer_into_header)
{
	struct func *f;
	struct fdev *d;

	reset_all();
	d = fd(0, 3, 0);
	put(d, 0x49, 1, 0x3c);		/* MSI's next: into the header */
	REQUIRE(pci_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	REQUIRE((f = func_at(0, 3, 0)) != NULL);
	CHECK_EQ_INT(f->info.cap_msi, 0x48);
	CHECK_CONTAINS(logbuf, "00:03.0: capability pointer 0x3c points into "
	    "the header");
}

TEST(pci_cfg_ops_check_their_arguments)
{
	struct func *f;
	uint32_t v = 0;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(1, 0, 0)) != NULL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0, 4, &v), PB_OK);
	CHECK_EQ_INT(v, 0x11111234);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 2, 2, &v), PB_OK);
	CHECK_EQ_INT(v, 0x1111);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0x0b, 1, &v), PB_OK);
	CHECK_EQ_INT(v, 0x03);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 2, 4, &v), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 1, 2, &v), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0, 3, &v), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0, 8, &v), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0xff, 1, &v), PB_OK);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0x100, 4, &v), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0xfc, 4, NULL), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.cfg_write(f, 0x3c, 1, 0x0b), PB_OK);
	CHECK_EQ_INT(devs[1][0][0].cfg[0x3c], 0x0b);
	CHECK_EQ_INT(pci_func_ops.cfg_write(f, 0x3e, 4, 0), PB_EINVAL);
	/* 4 KiB on an ECAM segment */
	f->seg->cfg_size = PCI_ECAM_SIZE;
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0x100, 4, &v), PB_OK);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0xffc, 4, &v), PB_OK);
	CHECK_EQ_INT(pci_func_ops.cfg_read(f, 0x1000, 1, &v), PB_EINVAL);
}

TEST(pci_enable_and_map_bar)
{
	struct func *f;
	struct pci_func_info info;
	void *va;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(1, 0, 0)) != NULL);
	CHECK_EQ_INT(pci_func_ops.info(f, &info), PB_OK);
	CHECK(info.vendor == 0x1234 && info.device == 0x1111);
	CHECK(info.bars[2].base == 0xc1000000);
	CHECK_EQ_INT(pci_func_ops.enable(f, PCI_CMD_MASTER, 1), PB_OK);
	CHECK_EQ_INT(get(&devs[1][0][0], 4, 2), 0x0007);
	CHECK_EQ_INT(pci_func_ops.enable(f, PCI_CMD_IO, 0), PB_OK);
	CHECK_EQ_INT(get(&devs[1][0][0], 4, 2), 0x0006);
	CHECK_EQ_INT(pci_func_ops.enable(f, 0x8000, 1), PB_EINVAL);

	nmaps = 0;
	va = pci_func_ops.map_bar(f, CLIENT, 2, PB_CACHE_WC);
	CHECK(va != NULL);
	REQUIRE(nmaps == 1);
	CHECK(maps[0].owner == CLIENT);		/* the driver's ledger */
	CHECK(maps[0].phys == 0xc1000000 && maps[0].len == 0x1000000);
	CHECK_EQ_INT(maps[0].cache, PB_CACHE_WC);
	va = pci_func_ops.map_bar(f, CLIENT, 0, PB_CACHE_UC);
	REQUIRE(nmaps == 2);
	CHECK(maps[1].phys == 0x800000000ull && maps[1].len == 0x4000);
	CHECK(pci_func_ops.map_bar(f, CLIENT, 1, PB_CACHE_UC) == NULL);
	CHECK(pci_func_ops.map_bar(f, CLIENT, 4, PB_CACHE_UC) == NULL);
	CHECK(pci_func_ops.map_bar(f, CLIENT, 6, PB_CACHE_UC) == NULL);
	CHECK_EQ_INT(nmaps, 2);
}

TEST(pci_msi_64bit_with_masking)
{
	struct func *f;
	struct fdev *d = &devs[0][2][0];

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	put(d, 0x52, 2, get(d, 0x52, 2) | 0x30);	/* stale MME */
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 1, 0xfee00000,
	    0x41), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, 7, 0, 0xfee00000, 0x41),
	    PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 0,
	    0x1fee01000ull, 0x4041), PB_OK);
	CHECK_EQ_INT(get(d, 0x54, 4), 0xfee01000);
	CHECK_EQ_INT(get(d, 0x58, 4), 0x1);
	CHECK_EQ_INT(get(d, 0x5c, 2), 0x4041);
	CHECK_EQ_INT(get(d, 0x60, 4) & 1, 0);		/* vector 0 unmasked */
	CHECK_EQ_INT(get(d, 0x52, 2) & 0x71, 0x01);	/* on, one vector */
	CHECK(get(d, 4, 2) & PCI_CMD_INTX_DISABLE);
	CHECK_EQ_INT(get(d, 0x6a, 2) & 0x8000, 0);	/* MSI-X off */
	CHECK_EQ_INT(pci_func_ops.msi_disable(f), PB_OK);
	CHECK_EQ_INT(get(d, 0x52, 2) & 1, 0);
}

TEST(pci_msi_32bit_refuses_high_address)
{
	struct func *f;
	struct fdev *d = &devs[0][2][3];

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 3)) != NULL);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 0,
	    0x100000000ull, 0x30), PB_EINVAL);
	CHECK_EQ_INT(get(d, 0x42, 2) & 1, 0);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 0, 0xfee00000,
	    0x30), PB_OK);
	CHECK_EQ_INT(get(d, 0x44, 4), 0xfee00000);
	CHECK_EQ_INT(get(d, 0x48, 2), 0x30);
	CHECK_EQ_INT(get(d, 0x42, 2) & 1, 1);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 0, 0xfee00000,
	    0x30), PB_ENOTSUP);
	REQUIRE((f = func_at(0, 7, 0)) != NULL);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 0, 0xfee00000,
	    0x30), PB_ENOTSUP);
	CHECK_EQ_INT(pci_func_ops.msi_disable(f), PB_ENOTSUP);
}

static uint32_t
entry_dw(unsigned e, unsigned k)
{
	uint32_t v;

	memcpy(&v, barmem + 0x800 + 16 * e + 4 * k, 4);
	return v;
}

TEST(pci_msix_program_entry_and_stop)
{
	struct func *f;
	struct fdev *d = &devs[0][2][0];
	unsigned nbefore;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	put(d, 0x04, 2, 0x0000);		/* decode off: must come on */
	put(d, 0x52, 2, get(d, 0x52, 2) | 1);	/* MSI was on */
	nbefore = nmaps;
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 4, 0xfee00000,
	    0x51), PB_EINVAL);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 2,
	    0x2fee00000ull, 0x51), PB_OK);
	/* the table mapped once, in our own ledger, uncached */
	REQUIRE(nmaps == nbefore + 1);
	CHECK(maps[nbefore].owner == SELF);
	CHECK(maps[nbefore].phys == BARMEM_BASE + 0x800);
	CHECK(maps[nbefore].len == 64);
	CHECK_EQ_INT(maps[nbefore].cache, PB_CACHE_UC);
	CHECK_EQ_INT(entry_dw(2, 0), 0xfee00000);
	CHECK_EQ_INT(entry_dw(2, 1), 0x2);
	CHECK_EQ_INT(entry_dw(2, 2), 0x51);
	CHECK_EQ_INT(entry_dw(2, 3), 0);		/* unmasked */
	CHECK_EQ_INT(entry_dw(0, 3), 1);		/* others untouched */
	CHECK_EQ_INT(entry_dw(3, 3), 1);
	CHECK_EQ_INT(get(d, 0x6a, 2) & 0xc000, 0x8000);	/* on, no fn mask */
	CHECK_EQ_INT(get(d, 0x52, 2) & 1, 0);		/* MSI off */
	CHECK(get(d, 4, 2) & PCI_CMD_INTX_DISABLE);
	CHECK(get(d, 4, 2) & PCI_CMD_MEM);
	/* a second entry reuses the mapping */
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 0, 0xfee00000,
	    0x52), PB_OK);
	CHECK_EQ_INT(nmaps, nbefore + 1);
	CHECK_EQ_INT(entry_dw(0, 2), 0x52);

	CHECK_EQ_INT(pci_func_ops.msi_disable(f), PB_OK);
	CHECK_EQ_INT(get(d, 0x6a, 2) & 0xc000, 0);
	for (unsigned e = 0; e < 4; e++)
		CHECK_EQ_INT(entry_dw(e, 3), 1);

	/* stop(): every mapping of ours undone, every resource withdrawn */
	pci_stop(SELF);
	for (unsigned i = 0; i < nmaps; i++)
		if (maps[i].owner == SELF)
			CHECK_MSG(maps[i].unmapped, "map of 0x%llx left",
			    (unsigned long long)maps[i].phys);
	for (unsigned i = 0; i < npubs; i++)
		CHECK(pubs[i].withdrawn);
}

TEST(pci_msix_table_outside_bar_is_refused)
{
	struct func *f;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	f->msix_offset = 0xfe0;			/* 4 entries do not fit */
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 0, 0xfee00000,
	    0x51), PB_EIO);
	CHECK_CONTAINS(logbuf, "00:02.0: MSI-X table at bar5+0xfe0");
	CHECK_EQ_INT(get(&devs[0][2][0], 0x6a, 2) & 0x8000, 0);
}

TEST(pci_no_configuration_mechanism)
{
	reset_all();
	cf8_dead = 1;
	CHECK_EQ_INT(pci_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "CONFIG_ADDRESS (0xcf8) reads 0xffffffff");
	CHECK_CONTAINS(logbuf, "no PCI");
	CHECK_EQ_INT(npubs, 0);
}

TEST(pci_ports_without_devices)
{
	reset_all();
	memset(devs, 0, sizeof(devs));
	CHECK_EQ_INT(pci_start(SELF, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(logbuf, "no device answers on bus 0");
}

/* The acpi module, as far as pci uses it. */
#include "fakeacpi.h"

TEST(pci_no_mcfg_falls_back_to_ports)
{
	struct pb_conn c = { .ops = &fake_acpi_ops };

	reset_all();
	memset(&plat, 0, sizeof(plat));
	pci_event(SELF, PB_EV_CONNECTED, &c, REQ_ACPI);
	CHECK_EQ_INT(pci_start(SELF, &fake_hub, PB_START_NORMAL), PB_OK);
	CHECK_CONTAINS(logbuf, "no MCFG: configuration through ports");
	CHECK_EQ_INT(pci.nfuncs, 10);
	pci_event(SELF, PB_EV_DISCONNECTED, &c, REQ_ACPI);
	CHECK(pci.acpi == NULL);
}

TEST(pci_ecam_window)
{
	struct pb_conn c = { .ops = &fake_acpi_ops };
	uint8_t *win = calloc(2, 1u << 20);
	struct segment *s;

	REQUIRE(win != NULL);
	reset_all();
	memset(&plat, 0, sizeof(plat));
	plat.necam = 2;
	/* segment 0 starts at bus 1: MCFG's base is still bus 0's */
	plat.ecam[0] = (struct acpi_ecam){ .base = 0xb0000000, .segment = 0,
	    .bus_start = 1, .bus_end = 2 };
	plat.ecam[1] = (struct acpi_ecam){ .base = 0xc0000000, .segment = 1,
	    .bus_start = 5, .bus_end = 4 };			/* bogus */
	/* 01:03.0 is 1234:5678 (the first bus: the window's start) */
	win[3 << 15] = 0x34;
	win[3 << 15 | 1] = 0x12;
	win[3 << 15 | 2] = 0x78;
	win[3 << 15 | 3] = 0x56;
	/* a marker at 02:03.1, offset 0x102 */
	win[(1u << 20) | 3 << 15 | 1 << 12 | 0x102] = 0xa5;
	ecam_window = win;
	pci_event(SELF, PB_EV_CONNECTED, &c, REQ_ACPI);
	CHECK_EQ_INT(pci_start(SELF, &fake_hub, PB_START_NORMAL), PB_OK);
	REQUIRE(pci.nseg == 1);
	s = &pci.seg[0];
	CHECK_STR(s->how, "ECAM");
	CHECK_EQ_INT(s->cfg_size, 4096);
	REQUIRE(nmaps >= 1);
	CHECK(maps[0].owner == SELF);
	CHECK(maps[0].phys == 0xb0000000 + (1u << 20));
	CHECK(maps[0].len == 2u << 20);
	CHECK_EQ_INT(maps[0].cache, PB_CACHE_UC);
	CHECK_CONTAINS(logbuf, "MCFG segment 1: base 0xc0000000 buses 5-4 make "
	    "no sense: skipped");
	CHECK_EQ_INT(ecam_ops.read(s->ctx, 1, 3, 0, 0, 2), 0x1234);
	CHECK_EQ_INT(ecam_ops.read(s->ctx, 1, 3, 0, 2, 2), 0x5678);
	CHECK_EQ_INT(ecam_ops.read(s->ctx, 1, 3, 0, 1, 1), 0x12);
	CHECK_EQ_INT(ecam_ops.read(s->ctx, 1, 3, 0, 0, 4), 0x56781234);
	CHECK_EQ_INT(ecam_ops.read(s->ctx, 2, 3, 1, 0x102, 1), 0xa5);
	ecam_ops.write(s->ctx, 2, 31, 7, 0xffe, 2, 0xbeef);
	CHECK_EQ_INT(win[(1u << 20) | 31 << 15 | 7 << 12 | 0xffe], 0xef);
	CHECK_EQ_INT(win[(1u << 20) | 31 << 15 | 7 << 12 | 0xfff], 0xbe);
	ecam_ops.write(s->ctx, 1, 0, 0, 0x40, 4, 0x01020304);
	CHECK_EQ_INT(win[0x43], 0x01);
	/* the function found through it */
	CHECK_EQ_INT(pci.nfuncs, 1);
	if (pci.nfuncs)
		CHECK_STR(pci.funcs[0].name, "01:03.0");
	pci_stop(SELF);
	CHECK(maps[0].unmapped);
	pci_event(SELF, PB_EV_DISCONNECTED, &c, REQ_ACPI);
	free(win);
}

TEST(pci_walk_uses_the_cfg_ops)
{
	struct segment *s;

	reset_all();
	pci.hub = &fake_hub;
	pci.self = SELF;
	s = &pci.seg[0];
	*s = (struct segment){ .bus_start = 0, .bus_end = 0,
	    .cfg_size = PCI_ECAM_SIZE, .how = "model", .ops = &model_ops };
	pci.nseg = 1;
	enum_segment(s);
	/* The segment ends at bus 0: the bridges to bus 1 lead outside. */
	CHECK_EQ_INT(pci.nfuncs, 9);
	CHECK_EQ_INT(bus1_scans, 0);
	CHECK_CONTAINS(logbuf, "00:01.0: bridge to bus 1, not below bus 0 or "
	    "outside the segment's 0-0: not followed");
}

/* ABI 1.2: the driver bound to a function is gone (unloaded, faulted):
 * before its DMA memory is reused, the function stops mastering the bus
 * and raising interrupts, in all three forms. */
TEST(pci_client_gone_silences_the_function)
{
	struct fdev *d = &devs[0][2][0];
	struct pb_conn c, other = { .ops = &fake_acpi_ops };
	struct func *f;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	c = (struct pb_conn){ .ops = &pci_func_ops, .ctx = f,
	    .res = "pci:00:02.0" };
	CHECK_EQ_INT(pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_MEM, 1),
	    PB_OK);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 1, 0xfee00000,
	    0x51), PB_OK);
	REQUIRE(get(d, 0x6a, 2) & 0x8000);
	/* Someone else's connection going is none of this function's. */
	pci_event(SELF, PB_EV_CLIENT_GONE, &other, 0);
	CHECK(get(d, 4, 2) & PCI_CMD_MASTER);
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	CHECK(get(d, 4, 2) & PCI_CMD_INTX_DISABLE);
	CHECK_EQ_INT(get(d, 0x6a, 2) & 0x8000, 0);	/* MSI-X off */
	CHECK_EQ_INT(get(d, 0x52, 2) & 1, 0);		/* MSI off */
	CHECK_EQ_INT(entry_dw(1, 3), 1);		/* entry masked */
	CHECK(get(d, 4, 2) & PCI_CMD_MEM);	/* decode stays: BARs are inert */
	CHECK_CONTAINS(logbuf, "00:02.0: its driver is gone");
	/* And the acpi requirement's own events still work. */
	pci_event(SELF, PB_EV_CONNECTED, &other, REQ_ACPI);
	CHECK(pci.acpi == &other);
	pci_event(SELF, PB_EV_CLIENT_GONE, &other, REQ_ACPI);
	CHECK(pci.acpi == &other);
	pci_stop(SELF);
}

/* recover: a function whose bus mastering does not go off (read back
 * from COMMAND) is reported to the hub: conn->ops NULL, one error line. */
TEST(pci_client_gone_reports_a_function_still_mastering)
{
	struct fdev *d = &devs[0][2][0];
	struct pb_conn c;
	struct func *f;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	c = (struct pb_conn){ .ops = &pci_func_ops, .ctx = f,
	    .res = "pci:00:02.0" };
	CHECK_EQ_INT(pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_MEM, 1),
	    PB_OK);
	d->wmask[4] &= (uint8_t)~PCI_CMD_MASTER;	/* stuck on */
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK(c.ops == NULL);
	CHECK_CONTAINS(logbuf, "00:02.0: its driver is gone but COMMAND reads");
	d->wmask[4] |= PCI_CMD_MASTER;
	/* and a well-behaved one keeps its ops: the hub frees its memory */
	c.ops = &pci_func_ops;
	CHECK_EQ_INT(pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_MEM, 1),
	    PB_OK);
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK(c.ops == &pci_func_ops);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	pci_stop(SELF);
}

/* ---- function-level reset of a faulted driver's function (flr.c) --- */

#define SATA_PCIE	0x80		/* 00:02.0's PCIe capability */

/* 00:02.0 offers FLR (PCIe DevCap bit 28) and keeps a device register at
 * 0xa0 that its reset clears; boot the module over it. */
static struct fdev *
boot_flr_pcie(uint64_t ready_ns)
{
	struct fdev *d = &devs[0][2][0];

	reset_all();
	put(d, SATA_PCIE + 0x04, 4, 1u << 28);
	d->flr_devctl = SATA_PCIE + 0x08;
	d->ready_ns = ready_ns;
	writable(d, 0xa0, 4, 0xffffffff);
	put(d, 0x3c, 1, 11);			/* the firmware's IRQ line */
	d->boot_cmd = get(d, 4, 2);
	return pci_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK ? d : NULL;
}

/* The driver bound to f takes it into use, then goes: faulted or not. */
static struct pb_conn
drive_then_go(struct func *f, struct fdev *d, int faulted)
{
	struct pb_conn c = { .ops = &pci_func_ops, .ctx = f,
	    .res = "pci:00:02.0" };

	pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_MEM, 1);
	pci_func_ops.msi_enable(f, PCI_IRQ_MSIX, 1, 0xfee00000, 0x51);
	pci_func_ops.cfg_write(f, 0xa0, 4, 0xdeadbeef);
	if (faulted)
		pci_event(SELF, PB_EV_CLIENT_FAULTED, &c, PB_REQ_BIND);
	(void)d;
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	return c;
}

/* The driver faulted: the function is silenced, reset, withdrawn, left
 * alone for 100 ms, polled until it answers, given back its BARs and
 * decode and offered again; the register the reset clears reads 0. */
TEST(pci_flr_resets_a_faulted_drivers_function)
{
	struct fdev *d;
	struct func *f;
	const struct pubrec *first;
	char props[PCI_PROPS_MAX];
	unsigned n0;

	REQUIRE((d = boot_flr_pcie(150000000ull)) != NULL);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	CHECK_EQ_INT(f->flr, FLR_PCIE);
	REQUIRE((first = pub_named("pci:00:02.0")) != NULL);
	CHECK_CONTAINS(first->props, "caps=msi,msix,pcie,flr");
	snprintf(props, sizeof(props), "%s", first->props);
	n0 = npubs;
	drive_then_go(f, d, 1);
	CHECK_EQ_INT(d->flrs, 1);
	CHECK(first->withdrawn);
	CHECK(f->res == NULL);
	CHECK_CONTAINS(logbuf, "00:02.0: its driver is gone: bus mastering");
	CHECK_CONTAINS(logbuf, "00:02.0: its driver faulted: function-level "
	    "reset (PCIe), withdrawn until it is back");
	CHECK_EQ_INT(timers_armed(), 1);
	/* 100 ms: not ready yet (CRS), looked at again 100 ms later. */
	time_passes(99000000ull);
	CHECK_EQ_INT(npubs, n0);
	time_passes(1000000ull);
	CHECK_EQ_INT(npubs, n0);
	CHECK_EQ_INT(timers_armed(), 1);
	time_passes(100000000ull);
	CHECK_EQ_INT(d->touched_early, 0);
	REQUIRE(npubs == n0 + 1);
	CHECK_STR(pubs[n0].name, "pci:00:02.0");
	CHECK_STR(pubs[n0].props, props);
	CHECK(pubs[n0].ctx == f);
	CHECK_EQ_INT(pubs[n0].limit, 1);
	CHECK(f->res == (struct pb_resource *)&pubs[n0]);
	CHECK_CONTAINS(logbuf, "00:02.0: back 200 ms after its reset: BARs and "
	    "COMMAND 0x0403 restored, offered again");
	/* What pci owns is as enumerated; the device's own is reset. */
	CHECK_EQ_INT(get(d, 0x24, 4), d->boot_bar[5]);
	CHECK_EQ_INT(get(d, 4, 2), (d->boot_cmd & 3) | PCI_CMD_INTX_DISABLE);
	CHECK_EQ_INT(get(d, 0x3c, 1), 11);
	CHECK_EQ_INT(get(d, 0xa0, 4), 0);
	CHECK_EQ_INT(get(d, 0x6a, 2) & 0x8000, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	pci_stop(SELF);
}

/* An orderly unload (no PB_EV_CLIENT_FAULTED first): the device's state
 * must survive: silenced only, never reset, never withdrawn. */
TEST(pci_flr_not_on_an_orderly_unload)
{
	struct fdev *d;
	struct func *f;

	REQUIRE((d = boot_flr_pcie(0)) != NULL);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	drive_then_go(f, d, 0);
	CHECK_EQ_INT(d->flrs, 0);
	CHECK(!pub_named("pci:00:02.0")->withdrawn);
	CHECK(f->res != NULL);
	CHECK_EQ_INT(get(d, 0xa0, 4), 0xdeadbeef);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	/* A fault noted for one connection does not carry to the next. */
	pci_event(SELF, PB_EV_CLIENT_FAULTED, &(struct pb_conn){
	    .ops = &fake_acpi_ops }, REQ_ACPI);
	drive_then_go(f, d, 0);
	CHECK_EQ_INT(d->flrs, 0);
	pci_stop(SELF);
}

/* Without FLR (the model's 00:02.0 as built: DevCap 0) a fault gets what
 * any going gets: silenced, still offered. */
TEST(pci_flr_none_offered_silences_only)
{
	struct fdev *d = &devs[0][2][0];
	struct func *f;

	REQUIRE(boot() == PB_OK);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	CHECK_EQ_INT(f->flr, FLR_NONE);
	CHECK_CONTAINS(pub_named("pci:00:02.0")->props, "caps=msi,msix,pcie");
	CHECK(!strstr(pub_named("pci:00:02.0")->props, "flr"));
	drive_then_go(f, d, 1);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	CHECK_EQ_INT(get(d, 0xa0, 4), 0);	/* not writable here */
	CHECK(!pub_named("pci:00:02.0")->withdrawn);
	CHECK(f->res != NULL);
	CHECK(!strstr(logbuf, "function-level reset"));
	CHECK_EQ_INT(timers_armed(), 0);
	pci_stop(SELF);
}

/* 00:02.3 with an Advanced Features capability: FLR when it offers both
 * Transactions Pending and FLR, none when FLR alone. */
static struct fdev *
boot_flr_af(uint8_t af_caps)
{
	struct fdev *d = &devs[0][2][3];

	reset_all();
	fcaps(d, (const uint8_t[]){ 0x40, 0x50 },
	    (const uint8_t[]){ 0x05, 0x13 }, 2, 0);
	put(d, 0x52, 1, 6);			/* AF length */
	put(d, 0x53, 1, af_caps);
	d->flr_afctl = 0x54;
	d->ready_ns = 0;
	writable(d, 0xa0, 4, 0xffffffff);
	d->boot_cmd = get(d, 4, 2);
	d->boot_bar[4] = get(d, 0x20, 4);
	return pci_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK ? d : NULL;
}

TEST(pci_flr_through_advanced_features)
{
	struct fdev *d;
	struct func *f;
	struct pb_conn c;

	REQUIRE((d = boot_flr_af(0x03)) != NULL);
	REQUIRE((f = func_at(0, 2, 3)) != NULL);
	CHECK_EQ_INT(f->flr, FLR_AF);
	c = (struct pb_conn){ .ops = &pci_func_ops, .ctx = f,
	    .res = "pci:00:02.3" };
	pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_IO, 1);
	pci_func_ops.cfg_write(f, 0xa0, 4, 0x12345678);
	pci_event(SELF, PB_EV_CLIENT_FAULTED, &c, PB_REQ_BIND);
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK_EQ_INT(d->flrs, 1);
	CHECK(pub_named("pci:00:02.3")->withdrawn);
	CHECK_CONTAINS(logbuf, "reset (Advanced Features)");
	CHECK_EQ_INT(get(d, 0x20, 4), 0x1);	/* the I/O BAR lost its base */
	time_passes(100000000ull);
	CHECK_EQ_INT(d->touched_early, 0);
	CHECK_EQ_INT(get(d, 0x20, 4), d->boot_bar[4]);
	CHECK_EQ_INT(get(d, 4, 2), (d->boot_cmd & 3) | PCI_CMD_INTX_DISABLE);
	CHECK_EQ_INT(get(d, 0xa0, 4), 0);
	CHECK_CONTAINS(logbuf, "00:02.3: back 100 ms after its reset");
	CHECK(f->res != NULL);
	pci_stop(SELF);

	REQUIRE((d = boot_flr_af(0x02)) != NULL);	/* FLR without TP */
	REQUIRE((f = func_at(0, 2, 3)) != NULL);
	CHECK_EQ_INT(f->flr, FLR_NONE);
	pci_stop(SELF);
}

/* A function that never answers again stays withdrawn: polled for 1 s,
 * then one line; no timer left. */
TEST(pci_flr_function_never_back_stays_withdrawn)
{
	struct fdev *d;
	struct func *f;
	unsigned n0;

	REQUIRE((d = boot_flr_pcie(~0ull / 2)) != NULL);
	REQUIRE((f = func_at(0, 2, 0)) != NULL);
	n0 = npubs;
	drive_then_go(f, d, 1);
	for (unsigned i = 0; i < 12; i++)
		time_passes(100000000ull);
	CHECK_EQ_INT(npubs, n0);
	CHECK(f->res == NULL);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(count_lines("not back"), 1);
	CHECK_CONTAINS(logbuf, "00:02.0: not back 1000 ms after its reset "
	    "(Vendor ID reads 0x0001): left out of use");
	CHECK_EQ_INT(d->touched_early, 0);
	pci_stop(SELF);
}

/* ---- an xHCI whose firmware SMIs may be armed (xhcileg.c) ---------- */

#define XHCI_XECP	0x800		/* the legacy capability, then a
					 * Supported Protocol one */

static void
xhci_reg(unsigned off, uint32_t v)
{
	memcpy(xhcimem + off, &v, 4);
}

/* 00:14.0, an Intel xHCI (class 0c.03.30) with MSI and PCIe (FLR
 * offered), its BAR0 in xhcimem: HCCPARAMS1.xECP at XHCI_XECP, where a
 * USB Legacy Support capability holds usblegsup and usblegctlsts
 * (legacy 0: only the Supported Protocol capability). */
static struct fdev *
boot_xhci(int legacy, uint32_t usblegsup, uint32_t usblegctlsts)
{
	struct fdev *d;

	reset_all();
	memset(xhcimem, 0, sizeof(xhcimem));
	d = fnew(0, 0x14, 0, 0x8086, 0x8c31, 0x0c0330, 4, 0);
	fbar(d, 0, 4, XHCI_BAR_BASE, sizeof(xhcimem));
	fcaps(d, (const uint8_t[]){ 0x70, 0x80 },
	    (const uint8_t[]){ 0x05, 0x10 }, 2, 0);
	writable(d, 0x72, 2, 0x0071);
	put(d, 0x80 + 0x04, 4, 1u << 28);	/* FLR */
	d->flr_devctl = 0x80 + 0x08;
	put(d, 0x04, 2, PCI_CMD_MEM);
	d->boot_cmd = get(d, 4, 2);
	xhci_reg(0x10, (XHCI_XECP / 4) << 16);	/* HCCPARAMS1 */
	if (legacy) {
		xhci_reg(XHCI_XECP, usblegsup | 4u << 8 | 1u);
		xhci_reg(XHCI_XECP + 4, usblegctlsts);
		xhci_reg(XHCI_XECP + 0x10, 0x03000002u);
	} else {
		xhci_reg(XHCI_XECP, 0x03000002u);
	}
	return pci_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK ? d : NULL;
}


/* Its driver takes it into use (bus mastering, MSI), then goes. */
static struct pb_conn
xhci_driver_goes(struct fdev *d, int faulted)
{
	struct func *f = func_at(0, 0x14, 0);
	struct pb_conn c = { .ops = &pci_func_ops, .ctx = f,
	    .res = "pci:00:14.0" };

	pci_func_ops.enable(f, PCI_CMD_MASTER | PCI_CMD_MEM, 1);
	CHECK_EQ_INT(pci_func_ops.msi_enable(f, PCI_IRQ_MSI, 0, 0xfee00000,
	    0x41), PB_OK);
	CHECK(get(d, 0x72, 2) & 1);
	cmd_writes = 0;
	if (faulted)
		pci_event(SELF, PB_EV_CLIENT_FAULTED, &c, PB_REQ_BIND);
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	return c;
}

/* Every mapping pci made of the xHCI's BAR0 undone. */
static int
xhci_bar_unmapped(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nmaps; i++) {
		if (maps[i].phys != XHCI_BAR_BASE)
			continue;
		if (maps[i].owner != SELF || !maps[i].unmapped)
			return 0;
		n++;
	}
	return n == 1;
}

/* HARDWARE.md: bus mastering never goes off on an xHCI whose SMIs may be
 * armed (an AMD board hangs in SMM): COMMAND not written at all, not
 * reset, its MSI off, the hub told by conn->ops NULL. */
TEST(pci_client_gone_leaves_an_armed_xhci_mastering)
{
	struct fdev *d;
	struct pb_conn c;

	/* OS Owned, but the SMI enables still set */
	REQUIRE((d = boot_xhci(1, 1u << 24, 0x0000e011u)) != NULL);
	REQUIRE(func_at(0, 0x14, 0) != NULL);
	CHECK_EQ_INT(func_at(0, 0x14, 0)->flr, FLR_PCIE);
	c = xhci_driver_goes(d, 1);
	CHECK(get(d, 4, 2) & PCI_CMD_MASTER);
	CHECK_EQ_INT(cmd_writes, 0);	/* an SMI on PCI Command each */
	CHECK_EQ_INT(get(d, 0x72, 2) & 1, 0);		/* MSI off */
	CHECK(c.ops == NULL);
	CHECK_EQ_INT(d->flrs, 0);			/* not reset either */
	CHECK(!pub_named("pci:00:14.0")->withdrawn);
	CHECK_CONTAINS(logbuf, "00:14.0: its driver is gone, but the "
	    "firmware's SMIs may be armed (USBLEGSUP 0x01000401 USBLEGCTLSTS "
	    "0x0000e011): bus mastering left on, its memory kept");
	CHECK(xhci_bar_unmapped());
	pci_stop(SELF);

	/* the BIOS still owns it, no enable set: left on too */
	REQUIRE((d = boot_xhci(1, 1u << 16, 0)) != NULL);
	c = xhci_driver_goes(d, 0);
	CHECK(get(d, 4, 2) & PCI_CMD_MASTER);
	CHECK(c.ops == NULL);
	CHECK_CONTAINS(logbuf, "(USBLEGSUP 0x00010401 USBLEGCTLSTS "
	    "0x00000000)");
	pci_stop(SELF);

	/* decode off: the register cannot be read, so left on */
	REQUIRE((d = boot_xhci(1, 1u << 24, 0)) != NULL);
	pci_func_ops.enable(func_at(0, 0x14, 0), PCI_CMD_MASTER, 1);
	pci_func_ops.enable(func_at(0, 0x14, 0), PCI_CMD_MEM, 0);
	c = (struct pb_conn){ .ops = &pci_func_ops,
	    .ctx = func_at(0, 0x14, 0), .res = "pci:00:14.0" };
	pci_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK(get(d, 4, 2) & PCI_CMD_MASTER);
	CHECK(c.ops == NULL);
	CHECK_CONTAINS(logbuf, "(memory decode off: USBLEGCTLSTS unread)");
	pci_stop(SELF);
}

/* Once the driver's handoff turned them off (OS Owned, enables clear,
 * RsvdP bits left), or when there is no legacy capability (QEMU's), an
 * xHCI is silenced like any function: and reset when its driver faulted. */
TEST(pci_client_gone_silences_an_xhci_whose_smis_are_off)
{
	struct fdev *d;
	struct pb_conn c;

	REQUIRE((d = boot_xhci(1, 1u << 24, 0x000000e0u)) != NULL);
	c = xhci_driver_goes(d, 0);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	CHECK(get(d, 4, 2) & PCI_CMD_INTX_DISABLE);
	CHECK(cmd_writes > 0);
	CHECK(c.ops == &pci_func_ops);
	CHECK_CONTAINS(logbuf, "00:14.0: its driver is gone: bus mastering "
	    "and interrupts off");
	CHECK(!strstr(logbuf, "SMIs"));
	CHECK(xhci_bar_unmapped());
	pci_stop(SELF);

	REQUIRE((d = boot_xhci(0, 0, 0)) != NULL);
	c = xhci_driver_goes(d, 1);
	CHECK_EQ_INT(get(d, 4, 2) & PCI_CMD_MASTER, 0);
	CHECK(c.ops == &pci_func_ops);
	CHECK_EQ_INT(d->flrs, 1);
	CHECK(!strstr(logbuf, "SMIs"));
	time_passes(100000000ull);
	CHECK_CONTAINS(logbuf, "00:14.0: back");
	pci_stop(SELF);
}
