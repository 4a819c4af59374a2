/*
** PLACEHOLDER, to be replaced by the oidc module's author: the smallest
** code that honours src/oidc.h, so that modules using it compile. SSO is
** never configured here.
*/
#include "ssoInt.h"

SSO_PRIVATE int ssoOidcNew(const SsoOidcConfig *pCfg,
                           const SsoSessions *pSessions, SsoOidc **pp,
                           char *zErr, size_t nErr){
  SSO_UNUSED(pCfg); SSO_UNUSED(pSessions); SSO_UNUSED(zErr);
  SSO_UNUSED(nErr);
  *pp = 0;
  return SSOPROXY_OK;
}
SSO_PRIVATE void ssoOidcFree(SsoOidc *p){ SSO_UNUSED(p); }
SSO_PRIVATE int ssoOidcRegister(SsoServer *pSrv, SsoOidc *p){
  SSO_UNUSED(pSrv); SSO_UNUSED(p);
  return SSOPROXY_OK;
}
SSO_PRIVATE int ssoOidcLogin(SsoOidc *p, SsoServerReq *req,
                             const char *zReturnTo){
  SSO_UNUSED(p); SSO_UNUSED(zReturnTo);
  return ssoServerError(req, 501, "single sign-on is not configured");
}
SSO_PRIVATE int ssoOidcLogoutUrl(SsoOidc *p, const char *zIdToken,
                                 SsoBuf *b){
  SSO_UNUSED(p); SSO_UNUSED(zIdToken); SSO_UNUSED(b);
  return 0;
}
SSO_PRIVATE void ssoOidcSetKeyFlow(SsoOidc *p, SsoOidcKeyFlowFn xFlow,
                                   void *pArg){
  SSO_UNUSED(p); SSO_UNUSED(xFlow); SSO_UNUSED(pArg);
}
