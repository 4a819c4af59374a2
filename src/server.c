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
#include "ssoInt.h"
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

SSO_PRIVATE void ssoServerConfigInit(SsoServerConfig *p){
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

SSO_PRIVATE const char *ssoServerErrmsg(const SsoServer *p){
  return p ? p->zErr : "out of memory";
}
SSO_PRIVATE const char *ssoServerAddress(const SsoServer *p){
  return p->zAddr;
}
SSO_PRIVATE int ssoServerWorkerCount(const SsoServer *p){
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

SSO_PRIVATE int ssoServerNew(const SsoServerConfig *pCfg, SsoServer **ppSrv){
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

SSO_PRIVATE void ssoServerFree(SsoServer *p){
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

SSO_PRIVATE int ssoServerRoute(SsoServer *p, const char *zMethod,
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

SSO_PRIVATE int ssoServerRun(SsoServer *p){
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

SSO_PRIVATE void ssoServerStop(SsoServer *p){
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

SSO_PRIVATE int ssoServerHeader(const SsoServerReq *pReq, const char *zName,
                                SsoStr *pVal){
  return ssoHttpHeaderFind(&reqConnC(pReq)->head, zName, pVal);
}

SSO_PRIVATE int ssoServerDraining(const SsoServerReq *pReq){
  const Conn *c = reqConnC(pReq);
  return c->pWorker->bStopping || atomic_load(&c->pWorker->pSrv->bStop);
}

SSO_PRIVATE size_t ssoServerQueued(const SsoServerReq *pReq){
  return outQueued(reqConnC(pReq));
}

/* Common precondition of the answering calls. */
static int answerable(const Conn *c, int eResp){
  if( c->bDead ) return SSOPROXY_NET;
  if( c->eState!=CONN_HANDLE || c->eResp!=eResp ) return SSOPROXY_MISUSE;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoServerStatus(SsoServerReq *pReq, int iStatus){
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

SSO_PRIVATE int ssoServerAddHeader(SsoServerReq *pReq, const char *zName,
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

SSO_PRIVATE int ssoServerBody(SsoServerReq *pReq, const void *pBody,
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

SSO_PRIVATE int ssoServerRespond(SsoServerReq *pReq, int iStatus,
                                 const char *zContentType,
                                 const void *pBody, size_t nBody){
  int rc = ssoServerStatus(pReq, iStatus);
  if( rc==SSOPROXY_OK && zContentType ){
    rc = ssoServerAddHeader(pReq, "Content-Type", zContentType);
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerBody(pReq, pBody, nBody);
  return rc;
}

SSO_PRIVATE int ssoServerError(SsoServerReq *pReq, int iStatus,
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

SSO_PRIVATE int ssoServerAsync(SsoServerReq *pReq, SsoServerEventFn xAbort,
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

SSO_PRIVATE int ssoServerStreamBegin(SsoServerReq *pReq){
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

SSO_PRIVATE int ssoServerStreamWritable(const SsoServerReq *pReq){
  const Conn *c = reqConnC(pReq);
  return !c->bDead && c->eResp==RESP_STREAM
      && outQueued(c)<c->pWorker->pSrv->cfg.nWriteHigh;
}

SSO_PRIVATE int ssoServerStreamWrite(SsoServerReq *pReq, const void *pData,
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

SSO_PRIVATE int ssoServerStreamEnd(SsoServerReq *pReq){
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
