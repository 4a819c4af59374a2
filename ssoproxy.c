/******************************************************************************
** This file is the ssoproxy amalgamation, version 0.1.0:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: 91fc91f42fe10e2bfb1fa398480bd4d2d15a8e6ad6cee1fe40dcbaac01e815a9
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
#define SSO_JSON_MAX_NODES   (1u << 20) /* Values in one document (32 B each) */

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
/*
** Layer 1: JSON (RFC 8259). A strict parser that builds a read-only tree in
** one arena per document, getters over that tree, and a small writer on
** top of SsoBuf. See the head of src/json.c for the rules it enforces.
*/
#ifndef SSO_JSON_H
#define SSO_JSON_H

/* Value types; ssoJsonType(NULL) is SSO_JSON_NONE (a missing value). */
#define SSO_JSON_NONE    0
#define SSO_JSON_NULL    1
#define SSO_JSON_FALSE   2
#define SSO_JSON_TRUE    3
#define SSO_JSON_NUMBER  4
#define SSO_JSON_STRING  5
#define SSO_JSON_ARRAY   6
#define SSO_JSON_OBJECT  7

/* Parse flags */
#define SSO_JSON_NODUP   0x01   /* Reject an object with a repeated key */

typedef struct SsoJson SsoJson;         /* One value; layout in json.c */
typedef struct SsoJsonDoc SsoJsonDoc;   /* A parsed document and its arena */

/*
** Why a parse failed: a result code (SSOPROXY_PARSE, _TOOBIG, _NOMEM), the
** byte offset in the input where the problem was found, and a short
** English message such as "control character in string". Owned by the
** caller (usually on its stack); zMsg is always NUL-terminated.
*/
typedef struct SsoJsonErr SsoJsonErr;
struct SsoJsonErr {
  int rc;               /* SSOPROXY_OK or the failure code */
  size_t iOfs;          /* Byte offset of the problem in the input */
  char zMsg[96];        /* "" on success */
};

/*
** Parse z[0..n) as one JSON text. On success *ppDoc is a new document the
** caller frees with ssoJsonFree(); it does not refer to z, which the
** caller may free at once. On failure *ppDoc is NULL and, if pErr is not
** NULL, *pErr says why. Returns SSOPROXY_OK, _PARSE, _TOOBIG (input over
** SSO_JSON_MAX_INPUT, nesting over SSO_JSON_MAX_DEPTH, more than
** SSO_JSON_MAX_NODES values) or _NOMEM.
*/
static int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr);
static void ssoJsonFree(SsoJsonDoc*);                /* NULL is a no-op */
static const SsoJson *ssoJsonRoot(const SsoJsonDoc*);

/*
** Getters. Every pointer they return lives as long as the document. All
** accept NULL for the value (a missing value), so lookups chain:
** ssoJsonCStr(ssoJsonGet(ssoJsonGet(pRoot, "a"), "b")).
*/
static int ssoJsonType(const SsoJson*);
static const char *ssoJsonTypeName(int eType);      /* "string" ... */
/* Byte offset of the value in the input (of its key, for an object member).*/
static size_t ssoJsonOffset(const SsoJson*);

/* Elements of an array or members of an object, in document order.
** ssoJsonCount() is 0 for any other value; ssoJsonAt() NULL past the end. */
static size_t ssoJsonCount(const SsoJson*);
static const SsoJson *ssoJsonAt(const SsoJson*, size_t i);

/*
** The name of an object member (a value got from ssoJsonAt() on an
** object), NUL-terminated, NULL for any other value. Names and strings may
** hold U+0000 (escaped as \u0000): with pn the length is stored there and
** the bytes are returned as they are; with pn==NULL the caller means to
** use the result as a C string, so a name holding a NUL gives NULL.
*/
static const char *ssoJsonKey(const SsoJson*, size_t *pn);

/*
** Object member by exact (case-sensitive, byte-wise) name; NULL if the
** value is not an object or has no such member. If the document repeats a
** name (parsed without SSO_JSON_NODUP), the last one wins, as in
** ECMAScript's JSON.parse.
*/
static const SsoJson *ssoJsonGet(const SsoJson*, const char *zKey);
static const SsoJson *ssoJsonGetN(const SsoJson*, const char *zKey,
                                       size_t nKey);
/*
** Follow a dot-separated path such as "realm_access.roles" (LiteLLM's
** role-claim syntax). A segment of decimal digits indexes an array. At
** each step a member named by the whole rest of the path is preferred, so
** a namespaced claim like "https://example.com/roles" is still found.
** An empty path returns the value itself.
*/
static const SsoJson *ssoJsonGetPath(const SsoJson*, const char *zPath);

/* A string's decoded UTF-8 bytes, NUL-terminated; NULL if not a string.
** See ssoJsonKey() for what pn==NULL means. */
static const char *ssoJsonStr(const SsoJson*, size_t *pn);
/* The string as a C string, or NULL if not a string or it holds U+0000. */
static const char *ssoJsonCStr(const SsoJson*);
/* A number's text exactly as in the input, NUL-terminated; NULL if not a
** number. */
static const char *ssoJsonNumText(const SsoJson*, size_t *pn);

/*
** Typed getters return SSOPROXY_OK and store the value, SSOPROXY_NOTFOUND
** for a missing value (NULL) or SSOPROXY_PARSE for the wrong type; on
** failure the output is left as it was.
** ssoJsonInt64() accepts only an integer literal (no fraction, no
** exponent: SSOPROXY_PARSE) in the int64 range (else SSOPROXY_TOOBIG).
** ssoJsonDouble() converts any number, independently of the C locale,
** correctly rounded; SSOPROXY_TOOBIG if it overflows a double.
*/
static int ssoJsonBool(const SsoJson*, int *pb);
static int ssoJsonInt64(const SsoJson*, long long *pi);
static int ssoJsonDouble(const SsoJson*, double *pr);

/* 1 if z[0..n) is valid UTF-8 (RFC 3629: no overlong forms, no
** surrogates, nothing above U+10FFFF). */
static int ssoJsonUtf8Valid(const char *z, size_t n);

