/*
** Tests for layer 0: the allocator and arena, the string builder, log
** lines, whole-file reads.
*/

static void test_mem_counts(void){
  long long n0 = ssoMemUsed(), b0 = ssoMemBlocks();
  char *p = ssoMalloc(100);
  CHECK( p!=0 );
  CHECK_INT( ssoMemUsed()-n0, 100 );
  CHECK_INT( ssoMemBlocks()-b0, 1 );
  CHECK_INT( ssoMemSize(p), 100 );
  p = ssoRealloc(p, 1000);
  CHECK( p!=0 );
  CHECK_INT( ssoMemUsed()-n0, 1000 );
  ssoFree(p);
  ssoFree(0);
  CHECK_INT( ssoMemUsed(), n0 );
  CHECK_INT( ssoMemBlocks(), b0 );
  CHECK( ssoMalloc(SSO_MAX_ALLOC+1)==0 );
  /* The allocator cannot be swapped while blocks are live. */
  p = ssoMalloc(1);
  CHECK_INT( ssoproxy_config_memory(0, 0, 0), SSOPROXY_MISUSE );
  ssoFree(p);
}

static void test_mem_realloc_failure_keeps_block(void){
  char *p = ssoStrdup("hello"), *q;
  faultArm(1, 0);
  q = ssoRealloc(p, 4096);
  CHECK_INT( faultDisarm(), 1 );
  CHECK( q==0 );
  CHECK_STR( p, "hello" );
  ssoFree(p);
}

static void test_arena(void){
  SsoArena a;
  int i;
  char *z;
  ssoArenaInit(&a, 0);
  for(i=0; i<1000; i++){
    void *p = ssoArenaAlloc(&a, (size_t)(i%37)+1);
    CHECK( p!=0 && ((uintptr_t)p & 7)==0 );
  }
  z = ssoArenaStrndup(&a, "abcdef", 3);
  CHECK_STR( z, "abc" );
  CHECK( ssoArenaAlloc(&a, 100000)!=0 );
  ssoArenaFree(&a);
  /* A capped arena refuses past its cap instead of growing. */
  ssoArenaInit(&a, 4096);
  CHECK( ssoArenaAlloc(&a, 3000)!=0 );
  CHECK( ssoArenaAlloc(&a, 3000)==0 );
  ssoArenaFree(&a);
}

static void test_buf_basic(void){
  SsoBuf b;
  char *z;
  size_t n = 0;
  int i;
  ssoBufInit(&b, 0);
  CHECK_STR( ssoBufStr(&b), "" );
  ssoBufAppendStr(&b, "key=");
  ssoBufPrintf(&b, "%d/%s", 42, "x");
  ssoBufAppendChar(&b, '!');
  CHECK_STR( ssoBufStr(&b), "key=42/x!" );
  for(i=0; i<1000; i++) ssoBufAppend(&b, "0123456789", 10);
  CHECK_INT( b.n, 10009 );
  ssoBufTruncate(&b, 3);
  z = ssoBufFinish(&b, &n);
  CHECK_STR( z, "key" );
  CHECK_INT( n, 3 );
  ssoFree(z);
}

static void test_buf_limit_is_sticky(void){
  SsoBuf b;
  ssoBufInit(&b, 16);
  ssoBufAppendStr(&b, "0123456789");
  ssoBufAppendStr(&b, "0123456789");
  CHECK_INT( b.rc, SSOPROXY_TOOBIG );
  ssoBufAppendStr(&b, "x");
  CHECK_INT( b.rc, SSOPROXY_TOOBIG );
  CHECK( ssoBufFinish(&b, 0)==0 );
}

static void test_buf_static_space(void){
  char zSpace[8];
  SsoBuf b;
  char *z;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoBufAppendStr(&b, "abc");
  CHECK( b.z==zSpace );
  ssoBufAppendStr(&b, "defghijkl");
  CHECK( b.z!=zSpace );
  CHECK_STR( ssoBufStr(&b), "abcdefghijkl" );
  z = ssoBufFinish(&b, 0);
  CHECK_STR( z, "abcdefghijkl" );
  ssoFree(z);
}

