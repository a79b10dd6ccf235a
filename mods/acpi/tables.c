/*
 * tables.c - every table the firmware lists: read, verified, copied.
 *
 * The walk (ACPI 6.5 §5.2.5-§5.2.8): RSDP -> XSDT (64-bit entries) or
 * RSDT (32-bit) -> each table; the FADT adds the DSDT and the FACS
 * (§5.2.9), which no root table lists.  A table is verified before its
 * bytes are trusted (§5.2.6): a length of at least the header and at
 * most ACPI_MAX_TABLE_LEN, at least the fixed part its signature needs,
 * and a checksum summing to 0.  One that fails is listed with its
 * problem, logged once, and never parsed; the rest of the walk goes on.
 * Except the checksum alone: firmware ships tables whose sum is off by a
 * byte it patched late, and dropping its MADT or FADT would lose the
 * interrupt routing, so a table with a sane signature and length but a
 * bad checksum is used all the same, as Linux (ACPICA) does, and listed
 * as not valid with the problem CHECKSUM_USED, warned about once.  Not
 * the XSDT or RSDT, though (checksum_forgiven).
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

const char CHECKSUM_USED[] = "bad checksum, used";

uint8_t
acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

void
acpi_logf(const struct acpi_set *s, int level, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->io->log(s->io->arg, level, line);
}

/* The fixed part a table of this signature cannot do without. */
static uint32_t
min_length(const char *sig)
{
	static const struct {
		char sig[5];
		uint32_t len;
	} mins[] = {
		{ "APIC", sizeof(struct madt) },
		{ "FACP", FADT_V1_LEN },
		{ "HPET", sizeof(struct hpet_table) },
		{ "MCFG", sizeof(struct mcfg) },
		{ "FACS", sizeof(struct facs) },
		{ "DMAR", sizeof(struct dmar) },
	};

	for (unsigned i = 0; i < sizeof(mins) / sizeof(mins[0]); i++)
		if (memcmp(sig, mins[i].sig, 4) == 0)
			return mins[i].len;
	return sizeof(struct sdt_header);
}

