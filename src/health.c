/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the health endpoints that container orchestrators and load
** balancers poll. Same paths and bodies as LiteLLM (whose liveliness
** answer is the JSON string "I'm alive!"), so existing probes keep
** working. Readiness asks the app's database probe on the calling
** worker's own connection; nothing here touches SQL.
*/
#include "ssoInt.h"

static int answerJson(SsoServerReq *pReq, int iStatus, const char *z,
                      size_t n){
  int rc = ssoServerStatus(pReq, iStatus);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(pReq, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(pReq, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(pReq, z, n);
  return rc;
}

static int shuttingDown(SsoServerReq *pReq){
  static const char z[] = "{\"status\":\"shutting_down\"}";
  return answerJson(pReq, 503, z, sizeof(z)-1);
}

static int onLiveliness(SsoServerReq *pReq, void *pArg){
  static const char z[] = "\"I'm alive!\"";
  SSO_UNUSED(pArg);
  if( ssoServerDraining(pReq) ) return shuttingDown(pReq);
  return answerJson(pReq, 200, z, sizeof(z)-1);
}

static int onReadiness(SsoServerReq *pReq, void *pArg){
  const SsoHealth *h = pArg;
  char zReason[128], zSpace[256];
  SsoBuf b;
  int rc, bReady = 1;
  const char *zDb = "not configured";
  if( ssoServerDraining(pReq) ) return shuttingDown(pReq);
  if( h->xDbReady ){
    zReason[0] = 0;
    bReady = h->xDbReady(pReq->pWorkerCtx, h->pArg, zReason,
                         sizeof(zReason))==0;
    zReason[sizeof(zReason)-1] = 0;
    zDb = bReady ? "connected" : (zReason[0] ? zReason : "not connected");
  }
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 4096);
  ssoBufPrintf(&b, "{\"status\":\"%s\",\"db\":",
               bReady ? "healthy" : "unhealthy");
  ssoBufAppendJsonString(&b, zDb, strlen(zDb));
  if( bReady ){
    ssoBufAppendStr(&b, ",\"cache\":null,\"ssoproxy_version\":\""
                        SSOPROXY_VERSION "\"");
  }
  ssoBufAppendChar(&b, '}');
  rc = b.rc ? b.rc : answerJson(pReq, bReady ? 200 : 503, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoHealthRegister(SsoServer *pSrv, const SsoHealth *pHealth){
  void *pArg = (void*)(uintptr_t)pHealth;   /* handlers only read it */
  int rc = ssoServerRoute(pSrv, "GET", "/health/liveliness", onLiveliness, 0);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/health/liveness", onLiveliness, 0);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/health/readiness", onReadiness, pArg);
  }
  return rc;
}
