/*
** Layer 1: absolute URLs (RFC 3986), percent-encoding, query strings and
** application/x-www-form-urlencoded bodies.
*/
#ifndef SSO_URL_H
#define SSO_URL_H

/* What the host of a parsed URL is (SsoUrl.eHost). */
#define SSO_URL_HOST_NONE 0   /* No authority, or an empty host */
#define SSO_URL_HOST_NAME 1   /* A reg-name, lower-cased: "idp.example.com" */
#define SSO_URL_HOST_IPV4 2   /* A dotted-quad literal: "127.0.0.1" */
#define SSO_URL_HOST_IPV6 3   /* A bracketed literal; host holds the text
                              ** without brackets, in RFC 5952 form */

/*
** A parsed absolute URL. Every SsoStr points into one arena block and is
** also NUL-terminated, so .z may be used as a C string; absent parts are
** "" with their b-flag clear. Only scheme and host are changed from the
** input (lower-cased; IPv6 written canonically); userinfo, path, query
** and fragment are exactly as written, percent-escapes and all.
*/
typedef struct SsoUrl SsoUrl;
struct SsoUrl {
  SsoStr scheme;          /* Lower-cased, e.g. "https" */
  SsoStr userinfo;        /* Before the '@'; callers normally refuse it */
  SsoStr host;            /* See eHost */
  SsoStr path;            /* "" or starts with '/' when there is an authority */
  SsoStr query;           /* After '?', before '#' */
  SsoStr fragment;        /* After '#' */
  int eHost;              /* SSO_URL_HOST_* */
  int iPort;              /* The explicit port, else the scheme default
                          ** (80 http, 443 https), else 0 */
  unsigned char aAddr[16];/* IPv4 (4 bytes) or IPv6 (16) literal address */
  int bAuthority;         /* "//" followed the scheme */
  int bUserinfo;          /* An '@' was in the authority */
  int bPort;              /* The port was written out */
  int bQuery;             /* A '?' was present (query may still be "") */
  int bFragment;          /* A '#' was present */
};

/*
** Parse the absolute URL z[0..n) (RFC 3986 §3; a scheme is required, so
** relative references such as "//host/x" or "/path" are refused). The
** parts are copied into pArena and live until it is freed.
**
** Strictly refused, with SSOPROXY_PARSE and *piErr at the first bad byte:
** control bytes, space, DEL, backslash, bytes >= 0x80 (callers must
** percent-encode), characters RFC 3986 does not allow in the part they
** are in (e.g. '"' '<' '>' '{' '|' '^' '`', '[' outside an IP literal, a
** second '#' or '@'), '%' not followed by two hex digits, '%' in a host,
** a port that is empty, not all digits, has a leading zero, or is outside
** 1..65535, a missing or empty host for http and https, IPv6 zone ids and
** IPvFuture literals, empty DNS labels ("a..b", a trailing '.'), labels
** over 63 bytes, hosts over 253 bytes, and hosts whose last label is a
** number but that are not a dotted quad ("127.1", "0x7f.1", "2130706433":
** resolvers and browsers read those as IPv4 addresses, so we refuse them
** rather than disagree with them about which machine is meant).
**
** Returns SSOPROXY_OK, SSOPROXY_PARSE, SSOPROXY_TOOBIG (n > SSO_URL_MAX;
** *piErr = SSO_URL_MAX) or SSOPROXY_NOMEM. piErr may be NULL. On error
** every part of *pUrl is "" and every number and flag 0.
*/
SSO_PRIVATE int ssoUrlParse(SsoArena *pArena, const char *z, size_t n,
                            SsoUrl *pUrl, size_t *piErr);

/* 80 for "http", 443 for "https" (lower-case), else 0. */
SSO_PRIVATE int ssoUrlDefaultPort(const char *zScheme, size_t nScheme);

/*
** 1 if the host is a loopback IP literal: 127.0.0.0/8 or [::1]. The name
** "localhost" is not (RFC 8252 §8.3: it may resolve elsewhere), nor are
** IPv4-mapped addresses such as [::ffff:127.0.0.1].
*/
SSO_PRIVATE int ssoUrlIsLoopback(const SsoUrl*);

/*
** 1 if z[0..n) is a safe same-origin return-to target: an absolute path
** ("/ui?x=1"), never a URL of another site. Refused: empty, not starting
** with '/', "//host" and "/\\host" (browsers read both as another host),
** any backslash, control character, space or non-ASCII byte, and more
** than SSO_URL_MAX bytes. Used for "rd" and every other return-to value.
*/
SSO_PRIVATE int ssoUrlIsLocalPath(const char *z, size_t n);

/*
** Appenders (errors are sticky in the SsoBuf):
**  HostPort: host, bracketed if IPv6, then ":port" unless the port is the
**            scheme's default -- the HTTP Host header (RFC 9110 §7.2).
**  Origin:   scheme "://" HostPort (RFC 6454 §6.2), for CORS and
**            allow-list comparisons. Returns SSOPROXY_PARSE, appending
**            nothing, when the URL has no host.
**  Target:   path (or "/" if empty) and "?query": the origin-form request
**            target (RFC 9112 §3.2.1). Never the fragment.
**  Append:   the whole URL rebuilt from its parts; parsing the result
**            gives the same parts.
*/
SSO_PRIVATE void ssoUrlAppendHostPort(SsoBuf*, const SsoUrl*);
SSO_PRIVATE int ssoUrlAppendOrigin(SsoBuf*, const SsoUrl*);
SSO_PRIVATE void ssoUrlAppendTarget(SsoBuf*, const SsoUrl*);
SSO_PRIVATE void ssoUrlAppend(SsoBuf*, const SsoUrl*);

