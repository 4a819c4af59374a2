/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: browser sessions.
**
** The cookie holds 256 random bits, base64url (43 characters). The store
** keeps only the SHA-256 of that text, so a copy of the database holds no
** usable session. The cookie is HttpOnly (no script reads it), SameSite=
** Lax (cross-site POSTs do not carry it), Path=/, and with an https
** PROXY_BASE_URL also Secure with the __Host- prefix, which forbids a
** Domain attribute so a sibling sub-domain cannot plant ("toss") one.
**
** Lifetimes: a session ends tMax after sign-in whatever happens (the
** row's tExpires, also the cookie's Max-Age) and after msIdle without a
** request. Recording every request would be one write per request;
** instead tSeen moves only when it is a minute old (or a quarter of the
** idle lifetime, when that is shorter), so the idle rule is exact to
** within that grain. Expired sessions are deleted when a request meets
** them and all at once at every sign-in (ssoSessionPurge).
**
** CSRF: the token of a session is base64url(HMAC-SHA256(key = the
** cookie's id, "ssoproxy csrf v1")). Only the holder of the cookie and
** the server during its request can compute it; the database cannot
** (it has only the hash), and nothing more is stored. Forms carry it in
** a hidden field; API calls in an X-CSRF-Token header. SameSite=Lax
** already keeps the cookie off cross-site POSTs; the token also covers
** same-site attackers and browsers without SameSite.
*/
#include "ssoInt.h"
#include <strings.h>

static const char zSessionCsrfLabel[] = "ssoproxy csrf v1";

SSO_PRIVATE void ssoSessionInit(SsoSessions *p, const char *zBaseUrl,
                                long long msIdle, long long msMax){
  memset(p, 0, sizeof(*p));
  p->bSecure = zBaseUrl && strncasecmp(zBaseUrl, "https://", 8)==0;
  p->zCookie = p->bSecure ? "__Host-ssoproxy_session" : "ssoproxy_session";
  p->msIdle = msIdle;
  p->msMax = msMax;
}

/* ---- Cookies ---- */

static int sessionIsSpace(char c){ return c==' ' || c=='\t'; }

SSO_PRIVATE int ssoSessionCookieGet(const SsoHttpHeader *aHdr, int nHdr,
                                    const char *zName, SsoStr *pVal){
  size_t nName = strlen(zName);
  int i, nPair = 0;
  pVal->z = "";
  pVal->n = 0;
  for(i=0; i<nHdr; i++){
    const char *z, *zEnd;
    if( !ssoHttpStrIEq(aHdr[i].name, "Cookie") ) continue;
    z = aHdr[i].value.z;
    zEnd = z + aHdr[i].value.n;
    while( z<zEnd ){
      const char *zPair = z, *zEq = 0, *zN0, *zN1, *zV0, *zV1;
      while( z<zEnd && *z!=';' ){
        if( *z=='=' && zEq==0 ) zEq = z;
        z++;
      }
      zV1 = z;
      if( z<zEnd ) z++;                      /* Past the ';' */
      if( ++nPair>SSO_SESSION_MAX_PAIRS ) return SSOPROXY_NOTFOUND;
      if( zEq==0 ) continue;
      zN0 = zPair;
      zN1 = zEq;
      while( zN0<zN1 && sessionIsSpace(*zN0) ) zN0++;
      while( zN1>zN0 && sessionIsSpace(zN1[-1]) ) zN1--;
      if( (size_t)(zN1-zN0)!=nName || memcmp(zN0, zName, nName)!=0 ){
        continue;
      }
      zV0 = zEq+1;
      while( zV0<zV1 && sessionIsSpace(*zV0) ) zV0++;
      while( zV1>zV0 && sessionIsSpace(zV1[-1]) ) zV1--;
      /* RFC 6265 §4.1.1: a value may be wrapped in DQUOTEs. */
      if( zV1-zV0>=2 && zV0[0]=='"' && zV1[-1]=='"' ){ zV0++; zV1--; }
      pVal->z = zV0;
      pVal->n = (size_t)(zV1-zV0);
      return SSOPROXY_OK;
    }
  }
  return SSOPROXY_NOTFOUND;
}

SSO_PRIVATE int ssoSessionIdWellFormed(const char *z, size_t n){
  size_t i;
  if( n!=SSO_SESSION_ID_LEN ) return 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( !((c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9')
          || c=='-' || c=='_') ) return 0;
  }
  return 1;
}

SSO_PRIVATE void ssoSessionCookieName(const SsoSessions *p,
                                      const char *zBase, char *z, size_t n){
  snprintf(z, n, "%s%s", p->bSecure ? "__Host-" : "", zBase);
}

SSO_PRIVATE void ssoSessionSetCookie(const SsoSessions *p, SsoBuf *b,
                                     const char *zName, const char *zValue,
                                     long long nAge){
  ssoBufPrintf(b, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
               zName, zValue, nAge, p->bSecure ? "; Secure" : "");
}

/* The session id in the request's cookie, if well-formed. */
static int sessionIdOf(const SsoSessions *p, const SsoHttpHeader *aHdr,
                       int nHdr, SsoStr *pId){
  int rc = ssoSessionCookieGet(aHdr, nHdr, p->zCookie, pId);
  if( rc==SSOPROXY_OK && !ssoSessionIdWellFormed(pId->z, pId->n) ){
    rc = SSOPROXY_NOTFOUND;
  }
  return rc;
}

/* The CSRF token of the session whose id is id, into z[48]. */
static void sessionCsrf(SsoStr id, char *z){
  unsigned char a[SSO_SHA256_LEN];
  ssoHmacSha256(id.z, id.n, zSessionCsrfLabel, sizeof(zSessionCsrfLabel)-1,
                a);
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, z);
}

/* ---- Life cycle ---- */

/* How stale tSeen may get before a request writes it again. */
static long long sessionTouchGrain(const SsoSessions *p){
  long long ms = SSO_SESSION_TOUCH_MS;
  if( p->msIdle>0 && p->msIdle/4<ms ) ms = p->msIdle/4;
  return ms;
}

/* Delete a session that ended; its absence is no error. */
static int sessionDrop(SsoStore *pStore, const char *zHash){
  int rc = ssoStoreSessionDelete(pStore, zHash);
  return rc==SSOPROXY_NOTFOUND ? SSOPROXY_OK : rc;
}

SSO_PRIVATE int ssoSessionGet(const SsoSessions *p, SsoStore *pStore,
                              const SsoHttpHeader *aHdr, int nHdr,
                              long long tNow, SsoArena *pArena,
                              SsoSession *pSess){
  SsoStr id;
  int rc;
  memset(pSess, 0, sizeof(*pSess));
  rc = sessionIdOf(p, aHdr, nHdr, &id);
  if( rc ) return rc;
  ssoAuthzKeyHash(id.z, id.n, pSess->zHash);
  rc = ssoStoreSessionGet(pStore, pSess->zHash, pArena, &pSess->row);
  if( rc ) goto end;
  if( tNow>=pSess->row.tExpires
   || (p->msIdle>0 && tNow-pSess->row.tSeen>=p->msIdle) ){
    rc = sessionDrop(pStore, pSess->zHash);
    if( rc==SSOPROXY_OK ) rc = SSOPROXY_NOTFOUND;
    goto end;
  }
  rc = ssoStoreUserGet(pStore, pSess->row.zUserId, pArena, &pSess->user);
  if( rc==SSOPROXY_OK && pSess->user.bDisabled ) rc = SSOPROXY_NOTFOUND;
  if( rc==SSOPROXY_NOTFOUND ){
    /* A disabled user is signed out everywhere, not just refused. */
    rc = sessionDrop(pStore, pSess->zHash);
    if( rc==SSOPROXY_OK ) rc = SSOPROXY_NOTFOUND;
    goto end;
  }
  if( rc ) goto end;
  if( tNow-pSess->row.tSeen>=sessionTouchGrain(p) ){
    rc = ssoStoreSessionTouch(pStore, pSess->zHash, tNow);
    if( rc ) goto end;
    pSess->row.tSeen = tNow;
  }
  sessionCsrf(id, pSess->zCsrf);
end:
  if( rc ){
    char zHash[SSO_KEY_HEX];
    memcpy(zHash, pSess->zHash, sizeof(zHash));
    memset(pSess, 0, sizeof(*pSess));
    /* The hash stays known on NOTFOUND, so a caller can still tell which
    ** cookie was refused; nothing else is. */
    if( rc==SSOPROXY_NOTFOUND ) memcpy(pSess->zHash, zHash, sizeof(zHash));
  }
  return rc;
}

SSO_PRIVATE int ssoSessionPurge(const SsoSessions *p, SsoStore *pStore,
                                long long tNow, int *pn){
  return ssoStoreSessionPurge(pStore, tNow,
                              p->msIdle>0 ? tNow-p->msIdle : 0, pn);
}

SSO_PRIVATE int ssoSessionCreate(const SsoSessions *p, SsoStore *pStore,
                                 SsoRng *pRng, const SsoHttpHeader *aHdr,
                                 int nHdr, const char *zUserId,
                                 const char *zIdToken, const char *zData,
                                 long long tNow, SsoBuf *pSetCookie){
  unsigned char aId[32];
  char zId[SSO_SESSION_ID_LEN+1], zHash[SSO_KEY_HEX];
  SsoSessionRow row;
  SsoStr old;
  int rc;
  /* Rotation: whatever session this browser had ends here, so an id
  ** planted before sign-in (session fixation) is worth nothing after. */
  if( sessionIdOf(p, aHdr, nHdr, &old)==SSOPROXY_OK ){
    ssoAuthzKeyHash(old.z, old.n, zHash);
    rc = sessionDrop(pStore, zHash);
    if( rc ) return rc;
  }
  rc = ssoSessionPurge(p, pStore, tNow, 0);
  if( rc ) return rc;
  rc = ssoRngBytes(pRng, aId, sizeof(aId));
  if( rc ) return rc;
  ssoB64EncodeTo(aId, sizeof(aId), SSO_B64_URL, zId);
  memset(aId, 0, sizeof(aId));
  ssoAuthzKeyHash(zId, SSO_SESSION_ID_LEN, zHash);
  memset(&row, 0, sizeof(row));
  row.zHash = zHash;
  row.zUserId = zUserId;
  row.tCreated = tNow;
  row.tSeen = tNow;
  row.tExpires = tNow + p->msMax;
  row.zIdToken = zIdToken;
  row.zData = zData;
  rc = ssoStoreSessionInsert(pStore, &row);
  if( rc==SSOPROXY_OK ){
    ssoSessionSetCookie(p, pSetCookie, p->zCookie, zId, (p->msMax+999)/1000);
    rc = pSetCookie->rc;
  }
  memset(zId, 0, sizeof(zId));
  return rc;
}

SSO_PRIVATE int ssoSessionStart(const SsoSessions *p, SsoStore *pStore,
                                SsoRng *pRng, SsoServerReq *req,
                                const char *zUserId, const char *zIdToken,
                                const char *zData, long long tNow){
  char zSpace[256];
  SsoBuf b;
  int rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  rc = ssoSessionCreate(p, pStore, pRng, req->aHdr, req->nHdr, zUserId,
                        zIdToken, zData, tNow, &b);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Set-Cookie", b.z);
  memset(b.z, 0, b.n);
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoSessionDestroy(const SsoSessions *p, SsoStore *pStore,
                                  const SsoHttpHeader *aHdr, int nHdr){
  char zHash[SSO_KEY_HEX];
  SsoStr id;
  if( sessionIdOf(p, aHdr, nHdr, &id)!=SSOPROXY_OK ) return SSOPROXY_OK;
  ssoAuthzKeyHash(id.z, id.n, zHash);
  return sessionDrop(pStore, zHash);
}

SSO_PRIVATE int ssoSessionEnd(const SsoSessions *p, SsoStore *pStore,
                              SsoServerReq *req){
  char zSpace[256];
  SsoBuf b;
  int rc = ssoSessionDestroy(p, pStore, req->aHdr, req->nHdr);
  if( rc ) return rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoSessionSetCookie(p, &b, p->zCookie, "", 0);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Set-Cookie", b.z);
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoSessionCsrfOk(const SsoSession *p, const char *z,
                                 size_t n){
  size_t nCsrf = strlen(p->zCsrf);
  if( nCsrf==0 || n!=nCsrf ) return 0;
  return ssoCtEqual(p->zCsrf, z, n);
}

/* ---- The authentication hook ---- */

/* RFC 9110 §9.2.1: the methods that must not change anything. */
static int sessionSafeMethod(SsoStr m){
  return (m.n==3 && memcmp(m.z, "GET", 3)==0)
      || (m.n==4 && memcmp(m.z, "HEAD", 4)==0)
      || (m.n==7 && memcmp(m.z, "OPTIONS", 7)==0);
}

SSO_PRIVATE int ssoSessionAuthz(void *pArg, SsoStr method,
                                const SsoHttpHeader *aHdr, int nHdr,
                                SsoStore *pStore, long long tNow,
                                SsoArena *pArena, const char **pzUserId){
  const SsoSessions *p = pArg;
  SsoSession s;
  int rc, i;
  *pzUserId = 0;
  rc = ssoSessionGet(p, pStore, aHdr, nHdr, tNow, pArena, &s);
  if( rc ) return rc;
  if( !sessionSafeMethod(method) ){
    for(i=0; i<nHdr; i++){
      if( ssoHttpStrIEq(aHdr[i].name, "X-CSRF-Token") ) break;
    }
    if( i==nHdr || !ssoSessionCsrfOk(&s, aHdr[i].value.z, aHdr[i].value.n) ){
      return SSOPROXY_CONSTRAINT;
    }
  }
  *pzUserId = s.user.zId;
  return SSOPROXY_OK;
}
