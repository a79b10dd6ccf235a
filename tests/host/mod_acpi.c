/*
 * mod_acpi.c - host tests of the acpi module (mods/acpi): the RSDP and its
 * two root tables, table verification (checksums, lengths, mapping, the
 * table limit), the MADT, MCFG, HPET and FADT parsers, the resources'
 * property lines, and the module itself started against a fake hub.
 *
 * Firmware memory is a set of regions at chosen physical addresses; the
 * parser reaches it through struct acpi_io, which maps only inside a
 * region, so a read past what the firmware "has" fails the map, and every
 * copy is malloc'd at its exact length, so ASan catches a parser reading
 * past a table.  qemu_madt and qemu_fadt are QEMU 7.2's q35 tables as OVMF
 * installed them (dumped with the monitor's pmemsave).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/acpi/rsdp.c"
#include "../../mods/acpi/tables.c"
#include "../../mods/acpi/madt.c"
#include "../../mods/acpi/mcfg.c"
#include "../../mods/acpi/hpet.c"
#include "../../mods/acpi/fadt.c"
#include "../../mods/acpi/dmar.c"
#include "../../mods/acpi/props.c"
#include "../../mods/acpi/acpi.c"

/* ---- fake firmware memory ------------------------------------------- */

#define MAX_REGIONS 80
#define MAX_COPIES 200

struct region {
	uint64_t phys;
	uint8_t *b;
	uint32_t len;
};

static struct region regions[MAX_REGIONS];
static unsigned nregions;
static int maps_live;			/* maps not unmapped yet */
static void *copies[MAX_COPIES];
static unsigned ncopies;
static char logbuf[32768];

static void
mem_put(uint64_t phys, const void *p, uint32_t len)
{
	struct region *r = &regions[nregions++];

	r->phys = phys;
	r->b = malloc(len);
	r->len = len;
	memcpy(r->b, p, len);
}

static uint8_t *
mem_at(uint64_t phys)
{
	for (unsigned i = 0; i < nregions; i++)
		if (regions[i].phys == phys)
			return regions[i].b;
	return NULL;
}

static void
mem_reset(void)
{
	for (unsigned i = 0; i < nregions; i++)
		free(regions[i].b);
	for (unsigned i = 0; i < ncopies; i++)
		free(copies[i]);
	nregions = ncopies = 0;
	maps_live = 0;
	logbuf[0] = '\0';
}

static const void *
fake_map(void *arg, uint64_t phys, uint32_t len)
{
	(void)arg;
	for (unsigned i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];

		if (phys >= r->phys && phys - r->phys <= r->len &&
		    len <= r->len - (phys - r->phys)) {
			maps_live++;
			return r->b + (phys - r->phys);
		}
	}
	return NULL;
}

static void
fake_unmap(void *arg, const void *va, uint32_t len)
{
	(void)arg, (void)va, (void)len;
	maps_live--;
}

static void *
fake_alloc(void *arg, uint32_t len)
{
	(void)arg;
	if (ncopies == MAX_COPIES)
		return NULL;
	return copies[ncopies++] = malloc(len);
}