/*
** The writer: compact JSON appended to a caller-owned SsoBuf, with commas
** and nesting handled here. Errors are sticky, like SsoBuf's: write the
** whole value, then check ssoJsonWriteFinish() once.
**
**   SsoBuf b; SsoJsonWriter w;
**   ssoBufInit(&b, 0); ssoJsonWriteInit(&w, &b);
**   ssoJsonWriteBeginObject(&w);
**   ssoJsonWriteKey(&w, "error");
**   ssoJsonWriteBeginObject(&w);
**   ssoJsonWriteKeyString(&w, "message", zMsg);
**   ssoJsonWriteKeyString(&w, "code", "401");
**   ssoJsonWriteEndObject(&w);
**   ssoJsonWriteEndObject(&w);
**   rc = ssoJsonWriteFinish(&w);   then use b.z/b.n, and ssoBufFree(&b)
**
** Error codes: SSOPROXY_MISUSE for a call out of order (a value where a
** key is due, an unbalanced end, a second top-level value, nesting past
** SSO_JSON_MAX_DEPTH); SSOPROXY_PARSE for a value with no JSON form (a
** string that is not valid UTF-8, NaN or an infinity); the buffer's own
** SSOPROXY_NOMEM or _TOOBIG. The writer appends to what the buffer already
** holds, so one buffer can take several values, each with its own writer.
*/
typedef struct SsoJsonWriter SsoJsonWriter;
struct SsoJsonWriter {
  SsoBuf *pBuf;         /* Output; owned by the caller */
  int rc;               /* First writer error; sticky */
  int nDepth;           /* Containers open */
  int bDone;            /* The top-level value has been started */
  unsigned char aLevel[SSO_JSON_MAX_DEPTH];  /* JSONW_* bits per level */
};
static void ssoJsonWriteInit(SsoJsonWriter*, SsoBuf*);
static void ssoJsonWriteBeginObject(SsoJsonWriter*);
static void ssoJsonWriteEndObject(SsoJsonWriter*);
static void ssoJsonWriteBeginArray(SsoJsonWriter*);
static void ssoJsonWriteEndArray(SsoJsonWriter*);
static void ssoJsonWriteKey(SsoJsonWriter*, const char *zKey);
static void ssoJsonWriteKeyN(SsoJsonWriter*, const char *zKey, size_t n);
/* A C string; NULL writes null. */
static void ssoJsonWriteString(SsoJsonWriter*, const char *z);
static void ssoJsonWriteStringN(SsoJsonWriter*, const char *z, size_t n);
static void ssoJsonWriteInt64(SsoJsonWriter*, long long i);
/* Shortest text that reads back as the same double; "." whatever the
** locale. */
static void ssoJsonWriteDouble(SsoJsonWriter*, double r);
static void ssoJsonWriteBool(SsoJsonWriter*, int b);
static void ssoJsonWriteNull(SsoJsonWriter*);
/* One complete, valid JSON value serialised by the caller; not checked. */
static void ssoJsonWriteRaw(SsoJsonWriter*, const char *z, size_t n);
/* A parsed value (and everything under it), compact. */
static void ssoJsonWriteValue(SsoJsonWriter*, const SsoJson*);
/* Key and value in one call, for the common flat members. */
static void ssoJsonWriteKeyString(SsoJsonWriter*, const char *zKey,
                                       const char *z);
static void ssoJsonWriteKeyInt64(SsoJsonWriter*, const char *zKey,
                                      long long i);
static void ssoJsonWriteKeyBool(SsoJsonWriter*, const char *zKey, int b);
/* SSOPROXY_OK if exactly one complete value was written without error. */
static int ssoJsonWriteFinish(SsoJsonWriter*);

/* Append pVal to pBuf as compact JSON; returns as ssoJsonWriteFinish(). */
static int ssoJsonToBuf(const SsoJson *pVal, SsoBuf *pBuf);

#endif /* SSO_JSON_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include url.h in the middle of ssoInt.h **************/
/* Placeholder: the url module is being written. */
#ifndef SSO_URL_H
#define SSO_URL_H
#endif
/************** Continuing where we left off in ssoInt.h **************/
/************** Include store.h in the middle of ssoInt.h **************/
/* Placeholder: the store module is being written. */
#ifndef SSO_STORE_H
#define SSO_STORE_H
#endif
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
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: JSON, RFC 8259. Every API request body, every IdP response and
** every JWT header and claim set passes through this parser, so it is
** strict and bounded rather than forgiving:
**
**   - exactly one value, optionally surrounded by the four whitespace
**     bytes of RFC 8259 §2; nothing else before or after it (no BOM, §8.1);
**   - strings: no raw byte below 0x20 (§7), only the escapes of §7,
**     valid UTF-8 (§8.1, RFC 3629: no overlong forms, no encoded
**     surrogates, nothing above U+10FFFF), \u surrogates only as a high
**     one followed by a low one;
**   - numbers: the grammar of §6 exactly (no "+1", ".5", "1.", "01", NaN);
**     the text is kept, and converted on request with range checks;
**   - nesting at most SSO_JSON_MAX_DEPTH, input at most
**     SSO_JSON_MAX_INPUT bytes, at most SSO_JSON_MAX_NODES values;
**   - with SSO_JSON_NODUP, an object may not repeat a name (§4 leaves
**     duplicates to the implementation; two readers that pick different
**     ones is how JWT claim-smuggling attacks work).
**
** The parser is a single pass without recursion: containers being parsed
** live on an explicit stack of nodes; when a container closes, its
** children are copied as one contiguous array into the document's arena,
** which gives O(1) indexed access and document-order iteration. The stack
** itself is one growing block (it starts on the C stack, so a small
** document costs one arena chunk and no other allocation). Strings are
** decoded into the arena and NUL-terminated; a string holding U+0000 is
** flagged so callers that need a C string can refuse it. The whole tree
** is freed with the arena in one call.
**
** The writer emits compact JSON into an SsoBuf and keeps track of commas
** and nesting itself, so callers cannot produce a malformed document.
*/
/* #include "ssoInt.h" */
#include <float.h>
#include <math.h>

#if SSO_JSON_MAX_INPUT > 0xffffffffu || SSO_JSON_MAX_NODES > 0xffffffffu
# error "offsets and counts in a JSON node are 32-bit"
#endif

/*
** One value. Object members carry their name; the children of an array
** or object are one contiguous array in the arena. 32 bytes on LP64.
*/
struct SsoJson {
  const char *zKey;     /* Name, if this is an object member; else NULL */
  union {
    const char *z;      /* STRING: decoded bytes; NUMBER: text; both NUL-
                        ** terminated, in the arena */
    const SsoJson *a;   /* ARRAY, OBJECT: the n children */
  } u;
  uint32_t n;           /* Bytes at u.z, or children at u.a */
  uint32_t nKey;        /* Bytes at zKey */
  uint32_t iOfs;        /* Input offset of the key (members) or the value */
  uint8_t eType;        /* SSO_JSON_NULL ... SSO_JSON_OBJECT */
  uint8_t mFlag;        /* JSONF_* bits */
};
#define JSONF_NUL     0x01  /* The string value holds U+0000 */
#define JSONF_KEYNUL  0x02  /* The member name holds U+0000 */

/* A document: the arena lives inside itself (in its first chunk). */
struct SsoJsonDoc {
  SsoArena arena;       /* Every node and string of this document */
  const SsoJson *pRoot; /* The top-level value */
};

/* Up to this many members, duplicate names are found by comparing every
** pair; above it, by sorting the names (O(n log n) whatever the input). */
#define JSON_DUP_LINEAR 8
/* Nodes of parse stack held on the C stack before moving to the heap. */
#define JSON_STACK_INIT 32

/* Parser state; lives on the C stack for the duration of ssoJsonParse(). */
typedef struct JsonParse JsonParse;
struct JsonParse {
  const unsigned char *z;   /* Input */
  size_t n;                 /* Bytes of input */
  size_t i;                 /* Next byte to look at */
  unsigned mFlags;          /* SSO_JSON_NODUP ... */
  SsoJsonErr *pErr;         /* Where failures are described; never NULL */
  SsoArena *pArena;         /* The document's arena */
  SsoJson *aStk;            /* Open containers and their children so far */
  size_t nStk;              /* Nodes in use at aStk */
  size_t nStkAlloc;         /* Nodes allocated at aStk */
  size_t nNode;             /* Values parsed so far */
  const SsoJson **apSort;   /* Scratch for the duplicate-name check */
  size_t nSortAlloc;        /* Entries allocated at apSort */
  int nDepth;               /* Containers open */
  uint32_t aFrame[SSO_JSON_MAX_DEPTH];  /* aStk index of each open one */
  const char *zKey;         /* Name read for the next member, or NULL */
  uint32_t nKey;            /* Its length */
  uint32_t iKeyOfs;         /* Its offset */
  uint8_t mKeyFlag;         /* JSONF_KEYNUL if it holds U+0000 */
  SsoJson aStkSpace[JSON_STACK_INIT];   /* Initial aStk */
};

