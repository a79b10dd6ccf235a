/*
 * mod_shell_words.c - the shell's line splitter (mods/shell/words.c) on
 * the host: which words a line makes, double quotes keeping spaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/words.c"

/* The words of `line`, joined by '|' (or "ERR" for an open quote). */
static const char *
words(const char *line)
{
	static char out[512];
	char buf[256], *argv[64];
	int n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = words_split(buf, argv, 64);
	if (n < 0)
		return "ERR";
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(out, i ? "|" : "");
		strcat(out, argv[i]);
	}
	return out;
}

TEST(words_plain)
{
	CHECK_STR(words(""), "");
	CHECK_STR(words("   \t "), "");
	CHECK_STR(words("ls"), "ls");
	CHECK_STR(words("  cp  a\tb  "), "cp|a|b");
}

TEST(words_quoted)
{
	CHECK_STR(words("cat \"my file.txt\""), "cat|my file.txt");
	CHECK_STR(words("cp \"a  b\" \"c\td\""), "cp|a  b|c\td");
	CHECK_STR(words("ls /esp/\"Program Files\"/x"),
	    "ls|/esp/Program Files/x");
	CHECK_STR(words("a\"b c\"d e"), "ab cd|e");
	CHECK_STR(words("echo \"\" x"), "echo||x");
	CHECK_STR(words("echo \"\""), "echo|");
	CHECK_STR(words("echo \"say \\\"hi\\\"\""), "echo|say \"hi\"");
	CHECK_STR(words("echo \"a\\\\b\" c\\d"), "echo|a\\b|c\\d");
	CHECK_STR(words("echo \"\\n\""), "echo|\\n");
}

TEST(words_open_quote_is_refused)
{
	CHECK_STR(words("cat \"my file"), "ERR");
	CHECK_STR(words("cat a\""), "ERR");
	CHECK_STR(words("echo \"\\\""), "ERR");
}

TEST(words_stop_at_max)
{
	char buf[64] = "a b c d e";
	char *argv[3];

	CHECK_EQ_INT(words_split(buf, argv, 3), 3);
	CHECK_STR(argv[2], "c");
}
