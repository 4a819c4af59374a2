/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the web sign-in (see ui.h for the routes).
**
** Password sign-in, as LiteLLM's /login: the username must be UI_USERNAME
** (default "admin") and the password UI_PASSWORD or the master key. Both
** sides are hashed with SHA-256 and compared in constant time, so neither
** the length nor a common prefix of a secret shows in the timing. The
** signed-in user is the local user whose id is UI_USERNAME: created at
** the first sign-in (role proxy_admin, source "local", audited), put back
** to proxy_admin if someone demoted it, refused if it is disabled or
** belongs to single sign-on (a password must never open an IdP user's
** account). Wrong passwords are counted per client address; past
** SSOPROXY_LOGIN_MAX_FAILURES in a minute the address gets 429.
**
** CSRF before there is a session (login CSRF, which would sign a victim
** in as the attacker): the form carries a random token that must equal
** a cookie set with the page (double submit). A cross-site page can make
** the browser post, but it can neither read nor set our cookie (HttpOnly,
** SameSite=Lax, __Host- with https), so it cannot supply the pair. After
** sign-in, forms carry the session's own CSRF token (src/session.c).
**
** Return-to values (rd) are local paths only (ssoUrlIsLocalPath);
** anything else becomes /ui, so no link can turn the sign-in into an
** open redirect.
*/
#include "ssoInt.h"
#include <pthread.h>

/* One client address's failed sign-ins in the current window. */
typedef struct UiFail UiFail;
struct UiFail {
  char zAddr[48];           /* "" when the slot is free */
  long long tStart;         /* Window start, Unix ms */
  int n;                    /* Failures since tStart */
};

struct SsoUi {
  const SsoSessions *pSessions;
  SsoOidc *pOidc;
  int bAutoRedirect;
  char *zBaseUrl;                       /* Owned; NULL: unset */
  char *zUsername;                      /* Owned */
  int bPassword;                        /* UI_PASSWORD set */
  unsigned char aPassword[SSO_SHA256_LEN];
  int bMaster;                          /* A master key set */
  unsigned char aMaster[SSO_SHA256_LEN];
  unsigned char aUser[SSO_SHA256_LEN];  /* SHA-256 of zUsername */
  int nMaxFailures;
  SsoLog *pLog;
  char zLoginCookie[32];                /* The sign-in form's cookie name */
  pthread_mutex_t mu;                   /* Guards aFail */
  UiFail aFail[SSO_UI_LOGIN_SLOTS];
};

#define UI_DEFAULT_RD "/ui"

/* ---- Set-up ---- */

SSO_PRIVATE int ssoUiNew(const SsoUiConfig *pCfg, SsoUi **pp, char *zErr,
                         size_t nErr){
  SsoUi *p;
  const char *zUser = pCfg->zUsername ? pCfg->zUsername : "admin";
  size_t n = strlen(zUser);
  *pp = 0;
  if( n==0 || n>SSO_API_MAX_TEXT ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "UI_USERNAME must be 1 to "
                     "%d bytes", SSO_API_MAX_TEXT);
  }
  if( pCfg->zPassword && pCfg->zPassword[0]==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "UI_PASSWORD is set but "
                     "empty: unset it (the master key is then the password) "
                     "or give a password");
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->pSessions = pCfg->pSessions;
  p->pOidc = pCfg->pOidc;
  p->bAutoRedirect = pCfg->bAutoRedirect;
  p->nMaxFailures = pCfg->nMaxFailures>0 ? pCfg->nMaxFailures
                                          : SSO_UI_LOGIN_FAILURES;
  p->pLog = pCfg->pLog;
  p->zUsername = ssoStrdup(zUser);
  p->zBaseUrl = ssoStrdup(pCfg->zBaseUrl);
  if( p->zUsername==0 || (pCfg->zBaseUrl && p->zBaseUrl==0) ){
    ssoFree(p->zUsername);
    ssoFree(p->zBaseUrl);
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  ssoSha256(zUser, n, p->aUser);
  if( pCfg->zPassword ){
    p->bPassword = 1;
    ssoSha256(pCfg->zPassword, strlen(pCfg->zPassword), p->aPassword);
  }
  if( pCfg->zMasterKey && pCfg->zMasterKey[0] ){
    p->bMaster = 1;
    ssoSha256(pCfg->zMasterKey, strlen(pCfg->zMasterKey), p->aMaster);
  }
  ssoSessionCookieName(p->pSessions, "ssoproxy_login", p->zLoginCookie,
                       sizeof(p->zLoginCookie));
  pthread_mutex_init(&p->mu, 0);
  *pp = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoUiFree(SsoUi *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zUsername);
  ssoFree(p->zBaseUrl);
  memset(p, 0, sizeof(*p));
  ssoFree(p);
}

