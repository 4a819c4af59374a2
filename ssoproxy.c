/******************************************************************************
** This file is the ssoproxy amalgamation, version 0.1.0:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: 6a7db95af5405625f288eeb865d48680b48fa50f631429d797bc78456dd5d812
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
#include <signal.h>         /* sigset_t in loop.h */
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

/* JOSE: id_tokens and JWK sets (src/jose.c) */
#define SSO_JOSE_MAX_TOKEN   16384      /* Bytes in one compact JWS */
#define SSO_JOSE_MAX_JWKS    (256u<<10) /* Bytes in one JWKS document */
#define SSO_JOSE_MAX_KEYS    64         /* Entries in a JWKS "keys" array */
#define SSO_JOSE_MAX_KID     256        /* Bytes in a key id */
#define SSO_JOSE_MIN_RSA_BITS 2048      /* Smallest RSA modulus kept */
#define SSO_JOSE_MAX_RSA_BITS 8192      /* Largest RSA modulus kept */
#define SSO_JOSE_MAX_RSA_E   8          /* Bytes in an RSA public exponent */
#define SSO_JOSE_MAX_SUB     255        /* Bytes in "sub" (OIDC Core §2) */

/* OpenID Connect relying party (src/oidc.c) */
#define SSO_OIDC_STATE_TTL_S     300        /* Life of a login state, seconds */
#define SSO_OIDC_STATE_TTL_MAX_S 3600       /* Longest SSOPROXY_LOGIN_STATE_TTL */
#define SSO_OIDC_CALL_MS         15000      /* Wait for the IdP's answer (its
                                            ** first byte, or any silence) */
#define SSO_OIDC_META_MS         3600000    /* Discovery and JWKS re-read after */
#define SSO_OIDC_JWKS_FORCE_MS   10000      /* Forced JWKS re-fetch at most this
                                            ** often (an unknown "kid") */
#define SSO_OIDC_SKEW_MS         120000     /* Clock skew allowed on exp, iat */
#define SSO_OIDC_IAT_AGE_MS      600000     /* Oldest id_token "iat" accepted */
#define SSO_OIDC_MAX_DOC         (256u<<10) /* Bytes of a discovery, token or
                                            ** userinfo answer */
#define SSO_OIDC_MAX_HEADERS     16         /* GENERIC_SSO_HEADERS pairs */
#define SSO_OIDC_MAX_GROUPS      1024       /* Groups read from the claim */
#define SSO_OIDC_MAX_MAPPED      256        /* Group names in role mappings */
#define SSO_OIDC_ARENA           (2u<<20)   /* Memory of one login in flight */

/* Configuration (src/config.c) */
#define SSO_CONFIG_MAX_FILE  (1u << 20) /* Bytes in a --config file */
#define SSO_CONFIG_MAX_VALUE 8192       /* Bytes in one setting's value */

/* HTTP transport (src/http.c, src/server.c): defaults of server settings */
#define SSO_HTTP_MAX_LINE        8192       /* Request line bytes: 414 past it */
#define SSO_HTTP_MAX_HEAD        16384      /* Whole request head bytes: 431 */
#define SSO_HTTP_MAX_HEADERS     64         /* Header fields per request: 431 */
#define SSO_HTTP_MAX_BODY        (32u << 20)/* Request body bytes: 413 past it */
#define SSO_HTTP_MAX_CHUNK_LINE  4096       /* One chunk-size line or trailer line */
#define SSO_HTTP_MAX_CHUNK_OVER  65536      /* Chunk framing bytes beyond the data */
#define SSO_SERVER_LISTEN        "127.0.0.1:4000" /* Default listen address */
#define SSO_SERVER_MAX_WORKERS   64         /* Ceiling on worker threads */
#define SSO_SERVER_MAX_CONN      1024       /* Open client connections, all workers */
#define SSO_SERVER_HEADER_MS     10000      /* First byte to complete head: 408 */
#define SSO_SERVER_BODY_MS       30000      /* Longest pause while a body arrives */
#define SSO_SERVER_KEEPALIVE_MS  15000      /* Idle keep-alive connection lifetime */
#define SSO_SERVER_WRITE_MS      60000      /* Longest stall of a reader of ours */
#define SSO_SERVER_SHUTDOWN_MS   10000      /* Graceful stop: in-flight deadline */
#define SSO_SERVER_LINGER_MS     2000       /* Drain input after a closing answer */
#define SSO_SERVER_WRITE_HIGH    (256u << 10)/* Queued output that pauses a producer */
#define SSO_SERVER_READ_INIT     8192       /* First size of a connection's input */

/* TLS (src/tls.c) */
#define SSO_TLS_MAX_PEM      (1u << 20) /* Bytes in a certificate or key file */

/* Outbound HTTP client (src/client.c): defaults of client settings */
#define SSO_CLIENT_CONNECT_MS    10000      /* Resolve, connect and TLS handshake */
#define SSO_CLIENT_FIRST_BYTE_MS 600000     /* Request sent to first response byte */
#define SSO_CLIENT_IDLE_MS       120000     /* Longest silence inside a response */
#define SSO_CLIENT_MAX_RESPONSE  (64u<<20)  /* Response body bytes */
#define SSO_CLIENT_MAX_HEAD      65536      /* Response head bytes */
#define SSO_CLIENT_MAX_HEADERS   128        /* Response header fields */
#define SSO_CLIENT_POOL_PER_ORIGIN 64       /* Idle kept-alive connections per origin:
                                            ** at least the concurrency a worker
                                            ** sees, or connections churn */
#define SSO_CLIENT_POOL_IDLE_MS  4000       /* Idle pooled connection lifetime: below
                                            ** the 5 s of common servers (uvicorn) */
#define SSO_CLIENT_RESOLVERS     4          /* Resolver threads per client */
#define SSO_CLIENT_MAX_ADDRS     8          /* Addresses tried per host name */
#define SSO_CLIENT_READ_CHUNK    16384      /* Bytes read per call once in a body */
#define SSO_CLIENT_COALESCE_BODY 16384      /* Request bodies up to this size are
                                            ** sent in one write with the head */

/* Storage (src/store.c) */
#define SSO_DB_BUSY_TIMEOUT_MS 5000     /* Wait for a lock this long */
#define SSO_DB_MAX_PAGE      1000       /* Rows in one page of a list */

/* Management API (src/api.c) */
#define SSO_API_MAX_TEXT     256        /* Bytes of an id, alias, e-mail, name */
#define SSO_API_MAX_JSON     65536      /* Bytes of a key's metadata or models */
#define SSO_API_MAX_ITEMS    1000       /* Entries in keys, user_ids, models */
#define SSO_API_MAX_PAGE     100        /* Rows in one page of a list endpoint */
#define SSO_API_TOUCH_SLOTS  1024       /* Keys whose last use a worker batches */
#define SSO_API_TOUCH_MS     1000       /* Interval of the last-used writes */
#define SSO_API_TOUCH_GRAIN  60000      /* Precision of a key's last use, ms */
#define SSO_API_MAX_DURATION (100LL*366*86400*1000) /* Longest key lifetime, ms */

/* The /v1 proxy (src/proxy.c) */
#define SSO_PROXY_MAX_FILE   (1u << 20) /* Bytes in the models file */
#define SSO_PROXY_MAX_LINE   4096       /* Bytes in one line of it */
#define SSO_PROXY_MAX_MODELS 10000      /* Models in it */
#define SSO_PROXY_MAX_TIMEOUT_MS 86400000 /* Largest per-model timeout */
#define SSO_PROXY_BUFFER_MAX (1u << 20) /* Answers up to this go out whole,
                                        ** larger ones are streamed */
#define SSO_PROXY_MAX_STREAM (SIZE_MAX/2) /* A streamed answer is not held:
                                        ** no cap but the connection's life */
#define SSO_PROXY_TAIL       8192       /* Tail of a streamed JSON answer
                                        ** kept to read its usage */
#define SSO_PROXY_SSE_LINE   65536      /* Longest SSE line read for usage */
#define SSO_PROXY_LIMIT_SLOTS 4096      /* Keys with rpm/tpm windows at once */
#define SSO_PROXY_LIMIT_WINDOW_MS 60000 /* The rpm/tpm window */
#define SSO_PROXY_USAGE_SLOTS 1024      /* Keys whose usage a worker batches */
#define SSO_PROXY_USAGE_MS   1000       /* Interval of the usage writes */
#define SSO_PROXY_MODEL_CREATED 1677610602 /* "created" of listed models
                                        ** (LiteLLM's constant) */

/* Forward authentication (src/fauth.c) */
#define SSO_FAUTH_MAX_GROUPS 4096       /* Bytes of X-Auth-Request-Groups */

/* Browser sessions (src/session.c) and the web sign-in (src/ui.c) */
#define SSO_SESSION_IDLE_S     28800      /* Idle lifetime default, s (8 h) */
#define SSO_SESSION_MAX_AGE_S  86400      /* Absolute lifetime default, s (24 h) */
#define SSO_SESSION_MAX_S      (366LL*86400) /* Ceiling of both settings, s */
#define SSO_SESSION_TOUCH_MS   60000      /* Note a session's use at most this often */
#define SSO_SESSION_MAX_PAIRS  128        /* Cookie name=value pairs read per request */
#define SSO_UI_LOGIN_FAILURES  10         /* Failed password sign-ins per client ... */
#define SSO_UI_LOGIN_WINDOW_MS 60000      /* ... per this window, then 429 */
#define SSO_UI_LOGIN_SLOTS     1024       /* Client addresses the limiter remembers */
#define SSO_UI_LOGIN_CSRF_S    3600       /* Lifetime of the sign-in form's cookie, s */
#define SSO_UI_MAX_FIELD       1024       /* Bytes of a sign-in form field */

/* API keys for other programs (src/oauth.c) */
#define SSO_OAUTH_MAX_REDIRECT   2048       /* Bytes of a redirect_uri / callback_url */
#define SSO_OAUTH_MAX_ORIGIN     512        /* Bytes of an Origin header compared */
#define SSO_OAUTH_MAX_CLIENT_ID  64         /* Bytes of a public client's client_id */
#define SSO_OAUTH_MAX_STATE      512        /* Bytes of a client's state parameter */
#define SSO_OAUTH_MAX_CODE       256        /* Bytes of a code presented for exchange */
#define SSO_OAUTH_KEY_TTL_S      86400      /* Default key lifetime: the seed PR's 24 h */
#define SSO_OAUTH_CODE_TTL_S     60         /* Authorization codes (RFC 9700: short) */
#define SSO_OAUTH_STATE_TTL_S    300        /* A consent page waiting for an answer */
#define SSO_OAUTH_DEVICE_TTL_S   600        /* Device codes (RFC 8628 §3.2 example) */
#define SSO_OAUTH_INTERVAL_S     5          /* Device polling interval (RFC 8628 §3.2) */
#define SSO_OAUTH_GRANT_KEEP_MS  600000     /* Expired grants kept to detect code reuse */
#define SSO_OAUTH_DEVICE_TRIES   10         /* Wrong user codes per session per window */
#define SSO_OAUTH_DEVICE_TRIES_ALL 100      /* Wrong user codes in all per window */
#define SSO_OAUTH_DEVICE_TRY_MS  300000     /* The window of those counts */
#define SSO_OAUTH_CLI_CLIENT     "ssoproxy-cli" /* client_id of `ssoproxy login` */

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
/* v in decimal: what ssoBufPrintf("%llu") gives, without the printf
** machinery, for paths that run once per request. */
static void ssoBufAppendUint(SsoBuf*, unsigned long long v);
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

/*
** Format an error message into the caller's fixed z[n], truncating if
** need be, and return rc: one line on every error path of an object that
** keeps its last message in a char array. Never allocates, so it works
** when memory is exhausted.
*/
static int ssoErrorf(char *z, size_t n, int rc, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;

#endif /* SSO_BUF_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include log.h in the middle of ssoInt.h **************/
/*
** Layer 0: structured log lines (logfmt or JSON), each written whole.
*/
#ifndef SSO_LOG_H
#define SSO_LOG_H

#define SSO_LOG_DEBUG 0
#define SSO_LOG_INFO  1
#define SSO_LOG_WARN  2
#define SSO_LOG_ERROR 3
#define SSO_LOG_OFF   4

struct timespec;

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

/*
** Batching, per thread: while on, the calling thread's lines are kept
** (up to 4 KiB) and written together, in whole lines, when the batch is
** turned off, when it fills, or by ssoLogFlush(). The event loop turns it
** on for each iteration, so a line waits at most until the end of the
** iteration that logged it. Returns the previous setting, for nesting.
*/
static int ssoLogBatch(int bOn);
static void ssoLogFlush(void);

/* The UTC time of *ts as "YYYY-MM-DDTHH:MM:SS.mmm" in z[0..23) (no NUL),
** as log lines carry it. Exposed for the tests. */
static void ssoLogFormatTime(const struct timespec *ts, char *z);

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
** 1 if z[0..n) is a safe same-origin return-to target: an absolute path
** ("/ui?x=1"), never a URL of another site. Refused: empty, not starting
** with '/', "//host" and "/\\host" (browsers read both as another host),
** any backslash, control character, space or non-ASCII byte, and more
** than SSO_URL_MAX bytes. Used for "rd" and every other return-to value.
*/
static int ssoUrlIsLocalPath(const char *z, size_t n);

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
/************** Include jose.h in the middle of ssoInt.h **************/
/*
** Layer 1: JOSE. Verification of compact JWS (RFC 7515) as OpenID Connect
** id_tokens use them, JWK sets (RFC 7517) holding the verification keys,
** and the id_token claim checks of OpenID Connect Core 1.0 §3.1.3.7.
** Only RS256, PS256 and ES256 are accepted. Besides crypto and tls, the
** only module that includes mbedTLS.
*/
#ifndef SSO_JOSE_H
#define SSO_JOSE_H

/*
** A parsed key set. Immutable once made: it holds the key material as
** bytes, and each verification builds its own short-lived mbedTLS
** contexts, so one set may be shared read-only by several threads.
*/
typedef struct SsoJwks SsoJwks;

/*
** Parse a JWKS document ({"keys":[...]}) of at most SSO_JOSE_MAX_JWKS
** bytes and SSO_JOSE_MAX_KEYS keys. Keys of kty RSA (n, e; modulus of
** SSO_JOSE_MIN_RSA_BITS..SSO_JOSE_MAX_RSA_BITS bits) and EC (crv P-256,
** x, y; the point checked to be on the curve) are kept. A key that is not
** for signatures ("use" other than "sig", "key_ops" without "verify"),
** has another kty (oct, OKP) or curve, an "alg" not usable with its kty,
** or a malformed member is skipped and counted, not fatal.
**
** On success *pp is a new set the caller frees with ssoJwksFree(); it may
** hold no usable key (ssoJwksCount() is 0). A document that is not a JWKS
** at all gives SSOPROXY_PARSE, one over the limits SSOPROXY_TOOBIG, and
** memory exhaustion SSOPROXY_NOMEM; zErr says why and *pp is NULL.
*/
static int ssoJwksParse(const char *z, size_t n, SsoJwks **pp,
                             char *zErr, size_t nErr);
static void ssoJwksFree(SsoJwks*);             /* NULL is a no-op */
static int ssoJwksCount(const SsoJwks*);       /* Usable keys */
static int ssoJwksSkipped(const SsoJwks*);     /* Keys skipped */
/* Why the first skipped key was skipped ("key 2: RSA modulus of 1024
** bits, not 2048..8192"), "" if none was; for the log. */
static const char *ssoJwksSkipReason(const SsoJwks*);

/*
** A decoded compact JWS. The public fields are read-only; the rest is
** private to jose.c. The object does not refer to the token text, which
** the caller may free after ssoJwtDecode().
*/
#define SSO_JOSE_MAX_SIG (SSO_JOSE_MAX_RSA_BITS/8)   /* Signature bytes */
typedef struct SsoJwt SsoJwt;
struct SsoJwt {
  char zAlg[16];                /* Header "alg" as given */
  const char *zKid;             /* Header "kid", NULL if absent */
  SsoJsonDoc *pClaims;          /* Parsed payload, a JSON object */
  SsoJsonDoc *pHeader;          /* Parsed header, a JSON object */
  /* Private */
  unsigned char aHash[SSO_SHA256_LEN];  /* SHA-256 of the signing input */
  size_t nSig;                          /* Bytes of aSig in use */
  unsigned char aSig[SSO_JOSE_MAX_SIG]; /* Decoded signature */
};

/*
** Split z[0..n) at its two dots, base64url-decode the parts (strict, no
** padding) and parse header and payload. SSOPROXY_PARSE with a precise
** zErr for anything malformed: not 3 parts, over SSO_JOSE_MAX_TOKEN
** bytes, a signature longer than SSO_JOSE_MAX_SIG, a header that is not a
** JSON object with a string "alg" (and a string "kid" if any), a "crit"
** header (RFC 7515 §4.1.11: we understand no extension, so must refuse),
** a payload that is not a JSON object, repeated member names in either.
** SSOPROXY_NOMEM when out of memory. The signature is not checked here.
** Whatever the outcome, *p is fit for ssoJwtFree(), which the caller
** must call once done.
*/
static int ssoJwtDecode(const char *z, size_t n, SsoJwt *p,
                             char *zErr, size_t nErr);
static void ssoJwtFree(SsoJwt*);               /* NULL is a no-op */

/*
** Verify the signature against pKeys. Only RS256, PS256 (salt length 32,
** MGF1-SHA256) and ES256 (raw 64-byte r||s, RFC 7518 §3.4) are accepted;
** "none", HS256/384/512 and anything else give SSOPROXY_ERROR.
**
** Key choice: with a "kid", the keys with that kid; one whose kty does
** not fit the alg, or whose "alg" member differs from the header's, is
** not used (SSOPROXY_ERROR if no key of that kid fits). Without a kid,
** every key of the matching kty (RSA for RS/PS, EC P-256 for ES) whose
** "alg" is absent or equal is tried in turn.
**
** Returns SSOPROXY_OK when a key verifies the signature;
** SSOPROXY_NOTFOUND when no key has the kid, or (without a kid) none has
** the kty: the caller may re-fetch the JWKS once and try again;
** SSOPROXY_ERROR for a bad signature, a refused alg or an unfit key;
** SSOPROXY_NOMEM. zErr says why.
*/
static int ssoJwtVerify(const SsoJwt*, const SsoJwks *pKeys,
                             char *zErr, size_t nErr);

/* What ssoJwtCheckClaims() requires of an id_token's claims. */
typedef struct SsoJwtExpect SsoJwtExpect;
struct SsoJwtExpect {
  const char *zIss;     /* "iss" must equal this exactly; NULL: not checked */
  const char *zAud;     /* Client id, required: it must be "aud" (a string)
                        ** or in "aud" (an array); when "aud" has several
                        ** values "azp" is required; "azp", if present,
                        ** must equal zAud */
  const char *zNonce;   /* "nonce" must be present and equal (constant
                        ** time); NULL: none required, one present is fine */
  long long tNow;       /* Now, Unix time in ms */
  int msSkew;           /* Clock skew allowed on exp, iat and nbf, ms */
  long long msMaxAge;   /* "iat" no older than this (plus skew); 0: any */
};

/*
** Check the claims of a decoded (and verified) token: "exp" required and
** now < exp + skew; "iat" required and iat <= now + skew; "nbf", if
** present, nbf <= now + skew; "sub" a non-empty string of at most
** SSO_JOSE_MAX_SUB bytes without NUL; then iss, aud, azp and nonce as in
** SsoJwtExpect. Numeric dates may be integers or decimals (seconds).
** Returns SSOPROXY_OK, SSOPROXY_ERROR with a zErr naming the failed
** claim (the nonce's value is never printed), or SSOPROXY_MISUSE when
** pExp->zAud is NULL.
*/
static int ssoJwtCheckClaims(const SsoJwt*, const SsoJwtExpect *pExp,
                                  char *zErr, size_t nErr);

#endif /* SSO_JOSE_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include loop.h in the middle of ssoInt.h **************/
/*
** Layer 2: the event loop. One loop per thread drives every socket of
** that thread (accepted connections now, outbound ones later), its
** timers and its deferred tasks. epoll on Linux; poll() everywhere else,
** or anywhere when built with -DSSO_USE_POLL.
**
** Nothing in this interface allocates per event: timers and tasks are
** embedded in the caller's objects (intrusive), descriptors are indexed
** in a table that grows with the highest fd.
*/
#ifndef SSO_LOOP_H
#define SSO_LOOP_H

typedef struct SsoLoop SsoLoop;
typedef struct SsoLoopTimer SsoLoopTimer;
typedef struct SsoLoopTask SsoLoopTask;

/* Readiness bits, for interest masks and for callbacks. */
#define SSO_LOOP_READ   1
#define SSO_LOOP_WRITE  2
/*
** SSO_LOOP_HUP: the peer has shut its sending side (TCP FIN: a close or
** a half-close), or the connection failed (RST, error). Asking for it
** does not ask for input: bytes the peer sent and nobody read yet (a
** pipelined request) neither report it nor wake the loop, so a
** connection can watch for a departing client without reading ahead.
** Linux: EPOLLRDHUP / POLLRDHUP. Elsewhere: POLLIN with a recv(MSG_PEEK)
** that must see end of stream; once it sees data instead, only a full
** hang-up (POLLHUP) or error is noticed until the mask changes.
*/
#define SSO_LOOP_HUP    4

/*
** Called on the loop's thread when fd is ready. eEvents holds the ready
** bits among those asked for; an error or hang-up is reported as every
** bit asked for, so the next read or write sees it. The callback may add,
** change or remove any descriptor, its own included.
*/
typedef void (*SsoLoopFdFn)(SsoLoop*, int fd, int eEvents, void *pArg);

/* A timer, embedded in its owner. ssoLoopTimerInit() before first use. */
typedef void (*SsoLoopTimerFn)(SsoLoop*, SsoLoopTimer*, void *pArg);
struct SsoLoopTimer {
  long long iWhen;      /* Deadline the heap is ordered by (monotonic ms) */
  long long iWant;      /* Deadline asked for; > iWhen means "re-arm later" */
  int iHeap;            /* Position in the heap, -1 when not armed */
  SsoLoopTimerFn xFire; /* Called once when the deadline passes */
  void *pArg;
};

/* A task to run once, after the current batch of events. */
typedef void (*SsoLoopTaskFn)(SsoLoop*, SsoLoopTask*, void *pArg);
struct SsoLoopTask {
  SsoLoopTask *pNext;   /* Next queued task */
  int bQueued;          /* On the queue now */
  SsoLoopTaskFn xRun;
  void *pArg;
};

/*
** Create a loop (caller frees with ssoLoopFree) with its wake-up
** descriptor. Returns SSOPROXY_OK, _NOMEM, or _IOERR (errno kept).
*/
static int ssoLoopNew(SsoLoop **ppLoop);
/* Free the loop. Descriptors still registered are not closed. */
static void ssoLoopFree(SsoLoop*);

/*
** Watch fd (already non-blocking) for the events in eMask (0 allowed:
** registered but quiet). Returns SSOPROXY_OK, _NOMEM, _IOERR or _MISUSE
** (fd already watched).
*/
static int ssoLoopAdd(SsoLoop*, int fd, int eMask, SsoLoopFdFn,
                           void *pArg);
/* Change the interest mask of a watched fd. Cheap when unchanged. */
static int ssoLoopMod(SsoLoop*, int fd, int eMask);
/* Stop watching fd (call before close(fd)). No-op if not watched. */
static void ssoLoopDel(SsoLoop*, int fd);

/* Monotonic milliseconds, read once per loop iteration. */
static long long ssoLoopNow(SsoLoop*);

static void ssoLoopTimerInit(SsoLoopTimer*, SsoLoopTimerFn, void *pArg);
/*
** Arm (or re-arm) a timer to fire at monotonic time iWhen. Moving a
** deadline later is O(1) (the heap entry is re-armed lazily when the old
** deadline comes); moving it earlier or arming is O(log n). Returns
** SSOPROXY_OK or _NOMEM (the heap could not grow; the timer stays off).
*/
static int ssoLoopTimerAt(SsoLoop*, SsoLoopTimer*, long long iWhen);
static void ssoLoopTimerStop(SsoLoop*, SsoLoopTimer*);
static int ssoLoopTimerArmed(const SsoLoopTimer*);

static void ssoLoopTaskInit(SsoLoopTask*, SsoLoopTaskFn, void *pArg);
/* Queue a task to run on this loop's thread after the current events
** (at most once however often it is queued). */
static void ssoLoopDefer(SsoLoop*, SsoLoopTask*);
/* Take a queued task back off the queue (its owner is going away). */
static void ssoLoopUndefer(SsoLoop*, SsoLoopTask*);

/*
** Wake-ups. ssoLoopWake() may be called from any thread or from a signal
** handler: it only write()s to the wake descriptor. The loop then calls
** the xWake function set by ssoLoopOnWake() on its own thread.
*/
static void ssoLoopWake(SsoLoop*);
static void ssoLoopOnWake(SsoLoop*, void (*xWake)(SsoLoop*, void*),
                               void *pArg);

/*
** Wait up to msMax (-1: until the next timer or event) and dispatch what
** is ready: descriptors, then due timers, then deferred tasks. Returns
** SSOPROXY_OK or _IOERR if the poller itself failed.
*/
static int ssoLoopRunOnce(SsoLoop*, int msMax);
/* Run iterations until ssoLoopExit() is called on this loop's thread. */
static int ssoLoopRun(SsoLoop*);
static void ssoLoopExit(SsoLoop*);

/* "epoll" or "poll": which backend this build uses. */
static const char *ssoLoopBackend(void);

/*
** Transport methods. A connection reads and writes through a table of
** these, so TLS can slot in under the server and the client without
** either knowing. The plain table calls recv()/send() on the fd.
** Results: >0 bytes moved, 0 orderly end of stream (reads only), or one
** of the negative codes below. WANT_WRITE from a read (or WANT_READ from
** a write) happens with TLS: the caller waits for that event instead.
*/
#define SSO_IO_ERROR      (-1)   /* Connection broken; close it */
#define SSO_IO_WANT_READ  (-2)   /* Try again when readable */
#define SSO_IO_WANT_WRITE (-3)   /* Try again when writable */
typedef struct SsoIoMethods SsoIoMethods;
struct SsoIoMethods {
  long (*xRead)(void *pCtx, int fd, void *pBuf, size_t n);
  long (*xWrite)(void *pCtx, int fd, const void *pBuf, size_t n);
  void (*xFree)(void *pCtx);     /* Release pCtx; NULL if nothing to free */
};
static const SsoIoMethods *ssoLoopPlainIo(void);

/*
** Socket helpers for the transport modules.
*/
/* Make fd non-blocking and close-on-exec. Returns 0 or -1 (errno). */
/*
** Block every asynchronous signal in the calling thread, saving the old
** mask in *pOld; call it around pthread_create() so helper threads never
** take the host's signals (its handler runs on its own thread). Faults
** (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP) stay deliverable:
** blocking them would hide a crash. Restore with pthread_sigmask().
*/
static void ssoLoopBlockSignals(sigset_t *pOld);
static int ssoLoopSetNonBlock(int fd);
/*
** Split "host:port", "[v6]:port" or ":port" into zHost (a buffer of
** nHost bytes; "" for ":port") and *piPort. Returns SSOPROXY_OK or
** SSOPROXY_CONFIG.
*/
static int ssoLoopParseHostPort(const char *zSpec, char *zHost,
                                     size_t nHost, int *piPort);
/*
** Format a socket address as "1.2.3.4:80" or "[::1]:80" into z[nZ].
** pAddr is a struct sockaddr*; returns z.
*/
static char *ssoLoopAddrString(const void *pAddr, char *z, size_t nZ);

#endif /* SSO_LOOP_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include http.h in the middle of ssoInt.h **************/
/*
** Layer 2: HTTP/1.1 message syntax (RFC 9112), shared by the server and
** the future outbound client. Pure functions over caller buffers: nothing
** here allocates, reads a socket or keeps global state.
*/
#ifndef SSO_HTTP_H
#define SSO_HTTP_H

/* One header field: views into the caller's buffer. */
typedef struct SsoHttpHeader SsoHttpHeader;
struct SsoHttpHeader {
  SsoStr name;          /* Field name as received (case preserved) */
  SsoStr value;         /* Value without leading/trailing whitespace */
};

/* How the body of a message is delimited (RFC 9112 §6.3). */
#define SSO_HTTP_BODY_NONE     0   /* No body (or Content-Length: 0) */
#define SSO_HTTP_BODY_LENGTH   1   /* Content-Length bytes follow */
#define SSO_HTTP_BODY_CHUNKED  2   /* Transfer-Encoding: chunked */
#define SSO_HTTP_BODY_EOF      3   /* Response read until close (§6.3 rule 8) */

/*
** A parsed request or response head. The caller sets aHdr/mxHdr (its own
** array and its capacity); the parser fills the rest. Every SsoStr points
** into the buffer that was parsed and lives as long as those bytes do.
*/
typedef struct SsoHttpHead SsoHttpHead;
struct SsoHttpHead {
  SsoStr method;        /* Request: method token */
  SsoStr target;        /* Request: request-target as received */
  int iStatus;          /* Response: status code 100..999 */
  SsoStr reason;        /* Response: reason phrase (may be empty) */
  int iMinor;           /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
  SsoHttpHeader *aHdr;  /* In: caller's array. Out: the fields */
  int mxHdr;            /* In: capacity of aHdr */
  int nHdr;             /* Out: fields stored in aHdr */
  int eBody;            /* SSO_HTTP_BODY_* */
  unsigned long long nBody; /* Content-Length when eBody==_LENGTH */
  unsigned char bClose;     /* Connection ends after this message */
  unsigned char bContinue;  /* Request: "Expect: 100-continue" */
};

/* Limits the head parsers enforce (each a server setting). */
typedef struct SsoHttpLimits SsoHttpLimits;
struct SsoHttpLimits {
  size_t mxLine;        /* Bytes in the request line, CRLF excluded: 414 */
  size_t mxHead;        /* Bytes in the whole head, final CRLF included: 431 */
};

/*
** Parser results. A positive value is the length of the complete head
** (the body starts there). SSO_HTTP_PARTIAL means "call again with more
** bytes". Any other negative value is minus the HTTP status to answer
** with: -400, -414, -417, -431, -501, -505.
*/
#define SSO_HTTP_PARTIAL (-1)

/*
** Parse a request head in z[0..n). nLast is the n of the previous call
** on the same growing buffer (0 the first time): only bytes from nLast on
** are scanned for the end of the head, so feeding a head one byte at a
** time costs O(total), not O(total^2). The head is parsed in full once,
** when its final CRLF has arrived. Leading empty lines are skipped
** (RFC 9112 §2.2) and counted in the returned length.
**
** Strictness (each rejection blocks a known smuggling or desync trick):
** bare CR or bare LF, obsolete line folding, whitespace before a colon,
** non-token bytes in a method or field name, control bytes in a value,
** Content-Length with Transfer-Encoding, two Content-Length fields or a
** non-decimal one, any Transfer-Encoding but exactly "chunked", a missing
** or repeated Host in HTTP/1.1 are all 400; HTTP versions other than 1.0
** and 1.1 are 505; an Expect other than 100-continue is 417.
*/
static int ssoHttpParseRequest(const char *z, size_t n, size_t nLast,
                                    const SsoHttpLimits*, SsoHttpHead*);

/*
** Parse a response head (status line and fields) the same way. The
** caller decides from the request method and the status whether a body
** follows at all (HEAD, 1xx, 204, 304: RFC 9112 §6.3 rules 1-2); this
** function reports framing from the fields only, with SSO_HTTP_BODY_EOF
** when neither Content-Length nor Transfer-Encoding is present. Errors
** are reported as -502 (an invalid upstream answer).
*/
static int ssoHttpParseResponse(const char *z, size_t n, size_t nLast,
                                     const SsoHttpLimits*, SsoHttpHead*);

/*
** Find a field by name, case-insensitively (RFC 9110 §5.1). Returns the
** first match's value in *pVal and 1, or 0 when absent.
*/
static int ssoHttpHeaderFind(const SsoHttpHead*, const char *zName,
                                  SsoStr *pVal);

/*
** Case-insensitive comparison of a view with a NUL-terminated ASCII name.
** Filters compare every field of a request and an answer with lists of
** names, a few hundred calls per proxied request, and nearly all of them
** differ at the first byte: that test is inline. It only rejects: two
** bytes equal but for bit 0x20 may still differ ('[' and '{'), and the
** full comparison decides those.
*/
static int ssoHttpStrIEqFull(SsoStr s, const char *z);
static inline int ssoHttpStrIEq(SsoStr s, const char *z){
  if( s.n>0 && (s.z[0]|0x20)!=(z[0]|0x20) ) return 0;
  return ssoHttpStrIEqFull(s, z);
}

/*
** Incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
** Zero it with ssoHttpChunkedInit() before the first byte of a body.
*/
typedef struct SsoHttpChunked SsoHttpChunked;
struct SsoHttpChunked {
  int eState;           /* Where in the grammar the decoder stands */
  int nDigit;           /* Significant hex digits seen in this size */
  unsigned long long nLeft;  /* Data bytes left in the current chunk */
  unsigned long long nData;  /* Data bytes decoded so far */
  unsigned long long nOver;  /* Framing bytes (sizes, extensions, CRLFs,
                             ** trailers) seen so far */
  size_t nLine;         /* Bytes in the current size or trailer line */
  size_t mxLine;        /* Longest size line or trailer line allowed */
  size_t mxOver;        /* Framing bytes tolerated beyond the data bytes */
};
static void ssoHttpChunkedInit(SsoHttpChunked*, size_t mxLine,
                                    size_t mxOver);

/*
** Decode zIn[0..nIn). Data bytes go to zOut, which may be zIn itself (in
** place: the output never overtakes the input) or a separate buffer of
** at least nIn bytes. On return *pnIn is the input consumed and *pnOut
** the data bytes written. Returns 0 when all input was consumed and more
** is needed, 1 when the body (last chunk and trailer section) is
** complete — input from *pnIn on belongs to the next message — or -400
** on a syntax error or a limit (a size over 2^60, a line over mxLine,
** framing beyond mxOver that outweighs the data). Trailer fields are
** checked and discarded (RFC 9112 §7.1.2 lets a recipient drop them).
*/
static int ssoHttpChunkedDecode(SsoHttpChunked*, const char *zIn,
                                     size_t nIn, char *zOut, size_t *pnIn,
                                     size_t *pnOut);

/* Reason phrase of a status code ("Not Found"); "" if unknown. */
static const char *ssoHttpReason(int iStatus);

/* 1 if z[0..n) is a token (RFC 9110 §5.6.2): method and field names. */
static int ssoHttpIsToken(const char *z, size_t n);

#endif /* SSO_HTTP_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include tls.h in the middle of ssoInt.h **************/
/*
** Layer 2: TLS on the event loop's transport methods (mbedTLS glue).
** The only transport module that includes mbedTLS; it settles the 2.28 /
** 3.x differences so that the server and the client see nothing but an
** SsoIoMethods table and the SSO_IO_* results.
**
** An SsoTls is a configuration, built once at start-up and then only
** read, so every worker thread shares it: a server one (certificate
** chain and private key) or a client one (the certificates we trust, or
** the explicit insecure switch). Each connection gets its own context,
** the pCtx of the transport methods.
*/
#ifndef SSO_TLS_H
#define SSO_TLS_H

typedef struct SsoTls SsoTls;

/*
** A server configuration from a PEM certificate chain (leaf first) and
** a PEM private key (unencrypted). TLS 1.2 and up; 1.3 where the mbedTLS
** build has it. Returns SSOPROXY_OK, SSOPROXY_CONFIG with one clear
** sentence in zErr[nErr] (unreadable file, not a certificate, not a key,
** key and certificate do not match), or SSOPROXY_NOMEM. *pp is set only
** on success; the caller frees it with ssoTlsFree().
*/
static int ssoTlsServerNew(const char *zCertFile, const char *zKeyFile,
                                SsoTls **pp, char *zErr, size_t nErr);

/*
** A client configuration. zCaFile: a PEM file, or a directory of them,
** holding the certificates to trust; NULL to find the system bundle
** (Debian/Ubuntu, Alpine, Fedora/RHEL, openSUSE, BSD, macOS Homebrew, in
** that order, then the directory /etc/ssl/certs). bInsecure: verify
** nothing (the caller logs that loudly); no CA is loaded then.
**
** Returns SSOPROXY_OK; SSOPROXY_CONFIG with zErr set when zCaFile cannot
** be read or holds no certificate at all, or when a system bundle that
** exists cannot be loaded; SSOPROXY_NOMEM. Finding no system bundle at
** all is not an error: https requests then fail with "no trusted CA
** certificates" and ssoTlsCaCount() is 0, which the caller reports.
*/
static int ssoTlsClientNew(const char *zCaFile, int bInsecure,
                                SsoTls **pp, char *zErr, size_t nErr);
static void ssoTlsFree(SsoTls*);

/* Client configurations: where the trusted certificates came from (a
** path, "" if none), how many loaded, and how many were skipped because
** mbedTLS could not parse them (a bundle may hold a few newer ones). */
static const char *ssoTlsCaSource(const SsoTls*);
static int ssoTlsCaCount(const SsoTls*);
static int ssoTlsCaSkipped(const SsoTls*);
static int ssoTlsInsecure(const SsoTls*);

/*
** The server's transport hook (SsoServerConfig.xTransport), pArg being a
** server SsoTls. The handshake runs inside the first reads, so it obeys
** the server's header timeout; a peer that sends anything but a TLS
** ClientHello gets SSO_IO_ERROR and is closed.
*/
static int ssoTlsTransport(void *pArg, int fd, const SsoIoMethods **ppIo,
                                void **ppCtx);

/*
** A client connection over the connected, non-blocking fd (not owned:
** the caller closes it after freeing the context). zHost is the name to
** verify the certificate against and to send as SNI (RFC 6066 §3); when
** nIp is 4 or 16, aIp is an IP literal the certificate must name in an
** iPAddress subjectAltName (RFC 6125 §6.2.1), and no SNI is sent.
** Returns SSOPROXY_OK with *ppCtx (free with ssoTlsIo()->xFree) or
** SSOPROXY_NOMEM.
*/
static int ssoTlsConnect(SsoTls*, int fd, const char *zHost,
                              const unsigned char *aIp, int nIp,
                              void **ppCtx);
/* The transport methods of ssoTlsConnect()/ssoTlsTransport() contexts. */
static const SsoIoMethods *ssoTlsIo(void);

/*
** Move a client handshake on: 0 when complete, SSO_IO_WANT_READ or
** SSO_IO_WANT_WRITE to wait for the socket, SSO_IO_ERROR on failure
** (then ssoTlsError says why).
*/
static long ssoTlsHandshake(void *pCtx);

/*
** Why a context failed, in words: for a certificate that did not verify
** (ssoTlsVerifyFailed() is then 1) the reasons, such as "expired",
** "unknown CA", "host name mismatch", "not yet valid"; otherwise
** mbedTLS's description. "" when nothing failed. Valid until the context
** is freed.
*/
static const char *ssoTlsError(void *pCtx);
/* 1 when the last failure was a certificate that did not verify. */
static int ssoTlsVerifyFailed(void *pCtx);

/*
** Decrypted bytes buffered inside the context. The socket can be quiet
** while these wait, so a reader that stopped before taking them all must
** read again without waiting for the loop.
*/
static size_t ssoTlsPending(void *pCtx);
/* "TLSv1.2", "TLSv1.3" once the handshake is done; else "". */
static const char *ssoTlsVersionOf(void *pCtx);

#endif /* SSO_TLS_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include client.h in the middle of ssoInt.h **************/
/*
** Layer 2: the outbound HTTP/1.1 client, for the IdP and the upstreams.
** It runs on the caller's event loop, like the server's connections:
** name resolution happens on a few helper threads whose answers come
** back through a pipe the loop watches, so nothing here ever blocks the
** loop; https goes through tls.c with verification required.
**
**   SsoClientConfig cfg;
**   ssoClientConfigInit(&cfg);          defaults from limit.h
**   cfg.pTls = pTlsClient;              shared, read-only
**   ssoClientNew(pLoop, &cfg, &pCli);   one per loop (worker)
**   SsoClientReq r = {0};
**   r.zUrl = "https://idp.example/.well-known/openid-configuration";
**   r.xDone = onDone; r.pArg = pMine;
**   ssoClientRequest(pCli, &r, &pCall); answer comes in onDone
**   ssoClientCancel(pCall);             changed our mind: no callback
**
** Every callback runs on the loop's thread. A client and its calls are
** not thread-safe: one client per loop, used only from that loop.
*/
#ifndef SSO_CLIENT_H
#define SSO_CLIENT_H

typedef struct SsoClient SsoClient;
typedef struct SsoClientCall SsoClientCall;
typedef struct SsoClientConfig SsoClientConfig;
typedef struct SsoClientReq SsoClientReq;
typedef struct SsoClientResp SsoClientResp;

/* Client settings; every default is a named limit (ssoClientConfigInit). */
struct SsoClientConfig {
  SsoTls *pTls;         /* Client TLS configuration; NULL: https refused */
  int msConnect;        /* Resolve + TCP connect + TLS handshake */
  int msFirstByte;      /* Request sent to the first response byte */
  int msIdle;           /* Longest silence while sending or receiving */
  size_t mxResponse;    /* Response body bytes */
  size_t mxHead;        /* Response head bytes */
  int mxHeader;         /* Response header fields */
  int nPoolPerOrigin;   /* Idle connections kept per origin; 0: no reuse */
  int msPoolIdle;       /* How long an idle connection is kept */
  int nResolver;        /* Resolver threads at most */
};
static void ssoClientConfigInit(SsoClientConfig*);

/*
** Create a client on pLoop (which must outlive it). Nothing is opened
** until the first request. Returns SSOPROXY_OK, _NOMEM or _MISUSE (a
** value out of range).
*/
static int ssoClientNew(SsoLoop *pLoop, const SsoClientConfig*,
                             SsoClient **pp);
/*
** Free the client: calls still in flight are cancelled without callbacks,
** pooled connections closed. Resolver threads that are inside
** getaddrinfo() finish on their own and free what is theirs. Not from
** inside one of this client's callbacks. NULL is a no-op.
*/
static void ssoClientFree(SsoClient*);

/*
** The outcome of a call, passed to xHead (rc is SSOPROXY_OK and only the
** head is known) and to xDone. Views are valid during the callback.
*/
struct SsoClientResp {
  int rc;               /* SSOPROXY_OK; _NET (connect, TLS, timeout, lost
                        ** connection), _PARSE (invalid response), _TOOBIG
                        ** (a response limit), _NOMEM */
  int iStatus;          /* Final HTTP status; 0 if no head arrived */
  int iProxyStatus;     /* What a gateway should answer: iStatus on
                        ** success, 504 after a timeout, 502 otherwise */
  const char *zErr;     /* "" on success; else one sentence naming the
                        ** remote as host:port and what went wrong */
  const SsoHttpHeader *aHdr;  /* Response header fields */
  int nHdr;
  const char *pBody;    /* xDone without xData: the whole body */
  size_t nBody;
  const char *zUrl;     /* The URL that gave this response */
  int nRedirect;        /* Redirects followed to get here */
};

typedef void (*SsoClientHeadFn)(SsoClientCall*, const SsoClientResp*,
                                void *pArg);
typedef void (*SsoClientDataFn)(SsoClientCall*, const char *p, size_t n,
                                void *pArg);
typedef void (*SsoClientDoneFn)(SsoClientCall*, const SsoClientResp*,
                                void *pArg);

/*
** A request. Everything is copied by ssoClientRequest() except pBody,
** which must stay valid until the call ends (xDone returns, or the call
** is cancelled).
*/
struct SsoClientReq {
  const char *zMethod;  /* NULL: "GET" */
  const char *zUrl;     /* Absolute http:// or https:// URL, no userinfo */
  const SsoHttpHeader *aHdr;  /* Extra fields. Host, Content-Length,
                        ** Transfer-Encoding, Connection, Keep-Alive, TE,
                        ** Trailer, Upgrade are the client's own */
  int nHdr;
  const void *pBody;    /* Request body, sent with Content-Length */
  size_t nBody;
  int msConnect, msFirstByte, msIdle;   /* 0: the client's defaults */
  size_t mxResponse;    /* 0: the client's default */
  int nMaxRedirect;     /* 0: a 3xx is the answer. N: follow up to N
                        ** (301/302/303/307/308 with Location; https never
                        ** to http; credentials dropped across origins) */
  SsoClientHeadFn xHead;  /* Optional: the final head has arrived */
  SsoClientDataFn xData;  /* Optional: body pieces as they arrive (else
                          ** the body is collected for xDone) */
  SsoClientDoneFn xDone;  /* Required: the call ended; the call handle is
                          ** invalid once it returns */
  void *pArg;
};

/*
** Start a request. It runs from the next loop iteration on; nothing is
** called back before ssoClientRequest() returns. *ppCall (may be NULL)
** is the handle for cancelling and pausing. Returns SSOPROXY_OK; _PARSE
** (bad URL, method or header); _TOOBIG (URL over SSO_URL_MAX); _MISUSE
** (https without a TLS config, a reserved header, no xDone); _NOMEM. On
** error no callback comes.
*/
static int ssoClientRequest(SsoClient*, const SsoClientReq*,
                                 SsoClientCall **ppCall);
/*
** End a call now, from anywhere on the loop's thread (its own xHead or
** xData included): no more callbacks; its connection is closed at once,
** so the remote sees the client go away. A no-op inside its xDone.
*/
static void ssoClientCancel(SsoClientCall*);
/*
** Back-pressure for streamed bodies: while paused, no xData comes and
** nothing more is read from the remote (whose own sending then stalls
** in TCP); the idle timeout does not run. Resume with bPause 0.
*/
static void ssoClientPause(SsoClientCall*, int bPause);

/* Idle pooled connections right now (for tests and metrics). */
static int ssoClientIdleCount(const SsoClient*);

/*
** The response parser the client runs on each connection: a pure state
** machine over the bytes as they arrive, split anywhere (the fuzz target
** feeds it directly). Interim 1xx responses are skipped; HEAD, 204 and
** 304 have no body; Content-Length, chunked and close-delimited bodies
** are decoded (RFC 9112 §6.3).
*/
typedef struct SsoClientParser SsoClientParser;
struct SsoClientParser {
  int eState;               /* Where in the message (client.c) */
  int bHeadReq;             /* Answers a HEAD: no body */
  int bKeep;                /* The connection may carry another request */
  int nInterim;             /* 1xx responses skipped */
  size_t nScan;             /* Head bytes already scanned */
  unsigned long long nLeft; /* Content-Length bytes still to come */
  unsigned long long nBody; /* Body bytes decoded so far */
  unsigned long long mxBody;/* Body bytes allowed */
  SsoHttpLimits lim;        /* Status line and head limits */
  SsoHttpHead head;         /* The final head: views into the caller's
                            ** buffer, valid until it drops those bytes */
  SsoHttpChunked chunk;
  const char *zErr;         /* Why it failed (static text) */
  int rcErr;                /* SSO_CP_E* once failed */
};

/* Results of ssoClientParserFeed(); errors are negative. */
#define SSO_CP_MORE   0     /* All usable input consumed: more, please */
#define SSO_CP_HEAD   1     /* The final head is at a[*piData..+*pnData) */
#define SSO_CP_DATA   2     /* Body bytes at a[*piData..+*pnData) */
#define SSO_CP_END    3     /* The message is complete */
#define SSO_CP_EPROTO (-1)  /* Not a valid response (zErr says how) */
#define SSO_CP_ETOOBIG (-2) /* Over mxBody */

/* aHdr/mxHdr: the caller's field array for head views. */
static void ssoClientParserInit(SsoClientParser*, SsoHttpHeader *aHdr,
                                     int mxHdr, size_t mxHead,
                                     unsigned long long mxBody,
                                     int bHeadReq);
/*
** Consume a[0..n): the unconsumed input the caller holds, starting with
** what earlier calls left. *pnUsed bytes from the front are done with
** (the caller drops them after using any head or data they hold); call
** again with the rest until SSO_CP_MORE. Chunked bodies are decoded in
** place, so a is written to. Never reads beyond n.
*/
static int ssoClientParserFeed(SsoClientParser*, char *a, size_t n,
                                    size_t *pnUsed, size_t *piData,
                                    size_t *pnData);
/* The connection ended: SSO_CP_END if that completes the message (a
** close-delimited body), else SSO_CP_EPROTO. */
static int ssoClientParserEof(SsoClientParser*);

#endif /* SSO_CLIENT_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include server.h in the middle of ssoInt.h **************/
/*
** Layer 2: the HTTP server: listeners, N worker loops on N threads,
** connections, the router and the response API handlers use.
**
** Life cycle (the app drives it from ssoproxy_open/run/stop/close):
**
**   SsoServerConfig cfg;
**   ssoServerConfigInit(&cfg);            defaults from limit.h
**   cfg.zListen = "127.0.0.1:4000"; ...   settings
**   rc = ssoServerNew(&cfg, &pSrv);       binds; on error read
**                                         ssoServerErrmsg(pSrv)
**   ssoServerRoute(pSrv, "GET", "/health/liveliness", xFn, pArg);
**   rc = ssoServerRun(pSrv);              blocks until stopped
**   ssoServerStop(pSrv);                  any thread / signal handler
**   ssoServerFree(pSrv);
**
** Threads: ssoServerRun() runs worker 0 on the calling thread and starts
** one thread per other worker. Each worker has its own loop, its own
** listening socket (SO_REUSEPORT on Linux; elsewhere all workers share
** one) and its own context from xWorkerInit, so a handler never shares a
** SQLite connection with another thread. Routes are fixed before run.
*/
#ifndef SSO_SERVER_H
#define SSO_SERVER_H

typedef struct SsoServer SsoServer;
typedef struct SsoServerReq SsoServerReq;
typedef struct SsoServerConfig SsoServerConfig;

/*
** Server settings. Every field has a default (ssoServerConfigInit) that
** is a named limit in limit.h; the app maps SSOPROXY_* settings onto
** them. Strings are copied by ssoServerNew().
*/
struct SsoServerConfig {
  const char *zListen;  /* "host:port", "[v6]:port", ":port"; port 0 =
                        ** any free port (see ssoServerAddress) */
  int nWorker;          /* Worker threads; 0 = one per core */
  int mxConn;           /* Client connections open at once, all workers */
  size_t mxLine;        /* Request line bytes (414) */
  size_t mxHead;        /* Request head bytes (431) */
  int mxHeader;         /* Header fields per request (431) */
  size_t mxBody;        /* Request body bytes (413) */
  int msHeader;         /* Time to receive a whole head (408) */
  int msBody;           /* Longest pause inside a body (408) */
  int msKeepAlive;      /* Idle time before a kept-alive connection closes */
  int msWrite;          /* Longest time a client may leave output unread */
  int msShutdown;       /* Graceful stop: deadline for in-flight requests */
  size_t nWriteHigh;    /* Queued output bytes that pause a stream */
  SsoLog *pLog;         /* Access and error log; NULL: none */
  int bAccessLog;       /* One line per request on pLog */
  /* Transport for each accepted connection (TLS plugs in here): set
  ** *ppIo and *ppCtx (freed by (*ppIo)->xFree when the connection
  ** closes) and return SSOPROXY_OK, or fail and the connection is
  ** dropped. Called on the worker's thread. NULL: plain sockets. */
  int (*xTransport)(void *pArg, int fd, const SsoIoMethods **ppIo,
                    void **ppCtx);
  void *pTransportArg;
  /* Per-worker context: called on each worker's own thread before it
  ** serves (a failure stops the server and ssoServerRun returns it) and
  ** after it has stopped. Handlers see the context as pWorkerCtx. */
  int (*xWorkerInit)(void *pArg, int iWorker, void **ppCtx);
  void (*xWorkerFree)(void *pArg, int iWorker, void *pCtx);
  void *pWorkerArg;
};
static void ssoServerConfigInit(SsoServerConfig*);

/*
** Create the server and bind its listening sockets. Returns SSOPROXY_OK,
** _CONFIG (bad value), _NET (bind/listen failed: address in use...),
** _NOMEM. Unless out of memory *ppSrv is set even on failure so the
** caller can read ssoServerErrmsg(); ssoServerFree() releases it.
*/
static int ssoServerNew(const SsoServerConfig*, SsoServer **ppSrv);
static const char *ssoServerErrmsg(const SsoServer*);
/* "127.0.0.1:4000" or "[::1]:4000", with the real port. */
static const char *ssoServerAddress(const SsoServer*);
static int ssoServerWorkerCount(const SsoServer*);

/*
** A handler answers one request. It returns SSOPROXY_OK once it has
** answered in full, or after ssoServerAsync() when it will answer later.
** Any other result gets a 500 (or, if part of the answer is already on
** its way, the connection is closed).
*/
typedef int (*SsoServerHandler)(SsoServerReq*, void *pArg);

/*
** Route requests for zMethod (NULL or "*": any method) on zPath to
** xHandler. zPath is an exact path ("/health/liveliness") or a prefix
** ending in '*' ("/v1/" followed by a star matches every path under "/v1/"). An
** exact route wins over prefixes; the longest prefix wins among those.
** HEAD is served by the GET route when there is no HEAD route (the body
** is dropped, the headers are the same). A path that matches with no
** route for the method gets 405 with Allow; OPTIONS gets 204 with Allow;
** no match gets 404. Call before ssoServerRun(). Returns SSOPROXY_OK,
** _NOMEM, _MISUSE (bad arguments, or already running) or _CONSTRAINT
** (the same method and path twice).
*/
static int ssoServerRoute(SsoServer*, const char *zMethod,
                               const char *zPath, SsoServerHandler xHandler,
                               void *pArg);

/*
** Serve until ssoServerStop(), then: stop accepting, close idle
** connections, let in-flight requests finish until the shutdown deadline
** (then close what is left, telling async handlers through xAbort), run
** every xWorkerFree, and return SSOPROXY_OK. Callable once per server.
*/
static int ssoServerRun(SsoServer*);
/*
** Ask a running (or about to run) server to stop. Async-signal-safe and
** thread-safe: it sets an atomic flag and writes to each worker's wake
** descriptor, nothing else. Returns at once.
*/
static void ssoServerStop(SsoServer*);
/* Close listeners and free everything. Not while running. NULL ok. */
static void ssoServerFree(SsoServer*);

/*
** The request a handler gets. All fields are read-only views, valid from
** the handler call until the answer is complete (ssoServerRespond,
** ssoServerBody, ssoServerStreamEnd) or the request is aborted; copy what
** must live longer.
*/
struct SsoServerReq {
  SsoStr method;        /* "GET", as received */
  SsoStr target;        /* Request target as received, query included */
  SsoStr path;          /* Path only: no query, no scheme://authority */
  SsoStr query;         /* After '?', '?' excluded; empty if none */
  int iMinor;           /* HTTP/1.<iMinor> */
  const SsoHttpHeader *aHdr;  /* Header fields in arrival order */
  int nHdr;
  const char *pBody;    /* Body (de-chunked); NULL and 0 when none */
  size_t nBody;
  const char *zClient;  /* Peer address "ip:port" */
  const char *zId;      /* Request id (16 hex digits), also X-Request-Id */
  int iWorker;          /* Which worker serves it */
  void *pWorkerCtx;     /* That worker's context from xWorkerInit */
  SsoLoop *pLoop;       /* That worker's loop, for timers and I/O */
  void *pRouteArg;      /* pArg given to ssoServerRoute */
};

/* Case-insensitive header lookup: 1 and *pVal if present, else 0. */
static int ssoServerHeader(const SsoServerReq*, const char *zName,
                                SsoStr *pVal);
/* 1 once the server is stopping (health checks answer 503). */
static int ssoServerDraining(const SsoServerReq*);

/*
** Answering, the simple way: a status, an optional Content-Type and a
** full body (copied). Content-Length, Date, Connection and X-Request-Id
** are the server's business.
*/
static int ssoServerRespond(SsoServerReq*, int iStatus,
                                 const char *zContentType,
                                 const void *pBody, size_t nBody);
/*
** An error in the LiteLLM/OpenAI envelope:
**   {"error":{"message":zMsg,"type":...,"param":null,"code":"<status>"}}
** type is "invalid_request_error" for 4xx, "internal_server_error" else.
*/
static int ssoServerError(SsoServerReq*, int iStatus, const char *zMsg);

/*
** Answering field by field: ssoServerStatus(), any number of
** ssoServerAddHeader(), then either ssoServerBody() or the stream calls.
** AddHeader refuses (SSOPROXY_PARSE) a name that is not a token or a
** value with CR, LF or NUL (response splitting), and (SSOPROXY_MISUSE)
** the fields the server manages itself.
*/
static int ssoServerStatus(SsoServerReq*, int iStatus);
static int ssoServerAddHeader(SsoServerReq*, const char *zName,
                                   const char *zValue);
static int ssoServerBody(SsoServerReq*, const void *pBody, size_t nBody);

/*
** Finish later. After ssoServerAsync() the handler may return before
** answering; the request stays valid until it answers. xAbort (may be
** NULL) is called, on the worker's thread, if the connection dies or the
** shutdown deadline passes first; the request is invalid once it returns.
** xDrain (may be NULL) is called when a paused stream may write again.
*/
typedef void (*SsoServerEventFn)(SsoServerReq*, void *pArg);
static int ssoServerAsync(SsoServerReq*, SsoServerEventFn xAbort,
                               SsoServerEventFn xDrain, void *pArg);

/*
** Streaming (chunked; to an HTTP/1.0 client the body runs to the close).
** Begin after Status/AddHeader; then StreamWrite pieces; then StreamEnd.
** Back-pressure: output queues in the connection up to nWriteHigh bytes.
** StreamWrite accepts a piece while the queue is under that mark and
** returns SSOPROXY_OK; once the queue is at or over it, StreamWrite
** refuses with SSOPROXY_TOOBIG and the producer waits for xDrain (the
** queue has fallen to half the mark). So a connection never holds more
** than nWriteHigh plus one piece. SSOPROXY_NET: the connection is gone
** (xAbort follows).
*/
static int ssoServerStreamBegin(SsoServerReq*);
static int ssoServerStreamWrite(SsoServerReq*, const void *p, size_t n);
static int ssoServerStreamWritable(const SsoServerReq*);
static int ssoServerStreamEnd(SsoServerReq*);
/* Output bytes queued on this request's connection right now. */
static size_t ssoServerQueued(const SsoServerReq*);

#endif /* SSO_SERVER_H */
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

#define SSO_STORE_SCHEMA 2           /* Schema version this build writes */
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
  /* Usage, counted by the proxy (ssoStoreKeysUsage); read-only here:
  ** insert and update leave them alone. */
  long long nRequests;      /* Requests forwarded */
  long long nPromptTokens;  /* usage.prompt_tokens summed */
  long long nCompletionTokens;  /* usage.completion_tokens summed */
};

static int ssoStoreKeyInsert(SsoStore*, const SsoKey*);
static int ssoStoreKeyGet(SsoStore*, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut);
/*
** The lookup behind every proxied request: the key and, in the same
** statement, its owner. pUser->zId is NULL when the key has no owner.
*/
static int ssoStoreKeyAuth(SsoStore*, const char *zHash,
                                SsoArena *pArena, SsoKey *pKey,
                                SsoUser *pUser);
static int ssoStoreKeyGetByAlias(SsoStore*, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut);
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
** Record the use of n keys in one transaction (joining the caller's if one
** is open): for each entry add the counts to the key's usage and move its
** last use to tAt, never backwards. Hashes no longer in the table are
** skipped. The proxy and the API batch these instead of writing on every
** request.
*/
typedef struct SsoKeyUsage SsoKeyUsage;
struct SsoKeyUsage {
  const char *zHash;
  long long tAt;            /* Last use, Unix ms */
  long long nRequests;
  long long nPromptTokens;
  long long nCompletionTokens;
};
static int ssoStoreKeysUsage(SsoStore*, const SsoKeyUsage *a, int n);

/* ---- Browser sessions ----
** The cookie carries a random id; the row is found by its SHA-256, so a
** copy of the database does not hold usable sessions. Deleting a user
** deletes their sessions (foreign key).
*/
typedef struct SsoSessionRow SsoSessionRow;
struct SsoSessionRow {
  const char *zHash;        /* SHA-256 of the cookie's id, lower hex */
  const char *zUserId;      /* Whose session */
  long long tCreated;       /* 0 on insert: now */
  long long tSeen;          /* Last request seen; 0 on insert: now */
  long long tExpires;       /* Absolute end, Unix ms (required) */
  const char *zIdToken;     /* The IdP's id_token, for logout; NULL: none */
  const char *zData;        /* JSON object (groups, how it signed in...);
                            ** NULL on insert: "{}" */
};
static int ssoStoreSessionInsert(SsoStore*, const SsoSessionRow*);
static int ssoStoreSessionGet(SsoStore*, const char *zHash,
                                   SsoArena *pArena, SsoSessionRow *pOut);
/* Move tSeen forward to tSeen (never backwards). */
static int ssoStoreSessionTouch(SsoStore*, const char *zHash,
                                     long long tSeen);
static int ssoStoreSessionDelete(SsoStore*, const char *zHash);
/* Every session of zUserId; *pn (may be NULL) how many. */
static int ssoStoreSessionDeleteUser(SsoStore*, const char *zUserId,
                                          int *pn);
/* Delete sessions past tExpires or unseen since tIdleBefore (0: no idle
** rule); *pn (may be NULL) how many. */
static int ssoStoreSessionPurge(SsoStore*, long long tNow,
                                     long long tIdleBefore, int *pn);

/* ---- Short-lived grants ----
** Login states, OAuth codes, device codes...: one row each, named by the
** SHA-256 of its secret, with a kind chosen by the caller ("login",
** "oauth_code", "device", ...), a JSON payload and an expiry. Take is the
** single-use read: it counts the use atomically (so two workers racing
** for one code see nUse 1 and 2) and returns the row; the caller refuses
** when nUse>1 or the row has expired.
*/
typedef struct SsoGrant SsoGrant;
struct SsoGrant {
  const char *zHash;        /* SHA-256 of the secret, lower hex */
  const char *zKind;        /* Caller's kind; a lookup must name it */
  const char *zData;        /* JSON object text; NULL on insert: "{}" */
  long long tCreated;       /* 0 on insert: now */
  long long tExpires;       /* Unix ms (required) */
  int nUse;                 /* Takes so far; 0 on insert */
};
static int ssoStoreGrantInsert(SsoStore*, const SsoGrant*);
/* Count one use of (zHash, zKind) and return the row as it is after. */
static int ssoStoreGrantTake(SsoStore*, const char *zHash,
                                  const char *zKind, SsoArena *pArena,
                                  SsoGrant *pOut);
/* Read without using. */
static int ssoStoreGrantGet(SsoStore*, const char *zHash,
                                 const char *zKind, SsoArena *pArena,
                                 SsoGrant *pOut);
/* Replace the payload of (zHash, zKind). */
static int ssoStoreGrantUpdate(SsoStore*, const char *zHash,
                                    const char *zKind, const char *zData);
static int ssoStoreGrantDelete(SsoStore*, const char *zHash,
                                    const char *zKind);
/* Delete grants that expired before tBefore; *pn (may be NULL) how many. */
static int ssoStoreGrantPurge(SsoStore*, long long tBefore, int *pn);

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
/* How many entries ssoStoreAuditList() pages through for these filters. */
static int ssoStoreAuditCount(SsoStore*, const char *zObjectType,
                                   const char *zObjectId, int *pnAudit);

#endif /* SSO_STORE_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include health.h in the middle of ssoInt.h **************/
/*
** Layer 4: health endpoints, LiteLLM-compatible.
**
**   GET /health/liveliness, /health/liveness  200 "I'm alive!"
**   GET /health/readiness                     200 {"status":"healthy",...}
**                                             503 {"status":"unhealthy",...}
** Both answer 503 {"status":"shutting_down"} once the server is stopping,
** so a load balancer stops sending traffic before the listener closes.
*/
#ifndef SSO_HEALTH_H
#define SSO_HEALTH_H

/*
** The readiness probe for the database, supplied by the app (the store
** is not this module's business). Called on a worker thread with that
** worker's context. Returns 0 when ready; otherwise non-zero, with a
** short reason (no secrets, no paths) written to zReason[nReason].
*/
typedef int (*SsoHealthDbReady)(void *pWorkerCtx, void *pArg,
                                char *zReason, size_t nReason);

/* What readiness checks; owned by the caller, must outlive the server. */
typedef struct SsoHealth SsoHealth;
struct SsoHealth {
  SsoHealthDbReady xDbReady;  /* NULL: "db":"not configured", healthy */
  void *pArg;                 /* Passed to xDbReady */
};

/*
** Register the health routes on pSrv, answering from *pHealth (which is
** not copied). Returns SSOPROXY_OK or what ssoServerRoute() returned.
*/
static int ssoHealthRegister(SsoServer*, const SsoHealth *pHealth);

#endif /* SSO_HEALTH_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include authz.h in the middle of ssoInt.h **************/
/*
** Layer 4: who is calling and what they may do.
**
** Authentication: the credential comes from `Authorization: Bearer`,
** `x-litellm-api-key`, `api-key` or `x-api-key` (LiteLLM's headers, in
** that order). It is the master key (compared in constant time, acting as
** proxy_admin), or an API key found by its SHA-256 in the store together
** with its owner, on every request (no cache: revocation is immediate).
**
** Authorisation: one table, the permission matrix, gives for each role
** and each management endpoint a scope: none, the caller's own objects,
** or any object. Every endpoint asks ssoAuthzScope()/ssoAuthzMayTouch();
** nothing else decides who may do what.
*/
#ifndef SSO_AUTHZ_H
#define SSO_AUTHZ_H

/* Roles, in increasing privilege (LiteLLM's four role strings). */
#define SSO_ROLE_NONE                 0
#define SSO_ROLE_INTERNAL_USER_VIEWER 1
#define SSO_ROLE_INTERNAL_USER        2
#define SSO_ROLE_PROXY_ADMIN_VIEWER   3
#define SSO_ROLE_PROXY_ADMIN          4
#define SSO_ROLE_COUNT                5
#define SSO_ROLE_LIST \
  "proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer"

/*
** The role named exactly zName (case matters, as in LiteLLM's request
** models), or SSO_ROLE_NONE. The deprecated
** spelling internal_user_view_only (LiteLLM's enum member name, which its
** docs and the Authentik guide use) gives internal_user_viewer and sets
** *pbAlias (may be NULL) so the caller can log a warning.
*/
static int ssoAuthzRole(const char *zName, int *pbAlias);
/* "proxy_admin" ...; "" for SSO_ROLE_NONE. */
static const char *ssoAuthzRoleName(int eRole);

/* The management endpoints: one row each of the permission matrix. */
#define SSO_ACT_KEY_GENERATE  0
#define SSO_ACT_KEY_INFO      1
#define SSO_ACT_KEY_UPDATE    2
#define SSO_ACT_KEY_DELETE    3
#define SSO_ACT_KEY_LIST      4
#define SSO_ACT_KEY_BLOCK     5
#define SSO_ACT_KEY_UNBLOCK   6
#define SSO_ACT_USER_NEW      7
#define SSO_ACT_USER_UPDATE   8
#define SSO_ACT_USER_INFO     9
#define SSO_ACT_USER_LIST     10
#define SSO_ACT_USER_DELETE   11
#define SSO_ACT_AUDIT_LIST    12
#define SSO_ACT_COUNT         13

/* Scopes, the cells of the matrix. */
#define SSO_SCOPE_NONE 0      /* Refused (403) */
#define SSO_SCOPE_OWN  1      /* Only the caller's own keys / user row */
#define SSO_SCOPE_ANY  2      /* Every object */

/* The cell for (eRole, eAction); SSO_SCOPE_NONE for anything unknown. */
static int ssoAuthzScope(int eRole, int eAction);
/* The endpoint's path, "/key/generate" ...; "" if unknown. */
static const char *ssoAuthzActionPath(int eAction);

/*
** An error meant for an HTTP client: status, LiteLLM error type
** ("auth_error", "invalid_request_error", ...), the offending parameter
** (NULL: none) and a message without secrets.
*/
typedef struct SsoAuthzErr SsoAuthzErr;
struct SsoAuthzErr {
  int iStatus;              /* 0: no error */
  const char *zType;        /* Static string */
  const char *zParam;       /* Static string or NULL */
  char zMsg[512];
};
/* Set *p unless it already holds an error; returns SSOPROXY_ERROR. */
static int ssoAuthzFailV(SsoAuthzErr*, int iStatus, const char *zType,
                              const char *zParam, const char *zFmt, va_list)
#if defined(__GNUC__)
  __attribute__((format(printf, 5, 0)))
#endif
  ;
static int ssoAuthzFail(SsoAuthzErr*, int iStatus, const char *zType,
                             const char *zParam, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 5, 6)))
#endif
  ;

/* How the caller proved who they are. */
#define SSO_CALLER_MASTER  1      /* The master key */
#define SSO_CALLER_KEY     2      /* An API key */
#define SSO_CALLER_SESSION 3      /* A browser session (xSession below) */

typedef struct SsoCaller SsoCaller;
struct SsoCaller {
  int eKind;                /* SSO_CALLER_* */
  int eRole;                /* SSO_ROLE_*: the owner's role right now */
  const char *zUserId;      /* NULL: master key, or a key without owner */
  const char *zActor;       /* For the audit log: the user id,
                            ** "master_key", or "key:sk-...abcd" */
  SsoKey key;               /* The key used (eKind==SSO_CALLER_KEY) */
  SsoUser user;             /* Its owner, or the session's user */
};

/*
** The shared, read-only authentication settings. A later module plugs
** browser sessions in through xSession: called when the request carries
** none of the key headers, with the request's method ({0,0}: unknown)
** and the time (Unix ms); it returns SSOPROXY_OK with the signed-in
** user's id in *pzUserId (in pArena), SSOPROXY_NOTFOUND when there is no
** valid session, SSOPROXY_CONSTRAINT when there is one but a
** state-changing request (any method but GET, HEAD, OPTIONS; an unknown
** one too) fails its CSRF check (answered 403), or another code on
** failure.
*/
typedef int (*SsoAuthzSessionFn)(void *pArg, SsoStr method,
                                 const SsoHttpHeader *aHdr, int nHdr,
                                 SsoStore*, long long tNow, SsoArena*,
                                 const char **pzUserId);
typedef struct SsoAuthz SsoAuthz;
struct SsoAuthz {
  int bMaster;                          /* A master key is configured */
  unsigned char aMaster[SSO_SHA256_LEN];/* Its SHA-256 */
  SsoAuthzSessionFn xSession;           /* NULL: no browser sessions */
  void *pSessionArg;
};
/* zMasterKey NULL or "": no master key. */
static void ssoAuthzInit(SsoAuthz*, const char *zMasterKey);

/*
** The credential of a request: SSOPROXY_OK and *pCred (a view into the
** header value), SSOPROXY_NOTFOUND when no credential header is present,
** or SSOPROXY_PARSE with *pErr set (401: an Authorization header that is
** not "Bearer", or an empty credential).
*/
static int ssoAuthzCredential(const SsoHttpHeader *aHdr, int nHdr,
                                   SsoStr *pCred, SsoAuthzErr *pErr);

/*
** Authenticate a request. Returns SSOPROXY_OK with *pCaller filled
** (strings in pArena); SSOPROXY_ERROR with *pErr set (401: no, unknown,
** expired or blocked key, disabled owner, non-"sk-" bearer; 403: a
** browser session failing its CSRF check); or a store failure (_NOMEM,
** _DB: the caller answers 500). tNow: Unix ms. method is the request's
** (req->method): a browser session may make GET, HEAD and OPTIONS
** requests without an X-CSRF-Token, and any other, or an unknown (empty)
** method, only with it.
*/
static int ssoAuthzAuthenticate(const SsoAuthz*, SsoStore*,
                                     SsoStr method,
                                     const SsoHttpHeader *aHdr, int nHdr,
                                     long long tNow, SsoArena*,
                                     SsoCaller *pCaller, SsoAuthzErr *pErr);

/*
** May pCaller do eAction to an object owned by zOwner (NULL: no owner)?
** For keys zKeyHash names the key, so a caller whose key has no owner
** can still act on that key itself where the scope is "own". 1 or 0.
*/
static int ssoAuthzMayTouch(const SsoCaller*, int eAction,
                                 const char *zOwner, const char *zKeyHash);

/* ---- Key text helpers ---- */
#define SSO_KEY_PREFIX     "sk-"
#define SSO_KEY_RANDOM     32     /* Random bytes in a key: 256 bits */
#define SSO_KEY_HEX        65     /* SHA-256 lower hex + NUL */
#define SSO_KEY_DISPLAY    12     /* "sk-...abcd" + NUL */
#define SSO_KEY_TEXT       64     /* Room for a generated key + NUL */

/* SHA-256 of z[0..n) as lower hex into zHex[SSO_KEY_HEX]. */
static void ssoAuthzKeyHash(const char *z, size_t n, char *zHex);
/* "sk-..." followed by the last 4 characters, into zOut[SSO_KEY_DISPLAY]. */
static void ssoAuthzKeyDisplay(const char *z, size_t n, char *zOut);
/* A secret masked for a message: "****" and, for long values, the last
** four characters. zOut holds nOut bytes (at least 9). */
static void ssoAuthzMask(const char *z, size_t n, char *zOut,
                              size_t nOut);
/* A new key "sk-" + base64url(32 random bytes) into zOut[SSO_KEY_TEXT]. */
static int ssoAuthzKeyNew(SsoRng*, char *zOut);
/* Unix ms as RFC 3339 UTC "2025-01-31T12:00:00.000Z" into z[32]. */
static void ssoAuthzTimeText(long long tMs, char *z);

#endif /* SSO_AUTHZ_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include api.h in the middle of ssoInt.h **************/
/*
** Layer 4: the management API, LiteLLM-compatible:
**
**   POST /key/generate  GET /key/info  POST /key/update  POST /key/delete
**   GET /key/list  POST /key/block  POST /key/unblock
**   POST /user/new  POST /user/update  GET /user/info  GET /user/list
**   POST /user/delete  GET /audit/list
**
** Each request is authenticated by src/authz.c, checked against its
** permission matrix, and (when it changes anything) done in one store
** transaction together with its audit rows. Errors use LiteLLM's envelope
** {"error":{"message","type","param","code":"<status>"}}.
**
** The row operations at the end (ssoApiKeyInsert ...) write one change and
** its audit entry; the admin CLI uses them too, so a change made from the
** command line is audited exactly like one made over HTTP. They run inside
** the caller's transaction (ssoStoreBegin/Commit).
*/
#ifndef SSO_API_H
#define SSO_API_H

typedef struct SsoApi SsoApi;
typedef struct SsoApiWorker SsoApiWorker;

/* What one route of the server hands its handler. */
typedef struct SsoApiRoute SsoApiRoute;
struct SsoApiRoute {
  SsoApi *pApi;
  int eAction;              /* SSO_ACT_* */
};

/* Shared by every worker; read-only while serving. Owned by the app. */
struct SsoApi {
  SsoAuthz authz;           /* Master key, session hook */
  SsoLog *pLog;             /* Warnings and internal errors; NULL: none */
  const SsoClientConfig *pClientCfg;  /* Template of each worker's outbound
                            ** client (ssoApiWorkerClient); NULL: none */
  SsoApiRoute aRoute[SSO_ACT_COUNT];
};

/* zMasterKey: NULL or "" for none (not kept: only its hash is). */
static void ssoApiInit(SsoApi*, const char *zMasterKey, SsoLog*);
/* Register every route on pSrv; pApi must outlive the server. */
static int ssoApiRegister(SsoServer*, SsoApi*);

/*
** The per-worker context (the server's pWorkerCtx): that worker's store,
** its random generator, and its batch of last-used times, which a timer
** writes once a second (SSO_API_TOUCH_MS) in one transaction instead of
** one write per request. ssoApiWorkerNew() takes ownership of pStore
** (closing it on failure too). ssoApiWorkerFree() writes what is pending,
** stops the timer (the loop must still exist) and closes the store.
*/
static int ssoApiWorkerNew(SsoApi*, SsoStore *pStore,
                                SsoApiWorker **ppW);
static void ssoApiWorkerFree(SsoApiWorker*);       /* NULL is a no-op */
static SsoStore *ssoApiWorkerStore(const SsoApiWorker*);
/* The worker's random generator (keys, session ids, states...). */
static SsoRng *ssoApiWorkerRng(const SsoApiWorker*);
/*
** The worker's one outbound HTTP client (IdP, upstreams), created on
** first use on pLoop (the worker's loop, req->pLoop) from
** SsoApi.pClientCfg, freed with the worker. Returns SSOPROXY_OK with
** *ppCli set, _MISUSE when no client configuration was given, _NOMEM.
*/
static int ssoApiWorkerClient(SsoApiWorker*, SsoLoop *pLoop,
                                   SsoClient **ppCli);
/* Note that key zHash was used at tAt (Unix ms); pLoop (may be NULL: no
** timer) is the worker's loop, on which the flush timer is armed. */
static void ssoApiWorkerTouch(SsoApiWorker*, SsoLoop *pLoop,
                                   const char *zHash, long long tAt);
/* Write the pending last-used times now. */
static int ssoApiWorkerFlush(SsoApiWorker*);

/*
** One management request, independent of the connection it came on (the
** route handlers fill it from the SsoServerReq; tests call it directly).
*/
typedef struct SsoApiCall SsoApiCall;
struct SsoApiCall {
  int eAction;                  /* SSO_ACT_* */
  SsoStr method;                /* "GET", "POST"...; {0,0}: unknown, which
                                ** a browser session treats as changing
                                ** state (CSRF token required) */
  const SsoHttpHeader *aHdr;    /* Request headers */
  int nHdr;
  SsoStr query;                 /* After '?', undecoded */
  const char *pBody;            /* JSON body of a POST; NULL: none */
  size_t nBody;
  SsoLoop *pLoop;               /* The worker's loop; NULL: no timer */
};
/*
** Answer pCall into pOut (a JSON document) with the HTTP status in
** *piStatus. Returns SSOPROXY_OK when pOut holds the answer (errors
** included); anything else (out of memory building the answer) means
** nothing sensible could be produced: the caller answers 500.
*/
static int ssoApiServe(SsoApi*, SsoApiWorker*, const SsoApiCall*,
                            SsoBuf *pOut, int *piStatus);

/* ---- Row operations with their audit entries ---- */

/* Where a new key's texts live: the plaintext is shown once, then wiped. */
typedef struct SsoApiNewKey SsoApiNewKey;
struct SsoApiNewKey {
  char zKey[SSO_KEY_TEXT];      /* "sk-" + 43 base64url characters */
  char zHash[SSO_KEY_HEX];
  char zDisplay[SSO_KEY_DISPLAY];
};
/*
** Generate a key, point pKey->zHash and zDisplay at pNew, fill tCreated
** (and zIssuedVia "api" if NULL), insert it and audit "create" as zActor.
*/
static int ssoApiKeyInsert(SsoStore*, SsoRng*, const char *zActor,
                                SsoKey *pKey, SsoApiNewKey *pNew);
/* Write pNew over the key pOld->zHash; audit "update" (before, after). */
static int ssoApiKeySave(SsoStore*, const char *zActor,
                              const SsoKey *pOld, const SsoKey *pNew);
static int ssoApiKeyDrop(SsoStore*, const char *zActor,
                              const SsoKey *pOld);
/* Fills pUser->tCreated and tUpdated when 0. */
static int ssoApiUserInsert(SsoStore*, const char *zActor,
                                 SsoUser *pUser);
/* Audit action "role_change" when the role differs, else "update". */
static int ssoApiUserSave(SsoStore*, const char *zActor,
                               const SsoUser *pOld, const SsoUser *pNew);
/* Delete the user and every key they own, auditing each; *pnKey (may be
** NULL) is the number of keys deleted. */
static int ssoApiUserDrop(SsoStore*, const char *zActor,
                               const SsoUser *pOld, int *pnKey);

/* A row as the API shows it (never a plaintext key). */
static void ssoApiWriteKey(SsoJsonWriter*, const SsoKey*);
static void ssoApiWriteUser(SsoJsonWriter*, const SsoUser*);
/*
** A key lifetime as LiteLLM writes it: digits and a unit, s m h hr d w mo
** y ("30s", "24h", "30d"). SSOPROXY_OK and *pMs, or SSOPROXY_PARSE.
*/
static int ssoApiDuration(const char *z, long long *pMs);

#endif /* SSO_API_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include page.h in the middle of ssoInt.h **************/
/*
** Layer 4: HTML pages. Every page ssoproxy serves (login, consent,
** errors) goes through here, so each one sends the same protective
** headers: no framing (X-Frame-Options: DENY and CSP frame-ancestors
** 'none'), no referrer, no caching (pages may carry codes, states or
** keys), nosniff. Text put into a page is HTML-escaped by the caller with
** ssoPageEscape().
*/
#ifndef SSO_PAGE_H
#define SSO_PAGE_H

/* HTML-escape z[0..n) (& < > " ') onto b. */
static void ssoPageEscape(SsoBuf *b, const char *z, size_t n);

/*
** Add the protective headers of every page (after ssoServerStatus, before
** the body): for handlers that build their own answer, e.g. to add a
** Set-Cookie.
*/
static int ssoPageHeaders(SsoServerReq*);

/*
** As ssoPageHeaders(), for a page whose form is answered by a redirect to
** another origin (logout to the IdP, a consent page sending the browser
** back to a native app): browsers check CSP form-action against every
** redirect that follows a form submission, so those targets must be
** listed. zFormAction (NULL: none) holds extra CSP source expressions
** after 'self', separated by spaces, e.g. "https://idp.example" or
** "vscode:". A value with ';', ',', quotes or control bytes would change
** the policy itself: it is refused with SSOPROXY_MISUSE.
*/
static int ssoPageHeadersEx(SsoServerReq*, const char *zFormAction);

/*
** The whole HTML document for a title (plain text, escaped here) and
** zBodyHtml (already escaped), appended to b: for handlers that send
** their own status and headers (e.g. a Set-Cookie) with the page.
*/
static void ssoPageBuild(SsoBuf *b, const char *zTitle,
                              const char *zBodyHtml);

/*
** Answer with a whole page: iStatus, a title (plain text, escaped here)
** and zBodyHtml (HTML, already escaped by the caller), wrapped in the
** common shell, with ssoPageHeaders().
*/
static int ssoPageRespond(SsoServerReq*, int iStatus,
                               const char *zTitle, const char *zBodyHtml);

/*
** An error page: iStatus, a title and one plain-text sentence saying what
** went wrong and what to do (escaped here). Never put secrets in it.
*/
static int ssoPageError(SsoServerReq*, int iStatus, const char *zTitle,
                             const char *zMessage);

/* 302 (or iStatus: 303 after a POST) to zLocation, with no-store. */
static int ssoPageRedirect(SsoServerReq*, int iStatus,
                                const char *zLocation);

#endif /* SSO_PAGE_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include session.h in the middle of ssoInt.h **************/
/*
** Layer 4: browser sessions.
**
** A session is an opaque 256-bit random id in a cookie ("ssoproxy_session",
** or "__Host-ssoproxy_session" with Secure when PROXY_BASE_URL is https;
** always HttpOnly, SameSite=Lax, Path=/). The store keeps only its
** SHA-256, the user, its times and the IdP's id_token (for logout). A
** session ends at its absolute lifetime, after its idle lifetime without
** a request, when it is deleted (logout, the user deleted or disabled),
** and is replaced (rotated) at every sign-in.
**
** State-changing forms carry a CSRF token bound to the session
** (ssoSessionCsrfOk); the token is derived from the session, so nothing
** more is stored.
*/
#ifndef SSO_SESSION_H
#define SSO_SESSION_H

/* Shared, read-only once made (ssoSessionInit). */
typedef struct SsoSessions SsoSessions;
struct SsoSessions {
  int bSecure;              /* https base URL: Secure + __Host- prefix */
  const char *zCookie;      /* Cookie name (static text) */
  long long msIdle;         /* Idle lifetime */
  long long msMax;          /* Absolute lifetime */
};
/* zBaseUrl: PROXY_BASE_URL (NULL: unknown, not secure). */
static void ssoSessionInit(SsoSessions*, const char *zBaseUrl,
                                long long msIdle, long long msMax);

/* The session of a request, as read this very request. */
typedef struct SsoSession SsoSession;
struct SsoSession {
  char zHash[SSO_KEY_HEX];  /* Its id's SHA-256 (the store's key) */
  char zCsrf[48];           /* The CSRF token for forms in this session */
  SsoSessionRow row;        /* Strings in the caller's arena */
  SsoUser user;             /* The signed-in user (not disabled) */
};

/*
** The request's session: SSOPROXY_OK and *pSess; SSOPROXY_NOTFOUND when
** there is no cookie, or it names no session, or the session has expired
** (then it is deleted), or its user is gone or disabled; another code on
** a store failure. Notes the request in the session (tSeen) at most once a
** minute, so the idle lifetime counts without a write per request.
*/
static int ssoSessionGet(const SsoSessions*, SsoStore*,
                              const SsoHttpHeader *aHdr, int nHdr,
                              long long tNow, SsoArena*, SsoSession *pSess);

/*
** Sign zUserId in on this browser: delete the request's current session
** if it has one (rotation), make a new one, and add its Set-Cookie to req
** (call between ssoServerStatus() and the body). zIdToken (may be NULL)
** is kept for logout; zData (may be NULL: "{}") is a JSON object kept
** with the session, e.g. {"groups":[...],"via":"sso"}.
*/
static int ssoSessionStart(const SsoSessions*, SsoStore*, SsoRng*,
                                SsoServerReq*, const char *zUserId,
                                const char *zIdToken, const char *zData,
                                long long tNow);

/*
** Sign the browser out: delete the request's session (if any) and add a
** Set-Cookie that clears the cookie (between status and body).
*/
static int ssoSessionEnd(const SsoSessions*, SsoStore*, SsoServerReq*);

/* 1 if z[0..n) is this session's CSRF token (constant time). */
static int ssoSessionCsrfOk(const SsoSession*, const char *z, size_t n);

/* ---- Additions ---- */

/* Characters of a session id in its cookie: base64url of 32 bytes. */
#define SSO_SESSION_ID_LEN 43

/*
** The value of the first cookie named zName (case-sensitive, RFC 6265
** §5.4) in the request's Cookie header fields (all of them, in order):
** SSOPROXY_OK and *pVal (a view into the header, surrounding DQUOTEs
** removed), or SSOPROXY_NOTFOUND. Pairs are split at ';', whitespace
** around names and values is ignored, pairs without '=' are skipped, and
** at most SSO_SESSION_MAX_PAIRS pairs are looked at.
*/
static int ssoSessionCookieGet(const SsoHttpHeader *aHdr, int nHdr,
                                    const char *zName, SsoStr *pVal);

/*
** 1 if z[0..n) has the form of an id this module makes: exactly
** SSO_SESSION_ID_LEN base64url characters. Anything else is never
** looked up.
*/
static int ssoSessionIdWellFormed(const char *z, size_t n);

/*
** A "Set-Cookie" value for a cookie zName with these sessions' attributes
** (Path=/; HttpOnly; SameSite=Lax; Secure when https), value zValue and
** Max-Age nAge seconds (0: delete it), appended to b. Other modules'
** short-lived browser cookies (the sign-in form's) use it too, with
** ssoSessionCookieName() for the __Host- prefix.
*/
static void ssoSessionSetCookie(const SsoSessions*, SsoBuf *b,
                                     const char *zName, const char *zValue,
                                     long long nAge);
/* zBase ("ssoproxy_login") with "__Host-" before it when secure, into
** z[n] (at least strlen(zBase)+8). */
static void ssoSessionCookieName(const SsoSessions*, const char *zBase,
                                      char *z, size_t n);

/*
** The authentication hook (SsoAuthz.xSession, pArg an SsoSessions*): the
** request's session user in *pzUserId. A state-changing method (anything
** but GET, HEAD and OPTIONS; an unknown method counts as one) also needs
** an X-CSRF-Token header equal to the session's token, else
** SSOPROXY_CONSTRAINT (the caller answers 403).
*/
static int ssoSessionAuthz(void *pArg, SsoStr method,
                                const SsoHttpHeader *aHdr, int nHdr,
                                SsoStore*, long long tNow, SsoArena*,
                                const char **pzUserId);

/*
** ssoSessionStart() and ssoSessionEnd() without a request, for callers
** (and tests) that hold only the headers: Create appends the Set-Cookie
** value to pSetCookie; Destroy deletes the session named by the headers'
** cookie, if any (the caller clears the cookie).
*/
static int ssoSessionCreate(const SsoSessions*, SsoStore*, SsoRng*,
                                 const SsoHttpHeader *aHdr, int nHdr,
                                 const char *zUserId, const char *zIdToken,
                                 const char *zData, long long tNow,
                                 SsoBuf *pSetCookie);
static int ssoSessionDestroy(const SsoSessions*, SsoStore*,
                                  const SsoHttpHeader *aHdr, int nHdr);

/* Delete every expired session now; *pn (may be NULL) how many. */
static int ssoSessionPurge(const SsoSessions*, SsoStore*,
                                long long tNow, int *pn);

#endif /* SSO_SESSION_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include oidc.h in the middle of ssoInt.h **************/
/*
** Layer 4: the OpenID Connect relying party: LiteLLM's GENERIC_* settings,
** discovery and JWKS (cached), the login redirect (state, nonce, PKCE
** S256, bound to the browser, single use), the callback (code exchange,
** id_token validation, userinfo), the user's identity and role, and the
** session that follows.
**
** Routes: GET /sso/key/generate (start a login; with response_type the
** key hand-off of the IDE flows takes over, see ssoOidcSetKeyFlow), GET
** /sso/callback.
*/
#ifndef SSO_OIDC_H
#define SSO_OIDC_H

typedef struct SsoOidc SsoOidc;

/*
** The settings, as the app read them (NULL: unset). Strings are copied by
** ssoOidcNew().
*/
typedef struct SsoOidcConfig SsoOidcConfig;
struct SsoOidcConfig {
  const char *zBaseUrl;     /* PROXY_BASE_URL */
  const char *zClientId, *zClientSecret;
  const char *zIssuer, *zAuthorizationEndpoint, *zTokenEndpoint;
  const char *zUserinfoEndpoint, *zJwksEndpoint;
  const char *zScope;       /* NULL: "openid email profile" */
  /* Claims (dot-paths into the merged userinfo + id_token claims); NULL:
  ** LiteLLM's defaults (preferred_username, email, sub, first_name,
  ** last_name, role) */
  const char *zIdAttr, *zEmailAttr, *zNameAttr, *zFirstNameAttr;
  const char *zLastNameAttr, *zRoleAttr;
  int bIncludeClientId;     /* GENERIC_INCLUDE_CLIENT_ID: client_id in the
                            ** token request body as well */
  int bClientSecretPost;    /* SSOPROXY_CLIENT_AUTH_METHOD=client_secret_post */
  const char *zSsoHeaders;  /* GENERIC_SSO_HEADERS: "Name=Value,..." */
  const char *zRoleMappings;/* GENERIC_ROLE_MAPPINGS_ROLES (JSON) */
  const char *zGroupClaim;  /* GENERIC_ROLE_MAPPINGS_GROUP_CLAIM */
  const char *zDefaultRole; /* GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE */
  const char *zLogoutUrl;   /* PROXY_LOGOUT_URL */
  int bAutoRedirect;        /* AUTO_REDIRECT_UI_LOGIN_TO_SSO */
  const char *zEmailDomains;/* ALLOWED_EMAIL_DOMAINS (comma list) */
  const char *zAdminId;     /* PROXY_ADMIN_ID */
  int bRoleFirstLogin;      /* SSOPROXY_ROLE_SYNC=first_login */
  int nStateTtl;            /* SSOPROXY_LOGIN_STATE_TTL, seconds; 0: 300 */
  int msIdpTimeout;         /* SSOPROXY_IDP_TIMEOUT_MS; 0: SSO_OIDC_CALL_MS */
  SsoLog *pLog;
};

/*
** Validate the settings and make the relying party. SSOPROXY_OK with *pp
** NULL when SSO is not configured at all (no GENERIC_CLIENT_ID);
** SSOPROXY_CONFIG with one line in zErr for each missing or
** contradictory setting (the first one found).
*/
static int ssoOidcNew(const SsoOidcConfig*, const SsoSessions*,
                           SsoOidc **pp, char *zErr, size_t nErr);
static void ssoOidcFree(SsoOidc*);                 /* NULL is a no-op */
/* Add /sso/key/generate and /sso/callback to pSrv. */
static int ssoOidcRegister(SsoServer*, SsoOidc*);

/*
** Answer req by sending the browser to the IdP; once signed in it comes
** back to zReturnTo, a local path (ssoUrlIsLocalPath; anything else means
** "/ui"). This is how other modules (/login, /oauth2/start, the OAuth
** flows) start a sign-in.
*/
static int ssoOidcLogin(SsoOidc*, SsoServerReq*, const char *zReturnTo);

/*
** Where a browser goes after ssoproxy's own logout: PROXY_LOGOUT_URL if
** set, else the IdP's end_session_endpoint (from discovery) with
** id_token_hint=zIdToken (may be NULL) and post_logout_redirect_uri;
** appended to b. Returns 1 if a URL was appended, 0 if there is none
** (the caller then goes to its own page).
*/
static int ssoOidcLogoutUrl(SsoOidc*, const char *zIdToken, SsoBuf *b);

/*
** The IDE/CLI key hand-off plugs in here: GET /sso/key/generate with a
** response_type parameter is handed to xFlow (which answers the request),
** or refused with 400 while none is set.
*/
typedef int (*SsoOidcKeyFlowFn)(SsoServerReq*, void *pArg);
static void ssoOidcSetKeyFlow(SsoOidc*, SsoOidcKeyFlowFn, void *pArg);

/* AUTO_REDIRECT_UI_LOGIN_TO_SSO, for the /ui page (0 when p is NULL). */
static int ssoOidcAutoRedirect(const SsoOidc*);
/* 1 when the id_token signature rests on the TLS back channel alone (no
** GENERIC_ISSUER, no GENERIC_JWKS_ENDPOINT): the app logs a warning. */
static int ssoOidcBackChannelOnly(const SsoOidc*);

#endif /* SSO_OIDC_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include ui.h in the middle of ssoInt.h **************/
/*
** Layer 4: the web sign-in and the pages around it, until the dashboard
** comes:
**
**   GET  /ui, /ui/          who you are (signed in), else the sign-in page
**   GET  /login?rd=PATH     the sign-in page, back to PATH afterwards
**                           (straight to the IdP with
**                           AUTO_REDIRECT_UI_LOGIN_TO_SSO=true)
**   GET  /fallback/login    the sign-in page, never redirected
**   POST /login             username + password (UI_USERNAME/UI_PASSWORD,
**                           or the master key as the password)
**   GET  /logout            a confirmation form
**   POST /logout            end the session, then the IdP's logout or /ui
**   GET  /.well-known/litellm-ui-config (and under /litellm/) LiteLLM's
**                           discovery document for its UI
**
** Other modules send a browser that must sign in to /login?rd=<local
** path, URL-encoded>.
*/
#ifndef SSO_UI_H
#define SSO_UI_H

typedef struct SsoUi SsoUi;

/* The settings, as the app read them. Strings are copied by ssoUiNew(). */
typedef struct SsoUiConfig SsoUiConfig;
struct SsoUiConfig {
  const SsoSessions *pSessions;  /* Must outlive the SsoUi */
  SsoOidc *pOidc;           /* NULL: single sign-on is not configured */
  int bAutoRedirect;        /* AUTO_REDIRECT_UI_LOGIN_TO_SSO */
  const char *zBaseUrl;     /* PROXY_BASE_URL; NULL: unset */
  const char *zUsername;    /* UI_USERNAME */
  const char *zPassword;    /* UI_PASSWORD; NULL: unset */
  const char *zMasterKey;   /* The master key; NULL: none */
  int nMaxFailures;         /* Wrong passwords per client per minute */
  SsoLog *pLog;             /* Sign-ins and refusals; NULL: none */
};

/*
** Make the pages' object. SSOPROXY_CONFIG with one line in zErr for a bad
** setting; SSOPROXY_NOMEM. *pp is NULL on failure.
*/
static int ssoUiNew(const SsoUiConfig*, SsoUi **pp, char *zErr,
                         size_t nErr);
static void ssoUiFree(SsoUi*);                     /* NULL is a no-op */
/* Add the routes above to pSrv; the SsoUi must outlive the server. */
static int ssoUiRegister(SsoServer*, SsoUi*);

/*
** The password sign-in's decision, without HTTP: 1 if zUser/zPass (either
** may be NULL) are UI_USERNAME and UI_PASSWORD or the master key, in time
** that does not depend on where they differ. *pbMaster (may be NULL) is
** set when the master key was the password.
*/
static int ssoUiPasswordOk(const SsoUi*, const char *zUser,
                                const char *zPass, int *pbMaster);

/*
** The failed-sign-in limiter, per client address ("ip:port" or
** "[v6]:port"; the port is ignored): ssoUiLimited() gives 0 while the
** address may try, else the seconds until it may again; ssoUiFailed()
** counts one failure; ssoUiSucceeded() forgets the address. Shared by
** all workers (a mutex).
*/
static int ssoUiLimited(SsoUi*, const char *zClient, long long tNow);
static void ssoUiFailed(SsoUi*, const char *zClient, long long tNow);
static void ssoUiSucceeded(SsoUi*, const char *zClient);

#endif /* SSO_UI_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include proxy.h in the middle of ssoInt.h **************/
/*
** Layer 4: the /v1 proxy. Requests to the OpenAI-compatible routes are
** authenticated (src/authz.c), routed by the "model" of their JSON body
** to an upstream, checked against the key's allowed models and its rpm
** and tpm limits, and forwarded on the worker's outbound client with the
** caller's credentials replaced by the upstream's. Answers stream back
** as they arrive; usage (requests, prompt and completion tokens) is
** counted per key in each worker and written in batches.
**
** Upstreams come from SSOPROXY_UPSTREAM_URL (one upstream for every
** model) and/or SSOPROXY_MODELS_FILE, a line-based file:
**
**   # comment
**   model_name  api_base  [model=NAME] [api_key=os.environ/VAR]
**               [timeout_ms=N] [first_byte_timeout_ms=N] [idle_timeout_ms=N]
**
** The file is parsed into an immutable table. SIGHUP (ssoProxyReload)
** builds a new table on a helper thread and swaps it in; requests in
** flight keep the table they started with (reference counts), so a
** reload never drops a connection, and a bad file leaves the old table.
*/
#ifndef SSO_PROXY_H
#define SSO_PROXY_H

typedef struct SsoProxy SsoProxy;
typedef struct SsoProxyTable SsoProxyTable;
typedef struct SsoProxyModel SsoProxyModel;

/* One routable model (or the default upstream, whose zName is NULL). */
struct SsoProxyModel {
  const char *zName;        /* What clients ask for */
  size_t nName;
  const char *zUpName;      /* What the upstream is told; NULL: zName */
  size_t nUpName;
  const char *zBase;        /* api_base without a trailing '/' */
  const char *zAuth;        /* "Bearer KEY" or NULL: no Authorization */
  int msConnect, msFirstByte, msIdle;   /* 0: the client's defaults */
  int iLine;                /* Line of the models file; 0: not from it */
  int bPlainRemote;         /* http:// to a host that is not loopback */
};

/* The routing table: immutable once built, shared by reference count. */
struct SsoProxyTable {
  SsoArena arena;           /* Every string and array below */
  SsoProxyModel *aModel;    /* File order */
  int nModel;
  const SsoProxyModel **apSorted;  /* By name, for lookups */
  SsoProxyModel *pDefault;  /* SSOPROXY_UPSTREAM_URL, or NULL */
  int nRef;                 /* Atomic; see proxy.c */
};

/*
** Build a table from the models file text z[0..n) (zFile names it in
** messages; z may be NULL when there is no file) and the default
** upstream zUrl/zKey (both may be NULL). API keys named in the file are
** read from the environment now. Returns SSOPROXY_OK and *pp (reference
** count 1; ssoProxyTableRelease), SSOPROXY_CONFIG with "FILE:LINE:
** message" (or a message about the default upstream) in zErr, or
** SSOPROXY_NOMEM.
*/
static int ssoProxyTableParse(const char *zFile, const char *z,
                                   size_t n, const char *zUrl,
                                   const char *zKey, SsoProxyTable **pp,
                                   char *zErr, size_t nErr);
static void ssoProxyTableRelease(SsoProxyTable*);   /* NULL: no-op */
/* The model named z[0..n), or NULL. */
static const SsoProxyModel *ssoProxyTableFind(const SsoProxyTable*,
                                                   const char *z, size_t n);

/* ---- Pieces with their own unit tests and fuzz targets ---- */

/*
** The top-level "model" member of a JSON object body: SSOPROXY_OK with
** *pRaw the bytes between its quotes (escapes as written) and *pbEsc set
** when they hold a backslash; _NOTFOUND when there is none (or the body
** is not an object); _PARSE when the body is not JSON enough to tell, or
** names "model" twice (two readers could pick different ones).
*/
static int ssoProxyBodyModel(const char *z, size_t n, SsoStr *pRaw,
                                  int *pbEsc);

/*
** Request fields that may go upstream. Dropped: the client's credentials
** (Authorization, x-api-key, api-key, x-litellm-api-key, Cookie,
** Proxy-Authorization), hop-by-hop fields (Connection and every field it
** names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*),
** framing and routing (Host, Content-Length, Expect), Accept-Encoding
** (usage is read from the answer), X-Request-Id (ours is sent) and
** identity fields a client could forge (X-Forwarded-User,
** X-Forwarded-Email, X-Forwarded-Groups, X-Forwarded-Preferred-Username,
** X-Auth-Request-*, Remote-User, X-Remote-User, X-Ssoproxy-*). Copies the
** views of the kept ones to aOut (room for nIn) and returns how many.
*/
static int ssoProxyRequestHeaders(const SsoHttpHeader *aIn, int nIn,
                                       SsoHttpHeader *aOut);
/* 1 if the upstream's response field may go to the client. */
static int ssoProxyResponseHeaderOk(const SsoHttpHeader *aHdr, int nHdr,
                                         int i);

/*
** Token usage in a JSON text: the last "usage" object in z[0..n) with
** prompt_tokens/completion_tokens (chat, completions, embeddings) or
** input_tokens/output_tokens (responses). 1 and the counts, or 0.
*/
static int ssoProxyUsageFind(const char *z, size_t n,
                                  long long *pnPrompt, long long *pnCompl);

/*
** The SSE usage scanner: fed the stream piece by piece, it looks at each
** "data:" line (usage is in the final chunk) without keeping the stream:
** lines whole inside a piece are read in place, only a line split across
** pieces is carried over, up to SSO_PROXY_SSE_LINE bytes.
*/
typedef struct SsoProxySse SsoProxySse;
struct SsoProxySse {
  SsoBuf line;              /* The partial line carried over */
  int bSkip;                /* The current line is not of interest */
  int bUsage;               /* Counts seen */
  long long nPrompt, nCompl;
};
static void ssoProxySseInit(SsoProxySse*);
static void ssoProxySseFeed(SsoProxySse*, const char *z, size_t n);
static void ssoProxySseFree(SsoProxySse*);

/*
** The rpm/tpm limiter, one per process, shared by every worker: a small
** open-addressing table of per-key one-minute windows under a mutex
** (only keys with a limit ever take it).
*/
typedef struct SsoProxyLimiter SsoProxyLimiter;
static int ssoProxyLimiterNew(SsoProxyLimiter **pp);
static void ssoProxyLimiterFree(SsoProxyLimiter*);
/*
** May key zHash make a request at tNow (Unix ms)? 0 and the request is
** counted; or 1 (rpm reached) or 2 (tpm reached) with *pnRetry the
** seconds until the window ends. A limit of 0 is no limit.
*/
static int ssoProxyLimitTake(SsoProxyLimiter*, const char *zHash,
                                  long long nRpm, long long nTpm,
                                  long long tNow, int *pnRetry);
/* Add n tokens to zHash's current window (usage became known). */
static void ssoProxyLimitTokens(SsoProxyLimiter*, const char *zHash,
                                     long long n, long long tNow);

/* ---- The proxy ---- */

typedef struct SsoProxyConfig SsoProxyConfig;
struct SsoProxyConfig {
  const char *zUpstreamUrl; /* SSOPROXY_UPSTREAM_URL or NULL */
  const char *zUpstreamKey; /* SSOPROXY_UPSTREAM_KEY or NULL */
  const char *zModelsFile;  /* SSOPROXY_MODELS_FILE or NULL */
  int bForwardIdentity;     /* SSOPROXY_FORWARD_IDENTITY */
  SsoApi *pApi;             /* Authentication, workers' clients; outlives */
  SsoLog *pLog;
};

/*
** Check the settings, read the models file, and (with a file) start the
** reload thread. SSOPROXY_CONFIG with one line in zErr for each kind of
** bad setting; *pp is NULL on failure.
*/
static int ssoProxyNew(const SsoProxyConfig*, SsoProxy **pp,
                            char *zErr, size_t nErr);
static int ssoProxyRegister(SsoServer*, SsoProxy*);
/* Re-read the models file soon. Async-signal-safe: one write(). */
static void ssoProxyReload(SsoProxy*);
/* A worker is stopping (on its thread, before its store closes): write
** its pending usage and free its state. */
static void ssoProxyWorkerEnd(SsoProxy*, int iWorker);
static void ssoProxyFree(SsoProxy*);                /* NULL: no-op */

#endif /* SSO_PROXY_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include fauth.h in the middle of ssoInt.h **************/
/*
** Layer 4: forward authentication for other web applications, under
** oauth2-proxy's endpoint names, so the nginx `auth_request`, Traefik
** `forwardAuth` and Caddy `forward_auth` configurations written for
** oauth2-proxy work against ssoproxy (docs/forward-auth.md):
**
**   GET  /oauth2/auth      202 + X-Auth-Request-* for a valid session or
**                          API key, 401 without, 403 when the query's
**                          allowed_groups / allowed_roles / allowed_emails
**                          / allowed_email_domains filters refuse it;
**                          with ?signin=1 a 302 to /oauth2/start (for
**                          Traefik and Caddy, which show the auth answer)
**   GET  /oauth2/start     start a sign-in that comes back to rd
**   GET|POST /oauth2/sign_out  end the browser session, go to rd (or /)
**   GET  /oauth2/userinfo  the caller's identity as JSON (session or key)
**
** /oauth2/auth is on the path of every request to the protected site, so
** it reads no body and makes one indexed store lookup (the key with its
** owner, or the session with its user).
*/
#ifndef SSO_FAUTH_H
#define SSO_FAUTH_H

/*
** Who the caller is, as forward-auth reports it. Views into an arena or
** static text; zEmail may be NULL; zGroups is "" when there are none.
*/
typedef struct SsoFauthId SsoFauthId;
struct SsoFauthId {
  int eKind;                /* SSO_CALLER_KEY, _MASTER or _SESSION */
  const char *zUser;        /* User id; for a key without owner its actor
                            ** ("key:sk-...abcd"), for the master key
                            ** "master_key" */
  const char *zEmail;       /* NULL: none */
  const char *zName;        /* Preferred username: display name, else zUser */
  const char *zRole;        /* "proxy_admin" ... */
  const char *zGroups;      /* Comma-joined; "" when none */
};

/*
** The groups of a session, from the JSON object the session was started
** with ({"groups":["a","b"],...}): comma-joined into *pzGroups (in
** pArena; "" when there are none, or zData is NULL or not such JSON).
** A group that could not travel in a comma-joined header value (empty,
** holding a comma or a control byte) is left out, and so is every group
** past SSO_FAUTH_MAX_GROUPS bytes in all. SSOPROXY_OK or _NOMEM.
*/
static int ssoFauthGroups(const char *zData, SsoArena*,
                               const char **pzGroups);

/*
** The X-Auth-Request-* response fields for p: names and values into
** azName/azValue (room for SSO_FAUTH_NHEADER each); fields with no value
** are left out. Returns how many.
*/
#define SSO_FAUTH_NHEADER 5
static int ssoFauthHeaders(const SsoFauthId *p,
                                const char *azName[SSO_FAUTH_NHEADER],
                                const char *azValue[SSO_FAUTH_NHEADER]);

/*
** The /oauth2/auth query filters: allowed_groups, allowed_roles,
** allowed_emails and allowed_email_domains, each a comma-separated list
** (a filter may be given more than once: the lists add up). Every filter
** present must match (a group, the role, the email without ASCII case,
** the email's domain without case); a filter whose lists name nothing
** matches no one, so a template that expands to an empty value fails
** closed. Other parameters are ignored. Sets *pbAllow; returns
** SSOPROXY_OK, _PARSE or _TOOBIG (a malformed query), _NOMEM.
*/
static int ssoFauthAllowed(const SsoFauthId*, const char *zQuery,
                                size_t nQuery, SsoArena*, int *pbAllow);

/*
** Where a sign-in or sign-out goes afterwards: the "rd" query parameter,
** else the X-Auth-Request-Redirect request field (oauth2-proxy's name;
** nginx sets it to $request_uri), when it is a local path
** (ssoUrlIsLocalPath) outside /oauth2/; anything else (missing, another
** site, a bad escape, given twice, one of the /oauth2/ routes) gives
** NULL. The result is in pArena.
*/
static const char *ssoFauthReturnTo(const char *zQuery, size_t nQuery,
                                         const SsoHttpHeader *aHdr, int nHdr,
                                         SsoArena*);

/*
** The /oauth2/userinfo answer: oauth2-proxy's {"user","email","groups",
** "preferredUsername"} plus LiteLLM's "user_id" and the "role", onto b.
*/
static void ssoFauthUserinfo(const SsoFauthId*, SsoBuf *b);

/* Shared, read-only while serving; owned by the app. */
typedef struct SsoFauth SsoFauth;
struct SsoFauth {
  SsoApi *pApi;                 /* Key authentication, workers' stores */
  const SsoSessions *pSessions; /* NULL: no browser sessions */
  SsoOidc *pOidc;               /* NULL: SSO not configured (local login) */
};

/* Register the four /oauth2/ routes; p must outlive the server. */
static int ssoFauthRegister(SsoServer*, SsoFauth *p);

#endif /* SSO_FAUTH_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include oauth.h in the middle of ssoInt.h **************/
/*
** Layer 4: API keys for IDE extensions, CLIs and headless machines. Four
** ways for a program to get a key for a signed-in user without copy and
** paste, all ending in an ordinary "sk-..." key of the store (issued_via
** ui, oauth, cli or device; metadata {"client","redirect_uri","flow"}),
** audit-logged, listed by /key/list and revocable:
**
**   1. LiteLLM PR #13227's wire format: GET /sso/key/generate?
**      response_type=oauth_token[&redirect_uri=...] (through the oidc
**      module's key-flow hook), answering a JSON token, or, with a
**      redirect_uri, a consent page and then a 302 carrying the key.
**   2. OpenRouter's PKCE flow, which Roo Code and Cline speak: GET /auth
**      and POST /api/v1/auth/keys.
**   3. OAuth 2.1 for native apps (RFC 8252, 7636, 8414, 7009): GET
**      /.well-known/oauth-authorization-server, GET /oauth/authorize,
**      POST /oauth/token, POST /oauth/revoke.
**   4. The device authorization grant (RFC 8628): POST
**      /oauth/device_authorization, GET/POST /device, and the device-code
**      grant of /oauth/token.
**
** A key never goes to a destination the operator has not allowed (see
** ssoOauthRedirectCheck) and never without the user's approval on a
** consent page (POST /oauth/consent with the session's CSRF token). Every
** pending state (consents, codes, device codes) is a single-use grant of
** the store, named by the SHA-256 of its secret.
**
** ssoOauthLoginCommand() is the client side: `ssoproxy login`.
*/
#ifndef SSO_OAUTH_H
#define SSO_OAUTH_H

typedef struct SsoOauth SsoOauth;

/* The settings, as the app read them; strings are copied by ssoOauthNew. */
typedef struct SsoOauthConfig SsoOauthConfig;
struct SsoOauthConfig {
  const char *zBaseUrl;       /* PROXY_BASE_URL; NULL: from the Host header */
  const char *zSchemes;       /* OAUTH_ALLOWED_REDIRECT_SCHEMES, comma list */
  const char *zUris;          /* SSOPROXY_ALLOWED_REDIRECT_URIS, comma list */
  const char *zOrigins;       /* OAUTH_ALLOWED_ORIGINS, comma list */
  long long sKeyTtl;          /* Lifetime of a key from these flows, s */
  long long sCodeTtl;         /* Authorization codes, s */
  long long sStateTtl;        /* Pending consents, s */
  long long sDeviceTtl;       /* Device codes, s */
  int sInterval;              /* Device polling interval, s */
  int bCodeOnly;              /* /api/v1/auth/keys without PKCE allowed
                              ** for codes whose /auth had no challenge */
  int bKeyShortcut;           /* Bearer sk-... mints a key (seed flow) */
  const SsoSessions *pSessions;  /* Browser sessions (shared, read-only) */
  SsoLog *pLog;
};

/*
** Check the settings (each allowed scheme and URI) and make the object.
** SSOPROXY_CONFIG with one line in zErr for the first bad setting.
*/
static int ssoOauthNew(const SsoOauthConfig*, SsoOauth **pp,
                            char *zErr, size_t nErr);
static void ssoOauthFree(SsoOauth*);               /* NULL is a no-op */
/*
** Register the routes on pSrv. With pOidc the seed flow is reached
** through ssoOidcSetKeyFlow(); without one (no SSO configured, local
** sign-in only) this module serves GET /sso/key/generate itself.
*/
static int ssoOauthRegister(SsoServer*, SsoOauth*, SsoOidc *pOidc);
/* The key-flow hook: GET /sso/key/generate?response_type=... */
static int ssoOauthKeyFlow(SsoServerReq*, void *pOauth);

/* ---- Pure helpers, also used by the tests and fuzz targets ---- */

/* What kind of destination an accepted redirect URI is. */
#define SSO_OAUTH_DEST_LOOPBACK 1   /* http://127.x.x.x or [::1], any port */
#define SSO_OAUTH_DEST_SCHEME   2   /* An allowed custom (IDE) scheme */
#define SSO_OAUTH_DEST_LISTED   3   /* Exactly in SSOPROXY_ALLOWED_REDIRECT_URIS */

/*
** May a key (or a code) be sent to the redirect URI z[0..n)? Returns a
** SSO_OAUTH_DEST_* kind, or 0 with the reason in zWhy (one sentence, no
** secrets). zSchemes and zUris are the two allow-list settings (NULL:
** empty). Refused: empty or over SSO_OAUTH_MAX_REDIRECT bytes, anything
** ssoUrlParse refuses (control bytes, CR/LF, spaces, non-ASCII...), a
** fragment, user-info, javascript:/data:/file: and every scheme not
** allowed, http to anything but a loopback IP literal, https not listed
** exactly, and IDE schemes without an authority and a path.
*/
static int ssoOauthRedirectCheck(const char *zSchemes,
                                      const char *zUris, const char *z,
                                      size_t n, char *zWhy, size_t nWhy);

/* 1 if z[0..n) is an entry of the comma list zList (spaces trimmed). */
static int ssoOauthListHas(const char *zList, const char *z, size_t n);

/*
** CORS: 1 if the Origin z[0..n) may read answers (listed exactly in
** zOrigins, or the list holds "*"), else 0.
*/
static int ssoOauthCorsAllowed(const char *zOrigins, const char *z,
                                    size_t n);

/* PKCE (RFC 7636 §4.2): base64url(SHA-256(verifier)), 43 chars + NUL. */
#define SSO_OAUTH_CHALLENGE_LEN 43
static int ssoOauthS256(const char *zVerifier, size_t n,
                             char zOut[SSO_OAUTH_CHALLENGE_LEN+1]);
/* A verifier: 43..128 unreserved characters (RFC 7636 §4.1). 1 or 0. */
static int ssoOauthVerifierOk(const char *z, size_t n);
/* An S256 challenge: exactly 43 base64url characters. 1 or 0. */
static int ssoOauthChallengeOk(const char *z, size_t n);

/*
** Device user codes (RFC 8628 §6.1): 8 letters from
** SSO_OAUTH_USER_ALPHABET (no vowels, no look-alikes), shown XXXX-XXXX.
** New writes zOut[10]; Normalize accepts any case, '-' and spaces and
** writes the 8 letters to zOut[9], or returns SSOPROXY_PARSE.
*/
#define SSO_OAUTH_USER_ALPHABET "BCDFGHJKLMNPQRSTVWXZ"
static int ssoOauthUserCodeNew(SsoRng*, char zOut[10]);
static int ssoOauthUserCodeNormalize(const char *z, size_t n,
                                          char zOut[9]);

/* A new secret: base64url of 32 random bytes (43 chars, [A-Za-z0-9_-]). */
#define SSO_OAUTH_SECRET_LEN 43
static int ssoOauthSecretNew(SsoRng*, char zOut[SSO_OAUTH_SECRET_LEN+1]);

/* ---- The client: `ssoproxy login` ---- */
typedef struct SsoOauthLoginArgs SsoOauthLoginArgs;
struct SsoOauthLoginArgs {
  const char *zBaseUrl;     /* The ssoproxy to get a key from */
  int bDevice;              /* Device flow instead of a loopback redirect */
  const char *zOutput;      /* Write the key here (new file, 0600); NULL:
                            ** print it on stdout */
  int bNoBrowser;           /* Only print the URL */
  const char *zCaFile;      /* SSOPROXY_CA_FILE; NULL: the system's */
  int bInsecure;            /* SSOPROXY_TLS_INSECURE */
  int sTimeout;             /* Give up after this many seconds */
};
/* Run the login; returns an exit status (0, 1 failure, 2 usage). */
static int ssoOauthLoginCommand(const SsoOauthLoginArgs*);

#endif /* SSO_OAUTH_H */
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
** X(id, name, alias, type, default, int default, min, max, enum, secret, help)
** Integer settings take their default from the int column (a named limit
** of limit.h), the others from the string column. Add new settings at the
** end of their group; never rename one (users' files rely on the names).
*/
#define SSO_SETTINGS(X) \
  X(LISTEN, "SSOPROXY_LISTEN", 0, SSO_SET_ADDR, SSO_SERVER_LISTEN, 0, 0, 0, \
    0, 0, "Address to listen on, host:port ([::1]:4000 for IPv6, " \
    "0.0.0.0:4000 for every interface, port 0 = any free port)") \
  X(DB, "SSOPROXY_DB", 0, SSO_SET_STR, "ssoproxy.db", 0, 0, 0, 0, 0, \
    "SQLite database file, created and migrated at start") \
  X(MASTER_KEY, "LITELLM_MASTER_KEY", "SSOPROXY_MASTER_KEY", SSO_SET_STR, 0, \
    0, 0, 0, 0, 1, "Admin credential, acts as proxy_admin; unset = none") \
  X(WORKERS, "SSOPROXY_WORKERS", 0, SSO_SET_INT, 0, 0, 0, \
    SSO_SERVER_MAX_WORKERS, 0, 0, "Event-loop threads; 0 = one per processor") \
  X(LOG_FORMAT, "SSOPROXY_LOG_FORMAT", 0, SSO_SET_ENUM, "logfmt", 0, 0, 0, \
    "logfmt|json", 0, "Log line format") \
  X(LOG_LEVEL, "SSOPROXY_LOG_LEVEL", 0, SSO_SET_ENUM, "info", 0, 0, 0, \
    "debug|info|warn|error|off", 0, "Lowest level logged") \
  X(ACCESS_LOG, "SSOPROXY_ACCESS_LOG", 0, SSO_SET_BOOL, "true", 0, 0, 0, 0, 0, \
    "One log line per request (never the query, credentials or cookies)") \
  X(MAX_CONNECTIONS, "SSOPROXY_MAX_CONNECTIONS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_MAX_CONN, 1, 1000000, 0, 0, \
    "Open client connections, all workers; more are answered 503 and closed") \
  X(MAX_REQUEST_LINE, "SSOPROXY_MAX_REQUEST_LINE", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_LINE, 256, 1048576, 0, 0, "Request line bytes (414 past it)") \
  X(MAX_HEADER_BYTES, "SSOPROXY_MAX_HEADER_BYTES", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_HEAD, 1024, 1048576, 0, 0, \
    "Bytes of a whole request head (431 past it)") \
  X(MAX_HEADERS, "SSOPROXY_MAX_HEADERS", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_HEADERS, 8, 1000, 0, 0, \
    "Header fields per request (431 past it)") \
  X(MAX_BODY_BYTES, "SSOPROXY_MAX_BODY_BYTES", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_BODY, 0, 1073741824, 0, 0, "Request body bytes (413 past it)") \
  X(HEADER_TIMEOUT_MS, "SSOPROXY_HEADER_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_HEADER_MS, 100, 3600000, 0, 0, \
    "Time for a request head to arrive (408 past it)") \
  X(BODY_TIMEOUT_MS, "SSOPROXY_BODY_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_BODY_MS, 100, 3600000, 0, 0, \
    "Longest pause inside a request body (408 past it)") \
  X(KEEPALIVE_TIMEOUT_MS, "SSOPROXY_KEEPALIVE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_KEEPALIVE_MS, 0, 3600000, 0, 0, \
    "Idle time before a kept-alive connection is closed") \
  X(WRITE_TIMEOUT_MS, "SSOPROXY_WRITE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_WRITE_MS, 100, 3600000, 0, 0, \
    "How long a client may leave our output unread") \
  X(SHUTDOWN_TIMEOUT_MS, "SSOPROXY_SHUTDOWN_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_SHUTDOWN_MS, 0, 3600000, 0, 0, \
    "On SIGTERM/SIGINT: time in-flight requests get to finish") \
  X(WRITE_BUFFER_BYTES, "SSOPROXY_WRITE_BUFFER_BYTES", 0, SSO_SET_INT, 0, \
    SSO_SERVER_WRITE_HIGH, 4096, 67108864, 0, 0, \
    "Output queued per connection before a stream is paused") \
  X(TLS_CERT, "SSOPROXY_TLS_CERT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "PEM certificate chain, leaf first: serve HTTPS (with SSOPROXY_TLS_KEY)") \
  X(TLS_KEY, "SSOPROXY_TLS_KEY", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "PEM private key (unencrypted) of SSOPROXY_TLS_CERT") \
  X(CA_FILE, "SSOPROXY_CA_FILE", "SSL_CERT_FILE", SSO_SET_STR, 0, 0, 0, 0, \
    0, 0, "CA certificates (PEM file or directory) trusted for the IdP and " \
    "upstreams; unset = the system bundle") \
  X(TLS_INSECURE, "SSOPROXY_TLS_INSECURE", 0, SSO_SET_BOOL, "false", 0, 0, \
    0, 0, 0, "Skip certificate verification of the IdP and upstreams " \
    "(tests only; warned about at every start)") \
  X(CONNECT_TIMEOUT_MS, "SSOPROXY_CONNECT_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_CONNECT_MS, 100, 3600000, 0, 0, \
    "Outbound: time to resolve, connect and finish TLS (504 past it)") \
  X(FIRST_BYTE_TIMEOUT_MS, "SSOPROXY_FIRST_BYTE_TIMEOUT_MS", 0, SSO_SET_INT, \
    0, SSO_CLIENT_FIRST_BYTE_MS, 100, 86400000, 0, 0, \
    "Outbound: request sent to the first byte of the answer (504 past it)") \
  X(IDLE_TIMEOUT_MS, "SSOPROXY_IDLE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_IDLE_MS, 100, 86400000, 0, 0, \
    "Outbound: longest silence inside an answer (504 past it)") \
  X(MAX_RESPONSE_BYTES, "SSOPROXY_MAX_RESPONSE_BYTES", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_MAX_RESPONSE, 1024, 1073741824, 0, 0, \
    "Outbound: body bytes of one answer from the IdP or an upstream") \
  X(UPSTREAM_URL, "SSOPROXY_UPSTREAM_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "OpenAI-compatible base URL (ending in /v1) serving every model not in " \
    "SSOPROXY_MODELS_FILE") \
  X(UPSTREAM_KEY, "SSOPROXY_UPSTREAM_KEY", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "API key sent to SSOPROXY_UPSTREAM_URL as Authorization: Bearer") \
  X(MODELS_FILE, "SSOPROXY_MODELS_FILE", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Models file: one 'model_name api_base [option=value ...]' per line; " \
    "re-read on SIGHUP") \
  X(FORWARD_IDENTITY, "SSOPROXY_FORWARD_IDENTITY", 0, SSO_SET_BOOL, "false", \
    0, 0, 0, 0, 0, "Send X-Ssoproxy-User, -Email and -Role to upstreams") \
  X(OIDC_CLIENT_ID, "GENERIC_CLIENT_ID", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "OIDC client id at the IdP; set = single sign-on on") \
  X(OIDC_CLIENT_SECRET, "GENERIC_CLIENT_SECRET", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "OIDC client secret (required with GENERIC_CLIENT_ID)") \
  X(OIDC_ISSUER, "GENERIC_ISSUER", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP issuer URL: endpoints and keys from its discovery document, " \
    "whose issuer must equal this exactly") \
  X(OIDC_AUTHORIZATION_ENDPOINT, "GENERIC_AUTHORIZATION_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP authorization endpoint (overrides discovery)") \
  X(OIDC_TOKEN_ENDPOINT, "GENERIC_TOKEN_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP token endpoint (overrides discovery)") \
  X(OIDC_USERINFO_ENDPOINT, "GENERIC_USERINFO_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP userinfo endpoint (overrides discovery); unset = id_token " \
    "claims only") \
  X(OIDC_JWKS_ENDPOINT, "GENERIC_JWKS_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP JWK set URL for id_token signatures (overrides discovery)") \
  X(OIDC_SCOPE, "GENERIC_SCOPE", 0, SSO_SET_STR, "openid email profile", 0, 0, 0, 0, 0, \
    "Scopes asked for, space-separated (openid is required)") \
  X(OIDC_USER_ID_ATTRIBUTE, "GENERIC_USER_ID_ATTRIBUTE", 0, SSO_SET_STR, "preferred_username", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the user id") \
  X(OIDC_USER_EMAIL_ATTRIBUTE, "GENERIC_USER_EMAIL_ATTRIBUTE", 0, SSO_SET_STR, "email", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the e-mail address") \
  X(OIDC_USER_DISPLAY_NAME_ATTRIBUTE, "GENERIC_USER_DISPLAY_NAME_ATTRIBUTE", 0, SSO_SET_STR, "sub", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the display name (LiteLLM's default)") \
  X(OIDC_USER_FIRST_NAME_ATTRIBUTE, "GENERIC_USER_FIRST_NAME_ATTRIBUTE", 0, SSO_SET_STR, "first_name", 0, 0, 0, 0, 0, \
    "Claim giving the first name (user id fallback)") \
  X(OIDC_USER_LAST_NAME_ATTRIBUTE, "GENERIC_USER_LAST_NAME_ATTRIBUTE", 0, SSO_SET_STR, "last_name", 0, 0, 0, 0, 0, \
    "Claim giving the last name (user id fallback)") \
  X(OIDC_USER_ROLE_ATTRIBUTE, "GENERIC_USER_ROLE_ATTRIBUTE", 0, SSO_SET_STR, "role", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the role; a list counts by its first " \
    "element") \
  X(OIDC_INCLUDE_CLIENT_ID, "GENERIC_INCLUDE_CLIENT_ID", 0, SSO_SET_BOOL, \
    "false", 0, 0, 0, 0, 0, "Also send client_id in the token request body") \
  X(OIDC_CLIENT_AUTH, "SSOPROXY_CLIENT_AUTH_METHOD", 0, SSO_SET_ENUM, \
    "client_secret_basic", 0, 0, 0, "client_secret_basic|client_secret_post", \
    0, "How the client authenticates at the token endpoint") \
  X(OIDC_SSO_HEADERS, "GENERIC_SSO_HEADERS", 0, SSO_SET_STR, 0, 0, 0, 0, 0, \
    1, "Extra headers for the token and userinfo calls: Name=Value,...") \
  X(OIDC_ROLE_MAPPINGS, "GENERIC_ROLE_MAPPINGS_ROLES", 0, SSO_SET_STR, 0, 0, \
    0, 0, 0, 0, "Group to role map, JSON: {\"proxy_admin\":[\"group\"],...}") \
  X(OIDC_GROUP_CLAIM, "GENERIC_ROLE_MAPPINGS_GROUP_CLAIM", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Claim (dot-path) holding the user's groups") \
  X(OIDC_DEFAULT_ROLE, "GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Role of new users (and, with role mappings, of users " \
    "in no mapped group); unset = internal_user_viewer") \
  X(LOGOUT_URL, "PROXY_LOGOUT_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Where the browser goes after logout; unset = the IdP's end_session") \
  X(ALLOWED_EMAIL_DOMAINS, "ALLOWED_EMAIL_DOMAINS", 0, SSO_SET_STR, 0, 0, 0, \
    0, 0, 0, "SSO users must have an e-mail in one of these domains (comma " \
    "list); unset = any") \
  X(ADMIN_ID, "PROXY_ADMIN_ID", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "This SSO user id is always proxy_admin") \
  X(ROLE_SYNC, "SSOPROXY_ROLE_SYNC", 0, SSO_SET_ENUM, "always", 0, 0, 0, \
    "always|first_login", 0, "Whether an existing user's role follows the " \
    "IdP at every login or only the first") \
  X(LOGIN_STATE_TTL, "SSOPROXY_LOGIN_STATE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OIDC_STATE_TTL_S, 1, SSO_OIDC_STATE_TTL_MAX_S, 0, 0, \
    "Seconds a login may take at the IdP (state, nonce, PKCE verifier)") \
  X(IDP_TIMEOUT_MS, "SSOPROXY_IDP_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_OIDC_CALL_MS, 100, 600000, 0, 0, \
    "Outbound to the IdP: longest wait for an answer or inside one " \
    "(a 504 page past it)") \
  /* API keys for other programs (src/oauth.c) */ \
  X(OAUTH_ALLOWED_ORIGINS, "OAUTH_ALLOWED_ORIGINS", 0, SSO_SET_STR, 0, 0, 0, \
    0, 0, 0, "Comma list of web origins that may read the key endpoints' " \
    "answers (CORS, never with cookies); * = any; unset = none") \
  X(OAUTH_REDIRECT_SCHEMES, "OAUTH_ALLOWED_REDIRECT_SCHEMES", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Comma list of extra custom URI schemes keys and codes " \
    "may be sent to, besides the IDE schemes (vscode, cursor, ...)") \
  X(OAUTH_REDIRECT_URIS, "SSOPROXY_ALLOWED_REDIRECT_URIS", 0, SSO_SET_STR, 0, \
    0, 0, 0, 0, 0, "Comma list of exact https (or custom-scheme) redirect " \
    "URIs allowed; http is allowed only to 127.0.0.1/[::1], any port") \
  X(OAUTH_KEY_TTL, "SSOPROXY_OAUTH_KEY_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_KEY_TTL_S, 60, 3153600000LL, 0, 0, \
    "Lifetime in seconds of keys from /sso/key/generate, /auth, /oauth/* " \
    "and the device flow (expires_in)") \
  X(OAUTH_CODE_TTL, "SSOPROXY_OAUTH_CODE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_CODE_TTL_S, 1, 600, 0, 0, \
    "Seconds an authorization code may wait for its exchange") \
  X(OAUTH_STATE_TTL, "SSOPROXY_OAUTH_STATE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_STATE_TTL_S, 1, 3600, 0, 0, \
    "Seconds a consent page stays valid") \
  X(OAUTH_CODE_ONLY, "SSOPROXY_OAUTH_ALLOW_CODE_ONLY", 0, SSO_SET_BOOL, \
    "true", 0, 0, 0, 0, 0, "POST /api/v1/auth/keys may exchange a code " \
    "without PKCE when /auth had no code_challenge (Roo Code, Cline)") \
  X(OAUTH_KEY_SHORTCUT, "SSOPROXY_OAUTH_KEY_SHORTCUT", 0, SSO_SET_BOOL, \
    "true", 0, 0, 0, 0, 0, "/sso/key/generate with a user's Bearer key " \
    "mints a key (same models, no longer life) without signing in") \
  X(DEVICE_CODE_TTL, "SSOPROXY_DEVICE_CODE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_DEVICE_TTL_S, 1, 86400, 0, 0, \
    "Seconds a device code waits for approval") \
  X(DEVICE_INTERVAL, "SSOPROXY_DEVICE_INTERVAL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_INTERVAL_S, 1, 60, 0, 0, \
    "Seconds device clients wait between polls (faster: slow_down)") \
  X(BASE_URL, "PROXY_BASE_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Public URL of ssoproxy (https://llm.example.com); https makes the " \
    "session cookie Secure with the __Host- prefix") \
  X(AUTO_REDIRECT_SSO, "AUTO_REDIRECT_UI_LOGIN_TO_SSO", 0, SSO_SET_BOOL, \
    "false", 0, 0, 0, 0, 0, \
    "Sign-in pages go straight to the IdP when single sign-on is set up") \
  X(UI_USERNAME, "UI_USERNAME", 0, SSO_SET_STR, "admin", 0, 0, 0, 0, 0, \
    "User id of the local admin who signs in with a password at /login") \
  X(UI_PASSWORD, "UI_PASSWORD", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "Password of UI_USERNAME; the master key is accepted too; unset and " \
    "no master key = no password sign-in") \
  X(SESSION_IDLE_TIMEOUT, "SSOPROXY_SESSION_IDLE_TIMEOUT", 0, SSO_SET_INT, \
    0, SSO_SESSION_IDLE_S, 1, SSO_SESSION_MAX_S, 0, 0, \
    "Seconds without a request after which a browser session ends") \
  X(SESSION_MAX_AGE, "SSOPROXY_SESSION_MAX_AGE", 0, SSO_SET_INT, 0, \
    SSO_SESSION_MAX_AGE_S, 1, SSO_SESSION_MAX_S, 0, 0, \
    "Seconds after sign-in at which a browser session ends in any case") \
  X(LOGIN_MAX_FAILURES, "SSOPROXY_LOGIN_MAX_FAILURES", 0, SSO_SET_INT, 0, \
    SSO_UI_LOGIN_FAILURES, 1, 1000000, 0, 0, \
    "Wrong passwords per client address per minute at /login, then 429") \
  X(UPSTREAM_KEEPALIVE, "SSOPROXY_UPSTREAM_KEEPALIVE", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_POOL_PER_ORIGIN, 0, 100000, 0, 0, \
    "Outbound: idle kept-alive connections per origin and worker (0: close " \
    "after each answer)")

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
/*
** Layer 5: the server object behind the public ssoproxy_* lifecycle API.
** Everything is in src/app.c; nothing internal calls it.
*/
#ifndef SSO_APP_H
#define SSO_APP_H
#endif /* SSO_APP_H */
/************** Continuing where we left off in ssoInt.h **************/
/************** Include admin.h in the middle of ssoInt.h **************/
/*
** Layer 5: the administration commands of the command line, working on
** the database file directly, so they are safe beside a running server
** (SQLite WAL, a busy timeout) and need no master key:
**
**   ssoproxy user list [--role ROLE]
**   ssoproxy user add ID [--email E] [--name N] [--role ROLE]
**   ssoproxy user set-role ID ROLE
**   ssoproxy user disable ID | enable ID | delete ID
**   ssoproxy key create [--user ID] [--alias A] [--duration D] [--models M,M]
**   ssoproxy key list [--user ID]
**   ssoproxy key revoke KEY|HASH|ALIAS
**   ssoproxy audit [--type key|user] [--id ID] [--limit N]
**
** Every change is audited like the API's, with the actor "cli:<login>".
*/
#ifndef SSO_ADMIN_H
#define SSO_ADMIN_H

/* 1 if zWord is one of the commands above ("user", "key", "audit"). */
static int ssoAdminIsCommand(const char *zWord);
/*
** Run command zCmd with its nArg arguments on the database zDb. Prints
** results on stdout and errors on stderr; returns the exit status: 0
** done, 1 failed (unknown user or key, database error), 2 usage.
*/
static int ssoAdminRun(const char *zDb, const char *zCmd, int nArg,
                            const char *const *azArg);

#endif /* SSO_ADMIN_H */
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

static void ssoBufAppendUint(SsoBuf *p, unsigned long long v){
  char z[24];
  size_t i = sizeof(z);
  do{
    z[--i] = (char)('0' + v%10);
    v /= 10;
  }while( v );
  ssoBufAppend(p, z+i, sizeof(z)-i);
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

/* Copy the run of bytes from z[i] that need no escape to *pzOut, moving
** *pzOut past it; returns where the run ends. */
static size_t jsonCopyPlain(const unsigned char *z, size_t i, size_t n,
                            char **pzOut){
  size_t iEnd = jsonPlainEnd(z, i, n);
  if( iEnd>i ) memcpy(*pzOut, z+i, iEnd-i);   /* z may be NULL if n==0 */
  *pzOut += iEnd-i;
  return iEnd;
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
  size_t i = 0;
  *zOut++ = '"';
  while( (i = jsonCopyPlain(z, i, n, &zOut))<n ){
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
  size_t i = 0, nNeed;
  char *zOut;
  if( n>SIZE_MAX/2 ){
    if( p->rc==SSOPROXY_OK ) p->rc = SSOPROXY_TOOBIG;
    return;
  }
  if( (p->rc || n+2 >= p->nAlloc - p->n) && ssoBufReserve(p, n+2) ) return;
  zOut = p->z + p->n;
  *zOut++ = '"';
  while( (i = jsonCopyPlain(z, i, n, &zOut))<n ){
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

static int ssoErrorf(char *z, size_t n, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(z, n, zFmt, ap);
  va_end(ap);
  return rc;
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
** Layer 0: log lines. Two formats: logfmt (key=value, values quoted when
** they hold a space, a quote or '=') for people, and JSON for log
** shippers. Control bytes are escaped in both, so a hostile value cannot
** forge a second line.
**
** A busy server writes one access line per request, so a line must cost
** little next to the request itself. The time is formatted once per
** second per thread and the milliseconds appended; pairs are copied, not
** printf'd. Each line goes out whole in one write(2), so lines from
** several threads never interleave. Inside an event-loop iteration
** (ssoLogBatch, which the loop turns on) a thread's lines are gathered
** and written together at the end of the iteration, in writes of whole
** lines of at most LOG_BATCH bytes: POSIX makes a pipe write of up to
** PIPE_BUF bytes atomic, so even then no two lines interleave.
*/
/* #include "ssoInt.h" */
#include <time.h>
#include <unistd.h>

#define LOG_BATCH 4096    /* Bytes of lines written at once; <= PIPE_BUF */

static const char *const azLevel[] = { "debug", "info", "warn", "error" };

/*
** Per-thread state: worker threads share one SsoLog, and a cache or a
** batch shared between them would need a lock on every line.
*/
typedef struct LogThread LogThread;
struct LogThread {
  long long iSec;         /* The second zSec was made for */
  int bSec;               /* zSec is valid */
  char zSec[20];          /* "2026-11-22T15:22:07." (no NUL) */
  int bBatch;             /* Lines wait in aPend until the batch ends */
  int fdPend;             /* Where the pending lines go */
  size_t nPend;           /* Bytes pending */
  char aPend[LOG_BATCH];
};
static _Thread_local LogThread logThread;

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

/* ---- Output ------------------------------------------------------------ */

static void writeAll(int fd, const char *z, size_t n){
  size_t nDone = 0;
  while( nDone<n ){
    ssize_t k = write(fd, z+nDone, n-nDone);
    if( k<0 && errno==EINTR ) continue;
    if( k<=0 ) break;
    nDone += (size_t)k;
  }
}

static void flushPending(LogThread *t){
  if( t->nPend ) writeAll(t->fdPend, t->aPend, t->nPend);
  t->nPend = 0;
}

/* One complete line (or, in a batch, queue it). */
static void emitLine(int fd, const char *z, size_t n){
  LogThread *t = &logThread;
  if( t->bBatch ){
    if( t->nPend>0 && (t->fdPend!=fd || t->nPend+n>LOG_BATCH) ){
      flushPending(t);
    }
    if( n<=LOG_BATCH ){
      memcpy(t->aPend+t->nPend, z, n);
      t->nPend += n;
      t->fdPend = fd;
      return;
    }
  }
  writeAll(fd, z, n);
}

static int ssoLogBatch(int bOn){
  LogThread *t = &logThread;
  int bOld = t->bBatch;
  if( !bOn ) flushPending(t);
  t->bBatch = bOn!=0;
  return bOld;
}

static void ssoLogFlush(void){
  flushPending(&logThread);
}

/* ---- Building a line ------------------------------------------------- */

/* n as exactly nDigit decimal digits at z (the last ones if it is wider). */
static void putDigits(char *z, int nDigit, unsigned n){
  while( nDigit-- > 0 ){
    z[nDigit] = (char)('0' + n%10);
    n /= 10;
  }
}

/* Write the UTC time of ts as "2026-11-22T15:22:07.123" (23 bytes). The
** part up to the second is remade only when the second changes. */
static void ssoLogFormatTime(const struct timespec *ts, char *z){
  LogThread *t = &logThread;
  if( !t->bSec || t->iSec!=(long long)ts->tv_sec ){
    struct tm tm;
    time_t sec = ts->tv_sec;
    char *y = t->zSec;
    if( gmtime_r(&sec, &tm)==0 ) memset(&tm, 0, sizeof(tm));
    memcpy(y, "0000-00-00T00:00:00.", 20);
    putDigits(y, 4, (unsigned)(tm.tm_year+1900));
    putDigits(y+5, 2, (unsigned)(tm.tm_mon+1));
    putDigits(y+8, 2, (unsigned)tm.tm_mday);
    putDigits(y+11, 2, (unsigned)tm.tm_hour);
    putDigits(y+14, 2, (unsigned)tm.tm_min);
    putDigits(y+17, 2, (unsigned)tm.tm_sec);
    t->iSec = (long long)ts->tv_sec;
    t->bSec = 1;
  }
  memcpy(z, t->zSec, 20);
  putDigits(z+20, 3, (unsigned)(ts->tv_nsec/1000000));
}

/*
** A logfmt value needs quotes unless it is plain printable ASCII other
** than '"', '=' and the backslash. Bit (c&63) of aPlain[c>>6] is set for each
** byte c below 0x80 that may stand unquoted: 0x21..0x7e but 0x22, 0x3d, 0x5c.
*/
static int needsQuote(const char *z, size_t n){
  static const unsigned long long aPlain[2] = {
    0xdffffffa00000000ULL, 0x7fffffffefffffffULL
  };
  size_t i;
  if( n==0 ) return 1;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c>=0x80 || ((aPlain[c>>6]>>(c&63)) & 1)==0 ) return 1;
  }
  return 0;
}

/* " key=value" or ",\"key\":\"value\"": one reservation, then copies. */
static void appendPair(SsoBuf *b, int bJson, const char *zKey,
                       const char *zVal){
  size_t nKey = strlen(zKey), nVal = strlen(zVal);
  char *z;
  if( bJson ){
    ssoBufAppendChar(b, ',');
    ssoBufAppendJsonString(b, zKey, nKey);
    ssoBufAppendChar(b, ':');
    ssoBufAppendJsonString(b, zVal, nVal);
    return;
  }
  if( ssoBufReserve(b, nKey+nVal+2) ) return;
  z = b->z + b->n;
  z[0] = ' ';
  memcpy(z+1, zKey, nKey);
  z[nKey+1] = '=';
  b->n += nKey+2;
  if( needsQuote(zVal, nVal) ){
    b->z[b->n] = 0;
    ssoBufAppendJsonString(b, zVal, nVal);
  }else{
    memcpy(b->z+b->n, zVal, nVal);
    b->n += nVal;
    b->z[b->n] = 0;
  }
}

static void ssoLog(SsoLog *p, int eLevel, const char *zMsg, ...){
  char zTime[24];
  char zStack[512];
  SsoBuf b;
  va_list ap;
  const char *zKey;
  struct timespec ts;
  if( p==0 || p->fd<0 || eLevel<p->eMin || eLevel>SSO_LOG_ERROR ) return;
  clock_gettime(CLOCK_REALTIME, &ts);
  ssoLogFormatTime(&ts, zTime);
  /* Lines are short; most never allocate. */
  ssoBufInitStatic(&b, zStack, sizeof(zStack), 64*1024);
  ssoBufAppendStr(&b, p->bJson ? "{\"time\":\"" : "time=");
  ssoBufAppend(&b, zTime, 23);
  ssoBufAppendStr(&b, p->bJson ? "Z\",\"level\":\"" : "Z level=");
  ssoBufAppendStr(&b, azLevel[eLevel]);
  if( p->bJson ) ssoBufAppendChar(&b, '"');
  appendPair(&b, p->bJson, "msg", zMsg);
  va_start(ap, zMsg);
  while( (zKey = va_arg(ap, const char*))!=0 ){
    const char *zVal = va_arg(ap, const char*);
    if( zVal ) appendPair(&b, p->bJson, zKey, zVal);
  }
  va_end(ap);
  ssoBufAppendStr(&b, p->bJson ? "}\n" : "\n");
  if( b.rc==SSOPROXY_OK ) emitLine(p->fd, b.z, b.n);
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
** One decoding table serves both alphabets: they differ only in the
** characters for 62 and 63. An entry's low six bits are the character's
** value; two flag bits say which alphabet rejects it: BS bad in the
** standard one, BU bad in the url one. '-' and '_' carry BS, '+' and '/'
** carry BU, '=' and every other byte carry both; so a group is plain data
** when the OR of its four entries has no bit of the chosen alphabet's
** mask. '=' alone is both flags and a zero value (PD), which tells
** padding from other bytes on the slow path.
**
** The flags sit at bits 14 and 15, out of the way of everything that
** reads a value: the shifts and (unsigned char) casts that assemble the
** output bytes drop them, and the unused-bits checks of the last group
** look only at bits 0-3. So a good character may keep the other
** alphabet's flag and the fast loop needs no masking. Entries are 32 bits
** because a 32-bit load needs no widening: masking 8-bit entries, or
** widening 16-bit ones, made the loop 10-30% slower, by compiler.
*/
#define XX 0xffff           /* Not in either alphabet */
#define PD 0xc000           /* '=': padding in std, bad in url */
#define BS 0x4000           /* Not in the standard alphabet (RFC 4648 §4) */
#define BU 0x8000           /* Not in the url alphabet (RFC 4648 §5) */
static const uint32_t aDec[256] = {
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 00 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,  /* 10 */
  XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,BU|62,XX,BS|62,XX,BU|63,  /* 20 */
  52,53,54,55,56,57,58,59,60,61,XX,XX,XX,PD,XX,XX,  /* 30 */
  XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,  /* 40 */
  15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,BS|63,  /* 50 */
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
#undef BS
#undef BU
#define B64_PAD 0xc000      /* PD, for the code below */

/* The bits of an aDec[] entry that make it bad in alphabet eAlpha. */
#define B64_BAD(eAlpha) ((eAlpha)==SSO_B64_URL ? 0x8000u : 0x4000u)

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
                      int eAlpha, unsigned char *aOut,
                      size_t *pO, size_t *piBad){
  unsigned mBad = B64_BAD(eAlpha);
  size_t nRest = n - i, nGroup = nRest<4 ? nRest : 4, nData = 0;
  unsigned v[4] = {0, 0, 0, 0};
  while( nData<nGroup && ((v[nData] = aDec[a[i+nData]]) & mBad)==0 ){
    nData++;
  }
  if( nData<nGroup ){
    /* a[i+nData] is not data: padding is the only thing allowed, and
    ** only in the standard alphabet (§5: base64url goes without). */
    size_t j = i + nData;
    if( v[nData]!=B64_PAD || eAlpha==SSO_B64_URL || nData<2 ){
      *piBad = j; return SSOPROXY_PARSE;
    }
    if( nData==2 && nRest>=4 && a[i+3]!='=' ){
      *piBad = i+3; return SSOPROXY_PARSE;
    }
    if( nRest<4 ){ *piBad = n; return SSOPROXY_PARSE; }
    if( nRest>4 ){ *piBad = i+4; return SSOPROXY_PARSE; }
  }else if( nData>0 && eAlpha!=SSO_B64_URL ){
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
  unsigned mBad = B64_BAD(eAlpha);
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
    if( (v0|v1|v2|v3) & mBad ) break;
    aOut[o]   = (unsigned char)((v0<<2) | (v1>>4));
    aOut[o+1] = (unsigned char)((v1<<4) | (v2>>2));
    aOut[o+2] = (unsigned char)((v2<<6) | v3);
    o += 3;
  }
  rc = decodeTail(a, n, i, eAlpha, aOut, &o, &iBad);
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
#undef B64_BAD
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

static int ssoUrlIsLocalPath(const char *z, size_t n){
  size_t i;
  if( n==0 || n>SSO_URL_MAX || z[0]!='/' ) return 0;
  if( n>1 && (z[1]=='/' || z[1]=='\\') ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c<=0x20 || c>=0x7f || c=='\\' ) return 0;
  }
  return 1;
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
    ssoBufAppendChar(pBuf, ':');
    ssoBufAppendUint(pBuf, (unsigned)p->iPort);
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
/************** Begin file jose.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: JOSE, the part of it an OpenID Connect relying party needs:
** checking the signature of an id_token (a compact JWS, RFC 7515) with a
** key from the provider's JWK set (RFC 7517), and checking its claims
** (OpenID Connect Core 1.0 §3.1.3.7). Nothing here signs or encrypts.
**
** The algorithms are a short allow-list, RS256, PS256 and ES256 (RFC 7518
** §3.3, §3.5, §3.4), and the token's "alg" picks from it only together
** with a key of the matching type. That closes the classic holes of JWT
** libraries: "none" is refused, and so is every HMAC alg, so a token
** "signed" with HS256 using the provider's public RSA key as the secret
** never verifies (algorithm confusion); an ES256 signature must be the
** raw 64-byte r||s, never DER, and r and s must be in range, so the
** all-zero "psychic signature" fails too. The "crit" header is refused
** (RFC 7515 §4.1.11: a recipient that does not understand an extension
** listed there must reject the token), and with it b64=false (RFC 7797).
** Headers that point at other keys (jku, jwk, x5u, x5c) are ignored: the
** keys come only from the JWKS the caller fetched from the provider.
**
** Threads. A key set holds its keys as plain bytes. mbedTLS's key objects
** keep caches that an operation fills in (RSA's Montgomery constant, the
** precomputed multiples of the curve's generator), so sharing one between
** threads would need locks. Instead each verification builds its own
** contexts from the bytes and frees them after: a few microseconds next
** to the signature check itself, once per login.
**
** Everything version-specific between mbedTLS 2.28 and 3.x is settled in
** the few joseRsa* helpers below (STYLE.md item 9).
*/
/* #include "ssoInt.h" */
#include <mbedtls/version.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
# include <psa/crypto.h>
#endif

/* Key types we keep. */
#define JOSE_KTY_RSA 1
#define JOSE_KTY_EC  2

/* Signature algorithms we accept. */
#define JOSE_ALG_RS256 1
#define JOSE_ALG_PS256 2
#define JOSE_ALG_ES256 3

#define JOSE_P256_LEN  32        /* Bytes of a P-256 coordinate, r or s */
#define JOSE_MAX_DATE  253402300799.0   /* 9999-12-31T23:59:59Z, seconds */

typedef struct JoseAlg JoseAlg;
struct JoseAlg {
  const char *zName;
  int eAlg;             /* JOSE_ALG_RS256 ... */
  int eKty;             /* Key type it needs */
};
static const JoseAlg aJoseAlg[] = {
  { "RS256", JOSE_ALG_RS256, JOSE_KTY_RSA },
  { "PS256", JOSE_ALG_PS256, JOSE_KTY_RSA },
  { "ES256", JOSE_ALG_ES256, JOSE_KTY_EC },
};

/* One usable verification key. Pointers are into the set's arena. */
typedef struct JoseKey JoseKey;
struct JoseKey {
  int eKty;                     /* JOSE_KTY_RSA or JOSE_KTY_EC */
  char zAlg[16];                /* The JWK's "alg", "" if absent */
  const char *zKid;             /* The JWK's "kid", NULL if absent */
  const unsigned char *aN;      /* RSA: modulus, big-endian, no zero lead */
  size_t nN;
  const unsigned char *aE;      /* RSA: public exponent, likewise */
  size_t nE;
  unsigned char aXY[2*JOSE_P256_LEN];  /* EC: x then y */
};

struct SsoJwks {
  SsoArena arena;               /* Kids and moduli */
  JoseKey *aKey;                /* Usable keys, in document order */
  int nKey;
  int nSkipped;                 /* Keys left out */
  char zSkip[96];               /* Why the first of them was left out */
};

/* ---- Helpers --------------------------------------------------------- */

/* The algorithm named zAlg, or NULL if we do not accept it. */
static const JoseAlg *joseAlgFind(const char *zAlg){
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aJoseAlg); i++){
    if( strcmp(aJoseAlg[i].zName, zAlg)==0 ) return &aJoseAlg[i];
  }
  return 0;
}

/*
** Copy z[0..n) into zOut[nOut] for an error message: text that came from
** a token or a key set may hold anything, and messages end up in logs, so
** only printable ASCII other than quotes and backslashes survives (the
** rest becomes '?') and long text is cut.
*/
static const char *joseQuote(const char *z, size_t n, char *zOut,
                             size_t nOut){
  size_t i;
  if( z==0 ){ z = ""; n = 0; }
  for(i=0; i<n && i+1<nOut; i++){
    unsigned char c = (unsigned char)z[i];
    zOut[i] = (c>=0x20 && c<0x7f && c!='"' && c!='\\') ? (char)c : '?';
  }
  zOut[i] = 0;
  return zOut;
}

/* mbedTLS result to ours. Its low-level error codes sit in bits 0..6 of
** the negated value; MBEDTLS_ERR_MPI_ALLOC_FAILED is one of those. */
static int joseMbedRc(int rc){
  if( rc==0 ) return SSOPROXY_OK;
  if( rc==MBEDTLS_ERR_ECP_ALLOC_FAILED
   || ((-rc) & 0x7f)==(-MBEDTLS_ERR_MPI_ALLOC_FAILED) ){
    return SSOPROXY_NOMEM;
  }
  return SSOPROXY_ERROR;
}

/* 3.x's key parsers and hashes may run on PSA, which wants initialising
** once; psa_crypto_init() may be called again and again. */
static int joseInitPsa(void){
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
  return psa_crypto_init()==PSA_SUCCESS ? 0 : -1;
#else
  return 0;
#endif
}

/* ---- mbedTLS keys from bytes ----------------------------------------- */

/*
** Make pRsa a public key from a big-endian modulus and exponent and check
** it is consistent (mbedtls_rsa_check_pubkey: odd modulus, odd exponent
** of at least 3 and below the modulus). The caller frees pRsa with
** mbedtls_rsa_free() whatever the outcome. Returns an mbedTLS code.
*/
static int joseRsaOpen(mbedtls_rsa_context *pRsa,
                       const unsigned char *aN, size_t nN,
                       const unsigned char *aE, size_t nE){
  int rc;
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  mbedtls_rsa_init(pRsa);
#else
  mbedtls_rsa_init(pRsa, MBEDTLS_RSA_PKCS_V15, 0);
#endif
  rc = mbedtls_rsa_import_raw(pRsa, aN, nN, 0, 0, 0, 0, 0, 0, aE, nE);
  if( rc==0 ) rc = mbedtls_rsa_complete(pRsa);
  if( rc==0 ) rc = mbedtls_rsa_check_pubkey(pRsa);
  return rc;
}

/* RSASSA-PKCS1-v1_5 (RS256) or RSASSA-PSS with MGF1-SHA256 and a 32-byte
** salt (PS256, RFC 7518 §3.5) over a SHA-256 hash; sig is exactly as long
** as the modulus. Returns an mbedTLS code. */
static int joseRsaCheck(mbedtls_rsa_context *pRsa, int eAlg,
                        const unsigned char *aHash, const unsigned char *sig){
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  if( eAlg==JOSE_ALG_PS256 ){
    mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    return mbedtls_rsa_rsassa_pss_verify_ext(pRsa, MBEDTLS_MD_SHA256,
               SSO_SHA256_LEN, aHash, MBEDTLS_MD_SHA256, SSO_SHA256_LEN, sig);
  }
  mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  return mbedtls_rsa_rsassa_pkcs1_v15_verify(pRsa, MBEDTLS_MD_SHA256,
                                             SSO_SHA256_LEN, aHash, sig);
#else
  if( eAlg==JOSE_ALG_PS256 ){
    mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    return mbedtls_rsa_rsassa_pss_verify_ext(pRsa, 0, 0, MBEDTLS_RSA_PUBLIC,
               MBEDTLS_MD_SHA256, SSO_SHA256_LEN, aHash, MBEDTLS_MD_SHA256,
               SSO_SHA256_LEN, sig);
  }
  mbedtls_rsa_set_padding(pRsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  return mbedtls_rsa_rsassa_pkcs1_v15_verify(pRsa, 0, 0, MBEDTLS_RSA_PUBLIC,
               MBEDTLS_MD_SHA256, SSO_SHA256_LEN, aHash, sig);
#endif
}

/*
** Make pQ the P-256 point (x, y) and check that it lies on the curve and
** is not the point at infinity (an invalid-curve attack feeds points of
** another curve). pGrp and pQ are initialised here; the caller frees
** them whatever the outcome. Returns an mbedTLS code.
*/
static int joseEcOpen(mbedtls_ecp_group *pGrp, mbedtls_ecp_point *pQ,
                      const unsigned char *aXY){
  unsigned char aPt[1+2*JOSE_P256_LEN];
  int rc;
  mbedtls_ecp_group_init(pGrp);
  mbedtls_ecp_point_init(pQ);
  aPt[0] = 0x04;                          /* SEC 1 §2.3.3, uncompressed */
  memcpy(aPt+1, aXY, 2*JOSE_P256_LEN);
  rc = mbedtls_ecp_group_load(pGrp, MBEDTLS_ECP_DP_SECP256R1);
  if( rc==0 ) rc = mbedtls_ecp_point_read_binary(pGrp, pQ, aPt, sizeof(aPt));
  if( rc==0 ) rc = mbedtls_ecp_check_pubkey(pGrp, pQ);
  return rc;
}

/* ---- Key sets -------------------------------------------------------- */

static void ssoJwksFree(SsoJwks *p){
  if( p==0 ) return;
  ssoArenaFree(&p->arena);
  ssoFree(p);
}
static int ssoJwksCount(const SsoJwks *p){ return p ? p->nKey : 0; }
static int ssoJwksSkipped(const SsoJwks *p){ return p ? p->nSkipped : 0; }
static const char *ssoJwksSkipReason(const SsoJwks *p){
  return p ? p->zSkip : "";
}

/* Leave the key out: SSOPROXY_NOTFOUND with the reason in zWhy[nWhy]. */
#define joseSkip(zWhy, nWhy, ...) \
  ssoErrorf(zWhy, nWhy, SSOPROXY_NOTFOUND, __VA_ARGS__)

/*
** The base64url member zName of a JWK, decoded into a[0..nMax). Returns
** SSOPROXY_OK with *pn set, SSOPROXY_NOTFOUND if it is missing,
** SSOPROXY_PARSE if it is no string or not base64url, SSOPROXY_TOOBIG if
** it decodes to more than nMax bytes.
*/
static int joseB64Member(const SsoJson *pJwk, const char *zName,
                         unsigned char *a, size_t nMax, size_t *pn){
  const SsoJson *pVal = ssoJsonGet(pJwk, zName);
  size_t nz = 0;
  const char *z = ssoJsonStr(pVal, &nz);
  if( pVal==0 ) return SSOPROXY_NOTFOUND;
  if( z==0 ) return SSOPROXY_PARSE;
  return ssoB64Decode(z, nz, SSO_B64_URL, a, nMax, pn, 0);
}

/* The number of significant bits of the big-endian a[0..n), a[0]!=0. */
static unsigned joseBits(const unsigned char *a, size_t n){
  unsigned nBit = 0, c;
  if( n==0 ) return 0;
  for(c=a[0]; c; c>>=1) nBit++;
  return (unsigned)(n-1)*8 + nBit;
}

/*
** The RSA members of a JWK into pKey. RFC 7518 §6.3.1 wants the shortest
** form of n and e, but some providers prefix a zero byte, so leading
** zeros are dropped rather than refused.
*/
static int joseRsaKey(SsoJwks *pSet, const SsoJson *pJwk, JoseKey *pKey,
                      char *zWhy, size_t nWhy){
  unsigned char aN[SSO_JOSE_MAX_RSA_BITS/8 + 1];
  unsigned char aE[SSO_JOSE_MAX_RSA_E + 1];
  const unsigned char *pN = aN, *pE = aE;
  size_t nN = 0, nE = 0;
  unsigned nBit;
  mbedtls_rsa_context rsa;
  unsigned char *aCopy;
  int rc;
  rc = joseB64Member(pJwk, "n", aN, sizeof(aN), &nN);
  if( rc==SSOPROXY_TOOBIG ){
    return joseSkip(zWhy, nWhy, "RSA modulus over %d bits",
                    SSO_JOSE_MAX_RSA_BITS);
  }
  if( rc ) return joseSkip(zWhy, nWhy, "RSA key without a base64url n");
  rc = joseB64Member(pJwk, "e", aE, sizeof(aE), &nE);
  if( rc==SSOPROXY_TOOBIG ){
    return joseSkip(zWhy, nWhy, "RSA exponent over %d bytes",
                    SSO_JOSE_MAX_RSA_E);
  }
  if( rc ) return joseSkip(zWhy, nWhy, "RSA key without a base64url e");
  while( nN>0 && pN[0]==0 ){ pN++; nN--; }
  while( nE>0 && pE[0]==0 ){ pE++; nE--; }
  nBit = joseBits(pN, nN);
  if( nBit<SSO_JOSE_MIN_RSA_BITS || nBit>SSO_JOSE_MAX_RSA_BITS ){
    return joseSkip(zWhy, nWhy, "RSA modulus of %u bits, not %d..%d", nBit,
                    SSO_JOSE_MIN_RSA_BITS, SSO_JOSE_MAX_RSA_BITS);
  }
  if( nE==0 || nE>SSO_JOSE_MAX_RSA_E ){
    return joseSkip(zWhy, nWhy, "RSA exponent of %zu bytes", nE);
  }
  rc = joseMbedRc(joseRsaOpen(&rsa, pN, nN, pE, nE));
  mbedtls_rsa_free(&rsa);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return joseSkip(zWhy, nWhy, "RSA public key is invalid");
  aCopy = ssoArenaAlloc(&pSet->arena, nN + nE);
  if( aCopy==0 ) return SSOPROXY_NOMEM;
  memcpy(aCopy, pN, nN);
  memcpy(aCopy+nN, pE, nE);
  pKey->aN = aCopy;
  pKey->nN = nN;
  pKey->aE = aCopy + nN;
  pKey->nE = nE;
  return SSOPROXY_OK;
}

/* The EC members of a JWK into pKey: P-256 only, each coordinate exactly
** 32 bytes (RFC 7518 §6.2.1.2), the point on the curve. */
static int joseEcKey(const SsoJson *pJwk, JoseKey *pKey,
                     char *zWhy, size_t nWhy){
  const char *zCrv = ssoJsonCStr(ssoJsonGet(pJwk, "crv"));
  unsigned char aC[JOSE_P256_LEN + 1];
  size_t nX = 0, nY = 0;
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  int rc;
  if( zCrv==0 || strcmp(zCrv, "P-256")!=0 ){
    char zQ[24];
    return joseSkip(zWhy, nWhy, "EC curve \"%s\" is not P-256",
                    joseQuote(zCrv, zCrv ? strlen(zCrv) : 0, zQ, sizeof(zQ)));
  }
  if( joseB64Member(pJwk, "x", aC, sizeof(aC), &nX)
   || nX!=JOSE_P256_LEN ){
    return joseSkip(zWhy, nWhy, "EC key without a 32-byte base64url x");
  }
  memcpy(pKey->aXY, aC, JOSE_P256_LEN);
  if( joseB64Member(pJwk, "y", aC, sizeof(aC), &nY)
   || nY!=JOSE_P256_LEN ){
    return joseSkip(zWhy, nWhy, "EC key without a 32-byte base64url y");
  }
  memcpy(pKey->aXY+JOSE_P256_LEN, aC, JOSE_P256_LEN);
  rc = joseMbedRc(joseEcOpen(&grp, &q, pKey->aXY));
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return joseSkip(zWhy, nWhy, "EC point is not on P-256");
  return SSOPROXY_OK;
}

/* 1 if the JWK may be used to verify signatures (RFC 7517 §4.2, §4.3):
** "use", if present, is "sig"; "key_ops", if present, lists "verify". */
static int joseKeyForSig(const SsoJson *pJwk){
  const SsoJson *pUse = ssoJsonGet(pJwk, "use");
  const SsoJson *pOps = ssoJsonGet(pJwk, "key_ops");
  if( pUse ){
    const char *zUse = ssoJsonCStr(pUse);
    if( zUse==0 || strcmp(zUse, "sig")!=0 ) return 0;
  }
  if( pOps ){
    size_t i, n = ssoJsonCount(pOps);
    if( ssoJsonType(pOps)!=SSO_JSON_ARRAY ) return 0;
    for(i=0; i<n; i++){
      const char *zOp = ssoJsonCStr(ssoJsonAt(pOps, i));
      if( zOp && strcmp(zOp, "verify")==0 ) return 1;
    }
    return 0;
  }
  return 1;
}

/*
** One JWK into pKey. SSOPROXY_OK if usable, SSOPROXY_NOTFOUND (with the
** reason in zWhy) if it is to be skipped, SSOPROXY_NOMEM.
*/
static int joseKeyParse(SsoJwks *pSet, const SsoJson *pJwk, JoseKey *pKey,
                        char *zWhy, size_t nWhy){
  const char *zKty = ssoJsonCStr(ssoJsonGet(pJwk, "kty"));
  const SsoJson *pAlg = ssoJsonGet(pJwk, "alg");
  const SsoJson *pKid = ssoJsonGet(pJwk, "kid");
  const JoseAlg *pA = 0;
  char zQ[24];
  memset(pKey, 0, sizeof(*pKey));
  if( ssoJsonType(pJwk)!=SSO_JSON_OBJECT ){
    return joseSkip(zWhy, nWhy, "key is not a JSON object");
  }
  if( zKty && strcmp(zKty, "RSA")==0 ){
    pKey->eKty = JOSE_KTY_RSA;
  }else if( zKty && strcmp(zKty, "EC")==0 ){
    pKey->eKty = JOSE_KTY_EC;
  }else{
    return joseSkip(zWhy, nWhy, "kty \"%s\" is not RSA or EC",
                    joseQuote(zKty, zKty ? strlen(zKty) : 0, zQ, sizeof(zQ)));
  }
  if( !joseKeyForSig(pJwk) ){
    return joseSkip(zWhy, nWhy, "key is not for signatures (use, key_ops)");
  }
  if( pAlg ){
    const char *zAlg = ssoJsonCStr(pAlg);
    pA = zAlg ? joseAlgFind(zAlg) : 0;
    if( pA==0 || pA->eKty!=pKey->eKty ){
      return joseSkip(zWhy, nWhy, "key alg \"%s\" is not usable",
                      joseQuote(zAlg, zAlg ? strlen(zAlg) : 0, zQ, sizeof(zQ)));
    }
    memcpy(pKey->zAlg, pA->zName, strlen(pA->zName)+1);
  }
  if( pKid ){
    size_t nKid = 0;
    const char *zKid = ssoJsonStr(pKid, &nKid);
    if( zKid==0 || memchr(zKid, 0, nKid) || nKid>SSO_JOSE_MAX_KID ){
      return joseSkip(zWhy, nWhy, "key kid is not a string of at most %d"
                      " bytes", SSO_JOSE_MAX_KID);
    }
    pKey->zKid = ssoArenaStrndup(&pSet->arena, zKid, nKid);
    if( pKey->zKid==0 ) return SSOPROXY_NOMEM;
  }
  if( pKey->eKty==JOSE_KTY_RSA ){
    return joseRsaKey(pSet, pJwk, pKey, zWhy, nWhy);
  }
  return joseEcKey(pJwk, pKey, zWhy, nWhy);
}

static int ssoJwksParse(const char *z, size_t n, SsoJwks **pp,
                             char *zErr, size_t nErr){
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr err;
  SsoJwks *pSet = 0;
  const SsoJson *pKeys;
  size_t i, nKeys;
  int rc;
  *pp = 0;
  if( nErr ) zErr[0] = 0;
  if( n>SSO_JOSE_MAX_JWKS ){
    return ssoErrorf(zErr, nErr, SSOPROXY_TOOBIG, "JWKS is %zu bytes, over"
                     " the limit of %u", n, (unsigned)SSO_JOSE_MAX_JWKS);
  }
  rc = ssoJsonParse(z, n, SSO_JSON_NODUP, &pDoc, &err);
  if( rc==SSOPROXY_NOMEM ){
    rc = ssoErrorf(zErr, nErr, rc, "out of memory");
    goto end;
  }
  if( rc ){
    rc = ssoErrorf(zErr, nErr, rc, "JWKS is not JSON: %s at byte %zu",
                   err.zMsg, err.iOfs);
    goto end;
  }
  pKeys = ssoJsonGet(ssoJsonRoot(pDoc), "keys");
  if( ssoJsonType(pKeys)!=SSO_JSON_ARRAY ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                   "JWKS is not an object with a \"keys\" array");
    goto end;
  }
  nKeys = ssoJsonCount(pKeys);
  if( nKeys>SSO_JOSE_MAX_KEYS ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_TOOBIG, "JWKS has %zu keys, over the"
                   " limit of %d", nKeys, SSO_JOSE_MAX_KEYS);
    goto end;
  }
  pSet = ssoMallocZero(sizeof(*pSet));
  if( pSet==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  ssoArenaInit(&pSet->arena, 0);
  pSet->aKey = ssoArenaAlloc(&pSet->arena, (nKeys ? nKeys : 1)*sizeof(JoseKey));
  if( pSet->aKey==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  for(i=0; i<nKeys; i++){
    char zWhy[sizeof(pSet->zSkip)];
    JoseKey *pKey = &pSet->aKey[pSet->nKey];
    rc = joseKeyParse(pSet, ssoJsonAt(pKeys, i), pKey, zWhy, sizeof(zWhy));
    if( rc==SSOPROXY_NOMEM ) goto end;
    if( rc==SSOPROXY_OK ){
      pSet->nKey++;
    }else{
      if( pSet->nSkipped==0 ){
        ssoErrorf(pSet->zSkip, sizeof(pSet->zSkip), 0, "key %zu: %s", i, zWhy);
      }
      pSet->nSkipped++;
    }
  }
  rc = SSOPROXY_OK;
end:
  ssoJsonFree(pDoc);
  if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
  if( rc ){
    ssoJwksFree(pSet);
  }else{
    *pp = pSet;
  }
  return rc;
}

/* ---- Tokens ---------------------------------------------------------- */

static void ssoJwtFree(SsoJwt *p){
  if( p==0 ) return;
  ssoJsonFree(p->pClaims);
  ssoJsonFree(p->pHeader);
  memset(p, 0, sizeof(*p));
}

/*
** Decode the base64url part zPart ("header" or "payload") at z[0..n),
** which starts iOfs bytes into the token, and parse it as a JSON object,
** refusing repeated names (two "alg" or two "aud" could be read one way
** here and another way by whoever signed). aBuf has room for the bytes.
*/
static int joseJsonPart(const char *zPart, const char *z, size_t n,
                        size_t iOfs, unsigned char *aBuf, SsoJsonDoc **ppDoc,
                        char *zErr, size_t nErr){
  size_t nOut = 0, iErr = 0;
  SsoJsonErr err;
  int rc;
  if( n==0 ) return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is empty", zPart);
  rc = ssoB64Decode(z, n, SSO_B64_URL, aBuf, ssoB64DecodedMax(n), &nOut,
                    &iErr);
  if( rc ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not base64url (byte"
                     " %zu of the token)", zPart, iOfs + iErr);
  }
  rc = ssoJsonParse((const char*)aBuf, nOut, SSO_JSON_NODUP, ppDoc, &err);
  if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc, "out of memory");
  if( rc ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not JSON: %s at byte"
                     " %zu", zPart, err.zMsg, err.iOfs);
  }
  if( ssoJsonType(ssoJsonRoot(*ppDoc))!=SSO_JSON_OBJECT ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "%s is not a JSON object",
                     zPart);
  }
  return SSOPROXY_OK;
}

/* The header's members: alg (a string), kid (a string if present), no
** crit. */
static int joseHeaderCheck(SsoJwt *p, char *zErr, size_t nErr){
  const SsoJson *pRoot = ssoJsonRoot(p->pHeader);
  const SsoJson *pAlg = ssoJsonGet(pRoot, "alg");
  const SsoJson *pKid = ssoJsonGet(pRoot, "kid");
  const char *zAlg;
  if( pAlg==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header has no alg");
  }
  zAlg = ssoJsonCStr(pAlg);
  if( zAlg==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header alg is not a string");
  }
  if( strlen(zAlg)>=sizeof(p->zAlg) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "header alg is too long");
  }
  memcpy(p->zAlg, zAlg, strlen(zAlg)+1);
  if( pKid ){
    p->zKid = ssoJsonCStr(pKid);
    if( p->zKid==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                       "header kid is not a string");
    }
  }
  if( ssoJsonGet(pRoot, "crit") ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                     "header has crit: no extension is supported");
  }
  return SSOPROXY_OK;
}

static int ssoJwtDecode(const char *z, size_t n, SsoJwt *p,
                             char *zErr, size_t nErr){
  const char *zDot1, *zDot2;
  size_t nHead, nBody, nSig, iErr = 0;
  unsigned char *aBuf = 0;
  int rc;
  memset(p, 0, sizeof(*p));
  if( nErr ) zErr[0] = 0;
  if( n>SSO_JOSE_MAX_TOKEN ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "token is %zu bytes, over"
                     " the limit of %d", n, SSO_JOSE_MAX_TOKEN);
  }
  zDot1 = n ? memchr(z, '.', n) : 0;
  zDot2 = zDot1 ? memchr(zDot1+1, '.', n - (size_t)(zDot1+1-z)) : 0;
  if( zDot2==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "token has %d part%s, not 3",
                     zDot1 ? 2 : 1, zDot1 ? "s" : "");
  }
  if( memchr(zDot2+1, '.', n - (size_t)(zDot2+1-z)) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_PARSE,
                     "token has more than 3 parts (a JWE has 5)");
  }
  nHead = (size_t)(zDot1 - z);
  nBody = (size_t)(zDot2 - zDot1 - 1);
  nSig = n - (size_t)(zDot2 + 1 - z);
  aBuf = ssoMalloc(ssoB64DecodedMax(nHead>nBody ? nHead : nBody) + 1);
  if( aBuf==0 ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    goto end;
  }
  rc = joseJsonPart("header", z, nHead, 0, aBuf, &p->pHeader, zErr, nErr);
  if( rc==SSOPROXY_OK ) rc = joseHeaderCheck(p, zErr, nErr);
  if( rc ) goto end;
  rc = joseJsonPart("payload", zDot1+1, nBody, nHead+1, aBuf, &p->pClaims,
                    zErr, nErr);
  if( rc ) goto end;
  rc = ssoB64Decode(zDot2+1, nSig, SSO_B64_URL, p->aSig, sizeof(p->aSig),
                    &p->nSig, &iErr);
  if( rc==SSOPROXY_TOOBIG ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "signature is over %d bytes",
                   SSO_JOSE_MAX_SIG);
    goto end;
  }
  if( rc ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_PARSE, "signature is not base64url"
                   " (byte %zu of the token)", nHead + nBody + 2 + iErr);
    goto end;
  }
  /* The signing input is the first two parts as sent (RFC 7515 §5.2). */
  if( ssoSha256(z, (size_t)(zDot2 - z), p->aHash) ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "SHA-256 failed");
  }
end:
  ssoFree(aBuf);
  if( rc ) ssoJwtFree(p);
  return rc;
}

/* ---- Signatures ------------------------------------------------------ */

/* Verify p's signature with one RSA key. */
static int joseVerifyRsa(const SsoJwt *p, const JoseAlg *pA,
                         const JoseKey *pKey, char *zErr, size_t nErr){
  mbedtls_rsa_context rsa;
  int rc = joseMbedRc(joseRsaOpen(&rsa, pKey->aN, pKey->nN,
                                  pKey->aE, pKey->nE));
  if( rc==SSOPROXY_OK ){
    /* The signature is exactly as long as the modulus (RFC 8017 §8.2.2
    ** step 1, §8.1.2 step 1); mbedTLS reads that many bytes. */
    size_t nKey = mbedtls_rsa_get_len(&rsa);
    if( p->nSig!=nKey ){
      rc = ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s signature is %zu bytes,"
                     " the key needs %zu", pA->zName, p->nSig, nKey);
    }else{
      rc = joseMbedRc(joseRsaCheck(&rsa, pA->eAlg, p->aHash, p->aSig));
      if( rc==SSOPROXY_ERROR ){
        ssoErrorf(zErr, nErr, rc, "%s signature does not verify", pA->zName);
      }
    }
  }else if( rc==SSOPROXY_ERROR ){
    ssoErrorf(zErr, nErr, rc, "RSA public key is invalid");
  }
  mbedtls_rsa_free(&rsa);
  return rc;
}

/* Verify p's signature with one P-256 key. RFC 7518 §3.4: the signature
** is r and s, 32 bytes each, big-endian; a DER ECDSA-Sig-Value (what
** OpenSSL emits) is 70 to 72 bytes and so refused by its length. */
static int joseVerifyEc(const SsoJwt *p, const JoseKey *pKey,
                        char *zErr, size_t nErr){
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  int rc;
  if( p->nSig!=2*JOSE_P256_LEN ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "ES256 signature is %zu"
                     " bytes, not 64 (r||s)", p->nSig);
  }
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  rc = joseEcOpen(&grp, &q, pKey->aXY);
  if( rc==0 ) rc = mbedtls_mpi_read_binary(&r, p->aSig, JOSE_P256_LEN);
  if( rc==0 ){
    rc = mbedtls_mpi_read_binary(&s, p->aSig+JOSE_P256_LEN, JOSE_P256_LEN);
  }
  /* mbedtls_ecdsa_verify() refuses r or s outside 1..n-1. */
  if( rc==0 ){
    rc = mbedtls_ecdsa_verify(&grp, p->aHash, SSO_SHA256_LEN, &q, &r, &s);
  }
  rc = joseMbedRc(rc);
  if( rc==SSOPROXY_ERROR ){
    ssoErrorf(zErr, nErr, rc, "ES256 signature does not verify");
  }
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&r);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

static int ssoJwtVerify(const SsoJwt *p, const SsoJwks *pKeys,
                             char *zErr, size_t nErr){
  const JoseAlg *pA = joseAlgFind(p->zAlg);
  int i, nKid = 0, nTried = 0, rc = SSOPROXY_ERROR;
  char zQ[72];
  if( nErr ) zErr[0] = 0;
  if( pA==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "alg \"%s\" is not accepted"
                     " (only RS256, PS256, ES256)",
                     joseQuote(p->zAlg, strlen(p->zAlg), zQ, sizeof(zQ)));
  }
  if( joseInitPsa() ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "cannot initialise the PSA crypto library");
  }
  for(i=0; pKeys && i<pKeys->nKey; i++){
    const JoseKey *pKey = &pKeys->aKey[i];
    if( p->zKid ){
      if( pKey->zKid==0 || strcmp(pKey->zKid, p->zKid)!=0 ) continue;
      nKid++;
    }
    if( pKey->eKty!=pA->eKty ) continue;
    if( pKey->zAlg[0] && strcmp(pKey->zAlg, pA->zName)!=0 ) continue;
    nTried++;
    if( pA->eKty==JOSE_KTY_RSA ){
      rc = joseVerifyRsa(p, pA, pKey, zErr, nErr);
    }else{
      rc = joseVerifyEc(p, pKey, zErr, nErr);
    }
    if( rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM ) break;
  }
  if( rc==SSOPROXY_OK ){
    if( nErr ) zErr[0] = 0;
    return rc;
  }
  if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc, "out of memory");
  if( nTried>1 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s signature verifies with"
                     " none of %d keys", pA->zName, nTried);
  }
  if( nTried==1 ) return rc;
  if( p->zKid ){
    joseQuote(p->zKid, strlen(p->zKid), zQ, sizeof(zQ));
    if( nKid>0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "key \"%s\" does not fit"
                       " alg %s (kty or alg differs)", zQ, pA->zName);
    }
    return ssoErrorf(zErr, nErr, SSOPROXY_NOTFOUND, "no key with kid \"%s\"",
                     zQ);
  }
  return ssoErrorf(zErr, nErr, SSOPROXY_NOTFOUND, "no %s key for %s",
                   pA->eKty==JOSE_KTY_RSA ? "RSA" : "EC P-256", pA->zName);
}

/* ---- Claims ---------------------------------------------------------- */

/*
** A NumericDate claim (RFC 7519 §2: seconds, integer or not) in ms.
** SSOPROXY_NOTFOUND if absent, SSOPROXY_ERROR (zErr set) if it is not a
** number from 0 to year 9999.
*/
static int joseDate(const SsoJson *pRoot, const char *zName, long long *pMs,
                    char *zErr, size_t nErr){
  const SsoJson *pVal = ssoJsonGet(pRoot, zName);
  double r = 0;
  if( pVal==0 ) return SSOPROXY_NOTFOUND;
  if( ssoJsonDouble(pVal, &r)!=SSOPROXY_OK || !(r>=0 && r<=JOSE_MAX_DATE) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "%s is not a date", zName);
  }
  *pMs = (long long)(r*1000.0);
  return SSOPROXY_OK;
}

/* The time claims: exp, iat, nbf, and the age limit. */
static int joseCheckTimes(const SsoJson *pRoot, const SsoJwtExpect *pExp,
                          char *zErr, size_t nErr){
  long long tExp = 0, tIat = 0, tNbf = 0;
  long long tNow = pExp->tNow, msSkew = pExp->msSkew;
  int rc;
  rc = joseDate(pRoot, "exp", &tExp, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "exp is missing");
  }
  if( rc ) return rc;
  if( tNow >= tExp + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "exp: token expired %lld s"
                     " ago", (tNow - tExp)/1000);
  }
  rc = joseDate(pRoot, "iat", &tIat, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat is missing");
  }
  if( rc ) return rc;
  if( tIat > tNow + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat: token issued %lld s"
                     " in the future", (tIat - tNow)/1000);
  }
  if( pExp->msMaxAge>0 && tNow - tIat > pExp->msMaxAge + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iat: token issued %lld s"
                     " ago, over the limit of %lld s", (tNow - tIat)/1000,
                     pExp->msMaxAge/1000);
  }
  rc = joseDate(pRoot, "nbf", &tNbf, zErr, nErr);
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  if( tNbf > tNow + msSkew ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "nbf: token not valid for"
                     " %lld s yet", (tNbf - tNow)/1000);
  }
  return SSOPROXY_OK;
}

/* 1 if the string value pVal is exactly z (no NUL tricks: lengths too). */
static int joseStrIs(const SsoJson *pVal, const char *z){
  size_t n = 0;
  const char *zVal = ssoJsonStr(pVal, &n);
  return zVal && n==strlen(z) && memcmp(zVal, z, n)==0;
}

/* aud and azp (OpenID Connect Core §3.1.3.7 steps 3 to 5). */
static int joseCheckAud(const SsoJson *pRoot, const char *zAud,
                        char *zErr, size_t nErr){
  const SsoJson *pAud = ssoJsonGet(pRoot, "aud");
  const SsoJson *pAzp = ssoJsonGet(pRoot, "azp");
  size_t i, nAud = 1;
  int bFound = 0;
  if( pAud==0 ) return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "aud is missing");
  if( ssoJsonType(pAud)==SSO_JSON_STRING ){
    bFound = joseStrIs(pAud, zAud);
  }else if( ssoJsonType(pAud)==SSO_JSON_ARRAY ){
    nAud = ssoJsonCount(pAud);
    for(i=0; i<nAud; i++){
      const SsoJson *pOne = ssoJsonAt(pAud, i);
      if( ssoJsonType(pOne)!=SSO_JSON_STRING ){
        return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                         "aud is not a string or an array of strings");
      }
      if( joseStrIs(pOne, zAud) ) bFound = 1;
    }
  }else{
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "aud is not a string or an array of strings");
  }
  if( !bFound ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "aud does not include our client id");
  }
  if( nAud>1 && pAzp==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "azp is missing and aud has %zu values", nAud);
  }
  if( pAzp && !joseStrIs(pAzp, zAud) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "azp is not our client id");
  }
  return SSOPROXY_OK;
}

/* The nonce, compared through SHA-256 digests so that the time taken
** says nothing about how much of a guess was right, not even its
** length. */
static int joseCheckNonce(const SsoJson *pRoot, const char *zNonce,
                          char *zErr, size_t nErr){
  unsigned char aWant[SSO_SHA256_LEN], aGot[SSO_SHA256_LEN];
  size_t n = 0;
  const char *z = ssoJsonStr(ssoJsonGet(pRoot, "nonce"), &n);
  if( z==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR,
                     "nonce is missing or not a string");
  }
  if( ssoSha256(zNonce, strlen(zNonce), aWant)
   || ssoSha256(z, n, aGot)
   || !ssoCtEqual(aWant, aGot, sizeof(aGot)) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "nonce does not match");
  }
  return SSOPROXY_OK;
}

static int ssoJwtCheckClaims(const SsoJwt *p, const SsoJwtExpect *pExp,
                                  char *zErr, size_t nErr){
  const SsoJson *pRoot = ssoJsonRoot(p->pClaims);
  const SsoJson *pSub = ssoJsonGet(pRoot, "sub");
  const char *zSub = ssoJsonCStr(pSub);
  int rc;
  if( nErr ) zErr[0] = 0;
  if( pExp->zAud==0 || pRoot==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_MISUSE,
                     "no client id to check aud against");
  }
  rc = joseCheckTimes(pRoot, pExp, zErr, nErr);
  if( rc ) return rc;
  if( zSub==0 || zSub[0]==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "sub is %s", pSub==0 ?
                     "missing" : "not a non-empty string");
  }
  if( strlen(zSub)>SSO_JOSE_MAX_SUB ){
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "sub is over %d bytes",
                     SSO_JOSE_MAX_SUB);
  }
  if( pExp->zIss && !joseStrIs(ssoJsonGet(pRoot, "iss"), pExp->zIss) ){
    char zGot[100], zWant[100];
    size_t n = 0;
    const char *zIss = ssoJsonStr(ssoJsonGet(pRoot, "iss"), &n);
    return ssoErrorf(zErr, nErr, SSOPROXY_ERROR, "iss \"%s\" is not the"
                     " issuer \"%s\"", joseQuote(zIss, n, zGot, sizeof(zGot)),
                     joseQuote(pExp->zIss, strlen(pExp->zIss), zWant,
                               sizeof(zWant)));
  }
  rc = joseCheckAud(pRoot, pExp->zAud, zErr, nErr);
  if( rc ) return rc;
  if( pExp->zNonce ) return joseCheckNonce(pRoot, pExp->zNonce, zErr, nErr);
  return SSOPROXY_OK;
}
/************** End of jose.c **************/
/************** Begin file loop.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: the event loop (the shape of antirez's ae.c). Each loop owns
** a poller (epoll, or poll() when SSO_USE_POLL is defined or the system
** is not Linux), a table of watched descriptors indexed by fd, a binary
** min-heap of timers, a queue of deferred tasks and a wake-up descriptor
** (an eventfd, or a pipe) that other threads and signal handlers write
** to. Everything else in the transport layer is callbacks on a loop.
**
** Level-triggered on purpose: a callback may stop early (a full output
** queue, a paused producer) and the kernel reminds us later, so no
** callback has to drain a socket to EAGAIN to stay correct.
**
** A descriptor whose interest mask is 0 is taken out of the poller
** altogether: both epoll and poll() report hang-ups whether asked or
** not, and a quiet connection whose peer left would otherwise spin.
*/
/* #include "ssoInt.h" */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#if !defined(SSO_USE_POLL) && defined(__linux__)
# define SSO_LOOP_EPOLL 1
# include <sys/epoll.h>
# include <sys/eventfd.h>
#else
# include <poll.h>
/* POLLRDHUP (Linux) reports a peer's FIN without asking for input.
** -DSSO_LOOP_NO_RDHUP tries the portable fallback on Linux. */
# if defined(POLLRDHUP) && !defined(SSO_LOOP_NO_RDHUP)
#  define LOOP_POLLRDHUP 1
# endif
#endif

#ifndef MSG_NOSIGNAL
# define MSG_NOSIGNAL 0     /* BSDs: SO_NOSIGPIPE is set on the socket */
#endif

#define LOOP_MAX_EVENTS 256 /* Events taken from the kernel per wait */

typedef struct LoopFile LoopFile;
struct LoopFile {
  SsoLoopFdFn xFn;      /* NULL when the fd is not watched */
  void *pArg;
  int eMask;            /* SSO_LOOP_READ|WRITE|HUP asked for */
  int iPoll;            /* poll(): slot in aPoll, -1 if absent.
                        ** epoll: 1 when registered with the kernel */
  int bPeekData;        /* poll() without POLLRDHUP: a peek for HUP found
                        ** unread input, so POLLIN is not asked for */
};

#ifndef SSO_LOOP_EPOLL
typedef struct LoopFired LoopFired;
struct LoopFired { int fd; int eEvents; };
#endif

struct SsoLoop {
  LoopFile *aFile;      /* Indexed by fd */
  int nFile;            /* Entries in aFile */
  SsoLoopTimer **aHeap; /* Min-heap of armed timers by iWhen */
  int nHeap, nHeapAlloc;
  SsoLoopTask *pTask;   /* Deferred tasks, oldest first */
  SsoLoopTask *pTaskLast;
  long long iNow;       /* Monotonic ms at the last wake-up */
  int bExit;            /* ssoLoopRun() returns after this iteration */
  int fdWakeR, fdWakeW; /* Wake-up descriptor(s); equal for an eventfd */
  void (*xWake)(SsoLoop*, void*);
  void *pWakeArg;
#ifdef SSO_LOOP_EPOLL
  int fdEpoll;
  struct epoll_event aEv[LOOP_MAX_EVENTS];
#else
  struct pollfd *aPoll; /* Descriptors with a non-zero mask */
  LoopFired *aFired;    /* Copy of the ready set, same capacity */
  int nPoll, nPollAlloc;
#endif
};

static const char *ssoLoopBackend(void){
#ifdef SSO_LOOP_EPOLL
  return "epoll";
#else
  return "poll";
#endif
}

static long long ssoLoopNow(SsoLoop *p){ return p->iNow; }

/* ---- Descriptor table ------------------------------------------------ */

static int growFiles(SsoLoop *p, int fd){
  int n = p->nFile ? p->nFile : 64, i;
  LoopFile *aNew;
  while( n<=fd ) n *= 2;
  aNew = ssoRealloc(p->aFile, sizeof(LoopFile)*(size_t)n);
  if( aNew==0 ) return SSOPROXY_NOMEM;
  for(i=p->nFile; i<n; i++){
    memset(&aNew[i], 0, sizeof(LoopFile));
    aNew[i].iPoll = -1;
  }
  p->aFile = aNew;
  p->nFile = n;
  return SSOPROXY_OK;
}

#ifdef SSO_LOOP_EPOLL
/* Tell the kernel about fd's mask: add, modify or remove. */
static int pollerSet(SsoLoop *p, int fd, LoopFile *f, int eMask){
  struct epoll_event ev;
  int op;
  memset(&ev, 0, sizeof(ev));
  ev.data.fd = fd;
  if( eMask & SSO_LOOP_READ ) ev.events |= EPOLLIN;
  if( eMask & SSO_LOOP_WRITE ) ev.events |= EPOLLOUT;
  if( eMask & SSO_LOOP_HUP ) ev.events |= EPOLLRDHUP;
  if( eMask==0 ){
    if( f->iPoll>0 ) epoll_ctl(p->fdEpoll, EPOLL_CTL_DEL, fd, &ev);
    f->iPoll = -1;
    return SSOPROXY_OK;
  }
  op = f->iPoll>0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if( epoll_ctl(p->fdEpoll, op, fd, &ev) ) return SSOPROXY_IOERR;
  f->iPoll = 1;
  return SSOPROXY_OK;
}
#else
/* Without POLLRDHUP a FIN shows only as POLLIN, so HUP asks for POLLIN
** until a peek finds real input waiting (which would wake poll() for
** ever); then only POLLHUP (both sides shut) and errors remain. */
static int pollEvents(const LoopFile *f, int eMask){
  int e = ((eMask & SSO_LOOP_READ) ? POLLIN : 0)
        | ((eMask & SSO_LOOP_WRITE) ? POLLOUT : 0);
#ifdef LOOP_POLLRDHUP
  SSO_UNUSED(f);
  if( eMask & SSO_LOOP_HUP ) e |= POLLRDHUP;
#else
  if( (eMask & SSO_LOOP_HUP) && !f->bPeekData ) e |= POLLIN;
#endif
  return e;
}
static int pollerSet(SsoLoop *p, int fd, LoopFile *f, int eMask){
  if( eMask==0 ){
    if( f->iPoll>=0 ){        /* move the last slot into the hole */
      int iLast = --p->nPoll;
      if( f->iPoll!=iLast ){
        p->aPoll[f->iPoll] = p->aPoll[iLast];
        p->aFile[p->aPoll[iLast].fd].iPoll = f->iPoll;
      }
      f->iPoll = -1;
    }
    return SSOPROXY_OK;
  }
  if( f->iPoll<0 ){
    if( p->nPoll>=p->nPollAlloc ){
      int n = p->nPollAlloc ? p->nPollAlloc*2 : 64;
      struct pollfd *aNew = ssoRealloc(p->aPoll, sizeof(*aNew)*(size_t)n);
      LoopFired *aFired;
      if( aNew==0 ) return SSOPROXY_NOMEM;
      p->aPoll = aNew;
      aFired = ssoRealloc(p->aFired, sizeof(*aFired)*(size_t)n);
      if( aFired==0 ) return SSOPROXY_NOMEM;
      p->aFired = aFired;
      p->nPollAlloc = n;
    }
    f->iPoll = p->nPoll++;
    p->aPoll[f->iPoll].fd = fd;
    p->aPoll[f->iPoll].revents = 0;
  }
  p->aPoll[f->iPoll].events = (short)pollEvents(f, eMask);
  return SSOPROXY_OK;
}
#endif

static int ssoLoopAdd(SsoLoop *p, int fd, int eMask, SsoLoopFdFn xFn,
                           void *pArg){
  LoopFile *f;
  int rc;
  if( fd<0 || xFn==0 ) return SSOPROXY_MISUSE;
  if( fd>=p->nFile && (rc = growFiles(p, fd))!=SSOPROXY_OK ) return rc;
  f = &p->aFile[fd];
  if( f->xFn ) return SSOPROXY_MISUSE;
  rc = pollerSet(p, fd, f, eMask);
  if( rc ) return rc;
  f->xFn = xFn;
  f->pArg = pArg;
  f->eMask = eMask;
  return SSOPROXY_OK;
}

static int ssoLoopMod(SsoLoop *p, int fd, int eMask){
  LoopFile *f;
  int rc;
  if( fd<0 || fd>=p->nFile || p->aFile[fd].xFn==0 ) return SSOPROXY_MISUSE;
  f = &p->aFile[fd];
  if( f->eMask==eMask ) return SSOPROXY_OK;
  f->bPeekData = 0;
  rc = pollerSet(p, fd, f, eMask);
  if( rc==SSOPROXY_OK ) f->eMask = eMask;
  return rc;
}

static void ssoLoopDel(SsoLoop *p, int fd){
  LoopFile *f;
  if( fd<0 || fd>=p->nFile || p->aFile[fd].xFn==0 ) return;
  f = &p->aFile[fd];
  pollerSet(p, fd, f, 0);
  f->xFn = 0;
  f->pArg = 0;
  f->eMask = 0;
  f->bPeekData = 0;
}

/* ---- Timers: a binary min-heap on iWhen --------------------------------
**
** A connection pushes its deadline later on every request; doing that as
** a heap operation each time would cost O(log n) per request for nothing.
** So a later deadline is only recorded in iWant, and when the old iWhen
** comes round the timer is put back at iWant instead of firing.
*/
static void heapSwap(SsoLoop *p, int i, int j){
  SsoLoopTimer *t = p->aHeap[i];
  p->aHeap[i] = p->aHeap[j];
  p->aHeap[j] = t;
  p->aHeap[i]->iHeap = i;
  p->aHeap[j]->iHeap = j;
}

static void heapUp(SsoLoop *p, int i){
  while( i>0 ){
    int iParent = (i-1)/2;
    if( p->aHeap[iParent]->iWhen <= p->aHeap[i]->iWhen ) break;
    heapSwap(p, i, iParent);
    i = iParent;
  }
}

static void heapDown(SsoLoop *p, int i){
  for(;;){
    int iMin = i, l = 2*i+1, r = 2*i+2;
    if( l<p->nHeap && p->aHeap[l]->iWhen < p->aHeap[iMin]->iWhen ) iMin = l;
    if( r<p->nHeap && p->aHeap[r]->iWhen < p->aHeap[iMin]->iWhen ) iMin = r;
    if( iMin==i ) break;
    heapSwap(p, i, iMin);
    i = iMin;
  }
}

static void heapRemove(SsoLoop *p, SsoLoopTimer *t){
  int i = t->iHeap, iLast = --p->nHeap;
  if( i!=iLast ){
    p->aHeap[i] = p->aHeap[iLast];
    p->aHeap[i]->iHeap = i;
    heapDown(p, i);
    heapUp(p, i);
  }
  t->iHeap = -1;
}

static void ssoLoopTimerInit(SsoLoopTimer *t, SsoLoopTimerFn xFire,
                                  void *pArg){
  memset(t, 0, sizeof(*t));
  t->iHeap = -1;
  t->xFire = xFire;
  t->pArg = pArg;
}

static int ssoLoopTimerArmed(const SsoLoopTimer *t){
  return t->iHeap>=0;
}

static int ssoLoopTimerAt(SsoLoop *p, SsoLoopTimer *t, long long iWhen){
  t->iWant = iWhen;
  if( t->iHeap>=0 ){
    if( iWhen<t->iWhen ){
      t->iWhen = iWhen;
      heapUp(p, t->iHeap);
    }
    return SSOPROXY_OK;
  }
  if( p->nHeap>=p->nHeapAlloc ){
    int n = p->nHeapAlloc ? p->nHeapAlloc*2 : 64;
    SsoLoopTimer **aNew = ssoRealloc(p->aHeap, sizeof(*aNew)*(size_t)n);
    if( aNew==0 ) return SSOPROXY_NOMEM;
    p->aHeap = aNew;
    p->nHeapAlloc = n;
  }
  t->iWhen = iWhen;
  t->iHeap = p->nHeap++;
  p->aHeap[t->iHeap] = t;
  heapUp(p, t->iHeap);
  return SSOPROXY_OK;
}

static void ssoLoopTimerStop(SsoLoop *p, SsoLoopTimer *t){
  if( t->iHeap>=0 ) heapRemove(p, t);
}

/* Fire the timers that are due. A timer armed by a callback for "now"
** waits for the next iteration, so a callback cannot starve the loop. */
static void runTimers(SsoLoop *p){
  int nMax = p->nHeap;
  while( p->nHeap>0 && nMax-->0 ){
    SsoLoopTimer *t = p->aHeap[0];
    if( t->iWhen > p->iNow ) break;
    if( t->iWant > t->iWhen ){
      t->iWhen = t->iWant;
      heapDown(p, 0);
      continue;
    }
    heapRemove(p, t);
    t->xFire(p, t, t->pArg);
  }
}

/* ---- Deferred tasks ------------------------------------------------- */

static void ssoLoopTaskInit(SsoLoopTask *t, SsoLoopTaskFn xRun,
                                 void *pArg){
  memset(t, 0, sizeof(*t));
  t->xRun = xRun;
  t->pArg = pArg;
}

static void ssoLoopDefer(SsoLoop *p, SsoLoopTask *t){
  if( t->bQueued ) return;
  t->bQueued = 1;
  t->pNext = 0;
  if( p->pTaskLast ) p->pTaskLast->pNext = t;
  else p->pTask = t;
  p->pTaskLast = t;
}

static void ssoLoopUndefer(SsoLoop *p, SsoLoopTask *t){
  SsoLoopTask **pp, *pPrev = 0;
  if( !t->bQueued ) return;
  for(pp=&p->pTask; *pp; pPrev=*pp, pp=&(*pp)->pNext){
    if( *pp==t ){
      *pp = t->pNext;
      if( p->pTaskLast==t ) p->pTaskLast = pPrev;
      break;
    }
  }
  t->bQueued = 0;
  t->pNext = 0;
}

/* Run queued tasks, including ones they queue, for a few rounds. */
static void runTasks(SsoLoop *p){
  int nRound;
  for(nRound=0; nRound<8 && p->pTask; nRound++){
    SsoLoopTask *t = p->pTask;
    p->pTask = p->pTaskLast = 0;
    while( t ){
      SsoLoopTask *pNext = t->pNext;
      t->bQueued = 0;
      t->pNext = 0;
      t->xRun(p, t, t->pArg);
      t = pNext;
    }
  }
}

/* ---- Wake-up descriptor ---------------------------------------------- */

static void onWake(SsoLoop *p, int fd, int eEvents, void *pArg){
  char aJunk[64];
  SSO_UNUSED(eEvents);
  SSO_UNUSED(pArg);
  while( read(fd, aJunk, sizeof(aJunk))>0 ){}
  if( p->xWake ) p->xWake(p, p->pWakeArg);
}

/*
** Async-signal-safe: one write(2), errno preserved. A full pipe means a
** wake-up is already pending, so EAGAIN is success.
*/
static void ssoLoopWake(SsoLoop *p){
  int eSaved = errno;
#ifdef SSO_LOOP_EPOLL
  uint64_t one = 1;
  ssize_t n = write(p->fdWakeW, &one, sizeof(one));
#else
  char one = 1;
  ssize_t n = write(p->fdWakeW, &one, 1);
#endif
  SSO_UNUSED(n);
  errno = eSaved;
}

static void ssoLoopOnWake(SsoLoop *p, void (*xWake)(SsoLoop*, void*),
                               void *pArg){
  p->xWake = xWake;
  p->pWakeArg = pArg;
}

static int openWake(SsoLoop *p){
#ifdef SSO_LOOP_EPOLL
  p->fdWakeR = p->fdWakeW = eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC);
  if( p->fdWakeR<0 ) return SSOPROXY_IOERR;
#else
  int a[2];
  if( pipe(a) ) return SSOPROXY_IOERR;
  p->fdWakeR = a[0];
  p->fdWakeW = a[1];
  if( ssoLoopSetNonBlock(a[0]) || ssoLoopSetNonBlock(a[1]) ){
    return SSOPROXY_IOERR;
  }
#endif
  return ssoLoopAdd(p, p->fdWakeR, SSO_LOOP_READ, onWake, 0);
}

/* ---- Life cycle -------------------------------------------------------- */

static int ssoLoopNew(SsoLoop **ppLoop){
  SsoLoop *p = ssoMallocZero(sizeof(SsoLoop));
  int rc = SSOPROXY_OK;
  *ppLoop = 0;
  if( p==0 ) return SSOPROXY_NOMEM;
  p->fdWakeR = p->fdWakeW = -1;
  p->iNow = ssoOsMonoMs();
#ifdef SSO_LOOP_EPOLL
  p->fdEpoll = epoll_create1(EPOLL_CLOEXEC);
  if( p->fdEpoll<0 ) rc = SSOPROXY_IOERR;
#endif
  if( rc==SSOPROXY_OK ) rc = openWake(p);
  if( rc ){
    ssoLoopFree(p);
    p = 0;
  }
  *ppLoop = p;
  return rc;
}

static void ssoLoopFree(SsoLoop *p){
  if( p==0 ) return;
  if( p->fdWakeR>=0 ){
    ssoLoopDel(p, p->fdWakeR);
    close(p->fdWakeR);
  }
  if( p->fdWakeW>=0 && p->fdWakeW!=p->fdWakeR ) close(p->fdWakeW);
#ifdef SSO_LOOP_EPOLL
  if( p->fdEpoll>=0 ) close(p->fdEpoll);
#else
  ssoFree(p->aPoll);
  ssoFree(p->aFired);
#endif
  ssoFree(p->aHeap);
  ssoFree(p->aFile);
  ssoFree(p);
}

/* ---- Dispatch ---------------------------------------------------------- */

/* Hand an event to fd's callback if fd is still watched for it: an
** earlier callback in the same batch may have removed or changed it. */
static void fire(SsoLoop *p, int fd, int eEvents, int bError){
  LoopFile *f;
  if( fd<0 || fd>=p->nFile ) return;
  f = &p->aFile[fd];
  if( f->xFn==0 ) return;
  if( bError ) eEvents |= f->eMask;
  eEvents &= f->eMask;
  if( eEvents ) f->xFn(p, fd, eEvents, f->pArg);
}

static int waitTimeout(SsoLoop *p, int msMax){
  long long ms = msMax;
  if( p->pTask ) return 0;
  if( p->nHeap>0 ){
    long long d = p->aHeap[0]->iWhen - ssoOsMonoMs();
    if( d<0 ) d = 0;
    if( ms<0 || d<ms ) ms = d;
  }
  if( ms>INT_MAX ) ms = INT_MAX;
  return (int)ms;
}

#ifdef SSO_LOOP_EPOLL
static int pollOnce(SsoLoop *p, int ms){
  int n = epoll_wait(p->fdEpoll, p->aEv, LOOP_MAX_EVENTS, ms), i;
  p->iNow = ssoOsMonoMs();
  if( n<0 ) return errno==EINTR ? SSOPROXY_OK : SSOPROXY_IOERR;
  for(i=0; i<n; i++){
    unsigned e = p->aEv[i].events;
    int eEvents = ((e & EPOLLIN) ? SSO_LOOP_READ : 0)
                | ((e & EPOLLOUT) ? SSO_LOOP_WRITE : 0)
                | ((e & EPOLLRDHUP) ? SSO_LOOP_HUP : 0);
    fire(p, p->aEv[i].data.fd, eEvents, (e & (EPOLLERR|EPOLLHUP))!=0);
  }
  return SSOPROXY_OK;
}
#else
#ifndef LOOP_POLLRDHUP
/*
** POLLIN on fd, which asked for HUP: end of stream, or input? Peek one
** byte without taking it. Returns SSO_LOOP_HUP on end of stream or a
** broken connection, else 0; on input that is not ours to read, stop
** asking for POLLIN until the mask next changes.
*/
static int peekHup(SsoLoop *p, int fd){
  LoopFile *f;
  char c;
  ssize_t n;
  if( fd<0 || fd>=p->nFile ) return 0;
  f = &p->aFile[fd];
  if( f->xFn==0 || (f->eMask & SSO_LOOP_HUP)==0 ) return 0;
  do{ n = recv(fd, &c, 1, MSG_PEEK); }while( n<0 && errno==EINTR );
  if( n==0 ) return SSO_LOOP_HUP;
  if( n<0 ) return (errno==EAGAIN || errno==EWOULDBLOCK) ? 0 : SSO_LOOP_HUP;
  if( (f->eMask & SSO_LOOP_READ)==0 ){
    f->bPeekData = 1;
    pollerSet(p, fd, f, f->eMask);
  }
  return 0;
}
#endif

static int pollOnce(SsoLoop *p, int ms){
  int n = poll(p->aPoll, (nfds_t)p->nPoll, ms), i, nFired = 0;
  p->iNow = ssoOsMonoMs();
  if( n<0 ) return errno==EINTR ? SSOPROXY_OK : SSOPROXY_IOERR;
  /* Copy the ready set first: callbacks reorder aPoll as they go. */
  for(i=0; i<p->nPoll && nFired<n; i++){
    int e = p->aPoll[i].revents;
    if( e==0 ) continue;
    p->aFired[nFired].fd = p->aPoll[i].fd;
    p->aFired[nFired].eEvents = e;
    nFired++;
  }
  for(i=0; i<nFired; i++){
    int e = p->aFired[i].eEvents;
    int eEvents = ((e & POLLIN) ? SSO_LOOP_READ : 0)
                | ((e & POLLOUT) ? SSO_LOOP_WRITE : 0);
#ifdef LOOP_POLLRDHUP
    if( e & POLLRDHUP ) eEvents |= SSO_LOOP_HUP;
#else
    if( e & POLLIN ) eEvents |= peekHup(p, p->aFired[i].fd);
#endif
    fire(p, p->aFired[i].fd, eEvents, (e & (POLLERR|POLLHUP|POLLNVAL))!=0);
  }
  return SSOPROXY_OK;
}
#endif

/*
** One iteration. The log lines its callbacks write (one access line per
** request) are batched and written together at its end: one write(2)
** for many lines instead of one each, and none waits past the iteration.
*/
static int ssoLoopRunOnce(SsoLoop *p, int msMax){
  int bBatch = ssoLogBatch(1);
  int rc = pollOnce(p, waitTimeout(p, msMax));
  if( rc==SSOPROXY_OK ){
    runTimers(p);
    runTasks(p);
  }
  ssoLogBatch(bBatch);
  return rc;
}

static int ssoLoopRun(SsoLoop *p){
  int rc = SSOPROXY_OK;
  p->bExit = 0;
  while( !p->bExit && rc==SSOPROXY_OK ){
    rc = ssoLoopRunOnce(p, -1);
  }
  return rc;
}

static void ssoLoopExit(SsoLoop *p){ p->bExit = 1; }

/* ---- Plain sockets ------------------------------------------------------ */

static long plainRead(void *pCtx, int fd, void *pBuf, size_t n){
  SSO_UNUSED(pCtx);
  for(;;){
    ssize_t got = recv(fd, pBuf, n, 0);
    if( got>=0 ) return (long)got;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return SSO_IO_WANT_READ;
    return SSO_IO_ERROR;
  }
}

/* MSG_NOSIGNAL: a peer that went away must not kill us with SIGPIPE, and
** the library installs no signal handlers of its own. */
static long plainWrite(void *pCtx, int fd, const void *pBuf, size_t n){
  SSO_UNUSED(pCtx);
  for(;;){
    ssize_t put = send(fd, pBuf, n, MSG_NOSIGNAL);
    if( put>=0 ) return (long)put;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return SSO_IO_WANT_WRITE;
    return SSO_IO_ERROR;
  }
}

static const SsoIoMethods *ssoLoopPlainIo(void){
  static const SsoIoMethods plain = { plainRead, plainWrite, 0 };
  return &plain;
}

static void ssoLoopBlockSignals(sigset_t *pOld){
  static const int aFault[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                                SIGTRAP };
  sigset_t all;
  size_t i;
  sigfillset(&all);
  for(i=0; i<SSO_ARRAYSIZE(aFault); i++) sigdelset(&all, aFault[i]);
  pthread_sigmask(SIG_BLOCK, &all, pOld);
}

static int ssoLoopSetNonBlock(int fd){
  int fl = fcntl(fd, F_GETFL);
  if( fl<0 || fcntl(fd, F_SETFL, fl|O_NONBLOCK)<0 ) return -1;
  fl = fcntl(fd, F_GETFD);
  if( fl<0 || fcntl(fd, F_SETFD, fl|FD_CLOEXEC)<0 ) return -1;
#ifdef SO_NOSIGPIPE
  {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
  }
#endif
  return 0;
}

static int loopParsePort(const char *z, int *piPort){
  int n = 0, i;
  for(i=0; z[i]; i++){
    if( z[i]<'0' || z[i]>'9' || i>=5 ) return SSOPROXY_CONFIG;
    n = n*10 + (z[i]-'0');
  }
  if( i==0 || n>65535 ) return SSOPROXY_CONFIG;
  *piPort = n;
  return SSOPROXY_OK;
}

static int ssoLoopParseHostPort(const char *zSpec, char *zHost,
                                     size_t nHost, int *piPort){
  const char *zColon;
  size_t n;
  if( zSpec[0]=='[' ){
    const char *zEnd = strchr(zSpec, ']');
    if( zEnd==0 || zEnd[1]!=':' ) return SSOPROXY_CONFIG;
    zSpec++;
    n = (size_t)(zEnd - zSpec);
    zColon = zEnd + 1;
    if( n==0 ) return SSOPROXY_CONFIG;
  }else{
    zColon = strchr(zSpec, ':');
    if( zColon==0 || strchr(zColon+1, ':') ) return SSOPROXY_CONFIG;
    n = (size_t)(zColon - zSpec);
  }
  if( n>=nHost ) return SSOPROXY_CONFIG;
  memcpy(zHost, zSpec, n);
  zHost[n] = 0;
  return loopParsePort(zColon+1, piPort);
}

static char *ssoLoopAddrString(const void *pAddr, char *z, size_t nZ){
  const struct sockaddr *pSa = pAddr;
  char zIp[INET6_ADDRSTRLEN];
  if( pSa->sa_family==AF_INET ){
    const struct sockaddr_in *p4 = pAddr;
    inet_ntop(AF_INET, &p4->sin_addr, zIp, sizeof(zIp));
    snprintf(z, nZ, "%s:%u", zIp, (unsigned)ntohs(p4->sin_port));
  }else if( pSa->sa_family==AF_INET6 ){
    const struct sockaddr_in6 *p6 = pAddr;
    inet_ntop(AF_INET6, &p6->sin6_addr, zIp, sizeof(zIp));
    snprintf(z, nZ, "[%s]:%u", zIp, (unsigned)ntohs(p6->sin6_port));
  }else{
    snprintf(z, nZ, "local");
  }
  return z;
}
/************** End of loop.c **************/
/************** Begin file http.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: the HTTP/1.1 message parser (RFC 9112), used by the server for
** requests and by the outbound client for responses. It is pure: it works
** on the caller's buffer, hands out (pointer, length) views, keeps no
** state between calls beyond the "previous length" the caller passes
** back, and never allocates. The head is scanned for its end only in the
** bytes that are new since the last call (picohttpparser's last_len idea),
** then parsed in full exactly once.
**
** It is strict on purpose. Request smuggling and response splitting live
** in the gaps between two parsers that disagree about where a message
** ends; every lenient rule here (bare LF, folded lines, "Content-Length"
** spelled twice, "chunked" that is not last) is such a gap, so each is a
** 400 instead of a guess. The chunked decoder is incremental and bounds
** the framing overhead a peer may send per byte of data.
*/
/* #include "ssoInt.h" */

/*
** tchar (RFC 9110 §5.6.2): the bytes of a token (method, field name,
** transfer coding). 1 = allowed.
*/
static const unsigned char aTchar[256] = {
  /* 0x00 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
  /* 0x10 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
  /*  !"#$%&' */ 0,1,0,1,1,1,1,1,
  /* ()*+,-./ */ 0,0,1,1,0,1,1,0,
  /* 01234567 */ 1,1,1,1,1,1,1,1,
  /* 89:;<=>? */ 1,1,0,0,0,0,0,0,
  /* @ABCDEFG */ 0,1,1,1,1,1,1,1,
  /* HIJKLMNO */ 1,1,1,1,1,1,1,1,
  /* PQRSTUVW */ 1,1,1,1,1,1,1,1,
  /* XYZ[\]^_ */ 1,1,1,0,0,0,1,1,
  /* `abcdefg */ 1,1,1,1,1,1,1,1,
  /* hijklmno */ 1,1,1,1,1,1,1,1,
  /* pqrstuvw */ 1,1,1,1,1,1,1,1,
  /* xyz{|}~  */ 1,1,1,0,1,0,1,0,
  /* 0x80 and above: never in a token */
};

/* field-vchar / SP / HTAB (RFC 9110 §5.5): no CTL, no DEL. obs-text ok. */
static int isValueByte(unsigned char c){
  return c>=0x20 ? c!=0x7f : c=='\t';
}

static int ssoHttpIsToken(const char *z, size_t n){
  size_t i;
  if( n==0 ) return 0;
  for(i=0; i<n; i++){
    if( !aTchar[(unsigned char)z[i]] ) return 0;
  }
  return 1;
}

static int lowerAscii(int c){
  return (c>='A' && c<='Z') ? c+('a'-'A') : c;
}

static int ssoHttpStrIEqFull(SsoStr s, const char *z){
  size_t i;
  for(i=0; i<s.n; i++){
    if( z[i]==0 || lowerAscii((unsigned char)s.z[i])!=lowerAscii(z[i]) ){
      return 0;
    }
  }
  return z[i]==0;
}

static int ssoHttpHeaderFind(const SsoHttpHead *p, const char *zName,
                                  SsoStr *pVal){
  int i;
  for(i=0; i<p->nHdr; i++){
    if( ssoHttpStrIEq(p->aHdr[i].name, zName) ){
      if( pVal ) *pVal = p->aHdr[i].value;
      return 1;
    }
  }
  return 0;
}

/*
** ---- Finding the end of the head ------------------------------------
**
** RFC 9112 §2.2: a recipient may skip empty lines before the start line;
** we skip up to four so a keep-alive client's stray CRLF after a body is
** harmless, and refuse more (a stream of CRLFs is not a request).
** Returns the offset of the start line, SSO_HTTP_PARTIAL, or -400.
*/
static int skipEmptyLines(const char *z, size_t n){
  size_t i = 0;
  int nLine = 0;
  while( i<n && z[i]=='\r' ){
    if( i+1>=n ) return SSO_HTTP_PARTIAL;
    if( z[i+1]!='\n' || ++nLine>4 ) return -400;
    i += 2;
  }
  if( i<n && z[i]=='\n' ) return -400;
  return (int)i;
}

/*
** Look for the CRLF CRLF that ends the head, examining only LFs at or
** after iFrom. Every LF must follow a CR: a bare LF is a line end to some
** parsers and not to others (RFC 9112 §2.2 allows recipients to accept
** it; we do not, as that is a classic desync). Returns the offset just
** past the head, 0 if not found yet, or -1 on a bare LF.
*/
static long findHeadEnd(const char *z, size_t n, size_t iStart,
                        size_t iFrom){
  const char *p = z + iFrom, *zEnd = z + n;
  while( p<zEnd ){
    const char *pLf = memchr(p, '\n', (size_t)(zEnd-p));
    size_t i;
    if( pLf==0 ) return 0;
    i = (size_t)(pLf - z);
    if( i<=iStart || z[i-1]!='\r' ) return -1;
    if( i>=iStart+3 && z[i-2]=='\n' && z[i-3]=='\r' ) return (long)(i+1);
    p = pLf + 1;
  }
  return 0;
}

/*
** Common front end of both head parsers: skip empty lines, check the
** limits that apply while the head is still incomplete, and find its end.
** Returns the head length (>0), SSO_HTTP_PARTIAL, or -status where
** eLine/eHead are the statuses for an over-long first line or head.
*/
static long scanHead(const char *z, size_t n, size_t nLast,
                     const SsoHttpLimits *pLim, int eLine, int eHead,
                     int eBad, size_t *piStart){
  int iStart = skipEmptyLines(z, n);
  size_t iFrom;
  long iEnd;
  if( iStart<0 ) return iStart==SSO_HTTP_PARTIAL ? iStart : -eBad;
  *piStart = (size_t)iStart;
  if( (size_t)iStart==n ) return SSO_HTTP_PARTIAL;
  /* A start line begins with a token character (method or "HTTP"); say
  ** no at once to a TLS hello or binary noise sent to a plain port. */
  if( !aTchar[(unsigned char)z[iStart]] ) return -eBad;
  iFrom = nLast>(size_t)iStart ? nLast : (size_t)iStart;
  if( iFrom>n ) iFrom = (size_t)iStart;
  iEnd = findHeadEnd(z, n, (size_t)iStart, iFrom);
  if( iEnd<0 ) return -eBad;
  if( iEnd>0 ){
    if( (size_t)iEnd-(size_t)iStart > pLim->mxHead ) return -eHead;
    return iEnd;
  }
  /* Incomplete. A first line that has already outgrown its limit is
  ** checked once, on the call whose bytes cross the limit. */
  if( n-(size_t)iStart > pLim->mxLine+1
   && (nLast<=(size_t)iStart || nLast-(size_t)iStart <= pLim->mxLine+1)
   && memchr(z+iStart, '\n', pLim->mxLine+2)==0 ){
    return -eLine;
  }
  if( n-(size_t)iStart >= pLim->mxHead ) return -eHead;
  return SSO_HTTP_PARTIAL;
}

/*
** ---- Parsing a complete head ----------------------------------------
**
** Within a complete head every LF is known to follow a CR, so a line is
** "bytes up to CR LF"; a CR anywhere else is a control byte and refused.
*/

/* Length of the line at z[i..), up to but excluding its CR. */
static size_t lineLen(const char *z, size_t i, size_t iEnd){
  const char *p = memchr(z+i, '\n', iEnd-i);
  assert( p!=0 && p>z+i && p[-1]=='\r' );
  return (size_t)(p - (z+i)) - 1;
}

/* "HTTP/1.1" and friends. Returns minor (0/1), -505 or -400. */
static int parseVersion(const char *z, size_t n){
  if( n!=8 || memcmp(z, "HTTP/", 5)!=0 || z[6]!='.'
   || z[5]<'0' || z[5]>'9' || z[7]<'0' || z[7]>'9' ){
    return -400;
  }
  if( z[5]!='1' || z[7]>'1' ) return -505;
  return z[7]-'0';
}

/* Request line: method SP request-target SP HTTP-version (§3). */
static int parseRequestLine(const char *z, size_t n, SsoHttpHead *p){
  size_t i = 0, iTarget;
  int iMinor;
  while( i<n && aTchar[(unsigned char)z[i]] ) i++;
  if( i==0 || i>=n || z[i]!=' ' ) return -400;
  p->method.z = z;
  p->method.n = i;
  iTarget = ++i;
  /* The target is visible ASCII only: no CTL, no space, no raw 8-bit
  ** (RFC 3986 §2; §3.2 of RFC 9112 has no obs-text here). */
  while( i<n && z[i]>0x20 && z[i]<0x7f ) i++;
  if( i==iTarget || i>=n || z[i]!=' ' ) return -400;
  p->target.z = z + iTarget;
  p->target.n = i - iTarget;
  iMinor = parseVersion(z+i+1, n-i-1);
  if( iMinor<0 ) return iMinor;
  p->iMinor = iMinor;
  return 0;
}

/* Status line: HTTP-version SP 3DIGIT SP [reason] (§4). */
static int parseStatusLine(const char *z, size_t n, SsoHttpHead *p){
  size_t i;
  int iMinor;
  if( n<12 || z[8]!=' ' ) return -502;
  iMinor = parseVersion(z, 8);
  if( iMinor<0 ) return -502;
  p->iMinor = iMinor;
  if( z[9]<'1' || z[9]>'9' || z[10]<'0' || z[10]>'9'
   || z[11]<'0' || z[11]>'9' ){
    return -502;
  }
  p->iStatus = (z[9]-'0')*100 + (z[10]-'0')*10 + (z[11]-'0');
  /* "HTTP/1.1 204\r\n" without the SP is common enough to accept. */
  if( n>12 && z[12]!=' ' ) return -502;
  for(i=13; i<n; i++){
    if( !isValueByte((unsigned char)z[i]) ) return -502;
  }
  p->reason.z = z + (n>13 ? 13 : n);
  p->reason.n = n>13 ? n-13 : 0;
  return 0;
}

/*
** One field line: field-name ":" OWS field-value OWS (§5). A name with
** whitespace before the colon is refused (§5.1: a known smuggling trick),
** as is a line starting with whitespace (obs-fold, §5.2).
*/
static int parseField(const char *z, size_t n, SsoHttpHeader *pHdr){
  size_t i = 0, iVal, iEnd;
  while( i<n && aTchar[(unsigned char)z[i]] ) i++;
  if( i==0 || i>=n || z[i]!=':' ) return -400;
  pHdr->name.z = z;
  pHdr->name.n = i;
  i++;
  while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
  iVal = i;
  for(; i<n; i++){
    if( !isValueByte((unsigned char)z[i]) ) return -400;
  }
  iEnd = n;
  while( iEnd>iVal && (z[iEnd-1]==' ' || z[iEnd-1]=='\t') ) iEnd--;
  pHdr->value.z = z + iVal;
  pHdr->value.n = iEnd - iVal;
  return 0;
}

/*
** Content-Length = 1*DIGIT (§6.2). We cap it at 2^60 so arithmetic on it
** can never overflow, and refuse the "5, 5" list form: two values for the
** length of one body is what smuggling attacks are made of.
*/
static int parseLength(SsoStr v, unsigned long long *pn){
  unsigned long long n = 0;
  size_t i;
  if( v.n==0 || v.n>18 ) return -400;
  for(i=0; i<v.n; i++){
    if( v.z[i]<'0' || v.z[i]>'9' ) return -400;
    n = n*10 + (unsigned)(v.z[i]-'0');
  }
  if( n>((unsigned long long)1<<60) ) return -400;
  *pn = n;
  return 0;
}

/*
** Iterate the comma-separated elements of a list field (RFC 9110 §5.6.1),
** skipping empty elements and OWS. Returns 0 at the end.
*/
static int nextListItem(SsoStr v, size_t *pi, SsoStr *pItem){
  size_t i = *pi, iStart;
  while( i<v.n && (v.z[i]==',' || v.z[i]==' ' || v.z[i]=='\t') ) i++;
  if( i>=v.n ){
    *pi = i;
    return 0;
  }
  iStart = i;
  while( i<v.n && v.z[i]!=',' ) i++;
  pItem->z = v.z + iStart;
  pItem->n = i - iStart;
  while( pItem->n>0 && (pItem->z[pItem->n-1]==' '
                        || pItem->z[pItem->n-1]=='\t') ){
    pItem->n--;
  }
  *pi = i;
  return 1;
}

/* What the framing fields of one head said, before they are judged. */
typedef struct Framing Framing;
struct Framing {
  int nLength;          /* Content-Length fields seen */
  int nCoding;          /* Transfer-Encoding fields seen */
  int nHost;            /* Host fields seen */
  int bChunkedOnly;     /* Transfer-Encoding was exactly "chunked" */
  int bChunkedLast;     /* ... or at least ended with "chunked" */
  int bKeepAlive;       /* Connection: keep-alive */
  int bClose;           /* Connection: close */
  int bContinue;        /* Expect: 100-continue */
  int bBadExpect;       /* Expect: anything else */
  unsigned long long nBody;
};

static int noteTransferCoding(SsoStr v, Framing *f){
  size_t i = 0;
  SsoStr item, last = {0, 0};
  int nItem = 0;
  while( nextListItem(v, &i, &item) ){
    last = item;
    nItem++;
  }
  f->bChunkedLast = nItem>0 && ssoHttpStrIEq(last, "chunked");
  f->bChunkedOnly = nItem==1 && f->bChunkedLast;
  return 0;
}

static void noteConnection(SsoStr v, Framing *f){
  size_t i = 0;
  SsoStr item;
  while( nextListItem(v, &i, &item) ){
    if( ssoHttpStrIEq(item, "close") ) f->bClose = 1;
    else if( ssoHttpStrIEq(item, "keep-alive") ) f->bKeepAlive = 1;
  }
}

/* Record one field that affects framing. Returns 0 or -400. */
static int noteField(const SsoHttpHeader *h, Framing *f){
  switch( h->name.n ){
    case 4:
      if( ssoHttpStrIEq(h->name, "host") ) f->nHost++;
      break;
    case 6:
      if( ssoHttpStrIEq(h->name, "expect") ){
        if( ssoHttpStrIEq(h->value, "100-continue") ) f->bContinue = 1;
        else f->bBadExpect = 1;
      }
      break;
    case 10:
      if( ssoHttpStrIEq(h->name, "connection") ) noteConnection(h->value, f);
      break;
    case 14:
      if( ssoHttpStrIEq(h->name, "content-length") ){
        if( ++f->nLength>1 ) return -400;
        return parseLength(h->value, &f->nBody);
      }
      break;
    case 17:
      if( ssoHttpStrIEq(h->name, "transfer-encoding") ){
        if( ++f->nCoding>1 ) return -400;
        return noteTransferCoding(h->value, f);
      }
      break;
  }
  return 0;
}

/*
** Parse the field lines of a complete head from z[i..iEnd). Stores the
** fields in p->aHdr and the framing facts in *f. Returns 0, -400, -431.
*/
static int parseFields(const char *z, size_t i, size_t iEnd,
                       SsoHttpHead *p, Framing *f){
  memset(f, 0, sizeof(*f));
  p->nHdr = 0;
  for(;;){
    size_t n = lineLen(z, i, iEnd);
    int rc;
    if( n==0 ) break;
    if( z[i]==' ' || z[i]=='\t' ) return -400;      /* obs-fold, §5.2 */
    if( p->nHdr>=p->mxHdr ) return -431;
    rc = parseField(z+i, n, &p->aHdr[p->nHdr]);
    if( rc==0 ) rc = noteField(&p->aHdr[p->nHdr], f);
    if( rc ) return rc;
    p->nHdr++;
    i += n + 2;
  }
  return 0;
}

static void clearHead(SsoHttpHead *p){
  SsoHttpHeader *aHdr = p->aHdr;
  int mxHdr = p->mxHdr;
  memset(p, 0, sizeof(*p));
  p->aHdr = aHdr;
  p->mxHdr = mxHdr;
}

/*
** Message framing for a request (RFC 9112 §6.1-6.3). Both length fields
** at once, or any coding but a lone "chunked", leaves the end of the body
** ambiguous between us and whatever sits in front of us: 400 and close.
*/
static int requestFraming(SsoHttpHead *p, const Framing *f){
  if( f->nCoding ){
    if( f->nLength || !f->bChunkedOnly || p->iMinor==0 ) return -400;
    p->eBody = SSO_HTTP_BODY_CHUNKED;
  }else if( f->nLength && f->nBody>0 ){
    p->eBody = SSO_HTTP_BODY_LENGTH;
    p->nBody = f->nBody;
  }
  /* §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0. */
  if( f->nHost>1 || (p->iMinor==1 && f->nHost==0) ) return -400;
  /* RFC 9110 §10.1.1: a 1.0 request's expectation is ignored. */
  if( p->iMinor==1 ){
    if( f->bBadExpect ) return -417;
    p->bContinue = (unsigned char)f->bContinue;
  }
  p->bClose = (unsigned char)(p->iMinor==0 ? !f->bKeepAlive : f->bClose);
  return 0;
}

/*
** Response framing (RFC 9112 §6.3 rules 3-8), from the fields alone.
** Both length fields, or a coding list whose last element is chunked but
** that also has codings we cannot undo, are refused rather than guessed.
*/
static int responseFraming(SsoHttpHead *p, const Framing *f){
  if( f->nCoding ){
    if( f->nLength || p->iMinor==0 ) return -502;
    if( f->bChunkedOnly ) p->eBody = SSO_HTTP_BODY_CHUNKED;
    else if( f->bChunkedLast ) return -502;
    else p->eBody = SSO_HTTP_BODY_EOF;
  }else if( f->nLength ){
    p->eBody = f->nBody ? SSO_HTTP_BODY_LENGTH : SSO_HTTP_BODY_NONE;
    p->nBody = f->nBody;
  }else{
    p->eBody = SSO_HTTP_BODY_EOF;
  }
  p->bClose = (unsigned char)(p->iMinor==0 ? !f->bKeepAlive : f->bClose);
  if( p->eBody==SSO_HTTP_BODY_EOF ) p->bClose = 1;
  return 0;
}

/*
** What differs between parsing a request head and a response head: the
** start line, the framing rules, and the statuses for a line too long, a
** head too big and a malformed head. A server answers a bad request with
** 414/431/400; a client treats any bad response as 502 Bad Gateway.
*/
typedef struct HeadKind HeadKind;
struct HeadKind {
  int (*xStartLine)(const char*, size_t, SsoHttpHead*);
  int (*xFraming)(SsoHttpHead*, const Framing*);
  int stLine, stHead, stBad;
};

static int parseHead(const char *z, size_t n, size_t nLast,
                     const SsoHttpLimits *pLim, SsoHttpHead *p,
                     const HeadKind *k){
  size_t iStart = 0, nLine;
  long iEnd = scanHead(z, n, nLast, pLim, k->stLine, k->stHead, k->stBad,
                       &iStart);
  Framing f;
  int rc;
  if( iEnd<0 ) return (int)iEnd;
  clearHead(p);
  nLine = lineLen(z, iStart, (size_t)iEnd);
  if( nLine>pLim->mxLine ) return -k->stLine;
  rc = k->xStartLine(z+iStart, nLine, p);
  if( rc==0 ) rc = parseFields(z, iStart+nLine+2, (size_t)iEnd, p, &f);
  /* Every error in a response is the same 502. */
  if( rc<0 && k->stBad==502 ) rc = -502;
  if( rc==0 ) rc = k->xFraming(p, &f);
  return rc ? rc : (int)iEnd;
}

static int ssoHttpParseRequest(const char *z, size_t n, size_t nLast,
                                    const SsoHttpLimits *pLim,
                                    SsoHttpHead *p){
  static const HeadKind kind = { parseRequestLine, requestFraming,
                                 414, 431, 400 };
  return parseHead(z, n, nLast, pLim, p, &kind);
}

static int ssoHttpParseResponse(const char *z, size_t n, size_t nLast,
                                     const SsoHttpLimits *pLim,
                                     SsoHttpHead *p){
  static const HeadKind kind = { parseStatusLine, responseFraming,
                                 502, 502, 502 };
  return parseHead(z, n, nLast, pLim, p, &kind);
}

/*
** ---- Chunked transfer coding (RFC 9112 §7.1) -------------------------
**
**   chunked-body = *chunk last-chunk trailer-section CRLF
**   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
**   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
**
** Extensions are checked for control bytes and skipped: nothing we serve
** gives them meaning. Each size line and trailer line is bounded, and so
** is the framing as a whole relative to the data it carries, so a peer
** cannot make us burn CPU on a megabyte of "1;xxxx...\r\nA\r\n".
*/
enum {
  CH_SIZE0,     /* First hex digit of a size */
  CH_SIZE,      /* More hex digits, BWS, ';' or CR */
  CH_BWS,       /* Whitespace after the size: only ';' may follow */
  CH_EXT,       /* Inside the extensions, up to CR */
  CH_SIZE_LF,   /* CR seen after the size line */
  CH_DATA,      /* nLeft bytes of data */
  CH_DATA_CR,   /* CR after the data */
  CH_DATA_LF,   /* LF after the data */
  CH_TRAILER0,  /* Start of a trailer line or the final CRLF */
  CH_TNAME,     /* Trailer field name */
  CH_TVALUE,    /* Trailer field value, up to CR */
  CH_TRAILER_LF,/* LF ending a trailer line */
  CH_END_LF,    /* LF of the final empty line */
  CH_DONE
};

static void ssoHttpChunkedInit(SsoHttpChunked *p, size_t mxLine,
                                    size_t mxOver){
  memset(p, 0, sizeof(*p));
  p->eState = CH_SIZE0;
  p->mxLine = mxLine;
  p->mxOver = mxOver;
}

static int hexValue(unsigned char c){
  if( c>='0' && c<='9' ) return c-'0';
  c = (unsigned char)lowerAscii(c);
  if( c>='a' && c<='f' ) return c-'a'+10;
  return -1;
}

/* Advance the framing grammar by one byte. Returns 0 or -400. */
static int chunkStep(SsoHttpChunked *p, unsigned char c){
  int h;
  p->nOver++;
  if( ++p->nLine > p->mxLine ) return -400;
  switch( p->eState ){
    case CH_SIZE0:
      if( (h = hexValue(c))<0 ) return -400;
      p->nLeft = (unsigned)h;
      p->nDigit = h ? 1 : 0;
      p->eState = CH_SIZE;
      return 0;
    case CH_SIZE:
      if( (h = hexValue(c))>=0 ){
        if( p->nDigit || h ) p->nDigit++;
        if( p->nDigit>15 ) return -400;          /* over 2^60 */
        p->nLeft = p->nLeft*16 + (unsigned)h;
        return 0;
      }
      if( c==' ' || c=='\t' ){ p->eState = CH_BWS; return 0; }
      /* fall through */
    case CH_BWS:
      if( c==' ' || c=='\t' ) return 0;
      if( c==';' ){ p->eState = CH_EXT; return 0; }
      if( c=='\r' && p->eState==CH_SIZE ){ p->eState = CH_SIZE_LF; return 0; }
      return -400;
    case CH_EXT:
      if( c=='\r' ){ p->eState = CH_SIZE_LF; return 0; }
      return isValueByte(c) ? 0 : -400;
    case CH_SIZE_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = p->nLeft ? CH_DATA : CH_TRAILER0;
      return 0;
    case CH_DATA_CR:
      if( c!='\r' ) return -400;
      p->eState = CH_DATA_LF;
      return 0;
    case CH_DATA_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = CH_SIZE0;
      return 0;
    case CH_TRAILER0:
      if( c=='\r' ){ p->eState = CH_END_LF; return 0; }
      if( !aTchar[c] ) return -400;
      p->eState = CH_TNAME;
      return 0;
    case CH_TNAME:
      if( c==':' ){ p->eState = CH_TVALUE; return 0; }
      return aTchar[c] ? 0 : -400;
    case CH_TVALUE:
      if( c=='\r' ){ p->eState = CH_TRAILER_LF; return 0; }
      return isValueByte(c) ? 0 : -400;
    case CH_TRAILER_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = CH_TRAILER0;
      return 0;
    case CH_END_LF:
      if( c!='\n' ) return -400;
      p->eState = CH_DONE;
      return 0;
  }
  return -400;
}

static int ssoHttpChunkedDecode(SsoHttpChunked *p, const char *zIn,
                                     size_t nIn, char *zOut, size_t *pnIn,
                                     size_t *pnOut){
  size_t i = 0, nOut = 0;
  int rc = 0;
  while( i<nIn && p->eState!=CH_DONE ){
    if( p->eState==CH_DATA ){
      size_t n = nIn - i;
      if( (unsigned long long)n > p->nLeft ) n = (size_t)p->nLeft;
      if( zOut+nOut!=zIn+i ) memmove(zOut+nOut, zIn+i, n);
      nOut += n;
      i += n;
      p->nLeft -= n;
      p->nData += n;
      if( p->nLeft==0 ) p->eState = CH_DATA_CR;
      continue;
    }
    rc = chunkStep(p, (unsigned char)zIn[i]);
    if( rc ) break;
    i++;
    if( p->nOver>p->mxOver && p->nOver>p->nData ){
      rc = -400;
      break;
    }
  }
  *pnIn = i;
  *pnOut = nOut;
  if( rc ) return rc;
  return p->eState==CH_DONE ? 1 : 0;
}

/* ---- Status codes (RFC 9110 §15) ------------------------------------ */
static const char *ssoHttpReason(int iStatus){
  switch( iStatus ){
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "";
}
/************** End of http.c **************/
/************** Begin file tls.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: TLS for the server's listener and the outbound client, on top
** of mbedTLS, behind the same SsoIoMethods table the plain sockets use.
** Everything version-specific (2.28 in Debian 12, 3.x elsewhere) is
** settled in this file and in crypto.c, nowhere else (STYLE.md item 9).
**
** Sharing between threads. A configuration (mbedtls_ssl_config with its
** certificate chain, key and trusted CAs) is built at start-up and only
** read afterwards, so every worker shares one. Two things make that safe:
**
**   - randomness comes from the operating system (getentropy), which is
**     thread-safe, rather than from a DRBG that would need a lock or a
**     copy per thread;
**   - the public-key operations of a handshake touch caches inside the
**     shared keys (RSA blinding values, Montgomery constants). mbedTLS
**     guards those with mutexes when built with MBEDTLS_THREADING_C (as
**     Debian, Alpine, Fedora and Homebrew build it); for a build without
**     it, the handshake steps of all threads take one mutex here instead.
**     Records after the handshake use only per-connection state.
**
** The handshake runs inside the first reads and writes (server) or in
** ssoTlsHandshake() (client), never blocking: every WANT_READ/WANT_WRITE
** of mbedTLS becomes SSO_IO_WANT_READ/WRITE for the event loop.
**
** No close_notify is sent (RFC 8446 §6.1 lets a peer close without one
** when the application protocol frames its own data, as HTTP/1.1 does):
** the transport's xFree runs after its owner has closed the descriptor,
** when writing to that descriptor number could reach a stranger.
*/
/* #include "ssoInt.h" */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__APPLE__)
# include <sys/random.h>
#endif

#include <mbedtls/version.h>
#include <mbedtls/asn1.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
# include <psa/crypto.h>
#endif

#ifndef MSG_NOSIGNAL
# define MSG_NOSIGNAL 0     /* BSDs: SO_NOSIGPIPE is set on the socket */
#endif

#define TLS_MAX_CA_FILE (64u<<20)  /* Bytes in a CA bundle file */
#define TLS_MAX_WRITE   16384      /* Plaintext per write: one record */

struct SsoTls {
  int bServer;              /* Server configuration (else client) */
  int bInsecure;            /* Client: verify nothing */
  mbedtls_ssl_config conf;  /* Refers to chain and key: never moves */
  mbedtls_x509_crt chain;   /* Server: own chain. Client: trusted CAs */
  mbedtls_pk_context key;   /* Server: private key */
  int nCa;                  /* Client: certificates trusted */
  int nCaSkipped;           /* Client: certificates mbedTLS refused */
  char *zCaSource;          /* Client: file or directory loaded; owned */
#ifdef MBEDTLS_SSL_ALPN
  const char *azAlpn[2];    /* "http/1.1": the only protocol we speak */
#endif
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_t mu;       /* Serialises handshakes (see the header) */
#endif
};

typedef struct TlsConn TlsConn;
struct TlsConn {
  mbedtls_ssl_context ssl;
  SsoTls *pTls;
  int fd;
  unsigned char bDone;      /* Handshake complete */
  unsigned char bFailed;    /* A fatal error happened; zErr says which */
  unsigned char bVerify;    /* The failure was certificate verification */
  int nIp;                  /* Client: 4 or 16 when the host is an IP */
  unsigned char aIp[16];
  size_t nWritePending;     /* Length of a write that wanted to wait */
  char zErr[200];
};

#ifdef MBEDTLS_THREADING_C
# define tlsLock(p)   ((void)(p))
# define tlsUnlock(p) ((void)(p))
#else
# define tlsLock(p)   pthread_mutex_lock(&(p)->mu)
# define tlsUnlock(p) pthread_mutex_unlock(&(p)->mu)
#endif

/* ---- Helpers --------------------------------------------------------- */

/* mbedTLS's f_rng: the kernel's CSPRNG, 256 bytes per call at most. */
static int tlsRandom(void *pArg, unsigned char *p, size_t n){
  SSO_UNUSED(pArg);
  while( n>0 ){
    size_t k = n>256 ? 256 : n;
    if( getentropy(p, k) ) return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    p += k;
    n -= k;
  }
  return 0;
}

static void tlsErrText(int rc, char *z, size_t n){
#if defined(MBEDTLS_ERROR_C)
  mbedtls_strerror(rc, z, n);
#else
  snprintf(z, n, "mbedTLS error -0x%04x", (unsigned)-rc);
#endif
}

/* TLS 1.3 and the 3.x key parsers run on PSA, which wants initialising
** once; psa_crypto_init() may be called again and again. */
static int tlsInitPsa(void){
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
  return psa_crypto_init()==PSA_SUCCESS ? 0 : -1;
#else
  return 0;
#endif
}

/* Every TLS set-up failure is a configuration error the operator fixes. */
#define tlsFail(zErr, nErr, ...) \
  ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, __VA_ARGS__)

/*
** The start of both constructors: the message emptied, the crypto
** library ready, *ppNew a zeroed object with initialised mbedTLS parts.
*/
static int tlsAlloc(int bServer, SsoTls **ppNew, char *zErr, size_t nErr){
  SsoTls *p;
  *ppNew = 0;
  zErr[0] = 0;
  if( tlsInitPsa() ){
    return tlsFail(zErr, nErr, "cannot initialise the PSA crypto library");
  }
  p = ssoMallocZero(sizeof(SsoTls));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->bServer = bServer;
  mbedtls_ssl_config_init(&p->conf);
  mbedtls_x509_crt_init(&p->chain);
  mbedtls_pk_init(&p->key);
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_init(&p->mu, 0);
#endif
  *ppNew = p;
  return SSOPROXY_OK;
}

static void ssoTlsFree(SsoTls *p){
  if( p==0 ) return;
  mbedtls_ssl_config_free(&p->conf);
  mbedtls_x509_crt_free(&p->chain);
  mbedtls_pk_free(&p->key);
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_destroy(&p->mu);
#endif
  ssoFree(p->zCaSource);
  ssoFree(p);
}

/* The settings both ends share: TLS 1.2 at least (RFC 8996 retired 1.0
** and 1.1; RFC 9325 §3.1.1), no renegotiation, ALPN http/1.1. */
static int tlsConfBase(SsoTls *p, int eEndpoint){
  int rc = mbedtls_ssl_config_defaults(&p->conf, eEndpoint,
                                       MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if( rc ) return rc;
  mbedtls_ssl_conf_rng(&p->conf, tlsRandom, 0);
#if MBEDTLS_VERSION_NUMBER>=0x03020000
  mbedtls_ssl_conf_min_tls_version(&p->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
  mbedtls_ssl_conf_min_version(&p->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  mbedtls_ssl_conf_renegotiation(&p->conf,
                                 MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
#ifdef MBEDTLS_SSL_ALPN
  p->azAlpn[0] = "http/1.1";
  p->azAlpn[1] = 0;
  rc = mbedtls_ssl_conf_alpn_protocols(&p->conf, p->azAlpn);
#endif
  return rc;
}

/* Read a PEM (or DER) file for mbedTLS's parsers: PEM must be passed with
** its terminating NUL counted, DER without. *pn is that length. */
static int tlsReadFile(const char *zPath, size_t mx, char **pz, size_t *pn,
                       const char *zWhat, char *zErr, size_t nErr){
  int rc = ssoOsReadFile(zPath, mx, pz, pn);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc==SSOPROXY_TOOBIG ){
    return tlsFail(zErr, nErr, "%s %s is larger than %u bytes", zWhat, zPath,
                   (unsigned)mx);
  }
  if( rc ){
    return tlsFail(zErr, nErr, "cannot read %s %s: %s", zWhat, zPath,
                   strerror(errno));
  }
  if( strstr(*pz, "-----BEGIN ") ) (*pn)++;
  return SSOPROXY_OK;
}

/* ---- Server configuration ---------------------------------------------- */

static int tlsLoadServerCert(SsoTls *p, const char *zCert, char *zErr,
                             size_t nErr){
  char *z = 0, zWhy[160];
  size_t n = 0;
  int rc = tlsReadFile(zCert, SSO_TLS_MAX_PEM, &z, &n, "TLS certificate",
                       zErr, nErr);
  if( rc ) return rc;
  rc = mbedtls_x509_crt_parse(&p->chain, (const unsigned char*)z, n);
  ssoFree(z);
  if( rc<0 ){
    if( rc==MBEDTLS_ERR_X509_ALLOC_FAILED ) return SSOPROXY_NOMEM;
    tlsErrText(rc, zWhy, sizeof(zWhy));
    return tlsFail(zErr, nErr, "TLS certificate %s holds no valid "
                   "certificate (%s)", zCert, zWhy);
  }
  if( rc>0 ){
    return tlsFail(zErr, nErr, "TLS certificate %s: %d of its certificates "
                   "could not be parsed", zCert, rc);
  }
  return SSOPROXY_OK;
}

static int tlsLoadServerKey(SsoTls *p, const char *zKey, char *zErr,
                            size_t nErr){
  char *z = 0, zWhy[160];
  size_t n = 0;
  int rc = tlsReadFile(zKey, SSO_TLS_MAX_PEM, &z, &n, "TLS key", zErr, nErr);
  if( rc ) return rc;
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  rc = mbedtls_pk_parse_key(&p->key, (const unsigned char*)z, n, 0, 0,
                            tlsRandom, 0);
#else
  rc = mbedtls_pk_parse_key(&p->key, (const unsigned char*)z, n, 0, 0);
#endif
  mbedtls_platform_zeroize(z, n);     /* a private key: no copies left */
  ssoFree(z);
  if( rc==MBEDTLS_ERR_PK_PASSWORD_REQUIRED
   || rc==MBEDTLS_ERR_PK_PASSWORD_MISMATCH ){
    return tlsFail(zErr, nErr, "TLS key %s is encrypted; give an "
                   "unencrypted PEM key", zKey);
  }
  if( rc==MBEDTLS_ERR_PK_ALLOC_FAILED ) return SSOPROXY_NOMEM;
  if( rc ){
    tlsErrText(rc, zWhy, sizeof(zWhy));
    return tlsFail(zErr, nErr, "TLS key %s is not a valid private key (%s)",
                   zKey, zWhy);
  }
  return SSOPROXY_OK;
}

static int ssoTlsServerNew(const char *zCertFile, const char *zKeyFile,
                                SsoTls **pp, char *zErr, size_t nErr){
  SsoTls *p;
  int rc = tlsAlloc(1, &p, zErr, nErr);
  *pp = 0;
  if( rc ) return rc;
  rc = tlsLoadServerCert(p, zCertFile, zErr, nErr);
  if( rc==SSOPROXY_OK ) rc = tlsLoadServerKey(p, zKeyFile, zErr, nErr);
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  if( rc==SSOPROXY_OK
   && mbedtls_pk_check_pair(&p->chain.pk, &p->key, tlsRandom, 0) ){
#else
  if( rc==SSOPROXY_OK && mbedtls_pk_check_pair(&p->chain.pk, &p->key) ){
#endif
    rc = tlsFail(zErr, nErr, "TLS key %s does not match the certificate %s",
                 zKeyFile, zCertFile);
  }
  if( rc==SSOPROXY_OK && tlsConfBase(p, MBEDTLS_SSL_IS_SERVER) ){
    rc = SSOPROXY_NOMEM;
  }
  if( rc==SSOPROXY_OK
   && mbedtls_ssl_conf_own_cert(&p->conf, &p->chain, &p->key) ){
    rc = SSOPROXY_NOMEM;
  }
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) tlsFail(zErr, nErr, "out of memory");
    ssoTlsFree(p);
    return rc;
  }
  *pp = p;
  return SSOPROXY_OK;
}

/* ---- Client configuration: the certificates we trust -------------------- */

/*
** Where systems keep their CA bundle, most common first. The first that
** exists is used; /etc/ssl/certs as a directory of PEM files comes last.
*/
static const char *const azTlsSystemCa[] = {
  "/etc/ssl/certs/ca-certificates.crt",   /* Debian, Ubuntu, Alpine, Arch */
  "/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL, CentOS */
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  /* RHEL 7+ */
  "/etc/ssl/ca-bundle.pem",               /* openSUSE */
  "/etc/ssl/cert.pem",                    /* Alpine, macOS, the BSDs */
  "/opt/homebrew/etc/ca-certificates/cert.pem",  /* Homebrew, Apple CPUs */
  "/usr/local/etc/ca-certificates/cert.pem",     /* Homebrew, Intel */
  "/usr/local/share/certs/ca-root-nss.crt",      /* FreeBSD ports */
};
#define TLS_SYSTEM_CA_DIR "/etc/ssl/certs"

static int tlsCountChain(const mbedtls_x509_crt *c){
  int n = 0;
  for(; c && c->raw.p; c=c->next) n++;
  return n;
}

/*
** Load the certificates in zPath, a file or a directory. For a
** directory, mbedtls_x509_crt_parse_path() returns how many files failed
** (kept in nCaSkipped, which the caller logs) or, below zero, that it
** could not read the directory at all: that is fatal.
*/
static int tlsLoadCa(SsoTls *p, const char *zPath, char *zErr, size_t nErr){
  struct stat st;
  char zWhy[160];
  int rc;
  if( stat(zPath, &st)==0 && S_ISDIR(st.st_mode) ){
    rc = mbedtls_x509_crt_parse_path(&p->chain, zPath);
  }else{
    char *z = 0;
    size_t n = 0;
    rc = tlsReadFile(zPath, TLS_MAX_CA_FILE, &z, &n, "CA file", zErr, nErr);
    if( rc ) return rc;
    rc = mbedtls_x509_crt_parse(&p->chain, (const unsigned char*)z, n);
    ssoFree(z);
  }
  if( rc==MBEDTLS_ERR_X509_ALLOC_FAILED ) return SSOPROXY_NOMEM;
  p->nCa = tlsCountChain(&p->chain);
  if( rc<0 || p->nCa==0 ){
    if( rc<0 ) tlsErrText(rc, zWhy, sizeof(zWhy));
    else snprintf(zWhy, sizeof(zWhy), "no certificate in it");
    return tlsFail(zErr, nErr, "cannot load CA certificates from %s (%s)",
                   zPath, zWhy);
  }
  p->nCaSkipped = rc;
  p->zCaSource = ssoStrdup(zPath);
  return p->zCaSource ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

static int tlsLoadSystemCa(SsoTls *p, char *zErr, size_t nErr){
  struct stat st;
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTlsSystemCa); i++){
    if( stat(azTlsSystemCa[i], &st)==0 && S_ISREG(st.st_mode) ){
      return tlsLoadCa(p, azTlsSystemCa[i], zErr, nErr);
    }
  }
  if( stat(TLS_SYSTEM_CA_DIR, &st)==0 && S_ISDIR(st.st_mode) ){
    return tlsLoadCa(p, TLS_SYSTEM_CA_DIR, zErr, nErr);
  }
  return SSOPROXY_OK;     /* none: https fails later, with a reason */
}

static int ssoTlsClientNew(const char *zCaFile, int bInsecure,
                                SsoTls **pp, char *zErr, size_t nErr){
  SsoTls *p;
  int rc = tlsAlloc(0, &p, zErr, nErr);
  *pp = 0;
  if( rc ) return rc;
  p->bInsecure = bInsecure!=0;
  rc = tlsConfBase(p, MBEDTLS_SSL_IS_CLIENT) ? SSOPROXY_NOMEM : SSOPROXY_OK;
  if( rc==SSOPROXY_OK && !bInsecure ){
    rc = zCaFile && zCaFile[0] ? tlsLoadCa(p, zCaFile, zErr, nErr)
                               : tlsLoadSystemCa(p, zErr, nErr);
  }
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) tlsFail(zErr, nErr, "out of memory");
    ssoTlsFree(p);
    return rc;
  }
  /* RFC 9325 §3.4: verify the peer, always, unless told loudly not to. */
  mbedtls_ssl_conf_authmode(&p->conf, bInsecure ? MBEDTLS_SSL_VERIFY_NONE
                                                : MBEDTLS_SSL_VERIFY_REQUIRED);
  if( !bInsecure ) mbedtls_ssl_conf_ca_chain(&p->conf, &p->chain, 0);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
  /* No session cache here, so tickets would only be parsed and dropped. */
  mbedtls_ssl_conf_session_tickets(&p->conf,
                                   MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
  *pp = p;
  return SSOPROXY_OK;
}

static const char *ssoTlsCaSource(const SsoTls *p){
  return p->zCaSource ? p->zCaSource : "";
}
static int ssoTlsCaCount(const SsoTls *p){ return p->nCa; }
static int ssoTlsCaSkipped(const SsoTls *p){ return p->nCaSkipped; }
static int ssoTlsInsecure(const SsoTls *p){ return p->bInsecure; }

/* ---- Connections ----------------------------------------------------------- */

static int tlsSend(void *pArg, const unsigned char *p, size_t n){
  TlsConn *c = pArg;
  for(;;){
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if( k>=0 ) return (int)k;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if( errno==EPIPE || errno==ECONNRESET ) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_SEND_FAILED;
  }
}

static int tlsRecv(void *pArg, unsigned char *p, size_t n){
  TlsConn *c = pArg;
  for(;;){
    ssize_t k = recv(c->fd, p, n, 0);
    if( k>=0 ) return (int)k;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return MBEDTLS_ERR_SSL_WANT_READ;
    if( errno==ECONNRESET ) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_RECV_FAILED;
  }
}

static TlsConn *tlsConnNew(SsoTls *p, int fd){
  TlsConn *c = ssoMallocZero(sizeof(TlsConn));
  if( c==0 ) return 0;
  mbedtls_ssl_init(&c->ssl);
  if( mbedtls_ssl_setup(&c->ssl, &p->conf) ){
    mbedtls_ssl_free(&c->ssl);
    ssoFree(c);
    return 0;
  }
  c->pTls = p;
  c->fd = fd;
  mbedtls_ssl_set_bio(&c->ssl, c, tlsSend, tlsRecv, 0);
  return c;
}

static void tlsConnFree(void *pCtx){
  TlsConn *c = pCtx;
  if( c==0 ) return;
  mbedtls_ssl_free(&c->ssl);
  ssoFree(c);
}

/* The reasons in verification flags, most telling first. */
static void tlsVerifyReason(const TlsConn *c, uint32_t f, char *z, size_t n){
  static const struct { uint32_t m; const char *zWhy; } aWhy[] = {
    { MBEDTLS_X509_BADCERT_EXPIRED,      "expired" },
    { MBEDTLS_X509_BADCERT_FUTURE,       "not yet valid" },
    { MBEDTLS_X509_BADCERT_NOT_TRUSTED,  "unknown CA" },
    { MBEDTLS_X509_BADCERT_CN_MISMATCH,  "host name mismatch" },
    { MBEDTLS_X509_BADCERT_REVOKED,      "revoked" },
    { MBEDTLS_X509_BADCERT_MISSING,      "no certificate sent" },
    { MBEDTLS_X509_BADCERT_KEY_USAGE,    "key usage not allowed" },
    { MBEDTLS_X509_BADCERT_EXT_KEY_USAGE,"not a server certificate" },
    { MBEDTLS_X509_BADCERT_BAD_MD,       "weak signature hash" },
    { MBEDTLS_X509_BADCERT_BAD_PK,       "unacceptable key type" },
    { MBEDTLS_X509_BADCERT_BAD_KEY,      "key too weak" },
  };
  size_t i, k = 0;
  z[0] = 0;
  for(i=0; i<SSO_ARRAYSIZE(aWhy); i++){
    if( (f & aWhy[i].m)==0 ) continue;
    k += (size_t)snprintf(z+k, n-k, "%s%s", k ? ", " : "", aWhy[i].zWhy);
    if( k>=n ) return;
  }
  if( (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) && c->pTls->nCa==0 && k<n ){
    snprintf(z+k, n-k, " (no trusted CA certificates are loaded: set "
             "SSOPROXY_CA_FILE)");
  }else if( k==0 ){
    snprintf(z, n, "flags 0x%08x", (unsigned)f);
  }
}

/* A fatal mbedTLS result: remember why, and report an error. */
static long tlsFatal(TlsConn *c, int rc){
  uint32_t f = c->pTls->bServer ? 0 : mbedtls_ssl_get_verify_result(&c->ssl);
  c->bFailed = 1;
  if( rc==MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
   || (f!=0 && f!=(uint32_t)-1 && !c->pTls->bInsecure) ){
    c->bVerify = 1;
    tlsVerifyReason(c, f, c->zErr, sizeof(c->zErr));
  }else if( rc==MBEDTLS_ERR_SSL_CONN_EOF || rc==MBEDTLS_ERR_NET_CONN_RESET ){
    snprintf(c->zErr, sizeof(c->zErr), "connection closed by the peer");
  }else{
    tlsErrText(rc, c->zErr, sizeof(c->zErr));
  }
  return SSO_IO_ERROR;
}

static long tlsResult(TlsConn *c, int rc){
  if( rc==MBEDTLS_ERR_SSL_WANT_READ ) return SSO_IO_WANT_READ;
  if( rc==MBEDTLS_ERR_SSL_WANT_WRITE ) return SSO_IO_WANT_WRITE;
  return tlsFatal(c, rc);
}

/* Move the handshake on. 0: done. */
static long tlsStep(TlsConn *c){
  int rc;
  if( c->bDone ) return 0;
  if( c->bFailed ) return SSO_IO_ERROR;
  tlsLock(c->pTls);
  rc = mbedtls_ssl_handshake(&c->ssl);
  tlsUnlock(c->pTls);
  if( rc==0 ){
    c->bDone = 1;
    return 0;
  }
  return tlsResult(c, rc);
}

static long tlsRead(void *pCtx, int fd, void *pBuf, size_t n){
  TlsConn *c = pCtx;
  long r = tlsStep(c);
  SSO_UNUSED(fd);
  if( r ) return r;
  if( n>INT_MAX ) n = INT_MAX;
  for(;;){
    int rc = mbedtls_ssl_read(&c->ssl, pBuf, n);
    if( rc>0 ) return rc;
    if( rc==0 || rc==MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ) return 0;
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
    /* 3.x, TLS 1.3: a ticket arrived; the data may be right behind it. */
    if( rc==MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ) continue;
#endif
#ifdef MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA
    if( rc==MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA ) continue;
#endif
    return tlsResult(c, rc);
  }
}

/*
** After a write that wanted to wait, mbedTLS has already framed (and
** partly sent) a record of that many bytes and must be called again with
** the same length; a longer one would be reported as written in full.
** Callers only ever append to what they offered, so repeating the first
** nWritePending bytes is always possible.
*/
static long tlsWrite(void *pCtx, int fd, const void *pBuf, size_t n){
  TlsConn *c = pCtx;
  long r = tlsStep(c);
  int rc;
  SSO_UNUSED(fd);
  if( r ) return r;
  if( c->nWritePending ){
    if( n<c->nWritePending ) return tlsFatal(c, MBEDTLS_ERR_SSL_BAD_INPUT_DATA);
    n = c->nWritePending;
  }else if( n>TLS_MAX_WRITE ){
    n = TLS_MAX_WRITE;
  }
  rc = mbedtls_ssl_write(&c->ssl, pBuf, n);
  if( rc>=0 ){
    c->nWritePending = 0;
    return rc;
  }
  if( rc==MBEDTLS_ERR_SSL_WANT_READ || rc==MBEDTLS_ERR_SSL_WANT_WRITE ){
    c->nWritePending = n;
  }
  return tlsResult(c, rc);
}

static const SsoIoMethods *ssoTlsIo(void){
  static const SsoIoMethods tlsMethods = { tlsRead, tlsWrite, tlsConnFree };
  return &tlsMethods;
}

static int ssoTlsTransport(void *pArg, int fd, const SsoIoMethods **ppIo,
                                void **ppCtx){
  SsoTls *p = pArg;
  TlsConn *c;
  assert( p->bServer );
  c = tlsConnNew(p, fd);
  if( c==0 ) return SSOPROXY_NOMEM;
  *ppIo = ssoTlsIo();
  *ppCtx = c;
  return SSOPROXY_OK;
}

/*
** Does the certificate name this IP address in an iPAddress
** subjectAltName (RFC 5280 §4.2.1.6)? mbedTLS 2.28 matches only DNS
** names, so the extensions are walked here for every version alike.
*/
static int tlsCertHasIp(const mbedtls_x509_crt *crt, const unsigned char *aIp,
                        int nIp){
  unsigned char *p = crt->v3_ext.p;
  const unsigned char *pEnd;
  size_t n;
  if( p==0 || crt->v3_ext.len==0 ) return 0;
  pEnd = p + crt->v3_ext.len;
  /* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension */
  if( mbedtls_asn1_get_tag(&p, pEnd, &n,
                           MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
    return 0;
  }
  pEnd = p + n;
  while( p<pEnd ){
    /* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
    **                          extnValue OCTET STRING } */
    unsigned char *pExtEnd, *pOid;
    const unsigned char *pSanEnd;
    size_t nOid;
    int bCrit;
    if( mbedtls_asn1_get_tag(&p, pEnd, &n,
                             MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
      return 0;
    }
    pExtEnd = p + n;
    if( mbedtls_asn1_get_tag(&p, pExtEnd, &nOid, MBEDTLS_ASN1_OID) ) return 0;
    pOid = p;
    p += nOid;
    if( p<pExtEnd && *p==MBEDTLS_ASN1_BOOLEAN
     && mbedtls_asn1_get_bool(&p, pExtEnd, &bCrit) ){
      return 0;
    }
    if( mbedtls_asn1_get_tag(&p, pExtEnd, &n, MBEDTLS_ASN1_OCTET_STRING) ){
      return 0;
    }
    if( nOid!=MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME)
     || memcmp(pOid, MBEDTLS_OID_SUBJECT_ALT_NAME, nOid)!=0 ){
      p = pExtEnd;
      continue;
    }
    /* GeneralNames ::= SEQUENCE OF GeneralName; iPAddress is [7] */
    if( mbedtls_asn1_get_tag(&p, p+n, &n,
                             MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
      return 0;
    }
    pSanEnd = p + n;
    while( p<pSanEnd ){
      unsigned char tag = *p++;
      if( mbedtls_asn1_get_len(&p, pSanEnd, &n) ) return 0;
      if( tag==(MBEDTLS_ASN1_CONTEXT_SPECIFIC|7) && n==(size_t)nIp
       && memcmp(p, aIp, n)==0 ){
        return 1;
      }
      p += n;
    }
    return 0;
  }
  return 0;
}

/* Verification callback: host names are mbedTLS's job; IP addresses are
** ours (mbedTLS is told no host name for them, and sends no SNI). */
static int tlsVerifyCb(void *pArg, mbedtls_x509_crt *crt, int iDepth,
                       uint32_t *pFlags){
  TlsConn *c = pArg;
  if( iDepth==0 && c->nIp ){
    if( tlsCertHasIp(crt, c->aIp, c->nIp) ){
      *pFlags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }else{
      *pFlags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
  }
  return 0;
}

static int ssoTlsConnect(SsoTls *p, int fd, const char *zHost,
                              const unsigned char *aIp, int nIp,
                              void **ppCtx){
  TlsConn *c;
  int rc;
  assert( !p->bServer );
  *ppCtx = 0;
  c = tlsConnNew(p, fd);
  if( c==0 ) return SSOPROXY_NOMEM;
  if( nIp==4 || nIp==16 ){
    memcpy(c->aIp, aIp, (size_t)nIp);
    c->nIp = nIp;
    /* Explicitly no name: 3.6.3+ refuses a handshake with none set. */
    rc = mbedtls_ssl_set_hostname(&c->ssl, 0);
  }else{
    rc = mbedtls_ssl_set_hostname(&c->ssl, zHost);
  }
  if( rc ){
    tlsConnFree(c);
    return rc==MBEDTLS_ERR_SSL_ALLOC_FAILED ? SSOPROXY_NOMEM : SSOPROXY_PARSE;
  }
  mbedtls_ssl_set_verify(&c->ssl, tlsVerifyCb, c);
  *ppCtx = c;
  return SSOPROXY_OK;
}

static long ssoTlsHandshake(void *pCtx){
  return tlsStep((TlsConn*)pCtx);
}

static const char *ssoTlsError(void *pCtx){
  return ((TlsConn*)pCtx)->zErr;
}

static int ssoTlsVerifyFailed(void *pCtx){
  return ((TlsConn*)pCtx)->bVerify;
}

static size_t ssoTlsPending(void *pCtx){
  TlsConn *c = pCtx;
  size_t n = mbedtls_ssl_get_bytes_avail(&c->ssl);
  if( n==0 && mbedtls_ssl_check_pending(&c->ssl) ) n = 1;
  return n;
}

static const char *ssoTlsVersionOf(void *pCtx){
  TlsConn *c = pCtx;
  return c->bDone ? mbedtls_ssl_get_version(&c->ssl) : "";
}
/************** End of tls.c **************/
/************** Begin file client.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: the outbound HTTP/1.1 client. Each call is a small state
** machine on the caller's loop:
**
**   START      queued; runs from a deferred task, so ssoClientRequest()
**              never calls back before it returns
**   RESOLVE    a resolver thread runs getaddrinfo(); numeric hosts and
**              pooled connections skip this
**   CONNECT    non-blocking connect(), one address after the other
**   HANDSHAKE  TLS (https only), certificate and host name verified
**   SEND       the request head, then the body (a small one in the same
**              write), as the socket allows
**   RECV       the response, through the pure SsoClientParser
**
** One timer per call holds the deadline of its current state: connect
** (RESOLVE..HANDSHAKE), first byte (after the request went out), idle
** (between reads or writes; stopped while the consumer has paused us).
** A slow or dead remote only ever costs its own call a timer and a
** descriptor, never the loop's time.
**
** Connections outlive calls: a response that ends cleanly on a kept-alive
** connection returns it to the client's pool (per origin, scheme://host:
** port), watched for a close by the remote and expired after msPoolIdle.
** A request that fails on a reused connection before any answer arrived
** is retried once on a new one if its method is idempotent (RFC 9110
** §9.2.2; RFC 9112 §9.3.1 forbids retrying others automatically).
**
** Name resolution. getaddrinfo() blocks, for seconds when DNS is slow, so
** it runs on up to nResolver detached threads per client. A job is
** allocated on the loop thread; the thread only fills it in (it calls no
** allocator: fault injection stays deterministic) and hands it back on a
** list, writing one byte to a pipe the loop watches. The thread and the
** client share the resolver by reference count, so a client can go away
** while a thread is still stuck in getaddrinfo().
**
** Re-entrancy: a call is freed only when the outermost of our callbacks
** on its behalf unwinds (bBusy), never inside a callback of the caller's,
** who may cancel it from xHead or xData.
*/
/* #include "ssoInt.h" */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <ctype.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- The response parser ------------------------------------------------ */

enum {
  CP_HEAD,          /* Waiting for (the rest of) a head */
  CP_LENGTH,        /* nLeft Content-Length bytes to go */
  CP_CHUNKED,       /* Chunked body */
  CP_EOF,           /* Body runs to the end of the connection */
  CP_FIN,           /* Complete; SSO_CP_END not yet reported */
  CP_END,           /* Complete */
  CP_ERROR
};

static void ssoClientParserInit(SsoClientParser *p, SsoHttpHeader *aHdr,
                                     int mxHdr, size_t mxHead,
                                     unsigned long long mxBody,
                                     int bHeadReq){
  memset(p, 0, sizeof(*p));
  p->eState = CP_HEAD;
  p->bHeadReq = bHeadReq;
  p->mxBody = mxBody;
  p->lim.mxLine = mxHead;
  p->lim.mxHead = mxHead;
  p->head.aHdr = aHdr;
  p->head.mxHdr = mxHdr;
  p->zErr = "";
}

static int cpFail(SsoClientParser *p, int rc, const char *zErr){
  p->eState = CP_ERROR;
  p->rcErr = rc;
  p->zErr = zErr;
  p->bKeep = 0;
  return rc;
}

/*
** Whether the connection may be kept, from the Connection field alone
** (RFC 9112 §9.3): the head parser's bClose also counts a missing length
** as a close, which is wrong for responses that have no body at all.
*/
static int cpKeepAlive(const SsoHttpHead *h){
  int i, bClose = 0, bKeep = 0;
  for(i=0; i<h->nHdr; i++){
    SsoStr v = h->aHdr[i].value;
    size_t j = 0;
    if( !ssoHttpStrIEq(h->aHdr[i].name, "connection") ) continue;
    while( j<v.n ){
      size_t k = j;
      SsoStr tok;
      while( k<v.n && v.z[k]!=',' ) k++;
      tok.z = v.z + j;
      tok.n = k - j;
      while( tok.n && (tok.z[0]==' ' || tok.z[0]=='\t') ){ tok.z++; tok.n--; }
      while( tok.n && (tok.z[tok.n-1]==' ' || tok.z[tok.n-1]=='\t') ) tok.n--;
      if( ssoHttpStrIEq(tok, "close") ) bClose = 1;
      if( ssoHttpStrIEq(tok, "keep-alive") ) bKeep = 1;
      j = k + 1;
    }
  }
  return h->iMinor==0 ? bKeep && !bClose : !bClose;
}

/* A final head of nHead bytes was parsed: choose the body framing. */
static void cpStartBody(SsoClientParser *p){
  SsoHttpHead *h = &p->head;
  int iStatus = h->iStatus;
  if( p->bHeadReq || iStatus==204 || iStatus==304
   || h->eBody==SSO_HTTP_BODY_NONE ){
    /* RFC 9112 §6.3 rules 1-2: no body, whatever the fields say. */
    p->bKeep = cpKeepAlive(h);
    p->eState = CP_FIN;
    return;
  }
  p->bKeep = !h->bClose;
  switch( h->eBody ){
    case SSO_HTTP_BODY_LENGTH:
      p->nLeft = h->nBody;
      p->eState = CP_LENGTH;
      break;
    case SSO_HTTP_BODY_CHUNKED:
      ssoHttpChunkedInit(&p->chunk, SSO_HTTP_MAX_CHUNK_LINE,
                         SSO_HTTP_MAX_CHUNK_OVER);
      p->eState = CP_CHUNKED;
      break;
    default:
      p->bKeep = 0;
      p->eState = CP_EOF;
      break;
  }
}

static int cpHead(SsoClientParser *p, char *a, size_t n, size_t *pnUsed,
                  size_t *piData, size_t *pnData){
  size_t iOff = 0;
  for(;;){
    int rc = ssoHttpParseResponse(a+iOff, n-iOff, p->nScan, &p->lim,
                                  &p->head);
    if( rc==SSO_HTTP_PARTIAL ){
      /* Heads of skipped interim responses are used up; the partial
      ** head now starts at iOff, and the caller will drop what is before. */
      p->nScan = n - iOff;
      *pnUsed = iOff;
      return SSO_CP_MORE;
    }
    if( rc<0 ) return cpFail(p, SSO_CP_EPROTO, "invalid response head");
    p->nScan = 0;
    if( p->head.iStatus<200 ){
      /* RFC 9110 §15.2: interim answers precede the final one. 101 would
      ** switch protocols, which we never ask for. */
      if( p->head.iStatus==101 ){
        return cpFail(p, SSO_CP_EPROTO, "unexpected 101 Switching Protocols");
      }
      if( ++p->nInterim>16 ){
        return cpFail(p, SSO_CP_EPROTO, "too many interim responses");
      }
      iOff += (size_t)rc;
      continue;
    }
    *piData = iOff;
    *pnData = (size_t)rc;
    *pnUsed = iOff + (size_t)rc;
    cpStartBody(p);
    return SSO_CP_HEAD;
  }
}

static int ssoClientParserFeed(SsoClientParser *p, char *a, size_t n,
                                    size_t *pnUsed, size_t *piData,
                                    size_t *pnData){
  size_t nIn = 0, nOut = 0;
  int rc;
  *pnUsed = *piData = *pnData = 0;
  switch( p->eState ){
    case CP_HEAD:
      return cpHead(p, a, n, pnUsed, piData, pnData);
    case CP_LENGTH:
      if( p->nLeft > p->mxBody - p->nBody ){
        return cpFail(p, SSO_CP_ETOOBIG, "response body too large");
      }
      if( n==0 ) return SSO_CP_MORE;
      if( n>p->nLeft ) n = (size_t)p->nLeft;
      p->nLeft -= n;
      p->nBody += n;
      if( p->nLeft==0 ) p->eState = CP_FIN;
      *pnUsed = *pnData = n;
      return SSO_CP_DATA;
    case CP_CHUNKED:
      if( n==0 ) return SSO_CP_MORE;
      rc = ssoHttpChunkedDecode(&p->chunk, a, n, a, &nIn, &nOut);
      /* The limit first: data decoded before a syntax error came first,
      ** so the outcome does not depend on how the input was cut. */
      if( nOut > p->mxBody - p->nBody ){
        return cpFail(p, SSO_CP_ETOOBIG, "response body too large");
      }
      if( rc<0 ) return cpFail(p, SSO_CP_EPROTO, "invalid chunked body");
      p->nBody += nOut;
      *pnUsed = nIn;
      if( rc==1 ) p->eState = CP_FIN;
      if( nOut ){
        *pnData = nOut;
        return SSO_CP_DATA;
      }
      if( rc==1 ){
        p->eState = CP_END;
        return SSO_CP_END;
      }
      return SSO_CP_MORE;
    case CP_EOF:
      if( n==0 ) return SSO_CP_MORE;
      if( n > p->mxBody - p->nBody ){
        return cpFail(p, SSO_CP_ETOOBIG, "response body too large");
      }
      p->nBody += n;
      *pnUsed = *pnData = n;
      return SSO_CP_DATA;
    case CP_FIN:
    case CP_END:
      p->eState = CP_END;
      return SSO_CP_END;
  }
  return p->rcErr;       /* CP_ERROR: the same error again */
}

static int ssoClientParserEof(SsoClientParser *p){
  switch( p->eState ){
    case CP_EOF:
    case CP_FIN:
    case CP_END:
      p->eState = CP_END;
      return SSO_CP_END;
    case CP_HEAD:
      return cpFail(p, SSO_CP_EPROTO, "connection closed before a complete "
                    "response head");
    case CP_ERROR:
      return p->rcErr;
  }
  return cpFail(p, SSO_CP_EPROTO, "connection closed in the middle of the "
                "response body");
}

/* ---- Objects -------------------------------------------------------------- */

typedef struct HcConn HcConn;
typedef struct HcJob HcJob;
typedef struct HcResolver HcResolver;

/* A connection: carries one call at a time, or waits in the pool. */
struct HcConn {
  SsoClient *pClient;
  SsoClientCall *pCall;     /* The call it carries; NULL when pooled */
  HcConn *pNext, *pPrev;    /* The pool, most recently used first */
  int fd;
  const SsoIoMethods *pIo;
  void *pIoCtx;
  char *zKey;               /* Origin "scheme://host:port"; owned */
  SsoLoopTimer timer;       /* Pool expiry */
  unsigned char bTls;
};

/* A name to resolve; see the file header for who owns it when. */
struct HcJob {
  HcJob *pNext;
  SsoClientCall *pCall;     /* Loop thread only; NULL once not wanted */
  char zHost[256];
  char zPort[8];
  int iGai;                 /* getaddrinfo() result */
  int nAddr;
  struct sockaddr_storage aAddr[SSO_CLIENT_MAX_ADDRS];
  socklen_t aLen[SSO_CLIENT_MAX_ADDRS];
};

struct HcResolver {
  pthread_mutex_t mu;
  pthread_cond_t cvWork;    /* Jobs queued, or closing */
  pthread_cond_t cvGone;    /* A thread left */
  HcJob *pQueue, *pQueueLast;
  HcJob *pDone;             /* Answered, for the loop */
  int nThread, nIdle, mxThread;
  int nRef;                 /* The client, plus one per thread */
  int bClosed;              /* The client is gone */
  int fdR, fdW;             /* Wake-up pipe; fdR is in the loop */
};

enum { HC_START, HC_RESOLVE, HC_CONNECT, HC_HANDSHAKE, HC_SEND, HC_RECV };

struct SsoClientCall {
  SsoClient *pClient;
  SsoClientCall *pNext, *pPrev;   /* The client's live calls */
  SsoClientReq req;         /* Copy; strings and fields in arena */
  SsoHttpHeader *aReqHdr;   /* req.aHdr, writable: redirects drop some */
  SsoArena arena;
  SsoUrl url;               /* Where this hop goes */
  const char *zUrl;         /* That URL as text (arena) */
  char *zKey;               /* Its origin, the pool key (arena) */
  char zPeer[300];          /* "host:port" for messages */
  int eState;               /* HC_* */
  HcConn *pConn;
  HcJob *pJob;              /* Pending resolution */
  int nAddr, iAddr, iConnErr;
  struct sockaddr_storage aAddr[SSO_CLIENT_MAX_ADDRS];
  socklen_t aLen[SSO_CLIENT_MAX_ADDRS];
  SsoLoopTimer timer;
  SsoLoopTask task;
  int msConnect, msFirstByte, msIdle;
  long long iStart;         /* This hop began (connect deadline base) */
  long long iSent;          /* The request was fully written */
  long long iLastIo;        /* Last progress reading or writing */
  SsoBuf out;               /* Request head, and a small body after it */
  size_t iOut;              /* Bytes of head+body written */
  unsigned char bBodyOut;   /* The body is in out too */
  char *aIn;                /* Input: aIn[iIn..nIn) not yet parsed */
  size_t iIn, nIn, nInAlloc;
  unsigned long long nRecv; /* Response bytes received on this hop */
  SsoClientParser parse;
  SsoHttpHeader *aHdr;      /* Parser's fields (mxHeader) */
  char *zHead;              /* Copy of the final head; owned */
  SsoHttpHead head;         /* Views into zHead */
  SsoHttpHeader *aHeadHdr;  /* Fields of head (mxHeader) */
  SsoBuf body;              /* Collected body when there is no xData */
  int nRedirect;
  int nRetry;
  int eWant;                /* TLS handshake: the event it waits for */
  int rc;
  int iProxyStatus;
  unsigned char bBusy;      /* Depth of our callbacks on the stack */
  unsigned char bDone;      /* xDone was called (or is being called) */
  unsigned char bCancel;    /* Cancelled: free without callbacks */
  unsigned char bPaused;
  unsigned char bHeadSeen;
  unsigned char bReused;    /* This hop runs on a pooled connection */
  unsigned char bNoPool;    /* Retrying: take a fresh connection */
  unsigned char bRedirect;  /* This response is a redirect to follow */
  unsigned char bWriteWantsRead, bReadWantsWrite;
  char zErr[512];
};

struct SsoClient {
  SsoLoop *pLoop;
  SsoClientConfig cfg;
  SsoClientCall *pCall;     /* Live calls */
  HcConn *pIdle;            /* The pool */
  int nIdle;
  HcResolver *pRes;         /* Started at the first name to resolve */
};

static void hcStep(SsoClientCall *c, int eEvents);
static void hcSend(SsoClientCall *c);
static void hcRecv(SsoClientCall *c);
static void hcBegin(SsoClientCall *c);
static void hcAfter(SsoClientCall *c);

/* ---- Configuration ---------------------------------------------------------- */

static void ssoClientConfigInit(SsoClientConfig *p){
  memset(p, 0, sizeof(*p));
  p->msConnect = SSO_CLIENT_CONNECT_MS;
  p->msFirstByte = SSO_CLIENT_FIRST_BYTE_MS;
  p->msIdle = SSO_CLIENT_IDLE_MS;
  p->mxResponse = SSO_CLIENT_MAX_RESPONSE;
  p->mxHead = SSO_CLIENT_MAX_HEAD;
  p->mxHeader = SSO_CLIENT_MAX_HEADERS;
  p->nPoolPerOrigin = SSO_CLIENT_POOL_PER_ORIGIN;
  p->msPoolIdle = SSO_CLIENT_POOL_IDLE_MS;
  p->nResolver = SSO_CLIENT_RESOLVERS;
}

static int ssoClientNew(SsoLoop *pLoop, const SsoClientConfig *pCfg,
                             SsoClient **pp){
  SsoClient *p;
  *pp = 0;
  if( pLoop==0 || pCfg->msConnect<1 || pCfg->msFirstByte<1
   || pCfg->msIdle<1 || pCfg->mxHead<256 || pCfg->mxHead>(16u<<20)
   || pCfg->mxHeader<1 || pCfg->mxHeader>10000 || pCfg->nPoolPerOrigin<0
   || pCfg->msPoolIdle<1 || pCfg->nResolver<1 || pCfg->nResolver>64 ){
    return SSOPROXY_MISUSE;
  }
  p = ssoMallocZero(sizeof(SsoClient));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->pLoop = pLoop;
  p->cfg = *pCfg;
  *pp = p;
  return SSOPROXY_OK;
}

static int ssoClientIdleCount(const SsoClient *p){ return p->nIdle; }

/* ---- Connections and the pool -------------------------------------------------- */

static void hcOnConnIo(SsoLoop*, int fd, int eEvents, void *pArg);
static void hcOnPoolTimer(SsoLoop*, SsoLoopTimer*, void *pArg);

static void hcPoolUnlink(HcConn *k){
  SsoClient *p = k->pClient;
  if( k->pPrev ) k->pPrev->pNext = k->pNext;
  else if( p->pIdle==k ) p->pIdle = k->pNext;
  else return;                      /* not pooled */
  if( k->pNext ) k->pNext->pPrev = k->pPrev;
  k->pNext = k->pPrev = 0;
  p->nIdle--;
}

/* Close and free a connection, pooled or not. */
static void hcConnClose(HcConn *k){
  SsoClient *p = k->pClient;
  hcPoolUnlink(k);
  ssoLoopDel(p->pLoop, k->fd);
  ssoLoopTimerStop(p->pLoop, &k->timer);
  /* The transport context first: it does no I/O when freed (tls.c). */
  if( k->pIo && k->pIo->xFree ) k->pIo->xFree(k->pIoCtx);
  close(k->fd);
  ssoFree(k->zKey);
  ssoFree(k);
}

static HcConn *hcConnNew(SsoClient *p, int fd, const char *zKey){
  HcConn *k = ssoMallocZero(sizeof(HcConn));
  if( k==0 ) return 0;
  k->zKey = ssoStrdup(zKey);
  if( k->zKey==0 || ssoLoopAdd(p->pLoop, fd, SSO_LOOP_WRITE, hcOnConnIo, k) ){
    ssoFree(k->zKey);
    ssoFree(k);
    return 0;
  }
  k->pClient = p;
  k->fd = fd;
  k->pIo = ssoLoopPlainIo();
  ssoLoopTimerInit(&k->timer, hcOnPoolTimer, k);
  return k;
}

static void hcOnPoolTimer(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  hcConnClose((HcConn*)pArg);
}

/* A connection is done with its call and may serve another. */
static void hcPoolPut(HcConn *k){
  SsoClient *p = k->pClient;
  HcConn *q, *pOldest = 0;
  int nSame = 0;
  k->pCall = 0;
  if( ssoLoopMod(p->pLoop, k->fd, SSO_LOOP_READ)
   || ssoLoopTimerAt(p->pLoop, &k->timer,
                     ssoLoopNow(p->pLoop) + p->cfg.msPoolIdle) ){
    hcConnClose(k);
    return;
  }
  k->pPrev = 0;
  k->pNext = p->pIdle;
  if( p->pIdle ) p->pIdle->pPrev = k;
  p->pIdle = k;
  p->nIdle++;
  /* No origin can be over the cap while the whole pool is not: the scan
  ** below is skipped on the path every proxied request takes. */
  if( p->nIdle<=p->cfg.nPoolPerOrigin ) return;
  for(q=p->pIdle; q; q=q->pNext){
    if( strcmp(q->zKey, k->zKey)==0 ){
      nSame++;
      pOldest = q;
    }
  }
  if( nSame>p->cfg.nPoolPerOrigin ) hcConnClose(pOldest);
}

/*
** An idle connection for zKey, most recently used first. A remote that
** closed (or, out of turn, sent something) is noticed here with a peek,
** even before the loop reports it.
*/
static HcConn *hcPoolTake(SsoClient *p, const char *zKey){
  HcConn *k = p->pIdle;
  while( k ){
    HcConn *pNext = k->pNext;
    if( strcmp(k->zKey, zKey)==0 ){
      char ch;
      ssize_t n = recv(k->fd, &ch, 1, MSG_PEEK|MSG_DONTWAIT);
      if( n<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ){
        hcPoolUnlink(k);
        ssoLoopTimerStop(p->pLoop, &k->timer);
        return k;
      }
      hcConnClose(k);
    }
    k = pNext;
  }
  return 0;
}

/* ---- Finishing ---------------------------------------------------------------- */

static void hcCallFree(SsoClientCall *c){
  SsoClient *p = c->pClient;
  if( c->pPrev ) c->pPrev->pNext = c->pNext;
  else if( p->pCall==c ) p->pCall = c->pNext;
  if( c->pNext ) c->pNext->pPrev = c->pPrev;
  ssoLoopTimerStop(p->pLoop, &c->timer);
  ssoLoopUndefer(p->pLoop, &c->task);
  if( c->pJob ) c->pJob->pCall = 0;
  if( c->pConn ) hcConnClose(c->pConn);
  ssoBufFree(&c->out);
  ssoBufFree(&c->body);
  ssoFree(c->aIn);
  ssoFree(c->zHead);
  ssoFree(c->aHdr);
  ssoArenaFree(&c->arena);
  ssoFree(c);
}

static void hcFillResp(SsoClientCall *c, SsoClientResp *r){
  memset(r, 0, sizeof(*r));
  r->rc = c->rc;
  r->iStatus = c->bHeadSeen ? c->head.iStatus : 0;
  r->iProxyStatus = c->rc ? c->iProxyStatus : r->iStatus;
  r->zErr = c->zErr;
  if( c->bHeadSeen ){
    r->aHdr = c->head.aHdr;
    r->nHdr = c->head.nHdr;
  }
  r->pBody = ssoBufStr(&c->body);
  r->nBody = c->body.n;
  r->zUrl = c->zUrl;
  r->nRedirect = c->nRedirect;
}

/* The call ends: tell the caller (once). The free follows in hcAfter. */
static void hcFinish(SsoClientCall *c, int rc, int iProxyStatus){
  SsoClientResp r;
  if( c->bDone || c->bCancel ) return;
  c->bDone = 1;
  c->rc = rc;
  c->iProxyStatus = iProxyStatus;
  if( rc==SSOPROXY_OK ) c->zErr[0] = 0;
  if( c->pConn ){
    hcConnClose(c->pConn);
    c->pConn = 0;
  }
  ssoLoopTimerStop(c->pClient->pLoop, &c->timer);
  hcFillResp(c, &r);
  c->req.xDone(c, &r, c->req.pArg);
}

static void hcFail(SsoClientCall *c, int rc, int iProxyStatus,
                   const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;
static void hcFail(SsoClientCall *c, int rc, int iProxyStatus,
                   const char *zFmt, ...){
  va_list ap;
  if( c->bDone || c->bCancel ) return;
  va_start(ap, zFmt);
  vsnprintf(c->zErr, sizeof(c->zErr), zFmt, ap);
  va_end(ap);
  hcFinish(c, rc, iProxyStatus);
}

static int hcGone(const SsoClientCall *c){ return c->bDone || c->bCancel; }

/* RFC 9110 §9.2.2 */
static int hcIdempotent(const SsoClientCall *c){
  static const char *const az[] = {
    "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( strcmp(c->req.zMethod, az[i])==0 ) return 1;
  }
  return 0;
}

/*
** The connection broke. On a reused connection with no answer yet, the
** remote most likely closed it as we were sending (an idle timeout on
** its side): an idempotent request is tried once more, on a new one.
*/
static void hcConnLost(SsoClientCall *c, const char *zWhen){
  if( c->bReused && c->nRecv==0 && c->nRetry==0 && hcIdempotent(c) ){
    hcConnClose(c->pConn);
    c->pConn = 0;
    c->nRetry++;
    c->bNoPool = 1;
    c->eState = HC_START;
    hcBegin(c);
    return;
  }
  hcFail(c, SSOPROXY_NET, 502, "connection to %s lost %s", c->zPeer, zWhen);
}

/* ---- Resolver threads ------------------------------------------------------------ */

static void hcResolverDestroy(HcResolver *r){
  close(r->fdR);
  close(r->fdW);
  pthread_cond_destroy(&r->cvWork);
  pthread_cond_destroy(&r->cvGone);
  pthread_mutex_destroy(&r->mu);
  ssoFree(r);
}

static void hcResolveJob(HcJob *j){
  struct addrinfo hints, *pRes = 0, *q;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  j->iGai = getaddrinfo(j->zHost, j->zPort, &hints, &pRes);
  for(q=pRes; j->iGai==0 && q && j->nAddr<SSO_CLIENT_MAX_ADDRS; q=q->ai_next){
    if( q->ai_family!=AF_INET && q->ai_family!=AF_INET6 ) continue;
    if( q->ai_addrlen>sizeof(j->aAddr[0]) ) continue;
    memcpy(&j->aAddr[j->nAddr], q->ai_addr, q->ai_addrlen);
    j->aLen[j->nAddr++] = q->ai_addrlen;
  }
  if( pRes ) freeaddrinfo(pRes);
}

static void *hcResolverMain(void *pArg){
  HcResolver *r = pArg;
  int bLast;
  pthread_mutex_lock(&r->mu);
  for(;;){
    HcJob *j;
    while( r->pQueue==0 && !r->bClosed ){
      r->nIdle++;
      pthread_cond_wait(&r->cvWork, &r->mu);
      r->nIdle--;
    }
    if( r->bClosed ) break;
    j = r->pQueue;
    r->pQueue = j->pNext;
    if( r->pQueue==0 ) r->pQueueLast = 0;
    pthread_mutex_unlock(&r->mu);
    hcResolveJob(j);
    pthread_mutex_lock(&r->mu);
    if( r->bClosed ){
      ssoFree(j);
    }else{
      ssize_t n;
      j->pNext = r->pDone;
      r->pDone = j;
      n = write(r->fdW, "", 1);   /* full pipe: a wake-up is pending */
      SSO_UNUSED(n);
    }
  }
  r->nThread--;
  bLast = --r->nRef==0;
  pthread_cond_broadcast(&r->cvGone);
  pthread_mutex_unlock(&r->mu);
  if( bLast ) hcResolverDestroy(r);
  return 0;
}

/* Start one more thread; r->mu is held. Signals stay with the host's
** threads (as the server's workers do), faults stay deliverable. */
static int hcResolverSpawn(HcResolver *r){
  pthread_attr_t attr;
  pthread_t tid;
  sigset_t old;
  int rc;
  if( pthread_attr_init(&attr) ) return -1;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  ssoLoopBlockSignals(&old);
  rc = pthread_create(&tid, &attr, hcResolverMain, r);
  pthread_sigmask(SIG_SETMASK, &old, 0);
  pthread_attr_destroy(&attr);
  if( rc ) return -1;
  r->nThread++;
  r->nRef++;
  return 0;
}

static void hcOnResolved(SsoClientCall *c, HcJob *j);

static void hcOnResolverWake(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  SsoClient *p = pArg;
  HcResolver *r = p->pRes;
  HcJob *j;
  char aJunk[64];
  SSO_UNUSED(pLoop);
  SSO_UNUSED(eEvents);
  while( read(fd, aJunk, sizeof(aJunk))>0 ){}
  pthread_mutex_lock(&r->mu);
  j = r->pDone;
  r->pDone = 0;
  pthread_mutex_unlock(&r->mu);
  while( j ){
    HcJob *pNext = j->pNext;
    SsoClientCall *c = j->pCall;
    if( c ){
      c->pJob = 0;
      c->bBusy++;
      hcOnResolved(c, j);
      c->bBusy--;
      hcAfter(c);
    }
    ssoFree(j);
    j = pNext;
  }
}

static int hcResolverOpen(SsoClient *p){
  HcResolver *r = ssoMallocZero(sizeof(HcResolver));
  int a[2];
  if( r==0 ) return SSOPROXY_NOMEM;
  if( pipe(a) ){
    ssoFree(r);
    return SSOPROXY_IOERR;
  }
  r->fdR = a[0];
  r->fdW = a[1];
  r->nRef = 1;
  r->mxThread = p->cfg.nResolver;
  pthread_mutex_init(&r->mu, 0);
  pthread_cond_init(&r->cvWork, 0);
  pthread_cond_init(&r->cvGone, 0);
  if( ssoLoopSetNonBlock(a[0]) || ssoLoopSetNonBlock(a[1])
   || ssoLoopAdd(p->pLoop, r->fdR, SSO_LOOP_READ, hcOnResolverWake, p) ){
    hcResolverDestroy(r);
    return SSOPROXY_IOERR;
  }
  p->pRes = r;
  return SSOPROXY_OK;
}

/*
** The client goes away. Queued and answered jobs are dropped here. Idle
** threads leave at once and are waited for; a thread inside getaddrinfo()
** cannot be interrupted, so after two seconds it is left to finish alone
** (it frees the resolver, holding the last reference, when it returns).
*/
static void hcResolverClose(SsoClient *p){
  HcResolver *r = p->pRes;
  HcJob *j, *pNext;
  struct timespec ts;
  int bLast;
  if( r==0 ) return;
  ssoLoopDel(p->pLoop, r->fdR);
  pthread_mutex_lock(&r->mu);
  r->bClosed = 1;
  for(j=r->pQueue; j; j=pNext){ pNext = j->pNext; ssoFree(j); }
  for(j=r->pDone; j; j=pNext){ pNext = j->pNext; ssoFree(j); }
  r->pQueue = r->pQueueLast = r->pDone = 0;
  pthread_cond_broadcast(&r->cvWork);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 2;
  while( r->nThread>0 ){
    if( pthread_cond_timedwait(&r->cvGone, &r->mu, &ts) ) break;
  }
  bLast = --r->nRef==0;
  pthread_mutex_unlock(&r->mu);
  if( bLast ) hcResolverDestroy(r);
  p->pRes = 0;
}

static void hcResolveStart(SsoClientCall *c){
  SsoClient *p = c->pClient;
  HcResolver *r;
  HcJob *j;
  int rc = p->pRes ? SSOPROXY_OK : hcResolverOpen(p);
  if( rc ){
    hcFail(c, rc, 502, "cannot resolve %s: %s", c->url.host.z,
           rc==SSOPROXY_NOMEM ? "out of memory" : "no resolver");
    return;
  }
  r = p->pRes;
  j = ssoMallocZero(sizeof(HcJob));
  if( j==0 ){
    hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
    return;
  }
  snprintf(j->zHost, sizeof(j->zHost), "%s", c->url.host.z);
  snprintf(j->zPort, sizeof(j->zPort), "%d", c->url.iPort);
  j->pCall = c;
  pthread_mutex_lock(&r->mu);
  if( r->nIdle==0 && r->nThread<r->mxThread && hcResolverSpawn(r)
   && r->nThread==0 ){
    pthread_mutex_unlock(&r->mu);
    ssoFree(j);
    hcFail(c, SSOPROXY_ERROR, 502, "cannot resolve %s: cannot start a "
           "resolver thread", c->url.host.z);
    return;
  }
  if( r->pQueueLast ) r->pQueueLast->pNext = j;
  else r->pQueue = j;
  r->pQueueLast = j;
  pthread_cond_signal(&r->cvWork);
  pthread_mutex_unlock(&r->mu);
  c->pJob = j;
  c->eState = HC_RESOLVE;
}

/* ---- Connecting ---------------------------------------------------------------------- */

static void hcConnectNext(SsoClientCall *c);

static void hcOnResolved(SsoClientCall *c, HcJob *j){
  int i;
  if( hcGone(c) ) return;
  if( j->iGai || j->nAddr==0 ){
    hcFail(c, SSOPROXY_NET, 502, "cannot resolve %s: %s", j->zHost,
           j->iGai ? gai_strerror(j->iGai) : "no IPv4 or IPv6 address");
    return;
  }
  for(i=0; i<j->nAddr; i++){
    c->aAddr[i] = j->aAddr[i];
    c->aLen[i] = j->aLen[i];
  }
  c->nAddr = j->nAddr;
  c->iAddr = 0;
  hcConnectNext(c);
}

/* The URL's host is an IP literal: its one address, no resolver. */
static void hcLiteralAddr(SsoClientCall *c){
  memset(&c->aAddr[0], 0, sizeof(c->aAddr[0]));
  if( c->url.eHost==SSO_URL_HOST_IPV4 ){
    struct sockaddr_in *p4 = (struct sockaddr_in*)&c->aAddr[0];
    p4->sin_family = AF_INET;
    p4->sin_port = htons((unsigned short)c->url.iPort);
    memcpy(&p4->sin_addr, c->url.aAddr, 4);
    c->aLen[0] = sizeof(*p4);
  }else{
    struct sockaddr_in6 *p6 = (struct sockaddr_in6*)&c->aAddr[0];
    p6->sin6_family = AF_INET6;
    p6->sin6_port = htons((unsigned short)c->url.iPort);
    memcpy(&p6->sin6_addr, c->url.aAddr, 16);
    c->aLen[0] = sizeof(*p6);
  }
  c->nAddr = 1;
  c->iAddr = 0;
}

static void hcHandshake(SsoClientCall *c){
  long r = ssoTlsHandshake(c->pConn->pIoCtx);
  if( r==0 ){
    c->eState = HC_SEND;
    hcSend(c);
  }else if( r==SSO_IO_WANT_READ ){
    c->eWant = SSO_LOOP_READ;
  }else if( r==SSO_IO_WANT_WRITE ){
    c->eWant = SSO_LOOP_WRITE;
  }else if( ssoTlsVerifyFailed(c->pConn->pIoCtx) ){
    hcFail(c, SSOPROXY_NET, 502, "certificate verification failed for %s: %s",
           c->zPeer, ssoTlsError(c->pConn->pIoCtx));
  }else{
    hcFail(c, SSOPROXY_NET, 502, "TLS handshake with %s failed: %s",
           c->zPeer, ssoTlsError(c->pConn->pIoCtx));
  }
}

/* TCP is up: TLS next for https, else straight to sending. */
static void hcConnected(SsoClientCall *c){
  HcConn *k = c->pConn;
  int one = 1;
  setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if( c->url.scheme.n==5 ){
    const unsigned char *aIp = 0;
    int nIp = 0, rc;
    if( c->url.eHost==SSO_URL_HOST_IPV4 ){ aIp = c->url.aAddr; nIp = 4; }
    if( c->url.eHost==SSO_URL_HOST_IPV6 ){ aIp = c->url.aAddr; nIp = 16; }
    rc = ssoTlsConnect(c->pClient->cfg.pTls, k->fd, c->url.host.z, aIp, nIp,
                       &k->pIoCtx);
    if( rc ){
      hcFail(c, rc, 502, "TLS setup for %s failed: %s", c->zPeer,
             rc==SSOPROXY_NOMEM ? "out of memory" : "bad host name");
      return;
    }
    k->pIo = ssoTlsIo();
    k->bTls = 1;
    c->eState = HC_HANDSHAKE;
    hcHandshake(c);
    return;
  }
  c->eState = HC_SEND;
  hcSend(c);
}

static void hcConnectNext(SsoClientCall *c){
  while( c->iAddr<c->nAddr ){
    struct sockaddr *pSa = (struct sockaddr*)&c->aAddr[c->iAddr];
    socklen_t nSa = c->aLen[c->iAddr++];
    int fd = socket(pSa->sa_family, SOCK_STREAM, 0), rc;
    if( fd<0 ){
      c->iConnErr = errno;
      continue;
    }
    if( ssoLoopSetNonBlock(fd) ){
      c->iConnErr = errno;
      close(fd);
      continue;
    }
    rc = connect(fd, pSa, nSa);
    if( rc==0 || errno==EINPROGRESS || errno==EINTR ){
      c->pConn = hcConnNew(c->pClient, fd, c->zKey);
      if( c->pConn==0 ){
        close(fd);
        hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
        return;
      }
      c->pConn->pCall = c;
      c->eState = HC_CONNECT;
      if( rc==0 ) hcConnected(c);
      return;
    }
    c->iConnErr = errno;
    close(fd);
  }
  hcFail(c, SSOPROXY_NET, 502, "cannot connect to %s: %s", c->zPeer,
         strerror(c->iConnErr ? c->iConnErr : EHOSTUNREACH));
}

/* The socket became writable (or failed) while connecting. */
static void hcOnConnectReady(SsoClientCall *c){
  int err = 0;
  socklen_t n = sizeof(err);
  if( getsockopt(c->pConn->fd, SOL_SOCKET, SO_ERROR, &err, &n) ) err = errno;
  if( err==0 ){
    hcConnected(c);
    return;
  }
  c->iConnErr = err;
  hcConnClose(c->pConn);
  c->pConn = 0;
  hcConnectNext(c);
}

/* ---- Sending ------------------------------------------------------------------------- */

/* Fields the client writes itself (framing, connection management). */
static int hcReservedField(SsoStr name){
  static const char *const az[] = {
    "host", "content-length", "transfer-encoding", "connection",
    "keep-alive", "te", "trailer", "upgrade", "proxy-connection"
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(name, az[i]) ) return 1;
  }
  return 0;
}

/* Fields that carry credentials: not sent to another origin on redirect. */
static int hcCredentialField(SsoStr name){
  return ssoHttpStrIEq(name, "authorization")
      || ssoHttpStrIEq(name, "cookie")
      || ssoHttpStrIEq(name, "proxy-authorization");
}

/* The request head (RFC 9112 §3): origin-form target, Host first. */
static int hcBuildRequest(SsoClientCall *c){
  SsoBuf *b = &c->out;
  const char *zM = c->req.zMethod;
  int i;
  ssoBufTruncate(b, 0);
  ssoBufAppendStr(b, zM);
  ssoBufAppendChar(b, ' ');
  ssoUrlAppendTarget(b, &c->url);
  ssoBufAppendStr(b, " HTTP/1.1\r\nHost: ");
  ssoUrlAppendHostPort(b, &c->url);
  ssoBufAppendStr(b, "\r\n");
  for(i=0; i<c->req.nHdr; i++){
    const SsoHttpHeader *h = &c->req.aHdr[i];
    if( h->name.n==0 ) continue;      /* dropped on a redirect */
    ssoBufAppend(b, h->name.z, h->name.n);
    ssoBufAppendStr(b, ": ");
    ssoBufAppend(b, h->value.z, h->value.n);
    ssoBufAppendStr(b, "\r\n");
  }
  if( c->req.nBody || strcmp(zM, "POST")==0 || strcmp(zM, "PUT")==0
   || strcmp(zM, "PATCH")==0 ){
    ssoBufAppendStr(b, "Content-Length: ");
    ssoBufAppendUint(b, c->req.nBody);
    ssoBufAppendStr(b, "\r\n");
  }
  if( c->pClient->cfg.nPoolPerOrigin==0 ){
    ssoBufAppendStr(b, "Connection: close\r\n");
  }
  ssoBufAppendStr(b, "\r\n");
  /* A small body goes out with the head in one write: a second write
  ** costs a system call and a TCP segment of its own (with TCP_NODELAY),
  ** far more than the copy. */
  c->bBodyOut = c->req.nBody<=SSO_CLIENT_COALESCE_BODY;
  if( c->bBodyOut && c->req.nBody ){
    ssoBufAppend(b, c->req.pBody, c->req.nBody);
  }
  return b->rc;
}

static void hcSend(SsoClientCall *c){
  HcConn *k = c->pConn;
  size_t nTotal = c->out.n + (c->bBodyOut ? 0 : c->req.nBody);
  c->bWriteWantsRead = 0;
  while( c->iOut<nTotal ){
    const char *z;
    size_t n;
    long r;
    if( c->iOut<c->out.n ){
      z = c->out.z + c->iOut;
      n = c->out.n - c->iOut;
    }else{
      z = (const char*)c->req.pBody + (c->iOut - c->out.n);
      n = nTotal - c->iOut;
    }
    r = k->pIo->xWrite(k->pIoCtx, k->fd, z, n);
    if( r>0 ){
      c->iOut += (size_t)r;
      c->iLastIo = ssoLoopNow(c->pClient->pLoop);
      continue;
    }
    if( r==SSO_IO_WANT_WRITE ) return;
    if( r==SSO_IO_WANT_READ ){
      c->bWriteWantsRead = 1;
      return;
    }
    hcConnLost(c, "while sending the request");
    return;
  }
  c->eState = HC_RECV;
  c->iSent = c->iLastIo = ssoLoopNow(c->pClient->pLoop);
}

/* ---- Receiving ------------------------------------------------------------------------- */

/* Is this answer a redirect we were asked to follow? */
static int hcWantRedirect(SsoClientCall *c){
  int s = c->head.iStatus;
  if( c->req.nMaxRedirect<=0 ) return 0;
  if( s!=301 && s!=302 && s!=303 && s!=307 && s!=308 ) return 0;
  return ssoHttpHeaderFind(&c->head, "location", 0);
}

/* The final head arrived at z[0..n): keep a copy its views point into. */
static void hcOnHead(SsoClientCall *c, const char *z, size_t n){
  const SsoClientConfig *cfg = &c->pClient->cfg;
  SsoHttpLimits lim;
  SsoClientResp r;
  int rc;
  ssoFree(c->zHead);
  c->zHead = ssoStrndup(z, n);
  if( c->zHead==0 ){
    hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
    return;
  }
  lim.mxLine = lim.mxHead = cfg->mxHead;
  c->head.aHdr = c->aHeadHdr;
  c->head.mxHdr = cfg->mxHeader;
  rc = ssoHttpParseResponse(c->zHead, n, 0, &lim, &c->head);
  assert( rc==(int)n );
  if( rc!=(int)n ){
    hcFail(c, SSOPROXY_PARSE, 502, "invalid response from %s", c->zPeer);
    return;
  }
  c->bHeadSeen = 1;
  c->bRedirect = (unsigned char)hcWantRedirect(c);
  if( c->bRedirect || c->req.xHead==0 ) return;
  hcFillResp(c, &r);
  c->req.xHead(c, &r, c->req.pArg);
}

static void hcOnData(SsoClientCall *c, const char *z, size_t n){
  if( c->bRedirect ) return;          /* a redirect's body: dropped */
  if( c->req.xData ){
    c->req.xData(c, z, n, c->req.pArg);
    return;
  }
  ssoBufAppend(&c->body, z, n);
  if( c->body.rc ) hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
}

static void hcFollow(SsoClientCall *c);

/* The response is complete. bEof: it ended with the connection. */
static void hcOnEnd(SsoClientCall *c, int bEof){
  HcConn *k = c->pConn;
  int bKeep = !bEof && c->parse.bKeep && c->iIn==c->nIn
           && c->pClient->cfg.nPoolPerOrigin>0
           && (!k->bTls || ssoTlsPending(k->pIoCtx)==0);
  c->pConn = 0;
  if( bKeep ) hcPoolPut(k);
  else hcConnClose(k);
  if( c->bRedirect ){
    hcFollow(c);
  }else{
    hcFinish(c, SSOPROXY_OK, 0);
  }
}

static void hcParseError(SsoClientCall *c, int e){
  if( e==SSO_CP_ETOOBIG ){
    hcFail(c, SSOPROXY_TOOBIG, 502, "response from %s is larger than %llu "
           "bytes", c->zPeer, c->parse.mxBody);
  }else{
    hcFail(c, SSOPROXY_PARSE, 502, "invalid response from %s: %s", c->zPeer,
           c->parse.zErr);
  }
}

/*
** Parse what is buffered. Returns 1 when the caller must stop (the call
** ended, moved on, or was paused), 0 when more input is needed.
*/
static int hcProcessInput(SsoClientCall *c){
  while( !hcGone(c) && !c->bPaused && c->eState==HC_RECV ){
    size_t nUsed = 0, iData = 0, nData = 0;
    char aNone[1];
    char *a = c->aIn ? c->aIn + c->iIn : aNone;
    int e = ssoClientParserFeed(&c->parse, a, c->nIn - c->iIn, &nUsed, &iData,
                                &nData);
    switch( e ){
      case SSO_CP_MORE:
        c->iIn += nUsed;
        if( c->iIn==c->nIn ) c->iIn = c->nIn = 0;
        return 0;
      case SSO_CP_HEAD:
        hcOnHead(c, a+iData, nData);
        c->iIn += nUsed;
        break;
      case SSO_CP_DATA:
        hcOnData(c, a+iData, nData);
        c->iIn += nUsed;
        break;
      case SSO_CP_END:
        c->iIn += nUsed;
        hcOnEnd(c, 0);
        return 1;
      default:
        hcParseError(c, e);
        return 1;
    }
  }
  return 1;
}

/* Room to read into: the head must fit whole; a body streams through. */
static size_t hcInReserve(SsoClientCall *c){
  const SsoClientConfig *cfg = &c->pClient->cfg;
  size_t nCap = cfg->mxHead + SSO_CLIENT_READ_CHUNK, nNew;
  char *aNew;
  if( c->iIn>0 ){
    memmove(c->aIn, c->aIn+c->iIn, c->nIn-c->iIn);
    c->nIn -= c->iIn;
    c->iIn = 0;
  }
  if( c->nInAlloc - c->nIn >= 4096 || c->nInAlloc>=nCap ){
    return c->nInAlloc - c->nIn;
  }
  nNew = c->nInAlloc ? c->nInAlloc*2 : SSO_CLIENT_READ_CHUNK;
  if( nNew>nCap ) nNew = nCap;
  aNew = ssoRealloc(c->aIn, nNew);
  if( aNew==0 ) return 0;
  c->aIn = aNew;
  c->nInAlloc = nNew;
  return nNew - c->nIn;
}

static void hcOnEof(SsoClientCall *c){
  int e = ssoClientParserEof(&c->parse);
  if( e==SSO_CP_END ){
    hcOnEnd(c, 1);
  }else if( c->nRecv==0 ){
    hcConnLost(c, "before it answered");
  }else{
    hcParseError(c, e);
  }
}

/*
** Read and parse until the socket has nothing more, the consumer pauses
** or the call ends. TLS may hold decrypted bytes the socket no longer
** signals, so reading goes on while the transport has some pending.
*/
static void hcRecv(SsoClientCall *c){
  int i;
  c->bReadWantsWrite = 0;
  for(i=0; i<64; i++){
    HcConn *k;
    size_t nFree;
    long n;
    if( hcProcessInput(c) ) return;
    k = c->pConn;
    nFree = hcInReserve(c);
    if( nFree==0 ){
      if( c->nInAlloc>=c->pClient->cfg.mxHead ){
        hcFail(c, SSOPROXY_TOOBIG, 502, "response head from %s is larger "
               "than %zu bytes", c->zPeer, c->pClient->cfg.mxHead);
      }else{
        hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
      }
      return;
    }
    n = k->pIo->xRead(k->pIoCtx, k->fd, c->aIn+c->nIn, nFree);
    if( n>0 ){
      c->nIn += (size_t)n;
      c->nRecv += (unsigned long long)n;
      c->iLastIo = ssoLoopNow(c->pClient->pLoop);
      if( (size_t)n<nFree && !(k->bTls && ssoTlsPending(k->pIoCtx)) ){
        hcProcessInput(c);
        return;
      }
      continue;
    }
    if( n==0 ){
      hcOnEof(c);
    }else if( n==SSO_IO_WANT_WRITE ){
      c->bReadWantsWrite = 1;
    }else if( n==SSO_IO_ERROR ){
      if( c->nRecv==0 ) hcConnLost(c, "before it answered");
      else hcFail(c, SSOPROXY_NET, 502, "connection to %s lost while "
                  "receiving the response", c->zPeer);
    }
    return;
  }
  /* Still more: let other connections have a turn first. */
  ssoLoopDefer(c->pClient->pLoop, &c->task);
}

/* ---- Redirects ------------------------------------------------------------------------------ */

/* RFC 3986 §5.2.4: remove "." and ".." segments from z[0..n) into b. */
static void hcRemoveDots(SsoBuf *b, const char *z, size_t n){
  size_t iBase = b->n;
  while( n>0 ){
    if( n>=3 && memcmp(z, "../", 3)==0 ){ z += 3; n -= 3; }
    else if( n>=2 && memcmp(z, "./", 2)==0 ){ z += 2; n -= 2; }
    else if( n>=3 && memcmp(z, "/./", 3)==0 ){ z += 2; n -= 2; }
    else if( n==2 && memcmp(z, "/.", 2)==0 ){ z = "/"; n = 1; }
    else if( (n>=4 && memcmp(z, "/../", 4)==0)
          || (n==3 && memcmp(z, "/..", 3)==0) ){
      size_t k = b->n;
      if( n==3 ){ z = "/"; n = 1; }else{ z += 3; n -= 3; }
      while( k>iBase && b->z[k-1]!='/' ) k--;
      if( k>iBase ) k--;
      ssoBufTruncate(b, k);
    }else if( (n==1 && z[0]=='.') || (n==2 && memcmp(z, "..", 2)==0) ){
      n = 0;
    }else{
      size_t k = 1;
      while( k<n && z[k]!='/' ) k++;
      ssoBufAppend(b, z, k);
      z += k;
      n -= k;
    }
  }
}

/*
** Resolve a Location value against the URL it came from (RFC 9110
** §10.2.2, RFC 3986 §5.2) into b. The fragment is left off: it is never
** sent, and ssoUrlParse() checks what remains.
*/
static void hcResolveLocation(SsoBuf *b, const SsoUrl *pBase, SsoStr loc){
  size_t i = 0, nPath;
  const char *zHash = memchr(loc.z, '#', loc.n);
  if( zHash ) loc.n = (size_t)(zHash - loc.z);
  while( i<loc.n && (isalnum((unsigned char)loc.z[i]) || loc.z[i]=='+'
                     || loc.z[i]=='-' || loc.z[i]=='.') ){
    i++;
  }
  if( i>0 && i<loc.n && loc.z[i]==':' ){       /* absolute */
    ssoBufAppend(b, loc.z, loc.n);
    return;
  }
  ssoBufAppend(b, pBase->scheme.z, pBase->scheme.n);
  ssoBufAppendStr(b, ":");
  if( loc.n>=2 && loc.z[0]=='/' && loc.z[1]=='/' ){   /* network-path */
    ssoBufAppend(b, loc.z, loc.n);
    return;
  }
  ssoBufAppendStr(b, "//");
  ssoUrlAppendHostPort(b, pBase);
  if( loc.n>0 && loc.z[0]=='/' ){
    nPath = loc.n;
    for(i=0; i<loc.n; i++) if( loc.z[i]=='?' ){ nPath = i; break; }
    hcRemoveDots(b, loc.z, nPath);
    ssoBufAppend(b, loc.z+nPath, loc.n-nPath);
  }else if( loc.n==0 || loc.z[0]=='?' ){
    ssoBufAppend(b, pBase->path.z, pBase->path.n);
    if( pBase->path.n==0 ) ssoBufAppendStr(b, "/");
    if( loc.n ) ssoBufAppend(b, loc.z, loc.n);
    else if( pBase->bQuery ){
      ssoBufAppendStr(b, "?");
      ssoBufAppend(b, pBase->query.z, pBase->query.n);
    }
  }else{
    /* Relative path: merge with the base's directory (§5.2.3). */
    SsoBuf m;
    const char *zSlash = 0;
    size_t k;
    ssoBufInit(&m, 0);
    for(k=0; k<pBase->path.n; k++){
      if( pBase->path.z[k]=='/' ) zSlash = pBase->path.z + k;
    }
    if( zSlash ) ssoBufAppend(&m, pBase->path.z,
                              (size_t)(zSlash - pBase->path.z) + 1);
    else ssoBufAppendStr(&m, "/");
    nPath = loc.n;
    for(i=0; i<loc.n; i++) if( loc.z[i]=='?' ){ nPath = i; break; }
    ssoBufAppend(&m, loc.z, nPath);
    if( m.rc ) b->rc = m.rc;
    else hcRemoveDots(b, m.z, m.n);
    ssoBufAppend(b, loc.z+nPath, loc.n-nPath);
    ssoBufFree(&m);
  }
}

static int hcSameOrigin(const SsoUrl *a, const SsoUrl *b){
  return a->scheme.n==b->scheme.n && memcmp(a->scheme.z, b->scheme.z,
                                            a->scheme.n)==0
      && a->host.n==b->host.n && memcmp(a->host.z, b->host.z, a->host.n)==0
      && a->iPort==b->iPort;
}

static int hcSetTarget(SsoClientCall *c, const char *z, size_t n);

/* Take the redirect this response asked for (RFC 9110 §15.4). */
static void hcFollow(SsoClientCall *c){
  SsoStr loc = {"", 0};     /* always found: hcWantRedirect checked */
  SsoBuf b;
  SsoUrl old = c->url;
  int s = c->head.iStatus, i, rc;
  if( c->nRedirect>=c->req.nMaxRedirect ){
    hcFail(c, SSOPROXY_NET, 502, "too many redirects (more than %d) from %s",
           c->req.nMaxRedirect, c->zPeer);
    return;
  }
  ssoHttpHeaderFind(&c->head, "location", &loc);
  ssoBufInit(&b, SSO_URL_MAX+1);
  hcResolveLocation(&b, &c->url, loc);
  rc = b.rc ? b.rc : hcSetTarget(c, b.z, b.n);
  ssoBufFree(&b);
  if( rc==SSOPROXY_NOMEM ){
    hcFail(c, rc, 502, "out of memory");
    return;
  }
  if( rc ){
    hcFail(c, SSOPROXY_PARSE, 502, "invalid redirect from %s: %.*s", c->zPeer,
           (int)(loc.n>200 ? 200 : loc.n), loc.z);
    return;
  }
  if( old.scheme.n==5 && c->url.scheme.n==4 ){
    hcFail(c, SSOPROXY_NET, 502, "refusing a redirect from https to http "
           "(%s)", c->zUrl);
    return;
  }
  /* 303, and 301/302 after a POST, turn into a GET without a body. */
  if( (s==303 && strcmp(c->req.zMethod, "HEAD")!=0)
   || ((s==301 || s==302) && strcmp(c->req.zMethod, "POST")==0) ){
    c->req.zMethod = "GET";
    c->req.pBody = 0;
    c->req.nBody = 0;
  }
  if( !hcSameOrigin(&old, &c->url) ){
    for(i=0; i<c->req.nHdr; i++){
      SsoHttpHeader *h = &c->aReqHdr[i];
      if( hcCredentialField(h->name) ) h->name.n = 0;
    }
  }
  c->nRedirect++;
  c->bNoPool = 0;
  c->nRetry = 0;
  hcBegin(c);
}

/* ---- Starting a hop --------------------------------------------------------------- */

/*
** Point the call at z[0..n): parse, check the scheme, set zUrl, zKey and
** zPeer. Returns SSOPROXY_OK, _PARSE (not an http(s) URL, or userinfo),
** _MISUSE (https without TLS) or _NOMEM.
*/
static int hcSetTarget(SsoClientCall *c, const char *z, size_t n){
  SsoUrl u;
  SsoBuf b;
  char *zUrl;
  int rc = ssoUrlParse(&c->arena, z, n, &u, 0);
  if( rc ) return rc;
  if( (u.scheme.n!=4 || memcmp(u.scheme.z, "http", 4))
   && (u.scheme.n!=5 || memcmp(u.scheme.z, "https", 5)) ){
    return SSOPROXY_PARSE;
  }
  if( u.bUserinfo || u.eHost==SSO_URL_HOST_NONE ) return SSOPROXY_PARSE;
  if( u.scheme.n==5 && c->pClient->cfg.pTls==0 ) return SSOPROXY_MISUSE;
  zUrl = ssoArenaStrndup(&c->arena, z, n);
  if( zUrl==0 ) return SSOPROXY_NOMEM;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, u.scheme.z, u.scheme.n);
  ssoBufAppendStr(&b, "://");
  if( u.eHost==SSO_URL_HOST_IPV6 ) ssoBufAppendChar(&b, '[');
  ssoBufAppend(&b, u.host.z, u.host.n);
  if( u.eHost==SSO_URL_HOST_IPV6 ) ssoBufAppendChar(&b, ']');
  ssoBufAppendChar(&b, ':');
  ssoBufAppendUint(&b, (unsigned)u.iPort);
  if( b.rc==0 ) c->zKey = ssoArenaStrndup(&c->arena, b.z, b.n);
  rc = b.rc ? b.rc : c->zKey ? SSOPROXY_OK : SSOPROXY_NOMEM;
  if( rc==SSOPROXY_OK ){
    snprintf(c->zPeer, sizeof(c->zPeer), "%s", c->zKey + u.scheme.n + 3);
    c->url = u;
    c->zUrl = zUrl;
  }
  ssoBufFree(&b);
  return rc;
}

/* Begin a hop (the first, a redirect, or a retry) from HC_START. */
static void hcBegin(SsoClientCall *c){
  SsoClient *p = c->pClient;
  const SsoClientConfig *cfg = &p->cfg;
  c->iStart = c->iLastIo = ssoLoopNow(p->pLoop);
  c->iIn = c->nIn = 0;
  c->iOut = 0;
  c->nRecv = 0;
  c->bReused = c->bHeadSeen = c->bRedirect = 0;
  c->bWriteWantsRead = c->bReadWantsWrite = 0;
  c->nAddr = c->iAddr = c->iConnErr = 0;
  ssoBufTruncate(&c->body, 0);
  ssoClientParserInit(&c->parse, c->aHdr, cfg->mxHeader, cfg->mxHead,
                      c->req.mxResponse, strcmp(c->req.zMethod, "HEAD")==0);
  if( hcBuildRequest(c) ){
    hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
    return;
  }
  c->pConn = c->bNoPool ? 0 : hcPoolTake(p, c->zKey);
  if( c->pConn ){
    c->pConn->pCall = c;
    c->bReused = 1;
    c->eState = HC_SEND;
    hcSend(c);
    return;
  }
  if( c->url.eHost==SSO_URL_HOST_IPV4 || c->url.eHost==SSO_URL_HOST_IPV6 ){
    hcLiteralAddr(c);
    hcConnectNext(c);
    return;
  }
  hcResolveStart(c);
}

/* ---- Loop callbacks ------------------------------------------------------------------ */

static void hcInterest(SsoClientCall *c){
  int e = 0;
  if( c->pConn==0 ) return;
  switch( c->eState ){
    case HC_CONNECT:   e = SSO_LOOP_WRITE; break;
    case HC_HANDSHAKE: e = c->eWant; break;
    case HC_SEND:
      e = c->bWriteWantsRead ? SSO_LOOP_READ : SSO_LOOP_WRITE;
      break;
    case HC_RECV:
      if( !c->bPaused ){
        e = c->bReadWantsWrite ? SSO_LOOP_WRITE : SSO_LOOP_READ;
      }
      break;
  }
  if( ssoLoopMod(c->pClient->pLoop, c->pConn->fd, e) ){
    hcFail(c, SSOPROXY_NOMEM, 502, "cannot watch the connection to %s",
           c->zPeer);
  }
}

/* The one deadline of the call's current state. */
static long long hcDeadline(const SsoClientCall *c){
  switch( c->eState ){
    case HC_RESOLVE:
    case HC_CONNECT:
    case HC_HANDSHAKE:
      return c->iStart + c->msConnect;
    case HC_SEND:
      return c->iLastIo + c->msIdle;
    case HC_RECV:
      if( c->nRecv==0 ) return c->iSent + c->msFirstByte;
      if( c->bPaused ) return LLONG_MAX;
      return c->iLastIo + c->msIdle;
  }
  return LLONG_MAX;
}

/* The common end of every callback: free, or wait for what comes next. */
static void hcAfter(SsoClientCall *c){
  long long t;
  if( c->bBusy ) return;
  if( !hcGone(c) ) hcInterest(c);
  if( hcGone(c) ){
    hcCallFree(c);
    return;
  }
  t = hcDeadline(c);
  if( t==LLONG_MAX ){
    ssoLoopTimerStop(c->pClient->pLoop, &c->timer);
  }else if( ssoLoopTimerAt(c->pClient->pLoop, &c->timer, t) ){
    hcFail(c, SSOPROXY_NOMEM, 502, "out of memory");
    hcCallFree(c);
  }
}

static void hcStep(SsoClientCall *c, int eEvents){
  SSO_UNUSED(eEvents);
  switch( c->eState ){
    case HC_CONNECT:   hcOnConnectReady(c); break;
    case HC_HANDSHAKE: hcHandshake(c); break;
    case HC_SEND:      hcSend(c); break;
    case HC_RECV:      hcRecv(c); break;
  }
}

static void hcOnConnIo(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  HcConn *k = pArg;
  SsoClientCall *c = k->pCall;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(fd);
  if( c==0 ){
    hcConnClose(k);       /* pooled: the remote closed it, or misbehaved */
    return;
  }
  c->bBusy++;
  hcStep(c, eEvents);
  c->bBusy--;
  hcAfter(c);
}

static void hcOnTask(SsoLoop *pLoop, SsoLoopTask *t, void *pArg){
  SsoClientCall *c = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  c->bBusy++;
  if( c->eState==HC_START ) hcBegin(c);
  else if( c->eState==HC_RECV && !c->bPaused ) hcRecv(c);
  c->bBusy--;
  hcAfter(c);
}

static void hcOnTimer(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SsoClientCall *c = pArg;
  long long now = ssoLoopNow(pLoop);
  SSO_UNUSED(t);
  c->bBusy++;
  if( now>=hcDeadline(c) ){
    switch( c->eState ){
      case HC_RESOLVE:
      case HC_CONNECT:
      case HC_HANDSHAKE:
        hcFail(c, SSOPROXY_NET, 504, "timed out connecting to %s (%d ms)",
               c->zPeer, c->msConnect);
        break;
      case HC_SEND:
        hcFail(c, SSOPROXY_NET, 504, "timed out sending the request to %s "
               "(%d ms)", c->zPeer, c->msIdle);
        break;
      default:
        if( c->nRecv==0 ){
          hcFail(c, SSOPROXY_NET, 504, "no response from %s within %d ms",
                 c->zPeer, c->msFirstByte);
        }else{
          hcFail(c, SSOPROXY_NET, 504, "%s stopped sending for %d ms",
                 c->zPeer, c->msIdle);
        }
        break;
    }
  }
  c->bBusy--;
  hcAfter(c);
}

/* ---- The API -------------------------------------------------------------------------- */

/* Copy the caller's request into the call's arena, checking it. */
static int hcCopyRequest(SsoClientCall *c, const SsoClientReq *pReq){
  const SsoClientConfig *cfg = &c->pClient->cfg;
  const char *zM = pReq->zMethod ? pReq->zMethod : "GET";
  SsoHttpHeader *aHdr = 0;
  int i;
  c->req = *pReq;
  if( !ssoHttpIsToken(zM, strlen(zM)) ) return SSOPROXY_PARSE;
  c->req.zMethod = ssoArenaStrndup(&c->arena, zM, strlen(zM));
  if( c->req.zMethod==0 ) return SSOPROXY_NOMEM;
  if( pReq->nHdr>0 ){
    aHdr = ssoArenaAlloc(&c->arena, sizeof(SsoHttpHeader)*(size_t)pReq->nHdr);
    if( aHdr==0 ) return SSOPROXY_NOMEM;
  }
  for(i=0; i<pReq->nHdr; i++){
    const SsoHttpHeader *h = &pReq->aHdr[i];
    size_t k;
    if( !ssoHttpIsToken(h->name.z, h->name.n) ) return SSOPROXY_PARSE;
    if( hcReservedField(h->name) ) return SSOPROXY_MISUSE;
    for(k=0; k<h->value.n; k++){
      unsigned char ch = (unsigned char)h->value.z[k];
      if( (ch<0x20 && ch!='\t') || ch==0x7f ) return SSOPROXY_PARSE;
    }
    aHdr[i].name.z = ssoArenaStrndup(&c->arena, h->name.z, h->name.n);
    aHdr[i].value.z = ssoArenaStrndup(&c->arena, h->value.z, h->value.n);
    if( aHdr[i].name.z==0 || aHdr[i].value.z==0 ) return SSOPROXY_NOMEM;
    aHdr[i].name.n = h->name.n;
    aHdr[i].value.n = h->value.n;
  }
  c->req.aHdr = c->aReqHdr = aHdr;
  c->req.zUrl = 0;          /* the copy is zUrl, set by hcSetTarget() */
  c->msConnect = pReq->msConnect>0 ? pReq->msConnect : cfg->msConnect;
  c->msFirstByte = pReq->msFirstByte>0 ? pReq->msFirstByte : cfg->msFirstByte;
  c->msIdle = pReq->msIdle>0 ? pReq->msIdle : cfg->msIdle;
  if( c->req.mxResponse==0 ) c->req.mxResponse = cfg->mxResponse;
  c->aHdr = ssoMalloc(sizeof(SsoHttpHeader)*(size_t)cfg->mxHeader*2);
  if( c->aHdr==0 ) return SSOPROXY_NOMEM;
  c->aHeadHdr = c->aHdr + cfg->mxHeader;
  return SSOPROXY_OK;
}

static int ssoClientRequest(SsoClient *p, const SsoClientReq *pReq,
                                 SsoClientCall **ppCall){
  SsoClientCall *c;
  int rc;
  if( ppCall ) *ppCall = 0;
  if( pReq->xDone==0 || pReq->zUrl==0 || pReq->nHdr<0
   || (pReq->nBody && pReq->pBody==0) ){
    return SSOPROXY_MISUSE;
  }
  c = ssoMallocZero(sizeof(SsoClientCall));
  if( c==0 ) return SSOPROXY_NOMEM;
  c->pClient = p;
  ssoArenaInit(&c->arena, 0);
  ssoBufInit(&c->out, 0);
  ssoBufInit(&c->body, 0);
  ssoLoopTimerInit(&c->timer, hcOnTimer, c);
  ssoLoopTaskInit(&c->task, hcOnTask, c);
  rc = hcCopyRequest(c, pReq);
  if( rc==SSOPROXY_OK ) rc = hcSetTarget(c, pReq->zUrl, strlen(pReq->zUrl));
  if( rc ){
    hcCallFree(c);      /* not linked yet: unlinking below is a no-op */
    return rc;
  }
  c->pNext = p->pCall;
  if( p->pCall ) p->pCall->pPrev = c;
  p->pCall = c;
  c->eState = HC_START;
  ssoLoopDefer(p->pLoop, &c->task);
  if( ppCall ) *ppCall = c;
  return SSOPROXY_OK;
}

static void ssoClientCancel(SsoClientCall *c){
  if( c==0 || c->bDone || c->bCancel ) return;
  c->bCancel = 1;
  if( c->pConn ){
    /* Close now, even inside a callback: the remote must see it. The
    ** code up the stack checks hcGone() before touching the call. */
    hcConnClose(c->pConn);
    c->pConn = 0;
  }
  if( !c->bBusy ) hcCallFree(c);
}

static void ssoClientPause(SsoClientCall *c, int bPause){
  if( c==0 || hcGone(c) ) return;
  c->bPaused = (unsigned char)(bPause!=0);
  if( !c->bPaused ){
    /* Bytes may be buffered here or inside TLS: look at them soon. */
    ssoLoopDefer(c->pClient->pLoop, &c->task);
  }
  if( !c->bBusy ) hcAfter(c);
}

static void ssoClientFree(SsoClient *p){
  if( p==0 ) return;
  while( p->pCall ){
    SsoClientCall *c = p->pCall;
    c->bCancel = 1;
    hcCallFree(c);
  }
  while( p->pIdle ) hcConnClose(p->pIdle);
  hcResolverClose(p);
  ssoFree(p);
}
/************** End of client.c **************/
/************** Begin file server.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: the HTTP/1.1 server. Listening sockets, one worker per thread
** (each with its own event loop and its own SO_REUSEPORT socket, so the
** kernel spreads connections and no lock is taken per request), and per
** connection a small state machine with its own input and output
** buffers. A connection holds those only while it has a request or an
** answer in hand: waiting for the next request, it gives them back to
** its worker's spares, so an idle keep-alive connection costs its Conn
** (about 3 KiB) and a busy worker cycles a few warm buffers.
**
** A connection is in one eState at a time:
**
**   HEAD     waiting for (the rest of) a request head
**   BODY     the head is parsed; waiting for the body, if any
**   HANDLE   the handler has the request; its answer is not complete
**   CLOSING  the last answer is queued; flush it, then shut down
**   LINGER   output shut down; read and drop input until EOF (so the
**            kernel does not reset the connection under our answer)
**
** Output is a queue independent of the state: answers are appended and
** written as the socket allows. Pipelined requests are answered in order
** because a connection parses its next request only once the current
** answer is complete, and stops parsing (and reading) while more than
** nWriteHigh bytes wait for a slow reader: memory per connection stays
** bounded by the head limit, the body limit and that mark.
**
** A client that leaves while its answer is being made (an async handler
** waiting on an upstream, a stream) must not keep that work going: in
** HANDLE the connection reads nothing (pipelined requests wait unread
** in the kernel) but watches for the peer's FIN or reset, and closes at
** once, which tells the handler through xAbort and logs 499. It watches
** with the readable interest it already has, so the poller is not asked
** to change twice per request: when that fires, a one-byte peek tells a
** FIN or reset (leave) from a pipelined request (then SSO_LOOP_HUP alone
** is watched until the answer is done, so the input waits quietly). A half-close (shutdown(SHUT_WR)) after a complete request counts
** as leaving too: on the wire it is the same FIN as a close, and RFC 9112
** §9.6 lets a server close then; nginx answers it the same way (499).
** Only async answers are affected: a synchronous one is complete before
** the connection looks at the socket again, and is still sent.
**
** Re-entrancy rule: a connection is freed only from the loop's own
** callbacks (its I/O event, its timer, its deferred task, the shutdown
** deadline), never inside a response call a handler makes. A response
** call made outside those callbacks (an async handler finishing from a
** timer) queues the connection's task instead.
*/
/* #include "ssoInt.h" */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
# define MSG_NOSIGNAL 0
#endif

#define OUT_INIT   4096   /* First size of a connection's output queue */
#define SPARE_MAX  32     /* Idle connections' buffers a worker keeps */

typedef struct Route Route;
typedef struct Worker Worker;
typedef struct Conn Conn;

struct Route {
  char *zMethod;        /* NULL: any method */
  char *zPath;          /* Exact path, or a prefix without its '*' */
  size_t nPath;
  int bPrefix;
  SsoServerHandler xHandler;
  void *pArg;
};

enum { CONN_HEAD, CONN_BODY, CONN_HANDLE, CONN_CLOSING, CONN_LINGER };
enum { RESP_NONE, RESP_HEAD, RESP_STREAM, RESP_DONE };

struct Conn {
  SsoServerReq req;     /* First: a handler's SsoServerReq* is the Conn* */
  Worker *pWorker;
  Conn *pNext, *pPrev;  /* The worker's connections */
  int fd;
  int eState;           /* CONN_* */
  int eResp;            /* RESP_*: how far the current answer got */
  const SsoIoMethods *pIo;  /* Plain sockets now; TLS later */
  void *pIoCtx;
  SsoLoopTimer timer;   /* The one deadline this connection has */
  SsoLoopTask task;     /* Work queued by async response calls */

  /* Input: aIn[iReq..nIn) is the current request and what follows it */
  char *aIn;
  size_t nIn, nInAlloc;
  size_t iReq;          /* Start of the current request */
  size_t nScan;         /* Head bytes the parser has already scanned */
  size_t iBody;         /* Start of the body (end of the head) */
  size_t iBodyRaw;      /* Chunked: raw input consumed up to here */
  size_t nBodyOut;      /* Body bytes ready at aIn[iBody..] */
  size_t iReqEnd;       /* End of the request once its body is complete */
  SsoHttpHead head;
  SsoHttpChunked chunk;
  const Route *pRoute;  /* Handler, or NULL with iRouteStatus set */
  int iRouteStatus;     /* 404, 405, 204 (automatic OPTIONS), 400 */
  char zAllow[96];      /* Allow header for 405 and OPTIONS */

  /* Output: aOut[iOut..nOutReady) may be written; [nOutReady..nOut) is a
  ** response head still being built and must not go out yet. */
  char *aOut;
  size_t nOut, nOutReady, iOut, nOutAlloc;
  size_t iRespStart;    /* Where the answer being built starts */
  unsigned long long nRespBytes;  /* Bytes of the current answer */
  int iStatus;          /* Status of the current answer */

  /* Times, monotonic ms */
  long long iReqStart;  /* First byte of the current request arrived */
  long long iIdleSince; /* Last answer completed / accepted */
  long long iReadAt;    /* Last input */
  long long iWriteAt;   /* Last output progress */
  long long iLingerEnd;

  SsoServerEventFn xAbort, xDrain;
  void *pAsyncArg;

  unsigned char bBusy;      /* Inside one of our callbacks */
  unsigned char bDead;      /* Close at the next opportunity */
  unsigned char bPeerEof;   /* The peer shut down its side */
  unsigned char bAsync;     /* The handler will answer later */
  unsigned char bPaused;    /* A stream was told to wait for xDrain */
  unsigned char bKeep;      /* Keep the connection after this answer */
  unsigned char bHeadReq;   /* HEAD: answer without a body */
  unsigned char bRespDone;  /* The answer is completely queued */
  unsigned char bChunkOut;  /* The answer body is chunked */
  unsigned char bBodyless;  /* 1xx/204/304: no body whatever the method */
  unsigned char bMoved;     /* aIn moved since the head was parsed */
  unsigned char bFirst;     /* No request answered yet */
  unsigned char bOom;       /* Out of memory building output */
  unsigned char bParsed;    /* req.method/path are valid */
  unsigned char bWriteWantsRead;  /* Transport: output waits for input */
  unsigned char bReadWantsWrite;  /* Transport: input waits for output */
  unsigned char bHoldIn;    /* HANDLE: input is waiting; watch HUP only */
  char zClient[64];
  char zId[20];
  SsoHttpHeader aHdr[];     /* mxHeader entries for the parser */
};

struct Worker {
  SsoServer *pSrv;
  int iWorker;
  SsoLoop *pLoop;
  int fdListen;         /* -1 once closed */
  int bOwnListen;       /* This worker closes fdListen */
  int bListening;       /* fdListen is in the loop */
  pthread_t tid;
  int bThread;          /* tid is a started thread */
  Conn *pConn;          /* Open connections */
  int nConn;
  void *pCtx;           /* From xWorkerInit */
  int bInit;            /* xWorkerInit succeeded */
  int bStopping;        /* Graceful stop under way */
  SsoLoopTimer stopTimer;   /* Shutdown deadline */
  SsoLoopTimer acceptTimer; /* Accept again after EMFILE */
  time_t iDateSec;      /* Second zDate was made for */
  char zDate[32];       /* IMF-fixdate (RFC 9110 §5.6.7) */
  unsigned nReq;        /* Requests seen, for request ids */
  /* Buffers of first size given up by idle connections, for the next
  ** connection that reads or answers: SSO_SERVER_READ_INIT and OUT_INIT
  ** bytes from ssoMalloc. */
  char *apSpareIn[SPARE_MAX], *apSpareOut[SPARE_MAX];
  int nSpareIn, nSpareOut;
  int rc;               /* Result of this worker's run */
};

struct SsoServer {
  SsoServerConfig cfg;  /* Copy; cfg.zListen points at zListen */
  char *zListen;
  SsoHttpLimits lim;
  Route *aRoute;
  int nRoute;
  Worker *aWorker;
  int nWorker;
  int bShared;          /* All workers share aWorker[0].fdListen */
  int bRan;             /* ssoServerRun() was called */
  unsigned iIdBase;     /* Request ids: per-process prefix */
  atomic_int nConn;     /* Open connections, all workers */
  atomic_int bStop;     /* ssoServerStop() was called */
  char zAddr[80];
  char zErr[256];
};

/* ---- Configuration and errors ------------------------------------------ */

static void ssoServerConfigInit(SsoServerConfig *p){
  memset(p, 0, sizeof(*p));
  p->zListen = SSO_SERVER_LISTEN;
  p->nWorker = 0;
  p->mxConn = SSO_SERVER_MAX_CONN;
  p->mxLine = SSO_HTTP_MAX_LINE;
  p->mxHead = SSO_HTTP_MAX_HEAD;
  p->mxHeader = SSO_HTTP_MAX_HEADERS;
  p->mxBody = SSO_HTTP_MAX_BODY;
  p->msHeader = SSO_SERVER_HEADER_MS;
  p->msBody = SSO_SERVER_BODY_MS;
  p->msKeepAlive = SSO_SERVER_KEEPALIVE_MS;
  p->msWrite = SSO_SERVER_WRITE_MS;
  p->msShutdown = SSO_SERVER_SHUTDOWN_MS;
  p->nWriteHigh = SSO_SERVER_WRITE_HIGH;
  p->bAccessLog = 1;
}

#define setErr(p, rc, ...) \
  ssoErrorf((p)->zErr, sizeof((p)->zErr), rc, __VA_ARGS__)

static const char *ssoServerErrmsg(const SsoServer *p){
  return p ? p->zErr : "out of memory";
}
static const char *ssoServerAddress(const SsoServer *p){
  return p->zAddr;
}
static int ssoServerWorkerCount(const SsoServer *p){
  return p->nWorker;
}

/* Every value must be usable; a zero timeout or limit is a typo. */
static int checkConfig(SsoServer *p, const SsoServerConfig *c){
  if( c->nWorker<0 || c->nWorker>SSO_SERVER_MAX_WORKERS ){
    return setErr(p, SSOPROXY_CONFIG, "workers must be 0..%d",
                  SSO_SERVER_MAX_WORKERS);
  }
  if( c->mxConn<1 || c->mxHeader<1 || c->mxHeader>100000
   || c->mxLine<16 || c->mxHead<c->mxLine || c->mxHead>(64u<<20)
   || c->mxBody>SSO_MAX_ALLOC/2 || c->nWriteHigh<1024
   || c->nWriteHigh>SSO_MAX_ALLOC/2 ){
    return setErr(p, SSOPROXY_CONFIG, "a server size limit is out of range");
  }
  if( c->msHeader<1 || c->msBody<1 || c->msKeepAlive<1 || c->msWrite<1
   || c->msShutdown<0 ){
    return setErr(p, SSOPROXY_CONFIG, "a server timeout is out of range");
  }
  return SSOPROXY_OK;
}

/* ---- Listening sockets ------------------------------------------------- */

static int openListener(SsoServer *p, const struct sockaddr *pAddr,
                        socklen_t nAddr, int bReusePort, int *pFd){
  int fd = socket(pAddr->sa_family, SOCK_STREAM, 0), one = 1;
  *pFd = -1;
  if( fd<0 ){
    return setErr(p, SSOPROXY_NET, "socket: %s", strerror(errno));
  }
  if( ssoLoopSetNonBlock(fd) ) goto fail;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#ifdef SO_REUSEPORT
  if( bReusePort
   && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ){
    goto fail;
  }
#else
  if( bReusePort ){
    errno = ENOPROTOOPT;
    goto fail;
  }
#endif
  if( bind(fd, pAddr, nAddr) || listen(fd, SOMAXCONN) ) goto fail;
  *pFd = fd;
  return SSOPROXY_OK;
fail:
  setErr(p, SSOPROXY_NET, "cannot listen on %s: %s", p->cfg.zListen,
         strerror(errno));
  close(fd);
  return SSOPROXY_NET;
}

/* The port a bound socket actually got, written into *pAddr. */
static void learnPort(int fd, struct sockaddr_storage *pAddr){
  struct sockaddr_storage sa;
  socklen_t n = sizeof(sa);
  if( getsockname(fd, (struct sockaddr*)&sa, &n) ) return;
  if( sa.ss_family==AF_INET && pAddr->ss_family==AF_INET ){
    ((struct sockaddr_in*)pAddr)->sin_port = ((struct sockaddr_in*)&sa)->sin_port;
  }else if( sa.ss_family==AF_INET6 && pAddr->ss_family==AF_INET6 ){
    ((struct sockaddr_in6*)pAddr)->sin6_port =
        ((struct sockaddr_in6*)&sa)->sin6_port;
  }
}

/*
** Resolve cfg.zListen and bind one socket per worker. With port 0 the
** first bind picks the port and the others reuse it. When SO_REUSEPORT
** is missing (or refused) every worker shares the first socket: the
** kernel wakes them all per connection, and the losers see EAGAIN.
*/
static int bindAll(SsoServer *p){
  char zHost[256], zPort[8];
  int iPort = 0, rc, i;
  struct addrinfo hints, *pRes = 0;
  struct sockaddr_storage sa;
  socklen_t nSa;
  if( ssoLoopParseHostPort(p->cfg.zListen, zHost, sizeof(zHost), &iPort) ){
    return setErr(p, SSOPROXY_CONFIG,
                  "listen address \"%s\" is not host:port", p->cfg.zListen);
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE|AI_NUMERICSERV;
  snprintf(zPort, sizeof(zPort), "%d", iPort);
  rc = getaddrinfo(zHost[0] ? zHost : "0.0.0.0", zPort, &hints, &pRes);
  if( rc || pRes==0 ){
    return setErr(p, SSOPROXY_CONFIG, "cannot resolve \"%s\": %s", zHost,
                  gai_strerror(rc));
  }
  memset(&sa, 0, sizeof(sa));
  memcpy(&sa, pRes->ai_addr, pRes->ai_addrlen);
  nSa = pRes->ai_addrlen;
  freeaddrinfo(pRes);

  /* SO_REUSEPORT would let us join a group another process already
  ** listens in, and share its traffic: a stale instance must make the
  ** new one fail instead. A plain bind of the same address finds out. */
  if( iPort!=0 && p->nWorker>1 ){
    int fdProbe = -1;
    rc = openListener(p, (struct sockaddr*)&sa, nSa, 0, &fdProbe);
    if( rc ) return rc;
    close(fdProbe);
  }
  p->bShared = p->nWorker==1;
  rc = openListener(p, (struct sockaddr*)&sa, nSa, !p->bShared,
                    &p->aWorker[0].fdListen);
  if( rc && !p->bShared ){
    p->bShared = 1;
    rc = openListener(p, (struct sockaddr*)&sa, nSa, 0,
                      &p->aWorker[0].fdListen);
  }
  if( rc ) return rc;
  p->aWorker[0].bOwnListen = 1;
  learnPort(p->aWorker[0].fdListen, &sa);
  ssoLoopAddrString(&sa, p->zAddr, sizeof(p->zAddr));
  for(i=1; i<p->nWorker; i++){
    Worker *w = &p->aWorker[i];
    if( p->bShared ){
      w->fdListen = p->aWorker[0].fdListen;
      continue;
    }
    rc = openListener(p, (struct sockaddr*)&sa, nSa, 1, &w->fdListen);
    if( rc ) return rc;
    w->bOwnListen = 1;
  }
  p->zErr[0] = 0;
  return SSOPROXY_OK;
}

/* ---- Life cycle ------------------------------------------------------------ */

static int ssoServerNew(const SsoServerConfig *pCfg, SsoServer **ppSrv){
  SsoServer *p = ssoMallocZero(sizeof(SsoServer));
  int rc, i;
  *ppSrv = p;
  if( p==0 ) return SSOPROXY_NOMEM;
  p->cfg = *pCfg;
  p->cfg.zListen = 0;
  p->zListen = ssoStrdup(pCfg->zListen ? pCfg->zListen : SSO_SERVER_LISTEN);
  if( p->zListen==0 ){
    rc = setErr(p, SSOPROXY_NOMEM, "out of memory");
    goto end;
  }
  p->cfg.zListen = p->zListen;
  atomic_init(&p->nConn, 0);
  atomic_init(&p->bStop, 0);
  rc = checkConfig(p, &p->cfg);
  if( rc ) goto end;
  p->lim.mxLine = p->cfg.mxLine;
  p->lim.mxHead = p->cfg.mxHead;
  p->nWorker = p->cfg.nWorker ? p->cfg.nWorker : ssoOsCpuCount();
  if( p->nWorker>SSO_SERVER_MAX_WORKERS ) p->nWorker = SSO_SERVER_MAX_WORKERS;
  p->iIdBase = (unsigned)ssoOsNowMs() * 2654435761u ^ (unsigned)getpid();
  p->aWorker = ssoMallocZero(sizeof(Worker)*(size_t)p->nWorker);
  if( p->aWorker==0 ){
    p->nWorker = 0;
    rc = setErr(p, SSOPROXY_NOMEM, "out of memory");
    goto end;
  }
  for(i=0; i<p->nWorker; i++){
    Worker *w = &p->aWorker[i];
    w->pSrv = p;
    w->iWorker = i;
    w->fdListen = -1;
  }
  for(i=0; i<p->nWorker; i++){
    rc = ssoLoopNew(&p->aWorker[i].pLoop);
    if( rc ){
      setErr(p, rc, "cannot create an event loop: %s",
             rc==SSOPROXY_NOMEM ? "out of memory" : strerror(errno));
      goto end;
    }
  }
  rc = bindAll(p);
end:
  return rc;
}

static void ssoServerFree(SsoServer *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<p->nWorker; i++){
    Worker *w = &p->aWorker[i];
    if( w->fdListen>=0 && w->bOwnListen ) close(w->fdListen);
    ssoLoopFree(w->pLoop);
  }
  for(i=0; i<p->nRoute; i++){
    ssoFree(p->aRoute[i].zMethod);
    ssoFree(p->aRoute[i].zPath);
  }
  ssoFree(p->aRoute);
  ssoFree(p->aWorker);
  ssoFree(p->zListen);
  ssoFree(p);
}

/* ---- Routes -------------------------------------------------------------- */

static int sameRouteKey(const Route *a, const Route *b){
  return a->bPrefix==b->bPrefix && a->nPath==b->nPath
      && memcmp(a->zPath, b->zPath, a->nPath)==0;
}

static int ssoServerRoute(SsoServer *p, const char *zMethod,
                               const char *zPath, SsoServerHandler xHandler,
                               void *pArg){
  Route r, *aNew;
  size_t n;
  int i;
  if( p->bRan || zPath==0 || zPath[0]!='/' || xHandler==0 ){
    return SSOPROXY_MISUSE;
  }
  if( zMethod && strcmp(zMethod, "*")==0 ) zMethod = 0;
  if( zMethod && !ssoHttpIsToken(zMethod, strlen(zMethod)) ){
    return SSOPROXY_MISUSE;
  }
  memset(&r, 0, sizeof(r));
  n = strlen(zPath);
  r.bPrefix = zPath[n-1]=='*';
  r.nPath = n - (size_t)r.bPrefix;
  r.xHandler = xHandler;
  r.pArg = pArg;
  for(i=0; i<p->nRoute; i++){
    const Route *q = &p->aRoute[i];
    if( q->bPrefix==r.bPrefix && q->nPath==r.nPath
     && memcmp(q->zPath, zPath, r.nPath)==0
     && (q->zMethod==0 || zMethod==0 || strcmp(q->zMethod, zMethod)==0) ){
      return SSOPROXY_CONSTRAINT;
    }
  }
  r.zPath = ssoStrndup(zPath, r.nPath);
  r.zMethod = zMethod ? ssoStrdup(zMethod) : 0;
  aNew = ssoRealloc(p->aRoute, sizeof(Route)*(size_t)(p->nRoute+1));
  if( r.zPath==0 || (zMethod && r.zMethod==0) || aNew==0 ){
    ssoFree(r.zPath);
    ssoFree(r.zMethod);
    if( aNew ) p->aRoute = aNew;
    return SSOPROXY_NOMEM;
  }
  p->aRoute = aNew;
  p->aRoute[p->nRoute++] = r;
  return SSOPROXY_OK;
}

/* The route whose path fits best: exact first, then the longest prefix. */
static const Route *routeKey(const SsoServer *p, SsoStr path){
  const Route *pBest = 0;
  int i;
  for(i=0; i<p->nRoute; i++){
    const Route *r = &p->aRoute[i];
    if( !r->bPrefix && r->nPath==path.n
     && memcmp(r->zPath, path.z, path.n)==0 ){
      return r;
    }
  }
  for(i=0; i<p->nRoute; i++){
    const Route *r = &p->aRoute[i];
    if( r->bPrefix && path.n>=r->nPath
     && memcmp(r->zPath, path.z, r->nPath)==0
     && (pBest==0 || r->nPath>pBest->nPath) ){
      pBest = r;
    }
  }
  return pBest;
}

static int methodIs(SsoStr m, const char *z){
  return m.n==strlen(z) && memcmp(m.z, z, m.n)==0;
}

/* Append zMethod to the Allow list unless it is there already. */
static void allowAdd(char *zAllow, size_t nAllow, const char *zMethod){
  size_t n = strlen(zAllow), m = strlen(zMethod);
  const char *z = zAllow;
  while( (z = strstr(z, zMethod))!=0 ){
    if( (z==zAllow || z[-1]==' ') && (z[m]==0 || z[m]==',') ) return;
    z += m;
  }
  if( n+m+3>=nAllow ) return;
  snprintf(zAllow+n, nAllow-n, "%s%s", n ? ", " : "", zMethod);
}

/* Choose the handler for c's request, or the status to answer with. */
static void resolveRoute(Conn *c){
  const SsoServer *p = c->pWorker->pSrv;
  const Route *pKey = routeKey(p, c->req.path), *pGet = 0;
  SsoStr m = c->req.method;
  int i;
  c->pRoute = 0;
  c->iRouteStatus = 0;
  c->zAllow[0] = 0;
  if( pKey==0 ){
    c->iRouteStatus = 404;
    return;
  }
  for(i=0; i<p->nRoute; i++){
    const Route *r = &p->aRoute[i];
    if( !sameRouteKey(r, pKey) ) continue;
    if( r->zMethod==0 || methodIs(m, r->zMethod) ){
      c->pRoute = r;
      return;
    }
    if( strcmp(r->zMethod, "GET")==0 ) pGet = r;
    allowAdd(c->zAllow, sizeof(c->zAllow), r->zMethod);
    if( strcmp(r->zMethod, "GET")==0 ){
      allowAdd(c->zAllow, sizeof(c->zAllow), "HEAD");
    }
  }
  if( pGet && methodIs(m, "HEAD") ){
    c->pRoute = pGet;
    return;
  }
  allowAdd(c->zAllow, sizeof(c->zAllow), "OPTIONS");
  c->iRouteStatus = methodIs(m, "OPTIONS") ? 204 : 405;
}

/*
** Split the target into path and query. Origin-form is the norm;
** absolute-form must be accepted too (RFC 9112 §3.2.2). Dot segments are
** refused rather than resolved: a path that means something else after
** normalisation is how "/v1/../key/generate" slips past a prefix check.
** Returns 0 or 400.
*/
static int splitTarget(Conn *c){
  SsoStr t = c->head.target;
  const char *zQ;
  size_t i;
  size_t nScheme = 0;
  if( t.n>7 && ssoHttpStrIEq((SsoStr){t.z, 7}, "http://") ) nScheme = 7;
  if( t.n>8 && ssoHttpStrIEq((SsoStr){t.z, 8}, "https://") ) nScheme = 8;
  if( nScheme ){
    const char *zSlash = memchr(t.z+nScheme, '/', t.n-nScheme);
    const char *zQuery = memchr(t.z+nScheme, '?', t.n-nScheme);
    if( zSlash==0 || (zQuery && zQuery<zSlash) ){
      return 400;     /* "http://host" or "http://host?x": no path to route */
    }
    t.n -= (size_t)(zSlash - t.z);
    t.z = zSlash;
  }
  if( t.n==0 || t.z[0]!='/' ) return 400;
  zQ = memchr(t.z, '?', t.n);
  c->req.path.z = t.z;
  c->req.path.n = zQ ? (size_t)(zQ - t.z) : t.n;
  c->req.query.z = zQ ? zQ+1 : t.z + t.n;
  c->req.query.n = zQ ? t.n - c->req.path.n - 1 : 0;
  for(i=0; i<c->req.path.n; i++){
    const char *z = c->req.path.z + i;
    size_t nLeft = c->req.path.n - i;
    if( z[0]!='/' || nLeft<2 || z[1]!='.' ) continue;
    if( nLeft==2 || z[2]=='/' ) return 400;
    if( z[2]=='.' && (nLeft==3 || z[3]=='/') ) return 400;
  }
  return 0;
}

/* ---- Output queue ------------------------------------------------------- */

static long long connNow(const Conn *c){
  return ssoLoopNow(c->pWorker->pLoop);
}

/* Room for n more output bytes. Sets bOom (and returns non-zero) when
** memory runs out; the connection is then closed. */
static int outReserve(Conn *c, size_t n){
  size_t nNeed, nNew;
  char *aNew;
  if( c->bOom ) return 1;
  if( c->iOut>0 && c->nOutAlloc - c->nOut < n ){
    /* Written bytes at the front are dead space: slide the rest down. */
    memmove(c->aOut, c->aOut+c->iOut, c->nOut-c->iOut);
    c->nOut -= c->iOut;
    c->nOutReady -= c->iOut;
    c->iRespStart -= c->iRespStart>=c->iOut ? c->iOut : c->iRespStart;
    c->iOut = 0;
  }
  nNeed = c->nOut + n;
  if( nNeed<=c->nOutAlloc ) return 0;
  nNew = c->nOutAlloc ? c->nOutAlloc*2 : OUT_INIT;
  while( nNew<nNeed ) nNew *= 2;
  if( nNew==OUT_INIT && c->pWorker->nSpareOut>0 ){
    aNew = c->pWorker->apSpareOut[--c->pWorker->nSpareOut];
  }else{
    aNew = ssoRealloc(c->aOut, nNew);
  }
  if( aNew==0 ){
    c->bOom = 1;
    c->bDead = 1;
    return 1;
  }
  c->aOut = aNew;
  c->nOutAlloc = nNew;
  return 0;
}

static void outAppend(Conn *c, const void *p, size_t n){
  if( n==0 || outReserve(c, n) ) return;
  memcpy(c->aOut+c->nOut, p, n);
  c->nOut += n;
  c->nRespBytes += n;
}

static void outStr(Conn *c, const char *z){ outAppend(c, z, strlen(z)); }

static void outPrintf(Conn *c, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
static void outPrintf(Conn *c, const char *zFmt, ...){
  char zBuf[256];
  va_list ap;
  int n;
  va_start(ap, zFmt);
  n = vsnprintf(zBuf, sizeof(zBuf), zFmt, ap);
  va_end(ap);
  if( n>0 ) outAppend(c, zBuf, (size_t)n<sizeof(zBuf) ? (size_t)n
                                                       : sizeof(zBuf)-1);
}

/*
** v in decimal at z, which has room for 21 bytes; NUL-terminated. Returns
** the length. Answers and log lines are built on every request, and a
** printf call costs as much as the rest of a small answer.
*/
static size_t fmtUint(char *z, unsigned long long v){
  char a[20];
  size_t n = 0, i;
  do{
    a[n++] = (char)('0' + v%10);
    v /= 10;
  }while( v );
  for(i=0; i<n; i++) z[i] = a[n-1-i];
  z[n] = 0;
  return n;
}

static void outUint(Conn *c, unsigned long long v){
  char z[24];
  outAppend(c, z, fmtUint(z, v));
}

/* Everything queued so far may now be written. */
static void outCommit(Conn *c){
  if( c->iOut==c->nOutReady ) c->iWriteAt = connNow(c);
  c->nOutReady = c->nOut;
}

static size_t outQueued(const Conn *c){ return c->nOut - c->iOut; }

/* Write what may be written. Sets bDead if the peer is gone. */
static void flushOut(Conn *c){
  c->bWriteWantsRead = 0;
  while( c->iOut<c->nOutReady && !c->bDead ){
    long n = c->pIo->xWrite(c->pIoCtx, c->fd, c->aOut+c->iOut,
                            c->nOutReady-c->iOut);
    if( n>0 ){
      c->iOut += (size_t)n;
      c->iWriteAt = connNow(c);
    }else if( n==SSO_IO_WANT_WRITE ){
      break;
    }else if( n==SSO_IO_WANT_READ ){
      c->bWriteWantsRead = 1;     /* TLS: renegotiation, key update */
      break;
    }else{
      c->bDead = 1;
    }
  }
  if( c->iOut==c->nOut ){
    c->iOut = c->nOut = c->nOutReady = c->iRespStart = 0;
    /* A big answer went out: give the memory back rather than keep the
    ** high-water mark of every connection forever. */
    if( c->nOutAlloc > 2*c->pWorker->pSrv->cfg.nWriteHigh ){
      ssoFree(c->aOut);
      c->aOut = 0;
      c->nOutAlloc = 0;
    }
  }
}

/* ---- Building answers ---------------------------------------------------- */

static const char *workerDate(Worker *w){
  static const char *const azDay[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char *const azMon[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  time_t t = time(0);
  if( t!=w->iDateSec ){
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(w->zDate, sizeof(w->zDate), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             azDay[tm.tm_wday%7], tm.tm_mday, azMon[tm.tm_mon%12],
             tm.tm_year+1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    w->iDateSec = t;
  }
  return w->zDate;
}

/* Status line and the fields every answer carries. */
static void respHead(Conn *c, int iStatus){
  const char *zReason = ssoHttpReason(iStatus);
  c->iRespStart = c->nOut;
  c->nRespBytes = 0;
  c->iStatus = iStatus;
  c->eResp = RESP_HEAD;
  c->bBodyless = iStatus<200 || iStatus==204 || iStatus==304;
  outAppend(c, "HTTP/1.1 ", 9);
  outUint(c, (unsigned)iStatus);
  outAppend(c, " ", 1);
  outStr(c, zReason[0] ? zReason : "Unknown");
  outAppend(c, "\r\nDate: ", 8);
  outStr(c, workerDate(c->pWorker));
  outAppend(c, "\r\nX-Request-Id: ", 16);
  outStr(c, c->zId);
  outAppend(c, "\r\n", 2);
}

/* Forget a head that was being built (the handler failed). */
static void respRollback(Conn *c){
  if( c->eResp==RESP_HEAD && !c->bOom ){
    c->nOut = c->iRespStart;
  }
  c->eResp = RESP_NONE;
}

/*
** End the head: framing and connection fields, then the empty line.
** nLength is the body length, or -1 for a stream (chunked to HTTP/1.1,
** delimited by the close for HTTP/1.0).
*/
static void respEndHead(Conn *c, long long nLength){
  if( c->pWorker->bStopping ) c->bKeep = 0;
  if( nLength<0 ){
    if( c->req.iMinor==0 ){
      c->bKeep = 0;
    }else if( !c->bBodyless ){
      c->bChunkOut = 1;
      outStr(c, "Transfer-Encoding: chunked\r\n");
    }
  }else if( !c->bBodyless ){
    outAppend(c, "Content-Length: ", 16);
    outUint(c, (unsigned long long)nLength);
    outAppend(c, "\r\n", 2);
  }
  if( !c->bKeep ){
    outStr(c, "Connection: close\r\n");
  }else if( c->req.iMinor==0 ){
    outStr(c, "Connection: keep-alive\r\n");
  }
  outAppend(c, "\r\n", 2);
}

static void kick(Conn *c){
  if( !c->bBusy ) ssoLoopDefer(c->pWorker->pLoop, &c->task);
}

/* A complete answer with an optional extra field. */
static void respSimple(Conn *c, int iStatus, const char *zType,
                       const char *zName, const char *zValue,
                       const char *pBody, size_t nBody){
  respHead(c, iStatus);
  if( zType ) outPrintf(c, "Content-Type: %s\r\n", zType);
  if( zName ) outPrintf(c, "%s: %s\r\n", zName, zValue);
  respEndHead(c, (long long)nBody);
  if( !c->bHeadReq && !c->bBodyless ) outAppend(c, pBody, nBody);
  outCommit(c);
  c->eResp = RESP_DONE;
  c->bRespDone = 1;
}

/* The LiteLLM/OpenAI error envelope; "code" is a string there. */
static void errorJson(SsoBuf *b, int iStatus, const char *zMsg){
  ssoBufAppendStr(b, "{\"error\":{\"message\":");
  ssoBufAppendJsonString(b, zMsg, strlen(zMsg));
  ssoBufPrintf(b, ",\"type\":\"%s\",\"param\":null,\"code\":\"%d\"}}",
               iStatus<500 ? "invalid_request_error" : "internal_server_error",
               iStatus);
}

static void respError(Conn *c, int iStatus, const char *zMsg,
                      const char *zName, const char *zValue){
  char zSpace[512];
  SsoBuf b;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 64*1024);
  errorJson(&b, iStatus, zMsg);
  if( b.rc ){
    c->bOom = 1;
    c->bDead = 1;
  }else{
    respSimple(c, iStatus, "application/json", zName, zValue, b.z, b.n);
  }
  ssoBufFree(&b);
}

static const char *statusMessage(int iStatus){
  switch( iStatus ){
    case 400: return "Malformed HTTP request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request timed out";
    case 413: return "Request body too large";
    case 414: return "Request line too long";
    case 417: return "Unsupported expectation";
    case 431: return "Request header fields too large";
    case 501: return "Not implemented";
    case 505: return "HTTP version not supported";
  }
  return "Internal server error";
}

/* ---- Access log ----------------------------------------------------------- */

/* Copy a view into a C string for the log, cut to fit. */
static const char *viewToZ(SsoStr s, char *z, size_t nZ){
  size_t n = s.n<nZ ? s.n : nZ-1;
  if( s.n==0 ) return "-";
  memcpy(z, s.z, n);
  z[n] = 0;
  if( n<s.n && n>=3 ) memcpy(z+n-3, "...", 3);
  return z;
}

/*
** One line per request. Deliberately no query string, no header values
** and no body: keys, tokens and cookies travel there, and logs are read
** by more people than the ones allowed to hold keys.
*/
static void logAccess(Conn *c, int iStatus){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  char zMethod[32], zPath[512], zStatus[24], zBytes[24], zMs[24];
  SsoStr none = {0, 0};
  if( !cfg->bAccessLog || cfg->pLog==0 ) return;
  fmtUint(zStatus, iStatus>0 ? (unsigned)iStatus : 0);
  fmtUint(zBytes, c->nRespBytes);
  fmtUint(zMs, connNow(c)>c->iReqStart ?
                 (unsigned long long)(connNow(c) - c->iReqStart) : 0);
  ssoLog(cfg->pLog, SSO_LOG_INFO, "request", "id", c->zId,
         "method", viewToZ(c->bParsed ? c->req.method : none, zMethod,
                           sizeof(zMethod)),
         "path", viewToZ(c->bParsed ? c->req.path : none, zPath,
                         sizeof(zPath)),
         "status", zStatus, "bytes", zBytes, "ms", zMs,
         "client", c->zClient, (char*)0);
}

/* ---- Requests ---------------------------------------------------------------- */

/* 16 hex digits: the process's base plus the worker, then a counter. */
static void newRequestId(Conn *c){
  static const char hex[] = "0123456789abcdef";
  Worker *w = c->pWorker;
  unsigned a = w->pSrv->iIdBase + (unsigned)w->iWorker, b = ++w->nReq;
  int i;
  for(i=7; i>=0; i--){
    c->zId[i] = hex[a & 0xf];
    c->zId[i+8] = hex[b & 0xf];
    a >>= 4;
    b >>= 4;
  }
  c->zId[16] = 0;
}

/* Reset the per-request fields for the next request on c. */
static void resetRequest(Conn *c){
  memset(&c->req, 0, sizeof(c->req));
  c->eResp = RESP_NONE;
  c->bRespDone = c->bAsync = c->bPaused = c->bChunkOut = 0;
  c->bHeadReq = c->bBodyless = c->bMoved = c->bParsed = 0;
  c->bHoldIn = 0;
  c->xAbort = c->xDrain = 0;
  c->pAsyncArg = 0;
  c->pRoute = 0;
  c->iRouteStatus = 0;
  c->nBodyOut = 0;
  c->nScan = 0;
  c->nRespBytes = 0;
  c->iStatus = 0;
}

/*
** A request that cannot be served as HTTP: answer with an error and
** close, since after a framing error we no longer know where the next
** request would start.
*/
static void protocolError(Conn *c, int iStatus){
  if( !c->bParsed ){
    newRequestId(c);
    c->bHeadReq = 0;
  }
  if( c->eResp==RESP_HEAD ) respRollback(c);
  c->bKeep = 0;
  if( c->eResp==RESP_NONE ){
    respError(c, iStatus, statusMessage(iStatus), 0, 0);
    logAccess(c, iStatus);
  }
  c->eState = CONN_CLOSING;
}

/* Fill the handler-visible request from the parsed head. */
static int setViews(Conn *c){
  Worker *w = c->pWorker;
  c->req.method = c->head.method;
  c->req.target = c->head.target;
  c->req.iMinor = c->head.iMinor;
  c->req.aHdr = c->head.aHdr;
  c->req.nHdr = c->head.nHdr;
  c->req.zClient = c->zClient;
  c->req.zId = c->zId;
  c->req.iWorker = w->iWorker;
  c->req.pWorkerCtx = w->pCtx;
  c->req.pLoop = w->pLoop;
  c->bParsed = 1;
  return splitTarget(c);
}

/* The head is parsed (nHead bytes). Decide what comes next. */
static void startRequest(Conn *c, size_t nHead){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  int iBad;
  c->iBody = c->iReq + nHead;
  c->bMoved = 0;
  newRequestId(c);
  iBad = setViews(c);
  c->bHeadReq = methodIs(c->req.method, "HEAD");
  c->bKeep = !c->head.bClose;
  if( iBad ){
    protocolError(c, iBad);
    return;
  }
  resolveRoute(c);
  if( c->head.eBody==SSO_HTTP_BODY_LENGTH && c->head.nBody>cfg->mxBody ){
    protocolError(c, 413);
    return;
  }
  if( c->head.eBody!=SSO_HTTP_BODY_NONE ){
    /* RFC 9110 §10.1.1: a client that sent 100-continue waits for us;
    ** if the answer is already known to be an error, say so now and do
    ** not ask for a body we would throw away. */
    if( c->head.bContinue && c->iRouteStatus && c->iRouteStatus!=204 ){
      protocolError(c, c->iRouteStatus);
      return;
    }
    if( c->head.bContinue && c->nIn==c->iBody ){
      size_t nSave = c->nRespBytes;
      outStr(c, "HTTP/1.1 100 Continue\r\n\r\n");
      outCommit(c);
      c->nRespBytes = nSave;
    }
    if( c->head.eBody==SSO_HTTP_BODY_CHUNKED ){
      ssoHttpChunkedInit(&c->chunk, SSO_HTTP_MAX_CHUNK_LINE,
                         SSO_HTTP_MAX_CHUNK_OVER);
      c->iBodyRaw = c->iBody;
    }
  }
  c->iReadAt = connNow(c);
  c->eState = CONN_BODY;
}

/* Returns 1 when the body is complete, 0 for more input, or -status. */
static int bodyProgress(Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  size_t nUsed = 0, nOut = 0;
  int rc;
  switch( c->head.eBody ){
    case SSO_HTTP_BODY_NONE:
      c->iReqEnd = c->iBody;
      return 1;
    case SSO_HTTP_BODY_LENGTH:
      if( c->nIn - c->iBody < c->head.nBody ) return 0;
      c->nBodyOut = (size_t)c->head.nBody;
      c->iReqEnd = c->iBody + c->nBodyOut;
      return 1;
  }
  /* Chunked: decode in place, behind the raw bytes still to come. */
  rc = ssoHttpChunkedDecode(&c->chunk, c->aIn+c->iBodyRaw,
                            c->nIn-c->iBodyRaw,
                            c->aIn+c->iBody+c->nBodyOut, &nUsed, &nOut);
  c->iBodyRaw += nUsed;
  c->nBodyOut += nOut;
  if( c->nBodyOut>cfg->mxBody ) return -413;
  if( rc<0 ) return rc;
  if( rc==1 ){
    c->iReqEnd = c->iBodyRaw;
    return 1;
  }
  /* Everything was consumed: the raw bytes are now data, so the input
  ** ends where the data does and the next read lands right after it. */
  c->nIn = c->iBodyRaw = c->iBody + c->nBodyOut;
  return 0;
}

static void answerRouteError(Conn *c){
  int iStatus = c->iRouteStatus;
  if( iStatus==204 ){
    respSimple(c, 204, 0, "Allow", c->zAllow, 0, 0);
  }else if( iStatus==405 ){
    respError(c, 405, statusMessage(405), "Allow", c->zAllow);
  }else{
    respError(c, iStatus, statusMessage(iStatus), 0, 0);
  }
}

/* The body is complete: hand the request to its handler. */
static void dispatch(Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  int rc;
  if( c->bMoved ){
    /* The input buffer was moved while the body arrived: parse the head
    ** again where it now lies (same bytes, same result) for fresh views. */
    size_t nHead = c->iBody - c->iReq;
    SsoHttpLimits lim = { cfg->mxLine, cfg->mxHead };
    rc = ssoHttpParseRequest(c->aIn+c->iReq, nHead, 0, &lim, &c->head);
    assert( rc==(int)nHead );
    if( rc!=(int)nHead || setViews(c) ){
      protocolError(c, 400);
      return;
    }
    c->bMoved = 0;
  }
  c->req.pBody = c->nBodyOut ? c->aIn + c->iBody : 0;
  c->req.nBody = c->nBodyOut;
  c->eState = CONN_HANDLE;
  if( c->pRoute==0 ){
    answerRouteError(c);
    return;
  }
  c->req.pRouteArg = c->pRoute->pArg;
  rc = c->pRoute->xHandler(&c->req, c->pRoute->pArg);
  if( rc==SSOPROXY_OK && !c->bRespDone && !c->bAsync ) rc = SSOPROXY_ERROR;
  if( rc==SSOPROXY_OK || c->bDead ) return;
  /* The handler failed. Nothing sent yet: a 500. Half an answer sent:
  ** the stream cannot be trusted, so close it. */
  c->bAsync = 0;
  c->xAbort = 0;
  if( c->eResp==RESP_NONE || c->eResp==RESP_HEAD ){
    respRollback(c);
    respError(c, 500, statusMessage(500), 0, 0);
  }else if( !c->bRespDone ){
    c->bDead = 1;
  }
}

/* The answer is completely queued: log it and move to the next request. */
static void completeRequest(Conn *c){
  logAccess(c, c->iStatus);
  c->iReq = c->iReqEnd;
  if( c->iReq==c->nIn ) c->iReq = c->nIn = 0;
  c->bFirst = 0;
  resetRequest(c);
  if( !c->bKeep ){
    c->eState = CONN_CLOSING;
    return;
  }
  c->eState = CONN_HEAD;
  c->iIdleSince = connNow(c);
  if( c->nIn>c->iReq ) c->iReqStart = c->iIdleSince;
  /* An upload made the buffer big; an idle connection does not need it. */
  if( c->nIn==0 && c->nInAlloc>4*SSO_SERVER_READ_INIT ){
    ssoFree(c->aIn);
    c->aIn = 0;
    c->nInAlloc = 0;
  }
}

/* Move as far as the buffered input allows. */
static void process(Conn *c){
  const SsoServer *p = c->pWorker->pSrv;
  while( !c->bDead ){
    int rc;
    switch( c->eState ){
      case CONN_HEAD:
        /* A reader that does not keep up gets no more answers queued. */
        if( outQueued(c)>=p->cfg.nWriteHigh ) return;
        if( c->nIn==c->iReq ) goto needInput;
        rc = ssoHttpParseRequest(c->aIn+c->iReq, c->nIn-c->iReq, c->nScan,
                                 &p->lim, &c->head);
        if( rc==SSO_HTTP_PARTIAL ){
          c->nScan = c->nIn - c->iReq;
          goto needInput;
        }
        if( rc<0 ){
          protocolError(c, -rc);
          return;
        }
        startRequest(c, (size_t)rc);
        break;
      case CONN_BODY:
        rc = bodyProgress(c);
        if( rc==0 ) goto needInput;
        if( rc<0 ){
          protocolError(c, -rc);
          return;
        }
        dispatch(c);
        break;
      case CONN_HANDLE:
        if( !c->bRespDone ) return;
        completeRequest(c);
        break;
      default:
        return;
    }
  }
  return;
needInput:
  /* The peer has shut its side: no more input will come. Answers still
  ** queued go out, then the connection closes. */
  if( c->bPeerEof ){
    if( c->nIn>c->iReq && c->eState==CONN_HEAD ) c->bKeep = 0;
    c->eState = CONN_CLOSING;
  }
}

/* ---- Input -------------------------------------------------------------- */

/* How many bytes from iReq the input buffer may have to hold now. */
static size_t inLimit(const Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  if( c->eState==CONN_BODY ){
    size_t nHead = c->iBody - c->iReq;
    if( c->head.eBody==SSO_HTTP_BODY_LENGTH ){
      return nHead + (size_t)c->head.nBody;
    }
    return nHead + cfg->mxBody + SSO_HTTP_MAX_CHUNK_LINE + 64;
  }
  return cfg->mxHead + 64;
}

/* Slide the current request to the front of the input buffer. */
static void inCompact(Conn *c){
  size_t d = c->iReq;
  if( d==0 ) return;
  memmove(c->aIn, c->aIn+d, c->nIn-d);
  c->nIn -= d;
  c->iReq = 0;
  if( c->eState==CONN_BODY ){
    c->iBody -= d;
    c->iBodyRaw -= d;
    c->bMoved = 1;
  }
}

/* Make room to read into. Returns the free bytes (0: none possible). */
static size_t inReserve(Conn *c){
  size_t nLimit = inLimit(c), nNew;
  char *aNew;
  if( c->nInAlloc - c->nIn >= 2048 ) return c->nInAlloc - c->nIn;
  inCompact(c);
  if( c->nInAlloc - c->nIn >= 2048 || c->nInAlloc>=nLimit ){
    return c->nInAlloc - c->nIn;
  }
  nNew = c->nInAlloc ? c->nInAlloc*2 : SSO_SERVER_READ_INIT;
  if( nNew>nLimit ) nNew = nLimit;
  if( nNew<=c->nInAlloc ) return c->nInAlloc - c->nIn;
  if( c->nInAlloc==0 && nNew==SSO_SERVER_READ_INIT
   && c->pWorker->nSpareIn>0 ){
    aNew = c->pWorker->apSpareIn[--c->pWorker->nSpareIn];
  }else{
    aNew = ssoRealloc(c->aIn, nNew);
  }
  if( aNew==0 ){
    c->bDead = 1;
    return 0;
  }
  if( c->eState==CONN_BODY && aNew!=c->aIn ) c->bMoved = 1;
  c->aIn = aNew;
  c->nInAlloc = nNew;
  return nNew - c->nIn;
}

/*
** Read what the transport has. A read that fills the buffer is repeated
** (after the buffer grows): TLS decrypts a whole record at once, and
** what did not fit stays inside mbedTLS where no socket event will ever
** announce it again, so stopping at a full buffer could stall a body
** until its timeout. Bounded, so one fast client cannot starve the rest.
*/
static void readIn(Conn *c){
  int i;
  c->bReadWantsWrite = 0;
  for(i=0; i<16; i++){
    size_t nFree = inReserve(c);
    long n;
    if( nFree==0 ){
      if( i==0 ) c->bDead = 1;  /* cannot happen: limits end a request first */
      return;
    }
    n = c->pIo->xRead(c->pIoCtx, c->fd, c->aIn+c->nIn, nFree);
    if( n>0 ){
      if( c->eState==CONN_HEAD && c->nIn==c->iReq ) c->iReqStart = connNow(c);
      c->nIn += (size_t)n;
      c->iReadAt = connNow(c);
      if( (size_t)n<nFree ) return;
    }else{
      if( n==0 ){
        c->bPeerEof = 1;
      }else if( n==SSO_IO_WANT_WRITE ){
        c->bReadWantsWrite = 1;       /* TLS: handshake wants to send */
      }else if( n==SSO_IO_ERROR ){
        c->bDead = 1;
      }
      return;
    }
  }
}

/* LINGER: read and drop until the peer closes. */
static void discardIn(Conn *c){
  char aJunk[4096];
  int i;
  for(i=0; i<16; i++){
    long n = c->pIo->xRead(c->pIoCtx, c->fd, aJunk, sizeof(aJunk));
    if( n>0 ) continue;
    if( n==0 || n==SSO_IO_ERROR ) c->bDead = 1;
    return;
  }
}

/* ---- Connection life ------------------------------------------------------- */

/* Keep b (n bytes from ssoMalloc) as a spare if it has the first size
** and there is room, else free it. */
static void spareOrFree(char **ap, int *pn, char *b, size_t n, size_t nFirst){
  if( n==nFirst && *pn<SPARE_MAX ){
    ap[(*pn)++] = b;
  }else{
    ssoFree(b);
  }
}

/*
** A connection waiting for its next request holds no buffers: they go to
** the worker's spares, so a held keep-alive connection costs its Conn
** and nothing more, and a busy worker reuses a few warm buffers instead
** of calling the allocator.
*/
static void shedBuffers(Conn *c){
  Worker *w = c->pWorker;
  if( c->aIn ){
    spareOrFree(w->apSpareIn, &w->nSpareIn, c->aIn, c->nInAlloc,
                SSO_SERVER_READ_INIT);
    c->aIn = 0;
    c->nInAlloc = 0;
  }
  if( c->aOut ){
    spareOrFree(w->apSpareOut, &w->nSpareOut, c->aOut, c->nOutAlloc,
                OUT_INIT);
    c->aOut = 0;
    c->nOutAlloc = 0;
  }
}

static void closeConn(Conn *c){
  Worker *w = c->pWorker;
  SsoServer *p = w->pSrv;
  if( c->eState==CONN_HANDLE && !c->bRespDone ){
    SsoServerEventFn xAbort = c->xAbort;
    c->xAbort = 0;
    c->bDead = 1;
    if( xAbort ) xAbort(&c->req, c->pAsyncArg);
    logAccess(c, c->eResp==RESP_STREAM ? c->iStatus : 499);
  }
  ssoLoopDel(w->pLoop, c->fd);
  close(c->fd);
  ssoLoopTimerStop(w->pLoop, &c->timer);
  ssoLoopUndefer(w->pLoop, &c->task);
  if( c->pIo->xFree ) c->pIo->xFree(c->pIoCtx);
  if( c->pPrev ) c->pPrev->pNext = c->pNext;
  else w->pConn = c->pNext;
  if( c->pNext ) c->pNext->pPrev = c->pPrev;
  w->nConn--;
  atomic_fetch_sub(&p->nConn, 1);
  shedBuffers(c);
  ssoFree(c);
  if( w->bStopping && w->nConn==0 ) ssoLoopExit(w->pLoop);
}

static void updateInterest(Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  int eMask = 0;
  if( c->iOut<c->nOutReady ) eMask |= SSO_LOOP_WRITE;
  if( (c->eState==CONN_HEAD || c->eState==CONN_BODY) && !c->bPeerEof
   && outQueued(c)<cfg->nWriteHigh ){
    eMask |= SSO_LOOP_READ;
  }
  if( c->eState==CONN_LINGER ) eMask |= SSO_LOOP_READ;
  /* A transport (TLS) may need the other direction to make progress. */
  if( c->bWriteWantsRead && c->iOut<c->nOutReady ) eMask |= SSO_LOOP_READ;
  if( c->bReadWantsWrite && (eMask & SSO_LOOP_READ) ){
    eMask = (eMask & ~SSO_LOOP_READ) | SSO_LOOP_WRITE;
  }
  /* An answer in the making: notice a client that goes away (see the
  ** file header). After the TLS swap above: this READ is for a peek. */
  if( c->eState==CONN_HANDLE && !c->bRespDone ){
    eMask |= c->bHoldIn ? SSO_LOOP_HUP : SSO_LOOP_READ;
  }
  if( ssoLoopMod(c->pWorker->pLoop, c->fd, eMask) ) c->bDead = 1;
}

/* Arm the connection's single timer for its nearest deadline. */
static void schedule(Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  long long t = LLONG_MAX, d;
  if( c->nOut>c->iOut ) t = c->iWriteAt + cfg->msWrite;
  switch( c->eState ){
    case CONN_HEAD:
      if( c->nIn>c->iReq ){
        d = c->iReqStart + cfg->msHeader;
      }else if( c->nOut==c->iOut ){
        d = c->iIdleSince + (c->bFirst ? cfg->msHeader : cfg->msKeepAlive);
      }else{
        d = LLONG_MAX;
      }
      break;
    case CONN_BODY:   d = c->iReadAt + cfg->msBody; break;
    case CONN_LINGER: d = c->iLingerEnd; break;
    default:          d = LLONG_MAX; break;
  }
  if( d<t ) t = d;
  if( t==LLONG_MAX ){
    ssoLoopTimerStop(c->pWorker->pLoop, &c->timer);
  }else if( ssoLoopTimerAt(c->pWorker->pLoop, &c->timer, t) ){
    c->bDead = 1;
  }
}

/* Output is flushed and no more answers will come: half-close, then
** linger so unread input does not turn our close into a reset. */
static void startLinger(Conn *c){
  Worker *w = c->pWorker;
  long long ms = SSO_SERVER_LINGER_MS;
  if( c->bPeerEof ){
    c->bDead = 1;
    return;
  }
  shutdown(c->fd, SHUT_WR);
  if( w->bStopping ) ms = 200;
  c->eState = CONN_LINGER;
  c->iLingerEnd = connNow(c) + ms;
}

/* Input processed, output written, producers resumed. */
static void pump(Conn *c){
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  int i;
  for(i=0; i<8 && !c->bDead; i++){
    process(c);
    flushOut(c);
    if( !c->bPaused || c->eResp!=RESP_STREAM
     || outQueued(c)>cfg->nWriteHigh/2 ){
      break;
    }
    c->bPaused = 0;
    if( c->xDrain ) c->xDrain(&c->req, c->pAsyncArg);
  }
}

/* The common end of every callback: close, or wait for the next event. */
static void connAfter(Conn *c){
  Worker *w = c->pWorker;
  if( !c->bDead && c->eState==CONN_CLOSING && c->iOut==c->nOut ){
    startLinger(c);
  }
  if( !c->bDead && w->bStopping && c->eState==CONN_HEAD
   && c->nIn==c->iReq && c->nOut==c->iOut ){
    c->bDead = 1;                 /* idle while stopping */
  }
  if( !c->bDead ){
    if( c->eState==CONN_HEAD && c->nIn==0 && c->nOut==0 ) shedBuffers(c);
    updateInterest(c);
    schedule(c);
  }
  if( c->bDead ) closeConn(c);
}

/*
** The socket became readable while an answer is being made: has the
** client left (FIN or reset: SSO_LOOP_HUP), or sent its next request
** early (0, and input is held until this answer is done)?
*/
static int peekLeft(Conn *c){
  char ch;
  ssize_t n;
  do{
    n = recv(c->fd, &ch, 1, MSG_PEEK|MSG_DONTWAIT);
  }while( n<0 && errno==EINTR );
  if( n==0 ) return SSO_LOOP_HUP;
  if( n<0 ) return (errno==EAGAIN || errno==EWOULDBLOCK) ? 0 : SSO_LOOP_HUP;
  c->bHoldIn = 1;
  return 0;
}

static void onConnIo(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  Conn *c = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(fd);
  int bWantsRead = c->bWriteWantsRead, bWantsWrite = c->bReadWantsWrite;
  c->bBusy = 1;
  if( c->eState==CONN_HANDLE && !c->bRespDone && !bWantsRead
   && (eEvents & SSO_LOOP_READ) && !(eEvents & SSO_LOOP_HUP) ){
    eEvents |= peekLeft(c);
  }
  if( (eEvents & SSO_LOOP_HUP) && c->eState==CONN_HANDLE && !c->bRespDone ){
    c->bDead = 1;                 /* the client left: abort, log 499 */
    c->bBusy = 0;
    connAfter(c);
    return;
  }
  if( (eEvents & SSO_LOOP_WRITE) || (bWantsRead && (eEvents & SSO_LOOP_READ)) ){
    flushOut(c);
  }
  if( ((eEvents & SSO_LOOP_READ) || (bWantsWrite && (eEvents & SSO_LOOP_WRITE)))
   && !c->bDead ){
    if( c->eState==CONN_LINGER ) discardIn(c);
    else if( c->eState==CONN_HEAD || c->eState==CONN_BODY ) readIn(c);
  }
  if( c->eState!=CONN_LINGER ) pump(c);
  c->bBusy = 0;
  connAfter(c);
}

static void onConnTask(SsoLoop *pLoop, SsoLoopTask *t, void *pArg){
  Conn *c = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  c->bBusy = 1;
  pump(c);
  c->bBusy = 0;
  connAfter(c);
}

/* A deadline passed: find out which and act on it. */
static void onConnTimer(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  Conn *c = pArg;
  const SsoServerConfig *cfg = &c->pWorker->pSrv->cfg;
  long long now = ssoLoopNow(pLoop);
  SSO_UNUSED(t);
  c->bBusy = 1;
  if( c->nOut>c->iOut && now>=c->iWriteAt + cfg->msWrite ){
    c->bDead = 1;                /* the client stopped reading */
  }else if( c->eState==CONN_HEAD && c->nIn>c->iReq ){
    if( now>=c->iReqStart + cfg->msHeader ) protocolError(c, 408);
  }else if( c->eState==CONN_HEAD ){
    long long ms = c->bFirst ? cfg->msHeader : cfg->msKeepAlive;
    if( c->nOut==c->iOut && now>=c->iIdleSince + ms ) c->bDead = 1;
  }else if( c->eState==CONN_BODY ){
    if( now>=c->iReadAt + cfg->msBody ) protocolError(c, 408);
  }else if( c->eState==CONN_LINGER ){
    if( now>=c->iLingerEnd ) c->bDead = 1;
  }
  if( !c->bDead ) flushOut(c);
  c->bBusy = 0;
  connAfter(c);
}

static int connNew(Worker *w, int fd, const struct sockaddr_storage *pSa){
  const SsoServerConfig *cfg = &w->pSrv->cfg;
  size_t nByte = sizeof(Conn) + sizeof(SsoHttpHeader)*(size_t)cfg->mxHeader;
  Conn *c = ssoMallocZero(nByte);
  int one = 1;
  if( c==0 ) return SSOPROXY_NOMEM;
  c->pWorker = w;
  c->fd = fd;
  c->pIo = ssoLoopPlainIo();
  if( cfg->xTransport
   && cfg->xTransport(cfg->pTransportArg, fd, &c->pIo, &c->pIoCtx) ){
    ssoFree(c);
    return SSOPROXY_ERROR;
  }
  c->head.aHdr = c->aHdr;
  c->head.mxHdr = cfg->mxHeader;
  c->eState = CONN_HEAD;
  c->bFirst = 1;
  c->iIdleSince = c->iReqStart = ssoLoopNow(w->pLoop);
  ssoLoopAddrString(pSa, c->zClient, sizeof(c->zClient));
  ssoLoopTimerInit(&c->timer, onConnTimer, c);
  ssoLoopTaskInit(&c->task, onConnTask, c);
  /* Answers are written whole; Nagle would only delay stream pieces. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if( ssoLoopAdd(w->pLoop, fd, SSO_LOOP_READ, onConnIo, c) ){
    if( c->pIo->xFree ) c->pIo->xFree(c->pIoCtx);
    ssoFree(c);
    return SSOPROXY_NOMEM;
  }
  c->pNext = w->pConn;
  if( w->pConn ) w->pConn->pPrev = c;
  w->pConn = c;
  w->nConn++;
  schedule(c);
  if( c->bDead ) closeConn(c);
  return SSOPROXY_OK;
}

/* ---- Accepting ---------------------------------------------------------------- */

/*
** Over the connection limit: say so in one best-effort write and close.
** Connections already served are not touched.
*/
static void refuse(int fd){
  char zBody[160], zMsg[320];
  int nBody = snprintf(zBody, sizeof(zBody),
      "{\"error\":{\"message\":\"Too many open connections\","
      "\"type\":\"internal_server_error\",\"param\":null,\"code\":\"503\"}}");
  int n = snprintf(zMsg, sizeof(zMsg),
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Content-Length: %d\r\nConnection: close\r\n\r\n%s", nBody, zBody);
  ssize_t nPut = send(fd, zMsg, (size_t)n, MSG_NOSIGNAL|MSG_DONTWAIT);
  SSO_UNUSED(nPut);
  shutdown(fd, SHUT_WR);
  close(fd);
}

static void onAcceptTimer(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  Worker *w = pArg;
  SSO_UNUSED(t);
  if( w->bListening ) ssoLoopMod(pLoop, w->fdListen, SSO_LOOP_READ);
}

static int acceptOne(int fdListen, struct sockaddr_storage *pSa){
  socklen_t n = sizeof(*pSa);
#if defined(__linux__)
  return accept4(fdListen, (struct sockaddr*)pSa, &n,
                 SOCK_NONBLOCK|SOCK_CLOEXEC);
#else
  int fd = accept(fdListen, (struct sockaddr*)pSa, &n);
  if( fd>=0 && ssoLoopSetNonBlock(fd) ){
    close(fd);
    errno = ECONNABORTED;
    return -1;
  }
  return fd;
#endif
}

static void onAccept(SsoLoop *pLoop, int fdListen, int eEvents, void *pArg){
  Worker *w = pArg;
  SsoServer *p = w->pSrv;
  int i;
  SSO_UNUSED(eEvents);
  for(i=0; i<64; i++){
    struct sockaddr_storage sa;
    int fd = acceptOne(fdListen, &sa);
    if( fd<0 ){
      if( errno==EINTR || errno==ECONNABORTED ) continue;
      if( errno!=EAGAIN && errno!=EWOULDBLOCK ){
        /* Out of descriptors or memory: a level-triggered listener would
        ** spin, so look away for a moment. */
        ssoLog(p->cfg.pLog, SSO_LOG_WARN, "accept failed",
               "error", strerror(errno), (char*)0);
        ssoLoopMod(pLoop, fdListen, 0);
        ssoLoopTimerAt(pLoop, &w->acceptTimer, ssoLoopNow(pLoop)+100);
      }
      return;
    }
    if( atomic_fetch_add(&p->nConn, 1)>=p->cfg.mxConn ){
      atomic_fetch_sub(&p->nConn, 1);
      refuse(fd);
      continue;
    }
    if( connNew(w, fd, &sa) ){
      atomic_fetch_sub(&p->nConn, 1);
      close(fd);
    }
  }
}

/* ---- Workers and shutdown ---------------------------------------------------- */

static void forceCloseAll(Worker *w){
  while( w->pConn ) closeConn(w->pConn);
}

static void onStopDeadline(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  Worker *w = pArg;
  SSO_UNUSED(t);
  forceCloseAll(w);
  ssoLoopExit(pLoop);
}

/* Stop accepting, close idle connections, give the others a deadline. */
static void beginShutdown(Worker *w){
  SsoServer *p = w->pSrv;
  Conn *c, *pNext;
  if( w->bStopping ) return;
  w->bStopping = 1;
  if( w->bListening ){
    ssoLoopDel(w->pLoop, w->fdListen);
    w->bListening = 0;
  }
  if( w->bOwnListen && !p->bShared ){
    close(w->fdListen);
    w->fdListen = -1;
  }
  ssoLoopTimerStop(w->pLoop, &w->acceptTimer);
  for(c=w->pConn; c; c=pNext){
    pNext = c->pNext;
    if( (c->eState==CONN_HEAD && c->nIn==c->iReq && c->nOut==c->iOut)
     || c->eState==CONN_LINGER ){
      closeConn(c);
    }
  }
  if( w->nConn==0 ){
    ssoLoopExit(w->pLoop);
  }else if( ssoLoopTimerAt(w->pLoop, &w->stopTimer,
                  ssoLoopNow(w->pLoop) + p->cfg.msShutdown) ){
    forceCloseAll(w);
    ssoLoopExit(w->pLoop);
  }
}

static void onWorkerWake(SsoLoop *pLoop, void *pArg){
  Worker *w = pArg;
  SSO_UNUSED(pLoop);
  if( atomic_load(&w->pSrv->bStop) ) beginShutdown(w);
}

static int workerMain(Worker *w){
  SsoServer *p = w->pSrv;
  int rc = SSOPROXY_OK;
  ssoLoopTimerInit(&w->stopTimer, onStopDeadline, w);
  ssoLoopTimerInit(&w->acceptTimer, onAcceptTimer, w);
  if( p->cfg.xWorkerInit ){
    rc = p->cfg.xWorkerInit(p->cfg.pWorkerArg, w->iWorker, &w->pCtx);
    if( rc ){
      ssoServerStop(p);
      return rc;
    }
  }
  w->bInit = 1;
  ssoLoopOnWake(w->pLoop, onWorkerWake, w);
  rc = ssoLoopAdd(w->pLoop, w->fdListen, SSO_LOOP_READ, onAccept, w);
  if( rc==SSOPROXY_OK ){
    w->bListening = 1;
    if( atomic_load(&p->bStop) ) beginShutdown(w);
    if( !w->bStopping || w->nConn>0 ) rc = ssoLoopRun(w->pLoop);
  }
  if( rc ) ssoServerStop(p);
  forceCloseAll(w);
  if( w->bListening ){
    ssoLoopDel(w->pLoop, w->fdListen);
    w->bListening = 0;
  }
  ssoLoopTimerStop(w->pLoop, &w->stopTimer);
  ssoLoopTimerStop(w->pLoop, &w->acceptTimer);
  while( w->nSpareIn>0 ) ssoFree(w->apSpareIn[--w->nSpareIn]);
  while( w->nSpareOut>0 ) ssoFree(w->apSpareOut[--w->nSpareOut]);
  if( p->cfg.xWorkerFree ) p->cfg.xWorkerFree(p->cfg.pWorkerArg, w->iWorker,
                                              w->pCtx);
  w->pCtx = 0;
  w->bInit = 0;
  return rc;
}

static void *workerThread(void *pArg){
  Worker *w = pArg;
  w->rc = workerMain(w);
  return 0;
}

static int ssoServerRun(SsoServer *p){
  sigset_t old;
  int i, rc = SSOPROXY_OK;
  if( p->bRan ) return setErr(p, SSOPROXY_MISUSE, "server already ran");
  p->bRan = 1;
  /* Workers take no signals: the host's handler runs on its own thread
  ** and calls ssoServerStop(), which is all a handler may do anyway. */
  ssoLoopBlockSignals(&old);
  for(i=1; i<p->nWorker; i++){
    Worker *w = &p->aWorker[i];
    if( pthread_create(&w->tid, 0, workerThread, w) ){
      rc = setErr(p, SSOPROXY_ERROR, "cannot start worker thread %d", i);
      ssoServerStop(p);
      break;
    }
    w->bThread = 1;
  }
  pthread_sigmask(SIG_SETMASK, &old, 0);
  p->aWorker[0].rc = workerMain(&p->aWorker[0]);
  for(i=1; i<p->nWorker; i++){
    if( p->aWorker[i].bThread ){
      pthread_join(p->aWorker[i].tid, 0);
      p->aWorker[i].bThread = 0;
    }
  }
  for(i=0; i<p->nWorker && rc==SSOPROXY_OK; i++){
    if( p->aWorker[i].rc ){
      rc = setErr(p, p->aWorker[i].rc, "worker %d failed (result code %d)",
                  i, p->aWorker[i].rc);
    }
  }
  return rc;
}

static void ssoServerStop(SsoServer *p){
  int i;
  atomic_store(&p->bStop, 1);
  for(i=0; i<p->nWorker; i++){
    if( p->aWorker[i].pLoop ) ssoLoopWake(p->aWorker[i].pLoop);
  }
}

/* ---- The handler API ------------------------------------------------------------ */

static Conn *reqConn(SsoServerReq *pReq){ return (Conn*)pReq; }
static const Conn *reqConnC(const SsoServerReq *pReq){
  return (const Conn*)pReq;
}

static int ssoServerHeader(const SsoServerReq *pReq, const char *zName,
                                SsoStr *pVal){
  return ssoHttpHeaderFind(&reqConnC(pReq)->head, zName, pVal);
}

static int ssoServerDraining(const SsoServerReq *pReq){
  const Conn *c = reqConnC(pReq);
  return c->pWorker->bStopping || atomic_load(&c->pWorker->pSrv->bStop);
}

static size_t ssoServerQueued(const SsoServerReq *pReq){
  return outQueued(reqConnC(pReq));
}

/* Common precondition of the answering calls. */
static int answerable(const Conn *c, int eResp){
  if( c->bDead ) return SSOPROXY_NET;
  if( c->eState!=CONN_HANDLE || c->eResp!=eResp ) return SSOPROXY_MISUSE;
  return SSOPROXY_OK;
}

static int ssoServerStatus(SsoServerReq *pReq, int iStatus){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_NONE);
  if( rc ) return rc;
  if( iStatus<200 || iStatus>999 ) return SSOPROXY_MISUSE;
  respHead(c, iStatus);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

/* Fields the server writes itself; a handler setting them would
** desynchronise framing or duplicate a singleton field. */
static int reservedField(const char *zName, size_t nName){
  static const struct { unsigned char n; char z[19]; } a[] = {
    {14, "content-length"}, {17, "transfer-encoding"}, {10, "connection"},
    {4, "date"}, {12, "x-request-id"}, {10, "keep-alive"}, {7, "upgrade"},
    {7, "trailer"}
  };
  SsoStr s;
  size_t i;
  s.z = zName;
  s.n = nName;
  for(i=0; i<SSO_ARRAYSIZE(a); i++){
    if( a[i].n==nName && ssoHttpStrIEq(s, a[i].z) ) return 1;
  }
  return 0;
}

static int ssoServerAddHeader(SsoServerReq *pReq, const char *zName,
                                   const char *zValue){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_HEAD);
  size_t nName, nValue;
  if( rc ) return rc;
  nName = strlen(zName);
  if( !ssoHttpIsToken(zName, nName) ) return SSOPROXY_PARSE;
  if( reservedField(zName, nName) ) return SSOPROXY_MISUSE;
  for(nValue=0; zValue[nValue]; nValue++){
    unsigned char ch = (unsigned char)zValue[nValue];
    if( (ch<0x20 && ch!='\t') || ch==0x7f ) return SSOPROXY_PARSE;
  }
  outAppend(c, zName, nName);
  outAppend(c, ": ", 2);
  outAppend(c, zValue, nValue);
  outAppend(c, "\r\n", 2);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

static int ssoServerBody(SsoServerReq *pReq, const void *pBody,
                              size_t nBody){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_HEAD);
  if( rc ) return rc;
  respEndHead(c, (long long)nBody);
  if( !c->bHeadReq && !c->bBodyless ) outAppend(c, pBody, nBody);
  outCommit(c);
  c->eResp = RESP_DONE;
  c->bRespDone = 1;
  kick(c);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

static int ssoServerRespond(SsoServerReq *pReq, int iStatus,
                                 const char *zContentType,
                                 const void *pBody, size_t nBody){
  int rc = ssoServerStatus(pReq, iStatus);
  if( rc==SSOPROXY_OK && zContentType ){
    rc = ssoServerAddHeader(pReq, "Content-Type", zContentType);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(pReq, pBody, nBody);
  return rc;
}

static int ssoServerError(SsoServerReq *pReq, int iStatus,
                               const char *zMsg){
  char zSpace[512];
  SsoBuf b;
  int rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  errorJson(&b, iStatus, zMsg ? zMsg : statusMessage(iStatus));
  rc = b.rc ? b.rc : ssoServerRespond(pReq, iStatus, "application/json",
                                       b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

static int ssoServerAsync(SsoServerReq *pReq, SsoServerEventFn xAbort,
                               SsoServerEventFn xDrain, void *pArg){
  Conn *c = reqConn(pReq);
  if( c->bDead ) return SSOPROXY_NET;
  if( c->eState!=CONN_HANDLE || c->bRespDone ) return SSOPROXY_MISUSE;
  c->bAsync = 1;
  c->xAbort = xAbort;
  c->xDrain = xDrain;
  c->pAsyncArg = pArg;
  return SSOPROXY_OK;
}

static int ssoServerStreamBegin(SsoServerReq *pReq){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_HEAD);
  if( rc ) return rc;
  if( c->bBodyless ) return SSOPROXY_MISUSE;
  respEndHead(c, -1);
  outCommit(c);
  c->eResp = RESP_STREAM;
  kick(c);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

static int ssoServerStreamWritable(const SsoServerReq *pReq){
  const Conn *c = reqConnC(pReq);
  return !c->bDead && c->eResp==RESP_STREAM
      && outQueued(c)<c->pWorker->pSrv->cfg.nWriteHigh;
}

static int ssoServerStreamWrite(SsoServerReq *pReq, const void *pData,
                                     size_t n){
  Conn *c = reqConn(pReq);
  size_t nHigh = c->pWorker->pSrv->cfg.nWriteHigh;
  int rc = answerable(c, RESP_STREAM);
  if( rc ) return rc;
  if( outQueued(c)>=nHigh ){
    c->bPaused = 1;
    return SSOPROXY_TOOBIG;
  }
  /* A zero-length chunk would end the body: nothing to send is nothing. */
  if( n==0 || c->bHeadReq ) return SSOPROXY_OK;
  if( c->bChunkOut ){
    outPrintf(c, "%zx\r\n", n);
    outAppend(c, pData, n);
    outAppend(c, "\r\n", 2);
  }else{
    outAppend(c, pData, n);
  }
  outCommit(c);
  if( outQueued(c)>=nHigh ) c->bPaused = 1;
  kick(c);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

static int ssoServerStreamEnd(SsoServerReq *pReq){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_STREAM);
  if( rc ) return rc;
  if( c->bChunkOut && !c->bHeadReq ) outAppend(c, "0\r\n\r\n", 5);
  outCommit(c);
  c->eResp = RESP_DONE;
  c->bRespDone = 1;
  kick(c);
  return c->bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}
/************** End of server.c **************/
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

static int ssoStoreUserInsert(SsoStore *p, const SsoUser *pUser){
  SsoUser u = *pUser;
  if( u.tCreated==0 ) u.tCreated = ssoOsNowMs();
  if( u.tUpdated==0 ) u.tUpdated = u.tCreated;
  return storeRunRow(p, STMT_USER_INSERT, &tabUser, &u, 0);
}

static int ssoStoreUserGet(SsoStore *p, const char *zId,
                                SsoArena *pArena, SsoUser *pOut){
  return storeGetBy(p, STMT_USER_GET, zId, &tabUser, pArena, pOut);
}

static int ssoStoreUserGetByEmail(SsoStore *p, const char *zEmail,
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

static int ssoStoreUserUpdate(SsoStore *p, const SsoUser *pUser){
  SsoUser u = *pUser;
  if( u.tUpdated==0 ) u.tUpdated = ssoOsNowMs();
  return storeRunRow(p, STMT_USER_UPDATE, &tabUser, &u, 1);
}

static int ssoStoreUserDelete(SsoStore *p, const char *zId){
  return storeRunBy(p, STMT_USER_DELETE, zId, "user");
}

static int ssoStoreUserList(SsoStore *p, const char *zRole, int iOffset,
                                 int nLimit, SsoArena *pArena,
                                 SsoUser **paUser, int *pnUser){
  void *aRow;
  int rc = storeList(p, STMT_USER_LIST, zRole, 0, iOffset, nLimit,
                     &tabUser, pArena, &aRow, pnUser);
  *paUser = aRow;
  return rc;
}

static int ssoStoreUserCount(SsoStore *p, const char *zRole,
                                  int *pnUser){
  return storeGetBy(p, STMT_USER_COUNT, zRole, &tabCount, 0, pnUser);
}

/* ---- API keys ---- */

static int ssoStoreKeyInsert(SsoStore *p, const SsoKey *pKey){
  SsoKey k = *pKey;
  if( k.tCreated==0 ) k.tCreated = ssoOsNowMs();
  return storeRunRow(p, STMT_KEY_INSERT, &tabKey, &k, 0);
}

static int ssoStoreKeyGet(SsoStore *p, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut){
  return storeGetBy(p, STMT_KEY_GET, zHash, &tabKey, pArena, pOut);
}

/*
** One statement reads the key (columns 0..15) and its owner (16..25).
** A key without an owner has NULL user columns, which read as the
** zeroed SsoUser the caller expects.
*/
static int ssoStoreKeyAuth(SsoStore *p, const char *zHash,
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

static int ssoStoreKeyGetByAlias(SsoStore *p, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut){
  return storeGetBy(p, STMT_KEY_GET_ALIAS, zAlias, &tabKey, pArena, pOut);
}

static int ssoStoreKeyUpdate(SsoStore *p, const SsoKey *pKey){
  return storeRunRow(p, STMT_KEY_UPDATE, &tabKey, pKey, 1);
}

static int ssoStoreKeyDelete(SsoStore *p, const char *zHash){
  return storeRunBy(p, STMT_KEY_DELETE, zHash, "key");
}

static int ssoStoreKeyDeleteByAlias(SsoStore *p, const char *zAlias){
  return storeRunBy(p, STMT_KEY_DELETE_ALIAS, zAlias, "key");
}

static int ssoStoreKeyDeleteByUser(SsoStore *p, const char *zUserId,
                                        int *pnDeleted){
  int rc = storeRunBy(p, STMT_KEY_DELETE_USER, zUserId, 0);
  if( pnDeleted ) *pnDeleted = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

static int ssoStoreKeyList(SsoStore *p, const char *zUserId,
                                int iOffset, int nLimit, SsoArena *pArena,
                                SsoKey **paKey, int *pnKey){
  void *aRow;
  int rc = storeList(p, zUserId ? STMT_KEY_LIST_USER : STMT_KEY_LIST_ALL,
                     zUserId, 0, iOffset, nLimit, &tabKey, pArena,
                     &aRow, pnKey);
  *paKey = aRow;
  return rc;
}

static int ssoStoreKeyCount(SsoStore *p, const char *zUserId,
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

static int ssoStoreKeysUsage(SsoStore *p, const SsoKeyUsage *a, int n){
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

static int ssoStoreSessionInsert(SsoStore *p, const SsoSessionRow *pRow){
  SsoSessionRow r = *pRow;
  if( r.tCreated==0 ) r.tCreated = ssoOsNowMs();
  if( r.tSeen==0 ) r.tSeen = r.tCreated;
  return storeRunRow(p, STMT_SESSION_INSERT, &tabSession, &r, 0);
}

static int ssoStoreSessionGet(SsoStore *p, const char *zHash,
                                   SsoArena *pArena, SsoSessionRow *pOut){
  return storeGetBy(p, STMT_SESSION_GET, zHash, &tabSession, pArena, pOut);
}

static int ssoStoreSessionTouch(SsoStore *p, const char *zHash,
                                     long long tSeen){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_SESSION_TOUCH, zHash, &s, &rcBind);
  if( rc ) return rc;
  storeBindInt(s, 2, tSeen, &rcBind);
  return storeRun(p, s, rcBind, 0);
}

static int ssoStoreSessionDelete(SsoStore *p, const char *zHash){
  return storeRunBy(p, STMT_SESSION_DELETE, zHash, 0);
}

/* Run statement s (bound, rcBind) and report in *pn the rows it changed. */
static int storeRunCount(SsoStore *p, sqlite3_stmt *s, int rcBind, int *pn){
  int rc = storeRun(p, s, rcBind, 0);
  if( pn ) *pn = rc ? 0 : sqlite3_changes(p->db);
  return rc;
}

static int ssoStoreSessionDeleteUser(SsoStore *p, const char *zUserId,
                                          int *pn){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeStmtText(p, STMT_SESSION_DELETE_USER, zUserId, &s, &rcBind);
  if( rc ) return rc;
  return storeRunCount(p, s, rcBind, pn);
}

static int ssoStoreSessionPurge(SsoStore *p, long long tNow,
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

static int ssoStoreGrantInsert(SsoStore *p, const SsoGrant *pGrant){
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

static int ssoStoreGrantTake(SsoStore *p, const char *zHash,
                                  const char *zKind, SsoArena *pArena,
                                  SsoGrant *pOut){
  return storeGrantRead(p, STMT_GRANT_TAKE, zHash, zKind, pArena, pOut);
}

static int ssoStoreGrantGet(SsoStore *p, const char *zHash,
                                 const char *zKind, SsoArena *pArena,
                                 SsoGrant *pOut){
  return storeGrantRead(p, STMT_GRANT_GET, zHash, zKind, pArena, pOut);
}

static int ssoStoreGrantUpdate(SsoStore *p, const char *zHash,
                                    const char *zKind, const char *zData){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeGrantStmt(p, STMT_GRANT_UPDATE, zHash, zKind, &s, &rcBind);
  if( rc ) return rc;
  storeBindText(s, 3, zData ? zData : "{}", &rcBind);
  return storeRun(p, s, rcBind, tabGrant.zWhat);
}

static int ssoStoreGrantDelete(SsoStore *p, const char *zHash,
                                    const char *zKind){
  sqlite3_stmt *s;
  int rcBind;
  int rc = storeGrantStmt(p, STMT_GRANT_DELETE, zHash, zKind, &s, &rcBind);
  return rc ? rc : storeRun(p, s, rcBind, 0);
}

static int ssoStoreGrantPurge(SsoStore *p, long long tBefore, int *pn){
  sqlite3_stmt *s;
  int rcBind = SQLITE_OK;
  int rc = storeStmt(p, STMT_GRANT_PURGE, &s);
  if( rc ) return rc;
  storeBindInt(s, 1, tBefore, &rcBind);
  return storeRunCount(p, s, rcBind, pn);
}

/* ---- Audit log ---- */

static int ssoStoreAuditAppend(SsoStore *p, const SsoAudit *pEntry,
                                    long long *piId){
  SsoAudit e = *pEntry;
  int rc;
  e.iId = 0;                      /* Bound as NULL: SQLite picks the id */
  if( e.tAt==0 ) e.tAt = ssoOsNowMs();
  rc = storeRunRow(p, STMT_AUDIT_INSERT, &tabAudit, &e, 0);
  if( piId ) *piId = rc ? 0 : sqlite3_last_insert_rowid(p->db);
  return rc;
}

static int ssoStoreAuditList(SsoStore *p, const char *zObjectType,
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

static int ssoStoreAuditCount(SsoStore *p, const char *zObjectType,
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
/************** End of store.c **************/
/************** Begin file health.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the health endpoints that container orchestrators and load
** balancers poll. Same paths and bodies as LiteLLM (whose liveliness
** answer is the JSON string "I'm alive!"), so existing probes keep
** working. Readiness asks the app's database probe on the calling
** worker's own connection; nothing here touches SQL.
*/
/* #include "ssoInt.h" */

static int answerJson(SsoServerReq *pReq, int iStatus, const char *z,
                      size_t n){
  int rc = ssoServerStatus(pReq, iStatus);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(pReq, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(pReq, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(pReq, z, n);
  return rc;
}

static int shuttingDown(SsoServerReq *pReq){
  static const char z[] = "{\"status\":\"shutting_down\"}";
  return answerJson(pReq, 503, z, sizeof(z)-1);
}

static int onLiveliness(SsoServerReq *pReq, void *pArg){
  static const char z[] = "\"I'm alive!\"";
  SSO_UNUSED(pArg);
  if( ssoServerDraining(pReq) ) return shuttingDown(pReq);
  return answerJson(pReq, 200, z, sizeof(z)-1);
}

static int onReadiness(SsoServerReq *pReq, void *pArg){
  const SsoHealth *h = pArg;
  char zReason[128], zSpace[256];
  SsoBuf b;
  int rc, bReady = 1;
  const char *zDb = "not configured";
  if( ssoServerDraining(pReq) ) return shuttingDown(pReq);
  if( h->xDbReady ){
    zReason[0] = 0;
    bReady = h->xDbReady(pReq->pWorkerCtx, h->pArg, zReason,
                         sizeof(zReason))==0;
    zReason[sizeof(zReason)-1] = 0;
    zDb = bReady ? "connected" : (zReason[0] ? zReason : "not connected");
  }
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 4096);
  ssoBufPrintf(&b, "{\"status\":\"%s\",\"db\":",
               bReady ? "healthy" : "unhealthy");
  ssoBufAppendJsonString(&b, zDb, strlen(zDb));
  if( bReady ){
    ssoBufAppendStr(&b, ",\"cache\":null,\"ssoproxy_version\":\""
                        SSOPROXY_VERSION "\"");
  }
  ssoBufAppendChar(&b, '}');
  rc = b.rc ? b.rc : answerJson(pReq, bReady ? 200 : 503, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

static int ssoHealthRegister(SsoServer *pSrv, const SsoHealth *pHealth){
  void *pArg = (void*)(uintptr_t)pHealth;   /* handlers only read it */
  int rc = ssoServerRoute(pSrv, "GET", "/health/liveliness", onLiveliness, 0);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/health/liveness", onLiveliness, 0);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/health/readiness", onReadiness, pArg);
  }
  return rc;
}
/************** End of health.c **************/
/************** Begin file authz.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: authentication and the permission matrix.
**
** Every management request comes through ssoAuthzAuthenticate(): take the
** credential from the first of LiteLLM's key headers that is present,
** compare it with the master key (SHA-256 of both, compared in constant
** time, so neither the length nor a prefix of the master key leaks
** through timing), else hash it and look the key up with its owner in one
** indexed statement. There is deliberately no cache: a key deleted or
** blocked, an owner disabled, deleted or demoted, is refused or limited
** on the very next request. The lookup is one B-tree probe per table.
**
** The matrix below is the only place that says who may do what. It
** follows LiteLLM's access-control table (reference §4): viewers read,
** an internal user manages only their own keys, only proxy_admin changes
** other people's things or any user, and the admin viewer sees all.
*/
/* #include "ssoInt.h" */
#include <strings.h>
#include <time.h>

/* ---- Roles ---- */

static const char *const azAuthzRole[SSO_ROLE_COUNT] = {
  "", "internal_user_viewer", "internal_user", "proxy_admin_viewer",
  "proxy_admin"
};

static int ssoAuthzRole(const char *zName, int *pbAlias){
  int i;
  if( pbAlias ) *pbAlias = 0;
  if( zName==0 || zName[0]==0 ) return SSO_ROLE_NONE;
  for(i=1; i<SSO_ROLE_COUNT; i++){
    if( strcmp(zName, azAuthzRole[i])==0 ) return i;
  }
  /* LiteLLM issue #33690: its docs name the enum member, not the value. */
  if( strcmp(zName, "internal_user_view_only")==0 ){
    if( pbAlias ) *pbAlias = 1;
    return SSO_ROLE_INTERNAL_USER_VIEWER;
  }
  return SSO_ROLE_NONE;
}

static const char *ssoAuthzRoleName(int eRole){
  return (eRole>0 && eRole<SSO_ROLE_COUNT) ? azAuthzRole[eRole] : "";
}

/* ---- The permission matrix ---- */

static const char *const azAuthzPath[SSO_ACT_COUNT] = {
  "/key/generate", "/key/info", "/key/update", "/key/delete", "/key/list",
  "/key/block", "/key/unblock", "/user/new", "/user/update", "/user/info",
  "/user/list", "/user/delete", "/audit/list"
};

/*
** The permission matrix: a row per role, a column per endpoint (in the
** order of azAuthzPath and the SSO_ACT_* numbers). N: refused, O: only
** the caller's own keys or user row, A: anything.
*/
#define N SSO_SCOPE_NONE
#define O SSO_SCOPE_OWN
#define A SSO_SCOPE_ANY
static const unsigned char aAuthzMatrix[SSO_ROLE_COUNT][SSO_ACT_COUNT] = {
  /*                  key/: gen inf upd del lst blk unb  user/: new upd inf
                                                      lst del  audit/list */
  [SSO_ROLE_NONE]                 = { N,N,N,N,N,N,N, N,N,N,N,N, N },
  [SSO_ROLE_INTERNAL_USER_VIEWER] = { N,O,N,N,O,N,N, N,N,O,N,N, N },
  [SSO_ROLE_INTERNAL_USER]        = { O,O,O,O,O,N,N, N,N,O,N,N, N },
  [SSO_ROLE_PROXY_ADMIN_VIEWER]   = { N,A,N,N,A,N,N, N,N,A,A,N, A },
  [SSO_ROLE_PROXY_ADMIN]          = { A,A,A,A,A,A,A, A,A,A,A,A, A },
};
#undef N
#undef O
#undef A

static int ssoAuthzScope(int eRole, int eAction){
  if( eRole<=0 || eRole>=SSO_ROLE_COUNT ) return SSO_SCOPE_NONE;
  if( eAction<0 || eAction>=SSO_ACT_COUNT ) return SSO_SCOPE_NONE;
  return aAuthzMatrix[eRole][eAction];
}

static const char *ssoAuthzActionPath(int eAction){
  if( eAction<0 || eAction>=SSO_ACT_COUNT ) return "";
  return azAuthzPath[eAction];
}

static int ssoAuthzMayTouch(const SsoCaller *p, int eAction,
                                 const char *zOwner, const char *zKeyHash){
  switch( ssoAuthzScope(p->eRole, eAction) ){
    case SSO_SCOPE_ANY:
      return 1;
    case SSO_SCOPE_OWN:
      if( p->zUserId ) return zOwner && strcmp(zOwner, p->zUserId)==0;
      /* A key without an owner owns nothing but itself. */
      return zKeyHash && p->key.zHash && strcmp(zKeyHash, p->key.zHash)==0;
  }
  return 0;
}

/* ---- Errors ---- */

/*
** vsnprintf() that never leaves half a UTF-8 character at the end when
** it truncates, so a message with user text in it stays valid JSON text.
*/
static void authzPrintf(char *z, size_t nZ, const char *zFmt, va_list ap)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 0)))
#endif
  ;
static void authzPrintf(char *z, size_t nZ, const char *zFmt, va_list ap){
  size_t n;
  vsnprintf(z, nZ, zFmt, ap);
  n = strlen(z);
  if( n+1<nZ ) return;
  while( n>0 && ((unsigned char)z[n-1] & 0xc0)==0x80 ) n--;
  if( n>0 && (unsigned char)z[n-1]>=0xc0 ) n--;
  z[n] = 0;
}

static int ssoAuthzFailV(SsoAuthzErr *p, int iStatus, const char *zType,
                              const char *zParam, const char *zFmt,
                              va_list ap){
  if( p->iStatus ) return SSOPROXY_ERROR;    /* The first error wins */
  p->iStatus = iStatus;
  p->zType = zType;
  p->zParam = zParam;
  authzPrintf(p->zMsg, sizeof(p->zMsg), zFmt, ap);
  return SSOPROXY_ERROR;
}

static int ssoAuthzFail(SsoAuthzErr *p, int iStatus, const char *zType,
                             const char *zParam, const char *zFmt, ...){
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = ssoAuthzFailV(p, iStatus, zType, zParam, zFmt, ap);
  va_end(ap);
  return rc;
}

static int authzDenied(SsoAuthzErr *p, const char *zMsg){
  return ssoAuthzFail(p, 401, "auth_error", 0, "%s", zMsg);
}

/* ---- Key text ---- */

static void ssoAuthzKeyHash(const char *z, size_t n, char *zHex){
  unsigned char a[SSO_SHA256_LEN];
  ssoSha256(z, n, a);
  ssoHexEncode(a, sizeof(a), zHex);
}

/* Copy n bytes, each outside printable ASCII as '?': what a client sent
** may be any bytes, and what we show of it must be plain text. */
static void authzShow(char *zOut, const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    zOut[i] = (z[i]>0x20 && z[i]<0x7f) ? z[i] : '?';
  }
  zOut[n] = 0;
}

static void ssoAuthzKeyDisplay(const char *z, size_t n, char *zOut){
  size_t nTail = n<4 ? n : 4;
  memcpy(zOut, "sk-...", 6);
  authzShow(zOut+6, z+n-nTail, nTail);
}

static void ssoAuthzMask(const char *z, size_t n, char *zOut,
                              size_t nOut){
  assert( nOut>=9 );
  memcpy(zOut, "****", 5);
  /* A short secret keeps nothing: four characters of it are too many. */
  if( n>=16 ) authzShow(zOut+4, z+n-4, 4);
}

static int ssoAuthzKeyNew(SsoRng *pRng, char *zOut){
  unsigned char a[SSO_KEY_RANDOM];
  int rc = ssoRngBytes(pRng, a, sizeof(a));
  if( rc==SSOPROXY_OK ){
    memcpy(zOut, SSO_KEY_PREFIX, 3);
    ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, zOut+3);
  }
  memset(a, 0, sizeof(a));
  return rc;
}

static void ssoAuthzTimeText(long long tMs, char *z){
  time_t t = (time_t)(tMs/1000);
  struct tm tm;
  char zTmp[96];      /* Room for any int the compiler imagines */
  if( tMs<0 || gmtime_r(&t, &tm)==0 ){
    memcpy(z, "1970-01-01T00:00:00.000Z", 25);
    return;
  }
  snprintf(zTmp, sizeof(zTmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(tMs%1000));
  memcpy(z, zTmp, 31);
  z[31] = 0;
}

/* ---- Credentials ---- */

static void ssoAuthzInit(SsoAuthz *p, const char *zMasterKey){
  memset(p, 0, sizeof(*p));
  if( zMasterKey && zMasterKey[0] ){
    p->bMaster = 1;
    ssoSha256(zMasterKey, strlen(zMasterKey), p->aMaster);
  }
}

/* Strip a leading "Bearer " (scheme case-insensitive, RFC 9110 §11.1). */
static int authzBearer(SsoStr *p){
  if( p->n>=7 && strncasecmp(p->z, "Bearer ", 7)==0 ){
    p->z += 7;
    p->n -= 7;
    while( p->n>0 && (p->z[0]==' ' || p->z[0]=='\t') ){ p->z++; p->n--; }
    return 1;
  }
  return 0;
}

/*
** LiteLLM's headers, in its order: the standard one, its own, Azure's,
** Anthropic's. The first one present is the credential; a request does
** not get to try several.
*/
static const char *const azAuthzHeader[] = {
  "Authorization", "x-litellm-api-key", "api-key", "x-api-key"
};

static int ssoAuthzCredential(const SsoHttpHeader *aHdr, int nHdr,
                                   SsoStr *pCred, SsoAuthzErr *pErr){
  size_t i;
  int j;
  for(i=0; i<SSO_ARRAYSIZE(azAuthzHeader); i++){
    for(j=0; j<nHdr; j++){
      if( ssoHttpStrIEq(aHdr[j].name, azAuthzHeader[i]) ) break;
    }
    if( j==nHdr ) continue;
    *pCred = aHdr[j].value;
    if( !authzBearer(pCred) && i==0 ){
      authzDenied(pErr, "Malformed API Key passed in. Ensure Key "
                  "has `Bearer ` prefix.");
      return SSOPROXY_PARSE;
    }
    if( pCred->n==0 ){
      authzDenied(pErr, "No api key passed in.");
      return SSOPROXY_PARSE;
    }
    return SSOPROXY_OK;
  }
  pCred->z = "";
  pCred->n = 0;
  return SSOPROXY_NOTFOUND;
}

/* The caller's role and actor name, once key and owner are known. */
static int authzFromUser(SsoCaller *p, SsoArena *pArena){
  p->zUserId = p->user.zId;
  p->eRole = ssoAuthzRole(p->user.zRole, 0);
  if( p->zUserId ){
    p->zActor = p->zUserId;
  }else{
    /* A key without an owner: LiteLLM lets such keys read themselves. */
    char *z = ssoArenaAlloc(pArena, 4+SSO_KEY_DISPLAY);
    if( z==0 ) return SSOPROXY_NOMEM;
    snprintf(z, 4+SSO_KEY_DISPLAY, "key:%s", p->key.zDisplay);
    p->zActor = z;
    p->eRole = SSO_ROLE_INTERNAL_USER_VIEWER;
  }
  return SSOPROXY_OK;
}

/* The key behind credential c (aSha: its SHA-256, the key table's
** index as hex), checked for every reason to refuse it. */
static int authzKey(SsoStore *pStore, SsoStr c, const unsigned char *aSha,
                    long long tNow, SsoArena *pArena, SsoCaller *p,
                    SsoAuthzErr *pErr){
  char zHash[SSO_KEY_HEX], zShow[SSO_KEY_DISPLAY], zExp[32], zNow[32];
  int rc;
  ssoAuthzKeyDisplay(c.z, c.n, zShow);
  ssoHexEncode(aSha, SSO_SHA256_LEN, zHash);
  rc = ssoStoreKeyAuth(pStore, zHash, pArena, &p->key, &p->user);
  if( rc==SSOPROXY_NOTFOUND ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "Invalid proxy server token passed. Received API Key "
                        "= %s. Unable to find token in the key table.",
                        zShow);
  }
  if( rc ) return rc;
  p->eKind = SSO_CALLER_KEY;
  if( p->key.tExpires && p->key.tExpires<=tNow ){
    ssoAuthzTimeText(p->key.tExpires, zExp);
    ssoAuthzTimeText(tNow, zNow);
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error - "
                        "Expired Key. Key Expiry time %s and current time "
                        "%s", zExp, zNow);
  }
  if( p->key.bBlocked ){
    return authzDenied(pErr, "Authentication Error, Key is blocked. "
                       "Update via `/key/unblock` if you're admin.");
  }
  if( p->user.zId && p->user.bDisabled ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "User %s is disabled.", p->user.zId);
  }
  return authzFromUser(p, pArena);
}

/* A browser session (when a session module is plugged in). */
static int authzSession(const SsoAuthz *pAuthz, SsoStore *pStore,
                        SsoStr method, const SsoHttpHeader *aHdr, int nHdr,
                        long long tNow, SsoArena *pArena, SsoCaller *p,
                        SsoAuthzErr *pErr){
  const char *zUserId = 0;
  int rc = SSOPROXY_NOTFOUND;
  if( pAuthz->xSession ){
    rc = pAuthz->xSession(pAuthz->pSessionArg, method, aHdr, nHdr, pStore,
                          tNow, pArena, &zUserId);
  }
  if( rc==SSOPROXY_CONSTRAINT ){
    return ssoAuthzFail(pErr, 403, "auth_error", "X-CSRF-Token",
                        "A browser session must send its CSRF token in the "
                        "X-CSRF-Token header with this request.");
  }
  if( rc==SSOPROXY_NOTFOUND ){
    return authzDenied(pErr, "No api key passed in.");
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserGet(pStore, zUserId, pArena,
                                             &p->user);
  if( rc==SSOPROXY_NOTFOUND ){
    return authzDenied(pErr, "Authentication Error, the session's "
                       "user no longer exists.");
  }
  if( rc ) return rc;
  if( p->user.bDisabled ){
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "Authentication Error, "
                        "User %s is disabled.", p->user.zId);
  }
  p->eKind = SSO_CALLER_SESSION;
  return authzFromUser(p, pArena);
}

static int ssoAuthzAuthenticate(const SsoAuthz *pAuthz,
                                     SsoStore *pStore, SsoStr method,
                                     const SsoHttpHeader *aHdr, int nHdr,
                                     long long tNow, SsoArena *pArena,
                                     SsoCaller *p, SsoAuthzErr *pErr){
  unsigned char aGiven[SSO_SHA256_LEN];
  char zMask[16];
  SsoStr c;
  int rc;
  memset(p, 0, sizeof(*p));
  rc = ssoAuthzCredential(aHdr, nHdr, &c, pErr);
  if( rc==SSOPROXY_NOTFOUND ){
    return authzSession(pAuthz, pStore, method, aHdr, nHdr, tNow, pArena, p,
                        pErr);
  }
  if( rc ) return SSOPROXY_ERROR;
  /* One digest serves both checks: the master key is compared by its
  ** hash (in constant time), and a virtual key is looked up by it. */
  ssoSha256(c.z, c.n, aGiven);
  if( pAuthz->bMaster ){
    if( ssoCtEqual(aGiven, pAuthz->aMaster, sizeof(aGiven)) ){
      p->eKind = SSO_CALLER_MASTER;
      p->eRole = SSO_ROLE_PROXY_ADMIN;
      p->zActor = "master_key";
      return SSOPROXY_OK;
    }
  }
  if( c.n<3 || memcmp(c.z, SSO_KEY_PREFIX, 3)!=0 ){
    ssoAuthzMask(c.z, c.n, zMask, sizeof(zMask));
    return ssoAuthzFail(pErr, 401, "auth_error", 0, "LiteLLM Virtual Key "
                        "expected. Received=%s, expected to start with "
                        "'sk-'.", zMask);
  }
  return authzKey(pStore, c, aGiven, tNow, pArena, p, pErr);
}
/************** End of authz.c **************/
/************** Begin file api.c **************/
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
/* #include "ssoInt.h" */
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

static int ssoApiWorkerNew(SsoApi *pApi, SsoStore *pStore,
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

static void ssoApiWorkerFree(SsoApiWorker *p){
  if( p==0 ) return;
  if( p->pLoop ) ssoLoopTimerStop(p->pLoop, &p->flush);
  ssoApiWorkerFlush(p);
  ssoClientFree(p->pClient);
  ssoRngFree(p->pRng);
  ssoStoreClose(p->pStore);
  ssoFree(p);
}

static SsoStore *ssoApiWorkerStore(const SsoApiWorker *p){
  return p ? p->pStore : 0;
}

static SsoRng *ssoApiWorkerRng(const SsoApiWorker *p){
  return p ? p->pRng : 0;
}

static int ssoApiWorkerClient(SsoApiWorker *p, SsoLoop *pLoop,
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

static int ssoApiWorkerFlush(SsoApiWorker *p){
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

static void ssoApiWorkerTouch(SsoApiWorker *p, SsoLoop *pLoop,
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

static void ssoApiWriteKey(SsoJsonWriter *w, const SsoKey *k){
  ssoJsonWriteBeginObject(w);
  apiWriteKeyMembers(w, k);
  ssoJsonWriteEndObject(w);
}

static void ssoApiWriteUser(SsoJsonWriter *w, const SsoUser *u){
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

static int ssoApiKeyInsert(SsoStore *pStore, SsoRng *pRng,
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

static int ssoApiKeySave(SsoStore *pStore, const char *zActor,
                              const SsoKey *pOld, const SsoKey *pNew){
  int rc = ssoStoreKeyUpdate(pStore, pNew);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "update", "key", pOld->zHash, apiRowKey,
                  pOld, pNew);
}

static int ssoApiKeyDrop(SsoStore *pStore, const char *zActor,
                              const SsoKey *pOld){
  int rc = ssoStoreKeyDelete(pStore, pOld->zHash);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "delete", "key", pOld->zHash, apiRowKey,
                  pOld, 0);
}

static int ssoApiUserInsert(SsoStore *pStore, const char *zActor,
                                 SsoUser *pUser){
  int rc;
  if( pUser->tCreated==0 ) pUser->tCreated = ssoOsNowMs();
  if( pUser->tUpdated==0 ) pUser->tUpdated = pUser->tCreated;
  rc = ssoStoreUserInsert(pStore, pUser);
  if( rc ) return rc;
  return apiAudit(pStore, zActor, "create", "user", pUser->zId, apiRowUser,
                  0, pUser);
}

static int ssoApiUserSave(SsoStore *pStore, const char *zActor,
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

static int ssoApiUserDrop(SsoStore *pStore, const char *zActor,
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

static int ssoApiDuration(const char *z, long long *pMs){
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

static int ssoApiServe(SsoApi *pApi, SsoApiWorker *pW,
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

static void ssoApiInit(SsoApi *p, const char *zMasterKey, SsoLog *pLog){
  int i;
  memset(p, 0, sizeof(*p));
  ssoAuthzInit(&p->authz, zMasterKey);
  p->pLog = pLog;
  for(i=0; i<SSO_ACT_COUNT; i++){
    p->aRoute[i].pApi = p;
    p->aRoute[i].eAction = i;
  }
}

static int ssoApiRegister(SsoServer *pSrv, SsoApi *p){
  int i, rc = SSOPROXY_OK;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ACT_COUNT; i++){
    rc = ssoServerRoute(pSrv, apiIsPost(i) ? "POST" : "GET",
                        ssoAuthzActionPath(i), apiOnRequest, &p->aRoute[i]);
  }
  return rc;
}
/************** End of api.c **************/
/************** Begin file page.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: HTML pages. Every page ssoproxy serves (sign-in, consent,
** errors) is built here, so every one of them carries the same
** protective headers:
**
**   X-Frame-Options: DENY and CSP frame-ancestors 'none'
**       no framing, so no clickjacking of a consent or logout button
**       (RFC 9700 §4.16);
**   Content-Security-Policy: default-src 'none'
**       the pages load nothing and run no script: an injection that
**       slipped past the escaping could neither run code nor fetch;
**       style-src 'unsafe-inline' allows the one inline <style>;
**       form-action 'self' so a form posts only to us; base-uri 'none';
**   Referrer-Policy: no-referrer
**       a page's URL may hold a state or a code; it never leaks onward
**       (RFC 9700 §4.2.4);
**   Cache-Control: no-store
**       pages may carry codes, CSRF tokens or keys;
**   X-Content-Type-Options: nosniff.
**
** The shell is plain, accessible HTML (a language, a viewport, one main
** landmark, visible focus, high contrast) with no external resource.
*/
/* #include "ssoInt.h" */

static void ssoPageEscape(SsoBuf *b, const char *z, size_t n){
  size_t i, iStart = 0;
  for(i=0; i<n; i++){
    const char *zRep;
    switch( z[i] ){
      case '&':  zRep = "&amp;";  break;
      case '<':  zRep = "&lt;";   break;
      case '>':  zRep = "&gt;";   break;
      case '"':  zRep = "&quot;"; break;
      case '\'': zRep = "&#39;";  break;
      /* A NUL would end the text in some parsers and is a parse error in
      ** HTML; show the replacement character instead. */
      case 0:    zRep = "&#xFFFD;"; break;
      default:   continue;
    }
    ssoBufAppend(b, z+iStart, i-iStart);
    ssoBufAppendStr(b, zRep);
    iStart = i+1;
  }
  ssoBufAppend(b, z+iStart, n-iStart);
}

#define PAGE_CSP_HEAD "default-src 'none'; style-src 'unsafe-inline'; " \
                      "form-action 'self'"
#define PAGE_CSP_TAIL "; frame-ancestors 'none'; base-uri 'none'"

/* 1 if z may be appended to form-action: source expressions only. */
static int pageCspSourcesOk(const char *z){
  for(; *z; z++){
    unsigned char c = (unsigned char)*z;
    if( c<0x21 && c!=' ' ) return 0;
    if( c>=0x7f || c==';' || c==',' || c=='\'' || c=='"' ) return 0;
  }
  return 1;
}

static int ssoPageHeadersEx(SsoServerReq *req, const char *zFormAction){
  static const char *const azHdr[] = {
    "Content-Type", "text/html; charset=utf-8",
    "X-Frame-Options", "DENY",
    "Referrer-Policy", "no-referrer",
    "Cache-Control", "no-store",
    "X-Content-Type-Options", "nosniff",
  };
  char zSpace[512];
  SsoBuf b;
  size_t i;
  int rc = SSOPROXY_OK;
  if( zFormAction && !pageCspSourcesOk(zFormAction) ) return SSOPROXY_MISUSE;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(azHdr); i+=2){
    rc = ssoServerAddHeader(req, azHdr[i], azHdr[i+1]);
  }
  if( rc ) return rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoBufAppendStr(&b, PAGE_CSP_HEAD);
  if( zFormAction && zFormAction[0] ){
    ssoBufAppend(&b, " ", 1);
    ssoBufAppendStr(&b, zFormAction);
  }
  ssoBufAppendStr(&b, PAGE_CSP_TAIL);
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Security-Policy", ssoBufStr(&b));
  }
  ssoBufFree(&b);
  return rc;
}

static int ssoPageHeaders(SsoServerReq *req){
  return ssoPageHeadersEx(req, 0);
}

/*
** The style sheet: system fonts, a narrow centred column, strong
** contrast (WCAG AA), a visible focus ring, and dark mode.
*/
static const char zPageCss[] =
  ":root{color-scheme:light dark;--fg:#1a1a1a;--bg:#f6f6f4;--card:#fff;"
  "--line:#c8c8c8;--accent:#0b57d0;--accent-fg:#fff;--muted:#555;"
  "--bad:#a50e0e}"
  "@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#16181c;"
  "--card:#22252b;--line:#4a4f57;--accent:#8ab4f8;--accent-fg:#0b1a33;"
  "--muted:#b8b8b8;--bad:#f28b82}}"
  "*{box-sizing:border-box}"
  "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',"
  "Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
  "main{max-width:28rem;margin:3rem auto;padding:2rem;"
  "background:var(--card);border:1px solid var(--line);border-radius:8px}"
  "h1{font-size:1.4rem;margin:0 0 1rem}"
  "p{margin:.75rem 0}"
  "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"
  "input[type=text],input[type=password]{width:100%;padding:.5rem;"
  "font:inherit;color:inherit;background:var(--bg);"
  "border:1px solid var(--line);border-radius:4px}"
  "button,.button{display:inline-block;margin-top:1rem;padding:.55rem 1.1rem;"
  "font:inherit;font-weight:600;text-decoration:none;cursor:pointer;"
  "color:var(--accent-fg);background:var(--accent);border:0;"
  "border-radius:4px}"
  ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
  "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}"
  "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
  ".muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}"
  "hr{border:0;border-top:1px solid var(--line);margin:1.5rem 0}"
  "footer{margin-top:1.5rem;font-size:.85rem;color:var(--muted)}";

static void ssoPageBuild(SsoBuf *b, const char *zTitle,
                              const char *zBodyHtml){
  ssoBufAppendStr(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                  "<meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">"
                  "<meta name=\"referrer\" content=\"no-referrer\">"
                  "<title>");
  ssoPageEscape(b, zTitle, strlen(zTitle));
  ssoBufAppendStr(b, " - ssoproxy</title><style>");
  ssoBufAppendStr(b, zPageCss);
  ssoBufAppendStr(b, "</style></head>\n<body><main>\n<h1>");
  ssoPageEscape(b, zTitle, strlen(zTitle));
  ssoBufAppendStr(b, "</h1>\n");
  ssoBufAppendStr(b, zBodyHtml);
  ssoBufAppendStr(b, "\n<footer>ssoproxy</footer>\n</main></body></html>\n");
}

static int ssoPageRespond(SsoServerReq *req, int iStatus,
                               const char *zTitle, const char *zBodyHtml){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoPageBuild(&b, zTitle, zBodyHtml);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

static int ssoPageError(SsoServerReq *req, int iStatus,
                             const char *zTitle, const char *zMessage){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "<p class=\"error\" role=\"alert\">");
  ssoPageEscape(&b, zMessage, strlen(zMessage));
  ssoBufAppendStr(&b, "</p>\n<p><a href=\"/ui\">Back to the start page"
                  "</a></p>");
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoPageRespond(req, iStatus, zTitle,
                                            ssoBufStr(&b));
  ssoBufFree(&b);
  return rc;
}

static int ssoPageRedirect(SsoServerReq *req, int iStatus,
                                const char *zLocation){
  int rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", zLocation);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  return rc ? rc : ssoServerBody(req, "", 0);
}
/************** End of page.c **************/
/************** Begin file session.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: browser sessions.
**
** The cookie holds 256 random bits, base64url (43 characters). The store
** keeps only the SHA-256 of that text, so a copy of the database holds no
** usable session. The cookie is HttpOnly (no script reads it), SameSite=
** Lax (cross-site POSTs do not carry it), Path=/, and with an https
** PROXY_BASE_URL also Secure with the __Host- prefix, which forbids a
** Domain attribute so a sibling sub-domain cannot plant ("toss") one.
**
** Lifetimes: a session ends tMax after sign-in whatever happens (the
** row's tExpires, also the cookie's Max-Age) and after msIdle without a
** request. Recording every request would be one write per request;
** instead tSeen moves only when it is a minute old (or a quarter of the
** idle lifetime, when that is shorter), so the idle rule is exact to
** within that grain. Expired sessions are deleted when a request meets
** them and all at once at every sign-in (ssoSessionPurge).
**
** CSRF: the token of a session is base64url(HMAC-SHA256(key = the
** cookie's id, "ssoproxy csrf v1")). Only the holder of the cookie and
** the server during its request can compute it; the database cannot
** (it has only the hash), and nothing more is stored. Forms carry it in
** a hidden field; API calls in an X-CSRF-Token header. SameSite=Lax
** already keeps the cookie off cross-site POSTs; the token also covers
** same-site attackers and browsers without SameSite.
*/
/* #include "ssoInt.h" */
#include <strings.h>

static const char zSessionCsrfLabel[] = "ssoproxy csrf v1";

static void ssoSessionInit(SsoSessions *p, const char *zBaseUrl,
                                long long msIdle, long long msMax){
  memset(p, 0, sizeof(*p));
  p->bSecure = zBaseUrl && strncasecmp(zBaseUrl, "https://", 8)==0;
  p->zCookie = p->bSecure ? "__Host-ssoproxy_session" : "ssoproxy_session";
  p->msIdle = msIdle;
  p->msMax = msMax;
}

/* ---- Cookies ---- */

static int sessionIsSpace(char c){ return c==' ' || c=='\t'; }

static int ssoSessionCookieGet(const SsoHttpHeader *aHdr, int nHdr,
                                    const char *zName, SsoStr *pVal){
  size_t nName = strlen(zName);
  int i, nPair = 0;
  pVal->z = "";
  pVal->n = 0;
  for(i=0; i<nHdr; i++){
    const char *z, *zEnd;
    if( !ssoHttpStrIEq(aHdr[i].name, "Cookie") ) continue;
    z = aHdr[i].value.z;
    zEnd = z + aHdr[i].value.n;
    while( z<zEnd ){
      const char *zPair = z, *zEq = 0, *zN0, *zN1, *zV0, *zV1;
      while( z<zEnd && *z!=';' ){
        if( *z=='=' && zEq==0 ) zEq = z;
        z++;
      }
      zV1 = z;
      if( z<zEnd ) z++;                      /* Past the ';' */
      if( ++nPair>SSO_SESSION_MAX_PAIRS ) return SSOPROXY_NOTFOUND;
      if( zEq==0 ) continue;
      zN0 = zPair;
      zN1 = zEq;
      while( zN0<zN1 && sessionIsSpace(*zN0) ) zN0++;
      while( zN1>zN0 && sessionIsSpace(zN1[-1]) ) zN1--;
      if( (size_t)(zN1-zN0)!=nName || memcmp(zN0, zName, nName)!=0 ){
        continue;
      }
      zV0 = zEq+1;
      while( zV0<zV1 && sessionIsSpace(*zV0) ) zV0++;
      while( zV1>zV0 && sessionIsSpace(zV1[-1]) ) zV1--;
      /* RFC 6265 §4.1.1: a value may be wrapped in DQUOTEs. */
      if( zV1-zV0>=2 && zV0[0]=='"' && zV1[-1]=='"' ){ zV0++; zV1--; }
      pVal->z = zV0;
      pVal->n = (size_t)(zV1-zV0);
      return SSOPROXY_OK;
    }
  }
  return SSOPROXY_NOTFOUND;
}

static int ssoSessionIdWellFormed(const char *z, size_t n){
  size_t i;
  if( n!=SSO_SESSION_ID_LEN ) return 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( !((c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9')
          || c=='-' || c=='_') ) return 0;
  }
  return 1;
}

static void ssoSessionCookieName(const SsoSessions *p,
                                      const char *zBase, char *z, size_t n){
  snprintf(z, n, "%s%s", p->bSecure ? "__Host-" : "", zBase);
}

static void ssoSessionSetCookie(const SsoSessions *p, SsoBuf *b,
                                     const char *zName, const char *zValue,
                                     long long nAge){
  ssoBufPrintf(b, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
               zName, zValue, nAge, p->bSecure ? "; Secure" : "");
}

/* The session id in the request's cookie, if well-formed. */
static int sessionIdOf(const SsoSessions *p, const SsoHttpHeader *aHdr,
                       int nHdr, SsoStr *pId){
  int rc = ssoSessionCookieGet(aHdr, nHdr, p->zCookie, pId);
  if( rc==SSOPROXY_OK && !ssoSessionIdWellFormed(pId->z, pId->n) ){
    rc = SSOPROXY_NOTFOUND;
  }
  return rc;
}

/* The CSRF token of the session whose id is id, into z[48]. */
static void sessionCsrf(SsoStr id, char *z){
  unsigned char a[SSO_SHA256_LEN];
  ssoHmacSha256(id.z, id.n, zSessionCsrfLabel, sizeof(zSessionCsrfLabel)-1,
                a);
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, z);
}

/* ---- Life cycle ---- */

/* How stale tSeen may get before a request writes it again. */
static long long sessionTouchGrain(const SsoSessions *p){
  long long ms = SSO_SESSION_TOUCH_MS;
  if( p->msIdle>0 && p->msIdle/4<ms ) ms = p->msIdle/4;
  return ms;
}

/* Delete a session that ended; its absence is no error. */
static int sessionDrop(SsoStore *pStore, const char *zHash){
  int rc = ssoStoreSessionDelete(pStore, zHash);
  return rc==SSOPROXY_NOTFOUND ? SSOPROXY_OK : rc;
}

static int ssoSessionGet(const SsoSessions *p, SsoStore *pStore,
                              const SsoHttpHeader *aHdr, int nHdr,
                              long long tNow, SsoArena *pArena,
                              SsoSession *pSess){
  SsoStr id;
  int rc;
  memset(pSess, 0, sizeof(*pSess));
  rc = sessionIdOf(p, aHdr, nHdr, &id);
  if( rc ) return rc;
  ssoAuthzKeyHash(id.z, id.n, pSess->zHash);
  rc = ssoStoreSessionGet(pStore, pSess->zHash, pArena, &pSess->row);
  if( rc ) goto end;
  if( tNow>=pSess->row.tExpires
   || (p->msIdle>0 && tNow-pSess->row.tSeen>=p->msIdle) ){
    rc = sessionDrop(pStore, pSess->zHash);
    if( rc==SSOPROXY_OK ) rc = SSOPROXY_NOTFOUND;
    goto end;
  }
  rc = ssoStoreUserGet(pStore, pSess->row.zUserId, pArena, &pSess->user);
  if( rc==SSOPROXY_OK && pSess->user.bDisabled ) rc = SSOPROXY_NOTFOUND;
  if( rc==SSOPROXY_NOTFOUND ){
    /* A disabled user is signed out everywhere, not just refused. */
    rc = sessionDrop(pStore, pSess->zHash);
    if( rc==SSOPROXY_OK ) rc = SSOPROXY_NOTFOUND;
    goto end;
  }
  if( rc ) goto end;
  if( tNow-pSess->row.tSeen>=sessionTouchGrain(p) ){
    rc = ssoStoreSessionTouch(pStore, pSess->zHash, tNow);
    if( rc ) goto end;
    pSess->row.tSeen = tNow;
  }
  sessionCsrf(id, pSess->zCsrf);
end:
  if( rc ){
    char zHash[SSO_KEY_HEX];
    memcpy(zHash, pSess->zHash, sizeof(zHash));
    memset(pSess, 0, sizeof(*pSess));
    /* The hash stays known on NOTFOUND, so a caller can still tell which
    ** cookie was refused; nothing else is. */
    if( rc==SSOPROXY_NOTFOUND ) memcpy(pSess->zHash, zHash, sizeof(zHash));
  }
  return rc;
}

static int ssoSessionPurge(const SsoSessions *p, SsoStore *pStore,
                                long long tNow, int *pn){
  return ssoStoreSessionPurge(pStore, tNow,
                              p->msIdle>0 ? tNow-p->msIdle : 0, pn);
}

static int ssoSessionCreate(const SsoSessions *p, SsoStore *pStore,
                                 SsoRng *pRng, const SsoHttpHeader *aHdr,
                                 int nHdr, const char *zUserId,
                                 const char *zIdToken, const char *zData,
                                 long long tNow, SsoBuf *pSetCookie){
  unsigned char aId[32];
  char zId[SSO_SESSION_ID_LEN+1], zHash[SSO_KEY_HEX];
  SsoSessionRow row;
  SsoStr old;
  int rc;
  /* Rotation: whatever session this browser had ends here, so an id
  ** planted before sign-in (session fixation) is worth nothing after. */
  if( sessionIdOf(p, aHdr, nHdr, &old)==SSOPROXY_OK ){
    ssoAuthzKeyHash(old.z, old.n, zHash);
    rc = sessionDrop(pStore, zHash);
    if( rc ) return rc;
  }
  rc = ssoSessionPurge(p, pStore, tNow, 0);
  if( rc ) return rc;
  rc = ssoRngBytes(pRng, aId, sizeof(aId));
  if( rc ) return rc;
  ssoB64EncodeTo(aId, sizeof(aId), SSO_B64_URL, zId);
  memset(aId, 0, sizeof(aId));
  ssoAuthzKeyHash(zId, SSO_SESSION_ID_LEN, zHash);
  memset(&row, 0, sizeof(row));
  row.zHash = zHash;
  row.zUserId = zUserId;
  row.tCreated = tNow;
  row.tSeen = tNow;
  row.tExpires = tNow + p->msMax;
  row.zIdToken = zIdToken;
  row.zData = zData;
  rc = ssoStoreSessionInsert(pStore, &row);
  if( rc==SSOPROXY_OK ){
    ssoSessionSetCookie(p, pSetCookie, p->zCookie, zId, (p->msMax+999)/1000);
    rc = pSetCookie->rc;
  }
  memset(zId, 0, sizeof(zId));
  return rc;
}

static int ssoSessionStart(const SsoSessions *p, SsoStore *pStore,
                                SsoRng *pRng, SsoServerReq *req,
                                const char *zUserId, const char *zIdToken,
                                const char *zData, long long tNow){
  char zSpace[256];
  SsoBuf b;
  int rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  rc = ssoSessionCreate(p, pStore, pRng, req->aHdr, req->nHdr, zUserId,
                        zIdToken, zData, tNow, &b);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Set-Cookie", b.z);
  memset(b.z, 0, b.n);
  ssoBufFree(&b);
  return rc;
}

static int ssoSessionDestroy(const SsoSessions *p, SsoStore *pStore,
                                  const SsoHttpHeader *aHdr, int nHdr){
  char zHash[SSO_KEY_HEX];
  SsoStr id;
  if( sessionIdOf(p, aHdr, nHdr, &id)!=SSOPROXY_OK ) return SSOPROXY_OK;
  ssoAuthzKeyHash(id.z, id.n, zHash);
  return sessionDrop(pStore, zHash);
}

static int ssoSessionEnd(const SsoSessions *p, SsoStore *pStore,
                              SsoServerReq *req){
  char zSpace[256];
  SsoBuf b;
  int rc = ssoSessionDestroy(p, pStore, req->aHdr, req->nHdr);
  if( rc ) return rc;
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoSessionSetCookie(p, &b, p->zCookie, "", 0);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Set-Cookie", b.z);
  ssoBufFree(&b);
  return rc;
}

static int ssoSessionCsrfOk(const SsoSession *p, const char *z,
                                 size_t n){
  size_t nCsrf = strlen(p->zCsrf);
  if( nCsrf==0 || n!=nCsrf ) return 0;
  return ssoCtEqual(p->zCsrf, z, n);
}

/* ---- The authentication hook ---- */

/* RFC 9110 §9.2.1: the methods that must not change anything. */
static int sessionSafeMethod(SsoStr m){
  return (m.n==3 && memcmp(m.z, "GET", 3)==0)
      || (m.n==4 && memcmp(m.z, "HEAD", 4)==0)
      || (m.n==7 && memcmp(m.z, "OPTIONS", 7)==0);
}

static int ssoSessionAuthz(void *pArg, SsoStr method,
                                const SsoHttpHeader *aHdr, int nHdr,
                                SsoStore *pStore, long long tNow,
                                SsoArena *pArena, const char **pzUserId){
  const SsoSessions *p = pArg;
  SsoSession s;
  int rc, i;
  *pzUserId = 0;
  rc = ssoSessionGet(p, pStore, aHdr, nHdr, tNow, pArena, &s);
  if( rc ) return rc;
  if( !sessionSafeMethod(method) ){
    for(i=0; i<nHdr; i++){
      if( ssoHttpStrIEq(aHdr[i].name, "X-CSRF-Token") ) break;
    }
    if( i==nHdr || !ssoSessionCsrfOk(&s, aHdr[i].value.z, aHdr[i].value.n) ){
      return SSOPROXY_CONSTRAINT;
    }
  }
  *pzUserId = s.user.zId;
  return SSOPROXY_OK;
}
/************** End of session.c **************/
/************** Begin file oidc.c **************/
/*
** Layer 4: the OpenID Connect relying party (OIDC Core 1.0, authorization
** code flow only) behind LiteLLM's GENERIC_* settings.
**
** A login (GET /sso/key/generate, or ssoOidcLogin() from another module)
** makes a random state, nonce and PKCE verifier (RFC 7636, S256 only),
** keeps them with the return-to path in a single-use store grant of kind
** "login" named by the SHA-256 of the state, and binds that grant to the
** browser: the grant holds the SHA-256 of a random "ssoproxy_login"
** cookie (HttpOnly, SameSite=Lax, Path=/sso/callback) set on the
** redirect. A browser keeps one such cookie for all its logins, so two
** tabs signing in at once do not undo each other.
**
** The callback (GET /sso/callback) first uses up the state (the grant's
** use count goes to 1; a second use, an expired grant, a missing state or
** a callback from a browser without the matching cookie is refused), then
** shows an IdP error plainly, checks the RFC 9207 "iss" parameter,
** exchanges the code, validates the id_token, calls userinfo, and only
** then writes the user and starts the session. Every refusal is a 4xx
** page that says why; an IdP that cannot be reached or answers too late
** is a 502/504 page. Every call to the IdP is asynchronous on the
** worker's loop (ssoApiWorkerClient), so a slow IdP delays nobody else.
**
** Decisions (documented in README.md, "Single sign-on"):
**
**  - Endpoints: with GENERIC_ISSUER, from its discovery document, whose
**    "issuer" must equal the setting byte for byte (Discovery §4.3);
**    explicit GENERIC_*_ENDPOINT settings override single entries. The
**    document and the JWKS are cached process-wide (under a mutex) and
**    re-read after SSO_OIDC_META_MS.
**  - The RFC 9207 "iss" parameter, when present, must equal the issuer
**    (GENERIC_ISSUER); with explicit endpoints and no issuer, it must
**    have the token endpoint's origin, and then the id_token's "iss" must
**    equal it. When the discovery document announces
**    authorization_response_iss_parameter_supported, a missing "iss" is
**    refused (RFC 9207 §2.4).
**  - id_token signature: through the JWKS (discovery's jwks_uri, or
**    GENERIC_JWKS_ENDPOINT), re-fetched once on an unknown "kid", at
**    most once per SSO_OIDC_JWKS_FORCE_MS. With neither (the seed guide's
**    setup) the token came straight from the token endpoint over TLS, so
**    its signature check rests on that channel (OIDC Core 3.1.3.7 item
**    6); aud, azp, exp, iat, sub and nonce are still checked and "iss"
**    must have the token endpoint's origin.
**  - Claims: userinfo wins over the id_token for every claim read (the
**    id_token fills what userinfo lacks, e.g. a role only in the
**    id_token); userinfo's "sub" must equal the id_token's.
**  - Client authentication: client_secret_basic with id and secret
**    form-urlencoded before base64 (RFC 6749 §2.3.1) by default;
**    SSOPROXY_CLIENT_AUTH_METHOD=client_secret_post sends both in the
**    body instead. GENERIC_INCLUDE_CLIENT_ID=true adds client_id to the
**    body, as LiteLLM does, while keeping Basic.
**  - Roles: the role claim (GENERIC_USER_ROLE_ATTRIBUTE, dot-path, case
**    ignored, first element of a list) and the group mappings
**    (GENERIC_ROLE_MAPPINGS_*) each give a role or none; the higher one
**    counts. A new user without one gets GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE
**    or internal_user_viewer. An existing user's role follows the IdP at
**    every login (SSOPROXY_ROLE_SYNC=always) when the IdP gives a role;
**    with role mappings configured, a user in no mapped group falls back
**    to the default role (leaving a group takes its role away); with
**    neither, the stored role stays. PROXY_ADMIN_ID is always proxy_admin.
**  - Pre-provisioning: a user created locally (/user/new, the CLI) is
**    never taken over by an SSO login with the same id: the login is
**    refused with a page saying so (an id claim such as
**    preferred_username may be chosen by the user at some IdPs).
**    Provision roles at the IdP (claim or group) instead.
*/
/* #include "ssoInt.h" */
#include <pthread.h>
#include <strings.h>

#define OIDC_COOKIE      "ssoproxy_login"
#define OIDC_COOKIE_LEN  43           /* base64url of 32 random bytes */
#define OIDC_GRANT_KIND  "login"

/* Which IdP call a flow is waiting for. */
#define OIDC_CALL_DISC      1
#define OIDC_CALL_TOKEN     2
#define OIDC_CALL_JWKS      3
#define OIDC_CALL_USERINFO  4

typedef struct OidcMap OidcMap;
struct OidcMap {
  const char *zGroup;       /* Group name, exactly as in the claim */
  int eRole;                /* SSO_ROLE_* it gives */
};

struct SsoOidc {
  SsoArena arena;           /* Every string of the settings below */
  const SsoSessions *pSessions;
  SsoLog *pLog;
  const char *zBaseUrl;     /* PROXY_BASE_URL, trailing '/' removed */
  const char *zRedirectUri; /* zBaseUrl + "/sso/callback" */
  const char *zClientId, *zClientSecret;
  const char *zBasic;       /* "Basic base64(enc(id):enc(secret))" */
  const char *zIssuer;
  const char *zAuthEp, *zTokenEp, *zUserinfoEp, *zJwksEp;
  const char *zScope;
  const char *zIdAttr, *zEmailAttr, *zNameAttr, *zFirstAttr, *zLastAttr;
  const char *zRoleAttr, *zGroupClaim;
  OidcMap *aMap;            /* GENERIC_ROLE_MAPPINGS_ROLES */
  int nMap;
  int eDefaultRole;         /* New users without a role */
  SsoHttpHeader aHdr[SSO_OIDC_MAX_HEADERS];   /* GENERIC_SSO_HEADERS */
  int nHdr;
  const char *zLogoutUrl, *zEmailDomains, *zAdminId;
  int bIncludeClientId, bSecretPost, bAutoRedirect, bRoleFirstLogin;
  int bSecure;              /* https base URL: Secure cookie */
  long long msStateTtl;
  int msCall;               /* Wait for each answer of the IdP */
  SsoOidcKeyFlowFn xKeyFlow;
  void *pKeyFlowArg;
  /* The process-wide cache, shared by every worker, under mu. */
  pthread_mutex_t mu;
  char *zDisc;              /* Discovery document text (issuer checked) */
  long long tDisc;          /* Monotonic ms it was read */
  char *zJwks;              /* JWKS text */
  long long tJwks;
  long long tJwksForced;    /* Last re-fetch forced by an unknown kid */
};

/* The endpoints one flow uses: settings, else discovery (arena strings). */
typedef struct OidcMeta OidcMeta;
struct OidcMeta {
  const char *zIssuer, *zAuth, *zToken, *zUserinfo, *zJwks, *zEndSession;
  int bIssParam;            /* authorization_response_iss_parameter_supported */
};

/* A login or callback in progress. */
typedef struct OidcFlow OidcFlow;
struct OidcFlow {
  SsoOidc *p;
  SsoServerReq *req;
  SsoApiWorker *pW;
  SsoClientCall *pCall;     /* The IdP call in flight, if any */
  int eCall;                /* OIDC_CALL_* of pCall */
  int bAsync;               /* ssoServerAsync() done */
  int bLogin;               /* Login redirect; else callback */
  SsoArena arena;           /* Everything below */
  OidcMeta m;
  const char *zReturnTo;
  const char *zNonce, *zVerifier, *zCode, *zIssParam;
  SsoBuf body;              /* Token request body, alive during the call */
  const char *zIdToken, *zAccess;
  SsoJwt jwt;
  int bJwt;                 /* jwt needs ssoJwtFree() */
  int bJwksFresh;           /* The JWKS was fetched during this flow */
  int bJwksForced;          /* ... because of an unknown kid */
  SsoJsonDoc *pToken;       /* The token response */
  SsoJsonDoc *pUserinfo;
};

/* ================= Small helpers ================= */

/* A copy of z into p's arena, with "" meaning unset (NULL). */
static const char *oidcDup(SsoArena *a, const char *z, int *pbOom){
  char *zCopy;
  if( z==0 || z[0]==0 ) return 0;
  zCopy = ssoArenaStrndup(a, z, strlen(z));
  if( zCopy==0 ) *pbOom = 1;
  return zCopy;
}

/*
** The role named by z[0..n), ASCII case ignored (LiteLLM lower-cases the
** claim), internal_user_view_only accepted as the old name of
** internal_user_viewer. SSO_ROLE_NONE for anything else.
*/
static int oidcRoleName(const char *z, size_t n){
  char zLow[32];
  size_t i;
  if( z==0 || n==0 || n>=sizeof(zLow) ) return SSO_ROLE_NONE;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c==0 ) return SSO_ROLE_NONE;
    zLow[i] = (c>='A' && c<='Z') ? (char)(c - 'A' + 'a') : c;
  }
  zLow[n] = 0;
  return ssoAuthzRole(zLow, 0);
}

/* The role a claim value names: a string, or a list's first element. */
static int oidcRoleOf(const SsoJson *v){
  const char *z;
  size_t n;
  if( ssoJsonType(v)==SSO_JSON_ARRAY ) v = ssoJsonAt(v, 0);
  z = ssoJsonStr(v, &n);
  return z ? oidcRoleName(z, n) : SSO_ROLE_NONE;
}

/* Parse z as an http(s) URL without userinfo or fragment. */
static int oidcUrlOk(SsoArena *a, const char *z, SsoUrl *pUrl){
  if( ssoUrlParse(a, z, strlen(z), pUrl, 0) ) return 0;
  if( strcmp(pUrl->scheme.z, "http")!=0 && strcmp(pUrl->scheme.z, "https")!=0 ){
    return 0;
  }
  return !pUrl->bUserinfo && !pUrl->bFragment;
}

/* 1 if the URLs zA and zB have the same origin (RFC 6454). */
static int oidcSameOrigin(const char *zA, const char *zB){
  SsoArena a;
  SsoUrl uA, uB;
  SsoBuf bA, bB;
  int bSame = 0;
  ssoArenaInit(&a, 0);
  ssoBufInit(&bA, SSO_URL_MAX*2);
  ssoBufInit(&bB, SSO_URL_MAX*2);
  if( zA && zB
   && ssoUrlParse(&a, zA, strlen(zA), &uA, 0)==SSOPROXY_OK
   && ssoUrlParse(&a, zB, strlen(zB), &uB, 0)==SSOPROXY_OK
   && ssoUrlAppendOrigin(&bA, &uA)==SSOPROXY_OK
   && ssoUrlAppendOrigin(&bB, &uB)==SSOPROXY_OK
   && bA.rc==0 && bB.rc==0 ){
    bSame = strcmp(ssoBufStr(&bA), ssoBufStr(&bB))==0;
  }
  ssoBufFree(&bA);
  ssoBufFree(&bB);
  ssoArenaFree(&a);
  return bSame;
}

/* 32 random bytes as 43 base64url characters into z[44]. */
static int oidcRandom(SsoRng *pRng, char *z){
  unsigned char a[32];
  int rc = ssoRngBytes(pRng, a, sizeof(a));
  if( rc ) return rc;
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, z);
  return SSOPROXY_OK;
}

/* SHA-256 of z as lower hex into zHex[SSO_KEY_HEX]. */
static void oidcHashHex(const char *z, size_t n, char *zHex){
  unsigned char a[SSO_SHA256_LEN];
  ssoSha256(z, n, a);
  ssoHexEncode(a, sizeof(a), zHex);
}

/*
** The value of cookie zName in the request's Cookie fields (RFC 6265
** §5.4: "name=value" pairs separated by "; "). 1 and *pVal if found.
*/
static int oidcCookie(const SsoServerReq *req, const char *zName,
                      SsoStr *pVal){
  size_t nName = strlen(zName);
  int i;
  for(i=0; i<req->nHdr; i++){
    const SsoHttpHeader *h = &req->aHdr[i];
    const char *z = h->value.z, *zEnd = z + h->value.n;
    if( !ssoHttpStrIEq(h->name, "cookie") ) continue;
    while( z<zEnd ){
      const char *zSemi = memchr(z, ';', (size_t)(zEnd - z));
      const char *zPairEnd = zSemi ? zSemi : zEnd;
      while( z<zPairEnd && *z==' ' ) z++;
      if( (size_t)(zPairEnd - z)>nName && memcmp(z, zName, nName)==0
       && z[nName]=='=' ){
        pVal->z = z + nName + 1;
        pVal->n = (size_t)(zPairEnd - pVal->z);
        return 1;
      }
      z = zPairEnd + (zSemi ? 1 : 0);
    }
  }
  return 0;
}

/* ================= Settings ================= */

/*
** GENERIC_ROLE_MAPPINGS_ROLES: {"proxy_admin":["admins"],...}. LiteLLM
** parses it as a Python literal, so the same text with single quotes is
** accepted too (when it has no double quote at all).
*/
static int oidcParseMappings(SsoOidc *p, const char *z, char *zErr,
                             size_t nErr){
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr e;
  char *zCopy = 0;
  const SsoJson *pRoot;
  size_t i, j, nGroup = 0;
  int rc = ssoJsonParse(z, strlen(z), SSO_JSON_NODUP, &pDoc, &e);
  if( rc==SSOPROXY_PARSE && strchr(z, '\'') && !strchr(z, '"') ){
    size_t k;
    zCopy = ssoStrdup(z);
    if( zCopy==0 ) return SSOPROXY_NOMEM;
    for(k=0; zCopy[k]; k++) if( zCopy[k]=='\'' ) zCopy[k] = '"';
    rc = ssoJsonParse(zCopy, k, SSO_JSON_NODUP, &pDoc, &e);
  }
  if( rc==SSOPROXY_NOMEM ) goto end;
  pRoot = ssoJsonRoot(pDoc);
  if( rc || ssoJsonType(pRoot)!=SSO_JSON_OBJECT ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES "
                   "is not a JSON object of role -> list of groups, e.g. "
                   "{\"proxy_admin\":[\"admins\"]}%s%s", rc ? ": " : "",
                   rc ? e.zMsg : "");
    goto end;
  }
  for(i=0; i<ssoJsonCount(pRoot); i++){
    const SsoJson *v = ssoJsonAt(pRoot, i);
    nGroup += ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v) : 1;
  }
  if( nGroup>SSO_OIDC_MAX_MAPPED ){
    rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES "
                   "names more than %d groups", SSO_OIDC_MAX_MAPPED);
    goto end;
  }
  p->aMap = ssoArenaAlloc(&p->arena, (nGroup ? nGroup : 1)*sizeof(OidcMap));
  if( p->aMap==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  for(i=0; i<ssoJsonCount(pRoot); i++){
    const SsoJson *v = ssoJsonAt(pRoot, i);
    size_t nKey = 0;
    const char *zKey = ssoJsonKey(v, &nKey);
    int eRole = oidcRoleName(zKey, nKey);
    size_t nElem = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v) : 1;
    if( eRole==SSO_ROLE_NONE ){
      rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_ROLES:"
                     " unknown role \"%.40s\" (use %s)", zKey ? zKey : "",
                     SSO_ROLE_LIST);
      goto end;
    }
    for(j=0; j<nElem; j++){
      const SsoJson *g = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonAt(v, j) : v;
      const char *zGroup = ssoJsonCStr(g);
      if( zGroup==0 || zGroup[0]==0 ){
        rc = ssoErrorf(zErr, nErr, SSOPROXY_CONFIG,
                       "GENERIC_ROLE_MAPPINGS_ROLES: the groups of %s must be "
                       "non-empty strings", ssoAuthzRoleName(eRole));
        goto end;
      }
      p->aMap[p->nMap].zGroup = ssoArenaStrndup(&p->arena, zGroup,
                                                strlen(zGroup));
      if( p->aMap[p->nMap].zGroup==0 ){ rc = SSOPROXY_NOMEM; goto end; }
      p->aMap[p->nMap++].eRole = eRole;
    }
  }
end:
  ssoJsonFree(pDoc);
  ssoFree(zCopy);
  return rc;
}

/* GENERIC_SSO_HEADERS: "Name=Value,Name2=Value2" (LiteLLM's format). */
static int oidcParseHeaders(SsoOidc *p, const char *z, char *zErr,
                            size_t nErr){
  const char *zEnd = z + strlen(z);
  while( z<zEnd ){
    const char *zComma = memchr(z, ',', (size_t)(zEnd - z));
    const char *zItem = zComma ? zComma : zEnd;
    const char *zEq = memchr(z, '=', (size_t)(zItem - z));
    const char *zName = z, *zValue;
    size_t nName, nValue, k;
    SsoHttpHeader *h;
    z = zItem + (zComma ? 1 : 0);
    while( zName<zItem && *zName==' ' ) zName++;
    if( zName==zItem ) continue;
    if( zEq==0 || zEq==zName ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                       "each entry must be Name=Value, separated by commas");
    }
    nName = (size_t)(zEq - zName);
    while( nName>0 && zName[nName-1]==' ' ) nName--;
    zValue = zEq + 1;
    while( zValue<zItem && *zValue==' ' ) zValue++;
    nValue = (size_t)(zItem - zValue);
    while( nValue>0 && zValue[nValue-1]==' ' ) nValue--;
    for(k=0; k<nName; k++){
      char c = zName[k];
      if( !((c>='a'&&c<='z') || (c>='A'&&c<='Z') || (c>='0'&&c<='9')
            || c=='-' || c=='_') ){
        return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                         "\"%.*s\" is not a header name", (int)nName, zName);
      }
    }
    if( p->nHdr>=SSO_OIDC_MAX_HEADERS ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SSO_HEADERS: "
                       "more than %d headers", SSO_OIDC_MAX_HEADERS);
    }
    h = &p->aHdr[p->nHdr++];
    h->name.z = ssoArenaStrndup(&p->arena, zName, nName);
    h->name.n = nName;
    h->value.z = ssoArenaStrndup(&p->arena, zValue, nValue);
    h->value.n = nValue;
    if( h->name.z==0 || h->value.z==0 ) return SSOPROXY_NOMEM;
  }
  return SSOPROXY_OK;
}

/*
** One endpoint setting: an http(s) URL without userinfo or fragment. Plain
** http to anything but a loopback address is allowed (homelabs, tests)
** but logged.
*/
static int oidcCheckUrl(SsoOidc *p, const char *zName, const char *zUrl,
                        char *zErr, size_t nErr){
  SsoArena a;
  SsoUrl u;
  int bOk, bWarn = 0;
  if( zUrl==0 ) return SSOPROXY_OK;
  ssoArenaInit(&a, 0);
  bOk = oidcUrlOk(&a, zUrl, &u);
  if( bOk && strcmp(u.scheme.z, "http")==0 && !ssoUrlIsLoopback(&u) ){
    bWarn = 1;
  }
  ssoArenaFree(&a);
  if( !bOk ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s is not an http:// or "
                     "https:// URL without user name or fragment: %.200s",
                     zName, zUrl);
  }
  if( bWarn ){
    ssoLog(p->pLog, SSO_LOG_WARN, "the IdP is reached over plain http (not "
           "TLS) on a non-loopback address: codes and tokens can be read on "
           "the way", "setting", zName, "url", zUrl, (char*)0);
  }
  return SSOPROXY_OK;
}

/* PROXY_BASE_URL: http(s), no query, fragment or user name. */
static int oidcCheckBase(SsoOidc *p, const char *z, char *zErr, size_t nErr){
  SsoArena a;
  SsoUrl u;
  SsoBuf b;
  size_t n;
  int bOk;
  if( z==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL is not set: "
                     "single sign-on needs ssoproxy's public URL (the IdP "
                     "sends browsers back to PROXY_BASE_URL/sso/callback)");
  }
  ssoArenaInit(&a, 0);
  bOk = oidcUrlOk(&a, z, &u) && !u.bQuery;
  if( bOk ) p->bSecure = strcmp(u.scheme.z, "https")==0;
  ssoArenaFree(&a);
  if( !bOk ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL must be an "
                     "http:// or https:// URL without query, fragment or "
                     "user name: %.200s", z);
  }
  n = strlen(z);
  while( n>0 && z[n-1]=='/' ) n--;
  p->zBaseUrl = ssoArenaStrndup(&p->arena, z, n);
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, z, n);
  ssoBufAppendStr(&b, "/sso/callback");
  p->zRedirectUri = b.rc ? 0 : ssoArenaStrndup(&p->arena, b.z, b.n);
  ssoBufFree(&b);
  return p->zBaseUrl && p->zRedirectUri ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

/* "openid" must be one of the space-separated scopes. */
static int oidcScopeHasOpenid(const char *z){
  size_t n = strlen("openid");
  while( *z ){
    size_t k = strcspn(z, " ");
    if( k==n && memcmp(z, "openid", n)==0 ) return 1;
    z += k;
    while( *z==' ' ) z++;
  }
  return 0;
}

/* The HTTP Basic credentials of RFC 6749 §2.3.1. */
static int oidcMakeBasic(SsoOidc *p){
  SsoBuf cred, b;
  int rc;
  ssoBufInit(&cred, 0);
  ssoBufInit(&b, 0);
  ssoUrlEncode(&cred, p->zClientId, strlen(p->zClientId), SSO_URL_FORM);
  ssoBufAppendChar(&cred, ':');
  ssoUrlEncode(&cred, p->zClientSecret, strlen(p->zClientSecret),
               SSO_URL_FORM);
  ssoBufAppendStr(&b, "Basic ");
  if( cred.rc==0 ) ssoB64Encode(&b, cred.z, cred.n, SSO_B64_STD);
  rc = cred.rc ? cred.rc : b.rc;
  if( rc==0 ){
    p->zBasic = ssoArenaStrndup(&p->arena, b.z, b.n);
    if( p->zBasic==0 ) rc = SSOPROXY_NOMEM;
  }
  if( cred.z ) memset(cred.z, 0, cred.n);
  ssoBufFree(&cred);
  ssoBufFree(&b);
  return rc;
}

/* Copy the settings; SSOPROXY_NOMEM if any copy failed. */
static int oidcCopyConfig(SsoOidc *p, const SsoOidcConfig *c){
  SsoArena *a = &p->arena;
  int bOom = 0;
  p->zClientId = oidcDup(a, c->zClientId, &bOom);
  p->zClientSecret = oidcDup(a, c->zClientSecret, &bOom);
  p->zIssuer = oidcDup(a, c->zIssuer, &bOom);
  p->zAuthEp = oidcDup(a, c->zAuthorizationEndpoint, &bOom);
  p->zTokenEp = oidcDup(a, c->zTokenEndpoint, &bOom);
  p->zUserinfoEp = oidcDup(a, c->zUserinfoEndpoint, &bOom);
  p->zJwksEp = oidcDup(a, c->zJwksEndpoint, &bOom);
  p->zScope = oidcDup(a, c->zScope ? c->zScope : "openid email profile",
                      &bOom);
#define OIDC_ATTR(f, z, d) p->f = oidcDup(a, c->z ? c->z : d, &bOom)
  OIDC_ATTR(zIdAttr, zIdAttr, "preferred_username");
  OIDC_ATTR(zEmailAttr, zEmailAttr, "email");
  OIDC_ATTR(zNameAttr, zNameAttr, "sub");
  OIDC_ATTR(zFirstAttr, zFirstNameAttr, "first_name");
  OIDC_ATTR(zLastAttr, zLastNameAttr, "last_name");
  OIDC_ATTR(zRoleAttr, zRoleAttr, "role");
#undef OIDC_ATTR
  p->zGroupClaim = oidcDup(a, c->zGroupClaim, &bOom);
  p->zLogoutUrl = oidcDup(a, c->zLogoutUrl, &bOom);
  p->zEmailDomains = oidcDup(a, c->zEmailDomains, &bOom);
  p->zAdminId = oidcDup(a, c->zAdminId, &bOom);
  p->bIncludeClientId = c->bIncludeClientId;
  p->bSecretPost = c->bClientSecretPost;
  p->bAutoRedirect = c->bAutoRedirect;
  p->bRoleFirstLogin = c->bRoleFirstLogin;
  p->msStateTtl = 1000LL*(c->nStateTtl>0 ? c->nStateTtl
                                         : SSO_OIDC_STATE_TTL_S);
  p->msCall = c->msIdpTimeout>0 ? c->msIdpTimeout : SSO_OIDC_CALL_MS;
  p->pLog = c->pLog;
  return bOom ? SSOPROXY_NOMEM : SSOPROXY_OK;
}

/* Every cross-setting rule, each with its own message. */
static int oidcValidate(SsoOidc *p, const SsoOidcConfig *c, char *zErr,
                        size_t nErr){
  int rc;
  if( p->zClientSecret==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_CLIENT_ID is set "
                     "but GENERIC_CLIENT_SECRET is not: the IdP's client "
                     "secret is required");
  }
  rc = oidcCheckBase(p, c->zBaseUrl && c->zBaseUrl[0] ? c->zBaseUrl : 0,
                     zErr, nErr);
  if( rc ) return rc;
  if( p->zIssuer==0 && p->zAuthEp==0 && p->zTokenEp==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "neither GENERIC_ISSUER "
                     "nor GENERIC_AUTHORIZATION_ENDPOINT and "
                     "GENERIC_TOKEN_ENDPOINT are set: single sign-on needs "
                     "the IdP's issuer (recommended) or its endpoints");
  }
  if( p->zIssuer==0 && (p->zAuthEp==0 || p->zTokenEp==0) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s is set but %s is not "
                     "(and there is no GENERIC_ISSUER to discover it)",
                     p->zAuthEp ? "GENERIC_AUTHORIZATION_ENDPOINT"
                                : "GENERIC_TOKEN_ENDPOINT",
                     p->zAuthEp ? "GENERIC_TOKEN_ENDPOINT"
                                : "GENERIC_AUTHORIZATION_ENDPOINT");
  }
  if( (rc = oidcCheckUrl(p, "GENERIC_ISSUER", p->zIssuer, zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_AUTHORIZATION_ENDPOINT", p->zAuthEp,
                         zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_TOKEN_ENDPOINT", p->zTokenEp, zErr,
                         nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_USERINFO_ENDPOINT", p->zUserinfoEp,
                         zErr, nErr))!=0
   || (rc = oidcCheckUrl(p, "GENERIC_JWKS_ENDPOINT", p->zJwksEp, zErr,
                         nErr))!=0 ){
    return rc;
  }
  if( p->zIssuer && strchr(p->zIssuer, '?') ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ISSUER must not "
                     "have a query (OpenID Connect Discovery §2)");
  }
  if( p->zLogoutUrl && (rc = oidcCheckUrl(p, "PROXY_LOGOUT_URL",
                                          p->zLogoutUrl, zErr, nErr))!=0 ){
    return rc;
  }
  if( !oidcScopeHasOpenid(p->zScope) ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_SCOPE must "
                     "contain openid (the login needs an id_token): %.200s",
                     p->zScope);
  }
  if( c->zRoleMappings && c->zRoleMappings[0] ){
    rc = oidcParseMappings(p, c->zRoleMappings, zErr, nErr);
    if( rc ) return rc;
    if( p->zGroupClaim==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_"
                       "ROLES is set but GENERIC_ROLE_MAPPINGS_GROUP_CLAIM "
                       "is not: name the claim holding the groups, e.g. "
                       "groups");
    }
  }
  p->eDefaultRole = SSO_ROLE_INTERNAL_USER_VIEWER;
  if( c->zDefaultRole && c->zDefaultRole[0] ){
    p->eDefaultRole = oidcRoleName(c->zDefaultRole, strlen(c->zDefaultRole));
    if( p->eDefaultRole==SSO_ROLE_NONE ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "GENERIC_ROLE_MAPPINGS_"
                       "DEFAULT_ROLE: unknown role \"%.40s\" (use %s)",
                       c->zDefaultRole, SSO_ROLE_LIST);
    }
  }
  if( c->zSsoHeaders && c->zSsoHeaders[0] ){
    rc = oidcParseHeaders(p, c->zSsoHeaders, zErr, nErr);
    if( rc ) return rc;
  }
  return oidcMakeBasic(p);
}

static int ssoOidcNew(const SsoOidcConfig *pCfg,
                           const SsoSessions *pSessions, SsoOidc **pp,
                           char *zErr, size_t nErr){
  SsoOidc *p;
  int rc;
  *pp = 0;
  if( zErr && nErr ) zErr[0] = 0;
  if( pCfg->zClientId==0 || pCfg->zClientId[0]==0 ) return SSOPROXY_OK;
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  ssoArenaInit(&p->arena, 0);
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoArenaFree(&p->arena);
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  p->pSessions = pSessions;
  rc = oidcCopyConfig(p, pCfg);
  if( rc==SSOPROXY_OK ) rc = oidcValidate(p, pCfg, zErr, nErr);
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
    ssoOidcFree(p);
    return rc;
  }
  *pp = p;
  return SSOPROXY_OK;
}

static void ssoOidcFree(SsoOidc *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zDisc);
  ssoFree(p->zJwks);
  ssoArenaFree(&p->arena);
  ssoFree(p);
}

static int ssoOidcAutoRedirect(const SsoOidc *p){
  return p ? p->bAutoRedirect : 0;
}

static int ssoOidcBackChannelOnly(const SsoOidc *p){
  return p && p->zIssuer==0 && p->zJwksEp==0;
}

static void ssoOidcSetKeyFlow(SsoOidc *p, SsoOidcKeyFlowFn xFlow,
                                   void *pArg){
  if( p==0 ) return;
  p->xKeyFlow = xFlow;
  p->pKeyFlowArg = pArg;
}

/* ================= Identity and role ================= */

/* The claims of one login: userinfo wins, the id_token fills in. */
typedef struct OidcClaims OidcClaims;
struct OidcClaims {
  const SsoJson *pUser;     /* Userinfo object, or NULL */
  const SsoJson *pId;       /* id_token claims, or NULL */
};

static const SsoJson *oidcClaim(const OidcClaims *c, const char *zPath){
  const SsoJson *v = 0;
  if( zPath==0 || zPath[0]==0 ) return 0;
  if( c->pUser ) v = ssoJsonGetPath(c->pUser, zPath);
  if( v==0 || ssoJsonType(v)==SSO_JSON_NULL ){
    v = c->pId ? ssoJsonGetPath(c->pId, zPath) : 0;
  }
  return ssoJsonType(v)==SSO_JSON_NULL ? 0 : v;
}

/* A claim as text (strings, and numbers as written), or NULL. */
static const char *oidcClaimText(const OidcClaims *c, const char *zPath,
                                 SsoArena *a){
  const SsoJson *v = oidcClaim(c, zPath);
  size_t n;
  const char *z = ssoJsonStr(v, &n);
  if( z==0 ) z = ssoJsonNumText(v, &n);
  if( z==0 || n==0 || memchr(z, 0, n) ) return 0;
  return ssoArenaStrndup(a, z, n);
}

/* What a login says about the user, before the store is consulted. */
typedef struct OidcIdentity OidcIdentity;
struct OidcIdentity {
  const char *zId, *zEmail, *zName;
  int eRole;                /* Claim or mapped group, the higher; or NONE */
  const char *zGroups;      /* JSON array text of the groups */
};

/* 1 if zEmail's domain is in the comma list zList (case ignored). */
static int oidcEmailAllowed(const char *zList, const char *zEmail){
  const char *zAt = zEmail ? strrchr(zEmail, '@') : 0;
  const char *zDom;
  size_t nDom;
  if( zList==0 ) return 1;
  if( zAt==0 ) return 0;
  zDom = zAt + 1;
  nDom = strlen(zDom);
  while( *zList ){
    size_t k = strcspn(zList, ","), n = k;
    const char *z = zList;
    while( n>0 && (*z==' ' || *z=='@') ){ z++; n--; }
    while( n>0 && z[n-1]==' ' ) n--;
    if( n==nDom && n>0 ){
      size_t i;
      for(i=0; i<n; i++){
        char a = z[i], b = zDom[i];
        if( a>='A' && a<='Z' ) a = (char)(a - 'A' + 'a');
        if( b>='A' && b<='Z' ) b = (char)(b - 'A' + 'a');
        if( a!=b ) break;
      }
      if( i==n ) return 1;
    }
    zList += k + (zList[k]==',');
  }
  return 0;
}

/* The groups claim as a JSON array, and the highest role they map to. */
static int oidcGroups(const SsoOidc *p, const OidcClaims *c, SsoArena *a,
                      OidcIdentity *pOut){
  const SsoJson *v = oidcClaim(c, p->zGroupClaim ? p->zGroupClaim
                                                 : "groups");
  SsoBuf b;
  SsoJsonWriter w;
  size_t i, n;
  int eBest = SSO_ROLE_NONE;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  n = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonCount(v)
    : ssoJsonType(v)==SSO_JSON_STRING ? 1 : 0;
  if( n>SSO_OIDC_MAX_GROUPS ) n = SSO_OIDC_MAX_GROUPS;
  for(i=0; i<n; i++){
    const SsoJson *g = ssoJsonType(v)==SSO_JSON_ARRAY ? ssoJsonAt(v, i) : v;
    const char *z = ssoJsonCStr(g);
    int k;
    if( z==0 ) continue;
    ssoJsonWriteString(&w, z);
    for(k=0; k<p->nMap; k++){
      if( strcmp(p->aMap[k].zGroup, z)==0 && p->aMap[k].eRole>eBest ){
        eBest = p->aMap[k].eRole;
      }
    }
  }
  ssoJsonWriteEndArray(&w);
  if( ssoJsonWriteFinish(&w) || b.rc ){
    ssoBufFree(&b);
    return SSOPROXY_NOMEM;
  }
  pOut->zGroups = ssoArenaStrndup(a, b.z, b.n);
  ssoBufFree(&b);
  if( pOut->zGroups==0 ) return SSOPROXY_NOMEM;
  if( eBest>pOut->eRole ) pOut->eRole = eBest;
  return SSOPROXY_OK;
}

/*
** Read the identity from the claims. SSOPROXY_OK; SSOPROXY_CONSTRAINT
** with *pzWhy (static text) when the login must be refused (no user id,
** e-mail domain not allowed); SSOPROXY_NOMEM.
*/
static int oidcIdentity(const SsoOidc *p, const OidcClaims *c, SsoArena *a,
                        OidcIdentity *pOut, const char **pzWhy){
  memset(pOut, 0, sizeof(*pOut));
  *pzWhy = 0;
  pOut->zId = oidcClaimText(c, p->zIdAttr, a);
  pOut->zEmail = oidcClaimText(c, p->zEmailAttr, a);
  pOut->zName = oidcClaimText(c, p->zNameAttr, a);
  if( pOut->zId==0 ){
    /* LiteLLM's fall-backs: first and last name, then the e-mail. */
    const char *zFirst = oidcClaimText(c, p->zFirstAttr, a);
    const char *zLast = oidcClaimText(c, p->zLastAttr, a);
    if( zFirst || zLast ){
      size_t n1 = zFirst ? strlen(zFirst) : 0, n2 = zLast ? strlen(zLast) : 0;
      char *z = ssoArenaAlloc(a, n1 + n2 + 1);
      if( z==0 ) return SSOPROXY_NOMEM;
      if( n1 ) memcpy(z, zFirst, n1);
      if( n2 ) memcpy(z+n1, zLast, n2);
      z[n1+n2] = 0;
      pOut->zId = z;
    }else{
      pOut->zId = pOut->zEmail;
    }
  }
  if( pOut->zId==0 ){
    *pzWhy = "The identity provider gave no user id: the claim named by "
             "GENERIC_USER_ID_ATTRIBUTE (and the e-mail fall-back) is "
             "missing.";
    return SSOPROXY_CONSTRAINT;
  }
  if( strlen(pOut->zId)>SSO_JOSE_MAX_SUB ){
    *pzWhy = "The user id from the identity provider is too long.";
    return SSOPROXY_CONSTRAINT;
  }
  if( !oidcEmailAllowed(p->zEmailDomains, pOut->zEmail) ){
    *pzWhy = "Your e-mail address is not in a domain allowed to sign in "
             "here (ALLOWED_EMAIL_DOMAINS).";
    return SSOPROXY_CONSTRAINT;
  }
  pOut->eRole = oidcRoleOf(oidcClaim(c, p->zRoleAttr));
  return oidcGroups(p, c, a, pOut);
}

/*
** The role to store for user pId, given the existing row pOld (NULL: a
** new user). See the head of this file for the rules.
*/
static int oidcRoleToStore(const SsoOidc *p, const OidcIdentity *pId,
                           const SsoUser *pOld){
  int eOld;
  if( p->zAdminId && strcmp(p->zAdminId, pId->zId)==0 ){
    return SSO_ROLE_PROXY_ADMIN;
  }
  if( pOld==0 ) return pId->eRole ? pId->eRole : p->eDefaultRole;
  eOld = ssoAuthzRole(pOld->zRole, 0);
  if( eOld==SSO_ROLE_NONE ) eOld = p->eDefaultRole;
  if( p->bRoleFirstLogin ) return eOld;
  if( pId->eRole ) return pId->eRole;
  return p->nMap>0 ? p->eDefaultRole : eOld;
}

/* ================= The discovery and JWKS cache ================= */

/* A copy of *pzText (fresh within SSO_OIDC_META_MS unless bStale) in a. */
static const char *oidcCacheGet(SsoOidc *p, char **pzText, long long *pt,
                                int bStale, SsoArena *a){
  const char *z = 0;
  long long tNow = ssoOsMonoMs();
  pthread_mutex_lock(&p->mu);
  if( *pzText && (bStale || tNow - *pt < SSO_OIDC_META_MS) ){
    z = ssoArenaStrndup(a, *pzText, strlen(*pzText));
  }
  pthread_mutex_unlock(&p->mu);
  return z;
}

static void oidcCachePut(SsoOidc *p, char **pzText, long long *pt,
                         const char *z, size_t n){
  char *zNew = ssoStrndup(z, n);
  if( zNew==0 ) return;         /* Not cached: fetched again next time */
  pthread_mutex_lock(&p->mu);
  ssoFree(*pzText);
  *pzText = zNew;
  *pt = ssoOsMonoMs();
  pthread_mutex_unlock(&p->mu);
}

/* ================= Flows ================= */

static void oidcFlowFree(OidcFlow *f){
  if( f==0 ) return;
  if( f->pCall ) ssoClientCancel(f->pCall);
  if( f->bJwt ) ssoJwtFree(&f->jwt);
  ssoJsonFree(f->pToken);
  ssoJsonFree(f->pUserinfo);
  if( f->body.z ) memset(f->body.z, 0, f->body.n);  /* code, verifier */
  ssoBufFree(&f->body);
  ssoArenaFree(&f->arena);
  ssoFree(f);
}

static OidcFlow *oidcFlowNew(SsoOidc *p, SsoServerReq *req, int bLogin){
  OidcFlow *f = ssoMallocZero(sizeof(*f));
  if( f==0 ) return 0;
  f->p = p;
  f->req = req;
  f->pW = req->pWorkerCtx;
  f->bLogin = bLogin;
  ssoArenaInit(&f->arena, SSO_OIDC_ARENA);
  ssoBufInit(&f->body, 0);
  return f;
}

/* End the flow with an error page (zMsg is plain text, no secrets). */
static int oidcFail(OidcFlow *f, int iStatus, const char *zTitle,
                    const char *zMsg){
  int rc = ssoPageError(f->req, iStatus, zTitle, zMsg);
  oidcFlowFree(f);
  return rc;
}

/* As oidcFail, the message built with printf. */
static int oidcFailf(OidcFlow *f, int iStatus, const char *zTitle,
                     const char *zFmt, ...)
  __attribute__((format(printf, 4, 5)));
static int oidcFailf(OidcFlow *f, int iStatus, const char *zTitle,
                     const char *zFmt, ...){
  char zMsg[600];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  return oidcFail(f, iStatus, zTitle, zMsg);
}

#define OIDC_REFUSED "Sign-in refused"
#define OIDC_IDP_DOWN "Identity provider unavailable"

static void oidcAbort(SsoServerReq *req, void *pArg){
  OidcFlow *f = pArg;
  SSO_UNUSED(req);
  oidcFlowFree(f);
}

static void oidcCallDone(SsoClientCall*, const SsoClientResp*, void*);

/*
** Start an IdP call; the flow continues in oidcCallDone(). aHdr are
** the call's own header fields, GENERIC_SSO_HEADERS are added.
*/
static int oidcCall(OidcFlow *f, int eCall, const char *zMethod,
                    const char *zUrl, const SsoHttpHeader *aHdr, int nHdr){
  SsoHttpHeader aAll[SSO_OIDC_MAX_HEADERS + 4];
  SsoClientReq r;
  SsoClient *pCli = 0;
  int i, rc;
  assert( nHdr<=4 );
  for(i=0; i<nHdr; i++) aAll[i] = aHdr[i];
  for(i=0; i<f->p->nHdr; i++) aAll[nHdr+i] = f->p->aHdr[i];
  memset(&r, 0, sizeof(r));
  r.zMethod = zMethod;
  r.zUrl = zUrl;
  r.aHdr = aAll;
  r.nHdr = nHdr + f->p->nHdr;
  if( eCall==OIDC_CALL_TOKEN ){
    r.pBody = f->body.z;
    r.nBody = f->body.n;
  }
  r.mxResponse = eCall==OIDC_CALL_JWKS ? SSO_JOSE_MAX_JWKS : SSO_OIDC_MAX_DOC;
  /* A person is waiting at the browser: an IdP that hangs gets a clear
  ** 504 page in seconds, not the upstreams' long first-byte timeout. */
  r.msFirstByte = r.msIdle = f->p->msCall;
  r.xDone = oidcCallDone;
  r.pArg = f;
  rc = ssoApiWorkerClient(f->pW, f->req->pLoop, &pCli);
  if( rc==SSOPROXY_OK ) rc = ssoClientRequest(pCli, &r, &f->pCall);
  if( rc ){
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "Could not call the identity "
                     "provider at %.300s (%s).", zUrl, ssoproxy_errstr(rc));
  }
  f->eCall = eCall;
  if( !f->bAsync ){
    rc = ssoServerAsync(f->req, oidcAbort, 0, f);
    if( rc ){
      ssoClientCancel(f->pCall);
      f->pCall = 0;
      oidcFlowFree(f);
      return rc;
    }
    f->bAsync = 1;
  }
  return SSOPROXY_OK;
}

/* An IdP call that did not give a usable answer: 502 or 504. */
static int oidcCallFailed(OidcFlow *f, const char *zWhat,
                          const SsoClientResp *r){
  if( r->rc ){
    return oidcFailf(f, r->iProxyStatus==504 ? 504 : 502, OIDC_IDP_DOWN,
                     "The identity provider's %s did not answer in time or "
                     "could not be reached: %.300s. Try again later.", zWhat,
                     r->zErr);
  }
  return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's %s "
                   "answered with HTTP status %d. Try again later.", zWhat,
                   r->iStatus);
}

/* ================= Discovery ================= */

static int oidcAfterMeta(OidcFlow *f);

/* Fill f->m from the settings and the discovery document zDisc. */
static int oidcMetaFill(OidcFlow *f, const char *zDisc){
  SsoOidc *p = f->p;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot = 0;
  int rc = SSOPROXY_OK;
  memset(&f->m, 0, sizeof(f->m));
  if( zDisc ){
    rc = ssoJsonParse(zDisc, strlen(zDisc), SSO_JSON_NODUP, &pDoc, 0);
    if( rc ) return rc;
    pRoot = ssoJsonRoot(pDoc);
  }
#define OIDC_META(field, setting, name) do{ \
    const char *z_ = setting ? setting : ssoJsonCStr(ssoJsonGet(pRoot, name)); \
    f->m.field = z_ ? ssoArenaStrndup(&f->arena, z_, strlen(z_)) : 0; \
    if( z_ && f->m.field==0 ) rc = SSOPROXY_NOMEM; \
  }while(0)
  OIDC_META(zIssuer, p->zIssuer, "issuer");
  OIDC_META(zAuth, p->zAuthEp, "authorization_endpoint");
  OIDC_META(zToken, p->zTokenEp, "token_endpoint");
  OIDC_META(zUserinfo, p->zUserinfoEp, "userinfo_endpoint");
  OIDC_META(zJwks, p->zJwksEp, "jwks_uri");
  OIDC_META(zEndSession, (const char*)0, "end_session_endpoint");
#undef OIDC_META
  if( pRoot ){
    int b = 0;
    ssoJsonBool(ssoJsonGet(pRoot, "authorization_response_iss_parameter_"
                                  "supported"), &b);
    f->m.bIssParam = b;
  }
  ssoJsonFree(pDoc);
  return rc;
}

/* Check and keep a fetched discovery document; 0 with zWhy on refusal. */
static int oidcDiscAccept(SsoOidc *p, const char *z, size_t n, char *zWhy,
                          size_t nWhy){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  const char *zIss, *zAuth, *zToken, *zJwks;
  int bOk = 0;
  SsoArena a;
  SsoUrl u;
  ssoArenaInit(&a, 0);
  if( ssoJsonParse(z, n, SSO_JSON_NODUP, &pDoc, 0) ){
    snprintf(zWhy, nWhy, "the discovery document is not valid JSON");
    goto end;
  }
  pRoot = ssoJsonRoot(pDoc);
  zIss = ssoJsonCStr(ssoJsonGet(pRoot, "issuer"));
  zAuth = ssoJsonCStr(ssoJsonGet(pRoot, "authorization_endpoint"));
  zToken = ssoJsonCStr(ssoJsonGet(pRoot, "token_endpoint"));
  zJwks = ssoJsonCStr(ssoJsonGet(pRoot, "jwks_uri"));
  if( zIss==0 || strcmp(zIss, p->zIssuer)!=0 ){
    /* Discovery §4.3: the issuer must be exactly the one asked for, or a
    ** document from elsewhere could point us at another IdP's keys. */
    snprintf(zWhy, nWhy, "the discovery document's issuer \"%.200s\" is not "
             "GENERIC_ISSUER \"%.200s\" (they must be equal, trailing slash "
             "included)", zIss ? zIss : "", p->zIssuer);
    goto end;
  }
  if( (zAuth==0 && p->zAuthEp==0) || (zToken==0 && p->zTokenEp==0) ){
    snprintf(zWhy, nWhy, "the discovery document has no authorization or "
             "token endpoint");
    goto end;
  }
  if( (zAuth && !oidcUrlOk(&a, zAuth, &u))
   || (zToken && !oidcUrlOk(&a, zToken, &u))
   || (zJwks && !oidcUrlOk(&a, zJwks, &u)) ){
    snprintf(zWhy, nWhy, "the discovery document has an endpoint that is "
             "not an http(s) URL");
    goto end;
  }
  bOk = 1;
end:
  ssoJsonFree(pDoc);
  ssoArenaFree(&a);
  return bOk;
}

static int oidcDiscDone(OidcFlow *f, const SsoClientResp *r){
  SsoOidc *p = f->p;
  const char *zOld;
  char zWhy[600];
  if( r->rc==SSOPROXY_OK && r->iStatus==200 ){
    if( oidcDiscAccept(p, r->pBody, r->nBody, zWhy, sizeof(zWhy)) ){
      char *z = ssoArenaStrndup(&f->arena, r->pBody, r->nBody);
      if( z==0 ) return oidcFail(f, 500, "Out of memory", "Try again.");
      oidcCachePut(p, &p->zDisc, &p->tDisc, r->pBody, r->nBody);
      if( oidcMetaFill(f, z) ){
        return oidcFail(f, 500, "Out of memory", "Try again.");
      }
      return oidcAfterMeta(f);
    }
    ssoLog(p->pLog, SSO_LOG_ERROR, "OIDC discovery refused", "issuer",
           p->zIssuer, "reason", zWhy, (char*)0);
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's "
                     "configuration was refused: %s.", zWhy);
  }
  /* An IdP that is down keeps working from the last good document. */
  zOld = oidcCacheGet(p, &p->zDisc, &p->tDisc, 1, &f->arena);
  if( zOld && oidcMetaFill(f, zOld)==SSOPROXY_OK ) return oidcAfterMeta(f);
  ssoLog(p->pLog, SSO_LOG_ERROR, "OIDC discovery failed", "issuer",
         p->zIssuer, "error", r->rc ? r->zErr : "bad status", (char*)0);
  return oidcCallFailed(f, "discovery document", r);
}

/* Make f->m ready (from the cache, or fetch), then oidcAfterMeta(). */
static int oidcWithMeta(OidcFlow *f){
  SsoOidc *p = f->p;
  const char *zDisc;
  SsoBuf b;
  size_t n;
  int rc;
  if( p->zIssuer==0 ){
    if( oidcMetaFill(f, 0) ) return oidcFail(f, 500, "Out of memory", "");
    return oidcAfterMeta(f);
  }
  zDisc = oidcCacheGet(p, &p->zDisc, &p->tDisc, 0, &f->arena);
  if( zDisc ){
    if( oidcMetaFill(f, zDisc) ) return oidcFail(f, 500, "Out of memory", "");
    return oidcAfterMeta(f);
  }
  /* Discovery §4: the issuer, without a trailing '/', then the path. */
  n = strlen(p->zIssuer);
  while( n>0 && p->zIssuer[n-1]=='/' ) n--;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, p->zIssuer, n);
  ssoBufAppendStr(&b, "/.well-known/openid-configuration");
  if( b.rc ){
    ssoBufFree(&b);
    return oidcFail(f, 500, "Out of memory", "");
  }
  {
    SsoHttpHeader h;
    h.name.z = "Accept"; h.name.n = 6;
    h.value.z = "application/json"; h.value.n = 16;
    rc = oidcCall(f, OIDC_CALL_DISC, "GET", b.z, &h, 1);
  }
  ssoBufFree(&b);
  return rc;
}

/* ================= Login ================= */

static int oidcLoginRedirect(OidcFlow *f);
static int oidcCallbackToken(OidcFlow *f);

static int oidcAfterMeta(OidcFlow *f){
  if( f->m.zAuth==0 || f->m.zToken==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's "
                    "authorization or token endpoint is unknown.");
  }
  return f->bLogin ? oidcLoginRedirect(f) : oidcCallbackToken(f);
}

/* The grant's payload: nonce, verifier, return-to, browser binding. */
static int oidcGrantData(SsoBuf *b, const char *zNonce,
                         const char *zVerifier, const char *zReturnTo,
                         const char *zBrowserHash){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "nonce", zNonce);
  ssoJsonWriteKeyString(&w, "verifier", zVerifier);
  ssoJsonWriteKeyString(&w, "return_to", zReturnTo);
  ssoJsonWriteKeyString(&w, "browser", zBrowserHash);
  ssoJsonWriteEndObject(&w);
  return ssoJsonWriteFinish(&w) ? SSOPROXY_NOMEM : b->rc;
}

/*
** The authorization request URL (OIDC Core 3.1.2.1, RFC 7636 §4.3) into b.
*/
static int oidcAuthUrl(const SsoOidc *p, const char *zAuthEp,
                       const char *zState, const char *zNonce,
                       const char *zChallenge, SsoBuf *b){
  const char *az[] = {
    "response_type", "code",
    "client_id", p->zClientId,
    "redirect_uri", p->zRedirectUri,
    "scope", p->zScope,
    "state", zState,
    "nonce", zNonce,
    "code_challenge", zChallenge,
    "code_challenge_method", "S256",
  };
  return ssoUrlAppendQuery(b, zAuthEp, strlen(zAuthEp), az,
                           (int)SSO_ARRAYSIZE(az)/2, 0);
}

/* The browser's login cookie: the one it has (if well-formed) or new. */
static int oidcBrowserCookie(OidcFlow *f, SsoRng *pRng, char *zCookie){
  SsoStr v;
  if( oidcCookie(f->req, OIDC_COOKIE, &v) && v.n==OIDC_COOKIE_LEN ){
    size_t i;
    for(i=0; i<v.n; i++){
      char c = v.z[i];
      if( !((c>='a'&&c<='z') || (c>='A'&&c<='Z') || (c>='0'&&c<='9')
            || c=='-' || c=='_') ) break;
    }
    if( i==v.n ){
      memcpy(zCookie, v.z, v.n);
      zCookie[v.n] = 0;
      return SSOPROXY_OK;
    }
  }
  return oidcRandom(pRng, zCookie);
}

static int oidcLoginRedirect(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoRng *pRng = ssoApiWorkerRng(f->pW);
  char zState[48], zNonce[48], zVerifier[48], zChallenge[48], zCookie[48];
  char zStateHash[SSO_KEY_HEX], zBrowserHash[SSO_KEY_HEX];
  unsigned char aHash[SSO_SHA256_LEN];
  SsoBuf data, loc, cookie;
  SsoGrant g;
  long long tNow = ssoOsNowMs();
  int rc;
  ssoBufInit(&data, 0);
  ssoBufInit(&loc, 0);
  ssoBufInit(&cookie, 0);
  rc = oidcRandom(pRng, zState);
  if( rc==SSOPROXY_OK ) rc = oidcRandom(pRng, zNonce);
  if( rc==SSOPROXY_OK ) rc = oidcRandom(pRng, zVerifier);
  if( rc==SSOPROXY_OK ) rc = oidcBrowserCookie(f, pRng, zCookie);
  if( rc ) goto end;
  ssoSha256(zVerifier, strlen(zVerifier), aHash);
  ssoB64EncodeTo(aHash, sizeof(aHash), SSO_B64_URL, zChallenge);
  oidcHashHex(zState, strlen(zState), zStateHash);
  oidcHashHex(zCookie, strlen(zCookie), zBrowserHash);
  rc = oidcGrantData(&data, zNonce, zVerifier, f->zReturnTo, zBrowserHash);
  if( rc ) goto end;
  rc = oidcAuthUrl(p, f->m.zAuth, zState, zNonce, zChallenge, &loc);
  if( rc ) goto end;
  ssoBufPrintf(&cookie, OIDC_COOKIE "=%s; Path=/sso/callback; Max-Age=%lld; "
               "HttpOnly; SameSite=Lax%s", zCookie, p->msStateTtl/1000,
               p->bSecure ? "; Secure" : "");
  if( cookie.rc ){ rc = cookie.rc; goto end; }
  /* Expired states of earlier logins go first; a failure here is only
  ** garbage left for the next login to collect. */
  ssoStoreGrantPurge(pStore, tNow, 0);
  memset(&g, 0, sizeof(g));
  g.zHash = zStateHash;
  g.zKind = OIDC_GRANT_KIND;
  g.zData = data.z;
  g.tExpires = tNow + p->msStateTtl;
  rc = ssoStoreGrantInsert(pStore, &g);
  if( rc ){
    ssoLog(p->pLog, SSO_LOG_ERROR, "cannot store a login state", "error",
           ssoStoreErrmsg(pStore), (char*)0);
    goto end;
  }
  rc = ssoServerStatus(f->req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Location", loc.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Set-Cookie",
                                                cookie.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Referrer-Policy",
                                                "no-referrer");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(f->req, "", 0);
  ssoBufFree(&data);
  ssoBufFree(&loc);
  ssoBufFree(&cookie);
  oidcFlowFree(f);
  return rc;
end:
  if( data.z ) memset(data.z, 0, data.n);
  ssoBufFree(&data);
  ssoBufFree(&loc);
  ssoBufFree(&cookie);
  return oidcFail(f, 500, "Sign-in unavailable", "The sign-in could not be "
                  "started (out of memory or a database error). Try again.");
}

static int ssoOidcLogin(SsoOidc *p, SsoServerReq *req,
                             const char *zReturnTo){
  OidcFlow *f;
  if( p==0 ){
    return ssoPageError(req, 501, "Single sign-on is off", "Single sign-on "
                        "is not configured (GENERIC_CLIENT_ID).");
  }
  f = oidcFlowNew(p, req, 1);
  if( f==0 ) return SSOPROXY_NOMEM;
  if( zReturnTo==0 || !ssoUrlIsLocalPath(zReturnTo, strlen(zReturnTo)) ){
    zReturnTo = "/ui";
  }
  f->zReturnTo = ssoArenaStrndup(&f->arena, zReturnTo, strlen(zReturnTo));
  if( f->zReturnTo==0 ){
    oidcFlowFree(f);
    return SSOPROXY_NOMEM;
  }
  return oidcWithMeta(f);
}

/* GET /sso/key/generate[?rd=/path] */
static int oidcRouteGenerate(SsoServerReq *req, void *pArg){
  SsoOidc *p = pArg;
  SsoArena a;
  SsoForm form;
  SsoStr rd;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoFormParse(&a, req->query.z, req->query.n, &form, 0);
  if( rc==SSOPROXY_NOMEM ){ ssoArenaFree(&a); return rc; }
  if( rc ){
    ssoArenaFree(&a);
    return ssoPageError(req, 400, "Bad request", "The query string is not "
                        "valid.");
  }
  if( ssoFormCount(&form, "response_type")>0 ){
    ssoArenaFree(&a);
    if( p->xKeyFlow ) return p->xKeyFlow(req, p->pKeyFlowArg);
    return ssoServerError(req, 400, "Unsupported response_type");
  }
  rc = ssoFormGet(&form, "rd", &rd);
  rc = ssoOidcLogin(p, req, rc==SSOPROXY_OK ? rd.z : "/ui");
  ssoArenaFree(&a);
  return rc;
}

/* ================= Callback ================= */

/*
** Use up the state and read the grant: SSOPROXY_OK, or the flow has been
** answered with a 400 page and freed (*pbDone).
*/
static int oidcTakeState(OidcFlow *f, const SsoForm *pForm, int *pbDone){
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoStr state, cookie;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  const char *zBrowser;
  char zHash[SSO_KEY_HEX];
  int rc;
  *pbDone = 1;
  rc = ssoFormGet(pForm, "state", &state);
  if( rc || state.n==0 ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer has no state "
                    "parameter, so it cannot be matched to a sign-in started "
                    "here. Start the sign-in again.");
  }
  oidcHashHex(state.z, state.n, zHash);
  rc = ssoStoreGrantTake(pStore, zHash, OIDC_GRANT_KIND, &f->arena, &g);
  if( rc==SSOPROXY_NOTFOUND ){
    return oidcFail(f, 400, OIDC_REFUSED, "The state of this sign-in is "
                    "unknown or has expired. Start the sign-in again.");
  }
  if( rc ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state could "
                    "not be read (database error). Try again.");
  }
  if( g.nUse>1 ){
    return oidcFail(f, 400, OIDC_REFUSED, "This sign-in answer (its state) "
                    "has already been used. Start the sign-in again.");
  }
  if( g.tExpires<=ssoOsNowMs() ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in state has expired: "
                    "the sign-in took too long. Start it again.");
  }
  if( ssoJsonParse(g.zData, strlen(g.zData), 0, &pDoc, 0) ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state is "
                    "damaged. Start the sign-in again.");
  }
  pRoot = ssoJsonRoot(pDoc);
  zBrowser = ssoJsonCStr(ssoJsonGet(pRoot, "browser"));
#define OIDC_GRANT_STR(field, name) do{ \
    const char *z_ = ssoJsonCStr(ssoJsonGet(pRoot, name)); \
    f->field = z_ ? ssoArenaStrndup(&f->arena, z_, strlen(z_)) : 0; \
  }while(0)
  OIDC_GRANT_STR(zNonce, "nonce");
  OIDC_GRANT_STR(zVerifier, "verifier");
  OIDC_GRANT_STR(zReturnTo, "return_to");
#undef OIDC_GRANT_STR
  rc = SSOPROXY_OK;
  if( !oidcCookie(f->req, OIDC_COOKIE, &cookie) || zBrowser==0
   || strlen(zBrowser)!=SSO_KEY_HEX-1 ){
    rc = SSOPROXY_CONSTRAINT;
  }else{
    char zMine[SSO_KEY_HEX];
    oidcHashHex(cookie.z, cookie.n, zMine);
    if( !ssoCtEqual(zMine, zBrowser, SSO_KEY_HEX-1) ) rc = SSOPROXY_CONSTRAINT;
  }
  ssoJsonFree(pDoc);
  if( rc ){
    /* RFC 9700 §4.7.1: a state is bound to the browser that started the
    ** sign-in, or a link could log a victim in as the attacker. */
    return oidcFail(f, 400, OIDC_REFUSED, "This sign-in was started in "
                    "another browser (its state does not belong to this "
                    "one). Start the sign-in again here.");
  }
  if( f->zNonce==0 || f->zVerifier==0 || f->zReturnTo==0 ){
    return oidcFail(f, 500, "Sign-in unavailable", "The sign-in state is "
                    "damaged. Start the sign-in again.");
  }
  *pbDone = 0;
  return SSOPROXY_OK;
}

/* GET /sso/callback?code=...&state=...[&iss=...] or ?error=... */
static int oidcRouteCallback(SsoServerReq *req, void *pArg){
  SsoOidc *p = pArg;
  OidcFlow *f = oidcFlowNew(p, req, 0);
  SsoForm form;
  SsoStr v;
  int rc, bDone;
  if( f==0 ) return SSOPROXY_NOMEM;
  rc = ssoFormParse(&f->arena, req->query.z, req->query.n, &form, 0);
  if( rc==SSOPROXY_NOMEM ){ oidcFlowFree(f); return rc; }
  if( rc || ssoFormFirstDuplicate(&form)>=0 ){
    /* RFC 6749 §3.1: parameters must not be repeated. */
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer is malformed "
                    "(a bad or repeated parameter).");
  }
  rc = oidcTakeState(f, &form, &bDone);
  if( bDone ) return rc;
  if( ssoFormGet(&form, "error", &v)==SSOPROXY_OK ){
    SsoStr d;
    int bD = ssoFormGet(&form, "error_description", &d)==SSOPROXY_OK;
    return oidcFailf(f, strcmp(v.z, "access_denied")==0 ? 403 : 400,
                     OIDC_REFUSED, "The identity provider answered with an "
                     "error: %.100s%s%.300s", v.z, bD ? ": " : ".",
                     bD ? d.z : "");
  }
  if( ssoFormGet(&form, "code", &v)!=SSOPROXY_OK || v.n==0 ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer has no code.");
  }
  f->zCode = v.z;
  if( ssoFormGet(&form, "iss", &v)==SSOPROXY_OK ) f->zIssParam = v.z;
  return oidcWithMeta(f);
}

/* RFC 9207: the issuer named in the answer (mix-up defence). */
static int oidcIssParamOk(OidcFlow *f){
  const SsoOidc *p = f->p;
  if( f->zIssParam==0 ) return !f->m.bIssParam;
  if( p->zIssuer ) return strcmp(f->zIssParam, p->zIssuer)==0;
  return oidcSameOrigin(f->zIssParam, f->m.zToken);
}

static int oidcCallbackToken(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoHttpHeader aHdr[3];
  int nHdr = 0;
  const char *az[] = {
    "grant_type", "authorization_code",
    "code", f->zCode,
    "redirect_uri", p->zRedirectUri,
    "code_verifier", f->zVerifier,
    "client_id", (p->bSecretPost || p->bIncludeClientId) ? p->zClientId : 0,
    "client_secret", p->bSecretPost ? p->zClientSecret : 0,
  };
  if( !oidcIssParamOk(f) ){
    return oidcFail(f, 400, OIDC_REFUSED, "The sign-in answer names another "
                    "identity provider (its iss parameter, RFC 9207, is not "
                    "the configured issuer).");
  }
  ssoFormAppend(&f->body, az, (int)SSO_ARRAYSIZE(az)/2);
  if( f->body.rc ) return oidcFail(f, 500, "Out of memory", "Try again.");
  aHdr[nHdr].name.z = "Content-Type"; aHdr[nHdr].name.n = 12;
  aHdr[nHdr].value.z = "application/x-www-form-urlencoded";
  aHdr[nHdr++].value.n = 33;
  aHdr[nHdr].name.z = "Accept"; aHdr[nHdr].name.n = 6;
  aHdr[nHdr].value.z = "application/json"; aHdr[nHdr++].value.n = 16;
  if( !p->bSecretPost ){
    aHdr[nHdr].name.z = "Authorization"; aHdr[nHdr].name.n = 13;
    aHdr[nHdr].value.z = p->zBasic;
    aHdr[nHdr++].value.n = strlen(p->zBasic);
  }
  return oidcCall(f, OIDC_CALL_TOKEN, "POST", f->m.zToken, aHdr, nHdr);
}

static int oidcVerify(OidcFlow *f);

static int oidcTokenDone(OidcFlow *f, const SsoClientResp *r){
  const SsoJson *pRoot;
  char zErr[300];
  if( r->rc ) return oidcCallFailed(f, "token endpoint", r);
  ssoJsonParse(r->pBody, r->nBody, SSO_JSON_NODUP, &f->pToken, 0);
  pRoot = ssoJsonRoot(f->pToken);
  if( r->iStatus!=200 ){
    const char *zE = ssoJsonCStr(ssoJsonGet(pRoot, "error"));
    const char *zD = ssoJsonCStr(ssoJsonGet(pRoot, "error_description"));
    if( r->iStatus>=400 && r->iStatus<500 && zE ){
      /* RFC 6749 §5.2: the IdP refused the code (used, tampered, wrong
      ** verifier): the browser's request is what went wrong. */
      return oidcFailf(f, 400, OIDC_REFUSED, "The identity provider refused "
                       "the sign-in code at its token endpoint: %.80s%s%.200s",
                       zE, zD ? ": " : ".", zD ? zD : "");
    }
    return oidcCallFailed(f, "token endpoint", r);
  }
  f->zIdToken = ssoJsonCStr(ssoJsonGet(pRoot, "id_token"));
  f->zAccess = ssoJsonCStr(ssoJsonGet(pRoot, "access_token"));
  if( f->zIdToken==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's token "
                    "endpoint gave no id_token (GENERIC_SCOPE must contain "
                    "openid).");
  }
  f->bJwt = 1;
  if( ssoJwtDecode(f->zIdToken, strlen(f->zIdToken), &f->jwt, zErr,
                   sizeof(zErr)) ){
    return oidcFailf(f, 400, OIDC_REFUSED, "The id_token from the identity "
                     "provider is malformed: %s.", zErr);
  }
  return oidcVerify(f);
}

static int oidcClaimsCheck(OidcFlow *f);

/* Verify the signature with the JWKS text z; fetch again if need be. */
static int oidcVerifyWith(OidcFlow *f, const char *z){
  SsoOidc *p = f->p;
  SsoJwks *pKeys = 0;
  char zErr[300];
  int rc = ssoJwksParse(z, strlen(z), &pKeys, zErr, sizeof(zErr));
  if( rc ){
    ssoJwksFree(pKeys);
    return oidcFailf(f, 502, OIDC_IDP_DOWN, "The identity provider's key set "
                     "(JWKS) is not usable: %s.", zErr);
  }
  rc = ssoJwtVerify(&f->jwt, pKeys, zErr, sizeof(zErr));
  ssoJwksFree(pKeys);
  if( rc==SSOPROXY_OK ) return oidcClaimsCheck(f);
  if( rc==SSOPROXY_NOTFOUND && !f->bJwksFresh ){
    /* An unknown kid: the IdP may have rotated its keys. Fetch the set
    ** again, but not more than once per SSO_OIDC_JWKS_FORCE_MS, so tokens
    ** with made-up kids cannot make us hammer the IdP. */
    long long tNow = ssoOsMonoMs();
    int bGo = 0;
    pthread_mutex_lock(&p->mu);
    if( p->tJwksForced==0 || tNow - p->tJwksForced >= SSO_OIDC_JWKS_FORCE_MS ){
      p->tJwksForced = tNow;
      bGo = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if( bGo ){
      SsoHttpHeader h;
      f->bJwksForced = 1;
      h.name.z = "Accept"; h.name.n = 6;
      h.value.z = "application/json"; h.value.n = 16;
      return oidcCall(f, OIDC_CALL_JWKS, "GET", f->m.zJwks, &h, 1);
    }
  }
  if( rc==SSOPROXY_NOMEM ) return oidcFail(f, 500, "Out of memory", "");
  return oidcFailf(f, 400, OIDC_REFUSED, "The id_token's signature was "
                   "refused: %s.", zErr);
}

/* Signature check: through the JWKS when there is one, else the back
** channel (OIDC Core 3.1.3.7 item 6). */
static int oidcVerify(OidcFlow *f){
  SsoOidc *p = f->p;
  const char *z;
  SsoHttpHeader h;
  if( f->m.zJwks==0 ){
    /* The TLS connection to the token endpoint vouches for the token, so
    ** whatever the IdP signs with (HS256 included) is taken unchecked;
    ** but "none" says it signs nothing at all, which no setting of ours
    ** asks for: that is a forgery or a broken IdP. */
    if( strcasecmp(f->jwt.zAlg, "none")==0 ){
      return oidcFail(f, 400, OIDC_REFUSED, "The id_token is not signed "
                      "(alg none).");
    }
    return oidcClaimsCheck(f);
  }
  z = oidcCacheGet(p, &p->zJwks, &p->tJwks, 0, &f->arena);
  if( z ) return oidcVerifyWith(f, z);
  h.name.z = "Accept"; h.name.n = 6;
  h.value.z = "application/json"; h.value.n = 16;
  return oidcCall(f, OIDC_CALL_JWKS, "GET", f->m.zJwks, &h, 1);
}

static int oidcJwksDone(OidcFlow *f, const SsoClientResp *r){
  SsoOidc *p = f->p;
  const char *z;
  if( r->rc || r->iStatus!=200 ){
    /* Keep going with a key set we already have, if any. */
    z = oidcCacheGet(p, &p->zJwks, &p->tJwks, 1, &f->arena);
    if( z && !f->bJwksForced ){
      f->bJwksFresh = 1;
      return oidcVerifyWith(f, z);
    }
    return oidcCallFailed(f, "key set (JWKS)", r);
  }
  oidcCachePut(p, &p->zJwks, &p->tJwks, r->pBody, r->nBody);
  z = ssoArenaStrndup(&f->arena, r->pBody, r->nBody);
  if( z==0 ) return oidcFail(f, 500, "Out of memory", "");
  f->bJwksFresh = 1;
  return oidcVerifyWith(f, z);
}

static int oidcUserinfo(OidcFlow *f);

/* OIDC Core 3.1.3.7: iss, aud, azp, exp, iat, sub, nonce. */
static int oidcClaimsCheck(OidcFlow *f){
  SsoOidc *p = f->p;
  SsoJwtExpect e;
  char zErr[300];
  const char *zIss;
  memset(&e, 0, sizeof(e));
  e.zIss = p->zIssuer;
  e.zAud = p->zClientId;
  e.zNonce = f->zNonce;
  e.tNow = ssoOsNowMs();
  e.msSkew = SSO_OIDC_SKEW_MS;
  e.msMaxAge = SSO_OIDC_IAT_AGE_MS;
  if( ssoJwtCheckClaims(&f->jwt, &e, zErr, sizeof(zErr)) ){
    return oidcFailf(f, 400, OIDC_REFUSED, "The id_token was refused: %s.",
                     zErr);
  }
  zIss = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->jwt.pClaims), "iss"));
  if( p->zIssuer==0 ){
    /* No issuer configured: the token's issuer must at least be the
    ** server we got it from, and the one the answer named. */
    if( zIss==0 || !oidcSameOrigin(zIss, f->m.zToken)
     || (f->zIssParam && strcmp(zIss, f->zIssParam)!=0) ){
      return oidcFail(f, 400, OIDC_REFUSED, "The id_token was refused: its "
                      "issuer (iss) is not the identity provider whose token "
                      "endpoint issued it.");
    }
  }
  return oidcUserinfo(f);
}

static int oidcFinish(OidcFlow *f);

static int oidcUserinfo(OidcFlow *f){
  SsoHttpHeader aHdr[2];
  SsoBuf b;
  int rc;
  if( f->m.zUserinfo==0 ) return oidcFinish(f);
  if( f->zAccess==0 ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's token "
                    "endpoint gave no access_token for userinfo.");
  }
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "Bearer ");
  ssoBufAppendStr(&b, f->zAccess);
  if( b.rc ){ ssoBufFree(&b); return oidcFail(f, 500, "Out of memory", ""); }
  aHdr[0].name.z = "Authorization"; aHdr[0].name.n = 13;
  aHdr[0].value.z = b.z; aHdr[0].value.n = b.n;
  aHdr[1].name.z = "Accept"; aHdr[1].name.n = 6;
  aHdr[1].value.z = "application/json"; aHdr[1].value.n = 16;
  rc = oidcCall(f, OIDC_CALL_USERINFO, "GET", f->m.zUserinfo, aHdr, 2);
  memset(b.z, 0, b.n);
  ssoBufFree(&b);
  return rc;
}

static int oidcUserinfoDone(OidcFlow *f, const SsoClientResp *r){
  const char *zSub, *zIdSub;
  if( r->rc || r->iStatus!=200 ) return oidcCallFailed(f, "userinfo endpoint",
                                                       r);
  if( ssoJsonParse(r->pBody, r->nBody, SSO_JSON_NODUP, &f->pUserinfo, 0)
   || ssoJsonType(ssoJsonRoot(f->pUserinfo))!=SSO_JSON_OBJECT ){
    return oidcFail(f, 502, OIDC_IDP_DOWN, "The identity provider's userinfo "
                    "answer is not a JSON object (signed userinfo is not "
                    "supported).");
  }
  zSub = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->pUserinfo), "sub"));
  zIdSub = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(f->jwt.pClaims), "sub"));
  if( zSub==0 || zIdSub==0 || strcmp(zSub, zIdSub)!=0 ){
    /* OIDC Core 5.3.2: another user's userinfo must not be used. */
    return oidcFail(f, 400, OIDC_REFUSED, "The identity provider's userinfo "
                    "answer is about another user than the id_token (sub "
                    "differs).");
  }
  return oidcFinish(f);
}

static void oidcCallDone(SsoClientCall *pCall, const SsoClientResp *r,
                         void *pArg){
  OidcFlow *f = pArg;
  SSO_UNUSED(pCall);
  f->pCall = 0;
  switch( f->eCall ){
    case OIDC_CALL_DISC:     oidcDiscDone(f, r); break;
    case OIDC_CALL_TOKEN:    oidcTokenDone(f, r); break;
    case OIDC_CALL_JWKS:     oidcJwksDone(f, r); break;
    default:                 oidcUserinfoDone(f, r); break;
  }
}

/*
** Write the user: a new SSO user, or the existing one refreshed (role by
** oidcRoleToStore). Audited through the API's row operations. Returns
** SSOPROXY_OK with *pOut (strings in f->arena); or SSOPROXY_CONSTRAINT
** with *pzWhy and *piStatus for a refusal; or a store error.
*/
static int oidcSaveUser(OidcFlow *f, const OidcIdentity *pId, SsoUser *pOut,
                        const char **pzWhy, int *piStatus){
  SsoStore *pStore = ssoApiWorkerStore(f->pW);
  SsoUser old, nu;
  int rc = ssoStoreBegin(pStore);
  if( rc ) return rc;
  rc = ssoStoreUserGet(pStore, pId->zId, &f->arena, &old);
  if( rc==SSOPROXY_NOTFOUND ){
    memset(&nu, 0, sizeof(nu));
    nu.zId = pId->zId;
    nu.zEmail = pId->zEmail;
    nu.zName = pId->zName;
    nu.zRole = ssoAuthzRoleName(oidcRoleToStore(f->p, pId, 0));
    nu.zSource = "sso";
    nu.tLastLogin = ssoOsNowMs();
    rc = ssoApiUserInsert(pStore, "sso", &nu);
  }else if( rc==SSOPROXY_OK ){
    if( strcmp(old.zSource, "sso")!=0 ){
      *pzWhy = "An account with your user id was created locally by an "
               "administrator; it cannot be taken over by single sign-on. "
               "Ask an administrator to delete it first.";
      *piStatus = 409;
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.bDisabled ){
      *pzWhy = "Your account is disabled. Ask an administrator.";
      *piStatus = 403;
      rc = SSOPROXY_CONSTRAINT;
    }else{
      nu = old;
      if( pId->zEmail ) nu.zEmail = pId->zEmail;
      if( pId->zName ) nu.zName = pId->zName;
      nu.zRole = ssoAuthzRoleName(oidcRoleToStore(f->p, pId, &old));
      nu.tLastLogin = ssoOsNowMs();
      nu.tUpdated = 0;
      nu.zMetadata = 0;
      if( strcmp(nu.zRole, old.zRole)!=0
       || (nu.zEmail!=old.zEmail
           && (!nu.zEmail || !old.zEmail || strcmp(nu.zEmail, old.zEmail)))
       || (nu.zName!=old.zName
           && (!nu.zName || !old.zName || strcmp(nu.zName, old.zName))) ){
        rc = ssoApiUserSave(pStore, "sso", &old, &nu);
      }else{
        rc = ssoStoreUserUpdate(pStore, &nu);   /* last login only */
      }
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(pStore);
  if( rc ){
    ssoStoreRollback(pStore);
    if( rc!=SSOPROXY_CONSTRAINT || *pzWhy==0 ){
      ssoLog(f->p->pLog, SSO_LOG_ERROR, "cannot save an SSO user", "user",
             pId->zId, "error", ssoStoreErrmsg(pStore), (char*)0);
    }
    return rc;
  }
  if( strcmp(nu.zRole, pId->eRole ? ssoAuthzRoleName(pId->eRole)
                                  : nu.zRole)!=0 ){
    ssoLog(f->p->pLog, SSO_LOG_INFO, "SSO role claim not applied", "user",
           nu.zId, "claimed", ssoAuthzRoleName(pId->eRole), "kept",
           nu.zRole, (char*)0);
  }
  *pOut = nu;
  return SSOPROXY_OK;
}

/* The identity, the user row, the session, and back to the return-to. */
static int oidcFinish(OidcFlow *f){
  OidcClaims c;
  OidcIdentity id;
  SsoUser u;
  SsoBuf data;
  memset(&u, 0, sizeof(u));
  const char *zWhy = 0;
  int iStatus = 403, rc;
  c.pUser = ssoJsonRoot(f->pUserinfo);
  c.pId = ssoJsonRoot(f->jwt.pClaims);
  rc = oidcIdentity(f->p, &c, &f->arena, &id, &zWhy);
  if( rc==SSOPROXY_CONSTRAINT ) return oidcFail(f, 403, OIDC_REFUSED, zWhy);
  if( rc ) return oidcFail(f, 500, "Out of memory", "Try again.");
  rc = oidcSaveUser(f, &id, &u, &zWhy, &iStatus);
  if( rc==SSOPROXY_CONSTRAINT && zWhy ){
    return oidcFail(f, iStatus, OIDC_REFUSED, zWhy);
  }
  if( rc ){
    return oidcFail(f, 500, "Sign-in unavailable", "Your account could not "
                    "be saved (database error). Try again.");
  }
  ssoBufInit(&data, 0);
  ssoBufPrintf(&data, "{\"groups\":%s,\"via\":\"sso\"}", id.zGroups);
  if( data.rc ){
    ssoBufFree(&data);
    return oidcFail(f, 500, "Out of memory", "Try again.");
  }
  rc = ssoServerStatus(f->req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Location",
                                                f->zReturnTo);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(f->req, "Referrer-Policy",
                                                "no-referrer");
  if( rc==SSOPROXY_OK ){
    rc = ssoSessionStart(f->p->pSessions, ssoApiWorkerStore(f->pW),
                         ssoApiWorkerRng(f->pW), f->req, u.zId, f->zIdToken,
                         data.z, ssoOsNowMs());
    if( rc ){
      ssoLog(f->p->pLog, SSO_LOG_ERROR, "cannot start a session", "user",
             u.zId, "error", ssoproxy_errstr(rc), (char*)0);
    }
    rc = ssoServerBody(f->req, "", 0);
  }
  ssoBufFree(&data);
  ssoLog(f->p->pLog, SSO_LOG_INFO, "SSO login", "user", u.zId, "role",
         u.zRole, (char*)0);
  oidcFlowFree(f);
  return rc;
}

/* ================= Logout, routes ================= */

static int ssoOidcLogoutUrl(SsoOidc *p, const char *zIdToken,
                                 SsoBuf *b){
  SsoArena a;
  SsoJsonDoc *pDoc = 0;
  const char *zDisc, *zEnd;
  SsoBuf post;
  int bDone = 0;
  if( p==0 ) return 0;
  if( p->zLogoutUrl ){
    ssoBufAppendStr(b, p->zLogoutUrl);
    return 1;
  }
  if( p->zIssuer==0 ) return 0;
  ssoArenaInit(&a, 0);
  ssoBufInit(&post, 0);
  zDisc = oidcCacheGet(p, &p->zDisc, &p->tDisc, 1, &a);
  if( zDisc && ssoJsonParse(zDisc, strlen(zDisc), 0, &pDoc, 0)==SSOPROXY_OK ){
    zEnd = ssoJsonCStr(ssoJsonGet(ssoJsonRoot(pDoc), "end_session_endpoint"));
    if( zEnd ){
      const char *az[6];
      ssoBufAppendStr(&post, p->zBaseUrl);
      ssoBufAppendStr(&post, "/ui");
      az[0] = "id_token_hint"; az[1] = zIdToken;
      az[2] = "post_logout_redirect_uri"; az[3] = post.z;
      az[4] = "client_id"; az[5] = p->zClientId;
      if( post.rc==0
       && ssoUrlAppendQuery(b, zEnd, strlen(zEnd), az, 3, 0)==SSOPROXY_OK ){
        bDone = 1;
      }
    }
  }
  ssoJsonFree(pDoc);
  ssoBufFree(&post);
  ssoArenaFree(&a);
  return bDone;
}

static int ssoOidcRegister(SsoServer *pSrv, SsoOidc *p){
  int rc;
  if( p==0 ) return SSOPROXY_OK;
  rc = ssoServerRoute(pSrv, "GET", "/sso/key/generate", oidcRouteGenerate, p);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/sso/callback", oidcRouteCallback, p);
  }
  return rc;
}
/************** End of oidc.c **************/
/************** Begin file ui.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the web sign-in (see ui.h for the routes).
**
** Password sign-in, as LiteLLM's /login: the username must be UI_USERNAME
** (default "admin") and the password UI_PASSWORD or the master key. Both
** sides are hashed with SHA-256 and compared in constant time, so neither
** the length nor a common prefix of a secret shows in the timing. The
** signed-in user is the local user whose id is UI_USERNAME: created at
** the first sign-in (role proxy_admin, source "local", audited), put back
** to proxy_admin if someone demoted it, refused if it is disabled or
** belongs to single sign-on (a password must never open an IdP user's
** account). Wrong passwords are counted per client address; past
** SSOPROXY_LOGIN_MAX_FAILURES in a minute the address gets 429.
**
** CSRF before there is a session (login CSRF, which would sign a victim
** in as the attacker): the form carries a random token that must equal
** a cookie set with the page (double submit). A cross-site page can make
** the browser post, but it can neither read nor set our cookie (HttpOnly,
** SameSite=Lax, __Host- with https), so it cannot supply the pair. After
** sign-in, forms carry the session's own CSRF token (src/session.c).
**
** Return-to values (rd) are local paths only (ssoUrlIsLocalPath);
** anything else becomes /ui, so no link can turn the sign-in into an
** open redirect.
*/
/* #include "ssoInt.h" */
#include <pthread.h>

/* One client address's failed sign-ins in the current window. */
typedef struct UiFail UiFail;
struct UiFail {
  char zAddr[48];           /* "" when the slot is free */
  long long tStart;         /* Window start, Unix ms */
  int n;                    /* Failures since tStart */
};

struct SsoUi {
  const SsoSessions *pSessions;
  SsoOidc *pOidc;
  int bAutoRedirect;
  char *zBaseUrl;                       /* Owned; NULL: unset */
  char *zUsername;                      /* Owned */
  int bPassword;                        /* UI_PASSWORD set */
  unsigned char aPassword[SSO_SHA256_LEN];
  int bMaster;                          /* A master key set */
  unsigned char aMaster[SSO_SHA256_LEN];
  unsigned char aUser[SSO_SHA256_LEN];  /* SHA-256 of zUsername */
  int nMaxFailures;
  SsoLog *pLog;
  char zLoginCookie[32];                /* The sign-in form's cookie name */
  pthread_mutex_t mu;                   /* Guards aFail */
  UiFail aFail[SSO_UI_LOGIN_SLOTS];
};

#define UI_DEFAULT_RD "/ui"

/* ---- Set-up ---- */

static int ssoUiNew(const SsoUiConfig *pCfg, SsoUi **pp, char *zErr,
                         size_t nErr){
  SsoUi *p;
  const char *zUser = pCfg->zUsername ? pCfg->zUsername : "admin";
  size_t n = strlen(zUser);
  *pp = 0;
  if( n==0 || n>SSO_API_MAX_TEXT ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "UI_USERNAME must be 1 to "
                     "%d bytes", SSO_API_MAX_TEXT);
  }
  if( pCfg->zPassword && pCfg->zPassword[0]==0 ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "UI_PASSWORD is set but "
                     "empty: unset it (the master key is then the password) "
                     "or give a password");
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->pSessions = pCfg->pSessions;
  p->pOidc = pCfg->pOidc;
  p->bAutoRedirect = pCfg->bAutoRedirect;
  p->nMaxFailures = pCfg->nMaxFailures>0 ? pCfg->nMaxFailures
                                          : SSO_UI_LOGIN_FAILURES;
  p->pLog = pCfg->pLog;
  p->zUsername = ssoStrdup(zUser);
  p->zBaseUrl = ssoStrdup(pCfg->zBaseUrl);
  if( p->zUsername==0 || (pCfg->zBaseUrl && p->zBaseUrl==0) ){
    ssoFree(p->zUsername);
    ssoFree(p->zBaseUrl);
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  ssoSha256(zUser, n, p->aUser);
  if( pCfg->zPassword ){
    p->bPassword = 1;
    ssoSha256(pCfg->zPassword, strlen(pCfg->zPassword), p->aPassword);
  }
  if( pCfg->zMasterKey && pCfg->zMasterKey[0] ){
    p->bMaster = 1;
    ssoSha256(pCfg->zMasterKey, strlen(pCfg->zMasterKey), p->aMaster);
  }
  ssoSessionCookieName(p->pSessions, "ssoproxy_login", p->zLoginCookie,
                       sizeof(p->zLoginCookie));
  pthread_mutex_init(&p->mu, 0);
  *pp = p;
  return SSOPROXY_OK;
}

static void ssoUiFree(SsoUi *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zUsername);
  ssoFree(p->zBaseUrl);
  memset(p, 0, sizeof(*p));
  ssoFree(p);
}

/* ---- Password and limiter ---- */

static int ssoUiPasswordOk(const SsoUi *p, const char *zUser,
                                const char *zPass, int *pbMaster){
  unsigned char aU[SSO_SHA256_LEN], aP[SSO_SHA256_LEN];
  int bUser, bPass, bMaster;
  if( pbMaster ) *pbMaster = 0;
  if( zUser==0 ) zUser = "";
  if( zPass==0 ) zPass = "";
  ssoSha256(zUser, strlen(zUser), aU);
  ssoSha256(zPass, strlen(zPass), aP);
  /* Every comparison is made whatever the others gave. */
  bUser = ssoCtEqual(aU, p->aUser, sizeof(aU));
  bPass = ssoCtEqual(aP, p->aPassword, sizeof(aP)) & p->bPassword;
  bMaster = ssoCtEqual(aP, p->aMaster, sizeof(aP)) & p->bMaster;
  memset(aP, 0, sizeof(aP));
  if( pbMaster ) *pbMaster = bUser && bMaster && !bPass;
  return bUser && (bPass || bMaster) && zPass[0]!=0;
}

/* The address part of "ip:port" or "[v6]:port" into z[48]. */
static void uiClientAddr(const char *zClient, char *z){
  const char *zColon = strrchr(zClient, ':');
  size_t n = zColon ? (size_t)(zColon-zClient) : strlen(zClient);
  if( n>=48 ) n = 47;
  memcpy(z, zClient, n);
  z[n] = 0;
}

/* The slot of zAddr, or NULL. Caller holds p->mu. */
static UiFail *uiFailFind(SsoUi *p, const char *zAddr){
  int i;
  for(i=0; i<SSO_UI_LOGIN_SLOTS; i++){
    if( strcmp(p->aFail[i].zAddr, zAddr)==0 ) return &p->aFail[i];
  }
  return 0;
}

static int ssoUiLimited(SsoUi *p, const char *zClient, long long tNow){
  char zAddr[48];
  UiFail *f;
  int nWait = 0;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f && tNow-f->tStart<SSO_UI_LOGIN_WINDOW_MS && f->n>=p->nMaxFailures ){
    nWait = (int)((f->tStart + SSO_UI_LOGIN_WINDOW_MS - tNow + 999)/1000);
    if( nWait<1 ) nWait = 1;
  }
  pthread_mutex_unlock(&p->mu);
  return nWait;
}

static void ssoUiFailed(SsoUi *p, const char *zClient, long long tNow){
  char zAddr[48];
  UiFail *f;
  int i;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f==0 ){
    /* A free slot, or one whose window is over, or else the oldest: a
    ** flood of addresses can only push out the oldest windows. */
    f = &p->aFail[0];
    for(i=0; i<SSO_UI_LOGIN_SLOTS; i++){
      UiFail *g = &p->aFail[i];
      if( g->zAddr[0]==0 || tNow-g->tStart>=SSO_UI_LOGIN_WINDOW_MS ){
        f = g;
        break;
      }
      if( g->tStart<f->tStart ) f = g;
    }
    memcpy(f->zAddr, zAddr, sizeof(zAddr));
    f->tStart = tNow;
    f->n = 0;
  }
  if( tNow-f->tStart>=SSO_UI_LOGIN_WINDOW_MS ){
    f->tStart = tNow;
    f->n = 0;
  }
  f->n++;
  pthread_mutex_unlock(&p->mu);
}

static void ssoUiSucceeded(SsoUi *p, const char *zClient){
  char zAddr[48];
  UiFail *f;
  uiClientAddr(zClient, zAddr);
  pthread_mutex_lock(&p->mu);
  f = uiFailFind(p, zAddr);
  if( f ) memset(f, 0, sizeof(*f));
  pthread_mutex_unlock(&p->mu);
}

/* ---- Helpers ---- */

/* A return-to value: z if it is a local path, else /ui. */
static const char *uiReturnTo(const char *z){
  return (z && ssoUrlIsLocalPath(z, strlen(z))) ? z : UI_DEFAULT_RD;
}

/* The parameter zName of a parsed form, or NULL if absent or repeated. */
static const char *uiFormValue(const SsoForm *f, const char *zName){
  SsoStr v;
  if( ssoFormGet(f, zName, &v)!=SSOPROXY_OK ) return 0;
  if( v.n>SSO_UI_MAX_FIELD ) return 0;
  return v.z;
}

/* Answer a page with extra headers: status, the page headers (with
** zFormAction for CSP), then nHdr (name, value) pairs, then the page. */
static int uiSendPage(SsoServerReq *req, int iStatus, const char *zFormAction,
                      const char *zTitle, const char *zBody,
                      const char *const *azHdr, int nHdr){
  SsoBuf b;
  int rc, i;
  ssoBufInit(&b, 0);
  ssoPageBuild(&b, zTitle, zBody);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeadersEx(req, zFormAction);
  for(i=0; rc==SSOPROXY_OK && i<nHdr; i++){
    rc = ssoServerAddHeader(req, azHdr[2*i], azHdr[2*i+1]);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

/* The worker's store and generator, or a 503 page. */
static int uiWorker(SsoServerReq *req, SsoStore **ppStore, SsoRng **ppRng){
  SsoApiWorker *w = req->pWorkerCtx;
  if( w==0 || ssoApiWorkerStore(w)==0 ) return 0;
  *ppStore = ssoApiWorkerStore(w);
  if( ppRng ) *ppRng = ssoApiWorkerRng(w);
  return 1;
}

static int uiUnavailable(SsoServerReq *req){
  return ssoPageError(req, 503, "Unavailable", "The database is not "
                      "available right now. Try again in a moment.");
}

static int uiInternal(SsoUi *p, SsoServerReq *req, const char *zWhat, int rc){
  if( p->pLog ){
    ssoLog(p->pLog, SSO_LOG_ERROR, "sign-in page failed", "step", zWhat,
           "error", ssoproxy_errstr(rc), (char*)0);
  }
  return ssoPageError(req, 500, "Something went wrong", "The server could "
                      "not complete this request. Try again; if it keeps "
                      "happening, the administrator will find details in "
                      "the log.");
}

/*
** The request's session: 1 and *pSess when signed in, else 0 with *pRc
** SSOPROXY_OK (no session) or a store error (the caller answers 500).
*/
static int uiSession(SsoUi *p, SsoServerReq *req, SsoStore *pStore,
                     SsoArena *pArena, SsoSession *pSess, int *pRc){
  int rc = ssoSessionGet(p->pSessions, pStore, req->aHdr, req->nHdr,
                         ssoOsNowMs(), pArena, pSess);
  *pRc = rc==SSOPROXY_NOTFOUND ? SSOPROXY_OK : rc;
  return rc==SSOPROXY_OK;
}

/*
** Where the browser goes after logout: the IdP's logout (or
** PROXY_LOGOUT_URL) when single sign-on provides one, into pUrl with its
** origin in pOrigin for the page's CSP form-action; else /ui (return 0).
*/
static int uiLogoutTarget(SsoUi *p, const SsoSession *pSess, SsoArena *pArena,
                          SsoBuf *pUrl, SsoBuf *pOrigin){
  SsoUrl u;
  if( p->pOidc==0 ) return 0;
  if( !ssoOidcLogoutUrl(p->pOidc, pSess->row.zIdToken, pUrl) || pUrl->rc ){
    return 0;
  }
  if( ssoUrlParse(pArena, pUrl->z, pUrl->n, &u, 0)!=SSOPROXY_OK
   || ssoUrlAppendOrigin(pOrigin, &u)!=SSOPROXY_OK || pOrigin->rc ){
    return 0;
  }
  return 1;
}

/* ---- The sign-in page ---- */

/*
** The sign-in form's token: the cookie's value when the browser already
** has a well-formed one (so two open tabs both work), else a new one.
*/
static int uiLoginToken(SsoUi *p, SsoServerReq *req, char *zToken){
  unsigned char a[32];
  SsoStr v;
  int rc;
  if( ssoSessionCookieGet(req->aHdr, req->nHdr, p->zLoginCookie, &v)==0
   && ssoSessionIdWellFormed(v.z, v.n) ){
    memcpy(zToken, v.z, v.n);
    zToken[v.n] = 0;
    return SSOPROXY_OK;
  }
  rc = ssoRngBytes(ssoApiWorkerRng(req->pWorkerCtx), a, sizeof(a));
  if( rc ) return rc;
  ssoB64EncodeTo(a, sizeof(a), SSO_B64_URL, zToken);
  return SSOPROXY_OK;
}

/* The hidden field <input type="hidden" name=zName value=zValue>. */
static void uiHidden(SsoBuf *b, const char *zName, const char *zValue){
  ssoBufPrintf(b, "<input type=\"hidden\" name=\"%s\" value=\"", zName);
  ssoPageEscape(b, zValue, strlen(zValue));
  ssoBufAppendStr(b, "\">\n");
}

/*
** The sign-in page: iStatus, an error sentence (NULL: none), the
** return-to path and the username to fill in (NULL: none).
*/
static int uiLoginPage(SsoUi *p, SsoServerReq *req, int iStatus,
                       const char *zError, const char *zRd,
                       const char *zUser){
  char zToken[SSO_SESSION_ID_LEN+1];
  const char *azHdr[2];
  SsoBuf b, c, u;
  int rc = uiLoginToken(p, req, zToken);
  if( rc ) return uiInternal(p, req, "sign-in token", rc);
  ssoBufInit(&b, 0);
  ssoBufInit(&c, 0);
  ssoBufInit(&u, 0);
  if( zError ){
    ssoBufAppendStr(&b, "<p class=\"error\" role=\"alert\">");
    ssoPageEscape(&b, zError, strlen(zError));
    ssoBufAppendStr(&b, "</p>\n");
  }
  if( p->pOidc ){
    ssoBufAppendStr(&u, "/sso/key/generate?rd=");
    ssoUrlEncode(&u, zRd, strlen(zRd), 0);
    ssoBufAppendStr(&b, "<p><a class=\"button\" href=\"");
    ssoPageEscape(&b, u.z ? u.z : "", u.n);
    ssoBufAppendStr(&b, "\">Login with SSO</a></p>\n");
  }
  if( p->bPassword || p->bMaster ){
    if( p->pOidc ) ssoBufAppendStr(&b, "<hr>\n<p class=\"muted\">Or sign in "
                                   "as the local administrator:</p>\n");
    ssoBufAppendStr(&b, "<form method=\"post\" action=\"/login\">\n");
    uiHidden(&b, "csrf", zToken);
    uiHidden(&b, "rd", zRd);
    ssoBufAppendStr(&b, "<label for=\"username\">Username</label>\n"
                    "<input type=\"text\" id=\"username\" name=\"username\" "
                    "autocomplete=\"username\" autocapitalize=\"none\" "
                    "spellcheck=\"false\" required value=\"");
    if( zUser ) ssoPageEscape(&b, zUser, strlen(zUser));
    ssoBufAppendStr(&b, "\">\n<label for=\"password\">Password</label>\n"
                    "<input type=\"password\" id=\"password\" "
                    "name=\"password\" autocomplete=\"current-password\" "
                    "required>\n<button type=\"submit\">Sign in</button>\n"
                    "</form>");
  }else if( p->pOidc==0 ){
    ssoBufAppendStr(&b, "<p>No way to sign in is configured. The "
                    "administrator sets up single sign-on (GENERIC_* "
                    "settings), or UI_PASSWORD or LITELLM_MASTER_KEY for "
                    "the local administrator.</p>");
  }
  ssoSessionSetCookie(p->pSessions, &c, p->zLoginCookie, zToken,
                      SSO_UI_LOGIN_CSRF_S);
  rc = b.rc ? b.rc : c.rc ? c.rc : u.rc;
  if( rc==SSOPROXY_OK ){
    azHdr[0] = "Set-Cookie";
    azHdr[1] = c.z;
    rc = uiSendPage(req, iStatus, 0, "Sign in", b.z, azHdr, 1);
  }
  memset(zToken, 0, sizeof(zToken));
  ssoBufFree(&b);
  ssoBufFree(&c);
  ssoBufFree(&u);
  return rc;
}

/* ---- Who you are ---- */

static void uiRow(SsoBuf *b, const char *zLabel, const char *zValue){
  ssoBufPrintf(b, "<dt>%s</dt><dd>", zLabel);
  if( zValue && zValue[0] ){
    ssoPageEscape(b, zValue, strlen(zValue));
  }else{
    ssoBufAppendStr(b, "<span class=\"muted\">none</span>");
  }
  ssoBufAppendStr(b, "</dd>\n");
}

/* A logout form carrying the session's CSRF token. */
static void uiLogoutForm(SsoBuf *b, const SsoSession *pSess,
                         const char *zButton){
  ssoBufAppendStr(b, "<form method=\"post\" action=\"/logout\">\n");
  uiHidden(b, "csrf", pSess->zCsrf);
  ssoBufPrintf(b, "<button type=\"submit\">%s</button>\n</form>", zButton);
}

static int uiWhoAmI(SsoUi *p, SsoServerReq *req, const SsoSession *pSess,
                    SsoArena *pArena){
  char zEnd[32];
  SsoBuf b, url, origin;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  uiLogoutTarget(p, pSess, pArena, &url, &origin);
  ssoAuthzTimeText(pSess->row.tExpires, zEnd);
  ssoBufAppendStr(&b, "<p>You are signed in.</p>\n<dl>\n");
  uiRow(&b, "User id", pSess->user.zId);
  uiRow(&b, "Email", pSess->user.zEmail);
  uiRow(&b, "Name", pSess->user.zName);
  uiRow(&b, "Role", pSess->user.zRole);
  uiRow(&b, "Account", strcmp(pSess->user.zSource ? pSess->user.zSource : "",
                              "sso")==0 ? "single sign-on" : "local");
  uiRow(&b, "Session ends", zEnd);
  ssoBufAppendStr(&b, "</dl>\n");
  uiLogoutForm(&b, pSess, "Sign out");
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = uiSendPage(req, 200, origin.n ? origin.z : 0, "Signed in", b.z, 0, 0);
  }
  ssoBufFree(&b);
  ssoBufFree(&url);
  ssoBufFree(&origin);
  return rc;
}

/* ---- Routes ---- */

/* The rd query parameter of a GET, validated (else /ui), in pArena. */
static const char *uiQueryRd(SsoServerReq *req, SsoArena *pArena){
  SsoForm f;
  if( ssoFormParse(pArena, req->query.z, req->query.n, &f, 0) ){
    return UI_DEFAULT_RD;
  }
  return uiReturnTo(uiFormValue(&f, "rd"));
}

/*
** GET /ui and GET /login: signed in, who you are (/ui) or on to rd
** (/login); else straight to the IdP when so configured and allowed
** (bAuto), else the sign-in page.
*/
static int uiEntry(SsoUi *p, SsoServerReq *req, int bLogin, int bAuto){
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  const char *zRd;
  int rc;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  zRd = bLogin ? uiQueryRd(req, &a) : UI_DEFAULT_RD;
  if( uiSession(p, req, pStore, &a, &s, &rc) ){
    rc = bLogin ? ssoPageRedirect(req, 302, zRd) : uiWhoAmI(p, req, &s, &a);
  }else if( rc ){
    rc = uiInternal(p, req, "session", rc);
  }else if( bAuto && p->bAutoRedirect && p->pOidc ){
    rc = ssoOidcLogin(p->pOidc, req, zRd);
  }else{
    rc = uiLoginPage(p, req, 200, 0, zRd, 0);
  }
  ssoArenaFree(&a);
  return rc;
}

static int uiOnHome(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 0, 1);
}
static int uiOnLogin(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 1, 1);
}
static int uiOnFallbackLogin(SsoServerReq *req, void *pArg){
  return uiEntry(pArg, req, 1, 0);
}

/* 1 if the form's csrf field equals the sign-in cookie (double submit). */
static int uiLoginCsrfOk(SsoUi *p, SsoServerReq *req, const SsoForm *f){
  const char *z = uiFormValue(f, "csrf");
  SsoStr v;
  if( z==0 ) return 0;
  if( ssoSessionCookieGet(req->aHdr, req->nHdr, p->zLoginCookie, &v) ){
    return 0;
  }
  if( !ssoSessionIdWellFormed(v.z, v.n) || strlen(z)!=v.n ) return 0;
  return ssoCtEqual(z, v.z, v.n);
}

/*
** The local admin's row, inside a transaction: create it, or check it and
** put its role back to proxy_admin. SSOPROXY_OK; SSOPROXY_CONSTRAINT with
** zWhy set when the account may not be used; a store error.
*/
static int uiLocalAdmin(SsoUi *p, SsoStore *pStore, const char *zActor,
                        SsoArena *pArena, const char **pzWhy){
  SsoUser old, u;
  int rc = ssoStoreBegin(pStore);
  if( rc ) return rc;
  rc = ssoStoreUserGet(pStore, p->zUsername, pArena, &old);
  if( rc==SSOPROXY_NOTFOUND ){
    memset(&u, 0, sizeof(u));
    u.zId = p->zUsername;
    u.zRole = "proxy_admin";
    u.zSource = "local";
    rc = ssoApiUserInsert(pStore, zActor, &u);
  }else if( rc==SSOPROXY_OK ){
    if( old.zSource==0 || strcmp(old.zSource, "local")!=0 ){
      *pzWhy = "This user id belongs to a single sign-on account, which a "
               "password cannot open. The administrator can choose another "
               "UI_USERNAME.";
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.bDisabled ){
      *pzWhy = "This account is disabled.";
      rc = SSOPROXY_CONSTRAINT;
    }else if( old.zRole==0 || strcmp(old.zRole, "proxy_admin")!=0 ){
      u = old;
      u.zRole = "proxy_admin";
      u.tUpdated = 0;
      rc = ssoApiUserSave(pStore, zActor, &old, &u);
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(pStore);
  if( rc ) ssoStoreRollback(pStore);
  return rc;
}

static int uiOnLoginPost(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoRng *pRng;
  SsoArena a;
  SsoForm f;
  const char *zRd, *zUser, *zWhy = 0;
  char zWait[16], zAddr[48];
  long long tNow = ssoOsNowMs();
  int rc, nWait, bMaster = 0;
  if( !uiWorker(req, &pStore, &pRng) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  if( ssoFormParse(&a, req->pBody ? req->pBody : "", req->nBody, &f, 0) ){
    rc = ssoPageError(req, 400, "Bad request", "The sign-in form could not "
                      "be read.");
    goto end;
  }
  zRd = uiReturnTo(uiFormValue(&f, "rd"));
  zUser = uiFormValue(&f, "username");
  if( !uiLoginCsrfOk(p, req, &f) ){
    rc = uiLoginPage(p, req, 403, "The sign-in form has expired or did not "
                     "come from this site. Please sign in again.", zRd, 0);
    goto end;
  }
  if( !p->bPassword && !p->bMaster ){
    rc = ssoPageError(req, 403, "Password sign-in is off", "Password "
                      "sign-in is not configured on this server.");
    goto end;
  }
  nWait = ssoUiLimited(p, req->zClient, tNow);
  if( nWait ){
    const char *azHdr[2];
    snprintf(zWait, sizeof(zWait), "%d", nWait);
    azHdr[0] = "Retry-After";
    azHdr[1] = zWait;
    rc = uiSendPage(req, 429, 0, "Too many attempts", "<p class=\"error\" "
                    "role=\"alert\">Too many wrong passwords from your "
                    "address. Wait a minute, then try again.</p>", azHdr, 1);
    goto end;
  }
  uiClientAddr(req->zClient, zAddr);
  if( !ssoUiPasswordOk(p, zUser, uiFormValue(&f, "password"), &bMaster) ){
    ssoUiFailed(p, req->zClient, tNow);
    if( p->pLog ){
      ssoLog(p->pLog, SSO_LOG_WARN, "password sign-in refused", "client",
             zAddr, (char*)0);
    }
    rc = uiLoginPage(p, req, 401, "Wrong username or password.", zRd, zUser);
    goto end;
  }
  ssoUiSucceeded(p, req->zClient);
  rc = uiLocalAdmin(p, pStore, bMaster ? "master_key" : p->zUsername, &a,
                    &zWhy);
  if( rc==SSOPROXY_CONSTRAINT && zWhy ){
    rc = ssoPageError(req, 403, "Sign-in refused", zWhy);
    goto end;
  }
  if( rc ){
    rc = uiInternal(p, req, "local admin", rc);
    goto end;
  }
  rc = ssoServerStatus(req, 303);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", zRd);
  if( rc==SSOPROXY_OK ){
    rc = ssoSessionStart(p->pSessions, pStore, pRng, req, p->zUsername, 0,
                         bMaster ? "{\"via\":\"master_key\"}"
                                 : "{\"via\":\"password\"}", tNow);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  if( rc==SSOPROXY_OK && p->pLog ){
    ssoLog(p->pLog, SSO_LOG_INFO, "password sign-in", "user", p->zUsername,
           "with", bMaster ? "master_key" : "UI_PASSWORD", "client", zAddr,
           (char*)0);
  }
end:
  ssoArenaFree(&a);
  return rc;
}

static int uiOnLogoutGet(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  SsoBuf b, url, origin;
  int rc;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  if( !uiSession(p, req, pStore, &a, &s, &rc) ){
    rc = rc ? uiInternal(p, req, "session", rc)
            : ssoPageRedirect(req, 302, UI_DEFAULT_RD);
    ssoArenaFree(&a);
    return rc;
  }
  ssoBufInit(&b, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  uiLogoutTarget(p, &s, &a, &url, &origin);
  ssoBufAppendStr(&b, "<p>Sign out of ssoproxy");
  if( origin.n ) ssoBufAppendStr(&b, " and of your identity provider");
  ssoBufAppendStr(&b, "?</p>\n");
  uiLogoutForm(&b, &s, "Sign out");
  ssoBufAppendStr(&b, "\n<p><a href=\"/ui\">Cancel</a></p>");
  rc = b.rc;
  if( rc==SSOPROXY_OK ){
    rc = uiSendPage(req, 200, origin.n ? origin.z : 0, "Sign out", b.z, 0, 0);
  }
  ssoBufFree(&b);
  ssoBufFree(&url);
  ssoBufFree(&origin);
  ssoArenaFree(&a);
  return rc;
}

static int uiOnLogoutPost(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoStore *pStore;
  SsoArena a;
  SsoSession s;
  SsoForm f;
  SsoBuf url, origin;
  int rc, bIn;
  const char *zCsrf;
  if( !uiWorker(req, &pStore, 0) ) return uiUnavailable(req);
  ssoArenaInit(&a, 0);
  ssoBufInit(&url, 0);
  ssoBufInit(&origin, 0);
  bIn = uiSession(p, req, pStore, &a, &s, &rc);
  if( rc ){
    rc = uiInternal(p, req, "session", rc);
    goto end;
  }
  if( bIn ){
    if( ssoFormParse(&a, req->pBody ? req->pBody : "", req->nBody, &f, 0) ){
      memset(&f, 0, sizeof(f));
    }
    zCsrf = uiFormValue(&f, "csrf");
    if( zCsrf==0 || !ssoSessionCsrfOk(&s, zCsrf, strlen(zCsrf)) ){
      rc = ssoPageError(req, 403, "Sign-out refused", "This sign-out did not "
                        "come from this site's own form. Use the Sign out "
                        "button on your account page.");
      goto end;
    }
    uiLogoutTarget(p, &s, &a, &url, &origin);
  }
  /* Without a session there is nothing to protect: the cookie (if any)
  ** is cleared and the browser goes to the start page. */
  rc = ssoServerStatus(req, 303);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Location", origin.n ? url.z : UI_DEFAULT_RD);
  }
  if( rc==SSOPROXY_OK ) rc = ssoSessionEnd(p->pSessions, pStore, req);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  if( rc==SSOPROXY_OK && bIn && p->pLog ){
    ssoLog(p->pLog, SSO_LOG_INFO, "signed out", "user", s.user.zId,
           (char*)0);
  }
end:
  ssoBufFree(&url);
  ssoBufFree(&origin);
  ssoArenaFree(&a);
  return rc;
}

/*
** LiteLLM's discovery document for its UI. auto_redirect_to_sso is true
** only when single sign-on is configured and the setting asks for it.
*/
static int uiOnConfig(SsoServerReq *req, void *pArg){
  SsoUi *p = pArg;
  SsoJsonWriter w;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "server_root_path", "/");
  ssoJsonWriteKeyString(&w, "proxy_base_url", p->zBaseUrl);
  ssoJsonWriteKeyBool(&w, "auto_redirect_to_sso",
                      p->bAutoRedirect && p->pOidc!=0);
  ssoJsonWriteKeyBool(&w, "sso_configured", p->pOidc!=0);
  ssoJsonWriteKeyString(&w, "docs_title", "ssoproxy");
  ssoJsonWriteKeyString(&w, "custom_docs_description", 0);
  ssoJsonWriteKeyString(&w, "litellm_version", SSOPROXY_VERSION);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

static int ssoUiRegister(SsoServer *pSrv, SsoUi *p){
  static const struct {
    const char *zMethod, *zPath;
    SsoServerHandler x;
  } aRoute[] = {
    { "GET",  "/ui",             uiOnHome },
    { "GET",  "/ui/",            uiOnHome },
    { "GET",  "/login",          uiOnLogin },
    { "POST", "/login",          uiOnLoginPost },
    { "GET",  "/fallback/login", uiOnFallbackLogin },
    { "GET",  "/logout",         uiOnLogoutGet },
    { "POST", "/logout",         uiOnLogoutPost },
    { "GET",  "/.well-known/litellm-ui-config",         uiOnConfig },
    { "GET",  "/litellm/.well-known/litellm-ui-config", uiOnConfig },
  };
  size_t i;
  int rc = SSOPROXY_OK;
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(aRoute); i++){
    rc = ssoServerRoute(pSrv, aRoute[i].zMethod, aRoute[i].zPath, aRoute[i].x,
                        p);
  }
  return rc;
}
/************** End of ui.c **************/
/************** Begin file proxy.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: the /v1 proxy (see proxy.h for the picture).
**
** One request: authenticate it (one indexed SELECT), find the "model"
** member of its body with a scanner that looks at the top level only
** (the body is never parsed into a tree, nor copied unless the model
** name must be rewritten), route it through the current table, check
** the key's allowed models and limits, and hand it to the worker's
** outbound client, which keeps pooled connections to each upstream.
**
** Answers: an answer that is an event stream, or larger than
** SSO_PROXY_BUFFER_MAX, is streamed to the client piece by piece with
** back-pressure both ways (a client that reads slowly pauses the
** upstream; one that leaves cancels it, which closes the upstream
** connection at once). Other answers are collected and sent whole with
** a Content-Length, which costs one copy and saves the chunked framing.
**
** Tables: each worker keeps a view of the table it last saw: the view
** holds one (atomic) reference to the table and counts its own users,
** the requests of that worker, without atomics. A reload publishes a
** new table and bumps a generation number; a worker that notices the
** change makes a new view, and the old one (and its table) goes away
** with the last request that used it.
**
** Usage: each worker adds its requests and tokens into a small table,
** written by a loop timer every SSO_PROXY_USAGE_MS through
** ssoStoreKeysUsage(), so a proxied request never writes the database.
*/
/* #include "ssoInt.h" */
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <unistd.h>

/* ---- The routing table ---------------------------------------------------- */

/* The table and its reference count, which only this file touches. */
typedef struct ProxyTableBox ProxyTableBox;
struct ProxyTableBox {
  SsoProxyTable t;          /* First: a table pointer is a box pointer */
  atomic_int nRef;
};

static void ssoProxyTableRelease(SsoProxyTable *pTab){
  ProxyTableBox *b = (ProxyTableBox*)pTab;
  if( b==0 ) return;
  if( atomic_fetch_sub(&b->nRef, 1)==1 ){
    ssoArenaFree(&b->t.arena);
    ssoFree(b);
  }
}

static void proxyTableRetain(SsoProxyTable *pTab){
  atomic_fetch_add(&((ProxyTableBox*)pTab)->nRef, 1);
}

/* Compare a model's name with z[0..n), as memcmp would order them. */
static int proxyNameCmp(const SsoProxyModel *m, const char *z, size_t n){
  size_t k = m->nName<n ? m->nName : n;
  int c = memcmp(m->zName, z, k);
  if( c ) return c;
  return m->nName<n ? -1 : m->nName>n;
}

static const SsoProxyModel *ssoProxyTableFind(const SsoProxyTable *t,
                                                   const char *z, size_t n){
  int lo = 0, hi = t->nModel-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    int c = proxyNameCmp(t->apSorted[mid], z, n);
    if( c==0 ) return t->apSorted[mid];
    if( c<0 ) lo = mid+1;
    else hi = mid-1;
  }
  return 0;
}

static int proxySortCmp(const void *a, const void *b){
  const SsoProxyModel *x = *(const SsoProxyModel *const*)a;
  const SsoProxyModel *y = *(const SsoProxyModel *const*)b;
  return proxyNameCmp(x, y->zName, y->nName);
}

/* The parse state of one models file. */
typedef struct ProxyParse ProxyParse;
struct ProxyParse {
  const char *zFile;
  int iLine;
  char *zErr;
  size_t nErr;
  SsoProxyTable *t;
  int nAlloc;
};

#define proxyParseErr(pp, ...) \
  ssoErrorf((pp)->zErr, (pp)->nErr, SSOPROXY_CONFIG, __VA_ARGS__)

/*
** Check an api_base (or SSOPROXY_UPSTREAM_URL) and store it in m without
** its trailing slashes. zWhat prefixes the message ("FILE:LINE: api_base"
** or the setting's name).
*/
static int proxyBase(ProxyParse *pp, SsoProxyModel *m, const char *z,
                     size_t n, const char *zWhat){
  SsoArena a;
  SsoUrl u;
  char *zBase;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoUrlParse(&a, z, n, &u, 0);
  if( rc==SSOPROXY_NOMEM ) goto end;
  if( rc || (strcmp(u.scheme.z, "http")!=0 && strcmp(u.scheme.z, "https")!=0) ){
    rc = proxyParseErr(pp, "%s: not an http:// or https:// URL: %.*s", zWhat,
                       (int)(n>200 ? 200 : n), z);
    goto end;
  }
  if( u.bUserinfo || u.bQuery || u.bFragment ){
    rc = proxyParseErr(pp, "%s: the URL must not have credentials, a query "
                       "or a fragment (put the key in api_key)", zWhat);
    goto end;
  }
  m->bPlainRemote = strcmp(u.scheme.z, "http")==0 && !ssoUrlIsLoopback(&u);
  while( n>0 && z[n-1]=='/' ) n--;
  zBase = ssoArenaStrndup(&pp->t->arena, z, n);
  rc = zBase ? SSOPROXY_OK : SSOPROXY_NOMEM;
  if( rc==SSOPROXY_OK ){
    /* The scheme as the URL parser saw it: "HTTPS://" is "https://". */
    memcpy(zBase, u.scheme.z, u.scheme.n);
    m->zBase = zBase;
  }
end:
  ssoArenaFree(&a);
  return rc;
}

/* "Bearer KEY" into the table's arena. */
static int proxyAuth(ProxyParse *pp, SsoProxyModel *m, const char *zKey){
  size_t n = strlen(zKey);
  char *z = ssoArenaAlloc(&pp->t->arena, n+8);
  if( z==0 ) return SSOPROXY_NOMEM;
  memcpy(z, "Bearer ", 7);
  memcpy(z+7, zKey, n+1);
  m->zAuth = z;
  return SSOPROXY_OK;
}

/* A timeout option's value: decimal, 1..SSO_PROXY_MAX_TIMEOUT_MS. */
static int proxyMs(ProxyParse *pp, const char *zOpt, const char *z,
                   size_t n, int *pMs){
  long long v = 0;
  size_t i;
  for(i=0; i<n && z[i]>='0' && z[i]<='9' && v<=SSO_PROXY_MAX_TIMEOUT_MS; i++){
    v = v*10 + (z[i]-'0');
  }
  if( n==0 || i<n || v<1 || v>SSO_PROXY_MAX_TIMEOUT_MS ){
    return proxyParseErr(pp, "%s:%d: %s: expected milliseconds from 1 to %d",
                         pp->zFile, pp->iLine, zOpt, SSO_PROXY_MAX_TIMEOUT_MS);
  }
  *pMs = (int)v;
  return SSOPROXY_OK;
}

/* One "name=value" option of a model line. */
static int proxyOption(ProxyParse *pp, SsoProxyModel *m, const char *z,
                       size_t n, unsigned *pmSeen){
  static const char *const azOpt[] = {
    "model", "api_key", "timeout_ms", "first_byte_timeout_ms",
    "idle_timeout_ms"
  };
  const char *zEq = memchr(z, '=', n);
  const char *zVal;
  size_t nName, nVal, i;
  char zVar[256];
  const char *zEnv;
  if( zEq==0 ){
    return proxyParseErr(pp, "%s:%d: expected name=value, got '%.*s'",
                         pp->zFile, pp->iLine, (int)(n>100 ? 100 : n), z);
  }
  nName = (size_t)(zEq - z);
  zVal = zEq+1;
  nVal = n - nName - 1;
  for(i=0; i<SSO_ARRAYSIZE(azOpt); i++){
    if( strlen(azOpt[i])==nName && memcmp(azOpt[i], z, nName)==0 ) break;
  }
  if( i==SSO_ARRAYSIZE(azOpt) ){
    return proxyParseErr(pp, "%s:%d: unknown option '%.*s' (known: model, "
                         "api_key, timeout_ms, first_byte_timeout_ms, "
                         "idle_timeout_ms)", pp->zFile, pp->iLine,
                         (int)(nName>100 ? 100 : nName), z);
  }
  if( *pmSeen & (1u<<i) ){
    return proxyParseErr(pp, "%s:%d: %s is given twice", pp->zFile,
                         pp->iLine, azOpt[i]);
  }
  *pmSeen |= 1u<<i;
  switch( i ){
    case 0:
      if( nVal==0 ){
        return proxyParseErr(pp, "%s:%d: model: the upstream model name is "
                             "empty", pp->zFile, pp->iLine);
      }
      m->zUpName = ssoArenaStrndup(&pp->t->arena, zVal, nVal);
      m->nUpName = nVal;
      return m->zUpName ? SSOPROXY_OK : SSOPROXY_NOMEM;
    case 1:
      /* Keys never sit in the file itself: it is read by whoever can
      ** read configuration, and copied into tickets and backups. */
      if( nVal<=11 || memcmp(zVal, "os.environ/", 11)!=0
       || nVal-11>=sizeof(zVar) ){
        return proxyParseErr(pp, "%s:%d: api_key must be "
                             "os.environ/VARIABLE (keys are not written in "
                             "the file)", pp->zFile, pp->iLine);
      }
      memcpy(zVar, zVal+11, nVal-11);
      zVar[nVal-11] = 0;
      zEnv = getenv(zVar);
      if( zEnv==0 || zEnv[0]==0 ){
        return proxyParseErr(pp, "%s:%d: api_key: environment variable %s "
                             "is not set", pp->zFile, pp->iLine, zVar);
      }
      for(i=0; zEnv[i]; i++){
        unsigned char c = (unsigned char)zEnv[i];
        if( c<0x20 || c==0x7f ){
          return proxyParseErr(pp, "%s:%d: api_key: environment variable %s "
                               "holds a control character", pp->zFile,
                               pp->iLine, zVar);
        }
      }
      return proxyAuth(pp, m, zEnv);
    case 2: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msConnect);
    case 3: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msFirstByte);
    default: return proxyMs(pp, azOpt[i], zVal, nVal, &m->msIdle);
  }
}

/* Split z[0..n) at blanks into at most mx words; a word starting with
** '#' ends the line. Returns the number of words. */
static int proxyWords(const char *z, size_t n, SsoStr *a, int mx){
  int k = 0;
  size_t i = 0;
  while( i<n ){
    size_t j;
    while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
    if( i==n || z[i]=='#' ) break;
    for(j=i; j<n && z[j]!=' ' && z[j]!='\t'; j++){}
    if( k==mx ) return mx+1;
    a[k].z = z+i;
    a[k].n = j-i;
    k++;
    i = j;
  }
  return k;
}

/* One line of the models file. */
static int proxyLine(ProxyParse *pp, const char *z, size_t n){
  SsoProxyTable *t = pp->t;
  SsoStr aWord[8];
  SsoProxyModel *m;
  char zWhat[300];
  unsigned mSeen = 0;
  size_t i;
  int nWord, k, rc;
  if( n>SSO_PROXY_MAX_LINE ){
    return proxyParseErr(pp, "%s:%d: line longer than %d bytes", pp->zFile,
                         pp->iLine, SSO_PROXY_MAX_LINE);
  }
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( (c<0x20 && c!='\t') || c==0x7f ){
      return proxyParseErr(pp, "%s:%d: control character in the line",
                           pp->zFile, pp->iLine);
    }
  }
  if( !ssoJsonUtf8Valid(z, n) ){
    return proxyParseErr(pp, "%s:%d: not valid UTF-8", pp->zFile, pp->iLine);
  }
  nWord = proxyWords(z, n, aWord, (int)SSO_ARRAYSIZE(aWord));
  if( nWord==0 ) return SSOPROXY_OK;
  if( nWord==1 ){
    return proxyParseErr(pp, "%s:%d: expected 'model_name api_base "
                         "[option=value ...]'", pp->zFile, pp->iLine);
  }
  if( nWord>(int)SSO_ARRAYSIZE(aWord)-1 ){
    return proxyParseErr(pp, "%s:%d: too many words", pp->zFile, pp->iLine);
  }
  if( t->nModel>=SSO_PROXY_MAX_MODELS ){
    return proxyParseErr(pp, "%s:%d: more than %d models", pp->zFile,
                         pp->iLine, SSO_PROXY_MAX_MODELS);
  }
  if( t->nModel==pp->nAlloc ){
    int nNew = pp->nAlloc ? pp->nAlloc*2 : 16;
    SsoProxyModel *aNew = ssoRealloc(t->aModel, sizeof(*aNew)*(size_t)nNew);
    if( aNew==0 ) return SSOPROXY_NOMEM;
    t->aModel = aNew;
    pp->nAlloc = nNew;
  }
  m = &t->aModel[t->nModel];
  memset(m, 0, sizeof(*m));
  m->iLine = pp->iLine;
  m->zName = ssoArenaStrndup(&t->arena, aWord[0].z, aWord[0].n);
  if( m->zName==0 ) return SSOPROXY_NOMEM;
  m->nName = aWord[0].n;
  snprintf(zWhat, sizeof(zWhat), "%s:%d: api_base", pp->zFile, pp->iLine);
  rc = proxyBase(pp, m, aWord[1].z, aWord[1].n, zWhat);
  for(k=2; rc==SSOPROXY_OK && k<nWord; k++){
    rc = proxyOption(pp, m, aWord[k].z, aWord[k].n, &mSeen);
  }
  if( rc ) return rc;
  if( m->zUpName && m->nUpName==m->nName
   && memcmp(m->zUpName, m->zName, m->nName)==0 ){
    m->zUpName = 0;           /* same name: nothing to rewrite */
    m->nUpName = 0;
  }
  t->nModel++;
  return SSOPROXY_OK;
}

/* Sort the index and refuse a name given twice, naming both lines. */
static int proxyIndex(ProxyParse *pp){
  SsoProxyTable *t = pp->t;
  int i;
  if( t->nModel==0 ) return SSOPROXY_OK;
  t->apSorted = ssoArenaAlloc(&t->arena, sizeof(void*)*(size_t)t->nModel);
  if( t->apSorted==0 ) return SSOPROXY_NOMEM;
  for(i=0; i<t->nModel; i++) t->apSorted[i] = &t->aModel[i];
  qsort(t->apSorted, (size_t)t->nModel, sizeof(void*), proxySortCmp);
  for(i=1; i<t->nModel; i++){
    const SsoProxyModel *a = t->apSorted[i-1], *b = t->apSorted[i];
    if( proxyNameCmp(a, b->zName, b->nName)==0 ){
      const SsoProxyModel *x = a->iLine<b->iLine ? b : a;
      return proxyParseErr(pp, "%s:%d: model '%s' is already defined on "
                           "line %d", pp->zFile, x->iLine, x->zName,
                           (x==a ? b : a)->iLine);
    }
  }
  return SSOPROXY_OK;
}

/* Move the model array into the arena so one free releases it all. */
static int proxySettle(ProxyParse *pp){
  SsoProxyTable *t = pp->t;
  SsoProxyModel *a;
  size_t n = sizeof(SsoProxyModel)*(size_t)t->nModel;
  if( t->nModel==0 ){
    ssoFree(t->aModel);
    t->aModel = 0;
    pp->nAlloc = 0;
    return SSOPROXY_OK;
  }
  a = ssoArenaAlloc(&t->arena, n);
  if( a==0 ) return SSOPROXY_NOMEM;
  memcpy(a, t->aModel, n);
  ssoFree(t->aModel);
  t->aModel = a;
  pp->nAlloc = 0;           /* the arena owns it now */
  return SSOPROXY_OK;
}

static int ssoProxyTableParse(const char *zFile, const char *z,
                                   size_t n, const char *zUrl,
                                   const char *zKey, SsoProxyTable **pp,
                                   char *zErr, size_t nErr){
  ProxyTableBox *b = ssoMallocZero(sizeof(*b));
  ProxyParse ps;
  size_t i = 0;
  int rc = SSOPROXY_OK;
  *pp = 0;
  if( zErr && nErr ) zErr[0] = 0;
  if( b==0 ){
    if( zErr && nErr ) ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    return SSOPROXY_NOMEM;
  }
  ssoArenaInit(&b->t.arena, 0);
  atomic_init(&b->nRef, 1);
  memset(&ps, 0, sizeof(ps));
  ps.zFile = zFile ? zFile : "models";
  ps.zErr = zErr;
  ps.nErr = nErr;
  ps.t = &b->t;
  if( zUrl ){
    b->t.pDefault = ssoArenaAlloc(&b->t.arena, sizeof(SsoProxyModel));
    if( b->t.pDefault==0 ){ rc = SSOPROXY_NOMEM; goto end; }
    memset(b->t.pDefault, 0, sizeof(SsoProxyModel));
    rc = proxyBase(&ps, b->t.pDefault, zUrl, strlen(zUrl),
                   "SSOPROXY_UPSTREAM_URL");
    if( rc==SSOPROXY_OK && zKey && zKey[0] ){
      rc = proxyAuth(&ps, b->t.pDefault, zKey);
    }
  }
  while( rc==SSOPROXY_OK && z && i<n ){
    const char *zEol = memchr(z+i, '\n', n-i);
    size_t nLine = zEol ? (size_t)(zEol - (z+i)) : n-i;
    size_t nUse = nLine;
    ps.iLine++;
    if( nUse>0 && z[i+nUse-1]=='\r' ) nUse--;
    rc = proxyLine(&ps, z+i, nUse);
    i += nLine + 1;
  }
  /* Settle first: the index points into the array where it ends up. */
  if( rc==SSOPROXY_OK ) rc = proxySettle(&ps);
  if( rc==SSOPROXY_OK ) rc = proxyIndex(&ps);
end:
  if( rc ){
    if( rc==SSOPROXY_NOMEM && zErr && nErr ){
      ssoErrorf(zErr, nErr, rc, "out of memory");
    }
    if( ps.nAlloc ) ssoFree(b->t.aModel);
    b->t.aModel = 0;
    ssoProxyTableRelease(&b->t);
    return rc;
  }
  *pp = &b->t;
  return SSOPROXY_OK;
}

/* ---- The body's "model" ----------------------------------------------------- */

static size_t proxySkipWs(const char *z, size_t n, size_t i){
  while( i<n && (z[i]==' ' || z[i]=='\t' || z[i]=='\n' || z[i]=='\r') ) i++;
  return i;
}

/* z[i] is '"': the index after the closing quote, or n+1 if none. *pbEsc
** (may be NULL) is set if a backslash was seen. */
static size_t proxySkipString(const char *z, size_t n, size_t i, int *pbEsc){
  for(i++; i<n; i++){
    if( z[i]=='"' ) return i+1;
    if( z[i]=='\\' ){
      if( pbEsc ) *pbEsc = 1;
      i++;
    }
  }
  return n+1;
}

/* Skip the value at z[i]: index after it, or n+1 if it does not end. */
static size_t proxySkipValue(const char *z, size_t n, size_t i){
  int nDepth = 0;
  if( i>=n ) return n+1;
  if( z[i]=='"' ) return proxySkipString(z, n, i, 0);
  if( z[i]!='{' && z[i]!='[' ){
    size_t j = i;
    while( j<n && z[j]!=',' && z[j]!='}' && z[j]!=']' && z[j]!=' '
        && z[j]!='\t' && z[j]!='\n' && z[j]!='\r' ) j++;
    return j>i ? j : n+1;
  }
  while( i<n ){
    switch( z[i] ){
      case '"':
        i = proxySkipString(z, n, i, 0);
        continue;
      case '{': case '[':
        if( ++nDepth>SSO_JSON_MAX_DEPTH ) return n+1;
        break;
      case '}': case ']':
        if( --nDepth==0 ) return i+1;
        break;
    }
    i++;
  }
  return n+1;
}

/* Is the object key z[i..j) (quotes included) "model", escapes decoded? */
static int proxyKeyIsModel(const char *z, size_t i, size_t j, int bEsc){
  SsoJsonDoc *pDoc = 0;
  const char *zKey;
  size_t nKey = 0;
  int bIs;
  if( !bEsc ) return j-i==7 && memcmp(z+i+1, "model", 5)==0;
  /* Rare: an escaped key. A client could hide "model" as "\u006dodel"
  ** from a byte comparison while the upstream decodes it. */
  if( ssoJsonParse(z+i, j-i, 0, &pDoc, 0) ) return -1;
  zKey = ssoJsonStr(ssoJsonRoot(pDoc), &nKey);
  bIs = zKey && nKey==5 && memcmp(zKey, "model", 5)==0;
  ssoJsonFree(pDoc);
  return bIs;
}

static int ssoProxyBodyModel(const char *z, size_t n, SsoStr *pRaw,
                                  int *pbEsc){
  size_t i = proxySkipWs(z, n, 0);
  int nFound = 0;
  pRaw->z = "";
  pRaw->n = 0;
  *pbEsc = 0;
  if( i>=n || z[i]!='{' ) return SSOPROXY_NOTFOUND;
  i = proxySkipWs(z, n, i+1);
  if( i<n && z[i]=='}' ) return SSOPROXY_NOTFOUND;
  while( i<n ){
    size_t iKey = i, jKey, iVal, jVal;
    int bKeyEsc = 0, bIs;
    if( z[i]!='"' ) return SSOPROXY_PARSE;
    jKey = proxySkipString(z, n, i, &bKeyEsc);
    if( jKey>n ) return SSOPROXY_PARSE;
    i = proxySkipWs(z, n, jKey);
    if( i>=n || z[i]!=':' ) return SSOPROXY_PARSE;
    iVal = proxySkipWs(z, n, i+1);
    jVal = proxySkipValue(z, n, iVal);
    if( jVal>n ) return SSOPROXY_PARSE;
    bIs = proxyKeyIsModel(z, iKey, jKey, bKeyEsc);
    if( bIs<0 ) return SSOPROXY_PARSE;
    if( bIs ){
      int bEsc = 0;
      if( ++nFound>1 || z[iVal]!='"' ) return SSOPROXY_PARSE;
      proxySkipString(z, n, iVal, &bEsc);
      pRaw->z = z+iVal+1;
      pRaw->n = jVal-iVal-2;
      *pbEsc = bEsc;
    }
    i = proxySkipWs(z, n, jVal);
    if( i<n && z[i]=='}' ){
      i = proxySkipWs(z, n, i+1);
      if( i!=n ) return SSOPROXY_PARSE;
      return nFound ? SSOPROXY_OK : SSOPROXY_NOTFOUND;
    }
    if( i>=n || z[i]!=',' ) return SSOPROXY_PARSE;
    i = proxySkipWs(z, n, i+1);
  }
  return SSOPROXY_PARSE;
}

/* ---- Header filtering ------------------------------------------------------ */

static int proxyPrefixI(SsoStr s, const char *zPre){
  size_t n = strlen(zPre);
  SsoStr h;
  if( s.n<n ) return 0;
  h.z = s.z;
  h.n = n;
  return ssoHttpStrIEq(h, zPre);
}

/* Is name one of the tokens of a Connection field's value v? */
static int proxyConnNames(SsoStr v, SsoStr name){
  size_t i = 0;
  while( i<v.n ){
    SsoStr t;
    while( i<v.n && (v.z[i]==',' || v.z[i]==' ' || v.z[i]=='\t') ) i++;
    t.z = v.z+i;
    while( i<v.n && v.z[i]!=',' && v.z[i]!=' ' && v.z[i]!='\t' ) i++;
    t.n = (size_t)(v.z+i - t.z);
    if( t.n==name.n && t.n>0 ){
      char zName[128];
      if( t.n<sizeof(zName) ){
        memcpy(zName, t.z, t.n);
        zName[t.n] = 0;
        if( ssoHttpStrIEq(name, zName) ) return 1;
      }
    }
  }
  return 0;
}

/* Named by any Connection field of aHdr[0..nHdr)? */
static int proxyHopNamed(const SsoHttpHeader *aHdr, int nHdr, SsoStr name){
  int i;
  for(i=0; i<nHdr; i++){
    if( ssoHttpStrIEq(aHdr[i].name, "connection")
     && proxyConnNames(aHdr[i].value, name) ){
      return 1;
    }
  }
  return 0;
}

/* Hop-by-hop fields (RFC 9110 §7.6.1) other than those Connection names. */
static int proxyHop(SsoStr name){
  static const char *const az[] = {
    "connection", "keep-alive", "te", "trailer", "transfer-encoding",
    "upgrade", "content-length"
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(name, az[i]) ) return 1;
  }
  return proxyPrefixI(name, "proxy-");
}

static int proxyRequestDrop(SsoStr name){
  static const char *const az[] = {
    "host", "expect", "authorization", "x-api-key", "api-key",
    "x-litellm-api-key", "x-goog-api-key", "cookie", "accept-encoding",
    "x-request-id", "x-forwarded-user", "x-forwarded-email",
    "x-forwarded-groups", "x-forwarded-preferred-username", "remote-user",
    "x-remote-user"
  };
  size_t i;
  if( proxyHop(name) ) return 1;
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(name, az[i]) ) return 1;
  }
  return proxyPrefixI(name, "x-auth-request-")
      || proxyPrefixI(name, "x-ssoproxy-");
}

static int ssoProxyRequestHeaders(const SsoHttpHeader *aIn, int nIn,
                                       SsoHttpHeader *aOut){
  int i, n = 0, bConn = 0;
  for(i=0; i<nIn; i++){
    if( ssoHttpStrIEq(aIn[i].name, "connection") ) bConn = 1;
  }
  for(i=0; i<nIn; i++){
    if( proxyRequestDrop(aIn[i].name) ) continue;
    if( bConn && proxyHopNamed(aIn, nIn, aIn[i].name) ) continue;
    aOut[n++] = aIn[i];
  }
  return n;
}

static int ssoProxyResponseHeaderOk(const SsoHttpHeader *aHdr, int nHdr,
                                         int i){
  SsoStr name = aHdr[i].name;
  /* Date and X-Request-Id are the server's own; an upstream's cookies
  ** would land on ssoproxy's origin, beside its session cookie. */
  if( proxyHop(name) || ssoHttpStrIEq(name, "date")
   || ssoHttpStrIEq(name, "x-request-id")
   || ssoHttpStrIEq(name, "set-cookie") ){
    return 0;
  }
  return !proxyHopNamed(aHdr, nHdr, name);
}

/* ---- Usage ------------------------------------------------------------------------ */

/* Find the last `"usage"` followed by ':' and an object in z[0..n): the
** object's span, or 0. */
static int proxyUsageSpan(const char *z, size_t n, size_t *pi, size_t *pj){
  size_t i = 0, iBest = 0, jBest = 0;
  int bFound = 0;
  while( i+7<=n ){
    const char *p = memchr(z+i, '"', n-i);
    size_t k, j;
    if( p==0 ) break;
    i = (size_t)(p - z);
    if( i+7>n ) break;
    if( memcmp(z+i, "\"usage\"", 7)!=0 ){
      i++;
      continue;
    }
    k = proxySkipWs(z, n, i+7);
    if( k<n && z[k]==':' ){
      k = proxySkipWs(z, n, k+1);
      if( k<n && z[k]=='{' ){
        j = proxySkipValue(z, n, k);
        if( j<=n ){
          iBest = k;
          jBest = j;
          bFound = 1;
          i = j;
          continue;
        }
      }
    }
    i += 7;
  }
  *pi = iBest;
  *pj = jBest;
  return bFound;
}

static int proxyCount(const SsoJson *o, const char *zA, const char *zB,
                      long long *pn){
  long long v;
  if( ssoJsonInt64(ssoJsonGet(o, zA), &v)==SSOPROXY_OK
   || ssoJsonInt64(ssoJsonGet(o, zB), &v)==SSOPROXY_OK ){
    if( v>=0 ){
      *pn = v;
      return 1;
    }
  }
  return 0;
}

static int ssoProxyUsageFind(const char *z, size_t n,
                                  long long *pnPrompt, long long *pnCompl){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *o;
  long long a = 0, b = 0;
  size_t i, j;
  int bA, bB;
  if( !proxyUsageSpan(z, n, &i, &j) ) return 0;
  if( ssoJsonParse(z+i, j-i, 0, &pDoc, 0) ) return 0;
  o = ssoJsonRoot(pDoc);
  bA = proxyCount(o, "prompt_tokens", "input_tokens", &a);
  bB = proxyCount(o, "completion_tokens", "output_tokens", &b);
  ssoJsonFree(pDoc);
  if( !bA && !bB ) return 0;
  *pnPrompt = a;
  *pnCompl = b;
  return 1;
}

static void ssoProxySseInit(SsoProxySse *s){
  memset(s, 0, sizeof(*s));
  ssoBufInit(&s->line, SSO_PROXY_SSE_LINE+1);
}

static void ssoProxySseFree(SsoProxySse *s){
  ssoBufFree(&s->line);
}

/* One whole line (without its LF). */
static void proxySseLine(SsoProxySse *s, const char *z, size_t n){
  long long a, b;
  if( n<5 || memcmp(z, "data:", 5)!=0 ) return;
  if( n<13 ) return;                  /* too short to hold "usage":{} */
  if( ssoProxyUsageFind(z+5, n-5, &a, &b) ){
    s->bUsage = 1;
    s->nPrompt = a;
    s->nCompl = b;
  }
}

static void ssoProxySseFeed(SsoProxySse *s, const char *z, size_t n){
  while( n>0 ){
    const char *zEol = memchr(z, '\n', n);
    size_t nLine = zEol ? (size_t)(zEol - z) : n;
    size_t nStep = zEol ? nLine+1 : n;
    if( s->bSkip ){
      if( zEol ) s->bSkip = 0;
    }else if( s->line.n==0 && zEol ){
      proxySseLine(s, z, nLine);          /* whole: read in place */
    }else if( s->line.n + nLine > SSO_PROXY_SSE_LINE ){
      ssoBufTruncate(&s->line, 0);        /* too long to care about */
      s->bSkip = zEol==0;
    }else{
      ssoBufAppend(&s->line, z, nLine);
      if( s->line.rc
       || (s->line.n>=5 && memcmp(s->line.z, "data:", 5)!=0) ){
        ssoBufTruncate(&s->line, 0);
        s->line.rc = 0;
        s->bSkip = zEol==0;
      }else if( zEol ){
        proxySseLine(s, s->line.z, s->line.n);
        ssoBufTruncate(&s->line, 0);
      }
    }
    z += nStep;
    n -= nStep;
  }
}

/* ---- The limiter -------------------------------------------------------------------- */

typedef struct ProxyWindow ProxyWindow;
struct ProxyWindow {
  char zHash[SSO_KEY_HEX];  /* "" when the slot was never used */
  long long tStart;         /* Start of the current window (Unix ms) */
  long long nReq, nTok;     /* Used in it */
};

struct SsoProxyLimiter {
  pthread_mutex_t mu;
  ProxyWindow a[SSO_PROXY_LIMIT_SLOTS];
};

static int ssoProxyLimiterNew(SsoProxyLimiter **pp){
  SsoProxyLimiter *p = ssoMallocZero(sizeof(*p));
  *pp = 0;
  if( p==0 ) return SSOPROXY_NOMEM;
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  *pp = p;
  return SSOPROXY_OK;
}

static void ssoProxyLimiterFree(SsoProxyLimiter *p){
  if( p==0 ) return;
  pthread_mutex_destroy(&p->mu);
  ssoFree(p);
}

/* The first slot of zHash (hex: its first digits are already uniform). */
static unsigned proxySlot(const char *zHash, unsigned mask){
  unsigned h = 0;
  int i;
  for(i=0; i<8 && zHash[i]; i++){
    int c = zHash[i];
    h = h*16 + (unsigned)(c<='9' ? c-'0' : (c|0x20)-'a'+10);
  }
  return h & mask;
}

/*
** zHash's window, made current for tNow; NULL if the table is full of
** live windows (then the request is let through: a limiter that fails
** closed would turn a burst of keys into an outage). Caller holds mu.
** A window older than two periods is free to reuse, but lookups probe
** past it, so a key is never found in two places.
*/
static ProxyWindow *proxyWindow(SsoProxyLimiter *p, const char *zHash,
                                long long tNow){
  unsigned mask = SSO_PROXY_LIMIT_SLOTS-1;
  unsigned i = proxySlot(zHash, mask), k;
  ProxyWindow *pFree = 0, *w;
  for(k=0; k<=mask; k++, i=(i+1)&mask){
    w = &p->a[i];
    if( w->zHash[0]==0 ){
      if( pFree==0 ) pFree = w;
      break;
    }
    if( strcmp(w->zHash, zHash)==0 ){
      pFree = 0;
      break;
    }
    if( pFree==0 && w->tStart+2*SSO_PROXY_LIMIT_WINDOW_MS<=tNow ) pFree = w;
  }
  if( k>mask && pFree==0 ) return 0;
  if( pFree ){
    w = pFree;
    memcpy(w->zHash, zHash, SSO_KEY_HEX-1);
    w->zHash[SSO_KEY_HEX-1] = 0;
    w->tStart = tNow;
    w->nReq = w->nTok = 0;
  }
  if( tNow>=w->tStart+SSO_PROXY_LIMIT_WINDOW_MS ){
    w->tStart = tNow - (tNow - w->tStart)%SSO_PROXY_LIMIT_WINDOW_MS;
    w->nReq = w->nTok = 0;
  }
  return w;
}

static int ssoProxyLimitTake(SsoProxyLimiter *p, const char *zHash,
                                  long long nRpm, long long nTpm,
                                  long long tNow, int *pnRetry){
  ProxyWindow *w;
  int eRes = 0;
  if( nRpm<=0 && nTpm<=0 ) return 0;
  pthread_mutex_lock(&p->mu);
  w = proxyWindow(p, zHash, tNow);
  if( w ){
    if( nRpm>0 && w->nReq>=nRpm ) eRes = 1;
    else if( nTpm>0 && w->nTok>=nTpm ) eRes = 2;
    else w->nReq++;
    if( eRes ){
      long long ms = w->tStart + SSO_PROXY_LIMIT_WINDOW_MS - tNow;
      *pnRetry = (int)((ms+999)/1000);
      if( *pnRetry<1 ) *pnRetry = 1;
    }
  }
  pthread_mutex_unlock(&p->mu);
  return eRes;
}

static void ssoProxyLimitTokens(SsoProxyLimiter *p, const char *zHash,
                                     long long n, long long tNow){
  ProxyWindow *w;
  if( n<=0 ) return;
  pthread_mutex_lock(&p->mu);
  w = proxyWindow(p, zHash, tNow);
  if( w ) w->nTok += n;
  pthread_mutex_unlock(&p->mu);
}

/* ---- The proxy object, workers, views, usage batches ------------------------ */

typedef struct ProxyView ProxyView;
struct ProxyView {
  SsoProxyTable *pTab;      /* One reference */
  int nRef;                 /* The worker's, plus one per request */
};

typedef struct ProxyUsage ProxyUsage;
struct ProxyUsage {
  char zHash[SSO_KEY_HEX];  /* "" when free */
  long long tAt, nReq, nPrompt, nCompl;
};

typedef struct ProxyWorker ProxyWorker;
struct ProxyWorker {
  SsoProxy *p;
  SsoApiWorker *pApiW;      /* The worker's store and client */
  SsoLoop *pLoop;
  ProxyView *pView;         /* Current view; NULL until the first request */
  unsigned iGen;            /* Generation of pView */
  SsoLoopTimer flush;
  int nUsage;
  ProxyUsage aUsage[SSO_PROXY_USAGE_SLOTS];
};

/* What a route passes its handler. */
#define PROXY_MODELS    0   /* GET /v1/models, /models */
#define PROXY_MODEL_ONE 1   /* GET /v1/models/NAME */
#define PROXY_FORWARD   2   /* /v1/... by the body's model */
typedef struct ProxyRoute ProxyRoute;
struct ProxyRoute {
  SsoProxy *p;
  int eKind;
};

struct SsoProxy {
  SsoProxyConfig cfg;
  char *zFile;              /* Models file path; owned */
  pthread_mutex_t mu;       /* Guards pTab while it is swapped */
  SsoProxyTable *pTab;      /* Current table; one reference */
  atomic_uint iGen;         /* Bumped by each swap */
  SsoProxyLimiter *pLim;
  ProxyWorker *apWorker[SSO_SERVER_MAX_WORKERS];
  ProxyRoute aRoute[3];
  int fdR, fdW;             /* Reload requests: "r", or "q" to end */
  pthread_t reloader;
  int bReloader;
};

static void proxyViewRelease(ProxyView *v){
  if( v && --v->nRef==0 ){
    ssoProxyTableRelease(v->pTab);
    ssoFree(v);
  }
}

/* The worker's view of the current table, with a reference for the
** caller (proxyViewRelease); NULL when out of memory. */
static ProxyView *proxyView(ProxyWorker *w){
  SsoProxy *p = w->p;
  unsigned iGen = atomic_load_explicit(&p->iGen, memory_order_acquire);
  if( w->pView==0 || w->iGen!=iGen ){
    ProxyView *v = ssoMalloc(sizeof(*v));
    if( v==0 ) return 0;
    pthread_mutex_lock(&p->mu);
    v->pTab = p->pTab;
    proxyTableRetain(v->pTab);
    w->iGen = atomic_load(&p->iGen);
    pthread_mutex_unlock(&p->mu);
    v->nRef = 1;
    proxyViewRelease(w->pView);
    w->pView = v;
  }
  w->pView->nRef++;
  return w->pView;
}

static void proxyFlushFire(SsoLoop*, SsoLoopTimer*, void*);

/* Write the worker's usage batch. */
static void proxyFlush(ProxyWorker *w){
  SsoKeyUsage a[SSO_PROXY_USAGE_SLOTS];
  int i, n = 0, rc;
  if( w->nUsage==0 ) return;
  for(i=0; i<SSO_PROXY_USAGE_SLOTS; i++){
    ProxyUsage *u = &w->aUsage[i];
    if( u->zHash[0]==0 ) continue;
    a[n].zHash = u->zHash;
    a[n].tAt = u->tAt;
    a[n].nRequests = u->nReq;
    a[n].nPromptTokens = u->nPrompt;
    a[n].nCompletionTokens = u->nCompl;
    n++;
  }
  rc = ssoStoreKeysUsage(ssoApiWorkerStore(w->pApiW), a, n);
  if( rc && w->p->cfg.pLog ){
    /* Usage is reporting, not billing: drop the batch rather than grow. */
    ssoLog(w->p->cfg.pLog, SSO_LOG_WARN, "cannot record keys' usage",
           "error", ssoStoreErrmsg(ssoApiWorkerStore(w->pApiW)), (char*)0);
  }
  for(i=0; i<SSO_PROXY_USAGE_SLOTS; i++) w->aUsage[i].zHash[0] = 0;
  w->nUsage = 0;
}

static void proxyFlushFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  proxyFlush((ProxyWorker*)pArg);
}

/* Add one request's usage to the worker's batch. */
static void proxyUsageAdd(ProxyWorker *w, const char *zHash, long long nPrompt,
                          long long nCompl){
  unsigned mask = SSO_PROXY_USAGE_SLOTS-1;
  unsigned i = proxySlot(zHash, mask);
  ProxyUsage *u;
  if( w->nUsage>=SSO_PROXY_USAGE_SLOTS*3/4 ) proxyFlush(w);
  while( (u = &w->aUsage[i])->zHash[0] && strcmp(u->zHash, zHash)!=0 ){
    i = (i+1) & mask;
  }
  if( u->zHash[0]==0 ){
    memcpy(u->zHash, zHash, SSO_KEY_HEX-1);
    u->zHash[SSO_KEY_HEX-1] = 0;
    u->nReq = u->nPrompt = u->nCompl = 0;
    w->nUsage++;
  }
  u->tAt = ssoOsNowMs();
  u->nReq++;
  u->nPrompt += nPrompt;
  u->nCompl += nCompl;
  if( !ssoLoopTimerArmed(&w->flush) ){
    ssoLoopTimerAt(w->pLoop, &w->flush, ssoLoopNow(w->pLoop)
                   + SSO_PROXY_USAGE_MS);
  }
}

/* This request's worker state, made on its first request. */
static ProxyWorker *proxyWorker(SsoProxy *p, SsoServerReq *req){
  ProxyWorker *w;
  if( req->iWorker<0 || req->iWorker>=SSO_SERVER_MAX_WORKERS ) return 0;
  w = p->apWorker[req->iWorker];
  if( w==0 ){
    w = ssoMallocZero(sizeof(*w));
    if( w==0 ) return 0;
    w->p = p;
    w->pApiW = req->pWorkerCtx;
    w->pLoop = req->pLoop;
    ssoLoopTimerInit(&w->flush, proxyFlushFire, w);
    p->apWorker[req->iWorker] = w;
  }
  return w;
}

static void ssoProxyWorkerEnd(SsoProxy *p, int iWorker){
  ProxyWorker *w;
  if( p==0 || iWorker<0 || iWorker>=SSO_SERVER_MAX_WORKERS ) return;
  w = p->apWorker[iWorker];
  if( w==0 ) return;
  ssoLoopTimerStop(w->pLoop, &w->flush);
  proxyFlush(w);
  proxyViewRelease(w->pView);
  ssoFree(w);
  p->apWorker[iWorker] = 0;
}

/* ---- Answers ------------------------------------------------------------------------ */

/*
** An error in OpenAI's envelope: {"error":{"message","type","param",
** "code"}}; code is a string (LiteLLM writes the status there). A
** Retry-After of nRetry seconds when nRetry>0.
*/
static int proxyError(SsoServerReq *req, int iStatus, const char *zType,
                      const char *zParam, const char *zCode, int nRetry,
                      const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 7, 8)))
#endif
  ;
static int proxyError(SsoServerReq *req, int iStatus, const char *zType,
                      const char *zParam, const char *zCode, int nRetry,
                      const char *zFmt, ...){
  char zMsg[600], zStatus[16], zSpace[1024];
  SsoJsonWriter jw;
  SsoBuf b;
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  snprintf(zStatus, sizeof(zStatus), "%d", iStatus);
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  ssoJsonWriteInit(&jw, &b);
  ssoJsonWriteBeginObject(&jw);
  ssoJsonWriteKey(&jw, "error");
  ssoJsonWriteBeginObject(&jw);
  /* A message may quote a model name cut mid-character: keep it text. */
  ssoJsonWriteKeyString(&jw, "message", ssoJsonUtf8Valid(zMsg, strlen(zMsg))
                        ? zMsg : "invalid model name");
  ssoJsonWriteKeyString(&jw, "type", zType);
  ssoJsonWriteKeyString(&jw, "param", zParam);
  ssoJsonWriteKeyString(&jw, "code", zCode ? zCode : zStatus);
  ssoJsonWriteEndObject(&jw);
  ssoJsonWriteEndObject(&jw);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK && nRetry>0 ){
    char zRetry[16];
    snprintf(zRetry, sizeof(zRetry), "%d", nRetry);
    rc = ssoServerAddHeader(req, "Retry-After", zRetry);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
  ssoBufFree(&b);
  return rc;
}

/* The key's allowed models: none listed (or "all-proxy-models") = all. */
typedef struct ProxyAllow ProxyAllow;
struct ProxyAllow {
  SsoJsonDoc *pDoc;         /* NULL: every model */
};

static int proxyAllowInit(ProxyAllow *a, const SsoCaller *c){
  const char *z = c->eKind==SSO_CALLER_KEY ? c->key.zModels : 0;
  const SsoJson *r;
  size_t i;
  a->pDoc = 0;
  if( z==0 || strcmp(z, "[]")==0 ) return SSOPROXY_OK;
  if( ssoJsonParse(z, strlen(z), 0, &a->pDoc, 0) ) return SSOPROXY_NOMEM;
  r = ssoJsonRoot(a->pDoc);
  for(i=0; i<ssoJsonCount(r); i++){
    const char *zM = ssoJsonCStr(ssoJsonAt(r, i));
    if( zM && strcmp(zM, "all-proxy-models")==0 ) break;
  }
  if( ssoJsonType(r)!=SSO_JSON_ARRAY || ssoJsonCount(r)==0
   || i<ssoJsonCount(r) ){
    ssoJsonFree(a->pDoc);
    a->pDoc = 0;
  }
  return SSOPROXY_OK;
}

static int proxyAllowed(const ProxyAllow *a, const char *z, size_t n){
  const SsoJson *r;
  size_t i;
  if( a->pDoc==0 ) return 1;
  r = ssoJsonRoot(a->pDoc);
  for(i=0; i<ssoJsonCount(r); i++){
    size_t nM;
    const char *zM = ssoJsonStr(ssoJsonAt(r, i), &nM);
    if( zM && nM==n && memcmp(zM, z, n)==0 ) return 1;
  }
  return 0;
}

/* Authenticate; on refusal answer it (401) and return SSOPROXY_ERROR. */
static int proxyAuthenticate(SsoProxy *p, SsoServerReq *req, ProxyWorker *w,
                             SsoArena *pArena, SsoCaller *pCaller){
  SsoAuthzErr err;
  long long tNow = ssoOsNowMs();
  int rc;
  memset(&err, 0, sizeof(err));
  rc = ssoAuthzAuthenticate(&p->cfg.pApi->authz,
                            ssoApiWorkerStore(w->pApiW), req->method,
                            req->aHdr, req->nHdr, tNow, pArena, pCaller,
                            &err);
  if( rc==SSOPROXY_ERROR && err.iStatus ){
    rc = proxyError(req, err.iStatus, err.zType, err.zParam, 0, 0, "%s",
                    err.zMsg);
    return rc ? rc : SSOPROXY_ERROR;
  }
  return rc;
}

/* ---- One proxied call ------------------------------------------------------------- */

#define PROXY_BUFFER 0      /* Collect the answer, send it whole */
#define PROXY_SSE    1      /* Stream it, reading data: lines for usage */
#define PROXY_RAW    2      /* Stream it, keeping a tail for usage */

typedef struct ProxyCall ProxyCall;
struct ProxyCall {
  SsoProxy *p;
  ProxyWorker *w;
  ProxyView *pView;
  SsoServerReq *req;        /* NULL once answered or aborted */
  SsoClientCall *pCall;     /* NULL once ended */
  int eKind;                /* PROXY_MODELS or PROXY_FORWARD */
  int eMode;                /* PROXY_BUFFER ... */
  int bStreaming;           /* The answer's head has gone to the client */
  int bEndPending;          /* Upstream done; pend must drain first */
  int bUsage;
  int iStatus;
  char zHash[SSO_KEY_HEX];  /* The key, for usage; "" for none */
  long long nTpm;           /* The key's tpm limit (tokens feed it) */
  long long nPrompt, nCompl;
  ProxyAllow allow;         /* /v1/models: the filter */
  char *zBody;              /* Rewritten request body; owned */
  SsoArena arena;           /* Response head copy */
  SsoHttpHeader *aHdr;      /* Response fields to send */
  int nHdr;
  SsoBuf body;              /* PROXY_BUFFER: the answer so far;
                            ** PROXY_RAW: its tail */
  SsoBuf pend;              /* A piece the client's queue refused */
  SsoProxySse sse;
};

static void proxyCallFree(ProxyCall *pc){
  proxyViewRelease(pc->pView);
  ssoJsonFree(pc->allow.pDoc);
  ssoFree(pc->zBody);
  ssoArenaFree(&pc->arena);
  ssoBufFree(&pc->body);
  ssoBufFree(&pc->pend);
  ssoProxySseFree(&pc->sse);
  ssoFree(pc);
}

/* The call is over (answered or abandoned): count it, free it. */
static void proxyCallEnd(ProxyCall *pc){
  if( pc->bUsage==0 && pc->eMode==PROXY_SSE && pc->sse.bUsage ){
    pc->bUsage = 1;
    pc->nPrompt = pc->sse.nPrompt;
    pc->nCompl = pc->sse.nCompl;
  }
  if( pc->zHash[0] && pc->eKind==PROXY_FORWARD ){
    proxyUsageAdd(pc->w, pc->zHash, pc->nPrompt, pc->nCompl);
    if( pc->nTpm>0 && pc->bUsage ){
      ssoProxyLimitTokens(pc->p->pLim, pc->zHash, pc->nPrompt+pc->nCompl,
                          ssoOsNowMs());
    }
  }
  proxyCallFree(pc);
}

static void proxyOnAbort(SsoServerReq *req, void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(req);
  pc->req = 0;
  if( pc->pCall ){
    ssoClientCancel(pc->pCall);     /* closes the upstream connection now */
    pc->pCall = 0;
  }
  proxyCallEnd(pc);
}

/* Status and the kept response fields (NUL-terminated in the arena). */
static int proxySendHead(ProxyCall *pc){
  int i, rc = ssoServerStatus(pc->req, pc->iStatus);
  for(i=0; rc==SSOPROXY_OK && i<pc->nHdr; i++){
    rc = ssoServerAddHeader(pc->req, pc->aHdr[i].name.z, pc->aHdr[i].value.z);
    /* A field our server refuses to repeat is not worth failing for. */
    if( rc==SSOPROXY_MISUSE || rc==SSOPROXY_PARSE ) rc = SSOPROXY_OK;
  }
  return rc;
}

static int proxyStreamBegin(ProxyCall *pc){
  int rc = proxySendHead(pc);
  if( rc==SSOPROXY_OK ) rc = ssoServerStreamBegin(pc->req);
  if( rc==SSOPROXY_OK ) pc->bStreaming = 1;
  return rc;
}

/* Send a piece to the client; pause the upstream when the client's
** queue is full. */
static void proxyWrite(ProxyCall *pc, const char *z, size_t n){
  int rc;
  if( pc->pend.n ){
    ssoBufAppend(&pc->pend, z, n);
    return;
  }
  rc = ssoServerStreamWrite(pc->req, z, n);
  if( rc==SSOPROXY_TOOBIG ) ssoBufAppend(&pc->pend, z, n);
  if( (rc==SSOPROXY_OK || rc==SSOPROXY_TOOBIG)
   && !ssoServerStreamWritable(pc->req) && pc->pCall ){
    ssoClientPause(pc->pCall, 1);
  }
  /* SSOPROXY_NET: the client is gone; xAbort follows and cancels us. */
}

static void proxyKeepTail(ProxyCall *pc, const char *z, size_t n){
  SsoBuf *b = &pc->body;
  if( n>=SSO_PROXY_TAIL ){
    ssoBufTruncate(b, 0);
    ssoBufAppend(b, z+n-SSO_PROXY_TAIL, SSO_PROXY_TAIL);
  }else{
    if( b->n+n>SSO_PROXY_TAIL ){
      size_t nDrop = b->n+n-SSO_PROXY_TAIL;
      memmove(b->z, b->z+nDrop, b->n-nDrop);
      ssoBufTruncate(b, b->n-nDrop);
    }
    ssoBufAppend(b, z, n);
  }
}

/* An answer without a body: to HEAD, or 204 / 304. */
static int proxyBodyless(const ProxyCall *pc){
  SsoStr m = pc->req->method;
  return pc->iStatus==204 || pc->iStatus==304
      || (m.n==4 && memcmp(m.z, "HEAD", 4)==0);
}

/* The answer cannot go on (out of memory): stop the upstream, end what
** the client has (a 502 if it has nothing yet), forget the call. */
static void proxyBreak(ProxyCall *pc){
  if( pc->pCall ) ssoClientCancel(pc->pCall);
  pc->pCall = 0;
  if( !pc->bStreaming ){
    proxyError(pc->req, 502, "api_error", 0, 0, 0, "out of memory");
  }else{
    ssoServerStreamEnd(pc->req);
  }
  pc->req = 0;
  proxyCallEnd(pc);
}

static void proxyOnHead(SsoClientCall *pCall, const SsoClientResp *r,
                        void *pArg){
  ProxyCall *pc = pArg;
  SsoStr ct = {0, 0}, cl = {0, 0};
  int i;
  SSO_UNUSED(pCall);
  pc->iStatus = r->iStatus;
  pc->aHdr = ssoArenaAlloc(&pc->arena, sizeof(SsoHttpHeader)*(size_t)
                           (r->nHdr ? r->nHdr : 1));
  if( pc->aHdr==0 ) goto nomem;
  for(i=0; i<r->nHdr; i++){
    const SsoHttpHeader *h = &r->aHdr[i];
    SsoHttpHeader *o;
    if( ssoHttpStrIEq(h->name, "content-type") ) ct = h->value;
    if( ssoHttpStrIEq(h->name, "content-length") ) cl = h->value;
    if( !ssoProxyResponseHeaderOk(r->aHdr, r->nHdr, i) ) continue;
    o = &pc->aHdr[pc->nHdr++];
    o->name.z = ssoArenaStrndup(&pc->arena, h->name.z, h->name.n);
    o->value.z = ssoArenaStrndup(&pc->arena, h->value.z, h->value.n);
    if( o->name.z==0 || o->value.z==0 ) goto nomem;
    o->name.n = h->name.n;
    o->value.n = h->value.n;
  }
  if( pc->eKind!=PROXY_FORWARD || proxyBodyless(pc) ) return;
  if( ct.n>=17 && strncasecmp(ct.z, "text/event-stream", 17)==0 ){
    pc->eMode = PROXY_SSE;
    ssoProxySseInit(&pc->sse);
  }else if( cl.n>7 || (cl.n>0 && strtoull(cl.z, 0, 10)>SSO_PROXY_BUFFER_MAX) ){
    pc->eMode = PROXY_RAW;
  }
  if( pc->eMode!=PROXY_BUFFER && proxyStreamBegin(pc) ) goto nomem;
  return;
nomem:
  proxyBreak(pc);
}

static void proxyOnData(SsoClientCall *pCall, const char *z, size_t n,
                        void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(pCall);
  if( pc->req==0 ) return;
  switch( pc->eMode ){
    case PROXY_BUFFER:
      if( pc->body.n+n<=SSO_PROXY_BUFFER_MAX ){
        ssoBufAppend(&pc->body, z, n);
        return;
      }
      /* Larger than we buffer: stream what we have, then the rest. */
      pc->eMode = PROXY_RAW;
      if( proxyStreamBegin(pc) ){
        proxyBreak(pc);
        return;
      }
      proxyWrite(pc, pc->body.z, pc->body.n);
      ssoBufTruncate(&pc->body, 0);
      proxyKeepTail(pc, z, n);
      proxyWrite(pc, z, n);
      return;
    case PROXY_SSE:
      ssoProxySseFeed(&pc->sse, z, n);
      proxyWrite(pc, z, n);
      return;
    default:
      proxyKeepTail(pc, z, n);
      proxyWrite(pc, z, n);
      return;
  }
}

/* One entry of OpenAI's model list. zOwner NULL: "openai". */
static void proxyWriteModel(SsoJsonWriter *jw, const char *zId, size_t nId,
                            long long tCreated, const char *zOwner){
  ssoJsonWriteBeginObject(jw);
  ssoJsonWriteKey(jw, "id");
  ssoJsonWriteStringN(jw, zId, nId);
  ssoJsonWriteKeyString(jw, "object", "model");
  ssoJsonWriteKeyInt64(jw, "created", tCreated);
  ssoJsonWriteKeyString(jw, "owned_by", zOwner ? zOwner : "openai");
  ssoJsonWriteEndObject(jw);
}

/* The /v1/models answer: the table's models the key may use, then those
** of the default upstream's list (pList, may be NULL) not already in. */
static int proxyModelsAnswer(SsoServerReq *req, const SsoProxyTable *t,
                             const ProxyAllow *a, const SsoJson *pList){
  SsoJsonWriter jw;
  SsoBuf b;
  const SsoJson *aData = ssoJsonGet(pList, "data");
  size_t i;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&jw, &b);
  ssoJsonWriteBeginObject(&jw);
  ssoJsonWriteKeyString(&jw, "object", "list");
  ssoJsonWriteKey(&jw, "data");
  ssoJsonWriteBeginArray(&jw);
  for(i=0; i<(size_t)t->nModel; i++){
    const SsoProxyModel *m = &t->aModel[i];
    if( !proxyAllowed(a, m->zName, m->nName) ) continue;
    proxyWriteModel(&jw, m->zName, m->nName, SSO_PROXY_MODEL_CREATED, 0);
  }
  for(i=0; i<ssoJsonCount(aData); i++){
    const SsoJson *e = ssoJsonAt(aData, i);
    size_t nId;
    const char *zId = ssoJsonStr(ssoJsonGet(e, "id"), &nId);
    const char *zOwner = ssoJsonCStr(ssoJsonGet(e, "owned_by"));
    long long tCreated = SSO_PROXY_MODEL_CREATED;
    if( zId==0 || ssoProxyTableFind(t, zId, nId) ) continue;
    if( !proxyAllowed(a, zId, nId) ) continue;
    ssoJsonInt64(ssoJsonGet(e, "created"), &tCreated);
    proxyWriteModel(&jw, zId, nId, tCreated, zOwner);
  }
  ssoJsonWriteEndArray(&jw);
  ssoJsonWriteEndObject(&jw);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

/* The default upstream's model list arrived (or did not). */
static void proxyModelsDone(ProxyCall *pc, const SsoClientResp *r){
  SsoJsonDoc *pDoc = 0;
  if( r->rc ){
    proxyError(pc->req, r->iProxyStatus, r->iProxyStatus==504 ?
               "timeout_error" : "api_error", 0, 0, 0, "%s", r->zErr);
    return;
  }
  if( r->iStatus!=200 || ssoJsonParse(r->pBody ? r->pBody : "", r->nBody, 0,
                                      &pDoc, 0) ){
    proxyError(pc->req, 502, "api_error", 0, 0, 0, "the upstream's model "
               "list is not usable (status %d)", r->iStatus);
    return;
  }
  if( proxyModelsAnswer(pc->req, pc->pView->pTab, &pc->allow,
                        ssoJsonRoot(pDoc)) ){
    proxyError(pc->req, 500, "api_error", 0, 0, 0, "out of memory");
  }
  ssoJsonFree(pDoc);
}

/* An upstream that failed after the stream began: tell an event-stream
** reader in its own format, then end. */
static void proxyStreamFail(ProxyCall *pc, const SsoClientResp *r){
  if( pc->eMode==PROXY_SSE && pc->pend.n==0 ){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "data: {\"error\":{\"message\":");
    ssoBufAppendJsonString(&b, r->zErr, strlen(r->zErr));
    ssoBufPrintf(&b, ",\"type\":\"api_error\",\"param\":null,\"code\":"
                 "\"%d\"}}\n\n", r->iProxyStatus);
    if( b.rc==0 ) ssoServerStreamWrite(pc->req, b.z, b.n);
    ssoBufFree(&b);
  }
  ssoServerStreamEnd(pc->req);
}

static void proxyOnDone(SsoClientCall *pCall, const SsoClientResp *r,
                        void *pArg){
  ProxyCall *pc = pArg;
  SSO_UNUSED(pCall);
  pc->pCall = 0;
  if( pc->req==0 ) return;              /* answered already (out of memory) */
  if( pc->eKind==PROXY_MODELS ){
    proxyModelsDone(pc, r);
  }else if( r->rc && !pc->bStreaming ){
    proxyError(pc->req, r->iProxyStatus, r->iProxyStatus==504 ?
               "timeout_error" : "api_error", 0, 0, 0, "%s", r->zErr);
  }else if( r->rc ){
    proxyStreamFail(pc, r);
  }else if( !pc->bStreaming ){
    if( pc->iStatus>=200 && pc->iStatus<300 ){
      pc->bUsage = ssoProxyUsageFind(pc->body.z ? pc->body.z : "",
                                     pc->body.n, &pc->nPrompt, &pc->nCompl);
    }
    if( proxySendHead(pc)==SSOPROXY_OK ){
      ssoServerBody(pc->req, pc->body.z ? pc->body.z : "", pc->body.n);
    }
  }else{
    if( pc->eMode==PROXY_RAW && pc->iStatus>=200 && pc->iStatus<300 ){
      pc->bUsage = ssoProxyUsageFind(pc->body.z ? pc->body.z : "",
                                     pc->body.n, &pc->nPrompt, &pc->nCompl);
    }
    if( pc->pend.n ){
      pc->bEndPending = 1;              /* proxyOnDrain finishes it */
      return;
    }
    ssoServerStreamEnd(pc->req);
  }
  pc->req = 0;
  proxyCallEnd(pc);
}

static void proxyOnDrain(SsoServerReq *req, void *pArg){
  ProxyCall *pc = pArg;
  if( pc->pend.n ){
    int rc = ssoServerStreamWrite(req, pc->pend.z, pc->pend.n);
    if( rc==SSOPROXY_TOOBIG ) return;
    ssoBufTruncate(&pc->pend, 0);
    if( rc ) return;
  }
  if( pc->bEndPending ){
    ssoServerStreamEnd(req);
    pc->req = 0;
    proxyCallEnd(pc);
    return;
  }
  if( pc->pCall && ssoServerStreamWritable(req) ){
    ssoClientPause(pc->pCall, 0);
  }
}

/* ---- Handlers ------------------------------------------------------------------------ */

static ProxyCall *proxyCallNew(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                               int eKind){
  ProxyCall *pc = ssoMallocZero(sizeof(*pc));
  if( pc==0 ) return 0;
  pc->p = p;
  pc->w = w;
  pc->req = req;
  pc->eKind = eKind;
  ssoArenaInit(&pc->arena, 0);
  ssoBufInit(&pc->body, 0);
  ssoBufInit(&pc->pend, 0);
  ssoProxySseInit(&pc->sse);
  pc->pView = proxyView(w);
  if( pc->pView==0 ){
    proxyCallFree(pc);
    return 0;
  }
  return pc;
}

/*
** Start pc's upstream request: zMethod to m's base + zSuffix (+ query),
** with the client's fields filtered, the upstream key, our request id and
** (if asked) the caller's identity. pBody must live until the call ends.
*/
static int proxyStart(ProxyCall *pc, const SsoProxyModel *m,
                      const char *zMethod, const char *zSuffix,
                      size_t nSuffix, const void *pBody, size_t nBody,
                      const SsoCaller *pCaller){
  SsoServerReq *req = pc->req;
  SsoHttpHeader aHdr[SSO_HTTP_MAX_HEADERS+8];
  SsoHttpHeader *a = aHdr;
  SsoClientReq cr;
  SsoClient *pCli = 0;
  SsoBuf url;
  int n = 0, rc;
  if( req->nHdr>SSO_HTTP_MAX_HEADERS ){
    a = ssoArenaAlloc(&pc->arena, sizeof(SsoHttpHeader)*(size_t)(req->nHdr+8));
    if( a==0 ) return SSOPROXY_NOMEM;
  }
  if( pc->eKind==PROXY_FORWARD ) n = ssoProxyRequestHeaders(req->aHdr,
                                                            req->nHdr, a);
#define PROXY_HDR(N, V) do{ a[n].name.z = N; a[n].name.n = strlen(N); \
    a[n].value.z = V; a[n].value.n = strlen(V); n++; }while(0)
  if( m->zAuth ) PROXY_HDR("Authorization", m->zAuth);
  PROXY_HDR("X-Request-Id", req->zId);
  if( pc->p->cfg.bForwardIdentity && pCaller && pc->eKind==PROXY_FORWARD ){
    const char *zUser = pCaller->zUserId ? pCaller->zUserId
                        : pCaller->eKind==SSO_CALLER_MASTER ? "master_key" : 0;
    if( zUser ) PROXY_HDR("X-Ssoproxy-User", zUser);
    if( pCaller->user.zEmail ) PROXY_HDR("X-Ssoproxy-Email",
                                         pCaller->user.zEmail);
    if( pCaller->eRole ) PROXY_HDR("X-Ssoproxy-Role",
                                   ssoAuthzRoleName(pCaller->eRole));
  }
#undef PROXY_HDR
  ssoBufInit(&url, 0);
  ssoBufAppendStr(&url, m->zBase);
  ssoBufAppend(&url, zSuffix, nSuffix);
  if( req->query.n ){
    ssoBufAppendChar(&url, '?');
    ssoBufAppend(&url, req->query.z, req->query.n);
  }
  rc = url.rc;
  if( rc==SSOPROXY_OK ) rc = ssoApiWorkerClient(pc->w->pApiW, req->pLoop,
                                                &pCli);
  if( rc==SSOPROXY_OK ){
    memset(&cr, 0, sizeof(cr));
    cr.zMethod = zMethod;
    cr.zUrl = url.z;
    cr.aHdr = a;
    cr.nHdr = n;
    cr.pBody = pBody;
    cr.nBody = nBody;
    cr.msConnect = m->msConnect;
    cr.msFirstByte = m->msFirstByte;
    cr.msIdle = m->msIdle;
    if( pc->eKind==PROXY_FORWARD ){
      /* Streamed answers are not held, so only buffered ones are capped. */
      cr.mxResponse = SSO_PROXY_MAX_STREAM;
      cr.xHead = proxyOnHead;
      cr.xData = proxyOnData;
    }
    cr.xDone = proxyOnDone;
    cr.pArg = pc;
    rc = ssoClientRequest(pCli, &cr, &pc->pCall);
  }
  ssoBufFree(&url);
  if( rc==SSOPROXY_OK ) rc = ssoServerAsync(req, proxyOnAbort, proxyOnDrain,
                                            pc);
  if( rc && pc->pCall ){
    ssoClientCancel(pc->pCall);
    pc->pCall = 0;
  }
  return rc;
}

/* GET /v1/models */
static int proxyModels(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                       const SsoCaller *pCaller){
  ProxyCall *pc = proxyCallNew(p, w, req, PROXY_MODELS);
  const SsoProxyModel *m;
  int rc;
  if( pc==0 ) return SSOPROXY_NOMEM;
  rc = proxyAllowInit(&pc->allow, pCaller);
  if( rc ) goto fail;
  m = pc->pView->pTab->pDefault;
  if( m==0 ){
    rc = proxyModelsAnswer(req, pc->pView->pTab, &pc->allow, 0);
    proxyCallFree(pc);
    return rc;
  }
  rc = proxyStart(pc, m, "GET", "/models", 7, 0, 0, pCaller);
  if( rc==SSOPROXY_OK ) return rc;
fail:
  proxyCallFree(pc);
  return rc;
}

/* The model a forwarded request names, decoded into pArena. */
static int proxyModelName(SsoServerReq *req, SsoArena *pArena, SsoStr *pName,
                          SsoStr *pRaw){
  int bEsc = 0, rc;
  SsoJsonDoc *pDoc = 0;
  pName->z = "";
  pName->n = 0;
  if( req->nBody==0 ) return SSOPROXY_NOTFOUND;
  rc = ssoProxyBodyModel(req->pBody, req->nBody, pRaw, &bEsc);
  if( rc || !bEsc ){
    *pName = *pRaw;
    return rc;
  }
  rc = ssoJsonParse(pRaw->z-1, pRaw->n+2, 0, &pDoc, 0);
  if( rc==SSOPROXY_OK ){
    const char *z = ssoJsonStr(ssoJsonRoot(pDoc), &pName->n);
    pName->z = ssoArenaStrndup(pArena, z, pName->n);
    if( pName->z==0 ) rc = SSOPROXY_NOMEM;
  }
  ssoJsonFree(pDoc);
  return rc==SSOPROXY_NOMEM ? rc : rc ? SSOPROXY_PARSE : SSOPROXY_OK;
}

/* The body with the model name at pRaw replaced by m's upstream name. */
static int proxyRewrite(ProxyCall *pc, SsoServerReq *req, SsoStr raw,
                        const SsoProxyModel *m){
  SsoBuf b;
  size_t iStart = (size_t)(raw.z - 1 - req->pBody);
  size_t iEnd = iStart + raw.n + 2;
  ssoBufInit(&b, 0);
  ssoBufAppend(&b, req->pBody, iStart);
  ssoBufAppendJsonString(&b, m->zUpName, m->nUpName);
  ssoBufAppend(&b, req->pBody+iEnd, req->nBody-iEnd);
  if( b.rc ){
    ssoBufFree(&b);
    return SSOPROXY_NOMEM;
  }
  pc->zBody = b.z;
  return SSOPROXY_OK;
}

/* Check the model against the key, then the table. */
static int proxyRoute(ProxyCall *pc, SsoServerReq *req, const SsoCaller *c,
                      SsoStr name, int bNamed, const SsoProxyModel **pm){
  const SsoProxyTable *t = pc->pView->pTab;
  ProxyAllow a;
  int rc = proxyAllowInit(&a, c);
  if( rc ) return rc;
  *pm = 0;
  if( !bNamed ){
    if( a.pDoc==0 && t->pDefault ) *pm = t->pDefault;
    else rc = proxyError(req, 400, "invalid_request_error", "model", 0, 0,
                         "'model' is required: a string member of the JSON "
                         "body");
  }else if( !proxyAllowed(&a, name.z, name.n) ){
    rc = proxyError(req, 403, "permission_error", "model", 0, 0,
                    "key not allowed to access model. This key can only "
                    "access models=%s. Tried to access %.*s",
                    c->key.zModels ? c->key.zModels : "[]",
                    (int)(name.n>200 ? 200 : name.n), name.z);
  }else if( (*pm = ssoProxyTableFind(t, name.z, name.n))==0 ){
    if( t->pDefault ){
      *pm = t->pDefault;
    }else{
      rc = proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "The model `%.*s` does not "
                      "exist", (int)(name.n>200 ? 200 : name.n), name.z);
    }
  }
  ssoJsonFree(a.pDoc);
  if( rc==SSOPROXY_OK && *pm==0 ) rc = SSOPROXY_ERROR;   /* answered */
  return rc;
}

/* The key's rpm/tpm limits; 1 (answered 429) when over. */
static int proxyLimited(SsoProxy *p, SsoServerReq *req, const SsoCaller *c){
  int nRetry = 0, e;
  if( c->eKind!=SSO_CALLER_KEY ) return 0;
  if( c->key.nRpmLimit<=0 && c->key.nTpmLimit<=0 ) return 0;
  e = ssoProxyLimitTake(p->pLim, c->key.zHash, c->key.nRpmLimit,
                        c->key.nTpmLimit, ssoOsNowMs(), &nRetry);
  if( e==0 ) return 0;
  proxyError(req, 429, "rate_limit_error", 0, 0, nRetry, "Rate limit "
             "reached for this key: %s of %lld per minute. Retry after %d s.",
             e==1 ? "requests" : "tokens",
             e==1 ? c->key.nRpmLimit : c->key.nTpmLimit, nRetry);
  return 1;
}

/* POST /v1/... (and any other method under /v1 but the model routes). */
static int proxyForward(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                        const SsoCaller *c, SsoArena *pArena,
                        const char *zModelPath){
  ProxyCall *pc;
  const SsoProxyModel *m = 0;
  SsoStr name = {"", 0}, raw = {"", 0};
  char zMethod[32];
  const char *zPath = req->path.z;
  size_t nPath = req->path.n;
  int rc, bNamed;
  if( zModelPath ){
    name.z = zModelPath;
    name.n = strlen(zModelPath);
    rc = SSOPROXY_OK;
  }else{
    rc = proxyModelName(req, pArena, &name, &raw);
  }
  if( rc==SSOPROXY_PARSE ){
    return proxyError(req, 400, "invalid_request_error", "model", 0, 0,
                      "the body is not a JSON object with one string "
                      "'model'");
  }
  if( rc!=SSOPROXY_OK && rc!=SSOPROXY_NOTFOUND ) return rc;
  bNamed = rc==SSOPROXY_OK;
  pc = proxyCallNew(p, w, req, PROXY_FORWARD);
  if( pc==0 ) return SSOPROXY_NOMEM;
  rc = proxyRoute(pc, req, c, name, bNamed, &m);
  if( rc==SSOPROXY_OK && proxyLimited(p, req, c) ) rc = SSOPROXY_ERROR;
  if( rc ) goto end;
  if( c->eKind==SSO_CALLER_KEY ){
    memcpy(pc->zHash, c->key.zHash, SSO_KEY_HEX-1);
    pc->zHash[SSO_KEY_HEX-1] = 0;
    pc->nTpm = c->key.nTpmLimit;
  }
  if( bNamed && !zModelPath && m->zUpName ){
    rc = proxyRewrite(pc, req, raw, m);
    if( rc ) goto end;
  }
  /* The upstream's base stands for /v1: /v1/chat/completions goes to
  ** BASE/chat/completions, as LiteLLM's api_base does. */
  if( nPath>=4 && memcmp(zPath, "/v1/", 4)==0 ){
    zPath += 3;
    nPath -= 3;
  }
  if( req->method.n>=sizeof(zMethod) ){
    rc = proxyError(req, 400, "invalid_request_error", 0, 0, 0, "method "
                    "too long");
    goto end;
  }
  memcpy(zMethod, req->method.z, req->method.n);
  zMethod[req->method.n] = 0;
  rc = proxyStart(pc, m, zMethod, zPath, nPath,
                  pc->zBody ? pc->zBody : req->pBody,
                  pc->zBody ? strlen(pc->zBody) : req->nBody, c);
  if( rc==SSOPROXY_PARSE ){
    rc = proxyError(req, 400, "invalid_request_error", 0, 0, 0, "this "
                    "request cannot be forwarded (its path or a header "
                    "is not valid upstream)");
    goto end;
  }
  if( rc==SSOPROXY_OK ) return rc;
end:
  /* Refused or failed: no usage to count, but the key was used. */
  if( c->eKind==SSO_CALLER_KEY ){
    ssoApiWorkerTouch(w->pApiW, req->pLoop, c->key.zHash, ssoOsNowMs());
  }
  proxyCallFree(pc);
  return rc==SSOPROXY_ERROR ? SSOPROXY_OK : rc;
}

/* One model's entry, as in the list. */
static int proxyModelEntry(SsoServerReq *req, SsoStr id){
  SsoJsonWriter jw;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&jw, &b);
  proxyWriteModel(&jw, id.z, id.n, SSO_PROXY_MODEL_CREATED, 0);
  rc = ssoJsonWriteFinish(&jw);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRespond(req, 200, "application/json", b.z, b.n);
  }
  ssoBufFree(&b);
  return rc;
}

/* GET /v1/models/NAME: from the table, else from the default upstream. */
static int proxyModelOne(SsoProxy *p, ProxyWorker *w, SsoServerReq *req,
                         const SsoCaller *c, SsoArena *pArena){
  size_t nPre = req->path.n>=11 && memcmp(req->path.z, "/v1/", 4)==0 ? 11 : 8;
  SsoStr id;
  ProxyAllow a;
  ProxyView *v;
  const SsoProxyModel *m;
  int rc;
  if( ssoUrlDecodeArena(pArena, req->path.z+nPre, req->path.n-nPre,
                        SSO_URL_NONUL, &id, 0) || id.n==0
   || !ssoJsonUtf8Valid(id.z, id.n) ){
    return proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "no such model");
  }
  rc = proxyAllowInit(&a, c);
  if( rc ) return rc;
  if( !proxyAllowed(&a, id.z, id.n) ){
    ssoJsonFree(a.pDoc);
    return proxyError(req, 403, "permission_error", "model", 0, 0, "key not "
                      "allowed to access model %.*s",
                      (int)(id.n>200 ? 200 : id.n), id.z);
  }
  ssoJsonFree(a.pDoc);
  v = proxyView(w);
  if( v==0 ) return SSOPROXY_NOMEM;
  m = ssoProxyTableFind(v->pTab, id.z, id.n);
  rc = m==0 && v->pTab->pDefault;
  proxyViewRelease(v);
  if( rc ) return proxyForward(p, w, req, c, pArena, id.z);
  if( m==0 ){
    return proxyError(req, 404, "invalid_request_error", "model",
                      "model_not_found", 0, "The model `%.*s` does not "
                      "exist", (int)(id.n>200 ? 200 : id.n), id.z);
  }
  return proxyModelEntry(req, id);
}

static int proxyOnRequest(SsoServerReq *req, void *pArg){
  ProxyRoute *r = pArg;
  SsoProxy *p = r->p;
  ProxyWorker *w = proxyWorker(p, req);
  SsoArena arena;
  SsoCaller caller;
  int rc;
  if( w==0 ) return SSOPROXY_NOMEM;
  ssoArenaInit(&arena, 0);
  rc = proxyAuthenticate(p, req, w, &arena, &caller);
  if( rc==SSOPROXY_OK && r->eKind!=PROXY_FORWARD
   && caller.eKind==SSO_CALLER_KEY ){
    ssoApiWorkerTouch(w->pApiW, req->pLoop, caller.key.zHash, ssoOsNowMs());
  }
  if( rc==SSOPROXY_OK ){
    switch( r->eKind ){
      case PROXY_MODELS: rc = proxyModels(p, w, req, &caller); break;
      case PROXY_MODEL_ONE:
        rc = proxyModelOne(p, w, req, &caller, &arena);
        break;
      default: rc = proxyForward(p, w, req, &caller, &arena, 0); break;
    }
  }else if( rc==SSOPROXY_ERROR ){
    rc = SSOPROXY_OK;                   /* refused and answered */
  }
  ssoArenaFree(&arena);
  return rc;
}

static int ssoProxyRegister(SsoServer *pSrv, SsoProxy *p){
  static const struct { const char *zMethod, *zPath; int eKind; } a[] = {
    { "GET", "/v1/models", PROXY_MODELS },
    { "GET", "/models", PROXY_MODELS },
    { "GET", "/v1/models/*", PROXY_MODEL_ONE },
    { "GET", "/models/*", PROXY_MODEL_ONE },
    { 0, "/v1/*", PROXY_FORWARD },
    { "POST", "/chat/completions", PROXY_FORWARD },
    { "POST", "/completions", PROXY_FORWARD },
    { "POST", "/embeddings", PROXY_FORWARD },
    { "POST", "/responses", PROXY_FORWARD },
  };
  size_t i;
  int rc = SSOPROXY_OK;
  for(i=0; i<3; i++){
    p->aRoute[i].p = p;
    p->aRoute[i].eKind = (int)i;
  }
  for(i=0; rc==SSOPROXY_OK && i<SSO_ARRAYSIZE(a); i++){
    rc = ssoServerRoute(pSrv, a[i].zMethod, a[i].zPath, proxyOnRequest,
                        &p->aRoute[a[i].eKind]);
  }
  return rc;
}

/* ---- Start, reload, stop -------------------------------------------------------------- */

/* Read and parse the models file (if any) with the default upstream. */
static int proxyLoad(SsoProxy *p, SsoProxyTable **pp, char *zErr,
                     size_t nErr){
  char *z = 0;
  size_t n = 0;
  int rc;
  if( p->zFile ){
    rc = ssoOsReadFile(p->zFile, SSO_PROXY_MAX_FILE, &z, &n);
    if( rc==SSOPROXY_TOOBIG ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s: larger than %u "
                       "bytes", p->zFile, SSO_PROXY_MAX_FILE);
    }
    if( rc==SSOPROXY_NOMEM ) return ssoErrorf(zErr, nErr, rc,
                                              "out of memory");
    if( rc ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "SSOPROXY_MODELS_FILE: "
                       "cannot read %s: %s", p->zFile, strerror(errno));
    }
  }
  rc = ssoProxyTableParse(p->zFile, z, n, p->cfg.zUpstreamUrl,
                          p->cfg.zUpstreamKey, pp, zErr, nErr);
  ssoFree(z);
  return rc;
}

static void proxyLogTable(SsoProxy *p, const SsoProxyTable *t,
                          const char *zMsg){
  char zCount[16];
  int i;
  if( p->cfg.pLog==0 ) return;
  snprintf(zCount, sizeof(zCount), "%d", t->nModel);
  ssoLog(p->cfg.pLog, SSO_LOG_INFO, zMsg, "models", zCount, "default",
         t->pDefault ? t->pDefault->zBase : "none", (char*)0);
  for(i=-1; i<t->nModel; i++){
    const SsoProxyModel *m = i<0 ? t->pDefault : &t->aModel[i];
    if( m && m->bPlainRemote ){
      ssoLog(p->cfg.pLog, SSO_LOG_WARN, "upstream reached over plain http: "
             "prompts and the upstream key cross the network unencrypted",
             "model", m->zName ? m->zName : "(default)", "url", m->zBase,
             (char*)0);
    }
  }
}

static void proxyReloadNow(SsoProxy *p){
  SsoProxyTable *pNew = 0, *pOld;
  char zErr[600];
  int rc = proxyLoad(p, &pNew, zErr, sizeof(zErr));
  if( rc ){
    if( p->cfg.pLog ){
      ssoLog(p->cfg.pLog, SSO_LOG_ERROR, "models file not reloaded; the "
             "previous models stay in use", "error", zErr, (char*)0);
    }
    return;
  }
  pthread_mutex_lock(&p->mu);
  pOld = p->pTab;
  p->pTab = pNew;
  atomic_fetch_add_explicit(&p->iGen, 1, memory_order_release);
  pthread_mutex_unlock(&p->mu);
  ssoProxyTableRelease(pOld);
  proxyLogTable(p, pNew, "models file reloaded");
}

/* The reload thread: one reload per "r" written to the pipe. */
static void *proxyReloader(void *pArg){
  SsoProxy *p = pArg;
  for(;;){
    char c;
    ssize_t r = read(p->fdR, &c, 1);
    if( r<0 && errno==EINTR ) continue;
    if( r<=0 || c=='q' ) break;
    proxyReloadNow(p);
  }
  return 0;
}

static int proxyStartReloader(SsoProxy *p){
  int fd[2];
  sigset_t old;
  if( pipe(fd) ) return SSOPROXY_NOMEM;
  p->fdR = fd[0];
  p->fdW = fd[1];
  ssoLoopBlockSignals(&old);
  p->bReloader = pthread_create(&p->reloader, 0, proxyReloader, p)==0;
  pthread_sigmask(SIG_SETMASK, &old, 0);
  return p->bReloader ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

static int ssoProxyNew(const SsoProxyConfig *pCfg, SsoProxy **pp,
                            char *zErr, size_t nErr){
  SsoProxy *p;
  int rc;
  *pp = 0;
  if( pCfg->zUpstreamKey && pCfg->zUpstreamKey[0] && !pCfg->zUpstreamUrl ){
    return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "SSOPROXY_UPSTREAM_KEY is "
                     "set but SSOPROXY_UPSTREAM_URL is not: the key has no "
                     "upstream to go to");
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->cfg = *pCfg;
  p->fdR = p->fdW = -1;
  atomic_init(&p->iGen, 0);
  if( pthread_mutex_init(&p->mu, 0) ){
    ssoFree(p);
    return SSOPROXY_NOMEM;
  }
  rc = ssoProxyLimiterNew(&p->pLim);
  if( rc==SSOPROXY_OK && pCfg->zModelsFile ){
    p->zFile = ssoStrdup(pCfg->zModelsFile);
    if( p->zFile==0 ) rc = SSOPROXY_NOMEM;
  }
  if( rc==SSOPROXY_OK ) rc = proxyLoad(p, &p->pTab, zErr, nErr);
  if( rc==SSOPROXY_OK && p->zFile ) rc = proxyStartReloader(p);
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) ssoErrorf(zErr, nErr, rc, "out of memory");
    ssoProxyFree(p);
    return rc;
  }
  proxyLogTable(p, p->pTab, "upstreams");
  *pp = p;
  return SSOPROXY_OK;
}

static void ssoProxyReload(SsoProxy *p){
  if( p && p->fdW>=0 ){
    ssize_t r = write(p->fdW, "r", 1);
    SSO_UNUSED(r);          /* a full pipe already holds a reload */
  }
}

static void ssoProxyFree(SsoProxy *p){
  int i;
  if( p==0 ) return;
  if( p->bReloader ){
    ssize_t r = write(p->fdW, "q", 1);
    SSO_UNUSED(r);
    pthread_join(p->reloader, 0);
  }
  if( p->fdR>=0 ) close(p->fdR);
  if( p->fdW>=0 ) close(p->fdW);
  for(i=0; i<SSO_SERVER_MAX_WORKERS; i++){
    if( p->apWorker[i] ){
      /* Workers end before the proxy; this is only a failed start. */
      proxyViewRelease(p->apWorker[i]->pView);
      ssoFree(p->apWorker[i]);
    }
  }
  ssoProxyTableRelease(p->pTab);
  ssoProxyLimiterFree(p->pLim);
  pthread_mutex_destroy(&p->mu);
  ssoFree(p->zFile);
  ssoFree(p);
}
/************** End of proxy.c **************/
/************** Begin file fauth.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: forward authentication (see fauth.h for the routes).
**
** A reverse proxy (nginx auth_request, Traefik forwardAuth, Caddy
** forward_auth) sends each request for the protected site here first,
** with the browser's or client's headers, and lets the request through on
** a 2xx. So /oauth2/auth must be cheap: it reads no body, and the
** credential costs one indexed lookup -- the API key with its owner
** (ssoAuthzAuthenticate, so a revoked key or a disabled owner is refused
** on the very next request), or the session with its user
** (ssoSessionGet). A request that carries both an API key header and a
** session cookie is judged by the key first; when the key is not valid
** (it may be the protected application's own bearer token) the session
** still counts, since it proves the same thing on its own.
**
** The identity goes back in oauth2-proxy's X-Auth-Request-* fields. The
** proxy in front copies them into the request it forwards (nginx:
** auth_request_set + proxy_set_header), which also replaces any copy the
** client sent itself: that replacement is the proxy's job, and the
** recipes in docs/forward-auth.md do it.
**
** Decisions worth knowing:
**  - Return-to targets (rd, X-Auth-Request-Redirect) must be local paths
**    (ssoUrlIsLocalPath); an absolute URL, even to this host, is not
**    accepted, and anything refused means "/". The protected site and
**    ssoproxy's /oauth2/ share one host in every recipe, so a path is all
**    a return needs, and there is no host allow-list to get wrong.
**  - Sign-out answers GET as well as POST, without a CSRF token, as
**    oauth2-proxy does: the worst a forged request can do is sign the
**    user out, and the session cookie is SameSite=Lax, so a cross-site
**    POST or sub-resource request does not even carry it.
**  - The answers carry no Cache-Control: 202, 401 and 403 are not
**    cacheable without explicit freshness (RFC 9111 §4.2.2), and this
**    route is the hot path.
*/
/* #include "ssoInt.h" */
#include <strings.h>

/* ---- Pure pieces (unit-tested) ---- */

/* 1 if group z[0..n) can travel in a comma-joined header value. */
static int fauthGroupOk(const char *z, size_t n){
  size_t i;
  if( n==0 ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c==',' || c<0x20 || c==0x7f ) return 0;
  }
  return 1;
}

static int ssoFauthGroups(const char *zData, SsoArena *pArena,
                               const char **pzGroups){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pArr;
  SsoBuf b;
  size_t i, n;
  int rc = SSOPROXY_OK;
  *pzGroups = "";
  if( zData==0 || zData[0]==0 ) return SSOPROXY_OK;
  rc = ssoJsonParse(zData, strlen(zData), 0, &pDoc, 0);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc ) return SSOPROXY_OK;          /* Not JSON: no groups */
  pArr = ssoJsonGet(ssoJsonRoot(pDoc), "groups");
  ssoBufInit(&b, 0);
  if( ssoJsonType(pArr)==SSO_JSON_ARRAY ){
    for(i=0; i<ssoJsonCount(pArr); i++){
      const char *z = ssoJsonStr(ssoJsonAt(pArr, i), &n);
      if( z==0 || !fauthGroupOk(z, n) ) continue;
      if( b.n + 1 + n > SSO_FAUTH_MAX_GROUPS ) break;
      if( b.n ) ssoBufAppend(&b, ",", 1);
      ssoBufAppend(&b, z, n);
    }
  }
  if( b.rc ){
    rc = b.rc;
  }else if( b.n ){
    char *z = ssoArenaStrndup(pArena, b.z, b.n);
    if( z==0 ) rc = SSOPROXY_NOMEM;
    else *pzGroups = z;
  }
  ssoBufFree(&b);
  ssoJsonFree(pDoc);
  return rc;
}

static int ssoFauthHeaders(const SsoFauthId *p,
                                const char *azName[SSO_FAUTH_NHEADER],
                                const char *azValue[SSO_FAUTH_NHEADER]){
  const char *az[SSO_FAUTH_NHEADER];
  static const char *const azField[SSO_FAUTH_NHEADER] = {
    "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
    "X-Auth-Request-Preferred-Username", "X-Auth-Request-Role"
  };
  int i, n = 0;
  az[0] = p->zUser;
  az[1] = p->zEmail;
  az[2] = p->zGroups;
  az[3] = p->zName;
  az[4] = p->zRole;
  for(i=0; i<SSO_FAUTH_NHEADER; i++){
    if( az[i]==0 || az[i][0]==0 ) continue;
    azName[n] = azField[i];
    azValue[n] = az[i];
    n++;
  }
  return n;
}

/* 1 if z[0..n) is one of the comma-separated items of zList[0..nList),
** compared exactly, or without ASCII case when bNoCase. */
static int fauthInList(const char *zList, size_t nList, const char *z,
                       size_t n, int bNoCase){
  size_t i = 0;
  while( i<=nList ){
    size_t j = i;
    while( j<nList && zList[j]!=',' ) j++;
    if( j-i==n && n>0 ){
      if( bNoCase ? strncasecmp(zList+i, z, n)==0 : memcmp(zList+i, z, n)==0 ){
        return 1;
      }
    }
    i = j+1;
  }
  return 0;
}

/* 1 if some item of the comma-joined zMine is in zList[0..nList). */
static int fauthAnyInList(const char *zList, size_t nList, const char *zMine){
  size_t i = 0, nMine = strlen(zMine);
  while( i<nMine ){
    size_t j = i;
    while( j<nMine && zMine[j]!=',' ) j++;
    if( fauthInList(zList, nList, zMine+i, j-i, 0) ) return 1;
    i = j+1;
  }
  return 0;
}

/* The filters, in the order of aFauthFilter's rows. */
#define FAUTH_GROUPS  0
#define FAUTH_ROLES   1
#define FAUTH_EMAILS  2
#define FAUTH_DOMAINS 3
static const char *const azFauthFilter[4] = {
  "allowed_groups", "allowed_roles", "allowed_emails",
  "allowed_email_domains"
};

/* Does the identity match list v of filter eFilter? */
static int fauthMatch(const SsoFauthId *p, int eFilter, SsoStr v){
  const char *zAt;
  switch( eFilter ){
    case FAUTH_GROUPS:
      return p->zGroups && fauthAnyInList(v.z, v.n, p->zGroups);
    case FAUTH_ROLES:
      return p->zRole && fauthInList(v.z, v.n, p->zRole, strlen(p->zRole), 0);
    case FAUTH_EMAILS:
      return p->zEmail && fauthInList(v.z, v.n, p->zEmail,
                                      strlen(p->zEmail), 1);
    default:
      zAt = p->zEmail ? strrchr(p->zEmail, '@') : 0;
      return zAt && fauthInList(v.z, v.n, zAt+1, strlen(zAt+1), 1);
  }
}

static int ssoFauthAllowed(const SsoFauthId *p, const char *zQuery,
                                size_t nQuery, SsoArena *pArena,
                                int *pbAllow){
  SsoForm form;
  int aSeen[4] = {0, 0, 0, 0}, aHit[4] = {0, 0, 0, 0};
  int i, k, rc;
  *pbAllow = 0;
  if( nQuery==0 ){
    *pbAllow = 1;
    return SSOPROXY_OK;
  }
  rc = ssoFormParse(pArena, zQuery, nQuery, &form, 0);
  if( rc ) return rc;
  for(i=0; i<form.nParam; i++){
    const SsoFormParam *q = &form.aParam[i];
    for(k=0; k<4; k++){
      if( q->name.n==strlen(azFauthFilter[k])
       && memcmp(q->name.z, azFauthFilter[k], q->name.n)==0 ){
        aSeen[k] = 1;
        if( fauthMatch(p, k, q->value) ) aHit[k] = 1;
      }
    }
  }
  for(k=0; k<4; k++){
    if( aSeen[k] && !aHit[k] ) return SSOPROXY_OK;
  }
  *pbAllow = 1;
  return SSOPROXY_OK;
}

/*
** A return-to target must be a local path, and not one of ours under
** /oauth2/: oauth2-proxy's nginx recipe sets X-Auth-Request-Redirect to
** $request_uri on every /oauth2/ request, so /oauth2/sign_out would
** otherwise send the browser back to itself.
*/
static int fauthTargetOk(SsoStr v){
  if( !ssoUrlIsLocalPath(v.z, v.n) ) return 0;
  return !(v.n>=8 && memcmp(v.z, "/oauth2/", 8)==0)
      && !(v.n==7 && memcmp(v.z, "/oauth2", 7)==0);
}

static const char *ssoFauthReturnTo(const char *zQuery, size_t nQuery,
                                         const SsoHttpHeader *aHdr, int nHdr,
                                         SsoArena *pArena){
  SsoForm form;
  SsoStr v;
  int i, rc;
  if( nQuery>0 && ssoFormParse(pArena, zQuery, nQuery, &form, 0)==SSOPROXY_OK ){
    rc = ssoFormGet(&form, "rd", &v);
    if( rc==SSOPROXY_OK ) return fauthTargetOk(v) ? v.z : 0;
    if( rc==SSOPROXY_CONSTRAINT ) return 0;
  }
  for(i=0; i<nHdr; i++){
    const SsoStr *pN = &aHdr[i].name;
    if( pN->n==23 && strncasecmp(pN->z, "X-Auth-Request-Redirect", 23)==0 ){
      v = aHdr[i].value;
      if( !fauthTargetOk(v) ) return 0;
      return ssoArenaStrndup(pArena, v.z, v.n);
    }
  }
  return 0;
}

/* Append comma-joined zList as a JSON array of strings. */
static void fauthWriteList(SsoJsonWriter *w, const char *zList){
  size_t i = 0, n = zList ? strlen(zList) : 0;
  ssoJsonWriteBeginArray(w);
  while( i<n ){
    size_t j = i;
    while( j<n && zList[j]!=',' ) j++;
    ssoJsonWriteStringN(w, zList+i, j-i);
    i = j+1;
  }
  ssoJsonWriteEndArray(w);
}

static void ssoFauthUserinfo(const SsoFauthId *p, SsoBuf *b){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "user", p->zUser);
  ssoJsonWriteKey(&w, "email");
  if( p->zEmail ) ssoJsonWriteString(&w, p->zEmail);
  else ssoJsonWriteNull(&w);
  ssoJsonWriteKey(&w, "groups");
  fauthWriteList(&w, p->zGroups);
  ssoJsonWriteKeyString(&w, "preferredUsername", p->zName);
  ssoJsonWriteKeyString(&w, "user_id", p->zUser);
  ssoJsonWriteKeyString(&w, "role", p->zRole);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
}

/* ---- Who is calling ---- */

/* The identity of a key or master-key caller. */
static void fauthFromCaller(const SsoCaller *c, SsoFauthId *p){
  memset(p, 0, sizeof(*p));
  p->eKind = c->eKind;
  p->zUser = c->zUserId ? c->zUserId : c->zActor;
  p->zEmail = c->user.zEmail;
  p->zName = c->user.zName ? c->user.zName : p->zUser;
  p->zRole = ssoAuthzRoleName(c->eRole);
  p->zGroups = "";
}

/*
** The request's identity: SSOPROXY_OK and *p (strings in pArena),
** SSOPROXY_NOTFOUND when it has no valid credential, another code on a
** store failure.
*/
static int fauthIdentify(const SsoFauth *pF, SsoServerReq *req,
                         long long tNow, SsoArena *pArena, SsoFauthId *p){
  SsoApiWorker *pW = req->pWorkerCtx;
  SsoStore *pStore = ssoApiWorkerStore(pW);
  SsoAuthzErr err;
  SsoCaller caller;
  SsoSession sess;
  SsoStr cred;
  int rc;
  memset(&err, 0, sizeof(err));
  rc = ssoAuthzCredential(req->aHdr, req->nHdr, &cred, &err);
  if( rc==SSOPROXY_OK ){
    memset(&err, 0, sizeof(err));
    rc = ssoAuthzAuthenticate(&pF->pApi->authz, pStore, req->method,
                              req->aHdr, req->nHdr, tNow, pArena, &caller,
                              &err);
    if( rc==SSOPROXY_OK ){
      if( caller.eKind==SSO_CALLER_KEY && caller.key.zHash ){
        ssoApiWorkerTouch(pW, req->pLoop, caller.key.zHash, tNow);
      }
      fauthFromCaller(&caller, p);
      return SSOPROXY_OK;
    }
    if( rc!=SSOPROXY_ERROR ) return rc;     /* The store failed */
  }
  /* No key, or not a valid one: a browser session may still vouch. */
  if( pF->pSessions==0 ) return SSOPROXY_NOTFOUND;
  rc = ssoSessionGet(pF->pSessions, pStore, req->aHdr, req->nHdr, tNow,
                     pArena, &sess);
  if( rc ) return rc;
  memset(p, 0, sizeof(*p));
  p->eKind = SSO_CALLER_SESSION;
  p->zUser = sess.user.zId;
  p->zEmail = sess.user.zEmail;
  p->zName = sess.user.zName ? sess.user.zName : sess.user.zId;
  p->zRole = sess.user.zRole;
  return ssoFauthGroups(sess.row.zData, pArena, &p->zGroups);
}

/* ---- Routes ---- */

/* An answer with no body: 401, 403, 400 to a forward-auth request. */
static int fauthBare(SsoServerReq *req, int iStatus){
  int rc = ssoServerStatus(req, iStatus);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  return rc;
}

/* 1 if the query asks for a sign-in redirect instead of a bare 401. */
static int fauthWantsSignIn(const char *zQuery, size_t nQuery,
                            SsoArena *pArena){
  SsoForm form;
  SsoStr v;
  if( nQuery==0 || ssoFormParse(pArena, zQuery, nQuery, &form, 0) ) return 0;
  if( ssoFormGet(&form, "signin", &v) ) return 0;
  return !(v.n==1 && v.z[0]=='0');
}

/*
** Traefik and Caddy hand the auth answer itself to the browser, so with
** ?signin=1 a caller without credentials gets a 302 to /oauth2/start
** with the original URI, which both proxies send as X-Forwarded-Uri (a
** local path, checked like any rd, so a forged one can only name a path
** of this site).
*/
static int fauthSignIn(SsoServerReq *req){
  SsoStr v;
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "/oauth2/start");
  if( ssoServerHeader(req, "X-Forwarded-Uri", &v) && fauthTargetOk(v) ){
    ssoBufAppendStr(&b, "?rd=");
    ssoUrlEncode(&b, v.z, v.n, 0);
  }
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoPageRedirect(req, 302, b.z);
  ssoBufFree(&b);
  return rc;
}

/* GET (any method) /oauth2/auth */
static int fauthOnAuth(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  const char *azName[SSO_FAUTH_NHEADER], *azValue[SSO_FAUTH_NHEADER];
  SsoArena arena;
  SsoFauthId id;
  int rc, i, n, bAllow = 1;
  if( req->pWorkerCtx==0 ) return fauthBare(req, 503);
  ssoArenaInit(&arena, 0);
  rc = fauthIdentify(pF, req, ssoOsNowMs(), &arena, &id);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = fauthWantsSignIn(req->query.z, req->query.n, &arena)
       ? fauthSignIn(req) : fauthBare(req, 401);
    goto end;
  }
  if( rc ) goto end;
  rc = ssoFauthAllowed(&id, req->query.z, req->query.n, &arena, &bAllow);
  if( rc==SSOPROXY_PARSE || rc==SSOPROXY_TOOBIG ){
    rc = fauthBare(req, 400);
    goto end;
  }
  if( rc ) goto end;
  if( !bAllow ){
    rc = fauthBare(req, 403);
    goto end;
  }
  n = ssoFauthHeaders(&id, azName, azValue);
  rc = ssoServerStatus(req, 202);
  for(i=0; rc==SSOPROXY_OK && i<n; i++){
    rc = ssoServerAddHeader(req, azName[i], azValue[i]);
    /* A value the server refuses (a stored name with a control byte)
    ** is left out rather than failing the whole answer. */
    if( rc==SSOPROXY_PARSE ) rc = SSOPROXY_OK;
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
end:
  ssoArenaFree(&arena);
  return rc;
}

/* GET /oauth2/userinfo */
static int fauthOnUserinfo(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  SsoArena arena;
  SsoFauthId id;
  SsoBuf b;
  char zSpace[1024];
  int rc;
  if( req->pWorkerCtx==0 ) return ssoServerError(req, 503, 0);
  ssoArenaInit(&arena, 0);
  ssoBufInitStatic(&b, zSpace, sizeof(zSpace), 0);
  rc = fauthIdentify(pF, req, ssoOsNowMs(), &arena, &id);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = ssoServerError(req, 401, "Not signed in: no valid session cookie "
                        "or API key.");
    goto end;
  }
  if( rc ) goto end;
  ssoFauthUserinfo(&id, &b);
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, 200);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Cache-Control",
                                                "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, b.z, b.n);
end:
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

/* GET /oauth2/start */
static int fauthOnStart(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  const char *zRd;
  SsoArena arena;
  SsoBuf b;
  int rc;
  ssoArenaInit(&arena, 0);
  ssoBufInit(&b, 0);
  zRd = ssoFauthReturnTo(req->query.z, req->query.n, req->aHdr, req->nHdr,
                         &arena);
  if( zRd==0 ) zRd = "/";
  if( pF->pOidc ){
    rc = ssoOidcLogin(pF->pOidc, req, zRd);
  }else{
    /* No SSO: the local sign-in page, which honours rd the same way. */
    ssoBufAppendStr(&b, "/login?rd=");
    ssoUrlEncode(&b, zRd, strlen(zRd), 0);
    rc = b.rc;
    if( rc==SSOPROXY_OK ) rc = ssoPageRedirect(req, 302, b.z);
  }
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

/* GET|POST /oauth2/sign_out */
static int fauthOnSignOut(SsoServerReq *req, void *pArg){
  const SsoFauth *pF = pArg;
  SsoStore *pStore;
  const char *zRd;
  SsoSession sess;
  SsoArena arena;
  SsoBuf b;
  int rc = SSOPROXY_OK;
  if( req->pWorkerCtx==0 ) return ssoServerError(req, 503, 0);
  pStore = ssoApiWorkerStore(req->pWorkerCtx);
  ssoArenaInit(&arena, 0);
  ssoBufInit(&b, 0);
  zRd = ssoFauthReturnTo(req->query.z, req->query.n, req->aHdr, req->nHdr,
                         &arena);
  if( zRd ){
    ssoBufAppendStr(&b, zRd);
  }else if( pF->pOidc && pF->pSessions ){
    /* No explicit target: the IdP's logout too, when there is one. */
    const char *zIdToken = 0;
    if( ssoSessionGet(pF->pSessions, pStore, req->aHdr, req->nHdr,
                      ssoOsNowMs(), &arena, &sess)==SSOPROXY_OK ){
      zIdToken = sess.row.zIdToken;
    }
    if( !ssoOidcLogoutUrl(pF->pOidc, zIdToken, &b) ) ssoBufAppendStr(&b, "/");
  }else{
    ssoBufAppendStr(&b, "/");
  }
  rc = b.rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(req, 302);
  if( rc==SSOPROXY_OK ) rc = ssoPageHeaders(req);
  if( rc==SSOPROXY_OK && pF->pSessions ){
    rc = ssoSessionEnd(pF->pSessions, pStore, req);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Location", b.z);
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  ssoBufFree(&b);
  ssoArenaFree(&arena);
  return rc;
}

static int ssoFauthRegister(SsoServer *pSrv, SsoFauth *p){
  /* Any method: a proxy may pass the original request's method along. */
  int rc = ssoServerRoute(pSrv, "*", "/oauth2/auth", fauthOnAuth, p);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/userinfo", fauthOnUserinfo, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/start", fauthOnStart, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "GET", "/oauth2/sign_out", fauthOnSignOut, p);
  }
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(pSrv, "POST", "/oauth2/sign_out", fauthOnSignOut, p);
  }
  return rc;
}
/************** End of fauth.c **************/
/************** Begin file oauth.c **************/
/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 4: API keys for other programs (see oauth.h for the four flows).
**
** The security rules, and the attack each one blocks:
**
**  - Destinations. A key or a code goes only to a loopback IP literal
**    over http (RFC 8252 §7.3: the port may vary), to an allowed custom
**    scheme (the IDE schemes of the seed PR plus
**    OAUTH_ALLOWED_REDIRECT_SCHEMES), or to an https URL listed exactly in
**    SSOPROXY_ALLOWED_REDIRECT_URIS. The seed PR accepted any https URL, so
**    a crafted link sent a fresh key to an attacker's site.
**  - Consent. No client of these flows can prove who it is (RFC 8252
**    §8.6), so nothing is handed out without a page that names the
**    destination and the account, approved by a POST carrying the
**    session's CSRF token. The page cannot be framed (page.h).
**  - State lives in the store, not in the URL: the seed PR's state was
**    unsigned JSON anyone could forge. A pending consent is bound to the
**    browser session that started it, is single use and expires.
**  - Codes are 256 random bits in [A-Za-z0-9_-], single use, short-lived;
**    a second use revokes the key the first one produced (RFC 6749
**    §4.1.2). PKCE S256 only; a verifier without a challenge is a
**    downgrade and refused (RFC 9700 §2.1.1). Keys travel in back-channel
**    responses, except in the seed flow's redirect, which its clients
**    need and which is only allowed to the destinations above.
**  - The existing-key shortcut of the seed PR (a valid key mints a new
**    one) can never widen access: the new key gets the presenting key's
**    models and at most its remaining lifetime.
**
** Grants (src/store.h) used here, by kind:
**   oauth_consent  a consent page waiting for approval
**   oauth_code     an authorization code (flows 2 and 3)
**   device         a device code; device_user maps its user code to it
**   device_try     counters of wrong user codes (per session, global)
*/
/* #include "ssoInt.h" */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

struct SsoOauth {
  char *zBaseUrl;           /* NULL: from the Host header */
  char *zSchemes, *zUris, *zOrigins;
  long long msKeyTtl, msCodeTtl, msStateTtl, msDeviceTtl;
  int sInterval;
  int bCodeOnly, bKeyShortcut;
  const SsoSessions *pSessions;
  SsoLog *pLog;
  SsoAuthz authz;           /* API keys only: the shortcut's credential */
};

/* ------------------------------------------------------------------ */
/* Pure helpers                                                        */
/* ------------------------------------------------------------------ */

/* The seed PR's IDE schemes: these need an authority and a path. */
static const char *const azOauthIdeStrict[] = {
  "vscode", "vscode-insiders", "cursor", "vscodium", "code-oss", "fleet",
  "zed", "sublime", "atom", "brackets", "nova",
};
/* The PR's other desktop-tool schemes: an authority or a path. */
static const char *const azOauthIdeLax[] = {
  "github-desktop", "sourcetree", "tower", "fork", "textmate", "coderunner",
};
/* Never a destination, whatever the settings say. */
static const char *const azOauthNever[] = {
  "javascript", "data", "file", "vbscript", "blob", "about", "filesystem",
  "http", "https", "ws", "wss", "ftp", "mailto", "jar", "view-source",
};

static int oauthInList(const char *const *az, size_t nAz, const char *z,
                       size_t n){
  size_t i;
  for(i=0; i<nAz; i++){
    if( strlen(az[i])==n && memcmp(az[i], z, n)==0 ) return 1;
  }
  return 0;
}

static int ssoOauthListHas(const char *zList, const char *z, size_t n){
  const char *p = zList;
  if( zList==0 ) return 0;
  while( *p ){
    const char *zEnd = strchr(p, ',');
    const char *a = p, *b = zEnd ? zEnd : p+strlen(p);
    while( a<b && (*a==' ' || *a=='\t') ) a++;
    while( b>a && (b[-1]==' ' || b[-1]=='\t') ) b--;
    if( (size_t)(b-a)==n && n>0 && memcmp(a, z, n)==0 ) return 1;
    if( zEnd==0 ) break;
    p = zEnd+1;
  }
  return 0;
}

static int ssoOauthCorsAllowed(const char *zOrigins, const char *z,
                                    size_t n){
  if( n==0 || n>SSO_OAUTH_MAX_ORIGIN ) return 0;
  if( ssoOauthListHas(zOrigins, "*", 1) ) return 1;
  return ssoOauthListHas(zOrigins, z, n);
}

/* Write why a value is refused into z[n]; returns 0 (refused). */
static int oauthWhy(char *z, size_t n, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static int oauthWhy(char *z, size_t n, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(z, n, zFmt, ap);
  va_end(ap);
  return 0;
}

static int ssoOauthRedirectCheck(const char *zSchemes,
                                      const char *zUris, const char *z,
                                      size_t n, char *zWhy, size_t nWhy){
  SsoArena a;
  SsoUrl u;
  int eKind = 0;
  const char *zScheme;
  size_t nScheme;
  if( n==0 ) return oauthWhy(zWhy, nWhy, "the redirect URI is empty");
  if( n>SSO_OAUTH_MAX_REDIRECT ){
    return oauthWhy(zWhy, nWhy, "the redirect URI is longer than %d bytes",
                    SSO_OAUTH_MAX_REDIRECT);
  }
  ssoArenaInit(&a, 0);
  if( ssoUrlParse(&a, z, n, &u, 0) ){
    oauthWhy(zWhy, nWhy, "the redirect URI is not a valid absolute URL");
    goto end;
  }
  zScheme = u.scheme.z;
  nScheme = u.scheme.n;
  if( u.bFragment ){
    oauthWhy(zWhy, nWhy, "the redirect URI has a fragment (RFC 6749 §3.1.2)");
    goto end;
  }
  if( u.bUserinfo ){
    oauthWhy(zWhy, nWhy, "the redirect URI has user information before '@'");
    goto end;
  }
  if( nScheme==4 && memcmp(zScheme, "http", 4)==0 ){
    if( ssoUrlIsLoopback(&u) ){
      eKind = SSO_OAUTH_DEST_LOOPBACK;
    }else{
      oauthWhy(zWhy, nWhy, "http redirect URIs must name a loopback IP "
               "address (127.0.0.1 or [::1]), not a host name");
    }
    goto end;
  }
  if( nScheme==5 && memcmp(zScheme, "https", 5)==0 ){
    if( ssoOauthListHas(zUris, z, n) ){
      eKind = SSO_OAUTH_DEST_LISTED;
    }else{
      oauthWhy(zWhy, nWhy, "this https redirect URI is not listed in "
               "SSOPROXY_ALLOWED_REDIRECT_URIS");
    }
    goto end;
  }
  if( oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever), zScheme,
                  nScheme) ){
    oauthWhy(zWhy, nWhy, "redirect URIs with the scheme %s: are refused",
             zScheme);
    goto end;
  }
  if( ssoOauthListHas(zUris, z, n) ){
    eKind = SSO_OAUTH_DEST_LISTED;
    goto end;
  }
  if( oauthInList(azOauthIdeStrict, SSO_ARRAYSIZE(azOauthIdeStrict),
                  zScheme, nScheme) ){
    if( u.eHost==SSO_URL_HOST_NONE || u.path.n==0 ){
      oauthWhy(zWhy, nWhy, "a %s: redirect URI needs an extension id and a "
               "path, e.g. %s://publisher.extension/callback", zScheme,
               zScheme);
    }else{
      eKind = SSO_OAUTH_DEST_SCHEME;
    }
    goto end;
  }
  if( oauthInList(azOauthIdeLax, SSO_ARRAYSIZE(azOauthIdeLax), zScheme,
                  nScheme)
   || ssoOauthListHas(zSchemes, zScheme, nScheme) ){
    if( u.eHost==SSO_URL_HOST_NONE && u.path.n==0 ){
      oauthWhy(zWhy, nWhy, "the redirect URI has neither a host nor a path");
    }else{
      eKind = SSO_OAUTH_DEST_SCHEME;
    }
    goto end;
  }
  oauthWhy(zWhy, nWhy, "the scheme %s: is not an allowed redirect scheme "
           "(see OAUTH_ALLOWED_REDIRECT_SCHEMES)", zScheme);
end:
  ssoArenaFree(&a);
  return eKind;
}

static int ssoOauthS256(const char *zVerifier, size_t n,
                             char zOut[SSO_OAUTH_CHALLENGE_LEN+1]){
  unsigned char aHash[SSO_SHA256_LEN];
  int rc = ssoSha256(zVerifier, n, aHash);
  if( rc ) return rc;
  ssoB64EncodeTo(aHash, sizeof(aHash), SSO_B64_URL, zOut);
  zOut[SSO_OAUTH_CHALLENGE_LEN] = 0;
  return SSOPROXY_OK;
}

static int oauthIsB64Url(char c){
  return (c>='A' && c<='Z') || (c>='a' && c<='z') || (c>='0' && c<='9')
      || c=='-' || c=='_';
}

static int ssoOauthVerifierOk(const char *z, size_t n){
  size_t i;
  if( n<43 || n>128 ) return 0;
  for(i=0; i<n; i++){
    if( !oauthIsB64Url(z[i]) && z[i]!='.' && z[i]!='~' ) return 0;
  }
  return 1;
}

static int ssoOauthChallengeOk(const char *z, size_t n){
  size_t i;
  if( n!=SSO_OAUTH_CHALLENGE_LEN ) return 0;
  for(i=0; i<n; i++) if( !oauthIsB64Url(z[i]) ) return 0;
  return 1;
}

static int ssoOauthUserCodeNew(SsoRng *pRng, char zOut[10]){
  static const char zAlpha[] = SSO_OAUTH_USER_ALPHABET;
  const unsigned nAlpha = sizeof(zAlpha)-1;
  /* Rejection sampling: bytes at or above the largest multiple of the
  ** alphabet's size would make the first letters likelier. */
  const unsigned mxByte = 256 - 256 % nAlpha;
  unsigned char aRand[32];
  int nDone = 0;
  while( nDone<8 ){
    size_t i;
    int rc = ssoRngBytes(pRng, aRand, sizeof(aRand));
    if( rc ) return rc;
    for(i=0; i<sizeof(aRand) && nDone<8; i++){
      if( aRand[i]>=mxByte ) continue;
      zOut[nDone + (nDone>=4)] = zAlpha[aRand[i] % nAlpha];
      nDone++;
    }
  }
  zOut[4] = '-';
  zOut[9] = 0;
  return SSOPROXY_OK;
}

static int ssoOauthUserCodeNormalize(const char *z, size_t n,
                                          char zOut[9]){
  size_t i;
  int k = 0;
  for(i=0; i<n; i++){
    char c = z[i];
    if( c=='-' || c==' ' ) continue;
    if( c>='a' && c<='z' ) c = (char)(c - 'a' + 'A');
    if( c==0 || strchr(SSO_OAUTH_USER_ALPHABET, c)==0 || k>=8 ){
      return SSOPROXY_PARSE;
    }
    zOut[k++] = c;
  }
  if( k!=8 ) return SSOPROXY_PARSE;
  zOut[8] = 0;
  return SSOPROXY_OK;
}

static int ssoOauthSecretNew(SsoRng *pRng,
                                  char zOut[SSO_OAUTH_SECRET_LEN+1]){
  unsigned char aRand[32];
  int rc = ssoRngBytes(pRng, aRand, sizeof(aRand));
  if( rc ) return rc;
  ssoB64EncodeTo(aRand, sizeof(aRand), SSO_B64_URL, zOut);
  zOut[SSO_OAUTH_SECRET_LEN] = 0;
  return SSOPROXY_OK;
}

/* ------------------------------------------------------------------ */
/* The object                                                          */
/* ------------------------------------------------------------------ */

/* Each entry of a comma list, passed to xCheck; first failure wins. */
static int oauthEachEntry(const char *zList, const char *zSetting,
                          int (*xCheck)(const char*, size_t, char*, size_t),
                          char *zErr, size_t nErr){
  const char *p = zList;
  char zWhy[256];
  if( zList==0 ) return SSOPROXY_OK;
  while( *p ){
    const char *zEnd = strchr(p, ',');
    const char *a = p, *b = zEnd ? zEnd : p+strlen(p);
    while( a<b && (*a==' ' || *a=='\t') ) a++;
    while( b>a && (b[-1]==' ' || b[-1]=='\t') ) b--;
    int bOk = b>a ? xCheck(a, (size_t)(b-a), zWhy, sizeof(zWhy)) : 1;
    if( bOk<0 ) return ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
    if( bOk==0 ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "%s: %.*s: %s",
                       zSetting, (int)(b-a > 200 ? 200 : b-a), a, zWhy);
    }
    if( zEnd==0 ) break;
    p = zEnd+1;
  }
  return SSOPROXY_OK;
}

/* An allowed scheme: RFC 3986 §3.1 syntax, lower case, not a web or
** dangerous scheme (those have their own rules). */
static int oauthSchemeEntryOk(const char *z, size_t n, char *zWhy,
                              size_t nWhy){
  size_t i;
  for(i=0; i<n; i++){
    char c = z[i];
    if( (c>='a' && c<='z') || (i>0 && ((c>='0' && c<='9') || c=='+'
                                       || c=='-' || c=='.')) ) continue;
    return oauthWhy(zWhy, nWhy, "not a lower-case URI scheme (write it "
                    "without \"://\")");
  }
  if( oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever), z, n) ){
    return oauthWhy(zWhy, nWhy, "this scheme can never be a redirect scheme"
                    " (http is allowed to loopback addresses only, https "
                    "through SSOPROXY_ALLOWED_REDIRECT_URIS)");
  }
  return 1;
}

/* An allowed URI: a valid https or custom-scheme URL, no fragment, no
** user-info, never plain http (loopback is always allowed anyway).
** 1 good, 0 refused, -1 out of memory. */
static int oauthUriEntryOk(const char *z, size_t n, char *zWhy, size_t nWhy){
  SsoArena a;
  SsoUrl u;
  int bOk = 0, rc = SSOPROXY_TOOBIG;
  ssoArenaInit(&a, 0);
  if( n<=SSO_OAUTH_MAX_REDIRECT ) rc = ssoUrlParse(&a, z, n, &u, 0);
  if( rc==SSOPROXY_NOMEM ){
    bOk = -1;
  }else if( rc ){
    oauthWhy(zWhy, nWhy, "not a valid absolute URL");
  }else if( u.bFragment || u.bUserinfo ){
    oauthWhy(zWhy, nWhy, "a redirect URI may have neither a fragment nor "
             "user information");
  }else if( strcmp(u.scheme.z, "https")!=0
         && oauthInList(azOauthNever, SSO_ARRAYSIZE(azOauthNever),
                        u.scheme.z, u.scheme.n) ){
    oauthWhy(zWhy, nWhy, "only https and custom-scheme URIs can be listed "
             "(plain http is allowed to loopback addresses without a list)");
  }else{
    bOk = 1;
  }
  ssoArenaFree(&a);
  return bOk;
}

static int ssoOauthNew(const SsoOauthConfig *c, SsoOauth **pp,
                            char *zErr, size_t nErr){
  SsoOauth *p;
  int rc;
  *pp = 0;
  rc = oauthEachEntry(c->zSchemes, "OAUTH_ALLOWED_REDIRECT_SCHEMES",
                      oauthSchemeEntryOk, zErr, nErr);
  if( rc ) return rc;
  rc = oauthEachEntry(c->zUris, "SSOPROXY_ALLOWED_REDIRECT_URIS",
                      oauthUriEntryOk, zErr, nErr);
  if( rc ) return rc;
  if( c->zBaseUrl ){
    SsoArena a;
    SsoUrl u;
    ssoArenaInit(&a, 0);
    rc = ssoUrlParse(&a, c->zBaseUrl, strlen(c->zBaseUrl), &u, 0);
    if( rc==SSOPROXY_OK && ((strcmp(u.scheme.z, "http")!=0
                             && strcmp(u.scheme.z, "https")!=0)
                            || u.bQuery || u.bFragment || u.bUserinfo) ){
      rc = SSOPROXY_PARSE;
    }
    ssoArenaFree(&a);
    if( rc==SSOPROXY_NOMEM ){
      return ssoErrorf(zErr, nErr, rc, "out of memory");
    }
    if( rc ){
      return ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, "PROXY_BASE_URL: not an "
                       "http(s) URL without query or fragment: %s",
                       c->zBaseUrl);
    }
  }
  p = ssoMallocZero(sizeof(*p));
  if( p==0 ) return SSOPROXY_NOMEM;
  if( c->zBaseUrl ){
    size_t n = strlen(c->zBaseUrl);
    while( n>0 && c->zBaseUrl[n-1]=='/' ) n--;
    p->zBaseUrl = ssoStrndup(c->zBaseUrl, n);
    if( p->zBaseUrl==0 ) goto nomem;
  }
  if( c->zSchemes && (p->zSchemes = ssoStrdup(c->zSchemes))==0 ) goto nomem;
  if( c->zUris && (p->zUris = ssoStrdup(c->zUris))==0 ) goto nomem;
  if( c->zOrigins && (p->zOrigins = ssoStrdup(c->zOrigins))==0 ) goto nomem;
  p->msKeyTtl = c->sKeyTtl*1000;
  p->msCodeTtl = c->sCodeTtl*1000;
  p->msStateTtl = c->sStateTtl*1000;
  p->msDeviceTtl = c->sDeviceTtl*1000;
  p->sInterval = c->sInterval;
  p->bCodeOnly = c->bCodeOnly;
  p->bKeyShortcut = c->bKeyShortcut;
  p->pSessions = c->pSessions;
  p->pLog = c->pLog;
  ssoAuthzInit(&p->authz, 0);
  *pp = p;
  return SSOPROXY_OK;
nomem:
  ssoOauthFree(p);
  return ssoErrorf(zErr, nErr, SSOPROXY_NOMEM, "out of memory");
}

static void ssoOauthFree(SsoOauth *p){
  if( p==0 ) return;
  ssoFree(p->zBaseUrl);
  ssoFree(p->zSchemes);
  ssoFree(p->zUris);
  ssoFree(p->zOrigins);
  ssoFree(p);
}

/* ------------------------------------------------------------------ */
/* One request                                                         */
/* ------------------------------------------------------------------ */

typedef struct OauthCtx OauthCtx;
struct OauthCtx {
  SsoOauth *p;
  SsoServerReq *req;
  SsoStore *pStore;
  SsoRng *pRng;
  SsoArena a;               /* Everything of this request */
  long long tNow;
  SsoForm q;                /* The query */
  SsoForm f;                /* A form body (POSTs) */
  int bCors;                /* The Origin may read the answer */
  SsoStr origin;
};

static int oauthCtxInit(OauthCtx *c, SsoServerReq *req, void *pArg){
  memset(c, 0, sizeof(*c));
  c->p = pArg;
  c->req = req;
  c->pStore = ssoApiWorkerStore(req->pWorkerCtx);
  c->pRng = ssoApiWorkerRng(req->pWorkerCtx);
  c->tNow = ssoOsNowMs();
  ssoArenaInit(&c->a, 0);
  if( ssoServerHeader(req, "Origin", &c->origin) ){
    c->bCors = ssoOauthCorsAllowed(c->p->zOrigins, c->origin.z,
                                   c->origin.n);
  }
  if( ssoFormParse(&c->a, req->query.z, req->query.n, &c->q, 0) ){
    memset(&c->q, 0, sizeof(c->q));
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

static void oauthCtxFree(OauthCtx *c){ ssoArenaFree(&c->a); }

/* The one value of a parameter, NULL when absent; *pbDup on repeats
** (RFC 6749 §3.1: parameters MUST NOT be sent more than once). */
static const char *oauthParam(const SsoForm *pF, const char *zName,
                              int *pbDup){
  SsoStr v;
  int rc = ssoFormGet(pF, zName, &v);
  if( rc==SSOPROXY_CONSTRAINT ){ *pbDup = 1; return 0; }
  return rc==SSOPROXY_OK ? v.z : 0;
}

/* Headers every answer of these flows carries. */
static int oauthCommonHeaders(OauthCtx *c){
  int rc = ssoServerAddHeader(c->req, "Cache-Control", "no-store");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(c->req, "Pragma", "no-cache");
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(c->req, "Vary", "Origin");
  if( rc==SSOPROXY_OK && c->bCors ){
    char *z = ssoArenaStrndup(&c->a, c->origin.z, c->origin.n);
    if( z==0 ) return SSOPROXY_NOMEM;
    rc = ssoServerAddHeader(c->req, "Access-Control-Allow-Origin", z);
  }
  return rc;
}

/* A JSON answer with no-store and CORS. b is freed. */
static int oauthSendJson(OauthCtx *c, int iStatus, SsoBuf *b){
  int rc = b->rc;
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(c->req, iStatus);
  if( rc==SSOPROXY_OK ) rc = oauthCommonHeaders(c);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(c->req, "Content-Type", "application/json");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(c->req, b->z ? b->z : "", b->n);
  ssoBufFree(b);
  return rc;
}

/* RFC 6749 §5.2 error: {"error","error_description"}. */
static int oauthError(OauthCtx *c, int iStatus, const char *zErr,
                      const char *zDesc){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "error", zErr);
  ssoJsonWriteKeyString(&w, "error_description", zDesc);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, iStatus, &b);
}

/* OpenRouter's error shape: {"error":{"code":N,"message":...}}. */
static int oauthOrError(OauthCtx *c, int iStatus, const char *zMsg){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "error");
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyInt64(&w, "code", iStatus);
  ssoJsonWriteKeyString(&w, "message", zMsg);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, iStatus, &b);
}

/* The public base URL: PROXY_BASE_URL, else http:// and the Host header
** (only host characters; the answer goes back to whoever sent it). */
static const char *oauthBase(OauthCtx *c){
  SsoStr h;
  size_t i;
  SsoBuf b;
  if( c->p->zBaseUrl ) return c->p->zBaseUrl;
  if( !ssoServerHeader(c->req, "Host", &h) || h.n==0 || h.n>255 ){
    return "http://127.0.0.1";
  }
  for(i=0; i<h.n; i++){
    char ch = h.z[i];
    if( !((ch>='a' && ch<='z') || (ch>='A' && ch<='Z') || (ch>='0' && ch<='9')
          || ch=='.' || ch==':' || ch=='-' || ch=='[' || ch==']') ){
      return "http://127.0.0.1";
    }
  }
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "http://");
  ssoBufAppend(&b, h.z, h.n);
  if( b.rc ){ ssoBufFree(&b); return "http://127.0.0.1"; }
  {
    char *z = ssoArenaStrndup(&c->a, b.z, b.n);
    ssoBufFree(&b);
    return z ? z : "http://127.0.0.1";
  }
}

/* SHA-256 hex of z, in the arena (a grant's name). */
static const char *oauthHash(OauthCtx *c, const char *z, size_t n){
  char *zHex = ssoArenaAlloc(&c->a, SSO_KEY_HEX);
  if( zHex ) ssoAuthzKeyHash(z, n, zHex);
  return zHex;
}

/* The browser's session: OK, NOTFOUND, or a store failure. */
static int oauthSession(OauthCtx *c, SsoSession *pSess){
  if( c->p->pSessions==0 ) return SSOPROXY_NOTFOUND;
  return ssoSessionGet(c->p->pSessions, c->pStore, c->req->aHdr,
                       c->req->nHdr, c->tNow, &c->a, pSess);
}

/* Send the browser to /login, which brings it back to this very URL. */
static int oauthToLogin(OauthCtx *c){
  SsoBuf b;
  int rc;
  SsoStr t = c->req->target;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "/login?rd=");
  if( t.n==0 || t.z[0]!='/' || !ssoUrlIsLocalPath(t.z, t.n) ){
    t = c->req->path;
  }
  ssoUrlEncode(&b, t.z, t.n, 0);
  rc = b.rc ? b.rc : ssoPageRedirect(c->req, 302, b.z);
  ssoBufFree(&b);
  return rc;
}

static int oauthInternal(OauthCtx *c, int rc, const char *zWhat){
  ssoLog(c->p->pLog, SSO_LOG_ERROR, zWhat, "error",
         rc==SSOPROXY_NOMEM ? "out of memory" : ssoStoreErrmsg(c->pStore),
         "request", c->req->zId, (char*)0);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

/* What a new key is for. */
typedef struct OauthMint OauthMint;
struct OauthMint {
  const char *zUserId;
  const char *zVia;         /* issued_via */
  const char *zFlow;        /* "sso_key_generate", "openrouter", ... */
  const char *zClient;      /* Client label, NULL: none */
  const char *zRedirect;    /* Where it went, NULL: back-channel */
  const char *zModels;      /* NULL: all */
  long long tExpires;       /* 0: now + the key lifetime */
};

/*
** Insert a key for pM (inside the caller's transaction), audited as the
** user. *pNew holds the plaintext.
*/
static int oauthMint(OauthCtx *c, const OauthMint *pM, SsoApiNewKey *pNew,
                     SsoKey *pKey){
  SsoBuf b;
  SsoJsonWriter w;
  int rc;
  memset(pKey, 0, sizeof(*pKey));
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "flow", pM->zFlow);
  if( pM->zClient ) ssoJsonWriteKeyString(&w, "client", pM->zClient);
  if( pM->zRedirect ) ssoJsonWriteKeyString(&w, "redirect_uri", pM->zRedirect);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc ){ ssoBufFree(&b); return rc; }
  pKey->zUserId = pM->zUserId;
  pKey->zModels = pM->zModels;
  pKey->tExpires = pM->tExpires ? pM->tExpires : c->tNow + c->p->msKeyTtl;
  pKey->zIssuedVia = pM->zVia;
  pKey->zMetadata = b.z;
  rc = ssoApiKeyInsert(c->pStore, c->pRng, pM->zUserId, pKey, pNew);
  ssoBufFree(&b);
  pKey->zMetadata = 0;
  return rc;
}

/* The user still exists and is enabled: 1, else 0 (or -rc on failure). */
static int oauthUserOk(OauthCtx *c, const char *zUserId){
  SsoUser u;
  int rc = ssoStoreUserGet(c->pStore, zUserId, &c->a, &u);
  if( rc==SSOPROXY_NOTFOUND ) return 0;
  if( rc ) return -rc;
  return !u.bDisabled;
}

/* Seconds from now to tExpires, at least 1. */
static long long oauthExpiresIn(OauthCtx *c, long long tExpires){
  long long s = (tExpires - c->tNow + 999)/1000;
  return s<1 ? 1 : s;
}

/* {"access_token","token_type","expires_in"} */
static int oauthTokenJson(OauthCtx *c, const SsoApiNewKey *pNew,
                          long long tExpires, const char *zUserId){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "access_token", pNew->zKey);
  ssoJsonWriteKeyString(&w, "token_type", "Bearer");
  ssoJsonWriteKeyInt64(&w, "expires_in", oauthExpiresIn(c, tExpires));
  if( zUserId ) ssoJsonWriteKeyString(&w, "user_id", zUserId);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteFinish(&w);
  return oauthSendJson(c, 200, &b);
}

/* ------------------------------------------------------------------ */
/* Grants                                                              */
/* ------------------------------------------------------------------ */

/* Expired grants are kept a while so a late reuse of a code is still
** recognised (and its key revoked); then they go. */
static void oauthPurge(OauthCtx *c){
  ssoStoreGrantPurge(c->pStore, c->tNow - SSO_OAUTH_GRANT_KEEP_MS, 0);
}

/* Store a grant named by the secret zSecret. */
static int oauthGrantPut(OauthCtx *c, const char *zKind, const char *zSecret,
                         const char *zData, long long msTtl){
  SsoGrant g;
  memset(&g, 0, sizeof(g));
  g.zHash = oauthHash(c, zSecret, strlen(zSecret));
  if( g.zHash==0 ) return SSOPROXY_NOMEM;
  g.zKind = zKind;
  g.zData = zData;
  g.tCreated = c->tNow;
  g.tExpires = c->tNow + msTtl;
  return ssoStoreGrantInsert(c->pStore, &g);
}

/* A grant's payload parsed; *ppDoc freed by the caller. */
static const SsoJson *oauthGrantData(const SsoGrant *g, SsoJsonDoc **ppDoc){
  if( ssoJsonParse(g->zData, strlen(g->zData), 0, ppDoc, 0) ) return 0;
  return ssoJsonRoot(*ppDoc);
}

static const char *oauthJs(const SsoJson *pObj, const char *zKey){
  return ssoJsonCStr(ssoJsonGet(pObj, zKey));
}

static long long oauthJi(const SsoJson *pObj, const char *zKey){
  long long i = 0;
  ssoJsonInt64(ssoJsonGet(pObj, zKey), &i);
  return i;
}

/* ------------------------------------------------------------------ */
/* Consent                                                             */
/* ------------------------------------------------------------------ */

/* What a consent grant remembers until the user answers. */
typedef struct OauthPending OauthPending;
struct OauthPending {
  const char *zFlow;        /* "sso_key_generate", "openrouter", "authorize" */
  const char *zRedirect;
  const char *zClient;      /* NULL: none */
  const char *zChallenge;   /* NULL: none */
  const char *zState;       /* RFC 6749 state to echo; NULL: none */
};

static void oauthWriteOpt(SsoJsonWriter *w, const char *zKey, const char *z){
  if( z ) ssoJsonWriteKeyString(w, zKey, z);
}

/* Store the pending consent and show the page. */
static int oauthConsentPage(OauthCtx *c, const SsoSession *pSess,
                            const OauthPending *pP){
  char zId[SSO_OAUTH_SECRET_LEN+1];
  SsoBuf d, h;
  SsoJsonWriter w;
  const char *zWho = pSess->user.zEmail ? pSess->user.zEmail
                                        : pSess->user.zId;
  int rc = ssoOauthSecretNew(c->pRng, zId);
  if( rc ) return rc;
  ssoBufInit(&d, 0);
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "flow", pP->zFlow);
  ssoJsonWriteKeyString(&w, "user", pSess->user.zId);
  ssoJsonWriteKeyString(&w, "session", pSess->zHash);
  ssoJsonWriteKeyString(&w, "redirect", pP->zRedirect);
  oauthWriteOpt(&w, "client", pP->zClient);
  oauthWriteOpt(&w, "challenge", pP->zChallenge);
  oauthWriteOpt(&w, "state", pP->zState);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    oauthPurge(c);
    rc = oauthGrantPut(c, "oauth_consent", zId, d.z, c->p->msStateTtl);
  }
  ssoBufFree(&d);
  if( rc ) return oauthInternal(c, rc, "cannot store a consent");
  ssoBufInit(&h, 0);
  ssoBufAppendStr(&h, "<p>");
  if( pP->zClient ){
    ssoBufAppendStr(&h, "The application <b>");
    ssoPageEscape(&h, pP->zClient, strlen(pP->zClient));
    ssoBufAppendStr(&h, "</b> asks");
  }else{
    ssoBufAppendStr(&h, "An application asks");
  }
  ssoBufAppendStr(&h, " for an API key of your account <b>");
  ssoPageEscape(&h, zWho, strlen(zWho));
  ssoBufAppendStr(&h, "</b>.</p>\n<p>If you approve, ");
  ssoBufAppendStr(&h, strcmp(pP->zFlow, "sso_key_generate")==0
                  ? "the key is sent to" : "a one-time code for it is sent to");
  ssoBufAppendStr(&h, ":</p>\n<p><code id=\"destination\">");
  ssoPageEscape(&h, pP->zRedirect, strlen(pP->zRedirect));
  ssoBufAppendStr(&h, "</code></p>\n<p>Approve only if you started this "
                  "from that application just now. The key can do what "
                  "you can do until it expires or you revoke it.</p>\n"
                  "<form method=\"post\" action=\"/oauth/consent\">\n"
                  "<input type=\"hidden\" name=\"consent\" value=\"");
  ssoBufAppendStr(&h, zId);
  ssoBufAppendStr(&h, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
  ssoPageEscape(&h, pSess->zCsrf, strlen(pSess->zCsrf));
  ssoBufAppendStr(&h, "\">\n<button type=\"submit\" name=\"action\" "
                  "value=\"approve\" id=\"approve\">Approve</button>\n"
                  "<button type=\"submit\" name=\"action\" value=\"deny\" "
                  "id=\"deny\">Deny</button>\n</form>\n");
  rc = h.rc ? h.rc : ssoPageRespond(c->req, 200,
                                      "Give an application an API key?", h.z);
  ssoBufFree(&h);
  return rc;
}

/* The form body of a POST, when it is one: OK, or 415/400 answered
** (then *pbDone). */
static int oauthReadForm(OauthCtx *c, int bJsonError, int *pbDone){
  SsoStr ct;
  if( !ssoServerHeader(c->req, "Content-Type", &ct)
   || ct.n<33 || strncasecmp(ct.z, "application/x-www-form-urlencoded", 33)
   || (ct.n>33 && ct.z[33]!=';' && ct.z[33]!=' ') ){
    *pbDone = 1;
    return bJsonError ? oauthError(c, 415, "invalid_request",
                                   "the body must be "
                                   "application/x-www-form-urlencoded")
         : ssoPageError(c->req, 415, "Unsupported form", "This page only "
                        "accepts its own form.");
  }
  if( ssoFormParse(&c->a, c->req->pBody, c->req->nBody, &c->f, 0)
   || ssoFormFirstDuplicate(&c->f)>=0 ){
    *pbDone = 1;
    return bJsonError ? oauthError(c, 400, "invalid_request",
                                   "malformed or repeated form parameters")
         : ssoPageError(c->req, 400, "Bad form", "The form was malformed.");
  }
  return SSOPROXY_OK;
}

/* An answer the consent POST builds inside its transaction. */
typedef struct OauthAnswer OauthAnswer;
struct OauthAnswer {
  int iStatus;              /* 302, or an error page's status */
  const char *zTitle, *zMsg;/* Error page */
  SsoBuf loc;               /* 302 Location */
};

/* Approval: do what the flow does, building the Location. */
static int oauthApprove(OauthCtx *c, const SsoJson *pD, OauthAnswer *pA){
  const char *zFlow = oauthJs(pD, "flow");
  const char *zRedirect = oauthJs(pD, "redirect");
  const char *zUser = oauthJs(pD, "user");
  const char *zClient = oauthJs(pD, "client");
  int rc;
  if( zFlow==0 || zRedirect==0 || zUser==0 ) return SSOPROXY_PARSE;
  if( strcmp(zFlow, "sso_key_generate")==0 ){
    OauthMint m;
    SsoApiNewKey nk;
    SsoKey k;
    char zIn[24];
    const char *azPair[6];
    memset(&m, 0, sizeof(m));
    m.zUserId = zUser;
    m.zVia = "ui";
    m.zFlow = zFlow;
    m.zClient = zClient;
    m.zRedirect = zRedirect;
    rc = oauthMint(c, &m, &nk, &k);
    if( rc ) return rc;
    snprintf(zIn, sizeof(zIn), "%lld", oauthExpiresIn(c, k.tExpires));
    azPair[0] = "access_token"; azPair[1] = nk.zKey;
    azPair[2] = "token_type";   azPair[3] = "Bearer";
    azPair[4] = "expires_in";   azPair[5] = zIn;
    rc = ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                           3, 0);
    memset(nk.zKey, 0, sizeof(nk.zKey));
  }else{
    char zCode[SSO_OAUTH_SECRET_LEN+1];
    const char *azPair[6];
    int nPair = 1;
    rc = ssoOauthSecretNew(c->pRng, zCode);
    if( rc ) return rc;
    {
      /* The code's payload is the consent's, which already names the
      ** user, flow, client, redirect and challenge. */
      SsoBuf d;
      ssoBufInit(&d, 0);
      ssoJsonToBuf(pD, &d);
      rc = d.rc ? d.rc : oauthGrantPut(c, "oauth_code", zCode, d.z,
                                       c->p->msCodeTtl);
      ssoBufFree(&d);
      if( rc ) return rc;
    }
    azPair[0] = "code"; azPair[1] = zCode;
    if( strcmp(zFlow, "authorize")==0 ){
      azPair[2] = "state"; azPair[3] = oauthJs(pD, "state");
      azPair[4] = "iss";   azPair[5] = oauthBase(c);
      nPair = 3;
    }
    rc = ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                           nPair, 0);
  }
  pA->iStatus = 302;
  return rc;
}

/* Denial: the authorize flow tells the client (RFC 6749 §4.1.2.1); the
** others just say so, sending nothing anywhere. */
static int oauthDeny(OauthCtx *c, const SsoJson *pD, OauthAnswer *pA){
  const char *zFlow = oauthJs(pD, "flow");
  const char *zRedirect = oauthJs(pD, "redirect");
  if( zFlow && zRedirect && strcmp(zFlow, "authorize")==0 ){
    const char *azPair[] = { "error", "access_denied",
                             "state", oauthJs(pD, "state"),
                             "iss", oauthBase(c) };
    pA->iStatus = 302;
    return ssoUrlAppendQuery(&pA->loc, zRedirect, strlen(zRedirect), azPair,
                             3, 0);
  }
  pA->iStatus = 200;
  pA->zTitle = "Access denied";
  pA->zMsg = "You denied the request. Nothing was sent to the application.";
  return SSOPROXY_OK;
}

/*
** The common start of a signed-in form POST (consent, device): the form
** read, the session found and its CSRF token checked. SSOPROXY_OK with
** *pSess; otherwise *pbDone is set when the request has been answered
** (zAgain tells the user what to do next) and the result is the
** handler's.
*/
static int oauthFormPost(OauthCtx *c, SsoSession *pSess, const char *zAgain,
                         int *pbDone){
  const char *zCsrf;
  int rc, bDup = 0;
  rc = oauthReadForm(c, 0, pbDone);
  if( *pbDone ) return rc;
  rc = oauthSession(c, pSess);
  if( rc==SSOPROXY_NOTFOUND ){
    *pbDone = 1;
    return ssoPageError(c->req, 403, "Not signed in", zAgain);
  }
  if( rc ){
    *pbDone = 1;
    return oauthInternal(c, rc, "cannot read a session");
  }
  zCsrf = oauthParam(&c->f, "csrf", &bDup);
  if( zCsrf==0 || !ssoSessionCsrfOk(pSess, zCsrf, strlen(zCsrf)) ){
    *pbDone = 1;
    return ssoPageError(c->req, 403, "Request refused", "The form's security "
                        "token is missing or wrong. Start again from the "
                        "application.");
  }
  return SSOPROXY_OK;
}

/* POST /oauth/consent: consent, csrf, action=approve|deny. */
static int oauthConsentPost(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD = 0;
  OauthAnswer ans;
  const char *zId, *zAction;
  int rc, bDone = 0, bDup = 0, bTx = 0;
  memset(&ans, 0, sizeof(ans));
  ssoBufInit(&ans.loc, 0);
  oauthCtxInit(&c, req, pArg);
  rc = oauthFormPost(&c, &sess, "Your session has ended. Start again from "
                     "the application.", &bDone);
  if( bDone ) goto end;
  zId = oauthParam(&c.f, "consent", &bDup);
  zAction = oauthParam(&c.f, "action", &bDup);
  if( zId==0 || zAction==0 || (strcmp(zAction, "approve")!=0
                               && strcmp(zAction, "deny")!=0) ){
    rc = ssoPageError(req, 400, "Bad request", "The form is incomplete.");
    goto end;
  }
  rc = ssoStoreBegin(c.pStore);
  if( rc ){ oauthInternal(&c, rc, "cannot begin"); goto end; }
  bTx = 1;
  rc = ssoStoreGrantTake(c.pStore, oauthHash(&c, zId, strlen(zId)),
                         "oauth_consent", &c.a, &g);
  if( rc==SSOPROXY_NOTFOUND || (rc==SSOPROXY_OK && (g.nUse>1
                                || g.tExpires<c.tNow)) ){
    ans.iStatus = 400;
    ans.zTitle = "Request expired";
    ans.zMsg = "This approval request is unknown, was already answered, or "
               "has expired. Start again from the application.";
    rc = SSOPROXY_OK;
    goto answer;
  }
  if( rc ) goto fail;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto fail; }
  if( oauthJs(pD, "session")==0 || oauthJs(pD, "user")==0
   || strcmp(oauthJs(pD, "session"), sess.zHash)!=0
   || strcmp(oauthJs(pD, "user"), sess.user.zId)!=0 ){
    ans.iStatus = 403;
    ans.zTitle = "Request refused";
    ans.zMsg = "This approval request belongs to another browser session.";
    goto answer;
  }
  rc = strcmp(zAction, "approve")==0 ? oauthApprove(&c, pD, &ans)
                                     : oauthDeny(&c, pD, &ans);
  if( rc ) goto fail;
answer:
  rc = ssoStoreCommit(c.pStore);
  bTx = 0;
  if( rc ) goto fail;
  if( ans.iStatus==302 ){
    rc = ssoPageRedirect(req, 302, ans.loc.z);
    ssoLog(c.p->pLog, SSO_LOG_INFO, "oauth consent approved or denied",
           "user", sess.user.zId, "flow", oauthJs(pD, "flow"),
           "action", zAction, (char*)0);
  }else{
    rc = ssoPageError(req, ans.iStatus, ans.zTitle, ans.zMsg);
  }
  goto end;
fail:
  oauthInternal(&c, rc, "consent failed");
end:
  if( bTx ) ssoStoreRollback(c.pStore);
  /* The Location may hold a key: wipe it. */
  if( ans.loc.z ) memset(ans.loc.z, 0, ans.loc.n);
  ssoBufFree(&ans.loc);
  ssoJsonFree(pDoc);
  oauthCtxFree(&c);
  return rc;
}

/* Check a redirect_uri / callback_url for a browser flow: 1 when fine,
** else 0 after answering 400 (never redirecting). */
static int oauthDestOk(OauthCtx *c, const char *z, int bJson, int *prc){
  char zWhy[256];
  if( ssoOauthRedirectCheck(c->p->zSchemes, c->p->zUris, z, strlen(z), zWhy,
                            sizeof(zWhy)) ){
    return 1;
  }
  *prc = bJson ? oauthError(c, 400, "invalid_request", zWhy)
       : ssoPageError(c->req, 400, "Destination refused", zWhy);
  return 0;
}

/* ------------------------------------------------------------------ */
/* 1. The seed PR: GET /sso/key/generate?response_type=oauth_token      */
/* ------------------------------------------------------------------ */

/*
** The shortcut: a valid user's key mints another for the same user,
** never more: the same models, and no later expiry than its own.
*/
static int oauthShortcut(OauthCtx *c){
  SsoCaller who;
  SsoAuthzErr err;
  OauthMint m;
  SsoApiNewKey nk;
  SsoKey k;
  long long tMax;
  int rc;
  memset(&err, 0, sizeof(err));
  if( !c->p->bKeyShortcut ){
    return oauthError(c, 403, "access_denied", "minting a key with an "
                      "existing key is switched off "
                      "(SSOPROXY_OAUTH_KEY_SHORTCUT); sign in instead");
  }
  rc = ssoAuthzAuthenticate(&c->p->authz, c->pStore, c->req->method,
                            c->req->aHdr, c->req->nHdr, c->tNow, &c->a, &who,
                            &err);
  if( rc==SSOPROXY_ERROR || (rc==SSOPROXY_OK && (who.eKind!=SSO_CALLER_KEY
                                                || who.zUserId==0)) ){
    return oauthError(c, 401, "invalid_token", rc==SSOPROXY_ERROR
                      ? err.zMsg : "only a user's API key can mint a key");
  }
  if( rc ) return oauthInternal(c, rc, "cannot authenticate");
  tMax = c->tNow + c->p->msKeyTtl;
  if( who.key.tExpires && who.key.tExpires<tMax ) tMax = who.key.tExpires;
  memset(&m, 0, sizeof(m));
  m.zUserId = who.zUserId;
  m.zVia = "ui";
  m.zFlow = "key_shortcut";
  m.zClient = who.key.zDisplay;
  m.zModels = who.key.zModels;
  m.tExpires = tMax;
  rc = ssoStoreBegin(c->pStore);
  if( rc==SSOPROXY_OK ) rc = oauthMint(c, &m, &nk, &k);
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c->pStore);
  if( rc ){
    ssoStoreRollback(c->pStore);
    return oauthInternal(c, rc, "cannot mint a key");
  }
  rc = oauthTokenJson(c, &nk, k.tExpires, 0);
  memset(nk.zKey, 0, sizeof(nk.zKey));
  return rc;
}

static int ssoOauthKeyFlow(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  const char *zType, *zRedirect;
  SsoStr auth;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = oauthError(&c, 400, "invalid_request", "malformed query string");
    goto end;
  }
  zType = oauthParam(&c.q, "response_type", &bDup);
  zRedirect = oauthParam(&c.q, "redirect_uri", &bDup);
  if( bDup ){
    rc = oauthError(&c, 400, "invalid_request", "a parameter was repeated");
    goto end;
  }
  if( zType==0 || strcmp(zType, "oauth_token")!=0 ){
    rc = oauthError(&c, 400, "unsupported_response_type",
                    "Unsupported response_type: only oauth_token is "
                    "supported here (OAuth clients use /oauth/authorize)");
    goto end;
  }
  if( zRedirect && !oauthDestOk(&c, zRedirect, 1, &rc) ) goto end;
  if( ssoServerHeader(req, "Authorization", &auth) ){
    rc = oauthShortcut(&c);
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  if( zRedirect ){
    OauthPending pend;
    memset(&pend, 0, sizeof(pend));
    pend.zFlow = "sso_key_generate";
    pend.zRedirect = zRedirect;
    rc = oauthConsentPage(&c, &sess, &pend);
  }else{
    /* The PR's JSON answer, shown to the signed-in user who asked for it
    ** in their own browser (SameSite=Lax keeps other sites' requests
    ** cookie-less, and CORS never allows credentials). */
    OauthMint m;
    SsoApiNewKey nk;
    SsoKey k;
    memset(&m, 0, sizeof(m));
    m.zUserId = sess.user.zId;
    m.zVia = "ui";
    m.zFlow = "sso_key_generate";
    rc = ssoStoreBegin(c.pStore);
    if( rc==SSOPROXY_OK ) rc = oauthMint(&c, &m, &nk, &k);
    if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c.pStore);
    if( rc ){
      ssoStoreRollback(c.pStore);
      oauthInternal(&c, rc, "cannot mint a key");
      goto end;
    }
    rc = oauthTokenJson(&c, &nk, k.tExpires, 0);
    memset(nk.zKey, 0, sizeof(nk.zKey));
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /sso/key/generate when no SSO is configured: the key flow, or the
** sign-in page. */
static int oauthKeyGenerate(SsoServerReq *req, void *pArg){
  SsoArena a;
  SsoForm q;
  int bFlow;
  ssoArenaInit(&a, 0);
  bFlow = ssoFormParse(&a, req->query.z, req->query.n, &q, 0)!=SSOPROXY_OK
       || ssoFormCount(&q, "response_type")>0;
  ssoArenaFree(&a);
  if( bFlow ) return ssoOauthKeyFlow(req, pArg);
  return ssoPageRedirect(req, 302, "/login?rd=%2Fui");
}

/* CORS preflight (OPTIONS) of the endpoints programs call. */
static int oauthPreflight(SsoServerReq *req, void *pArg){
  OauthCtx c;
  int rc;
  oauthCtxInit(&c, req, pArg);
  rc = ssoServerStatus(req, 204);
  if( rc==SSOPROXY_OK ) rc = ssoServerAddHeader(req, "Vary", "Origin");
  if( rc==SSOPROXY_OK && c.bCors ){
    char *z = ssoArenaStrndup(&c.a, c.origin.z, c.origin.n);
    rc = z ? ssoServerAddHeader(req, "Access-Control-Allow-Origin", z)
           : SSOPROXY_NOMEM;
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Allow-Methods",
                              "GET, POST, OPTIONS");
    }
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Allow-Headers",
                              "Authorization, Content-Type");
    }
    if( rc==SSOPROXY_OK ){
      rc = ssoServerAddHeader(req, "Access-Control-Max-Age", "600");
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(req, "", 0);
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* 2 and 3. Authorization requests: GET /auth, GET /oauth/authorize     */
/* ------------------------------------------------------------------ */

/* A client_id: a short label of safe characters (public clients). */
static int oauthClientIdOk(const char *z){
  size_t i, n = strlen(z);
  if( n==0 || n>SSO_OAUTH_MAX_CLIENT_ID ) return 0;
  for(i=0; i<n; i++){
    char ch = z[i];
    if( !oauthIsB64Url(ch) && ch!='.' && ch!=':' ) return 0;
  }
  return 1;
}

/* GET /auth?callback_url=&code_challenge=&code_challenge_method= */
static int oauthOpenRouterAuth(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  OauthPending pend;
  const char *zCb, *zCh, *zMethod;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  zCb = oauthParam(&c.q, "callback_url", &bDup);
  zCh = oauthParam(&c.q, "code_challenge", &bDup);
  zMethod = oauthParam(&c.q, "code_challenge_method", &bDup);
  if( bDup || zCb==0 ){
    rc = ssoPageError(req, 400, "Bad request", bDup ? "A parameter was "
                      "repeated." : "callback_url is required.");
    goto end;
  }
  if( !oauthDestOk(&c, zCb, 0, &rc) ) goto end;
  if( zCh ){
    if( zMethod==0 || strcmp(zMethod, "S256")!=0 ){
      rc = ssoPageError(req, 400, "Bad request", "code_challenge_method "
                        "must be S256 (plain is not accepted).");
      goto end;
    }
    if( !ssoOauthChallengeOk(zCh, strlen(zCh)) ){
      rc = ssoPageError(req, 400, "Bad request", "code_challenge must be 43 "
                        "base64url characters (S256).");
      goto end;
    }
  }else if( zMethod ){
    rc = ssoPageError(req, 400, "Bad request", "code_challenge_method "
                      "without code_challenge.");
    goto end;
  }else if( !c.p->bCodeOnly ){
    rc = ssoPageError(req, 400, "Bad request", "code_challenge is required "
                      "(SSOPROXY_OAUTH_ALLOW_CODE_ONLY is off).");
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  memset(&pend, 0, sizeof(pend));
  pend.zFlow = "openrouter";
  pend.zRedirect = zCb;
  pend.zChallenge = zCh;
  rc = oauthConsentPage(&c, &sess, &pend);
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /oauth/authorize (RFC 6749 §4.1.1 with PKCE, RFC 8252) */
static int oauthAuthorize(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  OauthPending pend;
  const char *zType, *zClient, *zRedirect, *zCh, *zMethod, *zState;
  const char *zErr = 0, *zDesc = 0;
  int rc, bDup = 0;
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  zType = oauthParam(&c.q, "response_type", &bDup);
  zClient = oauthParam(&c.q, "client_id", &bDup);
  zRedirect = oauthParam(&c.q, "redirect_uri", &bDup);
  zCh = oauthParam(&c.q, "code_challenge", &bDup);
  zMethod = oauthParam(&c.q, "code_challenge_method", &bDup);
  zState = oauthParam(&c.q, "state", &bDup);
  /* Until the client and its redirect URI are known good, errors are
  ** shown here and never sent anywhere (RFC 6749 §4.1.2.1). */
  if( bDup ){
    rc = ssoPageError(req, 400, "Bad request", "A parameter was repeated.");
    goto end;
  }
  if( zClient==0 || !oauthClientIdOk(zClient) ){
    rc = ssoPageError(req, 400, "Bad request", "client_id is missing or "
                      "malformed.");
    goto end;
  }
  if( zRedirect==0 ){
    rc = ssoPageError(req, 400, "Bad request", "redirect_uri is required.");
    goto end;
  }
  if( !oauthDestOk(&c, zRedirect, 0, &rc) ) goto end;
  if( zType==0 || strcmp(zType, "code")!=0 ){
    zErr = "unsupported_response_type";
    zDesc = "only response_type=code is supported";
  }else if( zCh==0 || zMethod==0 || strcmp(zMethod, "S256")!=0
         || !ssoOauthChallengeOk(zCh, strlen(zCh)) ){
    zErr = "invalid_request";
    zDesc = "PKCE is required: code_challenge (43 base64url characters) "
            "with code_challenge_method=S256";
  }else if( zState && strlen(zState)>SSO_OAUTH_MAX_STATE ){
    zErr = "invalid_request";
    zDesc = "state is too long";
  }
  if( zErr ){
    SsoBuf b;
    const char *azPair[] = { "error", zErr, "error_description", zDesc,
                             "state", zState, "iss", oauthBase(&c) };
    ssoBufInit(&b, 0);
    ssoUrlAppendQuery(&b, zRedirect, strlen(zRedirect), azPair, 4, 0);
    rc = b.rc ? b.rc : ssoPageRedirect(req, 302, b.z);
    ssoBufFree(&b);
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  memset(&pend, 0, sizeof(pend));
  pend.zFlow = "authorize";
  pend.zRedirect = zRedirect;
  pend.zClient = zClient;
  pend.zChallenge = zCh;
  pend.zState = zState;
  rc = oauthConsentPage(&c, &sess, &pend);
end:
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Code redemption: POST /api/v1/auth/keys, /oauth/token                */
/* ------------------------------------------------------------------ */

/* Why a redemption failed. */
#define OAUTH_R_OK        0
#define OAUTH_R_BADCODE   1   /* Unknown, expired, or other flow */
#define OAUTH_R_REUSED    2   /* Second use: its key was revoked */
#define OAUTH_R_VERIFIER  3   /* Wrong verifier */
#define OAUTH_R_NOVERIF   4   /* Challenge sent, no verifier */
#define OAUTH_R_DOWNGRADE 5   /* Verifier, but no challenge was sent */
#define OAUTH_R_NOPKCE    6   /* Code-only exchanges are switched off */
#define OAUTH_R_MISMATCH  7   /* client_id or redirect_uri differ */
#define OAUTH_R_USER      8   /* The user is gone or disabled */

typedef struct OauthRedeem OauthRedeem;
struct OauthRedeem {
  const char *zFlow;        /* Which flow's codes are accepted here */
  const char *zCode;
  const char *zVerifier;    /* NULL: none */
  const char *zClient;      /* /oauth/token: must match; else NULL */
  const char *zRedirect;    /* /oauth/token: must match; else NULL */
  int eWhy;                 /* OAUTH_R_* */
  SsoApiNewKey nk;
  SsoKey key;
  const char *zUserId;
};

/* A second use of a code: revoke what the first produced. */
static int oauthRevokeFromCode(OauthCtx *c, const SsoJson *pD){
  const char *zKeyHash = oauthJs(pD, "key");
  SsoKey k;
  int rc;
  if( zKeyHash==0 ) return SSOPROXY_OK;
  rc = ssoStoreKeyGet(c->pStore, zKeyHash, &c->a, &k);
  if( rc==SSOPROXY_NOTFOUND ) return SSOPROXY_OK;
  if( rc ) return rc;
  ssoLog(c->p->pLog, SSO_LOG_WARN, "authorization code used twice: its key "
         "is revoked", "key", k.zDisplay, "user", k.zUserId ? k.zUserId : "",
         (char*)0);
  return ssoApiKeyDrop(c->pStore, "oauth:code_reuse", &k);
}

/* Take the code and mint its key, all in one transaction. */
static int oauthRedeem(OauthCtx *c, OauthRedeem *r){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zCh, *zHash;
  OauthMint m;
  int rc, bUser;
  r->eWhy = OAUTH_R_BADCODE;
  zHash = oauthHash(c, r->zCode, strlen(r->zCode));
  if( zHash==0 ) return SSOPROXY_NOMEM;
  rc = ssoStoreBegin(c->pStore);
  if( rc ) return rc;
  rc = ssoStoreGrantTake(c->pStore, zHash, "oauth_code", &c->a, &g);
  if( rc==SSOPROXY_NOTFOUND ){ rc = SSOPROXY_OK; goto done; }
  if( rc ) goto end;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto end; }
  if( g.nUse>1 ){
    r->eWhy = OAUTH_R_REUSED;
    rc = oauthRevokeFromCode(c, pD);
    goto done;
  }
  if( g.tExpires<c->tNow || oauthJs(pD, "flow")==0
   || strcmp(oauthJs(pD, "flow"), r->zFlow)!=0 ){
    goto done;
  }
  zCh = oauthJs(pD, "challenge");
  if( zCh ){
    char zGot[SSO_OAUTH_CHALLENGE_LEN+1];
    if( r->zVerifier==0 ){ r->eWhy = OAUTH_R_NOVERIF; goto done; }
    if( !ssoOauthVerifierOk(r->zVerifier, strlen(r->zVerifier)) ){
      r->eWhy = OAUTH_R_VERIFIER;
      goto done;
    }
    rc = ssoOauthS256(r->zVerifier, strlen(r->zVerifier), zGot);
    if( rc ) goto end;
    if( !ssoCtEqual(zGot, zCh, SSO_OAUTH_CHALLENGE_LEN)
     || strlen(zCh)!=SSO_OAUTH_CHALLENGE_LEN ){
      r->eWhy = OAUTH_R_VERIFIER;
      goto done;
    }
  }else if( r->zVerifier ){
    r->eWhy = OAUTH_R_DOWNGRADE;
    goto done;
  }else if( !c->p->bCodeOnly ){
    r->eWhy = OAUTH_R_NOPKCE;
    goto done;
  }
  if( (r->zClient && (oauthJs(pD, "client")==0
                      || strcmp(oauthJs(pD, "client"), r->zClient)!=0))
   || (r->zRedirect && strcmp(oauthJs(pD, "redirect"), r->zRedirect)!=0) ){
    r->eWhy = OAUTH_R_MISMATCH;
    goto done;
  }
  r->zUserId = oauthJs(pD, "user");
  bUser = r->zUserId ? oauthUserOk(c, r->zUserId) : 0;
  if( bUser<0 ){ rc = -bUser; goto end; }
  if( bUser==0 ){ r->eWhy = OAUTH_R_USER; goto done; }
  r->zUserId = ssoArenaStrndup(&c->a, r->zUserId, strlen(r->zUserId));
  if( r->zUserId==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  memset(&m, 0, sizeof(m));
  m.zUserId = r->zUserId;
  m.zFlow = r->zFlow;
  m.zClient = oauthJs(pD, "client");
  m.zRedirect = oauthJs(pD, "redirect");
  m.zVia = (m.zClient && strcmp(m.zClient, SSO_OAUTH_CLI_CLIENT)==0)
         ? "cli" : "oauth";
  rc = oauthMint(c, &m, &r->nk, &r->key);
  if( rc ) goto end;
  {
    /* Remember the key with the code, so a reuse can revoke it. */
    SsoBuf d;
    SsoJsonWriter w;
    size_t i, n = ssoJsonCount(pD);
    ssoBufInit(&d, 0);
    ssoJsonWriteInit(&w, &d);
    ssoJsonWriteBeginObject(&w);
    for(i=0; i<n; i++){
      size_t nKey;
      const char *zKey = ssoJsonKey(ssoJsonAt(pD, i), &nKey);
      ssoJsonWriteKeyN(&w, zKey, nKey);
      ssoJsonWriteValue(&w, ssoJsonAt(pD, i));
    }
    ssoJsonWriteKeyString(&w, "key", r->nk.zHash);
    ssoJsonWriteEndObject(&w);
    rc = ssoJsonWriteFinish(&w);
    if( rc==SSOPROXY_OK ){
      rc = ssoStoreGrantUpdate(c->pStore, zHash, "oauth_code", d.z);
    }
    ssoBufFree(&d);
    if( rc ) goto end;
  }
  r->eWhy = OAUTH_R_OK;
done:
  rc = ssoStoreCommit(c->pStore);
end:
  if( rc ) ssoStoreRollback(c->pStore);
  ssoJsonFree(pDoc);
  return rc;
}

static const char *oauthRedeemWhy(int eWhy){
  switch( eWhy ){
    case OAUTH_R_REUSED: return "the code was already used; the key issued "
                                "for it has been revoked";
    case OAUTH_R_VERIFIER: return "code_verifier does not match the "
                                  "code_challenge";
    case OAUTH_R_NOVERIF: return "code_verifier is required: a "
                                 "code_challenge was sent";
    case OAUTH_R_DOWNGRADE: return "code_verifier sent but no "
                                   "code_challenge was: refused (downgrade)";
    case OAUTH_R_NOPKCE: return "exchanges without PKCE are switched off";
    case OAUTH_R_MISMATCH: return "client_id or redirect_uri differ from the "
                                  "authorization request";
    case OAUTH_R_USER: return "the user no longer exists or is disabled";
    default: return "the code is unknown or has expired";
  }
}

/* POST /api/v1/auth/keys: {code, code_verifier?, code_challenge_method?} */
static int oauthOpenRouterKeys(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoStr ct;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot, *pV;
  OauthRedeem r;
  int rc;
  oauthCtxInit(&c, req, pArg);
  memset(&r, 0, sizeof(r));
  if( !ssoServerHeader(req, "Content-Type", &ct) || ct.n<16
   || strncasecmp(ct.z, "application/json", 16)!=0
   || (ct.n>16 && ct.z[16]!=';' && ct.z[16]!=' ') ){
    rc = oauthOrError(&c, 415, "Content-Type must be application/json");
    goto end;
  }
  if( ssoJsonParse(req->pBody ? req->pBody : "", req->nBody, SSO_JSON_NODUP,
                   &pDoc, 0)
   || ssoJsonType(pRoot = ssoJsonRoot(pDoc))!=SSO_JSON_OBJECT ){
    rc = oauthOrError(&c, 400, "the body must be a JSON object");
    goto end;
  }
  r.zCode = ssoJsonCStr(ssoJsonGet(pRoot, "code"));
  pV = ssoJsonGet(pRoot, "code_verifier");
  r.zVerifier = ssoJsonCStr(pV);
  if( r.zCode==0 || r.zCode[0]==0 || strlen(r.zCode)>SSO_OAUTH_MAX_CODE
   || (pV && ssoJsonType(pV)!=SSO_JSON_NULL && r.zVerifier==0) ){
    rc = oauthOrError(&c, 400, "code (a string) is required");
    goto end;
  }
  pV = ssoJsonGet(pRoot, "code_challenge_method");
  if( pV && ssoJsonType(pV)!=SSO_JSON_NULL
   && (ssoJsonCStr(pV)==0 || strcmp(ssoJsonCStr(pV), "S256")!=0) ){
    rc = oauthOrError(&c, 400, "code_challenge_method must be S256");
    goto end;
  }
  if( r.zVerifier && r.zVerifier[0]==0 ) r.zVerifier = 0;
  r.zFlow = "openrouter";
  rc = oauthRedeem(&c, &r);
  if( rc ){ oauthInternal(&c, rc, "cannot redeem a code"); goto end; }
  switch( r.eWhy ){
    case OAUTH_R_OK: {
      SsoBuf b;
      SsoJsonWriter w;
      ssoBufInit(&b, 0);
      ssoJsonWriteInit(&w, &b);
      ssoJsonWriteBeginObject(&w);
      ssoJsonWriteKeyString(&w, "key", r.nk.zKey);
      ssoJsonWriteKeyString(&w, "user_id", r.zUserId);
      ssoJsonWriteEndObject(&w);
      ssoJsonWriteFinish(&w);
      memset(r.nk.zKey, 0, sizeof(r.nk.zKey));
      rc = oauthSendJson(&c, 200, &b);
      break;
    }
    case OAUTH_R_NOVERIF: case OAUTH_R_DOWNGRADE:
      rc = oauthOrError(&c, 400, oauthRedeemWhy(r.eWhy));
      break;
    default:
      rc = oauthOrError(&c, 403, oauthRedeemWhy(r.eWhy));
      break;
  }
end:
  ssoJsonFree(pDoc);
  oauthCtxFree(&c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* 4. Device authorization grant (RFC 8628)                            */
/* ------------------------------------------------------------------ */

#define OAUTH_GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"

/* POST /oauth/device_authorization: client_id[, scope] */
static int oauthDeviceAuthorization(SsoServerReq *req, void *pArg){
  OauthCtx c;
  char zDevice[SSO_OAUTH_SECRET_LEN+1], zUser[10], zNorm[9];
  const char *zClient, *zBase;
  SsoBuf d, b;
  SsoJsonWriter w;
  int rc, bDone = 0, bDup = 0, nTry;
  oauthCtxInit(&c, req, pArg);
  ssoBufInit(&d, 0);
  ssoBufInit(&b, 0);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zClient = oauthParam(&c.f, "client_id", &bDup);
  if( zClient==0 || !oauthClientIdOk(zClient) ){
    rc = oauthError(&c, 400, "invalid_client", "client_id is missing or "
                    "malformed");
    goto end;
  }
  rc = ssoOauthSecretNew(c.pRng, zDevice);
  if( rc ) goto end;
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "client", zClient);
  ssoJsonWriteKeyString(&w, "status", "pending");
  ssoJsonWriteKeyInt64(&w, "interval", c.p->sInterval);
  ssoJsonWriteKeyInt64(&w, "polled", 0);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc ) goto end;
  oauthPurge(&c);
  rc = oauthGrantPut(&c, "device", zDevice, d.z, c.p->msDeviceTtl);
  /* A user code that collides with a live one is drawn again. */
  for(nTry=0; rc==SSOPROXY_OK; nTry++){
    ssoBufTruncate(&d, 0);
    rc = ssoOauthUserCodeNew(c.pRng, zUser);
    if( rc ) break;
    ssoOauthUserCodeNormalize(zUser, 9, zNorm);
    ssoBufPrintf(&d, "{\"device\":\"%s\"}", oauthHash(&c, zDevice,
                                                       strlen(zDevice)));
    rc = d.rc ? d.rc : oauthGrantPut(&c, "device_user", zNorm, d.z,
                                     c.p->msDeviceTtl);
    if( rc!=SSOPROXY_CONSTRAINT || nTry>=5 ) break;
    rc = SSOPROXY_OK;
  }
  if( rc ){ oauthInternal(&c, rc, "cannot store a device code"); goto end; }
  zBase = oauthBase(&c);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "device_code", zDevice);
  ssoJsonWriteKeyString(&w, "user_code", zUser);
  ssoBufTruncate(&d, 0);
  ssoBufPrintf(&d, "%s/device", zBase);
  ssoJsonWriteKeyString(&w, "verification_uri", ssoBufStr(&d));
  ssoBufPrintf(&d, "?user_code=%s", zUser);
  ssoJsonWriteKeyString(&w, "verification_uri_complete", ssoBufStr(&d));
  ssoJsonWriteKeyInt64(&w, "expires_in", c.p->msDeviceTtl/1000);
  ssoJsonWriteKeyInt64(&w, "interval", c.p->sInterval);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ){
    rc = oauthSendJson(&c, 200, &b);
    ssoBufInit(&b, 0);
  }
end:
  ssoBufFree(&d);
  ssoBufFree(&b);
  oauthCtxFree(&c);
  return rc;
}

/*
** Guessing user codes: at most SSO_OAUTH_DEVICE_TRIES wrong codes per
** session and SSO_OAUTH_DEVICE_TRIES_ALL in all per window. zWho names
** the counter. Returns 1 when over the limit.
*/
static int oauthTryOver(OauthCtx *c, const char *zWho, int nMax){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  int bOver = 0;
  const char *zHash = oauthHash(c, zWho, strlen(zWho));
  if( zHash==0 ) return 1;
  if( ssoStoreGrantGet(c->pStore, zHash, "device_try", &c->a, &g) ) return 0;
  if( g.tExpires<c->tNow ) return 0;
  pD = oauthGrantData(&g, &pDoc);
  if( pD && oauthJi(pD, "n")>=nMax ) bOver = 1;
  ssoJsonFree(pDoc);
  return bOver;
}

static void oauthTryNote(OauthCtx *c, const char *zWho){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  char zData[48];
  long long n = 0;
  const char *zHash = oauthHash(c, zWho, strlen(zWho));
  if( zHash==0 ) return;
  if( ssoStoreGrantGet(c->pStore, zHash, "device_try", &c->a, &g)==SSOPROXY_OK
   && g.tExpires>=c->tNow ){
    pD = oauthGrantData(&g, &pDoc);
    if( pD ) n = oauthJi(pD, "n");
    ssoJsonFree(pDoc);
    snprintf(zData, sizeof(zData), "{\"n\":%lld}", n+1);
    ssoStoreGrantUpdate(c->pStore, zHash, "device_try", zData);
    return;
  }
  ssoStoreGrantDelete(c->pStore, zHash, "device_try");
  memset(&g, 0, sizeof(g));
  g.zHash = zHash;
  g.zKind = "device_try";
  g.zData = "{\"n\":1}";
  g.tCreated = c->tNow;
  g.tExpires = c->tNow + SSO_OAUTH_DEVICE_TRY_MS;
  ssoStoreGrantInsert(c->pStore, &g);
}

/*
** Find the pending device request of a user code, counting wrong ones.
** Returns 1 with *pG (the device grant) and *ppDoc, 0 after answering.
*/
static int oauthDeviceFind(OauthCtx *c, const SsoSession *pSess,
                           const char *zCode, SsoGrant *pG,
                           SsoJsonDoc **ppDoc, int *prc){
  char zNorm[9], zWho[80];
  SsoGrant u;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zDev = 0;
  snprintf(zWho, sizeof(zWho), "s:%s", pSess->zHash);
  if( oauthTryOver(c, zWho, SSO_OAUTH_DEVICE_TRIES)
   || oauthTryOver(c, "global", SSO_OAUTH_DEVICE_TRIES_ALL) ){
    *prc = ssoPageError(c->req, 429, "Too many attempts", "Too many wrong "
                        "codes were entered. Wait a few minutes and try "
                        "again.");
    return 0;
  }
  if( ssoOauthUserCodeNormalize(zCode, strlen(zCode), zNorm)==SSOPROXY_OK
   && ssoStoreGrantGet(c->pStore, oauthHash(c, zNorm, 8), "device_user",
                       &c->a, &u)==SSOPROXY_OK
   && u.tExpires>=c->tNow && (pD = oauthGrantData(&u, &pDoc))!=0 ){
    zDev = oauthJs(pD, "device");
  }
  if( zDev && ssoStoreGrantGet(c->pStore, zDev, "device", &c->a,
                               pG)==SSOPROXY_OK
   && pG->tExpires>=c->tNow && oauthGrantData(pG, ppDoc)
   && oauthJs(ssoJsonRoot(*ppDoc), "status")
   && strcmp(oauthJs(ssoJsonRoot(*ppDoc), "status"), "pending")==0 ){
    ssoJsonFree(pDoc);
    return 1;
  }
  ssoJsonFree(pDoc);
  ssoJsonFree(*ppDoc);
  *ppDoc = 0;
  oauthTryNote(c, zWho);
  oauthTryNote(c, "global");
  *prc = ssoPageError(c->req, 400, "Unknown code", "This code is unknown, "
                      "expired or already used. Check the code your device "
                      "shows.");
  return 0;
}

static void oauthDeviceForm(SsoBuf *h, const SsoSession *pSess,
                            const char *zCode, const char *zClient){
  const char *zWho = pSess->user.zEmail ? pSess->user.zEmail
                                        : pSess->user.zId;
  if( zClient==0 ){
    ssoBufAppendStr(h, "<p>Enter the code your "
                    "device shows.</p>\n<form method=\"get\" "
                    "action=\"/device\">\n<input name=\"user_code\" "
                    "id=\"user_code\" autocomplete=\"off\" "
                    "placeholder=\"XXXX-XXXX\">\n<button type=\"submit\">"
                    "Continue</button>\n</form>\n");
    return;
  }
  ssoBufAppendStr(h, "<p>The device <b>");
  ssoPageEscape(h, zClient, strlen(zClient));
  ssoBufAppendStr(h, "</b> showing the code <code>");
  ssoPageEscape(h, zCode, strlen(zCode));
  ssoBufAppendStr(h, "</code> asks for an API key of your account <b>");
  ssoPageEscape(h, zWho, strlen(zWho));
  ssoBufAppendStr(h, "</b>.</p>\n<p>Approve only if you started this on "
                  "that device just now.</p>\n<form method=\"post\" "
                  "action=\"/device\">\n<input type=\"hidden\" "
                  "name=\"user_code\" value=\"");
  ssoPageEscape(h, zCode, strlen(zCode));
  ssoBufAppendStr(h, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
  ssoPageEscape(h, pSess->zCsrf, strlen(pSess->zCsrf));
  ssoBufAppendStr(h, "\">\n<button type=\"submit\" name=\"action\" "
                  "value=\"approve\" id=\"approve\">Approve</button>\n"
                  "<button type=\"submit\" name=\"action\" value=\"deny\" "
                  "id=\"deny\">Deny</button>\n</form>\n");
}

/* GET /device[?user_code=]: enter a code, or confirm one. */
static int oauthDevicePage(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  SsoBuf h;
  const char *zCode;
  int rc, bDup = 0;
  ssoBufInit(&h, 0);
  if( oauthCtxInit(&c, req, pArg) ){
    rc = ssoPageError(req, 400, "Bad request", "Malformed query string.");
    goto end;
  }
  rc = oauthSession(&c, &sess);
  if( rc==SSOPROXY_NOTFOUND ){ rc = oauthToLogin(&c); goto end; }
  if( rc ){ oauthInternal(&c, rc, "cannot read a session"); goto end; }
  zCode = oauthParam(&c.q, "user_code", &bDup);
  if( zCode==0 || zCode[0]==0 ){
    oauthDeviceForm(&h, &sess, 0, 0);
  }else{
    if( !oauthDeviceFind(&c, &sess, zCode, &g, &pDoc, &rc) ) goto end;
    oauthDeviceForm(&h, &sess, zCode, oauthJs(ssoJsonRoot(pDoc), "client"));
  }
  rc = h.rc ? h.rc : ssoPageRespond(req, 200, "Connect a device", h.z);
end:
  ssoJsonFree(pDoc);
  ssoBufFree(&h);
  oauthCtxFree(&c);
  return rc;
}

/* POST /device: user_code, csrf, action=approve|deny */
static int oauthDevicePost(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoSession sess;
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  SsoBuf d;
  SsoJsonWriter w;
  const char *zCode, *zAction;
  int rc, bDone = 0, bDup = 0, bApprove;
  ssoBufInit(&d, 0);
  oauthCtxInit(&c, req, pArg);
  rc = oauthFormPost(&c, &sess, "Your session has ended. Sign in and enter "
                     "the code again.", &bDone);
  if( bDone ) goto end;
  zCode = oauthParam(&c.f, "user_code", &bDup);
  zAction = oauthParam(&c.f, "action", &bDup);
  if( zCode==0 || zAction==0 || (strcmp(zAction, "approve")!=0
                                 && strcmp(zAction, "deny")!=0) ){
    rc = ssoPageError(req, 400, "Bad request", "The form is incomplete.");
    goto end;
  }
  if( !oauthDeviceFind(&c, &sess, zCode, &g, &pDoc, &rc) ) goto end;
  bApprove = strcmp(zAction, "approve")==0;
  ssoJsonWriteInit(&w, &d);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "client", oauthJs(ssoJsonRoot(pDoc), "client"));
  ssoJsonWriteKeyString(&w, "status", bApprove ? "approved" : "denied");
  ssoJsonWriteKeyString(&w, "user", sess.user.zId);
  ssoJsonWriteKeyInt64(&w, "interval",
                       oauthJi(ssoJsonRoot(pDoc), "interval"));
  ssoJsonWriteKeyInt64(&w, "polled", oauthJi(ssoJsonRoot(pDoc), "polled"));
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  if( rc==SSOPROXY_OK ) rc = ssoStoreGrantUpdate(c.pStore, g.zHash, "device",
                                                 d.z);
  if( rc ){ oauthInternal(&c, rc, "cannot update a device code"); goto end; }
  rc = ssoPageError(req, 200, bApprove ? "Device connected" : "Access denied",
                    bApprove ? "Done. Your device receives its key now; you "
                    "can close this page." : "You denied the request. "
                    "Nothing was sent to the device.");
end:
  ssoJsonFree(pDoc);
  ssoBufFree(&d);
  oauthCtxFree(&c);
  return rc;
}

/* The device-code grant of /oauth/token (RFC 8628 §3.4, §3.5). */
static int oauthTokenDevice(OauthCtx *c){
  SsoGrant g;
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pD;
  const char *zDevice, *zClient, *zStatus, *zHash;
  const char *zErr = 0, *zDesc = 0;
  OauthMint m;
  SsoApiNewKey nk;
  SsoKey k;
  SsoBuf d;
  int rc, bDup = 0, bKey = 0;
  long long iInterval;
  zDevice = oauthParam(&c->f, "device_code", &bDup);
  zClient = oauthParam(&c->f, "client_id", &bDup);
  if( zDevice==0 || zClient==0 || strlen(zDevice)>SSO_OAUTH_MAX_CODE ){
    return oauthError(c, 400, "invalid_request", "device_code and client_id "
                      "are required");
  }
  zHash = oauthHash(c, zDevice, strlen(zDevice));
  if( zHash==0 ) return SSOPROXY_NOMEM;
  ssoBufInit(&d, 0);
  rc = ssoStoreBegin(c->pStore);
  if( rc ) goto end;
  rc = ssoStoreGrantGet(c->pStore, zHash, "device", &c->a, &g);
  if( rc==SSOPROXY_NOTFOUND ){
    rc = SSOPROXY_OK;
    zErr = "invalid_grant"; zDesc = "unknown device_code";
    goto done;
  }
  if( rc ) goto end;
  pD = oauthGrantData(&g, &pDoc);
  if( pD==0 ){ rc = SSOPROXY_PARSE; goto end; }
  zStatus = oauthJs(pD, "status");
  if( oauthJs(pD, "client")==0 || strcmp(oauthJs(pD, "client"), zClient) ){
    zErr = "invalid_grant"; zDesc = "the device_code was issued to another "
                                    "client_id";
    goto done;
  }
  if( g.tExpires<c->tNow ){
    zErr = "expired_token"; zDesc = "the device_code has expired; start "
                                    "again";
    goto done;
  }
  if( zStatus==0 || strcmp(zStatus, "done")==0 ){
    zErr = "invalid_grant"; zDesc = "the device_code was already used";
    goto done;
  }
  if( strcmp(zStatus, "denied")==0 ){
    zErr = "access_denied"; zDesc = "the user denied the request";
    ssoStoreGrantDelete(c->pStore, zHash, "device");
    goto done;
  }
  iInterval = oauthJi(pD, "interval");
  if( strcmp(zStatus, "pending")==0 ){
    long long tPolled = oauthJi(pD, "polled");
    int bSlow = tPolled && c->tNow - tPolled < iInterval*1000;
    if( bSlow ) iInterval += 5;
    ssoBufPrintf(&d, "{\"client\":");
    ssoBufAppendJsonString(&d, zClient, strlen(zClient));
    ssoBufPrintf(&d, ",\"status\":\"pending\",\"interval\":%lld,"
                 "\"polled\":%lld}", iInterval, c->tNow);
    rc = d.rc ? d.rc : ssoStoreGrantUpdate(c->pStore, zHash, "device", d.z);
    if( rc ) goto end;
    zErr = bSlow ? "slow_down" : "authorization_pending";
    zDesc = bSlow ? "polling too fast: wait the interval (now 5 s longer)"
                  : "the user has not answered yet";
    goto done;
  }
  /* Approved: this poll gets the key, once. */
  rc = ssoStoreGrantTake(c->pStore, zHash, "device", &c->a, &g);
  if( rc ) goto end;
  memset(&m, 0, sizeof(m));
  m.zUserId = oauthJs(pD, "user");
  if( m.zUserId==0 || (rc = oauthUserOk(c, m.zUserId))<=0 ){
    if( rc<0 ){ rc = -rc; goto end; }
    rc = SSOPROXY_OK;
    zErr = "access_denied"; zDesc = "the user no longer exists or is "
                                    "disabled";
    goto done;
  }
  m.zVia = "device";
  m.zFlow = "device";
  m.zClient = zClient;
  rc = oauthMint(c, &m, &nk, &k);
  if( rc ) goto end;
  ssoBufPrintf(&d, "{\"client\":");
  ssoBufAppendJsonString(&d, zClient, strlen(zClient));
  ssoBufPrintf(&d, ",\"status\":\"done\",\"key\":\"%s\"}", nk.zHash);
  rc = d.rc ? d.rc : ssoStoreGrantUpdate(c->pStore, zHash, "device", d.z);
  if( rc ) goto end;
  bKey = 1;
done:
  rc = ssoStoreCommit(c->pStore);
end:
  if( rc ){
    ssoStoreRollback(c->pStore);
    oauthInternal(c, rc, "device token failed");
  }else if( bKey ){
    rc = oauthTokenJson(c, &nk, k.tExpires, 0);
  }else{
    rc = oauthError(c, 400, zErr, zDesc);
  }
  if( bKey ) memset(nk.zKey, 0, sizeof(nk.zKey));
  ssoBufFree(&d);
  ssoJsonFree(pDoc);
  return rc;
}

/* POST /oauth/token */
static int oauthToken(SsoServerReq *req, void *pArg){
  OauthCtx c;
  const char *zGrant;
  int rc, bDone = 0, bDup = 0;
  oauthCtxInit(&c, req, pArg);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zGrant = oauthParam(&c.f, "grant_type", &bDup);
  if( zGrant && strcmp(zGrant, "authorization_code")==0 ){
    OauthRedeem r;
    memset(&r, 0, sizeof(r));
    r.zFlow = "authorize";
    r.zCode = oauthParam(&c.f, "code", &bDup);
    r.zVerifier = oauthParam(&c.f, "code_verifier", &bDup);
    r.zClient = oauthParam(&c.f, "client_id", &bDup);
    r.zRedirect = oauthParam(&c.f, "redirect_uri", &bDup);
    if( r.zCode==0 || r.zClient==0 || r.zRedirect==0 || r.zVerifier==0
     || strlen(r.zCode)>SSO_OAUTH_MAX_CODE ){
      rc = oauthError(&c, 400, "invalid_request", "code, code_verifier, "
                      "client_id and redirect_uri are required");
      goto end;
    }
    rc = oauthRedeem(&c, &r);
    if( rc ){ oauthInternal(&c, rc, "cannot redeem a code"); goto end; }
    if( r.eWhy==OAUTH_R_OK ){
      rc = oauthTokenJson(&c, &r.nk, r.key.tExpires, 0);
      memset(r.nk.zKey, 0, sizeof(r.nk.zKey));
    }else{
      rc = oauthError(&c, 400, "invalid_grant", oauthRedeemWhy(r.eWhy));
    }
  }else if( zGrant && strcmp(zGrant, OAUTH_GRANT_DEVICE_CODE)==0 ){
    rc = oauthTokenDevice(&c);
  }else{
    rc = oauthError(&c, 400, zGrant ? "unsupported_grant_type"
                    : "invalid_request", zGrant ? "grant_type must be "
                    "authorization_code or " OAUTH_GRANT_DEVICE_CODE
                    : "grant_type is required");
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* POST /oauth/revoke (RFC 7009): token=sk-... Holding a key is the right
** to revoke it; unknown tokens get 200 as well (§2.2). */
static int oauthRevoke(SsoServerReq *req, void *pArg){
  OauthCtx c;
  const char *zToken;
  char zHash[SSO_KEY_HEX];
  SsoKey k;
  int rc, bDone = 0, bDup = 0;
  oauthCtxInit(&c, req, pArg);
  rc = oauthReadForm(&c, 1, &bDone);
  if( bDone ) goto end;
  zToken = oauthParam(&c.f, "token", &bDup);
  if( zToken==0 ){
    rc = oauthError(&c, 400, "invalid_request", "token is required");
    goto end;
  }
  ssoAuthzKeyHash(zToken, strlen(zToken), zHash);
  rc = ssoStoreBegin(c.pStore);
  if( rc==SSOPROXY_OK ){
    rc = ssoStoreKeyGet(c.pStore, zHash, &c.a, &k);
    if( rc==SSOPROXY_OK ){
      char zActor[32];
      snprintf(zActor, sizeof(zActor), "key:%s", k.zDisplay);
      rc = ssoApiKeyDrop(c.pStore, zActor, &k);
    }else if( rc==SSOPROXY_NOTFOUND ){
      rc = SSOPROXY_OK;
    }
  }
  if( rc==SSOPROXY_OK ) rc = ssoStoreCommit(c.pStore);
  if( rc ){
    ssoStoreRollback(c.pStore);
    oauthInternal(&c, rc, "cannot revoke");
    goto end;
  }
  {
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "{}");
    rc = oauthSendJson(&c, 200, &b);
  }
end:
  oauthCtxFree(&c);
  return rc;
}

/* GET /.well-known/oauth-authorization-server (RFC 8414) */
static int oauthMetadata(SsoServerReq *req, void *pArg){
  OauthCtx c;
  SsoBuf b, u;
  SsoJsonWriter w;
  const char *zBase;
  int rc;
  static const char *const azEp[][2] = {
    { "authorization_endpoint", "/oauth/authorize" },
    { "token_endpoint", "/oauth/token" },
    { "revocation_endpoint", "/oauth/revoke" },
    { "device_authorization_endpoint", "/oauth/device_authorization" },
  };
  size_t i;
  oauthCtxInit(&c, req, pArg);
  zBase = oauthBase(&c);
  ssoBufInit(&b, 0);
  ssoBufInit(&u, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "issuer", zBase);
  for(i=0; i<SSO_ARRAYSIZE(azEp); i++){
    ssoBufTruncate(&u, 0);
    ssoBufPrintf(&u, "%s%s", zBase, azEp[i][1]);
    ssoJsonWriteKeyString(&w, azEp[i][0], ssoBufStr(&u));
  }
  ssoJsonWriteKey(&w, "response_types_supported");
  ssoJsonWriteRaw(&w, "[\"code\"]", 8);
  ssoJsonWriteKey(&w, "grant_types_supported");
  ssoJsonWriteRaw(&w, "[\"authorization_code\",\"" OAUTH_GRANT_DEVICE_CODE
                  "\"]", strlen("[\"authorization_code\",\""
                                OAUTH_GRANT_DEVICE_CODE "\"]"));
  ssoJsonWriteKey(&w, "code_challenge_methods_supported");
  ssoJsonWriteRaw(&w, "[\"S256\"]", 8);
  ssoJsonWriteKey(&w, "token_endpoint_auth_methods_supported");
  ssoJsonWriteRaw(&w, "[\"none\"]", 8);
  ssoJsonWriteKey(&w, "revocation_endpoint_auth_methods_supported");
  ssoJsonWriteRaw(&w, "[\"none\"]", 8);
  ssoJsonWriteKeyBool(&w, "authorization_response_iss_parameter_supported",
                      1);
  ssoJsonWriteEndObject(&w);
  rc = ssoJsonWriteFinish(&w);
  ssoBufFree(&u);
  if( rc ) ssoBufFree(&b);
  rc = rc ? rc : oauthSendJson(&c, 200, &b);
  oauthCtxFree(&c);
  return rc;
}

static int ssoOauthRegister(SsoServer *pSrv, SsoOauth *p,
                                 SsoOidc *pOidc){
  static const struct {
    const char *zMethod, *zPath;
    SsoServerHandler x;
  } aRoute[] = {
    { "GET",  "/auth", oauthOpenRouterAuth },
    { "POST", "/api/v1/auth/keys", oauthOpenRouterKeys },
    { "OPTIONS", "/api/v1/auth/keys", oauthPreflight },
    { "GET",  "/.well-known/oauth-authorization-server", oauthMetadata },
    { "OPTIONS", "/.well-known/oauth-authorization-server", oauthPreflight },
    { "GET",  "/oauth/authorize", oauthAuthorize },
    { "POST", "/oauth/consent", oauthConsentPost },
    { "POST", "/oauth/token", oauthToken },
    { "OPTIONS", "/oauth/token", oauthPreflight },
    { "POST", "/oauth/revoke", oauthRevoke },
    { "OPTIONS", "/oauth/revoke", oauthPreflight },
    { "POST", "/oauth/device_authorization", oauthDeviceAuthorization },
    { "OPTIONS", "/oauth/device_authorization", oauthPreflight },
    { "GET",  "/device", oauthDevicePage },
    { "POST", "/device", oauthDevicePost },
    { "OPTIONS", "/sso/key/generate", oauthPreflight },
  };
  size_t i;
  int rc;
  for(i=0; i<SSO_ARRAYSIZE(aRoute); i++){
    rc = ssoServerRoute(pSrv, aRoute[i].zMethod, aRoute[i].zPath,
                        aRoute[i].x, p);
    if( rc ) return rc;
  }
  if( pOidc ){
    ssoOidcSetKeyFlow(pOidc, ssoOauthKeyFlow, p);
    return SSOPROXY_OK;
  }
  return ssoServerRoute(pSrv, "GET", "/sso/key/generate", oauthKeyGenerate, p);
}

/* ------------------------------------------------------------------ */
/* The client: `ssoproxy login`                                        */
/* ------------------------------------------------------------------ */

/* One outbound call at a time, run to completion on our own loop. */
typedef struct OauthCli OauthCli;
struct OauthCli {
  SsoLoop *pLoop;
  SsoClient *pCli;
  SsoTls *pTls;
  const char *zBase;        /* Without a trailing '/' */
  int bDone;
  int iStatus;
  SsoBuf body;
  int fdOut;                /* The reserved output file; -1: none */
  char zErr[300];
};

static void oauthCliDone(SsoClientCall *pCall, const SsoClientResp *r,
                         void *pArg){
  OauthCli *p = pArg;
  SSO_UNUSED(pCall);
  p->bDone = 1;
  p->iStatus = r->rc==SSOPROXY_OK ? r->iStatus : 0;
  if( r->rc ) snprintf(p->zErr, sizeof(p->zErr), "%s", r->zErr);
  ssoBufTruncate(&p->body, 0);
  if( r->pBody ) ssoBufAppend(&p->body, r->pBody, r->nBody);
}

/* POST a form to zBase+zPath; parses the JSON answer into *ppDoc. */
static int oauthCliPost(OauthCli *p, const char *zPath, const char *zForm,
                        SsoJsonDoc **ppDoc){
  SsoClientReq r;
  SsoHttpHeader aHdr[2];
  SsoBuf url;
  int rc;
  *ppDoc = 0;
  ssoBufInit(&url, 0);
  ssoBufPrintf(&url, "%s%s", p->zBase, zPath);
  if( url.rc ){ ssoBufFree(&url); return url.rc; }
  memset(&r, 0, sizeof(r));
  memset(aHdr, 0, sizeof(aHdr));
  aHdr[0].name.z = "Content-Type"; aHdr[0].name.n = 12;
  aHdr[0].value.z = "application/x-www-form-urlencoded";
  aHdr[0].value.n = 33;
  aHdr[1].name.z = "Accept"; aHdr[1].name.n = 6;
  aHdr[1].value.z = "application/json"; aHdr[1].value.n = 16;
  r.zMethod = "POST";
  r.zUrl = url.z;
  r.aHdr = aHdr;
  r.nHdr = 2;
  r.pBody = zForm;
  r.nBody = strlen(zForm);
  r.xDone = oauthCliDone;
  r.pArg = p;
  p->bDone = 0;
  p->zErr[0] = 0;
  rc = ssoClientRequest(p->pCli, &r, 0);
  ssoBufFree(&url);
  if( rc ){
    snprintf(p->zErr, sizeof(p->zErr), "cannot send a request to %s",
             p->zBase);
    return rc;
  }
  while( !p->bDone ){
    rc = ssoLoopRunOnce(p->pLoop, 1000);
    if( rc ) return rc;
  }
  if( p->iStatus==0 ) return SSOPROXY_NET;
  if( p->body.rc ) return p->body.rc;
  if( ssoJsonParse(p->body.z ? p->body.z : "", p->body.n, 0, ppDoc, 0)
   || ssoJsonType(ssoJsonRoot(*ppDoc))!=SSO_JSON_OBJECT ){
    ssoJsonFree(*ppDoc);
    *ppDoc = 0;
    snprintf(p->zErr, sizeof(p->zErr), "%s%s answered %d without a JSON "
             "object", p->zBase, zPath, p->iStatus);
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

static int oauthCliOpen(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  SsoClientConfig cfg;
  char zErr[256];
  int rc;
  memset(p, 0, sizeof(*p));
  p->fdOut = -1;
  ssoBufInit(&p->body, 0);
  p->zBase = pArgs->zBaseUrl;
  if( strncmp(p->zBase, "https://", 8)==0 ){
    rc = ssoTlsClientNew(pArgs->zCaFile, pArgs->bInsecure, &p->pTls, zErr,
                         sizeof(zErr));
    if( rc ){
      snprintf(p->zErr, sizeof(p->zErr), "%s", zErr);
      return rc;
    }
  }
  rc = ssoLoopNew(&p->pLoop);
  if( rc ) return rc;
  ssoClientConfigInit(&cfg);
  cfg.pTls = p->pTls;
  cfg.msFirstByte = 60000;
  return ssoClientNew(p->pLoop, &cfg, &p->pCli);
}

static void oauthCliClose(OauthCli *p){
  ssoClientFree(p->pCli);
  ssoLoopFree(p->pLoop);
  ssoTlsFree(p->pTls);
  ssoBufFree(&p->body);
}

/*
** The output file is created (O_EXCL, mode 0600) before the flow starts,
** so an existing file is never overwritten and a typo costs no sign-in;
** the key is written into it at the end. -1: no file (print the key).
*/
static int oauthCliReserve(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  if( pArgs->zOutput==0 ) return 0;
  p->fdOut = open(pArgs->zOutput, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC,
                       0600);
  if( p->fdOut<0 || fchmod(p->fdOut, 0600)!=0 ){
    fprintf(stderr, "ssoproxy login: cannot create %s: %s%s\n",
            pArgs->zOutput, strerror(errno), errno==EEXIST
            ? " (it is never overwritten: remove it first)" : "");
    if( p->fdOut>=0 ){
      close(p->fdOut);
      unlink(pArgs->zOutput);
    }
    p->fdOut = -1;
    return 1;
  }
  return 0;
}

/* The flow failed: the reserved file goes. */
static void oauthCliUnreserve(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  if( p->fdOut<0 ) return;
  close(p->fdOut);
  p->fdOut = -1;
  unlink(pArgs->zOutput);
}

/* Print the key, or write it to the reserved file. */
static int oauthCliOutput(OauthCli *p, const SsoOauthLoginArgs *pArgs,
                          const char *zKey){
  size_t n = strlen(zKey);
  int fd = p->fdOut;
  if( pArgs->zOutput==0 ){
    printf("%s\n", zKey);
    return fflush(stdout)==0 ? 0 : 1;
  }
  p->fdOut = -1;
  if( write(fd, zKey, n)!=(ssize_t)n || write(fd, "\n", 1)!=1
   || close(fd)!=0 ){
    fprintf(stderr, "ssoproxy login: cannot write %s: %s\n", pArgs->zOutput,
            strerror(errno));
    unlink(pArgs->zOutput);
    return 1;
  }
  fprintf(stderr, "ssoproxy login: the key is in %s\n", pArgs->zOutput);
  return 0;
}

/* The answer of /oauth/token: 0 with the key printed/written, -1 to keep
** polling (device), 1 on failure. piInterval grows on slow_down. */
static int oauthCliTokenAnswer(OauthCli *p, const SsoOauthLoginArgs *pArgs,
                               const SsoJson *pRoot, long long *piInterval){
  const char *zKey = oauthJs(pRoot, "access_token");
  const char *zErr = oauthJs(pRoot, "error");
  if( p->iStatus==200 && zKey ) return oauthCliOutput(p, pArgs, zKey);
  if( zErr && strcmp(zErr, "authorization_pending")==0 ) return -1;
  if( zErr && strcmp(zErr, "slow_down")==0 ){
    *piInterval += 5;
    return -1;
  }
  fprintf(stderr, "ssoproxy login: %s: %s\n", zErr ? zErr : "error",
          oauthJs(pRoot, "error_description")
          ? oauthJs(pRoot, "error_description") : "no key was issued");
  return 1;
}

static int oauthLoginDevice(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  SsoJsonDoc *pDoc = 0;
  const SsoJson *pRoot;
  char *zDevice = 0;
  SsoBuf form;
  long long iInterval, tEnd;
  int rc, iExit = 1;
  rc = oauthCliPost(p, "/oauth/device_authorization",
                    "client_id=" SSO_OAUTH_CLI_CLIENT, &pDoc);
  if( rc ) goto net;
  pRoot = ssoJsonRoot(pDoc);
  if( p->iStatus!=200 || oauthJs(pRoot, "device_code")==0
   || oauthJs(pRoot, "user_code")==0 ){
    fprintf(stderr, "ssoproxy login: the server refused the device flow: "
            "%s\n", oauthJs(pRoot, "error_description")
            ? oauthJs(pRoot, "error_description") : "no device code");
    goto end;
  }
  fprintf(stderr, "To sign in, open %s\nand enter the code %s\n(or open "
          "%s)\nWaiting for approval...\n",
          oauthJs(pRoot, "verification_uri"), oauthJs(pRoot, "user_code"),
          oauthJs(pRoot, "verification_uri_complete")
          ? oauthJs(pRoot, "verification_uri_complete") : "");
  iInterval = oauthJi(pRoot, "interval");
  if( iInterval<1 ) iInterval = 5;
  tEnd = ssoOsMonoMs() + 1000*(oauthJi(pRoot, "expires_in")>0
                               ? oauthJi(pRoot, "expires_in") : 600);
  if( pArgs->sTimeout>0 && ssoOsMonoMs()+1000LL*pArgs->sTimeout<tEnd ){
    tEnd = ssoOsMonoMs() + 1000LL*pArgs->sTimeout;
  }
  zDevice = ssoStrdup(oauthJs(pRoot, "device_code"));
  ssoJsonFree(pDoc);
  pDoc = 0;
  if( zDevice==0 ) goto end;
  ssoBufInit(&form, 0);
  {
    const char *azPair[] = { "grant_type", OAUTH_GRANT_DEVICE_CODE,
                             "device_code", zDevice,
                             "client_id", SSO_OAUTH_CLI_CLIENT };
    ssoFormAppend(&form, azPair, 3);
  }
  while( form.rc==0 && ssoOsMonoMs()<tEnd ){
    long long tWake = ssoOsMonoMs() + iInterval*1000;
    while( ssoOsMonoMs()<tWake ){
      ssoLoopRunOnce(p->pLoop, (int)(tWake - ssoOsMonoMs()));
    }
    rc = oauthCliPost(p, "/oauth/token", form.z, &pDoc);
    if( rc ){ ssoBufFree(&form); goto net; }
    iExit = oauthCliTokenAnswer(p, pArgs, ssoJsonRoot(pDoc), &iInterval);
    ssoJsonFree(pDoc);
    pDoc = 0;
    if( iExit>=0 ) break;
    iExit = 1;
  }
  if( iExit<0 || (iExit==1 && ssoOsMonoMs()>=tEnd) ){
    fprintf(stderr, "ssoproxy login: gave up waiting for approval\n");
  }
  ssoBufFree(&form);
  goto end;
net:
  fprintf(stderr, "ssoproxy login: %s\n", p->zErr[0] ? p->zErr
          : ssoproxy_errstr(rc));
end:
  ssoFree(zDevice);
  ssoJsonFree(pDoc);
  return iExit;
}

/* The loopback redirect's receiving end. */
typedef struct OauthLoopback OauthLoopback;
struct OauthLoopback {
  SsoServer *pSrv;
  char zState[SSO_OAUTH_SECRET_LEN+1];
  char *zCode;              /* The code, once it came */
  char *zError;             /* Or the error the server sent */
};

static int oauthLoopbackCallback(SsoServerReq *req, void *pArg){
  OauthLoopback *p = pArg;
  SsoArena a;
  SsoForm q;
  SsoStr st, v;
  int rc;
  ssoArenaInit(&a, 0);
  if( ssoFormParse(&a, req->query.z, req->query.n, &q, 0)
   || ssoFormGet(&q, "state", &st)
   || st.n!=SSO_OAUTH_SECRET_LEN
   || !ssoCtEqual(st.z, p->zState, SSO_OAUTH_SECRET_LEN) ){
    ssoArenaFree(&a);
    return ssoPageError(req, 400, "Wrong request", "This answer does not "
                        "belong to the login in progress.");
  }
  if( ssoFormGet(&q, "code", &v)==SSOPROXY_OK ){
    p->zCode = ssoStrndup(v.z, v.n);
  }else{
    p->zError = ssoStrdup(ssoFormGet(&q, "error", &v)==SSOPROXY_OK ? v.z
                          : "no code in the answer");
  }
  ssoArenaFree(&a);
  rc = ssoPageError(req, 200, p->zCode ? "Signed in" : "Login failed",
                    p->zCode ? "ssoproxy login has what it needs. You can "
                    "close this window and go back to the terminal."
                    : "The login did not complete; see the terminal.");
  ssoServerStop(p->pSrv);
  return rc;
}

static SsoServer *volatile pOauthStopTarget;
static void oauthOnAlarm(int sig){
  SSO_UNUSED(sig);
  if( pOauthStopTarget ) ssoServerStop(pOauthStopTarget);
}

/* Open zUrl in the desktop's browser, if there is one; never waits. */
static void oauthOpenBrowser(const char *zUrl){
  char zProg[] = "xdg-open";
  char *azArgv[3];
  pid_t pid;
  if( getenv("DISPLAY")==0 && getenv("WAYLAND_DISPLAY")==0 ) return;
  azArgv[0] = zProg;
  azArgv[1] = ssoStrdup(zUrl);
  azArgv[2] = 0;
  if( azArgv[1] ) posix_spawnp(&pid, zProg, 0, 0, azArgv, environ);
  ssoFree(azArgv[1]);
}

static int oauthLoginLoopback(OauthCli *p, const SsoOauthLoginArgs *pArgs){
  OauthLoopback lb;
  SsoServerConfig sc;
  char zVerifier[SSO_OAUTH_SECRET_LEN+1];
  char zChallenge[SSO_OAUTH_CHALLENGE_LEN+1];
  SsoBuf redir, url;
  SsoJsonDoc *pDoc = 0;
  struct sigaction sa, saOld;
  long long iInterval = 0;
  int rc, iExit = 1;
  SsoRng *pRng = 0;
  memset(&lb, 0, sizeof(lb));
  ssoBufInit(&redir, 0);
  ssoBufInit(&url, 0);
  rc = ssoRngNew(&pRng);
  if( rc==SSOPROXY_OK ) rc = ssoOauthSecretNew(pRng, zVerifier);
  if( rc==SSOPROXY_OK ) rc = ssoOauthSecretNew(pRng, lb.zState);
  if( rc==SSOPROXY_OK ) rc = ssoOauthS256(zVerifier, strlen(zVerifier),
                                          zChallenge);
  ssoRngFree(pRng);
  if( rc ) goto fail;
  ssoServerConfigInit(&sc);
  sc.zListen = "127.0.0.1:0";
  sc.nWorker = 1;
  sc.msShutdown = 2000;
  rc = ssoServerNew(&sc, &lb.pSrv);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerRoute(lb.pSrv, "GET", "/callback", oauthLoopbackCallback,
                        &lb);
  }
  if( rc ) goto fail;
  ssoBufPrintf(&redir, "http://%s/callback", ssoServerAddress(lb.pSrv));
  ssoBufPrintf(&url, "%s/oauth/authorize?", p->zBase);
  {
    const char *azPair[] = {
      "response_type", "code", "client_id", SSO_OAUTH_CLI_CLIENT,
      "redirect_uri", ssoBufStr(&redir), "code_challenge", zChallenge,
      "code_challenge_method", "S256", "state", lb.zState,
    };
    ssoFormAppend(&url, azPair, 6);
  }
  if( url.rc || redir.rc ){ rc = SSOPROXY_NOMEM; goto fail; }
  fprintf(stderr, "To sign in, open this URL in a browser on this "
          "machine:\n%s\nWaiting for the browser...\n", url.z);
  if( !pArgs->bNoBrowser ) oauthOpenBrowser(url.z);
  /* The server answers the browser, then stops; SIGALRM (the timeout)
  ** and SIGINT stop it too. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = oauthOnAlarm;
  sigemptyset(&sa.sa_mask);
  pOauthStopTarget = lb.pSrv;
  sigaction(SIGALRM, &sa, &saOld);
  alarm((unsigned)(pArgs->sTimeout>0 ? pArgs->sTimeout : 300));
  rc = ssoServerRun(lb.pSrv);
  alarm(0);
  sigaction(SIGALRM, &saOld, 0);
  pOauthStopTarget = 0;
  if( rc ) goto fail;
  if( lb.zCode==0 ){
    fprintf(stderr, "ssoproxy login: %s\n", lb.zError ? lb.zError
            : "no answer from the browser in time");
    goto end;
  }
  ssoBufTruncate(&url, 0);
  {
    const char *azPair[] = {
      "grant_type", "authorization_code", "code", lb.zCode,
      "redirect_uri", ssoBufStr(&redir), "client_id", SSO_OAUTH_CLI_CLIENT,
      "code_verifier", zVerifier,
    };
    ssoFormAppend(&url, azPair, 5);
  }
  if( url.rc ){ rc = url.rc; goto fail; }
  rc = oauthCliPost(p, "/oauth/token", url.z, &pDoc);
  if( rc ){
    fprintf(stderr, "ssoproxy login: %s\n", p->zErr[0] ? p->zErr
            : ssoproxy_errstr(rc));
    goto end;
  }
  iExit = oauthCliTokenAnswer(p, pArgs, ssoJsonRoot(pDoc), &iInterval);
  if( iExit<0 ) iExit = 1;
  goto end;
fail:
  fprintf(stderr, "ssoproxy login: %s\n", lb.pSrv && rc!=SSOPROXY_NOMEM
          ? ssoServerErrmsg(lb.pSrv) : ssoproxy_errstr(rc));
end:
  ssoJsonFree(pDoc);
  ssoServerFree(lb.pSrv);
  ssoFree(lb.zCode);
  ssoFree(lb.zError);
  ssoBufFree(&redir);
  ssoBufFree(&url);
  return iExit;
}

static int ssoOauthLoginCommand(const SsoOauthLoginArgs *pArgs){
  OauthCli cli;
  SsoArena a;
  SsoUrl u;
  char *zBase = 0;
  size_t n;
  int rc, iExit;
  if( pArgs->zBaseUrl==0 ){
    fprintf(stderr, "usage: ssoproxy login BASE-URL [--device] "
            "[--output FILE] [--no-browser]\n");
    return 2;
  }
  ssoArenaInit(&a, 0);
  n = strlen(pArgs->zBaseUrl);
  rc = ssoUrlParse(&a, pArgs->zBaseUrl, n, &u, 0);
  if( rc==SSOPROXY_OK && (u.bQuery || u.bFragment || u.bUserinfo
                          || (strcmp(u.scheme.z, "http")!=0
                              && strcmp(u.scheme.z, "https")!=0)) ){
    rc = SSOPROXY_PARSE;
  }
  ssoArenaFree(&a);
  if( rc ){
    fprintf(stderr, "ssoproxy login: %s is not an http(s) base URL\n",
            pArgs->zBaseUrl);
    return 2;
  }
  while( n>0 && pArgs->zBaseUrl[n-1]=='/' ) n--;
  zBase = ssoStrndup(pArgs->zBaseUrl, n);
  if( zBase==0 ) return 1;
  rc = oauthCliOpen(&cli, pArgs);
  cli.zBase = zBase;
  if( rc==SSOPROXY_OK && oauthCliReserve(&cli, pArgs) ){
    iExit = 1;
  }else if( rc ){
    fprintf(stderr, "ssoproxy login: %s\n", cli.zErr[0] ? cli.zErr
            : ssoproxy_errstr(rc));
    iExit = rc==SSOPROXY_CONFIG ? 2 : 1;
  }else{
    iExit = pArgs->bDevice ? oauthLoginDevice(&cli, pArgs)
                           : oauthLoginLoopback(&cli, pArgs);
  }
  oauthCliUnreserve(&cli, pArgs);
  oauthCliClose(&cli);
  ssoFree(zBase);
  return iExit;
}
/************** End of oauth.c **************/
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
  long long iDefault;     /* Default of an SSO_SET_INT */
  long long iMin, iMax;   /* Range of an SSO_SET_INT */
  const char *zEnum;      /* Words of an SSO_SET_ENUM, '|'-separated */
  int bSecret;            /* Never print the value */
  const char *zHelp;      /* One line for --help and the README */
};

#define SSO_SETTING_ROW(id, name, alias, type, dflt, idflt, mn, mx, en, \
                        secret, help) \
  { name, alias, type, dflt, idflt, mn, mx, en, secret, help },
static const Setting aSetting[] = { SSO_SETTINGS(SSO_SETTING_ROW) };

typedef struct Value Value;
struct Value {
  char *zValue;           /* Owned; NULL = unset (use the default) */
  char *zWhere;           /* Owned; "FILE:LINE" for file values, else NULL */
  int eSrc;               /* SSO_SRC_* */
};

struct ssoproxy_config {
  Value aValue[SSO_CFG_COUNT];
  char zErr[1024];        /* Last error message */
};

#define cfgError(p, ...) \
  ssoErrorf((p)->zErr, sizeof((p)->zErr), SSOPROXY_CONFIG, __VA_ARGS__)

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
  ssoFree(p);
}

const char *ssoproxy_config_errmsg(const ssoproxy_config *p){
  if( p==0 ) return "no configuration";
  return p->zErr[0] ? p->zErr : "not an error";
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
** host:port as the transport layer reads it (ssoLoopParseHostPort: a name,
** an IPv4 address, a bracketed IPv6 address or nothing for every
** interface; port 0..65535), with a host made only of the characters a
** host can have. Resolution happens when the server binds.
*/
static int validAddr(const char *z){
  char zHost[256];
  int iPort;
  const char *c;
  if( ssoLoopParseHostPort(z, zHost, sizeof(zHost), &iPort) ) return 0;
  for(c=zHost; *c; c++){
    if( !isalnum((unsigned char)*c) && *c!='.' && *c!='-' && *c!=':' ){
      return 0;
    }
  }
  return 1;
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
      cfgError(p, "%s%sinvalid value for %s: control character", zPre, zSep,
               s->zName);
      return 0;
    }
  }
  if( z-zValue > SSO_CONFIG_MAX_VALUE ){
    cfgError(p, "%s%sinvalid value for %s: longer than %d bytes", zPre, zSep,
             s->zName, SSO_CONFIG_MAX_VALUE);
    return 0;
  }
  switch( s->eType ){
    case SSO_SET_INT:
      if( parseInt(zValue, &v) && v>=s->iMin && v<=s->iMax ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected an integer "
               "from %lld to %lld)", zPre, zSep, s->zName, zShow, s->iMin,
               s->iMax);
      return 0;
    case SSO_SET_BOOL:
      if( boolValue(zValue)>=0 ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected true or false)",
               zPre, zSep, s->zName, zShow);
      return 0;
    case SSO_SET_ENUM:
      if( enumHas(s->zEnum, zValue) ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected one of %s)",
               zPre, zSep, s->zName, zShow, s->zEnum);
      return 0;
    case SSO_SET_ADDR:
      if( validAddr(zValue) ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected host:port, "
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
    cfgError(p, "%s%sunknown setting %s", zWhere ? zWhere : "",
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
      cfgError(p, "unknown setting %s in the environment", zName);
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
    cfgError(p, "%s: expected NAME=VALUE", zWhere);
    return SSOPROXY_CONFIG;
  }
  nName = (size_t)(zEq - z);
  trim(z, &nName);
  if( nName==0 || nName>=sizeof(zName) ){
    cfgError(p, "%s: expected NAME=VALUE", zWhere);
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
    cfgError(p, "%s: unterminated quote in the value of %s", zWhere, zName);
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
    cfgError(p, "config file %s is larger than %u bytes", zPath,
             SSO_CONFIG_MAX_FILE);
    return SSOPROXY_CONFIG;
  }
  if( rc==SSOPROXY_IOERR ){
    cfgError(p, "cannot read config file %s: %s", zPath, strerror(errno));
    return SSOPROXY_CONFIG;
  }
  if( rc ) return rc;
  if( memchr(zText, 0, nText) ){
    cfgError(p, "config file %s contains a NUL byte", zPath);
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
  long long v = aSetting[i].iDefault;
  const char *z = p->aValue[i].zValue;
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
    char zInt[24];
    if( z==0 && aSetting[i].eType==SSO_SET_INT ){
      snprintf(zInt, sizeof(zInt), "%lld", aSetting[i].iDefault);
      z = zInt;
    }
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
    ssoBufPrintf(b, "  %-30s %s", s->zName, s->zHelp);
    if( s->eType==SSO_SET_INT ){
      ssoBufPrintf(b, " [%lld]", s->iDefault);
    }else if( s->zDefault && s->zDefault[0] ){
      ssoBufPrintf(b, " [%s]", s->zDefault);
    }
    if( s->zAlias ) ssoBufPrintf(b, " (also %s)", s->zAlias);
    ssoBufAppendChar(b, '\n');
  }
}
/************** End of config.c **************/
/************** Begin file app.c **************/
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
/* #include "ssoInt.h" */

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
/************** End of app.c **************/
/************** Begin file admin.c **************/
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
/* #include "ssoInt.h" */
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

static int ssoAdminIsCommand(const char *z){
  return strcmp(z, "user")==0 || strcmp(z, "key")==0
      || strcmp(z, "audit")==0;
}

/* "cli:" and the login name of the effective user, if it has one. */
static void adminActor(AdminCtx *c){
  const struct passwd *pw = getpwuid(geteuid());
  snprintf(c->zActor, sizeof(c->zActor), "cli:%s",
           pw && pw->pw_name ? pw->pw_name : "unknown");
}

static int ssoAdminRun(const char *zDb, const char *zCmd, int nArg,
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
/************** End of admin.c **************/
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

/* SIGHUP: re-read the models file; the server keeps serving. */
static void onReloadSignal(int sig){
  int e = errno;
  SSO_UNUSED(sig);
  if( pSignalTarget ) ssoproxy_reload(pSignalTarget);
  errno = e;
}

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
    "  user list [--role ROLE]      users and their roles\n"
    "  user add ID [--email E] [--name N] [--role ROLE]\n"
    "  user set-role ID ROLE        change a role (proxy_admin,\n"
    "                               proxy_admin_viewer, internal_user,\n"
    "                               internal_user_viewer)\n"
    "  user disable ID | enable ID  refuse or allow the user's keys\n"
    "  user delete ID               delete the user and their keys\n"
    "  key create [--user ID] [--alias A] [--duration 30d] [--models M,M]\n"
    "                               print a new key (shown only once)\n"
    "  key list [--user ID]         keys (never the keys themselves)\n"
    "  key revoke KEY|HASH|ALIAS    delete a key\n"
    "  audit [--type key|user] [--id ID] [--limit N]\n"
    "                               the latest changes, newest first\n"
    "                 (user, key and audit work on the database file and\n"
    "                 are safe while the server runs)\n"
    "  login BASE-URL [--device] [--output FILE] [--no-browser]\n"
    "       [--timeout SECONDS]\n"
    "                 get an API key from the ssoproxy at BASE-URL: sign in\n"
    "                 in a browser (loopback redirect with PKCE), or with\n"
    "                 --device on another machine (device code); prints\n"
    "                 the key, or writes it to FILE (created, mode 0600)\n"
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

#define MAIN_MAX_ADMIN_ARGS 32   /* Words after user/key/audit */

typedef struct MainArgs MainArgs;
struct MainArgs {
  const char *zCommand;     /* "serve", "config", "version", "help",
                            ** or an admin command: "user", "key", "audit" */
  const char *zConfigFile;  /* --config FILE, or NULL */
  const char *azFlag[SSO_ARRAYSIZE(aOptSet)];   /* Option values */
  int nAdmin;               /* Arguments of the admin command */
  const char *azAdmin[MAIN_MAX_ADMIN_ARGS];
  SsoOauthLoginArgs login;  /* The login command's arguments */
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

static int addAdminArg(MainArgs *pCli, const char *z){
  if( pCli->nAdmin>=MAIN_MAX_ADMIN_ARGS ){
    fprintf(stderr, "ssoproxy: too many arguments\n");
    return 1;
  }
  pCli->azAdmin[pCli->nAdmin++] = z;
  return 0;
}

/*
** One word of `ssoproxy login BASE-URL [--device] [--output FILE]
** [--no-browser] [--timeout SECONDS]`: 1 if it was ours, 0 if not, -1 on
** a usage error.
*/
static int parseLoginArg(int argc, char **argv, int *pi,
                         SsoOauthLoginArgs *pL){
  const char *z = argv[*pi], *zVal;
  int bErr = 0;
  if( strcmp(z, "--device")==0 ){ pL->bDevice = 1; return 1; }
  if( strcmp(z, "--no-browser")==0 ){ pL->bNoBrowser = 1; return 1; }
  if( (zVal = optValue(argc, argv, pi, "--output", &bErr))!=0 ){
    pL->zOutput = zVal;
    return bErr ? -1 : 1;
  }
  if( (zVal = optValue(argc, argv, pi, "--timeout", &bErr))!=0 ){
    pL->sTimeout = atoi(zVal);
    if( bErr || pL->sTimeout<=0 ){
      fprintf(stderr, "ssoproxy: --timeout needs a number of seconds\n");
      return -1;
    }
    return 1;
  }
  if( z[0]!='-' && pL->zBaseUrl==0 ){ pL->zBaseUrl = z; return 1; }
  return 0;
}

static int parseArgs(int argc, char **argv, MainArgs *pCli){
  int i, bErr = 0;
  size_t j;
  memset(pCli, 0, sizeof(*pCli));
  pCli->zCommand = "serve";
  for(i=1; i<argc; i++){
    const char *z = argv[i], *zVal;
    /* After user/key/audit, words and options other than ours are that
    ** command's business. */
    if( ssoAdminIsCommand(pCli->zCommand) && z[0]!='-' ){
      if( addAdminArg(pCli, z) ) return EXIT_USAGE;
      continue;
    }
    if( ssoAdminIsCommand(z) ){
      pCli->zCommand = z;
      continue;
    }
    if( strcmp(z, "-h")==0 || strcmp(z, "--help")==0 || strcmp(z, "help")==0 ){
      pCli->zCommand = "help";
      continue;
    }
    if( strcmp(z, "-V")==0 || strcmp(z, "--version")==0
     || strcmp(z, "version")==0 ){
      pCli->zCommand = "version";
      continue;
    }
    if( strcmp(pCli->zCommand, "login")==0 ){
      int r = parseLoginArg(argc, argv, &i, &pCli->login);
      if( r<0 ) return EXIT_USAGE;
      if( r>0 ) continue;
    }
    if( strcmp(z, "serve")==0 || strcmp(z, "config")==0
     || strcmp(z, "login")==0 ){
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
    if( ssoAdminIsCommand(pCli->zCommand) ){
      if( addAdminArg(pCli, z) ) return EXIT_USAGE;
      continue;
    }
    fprintf(stderr, "ssoproxy: unknown %s %s; see ssoproxy --help\n",
            z[0]=='-' ? "option" : "command", z);
    return EXIT_USAGE;
  }
  return 0;
}

/* Defaults, then --config FILE, then the environment, then options. */
static int loadConfig(const MainArgs *pCli, ssoproxy_config **ppCfg){
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
  sa.sa_handler = onReloadSignal;
  sigaction(SIGHUP, &sa, 0);
  rc = ssoproxy_run(pSrv);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGHUP, &sa, 0);
  pSignalTarget = 0;
  if( rc ) fprintf(stderr, "ssoproxy: %s\n", ssoproxy_errmsg(pSrv));
  ssoproxy_close(pSrv);
  return rc ? EXIT_RUNTIME : 0;
}

int ssoproxy_main(int argc, char **argv){
  MainArgs cli;
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
  }else if( strcmp(cli.zCommand, "login")==0 ){
    cli.login.zCaFile = ssoConfigStr(pCfg, SSO_CFG_CA_FILE);
    cli.login.bInsecure = ssoConfigBool(pCfg, SSO_CFG_TLS_INSECURE);
    rc = ssoOauthLoginCommand(&cli.login);
  }else if( ssoAdminIsCommand(cli.zCommand) ){
    rc = ssoAdminRun(ssoConfigStr(pCfg, SSO_CFG_DB), cli.zCommand,
                     cli.nAdmin, cli.azAdmin);
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
