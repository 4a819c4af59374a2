/*
** Tests for the oauth module's pure parts: the redirect-URI rules (every
** allowed and refused class), PKCE S256 against RFC 7636 Appendix B,
** verifier and challenge syntax, device user codes (alphabet, format,
** normalisation), query appending for redirects, comma lists and CORS
** decisions, and the start-up checks of the allow-list settings.
*/

static int oauthDest(const char *zSchemes, const char *zUris, const char *z){
  char zWhy[256];
  zWhy[0] = 0;
  return ssoOauthRedirectCheck(zSchemes, zUris, z, strlen(z), zWhy,
                               sizeof(zWhy));
}

static void test_oauth_redirect_allowed(void){
  static const struct { const char *z; int eKind; } aOk[] = {
    /* Loopback IP literals over http, any port (RFC 8252 §7.3) */
    { "http://127.0.0.1:51423/callback", SSO_OAUTH_DEST_LOOPBACK },
    { "http://127.0.0.1/cb", SSO_OAUTH_DEST_LOOPBACK },
    { "http://127.9.8.7:1/", SSO_OAUTH_DEST_LOOPBACK },
    { "http://[::1]:8080/cb?x=1", SSO_OAUTH_DEST_LOOPBACK },
    /* The seed PR's IDE schemes with an extension id and a path */
    { "vscode://RooVeterinaryInc.roo-cline/openrouter", SSO_OAUTH_DEST_SCHEME },
    { "vscode-insiders://saoudrizwan.claude-dev/openrouter",
      SSO_OAUTH_DEST_SCHEME },
    { "cursor://ext.id/callback", SSO_OAUTH_DEST_SCHEME },
    { "vscodium://a.b/c", SSO_OAUTH_DEST_SCHEME },
    { "code-oss://a.b/c", SSO_OAUTH_DEST_SCHEME },
    { "zed://ext/cb", SSO_OAUTH_DEST_SCHEME },
    { "VSCODE://ext/cb", SSO_OAUTH_DEST_SCHEME },
    /* The lax ones: a host or a path */
    { "github-desktop://oauth", SSO_OAUTH_DEST_SCHEME },
    { "fork:/callback", SSO_OAUTH_DEST_SCHEME },
    /* A setting's scheme */
    { "myide://x/cb", SSO_OAUTH_DEST_SCHEME },
    /* Exactly listed https */
    { "https://app.example.com/cb", SSO_OAUTH_DEST_LISTED },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    int e = oauthDest("myide, other", "https://app.example.com/cb", aOk[i].z);
    if( e!=aOk[i].eKind ) fprintf(stderr, "  %s -> %d\n", aOk[i].z, e);
    CHECK_INT(e, aOk[i].eKind);
  }
}

static void test_oauth_redirect_refused(void){
  static const char *const azBad[] = {
    "", "javascript:alert(1)", "JavaScript://x/%0aalert(1)", "data:text/html,x",
    "file:///etc/passwd", "ftp://127.0.0.1/x", "vbscript:x", "about:blank",
    "not-a-uri", "/relative/path", "//evil.example/cb",
    /* https not listed, or only almost */
    "https://evil.example/cb", "https://app.example.com/cb/",
    "https://app.example.com/cb?x=1", "https://APP.example.com:443/cb#",
    "https://app.example.com.evil.example/cb",
    /* http beyond loopback literals (RFC 8252 §8.3: not even localhost) */
    "http://localhost:1234/cb", "http://evil.example/cb",
    "http://127.0.0.1.evil.example/cb", "http://[::ffff:127.0.0.1]/cb",
    "http://2130706433/cb", "http://127.1/cb", "http://0x7f.0.0.1/cb",
    "http://10.0.0.1/cb",
    /* fragments and user-info tricks */
    "http://127.0.0.1:1/cb#frag", "http://127.0.0.1:1/cb#",
    "vscode://a.b/cb#x", "http://evil.example@127.0.0.1/cb",
    "http://127.0.0.1@evil.example/cb", "vscode://user@a.b/cb",
    /* control bytes and spaces */
    "http://127.0.0.1/cb\r\nSet-Cookie: x=1", "vscode://a.b/c\n",
    "vscode://a.b/c d", "http://127.0.0.1/\tcb", "vscode://a.b/\xc3\xa9",
    "http://127.0.0.1\\@evil.example/",
    /* IDE schemes without authority or path (the PR's format rule) */
    "vscode://", "vscode://ext", "vscode:/path-only", "cursor:", "zed://ext",
    "github-desktop:", "github-desktop://",
    /* unknown schemes */
    "evilide://x/cb", "vscodex://a.b/c", "myidex://x/cb",
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    int e = oauthDest("myide", "https://app.example.com/cb", azBad[i]);
    if( e ) fprintf(stderr, "  accepted: %s\n", azBad[i]);
    CHECK_INT(e, 0);
  }
}

