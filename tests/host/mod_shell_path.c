/*
 * mod_shell_path.c - the shell's paths (mods/shell/path.c) on the host:
 * where a path lands against the current directory, "." and ".." taken
 * lexically, and how it splits into a mount point and the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/path.c"

static const char *
resolve(const char *cwd, const char *arg)
{
	static char out[FS_PATH_MAX];
	int r = path_resolve(cwd, arg, out, sizeof(out));

	return r == PB_OK ? out : r == PB_ENOENT ? "ENOENT" : "EINVAL";
}

TEST(path_resolve_absolute_and_relative)
{
	CHECK_STR(resolve("/", "/esp"), "/esp");
	CHECK_STR(resolve("/", "esp"), "/esp");
	CHECK_STR(resolve("/esp/a", "b/c"), "/esp/a/b/c");
	CHECK_STR(resolve("/esp/a", "/DATA/x"), "/DATA/x");
	CHECK_STR(resolve("/esp", "."), "/esp");
	CHECK_STR(resolve("/esp", "./"), "/esp");
	CHECK_STR(resolve("/", "//esp///a//"), "/esp/a");
	CHECK_STR(resolve("/", ""), "ENOENT");
	CHECK_STR(resolve("/esp", "a b/c"), "/esp/a b/c");
	CHECK_STR(resolve("/esp", ".hidden/..x"), "/esp/.hidden/..x");
}

TEST(path_resolve_dot_dot_lexically)
{
	CHECK_STR(resolve("/esp/a/b", ".."), "/esp/a");
	CHECK_STR(resolve("/esp/a/b", "../.."), "/esp");
	CHECK_STR(resolve("/esp/a/b", "../../.."), "/");
	CHECK_STR(resolve("/esp/a/b", "../../../../.."), "/");
	CHECK_STR(resolve("/", ".."), "/");
	CHECK_STR(resolve("/esp", "x/../y/./z/.."), "/esp/y");
	CHECK_STR(resolve("/esp", "/../esp/../DATA"), "/DATA");
	CHECK_STR(resolve("/", "/esp/nothere/../file"), "/esp/file");
}

TEST(path_resolve_too_long)
{
	char big[FS_PATH_MAX + 8], out[16];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '/';
	CHECK_STR(resolve("/", big), "EINVAL");
	/* Every step must fit, even one that a later ".." takes back. */
	CHECK_EQ_INT(path_resolve("/", "/esp/aaaaaaaaaaaaaaaaaaaa/..", out,
	    sizeof(out)), PB_EINVAL);
	CHECK_EQ_INT(path_resolve("/esp/aaaaaaaaaa", "..", out, sizeof(out)),
	    PB_OK);
	CHECK_STR(out, "/esp");
	CHECK_EQ_INT(path_resolve("/", "/esp/abcdefghijk", out, sizeof(out)),
	    PB_EINVAL);
	CHECK_EQ_INT(path_resolve("/", "/esp/abcdefghij", out, sizeof(out)),
	    PB_OK);
	CHECK_EQ_INT(path_resolve("/esp/abcdefghij", "x", out, sizeof(out)),
	    PB_EINVAL);
}

TEST(path_split_mount_and_rest)
{
	char mnt[8];
	const char *rest;

	REQUIRE(path_split("/esp/a/b", mnt, sizeof(mnt), &rest) == PB_OK);
	CHECK_STR(mnt, "esp");
	CHECK_STR(rest, "a/b");
	REQUIRE(path_split("/esp", mnt, sizeof(mnt), &rest) == PB_OK);
	CHECK_STR(mnt, "esp");
	CHECK_STR(rest, "");
	REQUIRE(path_split("/", mnt, sizeof(mnt), &rest) == PB_OK);
	CHECK_STR(mnt, "");
	CHECK_STR(rest, "");
	CHECK_EQ_INT(path_split("/longername/x", mnt, sizeof(mnt), &rest),
	    PB_ENOENT);
}

TEST(path_base_and_join)
{
	char out[32];

	CHECK_STR(path_base("/esp/a/b.txt"), "b.txt");
	CHECK_STR(path_base("/esp"), "esp");
	CHECK_STR(path_base("/"), "");
	CHECK_EQ_INT(path_join("/esp/d", "f", out, sizeof(out)), PB_OK);
	CHECK_STR(out, "/esp/d/f");
	CHECK_EQ_INT(path_join("/", "esp", out, sizeof(out)), PB_OK);
	CHECK_STR(out, "/esp");
	CHECK_EQ_INT(path_join("/esp/a-long-directory-name", "file.txt", out,
	    sizeof(out)), PB_EINVAL);
}
