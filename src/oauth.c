/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: API keys for other programs (see oauth.h for the four flows).
**
** The security rules, and the attack each one blocks:
**
**  - Destinations. A key or a code goes only to a loopback IP literal
**    over http (RFC 8252 §7.3: the port may vary), to an allowed custom
**    scheme (the IDE schemes of the seed PR plus
**    OAUTH_ALLOWED_REDIRECT_SCHEMES), or to an https URL listed exactly in
**    SSOPROXY_ALLOWED_REDIRECT_URIS. The seed PR accepted any https URL, so
**    a crafted link sent a fresh key to an attacker's site.
**  - Consent. No client of these flows can prove who it is (RFC 8252
**    §8.6), so nothing is handed out without a page that names the
**    destination and the account, approved by a POST carrying the
**    session's CSRF token. The page cannot be framed (page.h).
**  - State lives in the store, not in the URL: the seed PR's state was
**    unsigned JSON anyone could forge. A pending consent is bound to the
**    browser session that started it, is single use and expires.
**  - Codes are 256 random bits in [A-Za-z0-9_-], single use, short-lived;
**    a second use revokes the key the first one produced (RFC 6749
**    §4.1.2). PKCE S256 only; a verifier without a challenge is a
**    downgrade and refused (RFC 9700 §2.1.1). Keys travel in back-channel
**    responses, except in the seed flow's redirect, which its clients
**    need and which is only allowed to the destinations above.
**  - The existing-key shortcut of the seed PR (a valid key mints a new
**    one) can never widen access: the new key gets the presenting key's
**    models and at most its remaining lifetime.
**
** Grants (src/store.h) used here, by kind:
**   oauth_consent  a consent page waiting for approval
**   oauth_code     an authorization code (flows 2 and 3)
**   device         a device code; device_user maps its user code to it
**   device_try     counters of wrong user codes (per session, global)
*/
#include "ssoInt.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

struct SsoOauth {
  char *zBaseUrl;           /* NULL: from the Host header */
  char *zSchemes, *zUris, *zOrigins;
  long long msKeyTtl, msCodeTtl, msStateTtl, msDeviceTtl;
  int sInterval;
  int bCodeOnly, bKeyShortcut;
  const SsoSessions *pSessions;
  SsoLog *pLog;
  SsoAuthz authz;           /* API keys only: the shortcut's credential */
};

/* ------------------------------------------------------------------ */
/* Pure helpers                                                        */
/* ------------------------------------------------------------------ */

/* The seed PR's IDE schemes: these need an authority and a path. */
static const char *const azOauthIdeStrict[] = {
  "vscode", "vscode-insiders", "cursor", "vscodium", "code-oss", "fleet",
  "zed", "sublime", "atom", "brackets", "nova",
};
/* The PR's other desktop-tool schemes: an authority or a path. */
static const char *const azOauthIdeLax[] = {
  "github-desktop", "sourcetree", "tower", "fork", "textmate", "coderunner",
};
/* Never a destination, whatever the settings say. */
static const char *const azOauthNever[] = {
  "javascript", "data", "file", "vbscript", "blob", "about", "filesystem",
  "http", "https", "ws", "wss", "ftp", "mailto", "jar", "view-source",
};

static int oauthInList(const char *const *az, size_t nAz, const char *z,
                       size_t n){
  size_t i;
  for(i=0; i<nAz; i++){
    if( strlen(az[i])==n && memcmp(az[i], z, n)==0 ) return 1;
  }
  return 0;
}

SSO_PRIVATE int ssoOauthListHas(const char *zList, const char *z, size_t n){
  const char *p = zList;
  if( zList==0 ) return 0;
  while( *p ){
    const char *zEnd = strchr(p, ',');
    const char *a = p, *b = zEnd ? zEnd : p+strlen(p);
    while( a<b && (*a==' ' || *a=='\t') ) a++;
    while( b>a && (b[-1]==' ' || b[-1]=='\t') ) b--;
    if( (size_t)(b-a)==n && n>0 && memcmp(a, z, n)==0 ) return 1;
    if( zEnd==0 ) break;
    p = zEnd+1;
  }
  return 0;
}

SSO_PRIVATE int ssoOauthCorsAllowed(const char *zOrigins, const char *z,
                                    size_t n){
  if( n==0 || n>SSO_OAUTH_MAX_ORIGIN ) return 0;
  if( ssoOauthListHas(zOrigins, "*", 1) ) return 1;
  return ssoOauthListHas(zOrigins, z, n);
}

/* Write why a value is refused into z[n]; returns 0 (refused). */
static int oauthWhy(char *z, size_t n, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static int oauthWhy(char *z, size_t n, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(z, n, zFmt, ap);
  va_end(ap);
  return 0;
}

SSO_PRIVATE int ssoOauthRedirectCheck(const char *zSchemes,
                                      const char *zUris, const char *z,
                                      size_t n, char *zWhy, size_t nWhy){
  SsoArena a;
  SsoUrl u;
  int eKind = 0;
  const char *zScheme;
  size_t nScheme;
  if( n==0 ) return oauthWhy(zWhy, nWhy, "the redirect URI is empty");
  if( n>SSO_OAUTH_MAX_REDIRECT ){
    return oauthWhy(zWhy, nWhy, "the redirect URI is longer than %d bytes",
                    SSO_OAUTH_MAX_REDIRECT);
  }
  ssoArenaInit(&a, 0);
  if( ssoUrlParse(&a, z, n, &u, 0) ){
    oauthWhy(zWhy, nWhy, "the redirect URI is not a valid absolute URL");
    goto end;
  }
  zScheme = u.scheme.z;
  nScheme = u.scheme.n;
  if( u.bFragment ){
    oauthWhy(zWhy, nWhy, "the redirect URI has a fragment (RFC 6749 §3.1.2)");
    goto end;
  }
  if( u.bUserinfo ){
    oauthWhy(zWhy, nWhy, "the redirect URI has user information before '@'");
    goto end;
  }
  if( nScheme==4 && memcmp(zScheme, "http", 4)==0 ){
    if( ssoUrlIsLoopback(&u) ){
      eKind = SSO_OAUTH_DEST_LOOPBACK;
    }else{
      oauthWhy(zWhy, nWhy, "http redirect URIs must name a loopback IP "
               "address (127.0.0.1 or [::1]), not a host name");
    }
    goto end;
  }
  if( nScheme==5 && memcmp(zScheme, "https", 5)==0 ){
    if( ssoOauthListHas(zUris, z, n) ){
      eKind = SSO_OAUTH_DEST_LISTED;
    }else{
      oauthWhy(zWhy, nWhy, "this https redirect URI is not listed in "
               "SSOPROXY_ALLOWED_REDIRECT_URIS");
    }
    goto end;
  }
  if( oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever), zScheme,
                  nScheme) ){
    oauthWhy(zWhy, nWhy, "redirect URIs with the scheme %s: are refused",
             zScheme);
    goto end;
  }
  if( ssoOauthListHas(zUris, z, n) ){
    eKind = SSO_OAUTH_DEST_LISTED;
    goto end;
  }
  if( oauthInList(azOauthIdeStrict, SSO_ARRAYSIZE(azOauthIdeStrict),
                  zScheme, nScheme) ){
    if( u.eHost==SSO_URL_HOST_NONE || u.path.n==0 ){
      oauthWhy(zWhy, nWhy, "a %s: redirect URI needs an extension id and a "
               "path, e.g. %s://publisher.extension/callback", zScheme,
               zScheme);
    }else{
      eKind = SSO_OAUTH_DEST_SCHEME;
    }
    goto end;
  }
  if( oauthInList(azOauthIdeLax, SSO_ARRAYSIZE(azOauthIdeLax), zScheme,
                  nScheme)
   || ssoOauthListHas(zSchemes, zScheme, nScheme) ){
    if( u.eHost==SSO_URL_HOST_NONE && u.path.n==0 ){
      oauthWhy(zWhy, nWhy, "the redirect URI has neither a host nor a path");
    }else{
      eKind = SSO_OAUTH_DEST_SCHEME;
    }
    goto end;
  }
  oauthWhy(zWhy, nWhy, "the scheme %s: is not an allowed redirect scheme "
           "(see OAUTH_ALLOWED_REDIRECT_SCHEMES)", zScheme);
end:
  ssoArenaFree(&a);
  return eKind;
}

SSO_PRIVATE int ssoOauthS256(const char *zVerifier, size_t n,
                             char zOut[SSO_OAUTH_CHALLENGE_LEN+1]){
  unsigned char aHash[SSO_SHA256_LEN];
  int rc = ssoSha256(zVerifier, n, aHash);
  if( rc ) return rc;
  ssoB64EncodeTo(aHash, sizeof(aHash), SSO_B64_URL, zOut);
  zOut[SSO_OAUTH_CHALLENGE_LEN] = 0;
  return SSOPROXY_OK;
}

static int oauthIsB64Url(char c){
  return (c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9')
      || c=='-' || c=='_';
}

SSO_PRIVATE int ssoOauthVerifierOk(const char *z, size_t n){
  size_t i;
  if( n<43 || n>128 ) return 0;
  for(i=0; i<n; i++){
    if( !oauthIsB64Url(z[i]) && z[i]!='.' && z[i]!='~' ) return 0;
  }
  return 1;
}

SSO_PRIVATE int ssoOauthChallengeOk(const char *z, size_t n){
  size_t i;
  if( n!=SSO_OAUTH_CHALLENGE_LEN ) return 0;
  for(i=0; i<n; i++) if( !oauthIsB64Url(z[i]) ) return 0;
  return 1;
}

SSO_PRIVATE int ssoOauthUserCodeNew(SsoRng *pRng, char zOut[10]){
  static const char zAlpha[] = SSO_OAUTH_USER_ALPHABET;
  const unsigned nAlpha = sizeof(zAlpha)-1;
  /* Rejection sampling: bytes at or above the largest multiple of the
  ** alphabet's size would make the first letters likelier. */
  const unsigned mxByte = 256 - 256 % nAlpha;
  unsigned char aRand[32];
  int nDone = 0;
  while( nDone<8 ){
    size_t i;
    int rc = ssoRngBytes(pRng, aRand, sizeof(aRand));
    if( rc ) return rc;
    for(i=0; i<sizeof(aRand) && nDone<8; i++){
      if( aRand[i]>=mxByte ) continue;
      zOut[nDone + (nDone>=4)] = zAlpha[aRand[i] % nAlpha];
      nDone++;
    }
  }
  zOut[4] = '-';
  zOut[9] = 0;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoOauthUserCodeNormalize(const char *z, size_t n,
                                          char zOut[9]){
  size_t i;
  int k = 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c=='-' || c==' ' ) continue;
    if( c>='a' && c<='z' ) c = (char)(c - 'a' + 'A');
    if( c==0 || strchr(SSO_OAUTH_USER_ALPHABET, c)==0 || k>=8 ){
      return SSOPROXY_PARSE;
    }
    zOut[k++] = c;
  }
  if( k!=8 ) return SSOPROXY_PARSE;
  zOut[8] = 0;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoOauthSecretNew(SsoRng *pRng,
                                  char zOut[SSO_OAUTH_SECRET_LEN+1]){
  unsigned char aRand[32];
  int rc = ssoRngBytes(pRng, aRand, sizeof(aRand));
  if( rc ) return rc;
  ssoB64EncodeTo(aRand, sizeof(aRand), SSO_B64_URL, zOut);
  zOut[SSO_OAUTH_SECRET_LEN] = 0;
  return SSOPROXY_OK;
}

/* ------------------------------------------------------------------ */
/* The object                                                          */
/* ------------------------------------------------------------------ */

/* Each entry of a comma list, passed to xCheck; first failure wins. */
static int oauthEachEntry(const char *zList, const char *zSetting,
                          int (*xCheck)(const char*, size_t, char*, size_t),
                          char *zErr, size_t nErr){
  const char *p = zList;
  char zWhy[256];
  if( zList==0 ) return SSOPROXY_OK;
  while( *p ){
    const char *zEnd = strchr(p, ',');
    const char *a = p, *b = zEnd ? zEnd : p+strlen(p);
    while( a<b && (*a==' ' || *a=='\t') ) a++;
    while( b>a && (b[-1]==' ' || b[-1]=='\t') ) b--;
    int bOk = b>a ? xCheck(a, (size_t)(b-a), zWhy, sizeof(zWhy)) : 1;
    if( bOk<0 ) return ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    if( bOk==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s: %.*s: %s",
                       zSetting, (int)(b-a > 200 ? 200 : b-a), a, zWhy);
    }
    if( zEnd==0 ) break;
    p = zEnd+1;
  }
  return SSOPROXY_OK;
}

/* An allowed scheme: RFC 3986 §3.1 syntax, lower case, not a web or
** dangerous scheme (those have their own rules). */
static int oauthSchemeEntryOk(const char *z, size_t n, char *zWhy,
                              size_t nWhy){
  size_t i;
  for(i=0; i<n; i++){
    char c = z[i];
    if( (c>='a' && c<='z') || (i>0 && ((c>='0' && c<='9') || c=='+'
                                       || c=='-' || c=='.')) ) continue;
    return oauthWhy(zWhy, nWhy, "not a lower-case URI scheme (write it "
                    "without \"://\")");
  }
  if( oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever), z, n) ){
    return oauthWhy(zWhy, nWhy, "this scheme can never be a redirect scheme"
                    " (http is allowed to loopback addresses only, https "
                    "through SSOPROXY_ALLOWED_REDIRECT_URIS)");
  }
  return 1;
}

