/*
 * check.h - the host tests' tiny test framework.
 *
 * Every .c file in tests/host/ is compiled into one binary, build/tests/host-tests,
 * together with the hub's portable sources, under ASan and UBSan.  A test file
 * includes this header and defines tests:
 *
 *	#include "check.h"
 *
 *	TEST(resolver_cycle)
 *	{
 *		CHECK(x != NULL);		record a failure, carry on
 *		CHECK_EQ_INT(err, PB_EINVAL);	integers, values shown on failure
 *		CHECK_STR(name, "serial");	strings (NULL-safe)
 *		CHECK_CONTAINS(why, "imports");	substring (NULL-safe)
 *		REQUIRE(p != NULL);		record a failure and end the test
 *		CHECK_MSG(ok, "slot %u", i);	with a printf-style message
 *	}
 *
 * TEST registers the function at start-up (a constructor); test names are C
 * identifiers and should be unique across files.  A test passes when it
 * records no failure; the first failure's message is the one reported,
 * with a count of the others.  Tests run in one process, one after another,
 * in registration order (source order within a file): keep them
 * independent, and free what they allocate (ASan reports leaks).
 *
 * Running: `build/tests/host-tests [FILTER]` runs every test whose name
 * contains FILTER (all of them without it), `--list` prints the names.
 * Output, one line per test, is the project's test contract:
 *	PASS host/<name>
 *	FAIL host/<name>: <file>:<line>: <message>
 * and the exit status is 1 if any test failed (or FILTER matched nothing).
 * A test with nothing to check fails: tests of the real modules CHECK that
 * they found some (make test builds them first).
 */
#ifndef PB_TESTS_CHECK_H
#define PB_TESTS_CHECK_H

#include <stdint.h>

typedef void (*check_fn)(void);

void check_register(const char *name, check_fn fn);
/* Record a failure of the running test; returns 0 so macros can chain. */
int check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Failures recorded so far by the running test. */
int check_failures(void);

#define TEST(name) \
	static void test_##name(void); \
	__attribute__((constructor)) static void check_reg_##name(void) \
	{ check_register(#name, test_##name); } \
	static void test_##name(void)

#define CHECK(cond) \
	((cond) ? 1 : check_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond))

#define CHECK_MSG(cond, ...) \
	((cond) ? 1 : check_fail(__FILE__, __LINE__, __VA_ARGS__))

#define REQUIRE(cond) \
	do { \
		if (!(cond)) { \
			check_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", \
			    #cond); \
			return; \
		} \
	} while (0)

#define CHECK_EQ_INT(a, b) \
	check_eq_int(__FILE__, __LINE__, #a, #b, (intmax_t)(a), (intmax_t)(b))

#define CHECK_STR(a, b) \
	check_str(__FILE__, __LINE__, #a, (a), (b))

#define CHECK_CONTAINS(hay, needle) \
	check_contains(__FILE__, __LINE__, #hay, (hay), (needle))

int check_eq_int(const char *file, int line, const char *as, const char *bs,
    intmax_t a, intmax_t b);
int check_str(const char *file, int line, const char *as, const char *a,
    const char *b);
int check_contains(const char *file, int line, const char *hs,
    const char *hay, const char *needle);

#endif
