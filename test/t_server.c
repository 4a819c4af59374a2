/*
** Tests for the event loop (src/loop.c), the server (src/server.c) and
** the health routes (src/health.c). The server runs on 127.0.0.1:0 in a
** thread of this process; the tests talk to it over raw sockets, read
** answers with our own response parser, and stop it with ssoServerStop()
** as the CLI's signal handler would.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

static void msleep(int ms){
  struct timespec ts;
  ts.tv_sec = ms/1000;
  ts.tv_nsec = (long)(ms%1000)*1000000L;
  while( nanosleep(&ts, &ts) && errno==EINTR ){}
}

/* ================= Event loop ================= */

typedef struct LoopProbe LoopProbe;
struct LoopProbe {
  SsoLoopTimer aT[8];
  int aOrder[8];
  int nFired;
  int nTask;
  int nRead;
  long long iStart;
};

static void probeFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  LoopProbe *p = pArg;
  SSO_UNUSED(pLoop);
  p->aOrder[p->nFired++] = (int)(t - p->aT);
}

static void test_loop_timers(void){
  SsoLoop *pLoop = 0;
  LoopProbe pr;
  long long t0;
  int i;
  memset(&pr, 0, sizeof(pr));
  CHECK_INT( ssoLoopNew(&pLoop), SSOPROXY_OK );
  if( pLoop==0 ) return;
  t0 = ssoLoopNow(pLoop);
  for(i=0; i<4; i++) ssoLoopTimerInit(&pr.aT[i], probeFire, &pr);
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[0], t0+60), SSOPROXY_OK );
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[1], t0+20), SSOPROXY_OK );
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[2], t0+40), SSOPROXY_OK );
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[3], t0+30), SSOPROXY_OK );
  ssoLoopTimerStop(pLoop, &pr.aT[3]);
  CHECK( !ssoLoopTimerArmed(&pr.aT[3]) );
  /* Later: lazy; earlier: immediate. */
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[1], t0+80), SSOPROXY_OK );
  CHECK_INT( ssoLoopTimerAt(pLoop, &pr.aT[0], t0+10), SSOPROXY_OK );
  while( pr.nFired<3 && ssoOsMonoMs()<t0+2000 ) ssoLoopRunOnce(pLoop, 100);
  CHECK_INT( pr.nFired, 3 );
  CHECK_INT( pr.aOrder[0], 0 );
  CHECK_INT( pr.aOrder[1], 2 );
  CHECK_INT( pr.aOrder[2], 1 );
  CHECK( ssoLoopNow(pLoop)>=t0+80 );
  ssoLoopFree(pLoop);
}

/* Many timers with deadlines in the past fire in deadline order. */
static SsoLoopTimer *aHeapT;
static long long iHeapLast;
static int nHeapBad, nHeapFired;
static void heapFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SSO_UNUSED(pLoop);
  SSO_UNUSED(pArg);
  if( t->iWhen<iHeapLast ) nHeapBad++;
  iHeapLast = t->iWhen;
  nHeapFired++;
}
static void test_loop_heap(void){
  SsoLoop *pLoop = 0;
  int i, n = 1000;
  unsigned x = 12345;
  CHECK_INT( ssoLoopNew(&pLoop), SSOPROXY_OK );
  if( pLoop==0 ) return;
  aHeapT = ssoMalloc(sizeof(SsoLoopTimer)*(size_t)n);
  iHeapLast = 0;
  nHeapBad = nHeapFired = 0;
  for(i=0; i<n; i++){
    ssoLoopTimerInit(&aHeapT[i], heapFire, 0);
    x = x*1103515245u + 12345u;
    ssoLoopTimerAt(pLoop, &aHeapT[i], 1 + (x>>8)%100000);
  }
  for(i=0; i<n; i+=3) ssoLoopTimerStop(pLoop, &aHeapT[i]);
  for(i=0; i<5 && nHeapFired<n-334; i++) ssoLoopRunOnce(pLoop, 0);
  CHECK_INT( nHeapFired, n - 334 );
  CHECK_INT( nHeapBad, 0 );
  ssoFree(aHeapT);
  ssoLoopFree(pLoop);
}

static void probeTask(SsoLoop *pLoop, SsoLoopTask *t, void *pArg){
  LoopProbe *p = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  p->nTask++;
}
static void probeRead(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  LoopProbe *p = pArg;
  char c;
  SSO_UNUSED(pLoop);
  if( eEvents & SSO_LOOP_READ ){
    p->nRead++;
    if( read(fd, &c, 1)!=1 ) p->nRead += 100;
  }
}
static void probeWakeExit(SsoLoop *pLoop, void *pArg){
  LoopProbe *p = pArg;
  p->nTask += 1000;
  ssoLoopExit(pLoop);
}
static void *wakeLater(void *pArg){
  msleep(50);
  ssoLoopWake((SsoLoop*)pArg);
  return 0;
}

static void test_loop_fds_tasks_wake(void){
  SsoLoop *pLoop = 0;
  LoopProbe pr;
  SsoLoopTask t;
  pthread_t tid;
  int a[2];
  memset(&pr, 0, sizeof(pr));
  CHECK_INT( ssoLoopNew(&pLoop), SSOPROXY_OK );
  if( pLoop==0 ) return;
  CHECK( pipe(a)==0 );
  ssoLoopSetNonBlock(a[0]);
  CHECK_INT( ssoLoopAdd(pLoop, a[0], SSO_LOOP_READ, probeRead, &pr),
             SSOPROXY_OK );
  CHECK_INT( ssoLoopAdd(pLoop, a[0], SSO_LOOP_READ, probeRead, &pr),
             SSOPROXY_MISUSE );
  CHECK( write(a[1], "xy", 2)==2 );
  ssoLoopRunOnce(pLoop, 1000);
  CHECK_INT( pr.nRead, 1 );
  ssoLoopRunOnce(pLoop, 1000);          /* level-triggered: the 2nd byte */
  CHECK_INT( pr.nRead, 2 );
  /* Mask 0: registered but quiet. */
  CHECK_INT( ssoLoopMod(pLoop, a[0], 0), SSOPROXY_OK );
  CHECK( write(a[1], "z", 1)==1 );
  ssoLoopRunOnce(pLoop, 30);
  CHECK_INT( pr.nRead, 2 );
  CHECK_INT( ssoLoopMod(pLoop, a[0], SSO_LOOP_READ), SSOPROXY_OK );
  ssoLoopRunOnce(pLoop, 1000);
  CHECK_INT( pr.nRead, 3 );
  ssoLoopDel(pLoop, a[0]);
  CHECK_INT( ssoLoopMod(pLoop, a[0], SSO_LOOP_READ), SSOPROXY_MISUSE );
  /* A task queued twice runs once; an unqueued one not at all. */
  ssoLoopTaskInit(&t, probeTask, &pr);
  ssoLoopDefer(pLoop, &t);
  ssoLoopDefer(pLoop, &t);
  ssoLoopRunOnce(pLoop, 0);
  CHECK_INT( pr.nTask, 1 );
  ssoLoopDefer(pLoop, &t);
  ssoLoopUndefer(pLoop, &t);
  ssoLoopRunOnce(pLoop, 0);
  CHECK_INT( pr.nTask, 1 );
  /* A wake-up from another thread ends ssoLoopRun(). */
  ssoLoopOnWake(pLoop, probeWakeExit, &pr);
  CHECK( pthread_create(&tid, 0, wakeLater, pLoop)==0 );
  CHECK_INT( ssoLoopRun(pLoop), SSOPROXY_OK );
  pthread_join(tid, 0);
  CHECK_INT( pr.nTask, 1001 );
  close(a[0]);
  close(a[1]);
  ssoLoopFree(pLoop);
}

