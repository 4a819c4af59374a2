/******************************************************************************
** This file is the ssoproxy amalgamation, version 0.1.0:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: 776e8121eb334006d60373ecaa7d173c291f6c386285df2af35ebd0a321724aa
**
** It is generated from src/ by tool/mkamalg.sh: do not edit it by hand.
** Compile it with ssoproxy.h beside it and link mbedTLS and SQLite:
**
**   cc -O2 -o ssoproxy ssoproxy.c -lsqlite3 -lmbedtls -lmbedx509 \
**      -lmbedcrypto -lpthread
**
** Define SSOPROXY_OMIT_MAIN to embed it in another program.
******************************************************************************/
#define SSO_AMALGAMATION 1
#ifndef SSO_PRIVATE
# define SSO_PRIVATE static
#endif
/* Internal functions a given build does not call are fine to leave. */
#if defined(__GNUC__)
# pragma GCC diagnostic ignored "-Wunused-function"
#endif
/************** Begin file mem.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 0: the allocator. Everything ssoproxy allocates, and everything
** SQLite allocates (via sqlite3_config(SQLITE_CONFIG_MALLOC)), goes
** through one table of three functions that a host or a test can replace
** before the first allocation. Tests install a table that fails the Nth
** call, and count live bytes to prove that every failure path frees what
** it took. Out of memory is an ordinary error here: nothing aborts.
**
** Each block is preceded by a small header holding its size, which SQLite
** needs (xSize) and which makes the live-byte count exact.
*/
/************** Include ssoInt.h in the middle of mem.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** The one internal master header. Every src/ C file includes this file first
** and nothing else from src/: it sets the feature macros, pulls in the
** system headers, the public API, the limits, the types shared by several
** modules, and then each module's interface header in layer order (base,
** codecs, transport, storage, features, app). A module may use only the
** modules above it in that list; DESIGN.md names the layers.
**
** SSO_PRIVATE marks every function or object shared between modules. In
** the split build it is empty (ordinary external linkage); the amalgamator
** rewrites it to "static" at the start of a line, so in ssoproxy.c nothing
** but the ssoproxy_* API is exported and a host program's symbols never
** clash with ours.
*/
#ifndef SSO_INT_H
#define SSO_INT_H

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1      /* accept4(), SO_REUSEPORT, epoll on Linux */
#endif

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssoproxy.h"

#ifndef SSO_PRIVATE
# define SSO_PRIVATE
#endif

#define SSO_UNUSED(x) ((void)(x))
#define SSO_ARRAYSIZE(a) (sizeof(a)/sizeof((a)[0]))

/*
** Internal code uses the public result codes directly (SSOPROXY_OK ...),
** so nothing needs translating at the API boundary.
*/

/*
** A view: a pointer and a length into someone else's buffer, not NUL-
** terminated, not owned. Parsers hand these out; copy what must outlive
** the buffer.
*/
typedef struct SsoStr SsoStr;
struct SsoStr {
  const char *z;        /* First byte; not NUL-terminated */
  size_t n;             /* Number of bytes */
};

/************** Include limit.h in the middle of ssoInt.h **************/
/*
** Every limit ssoproxy enforces, as a named default in one place.
**
** Each is the default of a setting (see src/config.c) or a hard ceiling
** that no setting may exceed. Values are chosen so that a legitimate
** client never meets them and a hostile one runs out of them before it
** can cost the server more than a few megabytes or a few seconds.
*/
#ifndef SSO_LIMIT_H
#define SSO_LIMIT_H

/* Memory */
#define SSO_MAX_ALLOC        ((size_t)1 << 30)  /* Largest single allocation */
#define SSO_MAX_BUF          (64u << 20)        /* Default ceiling of a builder */

/* JSON (src/json.c) */
#define SSO_JSON_MAX_DEPTH   64         /* Nesting of arrays and objects */
#define SSO_JSON_MAX_INPUT   (16u << 20)/* Bytes in one document */

/* URLs and forms (src/url.c) */
#define SSO_URL_MAX          8192       /* Bytes in one URL */
#define SSO_FORM_MAX_PARAMS  256        /* Fields in a query or form body */

/* base64 (src/b64.c) */
#define SSO_B64_MAX_INPUT    (16u << 20)

/* Configuration (src/config.c) */
#define SSO_CONFIG_MAX_FILE  (1u << 20) /* Bytes in a --config file */
#define SSO_CONFIG_MAX_VALUE 8192       /* Bytes in one setting's value */

/* Storage (src/store.c) */
#define SSO_DB_BUSY_TIMEOUT_MS 5000     /* Wait for a lock this long */
#define SSO_DB_MAX_PAGE      1000       /* Rows in one page of a list */

#endif /* SSO_LIMIT_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include mem.h in the middle of ssoInt.h **************/
/*
** Layer 0: memory. One replaceable allocator for all of ssoproxy and
** SQLite, and a bump arena for objects that die together.
*/
#ifndef SSO_MEM_H
#define SSO_MEM_H

/*
** ssoMalloc/ssoRealloc return NULL on failure (never abort) and on
** requests above SSO_MAX_ALLOC. ssoFree(NULL) is a no-op. Every block
** carries its size, so ssoMemSize() works and live bytes are counted.
*/
static void *ssoMalloc(size_t n);
static void *ssoMallocZero(size_t n);
static void *ssoRealloc(void *p, size_t n);
static void ssoFree(void *p);
static size_t ssoMemSize(const void *p);
static char *ssoStrndup(const char *z, size_t n);   /* caller frees */
static char *ssoStrdup(const char *z);              /* NULL in, NULL out */

/* Live bytes and live blocks right now; tests use these to find leaks. */
static long long ssoMemUsed(void);
static long long ssoMemBlocks(void);

/*
** Route SQLite's allocations through ssoMalloc. Safe to call many times;
** if the host already initialised SQLite with its own allocator, SQLite
** keeps it (a benign outcome, reported as SSOPROXY_OK).
*/
static int ssoMemInitSqlite(void);

/*
** An arena hands out 8-byte-aligned pieces of larger chunks and frees them
** all in one ssoArenaFree(). Used for one JSON document, one request.
** The first chunk is allocated lazily, so an unused arena costs nothing.
*/
typedef struct SsoArena SsoArena;
typedef struct SsoArenaChunk SsoArenaChunk;
struct SsoArena {
  SsoArenaChunk *pChunk;  /* Newest chunk; older ones follow pNext */
  size_t nChunk;          /* Size of the next chunk to allocate */
  size_t nMax;            /* Total bytes this arena may hold; 0 = no cap */
  size_t nTotal;          /* Bytes allocated from ssoMalloc so far */
};
static void ssoArenaInit(SsoArena*, size_t nMax);
static void *ssoArenaAlloc(SsoArena*, size_t n);
static char *ssoArenaStrndup(SsoArena*, const char *z, size_t n);
static void ssoArenaFree(SsoArena*);

