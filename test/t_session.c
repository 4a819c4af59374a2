/*
** Tests for browser sessions (src/session.c) and pages (src/page.c):
** cookie parsing, the whole life of a session against a real SQLite file
** (start, get, rotation, idle and absolute expiry, the user disabled or
** deleted, end, purge), the CSRF token, the authentication hook with its
** CSRF rule, and HTML escaping.
*/

/* A Cookie header (or another) from two strings. */
static void sesHdr(SsoHttpHeader *h, const char *zName, const char *zValue){
  h->name.z = zName;
  h->name.n = strlen(zName);
  h->value.z = zValue;
  h->value.n = strlen(zValue);
}

/* Cookie lookup: 1 and the value in zOut, or 0. */
static int sesCookie(const char *zHeader, const char *zName, char *zOut){
  SsoHttpHeader h;
  SsoStr v;
  sesHdr(&h, "Cookie", zHeader);
  if( ssoSessionCookieGet(&h, 1, zName, &v) ) return 0;
  memcpy(zOut, v.z, v.n);
  zOut[v.n] = 0;
  return 1;
}

static void test_session_cookie_parse(void){
  char z[256];
  SsoHttpHeader a[3];
  SsoStr v;
  CHECK( sesCookie("a=1; b=2", "b", z) ); CHECK_STR( z, "2" );
  CHECK( sesCookie("a=1;b=2", "a", z) ); CHECK_STR( z, "1" );
  CHECK( sesCookie("  a = x y ;\tb=2", "a", z) ); CHECK_STR( z, "x y" );
  CHECK( sesCookie("a=\"quoted\"", "a", z) ); CHECK_STR( z, "quoted" );
  CHECK( sesCookie("a=", "a", z) ); CHECK_STR( z, "" );
  CHECK( sesCookie("a=b=c", "a", z) ); CHECK_STR( z, "b=c" );
  /* The first of duplicates wins; names are case-sensitive. */
  CHECK( sesCookie("a=first; a=second", "a", z) ); CHECK_STR( z, "first" );
  CHECK( !sesCookie("A=1", "a", z) );
  CHECK( !sesCookie("xa=1; ax=2", "a", z) );
  /* Pairs without '=' and empty pairs are skipped, not fatal. */
  CHECK( sesCookie(";;junk; =x; a=ok;", "a", z) ); CHECK_STR( z, "ok" );
  CHECK( !sesCookie("", "a", z) );
  CHECK( !sesCookie("a", "a", z) );
  /* Several Cookie fields, any case; other fields ignored. */
  sesHdr(&a[0], "Cookie-Not", "a=wrong");
  sesHdr(&a[1], "cookie", "b=1");
  sesHdr(&a[2], "COOKIE", "a=right");
  CHECK_INT( ssoSessionCookieGet(a, 3, "a", &v), SSOPROXY_OK );
  CHECK( v.n==5 && memcmp(v.z, "right", 5)==0 );
  /* A limit on the pairs looked at. */
  {
    SsoBuf b;
    int i;
    ssoBufInit(&b, 0);
    for(i=0; i<SSO_SESSION_MAX_PAIRS; i++) ssoBufPrintf(&b, "n%d=%d; ", i, i);
    ssoBufAppendStr(&b, "a=late");
    CHECK_INT( b.rc, SSOPROXY_OK );
    CHECK( !sesCookie(b.z, "a", z) );
    CHECK( sesCookie(b.z, "n5", z) ); CHECK_STR( z, "5" );
    ssoBufFree(&b);
  }
  CHECK( ssoSessionIdWellFormed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_x",
                                43) );
  CHECK( !ssoSessionIdWellFormed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_",
                                 42) );
  CHECK( !ssoSessionIdWellFormed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123+_x",
                                 43) );
}

