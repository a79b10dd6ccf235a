TEST_MODULES += twatchfw
