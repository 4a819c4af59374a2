/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** The slow-stream part of bench/proxy.sh: many concurrent server-sent
** event streams held open through ssoproxy, to measure its memory per
** stream. nginx cannot dribble an answer, so this program is both ends.
** Linux only (epoll, /proc); libc only.
**
**   sse upstream -i MS
**       An OpenAI-like upstream on 127.0.0.1 (a free port, printed as
**       "port=N" on stdout): every request, whatever its path, is
**       answered 200 text/event-stream (chunked) with one chat-completion
**       chunk at once and then one every MS milliseconds, forever, until
**       the client goes away.
**
**   sse clients -p PORT -n N -k KEY -P PID [-s SEC] [-t SEC]
**       Open N connections to ssoproxy at 127.0.0.1:PORT (at most 256
**       connecting at once), each sending POST /v1/chat/completions with
**       "stream":true and KEY as the bearer. Once every stream has
**       delivered its first event (or -t SEC, default 60, passed), wait
**       -s SEC (default 2) still reading, and report PID's VmRSS growth
**       over its reading before the first connection, per stream; then
**       check every stream is still open and received events meanwhile.
**
** Output: one line of key=value pairs on stdout; diagnostics on stderr.
*/
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long nowMs(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec*1000 + t.tv_nsec/1000000;
}

static long rssKib(int pid){
  char zPath[64], zLine[256];
  long v = -1;
  FILE *f;
  snprintf(zPath, sizeof(zPath), "/proc/%d/status", pid);
  f = fopen(zPath, "r");
  if( f==0 ) return -1;
  while( fgets(zLine, sizeof(zLine), f) ){
    if( strncmp(zLine, "VmRSS:", 6)==0 ){ v = atol(zLine+6); break; }
  }
  fclose(f);
  return v;
}

