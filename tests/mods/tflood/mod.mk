TEST_MODULES += tflood
