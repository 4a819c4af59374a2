/*
** Layer 4: the OpenID Connect relying party (OIDC Core 1.0, authorization
** code flow only) behind LiteLLM's GENERIC_* settings.
**
** A login (GET /sso/key/generate, or ssoOidcLogin() from another module)
** makes a random state, nonce and PKCE verifier (RFC 7636, S256 only),
** keeps them with the return-to path in a single-use store grant of kind
** "login" named by the SHA-256 of the state, and binds that grant to the
** browser: the grant holds the SHA-256 of a random "ssoproxy_login"
** cookie (HttpOnly, SameSite=Lax, Path=/sso/callback) set on the
** redirect. A browser keeps one such cookie for all its logins, so two
** tabs signing in at once do not undo each other.
**
** The callback (GET /sso/callback) first uses up the state (the grant's
** use count goes to 1; a second use, an expired grant, a missing state or
** a callback from a browser without the matching cookie is refused), then
** shows an IdP error plainly, checks the RFC 9207 "iss" parameter,
** exchanges the code, validates the id_token, calls userinfo, and only
** then writes the user and starts the session. Every refusal is a 4xx
** page that says why; an IdP that cannot be reached or answers too late
** is a 502/504 page. Every call to the IdP is asynchronous on the
** worker's loop (ssoApiWorkerClient), so a slow IdP delays nobody else.
**
** Decisions (documented in README.md, "Single sign-on"):
**
**  - Endpoints: with GENERIC_ISSUER, from its discovery document, whose
**    "issuer" must equal the setting byte for byte (Discovery §4.3);
**    explicit GENERIC_*_ENDPOINT settings override single entries. The
**    document and the JWKS are cached process-wide (under a mutex) and
**    re-read after SSO_OIDC_META_MS.
**  - The RFC 9207 "iss" parameter, when present, must equal the issuer
**    (GENERIC_ISSUER); with explicit endpoints and no issuer, it must
**    have the token endpoint's origin, and then the id_token's "iss" must
**    equal it. When the discovery document announces
**    authorization_response_iss_parameter_supported, a missing "iss" is
**    refused (RFC 9207 §2.4).
**  - id_token signature: through the JWKS (discovery's jwks_uri, or
**    GENERIC_JWKS_ENDPOINT), re-fetched once on an unknown "kid", at
**    most once per SSO_OIDC_JWKS_FORCE_MS. With neither (the seed guide's
**    setup) the token came straight from the token endpoint over TLS, so
**    its signature check rests on that channel (OIDC Core 3.1.3.7 item
**    6); aud, azp, exp, iat, sub and nonce are still checked and "iss"
**    must have the token endpoint's origin.
**  - Claims: userinfo wins over the id_token for every claim read (the
**    id_token fills what userinfo lacks, e.g. a role only in the
**    id_token); userinfo's "sub" must equal the id_token's.
**  - Client authentication: client_secret_basic with id and secret
**    form-urlencoded before base64 (RFC 6749 §2.3.1) by default;
**    SSOPROXY_CLIENT_AUTH_METHOD=client_secret_post sends both in the
**    body instead. GENERIC_INCLUDE_CLIENT_ID=true adds client_id to the
**    body, as LiteLLM does, while keeping Basic.
**  - Roles: the role claim (GENERIC_USER_ROLE_ATTRIBUTE, dot-path, case
**    ignored, first element of a list) and the group mappings
**    (GENERIC_ROLE_MAPPINGS_*) each give a role or none; the higher one
**    counts. A new user without one gets GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE
**    or internal_user_viewer. An existing user's role follows the IdP at
**    every login (SSOPROXY_ROLE_SYNC=always) when the IdP gives a role;
**    with role mappings configured, a user in no mapped group falls back
**    to the default role (leaving a group takes its role away); with
**    neither, the stored role stays. PROXY_ADMIN_ID is always proxy_admin.
**  - Pre-provisioning: a user created locally (/user/new, the CLI) is
**    never taken over by an SSO login with the same id: the login is
**    refused with a page saying so (an id claim such as
**    preferred_username may be chosen by the user at some IdPs).
**    Provision roles at the IdP (claim or group) instead.
*/
#include "ssoInt.h"
#include <pthread.h>
#include <strings.h>

#define OIDC_COOKIE      "ssoproxy_login"
#define OIDC_COOKIE_LEN  43           /* base64url of 32 random bytes */
#define OIDC_GRANT_KIND  "login"

/* Which IdP call a flow is waiting for. */
#define OIDC_CALL_DISC      1
#define OIDC_CALL_TOKEN     2
#define OIDC_CALL_JWKS      3
#define OIDC_CALL_USERINFO  4

typedef struct OidcMap OidcMap;
struct OidcMap {
  const char *zGroup;       /* Group name, exactly as in the claim */
  int eRole;                /* SSO_ROLE_* it gives */
};

struct SsoOidc {
  SsoArena arena;           /* Every string of the settings below */
  const SsoSessions *pSessions;
  SsoLog *pLog;
  const char *zBaseUrl;     /* PROXY_BASE_URL, trailing '/' removed */
  const char *zRedirectUri; /* zBaseUrl + "/sso/callback" */
  const char *zClientId, *zClientSecret;
  const char *zBasic;       /* "Basic base64(enc(id):enc(secret))" */
  const char *zIssuer;
  const char *zAuthEp, *zTokenEp, *zUserinfoEp, *zJwksEp;
  const char *zScope;
  const char *zIdAttr, *zEmailAttr, *zNameAttr, *zFirstAttr, *zLastAttr;
  const char *zRoleAttr, *zGroupClaim;
  OidcMap *aMap;            /* GENERIC_ROLE_MAPPINGS_ROLES */
  int nMap;
  int eDefaultRole;         /* New users without a role */
  SsoHttpHeader aHdr[SSO_OIDC_MAX_HEADERS];   /* GENERIC_SSO_HEADERS */
  int nHdr;
  const char *zLogoutUrl, *zEmailDomains, *zAdminId;
  int bIncludeClientId, bSecretPost, bAutoRedirect, bRoleFirstLogin;
  int bSecure;              /* https base URL: Secure cookie */
  long long msStateTtl;
  int msCall;               /* Wait for each answer of the IdP */
  SsoOidcKeyFlowFn xKeyFlow;
  void *pKeyFlowArg;
  /* The process-wide cache, shared by every worker, under mu. */
  pthread_mutex_t mu;
  char *zDisc;              /* Discovery document text (issuer checked) */
  long long tDisc;          /* Monotonic ms it was read */
  char *zJwks;              /* JWKS text */
  long long tJwks;
  long long tJwksForced;    /* Last re-fetch forced by an unknown kid */
};

/* The endpoints one flow uses: settings, else discovery (arena strings). */
typedef struct OidcMeta OidcMeta;
struct OidcMeta {
  const char *zIssuer, *zAuth, *zToken, *zUserinfo, *zJwks, *zEndSession;
  int bIssParam;            /* authorization_response_iss_parameter_supported */
};

/* A login or callback in progress. */
typedef struct OidcFlow OidcFlow;
struct OidcFlow {
  SsoOidc *p;
  SsoServerReq *req;
  SsoApiWorker *pW;
  SsoClientCall *pCall;     /* The IdP call in flight, if any */
  int eCall;                /* OIDC_CALL_* of pCall */
  int bAsync;               /* ssoServerAsync() done */
  int bLogin;               /* Login redirect; else callback */
  SsoArena arena;           /* Everything below */
  OidcMeta m;
  const char *zReturnTo;
  const char *zNonce, *zVerifier, *zCode, *zIssParam;
  SsoBuf body;              /* Token request body, alive during the call */
  const char *zIdToken, *zAccess;
  SsoJwt jwt;
  int bJwt;                 /* jwt needs ssoJwtFree() */
  int bJwksFresh;           /* The JWKS was fetched during this flow */
  int bJwksForced;          /* ... because of an unknown kid */
  SsoJsonDoc *pToken;       /* The token response */
  SsoJsonDoc *pUserinfo;
};

/* ================= Small helpers ================= */

/* A copy of z into p's arena, with "" meaning unset (NULL). */
static const char *oidcDup(SsoArena *a, const char *z, int *pbOom){
  char *zCopy;
  if( z==0 || z[0]==0 ) return 0;
  zCopy = ssoArenaStrndup(a, z, strlen(z));
  if( zCopy==0 ) *pbOom = 1;
  return zCopy;
}

/*
** The role named by z[0..n), ASCII case ignored (LiteLLM lower-cases the
** claim), internal_user_view_only accepted as the old name of
** internal_user_viewer. SSO_ROLE_NONE for anything else.
*/
static int oidcRoleName(const char *z, size_t n){
  char zLow[32];
  size_t i;
  if( z==0 || n==0 || n>=sizeof(zLow) ) return SSO_ROLE_NONE;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c==0 ) return SSO_ROLE_NONE;
    zLow[i] = (c>='A' && c<='Z') ? (char)(c - 'A' + 'a') : c;
  }
  zLow[n] = 0;
  return ssoAuthzRole(zLow, 0);
}

/* The role a claim value names: a string, or a list's first element. */
static int oidcRoleOf(const SsoJson *v){
  const char *z;
  size_t n;
  if( ssoJsonType(v)==SSO_JSON_ARRAY ) v = ssoJsonAt(v, 0);
  z = ssoJsonStr(v, &n);
  return z ? oidcRoleName(z, n) : SSO_ROLE_NONE;
}

/* Parse z as an http(s) URL without userinfo or fragment. */
static int oidcUrlOk(SsoArena *a, const char *z, SsoUrl *pUrl){
  if( ssoUrlParse(a, z, strlen(z), pUrl, 0) ) return 0;
  if( strcmp(pUrl->scheme.z, "http")!=0 && strcmp(pUrl->scheme.z, "https")!=0 ){
    return 0;
  }
  return !pUrl->bUserinfo && !pUrl->bFragment;
}

