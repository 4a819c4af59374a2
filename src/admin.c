/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the administration commands (ssoproxy user|key|audit ...).
**
** They open the database file with the same store the server uses, so
** the schema checks and migrations are the same, and several processes
** can share the file: WAL lets the server keep reading while a command
** writes, and a writer waits for the lock (SSO_DB_BUSY_TIMEOUT_MS)
** instead of failing. Each change is one transaction with its audit
** entries, written by the same row operations as the HTTP API
** (ssoApiKeyInsert ...), with the actor "cli:<login name>".
**
** Exit status: 0 done; 1 the thing named does not exist or the database
** failed; 2 the command line is wrong.
*/
#include "ssoInt.h"
#include <pwd.h>
#include <unistd.h>

#define ADMIN_OK      0
#define ADMIN_FAILED  1
#define ADMIN_USAGE   2

/* The options of the admin commands; each takes a value. */
typedef struct AdminArgs AdminArgs;
struct AdminArgs {
  const char *azPos[4];     /* Positional words after the command */
  int nPos;
  const char *zUser, *zAlias, *zDuration, *zModels, *zRole, *zEmail;
  const char *zName, *zType, *zId, *zLimit;
};

static const struct { const char *zOpt; size_t iOff; } aAdminOpt[] = {
  { "--user",     offsetof(AdminArgs, zUser) },
  { "--alias",    offsetof(AdminArgs, zAlias) },
  { "--duration", offsetof(AdminArgs, zDuration) },
  { "--models",   offsetof(AdminArgs, zModels) },
  { "--role",     offsetof(AdminArgs, zRole) },
  { "--email",    offsetof(AdminArgs, zEmail) },
  { "--name",     offsetof(AdminArgs, zName) },
  { "--type",     offsetof(AdminArgs, zType) },
  { "--id",       offsetof(AdminArgs, zId) },
  { "--limit",    offsetof(AdminArgs, zLimit) },
};

/* What one command works with. */
typedef struct AdminCtx AdminCtx;
struct AdminCtx {
  SsoStore *pStore;
  SsoArena a;
  char zActor[80];          /* "cli:<login>" */
  AdminArgs args;
};

static int adminUsage(const char *zMsg, const char *zArg){
  fprintf(stderr, "ssoproxy: %s%s; see ssoproxy --help\n", zMsg,
          zArg ? zArg : "");
  return ADMIN_USAGE;
}

static int adminParse(int nArg, const char *const *azArg, AdminArgs *p){
  int i;
  size_t j;
  memset(p, 0, sizeof(*p));
  for(i=0; i<nArg; i++){
    const char *z = azArg[i];
    if( z[0]!='-' || z[1]==0 ){
      if( p->nPos>=(int)SSO_ARRAYSIZE(p->azPos) ){
        return adminUsage("too many arguments at ", z);
      }
      p->azPos[p->nPos++] = z;
      continue;
    }
    for(j=0; j<SSO_ARRAYSIZE(aAdminOpt); j++){
      size_t n = strlen(aAdminOpt[j].zOpt);
      const char **pz = (const char**)((char*)p + aAdminOpt[j].iOff);
      if( strncmp(z, aAdminOpt[j].zOpt, n)!=0 ) continue;
      if( z[n]=='=' ){
        *pz = z+n+1;
      }else if( z[n]==0 && i+1<nArg ){
        *pz = azArg[++i];
      }else if( z[n]==0 ){
        return adminUsage("option needs a value: ", z);
      }else{
        continue;
      }
      break;
    }
    if( j==SSO_ARRAYSIZE(aAdminOpt) ) return adminUsage("unknown option ", z);
  }
  return ADMIN_OK;
}

/* Report a store failure (or a missing zWhat zName) and pick the status. */
static int adminFail(AdminCtx *c, int rc, const char *zWhat,
                     const char *zName){
  if( rc==SSOPROXY_NOTFOUND && zWhat ){
    fprintf(stderr, "ssoproxy: no such %s: %s\n", zWhat, zName);
  }else{
    fprintf(stderr, "ssoproxy: %s\n", rc==SSOPROXY_NOMEM ? "out of memory"
            : ssoStoreErrmsg(c->pStore));
  }
  return ADMIN_FAILED;
}