static void test_oauth_redirect_limits(void){
  char zWhy[256];
  char *z = ssoMalloc(SSO_OAUTH_MAX_REDIRECT+2);
  size_t n = 0;
  CHECK( z!=0 );
  if( z==0 ) return;
  memcpy(z, "http://127.0.0.1/", 17);
  n = 17;
  while( n<SSO_OAUTH_MAX_REDIRECT ) z[n++] = 'a';
  z[n] = 0;
  CHECK_INT(ssoOauthRedirectCheck(0, 0, z, n, zWhy, sizeof(zWhy)),
            SSO_OAUTH_DEST_LOOPBACK);
  z[n++] = 'a';
  z[n] = 0;
  CHECK_INT(ssoOauthRedirectCheck(0, 0, z, n, zWhy, sizeof(zWhy)), 0);
  CHECK( strstr(zWhy, "longer")!=0 );
  ssoFree(z);
  /* The reason names the rule, for the 400 page. */
  CHECK_INT(ssoOauthRedirectCheck(0, 0, "https://x.example/", 18, zWhy,
                                  sizeof(zWhy)), 0);
  CHECK( strstr(zWhy, "SSOPROXY_ALLOWED_REDIRECT_URIS")!=0 );
  /* An embedded NUL never passes as a shorter string. */
  CHECK_INT(ssoOauthRedirectCheck(0, 0, "http://127.0.0.1/\0x", 19, zWhy,
                                  sizeof(zWhy)), 0);
}

