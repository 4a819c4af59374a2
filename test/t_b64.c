/*
** Tests for the b64 module: the RFC 4648 §10 vectors in both alphabets,
** every class of input the strict decoder must refuse (with the offset it
** reports), round trips over many lengths, and the size boundaries.
*/

/* A small deterministic PRNG (xorshift32) so failures are repeatable. */
static unsigned b64Rand(unsigned *pState){
  unsigned x = *pState;
  x ^= x<<13; x ^= x>>17; x ^= x<<5;
  *pState = x;
  return x;
}

/* Decode z as a C string; returns rc, result in zOut (NUL-terminated). */
static int b64Dec(const char *z, int eAlpha, char *zOut, size_t nOut,
                  size_t *pnOut, size_t *piErr){
  size_t nDummy;
  int rc = ssoB64Decode(z, strlen(z), eAlpha, (unsigned char*)zOut, nOut-1,
                        pnOut ? pnOut : &nDummy, piErr);
  if( rc==SSOPROXY_OK ) zOut[pnOut ? *pnOut : nDummy] = 0;
  return rc;
}

/* RFC 4648 §10, both directions, both alphabets. */
static void test_b64_rfc4648_vectors(void){
  static const struct { const char *zIn, *zStd, *zUrl; } aVec[] = {
    { "",       "",         "" },
    { "f",      "Zg==",     "Zg" },
    { "fo",     "Zm8=",     "Zm8" },
    { "foo",    "Zm9v",     "Zm9v" },
    { "foob",   "Zm9vYg==", "Zm9vYg" },
    { "fooba",  "Zm9vYmE=", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aVec); i++){
    char z[32], zOut[32];
    size_t n = strlen(aVec[i].zIn), nOut = 99;
    SsoBuf b;
    CHECK_INT( ssoB64EncodedLen(n, SSO_B64_STD), strlen(aVec[i].zStd) );
    CHECK_INT( ssoB64EncodedLen(n, SSO_B64_URL), strlen(aVec[i].zUrl) );
    CHECK_INT( ssoB64EncodeTo(aVec[i].zIn, n, SSO_B64_STD, z),
               strlen(aVec[i].zStd) );
    CHECK_STR( z, aVec[i].zStd );
    CHECK_INT( ssoB64EncodeTo(aVec[i].zIn, n, SSO_B64_URL, z),
               strlen(aVec[i].zUrl) );
    CHECK_STR( z, aVec[i].zUrl );
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "x.");
    ssoB64Encode(&b, aVec[i].zIn, n, SSO_B64_URL);
    ssoBufAppendChar(&b, '.');
    ssoB64Encode(&b, aVec[i].zIn, n, SSO_B64_STD);
    snprintf(z, sizeof(z), "x.%s.%s", aVec[i].zUrl, aVec[i].zStd);
    CHECK_STR( ssoBufStr(&b), z );
    ssoBufFree(&b);
    CHECK_INT( b64Dec(aVec[i].zStd, SSO_B64_STD, zOut, sizeof(zOut), &nOut,
                      0), SSOPROXY_OK );
    CHECK_INT( nOut, n );
    CHECK_STR( zOut, aVec[i].zIn );
    CHECK_INT( b64Dec(aVec[i].zUrl, SSO_B64_URL, zOut, sizeof(zOut), &nOut,
                      0), SSOPROXY_OK );
    CHECK_INT( nOut, n );
    CHECK_STR( zOut, aVec[i].zIn );
  }
}

