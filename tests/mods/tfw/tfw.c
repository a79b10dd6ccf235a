/*
 * tfw - test module: a `tcon` console over the firmware's ConOut.
 *
 * Lives only in the firmware phase (requires `firmware`); at the takeover
 * the hub swaps it for the best native `tcon` provider, passing the number
 * of lines written so far as the state, so a test can check nothing was
 * lost.  tcon uses the console operations under another interface name,
 * so test modules never compete with the real consoles.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"
#include "../../../abi/firmware.h"

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *fw;
static uint32_t lines;
static int quiet;

static int
tfw_write(void *ctx, const char *s, size_t len)
{
	if (quiet)
		return PB_EBUSY;
	for (size_t i = 0; i < len; i++)
		lines += s[i] == '\n';
	if (PB_CALL(fw, firmware_ops, con_write, "[tfw] ", 6) != PB_OK)
		return PB_EIO;
	return PB_CALL(fw, firmware_ops, con_write, s, len);
}

static int
tfw_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	return PB_CALL(fw, firmware_ops, con_size, cols, rows);
}

static int
tfw_clear(void *ctx)
{
	return PB_CALL(fw, firmware_ops, con_clear);
}

static const struct console_ops tfw_ops = { tfw_write, tfw_size, tfw_clear };

static int
tfw_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	if (!fw)
		return PB_ENOENT;
	return hub->publish(self, "tcon", "tfw0", "kind=firmware", &tfw_ops,
	    NULL) ? PB_OK : PB_ENOMEM;
}

static void
tfw_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (ev == PB_EV_CONNECTED && req == 0)
		fw = c;
	if (ev == PB_EV_DISCONNECTED && c == fw)
		fw = NULL;
}

static int
tfw_quiesce(struct pb_module *m)
{
	quiet = 1;
	return PB_OK;
}

static int
tfw_resume(struct pb_module *m)
{
	quiet = 0;
	return PB_OK;
}

static int
tfw_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *ver)
{
	*len = sizeof(lines);
	*ver = 1;
	if (buf && cap >= sizeof(lines))
		memcpy(buf, &lines, sizeof(lines));
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tfw_start,
	.event = tfw_event,
	.quiesce = tfw_quiesce,
	.resume = tfw_resume,
	.export_state = tfw_export,
};

PB_MODULE(.name = "tfw", .version = "1.0", .desc = "test: tcon over ConOut",
    .flags = PB_MOD_BOOT | PB_MOD_FIRMWARE, .rank = 0, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tcon", 1, 0) },
    .nrequires = 1,
    .requires = { PB_REQUIRE("firmware", 1, 0, PB_CARD_ONE, PB_AT_START) });
