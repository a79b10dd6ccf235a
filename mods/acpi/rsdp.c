/*
 * rsdp.c - the Root System Description Pointer (ACPI 6.5 §5.2.5): its
 * checksums, and which root table to follow.
 *
 * The first 20 bytes (ACPI 1.0) carry their own checksum and the RSDT's
 * 32-bit address.  From revision 2 on, `length` bytes carry an extended
 * checksum that covers the XSDT's 64-bit address.  The XSDT wins when it
 * is there and checked (§5.2.5.3: an OS uses the XSDT when present); a
 * revision-2 RSDP whose extended part fails its checks still has a good
 * RSDT address, and that is used instead, with a log line.
 */
#include "../../abi/rt/rt.h"
#include "scan.h"
#include "spec.h"

/* The 20 ACPI 1.0 bytes: signature and checksum.  Copied into *r (the
 * rest zero).  PB_EINVAL when they are not an RSDP. */
static int
read_v1(struct acpi_set *s, uint64_t phys, struct rsdp *r)
{
	const struct acpi_io *io = s->io;
	const void *p = io->map(io->arg, phys, RSDP_V1_LEN);

	if (!p) {
		acpi_logf(s, PB_LOG_ERR, "RSDP at 0x%llx: cannot map it",
		    (unsigned long long)phys);
		return PB_EINVAL;
	}
	memset(r, 0, sizeof(*r));
	memcpy(r, p, RSDP_V1_LEN);
	if (memcmp(r->signature, "RSD PTR ", 8) != 0) {
		acpi_logf(s, PB_LOG_ERR, "RSDP at 0x%llx: bad signature",
		    (unsigned long long)phys);
		io->unmap(io->arg, p, RSDP_V1_LEN);
		return PB_EINVAL;
	}
	if (acpi_sum(p, RSDP_V1_LEN) != 0) {
		acpi_logf(s, PB_LOG_ERR, "RSDP at 0x%llx: bad checksum",
		    (unsigned long long)phys);
		io->unmap(io->arg, p, RSDP_V1_LEN);
		return PB_EINVAL;
	}
	io->unmap(io->arg, p, RSDP_V1_LEN);
	return PB_OK;
}

/* The extended part of a revision >= 2 RSDP: its length and checksum.
 * Fills r->length and r->xsdt_address when they check out; otherwise a
 * log line names the problem and r->xsdt_address stays 0. */
static void
read_v2(struct acpi_set *s, uint64_t phys, struct rsdp *r)
{
	const struct acpi_io *io = s->io;
	const void *p = io->map(io->arg, phys, sizeof(*r));
	const char *why = NULL;
	uint32_t len = 0;

	if (!p) {
		why = "cannot map its extended part";
	} else {
		memcpy(r, p, sizeof(*r));
		len = r->length;
		io->unmap(io->arg, p, sizeof(*r));
		if (len < sizeof(*r) || len > ACPI_MAX_RSDP_LEN)
			why = "bad length";
		else if (!(p = io->map(io->arg, phys, len)))
			why = "cannot map its extended part";
		else {
			if (acpi_sum(p, len) != 0)
				why = "bad extended checksum";
			io->unmap(io->arg, p, len);
		}
	}
	if (why) {
		acpi_logf(s, PB_LOG_WARN, "RSDP at 0x%llx (revision %u): %s; "
		    "the RSDT only", (unsigned long long)phys, r->revision,
		    why);
		r->xsdt_address = 0;
	}
}

int
acpi_rsdp_read(struct acpi_set *s, uint64_t phys, uint64_t *xsdt,
    uint64_t *rsdt)
{
	struct rsdp r;

	if (read_v1(s, phys, &r) != PB_OK)
		return PB_EINVAL;
	s->rsdp_revision = r.revision;
	acpi_text(s->rsdp_oem, r.oem_id, 6, 1);
	if (r.revision >= 2)
		read_v2(s, phys, &r);
	*xsdt = r.revision >= 2 ? r.xsdt_address : 0;
	*rsdt = r.rsdt_address;
	if (!*xsdt && !*rsdt) {
		acpi_logf(s, PB_LOG_ERR, "RSDP at 0x%llx: no root table",
		    (unsigned long long)phys);
		return PB_EINVAL;
	}
	return PB_OK;
}
