/*
** Tests for layer 0: the allocator and arena, the string builder, log
** lines, whole-file reads.
*/
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>

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
  /* Decimal without printf: the same text as %llu, 0 and the extremes. */
  {
    static const unsigned long long aV[] = {
      0, 7, 10, 65535, 18446744073709551615ull
    };
    size_t k;
    for(k=0; k<SSO_ARRAYSIZE(aV); k++){
      char zWant[32];
      SsoBuf u;
      ssoBufInit(&u, 0);
      ssoBufAppendUint(&u, aV[k]);
      snprintf(zWant, sizeof(zWant), "%llu", aV[k]);
      CHECK_STR( ssoBufStr(&u), zWant );
      ssoBufFree(&u);
    }
  }
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

/* The escaper the word-at-a-time one must agree with: one byte at a time,
** straight from RFC 8259 §7 (and DEL). Returns the length written. */
static size_t refJsonString(char *zOut, const unsigned char *z, size_t n){
  size_t i, j = 0;
  zOut[j++] = '"';
  for(i=0; i<n; i++){
    unsigned c = z[i];
    const char *zEsc = 0;
    switch( c ){
      case '"':  zEsc = "\\\""; break;
      case '\\': zEsc = "\\\\"; break;
      case '\b': zEsc = "\\b"; break;
      case '\f': zEsc = "\\f"; break;
      case '\n': zEsc = "\\n"; break;
      case '\r': zEsc = "\\r"; break;
      case '\t': zEsc = "\\t"; break;
    }
    if( zEsc ){
      zOut[j++] = zEsc[0];
      zOut[j++] = zEsc[1];
    }else if( c<0x20 || c==0x7f ){
      j += (size_t)sprintf(zOut+j, "\\u%04x", c);
    }else{
      zOut[j++] = (char)c;
    }
  }
  zOut[j++] = '"';
  zOut[j] = 0;
  return j;
}

/* One string through the three escaping entry points, from an exactly
** sized heap copy (ASan sees any read past its end). */
static void checkJsonString(const unsigned char *zIn, size_t n){
  char zRef[6*48+3], zTo[6*48+3];
  unsigned char *z = ssoMalloc(n ? n : 1);
  size_t nRef;
  SsoBuf b;
  if( z==0 ){ CHECK( z!=0 ); return; }
  if( n ) memcpy(z, zIn, n);
  nRef = refJsonString(zRef, z, n);
  ssoBufInit(&b, 0);
  ssoBufAppendJsonString(&b, (const char*)z, n);
  if( b.n!=nRef || memcmp(b.z, zRef, nRef)!=0 ){
    CHECK_STR( ssoBufStr(&b), zRef );
  }
  CHECK_INT( ssoBufJsonStringLen((const char*)z, n), nRef );
  CHECK_INT( ssoBufJsonStringTo(zTo, (const char*)z, n) - zTo, nRef );
  CHECK_MEM( zTo, zRef, nRef );
  ssoBufFree(&b);
  ssoFree(z);
}

/*
** Every byte that needs an escape, and its harmless neighbours, at every
** position of strings of 0..40 bytes (so at every offset within and
** across the 8-byte words, and in the last partial word), alone and in
** pairs: a flagged byte must not hide or fake the next one (found by
** fuzzing: DEL then '~' in the last word).
*/
static void test_buf_json_string_positions(void){
  static const unsigned char aSpecial[] = {
    0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, '"', '\\', 0x7f,
    0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7e, 0x80, 0xc3, 0xff, '~', 'a',
  };
  unsigned char z[48];
  size_t n, i, j, a, c;
  for(n=0; n<=40; n++){
    memset(z, 'x', sizeof(z));
    checkJsonString(z, n);
    for(i=0; i<n; i++){
      for(a=0; a<sizeof(aSpecial); a++){
        memset(z, 'x', sizeof(z));
        z[i] = aSpecial[a];
        checkJsonString(z, n);
      }
    }
  }
  for(n=2; n<=24; n++){
    for(i=0; i<n; i++){
      for(j=i+1; j<n; j++){
        for(a=0; a<11; a++){
          for(c=0; c<sizeof(aSpecial); c++){
            memset(z, '<', sizeof(z));
            z[i] = aSpecial[a];
            z[j] = aSpecial[c];
            checkJsonString(z, n);
          }
        }
      }
    }
  }
}