/* ---- Password and limiter ---- */

SSO_PRIVATE int ssoUiPasswordOk(const SsoUi *p, const char *zUser,
                                const char *zPass, int *pbMaster){
  unsigned char aU[SSO_SHA256_LEN], aP[SSO_SHA256_LEN];
  int bUser, bPass, bMaster;
  if( pbMaster ) *pbMaster = 0;
  if( zUser==0 ) zUser = "";
  if( zPass==0 ) zPass = "";
  ssoSha256(zUser, strlen(zUser), aU);
  ssoSha256(zPass, strlen(zPass), aP);
  /* Every comparison is made whatever the others gave. */
  bUser = ssoCtEqual(aU, p->aUser, sizeof(aU));
  bPass = ssoCtEqual(aP, p->aPassword, sizeof(aP)) & p->bPassword;
  bMaster = ssoCtEqual(aP, p->aMaster, sizeof(aP)) & p->bMaster;
  memset(aP, 0, sizeof(aP));
  if( pbMaster ) *pbMaster = bUser && bMaster && !bPass;
  return bUser && (bPass || bMaster) && zPass[0]!=0;
}

/* The address part of "ip:port" or "[v6]:port" into z[48]. */
static void uiClientAddr(const char *zClient, char *z){
  const char *zColon = strrchr(zClient, ':');
  size_t n = zColon ? (size_t)(zColon-zClient) : strlen(zClient);
  if( n>=48 ) n = 47;
  memcpy(z, zClient, n);
  z[n] = 0;
}

/* The slot of zAddr, or NULL. Caller holds p->mu. */
static UiFail *uiFailFind(SsoUi *p, const char *zAddr){
  int i;
  for(i=0; i<SSO_UI_LOGIN_SLOTS; i++){
    if( strcmp(p->aFail[i].zAddr, zAddr)==0 ) return &p->aFail[i];
  }
  return 0;
}

SSO_PRIVATE int ssoUiLimited(SsoUi *p, const char *zClient, long long tNow){
  char zAddr[48];
  UiFail *f;
  int nWait = 0;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f && tNow-f->tStart<SSO_UI_LOGIN_WINDOW_MS && f->n>=p->nMaxFailures ){
    nWait = (int)((f->tStart + SSO_UI_LOGIN_WINDOW_MS - tNow + 999)/1000);
    if( nWait<1 ) nWait = 1;
  }
  pthread_mutex_unlock(&p->mu);
  return nWait;
}

SSO_PRIVATE void ssoUiFailed(SsoUi *p, const char *zClient, long long tNow){
  char zAddr[48];
  UiFail *f;
  int i;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f==0 ){
    /* A free slot, or one whose window is over, or else the oldest: a
    ** flood of addresses can only push out the oldest windows. */
    f = &p->aFail[0];
    for(i=0; i<SSO_UI_LOGIN_SLOTS; i++){
      UiFail *g = &p->aFail[i];
      if( g->zAddr[0]==0 || tNow-g->tStart>=SSO_UI_LOGIN_WINDOW_MS ){
        f = g;
        break;
      }
      if( g->tStart<f->tStart ) f = g;
    }
    memcpy(f->zAddr, zAddr, sizeof(zAddr));
    f->tStart = tNow;
    f->n = 0;
  }
  if( tNow-f->tStart>=SSO_UI_LOGIN_WINDOW_MS ){
    f->tStart = tNow;
    f->n = 0;
  }
  f->n++;
  pthread_mutex_unlock(&p->mu);
}

SSO_PRIVATE void ssoUiSucceeded(SsoUi *p, const char *zClient){
  char zAddr[48];
  UiFail *f;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f ) memset(f, 0, sizeof(*f));
  pthread_mutex_unlock(&p->mu);
}

/* ---- Helpers ---- */

/* A return-to value: z if it is a local path, else /ui. */
static const char *uiReturnTo(const char *z){
  return (z && ssoUrlIsLocalPath(z, strlen(z))) ? z : UI_DEFAULT_RD;
}