void
acpi_text(char *out, const char *in, size_t n, int trim)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[n] = '\0';
	while (trim && n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

/* The header at phys into t->info.  NULL, or the problem. */
static const char *
read_header(struct acpi_set *s, struct acpi_table *t)
{
	const struct acpi_io *io = s->io;
	struct sdt_header h;
	const void *p = io->map(io->arg, t->info.phys, sizeof(h));

	if (!p)
		return "cannot map";
	memcpy(&h, p, sizeof(h));
	io->unmap(io->arg, p, sizeof(h));
	acpi_text(t->info.sig, h.signature, 4, 0);
	t->info.length = h.length;
	if (memcmp(h.signature, "FACS", 4) == 0) {
		/* No SDT header: the version byte is at offset 32. */
		t->info.revision = 0;
		return NULL;
	}
	t->info.revision = h.revision;
	acpi_text(t->info.oem_id, h.oem_id, 6, 1);
	acpi_text(t->info.oem_table, h.oem_table_id, 8, 1);
	return NULL;
}

/* May a table with this signature be used despite a bad checksum?  Four
 * of A-Z, 0-9 and `_`, as every signature ACPI defines, is what a table's
 * first bytes hold when they are a table at all.  Not a root table: its
 * checksum stays binding (ACPICA checks it strictly too), as a broken
 * XSDT leaves the RSDT, which lists the same tables. */
static int
checksum_forgiven(const char *sig)
{
	if (!strcmp(sig, "XSDT") || !strcmp(sig, "RSDT"))
		return 0;
	for (unsigned i = 0; i < 4; i++)
		if (!((sig[i] >= 'A' && sig[i] <= 'Z') ||
		    (sig[i] >= '0' && sig[i] <= '9') || sig[i] == '_'))
			return 0;
	return 1;
}

/* Map, check and copy the whole table.  NULL, or the problem; with
 * CHECKSUM_USED the copy is made too. */
static const char *
read_body(struct acpi_set *s, struct acpi_table *t)
{
	const struct acpi_io *io = s->io;
	uint32_t len = t->info.length;
	int facs = strcmp(t->info.sig, "FACS") == 0;
	int bad_sum;
	const uint8_t *p;
	uint8_t *copy;

	if (len < sizeof(struct sdt_header) || len < min_length(t->info.sig))
		return "truncated";
	if (len > ACPI_MAX_TABLE_LEN)
		return "too long";
	if (t->info.phys + len < t->info.phys)
		return "bad address";
	if (!(p = io->map(io->arg, t->info.phys, len)))
		return "cannot map";
	/* The FACS has no checksum (§5.2.10). */
	bad_sum = !facs && acpi_sum(p, len) != 0;
	if (bad_sum && !checksum_forgiven(t->info.sig)) {
		io->unmap(io->arg, p, len);
		return "bad checksum";
	}
	if (!(copy = io->alloc(io->arg, len))) {
		io->unmap(io->arg, p, len);
		return "out of memory";
	}
	memcpy(copy, p, len);
	io->unmap(io->arg, p, len);
	if (facs)
		t->info.revision = ((const struct facs *)copy)->version;
	t->data = copy;
	return bad_sum ? CHECKSUM_USED : NULL;
}

struct acpi_table *
acpi_table_read(struct acpi_set *s, uint64_t phys, const char *expect)
{
	struct acpi_table *t;
	const char *why;

	for (unsigned i = 0; i < s->ntables; i++)
		if (s->tables[i].info.phys == phys)
			return NULL;	/* listed twice: read once */
	if (s->ntables == ACPI_MAX_TABLES) {
		if (s->dropped++ == 0)
			acpi_logf(s, PB_LOG_WARN, "more than %u tables; the "
			    "rest are left out", ACPI_MAX_TABLES);
		return NULL;
	}
	t = &s->tables[s->ntables++];
	memset(t, 0, sizeof(*t));
	t->info.phys = phys;
	rt_strlcpy(t->info.sig, "????", sizeof(t->info.sig));
	why = read_header(s, t);
	if (!why && expect && strcmp(t->info.sig, expect) != 0)
		why = "wrong signature";
	if (!why)
		why = read_body(s, t);
	if (why == CHECKSUM_USED)
		acpi_logf(s, PB_LOG_WARN, "table %s at 0x%llx (%u bytes): bad "
		    "checksum; used all the same (its signature and length "
		    "are sane)", t->info.sig, (unsigned long long)phys,
		    t->info.length);
	else if (why)
		acpi_logf(s, PB_LOG_WARN, "table %s at 0x%llx (%u bytes): %s; "
		    "skipped", t->info.sig, (unsigned long long)phys,
		    t->info.length, why);
	t->info.problem = why;
	t->info.valid = !why;
	s->nbad += why != NULL;
	return t;
}

const struct acpi_table *
acpi_table_find(const struct acpi_set *s, const char *sig, unsigned instance)
{
	for (unsigned i = 0; i < s->ntables; i++) {
		const struct acpi_table *t = &s->tables[i];

		if (t->data && strncmp(t->info.sig, sig, 4) == 0 &&
		    instance-- == 0)
			return t;
	}
	return NULL;
}

/* The root table at phys with entries of esz bytes; NULL if unusable. */
static const struct acpi_table *
read_root(struct acpi_set *s, uint64_t phys, unsigned esz)
{
	const struct acpi_table *t;

	if (!phys)
		return NULL;
	t = acpi_table_read(s, phys, esz == 8 ? "XSDT" : "RSDT");
	return t && t->info.valid ? t : NULL;
}

/* Every table the root lists. */
static void
read_listed(struct acpi_set *s, const struct acpi_table *root, unsigned esz)
{
	uint32_t body = root->info.length - sizeof(struct sdt_header);
	const uint8_t *e = root->data + sizeof(struct sdt_header);

	if (body % esz)
		acpi_logf(s, PB_LOG_WARN, "%s: length %u leaves a partial "
		    "entry; ignored", root->info.sig, root->info.length);
	for (uint32_t i = 0; i < body / esz; i++) {
		uint64_t phys = 0;

		memcpy(&phys, e + i * esz, esz);	/* little-endian */
		if (!phys) {
			acpi_logf(s, PB_LOG_WARN, "%s: entry %u is null; "
			    "skipped", root->info.sig, i);
			continue;
		}
		acpi_table_read(s, phys, NULL);
	}
}

/* The DSDT and FACS the (first valid) FADT points to. */
static void
read_fadt_links(struct acpi_set *s)
{
	const struct acpi_table *f = acpi_table_find(s, "FACP", 0);
	uint64_t dsdt, facs;

	if (!f)
		return;
	acpi_fadt_links(f->data, f->info.length, &dsdt, &facs);
	if (dsdt)
		acpi_table_read(s, dsdt, "DSDT");
	if (facs)
		acpi_table_read(s, facs, "FACS");
}

/* The tables the platform description comes from: the first valid one
 * of each kind (firmware lists one). */
static void
parse_all(struct acpi_set *s)
{
	static const struct {
		char sig[5];
		void (*parse)(struct acpi_set *, const uint8_t *, uint32_t);
	} parsers[] = {
		{ "APIC", acpi_madt_parse },
		{ "MCFG", acpi_mcfg_parse },
		{ "HPET", acpi_hpet_parse },
		{ "FACP", acpi_fadt_parse },
		{ "DMAR", acpi_dmar_parse },
	};

	for (unsigned i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		const struct acpi_table *t = acpi_table_find(s, parsers[i].sig,
		    0);

		if (t)
			parsers[i].parse(s, t->data, t->info.length);
	}
}

int
acpi_scan(struct acpi_set *s, const struct acpi_io *io, uint64_t rsdp_phys)
{
	const struct acpi_table *root;
	uint64_t xsdt, rsdt;
	unsigned esz = 8;

	memset(s, 0, sizeof(*s));
	s->io = io;
	if (acpi_rsdp_read(s, rsdp_phys, &xsdt, &rsdt) != PB_OK)
		return PB_ENOENT;
	/* A broken XSDT leaves the RSDT, which lists the same tables. */
	if (!(root = read_root(s, xsdt, 8))) {
		esz = 4;
		if (xsdt && rsdt)
			acpi_logf(s, PB_LOG_WARN, "falling back to the RSDT");
		root = read_root(s, rsdt, 4);
	}
	if (!root) {
		acpi_logf(s, PB_LOG_ERR, "no usable root table");
		return PB_ENOENT;
	}
	read_listed(s, root, esz);
	read_fadt_links(s);
	parse_all(s);
	return PB_OK;
}
