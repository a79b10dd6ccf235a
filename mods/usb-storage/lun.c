/*
 * lun.c - `block` 1.0 for one LUN of a stick: `block:usbN` for LUN 0 and
 * `block:usbN.lL` for LUN L > 0 (N: the stick, the lowest number free
 * when it attached), with abi/block.h's properties
 *   path=pci:00:02.0/usb:2/lun:0 size=67108864 bs=512
 *   model=QEMU_QEMU_HARDDISK rev=2.5+ serial=... ro=0 rm=1
 * (path: the usb resource's dev= then /lun:L, as the firmware's handle is
 * spelled; model: INQUIRY's vendor and product; serial: the usb
 * resource's serial=, the device's iSerialNumber string).
 *
 * submit checks a request against abi/block.h and the LUN, then queues it
 * on its stick (queue.c): nothing is allocated, the request is ours
 * until its `done` is posted.  A LUN handed over in a swap without its
 * geometry takes requests with the checks that need none, and checks
 * the rest when it is known.
 */
#include "usbstor.h"

/* Bytes per request: commands of up to map_chunk_max each carry it. */
static uint32_t
max_transfer(const struct usbstor_lun *l)
{
	return USBSTOR_MAX_XFER - USBSTOR_MAX_XFER % l->block_size;
}

static int
usable(const struct usbstor_lun *l)
{
	enum dev_state s = l->dev->state;

	return l->res && (s == DEV_READY || s == DEV_ATTACHING ||
	    s == DEV_STANDBY);
}

static int
lun_info(void *ctx, struct block_info *info)
{
	struct usbstor_lun *l = ctx;
	struct block_info bi;
	uint32_t size;

	if (!info || info->size < sizeof(uint32_t))
		return PB_EINVAL;
	if (!l->res)
		return PB_ENODEV;
	if (!l->known)
		return PB_EAGAIN;	/* handed over, being probed */
	size = info->size < sizeof(bi) ? info->size : (uint32_t)sizeof(bi);
	bi = (struct block_info){
		.size = size,
		.block_size = l->block_size,
		.block_count = l->block_count,
		.max_transfer = max_transfer(l),
		.max_segments = USBSTOR_MAX_SEGS,
		.queue_depth = 1,	/* BOT: one command at a time */
		.align = 1,		/* the bus takes any address */
		.flags = l->flags,
		.seg_boundary = 0,
		.dma_limit = l->dev->dma_limit,
		.media_id = l->media_id,
	};
	memcpy(info, &bi, size);
	return PB_OK;
}

/* The segments: in number, whole blocks adding up, mappable. */
static int
check_segments(struct usbstor_lun *l, const struct block_req *r)
{
	uint64_t sum = 0;

	if (!r->segs || !r->nseg || r->nseg > USBSTOR_MAX_SEGS)
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct block_seg *s = &r->segs[i];

		if (!s->va || !s->len || s->len % l->block_size)
			return PB_EINVAL;
		sum += s->len;
	}
	if (sum != (uint64_t)r->count * l->block_size)
		return PB_EINVAL;
	return map_check(l->dev, r);
}

/* Can l run r?  What the request says alone is checked always, its place
 * on the medium once the LUN is known. */
int
io_check(struct usbstor_lun *l, const struct block_req *r)
{
	if (!r || r->size < sizeof(struct block_req))
		return PB_EINVAL;
	if (!usable(l))
		return PB_ENODEV;
	if (r->op == BLOCK_FLUSH)
		return r->count || r->nseg || r->flags ? PB_EINVAL : PB_OK;
	if ((r->op != BLOCK_READ && r->op != BLOCK_WRITE) || !r->count ||
	    (r->flags & ~BLOCK_REQ_FUA))
		return PB_EINVAL;
	if (!l->known)
		return PB_OK;
	if (r->op == BLOCK_WRITE && (l->flags & BLOCK_RO))
		return PB_EROFS;
	if ((r->flags & BLOCK_REQ_FUA) &&
	    (r->op != BLOCK_WRITE || !(l->flags & BLOCK_FUA)))
		return PB_EINVAL;
	if (r->lba >= l->block_count || r->count > l->block_count - r->lba ||
	    (uint64_t)r->count * l->block_size > max_transfer(l))
		return PB_EINVAL;
	return check_segments(l, r);
}

