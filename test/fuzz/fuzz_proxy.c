/*
** Fuzz target for the proxy's parsers. For every input:
**  - as a models file: it parses or fails with a "models:LINE: " message
**    (or the default upstream's setting); every model it gives is found
**    again by its name, and names are unique;
**  - as a request body: the "model" scanner never reads out of bounds and,
**    when it finds a model, the span lies inside the body, between quotes;
**    a body the strict JSON parser accepts with a top-level string
**    "model" (and no duplicate) must be found, with the same bytes;
**  - as an event stream, fed whole and then split in three: the usage
**    scanner gives the same result both ways;
**  - as a JSON answer: the usage finder never fails otherwise.
** Any disagreement abort()s, so libFuzzer records the input.
*/
#include "../../ssoproxy.c"

static void checkModels(const char *z, size_t n){
  SsoProxyTable *t = 0;
  char zErr[600];
  int i, rc;
  rc = ssoProxyTableParse("models", z, n, (n&1) ? "http://127.0.0.1:1/v1" : 0,
                          "k", &t, zErr, sizeof(zErr));
  if( rc==SSOPROXY_OK ){
    for(i=0; i<t->nModel; i++){
      const SsoProxyModel *m = &t->aModel[i];
      if( ssoProxyTableFind(t, m->zName, m->nName)!=m ) abort();
      if( m->zBase==0 || strncmp(m->zBase, "http", 4)!=0 ) abort();
    }
    ssoProxyTableRelease(t);
  }else if( rc==SSOPROXY_CONFIG ){
    if( strncmp(zErr, "models:", 7)!=0
     && strncmp(zErr, "SSOPROXY_", 9)!=0 ) abort();
  }else if( rc!=SSOPROXY_NOMEM ){
    abort();
  }
}

static void checkBody(const char *z, size_t n){
  SsoStr raw;
  SsoJsonDoc *pDoc = 0;
  int bEsc = 0;
  int rc = ssoProxyBodyModel(z, n, &raw, &bEsc);
  if( rc==SSOPROXY_OK ){
    if( raw.z<=z || raw.z+raw.n>=z+n ) abort();
    if( raw.z[-1]!='"' || raw.z[raw.n]!='"' ) abort();
  }
  if( ssoJsonParse(z, n, SSO_JSON_NODUP, &pDoc, 0)==SSOPROXY_OK ){
    const SsoJson *m = ssoJsonGet(ssoJsonRoot(pDoc), "model");
    if( ssoJsonType(m)==SSO_JSON_STRING && !bEsc ){
      size_t nM;
      const char *zM = ssoJsonStr(m, &nM);
      if( rc!=SSOPROXY_OK || nM!=raw.n || memcmp(zM, raw.z, nM)!=0 ) abort();
    }
    if( m==0 && rc==SSOPROXY_OK ) abort();
    ssoJsonFree(pDoc);
  }
}

static void checkSse(const char *z, size_t n){
  SsoProxySse a, b;
  size_t i = n/3, j = 2*n/3;
  ssoProxySseInit(&a);
  ssoProxySseInit(&b);
  ssoProxySseFeed(&a, z, n);
  ssoProxySseFeed(&b, z, i);
  ssoProxySseFeed(&b, z+i, j-i);
  ssoProxySseFeed(&b, z+j, n-j);
  if( a.bUsage!=b.bUsage ) abort();
  if( a.bUsage && (a.nPrompt!=b.nPrompt || a.nCompl!=b.nCompl) ) abort();
  ssoProxySseFree(&a);
  ssoProxySseFree(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  const char *z = (const char*)aData;
  long long a, b;
  checkModels(z, nData);
  checkBody(z, nData);
  checkSse(z, nData);
  ssoProxyUsageFind(z, nData, &a, &b);
  return 0;
}
