/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the /v1 proxy (see proxy.h for the picture).
**
** One request: authenticate it (one indexed SELECT), find the "model"
** member of its body with a scanner that looks at the top level only
** (the body is never parsed into a tree, nor copied unless the model
** name must be rewritten), route it through the current table, check
** the key's allowed models and limits, and hand it to the worker's
** outbound client, which keeps pooled connections to each upstream.
**
** Answers: an answer that is an event stream, or larger than
** SSO_PROXY_BUFFER_MAX, is streamed to the client piece by piece with
** back-pressure both ways (a client that reads slowly pauses the
** upstream; one that leaves cancels it, which closes the upstream
** connection at once). Other answers are collected and sent whole with
** a Content-Length, which costs one copy and saves the chunked framing.
**
** Tables: each worker keeps a view of the table it last saw: the view
** holds one (atomic) reference to the table and counts its own users,
** the requests of that worker, without atomics. A reload publishes a
** new table and bumps a generation number; a worker that notices the
** change makes a new view, and the old one (and its table) goes away
** with the last request that used it.
**
** Usage: each worker adds its requests and tokens into a small table,
** written by a loop timer every SSO_PROXY_USAGE_MS through
** ssoStoreKeysUsage(), so a proxied request never writes the database.
*/
#include "ssoInt.h"
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <unistd.h>

/* ---- The routing table ---------------------------------------------------- */

/* The table and its reference count, which only this file touches. */
typedef struct ProxyTableBox ProxyTableBox;
struct ProxyTableBox {
  SsoProxyTable t;          /* First: a table pointer is a box pointer */
  atomic_int nRef;
};

SSO_PRIVATE void ssoProxyTableRelease(SsoProxyTable *pTab){
  ProxyTableBox *b = (ProxyTableBox*)pTab;
  if( b==0 ) return;
  if( atomic_fetch_sub(&b->nRef, 1)==1 ){
    ssoArenaFree(&b->t.arena);
    ssoFree(b);
  }
}

static void proxyTableRetain(SsoProxyTable *pTab){
  atomic_fetch_add(&((ProxyTableBox*)pTab)->nRef, 1);
}

/* Compare a model's name with z[0..n), as memcmp would order them. */
static int proxyNameCmp(const SsoProxyModel *m, const char *z, size_t n){
  size_t k = m->nName<n ? m->nName : n;
  int c = memcmp(m->zName, z, k);
  if( c ) return c;
  return m->nName<n ? -1 : m->nName>n;
}

SSO_PRIVATE const SsoProxyModel *ssoProxyTableFind(const SsoProxyTable *t,
                                                   const char *z, size_t n){
  int lo = 0, hi = t->nModel-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    int c = proxyNameCmp(t->apSorted[mid], z, n);
    if( c==0 ) return t->apSorted[mid];
    if( c<0 ) lo = mid+1;
    else hi = mid-1;
  }
  return 0;
}

static int proxySortCmp(const void *a, const void *b){
  const SsoProxyModel *x = *(const SsoProxyModel *const*)a;
  const SsoProxyModel *y = *(const SsoProxyModel *const*)b;
  return proxyNameCmp(x, y->zName, y->nName);
}

/* The parse state of one models file. */
typedef struct ProxyParse ProxyParse;
struct ProxyParse {
  const char *zFile;
  int iLine;
  char *zErr;
  size_t nErr;
  SsoProxyTable *t;
  int nAlloc;
};

#define proxyParseErr(pp, ...) \
  ssoErrorf((pp)->zErr, (pp)->nErr, SSOPROXY_CONFIG, __VA_ARGS__)

/*
** Check an api_base (or SSOPROXY_UPSTREAM_URL) and store it in m without
** its trailing slashes. zWhat prefixes the message ("FILE:LINE: api_base"
** or the setting's name).
*/
static int proxyBase(ProxyParse *pp, SsoProxyModel *m, const char *z,
                     size_t n, const char *zWhat){
  SsoArena a;
  SsoUrl u;
  char *zBase;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoUrlParse(&a, z, n, &u, 0);
  if( rc==SSOPROXY_NOMEM ) goto end;
  if( rc || (strcmp(u.scheme.z, "http")!=0 && strcmp(u.scheme.z, "https")!=0) ){
    rc = proxyParseErr(pp, "%s: not an http:// or https:// URL: %.*s", zWhat,
                       (int)(n>200 ? 200 : n), z);
    goto end;
  }
  if( u.bUserinfo || u.bQuery || u.bFragment ){
    rc = proxyParseErr(pp, "%s: the URL must not have credentials, a query "
                       "or a fragment (put the key in api_key)", zWhat);
    goto end;
  }
  m->bPlainRemote = strcmp(u.scheme.z, "http")==0 && !ssoUrlIsLoopback(&u);
  while( n>0 && z[n-1]=='/' ) n--;
  zBase = ssoArenaStrndup(&pp->t->arena, z, n);
  rc = zBase ? SSOPROXY_OK : SSOPROXY_NOMEM;
  if( rc==SSOPROXY_OK ){
    /* The scheme as the URL parser saw it: "HTTPS://" is "https://". */
    memcpy(zBase, u.scheme.z, u.scheme.n);
    m->zBase = zBase;
  }
end:
  ssoArenaFree(&a);
  return rc;
}

/* "Bearer KEY" into the table's arena. */
static int proxyAuth(ProxyParse *pp, SsoProxyModel *m, const char *zKey){
  size_t n = strlen(zKey);
  char *z = ssoArenaAlloc(&pp->t->arena, n+8);
  if( z==0 ) return SSOPROXY_NOMEM;
  memcpy(z, "Bearer ", 7);
  memcpy(z+7, zKey, n+1);
  m->zAuth = z;
  return SSOPROXY_OK;
}

/* A timeout option's value: decimal, 1..SSO_PROXY_MAX_TIMEOUT_MS. */
static int proxyMs(ProxyParse *pp, const char *zOpt, const char *z,
                   size_t n, int *pMs){
  long long v = 0;
  size_t i;
  for(i=0; i<n && z[i]>='0' && z[i]<='9' && v<=SSO_PROXY_MAX_TIMEOUT_MS; i++){
    v = v*10 + (z[i]-'0');
  }
  if( n==0 || i<n || v<1 || v>SSO_PROXY_MAX_TIMEOUT_MS ){
    return proxyParseErr(pp, "%s:%d: %s: expected milliseconds from 1 to %d",
                         pp->zFile, pp->iLine, zOpt, SSO_PROXY_MAX_TIMEOUT_MS);
  }
  *pMs = (int)v;
  return SSOPROXY_OK;
}

/* One "name=value" option of a model line. */
static int proxyOption(ProxyParse *pp, SsoProxyModel *m, const char *z,
                       size_t n, unsigned *pmSeen){
  static const char *const azOpt[] = {
    "model", "api_key", "timeout_ms", "first_byte_timeout_ms",
    "idle_timeout_ms"
  };
  const char *zEq = memchr(z, '=', n);
  const char *zVal;
  size_t nName, nVal, i;
  char zVar[256];
  const char *zEnv;
  if( zEq==0 ){
    return proxyParseErr(pp, "%s:%d: expected name=value, got '%.*s'",
                         pp->zFile, pp->iLine, (int)(n>100 ? 100 : n), z);
  }
  nName = (size_t)(zEq - z);
  zVal = zEq+1;
  nVal = n - nName - 1;
  for(i=0; i<SSO_ARRAYSIZE(azOpt); i++){
    if( strlen(azOpt[i])==nName && memcmp(azOpt[i], z, nName)==0 ) break;
  }
  if( i==SSO_ARRAYSIZE(azOpt) ){
    return proxyParseErr(pp, "%s:%d: unknown option '%.*s' (known: model, "
                         "api_key, timeout_ms, first_byte_timeout_ms, "
                         "idle_timeout_ms)", pp->zFile, pp->iLine,
                         (int)(nName>100 ? 100 : nName), z);
  }
  if( *pmSeen & (1u<<i) ){
    return proxyParseErr(pp, "%s:%d: %s is given twice", pp->zFile,
                         pp->iLine, azOpt[i]);
  }
  *pmSeen |= 1u<<i;
  switch( i ){
    case 0:
      if( nVal==0 ){
        return proxyParseErr(pp, "%s:%d: model: the upstream model name is "
                             "empty", pp->zFile, pp->iLine);
      }
      m->zUpName = ssoArenaStrndup(&pp->t->arena, zVal, nVal);
      m->nUpName = nVal;
      return m->zUpName ? SSOPROXY_OK : SSOPROXY_NOMEM;
    case 1:
      /* Keys never sit in the file itself: it is read by whoever can
      ** read configuration, and copied into tickets and backups. */
      if( nVal<=11 || memcmp(zVal, "os.environ/", 11)!=0
       || nVal-11>=sizeof(zVar) ){
        return proxyParseErr(pp, "%s:%d: api_key must be "
                             "os.environ/VARIABLE (keys are not written in "
                             "the file)", pp->zFile, pp->iLine);
      }
      memcpy(zVar, zVal+11, nVal-11);
      zVar[nVal-11] = 0;
      zEnv = getenv(zVar);
      if( zEnv==0 || zEnv[0]==0 ){
        return proxyParseErr(pp, "%s:%d: api_key: environment variable %s "
                             "is not set", pp->zFile, pp->iLine, zVar);
      }
      for(i=0; zEnv[i]; i++){
        unsigned char c = (unsigned char)zEnv[i];
        if( c<0x20 || c==0x7f ){
          return proxyParseErr(pp, "%s:%d: api_key: environment variable %s "
                               "holds a control character", pp->zFile,
                               pp->iLine, zVar);
        }
      }
      return proxyAuth(pp, m, zEnv);
    case 2: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msConnect);
    case 3: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msFirstByte);
    default: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msIdle);
  }
}

/* Split z[0..n) at blanks into at most mx words; a word starting with
** '#' ends the line. Returns the number of words. */
static int proxyWords(const char *z, size_t n, SsoStr *a, int mx){
  int k = 0;
  size_t i = 0;
  while( i<n ){
    size_t j;
    while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
    if( i==n || z[i]=='#' ) break;
    for(j=i; j<n && z[j]!=' ' && z[j]!='\t'; j++){}
    if( k==mx ) return mx+1;
    a[k].z = z+i;
    a[k].n = j-i;
    k++;
    i = j;
  }
  return k;
}

