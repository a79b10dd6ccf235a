/*
 * cmd_pci.c - `pci`: every function the pci module published, one line
 * each in the manner of `lspci -nn`:
 *   00:1f.2 SATA controller [0106]: 8086:2922 (rev 02) driver=ahci
 * read from the `pci:` resources' properties (abi/pci.h) through the
 * hub's inventory; the driver is the resource's one client, `-` when
 * none is bound.  A non-zero segment prefixes the address (`0001:`).
 */
#include "shell.h"

/* Class names (PCI Code and ID Assignment 1.11 §1): base class and
 * subclass, or the base class alone (sub 0xff). */
static const struct {
	uint8_t cls, sub;
	const char *name;
} classes[] = {
	{ 0x00, 0x01, "VGA compatible unclassified device" },
	{ 0x01, 0x00, "SCSI storage controller" },
	{ 0x01, 0x01, "IDE interface" },
	{ 0x01, 0x05, "ATA controller" },
	{ 0x01, 0x06, "SATA controller" },
	{ 0x01, 0x07, "Serial Attached SCSI controller" },
	{ 0x01, 0x08, "Non-Volatile memory controller" },
	{ 0x02, 0x00, "Ethernet controller" },
	{ 0x03, 0x00, "VGA compatible controller" },
	{ 0x03, 0x02, "3D controller" },
	{ 0x04, 0x01, "Multimedia audio controller" },
	{ 0x04, 0x03, "Audio device" },
	{ 0x05, 0x00, "RAM memory" },
	{ 0x06, 0x00, "Host bridge" },
	{ 0x06, 0x01, "ISA bridge" },
	{ 0x06, 0x04, "PCI bridge" },
	{ 0x07, 0x00, "Serial controller" },
	{ 0x0c, 0x03, "USB controller" },
	{ 0x0c, 0x05, "SMBus" },
	{ 0x00, 0xff, "Unclassified device" },
	{ 0x01, 0xff, "Mass storage controller" },
	{ 0x02, 0xff, "Network controller" },
	{ 0x03, 0xff, "Display controller" },
	{ 0x04, 0xff, "Multimedia controller" },
	{ 0x05, 0xff, "Memory controller" },
	{ 0x06, 0xff, "Bridge" },
	{ 0x07, 0xff, "Communication controller" },
	{ 0x08, 0xff, "Generic system peripheral" },
	{ 0x09, 0xff, "Input device controller" },
	{ 0x0a, 0xff, "Docking station" },
	{ 0x0b, 0xff, "Processor" },
	{ 0x0c, 0xff, "Serial bus controller" },
	{ 0x0d, 0xff, "Wireless controller" },
	{ 0x0e, 0xff, "Intelligent controller" },
	{ 0x0f, 0xff, "Satellite communications controller" },
	{ 0x10, 0xff, "Encryption controller" },
	{ 0x11, 0xff, "Signal processing controller" },
	{ 0x12, 0xff, "Processing accelerators" },
};

static const char *
class_name(unsigned cls, unsigned sub)
{
	const char *base = NULL;

	for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (classes[i].cls != cls)
			continue;
		if (classes[i].sub == sub)
			return classes[i].name;
		if (classes[i].sub == 0xff)
			base = classes[i].name;
	}
	return base ? base : "Class";
}

/* The value of `key` in a property line, or "" when it is not there. */
static void
prop(const char *props, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key), n = 0;
	const char *p = props;

	out[0] = '\0';
	while (*p) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			p += klen + 1;
			while (p[n] && p[n] != ' ' && n + 1 < cap) {
				out[n] = p[n];
				n++;
			}
			out[n] = '\0';
			return;
		}
		while (*p && *p != ' ')
			p++;
	}
}

static void
show(const struct pb_res_info *ri)
{
	char bdf[16], seg[8], ven[8], dev[8], cls[12], rev[4], dom[8] = "";
	unsigned c, s, d;

	prop(ri->props, "bdf", bdf, sizeof(bdf));
	prop(ri->props, "seg", seg, sizeof(seg));
	prop(ri->props, "vendor", ven, sizeof(ven));
	prop(ri->props, "device", dev, sizeof(dev));
	prop(ri->props, "class", cls, sizeof(cls));
	prop(ri->props, "rev", rev, sizeof(rev));
	c = (unsigned)rt_strtou(cls, NULL, 16);
	s = strlen(cls) >= 5 ? (unsigned)rt_strtou(cls + 3, NULL, 16) : 0;
	if ((d = (unsigned)rt_strtou(seg, NULL, 16)))
		rt_snprintf(dom, sizeof(dom), "%04x:", d);
	say("%s%s %s [%02x%02x]: %s:%s (rev %s) driver=%s", dom, bdf,
	    class_name(c, s), c, s, ven, dev, rev,
	    ri->client ? ri->client : "-");
}

int
cmd_pci(int argc, char **argv)
{
	struct pb_res_info ri;
	unsigned n = 0;

	(void)argc;
	for (unsigned i = 0; shell_hub->res_info("pci", i, &ri) == PB_OK; i++) {
		if (strcmp(ri.iface, "pci") != 0)
			continue;
		show(&ri);
		n++;
	}
	if (!n)
		return fail("%s: no PCI functions (is the pci module running?)",
		    argv[0]);
	return PB_OK;
}
