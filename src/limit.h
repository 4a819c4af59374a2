/*
** Every limit ssoproxy enforces, as a named default in one place.
**
** Each is the default of a setting (see src/config.c) or a hard ceiling
** that no setting may exceed. Values are chosen so that a legitimate
** client never meets them and a hostile one runs out of them before it
** can cost the server more than a few megabytes or a few seconds.
*/
#ifndef SSO_LIMIT_H
#define SSO_LIMIT_H

/* Memory */
#define SSO_MAX_ALLOC        ((size_t)1 << 30)  /* Largest single allocation */
#define SSO_MAX_BUF          (64u << 20)        /* Default ceiling of a builder */

/* JSON (src/json.c) */
#define SSO_JSON_MAX_DEPTH   64         /* Nesting of arrays and objects */
#define SSO_JSON_MAX_INPUT   (16u << 20)/* Bytes in one document */
#define SSO_JSON_MAX_NODES   (1u << 20) /* Values in one document (32 B each) */

/* URLs and forms (src/url.c) */
#define SSO_URL_MAX          8192       /* Bytes in one URL */
#define SSO_FORM_MAX_PARAMS  256        /* Fields in a query or form body */

/* base64 (src/b64.c) */
#define SSO_B64_MAX_INPUT    (16u << 20)/* Characters in one text to decode */

/* JOSE: id_tokens and JWK sets (src/jose.c) */
#define SSO_JOSE_MAX_TOKEN   16384      /* Bytes in one compact JWS */
#define SSO_JOSE_MAX_JWKS    (256u<<10) /* Bytes in one JWKS document */
#define SSO_JOSE_MAX_KEYS    64         /* Entries in a JWKS "keys" array */
#define SSO_JOSE_MAX_KID     256        /* Bytes in a key id */
#define SSO_JOSE_MIN_RSA_BITS 2048      /* Smallest RSA modulus kept */
#define SSO_JOSE_MAX_RSA_BITS 8192      /* Largest RSA modulus kept */
#define SSO_JOSE_MAX_RSA_E   8          /* Bytes in an RSA public exponent */
#define SSO_JOSE_MAX_SUB     255        /* Bytes in "sub" (OIDC Core §2) */

/* OpenID Connect relying party (src/oidc.c) */
#define SSO_OIDC_STATE_TTL_S     300        /* Life of a login state, seconds */
#define SSO_OIDC_STATE_TTL_MAX_S 3600       /* Longest SSOPROXY_LOGIN_STATE_TTL */
#define SSO_OIDC_CALL_MS         15000      /* Wait for the IdP's answer (its
                                            ** first byte, or any silence) */
#define SSO_OIDC_META_MS         3600000    /* Discovery and JWKS re-read after */
#define SSO_OIDC_JWKS_FORCE_MS   10000      /* Forced JWKS re-fetch at most this
                                            ** often (an unknown "kid") */
#define SSO_OIDC_SKEW_MS         120000     /* Clock skew allowed on exp, iat */
#define SSO_OIDC_IAT_AGE_MS      600000     /* Oldest id_token "iat" accepted */
#define SSO_OIDC_MAX_DOC         (256u<<10) /* Bytes of a discovery, token or
                                            ** userinfo answer */
#define SSO_OIDC_MAX_HEADERS     16         /* GENERIC_SSO_HEADERS pairs */
#define SSO_OIDC_MAX_GROUPS      1024       /* Groups read from the claim */
#define SSO_OIDC_MAX_MAPPED      256        /* Group names in role mappings */
#define SSO_OIDC_ARENA           (2u<<20)   /* Memory of one login in flight */

/* Configuration (src/config.c) */
#define SSO_CONFIG_MAX_FILE  (1u << 20) /* Bytes in a --config file */
#define SSO_CONFIG_MAX_VALUE 8192       /* Bytes in one setting's value */

