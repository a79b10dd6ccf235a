/*
 * botmodel.h - a USB mass storage stick for host tests: Bulk-Only
 * Transport 1.0 over a fake `usb` interface (fakeusb.h), SCSI commands
 * over images in memory, up to 16 LUNs.
 *
 * The model is the device side of BOT: a CBW on bulk-OUT is parsed and
 * its command run at once; the data stage then moves the answer (bulk-IN)
 * or takes the data to write (bulk-OUT); the CSW follows on bulk-IN.  A
 * failed command stalls its data stage (§6.7.2 and §6.7.3 allow that),
 * then answers CSW status 1 and keeps sense data for REQUEST SENSE.  The
 * class requests work: GET MAX LUN, Bulk-Only Mass Storage Reset; so do
 * CLEAR_FEATURE(HALT) (USB_OP_CLEAR_HALT) and stalled endpoints, which
 * fail every transfer with USB_ESTALL until cleared.
 *
 * Every transfer's segments are checked against the fake hub's DMA map:
 * a segment whose bus address is not its `va` for the device counts in
 * bad_bus (a driver that hands the device a CPU address).
 *
 * Misbehaviour, each a count of the commands it hits (decremented as it
 * happens): wrong CSW tag, wrong signature, residue larger than asked,
 * phase error, a stall of the data stage (the command then fails with
 * ABORTED COMMAND), stalls of the CSW, a short
 * data stage; and switches: GET MAX LUN stalls or answers a given value,
 * the stick holds every request from some point on (silent), the reset
 * fails, the stick holds every request until a port reset or a few
 * (wedged: the bus's USB_OP_RESET_DEVICE, fakeusb.h, cures it).  A LUN
 * can be write-protected, lack a medium, answer UNIT ATTENTION or
 * "becoming ready" a few times, need START STOP UNIT, be a CD, be bigger
 * than 2^32 blocks (no image: reads give a pattern).
 */
#ifndef PB_TESTS_BOTMODEL_H
#define PB_TESTS_BOTMODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fakeusb.h"

#define BM_EP_IN	0x81
#define BM_EP_OUT	0x02
#define BM_BUF		(1u << 20)	/* the largest data stage */

struct bm_lun {
	int present;		/* INQUIRY qualifier 0 */
	uint8_t type;		/* peripheral device type */
	uint8_t *image;		/* blocks * bs bytes, or NULL: a pattern */
	uint64_t blocks;
	uint32_t bs;
	int wp;			/* MODE SENSE WP, writes fail DATA PROTECT */
	int dpofua;
	int wce;		/* the caching page's WCE */
	int no_cache_page;
	int no_medium;		/* TEST UNIT READY: NOT READY 3a/00 */
	int ua;			/* commands answered UNIT ATTENTION 29/00 */
	int becoming_ready;	/* TUR answered NOT READY 04/01 */
	int needs_start;	/* NOT READY 04/02 until START STOP UNIT */
	int sync_illegal;	/* SYNCHRONIZE CACHE: ILLEGAL REQUEST */
	int mode_sense_fails;
	char vendor[9], product[17], rev[5];
	uint8_t key, asc, ascq;	/* the sense REQUEST SENSE gives */
};

enum bm_phase { BM_CBW, BM_DATA_IN, BM_DATA_OUT, BM_CSW };

struct botmodel {
	struct fakeusb usb;	/* first: the device callback gets it */
	struct bm_lun lun[16];
	uint8_t max_lun;
	int max_lun_stall;
	int max_lun_value;	/* >= 0: GET MAX LUN answers this */

	/* the transport */
	enum bm_phase phase;
	uint32_t tag, length, done;	/* the CBW's, and bytes moved */
	uint8_t cb[16], cb_lun;
	int in;
	uint8_t status;
	int halted_in, halted_out;
	uint8_t *resp;		/* the data-IN answer */
	uint32_t resp_len;
	uint8_t buf[BM_BUF];
	uint64_t w_lba;		/* a write's place */

	/* misbehaviour: counts of commands */
	int bad_tag, bad_sig, big_residue, phase_error, stall_data;
	int stall_csw;		/* stalls of the next CSW reads */
	int short_data;		/* a read moves half, residue says so */
	int silent;		/* hold every request from now on */
	int wedged;		/* hold every request until this many port
				 * resets */
	int reset_fails;

