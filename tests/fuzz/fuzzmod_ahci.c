/*
 * fuzzmod_ahci.c - libFuzzer target for what the ahci module takes from
 * outside: a device's IDENTIFY data and READ CAPACITY answer
 * (mods/ahci/identify.c), and a swap's state blob (state.c).
 *
 * The first byte picks what the rest is:
 *   0: IDENTIFY DEVICE (512 bytes, zero-padded) with CAP and the slot
 *      count from the next bytes, to ident_ata, then the property line;
 *   1: IDENTIFY PACKET DEVICE to ident_atapi;
 *   2: READ CAPACITY(10)'s 8 bytes to ident_capacity;
 *   3: a block_state (with or without the ahci tail) to state_import of
 *      a standby driver whose ports 0-5 are published; the request
 *      pointers, which a real blob carries from the old driver, are
 *      replaced by pointers to requests of fuzzed sizes.
 * Beyond the sanitizers it traps on broken promises: a disk believed with
 * a size of 0 or beyond 48 bits, a block size that is no power of two in
 * 512-4096, a property value with a space or '=', a queue depth beyond
 * the slots, an import that accepts a request too small or a port it
 * does not have, memory not given back.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/pbmod.h"
#include "../../mods/ahci/cmd.c"
#include "../../mods/ahci/gone.c"
#include "../../mods/ahci/hba.c"
#include "../../mods/ahci/identify.c"
#include "../../mods/ahci/io.c"
#include "../../mods/ahci/irq.c"
#include "../../mods/ahci/port.c"
#include "../../mods/ahci/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo ahci_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/ahci/ahci.c"
#include "../../abi/rt/setting.c"
#include "../../abi/rt/blockstate.c"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* ---- what the module calls ------------------------------------------- */

uint64_t cpu_irq_save(void) { return 0; }
void cpu_irq_restore(uint64_t f) { (void)f; }
void mmio_rmb(void) { }
void mmio_wmb(void) { }
void mmio_mb(void) { }

static uint32_t sig_of_port[AHCI_MAX_PORTS];
static uint8_t fz_abar[HBA_SIZE];

/* Only the ports' PxSIG and PxSSTS are read on this path. */
uint32_t
mmio_read32(const volatile void *reg)
{
	size_t off = (size_t)((const volatile uint8_t *)reg - fz_abar);
	unsigned port = (unsigned)((off - 0x100) / 0x80);

	if (off < 0x100 || port >= AHCI_MAX_PORTS)
		return 0;
	switch ((off - 0x100) % 0x80) {
	case PX_SIG:
		return sig_of_port[port];
	case PX_SSTS:
		return 0x113;
	default:
		return 0;
	}
}

void mmio_write32(volatile void *reg, uint32_t v) { (void)reg; (void)v; }
uint8_t mmio_read8(const volatile void *r) { (void)r; return 0; }
uint16_t mmio_read16(const volatile void *r) { (void)r; return 0; }
uint64_t mmio_read64(const volatile void *r) { (void)r; return 0; }
void mmio_write8(volatile void *r, uint8_t v) { (void)r; (void)v; }
void mmio_write16(volatile void *r, uint16_t v) { (void)r; (void)v; }
void mmio_write64(volatile void *r, uint64_t v) { (void)r; (void)v; }

static int heap_live;

static void fz_log(struct pb_module *m, int l, const char *s) { }

static void *
fz_alloc(struct pb_module *m, size_t n)
{
	heap_live++;
	return malloc(n ? n : 1);
}

static void
fz_free(struct pb_module *m, void *p)
{
	heap_live--;
	free(p);
}

static int
fz_set_props(struct pb_module *m, struct pb_resource *r, const char *p)
{
	must(strlen(p) < 256);
	return PB_OK;
}

static uint64_t fz_now(void) { return 0; }

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub), .log = fz_log, .alloc = fz_alloc,
	.free = fz_free, .set_props = fz_set_props, .now_ns = fz_now,
};

/* ---- the checks ------------------------------------------------------ */

static void
value_ok(const char *s, size_t cap)
{
	must(strnlen(s, cap) < cap);
	for (; *s; s++)
		must(*s > ' ' && *s < 0x7f && *s != '=');
}

static void
disk_ok(const struct ahci_disk *d, unsigned nslots)
{
	must(d->block_size >= 512 && d->block_size <= 4096 &&
	    !(d->block_size & (d->block_size - 1)));
	must(d->block_count >= 1 && d->block_count <= ATA_MAX_LBA48);
	must(d->ncq_depth == 0 || (d->ncq_depth >= 2 &&
	    d->ncq_depth <= nslots));
	value_ok(d->model, sizeof(d->model));
	value_ok(d->serial, sizeof(d->serial));
	value_ok(d->wwn, sizeof(d->wwn));
}