/* -------------------------------------------------------------------- */
/* Errors                                                               */

static int parseErr(JsonParse *p, int rc, size_t iOfs, const char *zMsg){
  p->pErr->rc = rc;
  p->pErr->iOfs = iOfs;
  snprintf(p->pErr->zMsg, sizeof(p->pErr->zMsg), "%s", zMsg);
  return rc;
}

static int nomemErr(JsonParse *p){
  return parseErr(p, SSOPROXY_NOMEM, p->i, "out of memory");
}

/* A byte where a value or punctuation was expected. */
static int unexpectedErr(JsonParse *p){
  char zMsg[40];
  unsigned char c;
  if( p->i>=p->n ){
    return parseErr(p, SSOPROXY_PARSE, p->n, "unexpected end of input");
  }
  c = p->z[p->i];
  if( c=='/' ){
    return parseErr(p, SSOPROXY_PARSE, p->i, "comments are not allowed");
  }
  if( c>0x20 && c<0x7f ){
    snprintf(zMsg, sizeof(zMsg), "unexpected character '%c'", c);
  }else{
    snprintf(zMsg, sizeof(zMsg), "unexpected byte 0x%02x", c);
  }
  return parseErr(p, SSOPROXY_PARSE, p->i, zMsg);
}

/* "duplicate key \"NAME\"", the name cut short and made printable. */
static int dupErr(JsonParse *p, const SsoJson *pDup){
  char zMsg[sizeof(p->pErr->zMsg)];
  size_t i, j = 0, nShow = pDup->nKey < 48 ? pDup->nKey : 48;
  memcpy(zMsg, "duplicate key \"", 15);
  j = 15;
  for(i=0; i<nShow; i++){
    unsigned char c = (unsigned char)pDup->zKey[i];
    zMsg[j++] = (c>=0x20 && c<0x7f && c!='"' && c!='\\') ? (char)c : '?';
  }
  if( nShow<pDup->nKey ){ memcpy(zMsg+j, "...", 3); j += 3; }
  zMsg[j++] = '"';
  zMsg[j] = 0;
  return parseErr(p, SSOPROXY_PARSE, pDup->iOfs, zMsg);
}

/* -------------------------------------------------------------------- */
/* UTF-8 and strings                                                    */

/*
** Length of the valid UTF-8 sequence that starts with the non-ASCII byte
** z[0] and fits in z[0..n), or 0 if there is none (RFC 3629 §4). The
** second byte's range rules out overlong forms (E0, F0), UTF-16
** surrogates (ED) and code points above U+10FFFF (F4).
*/
static size_t utf8Seq(const unsigned char *z, size_t n){
  unsigned c = z[0];
  unsigned lo = 0x80, hi = 0xbf;
  size_t nSeq, k;
  if( c<0xc2 ) return 0;              /* stray continuation, or overlong */
  if( c<0xe0 ){
    nSeq = 2;
  }else if( c<0xf0 ){
    nSeq = 3;
    if( c==0xe0 ) lo = 0xa0;
    if( c==0xed ) hi = 0x9f;
  }else if( c<0xf5 ){
    nSeq = 4;
    if( c==0xf0 ) lo = 0x90;
    if( c==0xf4 ) hi = 0x8f;
  }else{
    return 0;
  }
  if( n<nSeq || z[1]<lo || z[1]>hi ) return 0;
  for(k=2; k<nSeq; k++){
    if( (z[k] & 0xc0)!=0x80 ) return 0;
  }
  return nSeq;
}

static int ssoJsonUtf8Valid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    size_t nSeq;
    if( z[i]<0x80 ){ i++; continue; }
    nSeq = utf8Seq(z+i, n-i);
    if( nSeq==0 ) return 0;
    i += nSeq;
  }
  return 1;
}

/* Value of four hex digits at z, or -1. */
static long hex4(const unsigned char *z){
  long v = 0;
  int k;
  for(k=0; k<4; k++){
    unsigned c = z[k];
    if( c>='0' && c<='9' ) c -= '0';
    else if( (c|0x20)>='a' && (c|0x20)<='f' ) c = (c|0x20) - 'a' + 10;
    else return -1;
    v = v*16 + (long)c;
  }
  return v;
}

/* Write code point c as UTF-8 at z; returns the bytes written. */
static size_t utf8Put(unsigned char *z, unsigned long c){
  if( c<0x80 ){ z[0] = (unsigned char)c; return 1; }
  if( c<0x800 ){
    z[0] = (unsigned char)(0xc0 | (c>>6));
    z[1] = (unsigned char)(0x80 | (c & 0x3f));
    return 2;
  }
  if( c<0x10000 ){
    z[0] = (unsigned char)(0xe0 | (c>>12));
    z[1] = (unsigned char)(0x80 | ((c>>6) & 0x3f));
    z[2] = (unsigned char)(0x80 | (c & 0x3f));
    return 3;
  }
  z[0] = (unsigned char)(0xf0 | (c>>18));
  z[1] = (unsigned char)(0x80 | ((c>>12) & 0x3f));
  z[2] = (unsigned char)(0x80 | ((c>>6) & 0x3f));
  z[3] = (unsigned char)(0x80 | (c & 0x3f));
  return 4;
}

/*
** Decode the \u escape at z[k] (z[k]=='\\', z[k+1]=='u') of a string that
** ends before z[iEnd]. A high surrogate must be followed at once by an
** escaped low one (RFC 8259 §7); the pair is one code point. Stores the
** code point and the bytes of input used, or returns an error.
*/
static int decodeU(JsonParse *p, size_t k, size_t iEnd,
                   unsigned long *pc, size_t *pnUsed){
  const unsigned char *z = p->z;
  long hi, lo;
  if( k+6>iEnd || (hi = hex4(z+k+2))<0 ){
    return parseErr(p, SSOPROXY_PARSE, k, "invalid \\u escape");
  }
  *pnUsed = 6;
  *pc = (unsigned long)hi;
  if( hi>=0xdc00 && hi<=0xdfff ){
    return parseErr(p, SSOPROXY_PARSE, k, "unpaired surrogate in \\u escape");
  }
  if( hi<0xd800 || hi>0xdbff ) return SSOPROXY_OK;
  if( k+12>iEnd || z[k+6]!='\\' || z[k+7]!='u'
   || (lo = hex4(z+k+8))<0xdc00 || lo>0xdfff ){
    return parseErr(p, SSOPROXY_PARSE, k, "unpaired surrogate in \\u escape");
  }
  *pnUsed = 12;
  *pc = 0x10000 + (((unsigned long)hi - 0xd800)<<10)
                + ((unsigned long)lo - 0xdc00);
  return SSOPROXY_OK;
}