/* SSO_LOOP_HUP: unread input does not report it; the peer's FIN does. */
typedef struct HupProbe HupProbe;
struct HupProbe { int nCall, eLast; };
static void probeHup(SsoLoop *pLoop, int fd, int eEvents, void *pArg){
  HupProbe *p = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(fd);
  p->nCall++;
  p->eLast = eEvents;
}
static void test_loop_hup(void){
  SsoLoop *pLoop = 0;
  HupProbe pr;
  char c;
  int a[2], i;
  memset(&pr, 0, sizeof(pr));
  CHECK_INT( ssoLoopNew(&pLoop), SSOPROXY_OK );
  if( pLoop==0 ) return;
  CHECK( socketpair(AF_UNIX, SOCK_STREAM, 0, a)==0 );
  ssoLoopSetNonBlock(a[0]);
  CHECK_INT( ssoLoopAdd(pLoop, a[0], SSO_LOOP_HUP, probeHup, &pr),
             SSOPROXY_OK );
  /* Pipelined input: no event, however often the loop turns, and the
  ** byte stays unread. */
  CHECK( write(a[1], "x", 1)==1 );
  for(i=0; i<5; i++) ssoLoopRunOnce(pLoop, 20);
  CHECK_INT( pr.nCall, 0 );
  CHECK( recv(a[0], &c, 1, MSG_PEEK)==1 && c=='x' );
  /* Take it, re-arm, and the peer's half-close is reported as HUP. */
  CHECK( read(a[0], &c, 1)==1 );
  CHECK_INT( ssoLoopMod(pLoop, a[0], 0), SSOPROXY_OK );
  CHECK_INT( ssoLoopMod(pLoop, a[0], SSO_LOOP_HUP), SSOPROXY_OK );
  ssoLoopRunOnce(pLoop, 20);
  CHECK_INT( pr.nCall, 0 );
  CHECK( shutdown(a[1], SHUT_WR)==0 );
  ssoLoopRunOnce(pLoop, 1000);
  CHECK_INT( pr.nCall, 1 );
  CHECK_INT( pr.eLast, SSO_LOOP_HUP );
  /* Asked for WRITE as well: HUP comes with it, READ (not asked) not. */
  CHECK_INT( ssoLoopMod(pLoop, a[0], SSO_LOOP_HUP|SSO_LOOP_WRITE),
             SSOPROXY_OK );
  ssoLoopRunOnce(pLoop, 1000);
  CHECK_INT( pr.nCall, 2 );
  CHECK( (pr.eLast & SSO_LOOP_HUP)!=0 && (pr.eLast & SSO_LOOP_READ)==0 );
  ssoLoopDel(pLoop, a[0]);
  close(a[0]);
  close(a[1]);
  ssoLoopFree(pLoop);
}

