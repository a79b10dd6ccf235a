#include "names.h"
#include "../../../mods/efi-block/queue.c"