static void
props_ok(struct ahci_port *p)
{
	char props[256];

	disk_props(p, props, sizeof(props));
	must(strlen(props) < sizeof(props));
	must(!strstr(props, "  "));
}

static void
fuzz_identify(int mode, const uint8_t *d, size_t n)
{
	static struct ahci_port port0;
	struct ahci_port *p = &port0;
	uint16_t id[256] = { 0 };
	uint8_t cap[8] = { 0 };
	const char *why;
	uint32_t hba_cap;
	unsigned nslots;

	memcpy(cap, d, n < 8 ? n : 8);
	hba_cap = (uint32_t)cap[0] | (uint32_t)cap[1] << 8 |
	    (uint32_t)cap[2] << 16 | (uint32_t)cap[3] << 24;
	nslots = (cap[4] & 31) + 1;
	if (mode == 2) {
		memset(&p->disk, 0, sizeof(p->disk));
		p->disk.kind = DISK_ATAPI;
		if (ident_capacity(cap, &p->disk, &why) == PB_OK)
			disk_ok(&p->disk, nslots);
		else
			must(why != NULL);
		return;
	}
	if (n > 8)
		memcpy(id, d + 8, n - 8 < sizeof(id) ? n - 8 : sizeof(id));
	strcpy(p->path, "pci:00:1f.2/sata:0");
	if (mode == 0 && ident_ata(id, hba_cap, nslots, &p->disk, &why) ==
	    PB_OK) {
		disk_ok(&p->disk, nslots);
		must(!(p->disk.ncq_depth && !(hba_cap & CAP_SNCQ)));
		props_ok(p);
	} else if (mode == 1 && ident_atapi(id, &p->disk, &why) == PB_OK) {
		must(p->disk.flags & BLOCK_RO);
		value_ok(p->disk.model, sizeof(p->disk.model));
		value_ok(p->disk.serial, sizeof(p->disk.serial));
	} else {
		must(why != NULL);
	}
}

#define FZ_REQS 8

static void
fuzz_import(const uint8_t *d, size_t n)
{
	static struct block_req reqs[FZ_REQS];
	static char res_storage[AHCI_MAX_PORTS];
	static struct ahci_port ports[AHCI_MAX_PORTS];
	struct ahci *a = &instances[0];
	struct block_state st;
	uint8_t *buf;
	size_t ptrs;
	int err;

	memset(a, 0, sizeof(*a));
	a->hub = &fz_hub;
	a->standby = 1;
	a->pi = 0x3f;
	a->nslots = 32;
	a->abar = fz_abar;
	memset(ports, 0, sizeof(ports));
	a->port = ports;
	a->nports = AHCI_MAX_PORTS;
	for (unsigned i = 0; i < AHCI_MAX_PORTS; i++) {
		struct ahci_port *p = &a->port[i];

		p->a = a;
		p->no = i;
		p->regs = fz_abar + HBA_PORT(i);
		rt_snprintf(p->path, sizeof(p->path), "pci:00:1f.2/sata:%u", i);
		if (i < 6) {
			p->state = PS_STANDBY;
			p->res = (struct pb_resource *)&res_storage[i];
		}
		sig_of_port[i] = i & 1 ? SIG_ATAPI : SIG_ATA;
	}
	if (n < sizeof(st))
		return;
	buf = malloc(n);
	memcpy(buf, d, n);
	memcpy(&st, buf, sizeof(st));
	/* The request pointers: ours, of fuzzed sizes. */
	for (unsigned k = 0; k < FZ_REQS; k++)	/* the last one too small */
		reqs[k].size = k + 1 < FZ_REQS ? sizeof(reqs[k]) : 40;
	if (st.ndisks <= AHCI_MAX_PORTS && st.nreq < (1u << 20)) {
		size_t at = rt_block_state_size(st.ndisks, 0);

		ptrs = rt_block_state_size(st.ndisks, st.nreq);
		for (size_t k = 0; at + (k + 1) * 8 <= n && at + k * 8 < ptrs;
		    k++) {
			struct block_req *r = &reqs[k % FZ_REQS];

			memcpy(buf + at + k * 8, &r, 8);
		}
	}
	err = state_import(a, buf, n, BLOCK_STATE_VERSION);
	if (err == PB_OK) {
		for (uint32_t k = 0; k < a->nimported; k++) {
			must(a->imported[k].r->size >= sizeof(struct block_req));
			must(a->imported[k].port < 6);
		}
		for (unsigned i = 0; i < 6; i++)
			if (disk_known(&a->port[i])) {
				disk_ok(&a->port[i].disk, a->nslots);
				props_ok(&a->port[i]);
			}
	}
	if (a->imported)
		fz_free(NULL, a->imported);
	a->imported = NULL;
	must(heap_live == 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 3) == 3)
		fuzz_import(data + 1, size - 1);
	else
		fuzz_identify(data[0] & 3, data + 1, size - 1);
	return 0;
}
