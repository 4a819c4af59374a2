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

  /* 2: per-key usage, browser sessions, short-lived grants. */
  "ALTER TABLE keys ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;\n"
  "ALTER TABLE keys ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;\n"
  "ALTER TABLE keys ADD COLUMN completion_tokens INTEGER NOT NULL"
       " DEFAULT 0;\n"
  "CREATE TABLE sessions(\n"
  "  hash TEXT PRIMARY KEY NOT NULL\n"
  "    CHECK (length(hash)=64 AND hash NOT GLOB '*[^0-9a-f]*'),\n"
  "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
  "  created_at INTEGER NOT NULL,\n"
  "  seen_at INTEGER NOT NULL,\n"
  "  expires_at INTEGER NOT NULL,\n"
  "  id_token TEXT,\n"
  "  data TEXT NOT NULL DEFAULT '{}'\n"
  ") STRICT, WITHOUT ROWID;\n"
  "CREATE INDEX sessions_user ON sessions(user_id);\n"
  "CREATE INDEX sessions_expires ON sessions(expires_at);\n"
  "CREATE TABLE grants(\n"
  "  hash TEXT PRIMARY KEY NOT NULL\n"
  "    CHECK (length(hash)=64 AND hash NOT GLOB '*[^0-9a-f]*'),\n"
  "  kind TEXT NOT NULL,\n"
  "  data TEXT NOT NULL DEFAULT '{}',\n"
  "  created_at INTEGER NOT NULL,\n"
  "  expires_at INTEGER NOT NULL,\n"
  "  uses INTEGER NOT NULL DEFAULT 0\n"
  ") STRICT, WITHOUT ROWID;\n"
  "CREATE INDEX grants_expires ON grants(expires_at);\n",
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
** cache_size: 16 MiB of pages per connection instead of SQLite's 2 MiB,
** so the interior pages and the busy leaves of a key table of a million
** rows stay in memory for the lookup behind every request (bench/keys.sh).
*/
static const char zStoreSetup[] =
  "PRAGMA foreign_keys=ON;"
  "PRAGMA synchronous=NORMAL;"
  "PRAGMA secure_delete=FAST;"
  "PRAGMA cache_size=-16384;";

/* ---- The statements ---- */

/*
** The columns of each table, in the order of its column map (below):
** every statement that reads a whole row selects them in this order, and
** every statement that writes one numbers its parameters by it (?1 the
** first column), so that one binder, storeBindRow(), serves them all.
*/
#define STORE_USER_COLS \
  "id, email, display_name, role, source, created_at, updated_at, " \
  "last_login_at, disabled, metadata"
#define STORE_KEY_COLS \
  "hash, display, user_id, alias, models, expires_at, created_at, " \
  "last_used_at, blocked, issued_via, rpm_limit, tpm_limit, metadata, " \
  "requests, prompt_tokens, completion_tokens"
#define STORE_AUDIT_COLS \
  "id, at, actor, action, object_type, object_id, before, after"
#define STORE_SESSION_COLS \
  "hash, user_id, created_at, seen_at, expires_at, id_token, data"
#define STORE_GRANT_COLS \
  "hash, kind, data, created_at, expires_at, uses"

/*
** Column maps. A row struct holds only three kinds of field: text, a
** 64-bit integer in which 0 stands for NULL (times, limits, ids), and an
** int (flags, counts). So a list of (kind, offset) pairs describes a
** table well enough for one reader and one binder to serve them all,
** where each table would otherwise need its own copy of both, kept in
** step with its column list by hand twice over.
*/
enum { COL_TEXT, COL_I64, COL_INT };
typedef struct StoreCol StoreCol;
struct StoreCol {
  unsigned char eType;      /* COL_TEXT, COL_I64 or COL_INT */
  unsigned short iOff;      /* offsetof() its field in the row struct */
};
typedef struct StoreTable StoreTable;
struct StoreTable {
  const char *zWhat;        /* Row name for "no such ..." */
  const StoreCol *aCol;     /* Column map, in STORE_*_COLS order */
  int nCol;                 /* Entries in aCol[] */
  size_t szRow;             /* sizeof the row struct */
};

