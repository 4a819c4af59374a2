/*
** Tests for src/authz.c: roles, the permission matrix, credential
** headers, key texts, and authentication against a real store.
*/

static void test_authz_roles(void){
  static const char *const az[] = {
    "internal_user_viewer", "internal_user", "proxy_admin_viewer",
    "proxy_admin"
  };
  int i, bAlias = 7;
  for(i=0; i<4; i++){
    CHECK_INT( ssoAuthzRole(az[i], &bAlias), i+1 );
    CHECK_INT( bAlias, 0 );
    CHECK_STR( ssoAuthzRoleName(i+1), az[i] );
  }
  /* The seed guide's spelling: accepted, flagged for a warning. */
  CHECK_INT( ssoAuthzRole("internal_user_view_only", &bAlias),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_INT( bAlias, 1 );
  CHECK_INT( ssoAuthzRole("Proxy_Admin", 0), SSO_ROLE_NONE );
  CHECK_INT( ssoAuthzRole("org_admin", 0), SSO_ROLE_NONE );   /* LiteLLM's */
  CHECK_INT( ssoAuthzRole("proxy_admin ", 0), SSO_ROLE_NONE );
  CHECK_INT( ssoAuthzRole("", 0), SSO_ROLE_NONE );
  CHECK_INT( ssoAuthzRole(0, 0), SSO_ROLE_NONE );
  CHECK_STR( ssoAuthzRoleName(0), "" );
  CHECK_STR( ssoAuthzRoleName(99), "" );
}

/* The actions that change something; viewers may do none of them. */
static int authzTestWrites(int e){
  return e!=SSO_ACT_KEY_INFO && e!=SSO_ACT_KEY_LIST
      && e!=SSO_ACT_USER_INFO && e!=SSO_ACT_USER_LIST
      && e!=SSO_ACT_AUDIT_LIST;
}

static void test_authz_matrix(void){
  int e;
  for(e=0; e<SSO_ACT_COUNT; e++){
    int bWrite = authzTestWrites(e);
    CHECK( ssoAuthzActionPath(e)[0]=='/' );
    /* proxy_admin: everything, on everyone. */
    CHECK_INT( ssoAuthzScope(SSO_ROLE_PROXY_ADMIN, e), SSO_SCOPE_ANY );
    /* Viewers read only; the admin viewer reads everything. */
    CHECK_INT( ssoAuthzScope(SSO_ROLE_PROXY_ADMIN_VIEWER, e),
               bWrite ? SSO_SCOPE_NONE : SSO_SCOPE_ANY );
    if( bWrite ){
      CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER_VIEWER, e),
                 SSO_SCOPE_NONE );
    }
    /* Internal users never reach beyond their own things. */
    CHECK( ssoAuthzScope(SSO_ROLE_INTERNAL_USER, e)!=SSO_SCOPE_ANY );
    CHECK( ssoAuthzScope(SSO_ROLE_INTERNAL_USER_VIEWER, e)!=SSO_SCOPE_ANY );
    CHECK_INT( ssoAuthzScope(SSO_ROLE_NONE, e), SSO_SCOPE_NONE );
  }
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER, SSO_ACT_KEY_GENERATE),
             SSO_SCOPE_OWN );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER, SSO_ACT_KEY_DELETE),
             SSO_SCOPE_OWN );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER, SSO_ACT_KEY_BLOCK),
             SSO_SCOPE_NONE );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER, SSO_ACT_USER_LIST),
             SSO_SCOPE_NONE );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER_VIEWER, SSO_ACT_KEY_INFO),
             SSO_SCOPE_OWN );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_INTERNAL_USER_VIEWER, SSO_ACT_AUDIT_LIST),
             SSO_SCOPE_NONE );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_PROXY_ADMIN, -1), SSO_SCOPE_NONE );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_PROXY_ADMIN, SSO_ACT_COUNT),
             SSO_SCOPE_NONE );
  CHECK_INT( ssoAuthzScope(SSO_ROLE_COUNT, 0), SSO_SCOPE_NONE );
  CHECK_STR( ssoAuthzActionPath(SSO_ACT_AUDIT_LIST), "/audit/list" );
  CHECK_STR( ssoAuthzActionPath(SSO_ACT_COUNT), "" );
}