/* The two alphabets differ only in value 62 and 63 (§4, §5). */
static void test_b64_alphabets(void){
  static const unsigned char a[] = { 0xfb, 0xff, 0xbf, 0x00, 0x10, 0x83 };
  char z[16];
  unsigned char aOut[8];
  size_t nOut;
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_STD, z);
  CHECK_STR( z, "+/+/ABCD" );
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, z);
  CHECK_STR( z, "-_-_ABCD" );
  CHECK_INT( ssoB64Decode("-_-_ABCD", 8, SSO_B64_URL, aOut, 8, &nOut, 0),
             SSOPROXY_OK );
  CHECK_INT( nOut, 6 );
  CHECK_MEM( aOut, a, 6 );
  CHECK_INT( ssoB64Decode("+/+/ABCD", 8, SSO_B64_STD, aOut, 8, &nOut, 0),
             SSOPROXY_OK );
  CHECK_MEM( aOut, a, 6 );
  /* Every byte value, through both alphabets. */
  {
    unsigned char aAll[256], aBack[256];
    char zAll[400];
    int i, e;
    for(i=0; i<256; i++) aAll[i] = (unsigned char)i;
    for(e=0; e<2; e++){
      size_t nText = ssoB64EncodeTo(aAll, 256, e, zAll);
      CHECK_INT( ssoB64Decode(zAll, nText, e, aBack, 256, &nOut, 0),
                 SSOPROXY_OK );
      CHECK_INT( nOut, 256 );
      CHECK_MEM( aBack, aAll, 256 );
    }
  }
}

/* Each bad input, its alphabet and the offset the decoder must report. */
static void test_b64_rejects(void){
  static const struct { const char *z; int eAlpha; size_t iErr; } aBad[] = {
    /* Characters outside the alphabet, whitespace and line breaks */
    { "Zm9v\n",         SSO_B64_STD, 4 },
    { "Zm9v\r\nYmFy",   SSO_B64_STD, 4 },
    { "Zm 9v",          SSO_B64_STD, 2 },
    { " Zm9v",          SSO_B64_URL, 0 },
    { "Zm9v\tYg",       SSO_B64_URL, 4 },
    { "Zm9v*mFy",       SSO_B64_STD, 4 },
    { "Zm9vYmF\x80",    SSO_B64_STD, 7 },
    { "Zm9vYm\xff",     SSO_B64_URL, 6 },
    { "Zm9v.g",         SSO_B64_URL, 4 },
    /* Mixing the alphabets */
    { "-_-_",           SSO_B64_STD, 0 },
    { "ab_d",           SSO_B64_STD, 2 },
    { "+/+/",           SSO_B64_URL, 0 },
    { "abc/",           SSO_B64_URL, 3 },
    /* Padding in base64url is refused (RFC 7515 §2) */
    { "Zg==",           SSO_B64_URL, 2 },
    { "Zm8=",           SSO_B64_URL, 3 },
    { "=",              SSO_B64_URL, 0 },
    /* Standard alphabet: padding required, and only at the end */
    { "Zg",             SSO_B64_STD, 2 },
    { "Zm8",            SSO_B64_STD, 3 },
    { "Zg=",            SSO_B64_STD, 3 },
    { "Zm9vYg=",        SSO_B64_STD, 7 },
    { "Z===",           SSO_B64_STD, 1 },
    { "====",           SSO_B64_STD, 0 },
    { "=",              SSO_B64_STD, 0 },
    { "Zg=A",           SSO_B64_STD, 3 },
    { "Zg==Zg==",       SSO_B64_STD, 4 },
    { "Zm8=Zm9v",       SSO_B64_STD, 4 },
    { "Zg===",          SSO_B64_STD, 4 },
    { "Zm8==",          SSO_B64_STD, 4 },
    { "Zm9v=",          SSO_B64_STD, 4 },
    /* Lengths no byte string encodes to (len % 4 == 1) */
    { "Z",              SSO_B64_URL, 1 },
    { "Zm9vY",          SSO_B64_URL, 5 },
    { "Zm9vY",          SSO_B64_STD, 5 },
    /* Non-canonical: unused bits of the last character not zero (§3.5) */
    { "Zh==",           SSO_B64_STD, 1 },
    { "Zm9=",           SSO_B64_STD, 2 },
    { "Zh",             SSO_B64_URL, 1 },
    { "Zm9",            SSO_B64_URL, 2 },
    { "Zm9vYmF",        SSO_B64_URL, 6 },
    { "AB",             SSO_B64_URL, 1 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aBad); i++){
    char zOut[32];
    size_t iErr = 999, nOut = 999;
    int rc = b64Dec(aBad[i].z, aBad[i].eAlpha, zOut, sizeof(zOut), &nOut,
                    &iErr);
    if( rc!=SSOPROXY_PARSE || iErr!=aBad[i].iErr ){
      fprintf(stderr, "  case %d \"%s\": rc=%d iErr=%d\n", (int)i,
              aBad[i].z, rc, (int)iErr);
    }
    CHECK_INT( rc, SSOPROXY_PARSE );
    CHECK_INT( iErr, aBad[i].iErr );
    CHECK_INT( nOut, 0 );
  }
  /* A NUL byte inside the text is just another bad character. */
  {
    unsigned char aOut[8];
    size_t iErr = 0, nOut;
    CHECK_INT( ssoB64Decode("Zm\0v", 4, SSO_B64_STD, aOut, 8, &nOut, &iErr),
               SSOPROXY_PARSE );
    CHECK_INT( iErr, 2 );
  }
}

