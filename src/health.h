/*
** Layer 4: health endpoints, LiteLLM-compatible.
**
**   GET /health/liveliness, /health/liveness  200 "I'm alive!"
**   GET /health/readiness                     200 {"status":"healthy",...}
**                                             503 {"status":"unhealthy",...}
** Both answer 503 {"status":"shutting_down"} once the server is stopping,
** so a load balancer stops sending traffic before the listener closes.
*/
#ifndef SSO_HEALTH_H
#define SSO_HEALTH_H

/*
** The readiness probe for the database, supplied by the app (the store
** is not this module's business). Called on a worker thread with that
** worker's context. Returns 0 when ready; otherwise non-zero, with a
** short reason (no secrets, no paths) written to zReason[nReason].
*/
typedef int (*SsoHealthDbReady)(void *pWorkerCtx, void *pArg,
                                char *zReason, size_t nReason);

/* What readiness checks; owned by the caller, must outlive the server. */
typedef struct SsoHealth SsoHealth;
struct SsoHealth {
  SsoHealthDbReady xDbReady;  /* NULL: "db":"not configured", healthy */
  void *pArg;                 /* Passed to xDbReady */
};

/*
** Register the health routes on pSrv, answering from *pHealth (which is
** not copied). Returns SSOPROXY_OK or what ssoServerRoute() returned.
*/
SSO_PRIVATE int ssoHealthRegister(SsoServer*, const SsoHealth *pHealth);

#endif /* SSO_HEALTH_H */
