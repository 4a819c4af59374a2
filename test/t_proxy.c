/*
** Tests for src/proxy.c: the models-file parser (every error with its
** line, under allocation faults too), the body's model scanner, header
** filtering both ways, the usage finder and the SSE scanner (fed split
** at every byte), and the rpm/tpm limiter.
*/

/* Parse z as a models file; *pzErr gets the message on failure. */
static int proxyTestParse(const char *z, SsoProxyTable **pp, char *zErr){
  return ssoProxyTableParse("m.txt", z, strlen(z), 0, 0, pp, zErr, 600);
}

static void test_proxy_models_file(void){
  static const char zFile[] =
    "# a comment\r\n"
    "\n"
    "   \t\n"
    "gpt-4o  https://api.openai.com/v1/  api_key=os.environ/T_PROXY_KEY\r\n"
    "llama   http://127.0.0.1:11434/v1 model=llama3.1:8b timeout_ms=500 "
    "first_byte_timeout_ms=600 idle_timeout_ms=700   # trailing comment\n"
    "same    http://10.0.0.1/v1 model=same\n"
    "z\xc3\xa9   http://[::1]:8000";
  SsoProxyTable *t = 0;
  const SsoProxyModel *m;
  char zErr[600];
  setenv("T_PROXY_KEY", "sk-upstream-1", 1);
  CHECK_INT( proxyTestParse(zFile, &t, zErr), SSOPROXY_OK );
  if( t==0 ) return;
  CHECK_INT( t->nModel, 4 );
  CHECK( t->pDefault==0 );
  CHECK_STR( t->aModel[0].zName, "gpt-4o" );        /* file order */
  CHECK_STR( t->aModel[3].zName, "z\xc3\xa9" );
  m = ssoProxyTableFind(t, "gpt-4o", 6);
  CHECK( m!=0 );
  if( m ){
    CHECK_STR( m->zBase, "https://api.openai.com/v1" );
    CHECK_STR( m->zAuth, "Bearer sk-upstream-1" );
    CHECK( m->zUpName==0 );
    CHECK_INT( m->iLine, 4 );
    CHECK_INT( m->msConnect, 0 );
    CHECK_INT( m->bPlainRemote, 0 );
  }
  m = ssoProxyTableFind(t, "llama", 5);
  CHECK( m!=0 );
  if( m ){
    CHECK_STR( m->zUpName, "llama3.1:8b" );
    CHECK( m->zAuth==0 );
    CHECK_INT( m->msConnect, 500 );
    CHECK_INT( m->msFirstByte, 600 );
    CHECK_INT( m->msIdle, 700 );
    CHECK_INT( m->bPlainRemote, 0 );            /* loopback */
  }
  m = ssoProxyTableFind(t, "same", 4);
  CHECK( m && m->zUpName==0 && m->bPlainRemote );   /* same name: no rewrite */
  CHECK( ssoProxyTableFind(t, "z\xc3\xa9", 3)!=0 );
  CHECK( ssoProxyTableFind(t, "llam", 4)==0 );
  CHECK( ssoProxyTableFind(t, "llama3.1:8b", 11)==0 );
  CHECK( ssoProxyTableFind(t, "", 0)==0 );
  ssoProxyTableRelease(t);
  unsetenv("T_PROXY_KEY");

  /* No file, only the default upstream. */
  CHECK_INT( ssoProxyTableParse(0, 0, 0, "http://127.0.0.1:9/v1/", "k", &t,
                                zErr, sizeof(zErr)), SSOPROXY_OK );
  if( t ){
    CHECK_INT( t->nModel, 0 );
    CHECK( t->pDefault && strcmp(t->pDefault->zBase, "http://127.0.0.1:9/v1")==0 );
    CHECK_STR( t->pDefault->zAuth, "Bearer k" );
    CHECK( ssoProxyTableFind(t, "x", 1)==0 );
    ssoProxyTableRelease(t);
  }
  CHECK_INT( ssoProxyTableParse(0, 0, 0, "ftp://x/v1", 0, &t, zErr,
                                sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "SSOPROXY_UPSTREAM_URL: not an http")!=0 );
  CHECK( t==0 );
}

