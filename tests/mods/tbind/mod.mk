TEST_MODULES += tbind
