/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: JOSE, the part of it an OpenID Connect relying party needs:
** checking the signature of an id_token (a compact JWS, RFC 7515) with a
** key from the provider's JWK set (RFC 7517), and checking its claims
** (OpenID Connect Core 1.0 §3.1.3.7). Nothing here signs or encrypts.
**
** The algorithms are a short allow-list, RS256, PS256 and ES256 (RFC 7518
** §3.3, §3.5, §3.4), and the token's "alg" picks from it only together
** with a key of the matching type. That closes the classic holes of JWT
** libraries: "none" is refused, and so is every HMAC alg, so a token
** "signed" with HS256 using the provider's public RSA key as the secret
** never verifies (algorithm confusion); an ES256 signature must be the
** raw 64-byte r||s, never DER, and r and s must be in range, so the
** all-zero "psychic signature" fails too. The "crit" header is refused
** (RFC 7515 §4.1.11: a recipient that does not understand an extension
** listed there must reject the token), and with it b64=false (RFC 7797).
** Headers that point at other keys (jku, jwk, x5u, x5c) are ignored: the
** keys come only from the JWKS the caller fetched from the provider.
**
** Threads. A key set holds its keys as plain bytes. mbedTLS's key objects
** keep caches that an operation fills in (RSA's Montgomery constant, the
** precomputed multiples of the curve's generator), so sharing one between
** threads would need locks. Instead each verification builds its own
** contexts from the bytes and frees them after: a few microseconds next
** to the signature check itself, once per login.
**
** Everything version-specific between mbedTLS 2.28 and 3.x is settled in
** the few joseRsa* helpers below (STYLE.md item 9).
*/
#include "ssoInt.h"
#include <mbedtls/version.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
# include <psa/crypto.h>
#endif

/* Key types we keep. */
#define JOSE_KTY_RSA 1
#define JOSE_KTY_EC  2

/* Signature algorithms we accept. */
#define JOSE_RS256 1
#define JOSE_PS256 2
#define JOSE_ES256 3

#define JOSE_P256_LEN  32        /* Bytes of a P-256 coordinate, r or s */
#define JOSE_MAX_DATE  253402300799.0   /* 9999-12-31T23:59:59Z, seconds */

typedef struct JoseAlg JoseAlg;
struct JoseAlg {
  const char *zName;
  int eAlg;             /* JOSE_RS256 ... */
  int eKty;             /* Key type it needs */
};
static const JoseAlg aJoseAlg[] = {
  { "RS256", JOSE_RS256, JOSE_KTY_RSA },
  { "PS256", JOSE_PS256, JOSE_KTY_RSA },
  { "ES256", JOSE_ES256, JOSE_KTY_EC },
};

/* One usable verification key. Pointers are into the set's arena. */
typedef struct JoseKey JoseKey;
struct JoseKey {
  int eKty;                     /* JOSE_KTY_RSA or JOSE_KTY_EC */
  char zAlg[16];                /* The JWK's "alg", "" if absent */
  const char *zKid;             /* The JWK's "kid", NULL if absent */
  const unsigned char *aN;      /* RSA: modulus, big-endian, no zero lead */
  size_t nN;
  const unsigned char *aE;      /* RSA: public exponent, likewise */
  size_t nE;
  unsigned char aXY[2*JOSE_P256_LEN];  /* EC: x then y */
};

struct SsoJwks {
  SsoArena arena;               /* Kids and moduli */
  JoseKey *aKey;                /* Usable keys, in document order */
  int nKey;
  int nSkipped;                 /* Keys left out */
  char zSkip[96];               /* Why the first of them was left out */
};

/* ---- Helpers --------------------------------------------------------- */

/* The algorithm named zAlg, or NULL if we do not accept it. */
static const JoseAlg *joseAlgFind(const char *zAlg){
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aJoseAlg); i++){
    if( strcmp(aJoseAlg[i].zName, zAlg)==0 ) return &aJoseAlg[i];
  }
  return 0;
}

/*
** Copy z[0..n) into zOut[nOut] for an error message: text that came from
** a token or a key set may hold anything, and messages end up in logs, so
** only printable ASCII other than quotes and backslashes survives (the
** rest becomes '?') and long text is cut.
*/
static const char *joseQuote(const char *z, size_t n, char *zOut,
                             size_t nOut){
  size_t i;
  if( z==0 ){ z = ""; n = 0; }
  for(i=0; i<n && i+1<nOut; i++){
    unsigned char c = (unsigned char)z[i];
    zOut[i] = (c>=0x20 && c<0x7f && c!='"' && c!='\\') ? (char)c : '?';
  }
  zOut[i] = 0;
  return zOut;
}

