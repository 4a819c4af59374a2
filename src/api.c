/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the management API (LiteLLM's /key/..., /user/... and an
** /audit/list of our own), the per-worker context, and the row operations
** that both this API and the admin CLI use.
**
** One request: authenticate (src/authz.c), look up the endpoint's cell of
** the permission matrix, parse the query or the JSON body into checked
** values (a malformed body is 400, a missing field or a wrong type 422,
** a value we refuse 400, each naming the field in "param"), then do the
** work. A change and its audit rows are one transaction, taken before
** the rows it changes are read, so the "before" in the audit log is the
** row that was really replaced.
**
** Last-used times: an authenticated request only notes its key in the
** worker's table; a loop timer writes the table once a second in one
** transaction (ssoStoreKeysUsage). So a busy key costs one write per
** second, not one per request, and readers never wait on a writer.
*/
#include "ssoInt.h"
#include <strings.h>

/* ---- The worker context ---- */

/* One key's pending last-used time: an open-addressing table slot. */
typedef struct ApiTouch ApiTouch;
struct ApiTouch {
  char zHash[SSO_KEY_HEX];  /* "" when the slot is free */
  long long tAt;
};

struct SsoApiWorker {
  SsoApi *pApi;
  SsoStore *pStore;         /* This worker's connection; owned */
  SsoRng *pRng;             /* For new keys and user ids; owned */
  SsoClient *pClient;       /* Outbound HTTP, made on first use; owned */
  SsoLoop *pLoop;           /* Where the flush timer is armed, once it is */
  SsoLoopTimer flush;       /* Writes aTouch every SSO_API_TOUCH_MS */
  int nTouch;               /* Slots in use */
  ApiTouch aTouch[SSO_API_TOUCH_SLOTS];
};

static void apiFlushFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  ssoApiWorkerFlush((SsoApiWorker*)pArg);
}

