/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the ssoproxy object, which owns everything a running gateway
** has: its own copy of the configuration, the log, the database (opened
** and migrated here, at start, so a bad file fails before any socket is
** bound), and the server with its worker loops. ssoproxy_open() does all
** the work that can fail; ssoproxy_run() only serves.
**
** Each worker thread opens its own store connection (SQLite in WAL mode
** lets them read in parallel); the one opened here migrates the schema
** and stays open for the life of the server.
**
** TLS is set up first, before the database is touched: a certificate
** that does not load is a configuration error (exit status 2). The
** server configuration (SSOPROXY_TLS_CERT/KEY) plugs into the server's
** transport hook; the client one (trusted CAs, or the loud insecure
** switch) and clientCfg are what each worker's outbound SsoClient is made
** from, shared read-only by all workers.
*/
#include "ssoInt.h"

struct ssoproxy {
  ssoproxy_config *pCfg;    /* Own copy of the configuration */
  SsoLog log;               /* Where log lines go (stderr) */
  SsoStore *pStore;         /* Opened and migrated at start */
  SsoServer *pServer;       /* Listeners, worker loops */
  SsoHealth health;         /* What /health/readiness checks */
  SsoTls *pTlsServer;       /* HTTPS listener, or NULL for plain http */
  SsoTls *pTlsClient;       /* Outbound verification (CAs) */
  SsoClientConfig clientCfg;/* Template of the workers' outbound clients */
  SsoApi api;               /* The management API (/key/..., /user/...) */
  SsoSessions sessions;     /* Browser sessions: cookie and lifetimes */
  SsoOidc *pOidc;           /* Single sign-on, or NULL when not configured */
  SsoUi *pUi;               /* /ui, /login, /logout */
  SsoProxy *pProxy;         /* The /v1 routes and their upstreams */
  SsoFauth fauth;           /* Forward-auth: /oauth2/auth, start, ... */
  SsoOauth *pOauth;         /* Keys for IDEs and CLIs (/auth, /oauth/...) */
  char zErr[1024];          /* Last error message */
};

const char *ssoproxy_libversion(void){ return SSOPROXY_VERSION; }
int ssoproxy_libversion_number(void){ return SSOPROXY_VERSION_NUMBER; }
const char *ssoproxy_sourceid(void){ return SSOPROXY_SOURCE_ID; }

const char *ssoproxy_errstr(int rc){
  static const char *const azMsg[] = {
    /* SSOPROXY_OK         */ "not an error",
    /* SSOPROXY_ERROR      */ "error",
    /* SSOPROXY_NOMEM      */ "out of memory",
    /* SSOPROXY_CONFIG     */ "invalid configuration",
    /* SSOPROXY_IOERR      */ "input/output error",
    /* SSOPROXY_DB         */ "database error",
    /* SSOPROXY_MISUSE     */ "library routine called out of sequence",
    /* SSOPROXY_PARSE      */ "malformed input",
    /* SSOPROXY_TOOBIG     */ "input too large",
    /* SSOPROXY_NOTFOUND   */ "not found",
    /* SSOPROXY_CONSTRAINT */ "constraint failed",
    /* SSOPROXY_NET        */ "network error",
  };
  if( rc<0 || rc>=(int)SSO_ARRAYSIZE(azMsg) ) return "unknown error";
  return azMsg[rc];
}

#define appError(p, rc, ...) \
  ssoErrorf((p)->zErr, sizeof((p)->zErr), rc, __VA_ARGS__)

const char *ssoproxy_errmsg(const ssoproxy *p){
  if( p==0 ) return "out of memory";
  return p->zErr[0] ? p->zErr : "not an error";
}

/*
** Worker threads: one store connection each, inside the management API's
** per-worker context (which also batches keys' last-used times).
*/
static int workerInit(void *pArg, int iWorker, void **ppCtx){
  ssoproxy *p = pArg;
  SsoStore *pStore = 0;
  SsoApiWorker *pW = 0;
  int rc = ssoStoreOpen(ssoConfigStr(p->pCfg, SSO_CFG_DB), &pStore);
  SSO_UNUSED(iWorker);
  if( rc ){
    ssoLog(&p->log, SSO_LOG_ERROR, "worker cannot open the database",
           "error", pStore ? ssoStoreErrmsg(pStore) : "out of memory",
           (char*)0);
    ssoStoreClose(pStore);
    return rc;
  }
  rc = ssoApiWorkerNew(&p->api, pStore, &pW);
  if( rc ) return rc;
  *ppCtx = pW;
  return SSOPROXY_OK;
}

