/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 3: storage. Every SQL statement of ssoproxy is in this file: the
** numbered schema migrations, and one table of statements that each store
** prepares once and reuses for its whole life. Nothing above this layer
** sees SQLite; it sees row structs and SSOPROXY_* result codes.
**
** Opening is careful because the path comes from a setting a person may
** get wrong. Before anything is written, one read-only statement looks at
** the file: an SQLite file at all (else SQLITE_NOTADB)? Ours (the
** application_id stamped by migration 1), or empty? Not from a newer
** ssoproxy (user_version above SSO_STORE_SCHEMA)? Only then does the store
** switch to WAL and migrate. A refused file is closed without the usual
** checkpoint, so not one byte of it changes.
**
** Each migration runs in its own BEGIN IMMEDIATE transaction that also sets
** user_version, and it re-reads the version after taking the write lock:
** when two processes (or two loops) open a fresh file at once, one
** migrates and the other finds the work done.
**
** Strings are bound with SQLITE_STATIC: every statement is stepped, reset
** and has its bindings cleared before the function that bound it returns,
** so SQLite never holds a pointer to a caller's string after the call, and
** binding never allocates.
*/
#include "ssoInt.h"
#include <sqlite3.h>

/* ---- The schema ---- */

/*
** azStoreMigration[i] takes the database from user_version i to i+1.
** Append, never edit: a released migration is history that existing
** databases have already lived through. Tables are STRICT so a time is an
** INTEGER and nothing else; keys and users are WITHOUT ROWID because they
** are only ever found by their text primary key. Booleans are 0/1 CHECKs.
*/
static const char *const azStoreMigration[] = {
  /* 1: users, API keys, audit log. */
  "CREATE TABLE users(\n"
  "  id TEXT PRIMARY KEY NOT NULL,\n"
  "  email TEXT COLLATE NOCASE,\n"
  "  display_name TEXT,\n"
  "  role TEXT NOT NULL CHECK (role IN ('proxy_admin','proxy_admin_viewer',"
       "'internal_user','internal_user_viewer')),\n"
  "  source TEXT NOT NULL CHECK (source IN ('sso','local')),\n"
  "  created_at INTEGER NOT NULL,\n"
  "  updated_at INTEGER NOT NULL,\n"
  "  last_login_at INTEGER,\n"
  "  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),\n"
  "  metadata TEXT NOT NULL DEFAULT '{}'\n"
  ") STRICT, WITHOUT ROWID;\n"
  "CREATE INDEX users_email ON users(email);\n"
  "CREATE TABLE keys(\n"
  "  hash TEXT PRIMARY KEY NOT NULL\n"
  "    CHECK (length(hash)=64 AND hash NOT GLOB '*[^0-9a-f]*'),\n"
  "  display TEXT NOT NULL,\n"
  "  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,\n"
  "  alias TEXT UNIQUE,\n"
  "  models TEXT NOT NULL DEFAULT '[]',\n"
  "  expires_at INTEGER,\n"
  "  created_at INTEGER NOT NULL,\n"
  "  last_used_at INTEGER,\n"
  "  blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0,1)),\n"
  "  issued_via TEXT NOT NULL\n"
  "    CHECK (issued_via IN ('api','ui','oauth','device','cli')),\n"
  "  rpm_limit INTEGER CHECK (rpm_limit>0),\n"
  "  tpm_limit INTEGER CHECK (tpm_limit>0),\n"
  "  metadata TEXT NOT NULL DEFAULT '{}'\n"
  ") STRICT, WITHOUT ROWID;\n"
  "CREATE INDEX keys_user ON keys(user_id, created_at);\n"
  "CREATE TABLE audit_log(\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  at INTEGER NOT NULL,\n"
  "  actor TEXT NOT NULL,\n"
  "  action TEXT NOT NULL,\n"
  "  object_type TEXT NOT NULL,\n"
  "  object_id TEXT NOT NULL,\n"
  "  before TEXT,\n"
  "  after TEXT\n"
  ") STRICT;\n"
  "CREATE INDEX audit_at ON audit_log(at);\n"
  "CREATE INDEX audit_object ON audit_log(object_type, object_id);\n"
  "PRAGMA application_id=1397968720;\n",     /* SSO_STORE_APP_ID */
};
_Static_assert(SSO_ARRAYSIZE(azStoreMigration)==SSO_STORE_SCHEMA,
               "SSO_STORE_SCHEMA must count the migrations");
_Static_assert(SSO_STORE_APP_ID==1397968720, "migration 1 stamps this id");

/*
** Per-connection settings, applied once the file is known to be ours.
** synchronous=NORMAL is durable against application crashes in WAL mode
** and loses at most the last transactions on power loss, never integrity.
** secure_delete=FAST zeroes deleted rows (revoked keys, removed users) on
** the pages that held them without the extra I/O of full secure_delete.
*/
static const char zStoreSetup[] =
  "PRAGMA foreign_keys=ON;"
  "PRAGMA synchronous=NORMAL;"
  "PRAGMA secure_delete=FAST;";

/* ---- The statements ---- */

/* Column lists in the order the row readers expect. */
#define STORE_USER_COLS \
  "id, email, display_name, role, source, created_at, updated_at, " \
  "last_login_at, disabled, metadata"
#define STORE_KEY_COLS \
  "hash, display, user_id, alias, models, expires_at, created_at, " \
  "last_used_at, blocked, issued_via, rpm_limit, tpm_limit, metadata"
#define STORE_AUDIT_COLS \
  "id, at, actor, action, object_type, object_id, before, after"

enum {
  STMT_BEGIN, STMT_COMMIT, STMT_ROLLBACK, STMT_PROBE, STMT_WAL,
  STMT_USER_INSERT, STMT_USER_GET, STMT_USER_GET_EMAIL, STMT_USER_UPDATE,
  STMT_USER_LOGIN, STMT_USER_DELETE, STMT_USER_LIST, STMT_USER_COUNT,
  STMT_KEY_INSERT, STMT_KEY_GET, STMT_KEY_GET_ALIAS, STMT_KEY_AUTH,
  STMT_KEY_UPDATE, STMT_KEY_DELETE, STMT_KEY_DELETE_ALIAS,
  STMT_KEY_DELETE_USER, STMT_KEY_LIST_ALL, STMT_KEY_LIST_USER,
  STMT_KEY_COUNT_ALL, STMT_KEY_COUNT_USER, STMT_KEY_TOUCH,
  STMT_AUDIT_INSERT, STMT_AUDIT_LIST_ALL, STMT_AUDIT_LIST_OBJECT,
  STMT_COUNT,
  STMT_FIRST_ROW = STMT_USER_INSERT   /* The rest need the schema */
};

