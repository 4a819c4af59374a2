#include "ssoInt.h"
const char *ssoproxy_libversion(void){ return SSOPROXY_VERSION; }
int ssoproxy_libversion_number(void){ return SSOPROXY_VERSION_NUMBER; }
const char *ssoproxy_sourceid(void){ return SSOPROXY_SOURCE_ID; }
const char *ssoproxy_errstr(int rc){ (void)rc; return "x"; }
int ssoproxy_open(const ssoproxy_config *p, ssoproxy **pp){ (void)p; *pp=0; return 1; }
int ssoproxy_run(ssoproxy *p){ (void)p; return 1; }
void ssoproxy_stop(ssoproxy *p){ (void)p; }
int ssoproxy_close(ssoproxy *p){ (void)p; return 0; }
const char *ssoproxy_errmsg(const ssoproxy *p){ (void)p; return "x"; }
