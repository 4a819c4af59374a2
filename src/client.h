/*
** Layer 2: the outbound HTTP/1.1 client, for the IdP and the upstreams.
** It runs on the caller's event loop, like the server's connections:
** name resolution happens on a few helper threads whose answers come
** back through a pipe the loop watches, so nothing here ever blocks the
** loop; https goes through tls.c with verification required.
**
**   SsoClientConfig cfg;
**   ssoClientConfigInit(&cfg);          defaults from limit.h
**   cfg.pTls = pTlsClient;              shared, read-only
**   ssoClientNew(pLoop, &cfg, &pCli);   one per loop (worker)
**   SsoClientReq r = {0};
**   r.zUrl = "https://idp.example/.well-known/openid-configuration";
**   r.xDone = onDone; r.pArg = pMine;
**   ssoClientRequest(pCli, &r, &pCall); answer comes in onDone
**   ssoClientCancel(pCall);             changed our mind: no callback
**
** Every callback runs on the loop's thread. A client and its calls are
** not thread-safe: one client per loop, used only from that loop.
*/
#ifndef SSO_CLIENT_H
#define SSO_CLIENT_H

typedef struct SsoClient SsoClient;
typedef struct SsoClientCall SsoClientCall;
typedef struct SsoClientConfig SsoClientConfig;
typedef struct SsoClientReq SsoClientReq;
typedef struct SsoClientResp SsoClientResp;

/* Client settings; every default is a named limit (ssoClientConfigInit). */
struct SsoClientConfig {
  SsoTls *pTls;         /* Client TLS configuration; NULL: https refused */
  int msConnect;        /* Resolve + TCP connect + TLS handshake */
  int msFirstByte;      /* Request sent to the first response byte */
  int msIdle;           /* Longest silence while sending or receiving */
  size_t mxResponse;    /* Response body bytes */
  size_t mxHead;        /* Response head bytes */
  int mxHeader;         /* Response header fields */
  int nPoolPerOrigin;   /* Idle connections kept per origin; 0: no reuse */
  int msPoolIdle;       /* How long an idle connection is kept */
  int nResolver;        /* Resolver threads at most */
};
SSO_PRIVATE void ssoClientConfigInit(SsoClientConfig*);

/*
** Create a client on pLoop (which must outlive it). Nothing is opened
** until the first request. Returns SSOPROXY_OK, _NOMEM or _MISUSE (a
** value out of range).
*/
SSO_PRIVATE int ssoClientNew(SsoLoop *pLoop, const SsoClientConfig*,
                             SsoClient **pp);
/*
** Free the client: calls still in flight are cancelled without callbacks,
** pooled connections closed. Resolver threads that are inside
** getaddrinfo() finish on their own and free what is theirs. Not from
** inside one of this client's callbacks. NULL is a no-op.
*/
SSO_PRIVATE void ssoClientFree(SsoClient*);

/*
** The outcome of a call, passed to xHead (rc is SSOPROXY_OK and only the
** head is known) and to xDone. Views are valid during the callback.
*/
struct SsoClientResp {
  int rc;               /* SSOPROXY_OK; _NET (connect, TLS, timeout, lost
                        ** connection), _PARSE (invalid response), _TOOBIG
                        ** (a response limit), _NOMEM */
  int iStatus;          /* Final HTTP status; 0 if no head arrived */
  int iProxyStatus;     /* What a gateway should answer: iStatus on
                        ** success, 504 after a timeout, 502 otherwise */
  const char *zErr;     /* "" on success; else one sentence naming the
                        ** remote as host:port and what went wrong */
  const SsoHttpHeader *aHdr;  /* Response header fields */
  int nHdr;
  const char *pBody;    /* xDone without xData: the whole body */
  size_t nBody;
  const char *zUrl;     /* The URL that gave this response */
  int nRedirect;        /* Redirects followed to get here */
};

typedef void (*SsoClientHeadFn)(SsoClientCall*, const SsoClientResp*,
                                void *pArg);
typedef void (*SsoClientDataFn)(SsoClientCall*, const char *p, size_t n,
                                void *pArg);
typedef void (*SsoClientDoneFn)(SsoClientCall*, const SsoClientResp*,
                                void *pArg);