	/* what happened */
	unsigned cbws, resets, clear_halts, reads, writes, syncs, starts;
	unsigned turs, inquiries, cap10, cap16, mode_senses, req_senses;
	unsigned read16, write16, bad_bus, bad_cbw, max_lun_asks;
	unsigned port_resets;	/* the bus reset the port, set it up */
	uint8_t ops[512];	/* opcodes in order */
	unsigned nops;
};

static uint8_t
bm_pattern(uint64_t lba, uint32_t off)
{
	return (uint8_t)(lba * 131 + off * 7 + (lba >> 32) * 3);
}

/* One LUN as a disk of blocks x bs with an image (or a pattern when the
 * image would be too big). */
static void
bm_lun_disk(struct botmodel *m, unsigned l, uint64_t blocks, uint32_t bs)
{
	struct bm_lun *u = &m->lun[l];

	free(u->image);
	memset(u, 0, sizeof(*u));
	u->present = 1;
	u->blocks = blocks;
	u->bs = bs;
	u->wce = 1;
	memcpy(u->vendor, "QEMU", 5);
	memcpy(u->product, "QEMU HARDDISK", 14);
	memcpy(u->rev, "2.5+", 5);
	if (blocks * bs <= (64u << 20)) {
		u->image = malloc(blocks * bs);
		for (uint64_t b = 0; b < blocks; b++)
			for (uint32_t i = 0; i < bs; i++)
				u->image[b * bs + i] = bm_pattern(b, i);
	}
}

static void
bm_free(struct botmodel *m)
{
	for (unsigned l = 0; l < 16; l++) {
		free(m->lun[l].image);
		m->lun[l].image = NULL;
	}
}