static void
fake_log(void *arg, int level, const char *msg)
{
	(void)arg, (void)level;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static unsigned
logged(const char *what)
{
	unsigned n = 0;

	for (const char *p = logbuf; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static const struct acpi_io test_io = {
	.map = fake_map, .unmap = fake_unmap, .alloc = fake_alloc,
	.log = fake_log,
};

static struct acpi_set S;

static int
scan_at(uint64_t rsdp_phys)
{
	return acpi_scan(&S, &test_io, rsdp_phys);
}

/* The entry for the table at phys, or NULL. */
static const struct acpi_table *
listed(uint64_t phys)
{
	for (unsigned i = 0; i < S.ntables; i++)
		if (S.tables[i].info.phys == phys)
			return &S.tables[i];
	return NULL;
}

/* ---- building tables ------------------------------------------------ */

struct tb {
	uint8_t b[32768];
	uint32_t len;
};

static void
tb_put(struct tb *t, const void *p, uint32_t n)
{
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

static void tb_u8(struct tb *t, uint8_t v) { tb_put(t, &v, 1); }
static void tb_u16(struct tb *t, uint16_t v) { tb_put(t, &v, 2); }
static void tb_u32(struct tb *t, uint32_t v) { tb_put(t, &v, 4); }
static void tb_u64(struct tb *t, uint64_t v) { tb_put(t, &v, 8); }

static void
tb_start(struct tb *t, const char *sig, uint8_t rev)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->b[8] = rev;
	memcpy(t->b + 10, "PBTEST", 6);
	memcpy(t->b + 16, "TESTTBL ", 8);
	t->len = 36;
}

/* Length and checksum (§5.2.6). */
static void
tb_end(struct tb *t)
{
	memcpy(t->b + 4, &t->len, 4);
	t->b[9] = 0;
	t->b[9] = (uint8_t)-acpi_sum(t->b, t->len);
}

static void
put_table(uint64_t phys, struct tb *t)
{
	tb_end(t);
	mem_put(phys, t->b, t->len);
}

/* A table with nothing but its header. */
static void
put_empty(uint64_t phys, const char *sig)
{
	struct tb t;

	tb_start(&t, sig, 1);
	put_table(phys, &t);
}

static void
put_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	struct rsdp r;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, "PBOEM ", 6);
	r.revision = rev;
	r.rsdt_address = rsdt;
	r.checksum = (uint8_t)-acpi_sum(&r, RSDP_V1_LEN);
	if (rev >= 2) {
		r.length = sizeof(r);
		r.xsdt_address = xsdt;
		r.extended_checksum = (uint8_t)-acpi_sum(&r, sizeof(r));
	}
	mem_put(phys, &r, rev >= 2 ? sizeof(r) : RSDP_V1_LEN);
}

/* A root table listing n addresses, esz bytes each. */
static void
put_root(uint64_t phys, const char *sig, unsigned esz, const uint64_t *a,
    unsigned n)
{
	struct tb t;

	tb_start(&t, sig, 1);
	for (unsigned i = 0; i < n; i++)
		tb_put(&t, &a[i], esz);
	put_table(phys, &t);
}

/* A MADT header; entries follow with the madt_* helpers. */
static void
madt_start(struct tb *t, uint32_t lapic, uint32_t flags)
{
	tb_start(t, "APIC", 1);
	tb_u32(t, lapic);
	tb_u32(t, flags);
}

static void
madt_lapic(struct tb *t, uint8_t uid, uint8_t id, uint32_t flags)
{
	tb_u8(t, MADT_LOCAL_APIC), tb_u8(t, 8), tb_u8(t, uid), tb_u8(t, id);
	tb_u32(t, flags);
}

static void
madt_x2apic(struct tb *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	tb_u8(t, MADT_LOCAL_X2APIC), tb_u8(t, 16), tb_u16(t, 0);
	tb_u32(t, id), tb_u32(t, flags), tb_u32(t, uid);
}

static void
madt_iso(struct tb *t, uint8_t src, uint32_t gsi, uint16_t flags)
{
	tb_u8(t, MADT_INT_SRC_OVERRIDE), tb_u8(t, 10), tb_u8(t, 0);
	tb_u8(t, src), tb_u32(t, gsi), tb_u16(t, flags);
}

/* A FADT of `len` bytes and revision rev; fill the struct first. */
static void
put_fadt(uint64_t phys, struct fadt *f, uint8_t rev, uint32_t len)
{
	struct tb t;

	tb_start(&t, "FACP", rev);
	memcpy(t.b + 36, (const uint8_t *)f + 36, sizeof(*f) - 36);
	t.len = len;
	put_table(phys, &t);
}

/* QEMU 7.2 q35's MADT and FADT as OVMF installed them (dumped with the
 * monitor's pmemsave); tests/fuzz/mkseeds-acpi reads them from here too. */
static const uint8_t qemu_madt[120] = {
	0x41, 0x50, 0x49, 0x43, 0x78, 0x00, 0x00, 0x00, 0x01, 0x8a, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xfe,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x0a, 0x00, 0x05, 0x05, 0x00, 0x00, 0x00, 0x0d, 0x00,
	0x02, 0x0a, 0x00, 0x09, 0x09, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x02, 0x0a,
	0x00, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x02, 0x0a, 0x00, 0x0b,
	0x0b, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x04, 0x06, 0xff, 0x00, 0x00, 0x01,
};
static const uint8_t qemu_fadt[244] = {
	0x46, 0x41, 0x43, 0x50, 0xf4, 0x00, 0x00, 0x00, 0x03, 0x0f, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x00, 0xc0, 0x7d, 0x1f, 0x00, 0x90, 0x77, 0x1f, 0x01, 0x00, 0x09, 0x00,
	0xb2, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x06, 0x00, 0x00, 0x20, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00,
	0xff, 0x0f, 0xff, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x32, 0x02, 0x00, 0x00, 0xa5, 0x84, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00,
	0xf9, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0x77, 0x1f,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x04, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0x08, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x20, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

/* ---- the RSDP and the root tables ------------------------------------ */

TEST(acpi_rsdp_v0_uses_the_rsdt)
{
	uint64_t list[] = { 0x3000, 0x4000, 0x5000 };
	struct fadt f = { .dsdt = 0x6000, .firmware_ctrl = 0x7000,
	    .sci_int = 9, .pm_tmr_blk = 0xb008, .pm_tmr_len = 4,
	    .century = 0x32, .iapc_boot_arch = 0x3, .flags = FADT_TMR_VAL_EXT };
	struct tb t;
	struct facs facs = { .signature = "FACS", .length = 64, .version = 1 };

	mem_reset();
	put_rsdp(0xe0000, 0, 0x2000, 0);
	put_root(0x2000, "RSDT", 4, list, 3);
	put_fadt(0x3000, &f, 1, FADT_V1_LEN);
	madt_start(&t, 0xfee00000, 1);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	put_table(0x4000, &t);
	put_empty(0x5000, "SSDT");
	put_empty(0x6000, "DSDT");
	mem_put(0x7000, &facs, sizeof(facs));

	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.rsdp_revision, 0);
	CHECK_STR(S.rsdp_oem, "PBOEM");
	CHECK_EQ_INT(S.ntables, 6);	/* RSDT, 3 listed, DSDT, FACS */
	CHECK_EQ_INT(S.nbad, 0);
	CHECK_STR(S.tables[0].info.sig, "RSDT");
	CHECK_STR(S.tables[1].info.sig, "FACP");
	CHECK_STR(S.tables[4].info.sig, "DSDT");
	CHECK_STR(S.tables[5].info.sig, "FACS");
	CHECK_EQ_INT(S.tables[5].info.revision, 1);	/* FACS version */
	CHECK_STR(S.tables[1].info.oem_id, "PBTEST");	/* padding gone */
	CHECK_STR(S.tables[1].info.oem_table, "TESTTBL");
	for (unsigned i = 0; i < S.ntables; i++)
		CHECK_MSG(S.tables[i].info.valid && !S.tables[i].info.problem,
		    "table %u (%s) not valid: %s", i, S.tables[i].info.sig,
		    S.tables[i].info.problem);
	CHECK(acpi_table_find(&S, "SSDT", 0) != NULL);
	CHECK(acpi_table_find(&S, "SSDT", 1) == NULL);
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(S.plat.lapic_phys, 0xfee00000);
	CHECK_EQ_INT(S.plat.madt_flags, 1);
	/* Revision 1 FADT: no boot architecture flags, no reset register. */
	CHECK_EQ_INT(S.plat.have_fadt, 1);
	CHECK_EQ_INT(S.plat.fadt_revision, 1);
	CHECK_EQ_INT(S.plat.iapc_boot_arch, 0);
	CHECK_EQ_INT(S.plat.reset_reg.address, 0);
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0xb008);
	CHECK_EQ_INT(S.plat.pm_tmr_32bit, 1);
	CHECK_EQ_INT(S.plat.century, 0x32);
	CHECK_EQ_INT(S.plat.sci_int, 9);
	CHECK_EQ_INT(maps_live, 0);
	CHECK_STR(logbuf, "");
	mem_reset();
}

TEST(acpi_rsdp_v2_uses_the_xsdt)
{
	/* Tables above 4 GiB: only 64-bit entries reach them. */
	uint64_t x[] = { 0x100002000ull, 0x100003000ull };
	uint64_t r[] = { 0x8000 };

	mem_reset();
	put_rsdp(0xe0000, 2, 0x1000, 0x100001000ull);
	put_root(0x100001000ull, "XSDT", 8, x, 2);
	put_root(0x1000, "RSDT", 4, r, 1);
	put_empty(0x100002000ull, "SSDT");
	put_empty(0x100003000ull, "BGRT");
	put_empty(0x8000, "OLDT");

	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.rsdp_revision, 2);
	CHECK_EQ_INT(S.ntables, 3);
	CHECK_STR(S.tables[0].info.sig, "XSDT");
	CHECK(listed(0x100003000ull) && listed(0x100003000ull)->info.valid);
	CHECK(!listed(0x1000) && !listed(0x8000));	/* RSDT unused */
	CHECK_EQ_INT(maps_live, 0);

	/* XSDT address 0 in a revision 2 RSDP: the RSDT. */
	mem_reset();
	put_rsdp(0xe0000, 2, 0x1000, 0);
	put_root(0x1000, "RSDT", 4, r, 1);
	put_empty(0x8000, "OLDT");
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_STR(S.tables[0].info.sig, "RSDT");
	CHECK(listed(0x8000) != NULL);
	mem_reset();
}