/* HTTP transport (src/http.c, src/server.c): defaults of server settings */
#define SSO_HTTP_MAX_LINE        8192       /* Request line bytes: 414 past it */
#define SSO_HTTP_MAX_HEAD        16384      /* Whole request head bytes: 431 */
#define SSO_HTTP_MAX_HEADERS     64         /* Header fields per request: 431 */
#define SSO_HTTP_MAX_BODY        (32u << 20)/* Request body bytes: 413 past it */
#define SSO_HTTP_MAX_CHUNK_LINE  4096       /* One chunk-size line or trailer line */
#define SSO_HTTP_MAX_CHUNK_OVER  65536      /* Chunk framing bytes beyond the data */
#define SSO_SERVER_LISTEN        "127.0.0.1:4000" /* Default listen address */
#define SSO_SERVER_MAX_WORKERS   64         /* Ceiling on worker threads */
#define SSO_SERVER_MAX_CONN      1024       /* Open client connections, all workers */
#define SSO_SERVER_HEADER_MS     10000      /* First byte to complete head: 408 */
#define SSO_SERVER_BODY_MS       30000      /* Longest pause while a body arrives */
#define SSO_SERVER_KEEPALIVE_MS  15000      /* Idle keep-alive connection lifetime */
#define SSO_SERVER_WRITE_MS      60000      /* Longest stall of a reader of ours */
#define SSO_SERVER_SHUTDOWN_MS   10000      /* Graceful stop: in-flight deadline */
#define SSO_SERVER_LINGER_MS     2000       /* Drain input after a closing answer */
#define SSO_SERVER_WRITE_HIGH    (256u << 10)/* Queued output that pauses a producer */
#define SSO_SERVER_READ_INIT     8192       /* First size of a connection's input */

/* TLS (src/tls.c) */
#define SSO_TLS_MAX_PEM      (1u << 20) /* Bytes in a certificate or key file */

/* Outbound HTTP client (src/client.c): defaults of client settings */
#define SSO_CLIENT_CONNECT_MS    10000      /* Resolve, connect and TLS handshake */
#define SSO_CLIENT_FIRST_BYTE_MS 600000     /* Request sent to first response byte */
#define SSO_CLIENT_IDLE_MS       120000     /* Longest silence inside a response */
#define SSO_CLIENT_MAX_RESPONSE  (64u<<20)  /* Response body bytes */
#define SSO_CLIENT_MAX_HEAD      65536      /* Response head bytes */
#define SSO_CLIENT_MAX_HEADERS   128        /* Response header fields */
#define SSO_CLIENT_POOL_PER_ORIGIN 64       /* Idle kept-alive connections per origin:
                                            ** at least the concurrency a worker
                                            ** sees, or connections churn */
#define SSO_CLIENT_POOL_IDLE_MS  4000       /* Idle pooled connection lifetime: below
                                            ** the 5 s of common servers (uvicorn) */
#define SSO_CLIENT_RESOLVERS     4          /* Resolver threads per client */
#define SSO_CLIENT_MAX_ADDRS     8          /* Addresses tried per host name */
#define SSO_CLIENT_READ_CHUNK    16384      /* Bytes read per call once in a body */
#define SSO_CLIENT_COALESCE_BODY 16384      /* Request bodies up to this size are
                                            ** sent in one write with the head */

/* Storage (src/store.c) */
#define SSO_DB_BUSY_TIMEOUT_MS 5000     /* Wait for a lock this long */
#define SSO_DB_MAX_PAGE      1000       /* Rows in one page of a list */

/* Management API (src/api.c) */
#define SSO_API_MAX_TEXT     256        /* Bytes of an id, alias, e-mail, name */
#define SSO_API_MAX_JSON     65536      /* Bytes of a key's metadata or models */
#define SSO_API_MAX_ITEMS    1000       /* Entries in keys, user_ids, models */
#define SSO_API_MAX_PAGE     100        /* Rows in one page of a list endpoint */
#define SSO_API_TOUCH_SLOTS  1024       /* Keys whose last use a worker batches */
#define SSO_API_TOUCH_MS     1000       /* Interval of the last-used writes */
#define SSO_API_TOUCH_GRAIN  60000      /* Precision of a key's last use, ms */
#define SSO_API_MAX_DURATION (100LL*366*86400*1000) /* Longest key lifetime, ms */

