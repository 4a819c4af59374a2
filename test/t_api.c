/*
** Tests for src/api.c: durations, requests served in process (no
** sockets), the last-used batch, and allocation failures during key
** creation, which must leave either a whole key with its audit entry or
** nothing at all.
*/

#define API_TEST_MASTER "sk-api-test-master"

static void test_api_duration(void){
  static const struct { const char *z; long long ms; } aOk[] = {
    { "30s", 30000LL }, { "30m", 1800000LL }, { "24h", 86400000LL },
    { "24hr", 86400000LL }, { "30d", 2592000000LL }, { "2w", 1209600000LL },
    { "1mo", 2592000000LL }, { "1y", 31536000000LL }, { "1s", 1000LL },
  };
  static const char *const azBad[] = {
    "", "s", "30", "0d", "30x", "-1d", "3 d", "30D", "d30", "1.5h",
    "30dd", "99999999999s", "101y", "5000000w",
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    long long ms = 0;
    CHECK_INT( ssoApiDuration(aOk[i].z, &ms), SSOPROXY_OK );
    CHECK_INT( ms, aOk[i].ms );
  }
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    long long ms = -7;
    CHECK_INT( ssoApiDuration(azBad[i], &ms), SSOPROXY_PARSE );
    CHECK_INT( ms, -7 );
  }
}

/*
** Serve one request in process with "Authorization: Bearer zCred" (NULL:
** no credential). Returns the status; the answer is in *pOut.
*/
static int apiTestServe(SsoApi *pApi, SsoApiWorker *pW, int eAction,
                        const char *zCred, const char *zQuery,
                        const char *zBody, SsoBuf *pOut, int *pRc){
  SsoHttpHeader h;
  SsoApiCall call;
  char zAuth[128];
  int iStatus = 0;
  memset(&call, 0, sizeof(call));
  call.eAction = eAction;
  if( zCred ){
    snprintf(zAuth, sizeof(zAuth), "Bearer %s", zCred);
    h.name.z = "Authorization";
    h.name.n = 13;
    h.value.z = zAuth;
    h.value.n = strlen(zAuth);
    call.aHdr = &h;
    call.nHdr = 1;
  }
  call.query.z = zQuery ? zQuery : "";
  call.query.n = strlen(call.query.z);
  call.pBody = zBody;
  call.nBody = zBody ? strlen(zBody) : 0;
  ssoBufTruncate(pOut, 0);
  *pRc = ssoApiServe(pApi, pW, &call, pOut, &iStatus);
  return iStatus;
}

/* A text member of the answer, at a dotted path, copied to z[n]. */
static const char *apiTestGet(const SsoBuf *pOut, const char *zPath,
                              char *z, size_t n){
  SsoJsonDoc *pDoc = 0;
  const char *zVal;
  z[0] = 0;
  if( ssoJsonParse(pOut->z, pOut->n, 0, &pDoc, 0)==SSOPROXY_OK ){
    zVal = ssoJsonCStr(ssoJsonGetPath(ssoJsonRoot(pDoc), zPath));
    if( zVal ) snprintf(z, n, "%s", zVal);
  }
  ssoJsonFree(pDoc);
  return z;
}

