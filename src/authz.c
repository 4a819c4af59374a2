/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: authentication and the permission matrix.
**
** Every management request comes through ssoAuthzAuthenticate(): take the
** credential from the first of LiteLLM's key headers that is present,
** compare it with the master key (SHA-256 of both, compared in constant
** time, so neither the length nor a prefix of the master key leaks
** through timing), else hash it and look the key up with its owner in one
** indexed statement. There is deliberately no cache: a key deleted or
** blocked, an owner disabled, deleted or demoted, is refused or limited
** on the very next request. The lookup is one B-tree probe per table.
**
** The matrix below is the only place that says who may do what. It
** follows LiteLLM's access-control table (reference §4): viewers read,
** an internal user manages only their own keys, only proxy_admin changes
** other people's things or any user, and the admin viewer sees all.
*/
#include "ssoInt.h"
#include <strings.h>
#include <time.h>

/* ---- Roles ---- */

static const char *const azAuthzRole[SSO_ROLE_COUNT] = {
  "", "internal_user_viewer", "internal_user", "proxy_admin_viewer",
  "proxy_admin"
};

SSO_PRIVATE int ssoAuthzRole(const char *zName, int *pbAlias){
  int i;
  if( pbAlias ) *pbAlias = 0;
  if( zName==0 || zName[0]==0 ) return SSO_ROLE_NONE;
  for(i=1; i<SSO_ROLE_COUNT; i++){
    if( strcmp(zName, azAuthzRole[i])==0 ) return i;
  }
  /* LiteLLM issue #33690: its docs name the enum member, not the value. */
  if( strcmp(zName, "internal_user_view_only")==0 ){
    if( pbAlias ) *pbAlias = 1;
    return SSO_ROLE_INTERNAL_USER_VIEWER;
  }
  return SSO_ROLE_NONE;
}

SSO_PRIVATE const char *ssoAuthzRoleName(int eRole){
  return (eRole>0 && eRole<SSO_ROLE_COUNT) ? azAuthzRole[eRole] : "";
}

/* ---- The permission matrix ---- */

static const char *const azAuthzPath[SSO_ACT_COUNT] = {
  "/key/generate", "/key/info", "/key/update", "/key/delete", "/key/list",
  "/key/block", "/key/unblock", "/user/new", "/user/update", "/user/info",
  "/user/list", "/user/delete", "/audit/list"
};

/*
** The permission matrix: a row per role, a column per endpoint (in the
** order of azAuthzPath and the SSO_ACT_* numbers). N: refused, O: only
** the caller's own keys or user row, A: anything.
*/
#define N SSO_SCOPE_NONE
#define O SSO_SCOPE_OWN
#define A SSO_SCOPE_ANY
static const unsigned char aAuthzMatrix[SSO_ROLE_COUNT][SSO_ACT_COUNT] = {
  /*                  key/: gen inf upd del lst blk unb  user/: new upd inf
                                                      lst del  audit/list */
  [SSO_ROLE_NONE]                 = { N,N,N,N,N,N,N, N,N,N,N,N, N },
  [SSO_ROLE_INTERNAL_USER_VIEWER] = { N,O,N,N,O,N,N, N,N,O,N,N, N },
  [SSO_ROLE_INTERNAL_USER]        = { O,O,O,O,O,N,N, N,N,O,N,N, N },
  [SSO_ROLE_PROXY_ADMIN_VIEWER]   = { N,A,N,N,A,N,N, N,N,A,A,N, A },
  [SSO_ROLE_PROXY_ADMIN]          = { A,A,A,A,A,A,A, A,A,A,A,A, A },
};
#undef N
#undef O
#undef A

SSO_PRIVATE int ssoAuthzScope(int eRole, int eAction){
  if( eRole<=0 || eRole>=SSO_ROLE_COUNT ) return SSO_SCOPE_NONE;
  if( eAction<0 || eAction>=SSO_ACT_COUNT ) return SSO_SCOPE_NONE;
  return aAuthzMatrix[eRole][eAction];
}

