/*
 * desc.c - the descriptor checks of desc.h.  Every read is bounded by the
 * length handed in: a descriptor is looked at only once its bLength is
 * known to lie inside the blob, and multi-byte fields are read byte by
 * byte (the blob is not aligned).
 */
#include "desc.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int
why_set(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why && cap) {
		va_start(ap, fmt);
		rt_vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return PB_EINVAL;
}

const char *
desc_speed_name(int speed)
{
	switch (speed) {
	case USB_SPEED_LOW:
		return "low";
	case USB_SPEED_FULL:
		return "full";
	case USB_SPEED_HIGH:
		return "high";
	case USB_SPEED_SUPER:
		return "super";
	case USB_SPEED_SUPER_PLUS:
		return "super+";
	}
	return "?";
}

static int
is_super(int speed)
{
	return speed >= USB_SPEED_SUPER;
}

/* --- the device descriptor (§9.6.1) ------------------------------------ */

int
desc_ep0_mps(const uint8_t *buf, size_t len, int speed, uint16_t *mps,
    char *why, size_t cap)
{
	unsigned b;

	if (len < 8)
		return why_set(why, cap, "short: %zu of 8 bytes", len);
	if (buf[1] != USB_DT_DEVICE)
		return why_set(why, cap, "type 0x%02x, not a device "
		    "descriptor", buf[1]);
	if (buf[0] < sizeof(struct usb_device_desc))
		return why_set(why, cap, "bLength %u, below 18", buf[0]);
	b = buf[7];
	/* USB 3.2 §9.6.1: an exponent, 9 at SuperSpeed; USB 2.0 §5.5.3: 8
	 * at low speed, 64 at high speed, 8/16/32/64 at full speed. */
	if (is_super(speed)) {
		if (b != 9)
			return why_set(why, cap, "bMaxPacketSize0 %u at %s speed "
			    "(2^9 expected)", b, desc_speed_name(speed));
		*mps = 512;
		return PB_OK;
	}
	if ((speed == USB_SPEED_LOW && b != 8) ||
	    (speed == USB_SPEED_HIGH && b != 64) ||
	    (speed == USB_SPEED_FULL && b != 8 && b != 16 && b != 32 &&
	    b != 64) || speed < USB_SPEED_LOW)
		return why_set(why, cap, "bMaxPacketSize0 %u at %s speed", b,
		    desc_speed_name(speed));
	*mps = (uint16_t)b;
	return PB_OK;
}

int
desc_device(const uint8_t *buf, size_t len, int speed,
    struct usb_device_desc *dd, char *why, size_t cap)
{
	uint16_t mps;
	int r;

	if (len < sizeof(*dd))
		return why_set(why, cap, "short: %zu of 18 bytes", len);
	if ((r = desc_ep0_mps(buf, len, speed, &mps, why, cap)) != PB_OK)
		return r;
	memcpy(dd, buf, sizeof(*dd));
	if (dd->bNumConfigurations == 0)
		return why_set(why, cap, "bNumConfigurations 0");
	return PB_OK;
}

/* --- the configuration (§9.6.3-§9.6.6) --------------------------------- */

int
desc_config_head(const uint8_t *buf, size_t len, uint16_t *total, char *why,
    size_t cap)
{
	uint16_t t;

	if (len < sizeof(struct usb_config_desc))
		return why_set(why, cap, "short: %zu of 9 bytes", len);
	if (buf[1] != USB_DT_CONFIG)
		return why_set(why, cap, "type 0x%02x, not a configuration",
		    buf[1]);
	if (buf[0] < sizeof(struct usb_config_desc))
		return why_set(why, cap, "bLength %u, below 9", buf[0]);
	t = le16(buf + 2);
	if (t < buf[0])
		return why_set(why, cap, "wTotalLength %u, below its bLength "
		    "%u", t, buf[0]);
	if (t > DESC_CONFIG_MAX)
		return why_set(why, cap, "wTotalLength %u, over %u", t,
		    DESC_CONFIG_MAX);
	*total = t;
	return PB_OK;
}