static const char *const azStoreSql[STMT_COUNT] = {
  [STMT_BEGIN]    = "BEGIN IMMEDIATE",
  [STMT_COMMIT]   = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  /* One statement, so the three values come from one snapshot. */
  [STMT_PROBE] =
    "SELECT (SELECT user_version FROM pragma_user_version),"
    " (SELECT application_id FROM pragma_application_id),"
    " (SELECT count(*) FROM sqlite_schema)",
  [STMT_WAL] = "PRAGMA journal_mode=WAL",

  [STMT_USER_INSERT] =
    "INSERT INTO users(" STORE_USER_COLS ")"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, coalesce(?10, '{}'))",
  [STMT_USER_GET] = "SELECT " STORE_USER_COLS " FROM users WHERE id=?1",
  [STMT_USER_GET_EMAIL] =
    "SELECT " STORE_USER_COLS " FROM users WHERE email=?1"
    " ORDER BY created_at, id LIMIT 1",
  [STMT_USER_UPDATE] =
    "UPDATE users SET email=?2, display_name=?3, role=?4,"
    " last_login_at=?5, disabled=?6, metadata=coalesce(?7, metadata),"
    " updated_at=?8 WHERE id=?1",
  /* A sign-in: updated_at moves only when something besides the login
  ** time changed. SET expressions see the row as it was. */
  [STMT_USER_LOGIN] =
    "UPDATE users SET email=?2, display_name=?3, role=coalesce(?4, role),"
    " last_login_at=?5,"
    " updated_at=CASE WHEN email IS ?2 AND display_name IS ?3"
    "  AND role=coalesce(?4, role) THEN updated_at ELSE ?5 END"
    " WHERE id=?1 AND source='sso'",
  [STMT_USER_DELETE] = "DELETE FROM users WHERE id=?1",
  [STMT_USER_LIST] =
    "SELECT " STORE_USER_COLS " FROM users WHERE ?1 IS NULL OR role=?1"
    " ORDER BY id LIMIT ?2 OFFSET ?3",
  [STMT_USER_COUNT] =
    "SELECT count(*) FROM users WHERE ?1 IS NULL OR role=?1",

  [STMT_KEY_INSERT] =
    "INSERT INTO keys(" STORE_KEY_COLS ")"
    " VALUES(?1, ?2, ?3, ?4, coalesce(?5, '[]'), ?6, ?7, ?8, ?9, ?10,"
    " ?11, ?12, coalesce(?13, '{}'))",
  [STMT_KEY_GET] = "SELECT " STORE_KEY_COLS " FROM keys WHERE hash=?1",
  [STMT_KEY_GET_ALIAS] = "SELECT " STORE_KEY_COLS " FROM keys WHERE alias=?1",
  /* The per-request lookup: one primary-key probe, one for the owner. */
  [STMT_KEY_AUTH] =
    "SELECT k.hash, k.display, k.user_id, k.alias, k.models, k.expires_at,"
    " k.created_at, k.last_used_at, k.blocked, k.issued_via, k.rpm_limit,"
    " k.tpm_limit, k.metadata,"
    " u.id, u.email, u.display_name, u.role, u.source, u.created_at,"
    " u.updated_at, u.last_login_at, u.disabled, u.metadata"
    " FROM keys AS k LEFT JOIN users AS u ON u.id=k.user_id"
    " WHERE k.hash=?1",
  [STMT_KEY_UPDATE] =
    "UPDATE keys SET alias=?2, models=coalesce(?3, models), expires_at=?4,"
    " blocked=?5, rpm_limit=?6, tpm_limit=?7,"
    " metadata=coalesce(?8, metadata) WHERE hash=?1",
  [STMT_KEY_DELETE] = "DELETE FROM keys WHERE hash=?1",
  [STMT_KEY_DELETE_ALIAS] = "DELETE FROM keys WHERE alias=?1",
  [STMT_KEY_DELETE_USER] = "DELETE FROM keys WHERE user_id=?1",
  /* ?1 is unused here so both lists bind alike. */
  [STMT_KEY_LIST_ALL] =
    "SELECT " STORE_KEY_COLS " FROM keys"
    " ORDER BY created_at, hash LIMIT ?2 OFFSET ?3",
  [STMT_KEY_LIST_USER] =
    "SELECT " STORE_KEY_COLS " FROM keys WHERE user_id=?1"
    " ORDER BY created_at, hash LIMIT ?2 OFFSET ?3",
  [STMT_KEY_COUNT_ALL] = "SELECT count(*) FROM keys",
  [STMT_KEY_COUNT_USER] = "SELECT count(*) FROM keys WHERE user_id=?1",
  [STMT_KEY_TOUCH] =
    "UPDATE keys SET last_used_at=?2"
    " WHERE hash=?1 AND (last_used_at IS NULL OR last_used_at<?2)",

  [STMT_AUDIT_INSERT] =
    "INSERT INTO audit_log(at, actor, action, object_type, object_id,"
    " before, after) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_AUDIT_LIST_ALL] =
    "SELECT " STORE_AUDIT_COLS " FROM audit_log"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
  [STMT_AUDIT_LIST_OBJECT] =
    "SELECT " STORE_AUDIT_COLS " FROM audit_log"
    " WHERE object_type=?1 AND (?2 IS NULL OR object_id=?2)"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
};

#define STORE_ERRMSG 640     /* Bytes of error text, path included */
#define STORE_BUSY_STEP_MS 5 /* Retry interval of the switch to WAL */

/*
** The error text lives in the object, in fixed space, so out of memory
** can still be reported; the path is copied in the same allocation.
*/
struct SsoStore {
  sqlite3 *db;                        /* The connection; NULL if open failed */
  sqlite3_stmt *apStmt[STMT_COUNT];   /* Prepared once, on first use */
  int nMigrated;                      /* Migrations this store applied */
  char zErr[STORE_ERRMSG];            /* Last error message */
  char zPath[];                       /* The path as given, for messages */
};