static void raiseNofile(void){
  struct rlimit r;
  if( getrlimit(RLIMIT_NOFILE, &r)==0 ){
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

/* ---- The upstream ---- */

#define EVENT "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion." \
  "chunk\",\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":" \
  "{\"content\":\"tok\"}}]}\n\n"

typedef struct Up Up;
struct Up {
  int fd;
  int bStreaming;         /* The head went out */
  long long tNext;        /* When the next event is due */
  size_t nIn;             /* Request bytes seen so far */
  char aIn[8192];         /* The request head (the body is discarded) */
  long long nBody;        /* Body bytes still to come */
};

static int sendEvent(int fd){
  char z[512];
  int n = snprintf(z, sizeof(z), "%zx\r\n%s\r\n", sizeof(EVENT)-1, EVENT);
  return write(fd, z, (size_t)n)==n ? 0 : -1;
}

static void upClose(int ep, Up *u){
  epoll_ctl(ep, EPOLL_CTL_DEL, u->fd, 0);
  close(u->fd);
  u->fd = -1;
}

/* New request bytes on u: once the head and body are in, start streaming. */
static void upRead(int ep, Up *u, int msInterval){
  char zJunk[16384];
  for(;;){
    ssize_t n;
    if( u->bStreaming ){
      n = read(u->fd, zJunk, sizeof(zJunk));
    }else{
      n = read(u->fd, u->aIn+u->nIn, sizeof(u->aIn)-1-u->nIn);
    }
    if( n==0 || (n<0 && errno!=EAGAIN && errno!=EINTR) ){ upClose(ep, u); return; }
    if( n<0 ) return;
    if( u->bStreaming ) continue;
    u->nIn += (size_t)n;
    u->aIn[u->nIn] = 0;
    if( strstr(u->aIn, "\r\n\r\n") ){
      static const char zHead[] = "HTTP/1.1 200 OK\r\nContent-Type: "
        "text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
      if( write(u->fd, zHead, sizeof(zHead)-1)<0 || sendEvent(u->fd) ){
        upClose(ep, u);
        return;
      }
      u->bStreaming = 1;
      /* Spread the streams' events evenly over the interval. */
      u->tNext = nowMs() + msInterval + (u->fd*7919) % (msInterval ? msInterval : 1);
    }else if( u->nIn>=sizeof(u->aIn)-1 ){
      upClose(ep, u);
      return;
    }
  }
}

static int runUpstream(int msInterval){
  int ls, ep, i, nUp = 0, mxUp = 1024;
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  Up **ap = calloc((size_t)mxUp, sizeof(Up*));
  struct epoll_event ev, aEv[256];
  raiseNofile();
  ls = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);
  i = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &i, sizeof(i));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if( bind(ls, (struct sockaddr*)&a, sizeof(a)) || listen(ls, 4096)
   || getsockname(ls, (struct sockaddr*)&a, &al) ){
    perror("upstream listen");
    return 1;
  }
  printf("port=%d\n", ntohs(a.sin_port));
  fflush(stdout);
  ep = epoll_create1(0);
  ev.events = EPOLLIN;
  ev.data.ptr = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  for(;;){
    int n = epoll_wait(ep, aEv, 256, 10);
    long long t = nowMs();
    for(i=0; i<n; i++){
      Up *u = aEv[i].data.ptr;
      if( u==0 ){
        int fd;
        while( (fd = accept4(ls, 0, 0, SOCK_NONBLOCK))>=0 ){
          int k;
          for(k=0; k<nUp && ap[k]->fd>=0; k++){}
          if( k==nUp ){
            if( nUp==mxUp ){
              mxUp *= 2;
              ap = realloc(ap, (size_t)mxUp*sizeof(Up*));
            }
            ap[nUp++] = malloc(sizeof(Up));
          }
          u = ap[k];
          memset(u, 0, sizeof(*u));
          u->fd = fd;
          ev.events = EPOLLIN;
          ev.data.ptr = u;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
      }else if( u->fd>=0 ){
        upRead(ep, u, msInterval);
      }
    }
    for(i=0; i<nUp; i++){
      Up *u = ap[i];
      if( u->fd>=0 && u->bStreaming && u->tNext<=t ){
        if( sendEvent(u->fd) && errno!=EAGAIN ) upClose(ep, u);
        u->tNext = t + msInterval;
      }
    }
  }
}

/* ---- The clients ---- */

typedef struct Cl Cl;
struct Cl {
  int fd;
  int eState;             /* 0 connecting, 1 sent, 2 streaming, 3 dead,
                          ** 4 head received, no event yet */
  long long nEvent;       /* Reads that carried data after the head */
};

static int runClients(int port, int nConn, const char *zKey, int pid,
                      int secSettle, int secMax){
  static char zBuf[65536];
  char zReq[1024];
  int nReq, ep, i, nOpen = 0, nConnecting = 0, nStreaming = 0, nDead = 0;
  Cl *aCl = calloc((size_t)nConn, sizeof(Cl));
  struct sockaddr_in a;
  struct epoll_event ev, aEv[512];
  long rss0, rss1 = -1;
  long long t0 = nowMs(), tAll = 0, tEnd = 0, nEvBefore = 0, nEvAfter = 0;
  const char *zBody = "{\"model\":\"bench\",\"stream\":true,\"messages\":"
                      "[{\"role\":\"user\",\"content\":\"hi\"}]}";
  raiseNofile();
  nReq = snprintf(zReq, sizeof(zReq), "POST /v1/chat/completions HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                  "\r\n%s", zKey, strlen(zBody), zBody);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)port);
  ep = epoll_create1(0);
  rss0 = rssKib(pid);
  for(;;){
    long long t = nowMs();
    int n;
    /* Keep up to 256 handshakes in flight. */
    while( nOpen<nConn && nConnecting<256 ){
      Cl *c = &aCl[nOpen];
      c->fd = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0);
      if( c->fd<0 ){ perror("socket"); return 1; }
      if( connect(c->fd, (struct sockaddr*)&a, sizeof(a)) && errno!=EINPROGRESS ){
        perror("connect");
        return 1;
      }
      ev.events = EPOLLOUT|EPOLLIN;
      ev.data.ptr = c;
      epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
      nOpen++;
      nConnecting++;
    }
    if( tAll==0 && nStreaming==nConn ){
      tAll = t;
      fprintf(stderr, "all %d streams delivering after %lld ms\n", nConn, t-t0);
    }
    if( tAll==0 && t-t0>secMax*1000LL ){
      tAll = t;
      fprintf(stderr, "only %d of %d streams delivering after %d s\n",
              nStreaming, nConn, secMax);
    }
    if( tAll && rss1<0 && t-tAll>=secSettle*1000LL ){
      rss1 = rssKib(pid);
      for(i=0; i<nConn; i++) nEvBefore += aCl[i].nEvent;
      tEnd = t + secSettle*1000LL;
    }
    if( tEnd && t>=tEnd ) break;
    n = epoll_wait(ep, aEv, 512, 50);
    for(i=0; i<n; i++){
      Cl *c = aEv[i].data.ptr;
      if( c->eState==0 ){
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        nConnecting--;
        if( err || write(c->fd, zReq, (size_t)nReq)!=nReq ){
          c->eState = 3; nDead++;
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, 0);
          close(c->fd);
          continue;
        }
        c->eState = 1;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        continue;
      }
      for(;;){
        ssize_t r = read(c->fd, zBuf, sizeof(zBuf));
        if( r>0 ){
          if( c->eState==4 ){
            /* The head came alone: the first event follows. */
            if( memmem(zBuf, (size_t)r, "data:", 5) ){
              c->eState = 2; nStreaming++;
            }
          }else if( c->eState==1 ){
            if( strncmp(zBuf, "HTTP/1.1 200", 12)!=0 ){
              zBuf[r<200 ? r : 200] = 0;
              fprintf(stderr, "stream refused: %s\n", zBuf);
              c->eState = 3; nDead++;
              epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, 0);
              close(c->fd);
              break;
            }
            if( memmem(zBuf, (size_t)r, "data:", 5) ){
              c->eState = 2; nStreaming++;
            }else{
              c->eState = 4;
            }
          }else{
            c->nEvent++;
          }
          continue;
        }
        if( r==0 || (errno!=EAGAIN && errno!=EINTR) ){
          if( c->eState==2 ) nStreaming--;
          c->eState = 3; nDead++;
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, 0);
          close(c->fd);
        }
        break;
      }
    }
  }
  for(i=0; i<nConn; i++) nEvAfter += aCl[i].nEvent;
  printf("streams=%d streaming=%d dead=%d rss0_kib=%ld rss1_kib=%ld "
         "kib_per_stream=%.1f events_while_held=%lld\n", nConn, nStreaming,
         nDead, rss0, rss1, nConn ? (double)(rss1-rss0)/nConn : 0.0,
         nEvAfter-nEvBefore);
  return 0;
}

