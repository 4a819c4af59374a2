/* Placeholder: tests for the url module are being written. */
static void test_url_placeholder(void){ CHECK( 1 ); }
static const TestCase aUrlTests[] = { TEST_CASE(test_url_placeholder) };
