/*
** A host program that embeds ssoproxy the way a vendor would: it sees only
** ssoproxy.h and links ssoproxy.c compiled with -DSSOPROXY_OMIT_MAIN (see
** the Makefile's build/embed rule; no main() of ours), opens a
** server from a configuration built through the API, runs it on a thread,
** checks that it answers, stops it from another thread and closes it.
** Prints "N passed, N failed".
*/
#define _POSIX_C_SOURCE 200809L
#include "ssoproxy.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static int nPass, nFail;
#define EXPECT(c) do{ if( c ) nPass++; else { nFail++; \
  fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } }while(0)

static void *runThread(void *p){
  return (void*)(intptr_t)ssoproxy_run((ssoproxy*)p);
}

/* GET /health/liveliness from host:port; returns 1 on a 200 answer. */
static int probe(const char *zAddr){
  char zHost[64], zReply[512];
  const char *zColon = strrchr(zAddr, ':');
  struct sockaddr_in sa;
  int fd, n, nGot = 0;
  static const char zReq[] =
    "GET /health/liveliness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if( zColon==0 || zColon-zAddr>=(int)sizeof(zHost) ) return 0;
  memcpy(zHost, zAddr, (size_t)(zColon-zAddr));
  zHost[zColon-zAddr] = 0;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(zColon+1));
  if( inet_pton(AF_INET, zHost, &sa.sin_addr)!=1 ) return 0;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if( fd<0 ) return 0;
  if( connect(fd, (struct sockaddr*)&sa, sizeof(sa)) ){ close(fd); return 0; }
  if( write(fd, zReq, sizeof(zReq)-1)!=(ssize_t)sizeof(zReq)-1 ){
    close(fd);
    return 0;
  }
  while( nGot<(int)sizeof(zReply)-1
      && (n = (int)read(fd, zReply+nGot, sizeof(zReply)-1-(size_t)nGot))>0 ){
    nGot += n;
  }
  zReply[nGot] = 0;
  close(fd);
  return strncmp(zReply, "HTTP/1.1 200", 12)==0
      && strstr(zReply, "\"I'm alive!\"")!=0;
}

int main(void){
  char zDb[] = "/tmp/ssoproxy-embed-XXXXXX";
  char zPath[64];
  ssoproxy_config *pCfg = 0;
  ssoproxy *pSrv = 0;
  pthread_t t;
  void *pRet = 0;
  int fd = mkstemp(zDb);

  EXPECT( fd>=0 );
  close(fd);
  unlink(zDb);                 /* a fresh database gets created */
  snprintf(zPath, sizeof(zPath), "%s", zDb);
  EXPECT( strcmp(ssoproxy_libversion(), SSOPROXY_VERSION)==0 );
  EXPECT( strlen(ssoproxy_sourceid())==64 );

  /* A bad setting is refused with a message naming it. */
  EXPECT( ssoproxy_config_new(&pCfg)==SSOPROXY_OK );
  EXPECT( ssoproxy_config_set(pCfg, "SSOPROXY_LISTEN", "nowhere")
          ==SSOPROXY_CONFIG );
  EXPECT( strstr(ssoproxy_config_errmsg(pCfg), "SSOPROXY_LISTEN")!=0 );

  EXPECT( ssoproxy_config_set(pCfg, "SSOPROXY_LISTEN", "127.0.0.1:0")==0 );
  EXPECT( ssoproxy_config_set(pCfg, "SSOPROXY_DB", zPath)==0 );
  EXPECT( ssoproxy_config_set(pCfg, "SSOPROXY_WORKERS", "2")==0 );
  EXPECT( ssoproxy_config_set(pCfg, "SSOPROXY_LOG_LEVEL", "warn")==0 );
  EXPECT( ssoproxy_open(pCfg, &pSrv)==SSOPROXY_OK );
  ssoproxy_config_free(pCfg);      /* the server keeps its own copy */
  if( pSrv==0 ){
    printf("%d passed, %d failed\n", nPass, nFail+1);
    return 1;
  }
  EXPECT( strncmp(ssoproxy_listen_address(pSrv), "127.0.0.1:", 10)==0 );
  EXPECT( strcmp(ssoproxy_listen_address(pSrv), "127.0.0.1:0")!=0 );
  EXPECT( pthread_create(&t, 0, runThread, pSrv)==0 );
  EXPECT( probe(ssoproxy_listen_address(pSrv)) );
  ssoproxy_stop(pSrv);
  EXPECT( pthread_join(t, &pRet)==0 );
  EXPECT( (intptr_t)pRet==SSOPROXY_OK );
  EXPECT( ssoproxy_close(pSrv)==SSOPROXY_OK );
  EXPECT( ssoproxy_close(0)==SSOPROXY_OK );
  EXPECT( access(zPath, F_OK)==0 );

  /* A file that is not a database: a clear error, the file untouched. */
  fd = open(zPath, O_WRONLY|O_TRUNC);
  EXPECT( fd>=0 && write(fd, "not a database, just text\n", 26)==26 );
  close(fd);
  EXPECT( ssoproxy_config_new(&pCfg)==SSOPROXY_OK );
  ssoproxy_config_set(pCfg, "SSOPROXY_LISTEN", "127.0.0.1:0");
  ssoproxy_config_set(pCfg, "SSOPROXY_DB", zPath);
  pSrv = 0;
  EXPECT( ssoproxy_open(pCfg, &pSrv)==SSOPROXY_DB );
  EXPECT( pSrv!=0 && strstr(ssoproxy_errmsg(pSrv), "not an SQLite database") );
  ssoproxy_close(pSrv);
  ssoproxy_config_free(pCfg);
  unlink(zPath);
  printf("%d passed, %d failed\n", nPass, nFail);
  return nFail!=0;
}