/*
** A request. Everything is copied by ssoClientRequest() except pBody,
** which must stay valid until the call ends (xDone returns, or the call
** is cancelled).
*/
struct SsoClientReq {
  const char *zMethod;  /* NULL: "GET" */
  const char *zUrl;     /* Absolute http:// or https:// URL, no userinfo */
  const SsoHttpHeader *aHdr;  /* Extra fields. Host, Content-Length,
                        ** Transfer-Encoding, Connection, Keep-Alive, TE,
                        ** Trailer, Upgrade are the client's own */
  int nHdr;
  const void *pBody;    /* Request body, sent with Content-Length */
  size_t nBody;
  int msConnect, msFirstByte, msIdle;   /* 0: the client's defaults */
  size_t mxResponse;    /* 0: the client's default */
  int nMaxRedirect;     /* 0: a 3xx is the answer. N: follow up to N
                        ** (301/302/303/307/308 with Location; https never
                        ** to http; credentials dropped across origins) */
  SsoClientHeadFn xHead;  /* Optional: the final head has arrived */
  SsoClientDataFn xData;  /* Optional: body pieces as they arrive (else
                          ** the body is collected for xDone) */
  SsoClientDoneFn xDone;  /* Required: the call ended; the call handle is
                          ** invalid once it returns */
  void *pArg;
};

/*
** Start a request. It runs from the next loop iteration on; nothing is
** called back before ssoClientRequest() returns. *ppCall (may be NULL)
** is the handle for cancelling and pausing. Returns SSOPROXY_OK; _PARSE
** (bad URL, method or header); _TOOBIG (URL over SSO_URL_MAX); _MISUSE
** (https without a TLS config, a reserved header, no xDone); _NOMEM. On
** error no callback comes.
*/
SSO_PRIVATE int ssoClientRequest(SsoClient*, const SsoClientReq*,
                                 SsoClientCall **ppCall);
/*
** End a call now, from anywhere on the loop's thread (its own xHead or
** xData included): no more callbacks; its connection is closed at once,
** so the remote sees the client go away. A no-op inside its xDone.
*/
SSO_PRIVATE void ssoClientCancel(SsoClientCall*);
/*
** Back-pressure for streamed bodies: while paused, no xData comes and
** nothing more is read from the remote (whose own sending then stalls
** in TCP); the idle timeout does not run. Resume with bPause 0.
*/
SSO_PRIVATE void ssoClientPause(SsoClientCall*, int bPause);

/* Idle pooled connections right now (for tests and metrics). */
SSO_PRIVATE int ssoClientIdleCount(const SsoClient*);

/*
** The response parser the client runs on each connection: a pure state
** machine over the bytes as they arrive, split anywhere (the fuzz target
** feeds it directly). Interim 1xx responses are skipped; HEAD, 204 and
** 304 have no body; Content-Length, chunked and close-delimited bodies
** are decoded (RFC 9112 §6.3).
*/
typedef struct SsoClientParser SsoClientParser;
struct SsoClientParser {
  int eState;               /* Where in the message (client.c) */
  int bHeadReq;             /* Answers a HEAD: no body */
  int bKeep;                /* The connection may carry another request */
  int nInterim;             /* 1xx responses skipped */
  size_t nScan;             /* Head bytes already scanned */
  unsigned long long nLeft; /* Content-Length bytes still to come */
  unsigned long long nBody; /* Body bytes decoded so far */
  unsigned long long mxBody;/* Body bytes allowed */
  SsoHttpLimits lim;        /* Status line and head limits */
  SsoHttpHead head;         /* The final head: views into the caller's
                            ** buffer, valid until it drops those bytes */
  SsoHttpChunked chunk;
  const char *zErr;         /* Why it failed (static text) */
  int rcErr;                /* SSO_CP_E* once failed */
};

/* Results of ssoClientParserFeed(); errors are negative. */
#define SSO_CP_MORE   0     /* All usable input consumed: more, please */
#define SSO_CP_HEAD   1     /* The final head is at a[*piData..+*pnData) */
#define SSO_CP_DATA   2     /* Body bytes at a[*piData..+*pnData) */
#define SSO_CP_END    3     /* The message is complete */
#define SSO_CP_EPROTO (-1)  /* Not a valid response (zErr says how) */
#define SSO_CP_ETOOBIG (-2) /* Over mxBody */

/* aHdr/mxHdr: the caller's field array for head views. */
SSO_PRIVATE void ssoClientParserInit(SsoClientParser*, SsoHttpHeader *aHdr,
                                     int mxHdr, size_t mxHead,
                                     unsigned long long mxBody,
                                     int bHeadReq);
/*
** Consume a[0..n): the unconsumed input the caller holds, starting with
** what earlier calls left. *pnUsed bytes from the front are done with
** (the caller drops them after using any head or data they hold); call
** again with the rest until SSO_CP_MORE. Chunked bodies are decoded in
** place, so a is written to. Never reads beyond n.
*/
SSO_PRIVATE int ssoClientParserFeed(SsoClientParser*, char *a, size_t n,
                                    size_t *pnUsed, size_t *piData,
                                    size_t *pnData);
/* The connection ended: SSO_CP_END if that completes the message (a
** close-delimited body), else SSO_CP_EPROTO. */
SSO_PRIVATE int ssoClientParserEof(SsoClientParser*);

#endif /* SSO_CLIENT_H */
