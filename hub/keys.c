/*
 * keys.c - which protection key a module's memory carries
 * (x86_64/domain.c switches the keys; this file only picks them).
 *
 * Key 0 is the hub's, key 15 the one every module may write (the stack,
 * the guard page, the hub's buffers it hands modules, and the pages a
 * provider was granted); keys 1..14 are the modules'.  A module gets its
 * key when its first memory is recorded (its image, at load) and keeps it
 * through restarts; the key is free again once no live module has it.
 *
 * More modules than keys: a module shares the key of the fewest modules
 * that are neither its clients nor its providers (by the interfaces their
 * descriptors provide and require), so a provider and its client always
 * have different keys while there is any other choice; only when every
 * key has a related holder does it share with one of them (fewest
 * holders, lowest key first).  Modules sharing a key can write each
 * other's memory: the log says which key each module got.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

unsigned
keys_pick(const struct key_use use[KEYS])
{
	unsigned best = 0, best_any = KEY_FIRST;

	for (unsigned k = KEY_FIRST; k <= KEY_LAST; k++)
		if (!use[k].holders)
			return k;
	for (unsigned k = KEY_FIRST; k <= KEY_LAST; k++) {
		if (use[k].holders < use[best_any].holders)
			best_any = k;
		if (!use[k].related &&
		    (!best || use[k].holders < use[best].holders))
			best = k;
	}
	return best ? best : best_any;
}

/* Does one of a and b require an interface the other provides? */
static int
keys_related(const struct pb_module *a, const struct pb_module *b)
{
	for (unsigned i = 0; i < a->desc.nrequires; i++)
		if (mod_provides(b, a->desc.requires[i].iface))
			return 1;
	for (unsigned i = 0; i < b->desc.nrequires; i++)
		if (mod_provides(a, b->desc.requires[i].iface))
			return 1;
	return 0;
}

static int
keys_live(const struct pb_module *m)
{
	return m->key && m->state != MOD_KNOWN && m->state != MOD_REFUSED &&
	    m->state != MOD_UNLOADED && m->state != MOD_REPLACED;
}

/* m's key, picked now if it has none. */
unsigned
hub_key_of(struct pb_module *m)
{
	struct key_use use[KEYS];

	if (m->key)
		return m->key;
	memset(use, 0, sizeof(use));
	for (unsigned i = 0; i < nmodules; i++) {
		const struct pb_module *o = &modules[i];

		if (o == m || !keys_live(o))
			continue;
		use[o->key].holders++;
		if (keys_related(m, o))
			use[o->key].related = 1;
	}
	m->key = (uint8_t)keys_pick(use);
	log_event(LOG_LOAD, "%s: protection key %u%s", m->name, m->key,
	    use[m->key].holders ? " (shared)" : "");
	return m->key;
}
