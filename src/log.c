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
#include "ssoInt.h"
#include <time.h>
#include <unistd.h>

static const char *const azLevel[] = { "debug", "info", "warn", "error" };

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

SSO_PRIVATE void ssoLog(SsoLog *p, int eLevel, const char *zMsg, ...){
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
