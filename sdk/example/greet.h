/*
 * greet.h - the example module's one piece of logic, kept apart from the
 * hub's glue so a host test can call it directly.
 */
#ifndef HELLO_GREET_H
#define HELLO_GREET_H

#include <stddef.h>

/* "hello, WHO, from a module built outside the tree" into buf; the
 * length written, or 0 when WHO is empty or buf is too small. */
size_t greet_line(char *buf, size_t cap, const char *who);

#endif