SSO_PRIVATE int ssoApiWorkerNew(SsoApi *pApi, SsoStore *pStore,
                                SsoApiWorker **ppW){
  SsoApiWorker *p = ssoMallocZero(sizeof(*p));
  int rc;
  *ppW = 0;
  if( p==0 ){
    ssoStoreClose(pStore);
    return SSOPROXY_NOMEM;
  }
  p->pApi = pApi;
  p->pStore = pStore;
  ssoLoopTimerInit(&p->flush, apiFlushFire, p);
  rc = ssoRngNew(&p->pRng);
  if( rc ){
    ssoApiWorkerFree(p);
    return rc;
  }
  *ppW = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoApiWorkerFree(SsoApiWorker *p){
  if( p==0 ) return;
  if( p->pLoop ) ssoLoopTimerStop(p->pLoop, &p->flush);
  ssoApiWorkerFlush(p);
  ssoClientFree(p->pClient);
  ssoRngFree(p->pRng);
  ssoStoreClose(p->pStore);
  ssoFree(p);
}

SSO_PRIVATE SsoStore *ssoApiWorkerStore(const SsoApiWorker *p){
  return p ? p->pStore : 0;
}

SSO_PRIVATE SsoRng *ssoApiWorkerRng(const SsoApiWorker *p){
  return p ? p->pRng : 0;
}

SSO_PRIVATE int ssoApiWorkerClient(SsoApiWorker *p, SsoLoop *pLoop,
                                   SsoClient **ppCli){
  int rc;
  *ppCli = 0;
  if( p->pClient==0 ){
    if( p->pApi==0 || p->pApi->pClientCfg==0 || pLoop==0 ){
      return SSOPROXY_MISUSE;
    }
    rc = ssoClientNew(pLoop, p->pApi->pClientCfg, &p->pClient);
    if( rc ) return rc;
  }
  *ppCli = p->pClient;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoApiWorkerFlush(SsoApiWorker *p){
  SsoKeyUsage aUse[SSO_API_TOUCH_SLOTS];
  int i, n = 0, rc;
  if( p->nTouch==0 ) return SSOPROXY_OK;
  memset(aUse, 0, sizeof(aUse));
  for(i=0; i<SSO_API_TOUCH_SLOTS; i++){
    if( p->aTouch[i].zHash[0]==0 ) continue;
    aUse[n].zHash = p->aTouch[i].zHash;
    aUse[n++].tAt = p->aTouch[i].tAt;
  }
  rc = ssoStoreKeysUsage(p->pStore, aUse, n);
  if( rc && p->pApi && p->pApi->pLog ){
    /* Last use is advisory: drop the batch rather than grow it. */
    ssoLog(p->pApi->pLog, SSO_LOG_WARN, "cannot record keys' last use",
           "error", ssoStoreErrmsg(p->pStore), (char*)0);
  }
  for(i=0; i<SSO_API_TOUCH_SLOTS; i++) p->aTouch[i].zHash[0] = 0;
  p->nTouch = 0;
  return rc;
}

/* The slot for zHash (hex, so its first digits are already uniform). */
static unsigned apiTouchSlot(const char *zHash){
  unsigned h = 0;
  int i;
  for(i=0; i<8; i++){
    int c = zHash[i];
    h = h*16 + (unsigned)(c<='9' ? c-'0' : c-'a'+10);
  }
  return h & (SSO_API_TOUCH_SLOTS-1);
}

SSO_PRIVATE void ssoApiWorkerTouch(SsoApiWorker *p, SsoLoop *pLoop,
                                   const char *zHash, long long tAt){
  unsigned i = apiTouchSlot(zHash);
  ApiTouch *t;
  /* Three quarters full keeps the probes short: write the batch now. */
  if( p->nTouch>=SSO_API_TOUCH_SLOTS*3/4 ) ssoApiWorkerFlush(p);
  while( (t = &p->aTouch[i])->zHash[0] && strcmp(t->zHash, zHash)!=0 ){
    i = (i+1) & (SSO_API_TOUCH_SLOTS-1);
  }
  if( t->zHash[0]==0 ){
    memcpy(t->zHash, zHash, SSO_KEY_HEX-1);
    t->zHash[SSO_KEY_HEX-1] = 0;
    t->tAt = 0;
    p->nTouch++;
  }
  if( tAt>t->tAt ) t->tAt = tAt;
  if( pLoop && !ssoLoopTimerArmed(&p->flush) ){
    p->pLoop = pLoop;
    /* Out of memory leaves the timer off; the next touch tries again,
    ** and the table flushes itself when full. */
    ssoLoopTimerAt(pLoop, &p->flush, ssoLoopNow(pLoop)+SSO_API_TOUCH_MS);
  }
}

/* ---- Rows as JSON ---- */

/*
** Field maps: how each member of a row's JSON object is made from the
** row struct, so one writer serves keys, users and audit entries (the
** store's column maps, seen from the other side). The names and the
** constant members are LiteLLM's, so its clients find what they expect;
** fields LiteLLM has and we do not (budgets, teams) read as it shows an
** unused one.
*/
enum {
  AF_TEXT,      /* const char* at iOff; NULL is null */
  AF_I64,       /* long long at iOff */
  AF_OPT,       /* long long at iOff; 0 is null (no limit) */
  AF_TIME,      /* Unix ms at iOff as RFC 3339 text; 0 is null */
  AF_BOOL,      /* int at iOff */
  AF_JSON,      /* JSON text at iOff that we stored; NULL is zLit */
  AF_LIT,       /* The JSON text zLit */
  AF_SSO,       /* The user id (at iOff) if the user came from SSO */
  AF_USAGE      /* A key's usage counts as an object */
};
typedef struct ApiField ApiField;
struct ApiField {
  const char *zName;
  unsigned char eKind;
  unsigned short iOff;
  const char *zLit;
};
#define L(n, l) { n, AF_LIT, 0, l }
#define K(n, e, f) { n, AF_##e, offsetof(SsoKey, f), 0 }
static const ApiField aApiKeyField[] = {
  K("token", TEXT, zHash), K("key_name", TEXT, zDisplay),
  K("key_alias", TEXT, zAlias), L("spend", "0.0"), K("expires", TIME, tExpires),
  { "models", AF_JSON, offsetof(SsoKey, zModels), "[]" }, L("aliases", "{}"),
  L("config", "{}"), K("user_id", TEXT, zUserId), L("team_id", "null"),
  L("permissions", "{}"), { "metadata", AF_JSON, offsetof(SsoKey, zMetadata),
  "{}" }, K("tpm_limit", OPT, nTpmLimit), K("rpm_limit", OPT, nRpmLimit),
  L("max_budget", "null"), L("max_parallel_requests", "null"),
  L("budget_duration", "null"), L("budget_reset_at", "null"),
  K("blocked", BOOL, bBlocked), K("created_at", TIME, tCreated),
  K("last_used_at", TIME, tLastUsed), K("issued_via", TEXT, zIssuedVia),
  K("usage", USAGE, nRequests)
};
#undef K
#define U(n, e, f) { n, AF_##e, offsetof(SsoUser, f), 0 }
static const ApiField aApiUserField[] = {
  U("user_id", TEXT, zId), U("user_email", TEXT, zEmail),
  U("user_alias", TEXT, zName), U("user_role", TEXT, zRole),
  U("sso_user_id", SSO, zId), U("source", TEXT, zSource),
  U("disabled", BOOL, bDisabled),
  { "metadata", AF_JSON, offsetof(SsoUser, zMetadata), "{}" },
  L("teams", "[]"), L("models", "[]"), L("spend", "0.0"),
  L("max_budget", "null"), U("created_at", TIME, tCreated),
  U("updated_at", TIME, tUpdated), U("last_login_at", TIME, tLastLogin)
};
#undef U
/* LiteLLM_AuditLog's names for our audit_log columns. */
#define A(n, e, f) { n, AF_##e, offsetof(SsoAudit, f), "null" }
static const ApiField aApiAuditField[] = {
  A("id", I64, iId), A("updated_at", TIME, tAt), A("changed_by", TEXT, zActor),
  A("action", TEXT, zAction), A("table_name", TEXT, zObjectType),
  A("object_id", TEXT, zObjectId), A("before_value", JSON, zBefore),
  A("updated_values", JSON, zAfter)
};
#undef A
#undef L

/* One member, by its field map entry. */
static void apiWriteField(SsoJsonWriter *w, const ApiField *f,
                          const char *pRow){
  const void *p = pRow + f->iOff;
  const char *z = f->zLit;
  char zTime[32];
  long long v;
  ssoJsonWriteKey(w, f->zName);
  switch( f->eKind ){
    case AF_TEXT:
      ssoJsonWriteString(w, *(const char *const*)p);
      return;
    case AF_SSO:
      z = ((const SsoUser*)pRow)->zSource;
      ssoJsonWriteString(w, z && strcmp(z, "sso")==0 ? *(const char *const*)p
                                                     : 0);
      return;
    case AF_BOOL:
      ssoJsonWriteBool(w, *(const int*)p);
      return;
    case AF_USAGE: {
      /* Counted by the /v1 proxy and written in batches, so a second or
      ** two behind. LiteLLM has no such member; "spend" stays 0.0 since
      ** nothing is priced here. */
      const SsoKey *k = (const SsoKey*)pRow;
      ssoJsonWriteBeginObject(w);
      ssoJsonWriteKeyInt64(w, "requests", k->nRequests);
      ssoJsonWriteKeyInt64(w, "prompt_tokens", k->nPromptTokens);
      ssoJsonWriteKeyInt64(w, "completion_tokens", k->nCompletionTokens);
      ssoJsonWriteKeyInt64(w, "total_tokens",
                           k->nPromptTokens + k->nCompletionTokens);
      ssoJsonWriteEndObject(w);
      return;
    }
    case AF_JSON:
      if( *(const char *const*)p ) z = *(const char *const*)p;
      break;
    case AF_I64: case AF_OPT: case AF_TIME:
      v = *(const long long*)p;
      if( v==0 && f->eKind!=AF_I64 ){
        z = "null";
      }else if( f->eKind==AF_TIME ){
        ssoAuthzTimeText(v, zTime);
        ssoJsonWriteString(w, zTime);
        return;
      }else{
        ssoJsonWriteInt64(w, v);
        return;
      }
      break;
  }
  ssoJsonWriteRaw(w, z, strlen(z));
}

/* The members of row pRow by its field map a[n], without the braces. */
static void apiWriteFields(SsoJsonWriter *w, const ApiField *a, size_t n,
                           const void *pRow){
  size_t i;
  for(i=0; i<n; i++) apiWriteField(w, &a[i], pRow);
}
#define apiWriteKeyMembers(w, k) \
  apiWriteFields(w, aApiKeyField, SSO_ARRAYSIZE(aApiKeyField), k)
#define apiWriteUserMembers(w, u) \
  apiWriteFields(w, aApiUserField, SSO_ARRAYSIZE(aApiUserField), u)

SSO_PRIVATE void ssoApiWriteKey(SsoJsonWriter *w, const SsoKey *k){
  ssoJsonWriteBeginObject(w);
  apiWriteKeyMembers(w, k);
  ssoJsonWriteEndObject(w);
}

SSO_PRIVATE void ssoApiWriteUser(SsoJsonWriter *w, const SsoUser *u){
  ssoJsonWriteBeginObject(w);
  apiWriteUserMembers(w, u);
  ssoJsonWriteEndObject(w);
}

/* An RFC 3339 time member, or null for 0. */
static void apiWriteTime(SsoJsonWriter *w, const char *zKey, long long t){
  static const ApiField f = { 0, AF_TIME, 0, 0 };
  ApiField g = f;
  g.zName = zKey;
  apiWriteField(w, &g, (const char*)&t);
}

/* ---- Row operations and the audit log ---- */

typedef void (*ApiRowWriter)(SsoJsonWriter*, const void*);
static void apiRowKey(SsoJsonWriter *w, const void *p){
  ssoApiWriteKey(w, (const SsoKey*)p);
}
static void apiRowUser(SsoJsonWriter *w, const void *p){
  ssoApiWriteUser(w, (const SsoUser*)p);
}

/*
** Append one audit entry: zActor did zAction to the zType zId, which was
** pBefore and is now pAfter (either NULL), both written by xRow. The two
** JSON texts share one buffer, separated by a NUL.
*/
static int apiAudit(SsoStore *pStore, const char *zActor,
                    const char *zAction, const char *zType, const char *zId,
                    ApiRowWriter xRow, const void *pBefore,
                    const void *pAfter){
  SsoBuf b;
  SsoJsonWriter w;
  SsoAudit e;
  size_t iAfter = 0;
  int rc = SSOPROXY_OK;
  ssoBufInit(&b, 0);
  if( pBefore ){
    ssoJsonWriteInit(&w, &b);
    xRow(&w, pBefore);
    rc = ssoJsonWriteFinish(&w);
    ssoBufAppendChar(&b, 0);
    iAfter = b.n;
  }
  if( rc==SSOPROXY_OK && pAfter ){
    ssoJsonWriteInit(&w, &b);
    xRow(&w, pAfter);
    rc = ssoJsonWriteFinish(&w);
  }
  if( rc==SSOPROXY_OK ) rc = b.rc;
  if( rc==SSOPROXY_OK ){
    memset(&e, 0, sizeof(e));
    e.zActor = zActor;
    e.zAction = zAction;
    e.zObjectType = zType;
    e.zObjectId = zId;
    e.zBefore = pBefore ? b.z : 0;
    e.zAfter = pAfter ? b.z+iAfter : 0;
    rc = ssoStoreAuditAppend(pStore, &e, 0);
  }
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE int ssoApiKeyInsert(SsoStore *pStore, SsoRng *pRng,
                                const char *zActor, SsoKey *pKey,
                                SsoApiNewKey *pNew){
  size_t n;
  int rc = ssoAuthzKeyNew(pRng, pNew->zKey);
  if( rc ) return rc;
  n = strlen(pNew->zKey);
  ssoAuthzKeyHash(pNew->zKey, n, pNew->zHash);
  ssoAuthzKeyDisplay(pNew->zKey, n, pNew->zDisplay);
  pKey->zHash = pNew->zHash;
  pKey->zDisplay = pNew->zDisplay;
  if( pKey->tCreated==0 ) pKey->tCreated = ssoOsNowMs();
  if( pKey->zIssuedVia==0 ) pKey->zIssuedVia = "api";
  rc = ssoStoreKeyInsert(pStore, pKey);
  if( rc==SSOPROXY_OK ){
    rc = apiAudit(pStore, zActor, "create", "key", pKey->zHash, apiRowKey,
                  0, pKey);
  }
  return rc;
}

SSO_PRIVATE int ssoApiKeySave(SsoStore *pStore, const char *zActor,
                              const SsoKey *pOld, const SsoKey *pNew){
  int rc = ssoStoreKeyUpdate(pStore, pNew);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "update", "key", pOld->zHash, apiRowKey,
                  pOld, pNew);
}

SSO_PRIVATE int ssoApiKeyDrop(SsoStore *pStore, const char *zActor,
                              const SsoKey *pOld){
  int rc = ssoStoreKeyDelete(pStore, pOld->zHash);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "delete", "key", pOld->zHash, apiRowKey,
                  pOld, 0);
}

SSO_PRIVATE int ssoApiUserInsert(SsoStore *pStore, const char *zActor,
                                 SsoUser *pUser){
  int rc;
  if( pUser->tCreated==0 ) pUser->tCreated = ssoOsNowMs();
  if( pUser->tUpdated==0 ) pUser->tUpdated = pUser->tCreated;
  rc = ssoStoreUserInsert(pStore, pUser);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "create", "user", pUser->zId, apiRowUser,
                  0, pUser);
}