/* An allowed URI: a valid https or custom-scheme URL, no fragment, no
** user-info, never plain http (loopback is always allowed anyway).
** 1 good, 0 refused, -1 out of memory. */
static int oauthUriEntryOk(const char *z, size_t n, char *zWhy, size_t nWhy){
  SsoArena a;
  SsoUrl u;
  int bOk = 0, rc = SSOPROXY_TOOBIG;
  ssoArenaInit(&a, 0);
  if( n<=SSO_OAUTH_MAX_REDIRECT ) rc = ssoUrlParse(&a, z, n, &u, 0);
  if( rc==SSOPROXY_NOMEM ){
    bOk = -1;
  }else if( rc ){
    oauthWhy(zWhy, nWhy, "not a valid absolute URL");
  }else if( u.bFragment || u.bUserinfo ){
    oauthWhy(zWhy, nWhy, "a redirect URI may have neither a fragment nor "
             "user information");
  }else if( strcmp(u.scheme.z, "https")!=0
         && oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever),
                        u.scheme.z, u.scheme.n) ){
    oauthWhy(zWhy, nWhy, "only https and custom-scheme URIs can be listed "
             "(plain http is allowed to loopback addresses without a list)");
  }else{
    bOk = 1;
  }
  ssoArenaFree(&a);
  return bOk;
}

SSO_PRIVATE int ssoOauthNew(const SsoOauthConfig *c, SsoOauth **pp,
                            char *zErr, size_t nErr){
  SsoOauth *p;
  int rc;
  *pp = 0;
  rc = oauthEachEntry(c->zSchemes, "OAUTH_ALLOWED_REDIRECT_SCHEMES",
                      oauthSchemeEntryOk, zErr, nErr);
  if( rc ) return rc;
  rc = oauthEachEntry(c->zUris, "SSOPROXY_ALLOWED_REDIRECT_URIS",
                      oauthUriEntryOk, zErr, nErr);
  if( rc ) return rc;
  if( c->zBaseUrl ){
    SsoArena a;
    SsoUrl u;
    ssoArenaInit(&a, 0);
    rc = ssoUrlParse(&a, c->zBaseUrl, strlen(c->zBaseUrl), &u, 0);
    if( rc==SSOPROXY_OK && ((strcmp(u.scheme.z, "http")!=0
                             && strcmp(u.scheme.z, "https")!=0)
                            || u.bQuery || u.bFragment || u.bUserinfo) ){
      rc = SSOPROXY_PARSE;
    }
    ssoArenaFree(&a);
    if( rc==SSOPROXY_NOMEM ){
      return ssoErrorf(zErr, nErr, rc, "out of memory");
    }
    if( rc ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL: not an "
                       "http(s) URL without query or fragment: %s",
                       c->zBaseUrl);
    }
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  if( c->zBaseUrl ){
    size_t n = strlen(c->zBaseUrl);
    while( n>0 && c->zBaseUrl[n-1]=='/' ) n--;
    p->zBaseUrl = ssoStrndup(c->zBaseUrl, n);
    if( p->zBaseUrl==0 ) goto nomem;
  }
  if( c->zSchemes && (p->zSchemes = ssoStrdup(c->zSchemes))==0 ) goto nomem;
  if( c->zUris && (p->zUris = ssoStrdup(c->zUris))==0 ) goto nomem;
  if( c->zOrigins && (p->zOrigins = ssoStrdup(c->zOrigins))==0 ) goto nomem;
  p->msKeyTtl = c->sKeyTtl*1000;
  p->msCodeTtl = c->sCodeTtl*1000;
  p->msStateTtl = c->sStateTtl*1000;
  p->msDeviceTtl = c->sDeviceTtl*1000;
  p->sInterval = c->sInterval;
  p->bCodeOnly = c->bCodeOnly;
  p->bKeyShortcut = c->bKeyShortcut;
  p->pSessions = c->pSessions;
  p->pLog = c->pLog;
  ssoAuthzInit(&p->authz, 0);
  *pp = p;
  return SSOPROXY_OK;
nomem:
  ssoOauthFree(p);
  return ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
}

SSO_PRIVATE void ssoOauthFree(SsoOauth *p){
  if( p==0 ) return;
  ssoFree(p->zBaseUrl);
  ssoFree(p->zSchemes);
  ssoFree(p->zUris);
  ssoFree(p->zOrigins);
  ssoFree(p);
}

/* ------------------------------------------------------------------ */
/* One request                                                         */
/* ------------------------------------------------------------------ */

typedef struct OauthCtx OauthCtx;
struct OauthCtx {
  SsoOauth *p;
  SsoServerReq *req;
  SsoStore *pStore;
  SsoRng *pRng;
  SsoArena a;               /* Everything of this request */
  long long tNow;
  SsoForm q;                /* The query */
  SsoForm f;                /* A form body (POSTs) */
  int bCors;                /* The Origin may read the answer */
  SsoStr origin;
};

static int oauthCtxInit(OauthCtx *c, SsoServerReq *req, void *pArg){
  memset(c, 0, sizeof(*c));
  c->p = pArg;
  c->req = req;
  c->pStore = ssoApiWorkerStore(req->pWorkerCtx);
  c->pRng = ssoApiWorkerRng(req->pWorkerCtx);
  c->tNow = ssoOsNowMs();
  ssoArenaInit(&c->a, 0);
  if( ssoServerHeader(req, "Origin", &c->origin) ){
    c->bCors = ssoOauthCorsAllowed(c->p->zOrigins, c->origin.z,
                                   c->origin.n);
  }
  if( ssoFormParse(&c->a, req->query.z, req->query.n, &c->q, 0) ){
    memset(&c->q, 0, sizeof(c->q));
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

static void oauthCtxFree(OauthCtx *c){ ssoArenaFree(&c->a); }

/* The one value of a parameter, NULL when absent; *pbDup on repeats
** (RFC 6749 §3.1: parameters MUST NOT be sent more than once). */
static const char *oauthParam(const SsoForm *pF, const char *zName,
                              int *pbDup){
  SsoStr v;
  int rc = ssoFormGet(pF, zName, &v);
  if( rc==SSOPROXY_CONSTRAINT ){ *pbDup = 1; return 0; }
  return rc==SSOPROXY_OK ? v.z : 0;
}

/* Headers every answer of these flows carries. */
static int oauthCommonHeaders(OauthCtx *c){
  int rc = ssoServerAddHeader(c->req, "Cache-Control", "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(c->req, "Pragma", "no-cache");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(c->req, "Vary", "Origin");
  if( rc==SSOPROXY_OK && c->bCors ){
    char *z = ssoArenaStrndup(&c->a, c->origin.z, c->origin.n);
    if( z==0 ) return SSOPROXY_NOMEM;
    rc = ssoServerAddHeader(c->req, "Access-Control-Allow-Origin", z);
  }
  return rc;
}

/* A JSON answer with no-store and CORS. b is freed. */
static int oauthSendJson(OauthCtx *c, int iStatus, SsoBuf *b){
  int rc = b->rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(c->req, iStatus);
  if( rc==SSOPROXY_OK ) rc = oauthCommonHeaders(c);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(c->req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(c->req, b->z ? b->z : "", b->n);
  ssoBufFree(b);
  return rc;
}

/* RFC 6749 §5.2 error: {"error","error_description"}. */
static int oauthError(OauthCtx *c, int iStatus, const char *zErr,
                      const char *zDesc){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "error", zErr);
  ssoJsonWriteKeyString(&w, "error_description", zDesc);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, iStatus, &b);
}

/* OpenRouter's error shape: {"error":{"code":N,"message":...}}. */
static int oauthOrError(OauthCtx *c, int iStatus, const char *zMsg){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "error");
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyInt64(&w, "code", iStatus);
  ssoJsonWriteKeyString(&w, "message", zMsg);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, iStatus, &b);
}

/* The public base URL: PROXY_BASE_URL, else http:// and the Host header
** (only host characters; the answer goes back to whoever sent it). */
static const char *oauthBase(OauthCtx *c){
  SsoStr h;
  size_t i;
  SsoBuf b;
  if( c->p->zBaseUrl ) return c->p->zBaseUrl;
  if( !ssoServerHeader(c->req, "Host", &h) || h.n==0 || h.n>255 ){
    return "http://127.0.0.1";
  }
  for(i=0; i<h.n; i++){
    char ch = h.z[i];
    if( !((ch>='a' && ch<='z') || (ch>='A' && ch<='Z') || (ch>='0' && ch<='9')
          || ch=='.' || ch==':' || ch=='-' || ch=='[' || ch==']') ){
      return "http://127.0.0.1";
    }
  }
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "http://");
  ssoBufAppend(&b, h.z, h.n);
  if( b.rc ){ ssoBufFree(&b); return "http://127.0.0.1"; }
  {
    char *z = ssoArenaStrndup(&c->a, b.z, b.n);
    ssoBufFree(&b);
    return z ? z : "http://127.0.0.1";
  }
}

/* SHA-256 hex of z, in the arena (a grant's name). */
static const char *oauthHash(OauthCtx *c, const char *z, size_t n){
  char *zHex = ssoArenaAlloc(&c->a, SSO_KEY_HEX);
  if( zHex ) ssoAuthzKeyHash(z, n, zHex);
  return zHex;
}

/* The browser's session: OK, NOTFOUND, or a store failure. */
static int oauthSession(OauthCtx *c, SsoSession *pSess){
  if( c->p->pSessions==0 ) return SSOPROXY_NOTFOUND;
  return ssoSessionGet(c->p->pSessions, c->pStore, c->req->aHdr,
                       c->req->nHdr, c->tNow, &c->a, pSess);
}

/* Send the browser to /login, which brings it back to this very URL. */
static int oauthToLogin(OauthCtx *c){
  SsoBuf b;
  int rc;
  SsoStr t = c->req->target;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "/login?rd=");
  if( t.n==0 || t.z[0]!='/' || !ssoUrlIsLocalPath(t.z, t.n) ){
    t = c->req->path;
  }
  ssoUrlEncode(&b, t.z, t.n, 0);
  rc = b.rc ? b.rc : ssoPageRedirect(c->req, 302, b.z);
  ssoBufFree(&b);
  return rc;
}

static int oauthInternal(OauthCtx *c, int rc, const char *zWhat){
  ssoLog(c->p->pLog, SSO_LOG_ERROR, zWhat, "error",
         rc==SSOPROXY_NOMEM ? "out of memory" : ssoStoreErrmsg(c->pStore),
         "request", c->req->zId, (char*)0);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

/* What a new key is for. */
typedef struct OauthMint OauthMint;
struct OauthMint {
  const char *zUserId;
  const char *zVia;         /* issued_via */
  const char *zFlow;        /* "sso_key_generate", "openrouter", ... */
  const char *zClient;      /* Client label, NULL: none */
  const char *zRedirect;    /* Where it went, NULL: back-channel */
  const char *zModels;      /* NULL: all */
  long long tExpires;       /* 0: now + the key lifetime */
};

/*
** Insert a key for pM (inside the caller's transaction), audited as the
** user. *pNew holds the plaintext.
*/
static int oauthMint(OauthCtx *c, const OauthMint *pM, SsoApiNewKey *pNew,
                     SsoKey *pKey){
  SsoBuf b;
  SsoJsonWriter w;
  int rc;
  memset(pKey, 0, sizeof(*pKey));
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "flow", pM->zFlow);
  if( pM->zClient ) ssoJsonWriteKeyString(&w, "client", pM->zClient);
  if( pM->zRedirect ) ssoJsonWriteKeyString(&w, "redirect_uri", pM->zRedirect);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc ){ ssoBufFree(&b); return rc; }
  pKey->zUserId = pM->zUserId;
  pKey->zModels = pM->zModels;
  pKey->tExpires = pM->tExpires ? pM->tExpires : c->tNow + c->p->msKeyTtl;
  pKey->zIssuedVia = pM->zVia;
  pKey->zMetadata = b.z;
  rc = ssoApiKeyInsert(c->pStore, c->pRng, pM->zUserId, pKey, pNew);
  ssoBufFree(&b);
  pKey->zMetadata = 0;
  return rc;
}

/* The user still exists and is enabled: 1, else 0 (or -rc on failure). */
static int oauthUserOk(OauthCtx *c, const char *zUserId){
  SsoUser u;
  int rc = ssoStoreUserGet(c->pStore, zUserId, &c->a, &u);
  if( rc==SSOPROXY_NOTFOUND ) return 0;
  if( rc ) return -rc;
  return !u.bDisabled;
}

/* Seconds from now to tExpires, at least 1. */
static long long oauthExpiresIn(OauthCtx *c, long long tExpires){
  long long s = (tExpires - c->tNow + 999)/1000;
  return s<1 ? 1 : s;
}

/* {"access_token","token_type","expires_in"} */
static int oauthTokenJson(OauthCtx *c, const SsoApiNewKey *pNew,
                          long long tExpires, const char *zUserId){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "access_token", pNew->zKey);
  ssoJsonWriteKeyString(&w, "token_type", "Bearer");
  ssoJsonWriteKeyInt64(&w, "expires_in", oauthExpiresIn(c, tExpires));
  if( zUserId ) ssoJsonWriteKeyString(&w, "user_id", zUserId);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, 200, &b);
}

