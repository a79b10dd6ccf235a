#include "names.h"
#include "../../../mods/ahci/hba.c"
