/*
 * fuzzmod_pci.c - libFuzzer target for the pci module's walk over
 * configuration space (mods/pci): what a function answers is outside
 * input (a broken card, a hostile hot-plugged device).
 *
 * The input is the machine: its first byte the number of buses that
 * answer (1 to NBUS), then a record per function: its bus and its
 * device * 8 + function, 256 bytes of registers and 256 of write masks (a
 * set bit takes what is written, so BAR sizing reads back what the mask
 * makes of all ones).  Functions without a record are absent (they read
 * all ones).
 * Configuration space is reached through ports 0xCF8/0xCFC, as without
 * MCFG.  The module's start runs the walk, BAR sizing, the capability
 * lists, the reset probe and the publishing; then stop.  Beyond the
 * sanitizers it traps on broken promises: the walk ends within a budget
 * of accesses (no loop), it publishes no more functions than answer,
 * each only once, every allocation and mapping is given back at stop,
 * and interrupts are never left held.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_pci/ (a q35-like bus 0 with a bridge,
 * written by tests/fuzz/mkseeds-pci).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
#include "../host/pciports.h"

#define NBUS 4
#define FUNC_BYTES (2 + 256 + 256)
/* Every function of every bus read whole a few times over. */
#define MAX_ACCESSES (NBUS * 256 * 256)

static uint8_t regs[NBUS][256][256], wmask[NBUS][256][256];
static uint8_t present[NBUS][256];
static unsigned nbus, accesses, live_allocs, live_maps, npublished;
static const char *published[PCI_MAX_FUNCS + 1];

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* ---- configuration space ------------------------------------------- */

static uint32_t
model_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned off,
    unsigned width)
{
	unsigned df = dev << 3 | fn;
	uint32_t v = 0;

	(void)ctx;
	accesses++;
	if (bus >= nbus || !present[bus][df])
		return width == 4 ? 0xffffffffu : (1u << 8 * width) - 1;
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)regs[bus][df][(off + i) & 0xff] << 8 * i;
	return v;
}

static void
model_write(void *ctx, unsigned bus, unsigned dev, unsigned fn,
    unsigned off, unsigned width, uint32_t v)
{
	unsigned df = dev << 3 | fn;

	(void)ctx;
	accesses++;
	if (bus >= nbus || !present[bus][df])
		return;
	for (unsigned i = 0; i < width; i++) {
		uint8_t *r = &regs[bus][df][(off + i) & 0xff];
		uint8_t m = wmask[bus][df][(off + i) & 0xff];

		*r = (uint8_t)((*r & ~m) | ((v >> 8 * i) & m));
	}
}

/* ---- the hub ------------------------------------------------------- */

static int self_token;
#define SELF ((struct pb_module *)&self_token)

static void
fz_log(struct pb_module *m, int level, const char *msg)
{
	(void)m;
	(void)level;
	must(strlen(msg) < 4096);
}

static void *
fz_alloc(struct pb_module *m, size_t bytes)
{
	void *p;

	(void)m;
	if ((p = calloc(1, bytes)))
		live_allocs++;
	return p;
}

static void
fz_free(struct pb_module *m, void *p)
{
	(void)m;
	if (p)
		live_allocs--;
	free(p);
}

/* Nothing the walk maps is read: a page of zeroes stands for it. */
static uint8_t mmio_page[4096];

/* client_gone reads an xHCI's registers (xhcileg.c); the run never gets
 * there, but the module is linked whole. */
uint32_t
mmio_read32(const volatile void *reg)
{
	uint32_t v;

	memcpy(&v, (const void *)reg, 4);
	return v;
}

static void *
fz_map(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	(void)m, (void)phys, (void)len, (void)cache;
	live_maps++;
	return mmio_page;
}

static void
fz_unmap(struct pb_module *m, void *va)
{
	(void)m;
	must(va == mmio_page && live_maps > 0);
	live_maps--;
}

static struct pb_resource *
fz_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	(void)m, (void)ops, (void)ctx;
	must(strcmp(iface, PCI_IFACE) == 0);
	must(strlen(props) < PCI_PROPS_MAX);
	for (unsigned i = 0; i < npublished; i++)
		must(strcmp(published[i], name) != 0);
	must(npublished < PCI_MAX_FUNCS);
	published[npublished++] = name;
	return (struct pb_resource *)&published[npublished - 1];
}

static int
fz_withdraw(struct pb_module *m, struct pb_resource *res)
{
	(void)m, (void)res;
	return PB_OK;
}

static int
fz_limit(struct pb_module *m, struct pb_resource *res, unsigned max)
{
	(void)m, (void)res, (void)max;
	return PB_OK;
}

static int
fz_timer_after(struct pb_module *m, uint64_t ns, pb_work_fn fn, void *arg)
{
	(void)m, (void)ns, (void)fn, (void)arg;
	return 1;
}

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub),
	.log = fz_log,
	.alloc = fz_alloc,
	.free = fz_free,
	.map_mmio = fz_map,
	.unmap_mmio = fz_unmap,
	.publish = fz_publish,
	.withdraw = fz_withdraw,
	.res_limit = fz_limit,
	.timer_after = fz_timer_after,
};

/* ---- the run ------------------------------------------------------- */

static unsigned
build_machine(const uint8_t *in, size_t size)
{
	unsigned n = 0;

	memset(present, 0, sizeof(present));
	nbus = 1 + in[0] % NBUS;
	for (size_t at = 1; at + FUNC_BYTES <= size; at += FUNC_BYTES) {
		unsigned b = in[at] % NBUS, df = in[at + 1];

		memcpy(regs[b][df], in + at + 2, 256);
		memcpy(wmask[b][df], in + at + 2 + 256, 256);
		n += !present[b][df];
		present[b][df] = 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	unsigned nfuncs;
	int r;

	if (size < 1 + FUNC_BYTES)
		return 0;
	nfuncs = build_machine(in, size);
	accesses = live_allocs = live_maps = npublished = 0;
	cf8 = 0;
	irq_held = 0;
	memset(&pci, 0, sizeof(pci));
	r = pci_mod_ops.start(SELF, &fz_hub, PB_START_NORMAL);
	must(accesses <= MAX_ACCESSES);
	must(!irq_held);
	must(npublished <= nfuncs && pci.nfuncs <= nfuncs);
	if (r == PB_OK)
		pci_mod_ops.stop(SELF);
	must(!irq_held && live_maps == 0);
	funcs_free();
	must(live_allocs == 0);
	return 0;
}