/* The parameter zName of a parsed form, or NULL if absent or repeated. */
static const char *uiFormValue(const SsoForm *f, const char *zName){
  SsoStr v;
  if( ssoFormGet(f, zName, &v)!=SSOPROXY_OK ) return 0;
  if( v.n>SSO_UI_MAX_FIELD ) return 0;
  return v.z;
}

/* Answer a page with extra headers: status, the page headers (with
** zFormAction for CSP), then nHdr (name, value) pairs, then the page. */
static int uiSendPage(SsoServerReq *req, int iStatus, const char *zFormAction,
                      const char *zTitle, const char *zBody,
                      const char *const *azHdr, int nHdr){
  SsoBuf b;
  int rc, i;
  ssoBufInit(&b, 0);
  ssoPageBuild(&b, zTitle, zBody);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeadersEx(req, zFormAction);
  for(i=0; rc==SSOPROXY_OK && i<nHdr; i++){
    rc = ssoServerAddHeader(req, azHdr[2*i], azHdr[2*i+1]);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

/* The worker's store and generator, or a 503 page. */
static int uiWorker(SsoServerReq *req, SsoStore **ppStore, SsoRng **ppRng){
  SsoApiWorker *w = req->pWorkerCtx;
  if( w==0 || ssoApiWorkerStore(w)==0 ) return 0;
  *ppStore = ssoApiWorkerStore(w);
  if( ppRng ) *ppRng = ssoApiWorkerRng(w);
  return 1;
}

static int uiUnavailable(SsoServerReq *req){
  return ssoPageError(req, 503, "Unavailable", "The database is not "
                      "available right now. Try again in a moment.");
}

static int uiInternal(SsoUi *p, SsoServerReq *req, const char *zWhat, int rc){
  if( p->pLog ){
    ssoLog(p->pLog, SSO_LOG_ERROR, "sign-in page failed", "step", zWhat,
           "error", ssoproxy_errstr(rc), (char*)0);
  }
  return ssoPageError(req, 500, "Something went wrong", "The server could "
                      "not complete this request. Try again; if it keeps "
                      "happening, the administrator will find details in "
                      "the log.");
}

/*
** The request's session: 1 and *pSess when signed in, else 0 with *pRc
** SSOPROXY_OK (no session) or a store error (the caller answers 500).
*/
static int uiSession(SsoUi *p, SsoServerReq *req, SsoStore *pStore,
                     SsoArena *pArena, SsoSession *pSess, int *pRc){
  int rc = ssoSessionGet(p->pSessions, pStore, req->aHdr, req->nHdr,
                         ssoOsNowMs(), pArena, pSess);
  *pRc = rc==SSOPROXY_NOTFOUND ? SSOPROXY_OK : rc;
  return rc==SSOPROXY_OK;
}

/*
** Where the browser goes after logout: the IdP's logout (or
** PROXY_LOGOUT_URL) when single sign-on provides one, into pUrl with its
** origin in pOrigin for the page's CSP form-action; else /ui (return 0).
*/
static int uiLogoutTarget(SsoUi *p, const SsoSession *pSess, SsoArena *pArena,
                          SsoBuf *pUrl, SsoBuf *pOrigin){
  SsoUrl u;
  if( p->pOidc==0 ) return 0;
  if( !ssoOidcLogoutUrl(p->pOidc, pSess->row.zIdToken, pUrl) || pUrl->rc ){
    return 0;
  }
  if( ssoUrlParse(pArena, pUrl->z, pUrl->n, &u, 0)!=SSOPROXY_OK
   || ssoUrlAppendOrigin(pOrigin, &u)!=SSOPROXY_OK || pOrigin->rc ){
    return 0;
  }
  return 1;
}

/* ---- The sign-in page ---- */

/*
** The sign-in form's token: the cookie's value when the browser already
** has a well-formed one (so two open tabs both work), else a new one.
*/
static int uiLoginToken(SsoUi *p, SsoServerReq *req, char *zToken){
  unsigned char a[32];
  SsoStr v;
  int rc;
  if( ssoSessionCookieGet(req->aHdr, req->nHdr, p->zLoginCookie, &v)==0
   && ssoSessionIdWellFormed(v.z, v.n) ){
    memcpy(zToken, v.z, v.n);
    zToken[v.n] = 0;
    return SSOPROXY_OK;
  }
  rc = ssoRngBytes(ssoApiWorkerRng(req->pWorkerCtx), a, sizeof(a));
  if( rc ) return rc;
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, zToken);
  return SSOPROXY_OK;
}

/* The hidden field <input type="hidden" name=zName value=zValue>. */
static void uiHidden(SsoBuf *b, const char *zName, const char *zValue){
  ssoBufPrintf(b, "<input type=\"hidden\" name=\"%s\" value=\"", zName);
  ssoPageEscape(b, zValue, strlen(zValue));
  ssoBufAppendStr(b, "\">\n");
}

/*
** The sign-in page: iStatus, an error sentence (NULL: none), the
** return-to path and the username to fill in (NULL: none).
*/
static int uiLoginPage(SsoUi *p, SsoServerReq *req, int iStatus,
                       const char *zError, const char *zRd,
                       const char *zUser){
  char zToken[SSO_SESSION_ID_LEN+1];
  const char *azHdr[2];
  SsoBuf b, c, u;
  int rc = uiLoginToken(p, req, zToken);
  if( rc ) return uiInternal(p, req, "sign-in token", rc);
  ssoBufInit(&b, 0);
  ssoBufInit(&c, 0);
  ssoBufInit(&u, 0);
  if( zError ){
    ssoBufAppendStr(&b, "<p class=\"error\" role=\"alert\">");
    ssoPageEscape(&b, zError, strlen(zError));
    ssoBufAppendStr(&b, "</p>\n");
  }
  if( p->pOidc ){
    ssoBufAppendStr(&u, "/sso/key/generate?rd=");
    ssoUrlEncode(&u, zRd, strlen(zRd), 0);
    ssoBufAppendStr(&b, "<p><a class=\"button\" href=\"");
    ssoPageEscape(&b, u.z ? u.z : "", u.n);
    ssoBufAppendStr(&b, "\">Login with SSO</a></p>\n");
  }
  if( p->bPassword || p->bMaster ){
    if( p->pOidc ) ssoBufAppendStr(&b, "<hr>\n<p class=\"muted\">Or sign in "
                                   "as the local administrator:</p>\n");
    ssoBufAppendStr(&b, "<form method=\"post\" action=\"/login\">\n");
    uiHidden(&b, "csrf", zToken);
    uiHidden(&b, "rd", zRd);
    ssoBufAppendStr(&b, "<label for=\"username\">Username</label>\n"
                    "<input type=\"text\" id=\"username\" name=\"username\" "
                    "autocomplete=\"username\" autocapitalize=\"none\" "
                    "spellcheck=\"false\" required value=\"");
    if( zUser ) ssoPageEscape(&b, zUser, strlen(zUser));
    ssoBufAppendStr(&b, "\">\n<label for=\"password\">Password</label>\n"
                    "<input type=\"password\" id=\"password\" "
                    "name=\"password\" autocomplete=\"current-password\" "
                    "required>\n<button type=\"submit\">Sign in</button>\n"
                    "</form>");
  }else if( p->pOidc==0 ){
    ssoBufAppendStr(&b, "<p>No way to sign in is configured. The "
                    "administrator sets up single sign-on (GENERIC_* "
                    "settings), or UI_PASSWORD or LITELLM_MASTER_KEY for "
                    "the local administrator.</p>");
  }
  ssoSessionSetCookie(p->pSessions, &c, p->zLoginCookie, zToken,
                      SSO_UI_LOGIN_CSRF_S);
  rc = b.rc ? b.rc : c.rc ? c.rc : u.rc;
  if( rc==SSOPROXY_OK ){
    azHdr[0] = "Set-Cookie";
    azHdr[1] = c.z;
    rc = uiSendPage(req, iStatus, 0, "Sign in", b.z, azHdr, 1);
  }
  memset(zToken, 0, sizeof(zToken));
  ssoBufFree(&b);
  ssoBufFree(&c);
  ssoBufFree(&u);
  return rc;
}

/* ---- Who you are ---- */

static void uiRow(SsoBuf *b, const char *zLabel, const char *zValue){
  ssoBufPrintf(b, "<dt>%s</dt><dd>", zLabel);
  if( zValue && zValue[0] ){
    ssoPageEscape(b, zValue, strlen(zValue));
  }else{
    ssoBufAppendStr(b, "<span class=\"muted\">none</span>");
  }
  ssoBufAppendStr(b, "</dd>\n");
}

/* A logout form carrying the session's CSRF token. */
static void uiLogoutForm(SsoBuf *b, const SsoSession *pSess,
                         const char *zButton){
  ssoBufAppendStr(b, "<form method=\"post\" action=\"/logout\">\n");
  uiHidden(b, "csrf", pSess->zCsrf);
  ssoBufPrintf(b, "<button type=\"submit\">%s</button>\n</form>", zButton);
}

static int uiWhoAmI(SsoUi *p, SsoServerReq *req, const SsoSession *pSess,
                    SsoArena *pArena){
  char zEnd[32];
  SsoBuf b, url, origin;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  uiLogoutTarget(p, pSess, pArena, &url, &origin);
  ssoAuthzTimeText(pSess->row.tExpires, zEnd);
  ssoBufAppendStr(&b, "<p>You are signed in.</p>\n<dl>\n");
  uiRow(&b, "User id", pSess->user.zId);
  uiRow(&b, "Email", pSess->user.zEmail);
  uiRow(&b, "Name", pSess->user.zName);
  uiRow(&b, "Role", pSess->user.zRole);
  uiRow(&b, "Account", strcmp(pSess->user.zSource ? pSess->user.zSource : "",
                              "sso")==0 ? "single sign-on" : "local");
  uiRow(&b, "Session ends", zEnd);
  ssoBufAppendStr(&b, "</dl>\n");
  uiLogoutForm(&b, pSess, "Sign out");
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = uiSendPage(req, 200, origin.n ? origin.z : 0, "Signed in", b.z, 0, 0);
  }
  ssoBufFree(&b);
  ssoBufFree(&url);
  ssoBufFree(&origin);
  return rc;
}

