/*
 * cmd.c - commands into slots: the command header (§4.2.2), the command
 * FIS (a register H2D FIS, SATA 3.x §10.5.5), the ATAPI command and the
 * PRDT (§4.2.3) in the slot's command table, then PxSACT/PxCI (§5.3.2).
 *
 * The PRDT maps the request's segments by their bus addresses: the
 * client's `bus` when it gave one (the whole segment is contiguous on the
 * bus), else hub->dma_addr on `va`, run by run.  Each entry takes at most
 * 4 MiB, an even count, from a word-aligned address (§4.2.3.3); a
 * segment the HBA cannot reach (above 4 GiB without CAP.S64A) or that
 * needs more than AHCI_PRDS entries is refused.
 */
#include "ahci.h"

static struct ahci_cmd_table *
table_of(const struct ahci_port *p, unsigned slot)
{
	return (struct ahci_cmd_table *)(void *)(p->tables +
	    (size_t)slot * AHCI_TABLE_SIZE);
}

static struct ahci_cmd_hdr *
hdr_of(const struct ahci_port *p, unsigned slot)
{
	return (struct ahci_cmd_hdr *)(void *)(p->mem + MEM_CL) + slot;
}

/* Append [bus, bus+len) as PRD entries (out NULL: count only). */
static int
prd_add(const struct ahci *a, struct ahci_prd *out, unsigned *n,
    uint64_t bus, uint64_t len)
{
	if ((bus | len) & (AHCI_ALIGN - 1) || !len ||
	    bus + len - 1 > a->dma_limit || bus + len < bus)
		return PB_EINVAL;
	while (len) {
		uint32_t piece = len > PRD_MAX_BYTES ? PRD_MAX_BYTES :
		    (uint32_t)len;

		if (*n == AHCI_PRDS)
			return PB_EINVAL;
		if (out)
			out[*n] = (struct ahci_prd){ .dba = (uint32_t)bus,
			    .dbau = (uint32_t)(bus >> 32), .dbc = piece - 1 };
		(*n)++;
		bus += piece;
		len -= piece;
	}
	return PB_OK;
}

/* The request's segments as PRD entries (out NULL: count only). */
static int
prd_walk(struct ahci *a, const struct block_req *r, struct ahci_prd *out,
    unsigned *n)
{
	*n = 0;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];
		size_t off = 0;
		int err;

		if (s->bus) {
			if ((err = prd_add(a, out, n, s->bus, s->len)) != PB_OK)
				return err;
			continue;
		}
		while (off < s->len) {
			uint64_t bus = 0;
			size_t run = 0;

			if (a->hub->dma_addr(a->self, (const uint8_t *)s->va +
			    off, s->len - off, &bus, &run) != PB_OK || !run ||
			    run > s->len - off)
				return PB_EINVAL;
			if ((err = prd_add(a, out, n, bus, run)) != PB_OK)
				return err;
			off += run;
		}
	}
	return PB_OK;
}

int
cmd_prd_count(struct ahci *a, const struct block_req *r, unsigned *n)
{
	return prd_walk(a, r, NULL, n);
}

static void
fis_lba(struct fis_h2d *f, uint64_t lba)
{
	f->lba0 = (uint8_t)lba;
	f->lba1 = (uint8_t)(lba >> 8);
	f->lba2 = (uint8_t)(lba >> 16);
	f->lba3 = (uint8_t)(lba >> 24);
	f->lba4 = (uint8_t)(lba >> 32);
	f->lba5 = (uint8_t)(lba >> 40);
}

static void
put_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* The FIS (and ATAPI command) of a request; its header flags. */
static uint16_t
fis_for(const struct ahci_port *p, unsigned slot, const struct block_req *r,
    struct fis_h2d *f, uint8_t *acmd)
{
	int write = r->op == BLOCK_WRITE;