/* One line of the models file. */
static int proxyLine(ProxyParse *pp, const char *z, size_t n){
  SsoProxyTable *t = pp->t;
  SsoStr aWord[8];
  SsoProxyModel *m;
  char zWhat[300];
  unsigned mSeen = 0;
  size_t i;
  int nWord, k, rc;
  if( n>SSO_PROXY_MAX_LINE ){
    return proxyParseErr(pp, "%s:%d: line longer than %d bytes", pp->zFile,
                         pp->iLine, SSO_PROXY_MAX_LINE);
  }
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( (c<0x20 && c!='\t') || c==0x7f ){
      return proxyParseErr(pp, "%s:%d: control character in the line",
                           pp->zFile, pp->iLine);
    }
  }
  if( !ssoJsonUtf8Valid(z, n) ){
    return proxyParseErr(pp, "%s:%d: not valid UTF-8", pp->zFile, pp->iLine);
  }
  nWord = proxyWords(z, n, aWord, (int)SSO_ARRAYSIZE(aWord));
  if( nWord==0 ) return SSOPROXY_OK;
  if( nWord==1 ){
    return proxyParseErr(pp, "%s:%d: expected 'model_name api_base "
                         "[option=value ...]'", pp->zFile, pp->iLine);
  }
  if( nWord>(int)SSO_ARRAYSIZE(aWord)-1 ){
    return proxyParseErr(pp, "%s:%d: too many words", pp->zFile, pp->iLine);
  }
  if( t->nModel>=SSO_PROXY_MAX_MODELS ){
    return proxyParseErr(pp, "%s:%d: more than %d models", pp->zFile,
                         pp->iLine, SSO_PROXY_MAX_MODELS);
  }
  if( t->nModel==pp->nAlloc ){
    int nNew = pp->nAlloc ? pp->nAlloc*2 : 16;
    SsoProxyModel *aNew = ssoRealloc(t->aModel, sizeof(*aNew)*(size_t)nNew);
    if( aNew==0 ) return SSOPROXY_NOMEM;
    t->aModel = aNew;
    pp->nAlloc = nNew;
  }
  m = &t->aModel[t->nModel];
  memset(m, 0, sizeof(*m));
  m->iLine = pp->iLine;
  m->zName = ssoArenaStrndup(&t->arena, aWord[0].z, aWord[0].n);
  if( m->zName==0 ) return SSOPROXY_NOMEM;
  m->nName = aWord[0].n;
  snprintf(zWhat, sizeof(zWhat), "%s:%d: api_base", pp->zFile, pp->iLine);
  rc = proxyBase(pp, m, aWord[1].z, aWord[1].n, zWhat);
  for(k=2; rc==SSOPROXY_OK && k<nWord; k++){
    rc = proxyOption(pp, m, aWord[k].z, aWord[k].n, &mSeen);
  }
  if( rc ) return rc;
  if( m->zUpName && m->nUpName==m->nName
   && memcmp(m->zUpName, m->zName, m->nName)==0 ){
    m->zUpName = 0;           /* same name: nothing to rewrite */
    m->nUpName = 0;
  }
  t->nModel++;
  return SSOPROXY_OK;
}

/* Sort the index and refuse a name given twice, naming both lines. */
static int proxyIndex(ProxyParse *pp){
  SsoProxyTable *t = pp->t;
  int i;
  if( t->nModel==0 ) return SSOPROXY_OK;
  t->apSorted = ssoArenaAlloc(&t->arena, sizeof(void*)*(size_t)t->nModel);
  if( t->apSorted==0 ) return SSOPROXY_NOMEM;
  for(i=0; i<t->nModel; i++) t->apSorted[i] = &t->aModel[i];
  qsort(t->apSorted, (size_t)t->nModel, sizeof(void*), proxySortCmp);
  for(i=1; i<t->nModel; i++){
    const SsoProxyModel *a = t->apSorted[i-1], *b = t->apSorted[i];
    if( proxyNameCmp(a, b->zName, b->nName)==0 ){
      const SsoProxyModel *x = a->iLine<b->iLine ? b : a;
      return proxyParseErr(pp, "%s:%d: model '%s' is already defined on "
                           "line %d", pp->zFile, x->iLine, x->zName,
                           (x==a ? b : a)->iLine);
    }
  }
  return SSOPROXY_OK;
}

/* Move the model array into the arena so one free releases it all. */
static int proxySettle(ProxyParse *pp){
  SsoProxyTable *t = pp->t;
  SsoProxyModel *a;
  size_t n = sizeof(SsoProxyModel)*(size_t)t->nModel;
  if( t->nModel==0 ){
    ssoFree(t->aModel);
    t->aModel = 0;
    pp->nAlloc = 0;
    return SSOPROXY_OK;
  }
  a = ssoArenaAlloc(&t->arena, n);
  if( a==0 ) return SSOPROXY_NOMEM;
  memcpy(a, t->aModel, n);
  ssoFree(t->aModel);
  t->aModel = a;
  pp->nAlloc = 0;           /* the arena owns it now */
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoProxyTableParse(const char *zFile, const char *z,
                                   size_t n, const char *zUrl,
                                   const char *zKey, SsoProxyTable **pp,
                                   char *zErr, size_t nErr){
  ProxyTableBox *b = ssoMallocZero(sizeof(*b));
  ProxyParse ps;
  size_t i = 0;
  int rc = SSOPROXY_OK;
  *pp = 0;
  if( zErr && nErr ) zErr[0] = 0;
  if( b==0 ){
    if( zErr && nErr ) ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    return SSOPROXY_NOMEM;
  }
  ssoArenaInit(&b->t.arena, 0);
  atomic_init(&b->nRef, 1);
  memset(&ps, 0, sizeof(ps));
  ps.zFile = zFile ? zFile : "models";
  ps.zErr = zErr;
  ps.nErr = nErr;
  ps.t = &b->t;
  if( zUrl ){
    b->t.pDefault = ssoArenaAlloc(&b->t.arena, sizeof(SsoProxyModel));
    if( b->t.pDefault==0 ){ rc = SSOPROXY_NOMEM; goto end; }
    memset(b->t.pDefault, 0, sizeof(SsoProxyModel));
    rc = proxyBase(&ps, b->t.pDefault, zUrl, strlen(zUrl),
                   "SSOPROXY_UPSTREAM_URL");
    if( rc==SSOPROXY_OK && zKey && zKey[0] ){
      rc = proxyAuth(&ps, b->t.pDefault, zKey);
    }
  }
  while( rc==SSOPROXY_OK && z && i<n ){
    const char *zEol = memchr(z+i, '\n', n-i);
    size_t nLine = zEol ? (size_t)(zEol - (z+i)) : n-i;
    size_t nUse = nLine;
    ps.iLine++;
    if( nUse>0 && z[i+nUse-1]=='\r' ) nUse--;
    rc = proxyLine(&ps, z+i, nUse);
    i += nLine + 1;
  }
  /* Settle first: the index points into the array where it ends up. */
  if( rc==SSOPROXY_OK ) rc = proxySettle(&ps);
  if( rc==SSOPROXY_OK ) rc = proxyIndex(&ps);
end:
  if( rc ){
    if( rc==SSOPROXY_NOMEM && zErr && nErr ){
      ssoErrorf(zErr, nErr, rc, "out of memory");
    }
    if( ps.nAlloc ) ssoFree(b->t.aModel);
    b->t.aModel = 0;
    ssoProxyTableRelease(&b->t);
    return rc;
  }
  *pp = &b->t;
  return SSOPROXY_OK;
}

/* ---- The body's "model" ----------------------------------------------------- */

static size_t proxySkipWs(const char *z, size_t n, size_t i){
  while( i<n && (z[i]==' ' || z[i]=='\t' || z[i]=='\n' || z[i]=='\r') ) i++;
  return i;
}

/* z[i] is '"': the index after the closing quote, or n+1 if none. *pbEsc
** (may be NULL) is set if a backslash was seen. */
static size_t proxySkipString(const char *z, size_t n, size_t i, int *pbEsc){
  for(i++; i<n; i++){
    if( z[i]=='"' ) return i+1;
    if( z[i]=='\\' ){
      if( pbEsc ) *pbEsc = 1;
      i++;
    }
  }
  return n+1;
}

/* Skip the value at z[i]: index after it, or n+1 if it does not end. */
static size_t proxySkipValue(const char *z, size_t n, size_t i){
  int nDepth = 0;
  if( i>=n ) return n+1;
  if( z[i]=='"' ) return proxySkipString(z, n, i, 0);
  if( z[i]!='{' && z[i]!='[' ){
    size_t j = i;
    while( j<n && z[j]!=',' && z[j]!='}' && z[j]!=']' && z[j]!=' '
        && z[j]!='\t' && z[j]!='\n' && z[j]!='\r' ) j++;
    return j>i ? j : n+1;
  }
  while( i<n ){
    switch( z[i] ){
      case '"':
        i = proxySkipString(z, n, i, 0);
        continue;
      case '{': case '[':
        if( ++nDepth>SSO_JSON_MAX_DEPTH ) return n+1;
        break;
      case '}': case ']':
        if( --nDepth==0 ) return i+1;
        break;
    }
    i++;
  }
  return n+1;
}

/* Is the object key z[i..j) (quotes included) "model", escapes decoded? */
static int proxyKeyIsModel(const char *z, size_t i, size_t j, int bEsc){
  SsoJsonDoc *pDoc = 0;
  const char *zKey;
  size_t nKey = 0;
  int bIs;
  if( !bEsc ) return j-i==7 && memcmp(z+i+1, "model", 5)==0;
  /* Rare: an escaped key. A client could hide "model" as "\u006dodel"
  ** from a byte comparison while the upstream decodes it. */
  if( ssoJsonParse(z+i, j-i, 0, &pDoc, 0) ) return -1;
  zKey = ssoJsonStr(ssoJsonRoot(pDoc), &nKey);
  bIs = zKey && nKey==5 && memcmp(zKey, "model", 5)==0;
  ssoJsonFree(pDoc);
  return bIs;
}

SSO_PRIVATE int ssoProxyBodyModel(const char *z, size_t n, SsoStr *pRaw,
                                  int *pbEsc){
  size_t i = proxySkipWs(z, n, 0);
  int nFound = 0;
  pRaw->z = "";
  pRaw->n = 0;
  *pbEsc = 0;
  if( i>=n || z[i]!='{' ) return SSOPROXY_NOTFOUND;
  i = proxySkipWs(z, n, i+1);
  if( i<n && z[i]=='}' ) return SSOPROXY_NOTFOUND;
  while( i<n ){
    size_t iKey = i, jKey, iVal, jVal;
    int bKeyEsc = 0, bIs;
    if( z[i]!='"' ) return SSOPROXY_PARSE;
    jKey = proxySkipString(z, n, i, &bKeyEsc);
    if( jKey>n ) return SSOPROXY_PARSE;
    i = proxySkipWs(z, n, jKey);
    if( i>=n || z[i]!=':' ) return SSOPROXY_PARSE;
    iVal = proxySkipWs(z, n, i+1);
    jVal = proxySkipValue(z, n, iVal);
    if( jVal>n ) return SSOPROXY_PARSE;
    bIs = proxyKeyIsModel(z, iKey, jKey, bKeyEsc);
    if( bIs<0 ) return SSOPROXY_PARSE;
    if( bIs ){
      int bEsc = 0;
      if( ++nFound>1 || z[iVal]!='"' ) return SSOPROXY_PARSE;
      proxySkipString(z, n, iVal, &bEsc);
      pRaw->z = z+iVal+1;
      pRaw->n = jVal-iVal-2;
      *pbEsc = bEsc;
    }
    i = proxySkipWs(z, n, jVal);
    if( i<n && z[i]=='}' ){
      i = proxySkipWs(z, n, i+1);
      if( i!=n ) return SSOPROXY_PARSE;
      return nFound ? SSOPROXY_OK : SSOPROXY_NOTFOUND;
    }
    if( i>=n || z[i]!=',' ) return SSOPROXY_PARSE;
    i = proxySkipWs(z, n, i+1);
  }
  return SSOPROXY_PARSE;
}

/* ---- Header filtering ------------------------------------------------------ */

static int proxyPrefixI(SsoStr s, const char *zPre){
  size_t n = strlen(zPre);
  SsoStr h;
  if( s.n<n ) return 0;
  h.z = s.z;
  h.n = n;
  return ssoHttpStrIEq(h, zPre);
}

/* Is name one of the tokens of a Connection field's value v? */
static int proxyConnNames(SsoStr v, SsoStr name){
  size_t i = 0;
  while( i<v.n ){
    SsoStr t;
    while( i<v.n && (v.z[i]==',' || v.z[i]==' ' || v.z[i]=='\t') ) i++;
    t.z = v.z+i;
    while( i<v.n && v.z[i]!=',' && v.z[i]!=' ' && v.z[i]!='\t' ) i++;
    t.n = (size_t)(v.z+i - t.z);
    if( t.n==name.n && t.n>0 ){
      char zName[128];
      if( t.n<sizeof(zName) ){
        memcpy(zName, t.z, t.n);
        zName[t.n] = 0;
        if( ssoHttpStrIEq(name, zName) ) return 1;
      }
    }
  }
  return 0;
}

/* Named by any Connection field of aHdr[0..nHdr)? */
static int proxyHopNamed(const SsoHttpHeader *aHdr, int nHdr, SsoStr name){
  int i;
  for(i=0; i<nHdr; i++){
    if( ssoHttpStrIEq(aHdr[i].name, "connection")
     && proxyConnNames(aHdr[i].value, name) ){
      return 1;
    }
  }
  return 0;
}

/* Hop-by-hop fields (RFC 9110 §7.6.1) other than those Connection names. */
static int proxyHop(SsoStr name){
  static const char *const az[] = {
    "connection", "keep-alive", "te", "trailer", "transfer-encoding",
    "upgrade", "content-length"
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(name, az[i]) ) return 1;
  }
  return proxyPrefixI(name, "proxy-");
}

