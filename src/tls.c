/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: TLS for the server's listener and the outbound client, on top
** of mbedTLS, behind the same SsoIoMethods table the plain sockets use.
** Everything version-specific (2.28 in Debian 12, 3.x elsewhere) is
** settled in this file and in crypto.c, nowhere else (STYLE.md item 9).
**
** Sharing between threads. A configuration (mbedtls_ssl_config with its
** certificate chain, key and trusted CAs) is built at start-up and only
** read afterwards, so every worker shares one. Two things make that safe:
**
**   - randomness comes from the operating system (getentropy), which is
**     thread-safe, rather than from a DRBG that would need a lock or a
**     copy per thread;
**   - the public-key operations of a handshake touch caches inside the
**     shared keys (RSA blinding values, Montgomery constants). mbedTLS
**     guards those with mutexes when built with MBEDTLS_THREADING_C (as
**     Debian, Alpine, Fedora and Homebrew build it); for a build without
**     it, the handshake steps of all threads take one mutex here instead.
**     Records after the handshake use only per-connection state.
**
** The handshake runs inside the first reads and writes (server) or in
** ssoTlsHandshake() (client), never blocking: every WANT_READ/WANT_WRITE
** of mbedTLS becomes SSO_IO_WANT_READ/WRITE for the event loop.
**
** No close_notify is sent (RFC 8446 §6.1 lets a peer close without one
** when the application protocol frames its own data, as HTTP/1.1 does):
** the transport's xFree runs after its owner has closed the descriptor,
** when writing to that descriptor number could reach a stranger.
*/
#include "ssoInt.h"
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__APPLE__)
# include <sys/random.h>
#endif

#include <mbedtls/version.h>
#include <mbedtls/asn1.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
# include <psa/crypto.h>
#endif

#ifndef MSG_NOSIGNAL
# define MSG_NOSIGNAL 0     /* BSDs: SO_NOSIGPIPE is set on the socket */
#endif

#define TLS_MAX_CA_FILE (64u<<20)  /* Bytes in a CA bundle file */
#define TLS_MAX_WRITE   16384      /* Plaintext per write: one record */

struct SsoTls {
  int bServer;              /* Server configuration (else client) */
  int bInsecure;            /* Client: verify nothing */
  mbedtls_ssl_config conf;  /* Refers to chain and key: never moves */
  mbedtls_x509_crt chain;   /* Server: own chain. Client: trusted CAs */
  mbedtls_pk_context key;   /* Server: private key */
  int nCa;                  /* Client: certificates trusted */
  int nCaSkipped;           /* Client: certificates mbedTLS refused */
  char *zCaSource;          /* Client: file or directory loaded; owned */
#ifdef MBEDTLS_SSL_ALPN
  const char *azAlpn[2];    /* "http/1.1": the only protocol we speak */
#endif
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_t mu;       /* Serialises handshakes (see the header) */
#endif
};

typedef struct TlsConn TlsConn;
struct TlsConn {
  mbedtls_ssl_context ssl;
  SsoTls *pTls;
  int fd;
  unsigned char bDone;      /* Handshake complete */
  unsigned char bFailed;    /* A fatal error happened; zErr says which */
  unsigned char bVerify;    /* The failure was certificate verification */
  int nIp;                  /* Client: 4 or 16 when the host is an IP */
  unsigned char aIp[16];
  size_t nWritePending;     /* Length of a write that wanted to wait */
  char zErr[200];
};

#ifdef MBEDTLS_THREADING_C
# define tlsLock(p)   ((void)(p))
# define tlsUnlock(p) ((void)(p))
#else
# define tlsLock(p)   pthread_mutex_lock(&(p)->mu)
# define tlsUnlock(p) pthread_mutex_unlock(&(p)->mu)
#endif

/* ---- Helpers --------------------------------------------------------- */

/* mbedTLS's f_rng: the kernel's CSPRNG, 256 bytes per call at most. */
static int tlsRandom(void *pArg, unsigned char *p, size_t n){
  SSO_UNUSED(pArg);
  while( n>0 ){
    size_t k = n>256 ? 256 : n;
    if( getentropy(p, k) ) return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    p += k;
    n -= k;
  }
  return 0;
}

static void tlsErrText(int rc, char *z, size_t n){
#if defined(MBEDTLS_ERROR_C)
  mbedtls_strerror(rc, z, n);
#else
  snprintf(z, n, "mbedTLS error -0x%04x", (unsigned)-rc);
#endif
}

