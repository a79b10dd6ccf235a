/*
 * cmd_usb.c - `usb`: the USB controllers and the interfaces of every
 * device on them, like `lsusb -t`, each with its bound class driver (the
 * resource's client), from the hub's inventory of `usb-hci` and `usb`
 * resources (usbtree.c makes the lines).
 */
#include "shell.h"
#include "usbtree.h"

static void
line_out(void *arg, const char *line)
{
	(void)arg;
	say("%s", line);
}

int
cmd_usb(int argc, char **argv)
{
	struct usbtree_res r[USBTREE_MAX];
	struct pb_res_info ri;
	unsigned n = 0;

	(void)argc;
	(void)argv;
	for (unsigned i = 0; n < USBTREE_MAX; i++) {
		if (shell_hub->res_info(NULL, i, &ri) != PB_OK)
			break;
		if (strcmp(ri.iface, "usb-hci") != 0 &&
		    strcmp(ri.iface, "usb") != 0)
			continue;
		r[n++] = (struct usbtree_res){ .name = ri.name,
		    .props = ri.props ? ri.props : "", .owner = ri.owner,
		    .client = ri.client, .clients = ri.clients,
		    .hci = strcmp(ri.iface, "usb-hci") == 0 };
	}
	usbtree(r, n, line_out, NULL);
	return PB_OK;
}