static int proxyRequestDrop(SsoStr name){
  static const char *const az[] = {
    "host", "expect", "authorization", "x-api-key", "api-key",
    "x-litellm-api-key", "x-goog-api-key", "cookie", "accept-encoding",
    "x-request-id", "x-forwarded-user", "x-forwarded-email",
    "x-forwarded-groups", "x-forwarded-preferred-username", "remote-user",
    "x-remote-user"
  };
  size_t i;
  if( proxyHop(name) ) return 1;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(name, az[i]) ) return 1;
  }
  return proxyPrefixI(name, "x-auth-request-")
      || proxyPrefixI(name, "x-ssoproxy-");
}

SSO_PRIVATE int ssoProxyRequestHeaders(const SsoHttpHeader *aIn, int nIn,
                                       SsoHttpHeader *aOut){
  int i, n = 0, bConn = 0;
  for(i=0; i<nIn; i++){
    if( ssoHttpStrIEq(aIn[i].name, "connection") ) bConn = 1;
  }
  for(i=0; i<nIn; i++){
    if( proxyRequestDrop(aIn[i].name) ) continue;
    if( bConn && proxyHopNamed(aIn, nIn, aIn[i].name) ) continue;
    aOut[n++] = aIn[i];
  }
  return n;
}

SSO_PRIVATE int ssoProxyResponseHeaderOk(const SsoHttpHeader *aHdr, int nHdr,
                                         int i){
  SsoStr name = aHdr[i].name;
  /* Date and X-Request-Id are the server's own; an upstream's cookies
  ** would land on ssoproxy's origin, beside its session cookie. */
  if( proxyHop(name) || ssoHttpStrIEq(name, "date")
   || ssoHttpStrIEq(name, "x-request-id")
   || ssoHttpStrIEq(name, "set-cookie") ){
    return 0;
  }
  return !proxyHopNamed(aHdr, nHdr, name);
}

/* ---- Usage ------------------------------------------------------------------------ */

/* Find the last `"usage"` followed by ':' and an object in z[0..n): the
** object's span, or 0. */
static int proxyUsageSpan(const char *z, size_t n, size_t *pi, size_t *pj){
  size_t i = 0, iBest = 0, jBest = 0;
  int bFound = 0;
  while( i+7<=n ){
    const char *p = memchr(z+i, '"', n-i);
    size_t k, j;
    if( p==0 ) break;
    i = (size_t)(p - z);
    if( i+7>n ) break;
    if( memcmp(z+i, "\"usage\"", 7)!=0 ){
      i++;
      continue;
    }
    k = proxySkipWs(z, n, i+7);
    if( k<n && z[k]==':' ){
      k = proxySkipWs(z, n, k+1);
      if( k<n && z[k]=='{' ){
        j = proxySkipValue(z, n, k);
        if( j<=n ){
          iBest = k;
          jBest = j;
          bFound = 1;
          i = j;
          continue;
        }
      }
    }
    i += 7;
  }
  *pi = iBest;
  *pj = jBest;
  return bFound;
}

static int proxyCount(const SsoJson *o, const char *zA, const char *zB,
                      long long *pn){
  long long v;
  if( ssoJsonInt64(ssoJsonGet(o, zA), &v)==SSOPROXY_OK
   || ssoJsonInt64(ssoJsonGet(o, zB), &v)==SSOPROXY_OK ){
    if( v>=0 ){
      *pn = v;
      return 1;
    }
  }
  return 0;
}

SSO_PRIVATE int ssoProxyUsageFind(const char *z, size_t n,
                                  long long *pnPrompt, long long *pnCompl){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *o;
  long long a = 0, b = 0;
  size_t i, j;
  int bA, bB;
  if( !proxyUsageSpan(z, n, &i, &j) ) return 0;
  if( ssoJsonParse(z+i, j-i, 0, &pDoc, 0) ) return 0;
  o = ssoJsonRoot(pDoc);
  bA = proxyCount(o, "prompt_tokens", "input_tokens", &a);
  bB = proxyCount(o, "completion_tokens", "output_tokens", &b);
  ssoJsonFree(pDoc);
  if( !bA && !bB ) return 0;
  *pnPrompt = a;
  *pnCompl = b;
  return 1;
}

SSO_PRIVATE void ssoProxySseInit(SsoProxySse *s){
  memset(s, 0, sizeof(*s));
  ssoBufInit(&s->line, SSO_PROXY_SSE_LINE+1);
}

SSO_PRIVATE void ssoProxySseFree(SsoProxySse *s){
  ssoBufFree(&s->line);
}

/* One whole line (without its LF). */
static void proxySseLine(SsoProxySse *s, const char *z, size_t n){
  long long a, b;
  if( n<5 || memcmp(z, "data:", 5)!=0 ) return;
  if( n<13 ) return;                  /* too short to hold "usage":{} */
  if( ssoProxyUsageFind(z+5, n-5, &a, &b) ){
    s->bUsage = 1;
    s->nPrompt = a;
    s->nCompl = b;
  }
}

SSO_PRIVATE void ssoProxySseFeed(SsoProxySse *s, const char *z, size_t n){
  while( n>0 ){
    const char *zEol = memchr(z, '\n', n);
    size_t nLine = zEol ? (size_t)(zEol - z) : n;
    size_t nStep = zEol ? nLine+1 : n;
    if( s->bSkip ){
      if( zEol ) s->bSkip = 0;
    }else if( s->line.n==0 && zEol ){
      proxySseLine(s, z, nLine);          /* whole: read in place */
    }else if( s->line.n + nLine > SSO_PROXY_SSE_LINE ){
      ssoBufTruncate(&s->line, 0);        /* too long to care about */
      s->bSkip = zEol==0;
    }else{
      ssoBufAppend(&s->line, z, nLine);
      if( s->line.rc
       || (s->line.n>=5 && memcmp(s->line.z, "data:", 5)!=0) ){
        ssoBufTruncate(&s->line, 0);
        s->line.rc = 0;
        s->bSkip = zEol==0;
      }else if( zEol ){
        proxySseLine(s, s->line.z, s->line.n);
        ssoBufTruncate(&s->line, 0);
      }
    }
    z += nStep;
    n -= nStep;
  }
}

/* ---- The limiter -------------------------------------------------------------------- */

typedef struct ProxyWindow ProxyWindow;
struct ProxyWindow {
  char zHash[SSO_KEY_HEX];  /* "" when the slot was never used */
  long long tStart;         /* Start of the current window (Unix ms) */
  long long nReq, nTok;     /* Used in it */
};

struct SsoProxyLimiter {
  pthread_mutex_t mu;
  ProxyWindow a[SSO_PROXY_LIMIT_SLOTS];
};

SSO_PRIVATE int ssoProxyLimiterNew(SsoProxyLimiter **pp){
  SsoProxyLimiter *p = ssoMallocZero(sizeof(*p));
  *pp = 0;
  if( p==0 ) return SSOPROXY_NOMEM;
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  *pp = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoProxyLimiterFree(SsoProxyLimiter *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p);
}

/* The first slot of zHash (hex: its first digits are already uniform). */
static unsigned proxySlot(const char *zHash, unsigned mask){
  unsigned h = 0;
  int i;
  for(i=0; i<8 && zHash[i]; i++){
    int c = zHash[i];
    h = h*16 + (unsigned)(c<='9' ? c-'0' : (c|0x20)-'a'+10);
  }
  return h & mask;
}

