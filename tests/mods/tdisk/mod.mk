TEST_MODULES += tdisk