/* The smallest bLength of a standard type; 2 for the others. */
static unsigned
min_length(unsigned type)
{
	switch (type) {
	case USB_DT_CONFIG:
	case USB_DT_INTERFACE:
		return 9;
	case USB_DT_ENDPOINT:
		return 7;
	case USB_DT_SS_EP_COMP:
		return 6;
	case USB_DT_INTERFACE_ASSOC:
		return 8;
	}
	return 2;
}

/* The largest packet a type may have at a speed; 0: not at that speed. */
static unsigned
ep_limit(unsigned type, int speed)
{
	switch (speed) {
	case USB_SPEED_LOW:		/* §5.5.3, §5.7.3; no bulk/isoch */
		return type == USB_EP_CONTROL || type == USB_EP_INTERRUPT ?
		    8 : 0;
	case USB_SPEED_FULL:		/* §5.5.3-§5.8.3 */
		return type == USB_EP_ISOCH ? 1023 : 64;
	case USB_SPEED_HIGH:
		return type == USB_EP_CONTROL ? 64 : type == USB_EP_BULK ?
		    512 : 1024;
	}
	/* USB 3.2 §9.6.6 */
	return type == USB_EP_CONTROL ? 512 : 1024;
}

/* The walk's state. */
struct walk {
	const uint8_t *b;
	size_t len;
	int speed;
	struct desc_cfg *cfg;
	char *why;
	size_t cap;
	int in_if;		/* an interface descriptor was met */
	unsigned if_num, if_alt, if_want, if_found;
	int cur;		/* its index in cfg->ifs (alt 0), or -1 */
	int prev_ep;		/* the descriptor before was an endpoint */
	int last_ep;		/* cfg->eps index of that endpoint, or -1 */
	uint8_t seen[32], alt0[32];	/* interface numbers, bitmaps */
};

static int
bit(const uint8_t *map, unsigned n)
{
	return map[n / 8] >> (n % 8) & 1;
}