static void test_session_init(void){
  SsoSessions s;
  SsoBuf b;
  char z[64];
  ssoSessionInit(&s, "https://llm.example.com", 1000, 2000);
  CHECK( s.bSecure );
  CHECK_STR( s.zCookie, "__Host-ssoproxy_session" );
  ssoSessionCookieName(&s, "ssoproxy_login", z, sizeof(z));
  CHECK_STR( z, "__Host-ssoproxy_login" );
  ssoBufInit(&b, 0);
  ssoSessionSetCookie(&s, &b, s.zCookie, "v", 30);
  CHECK_STR( ssoBufStr(&b), "__Host-ssoproxy_session=v; Path=/; Max-Age=30; "
             "HttpOnly; SameSite=Lax; Secure" );
  ssoBufFree(&b);
  ssoSessionInit(&s, "HTTPS://LLM.EXAMPLE.COM", 1000, 2000);
  CHECK( s.bSecure );
  ssoSessionInit(&s, "http://127.0.0.1:4000", 1000, 2000);
  CHECK( !s.bSecure );
  CHECK_STR( s.zCookie, "ssoproxy_session" );
  ssoBufInit(&b, 0);
  ssoSessionSetCookie(&s, &b, s.zCookie, "", 0);
  CHECK_STR( ssoBufStr(&b), "ssoproxy_session=; Path=/; Max-Age=0; "
             "HttpOnly; SameSite=Lax" );
  ssoBufFree(&b);
  ssoSessionInit(&s, 0, 1, 2);
  CHECK( !s.bSecure );
  CHECK_INT( s.msIdle, 1 );
  CHECK_INT( s.msMax, 2 );
}

/* A fixture: a real database file with users, sessions, a generator. */
typedef struct SesFix SesFix;
struct SesFix {
  SsoStore *pStore;
  SsoRng *pRng;
  SsoSessions s;
  SsoArena a;
  char zCookie[128];        /* "ssoproxy_session=<id>" of the last start */
  SsoHttpHeader h;          /* Cookie: zCookie */
};

static void sesFixUser(SesFix *f, const char *zId, const char *zRole){
  SsoUser u;
  memset(&u, 0, sizeof(u));
  u.zId = zId;
  u.zRole = zRole;
  u.zSource = "local";
  u.zEmail = "x@example.com";
  CHECK_INT( ssoStoreUserInsert(f->pStore, &u), SSOPROXY_OK );
}

static void sesFixOpen(SesFix *f){
  char zPath[512];
  memset(f, 0, sizeof(*f));
  stoDirMake();
  stoPath("s.db", zPath, sizeof(zPath));
  CHECK_INT( ssoStoreOpen(zPath, &f->pStore), SSOPROXY_OK );
  CHECK_INT( ssoRngNew(&f->pRng), SSOPROXY_OK );
  ssoArenaInit(&f->a, 0);
  /* Idle 10 s, absolute 100 s. */
  ssoSessionInit(&f->s, "http://127.0.0.1", 10000, 100000);
  sesFixUser(f, "alice", "internal_user");
  sesFixUser(f, "boss", "proxy_admin");
}

static void sesFixClose(SesFix *f){
  ssoArenaFree(&f->a);
  ssoRngFree(f->pRng);
  ssoStoreClose(f->pStore);
  stoDirRemove();
}

/* Start a session for zUser at tNow with the current cookie (if any)
** sent along; keep the new cookie as the browser would. */
static int sesStart(SesFix *f, const char *zUser, long long tNow){
  SsoBuf b;
  const char *zSemi;
  int rc;
  ssoBufInit(&b, 0);
  rc = ssoSessionCreate(&f->s, f->pStore, f->pRng, &f->h,
                        f->zCookie[0] ? 1 : 0, zUser, "id.token.x",
                        "{\"via\":\"test\"}", tNow, &b);
  if( rc==SSOPROXY_OK ){
    CHECK( strstr(ssoBufStr(&b), "; Path=/; Max-Age=100; HttpOnly; "
                  "SameSite=Lax")!=0 );
    zSemi = strchr(ssoBufStr(&b), ';');
    CHECK( zSemi!=0 && (size_t)(zSemi-b.z)<sizeof(f->zCookie) );
    if( zSemi ){
      memcpy(f->zCookie, b.z, (size_t)(zSemi-b.z));
      f->zCookie[zSemi-b.z] = 0;
      sesHdr(&f->h, "Cookie", f->zCookie);
    }
  }
  ssoBufFree(&b);
  return rc;
}

