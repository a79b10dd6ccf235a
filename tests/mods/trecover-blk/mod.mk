TEST_MODULES += trecover-blk