/* Commit, or roll back and report. */
static int adminEnd(AdminCtx *c, int rc, const char *zWhat,
                    const char *zName){
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c->pStore);
  if( rc==SSOPROXY_OK ) return ADMIN_OK;
  ssoStoreRollback(c->pStore);
  return adminFail(c, rc, zWhat, zName);
}

/* The role named z, warning about the deprecated alias; 0 if invalid. */
static const char *adminRole(const char *z){
  int bAlias = 0;
  int eRole = ssoAuthzRole(z, &bAlias);
  if( eRole==SSO_ROLE_NONE ){
    fprintf(stderr, "ssoproxy: invalid role \"%s\"; valid roles: "
            SSO_ROLE_LIST "\n", z);
    return 0;
  }
  if( bAlias ){
    fprintf(stderr, "ssoproxy: warning: internal_user_view_only is "
            "deprecated; using internal_user_viewer\n");
  }
  return ssoAuthzRoleName(eRole);
}

static const char *adminTime(long long t, char *z){
  if( t==0 ) return "-";
  ssoAuthzTimeText(t, z);
  z[19] = 0;                  /* Seconds are enough for a terminal */
  return z;
}

/* ---- user ... ---- */

static int adminUserList(AdminCtx *c){
  const char *zRole = 0;
  SsoUser *aUser;
  int i, nUser, iOfs = 0, rc;
  if( c->args.zRole && (zRole = adminRole(c->args.zRole))==0 ){
    return ADMIN_USAGE;
  }
  printf("%-24s %-20s %-6s %-8s %s\n", "ID", "ROLE", "SOURCE", "STATUS",
         "EMAIL");
  do{
    rc = ssoStoreUserList(c->pStore, zRole, iOfs, SSO_DB_MAX_PAGE, &c->a,
                          &aUser, &nUser);
    for(i=0; rc==SSOPROXY_OK && i<nUser; i++){
      printf("%-24s %-20s %-6s %-8s %s\n", aUser[i].zId, aUser[i].zRole,
             aUser[i].zSource, aUser[i].bDisabled ? "disabled" : "active",
             aUser[i].zEmail ? aUser[i].zEmail : "-");
    }
    iOfs += nUser;
  }while( rc==SSOPROXY_OK && nUser==SSO_DB_MAX_PAGE );
  return rc ? adminFail(c, rc, 0, 0) : ADMIN_OK;
}

static int adminUserAdd(AdminCtx *c, const char *zId){
  SsoUser u;
  int rc;
  memset(&u, 0, sizeof(u));
  u.zId = zId;
  u.zEmail = c->args.zEmail;
  u.zName = c->args.zName;
  u.zSource = "local";
  u.zRole = c->args.zRole ? adminRole(c->args.zRole) : "internal_user";
  if( u.zRole==0 ) return ADMIN_USAGE;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = ssoApiUserInsert(c->pStore, c->zActor, &u);
  if( rc==SSOPROXY_CONSTRAINT ){
    ssoStoreRollback(c->pStore);
    fprintf(stderr, "ssoproxy: user %s already exists\n", zId);
    return ADMIN_FAILED;
  }
  rc = adminEnd(c, rc, 0, 0);
  if( rc==ADMIN_OK ) printf("added user %s (%s)\n", zId, u.zRole);
  return rc;
}

