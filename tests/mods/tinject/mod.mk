TEST_MODULES += tinject
