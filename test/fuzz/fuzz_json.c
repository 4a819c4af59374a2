/*
** libFuzzer target for the JSON codec (src/json.c).
**
** Every input is parsed twice, with and without SSO_JSON_NODUP. When it
** parses, the tree is walked through every getter, serialised, parsed
** again and serialised again: the two serialisations must be the same
** bytes. Any broken invariant calls abort() so the fuzzer keeps the input.
**
**   make build/fuzz-json && build/fuzz-json test/fuzz/corpus/json
*/
#include "../../ssoproxy.c"

#define FUZZ_ASSERT(c) do{ if( !(c) ){ \
    fprintf(stderr, "fuzz_json.c:%d: %s\n", __LINE__, #c); abort(); } }while(0)

/* Call every getter on p and its children; check what they promise. */
static void walk(const SsoJson *p, const SsoJson *pRoot, int nDepth){
  size_t i, n = 0, nKey = 0;
  const char *z, *zKey;
  long long iVal;
  double r;
  int b, rc;
  FUZZ_ASSERT( nDepth<=SSO_JSON_MAX_DEPTH + 1 );
  zKey = ssoJsonKey(p, &nKey);
  if( zKey ){
    FUZZ_ASSERT( zKey[nKey]==0 );
    FUZZ_ASSERT( ssoJsonUtf8Valid(zKey, nKey) );
    FUZZ_ASSERT( (ssoJsonKey(p, 0)!=0)==(memchr(zKey, 0, nKey)==0) );
    /* A path that is exactly a top-level name finds that member. */
    if( nDepth==1 && memchr(zKey, 0, nKey)==0 ){
      FUZZ_ASSERT( ssoJsonGetPath(pRoot, zKey)!=0 );
    }
  }
  switch( ssoJsonType(p) ){
    case SSO_JSON_STRING:
      z = ssoJsonStr(p, &n);
      FUZZ_ASSERT( z!=0 && z[n]==0 && ssoJsonUtf8Valid(z, n) );
      FUZZ_ASSERT( (ssoJsonCStr(p)!=0)==(memchr(z, 0, n)==0) );
      break;
    case SSO_JSON_NUMBER:
      z = ssoJsonNumText(p, &n);
      FUZZ_ASSERT( z!=0 && n>0 && strlen(z)==n );
      rc = ssoJsonDouble(p, &r);
      FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_TOOBIG );
      FUZZ_ASSERT( rc!=SSOPROXY_OK || !isnan(r) );
      rc = ssoJsonInt64(p, &iVal);
      FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_TOOBIG
                || rc==SSOPROXY_PARSE );
      if( rc==SSOPROXY_OK ){
        char zBuf[32];
        snprintf(zBuf, sizeof(zBuf), "%lld", iVal);
        /* Same digits, apart from a "-0". */
        FUZZ_ASSERT( strcmp(zBuf, z)==0 || (iVal==0 && strcmp(z, "-0")==0) );
      }
      break;
    case SSO_JSON_TRUE: case SSO_JSON_FALSE:
      FUZZ_ASSERT( ssoJsonBool(p, &b)==SSOPROXY_OK );
      FUZZ_ASSERT( b==(ssoJsonType(p)==SSO_JSON_TRUE) );
      break;
    case SSO_JSON_NULL:
      FUZZ_ASSERT( ssoJsonBool(p, &b)==SSOPROXY_PARSE );
      break;
    case SSO_JSON_ARRAY: case SSO_JSON_OBJECT:
      n = ssoJsonCount(p);
      for(i=0; i<n; i++){
        const SsoJson *pChild = ssoJsonAt(p, i);
        FUZZ_ASSERT( pChild!=0 );
        if( ssoJsonType(p)==SSO_JSON_OBJECT ){
          zKey = ssoJsonKey(pChild, &nKey);
          FUZZ_ASSERT( zKey!=0 && ssoJsonGetN(p, zKey, nKey)!=0 );
        }else{
          FUZZ_ASSERT( ssoJsonKey(pChild, &nKey)==0 );
        }
        walk(pChild, pRoot, nDepth+1);
      }
      FUZZ_ASSERT( ssoJsonAt(p, n)==0 );
      break;
    default:
      FUZZ_ASSERT( 0 );
  }
}

/* Compact serialisation; returns a string the caller ssoFree()s. */
static char *serialise(const SsoJson *p, size_t *pn){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  rc = ssoJsonToBuf(p, &b);
  FUZZ_ASSERT( rc==SSOPROXY_OK );
  return ssoBufFinish(&b, pn);
}

static void check(const uint8_t *aData, size_t nData, unsigned mFlags){
  SsoJsonDoc *pDoc = 0, *pDoc2 = 0;
  SsoJsonErr err;
  char *z1, *z2;
  size_t n1 = 0, n2 = 0;
  int rc = ssoJsonParse((const char*)aData, nData, mFlags, &pDoc, &err);
  FUZZ_ASSERT( rc==err.rc );
  if( rc ){
    FUZZ_ASSERT( pDoc==0 && err.zMsg[0]!=0 && err.iOfs<=nData );
    FUZZ_ASSERT( rc==SSOPROXY_PARSE || rc==SSOPROXY_TOOBIG );
    return;
  }
  /* What parses holds only valid UTF-8: ASCII outside strings. */
  FUZZ_ASSERT( ssoJsonUtf8Valid((const char*)aData, nData) );
  walk(ssoJsonRoot(pDoc), ssoJsonRoot(pDoc), 0);
  z1 = serialise(ssoJsonRoot(pDoc), &n1);
  FUZZ_ASSERT( z1!=0 );
  rc = ssoJsonParse(z1, n1, mFlags, &pDoc2, &err);
  FUZZ_ASSERT( rc==SSOPROXY_OK );
  z2 = serialise(ssoJsonRoot(pDoc2), &n2);
  FUZZ_ASSERT( z2!=0 && n1==n2 && memcmp(z1, z2, n1)==0 );
  ssoFree(z2);
  ssoFree(z1);
  ssoJsonFree(pDoc2);
  ssoJsonFree(pDoc);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  SsoJsonDoc *pDoc = 0, *pDupDoc = 0;
  int rc, rcDup;
  check(aData, nData, 0);
  check(aData, nData, SSO_JSON_NODUP);
  /* NODUP is strictly stricter. */
  rc = ssoJsonParse((const char*)aData, nData, 0, &pDoc, 0);
  rcDup = ssoJsonParse((const char*)aData, nData, SSO_JSON_NODUP, &pDupDoc, 0);
  FUZZ_ASSERT( rcDup!=SSOPROXY_OK || rc==SSOPROXY_OK );
  ssoJsonFree(pDupDoc);
  ssoJsonFree(pDoc);
  return 0;
}
