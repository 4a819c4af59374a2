/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: base64 and base64url (RFC 4648), used by JWS/JWT (jose),
** PKCE challenges, API keys, cookies and HTTP Basic credentials.
**
** Decoding is strict on purpose. A JWS signature covers the encoded
** text, so two spellings of the same bytes must not both be accepted, and
** a lenient decoder (skipping whitespace, ignoring padding or the unused
** bits of the last character) lets an attacker make many distinct tokens
** that mean one thing. We accept exactly the canonical encoding: then
** encode(decode(x)) == x for every accepted x, which the fuzz target
** checks.
**
** Both directions are driven by tables. The decoder looks each character
** up once and tests four lookups with one branch per group of four; only
** the last group (or a bad one) takes the slow path that finds the exact
** offset of the problem.
*/
#include "ssoInt.h"

static const char zStdAlpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char zUrlAlpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
** One decoding table serves both alphabets: they differ only in the
** characters for 62 and 63. An entry's low six bits are the character's
** value; two flag bits say which alphabet rejects it: BS bad in the
** standard one, BU bad in the url one. '-' and '_' carry BS, '+' and '/'
** carry BU, '=' and every other byte carry both; so a group is plain data
** when the OR of its four entries has no bit of the chosen alphabet's
** mask. '=' alone is both flags and a zero value (PD), which tells
** padding from other bytes on the slow path.
**
** The flags sit at bits 14 and 15, out of the way of everything that
** reads a value: the shifts and (unsigned char) casts that assemble the
** output bytes drop them, and the unused-bits checks of the last group
** look only at bits 0-3. So a good character may keep the other
** alphabet's flag and the fast loop needs no masking. Entries are 32 bits
** because a 32-bit load needs no widening: masking 8-bit entries, or
** widening 16-bit ones, made the loop 10-30% slower, by compiler.
*/
#define XX 0xffff           /* Not in either alphabet */
#define PD 0xc000           /* '=': padding in std, bad in url */
#define BS 0x4000           /* Not in the standard alphabet (RFC 4648 §4) */
#define BU 0x8000           /* Not in the url alphabet (RFC 4648 §5) */
static const uint32_t aDec[256] = {
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 00 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 10 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,BU|62,XX,BS|62,XX,BU|63,  /* 20 */
  52,53,54,55,56,57,58,59,60,61,XX,XX,XX,PD,XX,XX,  /* 30 */
  XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,  /* 40 */
  15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,BS|63,  /* 50 */
  XX,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,  /* 60 */
  41,42,43,44,45,46,47,48,49,50,51,XX,XX,XX,XX,XX,  /* 70 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 80 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 90 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* a0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* b0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* c0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* d0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* e0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* f0 */
};
#undef XX
#undef PD
#undef BS
#undef BU
#define B64_PAD 0xc000      /* PD, for the code below */

/* The bits of an aDec[] entry that make it bad in alphabet eAlpha. */
#define B64_BAD(eAlpha) ((eAlpha)==SSO_B64_URL ? 0x8000u : 0x4000u)

SSO_PRIVATE size_t ssoB64EncodedLen(size_t n, int eAlpha){
  size_t nRem = n%3;
  assert( n/3 <= SIZE_MAX/4 - 1 );
  if( nRem==0 ) return n/3*4;
  return n/3*4 + (eAlpha==SSO_B64_URL ? nRem+1 : 4);
}

SSO_PRIVATE size_t ssoB64EncodeTo(const void *p, size_t n, int eAlpha,
                                  char *zOut){
  const unsigned char *a = p;
  const char *zAlpha = eAlpha==SSO_B64_URL ? zUrlAlpha : zStdAlpha;
  size_t i, o = 0;
  for(i=0; i+3<=n; i+=3){
    unsigned v = ((unsigned)a[i]<<16) | ((unsigned)a[i+1]<<8) | a[i+2];
    zOut[o]   = zAlpha[v>>18];
    zOut[o+1] = zAlpha[(v>>12) & 0x3f];
    zOut[o+2] = zAlpha[(v>>6) & 0x3f];
    zOut[o+3] = zAlpha[v & 0x3f];
    o += 4;
  }
  if( i<n ){
    /* One or two bytes left: 2 or 3 characters, then padding (§4). */
    unsigned v = (unsigned)a[i]<<16;
    if( i+1<n ) v |= (unsigned)a[i+1]<<8;
    zOut[o++] = zAlpha[v>>18];
    zOut[o++] = zAlpha[(v>>12) & 0x3f];
    if( i+1<n ) zOut[o++] = zAlpha[(v>>6) & 0x3f];
    if( eAlpha!=SSO_B64_URL ){
      while( o%4 ) zOut[o++] = '=';
    }
  }
  zOut[o] = 0;
  return o;
}

SSO_PRIVATE void ssoB64Encode(SsoBuf *pBuf, const void *p, size_t n,
                              int eAlpha){
  size_t nText;
  if( pBuf->rc ) return;
  if( n>SSO_MAX_ALLOC ){
    pBuf->rc = SSOPROXY_TOOBIG;
    return;
  }
  nText = ssoB64EncodedLen(n, eAlpha);
  if( ssoBufReserve(pBuf, nText) ) return;
  pBuf->n += ssoB64EncodeTo(p, n, eAlpha, pBuf->z + pBuf->n);
}

