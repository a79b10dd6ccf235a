/*
 * tbad - test module: a `tcon` provider whose import_state always fails,
 * so swapping to it must roll back: the old provider resumes and its
 * clients never notice.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/console.h"

static int
tbad_write(void *ctx, const char *s, size_t len)
{
	return PB_EIO;
}

static const struct console_ops tbad_ops = { .write = tbad_write };

static int
tbad_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	return hub->publish(m, "tcon", "tbad0", "", &tbad_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static int
tbad_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	return PB_ESTATE;
}

static const struct pb_module_ops ops = {
	.start = tbad_start,
	.import_state = tbad_import,
};

PB_MODULE(.name = "tbad", .version = "1.0", .desc = "test: fails to import",
    .flags = PB_MOD_HARDWARE, .rank = 1, .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tcon", 1, 0) });