SSO_PRIVATE int ssoApiUserSave(SsoStore *pStore, const char *zActor,
                               const SsoUser *pOld, const SsoUser *pNew){
  SsoUser u = *pNew;
  int bRole = strcmp(pOld->zRole, pNew->zRole)!=0;
  int rc;
  u.tUpdated = ssoOsNowMs();
  rc = ssoStoreUserUpdate(pStore, &u);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, bRole ? "role_change" : "update", "user",
                  pOld->zId, apiRowUser, pOld, &u);
}

SSO_PRIVATE int ssoApiUserDrop(SsoStore *pStore, const char *zActor,
                               const SsoUser *pOld, int *pnKey){
  SsoArena a;
  SsoKey *aKey = 0;
  int i, nKey = 0, nDone = 0, rc;
  /* The keys go first, a page at a time, each with its own entry, so the
  ** log shows every key that stopped working and why. */
  do{
    ssoArenaInit(&a, 0);
    rc = ssoStoreKeyList(pStore, pOld->zId, 0, SSO_DB_MAX_PAGE, &a, &aKey,
                         &nKey);
    for(i=0; rc==SSOPROXY_OK && i<nKey; i++){
      rc = ssoApiKeyDrop(pStore, zActor, &aKey[i]);
    }
    nDone += rc ? 0 : nKey;
    ssoArenaFree(&a);
  }while( rc==SSOPROXY_OK && nKey>0 );
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserDelete(pStore, pOld->zId);
  if( rc==SSOPROXY_OK ){
    rc = apiAudit(pStore, zActor, "delete", "user", pOld->zId, apiRowUser,
                  pOld, 0);
  }
  if( pnKey ) *pnKey = rc ? 0 : nDone;
  return rc;
}

SSO_PRIVATE int ssoApiDuration(const char *z, long long *pMs){
  static const struct { const char *zUnit; long long nMs; } aUnit[] = {
    { "s", 1000LL }, { "m", 60000LL }, { "h", 3600000LL },
    { "hr", 3600000LL }, { "d", 86400000LL }, { "w", 604800000LL },
    { "mo", 2592000000LL }, { "y", 31536000000LL },
  };
  long long n = 0;
  size_t i;
  int nDigit = 0;
  while( z[nDigit]>='0' && z[nDigit]<='9' && nDigit<10 ){
    n = n*10 + (z[nDigit]-'0');
    nDigit++;
  }
  if( nDigit==0 || n==0 ) return SSOPROXY_PARSE;
  for(i=0; i<SSO_ARRAYSIZE(aUnit); i++){
    if( strcmp(z+nDigit, aUnit[i].zUnit)==0 ){
      if( n > SSO_API_MAX_DURATION/aUnit[i].nMs ) return SSOPROXY_PARSE;
      *pMs = n*aUnit[i].nMs;
      return SSOPROXY_OK;
    }
  }
  return SSOPROXY_PARSE;
}

/* ---- One request ---- */

typedef struct ApiCtx ApiCtx;
struct ApiCtx {
  SsoApi *pApi;
  SsoApiWorker *pW;
  SsoStore *pStore;
  const SsoApiCall *pCall;
  long long tNow;           /* Unix ms at arrival */
  SsoArena a;               /* Rows and texts of this request */
  SsoCaller who;            /* Who is calling */
  SsoJsonDoc *pDoc;         /* The parsed body; owned */
  const SsoJson *pBody;     /* Its root object; NULL for a GET */
  SsoForm q;                /* The query's parameters */
  SsoAuthzErr err;          /* The first error meant for the client */
  SsoJsonWriter w;          /* Writes the answer */
};

