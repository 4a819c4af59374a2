/*
** Fuzz target for the HTTP/1.1 parser: request heads, response heads and
** the chunked decoder. The first byte picks the parser; the rest is the
** input, copied into a buffer of exactly its size so ASan sees any read
** past the end. Beyond "no crash", it checks properties the server relies
** on:
**   - a head that parses fed whole parses the same fed in pieces with the
**     previous length, and every shorter prefix is "partial";
**   - every view the parser returns lies inside the input;
**   - the chunked decoder gives the same result in place, in one call,
**     as byte by byte into a separate buffer.
*/
#include "../../ssoproxy.c"

static const SsoHttpLimits fuzzLim = { 1024, 4096 };

static void inside(const char *z, size_t n, SsoStr s){
  if( s.n && (s.z<z || s.z+s.n>z+n) ) abort();
}

static int parseAny(int bResp, const char *z, size_t n, size_t nLast,
                    SsoHttpHead *h){
  return bResp ? ssoHttpParseResponse(z, n, nLast, &fuzzLim, h)
               : ssoHttpParseRequest(z, n, nLast, &fuzzLim, h);
}

static void fuzzHead(const char *z, size_t n, int bResp, size_t nStep){
  SsoHttpHeader aHdr[16];
  SsoHttpHead h;
  size_t k, nLast = 0;
  int rc, i;
  h.aHdr = aHdr;
  h.mxHdr = 16;
  rc = parseAny(bResp, z, n, 0, &h);
  if( rc==0 || rc<-999 ) abort();
  if( rc<=0 ) return;
  if( (size_t)rc>n || h.nHdr>16 ) abort();
  inside(z, n, h.method);
  inside(z, n, h.target);
  inside(z, n, h.reason);
  for(i=0; i<h.nHdr; i++){
    inside(z, (size_t)rc, h.aHdr[i].name);
    inside(z, (size_t)rc, h.aHdr[i].value);
  }
  for(k=0; k<(size_t)rc; k++){
    if( parseAny(bResp, z, k, 0, &h)!=SSO_HTTP_PARTIAL ) abort();
  }
  for(k=nStep; ; k+=nStep){
    int rc2;
    if( k>n ) k = n;
    rc2 = parseAny(bResp, z, k, nLast, &h);
    if( k<(size_t)rc && rc2!=SSO_HTTP_PARTIAL ) abort();
    if( k>=(size_t)rc ){
      if( rc2!=rc ) abort();
      break;
    }
    nLast = k;
  }
}

static void fuzzChunked(const char *z, size_t n, size_t mxLine){
  SsoHttpChunked a, b;
  char *zIn = malloc(n ? n : 1), *zOut = malloc(n ? n : 1);
  size_t nUsedA = 0, nOutA = 0, nUsedB = 0, nOutB = 0, i;
  int rcA, rcB = 0;
  memcpy(zIn, z, n);
  ssoHttpChunkedInit(&a, mxLine, 512);
  rcA = ssoHttpChunkedDecode(&a, zIn, n, zIn, &nUsedA, &nOutA);
  ssoHttpChunkedInit(&b, mxLine, 512);
  for(i=0; i<n; i++){
    size_t nU, nO;
    rcB = ssoHttpChunkedDecode(&b, z+i, 1, zOut+nOutB, &nU, &nO);
    nOutB += nO;
    nUsedB += nU;
    if( rcB!=0 ) break;
  }
  if( n==0 ) rcB = 0;
  if( nOutA>nUsedA || nUsedA>n ) abort();
  if( rcA!=rcB || nUsedA!=nUsedB || nOutA!=nOutB ) abort();
  if( memcmp(zIn, zOut, nOutA)!=0 ) abort();
  free(zIn);
  free(zOut);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  char *z;
  size_t n;
  unsigned sel;
  if( nData<1 ) return 0;
  sel = aData[0];
  n = nData - 1;
  z = malloc(n ? n : 1);
  memcpy(z, aData+1, n);
  switch( sel % 3 ){
    case 0: fuzzHead(z, n, 0, 1 + (sel>>2)%13); break;
    case 1: fuzzHead(z, n, 1, 1 + (sel>>2)%13); break;
    case 2: fuzzChunked(z, n, 16 + (sel>>2)*8); break;
  }
  free(z);
  return 0;
}
