#include "names.h"
#include "../../../mods/ahci/cmd.c"