/* RFC 7636 Appendix B, also OpenRouter's SDK example. */
static void test_oauth_pkce(void){
  char z[SSO_OAUTH_CHALLENGE_LEN+1];
  const char *zV = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  CHECK_INT(ssoOauthS256(zV, strlen(zV), z), SSOPROXY_OK);
  CHECK_STR(z, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  CHECK( ssoOauthChallengeOk(z, strlen(z)) );
  CHECK( ssoOauthVerifierOk(zV, strlen(zV)) );
  /* Verifiers: 43..128 of ALPHA DIGIT - . _ ~ */
  CHECK( !ssoOauthVerifierOk(zV, 42) );
  CHECK( ssoOauthVerifierOk("abcdefghijklmnopqrstuvwxyz0123456789-._~ABC",
                            43) );
  CHECK( !ssoOauthVerifierOk("abcdefghijklmnopqrstuvwxyz0123456789-._~AB+",
                             43) );
  CHECK( !ssoOauthVerifierOk("abcdefghijklmnopqrstuvwxyz0123456789-._~AB=",
                             43) );
  {
    char zLong[130];
    memset(zLong, 'a', sizeof(zLong));
    CHECK( ssoOauthVerifierOk(zLong, 128) );
    CHECK( !ssoOauthVerifierOk(zLong, 129) );
  }
  /* Challenges: exactly 43 base64url characters, no padding */
  CHECK( !ssoOauthChallengeOk("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
                              44) );
  CHECK( !ssoOauthChallengeOk("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
                              43) );
  CHECK( !ssoOauthChallengeOk("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
                              42) );
}

static void test_oauth_user_code(void){
  SsoRng *pRng = 0;
  char z[10], zN[9];
  int i, j, aSeen[26];
  CHECK_INT(ssoRngNew(&pRng), SSOPROXY_OK);
  memset(aSeen, 0, sizeof(aSeen));
  for(i=0; i<500; i++){
    CHECK_INT(ssoOauthUserCodeNew(pRng, z), SSOPROXY_OK);
    CHECK_INT(strlen(z), 9);
    CHECK( z[4]=='-' );
    for(j=0; j<9; j++){
      if( j==4 ) continue;
      CHECK( strchr(SSO_OAUTH_USER_ALPHABET, z[j])!=0 );
      if( z[j]>='A' && z[j]<='Z' ) aSeen[z[j]-'A']++;
    }
    CHECK_INT(ssoOauthUserCodeNormalize(z, 9, zN), SSOPROXY_OK);
    CHECK_INT(strlen(zN), 8);
  }
  /* Every letter of the alphabet turns up; no vowel or look-alike does. */
  for(j=0; j<26; j++){
    int bIn = strchr(SSO_OAUTH_USER_ALPHABET, 'A'+j)!=0;
    CHECK( bIn ? aSeen[j]>0 : aSeen[j]==0 );
  }
  CHECK( strpbrk(SSO_OAUTH_USER_ALPHABET, "AEIOUY01") == 0 );
  ssoRngFree(pRng);
  /* Users type codes loosely. */
  CHECK_INT(ssoOauthUserCodeNormalize("bcdf-ghjk", 9, zN), SSOPROXY_OK);
  CHECK_STR(zN, "BCDFGHJK");
  CHECK_INT(ssoOauthUserCodeNormalize(" BCDF GHJK ", 11, zN), SSOPROXY_OK);
  CHECK_STR(zN, "BCDFGHJK");
  CHECK_INT(ssoOauthUserCodeNormalize("BCDFGHJ", 7, zN), SSOPROXY_PARSE);
  CHECK_INT(ssoOauthUserCodeNormalize("BCDFGHJKL", 9, zN), SSOPROXY_PARSE);
  CHECK_INT(ssoOauthUserCodeNormalize("BCDF-GHJA", 9, zN), SSOPROXY_PARSE);
  CHECK_INT(ssoOauthUserCodeNormalize("BCDF-GHJ1", 9, zN), SSOPROXY_PARSE);
  CHECK_INT(ssoOauthUserCodeNormalize("BCDF\0GHJK", 9, zN), SSOPROXY_PARSE);
  CHECK_INT(ssoOauthUserCodeNormalize("", 0, zN), SSOPROXY_PARSE);
}

static void test_oauth_secret(void){
  SsoRng *pRng = 0;
  char a[SSO_OAUTH_SECRET_LEN+1], b[SSO_OAUTH_SECRET_LEN+1];
  size_t i;
  CHECK_INT(ssoRngNew(&pRng), SSOPROXY_OK);
  CHECK_INT(ssoOauthSecretNew(pRng, a), SSOPROXY_OK);
  CHECK_INT(ssoOauthSecretNew(pRng, b), SSOPROXY_OK);
  ssoRngFree(pRng);
  CHECK_INT(strlen(a), 43);
  CHECK( strcmp(a, b)!=0 );
  /* Codes use [A-Za-z0-9_-] only: nothing a '+' or '%' decoder changes. */
  for(i=0; i<43; i++) CHECK( strchr("+/=%", a[i])==0 );
  CHECK( ssoOauthVerifierOk(a, 43) );     /* A secret is a valid verifier */
}

static void test_oauth_query_append(void){
  static const struct { const char *zIn, *zOut; } a[] = {
    { "vscode://a.b/cb", "vscode://a.b/cb?access_token=sk-x&token_type=Bearer"
      "&expires_in=86400" },
    { "vscode://a.b/cb?x=1", "vscode://a.b/cb?x=1&access_token=sk-x"
      "&token_type=Bearer&expires_in=86400" },
    { "http://127.0.0.1:9/cb?", "http://127.0.0.1:9/cb?access_token=sk-x"
      "&token_type=Bearer&expires_in=86400" },
  };
  const char *azPair[] = { "access_token", "sk-x", "token_type", "Bearer",
                           "expires_in", "86400" };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(a); i++){
    SsoBuf b;
    ssoBufInit(&b, 0);
    CHECK_INT(ssoUrlAppendQuery(&b, a[i].zIn, strlen(a[i].zIn), azPair, 3, 0),
              SSOPROXY_OK);
    CHECK_STR(ssoBufStr(&b), a[i].zOut);
    ssoBufFree(&b);
  }
  {
    /* A code with every allowed character survives form encoding as is. */
    SsoBuf b;
    const char *azCode[] = { "code", "aZ09_-" };
    ssoBufInit(&b, 0);
    ssoUrlAppendQuery(&b, "vscode://a.b/cb", 15, azCode, 1, 0);
    CHECK_STR(ssoBufStr(&b), "vscode://a.b/cb?code=aZ09_-");
    ssoBufFree(&b);
  }
}

