/*
 * cmd_misc.c - echo and uptime: commands that need nothing but the hub.
 */
#include "shell.h"
#include "lineedit.h"

int
cmd_echo(int argc, char **argv)
{
	char line[LE_LINE_MAX];
	size_t n = 0;

	/* The words were cut from one line, so they fit in one again. */
	line[0] = '\0';
	for (int i = 1; i < argc && n < sizeof(line); i++)
		n += rt_snprintf(line + n, sizeof(line) - n, "%s%s",
		    i > 1 ? " " : "", argv[i]);
	say("%s", line);
	return PB_OK;
}

int
cmd_uptime(int argc, char **argv)
{
	uint64_t ms = shell_hub->now_ns() / 1000000;
	uint64_t s = ms / 1000;

	(void)argc, (void)argv;
	say("up %llu:%02llu:%02llu (%llu.%03llu s)",
	    (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
	    (unsigned long long)(s % 60), (unsigned long long)s,
	    (unsigned long long)(ms % 1000));
	return PB_OK;
}
