TEST_MODULES += twatch