static void test_oauth_lists_and_cors(void){
  CHECK( ssoOauthListHas("a, b ,c", "b", 1) );
  CHECK( ssoOauthListHas("a,b,c", "c", 1) );
  CHECK( !ssoOauthListHas("a,b,c", "", 0) );
  CHECK( !ssoOauthListHas("ab,c", "a", 1) );
  CHECK( !ssoOauthListHas(0, "a", 1) );
  CHECK( !ssoOauthListHas(",,", "", 0) );
  /* CORS: exact origins only; a list is never echoed whole (the seed PR's
  ** malformed header) */
  CHECK( ssoOauthCorsAllowed("https://a.example, https://b.example",
                             "https://b.example", 17) );
  CHECK( !ssoOauthCorsAllowed("https://a.example, https://b.example",
                              "https://c.example", 17) );
  CHECK( !ssoOauthCorsAllowed("https://a.example", "https://a.example.evil",
                              22) );
  CHECK( !ssoOauthCorsAllowed("https://a.example", "http://a.example", 16) );
  CHECK( !ssoOauthCorsAllowed("https://a.example", "null", 4) );
  CHECK( !ssoOauthCorsAllowed(0, "https://a.example", 17) );
  CHECK( !ssoOauthCorsAllowed("https://a.example", "", 0) );
  CHECK( ssoOauthCorsAllowed("*", "https://any.example", 19) );
}

static void test_oauth_config_checks(void){
  SsoOauthConfig c;
  SsoOauth *p = 0;
  char zErr[512];
  memset(&c, 0, sizeof(c));
  c.sKeyTtl = 60; c.sCodeTtl = 60; c.sStateTtl = 60; c.sDeviceTtl = 60;
  c.sInterval = 5;
  c.zSchemes = "myide, other-ide";
  c.zUris = "https://app.example.com/cb, vscode://a.b/cb";
  c.zBaseUrl = "https://llm.example.com/";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_OK);
  CHECK( p!=0 );
  CHECK_STR(p->zBaseUrl, "https://llm.example.com");
  ssoOauthFree(p);
  c.zSchemes = "myide, javascript";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  CHECK( p==0 );
  CHECK( strstr(zErr, "OAUTH_ALLOWED_REDIRECT_SCHEMES")!=0 );
  CHECK( strstr(zErr, "javascript")!=0 );
  c.zSchemes = "https";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  c.zSchemes = "vscode://";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  c.zSchemes = 0;
  c.zUris = "http://evil.example/cb";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  CHECK( strstr(zErr, "SSOPROXY_ALLOWED_REDIRECT_URIS")!=0 );
  c.zUris = "https://app.example.com/cb#x";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  c.zUris = "javascript:alert(1)";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  c.zUris = 0;
  c.zBaseUrl = "ftp://x.example";
  CHECK_INT(ssoOauthNew(&c, &p, zErr, sizeof(zErr)), SSOPROXY_CONFIG);
  CHECK( strstr(zErr, "PROXY_BASE_URL")!=0 );
}

/* Allocation failures while making the object: clean errors, no leaks. */
static int oauthNewBody(void *pArg){
  SsoOauthConfig c;
  SsoOauth *p = 0;
  char zErr[256];
  int rc;
  SSO_UNUSED(pArg);
  memset(&c, 0, sizeof(c));
  c.zSchemes = "myide";
  c.zUris = "https://app.example.com/cb";
  c.zOrigins = "https://app.example.com";
  c.zBaseUrl = "http://127.0.0.1:4000";
  rc = ssoOauthNew(&c, &p, zErr, sizeof(zErr));
  ssoOauthFree(p);
  return rc;
}
static int oauthNewCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return rc==SSOPROXY_OK || (bFaulted && rc==SSOPROXY_NOMEM);
}
static void test_oauth_new_oom(void){
  CHECK( faultRun(oauthNewBody, oauthNewCheck, 0)>1 );
}

static const TestCase aOauthTests[] = {
  TEST_CASE(test_oauth_redirect_allowed),
  TEST_CASE(test_oauth_redirect_refused),
  TEST_CASE(test_oauth_redirect_limits),
  TEST_CASE(test_oauth_pkce),
  TEST_CASE(test_oauth_user_code),
  TEST_CASE(test_oauth_secret),
  TEST_CASE(test_oauth_query_append),
  TEST_CASE(test_oauth_lists_and_cors),
  TEST_CASE(test_oauth_config_checks),
  TEST_CASE(test_oauth_new_oom),
};