/* 1 if the URLs zA and zB have the same origin (RFC 6454). */
static int oidcSameOrigin(const char *zA, const char *zB){
  SsoArena a;
  SsoUrl uA, uB;
  SsoBuf bA, bB;
  int bSame = 0;
  ssoArenaInit(&a, 0);
  ssoBufInit(&bA, SSO_URL_MAX*2);
  ssoBufInit(&bB, SSO_URL_MAX*2);
  if( zA && zB
   && ssoUrlParse(&a, zA, strlen(zA), &uA, 0)==SSOPROXY_OK
   && ssoUrlParse(&a, zB, strlen(zB), &uB, 0)==SSOPROXY_OK
   && ssoUrlAppendOrigin(&bA, &uA)==SSOPROXY_OK
   && ssoUrlAppendOrigin(&bB, &uB)==SSOPROXY_OK
   && bA.rc==0 && bB.rc==0 ){
    bSame = strcmp(ssoBufStr(&bA), ssoBufStr(&bB))==0;
  }
  ssoBufFree(&bA);
  ssoBufFree(&bB);
  ssoArenaFree(&a);
  return bSame;
}

/* 32 random bytes as 43 base64url characters into z[44]. */
static int oidcRandom(SsoRng *pRng, char *z){
  unsigned char a[32];
  int rc = ssoRngBytes(pRng, a, sizeof(a));
  if( rc ) return rc;
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, z);
  return SSOPROXY_OK;
}

/* SHA-256 of z as lower hex into zHex[SSO_KEY_HEX]. */
static void oidcHashHex(const char *z, size_t n, char *zHex){
  unsigned char a[SSO_SHA256_LEN];
  ssoSha256(z, n, a);
  ssoHexEncode(a, sizeof(a), zHex);
}

/*
** The value of cookie zName in the request's Cookie fields (RFC 6265
** §5.4: "name=value" pairs separated by "; "). 1 and *pVal if found.
*/
static int oidcCookie(const SsoServerReq *req, const char *zName,
                      SsoStr *pVal){
  size_t nName = strlen(zName);
  int i;
  for(i=0; i<req->nHdr; i++){
    const SsoHttpHeader *h = &req->aHdr[i];
    const char *z = h->value.z, *zEnd = z + h->value.n;
    if( !ssoHttpStrIEq(h->name, "cookie") ) continue;
    while( z<zEnd ){
      const char *zSemi = memchr(z, ';', (size_t)(zEnd - z));
      const char *zPairEnd = zSemi ? zSemi : zEnd;
      while( z<zPairEnd && *z==' ' ) z++;
      if( (size_t)(zPairEnd - z)>nName && memcmp(z, zName, nName)==0
       && z[nName]=='=' ){
        pVal->z = z + nName + 1;
        pVal->n = (size_t)(zPairEnd - pVal->z);
        return 1;
      }
      z = zPairEnd + (zSemi ? 1 : 0);
    }
  }
  return 0;
}

/* ================= Settings ================= */

/*
** GENERIC_ROLE_MAPPINGS_ROLES: {"proxy_admin":["admins"],...}. LiteLLM
** parses it as a Python literal, so the same text with single quotes is
** accepted too (when it has no double quote at all).
*/
static int oidcParseMappings(SsoOidc *p, const char *z, char *zErr,
                             size_t nErr){
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr e;
  char *zCopy = 0;
  const SsoJson *pRoot;
  size_t i, j, nGroup = 0;
  int rc = ssoJsonParse(z, strlen(z), SSO_JSON_NODUP, &pDoc, &e);
  if( rc==SSOPROXY_PARSE && strchr(z, '\'') && !strchr(z, '"') ){
    size_t k;
    zCopy = ssoStrdup(z);
    if( zCopy==0 ) return SSOPROXY_NOMEM;
    for(k=0; zCopy[k]; k++) if( zCopy[k]=='\'' ) zCopy[k] = '"';
    rc = ssoJsonParse(zCopy, k, SSO_JSON_NODUP, &pDoc, &e);
  }
  if( rc==SSOPROXY_NOMEM ) goto end;
  pRoot = ssoJsonRoot(pDoc);
  if( rc || ssoJsonType(pRoot)!=SSO_JSON_OBJECT ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES "
                   "is not a JSON object of role -> list of groups, e.g. "
                   "{\"proxy_admin\":[\"admins\"]}%s%s", rc ? ": " : "",
                   rc ? e.zMsg : "");
    goto end;
  }
  for(i=0; i<ssoJsonCount(pRoot); i++){
    const SsoJson *v = ssoJsonAt(pRoot, i);
    nGroup += ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v) : 1;
  }
  if( nGroup>SSO_OIDC_MAX_MAPPED ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES "
                   "names more than %d groups", SSO_OIDC_MAX_MAPPED);
    goto end;
  }
  p->aMap = ssoArenaAlloc(&p->arena, (nGroup ? nGroup : 1)*sizeof(OidcMap));
  if( p->aMap==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  for(i=0; i<ssoJsonCount(pRoot); i++){
    const SsoJson *v = ssoJsonAt(pRoot, i);
    size_t nKey = 0;
    const char *zKey = ssoJsonKey(v, &nKey);
    int eRole = oidcRoleName(zKey, nKey);
    size_t nElem = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v) : 1;
    if( eRole==SSO_ROLE_NONE ){
      rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES:"
                     " unknown role \"%.40s\" (use %s)", zKey ? zKey : "",
                     SSO_ROLE_LIST);
      goto end;
    }
    for(j=0; j<nElem; j++){
      const SsoJson *g = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonAt(v, j) : v;
      const char *zGroup = ssoJsonCStr(g);
      if( zGroup==0 || zGroup[0]==0 ){
        rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG,
                       "GENERIC_ROLE_MAPPINGS_ROLES: the groups of %s must be "
                       "non-empty strings", ssoAuthzRoleName(eRole));
        goto end;
      }
      p->aMap[p->nMap].zGroup = ssoArenaStrndup(&p->arena, zGroup,
                                                strlen(zGroup));
      if( p->aMap[p->nMap].zGroup==0 ){ rc = SSOPROXY_NOMEM; goto end; }
      p->aMap[p->nMap++].eRole = eRole;
    }
  }
end:
  ssoJsonFree(pDoc);
  ssoFree(zCopy);
  return rc;
}

/* GENERIC_SSO_HEADERS: "Name=Value,Name2=Value2" (LiteLLM's format). */
static int oidcParseHeaders(SsoOidc *p, const char *z, char *zErr,
                            size_t nErr){
  const char *zEnd = z + strlen(z);
  while( z<zEnd ){
    const char *zComma = memchr(z, ',', (size_t)(zEnd - z));
    const char *zItem = zComma ? zComma : zEnd;
    const char *zEq = memchr(z, '=', (size_t)(zItem - z));
    const char *zName = z, *zValue;
    size_t nName, nValue, k;
    SsoHttpHeader *h;
    z = zItem + (zComma ? 1 : 0);
    while( zName<zItem && *zName==' ' ) zName++;
    if( zName==zItem ) continue;
    if( zEq==0 || zEq==zName ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                       "each entry must be Name=Value, separated by commas");
    }
    nName = (size_t)(zEq - zName);
    while( nName>0 && zName[nName-1]==' ' ) nName--;
    zValue = zEq + 1;
    while( zValue<zItem && *zValue==' ' ) zValue++;
    nValue = (size_t)(zItem - zValue);
    while( nValue>0 && zValue[nValue-1]==' ' ) nValue--;
    for(k=0; k<nName; k++){
      char c = zName[k];
      if( !((c>='a'&&c<='z') || (c>='A'&&c<='Z') || (c>='0'&&c<='9')
            || c=='-' || c=='_') ){
        return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                         "\"%.*s\" is not a header name", (int)nName, zName);
      }
    }
    if( p->nHdr>=SSO_OIDC_MAX_HEADERS ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                       "more than %d headers", SSO_OIDC_MAX_HEADERS);
    }
    h = &p->aHdr[p->nHdr++];
    h->name.z = ssoArenaStrndup(&p->arena, zName, nName);
    h->name.n = nName;
    h->value.z = ssoArenaStrndup(&p->arena, zValue, nValue);
    h->value.n = nValue;
    if( h->name.z==0 || h->value.z==0 ) return SSOPROXY_NOMEM;
  }
  return SSOPROXY_OK;
}

/*
** One endpoint setting: an http(s) URL without userinfo or fragment. Plain
** http to anything but a loopback address is allowed (homelabs, tests)
** but logged.
*/
static int oidcCheckUrl(SsoOidc *p, const char *zName, const char *zUrl,
                        char *zErr, size_t nErr){
  SsoArena a;
  SsoUrl u;
  int bOk, bWarn = 0;
  if( zUrl==0 ) return SSOPROXY_OK;
  ssoArenaInit(&a, 0);
  bOk = oidcUrlOk(&a, zUrl, &u);
  if( bOk && strcmp(u.scheme.z, "http")==0 && !ssoUrlIsLoopback(&u) ){
    bWarn = 1;
  }
  ssoArenaFree(&a);
  if( !bOk ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s is not an http:// or "
                     "https:// URL without user name or fragment: %.200s",
                     zName, zUrl);
  }
  if( bWarn ){
    ssoLog(p->pLog, SSO_LOG_WARN, "the IdP is reached over plain http (not "
           "TLS) on a non-loopback address: codes and tokens can be read on "
           "the way", "setting", zName, "url", zUrl, (char*)0);
  }
  return SSOPROXY_OK;
}

/* PROXY_BASE_URL: http(s), no query, fragment or user name. */
static int oidcCheckBase(SsoOidc *p, const char *z, char *zErr, size_t nErr){
  SsoArena a;
  SsoUrl u;
  SsoBuf b;
  size_t n;
  int bOk;
  if( z==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL is not set: "
                     "single sign-on needs ssoproxy's public URL (the IdP "
                     "sends browsers back to PROXY_BASE_URL/sso/callback)");
  }
  ssoArenaInit(&a, 0);
  bOk = oidcUrlOk(&a, z, &u) && !u.bQuery;
  if( bOk ) p->bSecure = strcmp(u.scheme.z, "https")==0;
  ssoArenaFree(&a);
  if( !bOk ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL must be an "
                     "http:// or https:// URL without query, fragment or "
                     "user name: %.200s", z);
  }
  n = strlen(z);
  while( n>0 && z[n-1]=='/' ) n--;
  p->zBaseUrl = ssoArenaStrndup(&p->arena, z, n);
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, z, n);
  ssoBufAppendStr(&b, "/sso/callback");
  p->zRedirectUri = b.rc ? 0 : ssoArenaStrndup(&p->arena, b.z, b.n);
  ssoBufFree(&b);
  return p->zBaseUrl && p->zRedirectUri ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

