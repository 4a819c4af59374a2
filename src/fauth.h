/*
** Layer 4: forward authentication for other web applications, under
** oauth2-proxy's endpoint names, so the nginx `auth_request`, Traefik
** `forwardAuth` and Caddy `forward_auth` configurations written for
** oauth2-proxy work against ssoproxy (docs/forward-auth.md):
**
**   GET  /oauth2/auth      202 + X-Auth-Request-* for a valid session or
**                          API key, 401 without, 403 when the query's
**                          allowed_groups / allowed_roles / allowed_emails
**                          / allowed_email_domains filters refuse it;
**                          with ?signin=1 a 302 to /oauth2/start (for
**                          Traefik and Caddy, which show the auth answer)
**   GET  /oauth2/start     start a sign-in that comes back to rd
**   GET|POST /oauth2/sign_out  end the browser session, go to rd (or /)
**   GET  /oauth2/userinfo  the caller's identity as JSON (session or key)
**
** /oauth2/auth is on the path of every request to the protected site, so
** it reads no body and makes one indexed store lookup (the key with its
** owner, or the session with its user).
*/
#ifndef SSO_FAUTH_H
#define SSO_FAUTH_H

/*
** Who the caller is, as forward-auth reports it. Views into an arena or
** static text; zEmail may be NULL; zGroups is "" when there are none.
*/
typedef struct SsoFauthId SsoFauthId;
struct SsoFauthId {
  int eKind;                /* SSO_CALLER_KEY, _MASTER or _SESSION */
  const char *zUser;        /* User id; for a key without owner its actor
                            ** ("key:sk-...abcd"), for the master key
                            ** "master_key" */
  const char *zEmail;       /* NULL: none */
  const char *zName;        /* Preferred username: display name, else zUser */
  const char *zRole;        /* "proxy_admin" ... */
  const char *zGroups;      /* Comma-joined; "" when none */
};

/*
** The groups of a session, from the JSON object the session was started
** with ({"groups":["a","b"],...}): comma-joined into *pzGroups (in
** pArena; "" when there are none, or zData is NULL or not such JSON).
** A group that could not travel in a comma-joined header value (empty,
** holding a comma or a control byte) is left out, and so is every group
** past SSO_FAUTH_MAX_GROUPS bytes in all. SSOPROXY_OK or _NOMEM.
*/
SSO_PRIVATE int ssoFauthGroups(const char *zData, SsoArena*,
                               const char **pzGroups);

/*
** The X-Auth-Request-* response fields for p: names and values into
** azName/azValue (room for SSO_FAUTH_NHEADER each); fields with no value
** are left out. Returns how many.
*/
#define SSO_FAUTH_NHEADER 5
SSO_PRIVATE int ssoFauthHeaders(const SsoFauthId *p,
                                const char *azName[SSO_FAUTH_NHEADER],
                                const char *azValue[SSO_FAUTH_NHEADER]);

/*
** The /oauth2/auth query filters: allowed_groups, allowed_roles,
** allowed_emails and allowed_email_domains, each a comma-separated list
** (a filter may be given more than once: the lists add up). Every filter
** present must match (a group, the role, the email without ASCII case,
** the email's domain without case); a filter whose lists name nothing
** matches no one, so a template that expands to an empty value fails
** closed. Other parameters are ignored. Sets *pbAllow; returns
** SSOPROXY_OK, _PARSE or _TOOBIG (a malformed query), _NOMEM.
*/
SSO_PRIVATE int ssoFauthAllowed(const SsoFauthId*, const char *zQuery,
                                size_t nQuery, SsoArena*, int *pbAllow);

/*
** Where a sign-in or sign-out goes afterwards: the "rd" query parameter,
** else the X-Auth-Request-Redirect request field (oauth2-proxy's name;
** nginx sets it to $request_uri), when it is a local path
** (ssoUrlIsLocalPath) outside /oauth2/; anything else (missing, another
** site, a bad escape, given twice, one of the /oauth2/ routes) gives
** NULL. The result is in pArena.
*/
SSO_PRIVATE const char *ssoFauthReturnTo(const char *zQuery, size_t nQuery,
                                         const SsoHttpHeader *aHdr, int nHdr,
                                         SsoArena*);

/*
** The /oauth2/userinfo answer: oauth2-proxy's {"user","email","groups",
** "preferredUsername"} plus LiteLLM's "user_id" and the "role", onto b.
*/
SSO_PRIVATE void ssoFauthUserinfo(const SsoFauthId*, SsoBuf *b);

/* Shared, read-only while serving; owned by the app. */
typedef struct SsoFauth SsoFauth;
struct SsoFauth {
  SsoApi *pApi;                 /* Key authentication, workers' stores */
  const SsoSessions *pSessions; /* NULL: no browser sessions */
  SsoOidc *pOidc;               /* NULL: SSO not configured (local login) */
};

/* Register the four /oauth2/ routes; p must outlive the server. */
SSO_PRIVATE int ssoFauthRegister(SsoServer*, SsoFauth *p);

#endif /* SSO_FAUTH_H */