/* Change user zId: a new role (zRole) or disabled flag (bDisable>=0). */
static int adminUserChange(AdminCtx *c, const char *zId, const char *zRole,
                           int bDisable){
  SsoUser old, u;
  int rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserGet(c->pStore, zId, &c->a, &old);
  if( rc==SSOPROXY_OK ){
    u = old;
    if( zRole ) u.zRole = zRole;
    if( bDisable>=0 ) u.bDisabled = bDisable;
    rc = ssoApiUserSave(c->pStore, c->zActor, &old, &u);
  }
  rc = adminEnd(c, rc, "user", zId);
  if( rc==ADMIN_OK && zRole ){
    printf("user %s: role %s (was %s)\n", zId, zRole, old.zRole);
  }else if( rc==ADMIN_OK ){
    printf("user %s %s\n", zId, bDisable ? "disabled" : "enabled");
  }
  return rc;
}

static int adminUserDelete(AdminCtx *c, const char *zId){
  SsoUser old;
  int nKey = 0;
  int rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserGet(c->pStore, zId, &c->a, &old);
  if( rc==SSOPROXY_OK ) rc = ssoApiUserDrop(c->pStore, c->zActor, &old,
                                            &nKey);
  rc = adminEnd(c, rc, "user", zId);
  if( rc==ADMIN_OK ) printf("deleted user %s and %d key%s\n", zId, nKey,
                            nKey==1 ? "" : "s");
  return rc;
}

static int adminUser(AdminCtx *c){
  const AdminArgs *a = &c->args;
  const char *zSub = a->nPos>0 ? a->azPos[0] : "";
  const char *zRole;
  if( strcmp(zSub, "list")==0 && a->nPos==1 ) return adminUserList(c);
  if( strcmp(zSub, "add")==0 && a->nPos==2 ){
    return adminUserAdd(c, a->azPos[1]);
  }
  if( strcmp(zSub, "set-role")==0 && a->nPos==3 ){
    if( (zRole = adminRole(a->azPos[2]))==0 ) return ADMIN_USAGE;
    return adminUserChange(c, a->azPos[1], zRole, -1);
  }
  if( strcmp(zSub, "disable")==0 && a->nPos==2 ){
    return adminUserChange(c, a->azPos[1], 0, 1);
  }
  if( strcmp(zSub, "enable")==0 && a->nPos==2 ){
    return adminUserChange(c, a->azPos[1], 0, 0);
  }
  if( strcmp(zSub, "delete")==0 && a->nPos==2 ){
    return adminUserDelete(c, a->azPos[1]);
  }
  return adminUsage("usage: ssoproxy user list|add ID|set-role ID ROLE|"
                    "disable ID|enable ID|delete ID", 0);
}

/* ---- key ... ---- */

/* "a,b" as the JSON array text ["a","b"] in the arena. */
static const char *adminModels(AdminCtx *c, const char *zList){
  SsoBuf b;
  SsoJsonWriter w;
  const char *z = zList, *zOut = 0;
  ssoBufInit(&b, SSO_API_MAX_JSON);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  while( *z ){
    size_t n = strcspn(z, ",");
    if( n ) ssoJsonWriteStringN(&w, z, n);
    z += n + (z[n]==',');
  }
  ssoJsonWriteEndArray(&w);
  if( ssoJsonWriteFinish(&w)==SSOPROXY_OK ){
    zOut = ssoArenaStrndup(&c->a, b.z, b.n);
  }
  ssoBufFree(&b);
  return zOut;
}

