#include "names.h"
#include "../../../mods/ahci/ahci.c"
