/*
 * mod_efifb.c - the stub's framebuffer checks (efi/fbfit.c): which GOP
 * modes the hub is handed as a framebuffer and which as none.
 */
#include "check.h"
#include "../../efi/fbfit.c"

TEST(efifb_full_stride_size)
{
	/* QEMU: 1280x800, stride 1280, size stride x height x 4. */
	CHECK_EQ_INT(fb_bytes_needed(1280, 800, 1280), 1280ull * 800 * 4);
}

TEST(efifb_padded_stride_reported_short)
{
	/* A 1366x768 panel with 1376 pixels a line whose firmware reports
	 * the size up to the last visible pixel, not stride x height: the
	 * mode still fits. */
	uint64_t need = fb_bytes_needed(1366, 768, 1376);

	CHECK_EQ_INT(need, (767ull * 1376 + 1366) * 4);
	CHECK(need < 1376ull * 768 * 4);
	CHECK(need > 1366ull * 768 * 4);
}

TEST(efifb_impossible_geometry)
{
	CHECK_EQ_INT(fb_bytes_needed(1024, 768, 1000), 0);	/* stride < w */
	CHECK_EQ_INT(fb_bytes_needed(0, 768, 1024), 0);
	CHECK_EQ_INT(fb_bytes_needed(1024, 0, 1024), 0);
	/* 4K and beyond do not overflow. */
	CHECK_EQ_INT(fb_bytes_needed(7680, 4320, 7680), 7680ull * 4320 * 4);
}

TEST(efifb_bitmask_pixels)
{
	CHECK_EQ_INT(fb_bitmask_bytes(0xff0000, 0xff00, 0xff, 0xff000000), 4);
	CHECK_EQ_INT(fb_bitmask_bytes(0x3ff00000, 0xffc00, 0x3ff, 0xc0000000),
	    4);		/* 10-bit colour */
	CHECK_EQ_INT(fb_bitmask_bytes(0, 0xff00, 0xff, 0), 0);	/* no red */
	CHECK_EQ_INT(fb_bitmask_bytes(0xff00, 0xff00, 0xff, 0), 0); /* overlap */
	CHECK_EQ_INT(fb_bitmask_bytes(0xff0000, 0xff00, 0xff, 0xff), 0);
}
