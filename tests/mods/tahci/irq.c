#include "names.h"
#include "../../../mods/ahci/irq.c"
