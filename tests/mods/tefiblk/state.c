#include "names.h"
#include "../../../mods/efi-block/state.c"
