/*
** Tests for src/fauth.c: the groups of a session, the X-Auth-Request-*
** fields, the allowed_* filters, return-to validation, the userinfo
** shape, and who a request is, against a real store. The routes
** themselves, behind a real nginx, are in test/fauth.sh.
*/

/* An identity like a signed-in user's. */
static void fauthTestId(SsoFauthId *p){
  memset(p, 0, sizeof(*p));
  p->eKind = SSO_CALLER_SESSION;
  p->zUser = "alice";
  p->zEmail = "Alice@Example.com";
  p->zName = "Alice A.";
  p->zRole = "internal_user";
  p->zGroups = "devs,ops";
}

static void test_fauth_groups(void){
  SsoArena a;
  const char *z = 0;
  SsoBuf b;
  int i;
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoFauthGroups("{\"groups\":[\"devs\",\"a,b\",\"\",\"x\\ny\","
                            "5,null,\"ops\",\"\u00e9quipe\"],\"via\":\"sso\"}",
                            &a, &z), SSOPROXY_OK );
  /* Commas, control bytes, empty names and non-strings cannot travel in
  ** a comma-joined field: left out; UTF-8 stays. */
  CHECK_STR( z, "devs,ops,\u00e9quipe" );
  CHECK_INT( ssoFauthGroups(0, &a, &z), SSOPROXY_OK );
  CHECK_STR( z, "" );
  CHECK_INT( ssoFauthGroups("{}", &a, &z), SSOPROXY_OK );
  CHECK_STR( z, "" );
  CHECK_INT( ssoFauthGroups("not json", &a, &z), SSOPROXY_OK );
  CHECK_STR( z, "" );
  CHECK_INT( ssoFauthGroups("{\"groups\":\"devs\"}", &a, &z), SSOPROXY_OK );
  CHECK_STR( z, "" );
  /* Too many groups: whole names up to the cap, never a cut one. */
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{\"groups\":[");
  for(i=0; i<1000; i++) ssoBufPrintf(&b, "%s\"group-%04d\"", i ? "," : "", i);
  ssoBufAppendStr(&b, "]}");
  CHECK_INT( b.rc, SSOPROXY_OK );
  CHECK_INT( ssoFauthGroups(b.z, &a, &z), SSOPROXY_OK );
  CHECK( strlen(z)<=SSO_FAUTH_MAX_GROUPS );
  CHECK( strlen(z)>SSO_FAUTH_MAX_GROUPS-11 );
  CHECK( strncmp(z, "group-0000,group-0001,", 22)==0 );
  CHECK_INT( (strlen(z)+1) % 11, 0 );       /* "group-NNNN," each */
  ssoBufFree(&b);
  ssoArenaFree(&a);
}

static int fauthOomGroups(void *pArg){
  SsoArena a;
  const char *z = 0;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoFauthGroups((const char*)pArg, &a, &z);
  if( rc==SSOPROXY_OK && strcmp(z, "a,b")!=0 ) rc = SSOPROXY_ERROR;
  ssoArenaFree(&a);
  return rc;
}
static int fauthOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? (rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM)
                  : rc==SSOPROXY_OK;
}

static void test_fauth_groups_oom(void){
  static char zData[] = "{\"groups\":[\"a\",\"b\"]}";
  CHECK( faultRun(fauthOomGroups, fauthOomCheck, zData)>=3 );
}

static void test_fauth_headers(void){
  const char *azN[SSO_FAUTH_NHEADER], *azV[SSO_FAUTH_NHEADER];
  SsoFauthId id;
  fauthTestId(&id);
  CHECK_INT( ssoFauthHeaders(&id, azN, azV), 5 );
  CHECK_STR( azN[0], "X-Auth-Request-User" );
  CHECK_STR( azV[0], "alice" );
  CHECK_STR( azN[1], "X-Auth-Request-Email" );
  CHECK_STR( azV[1], "Alice@Example.com" );
  CHECK_STR( azN[2], "X-Auth-Request-Groups" );
  CHECK_STR( azV[2], "devs,ops" );
  CHECK_STR( azN[3], "X-Auth-Request-Preferred-Username" );
  CHECK_STR( azV[3], "Alice A." );
  CHECK_STR( azN[4], "X-Auth-Request-Role" );
  CHECK_STR( azV[4], "internal_user" );
  /* Fields without a value are not sent at all. */
  id.zEmail = 0;
  id.zGroups = "";
  CHECK_INT( ssoFauthHeaders(&id, azN, azV), 3 );
  CHECK_STR( azN[0], "X-Auth-Request-User" );
  CHECK_STR( azN[1], "X-Auth-Request-Preferred-Username" );
  CHECK_STR( azN[2], "X-Auth-Request-Role" );
}

