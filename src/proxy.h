/*
** Layer 4: the /v1 proxy. Requests to the OpenAI-compatible routes are
** authenticated (src/authz.c), routed by the "model" of their JSON body
** to an upstream, checked against the key's allowed models and its rpm
** and tpm limits, and forwarded on the worker's outbound client with the
** caller's credentials replaced by the upstream's. Answers stream back
** as they arrive; usage (requests, prompt and completion tokens) is
** counted per key in each worker and written in batches.
**
** Upstreams come from SSOPROXY_UPSTREAM_URL (one upstream for every
** model) and/or SSOPROXY_MODELS_FILE, a line-based file:
**
**   # comment
**   model_name  api_base  [model=NAME] [api_key=os.environ/VAR]
**               [timeout_ms=N] [first_byte_timeout_ms=N] [idle_timeout_ms=N]
**
** The file is parsed into an immutable table. SIGHUP (ssoProxyReload)
** builds a new table on a helper thread and swaps it in; requests in
** flight keep the table they started with (reference counts), so a
** reload never drops a connection, and a bad file leaves the old table.
*/
#ifndef SSO_PROXY_H
#define SSO_PROXY_H

typedef struct SsoProxy SsoProxy;
typedef struct SsoProxyTable SsoProxyTable;
typedef struct SsoProxyModel SsoProxyModel;

/* One routable model (or the default upstream, whose zName is NULL). */
struct SsoProxyModel {
  const char *zName;        /* What clients ask for */
  size_t nName;
  const char *zUpName;      /* What the upstream is told; NULL: zName */
  size_t nUpName;
  const char *zBase;        /* api_base without a trailing '/' */
  const char *zAuth;        /* "Bearer KEY" or NULL: no Authorization */
  int msConnect, msFirstByte, msIdle;   /* 0: the client's defaults */
  int iLine;                /* Line of the models file; 0: not from it */
  int bPlainRemote;         /* http:// to a host that is not loopback */
};

/* The routing table: immutable once built, shared by reference count. */
struct SsoProxyTable {
  SsoArena arena;           /* Every string and array below */
  SsoProxyModel *aModel;    /* File order */
  int nModel;
  const SsoProxyModel **apSorted;  /* By name, for lookups */
  SsoProxyModel *pDefault;  /* SSOPROXY_UPSTREAM_URL, or NULL */
  int nRef;                 /* Atomic; see proxy.c */
};

/*
** Build a table from the models file text z[0..n) (zFile names it in
** messages; z may be NULL when there is no file) and the default
** upstream zUrl/zKey (both may be NULL). API keys named in the file are
** read from the environment now. Returns SSOPROXY_OK and *pp (reference
** count 1; ssoProxyTableRelease), SSOPROXY_CONFIG with "FILE:LINE:
** message" (or a message about the default upstream) in zErr, or
** SSOPROXY_NOMEM.
*/
SSO_PRIVATE int ssoProxyTableParse(const char *zFile, const char *z,
                                   size_t n, const char *zUrl,
                                   const char *zKey, SsoProxyTable **pp,
                                   char *zErr, size_t nErr);
SSO_PRIVATE void ssoProxyTableRelease(SsoProxyTable*);   /* NULL: no-op */
/* The model named z[0..n), or NULL. */
SSO_PRIVATE const SsoProxyModel *ssoProxyTableFind(const SsoProxyTable*,
                                                   const char *z, size_t n);

/* ---- Pieces with their own unit tests and fuzz targets ---- */

/*
** The top-level "model" member of a JSON object body: SSOPROXY_OK with
** *pRaw the bytes between its quotes (escapes as written) and *pbEsc set
** when they hold a backslash; _NOTFOUND when there is none (or the body
** is not an object); _PARSE when the body is not JSON enough to tell, or
** names "model" twice (two readers could pick different ones).
*/
SSO_PRIVATE int ssoProxyBodyModel(const char *z, size_t n, SsoStr *pRaw,
                                  int *pbEsc);

/*
** Request fields that may go upstream. Dropped: the client's credentials
** (Authorization, x-api-key, api-key, x-litellm-api-key, Cookie,
** Proxy-Authorization), hop-by-hop fields (Connection and every field it
** names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*),
** framing and routing (Host, Content-Length, Expect), Accept-Encoding
** (usage is read from the answer), X-Request-Id (ours is sent) and
** identity fields a client could forge (X-Forwarded-User,
** X-Forwarded-Email, X-Forwarded-Groups, X-Forwarded-Preferred-Username,
** X-Auth-Request-*, Remote-User, X-Remote-User, X-Ssoproxy-*). Copies the
** views of the kept ones to aOut (room for nIn) and returns how many.
*/
SSO_PRIVATE int ssoProxyRequestHeaders(const SsoHttpHeader *aIn, int nIn,
                                       SsoHttpHeader *aOut);