static void test_proxy_models_errors(void){
  static const struct { const char *zFile; const char *zWant; } a[] = {
    { "a http://h/v1\nonlyname\n", "m.txt:2: expected 'model_name api_base" },
    { "\n\na http://h/v1 colour=red\n", "m.txt:3: unknown option 'colour'" },
    { "a ftp://h/v1\n", "m.txt:1: api_base: not an http:// or https:// URL" },
    { "a /v1\n", "m.txt:1: api_base: not an http" },
    { "a http://u:p@h/v1\n", "m.txt:1: api_base: the URL must not have "
      "credentials" },
    { "a http://h/v1?x=1\n", "m.txt:1: api_base: the URL must not have" },
    { "a http://h/v1 api_key=os.environ/T_PROXY_MISSING\n",
      "m.txt:1: api_key: environment variable T_PROXY_MISSING is not set" },
    { "a http://h/v1 api_key=sk-literal\n", "m.txt:1: api_key must be "
      "os.environ/VARIABLE" },
    { "a http://h/v1\nb http://h/v1\n\na http://g/v1\n",
      "m.txt:4: model 'a' is already defined on line 1" },
    { "a http://h/v1 timeout_ms=0\n", "m.txt:1: timeout_ms: expected "
      "milliseconds" },
    { "a http://h/v1 idle_timeout_ms=1x\n", "m.txt:1: idle_timeout_ms: "
      "expected" },
    { "a http://h/v1 first_byte_timeout_ms=99999999999999999999\n",
      "m.txt:1: first_byte_timeout_ms: expected" },
    { "a http://h/v1 model\n", "m.txt:1: expected name=value, got 'model'" },
    { "a http://h/v1 model=\n", "m.txt:1: model: the upstream model name is "
      "empty" },
    { "a http://h/v1 model=x model=y\n", "m.txt:1: model is given twice" },
    { "a http://h/v1\x01\n", "m.txt:1: control character" },
    { "a\xff http://h/v1\n", "m.txt:1: not valid UTF-8" },
    { "a http://h/v1 1=1 2=2 3=3 4=4 5=5 6=6\n", "m.txt:1: too many words" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(a); i++){
    SsoProxyTable *t = (SsoProxyTable*)&t;
    char zErr[600];
    int rc = proxyTestParse(a[i].zFile, &t, zErr);
    CHECK_INT( rc, SSOPROXY_CONFIG );
    CHECK( t==0 );
    if( strncmp(zErr, a[i].zWant, strlen(a[i].zWant))!=0 ){
      fprintf(stderr, "  case %d: got \"%s\"\n", (int)i, zErr);
      CHECK( 0 );
    }
  }
}

/* A long line, and the largest number of models. */
static void test_proxy_models_limits(void){
  SsoBuf b;
  SsoProxyTable *t = 0;
  char zErr[600];
  int i;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "a http://h/v1 model=");
  for(i=0; i<SSO_PROXY_MAX_LINE; i++) ssoBufAppendChar(&b, 'x');
  CHECK_INT( proxyTestParse(ssoBufStr(&b), &t, zErr), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "m.txt:1: line longer than")!=0 );
  ssoBufTruncate(&b, 0);
  for(i=0; i<=SSO_PROXY_MAX_MODELS; i++) ssoBufPrintf(&b, "m%d http://h/v1\n", i);
  CHECK_INT( proxyTestParse(ssoBufStr(&b), &t, zErr), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, ":10001: more than 10000 models")!=0 );
  ssoBufTruncate(&b, 0);
  for(i=0; i<3000; i++) ssoBufPrintf(&b, "m%d http://h/v1\n", 2999-i);
  CHECK_INT( proxyTestParse(ssoBufStr(&b), &t, zErr), SSOPROXY_OK );
  if( t ){
    for(i=0; i<3000; i++){
      char z[16];
      const SsoProxyModel *m;
      int n = snprintf(z, sizeof(z), "m%d", i);
      m = ssoProxyTableFind(t, z, (size_t)n);
      CHECK( m && m->iLine==3000-i );
    }
    ssoProxyTableRelease(t);
  }
  ssoBufFree(&b);
}

