/*
** PLACEHOLDER, to be replaced by the page module's author: the smallest
** code that honours src/page.h, so that modules using it compile.
*/
#include "ssoInt.h"

SSO_PRIVATE void ssoPageEscape(SsoBuf *b, const char *z, size_t n){
  ssoBufAppend(b, z, n);
}
SSO_PRIVATE int ssoPageHeaders(SsoServerReq *req){
  return ssoServerAddHeader(req, "X-Frame-Options", "DENY");
}
SSO_PRIVATE int ssoPageRespond(SsoServerReq *req, int iStatus,
                               const char *zTitle, const char *zBodyHtml){
  SSO_UNUSED(zTitle);
  return ssoServerRespond(req, iStatus, "text/html", zBodyHtml,
                          strlen(zBodyHtml));
}
SSO_PRIVATE int ssoPageError(SsoServerReq *req, int iStatus,
                             const char *zTitle, const char *zMessage){
  SSO_UNUSED(zTitle);
  return ssoServerRespond(req, iStatus, "text/plain", zMessage,
                          strlen(zMessage));
}
SSO_PRIVATE int ssoPageRedirect(SsoServerReq *req, int iStatus,
                                const char *zLocation){
  int rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", zLocation);
  return rc ? rc : ssoServerBody(req, "", 0);
}