/* "openid" must be one of the space-separated scopes. */
static int oidcScopeHasOpenid(const char *z){
  size_t n = strlen("openid");
  while( *z ){
    size_t k = strcspn(z, " ");
    if( k==n && memcmp(z, "openid", n)==0 ) return 1;
    z += k;
    while( *z==' ' ) z++;
  }
  return 0;
}

/* The HTTP Basic credentials of RFC 6749 §2.3.1. */
static int oidcMakeBasic(SsoOidc *p){
  SsoBuf cred, b;
  int rc;
  ssoBufInit(&cred, 0);
  ssoBufInit(&b, 0);
  ssoUrlEncode(&cred, p->zClientId, strlen(p->zClientId), SSO_URL_FORM);
  ssoBufAppendChar(&cred, ':');
  ssoUrlEncode(&cred, p->zClientSecret, strlen(p->zClientSecret),
               SSO_URL_FORM);
  ssoBufAppendStr(&b, "Basic ");
  if( cred.rc==0 ) ssoB64Encode(&b, cred.z, cred.n, SSO_B64_STD);
  rc = cred.rc ? cred.rc : b.rc;
  if( rc==0 ){
    p->zBasic = ssoArenaStrndup(&p->arena, b.z, b.n);
    if( p->zBasic==0 ) rc = SSOPROXY_NOMEM;
  }
  if( cred.z ) memset(cred.z, 0, cred.n);
  ssoBufFree(&cred);
  ssoBufFree(&b);
  return rc;
}

/* Copy the settings; SSOPROXY_NOMEM if any copy failed. */
static int oidcCopyConfig(SsoOidc *p, const SsoOidcConfig *c){
  SsoArena *a = &p->arena;
  int bOom = 0;
  p->zClientId = oidcDup(a, c->zClientId, &bOom);
  p->zClientSecret = oidcDup(a, c->zClientSecret, &bOom);
  p->zIssuer = oidcDup(a, c->zIssuer, &bOom);
  p->zAuthEp = oidcDup(a, c->zAuthorizationEndpoint, &bOom);
  p->zTokenEp = oidcDup(a, c->zTokenEndpoint, &bOom);
  p->zUserinfoEp = oidcDup(a, c->zUserinfoEndpoint, &bOom);
  p->zJwksEp = oidcDup(a, c->zJwksEndpoint, &bOom);
  p->zScope = oidcDup(a, c->zScope ? c->zScope : "openid email profile",
                      &bOom);
#define OIDC_ATTR(f, z, d) p->f = oidcDup(a, c->z ? c->z : d, &bOom)
  OIDC_ATTR(zIdAttr, zIdAttr, "preferred_username");
  OIDC_ATTR(zEmailAttr, zEmailAttr, "email");
  OIDC_ATTR(zNameAttr, zNameAttr, "sub");
  OIDC_ATTR(zFirstAttr, zFirstNameAttr, "first_name");
  OIDC_ATTR(zLastAttr, zLastNameAttr, "last_name");
  OIDC_ATTR(zRoleAttr, zRoleAttr, "role");
#undef OIDC_ATTR
  p->zGroupClaim = oidcDup(a, c->zGroupClaim, &bOom);
  p->zLogoutUrl = oidcDup(a, c->zLogoutUrl, &bOom);
  p->zEmailDomains = oidcDup(a, c->zEmailDomains, &bOom);
  p->zAdminId = oidcDup(a, c->zAdminId, &bOom);
  p->bIncludeClientId = c->bIncludeClientId;
  p->bSecretPost = c->bClientSecretPost;
  p->bAutoRedirect = c->bAutoRedirect;
  p->bRoleFirstLogin = c->bRoleFirstLogin;
  p->msStateTtl = 1000LL*(c->nStateTtl>0 ? c->nStateTtl
                                         : SSO_OIDC_STATE_TTL_S);
  p->msCall = c->msIdpTimeout>0 ? c->msIdpTimeout : SSO_OIDC_CALL_MS;
  p->pLog = c->pLog;
  return bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

/* Every cross-setting rule, each with its own message. */
static int oidcValidate(SsoOidc *p, const SsoOidcConfig *c, char *zErr,
                        size_t nErr){
  int rc;
  if( p->zClientSecret==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_CLIENT_ID is set "
                     "but GENERIC_CLIENT_SECRET is not: the IdP's client "
                     "secret is required");
  }
  rc = oidcCheckBase(p, c->zBaseUrl && c->zBaseUrl[0] ? c->zBaseUrl : 0,
                     zErr, nErr);
  if( rc ) return rc;
  if( p->zIssuer==0 && p->zAuthEp==0 && p->zTokenEp==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "neither GENERIC_ISSUER "
                     "nor GENERIC_AUTHORIZATION_ENDPOINT and "
                     "GENERIC_TOKEN_ENDPOINT are set: single sign-on needs "
                     "the IdP's issuer (recommended) or its endpoints");
  }
  if( p->zIssuer==0 && (p->zAuthEp==0 || p->zTokenEp==0) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s is set but %s is not "
                     "(and there is no GENERIC_ISSUER to discover it)",
                     p->zAuthEp ? "GENERIC_AUTHORIZATION_ENDPOINT"
                                : "GENERIC_TOKEN_ENDPOINT",
                     p->zAuthEp ? "GENERIC_TOKEN_ENDPOINT"
                                : "GENERIC_AUTHORIZATION_ENDPOINT");
  }
  if( (rc = oidcCheckUrl(p, "GENERIC_ISSUER", p->zIssuer, zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_AUTHORIZATION_ENDPOINT", p->zAuthEp,
                         zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_TOKEN_ENDPOINT", p->zTokenEp, zErr,
                         nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_USERINFO_ENDPOINT", p->zUserinfoEp,
                         zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_JWKS_ENDPOINT", p->zJwksEp, zErr,
                         nErr))!=0 ){
    return rc;
  }
  if( p->zIssuer && strchr(p->zIssuer, '?') ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ISSUER must not "
                     "have a query (OpenID Connect Discovery §2)");
  }
  if( p->zLogoutUrl && (rc = oidcCheckUrl(p, "PROXY_LOGOUT_URL",
                                          p->zLogoutUrl, zErr, nErr))!=0 ){
    return rc;
  }
  if( !oidcScopeHasOpenid(p->zScope) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SCOPE must "
                     "contain openid (the login needs an id_token): %.200s",
                     p->zScope);
  }
  if( c->zRoleMappings && c->zRoleMappings[0] ){
    rc = oidcParseMappings(p, c->zRoleMappings, zErr, nErr);
    if( rc ) return rc;
    if( p->zGroupClaim==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_"
                       "ROLES is set but GENERIC_ROLE_MAPPINGS_GROUP_CLAIM "
                       "is not: name the claim holding the groups, e.g. "
                       "groups");
    }
  }
  p->eDefaultRole = SSO_ROLE_INTERNAL_USER_VIEWER;
  if( c->zDefaultRole && c->zDefaultRole[0] ){
    p->eDefaultRole = oidcRoleName(c->zDefaultRole, strlen(c->zDefaultRole));
    if( p->eDefaultRole==SSO_ROLE_NONE ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_"
                       "DEFAULT_ROLE: unknown role \"%.40s\" (use %s)",
                       c->zDefaultRole, SSO_ROLE_LIST);
    }
  }
  if( c->zSsoHeaders && c->zSsoHeaders[0] ){
    rc = oidcParseHeaders(p, c->zSsoHeaders, zErr, nErr);
    if( rc ) return rc;
  }
  return oidcMakeBasic(p);
}

SSO_PRIVATE int ssoOidcNew(const SsoOidcConfig *pCfg,
                           const SsoSessions *pSessions, SsoOidc **pp,
                           char *zErr, size_t nErr){
  SsoOidc *p;
  int rc;
  *pp = 0;
  if( zErr && nErr ) zErr[0] = 0;
  if( pCfg->zClientId==0 || pCfg->zClientId[0]==0 ) return SSOPROXY_OK;
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  ssoArenaInit(&p->arena, 0);
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoArenaFree(&p->arena);
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  p->pSessions = pSessions;
  rc = oidcCopyConfig(p, pCfg);
  if( rc==SSOPROXY_OK ) rc = oidcValidate(p, pCfg, zErr, nErr);
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
    ssoOidcFree(p);
    return rc;
  }
  *pp = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoOidcFree(SsoOidc *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zDisc);
  ssoFree(p->zJwks);
  ssoArenaFree(&p->arena);
  ssoFree(p);
}

SSO_PRIVATE int ssoOidcAutoRedirect(const SsoOidc *p){
  return p ? p->bAutoRedirect : 0;
}

SSO_PRIVATE int ssoOidcBackChannelOnly(const SsoOidc *p){
  return p && p->zIssuer==0 && p->zJwksEp==0;
}

SSO_PRIVATE void ssoOidcSetKeyFlow(SsoOidc *p, SsoOidcKeyFlowFn xFlow,
                                   void *pArg){
  if( p==0 ) return;
  p->xKeyFlow = xFlow;
  p->pKeyFlowArg = pArg;
}

/* ================= Identity and role ================= */

/* The claims of one login: userinfo wins, the id_token fills in. */
typedef struct OidcClaims OidcClaims;
struct OidcClaims {
  const SsoJson *pUser;     /* Userinfo object, or NULL */
  const SsoJson *pId;       /* id_token claims, or NULL */
};

static const SsoJson *oidcClaim(const OidcClaims *c, const char *zPath){
  const SsoJson *v = 0;
  if( zPath==0 || zPath[0]==0 ) return 0;
  if( c->pUser ) v = ssoJsonGetPath(c->pUser, zPath);
  if( v==0 || ssoJsonType(v)==SSO_JSON_NULL ){
    v = c->pId ? ssoJsonGetPath(c->pId, zPath) : 0;
  }
  return ssoJsonType(v)==SSO_JSON_NULL ? 0 : v;
}

/* A claim as text (strings, and numbers as written), or NULL. */
static const char *oidcClaimText(const OidcClaims *c, const char *zPath,
                                 SsoArena *a){
  const SsoJson *v = oidcClaim(c, zPath);
  size_t n;
  const char *z = ssoJsonStr(v, &n);
  if( z==0 ) z = ssoJsonNumText(v, &n);
  if( z==0 || n==0 || memchr(z, 0, n) ) return 0;
  return ssoArenaStrndup(a, z, n);
}