/* ---- Routes ---- */

/* The rd query parameter of a GET, validated (else /ui), in pArena. */
static const char *uiQueryRd(SsoServerReq *req, SsoArena *pArena){
  SsoForm f;
  if( ssoFormParse(pArena, req->query.z, req->query.n, &f, 0) ){
    return UI_DEFAULT_RD;
  }
  return uiReturnTo(uiFormValue(&f, "rd"));
}

/*
** GET /ui and GET /login: signed in, who you are (/ui) or on to rd
** (/login); else straight to the IdP when so configured and allowed
** (bAuto), else the sign-in page.
*/
static int uiEntry(SsoUi *p, SsoServerReq *req, int bLogin, int bAuto){
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  const char *zRd;
  int rc;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  zRd = bLogin ? uiQueryRd(req, &a) : UI_DEFAULT_RD;
  if( uiSession(p, req, pStore, &a, &s, &rc) ){
    rc = bLogin ? ssoPageRedirect(req, 302, zRd) : uiWhoAmI(p, req, &s, &a);
  }else if( rc ){
    rc = uiInternal(p, req, "session", rc);
  }else if( bAuto && p->bAutoRedirect && p->pOidc ){
    rc = ssoOidcLogin(p->pOidc, req, zRd);
  }else{
    rc = uiLoginPage(p, req, 200, 0, zRd, 0);
  }
  ssoArenaFree(&a);
  return rc;
}

