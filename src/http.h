/*
** Layer 2: HTTP/1.1 message syntax (RFC 9112), shared by the server and
** the future outbound client. Pure functions over caller buffers: nothing
** here allocates, reads a socket or keeps global state.
*/
#ifndef SSO_HTTP_H
#define SSO_HTTP_H

/* One header field: views into the caller's buffer. */
typedef struct SsoHttpHeader SsoHttpHeader;
struct SsoHttpHeader {
  SsoStr name;          /* Field name as received (case preserved) */
  SsoStr value;         /* Value without leading/trailing whitespace */
};

/* How the body of a message is delimited (RFC 9112 §6.3). */
#define SSO_HTTP_BODY_NONE     0   /* No body (or Content-Length: 0) */
#define SSO_HTTP_BODY_LENGTH   1   /* Content-Length bytes follow */
#define SSO_HTTP_BODY_CHUNKED  2   /* Transfer-Encoding: chunked */
#define SSO_HTTP_BODY_EOF      3   /* Response read until close (§6.3 rule 8) */

/*
** A parsed request or response head. The caller sets aHdr/mxHdr (its own
** array and its capacity); the parser fills the rest. Every SsoStr points
** into the buffer that was parsed and lives as long as those bytes do.
*/
typedef struct SsoHttpHead SsoHttpHead;
struct SsoHttpHead {
  SsoStr method;        /* Request: method token */
  SsoStr target;        /* Request: request-target as received */
  int iStatus;          /* Response: status code 100..999 */
  SsoStr reason;        /* Response: reason phrase (may be empty) */
  int iMinor;           /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
  SsoHttpHeader *aHdr;  /* In: caller's array. Out: the fields */
  int mxHdr;            /* In: capacity of aHdr */
  int nHdr;             /* Out: fields stored in aHdr */
  int eBody;            /* SSO_HTTP_BODY_* */
  unsigned long long nBody; /* Content-Length when eBody==_LENGTH */
  unsigned char bClose;     /* Connection ends after this message */
  unsigned char bContinue;  /* Request: "Expect: 100-continue" */
};

/* Limits the head parsers enforce (each a server setting). */
typedef struct SsoHttpLimits SsoHttpLimits;
struct SsoHttpLimits {
  size_t mxLine;        /* Bytes in the request line, CRLF excluded: 414 */
  size_t mxHead;        /* Bytes in the whole head, final CRLF included: 431 */
};

/*
** Parser results. A positive value is the length of the complete head
** (the body starts there). SSO_HTTP_PARTIAL means "call again with more
** bytes". Any other negative value is minus the HTTP status to answer
** with: -400, -414, -417, -431, -501, -505.
*/
#define SSO_HTTP_PARTIAL (-1)

/*
** Parse a request head in z[0..n). nLast is the n of the previous call
** on the same growing buffer (0 the first time): only bytes from nLast on
** are scanned for the end of the head, so feeding a head one byte at a
** time costs O(total), not O(total^2). The head is parsed in full once,
** when its final CRLF has arrived. Leading empty lines are skipped
** (RFC 9112 §2.2) and counted in the returned length.
**
** Strictness (each rejection blocks a known smuggling or desync trick):
** bare CR or bare LF, obsolete line folding, whitespace before a colon,
** non-token bytes in a method or field name, control bytes in a value,
** Content-Length with Transfer-Encoding, two Content-Length fields or a
** non-decimal one, any Transfer-Encoding but exactly "chunked", a missing
** or repeated Host in HTTP/1.1 are all 400; HTTP versions other than 1.0
** and 1.1 are 505; an Expect other than 100-continue is 417.
*/
SSO_PRIVATE int ssoHttpParseRequest(const char *z, size_t n, size_t nLast,
                                    const SsoHttpLimits*, SsoHttpHead*);

/*
** Parse a response head (status line and fields) the same way. The
** caller decides from the request method and the status whether a body
** follows at all (HEAD, 1xx, 204, 304: RFC 9112 §6.3 rules 1-2); this
** function reports framing from the fields only, with SSO_HTTP_BODY_EOF
** when neither Content-Length nor Transfer-Encoding is present. Errors
** are reported as -502 (an invalid upstream answer).
*/
SSO_PRIVATE int ssoHttpParseResponse(const char *z, size_t n, size_t nLast,
                                     const SsoHttpLimits*, SsoHttpHead*);

/*
** Find a field by name, case-insensitively (RFC 9110 §5.1). Returns the
** first match's value in *pVal and 1, or 0 when absent.
*/
SSO_PRIVATE int ssoHttpHeaderFind(const SsoHttpHead*, const char *zName,
                                  SsoStr *pVal);

/*
** Case-insensitive comparison of a view with a NUL-terminated ASCII name.
** Filters compare every field of a request and an answer with lists of
** names, a few hundred calls per proxied request, and nearly all of them
** differ at the first byte: that test is inline. It only rejects: two
** bytes equal but for bit 0x20 may still differ ('[' and '{'), and the
** full comparison decides those.
*/
SSO_PRIVATE int ssoHttpStrIEqFull(SsoStr s, const char *z);
static inline int ssoHttpStrIEq(SsoStr s, const char *z){
  if( s.n>0 && (s.z[0]|0x20)!=(z[0]|0x20) ) return 0;
  return ssoHttpStrIEqFull(s, z);
}

/*
** Incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
** Zero it with ssoHttpChunkedInit() before the first byte of a body.
*/
typedef struct SsoHttpChunked SsoHttpChunked;
struct SsoHttpChunked {
  int eState;           /* Where in the grammar the decoder stands */
  int nDigit;           /* Significant hex digits seen in this size */
  unsigned long long nLeft;  /* Data bytes left in the current chunk */
  unsigned long long nData;  /* Data bytes decoded so far */
  unsigned long long nOver;  /* Framing bytes (sizes, extensions, CRLFs,
                             ** trailers) seen so far */
  size_t nLine;         /* Bytes in the current size or trailer line */
  size_t mxLine;        /* Longest size line or trailer line allowed */
  size_t mxOver;        /* Framing bytes tolerated beyond the data bytes */
};
SSO_PRIVATE void ssoHttpChunkedInit(SsoHttpChunked*, size_t mxLine,
                                    size_t mxOver);

/*
** Decode zIn[0..nIn). Data bytes go to zOut, which may be zIn itself (in
** place: the output never overtakes the input) or a separate buffer of
** at least nIn bytes. On return *pnIn is the input consumed and *pnOut
** the data bytes written. Returns 0 when all input was consumed and more
** is needed, 1 when the body (last chunk and trailer section) is
** complete — input from *pnIn on belongs to the next message — or -400
** on a syntax error or a limit (a size over 2^60, a line over mxLine,
** framing beyond mxOver that outweighs the data). Trailer fields are
** checked and discarded (RFC 9112 §7.1.2 lets a recipient drop them).
*/
SSO_PRIVATE int ssoHttpChunkedDecode(SsoHttpChunked*, const char *zIn,
                                     size_t nIn, char *zOut, size_t *pnIn,
                                     size_t *pnOut);

/* Reason phrase of a status code ("Not Found"); "" if unknown. */
SSO_PRIVATE const char *ssoHttpReason(int iStatus);

/* 1 if z[0..n) is a token (RFC 9110 §5.6.2): method and field names. */
SSO_PRIVATE int ssoHttpIsToken(const char *z, size_t n);

#endif /* SSO_HTTP_H */
