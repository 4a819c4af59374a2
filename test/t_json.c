/* Placeholder: tests for the json module are being written. */
static void test_json_placeholder(void){ CHECK( 1 ); }
static const TestCase aJsonTests[] = { TEST_CASE(test_json_placeholder) };
