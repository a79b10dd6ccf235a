/*
 * scsi.h - the SCSI commands usb-storage sends (SPC-4, SBC-3) and what it
 * reads from their answers.  CDB fields are big-endian.
 */
#ifndef USBSTOR_SCSI_H
#define USBSTOR_SCSI_H

#include <stddef.h>
#include <stdint.h>

enum scsi_op {
	SCSI_TEST_UNIT_READY = 0x00,	/* SPC-4 §6.47 */
	SCSI_REQUEST_SENSE = 0x03,	/* SPC-4 §6.39 */
	SCSI_INQUIRY = 0x12,		/* SPC-4 §6.6 */
	SCSI_MODE_SENSE_6 = 0x1a,	/* SPC-4 §6.11 */
	SCSI_START_STOP_UNIT = 0x1b,	/* SBC-3 §5.25 */
	SCSI_READ_CAPACITY_10 = 0x25,	/* SBC-3 §5.15 */
	SCSI_READ_10 = 0x28,		/* SBC-3 §5.11 */
	SCSI_WRITE_10 = 0x2a,		/* SBC-3 §5.32 */
	SCSI_SYNCHRONIZE_CACHE_10 = 0x35,	/* SBC-3 §5.22 */
	SCSI_READ_16 = 0x88,		/* SBC-3 §5.13 */
	SCSI_WRITE_16 = 0x8a,		/* SBC-3 §5.34 */
	SCSI_SERVICE_ACTION_IN_16 = 0x9e,	/* READ CAPACITY(16), SA 0x10 */
};
#define SCSI_SA_READ_CAPACITY_16 0x10

/* Peripheral device types (SPC-4 Table 146) served here. */
#define SCSI_TYPE_DISK	0x00	/* direct access block device */
#define SCSI_TYPE_CDROM	0x05	/* CD/DVD: read-only here */
#define SCSI_TYPE_RBC	0x0e	/* simplified direct access */

/* Lengths asked of the device. */
#define INQUIRY_LEN	36	/* the standard data up to the revision */
#define SENSE_LEN	18	/* fixed format, up to ASC/ASCQ and more */
#define MODE_SENSE_LEN	192	/* what Linux asks for: some devices
				 * fail other lengths */
#define CAP10_LEN	8
#define CAP16_LEN	32

/* Sense keys (SPC-4 Table 27). */
enum scsi_sense_key {
	SK_NO_SENSE = 0x0,
	SK_RECOVERED_ERROR = 0x1,
	SK_NOT_READY = 0x2,
	SK_MEDIUM_ERROR = 0x3,
	SK_HARDWARE_ERROR = 0x4,
	SK_ILLEGAL_REQUEST = 0x5,
	SK_UNIT_ATTENTION = 0x6,
	SK_DATA_PROTECT = 0x7,
	SK_BLANK_CHECK = 0x8,
	SK_VENDOR_SPECIFIC = 0x9,
	SK_COPY_ABORTED = 0xa,
	SK_ABORTED_COMMAND = 0xb,
	SK_VOLUME_OVERFLOW = 0xd,
	SK_MISCOMPARE = 0xe,
};

/* Additional sense codes acted on. */
#define ASC_NOT_READY		0x04	/* ASCQ 01 becoming ready, 02 needs
					 * START, 03 manual intervention */
#define ASC_LBA_OUT_OF_RANGE	0x21
#define ASC_WRITE_PROTECTED	0x27
#define ASC_MEDIUM_CHANGED	0x28
#define ASC_RESET		0x29	/* power on, reset */
#define ASC_NO_MEDIUM		0x3a

struct scsi_sense {
	uint8_t key;		/* enum scsi_sense_key */
	uint8_t asc, ascq;
};

struct scsi_inquiry {
	uint8_t qualifier;	/* 0: a unit is connected on this LUN */
	uint8_t type;		/* peripheral device type */
	uint8_t removable;	/* RMB */
	char vendor[9];		/* printable, trailing spaces trimmed */
	char product[17];
	char rev[5];
};

/* CDBs into cdb[16]: their length. */
unsigned scsi_cdb_simple(uint8_t *cdb, uint8_t op, uint8_t alloc);
unsigned scsi_cdb_start(uint8_t *cdb);
unsigned scsi_cdb_capacity16(uint8_t *cdb);
unsigned scsi_cdb_rw(uint8_t *cdb, int write, uint64_t lba, uint32_t count,
    int fua);
unsigned scsi_cdb_sync_cache(uint8_t *cdb);

void scsi_ascii(char *out, const uint8_t *in, size_t n);

/* Answers, checked: 0 and *why when they cannot be used. */
int scsi_parse_inquiry(const uint8_t *buf, size_t len,
    struct scsi_inquiry *out, const char **why);
int scsi_parse_capacity10(const uint8_t *buf, size_t len, uint64_t *last,
    uint32_t *bs, const char **why);
int scsi_parse_capacity16(const uint8_t *buf, size_t len, uint64_t *last,
    uint32_t *bs, const char **why);
int scsi_geometry_ok(uint64_t last, uint32_t bs, const char **why);

/* MODE SENSE(6) with every page (0x3f): the header's write-protect and
 * DPOFUA bits and the caching page's WCE (wce -1: no caching page). */
struct scsi_mode {
	int wp, dpofua, wce;
};
int scsi_parse_mode6(const uint8_t *buf, size_t len, struct scsi_mode *out);

/* sense.c */
int scsi_parse_sense(const uint8_t *buf, size_t len, struct scsi_sense *out);
const char *scsi_key_name(uint8_t key);
const char *scsi_asc_name(uint8_t asc, uint8_t ascq);
void scsi_sense_text(const struct scsi_sense *s, char *buf, size_t cap);

#endif