#define U(e, f) { COL_##e, offsetof(SsoUser, f) }
static const StoreCol aUserCol[] = {
  U(TEXT, zId), U(TEXT, zEmail), U(TEXT, zName), U(TEXT, zRole),
  U(TEXT, zSource), U(I64, tCreated), U(I64, tUpdated),
  U(I64, tLastLogin), U(INT, bDisabled), U(TEXT, zMetadata)
};
#undef U
#define K(e, f) { COL_##e, offsetof(SsoKey, f) }
static const StoreCol aKeyCol[] = {
  K(TEXT, zHash), K(TEXT, zDisplay), K(TEXT, zUserId), K(TEXT, zAlias),
  K(TEXT, zModels), K(I64, tExpires), K(I64, tCreated), K(I64, tLastUsed),
  K(INT, bBlocked), K(TEXT, zIssuedVia), K(I64, nRpmLimit),
  K(I64, nTpmLimit), K(TEXT, zMetadata), K(I64, nRequests),
  K(I64, nPromptTokens), K(I64, nCompletionTokens)
};
#undef K
#define A(e, f) { COL_##e, offsetof(SsoAudit, f) }
static const StoreCol aAuditCol[] = {
  A(I64, iId), A(I64, tAt), A(TEXT, zActor), A(TEXT, zAction),
  A(TEXT, zObjectType), A(TEXT, zObjectId), A(TEXT, zBefore),
  A(TEXT, zAfter)
};
#undef A
#define S(e, f) { COL_##e, offsetof(SsoSessionRow, f) }
static const StoreCol aSessionCol[] = {
  S(TEXT, zHash), S(TEXT, zUserId), S(I64, tCreated), S(I64, tSeen),
  S(I64, tExpires), S(TEXT, zIdToken), S(TEXT, zData)
};
#undef S
#define G(e, f) { COL_##e, offsetof(SsoGrant, f) }
static const StoreCol aGrantCol[] = {
  G(TEXT, zHash), G(TEXT, zKind), G(TEXT, zData), G(I64, tCreated),
  G(I64, tExpires), G(INT, nUse)
};
#undef G
/* A row of plain ints, read into an int[]: counts and the probe. */
static const StoreCol aIntCol[] = {
  { COL_INT, 0 }, { COL_INT, sizeof(int) }, { COL_INT, 2*sizeof(int) }
};

static const StoreTable tabUser = {
  "user", aUserCol, SSO_ARRAYSIZE(aUserCol), sizeof(SsoUser)
};
static const StoreTable tabKey = {
  "key", aKeyCol, SSO_ARRAYSIZE(aKeyCol), sizeof(SsoKey)
};
static const StoreTable tabAudit = {
  "audit entry", aAuditCol, SSO_ARRAYSIZE(aAuditCol), sizeof(SsoAudit)
};
static const StoreTable tabSession = {
  "session", aSessionCol, SSO_ARRAYSIZE(aSessionCol), sizeof(SsoSessionRow)
};
static const StoreTable tabGrant = {
  "grant", aGrantCol, SSO_ARRAYSIZE(aGrantCol), sizeof(SsoGrant)
};
static const StoreTable tabCount = { "row", aIntCol, 1, sizeof(int) };
static const StoreTable tabProbe = { "row", aIntCol, 3, 3*sizeof(int) };

enum {
  STMT_BEGIN, STMT_COMMIT, STMT_ROLLBACK, STMT_PROBE, STMT_WAL,
  STMT_USER_INSERT, STMT_USER_GET, STMT_USER_GET_EMAIL, STMT_USER_UPDATE,
  STMT_USER_LOGIN, STMT_USER_DELETE, STMT_USER_LIST, STMT_USER_COUNT,
  STMT_KEY_INSERT, STMT_KEY_GET, STMT_KEY_GET_ALIAS, STMT_KEY_AUTH,
  STMT_KEY_UPDATE, STMT_KEY_DELETE, STMT_KEY_DELETE_ALIAS,
  STMT_KEY_DELETE_USER, STMT_KEY_LIST_ALL, STMT_KEY_LIST_USER,
  STMT_KEY_COUNT_ALL, STMT_KEY_COUNT_USER, STMT_KEY_USAGE,
  STMT_AUDIT_INSERT, STMT_AUDIT_LIST_ALL, STMT_AUDIT_LIST_OBJECT,
  STMT_AUDIT_COUNT,
  STMT_SESSION_INSERT, STMT_SESSION_GET, STMT_SESSION_TOUCH,
  STMT_SESSION_DELETE, STMT_SESSION_DELETE_USER, STMT_SESSION_PURGE,
  STMT_GRANT_INSERT, STMT_GRANT_TAKE, STMT_GRANT_GET, STMT_GRANT_UPDATE,
  STMT_GRANT_DELETE, STMT_GRANT_PURGE,
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
    " last_login_at=?8, disabled=?9, metadata=coalesce(?10, metadata),"
    " updated_at=?7 WHERE id=?1",
  /* A sign-in: updated_at moves only when something besides the login
  ** time changed. SET expressions see the row as it was. */
  [STMT_USER_LOGIN] =
    "UPDATE users SET email=?2, display_name=?3, role=coalesce(?4, role),"
    " last_login_at=?8,"
    " updated_at=CASE WHEN email IS ?2 AND display_name IS ?3"
    "  AND role=coalesce(?4, role) THEN updated_at ELSE ?8 END"
    " WHERE id=?1 AND source='sso'",
  [STMT_USER_DELETE] = "DELETE FROM users WHERE id=?1",
  /* Lists take their filters as ?1 and ?2 (NULL: all) and the page as
  ** ?3 and ?4, used or not, so that they all bind alike. */
  [STMT_USER_LIST] =
    "SELECT " STORE_USER_COLS " FROM users WHERE ?1 IS NULL OR role=?1"
    " ORDER BY id LIMIT ?3 OFFSET ?4",
  [STMT_USER_COUNT] =
    "SELECT count(*) FROM users WHERE ?1 IS NULL OR role=?1",

