/*
 * keymap.c - choosing a layout, and a key's character in it (keymap.h).
 */
#include "keymap.h"
#include "../pbmod.h"
#include "../keyboard.h"

static const struct keymap *const layouts[] = {
	&keymap_us, &keymap_gb, &keymap_de, &keymap_fr, &keymap_es,
	&keymap_it,
};
const char keymap_names[] = "us, gb, de, fr, es, it";

uint32_t
keymap_char(const struct keymap *km, uint8_t pos, uint16_t mods)
{
	int shift = (mods & KEYMOD_SHIFT) != 0;
	uint8_t c;

	if (pos >= KEYMAP_SIZE)
		return 0;
	if ((mods & KEYMOD_CAPS) && km->caps[pos])
		shift = !shift;
	if ((mods & KEYMOD_ALTGR) && km->altgr)
		c = km->altgr[pos];
	else
		c = shift ? km->shifted[pos] : km->plain[pos];
	return c == KEYMAP_EURO ? 0x20ac : c;
}

uint16_t
keymap_right_alt(const struct keymap *km)
{
	return km->altgr ? KEYMOD_ALTGR : KEYMOD_ALT;
}

const struct keymap *
keymap_named(const char *name)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (strcmp(layouts[i]->name, name) == 0)
			return layouts[i];
	return NULL;
}

const struct keymap *
keymap_chosen(const struct pb_hub *hub, struct pb_module *self)
{
	const struct keymap *km;
	char name[16];

	if (!pb_setting(hub, "keymap", name, sizeof(name)))
		return &keymap_us;
	if ((km = keymap_named(name)))
		return km;
	pb_logf(hub, self, PB_LOG_ERR, "keymap=%s: no such layout (%s): us "
	    "is used", name, keymap_names);
	return &keymap_us;
}