/*
** zHash's window, made current for tNow; NULL if the table is full of
** live windows (then the request is let through: a limiter that fails
** closed would turn a burst of keys into an outage). Caller holds mu.
** A window older than two periods is free to reuse, but lookups probe
** past it, so a key is never found in two places.
*/
static ProxyWindow *proxyWindow(SsoProxyLimiter *p, const char *zHash,
                                long long tNow){
  unsigned mask = SSO_PROXY_LIMIT_SLOTS-1;
  unsigned i = proxySlot(zHash, mask), k;
  ProxyWindow *pFree = 0, *w;
  for(k=0; k<=mask; k++, i=(i+1)&mask){
    w = &p->a[i];
    if( w->zHash[0]==0 ){
      if( pFree==0 ) pFree = w;
      break;
    }
    if( strcmp(w->zHash, zHash)==0 ){
      pFree = 0;
      break;
    }
    if( pFree==0 && w->tStart+2*SSO_PROXY_LIMIT_WINDOW_MS<=tNow ) pFree = w;
  }
  if( k>mask && pFree==0 ) return 0;
  if( pFree ){
    w = pFree;
    memcpy(w->zHash, zHash, SSO_KEY_HEX-1);
    w->zHash[SSO_KEY_HEX-1] = 0;
    w->tStart = tNow;
    w->nReq = w->nTok = 0;
  }
  if( tNow>=w->tStart+SSO_PROXY_LIMIT_WINDOW_MS ){
    w->tStart = tNow - (tNow - w->tStart)%SSO_PROXY_LIMIT_WINDOW_MS;
    w->nReq = w->nTok = 0;
  }
  return w;
}

SSO_PRIVATE int ssoProxyLimitTake(SsoProxyLimiter *p, const char *zHash,
                                  long long nRpm, long long nTpm,
                                  long long tNow, int *pnRetry){
  ProxyWindow *w;
  int eRes = 0;
  if( nRpm<=0 && nTpm<=0 ) return 0;
  pthread_mutex_lock(&p->mu);
  w = proxyWindow(p, zHash, tNow);
  if( w ){
    if( nRpm>0 && w->nReq>=nRpm ) eRes = 1;
    else if( nTpm>0 && w->nTok>=nTpm ) eRes = 2;
    else w->nReq++;
    if( eRes ){
      long long ms = w->tStart + SSO_PROXY_LIMIT_WINDOW_MS - tNow;
      *pnRetry = (int)((ms+999)/1000);
      if( *pnRetry<1 ) *pnRetry = 1;
    }
  }
  pthread_mutex_unlock(&p->mu);
  return eRes;
}

SSO_PRIVATE void ssoProxyLimitTokens(SsoProxyLimiter *p, const char *zHash,
                                     long long n, long long tNow){
  ProxyWindow *w;
  if( n<=0 ) return;
  pthread_mutex_lock(&p->mu);
  w = proxyWindow(p, zHash, tNow);
  if( w ) w->nTok += n;
  pthread_mutex_unlock(&p->mu);
}

/* ---- The proxy object, workers, views, usage batches ------------------------ */

typedef struct ProxyView ProxyView;
struct ProxyView {
  SsoProxyTable *pTab;      /* One reference */
  int nRef;                 /* The worker's, plus one per request */
};

typedef struct ProxyUsage ProxyUsage;
struct ProxyUsage {
  char zHash[SSO_KEY_HEX];  /* "" when free */
  long long tAt, nReq, nPrompt, nCompl;
};

typedef struct ProxyWorker ProxyWorker;
struct ProxyWorker {
  SsoProxy *p;
  SsoApiWorker *pApiW;      /* The worker's store and client */
  SsoLoop *pLoop;
  ProxyView *pView;         /* Current view; NULL until the first request */
  unsigned iGen;            /* Generation of pView */
  SsoLoopTimer flush;
  int nUsage;
  ProxyUsage aUsage[SSO_PROXY_USAGE_SLOTS];
};

/* What a route passes its handler. */
#define PROXY_MODELS    0   /* GET /v1/models, /models */
#define PROXY_MODEL_ONE 1   /* GET /v1/models/NAME */
#define PROXY_FORWARD   2   /* /v1/... by the body's model */
typedef struct ProxyRoute ProxyRoute;
struct ProxyRoute {
  SsoProxy *p;
  int eKind;
};

struct SsoProxy {
  SsoProxyConfig cfg;
  char *zFile;              /* Models file path; owned */
  pthread_mutex_t mu;       /* Guards pTab while it is swapped */
  SsoProxyTable *pTab;      /* Current table; one reference */
  atomic_uint iGen;         /* Bumped by each swap */
  SsoProxyLimiter *pLim;
  ProxyWorker *apWorker[SSO_SERVER_MAX_WORKERS];
  ProxyRoute aRoute[3];
  int fdR, fdW;             /* Reload requests: "r", or "q" to end */
  pthread_t reloader;
  int bReloader;
};

static void proxyViewRelease(ProxyView *v){
  if( v && --v->nRef==0 ){
    ssoProxyTableRelease(v->pTab);
    ssoFree(v);
  }
}

/* The worker's view of the current table, with a reference for the
** caller (proxyViewRelease); NULL when out of memory. */
static ProxyView *proxyView(ProxyWorker *w){
  SsoProxy *p = w->p;
  unsigned iGen = atomic_load_explicit(&p->iGen, memory_order_acquire);
  if( w->pView==0 || w->iGen!=iGen ){
    ProxyView *v = ssoMalloc(sizeof(*v));
    if( v==0 ) return 0;
    pthread_mutex_lock(&p->mu);
    v->pTab = p->pTab;
    proxyTableRetain(v->pTab);
    w->iGen = atomic_load(&p->iGen);
    pthread_mutex_unlock(&p->mu);
    v->nRef = 1;
    proxyViewRelease(w->pView);
    w->pView = v;
  }
  w->pView->nRef++;
  return w->pView;
}

static void proxyFlushFire(SsoLoop*, SsoLoopTimer*, void*);

/* Write the worker's usage batch. */
static void proxyFlush(ProxyWorker *w){
  SsoKeyUsage a[SSO_PROXY_USAGE_SLOTS];
  int i, n = 0, rc;
  if( w->nUsage==0 ) return;
  for(i=0; i<SSO_PROXY_USAGE_SLOTS; i++){
    ProxyUsage *u = &w->aUsage[i];
    if( u->zHash[0]==0 ) continue;
    a[n].zHash = u->zHash;
    a[n].tAt = u->tAt;
    a[n].nRequests = u->nReq;
    a[n].nPromptTokens = u->nPrompt;
    a[n].nCompletionTokens = u->nCompl;
    n++;
  }
  rc = ssoStoreKeysUsage(ssoApiWorkerStore(w->pApiW), a, n);
  if( rc && w->p->cfg.pLog ){
    /* Usage is reporting, not billing: drop the batch rather than grow. */
    ssoLog(w->p->cfg.pLog, SSO_LOG_WARN, "cannot record keys' usage",
           "error", ssoStoreErrmsg(ssoApiWorkerStore(w->pApiW)), (char*)0);
  }
  for(i=0; i<SSO_PROXY_USAGE_SLOTS; i++) w->aUsage[i].zHash[0] = 0;
  w->nUsage = 0;
}

static void proxyFlushFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  proxyFlush((ProxyWorker*)pArg);
}

/* Add one request's usage to the worker's batch. */
static void proxyUsageAdd(ProxyWorker *w, const char *zHash, long long nPrompt,
                          long long nCompl){
  unsigned mask = SSO_PROXY_USAGE_SLOTS-1;
  unsigned i = proxySlot(zHash, mask);
  ProxyUsage *u;
  if( w->nUsage>=SSO_PROXY_USAGE_SLOTS*3/4 ) proxyFlush(w);
  while( (u = &w->aUsage[i])->zHash[0] && strcmp(u->zHash, zHash)!=0 ){
    i = (i+1) & mask;
  }
  if( u->zHash[0]==0 ){
    memcpy(u->zHash, zHash, SSO_KEY_HEX-1);
    u->zHash[SSO_KEY_HEX-1] = 0;
    u->nReq = u->nPrompt = u->nCompl = 0;
    w->nUsage++;
  }
  u->tAt = ssoOsNowMs();
  u->nReq++;
  u->nPrompt += nPrompt;
  u->nCompl += nCompl;
  if( !ssoLoopTimerArmed(&w->flush) ){
    ssoLoopTimerAt(w->pLoop, &w->flush, ssoLoopNow(w->pLoop)
                   + SSO_PROXY_USAGE_MS);
  }
}

/* This request's worker state, made on its first request. */
static ProxyWorker *proxyWorker(SsoProxy *p, SsoServerReq *req){
  ProxyWorker *w;
  if( req->iWorker<0 || req->iWorker>=SSO_SERVER_MAX_WORKERS ) return 0;
  w = p->apWorker[req->iWorker];
  if( w==0 ){
    w = ssoMallocZero(sizeof(*w));
    if( w==0 ) return 0;
    w->p = p;
    w->pApiW = req->pWorkerCtx;
    w->pLoop = req->pLoop;
    ssoLoopTimerInit(&w->flush, proxyFlushFire, w);
    p->apWorker[req->iWorker] = w;
  }
  return w;
}

SSO_PRIVATE void ssoProxyWorkerEnd(SsoProxy *p, int iWorker){
  ProxyWorker *w;
  if( p==0 || iWorker<0 || iWorker>=SSO_SERVER_MAX_WORKERS ) return;
  w = p->apWorker[iWorker];
  if( w==0 ) return;
  ssoLoopTimerStop(w->pLoop, &w->flush);
  proxyFlush(w);
  proxyViewRelease(w->pView);
  ssoFree(w);
  p->apWorker[iWorker] = 0;
}

/* ---- Answers ------------------------------------------------------------------------ */

/*
** An error in OpenAI's envelope: {"error":{"message","type","param",
** "code"}}; code is a string (LiteLLM writes the status there). A
** Retry-After of nRetry seconds when nRetry>0.
*/
static int proxyError(SsoServerReq *req, int iStatus, const char *zType,
                      const char *zParam, const char *zCode, int nRetry,
                      const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 7, 8)))
#endif
  ;
