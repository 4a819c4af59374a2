/*
** Tests for the configuration: validation of every type, the file format,
** the environment (incl. typo detection), precedence and sources, masking
** of secrets, and out-of-memory behaviour.
*/

/* Write zText to a new temporary file; returns its path (static buffer). */
static const char *tmpFile(const char *zText, size_t n){
  static char zPath[64];
  int fd;
  strcpy(zPath, "/tmp/ssoproxy-cfg-XXXXXX");
  fd = mkstemp(zPath);
  if( fd<0 ) return 0;
  if( write(fd, zText, n)!=(ssize_t)n ){ close(fd); return 0; }
  close(fd);
  return zPath;
}

static void test_config_defaults_and_types(void){
  ssoproxy_config *p = 0;
  CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_LISTEN), "127.0.0.1:4000" );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_DB), "ssoproxy.db" );
  CHECK( ssoConfigStr(p, SSO_CFG_MASTER_KEY)==0 );
  CHECK_INT( ssoConfigInt(p, SSO_CFG_WORKERS), 0 );

  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_WORKERS", "4"), SSOPROXY_OK );
  CHECK_INT( ssoConfigInt(p, SSO_CFG_WORKERS), 4 );
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_WORKERS", "65"), SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_config_errmsg(p), "invalid value for SSOPROXY_WORKERS: "
             "\"65\" (expected an integer from 0 to 64)" );
  CHECK_INT( ssoConfigInt(p, SSO_CFG_MAX_BODY_BYTES), SSO_HTTP_MAX_BODY );
  CHECK_INT( ssoConfigBool(p, SSO_CFG_ACCESS_LOG), 1 );
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_ACCESS_LOG", "off"), SSOPROXY_OK );
  CHECK_INT( ssoConfigBool(p, SSO_CFG_ACCESS_LOG), 0 );
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_ACCESS_LOG", "maybe"),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoConfigInt(p, SSO_CFG_WORKERS), 4 );   /* unchanged */
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_WORKERS", "4x"), SSOPROXY_CONFIG );
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_WORKERS",
                                 "99999999999999999999"), SSOPROXY_CONFIG );

  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_LOG_FORMAT", "json"), SSOPROXY_OK );
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_LOG_FORMAT", "JSON"),
             SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_config_errmsg(p), "invalid value for SSOPROXY_LOG_FORMAT:"
             " \"JSON\" (expected one of logfmt|json)" );

  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_LISTENN", "x"), SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_config_errmsg(p), "unknown setting SSOPROXY_LISTENN" );

  /* An empty value returns the setting to its default. */
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_WORKERS", ""), SSOPROXY_OK );
  CHECK_INT( ssoConfigInt(p, SSO_CFG_WORKERS), 0 );
  /* Control characters never make it into a value. */
  CHECK_INT( ssoproxy_config_set(p, "SSOPROXY_DB", "a\nb"), SSOPROXY_CONFIG );
  CHECK_INT( ssoproxy_config_set(0, "SSOPROXY_DB", "x"), SSOPROXY_MISUSE );
  ssoproxy_config_free(p);
}

static void test_config_addresses(void){
  static const char *const azGood[] = {
    "127.0.0.1:4000", "0.0.0.0:0", "[::1]:4000", "[::]:80", "localhost:65535",
    "gw.example.com:443", "[2001:db8::1]:8080", ":4000",
  };
  static const char *const azBad[] = {
    "127.0.0.1", "127.0.0.1:", "[a b]:1", "127.0.0.1:65536", "127.0.0.1:-1",
    "[::1:4000", "[]:80", "::1:4000x", "host name:80", "h:4o", "[::1]4000",
  };
  ssoproxy_config *p = 0;
  size_t i;
  CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
  for(i=0; i<SSO_ARRAYSIZE(azGood); i++){
    int rc = ssoproxy_config_set(p, "SSOPROXY_LISTEN", azGood[i]);
    if( rc ) fprintf(stderr, "  rejected %s\n", azGood[i]);
    CHECK_INT( rc, SSOPROXY_OK );
  }
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    int rc = ssoproxy_config_set(p, "SSOPROXY_LISTEN", azBad[i]);
    if( rc==0 ) fprintf(stderr, "  accepted %s\n", azBad[i]);
    CHECK_INT( rc, SSOPROXY_CONFIG );
  }
  ssoproxy_config_free(p);
}

