/*
 * faultinject.c - what to inject, where: seeded, reproducible choices.
 *
 * Every choice comes from a splitmix64 sequence (Steele et al., "Fast
 * splittable pseudorandom number generators", OOPSLA 2014) started at
 * seed and index together, so injection 117 of a seed is the same after
 * a reboot that skipped the first 116.  The parameters follow the Rio
 * and Nooks fault classes: addresses anywhere in the low 4 GiB (RAM,
 * holes and MMIO alike), any bit of a register, any byte of the code.
 */
#include "faultinject.h"
#include "../../abi/rt/rt.h"

const char *const fi_moment_names[FI_MOMENTS] = { "entry", "work", "irq" };
const char *const fi_type_names[FI_TYPES] = {
	"stray", "pointer", "null", "wild", "regbit", "codebit", "loop",
	"loopheld", "retcode", "svcarg", "skip", "slot",
};

uint64_t
fi_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A parameter that fits the fault type. */
static uint64_t
param_for(int type, uint64_t r)
{
	switch (type) {
	case FI_STRAY:
	case FI_WILD:
		return r & 0xfffffff8ull;	/* low 4 GiB, aligned */
	case FI_REGBIT:
		return r % 64;
	case FI_RETCODE:	/* an error code of pb.h, or a positive 1 */
		return r % 21 ? (uint64_t)-(int64_t)(r % 21) : 1;
	case FI_SVCARG:		/* low bits: the service; the rest: junk */
		return r & 0xffffffffull;
	case FI_NULL:
	case FI_LOOP:
	case FI_LOOP_HELD:
	case FI_SKIP:
		return 0;
	default:		/* pointer, codebit: offset and bit */
		return r & 0x7ffffffffull;
	}
}

void
fi_pick(uint64_t seed, unsigned index, const char *const *modules,
    unsigned n, struct fi_choice *c)
{
	uint64_t s = seed * 0x100000001b3ull ^ index;
	uint64_t m;

	fi_rand(&s);
	c->module = n ? modules[fi_rand(&s) % n] : "";
	/* Work and interrupts run all the time; entry points seldom. */
	m = fi_rand(&s) % 8;
	c->moment = m < 4 ? FI_WORK : m < 7 ? FI_IRQ : FI_ENTRY;
	do
		c->type = (int)(fi_rand(&s) % FI_CAMPAIGN_TYPES);
	while (c->type == FI_RETCODE && c->moment != FI_ENTRY);
	c->param = param_for(c->type, fi_rand(&s));
}

int
fi_lookup(const char *const *names, int n, const char *word)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], word) == 0)
			return i;
	return -1;
}

int
fi_parse(int argc, char **argv, struct fi_choice *c, const char **why)
{
	const char *end;

	*why = NULL;
	if (argc < 3 || argc > 4) {
		*why = "MODULE MOMENT TYPE [PARAM]";
		return -1;
	}
	c->module = argv[0];
	c->moment = fi_lookup(fi_moment_names, FI_MOMENTS, argv[1]);
	c->type = fi_lookup(fi_type_names, FI_TYPES, argv[2]);
	if (c->moment < 0)
		*why = "MOMENT is entry, work or irq";
	else if (c->type < 0)
		*why = "TYPE is stray, pointer, null, wild, regbit, codebit, "
		    "loop, loopheld, retcode, svcarg, skip or slot";
	if (*why)
		return -1;
	c->param = 0;
	if (argc == 4) {
		c->param = rt_strtou(argv[3], &end, 0);
		if (end == argv[3] || *end) {
			*why = "PARAM is a number";
			return -1;
		}
	}
	return 0;
}

void
fi_control_line(const struct fi_choice *c, char *out, unsigned cap)
{
	rt_snprintf(out, cap, "inject %s %d:%d:0x%llx", c->module, c->moment,
	    c->type, (unsigned long long)c->param);
}