	f->device = FIS_DEV_LBA;
	if (p->disk.kind == DISK_ATAPI) {
		/* MMC-6 READ(10) through PACKET, data by DMA. */
		f->command = ATA_PACKET;
		f->feature_lo = ATA_PACKET_DMA;
		acmd[0] = SCSI_READ10;
		put_be32(acmd + 2, (uint32_t)r->lba);
		acmd[7] = (uint8_t)(r->count >> 8);
		acmd[8] = (uint8_t)r->count;
		return HDR_CFL_H2D | HDR_ATAPI;
	}
	if (r->op == BLOCK_FLUSH) {
		f->command = ATA_FLUSH_CACHE_EXT;
		return HDR_CFL_H2D;
	}
	fis_lba(f, r->lba);
	if (p->disk.ncq_depth) {
		/* SATA 3.x §13.6.4: the count in FEATURE, the tag in
		 * COUNT 7:3, FUA in DEVICE 7. */
		f->command = write ? ATA_WRITE_FPDMA : ATA_READ_FPDMA;
		f->feature_lo = (uint8_t)r->count;
		f->feature_hi = (uint8_t)(r->count >> 8);
		f->count_lo = (uint8_t)(slot << 3);
		if (r->flags & BLOCK_REQ_FUA)
			f->device |= FIS_DEV_FUA;
	} else {
		f->command = write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT;
		f->count_lo = (uint8_t)r->count;
		f->count_hi = (uint8_t)(r->count >> 8);
	}
	return (uint16_t)(HDR_CFL_H2D | (write ? HDR_WRITE : 0));
}

static void
hdr_fill(struct ahci_port *p, unsigned slot, uint16_t flags, unsigned nprd)
{
	struct ahci_cmd_hdr *h = hdr_of(p, slot);
	uint64_t bus = p->tables_bus + (uint64_t)slot * AHCI_TABLE_SIZE;

	h->flags = flags;
	h->prdtl = (uint16_t)nprd;
	h->prdbc = 0;
	h->ctba = (uint32_t)bus;
	h->ctbau = (uint32_t)(bus >> 32);
}

/* A block request into `slot`; PB_EINVAL when its buffer cannot be
 * mapped (checked at submit, so only a buffer that changed). */
int
cmd_build_io(struct ahci_port *p, unsigned slot, struct block_req *r)
{
	struct ahci_cmd_table *t = table_of(p, slot);
	struct fis_h2d f = { .type = FIS_H2D, .flags = FIS_H2D_C };
	unsigned n = 0;
	uint16_t flags;
	int err;

	memset(t, 0, sizeof(*t));
	flags = fis_for(p, slot, r, &f, t->acmd);
	if (r->op != BLOCK_FLUSH &&
	    (err = prd_walk(p->a, r, t->prdt, &n)) != PB_OK)
		return err;
	memcpy(t->cfis, &f, sizeof(f));
	hdr_fill(p, slot, flags, n);
	return PB_OK;
}

/* A probe's command: data in (len bytes, at most 512) to the port's
 * IDENTIFY buffer; with a CDB it goes through PACKET. */
void
cmd_build_internal(struct ahci_port *p, unsigned slot, uint8_t command,
    const uint8_t *cdb, uint32_t len)
{
	struct ahci_cmd_table *t = table_of(p, slot);
	struct fis_h2d f = { .type = FIS_H2D, .flags = FIS_H2D_C,
	    .command = command };
	uint16_t flags = HDR_CFL_H2D;

	memset(t, 0, sizeof(*t));
	memset(p->mem + MEM_IBUF, 0, 512);
	if (cdb) {
		memcpy(t->acmd, cdb, ATAPI_CDB_LEN);
		f.feature_lo = ATA_PACKET_DMA;
		flags |= HDR_ATAPI;
	}
	memcpy(t->cfis, &f, sizeof(f));
	t->prdt[0] = (struct ahci_prd){ .dba = (uint32_t)(p->mem_bus +
	    MEM_IBUF), .dbau = (uint32_t)((p->mem_bus + MEM_IBUF) >> 32),
	    .dbc = len - 1 };
	hdr_fill(p, slot, flags, 1);
}

/* Hand the slot to the HBA: PxSACT first for FPDMA (§5.3.2.1). */
void
cmd_issue(struct ahci_port *p, unsigned slot, int ncq)
{
	uint32_t bit = 1u << slot;

	mmio_wmb();		/* the command in memory before the doorbell */
	p->issued |= bit;
	if (ncq) {
		p->ncq |= bit;
		px_wr(p, PX_SACT, bit);
	}
	px_wr(p, PX_CI, bit);
}