static void test_api_serve(void){
  SsoApi api;
  SsoApiWorker *pW = 0;
  SsoStore *pStore = 0;
  SsoBuf b;
  char zKey[64], zOther[64], z[256];
  int rc = 0;
  ssoApiInit(&api, API_TEST_MASTER, 0);
  CHECK_INT( ssoStoreOpen(":memory:", &pStore), SSOPROXY_OK );
  CHECK_INT( ssoApiWorkerNew(&api, pStore, &pW), SSOPROXY_OK );
  if( pW==0 ) return;
  ssoBufInit(&b, 0);

  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_NEW, API_TEST_MASTER, 0,
             "{\"user_id\":\"alice\",\"user_role\":\"internal_user\"}", &b,
             &rc), 200 );
  apiTestGet(&b, "key", zKey, sizeof(zKey));
  CHECK_INT( strlen(zKey), 46 );
  CHECK_STR( apiTestGet(&b, "user_role", z, sizeof(z)), "internal_user" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_NEW, API_TEST_MASTER, 0,
             "{\"user_id\":\"bob\"}", &b, &rc), 200 );
  apiTestGet(&b, "key", zOther, sizeof(zOther));

  /* Alice works on her own keys, and only on hers. */
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_GENERATE, zKey, 0,
             "{\"key_alias\":\"mine\"}", &b, &rc), 200 );
  CHECK_STR( apiTestGet(&b, "user_id", z, sizeof(z)), "alice" );
  CHECK_STR( apiTestGet(&b, "created_by", z, sizeof(z)), "alice" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_GENERATE, zKey, 0,
             "{\"user_id\":\"bob\"}", &b, &rc), 403 );
  CHECK_STR( apiTestGet(&b, "error.param", z, sizeof(z)), "user_id" );
  CHECK_STR( apiTestGet(&b, "error.code", z, sizeof(z)), "403" );
  snprintf(z, sizeof(z), "key=%s", zOther);
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_INFO, zKey, z, 0, &b, &rc),
             403 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_LIST, zKey, 0, 0, &b, &rc),
             403 );
  CHECK_STR( apiTestGet(&b, "error.message", z, sizeof(z)),
             "Access denied: /user/list is not allowed for role "
             "internal_user" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_INFO, zKey, 0, 0, &b, &rc),
             200 );
  CHECK_STR( apiTestGet(&b, "info.user_id", z, sizeof(z)), "alice" );

  /* Input errors: status, field, message. */
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_GENERATE, zKey, 0,
             "{\"models\":[\"a\",", &b, &rc), 400 );
  CHECK( strstr(apiTestGet(&b, "error.message", z, sizeof(z)),
                "invalid JSON in the request body at byte 15")!=0 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_UPDATE, zKey, 0, "{}", &b,
             &rc), 422 );
  CHECK_STR( apiTestGet(&b, "error.param", z, sizeof(z)), "key" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_UPDATE, API_TEST_MASTER, 0,
             "{\"user_id\":\"bob\",\"user_role\":\"superuser\"}", &b, &rc),
             400 );
  CHECK_STR( apiTestGet(&b, "error.type", z, sizeof(z)),
             "invalid_request_error" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_INFO, API_TEST_MASTER,
             "user_id=%FFx", 0, &b, &rc), 400 );
  CHECK_STR( apiTestGet(&b, "error.message", z, sizeof(z)),
             "user_id: not valid UTF-8" );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_INFO, "sk-\xff\xfe\xfd\xfc",
             0, 0, &b, &rc), 401 );
  CHECK_INT( rc, SSOPROXY_OK );
  CHECK( strstr(apiTestGet(&b, "error.message", z, sizeof(z)),
                "Received API Key = sk-...????")!=0 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_INFO, 0, 0, 0, &b, &rc),
             401 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_COUNT, API_TEST_MASTER, 0, 0,
             &b, &rc), 500 );

  /* Demoted: the same key is limited at once. */
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_USER_UPDATE, API_TEST_MASTER, 0,
             "{\"user_id\":\"alice\",\"user_role\":\"internal_user_viewer\"}",
             &b, &rc), 200 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_KEY_GENERATE, zKey, 0, "{}", &b,
             &rc), 403 );
  CHECK_INT( apiTestServe(&api, pW, SSO_ACT_AUDIT_LIST, API_TEST_MASTER,
             "object_type=user&object_id=alice", 0, &b, &rc), 200 );
  CHECK_STR( apiTestGet(&b, "audit_logs.0.action", z, sizeof(z)),
             "role_change" );
  CHECK_STR( apiTestGet(&b, "audit_logs.0.before_value.user_role", z,
             sizeof(z)), "internal_user" );
  CHECK_STR( apiTestGet(&b, "audit_logs.0.updated_values.user_role", z,
             sizeof(z)), "internal_user_viewer" );
  ssoBufFree(&b);
  ssoApiWorkerFree(pW);
}

/* The last-used batch: one slot per key, written together, in order. */
static void test_api_touch(void){
  SsoApi api;
  SsoApiWorker *pW = 0;
  SsoStore *pStore = 0;
  SsoArena a;
  SsoKey k;
  char zHex[SSO_KEY_HEX];
  int i;
  ssoApiInit(&api, 0, 0);
  CHECK_INT( ssoStoreOpen(":memory:", &pStore), SSOPROXY_OK );
  CHECK_INT( ssoApiWorkerNew(&api, pStore, &pW), SSOPROXY_OK );
  if( pW==0 ) return;
  ssoArenaInit(&a, 0);
  memset(&k, 0, sizeof(k));
  ssoAuthzKeyHash("sk-t", 4, zHex);
  k.zHash = zHex;
  k.zDisplay = "sk-...sk-t";
  k.zIssuedVia = "api";
  CHECK_INT( ssoStoreKeyInsert(pStore, &k), SSOPROXY_OK );
  for(i=0; i<100; i++) ssoApiWorkerTouch(pW, 0, zHex, 5000+i);
  ssoApiWorkerTouch(pW, 0, zHex, 10);       /* Older: ignored */
  CHECK_INT( pW->nTouch, 1 );
  CHECK_INT( ssoStoreKeyGet(pStore, zHex, &a, &k), SSOPROXY_OK );
  CHECK_INT( k.tLastUsed, 0 );              /* No write per request */
  CHECK_INT( ssoApiWorkerFlush(pW), SSOPROXY_OK );
  CHECK_INT( pW->nTouch, 0 );
  CHECK_INT( ssoStoreKeyGet(pStore, zHex, &a, &k), SSOPROXY_OK );
  CHECK_INT( k.tLastUsed, 5099 );
  /* Keys that no longer exist are skipped; a full table writes itself. */
  for(i=0; i<SSO_API_TOUCH_SLOTS; i++){
    char zFake[SSO_KEY_HEX];
    snprintf(zFake, sizeof(zFake), "%064x", i*2654435761u);
    ssoApiWorkerTouch(pW, 0, zFake, 1);
    CHECK( pW->nTouch<=SSO_API_TOUCH_SLOTS*3/4 );
  }
  CHECK( pW->nTouch<SSO_API_TOUCH_SLOTS );
  ssoArenaFree(&a);
  ssoApiWorkerFree(pW);
}

