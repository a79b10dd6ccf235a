#include "names.h"
#include "../../../mods/ahci/gone.c"
