/*
** Tests for the store module, on real SQLite files in a fresh directory
** under /tmp: opening and migrating, every row function, the refusal of
** files that are not ours (checked byte for byte), allocation and I/O
** fault injection through open + migrate + writes (each failure checked
** for a clean error, no leak, an intact database and all-or-nothing data),
** and two stores on one file, from one thread and from two.
**
** The tests read the database behind the store's back with plain SQL to
** check what the store claims; that is the only SQL outside src/store.c.
*/
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

/* ---- Files and directories ---- */

static char stoDir[64];      /* The current case's scratch directory */

static void stoDirMake(void){
  strcpy(stoDir, "/tmp/ssoproxy-store-XXXXXX");
  if( mkdtemp(stoDir)==0 ){
    fprintf(stderr, "cannot make a temporary directory\n");
    exit(1);
  }
}

static void stoDirRemove(void){
  DIR *d = opendir(stoDir);
  struct dirent *e;
  char z[512];
  if( d==0 ) return;
  while( (e = readdir(d))!=0 ){
    if( strcmp(e->d_name, ".")==0 || strcmp(e->d_name, "..")==0 ) continue;
    snprintf(z, sizeof(z), "%s/%s", stoDir, e->d_name);
    chmod(z, 0600);
    unlink(z);
  }
  closedir(d);
  rmdir(stoDir);
}

/* zOut = stoDir/zName */
static void stoPath(const char *zName, char *zOut, size_t nOut){
  snprintf(zOut, nOut, "%s/%s", stoDir, zName);
}

/* Remove a database and its -wal and -shm companions. */
static void stoUnlinkDb(const char *zPath){
  char z[600];
  unlink(zPath);
  snprintf(z, sizeof(z), "%s-wal", zPath);
  unlink(z);
  snprintf(z, sizeof(z), "%s-shm", zPath);
  unlink(z);
}

static void stoWriteFile(const char *zPath, const void *p, size_t n){
  FILE *f = fopen(zPath, "wb");
  CHECK( f!=0 );
  if( f==0 ) return;
  CHECK( fwrite(p, 1, n, f)==n );
  fclose(f);
}

/* The whole file, or NULL when it does not exist; caller ssoFree()s. */
static char *stoReadFile(const char *zPath, size_t *pn){
  char *z = 0;
  *pn = 0;
  if( ssoOsReadFile(zPath, 1u<<24, &z, pn) ) return 0;
  return z;
}

static int stoFileExists(const char *zPath){
  struct stat st;
  return stat(zPath, &st)==0;
}

/* ---- Plain SQL on the side ---- */

static long long stoSqlInt(sqlite3 *db, const char *zSql){
  sqlite3_stmt *s = 0;
  long long v = -999;
  if( sqlite3_prepare_v2(db, zSql, -1, &s, 0)==SQLITE_OK
   && sqlite3_step(s)==SQLITE_ROW ){
    v = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return v;
}

static void stoSqlText(sqlite3 *db, const char *zSql, char *zOut, size_t n){
  sqlite3_stmt *s = 0;
  zOut[0] = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &s, 0)==SQLITE_OK
   && sqlite3_step(s)==SQLITE_ROW && sqlite3_column_text(s, 0) ){
    snprintf(zOut, n, "%s", (const char*)sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
}

/* A side connection that is not an SsoStore. */
static sqlite3 *stoRawOpen(const char *zPath){
  sqlite3 *db = 0;
  if( sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE,
                      0)!=SQLITE_OK ){
    CHECK( 0 );
    sqlite3_close_v2(db);
    return 0;
  }
  return db;
}

static int stoRawExec(const char *zPath, const char *zSql){
  sqlite3 *db = stoRawOpen(zPath);
  int rc = db ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_ERROR;
  sqlite3_close_v2(db);
  return rc;
}

/* ---- Test rows ---- */

/* The hash of the test key "sk-test-<i>", as the authz layer will make. */
static void stoHash(int i, char zHash[65]){
  char z[32];
  unsigned char a[SSO_SHA256_LEN];
  snprintf(z, sizeof(z), "sk-test-%d", i);
  ssoSha256(z, strlen(z), a);
  ssoHexEncode(a, sizeof(a), zHash);
}

static SsoUser stoUser(const char *zId, const char *zRole){
  SsoUser u;
  memset(&u, 0, sizeof(u));
  u.zId = zId;
  u.zRole = zRole;
  u.zSource = "sso";
  return u;
}

static SsoKey stoKey(const char *zHash, const char *zUserId){
  SsoKey k;
  memset(&k, 0, sizeof(k));
  k.zHash = zHash;
  k.zDisplay = "sk-...abcd";
  k.zUserId = zUserId;
  k.zIssuedVia = "api";
  return k;
}

static SsoStore *stoOpen(const char *zPath){
  SsoStore *p = 0;
  int rc = ssoStoreOpen(zPath, &p);
  CHECK_INT( rc, SSOPROXY_OK );
  if( rc ) fprintf(stderr, "  open: %s\n", ssoStoreErrmsg(p));
  return p;
}

/* ---- Opening ---- */

static void test_store_open_fresh(void){
  char zDb[128], zMode[32];
  SsoStore *p;
  int i;
  stoDirMake();
  stoPath("fresh.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p ){
    CHECK_INT( p->nMigrated, SSO_STORE_SCHEMA );
    CHECK_INT( stoSqlInt(p->db, "PRAGMA user_version"), SSO_STORE_SCHEMA );
    CHECK_INT( stoSqlInt(p->db, "PRAGMA application_id"), SSO_STORE_APP_ID );
    CHECK_INT( stoSqlInt(p->db, "PRAGMA foreign_keys"), 1 );
    CHECK_INT( stoSqlInt(p->db, "PRAGMA synchronous"), 1 );     /* NORMAL */
    CHECK_INT( stoSqlInt(p->db, "PRAGMA secure_delete"), 2 );   /* FAST */
    stoSqlText(p->db, "PRAGMA journal_mode", zMode, sizeof(zMode));
    CHECK_STR( zMode, "wal" );
    CHECK_INT( stoSqlInt(p->db, "SELECT count(*) FROM sqlite_schema WHERE "
               "name IN ('users','keys','audit_log')"), 3 );
    /* The transaction statements are ready; each of the others prepares
    ** (no typo hides in a rarely used one) and is then kept. */
    for(i=0; i<STMT_FIRST_ROW; i++) CHECK( p->apStmt[i]!=0 );
    for(i=STMT_FIRST_ROW; i<STMT_COUNT; i++){
      sqlite3_stmt *pStmt = 0, *pAgain = 0;
      CHECK( azStoreSql[i]!=0 );
      CHECK( p->apStmt[i]==0 );
      CHECK_INT( storeStmt(p, i, &pStmt), SSOPROXY_OK );
      CHECK_INT( storeStmt(p, i, &pAgain), SSOPROXY_OK );
      CHECK( pStmt!=0 && pStmt==pAgain );
    }
    CHECK_INT( ssoStorePing(p), SSOPROXY_OK );
    CHECK_STR( ssoStoreErrmsg(p), "not an error" );
  }
  ssoStoreClose(p);
  /* Reopening finds the work done and changes nothing. */
  p = stoOpen(zDb);
  if( p ){
    CHECK_INT( p->nMigrated, 0 );
    CHECK_INT( stoSqlInt(p->db, "PRAGMA user_version"), SSO_STORE_SCHEMA );
  }
  ssoStoreClose(p);
  /* An existing empty file is a new database, not a foreign one. */
  stoPath("empty.db", zDb, sizeof(zDb));
  stoWriteFile(zDb, "", 0);
  p = stoOpen(zDb);
  if( p ) CHECK_INT( p->nMigrated, SSO_STORE_SCHEMA );
  ssoStoreClose(p);
  ssoStoreClose(0);
  /* An in-memory database works too (no WAL there), for embedders. */
  p = stoOpen(":memory:");
  if( p ){
    SsoUser u = stoUser("m", "internal_user");
    stoSqlText(p->db, "PRAGMA journal_mode", zMode, sizeof(zMode));
    CHECK_STR( zMode, "memory" );
    CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  }
  ssoStoreClose(p);
  p = (SsoStore*)&p;
  CHECK_INT( ssoStoreOpen(0, &p), SSOPROXY_MISUSE );
  CHECK( p==0 );
  stoDirRemove();
}

static void test_store_cantopen(void){
  SsoStore *p = 0;
  char zDb[128], zWant[256];
  CHECK_INT( ssoStoreOpen("/nonexistent-ssoproxy-dir/x.db", &p),
             SSOPROXY_DB );
  CHECK( p!=0 );
  CHECK_STR( ssoStoreErrmsg(p), "cannot open database "
             "/nonexistent-ssoproxy-dir/x.db: No such file or directory" );
  ssoStoreClose(p);
  /* A read-only file; root ignores permissions, so only check as a user. */
  stoDirMake();
  stoPath("ro.db", zDb, sizeof(zDb));
  ssoStoreClose(stoOpen(zDb));
  if( geteuid()!=0 ){
    chmod(zDb, 0400);
    p = 0;
    CHECK_INT( ssoStoreOpen(zDb, &p), SSOPROXY_DB );
    snprintf(zWant, sizeof(zWant), "cannot open database %s: it is "
             "read-only (check the file's permissions)", zDb);
    CHECK_STR( ssoStoreErrmsg(p), zWant );
    ssoStoreClose(p);
  }
  stoDirRemove();
}

