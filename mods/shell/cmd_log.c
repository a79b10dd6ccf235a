/*
 * cmd_log.c - `log`: the hub's log as it is kept, read through `log:hub`
 * (abi/log.h), quiet lines included.
 */
#include "shell.h"

int
cmd_log(int argc, char **argv)
{
	char text[LOG_FORMAT_MAX];
	struct log_line l;
	size_t n;

	(void)argc;
	if (log_read(0, &l) != PB_OK)
		return fail("%s: no log", argv[0]);
	do {
		n = log_format(&l, text, sizeof(text));
		text[n - 1] = '\0';	/* say adds the newline */
		say("%s", text);
	} while (log_read(l.seq + 1, &l) == PB_OK);
	return PB_OK;
}