SSO_PRIVATE size_t ssoB64DecodedMax(size_t n){
  return n/4*3 + (n%4>1 ? n%4-1 : 0);
}

/*
** The exact decoded length if z[0..n) is valid (anything when it is not:
** the decoder then fails before writing past it).
*/
static size_t decodedLen(const char *z, size_t n, int eAlpha){
  size_t nOut = ssoB64DecodedMax(n);
  if( eAlpha!=SSO_B64_URL && n>=4 && n%4==0 ){
    if( z[n-1]=='=' ) nOut--;
    if( z[n-1]=='=' && z[n-2]=='=' ) nOut--;
  }
  return nOut;
}

/*
** The slow path: the group at a[i..] is the last one, or holds padding or
** a bad character. Decodes it into aOut[*pO..] or sets *piBad.
*/
static int decodeTail(const unsigned char *a, size_t n, size_t i,
                      int eAlpha, unsigned char *aOut,
                      size_t *pO, size_t *piBad){
  unsigned mBad = B64_BAD(eAlpha);
  size_t nRest = n - i, nGroup = nRest<4 ? nRest : 4, nData = 0;
  unsigned v[4] = {0, 0, 0, 0};
  while( nData<nGroup && ((v[nData] = aDec[a[i+nData]]) & mBad)==0 ){
    nData++;
  }
  if( nData<nGroup ){
    /* a[i+nData] is not data: padding is the only thing allowed, and
    ** only in the standard alphabet (§5: base64url goes without). */
    size_t j = i + nData;
    if( v[nData]!=B64_PAD || eAlpha==SSO_B64_URL || nData<2 ){
      *piBad = j; return SSOPROXY_PARSE;
    }
    if( nData==2 && nRest>=4 && a[i+3]!='=' ){
      *piBad = i+3; return SSOPROXY_PARSE;
    }
    if( nRest<4 ){ *piBad = n; return SSOPROXY_PARSE; }
    if( nRest>4 ){ *piBad = i+4; return SSOPROXY_PARSE; }
  }else if( nData>0 && eAlpha!=SSO_B64_URL ){
    /* A short final group without the padding §3.2 requires. */
    *piBad = n; return SSOPROXY_PARSE;
  }
  if( nData==0 ) return SSOPROXY_OK;
  if( nData==1 ){ *piBad = n; return SSOPROXY_PARSE; }
  assert( nData<4 );
  /* §3.5: the bits of the last character that carry no data must be 0,
  ** or many texts would decode to the same bytes. */
  if( nData==2 && (v[1] & 0x0f) ){ *piBad = i+1; return SSOPROXY_PARSE; }
  if( nData==3 && (v[2] & 0x03) ){ *piBad = i+2; return SSOPROXY_PARSE; }
  aOut[(*pO)++] = (unsigned char)((v[0]<<2) | (v[1]>>4));
  if( nData==3 ) aOut[(*pO)++] = (unsigned char)((v[1]<<4) | (v[2]>>2));
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoB64Decode(const char *z, size_t n, int eAlpha,
                             unsigned char *aOut, size_t nOut,
                             size_t *pnOut, size_t *piErr){
  const unsigned char *a = (const unsigned char*)z;
  unsigned mBad = B64_BAD(eAlpha);
  size_t i, o = 0, iBad = 0, nFull;
  int rc;
  *pnOut = 0;
  if( n>SSO_B64_MAX_INPUT ){
    iBad = SSO_B64_MAX_INPUT;
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  if( decodedLen(z, n, eAlpha)>nOut ){
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  /* The fast path: whole groups of four data characters. All four are
  ** read before the three bytes are written, so aOut may alias z. */
  nFull = n & ~(size_t)3;
  for(i=0; i<nFull; i+=4){
    unsigned v0 = aDec[a[i]], v1 = aDec[a[i+1]];
    unsigned v2 = aDec[a[i+2]], v3 = aDec[a[i+3]];
    if( (v0|v1|v2|v3) & mBad ) break;
    aOut[o]   = (unsigned char)((v0<<2) | (v1>>4));
    aOut[o+1] = (unsigned char)((v1<<4) | (v2>>2));
    aOut[o+2] = (unsigned char)((v2<<6) | v3);
    o += 3;
  }
  rc = decodeTail(a, n, i, eAlpha, aOut, &o, &iBad);
  if( rc==SSOPROXY_OK ) *pnOut = o;
end:
  if( rc && piErr ) *piErr = iBad;
  return rc;
}

SSO_PRIVATE int ssoB64DecodeAlloc(const char *z, size_t n, int eAlpha,
                                  unsigned char **ppOut, size_t *pnOut,
                                  size_t *piErr){
  unsigned char *a = 0;
  size_t nMax;
  int rc;
  *ppOut = 0;
  *pnOut = 0;
  if( n>SSO_B64_MAX_INPUT ){
    if( piErr ) *piErr = SSO_B64_MAX_INPUT;
    return SSOPROXY_TOOBIG;
  }
  nMax = ssoB64DecodedMax(n);
  a = ssoMalloc(nMax+1);
  if( a==0 ) return SSOPROXY_NOMEM;
  rc = ssoB64Decode(z, n, eAlpha, a, nMax, pnOut, piErr);
  if( rc ){
    ssoFree(a);
    return rc;
  }
  a[*pnOut] = 0;
  *ppOut = a;
  return SSOPROXY_OK;
}

#undef B64_PAD
#undef B64_BAD
