/*
 * probe.c - a stick's attach, one step per command:
 *
 *   GET MAX LUN (BOT §3.2)     a STALL means one LUN; an answer above 15
 *                              is not valid: LUN 0 only, said once
 *   per LUN:
 *     INQUIRY                  vendor, product, revision; peripheral type
 *                              0 (disk), 0x0e (RBC) or 5 (CD, read-only)
 *     TEST UNIT READY          until it passes, bounded (T_READY): a UNIT
 *                              ATTENTION is asked again at once (at most
 *                              USBSTOR_UA_MAX in a row), "becoming ready"
 *                              after T_READY_POLL, "initializing command
 *                              required" gets START STOP UNIT once, "no
 *                              medium" leaves the LUN out; each said once
 *     READ CAPACITY(10)        and (16) when (10) says 0xffffffff
 *     MODE SENSE(6), 0x3f      write-protect, DPOFUA, the caching page's
 *                              WCE; a stick that fails it is writable
 *   then every LUN found is published, one log line each, and the
 *   stick's queue runs.
 *
 * The same steps run after a swap whose state did not describe a LUN
 * (its resource, published in standby, then gets its properties).
 */
#include "usbstor.h"

static void lun_begin(struct usbstor_dev *d);
static void tur(struct usbstor_dev *d);

static struct usbstor_lun *
cur_lun(struct usbstor_dev *d)
{
	return &d->lun[d->probe.lun];
}

static void
say(struct usbstor_dev *d, int level, const char *what)
{
	slog(level, "usb%u: LUN %u: %s", d->no, d->probe.lun, what);
}

static void
say_sense(struct usbstor_dev *d, const char *then)
{
	char text[96];

	cmd_sense_text(d, text, sizeof(text));
	slog(PB_LOG_INFO, "usb%u: LUN %u: %s%s", d->no, d->probe.lun, text,
	    then);
}

/* A command of ours to the LUN being probed (its answer, up to len
 * bytes, into the stick's DMA block), then(d) when it is over. */
static void
ask(struct usbstor_dev *d, const uint8_t *cdb, unsigned n, uint32_t len,
    void (*then)(struct usbstor_dev *d))
{
	cmd_internal(d, d->probe.lun, cdb, n, len);
	cmd_run(d, then);
}

/* --- the end ------------------------------------------------------------- */

static void
probe_finish(struct usbstor_dev *d)
{
	unsigned n = 0;

	for (unsigned l = 0; l < d->nlun_cap; l++) {
		struct usbstor_lun *lun = &d->lun[l];

		if (!lun->present) {
			lun_withdraw(lun);	/* a handed-over LUN now absent */
			continue;
		}
		if (lun->res) {
			char props[USBSTOR_PROPS];

			lun_props(lun, props, sizeof(props));
			us.hub->set_props(us.self, lun->res, props);
		} else {
			lun_name(lun);
			if (lun_publish(lun) != PB_OK) {
				lun->present = 0;
				continue;
			}
		}
		lun_say(lun);
		n++;
	}
	if (!n) {
		slog(PB_LOG_WARN, "usb%u (%s): no LUN to serve: the stick is "
		    "left alone", d->no, d->dev);
		d->state = DEV_FAILED;
		io_fail_all(d, PB_ENODEV);
		return;
	}
	d->state = DEV_READY;
	io_kick(d);
}

/* The transport gave up on the stick (dead or gone): attach ends. */
static int
transport_over(struct usbstor_dev *d)
{
	if (d->result == PB_ECANCELED) {
		dev_gone(d, "its requests were cancelled");
		return 1;
	}
	if (d->result == PB_ENODEV) {
		slog(PB_LOG_ERR, "usb%u (%s): not attached: the stick stopped "
		    "answering", d->no, d->dev);
		d->state = DEV_DEAD;
		for (unsigned l = 0; l < d->nlun_cap; l++)
			lun_withdraw(&d->lun[l]);
		io_fail_all(d, PB_ENODEV);
		return 1;
	}
	return 0;
}

static void
next_lun(struct usbstor_dev *d)
{
	if (++d->probe.lun >= d->nluns)
		probe_finish(d);
	else
		lun_begin(d);
}

static void
lun_absent(struct usbstor_dev *d, const char *why)
{
	cur_lun(d)->present = 0;
	if (why)
		say(d, PB_LOG_INFO, why);
	next_lun(d);
}

/* --- MODE SENSE(6) --------------------------------------------------------- */

static void
mode_done(struct usbstor_dev *d)
{
	struct usbstor_lun *l = cur_lun(d);
	struct scsi_mode m = { .wce = -1 };
	int ro = l->type == SCSI_TYPE_CDROM;

	if (transport_over(d))
		return;
	if (d->result == CMD_GOOD)
		scsi_parse_mode6(d->dma + DMA_DATA, d->actual, &m);
	else if (d->result == CMD_CHECK)
		say_sense(d, " to MODE SENSE: taken as writable");
	ro |= m.wp;
	l->flags = BLOCK_REMOVABLE | (ro ? BLOCK_RO : 0);
	/* A write cache unless the caching page says there is none. */
	if (!ro && m.wce != 0)
		l->flags |= BLOCK_FLUSHES;
	if (!ro && m.dpofua)
		l->flags |= BLOCK_FUA;
	l->known = l->present = 1;
	next_lun(d);
}