/* mbedTLS result to ours. Its low-level error codes sit in bits 0..6 of
** the negated value; MBEDTLS_ERR_MPI_ALLOC_FAILED is one of those. */
static int joseMbedRc(int rc){
  if( rc==0 ) return SSOPROXY_OK;
  if( rc==MBEDTLS_ERR_ECP_ALLOC_FAILED
   || ((-rc) & 0x7f)==(-MBEDTLS_ERR_MPI_ALLOC_FAILED) ){
    return SSOPROXY_NOMEM;
  }
  return SSOPROXY_ERROR;
}

/* 3.x's key parsers and hashes may run on PSA, which wants initialising
** once; psa_crypto_init() may be called again and again. */
static int joseInitPsa(void){
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
  return psa_crypto_init()==PSA_SUCCESS ? 0 : -1;
#else
  return 0;
#endif
}

/* ---- mbedTLS keys from bytes ----------------------------------------- */

/*
** Make pRsa a public key from a big-endian modulus and exponent and check
** it is consistent (mbedtls_rsa_check_pubkey: odd modulus, odd exponent
** of at least 3 and below the modulus). The caller frees pRsa with
** mbedtls_rsa_free() whatever the outcome. Returns an mbedTLS code.
*/
static int joseRsaOpen(mbedtls_rsa_context *pRsa,
                       const unsigned char *aN, size_t nN,
                       const unsigned char *aE, size_t nE){
  int rc;
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  mbedtls_rsa_init(pRsa);
#else
  mbedtls_rsa_init(pRsa, MBEDTLS_RSA_PKCS_V15, 0);
#endif
  rc = mbedtls_rsa_import_raw(pRsa, aN, nN, 0, 0, 0, 0, 0, 0, aE, nE);
  if( rc==0 ) rc = mbedtls_rsa_complete(pRsa);
  if( rc==0 ) rc = mbedtls_rsa_check_pubkey(pRsa);
  return rc;
}

/* RSASSA-PKCS1-v1_5 (RS256) or RSASSA-PSS with MGF1-SHA256 and a 32-byte
** salt (PS256, RFC 7518 §3.5) over a SHA-256 hash; sig is exactly as long
** as the modulus. Returns an mbedTLS code. */
static int joseRsaCheck(mbedtls_rsa_context *pRsa, int eAlg,
                        const unsigned char *aHash, const unsigned char *sig){
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  if( eAlg==JOSE_PS256 ){
    mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    return mbedtls_rsa_rsassa_pss_verify_ext(pRsa, MBEDTLS_MD_SHA256,
               SSO_SHA256_LEN, aHash, MBEDTLS_MD_SHA256, SSO_SHA256_LEN, sig);
  }
  mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  return mbedtls_rsa_rsassa_pkcs1_v15_verify(pRsa, MBEDTLS_MD_SHA256,
                                             SSO_SHA256_LEN, aHash, sig);
#else
  if( eAlg==JOSE_PS256 ){
    mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    return mbedtls_rsa_rsassa_pss_verify_ext(pRsa, 0, 0, MBEDTLS_RSA_PUBLIC,
               MBEDTLS_MD_SHA256, SSO_SHA256_LEN, aHash, MBEDTLS_MD_SHA256,
               SSO_SHA256_LEN, sig);
  }
  mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  return mbedtls_rsa_rsassa_pkcs1_v15_verify(pRsa, 0, 0, MBEDTLS_RSA_PUBLIC,
               MBEDTLS_MD_SHA256, SSO_SHA256_LEN, aHash, sig);
#endif
}

/*
** Make pQ the P-256 point (x, y) and check that it lies on the curve and
** is not the point at infinity (an invalid-curve attack feeds points of
** another curve). pGrp and pQ are initialised here; the caller frees
** them whatever the outcome. Returns an mbedTLS code.
*/
static int joseEcOpen(mbedtls_ecp_group *pGrp, mbedtls_ecp_point *pQ,
                      const unsigned char *aXY){
  unsigned char aPt[1+2*JOSE_P256_LEN];
  int rc;
  mbedtls_ecp_group_init(pGrp);
  mbedtls_ecp_point_init(pQ);
  aPt[0] = 0x04;                          /* SEC 1 §2.3.3, uncompressed */
  memcpy(aPt+1, aXY, 2*JOSE_P256_LEN);
  rc = mbedtls_ecp_group_load(pGrp, MBEDTLS_ECP_DP_SECP256R1);
  if( rc==0 ) rc = mbedtls_ecp_point_read_binary(pGrp, pQ, aPt, sizeof(aPt));
  if( rc==0 ) rc = mbedtls_ecp_check_pubkey(pGrp, pQ);
  return rc;
}

/* ---- Key sets -------------------------------------------------------- */

SSO_PRIVATE void ssoJwksFree(SsoJwks *p){
  if( p==0 ) return;
  ssoArenaFree(&p->arena);
  ssoFree(p);
}
SSO_PRIVATE int ssoJwksCount(const SsoJwks *p){ return p ? p->nKey : 0; }
SSO_PRIVATE int ssoJwksSkipped(const SsoJwks *p){ return p ? p->nSkipped : 0; }
SSO_PRIVATE const char *ssoJwksSkipReason(const SsoJwks *p){
  return p ? p->zSkip : "";
}