/* Record a client error (the first one wins); returns SSOPROXY_ERROR. */
static int apiFail(ApiCtx *c, int iStatus, const char *zParam,
                   const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;
static int apiFail(ApiCtx *c, int iStatus, const char *zParam,
                   const char *zFmt, ...){
  const char *zType = "invalid_request_error";
  va_list ap;
  int rc;
  if( iStatus==401 || iStatus==403 ) zType = "auth_error";
  if( iStatus==404 ) zType = "not_found_error";
  if( iStatus>=500 ) zType = "internal_server_error";
  va_start(ap, zFmt);
  rc = ssoAuthzFailV(&c->err, iStatus, zType, zParam, zFmt, ap);
  va_end(ap);
  return rc;
}

/* ---- Reading the body ---- */

static const char *apiTypeName(int eType){
  switch( eType ){
    case SSO_JSON_STRING: return "a string";
    case SSO_JSON_NUMBER: return "an integer";
    case SSO_JSON_ARRAY:  return "an array";
    case SSO_JSON_OBJECT: return "an object";
    case SSO_JSON_TRUE:   return "a boolean";
  }
  return "a value";
}

/*
** The body's member zName: NULL when absent or null (LiteLLM treats null
** as "not given"), 422 when bNeed and so, or when of another type than
** eType (SSO_JSON_TRUE stands for either boolean).
*/
static const SsoJson *apiMember(ApiCtx *c, const char *zName, int eType,
                                int bNeed){
  const SsoJson *v = ssoJsonGet(c->pBody, zName);
  int t = ssoJsonType(v);
  if( t==SSO_JSON_NONE || t==SSO_JSON_NULL ){
    if( bNeed ) apiFail(c, 422, zName, "%s: field required", zName);
    return 0;
  }
  if( t==SSO_JSON_FALSE ) t = SSO_JSON_TRUE;
  if( t!=eType ){
    apiFail(c, 422, zName, "%s: expected %s, got %s", zName,
            apiTypeName(eType), apiTypeName(t));
    return 0;
  }
  return v;
}

/* Text for field zName: 1..SSO_API_MAX_TEXT bytes, no NUL; else 400. */
static const char *apiTextOk(ApiCtx *c, const char *zName, const char *z,
                             size_t n){
  if( z==0 ) return 0;
  if( n==0 ){
    apiFail(c, 400, zName, "%s: must not be empty", zName);
  }else if( n>SSO_API_MAX_TEXT ){
    apiFail(c, 400, zName, "%s: longer than %d bytes", zName,
            SSO_API_MAX_TEXT);
  }else if( memchr(z, 0, n) ){
    apiFail(c, 400, zName, "%s: contains a NUL character", zName);
  }else if( !ssoJsonUtf8Valid(z, n) ){
    apiFail(c, 400, zName, "%s: not valid UTF-8", zName);
  }else{
    return z;
  }
  return 0;
}

static const char *apiText(ApiCtx *c, const char *zName, int bNeed){
  size_t n = 0;
  const char *z = ssoJsonStr(apiMember(c, zName, SSO_JSON_STRING, bNeed), &n);
  return apiTextOk(c, zName, z, n);
}

/* An integer member in [lo, hi]: 1 and *pv when given. */
static int apiInt(ApiCtx *c, const char *zName, long long lo, long long hi,
                  long long *pv){
  const SsoJson *v = apiMember(c, zName, SSO_JSON_NUMBER, 0);
  if( v==0 ) return 0;
  if( ssoJsonInt64(v, pv)!=SSOPROXY_OK || *pv<lo || *pv>hi ){
    apiFail(c, 422, zName, "%s: expected an integer from %lld to %lld",
            zName, lo, hi);
    return 0;
  }
  return 1;
}

static int apiBool(ApiCtx *c, const char *zName, int *pb){
  const SsoJson *v = apiMember(c, zName, SSO_JSON_TRUE, 0);
  if( v ) *pb = ssoJsonType(v)==SSO_JSON_TRUE;
  return v!=0;
}

/* An array of texts (each as apiTextOk checks), at most MAX_ITEMS. */
static const SsoJson *apiTexts(ApiCtx *c, const char *zName, int bNeed){
  const SsoJson *v = apiMember(c, zName, SSO_JSON_ARRAY, bNeed);
  size_t i, n = ssoJsonCount(v);
  if( n>SSO_API_MAX_ITEMS ){
    apiFail(c, 400, zName, "%s: more than %d entries", zName,
            SSO_API_MAX_ITEMS);
    return 0;
  }
  for(i=0; i<n; i++){
    const SsoJson *e = ssoJsonAt(v, i);
    size_t nE = 0;
    const char *z = ssoJsonStr(e, &nE);
    if( z==0 ){
      apiFail(c, 422, zName, "%s: expected an array of strings", zName);
      return 0;
    }
    if( apiTextOk(c, zName, z, nE)==0 ) return 0;
  }
  return v;
}

/* Member zName (an object, or an array of texts) as compact JSON text
** in the arena, for a JSON column; NULL when not given. */
static const char *apiJsonText(ApiCtx *c, const char *zName, int eType){
  const SsoJson *v;
  SsoBuf b;
  const char *z = 0;
  v = eType==SSO_JSON_ARRAY ? apiTexts(c, zName, 0)
                            : apiMember(c, zName, eType, 0);
  if( v==0 ) return 0;
  ssoBufInit(&b, SSO_API_MAX_JSON);
  if( ssoJsonToBuf(v, &b)==SSOPROXY_TOOBIG || b.rc==SSOPROXY_TOOBIG ){
    apiFail(c, 400, zName, "%s: larger than %d bytes", zName,
            SSO_API_MAX_JSON);
  }else if( b.rc==SSOPROXY_OK ){
    z = ssoArenaStrndup(&c->a, b.z, b.n);
  }
  if( z==0 && c->err.iStatus==0 ){
    apiFail(c, 500, 0, "out of memory");
  }
  ssoBufFree(&b);
  return z;
}

/* ---- Reading the query ---- */

static const char *apiQuery(ApiCtx *c, const char *zName){
  SsoStr v;
  int rc = ssoFormGet(&c->q, zName, &v);
  if( rc==SSOPROXY_CONSTRAINT ){
    apiFail(c, 400, zName, "%s: given more than once", zName);
  }
  if( rc || v.n==0 ) return 0;
  return apiTextOk(c, zName, v.z, v.n);
}

static int apiQueryInt(ApiCtx *c, const char *zName, int iDefault, int lo,
                       int hi){
  const char *z = apiQuery(c, zName);
  long long v = 0;
  int i;
  if( z==0 ) return iDefault;
  for(i=0; z[i]>='0' && z[i]<='9' && i<10; i++) v = v*10 + (z[i]-'0');
  if( i==0 || z[i] || v<lo || v>hi ){
    apiFail(c, 422, zName, "%s: expected an integer from %d to %d", zName,
            lo, hi);
    return iDefault;
  }
  return (int)v;
}

static int apiQueryBool(ApiCtx *c, const char *zName){
  const char *z = apiQuery(c, zName);
  if( z==0 || strcmp(z, "false")==0 || strcmp(z, "0")==0 ) return 0;
  if( strcmp(z, "true")==0 || strcmp(z, "1")==0 ) return 1;
  apiFail(c, 422, zName, "%s: expected true or false", zName);
  return 0;
}

/* ---- Finding rows ---- */

/* zRef, from field zName, is a key or its hash: the hash into zHash. */
static int apiKeyHashOf(ApiCtx *c, const char *zName, const char *zRef,
                        char *zHash){
  size_t i, n = strlen(zRef);
  if( n>=3 && memcmp(zRef, SSO_KEY_PREFIX, 3)==0 ){
    ssoAuthzKeyHash(zRef, n, zHash);
    return SSOPROXY_OK;
  }
  for(i=0; n==SSO_KEY_HEX-1 && i<n; i++){
    char ch = zRef[i];
    if( ch>='A' && ch<='F' ) ch = (char)(ch - 'A' + 'a');
    if( !((ch>='0' && ch<='9') || (ch>='a' && ch<='f')) ) break;
    zHash[i] = ch;
  }
  if( n==SSO_KEY_HEX-1 && i==n ){
    zHash[n] = 0;
    return SSOPROXY_OK;
  }
  return apiFail(c, 400, zName, "%s: expected an API key (sk-...) or its "
                 "SHA-256 hash", zName);
}

/*
** The key zRef (a key or hash; an alias when bAlias) named by field
** zName, which the caller must be allowed to eAction: 404 or 403 else.
*/
static int apiKeyLoad(ApiCtx *c, int eAction, const char *zName,
                      const char *zRef, int bAlias, SsoKey *pKey){
  char zHash[SSO_KEY_HEX];
  int rc;
  if( bAlias ){
    rc = ssoStoreKeyGetByAlias(c->pStore, zRef, &c->a, pKey);
  }else{
    rc = apiKeyHashOf(c, zName, zRef, zHash);
    if( rc ) return rc;
    rc = ssoStoreKeyGet(c->pStore, zHash, &c->a, pKey);
  }
  if( rc==SSOPROXY_NOTFOUND ){
    return apiFail(c, 404, zName, "%s: key not found", zName);
  }
  if( rc==SSOPROXY_OK
   && !ssoAuthzMayTouch(&c->who, eAction, pKey->zUserId, pKey->zHash) ){
    return apiFail(c, 403, zName, "%s: a %s may not use %s on another "
                   "user's key", zName, ssoAuthzRoleName(c->who.eRole),
                   ssoAuthzActionPath(eAction));
  }
  return rc;
}

/* The user zId (by e-mail when bEmail), whom the caller may eAction. */
static int apiUserLoad(ApiCtx *c, int eAction, const char *zName,
                       const char *zId, int bEmail, SsoUser *pUser){
  int rc = bEmail ? ssoStoreUserGetByEmail(c->pStore, zId, &c->a, pUser)
                  : ssoStoreUserGet(c->pStore, zId, &c->a, pUser);
  if( rc==SSOPROXY_NOTFOUND ){
    return apiFail(c, 404, zName, "%s: no such user: %s", zName, zId);
  }
  if( rc==SSOPROXY_OK && !ssoAuthzMayTouch(&c->who, eAction, pUser->zId, 0) ){
    return apiFail(c, 403, zName, "%s: a %s may not use %s on another "
                   "user", zName, ssoAuthzRoleName(c->who.eRole),
                   ssoAuthzActionPath(eAction));
  }
  return rc;
}

/* A role given in field zName; 400 listing the valid ones if unknown. */
static const char *apiRole(ApiCtx *c, const char *zName, const char *z){
  int bAlias = 0;
  int eRole = z ? ssoAuthzRole(z, &bAlias) : SSO_ROLE_NONE;
  if( z==0 ) return 0;
  if( eRole==SSO_ROLE_NONE ){
    apiFail(c, 400, zName, "%s: invalid role \"%s\"; valid roles: "
            SSO_ROLE_LIST, zName, z);
    return 0;
  }
  if( bAlias && c->pApi->pLog ){
    ssoLog(c->pApi->pLog, SSO_LOG_WARN, "role internal_user_view_only is "
           "deprecated; stored as internal_user_viewer", "field", zName,
           (char*)0);
  }
  return ssoAuthzRoleName(eRole);
}

/* 400 unless zUserId names a user (keys need an existing owner). */
static int apiOwnerExists(ApiCtx *c, const char *zUserId){
  SsoUser u;
  int rc = ssoStoreUserGet(c->pStore, zUserId, &c->a, &u);
  if( rc==SSOPROXY_NOTFOUND ){
    return apiFail(c, 400, "user_id", "user_id: no such user: %s", zUserId);
  }
  return rc;
}

/* 400 if another key than zHash (NULL: any) has the alias zAlias. */
static int apiAliasFree(ApiCtx *c, const char *zAlias, const char *zHash){
  SsoKey k;
  int rc = ssoStoreKeyGetByAlias(c->pStore, zAlias, &c->a, &k);
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  if( zHash && strcmp(k.zHash, zHash)==0 ) return SSOPROXY_OK;
  return apiFail(c, 400, "key_alias", "key_alias: a key with alias %s "
                 "already exists", zAlias);
}

/*
** Commit after success, roll back after anything else. The answer is
** written before this, inside the transaction: when it cannot be written
** (out of memory) the change is rolled back, so a client told 500 can
** trust that nothing happened, and a new key exists only if its one
** showing went out.
*/
static int apiEnd(ApiCtx *c, int rc){
  if( rc==SSOPROXY_OK ) rc = c->w.rc ? c->w.rc : c->w.pBuf->rc;
  if( rc==SSOPROXY_OK ) return ssoStoreCommit(c->pStore);
  ssoStoreRollback(c->pStore);
  return rc;
}

/* ---- Writing answers ---- */

/* {"keyName": [...the texts of array v...]} members. */
static void apiWriteTexts(SsoJsonWriter *w, const SsoJson *v){
  size_t i;
  for(i=0; i<ssoJsonCount(v); i++){
    ssoJsonWriteString(w, ssoJsonCStr(ssoJsonAt(v, i)));
  }
}

/* Open the answer {"zName":[ ... which apiListEnd() closes. */
static void apiListBegin(ApiCtx *c, const char *zName){
  ssoJsonWriteBeginObject(&c->w);
  ssoJsonWriteKey(&c->w, zName);
  ssoJsonWriteBeginArray(&c->w);
}

/* The paging members shared by the list answers. */
static void apiWritePage(SsoJsonWriter *w, const char *zTotal, int nTotal,
                         const char *zPage, int iPage, const char *zSize,
                         int nSize){
  ssoJsonWriteKeyInt64(w, zTotal, nTotal);
  ssoJsonWriteKeyInt64(w, zPage, iPage);
  if( zSize ) ssoJsonWriteKeyInt64(w, zSize, nSize);
  ssoJsonWriteKeyInt64(w, "total_pages", (nTotal + nSize - 1)/nSize);
}

/* ---- Keys ---- */

/*
** The key fields a request may set, applied over *pKey (a new zeroed key
** or a copy of the stored one): a field not given leaves its value.
** *pzDur is the duration as given (NULL if not).
*/
static void apiKeyFields(ApiCtx *c, SsoKey *pKey, const char **pzDur){
  const char *z;
  long long v, ms = 0;
  int b;
  if( (z = apiText(c, "key_alias", 0))!=0 ) pKey->zAlias = z;
  *pzDur = apiText(c, "duration", 0);
  if( *pzDur ){
    if( ssoApiDuration(*pzDur, &ms) ){
      apiFail(c, 400, "duration", "duration: expected a number and a unit "
              "(s, m, h, d, w, mo or y), such as 30d; got \"%s\"", *pzDur);
    }
    pKey->tExpires = c->tNow + ms;
  }
  if( (z = apiJsonText(c, "models", SSO_JSON_ARRAY))!=0 ) pKey->zModels = z;
  if( (z = apiJsonText(c, "metadata", SSO_JSON_OBJECT))!=0 ){
    pKey->zMetadata = z;
  }
  if( apiInt(c, "rpm_limit", 1, 1000000000000LL, &v) ) pKey->nRpmLimit = v;
  if( apiInt(c, "tpm_limit", 1, 1000000000000LL, &v) ) pKey->nTpmLimit = v;
  if( apiBool(c, "blocked", &b) ) pKey->bBlocked = b;
}

/* Insert key pKey for the request (owner and alias checked first). */
static int apiKeyCreate(ApiCtx *c, SsoKey *pKey, SsoApiNewKey *pNew){
  int rc = SSOPROXY_OK;
  if( pKey->zUserId ) rc = apiOwnerExists(c, pKey->zUserId);
  if( rc==SSOPROXY_OK && pKey->zAlias ) rc = apiAliasFree(c, pKey->zAlias, 0);
  if( rc==SSOPROXY_OK ){
    rc = ssoApiKeyInsert(c->pStore, c->pW->pRng, c->who.zActor, pKey, pNew);
  }
  return rc;
}

static int apiKeyGenerate(ApiCtx *c){
  SsoKey k;
  SsoApiNewKey nk;
  const char *zDur;
  int rc;
  memset(&k, 0, sizeof(k));
  apiKeyFields(c, &k, &zDur);
  k.zUserId = apiText(c, "user_id", 0);
  if( ssoJsonGet(c->pBody, "key") ){
    apiFail(c, 400, "key", "key: custom key values are not accepted; "
            "ssoproxy generates every key");
  }
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( k.zUserId==0 ) k.zUserId = c->who.zUserId;
  if( !ssoAuthzMayTouch(&c->who, SSO_ACT_KEY_GENERATE, k.zUserId, 0) ){
    return apiFail(c, 403, "user_id", "user_id: a %s may only create keys "
                   "for themselves", ssoAuthzRoleName(c->who.eRole));
  }
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiKeyCreate(c, &k, &nk);
  if( rc==SSOPROXY_OK ){
    ssoJsonWriteBeginObject(&c->w);
    ssoJsonWriteKeyString(&c->w, "key", nk.zKey);
    apiWriteKeyMembers(&c->w, &k);
    ssoJsonWriteKeyString(&c->w, "token_id", k.zHash);
    ssoJsonWriteKeyString(&c->w, "duration", zDur);
    ssoJsonWriteKeyString(&c->w, "created_by", c->who.zActor);
    ssoJsonWriteEndObject(&c->w);
  }
  rc = apiEnd(c, rc);
  memset(nk.zKey, 0, sizeof(nk.zKey));
  return rc;
}

static int apiKeyInfo(ApiCtx *c){
  const char *zRef = apiQuery(c, "key");
  SsoKey k;
  int rc = SSOPROXY_OK;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( zRef ){
    rc = apiKeyLoad(c, SSO_ACT_KEY_INFO, "key", zRef, 0, &k);
  }else if( c->who.eKind==SSO_CALLER_KEY ){
    k = c->who.key;
    zRef = k.zHash;
  }else{
    return apiFail(c, 400, "key", "key: required unless calling with an "
                   "API key");
  }
  if( rc ) return rc;
  ssoJsonWriteBeginObject(&c->w);
  ssoJsonWriteKeyString(&c->w, "key", zRef);
  ssoJsonWriteKey(&c->w, "info");
  ssoApiWriteKey(&c->w, &k);
  ssoJsonWriteEndObject(&c->w);
  return SSOPROXY_OK;
}

/*
** Fields only an admin may change on an existing key: limits and blocking
** are an admin's brakes, and the owner decides whose budget it is.
*/
static int apiKeyAdminFields(ApiCtx *c, const SsoKey *pOld,
                             const SsoKey *pNew){
  const char *zField = 0;
  if( ssoAuthzScope(c->who.eRole, SSO_ACT_KEY_UPDATE)==SSO_SCOPE_ANY ){
    return SSOPROXY_OK;
  }
  if( pNew->nRpmLimit!=pOld->nRpmLimit ) zField = "rpm_limit";
  if( pNew->nTpmLimit!=pOld->nTpmLimit ) zField = "tpm_limit";
  if( pNew->bBlocked!=pOld->bBlocked ) zField = "blocked";
  if( (pNew->zUserId==0)!=(pOld->zUserId==0)
   || (pNew->zUserId && strcmp(pNew->zUserId, pOld->zUserId)!=0) ){
    zField = "user_id";
  }
  if( zField==0 ) return SSOPROXY_OK;
  return apiFail(c, 403, zField, "%s: only a proxy_admin may change it",
                 zField);
}

static int apiKeyUpdateTxn(ApiCtx *c, const char *zRef, SsoKey *pKey){
  SsoKey old;
  const char *zDur, *zUser;
  int rc = apiKeyLoad(c, SSO_ACT_KEY_UPDATE, "key", zRef, 0, &old);
  if( rc ) return rc;
  *pKey = old;
  apiKeyFields(c, pKey, &zDur);
  if( (zUser = apiText(c, "user_id", 0))!=0 ) pKey->zUserId = zUser;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = apiKeyAdminFields(c, &old, pKey);
  if( rc==SSOPROXY_OK && zUser ) rc = apiOwnerExists(c, zUser);
  if( rc==SSOPROXY_OK && pKey->zAlias ){
    rc = apiAliasFree(c, pKey->zAlias, old.zHash);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoApiKeySave(c->pStore, c->who.zActor, &old, pKey);
  }
  return rc;
}

static int apiKeyUpdate(ApiCtx *c){
  const char *zRef = apiText(c, "key", 1);
  SsoKey k;
  int rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiKeyUpdateTxn(c, zRef, &k);
  if( rc==SSOPROXY_OK ){
    ssoJsonWriteBeginObject(&c->w);
    ssoJsonWriteKeyString(&c->w, "key", zRef);
    apiWriteKeyMembers(&c->w, &k);
    ssoJsonWriteEndObject(&c->w);
  }
  rc = apiEnd(c, rc);
  return rc;
}

/* Delete every key of array v (aliases when bAlias), field zName. */
static int apiKeyDeleteAll(ApiCtx *c, const SsoJson *v, const char *zName,
                           int bAlias){
  size_t i;
  int rc = SSOPROXY_OK;
  for(i=0; rc==SSOPROXY_OK && i<ssoJsonCount(v); i++){
    SsoKey k;
    rc = apiKeyLoad(c, SSO_ACT_KEY_DELETE, zName,
                    ssoJsonCStr(ssoJsonAt(v, i)), bAlias, &k);
    if( rc==SSOPROXY_OK ) rc = ssoApiKeyDrop(c->pStore, c->who.zActor, &k);
  }
  return rc;
}

static int apiKeyDelete(ApiCtx *c){
  const SsoJson *pKeys = apiTexts(c, "keys", 0);
  const SsoJson *pAliases = apiTexts(c, "key_aliases", 0);
  int rc;
  if( pKeys==0 && pAliases==0 ){
    apiFail(c, 422, "keys", "keys: one of keys or key_aliases is required");
  }
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  /* All or nothing: one key that may not be deleted keeps them all. */
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiKeyDeleteAll(c, pKeys, "keys", 0);
  if( rc==SSOPROXY_OK ) rc = apiKeyDeleteAll(c, pAliases, "key_aliases", 1);
  if( rc==SSOPROXY_OK ){
    apiListBegin(c, "deleted_keys");
    apiWriteTexts(&c->w, pKeys);
    apiWriteTexts(&c->w, pAliases);
    ssoJsonWriteEndArray(&c->w);
    ssoJsonWriteEndObject(&c->w);
  }
  rc = apiEnd(c, rc);
  return rc;
}

/*
** /key/list for one key (a key_alias or key_hash filter, or a caller whose
** key has no owner): 0 or 1 rows, each filter applied.
*/
static int apiKeyListOne(ApiCtx *c, const char *zUser, const char *zAlias,
                         const char *zHashQ, SsoKey *pKey, int *pn){
  char zHash[SSO_KEY_HEX];
  int rc;
  *pn = 0;
  if( zAlias ){
    rc = ssoStoreKeyGetByAlias(c->pStore, zAlias, &c->a, pKey);
  }else if( zHashQ ){
    rc = apiKeyHashOf(c, "key_hash", zHashQ, zHash);
    if( rc==SSOPROXY_OK ) rc = ssoStoreKeyGet(c->pStore, zHash, &c->a, pKey);
  }else{
    *pKey = c->who.key;
    rc = SSOPROXY_OK;
  }
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  if( zHashQ && apiKeyHashOf(c, "key_hash", zHashQ, zHash)==SSOPROXY_OK
   && strcmp(zHash, pKey->zHash)!=0 ) return SSOPROXY_OK;
  if( zAlias && (pKey->zAlias==0 || strcmp(zAlias, pKey->zAlias)!=0) ){
    return SSOPROXY_OK;
  }
  if( zUser && (pKey->zUserId==0 || strcmp(zUser, pKey->zUserId)!=0) ){
    return SSOPROXY_OK;
  }
  *pn = ssoAuthzMayTouch(&c->who, SSO_ACT_KEY_LIST, pKey->zUserId,
                         pKey->zHash);
  return SSOPROXY_OK;
}

static int apiKeyList(ApiCtx *c){
  int iPage = apiQueryInt(c, "page", 1, 1, 1000000);
  int nSize = apiQueryInt(c, "size", 10, 1, SSO_API_MAX_PAGE);
  const char *zUser = apiQuery(c, "user_id");
  const char *zAlias = apiQuery(c, "key_alias");
  const char *zHashQ = apiQuery(c, "key_hash");
  int bFull = apiQueryBool(c, "return_full_object");
  SsoKey one, *aKey = 0;
  int i, nKey = 0, nTotal = 0, bOwnerless = 0, rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( ssoAuthzScope(c->who.eRole, SSO_ACT_KEY_LIST)==SSO_SCOPE_OWN ){
    if( zUser && (c->who.zUserId==0 || strcmp(zUser, c->who.zUserId)!=0) ){
      return apiFail(c, 403, "user_id", "user_id: a %s may only list their "
                     "own keys", ssoAuthzRoleName(c->who.eRole));
    }
    zUser = c->who.zUserId;
    bOwnerless = zUser==0;
  }
  if( zAlias || zHashQ || bOwnerless ){
    rc = apiKeyListOne(c, zUser, zAlias, zHashQ, &one, &nTotal);
    aKey = &one;
    nKey = iPage==1 ? nTotal : 0;
  }else{
    rc = ssoStoreKeyCount(c->pStore, zUser, &nTotal);
    if( rc==SSOPROXY_OK ){
      rc = ssoStoreKeyList(c->pStore, zUser, (iPage-1)*nSize, nSize, &c->a,
                           &aKey, &nKey);
    }
  }
  if( rc ) return rc;
  apiListBegin(c, "keys");
  for(i=0; i<nKey; i++){
    if( bFull ) ssoApiWriteKey(&c->w, &aKey[i]);
    else ssoJsonWriteString(&c->w, aKey[i].zHash);
  }
  ssoJsonWriteEndArray(&c->w);
  apiWritePage(&c->w, "total_count", nTotal, "current_page", iPage, 0,
               nSize);
  ssoJsonWriteEndObject(&c->w);
  return SSOPROXY_OK;
}

static int apiKeySetBlocked(ApiCtx *c, int eAction, int bBlocked){
  const char *zRef = apiText(c, "key", 1);
  SsoKey old, k;
  int rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiKeyLoad(c, eAction, "key", zRef, 0, &old);
  if( rc==SSOPROXY_OK ){
    k = old;
    k.bBlocked = bBlocked;
    rc = ssoApiKeySave(c->pStore, c->who.zActor, &old, &k);
  }
  if( rc==SSOPROXY_OK ) ssoApiWriteKey(&c->w, &k);
  rc = apiEnd(c, rc);
  return rc;
}

static int apiKeyBlock(ApiCtx *c){
  return apiKeySetBlocked(c, SSO_ACT_KEY_BLOCK, 1);
}

static int apiKeyUnblock(ApiCtx *c){
  return apiKeySetBlocked(c, SSO_ACT_KEY_UNBLOCK, 0);
}

/* ---- Users ---- */

/* A random RFC 9562 version 4 UUID in the arena, LiteLLM's default id. */
static const char *apiUuid(ApiCtx *c){
  unsigned char a[16];
  char zHex[33], *z;
  if( ssoRngBytes(c->pW->pRng, a, sizeof(a)) ) return 0;
  a[6] = (unsigned char)((a[6] & 0x0f) | 0x40);
  a[8] = (unsigned char)((a[8] & 0x3f) | 0x80);
  ssoHexEncode(a, sizeof(a), zHex);
  z = ssoArenaAlloc(&c->a, 37);
  if( z ){
    snprintf(z, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", zHex, zHex+8, zHex+12,
             zHex+16, zHex+20);
  }
  return z;
}

static int apiUserNewTxn(ApiCtx *c, SsoUser *pUser, int bKey,
                         SsoKey *pKey, SsoApiNewKey *pNew){
  SsoUser old;
  int rc = ssoStoreUserGet(c->pStore, pUser->zId, &c->a, &old);
  if( rc==SSOPROXY_OK ){
    return apiFail(c, 400, "user_id", "user_id: user %s already exists",
                   pUser->zId);
  }
  if( rc!=SSOPROXY_NOTFOUND ) return rc;
  rc = ssoApiUserInsert(c->pStore, c->who.zActor, pUser);
  if( rc==SSOPROXY_OK && bKey ) rc = apiKeyCreate(c, pKey, pNew);
  return rc;
}

static int apiUserNew(ApiCtx *c){
  SsoUser u;
  SsoKey k;
  SsoApiNewKey nk;
  const char *zDur;
  int bKey = 1, rc;
  memset(&u, 0, sizeof(u));
  memset(&k, 0, sizeof(k));
  memset(&nk, 0, sizeof(nk));
  u.zId = apiText(c, "user_id", 0);
  u.zEmail = apiText(c, "user_email", 0);
  u.zName = apiText(c, "user_alias", 0);
  u.zRole = apiRole(c, "user_role", apiText(c, "user_role", 0));
  u.zMetadata = apiJsonText(c, "metadata", SSO_JSON_OBJECT);
  u.zSource = "local";
  apiBool(c, "auto_create_key", &bKey);
  apiKeyFields(c, &k, &zDur);
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( u.zRole==0 ) u.zRole = "internal_user";
  if( u.zId==0 && (u.zId = apiUuid(c))==0 ) return SSOPROXY_NOMEM;
  k.zUserId = u.zId;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiUserNewTxn(c, &u, bKey, &k, &nk);
  if( rc==SSOPROXY_OK ){
    ssoJsonWriteBeginObject(&c->w);
    ssoJsonWriteKeyString(&c->w, "key", bKey ? nk.zKey : 0);
    ssoJsonWriteKeyString(&c->w, "key_name", k.zDisplay);
    ssoJsonWriteKeyString(&c->w, "token_id", k.zHash);
    ssoJsonWriteKeyString(&c->w, "key_alias", k.zAlias);
    apiWriteTime(&c->w, "expires", k.tExpires);
    apiWriteUserMembers(&c->w, &u);
    ssoJsonWriteEndObject(&c->w);
  }
  rc = apiEnd(c, rc);
  memset(nk.zKey, 0, sizeof(nk.zKey));
  return rc;
}

static int apiUserUpdateTxn(ApiCtx *c, const char *zId, const char *zEmail,
                            SsoUser *pUser){
  SsoUser old;
  const char *z;
  int b;
  int rc = zId ? apiUserLoad(c, SSO_ACT_USER_UPDATE, "user_id", zId, 0, &old)
               : apiUserLoad(c, SSO_ACT_USER_UPDATE, "user_email", zEmail, 1,
                             &old);
  if( rc ) return rc;
  *pUser = old;
  if( zId && zEmail ) pUser->zEmail = zEmail;
  if( (z = apiRole(c, "user_role", apiText(c, "user_role", 0)))!=0 ){
    pUser->zRole = z;
  }
  if( (z = apiText(c, "user_alias", 0))!=0 ) pUser->zName = z;
  if( (z = apiJsonText(c, "metadata", SSO_JSON_OBJECT))!=0 ){
    pUser->zMetadata = z;
  }
  if( apiBool(c, "disabled", &b) ) pUser->bDisabled = b;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  return ssoApiUserSave(c->pStore, c->who.zActor, &old, pUser);
}

static int apiUserUpdate(ApiCtx *c){
  const char *zId = apiText(c, "user_id", 0);
  const char *zEmail = apiText(c, "user_email", 0);
  SsoUser u;
  int rc;
  if( zId==0 && zEmail==0 ){
    apiFail(c, 422, "user_id", "user_id: one of user_id or user_email is "
            "required");
  }
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiUserUpdateTxn(c, zId, zEmail, &u);
  if( rc==SSOPROXY_OK ) ssoApiWriteUser(&c->w, &u);
  rc = apiEnd(c, rc);
  return rc;
}

static int apiUserInfo(ApiCtx *c){
  const char *zId = apiQuery(c, "user_id");
  SsoUser u;
  SsoKey *aKey = 0;
  int i, nKey = 0, rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( zId==0 && (zId = c->who.zUserId)==0 ){
    return apiFail(c, 400, "user_id", "user_id: required when the caller is "
                   "not a user");
  }
  rc = apiUserLoad(c, SSO_ACT_USER_INFO, "user_id", zId, 0, &u);
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreKeyList(c->pStore, zId, 0, SSO_DB_MAX_PAGE, &c->a, &aKey,
                         &nKey);
  }
  if( rc ) return rc;
  ssoJsonWriteBeginObject(&c->w);
  ssoJsonWriteKeyString(&c->w, "user_id", u.zId);
  ssoJsonWriteKey(&c->w, "user_info");
  ssoApiWriteUser(&c->w, &u);
  ssoJsonWriteKey(&c->w, "keys");
  ssoJsonWriteBeginArray(&c->w);
  for(i=0; i<nKey; i++) ssoApiWriteKey(&c->w, &aKey[i]);
  ssoJsonWriteEndArray(&c->w);
  ssoJsonWriteKey(&c->w, "teams");
  ssoJsonWriteRaw(&c->w, "[]", 2);
  ssoJsonWriteEndObject(&c->w);
  return SSOPROXY_OK;
}