static void
bit_set(uint8_t *map, unsigned n)
{
	map[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* The interface being walked ends at `off`: its endpoints all came? */
static int
if_close(struct walk *w, size_t off, int at_end)
{
	if (!w->in_if)
		return PB_OK;
	if (w->cur >= 0)
		w->cfg->ifs[w->cur].len = (uint16_t)(off -
		    w->cfg->ifs[w->cur].off);
	w->cur = -1;
	if (w->if_found == w->if_want)
		return PB_OK;
	if (at_end)
		return why_set(w->why, w->cap, "interface %u alt %u: "
		    "bNumEndpoints %u, the configuration ends after %u",
		    w->if_num, w->if_alt, w->if_want, w->if_found);
	return why_set(w->why, w->cap, "interface %u alt %u: bNumEndpoints "
	    "%u, found %u", w->if_num, w->if_alt, w->if_want, w->if_found);
}

static int
on_interface(struct walk *w, size_t off)
{
	const uint8_t *d = w->b + off;
	struct desc_cfg *c = w->cfg;
	struct desc_if *f;
	int r;

	if ((r = if_close(w, off, 0)) != PB_OK)
		return r;
	w->in_if = 1;
	w->if_num = d[2];
	w->if_alt = d[3];
	w->if_want = d[4];
	w->if_found = 0;
	bit_set(w->seen, d[2]);
	if (d[3] != 0)
		return PB_OK;
	if (bit(w->alt0, d[2]))
		return why_set(w->why, w->cap, "interface %u alt 0 twice",
		    d[2]);
	if (c->nif == DESC_IFS)
		return why_set(w->why, w->cap, "more than %u interfaces",
		    DESC_IFS);
	bit_set(w->alt0, d[2]);
	w->cur = c->nif++;
	f = &c->ifs[w->cur];
	*f = (struct desc_if){ .num = d[2], .cls = d[5], .subclass = d[6],
	    .protocol = d[7], .iinterface = d[8], .ep_first = c->nep,
	    .off = (uint16_t)off };
	return PB_OK;
}

/* An endpoint's own checks, whatever setting it is in. */
static int
ep_check(struct walk *w, const uint8_t *d, unsigned *type, unsigned *mps)
{
	unsigned addr = d[2], wmax = le16(d + 4), extra = wmax >> 11 & 3;
	unsigned limit;
	int periodic;

	*type = d[3] & 3;
	*mps = wmax & 0x7ff;
	periodic = *type == USB_EP_ISOCH || *type == USB_EP_INTERRUPT;
	if ((addr & 0x0f) == 0 || (addr & 0x70))
		return why_set(w->why, w->cap, "endpoint address 0x%02x",
		    addr);
	if ((wmax >> 13) || extra == 3 ||
	    (extra && !(w->speed == USB_SPEED_HIGH && periodic)))
		return why_set(w->why, w->cap, "endpoint 0x%02x: "
		    "wMaxPacketSize 0x%04x has reserved bits set", addr, wmax);
	limit = ep_limit(*type, w->speed);
	if (!limit)
		return why_set(w->why, w->cap, "endpoint 0x%02x: type %u at "
		    "%s speed", addr, *type, desc_speed_name(w->speed));
	if (*mps == 0 && !(*type == USB_EP_ISOCH && w->if_alt == 0))
		return why_set(w->why, w->cap, "endpoint 0x%02x: max packet 0",
		    addr);
	if (*mps > limit)
		return why_set(w->why, w->cap, "endpoint 0x%02x: max packet "
		    "%u, over %u at %s speed", addr, *mps, limit,
		    desc_speed_name(w->speed));
	return PB_OK;
}

static int
on_endpoint(struct walk *w, size_t off)
{
	const uint8_t *d = w->b + off;
	struct desc_cfg *c = w->cfg;
	unsigned type, mps;
	int r;

	if (!w->in_if)
		return why_set(w->why, w->cap, "endpoint 0x%02x at offset %zu "
		    "outside an interface", d[2], off);
	if (++w->if_found > w->if_want)
		return why_set(w->why, w->cap, "interface %u alt %u: "
		    "bNumEndpoints %u, found more", w->if_num, w->if_alt,
		    w->if_want);
	if ((r = ep_check(w, d, &type, &mps)) != PB_OK)
		return r;
	w->last_ep = -1;
	if (w->cur < 0)
		return PB_OK;
	for (unsigned i = 0; i < c->nep; i++)
		if (c->eps[i].addr == d[2])
			return why_set(w->why, w->cap, "endpoint 0x%02x twice "
			    "in the default settings", d[2]);
	if (c->nep == DESC_EPS)
		return why_set(w->why, w->cap, "more than %u endpoints",
		    DESC_EPS);
	w->last_ep = c->nep;
	c->eps[c->nep++] = (struct desc_ep){ .off = (uint16_t)off,
	    .addr = d[2], .type = (uint8_t)type, .mps = (uint16_t)mps,
	    .iface = (uint8_t)w->cur, .enable = mps != 0 };
	c->ifs[w->cur].nep++;
	return PB_OK;
}

/* One descriptor at off, whose bLength lies inside the blob. */
static int
on_descriptor(struct walk *w, size_t off)
{
	const uint8_t *d = w->b + off;
	int was_ep = w->prev_ep, r;

	w->prev_ep = 0;
	switch (d[1]) {
	case USB_DT_CONFIG:
		if (off != 0)
			return why_set(w->why, w->cap, "a second configuration "
			    "descriptor at offset %zu", off);
		return PB_OK;
	case USB_DT_DEVICE:
	case USB_DT_STRING:
	case USB_DT_DEVICE_QUALIFIER:
	case USB_DT_BOS:
		return why_set(w->why, w->cap, "descriptor type 0x%02x at "
		    "offset %zu inside the configuration", d[1], off);
	case USB_DT_INTERFACE_ASSOC:	/* it belongs to what follows */
		r = if_close(w, off, 0);
		w->in_if = 0;
		return r;
	case USB_DT_INTERFACE:
		return on_interface(w, off);
	case USB_DT_ENDPOINT:
		w->prev_ep = 1;
		return on_endpoint(w, off);
	case USB_DT_SS_EP_COMP:
		if (!was_ep)
			return why_set(w->why, w->cap, "SuperSpeed companion at "
			    "offset %zu follows no endpoint", off);
		if (w->last_ep >= 0 && is_super(w->speed))
			w->cfg->eps[w->last_ep].ss_off = (uint16_t)off;
		return PB_OK;
	}
	return PB_OK;
}

static unsigned
popcount(const uint8_t *map, size_t n)
{
	unsigned c = 0;

	for (size_t i = 0; i < n * 8; i++)
		c += (unsigned)bit(map, (unsigned)i);
	return c;
}

int
desc_config(const uint8_t *blob, size_t len, int speed,
    struct desc_cfg *cfg, char *why, size_t cap)
{
	struct walk w = { .b = blob, .len = len, .speed = speed, .cfg = cfg,
	    .why = why, .cap = cap, .cur = -1, .last_ep = -1 };
	uint16_t total;
	unsigned nif;
	size_t off;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if ((r = desc_config_head(blob, len, &total, why, cap)) != PB_OK)
		return r;
	if (total != len)
		return why_set(why, cap, "wTotalLength %u, but %zu bytes came",
		    total, len);
	cfg->value = blob[5];
	cfg->attributes = blob[7];
	for (off = 0; off < len; off += blob[off]) {
		unsigned bl, min;

		if (len - off < 2)
			return why_set(why, cap, "descriptor at offset %zu: 1 "
			    "byte left", off);
		bl = blob[off];
		if (bl < 2)
			return why_set(why, cap, "descriptor at offset %zu: "
			    "bLength %u", off, bl);
		if (bl > len - off)
			return why_set(why, cap, "descriptor at offset %zu: "
			    "bLength %u runs past the end (%zu left)", off, bl,
			    len - off);
		min = min_length(blob[off + 1]);
		if (bl < min)
			return why_set(why, cap, "descriptor type 0x%02x at "
			    "offset %zu: bLength %u, below %u", blob[off + 1],
			    off, bl, min);
		if ((r = on_descriptor(&w, off)) != PB_OK)
			return r;
	}
	if ((r = if_close(&w, len, 1)) != PB_OK)
		return r;
	nif = popcount(w.seen, sizeof(w.seen));
	if (nif == 0)
		return why_set(why, cap, "no interfaces");
	if (nif != blob[4])
		return why_set(why, cap, "bNumInterfaces %u, found %u",
		    blob[4], nif);
	if (popcount(w.alt0, sizeof(w.alt0)) != nif)
		return why_set(why, cap, "an interface without alternate "
		    "setting 0");
	return PB_OK;
}

/* --- strings (§9.6.7) ---------------------------------------------------- */

int
desc_langid(const uint8_t *buf, size_t len, uint16_t *langid)
{
	size_t n;

	if (len < 4 || buf[1] != USB_DT_STRING || buf[0] < 4)
		return PB_EINVAL;
	n = ((buf[0] < len ? buf[0] : len) - 2) / 2;
	*langid = le16(buf + 2);
	for (size_t i = 0; i < n; i++)
		if (le16(buf + 2 + 2 * i) == 0x0409)
			*langid = 0x0409;
	return PB_OK;
}

int
desc_string(const uint8_t *buf, size_t len, char *out, size_t cap,
    int word)
{
	size_t n, k = 0;

	if (!cap)
		return PB_EINVAL;
	out[0] = '\0';
	if (len < 2 || buf[1] != USB_DT_STRING || buf[0] < 2)
		return PB_EINVAL;
	n = ((buf[0] < len ? buf[0] : len) - 2) / 2;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		unsigned u = le16(buf + 2 + 2 * i);
		char c = u >= 0x20 && u < 0x7f ? (char)u : '?';

		if (word && (c == ' ' || c == '='))
			c = '_';
		out[k++] = c;
	}
	out[k] = '\0';
	return PB_OK;
}