/* Leave the key out: SSOPROXY_NOTFOUND with the reason in zWhy[nWhy]. */
#define joseSkip(zWhy, nWhy, ...) \
  ssoErrorf(zWhy, nWhy, SSOPROXY_NOTFOUND, __VA_ARGS__)

/*
** The base64url member zName of a JWK, decoded into a[0..nMax). Returns
** SSOPROXY_OK with *pn set, SSOPROXY_NOTFOUND if it is missing,
** SSOPROXY_PARSE if it is no string or not base64url, SSOPROXY_TOOBIG if
** it decodes to more than nMax bytes.
*/
static int joseB64Member(const SsoJson *pJwk, const char *zName,
                         unsigned char *a, size_t nMax, size_t *pn){
  const SsoJson *pVal = ssoJsonGet(pJwk, zName);
  size_t nz = 0;
  const char *z = ssoJsonStr(pVal, &nz);
  if( pVal==0 ) return SSOPROXY_NOTFOUND;
  if( z==0 ) return SSOPROXY_PARSE;
  return ssoB64Decode(z, nz, SSO_B64_URL, a, nMax, pn, 0);
}

/* The number of significant bits of the big-endian a[0..n), a[0]!=0. */
static unsigned joseBits(const unsigned char *a, size_t n){
  unsigned nBit = 0, c;
  if( n==0 ) return 0;
  for(c=a[0]; c; c>>=1) nBit++;
  return (unsigned)(n-1)*8 + nBit;
}

/*
** The RSA members of a JWK into pKey. RFC 7518 §6.3.1 wants the shortest
** form of n and e, but some providers prefix a zero byte, so leading
** zeros are dropped rather than refused.
*/
static int joseRsaKey(SsoJwks *pSet, const SsoJson *pJwk, JoseKey *pKey,
                      char *zWhy, size_t nWhy){
  unsigned char aN[SSO_JOSE_MAX_RSA_BITS/8 + 1];
  unsigned char aE[SSO_JOSE_MAX_RSA_E + 1];
  const unsigned char *pN = aN, *pE = aE;
  size_t nN = 0, nE = 0;
  unsigned nBit;
  mbedtls_rsa_context rsa;
  unsigned char *aCopy;
  int rc;
  rc = joseB64Member(pJwk, "n", aN, sizeof(aN), &nN);
  if( rc==SSOPROXY_TOOBIG ){
    return joseSkip(zWhy, nWhy, "RSA modulus over %d bits",
                    SSO_JOSE_MAX_RSA_BITS);
  }
  if( rc ) return joseSkip(zWhy, nWhy, "RSA key without a base64url n");
  rc = joseB64Member(pJwk, "e", aE, sizeof(aE), &nE);
  if( rc==SSOPROXY_TOOBIG ){
    return joseSkip(zWhy, nWhy, "RSA exponent over %d bytes",
                    SSO_JOSE_MAX_RSA_E);
  }
  if( rc ) return joseSkip(zWhy, nWhy, "RSA key without a base64url e");
  while( nN>0 && pN[0]==0 ){ pN++; nN--; }
  while( nE>0 && pE[0]==0 ){ pE++; nE--; }
  nBit = joseBits(pN, nN);
  if( nBit<SSO_JOSE_MIN_RSA_BITS || nBit>SSO_JOSE_MAX_RSA_BITS ){
    return joseSkip(zWhy, nWhy, "RSA modulus of %u bits, not %d..%d", nBit,
                    SSO_JOSE_MIN_RSA_BITS, SSO_JOSE_MAX_RSA_BITS);
  }
  if( nE==0 || nE>SSO_JOSE_MAX_RSA_E ){
    return joseSkip(zWhy, nWhy, "RSA exponent of %zu bytes", nE);
  }
  rc = joseMbedRc(joseRsaOpen(&rsa, pN, nN, pE, nE));
  mbedtls_rsa_free(&rsa);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return joseSkip(zWhy, nWhy, "RSA public key is invalid");
  aCopy = ssoArenaAlloc(&pSet->arena, nN + nE);
  if( aCopy==0 ) return SSOPROXY_NOMEM;
  memcpy(aCopy, pN, nN);
  memcpy(aCopy+nN, pE, nE);
  pKey->aN = aCopy;
  pKey->nN = nN;
  pKey->aE = aCopy + nN;
  pKey->nE = nE;
  return SSOPROXY_OK;
}