static int sesGet(SesFix *f, long long tNow, SsoSession *pS){
  return ssoSessionGet(&f->s, f->pStore, &f->h, 1, tNow, &f->a, pS);
}

static void test_session_lifecycle(void){
  SesFix f;
  SsoSession s, s2;
  SsoSessionRow row;
  SsoHttpHeader hOld;
  char zOld[128];
  int n = -1;
  sesFixOpen(&f);
  /* No cookie, a malformed one, an unknown one: no session. */
  CHECK_INT( ssoSessionGet(&f.s, f.pStore, &f.h, 0, 1000, &f.a, &s),
             SSOPROXY_NOTFOUND );
  sesHdr(&f.h, "Cookie", "ssoproxy_session=short");
  CHECK_INT( sesGet(&f, 1000, &s), SSOPROXY_NOTFOUND );
  sesHdr(&f.h, "Cookie",
         "ssoproxy_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_x");
  CHECK_INT( sesGet(&f, 1000, &s), SSOPROXY_NOTFOUND );

  /* Start: the cookie names a row stored by its hash only. */
  CHECK_INT( sesStart(&f, "alice", 1000), SSOPROXY_OK );
  CHECK( strncmp(f.zCookie, "ssoproxy_session=", 17)==0 );
  CHECK_INT( strlen(f.zCookie+17), SSO_SESSION_ID_LEN );
  CHECK_INT( ssoStoreSessionGet(f.pStore, f.zCookie+17, &f.a, &row),
             SSOPROXY_NOTFOUND );
  CHECK_INT( sesGet(&f, 2000, &s), SSOPROXY_OK );
  CHECK_STR( s.user.zId, "alice" );
  CHECK_STR( s.row.zIdToken, "id.token.x" );
  CHECK_STR( s.row.zData, "{\"via\":\"test\"}" );
  CHECK_INT( s.row.tExpires, 101000 );
  CHECK_INT( strlen(s.zCsrf), 43 );
  CHECK_INT( ssoStoreSessionGet(f.pStore, s.zHash, &f.a, &row), SSOPROXY_OK );
  /* The CSRF token is stable for the session and checked exactly. */
  CHECK_INT( sesGet(&f, 2100, &s2), SSOPROXY_OK );
  CHECK_STR( s2.zCsrf, s.zCsrf );
  CHECK( ssoSessionCsrfOk(&s, s.zCsrf, strlen(s.zCsrf)) );
  CHECK( !ssoSessionCsrfOk(&s, s.zCsrf, strlen(s.zCsrf)-1) );
  CHECK( !ssoSessionCsrfOk(&s, "", 0) );
  {
    char zBad[48];
    strcpy(zBad, s.zCsrf);
    zBad[10] ^= 1;
    CHECK( !ssoSessionCsrfOk(&s, zBad, strlen(zBad)) );
  }
  memset(&s2, 0, sizeof(s2));
  CHECK( !ssoSessionCsrfOk(&s2, "", 0) );

  /* Idle: seen at 1000, not yet rewritten at 3000 (under the grain of
  ** idle/4 = 2.5 s), rewritten at 3600; then alive at 13000 < 3600+10000
  ** and dead (and deleted) 10 s after the last write. */
  CHECK_INT( sesGet(&f, 3000, &s), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(f.pStore, s.zHash, &f.a, &row), SSOPROXY_OK );
  CHECK_INT( row.tSeen, 1000 );
  CHECK_INT( sesGet(&f, 3600, &s), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(f.pStore, s.zHash, &f.a, &row), SSOPROXY_OK );
  CHECK_INT( row.tSeen, 3600 );
  CHECK_INT( sesGet(&f, 13000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 13000+10000, &s), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreSessionGet(f.pStore, s.zHash, &f.a, &row),
             SSOPROXY_NOTFOUND );

  /* Absolute: alive while used, over at 100 s after the start. */
  CHECK_INT( sesStart(&f, "alice", 200000), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 209000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 218000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 227000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 236000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 245000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 254000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 263000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 272000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 281000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 290000, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 299999, &s), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 300000, &s), SSOPROXY_NOTFOUND );

  /* Rotation: signing in again ends the old session, a new id comes. */
  CHECK_INT( sesStart(&f, "alice", 400000), SSOPROXY_OK );
  strcpy(zOld, f.zCookie);
  sesHdr(&hOld, "Cookie", zOld);
  CHECK_INT( sesStart(&f, "boss", 401000), SSOPROXY_OK );
  CHECK( strcmp(zOld, f.zCookie)!=0 );
  CHECK_INT( ssoSessionGet(&f.s, f.pStore, &hOld, 1, 401500, &f.a, &s),
             SSOPROXY_NOTFOUND );
  CHECK_INT( sesGet(&f, 401500, &s), SSOPROXY_OK );
  CHECK_STR( s.user.zId, "boss" );

  /* The user disabled: refused and signed out; deleted: the same. */
  {
    SsoUser u;
    CHECK_INT( ssoStoreUserGet(f.pStore, "boss", &f.a, &u), SSOPROXY_OK );
    u.bDisabled = 1;
    CHECK_INT( ssoStoreUserUpdate(f.pStore, &u), SSOPROXY_OK );
    CHECK_INT( sesGet(&f, 402000, &s), SSOPROXY_NOTFOUND );
    u.bDisabled = 0;
    CHECK_INT( ssoStoreUserUpdate(f.pStore, &u), SSOPROXY_OK );
    CHECK_INT( sesGet(&f, 402000, &s), SSOPROXY_NOTFOUND );
  }
  CHECK_INT( sesStart(&f, "alice", 500000), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 500100, &s), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserDelete(f.pStore, "alice"), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 500200, &s), SSOPROXY_NOTFOUND );

  /* End: the row goes; ending twice is harmless. */
  CHECK_INT( sesStart(&f, "boss", 600000), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 600100, &s), SSOPROXY_OK );
  CHECK_INT( ssoSessionDestroy(&f.s, f.pStore, &f.h, 1), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 600200, &s), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoSessionDestroy(&f.s, f.pStore, &f.h, 1), SSOPROXY_OK );

  /* Purge: at a sign-in, sessions of other browsers that have expired
  ** go too. */
  f.zCookie[0] = 0;
  CHECK_INT( sesStart(&f, "boss", 700000), SSOPROXY_OK );
  f.zCookie[0] = 0;
  CHECK_INT( sesStart(&f, "boss", 705000), SSOPROXY_OK );
  CHECK_INT( ssoSessionPurge(&f.s, f.pStore, 712000, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  f.zCookie[0] = 0;
  CHECK_INT( sesStart(&f, "boss", 716000), SSOPROXY_OK );
  CHECK_INT( ssoSessionPurge(&f.s, f.pStore, 716000, &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );
  sesFixClose(&f);
}

/* The authentication hook: sessions for GET, CSRF for changes. */
static void test_session_authz_hook(void){
  SesFix f;
  SsoSession s;
  SsoAuthz authz;
  SsoCaller c;
  SsoAuthzErr e;
  SsoHttpHeader h[2];
  SsoStr get = { "GET", 3 }, post = { "POST", 4 }, head = { "HEAD", 4 };
  SsoStr del = { "DELETE", 6 }, get2 = { "get", 3 }, none = { 0, 0 };
  char zCsrf[48];
  sesFixOpen(&f);
  ssoAuthzInit(&authz, "sk-master");
  authz.xSession = ssoSessionAuthz;
  authz.pSessionArg = &f.s;
  CHECK_INT( sesStart(&f, "boss", 1000), SSOPROXY_OK );
  CHECK_INT( sesGet(&f, 1000, &s), SSOPROXY_OK );
  strcpy(zCsrf, s.zCsrf);
  h[0] = f.h;

#define SES_AUTH(m, n) (memset(&e, 0, sizeof(e)), \
    ssoAuthzAuthenticate(&authz, f.pStore, m, h, n, 2000, &f.a, &c, &e))
  CHECK_INT( SES_AUTH(get, 1), SSOPROXY_OK );
  CHECK_INT( c.eKind, SSO_CALLER_SESSION );
  CHECK_STR( c.zUserId, "boss" );
  CHECK_INT( c.eRole, SSO_ROLE_PROXY_ADMIN );
  CHECK_INT( SES_AUTH(head, 1), SSOPROXY_OK );
  /* Changes need the token; methods are case-sensitive; unknown = change. */
  CHECK_INT( SES_AUTH(post, 1), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 403 );
  CHECK( strstr(e.zMsg, "X-CSRF-Token")!=0 );
  CHECK_INT( SES_AUTH(del, 1), SSOPROXY_ERROR );
  CHECK_INT( SES_AUTH(get2, 1), SSOPROXY_ERROR );
  CHECK_INT( SES_AUTH(none, 1), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 403 );
  sesHdr(&h[1], "X-CSRF-Token", "wrong");
  CHECK_INT( SES_AUTH(post, 2), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 403 );
  sesHdr(&h[1], "x-csrf-token", zCsrf);
  CHECK_INT( SES_AUTH(post, 2), SSOPROXY_OK );
  CHECK_STR( c.zUserId, "boss" );
  CHECK_INT( SES_AUTH(none, 2), SSOPROXY_OK );
  /* An unknown (empty) method is treated as state-changing. */
  memset(&e, 0, sizeof(e));
  CHECK_INT( ssoAuthzAuthenticate(&authz, f.pStore, none, h, 1, 2000,
                                  &f.a, &c, &e), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 403 );
  /* Another session's token is no good. */
  {
    SsoHttpHeader hSave = f.h;
    f.zCookie[0] = 0;
    CHECK_INT( sesStart(&f, "alice", 1500), SSOPROXY_OK );
    h[0] = f.h;
    CHECK_INT( SES_AUTH(post, 2), SSOPROXY_ERROR );
    CHECK_INT( e.iStatus, 403 );
    CHECK_INT( SES_AUTH(get, 1), SSOPROXY_OK );
    CHECK_STR( c.zUserId, "alice" );
    h[0] = hSave;
  }
  /* A key header wins over the cookie; no session is a 401. */
  sesHdr(&h[1], "Authorization", "Bearer sk-master");
  CHECK_INT( SES_AUTH(post, 2), SSOPROXY_OK );
  CHECK_INT( c.eKind, SSO_CALLER_MASTER );
  CHECK_INT( ssoSessionDestroy(&f.s, f.pStore, h, 1), SSOPROXY_OK );
  CHECK_INT( SES_AUTH(get, 1), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 401 );
  CHECK_INT( SES_AUTH(get, 0), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 401 );
#undef SES_AUTH
  sesFixClose(&f);
}

/* Out of memory at any allocation of a sign-in and a lookup, on a store
** opened for the run (so nothing SQLite caches outlives it): a clean
** error, no leak. */
static int sesFaultOp(void *pArg){
  SesFix *f = pArg;
  SsoSession s;
  char zPath[512];
  int rc;
  stoPath("s.db", zPath, sizeof(zPath));
  rc = ssoStoreOpen(zPath, &f->pStore);
  f->zCookie[0] = 0;
  if( rc==SSOPROXY_OK ) rc = sesStart(f, "alice", 5000);
  if( rc==SSOPROXY_OK ) rc = sesGet(f, 5001, &s);
  if( rc==SSOPROXY_OK && strcmp(s.user.zId, "alice")!=0 ) rc = SSOPROXY_ERROR;
  ssoStoreClose(f->pStore);
  f->pStore = 0;
  ssoArenaFree(&f->a);
  ssoArenaInit(&f->a, 0);
  return rc;
}

static int sesFaultCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  if( rc==SSOPROXY_OK ) return 1;
  return bFaulted && (rc==SSOPROXY_NOMEM || rc==SSOPROXY_DB);
}