static void test_loop_hostport(void){
  char zHost[64];
  int iPort = -1;
  CHECK_INT( ssoLoopParseHostPort("127.0.0.1:4000", zHost, 64, &iPort), 0 );
  CHECK_STR( zHost, "127.0.0.1" );
  CHECK_INT( iPort, 4000 );
  CHECK_INT( ssoLoopParseHostPort("[::1]:0", zHost, 64, &iPort), 0 );
  CHECK_STR( zHost, "::1" );
  CHECK_INT( iPort, 0 );
  CHECK_INT( ssoLoopParseHostPort(":8080", zHost, 64, &iPort), 0 );
  CHECK_STR( zHost, "" );
  CHECK_INT( iPort, 8080 );
  CHECK_INT( ssoLoopParseHostPort("localhost", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("::1:80", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("h:65536", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("h:-1", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("h:", zHost, 64, &iPort), SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("[::1]80", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
  CHECK_INT( ssoLoopParseHostPort("[]:80", zHost, 64, &iPort),
             SSOPROXY_CONFIG );
}

static int loopOomBody(void *pArg){
  SsoLoop *pLoop = 0;
  SsoLoopTimer aT[100];
  int i, rc, a[2];
  SSO_UNUSED(pArg);
  rc = ssoLoopNew(&pLoop);
  if( rc ) return rc;
  for(i=0; i<100 && rc==0; i++){
    ssoLoopTimerInit(&aT[i], probeFire, 0);
    rc = ssoLoopTimerAt(pLoop, &aT[i], 1000000+i);
  }
  if( rc==0 && pipe(a)==0 ){
    /* A high fd makes the descriptor table grow. */
    int fd = fcntl(a[0], F_DUPFD, 300);
    rc = fd<0 ? SSOPROXY_IOERR : ssoLoopAdd(pLoop, fd, SSO_LOOP_READ,
                                            probeRead, 0);
    if( rc==0 ) ssoLoopDel(pLoop, fd);
    if( fd>=0 ) close(fd);
    close(a[0]);
    close(a[1]);
  }
  ssoLoopFree(pLoop);
  return rc;
}
static int loopOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return rc==SSOPROXY_OK || (bFaulted && rc==SSOPROXY_NOMEM);
}
/* Lines logged inside an iteration wait for its end, and no longer. */
typedef struct LoopLog LoopLog;
struct LoopLog { SsoLog lg; int fdRead; int nEarly; int nFired; };
static void loopLogFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  LoopLog *p = pArg;
  char z[256];
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  ssoLog(&p->lg, SSO_LOG_INFO, "from-timer", (char*)0);
  if( read(p->fdRead, z, sizeof(z))>0 ) p->nEarly++;
  p->nFired++;
}

static void test_loop_batches_log(void){
  SsoLoop *pLoop = 0;
  SsoLoopTimer t;
  LoopLog ll;
  int fds[2];
  char z[512];
  ssize_t n;
  long long t0;
  memset(&ll, 0, sizeof(ll));
  CHECK( pipe(fds)==0 );
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ll.fdRead = fds[0];
  ssoLogInit(&ll.lg, fds[1], SSO_LOG_INFO, 0);
  CHECK_INT( ssoLoopNew(&pLoop), SSOPROXY_OK );
  if( pLoop==0 ) return;
  ssoLoopTimerInit(&t, loopLogFire, &ll);
  t0 = ssoLoopNow(pLoop);
  CHECK_INT( ssoLoopTimerAt(pLoop, &t, t0), SSOPROXY_OK );
  while( ll.nFired==0 && ssoOsMonoMs()<t0+2000 ) ssoLoopRunOnce(pLoop, 100);
  CHECK_INT( ll.nFired, 1 );
  CHECK_INT( ll.nEarly, 0 );
  n = read(fds[0], z, sizeof(z)-1);
  CHECK( n>0 );
  z[n>0 ? n : 0] = 0;
  CHECK( strstr(z, " msg=from-timer\n")!=0 );
  CHECK_INT( ssoLogBatch(0), 0 );     /* the iteration turned it off again */
  ssoLoopFree(pLoop);
  close(fds[0]);
  close(fds[1]);
}

static void test_loop_oom(void){
  CHECK( faultRun(loopOomBody, loopOomCheck, 0)>3 );
}

/* ================= Test server ================= */

typedef struct TSrv TSrv;
struct TSrv {
  SsoServer *p;
  pthread_t tid;
  int rcRun;
  int bRunning;
  int iPort;
  int fdLog;            /* Access log file, or -1 */
  SsoLog log;
  SsoHealth health;
};

static atomic_int nWorkerInit, nWorkerFreeOk, nAborted;
static int bDbDown;

static int tsWorkerInit(void *pArg, int iWorker, void **ppCtx){
  int *p = ssoMalloc(sizeof(int));
  SSO_UNUSED(pArg);
  if( p==0 ) return SSOPROXY_NOMEM;
  *p = 100 + iWorker;
  *ppCtx = p;
  atomic_fetch_add(&nWorkerInit, 1);
  return SSOPROXY_OK;
}
static void tsWorkerFree(void *pArg, int iWorker, void *pCtx){
  SSO_UNUSED(pArg);
  if( pCtx && *(int*)pCtx==100+iWorker ) atomic_fetch_add(&nWorkerFreeOk, 1);
  ssoFree(pCtx);
}

static int onHello(SsoServerReq *pReq, void *pArg){
  SSO_UNUSED(pArg);
  return ssoServerRespond(pReq, 200, "text/plain", "hello", 5);
}

static int onEcho(SsoServerReq *pReq, void *pArg){
  SSO_UNUSED(pArg);
  return ssoServerRespond(pReq, 200, "application/octet-stream",
                          pReq->pBody, pReq->nBody);
}

static int onInfo(SsoServerReq *pReq, void *pArg){
  char z[1024];
  SsoStr x = {"-", 1};
  int n;
  SSO_UNUSED(pArg);
  ssoServerHeader(pReq, "x-TEST", &x);
  n = snprintf(z, sizeof(z), "m=%.*s p=%.*s q=%.*s w=%d ctx=%d c=%s n=%zu "
               "x=%.*s id=%s",
               (int)pReq->method.n, pReq->method.z,
               (int)pReq->path.n, pReq->path.z,
               (int)pReq->query.n, pReq->query.z, pReq->iWorker,
               pReq->pWorkerCtx ? *(int*)pReq->pWorkerCtx : -1,
               pReq->zClient, pReq->nBody, (int)x.n, x.z, pReq->zId);
  return ssoServerRespond(pReq, 200, "text/plain", z, (size_t)n);
}

static int onPrefix(SsoServerReq *pReq, void *pArg){
  char z[256];
  int n = snprintf(z, sizeof(z), "prefix %s %.*s", (const char*)pArg,
                   (int)pReq->path.n, pReq->path.z);
  return ssoServerRespond(pReq, 200, "text/plain", z, (size_t)n);
}

static int onFail(SsoServerReq *pReq, void *pArg){
  SSO_UNUSED(pArg);
  ssoServerStatus(pReq, 201);
  ssoServerAddHeader(pReq, "X-Half", "built");
  return SSOPROXY_ERROR;
}

static int onForget(SsoServerReq *pReq, void *pArg){
  SSO_UNUSED(pReq);
  SSO_UNUSED(pArg);
  return SSOPROXY_OK;
}

/* The response API refuses what would split or desynchronise a response. */
static int onHeaderRules(SsoServerReq *pReq, void *pArg){
  int a[6];
  char z[64];
  SSO_UNUSED(pArg);
  a[0] = ssoServerBody(pReq, "x", 1);                  /* before Status */
  a[1] = ssoServerStatus(pReq, 200);
  a[2] = ssoServerAddHeader(pReq, "X-Evil", "a\r\nSet-Cookie: x=1");
  a[3] = ssoServerAddHeader(pReq, "Bad Name", "v");
  a[4] = ssoServerAddHeader(pReq, "content-length", "9");
  a[5] = ssoServerAddHeader(pReq, "X-Fine", "v\t1");
  snprintf(z, sizeof(z), "%d %d %d %d %d %d", a[0], a[1], a[2], a[3], a[4],
           a[5]);
  return ssoServerBody(pReq, z, strlen(z));
}

/* ---- Async: answer after ?ms (default 200) from a loop timer ---- */
typedef struct SlowReq SlowReq;
struct SlowReq {
  SsoLoopTimer t;
  SsoServerReq *pReq;
};
static void onSlowFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SlowReq *s = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  ssoServerRespond(s->pReq, 200, "text/plain", "slow done", 9);
  ssoFree(s);
}
static void onSlowAbort(SsoServerReq *pReq, void *pArg){
  SlowReq *s = pArg;
  ssoLoopTimerStop(pReq->pLoop, &s->t);
  ssoFree(s);
  atomic_fetch_add(&nAborted, 1);
}
static int onSlow(SsoServerReq *pReq, void *pArg){
  SlowReq *s = ssoMalloc(sizeof(SlowReq));
  int ms = 200;
  SSO_UNUSED(pArg);
  if( s==0 ) return SSOPROXY_NOMEM;
  if( pReq->query.n>3 && memcmp(pReq->query.z, "ms=", 3)==0 ){
    ms = atoi(pReq->query.z+3);
  }
  s->pReq = pReq;
  ssoLoopTimerInit(&s->t, onSlowFire, s);
  ssoLoopTimerAt(pReq->pLoop, &s->t, ssoLoopNow(pReq->pLoop) + ms);
  return ssoServerAsync(pReq, onSlowAbort, 0, s);
}

/* ---- Streaming with back-pressure ---- */
typedef struct StreamState StreamState;
struct StreamState {
  size_t nSent, nTotal, nChunk;
  size_t mxQueued;      /* Largest queue seen right after a write */
  int nPause;           /* Times the producer was told to wait */
  int bEnded, bAborted;
  char aChunk[16384];
};
static StreamState gStream;

static void streamPump(SsoServerReq *pReq, void *pArg){
  StreamState *s = pArg;
  while( s->nSent<s->nTotal ){
    size_t n = s->nTotal - s->nSent, i, q;
    int rc;
    if( n>s->nChunk ) n = s->nChunk;
    for(i=0; i<n; i++) s->aChunk[i] = (char)((s->nSent+i)%251);
    rc = ssoServerStreamWrite(pReq, s->aChunk, n);
    if( rc==SSOPROXY_TOOBIG ){
      s->nPause++;
      return;                     /* xDrain calls us again */
    }
    if( rc ) return;
    s->nSent += n;
    q = ssoServerQueued(pReq);
    if( q>s->mxQueued ) s->mxQueued = q;
  }
  s->bEnded = 1;
  ssoServerStreamEnd(pReq);
}
static void streamAbort(SsoServerReq *pReq, void *pArg){
  StreamState *s = pArg;
  SSO_UNUSED(pReq);
  s->bAborted = 1;
}
static int onStream(SsoServerReq *pReq, void *pArg){
  StreamState *s = &gStream;
  int rc;
  SSO_UNUSED(pArg);
  s->nSent = 0;
  s->mxQueued = 0;
  s->nPause = 0;
  s->bEnded = s->bAborted = 0;
  rc = ssoServerAsync(pReq, streamAbort, streamPump, s);
  if( rc==SSOPROXY_OK ) rc = ssoServerStatus(pReq, 200);
  if( rc==SSOPROXY_OK ){
    rc = ssoServerAddHeader(pReq, "Content-Type", "text/event-stream");
  }
  if( rc==SSOPROXY_OK ) rc = ssoServerStreamBegin(pReq);
  if( rc==SSOPROXY_OK ) streamPump(pReq, s);
  return rc;
}

/* ---- A stream that sends "tick" then waits (60 s) before ending ---- */
static void onTrickleFire(SsoLoop *pLoop, SsoLoopTimer *t, void *pArg){
  SlowReq *s = pArg;
  SSO_UNUSED(pLoop);
  SSO_UNUSED(t);
  ssoServerStreamWrite(s->pReq, "end", 3);
  ssoServerStreamEnd(s->pReq);
  ssoFree(s);
}
static int onTrickle(SsoServerReq *pReq, void *pArg){
  SlowReq *s = ssoMalloc(sizeof(SlowReq));
  int rc;
  SSO_UNUSED(pArg);
  if( s==0 ) return SSOPROXY_NOMEM;
  s->pReq = pReq;
  ssoLoopTimerInit(&s->t, onTrickleFire, s);
  rc = ssoServerAsync(pReq, onSlowAbort, 0, s);
  if( rc ){
    ssoFree(s);
    return rc;
  }
  ssoLoopTimerAt(pReq->pLoop, &s->t, ssoLoopNow(pReq->pLoop) + 60000);
  rc = ssoServerStatus(pReq, 200);
  if( rc==SSOPROXY_OK ) rc = ssoServerStreamBegin(pReq);
  if( rc==SSOPROXY_OK ) rc = ssoServerStreamWrite(pReq, "tick", 4);
  return rc;
}

static int tsDbReady(void *pCtx, void *pArg, char *zReason, size_t nReason){
  SSO_UNUSED(pArg);
  if( pCtx==0 ) return 1;
  if( bDbDown ){
    snprintf(zReason, nReason, "disk on fire");
    return 1;
  }
  return 0;
}

static void tsConfig(SsoServerConfig *c){
  ssoServerConfigInit(c);
  c->zListen = "127.0.0.1:0";
  c->nWorker = 2;
  c->xWorkerInit = tsWorkerInit;
  c->xWorkerFree = tsWorkerFree;
}

static void *tsThread(void *pArg){
  TSrv *t = pArg;
  t->rcRun = ssoServerRun(t->p);
  return 0;
}

static int tsPortOf(const char *zAddr){
  const char *z = strrchr(zAddr, ':');
  return z ? atoi(z+1) : 0;
}

/* Start a server with the test routes. Returns 0 on success. */
static int tsStart(TSrv *t, SsoServerConfig *c, int bLog){
  static char zV1[] = "v1", zV1Chat[] = "v1chat";
  int rc;
  memset(t, 0, sizeof(*t));
  t->fdLog = -1;
  if( bLog ){
    char zName[] = "/tmp/ssoproxy-log-XXXXXX";
    t->fdLog = mkstemp(zName);
    unlink(zName);
    ssoLogInit(&t->log, t->fdLog, SSO_LOG_INFO, 0);
    c->pLog = &t->log;
  }
  atomic_store(&nWorkerInit, 0);
  atomic_store(&nWorkerFreeOk, 0);
  atomic_store(&nAborted, 0);
  bDbDown = 0;
  rc = ssoServerNew(c, &t->p);
  if( rc ){
    fprintf(stderr, "  server: %s\n", ssoServerErrmsg(t->p));
    ssoServerFree(t->p);
    t->p = 0;
    return rc;
  }
  t->health.xDbReady = tsDbReady;
  rc = ssoServerRoute(t->p, "GET", "/hello", onHello, 0)
    || ssoServerRoute(t->p, "POST", "/echo", onEcho, 0)
    || ssoServerRoute(t->p, "PUT", "/echo", onEcho, 0)
    || ssoServerRoute(t->p, 0, "/info", onInfo, 0)
    || ssoServerRoute(t->p, "GET", "/v1/*", onPrefix, zV1)
    || ssoServerRoute(t->p, "POST", "/v1/chat/*", onPrefix, zV1Chat)
    || ssoServerRoute(t->p, "GET", "/fail", onFail, 0)
    || ssoServerRoute(t->p, "GET", "/forget", onForget, 0)
    || ssoServerRoute(t->p, "GET", "/rules", onHeaderRules, 0)
    || ssoServerRoute(t->p, "GET", "/slow", onSlow, 0)
    || ssoServerRoute(t->p, "GET", "/stream", onStream, 0)
    || ssoServerRoute(t->p, "GET", "/trickle", onTrickle, 0)
    || ssoHealthRegister(t->p, &t->health);
  if( rc==0 ) rc = pthread_create(&t->tid, 0, tsThread, t);
  if( rc ){
    ssoServerFree(t->p);
    t->p = 0;
    return 1;
  }
  t->bRunning = 1;
  t->iPort = tsPortOf(ssoServerAddress(t->p));
  return 0;
}

/* Stop (as a signal handler would) and wait. Returns ssoServerRun's rc. */
static int tsStop(TSrv *t){
  if( t->bRunning ){
    ssoServerStop(t->p);
    pthread_join(t->tid, 0);
    t->bRunning = 0;
  }
  ssoServerFree(t->p);
  t->p = 0;
  return t->rcRun;
}

/* ---- Raw client ---- */
typedef struct Cli Cli;
struct Cli {
  int fd;
  size_t n;             /* Bytes buffered in a[] */
  char a[65536];
};

static int cliOpenAt(Cli *c, int iFamily, int iPort){
  struct timeval tv = { 5, 0 };
  int fd = socket(iFamily, SOCK_STREAM, 0), rc;
  c->fd = -1;
  c->n = 0;
  if( fd<0 ) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if( iFamily==AF_INET6 ){
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons((unsigned short)iPort);
    sa.sin6_addr = in6addr_loopback;
    rc = connect(fd, (struct sockaddr*)&sa, sizeof(sa));
  }else{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)iPort);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, (struct sockaddr*)&sa, sizeof(sa));
  }
  if( rc ){
    close(fd);
    return -1;
  }
  c->fd = fd;
  return 0;
}
static int cliOpen(Cli *c, const TSrv *t){
  return cliOpenAt(c, AF_INET, t->iPort);
}