/*
** Open zDb expecting a refusal whose message contains zMsg, and check
** that the file's bytes did not change.
*/
static void stoExpectRefused(const char *zDb, const char *zMsg){
  size_t nBefore, nAfter;
  char *zBefore = stoReadFile(zDb, &nBefore);
  char *zAfter;
  SsoStore *p = 0;
  CHECK( zBefore!=0 );
  CHECK_INT( ssoStoreOpen(zDb, &p), SSOPROXY_DB );
  CHECK( p!=0 );
  if( strstr(ssoStoreErrmsg(p), zMsg)==0 ){
    tst.nCheckFail++;
    fprintf(stderr, "  FAIL %s: message \"%s\" lacks \"%s\"\n", tst.zCase,
            ssoStoreErrmsg(p), zMsg);
  }
  ssoStoreClose(p);
  zAfter = stoReadFile(zDb, &nAfter);
  CHECK( zAfter!=0 );
  CHECK_INT( nAfter, nBefore );
  if( zBefore && zAfter && nAfter==nBefore ){
    CHECK_MEM( zAfter, zBefore, nBefore );
  }
  ssoFree(zBefore);
  ssoFree(zAfter);
}

static void test_store_not_a_database(void){
  char zDb[128], zWant[256];
  unsigned char aRand[8192];
  char zText[5000];
  unsigned x = 12345;
  size_t i;
  stoDirMake();
  for(i=0; i<sizeof(aRand); i++){
    x = x*1103515245u + 12345u;
    aRand[i] = (unsigned char)(x>>16);
  }
  stoPath("random.db", zDb, sizeof(zDb));
  stoWriteFile(zDb, aRand, sizeof(aRand));
  snprintf(zWant, sizeof(zWant), "file %s is not an SQLite database", zDb);
  stoExpectRefused(zDb, zWant);
  /* Not even a journal or WAL appeared beside it. */
  stoPath("random.db-wal", zDb, sizeof(zDb));
  CHECK( !stoFileExists(zDb) );
  stoPath("random.db-shm", zDb, sizeof(zDb));
  CHECK( !stoFileExists(zDb) );
  stoPath("random.db-journal", zDb, sizeof(zDb));
  CHECK( !stoFileExists(zDb) );

  stoPath("short.txt", zDb, sizeof(zDb));
  stoWriteFile(zDb, "SSOPROXY_LISTEN=0.0.0.0:4000\n", 29);
  stoExpectRefused(zDb, "is not an SQLite database");

  for(i=0; i<sizeof(zText); i++) zText[i] = "lorem ipsum\n"[i%12];
  stoPath("long.txt", zDb, sizeof(zDb));
  stoWriteFile(zDb, zText, sizeof(zText));
  stoExpectRefused(zDb, "is not an SQLite database");
  stoDirRemove();
}

static void test_store_newer_schema(void){
  char zDb[128], zWant[300];
  stoDirMake();
  stoPath("newer.db", zDb, sizeof(zDb));
  ssoStoreClose(stoOpen(zDb));
  CHECK_INT( stoRawExec(zDb, "PRAGMA user_version=7"), SQLITE_OK );
  snprintf(zWant, sizeof(zWant), "database %s was written by a newer "
           "ssoproxy (schema 7, this build knows %d); upgrade ssoproxy or "
           "restore a backup", zDb, SSO_STORE_SCHEMA);
  stoExpectRefused(zDb, zWant);
  /* Refused again: the first refusal did not "fix" anything. */
  stoExpectRefused(zDb, zWant);
  CHECK_INT( stoRawExec(zDb, "PRAGMA user_version=-1"), SQLITE_OK );
  stoExpectRefused(zDb, "was written by a newer ssoproxy (schema -1");

  /* The newer version's last commits still in its WAL (it crashed, or
  ** is running): refused without the checkpoint a close would do, so
  ** neither the database nor the WAL changes. */
  stoPath("newer-wal.db", zDb, sizeof(zDb));
  ssoStoreClose(stoOpen(zDb));
  {
    sqlite3 *db = stoRawOpen(zDb);
    char zWal[160];
    size_t nWal, nWal2;
    char *zW, *zW2;
    CHECK_INT( sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0;"
               "PRAGMA user_version=8;"
               "CREATE TABLE future_things(id TEXT PRIMARY KEY);", 0, 0, 0),
               SQLITE_OK );
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int*)0);
    sqlite3_close_v2(db);
    snprintf(zWal, sizeof(zWal), "%s-wal", zDb);
    zW = stoReadFile(zWal, &nWal);
    CHECK( zW!=0 && nWal>0 );
    stoExpectRefused(zDb, "(schema 8, this build knows");
    zW2 = stoReadFile(zWal, &nWal2);
    CHECK( zW2!=0 && nWal2==nWal );
    if( zW && zW2 && nWal2==nWal ) CHECK_MEM( zW, zW2, nWal );
    ssoFree(zW);
    ssoFree(zW2);
  }
  stoDirRemove();
}

static void test_store_other_application(void){
  char zDb[128], zWant[300];
  stoDirMake();
  /* Another application's id. */
  stoPath("other.db", zDb, sizeof(zDb));
  CHECK_INT( stoRawExec(zDb, "PRAGMA application_id=305419896;"
             "CREATE TABLE t(a); INSERT INTO t VALUES(1);"), SQLITE_OK );
  snprintf(zWant, sizeof(zWant), "database %s belongs to another "
           "application (application_id 0x12345678)", zDb);
  stoExpectRefused(zDb, zWant);
  /* Tables but no id at all, even tables named like ours. */
  stoPath("noid.db", zDb, sizeof(zDb));
  CHECK_INT( stoRawExec(zDb, "CREATE TABLE users(id);"), SQLITE_OK );
  stoExpectRefused(zDb, "belongs to another application (it has tables "
                  "but no ssoproxy application_id)");
  /* No tables, no id, but a user_version: someone's database. */
  stoPath("version.db", zDb, sizeof(zDb));
  CHECK_INT( stoRawExec(zDb, "PRAGMA user_version=3"), SQLITE_OK );
  stoExpectRefused(zDb, "belongs to another application");
  stoDirRemove();
}

/* ---- Users ---- */

