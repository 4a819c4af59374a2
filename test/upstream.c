/*
** A small OpenAI-compatible upstream for the proxy tests: POSIX sockets,
** one thread per connection, keep-alive, no dependencies.
**
**   build/upstream NAME PORTFILE LOGFILE
**
** Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, and
** appends one line per event to LOGFILE ("accept", "hang-start MS",
** "hang-closed MS" with Unix milliseconds). What it answers depends on
** the path and on the request field X-Test-Mode:
**
**   GET .../models         {"object":"list","data":[NAME-m1, shared]}
**   (default)              JSON echo: upstream NAME, method, path, the
**                          body's model, every field received (names in
**                          lower case), body size, usage 7 + 5 tokens
**   sse                    an event stream of X-Test-Chunks chunks, each
**                          X-Test-Delay-Ms apart, a usage chunk (11 + 13)
**                          and [DONE], chunked
**   hang                   the stream's head and first chunk, then wait
**                          for the other side to close
**   status500              500 with an OpenAI error body
**   slow                   the echo after X-Test-Delay-Ms
**   reset                  close the connection without answering
**   big                    a JSON answer of X-Test-Size bytes ending with
**                          usage 100 + 200
*/
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *zName;
static FILE *pLog;
static pthread_mutex_t logMu = PTHREAD_MUTEX_INITIALIZER;

static long long nowMs(void){
  struct timeval tv;
  gettimeofday(&tv, 0);
  return (long long)tv.tv_sec*1000 + tv.tv_usec/1000;
}

static void logLine(const char *zFmt, ...){
  va_list ap;
  pthread_mutex_lock(&logMu);
  va_start(ap, zFmt);
  vfprintf(pLog, zFmt, ap);
  va_end(ap);
  fputc('\n', pLog);
  fflush(pLog);
  pthread_mutex_unlock(&logMu);
}

/* A growable string. */
typedef struct Str { char *z; size_t n, nAlloc; } Str;
static void strAdd(Str *s, const char *z, size_t n){
  if( s->n+n+1>s->nAlloc ){
    s->nAlloc = (s->n+n+1)*2;
    s->z = realloc(s->z, s->nAlloc);
    if( s->z==0 ) abort();
  }
  memcpy(s->z+s->n, z, n);
  s->n += n;
  s->z[s->n] = 0;
}
static void strCat(Str *s, const char *z){ strAdd(s, z, strlen(z)); }
static void strJson(Str *s, const char *z, size_t n){
  size_t i;
  strCat(s, "\"");
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    char e[8];
    if( c=='"' || c=='\\' ){ e[0] = '\\'; e[1] = (char)c; strAdd(s, e, 2); }
    else if( c<0x20 ){ snprintf(e, sizeof(e), "\\u%04x", c); strCat(s, e); }
    else strAdd(s, (const char*)&c, 1);
  }
  strCat(s, "\"");
}

static int sendAll(int fd, const char *z, size_t n){
  while( n>0 ){
    ssize_t r = send(fd, z, n, MSG_NOSIGNAL);
    if( r<=0 ){
      if( r<0 && errno==EINTR ) continue;
      return -1;
    }
    z += r;
    n -= (size_t)r;
  }
  return 0;
}

typedef struct Req {
  char method[16], path[1024];
  char aName[64][128], aValue[64][1024];
  int nHdr;
  char *body;
  size_t nBody;
} Req;

static const char *hdr(const Req *r, const char *zName1){
  int i;
  for(i=0; i<r->nHdr; i++){
    if( strcasecmp(r->aName[i], zName1)==0 ) return r->aValue[i];
  }
  return 0;
}
static int hdrInt(const Req *r, const char *z, int dflt){
  const char *v = hdr(r, z);
  return v ? atoi(v) : dflt;
}

/* Read one request from fd, using buf (holding *pn bytes from before).
** Returns 1 with *r filled, 0 at the end of the connection. */
static int readReq(int fd, Str *buf, Req *r){
  char *zEnd;
  size_t nHead, cl = 0;
  char *p, *line;
  memset(r, 0, sizeof(*r));
  while( (zEnd = buf->z ? strstr(buf->z, "\r\n\r\n") : 0)==0 ){
    char a[8192];
    ssize_t k = recv(fd, a, sizeof(a), 0);
    if( k<=0 ) return 0;
    strAdd(buf, a, (size_t)k);
  }
  nHead = (size_t)(zEnd - buf->z) + 4;
  *zEnd = 0;
  line = buf->z;
  p = strstr(line, "\r\n");
  if( p ) *p = 0;
  sscanf(line, "%15s %1023s", r->method, r->path);
  while( p && r->nHdr<64 ){
    char *zLine = p+2, *zColon;
    p = strstr(zLine, "\r\n");
    if( p ) *p = 0;
    zColon = strchr(zLine, ':');
    if( zColon==0 ) continue;
    *zColon = 0;
    snprintf(r->aName[r->nHdr], 128, "%s", zLine);
    zColon++;
    while( *zColon==' ' ) zColon++;
    snprintf(r->aValue[r->nHdr], 1024, "%s", zColon);
    if( strcasecmp(r->aName[r->nHdr], "content-length")==0 ){
      cl = (size_t)strtoull(zColon, 0, 10);
    }
    r->nHdr++;
  }
  while( buf->n < nHead+cl ){
    char a[65536];
    ssize_t k = recv(fd, a, sizeof(a), 0);
    if( k<=0 ) return 0;
    strAdd(buf, a, (size_t)k);
  }
  r->body = malloc(cl+1);
  memcpy(r->body, buf->z+nHead, cl);
  r->body[cl] = 0;
  r->nBody = cl;
  memmove(buf->z, buf->z+nHead+cl, buf->n-nHead-cl);
  buf->n -= nHead+cl;
  buf->z[buf->n] = 0;
  return 1;
}