/* The /v1 proxy (src/proxy.c) */
#define SSO_PROXY_MAX_FILE   (1u << 20) /* Bytes in the models file */
#define SSO_PROXY_MAX_LINE   4096       /* Bytes in one line of it */
#define SSO_PROXY_MAX_MODELS 10000      /* Models in it */
#define SSO_PROXY_MAX_TIMEOUT_MS 86400000 /* Largest per-model timeout */
#define SSO_PROXY_BUFFER_MAX (1u << 20) /* Answers up to this go out whole,
                                        ** larger ones are streamed */
#define SSO_PROXY_MAX_STREAM (SIZE_MAX/2) /* A streamed answer is not held:
                                        ** no cap but the connection's life */
#define SSO_PROXY_TAIL       8192       /* Tail of a streamed JSON answer
                                        ** kept to read its usage */
#define SSO_PROXY_SSE_LINE   65536      /* Longest SSE line read for usage */
#define SSO_PROXY_LIMIT_SLOTS 4096      /* Keys with rpm/tpm windows at once */
#define SSO_PROXY_LIMIT_WINDOW_MS 60000 /* The rpm/tpm window */
#define SSO_PROXY_USAGE_SLOTS 1024      /* Keys whose usage a worker batches */
#define SSO_PROXY_USAGE_MS   1000       /* Interval of the usage writes */
#define SSO_PROXY_MODEL_CREATED 1677610602 /* "created" of listed models
                                        ** (LiteLLM's constant) */

/* Forward authentication (src/fauth.c) */
#define SSO_FAUTH_MAX_GROUPS 4096       /* Bytes of X-Auth-Request-Groups */

/* Browser sessions (src/session.c) and the web sign-in (src/ui.c) */
#define SSO_SESSION_IDLE_S     28800      /* Idle lifetime default, s (8 h) */
#define SSO_SESSION_MAX_AGE_S  86400      /* Absolute lifetime default, s (24 h) */
#define SSO_SESSION_MAX_S      (366LL*86400) /* Ceiling of both settings, s */
#define SSO_SESSION_TOUCH_MS   60000      /* Note a session's use at most this often */
#define SSO_SESSION_MAX_PAIRS  128        /* Cookie name=value pairs read per request */
#define SSO_UI_LOGIN_FAILURES  10         /* Failed password sign-ins per client ... */
#define SSO_UI_LOGIN_WINDOW_MS 60000      /* ... per this window, then 429 */
#define SSO_UI_LOGIN_SLOTS     1024       /* Client addresses the limiter remembers */
#define SSO_UI_LOGIN_CSRF_S    3600       /* Lifetime of the sign-in form's cookie, s */
#define SSO_UI_MAX_FIELD       1024       /* Bytes of a sign-in form field */

/* API keys for other programs (src/oauth.c) */
#define SSO_OAUTH_MAX_REDIRECT   2048       /* Bytes of a redirect_uri / callback_url */
#define SSO_OAUTH_MAX_ORIGIN     512        /* Bytes of an Origin header compared */
#define SSO_OAUTH_MAX_CLIENT_ID  64         /* Bytes of a public client's client_id */
#define SSO_OAUTH_MAX_STATE      512        /* Bytes of a client's state parameter */
#define SSO_OAUTH_MAX_CODE       256        /* Bytes of a code presented for exchange */
#define SSO_OAUTH_KEY_TTL_S      86400      /* Default key lifetime: the seed PR's 24 h */
#define SSO_OAUTH_CODE_TTL_S     60         /* Authorization codes (RFC 9700: short) */
#define SSO_OAUTH_STATE_TTL_S    300        /* A consent page waiting for an answer */
#define SSO_OAUTH_DEVICE_TTL_S   600        /* Device codes (RFC 8628 §3.2 example) */
#define SSO_OAUTH_INTERVAL_S     5          /* Device polling interval (RFC 8628 §3.2) */
#define SSO_OAUTH_GRANT_KEEP_MS  600000     /* Expired grants kept to detect code reuse */
#define SSO_OAUTH_DEVICE_TRIES   10         /* Wrong user codes per session per window */
#define SSO_OAUTH_DEVICE_TRIES_ALL 100      /* Wrong user codes in all per window */
#define SSO_OAUTH_DEVICE_TRY_MS  300000     /* The window of those counts */
#define SSO_OAUTH_CLI_CLIENT     "ssoproxy-cli" /* client_id of `ssoproxy login` */

#endif /* SSO_LIMIT_H */
