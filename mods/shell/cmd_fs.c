/*
 * cmd_fs.c - ls and cat, through a file system provider.
 *
 * There is no `fs` interface yet (no abi/fs.h).  When there is, the shell
 * requires `fs` PB_CARD_OPTIONAL PB_LATER, keeps the connection from its
 * events, and fs() below returns it; until then both commands answer that
 * there is no file system.
 */
#include "shell.h"

/* The file system connection, NULL while none exists. */
static struct pb_conn *
fs(void)
{
	return NULL;
}

static int
no_fs(const char *cmd)
{
	return fail("%s: no file system (no fs provider)", cmd);
}

int
cmd_ls(int argc, char **argv)
{
	(void)argc;
	if (!fs())
		return no_fs(argv[0]);
	return PB_ENOTSUP;
}

int
cmd_cat(int argc, char **argv)
{
	(void)argc;
	if (!fs())
		return no_fs(argv[0]);
	return PB_ENOTSUP;
}