/*
** Percent-encoding. Flags:
**   SSO_URL_FORM   application/x-www-form-urlencoded (WHATWG URL §5.2):
**                  encoding keeps ALPHA DIGIT "*-._", writes space as '+'
**                  and escapes everything else ('~' too); decoding turns
**                  '+' into space. Without the flag: an RFC 3986 component
**                  (§2.3, §2.1): encoding keeps ALPHA DIGIT "-._~" and
**                  escapes the rest as %XX, upper-case; decoding leaves
**                  '+' alone.
**   SSO_URL_NONUL  decoding refuses a NUL byte (raw or %00), so the result
**                  is a C string with no hidden end.
*/
#define SSO_URL_FORM  0x01
#define SSO_URL_NONUL 0x02
SSO_PRIVATE void ssoUrlEncode(SsoBuf*, const char *z, size_t n,
                              unsigned mFlags);

/*
** Decode z[0..n) into zOut, which holds n+1 bytes (a decoded string is
** never longer) and may be z itself. NUL-terminates; *pnOut is the length.
** Returns SSOPROXY_PARSE with *piErr at the '%' of a bad escape ('%' not
** followed by two hex digits) or at a refused NUL. Other bytes are copied
** as they are: this checks escapes, not the characters around them.
*/
SSO_PRIVATE int ssoUrlDecode(const char *z, size_t n, unsigned mFlags,
                             char *zOut, size_t *pnOut, size_t *piErr);
/* As ssoUrlDecode, into pArena; *pOut is NUL-terminated. */
SSO_PRIVATE int ssoUrlDecodeArena(SsoArena*, const char *z, size_t n,
                                  unsigned mFlags, SsoStr *pOut,
                                  size_t *piErr);

/*
** Query strings and form bodies: "a=1&b=x+y%21" -> ("a","1"), ("b","x y!").
** Names and values are decoded in SSO_URL_FORM mode ('+' is space, which
** is also how RFC 6749 §4.1.2 puts code and state in a redirect's query),
** with NUL refused, and copied NUL-terminated into the arena. Empty pairs
** ("&&", a leading or trailing '&') are skipped; a pair without '=' has
** the value "". Parameters keep their order; duplicates are kept, so
** callers can see them (RFC 6749 §3.1: parameters MUST NOT be sent more
** than once) -- use ssoFormGet(), which reports them.
*/
typedef struct SsoFormParam SsoFormParam;
struct SsoFormParam {
  SsoStr name;
  SsoStr value;
};
typedef struct SsoForm SsoForm;
struct SsoForm {
  SsoFormParam *aParam;   /* In pArena; NULL when nParam is 0 */
  int nParam;
};

/*
** Returns SSOPROXY_OK; SSOPROXY_PARSE (bad escape or NUL, *piErr is its
** offset in z); SSOPROXY_TOOBIG beyond SSO_FORM_MAX_PARAMS pairs (*piErr
** is where the first pair too many starts); SSOPROXY_NOMEM. On error
** *pForm is empty. piErr may be NULL.
*/
SSO_PRIVATE int ssoFormParse(SsoArena*, const char *z, size_t n,
                             SsoForm *pForm, size_t *piErr);

/* How many parameters are named exactly zName (case-sensitive). */
SSO_PRIVATE int ssoFormCount(const SsoForm*, const char *zName);

/*
** The value of the one parameter named zName: SSOPROXY_OK and *pValue;
** SSOPROXY_NOTFOUND if absent; SSOPROXY_CONSTRAINT if given more than
** once (RFC 6749 §3.1). *pValue is "" unless the result is SSOPROXY_OK.
** pValue may be NULL.
*/
SSO_PRIVATE int ssoFormGet(const SsoForm*, const char *zName,
                           SsoStr *pValue);

/* Index of the first parameter whose name appeared before it, or -1. */
SSO_PRIVATE int ssoFormFirstDuplicate(const SsoForm*);

/*
** Append nPair name/value pairs, azPair = {name0, value0, name1, ...},
** form-encoded as "name=value" joined by '&'. A pair whose value is NULL
** is left out (handy for optional parameters). A '&' is written before
** each pair unless the builder is empty or ends in '?' or '&', so the
** same call continues a query or a body.
*/
SSO_PRIVATE void ssoFormAppend(SsoBuf*, const char *const *azPair,
                               int nPair);

/*
** Append the URL zUrl[0..nUrl) with the pairs added to its query: '?' if
** it has none, else '&' after what is there; the pairs go before any
** "#fragment", which is kept if bKeepFragment and otherwise refused with
** SSOPROXY_PARSE (an OAuth redirect_uri MUST NOT have one, RFC 6749
** §3.1.2), nothing appended. zUrl should have passed ssoUrlParse():
** only the first '#' and the first '?' before it are looked for. Returns
** the builder's rc otherwise.
*/
SSO_PRIVATE int ssoUrlAppendQuery(SsoBuf*, const char *zUrl, size_t nUrl,
                                  const char *const *azPair, int nPair,
                                  int bKeepFragment);

#endif /* SSO_URL_H */