TEST(acpi_rsdp_checks)
{
	uint64_t r[] = { 0x8000 };
	uint8_t *p;

	/* Nothing mapped there. */
	mem_reset();
	CHECK_EQ_INT(scan_at(0xe0000), PB_ENOENT);
	CHECK_EQ_INT(logged("cannot map"), 1);

	/* Bad signature, bad checksum. */
	mem_reset();
	put_rsdp(0xe0000, 0, 0x1000, 0);
	mem_at(0xe0000)[0] = 'X';
	CHECK_EQ_INT(scan_at(0xe0000), PB_ENOENT);
	CHECK_EQ_INT(logged("bad signature"), 1);
	mem_reset();
	put_rsdp(0xe0000, 0, 0x1000, 0);
	mem_at(0xe0000)[16]++;		/* the RSDT address, after the sum */
	CHECK_EQ_INT(scan_at(0xe0000), PB_ENOENT);
	CHECK_EQ_INT(logged("RSDP at 0xe0000: bad checksum"), 1);

	/* A revision 2 RSDP whose extended checksum fails: the XSDT address
	 * is not trusted, the RSDT (under the good v1 checksum) is. */
	mem_reset();
	put_rsdp(0xe0000, 2, 0x1000, 0x2000);
	p = mem_at(0xe0000);
	p[24] ^= 0x40;			/* XSDT address, extended part only */
	put_root(0x1000, "RSDT", 4, r, 1);
	put_empty(0x8000, "OLDT");
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(logged("bad extended checksum"), 1);
	CHECK_STR(S.tables[0].info.sig, "RSDT");

	/* A revision 2 RSDP with a silly length. */
	mem_reset();
	put_rsdp(0xe0000, 2, 0x1000, 0x2000);
	p = mem_at(0xe0000);
	p[20] = 8;
	p[8] = 0;
	p[8] = (uint8_t)-acpi_sum(p, RSDP_V1_LEN);
	put_root(0x1000, "RSDT", 4, r, 1);
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(logged("bad length"), 1);

	/* Neither root table. */
	mem_reset();
	put_rsdp(0xe0000, 0, 0, 0);
	CHECK_EQ_INT(scan_at(0xe0000), PB_ENOENT);
	CHECK_EQ_INT(logged("no root table"), 1);
	mem_reset();
}

TEST(acpi_broken_xsdt_falls_back_to_the_rsdt)
{
	uint64_t x[] = { 0x3000 };
	uint32_t r[] = { 0x3000 };
	struct tb t;

	mem_reset();
	put_rsdp(0xe0000, 2, 0x1000, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 1);
	mem_at(0x2000)[40]++;		/* spoil its checksum */
	tb_start(&t, "RSDT", 1);
	tb_put(&t, r, 4);
	put_table(0x1000, &t);
	put_empty(0x3000, "SSDT");
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.ntables, 3);
	CHECK_STR(S.tables[0].info.sig, "XSDT");
	CHECK_STR(S.tables[0].info.problem, "bad checksum");
	CHECK_STR(S.tables[1].info.sig, "RSDT");
	CHECK(S.tables[2].info.valid);
	CHECK_EQ_INT(logged("falling back to the RSDT"), 1);

	/* Both broken: no tables. */
	mem_at(0x1000)[36]++;
	CHECK_EQ_INT(scan_at(0xe0000), PB_ENOENT);
	CHECK_EQ_INT(logged("no usable root table"), 1);
	mem_reset();
}

/* ---- verification ------------------------------------------------------ */

/* A MADT whose checksum is off (firmware that patched a byte late): its
 * signature and length are sane, so it is parsed, with one warning, and
 * listed as not valid with its problem, as Linux does; losing it would
 * lose the interrupt routing. */
TEST(acpi_bad_checksum_is_listed_and_used)
{
	uint64_t x[] = { 0x3000, 0x4000, 0x5000 };
	struct fadt f = { .pm_tmr_blk = 0x608, .pm_tmr_len = 4, .sci_int = 9 };
	struct tb t;
	const void *data;
	uint32_t len;

	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 3);
	madt_start(&t, 0xfee00000, 1);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	madt_iso(&t, 0, 2, 0);
	put_table(0x3000, &t);
	mem_at(0x3000)[44 + 3] = 7;	/* APIC id 7, checksum not fixed */
	put_empty(0x4000, "HPXT");
	put_fadt(0x5000, &f, 3, sizeof(f));
	mem_at(0x5000)[9] ^= 0x5a;	/* the FADT's checksum spoilt */

	REQUIRE(scan_at(0xe0000) == PB_OK);
	REQUIRE(listed(0x3000));
	CHECK_STR(listed(0x3000)->info.sig, "APIC");
	CHECK_EQ_INT(listed(0x3000)->info.valid, 0);
	CHECK_STR(listed(0x3000)->info.problem, "bad checksum, used");
	CHECK(listed(0x3000)->data != NULL);
	CHECK_EQ_INT(S.nbad, 2);
	CHECK(acpi_table_find(&S, "APIC", 0) == listed(0x3000));
	/* Parsed: the CPU with its ID as the table has it, the override. */
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(S.plat.cpus[0].apic_id, 7);
	CHECK_EQ_INT(S.plat.lapic_phys, 0xfee00000);
	CHECK_EQ_INT(S.plat.noverrides, 1);
	CHECK_EQ_INT(S.plat.overrides[0].gsi, 2);
	/* The FADT too: the PM timer and the SCI are there. */
	CHECK_STR(listed(0x5000)->info.problem, "bad checksum, used");
	CHECK_EQ_INT(S.plat.have_fadt, 1);
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0x608);
	/* Warned once each, and the next table is fine. */
	CHECK_EQ_INT(logged("bad checksum"), 2);
	CHECK_CONTAINS(logbuf, "table APIC at 0x3000 (62 bytes): bad checksum; "
	    "used all the same (its signature and length are sane)");
	CHECK(listed(0x4000) && listed(0x4000)->info.valid);
	/* Through the operations too. */
	CHECK_EQ_INT(acpi_find(&S, "APIC", 0, &data, &len), PB_OK);
	CHECK_EQ_INT(len, 62);
	CHECK_EQ_INT(acpi_find(&S, "HPXT", 0, &data, &len), PB_OK);
	CHECK_EQ_INT(len, 36);
	CHECK_EQ_INT(acpi_find(&S, "HPX", 0, &data, &len), PB_EINVAL);
	CHECK_EQ_INT(maps_live, 0);
	mem_reset();
}

/* A bad checksum and a signature that is no signature: garbage, skipped;
 * so is a root table with a bad checksum (broken_xsdt test above). */
