/*
 * test_guardseal.c - guard slots read as they were written despite a
 * stray write (hub/x86_64/guardseal.c): a slot whole, a slot damaged with
 * its copy whole (read from the copy, repaired on an unwind), both
 * damaged (nothing), the caller's domain checked only with domains on,
 * a retarget that keeps a damaged slot damaged, and the guard depth
 * damaged in its word or in its copy.  The slots are filled
 * here as guard.S's GUARD_FILL and GUARD_PKRS fill them; the scenario
 * test inject_slot_damage_is_the_modules_fault_not_the_hubs drives the
 * assembly itself.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../hub/hub.h"
#include "../../hub/x86_64/cpu.h"
#include "../../hub/x86_64/domain.h"
#include "../../hub/x86_64/watch.h"

extern uint64_t guard_key;
extern uint8_t domain_on;

static struct pb_module owner_a, owner_b;

static struct guard *
copy(struct guard *g)
{
	return (struct guard *)(void *)((char *)g + GUARD_MIRROR);
}

/* Slot d as GUARD_FILL (and with domains on GUARD_PKRS) writes it. */
static void
fill(uint32_t d, struct pb_module *owner, uint32_t pkrs)
{
	struct guard *g = &guard_stack[d];
	uint64_t seal = guard_key;

	memset(g, 0, sizeof(*g));
	g->owner = owner;
	g->rbx = 0x1000 + d;
	g->rbp = 0x2000;
	g->rsp = 0x7fff0000 - 64 * d;
	g->rip = 0x401000 + d;
	g->rflags = 0x202;
	g->cs = 8;
	g->ss = 16;
	seal ^= g->rbx ^ g->rbp ^ g->rsp ^ g->rip ^ g->rflags ^ g->cs ^ g->ss ^
	    (uint64_t)(uintptr_t)owner;
	g->seal = seal;
	g->pkrs_before = pkrs;
	g->pkrs_check = pkrs ^ (uint32_t)guard_key;
	*copy(g) = *g;
	guard_depth_set(d + 1);
}

static void
reset(void)
{
	memset(guard_stack, 0, sizeof(struct guard) * GUARD_MAX);
	memset(copy(guard_stack), 0, sizeof(struct guard) * GUARD_MAX);
	guard_depth_set(0);
	guard_floor = 0;
	domain_on = 0;
}

TEST(guardseal_a_whole_slot_is_read_as_written)
{
	reset();
	fill(0, &owner_a, 0);
	fill(1, &owner_b, 0);
	CHECK(guard_sound(0) == &guard_stack[0]);
	CHECK(guard_innermost() == &guard_stack[1]);
	CHECK(guard_innermost()->owner == &owner_b);
	CHECK(guard_sound(GUARD_MAX) == NULL);		/* a depth set wild */
	guard_floor = 2;				/* an interrupt's own */
	CHECK(guard_innermost() == NULL);
}

/* Any one field of a slot written over: its copy answers, and an
 * unwind's repair puts the copy back. */
TEST(guardseal_a_damaged_field_is_read_from_the_copy)
{
	fm_setup();				/* the log, captured */
	for (size_t off = 0; off < sizeof(struct guard); off += 8) {
		struct guard *g = &guard_stack[0];

		reset();
		fill(0, &owner_a, 0);
		memcpy((char *)g + off, "\x0d\xf0\xfe\xca\xef\xbe\xad\xde", 8);
		if (off == offsetof(struct guard, pkrs_before)) {
			/* the domain is checked only with domains on */
			CHECK(guard_sound(0) == g);
			domain_on = 1;
		}
		CHECK_MSG(guard_sound(0) == copy(g), "offset %zu", off);
		REQUIRE(guard_sound(0) != NULL);
		CHECK(guard_sound(0)->owner == &owner_a);
		CHECK(guard_repair(0));
		CHECK(guard_sound(0) == g);		/* whole again */
		CHECK(g->rip == 0x401000 && g->owner == &owner_a);
	}
	CHECK(fm_log_has("guard slot 0 was damaged"));
	fm_teardown();
}