/* One escape at z[k]; appends its bytes at zOut[*pj] and advances *pk. */
static int decodeEscape(JsonParse *p, size_t *pk, size_t iEnd,
                        unsigned char *zOut, size_t *pj, uint8_t *pmFlag){
  size_t k = *pk, nUsed = 2;
  unsigned long c = 0;
  int rc;
  switch( p->z[k+1] ){
    case '"':  c = '"';  break;
    case '\\': c = '\\'; break;
    case '/':  c = '/';  break;
    case 'b':  c = '\b'; break;
    case 'f':  c = '\f'; break;
    case 'n':  c = '\n'; break;
    case 'r':  c = '\r'; break;
    case 't':  c = '\t'; break;
    case 'u':
      rc = decodeU(p, k, iEnd, &c, &nUsed);
      if( rc ) return rc;
      if( c==0 ) *pmFlag = 1;
      break;
    default:
      return parseErr(p, SSOPROXY_PARSE, k, "invalid escape in string");
  }
  *pj += utf8Put(zOut + *pj, c);
  *pk = k + nUsed;
  return SSOPROXY_OK;
}

/*
** Offset of the quote that closes the string whose contents start at
** z[iStart], or n if there is none. memchr() finds candidates quickly; a
** quote is the closing one when an even number of backslashes precede
** it. Each byte is looked at a bounded number of times.
*/
static size_t stringEnd(const unsigned char *z, size_t iStart, size_t n){
  size_t i = iStart;
  for(;;){
    const unsigned char *pQ = memchr(z+i, '"', n-i);
    size_t iQ, nBs = 0;
    if( pQ==0 ) return n;
    iQ = (size_t)(pQ - z);
    while( iQ-nBs>iStart && z[iQ-nBs-1]=='\\' ) nBs++;
    if( (nBs & 1)==0 ) return iQ;
    i = iQ + 1;
  }
}

/* 1 for a byte copied as it is: printable ASCII other than backslash. */
#define PLAIN(c) ((unsigned)((c) - 0x20)<0x60 && (c)!='\\')

/*
** Parse the string whose opening quote is at p->i. Its decoded bytes go
** into the arena, NUL-terminated; decoding never makes a string longer,
** so the raw length is enough room. *pbNul is set if it holds U+0000.
*/
static int parseString(JsonParse *p, const char **pz, uint32_t *pn,
                       uint8_t *pbNul){
  const unsigned char *z = p->z;
  size_t k = p->i + 1, j = 0, iEnd = stringEnd(z, p->i + 1, p->n);
  unsigned char *zOut;
  int rc;
  if( iEnd>=p->n ){
    return parseErr(p, SSOPROXY_PARSE, p->n, "unterminated string");
  }
  zOut = ssoArenaAlloc(p->pArena, iEnd - p->i);
  if( zOut==0 ) return nomemErr(p);
  *pbNul = 0;
  while( k<iEnd ){
    unsigned char c;
    size_t iRun = k;
    while( k<iEnd && PLAIN(z[k]) ) k++;
    memcpy(zOut+j, z+iRun, k-iRun);
    j += k-iRun;
    if( k>=iEnd ) break;
    c = z[k];
    if( c=='\\' ){
      rc = decodeEscape(p, &k, iEnd, zOut, &j, pbNul);
      if( rc ) return rc;
    }else if( c<0x20 ){
      return parseErr(p, SSOPROXY_PARSE, k, "control character in string");
    }else{
      size_t nSeq = utf8Seq(z+k, iEnd-k);
      if( nSeq==0 ){
        return parseErr(p, SSOPROXY_PARSE, k, "invalid UTF-8 in string");
      }
      memcpy(zOut+j, z+k, nSeq);
      j += nSeq;
      k += nSeq;
    }
  }
  zOut[j] = 0;
  *pz = (const char*)zOut;
  *pn = (uint32_t)j;
  p->i = iEnd + 1;
  return SSOPROXY_OK;
}

/* -------------------------------------------------------------------- */
/* The parse stack                                                      */

/* Push a new value of type eType found at offset iOfs; it takes the
** pending member name, if any. */
static int pushNode(JsonParse *p, int eType, size_t iOfs, SsoJson **ppNode){
  SsoJson *pNode;
  if( p->nNode>=SSO_JSON_MAX_NODES ){
    return parseErr(p, SSOPROXY_TOOBIG, iOfs, "too many values");
  }
  if( p->nStk>=p->nStkAlloc ){
    size_t nNew = p->nStkAlloc*2;
    SsoJson *aNew;
    if( p->aStk==p->aStkSpace ){
      aNew = ssoMalloc(nNew*sizeof(SsoJson));
      if( aNew ) memcpy(aNew, p->aStk, p->nStk*sizeof(SsoJson));
    }else{
      aNew = ssoRealloc(p->aStk, nNew*sizeof(SsoJson));
    }
    if( aNew==0 ) return nomemErr(p);
    p->aStk = aNew;
    p->nStkAlloc = nNew;
  }
  p->nNode++;
  pNode = &p->aStk[p->nStk++];
  memset(pNode, 0, sizeof(*pNode));
  pNode->eType = (uint8_t)eType;
  pNode->iOfs = (uint32_t)iOfs;
  if( p->zKey ){
    pNode->zKey = p->zKey;
    pNode->nKey = p->nKey;
    pNode->iOfs = p->iKeyOfs;
    pNode->mFlag = p->mKeyFlag;
    p->zKey = 0;
  }
  *ppNode = pNode;
  return SSOPROXY_OK;
}

/* Order of two member names: bytes, then length. */
static int keyCmp(const SsoJson *a, const SsoJson *b){
  uint32_t n = a->nKey < b->nKey ? a->nKey : b->nKey;
  int c = memcmp(a->zKey, b->zKey, n);
  if( c ) return c;
  return (a->nKey > b->nKey) - (a->nKey < b->nKey);
}

/*
** Stable bottom-up merge sort of ap[0..n) by name, using aTmp[0..n).
** Hand-written because qsort() may allocate outside our allocator and
** promises neither stability nor O(n log n) on hostile input.
*/
static void sortByKey(const SsoJson **ap, size_t n, const SsoJson **aTmp){
  const SsoJson **aSrc = ap, **aDst = aTmp, **aSwap;
  size_t w, i;
  for(w=1; w<n; w*=2){
    for(i=0; i<n; i+=2*w){
      size_t iL = i, iMid = i+w<n ? i+w : n, iR = iMid;
      size_t iHi = i+2*w<n ? i+2*w : n, k = i;
      while( iL<iMid && iR<iHi ){
        aDst[k++] = keyCmp(aSrc[iR], aSrc[iL])<0 ? aSrc[iR++] : aSrc[iL++];
      }
      while( iL<iMid ) aDst[k++] = aSrc[iL++];
      while( iR<iHi ) aDst[k++] = aSrc[iR++];
    }
    aSwap = aSrc; aSrc = aDst; aDst = aSwap;
  }
  if( aSrc!=ap ) memcpy(ap, aSrc, n*sizeof(*ap));
}

