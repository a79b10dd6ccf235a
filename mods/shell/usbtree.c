/*
 * usbtree.c - the `usb` command's tree (usbtree.h): controllers by name,
 * each with the interfaces of its devices in port order.  Names are
 * `usb:C-P.P-I` (abi/usb.h); a name that is not spelled so is shown last
 * as it is.
 */
#include "usbtree.h"
#include "../../abi/pbmod.h"

#define TIERS 8

/* Where an interface is: controller, ports, interface number. */
struct place {
	unsigned hci, depth, iface;
	unsigned chain[TIERS];
	int ok;
};

/* usb.org "Defined Class Codes", the ones a tree is read for. */
static const struct {
	unsigned code;
	const char *name;
} classes[] = {
	{ 0x01, "audio" }, { 0x02, "communications" }, { 0x03, "HID" },
	{ 0x05, "physical" }, { 0x06, "image" }, { 0x07, "printer" },
	{ 0x08, "mass storage" }, { 0x09, "hub" }, { 0x0a, "CDC data" },
	{ 0x0b, "smart card" }, { 0x0d, "content security" },
	{ 0x0e, "video" }, { 0x0f, "healthcare" }, { 0x10, "audio/video" },
	{ 0xdc, "diagnostic" }, { 0xe0, "wireless" }, { 0xef, "misc" },
	{ 0xfe, "application" }, { 0xff, "vendor" },
};

static const char *
class_name(const char *hex)
{
	unsigned c = (unsigned)rt_strtou(hex, NULL, 16);

	for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (classes[i].code == c)
			return classes[i].name;
	return "class";
}

/* "usb:1-5.2-0" */
static struct place
place_of(const char *name)
{
	struct place k = { 0 };
	const char *p = name;

	if (strncmp(p, "usb:", 4) != 0)
		return k;
	p += 4;
	k.hci = (unsigned)rt_strtou(p, &p, 10);
	if (*p != '-')
		return k;
	do {
		if (k.depth == TIERS)
			return k;
		k.chain[k.depth++] = (unsigned)rt_strtou(p + 1, &p, 10);
	} while (*p == '.');
	if (*p != '-')
		return k;
	k.iface = (unsigned)rt_strtou(p + 1, &p, 10);
	k.ok = *p == '\0';
	return k;
}

/* Is interface a before b?  Unparsed names last, parents first. */
static int
before(const struct usbtree_res *a, const struct usbtree_res *b)
{
	struct place x = place_of(a->name), y = place_of(b->name);

	if (x.ok != y.ok)
		return x.ok;
	if (!x.ok)
		return strcmp(a->name, b->name) < 0;
	if (x.hci != y.hci)
		return x.hci < y.hci;
	for (unsigned i = 0; i < x.depth && i < y.depth; i++)
		if (x.chain[i] != y.chain[i])
			return x.chain[i] < y.chain[i];
	if (x.depth != y.depth)
		return x.depth < y.depth;
	return x.iface < y.iface;
}

static void
sort(const struct usbtree_res *r, unsigned *idx, unsigned n,
    int (*lt)(const struct usbtree_res *, const struct usbtree_res *))
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned k = i; k > 0 && lt(&r[idx[k]], &r[idx[k - 1]]);
		    k--) {
			unsigned t = idx[k];

			idx[k] = idx[k - 1];
			idx[k - 1] = t;
		}
}

static int
by_name(const struct usbtree_res *a, const struct usbtree_res *b)
{
	return strcmp(a->name, b->name) < 0;
}