TEST(acpi_bad_checksum_and_garbage_signature_is_skipped)
{
	uint64_t x[] = { 0x3000 };
	const void *data;
	uint32_t len;

	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 1);
	put_empty(0x3000, "AP\x01" "C");
	mem_at(0x3000)[20]++;
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_STR(listed(0x3000)->info.sig, "AP?C");
	CHECK_STR(listed(0x3000)->info.problem, "bad checksum");
	CHECK(listed(0x3000)->data == NULL);
	CHECK_EQ_INT(acpi_find(&S, "AP?C", 0, &data, &len), PB_ENOENT);
	CHECK_CONTAINS(logbuf, "table AP?C at 0x3000 (36 bytes): bad checksum; "
	    "skipped");
	mem_reset();
}

TEST(acpi_truncated_and_unmappable_tables)
{
	uint64_t x[] = { 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x8000,
	    0x9000, 0, 0x9000 };
	struct tb t;
	uint32_t huge = 5u << 20;

	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 9);
	/* 0x3000: claims 20 bytes, less than its own header. */
	tb_start(&t, "SHRT", 1);
	t.len = 20;
	tb_end(&t);
	mem_put(0x3000, t.b, 36);
	/* 0x4000: a MADT of 40 bytes, checksum right: too short for one. */
	tb_start(&t, "APIC", 1);
	tb_u32(&t, 0xfee00000);
	put_table(0x4000, &t);
	/* 0x5000: a header claiming 5 MiB. */
	tb_start(&t, "HUGE", 1);
	memcpy(t.b + 4, &huge, 4);
	mem_put(0x5000, t.b, 36);
	/* 0x6000: longer than the memory behind it. */
	tb_start(&t, "LONG", 1);
	t.len = 100;
	tb_end(&t);
	mem_put(0x6000, t.b, 64);
	/* 0x7000: nothing there.  0x8000: a FACP of 100 bytes. */
	tb_start(&t, "FACP", 1);
	t.len = 100;
	put_table(0x8000, &t);
	/* 0x9000, listed twice; a null entry between. */
	put_empty(0x9000, "SSDT");

	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.ntables, 8);	/* XSDT + 7 distinct */
	CHECK_STR(listed(0x3000)->info.problem, "truncated");
	CHECK_STR(listed(0x4000)->info.problem, "truncated");
	CHECK_STR(listed(0x4000)->info.sig, "APIC");
	CHECK_STR(listed(0x5000)->info.problem, "too long");
	CHECK_STR(listed(0x6000)->info.problem, "cannot map");
	CHECK_STR(listed(0x7000)->info.problem, "cannot map");
	CHECK_STR(listed(0x7000)->info.sig, "????");
	CHECK_STR(listed(0x8000)->info.problem, "truncated");
	CHECK(listed(0x9000)->info.valid);
	CHECK_EQ_INT(S.nbad, 6);
	CHECK_EQ_INT(S.plat.have_fadt, 0);
	CHECK_EQ_INT(S.plat.lapic_phys, 0);
	CHECK_EQ_INT(logged("; skipped"), 7);	/* 6 tables, 1 null entry */
	CHECK_EQ_INT(logged("entry 7 is null"), 1);
	CHECK_EQ_INT(maps_live, 0);
	mem_reset();
}

TEST(acpi_root_table_odd_length_and_table_limit)
{
	uint64_t x[ACPI_MAX_TABLES + 5];
	struct tb t;

	mem_reset();
	/* An XSDT of one entry and four bytes more. */
	put_rsdp(0xe0000, 2, 0, 0x2000);
	tb_start(&t, "XSDT", 1);
	tb_u64(&t, 0x3000);
	tb_u32(&t, 0x4000);
	put_table(0x2000, &t);
	put_empty(0x3000, "SSDT");
	put_empty(0x4000, "SSDT");
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.ntables, 2);
	CHECK_EQ_INT(logged("leaves a partial entry"), 1);

	/* More tables than the list holds. */
	mem_reset();
	for (unsigned i = 0; i < ACPI_MAX_TABLES + 5; i++) {
		x[i] = 0x10000 + i * 0x100;
		put_empty(x[i], "SSDT");
	}
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, ACPI_MAX_TABLES + 5);
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.ntables, ACPI_MAX_TABLES);
	CHECK_EQ_INT(S.dropped, 6);
	CHECK_EQ_INT(logged("the rest are left out"), 1);
	mem_reset();
}

TEST(acpi_fadt_links_checked)
{
	uint64_t x[] = { 0x3000 };
	struct fadt f = { .dsdt = 0x4000, .firmware_ctrl = 0x5000 };
	struct facs facs = { .signature = "FACS", .length = 32 };

	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 1);
	put_fadt(0x3000, &f, 1, FADT_V1_LEN);
	put_empty(0x4000, "SSDT");		/* not a DSDT */
	mem_put(0x5000, &facs, sizeof(facs));	/* FACS shorter than 64 */
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_STR(listed(0x4000)->info.problem, "wrong signature");
	CHECK_STR(listed(0x5000)->info.sig, "FACS");
	CHECK_STR(listed(0x5000)->info.problem, "truncated");
	CHECK(acpi_table_find(&S, "DSDT", 0) == NULL);
	mem_reset();
}

/* ---- MADT ------------------------------------------------------------- */

TEST(acpi_madt_qemu_overrides)
{
	char props[128];

	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	CHECK_EQ_INT(acpi_sum(qemu_madt, sizeof(qemu_madt)), 0);
	acpi_madt_parse(&S, qemu_madt, sizeof(qemu_madt));
	CHECK_EQ_INT(S.plat.lapic_phys, 0xfee00000);
	CHECK_EQ_INT(S.plat.madt_flags, 1);	/* PCAT_COMPAT: 8259s */
	REQUIRE(S.plat.ncpus == 1);
	CHECK_EQ_INT(S.plat.cpus[0].apic_id, 0);
	CHECK_EQ_INT(S.plat.cpus[0].uid, 0);
	CHECK_EQ_INT(S.plat.cpus[0].enabled, 1);
	REQUIRE(S.plat.nioapics == 1);
	CHECK_EQ_INT(S.plat.ioapics[0].phys, 0xfec00000);
	CHECK_EQ_INT(S.plat.ioapics[0].gsi_base, 0);
	REQUIRE(S.plat.noverrides == 5);
	/* ISA 0 -> GSI 2, conforming (ISA: edge, active high). */
	CHECK_EQ_INT(S.plat.overrides[0].source, 0);
	CHECK_EQ_INT(S.plat.overrides[0].gsi, 2);
	acpi_override_props(&S.plat.overrides[0], props, sizeof(props));
	CHECK_STR(props, "isa=0 gsi=2 flags=0x0 pol=conform trig=conform");
	/* The PCI link IRQs: level, active high. */
	static const uint8_t pci[] = { 5, 9, 10, 11 };
	for (unsigned i = 0; i < 4; i++) {
		const struct acpi_override *o = &S.plat.overrides[1 + i];

		CHECK_EQ_INT(o->source, pci[i]);
		CHECK_EQ_INT(o->gsi, pci[i]);
		CHECK_EQ_INT(o->flags & ACPI_POL_MASK, ACPI_POL_HIGH);
		CHECK_EQ_INT(o->flags & ACPI_TRIG_MASK, ACPI_TRIG_LEVEL);
	}
	acpi_override_props(&S.plat.overrides[2], props, sizeof(props));
	CHECK_STR(props, "isa=9 gsi=9 flags=0xd pol=high trig=level");
	/* LINT1 of every CPU is the NMI. */
	REQUIRE(S.plat.nnmis == 1);
	CHECK_EQ_INT(S.plat.nmis[0].uid, 0xffffffffu);
	CHECK_EQ_INT(S.plat.nmis[0].gsi, 0xffffffffu);
	CHECK_EQ_INT(S.plat.nmis[0].lint, 1);
	acpi_nmi_props(&S.plat.nmis[0], props, sizeof(props));
	CHECK_STR(props, "uid=all lint=1 flags=0x0 pol=conform trig=conform");
	CHECK_STR(logbuf, "");
}

