TEST_MODULES += tefiblk
