/*
** Layer 4: HTML pages. Every page ssoproxy serves (login, consent,
** errors) goes through here, so each one sends the same protective
** headers: no framing (X-Frame-Options: DENY and CSP frame-ancestors
** 'none'), no referrer, no caching (pages may carry codes, states or
** keys), nosniff. Text put into a page is HTML-escaped by the caller with
** ssoPageEscape().
*/
#ifndef SSO_PAGE_H
#define SSO_PAGE_H

/* HTML-escape z[0..n) (& < > " ') onto b. */
SSO_PRIVATE void ssoPageEscape(SsoBuf *b, const char *z, size_t n);

/*
** Add the protective headers of every page (after ssoServerStatus, before
** the body): for handlers that build their own answer, e.g. to add a
** Set-Cookie.
*/
SSO_PRIVATE int ssoPageHeaders(SsoServerReq*);

/*
** Answer with a whole page: iStatus, a title (plain text, escaped here)
** and zBodyHtml (HTML, already escaped by the caller), wrapped in the
** common shell, with ssoPageHeaders().
*/
SSO_PRIVATE int ssoPageRespond(SsoServerReq*, int iStatus,
                               const char *zTitle, const char *zBodyHtml);

/*
** An error page: iStatus, a title and one plain-text sentence saying what
** went wrong and what to do (escaped here). Never put secrets in it.
*/
SSO_PRIVATE int ssoPageError(SsoServerReq*, int iStatus, const char *zTitle,
                             const char *zMessage);

/* 302 (or iStatus: 303 after a POST) to zLocation, with no-store. */
SSO_PRIVATE int ssoPageRedirect(SsoServerReq*, int iStatus,
                                const char *zLocation);

#endif /* SSO_PAGE_H */