static int uiOnHome(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 0, 1);
}
static int uiOnLogin(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 1, 1);
}
static int uiOnFallbackLogin(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 1, 0);
}

/* 1 if the form's csrf field equals the sign-in cookie (double submit). */
static int uiLoginCsrfOk(SsoUi *p, SsoServerReq *req, const SsoForm *f){
  const char *z = uiFormValue(f, "csrf");
  SsoStr v;
  if( z==0 ) return 0;
  if( ssoSessionCookieGet(req->aHdr, req->nHdr, p->zLoginCookie, &v) ){
    return 0;
  }
  if( !ssoSessionIdWellFormed(v.z, v.n) || strlen(z)!=v.n ) return 0;
  return ssoCtEqual(z, v.z, v.n);
}

/*
** The local admin's row, inside a transaction: create it, or check it and
** put its role back to proxy_admin. SSOPROXY_OK; SSOPROXY_CONSTRAINT with
** zWhy set when the account may not be used; a store error.
*/
static int uiLocalAdmin(SsoUi *p, SsoStore *pStore, const char *zActor,
                        SsoArena *pArena, const char **pzWhy){
  SsoUser old, u;
  int rc = ssoStoreBegin(pStore);
  if( rc ) return rc;
  rc = ssoStoreUserGet(pStore, p->zUsername, pArena, &old);
  if( rc==SSOPROXY_NOTFOUND ){
    memset(&u, 0, sizeof(u));
    u.zId = p->zUsername;
    u.zRole = "proxy_admin";
    u.zSource = "local";
    rc = ssoApiUserInsert(pStore, zActor, &u);
  }else if( rc==SSOPROXY_OK ){
    if( old.zSource==0 || strcmp(old.zSource, "local")!=0 ){
      *pzWhy = "This user id belongs to a single sign-on account, which a "
               "password cannot open. The administrator can choose another "
               "UI_USERNAME.";
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.bDisabled ){
      *pzWhy = "This account is disabled.";
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.zRole==0 || strcmp(old.zRole, "proxy_admin")!=0 ){
      u = old;
      u.zRole = "proxy_admin";
      u.tUpdated = 0;
      rc = ssoApiUserSave(pStore, zActor, &old, &u);
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(pStore);
  if( rc ) ssoStoreRollback(pStore);
  return rc;
}

static int uiOnLoginPost(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoRng *pRng;
  SsoArena a;
  SsoForm f;
  const char *zRd, *zUser, *zWhy = 0;
  char zWait[16], zAddr[48];
  long long tNow = ssoOsNowMs();
  int rc, nWait, bMaster = 0;
  if( !uiWorker(req, &pStore, &pRng) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  if( ssoFormParse(&a, req->pBody ? req->pBody : "", req->nBody, &f, 0) ){
    rc = ssoPageError(req, 400, "Bad request", "The sign-in form could not "
                      "be read.");
    goto end;
  }
  zRd = uiReturnTo(uiFormValue(&f, "rd"));
  zUser = uiFormValue(&f, "username");
  if( !uiLoginCsrfOk(p, req, &f) ){
    rc = uiLoginPage(p, req, 403, "The sign-in form has expired or did not "
                     "come from this site. Please sign in again.", zRd, 0);
    goto end;
  }
  if( !p->bPassword && !p->bMaster ){
    rc = ssoPageError(req, 403, "Password sign-in is off", "Password "
                      "sign-in is not configured on this server.");
    goto end;
  }
  nWait = ssoUiLimited(p, req->zClient, tNow);
  if( nWait ){
    const char *azHdr[2];
    snprintf(zWait, sizeof(zWait), "%d", nWait);
    azHdr[0] = "Retry-After";
    azHdr[1] = zWait;
    rc = uiSendPage(req, 429, 0, "Too many attempts", "<p class=\"error\" "
                    "role=\"alert\">Too many wrong passwords from your "
                    "address. Wait a minute, then try again.</p>", azHdr, 1);
    goto end;
  }
  uiClientAddr(req->zClient, zAddr);
  if( !ssoUiPasswordOk(p, zUser, uiFormValue(&f, "password"), &bMaster) ){
    ssoUiFailed(p, req->zClient, tNow);
    if( p->pLog ){
      ssoLog(p->pLog, SSO_LOG_WARN, "password sign-in refused", "client",
             zAddr, (char*)0);
    }
    rc = uiLoginPage(p, req, 401, "Wrong username or password.", zRd, zUser);
    goto end;
  }
  ssoUiSucceeded(p, req->zClient);
  rc = uiLocalAdmin(p, pStore, bMaster ? "master_key" : p->zUsername, &a,
                    &zWhy);
  if( rc==SSOPROXY_CONSTRAINT && zWhy ){
    rc = ssoPageError(req, 403, "Sign-in refused", zWhy);
    goto end;
  }
  if( rc ){
    rc = uiInternal(p, req, "local admin", rc);
    goto end;
  }
  rc = ssoServerStatus(req, 303);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", zRd);
  if( rc==SSOPROXY_OK ){
    rc = ssoSessionStart(p->pSessions, pStore, pRng, req, p->zUsername, 0,
                         bMaster ? "{\"via\":\"master_key\"}"
                                 : "{\"via\":\"password\"}", tNow);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  if( rc==SSOPROXY_OK && p->pLog ){
    ssoLog(p->pLog, SSO_LOG_INFO, "password sign-in", "user", p->zUsername,
           "with", bMaster ? "master_key" : "UI_PASSWORD", "client", zAddr,
           (char*)0);
  }
end:
  ssoArenaFree(&a);
  return rc;
}

static int uiOnLogoutGet(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  SsoBuf b, url, origin;
  int rc;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  if( !uiSession(p, req, pStore, &a, &s, &rc) ){
    rc = rc ? uiInternal(p, req, "session", rc)
            : ssoPageRedirect(req, 302, UI_DEFAULT_RD);
    ssoArenaFree(&a);
    return rc;
  }
  ssoBufInit(&b, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  uiLogoutTarget(p, &s, &a, &url, &origin);
  ssoBufAppendStr(&b, "<p>Sign out of ssoproxy");
  if( origin.n ) ssoBufAppendStr(&b, " and of your identity provider");
  ssoBufAppendStr(&b, "?</p>\n");
  uiLogoutForm(&b, &s, "Sign out");
  ssoBufAppendStr(&b, "\n<p><a href=\"/ui\">Cancel</a></p>");
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = uiSendPage(req, 200, origin.n ? origin.z : 0, "Sign out", b.z, 0, 0);
  }
  ssoBufFree(&b);
  ssoBufFree(&url);
  ssoBufFree(&origin);
  ssoArenaFree(&a);
  return rc;
}

static int uiOnLogoutPost(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  SsoForm f;
  SsoBuf url, origin;
  int rc, bIn;
  const char *zCsrf;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  bIn = uiSession(p, req, pStore, &a, &s, &rc);
  if( rc ){
    rc = uiInternal(p, req, "session", rc);
    goto end;
  }
  if( bIn ){
    if( ssoFormParse(&a, req->pBody ? req->pBody : "", req->nBody, &f, 0) ){
      memset(&f, 0, sizeof(f));
    }
    zCsrf = uiFormValue(&f, "csrf");
    if( zCsrf==0 || !ssoSessionCsrfOk(&s, zCsrf, strlen(zCsrf)) ){
      rc = ssoPageError(req, 403, "Sign-out refused", "This sign-out did not "
                        "come from this site's own form. Use the Sign out "
                        "button on your account page.");
      goto end;
    }
    uiLogoutTarget(p, &s, &a, &url, &origin);
  }
  /* Without a session there is nothing to protect: the cookie (if any)
  ** is cleared and the browser goes to the start page. */
  rc = ssoServerStatus(req, 303);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Location", origin.n ? url.z : UI_DEFAULT_RD);
  }
  if( rc==SSOPROXY_OK ) rc = ssoSessionEnd(p->pSessions, pStore, req);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  if( rc==SSOPROXY_OK && bIn && p->pLog ){
    ssoLog(p->pLog, SSO_LOG_INFO, "signed out", "user", s.user.zId,
           (char*)0);
  }
end:
  ssoBufFree(&url);
  ssoBufFree(&origin);
  ssoArenaFree(&a);
  return rc;
}

/*
** LiteLLM's discovery document for its UI. auto_redirect_to_sso is true
** only when single sign-on is configured and the setting asks for it.
*/
static int uiOnConfig(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoJsonWriter w;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "server_root_path", "/");
  ssoJsonWriteKeyString(&w, "proxy_base_url", p->zBaseUrl);
  ssoJsonWriteKeyBool(&w, "auto_redirect_to_sso",
                      p->bAutoRedirect && p->pOidc!=0);
  ssoJsonWriteKeyBool(&w, "sso_configured", p->pOidc!=0);
  ssoJsonWriteKeyString(&w, "docs_title", "ssoproxy");
  ssoJsonWriteKeyString(&w, "custom_docs_description", 0);
  ssoJsonWriteKeyString(&w, "litellm_version", SSOPROXY_VERSION);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoUiRegister(SsoServer *pSrv, SsoUi *p){
  static const struct {
    const char *zMethod, *zPath;
    SsoServerHandler x;
  } aRoute[] = {
    { "GET",  "/ui",             uiOnHome },
    { "GET",  "/ui/",            uiOnHome },
    { "GET",  "/login",          uiOnLogin },
    { "POST", "/login",          uiOnLoginPost },
    { "GET",  "/fallback/login", uiOnFallbackLogin },
    { "GET",  "/logout",         uiOnLogoutGet },
    { "POST", "/logout",         uiOnLogoutPost },
    { "GET",  "/.well-known/litellm-ui-config",         uiOnConfig },
    { "GET",  "/litellm/.well-known/litellm-ui-config", uiOnConfig },
  };
  size_t i;
  int rc = SSOPROXY_OK;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(aRoute); i++){
    rc = ssoServerRoute(pSrv, aRoute[i].zMethod, aRoute[i].zPath, aRoute[i].x,
                        p);
  }
  return rc;
}