/*
** The users named by a comma-separated user_ids, or the one with
** user_email, keeping those of role zRole (NULL: any): an array in the
** arena. Unknown ids are left out, as a filter does.
*/
static int apiUserPick(ApiCtx *c, const char *zIds, const char *zEmail,
                       const char *zRole, SsoUser **paUser, int *pn){
  /* An id and its comma take two bytes at least. */
  int nMax = zIds ? (int)strlen(zIds)/2 + 1 : 1;
  SsoUser *a = ssoArenaAlloc(&c->a, sizeof(SsoUser)*(size_t)nMax);
  char *zId, *zNext;
  int n = 0, rc = SSOPROXY_OK;
  *paUser = a;
  *pn = 0;
  if( a==0 ) return SSOPROXY_NOMEM;
  if( zIds==0 ){
    rc = ssoStoreUserGetByEmail(c->pStore, zEmail, &c->a, &a[0]);
    n = rc==SSOPROXY_OK && (zRole==0 || strcmp(zRole, a[0].zRole)==0);
    *pn = n;
    return rc==SSOPROXY_NOTFOUND ? SSOPROXY_OK : rc;
  }
  zId = ssoArenaStrndup(&c->a, zIds, strlen(zIds));
  if( zId==0 ) return SSOPROXY_NOMEM;
  for(; rc==SSOPROXY_OK && zId; zId = zNext){
    char *zComma = strchr(zId, ',');
    zNext = zComma ? zComma+1 : 0;
    if( zComma ) *zComma = 0;
    if( zId[0]==0 ) continue;
    rc = ssoStoreUserGet(c->pStore, zId, &c->a, &a[n]);
    if( rc==SSOPROXY_NOTFOUND ){
      rc = SSOPROXY_OK;
    }else if( rc==SSOPROXY_OK
           && (zRole==0 || strcmp(zRole, a[n].zRole)==0)
           && (zEmail==0 || (a[n].zEmail
                             && strcasecmp(zEmail, a[n].zEmail)==0)) ){
      n++;
    }
  }
  *pn = n;
  return rc;
}