/*
** Exhaustive over the short final groups: "XY" and "XYZ" (url), "XY=="
** and "XYZ=" (std) decode exactly when the unused low bits are zero, so
** each byte string has one spelling.
*/
static void test_b64_canonical_tails(void){
  static const char zA[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int x, y, nOk2 = 0, nOk3 = 0, nBad = 0;
  for(x=0; x<64; x++){
    for(y=0; y<64; y++){
      char z[5];
      unsigned char a[4];
      size_t nOut, iErr;
      int rc;
      z[0] = zA[x]; z[1] = zA[y]; z[2] = '='; z[3] = '='; z[4] = 0;
      rc = ssoB64Decode(z, 2, SSO_B64_URL, a, 4, &nOut, &iErr);
      if( rc==SSOPROXY_OK ) nOk2++;
      if( (rc==SSOPROXY_OK) != ((y & 0x0f)==0) ) nBad++;
      if( rc==SSOPROXY_OK && (nOut!=1 || a[0]!=(unsigned char)(x<<2|y>>4)) ){
        nBad++;
      }
      if( zA[y]!='-' && zA[y]!='_' && zA[x]!='-' && zA[x]!='_' ){
        int rc2 = ssoB64Decode(z, 4, SSO_B64_STD, a, 4, &nOut, &iErr);
        if( rc2!=rc ) nBad++;
      }
      z[2] = zA[y]; z[3] = 0;
      rc = ssoB64Decode(z, 3, SSO_B64_URL, a, 4, &nOut, &iErr);
      if( rc==SSOPROXY_OK ) nOk3++;
      if( (rc==SSOPROXY_OK) != ((y & 0x03)==0) ) nBad++;
      if( rc!=SSOPROXY_OK && iErr!=2 ) nBad++;
    }
  }
  CHECK_INT( nBad, 0 );
  CHECK_INT( nOk2, 64*4 );
  CHECK_INT( nOk3, 64*16 );
}

/* Random byte strings of every length 0..300 encode and decode back. */
static void test_b64_round_trip(void){
  unsigned seed = 0x9e3779b9u;
  unsigned char aIn[300], aOut[300];
  char zText[410], zText2[410];
  size_t n;
  int e, nBad = 0;
  for(n=0; n<=300; n++){
    size_t i;
    for(i=0; i<n; i++) aIn[i] = (unsigned char)b64Rand(&seed);
    for(e=0; e<2; e++){
      SsoBuf b;
      size_t nText, nOut = 0, iErr = 0;
      nText = ssoB64EncodeTo(aIn, n, e, zText);
      if( nText!=ssoB64EncodedLen(n, e) || strlen(zText)!=nText ) nBad++;
      if( e==SSO_B64_STD && nText%4 ) nBad++;
      if( e==SSO_B64_URL && (strchr(zText, '=') || nText%4==1) ) nBad++;
      ssoBufInit(&b, 0);
      ssoB64Encode(&b, aIn, n, e);
      if( b.n!=nText || strcmp(ssoBufStr(&b), zText)!=0 ) nBad++;
      ssoBufFree(&b);
      if( ssoB64DecodedMax(nText)<n ) nBad++;
      if( ssoB64Decode(zText, nText, e, aOut, n, &nOut, &iErr)
          || nOut!=n || memcmp(aIn, aOut, n)!=0 ){
        nBad++;
      }
      /* In place: the output overwrites the text it comes from. */
      memcpy(zText2, zText, nText);
      if( ssoB64Decode(zText2, nText, e, (unsigned char*)zText2, nText,
                       &nOut, &iErr) || nOut!=n || memcmp(aIn, zText2, n) ){
        nBad++;
      }
      /* The other alphabet accepts the text only if it has no '+/-_'
      ** and (for std) the padding rules happen to agree. */
      if( ssoB64Decode(zText, nText, !e, aOut, n, &nOut, &iErr)==SSOPROXY_OK
          && (nOut!=n || memcmp(aIn, aOut, n)!=0) ){
        nBad++;
      }
    }
  }
  CHECK_INT( nBad, 0 );
}

/* The output size check, the maximum-size helper and the input limit. */
static void test_b64_sizes(void){
  unsigned char aOut[8];
  size_t nOut = 7, iErr = 7;
  char *zBig;
  unsigned char *aBig = 0;
  CHECK_INT( ssoB64DecodedMax(0), 0 );
  CHECK_INT( ssoB64DecodedMax(1), 0 );
  CHECK_INT( ssoB64DecodedMax(2), 1 );
  CHECK_INT( ssoB64DecodedMax(3), 2 );
  CHECK_INT( ssoB64DecodedMax(4), 3 );
  CHECK_INT( ssoB64DecodedMax(8), 6 );
  CHECK_INT( ssoB64EncodedLen(0, SSO_B64_STD), 0 );
  CHECK_INT( ssoB64EncodedLen(1, SSO_B64_STD), 4 );
  CHECK_INT( ssoB64EncodedLen(1, SSO_B64_URL), 2 );
  CHECK_INT( ssoB64EncodedLen(2, SSO_B64_URL), 3 );
  CHECK_INT( ssoB64EncodedLen(3, SSO_B64_URL), 4 );
  CHECK_INT( ssoB64EncodedLen(32, SSO_B64_URL), 43 );  /* a PKCE verifier */
  /* The empty string decodes to nothing, even with no buffer at all. */
  CHECK_INT( ssoB64Decode("", 0, SSO_B64_STD, 0, 0, &nOut, 0), SSOPROXY_OK );
  CHECK_INT( nOut, 0 );
  /* Exactly fitting output is fine; one byte less is TOOBIG. Padding
  ** counts: "Zm8=" needs 2 bytes, not 3. */
  CHECK_INT( ssoB64Decode("Zm8=", 4, SSO_B64_STD, aOut, 2, &nOut, 0),
             SSOPROXY_OK );
  CHECK_INT( nOut, 2 );
  CHECK_INT( ssoB64Decode("Zm8=", 4, SSO_B64_STD, aOut, 1, &nOut, 0),
             SSOPROXY_TOOBIG );
  CHECK_INT( ssoB64Decode("Zm9vYmFy", 8, SSO_B64_URL, aOut, 6, &nOut, 0),
             SSOPROXY_OK );
  CHECK_INT( ssoB64Decode("Zm9vYmFy", 8, SSO_B64_URL, aOut, 5, &nOut, 0),
             SSOPROXY_TOOBIG );
  CHECK_INT( ssoB64Decode("Zm9vYmE", 7, SSO_B64_URL, aOut, 5, &nOut, 0),
             SSOPROXY_OK );
  CHECK_INT( ssoB64Decode("Zm9vYmE", 7, SSO_B64_URL, aOut, 4, &nOut, 0),
             SSOPROXY_TOOBIG );
  /* The input limit: SSO_B64_MAX_INPUT characters decode, one more is
  ** refused before a byte is read. */
  zBig = ssoMalloc(SSO_B64_MAX_INPUT + 1);
  CHECK( zBig!=0 );
  if( zBig ){
    memset(zBig, 'A', SSO_B64_MAX_INPUT + 1);
    CHECK_INT( ssoB64DecodeAlloc(zBig, SSO_B64_MAX_INPUT, SSO_B64_URL, &aBig,
                                 &nOut, &iErr), SSOPROXY_OK );
    CHECK_INT( nOut, SSO_B64_MAX_INPUT/4*3 );
    CHECK( aBig && aBig[0]==0 && aBig[nOut-1]==0 );
    ssoFree(aBig);
    CHECK_INT( ssoB64DecodeAlloc(zBig, SSO_B64_MAX_INPUT+1, SSO_B64_URL,
                                 &aBig, &nOut, &iErr), SSOPROXY_TOOBIG );
    CHECK( aBig==0 );
    CHECK_INT( iErr, SSO_B64_MAX_INPUT );
    iErr = 0;
    CHECK_INT( ssoB64Decode(zBig, SSO_B64_MAX_INPUT+1, SSO_B64_URL,
                            (unsigned char*)zBig, SSO_B64_MAX_INPUT+1,
                            &nOut, &iErr), SSOPROXY_TOOBIG );
    CHECK_INT( iErr, SSO_B64_MAX_INPUT );
    ssoFree(zBig);
  }
  /* A builder that cannot hold the text reports TOOBIG, stickily. */
  {
    SsoBuf b;
    ssoBufInit(&b, 8);
    ssoB64Encode(&b, "foobar", 6, SSO_B64_STD);   /* 8 + NUL: too big */
    CHECK_INT( b.rc, SSOPROXY_TOOBIG );
    ssoBufFree(&b);
  }
}

static void test_b64_decode_alloc(void){
  unsigned char *a = 0;
  size_t n = 9, iErr = 9;
  CHECK_INT( ssoB64DecodeAlloc("eyJhbGciOiJSUzI1NiJ9", 20, SSO_B64_URL, &a,
                               &n, &iErr), SSOPROXY_OK );
  CHECK_INT( n, 15 );
  CHECK_STR( (const char*)a, "{\"alg\":\"RS256\"}" );
  ssoFree(a);
  CHECK_INT( ssoB64DecodeAlloc("", 0, SSO_B64_URL, &a, &n, 0), SSOPROXY_OK );
  CHECK( a!=0 && n==0 && a[0]==0 );
  ssoFree(a);
  CHECK_INT( ssoB64DecodeAlloc("eyJhbGciOiJSUzI1NiJ9=", 21, SSO_B64_URL, &a,
                               &n, &iErr), SSOPROXY_PARSE );
  CHECK( a==0 );
  CHECK_INT( n, 0 );
  CHECK_INT( iErr, 20 );
}

static int b64OomBody(void *pArg){
  unsigned char *a;
  size_t n;
  int rc;
  SSO_UNUSED(pArg);
  rc = ssoB64DecodeAlloc("Zm9vYmFy", 8, SSO_B64_STD, &a, &n, 0);
  if( rc ) return a==0 ? rc : SSOPROXY_ERROR;
  rc = (n==6 && memcmp(a, "foobar", 7)==0) ? SSOPROXY_OK : SSOPROXY_ERROR;
  ssoFree(a);
  return rc;
}
static int b64OomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? (rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM) : rc==SSOPROXY_OK;
}
static void test_b64_oom(void){
  CHECK( faultRun(b64OomBody, b64OomCheck, 0)>=3 );
}

static const TestCase aB64Tests[] = {
  TEST_CASE(test_b64_rfc4648_vectors),
  TEST_CASE(test_b64_alphabets),
  TEST_CASE(test_b64_rejects),
  TEST_CASE(test_b64_canonical_tails),
  TEST_CASE(test_b64_round_trip),
  TEST_CASE(test_b64_sizes),
  TEST_CASE(test_b64_decode_alloc),
  TEST_CASE(test_b64_oom),
};