/* The EC members of a JWK into pKey: P-256 only, each coordinate exactly
** 32 bytes (RFC 7518 §6.2.1.2), the point on the curve. */
static int joseEcKey(const SsoJson *pJwk, JoseKey *pKey,
                     char *zWhy, size_t nWhy){
  const char *zCrv = ssoJsonCStr(ssoJsonGet(pJwk, "crv"));
  unsigned char aC[JOSE_P256_LEN + 1];
  size_t nX = 0, nY = 0;
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  int rc;
  if( zCrv==0 || strcmp(zCrv, "P-256")!=0 ){
    char zQ[24];
    return joseSkip(zWhy, nWhy, "EC curve \"%s\" is not P-256",
                    joseQuote(zCrv, zCrv ? strlen(zCrv) : 0, zQ, sizeof(zQ)));
  }
  if( joseB64Member(pJwk, "x", aC, sizeof(aC), &nX)
   || nX!=JOSE_P256_LEN ){
    return joseSkip(zWhy, nWhy, "EC key without a 32-byte base64url x");
  }
  memcpy(pKey->aXY, aC, JOSE_P256_LEN);
  if( joseB64Member(pJwk, "y", aC, sizeof(aC), &nY)
   || nY!=JOSE_P256_LEN ){
    return joseSkip(zWhy, nWhy, "EC key without a 32-byte base64url y");
  }
  memcpy(pKey->aXY+JOSE_P256_LEN, aC, JOSE_P256_LEN);
  rc = joseMbedRc(joseEcOpen(&grp, &q, pKey->aXY));
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return joseSkip(zWhy, nWhy, "EC point is not on P-256");
  return SSOPROXY_OK;
}

/* 1 if the JWK may be used to verify signatures (RFC 7517 §4.2, §4.3):
** "use", if present, is "sig"; "key_ops", if present, lists "verify". */
static int joseKeyForSig(const SsoJson *pJwk){
  const SsoJson *pUse = ssoJsonGet(pJwk, "use");
  const SsoJson *pOps = ssoJsonGet(pJwk, "key_ops");
  if( pUse ){
    const char *zUse = ssoJsonCStr(pUse);
    if( zUse==0 || strcmp(zUse, "sig")!=0 ) return 0;
  }
  if( pOps ){
    size_t i, n = ssoJsonCount(pOps);
    if( ssoJsonType(pOps)!=SSO_JSON_ARRAY ) return 0;
    for(i=0; i<n; i++){
      const char *zOp = ssoJsonCStr(ssoJsonAt(pOps, i));
      if( zOp && strcmp(zOp, "verify")==0 ) return 1;
    }
    return 0;
  }
  return 1;
}

/*
** One JWK into pKey. SSOPROXY_OK if usable, SSOPROXY_NOTFOUND (with the
** reason in zWhy) if it is to be skipped, SSOPROXY_NOMEM.
*/
static int joseKeyParse(SsoJwks *pSet, const SsoJson *pJwk, JoseKey *pKey,
                        char *zWhy, size_t nWhy){
  const char *zKty = ssoJsonCStr(ssoJsonGet(pJwk, "kty"));
  const SsoJson *pAlg = ssoJsonGet(pJwk, "alg");
  const SsoJson *pKid = ssoJsonGet(pJwk, "kid");
  const JoseAlg *pA = 0;
  char zQ[24];
  memset(pKey, 0, sizeof(*pKey));
  if( ssoJsonType(pJwk)!=SSO_JSON_OBJECT ){
    return joseSkip(zWhy, nWhy, "key is not a JSON object");
  }
  if( zKty && strcmp(zKty, "RSA")==0 ){
    pKey->eKty = JOSE_KTY_RSA;
  }else if( zKty && strcmp(zKty, "EC")==0 ){
    pKey->eKty = JOSE_KTY_EC;
  }else{
    return joseSkip(zWhy, nWhy, "kty \"%s\" is not RSA or EC",
                    joseQuote(zKty, zKty ? strlen(zKty) : 0, zQ, sizeof(zQ)));
  }
  if( !joseKeyForSig(pJwk) ){
    return joseSkip(zWhy, nWhy, "key is not for signatures (use, key_ops)");
  }
  if( pAlg ){
    const char *zAlg = ssoJsonCStr(pAlg);
    pA = zAlg ? joseAlgFind(zAlg) : 0;
    if( pA==0 || pA->eKty!=pKey->eKty ){
      return joseSkip(zWhy, nWhy, "key alg \"%s\" is not usable",
                      joseQuote(zAlg, zAlg ? strlen(zAlg) : 0, zQ, sizeof(zQ)));
    }
    memcpy(pKey->zAlg, pA->zName, strlen(pA->zName)+1);
  }
  if( pKid ){
    size_t nKid = 0;
    const char *zKid = ssoJsonStr(pKid, &nKid);
    if( zKid==0 || memchr(zKid, 0, nKid) || nKid>SSO_JOSE_MAX_KID ){
      return joseSkip(zWhy, nWhy, "key kid is not a string of at most %d"
                      " bytes", SSO_JOSE_MAX_KID);
    }
    pKey->zKid = ssoArenaStrndup(&pSet->arena, zKid, nKid);
    if( pKey->zKid==0 ) return SSOPROXY_NOMEM;
  }
  if( pKey->eKty==JOSE_KTY_RSA ){
    return joseRsaKey(pSet, pJwk, pKey, zWhy, nWhy);
  }
  return joseEcKey(pJwk, pKey, zWhy, nWhy);
}

