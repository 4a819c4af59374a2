/*
** libFuzzer target for the JOSE module (src/jose.c).
**
** Each input is used three ways: as a JWKS document; as a compact JWS,
** decoded, verified against a fixed key set (the RFC 7515 A.2 RSA key
** and A.3 P-256 key, with and without kids) and its claims checked; and,
** when it holds a newline, as a JWKS (the first line) and a token (the
** rest) verified with each other, so the fuzzer can pair keys it made
** with tokens it made. Broken invariants call abort().
**
**   make build/fuzz-jose && build/fuzz-jose test/fuzz/corpus/jose
*/
#include "../../ssoproxy.c"

#define FUZZ_ASSERT(c) do{ if( !(c) ){ \
    fprintf(stderr, "fuzz_jose.c:%d: %s\n", __LINE__, #c); abort(); } }while(0)

#define FUZZ_A2_N \
  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx" \
  "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs" \
  "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH" \
  "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV" \
  "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8" \
  "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define FUZZ_A3_XY \
  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\""
static const char zFixedJwks[] =
  "{\"keys\":["
  "{\"kty\":\"RSA\",\"kid\":\"a2\",\"n\":\"" FUZZ_A2_N "\",\"e\":\"AQAB\"},"
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a3\"," FUZZ_A3_XY "},"
  "{\"kty\":\"RSA\",\"n\":\"" FUZZ_A2_N "\",\"e\":\"AQAB\",\"alg\":\"RS256\"},"
  "{\"kty\":\"EC\",\"crv\":\"P-256\"," FUZZ_A3_XY "}]}";

static SsoJwks *pFixed;

/* Parse z[0..n) as a key set; check what the parser promises. */
static SsoJwks *fuzzJwks(const char *z, size_t n){
  SsoJwks *p = (SsoJwks*)&pFixed;
  char zErr[200];
  int rc = ssoJwksParse(z, n, &p, zErr, sizeof(zErr));
  FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_PARSE || rc==SSOPROXY_TOOBIG );
  FUZZ_ASSERT( strlen(zErr)<sizeof(zErr) );
  if( rc ){
    FUZZ_ASSERT( p==0 && zErr[0]!=0 );
    return 0;
  }
  FUZZ_ASSERT( p!=0 );
  FUZZ_ASSERT( ssoJwksCount(p)>=0 && ssoJwksSkipped(p)>=0 );
  FUZZ_ASSERT( ssoJwksCount(p)+ssoJwksSkipped(p)<=SSO_JOSE_MAX_KEYS );
  FUZZ_ASSERT( (ssoJwksSkipped(p)==0)==(ssoJwksSkipReason(p)[0]==0) );
  return p;
}

/* Decode z[0..n) as a token and, if it decodes, verify it against each
** non-NULL key set and check its claims. */
static void fuzzToken(const char *z, size_t n, const SsoJwks *pA,
                      const SsoJwks *pB){
  SsoJwt jwt;
  SsoJwtExpect e;
  char zErr[200];
  int rc = ssoJwtDecode(z, n, &jwt, zErr, sizeof(zErr));
  FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_PARSE );
  if( rc ){
    FUZZ_ASSERT( zErr[0]!=0 && jwt.pClaims==0 && jwt.pHeader==0 );
    ssoJwtFree(&jwt);
    return;
  }
  FUZZ_ASSERT( memchr(jwt.zAlg, 0, sizeof(jwt.zAlg))!=0 );
  FUZZ_ASSERT( ssoJsonType(ssoJsonRoot(jwt.pClaims))==SSO_JSON_OBJECT );
  FUZZ_ASSERT( ssoJsonType(ssoJsonRoot(jwt.pHeader))==SSO_JSON_OBJECT );
  FUZZ_ASSERT( ssoJsonGet(ssoJsonRoot(jwt.pHeader), "crit")==0 );
  FUZZ_ASSERT( jwt.nSig<=SSO_JOSE_MAX_SIG );
  if( pA ){
    rc = ssoJwtVerify(&jwt, pA, zErr, sizeof(zErr));
    FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_ERROR
              || rc==SSOPROXY_NOTFOUND );
    FUZZ_ASSERT( (rc==SSOPROXY_OK)==(zErr[0]==0) );
    if( rc==SSOPROXY_OK ){
      FUZZ_ASSERT( strcmp(jwt.zAlg, "RS256")==0 || strcmp(jwt.zAlg, "PS256")==0
                || strcmp(jwt.zAlg, "ES256")==0 );
    }
  }
  if( pB ){
    rc = ssoJwtVerify(&jwt, pB, zErr, sizeof(zErr));
    FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_ERROR
              || rc==SSOPROXY_NOTFOUND );
  }
  memset(&e, 0, sizeof(e));
  e.zIss = "https://idp.example";
  e.zAud = "ssoproxy-test";
  e.zNonce = "n-0S6_WzA2Mj";
  e.tNow = 1700000100000LL;
  e.msSkew = 60000;
  e.msMaxAge = 3600000;
  rc = ssoJwtCheckClaims(&jwt, &e, zErr, sizeof(zErr));
  FUZZ_ASSERT( rc==SSOPROXY_OK || rc==SSOPROXY_ERROR );
  FUZZ_ASSERT( (rc==SSOPROXY_OK)==(zErr[0]==0) );
  FUZZ_ASSERT( strstr(zErr, "n-0S6_WzA2Mj")==0 );
  ssoJwtFree(&jwt);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  const char *z = (const char*)aData;
  const char *zNl = nData ? memchr(z, '\n', nData) : 0;
  SsoJwks *p;
  if( pFixed==0 ){
    char zErr[200];
    FUZZ_ASSERT( ssoJwksParse(zFixedJwks, strlen(zFixedJwks), &pFixed, zErr,
                              sizeof(zErr))==SSOPROXY_OK );
    FUZZ_ASSERT( ssoJwksCount(pFixed)==4 );
  }
  p = fuzzJwks(z, nData);
  ssoJwksFree(p);
  fuzzToken(z, nData, pFixed, 0);
  if( zNl ){
    size_t nHead = (size_t)(zNl - z);
    p = fuzzJwks(z, nHead);
    fuzzToken(zNl+1, nData-nHead-1, pFixed, p);
    ssoJwksFree(p);
  }
  return 0;
}
