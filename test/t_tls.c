/*
** Tests for TLS (src/tls.c): the HTTPS listener (the server of t_server.c
** with ssoTlsTransport) and the client's certificate verification, with
** a private PKI made here, at test time, with mbedTLS's x509write API: a
** CA, and server certificates that are good, for the wrong host, expired,
** and signed by a CA nobody trusts. Files go to a temporary directory.
*/
#include <dirent.h>

#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/oid.h>

typedef struct TlsPki TlsPki;
struct TlsPki {
  char zDir[64];
  char zCa[96], zGood[96], zGoodKey[96], zWrong[96], zExpired[96];
  char zUnknown[96], zOtherKey[96], zJunk[96], zCaDir[96];
  int bOk;
};
static TlsPki tlsPki;

static int tpWrite(const char *zPath, const void *p, size_t n){
  FILE *f = fopen(zPath, "wb");
  int rc;
  if( f==0 ) return -1;
  rc = fwrite(p, 1, n, f)==n ? 0 : -1;
  fclose(f);
  return rc;
}

static int tpKey(mbedtls_pk_context *pk, const char *zPath){
  unsigned char a[2048];
  mbedtls_pk_init(pk);
  if( mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
   || mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                          tlsRandom, 0) ){
    return -1;
  }
  if( zPath==0 ) return 0;
  if( mbedtls_pk_write_key_pem(pk, a, sizeof(a)) ) return -1;
  return tpWrite(zPath, a, strlen((char*)a));
}

/* subjectAltName: dNSName zDns and, if nIp, iPAddress aIp (RFC 5280). */
static size_t tpSan(unsigned char *a, const char *zDns,
                    const unsigned char *aIp, size_t nIp){
  size_t n = 0, nDns = strlen(zDns);
  a[n++] = 0x30;
  a[n++] = (unsigned char)(2 + nDns + (nIp ? 2 + nIp : 0));
  a[n++] = 0x82;
  a[n++] = (unsigned char)nDns;
  memcpy(a+n, zDns, nDns);
  n += nDns;
  if( nIp ){
    a[n++] = 0x87;
    a[n++] = (unsigned char)nIp;
    memcpy(a+n, aIp, nIp);
    n += nIp;
  }
  return n;
}

/* "YYYYMMDDHHMMSS" for now + nDay days. */
static void tpTime(char *z, int nDay){
  time_t t = time(0) + (time_t)nDay*86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(z, 16, "%Y%m%d%H%M%S", &tm);
}

static int tpCert(const char *zPath, mbedtls_pk_context *pSubj,
                  const char *zSubj, mbedtls_pk_context *pIss,
                  const char *zIss, int bCa, const char *zFrom,
                  const char *zTo, const unsigned char *aSan, size_t nSan,
                  int iSerial){
  mbedtls_x509write_cert w;
  unsigned char a[4096];
  int rc;
  mbedtls_x509write_crt_init(&w);
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
#if MBEDTLS_VERSION_NUMBER>=0x03040000
  {
    unsigned char aSerial[1];
    aSerial[0] = (unsigned char)iSerial;
    rc = mbedtls_x509write_crt_set_serial_raw(&w, aSerial, 1);
  }
#else
  {
    mbedtls_mpi m;
    mbedtls_mpi_init(&m);
    rc = mbedtls_mpi_lset(&m, iSerial);
    if( rc==0 ) rc = mbedtls_x509write_crt_set_serial(&w, &m);
    mbedtls_mpi_free(&m);
  }
#endif
  if( rc==0 ) rc = mbedtls_x509write_crt_set_validity(&w, zFrom, zTo);
  if( rc==0 ) rc = mbedtls_x509write_crt_set_subject_name(&w, zSubj);
  if( rc==0 ) rc = mbedtls_x509write_crt_set_issuer_name(&w, zIss);
  mbedtls_x509write_crt_set_subject_key(&w, pSubj);
  mbedtls_x509write_crt_set_issuer_key(&w, pIss);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  if( rc==0 ) rc = mbedtls_x509write_crt_set_basic_constraints(&w, bCa, -1);
  if( rc==0 && nSan ){
    rc = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, aSan, nSan);
  }
  if( rc==0 ) rc = mbedtls_x509write_crt_pem(&w, a, sizeof(a), tlsRandom, 0);
  mbedtls_x509write_crt_free(&w);
  if( rc ) return -1;
  return tpWrite(zPath, a, strlen((char*)a));
}