/* What a login says about the user, before the store is consulted. */
typedef struct OidcIdentity OidcIdentity;
struct OidcIdentity {
  const char *zId, *zEmail, *zName;
  int eRole;                /* Claim or mapped group, the higher; or NONE */
  const char *zGroups;      /* JSON array text of the groups */
};

/* 1 if zEmail's domain is in the comma list zList (case ignored). */
static int oidcEmailAllowed(const char *zList, const char *zEmail){
  const char *zAt = zEmail ? strrchr(zEmail, '@') : 0;
  const char *zDom;
  size_t nDom;
  if( zList==0 ) return 1;
  if( zAt==0 ) return 0;
  zDom = zAt + 1;
  nDom = strlen(zDom);
  while( *zList ){
    size_t k = strcspn(zList, ","), n = k;
    const char *z = zList;
    while( n>0 && (*z==' ' || *z=='@') ){ z++; n--; }
    while( n>0 && z[n-1]==' ' ) n--;
    if( n==nDom && n>0 ){
      size_t i;
      for(i=0; i<n; i++){
        char a = z[i], b = zDom[i];
        if( a>='A' && a<='Z' ) a = (char)(a - 'A' + 'a');
        if( b>='A' && b<='Z' ) b = (char)(b - 'A' + 'a');
        if( a!=b ) break;
      }
      if( i==n ) return 1;
    }
    zList += k + (zList[k]==',');
  }
  return 0;
}

/* The groups claim as a JSON array, and the highest role they map to. */
static int oidcGroups(const SsoOidc *p, const OidcClaims *c, SsoArena *a,
                      OidcIdentity *pOut){
  const SsoJson *v = oidcClaim(c, p->zGroupClaim ? p->zGroupClaim
                                                 : "groups");
  SsoBuf b;
  SsoJsonWriter w;
  size_t i, n;
  int eBest = SSO_ROLE_NONE;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  n = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v)
    : ssoJsonType(v)==SSO_JSON_STRING ? 1 : 0;
  if( n>SSO_OIDC_MAX_GROUPS ) n = SSO_OIDC_MAX_GROUPS;
  for(i=0; i<n; i++){
    const SsoJson *g = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonAt(v, i) : v;
    const char *z = ssoJsonCStr(g);
    int k;
    if( z==0 ) continue;
    ssoJsonWriteString(&w, z);
    for(k=0; k<p->nMap; k++){
      if( strcmp(p->aMap[k].zGroup, z)==0 && p->aMap[k].eRole>eBest ){
        eBest = p->aMap[k].eRole;
      }
    }
  }
  ssoJsonWriteEndArray(&w);
  if( ssoJsonWriteFinish(&w) || b.rc ){
    ssoBufFree(&b);
    return SSOPROXY_NOMEM;
  }
  pOut->zGroups = ssoArenaStrndup(a, b.z, b.n);
  ssoBufFree(&b);
  if( pOut->zGroups==0 ) return SSOPROXY_NOMEM;
  if( eBest>pOut->eRole ) pOut->eRole = eBest;
  return SSOPROXY_OK;
}

/*
** Read the identity from the claims. SSOPROXY_OK; SSOPROXY_CONSTRAINT
** with *pzWhy (static text) when the login must be refused (no user id,
** e-mail domain not allowed); SSOPROXY_NOMEM.
*/
static int oidcIdentity(const SsoOidc *p, const OidcClaims *c, SsoArena *a,
                        OidcIdentity *pOut, const char **pzWhy){
  memset(pOut, 0, sizeof(*pOut));
  *pzWhy = 0;
  pOut->zId = oidcClaimText(c, p->zIdAttr, a);
  pOut->zEmail = oidcClaimText(c, p->zEmailAttr, a);
  pOut->zName = oidcClaimText(c, p->zNameAttr, a);
  if( pOut->zId==0 ){
    /* LiteLLM's fall-backs: first and last name, then the e-mail. */
    const char *zFirst = oidcClaimText(c, p->zFirstAttr, a);
    const char *zLast = oidcClaimText(c, p->zLastAttr, a);
    if( zFirst || zLast ){
      size_t n1 = zFirst ? strlen(zFirst) : 0, n2 = zLast ? strlen(zLast) : 0;
      char *z = ssoArenaAlloc(a, n1 + n2 + 1);
      if( z==0 ) return SSOPROXY_NOMEM;
      if( n1 ) memcpy(z, zFirst, n1);
      if( n2 ) memcpy(z+n1, zLast, n2);
      z[n1+n2] = 0;
      pOut->zId = z;
    }else{
      pOut->zId = pOut->zEmail;
    }
  }
  if( pOut->zId==0 ){
    *pzWhy = "The identity provider gave no user id: the claim named by "
             "GENERIC_USER_ID_ATTRIBUTE (and the e-mail fall-back) is "
             "missing.";
    return SSOPROXY_CONSTRAINT;
  }
  if( strlen(pOut->zId)>SSO_JOSE_MAX_SUB ){
    *pzWhy = "The user id from the identity provider is too long.";
    return SSOPROXY_CONSTRAINT;
  }
  if( !oidcEmailAllowed(p->zEmailDomains, pOut->zEmail) ){
    *pzWhy = "Your e-mail address is not in a domain allowed to sign in "
             "here (ALLOWED_EMAIL_DOMAINS).";
    return SSOPROXY_CONSTRAINT;
  }
  pOut->eRole = oidcRoleOf(oidcClaim(c, p->zRoleAttr));
  return oidcGroups(p, c, a, pOut);
}

/*
** The role to store for user pId, given the existing row pOld (NULL: a
** new user). See the head of this file for the rules.
*/
static int oidcRoleToStore(const SsoOidc *p, const OidcIdentity *pId,
                           const SsoUser *pOld){
  int eOld;
  if( p->zAdminId && strcmp(p->zAdminId, pId->zId)==0 ){
    return SSO_ROLE_PROXY_ADMIN;
  }
  if( pOld==0 ) return pId->eRole ? pId->eRole : p->eDefaultRole;
  eOld = ssoAuthzRole(pOld->zRole, 0);
  if( eOld==SSO_ROLE_NONE ) eOld = p->eDefaultRole;
  if( p->bRoleFirstLogin ) return eOld;
  if( pId->eRole ) return pId->eRole;
  return p->nMap>0 ? p->eDefaultRole : eOld;
}

/* ================= The discovery and JWKS cache ================= */

/* A copy of *pzText (fresh within SSO_OIDC_META_MS unless bStale) in a. */
static const char *oidcCacheGet(SsoOidc *p, char **pzText, long long *pt,
                                int bStale, SsoArena *a){
  const char *z = 0;
  long long tNow = ssoOsMonoMs();
  pthread_mutex_lock(&p->mu);
  if( *pzText && (bStale || tNow - *pt < SSO_OIDC_META_MS) ){
    z = ssoArenaStrndup(a, *pzText, strlen(*pzText));
  }
  pthread_mutex_unlock(&p->mu);
  return z;
}

static void oidcCachePut(SsoOidc *p, char **pzText, long long *pt,
                         const char *z, size_t n){
  char *zNew = ssoStrndup(z, n);
  if( zNew==0 ) return;         /* Not cached: fetched again next time */
  pthread_mutex_lock(&p->mu);
  ssoFree(*pzText);
  *pzText = zNew;
  *pt = ssoOsMonoMs();
  pthread_mutex_unlock(&p->mu);
}

/* ================= Flows ================= */

static void oidcFlowFree(OidcFlow *f){
  if( f==0 ) return;
  if( f->pCall ) ssoClientCancel(f->pCall);
  if( f->bJwt ) ssoJwtFree(&f->jwt);
  ssoJsonFree(f->pToken);
  ssoJsonFree(f->pUserinfo);
  if( f->body.z ) memset(f->body.z, 0, f->body.n);  /* code, verifier */
  ssoBufFree(&f->body);
  ssoArenaFree(&f->arena);
  ssoFree(f);
}

static OidcFlow *oidcFlowNew(SsoOidc *p, SsoServerReq *req, int bLogin){
  OidcFlow *f = ssoMallocZero(sizeof(*f));
  if( f==0 ) return 0;
  f->p = p;
  f->req = req;
  f->pW = req->pWorkerCtx;
  f->bLogin = bLogin;
  ssoArenaInit(&f->arena, SSO_OIDC_ARENA);
  ssoBufInit(&f->body, 0);
  return f;
}

/* End the flow with an error page (zMsg is plain text, no secrets). */
static int oidcFail(OidcFlow *f, int iStatus, const char *zTitle,
                    const char *zMsg){
  int rc = ssoPageError(f->req, iStatus, zTitle, zMsg);
  oidcFlowFree(f);
  return rc;
}

/* As oidcFail, the message built with printf. */
static int oidcFailf(OidcFlow *f, int iStatus, const char *zTitle,
                     const char *zFmt, ...)
  __attribute__((format(printf, 4, 5)));
static int oidcFailf(OidcFlow *f, int iStatus, const char *zTitle,
                     const char *zFmt, ...){
  char zMsg[600];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  return oidcFail(f, iStatus, zTitle, zMsg);
}

#define OIDC_REFUSED "Sign-in refused"
#define OIDC_IDP_DOWN "Identity provider unavailable"

static void oidcAbort(SsoServerReq *req, void *pArg){
  OidcFlow *f = pArg;
  SSO_UNUSED(req);
  oidcFlowFree(f);
}

static void oidcCallDone(SsoClientCall*, const SsoClientResp*, void*);