static void test_config_file(void){
  static const char zText[] =
    "# ssoproxy settings\n"
    "\n"
    "SSOPROXY_LISTEN=0.0.0.0:8080\r\n"
    "export SSOPROXY_DB = \"/var/lib/ssoproxy/db.sqlite\"\n"
    "  LITELLM_MASTER_KEY='sk-secret-1234'  \n"
    "SSOPROXY_LOG_LEVEL=warn";
  ssoproxy_config *p = 0;
  const char *zPath = tmpFile(zText, sizeof(zText)-1);
  SsoBuf b;
  char zWant[128];
  CHECK( zPath!=0 );
  CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
  CHECK_INT( ssoproxy_config_load_file(p, zPath), SSOPROXY_OK );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_LISTEN), "0.0.0.0:8080" );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_DB), "/var/lib/ssoproxy/db.sqlite" );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_MASTER_KEY), "sk-secret-1234" );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_LOG_LEVEL), "warn" );
  ssoBufInit(&b, 0);
  ssoConfigDump(p, &b);
  CHECK( strstr(ssoBufStr(&b), "sk-secret")==0 );
  CHECK( strstr(ssoBufStr(&b), "LITELLM_MASTER_KEY=********  # file ")!=0 );
  snprintf(zWant, sizeof(zWant), "SSOPROXY_LISTEN=0.0.0.0:8080  # file %s:3\n",
           zPath);
  CHECK( strstr(ssoBufStr(&b), zWant)!=0 );
  CHECK( strstr(ssoBufStr(&b), "SSOPROXY_WORKERS=0  # default\n")!=0 );
  ssoBufFree(&b);
  unlink(zPath);
  ssoproxy_config_free(p);
}

