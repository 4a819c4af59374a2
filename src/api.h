/*
** Layer 4: the management API, LiteLLM-compatible:
**
**   POST /key/generate  GET /key/info  POST /key/update  POST /key/delete
**   GET /key/list  POST /key/block  POST /key/unblock
**   POST /user/new  POST /user/update  GET /user/info  GET /user/list
**   POST /user/delete  GET /audit/list
**
** Each request is authenticated by src/authz.c, checked against its
** permission matrix, and (when it changes anything) done in one store
** transaction together with its audit rows. Errors use LiteLLM's envelope
** {"error":{"message","type","param","code":"<status>"}}.
**
** The row operations at the end (ssoApiKeyInsert ...) write one change and
** its audit entry; the admin CLI uses them too, so a change made from the
** command line is audited exactly like one made over HTTP. They run inside
** the caller's transaction (ssoStoreBegin/Commit).
*/
#ifndef SSO_API_H
#define SSO_API_H

typedef struct SsoApi SsoApi;
typedef struct SsoApiWorker SsoApiWorker;

/* What one route of the server hands its handler. */
typedef struct SsoApiRoute SsoApiRoute;
struct SsoApiRoute {
  SsoApi *pApi;
  int eAction;              /* SSO_ACT_* */
};

/* Shared by every worker; read-only while serving. Owned by the app. */
struct SsoApi {
  SsoAuthz authz;           /* Master key, session hook */
  SsoLog *pLog;             /* Warnings and internal errors; NULL: none */
  const SsoClientConfig *pClientCfg;  /* Template of each worker's outbound
                            ** client (ssoApiWorkerClient); NULL: none */
  SsoApiRoute aRoute[SSO_ACT_COUNT];
};

/* zMasterKey: NULL or "" for none (not kept: only its hash is). */
SSO_PRIVATE void ssoApiInit(SsoApi*, const char *zMasterKey, SsoLog*);
/* Register every route on pSrv; pApi must outlive the server. */
SSO_PRIVATE int ssoApiRegister(SsoServer*, SsoApi*);

/*
** The per-worker context (the server's pWorkerCtx): that worker's store,
** its random generator, and its batch of last-used times, which a timer
** writes once a second (SSO_API_TOUCH_MS) in one transaction instead of
** one write per request. ssoApiWorkerNew() takes ownership of pStore
** (closing it on failure too). ssoApiWorkerFree() writes what is pending,
** stops the timer (the loop must still exist) and closes the store.
*/
SSO_PRIVATE int ssoApiWorkerNew(SsoApi*, SsoStore *pStore,
                                SsoApiWorker **ppW);
SSO_PRIVATE void ssoApiWorkerFree(SsoApiWorker*);       /* NULL is a no-op */
SSO_PRIVATE SsoStore *ssoApiWorkerStore(const SsoApiWorker*);
/* The worker's random generator (keys, session ids, states...). */
SSO_PRIVATE SsoRng *ssoApiWorkerRng(const SsoApiWorker*);
/*
** The worker's one outbound HTTP client (IdP, upstreams), created on
** first use on pLoop (the worker's loop, req->pLoop) from
** SsoApi.pClientCfg, freed with the worker. Returns SSOPROXY_OK with
** *ppCli set, _MISUSE when no client configuration was given, _NOMEM.
*/
SSO_PRIVATE int ssoApiWorkerClient(SsoApiWorker*, SsoLoop *pLoop,
                                   SsoClient **ppCli);
/* Note that key zHash was used at tAt (Unix ms); pLoop (may be NULL: no
** timer) is the worker's loop, on which the flush timer is armed. */
SSO_PRIVATE void ssoApiWorkerTouch(SsoApiWorker*, SsoLoop *pLoop,
                                   const char *zHash, long long tAt);
/* Write the pending last-used times now. */
SSO_PRIVATE int ssoApiWorkerFlush(SsoApiWorker*);

/*
** One management request, independent of the connection it came on (the
** route handlers fill it from the SsoServerReq; tests call it directly).
*/
typedef struct SsoApiCall SsoApiCall;
struct SsoApiCall {
  int eAction;                  /* SSO_ACT_* */
  SsoStr method;                /* "GET", "POST"...; {0,0}: unknown, which
                                ** a browser session treats as changing
                                ** state (CSRF token required) */
  const SsoHttpHeader *aHdr;    /* Request headers */
  int nHdr;
  SsoStr query;                 /* After '?', undecoded */
  const char *pBody;            /* JSON body of a POST; NULL: none */
  size_t nBody;
  SsoLoop *pLoop;               /* The worker's loop; NULL: no timer */
};
/*
** Answer pCall into pOut (a JSON document) with the HTTP status in
** *piStatus. Returns SSOPROXY_OK when pOut holds the answer (errors
** included); anything else (out of memory building the answer) means
** nothing sensible could be produced: the caller answers 500.
*/
SSO_PRIVATE int ssoApiServe(SsoApi*, SsoApiWorker*, const SsoApiCall*,
                            SsoBuf *pOut, int *piStatus);

/* ---- Row operations with their audit entries ---- */

/* Where a new key's texts live: the plaintext is shown once, then wiped. */
typedef struct SsoApiNewKey SsoApiNewKey;
struct SsoApiNewKey {
  char zKey[SSO_KEY_TEXT];      /* "sk-" + 43 base64url characters */
  char zHash[SSO_KEY_HEX];
  char zDisplay[SSO_KEY_DISPLAY];
};
/*
** Generate a key, point pKey->zHash and zDisplay at pNew, fill tCreated
** (and zIssuedVia "api" if NULL), insert it and audit "create" as zActor.
*/
SSO_PRIVATE int ssoApiKeyInsert(SsoStore*, SsoRng*, const char *zActor,
                                SsoKey *pKey, SsoApiNewKey *pNew);
/* Write pNew over the key pOld->zHash; audit "update" (before, after). */
SSO_PRIVATE int ssoApiKeySave(SsoStore*, const char *zActor,
                              const SsoKey *pOld, const SsoKey *pNew);
SSO_PRIVATE int ssoApiKeyDrop(SsoStore*, const char *zActor,
                              const SsoKey *pOld);
/* Fills pUser->tCreated and tUpdated when 0. */
SSO_PRIVATE int ssoApiUserInsert(SsoStore*, const char *zActor,
                                 SsoUser *pUser);
/* Audit action "role_change" when the role differs, else "update". */
SSO_PRIVATE int ssoApiUserSave(SsoStore*, const char *zActor,
                               const SsoUser *pOld, const SsoUser *pNew);
/* Delete the user and every key they own, auditing each; *pnKey (may be
** NULL) is the number of keys deleted. */
SSO_PRIVATE int ssoApiUserDrop(SsoStore*, const char *zActor,
                               const SsoUser *pOld, int *pnKey);

/* A row as the API shows it (never a plaintext key). */
SSO_PRIVATE void ssoApiWriteKey(SsoJsonWriter*, const SsoKey*);
SSO_PRIVATE void ssoApiWriteUser(SsoJsonWriter*, const SsoUser*);
/*
** A key lifetime as LiteLLM writes it: digits and a unit, s m h hr d w mo
** y ("30s", "24h", "30d"). SSOPROXY_OK and *pMs, or SSOPROXY_PARSE.
*/
SSO_PRIVATE int ssoApiDuration(const char *z, long long *pMs);

#endif /* SSO_API_H */