/* Both written over: nothing to trust; an outer slot still answers. */
TEST(guardseal_a_slot_and_its_copy_damaged_are_nothing)
{
	reset();
	fill(0, &owner_a, 0);
	fill(1, &owner_b, 0);
	guard_stack[1].rip = 1;
	copy(&guard_stack[1])->owner = NULL;
	CHECK(guard_sound(1) == NULL);
	CHECK(guard_innermost() == NULL);
	CHECK(!guard_repair(1));
	CHECK(guard_sound(0) == &guard_stack[0]);
}

/* A retarget (a batch going on with another module's item) keeps both
 * copies whole; one already damaged stays damaged, never sealed anew. */
TEST(guardseal_a_retarget_keeps_the_seal_and_the_damage)
{
	reset();
	fill(0, &owner_a, 0);
	guard_set_owner(&owner_b);
	CHECK(guard_sound(0) == &guard_stack[0]);
	CHECK(guard_sound(0)->owner == &owner_b);
	CHECK(copy(&guard_stack[0])->owner == &owner_b);
	guard_stack[0].rsp = 0;			/* a stray write */
	guard_set_owner(&owner_a);
	CHECK(guard_sound(0) == copy(&guard_stack[0]));
	CHECK(guard_sound(0)->owner == &owner_a);
}

/* Domains come on with calls under way (before, their slots said no
 * domain): those calls return to the hub's, and their slots check. */
TEST(guardseal_domains_on_gives_calls_under_way_the_hubs_domain)
{
	reset();
	fill(0, &owner_a, 0);
	guard_stack[0].pkrs_check = copy(&guard_stack[0])->pkrs_check = 0;
	guard_domains_on();
	domain_on = 1;
	CHECK(guard_sound(0) == &guard_stack[0]);
	CHECK_EQ_INT(guard_stack[0].pkrs_before, 0);
}

/* The guard depth written over, in its word or its check: its copy
 * answers (guard.S heals it from there; a fault's unwind writes it back
 * whole); the copy written over changes nothing; both (more than one
 * stray write): the larger, at most GUARD_MAX, and the slots decide
 * (fault.c). */
TEST(guardseal_a_damaged_depth_is_read_from_its_copy)
{
	fm_setup();			/* a log of its own */
	reset();
	fill(0, &owner_a, 0);
	fill(1, &owner_b, 0);
	CHECK_EQ_INT(guard_depth_now(), 2);
	guard_depth_word.f.depth = 7;			/* a stray write */
	CHECK_EQ_INT(guard_depth_now(), 2);
	CHECK(guard_innermost() == &guard_stack[1]);
	guard_depth_set(guard_depth_now());		/* an unwind's */
	CHECK_EQ_INT(guard_depth_word.f.depth, 2);
	CHECK_EQ_INT(guard_depth_word.f.check ^ (uint32_t)guard_key, 2);
	guard_depth_word.f.check = 0x12345678;		/* its check */
	CHECK_EQ_INT(guard_depth_now(), 2);
	guard_depth_copy_word.f.depth = 9;		/* the copy too */
	guard_depth_word.f.depth = 5;
	CHECK_EQ_INT(guard_depth_now(), 9);
	guard_depth_copy_word.f.depth = 0xdeadbeef;
	CHECK_EQ_INT(guard_depth_now(), GUARD_MAX);
	guard_depth_set(1);
	CHECK_EQ_INT(guard_depth_now(), 1);
	CHECK(guard_innermost() == &guard_stack[0]);
	/* healed by guard.S: said once */
	guard_depth_healed = 1;
	guard_depth_say();
	CHECK_CONTAINS(fm_log(), "the guard depth was damaged (a stray "
	    "write into the hub's records): its copy, 1, is used");
	CHECK_EQ_INT(guard_depth_healed, 0);
	fm_teardown();
}