SSO_PRIVATE const char *ssoAuthzActionPath(int eAction){
  if( eAction<0 || eAction>=SSO_ACT_COUNT ) return "";
  return azAuthzPath[eAction];
}

SSO_PRIVATE int ssoAuthzMayTouch(const SsoCaller *p, int eAction,
                                 const char *zOwner, const char *zKeyHash){
  switch( ssoAuthzScope(p->eRole, eAction) ){
    case SSO_SCOPE_ANY:
      return 1;
    case SSO_SCOPE_OWN:
      if( p->zUserId ) return zOwner && strcmp(zOwner, p->zUserId)==0;
      /* A key without an owner owns nothing but itself. */
      return zKeyHash && p->key.zHash && strcmp(zKeyHash, p->key.zHash)==0;
  }
  return 0;
}

/* ---- Errors ---- */

/*
** vsnprintf() that never leaves half a UTF-8 character at the end when
** it truncates, so a message with user text in it stays valid JSON text.
*/
static void authzPrintf(char *z, size_t nZ, const char *zFmt, va_list ap)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 0)))
#endif
  ;
static void authzPrintf(char *z, size_t nZ, const char *zFmt, va_list ap){
  size_t n;
  vsnprintf(z, nZ, zFmt, ap);
  n = strlen(z);
  if( n+1<nZ ) return;
  while( n>0 && ((unsigned char)z[n-1] & 0xc0)==0x80 ) n--;
  if( n>0 && (unsigned char)z[n-1]>=0xc0 ) n--;
  z[n] = 0;
}

SSO_PRIVATE int ssoAuthzFailV(SsoAuthzErr *p, int iStatus, const char *zType,
                              const char *zParam, const char *zFmt,
                              va_list ap){
  if( p->iStatus ) return SSOPROXY_ERROR;    /* The first error wins */
  p->iStatus = iStatus;
  p->zType = zType;
  p->zParam = zParam;
  authzPrintf(p->zMsg, sizeof(p->zMsg), zFmt, ap);
  return SSOPROXY_ERROR;
}

SSO_PRIVATE int ssoAuthzFail(SsoAuthzErr *p, int iStatus, const char *zType,
                             const char *zParam, const char *zFmt, ...){
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = ssoAuthzFailV(p, iStatus, zType, zParam, zFmt, ap);
  va_end(ap);
  return rc;
}

static int authzDenied(SsoAuthzErr *p, const char *zMsg){
  return ssoAuthzFail(p, 401, "auth_error", 0, "%s", zMsg);
}

/* ---- Key text ---- */

SSO_PRIVATE void ssoAuthzKeyHash(const char *z, size_t n, char *zHex){
  unsigned char a[SSO_SHA256_LEN];
  ssoSha256(z, n, a);
  ssoHexEncode(a, sizeof(a), zHex);
}

/* Copy n bytes, each outside printable ASCII as '?': what a client sent
** may be any bytes, and what we show of it must be plain text. */
static void authzShow(char *zOut, const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    zOut[i] = (z[i]>0x20 && z[i]<0x7f) ? z[i] : '?';
  }
  zOut[n] = 0;
}

SSO_PRIVATE void ssoAuthzKeyDisplay(const char *z, size_t n, char *zOut){
  size_t nTail = n<4 ? n : 4;
  memcpy(zOut, "sk-...", 6);
  authzShow(zOut+6, z+n-nTail, nTail);
}

SSO_PRIVATE void ssoAuthzMask(const char *z, size_t n, char *zOut,
                              size_t nOut){
  assert( nOut>=9 );
  memcpy(zOut, "****", 5);
  /* A short secret keeps nothing: four characters of it are too many. */
  if( n>=16 ) authzShow(zOut+4, z+n-4, 4);
}

SSO_PRIVATE int ssoAuthzKeyNew(SsoRng *pRng, char *zOut){
  unsigned char a[SSO_KEY_RANDOM];
  int rc = ssoRngBytes(pRng, a, sizeof(a));
  if( rc==SSOPROXY_OK ){
    memcpy(zOut, SSO_KEY_PREFIX, 3);
    ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, zOut+3);
  }
  memset(a, 0, sizeof(a));
  return rc;
}