static int proxyOomBody(void *pArg){
  SsoProxyTable *t = 0;
  char zErr[600];
  int rc = ssoProxyTableParse("m.txt", (const char*)pArg,
                              strlen((const char*)pArg), "http://d:1/v1",
                              "dk", &t, zErr, sizeof(zErr));
  if( rc==SSOPROXY_OK ){
    if( t->nModel!=3 || ssoProxyTableFind(t, "b", 1)==0 ) rc = SSOPROXY_ERROR;
    ssoProxyTableRelease(t);
  }else if( t!=0 || strcmp(zErr, "out of memory")!=0 ){
    rc = SSOPROXY_ERROR;
  }
  return rc;
}
static int proxyOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return rc==SSOPROXY_OK || (bFaulted && rc==SSOPROXY_NOMEM);
}

static void test_proxy_models_oom(void){
  static char z[] = "a http://h/v1 model=aa\nb https://g:8/x/ "
                          "timeout_ms=5\nc http://[::1]:9\n";
  CHECK( faultRun(proxyOomBody, proxyOomCheck, z)>5 );
}

static int proxyTestModel(const char *z, const char *zWant, int bWantEsc){
  SsoStr raw;
  int bEsc = -1;
  int rc = ssoProxyBodyModel(z, strlen(z), &raw, &bEsc);
  if( zWant==0 ) return rc;
  if( rc ) return rc;
  if( raw.n!=strlen(zWant) || memcmp(raw.z, zWant, raw.n)!=0 ) return -1;
  if( bEsc!=bWantEsc ) return -2;
  return rc;
}

static void test_proxy_body_model(void){
  CHECK_INT( proxyTestModel("{\"model\":\"gpt-4o\"}", "gpt-4o", 0), 0 );
  CHECK_INT( proxyTestModel(" \n{ \"messages\" : [ {\"role\":\"user\","
             "\"content\":\"the \\\"model\\\":\\\"x\\\" {]\"} ], \"model\" :"
             " \"m1\" , \"n\" : 1.5e3, \"s\":true, \"o\":{\"model\":\"no\"}}"
             "\r\n", "m1", 0), 0 );
  CHECK_INT( proxyTestModel("{\"model\":\"a\\\"b\"}", "a\\\"b", 1), 0 );
  CHECK_INT( proxyTestModel("{\"model\":\"\"}", "", 0), 0 );
  CHECK_INT( proxyTestModel("{}", 0, 0), SSOPROXY_NOTFOUND );
  CHECK_INT( proxyTestModel("{\"x\":1}", 0, 0), SSOPROXY_NOTFOUND );
  CHECK_INT( proxyTestModel("[1]", 0, 0), SSOPROXY_NOTFOUND );
  CHECK_INT( proxyTestModel("", 0, 0), SSOPROXY_NOTFOUND );
  CHECK_INT( proxyTestModel("model=x&y=1", 0, 0), SSOPROXY_NOTFOUND );
  /* Two readers could disagree about which model a body names. */
  CHECK_INT( proxyTestModel("{\"model\":\"a\",\"model\":\"b\"}", 0, 0),
             SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"model\":\"a\",\"\\u006dodel\":\"b\"}", 0, 0),
             SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"mod\\u0065l\":\"b\"}", "b", 0), 0 );
  CHECK_INT( proxyTestModel("{\"model\":7}", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"model\":\"a\"", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"model\":\"a}", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"model\" \"a\"}", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"model\":\"a\"} x", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"a\":[1,{\"b\":2}],}", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{\"a\":}", 0, 0), SSOPROXY_PARSE );
  CHECK_INT( proxyTestModel("{model:1}", 0, 0), SSOPROXY_PARSE );
}

