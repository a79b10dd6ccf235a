/*
 * props.c - the properties of the resources the hub publishes for what the
 * stub gathered: framebuffer:gop0, rsdp:uefi and config:boot.  Formatting
 * them is a one-time job of the firmware phase, so it is the stub's; the
 * hub publishes the strings as they are (hub/boot.c).
 */
#include "stub.h"
#include "../abi/rt/rt.h"

static void
fb_props(struct handoff *h)
{
	const struct handoff_fb *fb = &h->fb;

	if (fb->format > HANDOFF_PIX_BITMASK || !fb->base)
		return;
	rt_snprintf(h->fb_props, sizeof(h->fb_props), "w=%u h=%u stride=%u "
	    "fmt=%s base=0x%llx", fb->width, fb->height, fb->stride,
	    fb->format == HANDOFF_PIX_RGBX ? "rgbx" :
	    fb->format == HANDOFF_PIX_BGRX ? "bgrx" : "bitmask",
	    (unsigned long long)fb->base);
}

static void
rsdp_props(struct handoff *h)
{
	if (h->rsdp)
		rt_snprintf(h->rsdp_props, sizeof(h->rsdp_props),
		    "phys=0x%llx revision=%u", (unsigned long long)h->rsdp,
		    h->acpi_rev);
}

/* boot.cfg's one-word settings (key=value with no spaces), for modules
 * with settings of their own (font-scale), after the boot partition's
 * identity (boot-path=, which the shell's mount table puts at /esp). */
static void
config_props(struct handoff *h)
{
	char *props = h->config_props;
	size_t cap = sizeof(h->config_props);
	const char *p = h->cmdline;
	size_t n = (size_t)rt_snprintf(props, cap / 2, "boot-path=%s",
	    h->boot_path);

	if (n >= cap / 2 || strchr(h->boot_path, ' '))
		n = 0;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int plain = len && p[0] != '#';

		for (size_t i = 0; i < len; i++)
			plain &= p[i] != ' ' && p[i] != '\t' && p[i] != '\r';
		if (plain && n + len + 2 < cap) {
			if (n)
				props[n++] = ' ';
			memcpy(props + n, p, len);
			n += len;
		}
		p += len + (e != NULL);
	}
	props[n] = '\0';
}

void
gather_props(struct handoff *h)
{
	fb_props(h);
	rsdp_props(h);
	config_props(h);
}