TEST(acpi_madt_x2apic_and_friends)
{
	struct tb t;
	char props[128];

	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	madt_lapic(&t, 1, 1, 0);			/* unusable: left out */
	madt_lapic(&t, 2, 2, MADT_ONLINE_CAPABLE);	/* hot-pluggable */
	madt_x2apic(&t, 0, MADT_ENABLED, 0);		/* the same as apic 0 */
	madt_x2apic(&t, 0x100, MADT_ENABLED, 300);
	madt_x2apic(&t, 0x101, MADT_ENABLED, 301);
	/* Local x2APIC NMI, all CPUs, LINT1, edge/high. */
	tb_u8(&t, MADT_LOCAL_X2APIC_NMI), tb_u8(&t, 12), tb_u16(&t, 0x5);
	tb_u32(&t, 0xffffffffu), tb_u8(&t, 1), tb_u8(&t, 0), tb_u16(&t, 0);
	/* NMI source on GSI 7, level/low. */
	tb_u8(&t, MADT_NMI_SOURCE), tb_u8(&t, 8), tb_u16(&t, 0xf);
	tb_u32(&t, 7);
	/* Local APIC NMI for UID 2 on LINT0. */
	tb_u8(&t, MADT_LOCAL_APIC_NMI), tb_u8(&t, 6), tb_u8(&t, 2);
	tb_u16(&t, 0), tb_u8(&t, 0);
	/* Local APIC address override: a 64-bit address. */
	tb_u8(&t, MADT_LOCAL_APIC_OVERRIDE), tb_u8(&t, 12), tb_u16(&t, 0);
	tb_u64(&t, 0x1fee00000ull);
	/* A second I/O APIC with GSI base 24. */
	tb_u8(&t, MADT_IO_APIC), tb_u8(&t, 12), tb_u8(&t, 9), tb_u8(&t, 0);
	tb_u32(&t, 0xfec01000), tb_u32(&t, 24);
	tb_end(&t);

	acpi_madt_parse(&S, t.b, t.len);
	REQUIRE(S.plat.ncpus == 4);
	CHECK_EQ_INT(S.plat.cpus[0].apic_id, 0);
	CHECK_EQ_INT(S.plat.cpus[0].x2apic, 0);
	CHECK_EQ_INT(S.plat.cpus[1].apic_id, 2);
	CHECK_EQ_INT(S.plat.cpus[1].enabled, 0);
	CHECK_EQ_INT(S.plat.cpus[2].apic_id, 0x100);
	CHECK_EQ_INT(S.plat.cpus[2].uid, 300);
	CHECK_EQ_INT(S.plat.cpus[2].x2apic, 1);
	CHECK_EQ_INT(S.plat.cpus[3].apic_id, 0x101);
	acpi_cpu_props(&S.plat.cpus[2], props, sizeof(props));
	CHECK_STR(props, "apic=256 uid=300 enabled=1 x2apic=1");
	REQUIRE(S.plat.nnmis == 3);
	CHECK_EQ_INT(S.plat.nmis[0].uid, 0xffffffffu);
	CHECK_EQ_INT(S.plat.nmis[0].lint, 1);
	acpi_nmi_props(&S.plat.nmis[1], props, sizeof(props));
	CHECK_STR(props, "gsi=7 flags=0xf pol=low trig=level");
	acpi_nmi_props(&S.plat.nmis[2], props, sizeof(props));
	CHECK_STR(props, "uid=2 lint=0 flags=0x0 pol=conform trig=conform");
	CHECK_EQ_INT(S.plat.lapic_phys, 0x1fee00000ull);
	REQUIRE(S.plat.nioapics == 1);
	CHECK_EQ_INT(S.plat.ioapics[0].id, 9);
	CHECK_EQ_INT(S.plat.ioapics[0].gsi_base, 24);
	CHECK_STR(logbuf, "");
}

/* Parse a MADT from an exact-length heap copy (ASan bounds). */
static void
parse_madt_copy(const struct tb *t)
{
	uint8_t *c = malloc(t->len);

	memcpy(c, t->b, t->len);
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	acpi_madt_parse(&S, c, t->len);
	free(c);
}

TEST(acpi_madt_bad_entry_lengths)
{
	struct tb t;

	/* A Local APIC entry claiming 6 bytes: skipped, the walk goes on. */
	madt_start(&t, 0xfee00000, 0);
	tb_u8(&t, MADT_LOCAL_APIC), tb_u8(&t, 6), tb_u32(&t, 0x01010101);
	madt_iso(&t, 0, 2, 0);
	tb_u8(&t, 0x7f), tb_u8(&t, 5), tb_u8(&t, 1), tb_u16(&t, 2); /* unknown */
	madt_lapic(&t, 3, 3, MADT_ENABLED);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(S.plat.cpus[0].apic_id, 3);
	CHECK_EQ_INT(S.plat.noverrides, 1);
	CHECK_EQ_INT(logged("1 entries too short"), 1);

	/* Length 0 ends the walk: nothing after it is read. */
	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	tb_u8(&t, MADT_LOCAL_APIC), tb_u8(&t, 0), tb_u16(&t, 0);
	madt_lapic(&t, 1, 1, MADT_ENABLED);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(logged("an entry of length < 2 at offset 52"), 1);

	/* Length 1 too. */
	madt_start(&t, 0xfee00000, 0);
	tb_u8(&t, MADT_IO_APIC), tb_u8(&t, 1);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.nioapics, 0);
	CHECK_EQ_INT(logged("length < 2"), 1);

	/* An x2APIC entry whose length runs past the table's end. */
	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	tb_u8(&t, MADT_LOCAL_X2APIC), tb_u8(&t, 16), tb_u16(&t, 0);
	tb_u32(&t, 0x200);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(logged("past the table's end"), 1);

	/* One stray byte at the end. */
	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, MADT_ENABLED);
	tb_u8(&t, MADT_LOCAL_APIC);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.ncpus, 1);
	CHECK_EQ_INT(logged("a partial entry at the end"), 1);

	/* An override entry 9 bytes long (one short): skipped. */
	madt_start(&t, 0xfee00000, 0);
	tb_u8(&t, MADT_INT_SRC_OVERRIDE), tb_u8(&t, 9), tb_u8(&t, 0);
	tb_u8(&t, 0), tb_u32(&t, 2), tb_u8(&t, 0);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.noverrides, 0);
	CHECK_EQ_INT(logged("too short"), 1);
}

