/*
 * words.c - a command line cut into words, in place.
 *
 * Words are separated by spaces and tabs.  A part in double quotes keeps
 * its spaces and tabs, so a long file name with spaces is one word
 * ("my file.txt"); it may sit inside a word (a"b c"d is the word `ab cd`),
 * and "" is an empty word.  Inside quotes, \" is a quote and \\ a
 * backslash; everywhere else a backslash is itself.  The quotes are
 * taken out of the words.
 */
#include "shell.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* One word from s into out (out <= s: in place); returns past it, or
 * NULL when a quote is left open. */
static char *
word(char *s, char *out)
{
	int quoted = 0;

	while (*s && (quoted || !is_space(*s))) {
		if (*s == '"') {
			quoted = !quoted;
			s++;
			continue;
		}
		if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*out++ = *s++;
	}
	if (quoted)
		return NULL;
	if (*s)
		s++;		/* the separator: out may end on it */
	*out = '\0';
	return s;
}

/* Cut s into at most max words; returns their count, or -1 when a quote
 * is not closed. */
int
words_split(char *s, char **argv, int max)
{
	int n = 0;

	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s || n == max)
			return n;
		argv[n++] = s;
		if (!(s = word(s, s)))
			return -1;
	}
}
