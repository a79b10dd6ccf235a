TEST_MODULES += tdiet