static void
mode_sense(struct usbstor_dev *d)
{
	uint8_t cdb[CBW_CB_MAX];

	ask(d, cdb, scsi_cdb_simple(cdb, SCSI_MODE_SENSE_6, MODE_SENSE_LEN),
	    MODE_SENSE_LEN, mode_done);
}

/* --- READ CAPACITY ------------------------------------------------------- */

static void capacity10(struct usbstor_dev *d);

static int
capacity_retry(struct usbstor_dev *d, void (*again)(struct usbstor_dev *d))
{
	if ((d->result == PB_EIO || (d->result == CMD_CHECK &&
	    (d->sense.key == SK_UNIT_ATTENTION ||
	    d->sense.key == SK_NOT_READY))) && ++d->probe.tries < USBSTOR_TRIES) {
		again(d);
		return 1;
	}
	return 0;
}

static void
geometry(struct usbstor_dev *d, uint64_t last, uint32_t bs)
{
	struct usbstor_lun *l = cur_lun(d);

	if (!map_chunk_max(d, bs)) {
		lun_absent(d, "its blocks are bigger than the bus moves in one "
		    "request: not served");
		return;
	}
	l->block_size = bs;
	l->block_count = last + 1;
	d->probe.tries = 0;
	mode_sense(d);
}

static void
capacity16_done(struct usbstor_dev *d)
{
	const char *why = "READ CAPACITY(16) failed";
	uint64_t last;
	uint32_t bs;

	if (transport_over(d))
		return;
	if (d->result == CMD_GOOD && scsi_parse_capacity16(d->dma + DMA_DATA,
	    d->actual, &last, &bs, &why)) {
		geometry(d, last, bs);
		return;
	}
	lun_absent(d, why);
}

static void
capacity16(struct usbstor_dev *d)
{
	uint8_t cdb[CBW_CB_MAX];

	ask(d, cdb, scsi_cdb_capacity16(cdb), CAP16_LEN, capacity16_done);
}

static void
capacity10_done(struct usbstor_dev *d)
{
	const char *why = "";
	uint64_t last;
	uint32_t bs;

	if (transport_over(d) || (d->result != CMD_GOOD &&
	    capacity_retry(d, capacity10)))
		return;
	if (d->result != CMD_GOOD) {
		if (d->result == CMD_CHECK)
			say_sense(d, " to READ CAPACITY: not served");
		else
			say(d, PB_LOG_WARN, "READ CAPACITY failed: not served");
		lun_absent(d, NULL);
		return;
	}
	if (!scsi_parse_capacity10(d->dma + DMA_DATA, d->actual, &last, &bs,
	    &why)) {
		lun_absent(d, why);
		return;
	}
	d->probe.tries = 0;
	if (last == 0xffffffffu)
		capacity16(d);		/* 2^32 blocks or more */
	else
		geometry(d, last, bs);
}

static void
capacity10(struct usbstor_dev *d)
{
	static const uint8_t cdb[CBW_CB_MAX] = { SCSI_READ_CAPACITY_10 };

	ask(d, cdb, 10, CAP10_LEN, capacity10_done);
}

/* --- TEST UNIT READY ----------------------------------------------------- */

static void
start_done(struct usbstor_dev *d)
{
	if (transport_over(d))
		return;
	if (d->result == CMD_CHECK)
		say_sense(d, " to START STOP UNIT");
	tur(d);
}

static void
start_unit(struct usbstor_dev *d)
{
	uint8_t cdb[CBW_CB_MAX];

	d->probe.started = 1;
	ask(d, cdb, scsi_cdb_start(cdb), 0, start_done);
}

/* Not ready yet: again after a pause, until the deadline. */
static void
not_ready_yet(struct usbstor_dev *d)
{
	if (us.hub->now_ns() >= d->probe.deadline) {
		lun_absent(d, "not ready after 10 s: not served");
		return;
	}
	if (!d->probe.said_waiting) {
		d->probe.said_waiting = 1;
		say_sense(d, ": waiting for it");
	}
	dev_wait(d, T_READY_POLL, tur);
}

static void
tur_check(struct usbstor_dev *d)
{
	const struct scsi_sense *s = &d->sense;

	if (s->key == SK_UNIT_ATTENTION) {
		if (++d->probe.ua > USBSTOR_UA_MAX) {
			lun_absent(d, "unit attention without end: not served");
			return;
		}
		say_sense(d, ": again");
		tur(d);
	} else if (s->key == SK_NOT_READY && s->asc == ASC_NO_MEDIUM) {
		say_sense(d, ": not served");
		lun_absent(d, NULL);
	} else if (s->key == SK_NOT_READY && s->asc == ASC_NOT_READY &&
	    s->ascq == 0x02 && !d->probe.started) {
		say_sense(d, ": START STOP UNIT");
		start_unit(d);
	} else {
		not_ready_yet(d);
	}
}