/* TLS 1.3 and the 3.x key parsers run on PSA, which wants initialising
** once; psa_crypto_init() may be called again and again. */
static int tlsInitPsa(void){
#if MBEDTLS_VERSION_NUMBER>=0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
  return psa_crypto_init()==PSA_SUCCESS ? 0 : -1;
#else
  return 0;
#endif
}

/* Every TLS set-up failure is a configuration error the operator fixes. */
#define tlsFail(zErr, nErr, ...) \
  ssoErrorf(zErr, nErr, SSOPROXY_CONFIG, __VA_ARGS__)

/*
** The start of both constructors: the message emptied, the crypto
** library ready, *ppNew a zeroed object with initialised mbedTLS parts.
*/
static int tlsAlloc(int bServer, SsoTls **ppNew, char *zErr, size_t nErr){
  SsoTls *p;
  *ppNew = 0;
  zErr[0] = 0;
  if( tlsInitPsa() ){
    return tlsFail(zErr, nErr, "cannot initialise the PSA crypto library");
  }
  p = ssoMallocZero(sizeof(SsoTls));
  if( p==0 ) return SSOPROXY_NOMEM;
  p->bServer = bServer;
  mbedtls_ssl_config_init(&p->conf);
  mbedtls_x509_crt_init(&p->chain);
  mbedtls_pk_init(&p->key);
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_init(&p->mu, 0);
#endif
  *ppNew = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE void ssoTlsFree(SsoTls *p){
  if( p==0 ) return;
  mbedtls_ssl_config_free(&p->conf);
  mbedtls_x509_crt_free(&p->chain);
  mbedtls_pk_free(&p->key);
#ifndef MBEDTLS_THREADING_C
  pthread_mutex_destroy(&p->mu);
#endif
  ssoFree(p->zCaSource);
  ssoFree(p);
}

/* The settings both ends share: TLS 1.2 at least (RFC 8996 retired 1.0
** and 1.1; RFC 9325 §3.1.1), no renegotiation, ALPN http/1.1. */
static int tlsConfBase(SsoTls *p, int eEndpoint){
  int rc = mbedtls_ssl_config_defaults(&p->conf, eEndpoint,
                                       MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if( rc ) return rc;
  mbedtls_ssl_conf_rng(&p->conf, tlsRandom, 0);
#if MBEDTLS_VERSION_NUMBER>=0x03020000
  mbedtls_ssl_conf_min_tls_version(&p->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
  mbedtls_ssl_conf_min_version(&p->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  mbedtls_ssl_conf_renegotiation(&p->conf,
                                 MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
#ifdef MBEDTLS_SSL_ALPN
  p->azAlpn[0] = "http/1.1";
  p->azAlpn[1] = 0;
  rc = mbedtls_ssl_conf_alpn_protocols(&p->conf, p->azAlpn);
#endif
  return rc;
}

/* Read a PEM (or DER) file for mbedTLS's parsers: PEM must be passed with
** its terminating NUL counted, DER without. *pn is that length. */
static int tlsReadFile(const char *zPath, size_t mx, char **pz, size_t *pn,
                       const char *zWhat, char *zErr, size_t nErr){
  int rc = ssoOsReadFile(zPath, mx, pz, pn);
  if( rc==SSOPROXY_NOMEM ) return rc;
  if( rc==SSOPROXY_TOOBIG ){
    return tlsFail(zErr, nErr, "%s %s is larger than %u bytes", zWhat, zPath,
                   (unsigned)mx);
  }
  if( rc ){
    return tlsFail(zErr, nErr, "cannot read %s %s: %s", zWhat, zPath,
                   strerror(errno));
  }
  if( strstr(*pz, "-----BEGIN ") ) (*pn)++;
  return SSOPROXY_OK;
}

/* ---- Server configuration ---------------------------------------------- */

static int tlsLoadServerCert(SsoTls *p, const char *zCert, char *zErr,
                             size_t nErr){
  char *z = 0, zWhy[160];
  size_t n = 0;
  int rc = tlsReadFile(zCert, SSO_TLS_MAX_PEM, &z, &n, "TLS certificate",
                       zErr, nErr);
  if( rc ) return rc;
  rc = mbedtls_x509_crt_parse(&p->chain, (const unsigned char*)z, n);
  ssoFree(z);
  if( rc<0 ){
    if( rc==MBEDTLS_ERR_X509_ALLOC_FAILED ) return SSOPROXY_NOMEM;
    tlsErrText(rc, zWhy, sizeof(zWhy));
    return tlsFail(zErr, nErr, "TLS certificate %s holds no valid "
                   "certificate (%s)", zCert, zWhy);
  }
  if( rc>0 ){
    return tlsFail(zErr, nErr, "TLS certificate %s: %d of its certificates "
                   "could not be parsed", zCert, rc);
  }
  return SSOPROXY_OK;
}

static int tlsLoadServerKey(SsoTls *p, const char *zKey, char *zErr,
                            size_t nErr){
  char *z = 0, zWhy[160];
  size_t n = 0;
  int rc = tlsReadFile(zKey, SSO_TLS_MAX_PEM, &z, &n, "TLS key", zErr, nErr);
  if( rc ) return rc;
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  rc = mbedtls_pk_parse_key(&p->key, (const unsigned char*)z, n, 0, 0,
                            tlsRandom, 0);
#else
  rc = mbedtls_pk_parse_key(&p->key, (const unsigned char*)z, n, 0, 0);
#endif
  mbedtls_platform_zeroize(z, n);     /* a private key: no copies left */
  ssoFree(z);
  if( rc==MBEDTLS_ERR_PK_PASSWORD_REQUIRED
   || rc==MBEDTLS_ERR_PK_PASSWORD_MISMATCH ){
    return tlsFail(zErr, nErr, "TLS key %s is encrypted; give an "
                   "unencrypted PEM key", zKey);
  }
  if( rc==MBEDTLS_ERR_PK_ALLOC_FAILED ) return SSOPROXY_NOMEM;
  if( rc ){
    tlsErrText(rc, zWhy, sizeof(zWhy));
    return tlsFail(zErr, nErr, "TLS key %s is not a valid private key (%s)",
                   zKey, zWhy);
  }
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoTlsServerNew(const char *zCertFile, const char *zKeyFile,
                                SsoTls **pp, char *zErr, size_t nErr){
  SsoTls *p;
  int rc = tlsAlloc(1, &p, zErr, nErr);
  *pp = 0;
  if( rc ) return rc;
  rc = tlsLoadServerCert(p, zCertFile, zErr, nErr);
  if( rc==SSOPROXY_OK ) rc = tlsLoadServerKey(p, zKeyFile, zErr, nErr);
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  if( rc==SSOPROXY_OK
   && mbedtls_pk_check_pair(&p->chain.pk, &p->key, tlsRandom, 0) ){
#else
  if( rc==SSOPROXY_OK && mbedtls_pk_check_pair(&p->chain.pk, &p->key) ){
#endif
    rc = tlsFail(zErr, nErr, "TLS key %s does not match the certificate %s",
                 zKeyFile, zCertFile);
  }
  if( rc==SSOPROXY_OK && tlsConfBase(p, MBEDTLS_SSL_IS_SERVER) ){
    rc = SSOPROXY_NOMEM;
  }
  if( rc==SSOPROXY_OK
   && mbedtls_ssl_conf_own_cert(&p->conf, &p->chain, &p->key) ){
    rc = SSOPROXY_NOMEM;
  }
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) tlsFail(zErr, nErr, "out of memory");
    ssoTlsFree(p);
    return rc;
  }
  *pp = p;
  return SSOPROXY_OK;
}

/* ---- Client configuration: the certificates we trust -------------------- */

/*
** Where systems keep their CA bundle, most common first. The first that
** exists is used; /etc/ssl/certs as a directory of PEM files comes last.
*/
static const char *const azTlsSystemCa[] = {
  "/etc/ssl/certs/ca-certificates.crt",   /* Debian, Ubuntu, Alpine, Arch */
  "/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL, CentOS */
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  /* RHEL 7+ */
  "/etc/ssl/ca-bundle.pem",               /* openSUSE */
  "/etc/ssl/cert.pem",                    /* Alpine, macOS, the BSDs */
  "/opt/homebrew/etc/ca-certificates/cert.pem",  /* Homebrew, Apple CPUs */
  "/usr/local/etc/ca-certificates/cert.pem",     /* Homebrew, Intel */
  "/usr/local/share/certs/ca-root-nss.crt",      /* FreeBSD ports */
};
#define TLS_SYSTEM_CA_DIR "/etc/ssl/certs"

static int tlsCountChain(const mbedtls_x509_crt *c){
  int n = 0;
  for(; c && c->raw.p; c=c->next) n++;
  return n;
}

/*
** Load the certificates in zPath, a file or a directory. For a
** directory, mbedtls_x509_crt_parse_path() returns how many files failed
** (kept in nCaSkipped, which the caller logs) or, below zero, that it
** could not read the directory at all: that is fatal.
*/
static int tlsLoadCa(SsoTls *p, const char *zPath, char *zErr, size_t nErr){
  struct stat st;
  char zWhy[160];
  int rc;
  if( stat(zPath, &st)==0 && S_ISDIR(st.st_mode) ){
    rc = mbedtls_x509_crt_parse_path(&p->chain, zPath);
  }else{
    char *z = 0;
    size_t n = 0;
    rc = tlsReadFile(zPath, TLS_MAX_CA_FILE, &z, &n, "CA file", zErr, nErr);
    if( rc ) return rc;
    rc = mbedtls_x509_crt_parse(&p->chain, (const unsigned char*)z, n);
    ssoFree(z);
  }
  if( rc==MBEDTLS_ERR_X509_ALLOC_FAILED ) return SSOPROXY_NOMEM;
  p->nCa = tlsCountChain(&p->chain);
  if( rc<0 || p->nCa==0 ){
    if( rc<0 ) tlsErrText(rc, zWhy, sizeof(zWhy));
    else snprintf(zWhy, sizeof(zWhy), "no certificate in it");
    return tlsFail(zErr, nErr, "cannot load CA certificates from %s (%s)",
                   zPath, zWhy);
  }
  p->nCaSkipped = rc;
  p->zCaSource = ssoStrdup(zPath);
  return p->zCaSource ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

static int tlsLoadSystemCa(SsoTls *p, char *zErr, size_t nErr){
  struct stat st;
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTlsSystemCa); i++){
    if( stat(azTlsSystemCa[i], &st)==0 && S_ISREG(st.st_mode) ){
      return tlsLoadCa(p, azTlsSystemCa[i], zErr, nErr);
    }
  }
  if( stat(TLS_SYSTEM_CA_DIR, &st)==0 && S_ISDIR(st.st_mode) ){
    return tlsLoadCa(p, TLS_SYSTEM_CA_DIR, zErr, nErr);
  }
  return SSOPROXY_OK;     /* none: https fails later, with a reason */
}

SSO_PRIVATE int ssoTlsClientNew(const char *zCaFile, int bInsecure,
                                SsoTls **pp, char *zErr, size_t nErr){
  SsoTls *p;
  int rc = tlsAlloc(0, &p, zErr, nErr);
  *pp = 0;
  if( rc ) return rc;
  p->bInsecure = bInsecure!=0;
  rc = tlsConfBase(p, MBEDTLS_SSL_IS_CLIENT) ? SSOPROXY_NOMEM : SSOPROXY_OK;
  if( rc==SSOPROXY_OK && !bInsecure ){
    rc = zCaFile && zCaFile[0] ? tlsLoadCa(p, zCaFile, zErr, nErr)
                               : tlsLoadSystemCa(p, zErr, nErr);
  }
  if( rc ){
    if( rc==SSOPROXY_NOMEM ) tlsFail(zErr, nErr, "out of memory");
    ssoTlsFree(p);
    return rc;
  }
  /* RFC 9325 §3.4: verify the peer, always, unless told loudly not to. */
  mbedtls_ssl_conf_authmode(&p->conf, bInsecure ? MBEDTLS_SSL_VERIFY_NONE
                                                : MBEDTLS_SSL_VERIFY_REQUIRED);
  if( !bInsecure ) mbedtls_ssl_conf_ca_chain(&p->conf, &p->chain, 0);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
  /* No session cache here, so tickets would only be parsed and dropped. */
  mbedtls_ssl_conf_session_tickets(&p->conf,
                                   MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
  *pp = p;
  return SSOPROXY_OK;
}

SSO_PRIVATE const char *ssoTlsCaSource(const SsoTls *p){
  return p->zCaSource ? p->zCaSource : "";
}
SSO_PRIVATE int ssoTlsCaCount(const SsoTls *p){ return p->nCa; }
SSO_PRIVATE int ssoTlsCaSkipped(const SsoTls *p){ return p->nCaSkipped; }
SSO_PRIVATE int ssoTlsInsecure(const SsoTls *p){ return p->bInsecure; }

/* ---- Connections ----------------------------------------------------------- */

static int tlsSend(void *pArg, const unsigned char *p, size_t n){
  TlsConn *c = pArg;
  for(;;){
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if( k>=0 ) return (int)k;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if( errno==EPIPE || errno==ECONNRESET ) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_SEND_FAILED;
  }
}

static int tlsRecv(void *pArg, unsigned char *p, size_t n){
  TlsConn *c = pArg;
  for(;;){
    ssize_t k = recv(c->fd, p, n, 0);
    if( k>=0 ) return (int)k;
    if( errno==EINTR ) continue;
    if( errno==EAGAIN || errno==EWOULDBLOCK ) return MBEDTLS_ERR_SSL_WANT_READ;
    if( errno==ECONNRESET ) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_RECV_FAILED;
  }
}

static TlsConn *tlsConnNew(SsoTls *p, int fd){
  TlsConn *c = ssoMallocZero(sizeof(TlsConn));
  if( c==0 ) return 0;
  mbedtls_ssl_init(&c->ssl);
  if( mbedtls_ssl_setup(&c->ssl, &p->conf) ){
    mbedtls_ssl_free(&c->ssl);
    ssoFree(c);
    return 0;
  }
  c->pTls = p;
  c->fd = fd;
  mbedtls_ssl_set_bio(&c->ssl, c, tlsSend, tlsRecv, 0);
  return c;
}

static void tlsConnFree(void *pCtx){
  TlsConn *c = pCtx;
  if( c==0 ) return;
  mbedtls_ssl_free(&c->ssl);
  ssoFree(c);
}

/* The reasons in verification flags, most telling first. */
static void tlsVerifyReason(const TlsConn *c, uint32_t f, char *z, size_t n){
  static const struct { uint32_t m; const char *zWhy; } aWhy[] = {
    { MBEDTLS_X509_BADCERT_EXPIRED,      "expired" },
    { MBEDTLS_X509_BADCERT_FUTURE,       "not yet valid" },
    { MBEDTLS_X509_BADCERT_NOT_TRUSTED,  "unknown CA" },
    { MBEDTLS_X509_BADCERT_CN_MISMATCH,  "host name mismatch" },
    { MBEDTLS_X509_BADCERT_REVOKED,      "revoked" },
    { MBEDTLS_X509_BADCERT_MISSING,      "no certificate sent" },
    { MBEDTLS_X509_BADCERT_KEY_USAGE,    "key usage not allowed" },
    { MBEDTLS_X509_BADCERT_EXT_KEY_USAGE,"not a server certificate" },
    { MBEDTLS_X509_BADCERT_BAD_MD,       "weak signature hash" },
    { MBEDTLS_X509_BADCERT_BAD_PK,       "unacceptable key type" },
    { MBEDTLS_X509_BADCERT_BAD_KEY,      "key too weak" },
  };
  size_t i, k = 0;
  z[0] = 0;
  for(i=0; i<SSO_ARRAYSIZE(aWhy); i++){
    if( (f & aWhy[i].m)==0 ) continue;
    k += (size_t)snprintf(z+k, n-k, "%s%s", k ? ", " : "", aWhy[i].zWhy);
    if( k>=n ) return;
  }
  if( (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) && c->pTls->nCa==0 && k<n ){
    snprintf(z+k, n-k, " (no trusted CA certificates are loaded: set "
             "SSOPROXY_CA_FILE)");
  }else if( k==0 ){
    snprintf(z, n, "flags 0x%08x", (unsigned)f);
  }
}

/* A fatal mbedTLS result: remember why, and report an error. */
static long tlsFatal(TlsConn *c, int rc){
  uint32_t f = c->pTls->bServer ? 0 : mbedtls_ssl_get_verify_result(&c->ssl);
  c->bFailed = 1;
  if( rc==MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
   || (f!=0 && f!=(uint32_t)-1 && !c->pTls->bInsecure) ){
    c->bVerify = 1;
    tlsVerifyReason(c, f, c->zErr, sizeof(c->zErr));
  }else if( rc==MBEDTLS_ERR_SSL_CONN_EOF || rc==MBEDTLS_ERR_NET_CONN_RESET ){
    snprintf(c->zErr, sizeof(c->zErr), "connection closed by the peer");
  }else{
    tlsErrText(rc, c->zErr, sizeof(c->zErr));
  }
  return SSO_IO_ERROR;
}

static long tlsResult(TlsConn *c, int rc){
  if( rc==MBEDTLS_ERR_SSL_WANT_READ ) return SSO_IO_WANT_READ;
  if( rc==MBEDTLS_ERR_SSL_WANT_WRITE ) return SSO_IO_WANT_WRITE;
  return tlsFatal(c, rc);
}

/* Move the handshake on. 0: done. */
static long tlsStep(TlsConn *c){
  int rc;
  if( c->bDone ) return 0;
  if( c->bFailed ) return SSO_IO_ERROR;
  tlsLock(c->pTls);
  rc = mbedtls_ssl_handshake(&c->ssl);
  tlsUnlock(c->pTls);
  if( rc==0 ){
    c->bDone = 1;
    return 0;
  }
  return tlsResult(c, rc);
}

static long tlsRead(void *pCtx, int fd, void *pBuf, size_t n){
  TlsConn *c = pCtx;
  long r = tlsStep(c);
  SSO_UNUSED(fd);
  if( r ) return r;
  if( n>INT_MAX ) n = INT_MAX;
  for(;;){
    int rc = mbedtls_ssl_read(&c->ssl, pBuf, n);
    if( rc>0 ) return rc;
    if( rc==0 || rc==MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ) return 0;
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
    /* 3.x, TLS 1.3: a ticket arrived; the data may be right behind it. */
    if( rc==MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ) continue;
#endif
#ifdef MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA
    if( rc==MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA ) continue;
#endif
    return tlsResult(c, rc);
  }
}

/*
** After a write that wanted to wait, mbedTLS has already framed (and
** partly sent) a record of that many bytes and must be called again with
** the same length; a longer one would be reported as written in full.
** Callers only ever append to what they offered, so repeating the first
** nWritePending bytes is always possible.
*/
static long tlsWrite(void *pCtx, int fd, const void *pBuf, size_t n){
  TlsConn *c = pCtx;
  long r = tlsStep(c);
  int rc;
  SSO_UNUSED(fd);
  if( r ) return r;
  if( c->nWritePending ){
    if( n<c->nWritePending ) return tlsFatal(c, MBEDTLS_ERR_SSL_BAD_INPUT_DATA);
    n = c->nWritePending;
  }else if( n>TLS_MAX_WRITE ){
    n = TLS_MAX_WRITE;
  }
  rc = mbedtls_ssl_write(&c->ssl, pBuf, n);
  if( rc>=0 ){
    c->nWritePending = 0;
    return rc;
  }
  if( rc==MBEDTLS_ERR_SSL_WANT_READ || rc==MBEDTLS_ERR_SSL_WANT_WRITE ){
    c->nWritePending = n;
  }
  return tlsResult(c, rc);
}

SSO_PRIVATE const SsoIoMethods *ssoTlsIo(void){
  static const SsoIoMethods tlsMethods = { tlsRead, tlsWrite, tlsConnFree };
  return &tlsMethods;
}

SSO_PRIVATE int ssoTlsTransport(void *pArg, int fd, const SsoIoMethods **ppIo,
                                void **ppCtx){
  SsoTls *p = pArg;
  TlsConn *c;
  assert( p->bServer );
  c = tlsConnNew(p, fd);
  if( c==0 ) return SSOPROXY_NOMEM;
  *ppIo = ssoTlsIo();
  *ppCtx = c;
  return SSOPROXY_OK;
}

/*
** Does the certificate name this IP address in an iPAddress
** subjectAltName (RFC 5280 §4.2.1.6)? mbedTLS 2.28 matches only DNS
** names, so the extensions are walked here for every version alike.
*/
static int tlsCertHasIp(const mbedtls_x509_crt *crt, const unsigned char *aIp,
                        int nIp){
  unsigned char *p = crt->v3_ext.p;
  const unsigned char *pEnd;
  size_t n;
  if( p==0 || crt->v3_ext.len==0 ) return 0;
  pEnd = p + crt->v3_ext.len;
  /* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension */
  if( mbedtls_asn1_get_tag(&p, pEnd, &n,
                           MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
    return 0;
  }
  pEnd = p + n;
  while( p<pEnd ){
    /* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
    **                          extnValue OCTET STRING } */
    unsigned char *pExtEnd, *pOid;
    const unsigned char *pSanEnd;
    size_t nOid;
    int bCrit;
    if( mbedtls_asn1_get_tag(&p, pEnd, &n,
                             MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
      return 0;
    }
    pExtEnd = p + n;
    if( mbedtls_asn1_get_tag(&p, pExtEnd, &nOid, MBEDTLS_ASN1_OID) ) return 0;
    pOid = p;
    p += nOid;
    if( p<pExtEnd && *p==MBEDTLS_ASN1_BOOLEAN
     && mbedtls_asn1_get_bool(&p, pExtEnd, &bCrit) ){
      return 0;
    }
    if( mbedtls_asn1_get_tag(&p, pExtEnd, &n, MBEDTLS_ASN1_OCTET_STRING) ){
      return 0;
    }
    if( nOid!=MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME)
     || memcmp(pOid, MBEDTLS_OID_SUBJECT_ALT_NAME, nOid)!=0 ){
      p = pExtEnd;
      continue;
    }
    /* GeneralNames ::= SEQUENCE OF GeneralName; iPAddress is [7] */
    if( mbedtls_asn1_get_tag(&p, p+n, &n,
                             MBEDTLS_ASN1_CONSTRUCTED|MBEDTLS_ASN1_SEQUENCE) ){
      return 0;
    }
    pSanEnd = p + n;
    while( p<pSanEnd ){
      unsigned char tag = *p++;
      if( mbedtls_asn1_get_len(&p, pSanEnd, &n) ) return 0;
      if( tag==(MBEDTLS_ASN1_CONTEXT_SPECIFIC|7) && n==(size_t)nIp
       && memcmp(p, aIp, n)==0 ){
        return 1;
      }
      p += n;
    }
    return 0;
  }
  return 0;
}

/* Verification callback: host names are mbedTLS's job; IP addresses are
** ours (mbedTLS is told no host name for them, and sends no SNI). */
static int tlsVerifyCb(void *pArg, mbedtls_x509_crt *crt, int iDepth,
                       uint32_t *pFlags){
  TlsConn *c = pArg;
  if( iDepth==0 && c->nIp ){
    if( tlsCertHasIp(crt, c->aIp, c->nIp) ){
      *pFlags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }else{
      *pFlags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
  }
  return 0;
}

SSO_PRIVATE int ssoTlsConnect(SsoTls *p, int fd, const char *zHost,
                              const unsigned char *aIp, int nIp,
                              void **ppCtx){
  TlsConn *c;
  int rc;
  assert( !p->bServer );
  *ppCtx = 0;
  c = tlsConnNew(p, fd);
  if( c==0 ) return SSOPROXY_NOMEM;
  if( nIp==4 || nIp==16 ){
    memcpy(c->aIp, aIp, (size_t)nIp);
    c->nIp = nIp;
    /* Explicitly no name: 3.6.3+ refuses a handshake with none set. */
    rc = mbedtls_ssl_set_hostname(&c->ssl, 0);
  }else{
    rc = mbedtls_ssl_set_hostname(&c->ssl, zHost);
  }
  if( rc ){
    tlsConnFree(c);
    return rc==MBEDTLS_ERR_SSL_ALLOC_FAILED ? SSOPROXY_NOMEM : SSOPROXY_PARSE;
  }
  mbedtls_ssl_set_verify(&c->ssl, tlsVerifyCb, c);
  *ppCtx = c;
  return SSOPROXY_OK;
}

SSO_PRIVATE long ssoTlsHandshake(void *pCtx){
  return tlsStep((TlsConn*)pCtx);
}

SSO_PRIVATE const char *ssoTlsError(void *pCtx){
  return ((TlsConn*)pCtx)->zErr;
}

SSO_PRIVATE int ssoTlsVerifyFailed(void *pCtx){
  return ((TlsConn*)pCtx)->bVerify;
}

SSO_PRIVATE size_t ssoTlsPending(void *pCtx){
  TlsConn *c = pCtx;
  size_t n = mbedtls_ssl_get_bytes_avail(&c->ssl);
  if( n==0 && mbedtls_ssl_check_pending(&c->ssl) ) n = 1;
  return n;
}

SSO_PRIVATE const char *ssoTlsVersionOf(void *pCtx){
  TlsConn *c = pCtx;
  return c->bDone ? mbedtls_ssl_get_version(&c->ssl) : "";
}