int main(int argc, char **argv){
  int i, port = 0, n = 0, pid = 0, ms = 1000, s = 2, t = 60;
  const char *zKey = "";
  if( argc<2 ) goto usage;
  for(i=2; i+1<argc; i+=2){
    if( strcmp(argv[i], "-p")==0 ) port = atoi(argv[i+1]);
    else if( strcmp(argv[i], "-n")==0 ) n = atoi(argv[i+1]);
    else if( strcmp(argv[i], "-k")==0 ) zKey = argv[i+1];
    else if( strcmp(argv[i], "-P")==0 ) pid = atoi(argv[i+1]);
    else if( strcmp(argv[i], "-i")==0 ) ms = atoi(argv[i+1]);
    else if( strcmp(argv[i], "-s")==0 ) s = atoi(argv[i+1]);
    else if( strcmp(argv[i], "-t")==0 ) t = atoi(argv[i+1]);
    else goto usage;
  }
  if( strcmp(argv[1], "upstream")==0 ) return runUpstream(ms);
  if( strcmp(argv[1], "clients")==0 && port && n>0 && pid ){
    return runClients(port, n, zKey, pid, s, t);
  }
usage:
  fprintf(stderr, "usage: sse upstream -i MS | sse clients -p PORT -n N "
          "-k KEY -P PID [-s SEC] [-t SEC]\n");
  return 1;
}