  [STMT_KEY_INSERT] =
    "INSERT INTO keys(" STORE_KEY_COLS ")"
    " VALUES(?1, ?2, ?3, ?4, coalesce(?5, '[]'), ?6, ?7, ?8, ?9, ?10,"
    " ?11, ?12, coalesce(?13, '{}'), 0, 0, 0)",
  [STMT_KEY_GET] = "SELECT " STORE_KEY_COLS " FROM keys WHERE hash=?1",
  [STMT_KEY_GET_ALIAS] = "SELECT " STORE_KEY_COLS " FROM keys WHERE alias=?1",
  /* The per-request lookup: one primary-key probe, one for the owner. */
  [STMT_KEY_AUTH] =
    "SELECT k.hash, k.display, k.user_id, k.alias, k.models, k.expires_at,"
    " k.created_at, k.last_used_at, k.blocked, k.issued_via, k.rpm_limit,"
    " k.tpm_limit, k.metadata, k.requests, k.prompt_tokens,"
    " k.completion_tokens,"
    " u.id, u.email, u.display_name, u.role, u.source, u.created_at,"
    " u.updated_at, u.last_login_at, u.disabled, u.metadata"
    " FROM keys AS k LEFT JOIN users AS u ON u.id=k.user_id"
    " WHERE k.hash=?1",
  [STMT_KEY_UPDATE] =
    "UPDATE keys SET alias=?4, models=coalesce(?5, models), expires_at=?6,"
    " blocked=?9, rpm_limit=?11, tpm_limit=?12,"
    " metadata=coalesce(?13, metadata) WHERE hash=?1",
  [STMT_KEY_DELETE] = "DELETE FROM keys WHERE hash=?1",
  [STMT_KEY_DELETE_ALIAS] = "DELETE FROM keys WHERE alias=?1",
  [STMT_KEY_DELETE_USER] = "DELETE FROM keys WHERE user_id=?1",
  /* Two statements, not "?1 IS NULL OR", so the filtered one can use
  ** the keys_user index. */
  [STMT_KEY_LIST_ALL] =
    "SELECT " STORE_KEY_COLS " FROM keys"
    " ORDER BY created_at, hash LIMIT ?3 OFFSET ?4",
  [STMT_KEY_LIST_USER] =
    "SELECT " STORE_KEY_COLS " FROM keys WHERE user_id=?1"
    " ORDER BY created_at, hash LIMIT ?3 OFFSET ?4",
  [STMT_KEY_COUNT_ALL] = "SELECT count(*) FROM keys",
  [STMT_KEY_COUNT_USER] = "SELECT count(*) FROM keys WHERE user_id=?1",
  /* Last use never moves backwards; the counts only grow. */
  [STMT_KEY_USAGE] =
    "UPDATE keys SET last_used_at=CASE WHEN last_used_at IS NULL"
    " OR last_used_at<?2 THEN ?2 ELSE last_used_at END,"
    " requests=requests+?3, prompt_tokens=prompt_tokens+?4,"
    " completion_tokens=completion_tokens+?5 WHERE hash=?1",

  /* A NULL id (?1) makes SQLite assign the next one. */
  [STMT_AUDIT_INSERT] =
    "INSERT INTO audit_log(" STORE_AUDIT_COLS ")"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [STMT_AUDIT_LIST_ALL] =
    "SELECT " STORE_AUDIT_COLS " FROM audit_log"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
  [STMT_AUDIT_LIST_OBJECT] =
    "SELECT " STORE_AUDIT_COLS " FROM audit_log"
    " WHERE object_type=?1 AND (?2 IS NULL OR object_id=?2)"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
  /* Both filters of the two lists above in one statement: a count runs
  ** once per page, so the extra "?1 IS NULL" costs nothing that shows. */
  [STMT_AUDIT_COUNT] =
    "SELECT count(*) FROM audit_log WHERE ?1 IS NULL"
    " OR (object_type=?1 AND (?2 IS NULL OR object_id=?2))",

