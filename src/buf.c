/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 0: the string builder behind JSON output, HTTP responses, HTML
** pages and log lines. Errors are sticky (SQLite's sqlite3_str habit): the
** first failure sets ->rc, later appends do nothing, and the caller checks
** once. A ceiling (mxAlloc) turns a runaway producer into SSOPROXY_TOOBIG
** instead of unbounded memory.
*/
#include "ssoInt.h"

SSO_PRIVATE void ssoBufInit(SsoBuf *p, size_t mxAlloc){
  memset(p, 0, sizeof(*p));
  p->mxAlloc = mxAlloc ? mxAlloc : SSO_MAX_BUF;
}

SSO_PRIVATE void ssoBufInitStatic(SsoBuf *p, char *zSpace, size_t nSpace,
                                  size_t mxAlloc){
  assert( nSpace>0 );
  ssoBufInit(p, mxAlloc);
  p->z = zSpace;
  p->z[0] = 0;
  p->nAlloc = nSpace;
  p->bStatic = 1;
}

/* Make room for nExtra more bytes plus the NUL. Returns p->rc. */
SSO_PRIVATE int ssoBufReserve(SsoBuf *p, size_t nExtra){
  size_t nNeed, nNew;
  char *zNew;
  if( p->rc ) return p->rc;
  nNeed = p->n + nExtra + 1;
  if( nNeed<=p->nAlloc ) return SSOPROXY_OK;
  if( nNeed<p->n || nNeed>p->mxAlloc ){
    p->rc = SSOPROXY_TOOBIG;
    return p->rc;
  }
  nNew = p->nAlloc ? p->nAlloc : 64;
  while( nNew<nNeed ) nNew *= 2;
  if( nNew>p->mxAlloc ) nNew = p->mxAlloc;
  zNew = p->bStatic ? ssoMalloc(nNew) : ssoRealloc(p->z, nNew);
  if( zNew==0 ){
    p->rc = SSOPROXY_NOMEM;
    return p->rc;
  }
  if( p->bStatic ){
    memcpy(zNew, p->z, p->n+1);
    p->bStatic = 0;
  }
  p->z = zNew;
  p->nAlloc = nNew;
  return SSOPROXY_OK;
}

/* The out-of-line part of ssoBufAppend() and ssoBufAppendChar() (buf.h):
** grow first, or do nothing after an error. */
SSO_PRIVATE void ssoBufAppendSlow(SsoBuf *p, const void *pData, size_t n){
  if( ssoBufReserve(p, n) ) return;
  if( n ) memcpy(p->z + p->n, pData, n);
  p->n += n;
  p->z[p->n] = 0;
}

SSO_PRIVATE void ssoBufAppendStr(SsoBuf *p, const char *z){
  ssoBufAppend(p, z, strlen(z));
}

SSO_PRIVATE void ssoBufAppendUint(SsoBuf *p, unsigned long long v){
  char z[24];
  size_t i = sizeof(z);
  do{
    z[--i] = (char)('0' + v%10);
    v /= 10;
  }while( v );
  ssoBufAppend(p, z+i, sizeof(z)-i);
}

SSO_PRIVATE void ssoBufVPrintf(SsoBuf *p, const char *zFmt, va_list ap){
  va_list ap2;
  int n;
  char zTiny[1];
  if( p->rc ) return;
  va_copy(ap2, ap);
  n = vsnprintf(zTiny, sizeof(zTiny), zFmt, ap2);
  va_end(ap2);
  if( n<0 ){
    p->rc = SSOPROXY_ERROR;
    return;
  }
  if( ssoBufReserve(p, (size_t)n) ) return;
  vsnprintf(p->z + p->n, (size_t)n + 1, zFmt, ap);
  p->n += (size_t)n;
}

SSO_PRIVATE void ssoBufPrintf(SsoBuf *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  ssoBufVPrintf(p, zFmt, ap);
  va_end(ap);
}

/*
** RFC 8259 §7: '"', '\\' and every byte below 0x20 must be escaped; we
** also escape DEL so a log line never carries a terminal control byte.
** Bytes >= 0x80 are copied as they are: callers pass valid UTF-8.
**
** aJsonEsc[c] is 0 for a byte copied as it is, else the letter after the
** backslash ('u' for the \u00XX form).
*/
static const unsigned char aJsonEsc[256] = {
  'u','u','u','u','u','u','u','u','b','t','n','u','f','r','u','u',
  'u','u','u','u','u','u','u','u','u','u','u','u','u','u','u','u',
  0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'u',
  /* 0x80..0xff: all 0 */
};

/*
** Flags the bytes of the word x that must be escaped: below 0x20, or
** '"', '\\' or DEL (x^c is then 0, and 0-1 sets the top bit); "& ~x"
** drops the bytes >= 0x80, which are copied as they are.
*/
static uint64_t jsonEscMask(uint64_t x){
  return ((x - SSO_ONES*0x20)
        | ((x ^ SSO_ONES*'"') - SSO_ONES)
        | ((x ^ SSO_ONES*'\\') - SSO_ONES)
        | ((x ^ SSO_ONES*0x7f) - SSO_ONES)) & ~x & SSO_HIGHS;
}

/*
** Offset of the first byte at or after z[i] that must be escaped, or n;
** eight bytes at a time. The last 1..7 bytes of a string of 8 or more
** are one more word, the one that ends at z[n], in which the bytes
** before z[i] (already seen) are first replaced by a harmless 'a':
** masking their flags afterwards would not do, as a flagged byte there
** can leak a false flag upwards into the bytes that count. A shorter
** string is looked at byte by byte.
*/
static size_t jsonPlainEnd(const unsigned char *z, size_t i, size_t n){
  uint64_t m;
  while( n-i>=8 ){
    m = jsonEscMask(ssoBufLoad64(z+i));
    if( m ) return i + ssoBufFirstMarked(m);
    i += 8;
  }
  if( i==n ) return n;
  if( n>=8 ){
    uint64_t mKeep = ~(uint64_t)0 << 8*(i-(n-8));
    m = jsonEscMask((ssoBufLoad64(z+n-8) & mKeep) | (SSO_ONES*'a' & ~mKeep));
    return m ? n-8 + ssoBufFirstMarked(m) : n;
  }
  while( i<n && aJsonEsc[z[i]]==0 ) i++;
  return i;
}

/* Write the escape for byte c (aJsonEsc[c]!=0) at z; returns its length. */
static size_t jsonEscape(char *z, unsigned char c){
  static const char hex[] = "0123456789abcdef";
  z[0] = '\\';
  z[1] = (char)aJsonEsc[c];
  if( z[1]!='u' ) return 2;
  z[2] = '0';
  z[3] = '0';
  z[4] = hex[c>>4];
  z[5] = hex[c&0xf];
  return 6;
}

/* Copy the run of bytes from z[i] that need no escape to *pzOut, moving
** *pzOut past it; returns where the run ends. */
static size_t jsonCopyPlain(const unsigned char *z, size_t i, size_t n,
                            char **pzOut){
  size_t iEnd = jsonPlainEnd(z, i, n);
  if( iEnd>i ) memcpy(*pzOut, z+i, iEnd-i);   /* z may be NULL if n==0 */
  *pzOut += iEnd-i;
  return iEnd;
}

SSO_PRIVATE size_t ssoBufJsonStringLen(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0, nOut = n + 2;
  while( (i = jsonPlainEnd(z, i, n))<n ){
    nOut += aJsonEsc[z[i]]=='u' ? 5 : 1;
    i++;
  }
  return nOut;
}

SSO_PRIVATE char *ssoBufJsonStringTo(char *zOut, const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  *zOut++ = '"';
  while( (i = jsonCopyPlain(z, i, n, &zOut))<n ){
    zOut += jsonEscape(zOut, z[i++]);
  }
  *zOut++ = '"';
  return zOut;
}

/*
** One pass: room for the string as it is is reserved up front (most
** strings need no escape); each escape then checks for the room that the
** escape and the rest, unescaped, need, so the reservation never exceeds
** the final length and mxAlloc means the same as for plain appends.
*/
SSO_PRIVATE void ssoBufAppendJsonString(SsoBuf *p, const char *zIn,
                                        size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0, nNeed;
  char *zOut;
  if( n>SIZE_MAX/2 ){
    if( p->rc==SSOPROXY_OK ) p->rc = SSOPROXY_TOOBIG;
    return;
  }
  if( (p->rc || n+2 >= p->nAlloc - p->n) && ssoBufReserve(p, n+2) ) return;
  zOut = p->z + p->n;
  *zOut++ = '"';
  while( (i = jsonCopyPlain(z, i, n, &zOut))<n ){
    /* Room left after zOut, less the NUL, against escape + rest + '"'. */
    nNeed = (aJsonEsc[z[i]]=='u' ? 6 : 2) + (n-i-1) + 1;
    if( (size_t)(p->z + p->nAlloc - 1 - zOut) < nNeed ){
      p->n = (size_t)(zOut - p->z);
      if( ssoBufReserve(p, nNeed) ) return;
      zOut = p->z + p->n;
    }
    zOut += jsonEscape(zOut, z[i++]);
  }
  *zOut++ = '"';
  *zOut = 0;
  p->n = (size_t)(zOut - p->z);
}

SSO_PRIVATE const char *ssoBufStr(const SsoBuf *p){
  return (p->z && !p->rc) ? p->z : "";
}

SSO_PRIVATE void ssoBufTruncate(SsoBuf *p, size_t n){
  if( n<p->n ){
    p->n = n;
    p->z[n] = 0;
  }
}

SSO_PRIVATE char *ssoBufFinish(SsoBuf *p, size_t *pn){
  char *z = 0;
  if( p->rc==SSOPROXY_OK && ssoBufReserve(p, 0)==SSOPROXY_OK ){
    z = p->bStatic ? ssoStrndup(p->z, p->n) : p->z;
    if( z && pn ) *pn = p->n;
    if( !p->bStatic ) p->z = 0;
  }
  ssoBufFree(p);
  return z;
}

SSO_PRIVATE void ssoBufFree(SsoBuf *p){
  size_t mx = p->mxAlloc;
  if( !p->bStatic ) ssoFree(p->z);
  memset(p, 0, sizeof(*p));
  p->mxAlloc = mx;
}

SSO_PRIVATE int ssoErrorf(char *z, size_t n, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(z, n, zFmt, ap);
  va_end(ap);
  return rc;
}