/* ------------------------------------------------------------------ */
/* Grants                                                              */
/* ------------------------------------------------------------------ */

/* Expired grants are kept a while so a late reuse of a code is still
** recognised (and its key revoked); then they go. */
static void oauthPurge(OauthCtx *c){
  ssoStoreGrantPurge(c->pStore, c->tNow - SSO_OAUTH_GRANT_KEEP_MS, 0);
}

/* Store a grant named by the secret zSecret. */
static int oauthGrantPut(OauthCtx *c, const char *zKind, const char *zSecret,
                         const char *zData, long long msTtl){
  SsoGrant g;
  memset(&g, 0, sizeof(g));
  g.zHash = oauthHash(c, zSecret, strlen(zSecret));
  if( g.zHash==0 ) return SSOPROXY_NOMEM;
  g.zKind = zKind;
  g.zData = zData;
  g.tCreated = c->tNow;
  g.tExpires = c->tNow + msTtl;
  return ssoStoreGrantInsert(c->pStore, &g);
}

/* A grant's payload parsed; *ppDoc freed by the caller. */
static const SsoJson *oauthGrantData(const SsoGrant *g, SsoJsonDoc **ppDoc){
  if( ssoJsonParse(g->zData, strlen(g->zData), 0, ppDoc, 0) ) return 0;
  return ssoJsonRoot(*ppDoc);
}

static const char *oauthJs(const SsoJson *pObj, const char *zKey){
  return ssoJsonCStr(ssoJsonGet(pObj, zKey));
}

static long long oauthJi(const SsoJson *pObj, const char *zKey){
  long long i = 0;
  ssoJsonInt64(ssoJsonGet(pObj, zKey), &i);
  return i;
}

/* ------------------------------------------------------------------ */
/* Consent                                                             */
/* ------------------------------------------------------------------ */

/* What a consent grant remembers until the user answers. */
typedef struct OauthPending OauthPending;
struct OauthPending {
  const char *zFlow;        /* "sso_key_generate", "openrouter", "authorize" */
  const char *zRedirect;
  const char *zClient;      /* NULL: none */
  const char *zChallenge;   /* NULL: none */
  const char *zState;       /* RFC 6749 state to echo; NULL: none */
};

static void oauthWriteOpt(SsoJsonWriter *w, const char *zKey, const char *z){
  if( z ) ssoJsonWriteKeyString(w, zKey, z);
}

/* Store the pending consent and show the page. */
static int oauthConsentPage(OauthCtx *c, const SsoSession *pSess,
                            const OauthPending *pP){
  char zId[SSO_OAUTH_SECRET_LEN+1];
  SsoBuf d, h;
  SsoJsonWriter w;
  const char *zWho = pSess->user.zEmail ? pSess->user.zEmail
                                        : pSess->user.zId;
  int rc = ssoOauthSecretNew(c->pRng, zId);
  if( rc ) return rc;
  ssoBufInit(&d, 0);
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "flow", pP->zFlow);
  ssoJsonWriteKeyString(&w, "user", pSess->user.zId);
  ssoJsonWriteKeyString(&w, "session", pSess->zHash);
  ssoJsonWriteKeyString(&w, "redirect", pP->zRedirect);
  oauthWriteOpt(&w, "client", pP->zClient);
  oauthWriteOpt(&w, "challenge", pP->zChallenge);
  oauthWriteOpt(&w, "state", pP->zState);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    oauthPurge(c);
    rc = oauthGrantPut(c, "oauth_consent", zId, d.z, c->p->msStateTtl);
  }
  ssoBufFree(&d);
  if( rc ) return oauthInternal(c, rc, "cannot store a consent");
  ssoBufInit(&h, 0);
  ssoBufAppendStr(&h, "<p>");
  if( pP->zClient ){
    ssoBufAppendStr(&h, "The application <b>");
    ssoPageEscape(&h, pP->zClient, strlen(pP->zClient));
    ssoBufAppendStr(&h, "</b> asks");
  }else{
    ssoBufAppendStr(&h, "An application asks");
  }
  ssoBufAppendStr(&h, " for an API key of your account <b>");
  ssoPageEscape(&h, zWho, strlen(zWho));
  ssoBufAppendStr(&h, "</b>.</p>\n<p>If you approve, ");
  ssoBufAppendStr(&h, strcmp(pP->zFlow, "sso_key_generate")==0
                  ? "the key is sent to" : "a one-time code for it is sent to");
  ssoBufAppendStr(&h, ":</p>\n<p><code id=\"destination\">");
  ssoPageEscape(&h, pP->zRedirect, strlen(pP->zRedirect));
  ssoBufAppendStr(&h, "</code></p>\n<p>Approve only if you started this "
                  "from that application just now. The key can do what "
                  "you can do until it expires or you revoke it.</p>\n"
                  "<form method=\"post\" action=\"/oauth/consent\">\n"
                  "<input type=\"hidden\" name=\"consent\" value=\"");
  ssoBufAppendStr(&h, zId);
  ssoBufAppendStr(&h, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
  ssoPageEscape(&h, pSess->zCsrf, strlen(pSess->zCsrf));
  ssoBufAppendStr(&h, "\">\n<button type=\"submit\" name=\"action\" "
                  "value=\"approve\" id=\"approve\">Approve</button>\n"
                  "<button type=\"submit\" name=\"action\" value=\"deny\" "
                  "id=\"deny\">Deny</button>\n</form>\n");
  rc = h.rc ? h.rc : ssoPageRespond(c->req, 200,
                                      "Give an application an API key?", h.z);
  ssoBufFree(&h);
  return rc;
}

/* The form body of a POST, when it is one: OK, or 415/400 answered
** (then *pbDone). */
static int oauthReadForm(OauthCtx *c, int bJsonError, int *pbDone){
  SsoStr ct;
  if( !ssoServerHeader(c->req, "Content-Type", &ct)
   || ct.n<33 || strncasecmp(ct.z, "application/x-www-form-urlencoded", 33)
   || (ct.n>33 && ct.z[33]!=';' && ct.z[33]!=' ') ){
    *pbDone = 1;
    return bJsonError ? oauthError(c, 415, "invalid_request",
                                   "the body must be "
                                   "application/x-www-form-urlencoded")
         : ssoPageError(c->req, 415, "Unsupported form", "This page only "
                        "accepts its own form.");
  }
  if( ssoFormParse(&c->a, c->req->pBody, c->req->nBody, &c->f, 0)
   || ssoFormFirstDuplicate(&c->f)>=0 ){
    *pbDone = 1;
    return bJsonError ? oauthError(c, 400, "invalid_request",
                                   "malformed or repeated form parameters")
         : ssoPageError(c->req, 400, "Bad form", "The form was malformed.");
  }
  return SSOPROXY_OK;
}

/* An answer the consent POST builds inside its transaction. */
typedef struct OauthAnswer OauthAnswer;
struct OauthAnswer {
  int iStatus;              /* 302, or an error page's status */
  const char *zTitle, *zMsg;/* Error page */
  SsoBuf loc;               /* 302 Location */
};

/* Approval: do what the flow does, building the Location. */
static int oauthApprove(OauthCtx *c, const SsoJson *pD, OauthAnswer *pA){
  const char *zFlow = oauthJs(pD, "flow");
  const char *zRedirect = oauthJs(pD, "redirect");
  const char *zUser = oauthJs(pD, "user");
  const char *zClient = oauthJs(pD, "client");
  int rc;
  if( zFlow==0 || zRedirect==0 || zUser==0 ) return SSOPROXY_PARSE;
  if( strcmp(zFlow, "sso_key_generate")==0 ){
    OauthMint m;
    SsoApiNewKey nk;
    SsoKey k;
    char zIn[24];
    const char *azPair[6];
    memset(&m, 0, sizeof(m));
    m.zUserId = zUser;
    m.zVia = "ui";
    m.zFlow = zFlow;
    m.zClient = zClient;
    m.zRedirect = zRedirect;
    rc = oauthMint(c, &m, &nk, &k);
    if( rc ) return rc;
    snprintf(zIn, sizeof(zIn), "%lld", oauthExpiresIn(c, k.tExpires));
    azPair[0] = "access_token"; azPair[1] = nk.zKey;
    azPair[2] = "token_type";   azPair[3] = "Bearer";
    azPair[4] = "expires_in";   azPair[5] = zIn;
    rc = ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                           3, 0);
    memset(nk.zKey, 0, sizeof(nk.zKey));
  }else{
    char zCode[SSO_OAUTH_SECRET_LEN+1];
    const char *azPair[6];
    int nPair = 1;
    rc = ssoOauthSecretNew(c->pRng, zCode);
    if( rc ) return rc;
    {
      /* The code's payload is the consent's, which already names the
      ** user, flow, client, redirect and challenge. */
      SsoBuf d;
      ssoBufInit(&d, 0);
      ssoJsonToBuf(pD, &d);
      rc = d.rc ? d.rc : oauthGrantPut(c, "oauth_code", zCode, d.z,
                                       c->p->msCodeTtl);
      ssoBufFree(&d);
      if( rc ) return rc;
    }
    azPair[0] = "code"; azPair[1] = zCode;
    if( strcmp(zFlow, "authorize")==0 ){
      azPair[2] = "state"; azPair[3] = oauthJs(pD, "state");
      azPair[4] = "iss";   azPair[5] = oauthBase(c);
      nPair = 3;
    }
    rc = ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                           nPair, 0);
  }
  pA->iStatus = 302;
  return rc;
}

/* Denial: the authorize flow tells the client (RFC 6749 §4.1.2.1); the
** others just say so, sending nothing anywhere. */
static int oauthDeny(OauthCtx *c, const SsoJson *pD, OauthAnswer *pA){
  const char *zFlow = oauthJs(pD, "flow");
  const char *zRedirect = oauthJs(pD, "redirect");
  if( zFlow && zRedirect && strcmp(zFlow, "authorize")==0 ){
    const char *azPair[] = { "error", "access_denied",
                             "state", oauthJs(pD, "state"),
                             "iss", oauthBase(c) };
    pA->iStatus = 302;
    return ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                             3, 0);
  }
  pA->iStatus = 200;
  pA->zTitle = "Access denied";
  pA->zMsg = "You denied the request. Nothing was sent to the application.";
  return SSOPROXY_OK;
}

/*
** The common start of a signed-in form POST (consent, device): the form
** read, the session found and its CSRF token checked. SSOPROXY_OK with
** *pSess; otherwise *pbDone is set when the request has been answered
** (zAgain tells the user what to do next) and the result is the
** handler's.
*/
static int oauthFormPost(OauthCtx *c, SsoSession *pSess, const char *zAgain,
                         int *pbDone){
  const char *zCsrf;
  int rc, bDup = 0;
  rc = oauthReadForm(c, 0, pbDone);
  if( *pbDone ) return rc;
  rc = oauthSession(c, pSess);
  if( rc==SSOPROXY_NOTFOUND ){
    *pbDone = 1;
    return ssoPageError(c->req, 403, "Not signed in", zAgain);
  }
  if( rc ){
    *pbDone = 1;
    return oauthInternal(c, rc, "cannot read a session");
  }
  zCsrf = oauthParam(&c->f, "csrf", &bDup);
  if( zCsrf==0 || !ssoSessionCsrfOk(pSess, zCsrf, strlen(zCsrf)) ){
    *pbDone = 1;
    return ssoPageError(c->req, 403, "Request refused", "The form's security "
                        "token is missing or wrong. Start again from the "
                        "application.");
  }
  return SSOPROXY_OK;
}

/* POST /oauth/consent: consent, csrf, action=approve|deny. */
static int oauthConsentPost(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD = 0;
  OauthAnswer ans;
  const char *zId, *zAction;
  int rc, bDone = 0, bDup = 0, bTx = 0;
  memset(&ans, 0, sizeof(ans));
  ssoBufInit(&ans.loc, 0);
  oauthCtxInit(&c, req, pArg);
  rc = oauthFormPost(&c, &sess, "Your session has ended. Start again from "
                     "the application.", &bDone);
  if( bDone ) goto end;
  zId = oauthParam(&c.f, "consent", &bDup);
  zAction = oauthParam(&c.f, "action", &bDup);
  if( zId==0 || zAction==0 || (strcmp(zAction, "approve")!=0
                               && strcmp(zAction, "deny")!=0) ){
    rc = ssoPageError(req, 400, "Bad request", "The form is incomplete.");
    goto end;
  }
  rc = ssoStoreBegin(c.pStore);
  if( rc ){ oauthInternal(&c, rc, "cannot begin"); goto end; }
  bTx = 1;
  rc = ssoStoreGrantTake(c.pStore, oauthHash(&c, zId, strlen(zId)),
                         "oauth_consent", &c.a, &g);
  if( rc==SSOPROXY_NOTFOUND || (rc==SSOPROXY_OK && (g.nUse>1
                                || g.tExpires<c.tNow)) ){
    ans.iStatus = 400;
    ans.zTitle = "Request expired";
    ans.zMsg = "This approval request is unknown, was already answered, or "
               "has expired. Start again from the application.";
    rc = SSOPROXY_OK;
    goto answer;
  }
  if( rc ) goto fail;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto fail; }
  if( oauthJs(pD, "session")==0 || oauthJs(pD, "user")==0
   || strcmp(oauthJs(pD, "session"), sess.zHash)!=0
   || strcmp(oauthJs(pD, "user"), sess.user.zId)!=0 ){
    ans.iStatus = 403;
    ans.zTitle = "Request refused";
    ans.zMsg = "This approval request belongs to another browser session.";
    goto answer;
  }
  rc = strcmp(zAction, "approve")==0 ? oauthApprove(&c, pD, &ans)
                                     : oauthDeny(&c, pD, &ans);
  if( rc ) goto fail;
