/*
 * tusbkbd-absent - test module: a native keyboard driver whose device is
 * not there, ranked above serial (10) so the takeover chooses it for the
 * firmware's keyboard, as it would choose serial on a PC without COM1 or
 * ps2 on one without an 8042: it starts in standby for the swap, takes
 * the state, and declines once it looks for its device after the exit.
 * The keys typed before the exit then wait in the hub (hub/kbdhold.c)
 * for the first native keyboard that starts (tests/scenario/
 * test_usbkbd.py).
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/keyboard.h"

static const struct pb_hub *hub;
static struct pb_module *self;

static int
absent_read(void *ctx, struct key_event *ev)
{
	return PB_EAGAIN;
}

static int
absent_set_leds(void *ctx, uint16_t leds)
{
	return PB_EBUSY;
}

static const struct keyboard_ops absent_ops = {
	.read = absent_read,
	.set_leds = absent_set_leds,
};

static int
absent_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	hub = h;
	self = m;
	if (mode != PB_START_STANDBY) {
		pb_logf(h, m, PB_LOG_INFO, "no keyboard here: declining");
		return PB_ENODEV;
	}
	return h->publish(m, KEYBOARD_IFACE, "absent0", "", &absent_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static int
absent_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return PB_OK;
}

static int
absent_activate(struct pb_module *m)
{
	pb_logf(hub, self, PB_LOG_INFO, "no keyboard here: declining");
	return PB_ENODEV;
}

static const struct pb_module_ops ops = {
	.start = absent_start,
	.import_state = absent_import,
	.activate = absent_activate,
};

PB_MODULE(.name = "tusbkbd-absent", .version = "1.0",
    .desc = "test: a keyboard driver without its device",
    .flags = PB_MOD_HARDWARE, .rank = 11, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(KEYBOARD_IFACE, KEYBOARD_MAJOR, KEYBOARD_MINOR) });
