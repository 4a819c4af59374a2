/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: forward authentication (see fauth.h for the routes).
**
** A reverse proxy (nginx auth_request, Traefik forwardAuth, Caddy
** forward_auth) sends each request for the protected site here first,
** with the browser's or client's headers, and lets the request through on
** a 2xx. So /oauth2/auth must be cheap: it reads no body, and the
** credential costs one indexed lookup -- the API key with its owner
** (ssoAuthzAuthenticate, so a revoked key or a disabled owner is refused
** on the very next request), or the session with its user
** (ssoSessionGet). A request that carries both an API key header and a
** session cookie is judged by the key first; when the key is not valid
** (it may be the protected application's own bearer token) the session
** still counts, since it proves the same thing on its own.
**
** The identity goes back in oauth2-proxy's X-Auth-Request-* fields. The
** proxy in front copies them into the request it forwards (nginx:
** auth_request_set + proxy_set_header), which also replaces any copy the
** client sent itself: that replacement is the proxy's job, and the
** recipes in docs/forward-auth.md do it.
**
** Decisions worth knowing:
**  - Return-to targets (rd, X-Auth-Request-Redirect) must be local paths
**    (ssoUrlIsLocalPath); an absolute URL, even to this host, is not
**    accepted, and anything refused means "/". The protected site and
**    ssoproxy's /oauth2/ share one host in every recipe, so a path is all
**    a return needs, and there is no host allow-list to get wrong.
**  - Sign-out answers GET as well as POST, without a CSRF token, as
**    oauth2-proxy does: the worst a forged request can do is sign the
**    user out, and the session cookie is SameSite=Lax, so a cross-site
**    POST or sub-resource request does not even carry it.
**  - The answers carry no Cache-Control: 202, 401 and 403 are not
**    cacheable without explicit freshness (RFC 9111 §4.2.2), and this
**    route is the hot path.
*/
#include "ssoInt.h"
#include <strings.h>

/* ---- Pure pieces (unit-tested) ---- */

/* 1 if group z[0..n) can travel in a comma-joined header value. */
static int fauthGroupOk(const char *z, size_t n){
  size_t i;
  if( n==0 ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c==',' || c<0x20 || c==0x7f ) return 0;
  }
  return 1;
}

SSO_PRIVATE int ssoFauthGroups(const char *zData, SsoArena *pArena,
                               const char **pzGroups){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pArr;
  SsoBuf b;
  size_t i, n;
  int rc = SSOPROXY_OK;
  *pzGroups = "";
  if( zData==0 || zData[0]==0 ) return SSOPROXY_OK;
  rc = ssoJsonParse(zData, strlen(zData), 0, &pDoc, 0);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return SSOPROXY_OK;          /* Not JSON: no groups */
  pArr = ssoJsonGet(ssoJsonRoot(pDoc), "groups");
  ssoBufInit(&b, 0);
  if( ssoJsonType(pArr)==SSO_JSON_ARRAY ){
    for(i=0; i<ssoJsonCount(pArr); i++){
      const char *z = ssoJsonStr(ssoJsonAt(pArr, i), &n);
      if( z==0 || !fauthGroupOk(z, n) ) continue;
      if( b.n + 1 + n > SSO_FAUTH_MAX_GROUPS ) break;
      if( b.n ) ssoBufAppend(&b, ",", 1);
      ssoBufAppend(&b, z, n);
    }
  }
  if( b.rc ){
    rc = b.rc;
  }else if( b.n ){
    char *z = ssoArenaStrndup(pArena, b.z, b.n);
    if( z==0 ) rc = SSOPROXY_NOMEM;
    else *pzGroups = z;
  }
  ssoBufFree(&b);
  ssoJsonFree(pDoc);
  return rc;
}

