/*
 * logfmt.c - a line of the hub's log as the consoles show it (abi/log.h):
 * the one format the hub's own writers, the shell and log.txt share.
 */
#include "../log.h"
#include "rt.h"

size_t
log_format(const struct log_line *l, char *buf, size_t cap)
{
	uint64_t us = l->ns / 1000;
	int n;

	if (cap < 2)
		return 0;
	if (l->kind == LOG_OUTPUT)
		n = rt_snprintf(buf, cap, "%s\n", l->text);
	else
		n = rt_snprintf(buf, cap, "[%5u.%06u] %s%s\n",
		    (unsigned)(us / 1000000), (unsigned)(us % 1000000),
		    log_is_error(l) ? "error: " : "", l->text);
	if (n < 0)
		n = 0;
	if ((size_t)n >= cap) {		/* cut, but still one whole line */
		n = (int)cap - 1;
		buf[n - 1] = '\n';
	}
	return (size_t)n;
}