/* ---- Errors ---- */

static int storeErrorf(SsoStore *p, int rc, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static int storeErrorf(SsoStore *p, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(p->zErr, sizeof(p->zErr), zFmt, ap);
  va_end(ap);
  return rc;
}

/*
** Turn SQLite's result rcSql (just returned by a call on p->db) into ours
** and a sentence in p->zErr. Out of memory has a fixed text because
** nothing can be allocated to say more.
*/
static int storeError(SsoStore *p, int rcSql){
  int rcExt = sqlite3_extended_errcode(p->db);
  const char *zMsg = sqlite3_errmsg(p->db);
  int iErrno;
  switch( rcSql & 0xff ){
    case SQLITE_NOMEM:
      return storeErrorf(p, SSOPROXY_NOMEM, "out of memory");
    case SQLITE_IOERR:
      if( rcExt==SQLITE_IOERR_NOMEM ){
        return storeErrorf(p, SSOPROXY_NOMEM, "out of memory");
      }
      break;
    case SQLITE_CONSTRAINT:
      return storeErrorf(p, SSOPROXY_CONSTRAINT, "%s", zMsg);
    case SQLITE_NOTADB:
      return storeErrorf(p, SSOPROXY_DB, "file %s is not an SQLite database",
                         p->zPath);
    case SQLITE_CANTOPEN:
      iErrno = sqlite3_system_errno(p->db);
      return storeErrorf(p, SSOPROXY_DB, "cannot open database %s: %s",
                         p->zPath, iErrno ? strerror(iErrno) : zMsg);
    case SQLITE_CORRUPT:
      return storeErrorf(p, SSOPROXY_DB, "database %s is damaged: %s",
                         p->zPath, zMsg);
  }
  return storeErrorf(p, SSOPROXY_DB, "database %s: %s", p->zPath, zMsg);
}

static int storeNotFound(SsoStore *p, const char *zWhat){
  return storeErrorf(p, SSOPROXY_NOTFOUND, "no such %s", zWhat);
}

/* ---- Statements ---- */

/* The cached statement e, prepared now if this is its first use. */
static int storeStmt(SsoStore *p, int e, sqlite3_stmt **ppStmt){
  int rc = SQLITE_OK;
  if( p->apStmt[e]==0 ){
    rc = sqlite3_prepare_v3(p->db, azStoreSql[e], -1,
                            SQLITE_PREPARE_PERSISTENT, &p->apStmt[e], 0);
  }
  *ppStmt = p->apStmt[e];       /* NULL when the prepare failed */
  return rc ? storeError(p, rc) : SSOPROXY_OK;
}

/* Bindings with a sticky SQLite result, like SsoBuf's: check once. */
static void storeBindText(sqlite3_stmt *pStmt, int i, const char *z, int *pRc){
  if( *pRc ) return;
  *pRc = z ? sqlite3_bind_text(pStmt, i, z, -1, SQLITE_STATIC)
           : sqlite3_bind_null(pStmt, i);
}
static void storeBindInt(sqlite3_stmt *pStmt, int i, long long v, int *pRc){
  if( *pRc ) return;
  *pRc = sqlite3_bind_int64(pStmt, i, v);
}
/* 0 is bound as NULL: "never" for times, "none" for limits. */
static void storeBindOpt(sqlite3_stmt *pStmt, int i, long long v, int *pRc){
  if( *pRc ) return;
  *pRc = v ? sqlite3_bind_int64(pStmt, i, v) : sqlite3_bind_null(pStmt, i);
}

/* Back to the unbound, unstepped state; drops pointers to the caller's
** strings. */
static void storeDone(sqlite3_stmt *pStmt){
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
}

/*
** Step a bound statement that returns no row (rcBind: the binds' sticky
** result), then reset it. Returns an SSOPROXY_ code.
*/
static int storeRun(SsoStore *p, sqlite3_stmt *pStmt, int rcBind){
  int rc = rcBind ? rcBind : sqlite3_step(pStmt);
  if( rc==SQLITE_DONE || rc==SQLITE_ROW ){
    rc = SSOPROXY_OK;
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  return rc;
}

/* Run the unbound statement e. */
static int storeExec(SsoStore *p, int e){
  sqlite3_stmt *pStmt;
  int rc = storeStmt(p, e, &pStmt);
  return rc ? rc : storeRun(p, pStmt, SQLITE_OK);
}

/* ---- Reading rows ---- */

/*
** Copy text column i into the arena; NULL stays NULL. A NULL from
** sqlite3_column_text() on a non-NULL value is SQLite out of memory.
*/
static void storeColText(sqlite3_stmt *pStmt, int i, SsoArena *pArena,
                    const char **pz, int *pRc){
  const unsigned char *z;
  *pz = 0;
  if( *pRc || sqlite3_column_type(pStmt, i)==SQLITE_NULL ) return;
  z = sqlite3_column_text(pStmt, i);
  if( z ){
    *pz = ssoArenaStrndup(pArena, (const char*)z,
                          (size_t)sqlite3_column_bytes(pStmt, i));
  }
  if( *pz==0 ) *pRc = SSOPROXY_NOMEM;
}

typedef int (*StoreReader)(sqlite3_stmt*, int iCol, SsoArena*, void *pRow);

static int storeReadUser(sqlite3_stmt *s, int i, SsoArena *a, void *pRow){
  SsoUser *u = pRow;
  int rc = SSOPROXY_OK;
  memset(u, 0, sizeof(*u));
  storeColText(s, i+0, a, &u->zId, &rc);
  storeColText(s, i+1, a, &u->zEmail, &rc);
  storeColText(s, i+2, a, &u->zName, &rc);
  storeColText(s, i+3, a, &u->zRole, &rc);
  storeColText(s, i+4, a, &u->zSource, &rc);
  u->tCreated = sqlite3_column_int64(s, i+5);
  u->tUpdated = sqlite3_column_int64(s, i+6);
  u->tLastLogin = sqlite3_column_int64(s, i+7);
  u->bDisabled = sqlite3_column_int(s, i+8);
  storeColText(s, i+9, a, &u->zMetadata, &rc);
  return rc;
}

static int storeReadKey(sqlite3_stmt *s, int i, SsoArena *a, void *pRow){
  SsoKey *k = pRow;
  int rc = SSOPROXY_OK;
  memset(k, 0, sizeof(*k));
  storeColText(s, i+0, a, &k->zHash, &rc);
  storeColText(s, i+1, a, &k->zDisplay, &rc);
  storeColText(s, i+2, a, &k->zUserId, &rc);
  storeColText(s, i+3, a, &k->zAlias, &rc);
  storeColText(s, i+4, a, &k->zModels, &rc);
  k->tExpires = sqlite3_column_int64(s, i+5);
  k->tCreated = sqlite3_column_int64(s, i+6);
  k->tLastUsed = sqlite3_column_int64(s, i+7);
  k->bBlocked = sqlite3_column_int(s, i+8);
  storeColText(s, i+9, a, &k->zIssuedVia, &rc);
  k->nRpmLimit = sqlite3_column_int64(s, i+10);
  k->nTpmLimit = sqlite3_column_int64(s, i+11);
  storeColText(s, i+12, a, &k->zMetadata, &rc);
  return rc;
}

static int storeReadAudit(sqlite3_stmt *s, int i, SsoArena *a, void *pRow){
  SsoAudit *e = pRow;
  int rc = SSOPROXY_OK;
  memset(e, 0, sizeof(*e));
  e->iId = sqlite3_column_int64(s, i+0);
  e->tAt = sqlite3_column_int64(s, i+1);
  storeColText(s, i+2, a, &e->zActor, &rc);
  storeColText(s, i+3, a, &e->zAction, &rc);
  storeColText(s, i+4, a, &e->zObjectType, &rc);
  storeColText(s, i+5, a, &e->zObjectId, &rc);
  storeColText(s, i+6, a, &e->zBefore, &rc);
  storeColText(s, i+7, a, &e->zAfter, &rc);
  return rc;
}

/*
** Step a bound statement expected to give at most one row and read that
** row into pRow; _NOTFOUND (naming zWhat) when there is none.
*/
static int storeGetRow(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                       StoreReader xRead, SsoArena *pArena, void *pRow,
                       const char *zWhat){
  int rc = rcBind ? rcBind : sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    rc = xRead(pStmt, 0, pArena, pRow);
    if( rc ) storeErrorf(p, rc, "out of memory");
  }else if( rc==SQLITE_DONE ){
    rc = storeNotFound(p, zWhat);
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  return rc;
}

/* Step a bound "SELECT count(*)" into *pn. */
static int storeGetCount(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                         int *pn){
  int rc = rcBind ? rcBind : sqlite3_step(pStmt);
  *pn = 0;
  if( rc==SQLITE_ROW ){
    *pn = sqlite3_column_int(pStmt, 0);
    rc = SSOPROXY_OK;
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  return rc;
}

/* Page size as asked, or the ceiling when it is out of range. */
static int storeLimit(int nLimit){
  return (nLimit<1 || nLimit>SSO_DB_MAX_PAGE) ? SSO_DB_MAX_PAGE : nLimit;
}

/*
** Step a bound list statement, reading every row into an array of szRow-
** byte structs in the arena. The array doubles as it fills; the copies it
** leaves behind cost at most as much as the final array. *paRow is NULL
** when there are no rows.
*/
static int storeGetList(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                        StoreReader xRead, size_t szRow, SsoArena *pArena,
                        void **paRow, int *pnRow){
  char *aRow = 0;
  int nRow = 0, nAlloc = 0, bNoMem = 0;
  int rc = rcBind;
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( nRow==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 8;
      char *aNew = ssoArenaAlloc(pArena, (size_t)nNew*szRow);
      if( aNew==0 ){ bNoMem = 1; break; }
      if( nRow ) memcpy(aNew, aRow, (size_t)nRow*szRow);
      aRow = aNew;
      nAlloc = nNew;
    }
    if( xRead(pStmt, 0, pArena, aRow + (size_t)nRow*szRow) ){
      bNoMem = 1;
      break;
    }
    nRow++;
    rc = SQLITE_OK;
  }
  if( bNoMem ){
    rc = storeErrorf(p, SSOPROXY_NOMEM, "out of memory");
  }else if( rc==SQLITE_DONE ){
    rc = SSOPROXY_OK;
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  *paRow = rc ? 0 : (nRow ? aRow : 0);
  *pnRow = rc ? 0 : nRow;
  return rc;
}

/* ---- Transactions ---- */

/*
** Roll back whatever is open, keeping the error text of what failed.
** ROLLBACK was prepared at open, before any transaction could start, so
** this needs no memory. (SQLite may already have rolled back after an
** I/O error or out of memory; then there is nothing to do.)
*/
static void storeAbort(SsoStore *p){
  sqlite3_stmt *pStmt = p->apStmt[STMT_ROLLBACK];
  if( sqlite3_get_autocommit(p->db) ) return;
  assert( pStmt!=0 );
  sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
}

/*
** Start a transaction for a function that writes several statements,
** unless the caller already has one open: then the work joins it and the
** caller decides its fate. *pbOwn says which.
*/
static int storeTxnEnter(SsoStore *p, int *pbOwn){
  *pbOwn = sqlite3_get_autocommit(p->db);
  return *pbOwn ? storeExec(p, STMT_BEGIN) : SSOPROXY_OK;
}

static int storeTxnLeave(SsoStore *p, int bOwn, int rc){
  if( !bOwn ) return rc;
  if( rc==SSOPROXY_OK ) rc = storeExec(p, STMT_COMMIT);
  if( rc ) storeAbort(p);
  return rc;
}

SSO_PRIVATE int ssoStoreBegin(SsoStore *p){
  if( !sqlite3_get_autocommit(p->db) ){
    return storeErrorf(p, SSOPROXY_MISUSE, "a transaction is already open");
  }
  return storeExec(p, STMT_BEGIN);
}

SSO_PRIVATE int ssoStoreCommit(SsoStore *p){
  int rc;
  if( sqlite3_get_autocommit(p->db) ){
    return storeErrorf(p, SSOPROXY_MISUSE, "no transaction is open");
  }
  rc = storeExec(p, STMT_COMMIT);
  if( rc ) storeAbort(p);
  return rc;
}

SSO_PRIVATE int ssoStoreRollback(SsoStore *p){
  if( sqlite3_get_autocommit(p->db) ) return SSOPROXY_OK;
  return storeExec(p, STMT_ROLLBACK);
}

/* ---- Opening and migrating ---- */

/* Read user_version, application_id and the number of schema objects. */
static int storeProbe(SsoStore *p, int *piVersion, int *piAppId,
                      int *pnSchema){
  sqlite3_stmt *pStmt;
  int rc = storeStmt(p, STMT_PROBE, &pStmt);
  *piVersion = *piAppId = *pnSchema = 0;
  if( rc ) return rc;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    *piVersion = sqlite3_column_int(pStmt, 0);
    *piAppId = sqlite3_column_int(pStmt, 1);
    *pnSchema = sqlite3_column_int(pStmt, 2);
    rc = SSOPROXY_OK;
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  return rc;
}

/*
** Is this database ours to use? Ours: stamped with our application_id,
** or entirely empty (a new file). Usable: not from a newer schema.
*/
static int storeCheckOwner(SsoStore *p, int iVersion, int iAppId,
                           int nSchema){
  if( iAppId==SSO_STORE_APP_ID ){
    if( iVersion>SSO_STORE_SCHEMA || iVersion<0 ){
      return storeErrorf(p, SSOPROXY_DB,
          "database %s was written by a newer ssoproxy (schema %d, this "
          "build knows %d); upgrade ssoproxy or restore a backup",
          p->zPath, iVersion, SSO_STORE_SCHEMA);
    }
    return SSOPROXY_OK;
  }
  if( iAppId!=0 ){
    return storeErrorf(p, SSOPROXY_DB,
        "database %s belongs to another application (application_id "
        "0x%08x)", p->zPath, (unsigned)iAppId);
  }
  if( nSchema>0 || iVersion!=0 ){
    return storeErrorf(p, SSOPROXY_DB,
        "database %s belongs to another application (it has tables but "
        "no ssoproxy application_id)", p->zPath);
  }
  return SSOPROXY_OK;
}

/*
** Switch to WAL and set the per-connection pragmas. The switch needs an
** exclusive lock, and when two connections race to make the switch on a
** new file SQLite answers SQLITE_BUSY at once instead of calling the busy
** handler (waiting could deadlock inside SQLite), so we wait here instead.
** It is a no-op once the file is in WAL mode, which is every open but the
** first.
*/
static int storeSetup(SsoStore *p){
  sqlite3_stmt *pStmt;
  const char *zMode;
  int nWaited = 0;
  int rc = storeStmt(p, STMT_WAL, &pStmt);
  if( rc ) return rc;
  while( (rc = sqlite3_step(pStmt))==SQLITE_BUSY
      && nWaited<SSO_DB_BUSY_TIMEOUT_MS ){
    sqlite3_reset(pStmt);
    sqlite3_sleep(STORE_BUSY_STEP_MS);
    nWaited += STORE_BUSY_STEP_MS;
  }
  if( rc!=SQLITE_ROW ){
    rc = storeError(p, rc);
    storeDone(pStmt);
    return rc;
  }
  /* "memory" for an in-memory database, which has no WAL to offer. */
  zMode = (const char*)sqlite3_column_text(pStmt, 0);
  if( zMode==0 ){
    rc = storeErrorf(p, SSOPROXY_NOMEM, "out of memory");
  }else if( strcmp(zMode, "wal")!=0 && strcmp(zMode, "memory")!=0 ){
    rc = storeErrorf(p, SSOPROXY_DB, "database %s cannot use WAL "
                     "(journal mode stays %s)", p->zPath, zMode);
  }else{
    rc = SSOPROXY_OK;
  }
  storeDone(pStmt);
  if( rc ) return rc;
  rc = sqlite3_exec(p->db, zStoreSetup, 0, 0, 0);
  return rc ? storeError(p, rc) : SSOPROXY_OK;
}

/*
** Apply migration iVersion+1 in one write transaction, unless another
** connection did while we waited for the lock.
*/
static int storeMigrateOne(SsoStore *p, int *pbDone){
  char zSql[48];
  int iVersion = 0, iAppId, nSchema, bApplied = 0;
  int rc = storeExec(p, STMT_BEGIN);
  if( rc ) return rc;
  rc = storeProbe(p, &iVersion, &iAppId, &nSchema);
  if( rc==SSOPROXY_OK ) rc = storeCheckOwner(p, iVersion, iAppId, nSchema);
  if( rc==SSOPROXY_OK && iVersion<SSO_STORE_SCHEMA ){
    rc = sqlite3_exec(p->db, azStoreMigration[iVersion], 0, 0, 0);
    if( rc==SQLITE_OK ){
      snprintf(zSql, sizeof(zSql), "PRAGMA user_version=%d", iVersion+1);
      rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
    }
    rc = rc ? storeError(p, rc) : SSOPROXY_OK;
    bApplied = 1;
  }
  if( rc==SSOPROXY_OK ) rc = storeExec(p, STMT_COMMIT);
  if( rc ){
    storeAbort(p);
    return rc;
  }
  p->nMigrated += bApplied;
  *pbDone = iVersion+bApplied>=SSO_STORE_SCHEMA;
  return SSOPROXY_OK;
}

static int storeMigrate(SsoStore *p){
  int bDone = 0, rc = SSOPROXY_OK;
  while( rc==SSOPROXY_OK && !bDone ) rc = storeMigrateOne(p, &bDone);
  return rc;
}

SSO_PRIVATE int ssoStoreOpen(const char *zPath, SsoStore **ppStore){
  SsoStore *p;
  size_t nPath;
  int iVersion = 0, iAppId = 0, nSchema = 0, i, rc;

  *ppStore = 0;
  if( zPath==0 ) return SSOPROXY_MISUSE;
  nPath = strlen(zPath);
  rc = ssoMemInitSqlite();
  if( rc ) return rc;
  p = ssoMallocZero(sizeof(*p) + nPath + 1);
  if( p==0 ) return SSOPROXY_NOMEM;
  memcpy(p->zPath, zPath, nPath+1);
  *ppStore = p;

  /* NOMUTEX: a store belongs to one thread at a time (see store.h). */
  rc = sqlite3_open_v2(zPath, &p->db, SQLITE_OPEN_READWRITE |
                       SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, 0);
  if( rc ) return storeError(p, rc);
  sqlite3_busy_timeout(p->db, SSO_DB_BUSY_TIMEOUT_MS);
  /* Hardening: no SQL may corrupt the file on purpose (DEFENSIVE), and
  ** views or triggers in a file may call only harmless functions. */
  sqlite3_db_config(p->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int*)0);
  sqlite3_db_config(p->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int*)0);
  if( sqlite3_db_readonly(p->db, "main")==1 ){
    return storeErrorf(p, SSOPROXY_DB, "cannot open database %s: it is "
                       "read-only (check the file's permissions)", p->zPath);
  }

  /* Look before writing: a refused file must not change at all. */
  rc = storeProbe(p, &iVersion, &iAppId, &nSchema);
  if( rc==SSOPROXY_OK ) rc = storeCheckOwner(p, iVersion, iAppId, nSchema);
  if( rc ){
    sqlite3_db_config(p->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int*)0);
    return rc;
  }

  /* The transaction statements now, so a rollback never has to prepare
  ** a statement while memory is short. The row statements wait for their
  ** first use: preparing all of them would double the cost of an open,
  ** and a command-line run uses one or two. */
  for(i=0; i<STMT_FIRST_ROW && rc==SSOPROXY_OK; i++){
    sqlite3_stmt *pStmt;
    rc = storeStmt(p, i, &pStmt);
  }
  if( rc==SSOPROXY_OK ) rc = storeSetup(p);
  if( rc==SSOPROXY_OK && iVersion<SSO_STORE_SCHEMA ) rc = storeMigrate(p);
  return rc;
}