/* The names ssoProxyRequestHeaders keeps, space-separated, lower case. */
static void proxyTestKept(const char *const *az, int n, char *zOut){
  SsoHttpHeader aIn[32], aOut[32];
  int i, k;
  for(i=0; i<n; i++){
    const char *zColon = strchr(az[i], ':');
    aIn[i].name.z = az[i];
    aIn[i].name.n = (size_t)(zColon - az[i]);
    aIn[i].value.z = zColon+1;
    aIn[i].value.n = strlen(zColon+1);
  }
  k = ssoProxyRequestHeaders(aIn, n, aOut);
  zOut[0] = 0;
  for(i=0; i<k; i++){
    size_t j, m = strlen(zOut);
    if( i ) zOut[m++] = ' ';
    for(j=0; j<aOut[i].name.n; j++){
      zOut[m++] = (char)(aOut[i].name.z[j] | 0x20);
    }
    zOut[m] = 0;
  }
}

static void test_proxy_request_headers(void){
  static const char *const az[] = {
    "Host:x", "Authorization:Bearer sk-client", "x-api-key:k", "API-Key:k",
    "x-litellm-api-key:k", "Cookie:s=1", "Proxy-Authorization:b",
    "Connection:keep-alive, X-Secret", "Keep-Alive:5", "TE:trailers",
    "Trailer:x", "Transfer-Encoding:chunked", "Upgrade:h2c",
    "Proxy-Connection:x", "Content-Length:3", "Expect:100-continue",
    "X-Secret:hop", "X-Forwarded-User:admin", "x-forwarded-email:a@b",
    "X-Auth-Request-User:admin", "X-Auth-Request-Groups:g",
    "Remote-User:root", "X-Ssoproxy-User:admin", "X-SSOPROXY-ROLE:proxy_admin",
    "X-Request-Id:1", "Accept-Encoding:gzip",
    "Content-Type:application/json", "Accept:text/event-stream",
    "OpenAI-Beta:assistants=v2", "X-Test:1", "User-Agent:t"
  };
  char z[512];
  proxyTestKept(az, (int)SSO_ARRAYSIZE(az), z);
  CHECK_STR( z, "content-type accept openai-beta x-test user-agent" );
}

static void test_proxy_response_headers(void){
  static const char *const az[] = {
    "Content-Type:text/event-stream", "Connection:close, X-Hop",
    "X-Hop:1", "Keep-Alive:5", "Transfer-Encoding:chunked",
    "Content-Length:5", "Date:now", "X-Request-Id:u", "Set-Cookie:a=1",
    "Proxy-Thing:1", "Cache-Control:no-cache", "X-Upstream:a",
    "openai-processing-ms:12"
  };
  SsoHttpHeader a[16];
  int i, n = (int)SSO_ARRAYSIZE(az);
  char z[512] = "";
  for(i=0; i<n; i++){
    const char *zColon = strchr(az[i], ':');
    a[i].name.z = az[i];
    a[i].name.n = (size_t)(zColon - az[i]);
    a[i].value.z = zColon+1;
    a[i].value.n = strlen(zColon+1);
  }
  for(i=0; i<n; i++){
    if( ssoProxyResponseHeaderOk(a, n, i) ){
      strncat(z, a[i].name.z, a[i].name.n);
      strcat(z, " ");
    }
  }
  CHECK_STR( z, "Content-Type Cache-Control X-Upstream openai-processing-ms " );
}