static int apiUserList(ApiCtx *c){
  int iPage = apiQueryInt(c, "page", 1, 1, 1000000);
  int nSize = apiQueryInt(c, "page_size", 25, 1, SSO_API_MAX_PAGE);
  const char *zRole = apiRole(c, "role", apiQuery(c, "role"));
  const char *zIds = apiQuery(c, "user_ids");
  const char *zEmail = apiQuery(c, "user_email");
  SsoUser *aUser = 0;
  int i, iFirst = 0, nUser = 0, nTotal = 0, rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  if( zIds || zEmail ){
    rc = apiUserPick(c, zIds, zEmail, zRole, &aUser, &nTotal);
    iFirst = (iPage-1)*nSize;
    nUser = nTotal>iFirst ? nTotal-iFirst : 0;
    if( nUser>nSize ) nUser = nSize;
  }else{
    rc = ssoStoreUserList(c->pStore, zRole, (iPage-1)*nSize, nSize, &c->a,
                          &aUser, &nUser);
    if( rc==SSOPROXY_OK ) rc = ssoStoreUserCount(c->pStore, zRole, &nTotal);
  }
  if( rc ) return rc;
  apiListBegin(c, "users");
  for(i=0; rc==SSOPROXY_OK && i<nUser; i++){
    const SsoUser *u = &aUser[iFirst+i];
    int nKey = 0;
    rc = ssoStoreKeyCount(c->pStore, u->zId, &nKey);
    ssoJsonWriteBeginObject(&c->w);
    apiWriteUserMembers(&c->w, u);
    ssoJsonWriteKeyInt64(&c->w, "key_count", nKey);
    ssoJsonWriteEndObject(&c->w);
  }
  ssoJsonWriteEndArray(&c->w);
  apiWritePage(&c->w, "total", nTotal, "page", iPage, "page_size", nSize);
  ssoJsonWriteEndObject(&c->w);
  return rc;
}

