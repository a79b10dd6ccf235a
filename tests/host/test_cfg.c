/*
 * test_cfg.c - boot settings (hub/cfg.c): `key=value` lines, the last
 * value wins, bare keys, comments, whitespace and CRLF line ends.
 */
#include <string.h>

#include "check.h"
#include "../../hub/cfg.h"

static char buf[300];

static const char *
get(const char *cfg, const char *key)
{
	memset(buf, 'X', sizeof(buf));
	return cfg_get(cfg, key, buf, sizeof(buf));
}

static const char *
nth(const char *cfg, const char *key, unsigned n)
{
	memset(buf, 'X', sizeof(buf));
	return cfg_get_nth(cfg, key, n, buf, sizeof(buf));
}

TEST(cfg_get_values)
{
	CHECK_STR(get("target=os\n", "target"), "os");
	CHECK_STR(get("target=os", "target"), "os");	/* no final newline */
	CHECK_STR(get("a=1\nb=2\nc=3\n", "b"), "2");
	CHECK_STR(get("exec=mods res\n", "exec"), "mods res");
	CHECK_STR(get("exec=set a=b\n", "exec"), "set a=b");	/* first = */
	CHECK_STR(get("font-scale=2\n", "font-scale"), "2");
	CHECK(get("target=os\n", "poweroff") == NULL);
	CHECK(get("", "target") == NULL);
	CHECK(get("\n\n\n", "target") == NULL);
	/* The value goes to the caller's buffer. */
	CHECK(get("target=os\n", "target") == buf);
}

TEST(cfg_get_last_wins)
{
	CHECK_STR(get("target=os\ntarget=shell\n", "target"), "shell");
	CHECK_STR(get("target=os\nx=1\ntarget=shell\ny=2\n", "target"),
	    "shell");
	CHECK_STR(get("takeover=yes\ntakeover=no", "takeover"), "no");
	/* Last wins also over a bare key, and the other way round. */
	CHECK_STR(get("poweroff\npoweroff=later\n", "poweroff"), "later");
	CHECK_STR(get("poweroff=later\npoweroff\n", "poweroff"), "");
}

TEST(cfg_bare_keys)
{
	CHECK_STR(get("poweroff\n", "poweroff"), "");
	CHECK_STR(get("poweroff", "poweroff"), "");
	CHECK_STR(get("poweroff=\n", "poweroff"), "");
	CHECK_STR(get("a=1\npoweroff\nb=2\n", "poweroff"), "");
}

TEST(cfg_keys_match_whole)
{
	CHECK(get("targets=x\n", "target") == NULL);
	CHECK(get("target=x\n", "targets") == NULL);
	CHECK(get("target=x\n", "targ") == NULL);
	CHECK(get("xtarget=x\n", "target") == NULL);
	CHECK_STR(get("targets=x\ntarget=y\ntargetx=z\n", "target"), "y");
	CHECK(get("Target=x\n", "target") == NULL);	/* case matters */
}

TEST(cfg_comments)
{
	CHECK(get("# target=x\n", "target") == NULL);
	CHECK(get("#target=x\n", "target") == NULL);
	CHECK(get("  \t# target=x\n", "target") == NULL);
	CHECK_STR(get("target=os\n# target=x\n", "target"), "os");
	CHECK_STR(get("# header\ntarget=os\n#\n", "target"), "os");
	CHECK(get("#poweroff\n", "poweroff") == NULL);
}

TEST(cfg_whitespace_and_crlf)
{
	CHECK_STR(get("  target=os\n", "target"), "os");
	CHECK_STR(get("\ttarget=os\n", "target"), "os");
	CHECK_STR(get("target=os  \t\n", "target"), "os");
	CHECK_STR(get(" \t target=os \t \r\n", "target"), "os");
	CHECK_STR(get("a=1\r\nb=2\r\n", "a"), "1");
	CHECK_STR(get("a=1\r\nb=2\r\n", "b"), "2");
	CHECK_STR(get("a=1\r\nb=2", "b"), "2");
	CHECK_STR(get("poweroff\r\n", "poweroff"), "");
	CHECK_STR(get("poweroff \r\n", "poweroff"), "");
	CHECK_STR(get("exec=mods  res \r\n", "exec"), "mods  res");
	CHECK_STR(get("\r\n  \r\n\ttarget=os\r\n", "target"), "os");
	CHECK_STR(get("# c\r\ntarget=os\r\n", "target"), "os");
}

TEST(cfg_value_truncated_to_buffer)
{
	char small[4];

	CHECK_STR(cfg_get("target=abcdef\n", "target", small, sizeof(small)),
	    "abc");
	CHECK_STR(cfg_get_nth("x=1\nx=123456\n", "x", 1, small, sizeof(small)),
	    "123");
}

/* A line longer than the parser's line buffer does not spill into the
 * next one. */
TEST(cfg_long_line)
{
	char cfg[700];
	const char *v;

	memset(cfg, 0, sizeof(cfg));
	strcpy(cfg, "exec=");
	memset(cfg + 5, 'a', 400);
	strcat(cfg, "\ntarget=os\nexec=b\n");
	CHECK_STR(get(cfg, "target"), "os");
	v = nth(cfg, "exec", 0);
	REQUIRE(v != NULL);
	CHECK(strlen(v) >= 200 && strspn(v, "a") == strlen(v));
	CHECK_STR(nth(cfg, "exec", 1), "b");
	CHECK(nth(cfg, "exec", 2) == NULL);
}

TEST(cfg_get_nth)
{
	const char *cfg = "exec=mods\ntarget=os\nexec=res\n# exec=no\n"
	    "  exec=mem  \r\nexec\n";

	CHECK_STR(nth(cfg, "exec", 0), "mods");
	CHECK_STR(nth(cfg, "exec", 1), "res");
	CHECK_STR(nth(cfg, "exec", 2), "mem");
	CHECK_STR(nth(cfg, "exec", 3), "");
	CHECK(nth(cfg, "exec", 4) == NULL);
	CHECK(nth(cfg, "exec", 100) == NULL);
	CHECK_STR(nth(cfg, "target", 0), "os");
	CHECK(nth(cfg, "target", 1) == NULL);
	CHECK(nth(cfg, "poweroff", 0) == NULL);
	CHECK(nth("", "exec", 0) == NULL);
	/* cfg_get is the last of them. */
	CHECK_STR(get(cfg, "exec"), "");
}
