TEST_MODULES += tusbkbd-absent
