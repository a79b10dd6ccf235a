/*
 * shell - the `os` the hub boots to: a command line on every console.
 *
 * Output goes to every console (PB_CARD_ALL, needed at start), input comes
 * from any keyboard (PB_CARD_ALL, whenever one appears), the firmware's
 * runtime services, when there are any, reboot, power off and tell the
 * date, and every disk (PB_CARD_ALL, whenever one appears) is there for
 * the disk commands.  Every file system volume (`fs`, PB_CARD_ALL,
 * whenever one appears) has a place in the shell's tree (mounts.c).
 * The hub's log (`log`, optional) is shown on the consoles by the shell
 * as its reader (logview.c).  Consoles and keyboards come and go (the takeover swaps the firmware
 * console for fbcon and serial; USB keyboards are plugged in), so the
 * shell keeps only the connections the hub hands it and calls through
 * them afresh each time.
 */
#include "shell.h"
#include "../../abi/block.h"
#include "../../abi/firmware.h"
#include "../../abi/fs.h"
#include "../../abi/os.h"

const struct pb_hub *shell_hub;
struct pb_module *shell_self;
static struct pb_resource *os_res;

/* os 1.0: other modules run a command line as if it had been typed. */
static int
os_run(void *ctx, const char *line)
{
	(void)ctx;
	return line ? session_run(line) : PB_EINVAL;
}

static const struct os_ops os_ops = { .run = os_run };

/* The inventory shows how many consoles and keyboards the shell serves. */
void
shell_props_changed(void)
{
	char props[64];

	if (!os_res)
		return;
	rt_snprintf(props, sizeof(props), "consoles=%u keyboards=%u",
	    consoles_count(), keyboards_count());
	shell_hub->set_props(shell_self, os_res, props);
}

static int
shell_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	int r;

	rt_use_hub(h);
	(void)mode;	/* nothing to swap: standby is the same start */
	shell_self = m;
	shell_hub = h;
	os_res = h->publish(m, OS_IFACE, "shell0", "", &os_ops, NULL);
	if (!os_res)
		return PB_ENOMEM;
	shell_props_changed();
	logview_start();
	if ((r = poll_start()) != PB_OK)
		return r;
	pb_logf(h, m, PB_LOG_INFO, "on %u consoles, %u keyboards",
	    consoles_count(), keyboards_count());
	return PB_OK;
}

static void
shell_stop(struct pb_module *m)
{
	(void)m;
	poll_stop();
	logview_stop();
	logfile_forget();
	session_end();
	/* The hub closes our connections without telling: none may be
	 * called again if we are started anew. */
	consoles_forget();
	keyboards_forget();
	firmware_forget();
	disks_forget();
	mounts_forget();
	jobs_forget();
	os_res = NULL;		/* the hub withdraws it */
}

/* Connections for requirement `req` come, go, or lead somewhere else. */
static void
shell_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	switch (req) {
	case REQ_CONSOLE:
		consoles_event(ev, c);
		break;
	case REQ_KEYBOARD:
		keyboards_event(ev, c);
		break;
	case REQ_FIRMWARE_RT:
		firmware_event(ev, c);
		break;
	case REQ_BLOCK:
		disks_event(ev, c);
		break;
	case REQ_FS:
		mounts_event(ev, c);
		break;
	case REQ_LOG:
		logview_event(ev, c);
		break;
	}
}

static const struct pb_module_ops ops = {
	.start = shell_start,
	.stop = shell_stop,
	.event = shell_event,
};

PB_MODULE(.name = "shell", .version = "1.0",
    .desc = "the command line on every console",
    .rank = 0, .flags = 0, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE(OS_IFACE, OS_MAJOR, OS_MINOR) },
    .nrequires = 6,
    .requires = {
	[REQ_CONSOLE] = PB_REQUIRE(CONSOLE_IFACE, CONSOLE_MAJOR, CONSOLE_MINOR,
	    PB_CARD_ALL, PB_AT_START),
	/* 1.0: a keyboard that cannot notify is polled (poll.c). */
	[REQ_KEYBOARD] = PB_REQUIRE(KEYBOARD_IFACE, KEYBOARD_MAJOR, 0,
	    PB_CARD_ALL, PB_LATER),
	[REQ_FIRMWARE_RT] = PB_REQUIRE("firmware-rt", FIRMWARE_MAJOR,
	    FIRMWARE_MINOR, PB_CARD_OPTIONAL, PB_AT_START),
	/* Every disk, whenever it comes (cmd_disk.c). */
	[REQ_BLOCK] = PB_REQUIRE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR,
	    PB_CARD_ALL, PB_LATER),
	/* Every volume, as they come and go (mounts.c). */
	[REQ_FS] = PB_REQUIRE(FS_IFACE, FS_MAJOR, FS_MINOR, PB_CARD_ALL,
	    PB_LATER),
	/* The hub's log: the shell shows it on the consoles (logview.c). */
	[REQ_LOG] = PB_REQUIRE(LOG_IFACE, LOG_MAJOR, LOG_MINOR,
	    PB_CARD_OPTIONAL, PB_AT_START),
    });
