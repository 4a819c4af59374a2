/* Placeholder. */
static void test_config_placeholder(void){ CHECK( 1 ); }
static const TestCase aConfigTests[] = { TEST_CASE(test_config_placeholder) };