static int apiUserDeleteAll(ApiCtx *c, const SsoJson *pIds, int *pnKey){
  size_t i;
  int rc = SSOPROXY_OK;
  *pnKey = 0;
  for(i=0; rc==SSOPROXY_OK && i<ssoJsonCount(pIds); i++){
    SsoUser u;
    int nKey = 0;
    rc = apiUserLoad(c, SSO_ACT_USER_DELETE, "user_ids",
                     ssoJsonCStr(ssoJsonAt(pIds, i)), 0, &u);
    if( rc==SSOPROXY_OK ){
      rc = ssoApiUserDrop(c->pStore, c->who.zActor, &u, &nKey);
    }
    *pnKey += nKey;
  }
  return rc;
}

static int apiUserDelete(ApiCtx *c){
  const SsoJson *pIds = apiTexts(c, "user_ids", 1);
  int nKey = 0, rc;
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = apiUserDeleteAll(c, pIds, &nKey);
  if( rc==SSOPROXY_OK ){
    apiListBegin(c, "deleted_users");
    apiWriteTexts(&c->w, pIds);
    ssoJsonWriteEndArray(&c->w);
    ssoJsonWriteKeyInt64(&c->w, "deleted_keys", nKey);
    ssoJsonWriteEndObject(&c->w);
  }
  rc = apiEnd(c, rc);
  return rc;
}

/* ---- The audit log ---- */

static void apiWriteAudit(SsoJsonWriter *w, const SsoAudit *e){
  ssoJsonWriteBeginObject(w);
  apiWriteFields(w, aApiAuditField, SSO_ARRAYSIZE(aApiAuditField), e);
  ssoJsonWriteEndObject(w);
}

static int apiAuditList(ApiCtx *c){
  int iPage = apiQueryInt(c, "page", 1, 1, 1000000);
  int nSize = apiQueryInt(c, "page_size", 25, 1, SSO_API_MAX_PAGE);
  const char *zType = apiQuery(c, "object_type");
  const char *zId = apiQuery(c, "object_id");
  SsoAudit *aEntry = 0;
  int i, nEntry = 0, nTotal = 0, rc;
  if( zType && strcmp(zType, "key")!=0 && strcmp(zType, "user")!=0 ){
    apiFail(c, 400, "object_type", "object_type: expected key or user");
  }
  if( zId && zType==0 ){
    apiFail(c, 400, "object_id", "object_id: needs object_type");
  }
  if( c->err.iStatus ) return SSOPROXY_ERROR;
  rc = ssoStoreAuditCount(c->pStore, zType, zId, &nTotal);
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreAuditList(c->pStore, zType, zId, (iPage-1)*nSize, nSize,
                           &c->a, &aEntry, &nEntry);
  }
  if( rc ) return rc;
  apiListBegin(c, "audit_logs");
  for(i=0; i<nEntry; i++) apiWriteAudit(&c->w, &aEntry[i]);
  ssoJsonWriteEndArray(&c->w);
  apiWritePage(&c->w, "total", nTotal, "page", iPage, "page_size", nSize);
  ssoJsonWriteEndObject(&c->w);
  return SSOPROXY_OK;
}

