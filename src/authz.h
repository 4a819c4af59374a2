/*
** Layer 4: who is calling and what they may do.
**
** Authentication: the credential comes from `Authorization: Bearer`,
** `x-litellm-api-key`, `api-key` or `x-api-key` (LiteLLM's headers, in
** that order). It is the master key (compared in constant time, acting as
** proxy_admin), or an API key found by its SHA-256 in the store together
** with its owner, on every request (no cache: revocation is immediate).
**
** Authorisation: one table, the permission matrix, gives for each role
** and each management endpoint a scope: none, the caller's own objects,
** or any object. Every endpoint asks ssoAuthzScope()/ssoAuthzMayTouch();
** nothing else decides who may do what.
*/
#ifndef SSO_AUTHZ_H
#define SSO_AUTHZ_H

/* Roles, in increasing privilege (LiteLLM's four role strings). */
#define SSO_ROLE_NONE                 0
#define SSO_ROLE_INTERNAL_USER_VIEWER 1
#define SSO_ROLE_INTERNAL_USER        2
#define SSO_ROLE_PROXY_ADMIN_VIEWER   3
#define SSO_ROLE_PROXY_ADMIN          4
#define SSO_ROLE_COUNT                5
#define SSO_ROLE_LIST \
  "proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer"

/*
** The role named exactly zName (case matters, as in LiteLLM's request
** models), or SSO_ROLE_NONE. The deprecated
** spelling internal_user_view_only (LiteLLM's enum member name, which its
** docs and the Authentik guide use) gives internal_user_viewer and sets
** *pbAlias (may be NULL) so the caller can log a warning.
*/
SSO_PRIVATE int ssoAuthzRole(const char *zName, int *pbAlias);
/* "proxy_admin" ...; "" for SSO_ROLE_NONE. */
SSO_PRIVATE const char *ssoAuthzRoleName(int eRole);

/* The management endpoints: one row each of the permission matrix. */
#define SSO_ACT_KEY_GENERATE  0
#define SSO_ACT_KEY_INFO      1
#define SSO_ACT_KEY_UPDATE    2
#define SSO_ACT_KEY_DELETE    3
#define SSO_ACT_KEY_LIST      4
#define SSO_ACT_KEY_BLOCK     5
#define SSO_ACT_KEY_UNBLOCK   6
#define SSO_ACT_USER_NEW      7
#define SSO_ACT_USER_UPDATE   8
#define SSO_ACT_USER_INFO     9
#define SSO_ACT_USER_LIST     10
#define SSO_ACT_USER_DELETE   11
#define SSO_ACT_AUDIT_LIST    12
#define SSO_ACT_COUNT         13

/* Scopes, the cells of the matrix. */
#define SSO_SCOPE_NONE 0      /* Refused (403) */
#define SSO_SCOPE_OWN  1      /* Only the caller's own keys / user row */
#define SSO_SCOPE_ANY  2      /* Every object */

/* The cell for (eRole, eAction); SSO_SCOPE_NONE for anything unknown. */
SSO_PRIVATE int ssoAuthzScope(int eRole, int eAction);
/* The endpoint's path, "/key/generate" ...; "" if unknown. */
SSO_PRIVATE const char *ssoAuthzActionPath(int eAction);

/*
** An error meant for an HTTP client: status, LiteLLM error type
** ("auth_error", "invalid_request_error", ...), the offending parameter
** (NULL: none) and a message without secrets.
*/
typedef struct SsoAuthzErr SsoAuthzErr;
struct SsoAuthzErr {
  int iStatus;              /* 0: no error */
  const char *zType;        /* Static string */
  const char *zParam;       /* Static string or NULL */
  char zMsg[512];
};
/* Set *p unless it already holds an error; returns SSOPROXY_ERROR. */
SSO_PRIVATE int ssoAuthzFailV(SsoAuthzErr*, int iStatus, const char *zType,
                              const char *zParam, const char *zFmt, va_list)
#if defined(__GNUC__)
  __attribute__((format(printf, 5, 0)))
#endif
  ;
SSO_PRIVATE int ssoAuthzFail(SsoAuthzErr*, int iStatus, const char *zType,
                             const char *zParam, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 5, 6)))
#endif
  ;

/* How the caller proved who they are. */
#define SSO_CALLER_MASTER  1      /* The master key */
#define SSO_CALLER_KEY     2      /* An API key */
#define SSO_CALLER_SESSION 3      /* A browser session (xSession below) */

typedef struct SsoCaller SsoCaller;
struct SsoCaller {
  int eKind;                /* SSO_CALLER_* */
  int eRole;                /* SSO_ROLE_*: the owner's role right now */
  const char *zUserId;      /* NULL: master key, or a key without owner */
  const char *zActor;       /* For the audit log: the user id,
                            ** "master_key", or "key:sk-...abcd" */
  SsoKey key;               /* The key used (eKind==SSO_CALLER_KEY) */
  SsoUser user;             /* Its owner, or the session's user */
};

