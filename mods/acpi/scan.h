/*
 * scan.h - the acpi module's parser, apart from the hub.
 *
 *   rsdp.c    the RSDP: checksums, which root table to follow
 *   tables.c  reading, verifying and copying every table; the table list
 *   madt.c    MADT: CPUs, I/O APICs, overrides, NMIs, LAPIC address
 *   mcfg.c    MCFG: the ECAM windows
 *   hpet.c    HPET: the timer block
 *   dmar.c    DMAR: the flags (x2APIC opt-out, interrupt remapping)
 *   fadt.c    FADT: PM timer, boot architecture flags, reset register,
 *             and where the DSDT and FACS are
 *   props.c   the resources' property lines
 *   acpi.c    the module: descriptor, start/stop, the `acpi` operations,
 *             the hub's map_mmio behind struct acpi_io, publishing
 *
 * Everything but acpi.c reads firmware memory only through struct
 * acpi_io, so the host tests and the fuzzer run it on byte arrays.  A
 * table is mapped for as long as it takes to verify and copy it: the copy
 * is what the parsers and find() read.  (Mappings are by the page and not
 * counted, so unmapping one table could drop a page another kept mapping
 * shares; copies also spend none of the few early-mapping slots the hub
 * has before the takeover.)
 */
#ifndef PB_ACPI_SCAN_H
#define PB_ACPI_SCAN_H

#include "../../abi/pb.h"
#include "../../abi/acpi.h"

#define ACPI_MAX_TABLES 64
#define ACPI_MAX_TABLE_LEN (4u << 20)	/* longer is taken as garbage */
#define ACPI_MAX_RSDP_LEN 1024		/* 36 today; room to grow */

/* How the parser reaches firmware memory. */
struct acpi_io {
	/* Map [phys, phys + len) for reading; NULL when it cannot. */
	const void *(*map)(void *arg, uint64_t phys, uint32_t len);
	void (*unmap)(void *arg, const void *va, uint32_t len);
	/* len bytes for a table's copy (kept until the state goes). */
	void *(*alloc)(void *arg, uint32_t len);
	/* One log line (enum pb_level). */
	void (*log)(void *arg, int level, const char *msg);
	void *arg;
};

/* One table found: what `acpi` lists, and its verified copy. */
struct acpi_table {
	struct acpi_table_info info;
	const uint8_t *data;		/* the copy; NULL unless info.valid or
					 * info.problem is CHECKSUM_USED */
};

/* The problem of a table used despite its checksum (tables.c). */
extern const char CHECKSUM_USED[];

struct acpi_set {
	const struct acpi_io *io;
	uint8_t rsdp_revision;
	char rsdp_oem[7];
	unsigned ntables;
	unsigned dropped;		/* tables beyond ACPI_MAX_TABLES */
	unsigned nbad;			/* tables that failed a check */
	struct acpi_table tables[ACPI_MAX_TABLES];
	struct acpi_platform plat;
	/* MADT entries beyond the platform's arrays, for the summary. */
	unsigned cpus_dropped;
};

/* rsdp.c: check the RSDP at phys; the root tables it offers (0 for one
 * it does not; xsdt only from a checked revision >= 2 RSDP).  PB_EINVAL
 * (logged) when it is unusable. */
int acpi_rsdp_read(struct acpi_set *s, uint64_t phys, uint64_t *xsdt,
    uint64_t *rsdt);

/* tables.c */
/* Read everything from the RSDP at rsdp_phys: the root table, every
 * table it lists, the FADT's DSDT and FACS; then parse them into s->plat.
 * PB_ENOENT when there is no usable RSDP or root table. */
int acpi_scan(struct acpi_set *s, const struct acpi_io *io,
    uint64_t rsdp_phys);
/* Read the table at phys into the list (verified, copied).  The entry,
 * or NULL when the list is full or phys is already in it. */
struct acpi_table *acpi_table_read(struct acpi_set *s, uint64_t phys,
    const char *expect);
/* The instance'th usable table with signature sig: valid, or used
 * despite its checksum. */
const struct acpi_table *acpi_table_find(const struct acpi_set *s,
    const char *sig, unsigned instance);
/* Sum of len bytes, modulo 256: 0 for a good table. */
uint8_t acpi_sum(const void *p, size_t len);
/* n bytes of firmware text into out (n + 1 bytes): unprintable bytes as
 * '?'; with trim, trailing spaces (the padding of OEM ids) dropped. */
void acpi_text(char *out, const char *in, size_t n, int trim);
void acpi_logf(const struct acpi_set *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The parsers: t is a verified copy of len bytes (at least the header). */
void acpi_madt_parse(struct acpi_set *s, const uint8_t *t, uint32_t len);
void acpi_mcfg_parse(struct acpi_set *s, const uint8_t *t, uint32_t len);
void acpi_hpet_parse(struct acpi_set *s, const uint8_t *t, uint32_t len);
void acpi_fadt_parse(struct acpi_set *s, const uint8_t *t, uint32_t len);
void acpi_dmar_parse(struct acpi_set *s, const uint8_t *t, uint32_t len);
/* fadt.c: where the FADT says the DSDT and FACS are (0 when it does not). */
void acpi_fadt_links(const uint8_t *t, uint32_t len, uint64_t *dsdt,
    uint64_t *facs);

/* props.c: a resource's property line into buf. */
const char *acpi_pol_name(uint16_t flags);
const char *acpi_trig_name(uint16_t flags);
void acpi_cpu_props(const struct acpi_cpu *c, char *buf, size_t cap);
void acpi_override_props(const struct acpi_override *o, char *buf,
    size_t cap);
void acpi_nmi_props(const struct acpi_nmi *n, char *buf, size_t cap);
void acpi_ecam_props(const struct acpi_ecam *e, char *buf, size_t cap);
void acpi_hpet_props(const struct acpi_platform *p, char *buf, size_t cap);
void acpi_tables_props(const struct acpi_set *s, char *buf, size_t cap);
void acpi_summary(const struct acpi_set *s, char *buf, size_t cap);

#endif
