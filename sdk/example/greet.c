/*
 * greet.c - the example module's logic (greet.h).
 */
#include "greet.h"
#include "abi/rt/rt.h"

size_t
greet_line(char *buf, size_t cap, const char *who)
{
	int n;

	if (!who || !*who || !cap)
		return 0;
	n = rt_snprintf(buf, cap, "hello, %s, from a module built outside "
	    "the tree", who);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