static int
lun_submit(void *ctx, struct block_req *r)
{
	struct usbstor_lun *l = ctx;
	int err = io_check(l, r);

	if (err != PB_OK)
		return err;
	io_queue(l->dev, r, l->lun);
	rq_of(r)->checked = l->known;
	io_kick(l->dev);
	return PB_OK;
}

const struct block_ops usbstor_block_ops = {
	.info = lun_info,	/* PB_EAGAIN while a handed-over LUN probes */
	.submit = lun_submit,	/* queued on the stick; done posted once */
};

/* --- the resource -------------------------------------------------------- */

/* " key=value" after what buf holds, spaces (and '=', control bytes)
 * as '_': properties are words; nothing for an empty value. */
static size_t
prop(char *buf, size_t cap, size_t n, const char *key, const char *value)
{
	if (!value[0] || n + 1 >= cap)
		return n;
	n += (size_t)rt_snprintf(buf + n, cap - n, " %s=", key);
	for (const char *p = value; *p && n + 1 < cap; p++)
		buf[n++] = *p <= ' ' || *p == '=' || *p >= 0x7f ? '_' : *p;
	if (n < cap)
		buf[n] = '\0';
	return n < cap ? n : cap - 1;
}

void
lun_props(const struct usbstor_lun *l, char *buf, size_t cap)
{
	char model[32];
	size_t n;

	rt_snprintf(model, sizeof(model), "%s%s%s", l->vendor,
	    l->vendor[0] && l->product[0] ? " " : "", l->product);
	n = (size_t)rt_snprintf(buf, cap, "path=%s size=%llu bs=%u", l->path,
	    (unsigned long long)(l->block_count * l->block_size),
	    l->block_size);
	if (n >= cap)
		n = cap - 1;
	n = prop(buf, cap, n, "model", model);
	n = prop(buf, cap, n, "rev", l->rev);
	n = prop(buf, cap, n, "serial", l->dev->serial);
	if (n + 1 < cap)
		rt_snprintf(buf + n, cap - n, " ro=%u rm=1",
		    l->flags & BLOCK_RO ? 1 : 0);
}

void
lun_name(struct usbstor_lun *l)
{
	if (l->lun == 0)
		rt_snprintf(l->name, sizeof(l->name), "usb%u", l->dev->no);
	else
		rt_snprintf(l->name, sizeof(l->name), "usb%u.l%u", l->dev->no,
		    l->lun);
}

int
lun_publish(struct usbstor_lun *l)
{
	char props[USBSTOR_PROPS];

	lun_props(l, props, sizeof(props));
	l->res = us.hub->publish(us.self, BLOCK_IFACE, l->name, props,
	    &usbstor_block_ops, l);
	if (!l->res) {
		slog(PB_LOG_ERR, "block:%s (%s): not published", l->name,
		    l->path);
		return PB_ENOMEM;
	}
	return PB_OK;
}

void
lun_withdraw(struct usbstor_lun *l)
{
	if (l->res)
		us.hub->withdraw(us.self, l->res);
	l->res = NULL;
	l->present = 0;
}

/* "64 MiB", "1.5 GiB": binary units, a decimal when not whole. */
static void
size_text(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB",
	    "TiB", "PiB", "EiB" };
	uint64_t div = 1;
	unsigned u = 0;

	while (u + 1 < sizeof(unit) / sizeof(unit[0]) &&
	    bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		rt_snprintf(buf, cap, "%llu %s",
		    (unsigned long long)(bytes / div), unit[u]);
	else
		rt_snprintf(buf, cap, "%llu.%u %s",
		    (unsigned long long)(bytes / div),
		    (unsigned)(bytes % div * 10 / div), unit[u]);
}

/* One line per LUN at attach:
 * block:usb0: QEMU QEMU HARDDISK 2.5+, 64 MiB (131072 x 512), path=... */
void
lun_say(const struct usbstor_lun *l)
{
	char size[24];

	size_text(l->block_count * l->block_size, size, sizeof(size));
	slog(PB_LOG_INFO, "block:%s: %s %s %s, %s (%llu x %u), path=%s%s%s",
	    l->name, l->vendor, l->product, l->rev, size,
	    (unsigned long long)l->block_count, l->block_size, l->path,
	    l->type == SCSI_TYPE_CDROM ? ", CD/DVD" : "",
	    l->flags & BLOCK_RO ? ", read-only" : "");
}
