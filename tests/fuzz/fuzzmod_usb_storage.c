/*
 * fuzzmod_usb_storage.c - libFuzzer target for what usb-storage takes
 * from a stick and from a swap: CSWs (mods/usb-storage/bot.c), sense
 * data, INQUIRY, READ CAPACITY(10)/(16) and MODE SENSE(6) answers
 * (scsi.c, sense.c), the properties made of them (lun.c), and a swap's
 * state blob (state.c).
 *
 * The first byte picks what the rest is:
 *   0: a CSW (13 bytes) after the command's tag, length and the bytes
 *      the transfer moved (4 + 4 + 1);
 *   1: sense data after the block op it failed (1 byte);
 *   2: INQUIRY data, 3: READ CAPACITY(10), 4: READ CAPACITY(16) - the
 *      LUN they describe then gets its property line;
 *   5: MODE SENSE(6) data;
 *   6: a block_state (with or without usb-storage's tail) to the import
 *      of a standby driver with two sticks of two LUNs published; the
 *      request pointers a real blob carries are replaced by pointers to
 *      requests of fuzzed sizes;
 *   7: a CBW built from fuzzed fields.
 * Beyond the sanitizers it traps on broken promises: a CSW believed with
 * a residue beyond its length, a sense action or status out of its set,
 * a string with a byte a property cannot hold, a geometry believed that
 * is no power of two in 512-65536 or overflows, a property line with an
 * empty word, an import that keeps a request too small or a LUN it does
 * not have, memory not given back.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/pbmod.h"
#include "../../mods/usb-storage/bot.c"
#include "../../mods/usb-storage/cmd.c"
#include "../../mods/usb-storage/dev.c"
#include "../../mods/usb-storage/gone.c"
#include "../../mods/usb-storage/lun.c"
#include "../../mods/usb-storage/map.c"
#include "../../mods/usb-storage/probe.c"
#include "../../mods/usb-storage/queue.c"
#include "../../mods/usb-storage/sane.c"
#include "../../mods/usb-storage/scsi.c"
#include "../../mods/usb-storage/sense.c"
#include "../../mods/usb-storage/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo usbstor_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/usb-storage/usbstor.c"
#include "../../abi/rt/setting.c"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* ---- what the module calls ------------------------------------------- */

static int heap_live;

static void fz_log(struct pb_module *m, int l, const char *s) { }

static void *
fz_alloc(struct pb_module *m, size_t n)
{
	heap_live++;
	return malloc(n ? n : 1);
}

static void
fz_free(struct pb_module *m, void *p)
{
	heap_live--;
	free(p);
}

static uint64_t fz_now(void) { return 0; }

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub), .log = fz_log, .alloc = fz_alloc,
	.free = fz_free, .now_ns = fz_now,
};

/* ---- the checks ------------------------------------------------------ */

static uint32_t
le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
word_ok(const char *s, size_t cap)
{
	must(strnlen(s, cap) < cap);
	for (; *s; s++)
		must(*s >= 0x20 && *s < 0x7f && *s != '=');
}

static void
fuzz_csw(const uint8_t *d, size_t n)
{
	uint8_t csw[13] = { 0 };
	uint32_t tag, length, residue = 0;
	const char *why = NULL;
	int v;

	if (n < 9)
		return;
	tag = le32_at(d);
	length = le32_at(d + 4);
	memcpy(csw, d + 9, n - 9 < 13 ? n - 9 : 13);
	v = bot_csw_check(csw, d[8] % 16, tag, length, &residue, &why);
	must(v >= BOT_V_PASSED && v <= BOT_V_INVALID);
	if (v == BOT_V_PASSED || v == BOT_V_FAILED) {
		must(residue <= length);
		must(d[8] % 16 == 13 && le32_at(csw) == CSW_SIGNATURE &&
		    le32_at(csw + 4) == tag);
	} else {
		must(why != NULL && residue == 0);
	}
}

