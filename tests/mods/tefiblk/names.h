/*
 * tefiblk - test module: efi-block built a second time under other names
 * (module tefiblk, disks block:efbN), which starts only as the new side
 * of a swap, so that blkswaptest can swap efi-block with it and back
 * before the takeover.  Each file here is one of mods/efi-block's.
 */
#define EFIBLK_NAME "tefiblk"
#define EFIBLK_PREFIX "efb"
#define EFIBLK_STANDBY_ONLY 1