/* The segments of r checked against the fake hub's DMA map. */
static void
bm_check_bus(struct botmodel *m, const struct usb_req *r)
{
	for (unsigned i = 0; i < r->nseg; i++)
		if (fake_dma_va(r->segs[i].bus, r->segs[i].len) !=
		    r->segs[i].va)
			m->bad_bus++;
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* --- SCSI ------------------------------------------------------------- */

static void
bm_fail(struct botmodel *m, struct bm_lun *u, uint8_t key, uint8_t asc,
    uint8_t ascq)
{
	m->status = CSW_FAILED;
	m->resp_len = 0;
	if (u) {
		u->key = key;
		u->asc = asc;
		u->ascq = ascq;
	}
}

static void
bm_answer(struct botmodel *m, const void *data, uint32_t len)
{
	memcpy(m->buf, data, len);
	m->resp = m->buf;
	m->resp_len = len;
}

static void
bm_inquiry(struct botmodel *m, struct bm_lun *u)
{
	uint8_t d[36] = { 0 };

	if (!u || !u->present) {
		d[0] = 0x7f;		/* qualifier 3, type 0x1f */
	} else {
		d[0] = u->type;
		d[1] = 0x80;		/* removable */
		d[2] = 0x05;
		d[3] = 0x02;
		d[4] = 31;
		memset(d + 8, ' ', 28);
		memcpy(d + 8, u->vendor, strlen(u->vendor));
		memcpy(d + 16, u->product, strlen(u->product));
		memcpy(d + 32, u->rev, strlen(u->rev));
	}
	bm_answer(m, d, sizeof(d));
}

static void
bm_sense(struct botmodel *m, struct bm_lun *u)
{
	uint8_t d[18] = { 0x70 };

	if (u) {
		d[2] = u->key;
		d[7] = 10;
		d[12] = u->asc;
		d[13] = u->ascq;
		u->key = u->asc = u->ascq = 0;
	}
	bm_answer(m, d, sizeof(d));
}

static void
bm_capacity(struct botmodel *m, struct bm_lun *u, int sixteen)
{
	uint8_t d[32] = { 0 };
	uint64_t last = u->blocks - 1;

	if (sixteen) {
		be32_put(d, (uint32_t)(last >> 32));
		be32_put(d + 4, (uint32_t)last);
		be32_put(d + 8, u->bs);
		bm_answer(m, d, 32);
	} else {
		be32_put(d, last > 0xffffffffull ? 0xffffffffu :
		    (uint32_t)last);
		be32_put(d + 4, u->bs);
		bm_answer(m, d, 8);
	}
}

static void
bm_mode_sense(struct botmodel *m, struct bm_lun *u)
{
	uint8_t d[64] = { 0 };
	uint32_t n = 4;

	d[2] = (uint8_t)((u->wp ? 0x80 : 0) | (u->dpofua ? 0x10 : 0));
	if (!u->no_cache_page) {
		d[n] = 0x08;
		d[n + 1] = 0x12;
		d[n + 2] = u->wce ? 0x04 : 0;
		n += 0x14;
	}
	d[n] = 0x1c;		/* informational exceptions, after it */
	d[n + 1] = 0x0a;
	n += 0x0c;
	d[0] = (uint8_t)(n - 1);
	bm_answer(m, d, n);
}

/* lba/count of a READ/WRITE(10) or (16). */
static void
bm_rw_args(const uint8_t *cb, uint64_t *lba, uint32_t *count)
{
	if (cb[0] == SCSI_READ_16 || cb[0] == SCSI_WRITE_16) {
		*lba = (uint64_t)be32_get(cb + 2) << 32 | be32_get(cb + 6);
		*count = be32_get(cb + 10);
	} else {
		*lba = be32_get(cb + 2);
		*count = (uint32_t)cb[7] << 8 | cb[8];
	}
}

static void
bm_read(struct botmodel *m, struct bm_lun *u)
{
	uint64_t lba;
	uint32_t count;

	bm_rw_args(m->cb, &lba, &count);
	m->reads++;
	m->read16 += m->cb[0] == SCSI_READ_16;
	if (lba >= u->blocks || count > u->blocks - lba ||
	    (uint64_t)count * u->bs > BM_BUF) {
		bm_fail(m, u, SK_ILLEGAL_REQUEST, 0x21, 0);
		return;
	}
	for (uint32_t b = 0; b < count; b++)
		for (uint32_t i = 0; i < u->bs; i++)
			m->buf[b * u->bs + i] = u->image ?
			    u->image[(lba + b) * u->bs + i] :
			    bm_pattern(lba + b, i);
	m->resp = m->buf;
	m->resp_len = count * u->bs;
}

static void
bm_write(struct botmodel *m, struct bm_lun *u)
{
	uint64_t lba;
	uint32_t count;

	bm_rw_args(m->cb, &lba, &count);
	m->write16 += m->cb[0] == SCSI_WRITE_16;
	if (u->wp) {
		bm_fail(m, u, SK_DATA_PROTECT, 0x27, 0);
		return;
	}
	if (lba >= u->blocks || count > u->blocks - lba) {
		bm_fail(m, u, SK_ILLEGAL_REQUEST, 0x21, 0);
		return;
	}
	m->w_lba = lba;
}

/* Run the CBW's command: status, answer, and the phase that follows. */
static void
bm_command(struct botmodel *m)
{
	struct bm_lun *u = m->cb_lun <= m->max_lun && m->lun[m->cb_lun].present ?
	    &m->lun[m->cb_lun] : NULL;
	uint8_t op = m->cb[0];

	m->status = CSW_PASSED;
	m->resp_len = 0;
	if (m->nops < sizeof(m->ops))
		m->ops[m->nops++] = op;
	if (op == SCSI_INQUIRY) {
		m->inquiries++;
		bm_inquiry(m, u);
		return;
	}
	if (op == SCSI_REQUEST_SENSE) {
		m->req_senses++;
		bm_sense(m, u ? u : &m->lun[m->cb_lun & 15]);
		return;
	}
	if (!u) {
		bm_fail(m, &m->lun[m->cb_lun & 15], SK_ILLEGAL_REQUEST, 0x25, 0);
		return;
	}
	if (u->ua) {
		u->ua--;
		bm_fail(m, u, SK_UNIT_ATTENTION, 0x29, 0);
		return;
	}
	switch (op) {
	case SCSI_TEST_UNIT_READY:
		m->turs++;
		if (u->no_medium)
			bm_fail(m, u, SK_NOT_READY, 0x3a, 0);
		else if (u->needs_start)
			bm_fail(m, u, SK_NOT_READY, 0x04, 0x02);
		else if (u->becoming_ready && u->becoming_ready--)
			bm_fail(m, u, SK_NOT_READY, 0x04, 0x01);
		break;
	case SCSI_START_STOP_UNIT:
		m->starts++;
		u->needs_start = 0;
		break;
	case SCSI_READ_CAPACITY_10:
		m->cap10++;
		bm_capacity(m, u, 0);
		break;
	case SCSI_SERVICE_ACTION_IN_16:
		m->cap16++;
		bm_capacity(m, u, 1);
		break;
	case SCSI_MODE_SENSE_6:
		m->mode_senses++;
		if (u->mode_sense_fails)
			bm_fail(m, u, SK_ILLEGAL_REQUEST, 0x24, 0);
		else
			bm_mode_sense(m, u);
		break;
	case SCSI_READ_10:
	case SCSI_READ_16:
		bm_read(m, u);
		break;
	case SCSI_WRITE_10:
	case SCSI_WRITE_16:
		bm_write(m, u);
		break;
	case SCSI_SYNCHRONIZE_CACHE_10:
		m->syncs++;
		if (u->sync_illegal)
			bm_fail(m, u, SK_ILLEGAL_REQUEST, 0x20, 0);
		break;
	default:
		bm_fail(m, u, SK_ILLEGAL_REQUEST, 0x20, 0);
	}
}

/* --- BOT ------------------------------------------------------------- */

static uint32_t
le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
bm_stall(struct usb_req *r, int *halted)
{
	*halted = 1;
	r->status = USB_ESTALL;
	return 1;
}

static int
bm_cbw(struct botmodel *m, struct usb_req *r)
{
	uint8_t cbw[31];

	if (r->length != 31 || fakeusb_out_data(r, cbw, 31) != 31 ||
	    le32_get(cbw) != CBW_SIGNATURE || cbw[14] < 1 || cbw[14] > 16) {
		m->bad_cbw++;		/* §6.6.1: stall both */
		m->halted_in = 1;
		return bm_stall(r, &m->halted_out);
	}
	m->cbws++;
	m->tag = le32_get(cbw + 4);
	m->length = le32_get(cbw + 8);
	m->in = (cbw[12] & 0x80) != 0;
	m->cb_lun = cbw[13] & 15;
	memset(m->cb, 0, sizeof(m->cb));
	memcpy(m->cb, cbw + 15, cbw[14]);
	m->done = 0;
	bm_command(m);
	r->actual = 31;
	if (!m->length)
		m->phase = BM_CSW;
	else
		m->phase = m->in ? BM_DATA_IN : BM_DATA_OUT;
	return 1;
}

static int
bm_data_out(struct botmodel *m, struct usb_req *r)
{
	struct bm_lun *u = &m->lun[m->cb_lun];
	uint32_t n;

	m->phase = BM_CSW;
	if (m->status != CSW_PASSED)
		return bm_stall(r, &m->halted_out);	/* §6.7.3 */
	n = r->length < m->length ? r->length : m->length;
	if (u->image && (m->cb[0] == SCSI_WRITE_10 ||
	    m->cb[0] == SCSI_WRITE_16))
		fakeusb_out_data(r, u->image + m->w_lba * u->bs, n);
	if (m->cb[0] == SCSI_WRITE_10 || m->cb[0] == SCSI_WRITE_16)
		m->writes++;
	m->done = n;
	r->actual = n;
	return 1;
}

static int
bm_data_in(struct botmodel *m, struct usb_req *r)
{
	uint32_t n = m->resp_len < m->length ? m->resp_len : m->length;

	m->phase = BM_CSW;
	if (m->status != CSW_PASSED)
		return bm_stall(r, &m->halted_in);	/* §6.7.2 */
	if (m->stall_data) {
		m->stall_data--;
		m->status = CSW_FAILED;
		m->lun[m->cb_lun].key = SK_ABORTED_COMMAND;
		return bm_stall(r, &m->halted_in);
	}
	if (m->short_data && n > 1) {
		m->short_data--;
		n /= 2;
	}
	fakeusb_reply(r, m->resp, n);
	m->done = r->actual;
	return 1;
}

static int
bm_csw(struct botmodel *m, struct usb_req *r)
{
	uint8_t csw[13];
	uint32_t residue = m->length - m->done, tag = m->tag;
	uint32_t sig = CSW_SIGNATURE;
	uint8_t status = m->status;

	if (m->stall_csw) {
		m->stall_csw--;
		return bm_stall(r, &m->halted_in);
	}
	if (m->bad_tag) {
		m->bad_tag--;
		tag ^= 0x5a5a;
	}
	if (m->bad_sig) {
		m->bad_sig--;
		sig = 0x12345678;
	}
	if (m->big_residue) {
		m->big_residue--;
		residue = m->length + 512;
	}
	if (m->phase_error) {
		m->phase_error--;
		status = CSW_PHASE_ERROR;
	}
	for (int i = 0; i < 4; i++) {
		csw[i] = (uint8_t)(sig >> (8 * i));
		csw[4 + i] = (uint8_t)(tag >> (8 * i));
		csw[8 + i] = (uint8_t)(residue >> (8 * i));
	}
	csw[12] = status;
	m->phase = BM_CBW;
	fakeusb_reply(r, csw, 13);
	return 1;
}

static int
bm_control(struct botmodel *m, struct usb_req *r)
{
	const struct usb_setup *s = &r->u.setup;

	if (s->bmRequestType == 0xa1 && s->bRequest == BOT_REQ_GET_MAX_LUN) {
		uint8_t v = m->max_lun_value >= 0 ? (uint8_t)m->max_lun_value :
		    m->max_lun;

		m->max_lun_asks++;
		if (m->max_lun_stall) {
			r->status = USB_ESTALL;
			return 1;
		}
		fakeusb_reply(r, &v, 1);
		return 1;
	}
	if (s->bmRequestType == 0x21 && s->bRequest == BOT_REQ_RESET) {
		m->resets++;
		if (m->reset_fails) {
			r->status = USB_ESTALL;
			return 1;
		}
		m->phase = BM_CBW;	/* §3.1: ready for the next CBW */
		return 1;
	}
	r->status = USB_ESTALL;
	return 1;
}

/* The fakeusb device callback. */
static int
bm_device(struct fakeusb *u, struct usb_req *r)
{
	struct botmodel *m = (struct botmodel *)u;

	bm_check_bus(m, r);
	if (m->silent || m->wedged)
		return 0;
	if (r->op == USB_OP_CLEAR_HALT) {
		m->clear_halts++;
		if (r->ep == BM_EP_IN)
			m->halted_in = 0;
		else
			m->halted_out = 0;
		return 1;
	}
	if (r->ep == 0)
		return bm_control(m, r);
	if (r->ep == BM_EP_OUT) {
		if (m->halted_out)
			return bm_stall(r, &m->halted_out);
		if (m->phase == BM_CBW)
			return bm_cbw(m, r);
		if (m->phase == BM_DATA_OUT)
			return bm_data_out(m, r);
		return bm_stall(r, &m->halted_out);
	}
	if (m->halted_in)
		return bm_stall(r, &m->halted_in);
	if (m->phase == BM_DATA_IN)
		return bm_data_in(m, r);
	if (m->phase == BM_CSW)
		return bm_csw(m, r);
	return bm_stall(r, &m->halted_in);
}

/* The fakeusb port reset: the stick starts afresh (ready for a CBW, no
 * halts, no sense kept), and a wedge lifts when enough resets came. */
static void
bm_port_reset(struct fakeusb *u)
{
	struct botmodel *m = (struct botmodel *)u;

	m->port_resets++;
	if (m->wedged)
		m->wedged--;
	m->phase = BM_CBW;
	m->halted_in = m->halted_out = 0;
	for (unsigned l = 0; l < 16; l++)
		m->lun[l].key = m->lun[l].asc = m->lun[l].ascq = 0;
}

/* A stick: one LUN of blocks x bs, a BOT interface with its endpoints. */
static void
bm_init(struct botmodel *m, uint64_t blocks, uint32_t bs)
{
	memset(m, 0, sizeof(*m));
	fakeusb_init(&m->usb, USB_CLASS_STORAGE, MSC_SUBCLASS_SCSI,
	    MSC_PROTOCOL_BOT, USB_SPEED_HIGH);
	fakeusb_add_interface(&m->usb, 2);
	fakeusb_add_endpoint(&m->usb, BM_EP_IN, USB_EP_BULK, 512, 0);
	fakeusb_add_endpoint(&m->usb, BM_EP_OUT, USB_EP_BULK, 512, 0);
	m->usb.device = bm_device;
	m->usb.port_reset = bm_port_reset;
	m->max_lun_value = -1;
	bm_lun_disk(m, 0, blocks, bs);
}

#endif