SSO_PRIVATE void ssoStoreClose(SsoStore *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(p->apStmt[i]);
  sqlite3_close_v2(p->db);
  ssoFree(p);
}

SSO_PRIVATE const char *ssoStoreErrmsg(const SsoStore *p){
  if( p==0 ) return "out of memory";
  return p->zErr[0] ? p->zErr : "not an error";
}

/*
** Readiness: one read of the header and schema through the WAL index, so
** an I/O error, a lock that never clears, or a newer ssoproxy having
** migrated the file under us all show here.
*/
SSO_PRIVATE int ssoStorePing(SsoStore *p){
  int iVersion, iAppId, nSchema;
  int rc = storeProbe(p, &iVersion, &iAppId, &nSchema);
  if( rc==SSOPROXY_OK && (iAppId!=SSO_STORE_APP_ID
                          || iVersion!=SSO_STORE_SCHEMA) ){
    rc = storeErrorf(p, SSOPROXY_DB, "database %s changed under us "
                     "(schema %d, application_id 0x%08x)", p->zPath,
                     iVersion, (unsigned)iAppId);
  }
  return rc;
}

/* ---- Users ---- */

SSO_PRIVATE int ssoStoreUserInsert(SsoStore *p, const SsoUser *u){
  sqlite3_stmt *s;
  long long tCreated = u->tCreated ? u->tCreated : ssoOsNowMs();
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_INSERT, &s);
  if( rc ) return rc;
  storeBindText(s, 1, u->zId, &rcBind);
  storeBindText(s, 2, u->zEmail, &rcBind);
  storeBindText(s, 3, u->zName, &rcBind);
  storeBindText(s, 4, u->zRole, &rcBind);
  storeBindText(s, 5, u->zSource, &rcBind);
  storeBindInt(s, 6, tCreated, &rcBind);
  storeBindInt(s, 7, u->tUpdated ? u->tUpdated : tCreated, &rcBind);
  storeBindOpt(s, 8, u->tLastLogin, &rcBind);
  storeBindInt(s, 9, u->bDisabled!=0, &rcBind);
  storeBindText(s, 10, u->zMetadata, &rcBind);
  return storeRun(p, s, rcBind);
}