static void cliClose(Cli *c){
  if( c->fd>=0 ) close(c->fd);
  c->fd = -1;
}

static int cliSendN(Cli *c, const char *z, size_t n){
  while( n>0 ){
    ssize_t k = send(c->fd, z, n, MSG_NOSIGNAL);
    if( k<=0 ) return -1;
    z += k;
    n -= (size_t)k;
  }
  return 0;
}
static int cliSend(Cli *c, const char *z){ return cliSendN(c, z, strlen(z)); }

/* Read more into the buffer. 0 ok, -1 EOF/error/timeout. */
static int cliFill(Cli *c){
  ssize_t k;
  if( c->n>=sizeof(c->a) ) return -1;
  k = recv(c->fd, c->a+c->n, sizeof(c->a)-c->n, 0);
  if( k<=0 ) return -1;
  c->n += (size_t)k;
  return 0;
}

static void cliConsume(Cli *c, size_t n){
  memmove(c->a, c->a+n, c->n-n);
  c->n -= n;
}

/* 1 if the peer closed (EOF or reset) within the receive timeout. */
static int cliSeesClose(Cli *c){
  char z[256];
  for(;;){
    ssize_t k = recv(c->fd, z, sizeof(z), 0);
    if( k==0 ) return 1;
    if( k<0 ) return errno==ECONNRESET;
  }
}

typedef struct Resp Resp;
struct Resp {
  int iStatus;
  char zHead[8192];
  SsoHttpHeader aHdr[32];
  SsoHttpHead h;
  char *zBody;          /* malloc()ed, NUL-terminated */
  size_t nBody;
};

static const SsoHttpLimits cliLim = { 8192, 8192 };

static void respFree(Resp *r){
  free(r->zBody);
  r->zBody = 0;
}

static int respHdr(Resp *r, const char *zName, const char *zWant){
  SsoStr v;
  if( !ssoHttpHeaderFind(&r->h, zName, &v) ) return zWant==0;
  return zWant && v.n==strlen(zWant) && memcmp(v.z, zWant, v.n)==0;
}

static void bodyGrow(Resp *r, size_t nMore){
  r->zBody = realloc(r->zBody, r->nBody + nMore + 1);
  if( r->zBody==0 ) abort();
}

static int readChunkedBody(Cli *c, Resp *r){
  SsoHttpChunked ch;
  ssoHttpChunkedInit(&ch, 4096, (size_t)1<<40);
  for(;;){
    size_t nUsed = 0, nOut = 0;
    int rc;
    bodyGrow(r, c->n);
    rc = ssoHttpChunkedDecode(&ch, c->a, c->n, r->zBody+r->nBody, &nUsed,
                              &nOut);
    r->nBody += nOut;
    cliConsume(c, nUsed);
    if( rc==1 ) return 0;
    if( rc<0 || cliFill(c) ) return -1;
  }
}

/*
** Read one response. bHead: it answers a HEAD (no body whatever the
** fields say). Returns 0, or -1 on EOF, timeout or a malformed answer.
*/
static int cliRead(Cli *c, Resp *r, int bHead){
  int rc;
  memset(r, 0, sizeof(*r));
  r->h.aHdr = r->aHdr;
  r->h.mxHdr = 32;
  while( (rc = ssoHttpParseResponse(c->a, c->n, 0, &cliLim, &r->h))
         ==SSO_HTTP_PARTIAL ){
    if( cliFill(c) ) return -1;
  }
  if( rc<0 ) return -1;
  memcpy(r->zHead, c->a, (size_t)rc);
  ssoHttpParseResponse(r->zHead, (size_t)rc, 0, &cliLim, &r->h);
  cliConsume(c, (size_t)rc);
  r->iStatus = r->h.iStatus;
  bodyGrow(r, 0);
  if( bHead || r->iStatus<200 || r->iStatus==204 || r->iStatus==304 ){
    r->h.eBody = SSO_HTTP_BODY_NONE;
  }
  switch( r->h.eBody ){
    case SSO_HTTP_BODY_LENGTH:
      while( c->n<r->h.nBody ){
        if( cliFill(c) ) return -1;
      }
      r->nBody = (size_t)r->h.nBody;
      bodyGrow(r, 0);
      memcpy(r->zBody, c->a, r->nBody);
      cliConsume(c, r->nBody);
      break;
    case SSO_HTTP_BODY_CHUNKED:
      if( readChunkedBody(c, r) ) return -1;
      break;
    case SSO_HTTP_BODY_EOF:
      for(;;){
        bodyGrow(r, c->n);
        memcpy(r->zBody+r->nBody, c->a, c->n);
        r->nBody += c->n;
        c->n = 0;
        if( cliFill(c) ) break;
      }
      break;
  }
  r->zBody[r->nBody] = 0;
  return 0;
}

/* One request on a fresh connection; the status, body in *r. */
static int oneShot(const TSrv *t, const char *zReq, Resp *r, int bHead){
  Cli c;
  int rc;
  if( cliOpen(&c, t) ) return -1;
  rc = cliSend(&c, zReq) ? -1 : cliRead(&c, r, bHead);
  cliClose(&c);
  return rc ? -1 : r->iStatus;
}

/* ================= Server tests ================= */