static void workerFree(void *pArg, int iWorker, void *pCtx){
  ssoproxy *p = pArg;
  /* The proxy's usage batch goes to the store before it closes. */
  ssoProxyWorkerEnd(p->pProxy, iWorker);
  ssoApiWorkerFree((SsoApiWorker*)pCtx);
}

static int dbReady(void *pWorkerCtx, void *pArg, char *zReason,
                   size_t nReason){
  SsoStore *pStore = ssoApiWorkerStore(pWorkerCtx);
  SSO_UNUSED(pArg);
  if( pStore && ssoStorePing(pStore)==SSOPROXY_OK ) return 0;
  snprintf(zReason, nReason, "%s",
           pStore ? "database unavailable" : "database not open");
  return 1;
}

/*
** The listener's certificate and key (both or neither), and the client
** side: trusted CAs from SSOPROXY_CA_FILE or the system, unless
** SSOPROXY_TLS_INSECURE. Every failure is SSOPROXY_CONFIG with one line.
*/
static int openTls(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  const char *zCert = ssoConfigStr(c, SSO_CFG_TLS_CERT);
  const char *zKey = ssoConfigStr(c, SSO_CFG_TLS_KEY);
  const char *zCa = ssoConfigStr(c, SSO_CFG_CA_FILE);
  int bInsecure = ssoConfigBool(c, SSO_CFG_TLS_INSECURE);
  char zErr[512];
  int rc;
  if( (zCert==0)!=(zKey==0) ){
    return appError(p, SSOPROXY_CONFIG, "%s is set but %s is not: HTTPS "
                    "needs both the certificate and its key",
                    zCert ? "SSOPROXY_TLS_CERT" : "SSOPROXY_TLS_KEY",
                    zCert ? "SSOPROXY_TLS_KEY" : "SSOPROXY_TLS_CERT");
  }
  if( zCert ){
    rc = ssoTlsServerNew(zCert, zKey, &p->pTlsServer, zErr, sizeof(zErr));
    if( rc ) return appError(p, rc, "%s", zErr);
  }
  rc = ssoTlsClientNew(zCa, bInsecure, &p->pTlsClient, zErr, sizeof(zErr));
  if( rc ){
    return appError(p, rc, "%s%s", zCa && rc==SSOPROXY_CONFIG ?
                    "SSOPROXY_CA_FILE: " : "", zErr);
  }
  ssoClientConfigInit(&p->clientCfg);
  p->clientCfg.pTls = p->pTlsClient;
  p->clientCfg.msConnect = (int)ssoConfigInt(c, SSO_CFG_CONNECT_TIMEOUT_MS);
  p->clientCfg.msFirstByte = (int)ssoConfigInt(c,
                                               SSO_CFG_FIRST_BYTE_TIMEOUT_MS);
  p->clientCfg.msIdle = (int)ssoConfigInt(c, SSO_CFG_IDLE_TIMEOUT_MS);
  p->clientCfg.mxResponse = (size_t)ssoConfigInt(c,
                                                 SSO_CFG_MAX_RESPONSE_BYTES);
  p->clientCfg.nPoolPerOrigin = (int)ssoConfigInt(c,
                                                  SSO_CFG_UPSTREAM_KEEPALIVE);
  return SSOPROXY_OK;
}

/* Say, at every start, what the outbound side trusts. */
static void logTls(ssoproxy *p){
  const SsoTls *t = p->pTlsClient;
  char zCount[16], zSkipped[16];
  if( ssoTlsInsecure(t) ){
    ssoLog(&p->log, SSO_LOG_WARN, "SSOPROXY_TLS_INSECURE is on: certificates "
           "of the IdP and upstreams are NOT verified; anyone on the path "
           "can read and change that traffic", (char*)0);
    return;
  }
  if( ssoTlsCaCount(t)==0 ){
    ssoLog(&p->log, SSO_LOG_WARN, "no CA certificates found on this system: "
           "https to the IdP and upstreams will fail until SSOPROXY_CA_FILE "
           "is set", (char*)0);
    return;
  }
  snprintf(zCount, sizeof(zCount), "%d", ssoTlsCaCount(t));
  ssoLog(&p->log, SSO_LOG_INFO, "trusted CA certificates loaded",
         "from", ssoTlsCaSource(t), "count", zCount, (char*)0);
  if( ssoTlsCaSkipped(t)>0 ){
    snprintf(zSkipped, sizeof(zSkipped), "%d", ssoTlsCaSkipped(t));
    ssoLog(&p->log, SSO_LOG_WARN, "some CA certificates could not be parsed "
           "and are ignored", "from", ssoTlsCaSource(t), "skipped", zSkipped,
           (char*)0);
  }
}

