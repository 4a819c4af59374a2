/*
** Fuzz target for the b64 module. Checks, for every input:
**  - decoding in either alphabet never reads or writes out of bounds;
**  - whatever decodes re-encodes to exactly the input (the decoder only
**    accepts canonical text), and an error offset lies within the input;
**  - the input as raw bytes encodes and decodes back to itself in both
**    alphabets, and the encoding has the predicted length.
*/
#include "../../ssoproxy.c"

static void checkDecode(const uint8_t *aData, size_t nData, int eAlpha){
  size_t nMax = ssoB64DecodedMax(nData), nOut = 0, iErr = 0;
  unsigned char *aOut = malloc(nMax ? nMax : 1);
  char *zBack;
  int rc;
  if( aOut==0 ) return;
  rc = ssoB64Decode((const char*)aData, nData, eAlpha, aOut, nMax, &nOut,
                    &iErr);
  if( rc==SSOPROXY_OK ){
    if( nOut>nMax ) abort();
    zBack = malloc(ssoB64EncodedLen(nOut, eAlpha) + 1);
    if( zBack ){
      size_t nBack = ssoB64EncodeTo(aOut, nOut, eAlpha, zBack);
      if( nBack!=nData || memcmp(zBack, aData, nData)!=0 ) abort();
      free(zBack);
    }
  }else{
    if( rc!=SSOPROXY_PARSE && rc!=SSOPROXY_TOOBIG ) abort();
    if( rc==SSOPROXY_PARSE && iErr>nData ) abort();
  }
  free(aOut);
}

static void checkRoundTrip(const uint8_t *aData, size_t nData, int eAlpha){
  SsoBuf b;
  unsigned char *aBack = 0;
  size_t nBack = 0;
  int rc;
  ssoBufInit(&b, 0);
  ssoB64Encode(&b, aData, nData, eAlpha);
  if( b.rc ){ ssoBufFree(&b); return; }
  if( b.n!=ssoB64EncodedLen(nData, eAlpha) ) abort();
  rc = ssoB64DecodeAlloc(b.z, b.n, eAlpha, &aBack, &nBack, 0);
  if( rc==SSOPROXY_OK ){
    if( nBack!=nData || memcmp(aBack, aData, nData)!=0 ) abort();
  }else if( rc!=SSOPROXY_NOMEM && !(rc==SSOPROXY_TOOBIG
                                   && b.n>SSO_B64_MAX_INPUT) ){
    abort();
  }
  ssoFree(aBack);
  ssoBufFree(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  checkDecode(aData, nData, SSO_B64_STD);
  checkDecode(aData, nData, SSO_B64_URL);
  checkRoundTrip(aData, nData, SSO_B64_STD);
  checkRoundTrip(aData, nData, SSO_B64_URL);
  return 0;
}
