/*
 * fuzzmod_usb.c - libFuzzer target for what the usb bus driver takes from
 * a device: its descriptor checks (mods/usb/desc.c) and the names and
 * properties it makes of them (mods/usb/names.c).
 *
 * Input: a mode byte, 18 bytes of device descriptor, then a configuration
 * blob (as GET_DESCRIPTOR(CONFIGURATION) returned it, all of it: its
 * wTotalLength may say otherwise), which is also read as a string
 * descriptor and a language list.
 *   mode % 5 + 1: the device's speed (low to SuperSpeedPlus)
 * Beyond the sanitizers it traps on broken promises: a refusal without a
 * reason; an accepted configuration whose interfaces or endpoints lie
 * outside the blob, are not the descriptors they claim to be, overlap,
 * count more than the limits, or break the speed's packet sizes; a
 * SuperSpeed companion that does not follow its endpoint; a string that
 * is not printable ASCII (or, as a property value, holds a space or '=');
 * properties longer than the hub keeps.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_usb/ (made by tests/fuzz/mkseeds-usb).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mods/usb/desc.c"
#include "../../mods/usb/names.c"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static unsigned
limit(unsigned type, int speed)
{
	if (speed == USB_SPEED_LOW)
		return 8;
	if (speed == USB_SPEED_FULL)
		return type == USB_EP_ISOCH ? 1023 : 64;
	return 1024;
}

static void
check_if(const uint8_t *b, size_t len, const struct desc_cfg *c, unsigned i)
{
	const struct desc_if *f = &c->ifs[i];

	must(f->off >= 9 && f->len >= 9 && (size_t)f->off + f->len <= len);
	must(b[f->off] >= 9 && b[f->off + 1] == USB_DT_INTERFACE);
	must(b[f->off + 2] == f->num && b[f->off + 3] == 0);
	must(b[f->off + 4] == f->nep);
	must((unsigned)f->ep_first + f->nep <= c->nep);
	for (unsigned k = 0; k < i; k++) {
		const struct desc_if *g = &c->ifs[k];

		must(g->num != f->num);
		must(g->off + g->len <= f->off || f->off + f->len <= g->off);
	}
	for (unsigned k = 0; k < f->nep; k++) {
		const struct desc_ep *e = &c->eps[f->ep_first + k];

		must(e->iface == i);
		must(e->off > f->off && e->off + 7u <= (unsigned)f->off + f->len);
	}
}

static void
check_ep(const uint8_t *b, size_t len, const struct desc_cfg *c, unsigned i,
    int speed)
{
	const struct desc_ep *e = &c->eps[i];

	must((size_t)e->off + 7 <= len && b[e->off] >= 7 &&
	    b[e->off + 1] == USB_DT_ENDPOINT && b[e->off + 2] == e->addr);
	must((e->addr & 0x0f) != 0 && !(e->addr & 0x70));
	must(e->mps <= limit(e->type, speed));
	must(e->enable == (e->mps != 0));
	must(e->mps || e->type == USB_EP_ISOCH);
	must(e->iface < c->nif);
	if (e->ss_off) {
		must(speed >= USB_SPEED_SUPER);
		must((size_t)e->ss_off + 6 <= len &&
		    b[e->ss_off + 1] == USB_DT_SS_EP_COMP &&
		    e->ss_off == e->off + b[e->off]);
	}
	for (unsigned k = 0; k < i; k++)
		must(c->eps[k].addr != e->addr);
}

static void
check_string(const char *s, size_t cap, int word)
{
	size_t n = strlen(s);

	must(n < cap);
	for (size_t i = 0; i < n; i++) {
		must(s[i] >= 0x20 && s[i] < 0x7f);
		if (word)
			must(s[i] != ' ' && s[i] != '=');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static const uint8_t chain[BUS_TIERS] = { 15, 255, 7, 1, 2, 3 };
	struct usb_device_desc dd;
	struct desc_cfg cfg;
	char why[DESC_WHY], serial[BUS_STR], product[BUS_STR];
	char place[BUS_PLACE], props[BUS_PROPS];
	const uint8_t *blob;
	uint16_t mps, total, lang;
	size_t len;
	int speed, r;

	if (size < 19)
		return 0;
	speed = in[0] % 5 + 1;
	why[0] = '\0';
	r = desc_ep0_mps(in + 1, 18, speed, &mps, why, sizeof(why));
	must(r == PB_OK ? mps >= 8 && mps <= 512 : why[0] != '\0');
	why[0] = '\0';
	r = desc_device(in + 1, 18, speed, &dd, why, sizeof(why));
	must(r == PB_OK || why[0]);
	if (r != PB_OK)
		memset(&dd, 0, sizeof(dd));
	blob = in + 19;
	len = size - 19;

	why[0] = '\0';
	r = desc_config_head(blob, len, &total, why, sizeof(why));
	must(r == PB_OK ? total >= 9 && total <= DESC_CONFIG_MAX : why[0]);
	why[0] = '\0';
	r = desc_config(blob, len, speed, &cfg, why, sizeof(why));
	must(r == PB_OK || why[0]);
	must(strlen(why) < sizeof(why));
	if (r == PB_OK) {
		must(len == total && cfg.nif >= 1 && cfg.nif <= DESC_IFS &&
		    cfg.nep <= DESC_EPS && cfg.nif == blob[4]);
		for (unsigned i = 0; i < cfg.nif; i++)
			check_if(blob, len, &cfg, i);
		for (unsigned i = 0; i < cfg.nep; i++)
			check_ep(blob, len, &cfg, i, speed);
	}

	if (desc_langid(blob, len, &lang) == PB_OK)
		must(len >= 4);
	serial[0] = product[0] = '\0';
	if (desc_string(blob, len, serial, sizeof(serial), 1) == PB_OK)
		check_string(serial, sizeof(serial), 1);
	if (desc_string(blob, len, product, sizeof(product), 0) == PB_OK)
		check_string(product, sizeof(product), 0);

	/* The longest place the bus makes, with what the device said. */
	dev_place_fmt(place, sizeof(place), "pci:ff:1f.7", chain, BUS_TIERS);
	must(strlen(place) < sizeof(place));
	for (unsigned i = 0; r == PB_OK && i < cfg.nif; i++) {
		size_t n = if_props_fmt(props, sizeof(props), &dd, &cfg.ifs[i],
		    speed, place, serial);

		must(n < sizeof(props) && n == strlen(props));
	}
	return 0;
}