SSO_PRIVATE int ssoStoreUserGet(SsoStore *p, const char *zId,
                                SsoArena *pArena, SsoUser *pOut){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_GET, &s);
  if( rc ) return rc;
  storeBindText(s, 1, zId, &rcBind);
  return storeGetRow(p, s, rcBind, storeReadUser, pArena, pOut, "user");
}

SSO_PRIVATE int ssoStoreUserGetByEmail(SsoStore *p, const char *zEmail,
                                       SsoArena *pArena, SsoUser *pOut){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_GET_EMAIL, &s);
  if( rc ) return rc;
  storeBindText(s, 1, zEmail, &rcBind);
  return storeGetRow(p, s, rcBind, storeReadUser, pArena, pOut, "user");
}

/* The UPDATE behind a sign-in; *pbFound whether an SSO row matched. */
static int storeUserLogin(SsoStore *p, const SsoUser *u, int bSetRole,
                          long long t, int *pbFound){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_LOGIN, &s);
  if( rc ) return rc;
  storeBindText(s, 1, u->zId, &rcBind);
  storeBindText(s, 2, u->zEmail, &rcBind);
  storeBindText(s, 3, u->zName, &rcBind);
  storeBindText(s, 4, bSetRole ? u->zRole : 0, &rcBind);
  storeBindInt(s, 5, t, &rcBind);
  rc = storeRun(p, s, rcBind);
  *pbFound = rc==SSOPROXY_OK && sqlite3_changes(p->db)>0;
  return rc;
}