SSO_PRIVATE int ssoFauthHeaders(const SsoFauthId *p,
                                const char *azName[SSO_FAUTH_NHEADER],
                                const char *azValue[SSO_FAUTH_NHEADER]){
  const char *az[SSO_FAUTH_NHEADER];
  static const char *const azField[SSO_FAUTH_NHEADER] = {
    "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
    "X-Auth-Request-Preferred-Username", "X-Auth-Request-Role"
  };
  int i, n = 0;
  az[0] = p->zUser;
  az[1] = p->zEmail;
  az[2] = p->zGroups;
  az[3] = p->zName;
  az[4] = p->zRole;
  for(i=0; i<SSO_FAUTH_NHEADER; i++){
    if( az[i]==0 || az[i][0]==0 ) continue;
    azName[n] = azField[i];
    azValue[n] = az[i];
    n++;
  }
  return n;
}

/* 1 if z[0..n) is one of the comma-separated items of zList[0..nList),
** compared exactly, or without ASCII case when bNoCase. */
static int fauthInList(const char *zList, size_t nList, const char *z,
                       size_t n, int bNoCase){
  size_t i = 0;
  while( i<=nList ){
    size_t j = i;
    while( j<nList && zList[j]!=',' ) j++;
    if( j-i==n && n>0 ){
      if( bNoCase ? strncasecmp(zList+i, z, n)==0 : memcmp(zList+i, z, n)==0 ){
        return 1;
      }
    }
    i = j+1;
  }
  return 0;
}

/* 1 if some item of the comma-joined zMine is in zList[0..nList). */
static int fauthAnyInList(const char *zList, size_t nList, const char *zMine){
  size_t i = 0, nMine = strlen(zMine);
  while( i<nMine ){
    size_t j = i;
    while( j<nMine && zMine[j]!=',' ) j++;
    if( fauthInList(zList, nList, zMine+i, j-i, 0) ) return 1;
    i = j+1;
  }
  return 0;
}

/* The filters, in the order of aFauthFilter's rows. */
#define FAUTH_GROUPS  0
#define FAUTH_ROLES   1
#define FAUTH_EMAILS  2
#define FAUTH_DOMAINS 3
static const char *const azFauthFilter[4] = {
  "allowed_groups", "allowed_roles", "allowed_emails",
  "allowed_email_domains"
};

/* Does the identity match list v of filter eFilter? */
static int fauthMatch(const SsoFauthId *p, int eFilter, SsoStr v){
  const char *zAt;
  switch( eFilter ){
    case FAUTH_GROUPS:
      return p->zGroups && fauthAnyInList(v.z, v.n, p->zGroups);
    case FAUTH_ROLES:
      return p->zRole && fauthInList(v.z, v.n, p->zRole, strlen(p->zRole), 0);
    case FAUTH_EMAILS:
      return p->zEmail && fauthInList(v.z, v.n, p->zEmail,
                                      strlen(p->zEmail), 1);
    default:
      zAt = p->zEmail ? strrchr(p->zEmail, '@') : 0;
      return zAt && fauthInList(v.z, v.n, zAt+1, strlen(zAt+1), 1);
  }
}

SSO_PRIVATE int ssoFauthAllowed(const SsoFauthId *p, const char *zQuery,
                                size_t nQuery, SsoArena *pArena,
                                int *pbAllow){
  SsoForm form;
  int aSeen[4] = {0, 0, 0, 0}, aHit[4] = {0, 0, 0, 0};
  int i, k, rc;
  *pbAllow = 0;
  if( nQuery==0 ){
    *pbAllow = 1;
    return SSOPROXY_OK;
  }
  rc = ssoFormParse(pArena, zQuery, nQuery, &form, 0);
  if( rc ) return rc;
  for(i=0; i<form.nParam; i++){
    const SsoFormParam *q = &form.aParam[i];
    for(k=0; k<4; k++){
      if( q->name.n==strlen(azFauthFilter[k])
       && memcmp(q->name.z, azFauthFilter[k], q->name.n)==0 ){
        aSeen[k] = 1;
        if( fauthMatch(p, k, q->value) ) aHit[k] = 1;
      }
    }
  }
  for(k=0; k<4; k++){
    if( aSeen[k] && !aHit[k] ) return SSOPROXY_OK;
  }
  *pbAllow = 1;
  return SSOPROXY_OK;
}