static int proxyError(SsoServerReq *req, int iStatus, const char *zType,
                      const char *zParam, const char *zCode, int nRetry,
                      const char *zFmt, ...){
  char zMsg[600], zStatus[16], zSpace[1024];
  SsoJsonWriter jw;
  SsoBuf b;
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  snprintf(zStatus, sizeof(zStatus), "%d", iStatus);
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoJsonWriteInit(&jw, &b);
  ssoJsonWriteBeginObject(&jw);
  ssoJsonWriteKey(&jw, "error");
  ssoJsonWriteBeginObject(&jw);
  /* A message may quote a model name cut mid-character: keep it text. */
  ssoJsonWriteKeyString(&jw, "message", ssoJsonUtf8Valid(zMsg, strlen(zMsg))
                        ? zMsg : "invalid model name");
  ssoJsonWriteKeyString(&jw, "type", zType);
  ssoJsonWriteKeyString(&jw, "param", zParam);
  ssoJsonWriteKeyString(&jw, "code", zCode ? zCode : zStatus);
  ssoJsonWriteEndObject(&jw);
  ssoJsonWriteEndObject(&jw);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK && nRetry>0 ){
    char zRetry[16];
    snprintf(zRetry, sizeof(zRetry), "%d", nRetry);
    rc = ssoServerAddHeader(req, "Retry-After", zRetry);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

/* The key's allowed models: none listed (or "all-proxy-models") = all. */
typedef struct ProxyAllow ProxyAllow;
struct ProxyAllow {
  SsoJsonDoc *pDoc;         /* NULL: every model */
};

static int proxyAllowInit(ProxyAllow *a, const SsoCaller *c){
  const char *z = c->eKind==SSO_CALLER_KEY ? c->key.zModels : 0;
  const SsoJson *r;
  size_t i;
  a->pDoc = 0;
  if( z==0 || strcmp(z, "[]")==0 ) return SSOPROXY_OK;
  if( ssoJsonParse(z, strlen(z), 0, &a->pDoc, 0) ) return SSOPROXY_NOMEM;
  r = ssoJsonRoot(a->pDoc);
  for(i=0; i<ssoJsonCount(r); i++){
    const char *zM = ssoJsonCStr(ssoJsonAt(r, i));
    if( zM && strcmp(zM, "all-proxy-models")==0 ) break;
  }
  if( ssoJsonType(r)!=SSO_JSON_ARRAY || ssoJsonCount(r)==0
   || i<ssoJsonCount(r) ){
    ssoJsonFree(a->pDoc);
    a->pDoc = 0;
  }
  return SSOPROXY_OK;
}

static int proxyAllowed(const ProxyAllow *a, const char *z, size_t n){
  const SsoJson *r;
  size_t i;
  if( a->pDoc==0 ) return 1;
  r = ssoJsonRoot(a->pDoc);
  for(i=0; i<ssoJsonCount(r); i++){
    size_t nM;
    const char *zM = ssoJsonStr(ssoJsonAt(r, i), &nM);
    if( zM && nM==n && memcmp(zM, z, n)==0 ) return 1;
  }
  return 0;
}

/* Authenticate; on refusal answer it (401) and return SSOPROXY_ERROR. */
static int proxyAuthenticate(SsoProxy *p, SsoServerReq *req, ProxyWorker *w,
                             SsoArena *pArena, SsoCaller *pCaller){
  SsoAuthzErr err;
  long long tNow = ssoOsNowMs();
  int rc;
  memset(&err, 0, sizeof(err));
  rc = ssoAuthzAuthenticate(&p->cfg.pApi->authz,
                            ssoApiWorkerStore(w->pApiW), req->method,
                            req->aHdr, req->nHdr, tNow, pArena, pCaller,
                            &err);
  if( rc==SSOPROXY_ERROR && err.iStatus ){
    rc = proxyError(req, err.iStatus, err.zType, err.zParam, 0, 0, "%s",
                    err.zMsg);
    return rc ? rc : SSOPROXY_ERROR;
  }
  return rc;
}

/* ---- One proxied call ------------------------------------------------------------- */

#define PROXY_BUFFER 0      /* Collect the answer, send it whole */
#define PROXY_SSE    1      /* Stream it, reading data: lines for usage */
#define PROXY_RAW    2      /* Stream it, keeping a tail for usage */

typedef struct ProxyCall ProxyCall;
struct ProxyCall {
  SsoProxy *p;
  ProxyWorker *w;
  ProxyView *pView;
  SsoServerReq *req;        /* NULL once answered or aborted */
  SsoClientCall *pCall;     /* NULL once ended */
  int eKind;                /* PROXY_MODELS or PROXY_FORWARD */
  int eMode;                /* PROXY_BUFFER ... */
  int bStreaming;           /* The answer's head has gone to the client */
  int bEndPending;          /* Upstream done; pend must drain first */
  int bUsage;
  int iStatus;
  char zHash[SSO_KEY_HEX];  /* The key, for usage; "" for none */
  long long nTpm;           /* The key's tpm limit (tokens feed it) */
  long long nPrompt, nCompl;
  ProxyAllow allow;         /* /v1/models: the filter */
  char *zBody;              /* Rewritten request body; owned */
  SsoArena arena;           /* Response head copy */
  SsoHttpHeader *aHdr;      /* Response fields to send */
  int nHdr;
  SsoBuf body;              /* PROXY_BUFFER: the answer so far;
                            ** PROXY_RAW: its tail */
  SsoBuf pend;              /* A piece the client's queue refused */
  SsoProxySse sse;
};

static void proxyCallFree(ProxyCall *pc){
  proxyViewRelease(pc->pView);
  ssoJsonFree(pc->allow.pDoc);
  ssoFree(pc->zBody);
  ssoArenaFree(&pc->arena);
  ssoBufFree(&pc->body);
  ssoBufFree(&pc->pend);
  ssoProxySseFree(&pc->sse);
  ssoFree(pc);
}

/* The call is over (answered or abandoned): count it, free it. */
static void proxyCallEnd(ProxyCall *pc){
  if( pc->bUsage==0 && pc->eMode==PROXY_SSE && pc->sse.bUsage ){
    pc->bUsage = 1;
    pc->nPrompt = pc->sse.nPrompt;
    pc->nCompl = pc->sse.nCompl;
  }
  if( pc->zHash[0] && pc->eKind==PROXY_FORWARD ){
    proxyUsageAdd(pc->w, pc->zHash, pc->nPrompt, pc->nCompl);
    if( pc->nTpm>0 && pc->bUsage ){
      ssoProxyLimitTokens(pc->p->pLim, pc->zHash, pc->nPrompt+pc->nCompl,
                          ssoOsNowMs());
    }
  }
  proxyCallFree(pc);
}

static void proxyOnAbort(SsoServerReq *req, void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(req);
  pc->req = 0;
  if( pc->pCall ){
    ssoClientCancel(pc->pCall);     /* closes the upstream connection now */
    pc->pCall = 0;
  }
  proxyCallEnd(pc);
}

/* Status and the kept response fields (NUL-terminated in the arena). */
static int proxySendHead(ProxyCall *pc){
  int i, rc = ssoServerStatus(pc->req, pc->iStatus);
  for(i=0; rc==SSOPROXY_OK && i<pc->nHdr; i++){
    rc = ssoServerAddHeader(pc->req, pc->aHdr[i].name.z, pc->aHdr[i].value.z);
    /* A field our server refuses to repeat is not worth failing for. */
    if( rc==SSOPROXY_MISUSE || rc==SSOPROXY_PARSE ) rc = SSOPROXY_OK;
  }
  return rc;
}

static int proxyStreamBegin(ProxyCall *pc){
  int rc = proxySendHead(pc);
  if( rc==SSOPROXY_OK ) rc = ssoServerStreamBegin(pc->req);
  if( rc==SSOPROXY_OK ) pc->bStreaming = 1;
  return rc;
}

/* Send a piece to the client; pause the upstream when the client's
** queue is full. */
static void proxyWrite(ProxyCall *pc, const char *z, size_t n){
  int rc;
  if( pc->pend.n ){
    ssoBufAppend(&pc->pend, z, n);
    return;
  }
  rc = ssoServerStreamWrite(pc->req, z, n);
  if( rc==SSOPROXY_TOOBIG ) ssoBufAppend(&pc->pend, z, n);
  if( (rc==SSOPROXY_OK || rc==SSOPROXY_TOOBIG)
   && !ssoServerStreamWritable(pc->req) && pc->pCall ){
    ssoClientPause(pc->pCall, 1);
  }
  /* SSOPROXY_NET: the client is gone; xAbort follows and cancels us. */
}

static void proxyKeepTail(ProxyCall *pc, const char *z, size_t n){
  SsoBuf *b = &pc->body;
  if( n>=SSO_PROXY_TAIL ){
    ssoBufTruncate(b, 0);
    ssoBufAppend(b, z+n-SSO_PROXY_TAIL, SSO_PROXY_TAIL);
  }else{
    if( b->n+n>SSO_PROXY_TAIL ){
      size_t nDrop = b->n+n-SSO_PROXY_TAIL;
      memmove(b->z, b->z+nDrop, b->n-nDrop);
      ssoBufTruncate(b, b->n-nDrop);
    }
    ssoBufAppend(b, z, n);
  }
}

/* An answer without a body: to HEAD, or 204 / 304. */
static int proxyBodyless(const ProxyCall *pc){
  SsoStr m = pc->req->method;
  return pc->iStatus==204 || pc->iStatus==304
      || (m.n==4 && memcmp(m.z, "HEAD", 4)==0);
}

/* The answer cannot go on (out of memory): stop the upstream, end what
** the client has (a 502 if it has nothing yet), forget the call. */
static void proxyBreak(ProxyCall *pc){
  if( pc->pCall ) ssoClientCancel(pc->pCall);
  pc->pCall = 0;
  if( !pc->bStreaming ){
    proxyError(pc->req, 502, "api_error", 0, 0, 0, "out of memory");
  }else{
    ssoServerStreamEnd(pc->req);
  }
  pc->req = 0;
  proxyCallEnd(pc);
}

static void proxyOnHead(SsoClientCall *pCall, const SsoClientResp *r,
                        void *pArg){
  ProxyCall *pc = pArg;
  SsoStr ct = {0, 0}, cl = {0, 0};
  int i;
  SSO_UNUSED(pCall);
  pc->iStatus = r->iStatus;
  pc->aHdr = ssoArenaAlloc(&pc->arena, sizeof(SsoHttpHeader)*(size_t)
                           (r->nHdr ? r->nHdr : 1));
  if( pc->aHdr==0 ) goto nomem;
  for(i=0; i<r->nHdr; i++){
    const SsoHttpHeader *h = &r->aHdr[i];
    SsoHttpHeader *o;
    if( ssoHttpStrIEq(h->name, "content-type") ) ct = h->value;
    if( ssoHttpStrIEq(h->name, "content-length") ) cl = h->value;
    if( !ssoProxyResponseHeaderOk(r->aHdr, r->nHdr, i) ) continue;
    o = &pc->aHdr[pc->nHdr++];
    o->name.z = ssoArenaStrndup(&pc->arena, h->name.z, h->name.n);
    o->value.z = ssoArenaStrndup(&pc->arena, h->value.z, h->value.n);
    if( o->name.z==0 || o->value.z==0 ) goto nomem;
    o->name.n = h->name.n;
    o->value.n = h->value.n;
  }
  if( pc->eKind!=PROXY_FORWARD || proxyBodyless(pc) ) return;
  if( ct.n>=17 && strncasecmp(ct.z, "text/event-stream", 17)==0 ){
    pc->eMode = PROXY_SSE;
    ssoProxySseInit(&pc->sse);
  }else if( cl.n>7 || (cl.n>0 && strtoull(cl.z, 0, 10)>SSO_PROXY_BUFFER_MAX) ){
    pc->eMode = PROXY_RAW;
  }
  if( pc->eMode!=PROXY_BUFFER && proxyStreamBegin(pc) ) goto nomem;
  return;
nomem:
  proxyBreak(pc);
}

static void proxyOnData(SsoClientCall *pCall, const char *z, size_t n,
                        void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(pCall);
  if( pc->req==0 ) return;
  switch( pc->eMode ){
    case PROXY_BUFFER:
      if( pc->body.n+n<=SSO_PROXY_BUFFER_MAX ){
        ssoBufAppend(&pc->body, z, n);
        return;
      }
      /* Larger than we buffer: stream what we have, then the rest. */
      pc->eMode = PROXY_RAW;
      if( proxyStreamBegin(pc) ){
        proxyBreak(pc);
        return;
      }
      proxyWrite(pc, pc->body.z, pc->body.n);
      ssoBufTruncate(&pc->body, 0);
      proxyKeepTail(pc, z, n);
      proxyWrite(pc, z, n);
      return;
    case PROXY_SSE:
      ssoProxySseFeed(&pc->sse, z, n);
      proxyWrite(pc, z, n);
      return;
    default:
      proxyKeepTail(pc, z, n);
      proxyWrite(pc, z, n);
      return;
  }
}

/* One entry of OpenAI's model list. zOwner NULL: "openai". */
static void proxyWriteModel(SsoJsonWriter *jw, const char *zId, size_t nId,
                            long long tCreated, const char *zOwner){
  ssoJsonWriteBeginObject(jw);
  ssoJsonWriteKey(jw, "id");
  ssoJsonWriteStringN(jw, zId, nId);
  ssoJsonWriteKeyString(jw, "object", "model");
  ssoJsonWriteKeyInt64(jw, "created", tCreated);
  ssoJsonWriteKeyString(jw, "owned_by", zOwner ? zOwner : "openai");
  ssoJsonWriteEndObject(jw);
}

/* The /v1/models answer: the table's models the key may use, then those
** of the default upstream's list (pList, may be NULL) not already in. */
static int proxyModelsAnswer(SsoServerReq *req, const SsoProxyTable *t,
                             const ProxyAllow *a, const SsoJson *pList){
  SsoJsonWriter jw;
  SsoBuf b;
  const SsoJson *aData = ssoJsonGet(pList, "data");
  size_t i;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&jw, &b);
  ssoJsonWriteBeginObject(&jw);
  ssoJsonWriteKeyString(&jw, "object", "list");
  ssoJsonWriteKey(&jw, "data");
  ssoJsonWriteBeginArray(&jw);
  for(i=0; i<(size_t)t->nModel; i++){
    const SsoProxyModel *m = &t->aModel[i];
    if( !proxyAllowed(a, m->zName, m->nName) ) continue;
    proxyWriteModel(&jw, m->zName, m->nName, SSO_PROXY_MODEL_CREATED, 0);
  }
  for(i=0; i<ssoJsonCount(aData); i++){
    const SsoJson *e = ssoJsonAt(aData, i);
    size_t nId;
    const char *zId = ssoJsonStr(ssoJsonGet(e, "id"), &nId);
    const char *zOwner = ssoJsonCStr(ssoJsonGet(e, "owned_by"));
    long long tCreated = SSO_PROXY_MODEL_CREATED;
    if( zId==0 || ssoProxyTableFind(t, zId, nId) ) continue;
    if( !proxyAllowed(a, zId, nId) ) continue;
    ssoJsonInt64(ssoJsonGet(e, "created"), &tCreated);
    proxyWriteModel(&jw, zId, nId, tCreated, zOwner);
  }
  ssoJsonWriteEndArray(&jw);
  ssoJsonWriteEndObject(&jw);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

/* The default upstream's model list arrived (or did not). */
static void proxyModelsDone(ProxyCall *pc, const SsoClientResp *r){
  SsoJsonDoc *pDoc = 0;
  if( r->rc ){
    proxyError(pc->req, r->iProxyStatus, r->iProxyStatus==504 ?
               "timeout_error" : "api_error", 0, 0, 0, "%s", r->zErr);
    return;
  }
  if( r->iStatus!=200 || ssoJsonParse(r->pBody ? r->pBody : "", r->nBody, 0,
                                      &pDoc, 0) ){
    proxyError(pc->req, 502, "api_error", 0, 0, 0, "the upstream's model "
               "list is not usable (status %d)", r->iStatus);
    return;
  }
  if( proxyModelsAnswer(pc->req, pc->pView->pTab, &pc->allow,
                        ssoJsonRoot(pDoc)) ){
    proxyError(pc->req, 500, "api_error", 0, 0, 0, "out of memory");
  }
  ssoJsonFree(pDoc);
}

/* An upstream that failed after the stream began: tell an event-stream
** reader in its own format, then end. */
static void proxyStreamFail(ProxyCall *pc, const SsoClientResp *r){
  if( pc->eMode==PROXY_SSE && pc->pend.n==0 ){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "data: {\"error\":{\"message\":");
    ssoBufAppendJsonString(&b, r->zErr, strlen(r->zErr));
    ssoBufPrintf(&b, ",\"type\":\"api_error\",\"param\":null,\"code\":"
                 "\"%d\"}}\n\n", r->iProxyStatus);
    if( b.rc==0 ) ssoServerStreamWrite(pc->req, b.z, b.n);
    ssoBufFree(&b);
  }
  ssoServerStreamEnd(pc->req);
}