static void test_authz_may_touch(void){
  SsoCaller c;
  memset(&c, 0, sizeof(c));
  c.eRole = SSO_ROLE_INTERNAL_USER;
  c.zUserId = "alice";
  c.key.zHash = "aaaa";
  CHECK( ssoAuthzMayTouch(&c, SSO_ACT_KEY_DELETE, "alice", "bbbb") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_KEY_DELETE, "bob", "aaaa") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_KEY_DELETE, 0, "aaaa") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_KEY_BLOCK, "alice", "aaaa") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_KEY_GENERATE, "alicex", 0) );
  /* A key without an owner owns only itself. */
  c.zUserId = 0;
  c.eRole = SSO_ROLE_INTERNAL_USER_VIEWER;
  CHECK( ssoAuthzMayTouch(&c, SSO_ACT_KEY_INFO, 0, "aaaa") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_KEY_INFO, 0, "bbbb") );
  CHECK( !ssoAuthzMayTouch(&c, SSO_ACT_USER_INFO, 0, 0) );
  c.eRole = SSO_ROLE_PROXY_ADMIN;
  CHECK( ssoAuthzMayTouch(&c, SSO_ACT_USER_DELETE, "anyone", 0) );
}

/* A header array from "name", "value", ... pairs. */
static int authzHdrs(SsoHttpHeader *a, const char *const *az, int n){
  int i;
  for(i=0; i<n; i++){
    a[i].name.z = az[2*i];
    a[i].name.n = strlen(az[2*i]);
    a[i].value.z = az[2*i+1];
    a[i].value.n = strlen(az[2*i+1]);
  }
  return n;
}