static void
tur_done(struct usbstor_dev *d)
{
	if (transport_over(d))
		return;
	if (d->result == CMD_GOOD) {
		d->probe.tries = 0;
		capacity10(d);
	} else if (d->result == CMD_CHECK) {
		tur_check(d);
	} else if (++d->probe.tries < USBSTOR_TRIES) {
		tur(d);			/* the stick was reset: once more */
	} else {
		lun_absent(d, "TEST UNIT READY failed: not served");
	}
}

static void
tur(struct usbstor_dev *d)
{
	uint8_t cdb[CBW_CB_MAX];

	if (d->state != DEV_GONE)
		ask(d, cdb, scsi_cdb_simple(cdb, SCSI_TEST_UNIT_READY, 0), 0,
		    tur_done);
}

/* --- INQUIRY ------------------------------------------------------------- */

static void inquiry(struct usbstor_dev *d);

static void
inquiry_done(struct usbstor_dev *d)
{
	struct usbstor_lun *l = cur_lun(d);
	struct scsi_inquiry q;
	const char *why = "";

	if (transport_over(d))
		return;
	if (d->result != CMD_GOOD) {
		if (++d->probe.tries < USBSTOR_TRIES) {
			inquiry(d);
			return;
		}
		lun_absent(d, "INQUIRY failed: not served");
		return;
	}
	if (!scsi_parse_inquiry(d->dma + DMA_DATA, d->actual, &q, &why)) {
		lun_absent(d, why);
		return;
	}
	if (q.qualifier != 0) {
		lun_absent(d, NULL);	/* no unit on this LUN */
		return;
	}
	if (q.type != SCSI_TYPE_DISK && q.type != SCSI_TYPE_CDROM &&
	    q.type != SCSI_TYPE_RBC) {
		slog(PB_LOG_INFO, "usb%u: LUN %u: peripheral type 0x%02x (%s "
		    "%s): not a disk, not served", d->no, d->probe.lun, q.type,
		    q.vendor, q.product);
		lun_absent(d, NULL);
		return;
	}
	l->type = q.type;
	memcpy(l->vendor, q.vendor, sizeof(l->vendor));
	memcpy(l->product, q.product, sizeof(l->product));
	memcpy(l->rev, q.rev, sizeof(l->rev));
	d->probe.tries = 0;
	d->probe.deadline = us.hub->now_ns() + T_READY;
	tur(d);
}

static void
inquiry(struct usbstor_dev *d)
{
	uint8_t cdb[CBW_CB_MAX];

	ask(d, cdb, scsi_cdb_simple(cdb, SCSI_INQUIRY, INQUIRY_LEN),
	    INQUIRY_LEN, inquiry_done);
}

static void
lun_begin(struct usbstor_dev *d)
{
	struct probe *p = &d->probe;

	*p = (struct probe){ .lun = p->lun };
	cur_lun(d)->present = 0;
	inquiry(d);
}

/* --- GET MAX LUN --------------------------------------------------------- */

static void
max_lun_done(struct usbstor_dev *d)
{
	const struct bot_cmd *c = &d->bot.cmd;
	int st = c->result;

	d->nluns = 1;
	if (st == PB_ECANCELED || st == PB_ENODEV) {
		d->result = PB_ECANCELED;
		transport_over(d);
		return;
	}
	if (st == PB_OK && c->actual == 1 && d->dma[DMA_DATA] <= BOT_MAX_LUN)
		d->nluns = (uint8_t)(d->dma[DMA_DATA] + 1);
	else if (st == PB_OK && c->actual == 1)
		slog(PB_LOG_WARN, "usb%u: GET MAX LUN answered %u, more than "
		    "15: LUN 0 only", d->no, d->dma[DMA_DATA]);
	else if (st != USB_ESTALL)	/* a STALL: no LUNs but 0 (§3.2) */
		slog(PB_LOG_WARN, "usb%u: GET MAX LUN failed (%d, %u bytes): "
		    "LUN 0 only", d->no, st, c->actual);
	if (!dev_luns(d, d->nluns)) {
		slog(PB_LOG_WARN, "usb%u: %u LUNs, room for %u (no memory, or "
		    "some published): those served", d->no, d->nluns,
		    d->nlun_cap);
		d->nluns = d->nlun_cap;
	}
	d->probe.lun = 0;
	lun_begin(d);
}

/* Attach the stick: its LUNs probed, then published. */
void
probe_begin(struct usbstor_dev *d)
{
	int published = 0;

	for (unsigned l = 0; l < d->nlun_cap; l++) {
		published |= d->lun[l].res != NULL;
		d->lun[l].present = d->lun[l].known = 0;
	}
	if (!published)
		d->no = dev_pick_no(d);
	d->state = DEV_ATTACHING;
	memset(d->dma + DMA_DATA, 0, DMA_DATA_LEN);
	bot_control(d, BOT_REQ_GET_MAX_LUN, 1, max_lun_done);
}