static void test_proxy_usage_find(void){
  long long a = -1, b = -1;
  const char *z;
  z = "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,"
      "\"total_tokens\":15}}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 1 );
  CHECK_INT( a, 12 );
  CHECK_INT( b, 3 );
  /* Embeddings: no completion tokens. */
  z = "{\"data\":[],\"usage\" : {\"prompt_tokens\":8,\"total_tokens\":8}}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 1 );
  CHECK_INT( a, 8 );
  CHECK_INT( b, 0 );
  /* The Responses API's names, nested; the last "usage" wins. */
  z = "{\"type\":\"response.completed\",\"response\":{\"usage\":"
      "{\"input_tokens\":1,\"output_tokens\":2},\"x\":{\"usage\":"
      "{\"input_tokens\":21,\"output_tokens\":22,\"output_tokens_details\":"
      "{\"reasoning_tokens\":0}}}}}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 1 );
  CHECK_INT( a, 21 );
  CHECK_INT( b, 22 );
  /* Words in content are not usage. */
  z = "{\"content\":\"the \\\"usage\\\": {\\\"prompt_tokens\\\":9}\"}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 0 );
  z = "{\"usage\":null}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 0 );
  z = "{\"usage\":{\"prompt_tokens\":-1}}";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 0 );
  z = "{\"usage\":{\"prompt_tokens\":1";
  CHECK_INT( ssoProxyUsageFind(z, strlen(z), &a, &b), 0 );
  CHECK_INT( ssoProxyUsageFind("", 0, &a, &b), 0 );
}

static const char zProxySse[] =
  ": keep-alive comment\r\n"
  "event: message\n"
  "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":{}\"}}]}\n\n"
  "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,"
  "\"completion_tokens\":13}}\r\n\r\n"
  "data: [DONE]\n\n";

static void test_proxy_sse(void){
  size_t n = sizeof(zProxySse)-1, i, j;
  /* Whole, then split in two at every byte, then byte by byte. */
  for(i=0; i<=n; i++){
    SsoProxySse s;
    ssoProxySseInit(&s);
    ssoProxySseFeed(&s, zProxySse, i);
    ssoProxySseFeed(&s, zProxySse+i, n-i);
    CHECK_INT( s.bUsage, 1 );
    CHECK_INT( s.nPrompt, 11 );
    CHECK_INT( s.nCompl, 13 );
    CHECK( s.line.n==0 );
    ssoProxySseFree(&s);
  }
  {
    SsoProxySse s;
    ssoProxySseInit(&s);
    for(j=0; j<n; j++) ssoProxySseFeed(&s, zProxySse+j, 1);
    CHECK_INT( s.bUsage, 1 );
    CHECK_INT( s.nCompl, 13 );
    ssoProxySseFree(&s);
  }
}

/* Long lines are skipped without holding them; the next line counts. */
static void test_proxy_sse_long(void){
  SsoProxySse s;
  SsoBuf b;
  size_t i;
  const char *zTail = "data: {\"usage\":{\"prompt_tokens\":1,"
                      "\"completion_tokens\":2}}\n";
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "data: {\"x\":\"");
  for(i=0; i<3*SSO_PROXY_SSE_LINE; i++) ssoBufAppendChar(&b, 'y');
  ssoBufAppendStr(&b, "\",\"usage\":{\"prompt_tokens\":5}}\n");
  ssoProxySseInit(&s);
  for(i=0; i<b.n; i+=1000){
    ssoProxySseFeed(&s, b.z+i, b.n-i<1000 ? b.n-i : 1000);
    CHECK( s.line.n<=SSO_PROXY_SSE_LINE );
  }
  CHECK_INT( s.bUsage, 0 );
  ssoProxySseFeed(&s, zTail, 10);
  ssoProxySseFeed(&s, zTail+10, strlen(zTail)-10);
  CHECK_INT( s.bUsage, 1 );
  CHECK_INT( s.nPrompt, 1 );
  CHECK_INT( s.nCompl, 2 );
  /* A non-data line is dropped as soon as its start shows it. */
  ssoProxySseFeed(&s, "event: something rather long", 28);
  CHECK_INT( (long long)s.line.n, 0 );
  ssoProxySseFeed(&s, "\n", 1);
  ssoProxySseFree(&s);
  ssoBufFree(&b);
}