/* The body's "model" string, crudely (the tests send plain names). */
static void bodyModel(const Req *r, char *z, size_t n){
  const char *p = r->body ? strstr(r->body, "\"model\"") : 0;
  size_t i = 0;
  z[0] = 0;
  if( p==0 ) return;
  p = strchr(p+7, '"');
  if( p==0 ) return;
  for(p++; *p && *p!='"' && i+1<n; p++) z[i++] = *p;
  z[i] = 0;
}

static int respond(int fd, int iStatus, const char *zType, const char *z,
                   size_t n){
  char h[256];
  int k = snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                   "Content-Length: %zu\r\nX-Upstream: %s\r\n"
                   "Set-Cookie: up=1\r\n\r\n", iStatus, zType, n, zName);
  if( sendAll(fd, h, (size_t)k) ) return -1;
  return sendAll(fd, z, n);
}

static int sendChunk(int fd, const char *z){
  char h[32];
  int k = snprintf(h, sizeof(h), "%zx\r\n", strlen(z));
  if( sendAll(fd, h, (size_t)k) || sendAll(fd, z, strlen(z)) ) return -1;
  return sendAll(fd, "\r\n", 2);
}

static void sleepMs(int ms){
  struct timespec ts;
  ts.tv_sec = ms/1000;
  ts.tv_nsec = (long)(ms%1000)*1000000L;
  while( nanosleep(&ts, &ts) && errno==EINTR ){}
}

static int doEcho(int fd, const Req *r){
  Str s = {0, 0, 0};
  char zModel[512], zNum[32];
  int i, rc;
  bodyModel(r, zModel, sizeof(zModel));
  strCat(&s, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"upstream\":");
  strJson(&s, zName, strlen(zName));
  strCat(&s, ",\"method\":");
  strJson(&s, r->method, strlen(r->method));
  strCat(&s, ",\"path\":");
  strJson(&s, r->path, strlen(r->path));
  strCat(&s, ",\"model\":");
  strJson(&s, zModel, strlen(zModel));
  strCat(&s, ",\"headers\":{");
  for(i=0; i<r->nHdr; i++){
    char zLow[128];
    size_t k;
    for(k=0; r->aName[i][k]; k++){
      zLow[k] = (char)(r->aName[i][k] | (r->aName[i][k]>='A'
                                         && r->aName[i][k]<='Z' ? 0x20 : 0));
    }
    zLow[k] = 0;
    if( i ) strCat(&s, ",");
    strJson(&s, zLow, k);
    strCat(&s, ":");
    strJson(&s, r->aValue[i], strlen(r->aValue[i]));
  }
  snprintf(zNum, sizeof(zNum), "%zu", r->nBody);
  strCat(&s, "},\"body_bytes\":");
  strCat(&s, zNum);
  strCat(&s, ",\"body\":");
  strJson(&s, r->body ? r->body : "", r->nBody);
  strCat(&s, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
         "\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":7,"
         "\"completion_tokens\":5,\"total_tokens\":12}}");
  rc = respond(fd, 200, "application/json", s.z, s.n);
  free(s.z);
  return rc;
}

static int doSse(int fd, const Req *r, int bHang){
  static const char zHead[] = "HTTP/1.1 200 OK\r\nContent-Type: "
    "text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
  int nChunk = hdrInt(r, "x-test-chunks", 3);
  int msDelay = hdrInt(r, "x-test-delay-ms", 0);
  char z[512];
  int i;
  if( sendAll(fd, zHead, sizeof(zHead)-1) ) return -1;
  for(i=0; i<nChunk; i++){
    if( i>0 && msDelay>0 ) sleepMs(msDelay);
    snprintf(z, sizeof(z), "data: {\"id\":\"c\",\"object\":"
             "\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
             "{\"content\":\"tok%d\"}}]}\n\n", i);
    if( sendChunk(fd, z) ) return -1;
    if( bHang ){
      char a[256];
      long long t0 = nowMs();
      logLine("hang-start %lld", t0);
      while( recv(fd, a, sizeof(a), 0)>0 ){}
      logLine("hang-closed %lld", nowMs());
      return -1;
    }
  }
  if( msDelay>0 ) sleepMs(msDelay);
  if( sendChunk(fd, "data: {\"id\":\"c\",\"choices\":[],\"usage\":"
                "{\"prompt_tokens\":11,\"completion_tokens\":13,"
                "\"total_tokens\":24}}\n\n") ) return -1;
  if( sendChunk(fd, "data: [DONE]\n\n") ) return -1;
  return sendAll(fd, "0\r\n\r\n", 5);
}

