/*
 * identify.c - what a device says of itself, checked before it is
 * believed: IDENTIFY DEVICE (ACS-3 §7.12.7), IDENTIFY PACKET DEVICE
 * (§7.13) and an ATAPI device's READ CAPACITY(10) (SBC-3 §5.16), turned
 * into one `struct ahci_disk`, and the resource's property line
 * (abi/block.h).
 *
 * A device that lies is declined with the reason, never believed: a
 * capacity of 0 or beyond 48-bit LBA, a sector size that is no power of
 * two between 512 and 4096, a failed integrity word.  A claim the HBA
 * cannot honour (NCQ without CAP.SNCQ, a queue depth of one) is noted and
 * not used.
 */
#include "ahci.h"

/* ATA strings hold two characters per word, the first in the high byte
 * (ACS-3 §3.3.10).  Trimmed; characters a property value cannot hold
 * (space, '=', controls) become '_'. */
static void
ata_string(char *dst, size_t cap, const uint16_t *id, unsigned word,
    unsigned nchars)
{
	char raw[ID_MODEL_LEN + 1];
	unsigned a = 0, b, n = 0;

	for (unsigned i = 0; i < nchars / 2; i++) {
		raw[2 * i] = (char)(id[word + i] >> 8);
		raw[2 * i + 1] = (char)(id[word + i] & 0xff);
	}
	b = nchars;
	while (a < b && (raw[a] == ' ' || raw[a] == '\0'))
		a++;
	while (b > a && (raw[b - 1] == ' ' || raw[b - 1] == '\0'))
		b--;
	for (unsigned i = a; i < b && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)raw[i];

		dst[n++] = c > ' ' && c < 0x7f && c != '=' ? (char)c : '_';
	}
	dst[n] = '\0';
}

/* ACS-3 §7.12.7.91: when word 255 holds A5h, all 512 bytes sum to 0. */
static int
integrity_ok(const uint16_t *id)
{
	uint8_t sum = 0;

	if ((id[ID_INTEGRITY] & 0xff) != ID_INTEGRITY_SIG)
		return 1;
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	return sum == 0;
}