/* The escaper reserves no more than the final length: a ceiling of
** exactly that much (plus the NUL) is enough, one byte less is not. */
static void test_buf_json_string_ceiling(void){
  static const char z[] = "ab\"c\\d\x01" "efghijklmnop\n";
  size_t nOut = ssoBufJsonStringLen(z, sizeof(z)-1);
  SsoBuf b;
  ssoBufInit(&b, nOut+1);
  ssoBufAppendJsonString(&b, z, sizeof(z)-1);
  CHECK_INT( b.rc, SSOPROXY_OK );
  CHECK_INT( b.n, nOut );
  ssoBufFree(&b);
  ssoBufInit(&b, nOut);
  ssoBufAppendJsonString(&b, z, sizeof(z)-1);
  CHECK_INT( b.rc, SSOPROXY_TOOBIG );
  ssoBufFree(&b);
  ssoBufInit(&b, 0);                      /* NULL with no bytes is fine */
  ssoBufAppendJsonString(&b, 0, 0);
  CHECK_STR( ssoBufStr(&b), "\"\"" );
  ssoBufFree(&b);
}

/* The inlined appends: growth from nothing, NULL with no bytes, and
** nothing at all once an error has stuck. */
static void test_buf_inline_append(void){
  char zSpace[4];
  SsoBuf b;
  int i;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, 0, 0);
  for(i=0; i<300; i++) ssoBufAppendChar(&b, (char)('a' + i%26));
  CHECK_INT( b.n, 300 );
  CHECK_INT( b.z[300], 0 );
  CHECK( b.z[299]==(char)('a' + 299%26) );
  ssoBufFree(&b);
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 8);
  ssoBufAppend(&b, "abc", 3);             /* fills the space, NUL included */
  CHECK( b.z==zSpace );
  ssoBufAppendChar(&b, 'd');              /* moves to the heap */
  CHECK( b.z!=zSpace );
  CHECK_STR( ssoBufStr(&b), "abcd" );
  ssoBufAppend(&b, "efghijk", 7);         /* past the ceiling of 8 */
  CHECK_INT( b.rc, SSOPROXY_TOOBIG );
  ssoBufAppendChar(&b, 'x');
  ssoBufAppend(&b, "y", 1);
  CHECK_INT( b.n, 4 );                    /* sticky: nothing appended */
  CHECK( ssoBufFinish(&b, 0)==0 );
}

