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
SSO_PRIVATE void ssoBufAppend(SsoBuf*, const void *p, size_t n);
SSO_PRIVATE void ssoBufAppendStr(SsoBuf*, const char *z);
SSO_PRIVATE void ssoBufAppendChar(SsoBuf*, char c);
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
SSO_PRIVATE const char *ssoBufStr(const SsoBuf*);      /* never NULL */
SSO_PRIVATE void ssoBufTruncate(SsoBuf*, size_t n);
/* Hand the content to the caller (who ssoFree()s it); NULL on error. The
** buffer is left empty either way. */
SSO_PRIVATE char *ssoBufFinish(SsoBuf*, size_t *pn);
SSO_PRIVATE void ssoBufFree(SsoBuf*);

#endif /* SSO_BUF_H */