static int
refuse(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

/* A word of the command-set block is valid when bit 14 is 1, 15 is 0. */
static int
word_valid(uint16_t w)
{
	return (w & 0xc000) == 0x4000;
}

static uint32_t
logical_sector_size(const uint16_t *id)
{
	uint16_t w = id[ID_SECTOR_SIZE];

	if ((w & ID_SS_VALID_MASK) != ID_SS_VALID || !(w & ID_SS_LONG_LOGICAL))
		return 512;
	return 2 * ((uint32_t)id[ID_LOGICAL_SIZE] |
	    (uint32_t)id[ID_LOGICAL_SIZE + 1] << 16);
}

static int
block_size_ok(uint32_t bs)
{
	return bs >= 512 && bs <= 4096 && (bs & (bs - 1)) == 0;
}

static void
strings(const uint16_t *id, struct ahci_disk *d)
{
	ata_string(d->model, sizeof(d->model), id, ID_MODEL, ID_MODEL_LEN);
	ata_string(d->serial, sizeof(d->serial), id, ID_SERIAL,
	    ID_SERIAL_LEN);
}

static void
wwn(const uint16_t *id, struct ahci_disk *d)
{
	uint64_t v = 0;

	d->wwn[0] = '\0';
	if (!word_valid(id[ID_CMDSET3]) || !(id[ID_CMDSET3] & ID_CMDSET3_WWN))
		return;
	for (unsigned i = 0; i < 4; i++)
		v = v << 16 | id[ID_WWN + i];
	if (v)
		rt_snprintf(d->wwn, sizeof(d->wwn), "%016llx",
		    (unsigned long long)v);
}

/*
 * IDENTIFY DEVICE into d.  PB_OK with *why NULL, or with *why a note of a
 * claim not used; an error with *why the reason to decline.
 */
int
ident_ata(const uint16_t *id, uint32_t cap, unsigned nslots,
    struct ahci_disk *d, const char **why)
{
	uint64_t count = 0;
	unsigned depth;

	*why = NULL;
	memset(d, 0, sizeof(*d));
	if (id[ID_CONFIG] & ID_CONFIG_NOT_ATA)
		return refuse(why, "IDENTIFY word 0 says it is no ATA device",
		    PB_EIO);
	if (!integrity_ok(id))
		return refuse(why, "IDENTIFY data fail their checksum", PB_EIO);
	if (!(id[ID_CMDSET2] & ID_CMDSET2_LBA48) || id[ID_CMDSET2] == 0xffff)
		return refuse(why, "no 48-bit LBA (word 83)", PB_ENOTSUP);
	for (unsigned i = 0; i < 4; i++)
		count |= (uint64_t)id[ID_LBA48 + i] << (16 * i);
	if (count == 0 || count > ATA_MAX_LBA48)
		return refuse(why, "absurd capacity (words 100-103)", PB_EIO);
	d->block_size = logical_sector_size(id);
	if (!block_size_ok(d->block_size))
		return refuse(why, "absurd sector size (words 106, 117-118)",
		    PB_EIO);
	d->kind = DISK_ATA;
	d->block_count = count;
	if (id[ID_CONFIG] & ID_CONFIG_REMOVABLE)
		d->flags |= BLOCK_REMOVABLE;
	if (id[ID_CMDSET2] & ID_CMDSET2_FLUSH_EXT)
		d->flags |= BLOCK_FLUSHES;
	strings(id, d);
	wwn(id, d);
	if (id[ID_SATA_CAP] == 0xffff || !(id[ID_SATA_CAP] & ID_SATA_NCQ))
		return PB_OK;
	depth = (id[ID_QUEUE_DEPTH] & 0x1f) + 1u;
	if (!(cap & CAP_SNCQ))
		*why = "claims NCQ, but the HBA has no CAP.SNCQ: not used";
	else if (depth < 2 || nslots < 2)
		*why = "claims NCQ with a queue depth of 1: not used";
	else {
		d->ncq_depth = (uint16_t)(depth < nslots ? depth : nslots);
		d->flags |= BLOCK_FUA;	/* the FPDMA commands carry FUA */
	}
	return PB_OK;
}

/* IDENTIFY PACKET DEVICE into d (capacity from READ CAPACITY later). */
int
ident_atapi(const uint16_t *id, struct ahci_disk *d, const char **why)
{
	*why = NULL;
	memset(d, 0, sizeof(*d));
	if ((id[ID_CONFIG] & ID_CONFIG_ATAPI_MASK) != ID_CONFIG_ATAPI)
		return refuse(why, "IDENTIFY PACKET word 0 says it is no ATAPI "
		    "device", PB_EIO);
	if (!integrity_ok(id))
		return refuse(why, "IDENTIFY PACKET data fail their checksum",
		    PB_EIO);
	d->kind = DISK_ATAPI;
	d->flags = BLOCK_RO;
	if (id[ID_CONFIG] & ID_CONFIG_REMOVABLE)
		d->flags |= BLOCK_REMOVABLE;
	strings(id, d);
	return PB_OK;
}

/* READ CAPACITY(10): the last LBA and the block length, big-endian. */
int
ident_capacity(const uint8_t *b, struct ahci_disk *d, const char **why)
{
	uint32_t last = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	uint32_t len = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 |
	    (uint32_t)b[6] << 8 | b[7];

	*why = NULL;
	if (!block_size_ok(len))
		return refuse(why, "absurd block length from READ CAPACITY",
		    PB_EIO);
	if (last == 0xffffffffu)
		return refuse(why, "capacity beyond READ CAPACITY(10)",
		    PB_ENOTSUP);
	d->block_size = len;
	d->block_count = (uint64_t)last + 1;
	return PB_OK;
}

static int
value_clean(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '=')
			return 0;
	return 1;
}

/* A disk record from elsewhere (a swap's state): as ident_* would have
 * made it, or refused. */
int
disk_sane(const struct ahci_disk *d, unsigned nslots)
{
	return (d->kind == DISK_ATA || d->kind == DISK_ATAPI) &&
	    block_size_ok(d->block_size) && d->block_count &&
	    d->block_count <= ATA_MAX_LBA48 &&
	    (d->ncq_depth == 0 || (d->kind == DISK_ATA &&
	    d->ncq_depth >= 2 && d->ncq_depth <= nslots)) &&
	    (d->kind == DISK_ATA || (d->flags & BLOCK_RO)) &&
	    value_clean(d->model, sizeof(d->model)) &&
	    value_clean(d->serial, sizeof(d->serial)) &&
	    value_clean(d->wwn, sizeof(d->wwn));
}

/* The property line of abi/block.h. */
void
disk_props(const struct ahci_port *p, char *buf, size_t cap)
{
	const struct ahci_disk *d = &p->disk;
	size_t n;

	n = (size_t)rt_snprintf(buf, cap, "path=%s", p->path);
	if (d->kind == DISK_NONE || !d->block_count)
		return;		/* a swap's standby: identity only */
	n += (size_t)rt_snprintf(buf + n, cap - n, " size=%llu bs=%u model=%s "
	    "serial=%s ro=%d rm=%d", (unsigned long long)(d->block_count *
	    d->block_size), d->block_size, d->model, d->serial,
	    !!(d->flags & BLOCK_RO), !!(d->flags & BLOCK_REMOVABLE));
	if (d->wwn[0] && n < cap)
		rt_snprintf(buf + n, cap - n, " wwn=%s", d->wwn);
}