/* 1 allowed, 0 refused, -rc on an error. */
static int fauthTestAllowed(const SsoFauthId *p, const char *zQuery){
  SsoArena a;
  int bAllow = 7, rc;
  ssoArenaInit(&a, 0);
  rc = ssoFauthAllowed(p, zQuery, strlen(zQuery), &a, &bAllow);
  ssoArenaFree(&a);
  return rc ? -rc : bAllow;
}

static void test_fauth_filters(void){
  SsoFauthId id;
  fauthTestId(&id);
  CHECK_INT( fauthTestAllowed(&id, ""), 1 );
  CHECK_INT( fauthTestAllowed(&id, "unrelated=1"), 1 );
  /* Groups: any one of the caller's, exact names only. */
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=admins,ops"), 1 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=admins"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=dev,op,devsops"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=DEVS"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=admins&allowed_groups=devs"),
             1 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=admins%2Cdevs"), 1 );
  /* An empty list names no one: fail closed. */
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups="), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=,"), 0 );
  /* Roles. */
  CHECK_INT( fauthTestAllowed(&id, "allowed_roles=proxy_admin"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_roles=proxy_admin,internal_user"),
             1 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_roles=internal"), 0 );
  /* Every filter given must match. */
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=devs&allowed_roles="
                              "proxy_admin"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=devs&allowed_roles="
                              "internal_user"), 1 );
  /* E-mail and domain, without ASCII case. */
  CHECK_INT( fauthTestAllowed(&id, "allowed_emails=bob@example.com,"
                              "alice@example.COM"), 1 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_emails=alice@example.co"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_email_domains=example.com"), 1 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_email_domains=ample.com"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_email_domains=sub.example.com"),
             0 );
  /* No groups, no e-mail: group and e-mail filters refuse. */
  id.zGroups = "";
  id.zEmail = 0;
  CHECK_INT( fauthTestAllowed(&id, "allowed_groups=devs"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_emails=alice@example.com"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_email_domains=example.com"), 0 );
  CHECK_INT( fauthTestAllowed(&id, "allowed_roles=internal_user"), 1 );
  /* A malformed query is an error (nginx turns it into a 500). */
  CHECK_INT( fauthTestAllowed(&id, "allowed_roles=%zz"), -SSOPROXY_PARSE );
}

/* The return-to target for a query and an optional redirect field. */
static const char *fauthTestRd(SsoArena *a, const char *zQuery,
                                const char *zHdr){
  SsoHttpHeader h[2];
  int n = 0;
  h[n].name.z = "Host"; h[n].name.n = 4;
  h[n].value.z = "app.example"; h[n].value.n = 11;
  n++;
  if( zHdr ){
    h[n].name.z = "x-auth-request-redirect"; h[n].name.n = 23;
    h[n].value.z = zHdr; h[n].value.n = strlen(zHdr);
    n++;
  }
  return ssoFauthReturnTo(zQuery, strlen(zQuery), h, n, a);
}

