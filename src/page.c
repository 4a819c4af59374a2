/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: HTML pages. Every page ssoproxy serves (sign-in, consent,
** errors) is built here, so every one of them carries the same
** protective headers:
**
**   X-Frame-Options: DENY and CSP frame-ancestors 'none'
**       no framing, so no clickjacking of a consent or logout button
**       (RFC 9700 §4.16);
**   Content-Security-Policy: default-src 'none'
**       the pages load nothing and run no script: an injection that
**       slipped past the escaping could neither run code nor fetch;
**       style-src 'unsafe-inline' allows the one inline <style>;
**       form-action 'self' so a form posts only to us; base-uri 'none';
**   Referrer-Policy: no-referrer
**       a page's URL may hold a state or a code; it never leaks onward
**       (RFC 9700 §4.2.4);
**   Cache-Control: no-store
**       pages may carry codes, CSRF tokens or keys;
**   X-Content-Type-Options: nosniff.
**
** The shell is plain, accessible HTML (a language, a viewport, one main
** landmark, visible focus, high contrast) with no external resource.
*/
#include "ssoInt.h"

SSO_PRIVATE void ssoPageEscape(SsoBuf *b, const char *z, size_t n){
  size_t i, iStart = 0;
  for(i=0; i<n; i++){
    const char *zRep;
    switch( z[i] ){
      case '&':  zRep = "&amp;";  break;
      case '<':  zRep = "&lt;";   break;
      case '>':  zRep = "&gt;";   break;
      case '"':  zRep = "&quot;"; break;
      case '\'': zRep = "&#39;";  break;
      /* A NUL would end the text in some parsers and is a parse error in
      ** HTML; show the replacement character instead. */
      case 0:    zRep = "&#xFFFD;"; break;
      default:   continue;
    }
    ssoBufAppend(b, z+iStart, i-iStart);
    ssoBufAppendStr(b, zRep);
    iStart = i+1;
  }
  ssoBufAppend(b, z+iStart, n-iStart);
}

#define PAGE_CSP_HEAD "default-src 'none'; style-src 'unsafe-inline'; " \
                      "form-action 'self'"
#define PAGE_CSP_TAIL "; frame-ancestors 'none'; base-uri 'none'"

/* 1 if z may be appended to form-action: source expressions only. */
static int pageCspSourcesOk(const char *z){
  for(; *z; z++){
    unsigned char c = (unsigned char)*z;
    if( c<0x21 && c!=' ' ) return 0;
    if( c>=0x7f || c==';' || c==',' || c=='\'' || c=='"' ) return 0;
  }
  return 1;
}

SSO_PRIVATE int ssoPageHeadersEx(SsoServerReq *req, const char *zFormAction){
  static const char *const azHdr[] = {
    "Content-Type", "text/html; charset=utf-8",
    "X-Frame-Options", "DENY",
    "Referrer-Policy", "no-referrer",
    "Cache-Control", "no-store",
    "X-Content-Type-Options", "nosniff",
  };
  char zSpace[512];
  SsoBuf b;
  size_t i;
  int rc = SSOPROXY_OK;
  if( zFormAction && !pageCspSourcesOk(zFormAction) ) return SSOPROXY_MISUSE;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(azHdr); i+=2){
    rc = ssoServerAddHeader(req, azHdr[i], azHdr[i+1]);
  }
  if( rc ) return rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoBufAppendStr(&b, PAGE_CSP_HEAD);
  if( zFormAction && zFormAction[0] ){
    ssoBufAppend(&b, " ", 1);
    ssoBufAppendStr(&b, zFormAction);
  }
  ssoBufAppendStr(&b, PAGE_CSP_TAIL);
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Security-Policy", ssoBufStr(&b));
  }
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoPageHeaders(SsoServerReq *req){
  return ssoPageHeadersEx(req, 0);
}

/*
** The style sheet: system fonts, a narrow centred column, strong
** contrast (WCAG AA), a visible focus ring, and dark mode.
*/
static const char zPageCss[] =
  ":root{color-scheme:light dark;--fg:#1a1a1a;--bg:#f6f6f4;--card:#fff;"
  "--line:#c8c8c8;--accent:#0b57d0;--accent-fg:#fff;--muted:#555;"
  "--bad:#a50e0e}"
  "@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#16181c;"
  "--card:#22252b;--line:#4a4f57;--accent:#8ab4f8;--accent-fg:#0b1a33;"
  "--muted:#b8b8b8;--bad:#f28b82}}"
  "*{box-sizing:border-box}"
  "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',"
  "Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
  "main{max-width:28rem;margin:3rem auto;padding:2rem;"
  "background:var(--card);border:1px solid var(--line);border-radius:8px}"
  "h1{font-size:1.4rem;margin:0 0 1rem}"
  "p{margin:.75rem 0}"
  "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"
  "input[type=text],input[type=password]{width:100%;padding:.5rem;"
  "font:inherit;color:inherit;background:var(--bg);"
  "border:1px solid var(--line);border-radius:4px}"
  "button,.button{display:inline-block;margin-top:1rem;padding:.55rem 1.1rem;"
  "font:inherit;font-weight:600;text-decoration:none;cursor:pointer;"
  "color:var(--accent-fg);background:var(--accent);border:0;"
  "border-radius:4px}"
  ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
  "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}"
  "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
  ".muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}"
  "hr{border:0;border-top:1px solid var(--line);margin:1.5rem 0}"
  "footer{margin-top:1.5rem;font-size:.85rem;color:var(--muted)}";

SSO_PRIVATE void ssoPageBuild(SsoBuf *b, const char *zTitle,
                              const char *zBodyHtml){
  ssoBufAppendStr(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                  "<meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">"
                  "<meta name=\"referrer\" content=\"no-referrer\">"
                  "<title>");
  ssoPageEscape(b, zTitle, strlen(zTitle));
  ssoBufAppendStr(b, " - ssoproxy</title><style>");
  ssoBufAppendStr(b, zPageCss);
  ssoBufAppendStr(b, "</style></head>\n<body><main>\n<h1>");
  ssoPageEscape(b, zTitle, strlen(zTitle));
  ssoBufAppendStr(b, "</h1>\n");
  ssoBufAppendStr(b, zBodyHtml);
  ssoBufAppendStr(b, "\n<footer>ssoproxy</footer>\n</main></body></html>\n");
}

SSO_PRIVATE int ssoPageRespond(SsoServerReq *req, int iStatus,
                               const char *zTitle, const char *zBodyHtml){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoPageBuild(&b, zTitle, zBodyHtml);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoPageError(SsoServerReq *req, int iStatus,
                             const char *zTitle, const char *zMessage){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "<p class=\"error\" role=\"alert\">");
  ssoPageEscape(&b, zMessage, strlen(zMessage));
  ssoBufAppendStr(&b, "</p>\n<p><a href=\"/ui\">Back to the start page"
                  "</a></p>");
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoPageRespond(req, iStatus, zTitle,
                                            ssoBufStr(&b));
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoPageRedirect(SsoServerReq *req, int iStatus,
                                const char *zLocation){
  int rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", zLocation);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  return rc ? rc : ssoServerBody(req, "", 0);
}
