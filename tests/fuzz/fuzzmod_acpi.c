/*
 * fuzzmod_acpi.c - libFuzzer target for the acpi module's parser
 * (mods/acpi: rsdp.c, tables.c and the table parsers).
 *
 * The first byte picks what the rest is:
 *   mode & 4 == 0: physical memory from address 0, with the RSDP at 0;
 *       acpi_scan() walks it as the module walks the firmware's tables.
 *       With mode & 1, checksums are fixed first (RSDP, root table, the
 *       tables it lists, the FADT's DSDT), so the fuzzer gets past the
 *       verification into the parsers.
 *   mode & 4 != 0: one table, handed straight to the MADT, MCFG, HPET or
 *       FADT parser (mode & 3), as tables.c would after verifying it.
 * Memory and tables live in malloc'd buffers of their exact size, so ASan
 * reports any read past them.  Beyond the sanitizers it traps on broken
 * promises: maps not given back, a table marked valid whose checksum or
 * length is wrong, counts beyond the platform's arrays, an invalid table
 * without a problem, a table used despite its checksum whose length or
 * signature is not sane.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_acpi/ (QEMU q35's tables; made by
 * tests/fuzz/mkseeds-acpi, with QEMU's MADT and FADT from
 * tests/host/mod_acpi.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mods/acpi/rsdp.c"
#include "../../mods/acpi/tables.c"
#include "../../mods/acpi/madt.c"
#include "../../mods/acpi/mcfg.c"
#include "../../mods/acpi/hpet.c"
#include "../../mods/acpi/fadt.c"
#include "../../mods/acpi/dmar.c"
#include "../../mods/acpi/props.c"

#define MAX_COPIES (ACPI_MAX_TABLES + 4)

static uint8_t *mem;
static size_t memlen;
static int maps_live;
static void *copies[MAX_COPIES];
static unsigned ncopies;
static struct acpi_set S;

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static const void *
fz_map(void *arg, uint64_t phys, uint32_t len)
{
	(void)arg;
	if (phys > memlen || len > memlen - phys)
		return NULL;
	maps_live++;
	return mem + phys;
}

static void
fz_unmap(void *arg, const void *va, uint32_t len)
{
	(void)arg, (void)len;
	must(va >= (const void *)mem && va <= (const void *)(mem + memlen));
	maps_live--;
}

static void *
fz_alloc(void *arg, uint32_t len)
{
	(void)arg;
	if (ncopies == MAX_COPIES)
		return NULL;
	return copies[ncopies++] = malloc(len);
}

static void
fz_log(void *arg, int level, const char *msg)
{
	(void)arg;
	must(level >= PB_LOG_ERR && level <= PB_LOG_DEBUG && msg && *msg);
}

static const struct acpi_io fz_io = {
	.map = fz_map, .unmap = fz_unmap, .alloc = fz_alloc, .log = fz_log,
};

/* ---- checksum fixing (mode & 1) -------------------------------------- */

static uint32_t
get32(uint64_t at)
{
	uint32_t v = 0;

	if (at <= memlen && memlen - at >= 4)
		memcpy(&v, mem + at, 4);
	return v;
}

static uint64_t
get64(uint64_t at)
{
	uint64_t v = 0;

	if (at <= memlen && memlen - at >= 8)
		memcpy(&v, mem + at, 8);
	return v;
}

/* Make the table at `at` sum to 0 over the length it claims (or what is
 * there of it); its length, or 0 when there is no header. */
static uint32_t
fix_table(uint64_t at)
{
	uint32_t len;

	if (at > memlen || memlen - at < 36)
		return 0;
	len = get32(at + 4);
	if (len > memlen - at)
		len = (uint32_t)(memlen - at);
	if (len < 36)
		return 0;
	mem[at + 9] = 0;
	mem[at + 9] = (uint8_t)-acpi_sum(mem + at, len);
	return len;
}