static void test_fauth_return_to(void){
  SsoArena a;
  ssoArenaInit(&a, 0);
  CHECK_STR( fauthTestRd(&a, "rd=/app/page", 0), "/app/page" );
  CHECK_STR( fauthTestRd(&a, "rd=%2Fa%3Fb%3D1%26c%3D2", 0), "/a?b=1&c=2" );
  CHECK_STR( fauthTestRd(&a, "x=1&rd=/", 0), "/" );
  /* Other sites, in every disguise: refused (the caller uses "/"). */
  CHECK( fauthTestRd(&a, "rd=//evil.example/", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=%2F%2Fevil.example", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=/%5Cevil.example", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=https://evil.example/", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=https://app.example/", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=javascript:alert(1)", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=/a%0d%0aSet-Cookie:x", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=%zz", 0)==0 );
  /* rd twice: two readers could pick different ones. */
  CHECK( fauthTestRd(&a, "rd=/a&rd=/b", 0)==0 );
  /* The oauth2-proxy field when there is no rd; rd wins when present,
  ** even when refused. */
  CHECK_STR( fauthTestRd(&a, "", "/from/nginx?x=1"), "/from/nginx?x=1" );
  CHECK_STR( fauthTestRd(&a, "rd=/q", "/h"), "/q" );
  CHECK( fauthTestRd(&a, "rd=//evil", "/h")==0 );
  CHECK( fauthTestRd(&a, "", "//evil.example")==0 );
  CHECK( fauthTestRd(&a, "", 0)==0 );
  /* Never back into /oauth2/ (nginx's recipe names sign_out itself). */
  CHECK( fauthTestRd(&a, "", "/oauth2/sign_out")==0 );
  CHECK( fauthTestRd(&a, "rd=/oauth2/start", 0)==0 );
  CHECK( fauthTestRd(&a, "rd=/oauth2", 0)==0 );
  CHECK_STR( fauthTestRd(&a, "rd=/oauth2x/y", 0), "/oauth2x/y" );
  ssoArenaFree(&a);
}

static void test_fauth_userinfo(void){
  SsoFauthId id;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *r, *g;
  SsoBuf b;
  fauthTestId(&id);
  ssoBufInit(&b, 0);
  ssoFauthUserinfo(&id, &b);
  CHECK_INT( b.rc, SSOPROXY_OK );
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, 0), SSOPROXY_OK );
  r = ssoJsonRoot(pDoc);
  CHECK_STR( ssoJsonCStr(ssoJsonGet(r, "user")), "alice" );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(r, "user_id")), "alice" );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(r, "email")), "Alice@Example.com" );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(r, "preferredUsername")), "Alice A." );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(r, "role")), "internal_user" );
  g = ssoJsonGet(r, "groups");
  CHECK_INT( ssoJsonCount(g), 2 );
  CHECK_STR( ssoJsonCStr(ssoJsonAt(g, 0)), "devs" );
  CHECK_STR( ssoJsonCStr(ssoJsonAt(g, 1)), "ops" );
  ssoJsonFree(pDoc);
  /* No e-mail: null; no groups: []. */
  id.zEmail = 0;
  id.zGroups = "";
  ssoBufTruncate(&b, 0);
  ssoFauthUserinfo(&id, &b);
  CHECK( strstr(b.z, "\"email\":null")!=0 );
  CHECK( strstr(b.z, "\"groups\":[]")!=0 );
  ssoBufFree(&b);
}

/* A request carrying one header, as the server would hand it over. */
static void fauthTestReq(SsoServerReq *req, SsoHttpHeader *h,
                         SsoApiWorker *pW, const char *zName,
                         const char *zValue){
  memset(req, 0, sizeof(*req));
  h->name.z = zName; h->name.n = strlen(zName);
  h->value.z = zValue; h->value.n = strlen(zValue);
  req->aHdr = h;
  req->nHdr = zName[0] ? 1 : 0;
  req->pWorkerCtx = pW;
}

