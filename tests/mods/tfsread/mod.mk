TEST_MODULES += tfsread
