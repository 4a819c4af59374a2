/******************************************************************************
** This file is the ssoproxy amalgamation, version 0.1.0:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: d99bc45a0fcf873410c49ea4a63e9ff2bcafc058bab11782da95b4d784549f80
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
#define SSO_B64_MAX_INPUT    (16u << 20)/* Characters in one text to decode */

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
** Allocation is a pointer bump, inlined at the call site (a JSON parse
** makes one per container); only a new chunk costs a call.
*/
typedef struct SsoArena SsoArena;
typedef struct SsoArenaChunk SsoArenaChunk;
struct SsoArena {
  char *pFree;            /* Next free byte of the newest chunk */
  size_t nFree;           /* Bytes free at pFree */
  SsoArenaChunk *pChunk;  /* Newest chunk; older ones follow pNext */
  size_t nChunk;          /* Least size of the next chunk to allocate */
  size_t nMax;            /* Total bytes this arena may hold; 0 = no cap */
  size_t nTotal;          /* Bytes allocated from ssoMalloc so far */
};
static void ssoArenaInit(SsoArena*, size_t nMax);
/* Make the next chunk at least nByte, when the caller knows roughly how
** much it will allocate: one chunk instead of a doubling series. */
static void ssoArenaSizeHint(SsoArena*, size_t nByte);
static void *ssoArenaAllocSlow(SsoArena*, size_t n);
static char *ssoArenaStrndup(SsoArena*, const char *z, size_t n);
static void ssoArenaFree(SsoArena*);

/*
** Returns n bytes aligned to 8, valid until ssoArenaFree(), or NULL when
** out of memory or when the arena would exceed its cap. The test is
** written so that n==0 and sizes that overflow when rounded up (nNeed-1
** wraps to SIZE_MAX) take the slow path, which handles them.
*/
static inline void *ssoArenaAlloc(SsoArena *a, size_t n){
  size_t nNeed = (n + 7) & ~(size_t)7;
  if( nNeed-1 < a->nFree ){
    char *p = a->pFree;
    a->pFree += nNeed;
    a->nFree -= nNeed;
    return p;
  }
  return ssoArenaAllocSlow(a, n);
}

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
static void ssoBufAppendSlow(SsoBuf*, const void *p, size_t n);
static void ssoBufAppendStr(SsoBuf*, const char *z);
static void ssoBufPrintf(SsoBuf*, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
static void ssoBufVPrintf(SsoBuf*, const char *zFmt, va_list)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 0)))
#endif
  ;
/* Append z[0..n) as a JSON string literal, quotes included (RFC 8259 §7). */
static void ssoBufAppendJsonString(SsoBuf*, const char *z, size_t n);
/* The same literal written to raw memory: ssoBufJsonStringLen() bytes
** (quotes included) at zOut, which must have room; returns their end. For
** writers that size a whole document first and reserve once. */
static size_t ssoBufJsonStringLen(const char *z, size_t n);
static char *ssoBufJsonStringTo(char *zOut, const char *z, size_t n);
static const char *ssoBufStr(const SsoBuf*);      /* never NULL */
static void ssoBufTruncate(SsoBuf*, size_t n);
/* Hand the content to the caller (who ssoFree()s it); NULL on error. The
** buffer is left empty either way. */
static char *ssoBufFinish(SsoBuf*, size_t *pn);
static void ssoBufFree(SsoBuf*);

/*
** Appends, with the common case inlined: while there is room and no
** error, an append is a copy and a length update. The test is written as
** n < nAlloc - n so that it cannot overflow (nAlloc>n whenever nAlloc>0).
*/
static inline void ssoBufAppend(SsoBuf *p, const void *pData, size_t n){
  if( p->rc==0 && n < p->nAlloc - p->n ){
    if( n ) memcpy(p->z + p->n, pData, n);    /* pData may be NULL if n==0 */
    p->n += n;
    p->z[p->n] = 0;
  }else{
    ssoBufAppendSlow(p, pData, n);
  }
}
static inline void ssoBufAppendChar(SsoBuf *p, char c){
  if( p->rc==0 && 1 < p->nAlloc - p->n ){
    p->z[p->n++] = c;
    p->z[p->n] = 0;
  }else{
    ssoBufAppendSlow(p, &c, 1);
  }
}

/*
** Eight bytes at a time ("SWAR"), for the scanners of JSON strings here
** and in json.c. A word is loaded in little-endian order whatever the
** machine, so that the first byte in memory is the least significant;
** the byte tests used on it (x - 0x01...01 and the like) can give false
** positives only in bytes above a true one, since carries and borrows
** run upwards, so the lowest flagged byte is always exact. memcpy()
** keeps the load legal at any alignment; compilers turn it into one
** load.
*/
#define SSO_ONES  ((uint64_t)0x0101010101010101ULL)
#define SSO_HIGHS (SSO_ONES*0x80)
static inline uint64_t ssoBufLoad64(const unsigned char *z){
  uint64_t x;
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) \
 && __BYTE_ORDER__==__ORDER_LITTLE_ENDIAN__
  memcpy(&x, z, 8);
#else
  x = (uint64_t)z[0] | (uint64_t)z[1]<<8 | (uint64_t)z[2]<<16
    | (uint64_t)z[3]<<24 | (uint64_t)z[4]<<32 | (uint64_t)z[5]<<40
    | (uint64_t)z[6]<<48 | (uint64_t)z[7]<<56;
#endif
  return x;
}
/* Index of the lowest byte of m with its 0x80 bit set. m is non-zero and
** has no other bits. (m & -m)>>7 is 1<<8k; multiplying by 0x0001..07
** puts k in the top byte. Portable, and branch-free unlike a loop. */
static inline size_t ssoBufFirstMarked(uint64_t m){
  return (size_t)((((m & (0 - m)) >> 7) * 0x0001020304050607ULL) >> 56);
}

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
/*
** Layer 1: base64 (RFC 4648 §4) and base64url (RFC 4648 §5), strict.
*/
#ifndef SSO_B64_H
#define SSO_B64_H

/*
** The two alphabets. SSO_B64_STD is "A-Za-z0-9+/" with '=' padding, as
** in PEM, HTTP Basic and most configuration values. SSO_B64_URL is
** "A-Za-z0-9-_" without padding, as JWS/JWT (RFC 7515 §2) and PKCE
** (RFC 7636 §4.2) use it.
*/
#define SSO_B64_STD 0
#define SSO_B64_URL 1

/* Characters that n bytes encode to (no NUL counted). */
static size_t ssoB64EncodedLen(size_t n, int eAlpha);

/*
** Encode p[0..n) into zOut, which must hold ssoB64EncodedLen(n)+1 bytes.
** Writes a NUL after the text; returns the text's length.
*/
static size_t ssoB64EncodeTo(const void *p, size_t n, int eAlpha,
                                  char *zOut);

/* Append the encoding of p[0..n) to a builder (errors are sticky). */
static void ssoB64Encode(SsoBuf*, const void *p, size_t n, int eAlpha);

/* The most bytes n characters can decode to, in either alphabet. */
static size_t ssoB64DecodedMax(size_t n);

/*
** Strict decode of z[0..n) into aOut[0..nOut). Only the canonical
** encoding of some byte string is accepted (RFC 4648 §3.3, §3.5):
** characters outside the alphabet (whitespace and line breaks included,
** and the other alphabet's "+/" or "-_") are rejected, as are padding in
** SSO_B64_URL, missing or misplaced padding in SSO_B64_STD, a length
** that no byte string encodes to, and non-zero unused bits in the last
** character. Hence encode(decode(z)) == z whenever decode succeeds.
**
** Returns SSOPROXY_OK with *pnOut set; SSOPROXY_PARSE with *piErr the
** offset of the first bad byte (n when the input stops too early);
** SSOPROXY_TOOBIG when n exceeds SSO_B64_MAX_INPUT (*piErr is that
** limit) or the result would not fit in nOut (ssoB64DecodedMax(n) always
** fits). aOut may equal z: decoding in place works. piErr may be NULL.
** On error the contents of aOut are unspecified.
*/
static int ssoB64Decode(const char *z, size_t n, int eAlpha,
                             unsigned char *aOut, size_t nOut,
                             size_t *pnOut, size_t *piErr);

/*
** As ssoB64Decode, into a new buffer the caller ssoFree()s. The result
** is followed by a NUL that *pnOut does not count, so decoded text can be
** used as a C string. *ppOut is NULL on any error (SSOPROXY_NOMEM too).
*/
static int ssoB64DecodeAlloc(const char *z, size_t n, int eAlpha,
                                  unsigned char **ppOut, size_t *pnOut,
                                  size_t *piErr);

#endif /* SSO_B64_H */
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
/*
** Layer 1: absolute URLs (RFC 3986), percent-encoding, query strings and
** application/x-www-form-urlencoded bodies.
*/
#ifndef SSO_URL_H
#define SSO_URL_H

/* What the host of a parsed URL is (SsoUrl.eHost). */
#define SSO_URL_HOST_NONE 0   /* No authority, or an empty host */
#define SSO_URL_HOST_NAME 1   /* A reg-name, lower-cased: "idp.example.com" */
#define SSO_URL_HOST_IPV4 2   /* A dotted-quad literal: "127.0.0.1" */
#define SSO_URL_HOST_IPV6 3   /* A bracketed literal; host holds the text
                              ** without brackets, in RFC 5952 form */

/*
** A parsed absolute URL. Every SsoStr points into one arena block and is
** also NUL-terminated, so .z may be used as a C string; absent parts are
** "" with their b-flag clear. Only scheme and host are changed from the
** input (lower-cased; IPv6 written canonically); userinfo, path, query
** and fragment are exactly as written, percent-escapes and all.
*/
typedef struct SsoUrl SsoUrl;
struct SsoUrl {
  SsoStr scheme;          /* Lower-cased, e.g. "https" */
  SsoStr userinfo;        /* Before the '@'; callers normally refuse it */
  SsoStr host;            /* See eHost */
  SsoStr path;            /* "" or starts with '/' when there is an authority */
  SsoStr query;           /* After '?', before '#' */
  SsoStr fragment;        /* After '#' */
  int eHost;              /* SSO_URL_HOST_* */
  int iPort;              /* The explicit port, else the scheme default
                          ** (80 http, 443 https), else 0 */
  unsigned char aAddr[16];/* IPv4 (4 bytes) or IPv6 (16) literal address */
  int bAuthority;         /* "//" followed the scheme */
  int bUserinfo;          /* An '@' was in the authority */
  int bPort;              /* The port was written out */
  int bQuery;             /* A '?' was present (query may still be "") */
  int bFragment;          /* A '#' was present */
};

/*
** Parse the absolute URL z[0..n) (RFC 3986 §3; a scheme is required, so
** relative references such as "//host/x" or "/path" are refused). The
** parts are copied into pArena and live until it is freed.
**
** Strictly refused, with SSOPROXY_PARSE and *piErr at the first bad byte:
** control bytes, space, DEL, backslash, bytes >= 0x80 (callers must
** percent-encode), characters RFC 3986 does not allow in the part they
** are in (e.g. '"' '<' '>' '{' '|' '^' '`', '[' outside an IP literal, a
** second '#' or '@'), '%' not followed by two hex digits, '%' in a host,
** a port that is empty, not all digits, has a leading zero, or is outside
** 1..65535, a missing or empty host for http and https, IPv6 zone ids and
** IPvFuture literals, empty DNS labels ("a..b", a trailing '.'), labels
** over 63 bytes, hosts over 253 bytes, and hosts whose last label is a
** number but that are not a dotted quad ("127.1", "0x7f.1", "2130706433":
** resolvers and browsers read those as IPv4 addresses, so we refuse them
** rather than disagree with them about which machine is meant).
**
** Returns SSOPROXY_OK, SSOPROXY_PARSE, SSOPROXY_TOOBIG (n > SSO_URL_MAX;
** *piErr = SSO_URL_MAX) or SSOPROXY_NOMEM. piErr may be NULL. On error
** every part of *pUrl is "" and every number and flag 0.
*/
static int ssoUrlParse(SsoArena *pArena, const char *z, size_t n,
                            SsoUrl *pUrl, size_t *piErr);

/* 80 for "http", 443 for "https" (lower-case), else 0. */
static int ssoUrlDefaultPort(const char *zScheme, size_t nScheme);

/*
** 1 if the host is a loopback IP literal: 127.0.0.0/8 or [::1]. The name
** "localhost" is not (RFC 8252 §8.3: it may resolve elsewhere), nor are
** IPv4-mapped addresses such as [::ffff:127.0.0.1].
*/
static int ssoUrlIsLoopback(const SsoUrl*);

/*
** Appenders (errors are sticky in the SsoBuf):
**  HostPort: host, bracketed if IPv6, then ":port" unless the port is the
**            scheme's default -- the HTTP Host header (RFC 9110 §7.2).
**  Origin:   scheme "://" HostPort (RFC 6454 §6.2), for CORS and
**            allow-list comparisons. Returns SSOPROXY_PARSE, appending
**            nothing, when the URL has no host.
**  Target:   path (or "/" if empty) and "?query": the origin-form request
**            target (RFC 9112 §3.2.1). Never the fragment.
**  Append:   the whole URL rebuilt from its parts; parsing the result
**            gives the same parts.
*/
static void ssoUrlAppendHostPort(SsoBuf*, const SsoUrl*);
static int ssoUrlAppendOrigin(SsoBuf*, const SsoUrl*);
static void ssoUrlAppendTarget(SsoBuf*, const SsoUrl*);
static void ssoUrlAppend(SsoBuf*, const SsoUrl*);

/*
** Percent-encoding. Flags:
**   SSO_URL_FORM   application/x-www-form-urlencoded (WHATWG URL §5.2):
**                  encoding keeps ALPHA DIGIT "*-._", writes space as '+'
**                  and escapes everything else ('~' too); decoding turns
**                  '+' into space. Without the flag: an RFC 3986 component
**                  (§2.3, §2.1): encoding keeps ALPHA DIGIT "-._~" and
**                  escapes the rest as %XX, upper-case; decoding leaves
**                  '+' alone.
**   SSO_URL_NONUL  decoding refuses a NUL byte (raw or %00), so the result
**                  is a C string with no hidden end.
*/
#define SSO_URL_FORM  0x01
#define SSO_URL_NONUL 0x02
static void ssoUrlEncode(SsoBuf*, const char *z, size_t n,
                              unsigned mFlags);

/*
** Decode z[0..n) into zOut, which holds n+1 bytes (a decoded string is
** never longer) and may be z itself. NUL-terminates; *pnOut is the length.
** Returns SSOPROXY_PARSE with *piErr at the '%' of a bad escape ('%' not
** followed by two hex digits) or at a refused NUL. Other bytes are copied
** as they are: this checks escapes, not the characters around them.
*/
static int ssoUrlDecode(const char *z, size_t n, unsigned mFlags,
                             char *zOut, size_t *pnOut, size_t *piErr);
/* As ssoUrlDecode, into pArena; *pOut is NUL-terminated. */
static int ssoUrlDecodeArena(SsoArena*, const char *z, size_t n,
                                  unsigned mFlags, SsoStr *pOut,
                                  size_t *piErr);

/*
** Query strings and form bodies: "a=1&b=x+y%21" -> ("a","1"), ("b","x y!").
** Names and values are decoded in SSO_URL_FORM mode ('+' is space, which
** is also how RFC 6749 §4.1.2 puts code and state in a redirect's query),
** with NUL refused, and copied NUL-terminated into the arena. Empty pairs
** ("&&", a leading or trailing '&') are skipped; a pair without '=' has
** the value "". Parameters keep their order; duplicates are kept, so
** callers can see them (RFC 6749 §3.1: parameters MUST NOT be sent more
** than once) -- use ssoFormGet(), which reports them.
*/
typedef struct SsoFormParam SsoFormParam;
struct SsoFormParam {
  SsoStr name;
  SsoStr value;
};
typedef struct SsoForm SsoForm;
struct SsoForm {
  SsoFormParam *aParam;   /* In pArena; NULL when nParam is 0 */
  int nParam;
};