static void
fuzz_sense(const uint8_t *d, size_t n)
{
	struct scsi_sense s;
	char text[96];
	int status = 12345, act;

	if (n < 1)
		return;
	if (!scsi_parse_sense(d + 1, n - 1, &s))
		return;
	must(s.key <= 15);
	scsi_sense_text(&s, text, sizeof(text));
	must(strlen(text) < sizeof(text));
	act = sense_action(&s, d[0] % 4, &status);
	must(act >= ACT_OK && act <= ACT_FAIL);
	must(status == PB_OK || status == PB_EIO || status == PB_EMEDIA ||
	    status == PB_EINVAL || status == PB_EROFS);
	must((act == ACT_OK) == (status == PB_OK));
}

/* A LUN of stick 0 as the answers describe it: its property line. */
static void
props_ok(struct usbstor_lun *l)
{
	char props[USBSTOR_PROPS];

	lun_props(l, props, sizeof(props));
	must(strlen(props) < sizeof(props));
	must(!strstr(props, "  ") && props[0] != ' ');
	for (const char *p = props; (p = strchr(p, '=')); p++)
		must(p[1] && p[1] != ' ');
}

static void
fuzz_answer(int mode, const uint8_t *d, size_t n)
{
	static struct usbstor_dev dev;
	static struct usbstor_lun luns[USBSTOR_LUNS];
	struct usbstor_lun *l = &luns[0];
	struct scsi_inquiry q;
	const char *why = NULL;
	uint64_t last = 0;
	uint32_t bs = 0;

	memset(&dev, 0, sizeof(dev));
	memset(luns, 0, sizeof(luns));
	dev.lun = luns;
	dev.nlun_cap = USBSTOR_LUNS;
	l->dev = &dev;
	rt_strlcpy(l->path, "pci:00:04.0/usb:1/lun:0", sizeof(l->path));
	rt_strlcpy(dev.serial, "1-0000:00:04.0-1", sizeof(dev.serial));
	l->block_size = 512;
	l->block_count = 1;
	if (mode == 2) {
		if (!scsi_parse_inquiry(d, n, &q, &why)) {
			must(why != NULL);
			return;
		}
		word_ok(q.vendor, sizeof(q.vendor));
		word_ok(q.product, sizeof(q.product));
		word_ok(q.rev, sizeof(q.rev));
		must(q.type < 32 && q.qualifier < 8);
		memcpy(l->vendor, q.vendor, sizeof(l->vendor));
		memcpy(l->product, q.product, sizeof(l->product));
		memcpy(l->rev, q.rev, sizeof(l->rev));
		props_ok(l);
		return;
	}
	if (!(mode == 3 ? scsi_parse_capacity10(d, n, &last, &bs, &why) :
	    scsi_parse_capacity16(d, n, &last, &bs, &why))) {
		must(why != NULL);
		return;
	}
	if (mode == 3 && last == 0xffffffffu)
		return;		/* READ CAPACITY(16) is asked then */
	must(bs >= 512 && bs <= 65536 && !(bs & (bs - 1)));
	must(last + 1 != 0 && last < ~0ull / bs);
	l->block_size = bs;
	l->block_count = last + 1;
	props_ok(l);
}

static void
fuzz_mode(const uint8_t *d, size_t n)
{
	struct scsi_mode m;

	if (!scsi_parse_mode6(d, n, &m)) {
		must(n < 4);
		return;
	}
	must(m.wp == 0 || m.wp == 1);
	must(m.dpofua == 0 || m.dpofua == 1);
	must(m.wce >= -1 && m.wce <= 1);
}

static void
fuzz_cbw(const uint8_t *d, size_t n)
{
	uint8_t in[28] = { 0 }, out[31];

	memcpy(in, d, n < sizeof(in) ? n : sizeof(in));
	bot_cbw_build(out, le32_at(in), le32_at(in + 4), in[8] & 1, in[9],
	    in + 12, in[10]);
	must(le32_at(out) == CBW_SIGNATURE && le32_at(out + 4) ==
	    le32_at(in));
	must(out[13] < 16 && out[14] <= 16);
	must(out[12] == 0 || (out[12] == CBW_FLAG_IN && le32_at(in + 4)));
}