answer:
  rc = ssoStoreCommit(c.pStore);
  bTx = 0;
  if( rc ) goto fail;
  if( ans.iStatus==302 ){
    rc = ssoPageRedirect(req, 302, ans.loc.z);
    ssoLog(c.p->pLog, SSO_LOG_INFO, "oauth consent approved or denied",
           "user", sess.user.zId, "flow", oauthJs(pD, "flow"),
           "action", zAction, (char*)0);
  }else{
    rc = ssoPageError(req, ans.iStatus, ans.zTitle, ans.zMsg);
  }
  goto end;
fail:
  oauthInternal(&c, rc, "consent failed");
end:
  if( bTx ) ssoStoreRollback(c.pStore);
  /* The Location may hold a key: wipe it. */
  if( ans.loc.z ) memset(ans.loc.z, 0, ans.loc.n);
  ssoBufFree(&ans.loc);
  ssoJsonFree(pDoc);
  oauthCtxFree(&c);
  return rc;
}

/* Check a redirect_uri / callback_url for a browser flow: 1 when fine,
** else 0 after answering 400 (never redirecting). */
static int oauthDestOk(OauthCtx *c, const char *z, int bJson, int *prc){
  char zWhy[256];
  if( ssoOauthRedirectCheck(c->p->zSchemes, c->p->zUris, z, strlen(z), zWhy,
                            sizeof(zWhy)) ){
    return 1;
  }
  *prc = bJson ? oauthError(c, 400, "invalid_request", zWhy)
       : ssoPageError(c->req, 400, "Destination refused", zWhy);
  return 0;
}

/* ------------------------------------------------------------------ */
/* 1. The seed PR: GET /sso/key/generate?response_type=oauth_token      */
/* ------------------------------------------------------------------ */

/*
** The shortcut: a valid user's key mints another for the same user,
** never more: the same models, and no later expiry than its own.
*/
static int oauthShortcut(OauthCtx *c){
  SsoCaller who;
  SsoAuthzErr err;
  OauthMint m;
  SsoApiNewKey nk;
  SsoKey k;
  long long tMax;
  int rc;
  memset(&err, 0, sizeof(err));
  if( !c->p->bKeyShortcut ){
    return oauthError(c, 403, "access_denied", "minting a key with an "
                      "existing key is switched off "
                      "(SSOPROXY_OAUTH_KEY_SHORTCUT); sign in instead");
  }
  rc = ssoAuthzAuthenticate(&c->p->authz, c->pStore, c->req->method,
                            c->req->aHdr, c->req->nHdr, c->tNow, &c->a, &who,
                            &err);
  if( rc==SSOPROXY_ERROR || (rc==SSOPROXY_OK && (who.eKind!=SSO_CALLER_KEY
                                                || who.zUserId==0)) ){
    return oauthError(c, 401, "invalid_token", rc==SSOPROXY_ERROR
                      ? err.zMsg : "only a user's API key can mint a key");
  }
  if( rc ) return oauthInternal(c, rc, "cannot authenticate");
  tMax = c->tNow + c->p->msKeyTtl;
  if( who.key.tExpires && who.key.tExpires<tMax ) tMax = who.key.tExpires;
  memset(&m, 0, sizeof(m));
  m.zUserId = who.zUserId;
  m.zVia = "ui";
  m.zFlow = "key_shortcut";
  m.zClient = who.key.zDisplay;
  m.zModels = who.key.zModels;
  m.tExpires = tMax;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = oauthMint(c, &m, &nk, &k);
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c->pStore);
  if( rc ){
    ssoStoreRollback(c->pStore);
    return oauthInternal(c, rc, "cannot mint a key");
  }
  rc = oauthTokenJson(c, &nk, k.tExpires, 0);
  memset(nk.zKey, 0, sizeof(nk.zKey));
  return rc;
}

SSO_PRIVATE int ssoOauthKeyFlow(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  const char *zType, *zRedirect;
  SsoStr auth;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = oauthError(&c, 400, "invalid_request", "malformed query string");
    goto end;
  }
  zType = oauthParam(&c.q, "response_type", &bDup);
  zRedirect = oauthParam(&c.q, "redirect_uri", &bDup);
  if( bDup ){
    rc = oauthError(&c, 400, "invalid_request", "a parameter was repeated");
    goto end;
  }
  if( zType==0 || strcmp(zType, "oauth_token")!=0 ){
    rc = oauthError(&c, 400, "unsupported_response_type",
                    "Unsupported response_type: only oauth_token is "
                    "supported here (OAuth clients use /oauth/authorize)");
    goto end;
  }
  if( zRedirect && !oauthDestOk(&c, zRedirect, 1, &rc) ) goto end;
  if( ssoServerHeader(req, "Authorization", &auth) ){
    rc = oauthShortcut(&c);
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  if( zRedirect ){
    OauthPending pend;
    memset(&pend, 0, sizeof(pend));
    pend.zFlow = "sso_key_generate";
    pend.zRedirect = zRedirect;
    rc = oauthConsentPage(&c, &sess, &pend);
  }else{
    /* The PR's JSON answer, shown to the signed-in user who asked for it
    ** in their own browser (SameSite=Lax keeps other sites' requests
    ** cookie-less, and CORS never allows credentials). */
    OauthMint m;
    SsoApiNewKey nk;
    SsoKey k;
    memset(&m, 0, sizeof(m));
    m.zUserId = sess.user.zId;
    m.zVia = "ui";
    m.zFlow = "sso_key_generate";
    rc = ssoStoreBegin(c.pStore);
    if( rc==SSOPROXY_OK ) rc = oauthMint(&c, &m, &nk, &k);
    if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c.pStore);
    if( rc ){
      ssoStoreRollback(c.pStore);
      oauthInternal(&c, rc, "cannot mint a key");
      goto end;
    }
    rc = oauthTokenJson(&c, &nk, k.tExpires, 0);
    memset(nk.zKey, 0, sizeof(nk.zKey));
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /sso/key/generate when no SSO is configured: the key flow, or the
** sign-in page. */
static int oauthKeyGenerate(SsoServerReq *req, void *pArg){
  SsoArena a;
  SsoForm q;
  int bFlow;
  ssoArenaInit(&a, 0);
  bFlow = ssoFormParse(&a, req->query.z, req->query.n, &q, 0)!=SSOPROXY_OK
       || ssoFormCount(&q, "response_type")>0;
  ssoArenaFree(&a);
  if( bFlow ) return ssoOauthKeyFlow(req, pArg);
  return ssoPageRedirect(req, 302, "/login?rd=%2Fui");
}

/* CORS preflight (OPTIONS) of the endpoints programs call. */
static int oauthPreflight(SsoServerReq *req, void *pArg){
  OauthCtx c;
  int rc;
  oauthCtxInit(&c, req, pArg);
  rc = ssoServerStatus(req, 204);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Vary", "Origin");
  if( rc==SSOPROXY_OK && c.bCors ){
    char *z = ssoArenaStrndup(&c.a, c.origin.z, c.origin.n);
    rc = z ? ssoServerAddHeader(req, "Access-Control-Allow-Origin", z)
           : SSOPROXY_NOMEM;
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Allow-Methods",
                              "GET, POST, OPTIONS");
    }
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Allow-Headers",
                              "Authorization, Content-Type");
    }
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Max-Age", "600");
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* 2 and 3. Authorization requests: GET /auth, GET /oauth/authorize     */
/* ------------------------------------------------------------------ */

/* A client_id: a short label of safe characters (public clients). */
static int oauthClientIdOk(const char *z){
  size_t i, n = strlen(z);
  if( n==0 || n>SSO_OAUTH_MAX_CLIENT_ID ) return 0;
  for(i=0; i<n; i++){
    char ch = z[i];
    if( !oauthIsB64Url(ch) && ch!='.' && ch!=':' ) return 0;
  }
  return 1;
}