static int openStore(ssoproxy *p){
  const char *zDb = ssoConfigStr(p->pCfg, SSO_CFG_DB);
  int rc = ssoStoreOpen(zDb, &p->pStore);
  if( rc==SSOPROXY_NOMEM && p->pStore==0 ) return rc;
  if( rc ) return appError(p, rc, "%s", ssoStoreErrmsg(p->pStore));
  return SSOPROXY_OK;
}

static int openServer(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  SsoServerConfig sc;
  int rc;
  ssoServerConfigInit(&sc);
  sc.zListen = ssoConfigStr(c, SSO_CFG_LISTEN);
  sc.nWorker = (int)ssoConfigInt(c, SSO_CFG_WORKERS);
  sc.mxConn = (int)ssoConfigInt(c, SSO_CFG_MAX_CONNECTIONS);
  sc.mxLine = (size_t)ssoConfigInt(c, SSO_CFG_MAX_REQUEST_LINE);
  sc.mxHead = (size_t)ssoConfigInt(c, SSO_CFG_MAX_HEADER_BYTES);
  sc.mxHeader = (int)ssoConfigInt(c, SSO_CFG_MAX_HEADERS);
  sc.mxBody = (size_t)ssoConfigInt(c, SSO_CFG_MAX_BODY_BYTES);
  sc.msHeader = (int)ssoConfigInt(c, SSO_CFG_HEADER_TIMEOUT_MS);
  sc.msBody = (int)ssoConfigInt(c, SSO_CFG_BODY_TIMEOUT_MS);
  sc.msKeepAlive = (int)ssoConfigInt(c, SSO_CFG_KEEPALIVE_TIMEOUT_MS);
  sc.msWrite = (int)ssoConfigInt(c, SSO_CFG_WRITE_TIMEOUT_MS);
  sc.msShutdown = (int)ssoConfigInt(c, SSO_CFG_SHUTDOWN_TIMEOUT_MS);
  sc.nWriteHigh = (size_t)ssoConfigInt(c, SSO_CFG_WRITE_BUFFER_BYTES);
  sc.pLog = &p->log;
  sc.bAccessLog = ssoConfigBool(c, SSO_CFG_ACCESS_LOG);
  if( p->pTlsServer ){
    sc.xTransport = ssoTlsTransport;
    sc.pTransportArg = p->pTlsServer;
  }
  sc.xWorkerInit = workerInit;
  sc.xWorkerFree = workerFree;
  sc.pWorkerArg = p;
  rc = ssoServerNew(&sc, &p->pServer);
  if( rc==SSOPROXY_NOMEM && p->pServer==0 ) return rc;
  if( rc ) return appError(p, rc, "%s", ssoServerErrmsg(p->pServer));
  p->health.xDbReady = dbReady;
  p->health.pArg = p;
  return ssoHealthRegister(p->pServer, &p->health);
}

/*
** Browser sessions: the cookie's form follows PROXY_BASE_URL, the
** lifetimes their settings (seconds).
*/
static void openSessions(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  ssoSessionInit(&p->sessions, ssoConfigStr(c, SSO_CFG_BASE_URL),
                 ssoConfigInt(c, SSO_CFG_SESSION_IDLE_TIMEOUT)*1000,
                 ssoConfigInt(c, SSO_CFG_SESSION_MAX_AGE)*1000);
}

/*
** The management API's routes, answering with the master key if set and
** to browser sessions (CSRF-checked for changes).
*/
static int openApi(ssoproxy *p){
  ssoApiInit(&p->api, ssoConfigStr(p->pCfg, SSO_CFG_MASTER_KEY), &p->log);
  p->api.pClientCfg = &p->clientCfg;
  p->api.authz.xSession = ssoSessionAuthz;
  p->api.authz.pSessionArg = &p->sessions;
  return ssoApiRegister(p->pServer, &p->api);
}