/*
** Start an IdP call; the flow continues in oidcCallDone(). aHdr are
** the call's own header fields, GENERIC_SSO_HEADERS are added.
*/
static int oidcCall(OidcFlow *f, int eCall, const char *zMethod,
                    const char *zUrl, const SsoHttpHeader *aHdr, int nHdr){
  SsoHttpHeader aAll[SSO_OIDC_MAX_HEADERS + 4];
  SsoClientReq r;
  SsoClient *pCli = 0;
  int i, rc;
  assert( nHdr<=4 );
  for(i=0; i<nHdr; i++) aAll[i] = aHdr[i];
  for(i=0; i<f->p->nHdr; i++) aAll[nHdr+i] = f->p->aHdr[i];
  memset(&r, 0, sizeof(r));
  r.zMethod = zMethod;
  r.zUrl = zUrl;
  r.aHdr = aAll;
  r.nHdr = nHdr + f->p->nHdr;
  if( eCall==OIDC_CALL_TOKEN ){
    r.pBody = f->body.z;
    r.nBody = f->body.n;
  }
  r.mxResponse = eCall==OIDC_CALL_JWKS ? SSO_JOSE_MAX_JWKS : SSO_OIDC_MAX_DOC;
  /* A person is waiting at the browser: an IdP that hangs gets a clear
  ** 504 page in seconds, not the upstreams' long first-byte timeout. */
  r.msFirstByte = r.msIdle = f->p->msCall;
  r.xDone = oidcCallDone;
  r.pArg = f;
  rc = ssoApiWorkerClient(f->pW, f->req->pLoop, &pCli);
  if( rc==SSOPROXY_OK ) rc = ssoClientRequest(pCli, &r, &f->pCall);
  if( rc ){
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "Could not call the identity "
                     "provider at %.300s (%s).", zUrl, ssoproxy_errstr(rc));
  }
  f->eCall = eCall;
  if( !f->bAsync ){
    rc = ssoServerAsync(f->req, oidcAbort, 0, f);
    if( rc ){
      ssoClientCancel(f->pCall);
      f->pCall = 0;
      oidcFlowFree(f);
      return rc;
    }
    f->bAsync = 1;
  }
  return SSOPROXY_OK;
}

/* An IdP call that did not give a usable answer: 502 or 504. */
static int oidcCallFailed(OidcFlow *f, const char *zWhat,
                          const SsoClientResp *r){
  if( r->rc ){
    return oidcFailf(f, r->iProxyStatus==504 ? 504 : 502, OIDC_IDP_DOWN,
                     "The identity provider's %s did not answer in time or "
                     "could not be reached: %.300s. Try again later.", zWhat,
                     r->zErr);
  }
  return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's %s "
                   "answered with HTTP status %d. Try again later.", zWhat,
                   r->iStatus);
}

/* ================= Discovery ================= */

static int oidcAfterMeta(OidcFlow *f);

/* Fill f->m from the settings and the discovery document zDisc. */
static int oidcMetaFill(OidcFlow *f, const char *zDisc){
  SsoOidc *p = f->p;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot = 0;
  int rc = SSOPROXY_OK;
  memset(&f->m, 0, sizeof(f->m));
  if( zDisc ){
    rc = ssoJsonParse(zDisc, strlen(zDisc), SSO_JSON_NODUP, &pDoc, 0);
    if( rc ) return rc;
    pRoot = ssoJsonRoot(pDoc);
  }
#define OIDC_META(field, setting, name) do{ \
    const char *z_ = setting ? setting : ssoJsonCStr(ssoJsonGet(pRoot, name)); \
    f->m.field = z_ ? ssoArenaStrndup(&f->arena, z_, strlen(z_)) : 0; \
    if( z_ && f->m.field==0 ) rc = SSOPROXY_NOMEM; \
  }while(0)
  OIDC_META(zIssuer, p->zIssuer, "issuer");
  OIDC_META(zAuth, p->zAuthEp, "authorization_endpoint");
  OIDC_META(zToken, p->zTokenEp, "token_endpoint");
  OIDC_META(zUserinfo, p->zUserinfoEp, "userinfo_endpoint");
  OIDC_META(zJwks, p->zJwksEp, "jwks_uri");
  OIDC_META(zEndSession, (const char*)0, "end_session_endpoint");
#undef OIDC_META
  if( pRoot ){
    int b = 0;
    ssoJsonBool(ssoJsonGet(pRoot, "authorization_response_iss_parameter_"
                                  "supported"), &b);
    f->m.bIssParam = b;
  }
  ssoJsonFree(pDoc);
  return rc;
}

/* Check and keep a fetched discovery document; 0 with zWhy on refusal. */
static int oidcDiscAccept(SsoOidc *p, const char *z, size_t n, char *zWhy,
                          size_t nWhy){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  const char *zIss, *zAuth, *zToken, *zJwks;
  int bOk = 0;
  SsoArena a;
  SsoUrl u;
  ssoArenaInit(&a, 0);
  if( ssoJsonParse(z, n, SSO_JSON_NODUP, &pDoc, 0) ){
    snprintf(zWhy, nWhy, "the discovery document is not valid JSON");
    goto end;
  }
  pRoot = ssoJsonRoot(pDoc);
  zIss = ssoJsonCStr(ssoJsonGet(pRoot, "issuer"));
  zAuth = ssoJsonCStr(ssoJsonGet(pRoot, "authorization_endpoint"));
  zToken = ssoJsonCStr(ssoJsonGet(pRoot, "token_endpoint"));
  zJwks = ssoJsonCStr(ssoJsonGet(pRoot, "jwks_uri"));
  if( zIss==0 || strcmp(zIss, p->zIssuer)!=0 ){
    /* Discovery §4.3: the issuer must be exactly the one asked for, or a
    ** document from elsewhere could point us at another IdP's keys. */
    snprintf(zWhy, nWhy, "the discovery document's issuer \"%.200s\" is not "
             "GENERIC_ISSUER \"%.200s\" (they must be equal, trailing slash "
             "included)", zIss ? zIss : "", p->zIssuer);
    goto end;
  }
  if( (zAuth==0 && p->zAuthEp==0) || (zToken==0 && p->zTokenEp==0) ){
    snprintf(zWhy, nWhy, "the discovery document has no authorization or "
             "token endpoint");
    goto end;
  }
  if( (zAuth && !oidcUrlOk(&a, zAuth, &u))
   || (zToken && !oidcUrlOk(&a, zToken, &u))
   || (zJwks && !oidcUrlOk(&a, zJwks, &u)) ){
    snprintf(zWhy, nWhy, "the discovery document has an endpoint that is "
             "not an http(s) URL");
    goto end;
  }
  bOk = 1;
end:
  ssoJsonFree(pDoc);
  ssoArenaFree(&a);
  return bOk;
}

static int oidcDiscDone(OidcFlow *f, const SsoClientResp *r){
  SsoOidc *p = f->p;
  const char *zOld;
  char zWhy[600];
  if( r->rc==SSOPROXY_OK && r->iStatus==200 ){
    if( oidcDiscAccept(p, r->pBody, r->nBody, zWhy, sizeof(zWhy)) ){
      char *z = ssoArenaStrndup(&f->arena, r->pBody, r->nBody);
      if( z==0 ) return oidcFail(f, 500, "Out of memory", "Try again.");
      oidcCachePut(p, &p->zDisc, &p->tDisc, r->pBody, r->nBody);
      if( oidcMetaFill(f, z) ){
        return oidcFail(f, 500, "Out of memory", "Try again.");
      }
      return oidcAfterMeta(f);
    }
    ssoLog(p->pLog, SSO_LOG_ERROR, "OIDC discovery refused", "issuer",
           p->zIssuer, "reason", zWhy, (char*)0);
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's "
                     "configuration was refused: %s.", zWhy);
  }
  /* An IdP that is down keeps working from the last good document. */
  zOld = oidcCacheGet(p, &p->zDisc, &p->tDisc, 1, &f->arena);
  if( zOld && oidcMetaFill(f, zOld)==SSOPROXY_OK ) return oidcAfterMeta(f);
  ssoLog(p->pLog, SSO_LOG_ERROR, "OIDC discovery failed", "issuer",
         p->zIssuer, "error", r->rc ? r->zErr : "bad status", (char*)0);
  return oidcCallFailed(f, "discovery document", r);
}

/* Make f->m ready (from the cache, or fetch), then oidcAfterMeta(). */
static int oidcWithMeta(OidcFlow *f){
  SsoOidc *p = f->p;
  const char *zDisc;
  SsoBuf b;
  size_t n;
  int rc;
  if( p->zIssuer==0 ){
    if( oidcMetaFill(f, 0) ) return oidcFail(f, 500, "Out of memory", "");
    return oidcAfterMeta(f);
  }
  zDisc = oidcCacheGet(p, &p->zDisc, &p->tDisc, 0, &f->arena);
  if( zDisc ){
    if( oidcMetaFill(f, zDisc) ) return oidcFail(f, 500, "Out of memory", "");
    return oidcAfterMeta(f);
  }
  /* Discovery §4: the issuer, without a trailing '/', then the path. */
  n = strlen(p->zIssuer);
  while( n>0 && p->zIssuer[n-1]=='/' ) n--;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, p->zIssuer, n);
  ssoBufAppendStr(&b, "/.well-known/openid-configuration");
  if( b.rc ){
    ssoBufFree(&b);
    return oidcFail(f, 500, "Out of memory", "");
  }
  {
    SsoHttpHeader h;
    h.name.z = "Accept"; h.name.n = 6;
    h.value.z = "application/json"; h.value.n = 16;
    rc = oidcCall(f, OIDC_CALL_DISC, "GET", b.z, &h, 1);
  }
  ssoBufFree(&b);
  return rc;
}

/* ================= Login ================= */

static int oidcLoginRedirect(OidcFlow *f);
static int oidcCallbackToken(OidcFlow *f);

static int oidcAfterMeta(OidcFlow *f){
  if( f->m.zAuth==0 || f->m.zToken==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's "
                    "authorization or token endpoint is unknown.");
  }
  return f->bLogin ? oidcLoginRedirect(f) : oidcCallbackToken(f);
}

/* The grant's payload: nonce, verifier, return-to, browser binding. */
static int oidcGrantData(SsoBuf *b, const char *zNonce,
                         const char *zVerifier, const char *zReturnTo,
                         const char *zBrowserHash){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "nonce", zNonce);
  ssoJsonWriteKeyString(&w, "verifier", zVerifier);
  ssoJsonWriteKeyString(&w, "return_to", zReturnTo);
  ssoJsonWriteKeyString(&w, "browser", zBrowserHash);
  ssoJsonWriteEndObject(&w);
  return ssoJsonWriteFinish(&w) ? SSOPROXY_NOMEM : b->rc;
}

