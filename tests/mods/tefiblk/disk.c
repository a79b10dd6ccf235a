#include "names.h"
#include "../../../mods/efi-block/disk.c"
