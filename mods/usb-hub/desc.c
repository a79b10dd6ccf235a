/*
 * desc.c - the hub descriptor, the status change endpoint and the port
 * chain, checked before anything is taken from them (desc.h).
 */
#include "desc.h"
#include "../../abi/pb.h"
#include "../../abi/usb.h"
#include "../../abi/rt/rt.h"

#define WHY(...) (rt_snprintf(why, cap, __VA_ARGS__), PB_EINVAL)

static int
ports_ok(unsigned n, char *why, size_t cap)
{
	if (n >= 1 && n <= HUB_PORTS_MAX)
		return PB_OK;
	return WHY("%u ports (a hub has 1 to %u)", n, HUB_PORTS_MAX);
}

/* USB 2.0 §11.23.2.1: the fixed part and DeviceRemovable must be there;
 * PortPwrCtrlMask, kept for USB 1.0 software only, may be short (QEMU's
 * usb-hub gives one byte fewer than the spec's count). */
static int
parse_usb2(const uint8_t *buf, size_t len, struct hub_desc *out, char *why,
    size_t cap)
{
	struct usb_hub_desc d;
	unsigned need;
	int err;

	if (len < sizeof(d))
		return WHY("short hub descriptor (%u bytes)", (unsigned)len);
	memcpy(&d, buf, sizeof(d));
	if ((err = ports_ok(d.bNbrPorts, why, cap)) != PB_OK)
		return err;
	need = sizeof(d) + (d.bNbrPorts + 1u + 7u) / 8u;
	if (d.bDescLength < need)
		return WHY("bDescLength %u is short of the %u bytes %u ports "
		    "need", d.bDescLength, need, d.bNbrPorts);
	if (len < need)
		return WHY("short hub descriptor (%u of %u bytes)",
		    (unsigned)len, need);
	out->nports = d.bNbrPorts;
	out->characteristics = d.wHubCharacteristics;
	out->pwr_good_ms = (uint16_t)(d.bPwrOn2PwrGood * 2u);
	return PB_OK;
}

/* USB 3.2 §10.15.2.1: 12 bytes, always. */
static int
parse_usb3(const uint8_t *buf, size_t len, struct hub_desc *out, char *why,
    size_t cap)
{
	struct usb_ss_hub_desc d;
	int err;

	if (len < sizeof(d))
		return WHY("short hub descriptor (%u of %u bytes)",
		    (unsigned)len, (unsigned)sizeof(d));
	memcpy(&d, buf, sizeof(d));
	if (d.bDescLength < sizeof(d))
		return WHY("bDescLength %u, not %u", d.bDescLength,
		    (unsigned)sizeof(d));
	if ((err = ports_ok(d.bNbrPorts, why, cap)) != PB_OK)
		return err;
	out->nports = d.bNbrPorts;
	out->characteristics = d.wHubCharacteristics;
	out->pwr_good_ms = (uint16_t)(d.bPwrOn2PwrGood * 2u);
	return PB_OK;
}

int
hub_desc_parse(const uint8_t *buf, size_t len, int ss, struct hub_desc *out,
    char *why, size_t cap)
{
	uint8_t type = ss ? USB_DT_SS_HUB : USB_DT_HUB;
	int err;

	memset(out, 0, sizeof(*out));
	if (!buf || len < 2)
		return WHY("short hub descriptor (%u bytes)",
		    buf ? (unsigned)len : 0u);
	if (buf[1] != type)
		return WHY("descriptor type 0x%02x, not 0x%02x", buf[1], type);
	err = ss ? parse_usb3(buf, len, out, why, cap) :
	    parse_usb2(buf, len, out, why, cap);
	if (err != PB_OK) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	/* Only a high-speed hub has a TT; the bits are reserved in the
	 * others, and the caller decides whether they mean anything. */
	out->ttt = (uint8_t)HUB_CHAR_TTTT(out->characteristics);
	return PB_OK;
}

int
hub_find_status_ep(const uint8_t *d, size_t len, struct hub_ep *ep,
    char *why, size_t cap)
{
	size_t at = 0;

	memset(ep, 0, sizeof(*ep));
	while (d && at + 2 <= len) {
		uint8_t blen = d[at], type = d[at + 1];
		struct usb_endpoint_desc e;

		if (blen < 2 || blen > len - at) {
			rt_snprintf(why, cap, "descriptor of length %u at "
			    "byte %u", blen, (unsigned)at);
			return PB_ENOENT;
		}
		if (type == USB_DT_ENDPOINT && blen >= sizeof(e)) {
			memcpy(&e, d + at, sizeof(e));
			if ((e.bEndpointAddress & USB_DIR_IN) &&
			    (e.bEndpointAddress & 0x0f) &&
			    (e.bmAttributes & 3) == USB_EP_INTERRUPT) {
				ep->addr = e.bEndpointAddress;
				ep->mps = e.wMaxPacketSize & 0x7ff;
				ep->interval = e.bInterval;
				return PB_OK;
			}
		}
		at += blen;
	}
	rt_snprintf(why, cap, "no interrupt IN endpoint");
	return PB_ENOENT;
}

/* "5.2" -> 2: numbers from 1 to 255 joined by dots, up to the end or
 * `stop`; 0 for anything else. */
static unsigned
count_ports(const char *s, char stop)
{
	unsigned n = 0;

	for (;;) {
		const char *end;
		uint64_t v;

		if (*s < '0' || *s > '9')
			return 0;
		v = rt_strtou(s, &end, 10);
		if (v < 1 || v > 255 || end - s > 3)
			return 0;
		n++;
		s = end;
		if (*s == '.') {
			s++;
			continue;
		}
		return *s == stop ? n : 0;
	}
}

unsigned
hub_chain_from_dev(const char *dev)
{
	const char *at = NULL;

	if (!dev)
		return 0;
	for (const char *p = dev; (p = strchr(p, '/')); p++)
		if (strncmp(p, "/usb:", 5) == 0)
			at = p + 5;
	return at ? count_ports(at, '\0') : 0;
}

unsigned
hub_chain_from_name(const char *name)
{
	const char *p;

	if (!name || strncmp(name, "usb:", 4) != 0 || !(p = strchr(name, '-')))
		return 0;
	return count_ports(p + 1, '-');
}