static void test_authz_credential(void){
  static const struct {
    const char *az[4];  /* Up to two headers */
    int nHdr;
    int rc;
    const char *zCred;  /* Expected credential, or error text */
  } aCase[] = {
    { { "Authorization", "Bearer sk-abc" }, 1, SSOPROXY_OK, "sk-abc" },
    { { "authorization", "bearer   sk-abc" }, 1, SSOPROXY_OK, "sk-abc" },
    { { "X-LiteLLM-API-Key", "sk-lit" }, 1, SSOPROXY_OK, "sk-lit" },
    { { "api-key", "sk-azure" }, 1, SSOPROXY_OK, "sk-azure" },
    { { "x-api-key", "Bearer sk-anth" }, 1, SSOPROXY_OK, "sk-anth" },
    /* Authorization first, whatever the order on the wire. */
    { { "x-api-key", "sk-2", "Authorization", "Bearer sk-1" }, 2,
      SSOPROXY_OK, "sk-1" },
    { { "x-api-key", "sk-2", "api-key", "sk-3" }, 2, SSOPROXY_OK, "sk-3" },
    { { "Authorization", "Basic dXNlcjpwYXNz" }, 1, SSOPROXY_PARSE,
      "Malformed API Key passed in. Ensure Key has `Bearer ` prefix." },
    { { "Authorization", "Bearer " }, 1, SSOPROXY_PARSE,
      "No api key passed in." },
    { { "x-api-key", "" }, 1, SSOPROXY_PARSE, "No api key passed in." },
    { { "Cookie", "a=b" }, 1, SSOPROXY_NOTFOUND, "" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoHttpHeader aHdr[2];
    SsoAuthzErr e;
    SsoStr c;
    int n = authzHdrs(aHdr, aCase[i].az, aCase[i].nHdr);
    memset(&e, 0, sizeof(e));
    CHECK_INT( ssoAuthzCredential(aHdr, n, &c, &e), aCase[i].rc );
    if( aCase[i].rc==SSOPROXY_OK ){
      CHECK( c.n==strlen(aCase[i].zCred)
             && memcmp(c.z, aCase[i].zCred, c.n)==0 );
    }else if( aCase[i].rc==SSOPROXY_PARSE ){
      CHECK_INT( e.iStatus, 401 );
      CHECK_STR( e.zType, "auth_error" );
      CHECK_STR( e.zMsg, aCase[i].zCred );
    }else{
      CHECK_INT( e.iStatus, 0 );
    }
  }
}

static void test_authz_key_text(void){
  char zHex[SSO_KEY_HEX], zShow[SSO_KEY_DISPLAY], zMask[16], zKey[SSO_KEY_TEXT];
  char zKey2[SSO_KEY_TEXT], zTime[32];
  SsoRng *pRng = 0;
  size_t i;
  ssoAuthzKeyHash("sk-1234", 7, zHex);
  CHECK_STR( zHex,
    "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b" );
  ssoAuthzKeyDisplay("sk-7shH8TGMAofR4zQpAAo6kQ", 25, zShow);
  CHECK_STR( zShow, "sk-...o6kQ" );
  ssoAuthzKeyDisplay("ab", 2, zShow);
  CHECK_STR( zShow, "sk-...ab" );
  /* What a client sent may be any bytes; what we show is plain text. */
  ssoAuthzKeyDisplay("sk-x\xff\x01 b", 8, zShow);
  CHECK_STR( zShow, "sk-...???b" );
  ssoAuthzMask("0123456789abcdef\xc3\xa9\n", 19, zMask, sizeof(zMask));
  CHECK_STR( zMask, "****f???" );
  ssoAuthzMask("short-secret", 12, zMask, sizeof(zMask));
  CHECK_STR( zMask, "****" );
  ssoAuthzMask("a-much-longer-secret-9876", 25, zMask, sizeof(zMask));
  CHECK_STR( zMask, "****9876" );
  CHECK_INT( ssoRngNew(&pRng), SSOPROXY_OK );
  if( pRng ){
    CHECK_INT( ssoAuthzKeyNew(pRng, zKey), SSOPROXY_OK );
    CHECK_INT( ssoAuthzKeyNew(pRng, zKey2), SSOPROXY_OK );
    /* "sk-" and 256 bits in unpadded base64url: 43 characters. */
    CHECK_INT( strlen(zKey), 46 );
    CHECK( memcmp(zKey, "sk-", 3)==0 );
    for(i=3; i<strlen(zKey); i++){
      CHECK( strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_", zKey[i])!=0 );
    }
    CHECK( strcmp(zKey, zKey2)!=0 );
    ssoRngFree(pRng);
  }
  ssoAuthzTimeText(0, zTime);
  CHECK_STR( zTime, "1970-01-01T00:00:00.000Z" );
  ssoAuthzTimeText(1700000000123LL, zTime);
  CHECK_STR( zTime, "2023-11-14T22:13:20.123Z" );
  ssoAuthzTimeText(-5, zTime);
  CHECK_STR( zTime, "1970-01-01T00:00:00.000Z" );
}

/* ---- Authentication against a store ---- */

typedef struct AuthzFix AuthzFix;
struct AuthzFix {
  SsoStore *pStore;
  SsoAuthz authz;
  SsoArena a;
};

/* Insert a user and a key whose plaintext is zKey (owner NULL: none). */
static void authzFixKey(AuthzFix *f, const char *zKey, const char *zOwner,
                        long long tExpires, int bBlocked){
  SsoKey k;
  char zHex[SSO_KEY_HEX], zShow[SSO_KEY_DISPLAY];
  memset(&k, 0, sizeof(k));
  ssoAuthzKeyHash(zKey, strlen(zKey), zHex);
  ssoAuthzKeyDisplay(zKey, strlen(zKey), zShow);
  k.zHash = zHex;
  k.zDisplay = zShow;
  k.zUserId = zOwner;
  k.tExpires = tExpires;
  k.bBlocked = bBlocked;
  k.zIssuedVia = "api";
  CHECK_INT( ssoStoreKeyInsert(f->pStore, &k), SSOPROXY_OK );
}

static void authzFixUser(AuthzFix *f, const char *zId, const char *zRole,
                         int bDisabled){
  SsoUser u;
  memset(&u, 0, sizeof(u));
  u.zId = zId;
  u.zRole = zRole;
  u.zSource = "local";
  u.bDisabled = bDisabled;
  CHECK_INT( ssoStoreUserInsert(f->pStore, &u), SSOPROXY_OK );
}

/* Authenticate with one header; returns the result, fills *pc and *pe. */
static int authzTry(AuthzFix *f, const char *zName, const char *zValue,
                    SsoCaller *pc, SsoAuthzErr *pe){
  SsoHttpHeader h;
  const char *az[2];
  SsoStr get = { "GET", 3 };
  az[0] = zName;
  az[1] = zValue;
  if( zName ) authzHdrs(&h, az, 1);
  memset(pe, 0, sizeof(*pe));
  return ssoAuthzAuthenticate(&f->authz, f->pStore, get, &h, zName ? 1 : 0,
                              1000000, &f->a, pc, pe);
}

/* The session hook of a later module, faked: cookie "sid=USER". */
static int authzFakeSession(void *pArg, SsoStr method,
                            const SsoHttpHeader *aHdr, int nHdr,
                            SsoStore *pStore, long long tNow,
                            SsoArena *pArena, const char **pzUserId){
  SSO_UNUSED(pArg);
  SSO_UNUSED(method);
  SSO_UNUSED(pStore);
  SSO_UNUSED(tNow);
  if( nHdr!=1 || !ssoHttpStrIEq(aHdr[0].name, "Cookie")
   || aHdr[0].value.n<5 ) return SSOPROXY_NOTFOUND;
  *pzUserId = ssoArenaStrndup(pArena, aHdr[0].value.z+4,
                              aHdr[0].value.n-4);
  return *pzUserId ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

static void test_authz_authenticate(void){
  AuthzFix f;
  SsoCaller c;
  SsoAuthzErr e;
  memset(&f, 0, sizeof(f));
  CHECK_INT( ssoStoreOpen(":memory:", &f.pStore), SSOPROXY_OK );
  ssoArenaInit(&f.a, 0);
  ssoAuthzInit(&f.authz, "sk-master-secret");
  authzFixUser(&f, "alice", "internal_user", 0);
  authzFixUser(&f, "boss", "proxy_admin", 0);
  authzFixUser(&f, "gone", "proxy_admin", 1);
  authzFixKey(&f, "sk-alice", "alice", 0, 0);
  authzFixKey(&f, "sk-boss", "boss", 2000000, 0);
  authzFixKey(&f, "sk-old", "boss", 1000000, 0);     /* Expires now */
  authzFixKey(&f, "sk-stop", "boss", 0, 1);
  authzFixKey(&f, "sk-gone", "gone", 0, 0);
  authzFixKey(&f, "sk-nobody-0001", 0, 0, 0);

  CHECK_INT( authzTry(&f, "Authorization", "Bearer sk-master-secret", &c, &e),
             SSOPROXY_OK );
  CHECK_INT( c.eKind, SSO_CALLER_MASTER );
  CHECK_INT( c.eRole, SSO_ROLE_PROXY_ADMIN );
  CHECK_STR( c.zActor, "master_key" );
  CHECK( c.zUserId==0 );
  /* A prefix or extension of the master key is just an unknown key. */
  CHECK_INT( authzTry(&f, "api-key", "sk-master-secre", &c, &e),
             SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 401 );
  CHECK( strstr(e.zMsg, "Invalid proxy server token passed")!=0 );

  CHECK_INT( authzTry(&f, "x-api-key", "sk-alice", &c, &e), SSOPROXY_OK );
  CHECK_INT( c.eKind, SSO_CALLER_KEY );
  CHECK_INT( c.eRole, SSO_ROLE_INTERNAL_USER );
  CHECK_STR( c.zUserId, "alice" );
  CHECK_STR( c.zActor, "alice" );
  CHECK_STR( c.key.zDisplay, "sk-...lice" );
  CHECK_INT( authzTry(&f, "api-key", "sk-boss", &c, &e), SSOPROXY_OK );
  CHECK_INT( c.eRole, SSO_ROLE_PROXY_ADMIN );

  CHECK_INT( authzTry(&f, "api-key", "sk-old", &c, &e), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "Authentication Error - Expired Key. Key Expiry time "
             "1970-01-01T00:16:40.000Z and current time "
             "1970-01-01T00:16:40.000Z" );
  CHECK_INT( authzTry(&f, "api-key", "sk-stop", &c, &e), SSOPROXY_ERROR );
  CHECK( strstr(e.zMsg, "Key is blocked")!=0 );
  CHECK_INT( authzTry(&f, "api-key", "sk-gone", &c, &e), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "Authentication Error, User gone is disabled." );
  CHECK_INT( authzTry(&f, "api-key", "sk-never", &c, &e), SSOPROXY_ERROR );
  CHECK( strstr(e.zMsg, "Received API Key = sk-...ever")!=0 );
  CHECK_INT( authzTry(&f, "Authorization", "Bearer hunter2-is-my-password",
                      &c, &e), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "LiteLLM Virtual Key expected. Received=****word, "
             "expected to start with 'sk-'." );
  CHECK_INT( authzTry(&f, 0, 0, &c, &e), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "No api key passed in." );

  /* Without an owner a key reads itself only, under a name of its own. */
  CHECK_INT( authzTry(&f, "api-key", "sk-nobody-0001", &c, &e), SSOPROXY_OK );
  CHECK_INT( c.eRole, SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_STR( c.zActor, "key:sk-...0001" );

  /* Sessions plug in through the hook. */
  f.authz.xSession = authzFakeSession;
  CHECK_INT( authzTry(&f, "Cookie", "sid=boss", &c, &e), SSOPROXY_OK );
  CHECK_INT( c.eKind, SSO_CALLER_SESSION );
  CHECK_INT( c.eRole, SSO_ROLE_PROXY_ADMIN );
  CHECK_INT( authzTry(&f, "Cookie", "sid=gone", &c, &e), SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 401 );
  CHECK_INT( authzTry(&f, "Cookie", "sid=ghost", &c, &e), SSOPROXY_ERROR );
  CHECK_INT( authzTry(&f, "Cookie", "x", &c, &e), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "No api key passed in." );

  /* No master key configured: the master key is nothing special. */
  ssoAuthzInit(&f.authz, 0);
  CHECK_INT( authzTry(&f, "Authorization", "Bearer sk-master-secret", &c, &e),
             SSOPROXY_ERROR );
  CHECK_INT( e.iStatus, 401 );
  ssoArenaFree(&f.a);
  ssoStoreClose(f.pStore);
}

/* A message cut short never ends inside a UTF-8 character. */
static void test_authz_message_utf8(void){
  SsoAuthzErr e;
  char zLong[600];
  size_t i, n;
  for(i=0; i+2<sizeof(zLong); i+=2){
    zLong[i] = (char)0xc3;          /* U+00E9, two bytes */
    zLong[i+1] = (char)0xa9;
  }
  zLong[i] = 0;
  for(i=0; i<3; i++){
    memset(&e, 0, sizeof(e));
    ssoAuthzFail(&e, 400, "invalid_request_error", 0, "%.*s%s", (int)i, "ab",
                 zLong);
    n = strlen(e.zMsg);
    CHECK( n>=sizeof(e.zMsg)-3 );
    CHECK( ssoJsonUtf8Valid(e.zMsg, n) );
  }
  memset(&e, 0, sizeof(e));
  CHECK_INT( ssoAuthzFail(&e, 404, "x", "p", "first %d", 1), SSOPROXY_ERROR );
  CHECK_INT( ssoAuthzFail(&e, 500, "y", 0, "second"), SSOPROXY_ERROR );
  CHECK_STR( e.zMsg, "first 1" );     /* The first error wins */
  CHECK_INT( e.iStatus, 404 );
}

static const TestCase aAuthzTests[] = {
  TEST_CASE(test_authz_message_utf8),
  TEST_CASE(test_authz_roles),
  TEST_CASE(test_authz_matrix),
  TEST_CASE(test_authz_may_touch),
  TEST_CASE(test_authz_credential),
  TEST_CASE(test_authz_key_text),
  TEST_CASE(test_authz_authenticate),
};