/*
** Returns SSOPROXY_OK; SSOPROXY_PARSE (bad escape or NUL, *piErr is its
** offset in z); SSOPROXY_TOOBIG beyond SSO_FORM_MAX_PARAMS pairs (*piErr
** is where the first pair too many starts); SSOPROXY_NOMEM. On error
** *pForm is empty. piErr may be NULL.
*/
static int ssoFormParse(SsoArena*, const char *z, size_t n,
                             SsoForm *pForm, size_t *piErr);

/* How many parameters are named exactly zName (case-sensitive). */
static int ssoFormCount(const SsoForm*, const char *zName);

/*
** The value of the one parameter named zName: SSOPROXY_OK and *pValue;
** SSOPROXY_NOTFOUND if absent; SSOPROXY_CONSTRAINT if given more than
** once (RFC 6749 §3.1). *pValue is "" unless the result is SSOPROXY_OK.
** pValue may be NULL.
*/
static int ssoFormGet(const SsoForm*, const char *zName,
                           SsoStr *pValue);

/* Index of the first parameter whose name appeared before it, or -1. */
static int ssoFormFirstDuplicate(const SsoForm*);

/*
** Append nPair name/value pairs, azPair = {name0, value0, name1, ...},
** form-encoded as "name=value" joined by '&'. A pair whose value is NULL
** is left out (handy for optional parameters). A '&' is written before
** each pair unless the builder is empty or ends in '?' or '&', so the
** same call continues a query or a body.
*/
static void ssoFormAppend(SsoBuf*, const char *const *azPair,
                               int nPair);

/*
** Append the URL zUrl[0..nUrl) with the pairs added to its query: '?' if
** it has none, else '&' after what is there; the pairs go before any
** "#fragment", which is kept if bKeepFragment and otherwise refused with
** SSOPROXY_PARSE (an OAuth redirect_uri MUST NOT have one, RFC 6749
** §3.1.2), nothing appended. zUrl should have passed ssoUrlParse():
** only the first '#' and the first '?' before it are looked for. Returns
** the builder's rc otherwise.
*/
static int ssoUrlAppendQuery(SsoBuf*, const char *zUrl, size_t nUrl,
                                  const char *const *azPair, int nPair,
                                  int bKeepFragment);

#endif /* SSO_URL_H */
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
/*
** Layer 5: settings. One table (the X-macro below) names every setting,
** its aliases, type, default, limits and help; the enum, the validation,
** `ssoproxy config`, --help and the README's table all come from it.
*/
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H

/* Setting types */
#define SSO_SET_STR    0    /* Any text */
#define SSO_SET_INT    1    /* Decimal integer in [iMin, iMax] */
#define SSO_SET_BOOL   2    /* true/false, 1/0, yes/no, on/off */
#define SSO_SET_ENUM   3    /* One of the '|'-separated words in zEnum */
#define SSO_SET_ADDR   4    /* host:port, [v6]:port; port 0..65535 */

/*
** X(id, name, alias, type, default, min, max, enum, secret, help)
** Add new settings at the end of their group; never rename a name
** (DESIGN.md: names users rely on).
*/
#define SSO_SETTINGS(X) \
  X(LISTEN, "SSOPROXY_LISTEN", 0, SSO_SET_ADDR, "127.0.0.1:4000", 0, 0, 0, 0, \
    "Address to listen on, host:port ([::1]:4000 for IPv6, port 0 = any)") \
  X(DB, "SSOPROXY_DB", 0, SSO_SET_STR, "ssoproxy.db", 0, 0, 0, 0, \
    "SQLite database file (created and migrated at start)") \
  X(MASTER_KEY, "LITELLM_MASTER_KEY", "SSOPROXY_MASTER_KEY", SSO_SET_STR, 0, \
    0, 0, 0, 1, "Admin credential (acts as proxy_admin); unset = none") \
  X(WORKERS, "SSOPROXY_WORKERS", 0, SSO_SET_INT, "0", 0, 256, 0, 0, \
    "Event-loop threads; 0 = one per processor") \
  X(LOG_FORMAT, "SSOPROXY_LOG_FORMAT", 0, SSO_SET_ENUM, "logfmt", 0, 0, \
    "logfmt|json", 0, "Log line format") \
  X(LOG_LEVEL, "SSOPROXY_LOG_LEVEL", 0, SSO_SET_ENUM, "info", 0, 0, \
    "debug|info|warn|error|off", 0, "Lowest level logged")

#define SSO_SETTING_ENUM(id, ...) SSO_CFG_##id,
enum { SSO_SETTINGS(SSO_SETTING_ENUM) SSO_CFG_COUNT };

/* Where a value came from. */
#define SSO_SRC_DEFAULT 0
#define SSO_SRC_FILE    1
#define SSO_SRC_ENV     2
#define SSO_SRC_API     3   /* ssoproxy_config_set() */
#define SSO_SRC_FLAG    4   /* a command-line option */

static int ssoConfigSet(ssoproxy_config*, const char *zName,
                             const char *zValue, int eSrc, const char *zWhere);
/* The value of setting iSet (its default if unset); NULL when unset with
** no default. Valid until the setting changes or the config is freed. */
static const char *ssoConfigStr(const ssoproxy_config*, int iSet);
static long long ssoConfigInt(const ssoproxy_config*, int iSet);
static int ssoConfigBool(const ssoproxy_config*, int iSet);
static int ssoConfigCopy(const ssoproxy_config*, ssoproxy_config **pp);
/* The effective configuration, secrets masked, one "NAME=value  # source"
** line per setting, into b. */
static void ssoConfigDump(const ssoproxy_config*, SsoBuf *b);
/* Help lines for every setting, for --help. */
static void ssoConfigHelp(SsoBuf *b);

#endif /* SSO_CONFIG_H */
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
};
#define ARENA_ALIGN 8
#define ARENA_FIRST 1024          /* First chunk, without a size hint */
#define ARENA_GROW_MAX (1u<<20)   /* Growth step beyond which chunks stop
                                  ** doubling: bounds the unused tail */

static void ssoArenaInit(SsoArena *a, size_t nMax){
  memset(a, 0, sizeof(*a));
  a->nChunk = ARENA_FIRST;
  a->nMax = nMax;
}

