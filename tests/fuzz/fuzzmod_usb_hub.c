/*
 * fuzzmod_usb_hub.c - libFuzzer target for what usb-hub takes from a hub
 * and from the bus before trusting it (mods/usb-hub/desc.c): the hub
 * descriptor, the interface's descriptors (its status change endpoint)
 * and the port chain of a `dev=` property or resource name.
 *
 * Input: a mode byte (bit 0: a USB 3 hub's descriptor, type 0x2a), then
 * bytes given to all three parsers, each in a buffer of exactly their
 * size (the chain parsers get them as a string cut at the first NUL), so
 * ASan sees any read past them.  Beyond the sanitizers it traps on broken
 * promises: a descriptor taken with 0 or more than 15 ports, shorter than
 * its ports need, with a TT think time over 3 or a power-good time that
 * is not bPwrOn2PwrGood x 2; a refusal without a reason; an endpoint that
 * is not an interrupt IN one of the input; a chain longer than its text.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_usb_hub/ (tests/fuzz/mkseeds-usb-hub).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mods/usb-hub/desc.c"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void
check_desc(const uint8_t *b, size_t n, int ss)
{
	struct hub_desc d;
	char why[80];

	why[0] = '\0';
	if (hub_desc_parse(b, n, ss, &d, why, sizeof(why)) != PB_OK) {
		must(why[0] != '\0' && memchr(why, '\0', sizeof(why)));
		must(d.nports == 0);
		return;
	}
	must(d.nports >= 1 && d.nports <= HUB_PORTS_MAX);
	must(d.nports == b[2] && b[1] == (ss ? 0x2a : 0x29));
	must(n >= (ss ? 12u : 7u + (d.nports + 8u) / 8u));
	must(b[0] >= (ss ? 12u : 7u + (d.nports + 8u) / 8u));
	must(d.ttt <= 3 && d.pwr_good_ms == b[5] * 2u);
}

static void
check_ep(const uint8_t *b, size_t n)
{
	struct hub_ep ep;
	char why[80];

	why[0] = '\0';
	if (hub_find_status_ep(b, n, &ep, why, sizeof(why)) != PB_OK) {
		must(why[0] != '\0' && ep.addr == 0);
		return;
	}
	must((ep.addr & 0x80) && (ep.addr & 0x0f) && ep.mps <= 0x7ff);
	for (size_t at = 0; at + 7 <= n; at++)
		if (b[at + 1] == USB_DT_ENDPOINT && b[at + 2] == ep.addr &&
		    (b[at + 3] & 3) == USB_EP_INTERRUPT)
			return;
	must(0);	/* not one of the input's */
}

static void
check_chain(const uint8_t *b, size_t n)
{
	char *s = malloc(n + 1);
	size_t len;

	memcpy(s, b, n);
	s[n] = '\0';
	len = strlen(s);
	must(hub_chain_from_dev(s) <= len / 2 + 1);
	must(hub_chain_from_name(s) <= len / 2 + 1);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	b = malloc(n ? n : 1);
	memcpy(b, data + 1, n);
	check_desc(b, n, data[0] & 1);
	check_ep(b, n);
	check_chain(b, n);
	free(b);
	return 0;
}