SSO_PRIVATE int ssoStoreUserUpsertSso(SsoStore *p, const SsoUser *pIn,
                                      int bSetRole, SsoArena *pArena,
                                      SsoUser *pOut, int *pbCreated){
  long long t = pIn->tLastLogin ? pIn->tLastLogin : ssoOsNowMs();
  int bOwn, bFound = 0, rc;
  if( pbCreated ) *pbCreated = 0;
  rc = storeTxnEnter(p, &bOwn);
  if( rc ) return rc;
  rc = storeUserLogin(p, pIn, bSetRole, t, &bFound);
  if( rc==SSOPROXY_OK && !bFound ){
    SsoUser u = *pIn;
    u.zSource = "sso";
    u.tCreated = u.tUpdated = u.tLastLogin = t;
    u.bDisabled = 0;
    rc = ssoStoreUserInsert(p, &u);
    if( rc==SSOPROXY_CONSTRAINT
     && sqlite3_extended_errcode(p->db)==SQLITE_CONSTRAINT_PRIMARYKEY ){
      storeErrorf(p, rc, "user %s exists and is not an SSO user", pIn->zId);
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserGet(p, pIn->zId, pArena, pOut);
  rc = storeTxnLeave(p, bOwn, rc);
  if( rc==SSOPROXY_OK && pbCreated ) *pbCreated = !bFound;
  return rc;
}

SSO_PRIVATE int ssoStoreUserUpdate(SsoStore *p, const SsoUser *u){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_UPDATE, &s);
  if( rc ) return rc;
  storeBindText(s, 1, u->zId, &rcBind);
  storeBindText(s, 2, u->zEmail, &rcBind);
  storeBindText(s, 3, u->zName, &rcBind);
  storeBindText(s, 4, u->zRole, &rcBind);
  storeBindOpt(s, 5, u->tLastLogin, &rcBind);
  storeBindInt(s, 6, u->bDisabled!=0, &rcBind);
  storeBindText(s, 7, u->zMetadata, &rcBind);
  storeBindInt(s, 8, u->tUpdated ? u->tUpdated : ssoOsNowMs(), &rcBind);
  rc = storeRun(p, s, rcBind);
  if( rc==SSOPROXY_OK && sqlite3_changes(p->db)==0 ){
    rc = storeNotFound(p, "user");
  }
  return rc;
}

/* Run statement e with one text parameter; _NOTFOUND if no row changed. */
static int storeDeleteBy(SsoStore *p, int e, const char *z,
                         const char *zWhat){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, e, &s);
  if( rc ) return rc;
  storeBindText(s, 1, z, &rcBind);
  rc = storeRun(p, s, rcBind);
  if( rc==SSOPROXY_OK && zWhat && sqlite3_changes(p->db)==0 ){
    rc = storeNotFound(p, zWhat);
  }
  return rc;
}

