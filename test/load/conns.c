/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** A load client for test/load.sh and bench/http.sh: many loopback HTTP
** connections against one server, driven by one epoll loop, plus a probe
** thread that measures how fast a normal client is served meanwhile.
** Linux only (epoll, /proc); no dependency beyond libc and pthreads.
**
**   conns slowloris -p PORT -n N -t SEC -i MS [-w SEC]
**       Open N connections, send each the start of a request head and
**       then one more byte every MS milliseconds (spread evenly over the
**       interval), for SEC seconds; then wait up to -w seconds for the
**       server to close them (its header timeout). A probe thread sends
**       GET /health/liveliness the whole time, on a keep-alive connection
**       (every 10th on a new connection), and its latencies are reported.
**
**   conns idle -p PORT -n N -P PID [-s MS]
**       Open N keep-alive connections, send one GET /health/liveliness on
**       each and read the answer, then hold them all idle. Report PID's
**       VmRSS (from /proc/PID/status) before and after, and the growth
**       per connection; then check that every connection is still open
**       and that the server still answers a new one. -s: settle time
**       before the second RSS reading (default 300 ms).
**
** Output: one line of key=value pairs on stdout, for the scripts to pick
** apart; diagnostics on stderr. Exit status 0 when the run completed
** (the scripts judge the figures), 1 on a usage or setup error.
*/
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATH "/health/liveliness"
#define REQ  "GET " PATH " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define SLOW_HEAD "GET " PATH " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

enum { C_CONNECTING, C_OPEN, C_IDLE, C_CLOSED };

typedef struct Conn Conn;
struct Conn {
  int fd;
  int eState;             /* C_* */
  int bGot408;            /* The server answered 408 before closing */
  long long tNext;        /* Slowloris: when the next byte is due (us) */
  long long tClosed;      /* When the server closed it (us), or 0 */
  size_t nIn;             /* Idle mode: answer bytes read so far */
  char aIn[512];
};

static struct {
  int iPort;
  int nConn;
  double rSec;            /* -t */
  int msInterval;         /* -i */
  double rWait;           /* -w */
  int pid;                /* -P */
  int msSettle;           /* -s */
} g = { 0, 0, 10, 2000, 0, 0, 300 };

/* Probe results, written by the probe thread only until it is joined. */
static struct {
  volatile int bStop;
  long long *aLat;        /* Latencies in us */
  int nLat, nAlloc;
  int nErr;
  char zErr[200];
} probe;

static long long nowUs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

static void die(const char *zMsg){
  fprintf(stderr, "conns: %s: %s\n", zMsg, strerror(errno));
  exit(1);
}

static void raiseFdLimit(int nNeed){
  struct rlimit rl;
  if( getrlimit(RLIMIT_NOFILE, &rl) ) die("getrlimit");
  if( rl.rlim_cur>=(rlim_t)nNeed ) return;
  if( rl.rlim_max<(rlim_t)nNeed ){
    fprintf(stderr, "conns: need %d descriptors, hard limit is %llu\n",
            nNeed, (unsigned long long)rl.rlim_max);
    exit(1);
  }
  rl.rlim_cur = (rlim_t)nNeed;
  if( setrlimit(RLIMIT_NOFILE, &rl) ) die("setrlimit");
}

static struct sockaddr_in serverAddr(void){
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)g.iPort);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

/* ---- One complete request on a blocking socket ---------------------- */

/* Length of a complete answer at the start of z[0..n), or 0 if more is
** needed, or -1 if it is not a 200 with a Content-Length. */
static long answerLength(const char *z, size_t n, int *piStatus){
  const char *zEnd = memmem(z, n, "\r\n\r\n", 4), *zCl;
  long nHead, nBody;
  if( zEnd==0 ) return 0;
  nHead = (long)(zEnd - z) + 4;
  *piStatus = (n>12 && memcmp(z, "HTTP/1.1 ", 9)==0) ? atoi(z+9) : -1;
  for(zCl=z; zCl<zEnd; zCl++){
    if( (zCl[0]=='\n') && strncasecmp(zCl+1, "content-length:", 15)==0 ){
      break;
    }
  }
  if( zCl>=zEnd ) return -1;
  nBody = atol(zCl+16);
  if( (long)n < nHead+nBody ) return 0;
  return nHead+nBody;
}

