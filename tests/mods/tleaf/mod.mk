TEST_MODULES += tleaf