  [STMT_SESSION_INSERT] =
    "INSERT INTO sessions(" STORE_SESSION_COLS ")"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, '{}'))",
  [STMT_SESSION_GET] =
    "SELECT " STORE_SESSION_COLS " FROM sessions WHERE hash=?1",
  [STMT_SESSION_TOUCH] =
    "UPDATE sessions SET seen_at=?2 WHERE hash=?1 AND seen_at<?2",
  [STMT_SESSION_DELETE] = "DELETE FROM sessions WHERE hash=?1",
  [STMT_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE user_id=?1",
  /* A NULL ?2 (no idle rule) makes "seen_at<?2" NULL, which is false. */
  [STMT_SESSION_PURGE] =
    "DELETE FROM sessions WHERE expires_at<=?1 OR seen_at<?2",

  [STMT_GRANT_INSERT] =
    "INSERT INTO grants(" STORE_GRANT_COLS ")"
    " VALUES(?1, ?2, coalesce(?3, '{}'), ?4, ?5, 0)",
  /* One statement counts the use and reads the row: two workers taking
  ** the same grant at once are serialised by SQLite's write lock, so
  ** exactly one of them sees uses=1. */
  [STMT_GRANT_TAKE] =
    "UPDATE grants SET uses=uses+1 WHERE hash=?1 AND kind=?2"
    " RETURNING " STORE_GRANT_COLS,
  [STMT_GRANT_GET] =
    "SELECT " STORE_GRANT_COLS " FROM grants WHERE hash=?1 AND kind=?2",
  [STMT_GRANT_UPDATE] =
    "UPDATE grants SET data=?3 WHERE hash=?1 AND kind=?2",
  [STMT_GRANT_DELETE] = "DELETE FROM grants WHERE hash=?1 AND kind=?2",
  [STMT_GRANT_PURGE] = "DELETE FROM grants WHERE expires_at<?1",
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

/*
** Bind each field of pRow, a row of table pTab, to the parameter its
** column numbers, up to the highest one the statement has: a statement
** that uses fewer columns leaves the ones between unused (SQLite allows
** gaps in ?NNN). Flags are bound as 0 or 1, which is what the CHECKs
** allow.
*/
static void storeBindRow(sqlite3_stmt *pStmt, const StoreTable *pTab,
                         const void *pRow, int *pRc){
  const char *pBase = pRow;
  int nParam = sqlite3_bind_parameter_count(pStmt);
  int i;
  for(i=0; i<pTab->nCol && i<nParam; i++){
    const void *pField = pBase + pTab->aCol[i].iOff;
    switch( pTab->aCol[i].eType ){
      case COL_TEXT:
        storeBindText(pStmt, i+1, *(const char *const*)pField, pRc);
        break;
      case COL_I64:
        storeBindOpt(pStmt, i+1, *(const long long*)pField, pRc);
        break;
      default:
        storeBindInt(pStmt, i+1, *(const int*)pField!=0, pRc);
        break;
    }
  }
}

/* Back to the unbound, unstepped state; drops pointers to the caller's
** strings. */
static void storeDone(sqlite3_stmt *pStmt){
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
}

/*
** Step a bound statement that returns no row (rcBind: the binds' sticky
** result), then reset it. Returns an SSOPROXY_ code. When zWhat is not
** NULL the statement must change a row: _NOTFOUND naming zWhat if not.
*/
static int storeRun(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                    const char *zWhat){
  int rc = rcBind ? rcBind : sqlite3_step(pStmt);
  if( rc==SQLITE_DONE || rc==SQLITE_ROW ){
    rc = SSOPROXY_OK;
  }else{
    rc = storeError(p, rc);
  }
  storeDone(pStmt);
  if( rc==SSOPROXY_OK && zWhat && sqlite3_changes(p->db)==0 ){
    rc = storeNotFound(p, zWhat);
  }
  return rc;
}

/* Run the unbound statement e. */
static int storeExec(SsoStore *p, int e){
  sqlite3_stmt *pStmt;
  int rc = storeStmt(p, e, &pStmt);
  return rc ? rc : storeRun(p, pStmt, SQLITE_OK, 0);
}

/*
** Statement e with ?1 bound to z. A NULL z is left unbound, which is
** NULL as well (bindings are cleared after every use), so statements
** without a ?1 can be had this way too.
*/
static int storeStmtText(SsoStore *p, int e, const char *z,
                         sqlite3_stmt **ppStmt, int *pRcBind){
  int rc = storeStmt(p, e, ppStmt);
  *pRcBind = SQLITE_OK;
  if( rc==SSOPROXY_OK && z ) storeBindText(*ppStmt, 1, z, pRcBind);
  return rc;
}

/* Run statement e with ?1 bound to z (see storeRun for zWhat). */
static int storeRunBy(SsoStore *p, int e, const char *z, const char *zWhat){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, e, z, &s, &rcBind);
  return rc ? rc : storeRun(p, s, rcBind, zWhat);
}

/*
** Run the INSERT or UPDATE e with the row pRow of table pTab bound.
** bMustHit: an UPDATE of a row that must exist (else _NOTFOUND).
*/
static int storeRunRow(SsoStore *p, int e, const StoreTable *pTab,
                       const void *pRow, int bMustHit){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, e, &s);
  if( rc ) return rc;
  storeBindRow(s, pTab, pRow, &rcBind);
  return storeRun(p, s, rcBind, bMustHit ? pTab->zWhat : 0);
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

