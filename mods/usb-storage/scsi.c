/*
 * scsi.c - the CDBs usb-storage sends and the checks of what comes back
 * (SPC-4, SBC-3).  Pure functions: nothing here touches a device, so the
 * fuzz target (tests/fuzz/fuzzmod_usb_storage.c) runs them on anything.
 */
#include "usbstor.h"

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* TEST UNIT READY, REQUEST SENSE, INQUIRY (6-byte CDBs, an allocation
 * length in byte 4); MODE SENSE(6) asks for every page (0x3f). */
unsigned
scsi_cdb_simple(uint8_t *cdb, uint8_t op, uint8_t alloc)
{
	memset(cdb, 0, CBW_CB_MAX);
	cdb[0] = op;
	if (op == SCSI_MODE_SENSE_6)
		cdb[2] = 0x3f;		/* PC 0 (current), page code 0x3f */
	cdb[4] = alloc;
	return 6;
}

/* START STOP UNIT with START=1 (SBC-3 §5.25): LOEJ 0, power condition 0. */
unsigned
scsi_cdb_start(uint8_t *cdb)
{
	memset(cdb, 0, CBW_CB_MAX);
	cdb[0] = SCSI_START_STOP_UNIT;
	cdb[4] = 0x01;
	return 6;
}

unsigned
scsi_cdb_capacity16(uint8_t *cdb)
{
	memset(cdb, 0, CBW_CB_MAX);
	cdb[0] = SCSI_SERVICE_ACTION_IN_16;
	cdb[1] = SCSI_SA_READ_CAPACITY_16;
	put_be32(cdb + 10, CAP16_LEN);	/* allocation length */
	return 16;
}

/* READ/WRITE(10) while the LBA and count fit (32 and 16 bits), else (16).
 * FUA is bit 3 of byte 1 in both. */
unsigned
scsi_cdb_rw(uint8_t *cdb, int write, uint64_t lba, uint32_t count, int fua)
{
	memset(cdb, 0, CBW_CB_MAX);
	if (fua)
		cdb[1] = 0x08;
	if (lba + count <= 0x100000000ull && count <= 0xffff) {
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		put_be32(cdb + 2, (uint32_t)lba);
		cdb[7] = (uint8_t)(count >> 8);
		cdb[8] = (uint8_t)count;
		return 10;
	}
	cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, count);
	return 16;
}

/* SYNCHRONIZE CACHE(10) of the whole medium: LBA 0, 0 blocks. */
unsigned
scsi_cdb_sync_cache(uint8_t *cdb)
{
	memset(cdb, 0, CBW_CB_MAX);
	cdb[0] = SCSI_SYNCHRONIZE_CACHE_10;
	return 10;
}

/* An ASCII field of n bytes as a printable string into out[n + 1]:
 * trailing spaces and NULs go, anything outside 0x20-0x7e and '=' become
 * '?' (it ends up in a log line and a property). */
void
scsi_ascii(char *out, const uint8_t *in, size_t n)
{
	size_t len = n;

	while (len && (in[len - 1] == ' ' || in[len - 1] == '\0'))
		len--;
	for (size_t i = 0; i < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f && in[i] != '=' ?
		    (char)in[i] : '?';
	out[len] = '\0';
}

/* Standard INQUIRY data (SPC-4 §6.6.2): byte 0 qualifier and type, byte
 * 1 bit 7 RMB, vendor 8-15, product 16-31, revision 32-35.  A short
 * answer leaves the strings it lacks empty. */
int
scsi_parse_inquiry(const uint8_t *buf, size_t len, struct scsi_inquiry *out,
    const char **why)
{
	uint8_t full[INQUIRY_LEN] = { 0 };

	memset(out, 0, sizeof(*out));
	if (len < 5) {
		*why = "the INQUIRY answer is shorter than 5 bytes";
		return 0;
	}
	memcpy(full, buf, len < sizeof(full) ? len : sizeof(full));
	out->qualifier = full[0] >> 5;
	out->type = full[0] & 0x1f;
	out->removable = full[1] >> 7;
	scsi_ascii(out->vendor, full + 8, 8);
	scsi_ascii(out->product, full + 16, 16);
	scsi_ascii(out->rev, full + 32, 4);
	return 1;
}

/* Blocks of 512 bytes to 64 KiB, a power of two; a size in 64 bits. */
int
scsi_geometry_ok(uint64_t last, uint32_t bs, const char **why)
{
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		*why = "its block size is not a power of two from 512 to 64 KiB";
	else if (last == ~0ull)
		*why = "its last block number wraps";
	else if (last >= ~0ull / bs)
		*why = "its size does not fit 64 bits";
	else
		return 1;
	return 0;
}

/* READ CAPACITY(10) (SBC-3 §5.15.2): last LBA, block length. */
int
scsi_parse_capacity10(const uint8_t *buf, size_t len, uint64_t *last,
    uint32_t *bs, const char **why)
{
	if (len < CAP10_LEN) {
		*why = "the READ CAPACITY(10) answer is short";
		return 0;
	}
	*last = be32(buf);
	*bs = be32(buf + 4);
	/* 0xffffffff asks for READ CAPACITY(16): not checked here. */
	return *last == 0xffffffffu || scsi_geometry_ok(*last, *bs, why);
}

/* READ CAPACITY(16) (SBC-3 §5.16.2): 64-bit last LBA, block length. */
int
scsi_parse_capacity16(const uint8_t *buf, size_t len, uint64_t *last,
    uint32_t *bs, const char **why)
{
	if (len < 12) {
		*why = "the READ CAPACITY(16) answer is short";
		return 0;
	}
	*last = be64(buf);
	*bs = be32(buf + 8);
	return scsi_geometry_ok(*last, *bs, why);
}

/* The mode parameter header (SPC-4 §7.5.5, 4 bytes in the 6-byte form):
 * mode data length, medium type, device-specific parameter (SBC-3
 * §6.4.1: bit 7 WP, bit 4 DPOFUA), block descriptor length; then the
 * pages, each a code (bits 5:0; bit 6 SPF: a subpage with a 16-bit
 * length) and a length.  The caching page (0x08, SBC-3 §6.4.5) has WCE
 * in bit 2 of its byte 2.  0 when the header is not there. */
int
scsi_parse_mode6(const uint8_t *buf, size_t len, struct scsi_mode *out)
{
	size_t end, at;

	*out = (struct scsi_mode){ .wce = -1 };
	if (len < 4)
		return 0;
	end = (size_t)buf[0] + 1;
	if (end > len)
		end = len;
	out->wp = (buf[2] >> 7) & 1;
	out->dpofua = (buf[2] >> 4) & 1;
	for (at = 4 + (size_t)buf[3]; at + 2 <= end;) {
		uint8_t code = buf[at] & 0x3f;
		size_t plen;

		if (buf[at] & 0x40) {		/* sub-page format */
			if (at + 4 > end)
				break;
			plen = 4 + ((size_t)buf[at + 2] << 8 | buf[at + 3]);
		} else {
			plen = 2 + (size_t)buf[at + 1];
		}
		if (code == 0x08 && !(buf[at] & 0x40) && at + 3 <= end &&
		    plen >= 3)
			out->wce = (buf[at + 2] >> 2) & 1;
		at += plen;
	}
	return 1;
}
