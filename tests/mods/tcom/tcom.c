/*
 * tcom - test module: a second, deliberately plain driver for COM1 that
 * provides `console` and `keyboard`, so the serial console can be swapped
 * both ways under the shell.  Output waits on LSR.THRE (bounded); input is
 * read from RBR when a client asks for a key, bytes passed on as they
 * come (CR is Enter, DEL is backspace).  Its state is struct console_state:
 * it takes over the unread keys and hands back its own.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"
#include "../../../abi/portio.h"

#define COM1 0x3f8
#define LSR_DR 0x01
#define LSR_THRE 0x20

static const struct pb_hub *hub;
static struct pb_module *self;
static struct key_event keys[CONSOLE_STATE_KEYS];
static unsigned nkeys;
static int active;

static void
put(char c)
{
	for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & LSR_THRE); spin++)
		;
	outb(COM1, (uint8_t)c);
}

static int
tcom_write(void *ctx, const char *s, size_t len)
{
	if (!active)
		return PB_EBUSY;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
	return (int)len;
}

static int
tcom_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = 80;
	*rows = 24;
	return PB_OK;
}

static int
tcom_clear(void *ctx)
{
	return tcom_write(ctx, "\033[2J\033[H", 7) > 0 ? PB_OK : PB_EBUSY;
}

static struct key_event
key_of(uint8_t c)
{
	return (struct key_event){ .code = c == 0x7f ? 0x08 : c, .pressed = 1 };
}

static int
tcom_read(void *ctx, struct key_event *ev)
{
	if (nkeys) {		/* handed over by the previous driver */
		*ev = keys[0];
		memmove(keys, keys + 1, --nkeys * sizeof(keys[0]));
		return PB_OK;
	}
	if (!active || !(inb(COM1 + 5) & LSR_DR))
		return PB_EAGAIN;
	*ev = key_of(inb(COM1));
	return PB_OK;
}

static int
tcom_leds(void *ctx, uint16_t leds)
{
	return PB_ENOTSUP;
}

static const struct console_ops con_ops = { tcom_write, tcom_size,
    tcom_clear };
/* No notify: a plain driver its clients poll. */
static const struct keyboard_ops kbd_ops = { tcom_read, tcom_leds, NULL };

static int
tcom_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	active = mode == PB_START_NORMAL;
	if (!hub->publish(self, "console", "tcom0", "port=0x3f8 plain=yes",
	    &con_ops, NULL) ||
	    !hub->publish(self, "keyboard", "tcom0", "port=0x3f8 plain=yes",
	    &kbd_ops, NULL))
		return PB_ENOMEM;
	return PB_OK;
}

static int
tcom_quiesce(struct pb_module *m)
{
	/* What waits in the UART is a key typed: keep it for the export. */
	while (active && nkeys < CONSOLE_STATE_KEYS && (inb(COM1 + 5) & LSR_DR))
		keys[nkeys++] = key_of(inb(COM1));
	active = 0;
	return PB_OK;
}

static int
tcom_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *ver)
{
	struct console_state st = { .cols = 80, .rows = 24, .nkeys = nkeys };

	*len = sizeof(st);
	*ver = CONSOLE_STATE_VERSION;
	if (!buf)
		return PB_OK;
	if (cap < sizeof(st))
		return PB_EINVAL;
	memcpy(st.keys, keys, nkeys * sizeof(keys[0]));
	memcpy(buf, &st, sizeof(st));
	return PB_OK;
}

static int
tcom_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	struct console_state st;

	if (ver != CONSOLE_STATE_VERSION || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (st.nkeys > CONSOLE_STATE_KEYS || len != sizeof(st) + st.text_len)
		return PB_ESTATE;
	nkeys = st.nkeys;
	memcpy(keys, st.keys, nkeys * sizeof(keys[0]));
	return PB_OK;
}

static int
tcom_activate(struct pb_module *m)
{
	active = 1;
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tcom_start, .quiesce = tcom_quiesce,
	.export_state = tcom_export, .import_state = tcom_import,
	.release = tcom_quiesce, .activate = tcom_activate,
	.resume = tcom_activate,
};

PB_MODULE(.name = "tcom", .version = "1.0",
    .desc = "test: a plain COM1 console and keyboard",
    .flags = PB_MOD_HARDWARE, .rank = 0, .ops = &ops,
    .nprovides = 2, .provides = { PB_PROVIDE("console", 1, 0),
	PB_PROVIDE("keyboard", 1, 0) });
