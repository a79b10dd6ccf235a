/*
 * test_match.c - interface/version matching and property patterns
 * (hub/match.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../hub/match.h"

static struct pb_provide
prov(const char *iface, uint16_t ma, uint16_t mi, const char *base,
    uint16_t bma, uint16_t bmi)
{
	struct pb_provide p;

	memset(&p, 0, sizeof(p));
	strncpy(p.iface, iface, sizeof(p.iface));
	if (base)
		strncpy(p.extends, base, sizeof(p.extends));
	p.major = ma, p.minor = mi, p.ext_major = bma, p.ext_minor = bmi;
	return p;
}

TEST(match_iface_versions)
{
	struct pb_provide p = prov("console", 1, 3, NULL, 0, 0);

	CHECK(iface_serves(&p, "console", 1, 0));
	CHECK(iface_serves(&p, "console", 1, 3));
	CHECK(!iface_serves(&p, "console", 1, 4));	/* minor too new */
	CHECK(!iface_serves(&p, "console", 2, 0));	/* other major */
	CHECK(!iface_serves(&p, "console", 0, 9));
	CHECK(!iface_serves(&p, "consol", 1, 0));
	CHECK(!iface_serves(&p, "consoles", 1, 0));
	CHECK(!iface_serves(&p, "", 0, 0));
	CHECK(!iface_serves(&p, NULL, 1, 0));
}

/* A new major that still serves the old clients, `display 2.1 extends
 * display 1.3`. */
TEST(match_iface_extends_same_name)
{
	struct pb_provide p = prov("display", 2, 1, "display", 1, 3);

	CHECK(iface_serves(&p, "display", 2, 0));
	CHECK(iface_serves(&p, "display", 2, 1));
	CHECK(!iface_serves(&p, "display", 2, 2));
	CHECK(iface_serves(&p, "display", 1, 0));
	CHECK(iface_serves(&p, "display", 1, 3));
	CHECK(!iface_serves(&p, "display", 1, 4));
	CHECK(!iface_serves(&p, "display", 3, 0));
}

TEST(match_iface_extends_base)
{
	struct pb_provide p = prov("block-part", 1, 0, "block", 1, 2);
	struct pb_provide q = prov("block", 1, 2, NULL, 0, 0);

	CHECK(iface_serves(&p, "block-part", 1, 0));
	CHECK(iface_serves(&p, "block", 1, 0));
	CHECK(iface_serves(&p, "block", 1, 2));
	CHECK(!iface_serves(&p, "block", 1, 3));
	CHECK(!iface_serves(&p, "block", 2, 0));
	/* The base does not serve the extension. */
	CHECK(!iface_serves(&q, "block-part", 1, 0));
	/* No `extends`: an empty base never matches. */
	CHECK(!iface_serves(&q, "", 0, 0));
}

/* Names that fill their field leave no NUL; nothing may read past it. */
TEST(match_iface_full_width_names)
{
	struct pb_provide *p = malloc(sizeof(*p));

	REQUIRE(p != NULL);
	memset(p, 0, sizeof(*p));
	memcpy(p->iface, "abcdefghijklmnop", PB_IFACE_MAX);
	memcpy(p->extends, "ABCDEFGHIJKLMNOP", PB_IFACE_MAX);
	p->major = 1;
	CHECK(!iface_serves(p, "abcdefghijklmnop", 1, 0));	/* 16 > 15 */
	CHECK(!iface_serves(p, "abcdefghijklmnopq", 1, 0));
	CHECK(!iface_serves(p, "abcdefghijklmno", 1, 0));
	memcpy(p->iface, "abcdefghijklmno", PB_IFACE_MAX);	/* 15 + NUL */
	CHECK(iface_serves(p, "abcdefghijklmno", 1, 0));
	free(p);
}

TEST(match_props_empty_pattern)
{
	CHECK(props_match("", "class=01.06.01"));
	CHECK(props_match("", ""));
	CHECK(props_match("   ", "a=b"));
	CHECK(props_match(NULL, "a=b"));
	CHECK(props_match(NULL, NULL));
	CHECK(!props_match("a=b", ""));
	CHECK(!props_match("a=b", NULL));
}

TEST(match_props_pairs)
{
	const char *props = "vendor=8086 device=2922 class=01.06.01";

	CHECK(props_match("class=01.06.01", props));
	CHECK(props_match("vendor=8086 class=01.06.01", props));
	CHECK(props_match("class=01.06.01 vendor=8086", props)); /* any order */
	CHECK(!props_match("class=01.06.01 vendor=1af4", props));
	CHECK(!props_match("class=01.06.02", props));
	CHECK(!props_match("subclass=01", props));
	/* Values compare whole, without a star. */
	CHECK(!props_match("class=01.06", props));
	CHECK(!props_match("class=01.06.011", props));
	CHECK(!props_match("vendor=", props));
}

