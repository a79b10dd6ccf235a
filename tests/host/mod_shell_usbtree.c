/*
 * mod_shell_usbtree.c - the shell's `usb` tree (mods/shell/usbtree.c) on
 * the host: controllers with their devices in port order, indented by
 * depth, each interface's ids, class, speed and driver; devices of a
 * controller not listed; the old side of a controller swap shown once;
 * no controllers, no devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/rt/setting.c"
#include "../../mods/shell/usbtree.c"

static char out[4096];

static void
collect(void *arg, const char *line)
{
	size_t n = strlen(out);

	(void)arg;
	snprintf(out + n, sizeof(out) - n, "%s\n", line);
}

static const char *
tree(const struct usbtree_res *r, unsigned n)
{
	out[0] = '\0';
	usbtree(r, n, collect, NULL);
	return out;
}

#define HCI(name, props, clients) { name, props, "xhci", \
	(clients) ? "usb" : NULL, clients, 1 }
#define IF(name, props, driver) { name, props, "usb", driver, \
	(driver) ? 1 : 0, 0 }

#define KBD "vid=0627 pid=0001 class=03 subclass=01 protocol=01 if=0 " \
	"speed=full "
#define HUB "vid=0409 pid=55aa class=09 subclass=00 protocol=00 if=0 " \
	"speed=full "
#define STICK "vid=46f4 pid=0001 class=08 subclass=06 protocol=50 if=0 " \
	"speed=high "

TEST(usbtree_lsusb_like)
{
	const struct usbtree_res r[] = {
		IF("usb:1-5-0", KBD "path=pci:00:04.0/usb:5/if:0 "
		    "dev=pci:00:04.0/usb:5", "usb-kbd"),
		IF("usb:1-1.2-0", KBD "path=pci:00:04.0/usb:1.2/if:0 "
		    "dev=pci:00:04.0/usb:1.2", "usb-kbd"),
		IF("usb:1-1.10-0", STICK "path=pci:00:04.0/usb:1.10/if:0 "
		    "dev=pci:00:04.0/usb:1.10", NULL),
		IF("usb:1-1-0", HUB "path=pci:00:04.0/usb:1/if:0 "
		    "dev=pci:00:04.0/usb:1", "usb-hub"),
		HCI("usb-hci:xhci0", "path=pci:00:04.0 ports=8", 1),
	};

	CHECK_STR(tree(r, 5),
	    "usb-hci:xhci0 pci:00:04.0, 8 ports, driver=xhci\n"
	    "  |__ 1-1 if 0: 0409:55aa hub [09.00.00], full speed, "
	    "driver=usb-hub\n"
	    "      |__ 1-1.2 if 0: 0627:0001 HID [03.01.01], full speed, "
	    "driver=usb-kbd\n"
	    "      |__ 1-1.10 if 0: 46f4:0001 mass storage [08.06.50], high "
	    "speed, driver=-\n"
	    "  |__ 1-5 if 0: 0627:0001 HID [03.01.01], full speed, "
	    "driver=usb-kbd\n");
}

TEST(usbtree_two_controllers_and_interfaces)
{
	const struct usbtree_res r[] = {
		HCI("usb-hci:xhci1", "path=pci:00:05.0 ports=4", 1),
		IF("usb:2-3-1", "vid=1234 pid=5678 class=03 subclass=00 "
		    "protocol=00 if=1 speed=super+ dev=pci:00:05.0/usb:3",
		    NULL),
		IF("usb:2-3-0", "vid=1234 pid=5678 class=ff subclass=01 "
		    "protocol=02 if=0 speed=super+ dev=pci:00:05.0/usb:3",
		    "vendor-drv"),
		HCI("usb-hci:xhci0", "path=pci:00:04.0 ports=8", 1),
		/* the old side of a swap in its watch window */
		HCI("usb-hci:xhci0", "path=pci:00:04.0 ports=8", 0),
	};

	CHECK_STR(tree(r, 5),
	    "usb-hci:xhci0 pci:00:04.0, 8 ports, driver=xhci\n"
	    "usb-hci:xhci1 pci:00:05.0, 4 ports, driver=xhci\n"
	    "  |__ 2-3 if 0: 1234:5678 vendor [ff.01.02], super+ speed, "
	    "driver=vendor-drv\n"
	    "  |__ 2-3 if 1: 1234:5678 HID [03.00.00], super+ speed, "
	    "driver=-\n");
}

TEST(usbtree_nothing_and_strays)
{
	const struct usbtree_res hci[] = {
		HCI("usb-hci:xhci0", "ports=8", 0),
	};
	const struct usbtree_res stray[] = {
		HCI("usb-hci:xhci0", "path=pci:00:04.0 ports=8", 1),
		IF("usb:3-1-0", KBD "dev=pci:00:09.0/usb:1", NULL),
		IF("usb:odd", "dev=pci:00:09.0/usb:2", NULL),
	};

	CHECK_STR(tree(NULL, 0), "no USB controllers\n");
	CHECK_STR(tree(hci, 1), "usb-hci:xhci0 xhci0, 8 ports, driver=xhci\n"
	    "no USB devices\n");
	CHECK_STR(tree(stray, 3),
	    "usb-hci:xhci0 pci:00:04.0, 8 ports, driver=xhci\n"
	    "(no controller listed)\n"
	    "  |__ 3-1 if 0: 0627:0001 HID [03.01.01], full speed, "
	    "driver=-\n"
	    "  |__ odd if 0: ?:? class [?.?.?], ? speed, driver=-\n");
}