/*
** Single sign-on: the GENERIC_* settings, validated by the oidc module
** (each bad or missing setting is one line and exit status 2), and its
** routes. Nothing happens when GENERIC_CLIENT_ID is unset.
*/
static int openOidc(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  SsoOidcConfig oc;
  char zErr[512];
  int rc;
  memset(&oc, 0, sizeof(oc));
  oc.zBaseUrl = ssoConfigStr(c, SSO_CFG_BASE_URL);
  oc.zClientId = ssoConfigStr(c, SSO_CFG_OIDC_CLIENT_ID);
  oc.zClientSecret = ssoConfigStr(c, SSO_CFG_OIDC_CLIENT_SECRET);
  oc.zIssuer = ssoConfigStr(c, SSO_CFG_OIDC_ISSUER);
  oc.zAuthorizationEndpoint = ssoConfigStr(c,
                                           SSO_CFG_OIDC_AUTHORIZATION_ENDPOINT);
  oc.zTokenEndpoint = ssoConfigStr(c, SSO_CFG_OIDC_TOKEN_ENDPOINT);
  oc.zUserinfoEndpoint = ssoConfigStr(c, SSO_CFG_OIDC_USERINFO_ENDPOINT);
  oc.zJwksEndpoint = ssoConfigStr(c, SSO_CFG_OIDC_JWKS_ENDPOINT);
  oc.zScope = ssoConfigStr(c, SSO_CFG_OIDC_SCOPE);
  oc.zIdAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_ID_ATTRIBUTE);
  oc.zEmailAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_EMAIL_ATTRIBUTE);
  oc.zNameAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_DISPLAY_NAME_ATTRIBUTE);
  oc.zFirstNameAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_FIRST_NAME_ATTRIBUTE);
  oc.zLastNameAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_LAST_NAME_ATTRIBUTE);
  oc.zRoleAttr = ssoConfigStr(c, SSO_CFG_OIDC_USER_ROLE_ATTRIBUTE);
  oc.bIncludeClientId = ssoConfigBool(c, SSO_CFG_OIDC_INCLUDE_CLIENT_ID);
  oc.bClientSecretPost = strcmp(ssoConfigStr(c, SSO_CFG_OIDC_CLIENT_AUTH),
                                "client_secret_post")==0;
  oc.zSsoHeaders = ssoConfigStr(c, SSO_CFG_OIDC_SSO_HEADERS);
  oc.zRoleMappings = ssoConfigStr(c, SSO_CFG_OIDC_ROLE_MAPPINGS);
  oc.zGroupClaim = ssoConfigStr(c, SSO_CFG_OIDC_GROUP_CLAIM);
  oc.zDefaultRole = ssoConfigStr(c, SSO_CFG_OIDC_DEFAULT_ROLE);
  oc.zLogoutUrl = ssoConfigStr(c, SSO_CFG_LOGOUT_URL);
  oc.bAutoRedirect = ssoConfigBool(c, SSO_CFG_AUTO_REDIRECT_SSO);
  oc.zEmailDomains = ssoConfigStr(c, SSO_CFG_ALLOWED_EMAIL_DOMAINS);
  oc.zAdminId = ssoConfigStr(c, SSO_CFG_ADMIN_ID);
  oc.bRoleFirstLogin = strcmp(ssoConfigStr(c, SSO_CFG_ROLE_SYNC),
                              "first_login")==0;
  oc.nStateTtl = (int)ssoConfigInt(c, SSO_CFG_LOGIN_STATE_TTL);
  oc.msIdpTimeout = (int)ssoConfigInt(c, SSO_CFG_IDP_TIMEOUT_MS);
  oc.pLog = &p->log;
  rc = ssoOidcNew(&oc, &p->sessions, &p->pOidc, zErr, sizeof(zErr));
  if( rc ) return appError(p, rc, "%s", zErr);
  if( p->pOidc==0 ) return SSOPROXY_OK;
  if( ssoOidcBackChannelOnly(p->pOidc) ){
    ssoLog(&p->log, SSO_LOG_WARN, "neither GENERIC_ISSUER nor "
           "GENERIC_JWKS_ENDPOINT is set: id_token signatures are not "
           "checked, only the TLS connection to the token endpoint vouches "
           "for them; set GENERIC_ISSUER to verify them", (char*)0);
  }
  return ssoOidcRegister(p->pServer, p->pOidc);
}