static void
fix_checksums(void)
{
	uint32_t rlen, esz = 8;
	uint64_t root;

	if (memlen < RSDP_V1_LEN)
		return;
	mem[8] = 0;
	mem[8] = (uint8_t)-acpi_sum(mem, RSDP_V1_LEN);
	root = get64(24);
	if (mem[15] >= 2 && memlen >= 36) {
		rlen = get32(20);
		if (rlen >= 36 && rlen <= memlen) {
			mem[32] = 0;
			mem[32] = (uint8_t)-acpi_sum(mem, rlen);
		}
	}
	if (mem[15] < 2 || !root) {
		root = get32(16);
		esz = 4;
	}
	rlen = fix_table(root);
	for (uint32_t off = 36; rlen && off + esz <= rlen; off += esz) {
		uint64_t t = esz == 8 ? get64(root + off) : get32(root + off);
		uint32_t tlen = fix_table(t);

		if (tlen >= 44 && memcmp(mem + t, "FACP", 4) == 0) {
			fix_table(get32(t + 40));		/* DSDT */
			if (tlen >= 148)
				fix_table(get64(t + 140));	/* X_DSDT */
			fix_table(t);	/* again: the DSDT may overlap it */
		}
	}
}

/* ---- checks -------------------------------------------------------- */

static void
check_platform(const struct acpi_platform *p)
{
	char buf[160];

	must(p->ncpus <= ACPI_MAX_CPUS && p->nioapics <= ACPI_MAX_IOAPICS);
	must(p->noverrides <= ACPI_MAX_OVERRIDES && p->nnmis <= ACPI_MAX_NMIS);
	must(p->necam <= ACPI_MAX_ECAM);
	for (uint32_t i = 0; i < p->ncpus; i++)
		acpi_cpu_props(&p->cpus[i], buf, sizeof(buf));
	for (uint32_t i = 0; i < p->noverrides; i++)
		acpi_override_props(&p->overrides[i], buf, sizeof(buf));
	for (uint32_t i = 0; i < p->nnmis; i++)
		acpi_nmi_props(&p->nmis[i], buf, sizeof(buf));
	for (uint32_t i = 0; i < p->necam; i++) {
		must(p->ecam[i].bus_start <= p->ecam[i].bus_end);
		must(p->ecam[i].base != 0);
		acpi_ecam_props(&p->ecam[i], buf, sizeof(buf));
	}
	acpi_hpet_props(p, buf, sizeof(buf));
	must(!p->pm_tmr_port || p->pm_tmr_port <= 0xfffc);
	must(!p->iapc_boot_arch || p->fadt_revision >= 2);
}

static void
check_tables(void)
{
	char buf[160];

	must(S.ntables <= ACPI_MAX_TABLES);
	for (unsigned i = 0; i < S.ntables; i++) {
		const struct acpi_table *t = &S.tables[i];

		must(strlen(t->info.sig) == 4);
		must(strlen(t->info.oem_id) <= 6);
		must(strlen(t->info.oem_table) <= 8);
		if (!t->info.valid) {
			must(t->info.problem && *t->info.problem);
			must(!t->data == (t->info.problem != CHECKSUM_USED));
			if (!t->data)
				continue;
		} else
			must(!t->info.problem && t->data);
		must(t->info.length >= 36 &&
		    t->info.length <= ACPI_MAX_TABLE_LEN);
		must(strcmp(t->info.sig, "FACS") == 0 || (t->info.valid ?
		    acpi_sum(t->data, t->info.length) == 0 :
		    checksum_forgiven(t->info.sig)));
		must(acpi_table_find(&S, t->info.sig, 0) != NULL);
	}
	acpi_summary(&S, buf, sizeof(buf));
}

static void
run_scan(int fix)
{
	if (fix)
		fix_checksums();
	if (acpi_scan(&S, &fz_io, 0) == PB_OK)
		check_tables();
	must(maps_live == 0);
	check_platform(&S.plat);
}

static void
run_parser(unsigned which)
{
	static void (*const parse[])(struct acpi_set *, const uint8_t *,
	    uint32_t) = { acpi_madt_parse, acpi_mcfg_parse, acpi_hpet_parse,
	    acpi_fadt_parse };
	uint64_t dsdt, facs;

	memset(&S, 0, sizeof(S));
	S.io = &fz_io;
	if (memlen < sizeof(struct sdt_header))
		return;
	parse[which](&S, mem, (uint32_t)memlen);
	acpi_fadt_links(mem, (uint32_t)memlen, &dsdt, &facs);
	check_platform(&S.plat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	memlen = size - 1;
	mem = malloc(memlen ? memlen : 1);
	memcpy(mem, data + 1, memlen);
	maps_live = 0;
	ncopies = 0;
	if (mode & 4)
		run_parser(mode & 3);
	else
		run_scan(mode & 1);
	for (unsigned i = 0; i < ncopies; i++)
		free(copies[i]);
	free(mem);
	return 0;
}
