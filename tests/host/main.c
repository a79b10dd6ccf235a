/*
 * main.c - runs the host tests registered with TEST() (see check.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MAX_TESTS 1024

struct test {
	const char *name;
	check_fn fn;
};

static struct test tests[MAX_TESTS];
static unsigned ntests;

/* The running test's failures: the first message, and how many. */
static int failures;
static char first[512];

void
check_register(const char *name, check_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "host-tests: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

int
check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (failures++ == 0) {
		n = snprintf(first, sizeof(first), "%s:%d: ", file, line);
		if (n < 0 || (size_t)n >= sizeof(first))
			n = 0;
		va_start(ap, fmt);
		vsnprintf(first + n, sizeof(first) - n, fmt, ap);
		va_end(ap);
		/* The report is one line. */
		for (char *p = first; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	return 0;
}

int
check_failures(void)
{
	return failures;
}

int
check_eq_int(const char *file, int line, const char *as, const char *bs,
    intmax_t a, intmax_t b)
{
	if (a == b)
		return 1;
	return check_fail(file, line, "%s == %s: %jd != %jd", as, bs, a, b);
}

int
check_str(const char *file, int line, const char *as, const char *a,
    const char *b)
{
	if (a && b && strcmp(a, b) == 0)
		return 1;
	return check_fail(file, line, "%s: \"%s\" != \"%s\"", as,
	    a ? a : "(null)", b ? b : "(null)");
}

int
check_contains(const char *file, int line, const char *hs, const char *hay,
    const char *needle)
{
	if (hay && needle && strstr(hay, needle))
		return 1;
	return check_fail(file, line, "%s: \"%s\" does not contain \"%s\"", hs,
	    hay ? hay : "(null)", needle ? needle : "(null)");
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned run = 0, failed = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [--list | FILTER]\n", argv[0]);
		return 2;
	}
	if (filter && strcmp(filter, "--list") == 0) {
		for (unsigned i = 0; i < ntests; i++)
			printf("host/%s\n", tests[i].name);
		return 0;
	}
	/* Lines must come out in order even if a test crashes later. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < ntests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		failures = 0;
		first[0] = '\0';
		tests[i].fn();
		run++;
		if (failures == 0) {
			printf("PASS host/%s\n", tests[i].name);
		} else if (failures == 1) {
			printf("FAIL host/%s: %s\n", tests[i].name, first);
			failed++;
		} else {
			printf("FAIL host/%s: %s (and %d more)\n",
			    tests[i].name, first, failures - 1);
			failed++;
		}
	}
	if (run == 0) {
		fprintf(stderr, "host-tests: no test matches \"%s\"\n",
		    filter ? filter : "");
		return 1;
	}
	return failed ? 1 : 0;
}