static int openBlocking(void){
  struct sockaddr_in sa = serverAddr();
  struct timeval tv = { 5, 0 };
  int fd = socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0), one = 1;
  if( fd<0 ) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if( connect(fd, (struct sockaddr*)&sa, sizeof(sa)) ){
    close(fd);
    return -1;
  }
  return fd;
}

/* Send REQ on *pFd (opening it if it is -1) and read a 200 answer.
** Returns 0, or -1 with zErr set (and *pFd closed). */
static int roundTrip(int *pFd, char *zErr, size_t nErr){
  char aBuf[2048];
  size_t n = 0;
  int iStatus = 0;
  if( *pFd<0 && (*pFd = openBlocking())<0 ){
    snprintf(zErr, nErr, "connect: %s", strerror(errno));
    return -1;
  }
  if( send(*pFd, REQ, sizeof(REQ)-1, MSG_NOSIGNAL)!=(ssize_t)sizeof(REQ)-1 ){
    snprintf(zErr, nErr, "send: %s", strerror(errno));
    goto fail;
  }
  for(;;){
    long nAns;
    ssize_t got = recv(*pFd, aBuf+n, sizeof(aBuf)-n, 0);
    if( got<=0 ){
      snprintf(zErr, nErr, "recv: %s", got ? strerror(errno) : "EOF");
      goto fail;
    }
    n += (size_t)got;
    nAns = answerLength(aBuf, n, &iStatus);
    if( nAns<0 || (nAns>0 && iStatus!=200) ){
      snprintf(zErr, nErr, "bad answer (status %d)", iStatus);
      goto fail;
    }
    if( nAns>0 && (size_t)nAns==n ) return 0;
    if( nAns>0 || n==sizeof(aBuf) ){
      snprintf(zErr, nErr, "unexpected bytes after the answer");
      goto fail;
    }
  }
fail:
  close(*pFd);
  *pFd = -1;
  return -1;
}

/* ---- The probe thread -------------------------------------------------- */

static void *probeMain(void *pArg){
  int fd = -1, i = 0;
  (void)pArg;
  while( !probe.bStop ){
    long long t0;
    char zErr[160];
    if( i++%10==9 && fd>=0 ){     /* every 10th on a new connection */
      close(fd);
      fd = -1;
    }
    t0 = nowUs();
    if( roundTrip(&fd, zErr, sizeof(zErr)) ){
      if( probe.nErr++==0 ) snprintf(probe.zErr, sizeof(probe.zErr), "%s", zErr);
      usleep(10000);
      continue;
    }
    if( probe.nLat==probe.nAlloc ){
      int nNew = probe.nAlloc ? probe.nAlloc*2 : 4096;
      long long *aNew = realloc(probe.aLat, sizeof(long long)*(size_t)nNew);
      if( aNew==0 ) break;
      probe.aLat = aNew;
      probe.nAlloc = nNew;
    }
    probe.aLat[probe.nLat++] = nowUs() - t0;
    usleep(1000);
  }
  if( fd>=0 ) close(fd);
  return 0;
}

static int cmpLl(const void *a, const void *b){
  long long x = *(const long long*)a, y = *(const long long*)b;
  return x<y ? -1 : x>y;
}

static double pctMs(double rPct){
  int i;
  if( probe.nLat==0 ) return -1;
  i = (int)(rPct/100.0*(probe.nLat-1) + 0.5);
  return probe.aLat[i]/1000.0;
}

/* ---- Many non-blocking connections --------------------------------------- */

static int epfd = -1;
static Conn *aConn;

static void watch(Conn *c, int op, unsigned ev){
  struct epoll_event e;
  memset(&e, 0, sizeof(e));
  e.events = ev;
  e.data.ptr = c;
  if( epoll_ctl(epfd, op, c->fd, &e) ) die("epoll_ctl");
}

