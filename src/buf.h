/*
** Layer 0: a growable byte string with a sticky error. Append freely;
** check ->rc (or the result of ssoBufFinish) once at the end.
*/
#ifndef SSO_BUF_H
#define SSO_BUF_H

typedef struct SsoBuf SsoBuf;
struct SsoBuf {
  char *z;              /* Content, NUL-terminated whenever nAlloc>0 */
  size_t n;             /* Bytes of content, not counting the NUL */
  size_t nAlloc;        /* Bytes allocated at z */
  size_t mxAlloc;       /* Never grow beyond this */
  int rc;               /* First error: SSOPROXY_NOMEM or _TOOBIG */
  int bStatic;          /* z is the caller's space, not from ssoMalloc */
};

SSO_PRIVATE void ssoBufInit(SsoBuf*, size_t mxAlloc);   /* 0 = SSO_MAX_BUF */
/* Start in the caller's zSpace[nSpace]; move to the heap only if it fills. */
SSO_PRIVATE void ssoBufInitStatic(SsoBuf*, char *zSpace, size_t nSpace,
                                  size_t mxAlloc);
SSO_PRIVATE int ssoBufReserve(SsoBuf*, size_t nExtra);
SSO_PRIVATE void ssoBufAppendSlow(SsoBuf*, const void *p, size_t n);
SSO_PRIVATE void ssoBufAppendStr(SsoBuf*, const char *z);
/* v in decimal: what ssoBufPrintf("%llu") gives, without the printf
** machinery, for paths that run once per request. */
SSO_PRIVATE void ssoBufAppendUint(SsoBuf*, unsigned long long v);
SSO_PRIVATE void ssoBufPrintf(SsoBuf*, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
SSO_PRIVATE void ssoBufVPrintf(SsoBuf*, const char *zFmt, va_list)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 0)))
#endif
  ;
/* Append z[0..n) as a JSON string literal, quotes included (RFC 8259 §7). */
SSO_PRIVATE void ssoBufAppendJsonString(SsoBuf*, const char *z, size_t n);
/* The same literal written to raw memory: ssoBufJsonStringLen() bytes
** (quotes included) at zOut, which must have room; returns their end. For
** writers that size a whole document first and reserve once. */
SSO_PRIVATE size_t ssoBufJsonStringLen(const char *z, size_t n);
SSO_PRIVATE char *ssoBufJsonStringTo(char *zOut, const char *z, size_t n);
SSO_PRIVATE const char *ssoBufStr(const SsoBuf*);      /* never NULL */
SSO_PRIVATE void ssoBufTruncate(SsoBuf*, size_t n);
/* Hand the content to the caller (who ssoFree()s it); NULL on error. The
** buffer is left empty either way. */
SSO_PRIVATE char *ssoBufFinish(SsoBuf*, size_t *pn);
SSO_PRIVATE void ssoBufFree(SsoBuf*);

/*
** Appends, with the common case inlined: while there is room and no
** error, an append is a copy and a length update. The test is written as
** n < nAlloc - n so that it cannot overflow (nAlloc>n whenever nAlloc>0).
*/
static inline void ssoBufAppend(SsoBuf *p, const void *pData, size_t n){
  if( p->rc==0 && n < p->nAlloc - p->n ){
    if( n ) memcpy(p->z + p->n, pData, n);    /* pData may be NULL if n==0 */
    p->n += n;
    p->z[p->n] = 0;
  }else{
    ssoBufAppendSlow(p, pData, n);
  }
}
static inline void ssoBufAppendChar(SsoBuf *p, char c){
  if( p->rc==0 && 1 < p->nAlloc - p->n ){
    p->z[p->n++] = c;
    p->z[p->n] = 0;
  }else{
    ssoBufAppendSlow(p, &c, 1);
  }
}

/*
** Eight bytes at a time ("SWAR"), for the scanners of JSON strings here
** and in json.c. A word is loaded in little-endian order whatever the
** machine, so that the first byte in memory is the least significant;
** the byte tests used on it (x - 0x01...01 and the like) can give false
** positives only in bytes above a true one, since carries and borrows
** run upwards, so the lowest flagged byte is always exact. memcpy()
** keeps the load legal at any alignment; compilers turn it into one
** load.
*/
#define SSO_ONES  ((uint64_t)0x0101010101010101ULL)
#define SSO_HIGHS (SSO_ONES*0x80)
static inline uint64_t ssoBufLoad64(const unsigned char *z){
  uint64_t x;
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) \
 && __BYTE_ORDER__==__ORDER_LITTLE_ENDIAN__
  memcpy(&x, z, 8);
#else
  x = (uint64_t)z[0] | (uint64_t)z[1]<<8 | (uint64_t)z[2]<<16
    | (uint64_t)z[3]<<24 | (uint64_t)z[4]<<32 | (uint64_t)z[5]<<40
    | (uint64_t)z[6]<<48 | (uint64_t)z[7]<<56;
#endif
  return x;
}
/* Index of the lowest byte of m with its 0x80 bit set. m is non-zero and
** has no other bits. (m & -m)>>7 is 1<<8k; multiplying by 0x0001..07
** puts k in the top byte. Portable, and branch-free unlike a loop. */
static inline size_t ssoBufFirstMarked(uint64_t m){
  return (size_t)((((m & (0 - m)) >> 7) * 0x0001020304050607ULL) >> 56);
}

/*
** Format an error message into the caller's fixed z[n], truncating if
** need be, and return rc: one line on every error path of an object that
** keeps its last message in a char array. Never allocates, so it works
** when memory is exhausted.
*/
SSO_PRIVATE int ssoErrorf(char *z, size_t n, int rc, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;

#endif /* SSO_BUF_H */