static int adminKeyCreate(AdminCtx *c){
  const AdminArgs *a = &c->args;
  SsoRng *pRng = 0;
  SsoApiNewKey nk;
  SsoKey k;
  long long ms = 0;
  int rc;
  memset(&k, 0, sizeof(k));
  k.zUserId = a->zUser;
  k.zAlias = a->zAlias;
  k.zIssuedVia = "cli";
  if( a->zDuration && ssoApiDuration(a->zDuration, &ms) ){
    return adminUsage("bad --duration (use 30s, 30m, 24h, 30d...): ",
                      a->zDuration);
  }
  if( ms ) k.tExpires = ssoOsNowMs() + ms;
  if( a->zModels && (k.zModels = adminModels(c, a->zModels))==0 ){
    return adminUsage("bad --models: ", a->zModels);
  }
  rc = ssoRngNew(&pRng);
  if( rc==SSOPROXY_OK ) rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK && k.zUserId ){
    SsoUser u;
    rc = ssoStoreUserGet(c->pStore, k.zUserId, &c->a, &u);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoApiKeyInsert(c->pStore, pRng, c->zActor, &k, &nk);
  }
  if( rc==SSOPROXY_CONSTRAINT && k.zAlias ){
    ssoStoreRollback(c->pStore);
    fprintf(stderr, "ssoproxy: a key with alias %s already exists\n",
            k.zAlias);
    rc = ADMIN_FAILED;
  }else{
    rc = adminEnd(c, rc, "user", k.zUserId);
  }
  ssoRngFree(pRng);
  if( rc==ADMIN_OK ){
    /* The key alone on stdout, for scripts; the rest on stderr. */
    printf("%s\n", nk.zKey);
    fprintf(stderr, "created key %s%s%s; it is shown only this once\n",
            nk.zDisplay, k.zUserId ? " for user " : " (no owner)",
            k.zUserId ? k.zUserId : "");
    memset(nk.zKey, 0, sizeof(nk.zKey));
  }
  return rc;
}

static int adminKeyList(AdminCtx *c){
  SsoKey *aKey;
  char z1[32], z2[32];
  int i, nKey, iOfs = 0, rc;
  printf("%-10s %-16s %-20s %-16s %-7s %-19s %s\n", "KEY", "HASH", "OWNER",
         "ALIAS", "STATUS", "EXPIRES", "LAST USED");
  do{
    rc = ssoStoreKeyList(c->pStore, c->args.zUser, iOfs, SSO_DB_MAX_PAGE,
                         &c->a, &aKey, &nKey);
    for(i=0; rc==SSOPROXY_OK && i<nKey; i++){
      const SsoKey *k = &aKey[i];
      printf("%-10s %.16s %-20s %-16s %-7s %-19s %s\n", k->zDisplay,
             k->zHash, k->zUserId ? k->zUserId : "-",
             k->zAlias ? k->zAlias : "-", k->bBlocked ? "blocked" : "active",
             adminTime(k->tExpires, z1), adminTime(k->tLastUsed, z2));
    }
    iOfs += nKey;
  }while( rc==SSOPROXY_OK && nKey==SSO_DB_MAX_PAGE );
  return rc ? adminFail(c, rc, 0, 0) : ADMIN_OK;
}

/* Revoking deletes the key: the audit log keeps what it was. */
static int adminKeyRevoke(AdminCtx *c, const char *zRef){
  char zHash[SSO_KEY_HEX];
  size_t i, n = strlen(zRef);
  SsoKey old;
  int rc = ssoStoreBegin(c->pStore);
  for(i=0; i<n && n==SSO_KEY_HEX-1 && strchr("0123456789abcdef", zRef[i]);
      i++){}
  if( rc==SSOPROXY_OK && n>=3 && memcmp(zRef, SSO_KEY_PREFIX, 3)==0 ){
    ssoAuthzKeyHash(zRef, n, zHash);
    rc = ssoStoreKeyGet(c->pStore, zHash, &c->a, &old);
  }else if( rc==SSOPROXY_OK && i==n && n==SSO_KEY_HEX-1 ){
    rc = ssoStoreKeyGet(c->pStore, zRef, &c->a, &old);
  }else if( rc==SSOPROXY_OK ){
    rc = ssoStoreKeyGetByAlias(c->pStore, zRef, &c->a, &old);
  }
  if( rc==SSOPROXY_OK ) rc = ssoApiKeyDrop(c->pStore, c->zActor, &old);
  /* Never echo what may be a whole key. */
  rc = adminEnd(c, rc, "key", n>=3 && memcmp(zRef, "sk-", 3)==0
                              ? "(the key given)" : zRef);
  if( rc==ADMIN_OK ) printf("revoked key %s%s%s\n", old.zDisplay,
                            old.zUserId ? " of user " : "",
                            old.zUserId ? old.zUserId : "");
  return rc;
}