/* ---- Allocation failures while a key is made ---- */

typedef struct ApiOom ApiOom;
struct ApiOom {
  SsoApi api;
  char zDir[64];
  char zDb[96];
  int iStatus;              /* Status of the last run's answer */
  int nKey;                 /* Keys in the database after the last success */
};

static int apiOomBody(void *pArg){
  ApiOom *p = pArg;
  SsoStore *pStore = 0;
  SsoApiWorker *pW = 0;
  SsoBuf b;
  int rc;
  p->iStatus = 0;
  rc = ssoStoreOpen(p->zDb, &pStore);
  if( rc ){
    ssoStoreClose(pStore);
    return rc;
  }
  rc = ssoApiWorkerNew(&p->api, pStore, &pW);
  if( rc ) return rc;
  ssoBufInit(&b, 0);
  p->iStatus = apiTestServe(&p->api, pW, SSO_ACT_KEY_GENERATE,
                            API_TEST_MASTER, 0,
                            "{\"user_id\":\"alice\",\"models\":[\"m1\"],"
                            "\"metadata\":{\"n\":1},\"duration\":\"1d\"}",
                            &b, &rc);
  if( rc==SSOPROXY_OK && p->iStatus!=200 ) rc = SSOPROXY_ERROR;
  ssoBufFree(&b);
  ssoApiWorkerFree(pW);
  return rc;
}

/*
** After each run: as many keys as key-creation audit entries (never one
** without the other), one more key after a success, none after a
** failure, and a failure only when an allocation failed, answered 500
** or not at all.
*/
static int apiOomCheck(void *pArg, int rc, int bFaulted){
  ApiOom *p = pArg;
  SsoStore *pStore = 0;
  int nKey = -1, nAudit = -2, bOk;
  if( ssoStoreOpen(p->zDb, &pStore)==SSOPROXY_OK ){
    ssoStoreKeyCount(pStore, 0, &nKey);
    ssoStoreAuditCount(pStore, "key", 0, &nAudit);
  }
  ssoStoreClose(pStore);
  bOk = nKey==nAudit;
  if( rc==SSOPROXY_OK ){
    bOk = bOk && nKey==p->nKey+1;
    p->nKey = nKey;
  }else{
    bOk = bOk && bFaulted && nKey==p->nKey
       && (p->iStatus==500 || p->iStatus==0);
  }
  if( !bOk ){
    fprintf(stderr, "  keys %d, audit %d, expected %d; status %d\n", nKey,
            nAudit, p->nKey, p->iStatus);
  }
  return bOk;
}

static void test_api_generate_oom(void){
  ApiOom f;
  SsoStore *pStore = 0;
  SsoUser u;
  int n;
  memset(&f, 0, sizeof(f));
  ssoApiInit(&f.api, API_TEST_MASTER, 0);
  strcpy(f.zDir, "/tmp/ssoproxy-api-XXXXXX");
  if( mkdtemp(f.zDir)==0 ){
    CHECK( 0 );
    return;
  }
  snprintf(f.zDb, sizeof(f.zDb), "%s/oom.db", f.zDir);
  CHECK_INT( ssoStoreOpen(f.zDb, &pStore), SSOPROXY_OK );
  memset(&u, 0, sizeof(u));
  u.zId = "alice";
  u.zRole = "internal_user";
  u.zSource = "local";
  CHECK_INT( ssoStoreUserInsert(pStore, &u), SSOPROXY_OK );
  ssoStoreClose(pStore);
  n = faultRun(apiOomBody, apiOomCheck, &f);
  CHECK( n>200 );
  CHECK( f.nKey>=2 );     /* Some runs survived their fault, one had none */
  if( tst.bVerbose ) fprintf(stderr, "  %d allocation fault points\n", n);
  {
    char z[160];
    static const char *const azExt[] = { "", "-wal", "-shm" };
    size_t i;
    for(i=0; i<SSO_ARRAYSIZE(azExt); i++){
      snprintf(z, sizeof(z), "%s%s", f.zDb, azExt[i]);
      unlink(z);
    }
    rmdir(f.zDir);
  }
}

static const TestCase aApiTests[] = {
  TEST_CASE(test_api_duration),
  TEST_CASE(test_api_serve),
  TEST_CASE(test_api_touch),
  TEST_CASE(test_api_generate_oom),
};