/*
** Fail if two of the n members at a[] share a name, reporting the first
** repeat in document order. Pairwise for small objects; for large ones a
** stable sort puts equal names side by side in document order, so the
** earliest repeat is the lowest-addressed right-hand side of a pair.
*/
static int checkDup(JsonParse *p, const SsoJson *a, size_t n){
  const SsoJson *pDup = 0;
  size_t i, j;
  if( n<=JSON_DUP_LINEAR ){
    for(j=1; j<n; j++){
      for(i=0; i<j; i++){
        if( keyCmp(a+i, a+j)==0 ) return dupErr(p, a+j);
      }
    }
    return SSOPROXY_OK;
  }
  if( p->nSortAlloc<2*n ){
    const SsoJson **apNew = ssoRealloc(p->apSort, 2*n*sizeof(*apNew));
    if( apNew==0 ) return nomemErr(p);
    p->apSort = apNew;
    p->nSortAlloc = 2*n;
  }
  for(i=0; i<n; i++) p->apSort[i] = a+i;
  sortByKey(p->apSort, n, p->apSort+n);
  for(i=1; i<n; i++){
    const SsoJson *pR = p->apSort[i];
    if( keyCmp(p->apSort[i-1], pR)==0 && (pDup==0 || pR<pDup) ) pDup = pR;
  }
  return pDup ? dupErr(p, pDup) : SSOPROXY_OK;
}

/* Close the innermost container: move its children into the arena. */
static int closeContainer(JsonParse *p){
  uint32_t iFrame = p->aFrame[--p->nDepth];
  SsoJson *pNode = &p->aStk[iFrame];
  size_t nChild = p->nStk - iFrame - 1;
  int rc;
  if( nChild>0 ){
    SsoJson *a;
    if( pNode->eType==SSO_JSON_OBJECT && (p->mFlags & SSO_JSON_NODUP) ){
      rc = checkDup(p, pNode+1, nChild);
      if( rc ) return rc;
    }
    a = ssoArenaAlloc(p->pArena, nChild*sizeof(SsoJson));
    if( a==0 ) return nomemErr(p);
    memcpy(a, pNode+1, nChild*sizeof(SsoJson));
    pNode->u.a = a;
  }
  pNode->n = (uint32_t)nChild;
  p->nStk = iFrame + 1;
  return SSOPROXY_OK;
}

/* -------------------------------------------------------------------- */
/* Grammar                                                              */

/* RFC 8259 §2: the only insignificant whitespace. */
static void skipWs(JsonParse *p){
  while( p->i<p->n ){
    unsigned char c = p->z[p->i];
    if( c!=' ' && c!='\n' && c!='\r' && c!='\t' ) break;
    p->i++;
  }
}

static int isDigit(const JsonParse *p, size_t i){
  return i<p->n && p->z[i]>='0' && p->z[i]<='9';
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int parseNumber(JsonParse *p){
  size_t i0 = p->i, i = p->i;
  SsoJson *pNode;
  const char *zText;
  int rc;
  if( p->z[i]=='-' ) i++;
  if( !isDigit(p, i) ){
    return parseErr(p, SSOPROXY_PARSE, i, "digit expected in number");
  }
  if( p->z[i]=='0' ){
    i++;
    if( isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i0, "leading zero in number");
    }
  }else{
    while( isDigit(p, i) ) i++;
  }
  if( i<p->n && p->z[i]=='.' ){
    i++;
    if( !isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i, "digit expected after '.'");
    }
    while( isDigit(p, i) ) i++;
  }
  if( i<p->n && (p->z[i]=='e' || p->z[i]=='E') ){
    i++;
    if( i<p->n && (p->z[i]=='+' || p->z[i]=='-') ) i++;
    if( !isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i, "digit expected in exponent");
    }
    while( isDigit(p, i) ) i++;
  }
  zText = ssoArenaStrndup(p->pArena, (const char*)p->z + i0, i - i0);
  if( zText==0 ) return nomemErr(p);
  rc = pushNode(p, SSO_JSON_NUMBER, i0, &pNode);
  if( rc ) return rc;
  pNode->u.z = zText;
  pNode->n = (uint32_t)(i - i0);
  p->i = i;
  return SSOPROXY_OK;
}

static int parseLiteral(JsonParse *p){
  static const struct { const char *z; size_t n; int eType; } aLit[] = {
    { "true", 4, SSO_JSON_TRUE },
    { "false", 5, SSO_JSON_FALSE },
    { "null", 4, SSO_JSON_NULL },
  };
  size_t k;
  SsoJson *pNode;
  for(k=0; k<SSO_ARRAYSIZE(aLit); k++){
    if( p->z[p->i]!=(unsigned char)aLit[k].z[0] ) continue;
    if( p->n - p->i < aLit[k].n
     || memcmp(p->z + p->i, aLit[k].z, aLit[k].n)!=0 ){
      break;
    }
    p->i += aLit[k].n;
    return pushNode(p, aLit[k].eType, p->i - aLit[k].n, &pNode);
  }
  return parseErr(p, SSOPROXY_PARSE, p->i, "invalid literal");
}

/* A member name and its colon; the value follows. */
static int parseKey(JsonParse *p){
  int rc;
  size_t iKey;
  uint8_t bNul = 0;
  skipWs(p);
  if( p->i>=p->n ) return unexpectedErr(p);
  if( p->z[p->i]!='"' ){
    return parseErr(p, SSOPROXY_PARSE, p->i, "expected a string key");
  }
  iKey = p->i;
  rc = parseString(p, &p->zKey, &p->nKey, &bNul);
  if( rc ) return rc;
  p->iKeyOfs = (uint32_t)iKey;
  p->mKeyFlag = bNul ? JSONF_KEYNUL : 0;
  skipWs(p);
  if( p->i>=p->n || p->z[p->i]!=':' ){
    if( p->i>=p->n ) return unexpectedErr(p);
    return parseErr(p, SSOPROXY_PARSE, p->i, "expected ':' after key");
  }
  p->i++;
  return SSOPROXY_OK;
}

/* '[' or '{' at p->i. *pbOpen is cleared for an empty container (already
** closed), set when its first element (or first key and ':') comes next. */
static int openContainer(JsonParse *p, int *pbOpen){
  int bObj = p->z[p->i]=='{';
  SsoJson *pNode;
  int rc;
  if( p->nDepth>=SSO_JSON_MAX_DEPTH ){
    return parseErr(p, SSOPROXY_TOOBIG, p->i, "nesting too deep");
  }
  rc = pushNode(p, bObj ? SSO_JSON_OBJECT : SSO_JSON_ARRAY, p->i, &pNode);
  if( rc ) return rc;
  p->aFrame[p->nDepth++] = (uint32_t)(p->nStk - 1);
  p->i++;
  skipWs(p);
  if( p->i<p->n && p->z[p->i]==(bObj ? '}' : ']') ){
    p->i++;
    *pbOpen = 0;
    return closeContainer(p);
  }
  *pbOpen = 1;
  return bObj ? parseKey(p) : SSOPROXY_OK;
}

/* Parse one value at p->i: a whole scalar, or the start of a container. */
static int parseValue(JsonParse *p, int *pbOpen){
  uint8_t bNul = 0;
  SsoJson *pNode;
  int rc;
  *pbOpen = 0;
  skipWs(p);
  if( p->i>=p->n ) return unexpectedErr(p);
  switch( p->z[p->i] ){
    case '{': case '[':
      return openContainer(p, pbOpen);
    case '"': {
      const char *z = 0;
      uint32_t n = 0;
      size_t iOfs = p->i;
      rc = parseString(p, &z, &n, &bNul);
      if( rc ) return rc;
      rc = pushNode(p, SSO_JSON_STRING, iOfs, &pNode);
      if( rc ) return rc;
      pNode->u.z = z;
      pNode->n = n;
      if( bNul ) pNode->mFlag |= JSONF_NUL;
      return SSOPROXY_OK;
    }
    case 't': case 'f': case 'n':
      return parseLiteral(p);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return parseNumber(p);
    default:
      return unexpectedErr(p);
  }
}

