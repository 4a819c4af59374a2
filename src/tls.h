/*
** Layer 2: TLS on the event loop's transport methods (mbedTLS glue).
** The only transport module that includes mbedTLS; it settles the 2.28 /
** 3.x differences so that the server and the client see nothing but an
** SsoIoMethods table and the SSO_IO_* results.
**
** An SsoTls is a configuration, built once at start-up and then only
** read, so every worker thread shares it: a server one (certificate
** chain and private key) or a client one (the certificates we trust, or
** the explicit insecure switch). Each connection gets its own context,
** the pCtx of the transport methods.
*/
#ifndef SSO_TLS_H
#define SSO_TLS_H

typedef struct SsoTls SsoTls;

/*
** A server configuration from a PEM certificate chain (leaf first) and
** a PEM private key (unencrypted). TLS 1.2 and up; 1.3 where the mbedTLS
** build has it. Returns SSOPROXY_OK, SSOPROXY_CONFIG with one clear
** sentence in zErr[nErr] (unreadable file, not a certificate, not a key,
** key and certificate do not match), or SSOPROXY_NOMEM. *pp is set only
** on success; the caller frees it with ssoTlsFree().
*/
SSO_PRIVATE int ssoTlsServerNew(const char *zCertFile, const char *zKeyFile,
                                SsoTls **pp, char *zErr, size_t nErr);

/*
** A client configuration. zCaFile: a PEM file, or a directory of them,
** holding the certificates to trust; NULL to find the system bundle
** (Debian/Ubuntu, Alpine, Fedora/RHEL, openSUSE, BSD, macOS Homebrew, in
** that order, then the directory /etc/ssl/certs). bInsecure: verify
** nothing (the caller logs that loudly); no CA is loaded then.
**
** Returns SSOPROXY_OK; SSOPROXY_CONFIG with zErr set when zCaFile cannot
** be read or holds no certificate at all, or when a system bundle that
** exists cannot be loaded; SSOPROXY_NOMEM. Finding no system bundle at
** all is not an error: https requests then fail with "no trusted CA
** certificates" and ssoTlsCaCount() is 0, which the caller reports.
*/
SSO_PRIVATE int ssoTlsClientNew(const char *zCaFile, int bInsecure,
                                SsoTls **pp, char *zErr, size_t nErr);
SSO_PRIVATE void ssoTlsFree(SsoTls*);

/* Client configurations: where the trusted certificates came from (a
** path, "" if none), how many loaded, and how many were skipped because
** mbedTLS could not parse them (a bundle may hold a few newer ones). */
SSO_PRIVATE const char *ssoTlsCaSource(const SsoTls*);
SSO_PRIVATE int ssoTlsCaCount(const SsoTls*);
SSO_PRIVATE int ssoTlsCaSkipped(const SsoTls*);
SSO_PRIVATE int ssoTlsInsecure(const SsoTls*);

/*
** The server's transport hook (SsoServerConfig.xTransport), pArg being a
** server SsoTls. The handshake runs inside the first reads, so it obeys
** the server's header timeout; a peer that sends anything but a TLS
** ClientHello gets SSO_IO_ERROR and is closed.
*/
SSO_PRIVATE int ssoTlsTransport(void *pArg, int fd, const SsoIoMethods **ppIo,
                                void **ppCtx);

/*
** A client connection over the connected, non-blocking fd (not owned:
** the caller closes it after freeing the context). zHost is the name to
** verify the certificate against and to send as SNI (RFC 6066 §3); when
** nIp is 4 or 16, aIp is an IP literal the certificate must name in an
** iPAddress subjectAltName (RFC 6125 §6.2.1), and no SNI is sent.
** Returns SSOPROXY_OK with *ppCtx (free with ssoTlsIo()->xFree) or
** SSOPROXY_NOMEM.
*/
SSO_PRIVATE int ssoTlsConnect(SsoTls*, int fd, const char *zHost,
                              const unsigned char *aIp, int nIp,
                              void **ppCtx);
/* The transport methods of ssoTlsConnect()/ssoTlsTransport() contexts. */
SSO_PRIVATE const SsoIoMethods *ssoTlsIo(void);

/*
** Move a client handshake on: 0 when complete, SSO_IO_WANT_READ or
** SSO_IO_WANT_WRITE to wait for the socket, SSO_IO_ERROR on failure
** (then ssoTlsError says why).
*/
SSO_PRIVATE long ssoTlsHandshake(void *pCtx);

/*
** Why a context failed, in words: for a certificate that did not verify
** (ssoTlsVerifyFailed() is then 1) the reasons, such as "expired",
** "unknown CA", "host name mismatch", "not yet valid"; otherwise
** mbedTLS's description. "" when nothing failed. Valid until the context
** is freed.
*/
SSO_PRIVATE const char *ssoTlsError(void *pCtx);
/* 1 when the last failure was a certificate that did not verify. */
SSO_PRIVATE int ssoTlsVerifyFailed(void *pCtx);

/*
** Decrypted bytes buffered inside the context. The socket can be quiet
** while these wait, so a reader that stopped before taking them all must
** read again without waiting for the loop.
*/
SSO_PRIVATE size_t ssoTlsPending(void *pCtx);
/* "TLSv1.2", "TLSv1.3" once the handshake is done; else "". */
SSO_PRIVATE const char *ssoTlsVersionOf(void *pCtx);

#endif /* SSO_TLS_H */
