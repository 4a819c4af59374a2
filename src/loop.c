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
#include "ssoInt.h"
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

SSO_PRIVATE const char *ssoLoopBackend(void){
#ifdef SSO_LOOP_EPOLL
  return "epoll";
#else
  return "poll";
#endif
}

SSO_PRIVATE long long ssoLoopNow(SsoLoop *p){ return p->iNow; }

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

SSO_PRIVATE int ssoLoopAdd(SsoLoop *p, int fd, int eMask, SsoLoopFdFn xFn,
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

SSO_PRIVATE int ssoLoopMod(SsoLoop *p, int fd, int eMask){
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

SSO_PRIVATE void ssoLoopDel(SsoLoop *p, int fd){
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

SSO_PRIVATE void ssoLoopTimerInit(SsoLoopTimer *t, SsoLoopTimerFn xFire,
                                  void *pArg){
  memset(t, 0, sizeof(*t));
  t->iHeap = -1;
  t->xFire = xFire;
  t->pArg = pArg;
}

SSO_PRIVATE int ssoLoopTimerArmed(const SsoLoopTimer *t){
  return t->iHeap>=0;
}

SSO_PRIVATE int ssoLoopTimerAt(SsoLoop *p, SsoLoopTimer *t, long long iWhen){
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

SSO_PRIVATE void ssoLoopTimerStop(SsoLoop *p, SsoLoopTimer *t){
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

SSO_PRIVATE void ssoLoopTaskInit(SsoLoopTask *t, SsoLoopTaskFn xRun,
                                 void *pArg){
  memset(t, 0, sizeof(*t));
  t->xRun = xRun;
  t->pArg = pArg;
}

SSO_PRIVATE void ssoLoopDefer(SsoLoop *p, SsoLoopTask *t){
  if( t->bQueued ) return;
  t->bQueued = 1;
  t->pNext = 0;
  if( p->pTaskLast ) p->pTaskLast->pNext = t;
  else p->pTask = t;
  p->pTaskLast = t;
}

SSO_PRIVATE void ssoLoopUndefer(SsoLoop *p, SsoLoopTask *t){
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
SSO_PRIVATE void ssoLoopWake(SsoLoop *p){
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

SSO_PRIVATE void ssoLoopOnWake(SsoLoop *p, void (*xWake)(SsoLoop*, void*),
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

SSO_PRIVATE int ssoLoopNew(SsoLoop **ppLoop){
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

SSO_PRIVATE void ssoLoopFree(SsoLoop *p){
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
SSO_PRIVATE int ssoLoopRunOnce(SsoLoop *p, int msMax){
  int bBatch = ssoLogBatch(1);
  int rc = pollOnce(p, waitTimeout(p, msMax));
  if( rc==SSOPROXY_OK ){
    runTimers(p);
    runTasks(p);
  }
  ssoLogBatch(bBatch);
  return rc;
}

SSO_PRIVATE int ssoLoopRun(SsoLoop *p){
  int rc = SSOPROXY_OK;
  p->bExit = 0;
  while( !p->bExit && rc==SSOPROXY_OK ){
    rc = ssoLoopRunOnce(p, -1);
  }
  return rc;
}

SSO_PRIVATE void ssoLoopExit(SsoLoop *p){ p->bExit = 1; }

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

SSO_PRIVATE const SsoIoMethods *ssoLoopPlainIo(void){
  static const SsoIoMethods plain = { plainRead, plainWrite, 0 };
  return &plain;
}

SSO_PRIVATE void ssoLoopBlockSignals(sigset_t *pOld){
  static const int aFault[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                                SIGTRAP };
  sigset_t all;
  size_t i;
  sigfillset(&all);
  for(i=0; i<SSO_ARRAYSIZE(aFault); i++) sigdelset(&all, aFault[i]);
  pthread_sigmask(SIG_BLOCK, &all, pOld);
}

SSO_PRIVATE int ssoLoopSetNonBlock(int fd){
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

SSO_PRIVATE int ssoLoopParseHostPort(const char *zSpec, char *zHost,
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

SSO_PRIVATE char *ssoLoopAddrString(const void *pAddr, char *z, size_t nZ){
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
