/*
** Layer 4: the OpenID Connect relying party: LiteLLM's GENERIC_* settings,
** discovery and JWKS (cached), the login redirect (state, nonce, PKCE
** S256, bound to the browser, single use), the callback (code exchange,
** id_token validation, userinfo), the user's identity and role, and the
** session that follows.
**
** Routes: GET /sso/key/generate (start a login; with response_type the
** key hand-off of the IDE flows takes over, see ssoOidcSetKeyFlow), GET
** /sso/callback.
*/
#ifndef SSO_OIDC_H
#define SSO_OIDC_H

typedef struct SsoOidc SsoOidc;

/*
** The settings, as the app read them (NULL: unset). Strings are copied by
** ssoOidcNew().
*/
typedef struct SsoOidcConfig SsoOidcConfig;
struct SsoOidcConfig {
  const char *zBaseUrl;     /* PROXY_BASE_URL */
  const char *zClientId, *zClientSecret;
  const char *zIssuer, *zAuthorizationEndpoint, *zTokenEndpoint;
  const char *zUserinfoEndpoint, *zJwksEndpoint;
  const char *zScope;       /* NULL: "openid email profile" */
  /* Claims (dot-paths into the merged userinfo + id_token claims); NULL:
  ** LiteLLM's defaults (preferred_username, email, sub, first_name,
  ** last_name, role) */
  const char *zIdAttr, *zEmailAttr, *zNameAttr, *zFirstNameAttr;
  const char *zLastNameAttr, *zRoleAttr;
  int bIncludeClientId;     /* GENERIC_INCLUDE_CLIENT_ID: client_id in the
                            ** token request body as well */
  int bClientSecretPost;    /* SSOPROXY_CLIENT_AUTH_METHOD=client_secret_post */
  const char *zSsoHeaders;  /* GENERIC_SSO_HEADERS: "Name=Value,..." */
  const char *zRoleMappings;/* GENERIC_ROLE_MAPPINGS_ROLES (JSON) */
  const char *zGroupClaim;  /* GENERIC_ROLE_MAPPINGS_GROUP_CLAIM */
  const char *zDefaultRole; /* GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE */
  const char *zLogoutUrl;   /* PROXY_LOGOUT_URL */
  int bAutoRedirect;        /* AUTO_REDIRECT_UI_LOGIN_TO_SSO */
  const char *zEmailDomains;/* ALLOWED_EMAIL_DOMAINS (comma list) */
  const char *zAdminId;     /* PROXY_ADMIN_ID */
  int bRoleFirstLogin;      /* SSOPROXY_ROLE_SYNC=first_login */
  int nStateTtl;            /* SSOPROXY_LOGIN_STATE_TTL, seconds; 0: 300 */
  int msIdpTimeout;         /* SSOPROXY_IDP_TIMEOUT_MS; 0: SSO_OIDC_CALL_MS */
  SsoLog *pLog;
};

/*
** Validate the settings and make the relying party. SSOPROXY_OK with *pp
** NULL when SSO is not configured at all (no GENERIC_CLIENT_ID);
** SSOPROXY_CONFIG with one line in zErr for each missing or
** contradictory setting (the first one found).
*/
SSO_PRIVATE int ssoOidcNew(const SsoOidcConfig*, const SsoSessions*,
                           SsoOidc **pp, char *zErr, size_t nErr);
SSO_PRIVATE void ssoOidcFree(SsoOidc*);                 /* NULL is a no-op */
/* Add /sso/key/generate and /sso/callback to pSrv. */
SSO_PRIVATE int ssoOidcRegister(SsoServer*, SsoOidc*);

/*
** Answer req by sending the browser to the IdP; once signed in it comes
** back to zReturnTo, a local path (ssoUrlIsLocalPath; anything else means
** "/ui"). This is how other modules (/login, /oauth2/start, the OAuth
** flows) start a sign-in.
*/
SSO_PRIVATE int ssoOidcLogin(SsoOidc*, SsoServerReq*, const char *zReturnTo);

/*
** Where a browser goes after ssoproxy's own logout: PROXY_LOGOUT_URL if
** set, else the IdP's end_session_endpoint (from discovery) with
** id_token_hint=zIdToken (may be NULL) and post_logout_redirect_uri;
** appended to b. Returns 1 if a URL was appended, 0 if there is none
** (the caller then goes to its own page).
*/
SSO_PRIVATE int ssoOidcLogoutUrl(SsoOidc*, const char *zIdToken, SsoBuf *b);

/*
** The IDE/CLI key hand-off plugs in here: GET /sso/key/generate with a
** response_type parameter is handed to xFlow (which answers the request),
** or refused with 400 while none is set.
*/
typedef int (*SsoOidcKeyFlowFn)(SsoServerReq*, void *pArg);
SSO_PRIVATE void ssoOidcSetKeyFlow(SsoOidc*, SsoOidcKeyFlowFn, void *pArg);

/* AUTO_REDIRECT_UI_LOGIN_TO_SSO, for the /ui page (0 when p is NULL). */
SSO_PRIVATE int ssoOidcAutoRedirect(const SsoOidc*);
/* 1 when the id_token signature rests on the TLS back channel alone (no
** GENERIC_ISSUER, no GENERIC_JWKS_ENDPOINT): the app logs a warning. */
SSO_PRIVATE int ssoOidcBackChannelOnly(const SsoOidc*);

#endif /* SSO_OIDC_H */