static void test_session_faults(void){
  SesFix f;
  sesFixOpen(&f);
  ssoStoreClose(f.pStore);
  f.pStore = 0;
  CHECK( faultRun(sesFaultOp, sesFaultCheck, &f)>10 );
  sesFixClose(&f);
}

static void test_page_escape(void){
  SsoBuf b;
  static const char zIn[] = "<a href=\"x\" onclick='y'>&amp;</a>\0z";
  ssoBufInit(&b, 0);
  ssoPageEscape(&b, zIn, sizeof(zIn)-1);
  CHECK_STR( ssoBufStr(&b), "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;"
             "&amp;amp;&lt;/a&gt;&#xFFFD;z" );
  ssoBufTruncate(&b, 0);
  ssoPageEscape(&b, "plain text", 10);
  CHECK_STR( ssoBufStr(&b), "plain text" );
  ssoBufTruncate(&b, 0);
  ssoPageEscape(&b, "", 0);
  CHECK_STR( ssoBufStr(&b), "" );
  /* The shell escapes the title and keeps the body as given. */
  ssoBufTruncate(&b, 0);
  ssoPageBuild(&b, "A <b>", "<p>body</p>");
  CHECK( strstr(ssoBufStr(&b), "<title>A &lt;b&gt; - ssoproxy</title>")!=0 );
  CHECK( strstr(ssoBufStr(&b), "<h1>A &lt;b&gt;</h1>")!=0 );
  CHECK( strstr(ssoBufStr(&b), "<p>body</p>")!=0 );
  CHECK( strstr(ssoBufStr(&b), "<html lang=\"en\">")!=0 );
  CHECK( strstr(ssoBufStr(&b), "<script")==0 );
  CHECK( strstr(ssoBufStr(&b), "http")==0 );    /* No external resource */
  CHECK( pageCspSourcesOk("https://idp.example.com vscode:") );
  CHECK( !pageCspSourcesOk("https://x; script-src *") );
  CHECK( !pageCspSourcesOk("'unsafe-inline'") );
  CHECK( !pageCspSourcesOk("a,b") );
  CHECK( !pageCspSourcesOk("a\nb") );
  ssoBufFree(&b);
}


