TEST_MODULES += tfault