static int doBig(int fd, const Req *r){
  size_t n = (size_t)hdrInt(r, "x-test-size", 2000000), i;
  static const char zEnd[] = "\"],\"usage\":{\"prompt_tokens\":100,"
    "\"completion_tokens\":200}}";
  Str s = {0, 0, 0};
  int rc;
  strCat(&s, "{\"object\":\"list\",\"data\":[\"");
  for(i=s.n; i+sizeof(zEnd)-1<n; i++) strAdd(&s, "x", 1);
  strCat(&s, zEnd);
  rc = respond(fd, 200, "application/json", s.z, s.n);
  free(s.z);
  return rc;
}

static int doModels(int fd, const Req *r){
  char z[1024];
  const char *zId = strstr(r->path, "/models/");
  int n;
  if( zId ){
    n = snprintf(z, sizeof(z), "{\"id\":\"%s\",\"object\":\"model\","
                 "\"created\":1700000000,\"owned_by\":\"%s\"}", zId+8, zName);
  }else{
    n = snprintf(z, sizeof(z), "{\"object\":\"list\",\"data\":["
                 "{\"id\":\"%s-m1\",\"object\":\"model\",\"created\":1700000000,"
                 "\"owned_by\":\"%s\"},{\"id\":\"shared\",\"object\":\"model\","
                 "\"created\":1700000001,\"owned_by\":\"%s\"}]}", zName, zName,
                 zName);
  }
  return respond(fd, 200, "application/json", z, (size_t)n);
}

static int serveOne(int fd, const Req *r){
  const char *zMode = hdr(r, "x-test-mode");
  if( zMode==0 ) zMode = "";
  if( strcmp(r->method, "GET")==0 && strstr(r->path, "/models") ){
    return doModels(fd, r);
  }
  if( strcmp(zMode, "sse")==0 ) return doSse(fd, r, 0);
  if( strcmp(zMode, "hang")==0 ) return doSse(fd, r, 1);
  if( strcmp(zMode, "big")==0 ) return doBig(fd, r);
  if( strcmp(zMode, "status500")==0 ){
    static const char z[] = "{\"error\":{\"message\":\"upstream exploded\","
                            "\"type\":\"server_error\"}}";
    return respond(fd, 500, "application/json", z, sizeof(z)-1);
  }
  if( strcmp(zMode, "reset")==0 ){
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    return -1;
  }
  if( strcmp(zMode, "slow")==0 ) sleepMs(hdrInt(r, "x-test-delay-ms", 0));
  return doEcho(fd, r);
}

static void *connMain(void *pArg){
  int fd = (int)(intptr_t)pArg;
  Str buf = {0, 0, 0};
  Req *r = malloc(sizeof(Req));
  strAdd(&buf, "", 0);
  while( readReq(fd, &buf, r) ){
    int rc = serveOne(fd, r);
    free(r->body);
    if( rc ) break;
  }
  close(fd);
  free(r);
  free(buf.z);
  return 0;
}

int main(int argc, char **argv){
  struct sockaddr_in sa;
  socklen_t n = sizeof(sa);
  int fd, one = 1;
  FILE *f;
  if( argc!=4 ){
    fprintf(stderr, "usage: %s NAME PORTFILE LOGFILE\n", argv[0]);
    return 2;
  }
  zName = argv[1];
  signal(SIGPIPE, SIG_IGN);
  pLog = fopen(argv[3], "a");
  if( pLog==0 ) return 1;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if( bind(fd, (struct sockaddr*)&sa, sizeof(sa)) || listen(fd, 128)
   || getsockname(fd, (struct sockaddr*)&sa, &n) ){
    perror("upstream");
    return 1;
  }
  f = fopen(argv[2], "w");
  if( f==0 ) return 1;
  fprintf(f, "%d\n", ntohs(sa.sin_port));
  fclose(f);
  for(;;){
    pthread_t t;
    int c = accept(fd, 0, 0);
    if( c<0 ){
      if( errno==EINTR ) continue;
      return 1;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    logLine("accept");
    if( pthread_create(&t, 0, connMain, (void*)(intptr_t)c)==0 ){
      pthread_detach(t);
    }else{
      close(c);
    }
  }
}
