/*
 * fuzzmod_nvme.c - libFuzzer target for what the nvme module takes from
 * outside: a controller's Identify data (mods/nvme/identify.c) and a
 * swap's state blob (state.c).
 *
 * The first byte picks what the rest is:
 *   0: Identify Controller (4096 bytes, zero-padded) to ident_ctrl;
 *   1: Identify Namespace: the next 4 bytes the NSID, byte 5 MDTS and
 *      byte 6 VWC of the controller it belongs to, then the 4096 bytes,
 *      to ident_ns, then the property line;
 *   2: an active namespace ID list (CNS 02h) to ident_ns_list;
 *   3: a block_state (with or without the nvme tail) to state_import of
 *      a standby driver that published namespaces 1-4; the request
 *      pointers, which a real blob carries from the old driver, are
 *      replaced by pointers to requests of fuzzed sizes.
 * Beyond the sanitizers it traps on broken promises: what the parsers
 * accept must pass the checks an imported copy must pass (ident_sane,
 * ident_geom_sane: a block size that is no power of two in 512..4096, a
 * size of 0 or overflowing bytes, a block larger than a command), a
 * namespace list that is not increasing or holds 0, a property value
 * with a space or '=', an import that keeps a request too small or a
 * namespace it does not publish, memory not given back.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/pbmod.h"
#include "../../mods/nvme/admin.c"
#include "../../mods/nvme/ctrl.c"
#include "../../mods/nvme/gone.c"
#include "../../mods/nvme/identify.c"
#include "../../mods/nvme/io.c"
#include "../../mods/nvme/irq.c"
#include "../../mods/nvme/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo nvme_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/nvme/nvme.c"
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
/* No register is read or written on these paths. */
uint32_t mmio_read32(const volatile void *r) { (void)r; __builtin_trap(); }
void mmio_write32(volatile void *r, uint32_t v) { (void)r; (void)v;
	__builtin_trap(); }
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

static uint64_t fz_now(void) { return 0; }

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub), .log = fz_log, .alloc = fz_alloc,
	.free = fz_free, .now_ns = fz_now,
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
props_ok(const struct nvme_ns *ns, const struct nvme_ident *id)
{
	char props[256];

	ident_props(ns, id, props, sizeof(props));
	must(strlen(props) < sizeof(props));
	must(!strstr(props, "  "));
}

static void
page_of(uint8_t *page, const uint8_t *d, size_t n)
{
	memset(page, 0, ID_DATA_SIZE);
	memcpy(page, d, n < ID_DATA_SIZE ? n : ID_DATA_SIZE);
}

static void
fuzz_ctrl(const uint8_t *d, size_t n)
{
	static uint8_t page[ID_DATA_SIZE];
	struct nvme_ident id;
	const char *why;

	page_of(page, d, n);
	if (ident_ctrl(page, &id, &why) != PB_OK) {
		must(why != NULL);
		return;
	}
	must(ident_sane(&id));
	value_ok(id.model, sizeof(id.model));
	value_ok(id.serial, sizeof(id.serial));
	must(strnlen(id.firmware, sizeof(id.firmware)) < sizeof(id.firmware));
}

static void
fuzz_ns(const uint8_t *d, size_t n)
{
	static uint8_t page[ID_DATA_SIZE], cpage[ID_DATA_SIZE];
	static struct nvme_ns ns;
	struct nvme_ident id;
	const char *why;
	uint32_t nsid;

	if (n < 6)
		return;
	nsid = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	    (uint32_t)d[3] << 24;
	memset(cpage, 0, sizeof(cpage));
	cpage[IDC_MDTS] = d[4];
	cpage[IDC_VWC] = d[5];
	cpage[IDC_NN] = 1;
	must(ident_ctrl(cpage, &id, &why) == PB_OK);
	page_of(page, d + 6, n - 6);
	memset(&ns, 0, sizeof(ns));
	if (ident_ns(page, nsid, &id, &ns.g, &why) != PB_OK) {
		must(why != NULL);
		must(!ns_known(&ns));
		return;
	}
	must(ident_geom_sane(&ns.g, &id));
	rt_snprintf(ns.path, sizeof(ns.path), "pci:00:04.0/nvme:%u", nsid);
	props_ok(&ns, &id);
}

static void
fuzz_list(const uint8_t *d, size_t n)
{
	static uint8_t page[ID_DATA_SIZE];
	static uint32_t out[NS_LIST_MAX];
	uint32_t max = n ? d[0] * 8u + 1 : 1, k;

	page_of(page, n ? d + 1 : d, n ? n - 1 : 0);
	if (max > NS_LIST_MAX)
		max = NS_LIST_MAX;
	k = ident_ns_list(page, out, max);
	must(k <= max);
	for (uint32_t i = 0; i < k; i++) {
		must(out[i] != 0 && out[i] != 0xffffffffu);
		must(i == 0 || out[i] > out[i - 1]);
	}
}

#define FZ_REQS 8

static void
fuzz_import(const uint8_t *d, size_t n)
{
	static struct block_req reqs[FZ_REQS];
	static char res_storage[NVME_MAX_NS];
	static struct pb_conn pci = { .res = "pci:00:04.0" };
	struct nvme *c = &instances[0];
	struct block_state st;
	uint8_t *buf;
	int err;

	memset(c, 0, sizeof(*c));
	c->hub = &fz_hub;
	c->standby = 1;
	c->pci = &pci;
	c->vector = c->adopt_vector = -1;
	rt_strlcpy(c->name, "nvme1", sizeof(c->name));
	for (uint32_t nsid = 1; nsid <= 4; nsid++) {
		struct nvme_ns *ns = nvme_ns_add(c, nsid);

		must(ns != NULL);
		ns->res = (struct pb_resource *)&res_storage[nsid];
	}
	if (n < sizeof(st))
		return;
	buf = malloc(n);
	memcpy(buf, d, n);
	memcpy(&st, buf, sizeof(st));
	for (unsigned k = 0; k < FZ_REQS; k++)	/* the last one too small */
		reqs[k].size = k + 1 < FZ_REQS ? sizeof(reqs[k]) : 40;
	if (st.ndisks <= NVME_MAX_NS && st.nreq < (1u << 20)) {
		size_t at = rt_block_state_size(st.ndisks, 0);
		size_t ptrs = rt_block_state_size(st.ndisks, st.nreq);

		for (size_t k = 0; at + (k + 1) * 8 <= n && at + k * 8 < ptrs;
		    k++) {
			struct block_req *r = &reqs[k % FZ_REQS];

			memcpy(buf + at + k * 8, &r, 8);
		}
	}
	err = state_import(c, buf, n, BLOCK_STATE_VERSION);
	if (err == PB_OK) {
		for (uint32_t k = 0; k < c->nimported; k++) {
			must(c->imported[k].r->size >= sizeof(struct block_req));
			must(nvme_ns_by_id(c, c->imported[k].nsid) != NULL);
		}
		if (c->have_import) {
			must(ident_sane(&c->id));
			for (unsigned i = 0; i < c->nns; i++) {
				must(ident_geom_sane(&c->ns[i].g, &c->id));
				props_ok(&c->ns[i], &c->id);
			}
		}
	}
	if (c->imported)
		fz_free(NULL, c->imported);
	c->imported = NULL;
	must(heap_live == 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_ctrl(data + 1, size - 1);
		break;
	case 1:
		fuzz_ns(data + 1, size - 1);
		break;
	case 2:
		fuzz_list(data + 1, size - 1);
		break;
	default:
		fuzz_import(data + 1, size - 1);
		break;
	}
	return 0;
}
