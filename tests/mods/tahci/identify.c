#include "names.h"
#include "../../../mods/ahci/identify.c"
