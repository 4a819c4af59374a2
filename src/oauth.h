/*
** Layer 4: API keys for IDE extensions, CLIs and headless machines. Four
** ways for a program to get a key for a signed-in user without copy and
** paste, all ending in an ordinary "sk-..." key of the store (issued_via
** ui, oauth, cli or device; metadata {"client","redirect_uri","flow"}),
** audit-logged, listed by /key/list and revocable:
**
**   1. LiteLLM PR #13227's wire format: GET /sso/key/generate?
**      response_type=oauth_token[&redirect_uri=...] (through the oidc
**      module's key-flow hook), answering a JSON token, or, with a
**      redirect_uri, a consent page and then a 302 carrying the key.
**   2. OpenRouter's PKCE flow, which Roo Code and Cline speak: GET /auth
**      and POST /api/v1/auth/keys.
**   3. OAuth 2.1 for native apps (RFC 8252, 7636, 8414, 7009): GET
**      /.well-known/oauth-authorization-server, GET /oauth/authorize,
**      POST /oauth/token, POST /oauth/revoke.
**   4. The device authorization grant (RFC 8628): POST
**      /oauth/device_authorization, GET/POST /device, and the device-code
**      grant of /oauth/token.
**
** A key never goes to a destination the operator has not allowed (see
** ssoOauthRedirectCheck) and never without the user's approval on a
** consent page (POST /oauth/consent with the session's CSRF token). Every
** pending state (consents, codes, device codes) is a single-use grant of
** the store, named by the SHA-256 of its secret.
**
** ssoOauthLoginCommand() is the client side: `ssoproxy login`.
*/
#ifndef SSO_OAUTH_H
#define SSO_OAUTH_H

typedef struct SsoOauth SsoOauth;

/* The settings, as the app read them; strings are copied by ssoOauthNew. */
typedef struct SsoOauthConfig SsoOauthConfig;
struct SsoOauthConfig {
  const char *zBaseUrl;       /* PROXY_BASE_URL; NULL: from the Host header */
  const char *zSchemes;       /* OAUTH_ALLOWED_REDIRECT_SCHEMES, comma list */
  const char *zUris;          /* SSOPROXY_ALLOWED_REDIRECT_URIS, comma list */
  const char *zOrigins;       /* OAUTH_ALLOWED_ORIGINS, comma list */
  long long sKeyTtl;          /* Lifetime of a key from these flows, s */
  long long sCodeTtl;         /* Authorization codes, s */
  long long sStateTtl;        /* Pending consents, s */
  long long sDeviceTtl;       /* Device codes, s */
  int sInterval;              /* Device polling interval, s */
  int bCodeOnly;              /* /api/v1/auth/keys without PKCE allowed
                              ** for codes whose /auth had no challenge */
  int bKeyShortcut;           /* Bearer sk-... mints a key (seed flow) */
  const SsoSessions *pSessions;  /* Browser sessions (shared, read-only) */
  SsoLog *pLog;
};

/*
** Check the settings (each allowed scheme and URI) and make the object.
** SSOPROXY_CONFIG with one line in zErr for the first bad setting.
*/
SSO_PRIVATE int ssoOauthNew(const SsoOauthConfig*, SsoOauth **pp,
                            char *zErr, size_t nErr);
SSO_PRIVATE void ssoOauthFree(SsoOauth*);               /* NULL is a no-op */
/*
** Register the routes on pSrv. With pOidc the seed flow is reached
** through ssoOidcSetKeyFlow(); without one (no SSO configured, local
** sign-in only) this module serves GET /sso/key/generate itself.
*/
SSO_PRIVATE int ssoOauthRegister(SsoServer*, SsoOauth*, SsoOidc *pOidc);
/* The key-flow hook: GET /sso/key/generate?response_type=... */
SSO_PRIVATE int ssoOauthKeyFlow(SsoServerReq*, void *pOauth);

/* ---- Pure helpers, also used by the tests and fuzz targets ---- */

