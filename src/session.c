/*
** PLACEHOLDER, to be replaced by the session module's author: the
** smallest code that honours src/session.h, so that modules using it
** compile. It knows no sessions.
*/
#include "ssoInt.h"

SSO_PRIVATE void ssoSessionInit(SsoSessions *p, const char *zBaseUrl,
                                long long msIdle, long long msMax){
  memset(p, 0, sizeof(*p));
  p->bSecure = zBaseUrl && strncmp(zBaseUrl, "https:", 6)==0;
  p->zCookie = p->bSecure ? "__Host-ssoproxy_session" : "ssoproxy_session";
  p->msIdle = msIdle;
  p->msMax = msMax;
}
SSO_PRIVATE int ssoSessionGet(const SsoSessions *p, SsoStore *pStore,
                              const SsoHttpHeader *aHdr, int nHdr,
                              long long tNow, SsoArena *pArena,
                              SsoSession *pSess){
  SSO_UNUSED(p); SSO_UNUSED(pStore); SSO_UNUSED(aHdr); SSO_UNUSED(nHdr);
  SSO_UNUSED(tNow); SSO_UNUSED(pArena);
  memset(pSess, 0, sizeof(*pSess));
  return SSOPROXY_NOTFOUND;
}
SSO_PRIVATE int ssoSessionStart(const SsoSessions *p, SsoStore *pStore,
                                SsoRng *pRng, SsoServerReq *req,
                                const char *zUserId, const char *zIdToken,
                                const char *zData, long long tNow){
  SSO_UNUSED(p); SSO_UNUSED(pStore); SSO_UNUSED(pRng); SSO_UNUSED(req);
  SSO_UNUSED(zUserId); SSO_UNUSED(zIdToken); SSO_UNUSED(zData);
  SSO_UNUSED(tNow);
  return SSOPROXY_ERROR;
}
SSO_PRIVATE int ssoSessionEnd(const SsoSessions *p, SsoStore *pStore,
                              SsoServerReq *req){
  SSO_UNUSED(p); SSO_UNUSED(pStore); SSO_UNUSED(req);
  return SSOPROXY_OK;
}
SSO_PRIVATE int ssoSessionCsrfOk(const SsoSession *p, const char *z,
                                 size_t n){
  SSO_UNUSED(p); SSO_UNUSED(z); SSO_UNUSED(n);
  return 0;
}
