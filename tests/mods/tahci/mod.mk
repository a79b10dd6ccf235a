TEST_MODULES += tahci
