/* Placeholder. */
#include "ssoInt.h"
const char *ssoproxy_libversion(void){ return SSOPROXY_VERSION; }
int ssoproxy_libversion_number(void){ return SSOPROXY_VERSION_NUMBER; }
const char *ssoproxy_sourceid(void){ return SSOPROXY_SOURCE_ID; }
int ssoproxy_main(int argc, char **argv){ (void)argc; (void)argv; printf("%s\n", ssoproxy_libversion()); return 0; }