/*
** A return-to target must be a local path, and not one of ours under
** /oauth2/: oauth2-proxy's nginx recipe sets X-Auth-Request-Redirect to
** $request_uri on every /oauth2/ request, so /oauth2/sign_out would
** otherwise send the browser back to itself.
*/
static int fauthTargetOk(SsoStr v){
  if( !ssoUrlIsLocalPath(v.z, v.n) ) return 0;
  return !(v.n>=8 && memcmp(v.z, "/oauth2/", 8)==0)
      && !(v.n==7 && memcmp(v.z, "/oauth2", 7)==0);
}

SSO_PRIVATE const char *ssoFauthReturnTo(const char *zQuery, size_t nQuery,
                                         const SsoHttpHeader *aHdr, int nHdr,
                                         SsoArena *pArena){
  SsoForm form;
  SsoStr v;
  int i, rc;
  if( nQuery>0 && ssoFormParse(pArena, zQuery, nQuery, &form, 0)==SSOPROXY_OK ){
    rc = ssoFormGet(&form, "rd", &v);
    if( rc==SSOPROXY_OK ) return fauthTargetOk(v) ? v.z : 0;
    if( rc==SSOPROXY_CONSTRAINT ) return 0;
  }
  for(i=0; i<nHdr; i++){
    const SsoStr *pN = &aHdr[i].name;
    if( pN->n==23 && strncasecmp(pN->z, "X-Auth-Request-Redirect", 23)==0 ){
      v = aHdr[i].value;
      if( !fauthTargetOk(v) ) return 0;
      return ssoArenaStrndup(pArena, v.z, v.n);
    }
  }
  return 0;
}

/* Append comma-joined zList as a JSON array of strings. */
static void fauthWriteList(SsoJsonWriter *w, const char *zList){
  size_t i = 0, n = zList ? strlen(zList) : 0;
  ssoJsonWriteBeginArray(w);
  while( i<n ){
    size_t j = i;
    while( j<n && zList[j]!=',' ) j++;
    ssoJsonWriteStringN(w, zList+i, j-i);
    i = j+1;
  }
  ssoJsonWriteEndArray(w);
}

SSO_PRIVATE void ssoFauthUserinfo(const SsoFauthId *p, SsoBuf *b){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "user", p->zUser);
  ssoJsonWriteKey(&w, "email");
  if( p->zEmail ) ssoJsonWriteString(&w, p->zEmail);
  else ssoJsonWriteNull(&w);
  ssoJsonWriteKey(&w, "groups");
  fauthWriteList(&w, p->zGroups);
  ssoJsonWriteKeyString(&w, "preferredUsername", p->zName);
  ssoJsonWriteKeyString(&w, "user_id", p->zUser);
  ssoJsonWriteKeyString(&w, "role", p->zRole);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
}

/* ---- Who is calling ---- */

/* The identity of a key or master-key caller. */
static void fauthFromCaller(const SsoCaller *c, SsoFauthId *p){
  memset(p, 0, sizeof(*p));
  p->eKind = c->eKind;
  p->zUser = c->zUserId ? c->zUserId : c->zActor;
  p->zEmail = c->user.zEmail;
  p->zName = c->user.zName ? c->user.zName : p->zUser;
  p->zRole = ssoAuthzRoleName(c->eRole);
  p->zGroups = "";
}