SSO_PRIVATE int ssoStoreUserDelete(SsoStore *p, const char *zId){
  return storeDeleteBy(p, STMT_USER_DELETE, zId, "user");
}

SSO_PRIVATE int ssoStoreUserList(SsoStore *p, const char *zRole, int iOffset,
                                 int nLimit, SsoArena *pArena,
                                 SsoUser **paUser, int *pnUser){
  sqlite3_stmt *s;
  void *aRow = 0;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_LIST, &s);
  *paUser = 0;
  *pnUser = 0;
  if( rc ) return rc;
  storeBindText(s, 1, zRole, &rcBind);
  storeBindInt(s, 2, storeLimit(nLimit), &rcBind);
  storeBindInt(s, 3, iOffset>0 ? iOffset : 0, &rcBind);
  rc = storeGetList(p, s, rcBind, storeReadUser, sizeof(SsoUser), pArena,
                    &aRow, pnUser);
  *paUser = aRow;
  return rc;
}

SSO_PRIVATE int ssoStoreUserCount(SsoStore *p, const char *zRole,
                                  int *pnUser){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_COUNT, &s);
  *pnUser = 0;
  if( rc ) return rc;
  storeBindText(s, 1, zRole, &rcBind);
  return storeGetCount(p, s, rcBind, pnUser);
}

/* ---- API keys ---- */

SSO_PRIVATE int ssoStoreKeyInsert(SsoStore *p, const SsoKey *k){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_KEY_INSERT, &s);
  if( rc ) return rc;
  storeBindText(s, 1, k->zHash, &rcBind);
  storeBindText(s, 2, k->zDisplay, &rcBind);
  storeBindText(s, 3, k->zUserId, &rcBind);
  storeBindText(s, 4, k->zAlias, &rcBind);
  storeBindText(s, 5, k->zModels, &rcBind);
  storeBindOpt(s, 6, k->tExpires, &rcBind);
  storeBindInt(s, 7, k->tCreated ? k->tCreated : ssoOsNowMs(), &rcBind);
  storeBindOpt(s, 8, k->tLastUsed, &rcBind);
  storeBindInt(s, 9, k->bBlocked!=0, &rcBind);
  storeBindText(s, 10, k->zIssuedVia, &rcBind);
  storeBindOpt(s, 11, k->nRpmLimit, &rcBind);
  storeBindOpt(s, 12, k->nTpmLimit, &rcBind);
  storeBindText(s, 13, k->zMetadata, &rcBind);
  return storeRun(p, s, rcBind);
}

static int storeKeyGetBy(SsoStore *p, int e, const char *z,
                         SsoArena *pArena, SsoKey *pOut){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, e, &s);
  if( rc ) return rc;
  storeBindText(s, 1, z, &rcBind);
  return storeGetRow(p, s, rcBind, storeReadKey, pArena, pOut, "key");
}

SSO_PRIVATE int ssoStoreKeyGet(SsoStore *p, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut){
  return storeKeyGetBy(p, STMT_KEY_GET, zHash, pArena, pOut);
}

SSO_PRIVATE int ssoStoreKeyGetByAlias(SsoStore *p, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut){
  return storeKeyGetBy(p, STMT_KEY_GET_ALIAS, zAlias, pArena, pOut);
}

/* Both halves of the STMT_KEY_AUTH row: key columns 0..12, user 13..22. */
typedef struct StoreKeyAuth StoreKeyAuth;
struct StoreKeyAuth { SsoKey *pKey; SsoUser *pUser; };

static int storeReadKeyAuth(sqlite3_stmt *s, int i, SsoArena *a, void *pRow){
  StoreKeyAuth *r = pRow;
  int rc = storeReadKey(s, i, a, r->pKey);
  if( rc ) return rc;
  if( sqlite3_column_type(s, i+13)==SQLITE_NULL ){
    memset(r->pUser, 0, sizeof(*r->pUser));
    return SSOPROXY_OK;
  }
  return storeReadUser(s, i+13, a, r->pUser);
}

