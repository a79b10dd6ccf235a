/*
 * tser - test module: a native `tcon` console writing to COM1 by port I/O.
 *
 * Outranks tfw, so the takeover swaps tfw for it; implements every swap
 * entry point, so it can also be swapped for tbuf and back.  Its state is
 * the count of lines written through `tcon` since the boot, carried from
 * provider to provider; it prints the count it imported so a test can
 * check that none was lost.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"
#include "../../../abi/portio.h"

#define COM1 0x3f8

static const struct pb_hub *hub;
static struct pb_module *self;
static uint32_t lines;
static int active;		/* owns the port */

static void
put(char c)
{
	for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
		;
	outb(COM1, (uint8_t)c);
}

static int
tser_write(void *ctx, const char *s, size_t len)
{
	if (!active)
		return PB_EBUSY;
	for (const char *p = "[tser] "; *p; p++)
		put(*p);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			put('\r');
			lines++;
		}
		put(s[i]);
	}
	return (int)len;
}

static int
tser_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = 80;
	*rows = 24;
	return PB_OK;
}

static int
tser_clear(void *ctx)
{
	return tser_write(ctx, "\033[2J", 4);
}

static const struct console_ops tser_ops = { tser_write, tser_size,
    tser_clear };

static int
tser_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	active = mode == PB_START_NORMAL;
	return hub->publish(self, "tcon", "tser0", "port=0x3f8", &tser_ops,
	    NULL) ? PB_OK : PB_ENOMEM;
}

static int
tser_quiesce(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

static int
tser_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *ver)
{
	*len = sizeof(lines);
	*ver = 1;
	if (buf && cap >= sizeof(lines))
		memcpy(buf, &lines, sizeof(lines));
	return PB_OK;
}

/*
 * Version 1 is our own line count; version 2 is tbuf's count followed by
 * the bytes it had not flushed yet, which we print on activate.
 */
static const char *pending;
static uint32_t npending;

static int
tser_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	if (len < sizeof(lines) || ver < 1 || ver > 2)
		return PB_ESTATE;
	memcpy(&lines, buf, sizeof(lines));
	if (ver == 2) {
		memcpy(&npending, (const char *)buf + 4, sizeof(npending));
		if (npending > len - 8)
			return PB_ESTATE;
		pending = (const char *)buf + 8;
	}
	return PB_OK;
}

static int
tser_activate(struct pb_module *m)
{
	char msg[64];

	active = 1;
	if (npending) {		/* tbuf counted these lines already */
		uint32_t counted = lines;

		tser_write(NULL, pending, npending);
		lines = counted;
	}
	npending = 0;
	rt_snprintf(msg, sizeof(msg), "took over with %u lines written\n",
	    (unsigned)lines);
	tser_write(NULL, msg, strlen(msg));
	return PB_OK;
}

static int
tser_resume(struct pb_module *m)
{
	active = 1;
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tser_start,
	.quiesce = tser_quiesce,
	.export_state = tser_export,
	.import_state = tser_import,
	.release = tser_quiesce,
	.activate = tser_activate,
	.resume = tser_resume,
};

PB_MODULE(.name = "tser", .version = "1.0", .desc = "test: tcon on COM1",
    .flags = PB_MOD_HARDWARE, .rank = 10, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tcon", 1, 0) });