TEST(match_props_wildcard)
{
	const char *props = "class=01.06.01 size=67108864";

	CHECK(props_match("class=01.06.*", props));
	CHECK(props_match("class=01.*", props));
	CHECK(props_match("class=01.06.01*", props));	/* empty rest */
	CHECK(!props_match("class=01.07.*", props));
	CHECK(!props_match("class=01.06.011*", props));
	CHECK(props_match("class=*", props));		/* present, any value */
	CHECK(!props_match("vendor=*", props));
	CHECK(props_match("class=* size=67*", props));
	CHECK(props_match("class=*", "class="));
	/* The star is only special at the end of a value. */
	CHECK(!props_match("class=*.06.01", props));
	CHECK(props_match("class=*.06.01", "class=*.06.01"));
}

TEST(match_props_spaces)
{
	CHECK(props_match("  class=01.06.01   vendor=8086  ",
	    "vendor=8086    class=01.06.01"));
	CHECK(props_match("a=1\tb=2", " b=2\t\ta=1 \t"));
	CHECK(props_match("a=1", "   a=1"));
	CHECK(props_match("a=1", "a=1   "));
	CHECK(!props_match("a=1", "a = 1"));
}

/* Keys compare whole: a key that is a prefix of another is another key. */
TEST(match_props_prefix_keys)
{
	CHECK(!props_match("cl=01", "class=01"));
	CHECK(!props_match("class=01", "cl=01"));
	CHECK(!props_match("cl=*", "class=01"));
	CHECK(props_match("cl=01", "class=02 cl=01"));
	CHECK(props_match("class=02", "cl=01 class=02"));
	CHECK(!props_match("class=0", "classes=0"));
}

/* A bare key in a pattern asks only that the key be present. */
TEST(match_props_bare_keys)
{
	CHECK(props_match("removable", "size=1 removable"));
	CHECK(props_match("removable", "removable=yes"));
	CHECK(!props_match("removable", "removabl=1"));
	CHECK(props_match("removable=", "removable"));	/* empty value */
	CHECK(props_match("removable=*", "removable"));
	CHECK(!props_match("removable=yes", "removable"));
}

/* Exact-size heap copies: ASan reports any read past a NUL. */
TEST(match_props_no_overread)
{
	const char *cases[][2] = {
		{ "a=1*", "a=" }, { "a=*", "a" }, { "abc=", "ab" },
		{ "a", "a=" }, { "a=1 ", " a=1" }, { "x=y*", "x=y" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *pat = strdup(cases[i][0]), *props = strdup(cases[i][1]);

		REQUIRE(pat && props);
		props_match(pat, props);
		props_match(props, pat);
		free(pat);
		free(props);
	}
	CHECK(props_match("x=y*", "x=y"));
	CHECK(!props_match("abc=", "ab"));
}

TEST(match_props_get)
{
	const char *props = " w=1024  h=768 fmt=bgrx removable cl=1 class=2";
	char buf[16];

	CHECK_STR(props_get(props, "w", buf, sizeof(buf)), "1024");
	CHECK_STR(props_get(props, "h", buf, sizeof(buf)), "768");
	CHECK_STR(props_get(props, "fmt", buf, sizeof(buf)), "bgrx");
	CHECK_STR(props_get(props, "removable", buf, sizeof(buf)), "");
	CHECK_STR(props_get(props, "class", buf, sizeof(buf)), "2");
	CHECK_STR(props_get(props, "cl", buf, sizeof(buf)), "1");
	CHECK(props_get(props, "c", buf, sizeof(buf)) == NULL);
	CHECK(props_get(props, "depth", buf, sizeof(buf)) == NULL);
	/* The first of a repeated key. */
	CHECK_STR(props_get("a=1 a=2", "a", buf, sizeof(buf)), "1");
	CHECK_STR(props_get("a= b=2", "a", buf, sizeof(buf)), "");
}

TEST(match_props_get_edges)
{
	char buf[4];

	/* Truncated, terminated. */
	CHECK_STR(props_get("size=67108864", "size", buf, sizeof(buf)), "671");
	CHECK_STR(props_get("size=67108864", "size", buf, 1), "");
	CHECK(props_get("size=1", "size", buf, 0) == NULL);
	CHECK(props_get("size=1", "size", NULL, 4) == NULL);
	/* Keys that cannot be keys. */
	CHECK(props_get("a=1", "", buf, sizeof(buf)) == NULL);
	CHECK(props_get("a=1", "a=1", buf, sizeof(buf)) == NULL);
	CHECK(props_get("a b=1", "a b", buf, sizeof(buf)) == NULL);
	CHECK(props_get(NULL, "a", buf, sizeof(buf)) == NULL);
	CHECK(props_get("", "a", buf, sizeof(buf)) == NULL);
	CHECK(props_get("   ", "a", buf, sizeof(buf)) == NULL);
}

TEST(match_list_has)
{
	CHECK(list_has("console keyboard", "keyboard"));
	CHECK(list_has("tos, shell", "tos"));
	CHECK(list_has("tos, shell", "shell"));
	CHECK(!list_has("tos, shell", "sh"));
	CHECK(!list_has("console", "cons"));
	CHECK(!list_has("", "x"));
	CHECK(!list_has("a b", ""));
}
