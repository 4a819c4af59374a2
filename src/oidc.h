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
  const char *zScope;
  /* ... the identity, role, logout and session settings: the oidc
  ** module's author adds what the issue lists ... */
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

#endif /* SSO_OIDC_H */