/*
** API keys for other programs: the seed PR's /sso/key/generate flow,
** OpenRouter's /auth, OAuth for native apps and the device flow. Each
** bad allow-list entry is a configuration error with its own line.
*/
static int openOauth(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  SsoOauthConfig oc;
  int rc;
  memset(&oc, 0, sizeof(oc));
  oc.zBaseUrl = ssoConfigStr(c, SSO_CFG_BASE_URL);
  oc.zSchemes = ssoConfigStr(c, SSO_CFG_OAUTH_REDIRECT_SCHEMES);
  oc.zUris = ssoConfigStr(c, SSO_CFG_OAUTH_REDIRECT_URIS);
  oc.zOrigins = ssoConfigStr(c, SSO_CFG_OAUTH_ALLOWED_ORIGINS);
  oc.sKeyTtl = ssoConfigInt(c, SSO_CFG_OAUTH_KEY_TTL);
  oc.sCodeTtl = ssoConfigInt(c, SSO_CFG_OAUTH_CODE_TTL);
  oc.sStateTtl = ssoConfigInt(c, SSO_CFG_OAUTH_STATE_TTL);
  oc.sDeviceTtl = ssoConfigInt(c, SSO_CFG_DEVICE_CODE_TTL);
  oc.sInterval = (int)ssoConfigInt(c, SSO_CFG_DEVICE_INTERVAL);
  oc.bCodeOnly = ssoConfigBool(c, SSO_CFG_OAUTH_CODE_ONLY);
  oc.bKeyShortcut = ssoConfigBool(c, SSO_CFG_OAUTH_KEY_SHORTCUT);
  oc.pSessions = &p->sessions;
  oc.pLog = &p->log;
  rc = ssoOauthNew(&oc, &p->pOauth, p->zErr, sizeof(p->zErr));
  if( rc ) return rc;
  /* With SSO, /sso/key/generate belongs to the relying party, which
  ** hands requests with a response_type over; without, oauth serves it. */
  return ssoOauthRegister(p->pServer, p->pOauth, p->pOidc);
}

/*
** The sign-in pages: single sign-on when the oidc module is configured,
** and the password sign-in.
*/
static int openUi(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  SsoUiConfig uc;
  char zErr[512];
  int rc;
  memset(&uc, 0, sizeof(uc));
  uc.pSessions = &p->sessions;
  uc.pOidc = p->pOidc;
  uc.bAutoRedirect = ssoConfigBool(c, SSO_CFG_AUTO_REDIRECT_SSO);
  uc.zBaseUrl = ssoConfigStr(c, SSO_CFG_BASE_URL);
  uc.zUsername = ssoConfigStr(c, SSO_CFG_UI_USERNAME);
  uc.zPassword = ssoConfigStr(c, SSO_CFG_UI_PASSWORD);
  uc.zMasterKey = ssoConfigStr(c, SSO_CFG_MASTER_KEY);
  uc.nMaxFailures = (int)ssoConfigInt(c, SSO_CFG_LOGIN_MAX_FAILURES);
  uc.pLog = &p->log;
  rc = ssoUiNew(&uc, &p->pUi, zErr, sizeof(zErr));
  if( rc==SSOPROXY_CONFIG ) return appError(p, rc, "%s", zErr);
  if( rc ) return rc;
  return ssoUiRegister(p->pServer, p->pUi);
}

/*
** The /v1 proxy: upstreams from SSOPROXY_UPSTREAM_URL and/or the models
** file (checked now: a bad line stops the start with FILE:LINE).
*/
static int openProxy(ssoproxy *p){
  const ssoproxy_config *c = p->pCfg;
  SsoProxyConfig pc;
  int rc;
  memset(&pc, 0, sizeof(pc));
  pc.zUpstreamUrl = ssoConfigStr(c, SSO_CFG_UPSTREAM_URL);
  pc.zUpstreamKey = ssoConfigStr(c, SSO_CFG_UPSTREAM_KEY);
  pc.zModelsFile = ssoConfigStr(c, SSO_CFG_MODELS_FILE);
  pc.bForwardIdentity = ssoConfigBool(c, SSO_CFG_FORWARD_IDENTITY);
  pc.pApi = &p->api;
  pc.pLog = &p->log;
  rc = ssoProxyNew(&pc, &p->pProxy, p->zErr, sizeof(p->zErr));
  if( rc ) return rc;
  return ssoProxyRegister(p->pServer, p->pProxy);
}

/*
** Forward-auth for other sites (/oauth2/...): keys through the API's
** authentication, browser sessions and the SSO sign-in when those are set
** up (so this step comes after them).
*/
static int openFauth(ssoproxy *p){
  p->fauth.pApi = &p->api;
  p->fauth.pSessions = p->sessions.zCookie ? &p->sessions : 0;
  p->fauth.pOidc = p->pOidc;
  return ssoFauthRegister(p->pServer, &p->fauth);
}