static void proxyOnDone(SsoClientCall *pCall, const SsoClientResp *r,
                        void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(pCall);
  pc->pCall = 0;
  if( pc->req==0 ) return;              /* answered already (out of memory) */
  if( pc->eKind==PROXY_MODELS ){
    proxyModelsDone(pc, r);
  }else if( r->rc && !pc->bStreaming ){
    proxyError(pc->req, r->iProxyStatus, r->iProxyStatus==504 ?
               "timeout_error" : "api_error", 0, 0, 0, "%s", r->zErr);
  }else if( r->rc ){
    proxyStreamFail(pc, r);
  }else if( !pc->bStreaming ){
    if( pc->iStatus>=200 && pc->iStatus<300 ){
      pc->bUsage = ssoProxyUsageFind(pc->body.z ? pc->body.z : "",
                                     pc->body.n, &pc->nPrompt, &pc->nCompl);
    }
    if( proxySendHead(pc)==SSOPROXY_OK ){
      ssoServerBody(pc->req, pc->body.z ? pc->body.z : "", pc->body.n);
    }
  }else{
    if( pc->eMode==PROXY_RAW && pc->iStatus>=200 && pc->iStatus<300 ){
      pc->bUsage = ssoProxyUsageFind(pc->body.z ? pc->body.z : "",
                                     pc->body.n, &pc->nPrompt, &pc->nCompl);
    }
    if( pc->pend.n ){
      pc->bEndPending = 1;              /* proxyOnDrain finishes it */
      return;
    }
    ssoServerStreamEnd(pc->req);
  }
  pc->req = 0;
  proxyCallEnd(pc);
}

static void proxyOnDrain(SsoServerReq *req, void *pArg){
  ProxyCall *pc = pArg;
  if( pc->pend.n ){
    int rc = ssoServerStreamWrite(req, pc->pend.z, pc->pend.n);
    if( rc==SSOPROXY_TOOBIG ) return;
    ssoBufTruncate(&pc->pend, 0);
    if( rc ) return;
  }
  if( pc->bEndPending ){
    ssoServerStreamEnd(req);
    pc->req = 0;
    proxyCallEnd(pc);
    return;
  }
  if( pc->pCall && ssoServerStreamWritable(req) ){
    ssoClientPause(pc->pCall, 0);
  }
}

/* ---- Handlers ------------------------------------------------------------------------ */

static ProxyCall *proxyCallNew(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                               int eKind){
  ProxyCall *pc = ssoMallocZero(sizeof(*pc));
  if( pc==0 ) return 0;
  pc->p = p;
  pc->w = w;
  pc->req = req;
  pc->eKind = eKind;
  ssoArenaInit(&pc->arena, 0);
  ssoBufInit(&pc->body, 0);
  ssoBufInit(&pc->pend, 0);
  ssoProxySseInit(&pc->sse);
  pc->pView = proxyView(w);
  if( pc->pView==0 ){
    proxyCallFree(pc);
    return 0;
  }
  return pc;
}

/*
** Start pc's upstream request: zMethod to m's base + zSuffix (+ query),
** with the client's fields filtered, the upstream key, our request id and
** (if asked) the caller's identity. pBody must live until the call ends.
*/
static int proxyStart(ProxyCall *pc, const SsoProxyModel *m,
                      const char *zMethod, const char *zSuffix,
                      size_t nSuffix, const void *pBody, size_t nBody,
                      const SsoCaller *pCaller){
  SsoServerReq *req = pc->req;
  SsoHttpHeader aHdr[SSO_HTTP_MAX_HEADERS+8];
  SsoHttpHeader *a = aHdr;
  SsoClientReq cr;
  SsoClient *pCli = 0;
  SsoBuf url;
  int n = 0, rc;
  if( req->nHdr>SSO_HTTP_MAX_HEADERS ){
    a = ssoArenaAlloc(&pc->arena, sizeof(SsoHttpHeader)*(size_t)(req->nHdr+8));
    if( a==0 ) return SSOPROXY_NOMEM;
  }
  if( pc->eKind==PROXY_FORWARD ) n = ssoProxyRequestHeaders(req->aHdr,
                                                            req->nHdr, a);
#define PROXY_HDR(N, V) do{ a[n].name.z = N; a[n].name.n = strlen(N); \
    a[n].value.z = V; a[n].value.n = strlen(V); n++; }while(0)
  if( m->zAuth ) PROXY_HDR("Authorization", m->zAuth);
  PROXY_HDR("X-Request-Id", req->zId);
  if( pc->p->cfg.bForwardIdentity && pCaller && pc->eKind==PROXY_FORWARD ){
    const char *zUser = pCaller->zUserId ? pCaller->zUserId
                        : pCaller->eKind==SSO_CALLER_MASTER ? "master_key" : 0;
    if( zUser ) PROXY_HDR("X-Ssoproxy-User", zUser);
    if( pCaller->user.zEmail ) PROXY_HDR("X-Ssoproxy-Email",
                                         pCaller->user.zEmail);
    if( pCaller->eRole ) PROXY_HDR("X-Ssoproxy-Role",
                                   ssoAuthzRoleName(pCaller->eRole));
  }
