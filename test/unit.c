/*
** Unit tests, compiled against the amalgamation: including ssoproxy.c
** here makes its static internals reachable, and what ships is what is
** tested. Each test/t_*.c file contributes one table of cases.
**
**   build/unit [-v] [FILTER]    run the cases whose name contains FILTER
*/
#include "../ssoproxy.c"
#include "harness.h"
#include <unistd.h>

#include "t_base.c"
#include "t_crypto.c"
#include "t_b64.c"
#include "t_json.c"
#include "t_url.c"
#include "t_jose.c"
#include "t_http.c"
#include "t_server.c"
#include "t_client.c"
#include "t_tls.c"
#include "t_store.c"
#include "t_authz.c"
#include "t_api.c"
#include "t_proxy.c"
#include "t_session.c"
#include "t_config.c"
#include "t_oidc.c"
#include "t_fauth.c"
#include "t_oauth.c"

int main(int argc, char **argv){
  static const struct { const TestCase *a; int n; } aSuite[] = {
    { aBaseTests,   (int)SSO_ARRAYSIZE(aBaseTests) },
    { aCryptoTests, (int)SSO_ARRAYSIZE(aCryptoTests) },
    { aB64Tests,    (int)SSO_ARRAYSIZE(aB64Tests) },
    { aJsonTests,   (int)SSO_ARRAYSIZE(aJsonTests) },
    { aUrlTests,    (int)SSO_ARRAYSIZE(aUrlTests) },
    { aJoseTests,   (int)SSO_ARRAYSIZE(aJoseTests) },
    { aHttpTests,   (int)SSO_ARRAYSIZE(aHttpTests) },
    { aServerTests, (int)SSO_ARRAYSIZE(aServerTests) },
    { aClientTests, (int)SSO_ARRAYSIZE(aClientTests) },
    { aTlsTests,    (int)SSO_ARRAYSIZE(aTlsTests) },
    { aStoreTests,  (int)SSO_ARRAYSIZE(aStoreTests) },
    { aAuthzTests,  (int)SSO_ARRAYSIZE(aAuthzTests) },
    { aApiTests,    (int)SSO_ARRAYSIZE(aApiTests) },
    { aProxyTests,  (int)SSO_ARRAYSIZE(aProxyTests) },
    { aSessionTests, (int)SSO_ARRAYSIZE(aSessionTests) },
    { aConfigTests, (int)SSO_ARRAYSIZE(aConfigTests) },
    { aOidcTests,   (int)SSO_ARRAYSIZE(aOidcTests) },
    { aFauthTests,  (int)SSO_ARRAYSIZE(aFauthTests) },
    { aOauthTests,  (int)SSO_ARRAYSIZE(aOauthTests) },
  };
  const char *zFilter = 0;
  int i, nPass = 0, nFail = 0;
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "-v")==0 ) tst.bVerbose = 1;
    else zFilter = argv[i];
  }
  /* Before the first allocation: every allocation, SQLite's included,
  ** now passes through the fault injector. */
  if( ssoproxy_config_memory(faultMalloc, faultRealloc, faultFree) ){
    fprintf(stderr, "cannot install the test allocator\n");
    return 1;
  }
  ssoMemInitSqlite();
  for(i=0; i<(int)SSO_ARRAYSIZE(aSuite); i++){
    testRunCases(aSuite[i].a, aSuite[i].n, zFilter, &nPass, &nFail);
  }
  printf("%d passed, %d failed\n", nPass, nFail);
  return nFail ? 1 : 0;
}
