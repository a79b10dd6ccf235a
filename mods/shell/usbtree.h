/*
 * usbtree.h - the `usb` command's tree, like `lsusb -t`, made from the
 * `usb-hci` and `usb` resources' properties alone (abi/usb.h): a pure
 * function, so the host tests check its lines.
 *
 *   usb-hci:xhci0 pci:00:04.0, 8 ports, driver=xhci
 *     |__ 1-1 if 0: 0409:55aa hub [09.00.00], full speed, driver=usb-hub
 *         |__ 1-1.2 if 0: 0627:0001 HID [03.01.01], full speed,
 *             driver=usb-kbd
 *
 * (the last line is one line).  A device sits under the controller whose
 * path= its dev= begins with, indented by its depth; devices in port
 * order, then interfaces.  "no USB controllers" / "no USB devices" when
 * there are none.
 */
#ifndef PB_SHELL_USBTREE_H
#define PB_SHELL_USBTREE_H

#include <stddef.h>

#define USBTREE_MAX 64		/* resources shown */

/* One resource, as the hub's inventory gives it. */
struct usbtree_res {
	const char *name;	/* "usb:1-5.2-0", "usb-hci:xhci0" */
	const char *props;
	const char *owner;	/* the provider's module */
	const char *client;	/* the first client's module, or NULL */
	unsigned clients;
	int hci;		/* a `usb-hci` resource (else `usb`) */
};

typedef void (*usbtree_line_fn)(void *arg, const char *line);

/* The tree of the n resources of r, one line at a time. */
void usbtree(const struct usbtree_res *r, unsigned n, usbtree_line_fn line,
    void *arg);

#endif
