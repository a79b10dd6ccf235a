#include "names.h"
#include "../../../mods/ahci/port.c"
