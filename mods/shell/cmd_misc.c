/*
 * cmd_misc.c - echo: commands that need nothing but the hub.
 */
#include "shell.h"
#include "lineedit.h"

int
cmd_echo(int argc, char **argv)
{
	char line[LE_LINE_MAX];
	size_t n = 0;
	int r;

	if (echo_redirect(argc, argv, &r))	/* echo ... > PATH */
		return r;
	/* The words were cut from one line, so they fit in one again. */
	line[0] = '\0';
	for (int i = 1; i < argc && n < sizeof(line); i++)
		n += rt_snprintf(line + n, sizeof(line) - n, "%s%s",
		    i > 1 ? " " : "", argv[i]);
	say("%s", line);
	return PB_OK;
}
