/*
 * modes.c - the mode list (see modes.h).
 */
#include "modes.h"
#include "../../abi/pb.h"

/* VESA DMT and CVT resolutions monitors commonly take. */
static const uint16_t common[][2] = {
	{ 640, 480 }, { 800, 600 }, { 1024, 768 }, { 1152, 864 },
	{ 1280, 720 }, { 1280, 768 }, { 1280, 800 }, { 1280, 960 },
	{ 1280, 1024 }, { 1360, 768 }, { 1400, 1050 }, { 1440, 900 },
	{ 1600, 900 }, { 1600, 1200 }, { 1680, 1050 }, { 1920, 1080 },
	{ 1920, 1200 }, { 2560, 1440 }, { 2560, 1600 }, { 3840, 2160 },
};

int
mode_fits(const struct dispi_caps *c, uint64_t vram, uint32_t w, uint32_t h,
    const char **why)
{
	if (w < MODE_MIN_WIDTH || h < MODE_MIN_HEIGHT)
		*why = "smaller than 320x200";
	else if (w % 8)
		*why = "width not a multiple of 8";
	else if (w > c->max_width || h > c->max_height)
		*why = "beyond the device's maximum";
	else if (c->max_bpp < DISPI_BPP)
		*why = "the device has no 32 bpp";
	else if (mode_bytes(w, h) > vram)
		*why = "more than the video memory";
	else
		return 1;
	return 0;
}

static int
smaller(const struct display_mode *a, const struct display_mode *b)
{
	return a->width != b->width ? a->width < b->width :
	    a->height < b->height;
}

/* Insert w x h in order, unless it is there already or the list is full. */
static void
add(struct mode_list *l, uint32_t w, uint32_t h)
{
	struct display_mode m = { w, h, DISPI_BPP, mode_id(w, h) };
	unsigned i;

	if (modes_find(l, m.id) || l->n == MODES_MAX)
		return;
	for (i = l->n; i > 0 && smaller(&m, &l->m[i - 1]); i--)
		l->m[i] = l->m[i - 1];
	l->m[i] = m;
	l->n++;
}

void
modes_build(struct mode_list *l, const struct dispi_caps *c, uint64_t vram,
    uint32_t keep_w, uint32_t keep_h)
{
	const char *why;

	l->n = 0;
	if (keep_w && mode_fits(c, vram, keep_w, keep_h, &why))
		add(l, keep_w, keep_h);
	for (unsigned i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (mode_fits(c, vram, common[i][0], common[i][1], &why))
			add(l, common[i][0], common[i][1]);
}

const struct display_mode *
modes_find(const struct mode_list *l, uint32_t id)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->m[i].id == id)
			return &l->m[i];
	return NULL;
}