TEST(acpi_madt_limits)
{
	struct tb t;

	madt_start(&t, 0xfee00000, 0);
	for (unsigned i = 0; i < ACPI_MAX_CPUS + 3; i++)
		madt_x2apic(&t, 1000 + i, MADT_ENABLED, i);
	for (unsigned i = 0; i < ACPI_MAX_OVERRIDES + 2; i++)
		madt_iso(&t, (uint8_t)i, i, 0);
	tb_end(&t);
	parse_madt_copy(&t);
	CHECK_EQ_INT(S.plat.ncpus, ACPI_MAX_CPUS);
	CHECK_EQ_INT(S.cpus_dropped, 3);
	CHECK_EQ_INT(S.plat.noverrides, ACPI_MAX_OVERRIDES);
	CHECK_EQ_INT(logged("5 entries beyond"), 1);
}

/* ---- FADT, MCFG, HPET ------------------------------------------------- */

TEST(acpi_fadt_qemu)
{
	uint64_t dsdt, facs;
	char props[160];

	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	CHECK_EQ_INT(acpi_sum(qemu_fadt, sizeof(qemu_fadt)), 0);
	acpi_fadt_parse(&S, qemu_fadt, sizeof(qemu_fadt));
	CHECK_EQ_INT(S.plat.have_fadt, 1);
	CHECK_EQ_INT(S.plat.fadt_revision, 3);
	CHECK_EQ_INT(S.plat.sci_int, 9);
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0x608);
	CHECK_EQ_INT(S.plat.pm_tmr_32bit, 0);	/* QEMU's counts 24 bits */
	CHECK_EQ_INT(S.plat.century, 0x32);
	CHECK_EQ_INT(S.plat.iapc_boot_arch, ACPI_BOOT_8042);
	CHECK(S.plat.fadt_flags & FADT_RESET_REG_SUP);
	CHECK_EQ_INT(S.plat.reset_reg.space, 1);
	CHECK_EQ_INT(S.plat.reset_reg.address, 0xcf9);
	CHECK_EQ_INT(S.plat.reset_reg.bit_width, 8);
	CHECK_EQ_INT(S.plat.reset_value, 0xf);
	acpi_fadt_links(qemu_fadt, sizeof(qemu_fadt), &dsdt, &facs);
	CHECK_EQ_INT(dsdt, 0x1f779000);		/* X_DSDT */
	CHECK_EQ_INT(facs, 0x1f7dc000);		/* FIRMWARE_CTRL */
	CHECK_STR(logbuf, "");
	/* The reset register on acpi:tables, for the hub's reboot: in
	 * I/O, in PCI configuration space, and not without RESET_REG_SUP. */
	acpi_tables_props(&S, props, sizeof(props));
	CHECK_CONTAINS(props, " reset=io:0xcf9:0x0f");
	S.plat.reset_reg.space = 2;
	S.plat.reset_reg.address = 0x1f0003004dull;
	acpi_tables_props(&S, props, sizeof(props));
	CHECK_CONTAINS(props, " reset=pci:0x1f0003004d:0x0f");
	S.plat.fadt_flags &= ~FADT_RESET_REG_SUP;
	acpi_tables_props(&S, props, sizeof(props));
	CHECK(!strstr(props, "reset="));
}

TEST(acpi_fadt_revisions_and_timers)
{
	struct fadt f;
	uint8_t *c;
	uint64_t dsdt, facs;

	/* Revision 1, 116 bytes: IAPC_BOOT_ARCH is reserved there. */
	memset(&f, 0, sizeof(f));
	f.header.revision = 1;
	f.iapc_boot_arch = 0x3;
	f.pm_tmr_blk = 0x408;
	f.pm_tmr_len = 4;
	f.reset_reg.address = 0xcf9;	/* past 116 bytes: never read */
	f.reset_value = 6;
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	c = malloc(FADT_V1_LEN);
	memcpy(c, &f, FADT_V1_LEN);
	acpi_fadt_parse(&S, c, FADT_V1_LEN);
	CHECK_EQ_INT(S.plat.iapc_boot_arch, 0);
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0x408);
	CHECK_EQ_INT(S.plat.pm_tmr_32bit, 0);
	CHECK_EQ_INT(S.plat.reset_reg.address, 0);
	CHECK_EQ_INT(S.plat.reset_value, 0);
	free(c);

	/* Revision 3 cut at 129 bytes: the reset register, no X_ fields. */
	f.header.revision = 3;
	f.dsdt = 0x1000;
	f.x_dsdt = 0x2000;
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	c = malloc(129);
	memcpy(c, &f, 129);
	acpi_fadt_parse(&S, c, 129);
	CHECK_EQ_INT(S.plat.iapc_boot_arch, 0x3);
	CHECK_EQ_INT(S.plat.reset_reg.address, 0xcf9);
	CHECK_EQ_INT(S.plat.reset_value, 6);
	acpi_fadt_links(c, 129, &dsdt, &facs);
	CHECK_EQ_INT(dsdt, 0x1000);
	free(c);

	/* PM_TMR_LEN other than 4: no timer.  X_PM_TMR_BLK in memory: no
	 * timer, logged.  X_PM_TMR_BLK in I/O space wins over PM_TMR_BLK. */
	f.pm_tmr_len = 0;
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	acpi_fadt_parse(&S, (const uint8_t *)&f, FADT_V1_LEN);
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0);
	f.pm_tmr_len = 4;
	f.x_pm_tmr_blk = (struct gas){ .address_space_id = GAS_MEMORY,
	    .register_bit_width = 32, .address = 0xfed80000 };
	logbuf[0] = '\0';
	acpi_fadt_parse(&S, (const uint8_t *)&f, sizeof(f));
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0);
	CHECK_EQ_INT(logged("not an I/O port"), 1);
	f.x_pm_tmr_blk.address_space_id = GAS_IO;
	f.x_pm_tmr_blk.address = 0x1808;
	acpi_fadt_parse(&S, (const uint8_t *)&f, sizeof(f));
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0x1808);
	acpi_fadt_links((const uint8_t *)&f, sizeof(f), &dsdt, &facs);
	CHECK_EQ_INT(dsdt, 0x2000);
	/* Hardware-reduced ACPI has no PM timer. */
	f.flags = FADT_HW_REDUCED_ACPI;
	acpi_fadt_parse(&S, (const uint8_t *)&f, sizeof(f));
	CHECK_EQ_INT(S.plat.pm_tmr_port, 0);
}