SSO_PRIVATE int ssoJwksParse(const char *z, size_t n, SsoJwks **pp,
                             char *zErr, size_t nErr){
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr err;
  SsoJwks *pSet = 0;
  const SsoJson *pKeys;
  size_t i, nKeys;
  int rc;
  *pp = 0;
  if( nErr ) zErr[0] = 0;
  if( n>SSO_JOSE_MAX_JWKS ){
    return ssoErrorf(zErr, nErr, SSOPROXY_TOOBIG, "JWKS is %zu bytes, over"
                     " the limit of %u", n, (unsigned)SSO_JOSE_MAX_JWKS);
  }
  rc = ssoJsonParse(z, n, SSO_JSON_NODUP, &pDoc, &err);
  if( rc==SSOPROXY_NOMEM ){
    rc = ssoErrorf(zErr, nErr, rc, "out of memory");
    goto end;
  }
  if( rc ){
    rc = ssoErrorf(zErr, nErr, rc, "JWKS is not JSON: %s at byte %zu",
                   err.zMsg, err.iOfs);
    goto end;
  }
  pKeys = ssoJsonGet(ssoJsonRoot(pDoc), "keys");
  if( ssoJsonType(pKeys)!=SSO_JSON_ARRAY ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                   "JWKS is not an object with a \"keys\" array");
    goto end;
  }
  nKeys = ssoJsonCount(pKeys);
  if( nKeys>SSO_JOSE_MAX_KEYS ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_TOOBIG, "JWKS has %zu keys, over the"
                   " limit of %d", nKeys, SSO_JOSE_MAX_KEYS);
    goto end;
  }
  pSet = ssoMallocZero(sizeof(*pSet));
  if( pSet==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  ssoArenaInit(&pSet->arena, 0);
  pSet->aKey = ssoArenaAlloc(&pSet->arena, (nKeys ? nKeys : 1)*sizeof(JoseKey));
  if( pSet->aKey==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  for(i=0; i<nKeys; i++){
    char zWhy[sizeof(pSet->zSkip)];
    JoseKey *pKey = &pSet->aKey[pSet->nKey];
    rc = joseKeyParse(pSet, ssoJsonAt(pKeys, i), pKey, zWhy, sizeof(zWhy));
    if( rc==SSOPROXY_NOMEM ) goto end;
    if( rc==SSOPROXY_OK ){
      pSet->nKey++;
    }else{
      if( pSet->nSkipped==0 ){
        ssoErrorf(pSet->zSkip, sizeof(pSet->zSkip), 0, "key %zu: %s", i, zWhy);
      }
      pSet->nSkipped++;
    }
  }
  rc = SSOPROXY_OK;
end:
  ssoJsonFree(pDoc);
  if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
  if( rc ){
    ssoJwksFree(pSet);
  }else{
    *pp = pSet;
  }
  return rc;
}

/* ---- Tokens ---------------------------------------------------------- */

SSO_PRIVATE void ssoJwtFree(SsoJwt *p){
  if( p==0 ) return;
  ssoJsonFree(p->pClaims);
  ssoJsonFree(p->pHeader);
  memset(p, 0, sizeof(*p));
}

/*
** Decode the base64url part zPart ("header" or "payload") at z[0..n),
** which starts iOfs bytes into the token, and parse it as a JSON object,
** refusing repeated names (two "alg" or two "aud" could be read one way
** here and another way by whoever signed). aBuf has room for the bytes.
*/
static int joseJsonPart(const char *zPart, const char *z, size_t n,
                        size_t iOfs, unsigned char *aBuf, SsoJsonDoc **ppDoc,
                        char *zErr, size_t nErr){
  size_t nOut = 0, iErr = 0;
  SsoJsonErr err;
  int rc;
  if( n==0 ) return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is empty", zPart);
  rc = ssoB64Decode(z, n, SSO_B64_URL, aBuf, ssoB64DecodedMax(n), &nOut,
                    &iErr);
  if( rc ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not base64url (byte"
                     " %zu of the token)", zPart, iOfs + iErr);
  }
  rc = ssoJsonParse((const char*)aBuf, nOut, SSO_JSON_NODUP, ppDoc, &err);
  if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc, "out of memory");
  if( rc ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not JSON: %s at byte"
                     " %zu", zPart, err.zMsg, err.iOfs);
  }
  if( ssoJsonType(ssoJsonRoot(*ppDoc))!=SSO_JSON_OBJECT ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not a JSON object",
                     zPart);
  }
  return SSOPROXY_OK;
}

