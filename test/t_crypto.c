/*
** Tests for the crypto module: SHA-256 (FIPS 180-4 / RFC 6234 vectors),
** HMAC-SHA256 (RFC 4231 test cases), the CSPRNG, constant-time compare.
*/

static void hexOf(const unsigned char *a, size_t n, char *z){
  ssoHexEncode(a, n, z);
}

static void test_sha256_vectors(void){
  static const struct { const char *zIn; const char *zHex; } aVec[] = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc",
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  };
  unsigned char a[32];
  char z[65];
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aVec); i++){
    CHECK_INT( ssoSha256(aVec[i].zIn, strlen(aVec[i].zIn), a), SSOPROXY_OK );
    hexOf(a, 32, z);
    CHECK_STR( z, aVec[i].zHex );
  }
}

/* RFC 4231 §4.2, §4.3 and §4.7 (a key longer than the block size). */
static void test_hmac_sha256_rfc4231(void){
  unsigned char aKey[131], a[32];
  char z[65];
  memset(aKey, 0x0b, 20);
  CHECK_INT( ssoHmacSha256(aKey, 20, "Hi There", 8, a), SSOPROXY_OK );
  hexOf(a, 32, z);
  CHECK_STR( z,
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" );
  ssoHmacSha256("Jefe", 4, "what do ya want for nothing?", 28, a);
  hexOf(a, 32, z);
  CHECK_STR( z,
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" );
  memset(aKey, 0xaa, sizeof(aKey));
  ssoHmacSha256(aKey, 131,
    "This is a test using a larger than block-size key and a larger than "
    "block-size data. The key needs to be hashed before being used by the "
    "HMAC algorithm.", 152, a);
  hexOf(a, 32, z);
  CHECK_STR( z,
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" );
}

static void test_rng(void){
  SsoRng *pRng = 0;
  unsigned char a[64], b[64], big[5000];
  int i, nZero = 0;
  CHECK_INT( ssoRngNew(&pRng), SSOPROXY_OK );
  if( pRng==0 ) return;
  CHECK_INT( ssoRngBytes(pRng, a, sizeof(a)), SSOPROXY_OK );
  CHECK_INT( ssoRngBytes(pRng, b, sizeof(b)), SSOPROXY_OK );
  CHECK( memcmp(a, b, sizeof(a))!=0 );
  /* Longer than one DRBG request: must be filled to the end. */
  memset(big, 0, sizeof(big));
  CHECK_INT( ssoRngBytes(pRng, big, sizeof(big)), SSOPROXY_OK );
  for(i=4900; i<5000; i++) nZero += big[i]==0;
  CHECK( nZero<10 );
  ssoRngFree(pRng);
  ssoRngFree(0);
}

static int rngOomBody(void *pArg){
  SsoRng *p = 0;
  int rc = ssoRngNew(&p);
  SSO_UNUSED(pArg);
  ssoRngFree(p);
  return rc;
}
static void test_rng_oom(void){
  CHECK( faultRun(rngOomBody, expectOkOrNomem, 0)>=2 );
}

static void test_ct_equal(void){
  CHECK( ssoCtEqual("abcdef", "abcdef", 6) );
  CHECK( !ssoCtEqual("abcdef", "abcdeg", 6) );
  CHECK( !ssoCtEqual("xbcdef", "abcdef", 6) );
  CHECK( ssoCtEqual("", "", 0) );
}

static const TestCase aCryptoTests[] = {
  TEST_CASE(test_sha256_vectors),
  TEST_CASE(test_hmac_sha256_rfc4231),
  TEST_CASE(test_rng),
  TEST_CASE(test_rng_oom),
  TEST_CASE(test_ct_equal),
};