/*
** The request's identity: SSOPROXY_OK and *p (strings in pArena),
** SSOPROXY_NOTFOUND when it has no valid credential, another code on a
** store failure.
*/
static int fauthIdentify(const SsoFauth *pF, SsoServerReq *req,
                         long long tNow, SsoArena *pArena, SsoFauthId *p){
  SsoApiWorker *pW = req->pWorkerCtx;
  SsoStore *pStore = ssoApiWorkerStore(pW);
  SsoAuthzErr err;
  SsoCaller caller;
  SsoSession sess;
  SsoStr cred;
  int rc;
  memset(&err, 0, sizeof(err));
  rc = ssoAuthzCredential(req->aHdr, req->nHdr, &cred, &err);
  if( rc==SSOPROXY_OK ){
    memset(&err, 0, sizeof(err));
    rc = ssoAuthzAuthenticate(&pF->pApi->authz, pStore, req->method,
                              req->aHdr, req->nHdr, tNow, pArena, &caller,
                              &err);
    if( rc==SSOPROXY_OK ){
      if( caller.eKind==SSO_CALLER_KEY && caller.key.zHash ){
        ssoApiWorkerTouch(pW, req->pLoop, caller.key.zHash, tNow);
      }
      fauthFromCaller(&caller, p);
      return SSOPROXY_OK;
    }
    if( rc!=SSOPROXY_ERROR ) return rc;     /* The store failed */
  }
  /* No key, or not a valid one: a browser session may still vouch. */
  if( pF->pSessions==0 ) return SSOPROXY_NOTFOUND;
  rc = ssoSessionGet(pF->pSessions, pStore, req->aHdr, req->nHdr, tNow,
                     pArena, &sess);
  if( rc ) return rc;
  memset(p, 0, sizeof(*p));
  p->eKind = SSO_CALLER_SESSION;
  p->zUser = sess.user.zId;
  p->zEmail = sess.user.zEmail;
  p->zName = sess.user.zName ? sess.user.zName : sess.user.zId;
  p->zRole = sess.user.zRole;
  return ssoFauthGroups(sess.row.zData, pArena, &p->zGroups);
}

/* ---- Routes ---- */

/* An answer with no body: 401, 403, 400 to a forward-auth request. */
static int fauthBare(SsoServerReq *req, int iStatus){
  int rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  return rc;
}

/* 1 if the query asks for a sign-in redirect instead of a bare 401. */
static int fauthWantsSignIn(const char *zQuery, size_t nQuery,
                            SsoArena *pArena){
  SsoForm form;
  SsoStr v;
  if( nQuery==0 || ssoFormParse(pArena, zQuery, nQuery, &form, 0) ) return 0;
  if( ssoFormGet(&form, "signin", &v) ) return 0;
  return !(v.n==1 && v.z[0]=='0');
}

/*
** Traefik and Caddy hand the auth answer itself to the browser, so with
** ?signin=1 a caller without credentials gets a 302 to /oauth2/start
** with the original URI, which both proxies send as X-Forwarded-Uri (a
** local path, checked like any rd, so a forged one can only name a path
** of this site).
*/
static int fauthSignIn(SsoServerReq *req){
  SsoStr v;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "/oauth2/start");
  if( ssoServerHeader(req, "X-Forwarded-Uri", &v) && fauthTargetOk(v) ){
    ssoBufAppendStr(&b, "?rd=");
    ssoUrlEncode(&b, v.z, v.n, 0);
  }
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoPageRedirect(req, 302, b.z);
  ssoBufFree(&b);
  return rc;
}

/* GET (any method) /oauth2/auth */
static int fauthOnAuth(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  const char *azName[SSO_FAUTH_NHEADER], *azValue[SSO_FAUTH_NHEADER];
  SsoArena arena;
  SsoFauthId id;
  int rc, i, n, bAllow = 1;
  if( req->pWorkerCtx==0 ) return fauthBare(req, 503);
  ssoArenaInit(&arena, 0);
  rc = fauthIdentify(pF, req, ssoOsNowMs(), &arena, &id);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = fauthWantsSignIn(req->query.z, req->query.n, &arena)
       ? fauthSignIn(req) : fauthBare(req, 401);
    goto end;
  }
  if( rc ) goto end;
  rc = ssoFauthAllowed(&id, req->query.z, req->query.n, &arena, &bAllow);
  if( rc==SSOPROXY_PARSE || rc==SSOPROXY_TOOBIG ){
    rc = fauthBare(req, 400);
    goto end;
  }
  if( rc ) goto end;
  if( !bAllow ){
    rc = fauthBare(req, 403);
    goto end;
  }
  n = ssoFauthHeaders(&id, azName, azValue);
  rc = ssoServerStatus(req, 202);
  for(i=0; rc==SSOPROXY_OK && i<n; i++){
    rc = ssoServerAddHeader(req, azName[i], azValue[i]);
    /* A value the server refuses (a stored name with a control byte)
    ** is left out rather than failing the whole answer. */
    if( rc==SSOPROXY_PARSE ) rc = SSOPROXY_OK;
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
end:
  ssoArenaFree(&arena);
  return rc;
}

