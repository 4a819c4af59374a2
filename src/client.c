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
#include "ssoInt.h"
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

SSO_PRIVATE void ssoClientParserInit(SsoClientParser *p, SsoHttpHeader *aHdr,
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

SSO_PRIVATE int ssoClientParserFeed(SsoClientParser *p, char *a, size_t n,
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

SSO_PRIVATE int ssoClientParserEof(SsoClientParser *p){
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

SSO_PRIVATE void ssoClientConfigInit(SsoClientConfig *p){
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

SSO_PRIVATE int ssoClientNew(SsoLoop *pLoop, const SsoClientConfig *pCfg,
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

SSO_PRIVATE int ssoClientIdleCount(const SsoClient *p){ return p->nIdle; }

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

SSO_PRIVATE int ssoClientRequest(SsoClient *p, const SsoClientReq *pReq,
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

SSO_PRIVATE void ssoClientCancel(SsoClientCall *c){
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

SSO_PRIVATE void ssoClientPause(SsoClientCall *c, int bPause){
  if( c==0 || hcGone(c) ) return;
  c->bPaused = (unsigned char)(bPause!=0);
  if( !c->bPaused ){
    /* Bytes may be buffered here or inside TLS: look at them soon. */
    ssoLoopDefer(c->pClient->pLoop, &c->task);
  }
  if( !c->bBusy ) hcAfter(c);
}

SSO_PRIVATE void ssoClientFree(SsoClient *p){
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
