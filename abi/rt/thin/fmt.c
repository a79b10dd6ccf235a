/*
 * thin/fmt.c - rt_vsnprintf for in-tree modules: the hub's formatter
 * (pb_hub.vformat, ABI 1.4) instead of a copy of fmt.c in every image.
 * fmt.c is about 1.8 KiB of code, and a module's code rounds up to whole
 * pages: thirteen copies were about seven pages of the drivers' memory.
 *
 * The module names the hub in start (rt_use_hub) before it formats; the
 * hub runs the formatter in the caller's domain, and a fault in it (a bad
 * %s pointer) is the caller's, as it was in its own copy.
 */
#include "../../pb.h"
#include "../rt.h"

static int (*vformat)(char *, size_t, const char *, va_list);

void
rt_use_hub(const struct pb_hub *hub)
{
	if (hub->size >= offsetof(struct pb_hub, vformat) +
	    sizeof(hub->vformat))
		vformat = hub->vformat;
}

int
rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	static const char none[] = "(no formatter: rt_use_hub not called)";

	if (vformat)
		return vformat(buf, size, fmt, ap);
	/* Visible, never a crash: the text says what is wrong. */
	if (size)
		rt_strlcpy(buf, none, size);
	return (int)sizeof(none) - 1;
}