/* ---- The sign-in (src/ui.c) ---- */

static SsoUi *sesUiNew(const SsoSessions *pS, const char *zUser,
                       const char *zPass, const char *zMaster, int nMax){
  SsoUiConfig c;
  SsoUi *p = 0;
  char zErr[256];
  memset(&c, 0, sizeof(c));
  c.pSessions = pS;
  c.zUsername = zUser;
  c.zPassword = zPass;
  c.zMasterKey = zMaster;
  c.nMaxFailures = nMax;
  CHECK_INT( ssoUiNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  return p;
}

static void test_ui_password(void){
  SsoSessions s;
  SsoUi *p;
  SsoUiConfig c;
  char zErr[256];
  int bMaster = -1;
  ssoSessionInit(&s, 0, 1000, 2000);
  p = sesUiNew(&s, "root", "pw", "sk-master", 3);
  CHECK( ssoUiPasswordOk(p, "root", "pw", &bMaster) );
  CHECK_INT( bMaster, 0 );
  CHECK( ssoUiPasswordOk(p, "root", "sk-master", &bMaster) );
  CHECK_INT( bMaster, 1 );
  CHECK( !ssoUiPasswordOk(p, "root", "pw ", &bMaster) );
  CHECK_INT( bMaster, 0 );
  CHECK( !ssoUiPasswordOk(p, "root", "p", 0) );
  CHECK( !ssoUiPasswordOk(p, "admin", "pw", 0) );
  CHECK( !ssoUiPasswordOk(p, "Root", "pw", 0) );
  CHECK( !ssoUiPasswordOk(p, "root", "", 0) );
  CHECK( !ssoUiPasswordOk(p, "root", 0, 0) );
  CHECK( !ssoUiPasswordOk(p, 0, "pw", 0) );
  ssoUiFree(p);
  /* Defaults: user "admin", the master key alone. */
  p = sesUiNew(&s, 0, 0, "sk-master", 3);
  CHECK( ssoUiPasswordOk(p, "admin", "sk-master", &bMaster) );
  CHECK_INT( bMaster, 1 );
  CHECK( !ssoUiPasswordOk(p, "admin", "", 0) );
  ssoUiFree(p);
  /* Nothing set: no password opens anything, the empty one least. */
  p = sesUiNew(&s, 0, 0, 0, 3);
  CHECK( !ssoUiPasswordOk(p, "admin", "", 0) );
  CHECK( !ssoUiPasswordOk(p, "admin", "x", 0) );
  ssoUiFree(p);
  /* Bad settings. */
  memset(&c, 0, sizeof(c));
  c.pSessions = &s;
  c.zUsername = "";
  CHECK_INT( ssoUiNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( p==0 );
  CHECK( strstr(zErr, "UI_USERNAME")!=0 );
  c.zUsername = "admin";
  c.zPassword = "";
  CHECK_INT( ssoUiNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "UI_PASSWORD")!=0 );
}

static void test_ui_limiter(void){
  SsoSessions s;
  SsoUi *p;
  int i;
  ssoSessionInit(&s, 0, 1000, 2000);
  p = sesUiNew(&s, "root", "pw", 0, 3);
  CHECK_INT( ssoUiLimited(p, "10.0.0.1:5000", 1000), 0 );
  for(i=0; i<3; i++) ssoUiFailed(p, "10.0.0.1:5000", 1000+i);
  /* The port does not matter; other addresses are not affected. */
  CHECK_INT( ssoUiLimited(p, "10.0.0.1:6000", 2000), 59 );
  CHECK_INT( ssoUiLimited(p, "10.0.0.2:5000", 2000), 0 );
  CHECK_INT( ssoUiLimited(p, "[::1]:5000", 2000), 0 );
  /* The window ends a minute after its first failure. */
  CHECK_INT( ssoUiLimited(p, "10.0.0.1:1", 60999), 1 );
  CHECK_INT( ssoUiLimited(p, "10.0.0.1:1", 61000), 0 );
  ssoUiFailed(p, "10.0.0.1:1", 61000);
  CHECK_INT( ssoUiLimited(p, "10.0.0.1:1", 61001), 0 );
  /* A success forgets the address. */
  ssoUiFailed(p, "[::1]:7", 100);
  ssoUiFailed(p, "[::1]:7", 100);
  ssoUiFailed(p, "[::1]:7", 100);
  CHECK( ssoUiLimited(p, "[::1]:8", 200)>0 );
  ssoUiSucceeded(p, "[::1]:9");
  CHECK_INT( ssoUiLimited(p, "[::1]:8", 200), 0 );
  /* A flood of addresses pushes out the oldest windows only. */
  for(i=0; i<3; i++) ssoUiFailed(p, "192.0.2.1:1", 500000);
  for(i=0; i<SSO_UI_LOGIN_SLOTS-1; i++){
    char z[32];
    snprintf(z, sizeof(z), "198.51.%d.%d:1", i/256, i%256);
    ssoUiFailed(p, z, 500001+i);
  }
  CHECK( ssoUiLimited(p, "192.0.2.1:1", 500000+SSO_UI_LOGIN_SLOTS)>0 );
  ssoUiFree(p);
}

/* The local admin: created audited, demotion undone, an SSO user or a
** disabled one refused. */
static void test_ui_local_admin(void){
  SesFix f;
  SsoUi *p;
  SsoUser u, in;
  const char *zWhy = 0;
  int n = 0;
  sesFixOpen(&f);
  p = sesUiNew(&f.s, "root", "pw", 0, 3);
  CHECK_INT( uiLocalAdmin(p, f.pStore, "root", &f.a, &zWhy), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(f.pStore, "root", &f.a, &u), SSOPROXY_OK );
  CHECK_STR( u.zRole, "proxy_admin" );
  CHECK_STR( u.zSource, "local" );
  CHECK_INT( ssoStoreAuditCount(f.pStore, "user", "root", &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  /* Demoted behind its back: the next sign-in restores it, audited. */
  u.zRole = "internal_user";
  CHECK_INT( ssoStoreUserUpdate(f.pStore, &u), SSOPROXY_OK );
  CHECK_INT( uiLocalAdmin(p, f.pStore, "root", &f.a, &zWhy), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(f.pStore, "root", &f.a, &u), SSOPROXY_OK );
  CHECK_STR( u.zRole, "proxy_admin" );
  CHECK_INT( ssoStoreAuditCount(f.pStore, "user", "root", &n), SSOPROXY_OK );
  CHECK_INT( n, 2 );
  /* Unchanged: no audit noise. */
  CHECK_INT( uiLocalAdmin(p, f.pStore, "root", &f.a, &zWhy), SSOPROXY_OK );
  CHECK_INT( ssoStoreAuditCount(f.pStore, "user", "root", &n), SSOPROXY_OK );
  CHECK_INT( n, 2 );
  u.bDisabled = 1;
  CHECK_INT( ssoStoreUserUpdate(f.pStore, &u), SSOPROXY_OK );
  CHECK_INT( uiLocalAdmin(p, f.pStore, "root", &f.a, &zWhy),
             SSOPROXY_CONSTRAINT );
  CHECK( zWhy && strstr(zWhy, "disabled")!=0 );
  ssoUiFree(p);
  /* A single sign-on user of that id is never opened by a password. */
  memset(&in, 0, sizeof(in));
  in.zId = "sso-boss";
  in.zRole = "internal_user";
  CHECK_INT( ssoStoreUserUpsertSso(f.pStore, &in, 1, &f.a, &u, 0),
             SSOPROXY_OK );
  p = sesUiNew(&f.s, "sso-boss", "pw", 0, 3);
  zWhy = 0;
  CHECK_INT( uiLocalAdmin(p, f.pStore, "sso-boss", &f.a, &zWhy),
             SSOPROXY_CONSTRAINT );
  CHECK( zWhy && strstr(zWhy, "single sign-on")!=0 );
  CHECK_INT( ssoStoreUserGet(f.pStore, "sso-boss", &f.a, &u), SSOPROXY_OK );
  CHECK_STR( u.zRole, "internal_user" );
  ssoUiFree(p);
  sesFixClose(&f);
}

static const TestCase aSessionTests[] = {
  TEST_CASE(test_session_cookie_parse),
  TEST_CASE(test_session_init),
  TEST_CASE(test_session_lifecycle),
  TEST_CASE(test_session_authz_hook),
  TEST_CASE(test_session_faults),
  TEST_CASE(test_page_escape),
  TEST_CASE(test_ui_password),
  TEST_CASE(test_ui_limiter),
  TEST_CASE(test_ui_local_admin),
};