#undef PROXY_HDR
  ssoBufInit(&url, 0);
  ssoBufAppendStr(&url, m->zBase);
  ssoBufAppend(&url, zSuffix, nSuffix);
  if( req->query.n ){
    ssoBufAppendChar(&url, '?');
    ssoBufAppend(&url, req->query.z, req->query.n);
  }
  rc = url.rc;
  if( rc==SSOPROXY_OK ) rc = ssoApiWorkerClient(pc->w->pApiW, req->pLoop,
                                                &pCli);
  if( rc==SSOPROXY_OK ){
    memset(&cr, 0, sizeof(cr));
    cr.zMethod = zMethod;
    cr.zUrl = url.z;
    cr.aHdr = a;
    cr.nHdr = n;
    cr.pBody = pBody;
    cr.nBody = nBody;
    cr.msConnect = m->msConnect;
    cr.msFirstByte = m->msFirstByte;
    cr.msIdle = m->msIdle;
    if( pc->eKind==PROXY_FORWARD ){
      /* Streamed answers are not held, so only buffered ones are capped. */
      cr.mxResponse = SSO_PROXY_MAX_STREAM;
      cr.xHead = proxyOnHead;
      cr.xData = proxyOnData;
    }
    cr.xDone = proxyOnDone;
    cr.pArg = pc;
    rc = ssoClientRequest(pCli, &cr, &pc->pCall);
  }
  ssoBufFree(&url);
  if( rc==SSOPROXY_OK ) rc = ssoServerAsync(req, proxyOnAbort, proxyOnDrain,
                                            pc);
  if( rc && pc->pCall ){
    ssoClientCancel(pc->pCall);
    pc->pCall = 0;
  }
  return rc;
}

/* GET /v1/models */
static int proxyModels(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                       const SsoCaller *pCaller){
  ProxyCall *pc = proxyCallNew(p, w, req, PROXY_MODELS);
  const SsoProxyModel *m;
  int rc;
  if( pc==0 ) return SSOPROXY_NOMEM;
  rc = proxyAllowInit(&pc->allow, pCaller);
  if( rc ) goto fail;
  m = pc->pView->pTab->pDefault;
  if( m==0 ){
    rc = proxyModelsAnswer(req, pc->pView->pTab, &pc->allow, 0);
    proxyCallFree(pc);
    return rc;
  }
  rc = proxyStart(pc, m, "GET", "/models", 7, 0, 0, pCaller);
  if( rc==SSOPROXY_OK ) return rc;
fail:
  proxyCallFree(pc);
  return rc;
}

/* The model a forwarded request names, decoded into pArena. */
static int proxyModelName(SsoServerReq *req, SsoArena *pArena, SsoStr *pName,
                          SsoStr *pRaw){
  int bEsc = 0, rc;
  SsoJsonDoc *pDoc = 0;
  pName->z = "";
  pName->n = 0;
  if( req->nBody==0 ) return SSOPROXY_NOTFOUND;
  rc = ssoProxyBodyModel(req->pBody, req->nBody, pRaw, &bEsc);
  if( rc || !bEsc ){
    *pName = *pRaw;
    return rc;
  }
  rc = ssoJsonParse(pRaw->z-1, pRaw->n+2, 0, &pDoc, 0);
  if( rc==SSOPROXY_OK ){
    const char *z = ssoJsonStr(ssoJsonRoot(pDoc), &pName->n);
    pName->z = ssoArenaStrndup(pArena, z, pName->n);
    if( pName->z==0 ) rc = SSOPROXY_NOMEM;
  }
  ssoJsonFree(pDoc);
  return rc==SSOPROXY_NOMEM ? rc : rc ? SSOPROXY_PARSE : SSOPROXY_OK;
}

/* The body with the model name at pRaw replaced by m's upstream name. */
static int proxyRewrite(ProxyCall *pc, SsoServerReq *req, SsoStr raw,
                        const SsoProxyModel *m){
  SsoBuf b;
  size_t iStart = (size_t)(raw.z - 1 - req->pBody);
  size_t iEnd = iStart + raw.n + 2;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, req->pBody, iStart);
  ssoBufAppendJsonString(&b, m->zUpName, m->nUpName);
  ssoBufAppend(&b, req->pBody+iEnd, req->nBody-iEnd);
  if( b.rc ){
    ssoBufFree(&b);
    return SSOPROXY_NOMEM;
  }
  pc->zBody = b.z;
  return SSOPROXY_OK;
}

/* Check the model against the key, then the table. */
static int proxyRoute(ProxyCall *pc, SsoServerReq *req, const SsoCaller *c,
                      SsoStr name, int bNamed, const SsoProxyModel **pm){
  const SsoProxyTable *t = pc->pView->pTab;
  ProxyAllow a;
  int rc = proxyAllowInit(&a, c);
  if( rc ) return rc;
  *pm = 0;
  if( !bNamed ){
    if( a.pDoc==0 && t->pDefault ) *pm = t->pDefault;
    else rc = proxyError(req, 400, "invalid_request_error", "model", 0, 0,
                         "'model' is required: a string member of the JSON "
                         "body");
  }else if( !proxyAllowed(&a, name.z, name.n) ){
    rc = proxyError(req, 403, "permission_error", "model", 0, 0,
                    "key not allowed to access model. This key can only "
                    "access models=%s. Tried to access %.*s",
                    c->key.zModels ? c->key.zModels : "[]",
                    (int)(name.n>200 ? 200 : name.n), name.z);
  }else if( (*pm = ssoProxyTableFind(t, name.z, name.n))==0 ){
    if( t->pDefault ){
      *pm = t->pDefault;
    }else{
      rc = proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "The model `%.*s` does not "
                      "exist", (int)(name.n>200 ? 200 : name.n), name.z);
    }
  }
  ssoJsonFree(a.pDoc);
  if( rc==SSOPROXY_OK && *pm==0 ) rc = SSOPROXY_ERROR;   /* answered */
  return rc;
}

/* The key's rpm/tpm limits; 1 (answered 429) when over. */
static int proxyLimited(SsoProxy *p, SsoServerReq *req, const SsoCaller *c){
  int nRetry = 0, e;
  if( c->eKind!=SSO_CALLER_KEY ) return 0;
  if( c->key.nRpmLimit<=0 && c->key.nTpmLimit<=0 ) return 0;
  e = ssoProxyLimitTake(p->pLim, c->key.zHash, c->key.nRpmLimit,
                        c->key.nTpmLimit, ssoOsNowMs(), &nRetry);
  if( e==0 ) return 0;
  proxyError(req, 429, "rate_limit_error", 0, 0, nRetry, "Rate limit "
             "reached for this key: %s of %lld per minute. Retry after %d s.",
             e==1 ? "requests" : "tokens",
             e==1 ? c->key.nRpmLimit : c->key.nTpmLimit, nRetry);
  return 1;
}

/* POST /v1/... (and any other method under /v1 but the model routes). */
static int proxyForward(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                        const SsoCaller *c, SsoArena *pArena,
                        const char *zModelPath){
  ProxyCall *pc;
  const SsoProxyModel *m = 0;
  SsoStr name = {"", 0}, raw = {"", 0};
  char zMethod[32];
  const char *zPath = req->path.z;
  size_t nPath = req->path.n;
  int rc, bNamed;
  if( zModelPath ){
    name.z = zModelPath;
    name.n = strlen(zModelPath);
    rc = SSOPROXY_OK;
  }else{
    rc = proxyModelName(req, pArena, &name, &raw);
  }
  if( rc==SSOPROXY_PARSE ){
    return proxyError(req, 400, "invalid_request_error", "model", 0, 0,
                      "the body is not a JSON object with one string "
                      "'model'");
  }
  if( rc!=SSOPROXY_OK && rc!=SSOPROXY_NOTFOUND ) return rc;
  bNamed = rc==SSOPROXY_OK;
  pc = proxyCallNew(p, w, req, PROXY_FORWARD);
  if( pc==0 ) return SSOPROXY_NOMEM;
  rc = proxyRoute(pc, req, c, name, bNamed, &m);
  if( rc==SSOPROXY_OK && proxyLimited(p, req, c) ) rc = SSOPROXY_ERROR;
  if( rc ) goto end;
  if( c->eKind==SSO_CALLER_KEY ){
    memcpy(pc->zHash, c->key.zHash, SSO_KEY_HEX-1);
    pc->zHash[SSO_KEY_HEX-1] = 0;
    pc->nTpm = c->key.nTpmLimit;
  }
  if( bNamed && !zModelPath && m->zUpName ){
    rc = proxyRewrite(pc, req, raw, m);
    if( rc ) goto end;
  }
  /* The upstream's base stands for /v1: /v1/chat/completions goes to
  ** BASE/chat/completions, as LiteLLM's api_base does. */
  if( nPath>=4 && memcmp(zPath, "/v1/", 4)==0 ){
    zPath += 3;
    nPath -= 3;
  }
  if( req->method.n>=sizeof(zMethod) ){
    rc = proxyError(req, 400, "invalid_request_error", 0, 0, 0, "method "
                    "too long");
    goto end;
  }
  memcpy(zMethod, req->method.z, req->method.n);
  zMethod[req->method.n] = 0;
  rc = proxyStart(pc, m, zMethod, zPath, nPath,
                  pc->zBody ? pc->zBody : req->pBody,
                  pc->zBody ? strlen(pc->zBody) : req->nBody, c);
  if( rc==SSOPROXY_PARSE ){
    rc = proxyError(req, 400, "invalid_request_error", 0, 0, 0, "this "
                    "request cannot be forwarded (its path or a header "
                    "is not valid upstream)");
    goto end;
  }
  if( rc==SSOPROXY_OK ) return rc;
end:
  /* Refused or failed: no usage to count, but the key was used. */
  if( c->eKind==SSO_CALLER_KEY ){
    ssoApiWorkerTouch(w->pApiW, req->pLoop, c->key.zHash, ssoOsNowMs());
  }
  proxyCallFree(pc);
  return rc==SSOPROXY_ERROR ? SSOPROXY_OK : rc;
}

