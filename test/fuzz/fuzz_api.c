/*
** Fuzz target for the management API (src/api.c, src/authz.c): a whole
** request, served in process against a fresh in-memory store that holds
** three users with a key each. The input is
**
**   byte 0    the endpoint (SSO_ACT_*, modulo their number)
**   byte 1    the credential: master key, an internal_user's key, an
**             internal_user_viewer's key, a proxy_admin's key, none, or
**             (5) the text up to the first '\n' as a Bearer value
**   then      the query up to the first '\n', then the JSON body.
**
** Every answer must be one JSON value; an error must carry LiteLLM's
** envelope with "code" equal to the status as a string; the status must
** be one the API gives; no memory may be left behind.
*/
#include "../../ssoproxy.c"

#define FZ_MASTER "sk-fuzz-master"

static const char *const azFzKey[] = {
  FZ_MASTER, "sk-fuzz-alice", "sk-fuzz-vera", "sk-fuzz-boss", 0
};

static void fzUser(SsoStore *p, const char *zId, const char *zRole,
                   const char *zKey){
  SsoUser u;
  SsoKey k;
  char zHex[SSO_KEY_HEX], zShow[SSO_KEY_DISPLAY];
  memset(&u, 0, sizeof(u));
  u.zId = zId;
  u.zRole = zRole;
  u.zSource = "sso";
  u.zEmail = "x@example.com";
  if( ssoStoreUserInsert(p, &u) ) abort();
  memset(&k, 0, sizeof(k));
  ssoAuthzKeyHash(zKey, strlen(zKey), zHex);
  ssoAuthzKeyDisplay(zKey, strlen(zKey), zShow);
  k.zHash = zHex;
  k.zDisplay = zShow;
  k.zUserId = zId;
  k.zAlias = zId;
  k.zIssuedVia = "ui";
  if( ssoStoreKeyInsert(p, &k) ) abort();
}

/* The answer's "error.code" must be the status, as a string. */
static void fzCheck(const SsoBuf *b, int iStatus){
  SsoJsonDoc *pDoc = 0;
  char zCode[8];
  const char *z;
  if( iStatus!=200 && iStatus!=400 && iStatus!=401 && iStatus!=403
   && iStatus!=404 && iStatus!=409 && iStatus!=422 && iStatus!=500 ){
    abort();
  }
  if( ssoJsonParse(b->z, b->n, SSO_JSON_NODUP, &pDoc, 0) ) abort();
  if( iStatus!=200 ){
    snprintf(zCode, sizeof(zCode), "%d", iStatus);
    z = ssoJsonCStr(ssoJsonGetPath(ssoJsonRoot(pDoc), "error.code"));
    if( z==0 || strcmp(z, zCode)!=0 ) abort();
    if( ssoJsonCStr(ssoJsonGetPath(ssoJsonRoot(pDoc), "error.message"))==0 ){
      abort();
    }
  }
  ssoJsonFree(pDoc);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  static int bWarm = 0;
  const char *z = (const char*)aData;
  long long nBefore;
  SsoApi api;
  SsoApiWorker *pW = 0;
  SsoStore *pStore = 0;
  SsoHttpHeader h;
  SsoApiCall call;
  SsoBuf b;
  char zAuth[600];
  const char *zNl;
  size_t n;
  int iStatus = 0, eCred, rc;
  if( nData<2 ) return 0;
  if( !bWarm ){
    /* SQLite's first open sets up what it keeps for the process. */
    if( ssoStoreOpen(":memory:", &pStore) ) abort();
    ssoStoreClose(pStore);
    pStore = 0;
    bWarm = 1;
  }
  nBefore = ssoMemUsed();
  memset(&call, 0, sizeof(call));
  call.eAction = aData[0] % SSO_ACT_COUNT;
  eCred = aData[1] % 6;
  z += 2;
  n = nData - 2;
  if( eCred==5 ){
    zNl = memchr(z, '\n', n);
    if( zNl==0 || (size_t)(zNl-z)>500 ) return 0;
    snprintf(zAuth, sizeof(zAuth), "Bearer %.*s", (int)(zNl-z), z);
    n -= (size_t)(zNl-z) + 1;
    z = zNl + 1;
  }else if( azFzKey[eCred] ){
    snprintf(zAuth, sizeof(zAuth), "Bearer %s", azFzKey[eCred]);
  }
  if( eCred!=4 ){
    h.name.z = "Authorization";
    h.name.n = 13;
    h.value.z = zAuth;
    h.value.n = strlen(zAuth);
    call.aHdr = &h;
    call.nHdr = 1;
  }
  zNl = memchr(z, '\n', n);
  call.query.z = z;
  call.query.n = zNl ? (size_t)(zNl-z) : n;
  call.pBody = zNl ? zNl+1 : "";
  call.nBody = zNl ? n - call.query.n - 1 : 0;

  ssoApiInit(&api, FZ_MASTER, 0);
  if( ssoStoreOpen(":memory:", &pStore) ) abort();
  fzUser(pStore, "alice", "internal_user", azFzKey[1]);
  fzUser(pStore, "vera", "internal_user_viewer", azFzKey[2]);
  fzUser(pStore, "boss", "proxy_admin", azFzKey[3]);
  if( ssoApiWorkerNew(&api, pStore, &pW) ) abort();
  ssoBufInit(&b, 0);
  rc = ssoApiServe(&api, pW, &call, &b, &iStatus);
  if( rc ) abort();
  fzCheck(&b, iStatus);
  ssoBufFree(&b);
  ssoApiWorkerFree(pW);
  if( ssoMemUsed()!=nBefore ) abort();
  return 0;
}