TEST(acpi_mcfg_windows)
{
	struct tb t;
	char props[128];
	uint8_t *c;

	tb_start(&t, "MCFG", 1);
	tb_u64(&t, 0);
	tb_u64(&t, 0xb0000000), tb_u16(&t, 0), tb_u8(&t, 0), tb_u8(&t, 255);
	tb_u32(&t, 0);
	/* Backwards bus range: invalid. */
	tb_u64(&t, 0xc0000000), tb_u16(&t, 1), tb_u8(&t, 9), tb_u8(&t, 8);
	tb_u32(&t, 0);
	/* Starts at bus 0x10: the base stays bus 0's. */
	tb_u64(&t, 0xd0000000), tb_u16(&t, 2), tb_u8(&t, 0x10);
	tb_u8(&t, 0x1f), tb_u32(&t, 0);
	tb_u32(&t, 0xdead);			/* a partial entry */
	tb_end(&t);
	c = malloc(t.len);
	memcpy(c, t.b, t.len);
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	acpi_mcfg_parse(&S, c, t.len);
	free(c);
	REQUIRE(S.plat.necam == 2);
	acpi_ecam_props(&S.plat.ecam[0], props, sizeof(props));
	CHECK_STR(props, "seg=0 bus=0-255 base=0xb0000000");
	CHECK_EQ_INT(S.plat.ecam[1].base, 0xd0000000);
	CHECK_EQ_INT(S.plat.ecam[1].bus_start, 0x10);
	CHECK_EQ_INT(S.plat.ecam[1].segment, 2);
	CHECK_EQ_INT(logged("window 1"), 1);
	CHECK_EQ_INT(logged("partial entry"), 1);
}

TEST(acpi_hpet_table)
{
	struct hpet_table h;
	char props[128];

	memset(&h, 0, sizeof(h));
	h.base_address.address = 0xfed00000;
	h.main_counter_minimum_clock_tick = 128;
	h.hpet_number = 1;
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	logbuf[0] = '\0';
	acpi_hpet_parse(&S, (const uint8_t *)&h, sizeof(h));
	CHECK_EQ_INT(S.plat.hpet_phys, 0xfed00000);
	acpi_hpet_props(&S.plat, props, sizeof(props));
	CHECK_STR(props, "base=0xfed00000 min-tick=128 number=1");
	/* In I/O space: no HPET. */
	memset(&S, 0, sizeof(S));
	S.io = &test_io;
	h.base_address.address_space_id = GAS_IO;
	acpi_hpet_parse(&S, (const uint8_t *)&h, sizeof(h));
	CHECK_EQ_INT(S.plat.hpet_phys, 0);
	CHECK_EQ_INT(logged("no HPET"), 1);
	/* Too short to hold the base: not read. */
	acpi_hpet_parse(&S, (const uint8_t *)&h, 50);
	CHECK_EQ_INT(S.plat.hpet_phys, 0);
}

/* The DMAR's fixed part (VT-d 4.1 §8.1): its flags, through a scan, and
 * on acpi:tables. */
TEST(acpi_dmar_flags)
{
	uint64_t x[] = { 0x3000 };
	struct tb t;
	char props[128];

	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 1);
	tb_start(&t, "DMAR", 1);
	tb_u8(&t, 38);				/* 39-bit host addresses */
	tb_u8(&t, ACPI_DMAR_INTR_REMAP | ACPI_DMAR_X2APIC_OPT_OUT);
	tb_u64(&t, 0), tb_u16(&t, 0);		/* reserved */
	tb_u16(&t, 0), tb_u16(&t, 16);		/* a DRHD, not read */
	tb_u64(&t, 0), tb_u64(&t, 0xfed90000);
	put_table(0x3000, &t);
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_EQ_INT(S.plat.have_dmar, 1);
	CHECK_EQ_INT(S.plat.dmar_flags, 3);
	acpi_tables_props(&S, props, sizeof(props));
	CHECK_STR(props, "tables=2 bad=0 rev=2 oem=PBOEM dmar-flags=0x3");

	/* Too short for its flags: listed as truncated, nothing read. */
	mem_reset();
	put_rsdp(0xe0000, 2, 0, 0x2000);
	put_root(0x2000, "XSDT", 8, x, 1);
	tb_start(&t, "DMAR", 1);
	tb_u8(&t, 38), tb_u8(&t, ACPI_DMAR_X2APIC_OPT_OUT);
	put_table(0x3000, &t);
	REQUIRE(scan_at(0xe0000) == PB_OK);
	CHECK_STR(listed(0x3000)->info.problem, "truncated");
	CHECK_EQ_INT(S.plat.have_dmar, 0);
	CHECK_EQ_INT(S.plat.dmar_flags, 0);
	acpi_tables_props(&S, props, sizeof(props));
	CHECK_STR(props, "tables=2 bad=1 rev=2 oem=PBOEM");
	mem_reset();
}

TEST(acpi_polarity_and_trigger_names)
{
	static const char *pol[] = { "conform", "high", "reserved", "low" };
	static const char *trig[] = { "conform", "edge", "reserved", "level" };

	for (unsigned i = 0; i < 4; i++) {
		CHECK_STR(acpi_pol_name((uint16_t)i), pol[i]);
		CHECK_STR(acpi_trig_name((uint16_t)(i << 2)), trig[i]);
	}
}

/* ---- the module against a fake hub ----------------------------------- */

#define MAX_PUB 32

static struct {
	char name[MAX_PUB][48], props[MAX_PUB][128];
	const void *ops[MAX_PUB];
	unsigned n;
	int allocs;			/* hub->alloc minus hub->free */
	int mmio;			/* map_mmio minus unmap_mmio */
	char log[4096];
} hubrec;

static void
hub_fake_log(struct pb_module *m, int level, const char *msg)
{
	(void)m, (void)level;
	strncat(hubrec.log, msg, sizeof(hubrec.log) - strlen(hubrec.log) - 2);
	strcat(hubrec.log, "\n");
}

static void *
hub_fake_map(struct pb_module *m, uint64_t phys, size_t len, int cache)
{
	void *va;

	(void)m;
	if (cache != PB_CACHE_WB)	/* tables are RAM: write-back */
		return NULL;
	va = (void *)(uintptr_t)fake_map(NULL, phys, (uint32_t)len);
	hubrec.mmio += va != NULL;
	return va;
}

static void
hub_fake_unmap(struct pb_module *m, void *va)
{
	fake_unmap(m, va, 0);
	hubrec.mmio--;
}

static void *
hub_fake_alloc(struct pb_module *m, size_t bytes)
{
	(void)m;
	hubrec.allocs++;
	return calloc(1, bytes);
}

static void
hub_fake_free(struct pb_module *m, void *p)
{
	(void)m;
	hubrec.allocs--;
	free(p);
}