#define FZ_REQS 8

static void
fuzz_import(const uint8_t *d, size_t n)
{
	static struct block_req reqs[FZ_REQS];
	static char res_storage[4];
	struct block_state st;
	uint8_t *buf;
	int err;

	memset(&us, 0, sizeof(us));
	us.hub = &fz_hub;
	us.standby = 1;
	for (unsigned k = 0; k < 2; k++) {
		static struct usbstor_lun luns[2][USBSTOR_LUNS];
		static struct usbstor_dev devs[2];
		struct usbstor_dev *dv = us.dev[k] = &devs[k];

		memset(dv, 0, sizeof(*dv));
		memset(luns[k], 0, sizeof(luns[k]));
		dv->lun = luns[k];
		dv->nlun_cap = USBSTOR_LUNS;
		dv->state = DEV_STANDBY;
		dv->index = k;
		rt_snprintf(dv->dev, sizeof(dv->dev), "pci:00:04.0/usb:%u", k + 1);
		for (unsigned l = 0; l < USBSTOR_LUNS; l++) {
			dv->lun[l].dev = dv;
			dv->lun[l].lun = (uint8_t)l;
			rt_snprintf(dv->lun[l].path, sizeof(dv->lun[l].path),
			    "%s/lun:%u", dv->dev, l);
		}
		for (unsigned l = 0; l < 2; l++)
			dv->lun[l].res = (struct pb_resource *)
			    &res_storage[k * 2 + l];
	}
	if (n < sizeof(st))
		return;
	buf = malloc(n);
	memcpy(buf, d, n);
	memcpy(&st, buf, sizeof(st));
	for (unsigned k = 0; k < FZ_REQS; k++)	/* the last one too small */
		reqs[k].size = k + 1 < FZ_REQS ? sizeof(reqs[k]) : 40;
	if (st.ndisks <= USBSTOR_DEVS * USBSTOR_LUNS && st.nreq < (1u << 20)) {
		size_t at = base_size(st.ndisks, 0);
		size_t end = base_size(st.ndisks, st.nreq);

		for (size_t k = 0; at + (k + 1) * 8 <= n && at + k * 8 < end;
		    k++) {
			struct block_req *r = &reqs[k % FZ_REQS];

			memcpy(buf + at + k * 8, &r, 8);
		}
	}
	err = state_import(buf, n, BLOCK_STATE_VERSION);
	if (err == PB_OK) {
		for (uint32_t k = 0; k < us.nimported; k++) {
			const struct usbstor_held *h = &us.imported[k];

			must(h->r->size >= sizeof(struct block_req));
			must(h->dev < 2 && h->lun < 2);
		}
		for (unsigned k = 0; k < 2; k++)
			for (unsigned l = 0; l < USBSTOR_LUNS; l++) {
				struct usbstor_lun *lun = &us.dev[k]->lun[l];

				if (!lun->known)
					continue;
				must(l < 2);
				must(lun->block_size >= 512 &&
				    !(lun->block_size & (lun->block_size - 1)));
				must(lun->block_count >= 1);
				word_ok(lun->vendor, sizeof(lun->vendor));
				props_ok(lun);
			}
	} else {
		must(us.imported == NULL);
	}
	state_forget();
	must(heap_live == 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 7) {
	case 0:
		fuzz_csw(data + 1, size - 1);
		break;
	case 1:
		fuzz_sense(data + 1, size - 1);
		break;
	case 5:
		fuzz_mode(data + 1, size - 1);
		break;
	case 6:
		fuzz_import(data + 1, size - 1);
		break;
	case 7:
		fuzz_cbw(data + 1, size - 1);
		break;
	default:
		fuzz_answer(data[0] & 7, data + 1, size - 1);
		break;
	}
	return 0;
}