/* ---- Dispatch ---- */

static int (*const aApiHandler[SSO_ACT_COUNT])(ApiCtx*) = {
  [SSO_ACT_KEY_GENERATE] = apiKeyGenerate, [SSO_ACT_KEY_INFO] = apiKeyInfo,
  [SSO_ACT_KEY_UPDATE] = apiKeyUpdate, [SSO_ACT_KEY_DELETE] = apiKeyDelete,
  [SSO_ACT_KEY_LIST] = apiKeyList, [SSO_ACT_KEY_BLOCK] = apiKeyBlock,
  [SSO_ACT_KEY_UNBLOCK] = apiKeyUnblock, [SSO_ACT_USER_NEW] = apiUserNew,
  [SSO_ACT_USER_UPDATE] = apiUserUpdate, [SSO_ACT_USER_INFO] = apiUserInfo,
  [SSO_ACT_USER_LIST] = apiUserList, [SSO_ACT_USER_DELETE] = apiUserDelete,
  [SSO_ACT_AUDIT_LIST] = apiAuditList,
};

/* Reads are GETs with a query; changes are POSTs with a JSON body. */
static int apiIsPost(int eAction){
  switch( eAction ){
    case SSO_ACT_KEY_INFO: case SSO_ACT_KEY_LIST: case SSO_ACT_USER_INFO:
    case SSO_ACT_USER_LIST: case SSO_ACT_AUDIT_LIST:
      return 0;
  }
  return 1;
}

/* The query, and for a POST the body, which must be a JSON object. */
static int apiParseInput(ApiCtx *c){
  const SsoApiCall *p = c->pCall;
  SsoJsonErr e;
  size_t iErr = 0;
  int rc = ssoFormParse(&c->a, p->query.z, p->query.n, &c->q, &iErr);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ){
    return apiFail(c, 400, 0, "malformed query string at byte %zu", iErr);
  }
  if( !apiIsPost(p->eAction) ) return SSOPROXY_OK;
  if( p->nBody==0 ){
    rc = ssoJsonParse("{}", 2, 0, &c->pDoc, &e);
  }else{
    rc = ssoJsonParse(p->pBody, p->nBody, SSO_JSON_NODUP, &c->pDoc, &e);
  }
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ){
    return apiFail(c, 400, 0, "invalid JSON in the request body at byte "
                   "%zu: %s", e.iOfs, e.zMsg);
  }
  c->pBody = ssoJsonRoot(c->pDoc);
  if( ssoJsonType(c->pBody)!=SSO_JSON_OBJECT ){
    return apiFail(c, 422, 0, "the request body must be a JSON object");
  }
  return SSOPROXY_OK;
}

static int apiRun(ApiCtx *c){
  const SsoApiCall *p = c->pCall;
  int rc = ssoAuthzAuthenticate(&c->pApi->authz, c->pStore, p->method,
                                p->aHdr, p->nHdr, c->tNow, &c->a, &c->who,
                                &c->err);
  if( rc ) return rc;
  /* The stored last use came with the key: rewrite it only when it is
  ** a minute old, so a busy key costs a write a minute, not a second,
  ** and a large table is not rewritten page by page every second. */
  if( c->who.eKind==SSO_CALLER_KEY
   && c->tNow - c->who.key.tLastUsed >= SSO_API_TOUCH_GRAIN ){
    ssoApiWorkerTouch(c->pW, p->pLoop, c->who.key.zHash, c->tNow);
  }
  if( ssoAuthzScope(c->who.eRole, p->eAction)==SSO_SCOPE_NONE ){
    return apiFail(c, 403, 0, "Access denied: %s is not allowed for role "
                   "%s", ssoAuthzActionPath(p->eAction),
                   ssoAuthzRoleName(c->who.eRole));
  }
  rc = apiParseInput(c);
  if( rc==SSOPROXY_OK ) rc = aApiHandler[p->eAction](c);
  return rc;
}

/* The LiteLLM error envelope; "code" is the status as a string. */
static void apiWriteError(ApiCtx *c){
  char zCode[8];
  snprintf(zCode, sizeof(zCode), "%d", c->err.iStatus);
  ssoJsonWriteBeginObject(&c->w);
  ssoJsonWriteKey(&c->w, "error");
  ssoJsonWriteBeginObject(&c->w);
  ssoJsonWriteKeyString(&c->w, "message", c->err.zMsg);
  ssoJsonWriteKeyString(&c->w, "type", c->err.zType);
  ssoJsonWriteKeyString(&c->w, "param", c->err.zParam);
  ssoJsonWriteKeyString(&c->w, "code", zCode);
  ssoJsonWriteEndObject(&c->w);
  ssoJsonWriteEndObject(&c->w);
}

SSO_PRIVATE int ssoApiServe(SsoApi *pApi, SsoApiWorker *pW,
                            const SsoApiCall *pCall, SsoBuf *pOut,
                            int *piStatus){
  ApiCtx c;
  int rc;
  memset(&c, 0, sizeof(c));
  c.pApi = pApi;
  c.pW = pW;
  c.pStore = pW->pStore;
  c.pCall = pCall;
  c.tNow = ssoOsNowMs();
  ssoArenaInit(&c.a, 0);
  ssoJsonWriteInit(&c.w, pOut);
  rc = (pCall->eAction>=0 && pCall->eAction<SSO_ACT_COUNT) ? apiRun(&c)
       : SSOPROXY_MISUSE;
  if( rc && c.err.iStatus==0 ){
    if( rc==SSOPROXY_CONSTRAINT ){
      apiFail(&c, 409, 0, "the change conflicts with the database: %s",
              ssoStoreErrmsg(c.pStore));
    }else{
      if( pApi->pLog ){
        ssoLog(pApi->pLog, SSO_LOG_ERROR, "management API request failed",
               "route", ssoAuthzActionPath(pCall->eAction), "error",
               rc==SSOPROXY_NOMEM ? "out of memory" : ssoStoreErrmsg(c.pStore),
               (char*)0);
      }
      apiFail(&c, 500, 0, "Internal Server Error");
    }
  }
  *piStatus = c.err.iStatus ? c.err.iStatus : 200;
  if( c.err.iStatus ){
    ssoBufTruncate(pOut, 0);
    ssoJsonWriteInit(&c.w, pOut);
    apiWriteError(&c);
  }
  rc = ssoJsonWriteFinish(&c.w);
  ssoJsonFree(c.pDoc);
  ssoArenaFree(&c.a);
  return rc;
}

/* ---- Routes ---- */

static int apiOnRequest(SsoServerReq *pReq, void *pArg){
  const SsoApiRoute *pRoute = pArg;
  SsoApiCall call;
  SsoBuf b;
  char zSpace[2048];
  int iStatus = 500, rc;
  if( pReq->pWorkerCtx==0 ) return ssoServerError(pReq, 503, 0);
  memset(&call, 0, sizeof(call));
  call.eAction = pRoute->eAction;
  call.method = pReq->method;
  call.aHdr = pReq->aHdr;
  call.nHdr = pReq->nHdr;
  call.query = pReq->query;
  call.pBody = pReq->pBody;
  call.nBody = pReq->nBody;
  call.pLoop = pReq->pLoop;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  rc = ssoApiServe(pRoute->pApi, pReq->pWorkerCtx, &call, &b, &iStatus);
  /* Answers can carry a new key: nothing may cache them. */
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(pReq, iStatus);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(pReq, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(pReq, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(pReq, b.z, b.n);
  memset(b.z, 0, b.n);
  ssoBufFree(&b);
  return rc;
}

SSO_PRIVATE void ssoApiInit(SsoApi *p, const char *zMasterKey, SsoLog *pLog){
  int i;
  memset(p, 0, sizeof(*p));
  ssoAuthzInit(&p->authz, zMasterKey);
  p->pLog = pLog;
  for(i=0; i<SSO_ACT_COUNT; i++){
    p->aRoute[i].pApi = p;
    p->aRoute[i].eAction = i;
  }
}

SSO_PRIVATE int ssoApiRegister(SsoServer *pSrv, SsoApi *p){
  int i, rc = SSOPROXY_OK;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ACT_COUNT; i++){
    rc = ssoServerRoute(pSrv, apiIsPost(i) ? "POST" : "GET",
                        ssoAuthzActionPath(i), apiOnRequest, &p->aRoute[i]);
  }
  return rc;
}
