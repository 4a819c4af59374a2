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
SSO_PRIVATE void ssoServerConfigInit(SsoServerConfig*);

/*
** Create the server and bind its listening sockets. Returns SSOPROXY_OK,
** _CONFIG (bad value), _NET (bind/listen failed: address in use...),
** _NOMEM. Unless out of memory *ppSrv is set even on failure so the
** caller can read ssoServerErrmsg(); ssoServerFree() releases it.
*/
SSO_PRIVATE int ssoServerNew(const SsoServerConfig*, SsoServer **ppSrv);
SSO_PRIVATE const char *ssoServerErrmsg(const SsoServer*);
/* "127.0.0.1:4000" or "[::1]:4000", with the real port. */
SSO_PRIVATE const char *ssoServerAddress(const SsoServer*);
SSO_PRIVATE int ssoServerWorkerCount(const SsoServer*);

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
SSO_PRIVATE int ssoServerRoute(SsoServer*, const char *zMethod,
                               const char *zPath, SsoServerHandler xHandler,
                               void *pArg);

/*
** Serve until ssoServerStop(), then: stop accepting, close idle
** connections, let in-flight requests finish until the shutdown deadline
** (then close what is left, telling async handlers through xAbort), run
** every xWorkerFree, and return SSOPROXY_OK. Callable once per server.
*/
SSO_PRIVATE int ssoServerRun(SsoServer*);
/*
** Ask a running (or about to run) server to stop. Async-signal-safe and
** thread-safe: it sets an atomic flag and writes to each worker's wake
** descriptor, nothing else. Returns at once.
*/
SSO_PRIVATE void ssoServerStop(SsoServer*);
/* Close listeners and free everything. Not while running. NULL ok. */
SSO_PRIVATE void ssoServerFree(SsoServer*);

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
SSO_PRIVATE int ssoServerHeader(const SsoServerReq*, const char *zName,
                                SsoStr *pVal);
/* 1 once the server is stopping (health checks answer 503). */
SSO_PRIVATE int ssoServerDraining(const SsoServerReq*);

/*
** Answering, the simple way: a status, an optional Content-Type and a
** full body (copied). Content-Length, Date, Connection and X-Request-Id
** are the server's business.
*/
SSO_PRIVATE int ssoServerRespond(SsoServerReq*, int iStatus,
                                 const char *zContentType,
                                 const void *pBody, size_t nBody);
/*
** An error in the LiteLLM/OpenAI envelope:
**   {"error":{"message":zMsg,"type":...,"param":null,"code":"<status>"}}
** type is "invalid_request_error" for 4xx, "internal_server_error" else.
*/
SSO_PRIVATE int ssoServerError(SsoServerReq*, int iStatus, const char *zMsg);

/*
** Answering field by field: ssoServerStatus(), any number of
** ssoServerAddHeader(), then either ssoServerBody() or the stream calls.
** AddHeader refuses (SSOPROXY_PARSE) a name that is not a token or a
** value with CR, LF or NUL (response splitting), and (SSOPROXY_MISUSE)
** the fields the server manages itself.
*/
SSO_PRIVATE int ssoServerStatus(SsoServerReq*, int iStatus);
SSO_PRIVATE int ssoServerAddHeader(SsoServerReq*, const char *zName,
                                   const char *zValue);
SSO_PRIVATE int ssoServerBody(SsoServerReq*, const void *pBody, size_t nBody);

/*
** Finish later. After ssoServerAsync() the handler may return before
** answering; the request stays valid until it answers. xAbort (may be
** NULL) is called, on the worker's thread, if the connection dies or the
** shutdown deadline passes first; the request is invalid once it returns.
** xDrain (may be NULL) is called when a paused stream may write again.
*/
typedef void (*SsoServerEventFn)(SsoServerReq*, void *pArg);
SSO_PRIVATE int ssoServerAsync(SsoServerReq*, SsoServerEventFn xAbort,
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
SSO_PRIVATE int ssoServerStreamBegin(SsoServerReq*);
SSO_PRIVATE int ssoServerStreamWrite(SsoServerReq*, const void *p, size_t n);
SSO_PRIVATE int ssoServerStreamWritable(const SsoServerReq*);
SSO_PRIVATE int ssoServerStreamEnd(SsoServerReq*);
/* Output bytes queued on this request's connection right now. */
SSO_PRIVATE size_t ssoServerQueued(const SsoServerReq*);

#endif /* SSO_SERVER_H */
