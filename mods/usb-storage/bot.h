/*
 * bot.h - USB Mass Storage Class Bulk-Only Transport 1.0 on the wire:
 * the Command Block Wrapper (§5.1), the Command Status Wrapper (§5.2) and
 * the two class requests (§3.1, §3.2).  All fields are little-endian.
 */
#ifndef USBSTOR_BOT_H
#define USBSTOR_BOT_H

#include <stdint.h>

/* Interface triple the driver binds to (MSC Overview 1.4 §2, §3):
 * SCSI transparent command set, Bulk-Only Transport. */
#define MSC_SUBCLASS_SCSI	0x06
#define MSC_PROTOCOL_BOT	0x50

/* §5.1: sent on bulk-OUT to start every command. */
struct bot_cbw {
	uint32_t dCBWSignature;		/* CBW_SIGNATURE */
	uint32_t dCBWTag;		/* echoed in the CSW */
	uint32_t dCBWDataTransferLength;
	uint8_t bmCBWFlags;		/* bit 7: data IN */
	uint8_t bCBWLUN;		/* bits 3:0 */
	uint8_t bCBWCBLength;		/* 1-16 */
	uint8_t CBWCB[16];
} __attribute__((packed));
_Static_assert(sizeof(struct bot_cbw) == 31, "CBW is 31 bytes (§5.1)");

/* §5.2: read on bulk-IN to end every command. */
struct bot_csw {
	uint32_t dCSWSignature;		/* CSW_SIGNATURE */
	uint32_t dCSWTag;		/* the CBW's */
	uint32_t dCSWDataResidue;	/* bytes of the data stage not moved */
	uint8_t bCSWStatus;		/* enum bot_csw_status */
} __attribute__((packed));
_Static_assert(sizeof(struct bot_csw) == 13, "CSW is 13 bytes (§5.2)");

#define CBW_SIGNATURE	0x43425355u	/* "USBC" */
#define CSW_SIGNATURE	0x53425355u	/* "USBS" */
#define CBW_FLAG_IN	0x80u
#define CBW_CB_MAX	16
#define BOT_MAX_LUN	15		/* §3.2: GET MAX LUN answers 0-15 */

enum bot_csw_status {
	CSW_PASSED = 0,
	CSW_FAILED = 1,		/* the command failed: REQUEST SENSE says why */
	CSW_PHASE_ERROR = 2,	/* the host must do a reset recovery */
};

/* Class-specific requests to the interface (§3.1, §3.2). */
#define BOT_REQ_RESET		0xff	/* Bulk-Only Mass Storage Reset */
#define BOT_REQ_GET_MAX_LUN	0xfe

/* What a CSW says, once checked against its command (§6.3). */
enum bot_verdict {
	BOT_V_PASSED = 0,
	BOT_V_FAILED = 1,
	BOT_V_PHASE = 2,	/* phase error: reset recovery */
	BOT_V_INVALID = 3,	/* not valid or not meaningful: reset recovery */
};

/* bot.c, pure: the CBW into out[31]; the verdict of a CSW of `actual`
 * bytes for the command with `tag` and `length` (*why says what is
 * wrong with an invalid one, *residue the residue of a meaningful one). */
void bot_cbw_build(uint8_t *out, uint32_t tag, uint32_t length, int in,
    uint8_t lun, const uint8_t *cb, uint8_t cb_len);
int bot_csw_check(const uint8_t *csw, uint32_t actual, uint32_t tag,
    uint32_t length, uint32_t *residue, const char **why);

#endif
