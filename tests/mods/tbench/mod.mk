TEST_MODULES += tbench