static void test_store_users(void){
  char zDb[128], zId[16];
  SsoStore *p;
  SsoArena a;
  SsoUser u, g, *aUser;
  int i, n;
  stoDirMake();
  stoPath("users.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);

  u = stoUser("alice", "proxy_admin");
  u.zEmail = "Alice@Example.com";
  u.zName = "Alice A.";
  u.tCreated = 1000;
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(p, "alice", &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zId, "alice" );
  CHECK_STR( g.zEmail, "Alice@Example.com" );
  CHECK_STR( g.zName, "Alice A." );
  CHECK_STR( g.zRole, "proxy_admin" );
  CHECK_STR( g.zSource, "sso" );
  CHECK_INT( g.tCreated, 1000 );
  CHECK_INT( g.tUpdated, 1000 );
  CHECK_INT( g.tLastLogin, 0 );
  CHECK_INT( g.bDisabled, 0 );
  CHECK_STR( g.zMetadata, "{}" );

  /* E-mail lookup ignores ASCII case; the oldest of two wins. */
  CHECK_INT( ssoStoreUserGetByEmail(p, "alice@EXAMPLE.com", &a, &g),
             SSOPROXY_OK );
  CHECK_STR( g.zId, "alice" );
  u = stoUser("alice2", "internal_user");
  u.zEmail = "alice@example.com";
  u.tCreated = 2000;
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGetByEmail(p, "ALICE@example.com", &a, &g),
             SSOPROXY_OK );
  CHECK_STR( g.zId, "alice" );
  CHECK_INT( ssoStoreUserGetByEmail(p, "bob@example.com", &a, &g),
             SSOPROXY_NOTFOUND );
  CHECK_STR( ssoStoreErrmsg(p), "no such user" );
  CHECK_INT( ssoStoreUserGet(p, "nobody", &a, &g), SSOPROXY_NOTFOUND );

  /* Rules the schema enforces. */
  u = stoUser("alice", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_CONSTRAINT );
  CHECK( strstr(ssoStoreErrmsg(p), "users.id")!=0 );
  u = stoUser("carol", "internal_user_view_only");   /* an alias, not a role */
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_CONSTRAINT );
  u = stoUser("carol", "internal_user");
  u.zSource = "ldap";
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_CONSTRAINT );
  u = stoUser(0, "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoStoreUserGet(p, "carol", &a, &g), SSOPROXY_NOTFOUND );

  /* Update overwrites the mutable fields, keeps metadata given NULL. */
  CHECK_INT( ssoStoreUserGet(p, "alice2", &a, &g), SSOPROXY_OK );
  g.zRole = "proxy_admin_viewer";
  g.bDisabled = 1;
  g.zName = "Second Alice";
  g.tUpdated = 5000;
  g.tLastLogin = 4000;
  g.zMetadata = "{\"team\":\"x\"}";
  CHECK_INT( ssoStoreUserUpdate(p, &g), SSOPROXY_OK );
  g.zMetadata = 0;
  g.tUpdated = 0;
  CHECK_INT( ssoStoreUserUpdate(p, &g), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(p, "alice2", &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zRole, "proxy_admin_viewer" );
  CHECK_INT( g.bDisabled, 1 );
  CHECK_STR( g.zName, "Second Alice" );
  CHECK_STR( g.zMetadata, "{\"team\":\"x\"}" );
  CHECK_STR( g.zSource, "sso" );
  CHECK_INT( g.tCreated, 2000 );
  CHECK_INT( g.tLastLogin, 4000 );
  CHECK( g.tUpdated>5000 );            /* 0 meant "now" */
  g.zRole = "root";
  CHECK_INT( ssoStoreUserUpdate(p, &g), SSOPROXY_CONSTRAINT );
  g = stoUser("ghost", "internal_user");
  CHECK_INT( ssoStoreUserUpdate(p, &g), SSOPROXY_NOTFOUND );

  /* 25 more users: pages in id order, a role filter, counts. */
  for(i=0; i<25; i++){
    snprintf(zId, sizeof(zId), "u%02d", i);
    u = stoUser(zId, i%5==0 ? "internal_user_viewer" : "internal_user");
    u.zSource = "local";
    CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  }
  CHECK_INT( ssoStoreUserCount(p, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 27 );
  CHECK_INT( ssoStoreUserCount(p, "internal_user_viewer", &n), SSOPROXY_OK );
  CHECK_INT( n, 5 );
  CHECK_INT( ssoStoreUserList(p, 0, 0, 10, &a, &aUser, &n), SSOPROXY_OK );
  CHECK_INT( n, 10 );
  if( n==10 ){
    CHECK_STR( aUser[0].zId, "alice" );
    CHECK_STR( aUser[1].zId, "alice2" );
    CHECK_STR( aUser[2].zId, "u00" );
    CHECK_STR( aUser[9].zId, "u07" );
    CHECK_STR( aUser[2].zSource, "local" );
  }
  CHECK_INT( ssoStoreUserList(p, 0, 20, 10, &a, &aUser, &n), SSOPROXY_OK );
  CHECK_INT( n, 7 );
  if( n==7 ) CHECK_STR( aUser[6].zId, "u24" );
  CHECK_INT( ssoStoreUserList(p, 0, 27, 10, &a, &aUser, &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );
  CHECK( aUser==0 );
  /* A limit of 0 (or too big) is the ceiling: everything fits. */
  CHECK_INT( ssoStoreUserList(p, 0, -5, 0, &a, &aUser, &n), SSOPROXY_OK );
  CHECK_INT( n, 27 );
  CHECK_INT( ssoStoreUserList(p, "internal_user_viewer", 1, 3, &a, &aUser,
                              &n), SSOPROXY_OK );
  CHECK_INT( n, 3 );
  if( n==3 ){
    CHECK_STR( aUser[0].zId, "u05" );
    CHECK_STR( aUser[2].zId, "u15" );
    CHECK_STR( aUser[1].zRole, "internal_user_viewer" );
  }

  CHECK_INT( ssoStoreUserDelete(p, "u00"), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserDelete(p, "u00"), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreUserGet(p, "u00", &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreUserCount(p, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 26 );

  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static void test_store_upsert_sso(void){
  char zDb[128];
  SsoStore *p;
  SsoArena a;
  SsoUser in, out;
  int bNew = -1;
  stoDirMake();
  stoPath("sso.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);

  /* First sign-in creates the user with the decided role. */
  in = stoUser("sub-1", "internal_user");
  in.zSource = 0;                       /* always "sso" */
  in.zEmail = "one@example.com";
  in.zName = "One";
  in.tLastLogin = 100;
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 0, &a, &out, &bNew), SSOPROXY_OK );
  CHECK_INT( bNew, 1 );
  CHECK_STR( out.zRole, "internal_user" );
  CHECK_STR( out.zSource, "sso" );
  CHECK_INT( out.tCreated, 100 );
  CHECK_INT( out.tLastLogin, 100 );

  /* Second sign-in, nothing changed: only the login time moves. */
  in.tLastLogin = 200;
  in.zRole = "proxy_admin";
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 0, &a, &out, &bNew), SSOPROXY_OK );
  CHECK_INT( bNew, 0 );
  CHECK_STR( out.zRole, "internal_user" );   /* bSetRole=0 keeps it */
  CHECK_INT( out.tCreated, 100 );
  CHECK_INT( out.tUpdated, 100 );
  CHECK_INT( out.tLastLogin, 200 );

  /* New e-mail and a role from the IdP's groups. */
  in.tLastLogin = 300;
  in.zEmail = "one@new.example";
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 1, &a, &out, 0), SSOPROXY_OK );
  CHECK_STR( out.zRole, "proxy_admin" );
  CHECK_STR( out.zEmail, "one@new.example" );
  CHECK_INT( out.tUpdated, 300 );
  CHECK_INT( out.tLastLogin, 300 );

  /* A disabled user stays disabled; the caller sees it. */
  out.bDisabled = 1;
  out.tUpdated = 350;
  CHECK_INT( ssoStoreUserUpdate(p, &out), SSOPROXY_OK );
  in.tLastLogin = 400;
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 1, &a, &out, &bNew), SSOPROXY_OK );
  CHECK_INT( out.bDisabled, 1 );

  /* An invalid role is refused and nothing is left behind. */
  in = stoUser("sub-2", "superuser");
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 1, &a, &out, &bNew),
             SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoStoreUserGet(p, "sub-2", &a, &out), SSOPROXY_NOTFOUND );

  /* A local account is never taken over by an IdP with the same id. */
  in = stoUser("admin", "internal_user");
  in.zSource = "local";
  in.zEmail = "root@local";
  CHECK_INT( ssoStoreUserInsert(p, &in), SSOPROXY_OK );
  in.zSource = "sso";
  in.zEmail = "attacker@example.com";
  in.zRole = "proxy_admin";
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 1, &a, &out, &bNew),
             SSOPROXY_CONSTRAINT );
  CHECK_STR( ssoStoreErrmsg(p), "user admin exists and is not an SSO user" );
  CHECK_INT( ssoStoreUserGet(p, "admin", &a, &out), SSOPROXY_OK );
  CHECK_STR( out.zEmail, "root@local" );
  CHECK_STR( out.zRole, "internal_user" );
  CHECK_INT( out.tLastLogin, 0 );

  /* Inside the caller's transaction it joins, and rolls back with it. */
  CHECK_INT( ssoStoreBegin(p), SSOPROXY_OK );
  in = stoUser("sub-3", "internal_user");
  CHECK_INT( ssoStoreUserUpsertSso(p, &in, 0, &a, &out, &bNew), SSOPROXY_OK );
  CHECK_INT( bNew, 1 );
  CHECK_INT( ssoStoreRollback(p), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(p, "sub-3", &a, &out), SSOPROXY_NOTFOUND );

  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

/* ---- Keys ---- */

