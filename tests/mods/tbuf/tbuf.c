/*
 * tbuf - test module: a buffered `tcon`.  Writes land in a ring and a work
 * item flushes them to COM1, so a swap to or from it must carry what is
 * still buffered: the state is the line count plus the unflushed bytes.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"
#include "../../../abi/portio.h"

#define COM1 0x3f8
#define RING 4096

struct state {
	uint32_t lines;
	uint32_t used;
	char buf[RING];
};

static const struct pb_hub *hub;
static struct pb_module *self;
static struct state st;
static int active, flush_queued;

static void
put(char c)
{
	for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
		;
	outb(COM1, (uint8_t)c);
}

static void
flush(void *arg)
{
	flush_queued = 0;
	if (!active)
		return;
	for (uint32_t i = 0; i < st.used; i++) {
		if (i == 0 || st.buf[i - 1] == '\n')
			for (const char *p = "[tbuf] "; *p; p++)
				put(*p);
		if (st.buf[i] == '\n')
			put('\r');
		put(st.buf[i]);
	}
	st.used = 0;
}

static int
tbuf_write(void *ctx, const char *s, size_t len)
{
	if (!active)
		return PB_EBUSY;
	if (st.used + len > RING)
		flush(NULL);
	for (size_t i = 0; i < len && st.used < RING; i++) {
		st.lines += s[i] == '\n';
		st.buf[st.used++] = s[i];
	}
	if (!flush_queued && hub->queue_work(self, flush, NULL) == PB_OK)
		flush_queued = 1;
	return (int)len;
}

static int
tbuf_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = 80;
	*rows = 24;
	return PB_OK;
}

static int
tbuf_clear(void *ctx)
{
	return PB_OK;
}

static const struct console_ops tbuf_ops = { tbuf_write, tbuf_size,
    tbuf_clear };

static int
tbuf_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	self = m;
	hub = h;
	active = mode == PB_START_NORMAL;
	return hub->publish(self, "tcon", "tbuf0", "buffered=4096", &tbuf_ops,
	    NULL) ? PB_OK : PB_ENOMEM;
}

static int
tbuf_quiesce(struct pb_module *m)
{
	active = 0;
	return PB_OK;
}

static int
tbuf_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *ver)
{
	*len = sizeof(st);
	*ver = 2;
	if (buf && cap >= sizeof(st))
		memcpy(buf, &st, sizeof(st));
	return PB_OK;
}

/* Takes tser's version 1 (a line count) or its own version 2. */
static int
tbuf_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	if (ver == 1 && len == sizeof(uint32_t)) {
		memcpy(&st.lines, buf, len);
		st.used = 0;
		return PB_OK;
	}
	if (ver == 2 && len == sizeof(st)) {
		memcpy(&st, buf, len);
		return PB_OK;
	}
	return PB_ESTATE;
}

static int
tbuf_activate(struct pb_module *m)
{
	char msg[64];

	active = 1;
	rt_snprintf(msg, sizeof(msg), "took over with %u lines written\n",
	    (unsigned)st.lines);
	return tbuf_write(NULL, msg, strlen(msg)) > 0 ? PB_OK : PB_EIO;
}

static int
tbuf_resume(struct pb_module *m)
{
	active = 1;
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tbuf_start,
	.quiesce = tbuf_quiesce,
	.export_state = tbuf_export,
	.import_state = tbuf_import,
	.release = tbuf_quiesce,
	.activate = tbuf_activate,
	.resume = tbuf_resume,
};

PB_MODULE(.name = "tbuf", .version = "1.0", .desc = "test: buffered tcon",
    .flags = PB_MOD_HARDWARE, .rank = 5, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tcon", 1, 0) });