#endif /* SSO_MEM_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include buf.h in the middle of ssoInt.h **************/
/*
** Layer 0: a growable byte string with a sticky error. Append freely;
** check ->rc (or the result of ssoBufFinish) once at the end.
*/
#ifndef SSO_BUF_H
#define SSO_BUF_H

typedef struct SsoBuf SsoBuf;
struct SsoBuf {
  char *z;              /* Content, NUL-terminated whenever nAlloc>0 */
  size_t n;             /* Bytes of content, not counting the NUL */
  size_t nAlloc;        /* Bytes allocated at z */
  size_t mxAlloc;       /* Never grow beyond this */
  int rc;               /* First error: SSOPROXY_NOMEM or _TOOBIG */
  int bStatic;          /* z is the caller's space, not from ssoMalloc */
};

static void ssoBufInit(SsoBuf*, size_t mxAlloc);   /* 0 = SSO_MAX_BUF */
/* Start in the caller's zSpace[nSpace]; move to the heap only if it fills. */
static void ssoBufInitStatic(SsoBuf*, char *zSpace, size_t nSpace,
                                  size_t mxAlloc);
static int ssoBufReserve(SsoBuf*, size_t nExtra);
static void ssoBufAppend(SsoBuf*, const void *p, size_t n);
static void ssoBufAppendStr(SsoBuf*, const char *z);
static void ssoBufAppendChar(SsoBuf*, char c);
static void ssoBufPrintf(SsoBuf*, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
static void ssoBufVPrintf(SsoBuf*, const char *zFmt, va_list);
/* Append z[0..n) as a JSON string literal, quotes included (RFC 8259 §7). */
static void ssoBufAppendJsonString(SsoBuf*, const char *z, size_t n);
static const char *ssoBufStr(const SsoBuf*);      /* never NULL */
static void ssoBufTruncate(SsoBuf*, size_t n);
/* Hand the content to the caller (who ssoFree()s it); NULL on error. The
** buffer is left empty either way. */
static char *ssoBufFinish(SsoBuf*, size_t *pn);
static void ssoBufFree(SsoBuf*);

#endif /* SSO_BUF_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include log.h in the middle of ssoInt.h **************/
/*
** Layer 0: structured log lines (logfmt or JSON), one write(2) per line.
*/
#ifndef SSO_LOG_H
#define SSO_LOG_H

#define SSO_LOG_DEBUG 0
#define SSO_LOG_INFO  1
#define SSO_LOG_WARN  2
#define SSO_LOG_ERROR 3
#define SSO_LOG_OFF   4

typedef struct SsoLog SsoLog;
struct SsoLog {
  int fd;               /* Where lines go; -1 discards them */
  int eMin;             /* Lowest level written (SSO_LOG_*) */
  int bJson;            /* One JSON object per line instead of logfmt */
};

static void ssoLogInit(SsoLog*, int fd, int eMin, int bJson);
/*
** Write one line: time, level, msg, then the key/value pairs given as
** const char* arguments, ending with a NULL key. A NULL value is skipped.
** Callers never pass secrets; this module does not guess at them.
*/
static void ssoLog(SsoLog*, int eLevel, const char *zMsg, ...);
static int ssoLogLevelFromName(const char *zName);  /* -1 if unknown */

#endif /* SSO_LOG_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include os.h in the middle of ssoInt.h **************/
/*
** Layer 0: the few operating-system services the upper layers need that
** are not sockets: clocks, whole-file reads, processor count.
*/
#ifndef SSO_OS_H
#define SSO_OS_H

static long long ssoOsNowMs(void);     /* Unix time in milliseconds */
static long long ssoOsMonoMs(void);    /* Monotonic milliseconds */
/*
** Read a whole regular file of at most mxBytes into a new NUL-terminated
** buffer (*pz, caller ssoFree()s; *pn its length). On failure returns
** SSOPROXY_IOERR (with errno preserved), _TOOBIG or _NOMEM and sets *pz=0.
*/
static int ssoOsReadFile(const char *zPath, size_t mxBytes,
                              char **pz, size_t *pn);
static int ssoOsCpuCount(void);

#endif /* SSO_OS_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include crypto.h in the middle of ssoInt.h **************/
/*
** Layer 1: random bytes, SHA-256, HMAC-SHA256, constant-time comparison.
** The only module besides tls and jose that includes mbedTLS.
*/
#ifndef SSO_CRYPTO_H
#define SSO_CRYPTO_H

#define SSO_SHA256_LEN 32

/*
** A CSPRNG (CTR_DRBG seeded from the OS entropy source). Not thread-safe:
** each event loop owns one. ssoRngNew() returns SSOPROXY_NOMEM or
** SSOPROXY_ERROR (no entropy) with *pp=0 on failure.
*/
typedef struct SsoRng SsoRng;
static int ssoRngNew(SsoRng **pp);
static int ssoRngBytes(SsoRng*, void *pOut, size_t n);
static void ssoRngFree(SsoRng*);

static int ssoSha256(const void *p, size_t n,
                          unsigned char aOut[SSO_SHA256_LEN]);
static int ssoHmacSha256(const void *pKey, size_t nKey,
                              const void *p, size_t n,
                              unsigned char aOut[SSO_SHA256_LEN]);
/* 1 if a[0..n) equals b[0..n); time depends on n only. */
static int ssoCtEqual(const void *a, const void *b, size_t n);
/* Lower-case hex of p[0..n) into zOut[2n+1], NUL-terminated. */
static void ssoHexEncode(const void *p, size_t n, char *zOut);

#endif /* SSO_CRYPTO_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include b64.h in the middle of ssoInt.h **************/
/* Placeholder: the b64 module is being written. */
#ifndef SSO_B64_H
#define SSO_B64_H
#endif
/************** Continuing where we left off in ssoInt.h **************/
/************** Include json.h in the middle of ssoInt.h **************/
/* Placeholder: the json module is being written. */
#ifndef SSO_JSON_H
#define SSO_JSON_H
#endif
/************** Continuing where we left off in ssoInt.h **************/
/************** Include url.h in the middle of ssoInt.h **************/
/* Placeholder: the url module is being written. */
#ifndef SSO_URL_H
#define SSO_URL_H
#endif
/************** Continuing where we left off in ssoInt.h **************/
/************** Include store.h in the middle of ssoInt.h **************/
/*
** Layer 3: storage. The one module that speaks SQL: it opens the SQLite
** database, migrates its schema, and offers row functions for users, API
** keys and the audit log. Callers never see a SQLite type.
**
** Threads: an SsoStore is one SQLite connection opened without a mutex, so
** it belongs to one thread (one event loop) at a time. Several stores,
** in one process or several, may share one file: WAL lets readers run
** beside the one writer, and a writer waits up to SSO_DB_BUSY_TIMEOUT_MS.
**
** Rows: the getters fill a caller-provided struct whose strings (and, for
** lists, the array itself) are allocated from a caller-provided SsoArena;
** they stay valid until the caller's ssoArenaFree(). The setters read the
** strings they are given only during the call. NULL pointers stand for
** SQL NULL; for the optional integers 0 stands for NULL ("never" for a
** time, "no limit" for a limit), so a zeroed struct holds every default.
** Times are Unix milliseconds. JSON columns (metadata, models, before,
** after) are stored as the already-serialised text the caller gives.
**
** Results: SSOPROXY_OK; _NOTFOUND when the row does not exist; _CONSTRAINT
** when a uniqueness, reference or CHECK rule is broken (a duplicate alias,
** an unknown role, a key for a user who does not exist); _NOMEM; _MISUSE;
** _DB for everything else (locked, I/O error, disk full, corrupt). After
** any result but _OK, ssoStoreErrmsg() says what happened.
*/
#ifndef SSO_STORE_H
#define SSO_STORE_H

#define SSO_STORE_SCHEMA 1           /* Schema version this build writes */
#define SSO_STORE_APP_ID 0x53534f50  /* PRAGMA application_id: "SSOP" */

typedef struct SsoStore SsoStore;

/*
** Open (creating if need be) and migrate the database at zPath, like
** sqlite3_open(): *ppStore is set even on failure, except when out of
** memory or zPath is NULL (then it is NULL), so the caller can read
** ssoStoreErrmsg(); the caller always ssoStoreClose()s it. A file that is
** not a database, a database of another application, or one written by a
** newer ssoproxy is refused with a clear message and is never written to
** (an empty -wal/-shm pair may appear beside a WAL database). ":memory:"
** gives a private in-memory database.
*/
static int ssoStoreOpen(const char *zPath, SsoStore **ppStore);
static void ssoStoreClose(SsoStore*);          /* NULL is a no-op */
static const char *ssoStoreErrmsg(const SsoStore*);  /* never NULL */

/* A cheap read of the database header: OK when the store can serve. */
static int ssoStorePing(SsoStore*);

/*
** One write transaction around several calls, so a change and its audit
** row commit together. Begin takes the write lock at once (BEGIN
** IMMEDIATE), so a transaction never fails half way for lack of a lock.
** Transactions do not nest (_MISUSE). When Commit fails the transaction
** has been rolled back. Rollback with no transaction open is a no-op;
** call it after any failure inside Begin...Commit.
*/
static int ssoStoreBegin(SsoStore*);
static int ssoStoreCommit(SsoStore*);
static int ssoStoreRollback(SsoStore*);

/* ---- Users ---- */
typedef struct SsoUser SsoUser;
struct SsoUser {
  const char *zId;          /* The IdP's id claim, or a local name */
  const char *zEmail;       /* NULL: none; compared without ASCII case */
  const char *zName;        /* Display name; NULL: none */
  const char *zRole;        /* proxy_admin, proxy_admin_viewer,
                            ** internal_user or internal_user_viewer */
  const char *zSource;      /* "sso" or "local" */
  long long tCreated;       /* 0 on insert: now */
  long long tUpdated;       /* 0 on insert or update: now */
  long long tLastLogin;     /* 0: never */
  int bDisabled;
  const char *zMetadata;    /* JSON object text; NULL on insert: "{}" */
};

static int ssoStoreUserInsert(SsoStore*, const SsoUser*);
/*
** The row for a user who just signed in through SSO: create it (role
** pIn->zRole, source "sso") or refresh email, name and last login of the
** existing one, and its role only when bSetRole. Returns the stored row
** in *pOut (strings in pArena) and whether it was created in *pbCreated
** (may be NULL). An existing *local* user with the same id is never
** taken over: _CONSTRAINT. A disabled user stays disabled; the caller
** checks pOut->bDisabled.
*/
static int ssoStoreUserUpsertSso(SsoStore*, const SsoUser *pIn,
                                      int bSetRole, SsoArena *pArena,
                                      SsoUser *pOut, int *pbCreated);
static int ssoStoreUserGet(SsoStore*, const char *zId,
                                SsoArena *pArena, SsoUser *pOut);
/* The oldest user with this e-mail address (ASCII case ignored). */
static int ssoStoreUserGetByEmail(SsoStore*, const char *zEmail,
                                       SsoArena *pArena, SsoUser *pOut);
/* Overwrite email, name, role, last login, disabled and metadata of the
** user pUser->zId (metadata NULL: keep). id, source, created never change. */
static int ssoStoreUserUpdate(SsoStore*, const SsoUser *pUser);
/* Delete a user and, by the foreign key, every key the user owns. */
static int ssoStoreUserDelete(SsoStore*, const char *zId);
/*
** One page of users ordered by id, only those with role zRole unless it
** is NULL. nLimit outside 1..SSO_DB_MAX_PAGE means SSO_DB_MAX_PAGE.
** *paUser is an array of *pnUser rows in pArena (NULL when empty).
*/
static int ssoStoreUserList(SsoStore*, const char *zRole, int iOffset,
                                 int nLimit, SsoArena *pArena,
                                 SsoUser **paUser, int *pnUser);
static int ssoStoreUserCount(SsoStore*, const char *zRole, int *pnUser);

/* ---- API keys ---- */
typedef struct SsoKey SsoKey;
struct SsoKey {
  const char *zHash;        /* SHA-256 of the whole "sk-..." key, lower hex */
  const char *zDisplay;     /* "sk-...abcd" */
  const char *zUserId;      /* Owner; NULL: nobody (master key, CLI) */
  const char *zAlias;       /* NULL: none; unique otherwise */
  const char *zModels;      /* JSON array text; NULL on insert: "[]" = all */
  long long tExpires;       /* 0: never */
  long long tCreated;       /* 0 on insert: now */
  long long tLastUsed;      /* 0: never */
  int bBlocked;
  const char *zIssuedVia;   /* "api", "ui", "oauth", "device" or "cli" */
  long long nRpmLimit;      /* Requests per minute; 0: no limit */
  long long nTpmLimit;      /* Tokens per minute; 0: no limit */
  const char *zMetadata;    /* JSON object text; NULL on insert: "{}" */
};

static int ssoStoreKeyInsert(SsoStore*, const SsoKey*);
static int ssoStoreKeyGet(SsoStore*, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut);
static int ssoStoreKeyGetByAlias(SsoStore*, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut);
/*
** The lookup behind every proxied request: the key and, in the same
** statement, its owner. pUser->zId is NULL when the key has no owner.
*/
static int ssoStoreKeyAuth(SsoStore*, const char *zHash,
                                SsoArena *pArena, SsoKey *pKey,
                                SsoUser *pUser);
/* Overwrite alias, models, expiry, blocked, limits and metadata of the
** key pKey->zHash (models or metadata NULL: keep). */
static int ssoStoreKeyUpdate(SsoStore*, const SsoKey *pKey);
static int ssoStoreKeyDelete(SsoStore*, const char *zHash);
static int ssoStoreKeyDeleteByAlias(SsoStore*, const char *zAlias);
/* Delete every key of zUserId; *pnDeleted (may be NULL) how many. OK
** when there were none. */
static int ssoStoreKeyDeleteByUser(SsoStore*, const char *zUserId,
                                        int *pnDeleted);
/* One page of keys, oldest first: all of them, or zUserId's. */
static int ssoStoreKeyList(SsoStore*, const char *zUserId, int iOffset,
                                int nLimit, SsoArena *pArena,
                                SsoKey **paKey, int *pnKey);
static int ssoStoreKeyCount(SsoStore*, const char *zUserId, int *pnKey);
/*
** Record last use of n keys in one transaction (the proxy batches these
** instead of writing on every request). A time never moves backwards; a
** hash no longer in the table is skipped. Joins the caller's transaction
** if one is open.
*/
static int ssoStoreKeysTouch(SsoStore*, const char **azHash,
                                  const long long *aAt, int n);

/* ---- Audit log ---- */
typedef struct SsoAudit SsoAudit;
struct SsoAudit {
  long long iId;            /* Assigned on append, increasing */
  long long tAt;            /* 0 on append: now */
  const char *zActor;       /* User id, "master_key", "cli", ... */
  const char *zAction;      /* "create", "update", "delete", "role_change" */
  const char *zObjectType;  /* "user", "key", ... */
  const char *zObjectId;
  const char *zBefore;      /* JSON text of the old state; NULL: none */
  const char *zAfter;       /* JSON text of the new state; NULL: none */
};

/* Append one entry; *piId (may be NULL) receives its id. */
static int ssoStoreAuditAppend(SsoStore*, const SsoAudit*,
                                    long long *piId);
/* One page, newest first; only entries about zObjectType/zObjectId when
** zObjectType is not NULL (zObjectId NULL: every object of that type). */
static int ssoStoreAuditList(SsoStore*, const char *zObjectType,
                                  const char *zObjectId, int iOffset,
                                  int nLimit, SsoArena *pArena,
                                  SsoAudit **paAudit, int *pnAudit);

#endif /* SSO_STORE_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include config.h in the middle of ssoInt.h **************/
/* Placeholder. */
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H
#endif
/************** Continuing where we left off in ssoInt.h **************/
/************** Include app.h in the middle of ssoInt.h **************/
/* Placeholder. */
#ifndef SSO_APP_H
#define SSO_APP_H
#endif
/************** Continuing where we left off in ssoInt.h **************/

#endif /* SSO_INT_H */
/************** Continuing where we left off in mem.c **************/
#include <stdatomic.h>
#include <sqlite3.h>

/* The header keeps the user pointer aligned for any object. */
typedef union MemHdr MemHdr;
union MemHdr {
  size_t n;                 /* Bytes requested by the caller */
  max_align_t align;        /* Forces the header's size to an alignment */
};

/*
** The process-wide allocator table. This is configuration, like
** sqlite3_config(), set once before anything is allocated; the counters
** are atomic because several loops (threads) allocate at once.
*/
static struct {
  void *(*xMalloc)(size_t);
  void *(*xRealloc)(void*, size_t);
  void (*xFree)(void*);
  atomic_llong nUsed;       /* Live bytes handed out */
  atomic_llong nBlocks;     /* Live blocks handed out */
  atomic_int bSqlite;       /* SQLite configured (or found initialised) */
} memGlobal = { malloc, realloc, free, 0, 0, 0 };

int ssoproxy_config_memory(
  void *(*xMalloc)(size_t),
  void *(*xRealloc)(void*, size_t),
  void (*xFree)(void*)
){
  if( atomic_load(&memGlobal.nBlocks)!=0 ) return SSOPROXY_MISUSE;
  if( (xMalloc==0)!=(xRealloc==0) || (xMalloc==0)!=(xFree==0) ){
    return SSOPROXY_MISUSE;
  }
  memGlobal.xMalloc = xMalloc ? xMalloc : malloc;
  memGlobal.xRealloc = xRealloc ? xRealloc : realloc;
  memGlobal.xFree = xFree ? xFree : free;
  return SSOPROXY_OK;
}

static void *ssoMalloc(size_t n){
  MemHdr *p;
  if( n>SSO_MAX_ALLOC ) return 0;
  p = memGlobal.xMalloc(sizeof(MemHdr) + n);
  if( p==0 ) return 0;
  p->n = n;
  atomic_fetch_add(&memGlobal.nUsed, (long long)n);
  atomic_fetch_add(&memGlobal.nBlocks, 1);
  return (void*)(p+1);
}

static void *ssoMallocZero(size_t n){
  void *p = ssoMalloc(n);
  if( p ) memset(p, 0, n);
  return p;
}

/*
** Like realloc(): on failure the old block is untouched and still owned
** by the caller. ssoRealloc(NULL, n) is ssoMalloc(n).
*/
static void *ssoRealloc(void *pOld, size_t n){
  MemHdr *p;
  size_t nOld;
  if( pOld==0 ) return ssoMalloc(n);
  if( n>SSO_MAX_ALLOC ) return 0;
  p = ((MemHdr*)pOld) - 1;
  nOld = p->n;
  p = memGlobal.xRealloc(p, sizeof(MemHdr) + n);
  if( p==0 ) return 0;
  p->n = n;
  atomic_fetch_add(&memGlobal.nUsed, (long long)n - (long long)nOld);
  return (void*)(p+1);
}

static void ssoFree(void *pUser){
  MemHdr *p;
  if( pUser==0 ) return;
  p = ((MemHdr*)pUser) - 1;
  atomic_fetch_sub(&memGlobal.nUsed, (long long)p->n);
  atomic_fetch_sub(&memGlobal.nBlocks, 1);
  memGlobal.xFree(p);
}

static size_t ssoMemSize(const void *pUser){
  if( pUser==0 ) return 0;
  return (((const MemHdr*)pUser) - 1)->n;
}

static char *ssoStrndup(const char *z, size_t n){
  char *zNew = ssoMalloc(n+1);
  if( zNew ){
    if( n ) memcpy(zNew, z, n);
    zNew[n] = 0;
  }
  return zNew;
}

static char *ssoStrdup(const char *z){
  return z ? ssoStrndup(z, strlen(z)) : 0;
}

static long long ssoMemUsed(void){ return atomic_load(&memGlobal.nUsed); }
static long long ssoMemBlocks(void){ return atomic_load(&memGlobal.nBlocks); }

/* SQLite's allocator methods, delegating to ours. */
static void *sqlMalloc(int n){ return n<0 ? 0 : ssoMalloc((size_t)n); }
static void sqlFree(void *p){ ssoFree(p); }
static void *sqlRealloc(void *p, int n){
  return n<0 ? 0 : ssoRealloc(p, (size_t)n);
}
static int sqlSize(void *p){ return (int)ssoMemSize(p); }
static int sqlRoundup(int n){ return (n+7)&~7; }
static int sqlInit(void *pApp){ SSO_UNUSED(pApp); return SQLITE_OK; }
static void sqlShutdown(void *pApp){ SSO_UNUSED(pApp); }

static int ssoMemInitSqlite(void){
  static const sqlite3_mem_methods methods = {
    sqlMalloc, sqlFree, sqlRealloc, sqlSize, sqlRoundup,
    sqlInit, sqlShutdown, 0
  };
  int expected = 0;
  if( !atomic_compare_exchange_strong(&memGlobal.bSqlite, &expected, 1) ){
    return SSOPROXY_OK;
  }
  /* SQLITE_MISUSE here means the host initialised SQLite first: benign. */
  sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
  /* No global memory statistics: they take a mutex on every allocation. */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return sqlite3_initialize()==SQLITE_OK ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

/* Arena chunks: a header followed by the usable bytes. */
struct SsoArenaChunk {
  SsoArenaChunk *pNext;     /* Older chunk */
  size_t nSize;             /* Usable bytes in this chunk */
  size_t nUsed;             /* Bytes handed out */
};
#define ARENA_ALIGN 8
#define ARENA_FIRST 1024

static void ssoArenaInit(SsoArena *a, size_t nMax){
  memset(a, 0, sizeof(*a));
  a->nChunk = ARENA_FIRST;
  a->nMax = nMax;
}

/*
** Returns n bytes aligned to 8, valid until ssoArenaFree(), or NULL when
** out of memory or when the arena would exceed its cap. Chunk sizes double
** so a document of N bytes costs O(log N) allocations.
*/
static void *ssoArenaAlloc(SsoArena *a, size_t n){
  SsoArenaChunk *c = a->pChunk;
  size_t nNeed = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  char *pRet;
  if( nNeed<n ) return 0;
  if( c==0 || c->nSize - c->nUsed < nNeed ){
    size_t nSize = a->nChunk;
    while( nSize<nNeed ) nSize *= 2;
    if( a->nMax && a->nTotal + nSize > a->nMax ){
      if( a->nTotal + nNeed > a->nMax ) return 0;
      nSize = nNeed;
    }
    c = ssoMalloc(sizeof(SsoArenaChunk) + nSize);
    if( c==0 ) return 0;
    c->nSize = nSize;
    c->nUsed = 0;
    c->pNext = a->pChunk;
    a->pChunk = c;
    a->nTotal += nSize;
    if( a->nChunk < (1u<<20) ) a->nChunk *= 2;
  }
  pRet = (char*)(c+1) + c->nUsed;
  c->nUsed += nNeed;
  return pRet;
}

static char *ssoArenaStrndup(SsoArena *a, const char *z, size_t n){
  char *zNew = ssoArenaAlloc(a, n+1);
  if( zNew ){
    if( n ) memcpy(zNew, z, n);
    zNew[n] = 0;
  }
  return zNew;
}

static void ssoArenaFree(SsoArena *a){
  SsoArenaChunk *c = a->pChunk;
  while( c ){
    SsoArenaChunk *pNext = c->pNext;
    ssoFree(c);
    c = pNext;
  }
  a->pChunk = 0;
  a->nTotal = 0;
  a->nChunk = ARENA_FIRST;
}
/************** End of mem.c **************/
/************** Begin file buf.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 0: the string builder behind JSON output, HTTP responses, HTML
** pages and log lines. Errors are sticky (SQLite's sqlite3_str habit): the
** first failure sets ->rc, later appends do nothing, and the caller checks
** once. A ceiling (mxAlloc) turns a runaway producer into SSOPROXY_TOOBIG
** instead of unbounded memory.
*/
/* #include "ssoInt.h" */

static void ssoBufInit(SsoBuf *p, size_t mxAlloc){
  memset(p, 0, sizeof(*p));
  p->mxAlloc = mxAlloc ? mxAlloc : SSO_MAX_BUF;
}

static void ssoBufInitStatic(SsoBuf *p, char *zSpace, size_t nSpace,
                                  size_t mxAlloc){
  assert( nSpace>0 );
  ssoBufInit(p, mxAlloc);
  p->z = zSpace;
  p->z[0] = 0;
  p->nAlloc = nSpace;
  p->bStatic = 1;
}

/* Make room for nExtra more bytes plus the NUL. Returns p->rc. */
static int ssoBufReserve(SsoBuf *p, size_t nExtra){
  size_t nNeed, nNew;
  char *zNew;
  if( p->rc ) return p->rc;
  nNeed = p->n + nExtra + 1;
  if( nNeed<=p->nAlloc ) return SSOPROXY_OK;
  if( nNeed<p->n || nNeed>p->mxAlloc ){
    p->rc = SSOPROXY_TOOBIG;
    return p->rc;
  }
  nNew = p->nAlloc ? p->nAlloc : 64;
  while( nNew<nNeed ) nNew *= 2;
  if( nNew>p->mxAlloc ) nNew = p->mxAlloc;
  zNew = p->bStatic ? ssoMalloc(nNew) : ssoRealloc(p->z, nNew);
  if( zNew==0 ){
    p->rc = SSOPROXY_NOMEM;
    return p->rc;
  }
  if( p->bStatic ){
    memcpy(zNew, p->z, p->n+1);
    p->bStatic = 0;
  }
  p->z = zNew;
  p->nAlloc = nNew;
  return SSOPROXY_OK;
}

static void ssoBufAppend(SsoBuf *p, const void *pData, size_t n){
  if( ssoBufReserve(p, n) ) return;
  if( n ) memcpy(p->z + p->n, pData, n);
  p->n += n;
  p->z[p->n] = 0;
}

static void ssoBufAppendStr(SsoBuf *p, const char *z){
  ssoBufAppend(p, z, strlen(z));
}

static void ssoBufAppendChar(SsoBuf *p, char c){
  ssoBufAppend(p, &c, 1);
}

static void ssoBufVPrintf(SsoBuf *p, const char *zFmt, va_list ap){
  va_list ap2;
  int n;
  char zTiny[1];
  if( p->rc ) return;
  va_copy(ap2, ap);
  n = vsnprintf(zTiny, sizeof(zTiny), zFmt, ap2);
  va_end(ap2);
  if( n<0 ){
    p->rc = SSOPROXY_ERROR;
    return;
  }
  if( ssoBufReserve(p, (size_t)n) ) return;
  vsnprintf(p->z + p->n, (size_t)n + 1, zFmt, ap);
  p->n += (size_t)n;
}

static void ssoBufPrintf(SsoBuf *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  ssoBufVPrintf(p, zFmt, ap);
  va_end(ap);
}

/*
** RFC 8259 §7: '"', '\\' and every byte below 0x20 must be escaped; we
** also escape DEL so a log line never carries a terminal control byte.
** Bytes >= 0x80 are copied as they are: callers pass valid UTF-8.
*/
static void ssoBufAppendJsonString(SsoBuf *p, const char *z, size_t n){
  static const char hex[] = "0123456789abcdef";
  size_t i, iRun = 0;
  ssoBufAppendChar(p, '"');
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    char esc[6];
    size_t nEsc = 2;
    if( c>=0x20 && c!='"' && c!='\\' && c!=0x7f ) continue;
    ssoBufAppend(p, z+iRun, i-iRun);
    iRun = i+1;
    esc[0] = '\\';
    switch( c ){
      case '"':  esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = hex[c>>4]; esc[5] = hex[c&0xf];
        nEsc = 6;
        break;
    }
    ssoBufAppend(p, esc, nEsc);
  }
  ssoBufAppend(p, z+iRun, n-iRun);
  ssoBufAppendChar(p, '"');
}

static const char *ssoBufStr(const SsoBuf *p){
  return (p->z && !p->rc) ? p->z : "";
}

static void ssoBufTruncate(SsoBuf *p, size_t n){
  if( n<p->n ){
    p->n = n;
    p->z[n] = 0;
  }
}

static char *ssoBufFinish(SsoBuf *p, size_t *pn){
  char *z = 0;
  if( p->rc==SSOPROXY_OK && ssoBufReserve(p, 0)==SSOPROXY_OK ){
    z = p->bStatic ? ssoStrndup(p->z, p->n) : p->z;
    if( z && pn ) *pn = p->n;
    if( !p->bStatic ) p->z = 0;
  }
  ssoBufFree(p);
  return z;
}

static void ssoBufFree(SsoBuf *p){
  size_t mx = p->mxAlloc;
  if( !p->bStatic ) ssoFree(p->z);
  memset(p, 0, sizeof(*p));
  p->mxAlloc = mx;
}
/************** End of buf.c **************/
/************** Begin file log.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 0: log lines. Each line is built in a buffer and written with a
** single write(2), so lines from several threads never interleave. Two
** formats: logfmt (key=value, values quoted when they hold a space, a
** quote or '=') for people, and JSON for log shippers. Control bytes are
** escaped in both, so a hostile value cannot forge a second line.
*/
/* #include "ssoInt.h" */
#include <time.h>
#include <unistd.h>

static const char *const azLevel[] = { "debug", "info", "warn", "error" };

static void ssoLogInit(SsoLog *p, int fd, int eMin, int bJson){
  p->fd = fd;
  p->eMin = eMin;
  p->bJson = bJson;
}

static int ssoLogLevelFromName(const char *zName){
  int i;
  for(i=0; i<(int)SSO_ARRAYSIZE(azLevel); i++){
    if( strcmp(zName, azLevel[i])==0 ) return i;
  }
  if( strcmp(zName, "off")==0 ) return SSO_LOG_OFF;
  return -1;
}

/* A logfmt value needs quotes unless it is plain printable ASCII. */
static int needsQuote(const char *z){
  if( *z==0 ) return 1;
  for(; *z; z++){
    unsigned char c = (unsigned char)*z;
    if( c<=' ' || c=='"' || c=='=' || c=='\\' || c>=0x7f ) return 1;
  }
  return 0;
}

static void appendPair(SsoBuf *b, int bJson, const char *zKey,
                       const char *zVal){
  if( bJson ){
    ssoBufAppendChar(b, ',');
    ssoBufAppendJsonString(b, zKey, strlen(zKey));
    ssoBufAppendChar(b, ':');
    ssoBufAppendJsonString(b, zVal, strlen(zVal));
  }else{
    ssoBufPrintf(b, " %s=", zKey);
    if( needsQuote(zVal) ){
      ssoBufAppendJsonString(b, zVal, strlen(zVal));
    }else{
      ssoBufAppendStr(b, zVal);
    }
  }
}

static void ssoLog(SsoLog *p, int eLevel, const char *zMsg, ...){
  char zTime[64];
  char zStack[512];
  SsoBuf b;
  va_list ap;
  const char *zKey;
  struct timespec ts;
  struct tm tm;
  if( p==0 || p->fd<0 || eLevel<p->eMin || eLevel>SSO_LOG_ERROR ) return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(zTime, sizeof(zTime), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(ts.tv_nsec/1000000));
  /* Lines are short; most never allocate. */
  ssoBufInitStatic(&b, zStack, sizeof(zStack), 64*1024);
  if( p->bJson ){
    ssoBufPrintf(&b, "{\"time\":\"%s\",\"level\":\"%s\"", zTime,
                 azLevel[eLevel]);
  }else{
    ssoBufPrintf(&b, "time=%s level=%s", zTime, azLevel[eLevel]);
  }
  appendPair(&b, p->bJson, "msg", zMsg);
  va_start(ap, zMsg);
  while( (zKey = va_arg(ap, const char*))!=0 ){
    const char *zVal = va_arg(ap, const char*);
    if( zVal ) appendPair(&b, p->bJson, zKey, zVal);
  }
  va_end(ap);
  ssoBufAppendStr(&b, p->bJson ? "}\n" : "\n");
  if( b.rc==SSOPROXY_OK ){
    ssize_t nDone = 0;
    while( nDone<(ssize_t)b.n ){
      ssize_t n = write(p->fd, b.z+nDone, b.n-(size_t)nDone);
      if( n<0 && errno==EINTR ) continue;
      if( n<=0 ) break;
      nDone += n;
    }
  }
  ssoBufFree(&b);
}
/************** End of log.c **************/
/************** Begin file os.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 0: operating-system services other than sockets (those belong to
** the transport layer). POSIX only.
*/
/* #include "ssoInt.h" */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long clockMs(clockid_t id){
  struct timespec ts;
  clock_gettime(id, &ts);
  return (long long)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

static long long ssoOsNowMs(void){ return clockMs(CLOCK_REALTIME); }
static long long ssoOsMonoMs(void){ return clockMs(CLOCK_MONOTONIC); }

static int ssoOsReadFile(const char *zPath, size_t mxBytes,
                              char **pz, size_t *pn){
  int fd, rc = SSOPROXY_OK, eSaved = 0;
  struct stat st;
  char *z = 0;
  size_t n = 0;
  *pz = 0;
  if( pn ) *pn = 0;
  fd = open(zPath, O_RDONLY|O_CLOEXEC);
  if( fd<0 ) return SSOPROXY_IOERR;
  if( fstat(fd, &st) || !S_ISREG(st.st_mode) ){
    eSaved = S_ISDIR(st.st_mode) ? EISDIR : errno;
    rc = SSOPROXY_IOERR;
    goto end;
  }
  if( (unsigned long long)st.st_size > mxBytes ){
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  z = ssoMalloc((size_t)st.st_size + 1);
  if( z==0 ){
    rc = SSOPROXY_NOMEM;
    goto end;
  }
  while( n<(size_t)st.st_size ){
    ssize_t got = read(fd, z+n, (size_t)st.st_size - n);
    if( got<0 && errno==EINTR ) continue;
    if( got<=0 ){
      eSaved = got<0 ? errno : EIO;
      rc = SSOPROXY_IOERR;
      goto end;
    }
    n += (size_t)got;
  }
  z[n] = 0;
  *pz = z;
  if( pn ) *pn = n;
  z = 0;
end:
  ssoFree(z);
  close(fd);
  if( eSaved ) errno = eSaved;
  return rc;
}

static int ssoOsCpuCount(void){
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n<1 ? 1 : (n>256 ? 256 : (int)n);
}
/************** End of os.c **************/
/************** Begin file crypto.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: the cryptographic primitives, behind one small interface so
** that mbedTLS appears in as few files as possible and the 2.28 / 3.x API
** differences are settled here (STYLE.md item 9).
**
** Random bytes come from mbedTLS's CTR_DRBG (AES-256), seeded from its
** entropy collector, which reads the OS source (getrandom or
** /dev/urandom). The DRBG reseeds itself periodically.
*/
/* #include "ssoInt.h" */
#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

struct SsoRng {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
};

static int ssoRngNew(SsoRng **pp){
  static const unsigned char zPers[] = "ssoproxy rng";
  SsoRng *p = ssoMalloc(sizeof(*p));
  *pp = 0;
  if( p==0 ) return SSOPROXY_NOMEM;
  mbedtls_entropy_init(&p->entropy);
  mbedtls_ctr_drbg_init(&p->drbg);
  if( mbedtls_ctr_drbg_seed(&p->drbg, mbedtls_entropy_func, &p->entropy,
                            zPers, sizeof(zPers)-1) ){
    ssoRngFree(p);
    return SSOPROXY_ERROR;
  }
  *pp = p;
  return SSOPROXY_OK;
}

/* Requests are split because CTR_DRBG caps one call at 1024 bytes. */
static int ssoRngBytes(SsoRng *p, void *pOut, size_t n){
  unsigned char *a = pOut;
  while( n>0 ){
    size_t nPart = n>MBEDTLS_CTR_DRBG_MAX_REQUEST ?
                   MBEDTLS_CTR_DRBG_MAX_REQUEST : n;
    if( mbedtls_ctr_drbg_random(&p->drbg, a, nPart) ) return SSOPROXY_ERROR;
    a += nPart;
    n -= nPart;
  }
  return SSOPROXY_OK;
}

static void ssoRngFree(SsoRng *p){
  if( p==0 ) return;
  mbedtls_ctr_drbg_free(&p->drbg);
  mbedtls_entropy_free(&p->entropy);
  ssoFree(p);
}

static int ssoSha256(const void *p, size_t n,
                          unsigned char aOut[SSO_SHA256_LEN]){
#if MBEDTLS_VERSION_NUMBER < 0x03000000
  return mbedtls_sha256_ret(p, n, aOut, 0) ? SSOPROXY_ERROR : SSOPROXY_OK;
#else
  return mbedtls_sha256(p, n, aOut, 0) ? SSOPROXY_ERROR : SSOPROXY_OK;
#endif
}

/* RFC 2104 HMAC with SHA-256 (mbedTLS's md layer; same call in 2.28/3.x). */
static int ssoHmacSha256(const void *pKey, size_t nKey,
                              const void *p, size_t n,
                              unsigned char aOut[SSO_SHA256_LEN]){
  const mbedtls_md_info_t *pInfo = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if( pInfo==0 ) return SSOPROXY_ERROR;
  return mbedtls_md_hmac(pInfo, pKey, nKey, p, n, aOut) ?
         SSOPROXY_ERROR : SSOPROXY_OK;
}

/*
** Comparing secrets (keys, HMACs, CSRF tokens) with memcmp() leaks, through
** timing, how many leading bytes matched. This reads every byte and only
** then decides. volatile keeps the compiler from stopping early.
*/
static int ssoCtEqual(const void *a, const void *b, size_t n){
  const volatile unsigned char *x = a;
  const volatile unsigned char *y = b;
  unsigned char diff = 0;
  size_t i;
  for(i=0; i<n; i++) diff |= (unsigned char)(x[i] ^ y[i]);
  return diff==0;
}

static void ssoHexEncode(const void *p, size_t n, char *zOut){
  static const char hex[] = "0123456789abcdef";
  const unsigned char *a = p;
  size_t i;
  for(i=0; i<n; i++){
    zOut[2*i] = hex[a[i]>>4];
    zOut[2*i+1] = hex[a[i]&0xf];
  }
  zOut[2*n] = 0;
}
/************** End of crypto.c **************/
/************** Begin file b64.c **************/
/* Placeholder: the b64 module is being written. */
/* #include "ssoInt.h" */
/************** End of b64.c **************/
/************** Begin file json.c **************/
/* Placeholder: the json module is being written. */
/* #include "ssoInt.h" */
/************** End of json.c **************/
/************** Begin file url.c **************/
/* Placeholder: the url module is being written. */
/* #include "ssoInt.h" */
/************** End of url.c **************/
/************** Begin file store.c **************/
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
/* #include "ssoInt.h" */
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

static int ssoStoreBegin(SsoStore *p){
  if( !sqlite3_get_autocommit(p->db) ){
    return storeErrorf(p, SSOPROXY_MISUSE, "a transaction is already open");
  }
  return storeExec(p, STMT_BEGIN);
}

static int ssoStoreCommit(SsoStore *p){
  int rc;
  if( sqlite3_get_autocommit(p->db) ){
    return storeErrorf(p, SSOPROXY_MISUSE, "no transaction is open");
  }
  rc = storeExec(p, STMT_COMMIT);
  if( rc ) storeAbort(p);
  return rc;
}

static int ssoStoreRollback(SsoStore *p){
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

static int ssoStoreOpen(const char *zPath, SsoStore **ppStore){
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

static void ssoStoreClose(SsoStore *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(p->apStmt[i]);
  sqlite3_close_v2(p->db);
  ssoFree(p);
}

static const char *ssoStoreErrmsg(const SsoStore *p){
  if( p==0 ) return "out of memory";
  return p->zErr[0] ? p->zErr : "not an error";
}

/*
** Readiness: one read of the header and schema through the WAL index, so
** an I/O error, a lock that never clears, or a newer ssoproxy having
** migrated the file under us all show here.
*/
static int ssoStorePing(SsoStore *p){
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

static int ssoStoreUserInsert(SsoStore *p, const SsoUser *u){
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

static int ssoStoreUserGet(SsoStore *p, const char *zId,
                                SsoArena *pArena, SsoUser *pOut){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_USER_GET, &s);
  if( rc ) return rc;
  storeBindText(s, 1, zId, &rcBind);
  return storeGetRow(p, s, rcBind, storeReadUser, pArena, pOut, "user");
}

static int ssoStoreUserGetByEmail(SsoStore *p, const char *zEmail,
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

static int ssoStoreUserUpsertSso(SsoStore *p, const SsoUser *pIn,
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

static int ssoStoreUserUpdate(SsoStore *p, const SsoUser *u){
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

static int ssoStoreUserDelete(SsoStore *p, const char *zId){
  return storeDeleteBy(p, STMT_USER_DELETE, zId, "user");
}

static int ssoStoreUserList(SsoStore *p, const char *zRole, int iOffset,
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

static int ssoStoreUserCount(SsoStore *p, const char *zRole,
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

static int ssoStoreKeyInsert(SsoStore *p, const SsoKey *k){
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

static int ssoStoreKeyGet(SsoStore *p, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut){
  return storeKeyGetBy(p, STMT_KEY_GET, zHash, pArena, pOut);
}

static int ssoStoreKeyGetByAlias(SsoStore *p, const char *zAlias,
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

static int ssoStoreKeyAuth(SsoStore *p, const char *zHash,
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

static int ssoStoreKeyUpdate(SsoStore *p, const SsoKey *k){
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

static int ssoStoreKeyDelete(SsoStore *p, const char *zHash){
  return storeDeleteBy(p, STMT_KEY_DELETE, zHash, "key");
}

static int ssoStoreKeyDeleteByAlias(SsoStore *p, const char *zAlias){
  return storeDeleteBy(p, STMT_KEY_DELETE_ALIAS, zAlias, "key");
}

static int ssoStoreKeyDeleteByUser(SsoStore *p, const char *zUserId,
                                        int *pnDeleted){
  int rc = storeDeleteBy(p, STMT_KEY_DELETE_USER, zUserId, 0);
  if( pnDeleted ) *pnDeleted = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

static int ssoStoreKeyList(SsoStore *p, const char *zUserId,
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

static int ssoStoreKeyCount(SsoStore *p, const char *zUserId,
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

static int ssoStoreKeysTouch(SsoStore *p, const char **azHash,
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

static int ssoStoreAuditAppend(SsoStore *p, const SsoAudit *e,
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

static int ssoStoreAuditList(SsoStore *p, const char *zObjectType,
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
/************** End of store.c **************/
/************** Begin file config.c **************/
/* Placeholder. */
/* #include "ssoInt.h" */
/************** End of config.c **************/
/************** Begin file app.c **************/
/* Placeholder. */
/* #include "ssoInt.h" */
const char *ssoproxy_libversion(void){ return SSOPROXY_VERSION; }
int ssoproxy_libversion_number(void){ return SSOPROXY_VERSION_NUMBER; }
const char *ssoproxy_sourceid(void){ return SSOPROXY_SOURCE_ID; }
int ssoproxy_main(int argc, char **argv){ (void)argc; (void)argv; printf("%s\n", ssoproxy_libversion()); return 0; }
/************** End of app.c **************/
/************** Begin file main.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the program's entry point. All of the command line lives in
** ssoproxy_main() (src/app.c) so that a host embedding ssoproxy.c can offer
** the same CLI; define SSOPROXY_OMIT_MAIN to leave main() out.
*/
/* #include "ssoInt.h" */

#ifndef SSOPROXY_OMIT_MAIN
int main(int argc, char **argv){
  return ssoproxy_main(argc, argv);
}
#endif
/************** End of main.c **************/
/************** End of the ssoproxy amalgamation **************/