static void ssoArenaSizeHint(SsoArena *a, size_t nByte){
  nByte = (nByte + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if( nByte>a->nChunk ) a->nChunk = nByte;
}

/*
** The slow path of ssoArenaAlloc(): start a new chunk. Each new chunk is
** at least as large as everything allocated so far (up to
** ARENA_GROW_MAX), so a document of N bytes costs O(log N) allocations
** and at most about half of the memory is ever unused. The unused tail of
** the previous chunk is abandoned: keeping a list of holes would cost
** more than it saves for objects that all die together.
*/
static void *ssoArenaAllocSlow(SsoArena *a, size_t n){
  size_t nNeed = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  size_t nSize = a->nChunk;
  SsoArenaChunk *c;
  char *pRet;
  if( nNeed<n ) return 0;
  if( nNeed<=a->nFree ){            /* n==0, with room: not a new chunk */
    pRet = a->pFree;
    a->pFree += nNeed;
    a->nFree -= nNeed;
    return pRet;
  }
  if( nSize<nNeed ) nSize = nNeed;
  if( nSize>SSO_MAX_ALLOC ) return 0;     /* and the header cannot wrap */
  if( a->nMax && a->nTotal + nSize > a->nMax ){
    if( a->nTotal + nNeed > a->nMax ) return 0;
    nSize = nNeed;
  }
  c = ssoMalloc(sizeof(SsoArenaChunk) + nSize);
  if( c==0 ) return 0;
  c->nSize = nSize;
  c->pNext = a->pChunk;
  a->pChunk = c;
  a->nTotal += nSize;
  a->nChunk = a->nTotal<ARENA_GROW_MAX ? a->nTotal : ARENA_GROW_MAX;
  if( a->nChunk<ARENA_FIRST ) a->nChunk = ARENA_FIRST;
  pRet = (char*)(c+1);
  a->pFree = pRet + nNeed;
  a->nFree = nSize - nNeed;
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
  size_t nMax = a->nMax;
  while( c ){
    SsoArenaChunk *pNext = c->pNext;
    ssoFree(c);
    c = pNext;
  }
  ssoArenaInit(a, nMax);
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

/* The out-of-line part of ssoBufAppend() and ssoBufAppendChar() (buf.h):
** grow first, or do nothing after an error. */
static void ssoBufAppendSlow(SsoBuf *p, const void *pData, size_t n){
  if( ssoBufReserve(p, n) ) return;
  if( n ) memcpy(p->z + p->n, pData, n);
  p->n += n;
  p->z[p->n] = 0;
}

static void ssoBufAppendStr(SsoBuf *p, const char *z){
  ssoBufAppend(p, z, strlen(z));
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
**
** aJsonEsc[c] is 0 for a byte copied as it is, else the letter after the
** backslash ('u' for the \u00XX form).
*/
static const unsigned char aJsonEsc[256] = {
  'u','u','u','u','u','u','u','u','b','t','n','u','f','r','u','u',
  'u','u','u','u','u','u','u','u','u','u','u','u','u','u','u','u',
  0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'u',
  /* 0x80..0xff: all 0 */
};

/*
** Flags the bytes of the word x that must be escaped: below 0x20, or
** '"', '\\' or DEL (x^c is then 0, and 0-1 sets the top bit); "& ~x"
** drops the bytes >= 0x80, which are copied as they are.
*/
static uint64_t jsonEscMask(uint64_t x){
  return ((x - SSO_ONES*0x20)
        | ((x ^ SSO_ONES*'"') - SSO_ONES)
        | ((x ^ SSO_ONES*'\\') - SSO_ONES)
        | ((x ^ SSO_ONES*0x7f) - SSO_ONES)) & ~x & SSO_HIGHS;
}

/*
** Offset of the first byte at or after z[i] that must be escaped, or n;
** eight bytes at a time. The last 1..7 bytes of a string of 8 or more
** are one more word, the one that ends at z[n], in which the bytes
** before z[i] (already seen) are first replaced by a harmless 'a':
** masking their flags afterwards would not do, as a flagged byte there
** can leak a false flag upwards into the bytes that count. A shorter
** string is looked at byte by byte.
*/
static size_t jsonPlainEnd(const unsigned char *z, size_t i, size_t n){
  uint64_t m;
  while( n-i>=8 ){
    m = jsonEscMask(ssoBufLoad64(z+i));
    if( m ) return i + ssoBufFirstMarked(m);
    i += 8;
  }
  if( i==n ) return n;
  if( n>=8 ){
    uint64_t mKeep = ~(uint64_t)0 << 8*(i-(n-8));
    m = jsonEscMask((ssoBufLoad64(z+n-8) & mKeep) | (SSO_ONES*'a' & ~mKeep));
    return m ? n-8 + ssoBufFirstMarked(m) : n;
  }
  while( i<n && aJsonEsc[z[i]]==0 ) i++;
  return i;
}

/* Write the escape for byte c (aJsonEsc[c]!=0) at z; returns its length. */
static size_t jsonEscape(char *z, unsigned char c){
  static const char hex[] = "0123456789abcdef";
  z[0] = '\\';
  z[1] = (char)aJsonEsc[c];
  if( z[1]!='u' ) return 2;
  z[2] = '0';
  z[3] = '0';
  z[4] = hex[c>>4];
  z[5] = hex[c&0xf];
  return 6;
}

static size_t ssoBufJsonStringLen(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0, nOut = n + 2;
  while( (i = jsonPlainEnd(z, i, n))<n ){
    nOut += aJsonEsc[z[i]]=='u' ? 5 : 1;
    i++;
  }
  return nOut;
}

static char *ssoBufJsonStringTo(char *zOut, const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0, iRun;
  *zOut++ = '"';
  for(;;){
    iRun = i;
    i = jsonPlainEnd(z, i, n);
    if( i>iRun ) memcpy(zOut, z+iRun, i-iRun);   /* z may be NULL if n==0 */
    zOut += i-iRun;
    if( i>=n ) break;
    zOut += jsonEscape(zOut, z[i++]);
  }
  *zOut++ = '"';
  return zOut;
}

/*
** One pass: room for the string as it is is reserved up front (most
** strings need no escape); each escape then checks for the room that the
** escape and the rest, unescaped, need, so the reservation never exceeds
** the final length and mxAlloc means the same as for plain appends.
*/
static void ssoBufAppendJsonString(SsoBuf *p, const char *zIn,
                                        size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0, iRun, nNeed;
  char *zOut;
  if( n>SIZE_MAX/2 ){
    if( p->rc==SSOPROXY_OK ) p->rc = SSOPROXY_TOOBIG;
    return;
  }
  if( (p->rc || n+2 >= p->nAlloc - p->n) && ssoBufReserve(p, n+2) ) return;
  zOut = p->z + p->n;
  *zOut++ = '"';
  for(;;){
    iRun = i;
    i = jsonPlainEnd(z, i, n);
    if( i>iRun ) memcpy(zOut, z+iRun, i-iRun);   /* z may be NULL if n==0 */
    zOut += i-iRun;
    if( i>=n ) break;
    /* Room left after zOut, less the NUL, against escape + rest + '"'. */
    nNeed = (aJsonEsc[z[i]]=='u' ? 6 : 2) + (n-i-1) + 1;
    if( (size_t)(p->z + p->nAlloc - 1 - zOut) < nNeed ){
      p->n = (size_t)(zOut - p->z);
      if( ssoBufReserve(p, nNeed) ) return;
      zOut = p->z + p->n;
    }
    zOut += jsonEscape(zOut, z[i++]);
  }
  *zOut++ = '"';
  *zOut = 0;
  p->n = (size_t)(zOut - p->z);
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
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: base64 and base64url (RFC 4648), used by JWS/JWT (jose),
** PKCE challenges, API keys, cookies and HTTP Basic credentials.
**
** Decoding is strict on purpose. A JWS signature covers the encoded
** text, so two spellings of the same bytes must not both be accepted, and
** a lenient decoder (skipping whitespace, ignoring padding or the unused
** bits of the last character) lets an attacker make many distinct tokens
** that mean one thing. We accept exactly the canonical encoding: then
** encode(decode(x)) == x for every accepted x, which the fuzz target
** checks.
**
** Both directions are driven by tables. The decoder looks each character
** up once and tests four lookups with one branch per group of four; only
** the last group (or a bad one) takes the slow path that finds the exact
** offset of the problem.
*/
/* #include "ssoInt.h" */

static const char zStdAlpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char zUrlAlpha[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
** Decoding tables: 0..63 is the value of a character of the alphabet, PD
** is the padding character of the standard alphabet, XX anything else.
** Both PD and XX have a bit in 0xC0 set, so OR-ing four lookups and
** testing 0xC0 tells whether a group is plain data.
*/
#define XX 0xff
#define PD 0x40
/* RFC 4648 §4 alphabet; '=' is PAD */
static const unsigned char aDecStd[256] = {
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 00 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 10 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,62,XX,XX,XX,63,  /* 20 */
  52,53,54,55,56,57,58,59,60,61,XX,XX,XX,PD,XX,XX,  /* 30 */
  XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,  /* 40 */
  15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,XX,  /* 50 */
  XX,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,  /* 60 */
  41,42,43,44,45,46,47,48,49,50,51,XX,XX,XX,XX,XX,  /* 70 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 80 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 90 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* a0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* b0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* c0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* d0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* e0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* f0 */
};
/* RFC 4648 §5 alphabet; no padding */
static const unsigned char aDecUrl[256] = {
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 00 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 10 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,62,XX,XX,  /* 20 */
  52,53,54,55,56,57,58,59,60,61,XX,XX,XX,XX,XX,XX,  /* 30 */
  XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,  /* 40 */
  15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,63,  /* 50 */
  XX,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,  /* 60 */
  41,42,43,44,45,46,47,48,49,50,51,XX,XX,XX,XX,XX,  /* 70 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 80 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 90 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* a0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* b0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* c0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* d0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* e0 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* f0 */
};
#undef XX
#undef PD
#define B64_PAD 0x40        /* PD, for the code below */

static size_t ssoB64EncodedLen(size_t n, int eAlpha){
  size_t nRem = n%3;
  assert( n/3 <= SIZE_MAX/4 - 1 );
  if( nRem==0 ) return n/3*4;
  return n/3*4 + (eAlpha==SSO_B64_URL ? nRem+1 : 4);
}

static size_t ssoB64EncodeTo(const void *p, size_t n, int eAlpha,
                                  char *zOut){
  const unsigned char *a = p;
  const char *zAlpha = eAlpha==SSO_B64_URL ? zUrlAlpha : zStdAlpha;
  size_t i, o = 0;
  for(i=0; i+3<=n; i+=3){
    unsigned v = ((unsigned)a[i]<<16) | ((unsigned)a[i+1]<<8) | a[i+2];
    zOut[o]   = zAlpha[v>>18];
    zOut[o+1] = zAlpha[(v>>12) & 0x3f];
    zOut[o+2] = zAlpha[(v>>6) & 0x3f];
    zOut[o+3] = zAlpha[v & 0x3f];
    o += 4;
  }
  if( i<n ){
    /* One or two bytes left: 2 or 3 characters, then padding (§4). */
    unsigned v = (unsigned)a[i]<<16;
    if( i+1<n ) v |= (unsigned)a[i+1]<<8;
    zOut[o++] = zAlpha[v>>18];
    zOut[o++] = zAlpha[(v>>12) & 0x3f];
    if( i+1<n ) zOut[o++] = zAlpha[(v>>6) & 0x3f];
    if( eAlpha!=SSO_B64_URL ){
      while( o%4 ) zOut[o++] = '=';
    }
  }
  zOut[o] = 0;
  return o;
}

static void ssoB64Encode(SsoBuf *pBuf, const void *p, size_t n,
                              int eAlpha){
  size_t nText;
  if( pBuf->rc ) return;
  if( n>SSO_MAX_ALLOC ){
    pBuf->rc = SSOPROXY_TOOBIG;
    return;
  }
  nText = ssoB64EncodedLen(n, eAlpha);
  if( ssoBufReserve(pBuf, nText) ) return;
  pBuf->n += ssoB64EncodeTo(p, n, eAlpha, pBuf->z + pBuf->n);
}

static size_t ssoB64DecodedMax(size_t n){
  return n/4*3 + (n%4>1 ? n%4-1 : 0);
}

/*
** The exact decoded length if z[0..n) is valid (anything when it is not:
** the decoder then fails before writing past it).
*/
static size_t decodedLen(const char *z, size_t n, int eAlpha){
  size_t nOut = ssoB64DecodedMax(n);
  if( eAlpha!=SSO_B64_URL && n>=4 && n%4==0 ){
    if( z[n-1]=='=' ) nOut--;
    if( z[n-1]=='=' && z[n-2]=='=' ) nOut--;
  }
  return nOut;
}

/*
** The slow path: the group at a[i..] is the last one, or holds padding or
** a bad character. Decodes it into aOut[*pO..] or sets *piBad.
*/
static int decodeTail(const unsigned char *a, size_t n, size_t i,
                      const unsigned char *aDec, unsigned char *aOut,
                      size_t *pO, size_t *piBad){
  size_t nRest = n - i, nGroup = nRest<4 ? nRest : 4, nData = 0;
  unsigned v[4] = {0, 0, 0, 0};
  while( nData<nGroup && (v[nData] = aDec[a[i+nData]])<B64_PAD ) nData++;
  if( nData<nGroup ){
    /* a[i+nData] is not data: padding is the only thing allowed. */
    size_t j = i + nData;
    if( v[nData]!=B64_PAD || nData<2 ){ *piBad = j; return SSOPROXY_PARSE; }
    if( nData==2 && nRest>=4 && a[i+3]!='=' ){
      *piBad = i+3; return SSOPROXY_PARSE;
    }
    if( nRest<4 ){ *piBad = n; return SSOPROXY_PARSE; }
    if( nRest>4 ){ *piBad = i+4; return SSOPROXY_PARSE; }
  }else if( nData>0 && aDec!=aDecUrl ){
    /* A short final group without the padding §3.2 requires. */
    *piBad = n; return SSOPROXY_PARSE;
  }
  if( nData==0 ) return SSOPROXY_OK;
  if( nData==1 ){ *piBad = n; return SSOPROXY_PARSE; }
  assert( nData<4 );
  /* §3.5: the bits of the last character that carry no data must be 0,
  ** or many texts would decode to the same bytes. */
  if( nData==2 && (v[1] & 0x0f) ){ *piBad = i+1; return SSOPROXY_PARSE; }
  if( nData==3 && (v[2] & 0x03) ){ *piBad = i+2; return SSOPROXY_PARSE; }
  aOut[(*pO)++] = (unsigned char)((v[0]<<2) | (v[1]>>4));
  if( nData==3 ) aOut[(*pO)++] = (unsigned char)((v[1]<<4) | (v[2]>>2));
  return SSOPROXY_OK;
}

static int ssoB64Decode(const char *z, size_t n, int eAlpha,
                             unsigned char *aOut, size_t nOut,
                             size_t *pnOut, size_t *piErr){
  const unsigned char *a = (const unsigned char*)z;
  const unsigned char *aDec = eAlpha==SSO_B64_URL ? aDecUrl : aDecStd;
  size_t i, o = 0, iBad = 0, nFull;
  int rc;
  *pnOut = 0;
  if( n>SSO_B64_MAX_INPUT ){
    iBad = SSO_B64_MAX_INPUT;
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  if( decodedLen(z, n, eAlpha)>nOut ){
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  /* The fast path: whole groups of four data characters. All four are
  ** read before the three bytes are written, so aOut may alias z. */
  nFull = n & ~(size_t)3;
  for(i=0; i<nFull; i+=4){
    unsigned v0 = aDec[a[i]], v1 = aDec[a[i+1]];
    unsigned v2 = aDec[a[i+2]], v3 = aDec[a[i+3]];
    if( (v0|v1|v2|v3) & 0xC0 ) break;
    aOut[o]   = (unsigned char)((v0<<2) | (v1>>4));
    aOut[o+1] = (unsigned char)((v1<<4) | (v2>>2));
    aOut[o+2] = (unsigned char)((v2<<6) | v3);
    o += 3;
  }
  rc = decodeTail(a, n, i, aDec, aOut, &o, &iBad);
  if( rc==SSOPROXY_OK ) *pnOut = o;
end:
  if( rc && piErr ) *piErr = iBad;
  return rc;
}

static int ssoB64DecodeAlloc(const char *z, size_t n, int eAlpha,
                                  unsigned char **ppOut, size_t *pnOut,
                                  size_t *piErr){
  unsigned char *a = 0;
  size_t nMax;
  int rc;
  *ppOut = 0;
  *pnOut = 0;
  if( n>SSO_B64_MAX_INPUT ){
    if( piErr ) *piErr = SSO_B64_MAX_INPUT;
    return SSOPROXY_TOOBIG;
  }
  nMax = ssoB64DecodedMax(n);
  a = ssoMalloc(nMax+1);
  if( a==0 ) return SSOPROXY_NOMEM;
  rc = ssoB64Decode(z, n, eAlpha, a, nMax, pnOut, piErr);
  if( rc ){
    ssoFree(a);
    return rc;
  }
  a[*pnOut] = 0;
  *ppOut = a;
  return SSOPROXY_OK;
}

#undef B64_PAD
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
** itself is one growing block (it starts on the C stack). Strings and
** number texts are decoded into one string block sized from the input
** (see ssoJsonParse()) and NUL-terminated; a string holding U+0000 is
** flagged so callers that need a C string can refuse it, and one with
** nothing the writer must escape is flagged so it can be copied out as it
** is. The whole tree is freed with the arena in one call.
**
** Speed matters as much as strictness here (this is every request and
** response), so the hot paths are written for it: strings are scanned
** eight bytes at a time, copied, decoded and validated in one pass; the
** first arena chunk holds the whole document in the common case, so a
** parse is one allocation; node and value dispatch stay in one loop.
** bench/RESULTS.md compares it with SQLite's JSON functions.
**
** The writer emits compact JSON into an SsoBuf and keeps track of commas
** and nesting itself, so callers cannot produce a malformed document. A
** parsed tree is written by measuring it first and reserving once.
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
#define JSONF_NUL      0x01  /* The string value holds U+0000 */
#define JSONF_PLAIN    0x02  /* ...and has no byte the writer must escape */
#define JSONF_KEYSHIFT 2     /* The same two bits for the member name: */
#define JSONF_KEYNUL   (JSONF_NUL<<JSONF_KEYSHIFT)
#define JSONF_KEYPLAIN (JSONF_PLAIN<<JSONF_KEYSHIFT)

/* A document: the arena lives inside itself (in its first chunk). */
struct SsoJsonDoc {
  SsoArena arena;       /* Every node and string of this document */
  const SsoJson *pRoot; /* The top-level value */
};

/* Up to this many members, duplicate names are found by comparing every
** pair; above it, with a hash table or by sorting (see checkDup()). */
#define JSON_DUP_LINEAR 8
/* Nodes of parse stack held on the C stack before moving to the heap. */
#define JSON_STACK_INIT 32

/* Keep a rarely used function out of its caller, so that the caller
** stays small (a hint: without it the code is only a little slower). */
#if defined(__GNUC__)
# define JSON_NOINLINE __attribute__((noinline))
#else
# define JSON_NOINLINE
#endif

/* Parser state; lives on the C stack for the duration of ssoJsonParse(). */
typedef struct JsonParse JsonParse;
struct JsonParse {
  const unsigned char *z;   /* Input */
  size_t n;                 /* Bytes of input */
  size_t i;                 /* Where an error without its own offset is */
  unsigned mFlags;          /* SSO_JSON_NODUP ... */
  SsoJsonErr *pErr;         /* Where failures are described; never NULL */
  SsoArena *pArena;         /* The document's arena */
  SsoJson *aStk;            /* Open containers and their children so far */
  size_t nStk;              /* Nodes in use at aStk */
  size_t nStkAlloc;         /* Nodes allocated at aStk */
  size_t nNode;             /* Values parsed so far */
  const SsoJson **apSort;   /* Scratch for the duplicate-name check */
  size_t nSortAlloc;        /* Entries allocated at apSort */
  unsigned char *zOut;      /* Free space in the string block */
  int nDepth;               /* Containers open */
  uint32_t aFrame[SSO_JSON_MAX_DEPTH];  /* Of each open container: its aStk
                                        ** index <<1, | 1 for an object */
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

/* ASCII is checked 8 bytes at a time. */
static int ssoJsonUtf8Valid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    size_t nSeq;
    if( n-i>=8 && (ssoBufLoad64(z+i) & SSO_HIGHS)==0 ){   /* ASCII word */
      i += 8;
      continue;
    }
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
** Offset of the quote that closes the string whose contents start at
** z[iStart], or n if there is none: the first quote preceded by an even
** number of backslashes. Used only to word an error (see strErr()).
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

/*
** Report a problem found at z[k] in the string whose opening quote is at
** z[iQuote]. A string with no closing quote is reported as unterminated
** whatever else is wrong inside it, so the message names the real
** mistake (a missing quote usually swallows the rest of the document).
** Returns 0, the "no position" of parseString().
*/
static size_t strErr(JsonParse *p, size_t iQuote, size_t k, const char *zMsg){
  if( stringEnd(p->z, iQuote+1, p->n)>=p->n ){
    parseErr(p, SSOPROXY_PARSE, p->n, "unterminated string");
  }else{
    parseErr(p, SSOPROXY_PARSE, k, zMsg);
  }
  return 0;
}

/*
** Decode the \u escape at z[k] (z[k]=='\\', z[k+1]=='u') into zOut.
** A high surrogate must be followed at once by an escaped low one (RFC
** 8259 §7); the pair is one code point. Returns the offset after the
** escape, or 0 after an error. The closing quote of the string is never
** a hex digit, a backslash or a 'u', so reading up to the end of the
** input, not of the string, finds the same errors.
*/
static size_t decodeU(JsonParse *p, size_t iQuote, size_t k,
                      unsigned char **pzOut, uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n;
  long hi, lo;
  unsigned long c;
  if( n-k<6 || (hi = hex4(z+k+2))<0 ){
    return strErr(p, iQuote, k, "invalid \\u escape");
  }
  c = (unsigned long)hi;
  if( hi>=0xdc00 && hi<=0xdfff ){
    return strErr(p, iQuote, k, "unpaired surrogate in \\u escape");
  }
  if( hi>=0xd800 && hi<=0xdbff ){
    if( n-k<12 || z[k+6]!='\\' || z[k+7]!='u'
     || (lo = hex4(z+k+8))<0xdc00 || lo>0xdfff ){
      return strErr(p, iQuote, k, "unpaired surrogate in \\u escape");
    }
    c = 0x10000 + (((unsigned long)hi - 0xd800)<<10)
                + ((unsigned long)lo - 0xdc00);
    k += 6;
  }
  if( c==0 ) *pmFlag |= JSONF_NUL;
  *pzOut += utf8Put(*pzOut, c);
  return k + 6;
}

/* The byte each one-letter escape stands for (RFC 8259 §7); 0 if none. */
static const unsigned char aUnescape[128] = {
  ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
  ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

/*
** Flags, in each byte of the word x, the bytes that end a run of bytes
** copied as they are: '"', '\\', controls below 0x20, DEL and everything
** from 0x80 (UTF-8, checked one sequence at a time). For a byte b:
**   b - 0x20 sets the top bit for b < 0x20 (it wraps) and b >= 0xa0;
**   b + 1 sets it for 0x7f ... 0x9f (and keeps it for the rest);
**   (b ^ '"') - 1 sets it for b == '"' and for most b >= 0x80, which are
**   flagged anyway; the same for '\\'.
** Carries and borrows leak only upwards from a flagged byte, so the
** lowest flag is exact (see ssoBufLoad64()).
*/
static uint64_t strStops(uint64_t x){
  return ((x - SSO_ONES*0x20) | (x + SSO_ONES)
        | ((x ^ SSO_ONES*'"') - SSO_ONES)
        | ((x ^ SSO_ONES*'\\') - SSO_ONES)) & SSO_HIGHS;
}

/*
** Strings are parsed in one pass: copy, decode escapes, validate UTF-8,
** find the closing quote. The decoded bytes go to the document's string
** block at p->zOut, NUL-terminated. Runs of ordinary ASCII are found 8
** bytes at a time; each word is stored before it is looked at, and the
** bytes after a stop are simply rewritten later. Writing 8 bytes is safe
** because decoding never makes text longer: the output so far is shorter
** than the input so far (see ssoJsonParse()), so out + 8 <= in + 8 <= n.
**
** parseString() is the common case, a string with nothing to decode,
** kept small so that it needs few registers; at the first escape,
** non-ASCII byte or control byte, or near the end of the input, it hands
** over to parseStringRest(), which does everything.
*/

/* The string ends at z[k]: store its length and flags, close it in the
** string block. Returns the offset after the quote. */
static size_t stringDone(JsonParse *p, size_t k, unsigned char *zOut,
                         const char **pz, uint32_t *pn, uint8_t *pmFlag,
                         uint8_t mFlag){
  *zOut = 0;
  *pz = (const char*)p->zOut;
  *pn = (uint32_t)(zOut - p->zOut);
  *pmFlag = mFlag;
  p->zOut = zOut + 1;
  return k + 1;
}

/*
** The general string decoder, from z[k] (output at zOut) on, of the
** string whose opening quote is at z[i]. Returns the offset after the
** closing quote, or 0 after an error. Kept out of line (where the
** compiler allows it to be asked) so that parseString() stays small.
*/
static JSON_NOINLINE size_t parseStringRest(JsonParse *p, size_t i,
                                            size_t k, unsigned char *zOut,
                                            const char **pz, uint32_t *pn,
                                            uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n, nSeq;
  uint8_t mFlag = JSONF_PLAIN;
  unsigned char c;
  for(;;){
    if( n-k>=8 ){
      uint64_t x = ssoBufLoad64(z+k), m = strStops(x);
      size_t s;
      memcpy(zOut, z+k, 8);
      if( m==0 ){
        zOut += 8;
        k += 8;
        continue;
      }
      s = ssoBufFirstMarked(m);
      zOut += s;
      k += s;
    }else{
      while( k<n && (unsigned)(z[k]-0x20)<0x5f && z[k]!='"' && z[k]!='\\' ){
        *zOut++ = z[k++];               /* the last few bytes of input */
      }
      if( k>=n ) return strErr(p, i, n, "unterminated string");
    }
    c = z[k];
    if( c=='"' ) break;
    if( c=='\\' ){
      mFlag &= ~JSONF_PLAIN;
      if( n-k<2 ) return strErr(p, i, k, "invalid escape in string");
      c = z[k+1];
      if( c<0x80 && aUnescape[c] ){
        *zOut++ = aUnescape[c];
        k += 2;
      }else if( c=='u' ){
        k = decodeU(p, i, k, &zOut, &mFlag);
        if( k==0 ) return 0;
      }else{
        return strErr(p, i, k, "invalid escape in string");
      }
    }else if( c>=0x80 ){
      nSeq = utf8Seq(z+k, n-k);
      if( nSeq==0 ) return strErr(p, i, k, "invalid UTF-8 in string");
      if( n-k>=4 ){
        memcpy(zOut, z+k, 4);           /* one fixed-size move */
      }else{
        memcpy(zOut, z+k, nSeq);
      }
      zOut += nSeq;
      k += nSeq;
    }else if( c==0x7f ){
      mFlag &= ~JSONF_PLAIN;            /* DEL is written as \u007f */
      *zOut++ = c;
      k++;
    }else{
      return strErr(p, i, k, "control character in string");
    }
  }
  return stringDone(p, k, zOut, pz, pn, pmFlag, mFlag);
}

/*
** Parse the string whose opening quote is at z[i]. Returns the offset
** after the closing quote, or 0 after an error; stores the decoded bytes,
** their count and JSONF_NUL | JSONF_PLAIN flags.
*/
static size_t parseString(JsonParse *p, size_t i, const char **pz,
                          uint32_t *pn, uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n, k = i + 1;
  unsigned char *zOut = p->zOut;
  while( n-k>=8 ){
    uint64_t x = ssoBufLoad64(z+k), m = strStops(x);
    memcpy(zOut, z+k, 8);
    if( m ){
      size_t s = ssoBufFirstMarked(m);
      zOut += s;
      k += s;
      if( z[k]!='"' ) break;
      return stringDone(p, k, zOut, pz, pn, pmFlag, JSONF_PLAIN);
    }
    zOut += 8;
    k += 8;
  }
  return parseStringRest(p, i, k, zOut, pz, pn, pmFlag);
}

/* -------------------------------------------------------------------- */
/* The parse stack                                                      */

/* Make room for one more node at the top of the stack, which starts on
** the C stack and doubles on the heap. */
static int stackGrow(JsonParse *p){
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
  return SSOPROXY_OK;
}

/* The next free node of the stack (not yet in use), or NULL on OOM. */
static SsoJson *stackSlot(JsonParse *p){
  if( p->nStk>=p->nStkAlloc && stackGrow(p) ) return 0;
  return &p->aStk[p->nStk];
}

/* Take the slot from stackSlot() as a value found at iOfs: count it. */
static int stackPush(JsonParse *p, size_t iOfs){
  if( p->nNode>=SSO_JSON_MAX_NODES ){
    return parseErr(p, SSOPROXY_TOOBIG, iOfs, "too many values");
  }
  p->nNode++;
  p->nStk++;
  return SSOPROXY_OK;
}

/* Same name: length first, the cheap test that tells most names apart. */
static int keyEq(const SsoJson *a, const SsoJson *b){
  return a->nKey==b->nKey && memcmp(a->zKey, b->zKey, a->nKey)==0;
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

/* The first repeat by sorting: a stable sort puts equal names side by
** side in document order, so the earliest repeat is the lowest-addressed
** right-hand side of an equal pair. O(n log n) whatever the names. */
static int checkDupSort(JsonParse *p, const SsoJson *a, size_t n){
  const SsoJson *pDup = 0;
  size_t i;
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

/*
** A hash of a member name, for checkDup(), a word at a time. A multiply
** only carries bits upwards, so each step folds the high half back down,
** and a final mix spreads every input bit over the low bits that pick a
** slot: names such as "member01" and "member02" differ only in their top
** bytes.
*/
static uint32_t keyHash(const SsoJson *a){
  const unsigned char *z = (const unsigned char*)a->zKey;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ a->nKey;
  size_t i = 0, n = a->nKey;
  for(; n-i>=8; i+=8){
    h = (h ^ ssoBufLoad64(z+i)) * 0xff51afd7ed558ccdULL;
    h ^= h>>32;
  }
  for(; i<n; i++) h = (h ^ z[i]) * 0x100000001b3ULL;
  h ^= h>>33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h>>33;
  return (uint32_t)h;
}

/*
** Fail if two of the n members at a[] share a name, reporting the first
** repeat in document order (the earliest member whose name appeared
** before it). Small objects compare every pair; medium ones (a JWT's
** claims, which is what NODUP is for: typically 5 to 30 members) insert
** the names into a small hash table on the C stack, in document order,
** which finds that same member. A hash can be attacked (names built to
** collide), so the table counts its probes and, past a linear budget,
** gives up for the sort, which is O(n log n) whatever the input, as are
** bigger objects (it needs one scratch allocation per parse).
*/
#define JSON_DUP_HASH   32      /* Most members for the hash table */
static int checkDup(JsonParse *p, const SsoJson *a, size_t n){
  uint16_t aSlot[2*JSON_DUP_HASH];    /* index+1 of a member, or 0 */
  uint32_t aHash[JSON_DUP_HASH];
  size_t i, j, mask, nProbe = 0;
  if( n<=JSON_DUP_LINEAR ){
    for(j=1; j<n; j++){
      for(i=0; i<j; i++){
        if( keyEq(a+i, a+j) ) return dupErr(p, a+j);
      }
    }
    return SSOPROXY_OK;
  }
  if( n>JSON_DUP_HASH ) return checkDupSort(p, a, n);
  for(mask=1; mask<2*n; mask*=2){}
  memset(aSlot, 0, mask*sizeof(aSlot[0]));
  mask--;
  for(j=0; j<n; j++){
    uint32_t h = aHash[j] = keyHash(a+j);
    for(i=h & mask; aSlot[i]; i=(i+1) & mask){
      size_t iOld = aSlot[i] - 1;
      if( aHash[iOld]==h && keyEq(a+iOld, a+j) ) return dupErr(p, a+j);
      if( ++nProbe>4*n ) return checkDupSort(p, a, n);
    }
    aSlot[i] = (uint16_t)(j+1);
  }
  return SSOPROXY_OK;
}

/* Close the innermost container: move its children into the arena. */
static int closeContainer(JsonParse *p){
  uint32_t iFrame = p->aFrame[--p->nDepth] >> 1;
  SsoJson *pNode = &p->aStk[iFrame];
  size_t nChild = p->nStk - iFrame - 1;
  int rc;
  pNode->u.a = 0;
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

/* RFC 8259 §2: the only insignificant whitespace. Most documents on the
** wire have none between tokens, so the first test is the common exit. */
static size_t skipWs(const unsigned char *z, size_t i, size_t n){
  while( i<n && z[i]<=' '
      && (z[i]==' ' || z[i]=='\n' || z[i]=='\r' || z[i]=='\t') ){
    i++;
  }
  return i;
}

/* Error at offset i; returns 0, the "no position" of the scanners. */
static size_t errAt(JsonParse *p, size_t i, const char *zMsg){
  parseErr(p, SSOPROXY_PARSE, i, zMsg);
  return 0;
}
static size_t unexpectedAt(JsonParse *p, size_t i){
  p->i = i;
  unexpectedErr(p);
  return 0;
}

static size_t digitsEnd(const unsigned char *z, size_t i, size_t n){
  while( i<n && (unsigned)(z[i]-'0')<10 ) i++;
  return i;
}

/*
** RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
** The number starting at z[i0] goes into pNode, its text copied to the
** string block. Returns the offset after it, or 0 after an error.
*/
static size_t parseNumber(JsonParse *p, size_t i0, SsoJson *pNode){
  const unsigned char *z = p->z;
  size_t n = p->n, i = i0, iDig;
  if( z[i]=='-' ) i++;
  if( i>=n || (unsigned)(z[i]-'0')>=10 ){
    return errAt(p, i, "digit expected in number");
  }
  if( z[i]=='0' ){
    i++;
    if( i<n && (unsigned)(z[i]-'0')<10 ){
      return errAt(p, i0, "leading zero in number");
    }
  }else{
    i = digitsEnd(z, i+1, n);
  }
  if( i<n && z[i]=='.' ){
    iDig = ++i;
    i = digitsEnd(z, i, n);
    if( i==iDig ) return errAt(p, i, "digit expected after '.'");
  }
  if( i<n && (z[i]|0x20)=='e' ){
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) i++;
    iDig = i;
    i = digitsEnd(z, i, n);
    if( i==iDig ) return errAt(p, i, "digit expected in exponent");
  }
  /* Most numbers are short: one fixed 8-byte move, when the input has 8
  ** bytes from i0 (the string block has as much room as the input). */
  if( i-i0<8 && n-i0>=8 ){
    memcpy(p->zOut, z+i0, 8);
  }else{
    memcpy(p->zOut, z+i0, i-i0);
  }
  p->zOut[i-i0] = 0;
  pNode->u.z = (const char*)p->zOut;
  pNode->n = (uint32_t)(i - i0);
  pNode->eType = SSO_JSON_NUMBER;
  p->zOut += i - i0 + 1;
  return i;
}

/* true, false or null at z[i] (whose first byte is t, f or n). */
static size_t parseLiteral(JsonParse *p, size_t i, SsoJson *pNode){
  static const struct { char z[6]; uint8_t n, eType; } aLit[] = {
    { "true", 4, SSO_JSON_TRUE },
    { "false", 5, SSO_JSON_FALSE },
    { "null", 4, SSO_JSON_NULL },
  };
  int k = p->z[i]=='t' ? 0 : p->z[i]=='f' ? 1 : 2;
  if( p->n - i < aLit[k].n || memcmp(p->z + i, aLit[k].z, aLit[k].n)!=0 ){
    return errAt(p, i, "invalid literal");
  }
  pNode->eType = aLit[k].eType;
  pNode->u.z = 0;
  pNode->n = 0;
  return i + aLit[k].n;
}

/*
** A member name and its colon at or after z[i], into the slot pNode that
** the member's value will complete. Returns the offset after the colon,
** or 0 after an error.
*/
static size_t parseKey(JsonParse *p, size_t i, SsoJson *pNode){
  const unsigned char *z = p->z;
  size_t n = p->n;
  uint8_t mFlag;
  i = skipWs(z, i, n);
  if( i>=n ) return unexpectedAt(p, i);
  if( z[i]!='"' ) return errAt(p, i, "expected a string key");
  pNode->iOfs = (uint32_t)i;
  i = parseString(p, i, &pNode->zKey, &pNode->nKey, &mFlag);
  if( i==0 ) return 0;
  pNode->mFlag = (uint8_t)(mFlag<<JSONF_KEYSHIFT);
  i = skipWs(z, i, n);
  if( i>=n ) return unexpectedAt(p, i);
  if( z[i]!=':' ) return errAt(p, i, "expected ':' after key");
  return i+1;
}

/*
** '{' or '[' at z[i] opens a container in pNode. Returns the offset after
** it and any whitespace, or 0 after an error.
*/
static size_t openContainer(JsonParse *p, size_t i, SsoJson *pNode){
  int bObj = p->z[i]=='{';
  if( p->nDepth>=SSO_JSON_MAX_DEPTH ){
    parseErr(p, SSOPROXY_TOOBIG, i, "nesting too deep");
    return 0;
  }
  pNode->eType = bObj ? SSO_JSON_OBJECT : SSO_JSON_ARRAY;
  if( stackPush(p, i) ) return 0;
  p->aFrame[p->nDepth++] = (uint32_t)((p->nStk - 1)<<1 | (unsigned)bObj);
  return skipWs(p->z, i+1, p->n);
}

/*
** The whole text: one value, then only whitespace (RFC 8259 §2). One
** loop of two steps: read a value (a scalar, or the opening of a
** container), then what follows it (closing brackets, or a comma that
** leads to the next value). Open containers and their children so far
** are on the explicit stack, so nesting costs no C stack. bMember says
** the next value is an object member, to be preceded by its name.
*/
static int parseText(JsonParse *p){
  const unsigned char *z = p->z;
  const size_t n = p->n;
  size_t i = 0, iVal;
  int bMember = 0;
  if( n==0 ) return parseErr(p, SSOPROXY_PARSE, 0, "empty input");
  if( n>=3 && memcmp(z, "\xef\xbb\xbf", 3)==0 ){
    return parseErr(p, SSOPROXY_PARSE, 0, "byte order mark not allowed");
  }
  for(;;){
    SsoJson *pNode = stackSlot(p);
    unsigned char c;
    if( pNode==0 ) return p->pErr->rc;

    /* Step 1: a value, with its name first if it is a member. */
    if( bMember ){
      i = parseKey(p, i, pNode);
      if( i==0 ) return p->pErr->rc;
    }
    i = skipWs(z, i, n);
    if( i>=n ){
      unexpectedAt(p, i);
      return p->pErr->rc;
    }
    if( !bMember ){
      pNode->zKey = 0;
      pNode->nKey = 0;
      pNode->iOfs = (uint32_t)i;
      pNode->mFlag = 0;
    }
    iVal = i;
    c = z[i];
    if( c=='"' ){
      uint8_t mFlag = 0;
      i = parseString(p, i, &pNode->u.z, &pNode->n, &mFlag);
      pNode->eType = SSO_JSON_STRING;
      pNode->mFlag |= mFlag;
    }else if( (unsigned)(c-'0')<10 || c=='-' ){
      i = parseNumber(p, i, pNode);
    }else if( c=='{' || c=='[' ){
      i = openContainer(p, i, pNode);
      if( i==0 ) return p->pErr->rc;
      if( i>=n || z[i]!=(c=='{' ? '}' : ']') ){
        bMember = c=='{';             /* not empty: its first value next */
        continue;
      }
      p->i = ++i;
      if( closeContainer(p) ) return p->pErr->rc;
    }else if( c=='t' || c=='f' || c=='n' ){
      i = parseLiteral(p, i, pNode);
    }else{
      unexpectedAt(p, i);
      return p->pErr->rc;
    }
    if( i==0 ) return p->pErr->rc;
    if( c!='{' && c!='[' && stackPush(p, iVal) ) return p->pErr->rc;

    /* Step 2: close what ends here; a comma leads to the next value. */
    for(;;){
      int bObj;
      unsigned char cClose;
      if( p->nDepth==0 ){             /* the top-level value is complete */
        i = skipWs(z, i, n);
        if( i<n ){
          if( z[i]=='/' ){
            unexpectedAt(p, i);
            return p->pErr->rc;
          }
          return parseErr(p, SSOPROXY_PARSE, i,
                          "trailing characters after the value");
        }
        return SSOPROXY_OK;
      }
      bObj = p->aFrame[p->nDepth-1] & 1;
      cClose = bObj ? '}' : ']';
      i = skipWs(z, i, n);
      if( i>=n ){
        unexpectedAt(p, i);
        return p->pErr->rc;
      }
      if( z[i]==',' ){
        size_t iComma = i;
        i = skipWs(z, i+1, n);
        if( i<n && z[i]==cClose ){
          return parseErr(p, SSOPROXY_PARSE, iComma, "trailing comma");
        }
        bMember = bObj;
        break;
      }
      if( z[i]!=cClose ){
        if( z[i]=='/' ){
          unexpectedAt(p, i);
          return p->pErr->rc;
        }
        return parseErr(p, SSOPROXY_PARSE, i,
                        bObj ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      p->i = ++i;
      if( closeContainer(p) ) return p->pErr->rc;
    }
  }
}

/*
** Sizing. Every string and number is copied into one string block of
** n+1 bytes, allocated up front: each string's decoded bytes plus its NUL
** fit in the input bytes it came from (the quotes pay for the NUL), and
** so does each number's text plus NUL, the byte after a number being
** punctuation or whitespace - except for a bare top-level number at the
** very end of the input, which is the +1. The nodes go in the same first
** chunk, guessed at one node (32 bytes) per 24 input bytes plus a little
** (API bodies are mostly strings; key lists and claims run near one node
** per 24 bytes), so that most documents cost one allocation; the arena
** grows from there if the guess was short.
*/
#define JSON_NODE_GUESS(n) ((n)/24*sizeof(SsoJson) + 32*sizeof(SsoJson))

static int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr){
  JsonParse sParse, *p = &sParse;
  SsoJsonErr sErr;
  SsoArena arena;
  SsoJsonDoc *pDoc;
  SsoJson *pRoot = 0;
  unsigned char *zStr;
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
  ssoArenaSizeHint(&arena, sizeof(*pDoc) + sizeof(*pRoot) + n + 8
                           + JSON_NODE_GUESS(n));
  p->pArena = &arena;
  p->aStk = p->aStkSpace;
  p->nStkAlloc = JSON_STACK_INIT;
  pDoc = ssoArenaAlloc(&arena, sizeof(*pDoc));
  pRoot = ssoArenaAlloc(&arena, sizeof(*pRoot));
  zStr = ssoArenaAlloc(&arena, n+1);
  p->zOut = zStr;
  rc = (pDoc && pRoot && zStr) ? parseText(p) : nomemErr(p);
  if( rc==SSOPROXY_OK ){
    assert( p->nStk==1 && p->nDepth==0 );
    assert( p->zOut <= zStr + n + 1 );
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
  {                                         /* "e<iExp>", by hand */
    char zExp[12];
    size_t k = sizeof(zExp);
    unsigned long long u = iExp<0 ? (unsigned long long)-iExp
                                  : (unsigned long long)iExp;
    do{ zExp[--k] = (char)('0' + u%10); u /= 10; }while( u );
    if( iExp<0 ) zExp[--k] = '-';
    zBuf[nBuf++] = 'e';
    memcpy(zBuf+nBuf, zExp+k, sizeof(zExp)-k);
    zBuf[nBuf + sizeof(zExp)-k] = 0;
  }
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

/* Digits by hand: printf() would parse its format twice per number. */
static void ssoJsonWriteInt64(SsoJsonWriter *w, long long i){
  char z[24];
  size_t k = sizeof(z);
  unsigned long long u = i<0 ? 0 - (unsigned long long)i
                             : (unsigned long long)i;
  do{
    z[--k] = (char)('0' + u%10);
    u /= 10;
  }while( u );
  if( i<0 ) z[--k] = '-';
  ssoJsonWriteRaw(w, z+k, sizeof(z)-k);
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

/*
** The common case without printf(): money, ratios, small counts. If the
** shortest decimal that reads back as r has at most 15 significant digits
** and 1e-4 <= |r| < 1e15, ssoJsonWriteDouble() writes it in fixed
** notation (%g would, or its "whole numbers in full" rule). So try k = 0,
** 1, 2... fraction digits: v = round(|r| * 10^k) below 10^15 stands for the
** decimal v/10^k, and v/10^k computed in doubles is the correctly rounded
** value of that decimal (both operands are exact), that is what reading
** it gives, so "== |r|" proves the round trip; the first k is the
** shortest. It is also the digits %g prints: 15-digit decimals are more
** than an ulp apart, so only one can read back as r. Returns the length
** written to z (room for 40), or 0 for "not this case".
*/
static size_t fmtDoubleFixed(char *z, double r){
  static const double aPow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
  };
  double a = fabs(r);
  size_t k, j, n = 0;
  char zDigit[24];
  if( !(a>=1e-4 && a<1e15) ) return 0;
  for(k=0; k<SSO_ARRAYSIZE(aPow10); k++){
    double t = a*aPow10[k];
    unsigned long long v;
    if( t>=1e15 ) return 0;
    v = (unsigned long long)(t + 0.5);      /* exact: t < 2^50 */
    if( (double)v / aPow10[k]!=a ) continue;
    /* Digits of v, at least k+1 of them so there is an integer part. */
    for(j=0; v || j<=k; j++){
      zDigit[j] = (char)('0' + v%10);
      v /= 10;
    }
    if( r<0 ) z[n++] = '-';
    while( j>k ) z[n++] = zDigit[--j];
    if( k ){
      z[n++] = '.';
      while( j>0 ) z[n++] = zDigit[--j];
    }
    return n;
  }
  return 0;
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
  n = fmtDoubleFixed(z, r);
  if( n ){
    ssoJsonWriteRaw(w, z, n);
    return;
  }
  /*
  ** The fewest significant digits that read back as exactly r. For a
  ** normal double the search can start at 15: if some decimal D of d<=15
  ** digits reads back as r, then |r-D| <= half an ulp < 2^-53 * 10^(E+1)
  ** (r = x.xx * 10^E), less than half the spacing 10^(E-14) of 15-digit
  ** decimals, so r rounded to 15 digits is D, and %g drops the zeros.
  ** Subnormals have fewer bits, so there the search starts at 1.
  */
  nDigit = (r!=0.0 && fabs(r)<DBL_MIN) ? 1 : 15;
  for(; nDigit<=17; nDigit++){
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
** Writing a parsed value. Its exact length is known before a byte is
** written: a string the parser found free of anything to escape
** (JSONF_PLAIN) takes its length plus the quotes, any other is measured
** by ssoBufJsonStringLen(). So the buffer grows once, and every byte is
** then stored directly, with no room check per token. The recursion is
** bounded: a parsed tree is at most SSO_JSON_MAX_DEPTH deep.
*/
static size_t treeLen(const SsoJson *p, int *pnDepth){
  size_t nOut, i;
  int nDepth = 0, nChild;
  switch( p->eType ){
    case SSO_JSON_NULL:   return 4;
    case SSO_JSON_TRUE:   return 4;
    case SSO_JSON_FALSE:  return 5;
    case SSO_JSON_NUMBER: return p->n;
    case SSO_JSON_STRING:
      return (p->mFlag & JSONF_PLAIN) ? (size_t)p->n + 2
                                      : ssoBufJsonStringLen(p->u.z, p->n);
    default:
      break;
  }
  nOut = p->n ? 1 + p->n : 2;         /* brackets and commas */
  for(i=0; i<p->n; i++){
    const SsoJson *pC = &p->u.a[i];
    if( p->eType==SSO_JSON_OBJECT ){
      nOut += 1 + ((pC->mFlag & JSONF_KEYPLAIN) ? (size_t)pC->nKey + 2
                                    : ssoBufJsonStringLen(pC->zKey, pC->nKey));
    }
    nChild = 0;
    nOut += treeLen(pC, &nChild);
    if( nChild>nDepth ) nDepth = nChild;
  }
  *pnDepth = nDepth + 1;
  return nOut;
}

/* A name or string value, escaped unless the parser found no need. */
static char *treeStr(char *z, const char *zStr, size_t n, int bPlain){
  if( !bPlain ) return ssoBufJsonStringTo(z, zStr, n);
  *z++ = '"';
  memcpy(z, zStr, n);
  z += n;
  *z++ = '"';
  return z;
}

/* Store p's compact JSON, treeLen() bytes, at z; returns the end. */
static char *treeWrite(const SsoJson *p, char *z){
  uint32_t i;
  switch( p->eType ){
    case SSO_JSON_NULL:   memcpy(z, "null", 4);  return z+4;
    case SSO_JSON_TRUE:   memcpy(z, "true", 4);  return z+4;
    case SSO_JSON_FALSE:  memcpy(z, "false", 5); return z+5;
    case SSO_JSON_NUMBER: memcpy(z, p->u.z, p->n); return z + p->n;
    case SSO_JSON_STRING:
      return treeStr(z, p->u.z, p->n, p->mFlag & JSONF_PLAIN);
    case SSO_JSON_ARRAY:
      *z++ = '[';
      for(i=0; i<p->n; i++){
        if( i ) *z++ = ',';
        z = treeWrite(&p->u.a[i], z);
      }
      *z++ = ']';
      return z;
    default:
      assert( p->eType==SSO_JSON_OBJECT );
      *z++ = '{';
      for(i=0; i<p->n; i++){
        const SsoJson *pC = &p->u.a[i];
        if( i ) *z++ = ',';
        z = treeStr(z, pC->zKey, pC->nKey, pC->mFlag & JSONF_KEYPLAIN);
        *z++ = ':';
        z = treeWrite(pC, z);
      }
      *z++ = '}';
      return z;
  }
}

static void ssoJsonWriteValue(SsoJsonWriter *w, const SsoJson *p){
  SsoBuf *pBuf = w->pBuf;
  size_t nOut;
  int nDepth = 0;
  char *zEnd;
  if( p==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( !wBeforeValue(w) ) return;
  nOut = treeLen(p, &nDepth);
  if( w->nDepth + nDepth > SSO_JSON_MAX_DEPTH ){
    wError(w, SSOPROXY_MISUSE);       /* as wBegin() would have said */
    return;
  }
  if( ssoBufReserve(pBuf, nOut) ) return;
  zEnd = treeWrite(p, pBuf->z + pBuf->n);
  assert( zEnd==pBuf->z + pBuf->n + nOut );
  pBuf->n += nOut;
  *zEnd = 0;
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
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: URLs. Parsing absolute URLs (RFC 3986), percent-encoding
** (§2.1) and the application/x-www-form-urlencoded format used by query
** strings and OAuth token requests (WHATWG URL §5, RFC 6749 Appendix B).
**
** Its users decide security questions with what it returns: the OIDC
** relying party builds authorization URLs and reads ?code=&state= from
** callbacks, the OAuth flows decide whether a redirect_uri is loopback
** (RFC 8252 §7.3) or on an allow-list, the HTTP client connects to the
** host and port it reports. So the parser is strict rather than
** forgiving: where browsers, resolvers and RFC 3986 might read a string
** differently (backslashes, "127.1", '@' in odd places, raw spaces or
** non-ASCII bytes) it refuses the string instead of guessing, and every
** refusal carries the offset of the first bad byte.
**
** Parsing never allocates until the whole URL has been checked; then all
** parts are copied into one arena block (lower-casing scheme and host),
** so the caller frees a URL with its arena.
*/
/* #include "ssoInt.h" */

/*
** Character classes, one bit per part of a URL (RFC 3986 §2.2, §2.3,
** §3.1-§3.5). Table-driven so each byte costs one lookup.
*/
#define U_SCHEME 0x01   /* ALPHA DIGIT + - . */
#define U_HOST   0x02   /* ALPHA DIGIT - . _ (our reg-name subset) */
#define U_USER   0x04   /* unreserved sub-delims : */
#define U_PATH   0x08   /* pchar and '/': unreserved sub-delims : @ / */
#define U_QUERY  0x10   /* query and fragment: U_PATH and '?' */
#define U_UNRES  0x20   /* unreserved: ALPHA DIGIT - . _ ~ */
#define U_FORM   0x40   /* kept by the form encoder: ALPHA DIGIT * - . _ */
#define U_HEX    0x80   /* HEXDIG */
static const unsigned char aClass[256] = {
  /* 0x00..0x1f: control bytes, nothing */
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0x00,0x1c,0x00,0x00,0x1c,0x00,0x1c,0x1c,  /* 20    ! " # $ % & ' */
  0x1c,0x1c,0x5c,0x1d,0x1c,0x7f,0x7f,0x18,  /* 28  ( ) * + , - . / */
  0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,  /* 30  0 1 2 3 4 5 6 7 */
  0xff,0xff,0x1c,0x1c,0x00,0x1c,0x00,0x10,  /* 38  8 9 : ; < = > ? */
  0x18,0xff,0xff,0xff,0xff,0xff,0xff,0x7f,  /* 40  @ A B C D E F G */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 48  H I J K L M N O */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 50  P Q R S T U V W */
  0x7f,0x7f,0x7f,0x00,0x00,0x00,0x00,0x7e,  /* 58  X Y Z [ \ ] ^ _ */
  0x00,0xff,0xff,0xff,0xff,0xff,0xff,0x7f,  /* 60  ` a b c d e f g */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 68  h i j k l m n o */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 70  p q r s t u v w */
  0x7f,0x7f,0x7f,0x00,0x00,0x00,0x3c,0x00,  /* 78  x y z { | } ~ DEL */
  /* 0x80..0xff: nothing; bytes outside ASCII must be percent-encoded */
};

static int hexVal(unsigned char c){
  if( (aClass[c] & U_HEX)==0 ) return -1;
  return c<='9' ? c-'0' : (c|0x20)-'a'+10;
}

static int isHexEscape(const char *z, size_t i, size_t iEnd){
  return i+2<iEnd && (aClass[(unsigned char)z[i+1]] & U_HEX)
                  && (aClass[(unsigned char)z[i+2]] & U_HEX);
}

/*
** Every byte of z[i..iEnd) must be in class m or start a %XX escape
** (§2.1). Returns SSOPROXY_PARSE with *piBad at the first that is not.
*/
static int checkPart(const char *z, size_t i, size_t iEnd, unsigned m,
                     size_t *piBad){
  for(; i<iEnd; i++){
    unsigned char c = (unsigned char)z[i];
    if( aClass[c] & m ) continue;
    if( c=='%' && isHexEscape(z, i, iEnd) ){
      i += 2;
      continue;
    }
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/* The default port of http and https (RFC 9110 §4.2.1, §4.2.2). */
static int ssoUrlDefaultPort(const char *zScheme, size_t nScheme){
  if( nScheme==4 && strncmp(zScheme, "http", 4)==0 ) return 80;
  if( nScheme==5 && strncmp(zScheme, "https", 5)==0 ) return 443;
  return 0;
}

/* ssoUrlDefaultPort() for a scheme not yet lower-cased. */
static int schemeDefaultPort(const char *z, size_t n){
  char zLower[6];
  size_t k;
  if( n>5 ) return 0;
  for(k=0; k<n; k++) zLower[k] = (char)(z[k] | 0x20);
  return ssoUrlDefaultPort(zLower, n);
}

/*
** A dotted-quad IPv4 address, exactly as RFC 3986 §3.2.2 IPv4address:
** four dec-octets 0..255 without leading zeros. Returns 1 if z[0..n) is
** one, with the address in a[0..4).
*/
static int parseIpv4(const char *z, size_t n, unsigned char *a){
  size_t i = 0;
  int k;
  for(k=0; k<4; k++){
    size_t j = i;
    unsigned v = 0;
    while( j<n && j-i<3 && z[j]>='0' && z[j]<='9' ){
      v = v*10 + (unsigned)(z[j]-'0');
      j++;
    }
    if( j==i || v>255 || (z[i]=='0' && j-i>1) ) return 0;
    a[k] = (unsigned char)v;
    i = j;
    if( k<3 ){
      if( i>=n || z[i]!='.' ) return 0;
      i++;
    }
  }
  return i==n;
}

/*
** An IPv6 address (RFC 3986 §3.2.2 IPv6address, RFC 4291 §2.2): up to
** eight groups of 1-4 hex digits, at most one "::" standing for one or
** more zero groups, optionally ending in a dotted quad. z[0..n) is the
** text between the brackets. Zone ids (RFC 6874 "%25eth0") are refused
** like any other stray byte: a zone means nothing off the host that
** wrote it. Returns SSOPROXY_OK with a[0..16) set, or SSOPROXY_PARSE with
** *piBad an offset into z.
*/
static int parseIpv6(const char *z, size_t n, unsigned char *a,
                     size_t *piBad){
  unsigned aGroup[8];
  int nGroup = 0, iGap = -1, k;
  size_t i = 0;
  if( n>=2 && z[0]==':' && z[1]==':' ){
    iGap = 0;
    i = 2;
  }
  while( i<n ){
    size_t j = i;
    unsigned v = 0;
    while( j<n && j-i<4 && hexVal((unsigned char)z[j])>=0 ){
      v = v*16 + (unsigned)hexVal((unsigned char)z[j]);
      j++;
    }
    if( j<n && z[j]=='.' ){
      /* ls32 as a dotted quad: the rest of the text, two groups' worth */
      unsigned char a4[4];
      if( nGroup>6 || !parseIpv4(z+i, n-i, a4) ){ *piBad = i; goto bad; }
      aGroup[nGroup++] = (unsigned)a4[0]<<8 | a4[1];
      aGroup[nGroup++] = (unsigned)a4[2]<<8 | a4[3];
      i = n;
      break;
    }
    if( j==i || nGroup==8 ){ *piBad = j; goto bad; }
    if( j<n && hexVal((unsigned char)z[j])>=0 ){ *piBad = j; goto bad; }
    aGroup[nGroup++] = v;
    i = j;
    if( i==n ) break;
    if( z[i]!=':' || i+1==n ){ *piBad = i; goto bad; }
    i++;
    if( z[i]==':' ){
      if( iGap>=0 ){ *piBad = i; goto bad; }
      iGap = nGroup;
      i++;
    }
  }
  if( (iGap<0 && nGroup!=8) || (iGap>=0 && nGroup>7) ){
    *piBad = n;
    goto bad;
  }
  memset(a, 0, 16);
  for(k=0; k<nGroup; k++){
    int iAt = (iGap>=0 && k>=iGap) ? k + (8-nGroup) : k;
    a[2*iAt] = (unsigned char)(aGroup[k]>>8);
    a[2*iAt+1] = (unsigned char)(aGroup[k] & 0xff);
  }
  return SSOPROXY_OK;
bad:
  return SSOPROXY_PARSE;
}

/*
** Write a[0..16) as RFC 5952 §4 text: lower-case hex, no leading zeros,
** the longest run of two or more zero groups (the first if tied) as
** "::". Returns the length; zOut holds at least 40 bytes.
*/
static size_t formatIpv6(const unsigned char *a, char *zOut){
  int k, iBest = -1, nBest = 1, iRun = -1;
  size_t o = 0;
  for(k=0; k<=8; k++){
    int bZero = k<8 && a[2*k]==0 && a[2*k+1]==0;
    if( bZero && iRun<0 ) iRun = k;
    if( !bZero && iRun>=0 ){
      if( k-iRun>nBest ){ iBest = iRun; nBest = k-iRun; }
      iRun = -1;
    }
  }
  for(k=0; k<8; k++){
    if( k==iBest ){
      zOut[o++] = ':';
      zOut[o++] = ':';
      k += nBest-1;
      continue;
    }
    if( o>0 && zOut[o-1]!=':' ) zOut[o++] = ':';
    o += (size_t)snprintf(zOut+o, 5, "%x", (unsigned)a[2*k]<<8 | a[2*k+1]);
  }
  zOut[o] = 0;
  return o;
}

/*
** A reg-name host, in the subset DNS can carry: labels of ALPHA DIGIT
** '-' '_' separated by single dots, each 1..63 bytes, 253 in all
** (RFC 1035 §2.3.4). Percent-escapes and sub-delims, which RFC 3986
** allows but no resolver means the same way, are refused. A host whose
** last label is a number is an IPv4 address to browsers and to
** inet_aton() ("127.1", "0x7f.0.0.1", "2130706433" are all 127.0.0.1),
** so it must be a strict dotted quad or it is refused.
*/
static int parseHostName(const char *z, size_t i, size_t iEnd, SsoUrl *p,
                         size_t *piBad){
  size_t j, iLabel = i;
  int bNumber = 1, bHex = 0;
  if( iEnd-i>253 ){ *piBad = i+253; return SSOPROXY_PARSE; }
  for(j=i; j<=iEnd; j++){
    unsigned char c = j<iEnd ? (unsigned char)z[j] : '.';
    if( c=='.' ){
      if( j==iLabel || j-iLabel>63 ){
        *piBad = j==iLabel ? j : iLabel+63;
        return SSOPROXY_PARSE;
      }
      if( j<iEnd ){
        iLabel = j+1;
        bNumber = 1;
        bHex = 0;
      }
      continue;
    }
    if( (aClass[c] & U_HOST)==0 ){ *piBad = j; return SSOPROXY_PARSE; }
    /* Track whether the current label is a number (WHATWG "ends in a
    ** number"): all digits, or "0x" followed by hex digits. */
    if( j==iLabel+1 && z[iLabel]=='0' && (c|0x20)=='x' ){
      bHex = 1;
    }else if( !(c>='0' && c<='9') && !(bHex && (aClass[c] & U_HEX)) ){
      bNumber = 0;
    }
  }
  p->host.z = z+i;
  p->host.n = iEnd-i;
  if( !bNumber ){
    p->eHost = SSO_URL_HOST_NAME;
  }else if( parseIpv4(z+i, iEnd-i, p->aAddr) ){
    p->eHost = SSO_URL_HOST_IPV4;
  }else{
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/* port = 1..65535 in decimal, no sign, no leading zero. */
static int parsePort(const char *z, size_t i, size_t iEnd, int *piPort,
                     size_t *piBad){
  long v = 0;
  size_t j;
  if( i==iEnd || z[i]=='0' ){ *piBad = i; return SSOPROXY_PARSE; }
  for(j=i; j<iEnd; j++){
    if( z[j]<'0' || z[j]>'9' ){ *piBad = j; return SSOPROXY_PARSE; }
    v = v*10 + (z[j]-'0');
    if( v>65535 ){ *piBad = j; return SSOPROXY_PARSE; }
  }
  *piPort = (int)v;
  return SSOPROXY_OK;
}

/*
** authority = [ userinfo "@" ] host [ ":" port ]  (§3.2), in z[i..iEnd).
** userinfo cannot contain '@', so the first '@' ends it and a second one
** lands in the host, where it is refused: "http://a@b@c" has no reading
** we could be sure a browser shares.
*/
static int parseAuthority(const char *z, size_t i, size_t iEnd, SsoUrl *p,
                          size_t *piBad){
  size_t iAt = i, iHostEnd, j;
  int rc;
  while( iAt<iEnd && z[iAt]!='@' ) iAt++;
  if( iAt<iEnd ){
    rc = checkPart(z, i, iAt, U_USER, piBad);
    if( rc ) return rc;
    p->bUserinfo = 1;
    p->userinfo.z = z+i;
    p->userinfo.n = iAt-i;
    i = iAt+1;
  }
  p->host.z = z+i;
  if( i<iEnd && z[i]=='[' ){
    size_t iLocal = 0;
    j = i+1;
    while( j<iEnd && z[j]!=']' ) j++;
    if( j==iEnd ){ *piBad = iEnd; return SSOPROXY_PARSE; }
    if( parseIpv6(z+i+1, j-i-1, p->aAddr, &iLocal) ){
      *piBad = i+1+iLocal;
      return SSOPROXY_PARSE;
    }
    p->eHost = SSO_URL_HOST_IPV6;
    p->host.z = z+i+1;
    p->host.n = j-i-1;
    iHostEnd = j+1;
  }else{
    j = i;
    while( j<iEnd && z[j]!=':' ) j++;
    if( j>i ){
      rc = parseHostName(z, i, j, p, piBad);
      if( rc ) return rc;
    }
    iHostEnd = j;
  }
  if( iHostEnd<iEnd ){
    if( z[iHostEnd]!=':' ){ *piBad = iHostEnd; return SSOPROXY_PARSE; }
    rc = parsePort(z, iHostEnd+1, iEnd, &p->iPort, piBad);
    if( rc ) return rc;
    p->bPort = 1;
  }
  if( p->eHost==SSO_URL_HOST_NONE && (p->bUserinfo || p->bPort) ){
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/*
** URI = scheme ":" [ "//" authority ] path [ "?" query ] [ "#" fragment ]
** (§3). Fills *p with views into z; nothing is copied yet.
*/
static int parseUrl(const char *z, size_t n, SsoUrl *p, size_t *piBad){
  size_t i = 0, iEnd;
  int rc, iDefault;
  /* §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
  if( n==0 || (z[0]|0x20)<'a' || (z[0]|0x20)>'z' ){
    *piBad = 0;
    return SSOPROXY_PARSE;
  }
  while( i<n && (aClass[(unsigned char)z[i]] & U_SCHEME) ) i++;
  if( i==n || z[i]!=':' ){ *piBad = i; return SSOPROXY_PARSE; }
  p->scheme.z = z;
  p->scheme.n = i;
  i++;
  if( i+1<n && z[i]=='/' && z[i+1]=='/' ){
    p->bAuthority = 1;
    i += 2;
    iEnd = i;
    while( iEnd<n && z[iEnd]!='/' && z[iEnd]!='?' && z[iEnd]!='#' ) iEnd++;
    rc = parseAuthority(z, i, iEnd, p, piBad);
    if( rc ) return rc;
    i = iEnd;
  }
  iEnd = i;
  while( iEnd<n && z[iEnd]!='?' && z[iEnd]!='#' ) iEnd++;
  rc = checkPart(z, i, iEnd, U_PATH, piBad);
  if( rc ) return rc;
  p->path.z = z+i;
  p->path.n = iEnd-i;
  i = iEnd;
  if( i<n && z[i]=='?' ){
    i++;
    iEnd = i;
    while( iEnd<n && z[iEnd]!='#' ) iEnd++;
    rc = checkPart(z, i, iEnd, U_QUERY, piBad);
    if( rc ) return rc;
    p->bQuery = 1;
    p->query.z = z+i;
    p->query.n = iEnd-i;
    i = iEnd;
  }
  if( i<n ){
    assert( z[i]=='#' );
    i++;
    rc = checkPart(z, i, n, U_QUERY, piBad);
    if( rc ) return rc;
    p->bFragment = 1;
    p->fragment.z = z+i;
    p->fragment.n = n-i;
  }
  /* http(s) URIs must have a non-empty host (RFC 9110 §4.2.1). The scheme
  ** is compared case-insensitively (§3.1) before it is lower-cased. */
  iDefault = schemeDefaultPort(p->scheme.z, p->scheme.n);
  if( iDefault ){
    if( !p->bAuthority ){ *piBad = p->scheme.n+1; return SSOPROXY_PARSE; }
    if( p->eHost==SSO_URL_HOST_NONE ){
      *piBad = (size_t)(p->host.z - z);
      return SSOPROXY_PARSE;
    }
  }
  if( !p->bPort ) p->iPort = iDefault;
  return SSOPROXY_OK;
}

/* Copy s to *pz, optionally lower-cased, NUL-terminated; s points there. */
static void putPart(char **pz, SsoStr *s, int bLower){
  char *zOut = *pz;
  size_t k;
  for(k=0; k<s->n; k++){
    char c = s->z[k];
    zOut[k] = (bLower && c>='A' && c<='Z') ? (char)(c+32) : c;
  }
  zOut[s->n] = 0;
  s->z = zOut;
  *pz = zOut + s->n + 1;
}

/* Move every part from the input into one arena block. */
static int copyParts(SsoArena *pArena, SsoUrl *p){
  size_t nAll = p->scheme.n + p->userinfo.n + p->host.n + p->path.n
              + p->query.n + p->fragment.n + 6 + 40;
  char *z = ssoArenaAlloc(pArena, nAll);
  if( z==0 ) return SSOPROXY_NOMEM;
  putPart(&z, &p->scheme, 1);
  putPart(&z, &p->userinfo, 0);
  if( p->eHost==SSO_URL_HOST_IPV6 ){
    p->host.n = formatIpv6(p->aAddr, z);
    p->host.z = z;
    z += p->host.n + 1;
  }else{
    putPart(&z, &p->host, 1);
  }
  putPart(&z, &p->path, 0);
  putPart(&z, &p->query, 0);
  putPart(&z, &p->fragment, 0);
  return SSOPROXY_OK;
}

static int ssoUrlParse(SsoArena *pArena, const char *z, size_t n,
                            SsoUrl *pUrl, size_t *piErr){
  size_t iBad = 0;
  int rc;
  memset(pUrl, 0, sizeof(*pUrl));
  if( n>SSO_URL_MAX ){
    iBad = SSO_URL_MAX;
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  rc = parseUrl(z, n, pUrl, &iBad);
  if( rc ) goto end;
  rc = copyParts(pArena, pUrl);
end:
  if( rc ){
    memset(pUrl, 0, sizeof(*pUrl));
    pUrl->scheme.z = pUrl->userinfo.z = pUrl->host.z = "";
    pUrl->path.z = pUrl->query.z = pUrl->fragment.z = "";
    if( piErr && rc!=SSOPROXY_NOMEM ) *piErr = iBad;
  }
  return rc;
}

static int ssoUrlIsLoopback(const SsoUrl *p){
  static const unsigned char aLoop6[16] = {0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1};
  if( p->eHost==SSO_URL_HOST_IPV4 ) return p->aAddr[0]==127;
  if( p->eHost==SSO_URL_HOST_IPV6 ) return memcmp(p->aAddr, aLoop6, 16)==0;
  return 0;
}

static void ssoUrlAppendHostPort(SsoBuf *pBuf, const SsoUrl *p){
  int bV6 = p->eHost==SSO_URL_HOST_IPV6;
  if( bV6 ) ssoBufAppendChar(pBuf, '[');
  ssoBufAppend(pBuf, p->host.z, p->host.n);
  if( bV6 ) ssoBufAppendChar(pBuf, ']');
  if( p->iPort && p->iPort!=ssoUrlDefaultPort(p->scheme.z, p->scheme.n) ){
    ssoBufPrintf(pBuf, ":%d", p->iPort);
  }
}

static int ssoUrlAppendOrigin(SsoBuf *pBuf, const SsoUrl *p){
  if( p->eHost==SSO_URL_HOST_NONE ) return SSOPROXY_PARSE;
  ssoBufAppend(pBuf, p->scheme.z, p->scheme.n);
  ssoBufAppend(pBuf, "://", 3);
  ssoUrlAppendHostPort(pBuf, p);
  return pBuf->rc;
}

static void ssoUrlAppendTarget(SsoBuf *pBuf, const SsoUrl *p){
  if( p->path.n ) ssoBufAppend(pBuf, p->path.z, p->path.n);
  else ssoBufAppendChar(pBuf, '/');
  if( p->bQuery ){
    ssoBufAppendChar(pBuf, '?');
    ssoBufAppend(pBuf, p->query.z, p->query.n);
  }
}

static void ssoUrlAppend(SsoBuf *pBuf, const SsoUrl *p){
  ssoBufAppend(pBuf, p->scheme.z, p->scheme.n);
  ssoBufAppendChar(pBuf, ':');
  if( p->bAuthority ){
    int bV6 = p->eHost==SSO_URL_HOST_IPV6;
    ssoBufAppend(pBuf, "//", 2);
    if( p->bUserinfo ){
      ssoBufAppend(pBuf, p->userinfo.z, p->userinfo.n);
      ssoBufAppendChar(pBuf, '@');
    }
    if( bV6 ) ssoBufAppendChar(pBuf, '[');
    ssoBufAppend(pBuf, p->host.z, p->host.n);
    if( bV6 ) ssoBufAppendChar(pBuf, ']');
    if( p->bPort ) ssoBufPrintf(pBuf, ":%d", p->iPort);
  }
  ssoBufAppend(pBuf, p->path.z, p->path.n);
  if( p->bQuery ){
    ssoBufAppendChar(pBuf, '?');
    ssoBufAppend(pBuf, p->query.z, p->query.n);
  }
  if( p->bFragment ){
    ssoBufAppendChar(pBuf, '#');
    ssoBufAppend(pBuf, p->fragment.z, p->fragment.n);
  }
}

/* ---------------------------------------------------------------------
** Percent-encoding
*/

static void ssoUrlEncode(SsoBuf *pBuf, const char *z, size_t n,
                              unsigned mFlags){
  static const char zHex[] = "0123456789ABCDEF";
  unsigned char mKeep = (mFlags & SSO_URL_FORM) ? U_FORM : U_UNRES;
  size_t i, iRun = 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    char aEsc[3];
    if( aClass[c] & mKeep ) continue;
    ssoBufAppend(pBuf, z+iRun, i-iRun);
    iRun = i+1;
    if( c==' ' && (mFlags & SSO_URL_FORM) ){
      ssoBufAppendChar(pBuf, '+');
      continue;
    }
    aEsc[0] = '%';
    aEsc[1] = zHex[c>>4];
    aEsc[2] = zHex[c&15];
    ssoBufAppend(pBuf, aEsc, 3);
  }
  ssoBufAppend(pBuf, z+iRun, n-iRun);
}

static int ssoUrlDecode(const char *z, size_t n, unsigned mFlags,
                             char *zOut, size_t *pnOut, size_t *piErr){
  size_t i, o = 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    size_t iAt = i;
    if( c=='%' ){
      if( !isHexEscape(z, i, n) ) goto bad;
      c = (unsigned char)(hexVal((unsigned char)z[i+1])<<4
                          | hexVal((unsigned char)z[i+2]));
      i += 2;
    }else if( c=='+' && (mFlags & SSO_URL_FORM) ){
      c = ' ';
    }
    if( c==0 && (mFlags & SSO_URL_NONUL) ) goto bad;
    zOut[o++] = (char)c;
    continue;
  bad:
    zOut[o] = 0;
    *pnOut = 0;
    if( piErr ) *piErr = iAt;
    return SSOPROXY_PARSE;
  }
  zOut[o] = 0;
  *pnOut = o;
  return SSOPROXY_OK;
}

static int ssoUrlDecodeArena(SsoArena *pArena, const char *z, size_t n,
                                  unsigned mFlags, SsoStr *pOut,
                                  size_t *piErr){
  char *zOut = ssoArenaAlloc(pArena, n+1);
  size_t nOut = 0;
  int rc;
  pOut->z = "";
  pOut->n = 0;
  if( zOut==0 ) return SSOPROXY_NOMEM;
  rc = ssoUrlDecode(z, n, mFlags, zOut, &nOut, piErr);
  if( rc==SSOPROXY_OK ){
    pOut->z = zOut;
    pOut->n = nOut;
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Query strings and form bodies
*/

static int ssoFormParse(SsoArena *pArena, const char *z, size_t n,
                             SsoForm *pForm, size_t *piErr){
  SsoFormParam *aParam;
  char *zText;
  size_t i, iStart = 0, iBad = 0;
  int nPair = 0, k = 0, rc = SSOPROXY_OK;
  pForm->aParam = 0;
  pForm->nParam = 0;
  /* First pass: count the non-empty pairs, so that a body of a million
  ** '&'-separated pairs costs nothing before it is refused. */
  for(i=0; i<=n; i++){
    if( i<n && z[i]!='&' ) continue;
    if( i>iStart && ++nPair>SSO_FORM_MAX_PARAMS ){
      if( piErr ) *piErr = iStart;
      return SSOPROXY_TOOBIG;
    }
    iStart = i+1;
  }
  if( nPair==0 ) return SSOPROXY_OK;
  /* Decoded text is never longer than the input: n bytes plus a NUL
  ** after each name and each value is enough for all of it. */
  aParam = ssoArenaAlloc(pArena, sizeof(SsoFormParam)*(size_t)nPair);
  zText = ssoArenaAlloc(pArena, n + 2*(size_t)nPair);
  if( aParam==0 || zText==0 ) return SSOPROXY_NOMEM;
  iStart = 0;
  for(i=0; i<=n && rc==SSOPROXY_OK; i++){
    const char *zEq;
    size_t nName, iErr = 0;
    if( i<n && z[i]!='&' ) continue;
    if( i>iStart ){
      SsoFormParam *pP = &aParam[k++];
      zEq = memchr(z+iStart, '=', i-iStart);
      nName = zEq ? (size_t)(zEq - (z+iStart)) : i-iStart;
      rc = ssoUrlDecode(z+iStart, nName, SSO_URL_FORM|SSO_URL_NONUL, zText,
                        &pP->name.n, &iErr);
      if( rc ){ iBad = iStart + iErr; break; }
      pP->name.z = zText;
      zText += pP->name.n + 1;
      if( zEq ){
        size_t iVal = iStart + nName + 1;
        rc = ssoUrlDecode(z+iVal, i-iVal, SSO_URL_FORM|SSO_URL_NONUL, zText,
                          &pP->value.n, &iErr);
        if( rc ){ iBad = iVal + iErr; break; }
      }else{
        zText[0] = 0;
        pP->value.n = 0;
      }
      pP->value.z = zText;
      zText += pP->value.n + 1;
    }
    iStart = i+1;
  }
  if( rc ){
    if( piErr ) *piErr = iBad;
    return rc;
  }
  assert( k==nPair );
  pForm->aParam = aParam;
  pForm->nParam = nPair;
  return SSOPROXY_OK;
}

static int nameIs(const SsoStr *pName, const char *zName, size_t nName){
  return pName->n==nName && memcmp(pName->z, zName, nName)==0;
}

static int ssoFormCount(const SsoForm *pForm, const char *zName){
  size_t nName = strlen(zName);
  int i, nFound = 0;
  for(i=0; i<pForm->nParam; i++){
    if( nameIs(&pForm->aParam[i].name, zName, nName) ) nFound++;
  }
  return nFound;
}

static int ssoFormGet(const SsoForm *pForm, const char *zName,
                           SsoStr *pValue){
  size_t nName = strlen(zName);
  const SsoFormParam *pFound = 0;
  int i;
  if( pValue ){
    pValue->z = "";
    pValue->n = 0;
  }
  for(i=0; i<pForm->nParam; i++){
    if( !nameIs(&pForm->aParam[i].name, zName, nName) ) continue;
    if( pFound ) return SSOPROXY_CONSTRAINT;
    pFound = &pForm->aParam[i];
  }
  if( pFound==0 ) return SSOPROXY_NOTFOUND;
  if( pValue ) *pValue = pFound->value;
  return SSOPROXY_OK;
}

/* Quadratic, but nParam is at most SSO_FORM_MAX_PARAMS. */
static int ssoFormFirstDuplicate(const SsoForm *pForm){
  int i, j;
  for(i=1; i<pForm->nParam; i++){
    const SsoStr *pName = &pForm->aParam[i].name;
    for(j=0; j<i; j++){
      if( nameIs(&pForm->aParam[j].name, pName->z, pName->n) ) return i;
    }
  }
  return -1;
}

static void ssoFormAppend(SsoBuf *pBuf, const char *const *azPair,
                               int nPair){
  int k;
  for(k=0; k<nPair; k++){
    const char *zName = azPair[2*k], *zValue = azPair[2*k+1];
    if( zValue==0 ) continue;
    if( pBuf->n>0 && pBuf->z[pBuf->n-1]!='?' && pBuf->z[pBuf->n-1]!='&' ){
      ssoBufAppendChar(pBuf, '&');
    }
    ssoUrlEncode(pBuf, zName, strlen(zName), SSO_URL_FORM);
    ssoBufAppendChar(pBuf, '=');
    ssoUrlEncode(pBuf, zValue, strlen(zValue), SSO_URL_FORM);
  }
}

static int ssoUrlAppendQuery(SsoBuf *pBuf, const char *zUrl,
                                  size_t nUrl, const char *const *azPair,
                                  int nPair, int bKeepFragment){
  const char *zHash = nUrl ? memchr(zUrl, '#', nUrl) : 0;
  size_t nBase = zHash ? (size_t)(zHash - zUrl) : nUrl;
  int k, bAny = 0;
  if( zHash && !bKeepFragment ) return SSOPROXY_PARSE;
  for(k=0; k<nPair; k++) bAny |= azPair[2*k+1]!=0;
  ssoBufAppend(pBuf, zUrl, nBase);
  if( bAny ){
    /* The builder's last byte is now the URL's, so ssoFormAppend()
    ** adds '&' after an existing query and nothing after '?' or '&'. */
    if( nBase==0 || memchr(zUrl, '?', nBase)==0 ){
      ssoBufAppendChar(pBuf, '?');
    }
    ssoFormAppend(pBuf, azPair, nPair);
  }
  if( zHash ) ssoBufAppend(pBuf, zHash, nUrl-nBase);
  return pBuf->rc;
}

#undef U_SCHEME
#undef U_HOST
#undef U_USER
#undef U_PATH
#undef U_QUERY
#undef U_UNRES
#undef U_FORM
#undef U_HEX
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
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the configuration object behind ssoproxy_config_*. Settings
** come from defaults, a KEY=VALUE file (--config), the environment, the
** API and command-line flags, later sources overriding earlier ones; each
** value remembers where it came from so `ssoproxy config` can say.
**
** Every value is validated when it is set, against the type in the
** SSO_SETTINGS table, so a typo fails at start-up with one message naming
** the setting instead of surprising someone at the first request. In the
** environment, an unknown name with our SSOPROXY_ prefix is an error too
** (it is almost always a misspelling); other unknown variables are none
** of our business.
*/
/* #include "ssoInt.h" */
#include <ctype.h>
#include <strings.h>

typedef struct Setting Setting;
struct Setting {
  const char *zName;      /* Canonical name */
  const char *zAlias;     /* Other accepted name, or NULL */
  int eType;              /* SSO_SET_* */
  const char *zDefault;   /* Default value, or NULL for none */
  long long iMin, iMax;   /* Range of an SSO_SET_INT */
  const char *zEnum;      /* Words of an SSO_SET_ENUM, '|'-separated */
  int bSecret;            /* Never print the value */
  const char *zHelp;      /* One line for --help and the README */
};

#define SSO_SETTING_ROW(id, name, alias, type, dflt, mn, mx, en, secret, help) \
  { name, alias, type, dflt, mn, mx, en, secret, help },
static const Setting aSetting[] = { SSO_SETTINGS(SSO_SETTING_ROW) };

typedef struct Value Value;
struct Value {
  char *zValue;           /* Owned; NULL = unset (use the default) */
  char *zWhere;           /* Owned; "FILE:LINE" for file values, else NULL */
  int eSrc;               /* SSO_SRC_* */
};

struct ssoproxy_config {
  Value aValue[SSO_CFG_COUNT];
  char *zErr;             /* Last error message, owned */
  int bErrNomem;          /* zErr could not be allocated */
};

static void setError(ssoproxy_config *p, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
static void setError(ssoproxy_config *p, const char *zFmt, ...){
  SsoBuf b;
  va_list ap;
  ssoFree(p->zErr);
  ssoBufInit(&b, 0);
  va_start(ap, zFmt);
  ssoBufVPrintf(&b, zFmt, ap);
  va_end(ap);
  p->zErr = ssoBufFinish(&b, 0);
  p->bErrNomem = p->zErr==0;
}

int ssoproxy_config_new(ssoproxy_config **pp){
  *pp = ssoMallocZero(sizeof(ssoproxy_config));
  return *pp ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

void ssoproxy_config_free(ssoproxy_config *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<SSO_CFG_COUNT; i++){
    ssoFree(p->aValue[i].zValue);
    ssoFree(p->aValue[i].zWhere);
  }
  ssoFree(p->zErr);
  ssoFree(p);
}

const char *ssoproxy_config_errmsg(const ssoproxy_config *p){
  if( p==0 ) return "no configuration";
  if( p->bErrNomem ) return "out of memory";
  return p->zErr ? p->zErr : "not an error";
}

static int findSetting(const char *zName){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    if( strcmp(aSetting[i].zName, zName)==0 ) return i;
    if( aSetting[i].zAlias && strcmp(aSetting[i].zAlias, zName)==0 ) return i;
  }
  return -1;
}

/* Parse a decimal integer with no sign tricks, spaces or overflow. */
static int parseInt(const char *z, long long *piOut){
  long long v = 0;
  int bNeg = 0;
  if( *z=='-' ){ bNeg = 1; z++; }
  if( *z==0 ) return 0;
  for(; *z; z++){
    if( *z<'0' || *z>'9' ) return 0;
    if( v > (LLONG_MAX - (*z-'0'))/10 ) return 0;
    v = v*10 + (*z-'0');
  }
  *piOut = bNeg ? -v : v;
  return 1;
}

static int boolValue(const char *z){
  static const char *const azTrue[] = { "1", "true", "yes", "on" };
  static const char *const azFalse[] = { "0", "false", "no", "off" };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTrue); i++){
    if( strcasecmp(z, azTrue[i])==0 ) return 1;
    if( strcasecmp(z, azFalse[i])==0 ) return 0;
  }
  return -1;
}

static int enumHas(const char *zEnum, const char *z){
  size_t n = strlen(z);
  while( zEnum && *zEnum ){
    const char *zEnd = strchr(zEnum, '|');
    size_t nWord = zEnd ? (size_t)(zEnd-zEnum) : strlen(zEnum);
    if( nWord==n && memcmp(zEnum, z, n)==0 ) return 1;
    zEnum = zEnd ? zEnd+1 : 0;
  }
  return 0;
}

/*
** host:port where host is a name, an IPv4 address or a bracketed IPv6
** address, and port is 0..65535. The transport layer resolves it; here
** we only refuse what can never work.
*/
static int validAddr(const char *z){
  const char *zColon;
  long long iPort;
  if( z[0]=='[' ){
    const char *zEnd = strchr(z, ']');
    if( zEnd==0 || zEnd==z+1 || zEnd[1]!=':' ) return 0;
    for(z=z+1; z<zEnd; z++){
      if( !isxdigit((unsigned char)*z) && *z!=':' && *z!='.' ) return 0;
    }
    zColon = zEnd+1;
  }else{
    zColon = strrchr(z, ':');
    if( zColon==0 || zColon==z ) return 0;
    for(; z<zColon; z++){
      if( !isalnum((unsigned char)*z) && *z!='.' && *z!='-' ) return 0;
    }
  }
  if( !parseInt(zColon+1, &iPort) || zColon[1]=='-' ) return 0;
  return iPort>=0 && iPort<=65535;
}

/* Returns 1 if zValue is acceptable for setting i, else sets an error. */
static int validate(ssoproxy_config *p, int i, const char *zValue,
                    const char *zWhere){
  const Setting *s = &aSetting[i];
  const char *zPre = zWhere ? zWhere : "";
  const char *zSep = zWhere ? ": " : "";
  const char *zShow = s->bSecret ? "(hidden)" : zValue;
  long long v;
  const char *z;
  for(z=zValue; *z; z++){
    if( (unsigned char)*z<0x20 || *z==0x7f ){
      setError(p, "%s%sinvalid value for %s: control character", zPre, zSep,
               s->zName);
      return 0;
    }
  }
  if( z-zValue > SSO_CONFIG_MAX_VALUE ){
    setError(p, "%s%sinvalid value for %s: longer than %d bytes", zPre, zSep,
             s->zName, SSO_CONFIG_MAX_VALUE);
    return 0;
  }
  switch( s->eType ){
    case SSO_SET_INT:
      if( parseInt(zValue, &v) && v>=s->iMin && v<=s->iMax ) return 1;
      setError(p, "%s%sinvalid value for %s: \"%s\" (expected an integer "
               "from %lld to %lld)", zPre, zSep, s->zName, zShow, s->iMin,
               s->iMax);
      return 0;
    case SSO_SET_BOOL:
      if( boolValue(zValue)>=0 ) return 1;
      setError(p, "%s%sinvalid value for %s: \"%s\" (expected true or false)",
               zPre, zSep, s->zName, zShow);
      return 0;
    case SSO_SET_ENUM:
      if( enumHas(s->zEnum, zValue) ) return 1;
      setError(p, "%s%sinvalid value for %s: \"%s\" (expected one of %s)",
               zPre, zSep, s->zName, zShow, s->zEnum);
      return 0;
    case SSO_SET_ADDR:
      if( validAddr(zValue) ) return 1;
      setError(p, "%s%sinvalid value for %s: \"%s\" (expected host:port, "
               "e.g. 127.0.0.1:4000 or [::1]:4000)", zPre, zSep, s->zName,
               zShow);
      return 0;
  }
  return 1;
}

/*
** Set zName to zValue (copied). An empty value unsets the setting, so a
** later source can return it to its default. On error the configuration
** is unchanged and the message is in ssoproxy_config_errmsg().
*/
static int ssoConfigSet(ssoproxy_config *p, const char *zName,
                             const char *zValue, int eSrc,
                             const char *zWhere){
  int i = findSetting(zName);
  char *zNew = 0, *zNewWhere = 0;
  Value *v;
  if( i<0 ){
    setError(p, "%s%sunknown setting %s", zWhere ? zWhere : "",
             zWhere ? ": " : "", zName);
    return SSOPROXY_CONFIG;
  }
  if( zValue && zValue[0] ){
    if( !validate(p, i, zValue, zWhere) ) return SSOPROXY_CONFIG;
    zNew = ssoStrdup(zValue);
    if( zNew==0 ) return SSOPROXY_NOMEM;
  }
  if( zWhere ){
    zNewWhere = ssoStrdup(zWhere);
    if( zNewWhere==0 ){
      ssoFree(zNew);
      return SSOPROXY_NOMEM;
    }
  }
  v = &p->aValue[i];
  ssoFree(v->zValue);
  ssoFree(v->zWhere);
  v->zValue = zNew;
  v->zWhere = zNewWhere;
  v->eSrc = eSrc;
  return SSOPROXY_OK;
}

int ssoproxy_config_set(ssoproxy_config *p, const char *zName,
                        const char *zValue){
  if( p==0 || zName==0 ) return SSOPROXY_MISUSE;
  return ssoConfigSet(p, zName, zValue, SSO_SRC_API, 0);
}

extern char **environ;

int ssoproxy_config_load_env(ssoproxy_config *p){
  int i, rc;
  char **pz;
  if( p==0 ) return SSOPROXY_MISUSE;
  for(pz=environ; pz && *pz; pz++){
    const char *zEq = strchr(*pz, '=');
    char zName[128];
    size_t n;
    if( strncmp(*pz, "SSOPROXY_", 9)!=0 || zEq==0 ) continue;
    n = (size_t)(zEq - *pz);
    if( n>=sizeof(zName) ) n = sizeof(zName)-1;
    memcpy(zName, *pz, n);
    zName[n] = 0;
    if( findSetting(zName)<0 ){
      setError(p, "unknown setting %s in the environment", zName);
      return SSOPROXY_CONFIG;
    }
  }
  for(i=0; i<SSO_CFG_COUNT; i++){
    const char *zVal = getenv(aSetting[i].zName);
    const char *zName = aSetting[i].zName;
    if( zVal==0 && aSetting[i].zAlias ){
      zName = aSetting[i].zAlias;
      zVal = getenv(zName);
    }
    if( zVal==0 ) continue;
    rc = ssoConfigSet(p, zName, zVal, SSO_SRC_ENV, 0);
    if( rc ) return rc;
  }
  return SSOPROXY_OK;
}

/* Trim spaces and tabs from both ends of z[0..*pn). */
static const char *trim(const char *z, size_t *pn){
  size_t n = *pn;
  while( n>0 && (*z==' ' || *z=='\t') ){ z++; n--; }
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\r') ) n--;
  *pn = n;
  return z;
}

/*
** One line of a config file: blank, "# comment", or NAME=VALUE with an
** optional "export " in front and optional matching quotes around the
** value (so a shell-style env file works unchanged).
*/
static int fileLine(ssoproxy_config *p, const char *z, size_t n,
                    const char *zWhere){
  const char *zEq;
  char zName[128];
  char *zValue;
  size_t nName, nVal;
  int rc;
  z = trim(z, &n);
  if( n==0 || z[0]=='#' ) return SSOPROXY_OK;
  if( n>7 && memcmp(z, "export ", 7)==0 ){ z += 7; n -= 7; z = trim(z, &n); }
  zEq = memchr(z, '=', n);
  if( zEq==0 ){
    setError(p, "%s: expected NAME=VALUE", zWhere);
    return SSOPROXY_CONFIG;
  }
  nName = (size_t)(zEq - z);
  trim(z, &nName);
  if( nName==0 || nName>=sizeof(zName) ){
    setError(p, "%s: expected NAME=VALUE", zWhere);
    return SSOPROXY_CONFIG;
  }
  memcpy(zName, z, nName);
  zName[nName] = 0;
  nVal = (size_t)((z+n) - (zEq+1));
  z = trim(zEq+1, &nVal);
  if( nVal>=2 && (z[0]=='"' || z[0]=='\'') && z[nVal-1]==z[0] ){
    z++;
    nVal -= 2;
  }else if( nVal>=1 && (z[0]=='"' || z[0]=='\'') ){
    setError(p, "%s: unterminated quote in the value of %s", zWhere, zName);
    return SSOPROXY_CONFIG;
  }
  zValue = ssoStrndup(z, nVal);
  if( zValue==0 ) return SSOPROXY_NOMEM;
  rc = ssoConfigSet(p, zName, zValue, SSO_SRC_FILE, zWhere);
  ssoFree(zValue);
  return rc;
}

int ssoproxy_config_load_file(ssoproxy_config *p, const char *zPath){
  char *zText = 0;
  size_t nText = 0, i = 0;
  int rc, iLine = 0;
  if( p==0 || zPath==0 ) return SSOPROXY_MISUSE;
  rc = ssoOsReadFile(zPath, SSO_CONFIG_MAX_FILE, &zText, &nText);
  if( rc==SSOPROXY_TOOBIG ){
    setError(p, "config file %s is larger than %u bytes", zPath,
             SSO_CONFIG_MAX_FILE);
    return SSOPROXY_CONFIG;
  }
  if( rc==SSOPROXY_IOERR ){
    setError(p, "cannot read config file %s: %s", zPath, strerror(errno));
    return SSOPROXY_CONFIG;
  }
  if( rc ) return rc;
  if( memchr(zText, 0, nText) ){
    setError(p, "config file %s contains a NUL byte", zPath);
    ssoFree(zText);
    return SSOPROXY_CONFIG;
  }
  while( i<nText && rc==SSOPROXY_OK ){
    const char *zEol = memchr(zText+i, '\n', nText-i);
    size_t n = zEol ? (size_t)(zEol-(zText+i)) : nText-i;
    char zWhere[512];
    snprintf(zWhere, sizeof(zWhere), "%s:%d", zPath, ++iLine);
    rc = fileLine(p, zText+i, n, zWhere);
    i += n+1;
  }
  ssoFree(zText);
  return rc;
}

static const char *ssoConfigStr(const ssoproxy_config *p, int i){
  assert( i>=0 && i<SSO_CFG_COUNT );
  return p->aValue[i].zValue ? p->aValue[i].zValue : aSetting[i].zDefault;
}

static long long ssoConfigInt(const ssoproxy_config *p, int i){
  long long v = 0;
  const char *z = ssoConfigStr(p, i);
  assert( aSetting[i].eType==SSO_SET_INT );
  if( z ) parseInt(z, &v);
  return v;
}

static int ssoConfigBool(const ssoproxy_config *p, int i){
  const char *z = ssoConfigStr(p, i);
  assert( aSetting[i].eType==SSO_SET_BOOL );
  return z ? boolValue(z)==1 : 0;
}

static int ssoConfigCopy(const ssoproxy_config *pFrom,
                              ssoproxy_config **pp){
  ssoproxy_config *p;
  int i, rc = ssoproxy_config_new(&p);
  if( rc ) return rc;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Value *v = &pFrom->aValue[i];
    p->aValue[i].eSrc = v->eSrc;
    if( (v->zValue && (p->aValue[i].zValue = ssoStrdup(v->zValue))==0)
     || (v->zWhere && (p->aValue[i].zWhere = ssoStrdup(v->zWhere))==0) ){
      ssoproxy_config_free(p);
      return SSOPROXY_NOMEM;
    }
  }
  *pp = p;
  return SSOPROXY_OK;
}

static const char *sourceName(const Value *v){
  static const char *const azSrc[] = { "default", "file", "env", "api", "flag" };
  if( v->zValue==0 && v->eSrc==SSO_SRC_DEFAULT ) return "default";
  return azSrc[v->eSrc];
}

static void ssoConfigDump(const ssoproxy_config *p, SsoBuf *b){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Value *v = &p->aValue[i];
    const char *z = ssoConfigStr(p, i);
    ssoBufPrintf(b, "%s=%s", aSetting[i].zName,
                 z==0 ? "" : aSetting[i].bSecret ? "********" : z);
    ssoBufPrintf(b, "  # %s%s%s%s\n", sourceName(v),
                 v->zWhere ? " " : "", v->zWhere ? v->zWhere : "",
                 z==0 ? ", unset" : "");
  }
}

static void ssoConfigHelp(SsoBuf *b){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Setting *s = &aSetting[i];
    ssoBufPrintf(b, "  %-22s %s", s->zName, s->zHelp);
    if( s->zDefault && s->zDefault[0] ){
      ssoBufPrintf(b, " [%s]", s->zDefault);
    }
    if( s->zAlias ) ssoBufPrintf(b, " (also %s)", s->zAlias);
    ssoBufAppendChar(b, '\n');
  }
}
/************** End of config.c **************/
/************** Begin file app.c **************/
/* #include "ssoInt.h" */
const char *ssoproxy_libversion(void){ return SSOPROXY_VERSION; }
int ssoproxy_libversion_number(void){ return SSOPROXY_VERSION_NUMBER; }
const char *ssoproxy_sourceid(void){ return SSOPROXY_SOURCE_ID; }
const char *ssoproxy_errstr(int rc){ (void)rc; return "x"; }
int ssoproxy_open(const ssoproxy_config *p, ssoproxy **pp){ (void)p; *pp=0; return 1; }
int ssoproxy_run(ssoproxy *p){ (void)p; return 1; }
void ssoproxy_stop(ssoproxy *p){ (void)p; }
int ssoproxy_close(ssoproxy *p){ (void)p; return 0; }
const char *ssoproxy_errmsg(const ssoproxy *p){ (void)p; return "x"; }
/************** End of app.c **************/
/************** Begin file main.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the command line. ssoproxy_main() is the whole program as a
** function, so a host that embeds ssoproxy.c can offer the same CLI; the
** main() at the bottom is left out with -DSSOPROXY_OMIT_MAIN.
**
** Exit status: 0 success, 1 a runtime failure (database, socket...), 2 a
** usage or configuration error, so scripts can tell "fix your settings"
** from "something broke".
*/
/* #include "ssoInt.h" */
#include <signal.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/*
** The server the signal handlers stop. A signal handler can reach nothing
** else; ssoproxy_stop() only sets a flag and writes to a wake-up fd, both
** async-signal-safe.
*/
static ssoproxy *volatile pSignalTarget;

static void onStopSignal(int sig){
  SSO_UNUSED(sig);
  if( pSignalTarget ) ssoproxy_stop(pSignalTarget);
}

static void printUsage(FILE *out){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoConfigHelp(&b);
  fprintf(out,
    "usage: ssoproxy [OPTIONS] [COMMAND]\n"
    "\n"
    "Single sign-on gateway for OpenAI-compatible LLM APIs.\n"
    "\n"
    "Commands:\n"
    "  serve          run the server (the default)\n"
    "  config         print the effective configuration, secrets masked,\n"
    "                 with where each value came from, and exit\n"
    "  version        print the version and source id, and exit\n"
    "  help           print this text\n"
    "\n"
    "Options:\n"
    "  --config FILE  read NAME=VALUE lines from FILE (same names as the\n"
    "                 environment); the environment overrides the file and\n"
    "                 options override both\n"
    "  --listen ADDR  same as SSOPROXY_LISTEN\n"
    "  --db FILE      same as SSOPROXY_DB\n"
    "  -h, --help     print this text\n"
    "  -V, --version  print the version\n"
    "\n"
    "Settings (environment variables or --config lines):\n"
    "%s", ssoBufStr(&b));
  ssoBufFree(&b);
}

/* The options that name a setting, and the setting they set. */
static const struct { const char *zOpt; const char *zSetting; } aOptSet[] = {
  { "--listen", "SSOPROXY_LISTEN" },
  { "--db",     "SSOPROXY_DB" },
};

typedef struct Cli Cli;
struct Cli {
  const char *zCommand;     /* "serve", "config", "version", "help" */
  const char *zConfigFile;  /* --config FILE, or NULL */
  const char *azFlag[SSO_ARRAYSIZE(aOptSet)];   /* Option values */
};

/*
** "--name value" or "--name=value": returns the value, or NULL when
** argv[*pi] is not this option. A missing value is reported and returned
** as "" with *pbErr set.
*/
static const char *optValue(int argc, char **argv, int *pi,
                            const char *zOpt, int *pbErr){
  size_t n = strlen(zOpt);
  const char *zArg = argv[*pi];
  if( strncmp(zArg, zOpt, n)!=0 ) return 0;
  if( zArg[n]=='=' ) return zArg+n+1;
  if( zArg[n]!=0 ) return 0;
  if( *pi+1>=argc ){
    fprintf(stderr, "ssoproxy: option %s needs a value\n", zOpt);
    *pbErr = 1;
    return "";
  }
  return argv[++*pi];
}

static int parseArgs(int argc, char **argv, Cli *pCli){
  int i, bErr = 0;
  size_t j;
  memset(pCli, 0, sizeof(*pCli));
  pCli->zCommand = "serve";
  for(i=1; i<argc; i++){
    const char *z = argv[i], *zVal;
    if( strcmp(z, "-h")==0 || strcmp(z, "--help")==0 || strcmp(z, "help")==0 ){
      pCli->zCommand = "help";
      continue;
    }
    if( strcmp(z, "-V")==0 || strcmp(z, "--version")==0
     || strcmp(z, "version")==0 ){
      pCli->zCommand = "version";
      continue;
    }
    if( strcmp(z, "serve")==0 || strcmp(z, "config")==0 ){
      pCli->zCommand = z;
      continue;
    }
    if( (zVal = optValue(argc, argv, &i, "--config", &bErr))!=0 ){
      if( bErr ) return EXIT_USAGE;
      pCli->zConfigFile = zVal;
      continue;
    }
    for(j=0; j<SSO_ARRAYSIZE(aOptSet); j++){
      zVal = optValue(argc, argv, &i, aOptSet[j].zOpt, &bErr);
      if( zVal ) break;
    }
    if( bErr ) return EXIT_USAGE;
    if( j<SSO_ARRAYSIZE(aOptSet) ){
      pCli->azFlag[j] = zVal;
      continue;
    }
    fprintf(stderr, "ssoproxy: unknown %s %s; see ssoproxy --help\n",
            z[0]=='-' ? "option" : "command", z);
    return EXIT_USAGE;
  }
  return 0;
}

/* Defaults, then --config FILE, then the environment, then options. */
static int loadConfig(const Cli *pCli, ssoproxy_config **ppCfg){
  ssoproxy_config *pCfg = 0;
  size_t j;
  int rc = ssoproxy_config_new(&pCfg);
  if( rc==SSOPROXY_OK && pCli->zConfigFile ){
    rc = ssoproxy_config_load_file(pCfg, pCli->zConfigFile);
  }
  if( rc==SSOPROXY_OK ) rc = ssoproxy_config_load_env(pCfg);
  for(j=0; rc==SSOPROXY_OK && j<SSO_ARRAYSIZE(aOptSet); j++){
    if( pCli->azFlag[j]==0 ) continue;
    rc = ssoConfigSet(pCfg, aOptSet[j].zSetting, pCli->azFlag[j],
                      SSO_SRC_FLAG, aOptSet[j].zOpt);
  }
  if( rc ){
    fprintf(stderr, "ssoproxy: %s\n", rc==SSOPROXY_NOMEM ? "out of memory"
            : ssoproxy_config_errmsg(pCfg));
    ssoproxy_config_free(pCfg);
    return rc==SSOPROXY_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
  }
  *ppCfg = pCfg;
  return 0;
}

static int serve(const ssoproxy_config *pCfg){
  ssoproxy *pSrv = 0;
  struct sigaction sa;
  int rc = ssoproxy_open(pCfg, &pSrv);
  if( rc ){
    fprintf(stderr, "ssoproxy: %s\n", pSrv ? ssoproxy_errmsg(pSrv)
            : ssoproxy_errstr(rc));
    ssoproxy_close(pSrv);
    return rc==SSOPROXY_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  pSignalTarget = pSrv;
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  rc = ssoproxy_run(pSrv);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  pSignalTarget = 0;
  if( rc ) fprintf(stderr, "ssoproxy: %s\n", ssoproxy_errmsg(pSrv));
  ssoproxy_close(pSrv);
  return rc ? EXIT_RUNTIME : 0;
}

int ssoproxy_main(int argc, char **argv){
  Cli cli;
  ssoproxy_config *pCfg = 0;
  int rc = parseArgs(argc, argv, &cli);
  if( rc ) return rc;
  if( strcmp(cli.zCommand, "help")==0 ){
    printUsage(stdout);
    return 0;
  }
  if( strcmp(cli.zCommand, "version")==0 ){
    printf("ssoproxy %s (source %s)\n", ssoproxy_libversion(),
           ssoproxy_sourceid());
    return 0;
  }
  rc = loadConfig(&cli, &pCfg);
  if( rc ) return rc;
  if( strcmp(cli.zCommand, "config")==0 ){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoConfigDump(pCfg, &b);
    fputs(ssoBufStr(&b), stdout);
    rc = b.rc ? EXIT_RUNTIME : 0;
    ssoBufFree(&b);
  }else{
    rc = serve(pCfg);
  }
  ssoproxy_config_free(pCfg);
  return rc;
}

#ifndef SSOPROXY_OMIT_MAIN
int main(int argc, char **argv){
  return ssoproxy_main(argc, argv);
}
#endif
/************** End of main.c **************/
/************** End of the ssoproxy amalgamation **************/