/* One model's entry, as in the list. */
static int proxyModelEntry(SsoServerReq *req, SsoStr id){
  SsoJsonWriter jw;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&jw, &b);
  proxyWriteModel(&jw, id.z, id.n, SSO_PROXY_MODEL_CREATED, 0);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

/* GET /v1/models/NAME: from the table, else from the default upstream. */
static int proxyModelOne(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                         const SsoCaller *c, SsoArena *pArena){
  size_t nPre = req->path.n>=11 && memcmp(req->path.z, "/v1/", 4)==0 ? 11 : 8;
  SsoStr id;
  ProxyAllow a;
  ProxyView *v;
  const SsoProxyModel *m;
  int rc;
  if( ssoUrlDecodeArena(pArena, req->path.z+nPre, req->path.n-nPre,
                        SSO_URL_NONUL, &id, 0) || id.n==0
   || !ssoJsonUtf8Valid(id.z, id.n) ){
    return proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "no such model");
  }
  rc = proxyAllowInit(&a, c);
  if( rc ) return rc;
  if( !proxyAllowed(&a, id.z, id.n) ){
    ssoJsonFree(a.pDoc);
    return proxyError(req, 403, "permission_error", "model", 0, 0, "key not "
                      "allowed to access model %.*s",
                      (int)(id.n>200 ? 200 : id.n), id.z);
  }
  ssoJsonFree(a.pDoc);
  v = proxyView(w);
  if( v==0 ) return SSOPROXY_NOMEM;
  m = ssoProxyTableFind(v->pTab, id.z, id.n);
  rc = m==0 && v->pTab->pDefault;
  proxyViewRelease(v);
  if( rc ) return proxyForward(p, w, req, c, pArena, id.z);
  if( m==0 ){
    return proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "The model `%.*s` does not "
                      "exist", (int)(id.n>200 ? 200 : id.n), id.z);
  }
  return proxyModelEntry(req, id);
}

static int proxyOnRequest(SsoServerReq *req, void *pArg){
  ProxyRoute *r = pArg;
  SsoProxy *p = r->p;
  ProxyWorker *w = proxyWorker(p, req);
  SsoArena arena;
  SsoCaller caller;
  int rc;
  if( w==0 ) return SSOPROXY_NOMEM;
  ssoArenaInit(&arena, 0);
  rc = proxyAuthenticate(p, req, w, &arena, &caller);
  if( rc==SSOPROXY_OK && r->eKind!=PROXY_FORWARD
   && caller.eKind==SSO_CALLER_KEY ){
    ssoApiWorkerTouch(w->pApiW, req->pLoop, caller.key.zHash, ssoOsNowMs());
  }
  if( rc==SSOPROXY_OK ){
    switch( r->eKind ){
      case PROXY_MODELS: rc = proxyModels(p, w, req, &caller); break;
      case PROXY_MODEL_ONE:
        rc = proxyModelOne(p, w, req, &caller, &arena);
        break;
      default: rc = proxyForward(p, w, req, &caller, &arena, 0); break;
    }
  }else if( rc==SSOPROXY_ERROR ){
    rc = SSOPROXY_OK;                   /* refused and answered */
  }
  ssoArenaFree(&arena);
  return rc;
}

SSO_PRIVATE int ssoProxyRegister(SsoServer *pSrv, SsoProxy *p){
  static const struct { const char *zMethod, *zPath; int eKind; } a[] = {
    { "GET", "/v1/models", PROXY_MODELS },
    { "GET", "/models", PROXY_MODELS },
    { "GET", "/v1/models/*", PROXY_MODEL_ONE },
    { "GET", "/models/*", PROXY_MODEL_ONE },
    { 0, "/v1/*", PROXY_FORWARD },
    { "POST", "/chat/completions", PROXY_FORWARD },
    { "POST", "/completions", PROXY_FORWARD },
    { "POST", "/embeddings", PROXY_FORWARD },
    { "POST", "/responses", PROXY_FORWARD },
  };
  size_t i;
  int rc = SSOPROXY_OK;
  for(i=0; i<3; i++){
    p->aRoute[i].p = p;
    p->aRoute[i].eKind = (int)i;
  }
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(a); i++){
    rc = ssoServerRoute(pSrv, a[i].zMethod, a[i].zPath, proxyOnRequest,
                        &p->aRoute[a[i].eKind]);
  }
  return rc;
}

/* ---- Start, reload, stop -------------------------------------------------------------- */

/* Read and parse the models file (if any) with the default upstream. */
static int proxyLoad(SsoProxy *p, SsoProxyTable **pp, char *zErr,
                     size_t nErr){
  char *z = 0;
  size_t n = 0;
  int rc;
  if( p->zFile ){
    rc = ssoOsReadFile(p->zFile, SSO_PROXY_MAX_FILE, &z, &n);
    if( rc==SSOPROXY_TOOBIG ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s: larger than %u "
                       "bytes", p->zFile, SSO_PROXY_MAX_FILE);
    }
    if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc,
                                              "out of memory");
    if( rc ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "SSOPROXY_MODELS_FILE: "
                       "cannot read %s: %s", p->zFile, strerror(errno));
    }
  }
  rc = ssoProxyTableParse(p->zFile, z, n, p->cfg.zUpstreamUrl,
                          p->cfg.zUpstreamKey, pp, zErr, nErr);
  ssoFree(z);
  return rc;
}

static void proxyLogTable(SsoProxy *p, const SsoProxyTable *t,
                          const char *zMsg){
  char zCount[16];
  int i;
  if( p->cfg.pLog==0 ) return;
  snprintf(zCount, sizeof(zCount), "%d", t->nModel);
  ssoLog(p->cfg.pLog, SSO_LOG_INFO, zMsg, "models", zCount, "default",
         t->pDefault ? t->pDefault->zBase : "none", (char*)0);
  for(i=-1; i<t->nModel; i++){
    const SsoProxyModel *m = i<0 ? t->pDefault : &t->aModel[i];
    if( m && m->bPlainRemote ){
      ssoLog(p->cfg.pLog, SSO_LOG_WARN, "upstream reached over plain http: "
             "prompts and the upstream key cross the network unencrypted",
             "model", m->zName ? m->zName : "(default)", "url", m->zBase,
             (char*)0);
    }
  }
}

static void proxyReloadNow(SsoProxy *p){
  SsoProxyTable *pNew = 0, *pOld;
  char zErr[600];
  int rc = proxyLoad(p, &pNew, zErr, sizeof(zErr));
  if( rc ){
    if( p->cfg.pLog ){
      ssoLog(p->cfg.pLog, SSO_LOG_ERROR, "models file not reloaded; the "
             "previous models stay in use", "error", zErr, (char*)0);
    }
    return;
  }
  pthread_mutex_lock(&p->mu);
  pOld = p->pTab;
  p->pTab = pNew;
  atomic_fetch_add_explicit(&p->iGen, 1, memory_order_release);
  pthread_mutex_unlock(&p->mu);
  ssoProxyTableRelease(pOld);
  proxyLogTable(p, pNew, "models file reloaded");
}

/* The reload thread: one reload per "r" written to the pipe. */
static void *proxyReloader(void *pArg){
  SsoProxy *p = pArg;
  for(;;){
    char c;
    ssize_t r = read(p->fdR, &c, 1);
    if( r<0 && errno==EINTR ) continue;
    if( r<=0 || c=='q' ) break;
    proxyReloadNow(p);
  }
  return 0;
}

static int proxyStartReloader(SsoProxy *p){
  int fd[2];
  sigset_t old;
  if( pipe(fd) ) return SSOPROXY_NOMEM;
  p->fdR = fd[0];
  p->fdW = fd[1];
  ssoLoopBlockSignals(&old);
  p->bReloader = pthread_create(&p->reloader, 0, proxyReloader, p)==0;
  pthread_sigmask(SIG_SETMASK, &old, 0);
  return p->bReloader ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

SSO_PRIVATE int ssoProxyNew(const SsoProxyConfig *pCfg, SsoProxy **pp,
                            char *zErr, size_t nErr){
  SsoProxy *p;
  int rc;
  *pp = 0;
  if( pCfg->zUpstreamKey && pCfg->zUpstreamKey[0] && !pCfg->zUpstreamUrl ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "SSOPROXY_UPSTREAM_KEY is "
                     "set but SSOPROXY_UPSTREAM_URL is not: the key has no "
                     "upstream to go to");
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->cfg = *pCfg;
  p->fdR = p->fdW = -1;
  atomic_init(&p->iGen, 0);
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  rc = ssoProxyLimiterNew(&p->pLim);
  if( rc==SSOPROXY_OK && pCfg->zModelsFile ){
    p->zFile = ssoStrdup(pCfg->zModelsFile);
    if( p->zFile==0 ) rc = SSOPROXY_NOMEM;
  }
  if( rc==SSOPROXY_OK ) rc = proxyLoad(p, &p->pTab, zErr, nErr);
  if( rc==SSOPROXY_OK && p->zFile ) rc = proxyStartReloader(p);
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
    ssoProxyFree(p);
    return rc;
  }
  proxyLogTable(p, p->pTab, "upstreams");
  *pp = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoProxyReload(SsoProxy *p){
  if( p && p->fdW>=0 ){
    ssize_t r = write(p->fdW, "r", 1);
    SSO_UNUSED(r);          /* a full pipe already holds a reload */
  }
}

SSO_PRIVATE void ssoProxyFree(SsoProxy *p){
  int i;
  if( p==0 ) return;
  if( p->bReloader ){
    ssize_t r = write(p->fdW, "q", 1);
    SSO_UNUSED(r);
    pthread_join(p->reloader, 0);
  }
  if( p->fdR>=0 ) close(p->fdR);
  if( p->fdW>=0 ) close(p->fdW);
  for(i=0; i<SSO_SERVER_MAX_WORKERS; i++){
    if( p->apWorker[i] ){
      /* Workers end before the proxy; this is only a failed start. */
      proxyViewRelease(p->apWorker[i]->pView);
      ssoFree(p->apWorker[i]);
    }
  }
  ssoProxyTableRelease(p->pTab);
  ssoProxyLimiterFree(p->pLim);
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zFile);
  ssoFree(p);
}
