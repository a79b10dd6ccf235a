TEST_MODULES += tdisp
