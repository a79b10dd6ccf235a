TEST_MODULES += tnull