/* Start a non-blocking connect; the socket reports writable when done. */
static void startConnect(Conn *c){
  struct sockaddr_in sa = serverAddr();
  int one = 1;
  c->fd = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
  if( c->fd<0 ) die("socket");
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if( connect(c->fd, (struct sockaddr*)&sa, sizeof(sa)) && errno!=EINPROGRESS ){
    die("connect");
  }
  c->eState = C_CONNECTING;
  watch(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Finish a connect; returns 0 if the socket is connected. */
static int connected(Conn *c){
  int err = 0;
  socklen_t n = sizeof(err);
  if( getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &n) || err ){
    fprintf(stderr, "conns: connect: %s\n", strerror(err ? err : errno));
    return -1;
  }
  return 0;
}

static void markClosed(Conn *c){
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, 0);
  close(c->fd);
  c->fd = -1;
  c->eState = C_CLOSED;
  c->tClosed = nowUs();
}

/* Read what the server sent on a connection that expects no answer
** (or that already had it): a 408 is noted, EOF or an error closes. */
static void drainConn(Conn *c){
  char aBuf[1024];
  for(;;){
    ssize_t n = recv(c->fd, aBuf, sizeof(aBuf), 0);
    if( n>0 ){
      if( n>=12 && memcmp(aBuf, "HTTP/1.1 408", 12)==0 ) c->bGot408 = 1;
      continue;
    }
    if( n<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ) return;
    markClosed(c);
    return;
  }
}

static void startProbe(pthread_t *pTid){
  if( pthread_create(pTid, 0, probeMain, 0) ){
    fprintf(stderr, "conns: cannot start the probe thread\n");
    exit(1);
  }
}

static void stopProbe(pthread_t tid){
  probe.bStop = 1;
  pthread_join(tid, 0);
  qsort(probe.aLat, (size_t)probe.nLat, sizeof(long long), cmpLl);
}

/* ---- slowloris ------------------------------------------------------------ */

static int runSlowloris(void){
  struct epoll_event aEv[256];
  long long tStart, tEnd, tWaitEnd, tFirst = 0, tLast = 0, iStep;
  int i, nConnected = 0, nHeld = 0, bCounted = 0, n408 = 0, nOther = 0, nOpen;
  long long nBytes = 0;
  pthread_t tid;

  raiseFdLimit(g.nConn + 64);
  aConn = calloc((size_t)g.nConn, sizeof(Conn));
  if( aConn==0 ) die("calloc");
  startProbe(&tid);
  tStart = nowUs();
  iStep = (long long)g.msInterval*1000 / g.nConn;
  for(i=0; i<g.nConn; i++){
    startConnect(&aConn[i]);
    aConn[i].tNext = tStart + (long long)g.msInterval*1000 + i*iStep;
  }
  tEnd = tStart + (long long)(g.rSec*1e6);
  tWaitEnd = tEnd + (long long)(g.rWait*1e6);
  nOpen = g.nConn;
  for(;;){
    long long now = nowUs();
    int nEv;
    if( now>=tEnd && !bCounted ){
      /* The measured window is over: count what the server still holds. */
      bCounted = 1;
      for(i=0; i<g.nConn; i++) nHeld += aConn[i].eState==C_OPEN;
    }
    if( now>=tWaitEnd || (now>=tEnd && nOpen==0) ) break;
    nEv = epoll_wait(epfd, aEv, 256, 2);
    if( nEv<0 && errno!=EINTR ) die("epoll_wait");
    for(i=0; i<nEv; i++){
      Conn *c = aEv[i].data.ptr;
      if( c->eState==C_CONNECTING ){
        if( connected(c) ){
          markClosed(c);
          nOpen--;
          continue;
        }
        nConnected++;
        if( send(c->fd, SLOW_HEAD, sizeof(SLOW_HEAD)-1, MSG_NOSIGNAL)
            !=(ssize_t)sizeof(SLOW_HEAD)-1 ){
          markClosed(c);
          nOpen--;
          continue;
        }
        c->eState = C_OPEN;
        watch(c, EPOLL_CTL_MOD, EPOLLIN|EPOLLRDHUP);
      }else if( c->eState==C_OPEN ){
        drainConn(c);
        if( c->eState==C_CLOSED ) nOpen--;
      }
    }
    /* One more byte on each connection whose turn has come, while the
    ** measured window lasts; after it, only wait for the server. */
    now = nowUs();
    for(i=0; i<g.nConn && now<tEnd; i++){
      Conn *c = &aConn[i];
      if( c->eState!=C_OPEN || c->tNext>now ) continue;
      c->tNext += (long long)g.msInterval*1000;
      if( send(c->fd, "a", 1, MSG_NOSIGNAL)==1 ){
        nBytes++;
      }else if( errno!=EAGAIN ){
        markClosed(c);
        nOpen--;
      }
    }
  }
  stopProbe(tid);
  for(i=0; i<g.nConn; i++){
    Conn *c = &aConn[i];
    if( c->eState!=C_CLOSED ) continue;
    if( c->bGot408 ) n408++; else nOther++;
    if( tFirst==0 || c->tClosed<tFirst ) tFirst = c->tClosed;
    if( c->tClosed>tLast ) tLast = c->tClosed;
  }
  printf("slowloris conns=%d connected=%d held=%d dribbled_bytes=%lld "
         "closed_408=%d closed_other=%d still_open=%d first_close_ms=%lld "
         "last_close_ms=%lld probes=%d probe_errors=%d p50_ms=%.3f "
         "p99_ms=%.3f max_ms=%.3f%s%s\n",
         g.nConn, nConnected, nHeld, nBytes, n408, nOther,
         nOpen, tFirst ? (tFirst-tStart)/1000 : -1,
         tLast ? (tLast-tStart)/1000 : -1, probe.nLat, probe.nErr,
         pctMs(50), pctMs(99), pctMs(100),
         probe.nErr ? " first_error=" : "", probe.nErr ? probe.zErr : "");
  fflush(stdout);
  return 0;
}