/*
** The authorization request URL (OIDC Core 3.1.2.1, RFC 7636 §4.3) into b.
*/
static int oidcAuthUrl(const SsoOidc *p, const char *zAuthEp,
                       const char *zState, const char *zNonce,
                       const char *zChallenge, SsoBuf *b){
  const char *az[] = {
    "response_type", "code",
    "client_id", p->zClientId,
    "redirect_uri", p->zRedirectUri,
    "scope", p->zScope,
    "state", zState,
    "nonce", zNonce,
    "code_challenge", zChallenge,
    "code_challenge_method", "S256",
  };
  return ssoUrlAppendQuery(b, zAuthEp, strlen(zAuthEp), az,
                           (int)SSO_ARRAYSIZE(az)/2, 0);
}

/* The browser's login cookie: the one it has (if well-formed) or new. */
static int oidcBrowserCookie(OidcFlow *f, SsoRng *pRng, char *zCookie){
  SsoStr v;
  if( oidcCookie(f->req, OIDC_COOKIE, &v) && v.n==OIDC_COOKIE_LEN ){
    size_t i;
    for(i=0; i<v.n; i++){
      char c = v.z[i];
      if( !((c>='a'&&c<='z') || (c>='A'&&c<='Z') || (c>='0'&&c<='9')
            || c=='-' || c=='_') ) break;
    }
    if( i==v.n ){
      memcpy(zCookie, v.z, v.n);
      zCookie[v.n] = 0;
      return SSOPROXY_OK;
    }
  }
  return oidcRandom(pRng, zCookie);
}

static int oidcLoginRedirect(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoRng *pRng = ssoApiWorkerRng(f->pW);
  char zState[48], zNonce[48], zVerifier[48], zChallenge[48], zCookie[48];
  char zStateHash[SSO_KEY_HEX], zBrowserHash[SSO_KEY_HEX];
  unsigned char aHash[SSO_SHA256_LEN];
  SsoBuf data, loc, cookie;
  SsoGrant g;
  long long tNow = ssoOsNowMs();
  int rc;
  ssoBufInit(&data, 0);
  ssoBufInit(&loc, 0);
  ssoBufInit(&cookie, 0);
  rc = oidcRandom(pRng, zState);
  if( rc==SSOPROXY_OK ) rc = oidcRandom(pRng, zNonce);
  if( rc==SSOPROXY_OK ) rc = oidcRandom(pRng, zVerifier);
  if( rc==SSOPROXY_OK ) rc = oidcBrowserCookie(f, pRng, zCookie);
  if( rc ) goto end;
  ssoSha256(zVerifier, strlen(zVerifier), aHash);
  ssoB64EncodeTo(aHash, sizeof(aHash), SSO_B64_URL, zChallenge);
  oidcHashHex(zState, strlen(zState), zStateHash);
  oidcHashHex(zCookie, strlen(zCookie), zBrowserHash);
  rc = oidcGrantData(&data, zNonce, zVerifier, f->zReturnTo, zBrowserHash);
  if( rc ) goto end;
  rc = oidcAuthUrl(p, f->m.zAuth, zState, zNonce, zChallenge, &loc);
  if( rc ) goto end;
  ssoBufPrintf(&cookie, OIDC_COOKIE "=%s; Path=/sso/callback; Max-Age=%lld; "
               "HttpOnly; SameSite=Lax%s", zCookie, p->msStateTtl/1000,
               p->bSecure ? "; Secure" : "");
  if( cookie.rc ){ rc = cookie.rc; goto end; }
  /* Expired states of earlier logins go first; a failure here is only
  ** garbage left for the next login to collect. */
  ssoStoreGrantPurge(pStore, tNow, 0);
  memset(&g, 0, sizeof(g));
  g.zHash = zStateHash;
  g.zKind = OIDC_GRANT_KIND;
  g.zData = data.z;
  g.tExpires = tNow + p->msStateTtl;
  rc = ssoStoreGrantInsert(pStore, &g);
  if( rc ){
    ssoLog(p->pLog, SSO_LOG_ERROR, "cannot store a login state", "error",
           ssoStoreErrmsg(pStore), (char*)0);
    goto end;
  }
  rc = ssoServerStatus(f->req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Location", loc.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Set-Cookie",
                                                cookie.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Referrer-Policy",
                                                "no-referrer");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(f->req, "", 0);
  ssoBufFree(&data);
  ssoBufFree(&loc);
  ssoBufFree(&cookie);
  oidcFlowFree(f);
  return rc;
end:
  if( data.z ) memset(data.z, 0, data.n);
  ssoBufFree(&data);
  ssoBufFree(&loc);
  ssoBufFree(&cookie);
  return oidcFail(f, 500, "Sign-in unavailable", "The sign-in could not be "
                  "started (out of memory or a database error). Try again.");
}

SSO_PRIVATE int ssoOidcLogin(SsoOidc *p, SsoServerReq *req,
                             const char *zReturnTo){
  OidcFlow *f;
  if( p==0 ){
    return ssoPageError(req, 501, "Single sign-on is off", "Single sign-on "
                        "is not configured (GENERIC_CLIENT_ID).");
  }
  f = oidcFlowNew(p, req, 1);
  if( f==0 ) return SSOPROXY_NOMEM;
  if( zReturnTo==0 || !ssoUrlIsLocalPath(zReturnTo, strlen(zReturnTo)) ){
    zReturnTo = "/ui";
  }
  f->zReturnTo = ssoArenaStrndup(&f->arena, zReturnTo, strlen(zReturnTo));
  if( f->zReturnTo==0 ){
    oidcFlowFree(f);
    return SSOPROXY_NOMEM;
  }
  return oidcWithMeta(f);
}

/* GET /sso/key/generate[?rd=/path] */
static int oidcRouteGenerate(SsoServerReq *req, void *pArg){
  SsoOidc *p = pArg;
  SsoArena a;
  SsoForm form;
  SsoStr rd;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoFormParse(&a, req->query.z, req->query.n, &form, 0);
  if( rc==SSOPROXY_NOMEM ){ ssoArenaFree(&a); return rc; }
  if( rc ){
    ssoArenaFree(&a);
    return ssoPageError(req, 400, "Bad request", "The query string is not "
                        "valid.");
  }
  if( ssoFormCount(&form, "response_type")>0 ){
    ssoArenaFree(&a);
    if( p->xKeyFlow ) return p->xKeyFlow(req, p->pKeyFlowArg);
    return ssoServerError(req, 400, "Unsupported response_type");
  }
  rc = ssoFormGet(&form, "rd", &rd);
  rc = ssoOidcLogin(p, req, rc==SSOPROXY_OK ? rd.z : "/ui");
  ssoArenaFree(&a);
  return rc;
}

/* ================= Callback ================= */

/*
** Use up the state and read the grant: SSOPROXY_OK, or the flow has been
** answered with a 400 page and freed (*pbDone).
*/
static int oidcTakeState(OidcFlow *f, const SsoForm *pForm, int *pbDone){
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoStr state, cookie;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  const char *zBrowser;
  char zHash[SSO_KEY_HEX];
  int rc;
  *pbDone = 1;
  rc = ssoFormGet(pForm, "state", &state);
  if( rc || state.n==0 ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer has no state "
                    "parameter, so it cannot be matched to a sign-in started "
                    "here. Start the sign-in again.");
  }
  oidcHashHex(state.z, state.n, zHash);
  rc = ssoStoreGrantTake(pStore, zHash, OIDC_GRANT_KIND, &f->arena, &g);
  if( rc==SSOPROXY_NOTFOUND ){
    return oidcFail(f, 400, OIDC_REFUSED, "The state of this sign-in is "
                    "unknown or has expired. Start the sign-in again.");
  }
  if( rc ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state could "
                    "not be read (database error). Try again.");
  }
  if( g.nUse>1 ){
    return oidcFail(f, 400, OIDC_REFUSED, "This sign-in answer (its state) "
                    "has already been used. Start the sign-in again.");
  }
  if( g.tExpires<=ssoOsNowMs() ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in state has expired: "
                    "the sign-in took too long. Start it again.");
  }
  if( ssoJsonParse(g.zData, strlen(g.zData), 0, &pDoc, 0) ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state is "
                    "damaged. Start the sign-in again.");
  }
  pRoot = ssoJsonRoot(pDoc);
  zBrowser = ssoJsonCStr(ssoJsonGet(pRoot, "browser"));
#define OIDC_GRANT_STR(field, name) do{ \
    const char *z_ = ssoJsonCStr(ssoJsonGet(pRoot, name)); \
    f->field = z_ ? ssoArenaStrndup(&f->arena, z_, strlen(z_)) : 0; \
  }while(0)
  OIDC_GRANT_STR(zNonce, "nonce");
  OIDC_GRANT_STR(zVerifier, "verifier");
  OIDC_GRANT_STR(zReturnTo, "return_to");
#undef OIDC_GRANT_STR
  rc = SSOPROXY_OK;
  if( !oidcCookie(f->req, OIDC_COOKIE, &cookie) || zBrowser==0
   || strlen(zBrowser)!=SSO_KEY_HEX-1 ){
    rc = SSOPROXY_CONSTRAINT;
  }else{
    char zMine[SSO_KEY_HEX];
    oidcHashHex(cookie.z, cookie.n, zMine);
    if( !ssoCtEqual(zMine, zBrowser, SSO_KEY_HEX-1) ) rc = SSOPROXY_CONSTRAINT;
  }
  ssoJsonFree(pDoc);
  if( rc ){
    /* RFC 9700 §4.7.1: a state is bound to the browser that started the
    ** sign-in, or a link could log a victim in as the attacker. */
    return oidcFail(f, 400, OIDC_REFUSED, "This sign-in was started in "
                    "another browser (its state does not belong to this "
                    "one). Start the sign-in again here.");
  }
  if( f->zNonce==0 || f->zVerifier==0 || f->zReturnTo==0 ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state is "
                    "damaged. Start the sign-in again.");
  }
  *pbDone = 0;
  return SSOPROXY_OK;
}

