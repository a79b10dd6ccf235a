#include "names.h"
#include "../../../mods/ahci/io.c"