/* GET /auth?callback_url=&code_challenge=&code_challenge_method= */
static int oauthOpenRouterAuth(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  OauthPending pend;
  const char *zCb, *zCh, *zMethod;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  zCb = oauthParam(&c.q, "callback_url", &bDup);
  zCh = oauthParam(&c.q, "code_challenge", &bDup);
  zMethod = oauthParam(&c.q, "code_challenge_method", &bDup);
  if( bDup || zCb==0 ){
    rc = ssoPageError(req, 400, "Bad request", bDup ? "A parameter was "
                      "repeated." : "callback_url is required.");
    goto end;
  }
  if( !oauthDestOk(&c, zCb, 0, &rc) ) goto end;
  if( zCh ){
    if( zMethod==0 || strcmp(zMethod, "S256")!=0 ){
      rc = ssoPageError(req, 400, "Bad request", "code_challenge_method "
                        "must be S256 (plain is not accepted).");
      goto end;
    }
    if( !ssoOauthChallengeOk(zCh, strlen(zCh)) ){
      rc = ssoPageError(req, 400, "Bad request", "code_challenge must be 43 "
                        "base64url characters (S256).");
      goto end;
    }
  }else if( zMethod ){
    rc = ssoPageError(req, 400, "Bad request", "code_challenge_method "
                      "without code_challenge.");
    goto end;
  }else if( !c.p->bCodeOnly ){
    rc = ssoPageError(req, 400, "Bad request", "code_challenge is required "
                      "(SSOPROXY_OAUTH_ALLOW_CODE_ONLY is off).");
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  memset(&pend, 0, sizeof(pend));
  pend.zFlow = "openrouter";
  pend.zRedirect = zCb;
  pend.zChallenge = zCh;
  rc = oauthConsentPage(&c, &sess, &pend);
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /oauth/authorize (RFC 6749 §4.1.1 with PKCE, RFC 8252) */
static int oauthAuthorize(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  OauthPending pend;
  const char *zType, *zClient, *zRedirect, *zCh, *zMethod, *zState;
  const char *zErr = 0, *zDesc = 0;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  zType = oauthParam(&c.q, "response_type", &bDup);
  zClient = oauthParam(&c.q, "client_id", &bDup);
  zRedirect = oauthParam(&c.q, "redirect_uri", &bDup);
  zCh = oauthParam(&c.q, "code_challenge", &bDup);
  zMethod = oauthParam(&c.q, "code_challenge_method", &bDup);
  zState = oauthParam(&c.q, "state", &bDup);
  /* Until the client and its redirect URI are known good, errors are
  ** shown here and never sent anywhere (RFC 6749 §4.1.2.1). */
  if( bDup ){
    rc = ssoPageError(req, 400, "Bad request", "A parameter was repeated.");
    goto end;
  }
  if( zClient==0 || !oauthClientIdOk(zClient) ){
    rc = ssoPageError(req, 400, "Bad request", "client_id is missing or "
                      "malformed.");
    goto end;
  }
  if( zRedirect==0 ){
    rc = ssoPageError(req, 400, "Bad request", "redirect_uri is required.");
    goto end;
  }
  if( !oauthDestOk(&c, zRedirect, 0, &rc) ) goto end;
  if( zType==0 || strcmp(zType, "code")!=0 ){
    zErr = "unsupported_response_type";
    zDesc = "only response_type=code is supported";
  }else if( zCh==0 || zMethod==0 || strcmp(zMethod, "S256")!=0
         || !ssoOauthChallengeOk(zCh, strlen(zCh)) ){
    zErr = "invalid_request";
    zDesc = "PKCE is required: code_challenge (43 base64url characters) "
            "with code_challenge_method=S256";
  }else if( zState && strlen(zState)>SSO_OAUTH_MAX_STATE ){
    zErr = "invalid_request";
    zDesc = "state is too long";
  }
  if( zErr ){
    SsoBuf b;
    const char *azPair[] = { "error", zErr, "error_description", zDesc,
                             "state", zState, "iss", oauthBase(&c) };
    ssoBufInit(&b, 0);
    ssoUrlAppendQuery(&b, zRedirect, strlen(zRedirect), azPair, 4, 0);
    rc = b.rc ? b.rc : ssoPageRedirect(req, 302, b.z);
    ssoBufFree(&b);
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  memset(&pend, 0, sizeof(pend));
  pend.zFlow = "authorize";
  pend.zRedirect = zRedirect;
  pend.zClient = zClient;
  pend.zChallenge = zCh;
  pend.zState = zState;
  rc = oauthConsentPage(&c, &sess, &pend);
end:
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Code redemption: POST /api/v1/auth/keys, /oauth/token                */
/* ------------------------------------------------------------------ */

/* Why a redemption failed. */
#define OAUTH_R_OK        0
#define OAUTH_R_BADCODE   1   /* Unknown, expired, or other flow */
#define OAUTH_R_REUSED    2   /* Second use: its key was revoked */
#define OAUTH_R_VERIFIER  3   /* Wrong verifier */
#define OAUTH_R_NOVERIF   4   /* Challenge sent, no verifier */
#define OAUTH_R_DOWNGRADE 5   /* Verifier, but no challenge was sent */
#define OAUTH_R_NOPKCE    6   /* Code-only exchanges are switched off */
#define OAUTH_R_MISMATCH  7   /* client_id or redirect_uri differ */
#define OAUTH_R_USER      8   /* The user is gone or disabled */

typedef struct OauthRedeem OauthRedeem;
struct OauthRedeem {
  const char *zFlow;        /* Which flow's codes are accepted here */
  const char *zCode;
  const char *zVerifier;    /* NULL: none */
  const char *zClient;      /* /oauth/token: must match; else NULL */
  const char *zRedirect;    /* /oauth/token: must match; else NULL */
  int eWhy;                 /* OAUTH_R_* */
  SsoApiNewKey nk;
  SsoKey key;
  const char *zUserId;
};

/* A second use of a code: revoke what the first produced. */
static int oauthRevokeFromCode(OauthCtx *c, const SsoJson *pD){
  const char *zKeyHash = oauthJs(pD, "key");
  SsoKey k;
  int rc;
  if( zKeyHash==0 ) return SSOPROXY_OK;
  rc = ssoStoreKeyGet(c->pStore, zKeyHash, &c->a, &k);
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  ssoLog(c->p->pLog, SSO_LOG_WARN, "authorization code used twice: its key "
         "is revoked", "key", k.zDisplay, "user", k.zUserId ? k.zUserId : "",
         (char*)0);
  return ssoApiKeyDrop(c->pStore, "oauth:code_reuse", &k);
}

/* Take the code and mint its key, all in one transaction. */
static int oauthRedeem(OauthCtx *c, OauthRedeem *r){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zCh, *zHash;
  OauthMint m;
  int rc, bUser;
  r->eWhy = OAUTH_R_BADCODE;
  zHash = oauthHash(c, r->zCode, strlen(r->zCode));
  if( zHash==0 ) return SSOPROXY_NOMEM;
  rc = ssoStoreBegin(c->pStore);
  if( rc ) return rc;
  rc = ssoStoreGrantTake(c->pStore, zHash, "oauth_code", &c->a, &g);
  if( rc==SSOPROXY_NOTFOUND ){ rc = SSOPROXY_OK; goto done; }
  if( rc ) goto end;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto end; }
  if( g.nUse>1 ){
    r->eWhy = OAUTH_R_REUSED;
    rc = oauthRevokeFromCode(c, pD);
    goto done;
  }
  if( g.tExpires<c->tNow || oauthJs(pD, "flow")==0
   || strcmp(oauthJs(pD, "flow"), r->zFlow)!=0 ){
    goto done;
  }
  zCh = oauthJs(pD, "challenge");
  if( zCh ){
    char zGot[SSO_OAUTH_CHALLENGE_LEN+1];
    if( r->zVerifier==0 ){ r->eWhy = OAUTH_R_NOVERIF; goto done; }
    if( !ssoOauthVerifierOk(r->zVerifier, strlen(r->zVerifier)) ){
      r->eWhy = OAUTH_R_VERIFIER;
      goto done;
    }
    rc = ssoOauthS256(r->zVerifier, strlen(r->zVerifier), zGot);
    if( rc ) goto end;
    if( !ssoCtEqual(zGot, zCh, SSO_OAUTH_CHALLENGE_LEN)
     || strlen(zCh)!=SSO_OAUTH_CHALLENGE_LEN ){
      r->eWhy = OAUTH_R_VERIFIER;
      goto done;
    }
  }else if( r->zVerifier ){
    r->eWhy = OAUTH_R_DOWNGRADE;
    goto done;
  }else if( !c->p->bCodeOnly ){
    r->eWhy = OAUTH_R_NOPKCE;
    goto done;
  }
  if( (r->zClient && (oauthJs(pD, "client")==0
                      || strcmp(oauthJs(pD, "client"), r->zClient)!=0))
   || (r->zRedirect && strcmp(oauthJs(pD, "redirect"), r->zRedirect)!=0) ){
    r->eWhy = OAUTH_R_MISMATCH;
    goto done;
  }
  r->zUserId = oauthJs(pD, "user");
  bUser = r->zUserId ? oauthUserOk(c, r->zUserId) : 0;
  if( bUser<0 ){ rc = -bUser; goto end; }
  if( bUser==0 ){ r->eWhy = OAUTH_R_USER; goto done; }
  r->zUserId = ssoArenaStrndup(&c->a, r->zUserId, strlen(r->zUserId));
  if( r->zUserId==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  memset(&m, 0, sizeof(m));
  m.zUserId = r->zUserId;
  m.zFlow = r->zFlow;
  m.zClient = oauthJs(pD, "client");
  m.zRedirect = oauthJs(pD, "redirect");
  m.zVia = (m.zClient && strcmp(m.zClient, SSO_OAUTH_CLI_CLIENT)==0)
         ? "cli" : "oauth";
  rc = oauthMint(c, &m, &r->nk, &r->key);
  if( rc ) goto end;
  {
    /* Remember the key with the code, so a reuse can revoke it. */
    SsoBuf d;
    SsoJsonWriter w;
    size_t i, n = ssoJsonCount(pD);
    ssoBufInit(&d, 0);
    ssoJsonWriteInit(&w, &d);
    ssoJsonWriteBeginObject(&w);
    for(i=0; i<n; i++){
      size_t nKey;
      const char *zKey = ssoJsonKey(ssoJsonAt(pD, i), &nKey);
      ssoJsonWriteKeyN(&w, zKey, nKey);
      ssoJsonWriteValue(&w, ssoJsonAt(pD, i));
    }
    ssoJsonWriteKeyString(&w, "key", r->nk.zHash);
    ssoJsonWriteEndObject(&w);
    rc = ssoJsonWriteFinish(&w);
    if( rc==SSOPROXY_OK ){
      rc = ssoStoreGrantUpdate(c->pStore, zHash, "oauth_code", d.z);
    }
    ssoBufFree(&d);
    if( rc ) goto end;
  }
  r->eWhy = OAUTH_R_OK;
done:
  rc = ssoStoreCommit(c->pStore);
end:
  if( rc ) ssoStoreRollback(c->pStore);
  ssoJsonFree(pDoc);
  return rc;
}

static const char *oauthRedeemWhy(int eWhy){
  switch( eWhy ){
    case OAUTH_R_REUSED: return "the code was already used; the key issued "
                                "for it has been revoked";
    case OAUTH_R_VERIFIER: return "code_verifier does not match the "
                                  "code_challenge";
    case OAUTH_R_NOVERIF: return "code_verifier is required: a "
                                 "code_challenge was sent";
    case OAUTH_R_DOWNGRADE: return "code_verifier sent but no "
                                   "code_challenge was: refused (downgrade)";
    case OAUTH_R_NOPKCE: return "exchanges without PKCE are switched off";
    case OAUTH_R_MISMATCH: return "client_id or redirect_uri differ from the "
                                  "authorization request";
    case OAUTH_R_USER: return "the user no longer exists or is disabled";
    default: return "the code is unknown or has expired";
  }
}

/* POST /api/v1/auth/keys: {code, code_verifier?, code_challenge_method?} */
static int oauthOpenRouterKeys(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoStr ct;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot, *pV;
  OauthRedeem r;
  int rc;
  oauthCtxInit(&c, req, pArg);
  memset(&r, 0, sizeof(r));
  if( !ssoServerHeader(req, "Content-Type", &ct) || ct.n<16
   || strncasecmp(ct.z, "application/json", 16)!=0
   || (ct.n>16 && ct.z[16]!=';' && ct.z[16]!=' ') ){
    rc = oauthOrError(&c, 415, "Content-Type must be application/json");
    goto end;
  }
  if( ssoJsonParse(req->pBody ? req->pBody : "", req->nBody, SSO_JSON_NODUP,
                   &pDoc, 0)
   || ssoJsonType(pRoot = ssoJsonRoot(pDoc))!=SSO_JSON_OBJECT ){
    rc = oauthOrError(&c, 400, "the body must be a JSON object");
    goto end;
  }
  r.zCode = ssoJsonCStr(ssoJsonGet(pRoot, "code"));
  pV = ssoJsonGet(pRoot, "code_verifier");
  r.zVerifier = ssoJsonCStr(pV);
  if( r.zCode==0 || r.zCode[0]==0 || strlen(r.zCode)>SSO_OAUTH_MAX_CODE
   || (pV && ssoJsonType(pV)!=SSO_JSON_NULL && r.zVerifier==0) ){
    rc = oauthOrError(&c, 400, "code (a string) is required");
    goto end;
  }
  pV = ssoJsonGet(pRoot, "code_challenge_method");
  if( pV && ssoJsonType(pV)!=SSO_JSON_NULL
   && (ssoJsonCStr(pV)==0 || strcmp(ssoJsonCStr(pV), "S256")!=0) ){
    rc = oauthOrError(&c, 400, "code_challenge_method must be S256");
    goto end;
  }
  if( r.zVerifier && r.zVerifier[0]==0 ) r.zVerifier = 0;
  r.zFlow = "openrouter";
  rc = oauthRedeem(&c, &r);
  if( rc ){ oauthInternal(&c, rc, "cannot redeem a code"); goto end; }
  switch( r.eWhy ){
    case OAUTH_R_OK: {
      SsoBuf b;
      SsoJsonWriter w;
      ssoBufInit(&b, 0);
      ssoJsonWriteInit(&w, &b);
      ssoJsonWriteBeginObject(&w);
      ssoJsonWriteKeyString(&w, "key", r.nk.zKey);
      ssoJsonWriteKeyString(&w, "user_id", r.zUserId);
      ssoJsonWriteEndObject(&w);
      ssoJsonWriteFinish(&w);
      memset(r.nk.zKey, 0, sizeof(r.nk.zKey));
      rc = oauthSendJson(&c, 200, &b);
      break;
    }
    case OAUTH_R_NOVERIF: case OAUTH_R_DOWNGRADE:
      rc = oauthOrError(&c, 400, oauthRedeemWhy(r.eWhy));
      break;
    default:
      rc = oauthOrError(&c, 403, oauthRedeemWhy(r.eWhy));
      break;
  }
end:
  ssoJsonFree(pDoc);
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* 4. Device authorization grant (RFC 8628)                            */
/* ------------------------------------------------------------------ */

#define OAUTH_GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"

/* POST /oauth/device_authorization: client_id[, scope] */
static int oauthDeviceAuthorization(SsoServerReq *req, void *pArg){
  OauthCtx c;
  char zDevice[SSO_OAUTH_SECRET_LEN+1], zUser[10], zNorm[9];
  const char *zClient, *zBase;
  SsoBuf d, b;
  SsoJsonWriter w;
  int rc, bDone = 0, bDup = 0, nTry;
  oauthCtxInit(&c, req, pArg);
  ssoBufInit(&d, 0);
  ssoBufInit(&b, 0);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zClient = oauthParam(&c.f, "client_id", &bDup);
  if( zClient==0 || !oauthClientIdOk(zClient) ){
    rc = oauthError(&c, 400, "invalid_client", "client_id is missing or "
                    "malformed");
    goto end;
  }
  rc = ssoOauthSecretNew(c.pRng, zDevice);
  if( rc ) goto end;
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "client", zClient);
  ssoJsonWriteKeyString(&w, "status", "pending");
  ssoJsonWriteKeyInt64(&w, "interval", c.p->sInterval);
  ssoJsonWriteKeyInt64(&w, "polled", 0);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc ) goto end;
  oauthPurge(&c);
  rc = oauthGrantPut(&c, "device", zDevice, d.z, c.p->msDeviceTtl);
  /* A user code that collides with a live one is drawn again. */
  for(nTry=0; rc==SSOPROXY_OK; nTry++){
    ssoBufTruncate(&d, 0);
    rc = ssoOauthUserCodeNew(c.pRng, zUser);
    if( rc ) break;
    ssoOauthUserCodeNormalize(zUser, 9, zNorm);
    ssoBufPrintf(&d, "{\"device\":\"%s\"}", oauthHash(&c, zDevice,
                                                       strlen(zDevice)));
    rc = d.rc ? d.rc : oauthGrantPut(&c, "device_user", zNorm, d.z,
                                     c.p->msDeviceTtl);
    if( rc!=SSOPROXY_CONSTRAINT || nTry>=5 ) break;
    rc = SSOPROXY_OK;
  }
  if( rc ){ oauthInternal(&c, rc, "cannot store a device code"); goto end; }
  zBase = oauthBase(&c);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "device_code", zDevice);
  ssoJsonWriteKeyString(&w, "user_code", zUser);
  ssoBufTruncate(&d, 0);
  ssoBufPrintf(&d, "%s/device", zBase);
  ssoJsonWriteKeyString(&w, "verification_uri", ssoBufStr(&d));
  ssoBufPrintf(&d, "?user_code=%s", zUser);
  ssoJsonWriteKeyString(&w, "verification_uri_complete", ssoBufStr(&d));
  ssoJsonWriteKeyInt64(&w, "expires_in", c.p->msDeviceTtl/1000);
  ssoJsonWriteKeyInt64(&w, "interval", c.p->sInterval);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    rc = oauthSendJson(&c, 200, &b);
    ssoBufInit(&b, 0);
  }
end:
  ssoBufFree(&d);
  ssoBufFree(&b);
  oauthCtxFree(&c);
  return rc;
}

/*
** Guessing user codes: at most SSO_OAUTH_DEVICE_TRIES wrong codes per
** session and SSO_OAUTH_DEVICE_TRIES_ALL in all per window. zWho names
** the counter. Returns 1 when over the limit.
*/
static int oauthTryOver(OauthCtx *c, const char *zWho, int nMax){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  int bOver = 0;
  const char *zHash = oauthHash(c, zWho, strlen(zWho));
  if( zHash==0 ) return 1;
  if( ssoStoreGrantGet(c->pStore, zHash, "device_try", &c->a, &g) ) return 0;
  if( g.tExpires<c->tNow ) return 0;
  pD = oauthGrantData(&g, &pDoc);
  if( pD && oauthJi(pD, "n")>=nMax ) bOver = 1;
  ssoJsonFree(pDoc);
  return bOver;
}

static void oauthTryNote(OauthCtx *c, const char *zWho){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  char zData[48];
  long long n = 0;
  const char *zHash = oauthHash(c, zWho, strlen(zWho));
  if( zHash==0 ) return;
  if( ssoStoreGrantGet(c->pStore, zHash, "device_try", &c->a, &g)==SSOPROXY_OK
   && g.tExpires>=c->tNow ){
    pD = oauthGrantData(&g, &pDoc);
    if( pD ) n = oauthJi(pD, "n");
    ssoJsonFree(pDoc);
    snprintf(zData, sizeof(zData), "{\"n\":%lld}", n+1);
    ssoStoreGrantUpdate(c->pStore, zHash, "device_try", zData);
    return;
  }
  ssoStoreGrantDelete(c->pStore, zHash, "device_try");
  memset(&g, 0, sizeof(g));
  g.zHash = zHash;
  g.zKind = "device_try";
  g.zData = "{\"n\":1}";
  g.tCreated = c->tNow;
  g.tExpires = c->tNow + SSO_OAUTH_DEVICE_TRY_MS;
  ssoStoreGrantInsert(c->pStore, &g);
}

/*
** Find the pending device request of a user code, counting wrong ones.
** Returns 1 with *pG (the device grant) and *ppDoc, 0 after answering.
*/
static int oauthDeviceFind(OauthCtx *c, const SsoSession *pSess,
                           const char *zCode, SsoGrant *pG,
                           SsoJsonDoc **ppDoc, int *prc){
  char zNorm[9], zWho[80];
  SsoGrant u;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zDev = 0;
  snprintf(zWho, sizeof(zWho), "s:%s", pSess->zHash);
  if( oauthTryOver(c, zWho, SSO_OAUTH_DEVICE_TRIES)
   || oauthTryOver(c, "global", SSO_OAUTH_DEVICE_TRIES_ALL) ){
    *prc = ssoPageError(c->req, 429, "Too many attempts", "Too many wrong "
                        "codes were entered. Wait a few minutes and try "
                        "again.");
    return 0;
  }
  if( ssoOauthUserCodeNormalize(zCode, strlen(zCode), zNorm)==SSOPROXY_OK
   && ssoStoreGrantGet(c->pStore, oauthHash(c, zNorm, 8), "device_user",
                       &c->a, &u)==SSOPROXY_OK
   && u.tExpires>=c->tNow && (pD = oauthGrantData(&u, &pDoc))!=0 ){
    zDev = oauthJs(pD, "device");
  }
  if( zDev && ssoStoreGrantGet(c->pStore, zDev, "device", &c->a,
                               pG)==SSOPROXY_OK
   && pG->tExpires>=c->tNow && oauthGrantData(pG, ppDoc)
   && oauthJs(ssoJsonRoot(*ppDoc), "status")
   && strcmp(oauthJs(ssoJsonRoot(*ppDoc), "status"), "pending")==0 ){
    ssoJsonFree(pDoc);
    return 1;
  }
  ssoJsonFree(pDoc);
  ssoJsonFree(*ppDoc);
  *ppDoc = 0;
  oauthTryNote(c, zWho);
  oauthTryNote(c, "global");
  *prc = ssoPageError(c->req, 400, "Unknown code", "This code is unknown, "
                      "expired or already used. Check the code your device "
                      "shows.");
  return 0;
}

static void oauthDeviceForm(SsoBuf *h, const SsoSession *pSess,
                            const char *zCode, const char *zClient){
  const char *zWho = pSess->user.zEmail ? pSess->user.zEmail
                                        : pSess->user.zId;
  if( zClient==0 ){
    ssoBufAppendStr(h, "<p>Enter the code your "
                    "device shows.</p>\n<form method=\"get\" "
                    "action=\"/device\">\n<input name=\"user_code\" "
                    "id=\"user_code\" autocomplete=\"off\" "
                    "placeholder=\"XXXX-XXXX\">\n<button type=\"submit\">"
                    "Continue</button>\n</form>\n");
    return;
  }
  ssoBufAppendStr(h, "<p>The device <b>");
  ssoPageEscape(h, zClient, strlen(zClient));
  ssoBufAppendStr(h, "</b> showing the code <code>");
  ssoPageEscape(h, zCode, strlen(zCode));
  ssoBufAppendStr(h, "</code> asks for an API key of your account <b>");
  ssoPageEscape(h, zWho, strlen(zWho));
  ssoBufAppendStr(h, "</b>.</p>\n<p>Approve only if you started this on "
                  "that device just now.</p>\n<form method=\"post\" "
                  "action=\"/device\">\n<input type=\"hidden\" "
                  "name=\"user_code\" value=\"");
  ssoPageEscape(h, zCode, strlen(zCode));
  ssoBufAppendStr(h, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
  ssoPageEscape(h, pSess->zCsrf, strlen(pSess->zCsrf));
  ssoBufAppendStr(h, "\">\n<button type=\"submit\" name=\"action\" "
                  "value=\"approve\" id=\"approve\">Approve</button>\n"
                  "<button type=\"submit\" name=\"action\" value=\"deny\" "
                  "id=\"deny\">Deny</button>\n</form>\n");
}

/* GET /device[?user_code=]: enter a code, or confirm one. */
static int oauthDevicePage(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  SsoBuf h;
  const char *zCode;
  int rc, bDup = 0;
  ssoBufInit(&h, 0);
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  zCode = oauthParam(&c.q, "user_code", &bDup);
  if( zCode==0 || zCode[0]==0 ){
    oauthDeviceForm(&h, &sess, 0, 0);
  }else{
    if( !oauthDeviceFind(&c, &sess, zCode, &g, &pDoc, &rc) ) goto end;
    oauthDeviceForm(&h, &sess, zCode, oauthJs(ssoJsonRoot(pDoc), "client"));
  }
  rc = h.rc ? h.rc : ssoPageRespond(req, 200, "Connect a device", h.z);
end:
  ssoJsonFree(pDoc);
  ssoBufFree(&h);
  oauthCtxFree(&c);
  return rc;
}

/* POST /device: user_code, csrf, action=approve|deny */
static int oauthDevicePost(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  SsoBuf d;
  SsoJsonWriter w;
  const char *zCode, *zAction;
  int rc, bDone = 0, bDup = 0, bApprove;
  ssoBufInit(&d, 0);
  oauthCtxInit(&c, req, pArg);
  rc = oauthFormPost(&c, &sess, "Your session has ended. Sign in and enter "
                     "the code again.", &bDone);
  if( bDone ) goto end;
  zCode = oauthParam(&c.f, "user_code", &bDup);
  zAction = oauthParam(&c.f, "action", &bDup);
  if( zCode==0 || zAction==0 || (strcmp(zAction, "approve")!=0
                                 && strcmp(zAction, "deny")!=0) ){
    rc = ssoPageError(req, 400, "Bad request", "The form is incomplete.");
    goto end;
  }
  if( !oauthDeviceFind(&c, &sess, zCode, &g, &pDoc, &rc) ) goto end;
  bApprove = strcmp(zAction, "approve")==0;
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "client", oauthJs(ssoJsonRoot(pDoc), "client"));
  ssoJsonWriteKeyString(&w, "status", bApprove ? "approved" : "denied");
  ssoJsonWriteKeyString(&w, "user", sess.user.zId);
  ssoJsonWriteKeyInt64(&w, "interval",
                       oauthJi(ssoJsonRoot(pDoc), "interval"));
  ssoJsonWriteKeyInt64(&w, "polled", oauthJi(ssoJsonRoot(pDoc), "polled"));
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ) rc = ssoStoreGrantUpdate(c.pStore, g.zHash, "device",
                                                 d.z);
  if( rc ){ oauthInternal(&c, rc, "cannot update a device code"); goto end; }
  rc = ssoPageError(req, 200, bApprove ? "Device connected" : "Access denied",
                    bApprove ? "Done. Your device receives its key now; you "
                    "can close this page." : "You denied the request. "
                    "Nothing was sent to the device.");
end:
  ssoJsonFree(pDoc);
  ssoBufFree(&d);
  oauthCtxFree(&c);
  return rc;
}

