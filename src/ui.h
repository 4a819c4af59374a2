/*
** Layer 4: the web sign-in and the pages around it, until the dashboard
** comes:
**
**   GET  /ui, /ui/          who you are (signed in), else the sign-in page
**   GET  /login?rd=PATH     the sign-in page, back to PATH afterwards
**                           (straight to the IdP with
**                           AUTO_REDIRECT_UI_LOGIN_TO_SSO=true)
**   GET  /fallback/login    the sign-in page, never redirected
**   POST /login             username + password (UI_USERNAME/UI_PASSWORD,
**                           or the master key as the password)
**   GET  /logout            a confirmation form
**   POST /logout            end the session, then the IdP's logout or /ui
**   GET  /.well-known/litellm-ui-config (and under /litellm/) LiteLLM's
**                           discovery document for its UI
**
** Other modules send a browser that must sign in to /login?rd=<local
** path, URL-encoded>.
*/
#ifndef SSO_UI_H
#define SSO_UI_H

typedef struct SsoUi SsoUi;

/* The settings, as the app read them. Strings are copied by ssoUiNew(). */
typedef struct SsoUiConfig SsoUiConfig;
struct SsoUiConfig {
  const SsoSessions *pSessions;  /* Must outlive the SsoUi */
  SsoOidc *pOidc;           /* NULL: single sign-on is not configured */
  int bAutoRedirect;        /* AUTO_REDIRECT_UI_LOGIN_TO_SSO */
  const char *zBaseUrl;     /* PROXY_BASE_URL; NULL: unset */
  const char *zUsername;    /* UI_USERNAME */
  const char *zPassword;    /* UI_PASSWORD; NULL: unset */
  const char *zMasterKey;   /* The master key; NULL: none */
  int nMaxFailures;         /* Wrong passwords per client per minute */
  SsoLog *pLog;             /* Sign-ins and refusals; NULL: none */
};

/*
** Make the pages' object. SSOPROXY_CONFIG with one line in zErr for a bad
** setting; SSOPROXY_NOMEM. *pp is NULL on failure.
*/
SSO_PRIVATE int ssoUiNew(const SsoUiConfig*, SsoUi **pp, char *zErr,
                         size_t nErr);
SSO_PRIVATE void ssoUiFree(SsoUi*);                     /* NULL is a no-op */
/* Add the routes above to pSrv; the SsoUi must outlive the server. */
SSO_PRIVATE int ssoUiRegister(SsoServer*, SsoUi*);

/*
** The password sign-in's decision, without HTTP: 1 if zUser/zPass (either
** may be NULL) are UI_USERNAME and UI_PASSWORD or the master key, in time
** that does not depend on where they differ. *pbMaster (may be NULL) is
** set when the master key was the password.
*/
SSO_PRIVATE int ssoUiPasswordOk(const SsoUi*, const char *zUser,
                                const char *zPass, int *pbMaster);

/*
** The failed-sign-in limiter, per client address ("ip:port" or
** "[v6]:port"; the port is ignored): ssoUiLimited() gives 0 while the
** address may try, else the seconds until it may again; ssoUiFailed()
** counts one failure; ssoUiSucceeded() forgets the address. Shared by
** all workers (a mutex).
*/
SSO_PRIVATE int ssoUiLimited(SsoUi*, const char *zClient, long long tNow);
SSO_PRIVATE void ssoUiFailed(SsoUi*, const char *zClient, long long tNow);
SSO_PRIVATE void ssoUiSucceeded(SsoUi*, const char *zClient);

#endif /* SSO_UI_H */
