/*
** Fuzz target for the client's response state machine (SsoClientParser in
** src/client.c), without sockets: the input is fed as one piece and again
** cut at pseudo-random points, into a buffer that keeps the unconsumed
** bytes the way the client does. Beyond "no crash", it checks:
**   - both feedings agree on the outcome, the status, whether the
**     connection may be kept and (unless it failed) every body byte;
**   - consumed counts and every head or data range lie inside the bytes
**     given, and heads' views inside the head;
**   - the body bytes counted by the parser are the ones delivered, and
**     never more than the limit.
** Input: byte 0 = flags (bit 0 answers a HEAD, bit 1 the connection ends
** after the input, bits 2-7 pick the body limit), byte 1 = the seed of
** the cut points, then the bytes the remote sent.
*/
#include "../../ssoproxy.c"

typedef struct FzOut FzOut;
struct FzOut {
  int rc;               /* SSO_CP_END, an error, or SSO_CP_MORE */
  int iStatus;
  int bKeep;
  unsigned long long nBody;
  char *aBody;          /* The first 64 KiB of the body */
  size_t nKept;
};

static void fzInside(const char *a, size_t n, SsoStr s){
  if( s.n && (s.z<a || s.z+s.n>a+n) ) abort();
}

static void fzRun(const char *z, size_t n, unsigned seed, int bHead,
                  int bEof, unsigned long long mxBody, FzOut *o){
  SsoClientParser p;
  SsoHttpHeader aHdr[8];
  char *a = malloc(n ? n : 1);
  size_t nA = 0, iIn = 0;
  memset(o, 0, sizeof(*o));
  o->aBody = malloc(65536);
  o->rc = SSO_CP_MORE;
  ssoClientParserInit(&p, aHdr, 8, 2048, mxBody, bHead);
  while( iIn<n ){
    size_t k = n - iIn;
    if( seed ){
      seed = seed*1103515245u + 12345u;
      k = 1 + (seed>>16)%97;
      if( k>n-iIn ) k = n - iIn;
    }
    memcpy(a+nA, z+iIn, k);
    nA += k;
    iIn += k;
    for(;;){
      size_t nUsed = 0, iData = 0, nData = 0;
      int e = ssoClientParserFeed(&p, a, nA, &nUsed, &iData, &nData);
      if( nUsed>nA ) abort();
      if( e==SSO_CP_HEAD || e==SSO_CP_DATA ){
        if( iData+nData>nA || iData+nData>nUsed ) abort();
      }
      if( e==SSO_CP_HEAD ){
        int i;
        if( p.head.iStatus<200 || p.head.iStatus>999 ) abort();
        for(i=0; i<p.head.nHdr; i++){
          fzInside(a+iData, nData, p.head.aHdr[i].name);
          fzInside(a+iData, nData, p.head.aHdr[i].value);
        }
        o->iStatus = p.head.iStatus;
      }
      if( e==SSO_CP_DATA ){
        if( nData==0 ) abort();
        if( o->nKept+nData<=65536 ){
          memcpy(o->aBody+o->nKept, a+iData, nData);
          o->nKept += nData;
        }
        o->nBody += nData;
        if( o->nBody>mxBody || o->nBody!=p.nBody ) abort();
      }
      memmove(a, a+nUsed, nA-nUsed);
      nA -= nUsed;
      if( e==SSO_CP_END || e<0 ){
        o->rc = e;
        o->bKeep = p.bKeep;
        if( e<0 && ssoClientParserFeed(&p, a, nA, &nUsed, &iData, &nData)!=e ){
          abort();        /* an error is final */
        }
        free(a);
        return;
      }
      if( e==SSO_CP_MORE ) break;
    }
  }
  o->rc = bEof ? ssoClientParserEof(&p) : SSO_CP_MORE;
  o->bKeep = p.bKeep;
  free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  static const unsigned long long aLimit[] = { 0, 1, 10, 100, 1000, 65536 };
  FzOut x, y;
  unsigned flags, seed;
  unsigned long long mx;
  if( nData<2 ) return 0;
  flags = aData[0];
  seed = aData[1] | 1u;
  mx = aLimit[(flags>>2) % 6];
  fzRun((const char*)aData+2, nData-2, 0, flags&1, (flags>>1)&1, mx, &x);
  fzRun((const char*)aData+2, nData-2, seed, flags&1, (flags>>1)&1, mx, &y);
  if( x.rc!=y.rc || x.iStatus!=y.iStatus || x.bKeep!=y.bKeep ) abort();
  if( x.rc>=0 ){
    if( x.nBody!=y.nBody || x.nKept!=y.nKept ) abort();
    if( memcmp(x.aBody, y.aBody, x.nKept) ) abort();
  }
  free(x.aBody);
  free(y.aBody);
  return 0;
}
