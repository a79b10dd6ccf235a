/*
 * sense.c - sense data (SPC-4 §4.5): parsed from either format, named for
 * the log, and turned into what a failed block request does next.
 */
#include "usbstor.h"

/* Fixed format (0x70/0x71, SPC-4 §4.5.3): key in byte 2, additional
 * length in byte 7, ASC/ASCQ in bytes 12-13.  Descriptor format
 * (0x72/0x73, §4.5.2): key, ASC, ASCQ in bytes 1-3.  0 for anything
 * else (no sense data, or a vendor format). */
int
scsi_parse_sense(const uint8_t *buf, size_t len, struct scsi_sense *out)
{
	uint8_t code;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return 0;
	code = buf[0] & 0x7f;
	if (code == 0x70 || code == 0x71) {
		if (len < 3)
			return 0;
		out->key = buf[2] & 0x0f;
		if (len >= 14 && buf[7] >= 6) {
			out->asc = buf[12];
			out->ascq = buf[13];
		}
		return 1;
	}
	if (code == 0x72 || code == 0x73) {
		if (len < 4)
			return 0;
		out->key = buf[1] & 0x0f;
		out->asc = buf[2];
		out->ascq = buf[3];
		return 1;
	}
	return 0;
}

const char *
scsi_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION",
		"DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
		"COPY ABORTED", "ABORTED COMMAND", "RESERVED (0xc)",
		"VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
	};

	return names[key & 0x0f];
}

/* The additional sense codes seen most on USB sticks and card readers
 * (SPC-4 Annex D). */
static const struct {
	uint8_t asc, ascq;	/* ascq 0xff: any */
	const char *name;
} asc_names[] = {
	{ 0x00, 0x00, "no additional sense information" },
	{ 0x04, 0x00, "not ready, cause not reportable" },
	{ 0x04, 0x01, "becoming ready" },
	{ 0x04, 0x02, "initializing command required" },
	{ 0x04, 0x03, "manual intervention required" },
	{ 0x04, 0xff, "not ready" },
	{ 0x0c, 0xff, "write error" },
	{ 0x11, 0xff, "unrecovered read error" },
	{ 0x1a, 0x00, "parameter list length error" },
	{ 0x20, 0x00, "invalid command operation code" },
	{ 0x21, 0x00, "logical block address out of range" },
	{ 0x24, 0x00, "invalid field in CDB" },
	{ 0x25, 0x00, "logical unit not supported" },
	{ 0x26, 0xff, "invalid field in parameter list" },
	{ 0x27, 0xff, "write protected" },
	{ 0x28, 0x00, "not ready to ready change, medium may have changed" },
	{ 0x29, 0xff, "power on, reset, or bus device reset occurred" },
	{ 0x2a, 0xff, "parameters changed" },
	{ 0x3a, 0xff, "medium not present" },
	{ 0x3f, 0xff, "target operating conditions have changed" },
	{ 0x44, 0xff, "internal target failure" },
	{ 0x47, 0xff, "parity error" },
	{ 0x4e, 0xff, "overlapped commands attempted" },
};

const char *
scsi_asc_name(uint8_t asc, uint8_t ascq)
{
	for (size_t i = 0; i < sizeof(asc_names) / sizeof(asc_names[0]); i++)
		if (asc_names[i].asc == asc && (asc_names[i].ascq == ascq ||
		    asc_names[i].ascq == 0xff))
			return asc_names[i].name;
	return NULL;
}

/* "NOT READY, medium not present (3a/00)" */
void
scsi_sense_text(const struct scsi_sense *s, char *buf, size_t cap)
{
	const char *asc = scsi_asc_name(s->asc, s->ascq);

	rt_snprintf(buf, cap, "%s%s%s (%02x/%02x)", scsi_key_name(s->key),
	    asc ? ", " : "", asc ? asc : "", s->asc, s->ascq);
}

/*
 * What a read, write or flush does after its command failed with this
 * sense: done after all (recovered, or a flush the device has no cache
 * command for), issued again (at once, or after a pause while the unit
 * becomes ready), or failed with *status.
 */
int
sense_action(const struct scsi_sense *s, int op, int *status)
{
	*status = PB_EIO;
	switch (s->key) {
	case SK_RECOVERED_ERROR:
		*status = PB_OK;
		return ACT_OK;
	case SK_NO_SENSE:
	case SK_UNIT_ATTENTION:		/* the medium changed, a reset */
	case SK_ABORTED_COMMAND:
		return ACT_RETRY;
	case SK_NOT_READY:
		if (s->asc == ASC_NO_MEDIUM) {
			*status = PB_EMEDIA;
			return ACT_FAIL;
		}
		return s->asc == ASC_NOT_READY && (s->ascq == 0x01 ||
		    s->ascq == 0x00) ? ACT_RETRY_LATER : ACT_FAIL;
	case SK_ILLEGAL_REQUEST:
		if (op == BLOCK_FLUSH) {
			*status = PB_OK;	/* no cache to synchronize */
			return ACT_OK;
		}
		if (s->asc == ASC_LBA_OUT_OF_RANGE)
			*status = PB_EINVAL;
		return ACT_FAIL;
	case SK_DATA_PROTECT:
		*status = PB_EROFS;
		return ACT_FAIL;
	default:			/* medium, hardware errors ... */
		return ACT_FAIL;
	}
}
