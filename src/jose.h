/*
** Layer 1: JOSE. Verification of compact JWS (RFC 7515) as OpenID Connect
** id_tokens use them, JWK sets (RFC 7517) holding the verification keys,
** and the id_token claim checks of OpenID Connect Core 1.0 §3.1.3.7.
** Only RS256, PS256 and ES256 are accepted. Besides crypto and tls, the
** only module that includes mbedTLS.
*/
#ifndef SSO_JOSE_H
#define SSO_JOSE_H

/*
** A parsed key set. Immutable once made: it holds the key material as
** bytes, and each verification builds its own short-lived mbedTLS
** contexts, so one set may be shared read-only by several threads.
*/
typedef struct SsoJwks SsoJwks;

/*
** Parse a JWKS document ({"keys":[...]}) of at most SSO_JOSE_MAX_JWKS
** bytes and SSO_JOSE_MAX_KEYS keys. Keys of kty RSA (n, e; modulus of
** SSO_JOSE_MIN_RSA_BITS..SSO_JOSE_MAX_RSA_BITS bits) and EC (crv P-256,
** x, y; the point checked to be on the curve) are kept. A key that is not
** for signatures ("use" other than "sig", "key_ops" without "verify"),
** has another kty (oct, OKP) or curve, an "alg" not usable with its kty,
** or a malformed member is skipped and counted, not fatal.
**
** On success *pp is a new set the caller frees with ssoJwksFree(); it may
** hold no usable key (ssoJwksCount() is 0). A document that is not a JWKS
** at all gives SSOPROXY_PARSE, one over the limits SSOPROXY_TOOBIG, and
** memory exhaustion SSOPROXY_NOMEM; zErr says why and *pp is NULL.
*/
SSO_PRIVATE int ssoJwksParse(const char *z, size_t n, SsoJwks **pp,
                             char *zErr, size_t nErr);
SSO_PRIVATE void ssoJwksFree(SsoJwks*);             /* NULL is a no-op */
SSO_PRIVATE int ssoJwksCount(const SsoJwks*);       /* Usable keys */
SSO_PRIVATE int ssoJwksSkipped(const SsoJwks*);     /* Keys skipped */
/* Why the first skipped key was skipped ("key 2: RSA modulus of 1024
** bits, not 2048..8192"), "" if none was; for the log. */
SSO_PRIVATE const char *ssoJwksSkipReason(const SsoJwks*);

/*
** A decoded compact JWS. The public fields are read-only; the rest is
** private to jose.c. The object does not refer to the token text, which
** the caller may free after ssoJwtDecode().
*/
#define SSO_JOSE_MAX_SIG (SSO_JOSE_MAX_RSA_BITS/8)   /* Signature bytes */
typedef struct SsoJwt SsoJwt;
struct SsoJwt {
  char zAlg[16];                /* Header "alg" as given */
  const char *zKid;             /* Header "kid", NULL if absent */
  SsoJsonDoc *pClaims;          /* Parsed payload, a JSON object */
  SsoJsonDoc *pHeader;          /* Parsed header, a JSON object */
  /* Private */
  unsigned char aHash[SSO_SHA256_LEN];  /* SHA-256 of the signing input */
  size_t nSig;                          /* Bytes of aSig in use */
  unsigned char aSig[SSO_JOSE_MAX_SIG]; /* Decoded signature */
};

/*
** Split z[0..n) at its two dots, base64url-decode the parts (strict, no
** padding) and parse header and payload. SSOPROXY_PARSE with a precise
** zErr for anything malformed: not 3 parts, over SSO_JOSE_MAX_TOKEN
** bytes, a signature longer than SSO_JOSE_MAX_SIG, a header that is not a
** JSON object with a string "alg" (and a string "kid" if any), a "crit"
** header (RFC 7515 §4.1.11: we understand no extension, so must refuse),
** a payload that is not a JSON object, repeated member names in either.
** SSOPROXY_NOMEM when out of memory. The signature is not checked here.
** Whatever the outcome, *p is fit for ssoJwtFree(), which the caller
** must call once done.
*/
SSO_PRIVATE int ssoJwtDecode(const char *z, size_t n, SsoJwt *p,
                             char *zErr, size_t nErr);
SSO_PRIVATE void ssoJwtFree(SsoJwt*);               /* NULL is a no-op */

/*
** Verify the signature against pKeys. Only RS256, PS256 (salt length 32,
** MGF1-SHA256) and ES256 (raw 64-byte r||s, RFC 7518 §3.4) are accepted;
** "none", HS256/384/512 and anything else give SSOPROXY_ERROR.
**
** Key choice: with a "kid", the keys with that kid; one whose kty does
** not fit the alg, or whose "alg" member differs from the header's, is
** not used (SSOPROXY_ERROR if no key of that kid fits). Without a kid,
** every key of the matching kty (RSA for RS/PS, EC P-256 for ES) whose
** "alg" is absent or equal is tried in turn.
**
** Returns SSOPROXY_OK when a key verifies the signature;
** SSOPROXY_NOTFOUND when no key has the kid, or (without a kid) none has
** the kty: the caller may re-fetch the JWKS once and try again;
** SSOPROXY_ERROR for a bad signature, a refused alg or an unfit key;
** SSOPROXY_NOMEM. zErr says why.
*/
SSO_PRIVATE int ssoJwtVerify(const SsoJwt*, const SsoJwks *pKeys,
                             char *zErr, size_t nErr);

/* What ssoJwtCheckClaims() requires of an id_token's claims. */
typedef struct SsoJwtExpect SsoJwtExpect;
struct SsoJwtExpect {
  const char *zIss;     /* "iss" must equal this exactly; NULL: not checked */
  const char *zAud;     /* Client id, required: it must be "aud" (a string)
                        ** or in "aud" (an array); when "aud" has several
                        ** values "azp" is required; "azp", if present,
                        ** must equal zAud */
  const char *zNonce;   /* "nonce" must be present and equal (constant
                        ** time); NULL: none required, one present is fine */
  long long tNow;       /* Now, Unix time in ms */
  int msSkew;           /* Clock skew allowed on exp, iat and nbf, ms */
  long long msMaxAge;   /* "iat" no older than this (plus skew); 0: any */
};

/*
** Check the claims of a decoded (and verified) token: "exp" required and
** now < exp + skew; "iat" required and iat <= now + skew; "nbf", if
** present, nbf <= now + skew; "sub" a non-empty string of at most
** SSO_JOSE_MAX_SUB bytes without NUL; then iss, aud, azp and nonce as in
** SsoJwtExpect. Numeric dates may be integers or decimals (seconds).
** Returns SSOPROXY_OK, SSOPROXY_ERROR with a zErr naming the failed
** claim (the nonce's value is never printed), or SSOPROXY_MISUSE when
** pExp->zAud is NULL.
*/
SSO_PRIVATE int ssoJwtCheckClaims(const SsoJwt*, const SsoJwtExpect *pExp,
                                  char *zErr, size_t nErr);

#endif /* SSO_JOSE_H */