static void test_fauth_identify(void){
  SsoApi api;
  SsoStore *pStore = 0;
  SsoApiWorker *pW = 0;
  SsoFauth f;
  SsoServerReq req;
  SsoHttpHeader h;
  SsoFauthId id;
  SsoArena a;
  SsoUser u;
  SsoKey k;
  char zHash[SSO_KEY_HEX], zHash2[SSO_KEY_HEX], zBearer[80];
  static const char zKey[] = "sk-fauthtestkeyfauthtestkeyfauthtestkey01";
  static const char zKey2[] = "sk-fauthtestkeyfauthtestkeyfauthtestkey02";
  long long tNow = ssoOsNowMs();
  ssoApiInit(&api, "sk-master-for-fauth", 0);
  memset(&f, 0, sizeof(f));
  f.pApi = &api;
  CHECK_INT( ssoStoreOpen(":memory:", &pStore), SSOPROXY_OK );
  CHECK_INT( ssoApiWorkerNew(&api, pStore, &pW), SSOPROXY_OK );
  if( pW==0 ) return;
  memset(&u, 0, sizeof(u));
  u.zId = "bob"; u.zEmail = "bob@example.com"; u.zRole = "proxy_admin_viewer";
  u.zSource = "local";
  CHECK_INT( ssoStoreUserInsert(pStore, &u), SSOPROXY_OK );
  ssoAuthzKeyHash(zKey, strlen(zKey), zHash);
  ssoAuthzKeyHash(zKey2, strlen(zKey2), zHash2);
  memset(&k, 0, sizeof(k));
  k.zHash = zHash; k.zDisplay = "sk-...ey01"; k.zUserId = "bob";
  k.zIssuedVia = "api";
  CHECK_INT( ssoStoreKeyInsert(pStore, &k), SSOPROXY_OK );
  k.zHash = zHash2; k.zDisplay = "sk-...ey02"; k.bBlocked = 1;
  CHECK_INT( ssoStoreKeyInsert(pStore, &k), SSOPROXY_OK );
  ssoArenaInit(&a, 0);

  /* A valid key: its owner, with no display name the id is the name. */
  snprintf(zBearer, sizeof(zBearer), "Bearer %s", zKey);
  fauthTestReq(&req, &h, pW, "Authorization", zBearer);
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_OK );
  CHECK_INT( id.eKind, SSO_CALLER_KEY );
  CHECK_STR( id.zUser, "bob" );
  CHECK_STR( id.zEmail, "bob@example.com" );
  CHECK_STR( id.zName, "bob" );
  CHECK_STR( id.zRole, "proxy_admin_viewer" );
  CHECK_STR( id.zGroups, "" );
  /* LiteLLM's other key headers work too. */
  fauthTestReq(&req, &h, pW, "x-api-key", zKey);
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_OK );
  CHECK_STR( id.zUser, "bob" );
  /* Blocked, unknown, not-a-key, no credential: nobody. */
  fauthTestReq(&req, &h, pW, "x-api-key", zKey2);
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );
  fauthTestReq(&req, &h, pW, "Authorization", "Bearer sk-nosuchkey");
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );
  fauthTestReq(&req, &h, pW, "Authorization", "Basic YWxpY2U6eA==");
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );
  fauthTestReq(&req, &h, pW, "", "");
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );
  /* A spoofed identity field is not a credential. */
  fauthTestReq(&req, &h, pW, "X-Auth-Request-User", "bob");
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );
  /* The master key: proxy_admin. */
  fauthTestReq(&req, &h, pW, "Authorization", "Bearer sk-master-for-fauth");
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_OK );
  CHECK_INT( id.eKind, SSO_CALLER_MASTER );
  CHECK_STR( id.zUser, "master_key" );
  CHECK_STR( id.zRole, "proxy_admin" );
  /* Disabling the owner refuses the key on the next request. */
  u.bDisabled = 1;
  CHECK_INT( ssoStoreUserUpdate(pStore, &u), SSOPROXY_OK );
  fauthTestReq(&req, &h, pW, "x-api-key", zKey);
  CHECK_INT( fauthIdentify(&f, &req, tNow, &a, &id), SSOPROXY_NOTFOUND );

  ssoArenaFree(&a);
  ssoApiWorkerFree(pW);
}

static const TestCase aFauthTests[] = {
  TEST_CASE(test_fauth_groups),
  TEST_CASE(test_fauth_groups_oom),
  TEST_CASE(test_fauth_headers),
  TEST_CASE(test_fauth_filters),
  TEST_CASE(test_fauth_return_to),
  TEST_CASE(test_fauth_userinfo),
  TEST_CASE(test_fauth_identify),
};
