/*
 * test_keys.c - which protection key each module gets (hub/keys.c): one
 * of its own while keys last, then shared by the documented rule, never
 * with a client or provider while another choice exists; mem.c tells the
 * arch side each record's owner, so its pages get the owner's key.
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

TEST(keys_pick_a_free_key_first)
{
	struct key_use use[KEYS];

	memset(use, 0, sizeof(use));
	CHECK_EQ_INT(keys_pick(use), KEY_FIRST);
	use[1].holders = 1;
	use[2].holders = 3;
	CHECK_EQ_INT(keys_pick(use), 3);
	for (unsigned k = KEY_FIRST; k <= KEY_LAST; k++)
		use[k].holders = 1;
	use[9].holders = 0;
	CHECK_EQ_INT(keys_pick(use), 9);
}

TEST(keys_pick_shares_with_the_fewest_unrelated)
{
	struct key_use use[KEYS];

	memset(use, 0, sizeof(use));
	for (unsigned k = KEY_FIRST; k <= KEY_LAST; k++)
		use[k].holders = 2;
	use[4].holders = 1;		/* fewest, but a client of ours */
	use[4].related = 1;
	use[7].related = 1;
	CHECK_EQ_INT(keys_pick(use), 1);
	use[12].holders = 1;
	CHECK_EQ_INT(keys_pick(use), 12);
	/* Never the hub's or the shared key, whatever they hold. */
	use[0].holders = 0;
	use[KEY_SHARED].holders = 0;
	CHECK_EQ_INT(keys_pick(use), 12);
}

TEST(keys_pick_related_only_when_every_key_is)
{
	struct key_use use[KEYS];

	memset(use, 0, sizeof(use));
	for (unsigned k = KEY_FIRST; k <= KEY_LAST; k++) {
		use[k].holders = 3;
		use[k].related = 1;
	}
	use[6].holders = 2;
	CHECK_EQ_INT(keys_pick(use), 6);
}

TEST(keys_each_module_its_own_key_kept)
{
	struct fm *a, *b;
	unsigned ka;

	fm_setup();
	a = fm_add("a", 0);
	b = fm_add("b", 0);
	ka = hub_key_of(a->m);
	CHECK(ka >= KEY_FIRST && ka <= KEY_LAST);
	CHECK(hub_key_of(b->m) != ka);
	CHECK(hub_key_of(b->m) >= KEY_FIRST && hub_key_of(b->m) <= KEY_LAST);
	CHECK_EQ_INT(hub_key_of(a->m), ka);	/* kept */
	fm_teardown();
}

/* 15 unrelated modules fill the 14 keys; then a client of module p gets a
 * key p does not hold, and the key of an unloaded module is free again. */
TEST(keys_shared_never_with_a_provider_while_others_remain)
{
	struct fm *f[KEY_LAST], *c, *p, *late;
	char name[8];

	fm_setup();
	p = fm_add("p", 0);
	fm_provide(p, "tcon", 1, 0);
	hub_key_of(p->m);
	for (unsigned i = 0; i < KEY_LAST - 1; i++) {
		rt_snprintf(name, sizeof(name), "u%u", i);
		f[i] = fm_add(name, 0);
		hub_key_of(f[i]->m);
		CHECK(f[i]->m->key != p->m->key);
	}
	c = fm_add("c", 0);
	fm_require(c, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	CHECK(hub_key_of(c->m) != p->m->key);
	/* c's key has two holders now: an unrelated module takes one of
	 * the keys with one. */
	late = fm_add("late", 0);
	hub_key_of(late->m);
	CHECK(late->m->key != c->m->key);
	/* An unloaded module's key goes to the next one. */
	f[3]->m->state = MOD_UNLOADED;
	{
		struct fm *next = fm_add("next", 0);

		CHECK_EQ_INT(hub_key_of(next->m), f[3]->m->key);
	}
	fm_teardown();
}

TEST(keys_mem_records_name_their_owner)
{
	struct fm *f;
	void *mine, *dma, *hub_heap;

	fm_setup();
	f = fm_add("m", 0);
	fake_ndomain_calls = 0;
	mine = mem_alloc(f->m, 1, 0, MEM_KIND_HEAP);
	CHECK(fake_domain_calls[0].owner == f->m);
	dma = mem_alloc(f->m, 1, 0, MEM_KIND_DMA);
	CHECK(fake_domain_calls[1].owner == f->m);
	/* The hub's buffers for modules: no owner, the shared key. */
	hub_heap = mem_alloc(NULL, 1, 0, MEM_KIND_HEAP);
	CHECK(fake_domain_calls[2].owner == NULL);
	CHECK_EQ_INT(fake_domain_calls[2].modules, 1);
	mem_free(f->m, mine);
	mem_free(f->m, dma);
	mem_free(NULL, hub_heap);
	fm_teardown();
}

/* A device page two modules map (a swap's old and new driver) gets the
 * shared key: the second record names no owner. */
TEST(keys_mmio_two_modules_map_is_shared)
{
	struct fm *a, *b;
	const struct fake_domain_call *c;

	fm_setup();
	a = fm_add("a", 0);
	b = fm_add("b", 0);
	fake_ndomain_calls = 0;
	CHECK_EQ_INT(mem_note_mmio(a->m, 0xfeb00000, 0x2000), PB_OK);
	c = &fake_domain_calls[fake_ndomain_calls - 1];
	CHECK(c->owner == a->m);
	CHECK_EQ_INT(mem_note_mmio(b->m, 0xfeb01000, 0x100), PB_OK);
	c = &fake_domain_calls[fake_ndomain_calls - 1];
	CHECK(c->owner == NULL);
	CHECK_EQ_INT(c->modules, 1);
	/* Elsewhere b's own. */
	CHECK_EQ_INT(mem_note_mmio(b->m, 0xfec00000, 0x1000), PB_OK);
	c = &fake_domain_calls[fake_ndomain_calls - 1];
	CHECK(c->owner == b->m);
	mem_forget_mmio(a->m, 0xfeb00000);
	mem_forget_mmio(b->m, 0xfeb01000);
	mem_forget_mmio(b->m, 0xfec00000);
	fm_teardown();
}
