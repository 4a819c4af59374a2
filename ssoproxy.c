/******************************************************************************
** This file is the ssoproxy amalgamation, version 0.1.0:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: 4248e0614531cb5fc3f98906cd6859d66d608fc013029906e7f96662f4a91d60
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

/* Case-insensitive comparison of a view with a NUL-terminated ASCII name. */
static int ssoHttpStrIEq(SsoStr s, const char *z);

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
/* Placeholder: the store module is being written. */
#ifndef SSO_STORE_H
#define SSO_STORE_H
#endif
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
#endif

#ifndef MSG_NOSIGNAL
# define MSG_NOSIGNAL 0     /* BSDs: SO_NOSIGPIPE is set on the socket */
#endif

#define LOOP_MAX_EVENTS 256 /* Events taken from the kernel per wait */

typedef struct LoopFile LoopFile;
struct LoopFile {
  SsoLoopFdFn xFn;      /* NULL when the fd is not watched */
  void *pArg;
  int eMask;            /* SSO_LOOP_READ|WRITE asked for */
  int iPoll;            /* poll(): slot in aPoll, -1 if absent.
                        ** epoll: 1 when registered with the kernel */
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
static int pollEvents(int eMask){
  return ((eMask & SSO_LOOP_READ) ? POLLIN : 0)
       | ((eMask & SSO_LOOP_WRITE) ? POLLOUT : 0);
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
  p->aPoll[f->iPoll].events = (short)pollEvents(eMask);
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
                | ((e & EPOLLOUT) ? SSO_LOOP_WRITE : 0);
    fire(p, p->aEv[i].data.fd, eEvents, (e & (EPOLLERR|EPOLLHUP))!=0);
  }
  return SSOPROXY_OK;
}
#else
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
    fire(p, p->aFired[i].fd, eEvents, (e & (POLLERR|POLLHUP|POLLNVAL))!=0);
  }
  return SSOPROXY_OK;
}
#endif