/* Remove the PKI directory (at exit). */
static void tpCleanup(void){
  TlsPki *p = &tlsPki;
  DIR *d;
  struct dirent *e;
  char zPath[200];
  if( p->zDir[0]==0 ) return;
  d = opendir(p->zCaDir);
  while( d && (e = readdir(d))!=0 ){
    if( e->d_name[0]=='.' ) continue;
    snprintf(zPath, sizeof(zPath), "%.100s/%.60s", p->zCaDir, e->d_name);
    unlink(zPath);
  }
  if( d ) closedir(d);
  rmdir(p->zCaDir);
  d = opendir(p->zDir);
  while( d && (e = readdir(d))!=0 ){
    if( e->d_name[0]=='.' ) continue;
    snprintf(zPath, sizeof(zPath), "%.100s/%.60s", p->zDir, e->d_name);
    unlink(zPath);
  }
  if( d ) closedir(d);
  rmdir(p->zDir);
  memset(p, 0, sizeof(*p));
}

/* Build the PKI once per run; later cases reuse it. */
static int tpSetup(void){
  static const unsigned char aLo[4] = { 127, 0, 0, 1 };
  static const unsigned char aOther[4] = { 10, 1, 2, 3 };
  TlsPki *p = &tlsPki;
  mbedtls_pk_context ca, ca2, key, other;
  unsigned char aSan[128];
  char zFrom[16], zTo[16], zPath[128];
  size_t nSan;
  int rc;
  if( p->bOk ) return 0;
  strcpy(p->zDir, "/tmp/ssoproxy-tls-XXXXXX");
  if( mkdtemp(p->zDir)==0 ) return -1;
  atexit(tpCleanup);
  snprintf(p->zCa, 96, "%.60s/ca.pem", p->zDir);
  snprintf(p->zGood, 96, "%.60s/good.pem", p->zDir);
  snprintf(p->zGoodKey, 96, "%.60s/good.key", p->zDir);
  snprintf(p->zWrong, 96, "%.60s/wrong.pem", p->zDir);
  snprintf(p->zExpired, 96, "%.60s/expired.pem", p->zDir);
  snprintf(p->zUnknown, 96, "%.60s/unknown.pem", p->zDir);
  snprintf(p->zOtherKey, 96, "%.60s/other.key", p->zDir);
  snprintf(p->zJunk, 96, "%.60s/junk.pem", p->zDir);
  snprintf(p->zCaDir, 96, "%.60s/cadir", p->zDir);
  tpTime(zFrom, -1);
  tpTime(zTo, 30);
  rc = tpKey(&ca, 0) | tpKey(&ca2, 0) | tpKey(&key, p->zGoodKey)
     | tpKey(&other, p->zOtherKey);
  nSan = tpSan(aSan, "localhost", aLo, 4);
  rc |= tpCert(p->zCa, &ca, "CN=ssoproxy test CA", &ca, "CN=ssoproxy test CA",
               1, zFrom, zTo, 0, 0, 1);
  rc |= tpCert(p->zGood, &key, "CN=localhost", &ca, "CN=ssoproxy test CA", 0,
               zFrom, zTo, aSan, nSan, 2);
  rc |= tpCert(p->zExpired, &key, "CN=localhost", &ca, "CN=ssoproxy test CA",
               0, "20200101000000", "20210101000000", aSan, nSan, 3);
  rc |= tpCert(p->zUnknown, &key, "CN=localhost", &ca2, "CN=someone else",
               0, zFrom, zTo, aSan, nSan, 4);
  nSan = tpSan(aSan, "wrong.example", aOther, 4);
  rc |= tpCert(p->zWrong, &key, "CN=wrong.example", &ca,
               "CN=ssoproxy test CA", 0, zFrom, zTo, aSan, nSan, 5);
  rc |= tpWrite(p->zJunk, "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n"
                "-----END CERTIFICATE-----\n", 62);
  if( mkdir(p->zCaDir, 0700) ) rc = -1;
  snprintf(zPath, sizeof(zPath), "%.100s/a.pem", p->zCaDir);
  {
    char *z = 0;
    size_t n = 0;
    if( ssoOsReadFile(p->zCa, 1<<20, &z, &n)==0 ) rc |= tpWrite(zPath, z, n);
    else rc = -1;
    ssoFree(z);
  }
  snprintf(zPath, sizeof(zPath), "%.100s/b.pem", p->zCaDir);
  rc |= tpWrite(zPath, "not a certificate\n", 18);
  mbedtls_pk_free(&ca);
  mbedtls_pk_free(&ca2);
  mbedtls_pk_free(&key);
  mbedtls_pk_free(&other);
  p->bOk = rc==0;
  return rc ? -1 : 0;
}