static void logStart(ssoproxy *p){
  char zUrl[300], zWorkers[16];
  snprintf(zUrl, sizeof(zUrl), "%s://%s", p->pTlsServer ? "https" : "http",
           ssoServerAddress(p->pServer));
  snprintf(zWorkers, sizeof(zWorkers), "%d",
           ssoServerWorkerCount(p->pServer));
  ssoLog(&p->log, SSO_LOG_INFO, "ssoproxy listening", "url", zUrl,
         "db", ssoConfigStr(p->pCfg, SSO_CFG_DB), "workers", zWorkers,
         "version", SSOPROXY_VERSION, (char*)0);
  logTls(p);
  if( ssoConfigStr(p->pCfg, SSO_CFG_MASTER_KEY)==0 ){
    ssoLog(&p->log, SSO_LOG_WARN, "no master key set (LITELLM_MASTER_KEY): "
           "the management API is usable by admin users' keys and sessions "
           "only", (char*)0);
  }
}

int ssoproxy_open(const ssoproxy_config *pCfg, ssoproxy **pp){
  ssoproxy *p;
  int rc;
  if( pp==0 ) return SSOPROXY_MISUSE;
  *pp = 0;
  if( pCfg==0 ) return SSOPROXY_MISUSE;
  rc = ssoMemInitSqlite();
  if( rc ) return rc;
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  *pp = p;
  ssoLogInit(&p->log, -1, SSO_LOG_OFF, 0);
  rc = ssoConfigCopy(pCfg, &p->pCfg);
  if( rc ) return appError(p, rc, "out of memory");
  ssoLogInit(&p->log, 2,
             ssoLogLevelFromName(ssoConfigStr(p->pCfg, SSO_CFG_LOG_LEVEL)),
             strcmp(ssoConfigStr(p->pCfg, SSO_CFG_LOG_FORMAT), "json")==0);
  rc = openTls(p);
  if( rc==SSOPROXY_OK ) rc = openStore(p);
  if( rc==SSOPROXY_OK ) rc = openServer(p);
  if( rc==SSOPROXY_OK ) openSessions(p);
  if( rc==SSOPROXY_OK ) rc = openApi(p);
  if( rc==SSOPROXY_OK ) rc = openOidc(p);
  if( rc==SSOPROXY_OK ) rc = openUi(p);
  if( rc==SSOPROXY_OK ) rc = openProxy(p);
  if( rc==SSOPROXY_OK ) rc = openFauth(p);
  if( rc==SSOPROXY_OK ) rc = openOauth(p);
  if( rc==SSOPROXY_NOMEM && p->zErr[0]==0 ) appError(p, rc, "out of memory");
  if( rc==SSOPROXY_OK ) logStart(p);
  return rc;
}

int ssoproxy_run(ssoproxy *p){
  int rc;
  if( p==0 || p->pServer==0 ) return SSOPROXY_MISUSE;
  rc = ssoServerRun(p->pServer);
  if( rc ) return appError(p, rc, "%s", ssoServerErrmsg(p->pServer));
  ssoLog(&p->log, SSO_LOG_INFO, "ssoproxy stopped", (char*)0);
  return SSOPROXY_OK;
}

/* Async-signal-safe and thread-safe: ssoServerStop only sets a flag and
** writes to each loop's wake-up descriptor. */
void ssoproxy_stop(ssoproxy *p){
  if( p && p->pServer ) ssoServerStop(p->pServer);
}

/* Async-signal-safe: one write() to the proxy's reload pipe. */
void ssoproxy_reload(ssoproxy *p){
  if( p ) ssoProxyReload(p->pProxy);
}

int ssoproxy_close(ssoproxy *p){
  if( p==0 ) return SSOPROXY_OK;
  ssoServerFree(p->pServer);
  ssoOidcFree(p->pOidc);
  ssoOauthFree(p->pOauth);
  ssoUiFree(p->pUi);
  ssoProxyFree(p->pProxy);
  ssoTlsFree(p->pTlsServer);
  ssoTlsFree(p->pTlsClient);
  ssoStoreClose(p->pStore);
  ssoproxy_config_free(p->pCfg);
  ssoFree(p);
  return SSOPROXY_OK;
}

const char *ssoproxy_listen_address(const ssoproxy *p){
  return (p && p->pServer) ? ssoServerAddress(p->pServer) : "";
}