/*
** After a complete value: close containers, or find the comma (and, in
** an object, the next key) that leads to the next value. *pbEnd is set
** when the top-level value is complete.
*/
static int afterValue(JsonParse *p, int *pbEnd){
  int rc;
  *pbEnd = 0;
  while( p->nDepth>0 ){
    int bObj = p->aStk[p->aFrame[p->nDepth-1]].eType==SSO_JSON_OBJECT;
    unsigned char cClose = bObj ? '}' : ']';
    skipWs(p);
    if( p->i>=p->n ) return unexpectedErr(p);
    if( p->z[p->i]==',' ){
      size_t iComma = p->i++;
      skipWs(p);
      if( p->i<p->n && p->z[p->i]==cClose ){
        return parseErr(p, SSOPROXY_PARSE, iComma, "trailing comma");
      }
      return bObj ? parseKey(p) : SSOPROXY_OK;
    }
    if( p->z[p->i]!=cClose ){
      if( p->z[p->i]=='/' ) return unexpectedErr(p);
      return parseErr(p, SSOPROXY_PARSE, p->i,
                      bObj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->i++;
    rc = closeContainer(p);
    if( rc ) return rc;
  }
  *pbEnd = 1;
  return SSOPROXY_OK;
}

/* The whole text: one value, then only whitespace (RFC 8259 §2). */
static int parseText(JsonParse *p){
  int rc, bOpen, bEnd;
  if( p->n==0 ) return parseErr(p, SSOPROXY_PARSE, 0, "empty input");
  if( p->n>=3 && memcmp(p->z, "\xef\xbb\xbf", 3)==0 ){
    return parseErr(p, SSOPROXY_PARSE, 0, "byte order mark not allowed");
  }
  for(;;){
    rc = parseValue(p, &bOpen);
    if( rc ) return rc;
    if( bOpen ) continue;
    rc = afterValue(p, &bEnd);
    if( rc ) return rc;
    if( bEnd ) break;
  }
  skipWs(p);
  if( p->i<p->n ){
    if( p->z[p->i]=='/' ) return unexpectedErr(p);
    return parseErr(p, SSOPROXY_PARSE, p->i,
                    "trailing characters after the value");
  }
  return SSOPROXY_OK;
}

static int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr){
  JsonParse sParse, *p = &sParse;   /* ~1.5 KB: fine on any thread stack */
  SsoJsonErr sErr;
  SsoArena arena;
  SsoJsonDoc *pDoc;
  SsoJson *pRoot = 0;
  int rc;
  *ppDoc = 0;
  if( pErr==0 ) pErr = &sErr;
  memset(pErr, 0, sizeof(*pErr));
  memset(p, 0, offsetof(JsonParse, aStkSpace));
  p->z = (const unsigned char*)z;
  p->n = n;
  p->mFlags = mFlags;
  p->pErr = pErr;
  if( n>SSO_JSON_MAX_INPUT ){
    return parseErr(p, SSOPROXY_TOOBIG, 0, "document too large");
  }
  ssoArenaInit(&arena, 0);
  p->pArena = &arena;
  p->aStk = p->aStkSpace;
  p->nStkAlloc = JSON_STACK_INIT;
  pDoc = ssoArenaAlloc(&arena, sizeof(*pDoc));
  rc = pDoc ? parseText(p) : nomemErr(p);
  if( rc==SSOPROXY_OK ){
    assert( p->nStk==1 && p->nDepth==0 );
    pRoot = ssoArenaAlloc(&arena, sizeof(*pRoot));
    if( pRoot==0 ) rc = nomemErr(p);
  }
  if( rc==SSOPROXY_OK ){
    *pRoot = p->aStk[0];
    pDoc->pRoot = pRoot;
    pDoc->arena = arena;      /* after the last allocation */
    *ppDoc = pDoc;
  }else{
    ssoArenaFree(&arena);
  }
  if( p->aStk!=p->aStkSpace ) ssoFree(p->aStk);
  ssoFree(p->apSort);
  return rc;
}

static void ssoJsonFree(SsoJsonDoc *pDoc){
  if( pDoc ){
    SsoArena arena = pDoc->arena;   /* pDoc lives in the arena */
    ssoArenaFree(&arena);
  }
}

static const SsoJson *ssoJsonRoot(const SsoJsonDoc *pDoc){
  return pDoc ? pDoc->pRoot : 0;
}

/* -------------------------------------------------------------------- */
/* Getters                                                              */

static int ssoJsonType(const SsoJson *p){
  return p ? p->eType : SSO_JSON_NONE;
}

static const char *ssoJsonTypeName(int eType){
  static const char *const azName[] = {
    "missing", "null", "false", "true", "number", "string", "array", "object"
  };
  if( eType<0 || eType>=(int)SSO_ARRAYSIZE(azName) ) return "unknown";
  return azName[eType];
}

static size_t ssoJsonOffset(const SsoJson *p){
  return p ? p->iOfs : 0;
}

static size_t ssoJsonCount(const SsoJson *p){
  if( p==0 || (p->eType!=SSO_JSON_ARRAY && p->eType!=SSO_JSON_OBJECT) ){
    return 0;
  }
  return p->n;
}

static const SsoJson *ssoJsonAt(const SsoJson *p, size_t i){
  return i<ssoJsonCount(p) ? &p->u.a[i] : 0;
}

static const char *ssoJsonKey(const SsoJson *p, size_t *pn){
  if( p==0 || p->zKey==0 ) return 0;
  if( pn ){
    *pn = p->nKey;
  }else if( p->mFlag & JSONF_KEYNUL ){
    return 0;
  }
  return p->zKey;
}

static const SsoJson *ssoJsonGetN(const SsoJson *p, const char *zKey,
                                       size_t nKey){
  size_t i;
  if( p==0 || p->eType!=SSO_JSON_OBJECT ) return 0;
  for(i=p->n; i>0; i--){            /* backwards: the last one wins */
    const SsoJson *pM = &p->u.a[i-1];
    if( pM->nKey==nKey && memcmp(pM->zKey, zKey, nKey)==0 ) return pM;
  }
  return 0;
}

static const SsoJson *ssoJsonGet(const SsoJson *p, const char *zKey){
  return zKey ? ssoJsonGetN(p, zKey, strlen(zKey)) : 0;
}

/* One path segment: an array index (decimal, no sign) or a member name. */
static const SsoJson *pathStep(const SsoJson *p, const char *z, size_t n){
  if( ssoJsonType(p)==SSO_JSON_ARRAY ){
    size_t i, iIdx = 0;
    if( n==0 || n>9 ) return 0;
    for(i=0; i<n; i++){
      if( z[i]<'0' || z[i]>'9' ) return 0;
      iIdx = iIdx*10 + (size_t)(z[i]-'0');
    }
    return ssoJsonAt(p, iIdx);
  }
  return ssoJsonGetN(p, z, n);
}

static const SsoJson *ssoJsonGetPath(const SsoJson *p,
                                          const char *zPath){
  const char *z = zPath;
  if( z==0 ) return 0;
  if( z[0]==0 ) return p;
  while( p ){
    const SsoJson *pWhole = ssoJsonGet(p, z);
    const char *zDot;
    if( pWhole ) return pWhole;
    zDot = strchr(z, '.');
    if( zDot==0 ) return pathStep(p, z, strlen(z));
    p = pathStep(p, z, (size_t)(zDot - z));
    z = zDot + 1;
  }
  return 0;
}

static const char *ssoJsonStr(const SsoJson *p, size_t *pn){
  if( p==0 || p->eType!=SSO_JSON_STRING ) return 0;
  if( pn ){
    *pn = p->n;
  }else if( p->mFlag & JSONF_NUL ){
    return 0;
  }
  return p->u.z;
}

static const char *ssoJsonCStr(const SsoJson *p){
  return ssoJsonStr(p, 0);
}

static const char *ssoJsonNumText(const SsoJson *p, size_t *pn){
  if( p==0 || p->eType!=SSO_JSON_NUMBER ) return 0;
  if( pn ) *pn = p->n;
  return p->u.z;
}

static int ssoJsonBool(const SsoJson *p, int *pb){
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_TRUE && p->eType!=SSO_JSON_FALSE ){
    return SSOPROXY_PARSE;
  }
  *pb = p->eType==SSO_JSON_TRUE;
  return SSOPROXY_OK;
}

