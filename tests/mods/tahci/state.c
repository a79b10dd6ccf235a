#include "names.h"
#include "../../../mods/ahci/state.c"