/*
** Read the row of table pTab that starts at result column iCol into
** pRow, text into pArena. NULL reads as 0 or a NULL pointer, so the
** all-NULL half of a LEFT JOIN that found nothing reads as a zeroed row.
*/
static int storeReadRow(SsoStore *p, sqlite3_stmt *pStmt, int iCol,
                        const StoreTable *pTab, SsoArena *pArena,
                        void *pRow){
  char *pBase = pRow;
  int i, rc = SSOPROXY_OK;
  memset(pRow, 0, pTab->szRow);
  for(i=0; i<pTab->nCol; i++){
    void *pField = pBase + pTab->aCol[i].iOff;
    switch( pTab->aCol[i].eType ){
      case COL_TEXT:
        storeColText(pStmt, iCol+i, pArena, (const char**)pField, &rc);
        break;
      case COL_I64:
        *(long long*)pField = sqlite3_column_int64(pStmt, iCol+i);
        break;
      default:
        *(int*)pField = sqlite3_column_int(pStmt, iCol+i);
        break;
    }
  }
  return rc ? storeErrorf(p, rc, "out of memory") : SSOPROXY_OK;
}

/*
** Step a bound statement expected to give at most one row and leave
** that row to be read: _NOTFOUND (naming zWhat) when there is none.
*/
static int storeStep(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                     const char *zWhat){
  int rc = rcBind ? rcBind : sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ) return SSOPROXY_OK;
  return rc==SQLITE_DONE ? storeNotFound(p, zWhat) : storeError(p, rc);
}

/*
** The one row of statement e, with ?1 bound to z as storeStmtText()
** does, read into pRow as a row of pTab. pRow is zeroed first, so it
** holds no stale values after a failure (a count reads 0).
*/
static int storeGetBy(SsoStore *p, int e, const char *z,
                      const StoreTable *pTab, SsoArena *pArena, void *pRow){
  sqlite3_stmt *s;
  int rcBind;
  int rc;
  memset(pRow, 0, pTab->szRow);
  rc = storeStmtText(p, e, z, &s, &rcBind);
  if( rc ) return rc;
  rc = storeStep(p, s, rcBind, pTab->zWhat);
  if( rc==SSOPROXY_OK ) rc = storeReadRow(p, s, 0, pTab, pArena, pRow);
  storeDone(s);
  return rc;
}