static int ssoJsonInt64(const SsoJson *p, long long *pi){
  unsigned long long u = 0, uMax;
  size_t i;
  int bNeg;
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_NUMBER ) return SSOPROXY_PARSE;
  bNeg = p->u.z[0]=='-';
  for(i=(size_t)bNeg; i<p->n; i++){
    if( p->u.z[i]<'0' || p->u.z[i]>'9' ) return SSOPROXY_PARSE;
  }
  uMax = bNeg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
  for(i=(size_t)bNeg; i<p->n; i++){
    unsigned d = (unsigned)(p->u.z[i] - '0');
    if( u > (uMax - d)/10 ) return SSOPROXY_TOOBIG;
    u = u*10 + d;
  }
  if( !bNeg ) *pi = (long long)u;
  else if( u==uMax ) *pi = LLONG_MIN;
  else *pi = -(long long)u;
  return SSOPROXY_OK;
}

/*
** Convert the JSON number text z[0..n) to a double, whatever the C locale
** says the decimal point is: the digits are rewritten as an integer
** mantissa and a decimal exponent ("12.5e3" -> "125e2"), which strtod()
** reads identically in every locale and rounds correctly. Only the first
** JSON_DBL_DIGITS significant digits are kept, plus a final '1' standing
** for any non-zero digits dropped: that is enough for correct rounding
** (a double's exact halfway points have at most 767 significant digits).
*/
#define JSON_DBL_DIGITS 800
static int numToDouble(const char *z, size_t n, double *pr){
  char zBuf[JSON_DBL_DIGITS + 32];
  size_t i = 0, nBuf = 0;
  long long nSig = 0, nFrac = 0, nDrop = 0, iExp = 0, iE = 0;
  int bNeg = 0, bFrac = 0, bSticky = 0, bExpNeg = 0;
  double r;
  if( i<n && z[i]=='-' ){ bNeg = 1; i++; }
  for(; i<n; i++){
    char c = z[i];
    if( c=='.' ){ bFrac = 1; continue; }
    if( c<'0' || c>'9' ) break;
    nFrac += bFrac;
    if( nSig==0 && c=='0' ) continue;     /* leading zeros change nothing */
    if( nSig<JSON_DBL_DIGITS ){
      zBuf[nBuf++] = c;
    }else{
      nDrop++;
      if( c!='0' ) bSticky = 1;
    }
    nSig++;
  }
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) bExpNeg = z[i++]=='-';
    for(; i<n && z[i]>='0' && z[i]<='9'; i++){
      if( iE<1000000000000LL ) iE = iE*10 + (z[i]-'0');   /* saturate */
    }
  }
  if( nSig==0 ){
    *pr = bNeg ? -0.0 : 0.0;
    return SSOPROXY_OK;
  }
  if( bSticky ){
    zBuf[nBuf++] = '1';
    nDrop--;
  }
  iExp = (bExpNeg ? -iE : iE) - nFrac + nDrop;
  if( iExp>100000 ) iExp = 100000;          /* far past DBL_MAX / 0 */
  if( iExp<-100000 ) iExp = -100000;
  snprintf(zBuf+nBuf, sizeof(zBuf)-nBuf, "e%lld", iExp);
  r = strtod(zBuf, 0);
  if( r>DBL_MAX ) return SSOPROXY_TOOBIG;
  *pr = bNeg ? -r : r;
  return SSOPROXY_OK;
}

static int ssoJsonDouble(const SsoJson *p, double *pr){
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_NUMBER ) return SSOPROXY_PARSE;
  return numToDouble(p->u.z, p->n, pr);
}

/* -------------------------------------------------------------------- */
/* Writer                                                               */

#define JSONW_OBJECT 0x01   /* This level is an object (else an array) */
#define JSONW_MORE   0x02   /* Something was written: next needs a comma */
#define JSONW_KEY    0x04   /* A name was written; its value is due */

static void wError(SsoJsonWriter *w, int rc){
  if( w->rc==SSOPROXY_OK ) w->rc = rc;
}

static void ssoJsonWriteInit(SsoJsonWriter *w, SsoBuf *pBuf){
  memset(w, 0, sizeof(*w));
  w->pBuf = pBuf;
}

/* Place a value: check it is allowed here, write the comma before it.
** Returns 0 if nothing may be written. */
static int wBeforeValue(SsoJsonWriter *w){
  unsigned char *pLevel;
  if( w->rc ) return 0;
  if( w->nDepth==0 ){
    if( w->bDone ){
      wError(w, SSOPROXY_MISUSE);
      return 0;
    }
    w->bDone = 1;
    return 1;
  }
  pLevel = &w->aLevel[w->nDepth-1];
  if( *pLevel & JSONW_OBJECT ){
    if( (*pLevel & JSONW_KEY)==0 ){
      wError(w, SSOPROXY_MISUSE);
      return 0;
    }
    *pLevel &= (unsigned char)~JSONW_KEY;
    return 1;
  }
  if( *pLevel & JSONW_MORE ) ssoBufAppendChar(w->pBuf, ',');
  *pLevel |= JSONW_MORE;
  return 1;
}