static void test_store_keys(void){
  char zDb[128], azHash[30][65], zBad[65];
  SsoStore *p;
  SsoArena a;
  SsoUser u, o;
  SsoKey k, g, *aKey;
  int i, n;
  stoDirMake();
  stoPath("keys.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  for(i=0; i<30; i++) stoHash(i, azHash[i]);
  u = stoUser("alice", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  u = stoUser("bob", "proxy_admin");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );

  /* Defaults: all models, no expiry, no limits, empty metadata. */
  k = stoKey(azHash[0], "alice");
  k.tCreated = 10;
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[0], &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zHash, azHash[0] );
  CHECK_STR( g.zDisplay, "sk-...abcd" );
  CHECK_STR( g.zUserId, "alice" );
  CHECK( g.zAlias==0 );
  CHECK_STR( g.zModels, "[]" );
  CHECK_INT( g.tExpires, 0 );
  CHECK_INT( g.tCreated, 10 );
  CHECK_INT( g.tLastUsed, 0 );
  CHECK_INT( g.bBlocked, 0 );
  CHECK_STR( g.zIssuedVia, "api" );
  CHECK_INT( g.nRpmLimit, 0 );
  CHECK_INT( g.nTpmLimit, 0 );
  CHECK_STR( g.zMetadata, "{}" );
  /* The SQL columns really are NULL, not 0. */
  CHECK_INT( stoSqlInt(p->db, "SELECT count(*) FROM keys WHERE expires_at "
             "IS NULL AND rpm_limit IS NULL AND last_used_at IS NULL"), 1 );

  /* Every field set. */
  k = stoKey(azHash[1], "bob");
  k.zAlias = "ci-bot";
  k.zModels = "[\"gpt-4o\",\"llama3\"]";
  k.tExpires = 999999;
  k.tCreated = 20;
  k.bBlocked = 1;
  k.zIssuedVia = "device";
  k.nRpmLimit = 60;
  k.nTpmLimit = 100000;
  k.zMetadata = "{\"note\":\"ci\"}";
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGetByAlias(p, "ci-bot", &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zHash, azHash[1] );
  CHECK_STR( g.zModels, "[\"gpt-4o\",\"llama3\"]" );
  CHECK_INT( g.tExpires, 999999 );
  CHECK_INT( g.bBlocked, 1 );
  CHECK_STR( g.zIssuedVia, "device" );
  CHECK_INT( g.nRpmLimit, 60 );
  CHECK_INT( g.nTpmLimit, 100000 );
  CHECK_STR( g.zMetadata, "{\"note\":\"ci\"}" );

  /* Rules: unique hash and alias, a real owner, a real hash, known
  ** issuer, positive limits. Several keys may have no alias. */
  k = stoKey(azHash[0], 0);
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  k = stoKey(azHash[2], "alice");
  k.zAlias = "ci-bot";
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  CHECK( strstr(ssoStoreErrmsg(p), "keys.alias")!=0 );
  k = stoKey(azHash[2], "mallory");
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  CHECK( strstr(ssoStoreErrmsg(p), "FOREIGN KEY")!=0 );
  memcpy(zBad, azHash[2], 65);
  zBad[5] = 'A';
  k = stoKey(zBad, 0);
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  zBad[5] = 'a';
  zBad[63] = 0;
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  k = stoKey(azHash[2], 0);
  k.zIssuedVia = "email";
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  k = stoKey(azHash[2], 0);
  k.nRpmLimit = -1;
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_CONSTRAINT );
  k = stoKey(azHash[2], 0);                  /* the master key's row */
  k.tCreated = 30;
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[3], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_STR( ssoStoreErrmsg(p), "no such key" );

  /* The per-request lookup with and without an owner. */
  CHECK_INT( ssoStoreKeyAuth(p, azHash[1], &a, &g, &o), SSOPROXY_OK );
  CHECK_STR( g.zAlias, "ci-bot" );
  CHECK_STR( o.zId, "bob" );
  CHECK_STR( o.zRole, "proxy_admin" );
  CHECK_INT( ssoStoreKeyAuth(p, azHash[2], &a, &g, &o), SSOPROXY_OK );
  CHECK( g.zUserId==0 );
  CHECK( o.zId==0 && o.zRole==0 );
  CHECK_INT( ssoStoreKeyAuth(p, azHash[3], &a, &g, &o), SSOPROXY_NOTFOUND );

  /* Update: every mutable field; NULL models/metadata keep theirs. */
  CHECK_INT( ssoStoreKeyGet(p, azHash[0], &a, &g), SSOPROXY_OK );
  g.zAlias = "laptop";
  g.zModels = "[\"a\"]";
  g.tExpires = 5555;
  g.bBlocked = 1;
  g.nRpmLimit = 5;
  g.nTpmLimit = 7;
  g.zMetadata = "{\"x\":1}";
  CHECK_INT( ssoStoreKeyUpdate(p, &g), SSOPROXY_OK );
  g.zModels = 0;
  g.zMetadata = 0;
  g.nTpmLimit = 0;
  CHECK_INT( ssoStoreKeyUpdate(p, &g), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[0], &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zAlias, "laptop" );
  CHECK_STR( g.zModels, "[\"a\"]" );
  CHECK_INT( g.tExpires, 5555 );
  CHECK_INT( g.bBlocked, 1 );
  CHECK_INT( g.nRpmLimit, 5 );
  CHECK_INT( g.nTpmLimit, 0 );
  CHECK_STR( g.zMetadata, "{\"x\":1}" );
  CHECK_INT( g.tCreated, 10 );
  g.zAlias = "ci-bot";
  CHECK_INT( ssoStoreKeyUpdate(p, &g), SSOPROXY_CONSTRAINT );
  g = stoKey(azHash[9], 0);
  CHECK_INT( ssoStoreKeyUpdate(p, &g), SSOPROXY_NOTFOUND );

  /* 20 more of alice's keys: lists and counts, oldest first. */
  for(i=10; i<30; i++){
    k = stoKey(azHash[i], "alice");
    k.tCreated = 100 + i;
    CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  }
  CHECK_INT( ssoStoreKeyCount(p, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 23 );
  CHECK_INT( ssoStoreKeyCount(p, "alice", &n), SSOPROXY_OK );
  CHECK_INT( n, 21 );
  CHECK_INT( ssoStoreKeyCount(p, "nobody", &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );
  CHECK_INT( ssoStoreKeyList(p, 0, 0, 4, &a, &aKey, &n), SSOPROXY_OK );
  CHECK_INT( n, 4 );
  if( n==4 ){
    CHECK_STR( aKey[0].zHash, azHash[0] );
    CHECK_STR( aKey[1].zHash, azHash[1] );
    CHECK_STR( aKey[2].zHash, azHash[2] );
    CHECK_STR( aKey[3].zHash, azHash[10] );
  }
  CHECK_INT( ssoStoreKeyList(p, "alice", 15, 10, &a, &aKey, &n),
             SSOPROXY_OK );
  CHECK_INT( n, 6 );
  if( n==6 ){
    CHECK_STR( aKey[0].zHash, azHash[24] );
    CHECK_STR( aKey[5].zHash, azHash[29] );
    CHECK_STR( aKey[5].zUserId, "alice" );
  }
  CHECK_INT( ssoStoreKeyList(p, "bob", 0, 10, &a, &aKey, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );

  /* Deletes. */
  CHECK_INT( ssoStoreKeyDeleteByAlias(p, "ci-bot"), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyDeleteByAlias(p, "ci-bot"), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreKeyGet(p, azHash[1], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreKeyDelete(p, azHash[10]), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyDelete(p, azHash[10]), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreKeyDeleteByUser(p, "alice", &n), SSOPROXY_OK );
  CHECK_INT( n, 20 );
  CHECK_INT( ssoStoreKeyDeleteByUser(p, "alice", &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );
  CHECK_INT( ssoStoreKeyCount(p, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );                        /* the ownerless one */

  /* Deleting a user deletes the user's keys, and only those. */
  for(i=10; i<13; i++){
    k = stoKey(azHash[i], i<12 ? "alice" : "bob");
    CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  }
  CHECK_INT( ssoStoreUserDelete(p, "alice"), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[10], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreKeyGet(p, azHash[11], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreKeyGet(p, azHash[12], &a, &g), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyCount(p, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 2 );
  /* secure_delete: the deleted key's hash is gone from the file's pages
  ** once checkpointed (no stale copy for someone who steals the file). */
  CHECK_INT( stoSqlInt(p->db, "PRAGMA wal_checkpoint(TRUNCATE)"), 0 );
  {
    size_t nFile;
    char *zFile = stoReadFile(zDb, &nFile);
    CHECK( zFile!=0 );
    if( zFile ){
      CHECK( memmem(zFile, nFile, azHash[10], 64)==0 );
      CHECK( memmem(zFile, nFile, azHash[12], 64)!=0 );
    }
    ssoFree(zFile);
  }
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static int stoCommits;
/* Last use only (no counts) of n keys, through the usage batch. */
static int stoTouch(SsoStore *p, const char **az, const long long *aAt, int n){
  SsoKeyUsage aUse[8];
  int i;
  memset(aUse, 0, sizeof(aUse));
  for(i=0; i<n && i<8; i++){
    aUse[i].zHash = az[i];
    aUse[i].tAt = aAt[i];
  }
  return ssoStoreKeysUsage(p, aUse, n);
}

static int stoOnCommit(void *pArg){
  SSO_UNUSED(pArg);
  stoCommits++;
  return 0;
}

static void test_store_touch(void){
  char zDb[128], azHash[4][65];
  const char *az[4];
  long long aAt[4];
  SsoStore *p;
  SsoArena a;
  SsoKey k;
  int i;
  stoDirMake();
  stoPath("touch.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  for(i=0; i<4; i++){
    stoHash(i, azHash[i]);
    az[i] = azHash[i];
    if( i<3 ){
      k = stoKey(azHash[i], 0);
      CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
    }
  }
  /* Key 3 does not exist (deleted since): skipped, not an error. */
  aAt[0] = 1000; aAt[1] = 2000; aAt[2] = 3000; aAt[3] = 4000;
  CHECK_INT( stoTouch(p, az, aAt, 4), SSOPROXY_OK );
  CHECK_INT( sqlite3_get_autocommit(p->db), 1 );
  for(i=0; i<3; i++){
    CHECK_INT( ssoStoreKeyGet(p, azHash[i], &a, &k), SSOPROXY_OK );
    CHECK_INT( k.tLastUsed, aAt[i] );
  }
  /* Never backwards. */
  aAt[0] = 500; aAt[1] = 2500;
  CHECK_INT( stoTouch(p, az, aAt, 2), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[0], &a, &k), SSOPROXY_OK );
  CHECK_INT( k.tLastUsed, 1000 );
  CHECK_INT( ssoStoreKeyGet(p, azHash[1], &a, &k), SSOPROXY_OK );
  CHECK_INT( k.tLastUsed, 2500 );
  CHECK_INT( stoTouch(p, az, aAt, 0), SSOPROXY_OK );
  /* One transaction for the batch: one commit, whatever n is. */
  stoCommits = 0;
  sqlite3_commit_hook(p->db, stoOnCommit, 0);
  aAt[0] = 9000; aAt[1] = 9000; aAt[2] = 9000;
  CHECK_INT( stoTouch(p, az, aAt, 3), SSOPROXY_OK );
  CHECK_INT( stoCommits, 1 );
  sqlite3_commit_hook(p->db, 0, 0);
  /* Inside the caller's transaction it joins and rolls back with it. */
  CHECK_INT( ssoStoreBegin(p), SSOPROXY_OK );
  aAt[2] = 99999;
  CHECK_INT( stoTouch(p, az+2, aAt+2, 1), SSOPROXY_OK );
  CHECK_INT( sqlite3_get_autocommit(p->db), 0 );
  CHECK_INT( ssoStoreRollback(p), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, azHash[2], &a, &k), SSOPROXY_OK );
  CHECK_INT( k.tLastUsed, 9000 );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

/* Usage adds up and moves last use forward, like a touch. */
static void test_store_usage(void){
  char zDb[128], zH[2][65];
  SsoStore *p;
  SsoArena a;
  SsoKey k;
  SsoUser u;
  SsoKeyUsage aU[3];
  stoDirMake();
  stoPath("usage.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  stoHash(0, zH[0]);
  stoHash(1, zH[1]);
  k = stoKey(zH[0], 0);
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  memset(aU, 0, sizeof(aU));
  aU[0].zHash = zH[0]; aU[0].tAt = 5000; aU[0].nRequests = 2;
  aU[0].nPromptTokens = 30; aU[0].nCompletionTokens = 7;
  aU[1].zHash = zH[1]; aU[1].tAt = 6000; aU[1].nRequests = 1; /* unknown */
  aU[2].zHash = zH[0]; aU[2].tAt = 4000; aU[2].nRequests = 1;
  aU[2].nPromptTokens = 1;
  CHECK_INT( ssoStoreKeysUsage(p, aU, 3), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, zH[0], &a, &k), SSOPROXY_OK );
  CHECK_INT( k.nRequests, 3 );
  CHECK_INT( k.nPromptTokens, 31 );
  CHECK_INT( k.nCompletionTokens, 7 );
  CHECK_INT( k.tLastUsed, 5000 );
  /* The per-request lookup reads them too; an update leaves them. */
  CHECK_INT( ssoStoreKeyAuth(p, zH[0], &a, &k, &u), SSOPROXY_OK );
  CHECK_INT( k.nPromptTokens, 31 );
  k.bBlocked = 1;
  CHECK_INT( ssoStoreKeyUpdate(p, &k), SSOPROXY_OK );
  CHECK_INT( ssoStoreKeyGet(p, zH[0], &a, &k), SSOPROXY_OK );
  CHECK_INT( k.nRequests, 3 );
  CHECK_INT( k.bBlocked, 1 );
  CHECK_INT( ssoStoreKeysUsage(p, aU, 0), SSOPROXY_OK );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static void test_store_sessions(void){
  char zDb[128], zH[3][65];
  SsoStore *p;
  SsoArena a;
  SsoUser u;
  SsoSessionRow r, g;
  int n = -1;
  stoDirMake();
  stoPath("sessions.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  u = stoUser("ann", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  u = stoUser("ben", "proxy_admin");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  stoHash(10, zH[0]);
  stoHash(11, zH[1]);
  stoHash(12, zH[2]);
  memset(&r, 0, sizeof(r));
  r.zHash = zH[0]; r.zUserId = "ann"; r.tCreated = 1000;
  r.tExpires = 100000; r.zIdToken = "eyJ.x.y";
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(p, zH[0], &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zUserId, "ann" );
  CHECK_INT( g.tSeen, 1000 );            /* seen at creation */
  CHECK_STR( g.zIdToken, "eyJ.x.y" );
  CHECK_STR( g.zData, "{}" );
  /* The same id twice, or a user who does not exist: constraint. */
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_CONSTRAINT );
  r.zHash = zH[1]; r.zUserId = "nobody";
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_CONSTRAINT );
  r.zUserId = "ben"; r.tCreated = 2000; r.tExpires = 50000;
  r.zIdToken = 0; r.zData = "{\"groups\":[\"a\"]}";
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  r.zHash = zH[2]; r.zUserId = "ann"; r.tCreated = 3000; r.tExpires = 90000;
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  /* Touch only moves forward. */
  CHECK_INT( ssoStoreSessionTouch(p, zH[0], 7000), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionTouch(p, zH[0], 6000), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(p, zH[0], &a, &g), SSOPROXY_OK );
  CHECK_INT( g.tSeen, 7000 );
  /* Purge: ben's is past its end at 60000; the idle rule (seen before
  ** 5000) takes ann's second one (seen at 3000), not the first. */
  CHECK_INT( ssoStoreSessionPurge(p, 60000, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  CHECK_INT( ssoStoreSessionGet(p, zH[1], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreSessionPurge(p, 60000, 5000, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  CHECK_INT( ssoStoreSessionGet(p, zH[2], &a, &g), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreSessionGet(p, zH[0], &a, &g), SSOPROXY_OK );
  /* Delete one; deleting a user deletes their sessions. */
  CHECK_INT( ssoStoreSessionDelete(p, zH[0]), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(p, zH[0], &a, &g), SSOPROXY_NOTFOUND );
  r.zHash = zH[0]; r.zUserId = "ann";
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  r.zHash = zH[1];
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionDeleteUser(p, "ann", &n), SSOPROXY_OK );
  CHECK_INT( n, 2 );
  CHECK_INT( ssoStoreSessionInsert(p, &r), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserDelete(p, "ann"), SSOPROXY_OK );
  CHECK_INT( ssoStoreSessionGet(p, zH[1], &a, &g), SSOPROXY_NOTFOUND );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static void test_store_grants(void){
  char zDb[128], zH[2][65];
  SsoStore *p, *p2;
  SsoArena a;
  SsoGrant gr, g;
  int n = -1;
  stoDirMake();
  stoPath("grants.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  p2 = stoOpen(zDb);
  if( p==0 || p2==0 ){
    ssoStoreClose(p);
    ssoStoreClose(p2);
    stoDirRemove();
    return;
  }
  ssoArenaInit(&a, 0);
  stoHash(20, zH[0]);
  stoHash(21, zH[1]);
  memset(&gr, 0, sizeof(gr));
  gr.zHash = zH[0]; gr.zKind = "login"; gr.zData = "{\"nonce\":\"n1\"}";
  gr.tExpires = 300000;
  CHECK_INT( ssoStoreGrantInsert(p, &gr), SSOPROXY_OK );
  CHECK_INT( ssoStoreGrantInsert(p, &gr), SSOPROXY_CONSTRAINT );
  gr.zHash = zH[1]; gr.zKind = "oauth_code"; gr.zData = 0; gr.tExpires = 1000;
  CHECK_INT( ssoStoreGrantInsert(p, &gr), SSOPROXY_OK );
  /* Get does not use it; the kind must match. */
  CHECK_INT( ssoStoreGrantGet(p, zH[0], "login", &a, &g), SSOPROXY_OK );
  CHECK_INT( g.nUse, 0 );
  CHECK_STR( g.zData, "{\"nonce\":\"n1\"}" );
  CHECK( g.tCreated>0 );
  CHECK_INT( ssoStoreGrantGet(p, zH[0], "oauth_code", &a, &g),
             SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreGrantTake(p, zH[0], "device", &a, &g),
             SSOPROXY_NOTFOUND );
  /* Take counts each use, whichever connection asks. */
  CHECK_INT( ssoStoreGrantTake(p, zH[0], "login", &a, &g), SSOPROXY_OK );
  CHECK_INT( g.nUse, 1 );
  CHECK_STR( g.zKind, "login" );
  CHECK_INT( ssoStoreGrantTake(p2, zH[0], "login", &a, &g), SSOPROXY_OK );
  CHECK_INT( g.nUse, 2 );
  CHECK_INT( ssoStoreGrantTake(p, zH[1], "oauth_code", &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zData, "{}" );
  CHECK_INT( g.nUse, 1 );
  /* Update the payload; an unknown grant is NOTFOUND. */
  CHECK_INT( ssoStoreGrantUpdate(p, zH[0], "login", "{\"ok\":1}"),
             SSOPROXY_OK );
  CHECK_INT( ssoStoreGrantGet(p2, zH[0], "login", &a, &g), SSOPROXY_OK );
  CHECK_STR( g.zData, "{\"ok\":1}" );
  CHECK_INT( ssoStoreGrantUpdate(p, zH[1], "login", "{}"),
             SSOPROXY_NOTFOUND );
  /* Purge what expired; delete by name. */
  CHECK_INT( ssoStoreGrantPurge(p, 2000, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  CHECK_INT( ssoStoreGrantGet(p, zH[1], "oauth_code", &a, &g),
             SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreGrantDelete(p, zH[0], "oauth_code"), SSOPROXY_OK );
  CHECK_INT( ssoStoreGrantGet(p, zH[0], "login", &a, &g), SSOPROXY_OK );
  CHECK_INT( ssoStoreGrantDelete(p, zH[0], "login"), SSOPROXY_OK );
  CHECK_INT( ssoStoreGrantGet(p, zH[0], "login", &a, &g),
             SSOPROXY_NOTFOUND );
  /* Not a hash: the CHECK refuses it. */
  gr.zHash = "short";
  CHECK_INT( ssoStoreGrantInsert(p, &gr), SSOPROXY_CONSTRAINT );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  ssoStoreClose(p2);
  stoDirRemove();
}

/* A database written by schema 1 moves to schema 2 keeping its rows. */
static void test_store_migrate_v1(void){
  char zDb[128], zH[65];
  SsoStore *p;
  SsoArena a;
  SsoKey k;
  stoDirMake();
  stoPath("v1.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  stoHash(30, zH);
  k = stoKey(zH, 0);
  CHECK_INT( ssoStoreKeyInsert(p, &k), SSOPROXY_OK );
  ssoStoreClose(p);
  /* Undo migration 2 by hand: what a schema-1 build left behind. */
  CHECK_INT( stoRawExec(zDb, "DROP TABLE sessions; DROP TABLE grants;"
             "ALTER TABLE keys DROP COLUMN requests;"
             "ALTER TABLE keys DROP COLUMN prompt_tokens;"
             "ALTER TABLE keys DROP COLUMN completion_tokens;"
             "PRAGMA user_version=1;"), SQLITE_OK );
  p = stoOpen(zDb);
  CHECK( p!=0 );
  if( p ){
    ssoArenaInit(&a, 0);
    CHECK_INT( ssoStoreKeyGet(p, zH, &a, &k), SSOPROXY_OK );
    CHECK_INT( k.nRequests, 0 );
    CHECK_INT( (int)stoSqlInt(p->db, "PRAGMA user_version"), SSO_STORE_SCHEMA );
    ssoArenaFree(&a);
  }
  ssoStoreClose(p);
  stoDirRemove();
}

/* ---- Audit log and transactions ---- */

static void test_store_audit(void){
  char zDb[128], zId[16];
  SsoStore *p;
  SsoArena a;
  SsoAudit e, *aE;
  long long iId, iPrev = 0;
  int i, n;
  stoDirMake();
  stoPath("audit.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  /* Same timestamp for all: order comes from the id, not the clock. */
  for(i=0; i<12; i++){
    memset(&e, 0, sizeof(e));
    snprintf(zId, sizeof(zId), "obj%d", i%3);
    e.tAt = 777;
    e.zActor = i==0 ? "master_key" : "alice";
    e.zAction = i%2 ? "update" : "create";
    e.zObjectType = i<9 ? "user" : "key";
    e.zObjectId = zId;
    e.zBefore = i%2 ? "{\"role\":\"internal_user\"}" : 0;
    e.zAfter = "{\"role\":\"proxy_admin\"}";
    CHECK_INT( ssoStoreAuditAppend(p, &e, &iId), SSOPROXY_OK );
    CHECK( iId>iPrev );
    iPrev = iId;
  }
  memset(&e, 0, sizeof(e));
  e.zActor = "x";
  CHECK_INT( ssoStoreAuditAppend(p, &e, 0), SSOPROXY_CONSTRAINT );

  CHECK_INT( ssoStoreAuditList(p, 0, 0, 0, 5, &a, &aE, &n), SSOPROXY_OK );
  CHECK_INT( n, 5 );
  if( n==5 ){
    CHECK_INT( aE[0].iId, iPrev );                 /* newest first */
    CHECK_INT( aE[4].iId, iPrev-4 );
    CHECK_STR( aE[0].zObjectType, "key" );
    CHECK_STR( aE[0].zAction, "update" );        /* i=11 */
    CHECK_STR( aE[0].zBefore, "{\"role\":\"internal_user\"}" );
    CHECK_STR( aE[0].zAfter, "{\"role\":\"proxy_admin\"}" );
    CHECK( aE[1].zBefore==0 );                     /* i=10 */
    CHECK_INT( aE[1].tAt, 777 );
  }
  CHECK_INT( ssoStoreAuditList(p, 0, 0, 10, 5, &a, &aE, &n), SSOPROXY_OK );
  CHECK_INT( n, 2 );
  if( n==2 ){
    CHECK_STR( aE[1].zActor, "master_key" );
    CHECK_INT( aE[1].iId, iPrev-11 );
  }
  /* By object: type and id, or every object of a type. */
  CHECK_INT( ssoStoreAuditList(p, "user", "obj1", 0, 0, &a, &aE, &n),
             SSOPROXY_OK );
  CHECK_INT( n, 3 );                               /* i = 1, 4, 7 */
  if( n==3 ){
    CHECK_INT( aE[0].iId, iPrev-11+7 );
    CHECK_INT( aE[2].iId, iPrev-11+1 );
  }
  CHECK_INT( ssoStoreAuditList(p, "key", 0, 0, 0, &a, &aE, &n),
             SSOPROXY_OK );
  CHECK_INT( n, 3 );
  CHECK_INT( ssoStoreAuditList(p, "session", 0, 0, 0, &a, &aE, &n),
             SSOPROXY_OK );
  CHECK_INT( n, 0 );
  /* A zero time means now. */
  memset(&e, 0, sizeof(e));
  e.zActor = "cli"; e.zAction = "delete";
  e.zObjectType = "key"; e.zObjectId = "k";
  CHECK_INT( ssoStoreAuditAppend(p, &e, &iId), SSOPROXY_OK );
  CHECK_INT( ssoStoreAuditList(p, "key", "k", 0, 1, &a, &aE, &n),
             SSOPROXY_OK );
  CHECK_INT( n, 1 );
  if( n==1 ) CHECK( aE[0].tAt > 1700000000000LL );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static void test_store_transactions(void){
  char zDb[128];
  SsoStore *p;
  SsoArena a;
  SsoUser u;
  SsoAudit e, *aE;
  int n;
  stoDirMake();
  stoPath("txn.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p==0 ){ stoDirRemove(); return; }
  ssoArenaInit(&a, 0);
  memset(&e, 0, sizeof(e));
  e.zActor = "master_key"; e.zAction = "create";
  e.zObjectType = "user"; e.zObjectId = "dave";

  /* A change and its audit row: both or neither. */
  CHECK_INT( ssoStoreBegin(p), SSOPROXY_OK );
  CHECK_INT( ssoStoreBegin(p), SSOPROXY_MISUSE );
  CHECK_STR( ssoStoreErrmsg(p), "a transaction is already open" );
  u = stoUser("dave", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreAuditAppend(p, &e, 0), SSOPROXY_OK );
  CHECK_INT( ssoStoreRollback(p), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(p, "dave", &a, &u), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoStoreAuditList(p, 0, 0, 0, 0, &a, &aE, &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );

  CHECK_INT( ssoStoreBegin(p), SSOPROXY_OK );
  u = stoUser("dave", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreAuditAppend(p, &e, 0), SSOPROXY_OK );
  CHECK_INT( ssoStoreCommit(p), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(p, "dave", &a, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreAuditList(p, 0, 0, 0, 0, &a, &aE, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );

  /* A failed step inside: the caller rolls back, the first error stays. */
  CHECK_INT( ssoStoreBegin(p), SSOPROXY_OK );
  u = stoUser("erin", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_OK );
  u = stoUser("dave", "internal_user");
  CHECK_INT( ssoStoreUserInsert(p, &u), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoStoreRollback(p), SSOPROXY_OK );
  CHECK( strstr(ssoStoreErrmsg(p), "UNIQUE")!=0 );
  CHECK_INT( ssoStoreUserGet(p, "erin", &a, &u), SSOPROXY_NOTFOUND );

  CHECK_INT( ssoStoreCommit(p), SSOPROXY_MISUSE );
  CHECK_INT( ssoStoreRollback(p), SSOPROXY_OK );
  ssoArenaFree(&a);
  ssoStoreClose(p);
  stoDirRemove();
}

static void test_store_ping(void){
  char zDb[128];
  SsoStore *p;
  stoDirMake();
  stoPath("ping.db", zDb, sizeof(zDb));
  p = stoOpen(zDb);
  if( p ){
    CHECK_INT( ssoStorePing(p), SSOPROXY_OK );
    /* A newer ssoproxy migrated the file under us: not ready. */
    CHECK_INT( stoRawExec(zDb, "PRAGMA user_version=99"), SQLITE_OK );
    CHECK_INT( ssoStorePing(p), SSOPROXY_DB );
    CHECK( strstr(ssoStoreErrmsg(p), "changed under us (schema 99")!=0 );
  }
  ssoStoreClose(p);
  stoDirRemove();
}

/* ---- Fault injection: the workload and what must hold after it ---- */

/*
** The workload every fault test drives: open (creating and migrating, or
** reopening), then a user, a key and the audit row for them in one
** transaction, then the per-request lookup. Each run uses new ids, so
** after a failure the check can ask whether exactly this run's rows are
** all there or all absent.
*/
typedef struct StoFault StoFault;
struct StoFault {
  char zDb[128];
  int bFresh;           /* Start every run from no file at all */
  int iRun;             /* Run number: names this run's rows */
  char zErr[STORE_ERRMSG];  /* Error text of the last failed run */
};

static int stoWorkload(void *pArg){
  StoFault *f = pArg;
  SsoStore *p = 0;
  SsoArena a;
  SsoUser u, o;
  SsoKey k, g;
  SsoAudit e;
  char zId[32], zHash[65];
  int rc, bTxn = 0;
  f->iRun++;
  if( f->bFresh ) stoUnlinkDb(f->zDb);
  snprintf(zId, sizeof(zId), "user-%d", f->iRun);
  stoHash(f->iRun, zHash);
  ssoArenaInit(&a, 0);
  rc = ssoStoreOpen(f->zDb, &p);
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreBegin(p);
    bTxn = rc==SSOPROXY_OK;
  }
  if( rc==SSOPROXY_OK ){
    u = stoUser(zId, "internal_user");
    u.zEmail = "fault@example.com";
    rc = ssoStoreUserInsert(p, &u);
  }
  if( rc==SSOPROXY_OK ){
    k = stoKey(zHash, zId);
    k.zAlias = zId;
    rc = ssoStoreKeyInsert(p, &k);
  }
  if( rc==SSOPROXY_OK ){
    memset(&e, 0, sizeof(e));
    e.zActor = "master_key"; e.zAction = "create";
    e.zObjectType = "key"; e.zObjectId = zId;
    e.zAfter = "{\"alias\":\"x\"}";
    rc = ssoStoreAuditAppend(p, &e, 0);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreCommit(p);
  }else if( bTxn ){
    ssoStoreRollback(p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreKeyAuth(p, zHash, &a, &g, &o);
    if( rc==SSOPROXY_OK && (o.zId==0 || strcmp(o.zId, zId)!=0) ){
      rc = SSOPROXY_ERROR;
    }
  }
  if( rc ) snprintf(f->zErr, sizeof(f->zErr), "%s", ssoStoreErrmsg(p));
  ssoArenaFree(&a);
  ssoStoreClose(p);
  return rc;
}

/*
** After a run of stoWorkload (faults off again): the file, if any, passes
** integrity_check, is at schema 0 and empty or fully migrated, opens
** cleanly, and holds all three of the run's rows or none of them (all,
** when the run reported success).
*/
static int stoIntact(StoFault *f, int bCommitted){
  sqlite3 *db = 0;
  SsoStore *p = 0;
  SsoArena a;
  SsoUser u;
  SsoKey k;
  SsoAudit *aE;
  char zRes[256], zId[32], zHash[65];
  int ok = 1, nHave = 0, n = 0;
  /* Schema objects after each migration: every migration is all or
  ** nothing, so a failure leaves the file at one of these versions. */
  static const long long anObj[SSO_STORE_SCHEMA+1] = { 0, 8, 13 };
  long long iVersion, nObj;
  if( !stoFileExists(f->zDb) ) return !bCommitted;
  if( sqlite3_open_v2(f->zDb, &db, SQLITE_OPEN_READWRITE, 0)!=SQLITE_OK ){
    fprintf(stderr, "  run %d: cannot reopen: %s\n", f->iRun,
            sqlite3_errmsg(db));
    ok = 0;
  }else{
    stoSqlText(db, "PRAGMA integrity_check", zRes, sizeof(zRes));
    iVersion = stoSqlInt(db, "PRAGMA user_version");
    nObj = stoSqlInt(db, "SELECT count(*) FROM sqlite_schema");
    if( strcmp(zRes, "ok")!=0 ){
      fprintf(stderr, "  run %d: integrity_check: %s\n", f->iRun, zRes);
      ok = 0;
    }
    if( iVersion<0 || iVersion>SSO_STORE_SCHEMA || nObj!=anObj[iVersion] ){
      fprintf(stderr, "  run %d: half migrated: version %lld, %lld objects\n",
              f->iRun, iVersion, nObj);
      ok = 0;
    }
  }
  sqlite3_close_v2(db);
  if( !ok ) return 0;
  if( ssoStoreOpen(f->zDb, &p) ){
    fprintf(stderr, "  run %d: store does not reopen: %s\n", f->iRun,
            ssoStoreErrmsg(p));
    ssoStoreClose(p);
    return 0;
  }
  snprintf(zId, sizeof(zId), "user-%d", f->iRun);
  stoHash(f->iRun, zHash);
  ssoArenaInit(&a, 0);
  nHave += ssoStoreUserGet(p, zId, &a, &u)==SSOPROXY_OK;
  nHave += ssoStoreKeyGet(p, zHash, &a, &k)==SSOPROXY_OK;
  ssoStoreAuditList(p, "key", zId, 0, 0, &a, &aE, &n);
  nHave += n;
  ssoArenaFree(&a);
  ssoStoreClose(p);
  if( nHave!=0 && nHave!=3 ){
    fprintf(stderr, "  run %d: half a transaction: %d of 3 rows\n",
            f->iRun, nHave);
    return 0;
  }
  if( bCommitted && nHave!=3 ){
    fprintf(stderr, "  run %d: reported success, rows missing\n", f->iRun);
    return 0;
  }
  return 1;
}

/* A faulted run may fail only as out of memory or a database error. */
static int stoFaultCheck(void *pArg, int rc, int bFaulted){
  StoFault *f = pArg;
  if( rc!=SSOPROXY_OK
   && (!bFaulted || (rc!=SSOPROXY_NOMEM && rc!=SSOPROXY_DB)) ){
    fprintf(stderr, "  run %d: rc=%d (%s)%s\n", f->iRun, rc, f->zErr,
            bFaulted ? "" : " without a fault");
    return 0;
  }
  return stoIntact(f, rc==SSOPROXY_OK);
}

static void stoFaultInit(StoFault *f, const char *zName, int bFresh){
  memset(f, 0, sizeof(*f));
  stoPath(zName, f->zDb, sizeof(f->zDb));
  f->bFresh = bFresh;
  if( !bFresh ) ssoStoreClose(stoOpen(f->zDb));
}

/* ---- Fault injection: a VFS that fails the Nth I/O call ---- */

/*
** A shim over the default VFS ("unix") that delegates every method and
** can fail the Nth I/O call from now: once (transient) or from then on
** (persistent), with an I/O error or, where writing is involved, disk
** full. Close, unlock and shared-memory unmap never fail: they release
** resources, and the real ones cannot fail in a way SQLite must handle.
*/
typedef struct StoIoFile StoIoFile;
struct StoIoFile {
  sqlite3_file base;        /* Our methods */
  sqlite3_file *pReal;      /* The real file, in the bytes after this */
};

static struct {
  sqlite3_vfs *pReal;       /* The VFS being wrapped */
  FaultCounter fault;       /* Which I/O call fails */
  int bFull;                /* Writes fail with SQLITE_FULL */
  int bNoSync;              /* Skip the real fsync() (see stoVfsInstall) */
} stoIo;

static int stoIoFault(void){ return faultCounterStep(&stoIo.fault); }
static void stoIoArm(int iNth, int bPersist, int bFull){
  faultCounterArm(&stoIo.fault, iNth, bPersist);
  stoIo.bFull = bFull;
}
static int stoIoDisarm(void){ return faultCounterDisarm(&stoIo.fault); }
#define STO_REAL(f) (((StoIoFile*)(f))->pReal)
#define STO_WRITE_ERR(e) (stoIo.bFull ? SQLITE_FULL : (e))

static int stoIoClose(sqlite3_file *f){
  return STO_REAL(f)->pMethods->xClose(STO_REAL(f));
}
static int stoIoRead(sqlite3_file *f, void *p, int n, sqlite3_int64 off){
  if( stoIoFault() ) return SQLITE_IOERR_READ;
  return STO_REAL(f)->pMethods->xRead(STO_REAL(f), p, n, off);
}
static int stoIoWrite(sqlite3_file *f, const void *p, int n,
                     sqlite3_int64 off){
  if( stoIoFault() ) return STO_WRITE_ERR(SQLITE_IOERR_WRITE);
  return STO_REAL(f)->pMethods->xWrite(STO_REAL(f), p, n, off);
}
static int stoIoTruncate(sqlite3_file *f, sqlite3_int64 n){
  if( stoIoFault() ) return STO_WRITE_ERR(SQLITE_IOERR_TRUNCATE);
  return STO_REAL(f)->pMethods->xTruncate(STO_REAL(f), n);
}
static int stoIoSync(sqlite3_file *f, int flags){
  if( stoIoFault() ) return STO_WRITE_ERR(SQLITE_IOERR_FSYNC);
  if( stoIo.bNoSync ) return SQLITE_OK;
  return STO_REAL(f)->pMethods->xSync(STO_REAL(f), flags);
}
static int stoIoFileSize(sqlite3_file *f, sqlite3_int64 *pn){
  if( stoIoFault() ) return SQLITE_IOERR_FSTAT;
  return STO_REAL(f)->pMethods->xFileSize(STO_REAL(f), pn);
}
static int stoIoLock(sqlite3_file *f, int e){
  if( stoIoFault() ) return SQLITE_IOERR_LOCK;
  return STO_REAL(f)->pMethods->xLock(STO_REAL(f), e);
}
static int stoIoUnlock(sqlite3_file *f, int e){
  return STO_REAL(f)->pMethods->xUnlock(STO_REAL(f), e);
}
static int stoIoCheckLock(sqlite3_file *f, int *pRes){
  if( stoIoFault() ) return SQLITE_IOERR_CHECKRESERVEDLOCK;
  return STO_REAL(f)->pMethods->xCheckReservedLock(STO_REAL(f), pRes);
}
static int stoIoFileControl(sqlite3_file *f, int op, void *pArg){
  return STO_REAL(f)->pMethods->xFileControl(STO_REAL(f), op, pArg);
}
static int stoIoSectorSize(sqlite3_file *f){
  return STO_REAL(f)->pMethods->xSectorSize(STO_REAL(f));
}
static int stoIoDevChar(sqlite3_file *f){
  return STO_REAL(f)->pMethods->xDeviceCharacteristics(STO_REAL(f));
}
static int stoIoShmMap(sqlite3_file *f, int i, int sz, int bExtend,
                      void volatile **pp){
  if( stoIoFault() ){ *pp = 0; return STO_WRITE_ERR(SQLITE_IOERR_SHMMAP); }
  return STO_REAL(f)->pMethods->xShmMap(STO_REAL(f), i, sz, bExtend, pp);
}
static int stoIoShmLock(sqlite3_file *f, int iOff, int n, int flags){
  if( (flags & SQLITE_SHM_LOCK) && stoIoFault() ) return SQLITE_IOERR_SHMLOCK;
  return STO_REAL(f)->pMethods->xShmLock(STO_REAL(f), iOff, n, flags);
}
static void stoIoShmBarrier(sqlite3_file *f){
  STO_REAL(f)->pMethods->xShmBarrier(STO_REAL(f));
}
static int stoIoShmUnmap(sqlite3_file *f, int bDelete){
  return STO_REAL(f)->pMethods->xShmUnmap(STO_REAL(f), bDelete);
}
static int stoIoFetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp){
  return STO_REAL(f)->pMethods->xFetch(STO_REAL(f), off, n, pp);
}
static int stoIoUnfetch(sqlite3_file *f, sqlite3_int64 off, void *p){
  return STO_REAL(f)->pMethods->xUnfetch(STO_REAL(f), off, p);
}

static const sqlite3_io_methods stoIoMethods = {
  3, stoIoClose, stoIoRead, stoIoWrite, stoIoTruncate, stoIoSync, stoIoFileSize,
  stoIoLock, stoIoUnlock, stoIoCheckLock, stoIoFileControl, stoIoSectorSize,
  stoIoDevChar, stoIoShmMap, stoIoShmLock, stoIoShmBarrier, stoIoShmUnmap,
  stoIoFetch, stoIoUnfetch
};

static int stoVfsOpen(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *f,
                     int flags, int *pOutFlags){
  StoIoFile *p = (StoIoFile*)f;
  int rc;
  SSO_UNUSED(pVfs);
  p->pReal = (sqlite3_file*)&p[1];
  f->pMethods = 0;
  if( stoIoFault() ) return SQLITE_CANTOPEN;
  rc = stoIo.pReal->xOpen(stoIo.pReal, zName, p->pReal, flags, pOutFlags);
  /* SQLite calls xClose exactly when pMethods is set. */
  if( p->pReal->pMethods ) f->pMethods = &stoIoMethods;
  return rc;
}
static int stoVfsDelete(sqlite3_vfs *pVfs, const char *zName, int bSync){
  SSO_UNUSED(pVfs);
  if( stoIoFault() ) return SQLITE_IOERR_DELETE;
  return stoIo.pReal->xDelete(stoIo.pReal, zName, bSync);
}
static int stoVfsAccess(sqlite3_vfs *pVfs, const char *zName, int flags,
                       int *pRes){
  SSO_UNUSED(pVfs);
  if( stoIoFault() ) return SQLITE_IOERR_ACCESS;
  return stoIo.pReal->xAccess(stoIo.pReal, zName, flags, pRes);
}
static int stoVfsFullPath(sqlite3_vfs *pVfs, const char *zName, int n,
                         char *zOut){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xFullPathname(stoIo.pReal, zName, n, zOut);
}
static void *stoVfsDlOpen(sqlite3_vfs *pVfs, const char *zPath){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xDlOpen(stoIo.pReal, zPath);
}
static void stoVfsDlError(sqlite3_vfs *pVfs, int n, char *zOut){
  SSO_UNUSED(pVfs);
  stoIo.pReal->xDlError(stoIo.pReal, n, zOut);
}
static void (*stoVfsDlSym(sqlite3_vfs *pVfs, void *p, const char *z))(void){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xDlSym(stoIo.pReal, p, z);
}
static void stoVfsDlClose(sqlite3_vfs *pVfs, void *p){
  SSO_UNUSED(pVfs);
  stoIo.pReal->xDlClose(stoIo.pReal, p);
}
static int stoVfsRandomness(sqlite3_vfs *pVfs, int n, char *zOut){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xRandomness(stoIo.pReal, n, zOut);
}
static int stoVfsSleep(sqlite3_vfs *pVfs, int nMicro){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xSleep(stoIo.pReal, nMicro);
}
static int stoVfsCurrentTime(sqlite3_vfs *pVfs, double *pT){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xCurrentTime(stoIo.pReal, pT);
}
static int stoVfsLastError(sqlite3_vfs *pVfs, int n, char *zOut){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xGetLastError(stoIo.pReal, n, zOut);
}
static int stoVfsCurrentTime64(sqlite3_vfs *pVfs, sqlite3_int64 *pT){
  SSO_UNUSED(pVfs);
  return stoIo.pReal->xCurrentTimeInt64(stoIo.pReal, pT);
}

static sqlite3_vfs stoVfs = {
  2, 0, 0, 0, "ssoproxy-fault", 0,
  stoVfsOpen, stoVfsDelete, stoVfsAccess, stoVfsFullPath, stoVfsDlOpen,
  stoVfsDlError, stoVfsDlSym, stoVfsDlClose, stoVfsRandomness, stoVfsSleep,
  stoVfsCurrentTime, stoVfsLastError, stoVfsCurrentTime64, 0, 0, 0
};

/*
** Put the shim in front of the default VFS, or take it away again. While
** it is in place the real fsync() is skipped (the call is still counted
** and can still fail): the fault loops open, migrate and check a
** database some ten thousand times, and at a few milliseconds per fsync
** they would take minutes. Durability is SQLite's business; what these
** tests check is what the store does when a call fails.
*/
static int stoVfsInstall(int bOn){
  stoIo.bNoSync = bOn;
  if( !bOn ) return sqlite3_vfs_unregister(&stoVfs);
  stoIo.pReal = sqlite3_vfs_find(0);
  if( stoIo.pReal==0 || stoIo.pReal->iVersion<2 ) return SQLITE_ERROR;
  stoVfs.szOsFile = (int)sizeof(StoIoFile) + stoIo.pReal->szOsFile;
  stoVfs.mxPathname = stoIo.pReal->mxPathname;
  return sqlite3_vfs_register(&stoVfs, 1);
}

static void test_store_oom_fresh(void){
  StoFault f;
  int n;
  stoDirMake();
  CHECK_INT( stoVfsInstall(1), SQLITE_OK );
  stoFaultInit(&f, "oom.db", 1);
  n = faultRun(stoWorkload, stoFaultCheck, &f);
  CHECK_INT( stoVfsInstall(0), SQLITE_OK );
  CHECK( n>1000 );
  if( tst.bVerbose ) fprintf(stderr, "  %d allocation fault points\n", n);
  stoDirRemove();
}

static void test_store_oom_existing(void){
  StoFault f;
  int n;
  stoDirMake();
  CHECK_INT( stoVfsInstall(1), SQLITE_OK );
  stoFaultInit(&f, "oom.db", 0);
  n = faultRun(stoWorkload, stoFaultCheck, &f);
  CHECK_INT( stoVfsInstall(0), SQLITE_OK );
  CHECK( n>500 );
  if( tst.bVerbose ) fprintf(stderr, "  %d allocation fault points\n", n);
  stoDirRemove();
}

/*
** Fail I/O call 1, 2, 3, ... of the workload until a run meets no
** failure, checking each run like faultRun() does. Returns the runs.
*/
static int stoIoRun(StoFault *f, int bPersist, int bFull){
  int iFail, nPoint = 0;
  for(iFail=1; iFail<100000; iFail++){
    long long nBefore = ssoMemUsed();
    int rc, nFailed;
    stoIoArm(iFail, bPersist, bFull);
    rc = stoWorkload(f);
    nFailed = stoIoDisarm();
    if( ssoMemUsed()!=nBefore ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL %s: leaked %lld bytes at I/O call %d\n",
              tst.zCase, ssoMemUsed()-nBefore, iFail);
      break;
    }
    if( !stoFaultCheck(f, rc, nFailed>0) ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL %s: bad outcome at I/O call %d%s%s\n",
              tst.zCase, iFail, bPersist ? " (persistent)" : "",
              bFull ? " (disk full)" : "");
      break;
    }
    nPoint++;
    if( nFailed==0 ) break;
  }
  return nPoint;
}

static void test_store_ioerr(void){
  StoFault f;
  int bFresh, bPersist, bFull, n, nTotal = 0;
  stoDirMake();
  CHECK_INT( stoVfsInstall(1), SQLITE_OK );
  for(bFresh=1; bFresh>=0; bFresh--){
    stoFaultInit(&f, bFresh ? "io-fresh.db" : "io-old.db", bFresh);
    for(bFull=0; bFull<2; bFull++){
      for(bPersist=0; bPersist<2; bPersist++){
        n = stoIoRun(&f, bPersist, bFull);
        CHECK( n>30 );
        nTotal += n;
      }
    }
  }
  CHECK_INT( stoVfsInstall(0), SQLITE_OK );
  if( tst.bVerbose ) fprintf(stderr, "  %d I/O fault points\n", nTotal);
  stoDirRemove();
}

/* ---- Several stores on one file ---- */

static void test_store_two_handles(void){
  char zDb[128];
  SsoStore *pA, *pB;
  SsoArena a;
  SsoUser u;
  int n;
  stoDirMake();
  stoPath("two.db", zDb, sizeof(zDb));
  pA = stoOpen(zDb);
  pB = stoOpen(zDb);
  if( pA==0 || pB==0 ){
    ssoStoreClose(pA);
    ssoStoreClose(pB);
    stoDirRemove();
    return;
  }
  ssoArenaInit(&a, 0);
  CHECK_INT( pB->nMigrated, 0 );
  /* What one writes, the other reads (its cached statements included). */
  CHECK_INT( ssoStoreUserCount(pB, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 0 );
  u = stoUser("frank", "internal_user");
  CHECK_INT( ssoStoreUserInsert(pA, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserGet(pB, "frank", &a, &u), SSOPROXY_OK );
  CHECK_STR( u.zId, "frank" );

  /* While A holds the write lock, B still reads the last commit (WAL)
  ** and a writer in B waits, then gives up with a clear error. */
  CHECK_INT( ssoStoreBegin(pA), SSOPROXY_OK );
  u = stoUser("grace", "internal_user");
  CHECK_INT( ssoStoreUserInsert(pA, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserCount(pB, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 1 );
  sqlite3_busy_timeout(pB->db, 20);
  u = stoUser("heidi", "internal_user");
  CHECK_INT( ssoStoreUserInsert(pB, &u), SSOPROXY_DB );
  CHECK( strstr(ssoStoreErrmsg(pB), "database is locked")!=0 );
  CHECK_INT( ssoStoreBegin(pB), SSOPROXY_DB );
  CHECK_INT( sqlite3_get_autocommit(pB->db), 1 );
  CHECK_INT( ssoStoreCommit(pA), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserInsert(pB, &u), SSOPROXY_OK );
  CHECK_INT( ssoStoreUserCount(pA, 0, &n), SSOPROXY_OK );
  CHECK_INT( n, 3 );
  ssoArenaFree(&a);
  ssoStoreClose(pA);
  ssoStoreClose(pB);
  stoDirRemove();
}

typedef struct StoOpener StoOpener;
struct StoOpener {
  const char *zDb;
  pthread_barrier_t *pBarrier;
  SsoStore *p;
  int rc;
};

static void *stoOpenThread(void *pArg){
  StoOpener *t = pArg;
  pthread_barrier_wait(t->pBarrier);
  t->rc = ssoStoreOpen(t->zDb, &t->p);
  return 0;
}

/* Two loops start at once on a new file: one migrates, both work. */
static void test_store_concurrent_open(void){
  char zDb[128];
  pthread_barrier_t bar;
  pthread_t aThread[2];
  StoOpener aT[2];
  int iRound, i;
  stoDirMake();
  for(iRound=0; iRound<30; iRound++){
    char zName[32];
    snprintf(zName, sizeof(zName), "race%d.db", iRound);
    stoPath(zName, zDb, sizeof(zDb));
    pthread_barrier_init(&bar, 0, 2);
    for(i=0; i<2; i++){
      memset(&aT[i], 0, sizeof(aT[i]));
      aT[i].zDb = zDb;
      aT[i].pBarrier = &bar;
      CHECK( pthread_create(&aThread[i], 0, stoOpenThread, &aT[i])==0 );
    }
    for(i=0; i<2; i++) pthread_join(aThread[i], 0);
    pthread_barrier_destroy(&bar);
    for(i=0; i<2; i++){
      CHECK_INT( aT[i].rc, SSOPROXY_OK );
      if( aT[i].rc ) fprintf(stderr, "  %s\n", ssoStoreErrmsg(aT[i].p));
    }
    if( aT[0].p && aT[1].p ){
      SsoUser u = stoUser("ivan", "internal_user");
      int n = 0;
      CHECK_INT( aT[0].p->nMigrated + aT[1].p->nMigrated, SSO_STORE_SCHEMA );
      CHECK_INT( ssoStoreUserInsert(aT[0].p, &u), SSOPROXY_OK );
      CHECK_INT( ssoStoreUserCount(aT[1].p, 0, &n), SSOPROXY_OK );
      CHECK_INT( n, 1 );
    }
    for(i=0; i<2; i++) ssoStoreClose(aT[i].p);
  }
  stoDirRemove();
}

static const TestCase aStoreTests[] = {
  TEST_CASE(test_store_open_fresh),
  TEST_CASE(test_store_cantopen),
  TEST_CASE(test_store_not_a_database),
  TEST_CASE(test_store_newer_schema),
  TEST_CASE(test_store_other_application),
  TEST_CASE(test_store_users),
  TEST_CASE(test_store_upsert_sso),
  TEST_CASE(test_store_keys),
  TEST_CASE(test_store_touch),
  TEST_CASE(test_store_usage),
  TEST_CASE(test_store_sessions),
  TEST_CASE(test_store_grants),
  TEST_CASE(test_store_migrate_v1),
  TEST_CASE(test_store_audit),
  TEST_CASE(test_store_transactions),
  TEST_CASE(test_store_ping),
  TEST_CASE(test_store_two_handles),
  TEST_CASE(test_store_concurrent_open),
  TEST_CASE(test_store_oom_fresh),
  TEST_CASE(test_store_oom_existing),
  TEST_CASE(test_store_ioerr),
};
