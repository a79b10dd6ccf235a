/*
 * faultinject.h - the shell's half of fault injection (the hub arms and
 * runs one injection: hub/inject.c): the seeded choice of what to inject
 * where, the names of moments and fault types, and the command's words.
 * Pure C, host-tested (tests/host/mod_shell_inject.c).
 */
#ifndef PB_SHELL_FAULTINJECT_H
#define PB_SHELL_FAULTINJECT_H

#include <stdint.h>

/* As hub/inject.c numbers them. */
enum { FI_ENTRY, FI_WORK, FI_IRQ, FI_MOMENTS };
enum { FI_STRAY, FI_POINTER, FI_NULL, FI_WILD, FI_REGBIT, FI_CODEBIT,
    FI_LOOP, FI_LOOP_HELD, FI_RETCODE, FI_SVCARG, FI_SKIP, FI_SLOT,
    FI_TYPES };
/* The types a seeded choice picks from: not `slot`, a write into the
 * hub's record of the call itself, armed by hand (its test is its own:
 * a random address almost never lands there). */
#define FI_CAMPAIGN_TYPES FI_SLOT

struct fi_choice {
	const char *module;
	int moment, type;
	uint64_t param;
};

extern const char *const fi_moment_names[FI_MOMENTS];
extern const char *const fi_type_names[FI_TYPES];

/* splitmix64: the next number of the sequence in *state. */
uint64_t fi_rand(uint64_t *state);
/* Injection `index` of campaign `seed` among modules[0..n): the same
 * seed and index give the same choice, whatever ran before. */
void fi_pick(uint64_t seed, unsigned index, const char *const *modules,
    unsigned n, struct fi_choice *c);
/* A name's number in names[0..n), or -1. */
int fi_lookup(const char *const *names, int n, const char *word);
/* `MODULE MOMENT TYPE [PARAM]` into c; -1 and *why on a bad word. */
int fi_parse(int argc, char **argv, struct fi_choice *c, const char **why);
/* The hub's control line arming c. */
void fi_control_line(const struct fi_choice *c, char *out, unsigned cap);

#endif