/* The header's members: alg (a string), kid (a string if present), no
** crit. */
static int joseHeaderCheck(SsoJwt *p, char *zErr, size_t nErr){
  const SsoJson *pRoot = ssoJsonRoot(p->pHeader);
  const SsoJson *pAlg = ssoJsonGet(pRoot, "alg");
  const SsoJson *pKid = ssoJsonGet(pRoot, "kid");
  const char *zAlg;
  if( pAlg==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header has no alg");
  }
  zAlg = ssoJsonCStr(pAlg);
  if( zAlg==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header alg is not a string");
  }
  if( strlen(zAlg)>=sizeof(p->zAlg) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header alg is too long");
  }
  memcpy(p->zAlg, zAlg, strlen(zAlg)+1);
  if( pKid ){
    p->zKid = ssoJsonCStr(pKid);
    if( p->zKid==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                       "header kid is not a string");
    }
  }
  if( ssoJsonGet(pRoot, "crit") ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                     "header has crit: no extension is supported");
  }
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJwtDecode(const char *z, size_t n, SsoJwt *p,
                             char *zErr, size_t nErr){
  const char *zDot1, *zDot2;
  size_t nHead, nBody, nSig, iErr = 0;
  unsigned char *aBuf = 0;
  int rc;
  memset(p, 0, sizeof(*p));
  if( nErr ) zErr[0] = 0;
  if( n>SSO_JOSE_MAX_TOKEN ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "token is %zu bytes, over"
                     " the limit of %d", n, SSO_JOSE_MAX_TOKEN);
  }
  zDot1 = n ? memchr(z, '.', n) : 0;
  zDot2 = zDot1 ? memchr(zDot1+1, '.', n - (size_t)(zDot1+1-z)) : 0;
  if( zDot2==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "token has %d part%s, not 3",
                     zDot1 ? 2 : 1, zDot1 ? "s" : "");
  }
  if( memchr(zDot2+1, '.', n - (size_t)(zDot2+1-z)) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                     "token has more than 3 parts (a JWE has 5)");
  }
  nHead = (size_t)(zDot1 - z);
  nBody = (size_t)(zDot2 - zDot1 - 1);
  nSig = n - (size_t)(zDot2 + 1 - z);
  aBuf = ssoMalloc(ssoB64DecodedMax(nHead>nBody ? nHead : nBody) + 1);
  if( aBuf==0 ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    goto end;
  }
  rc = joseJsonPart("header", z, nHead, 0, aBuf, &p->pHeader, zErr, nErr);
  if( rc==SSOPROXY_OK ) rc = joseHeaderCheck(p, zErr, nErr);
  if( rc ) goto end;
  rc = joseJsonPart("payload", zDot1+1, nBody, nHead+1, aBuf, &p->pClaims,
                    zErr, nErr);
  if( rc ) goto end;
  rc = ssoB64Decode(zDot2+1, nSig, SSO_B64_URL, p->aSig, sizeof(p->aSig),
                    &p->nSig, &iErr);
  if( rc==SSOPROXY_TOOBIG ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "signature is over %d bytes",
                   SSO_JOSE_MAX_SIG);
    goto end;
  }
  if( rc ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "signature is not base64url"
                   " (byte %zu of the token)", nHead + nBody + 2 + iErr);
    goto end;
  }
  /* The signing input is the first two parts as sent (RFC 7515 §5.2). */
  if( ssoSha256(z, (size_t)(zDot2 - z), p->aHash) ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "SHA-256 failed");
  }
end:
  ssoFree(aBuf);
  if( rc ) ssoJwtFree(p);
  return rc;
}

/* ---- Signatures ------------------------------------------------------ */

/* Verify p's signature with one RSA key. */
static int joseVerifyRsa(const SsoJwt *p, const JoseAlg *pA,
                         const JoseKey *pKey, char *zErr, size_t nErr){
  mbedtls_rsa_context rsa;
  int rc = joseMbedRc(joseRsaOpen(&rsa, pKey->aN, pKey->nN,
                                  pKey->aE, pKey->nE));
  if( rc==SSOPROXY_OK ){
    /* The signature is exactly as long as the modulus (RFC 8017 §8.2.2
    ** step 1, §8.1.2 step 1); mbedTLS reads that many bytes. */
    size_t nKey = mbedtls_rsa_get_len(&rsa);
    if( p->nSig!=nKey ){
      rc = ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s signature is %zu bytes,"
                     " the key needs %zu", pA->zName, p->nSig, nKey);
    }else{
      rc = joseMbedRc(joseRsaCheck(&rsa, pA->eAlg, p->aHash, p->aSig));
      if( rc==SSOPROXY_ERROR ){
        ssoErrorf(zErr, nErr, rc, "%s signature does not verify", pA->zName);
      }
    }
  }else if( rc==SSOPROXY_ERROR ){
    ssoErrorf(zErr, nErr, rc, "RSA public key is invalid");
  }
  mbedtls_rsa_free(&rsa);
  return rc;
}

