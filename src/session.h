/*
** Layer 4: browser sessions.
**
** A session is an opaque 256-bit random id in a cookie ("ssoproxy_session",
** or "__Host-ssoproxy_session" with Secure when PROXY_BASE_URL is https;
** always HttpOnly, SameSite=Lax, Path=/). The store keeps only its
** SHA-256, the user, its times and the IdP's id_token (for logout). A
** session ends at its absolute lifetime, after its idle lifetime without
** a request, when it is deleted (logout, the user deleted or disabled),
** and is replaced (rotated) at every sign-in.
**
** State-changing forms carry a CSRF token bound to the session
** (ssoSessionCsrfOk); the token is derived from the session, so nothing
** more is stored.
*/
#ifndef SSO_SESSION_H
#define SSO_SESSION_H

/* Shared, read-only once made (ssoSessionInit). */
typedef struct SsoSessions SsoSessions;
struct SsoSessions {
  int bSecure;              /* https base URL: Secure + __Host- prefix */
  const char *zCookie;      /* Cookie name (static text) */
  long long msIdle;         /* Idle lifetime */
  long long msMax;          /* Absolute lifetime */
};
/* zBaseUrl: PROXY_BASE_URL (NULL: unknown, not secure). */
SSO_PRIVATE void ssoSessionInit(SsoSessions*, const char *zBaseUrl,
                                long long msIdle, long long msMax);

/* The session of a request, as read this very request. */
typedef struct SsoSession SsoSession;
struct SsoSession {
  char zHash[SSO_KEY_HEX];  /* Its id's SHA-256 (the store's key) */
  char zCsrf[48];           /* The CSRF token for forms in this session */
  SsoSessionRow row;        /* Strings in the caller's arena */
  SsoUser user;             /* The signed-in user (not disabled) */
};

/*
** The request's session: SSOPROXY_OK and *pSess; SSOPROXY_NOTFOUND when
** there is no cookie, or it names no session, or the session has expired
** (then it is deleted), or its user is gone or disabled; another code on
** a store failure. Notes the request in the session (tSeen) at most once a
** minute, so the idle lifetime counts without a write per request.
*/
SSO_PRIVATE int ssoSessionGet(const SsoSessions*, SsoStore*,
                              const SsoHttpHeader *aHdr, int nHdr,
                              long long tNow, SsoArena*, SsoSession *pSess);

/*
** Sign zUserId in on this browser: delete the request's current session
** if it has one (rotation), make a new one, and add its Set-Cookie to req
** (call between ssoServerStatus() and the body). zIdToken (may be NULL)
** is kept for logout; zData (may be NULL: "{}") is a JSON object kept
** with the session, e.g. {"groups":[...],"via":"sso"}.
*/
SSO_PRIVATE int ssoSessionStart(const SsoSessions*, SsoStore*, SsoRng*,
                                SsoServerReq*, const char *zUserId,
                                const char *zIdToken, const char *zData,
                                long long tNow);

/*
** Sign the browser out: delete the request's session (if any) and add a
** Set-Cookie that clears the cookie (between status and body).
*/
SSO_PRIVATE int ssoSessionEnd(const SsoSessions*, SsoStore*, SsoServerReq*);

/* 1 if z[0..n) is this session's CSRF token (constant time). */
SSO_PRIVATE int ssoSessionCsrfOk(const SsoSession*, const char *z, size_t n);

/* ---- Additions ---- */

/* Characters of a session id in its cookie: base64url of 32 bytes. */
#define SSO_SESSION_ID_LEN 43

/*
** The value of the first cookie named zName (case-sensitive, RFC 6265
** §5.4) in the request's Cookie header fields (all of them, in order):
** SSOPROXY_OK and *pVal (a view into the header, surrounding DQUOTEs
** removed), or SSOPROXY_NOTFOUND. Pairs are split at ';', whitespace
** around names and values is ignored, pairs without '=' are skipped, and
** at most SSO_SESSION_MAX_PAIRS pairs are looked at.
*/
SSO_PRIVATE int ssoSessionCookieGet(const SsoHttpHeader *aHdr, int nHdr,
                                    const char *zName, SsoStr *pVal);

/*
** 1 if z[0..n) has the form of an id this module makes: exactly
** SSO_SESSION_ID_LEN base64url characters. Anything else is never
** looked up.
*/
SSO_PRIVATE int ssoSessionIdWellFormed(const char *z, size_t n);

/*
** A "Set-Cookie" value for a cookie zName with these sessions' attributes
** (Path=/; HttpOnly; SameSite=Lax; Secure when https), value zValue and
** Max-Age nAge seconds (0: delete it), appended to b. Other modules'
** short-lived browser cookies (the sign-in form's) use it too, with
** ssoSessionCookieName() for the __Host- prefix.
*/
SSO_PRIVATE void ssoSessionSetCookie(const SsoSessions*, SsoBuf *b,
                                     const char *zName, const char *zValue,
                                     long long nAge);
/* zBase ("ssoproxy_login") with "__Host-" before it when secure, into
** z[n] (at least strlen(zBase)+8). */
SSO_PRIVATE void ssoSessionCookieName(const SsoSessions*, const char *zBase,
                                      char *z, size_t n);

/*
** The authentication hook (SsoAuthz.xSession, pArg an SsoSessions*): the
** request's session user in *pzUserId. A state-changing method (anything
** but GET, HEAD and OPTIONS; an unknown method counts as one) also needs
** an X-CSRF-Token header equal to the session's token, else
** SSOPROXY_CONSTRAINT (the caller answers 403).
*/
SSO_PRIVATE int ssoSessionAuthz(void *pArg, SsoStr method,
                                const SsoHttpHeader *aHdr, int nHdr,
                                SsoStore*, long long tNow, SsoArena*,
                                const char **pzUserId);

/*
** ssoSessionStart() and ssoSessionEnd() without a request, for callers
** (and tests) that hold only the headers: Create appends the Set-Cookie
** value to pSetCookie; Destroy deletes the session named by the headers'
** cookie, if any (the caller clears the cookie).
*/
SSO_PRIVATE int ssoSessionCreate(const SsoSessions*, SsoStore*, SsoRng*,
                                 const SsoHttpHeader *aHdr, int nHdr,
                                 const char *zUserId, const char *zIdToken,
                                 const char *zData, long long tNow,
                                 SsoBuf *pSetCookie);
SSO_PRIVATE int ssoSessionDestroy(const SsoSessions*, SsoStore*,
                                  const SsoHttpHeader *aHdr, int nHdr);

/* Delete every expired session now; *pn (may be NULL) how many. */
SSO_PRIVATE int ssoSessionPurge(const SsoSessions*, SsoStore*,
                                long long tNow, int *pn);

#endif /* SSO_SESSION_H */