SSO_PRIVATE void ssoAuthzTimeText(long long tMs, char *z){
  time_t t = (time_t)(tMs/1000);
  struct tm tm;
  char zTmp[96];      /* Room for any int the compiler imagines */
  if( tMs<0 || gmtime_r(&t, &tm)==0 ){
    memcpy(z, "1970-01-01T00:00:00.000Z", 25);
    return;
  }
  snprintf(zTmp, sizeof(zTmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(tMs%1000));
  memcpy(z, zTmp, 31);
  z[31] = 0;
}

/* ---- Credentials ---- */

SSO_PRIVATE void ssoAuthzInit(SsoAuthz *p, const char *zMasterKey){
  memset(p, 0, sizeof(*p));
  if( zMasterKey && zMasterKey[0] ){
    p->bMaster = 1;
    ssoSha256(zMasterKey, strlen(zMasterKey), p->aMaster);
  }
}

/* Strip a leading "Bearer " (scheme case-insensitive, RFC 9110 §11.1). */
static int authzBearer(SsoStr *p){
  if( p->n>=7 && strncasecmp(p->z, "Bearer ", 7)==0 ){
    p->z += 7;
    p->n -= 7;
    while( p->n>0 && (p->z[0]==' ' || p->z[0]=='\t') ){ p->z++; p->n--; }
    return 1;
  }
  return 0;
}

/*
** LiteLLM's headers, in its order: the standard one, its own, Azure's,
** Anthropic's. The first one present is the credential; a request does
** not get to try several.
*/
static const char *const azAuthzHeader[] = {
  "Authorization", "x-litellm-api-key", "api-key", "x-api-key"
};

SSO_PRIVATE int ssoAuthzCredential(const SsoHttpHeader *aHdr, int nHdr,
                                   SsoStr *pCred, SsoAuthzErr *pErr){
  size_t i;
  int j;
  for(i=0; i<SSO_ARRAYSIZE(azAuthzHeader); i++){
    for(j=0; j<nHdr; j++){
      if( ssoHttpStrIEq(aHdr[j].name, azAuthzHeader[i]) ) break;
    }
    if( j==nHdr ) continue;
    *pCred = aHdr[j].value;
    if( !authzBearer(pCred) && i==0 ){
      authzDenied(pErr, "Malformed API Key passed in. Ensure Key "
                  "has `Bearer ` prefix.");
      return SSOPROXY_PARSE;
    }
    if( pCred->n==0 ){
      authzDenied(pErr, "No api key passed in.");
      return SSOPROXY_PARSE;
    }
    return SSOPROXY_OK;
  }
  pCred->z = "";
  pCred->n = 0;
  return SSOPROXY_NOTFOUND;
}

/* The caller's role and actor name, once key and owner are known. */
static int authzFromUser(SsoCaller *p, SsoArena *pArena){
  p->zUserId = p->user.zId;
  p->eRole = ssoAuthzRole(p->user.zRole, 0);
  if( p->zUserId ){
    p->zActor = p->zUserId;
  }else{
    /* A key without an owner: LiteLLM lets such keys read themselves. */
    char *z = ssoArenaAlloc(pArena, 4+SSO_KEY_DISPLAY);
    if( z==0 ) return SSOPROXY_NOMEM;
    snprintf(z, 4+SSO_KEY_DISPLAY, "key:%s", p->key.zDisplay);
    p->zActor = z;
    p->eRole = SSO_ROLE_INTERNAL_USER_VIEWER;
  }
  return SSOPROXY_OK;
}

/* The key behind credential c (aSha: its SHA-256, the key table's
** index as hex), checked for every reason to refuse it. */
static int authzKey(SsoStore *pStore, SsoStr c, const unsigned char *aSha,
                    long long tNow, SsoArena *pArena, SsoCaller *p,
                    SsoAuthzErr *pErr){
  char zHash[SSO_KEY_HEX], zShow[SSO_KEY_DISPLAY], zExp[32], zNow[32];
  int rc;
  ssoAuthzKeyDisplay(c.z, c.n, zShow);
  ssoHexEncode(aSha, SSO_SHA256_LEN, zHash);
  rc = ssoStoreKeyAuth(pStore, zHash, pArena, &p->key, &p->user);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "Invalid proxy server token passed. Received API Key "
                        "= %s. Unable to find token in the key table.",
                        zShow);
  }
  if( rc ) return rc;
  p->eKind = SSO_CALLER_KEY;
  if( p->key.tExpires && p->key.tExpires<=tNow ){
    ssoAuthzTimeText(p->key.tExpires, zExp);
    ssoAuthzTimeText(tNow, zNow);
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error - "
                        "Expired Key. Key Expiry time %s and current time "
                        "%s", zExp, zNow);
  }
  if( p->key.bBlocked ){
    return authzDenied(pErr, "Authentication Error, Key is blocked. "
                       "Update via `/key/unblock` if you're admin.");
  }
  if( p->user.zId && p->user.bDisabled ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "User %s is disabled.", p->user.zId);
  }
  return authzFromUser(p, pArena);
}