/* ---- idle ------------------------------------------------------------------ */

/* VmRSS of pid in KiB, or -1. */
static long rssKib(int pid){
  char zPath[64], zLine[256];
  long n = -1;
  FILE *f;
  snprintf(zPath, sizeof(zPath), "/proc/%d/status", pid);
  f = fopen(zPath, "r");
  if( f==0 ) return -1;
  while( fgets(zLine, sizeof(zLine), f) ){
    if( strncmp(zLine, "VmRSS:", 6)==0 ){
      n = atol(zLine+6);
      break;
    }
  }
  fclose(f);
  return n;
}

/* Read (part of) the answer on an idle-mode connection. Returns 1 when
** it is complete, 0 for more, -1 on error. */
static int readAnswer(Conn *c){
  for(;;){
    int iStatus = 0;
    long nAns;
    ssize_t n = recv(c->fd, c->aIn+c->nIn, sizeof(c->aIn)-c->nIn, 0);
    if( n<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ) return 0;
    if( n<=0 ) return -1;
    c->nIn += (size_t)n;
    nAns = answerLength(c->aIn, c->nIn, &iStatus);
    if( nAns<0 || (nAns>0 && iStatus!=200) ) return -1;
    if( nAns>0 ) return (size_t)nAns==c->nIn ? 1 : -1;
    if( c->nIn==sizeof(c->aIn) ) return -1;
  }
}