/*
** The shared, read-only authentication settings. A later module plugs
** browser sessions in through xSession: called when the request carries
** none of the key headers, with the request's method ({0,0}: unknown)
** and the time (Unix ms); it returns SSOPROXY_OK with the signed-in
** user's id in *pzUserId (in pArena), SSOPROXY_NOTFOUND when there is no
** valid session, SSOPROXY_CONSTRAINT when there is one but a
** state-changing request (any method but GET, HEAD, OPTIONS; an unknown
** one too) fails its CSRF check (answered 403), or another code on
** failure.
*/
typedef int (*SsoAuthzSessionFn)(void *pArg, SsoStr method,
                                 const SsoHttpHeader *aHdr, int nHdr,
                                 SsoStore*, long long tNow, SsoArena*,
                                 const char **pzUserId);
typedef struct SsoAuthz SsoAuthz;
struct SsoAuthz {
  int bMaster;                          /* A master key is configured */
  unsigned char aMaster[SSO_SHA256_LEN];/* Its SHA-256 */
  SsoAuthzSessionFn xSession;           /* NULL: no browser sessions */
  void *pSessionArg;
};
/* zMasterKey NULL or "": no master key. */
SSO_PRIVATE void ssoAuthzInit(SsoAuthz*, const char *zMasterKey);

/*
** The credential of a request: SSOPROXY_OK and *pCred (a view into the
** header value), SSOPROXY_NOTFOUND when no credential header is present,
** or SSOPROXY_PARSE with *pErr set (401: an Authorization header that is
** not "Bearer", or an empty credential).
*/
SSO_PRIVATE int ssoAuthzCredential(const SsoHttpHeader *aHdr, int nHdr,
                                   SsoStr *pCred, SsoAuthzErr *pErr);

/*
** Authenticate a request. Returns SSOPROXY_OK with *pCaller filled
** (strings in pArena); SSOPROXY_ERROR with *pErr set (401: no, unknown,
** expired or blocked key, disabled owner, non-"sk-" bearer; 403: a
** browser session failing its CSRF check); or a store failure (_NOMEM,
** _DB: the caller answers 500). tNow: Unix ms. method is the request's
** (req->method): a browser session may make GET, HEAD and OPTIONS
** requests without an X-CSRF-Token, and any other, or an unknown (empty)
** method, only with it.
*/
SSO_PRIVATE int ssoAuthzAuthenticate(const SsoAuthz*, SsoStore*,
                                     SsoStr method,
                                     const SsoHttpHeader *aHdr, int nHdr,
                                     long long tNow, SsoArena*,
                                     SsoCaller *pCaller, SsoAuthzErr *pErr);

/*
** May pCaller do eAction to an object owned by zOwner (NULL: no owner)?
** For keys zKeyHash names the key, so a caller whose key has no owner
** can still act on that key itself where the scope is "own". 1 or 0.
*/
SSO_PRIVATE int ssoAuthzMayTouch(const SsoCaller*, int eAction,
                                 const char *zOwner, const char *zKeyHash);

/* ---- Key text helpers ---- */
#define SSO_KEY_PREFIX     "sk-"
#define SSO_KEY_RANDOM     32     /* Random bytes in a key: 256 bits */
#define SSO_KEY_HEX        65     /* SHA-256 lower hex + NUL */
#define SSO_KEY_DISPLAY    12     /* "sk-...abcd" + NUL */
#define SSO_KEY_TEXT       64     /* Room for a generated key + NUL */

/* SHA-256 of z[0..n) as lower hex into zHex[SSO_KEY_HEX]. */
SSO_PRIVATE void ssoAuthzKeyHash(const char *z, size_t n, char *zHex);
/* "sk-..." followed by the last 4 characters, into zOut[SSO_KEY_DISPLAY]. */
SSO_PRIVATE void ssoAuthzKeyDisplay(const char *z, size_t n, char *zOut);
/* A secret masked for a message: "****" and, for long values, the last
** four characters. zOut holds nOut bytes (at least 9). */
SSO_PRIVATE void ssoAuthzMask(const char *z, size_t n, char *zOut,
                              size_t nOut);
/* A new key "sk-" + base64url(32 random bytes) into zOut[SSO_KEY_TEXT]. */
SSO_PRIVATE int ssoAuthzKeyNew(SsoRng*, char *zOut);
/* Unix ms as RFC 3339 UTC "2025-01-31T12:00:00.000Z" into z[32]. */
SSO_PRIVATE void ssoAuthzTimeText(long long tMs, char *z);

#endif /* SSO_AUTHZ_H */
