/*
** Fuzz target for the oauth module's input checks. For every input:
**  - as a redirect URI: ssoOauthRedirectCheck() must never crash, and an
**    accepted URI must keep the promises the module relies on: it parses,
**    has no fragment, no user-info, no control byte, space or non-ASCII
**    byte, is at most SSO_OAUTH_MAX_REDIRECT bytes, and is http only to a
**    loopback IP literal, https only when listed exactly; appending the
**    key's parameters to it must succeed and parse again;
**  - as a user code: normalisation gives 8 letters of the alphabet or
**    refuses;
**  - as a PKCE verifier: when it is valid, its S256 challenge is valid.
** Any broken promise abort()s, so libFuzzer records the input.
*/
#include "../../ssoproxy.c"

static void checkRedirect(const char *z, size_t n){
  static const char *azPair[] = { "access_token", "sk-x", "code", "a_b-C" };
  char zWhy[256];
  SsoArena a;
  SsoUrl u;
  SsoBuf b;
  size_t i;
  int e = ssoOauthRedirectCheck("myide", "https://app.example.com/cb", z, n,
                                zWhy, sizeof(zWhy));
  if( e==0 ){
    if( zWhy[0]==0 ) abort();
    return;
  }
  if( n==0 || n>SSO_OAUTH_MAX_REDIRECT ) abort();
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c<=0x20 || c>=0x7f || c=='#' ) abort();
  }
  ssoArenaInit(&a, 0);
  if( ssoUrlParse(&a, z, n, &u, 0)!=SSOPROXY_OK ) abort();
  if( u.bFragment || u.bUserinfo ) abort();
  if( strcmp(u.scheme.z, "http")==0 && (e!=SSO_OAUTH_DEST_LOOPBACK
                                        || !ssoUrlIsLoopback(&u)) ) abort();
  if( strcmp(u.scheme.z, "https")==0
   && (n!=26 || memcmp(z, "https://app.example.com/cb", 26)!=0) ) abort();
  if( strcmp(u.scheme.z, "javascript")==0 || strcmp(u.scheme.z, "data")==0
   || strcmp(u.scheme.z, "file")==0 ) abort();
  ssoBufInit(&b, 0);
  if( ssoUrlAppendQuery(&b, z, n, azPair, 2, 0)!=SSOPROXY_OK ) abort();
  if( ssoUrlParse(&a, b.z, b.n, &u, 0)!=SSOPROXY_OK || u.bFragment ) abort();
  ssoBufFree(&b);
  ssoArenaFree(&a);
}

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData);
int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  const char *z = (const char*)aData;
  char zN[9];
  checkRedirect(z, nData);
  if( ssoOauthUserCodeNormalize(z, nData, zN)==SSOPROXY_OK ){
    int i;
    if( strlen(zN)!=8 ) abort();
    for(i=0; i<8; i++) if( !strchr(SSO_OAUTH_USER_ALPHABET, zN[i]) ) abort();
  }
  if( ssoOauthVerifierOk(z, nData) ){
    char zC[SSO_OAUTH_CHALLENGE_LEN+1];
    if( ssoOauthS256(z, nData, zC)!=SSOPROXY_OK ) abort();
    if( !ssoOauthChallengeOk(zC, strlen(zC)) ) abort();
  }
  return 0;
}