/* GET /oauth2/userinfo */
static int fauthOnUserinfo(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  SsoArena arena;
  SsoFauthId id;
  SsoBuf b;
  char zSpace[1024];
  int rc;
  if( req->pWorkerCtx==0 ) return ssoServerError(req, 503, 0);
  ssoArenaInit(&arena, 0);
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  rc = fauthIdentify(pF, req, ssoOsNowMs(), &arena, &id);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = ssoServerError(req, 401, "Not signed in: no valid session cookie "
                        "or API key.");
    goto end;
  }
  if( rc ) goto end;
  ssoFauthUserinfo(&id, &b);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, 200);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
end:
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

/* GET /oauth2/start */
static int fauthOnStart(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  const char *zRd;
  SsoArena arena;
  SsoBuf b;
  int rc;
  ssoArenaInit(&arena, 0);
  ssoBufInit(&b, 0);
  zRd = ssoFauthReturnTo(req->query.z, req->query.n, req->aHdr, req->nHdr,
                         &arena);
  if( zRd==0 ) zRd = "/";
  if( pF->pOidc ){
    rc = ssoOidcLogin(pF->pOidc, req, zRd);
  }else{
    /* No SSO: the local sign-in page, which honours rd the same way. */
    ssoBufAppendStr(&b, "/login?rd=");
    ssoUrlEncode(&b, zRd, strlen(zRd), 0);
    rc = b.rc;
    if( rc==SSOPROXY_OK ) rc = ssoPageRedirect(req, 302, b.z);
  }
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

/* GET|POST /oauth2/sign_out */
static int fauthOnSignOut(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  SsoStore *pStore;
  const char *zRd;
  SsoSession sess;
  SsoArena arena;
  SsoBuf b;
  int rc = SSOPROXY_OK;
  if( req->pWorkerCtx==0 ) return ssoServerError(req, 503, 0);
  pStore = ssoApiWorkerStore(req->pWorkerCtx);
  ssoArenaInit(&arena, 0);
  ssoBufInit(&b, 0);
  zRd = ssoFauthReturnTo(req->query.z, req->query.n, req->aHdr, req->nHdr,
                         &arena);
  if( zRd ){
    ssoBufAppendStr(&b, zRd);
  }else if( pF->pOidc && pF->pSessions ){
    /* No explicit target: the IdP's logout too, when there is one. */
    const char *zIdToken = 0;
    if( ssoSessionGet(pF->pSessions, pStore, req->aHdr, req->nHdr,
                      ssoOsNowMs(), &arena, &sess)==SSOPROXY_OK ){
      zIdToken = sess.row.zIdToken;
    }
    if( !ssoOidcLogoutUrl(pF->pOidc, zIdToken, &b) ) ssoBufAppendStr(&b, "/");
  }else{
    ssoBufAppendStr(&b, "/");
  }
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK && pF->pSessions ){
    rc = ssoSessionEnd(pF->pSessions, pStore, req);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", b.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

SSO_PRIVATE int ssoFauthRegister(SsoServer *pSrv, SsoFauth *p){
  /* Any method: a proxy may pass the original request's method along. */
  int rc = ssoServerRoute(pSrv, "*", "/oauth2/auth", fauthOnAuth, p);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/userinfo", fauthOnUserinfo, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/start", fauthOnStart, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/sign_out", fauthOnSignOut, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "POST", "/oauth2/sign_out", fauthOnSignOut, p);
  }
  return rc;
}