/* A browser session (when a session module is plugged in). */
static int authzSession(const SsoAuthz *pAuthz, SsoStore *pStore,
                        SsoStr method, const SsoHttpHeader *aHdr, int nHdr,
                        long long tNow, SsoArena *pArena, SsoCaller *p,
                        SsoAuthzErr *pErr){
  const char *zUserId = 0;
  int rc = SSOPROXY_NOTFOUND;
  if( pAuthz->xSession ){
    rc = pAuthz->xSession(pAuthz->pSessionArg, method, aHdr, nHdr, pStore,
                          tNow, pArena, &zUserId);
  }
  if( rc==SSOPROXY_CONSTRAINT ){
    return ssoAuthzFail(pErr, 403, "auth_error", "X-CSRF-Token",
                        "A browser session must send its CSRF token in the "
                        "X-CSRF-Token header with this request.");
  }
  if( rc==SSOPROXY_NOTFOUND ){
    return authzDenied(pErr, "No api key passed in.");
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserGet(pStore, zUserId, pArena,
                                             &p->user);
  if( rc==SSOPROXY_NOTFOUND ){
    return authzDenied(pErr, "Authentication Error, the session's "
                       "user no longer exists.");
  }
  if( rc ) return rc;
  if( p->user.bDisabled ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "User %s is disabled.", p->user.zId);
  }
  p->eKind = SSO_CALLER_SESSION;
  return authzFromUser(p, pArena);
}

SSO_PRIVATE int ssoAuthzAuthenticate(const SsoAuthz *pAuthz,
                                     SsoStore *pStore, SsoStr method,
                                     const SsoHttpHeader *aHdr, int nHdr,
                                     long long tNow, SsoArena *pArena,
                                     SsoCaller *p, SsoAuthzErr *pErr){
  unsigned char aGiven[SSO_SHA256_LEN];
  char zMask[16];
  SsoStr c;
  int rc;
  memset(p, 0, sizeof(*p));
  rc = ssoAuthzCredential(aHdr, nHdr, &c, pErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return authzSession(pAuthz, pStore, method, aHdr, nHdr, tNow, pArena, p,
                        pErr);
  }
  if( rc ) return SSOPROXY_ERROR;
  /* One digest serves both checks: the master key is compared by its
  ** hash (in constant time), and a virtual key is looked up by it. */
  ssoSha256(c.z, c.n, aGiven);
  if( pAuthz->bMaster ){
    if( ssoCtEqual(aGiven, pAuthz->aMaster, sizeof(aGiven)) ){
      p->eKind = SSO_CALLER_MASTER;
      p->eRole = SSO_ROLE_PROXY_ADMIN;
      p->zActor = "master_key";
      return SSOPROXY_OK;
    }
  }
  if( c.n<3 || memcmp(c.z, SSO_KEY_PREFIX, 3)!=0 ){
    ssoAuthzMask(c.z, c.n, zMask, sizeof(zMask));
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "LiteLLM Virtual Key "
                        "expected. Received=%s, expected to start with "
                        "'sk-'.", zMask);
  }
  return authzKey(pStore, c, aGiven, tNow, pArena, p, pErr);
}