/* What kind of destination an accepted redirect URI is. */
#define SSO_OAUTH_DEST_LOOPBACK 1   /* http://127.x.x.x or [::1], any port */
#define SSO_OAUTH_DEST_SCHEME   2   /* An allowed custom (IDE) scheme */
#define SSO_OAUTH_DEST_LISTED   3   /* Exactly in SSOPROXY_ALLOWED_REDIRECT_URIS */

/*
** May a key (or a code) be sent to the redirect URI z[0..n)? Returns a
** SSO_OAUTH_DEST_* kind, or 0 with the reason in zWhy (one sentence, no
** secrets). zSchemes and zUris are the two allow-list settings (NULL:
** empty). Refused: empty or over SSO_OAUTH_MAX_REDIRECT bytes, anything
** ssoUrlParse refuses (control bytes, CR/LF, spaces, non-ASCII...), a
** fragment, user-info, javascript:/data:/file: and every scheme not
** allowed, http to anything but a loopback IP literal, https not listed
** exactly, and IDE schemes without an authority and a path.
*/
SSO_PRIVATE int ssoOauthRedirectCheck(const char *zSchemes,
                                      const char *zUris, const char *z,
                                      size_t n, char *zWhy, size_t nWhy);

/* 1 if z[0..n) is an entry of the comma list zList (spaces trimmed). */
SSO_PRIVATE int ssoOauthListHas(const char *zList, const char *z, size_t n);

/*
** CORS: 1 if the Origin z[0..n) may read answers (listed exactly in
** zOrigins, or the list holds "*"), else 0.
*/
SSO_PRIVATE int ssoOauthCorsAllowed(const char *zOrigins, const char *z,
                                    size_t n);

/* PKCE (RFC 7636 §4.2): base64url(SHA-256(verifier)), 43 chars + NUL. */
#define SSO_OAUTH_CHALLENGE_LEN 43
SSO_PRIVATE int ssoOauthS256(const char *zVerifier, size_t n,
                             char zOut[SSO_OAUTH_CHALLENGE_LEN+1]);
/* A verifier: 43..128 unreserved characters (RFC 7636 §4.1). 1 or 0. */
SSO_PRIVATE int ssoOauthVerifierOk(const char *z, size_t n);
/* An S256 challenge: exactly 43 base64url characters. 1 or 0. */
SSO_PRIVATE int ssoOauthChallengeOk(const char *z, size_t n);

/*
** Device user codes (RFC 8628 §6.1): 8 letters from
** SSO_OAUTH_USER_ALPHABET (no vowels, no look-alikes), shown XXXX-XXXX.
** New writes zOut[10]; Normalize accepts any case, '-' and spaces and
** writes the 8 letters to zOut[9], or returns SSOPROXY_PARSE.
*/
#define SSO_OAUTH_USER_ALPHABET "BCDFGHJKLMNPQRSTVWXZ"
SSO_PRIVATE int ssoOauthUserCodeNew(SsoRng*, char zOut[10]);
SSO_PRIVATE int ssoOauthUserCodeNormalize(const char *z, size_t n,
                                          char zOut[9]);

/* A new secret: base64url of 32 random bytes (43 chars, [A-Za-z0-9_-]). */
#define SSO_OAUTH_SECRET_LEN 43
SSO_PRIVATE int ssoOauthSecretNew(SsoRng*, char zOut[SSO_OAUTH_SECRET_LEN+1]);

/* ---- The client: `ssoproxy login` ---- */
typedef struct SsoOauthLoginArgs SsoOauthLoginArgs;
struct SsoOauthLoginArgs {
  const char *zBaseUrl;     /* The ssoproxy to get a key from */
  int bDevice;              /* Device flow instead of a loopback redirect */
  const char *zOutput;      /* Write the key here (new file, 0600); NULL:
                            ** print it on stdout */
  int bNoBrowser;           /* Only print the URL */
  const char *zCaFile;      /* SSOPROXY_CA_FILE; NULL: the system's */
  int bInsecure;            /* SSOPROXY_TLS_INSECURE */
  int sTimeout;             /* Give up after this many seconds */
};
/* Run the login; returns an exit status (0, 1 failure, 2 usage). */
SSO_PRIVATE int ssoOauthLoginCommand(const SsoOauthLoginArgs*);

#endif /* SSO_OAUTH_H */
