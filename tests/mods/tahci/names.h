/*
 * tahci - test module: ahci built a second time under other names
 * (module tahci, disks block:tsataN), which starts only as the new side
 * of a swap, so that blkswaptest can swap ahci with it and back (the
 * controller handed over inside each swap).  Each file here is one of
 * mods/ahci's.
 */
#define AHCI_NAME "tahci"
#define AHCI_PREFIX "tsata"
#define AHCI_STANDBY_ONLY 1