/* A size hint makes one chunk hold everything; n==0 still gives a
** pointer; a size that overflows when rounded gives NULL. */
static void test_arena_hint(void){
  SsoArena a;
  long long nBlock0 = ssoMemBlocks();
  char *p, *q;
  int i;
  ssoArenaInit(&a, 0);
  ssoArenaSizeHint(&a, 100000);
  for(i=0; i<900; i++){                   /* 900 * 104 bytes */
    p = ssoArenaAlloc(&a, 97);
    CHECK( p!=0 && ((uintptr_t)p & 7)==0 );
    if( p ) memset(p, i, 97);
  }
  CHECK_INT( ssoMemBlocks() - nBlock0, 1 );
  p = ssoArenaAlloc(&a, 0);
  q = ssoArenaAlloc(&a, 0);
  CHECK( p!=0 && q!=0 );
  CHECK( ssoArenaAlloc(&a, SIZE_MAX)==0 );
  CHECK( ssoArenaAlloc(&a, SIZE_MAX-6)==0 );
  CHECK( ssoArenaAlloc(&a, 200000)!=0 );  /* a bigger chunk of its own */
  CHECK_INT( ssoMemBlocks() - nBlock0, 2 );
  ssoArenaFree(&a);
  CHECK_INT( ssoMemBlocks(), nBlock0 );
  CHECK( ssoArenaAlloc(&a, 8)!=0 );       /* usable again after a free */
  ssoArenaFree(&a);
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

/* The quoting rule of logfmt values, byte by byte, against its definition. */
static void test_log_quote_bytes(void){
  int c;
  char z[2];
  CHECK( needsQuote("", 0) );
  for(c=1; c<256; c++){
    int bWant = c<=' ' || c=='"' || c=='=' || c=='\\' || c>=0x7f;
    z[0] = (char)c;
    z[1] = 0;
    if( needsQuote(z, 1)!=bWant ){
      CHECK_INT( c, -1 );     /* names the byte that is wrong */
    }
  }
  CHECK( !needsQuote("/health/liveliness", 18) );
  CHECK( needsQuote("a b", 3) );
  CHECK( needsQuote("caf\xc3\xa9", 5) );
}

/* The cached second is remade whenever the second changes, either way. */
static void test_log_time(void){
  static const struct { long long iSec; long nNs; const char *zWant; } a[] = {
    { 0, 0,                   "1970-01-01T00:00:00.000" },
    { 951782400, 999999999,   "2000-02-29T00:00:00.999" },
    { 951782401, 0,           "2000-02-29T00:00:01.000" },
    { 951782401, 1000000,     "2000-02-29T00:00:01.001" },
    { 951782401, 123999999,   "2000-02-29T00:00:01.123" },
    { 951782399, 500000000,   "2000-02-28T23:59:59.500" },
    { 1795305600, 42000000,   "2026-11-22T00:00:00.042" },
    { 4102444799LL, 0,        "2099-12-31T23:59:59.000" },
    { 4102444800LL, 0,        "2100-01-01T00:00:00.000" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(a); i++){
    struct timespec ts;
    char z[24];
    ts.tv_sec = (time_t)a[i].iSec;
    ts.tv_nsec = a[i].nNs;
    memset(z, 'x', sizeof(z));
    ssoLogFormatTime(&ts, z);
    CHECK( z[23]=='x' );
    z[23] = 0;
    CHECK_STR( z, a[i].zWant );
  }
}

/* A log line as written: time to the millisecond with a Z, then level. */
static void test_log_line_time(void){
  int fds[2];
  char z[256];
  ssize_t n;
  SsoLog lg;
  int i;
  CHECK( pipe(fds)==0 );
  ssoLogInit(&lg, fds[1], SSO_LOG_INFO, 0);
  ssoLog(&lg, SSO_LOG_INFO, "x", (char*)0);
  lg.bJson = 1;
  ssoLog(&lg, SSO_LOG_ERROR, "y", (char*)0);
  close(fds[1]);
  n = read(fds[0], z, sizeof(z)-1);
  close(fds[0]);
  CHECK( n>0 );
  z[n>0 ? n : 0] = 0;
  CHECK( strncmp(z, "time=", 5)==0 );
  for(i=0; i<24; i++){
    char c = z[5+i], w = "dddd-dd-ddTdd:dd:dd.dddZ"[i];
    CHECK( w=='d' ? (c>='0' && c<='9') : c==w );
  }
  CHECK( strncmp(z+29, " level=info msg=x\n{\"time\":\"", 27)==0 );
  CHECK( strncmp(z+56+23, "Z\",\"level\":\"error\",\"msg\":\"y\"}\n", 30)==0 );
}

/* Read everything a non-blocking descriptor holds now. */
static size_t drainFd(int fd, char *z, size_t nMax){
  size_t n = 0;
  for(;;){
    ssize_t k = read(fd, z+n, nMax-1-n);
    if( k<=0 ) break;
    n += (size_t)k;
  }
  z[n] = 0;
  return n;
}

/* Batched lines wait until the batch ends, then go out in order. */
static void test_log_batch(void){
  int fds[2], fds2[2];
  static char z[20000];
  char zLong[6000];
  SsoLog lg, lg2;
  int i;
  size_t n;
  CHECK( pipe(fds)==0 && pipe(fds2)==0 );
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  fcntl(fds2[0], F_SETFL, O_NONBLOCK);
  ssoLogInit(&lg, fds[1], SSO_LOG_INFO, 0);
  ssoLogInit(&lg2, fds2[1], SSO_LOG_INFO, 0);
  CHECK_INT( ssoLogBatch(1), 0 );
  ssoLog(&lg, SSO_LOG_INFO, "one", (char*)0);
  ssoLog(&lg, SSO_LOG_INFO, "two", (char*)0);
  CHECK_INT( (int)drainFd(fds[0], z, sizeof(z)), 0 );
  ssoLogFlush();
  drainFd(fds[0], z, sizeof(z));
  CHECK( strstr(z, "msg=one\n")!=0 && strstr(z, "msg=one\n")<strstr(z, "msg=two\n") );
  /* Another descriptor: the first one's lines go out first. */
  ssoLog(&lg, SSO_LOG_INFO, "three", (char*)0);
  ssoLog(&lg2, SSO_LOG_INFO, "other", (char*)0);
  drainFd(fds[0], z, sizeof(z));
  CHECK( strstr(z, "msg=three\n")!=0 );
  /* More than a batch holds: whole lines go out as it fills; a line too
  ** long for a batch goes out alone, after the ones before it. */
  for(i=0; i<100; i++) ssoLog(&lg, SSO_LOG_INFO, "fill", "i", "0123456789", (char*)0);
  memset(zLong, 'a', sizeof(zLong)-1);
  zLong[sizeof(zLong)-1] = 0;
  ssoLog(&lg, SSO_LOG_INFO, "long", "v", zLong, (char*)0);
  ssoLog(&lg, SSO_LOG_INFO, "last", (char*)0);
  CHECK_INT( ssoLogBatch(0), 1 );
  n = drainFd(fds[0], z, sizeof(z));
  CHECK( n>sizeof(zLong) );
  CHECK( strstr(z, "msg=long")!=0 && strstr(z, "msg=last\n")>strstr(z, "msg=long") );
  for(i=0; i<100; i++){
    char *p = strstr(z, "msg=fill i=0123456789\n");
    CHECK( p!=0 );
    if( p==0 ) break;
    p[4] = 'X';
    CHECK( p<strstr(z, "msg=long") );
  }
  drainFd(fds2[0], z, sizeof(z));
  CHECK( strstr(z, "msg=other\n")!=0 );
  /* Not batching: written at once. */
  ssoLog(&lg, SSO_LOG_INFO, "now", (char*)0);
  drainFd(fds[0], z, sizeof(z));
  CHECK( strstr(z, "msg=now\n")!=0 );
  close(fds[0]); close(fds[1]);
  close(fds2[0]); close(fds2[1]);
}

#ifdef __linux__
/* Each write of a batch is whole lines and at most 4096 bytes (PIPE_BUF),
** so writers sharing a pipe never interleave. A SOCK_SEQPACKET pair keeps
** the boundaries of the writes for us to see. */
static void test_log_batch_writes(void){
  int sv[2], i, nWrites = 0, nLines = 0;
  char z[8192];
  SsoLog lg;
  CHECK( socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)==0 );
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  ssoLogInit(&lg, sv[1], SSO_LOG_INFO, 0);
  ssoLogBatch(1);
  for(i=0; i<200; i++) ssoLog(&lg, SSO_LOG_INFO, "line", "i", "0123456789", (char*)0);
  ssoLogBatch(0);
  for(;;){
    ssize_t n = read(sv[0], z, sizeof(z));
    ssize_t j;
    if( n<=0 ) break;
    nWrites++;
    CHECK( n<=4096 );
    CHECK( z[n-1]=='\n' );
    CHECK( strncmp(z, "time=", 5)==0 );
    for(j=0; j<n; j++) nLines += z[j]=='\n';
  }
  CHECK_INT( nLines, 200 );
  CHECK( nWrites>1 && nWrites<20 );
  close(sv[0]);
  close(sv[1]);
}
#endif

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
  TEST_CASE(test_arena_hint),
  TEST_CASE(test_buf_basic),
  TEST_CASE(test_buf_limit_is_sticky),
  TEST_CASE(test_buf_static_space),
  TEST_CASE(test_buf_oom),
  TEST_CASE(test_buf_json_string),
  TEST_CASE(test_buf_json_string_positions),
  TEST_CASE(test_buf_json_string_ceiling),
  TEST_CASE(test_buf_inline_append),
  TEST_CASE(test_log_lines),
  TEST_CASE(test_log_quote_bytes),
  TEST_CASE(test_log_time),
  TEST_CASE(test_log_line_time),
  TEST_CASE(test_log_batch),
#ifdef __linux__
  TEST_CASE(test_log_batch_writes),
#endif
  TEST_CASE(test_os_read_file),
  TEST_CASE(test_version),
};
