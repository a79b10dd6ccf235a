/*
 * rect.c - the checks a display provider makes on its clients' rectangles
 * and pixel buffers (display.h): a rectangle must start on the screen and
 * is cut to it; a buffer of h rows needs a pitch of at least w pixels.
 * rt_rect_begin makes them all, in the order display.h's errors take.
 */
#include "rt.h"
#include "../pb.h"

static int
clip_span(uint32_t x, uint32_t *w, uint32_t limit)
{
	if (x >= limit)
		return PB_EINVAL;
	if (*w > limit - x)
		*w = limit - x;
	return PB_OK;
}

/* Cut w x h at (x, y) to a width x height screen; PB_EINVAL if it starts
 * outside. */
int
rt_clip_rect(uint32_t x, uint32_t y, uint32_t *w, uint32_t *h,
    uint32_t width, uint32_t height)
{
	int err = clip_span(x, w, width);

	return err ? err : clip_span(y, h, height);
}

/* A client buffer of h rows of `pitch` pixels, w of them used. */
int
rt_check_pixels(const uint32_t *px, uint32_t pitch, uint32_t w, uint32_t h)
{
	return !px || (h > 1 && pitch < w) ? PB_EINVAL : PB_OK;
}

/*
 * Before a display operation on w x h at (x, y): PB_EBUSY while the
 * provider is not active (standby, quiesced); PB_OK with *w or *h 0 when
 * there is nothing to draw (then nothing else is checked); else the
 * client's buffer checked, when it passes one (px_used), and the
 * rectangle cut to the screen.
 */
int
rt_rect_begin(int active, const uint32_t *px, uint32_t pitch, int px_used,
    uint32_t x, uint32_t y, uint32_t *w, uint32_t *h, uint32_t width,
    uint32_t height)
{
	int err;

	if (!active)
		return PB_EBUSY;
	if (!*w || !*h)
		return PB_OK;
	if (px_used && (err = rt_check_pixels(px, pitch, *w, *h)) != PB_OK)
		return err;
	return rt_clip_rect(x, y, w, h, width, height);
}