/* GET /sso/callback?code=...&state=...[&iss=...] or ?error=... */
static int oidcRouteCallback(SsoServerReq *req, void *pArg){
  SsoOidc *p = pArg;
  OidcFlow *f = oidcFlowNew(p, req, 0);
  SsoForm form;
  SsoStr v;
  int rc, bDone;
  if( f==0 ) return SSOPROXY_NOMEM;
  rc = ssoFormParse(&f->arena, req->query.z, req->query.n, &form, 0);
  if( rc==SSOPROXY_NOMEM ){ oidcFlowFree(f); return rc; }
  if( rc || ssoFormFirstDuplicate(&form)>=0 ){
    /* RFC 6749 §3.1: parameters must not be repeated. */
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer is malformed "
                    "(a bad or repeated parameter).");
  }
  rc = oidcTakeState(f, &form, &bDone);
  if( bDone ) return rc;
  if( ssoFormGet(&form, "error", &v)==SSOPROXY_OK ){
    SsoStr d;
    int bD = ssoFormGet(&form, "error_description", &d)==SSOPROXY_OK;
    return oidcFailf(f, strcmp(v.z, "access_denied")==0 ? 403 : 400,
                     OIDC_REFUSED, "The identity provider answered with an "
                     "error: %.100s%s%.300s", v.z, bD ? ": " : ".",
                     bD ? d.z : "");
  }
  if( ssoFormGet(&form, "code", &v)!=SSOPROXY_OK || v.n==0 ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer has no code.");
  }
  f->zCode = v.z;
  if( ssoFormGet(&form, "iss", &v)==SSOPROXY_OK ) f->zIssParam = v.z;
  return oidcWithMeta(f);
}

/* RFC 9207: the issuer named in the answer (mix-up defence). */
static int oidcIssParamOk(OidcFlow *f){
  const SsoOidc *p = f->p;
  if( f->zIssParam==0 ) return !f->m.bIssParam;
  if( p->zIssuer ) return strcmp(f->zIssParam, p->zIssuer)==0;
  return oidcSameOrigin(f->zIssParam, f->m.zToken);
}

static int oidcCallbackToken(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoHttpHeader aHdr[3];
  int nHdr = 0;
  const char *az[] = {
    "grant_type", "authorization_code",
    "code", f->zCode,
    "redirect_uri", p->zRedirectUri,
    "code_verifier", f->zVerifier,
    "client_id", (p->bSecretPost || p->bIncludeClientId) ? p->zClientId : 0,
    "client_secret", p->bSecretPost ? p->zClientSecret : 0,
  };
  if( !oidcIssParamOk(f) ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer names another "
                    "identity provider (its iss parameter, RFC 9207, is not "
                    "the configured issuer).");
  }
  ssoFormAppend(&f->body, az, (int)SSO_ARRAYSIZE(az)/2);
  if( f->body.rc ) return oidcFail(f, 500, "Out of memory", "Try again.");
  aHdr[nHdr].name.z = "Content-Type"; aHdr[nHdr].name.n = 12;
  aHdr[nHdr].value.z = "application/x-www-form-urlencoded";
  aHdr[nHdr++].value.n = 33;
  aHdr[nHdr].name.z = "Accept"; aHdr[nHdr].name.n = 6;
  aHdr[nHdr].value.z = "application/json"; aHdr[nHdr++].value.n = 16;
  if( !p->bSecretPost ){
    aHdr[nHdr].name.z = "Authorization"; aHdr[nHdr].name.n = 13;
    aHdr[nHdr].value.z = p->zBasic;
    aHdr[nHdr++].value.n = strlen(p->zBasic);
  }
  return oidcCall(f, OIDC_CALL_TOKEN, "POST", f->m.zToken, aHdr, nHdr);
}

static int oidcVerify(OidcFlow *f);

static int oidcTokenDone(OidcFlow *f, const SsoClientResp *r){
  const SsoJson *pRoot;
  char zErr[300];
  if( r->rc ) return oidcCallFailed(f, "token endpoint", r);
  ssoJsonParse(r->pBody, r->nBody, SSO_JSON_NODUP, &f->pToken, 0);
  pRoot = ssoJsonRoot(f->pToken);
  if( r->iStatus!=200 ){
    const char *zE = ssoJsonCStr(ssoJsonGet(pRoot, "error"));
    const char *zD = ssoJsonCStr(ssoJsonGet(pRoot, "error_description"));
    if( r->iStatus>=400 && r->iStatus<500 && zE ){
      /* RFC 6749 §5.2: the IdP refused the code (used, tampered, wrong
      ** verifier): the browser's request is what went wrong. */
      return oidcFailf(f, 400, OIDC_REFUSED, "The identity provider refused "
                       "the sign-in code at its token endpoint: %.80s%s%.200s",
                       zE, zD ? ": " : ".", zD ? zD : "");
    }
    return oidcCallFailed(f, "token endpoint", r);
  }
  f->zIdToken = ssoJsonCStr(ssoJsonGet(pRoot, "id_token"));
  f->zAccess = ssoJsonCStr(ssoJsonGet(pRoot, "access_token"));
  if( f->zIdToken==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's token "
                    "endpoint gave no id_token (GENERIC_SCOPE must contain "
                    "openid).");
  }
  f->bJwt = 1;
  if( ssoJwtDecode(f->zIdToken, strlen(f->zIdToken), &f->jwt, zErr,
                   sizeof(zErr)) ){
    return oidcFailf(f, 400, OIDC_REFUSED, "The id_token from the identity "
                     "provider is malformed: %s.", zErr);
  }
  return oidcVerify(f);
}

static int oidcClaimsCheck(OidcFlow *f);

/* Verify the signature with the JWKS text z; fetch again if need be. */
static int oidcVerifyWith(OidcFlow *f, const char *z){
  SsoOidc *p = f->p;
  SsoJwks *pKeys = 0;
  char zErr[300];
  int rc = ssoJwksParse(z, strlen(z), &pKeys, zErr, sizeof(zErr));
  if( rc ){
    ssoJwksFree(pKeys);
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's key set "
                     "(JWKS) is not usable: %s.", zErr);
  }
  rc = ssoJwtVerify(&f->jwt, pKeys, zErr, sizeof(zErr));
  ssoJwksFree(pKeys);
  if( rc==SSOPROXY_OK ) return oidcClaimsCheck(f);
  if( rc==SSOPROXY_NOTFOUND && !f->bJwksFresh ){
    /* An unknown kid: the IdP may have rotated its keys. Fetch the set
    ** again, but not more than once per SSO_OIDC_JWKS_FORCE_MS, so tokens
    ** with made-up kids cannot make us hammer the IdP. */
    long long tNow = ssoOsMonoMs();
    int bGo = 0;
    pthread_mutex_lock(&p->mu);
    if( p->tJwksForced==0 || tNow - p->tJwksForced >= SSO_OIDC_JWKS_FORCE_MS ){
      p->tJwksForced = tNow;
      bGo = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if( bGo ){
      SsoHttpHeader h;
      f->bJwksForced = 1;
      h.name.z = "Accept"; h.name.n = 6;
      h.value.z = "application/json"; h.value.n = 16;
      return oidcCall(f, OIDC_CALL_JWKS, "GET", f->m.zJwks, &h, 1);
    }
  }
  if( rc==SSOPROXY_NOMEM ) return oidcFail(f, 500, "Out of memory", "");
  return oidcFailf(f, 400, OIDC_REFUSED, "The id_token's signature was "
                   "refused: %s.", zErr);
}

/* Signature check: through the JWKS when there is one, else the back
** channel (OIDC Core 3.1.3.7 item 6). */
static int oidcVerify(OidcFlow *f){
  SsoOidc *p = f->p;
  const char *z;
  SsoHttpHeader h;
  if( f->m.zJwks==0 ){
    /* The TLS connection to the token endpoint vouches for the token, so
    ** whatever the IdP signs with (HS256 included) is taken unchecked;
    ** but "none" says it signs nothing at all, which no setting of ours
    ** asks for: that is a forgery or a broken IdP. */
    if( strcasecmp(f->jwt.zAlg, "none")==0 ){
      return oidcFail(f, 400, OIDC_REFUSED, "The id_token is not signed "
                      "(alg none).");
    }
    return oidcClaimsCheck(f);
  }
  z = oidcCacheGet(p, &p->zJwks, &p->tJwks, 0, &f->arena);
  if( z ) return oidcVerifyWith(f, z);
  h.name.z = "Accept"; h.name.n = 6;
  h.value.z = "application/json"; h.value.n = 16;
  return oidcCall(f, OIDC_CALL_JWKS, "GET", f->m.zJwks, &h, 1);
}

static int oidcJwksDone(OidcFlow *f, const SsoClientResp *r){
  SsoOidc *p = f->p;
  const char *z;
  if( r->rc || r->iStatus!=200 ){
    /* Keep going with a key set we already have, if any. */
    z = oidcCacheGet(p, &p->zJwks, &p->tJwks, 1, &f->arena);
    if( z && !f->bJwksForced ){
      f->bJwksFresh = 1;
      return oidcVerifyWith(f, z);
    }
    return oidcCallFailed(f, "key set (JWKS)", r);
  }
  oidcCachePut(p, &p->zJwks, &p->tJwks, r->pBody, r->nBody);
  z = ssoArenaStrndup(&f->arena, r->pBody, r->nBody);
  if( z==0 ) return oidcFail(f, 500, "Out of memory", "");
  f->bJwksFresh = 1;
  return oidcVerifyWith(f, z);
}

static int oidcUserinfo(OidcFlow *f);

/* OIDC Core 3.1.3.7: iss, aud, azp, exp, iat, sub, nonce. */
static int oidcClaimsCheck(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoJwtExpect e;
  char zErr[300];
  const char *zIss;
  memset(&e, 0, sizeof(e));
  e.zIss = p->zIssuer;
  e.zAud = p->zClientId;
  e.zNonce = f->zNonce;
  e.tNow = ssoOsNowMs();
  e.msSkew = SSO_OIDC_SKEW_MS;
  e.msMaxAge = SSO_OIDC_IAT_AGE_MS;
  if( ssoJwtCheckClaims(&f->jwt, &e, zErr, sizeof(zErr)) ){
    return oidcFailf(f, 400, OIDC_REFUSED, "The id_token was refused: %s.",
                     zErr);
  }
  zIss = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->jwt.pClaims), "iss"));
  if( p->zIssuer==0 ){
    /* No issuer configured: the token's issuer must at least be the
    ** server we got it from, and the one the answer named. */
    if( zIss==0 || !oidcSameOrigin(zIss, f->m.zToken)
     || (f->zIssParam && strcmp(zIss, f->zIssParam)!=0) ){
      return oidcFail(f, 400, OIDC_REFUSED, "The id_token was refused: its "
                      "issuer (iss) is not the identity provider whose token "
                      "endpoint issued it.");
    }
  }
  return oidcUserinfo(f);
}

static int oidcFinish(OidcFlow *f);