static void test_server_basic(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  int i;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( t.iPort>0 );
  CHECK( strncmp(ssoServerAddress(t.p), "127.0.0.1:", 10)==0 );
  CHECK_INT( ssoServerWorkerCount(t.p), 2 );
  CHECK( cliOpen(&c, &t)==0 );
  /* Keep-alive: several requests on one connection. */
  for(i=0; i<3; i++){
    CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
    CHECK( cliRead(&c, &r, 0)==0 );
    CHECK_INT( r.iStatus, 200 );
    CHECK_STR( r.zBody, "hello" );
    CHECK( respHdr(&r, "Content-Length", "5") );
    CHECK( respHdr(&r, "Content-Type", "text/plain") );
    CHECK( respHdr(&r, "Connection", 0) );
    CHECK( ssoHttpHeaderFind(&r.h, "Date", 0) );
    {
      SsoStr v;
      CHECK( ssoHttpHeaderFind(&r.h, "X-Request-Id", &v) && v.n==16 );
    }
    respFree(&r);
  }
  /* The request object: path without query, query, headers, worker ctx. */
  CHECK( cliSend(&c, "GET /info?a=1&b=2 HTTP/1.1\r\nHost: x\r\n"
                     "x-test: Value\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( strstr(r.zBody, "m=GET p=/info q=a=1&b=2 ")!=0 );
  CHECK( strstr(r.zBody, " x=Value ")!=0 );
  CHECK( strstr(r.zBody, " c=127.0.0.1:")!=0 );
  CHECK( strstr(r.zBody, " ctx=10")!=0 );      /* 100 + worker index */
  respFree(&r);
  /* Absolute-form target. */
  CHECK( cliSend(&c, "GET http://x:4000/info?q HTTP/1.1\r\nHost: x\r\n\r\n")
         ==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( strstr(r.zBody, "p=/info q=q ")!=0 );
  respFree(&r);
  /* Connection: close is honoured. */
  CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close"
                     "\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( respHdr(&r, "Connection", "close") );
  respFree(&r);
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  /* HTTP/1.0: close by default, keep-alive when asked. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
         ==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( respHdr(&r, "Connection", "keep-alive") );
  respFree(&r);
  CHECK( cliSend(&c, "GET /hello HTTP/1.0\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  CHECK( respHdr(&r, "Connection", "close") );
  respFree(&r);
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nWorkerInit), 2 );
  CHECK_INT( atomic_load(&nWorkerFreeOk), 2 );
}

static void test_server_pipeline(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  SsoBuf b;
  int i;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  /* An async answer first: the later ones must wait their turn. */
  CHECK( cliSend(&c,
    "GET /slow?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    "GET /info?n=3 HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "2\r\nde\r\n1;x=y\r\nf\r\n0\r\nT: v\r\n\r\n"
    "\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "slow done" );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "abc" );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( strstr(r.zBody, "q=n=3")!=0 );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "def" );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  /* Many at once, written in one go: answered in order. */
  ssoBufInit(&b, 0);
  for(i=0; i<200; i++){
    ssoBufPrintf(&b, "GET /info?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
  }
  CHECK( cliSendN(&c, b.z, b.n)==0 );
  ssoBufFree(&b);
  for(i=0; i<200; i++){
    char zWant[32];
    snprintf(zWant, sizeof(zWant), "q=i=%d ", i);
    CHECK( cliRead(&c, &r, 0)==0 );
    CHECK( r.zBody && strstr(r.zBody, zWant)!=0 );
    respFree(&r);
  }
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

/* A request that ends in an error answer with this status. */
static void expectStatus(const TSrv *t, const char *zReq, int iStatus,
                         int bClose){
  Cli c;
  Resp r;
  if( cliOpen(&c, t) ){ CHECK( 0 ); return; }
  CHECK( cliSend(&c, zReq)==0 );
  if( cliRead(&c, &r, 0) ){
    fprintf(stderr, "  no answer to: %.60s\n", zReq);
    CHECK( 0 );
    cliClose(&c);
    return;
  }
  if( r.iStatus!=iStatus ) fprintf(stderr, "  %.60s\n", zReq);
  CHECK_INT( r.iStatus, iStatus );
  if( bClose ){
    CHECK( respHdr(&r, "Connection", "close") );
    CHECK( cliSeesClose(&c) );
  }
  respFree(&r);
  cliClose(&c);
}

static void test_server_errors(void){
  SsoServerConfig cfg;
  TSrv t;
  Resp r;
  SsoBuf b;
  Cli c;
  int i;
  tsConfig(&cfg);
  cfg.mxBody = 1000;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  /* 404 in the LiteLLM envelope. */
  CHECK_INT( oneShot(&t, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0), 404 );
  CHECK_STR( r.zBody, "{\"error\":{\"message\":\"Not Found\",\"type\":"
             "\"invalid_request_error\",\"param\":null,\"code\":\"404\"}}" );
  CHECK( respHdr(&r, "Content-Type", "application/json") );
  CHECK( respHdr(&r, "Connection", 0) );          /* stays open */
  respFree(&r);
  /* 405 with Allow; automatic OPTIONS; HEAD through GET. */
  CHECK_INT( oneShot(&t, "DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0),
             405 );
  CHECK( respHdr(&r, "Allow", "GET, HEAD, OPTIONS") );
  CHECK( strstr(r.zBody, "\"code\":\"405\"")!=0 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0),
             405 );
  CHECK( respHdr(&r, "Allow", "POST, PUT, OPTIONS") );
  respFree(&r);
  CHECK_INT( oneShot(&t, "OPTIONS /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0),
             204 );
  CHECK( respHdr(&r, "Allow", "GET, HEAD, OPTIONS") );
  respFree(&r);
  /* HEAD: same headers, no body; the connection stays usable. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 1)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK( respHdr(&r, "Content-Length", "5") );
  CHECK_INT( r.nBody, 0 );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  cliClose(&c);
  /* Routing by prefix: longest prefix wins, exact beats prefix. */
  CHECK_INT( oneShot(&t, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0),
             200 );
  CHECK_STR( r.zBody, "prefix v1 /v1/models" );
  respFree(&r);
  CHECK_INT( oneShot(&t, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 2\r\n\r\n{}", &r, 0), 200 );
  CHECK_STR( r.zBody, "prefix v1chat /v1/chat/completions" );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /v1 HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0), 404 );
  respFree(&r);
  /* Handler failures: 500, and half-built heads are dropped. */
  CHECK_INT( oneShot(&t, "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0), 500 );
  CHECK( respHdr(&r, "X-Half", 0) );
  CHECK( strstr(r.zBody, "internal_server_error")!=0 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /forget HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0),
             500 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /rules HTTP/1.1\r\nHost: x\r\n\r\n", &r, 0), 200);
  CHECK_STR( r.zBody, "6 0 7 7 6 0" );    /* MISUSE OK PARSE PARSE MISUSE OK */
  CHECK( respHdr(&r, "X-Fine", "v\t1") );
  CHECK( respHdr(&r, "X-Evil", 0) );
  respFree(&r);
  /* Protocol errors: answer, then close. */
  expectStatus(&t, "GET / HTTP/1.1\nHost: x\n\n", 400, 1);
  expectStatus(&t, "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n", 400, 1);
  expectStatus(&t, "GET /hello HTTP/3.0\r\nHost: x\r\n\r\n", 505, 1);
  expectStatus(&t, "GET /a/../hello HTTP/1.1\r\nHost: x\r\n\r\n", 400, 1);
  expectStatus(&t, "GET /hello/. HTTP/1.1\r\nHost: x\r\n\r\n", 400, 1);
  expectStatus(&t, "GET /hello HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n\r\n",
               417, 1);
  expectStatus(&t, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n"
                   "\r\n", 413, 1);
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n");
  for(i=0; i<3; i++){
    int k;
    ssoBufAppendStr(&b, "190\r\n");          /* 400 bytes per chunk */
    for(k=0; k<400; k++) ssoBufAppendChar(&b, 'A');
    ssoBufAppendStr(&b, "\r\n");
  }
  ssoBufAppendStr(&b, "0\r\n\r\n");
  expectStatus(&t, b.z, 413, 1);
  ssoBufFree(&b);
  /* Line and head limits. */
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "GET /");
  for(i=0; i<9000; i++) ssoBufAppendChar(&b, 'a');
  ssoBufAppendStr(&b, " HTTP/1.1\r\nHost: x\r\n\r\n");
  expectStatus(&t, b.z, 414, 1);
  ssoBufTruncate(&b, 0);
  ssoBufAppendStr(&b, "GET /hello HTTP/1.1\r\nHost: x\r\n");
  for(i=0; i<70; i++) ssoBufPrintf(&b, "X-H%d: v\r\n", i);
  ssoBufAppendStr(&b, "\r\n");
  expectStatus(&t, b.z, 431, 1);
  ssoBufTruncate(&b, 0);
  ssoBufAppendStr(&b, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
  for(i=0; i<20000; i++) ssoBufAppendChar(&b, 'b');
  ssoBufAppendStr(&b, "\r\n\r\n");
  expectStatus(&t, b.z, 431, 1);
  ssoBufFree(&b);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

static void test_server_continue(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  tsConfig(&cfg);
  cfg.mxBody = 1000;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 100 );
  respFree(&r);
  CHECK( cliSend(&c, "howdy")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK_STR( r.zBody, "howdy" );
  respFree(&r);
  /* Chunked with 100-continue, the body sent in dribbles. */
  CHECK( cliSend(&c, "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                     "chunked\r\nExpect: 100-continue\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 100 );
  respFree(&r);
  CHECK( cliSend(&c, "4\r\nab")==0 );
  msleep(20);
  CHECK( cliSend(&c, "cd\r\n")==0 );
  msleep(20);
  CHECK( cliSend(&c, "0\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "abcd" );
  respFree(&r);
  /* Body already on its way: no 100. */
  CHECK( cliSend(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                     "Expect: 100-continue\r\n\r\nhi")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK_STR( r.zBody, "hi" );
  respFree(&r);
  cliClose(&c);
  /* Known failures are told at once, without a 100. */
  expectStatus(&t, "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   "Expect: 100-continue\r\n\r\n", 404, 1);
  expectStatus(&t, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                   "Expect: 100-continue\r\n\r\n", 413, 1);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

static void test_server_timeouts(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  long long t0;
  tsConfig(&cfg);
  cfg.msHeader = 300;
  cfg.msBody = 300;
  cfg.msKeepAlive = 300;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  /* Slow head: 408, then close. */
  CHECK( cliOpen(&c, &t)==0 );
  t0 = ssoOsMonoMs();
  CHECK( cliSend(&c, "GET /hello HT")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 408 );
  CHECK( respHdr(&r, "Connection", "close") );
  CHECK( ssoOsMonoMs()-t0 >= 250 );
  respFree(&r);
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  /* A head dribbled a byte at a time still meets the same deadline. */
  CHECK( cliOpen(&c, &t)==0 );
  t0 = ssoOsMonoMs();
  {
    const char *z = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: loris\r\n";
    int i;
    for(i=0; z[i] && ssoOsMonoMs()-t0<250; i++){
      cliSendN(&c, z+i, 1);
      msleep(20);
    }
  }
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 408 );
  CHECK( ssoOsMonoMs()-t0 < 1500 );
  respFree(&r);
  cliClose(&c);
  /* Slow body: 408. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10"
                     "\r\n\r\nabc")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 408 );
  respFree(&r);
  cliClose(&c);
  /* A connection that never says anything is closed quietly. */
  CHECK( cliOpen(&c, &t)==0 );
  t0 = ssoOsMonoMs();
  CHECK( cliSeesClose(&c) );
  CHECK( ssoOsMonoMs()-t0 >= 250 );
  CHECK( c.n==0 );
  cliClose(&c);
  /* Idle keep-alive: closed after its timeout, without a 408. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  respFree(&r);
  t0 = ssoOsMonoMs();
  CHECK( cliSeesClose(&c) );
  CHECK( ssoOsMonoMs()-t0 >= 250 );
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

static void test_server_conn_limit(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli a, b, x;
  Resp r;
  int i, bOk = 0;
  tsConfig(&cfg);
  cfg.mxConn = 2;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&a, &t)==0 );
  CHECK( cliOpen(&b, &t)==0 );
  CHECK( cliSend(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&a, &r, 0)==0 );
  respFree(&r);
  CHECK( cliSend(&b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&b, &r, 0)==0 );
  respFree(&r);
  /* A third is refused: a 503, or at least a close. */
  CHECK( cliOpen(&x, &t)==0 );
  if( cliSend(&x, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0
   && cliRead(&x, &r, 0)==0 ){
    CHECK_INT( r.iStatus, 503 );
    respFree(&r);
  }
  cliClose(&x);
  /* ... while the ones already served carry on. */
  CHECK( cliSend(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&a, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  respFree(&r);
  /* A slot freed is a slot for the next client. */
  cliClose(&b);
  for(i=0; i<50 && !bOk; i++){
    msleep(20);
    if( cliOpen(&x, &t) ) continue;
    if( cliSend(&x, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0
     && cliRead(&x, &r, 0)==0 ){
      bOk = r.iStatus==200;
      respFree(&r);
    }
    cliClose(&x);
  }
  CHECK( bOk );
  cliClose(&a);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

typedef struct StopArg StopArg;
struct StopArg { SsoServer *p; int ms; };
static void *stopLater(void *pArg){
  StopArg *s = pArg;
  msleep(s->ms);
  ssoServerStop(s->p);
  return 0;
}

static void test_server_graceful_stop(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli busy, idle, late;
  Resp r;
  StopArg sa;
  pthread_t tid;
  long long t0;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&idle, &t)==0 );
  CHECK( cliSend(&idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&idle, &r, 0)==0 );
  respFree(&r);
  CHECK( cliOpen(&busy, &t)==0 );
  CHECK( cliSend(&busy, "GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  t0 = ssoOsMonoMs();
  sa.p = t.p;
  sa.ms = 0;
  CHECK( pthread_create(&tid, 0, stopLater, &sa)==0 );
  pthread_join(tid, 0);
  /* The idle keep-alive connection is closed at once... */
  CHECK( cliSeesClose(&idle) );
  CHECK( ssoOsMonoMs()-t0 < 250 );
  cliClose(&idle);
  /* ...no new connection is served... */
  msleep(50);
  if( cliOpen(&late, &t)==0 ){
    CHECK( cliSend(&late, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")!=0
           || cliRead(&late, &r, 0)!=0 );
    cliClose(&late);
  }
  /* ...and the request in flight completes, with Connection: close. */
  CHECK( cliRead(&busy, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK_STR( r.zBody, "slow done" );
  CHECK( respHdr(&r, "Connection", "close") );
  respFree(&r);
  CHECK( cliSeesClose(&busy) );
  cliClose(&busy);
  pthread_join(t.tid, 0);
  t.bRunning = 0;
  CHECK_INT( t.rcRun, SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAborted), 0 );
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nWorkerFreeOk), 2 );
}

/* A request that outlives the shutdown deadline is aborted, not awaited. */
static void test_server_stop_deadline(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  long long t0;
  tsConfig(&cfg);
  cfg.msShutdown = 200;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  t0 = ssoOsMonoMs();
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK( ssoOsMonoMs()-t0 < 2000 );
  CHECK_INT( atomic_load(&nAborted), 1 );
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
}

/* Stop before run: run returns at once, cleanly. */
static void test_server_stop_early(void){
  SsoServerConfig cfg;
  SsoServer *p = 0;
  tsConfig(&cfg);
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_OK );
  ssoServerStop(p);
  CHECK_INT( ssoServerRun(p), SSOPROXY_OK );
  CHECK_INT( ssoServerRun(p), SSOPROXY_MISUSE );
  ssoServerFree(p);
}

static void test_server_stream_backpressure(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  size_t i, nBad = 0;
  tsConfig(&cfg);
  cfg.nWriteHigh = 64*1024;
  gStream.nTotal = 8u<<20;
  gStream.nChunk = 16384;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  /* A slow reader: nothing read for a while, so every buffer between
  ** the producer and us fills and the producer must wait. */
  msleep(300);
  CHECK( gStream.nPause>0 );
  CHECK( gStream.nSent < gStream.nTotal );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK( respHdr(&r, "Transfer-Encoding", "chunked") );
  CHECK_INT( r.nBody, gStream.nTotal );
  for(i=0; i<r.nBody; i++){
    if( (unsigned char)r.zBody[i]!=i%251 ) nBad++;
  }
  CHECK_INT( nBad, 0 );
  respFree(&r);
  CHECK( gStream.bEnded && !gStream.bAborted );
  /* Memory stayed bounded: never more than the mark plus one piece. */
  CHECK( gStream.mxQueued <= cfg.nWriteHigh + gStream.nChunk + 32 );
  /* The connection is reusable after a stream. */
  CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  /* A reader that goes away mid-stream: the producer hears of it. The
  ** stream is made far longer than loopback's socket buffers can hold,
  ** so it cannot end first however slowly this machine runs; the wait
  ** is generous for the same reason. */
  gStream.nTotal = 1u<<30;
  CHECK( cliSend(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  cliClose(&c);
  for(i=0; i<500 && !gStream.bAborted; i++) msleep(10);
  CHECK( gStream.bAborted );
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

/*
** Hang-up while the answer is being made. Every abort must come within
** 1 s of the client leaving (the proxy cancels its upstream on it) and
** exactly once. The measured latency is printed with -v.
*/
static char *readLog(int fd);
static long long waitAborted(int n, long long t0){
  while( atomic_load(&nAborted)<n && ssoOsMonoMs()-t0<3000 ) msleep(1);
  return ssoOsMonoMs() - t0;
}
static void hupReport(const char *zWhat, long long ms){
  if( tst.bVerbose ) fprintf(stderr, "  %s: abort after %lld ms\n", zWhat, ms);
}

/* A client that closes while an async handler waits: xAbort, 499. */
static void test_server_hup_abort(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  char *zLog;
  long long ms;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 1) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  CHECK_INT( atomic_load(&nAborted), 0 );
  cliClose(&c);
  ms = waitAborted(1, ssoOsMonoMs());
  hupReport("close", ms);
  CHECK( ms<1000 );
  msleep(100);
  CHECK_INT( atomic_load(&nAborted), 1 );
  /* The server is unharmed: the next client is served. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  {
    Resp r;
    CHECK( cliRead(&c, &r, 0)==0 );
    CHECK_STR( r.zBody, "slow done" );
    respFree(&r);
  }
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAborted), 1 );
  zLog = readLog(t.fdLog);
  CHECK( strstr(zLog, "path=/slow status=499")!=0 );
  free(zLog);
  close(t.fdLog);
}

/* CPU time of the whole process (server threads included), in ms. */
static long long cpuMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (long long)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

/* A pipelined request is not a hang-up: it waits unread (no busy loop)
** and is served after the first answer. */
static void test_server_hup_pipelined(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  long long cpu0;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  cpu0 = cpuMs();
  CHECK( cliSend(&c, "GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  CHECK_STR( r.zBody, "slow done" );
  respFree(&r);
  /* Level-triggered read interest on the unread bytes would have spun
  ** a worker for the 400 ms; watching for HUP costs nothing. */
  CHECK( cpuMs()-cpu0 < 200 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  CHECK_INT( atomic_load(&nAborted), 0 );
  /* A pipelined request arriving while the handler waits: the same. */
  CHECK( cliSend(&c, "GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "slow done" );
  respFree(&r);
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAborted), 0 );
}

/*
** Half-close after a complete request. On the wire it is the FIN of a
** close, so an async answer is aborted (as nginx does, RFC 9112 §9.6);
** a synchronous answer is complete before that and is still sent.
*/
static void test_server_hup_halfclose(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  long long ms;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  CHECK( shutdown(c.fd, SHUT_WR)==0 );
  ms = waitAborted(1, ssoOsMonoMs());
  hupReport("half-close", ms);
  CHECK( ms<1000 );
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  /* Request and FIN together: aborted at once too. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( shutdown(c.fd, SHUT_WR)==0 );
  ms = waitAborted(2, ssoOsMonoMs());
  CHECK( ms<1000 );
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  /* A synchronous handler: answered, then closed. */
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( shutdown(c.fd, SHUT_WR)==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_STR( r.zBody, "hello" );
  respFree(&r);
  CHECK( cliSeesClose(&c) );
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAborted), 2 );
}

/* A stream with nothing to write when the client leaves: only the
** hang-up can tell (no write will fail), and it does within 1 s. */
static void test_server_hup_stream(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  long long ms, t0;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  t0 = ssoOsMonoMs();
  while( memmem(c.a, c.n, "tick", 4)==0 && ssoOsMonoMs()-t0<3000 ){
    if( cliFill(&c) ) break;
  }
  CHECK( memmem(c.a, c.n, "200", 3)!=0 && memmem(c.a, c.n, "tick", 4)!=0 );
  msleep(50);
  CHECK_INT( atomic_load(&nAborted), 0 );
  cliClose(&c);                   /* nothing unread: a clean FIN */
  ms = waitAborted(1, ssoOsMonoMs());
  hupReport("mid-stream", ms);
  CHECK( ms<1000 );
  msleep(50);
  CHECK_INT( atomic_load(&nAborted), 1 );
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAborted), 1 );
}

/* Streaming to HTTP/1.0: no chunking, the close ends the body. */
static void test_server_stream_http10(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  tsConfig(&cfg);
  gStream.nTotal = 100000;
  gStream.nChunk = 1000;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  CHECK( cliSend(&c, "GET /stream HTTP/1.0\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( respHdr(&r, "Transfer-Encoding", 0) );
  CHECK( respHdr(&r, "Connection", "close") );
  CHECK_INT( r.nBody, 100000 );
  respFree(&r);
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

static int ipv6Loopback(void){
  struct sockaddr_in6 sa;
  int fd = socket(AF_INET6, SOCK_STREAM, 0), rc;
  if( fd<0 ) return 0;
  memset(&sa, 0, sizeof(sa));
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  rc = bind(fd, (struct sockaddr*)&sa, sizeof(sa));
  close(fd);
  return rc==0;
}

static void test_server_ipv6(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  if( !ipv6Loopback() ){
    fprintf(stderr, "  (no IPv6 loopback here: skipped)\n");
    return;
  }
  tsConfig(&cfg);
  cfg.zListen = "[::1]:0";
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( strncmp(ssoServerAddress(t.p), "[::1]:", 6)==0 );
  CHECK( cliOpenAt(&c, AF_INET6, t.iPort)==0 );
  CHECK( cliSend(&c, "GET /info HTTP/1.1\r\nHost: [::1]\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK( strstr(r.zBody, " c=[::1]:")!=0 );
  respFree(&r);
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

static char *readLog(int fd){
  off_t n = lseek(fd, 0, SEEK_END);
  char *z = malloc((size_t)n + 1);
  if( z==0 ) abort();
  if( pread(fd, z, (size_t)n, 0)!=n ) n = 0;
  z[n] = 0;
  return z;
}

static void test_server_access_log(void){
  SsoServerConfig cfg;
  TSrv t;
  Resp r;
  char *zLog;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 1) ){ CHECK( 0 ); return; }
  CHECK_INT( oneShot(&t, "GET /hello?key=sk-secret HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: Bearer sk-secret\r\n"
                         "Cookie: s=secret\r\n\r\n", &r, 0), 200 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "POST /echo?api_key=secret HTTP/1.1\r\nHost: x\r\n"
                         "X-Api-Key: secret\r\nContent-Length: 6\r\n\r\n"
                         "secret", &r, 0), 200 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /missing?token=secret HTTP/1.1\r\nHost: x\r\n"
                         "\r\n", &r, 0), 404 );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /x?secret HTTP/1.1\nHost: x\n\n", &r, 0), 400 );
  respFree(&r);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  zLog = readLog(t.fdLog);
  CHECK( strstr(zLog, "secret")==0 );
  CHECK( strstr(zLog, "msg=request id=")!=0 );
  CHECK( strstr(zLog, "method=GET path=/hello status=200 bytes=")!=0 );
  CHECK( strstr(zLog, "method=POST path=/echo status=200")!=0 );
  CHECK( strstr(zLog, "path=/missing status=404")!=0 );
  CHECK( strstr(zLog, "method=- path=- status=400")!=0 );
  CHECK( strstr(zLog, "client=127.0.0.1:")!=0 );
  CHECK( strstr(zLog, " ms=")!=0 );
  free(zLog);
  close(t.fdLog);
}

static void test_server_health(void){
  SsoServerConfig cfg;
  TSrv t;
  Resp r;
  tsConfig(&cfg);
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK_INT( oneShot(&t, "GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n",
                     &r, 0), 200 );
  CHECK_STR( r.zBody, "\"I'm alive!\"" );
  CHECK( respHdr(&r, "Content-Type", "application/json") );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /health/liveness HTTP/1.1\r\nHost: x\r\n\r\n",
                     &r, 0), 200 );
  CHECK_STR( r.zBody, "\"I'm alive!\"" );
  respFree(&r);
  CHECK_INT( oneShot(&t, "HEAD /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n",
                     &r, 1), 200 );
  CHECK( respHdr(&r, "Content-Length", "12") );
  respFree(&r);
  CHECK_INT( oneShot(&t, "GET /health/readiness HTTP/1.1\r\nHost: x\r\n\r\n",
                     &r, 0), 200 );
  CHECK( strncmp(r.zBody, "{\"status\":\"healthy\",\"db\":\"connected\",", 37)
         ==0 );
  respFree(&r);
  bDbDown = 1;
  CHECK_INT( oneShot(&t, "GET /health/readiness HTTP/1.1\r\nHost: x\r\n\r\n",
                     &r, 0), 503 );
  CHECK_STR( r.zBody, "{\"status\":\"unhealthy\",\"db\":\"disk on fire\"}" );
  respFree(&r);
  CHECK_INT( oneShot(&t, "POST /health/readiness HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 0\r\n\r\n", &r, 0), 405 );
  respFree(&r);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

/* While draining, health says so (load balancers stop sending). */
static void test_server_health_draining(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli busy, c;
  Resp r;
  tsConfig(&cfg);
  cfg.nWorker = 1;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&busy, &t)==0 );
  CHECK( cliOpen(&c, &t)==0 );
  /* c sends a partial head so it is not idle when the stop comes. */
  CHECK( cliSend(&c, "GET /health/liveliness HTTP/1.1\r\n")==0 );
  CHECK( cliSend(&busy, "GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  msleep(100);
  ssoServerStop(t.p);
  msleep(50);
  CHECK( cliSend(&c, "Host: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.iStatus, 503 );
  CHECK_STR( r.zBody, "{\"status\":\"shutting_down\"}" );
  respFree(&r);
  CHECK( cliRead(&busy, &r, 0)==0 );
  CHECK_INT( r.iStatus, 200 );
  respFree(&r);
  cliClose(&c);
  cliClose(&busy);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
}

/*
** A transport as awkward as TLS can be: writes at most 7 bytes at a
** time, sometimes wants to read before it can write (only when there is
** input, as a real TLS layer would), and every other read wants to write
** first. The server must still answer everything correctly.
*/
typedef struct Awkward Awkward;
struct Awkward { unsigned nRead, nWrite; };
static atomic_int nAwkwardFree, nAwkwardFlip;
static long awkRead(void *pCtx, int fd, void *p, size_t n){
  Awkward *a = pCtx;
  if( a->nRead++ % 2 ){
    atomic_fetch_add(&nAwkwardFlip, 1);
    return SSO_IO_WANT_WRITE;
  }
  return ssoLoopPlainIo()->xRead(0, fd, p, n);
}
static long awkWrite(void *pCtx, int fd, const void *p, size_t n){
  Awkward *a = pCtx;
  struct pollfd pfd;
  pfd.fd = fd;
  pfd.events = POLLIN;
  if( a->nWrite++ % 3==1 && poll(&pfd, 1, 0)==1 ){
    atomic_fetch_add(&nAwkwardFlip, 1);
    return SSO_IO_WANT_READ;
  }
  return ssoLoopPlainIo()->xWrite(0, fd, p, n<7 ? n : 7);
}
static void awkFree(void *pCtx){
  ssoFree(pCtx);
  atomic_fetch_add(&nAwkwardFree, 1);
}
static const SsoIoMethods awkMethods = { awkRead, awkWrite, awkFree };
static int awkTransport(void *pArg, int fd, const SsoIoMethods **ppIo,
                        void **ppCtx){
  SSO_UNUSED(pArg);
  SSO_UNUSED(fd);
  *ppCtx = ssoMallocZero(sizeof(Awkward));
  if( *ppCtx==0 ) return SSOPROXY_NOMEM;
  *ppIo = &awkMethods;
  return SSOPROXY_OK;
}

static void test_server_transport(void){
  SsoServerConfig cfg;
  TSrv t;
  Cli c;
  Resp r;
  int i;
  tsConfig(&cfg);
  cfg.xTransport = awkTransport;
  atomic_store(&nAwkwardFree, 0);
  atomic_store(&nAwkwardFlip, 0);
  gStream.nTotal = 200000;
  gStream.nChunk = 5000;
  if( tsStart(&t, &cfg, 0) ){ CHECK( 0 ); return; }
  CHECK( cliOpen(&c, &t)==0 );
  for(i=0; i<3; i++){
    CHECK( cliSend(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: x\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")==0 );
    CHECK( cliRead(&c, &r, 0)==0 );
    CHECK_STR( r.zBody, "hello" );
    respFree(&r);
    CHECK( cliRead(&c, &r, 0)==0 );
    CHECK_STR( r.zBody, "hello world" );
    respFree(&r);
  }
  CHECK( cliSend(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")==0 );
  CHECK( cliRead(&c, &r, 0)==0 );
  CHECK_INT( r.nBody, 200000 );
  respFree(&r);
  cliClose(&c);
  CHECK_INT( tsStop(&t), SSOPROXY_OK );
  CHECK_INT( atomic_load(&nAwkwardFree), 1 );
  CHECK( atomic_load(&nAwkwardFlip)>0 );
}

static int failInit(void *pArg, int iWorker, void **ppCtx){
  SSO_UNUSED(pArg);
  *ppCtx = 0;
  return iWorker==1 ? SSOPROXY_DB : SSOPROXY_OK;
}

static void test_server_config_errors(void){
  SsoServerConfig cfg;
  SsoServer *p = 0, *q = 0;
  char zAddr[80];
  tsConfig(&cfg);
  cfg.zListen = "nonsense";
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_CONFIG );
  CHECK( strstr(ssoServerErrmsg(p), "nonsense")!=0 );
  ssoServerFree(p);
  tsConfig(&cfg);
  cfg.msHeader = 0;
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_CONFIG );
  ssoServerFree(p);
  tsConfig(&cfg);
  cfg.nWorker = 1000;
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_CONFIG );
  ssoServerFree(p);
  /* A port in use is an error, even to SO_REUSEPORT workers. */
  tsConfig(&cfg);
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_OK );
  snprintf(zAddr, sizeof(zAddr), "%s", ssoServerAddress(p));
  cfg.zListen = zAddr;
  CHECK_INT( ssoServerNew(&cfg, &q), SSOPROXY_NET );
  CHECK( strstr(ssoServerErrmsg(q), "in use")!=0 );
  ssoServerFree(q);
  cfg.nWorker = 1;
  CHECK_INT( ssoServerNew(&cfg, &q), SSOPROXY_NET );
  ssoServerFree(q);
  /* Routes: misuse and duplicates. */
  CHECK_INT( ssoServerRoute(p, "GET", "/a", onHello, 0), SSOPROXY_OK );
  CHECK_INT( ssoServerRoute(p, "GET", "/a", onHello, 0), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoServerRoute(p, 0, "/a", onHello, 0), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoServerRoute(p, "POST", "/a", onHello, 0), SSOPROXY_OK );
  CHECK_INT( ssoServerRoute(p, "GET", "/a*", onHello, 0), SSOPROXY_OK );
  CHECK_INT( ssoServerRoute(p, "GET", "a", onHello, 0), SSOPROXY_MISUSE );
  CHECK_INT( ssoServerRoute(p, "G T", "/b", onHello, 0), SSOPROXY_MISUSE );
  CHECK_INT( ssoServerRoute(p, "GET", "/b", 0, 0), SSOPROXY_MISUSE );
  ssoServerFree(p);
  /* A worker whose context cannot be made stops the whole server. */
  tsConfig(&cfg);
  cfg.xWorkerInit = failInit;
  cfg.xWorkerFree = 0;
  CHECK_INT( ssoServerNew(&cfg, &p), SSOPROXY_OK );
  CHECK_INT( ssoServerRun(p), SSOPROXY_DB );
  CHECK( strstr(ssoServerErrmsg(p), "worker 1")!=0 );
  ssoServerFree(p);
}

static int serverOomBody(void *pArg){
  SsoServerConfig cfg;
  SsoServer *p = 0;
  SsoHealth h;
  int rc;
  SSO_UNUSED(pArg);
  memset(&h, 0, sizeof(h));
  tsConfig(&cfg);
  rc = ssoServerNew(&cfg, &p);
  if( rc==SSOPROXY_OK ) rc = ssoServerRoute(p, "GET", "/a", onHello, 0);
  if( rc==SSOPROXY_OK ) rc = ssoServerRoute(p, 0, "/v1/*", onHello, 0);
  if( rc==SSOPROXY_OK ) rc = ssoHealthRegister(p, &h);
  ssoServerFree(p);
  return rc;
}
static int serverOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return rc==SSOPROXY_OK || (bFaulted && rc==SSOPROXY_NOMEM);
}
static void test_server_oom(void){
  CHECK( faultRun(serverOomBody, serverOomCheck, 0)>5 );
}

static const TestCase aServerTests[] = {
  TEST_CASE(test_loop_timers),
  TEST_CASE(test_loop_heap),
  TEST_CASE(test_loop_fds_tasks_wake),
  TEST_CASE(test_loop_hup),
  TEST_CASE(test_loop_hostport),
  TEST_CASE(test_loop_batches_log),
  TEST_CASE(test_loop_oom),
  TEST_CASE(test_server_basic),
  TEST_CASE(test_server_pipeline),
  TEST_CASE(test_server_errors),
  TEST_CASE(test_server_continue),
  TEST_CASE(test_server_timeouts),
  TEST_CASE(test_server_conn_limit),
  TEST_CASE(test_server_graceful_stop),
  TEST_CASE(test_server_stop_deadline),
  TEST_CASE(test_server_stop_early),
  TEST_CASE(test_server_stream_backpressure),
  TEST_CASE(test_server_stream_http10),
  TEST_CASE(test_server_hup_abort),
  TEST_CASE(test_server_hup_pipelined),
  TEST_CASE(test_server_hup_halfclose),
  TEST_CASE(test_server_hup_stream),
  TEST_CASE(test_server_ipv6),
  TEST_CASE(test_server_transport),
  TEST_CASE(test_server_access_log),
  TEST_CASE(test_server_health),
  TEST_CASE(test_server_health_draining),
  TEST_CASE(test_server_config_errors),
  TEST_CASE(test_server_oom),
};