/* The device-code grant of /oauth/token (RFC 8628 §3.4, §3.5). */
static int oauthTokenDevice(OauthCtx *c){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zDevice, *zClient, *zStatus, *zHash;
  const char *zErr = 0, *zDesc = 0;
  OauthMint m;
  SsoApiNewKey nk;
  SsoKey k;
  SsoBuf d;
  int rc, bDup = 0, bKey = 0;
  long long iInterval;
  zDevice = oauthParam(&c->f, "device_code", &bDup);
  zClient = oauthParam(&c->f, "client_id", &bDup);
  if( zDevice==0 || zClient==0 || strlen(zDevice)>SSO_OAUTH_MAX_CODE ){
    return oauthError(c, 400, "invalid_request", "device_code and client_id "
                      "are required");
  }
  zHash = oauthHash(c, zDevice, strlen(zDevice));
  if( zHash==0 ) return SSOPROXY_NOMEM;
  ssoBufInit(&d, 0);
  rc = ssoStoreBegin(c->pStore);
  if( rc ) goto end;
  rc = ssoStoreGrantGet(c->pStore, zHash, "device", &c->a, &g);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = SSOPROXY_OK;
    zErr = "invalid_grant"; zDesc = "unknown device_code";
    goto done;
  }
  if( rc ) goto end;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto end; }
  zStatus = oauthJs(pD, "status");
  if( oauthJs(pD, "client")==0 || strcmp(oauthJs(pD, "client"), zClient) ){
    zErr = "invalid_grant"; zDesc = "the device_code was issued to another "
                                    "client_id";
    goto done;
  }
  if( g.tExpires<c->tNow ){
    zErr = "expired_token"; zDesc = "the device_code has expired; start "
                                    "again";
    goto done;
  }
  if( zStatus==0 || strcmp(zStatus, "done")==0 ){
    zErr = "invalid_grant"; zDesc = "the device_code was already used";
    goto done;
  }
  if( strcmp(zStatus, "denied")==0 ){
    zErr = "access_denied"; zDesc = "the user denied the request";
    ssoStoreGrantDelete(c->pStore, zHash, "device");
    goto done;
  }
  iInterval = oauthJi(pD, "interval");
  if( strcmp(zStatus, "pending")==0 ){
    long long tPolled = oauthJi(pD, "polled");
    int bSlow = tPolled && c->tNow - tPolled < iInterval*1000;
    if( bSlow ) iInterval += 5;
    ssoBufPrintf(&d, "{\"client\":");
    ssoBufAppendJsonString(&d, zClient, strlen(zClient));
    ssoBufPrintf(&d, ",\"status\":\"pending\",\"interval\":%lld,"
                 "\"polled\":%lld}", iInterval, c->tNow);
    rc = d.rc ? d.rc : ssoStoreGrantUpdate(c->pStore, zHash, "device", d.z);
    if( rc ) goto end;
    zErr = bSlow ? "slow_down" : "authorization_pending";
    zDesc = bSlow ? "polling too fast: wait the interval (now 5 s longer)"
                  : "the user has not answered yet";
    goto done;
  }
  /* Approved: this poll gets the key, once. */
  rc = ssoStoreGrantTake(c->pStore, zHash, "device", &c->a, &g);
  if( rc ) goto end;
  memset(&m, 0, sizeof(m));
  m.zUserId = oauthJs(pD, "user");
  if( m.zUserId==0 || (rc = oauthUserOk(c, m.zUserId))<=0 ){
    if( rc<0 ){ rc = -rc; goto end; }
    rc = SSOPROXY_OK;
    zErr = "access_denied"; zDesc = "the user no longer exists or is "
                                    "disabled";
    goto done;
  }
  m.zVia = "device";
  m.zFlow = "device";
  m.zClient = zClient;
  rc = oauthMint(c, &m, &nk, &k);
  if( rc ) goto end;
  ssoBufPrintf(&d, "{\"client\":");
  ssoBufAppendJsonString(&d, zClient, strlen(zClient));
  ssoBufPrintf(&d, ",\"status\":\"done\",\"key\":\"%s\"}", nk.zHash);
  rc = d.rc ? d.rc : ssoStoreGrantUpdate(c->pStore, zHash, "device", d.z);
  if( rc ) goto end;
  bKey = 1;
done:
  rc = ssoStoreCommit(c->pStore);
end:
  if( rc ){
    ssoStoreRollback(c->pStore);
    oauthInternal(c, rc, "device token failed");
  }else if( bKey ){
    rc = oauthTokenJson(c, &nk, k.tExpires, 0);
  }else{
    rc = oauthError(c, 400, zErr, zDesc);
  }
  if( bKey ) memset(nk.zKey, 0, sizeof(nk.zKey));
  ssoBufFree(&d);
  ssoJsonFree(pDoc);
  return rc;
}

