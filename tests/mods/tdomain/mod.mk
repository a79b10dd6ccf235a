TEST_MODULES += tdomain