/* 1 if the upstream's response field may go to the client. */
SSO_PRIVATE int ssoProxyResponseHeaderOk(const SsoHttpHeader *aHdr, int nHdr,
                                         int i);

/*
** Token usage in a JSON text: the last "usage" object in z[0..n) with
** prompt_tokens/completion_tokens (chat, completions, embeddings) or
** input_tokens/output_tokens (responses). 1 and the counts, or 0.
*/
SSO_PRIVATE int ssoProxyUsageFind(const char *z, size_t n,
                                  long long *pnPrompt, long long *pnCompl);

/*
** The SSE usage scanner: fed the stream piece by piece, it looks at each
** "data:" line (usage is in the final chunk) without keeping the stream:
** lines whole inside a piece are read in place, only a line split across
** pieces is carried over, up to SSO_PROXY_SSE_LINE bytes.
*/
typedef struct SsoProxySse SsoProxySse;
struct SsoProxySse {
  SsoBuf line;              /* The partial line carried over */
  int bSkip;                /* The current line is not of interest */
  int bUsage;               /* Counts seen */
  long long nPrompt, nCompl;
};
SSO_PRIVATE void ssoProxySseInit(SsoProxySse*);
SSO_PRIVATE void ssoProxySseFeed(SsoProxySse*, const char *z, size_t n);
SSO_PRIVATE void ssoProxySseFree(SsoProxySse*);

/*
** The rpm/tpm limiter, one per process, shared by every worker: a small
** open-addressing table of per-key one-minute windows under a mutex
** (only keys with a limit ever take it).
*/
typedef struct SsoProxyLimiter SsoProxyLimiter;
SSO_PRIVATE int ssoProxyLimiterNew(SsoProxyLimiter **pp);
SSO_PRIVATE void ssoProxyLimiterFree(SsoProxyLimiter*);
/*
** May key zHash make a request at tNow (Unix ms)? 0 and the request is
** counted; or 1 (rpm reached) or 2 (tpm reached) with *pnRetry the
** seconds until the window ends. A limit of 0 is no limit.
*/
SSO_PRIVATE int ssoProxyLimitTake(SsoProxyLimiter*, const char *zHash,
                                  long long nRpm, long long nTpm,
                                  long long tNow, int *pnRetry);
/* Add n tokens to zHash's current window (usage became known). */
SSO_PRIVATE void ssoProxyLimitTokens(SsoProxyLimiter*, const char *zHash,
                                     long long n, long long tNow);

/* ---- The proxy ---- */

typedef struct SsoProxyConfig SsoProxyConfig;
struct SsoProxyConfig {
  const char *zUpstreamUrl; /* SSOPROXY_UPSTREAM_URL or NULL */
  const char *zUpstreamKey; /* SSOPROXY_UPSTREAM_KEY or NULL */
  const char *zModelsFile;  /* SSOPROXY_MODELS_FILE or NULL */
  int bForwardIdentity;     /* SSOPROXY_FORWARD_IDENTITY */
  SsoApi *pApi;             /* Authentication, workers' clients; outlives */
  SsoLog *pLog;
};

/*
** Check the settings, read the models file, and (with a file) start the
** reload thread. SSOPROXY_CONFIG with one line in zErr for each kind of
** bad setting; *pp is NULL on failure.
*/
SSO_PRIVATE int ssoProxyNew(const SsoProxyConfig*, SsoProxy **pp,
                            char *zErr, size_t nErr);
SSO_PRIVATE int ssoProxyRegister(SsoServer*, SsoProxy*);
/* Re-read the models file soon. Async-signal-safe: one write(). */
SSO_PRIVATE void ssoProxyReload(SsoProxy*);
/* A worker is stopping (on its thread, before its store closes): write
** its pending usage and free its state. */
SSO_PRIVATE void ssoProxyWorkerEnd(SsoProxy*, int iWorker);
SSO_PRIVATE void ssoProxyFree(SsoProxy*);                /* NULL: no-op */

#endif /* SSO_PROXY_H */