static void
interface_line(const struct usbtree_res *r, usbtree_line_fn line, void *arg)
{
	struct place k = place_of(r->name);
	char vid[8] = "?", pid[8] = "?", cls[4] = "?", sub[4] = "?";
	char proto[4] = "?", speed[12] = "?", dev[40], out[192];
	unsigned indent = 2 + 4 * (k.ok ? k.depth - 1 : 0);
	size_t len;

	rt_prop_get(r->props, "vid", vid, sizeof(vid));
	rt_prop_get(r->props, "pid", pid, sizeof(pid));
	rt_prop_get(r->props, "class", cls, sizeof(cls));
	rt_prop_get(r->props, "subclass", sub, sizeof(sub));
	rt_prop_get(r->props, "protocol", proto, sizeof(proto));
	rt_prop_get(r->props, "speed", speed, sizeof(speed));
	/* the device: the name without "usb:" and "-I" */
	rt_strlcpy(dev, strncmp(r->name, "usb:", 4) ? r->name : r->name + 4,
	    sizeof(dev));
	for (len = strlen(dev); k.ok && len > 0 && dev[len - 1] != '-'; )
		len--;
	if (k.ok && len > 0)
		dev[len - 1] = '\0';
	rt_snprintf(out, sizeof(out), "%*s|__ %s if %u: %s:%s %s [%s.%s.%s], "
	    "%s speed, driver=%s", (int)indent, "", dev, k.iface, vid, pid,
	    class_name(cls), cls, sub, proto, speed,
	    r->client ? r->client : "-");
	line(arg, out);
}

/* Does the interface's dev= lie under the controller's path=? */
static int
under(const struct usbtree_res *dev, const char *path)
{
	char d[96];
	size_t n = strlen(path);

	return rt_prop_get(dev->props, "dev", d, sizeof(d)) &&
	    strncmp(d, path, n) == 0 && strncmp(d + n, "/usb:", 5) == 0;
}

/* A controller shown once: a second resource of the same name is the
 * old side of a swap (no clients). */
static int
shadowed(const struct usbtree_res *r, unsigned n, unsigned i)
{
	for (unsigned k = 0; k < n; k++)
		if (k != i && r[k].hci && strcmp(r[k].name, r[i].name) == 0 &&
		    (r[k].clients > r[i].clients ||
		    (r[k].clients == r[i].clients && k < i)))
			return 1;
	return 0;
}

static void
controller_line(const struct usbtree_res *r, char *path, size_t cap,
    usbtree_line_fn line, void *arg)
{
	char ports[8] = "?", out[160];
	const char *colon = strchr(r->name, ':');

	if (!rt_prop_get(r->props, "path", path, cap))
		rt_strlcpy(path, colon ? colon + 1 : r->name, cap);
	rt_prop_get(r->props, "ports", ports, sizeof(ports));
	rt_snprintf(out, sizeof(out), "%s %s, %s ports, driver=%s", r->name,
	    path, ports, r->owner ? r->owner : "-");
	line(arg, out);
}

void
usbtree(const struct usbtree_res *r, unsigned n, usbtree_line_fn line,
    void *arg)
{
	unsigned hcis[USBTREE_MAX], devs[USBTREE_MAX], nh = 0, nd = 0;
	uint8_t shown[USBTREE_MAX] = { 0 };
	char path[96];

	if (n > USBTREE_MAX)
		n = USBTREE_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (!r[i].hci)
			devs[nd++] = i;
		else if (!shadowed(r, n, i))
			hcis[nh++] = i;
	}
	if (!nh) {
		line(arg, "no USB controllers");
		return;
	}
	sort(r, hcis, nh, by_name);
	sort(r, devs, nd, before);
	for (unsigned h = 0; h < nh; h++) {
		controller_line(&r[hcis[h]], path, sizeof(path), line, arg);
		for (unsigned i = 0; i < nd; i++)
			if (!shown[i] && under(&r[devs[i]], path)) {
				interface_line(&r[devs[i]], line, arg);
				shown[i] = 1;
			}
	}
	for (unsigned i = 0, head = 0; i < nd; i++)
		if (!shown[i]) {
			if (!head++)
				line(arg, "(no controller listed)");
			interface_line(&r[devs[i]], line, arg);
		}
	if (!nd)
		line(arg, "no USB devices");
}