/* The test server of t_server.c, over TLS with certificate zCert. */
static int tpServe(TSrv *t, SsoTls **ppTls, const char *zCert){
  SsoServerConfig cfg;
  char zErr[256];
  int rc = ssoTlsServerNew(zCert, tlsPki.zGoodKey, ppTls, zErr, sizeof(zErr));
  if( rc ){
    fprintf(stderr, "  tls: %s\n", zErr);
    return rc;
  }
  tsConfig(&cfg);
  cfg.xTransport = ssoTlsTransport;
  cfg.pTransportArg = *ppTls;
  cfg.msHeader = 500;
  rc = tsStart(t, &cfg, 0);
  if( rc ){
    ssoTlsFree(*ppTls);
    *ppTls = 0;
  }
  return rc;
}

static void tpUnserve(TSrv *t, SsoTls *pTls){
  CHECK_INT( tsStop(t), SSOPROXY_OK );
  ssoTlsFree(pTls);
}

static void test_tls_server_config(void){
  SsoTls *p = 0;
  char zErr[300];
  if( tpSetup() ){ CHECK( 0 ); return; }
  CHECK_INT( ssoTlsServerNew(tlsPki.zGood, tlsPki.zGoodKey, &p, zErr,
                             sizeof(zErr)), SSOPROXY_OK );
  CHECK( p!=0 );
  ssoTlsFree(p);
  CHECK_INT( ssoTlsServerNew("/nonexistent/cert.pem", tlsPki.zGoodKey, &p,
                             zErr, sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( p==0 );
  CHECK( strstr(zErr, "cannot read TLS certificate /nonexistent/cert.pem: ")
         ==zErr );
  CHECK_INT( ssoTlsServerNew(tlsPki.zJunk, tlsPki.zGoodKey, &p, zErr,
                             sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "holds no valid certificate")!=0 );
  CHECK_INT( ssoTlsServerNew(tlsPki.zGood, tlsPki.zGood, &p, zErr,
                             sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "is not a valid private key")!=0 );
  CHECK_INT( ssoTlsServerNew(tlsPki.zGood, "/nonexistent.key", &p, zErr,
                             sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "cannot read TLS key /nonexistent.key")!=0 );
  CHECK_INT( ssoTlsServerNew(tlsPki.zGood, tlsPki.zOtherKey, &p, zErr,
                             sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "does not match the certificate")!=0 );
}

/* The same errors through ssoproxy_open(): SSOPROXY_CONFIG, one line. */
static void test_tls_app_config(void){
  ssoproxy_config *pCfg = 0;
  ssoproxy *p = 0;
  char zDb[200];
  if( tpSetup() ){ CHECK( 0 ); return; }
  snprintf(zDb, sizeof(zDb), "%s/app.db", tlsPki.zDir);
  CHECK_INT( ssoproxy_config_new(&pCfg), SSOPROXY_OK );
  ssoproxy_config_set(pCfg, "SSOPROXY_LISTEN", "127.0.0.1:0");
  ssoproxy_config_set(pCfg, "SSOPROXY_DB", zDb);
  ssoproxy_config_set(pCfg, "SSOPROXY_LOG_LEVEL", "off");
  ssoproxy_config_set(pCfg, "SSOPROXY_CA_FILE", tlsPki.zCa);
  ssoproxy_config_set(pCfg, "SSOPROXY_TLS_CERT", tlsPki.zGood);
  CHECK_INT( ssoproxy_open(pCfg, &p), SSOPROXY_CONFIG );
  CHECK_STR( ssoproxy_errmsg(p), "SSOPROXY_TLS_CERT is set but "
             "SSOPROXY_TLS_KEY is not: HTTPS needs both the certificate and "
             "its key" );
  ssoproxy_close(p);
  ssoproxy_config_set(pCfg, "SSOPROXY_TLS_KEY", tlsPki.zOtherKey);
  CHECK_INT( ssoproxy_open(pCfg, &p), SSOPROXY_CONFIG );
  CHECK( strstr(ssoproxy_errmsg(p), "does not match")!=0 );
  ssoproxy_close(p);
  ssoproxy_config_set(pCfg, "SSOPROXY_TLS_KEY", tlsPki.zGoodKey);
  ssoproxy_config_set(pCfg, "SSOPROXY_CA_FILE", "/nonexistent/ca.pem");
  CHECK_INT( ssoproxy_open(pCfg, &p), SSOPROXY_CONFIG );
  CHECK( strstr(ssoproxy_errmsg(p), "SSOPROXY_CA_FILE: cannot read CA file "
                "/nonexistent/ca.pem")!=0 );
  ssoproxy_close(p);
  ssoproxy_config_set(pCfg, "SSOPROXY_CA_FILE", tlsPki.zCa);
  CHECK_INT( ssoproxy_open(pCfg, &p), SSOPROXY_OK );
  ssoproxy_close(p);
  ssoproxy_config_free(pCfg);
  unlink(zDb);
  {
    char z[220];
    snprintf(z, sizeof(z), "%s-wal", zDb);
    unlink(z);
    snprintf(z, sizeof(z), "%s-shm", zDb);
    unlink(z);
  }
}

static void test_tls_client_ca(void){
  SsoTls *p = 0;
  char zErr[300];
  struct stat st;
  if( tpSetup() ){ CHECK( 0 ); return; }
  CHECK_INT( ssoTlsClientNew(tlsPki.zCa, 0, &p, zErr, sizeof(zErr)),
             SSOPROXY_OK );
  CHECK_INT( ssoTlsCaCount(p), 1 );
  CHECK_INT( ssoTlsCaSkipped(p), 0 );
  CHECK_STR( ssoTlsCaSource(p), tlsPki.zCa );
  ssoTlsFree(p);
  /* A directory: one good file, one that is not a certificate, which is
  ** counted (and logged by the app), not fatal. */
  CHECK_INT( ssoTlsClientNew(tlsPki.zCaDir, 0, &p, zErr, sizeof(zErr)),
             SSOPROXY_OK );
  CHECK_INT( ssoTlsCaCount(p), 1 );
  CHECK_INT( ssoTlsCaSkipped(p), 1 );
  ssoTlsFree(p);
  CHECK_INT( ssoTlsClientNew("/nonexistent/ca.pem", 0, &p, zErr,
                             sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( p==0 );
  CHECK( strstr(zErr, "cannot read CA file /nonexistent/ca.pem")==zErr );
  CHECK_INT( ssoTlsClientNew(tlsPki.zJunk, 0, &p, zErr, sizeof(zErr)),
             SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "cannot load CA certificates from")==zErr );
  /* Insecure: nothing loaded, nothing needed. */
  CHECK_INT( ssoTlsClientNew("/nonexistent/ca.pem", 1, &p, zErr,
                             sizeof(zErr)), SSOPROXY_OK );
  CHECK_INT( ssoTlsInsecure(p), 1 );
  CHECK_INT( ssoTlsCaCount(p), 0 );
  ssoTlsFree(p);
  /* The system bundle is found without being named. */
  CHECK_INT( ssoTlsClientNew(0, 0, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  if( stat("/etc/ssl/certs/ca-certificates.crt", &st)==0 ){
    CHECK_STR( ssoTlsCaSource(p), "/etc/ssl/certs/ca-certificates.crt" );
    CHECK( ssoTlsCaCount(p)>50 );
  }
  ssoTlsFree(p);
}

/* One GET with a client trusting zCa (NULL: the system; "-": insecure). */
static int tpGet(const char *zCa, const char *zUrl, TcRes *a){
  SsoLoop *pLoop = 0;
  SsoClient *pCli = 0;
  SsoTls *pTls = 0;
  char zErr[300];
  int rc = ssoTlsClientNew(zCa && zCa[0]=='-' ? 0 : zCa,
                           zCa && zCa[0]=='-', &pTls, zErr, sizeof(zErr));
  memset(a, 0, sizeof(*a));
  if( rc ) return rc;
  if( tcOpen(&pLoop, &pCli, pTls)==0 ){
    rc = tcGet(pCli, pLoop, zUrl, a);
    ssoLoopTimerStop(pLoop, &a->resume);
    tcClose(pLoop, pCli);
  }
  ssoTlsFree(pTls);
  return rc;
}

static void test_tls_verify(void){
  TSrv t;
  SsoTls *pSrv = 0;
  TcRes a;
  char zUrl[200], zWant[200];
  if( tpSetup() ){ CHECK( 0 ); return; }
  /* A trusted certificate, by IP address and by name (SNI + DNS SAN). */
  if( tpServe(&t, &pSrv, tlsPki.zGood) ){ CHECK( 0 ); return; }
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_OK );
  if( a.rc ) fprintf(stderr, "  %s\n", a.zErr);
  CHECK_INT( a.iStatus, 200 );
  CHECK_STR( a.zBody, "hello" );
  tcFree(&a);
  snprintf(zUrl, sizeof(zUrl), "https://localhost:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_OK );
  CHECK_STR( a.zBody, "hello" );
  tcFree(&a);
  /* The same server, not trusted by the system's CAs. */
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/hello", t.iPort);
  CHECK_INT( tpGet(0, zUrl, &a), SSOPROXY_NET );
  snprintf(zWant, sizeof(zWant), "certificate verification failed for "
           "127.0.0.1:%d: unknown CA", t.iPort);
  CHECK_STR( a.zErr, zWant );
  CHECK_INT( a.iProxy, 502 );
  tcFree(&a);
  /* Plain http to a TLS port is an invalid answer, not a hang. */
  snprintf(zUrl, sizeof(zUrl), "http://127.0.0.1:%d/hello", t.iPort);
  CHECK( tpGet(tlsPki.zCa, zUrl, &a)!=SSOPROXY_OK );
  tcFree(&a);
  tpUnserve(&t, pSrv);

  /* Wrong host name: for an IP (our iPAddress check) and a name (mbedTLS). */
  if( tpServe(&t, &pSrv, tlsPki.zWrong) ){ CHECK( 0 ); return; }
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_NET );
  snprintf(zWant, sizeof(zWant), "certificate verification failed for "
           "127.0.0.1:%d: host name mismatch", t.iPort);
  CHECK_STR( a.zErr, zWant );
  tcFree(&a);
  snprintf(zUrl, sizeof(zUrl), "https://localhost:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_NET );
  snprintf(zWant, sizeof(zWant), "certificate verification failed for "
           "localhost:%d: host name mismatch", t.iPort);
  CHECK_STR( a.zErr, zWant );
  tcFree(&a);
  tpUnserve(&t, pSrv);

  /* Expired. */
  if( tpServe(&t, &pSrv, tlsPki.zExpired) ){ CHECK( 0 ); return; }
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_NET );
  snprintf(zWant, sizeof(zWant), "certificate verification failed for "
           "127.0.0.1:%d: expired", t.iPort);
  CHECK_STR( a.zErr, zWant );
  tcFree(&a);
  tpUnserve(&t, pSrv);

  /* Signed by an unknown CA; accepted only by the insecure switch. */
  if( tpServe(&t, &pSrv, tlsPki.zUnknown) ){ CHECK( 0 ); return; }
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/hello", t.iPort);
  CHECK_INT( tpGet(tlsPki.zCa, zUrl, &a), SSOPROXY_NET );
  snprintf(zWant, sizeof(zWant), "certificate verification failed for "
           "127.0.0.1:%d: unknown CA", t.iPort);
  CHECK_STR( a.zErr, zWant );
  tcFree(&a);
  CHECK_INT( tpGet("-", zUrl, &a), SSOPROXY_OK );
  CHECK_STR( a.zBody, "hello" );
  tcFree(&a);
  tpUnserve(&t, pSrv);
}

/*
** The listener: keep-alive over TLS, bodies bigger than one TLS record
** both ways, a peer that sends garbage instead of a ClientHello (closed,
** others unaffected), and one that sends nothing (closed at the header
** timeout, which is also the handshake's).
*/
static void test_tls_listener(void){
  TSrv t;
  SsoTls *pSrv = 0, *pTls = 0;
  SsoLoop *pLoop = 0;
  SsoClient *pCli = 0;
  SsoClientReq r;
  TcRes a, b;
  Cli junk, idle;
  char zUrl[200], zErr[300], *zBig;
  const char *z1, *z2;
  size_t i, nBig = 300000;
  long long t0;
  if( tpSetup() ){ CHECK( 0 ); return; }
  if( tpServe(&t, &pSrv, tlsPki.zGood) ){ CHECK( 0 ); return; }
  CHECK_INT( ssoTlsClientNew(tlsPki.zCa, 0, &pTls, zErr, sizeof(zErr)), 0 );
  CHECK( tcOpen(&pLoop, &pCli, pTls)==0 );
  if( pCli==0 ){ tpUnserve(&t, pSrv); ssoTlsFree(pTls); return; }

  /* Garbage first, and a silent peer. */
  CHECK( cliOpen(&junk, &t)==0 );
  CHECK( cliOpen(&idle, &t)==0 );
  CHECK( cliSend(&junk, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")==0 );

  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/info", t.iPort);
  CHECK_INT( tcGet(pCli, pLoop, zUrl, &a), SSOPROXY_OK );
  CHECK_INT( tcGet(pCli, pLoop, zUrl, &b), SSOPROXY_OK );
  z1 = a.zBody ? strstr(a.zBody, " c=") : 0;
  z2 = b.zBody ? strstr(b.zBody, " c=") : 0;
  CHECK( z1 && z2 && strncmp(z1, z2, 20)==0 );   /* one connection */
  tcFree(&a);
  tcFree(&b);
  CHECK( cliSeesClose(&junk) );
  cliClose(&junk);
  t0 = ssoOsMonoMs();
  CHECK( cliSeesClose(&idle) );
  CHECK( ssoOsMonoMs()-t0<2000 );
  cliClose(&idle);

  /* Big bodies: many records each way. */
  zBig = malloc(nBig);
  for(i=0; i<nBig; i++) zBig[i] = (char)('a' + i%26);
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/echo", t.iPort);
  memset(&r, 0, sizeof(r));
  r.zUrl = zUrl;
  r.zMethod = "POST";
  r.pBody = zBig;
  r.nBody = nBig;
  tcInit(&a, pLoop);
  CHECK_INT( tcDo(pCli, pLoop, &r, &a), SSOPROXY_OK );
  CHECK_INT( a.nBody, nBig );
  CHECK( a.zBody && memcmp(a.zBody, zBig, nBig)==0 );
  tcFree(&a);
  /* A body that ends inside the server's first read: the rest of its TLS
  ** record waits, decrypted, inside mbedTLS while the socket is quiet. */
  r.nBody = 10000;
  tcInit(&a, pLoop);
  CHECK_INT( tcDo(pCli, pLoop, &r, &a), SSOPROXY_OK );
  CHECK_INT( a.nBody, 10000 );
  tcFree(&a);
  free(zBig);
  gStream.nTotal = 100000;
  gStream.nChunk = 16000;
  snprintf(zUrl, sizeof(zUrl), "https://127.0.0.1:%d/stream", t.iPort);
  memset(&r, 0, sizeof(r));
  r.zUrl = zUrl;
  r.xData = tcData;
  tcInit(&a, pLoop);
  a.nPauseEvery = 30000;
  a.msPause = 10;
  CHECK_INT( tcDo(pCli, pLoop, &r, &a), SSOPROXY_OK );
  CHECK_INT( a.nBody, 100000 );
  CHECK_INT( a.nBad, 0 );
  tcFree(&a);

  tcClose(pLoop, pCli);
  ssoTlsFree(pTls);
  tpUnserve(&t, pSrv);
}

static const TestCase aTlsTests[] = {
  TEST_CASE(test_tls_server_config),
  TEST_CASE(test_tls_app_config),
  TEST_CASE(test_tls_client_ca),
  TEST_CASE(test_tls_verify),
  TEST_CASE(test_tls_listener),
};