static void wBegin(SsoJsonWriter *w, int bObj){
  if( !wBeforeValue(w) ) return;
  if( w->nDepth>=SSO_JSON_MAX_DEPTH ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  w->aLevel[w->nDepth++] = bObj ? JSONW_OBJECT : 0;
  ssoBufAppendChar(w->pBuf, bObj ? '{' : '[');
}

static void wEnd(SsoJsonWriter *w, int bObj){
  unsigned char m;
  if( w->rc ) return;
  if( w->nDepth==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  m = w->aLevel[w->nDepth-1];
  if( (m & JSONW_OBJECT)!=(bObj ? JSONW_OBJECT : 0) || (m & JSONW_KEY) ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  w->nDepth--;
  ssoBufAppendChar(w->pBuf, bObj ? '}' : ']');
}

static void ssoJsonWriteBeginObject(SsoJsonWriter *w){ wBegin(w, 1); }
static void ssoJsonWriteEndObject(SsoJsonWriter *w){ wEnd(w, 1); }
static void ssoJsonWriteBeginArray(SsoJsonWriter *w){ wBegin(w, 0); }
static void ssoJsonWriteEndArray(SsoJsonWriter *w){ wEnd(w, 0); }

/* A name whose UTF-8 is known to be valid. */
static void wKey(SsoJsonWriter *w, const char *zKey, size_t n){
  unsigned char *pLevel;
  if( w->rc ) return;
  pLevel = w->nDepth ? &w->aLevel[w->nDepth-1] : 0;
  if( pLevel==0 || (*pLevel & JSONW_OBJECT)==0 || (*pLevel & JSONW_KEY) ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( *pLevel & JSONW_MORE ) ssoBufAppendChar(w->pBuf, ',');
  *pLevel |= JSONW_MORE | JSONW_KEY;
  ssoBufAppendJsonString(w->pBuf, zKey, n);
  ssoBufAppendChar(w->pBuf, ':');
}

static void ssoJsonWriteKeyN(SsoJsonWriter *w, const char *zKey,
                                  size_t n){
  if( w->rc ) return;
  if( zKey==0 ){
    wError(w, SSOPROXY_MISUSE);
  }else if( !ssoJsonUtf8Valid(zKey, n) ){
    wError(w, SSOPROXY_PARSE);
  }else{
    wKey(w, zKey, n);
  }
}

static void ssoJsonWriteKey(SsoJsonWriter *w, const char *zKey){
  ssoJsonWriteKeyN(w, zKey, zKey ? strlen(zKey) : 0);
}

static void ssoJsonWriteStringN(SsoJsonWriter *w, const char *z,
                                     size_t n){
  if( w->rc ) return;
  if( z==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( !ssoJsonUtf8Valid(z, n) ){
    wError(w, SSOPROXY_PARSE);
    return;
  }
  if( wBeforeValue(w) ) ssoBufAppendJsonString(w->pBuf, z, n);
}

static void ssoJsonWriteString(SsoJsonWriter *w, const char *z){
  if( z==0 ){
    ssoJsonWriteNull(w);
  }else{
    ssoJsonWriteStringN(w, z, strlen(z));
  }
}

static void ssoJsonWriteRaw(SsoJsonWriter *w, const char *z, size_t n){
  if( wBeforeValue(w) ) ssoBufAppend(w->pBuf, z, n);
}

static void ssoJsonWriteInt64(SsoJsonWriter *w, long long i){
  if( wBeforeValue(w) ) ssoBufPrintf(w->pBuf, "%lld", i);
}

static void ssoJsonWriteBool(SsoJsonWriter *w, int b){
  ssoJsonWriteRaw(w, b ? "true" : "false", b ? 4 : 5);
}

static void ssoJsonWriteNull(SsoJsonWriter *w){
  ssoJsonWriteRaw(w, "null", 4);
}

/*
** printf("%.*g") in the current locale, with whatever it used as the
** decimal point turned back into '.'. The result is a valid RFC 8259
** number for any finite r. Returns its length.
*/
static size_t fmtDouble(char *zOut, size_t nOut, int nDigit, double r){
  char zRaw[64];
  size_t i, j = 0;
  int bPoint = 0;
  snprintf(zRaw, sizeof(zRaw), "%.*g", nDigit, r);
  for(i=0; zRaw[i] && j+1<nOut; i++){
    char c = zRaw[i];
    if( (c>='0' && c<='9') || c=='-' || c=='+' || c=='e' || c=='E' ){
      zOut[j++] = c;
      bPoint = 0;
    }else if( !bPoint ){
      zOut[j++] = '.';
      bPoint = 1;
    }
  }
  zOut[j] = 0;
  return j;
}

static void ssoJsonWriteDouble(SsoJsonWriter *w, double r){
  char z[64];
  const char *zExp;
  size_t n = 0;
  int nDigit;
  if( w->rc ) return;
  if( isnan(r) || isinf(r) ){
    wError(w, SSOPROXY_PARSE);    /* RFC 8259 §6: no NaN, no Infinity */
    return;
  }
  /* The fewest significant digits that read back as exactly r... */
  for(nDigit=1; nDigit<=17; nDigit++){
    double rBack = 0.0;
    n = fmtDouble(z, sizeof(z), nDigit, r);
    if( numToDouble(z, n, &rBack)==SSOPROXY_OK && rBack==r ) break;
  }
  /* ...but whole numbers below 1e17 in full: "100", not "1e+02". */
  zExp = strchr(z, 'e');
  if( zExp && zExp[1]=='+' && atoi(zExp+2)<17 ){
    n = fmtDouble(z, sizeof(z), atoi(zExp+2)+1, r);
  }
  ssoJsonWriteRaw(w, z, n);
}

static void ssoJsonWriteKeyString(SsoJsonWriter *w, const char *zKey,
                                       const char *z){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteString(w, z);
}

static void ssoJsonWriteKeyInt64(SsoJsonWriter *w, const char *zKey,
                                      long long i){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteInt64(w, i);
}

static void ssoJsonWriteKeyBool(SsoJsonWriter *w, const char *zKey,
                                     int b){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteBool(w, b);
}

/*
** A parsed value, recursively. The recursion is bounded: a parsed tree is
** at most SSO_JSON_MAX_DEPTH deep and wBegin() refuses to go deeper.
** Strings and names came through the parser, so their UTF-8 is valid.
*/
static void writeValue(SsoJsonWriter *w, const SsoJson *p){
  uint32_t i;
  if( w->rc ) return;
  switch( p->eType ){
    case SSO_JSON_NULL:   ssoJsonWriteNull(w); break;
    case SSO_JSON_TRUE:   ssoJsonWriteBool(w, 1); break;
    case SSO_JSON_FALSE:  ssoJsonWriteBool(w, 0); break;
    case SSO_JSON_NUMBER: ssoJsonWriteRaw(w, p->u.z, p->n); break;
    case SSO_JSON_STRING:
      if( wBeforeValue(w) ) ssoBufAppendJsonString(w->pBuf, p->u.z, p->n);
      break;
    case SSO_JSON_ARRAY:
      wBegin(w, 0);
      for(i=0; i<p->n; i++) writeValue(w, &p->u.a[i]);
      wEnd(w, 0);
      break;
    case SSO_JSON_OBJECT:
      wBegin(w, 1);
      for(i=0; i<p->n; i++){
        wKey(w, p->u.a[i].zKey, p->u.a[i].nKey);
        writeValue(w, &p->u.a[i]);
      }
      wEnd(w, 1);
      break;
    default:
      wError(w, SSOPROXY_MISUSE);
      break;
  }
}

static void ssoJsonWriteValue(SsoJsonWriter *w, const SsoJson *p){
  if( p==0 ){
    wError(w, SSOPROXY_MISUSE);
  }else{
    writeValue(w, p);
  }
}

static int ssoJsonWriteFinish(SsoJsonWriter *w){
  if( w->rc ) return w->rc;
  if( w->pBuf->rc ) return w->pBuf->rc;
  if( w->nDepth!=0 || !w->bDone ) return SSOPROXY_MISUSE;
  return SSOPROXY_OK;
}

static int ssoJsonToBuf(const SsoJson *pVal, SsoBuf *pBuf){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, pBuf);
  ssoJsonWriteValue(&w, pVal);
  return ssoJsonWriteFinish(&w);
}
/************** End of json.c **************/
/************** Begin file url.c **************/
/* Placeholder: the url module is being written. */
/* #include "ssoInt.h" */
/************** End of url.c **************/
/************** Begin file store.c **************/
/* Placeholder: the store module is being written. */
/* #include "ssoInt.h" */
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
