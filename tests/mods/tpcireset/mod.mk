TEST_MODULES += tpcireset