SSO_PRIVATE int ssoStoreKeyAuth(SsoStore *p, const char *zHash,
                                SsoArena *pArena, SsoKey *pKey,
                                SsoUser *pUser){
  sqlite3_stmt *s;
  StoreKeyAuth r;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_KEY_AUTH, &s);
  if( rc ) return rc;
  r.pKey = pKey;
  r.pUser = pUser;
  storeBindText(s, 1, zHash, &rcBind);
  return storeGetRow(p, s, rcBind, storeReadKeyAuth, pArena, &r, "key");
}

SSO_PRIVATE int ssoStoreKeyUpdate(SsoStore *p, const SsoKey *k){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_KEY_UPDATE, &s);
  if( rc ) return rc;
  storeBindText(s, 1, k->zHash, &rcBind);
  storeBindText(s, 2, k->zAlias, &rcBind);
  storeBindText(s, 3, k->zModels, &rcBind);
  storeBindOpt(s, 4, k->tExpires, &rcBind);
  storeBindInt(s, 5, k->bBlocked!=0, &rcBind);
  storeBindOpt(s, 6, k->nRpmLimit, &rcBind);
  storeBindOpt(s, 7, k->nTpmLimit, &rcBind);
  storeBindText(s, 8, k->zMetadata, &rcBind);
  rc = storeRun(p, s, rcBind);
  if( rc==SSOPROXY_OK && sqlite3_changes(p->db)==0 ){
    rc = storeNotFound(p, "key");
  }
  return rc;
}

SSO_PRIVATE int ssoStoreKeyDelete(SsoStore *p, const char *zHash){
  return storeDeleteBy(p, STMT_KEY_DELETE, zHash, "key");
}

SSO_PRIVATE int ssoStoreKeyDeleteByAlias(SsoStore *p, const char *zAlias){
  return storeDeleteBy(p, STMT_KEY_DELETE_ALIAS, zAlias, "key");
}

SSO_PRIVATE int ssoStoreKeyDeleteByUser(SsoStore *p, const char *zUserId,
                                        int *pnDeleted){
  int rc = storeDeleteBy(p, STMT_KEY_DELETE_USER, zUserId, 0);
  if( pnDeleted ) *pnDeleted = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

SSO_PRIVATE int ssoStoreKeyList(SsoStore *p, const char *zUserId,
                                int iOffset, int nLimit, SsoArena *pArena,
                                SsoKey **paKey, int *pnKey){
  sqlite3_stmt *s;
  void *aRow = 0;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, zUserId ? STMT_KEY_LIST_USER : STMT_KEY_LIST_ALL, &s);
  *paKey = 0;
  *pnKey = 0;
  if( rc ) return rc;
  storeBindText(s, 1, zUserId, &rcBind);
  storeBindInt(s, 2, storeLimit(nLimit), &rcBind);
  storeBindInt(s, 3, iOffset>0 ? iOffset : 0, &rcBind);
  rc = storeGetList(p, s, rcBind, storeReadKey, sizeof(SsoKey), pArena,
                    &aRow, pnKey);
  *paKey = aRow;
  return rc;
}

SSO_PRIVATE int ssoStoreKeyCount(SsoStore *p, const char *zUserId,
                                 int *pnKey){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, zUserId ? STMT_KEY_COUNT_USER : STMT_KEY_COUNT_ALL,
                     &s);
  *pnKey = 0;
  if( rc ) return rc;
  if( zUserId ) storeBindText(s, 1, zUserId, &rcBind);
  return storeGetCount(p, s, rcBind, pnKey);
}

SSO_PRIVATE int ssoStoreKeysTouch(SsoStore *p, const char **azHash,
                                  const long long *aAt, int n){
  sqlite3_stmt *s;
  int i, bOwn, rc;
  if( n<=0 ) return SSOPROXY_OK;
  rc = storeStmt(p, STMT_KEY_TOUCH, &s);
  if( rc ) return rc;
  rc = storeTxnEnter(p, &bOwn);
  for(i=0; i<n && rc==SSOPROXY_OK; i++){
    int rcBind = SQLITE_OK;
    storeBindText(s, 1, azHash[i], &rcBind);
    storeBindInt(s, 2, aAt[i], &rcBind);
    rc = storeRun(p, s, rcBind);
  }
  return storeTxnLeave(p, bOwn, rc);
}

/* ---- Audit log ---- */

SSO_PRIVATE int ssoStoreAuditAppend(SsoStore *p, const SsoAudit *e,
                                    long long *piId){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_AUDIT_INSERT, &s);
  if( piId ) *piId = 0;
  if( rc ) return rc;
  storeBindInt(s, 1, e->tAt ? e->tAt : ssoOsNowMs(), &rcBind);
  storeBindText(s, 2, e->zActor, &rcBind);
  storeBindText(s, 3, e->zAction, &rcBind);
  storeBindText(s, 4, e->zObjectType, &rcBind);
  storeBindText(s, 5, e->zObjectId, &rcBind);
  storeBindText(s, 6, e->zBefore, &rcBind);
  storeBindText(s, 7, e->zAfter, &rcBind);
  rc = storeRun(p, s, rcBind);
  if( rc==SSOPROXY_OK && piId ) *piId = sqlite3_last_insert_rowid(p->db);
  return rc;
}

SSO_PRIVATE int ssoStoreAuditList(SsoStore *p, const char *zObjectType,
                                  const char *zObjectId, int iOffset,
                                  int nLimit, SsoArena *pArena,
                                  SsoAudit **paAudit, int *pnAudit){
  sqlite3_stmt *s;
  void *aRow = 0;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, zObjectType ? STMT_AUDIT_LIST_OBJECT
                                    : STMT_AUDIT_LIST_ALL, &s);
  *paAudit = 0;
  *pnAudit = 0;
  if( rc ) return rc;
  if( zObjectType ){
    storeBindText(s, 1, zObjectType, &rcBind);
    storeBindText(s, 2, zObjectId, &rcBind);
  }
  storeBindInt(s, 3, storeLimit(nLimit), &rcBind);
  storeBindInt(s, 4, iOffset>0 ? iOffset : 0, &rcBind);
  rc = storeGetList(p, s, rcBind, storeReadAudit, sizeof(SsoAudit), pArena,
                    &aRow, pnAudit);
  *paAudit = aRow;
  return rc;
}