/*
** Step a bound list statement, reading every row into an array of rows
** of pTab in the arena. The array doubles as it fills; the copies it
** leaves behind cost at most as much as the final array. *paRow is NULL
** when there are no rows.
*/
static int storeGetList(SsoStore *p, sqlite3_stmt *pStmt, int rcBind,
                        const StoreTable *pTab, SsoArena *pArena,
                        void **paRow, int *pnRow){
  size_t szRow = pTab->szRow;
  char *aRow = 0;
  int nRow = 0, nAlloc = 0, rcRead = SSOPROXY_OK;
  int rc = rcBind;
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( nRow==nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 8;
      char *aNew = ssoArenaAlloc(pArena, (size_t)nNew*szRow);
      if( aNew==0 ){
        rcRead = storeErrorf(p, SSOPROXY_NOMEM, "out of memory");
        break;
      }
      if( nRow ) memcpy(aNew, aRow, (size_t)nRow*szRow);
      aRow = aNew;
      nAlloc = nNew;
    }
    rcRead = storeReadRow(p, pStmt, 0, pTab, pArena,
                          aRow + (size_t)nRow*szRow);
    if( rcRead ) break;
    nRow++;
    rc = SQLITE_OK;
  }
  if( rcRead ){
    rc = rcRead;
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

/* Page size as asked, or the ceiling when it is out of range. */
static int storeLimit(int nLimit){
  return (nLimit<1 || nLimit>SSO_DB_MAX_PAGE) ? SSO_DB_MAX_PAGE : nLimit;
}

/*
** One page of the list statement e: filters z1 and z2 bound to ?1 and
** ?2, the page to ?3 (size) and ?4 (offset), as every list statement
** expects. The rows are those of table pTab, as storeGetList() gives.
*/
static int storeList(SsoStore *p, int e, const char *z1, const char *z2,
                     int iOffset, int nLimit, const StoreTable *pTab,
                     SsoArena *pArena, void **paRow, int *pnRow){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, e, &s);
  *paRow = 0;
  *pnRow = 0;
  if( rc ) return rc;
  storeBindText(s, 1, z1, &rcBind);
  storeBindText(s, 2, z2, &rcBind);
  storeBindInt(s, 3, storeLimit(nLimit), &rcBind);
  storeBindInt(s, 4, iOffset>0 ? iOffset : 0, &rcBind);
  return storeGetList(p, s, rcBind, pTab, pArena, paRow, pnRow);
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
  int a[3];
  int rc = storeGetBy(p, STMT_PROBE, 0, &tabProbe, 0, a);
  *piVersion = a[0];
  *piAppId = a[1];
  *pnSchema = a[2];
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

SSO_PRIVATE int ssoStoreUserInsert(SsoStore *p, const SsoUser *pUser){
  SsoUser u = *pUser;
  if( u.tCreated==0 ) u.tCreated = ssoOsNowMs();
  if( u.tUpdated==0 ) u.tUpdated = u.tCreated;
  return storeRunRow(p, STMT_USER_INSERT, &tabUser, &u, 0);
}

SSO_PRIVATE int ssoStoreUserGet(SsoStore *p, const char *zId,
                                SsoArena *pArena, SsoUser *pOut){
  return storeGetBy(p, STMT_USER_GET, zId, &tabUser, pArena, pOut);
}

SSO_PRIVATE int ssoStoreUserGetByEmail(SsoStore *p, const char *zEmail,
                                       SsoArena *pArena, SsoUser *pOut){
  return storeGetBy(p, STMT_USER_GET_EMAIL, zEmail, &tabUser, pArena, pOut);
}

/* The UPDATE behind a sign-in; *pbFound whether an SSO row matched. */
static int storeUserLogin(SsoStore *p, const SsoUser *pIn, int bSetRole,
                          long long t, int *pbFound){
  SsoUser u = *pIn;
  int rc;
  if( !bSetRole ) u.zRole = 0;    /* NULL: keep the stored role */
  u.tLastLogin = t;
  rc = storeRunRow(p, STMT_USER_LOGIN, &tabUser, &u, 0);
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

SSO_PRIVATE int ssoStoreUserUpdate(SsoStore *p, const SsoUser *pUser){
  SsoUser u = *pUser;
  if( u.tUpdated==0 ) u.tUpdated = ssoOsNowMs();
  return storeRunRow(p, STMT_USER_UPDATE, &tabUser, &u, 1);
}

SSO_PRIVATE int ssoStoreUserDelete(SsoStore *p, const char *zId){
  return storeRunBy(p, STMT_USER_DELETE, zId, "user");
}

SSO_PRIVATE int ssoStoreUserList(SsoStore *p, const char *zRole, int iOffset,
                                 int nLimit, SsoArena *pArena,
                                 SsoUser **paUser, int *pnUser){
  void *aRow;
  int rc = storeList(p, STMT_USER_LIST, zRole, 0, iOffset, nLimit,
                     &tabUser, pArena, &aRow, pnUser);
  *paUser = aRow;
  return rc;
}

SSO_PRIVATE int ssoStoreUserCount(SsoStore *p, const char *zRole,
                                  int *pnUser){
  return storeGetBy(p, STMT_USER_COUNT, zRole, &tabCount, 0, pnUser);
}

/* ---- API keys ---- */

SSO_PRIVATE int ssoStoreKeyInsert(SsoStore *p, const SsoKey *pKey){
  SsoKey k = *pKey;
  if( k.tCreated==0 ) k.tCreated = ssoOsNowMs();
  return storeRunRow(p, STMT_KEY_INSERT, &tabKey, &k, 0);
}

SSO_PRIVATE int ssoStoreKeyGet(SsoStore *p, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut){
  return storeGetBy(p, STMT_KEY_GET, zHash, &tabKey, pArena, pOut);
}

/*
** One statement reads the key (columns 0..15) and its owner (16..25).
** A key without an owner has NULL user columns, which read as the
** zeroed SsoUser the caller expects.
*/
SSO_PRIVATE int ssoStoreKeyAuth(SsoStore *p, const char *zHash,
                                SsoArena *pArena, SsoKey *pKey,
                                SsoUser *pUser){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_KEY_AUTH, zHash, &s, &rcBind);
  if( rc ) return rc;
  rc = storeStep(p, s, rcBind, tabKey.zWhat);
  if( rc==SSOPROXY_OK ) rc = storeReadRow(p, s, 0, &tabKey, pArena, pKey);
  if( rc==SSOPROXY_OK ){
    rc = storeReadRow(p, s, tabKey.nCol, &tabUser, pArena, pUser);
  }
  storeDone(s);
  return rc;
}

SSO_PRIVATE int ssoStoreKeyGetByAlias(SsoStore *p, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut){
  return storeGetBy(p, STMT_KEY_GET_ALIAS, zAlias, &tabKey, pArena, pOut);
}

SSO_PRIVATE int ssoStoreKeyUpdate(SsoStore *p, const SsoKey *pKey){
  return storeRunRow(p, STMT_KEY_UPDATE, &tabKey, pKey, 1);
}

SSO_PRIVATE int ssoStoreKeyDelete(SsoStore *p, const char *zHash){
  return storeRunBy(p, STMT_KEY_DELETE, zHash, "key");
}

SSO_PRIVATE int ssoStoreKeyDeleteByAlias(SsoStore *p, const char *zAlias){
  return storeRunBy(p, STMT_KEY_DELETE_ALIAS, zAlias, "key");
}

SSO_PRIVATE int ssoStoreKeyDeleteByUser(SsoStore *p, const char *zUserId,
                                        int *pnDeleted){
  int rc = storeRunBy(p, STMT_KEY_DELETE_USER, zUserId, 0);
  if( pnDeleted ) *pnDeleted = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

SSO_PRIVATE int ssoStoreKeyList(SsoStore *p, const char *zUserId,
                                int iOffset, int nLimit, SsoArena *pArena,
                                SsoKey **paKey, int *pnKey){
  void *aRow;
  int rc = storeList(p, zUserId ? STMT_KEY_LIST_USER : STMT_KEY_LIST_ALL,
                     zUserId, 0, iOffset, nLimit, &tabKey, pArena,
                     &aRow, pnKey);
  *paKey = aRow;
  return rc;
}

SSO_PRIVATE int ssoStoreKeyCount(SsoStore *p, const char *zUserId,
                                 int *pnKey){
  return storeGetBy(p, zUserId ? STMT_KEY_COUNT_USER : STMT_KEY_COUNT_ALL,
                    zUserId, &tabCount, 0, pnKey);
}

/* One UPDATE of the usage statement s, already prepared. */
static int storeKeyUsageRow(SsoStore *p, sqlite3_stmt *s,
                            const SsoKeyUsage *u){
  int rcBind = SQLITE_OK;
  storeBindText(s, 1, u->zHash, &rcBind);
  storeBindInt(s, 2, u->tAt, &rcBind);
  storeBindInt(s, 3, u->nRequests, &rcBind);
  storeBindInt(s, 4, u->nPromptTokens, &rcBind);
  storeBindInt(s, 5, u->nCompletionTokens, &rcBind);
  return storeRun(p, s, rcBind, 0);
}

SSO_PRIVATE int ssoStoreKeysUsage(SsoStore *p, const SsoKeyUsage *a, int n){
  sqlite3_stmt *s;
  int i, bOwn, rc;
  if( n<=0 ) return SSOPROXY_OK;
  rc = storeStmt(p, STMT_KEY_USAGE, &s);
  if( rc ) return rc;
  rc = storeTxnEnter(p, &bOwn);
  for(i=0; i<n && rc==SSOPROXY_OK; i++) rc = storeKeyUsageRow(p, s, &a[i]);
  return storeTxnLeave(p, bOwn, rc);
}

/* ---- Browser sessions ---- */

SSO_PRIVATE int ssoStoreSessionInsert(SsoStore *p, const SsoSessionRow *pRow){
  SsoSessionRow r = *pRow;
  if( r.tCreated==0 ) r.tCreated = ssoOsNowMs();
  if( r.tSeen==0 ) r.tSeen = r.tCreated;
  return storeRunRow(p, STMT_SESSION_INSERT, &tabSession, &r, 0);
}

SSO_PRIVATE int ssoStoreSessionGet(SsoStore *p, const char *zHash,
                                   SsoArena *pArena, SsoSessionRow *pOut){
  return storeGetBy(p, STMT_SESSION_GET, zHash, &tabSession, pArena, pOut);
}

SSO_PRIVATE int ssoStoreSessionTouch(SsoStore *p, const char *zHash,
                                     long long tSeen){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_SESSION_TOUCH, zHash, &s, &rcBind);
  if( rc ) return rc;
  storeBindInt(s, 2, tSeen, &rcBind);
  return storeRun(p, s, rcBind, 0);
}

SSO_PRIVATE int ssoStoreSessionDelete(SsoStore *p, const char *zHash){
  return storeRunBy(p, STMT_SESSION_DELETE, zHash, 0);
}

/* Run statement s (bound, rcBind) and report in *pn the rows it changed. */
static int storeRunCount(SsoStore *p, sqlite3_stmt *s, int rcBind, int *pn){
  int rc = storeRun(p, s, rcBind, 0);
  if( pn ) *pn = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

SSO_PRIVATE int ssoStoreSessionDeleteUser(SsoStore *p, const char *zUserId,
                                          int *pn){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_SESSION_DELETE_USER, zUserId, &s, &rcBind);
  if( rc ) return rc;
  return storeRunCount(p, s, rcBind, pn);
}

SSO_PRIVATE int ssoStoreSessionPurge(SsoStore *p, long long tNow,
                                     long long tIdleBefore, int *pn){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_SESSION_PURGE, &s);
  if( rc ) return rc;
  storeBindInt(s, 1, tNow, &rcBind);
  storeBindOpt(s, 2, tIdleBefore, &rcBind);
  return storeRunCount(p, s, rcBind, pn);
}

