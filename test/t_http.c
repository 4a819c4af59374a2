/*
** Tests for the HTTP/1.1 parser (src/http.c): request heads, response
** heads and the chunked decoder. Every input is parsed where it ends
** exactly at a PROT_NONE page (picohttpparser's trick), so any read past
** the end faults. Every proper prefix of a valid head must say "partial",
** never "error", whether fed whole or a byte at a time.
*/
#include <sys/mman.h>

/* ---- Guard page ---- */
#define GUARD_SPAN (128*1024)
static char *gGuardBase;

/* Copy z[0..n) so that its last byte is the last readable byte. */
static char *guarded(const void *z, size_t n){
  if( gGuardBase==0 ){
    long nPage = sysconf(_SC_PAGESIZE);
    void *p = mmap(0, GUARD_SPAN + (size_t)nPage, PROT_READ|PROT_WRITE,
                   MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
    if( p==MAP_FAILED ) abort();
    gGuardBase = p;
    if( mprotect(gGuardBase+GUARD_SPAN, (size_t)nPage, PROT_NONE) ) abort();
  }
  if( n>GUARD_SPAN ) abort();
  memcpy(gGuardBase+GUARD_SPAN-n, z, n);
  return gGuardBase+GUARD_SPAN-n;
}

static const SsoHttpLimits httpLim = { 8192, 16384 };

static int parseReq(const char *z, size_t n, size_t nLast, SsoHttpHead *p){
  return ssoHttpParseRequest(guarded(z, n), n, nLast, &httpLim, p);
}

static int viewIs(SsoStr s, const char *z){
  return s.n==strlen(z) && memcmp(s.z, z, s.n)==0;
}

/* ---- Valid requests ---- */
typedef struct ReqCase ReqCase;
struct ReqCase {
  const char *zIn;
  const char *zMethod, *zTarget;
  int iMinor, nHdr, eBody;
  unsigned long long nBody;
  int bClose, bContinue;
};
static const ReqCase aValidReq[] = {
  { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", 1, 1, 0, 0, 0, 0 },
  { "GET /health/liveliness?x=1 HTTP/1.1\r\nHost: localhost:4000\r\n"
    "User-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
    "GET", "/health/liveliness?x=1", 1, 3, 0, 0, 0, 0 },
  { "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
    "Content-Type: application/json\r\n\r\n",
    "POST", "/v1/chat/completions", 1, 3, SSO_HTTP_BODY_LENGTH, 5, 0, 0 },
  { "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST", "/x", 1, 2, SSO_HTTP_BODY_CHUNKED, 0, 0, 0 },
  { "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tChunked \r\n"
    "Expect: 100-Continue\r\n\r\n",
    "PUT", "/x", 1, 3, SSO_HTTP_BODY_CHUNKED, 0, 0, 1 },
  { "GET / HTTP/1.0\r\n\r\n", "GET", "/", 0, 0, 0, 0, 1, 0 },
  { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nExpect: 100-continue\r\n\r\n",
    "GET", "/", 0, 2, 0, 0, 0, 0 },
  { "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n",
    "GET", "/", 1, 2, 0, 0, 1, 0 },
  { "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/a", 1, 1, 0, 0, 0, 0 },
  { "\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/a", 1, 1, 0,0,0,0 },
  { "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Tab:\tv a l\t \r\n"
    "X-Utf8: caf\xc3\xa9\r\n\r\n", "GET", "/", 1, 4, 0, 0, 0, 0 },
  { "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", 1, 1, 0,0,0,0 },
  { "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
    "GET", "/", 1, 2, SSO_HTTP_BODY_NONE, 0, 0, 0 },
  { "M-SEARCH|x~ http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
    "M-SEARCH|x~", "http://h/p?q", 1, 1, 0, 0, 0, 0 },
  { "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 000012\r\n\r\n",
    "POST", "/", 1, 2, SSO_HTTP_BODY_LENGTH, 12, 0, 0 },
};

static void checkReqCase(const ReqCase *t, const SsoHttpHead *h){
  CHECK( viewIs(h->method, t->zMethod) );
  CHECK( viewIs(h->target, t->zTarget) );
  CHECK_INT( h->iMinor, t->iMinor );
  CHECK_INT( h->nHdr, t->nHdr );
  CHECK_INT( h->eBody, t->eBody );
  CHECK_INT( h->nBody, t->nBody );
  CHECK_INT( h->bClose, t->bClose );
  CHECK_INT( h->bContinue, t->bContinue );
}

static void test_http_request_valid(void){
  SsoHttpHeader aHdr[16];
  SsoHttpHead h;
  size_t i;
  h.aHdr = aHdr;
  h.mxHdr = 16;
  for(i=0; i<SSO_ARRAYSIZE(aValidReq); i++){
    const ReqCase *t = &aValidReq[i];
    size_t n = strlen(t->zIn), k;
    int rc = parseReq(t->zIn, n, 0, &h);
    if( rc!=(int)n ) fprintf(stderr, "  case %d: rc=%d\n", (int)i, rc);
    CHECK_INT( rc, n );
    checkReqCase(t, &h);
    /* Every proper prefix is incomplete, never an error. */
    for(k=0; k<n; k++){
      rc = parseReq(t->zIn, k, 0, &h);
      if( rc!=SSO_HTTP_PARTIAL ){
        fprintf(stderr, "  case %d prefix %d: rc=%d\n", (int)i, (int)k, rc);
      }
      CHECK_INT( rc, SSO_HTTP_PARTIAL );
    }
    /* The same, fed a byte at a time with the previous length. */
    for(k=1; k<=n; k++){
      rc = parseReq(t->zIn, k, k-1, &h);
      CHECK_INT( rc, k<n ? SSO_HTTP_PARTIAL : (int)n );
    }
    checkReqCase(t, &h);
  }
}

static void test_http_request_fields(void){
  static const char z[] =
    "GET /p HTTP/1.1\r\nHost: example.org\r\nX-Tab:\tv a l\t \r\n"
    "X-Empty:\r\nCookie: s=1\r\n\r\nGET /next";
  SsoHttpHeader aHdr[8];
  SsoHttpHead h;
  SsoStr v;
  int rc;
  h.aHdr = aHdr;
  h.mxHdr = 8;
  rc = parseReq(z, sizeof(z)-1, 0, &h);
  CHECK_INT( rc, sizeof(z)-1-9 );      /* stops before the next request */
  CHECK_INT( h.nHdr, 4 );
  CHECK( viewIs(h.aHdr[0].name, "Host") );
  CHECK( viewIs(h.aHdr[0].value, "example.org") );
  CHECK( viewIs(h.aHdr[1].value, "v a l") );
  CHECK( viewIs(h.aHdr[2].value, "") );
  CHECK( ssoHttpHeaderFind(&h, "cookie", &v) && viewIs(v, "s=1") );
  CHECK( ssoHttpHeaderFind(&h, "HOST", &v) && viewIs(v, "example.org") );
  CHECK( !ssoHttpHeaderFind(&h, "Hos", &v) );
  CHECK( !ssoHttpHeaderFind(&h, "Hostx", &v) );
}

/* ---- Rejections ---- */
typedef struct BadCase BadCase;
struct BadCase { const char *zIn; int iStatus; };
static const BadCase aBadReq[] = {
  /* Line endings (RFC 9112 §2.2) */
  { "GET / HTTP/1.1\nHost: h\n\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\n\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400 },
  { "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  /* Folding and whitespace (§5.1, §5.2) */
  { "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400 },
  /* Tokens */
  { "GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", 400 },
  { "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { " GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400 },
  /* Control bytes in values and targets */
  { "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f" "b\r\n\r\n", 400 },
  { "GET /a\x01" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[31m\r\n\r\n", 400 },
  /* Framing: the smuggling classics (§6.1-6.3) */
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    "Content-Length: 5\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
    "Content-Length: 5\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
    "Content-Length: 6\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\n"
    "Content-Length: 99999999999999999999\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\n"
    "Content-Length: 18446744073709551617\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
    400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    "Transfer-Encoding: chunked\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    "Transfer-encoding: identity\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n", 400 },
  { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
    400 },
  { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
  /* Host (§3.2) */
  { "GET / HTTP/1.1\r\n\r\n", 400 },
  { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
  { "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400 },
  /* Versions */
  { "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
  { "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505 },
  { "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505 },
  { "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400 },
  { "GET / http/1.1\r\nHost: h\r\n\r\n", 400 },
  { "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400 },
  { "GET / HTTP/1\r\nHost: h\r\n\r\n", 400 },
  { "GET /\r\nHost: h\r\n\r\n", 400 },
  /* Expectations (RFC 9110 §10.1.1) */
  { "GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417 },
};

static void test_http_request_reject(void){
  SsoHttpHeader aHdr[16];
  SsoHttpHead h;
  size_t i;
  h.aHdr = aHdr;
  h.mxHdr = 16;
  for(i=0; i<SSO_ARRAYSIZE(aBadReq); i++){
    const BadCase *t = &aBadReq[i];
    int rc = parseReq(t->zIn, strlen(t->zIn), 0, &h);
    if( rc!=-t->iStatus ){
      fprintf(stderr, "  bad case %d: rc=%d want %d\n", (int)i, rc,
              -t->iStatus);
    }
    CHECK_INT( rc, -t->iStatus );
  }
  /* A NUL byte is a control byte like any other. */
  {
    static const char z[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    CHECK_INT( parseReq(z, sizeof(z)-1, 0, &h), -400 );
  }
}

/* Build "GET /aaaa... HTTP/1.1" with a target of nTarget bytes. */
static char *longLine(size_t nTarget, int bComplete, size_t *pn){
  SsoBuf b;
  size_t i;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "GET /");
  for(i=1; i<nTarget; i++) ssoBufAppendChar(&b, 'a');
  ssoBufAppendStr(&b, " HTTP/1.1\r\n");
  if( bComplete ) ssoBufAppendStr(&b, "Host: h\r\n\r\n");
  return ssoBufFinish(&b, pn);
}

static void test_http_request_limits(void){
  SsoHttpHeader aHdr[4];
  SsoHttpHead h;
  SsoBuf b;
  char *z;
  size_t n = 0, k;
  int i, rc;
  h.aHdr = aHdr;
  h.mxHdr = 4;
  /* Request line at the limit is fine; one byte over is 414, whether the
  ** head is complete or still arriving. */
  z = longLine(8192-13, 1, &n);
  CHECK_INT( parseReq(z, n, 0, &h), n );
  ssoFree(z);
  z = longLine(8192-12, 1, &n);
  CHECK_INT( parseReq(z, n, 0, &h), -414 );
  ssoFree(z);
  z = longLine(12000, 0, &n);
  CHECK_INT( parseReq(z, 9000, 0, &h), -414 );
  /* ... and fed incrementally, the crossing call notices. */
  rc = SSO_HTTP_PARTIAL;
  for(k=1000; k<=9000 && rc==SSO_HTTP_PARTIAL; k+=1000){
    rc = parseReq(z, k, k-1000, &h);
  }
  CHECK_INT( rc, -414 );
  ssoFree(z);
  /* Header count over the caller's capacity: 431. */
  CHECK_INT( parseReq("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                      45, 0, &h), 45 );
  CHECK_INT( parseReq("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
                      "D: 4\r\n\r\n", 51, 0, &h), -431 );
  /* Head bytes over the limit: 431, complete or not. */
  h.mxHdr = 4;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
  for(i=0; i<17000; i++) ssoBufAppendChar(&b, 'x');
  ssoBufAppendStr(&b, "\r\n\r\n");
  CHECK_INT( parseReq(b.z, b.n, 0, &h), -431 );
  CHECK_INT( parseReq(b.z, 16383, 0, &h), SSO_HTTP_PARTIAL );
  CHECK_INT( parseReq(b.z, 16384, 0, &h), -431 );
  ssoBufFree(&b);
}

/* ---- Responses ---- */
static int parseResp(const char *z, SsoHttpHead *p){
  size_t n = strlen(z);
  return ssoHttpParseResponse(guarded(z, n), n, 0, &httpLim, p);
}

static void test_http_response(void){
  static const struct {
    const char *zIn; int iStatus; const char *zReason; int eBody;
    unsigned long long nBody; int bClose;
  } aOk[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", 200, "OK",
      SSO_HTTP_BODY_LENGTH, 12, 0 },
    { "HTTP/1.1 204\r\n\r\n", 204, "", SSO_HTTP_BODY_EOF, 0, 1 },
    { "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", 404, "",
      SSO_HTTP_BODY_NONE, 0, 0 },
    { "HTTP/1.0 200 OK\r\n\r\n", 200, "OK", SSO_HTTP_BODY_EOF, 0, 1 },
    { "HTTP/1.1 200 Very Fine Indeed\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n", 200, "Very Fine Indeed",
      SSO_HTTP_BODY_CHUNKED, 0, 1 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 200, "OK",
      SSO_HTTP_BODY_EOF, 0, 1 },
    { "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\nX: y\r\n\r\n", 502,
      "Bad Gateway", SSO_HTTP_BODY_LENGTH, 3, 0 },
  };
  static const char *const azBad[] = {
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 200OK\r\n\r\n",
    "HTTP/1.1 099 Low\r\n\r\n",
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\nContent-Length: 1\n\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n",
    "HTTP/1.1 200 O\x01K\r\n\r\n",
    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "ICY 200 OK\r\n\r\n",
  };
  SsoHttpHeader aHdr[8];
  SsoHttpHead h;
  size_t i, k;
  h.aHdr = aHdr;
  h.mxHdr = 8;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    size_t n = strlen(aOk[i].zIn);
    CHECK_INT( parseResp(aOk[i].zIn, &h), n );
    CHECK_INT( h.iStatus, aOk[i].iStatus );
    CHECK( viewIs(h.reason, aOk[i].zReason) );
    CHECK_INT( h.eBody, aOk[i].eBody );
    CHECK_INT( h.nBody, aOk[i].nBody );
    CHECK_INT( h.bClose, aOk[i].bClose );
    for(k=0; k<n; k++){
      CHECK_INT( ssoHttpParseResponse(guarded(aOk[i].zIn, k), k, 0, &httpLim,
                                      &h), SSO_HTTP_PARTIAL );
    }
  }
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    int rc = parseResp(azBad[i], &h);
    if( rc!=-502 ) fprintf(stderr, "  bad response %d: rc=%d\n", (int)i, rc);
    CHECK_INT( rc, -502 );
  }
}

/* ---- Chunked ---- */

/* Decode z whole (in place, in a guarded copy) into zOut. Returns the
** decoder's result; *pnUsed input consumed, *pnOut data. */
static int decodeAll(const char *z, size_t n, size_t mxLine, size_t mxOver,
                     char *zOut, size_t *pnUsed, size_t *pnOut){
  SsoHttpChunked ch;
  char *zIn = guarded(z, n);
  int rc;
  ssoHttpChunkedInit(&ch, mxLine, mxOver);
  rc = ssoHttpChunkedDecode(&ch, zIn, n, zIn, pnUsed, pnOut);
  memcpy(zOut, zIn, *pnOut);
  zOut[*pnOut] = 0;
  return rc;
}

static void test_http_chunked_valid(void){
  static const struct { const char *zIn; const char *zData; size_t nTail; }
  aOk[] = {
    { "5\r\nhello\r\n0\r\n\r\n", "hello", 0 },
    { "5;name=value\r\nhello\r\n6;a;b=\"q s\"\r\n world\r\n0\r\n\r\n",
      "hello world", 0 },
    { "5 ;ext\r\nhello\r\n0\r\n\r\n", "hello", 0 },
    { "3\r\nabc\r\n0\r\nX-T: 1\r\nY:2\r\n\r\n", "abc", 0 },
    { "000A\r\n0123456789\r\n00\r\n\r\n", "0123456789", 0 },
    { "a\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "0123456789", 16 },
    { "0\r\n\r\n", "", 0 },
  };
  char zOut[256];
  size_t i, k;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    const char *z = aOk[i].zIn;
    size_t n = strlen(z), nUsed = 0, nOut = 0;
    int rc = decodeAll(z, n, 4096, 65536, zOut, &nUsed, &nOut);
    CHECK_INT( rc, 1 );
    CHECK_INT( nUsed, n - aOk[i].nTail );
    CHECK_STR( zOut, aOk[i].zData );
    /* Split in two at every point: the same data, in place. */
    for(k=0; k<n - aOk[i].nTail; k++){
      SsoHttpChunked ch;
      char aBuf[256];
      size_t nU1, nO1, nU2, nO2;
      int rc1, rc2;
      memcpy(aBuf, z, n);
      ssoHttpChunkedInit(&ch, 4096, 65536);
      rc1 = ssoHttpChunkedDecode(&ch, aBuf, k, aBuf, &nU1, &nO1);
      CHECK_INT( rc1, 0 );
      CHECK_INT( nU1, k );
      rc2 = ssoHttpChunkedDecode(&ch, aBuf+k, n-k, aBuf+nO1, &nU2, &nO2);
      CHECK_INT( rc2, 1 );
      CHECK_INT( k+nU2, n - aOk[i].nTail );
      aBuf[nO1+nO2] = 0;
      CHECK_STR( aBuf, aOk[i].zData );
    }
  }
}

static void test_http_chunked_bytewise(void){
  static const char z[] = "4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks."
                          "\r\n0\r\nExpires: never\r\n\r\n";
  SsoHttpChunked ch;
  char aOut[64];
  size_t i, nOut = 0;
  int rc = 0;
  ssoHttpChunkedInit(&ch, 4096, 65536);
  for(i=0; i<sizeof(z)-1; i++){
    size_t nU, nO;
    rc = ssoHttpChunkedDecode(&ch, guarded(z+i, 1), 1, aOut+nOut, &nU, &nO);
    CHECK_INT( nU, 1 );
    nOut += nO;
    if( i<sizeof(z)-2 ) CHECK_INT( rc, 0 );
  }
  CHECK_INT( rc, 1 );
  aOut[nOut] = 0;
  CHECK_STR( aOut, "Wikipedia in\r\n\r\nchunks." );
  CHECK_INT( ch.nData, 23 );
}

static void test_http_chunked_reject(void){
  static const char *const azBad[] = {
    "g\r\n",
    "\r\n",
    ";ext\r\n",
    "5\r\nhelloX\r\n",
    "5\r\nhello\n0\r\n\r\n",
    "5\nhello\r\n",
    "5\r\r\nhello\r\n",
    "5 \r\nhello\r\n0\r\n\r\n",
    "-5\r\n",
    "0x5\r\n",
    "5;\x01\r\n",
    "5;a\nb\r\n",
    "3\r\nabc\r\n0\r\nX-T 1\r\n\r\n",
    "3\r\nabc\r\n0\r\nX-T: \x01\r\n\r\n",
    "3\r\nabc\r\n0\r\n: v\r\n\r\n",
    "3\r\nabc\r\n0\r\n\r\r\n",
    "1000000000000000\r\n",          /* 16 significant digits: over 2^60 */
    "ffffffffffffffffff\r\n",
  };
  char zOut[64];
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    size_t nUsed, nOut;
    int rc = decodeAll(azBad[i], strlen(azBad[i]), 4096, 65536, zOut,
                       &nUsed, &nOut);
    if( rc!=-400 ) fprintf(stderr, "  bad chunk %d: rc=%d\n", (int)i, rc);
    CHECK_INT( rc, -400 );
  }
  {
    /* 15 significant digits is a size we accept (then wait for data),
    ** however many leading zeros come first. */
    size_t nUsed, nOut;
    CHECK_INT( decodeAll("00000fffffffffffffff\r\nab", 24, 4096, 65536, zOut,
                         &nUsed, &nOut), 0 );
    CHECK_INT( nOut, 2 );
  }
}

/* Framing that outweighs the data is cut off; a long line too. */
static void test_http_chunked_limits(void){
  SsoBuf b;
  char *zOut;
  size_t nUsed, nOut;
  int i;
  ssoBufInit(&b, 0);
  for(i=0; i<2000; i++) ssoBufAppendStr(&b, "1;pad=xxxxxxxxxxxxxxxxxxxx\r\na\r\n");
  ssoBufAppendStr(&b, "0\r\n\r\n");
  zOut = ssoMalloc(b.n+1);
  CHECK_INT( decodeAll(b.z, b.n, 4096, 65536, zOut, &nUsed, &nOut), 1 );
  CHECK_INT( decodeAll(b.z, b.n, 4096, 4096, zOut, &nUsed, &nOut), -400 );
  CHECK( nUsed<8192 );
  ssoBufTruncate(&b, 0);
  ssoBufAppendStr(&b, "5;");
  for(i=0; i<200; i++) ssoBufAppendChar(&b, 'e');
  ssoBufAppendStr(&b, "\r\nhello\r\n0\r\n\r\n");
  CHECK_INT( decodeAll(b.z, b.n, 4096, 65536, zOut, &nUsed, &nOut), 1 );
  CHECK_INT( decodeAll(b.z, b.n, 100, 65536, zOut, &nUsed, &nOut), -400 );
  ssoFree(zOut);
  ssoBufFree(&b);
}

static void test_http_misc(void){
  CHECK_STR( ssoHttpReason(404), "Not Found" );
  CHECK_STR( ssoHttpReason(431), "Request Header Fields Too Large" );
  CHECK_STR( ssoHttpReason(299), "" );
  CHECK( ssoHttpIsToken("X-Request-Id", 12) );
  CHECK( !ssoHttpIsToken("X Y", 3) );
  CHECK( !ssoHttpIsToken("", 0) );
  CHECK( ssoHttpStrIEq((SsoStr){"ChUnKeD", 7}, "chunked") );
  CHECK( !ssoHttpStrIEq((SsoStr){"chunke", 6}, "chunked") );
  CHECK( !ssoHttpStrIEq((SsoStr){"chunkedx", 8}, "chunked") );
  /* The inline first-byte test: equal but for bit 0x20 is not enough. */
  CHECK( !ssoHttpStrIEq((SsoStr){"[a", 2}, "{a") );
  CHECK( !ssoHttpStrIEq((SsoStr){"-", 1}, "\r") );
  CHECK( ssoHttpStrIEq((SsoStr){"", 0}, "") );
  CHECK( !ssoHttpStrIEq((SsoStr){"", 0}, "a") );
  CHECK( !ssoHttpStrIEq((SsoStr){" ", 1}, "") );
  CHECK( !ssoHttpStrIEq((SsoStr){"a", 1}, "") );
  CHECK( ssoHttpStrIEq((SsoStr){"Host", 4}, "host") );
}

static const TestCase aHttpTests[] = {
  TEST_CASE(test_http_request_valid),
  TEST_CASE(test_http_request_fields),
  TEST_CASE(test_http_request_reject),
  TEST_CASE(test_http_request_limits),
  TEST_CASE(test_http_response),
  TEST_CASE(test_http_chunked_valid),
  TEST_CASE(test_http_chunked_bytewise),
  TEST_CASE(test_http_chunked_reject),
  TEST_CASE(test_http_chunked_limits),
  TEST_CASE(test_http_misc),
};
