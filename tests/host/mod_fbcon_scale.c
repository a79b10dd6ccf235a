/*
 * mod_fbcon_scale.c - fbcon's font scale: chosen from the screen's height
 * unless boot.cfg's font-scale says otherwise, and made smaller when the
 * grid would be too small to use.
 */
#include "check.h"
#include "../../mods/fbcon/ansi.c"
#include "../../abi/rt/font.c"
#include "font_console.c"		/* build/gen: tools/mkfont's */
#include "../../mods/fbcon/grid.c"
#include "../../mods/fbcon/palette.c"
#include "../../mods/fbcon/reflow.c"
#include "../../mods/fbcon/render.c"
#include "../../mods/fbcon/state.c"
#include "../../mods/fbcon/term.c"
#include "../../mods/fbcon/fbcon.c"
#include "../../abi/rt/setting.c"

TEST(fbcon_scale_by_resolution)
{
	scale_cfg = 0;				/* auto */
	CHECK_EQ_INT(fit_scale(1280, 800), 1);	/* QEMU's default */
	CHECK_EQ_INT(fit_scale(1920, 1080), 1);
	CHECK_EQ_INT(fit_scale(2560, 1440), 2);
	CHECK_EQ_INT(fit_scale(3840, 2160), 3);	/* a 4K panel */
	CHECK_EQ_INT(fit_scale(7680, 4320), RENDER_MAX_SCALE);
	CHECK_EQ_INT(fit_scale(640, 480), 1);
}

TEST(fbcon_scale_from_boot_cfg_and_fitted)
{
	scale_cfg = 1;				/* font-scale=1 on a 4K panel */
	CHECK_EQ_INT(fit_scale(3840, 2160), 1);
	scale_cfg = 4;		/* 640x480 would be 20x7 cells: 40x15 at 2 */
	CHECK_EQ_INT(fit_scale(640, 480), 2);
	CHECK_EQ_INT(fit_scale(1280, 800), 4);	/* 40x12 cells, just enough */
	CHECK_EQ_INT(fit_scale(1024, 600), 3);	/* 42x12 at 3, 32x9 at 4 */
	scale_cfg = 0;
}