/* ---- Short-lived grants ---- */

SSO_PRIVATE int ssoStoreGrantInsert(SsoStore *p, const SsoGrant *pGrant){
  SsoGrant g = *pGrant;
  if( g.tCreated==0 ) g.tCreated = ssoOsNowMs();
  return storeRunRow(p, STMT_GRANT_INSERT, &tabGrant, &g, 0);
}

/* Statement e with ?1 zHash and ?2 zKind bound. */
static int storeGrantStmt(SsoStore *p, int e, const char *zHash,
                          const char *zKind, sqlite3_stmt **ppStmt,
                          int *pRcBind){
  int rc = storeStmtText(p, e, zHash, ppStmt, pRcBind);
  if( rc==SSOPROXY_OK ) storeBindText(*ppStmt, 2, zKind, pRcBind);
  return rc;
}

/* The one row statement e gives for (zHash, zKind). */
static int storeGrantRead(SsoStore *p, int e, const char *zHash,
                          const char *zKind, SsoArena *pArena,
                          SsoGrant *pOut){
  sqlite3_stmt *s;
  int rcBind;
  int rc;
  memset(pOut, 0, sizeof(*pOut));
  rc = storeGrantStmt(p, e, zHash, zKind, &s, &rcBind);
  if( rc ) return rc;
  rc = storeStep(p, s, rcBind, tabGrant.zWhat);
  if( rc==SSOPROXY_OK ) rc = storeReadRow(p, s, 0, &tabGrant, pArena, pOut);
  storeDone(s);
  return rc;
}

