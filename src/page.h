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
** As ssoPageHeaders(), for a page whose form is answered by a redirect to
** another origin (logout to the IdP, a consent page sending the browser
** back to a native app): browsers check CSP form-action against every
** redirect that follows a form submission, so those targets must be
** listed. zFormAction (NULL: none) holds extra CSP source expressions
** after 'self', separated by spaces, e.g. "https://idp.example" or
** "vscode:". A value with ';', ',', quotes or control bytes would change
** the policy itself: it is refused with SSOPROXY_MISUSE.
*/
SSO_PRIVATE int ssoPageHeadersEx(SsoServerReq*, const char *zFormAction);

/*
** The whole HTML document for a title (plain text, escaped here) and
** zBodyHtml (already escaped), appended to b: for handlers that send
** their own status and headers (e.g. a Set-Cookie) with the page.
*/
SSO_PRIVATE void ssoPageBuild(SsoBuf *b, const char *zTitle,
                              const char *zBodyHtml);

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
