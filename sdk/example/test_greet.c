/*
 * test_greet.c - the example's host test: the module's logic compiled
 * for the host (make test), one PASS or FAIL line per case.
 */
#include <stdio.h>
#include <string.h>

#include "greet.c"

static int failed;

static void
check(int ok, const char *name)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", name);
	failed |= !ok;
}

int
main(void)
{
	char buf[96], small[8];

	check(greet_line(buf, sizeof(buf), "world") > 0 &&
	    strcmp(buf, "hello, world, from a module built outside the "
	    "tree") == 0, "sdk/greet_line");
	check(greet_line(buf, sizeof(buf), "") == 0, "sdk/greet_empty_name");
	check(greet_line(small, sizeof(small), "world") == 0,
	    "sdk/greet_too_small");
	return failed;
}