static int runIdle(void){
  struct epoll_event aEv[256];
  long rssBefore, rssAfter;
  long long tStart, tDeadline;
  int i, iNext = 0, nPending = 0, nConnected = 0, nAnswered = 0, nFailed = 0;
  int nHeld = 0, fdProbe = -1, bProbe;
  char zErr[160] = "";

  raiseFdLimit(g.nConn + 64);
  aConn = calloc((size_t)g.nConn, sizeof(Conn));
  if( aConn==0 ) die("calloc");
  /* A first request so the reading below does not count one-time costs
  ** (the first connection, lazily touched code and tables). */
  if( roundTrip(&fdProbe, zErr, sizeof(zErr)) ){
    fprintf(stderr, "conns: the server does not answer: %s\n", zErr);
    return 1;
  }
  close(fdProbe);
  fdProbe = -1;
  usleep(100000);
  rssBefore = rssKib(g.pid);
  if( rssBefore<0 ){
    fprintf(stderr, "conns: cannot read /proc/%d/status\n", g.pid);
    return 1;
  }
  tStart = nowUs();
  tDeadline = tStart + 30*1000000LL;
  /* At most 256 connections being set up at once: the listen backlog
  ** stays short and the server accepts at its own pace. */
  while( (iNext<g.nConn || nPending>0) && nowUs()<tDeadline ){
    int nEv;
    while( iNext<g.nConn && nPending<256 ){
      startConnect(&aConn[iNext++]);
      nPending++;
    }
    nEv = epoll_wait(epfd, aEv, 256, 100);
    if( nEv<0 && errno!=EINTR ) die("epoll_wait");
    for(i=0; i<nEv; i++){
      Conn *c = aEv[i].data.ptr;
      int rc;
      if( c->eState==C_CONNECTING ){
        if( connected(c)
         || send(c->fd, REQ, sizeof(REQ)-1, MSG_NOSIGNAL)!=(ssize_t)sizeof(REQ)-1 ){
          markClosed(c);
          nPending--;
          nFailed++;
          continue;
        }
        nConnected++;
        c->eState = C_OPEN;
        watch(c, EPOLL_CTL_MOD, EPOLLIN);
        continue;
      }
      if( c->eState!=C_OPEN ) continue;
      rc = readAnswer(c);
      if( rc==0 ) continue;
      nPending--;
      if( rc<0 ){
        markClosed(c);
        nFailed++;
        continue;
      }
      nAnswered++;
      c->eState = C_IDLE;
      watch(c, EPOLL_CTL_MOD, EPOLLIN|EPOLLRDHUP);
    }
  }
  usleep((useconds_t)g.msSettle*1000);
  rssAfter = rssKib(g.pid);
  /* Still held? A closed connection is readable (EOF) at once. */
  {
    int nEv = epoll_wait(epfd, aEv, 256, 0);
    for(i=0; i<nEv; i++){
      Conn *c = aEv[i].data.ptr;
      if( c->eState==C_IDLE ) drainConn(c);
    }
    for(i=0; i<g.nConn; i++) nHeld += aConn[i].eState==C_IDLE;
  }
  bProbe = roundTrip(&fdProbe, zErr, sizeof(zErr))==0;
  if( fdProbe>=0 ) close(fdProbe);
  printf("idle conns=%d connected=%d answered=%d failed=%d held=%d "
         "setup_ms=%lld rss_before_kib=%ld rss_after_kib=%ld "
         "kib_per_conn=%.2f new_request=%s%s%s\n",
         g.nConn, nConnected, nAnswered, nFailed, nHeld,
         (nowUs()-tStart)/1000 - g.msSettle, rssBefore, rssAfter,
         nAnswered ? (double)(rssAfter-rssBefore)/nAnswered : -1.0,
         bProbe ? "ok" : "failed", bProbe ? "" : " error=",
         bProbe ? "" : zErr);
  fflush(stdout);
  return 0;
}

static void usage(void){
  fprintf(stderr,
    "usage: conns slowloris -p PORT -n N -t SEC -i MS [-w SEC]\n"
    "       conns idle -p PORT -n N -P PID [-s MS]\n");
  exit(1);
}

int main(int argc, char **argv){
  const char *zMode;
  int ch;
  if( argc<2 ) usage();
  zMode = argv[1];
  optind = 2;
  while( (ch = getopt(argc, argv, "p:n:t:i:w:P:s:"))!=-1 ){
    switch( ch ){
      case 'p': g.iPort = atoi(optarg); break;
      case 'n': g.nConn = atoi(optarg); break;
      case 't': g.rSec = atof(optarg); break;
      case 'i': g.msInterval = atoi(optarg); break;
      case 'w': g.rWait = atof(optarg); break;
      case 'P': g.pid = atoi(optarg); break;
      case 's': g.msSettle = atoi(optarg); break;
      default: usage();
    }
  }
  if( g.iPort<=0 || g.iPort>65535 || g.nConn<1 || g.msInterval<1 ) usage();
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if( epfd<0 ) die("epoll_create1");
  if( strcmp(zMode, "slowloris")==0 ) return runSlowloris();
  if( strcmp(zMode, "idle")==0 ){
    if( g.pid<=0 ) usage();
    return runIdle();
  }
  usage();
  return 1;
}