static int bufOomBody(void *pArg){
  SsoBuf b;
  char *z;
  int i;
  SSO_UNUSED(pArg);
  ssoBufInit(&b, 0);
  for(i=0; i<200; i++) ssoBufPrintf(&b, "%d,", i);
  z = ssoBufFinish(&b, 0);
  if( z==0 ) return SSOPROXY_NOMEM;
  i = strncmp(z, "0,1,2,", 6)==0 ? SSOPROXY_OK : SSOPROXY_ERROR;
  ssoFree(z);
  return i;
}
static int expectOkOrNomem(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? (rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM) : rc==SSOPROXY_OK;
}
static void test_buf_oom(void){
  CHECK( faultRun(bufOomBody, expectOkOrNomem, 0)>3 );
}

static void test_buf_json_string(void){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoBufAppendJsonString(&b, "a\"b\\c\n\x01\x7f\xc3\xa9", 10);
  CHECK_STR( ssoBufStr(&b), "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"" );
  ssoBufFree(&b);
}

/* Log lines: one line each, values quoted and control bytes escaped. */
static void test_log_lines(void){
  int fds[2];
  char zOut[1024];
  ssize_t n;
  SsoLog lg;
  CHECK( pipe(fds)==0 );
  ssoLogInit(&lg, fds[1], SSO_LOG_INFO, 0);
  ssoLog(&lg, SSO_LOG_DEBUG, "hidden", (char*)0);
  ssoLog(&lg, SSO_LOG_INFO, "started", "addr", "127.0.0.1:4000",
         "note", "two words\nforged=1", "skip", (char*)0, (char*)0);
  lg.bJson = 1;
  ssoLog(&lg, SSO_LOG_WARN, "x\"y", "k", "v", (char*)0);
  close(fds[1]);
  n = read(fds[0], zOut, sizeof(zOut)-1);
  close(fds[0]);
  CHECK( n>0 );
  zOut[n>0 ? n : 0] = 0;
  CHECK( strstr(zOut, "hidden")==0 );
  CHECK( strstr(zOut, " level=info msg=started addr=127.0.0.1:4000 "
                      "note=\"two words\\nforged=1\"\n")!=0 );
  CHECK( strstr(zOut, "\"level\":\"warn\",\"msg\":\"x\\\"y\",\"k\":\"v\"}\n")!=0 );
  CHECK_INT( ssoLogLevelFromName("warn"), SSO_LOG_WARN );
  CHECK_INT( ssoLogLevelFromName("loud"), -1 );
}

static void test_os_read_file(void){
  char zPath[] = "/tmp/ssoproxy-test-XXXXXX";
  int fd = mkstemp(zPath);
  char *z = 0;
  size_t n = 0;
  CHECK( fd>=0 );
  CHECK( write(fd, "hello\n", 6)==6 );
  close(fd);
  CHECK_INT( ssoOsReadFile(zPath, 100, &z, &n), SSOPROXY_OK );
  CHECK_STR( z, "hello\n" );
  CHECK_INT( n, 6 );
  ssoFree(z);
  CHECK_INT( ssoOsReadFile(zPath, 5, &z, &n), SSOPROXY_TOOBIG );
  CHECK( z==0 );
  unlink(zPath);
  CHECK_INT( ssoOsReadFile(zPath, 100, &z, &n), SSOPROXY_IOERR );
  CHECK_INT( errno, ENOENT );
  CHECK_INT( ssoOsReadFile("/tmp", 100, &z, &n), SSOPROXY_IOERR );
  CHECK( ssoOsMonoMs()>0 && ssoOsNowMs()>1700000000000LL );
  CHECK( ssoOsCpuCount()>=1 );
}

static void test_version(void){
  CHECK_STR( ssoproxy_libversion(), SSOPROXY_VERSION );
  CHECK_INT( ssoproxy_libversion_number(), SSOPROXY_VERSION_NUMBER );
  CHECK_INT( strlen(ssoproxy_sourceid()), 64 );
}

static const TestCase aBaseTests[] = {
  TEST_CASE(test_mem_counts),
  TEST_CASE(test_mem_realloc_failure_keeps_block),
  TEST_CASE(test_arena),
  TEST_CASE(test_buf_basic),
  TEST_CASE(test_buf_limit_is_sticky),
  TEST_CASE(test_buf_static_space),
  TEST_CASE(test_buf_oom),
  TEST_CASE(test_buf_json_string),
  TEST_CASE(test_log_lines),
  TEST_CASE(test_os_read_file),
  TEST_CASE(test_version),
};
