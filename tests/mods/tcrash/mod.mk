TEST_MODULES += tcrash