static struct pb_resource *
hub_fake_publish(struct pb_module *m, const char *iface, const char *name,
    const char *props, const void *ops_, void *ctx)
{
	(void)m, (void)ctx;
	if (hubrec.n == MAX_PUB)
		return NULL;
	snprintf(hubrec.name[hubrec.n], 48, "%s:%s", iface, name);
	snprintf(hubrec.props[hubrec.n], 128, "%s", props);
	hubrec.ops[hubrec.n] = ops_;
	return (struct pb_resource *)&hubrec.name[hubrec.n++];
}

static const struct pb_hub fake_hub = {
	.log = hub_fake_log, .map_mmio = hub_fake_map,
	.unmap_mmio = hub_fake_unmap, .alloc = hub_fake_alloc,
	.free = hub_fake_free, .publish = hub_fake_publish,
};

/* The props of published resource `name`, or NULL. */
static const char *
pub_props(const char *name)
{
	for (unsigned i = 0; i < hubrec.n; i++)
		if (strcmp(hubrec.name[i], name) == 0)
			return hubrec.props[i];
	return NULL;
}

/* QEMU's tables as the firmware phase sees them. */
static void
put_qemu_machine(void)
{
	uint64_t x[] = { 0x1f778000, 0x1f777000, 0x1f776000, 0x1f775000 };
	struct hpet_table h;
	struct facs facs = { .signature = "FACS", .length = 64 };
	struct tb t;

	put_rsdp(0x1f77d014, 2, 0, 0x1f77c0e8);
	put_root(0x1f77c0e8, "XSDT", 8, x, 4);
	mem_put(0x1f778000, qemu_fadt, sizeof(qemu_fadt));
	mem_put(0x1f777000, qemu_madt, sizeof(qemu_madt));
	tb_start(&t, "HPET", 1);
	memset(&h, 0, sizeof(h));
	h.base_address.address = 0xfed00000;
	tb_put(&t, (const uint8_t *)&h + 36, sizeof(h) - 36);
	put_table(0x1f776000, &t);
	tb_start(&t, "MCFG", 1);
	tb_u64(&t, 0);
	tb_u64(&t, 0xb0000000), tb_u16(&t, 0), tb_u8(&t, 0), tb_u8(&t, 255);
	tb_u32(&t, 0);
	put_table(0x1f775000, &t);
	tb_start(&t, "DSDT", 1);
	for (unsigned i = 0; i < 20000; i += 4)	/* a DSDT of 20 KB */
		tb_u32(&t, i);
	put_table(0x1f779000, &t);
	mem_put(0x1f7dc000, &facs, sizeof(facs));
}

TEST(acpi_module_starts_and_publishes)
{
	struct acpi_rsdp r = { .phys = 0x1f77d014, .revision = 2 };
	struct pb_conn conn = { .ops = &r, .res = "rsdp:uefi" };
	struct pb_module *me = (struct pb_module *)&conn;	/* opaque */
	struct acpi_table_info ti;
	const struct acpi_platform *p;
	const void *data;
	uint32_t len;

	mem_reset();
	memset(&hubrec, 0, sizeof(hubrec));
	put_qemu_machine();
	acpi_event(me, PB_EV_CONNECTED, &conn, 0);
	REQUIRE(acpi_start(me, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(hubrec.mmio, 0);		/* every mapping given back */
	/* QEMU's FADT names its reset register (the hub's reboot reads it) */
	CHECK_STR(pub_props("acpi:tables"), "tables=7 bad=0 rev=2 oem=PBOEM "
	    "reset=io:0xcf9:0x0f");
	CHECK_STR(pub_props("cpu:0"), "apic=0 uid=0 enabled=1");
	CHECK(pub_props("cpu:1") == NULL);
	CHECK_STR(pub_props("irq-override:0"),
	    "isa=0 gsi=2 flags=0x0 pol=conform trig=conform");
	CHECK_STR(pub_props("irq-override:4"),
	    "isa=11 gsi=11 flags=0xd pol=high trig=level");
	CHECK_STR(pub_props("nmi:0"),
	    "uid=all lint=1 flags=0x0 pol=conform trig=conform");
	CHECK_STR(pub_props("ecam:0"), "seg=0 bus=0-255 base=0xb0000000");
	CHECK_STR(pub_props("hpet:0"), "base=0xfed00000 min-tick=0 number=0");
	CHECK_CONTAINS(hubrec.log, "7 tables, 1 cpu, 1 ioapic, 5 overrides, "
	    "1 nmi, 1 ecam, hpet yes, pm timer yes");
	/* The operations, through the published ops pointer. */
	REQUIRE(hubrec.ops[0] == &acpi_ops);
	p = acpi_ops.platform(&set);
	CHECK_EQ_INT(p->ncpus, 1);
	CHECK_EQ_INT(p->pm_tmr_port, 0x608);
	CHECK_EQ_INT(acpi_ops.table(&set, 6, &ti), PB_OK);
	CHECK_STR(ti.sig, "FACS");
	CHECK_EQ_INT(acpi_ops.table(&set, 7, &ti), PB_ENOENT);
	CHECK_EQ_INT(acpi_ops.find(&set, "DSDT", 0, &data, &len), PB_OK);
	CHECK_EQ_INT(len, 36 + 20000);
	CHECK_EQ_INT(((const uint32_t *)data)[9 + 100], 400);
	CHECK(hubrec.ops[1] == &p->cpus[0]);
	/* Copies share a chunk; the DSDT, too big for one, has its own. */
	CHECK_EQ_INT(hubrec.allocs, 2);
	acpi_stop(me);
	CHECK_EQ_INT(hubrec.allocs, 0);
	acpi_event(me, PB_EV_DISCONNECTED, &conn, 0);
	mem_reset();
}

TEST(acpi_module_declines_without_tables)
{
	struct acpi_rsdp r = { .phys = 0x1f77d014, .revision = 2 };
	struct pb_conn conn = { .ops = &r, .res = "rsdp:uefi" };
	struct pb_module *me = (struct pb_module *)&conn;

	mem_reset();
	memset(&hubrec, 0, sizeof(hubrec));
	put_qemu_machine();
	mem_at(0x1f77d014)[0] = 'r';		/* not an RSDP any more */
	acpi_event(me, PB_EV_CONNECTED, &conn, 0);
	CHECK_EQ_INT(acpi_start(me, &fake_hub, PB_START_NORMAL), PB_ENODEV);
	CHECK_EQ_INT(hubrec.n, 0);
	CHECK_EQ_INT(hubrec.allocs, 0);
	CHECK_EQ_INT(hubrec.mmio, 0);
	CHECK_CONTAINS(hubrec.log, "bad signature");
	CHECK_CONTAINS(hubrec.log, "no usable ACPI tables");
	acpi_event(me, PB_EV_DISCONNECTED, &conn, 0);
	mem_reset();
}