/* POST /oauth/token */
static int oauthToken(SsoServerReq *req, void *pArg){
  OauthCtx c;
  const char *zGrant;
  int rc, bDone = 0, bDup = 0;
  oauthCtxInit(&c, req, pArg);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zGrant = oauthParam(&c.f, "grant_type", &bDup);
  if( zGrant && strcmp(zGrant, "authorization_code")==0 ){
    OauthRedeem r;
    memset(&r, 0, sizeof(r));
    r.zFlow = "authorize";
    r.zCode = oauthParam(&c.f, "code", &bDup);
    r.zVerifier = oauthParam(&c.f, "code_verifier", &bDup);
    r.zClient = oauthParam(&c.f, "client_id", &bDup);
    r.zRedirect = oauthParam(&c.f, "redirect_uri", &bDup);
    if( r.zCode==0 || r.zClient==0 || r.zRedirect==0 || r.zVerifier==0
     || strlen(r.zCode)>SSO_OAUTH_MAX_CODE ){
      rc = oauthError(&c, 400, "invalid_request", "code, code_verifier, "
                      "client_id and redirect_uri are required");
      goto end;
    }
    rc = oauthRedeem(&c, &r);
    if( rc ){ oauthInternal(&c, rc, "cannot redeem a code"); goto end; }
    if( r.eWhy==OAUTH_R_OK ){
      rc = oauthTokenJson(&c, &r.nk, r.key.tExpires, 0);
      memset(r.nk.zKey, 0, sizeof(r.nk.zKey));
    }else{
      rc = oauthError(&c, 400, "invalid_grant", oauthRedeemWhy(r.eWhy));
    }
  }else if( zGrant && strcmp(zGrant, OAUTH_GRANT_DEVICE_CODE)==0 ){
    rc = oauthTokenDevice(&c);
  }else{
    rc = oauthError(&c, 400, zGrant ? "unsupported_grant_type"
                    : "invalid_request", zGrant ? "grant_type must be "
                    "authorization_code or " OAUTH_GRANT_DEVICE_CODE
                    : "grant_type is required");
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* POST /oauth/revoke (RFC 7009): token=sk-... Holding a key is the right
** to revoke it; unknown tokens get 200 as well (§2.2). */
static int oauthRevoke(SsoServerReq *req, void *pArg){
  OauthCtx c;
  const char *zToken;
  char zHash[SSO_KEY_HEX];
  SsoKey k;
  int rc, bDone = 0, bDup = 0;
  oauthCtxInit(&c, req, pArg);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zToken = oauthParam(&c.f, "token", &bDup);
  if( zToken==0 ){
    rc = oauthError(&c, 400, "invalid_request", "token is required");
    goto end;
  }
  ssoAuthzKeyHash(zToken, strlen(zToken), zHash);
  rc = ssoStoreBegin(c.pStore);
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreKeyGet(c.pStore, zHash, &c.a, &k);
    if( rc==SSOPROXY_OK ){
      char zActor[32];
      snprintf(zActor, sizeof(zActor), "key:%s", k.zDisplay);
      rc = ssoApiKeyDrop(c.pStore, zActor, &k);
    }else if( rc==SSOPROXY_NOTFOUND ){
      rc = SSOPROXY_OK;
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c.pStore);
  if( rc ){
    ssoStoreRollback(c.pStore);
    oauthInternal(&c, rc, "cannot revoke");
    goto end;
  }
  {
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "{}");
    rc = oauthSendJson(&c, 200, &b);
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /.well-known/oauth-authorization-server (RFC 8414) */
static int oauthMetadata(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoBuf b, u;
  SsoJsonWriter w;
  const char *zBase;
  int rc;
  static const char *const azEp[][2] = {
    { "authorization_endpoint", "/oauth/authorize" },
    { "token_endpoint", "/oauth/token" },
    { "revocation_endpoint", "/oauth/revoke" },
    { "device_authorization_endpoint", "/oauth/device_authorization" },
  };
  size_t i;
  oauthCtxInit(&c, req, pArg);
  zBase = oauthBase(&c);
  ssoBufInit(&b, 0);
  ssoBufInit(&u, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "issuer", zBase);
  for(i=0; i<SSO_ARRAYSIZE(azEp); i++){
    ssoBufTruncate(&u, 0);
    ssoBufPrintf(&u, "%s%s", zBase, azEp[i][1]);
    ssoJsonWriteKeyString(&w, azEp[i][0], ssoBufStr(&u));
  }
  ssoJsonWriteKey(&w, "response_types_supported");
  ssoJsonWriteRaw(&w, "[\"code\"]", 8);
  ssoJsonWriteKey(&w, "grant_types_supported");
  ssoJsonWriteRaw(&w, "[\"authorization_code\",\"" OAUTH_GRANT_DEVICE_CODE
                  "\"]", strlen("[\"authorization_code\",\""
                                OAUTH_GRANT_DEVICE_CODE "\"]"));
  ssoJsonWriteKey(&w, "code_challenge_methods_supported");
  ssoJsonWriteRaw(&w, "[\"S256\"]", 8);
  ssoJsonWriteKey(&w, "token_endpoint_auth_methods_supported");
  ssoJsonWriteRaw(&w, "[\"none\"]", 8);
  ssoJsonWriteKey(&w, "revocation_endpoint_auth_methods_supported");
  ssoJsonWriteRaw(&w, "[\"none\"]", 8);
  ssoJsonWriteKeyBool(&w, "authorization_response_iss_parameter_supported",
                      1);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  ssoBufFree(&u);
  if( rc ) ssoBufFree(&b);
  rc = rc ? rc : oauthSendJson(&c, 200, &b);
  oauthCtxFree(&c);
  return rc;
}

SSO_PRIVATE int ssoOauthRegister(SsoServer *pSrv, SsoOauth *p,
                                 SsoOidc *pOidc){
  static const struct {
    const char *zMethod, *zPath;
    SsoServerHandler x;
  } aRoute[] = {
    { "GET",  "/auth", oauthOpenRouterAuth },
    { "POST", "/api/v1/auth/keys", oauthOpenRouterKeys },
    { "OPTIONS", "/api/v1/auth/keys", oauthPreflight },
    { "GET",  "/.well-known/oauth-authorization-server", oauthMetadata },
    { "OPTIONS", "/.well-known/oauth-authorization-server", oauthPreflight },
    { "GET",  "/oauth/authorize", oauthAuthorize },
    { "POST", "/oauth/consent", oauthConsentPost },
    { "POST", "/oauth/token", oauthToken },
    { "OPTIONS", "/oauth/token", oauthPreflight },
    { "POST", "/oauth/revoke", oauthRevoke },
    { "OPTIONS", "/oauth/revoke", oauthPreflight },
    { "POST", "/oauth/device_authorization", oauthDeviceAuthorization },
    { "OPTIONS", "/oauth/device_authorization", oauthPreflight },
    { "GET",  "/device", oauthDevicePage },
    { "POST", "/device", oauthDevicePost },
    { "OPTIONS", "/sso/key/generate", oauthPreflight },
  };
  size_t i;
  int rc;
  for(i=0; i<SSO_ARRAYSIZE(aRoute); i++){
    rc = ssoServerRoute(pSrv, aRoute[i].zMethod, aRoute[i].zPath,
                        aRoute[i].x, p);
    if( rc ) return rc;
  }
  if( pOidc ){
    ssoOidcSetKeyFlow(pOidc, ssoOauthKeyFlow, p);
    return SSOPROXY_OK;
  }
  return ssoServerRoute(pSrv, "GET", "/sso/key/generate", oauthKeyGenerate, p);
}

/* ------------------------------------------------------------------ */
/* The client: `ssoproxy login`                                        */
/* ------------------------------------------------------------------ */

/* One outbound call at a time, run to completion on our own loop. */
typedef struct OauthCli OauthCli;
struct OauthCli {
  SsoLoop *pLoop;
  SsoClient *pCli;
  SsoTls *pTls;
  const char *zBase;        /* Without a trailing '/' */
  int bDone;
  int iStatus;
  SsoBuf body;
  int fdOut;                /* The reserved output file; -1: none */
  char zErr[300];
};

static void oauthCliDone(SsoClientCall *pCall, const SsoClientResp *r,
                         void *pArg){
  OauthCli *p = pArg;
  SSO_UNUSED(pCall);
  p->bDone = 1;
  p->iStatus = r->rc==SSOPROXY_OK ? r->iStatus : 0;
  if( r->rc ) snprintf(p->zErr, sizeof(p->zErr), "%s", r->zErr);
  ssoBufTruncate(&p->body, 0);
  if( r->pBody ) ssoBufAppend(&p->body, r->pBody, r->nBody);
}

/* POST a form to zBase+zPath; parses the JSON answer into *ppDoc. */
static int oauthCliPost(OauthCli *p, const char *zPath, const char *zForm,
                        SsoJsonDoc **ppDoc){
  SsoClientReq r;
  SsoHttpHeader aHdr[2];
  SsoBuf url;
  int rc;
  *ppDoc = 0;
  ssoBufInit(&url, 0);
  ssoBufPrintf(&url, "%s%s", p->zBase, zPath);
  if( url.rc ){ ssoBufFree(&url); return url.rc; }
  memset(&r, 0, sizeof(r));
  memset(aHdr, 0, sizeof(aHdr));
  aHdr[0].name.z = "Content-Type"; aHdr[0].name.n = 12;
  aHdr[0].value.z = "application/x-www-form-urlencoded";
  aHdr[0].value.n = 33;
  aHdr[1].name.z = "Accept"; aHdr[1].name.n = 6;
  aHdr[1].value.z = "application/json"; aHdr[1].value.n = 16;
  r.zMethod = "POST";
  r.zUrl = url.z;
  r.aHdr = aHdr;
  r.nHdr = 2;
  r.pBody = zForm;
  r.nBody = strlen(zForm);
  r.xDone = oauthCliDone;
  r.pArg = p;
  p->bDone = 0;
  p->zErr[0] = 0;
  rc = ssoClientRequest(p->pCli, &r, 0);
  ssoBufFree(&url);
  if( rc ){
    snprintf(p->zErr, sizeof(p->zErr), "cannot send a request to %s",
             p->zBase);
    return rc;
  }
  while( !p->bDone ){
    rc = ssoLoopRunOnce(p->pLoop, 1000);
    if( rc ) return rc;
  }
  if( p->iStatus==0 ) return SSOPROXY_NET;
  if( p->body.rc ) return p->body.rc;
  if( ssoJsonParse(p->body.z ? p->body.z : "", p->body.n, 0, ppDoc, 0)
   || ssoJsonType(ssoJsonRoot(*ppDoc))!=SSO_JSON_OBJECT ){
    ssoJsonFree(*ppDoc);
    *ppDoc = 0;
    snprintf(p->zErr, sizeof(p->zErr), "%s%s answered %d without a JSON "
             "object", p->zBase, zPath, p->iStatus);
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

static int oauthCliOpen(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  SsoClientConfig cfg;
  char zErr[256];
  int rc;
  memset(p, 0, sizeof(*p));
  p->fdOut = -1;
  ssoBufInit(&p->body, 0);
  p->zBase = pArgs->zBaseUrl;
  if( strncmp(p->zBase, "https://", 8)==0 ){
    rc = ssoTlsClientNew(pArgs->zCaFile, pArgs->bInsecure, &p->pTls, zErr,
                         sizeof(zErr));
    if( rc ){
      snprintf(p->zErr, sizeof(p->zErr), "%s", zErr);
      return rc;
    }
  }
  rc = ssoLoopNew(&p->pLoop);
  if( rc ) return rc;
  ssoClientConfigInit(&cfg);
  cfg.pTls = p->pTls;
  cfg.msFirstByte = 60000;
  return ssoClientNew(p->pLoop, &cfg, &p->pCli);
}

static void oauthCliClose(OauthCli *p){
  ssoClientFree(p->pCli);
  ssoLoopFree(p->pLoop);
  ssoTlsFree(p->pTls);
  ssoBufFree(&p->body);
}

/*
** The output file is created (O_EXCL, mode 0600) before the flow starts,
** so an existing file is never overwritten and a typo costs no sign-in;
** the key is written into it at the end. -1: no file (print the key).
*/
static int oauthCliReserve(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  if( pArgs->zOutput==0 ) return 0;
  p->fdOut = open(pArgs->zOutput, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC,
                       0600);
  if( p->fdOut<0 || fchmod(p->fdOut, 0600)!=0 ){
    fprintf(stderr, "ssoproxy login: cannot create %s: %s%s\n",
            pArgs->zOutput, strerror(errno), errno==EEXIST
            ? " (it is never overwritten: remove it first)" : "");
    if( p->fdOut>=0 ){
      close(p->fdOut);
      unlink(pArgs->zOutput);
    }
    p->fdOut = -1;
    return 1;
  }
  return 0;
}

/* The flow failed: the reserved file goes. */
static void oauthCliUnreserve(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  if( p->fdOut<0 ) return;
  close(p->fdOut);
  p->fdOut = -1;
  unlink(pArgs->zOutput);
}

/* Print the key, or write it to the reserved file. */
static int oauthCliOutput(OauthCli *p, const SsoOauthLoginArgs *pArgs,
                          const char *zKey){
  size_t n = strlen(zKey);
  int fd = p->fdOut;
  if( pArgs->zOutput==0 ){
    printf("%s\n", zKey);
    return fflush(stdout)==0 ? 0 : 1;
  }
  p->fdOut = -1;
  if( write(fd, zKey, n)!=(ssize_t)n || write(fd, "\n", 1)!=1
   || close(fd)!=0 ){
    fprintf(stderr, "ssoproxy login: cannot write %s: %s\n", pArgs->zOutput,
            strerror(errno));
    unlink(pArgs->zOutput);
    return 1;
  }
  fprintf(stderr, "ssoproxy login: the key is in %s\n", pArgs->zOutput);
  return 0;
}

/* The answer of /oauth/token: 0 with the key printed/written, -1 to keep
** polling (device), 1 on failure. piInterval grows on slow_down. */
static int oauthCliTokenAnswer(OauthCli *p, const SsoOauthLoginArgs *pArgs,
                               const SsoJson *pRoot, long long *piInterval){
  const char *zKey = oauthJs(pRoot, "access_token");
  const char *zErr = oauthJs(pRoot, "error");
  if( p->iStatus==200 && zKey ) return oauthCliOutput(p, pArgs, zKey);
  if( zErr && strcmp(zErr, "authorization_pending")==0 ) return -1;
  if( zErr && strcmp(zErr, "slow_down")==0 ){
    *piInterval += 5;
    return -1;
  }
  fprintf(stderr, "ssoproxy login: %s: %s\n", zErr ? zErr : "error",
          oauthJs(pRoot, "error_description")
          ? oauthJs(pRoot, "error_description") : "no key was issued");
  return 1;
}

static int oauthLoginDevice(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  char *zDevice = 0;
  SsoBuf form;
  long long iInterval, tEnd;
  int rc, iExit = 1;
  rc = oauthCliPost(p, "/oauth/device_authorization",
                    "client_id=" SSO_OAUTH_CLI_CLIENT, &pDoc);
  if( rc ) goto net;
  pRoot = ssoJsonRoot(pDoc);
  if( p->iStatus!=200 || oauthJs(pRoot, "device_code")==0
   || oauthJs(pRoot, "user_code")==0 ){
    fprintf(stderr, "ssoproxy login: the server refused the device flow: "
            "%s\n", oauthJs(pRoot, "error_description")
            ? oauthJs(pRoot, "error_description") : "no device code");
    goto end;
  }
  fprintf(stderr, "To sign in, open %s\nand enter the code %s\n(or open "
          "%s)\nWaiting for approval...\n",
          oauthJs(pRoot, "verification_uri"), oauthJs(pRoot, "user_code"),
          oauthJs(pRoot, "verification_uri_complete")
          ? oauthJs(pRoot, "verification_uri_complete") : "");
  iInterval = oauthJi(pRoot, "interval");
  if( iInterval<1 ) iInterval = 5;
  tEnd = ssoOsMonoMs() + 1000*(oauthJi(pRoot, "expires_in")>0
                               ? oauthJi(pRoot, "expires_in") : 600);
  if( pArgs->sTimeout>0 && ssoOsMonoMs()+1000LL*pArgs->sTimeout<tEnd ){
    tEnd = ssoOsMonoMs() + 1000LL*pArgs->sTimeout;
  }
  zDevice = ssoStrdup(oauthJs(pRoot, "device_code"));
  ssoJsonFree(pDoc);
  pDoc = 0;
  if( zDevice==0 ) goto end;
  ssoBufInit(&form, 0);
  {
    const char *azPair[] = { "grant_type", OAUTH_GRANT_DEVICE_CODE,
                             "device_code", zDevice,
                             "client_id", SSO_OAUTH_CLI_CLIENT };
    ssoFormAppend(&form, azPair, 3);
  }
  while( form.rc==0 && ssoOsMonoMs()<tEnd ){
    long long tWake = ssoOsMonoMs() + iInterval*1000;
    while( ssoOsMonoMs()<tWake ){
      ssoLoopRunOnce(p->pLoop, (int)(tWake - ssoOsMonoMs()));
    }
    rc = oauthCliPost(p, "/oauth/token", form.z, &pDoc);
    if( rc ){ ssoBufFree(&form); goto net; }
    iExit = oauthCliTokenAnswer(p, pArgs, ssoJsonRoot(pDoc), &iInterval);
    ssoJsonFree(pDoc);
    pDoc = 0;
    if( iExit>=0 ) break;
    iExit = 1;
  }
  if( iExit<0 || (iExit==1 && ssoOsMonoMs()>=tEnd) ){
    fprintf(stderr, "ssoproxy login: gave up waiting for approval\n");
  }
  ssoBufFree(&form);
  goto end;
net:
  fprintf(stderr, "ssoproxy login: %s\n", p->zErr[0] ? p->zErr
          : ssoproxy_errstr(rc));
end:
  ssoFree(zDevice);
  ssoJsonFree(pDoc);
  return iExit;
}

/* The loopback redirect's receiving end. */
typedef struct OauthLoopback OauthLoopback;
struct OauthLoopback {
  SsoServer *pSrv;
  char zState[SSO_OAUTH_SECRET_LEN+1];
  char *zCode;              /* The code, once it came */
  char *zError;             /* Or the error the server sent */
};

static int oauthLoopbackCallback(SsoServerReq *req, void *pArg){
  OauthLoopback *p = pArg;
  SsoArena a;
  SsoForm q;
  SsoStr st, v;
  int rc;
  ssoArenaInit(&a, 0);
  if( ssoFormParse(&a, req->query.z, req->query.n, &q, 0)
   || ssoFormGet(&q, "state", &st)
   || st.n!=SSO_OAUTH_SECRET_LEN
   || !ssoCtEqual(st.z, p->zState, SSO_OAUTH_SECRET_LEN) ){
    ssoArenaFree(&a);
    return ssoPageError(req, 400, "Wrong request", "This answer does not "
                        "belong to the login in progress.");
  }
  if( ssoFormGet(&q, "code", &v)==SSOPROXY_OK ){
    p->zCode = ssoStrndup(v.z, v.n);
  }else{
    p->zError = ssoStrdup(ssoFormGet(&q, "error", &v)==SSOPROXY_OK ? v.z
                          : "no code in the answer");
  }
  ssoArenaFree(&a);
  rc = ssoPageError(req, 200, p->zCode ? "Signed in" : "Login failed",
                    p->zCode ? "ssoproxy login has what it needs. You can "
                    "close this window and go back to the terminal."
                    : "The login did not complete; see the terminal.");
  ssoServerStop(p->pSrv);
  return rc;
}

static SsoServer *volatile pOauthStopTarget;
static void oauthOnAlarm(int sig){
  SSO_UNUSED(sig);
  if( pOauthStopTarget ) ssoServerStop(pOauthStopTarget);
}

/* Open zUrl in the desktop's browser, if there is one; never waits. */
static void oauthOpenBrowser(const char *zUrl){
  char zProg[] = "xdg-open";
  char *azArgv[3];
  pid_t pid;
  if( getenv("DISPLAY")==0 && getenv("WAYLAND_DISPLAY")==0 ) return;
  azArgv[0] = zProg;
  azArgv[1] = ssoStrdup(zUrl);
  azArgv[2] = 0;
  if( azArgv[1] ) posix_spawnp(&pid, zProg, 0, 0, azArgv, environ);
  ssoFree(azArgv[1]);
}

static int oauthLoginLoopback(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  OauthLoopback lb;
  SsoServerConfig sc;
  char zVerifier[SSO_OAUTH_SECRET_LEN+1];
  char zChallenge[SSO_OAUTH_CHALLENGE_LEN+1];
  SsoBuf redir, url;
  SsoJsonDoc *pDoc = 0;
  struct sigaction sa, saOld;
  long long iInterval = 0;
  int rc, iExit = 1;
  SsoRng *pRng = 0;
  memset(&lb, 0, sizeof(lb));
  ssoBufInit(&redir, 0);
  ssoBufInit(&url, 0);
  rc = ssoRngNew(&pRng);
  if( rc==SSOPROXY_OK ) rc = ssoOauthSecretNew(pRng, zVerifier);
  if( rc==SSOPROXY_OK ) rc = ssoOauthSecretNew(pRng, lb.zState);
  if( rc==SSOPROXY_OK ) rc = ssoOauthS256(zVerifier, strlen(zVerifier),
                                          zChallenge);
  ssoRngFree(pRng);
  if( rc ) goto fail;
  ssoServerConfigInit(&sc);
  sc.zListen = "127.0.0.1:0";
  sc.nWorker = 1;
  sc.msShutdown = 2000;
  rc = ssoServerNew(&sc, &lb.pSrv);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(lb.pSrv, "GET", "/callback", oauthLoopbackCallback,
                        &lb);
  }
  if( rc ) goto fail;
  ssoBufPrintf(&redir, "http://%s/callback", ssoServerAddress(lb.pSrv));
  ssoBufPrintf(&url, "%s/oauth/authorize?", p->zBase);
  {
    const char *azPair[] = {
      "response_type", "code", "client_id", SSO_OAUTH_CLI_CLIENT,
      "redirect_uri", ssoBufStr(&redir), "code_challenge", zChallenge,
      "code_challenge_method", "S256", "state", lb.zState,
    };
    ssoFormAppend(&url, azPair, 6);
  }
  if( url.rc || redir.rc ){ rc = SSOPROXY_NOMEM; goto fail; }
  fprintf(stderr, "To sign in, open this URL in a browser on this "
          "machine:\n%s\nWaiting for the browser...\n", url.z);
  if( !pArgs->bNoBrowser ) oauthOpenBrowser(url.z);
  /* The server answers the browser, then stops; SIGALRM (the timeout)
  ** and SIGINT stop it too. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = oauthOnAlarm;
  sigemptyset(&sa.sa_mask);
  pOauthStopTarget = lb.pSrv;
  sigaction(SIGALRM, &sa, &saOld);
  alarm((unsigned)(pArgs->sTimeout>0 ? pArgs->sTimeout : 300));
  rc = ssoServerRun(lb.pSrv);
  alarm(0);
  sigaction(SIGALRM, &saOld, 0);
  pOauthStopTarget = 0;
  if( rc ) goto fail;
  if( lb.zCode==0 ){
    fprintf(stderr, "ssoproxy login: %s\n", lb.zError ? lb.zError
            : "no answer from the browser in time");
    goto end;
  }
  ssoBufTruncate(&url, 0);
  {
    const char *azPair[] = {
      "grant_type", "authorization_code", "code", lb.zCode,
      "redirect_uri", ssoBufStr(&redir), "client_id", SSO_OAUTH_CLI_CLIENT,
      "code_verifier", zVerifier,
    };
    ssoFormAppend(&url, azPair, 5);
  }
  if( url.rc ){ rc = url.rc; goto fail; }
  rc = oauthCliPost(p, "/oauth/token", url.z, &pDoc);
  if( rc ){
    fprintf(stderr, "ssoproxy login: %s\n", p->zErr[0] ? p->zErr
            : ssoproxy_errstr(rc));
    goto end;
  }
  iExit = oauthCliTokenAnswer(p, pArgs, ssoJsonRoot(pDoc), &iInterval);
  if( iExit<0 ) iExit = 1;
  goto end;
fail:
  fprintf(stderr, "ssoproxy login: %s\n", lb.pSrv && rc!=SSOPROXY_NOMEM
          ? ssoServerErrmsg(lb.pSrv) : ssoproxy_errstr(rc));
end:
  ssoJsonFree(pDoc);
  ssoServerFree(lb.pSrv);
  ssoFree(lb.zCode);
  ssoFree(lb.zError);
  ssoBufFree(&redir);
  ssoBufFree(&url);
  return iExit;
}

SSO_PRIVATE int ssoOauthLoginCommand(const SsoOauthLoginArgs *pArgs){
  OauthCli cli;
  SsoArena a;
  SsoUrl u;
  char *zBase = 0;
  size_t n;
  int rc, iExit;
  if( pArgs->zBaseUrl==0 ){
    fprintf(stderr, "usage: ssoproxy login BASE-URL [--device] "
            "[--output FILE] [--no-browser]\n");
    return 2;
  }
  ssoArenaInit(&a, 0);
  n = strlen(pArgs->zBaseUrl);
  rc = ssoUrlParse(&a, pArgs->zBaseUrl, n, &u, 0);
  if( rc==SSOPROXY_OK && (u.bQuery || u.bFragment || u.bUserinfo
                          || (strcmp(u.scheme.z, "http")!=0
                              && strcmp(u.scheme.z, "https")!=0)) ){
    rc = SSOPROXY_PARSE;
  }
  ssoArenaFree(&a);
  if( rc ){
    fprintf(stderr, "ssoproxy login: %s is not an http(s) base URL\n",
            pArgs->zBaseUrl);
    return 2;
  }
  while( n>0 && pArgs->zBaseUrl[n-1]=='/' ) n--;
  zBase = ssoStrndup(pArgs->zBaseUrl, n);
  if( zBase==0 ) return 1;
  rc = oauthCliOpen(&cli, pArgs);
  cli.zBase = zBase;
  if( rc==SSOPROXY_OK && oauthCliReserve(&cli, pArgs) ){
    iExit = 1;
  }else if( rc ){
    fprintf(stderr, "ssoproxy login: %s\n", cli.zErr[0] ? cli.zErr
            : ssoproxy_errstr(rc));
    iExit = rc==SSOPROXY_CONFIG ? 2 : 1;
  }else{
    iExit = pArgs->bDevice ? oauthLoginDevice(&cli, pArgs)
                           : oauthLoginLoopback(&cli, pArgs);
  }
  oauthCliUnreserve(&cli, pArgs);
  oauthCliClose(&cli);
  ssoFree(zBase);
  return iExit;
}