/* Verify p's signature with one P-256 key. RFC 7518 §3.4: the signature
** is r and s, 32 bytes each, big-endian; a DER ECDSA-Sig-Value (what
** OpenSSL emits) is 70 to 72 bytes and so refused by its length. */
static int joseVerifyEc(const SsoJwt *p, const JoseKey *pKey,
                        char *zErr, size_t nErr){
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  int rc;
  if( p->nSig!=2*JOSE_P256_LEN ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "ES256 signature is %zu"
                     " bytes, not 64 (r||s)", p->nSig);
  }
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  rc = joseEcOpen(&grp, &q, pKey->aXY);
  if( rc==0 ) rc = mbedtls_mpi_read_binary(&r, p->aSig, JOSE_P256_LEN);
  if( rc==0 ){
    rc = mbedtls_mpi_read_binary(&s, p->aSig+JOSE_P256_LEN, JOSE_P256_LEN);
  }
  /* mbedtls_ecdsa_verify() refuses r or s outside 1..n-1. */
  if( rc==0 ){
    rc = mbedtls_ecdsa_verify(&grp, p->aHash, SSO_SHA256_LEN, &q, &r, &s);
  }
  rc = joseMbedRc(rc);
  if( rc==SSOPROXY_ERROR ){
    ssoErrorf(zErr, nErr, rc, "ES256 signature does not verify");
  }
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&r);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

SSO_PRIVATE int ssoJwtVerify(const SsoJwt *p, const SsoJwks *pKeys,
                             char *zErr, size_t nErr){
  const JoseAlg *pA = joseAlgFind(p->zAlg);
  int i, nKid = 0, nTried = 0, rc = SSOPROXY_ERROR;
  char zQ[72];
  if( nErr ) zErr[0] = 0;
  if( pA==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "alg \"%s\" is not accepted"
                     " (only RS256, PS256, ES256)",
                     joseQuote(p->zAlg, strlen(p->zAlg), zQ, sizeof(zQ)));
  }
  if( joseInitPsa() ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "cannot initialise the PSA crypto library");
  }
  for(i=0; pKeys && i<pKeys->nKey; i++){
    const JoseKey *pKey = &pKeys->aKey[i];
    if( p->zKid ){
      if( pKey->zKid==0 || strcmp(pKey->zKid, p->zKid)!=0 ) continue;
      nKid++;
    }
    if( pKey->eKty!=pA->eKty ) continue;
    if( pKey->zAlg[0] && strcmp(pKey->zAlg, pA->zName)!=0 ) continue;
    nTried++;
    if( pA->eKty==JOSE_KTY_RSA ){
      rc = joseVerifyRsa(p, pA, pKey, zErr, nErr);
    }else{
      rc = joseVerifyEc(p, pKey, zErr, nErr);
    }
    if( rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM ) break;
  }
  if( rc==SSOPROXY_OK ){
    if( nErr ) zErr[0] = 0;
    return rc;
  }
  if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc, "out of memory");
  if( nTried>1 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s signature verifies with"
                     " none of %d keys", pA->zName, nTried);
  }
  if( nTried==1 ) return rc;
  if( p->zKid ){
    joseQuote(p->zKid, strlen(p->zKid), zQ, sizeof(zQ));
    if( nKid>0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "key \"%s\" does not fit"
                       " alg %s (kty or alg differs)", zQ, pA->zName);
    }
    return ssoErrorf(zErr, nErr, SSOPROXY_NOTFOUND, "no key with kid \"%s\"",
                     zQ);
  }
  return ssoErrorf(zErr, nErr, SSOPROXY_NOTFOUND, "no %s key for %s",
                   pA->eKty==JOSE_KTY_RSA ? "RSA" : "EC P-256", pA->zName);
}

/* ---- Claims ---------------------------------------------------------- */

/*
** A NumericDate claim (RFC 7519 §2: seconds, integer or not) in ms.
** SSOPROXY_NOTFOUND if absent, SSOPROXY_ERROR (zErr set) if it is not a
** number from 0 to year 9999.
*/
static int joseDate(const SsoJson *pRoot, const char *zName, long long *pMs,
                    char *zErr, size_t nErr){
  const SsoJson *pVal = ssoJsonGet(pRoot, zName);
  double r = 0;
  if( pVal==0 ) return SSOPROXY_NOTFOUND;
  if( ssoJsonDouble(pVal, &r)!=SSOPROXY_OK || !(r>=0 && r<=JOSE_MAX_DATE) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s is not a date", zName);
  }
  *pMs = (long long)(r*1000.0);
  return SSOPROXY_OK;
}