static int ssoLoopRunOnce(SsoLoop *p, int msMax){
  int rc = pollOnce(p, waitTimeout(p, msMax));
  if( rc ) return rc;
  runTimers(p);
  runTasks(p);
  return SSOPROXY_OK;
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

static int parsePort(const char *z, int *piPort){
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
  return parsePort(zColon+1, piPort);
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

static int ssoHttpStrIEq(SsoStr s, const char *z){
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

static int ssoHttpParseRequest(const char *z, size_t n, size_t nLast,
                                    const SsoHttpLimits *pLim,
                                    SsoHttpHead *p){
  size_t iStart = 0, nLine;
  long iEnd = scanHead(z, n, nLast, pLim, 414, 431, 400, &iStart);
  Framing f;
  int rc;
  if( iEnd<0 ) return (int)iEnd;
  clearHead(p);
  nLine = lineLen(z, iStart, (size_t)iEnd);
  if( nLine>pLim->mxLine ) return -414;
  rc = parseRequestLine(z+iStart, nLine, p);
  if( rc==0 ) rc = parseFields(z, iStart+nLine+2, (size_t)iEnd, p, &f);
  if( rc==0 ) rc = requestFraming(p, &f);
  return rc ? rc : (int)iEnd;
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

static int ssoHttpParseResponse(const char *z, size_t n, size_t nLast,
                                     const SsoHttpLimits *pLim,
                                     SsoHttpHead *p){
  size_t iStart = 0, nLine;
  long iEnd = scanHead(z, n, nLast, pLim, 502, 502, 502, &iStart);
  Framing f;
  int rc;
  if( iEnd<0 ) return (int)iEnd;
  clearHead(p);
  nLine = lineLen(z, iStart, (size_t)iEnd);
  if( nLine>pLim->mxLine ) return -502;
  rc = parseStatusLine(z+iStart, nLine, p);
  if( rc==0 ) rc = parseFields(z, iStart+nLine+2, (size_t)iEnd, p, &f);
  if( rc ) return rc<0 ? -502 : rc;
  rc = responseFraming(p, &f);
  return rc ? rc : (int)iEnd;
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
** buffers, reused from request to request.
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

static int setErr(SsoServer *p, int rc, const char *zFmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static int setErr(SsoServer *p, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(p->zErr, sizeof(p->zErr), zFmt, ap);
  va_end(ap);
  return rc;
}

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
  nNew = c->nOutAlloc ? c->nOutAlloc*2 : 4096;
  while( nNew<nNeed ) nNew *= 2;
  aNew = ssoRealloc(c->aOut, nNew);
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
  outPrintf(c, "HTTP/1.1 %d %s\r\nDate: %s\r\nX-Request-Id: %s\r\n", iStatus,
            zReason[0] ? zReason : "Unknown", workerDate(c->pWorker), c->zId);
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
    outPrintf(c, "Content-Length: %lld\r\n", nLength);
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
  char zMethod[32], zPath[512], zStatus[8], zBytes[24], zMs[24];
  SsoStr none = {0, 0};
  if( !cfg->bAccessLog || cfg->pLog==0 ) return;
  snprintf(zStatus, sizeof(zStatus), "%d", iStatus);
  snprintf(zBytes, sizeof(zBytes), "%llu", c->nRespBytes);
  snprintf(zMs, sizeof(zMs), "%lld", connNow(c) - c->iReqStart);
  ssoLog(cfg->pLog, SSO_LOG_INFO, "request", "id", c->zId,
         "method", viewToZ(c->bParsed ? c->req.method : none, zMethod,
                           sizeof(zMethod)),
         "path", viewToZ(c->bParsed ? c->req.path : none, zPath,
                         sizeof(zPath)),
         "status", zStatus, "bytes", zBytes, "ms", zMs,
         "client", c->zClient, (char*)0);
}

/* ---- Requests ---------------------------------------------------------------- */

static void newRequestId(Conn *c){
  Worker *w = c->pWorker;
  snprintf(c->zId, sizeof(c->zId), "%08x%08x",
           w->pSrv->iIdBase + (unsigned)w->iWorker, ++w->nReq);
}

/* Reset the per-request fields for the next request on c. */
static void resetRequest(Conn *c){
  memset(&c->req, 0, sizeof(c->req));
  c->eResp = RESP_NONE;
  c->bRespDone = c->bAsync = c->bPaused = c->bChunkOut = 0;
  c->bHeadReq = c->bBodyless = c->bMoved = c->bParsed = 0;
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
  aNew = ssoRealloc(c->aIn, nNew);
  if( aNew==0 ){
    c->bDead = 1;
    return 0;
  }
  if( c->eState==CONN_BODY && aNew!=c->aIn ) c->bMoved = 1;
  c->aIn = aNew;
  c->nInAlloc = nNew;
  return nNew - c->nIn;
}

static void readIn(Conn *c){
  size_t nFree = inReserve(c);
  long n;
  if( nFree==0 ){
    c->bDead = 1;       /* cannot happen: limits end a request first */
    return;
  }
  c->bReadWantsWrite = 0;
  n = c->pIo->xRead(c->pIoCtx, c->fd, c->aIn+c->nIn, nFree);
  if( n>0 ){
    if( c->eState==CONN_HEAD && c->nIn==c->iReq ) c->iReqStart = connNow(c);
    c->nIn += (size_t)n;
    c->iReadAt = connNow(c);
  }else if( n==0 ){
    c->bPeerEof = 1;
  }else if( n==SSO_IO_WANT_WRITE ){
    c->bReadWantsWrite = 1;       /* TLS: handshake wants to send */
  }else if( n==SSO_IO_ERROR ){
    c->bDead = 1;
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
  ssoFree(c->aIn);
  ssoFree(c->aOut);
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
    updateInterest(c);
    schedule(c);
  }
  if( c->bDead ) closeConn(c);
}

static void onConnIo(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  Conn *c = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(fd);
  int bWantsRead = c->bWriteWantsRead, bWantsWrite = c->bReadWantsWrite;
  c->bBusy = 1;
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
  sigset_t all, old;
  int i, rc = SSOPROXY_OK;
  if( p->bRan ) return setErr(p, SSOPROXY_MISUSE, "server already ran");
  p->bRan = 1;
  /* Workers take no signals: the host's handler runs on its own thread
  ** and calls ssoServerStop(), which is all a handler may do anyway. */
  sigfillset(&all);
  /* Faults stay deliverable: blocking them would hide a crash. */
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGABRT);
  sigdelset(&all, SIGTRAP);
  pthread_sigmask(SIG_BLOCK, &all, &old);
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
static int reservedField(const char *zName){
  static const char *const az[] = {
    "content-length", "transfer-encoding", "connection", "date",
    "x-request-id", "keep-alive", "upgrade", "trailer"
  };
  SsoStr s;
  size_t i;
  s.z = zName;
  s.n = strlen(zName);
  for(i=0; i<SSO_ARRAYSIZE(az); i++){
    if( ssoHttpStrIEq(s, az[i]) ) return 1;
  }
  return 0;
}

static int ssoServerAddHeader(SsoServerReq *pReq, const char *zName,
                                   const char *zValue){
  Conn *c = reqConn(pReq);
  int rc = answerable(c, RESP_HEAD);
  const char *z;
  if( rc ) return rc;
  if( !ssoHttpIsToken(zName, strlen(zName)) ) return SSOPROXY_PARSE;
  if( reservedField(zName) ) return SSOPROXY_MISUSE;
  for(z=zValue; *z; z++){
    unsigned char ch = (unsigned char)*z;
    if( (ch<0x20 && ch!='\t') || ch==0x7f ) return SSOPROXY_PARSE;
  }
  outStr(c, zName);
  outAppend(c, ": ", 2);
  outStr(c, zValue);
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
/* Placeholder: the store module is being written. */
/* #include "ssoInt.h" */
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