static int oidcUserinfo(OidcFlow *f){
  SsoHttpHeader aHdr[2];
  SsoBuf b;
  int rc;
  if( f->m.zUserinfo==0 ) return oidcFinish(f);
  if( f->zAccess==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's token "
                    "endpoint gave no access_token for userinfo.");
  }
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "Bearer ");
  ssoBufAppendStr(&b, f->zAccess);
  if( b.rc ){ ssoBufFree(&b); return oidcFail(f, 500, "Out of memory", ""); }
  aHdr[0].name.z = "Authorization"; aHdr[0].name.n = 13;
  aHdr[0].value.z = b.z; aHdr[0].value.n = b.n;
  aHdr[1].name.z = "Accept"; aHdr[1].name.n = 6;
  aHdr[1].value.z = "application/json"; aHdr[1].value.n = 16;
  rc = oidcCall(f, OIDC_CALL_USERINFO, "GET", f->m.zUserinfo, aHdr, 2);
  memset(b.z, 0, b.n);
  ssoBufFree(&b);
  return rc;
}

static int oidcUserinfoDone(OidcFlow *f, const SsoClientResp *r){
  const char *zSub, *zIdSub;
  if( r->rc || r->iStatus!=200 ) return oidcCallFailed(f, "userinfo endpoint",
                                                       r);
  if( ssoJsonParse(r->pBody, r->nBody, SSO_JSON_NODUP, &f->pUserinfo, 0)
   || ssoJsonType(ssoJsonRoot(f->pUserinfo))!=SSO_JSON_OBJECT ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's userinfo "
                    "answer is not a JSON object (signed userinfo is not "
                    "supported).");
  }
  zSub = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->pUserinfo), "sub"));
  zIdSub = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->jwt.pClaims), "sub"));
  if( zSub==0 || zIdSub==0 || strcmp(zSub, zIdSub)!=0 ){
    /* OIDC Core 5.3.2: another user's userinfo must not be used. */
    return oidcFail(f, 400, OIDC_REFUSED, "The identity provider's userinfo "
                    "answer is about another user than the id_token (sub "
                    "differs).");
  }
  return oidcFinish(f);
}

static void oidcCallDone(SsoClientCall *pCall, const SsoClientResp *r,
                         void *pArg){
  OidcFlow *f = pArg;
  SSO_UNUSED(pCall);
  f->pCall = 0;
  switch( f->eCall ){
    case OIDC_CALL_DISC:     oidcDiscDone(f, r); break;
    case OIDC_CALL_TOKEN:    oidcTokenDone(f, r); break;
    case OIDC_CALL_JWKS:     oidcJwksDone(f, r); break;
    default:                 oidcUserinfoDone(f, r); break;
  }
}

/*
** Write the user: a new SSO user, or the existing one refreshed (role by
** oidcRoleToStore). Audited through the API's row operations. Returns
** SSOPROXY_OK with *pOut (strings in f->arena); or SSOPROXY_CONSTRAINT
** with *pzWhy and *piStatus for a refusal; or a store error.
*/
static int oidcSaveUser(OidcFlow *f, const OidcIdentity *pId, SsoUser *pOut,
                        const char **pzWhy, int *piStatus){
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoUser old, nu;
  int rc = ssoStoreBegin(pStore);
  if( rc ) return rc;
  rc = ssoStoreUserGet(pStore, pId->zId, &f->arena, &old);
  if( rc==SSOPROXY_NOTFOUND ){
    memset(&nu, 0, sizeof(nu));
    nu.zId = pId->zId;
    nu.zEmail = pId->zEmail;
    nu.zName = pId->zName;
    nu.zRole = ssoAuthzRoleName(oidcRoleToStore(f->p, pId, 0));
    nu.zSource = "sso";
    nu.tLastLogin = ssoOsNowMs();
    rc = ssoApiUserInsert(pStore, "sso", &nu);
  }else if( rc==SSOPROXY_OK ){
    if( strcmp(old.zSource, "sso")!=0 ){
      *pzWhy = "An account with your user id was created locally by an "
               "administrator; it cannot be taken over by single sign-on. "
               "Ask an administrator to delete it first.";
      *piStatus = 409;
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.bDisabled ){
      *pzWhy = "Your account is disabled. Ask an administrator.";
      *piStatus = 403;
      rc = SSOPROXY_CONSTRAINT;
    }else{
      nu = old;
      if( pId->zEmail ) nu.zEmail = pId->zEmail;
      if( pId->zName ) nu.zName = pId->zName;
      nu.zRole = ssoAuthzRoleName(oidcRoleToStore(f->p, pId, &old));
      nu.tLastLogin = ssoOsNowMs();
      nu.tUpdated = 0;
      nu.zMetadata = 0;
      if( strcmp(nu.zRole, old.zRole)!=0
       || (nu.zEmail!=old.zEmail
           && (!nu.zEmail || !old.zEmail || strcmp(nu.zEmail, old.zEmail)))
       || (nu.zName!=old.zName
           && (!nu.zName || !old.zName || strcmp(nu.zName, old.zName))) ){
        rc = ssoApiUserSave(pStore, "sso", &old, &nu);
      }else{
        rc = ssoStoreUserUpdate(pStore, &nu);   /* last login only */
      }
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(pStore);
  if( rc ){
    ssoStoreRollback(pStore);
    if( rc!=SSOPROXY_CONSTRAINT || *pzWhy==0 ){
      ssoLog(f->p->pLog, SSO_LOG_ERROR, "cannot save an SSO user", "user",
             pId->zId, "error", ssoStoreErrmsg(pStore), (char*)0);
    }
    return rc;
  }
  if( strcmp(nu.zRole, pId->eRole ? ssoAuthzRoleName(pId->eRole)
                                  : nu.zRole)!=0 ){
    ssoLog(f->p->pLog, SSO_LOG_INFO, "SSO role claim not applied", "user",
           nu.zId, "claimed", ssoAuthzRoleName(pId->eRole), "kept",
           nu.zRole, (char*)0);
  }
  *pOut = nu;
  return SSOPROXY_OK;
}

/* The identity, the user row, the session, and back to the return-to. */
static int oidcFinish(OidcFlow *f){
  OidcClaims c;
  OidcIdentity id;
  SsoUser u;
  SsoBuf data;
  memset(&u, 0, sizeof(u));
  const char *zWhy = 0;
  int iStatus = 403, rc;
  c.pUser = ssoJsonRoot(f->pUserinfo);
  c.pId = ssoJsonRoot(f->jwt.pClaims);
  rc = oidcIdentity(f->p, &c, &f->arena, &id, &zWhy);
  if( rc==SSOPROXY_CONSTRAINT ) return oidcFail(f, 403, OIDC_REFUSED, zWhy);
  if( rc ) return oidcFail(f, 500, "Out of memory", "Try again.");
  rc = oidcSaveUser(f, &id, &u, &zWhy, &iStatus);
  if( rc==SSOPROXY_CONSTRAINT && zWhy ){
    return oidcFail(f, iStatus, OIDC_REFUSED, zWhy);
  }
  if( rc ){
    return oidcFail(f, 500, "Sign-in unavailable", "Your account could not "
                    "be saved (database error). Try again.");
  }
  ssoBufInit(&data, 0);
  ssoBufPrintf(&data, "{\"groups\":%s,\"via\":\"sso\"}", id.zGroups);
  if( data.rc ){
    ssoBufFree(&data);
    return oidcFail(f, 500, "Out of memory", "Try again.");
  }
  rc = ssoServerStatus(f->req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Location",
                                                f->zReturnTo);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Referrer-Policy",
                                                "no-referrer");
  if( rc==SSOPROXY_OK ){
    rc = ssoSessionStart(f->p->pSessions, ssoApiWorkerStore(f->pW),
                         ssoApiWorkerRng(f->pW), f->req, u.zId, f->zIdToken,
                         data.z, ssoOsNowMs());
    if( rc ){
      ssoLog(f->p->pLog, SSO_LOG_ERROR, "cannot start a session", "user",
             u.zId, "error", ssoproxy_errstr(rc), (char*)0);
    }
    rc = ssoServerBody(f->req, "", 0);
  }
  ssoBufFree(&data);
  ssoLog(f->p->pLog, SSO_LOG_INFO, "SSO login", "user", u.zId, "role",
         u.zRole, (char*)0);
  oidcFlowFree(f);
  return rc;
}

/* ================= Logout, routes ================= */

SSO_PRIVATE int ssoOidcLogoutUrl(SsoOidc *p, const char *zIdToken,
                                 SsoBuf *b){
  SsoArena a;
  SsoJsonDoc *pDoc = 0;
  const char *zDisc, *zEnd;
  SsoBuf post;
  int bDone = 0;
  if( p==0 ) return 0;
  if( p->zLogoutUrl ){
    ssoBufAppendStr(b, p->zLogoutUrl);
    return 1;
  }
  if( p->zIssuer==0 ) return 0;
  ssoArenaInit(&a, 0);
  ssoBufInit(&post, 0);
  zDisc = oidcCacheGet(p, &p->zDisc, &p->tDisc, 1, &a);
  if( zDisc && ssoJsonParse(zDisc, strlen(zDisc), 0, &pDoc, 0)==SSOPROXY_OK ){
    zEnd = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(pDoc), "end_session_endpoint"));
    if( zEnd ){
      const char *az[6];
      ssoBufAppendStr(&post, p->zBaseUrl);
      ssoBufAppendStr(&post, "/ui");
      az[0] = "id_token_hint"; az[1] = zIdToken;
      az[2] = "post_logout_redirect_uri"; az[3] = post.z;
      az[4] = "client_id"; az[5] = p->zClientId;
      if( post.rc==0
       && ssoUrlAppendQuery(b, zEnd, strlen(zEnd), az, 3, 0)==SSOPROXY_OK ){
        bDone = 1;
      }
    }
  }
  ssoJsonFree(pDoc);
  ssoBufFree(&post);
  ssoArenaFree(&a);
  return bDone;
}

SSO_PRIVATE int ssoOidcRegister(SsoServer *pSrv, SsoOidc *p){
  int rc;
  if( p==0 ) return SSOPROXY_OK;
  rc = ssoServerRoute(pSrv, "GET", "/sso/key/generate", oidcRouteGenerate, p);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/sso/callback", oidcRouteCallback, p);
  }
  return rc;
}