SSO_PRIVATE int ssoStoreGrantTake(SsoStore *p, const char *zHash,
                                  const char *zKind, SsoArena *pArena,
                                  SsoGrant *pOut){
  return storeGrantRead(p, STMT_GRANT_TAKE, zHash, zKind, pArena, pOut);
}

SSO_PRIVATE int ssoStoreGrantGet(SsoStore *p, const char *zHash,
                                 const char *zKind, SsoArena *pArena,
                                 SsoGrant *pOut){
  return storeGrantRead(p, STMT_GRANT_GET, zHash, zKind, pArena, pOut);
}

SSO_PRIVATE int ssoStoreGrantUpdate(SsoStore *p, const char *zHash,
                                    const char *zKind, const char *zData){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeGrantStmt(p, STMT_GRANT_UPDATE, zHash, zKind, &s, &rcBind);
  if( rc ) return rc;
  storeBindText(s, 3, zData ? zData : "{}", &rcBind);
  return storeRun(p, s, rcBind, tabGrant.zWhat);
}

SSO_PRIVATE int ssoStoreGrantDelete(SsoStore *p, const char *zHash,
                                    const char *zKind){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeGrantStmt(p, STMT_GRANT_DELETE, zHash, zKind, &s, &rcBind);
  return rc ? rc : storeRun(p, s, rcBind, 0);
}

SSO_PRIVATE int ssoStoreGrantPurge(SsoStore *p, long long tBefore, int *pn){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_GRANT_PURGE, &s);
  if( rc ) return rc;
  storeBindInt(s, 1, tBefore, &rcBind);
  return storeRunCount(p, s, rcBind, pn);
}

/* ---- Audit log ---- */

SSO_PRIVATE int ssoStoreAuditAppend(SsoStore *p, const SsoAudit *pEntry,
                                    long long *piId){
  SsoAudit e = *pEntry;
  int rc;
  e.iId = 0;                      /* Bound as NULL: SQLite picks the id */
  if( e.tAt==0 ) e.tAt = ssoOsNowMs();
  rc = storeRunRow(p, STMT_AUDIT_INSERT, &tabAudit, &e, 0);
  if( piId ) *piId = rc ? 0 : sqlite3_last_insert_rowid(p->db);
  return rc;
}

SSO_PRIVATE int ssoStoreAuditList(SsoStore *p, const char *zObjectType,
                                  const char *zObjectId, int iOffset,
                                  int nLimit, SsoArena *pArena,
                                  SsoAudit **paAudit, int *pnAudit){
  void *aRow;
  int rc = storeList(p, zObjectType ? STMT_AUDIT_LIST_OBJECT
                                    : STMT_AUDIT_LIST_ALL,
                     zObjectType, zObjectId, iOffset, nLimit, &tabAudit,
                     pArena, &aRow, pnAudit);
  *paAudit = aRow;
  return rc;
}

SSO_PRIVATE int ssoStoreAuditCount(SsoStore *p, const char *zObjectType,
                                   const char *zObjectId, int *pnAudit){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_AUDIT_COUNT, zObjectType, &s, &rcBind);
  *pnAudit = 0;
  if( rc ) return rc;
  storeBindText(s, 2, zObjectId, &rcBind);
  rc = storeStep(p, s, rcBind, tabCount.zWhat);
  if( rc==SSOPROXY_OK ) rc = storeReadRow(p, s, 0, &tabCount, 0, pnAudit);
  storeDone(s);
  return rc;
}