/* The time claims: exp, iat, nbf, and the age limit. */
static int joseCheckTimes(const SsoJson *pRoot, const SsoJwtExpect *pExp,
                          char *zErr, size_t nErr){
  long long tExp = 0, tIat = 0, tNbf = 0;
  long long tNow = pExp->tNow, msSkew = pExp->msSkew;
  int rc;
  rc = joseDate(pRoot, "exp", &tExp, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "exp is missing");
  }
  if( rc ) return rc;
  if( tNow >= tExp + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "exp: token expired %lld s"
                     " ago", (tNow - tExp)/1000);
  }
  rc = joseDate(pRoot, "iat", &tIat, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat is missing");
  }
  if( rc ) return rc;
  if( tIat > tNow + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat: token issued %lld s"
                     " in the future", (tIat - tNow)/1000);
  }
  if( pExp->msMaxAge>0 && tNow - tIat > pExp->msMaxAge + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat: token issued %lld s"
                     " ago, over the limit of %lld s", (tNow - tIat)/1000,
                     pExp->msMaxAge/1000);
  }
  rc = joseDate(pRoot, "nbf", &tNbf, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  if( tNbf > tNow + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "nbf: token not valid for"
                     " %lld s yet", (tNbf - tNow)/1000);
  }
  return SSOPROXY_OK;
}

/* 1 if the string value pVal is exactly z (no NUL tricks: lengths too). */
static int joseStrIs(const SsoJson *pVal, const char *z){
  size_t n = 0;
  const char *zVal = ssoJsonStr(pVal, &n);
  return zVal && n==strlen(z) && memcmp(zVal, z, n)==0;
}

/* aud and azp (OpenID Connect Core §3.1.3.7 steps 3 to 5). */
static int joseCheckAud(const SsoJson *pRoot, const char *zAud,
                        char *zErr, size_t nErr){
  const SsoJson *pAud = ssoJsonGet(pRoot, "aud");
  const SsoJson *pAzp = ssoJsonGet(pRoot, "azp");
  size_t i, nAud = 1;
  int bFound = 0;
  if( pAud==0 ) return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "aud is missing");
  if( ssoJsonType(pAud)==SSO_JSON_STRING ){
    bFound = joseStrIs(pAud, zAud);
  }else if( ssoJsonType(pAud)==SSO_JSON_ARRAY ){
    nAud = ssoJsonCount(pAud);
    for(i=0; i<nAud; i++){
      const SsoJson *pOne = ssoJsonAt(pAud, i);
      if( ssoJsonType(pOne)!=SSO_JSON_STRING ){
        return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                         "aud is not a string or an array of strings");
      }
      if( joseStrIs(pOne, zAud) ) bFound = 1;
    }
  }else{
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "aud is not a string or an array of strings");
  }
  if( !bFound ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "aud does not include our client id");
  }
  if( nAud>1 && pAzp==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "azp is missing and aud has %zu values", nAud);
  }
  if( pAzp && !joseStrIs(pAzp, zAud) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "azp is not our client id");
  }
  return SSOPROXY_OK;
}

/* The nonce, compared through SHA-256 digests so that the time taken
** says nothing about how much of a guess was right, not even its
** length. */
static int joseCheckNonce(const SsoJson *pRoot, const char *zNonce,
                          char *zErr, size_t nErr){
  unsigned char aWant[SSO_SHA256_LEN], aGot[SSO_SHA256_LEN];
  size_t n = 0;
  const char *z = ssoJsonStr(ssoJsonGet(pRoot, "nonce"), &n);
  if( z==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "nonce is missing or not a string");
  }
  if( ssoSha256(zNonce, strlen(zNonce), aWant)
   || ssoSha256(z, n, aGot)
   || !ssoCtEqual(aWant, aGot, sizeof(aGot)) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "nonce does not match");
  }
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJwtCheckClaims(const SsoJwt *p, const SsoJwtExpect *pExp,
                                  char *zErr, size_t nErr){
  const SsoJson *pRoot = ssoJsonRoot(p->pClaims);
  const SsoJson *pSub = ssoJsonGet(pRoot, "sub");
  const char *zSub = ssoJsonCStr(pSub);
  int rc;
  if( nErr ) zErr[0] = 0;
  if( pExp->zAud==0 || pRoot==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_MISUSE,
                     "no client id to check aud against");
  }
  rc = joseCheckTimes(pRoot, pExp, zErr, nErr);
  if( rc ) return rc;
  if( zSub==0 || zSub[0]==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "sub is %s", pSub==0 ?
                     "missing" : "not a non-empty string");
  }
  if( strlen(zSub)>SSO_JOSE_MAX_SUB ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "sub is over %d bytes",
                     SSO_JOSE_MAX_SUB);
  }
  if( pExp->zIss && !joseStrIs(ssoJsonGet(pRoot, "iss"), pExp->zIss) ){
    char zGot[100], zWant[100];
    size_t n = 0;
    const char *zIss = ssoJsonStr(ssoJsonGet(pRoot, "iss"), &n);
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iss \"%s\" is not the"
                     " issuer \"%s\"", joseQuote(zIss, n, zGot, sizeof(zGot)),
                     joseQuote(pExp->zIss, strlen(pExp->zIss), zWant,
                               sizeof(zWant)));
  }
  rc = joseCheckAud(pRoot, pExp->zAud, zErr, nErr);
  if( rc ) return rc;
  if( pExp->zNonce ) return joseCheckNonce(pRoot, pExp->zNonce, zErr, nErr);
  return SSOPROXY_OK;
}
