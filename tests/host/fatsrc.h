/*
 * fatsrc.h - the fat module's sources, for the binaries that run them on
 * the host (tests/host/mod_fat.c, tests/fuzz/fuzzmod_fat.c): one
 * translation unit, the descriptor renamed fat_modinfo.
 */
#ifndef PB_TESTS_FATSRC_H
#define PB_TESTS_FATSRC_H

#include "../../abi/rt/setting.c"

#include "../../mods/fat/bpb.c"
#include "../../mods/fat/cache.c"
#include "../../mods/fat/vouch.c"
#include "../../mods/fat/io.c"
#include "../../mods/fat/wb.c"
#include "../../mods/fat/table.c"
#include "../../mods/fat/name.c"
#include "../../mods/fat/dir.c"
#include "../../mods/fat/path.c"
#include "../../mods/fat/file.c"
#include "../../mods/fat/ops.c"
#include "../../mods/fat/run.c"
#include "../../mods/fat/mount.c"
#include "../../mods/fat/vol.c"
#include "../../mods/fat/handle.c"
#include "../../mods/fat/time.c"
#include "../../mods/fat/modsrc.c"
#include "../../mods/fat/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo fat_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/fat/fat.c"

#endif
