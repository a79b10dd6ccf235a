/*
 * mod_shell_inject.c - the shell's fault-injection choices
 * (mods/shell/faultinject.c): a seed gives the same sequence, an index
 * the same choice whatever came before, parameters fit their type, and
 * the command's words parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../mods/shell/faultinject.c"

static const char *const mods[] = { "ahci", "fat", "fbcon", "ps2" };

static int
same(const struct fi_choice *a, const struct fi_choice *b)
{
	return strcmp(a->module, b->module) == 0 && a->moment == b->moment &&
	    a->type == b->type && a->param == b->param;
}

TEST(inject_same_seed_same_sequence)
{
	struct fi_choice a, b;
	unsigned differ = 0;

	for (unsigned i = 0; i < 500; i++) {
		fi_pick(42, i, mods, 4, &a);
		fi_pick(42, i, mods, 4, &b);
		CHECK(same(&a, &b));
		fi_pick(43, i, mods, 4, &b);
		differ += !same(&a, &b);
	}
	CHECK(differ > 490);
	/* Pinned: a change of the generator changes every campaign, and
	 * recorded campaigns could no longer be replayed. */
	fi_pick(1, 0, mods, 4, &a);
	CHECK_STR(a.module, "ahci");
	CHECK(a.moment == FI_WORK && a.type == FI_SKIP && a.param == 0);
}

/* Every module, moment and type comes up; retcode only at an entry;
 * parameters in their ranges. */
TEST(inject_choices_cover_and_fit)
{
	unsigned seen_mod[4] = { 0 }, seen_type[FI_TYPES] = { 0 };
	unsigned seen_moment[FI_MOMENTS] = { 0 };
	struct fi_choice c;

	for (unsigned i = 0; i < 2000; i++) {
		fi_pick(7, i, mods, 4, &c);
		for (unsigned k = 0; k < 4; k++)
			seen_mod[k] += strcmp(c.module, mods[k]) == 0;
		seen_type[c.type]++;
		seen_moment[c.moment]++;
		if (c.type == FI_RETCODE)
			CHECK_EQ_INT(c.moment, FI_ENTRY);
		if (c.type == FI_STRAY || c.type == FI_WILD)
			CHECK(c.param < (1ull << 32) && !(c.param & 7));
		if (c.type == FI_REGBIT)
			CHECK(c.param < 64);
		if (c.type == FI_RETCODE)
			CHECK((int64_t)c.param == 1 ||
			    ((int64_t)c.param < 0 && (int64_t)c.param >= -20));
	}
	for (unsigned k = 0; k < 4; k++)
		CHECK(seen_mod[k] > 400);
	for (unsigned t = 0; t < FI_CAMPAIGN_TYPES; t++)
		CHECK_MSG(seen_type[t] > 20, "type %s %u", fi_type_names[t],
		    seen_type[t]);
	CHECK_EQ_INT(seen_type[FI_SLOT], 0);	/* armed by hand only */
	CHECK(seen_moment[FI_WORK] > seen_moment[FI_IRQ]);
	CHECK(seen_moment[FI_IRQ] > seen_moment[FI_ENTRY]);
	CHECK(seen_moment[FI_ENTRY] > 100);
}

static int
parse(const char *line, struct fi_choice *c, const char **why)
{
	static char buf[128];
	char *argv[8];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	return fi_parse(argc, argv, c, why);
}

TEST(inject_parse_words)
{
	struct fi_choice c;
	const char *why;
	char line[80];

	CHECK_EQ_INT(parse("ahci irq wild 0x1000", &c, &why), 0);
	CHECK_STR(c.module, "ahci");
	CHECK_EQ_INT(c.moment, FI_IRQ);
	CHECK_EQ_INT(c.type, FI_WILD);
	CHECK(c.param == 0x1000);
	fi_control_line(&c, line, sizeof(line));
	CHECK_STR(line, "inject ahci 2:3:0x1000");
	CHECK_EQ_INT(parse("fat work loopheld", &c, &why), 0);
	CHECK(c.param == 0 && c.type == FI_LOOP_HELD);
	CHECK_EQ_INT(parse("fat someday null", &c, &why), -1);
	CHECK_CONTAINS(why, "MOMENT");
	CHECK_EQ_INT(parse("fat work frob", &c, &why), -1);
	CHECK_CONTAINS(why, "TYPE");
	CHECK_EQ_INT(parse("fat work null 12x", &c, &why), -1);
	CHECK_CONTAINS(why, "PARAM");
	CHECK_EQ_INT(parse("fat work", &c, &why), -1);
	CHECK_EQ_INT(parse("fat work null 1 2", &c, &why), -1);
	CHECK_EQ_INT(fi_lookup(fi_type_names, FI_TYPES, "skip"), FI_SKIP);
	CHECK_EQ_INT(fi_lookup(fi_type_names, FI_TYPES, "slot"), FI_SLOT);
}
