/*
 * stay.c - the takeover never leaves the user with nothing.
 *
 * Before ExitBootServices, with the takeover's swaps begun (their new
 * providers started in standby, which is where a PS/2 or serial driver
 * finds out that its controller is absent), the hub asks whether the
 * native side would still give the user a keyboard, and a console on the
 * screen the firmware was drawing on.  If not, the firmware phase goes on
 * (as with takeover=no) and the reason is written on the firmware's
 * console: a PC whose keyboard no driver here can drive, or whose GOP
 * offers no framebuffer (blt-only: virtio-gpu, some hybrid graphics), keeps
 * a working system, slower, instead of going dark.
 *
 * A keyboard counts as served when a swap takes the firmware's keyboard
 * interface, or when a driver for a keyboard that only appears after the
 * exit is there to load (a bind-rule driver such as usb-kbd: the firmware
 * keyboard stays with the keys typed before the exit, kbdhold.c).  A screen counts as served when a swap
 * takes the console to a provider drawing on a display.  boot.cfg
 * `takeover=force` takes over regardless.
 */
#include "hub.h"
#include "match.h"
#include "swap.h"
#include "../abi/rt/rt.h"

/* The resource on which a firmware-backed module serves clients iface
 * now, or NULL (kbdhold.c's too). */
struct pb_resource *
firmware_serving(const char *iface)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (r->used && r->owner && !r->standby &&
		    mod_requires(r->owner, FIRMWARE_IFACE) &&
		    strcmp(r->iface.iface, iface) == 0 && res_clients(r))
			return r;
	}
	return NULL;
}

/* Does a begun swap take iface to a provider (that needs `via`, if
 * given)? */
static int
swapped(const struct swap *sw, unsigned nsw, const char *iface,
    const char *via)
{
	for (unsigned i = 0; i < nsw; i++)
		if ((!sw[i].iface || list_has(sw[i].iface, iface)) &&
		    (!via || mod_requires(sw[i].new, via)))
			return 1;
	return 0;
}

/* Is there a driver for an iface device that appears after the exit (a
 * bind-rule module, not refused)? */
static int
later_driver(const char *iface)
{
	for (unsigned i = 0; i < nmodules; i++) {
		const struct pb_module *m = &modules[i];

		if (m->desc.nbinds && mod_provides(m, iface) &&
		    !mod_requires(m, FIRMWARE_IFACE) &&
		    m->state != MOD_REFUSED && m->state != MOD_REPLACED)
			return 1;
	}
	return 0;
}

int
takeover_leaves_nothing(int screen, const struct swap *sw, unsigned nsw,
    char *why, size_t cap)
{
	if (firmware_serving("keyboard") && !swapped(sw, nsw, "keyboard", NULL) &&
	    !later_driver("keyboard")) {
		rt_snprintf(why, cap, "no keyboard driver here would serve "
		    "after the firmware (no PS/2, serial or USB keyboard)");
		return 1;
	}
	if (screen && firmware_serving("console") &&
	    !swapped(sw, nsw, "console", "display")) {
		rt_snprintf(why, cap, "no console here would draw on the "
		    "screen after the firmware (its GOP %s)", screen == 2 ?
		    "has no framebuffer" : "cannot be used");
		return 1;
	}
	return 0;
}