static void test_proxy_limiter(void){
  SsoProxyLimiter *p = 0;
  const char *zA = "aaaa000000000000000000000000000000000000000000000000000000000000";
  const char *zB = "aaaa000000000000000000000000000000000000000000000000000000000001";
  long long t = 1000000;
  int nRetry = 0, i;
  CHECK_INT( ssoProxyLimiterNew(&p), SSOPROXY_OK );
  if( p==0 ) return;
  /* rpm 3: three pass, the fourth waits for the window's end. */
  for(i=0; i<3; i++) CHECK_INT( ssoProxyLimitTake(p, zA, 3, 0, t+i, &nRetry), 0 );
  CHECK_INT( ssoProxyLimitTake(p, zA, 3, 0, t+10500, &nRetry), 1 );
  CHECK_INT( nRetry, 50 );
  /* Another key (same first slot) is counted apart. */
  CHECK_INT( ssoProxyLimitTake(p, zB, 3, 0, t, &nRetry), 0 );
  CHECK_INT( ssoProxyLimitTake(p, zA, 3, 0, t+59999, &nRetry), 1 );
  CHECK_INT( nRetry, 1 );
  /* The next window starts afresh. */
  CHECK_INT( ssoProxyLimitTake(p, zA, 3, 0, t+60000, &nRetry), 0 );
  /* No limit: never counted, never refused. */
  for(i=0; i<10; i++) CHECK_INT( ssoProxyLimitTake(p, zA, 0, 0, t, &nRetry), 0 );
  /* tpm: refused once the tokens reported reach the limit. */
  CHECK_INT( ssoProxyLimitTake(p, zB, 0, 100, t+120000, &nRetry), 0 );
  ssoProxyLimitTokens(p, zB, 60, t+120001);
  CHECK_INT( ssoProxyLimitTake(p, zB, 0, 100, t+120002, &nRetry), 0 );
  ssoProxyLimitTokens(p, zB, 40, t+120003);
  CHECK_INT( ssoProxyLimitTake(p, zB, 0, 100, t+130000, &nRetry), 2 );
  CHECK_INT( nRetry, 50 );
  CHECK_INT( ssoProxyLimitTake(p, zB, 0, 100, t+180000, &nRetry), 0 );
  ssoProxyLimiterFree(p);
}

/* More keys than slots: stale windows are reused; live ones fail open. */
static void test_proxy_limiter_full(void){
  SsoProxyLimiter *p = 0;
  char z[SSO_KEY_HEX];
  int i, nRetry = 0;
  CHECK_INT( ssoProxyLimiterNew(&p), SSOPROXY_OK );
  if( p==0 ) return;
  for(i=0; i<SSO_PROXY_LIMIT_SLOTS; i++){
    snprintf(z, sizeof(z), "%08x%056d", (unsigned)i*2654435761u, 0);
    CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 1000, &nRetry), 0 );
  }
  snprintf(z, sizeof(z), "%064d", 7);
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 1000, &nRetry), 0 );
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 1000, &nRetry), 0 );  /* open */
  /* Two windows later every slot is stale: the key is limited again. */
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 200000, &nRetry), 0 );
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 200001, &nRetry), 1 );
  snprintf(z, sizeof(z), "%08x%056d", 0u, 0);
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 200002, &nRetry), 0 );
  CHECK_INT( ssoProxyLimitTake(p, z, 1, 0, 200003, &nRetry), 1 );
  ssoProxyLimiterFree(p);
}

static const TestCase aProxyTests[] = {
  TEST_CASE(test_proxy_models_file),
  TEST_CASE(test_proxy_models_errors),
  TEST_CASE(test_proxy_models_limits),
  TEST_CASE(test_proxy_models_oom),
  TEST_CASE(test_proxy_body_model),
  TEST_CASE(test_proxy_request_headers),
  TEST_CASE(test_proxy_response_headers),
  TEST_CASE(test_proxy_usage_find),
  TEST_CASE(test_proxy_sse),
  TEST_CASE(test_proxy_sse_long),
  TEST_CASE(test_proxy_limiter),
  TEST_CASE(test_proxy_limiter_full),
};
