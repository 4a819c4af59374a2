/*
** Layer 1: base64 (RFC 4648 §4) and base64url (RFC 4648 §5), strict.
*/
#ifndef SSO_B64_H
#define SSO_B64_H

/*
** The two alphabets. SSO_B64_STD is "A-Za-z0-9+/" with '=' padding, as
** in PEM, HTTP Basic and most configuration values. SSO_B64_URL is
** "A-Za-z0-9-_" without padding, as JWS/JWT (RFC 7515 §2) and PKCE
** (RFC 7636 §4.2) use it.
*/
#define SSO_B64_STD 0
#define SSO_B64_URL 1

/* Characters that n bytes encode to (no NUL counted). */
SSO_PRIVATE size_t ssoB64EncodedLen(size_t n, int eAlpha);

/*
** Encode p[0..n) into zOut, which must hold ssoB64EncodedLen(n)+1 bytes.
** Writes a NUL after the text; returns the text's length.
*/
SSO_PRIVATE size_t ssoB64EncodeTo(const void *p, size_t n, int eAlpha,
                                  char *zOut);

/* Append the encoding of p[0..n) to a builder (errors are sticky). */
SSO_PRIVATE void ssoB64Encode(SsoBuf*, const void *p, size_t n, int eAlpha);

/* The most bytes n characters can decode to, in either alphabet. */
SSO_PRIVATE size_t ssoB64DecodedMax(size_t n);

/*
** Strict decode of z[0..n) into aOut[0..nOut). Only the canonical
** encoding of some byte string is accepted (RFC 4648 §3.3, §3.5):
** characters outside the alphabet (whitespace and line breaks included,
** and the other alphabet's "+/" or "-_") are rejected, as are padding in
** SSO_B64_URL, missing or misplaced padding in SSO_B64_STD, a length
** that no byte string encodes to, and non-zero unused bits in the last
** character. Hence encode(decode(z)) == z whenever decode succeeds.
**
** Returns SSOPROXY_OK with *pnOut set; SSOPROXY_PARSE with *piErr the
** offset of the first bad byte (n when the input stops too early);
** SSOPROXY_TOOBIG when n exceeds SSO_B64_MAX_INPUT (*piErr is that
** limit) or the result would not fit in nOut (ssoB64DecodedMax(n) always
** fits). aOut may equal z: decoding in place works. piErr may be NULL.
** On error the contents of aOut are unspecified.
*/
SSO_PRIVATE int ssoB64Decode(const char *z, size_t n, int eAlpha,
                             unsigned char *aOut, size_t nOut,
                             size_t *pnOut, size_t *piErr);

/*
** As ssoB64Decode, into a new buffer the caller ssoFree()s. The result
** is followed by a NUL that *pnOut does not count, so decoded text can be
** used as a C string. *ppOut is NULL on any error (SSOPROXY_NOMEM too).
*/
SSO_PRIVATE int ssoB64DecodeAlloc(const char *z, size_t n, int eAlpha,
                                  unsigned char **ppOut, size_t *pnOut,
                                  size_t *piErr);

#endif /* SSO_B64_H */
