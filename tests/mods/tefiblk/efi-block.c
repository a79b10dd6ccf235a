#include "names.h"
#include "../../../mods/efi-block/efi-block.c"
