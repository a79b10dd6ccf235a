/*
 * cmd.c - a SCSI command through BOT, with REQUEST SENSE when it fails.
 *
 * cmd_run runs the command set up in d->bot.cmd and calls `then` once
 * with d->result: CMD_GOOD; CMD_CHECK with d->sense read from the device
 * (a CSW status of 1 means "ask me why", SPC-4 §5.12); or the transport's
 * PB_EIO, PB_ENODEV, PB_ECANCELED (bot.c).  d->actual and d->residue are
 * the command's own, not the sense's.
 */
#include "usbstor.h"

/* A command of ours whose data (in_len bytes at most) lands in the
 * stick's DMA block. */
void
cmd_internal(struct usbstor_dev *d, uint8_t lun, const uint8_t *cdb,
    unsigned cdb_len, uint32_t in_len)
{
	struct bot_cmd *c = &d->bot.cmd;

	memcpy(c->cdb, cdb, CBW_CB_MAX);
	c->cdb_len = (uint8_t)cdb_len;
	c->lun = lun;
	c->in = 1;
	c->length = in_len;
	c->nseg = in_len ? 1 : 0;
	c->seg[0] = (struct usb_seg){ d->dma + DMA_DATA, d->dma_bus + DMA_DATA,
	    in_len, 0 };
	memset(d->dma + DMA_DATA, 0, DMA_DATA_LEN);
}

static void
sense_done(struct usbstor_dev *d)
{
	const struct bot_cmd *c = &d->bot.cmd;

	if (c->result == CMD_GOOD &&
	    scsi_parse_sense(d->dma + DMA_DATA, c->actual, &d->sense)) {
		d->result = CMD_CHECK;
	} else {
		/* No sense to be had: the failure is all we know. */
		d->result = c->result == PB_ENODEV || c->result == PB_ECANCELED ?
		    c->result : PB_EIO;
		if (d->result == PB_EIO)
			slog(PB_LOG_WARN, "usb%u: a command failed and REQUEST "
			    "SENSE says nothing usable (%d)", d->no, c->result);
	}
	d->then(d);
}

static void
command_done(struct usbstor_dev *d)
{
	const struct bot_cmd *c = &d->bot.cmd;
	uint8_t cdb[CBW_CB_MAX];
	unsigned n;

	d->actual = c->actual;
	d->residue = c->residue;
	if (c->result != CMD_CHECK) {
		d->result = c->result;
		d->then(d);
		return;
	}
	n = scsi_cdb_simple(cdb, SCSI_REQUEST_SENSE, SENSE_LEN);
	cmd_internal(d, c->lun, cdb, n, SENSE_LEN);
	bot_start(d, sense_done);
}

void
cmd_run(struct usbstor_dev *d, void (*then)(struct usbstor_dev *d))
{
	d->then = then;
	memset(&d->sense, 0, sizeof(d->sense));
	bot_start(d, command_done);
}

void
cmd_sense_text(const struct usbstor_dev *d, char *buf, size_t cap)
{
	scsi_sense_text(&d->sense, buf, cap);
}
