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

#endif /* SSO_SESSION_H */