/* Each bad file gives one message naming the file, the line and the cause. */
static void test_config_file_errors(void){
  static const struct { const char *zText; const char *zErr; } aCase[] = {
    { "SSOPROXY_LISTEN=1.2.3.4:1\nNOT_A_SETTING=1\n",
      ":2: unknown setting NOT_A_SETTING" },
    { "\n\njust words\n", ":3: expected NAME=VALUE" },
    { "SSOPROXY_DB=\"unterminated\n", ":1: unterminated quote in the value "
      "of SSOPROXY_DB" },
    { "SSOPROXY_WORKERS=many\n", ":1: invalid value for SSOPROXY_WORKERS: "
      "\"many\" (expected an integer from 0 to 64)" },
    { "=value\n", ":1: expected NAME=VALUE" },
    { "LITELLM_MASTER_KEY=\"a\tb\"\n", ":1: invalid value for "
      "LITELLM_MASTER_KEY: control character" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    ssoproxy_config *p = 0;
    const char *zPath = tmpFile(aCase[i].zText, strlen(aCase[i].zText));
    const char *zErr;
    CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
    CHECK_INT( ssoproxy_config_load_file(p, zPath), SSOPROXY_CONFIG );
    zErr = ssoproxy_config_errmsg(p);
    CHECK( strncmp(zErr, zPath, strlen(zPath))==0 );
    CHECK_STR( zErr+strlen(zPath), aCase[i].zErr );
    unlink(zPath);
    ssoproxy_config_free(p);
  }
}

static void test_config_file_unreadable(void){
  ssoproxy_config *p = 0;
  const char *zPath;
  CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
  CHECK_INT( ssoproxy_config_load_file(p, "/nonexistent/ssoproxy.conf"),
             SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_config_errmsg(p), "cannot read config file "
             "/nonexistent/ssoproxy.conf: No such file or directory" );
  zPath = tmpFile("SSOPROXY_DB=a\0b\n", 16);
  CHECK_INT( ssoproxy_config_load_file(p, zPath), SSOPROXY_CONFIG );
  CHECK( strstr(ssoproxy_config_errmsg(p), "contains a NUL byte")!=0 );
  unlink(zPath);
  ssoproxy_config_free(p);
}

static void test_config_env(void){
  ssoproxy_config *p = 0;
  CHECK_INT( ssoproxy_config_new(&p), SSOPROXY_OK );
  setenv("SSOPROXY_LISTEN", "[::1]:4100", 1);
  setenv("SSOPROXY_MASTER_KEY", "sk-from-alias", 1);
  CHECK_INT( ssoproxy_config_load_env(p), SSOPROXY_OK );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_LISTEN), "[::1]:4100" );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_MASTER_KEY), "sk-from-alias" );
  /* The LiteLLM name wins over our alias when both are set. */
  setenv("LITELLM_MASTER_KEY", "sk-litellm-name", 1);
  CHECK_INT( ssoproxy_config_load_env(p), SSOPROXY_OK );
  CHECK_STR( ssoConfigStr(p, SSO_CFG_MASTER_KEY), "sk-litellm-name" );
  /* A misspelt SSOPROXY_ name is caught, not ignored. */
  setenv("SSOPROXY_LISTN", "0.0.0.0:1", 1);
  CHECK_INT( ssoproxy_config_load_env(p), SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_config_errmsg(p),
             "unknown setting SSOPROXY_LISTN in the environment" );
  unsetenv("SSOPROXY_LISTN");
  setenv("SSOPROXY_LOG_LEVEL", "chatty", 1);
  CHECK_INT( ssoproxy_config_load_env(p), SSOPROXY_CONFIG );
  CHECK( strstr(ssoproxy_config_errmsg(p), "SSOPROXY_LOG_LEVEL")!=0 );
  unsetenv("SSOPROXY_LOG_LEVEL");
  unsetenv("SSOPROXY_LISTEN");
  unsetenv("SSOPROXY_MASTER_KEY");
  unsetenv("LITELLM_MASTER_KEY");
  ssoproxy_config_free(p);
}

static int configOomBody(void *pArg){
  ssoproxy_config *p = 0, *pCopy = 0;
  SsoBuf b;
  int rc = ssoproxy_config_new(&p);
  if( rc==SSOPROXY_OK ) rc = ssoproxy_config_load_file(p, (const char*)pArg);
  if( rc==SSOPROXY_OK ) rc = ssoConfigCopy(p, &pCopy);
  if( rc==SSOPROXY_OK ){
    ssoBufInit(&b, 0);
    ssoConfigDump(pCopy, &b);
    rc = b.rc;
    if( rc==SSOPROXY_OK && strstr(ssoBufStr(&b), "[::1]:9")==0 ){
      rc = SSOPROXY_ERROR;
    }
    ssoBufFree(&b);
  }
  ssoproxy_config_free(pCopy);
  ssoproxy_config_free(p);
  return rc;
}
static void test_config_oom(void){
  static const char zText[] = "SSOPROXY_LISTEN=[::1]:9\nSSOPROXY_DB=x.db\n";
  const char *zPath = tmpFile(zText, sizeof(zText)-1);
  char zCopy[64];
  strcpy(zCopy, zPath);
  CHECK( faultRun(configOomBody, expectOkOrNomem, zCopy)>5 );
  unlink(zCopy);
}

static const TestCase aConfigTests[] = {
  TEST_CASE(test_config_defaults_and_types),
  TEST_CASE(test_config_addresses),
  TEST_CASE(test_config_file),
  TEST_CASE(test_config_file_errors),
  TEST_CASE(test_config_file_unreadable),
  TEST_CASE(test_config_env),
  TEST_CASE(test_config_oom),
};