static int adminKey(AdminCtx *c){
  const AdminArgs *a = &c->args;
  const char *zSub = a->nPos>0 ? a->azPos[0] : "";
  if( strcmp(zSub, "create")==0 && a->nPos==1 ) return adminKeyCreate(c);
  if( strcmp(zSub, "list")==0 && a->nPos==1 ) return adminKeyList(c);
  if( strcmp(zSub, "revoke")==0 && a->nPos==2 ){
    return adminKeyRevoke(c, a->azPos[1]);
  }
  return adminUsage("usage: ssoproxy key create [--user ID] [--alias A] "
                    "[--duration D] [--models M,M]|list [--user ID]|"
                    "revoke KEY|HASH|ALIAS", 0);
}

/* ---- audit ---- */

static int adminAudit(AdminCtx *c){
  const AdminArgs *a = &c->args;
  SsoAudit *aEntry;
  char zAt[32];
  int i, nEntry, nLimit = 50, rc;
  if( a->nPos>0 ) return adminUsage("unexpected argument ", a->azPos[0]);
  if( a->zLimit ){
    nLimit = atoi(a->zLimit);
    if( nLimit<1 || nLimit>SSO_DB_MAX_PAGE ){
      return adminUsage("--limit must be from 1 to 1000: ", a->zLimit);
    }
  }
  if( a->zId && a->zType==0 ) return adminUsage("--id needs --type", 0);
  rc = ssoStoreAuditList(c->pStore, a->zType, a->zId, 0, nLimit, &c->a,
                         &aEntry, &nEntry);
  for(i=0; rc==SSOPROXY_OK && i<nEntry; i++){
    const SsoAudit *e = &aEntry[i];
    ssoAuthzTimeText(e->tAt, zAt);
    printf("%s #%lld %s %s %s %s\n", zAt, e->iId, e->zActor, e->zAction,
           e->zObjectType, e->zObjectId);
    if( e->zBefore ) printf("  before: %s\n", e->zBefore);
    if( e->zAfter ) printf("  after:  %s\n", e->zAfter);
  }
  return rc ? adminFail(c, rc, 0, 0) : ADMIN_OK;
}

/* ---- Entry ---- */

SSO_PRIVATE int ssoAdminIsCommand(const char *z){
  return strcmp(z, "user")==0 || strcmp(z, "key")==0
      || strcmp(z, "audit")==0;
}

/* "cli:" and the login name of the effective user, if it has one. */
static void adminActor(AdminCtx *c){
  const struct passwd *pw = getpwuid(geteuid());
  snprintf(c->zActor, sizeof(c->zActor), "cli:%s",
           pw && pw->pw_name ? pw->pw_name : "unknown");
}

SSO_PRIVATE int ssoAdminRun(const char *zDb, const char *zCmd, int nArg,
                            const char *const *azArg){
  AdminCtx c;
  int i, rc;
  memset(&c, 0, sizeof(c));
  /* What goes into the database must be text the API can show. */
  for(i=0; i<nArg; i++){
    if( !ssoJsonUtf8Valid(azArg[i], strlen(azArg[i])) ){
      return adminUsage("argument is not valid UTF-8: ", "");
    }
  }
  rc = adminParse(nArg, azArg, &c.args);
  if( rc ) return rc;
  rc = ssoStoreOpen(zDb, &c.pStore);
  if( rc ){
    fprintf(stderr, "ssoproxy: %s\n", ssoStoreErrmsg(c.pStore));
    ssoStoreClose(c.pStore);
    return ADMIN_FAILED;
  }
  ssoArenaInit(&c.a, 0);
  adminActor(&c);
  if( strcmp(zCmd, "user")==0 ){
    rc = adminUser(&c);
  }else if( strcmp(zCmd, "key")==0 ){
    rc = adminKey(&c);
  }else{
    rc = adminAudit(&c);
  }
  ssoArenaFree(&c.a);
  ssoStoreClose(c.pStore);
  return rc;
}
