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
#include "ssoInt.h"
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

SSO_PRIVATE void ssoLogInit(SsoLog *p, int fd, int eMin, int bJson){
  p->fd = fd;
  p->eMin = eMin;
  p->bJson = bJson;
}

SSO_PRIVATE int ssoLogLevelFromName(const char *zName){
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

SSO_PRIVATE int ssoLogBatch(int bOn){
  LogThread *t = &logThread;
  int bOld = t->bBatch;
  if( !bOn ) flushPending(t);
  t->bBatch = bOn!=0;
  return bOld;
}

SSO_PRIVATE void ssoLogFlush(void){
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
SSO_PRIVATE void ssoLogFormatTime(const struct timespec *ts, char *z){
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

SSO_PRIVATE void ssoLog(SsoLog *p, int eLevel, const char *zMsg, ...){
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
