/*
** Layer 5: settings. One table (the X-macro below) names every setting,
** its aliases, type, default, limits and help; the enum, the validation,
** `ssoproxy config`, --help and the README's table all come from it.
*/
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H

/* Setting types */
#define SSO_SET_STR    0    /* Any text */
#define SSO_SET_INT    1    /* Decimal integer in [iMin, iMax] */
#define SSO_SET_BOOL   2    /* true/false, 1/0, yes/no, on/off */
#define SSO_SET_ENUM   3    /* One of the '|'-separated words in zEnum */
#define SSO_SET_ADDR   4    /* host:port, [v6]:port; port 0..65535 */

/*
** X(id, name, alias, type, default, int default, min, max, enum, secret, help)
** Integer settings take their default from the int column (a named limit
** of limit.h), the others from the string column. Add new settings at the
** end of their group; never rename one (users' files rely on the names).
*/
#define SSO_SETTINGS(X) \
  X(LISTEN, "SSOPROXY_LISTEN", 0, SSO_SET_ADDR, SSO_SERVER_LISTEN, 0, 0, 0, \
    0, 0, "Address to listen on, host:port ([::1]:4000 for IPv6, " \
    "0.0.0.0:4000 for every interface, port 0 = any free port)") \
  X(DB, "SSOPROXY_DB", 0, SSO_SET_STR, "ssoproxy.db", 0, 0, 0, 0, 0, \
    "SQLite database file, created and migrated at start") \
  X(MASTER_KEY, "LITELLM_MASTER_KEY", "SSOPROXY_MASTER_KEY", SSO_SET_STR, 0, \
    0, 0, 0, 0, 1, "Admin credential, acts as proxy_admin; unset = none") \
  X(WORKERS, "SSOPROXY_WORKERS", 0, SSO_SET_INT, 0, 0, 0, \
    SSO_SERVER_MAX_WORKERS, 0, 0, "Event-loop threads; 0 = one per processor") \
  X(LOG_FORMAT, "SSOPROXY_LOG_FORMAT", 0, SSO_SET_ENUM, "logfmt", 0, 0, 0, \
    "logfmt|json", 0, "Log line format") \
  X(LOG_LEVEL, "SSOPROXY_LOG_LEVEL", 0, SSO_SET_ENUM, "info", 0, 0, 0, \
    "debug|info|warn|error|off", 0, "Lowest level logged") \
  X(ACCESS_LOG, "SSOPROXY_ACCESS_LOG", 0, SSO_SET_BOOL, "true", 0, 0, 0, 0, 0, \
    "One log line per request (never the query, credentials or cookies)") \
  X(MAX_CONNECTIONS, "SSOPROXY_MAX_CONNECTIONS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_MAX_CONN, 1, 1000000, 0, 0, \
    "Open client connections, all workers; more are answered 503 and closed") \
  X(MAX_REQUEST_LINE, "SSOPROXY_MAX_REQUEST_LINE", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_LINE, 256, 1048576, 0, 0, "Request line bytes (414 past it)") \
  X(MAX_HEADER_BYTES, "SSOPROXY_MAX_HEADER_BYTES", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_HEAD, 1024, 1048576, 0, 0, \
    "Bytes of a whole request head (431 past it)") \
  X(MAX_HEADERS, "SSOPROXY_MAX_HEADERS", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_HEADERS, 8, 1000, 0, 0, \
    "Header fields per request (431 past it)") \
  X(MAX_BODY_BYTES, "SSOPROXY_MAX_BODY_BYTES", 0, SSO_SET_INT, 0, \
    SSO_HTTP_MAX_BODY, 0, 1073741824, 0, 0, "Request body bytes (413 past it)") \
  X(HEADER_TIMEOUT_MS, "SSOPROXY_HEADER_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_HEADER_MS, 100, 3600000, 0, 0, \
    "Time for a request head to arrive (408 past it)") \
  X(BODY_TIMEOUT_MS, "SSOPROXY_BODY_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_BODY_MS, 100, 3600000, 0, 0, \
    "Longest pause inside a request body (408 past it)") \
  X(KEEPALIVE_TIMEOUT_MS, "SSOPROXY_KEEPALIVE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_KEEPALIVE_MS, 0, 3600000, 0, 0, \
    "Idle time before a kept-alive connection is closed") \
  X(WRITE_TIMEOUT_MS, "SSOPROXY_WRITE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_WRITE_MS, 100, 3600000, 0, 0, \
    "How long a client may leave our output unread") \
  X(SHUTDOWN_TIMEOUT_MS, "SSOPROXY_SHUTDOWN_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_SERVER_SHUTDOWN_MS, 0, 3600000, 0, 0, \
    "On SIGTERM/SIGINT: time in-flight requests get to finish") \
  X(WRITE_BUFFER_BYTES, "SSOPROXY_WRITE_BUFFER_BYTES", 0, SSO_SET_INT, 0, \
    SSO_SERVER_WRITE_HIGH, 4096, 67108864, 0, 0, \
    "Output queued per connection before a stream is paused") \
  X(TLS_CERT, "SSOPROXY_TLS_CERT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "PEM certificate chain, leaf first: serve HTTPS (with SSOPROXY_TLS_KEY)") \
  X(TLS_KEY, "SSOPROXY_TLS_KEY", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "PEM private key (unencrypted) of SSOPROXY_TLS_CERT") \
  X(CA_FILE, "SSOPROXY_CA_FILE", "SSL_CERT_FILE", SSO_SET_STR, 0, 0, 0, 0, \
    0, 0, "CA certificates (PEM file or directory) trusted for the IdP and " \
    "upstreams; unset = the system bundle") \
  X(TLS_INSECURE, "SSOPROXY_TLS_INSECURE", 0, SSO_SET_BOOL, "false", 0, 0, \
    0, 0, 0, "Skip certificate verification of the IdP and upstreams " \
    "(tests only; warned about at every start)") \
  X(CONNECT_TIMEOUT_MS, "SSOPROXY_CONNECT_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_CONNECT_MS, 100, 3600000, 0, 0, \
    "Outbound: time to resolve, connect and finish TLS (504 past it)") \
  X(FIRST_BYTE_TIMEOUT_MS, "SSOPROXY_FIRST_BYTE_TIMEOUT_MS", 0, SSO_SET_INT, \
    0, SSO_CLIENT_FIRST_BYTE_MS, 100, 86400000, 0, 0, \
    "Outbound: request sent to the first byte of the answer (504 past it)") \
  X(IDLE_TIMEOUT_MS, "SSOPROXY_IDLE_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_IDLE_MS, 100, 86400000, 0, 0, \
    "Outbound: longest silence inside an answer (504 past it)") \
  X(MAX_RESPONSE_BYTES, "SSOPROXY_MAX_RESPONSE_BYTES", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_MAX_RESPONSE, 1024, 1073741824, 0, 0, \
    "Outbound: body bytes of one answer from the IdP or an upstream") \
  X(UPSTREAM_URL, "SSOPROXY_UPSTREAM_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "OpenAI-compatible base URL (ending in /v1) serving every model not in " \
    "SSOPROXY_MODELS_FILE") \
  X(UPSTREAM_KEY, "SSOPROXY_UPSTREAM_KEY", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "API key sent to SSOPROXY_UPSTREAM_URL as Authorization: Bearer") \
  X(MODELS_FILE, "SSOPROXY_MODELS_FILE", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Models file: one 'model_name api_base [option=value ...]' per line; " \
    "re-read on SIGHUP") \
  X(FORWARD_IDENTITY, "SSOPROXY_FORWARD_IDENTITY", 0, SSO_SET_BOOL, "false", \
    0, 0, 0, 0, 0, "Send X-Ssoproxy-User, -Email and -Role to upstreams") \
  X(OIDC_CLIENT_ID, "GENERIC_CLIENT_ID", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "OIDC client id at the IdP; set = single sign-on on") \
  X(OIDC_CLIENT_SECRET, "GENERIC_CLIENT_SECRET", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "OIDC client secret (required with GENERIC_CLIENT_ID)") \
  X(OIDC_ISSUER, "GENERIC_ISSUER", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP issuer URL: endpoints and keys from its discovery document, " \
    "whose issuer must equal this exactly") \
  X(OIDC_AUTHORIZATION_ENDPOINT, "GENERIC_AUTHORIZATION_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP authorization endpoint (overrides discovery)") \
  X(OIDC_TOKEN_ENDPOINT, "GENERIC_TOKEN_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP token endpoint (overrides discovery)") \
  X(OIDC_USERINFO_ENDPOINT, "GENERIC_USERINFO_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP userinfo endpoint (overrides discovery); unset = id_token " \
    "claims only") \
  X(OIDC_JWKS_ENDPOINT, "GENERIC_JWKS_ENDPOINT", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "IdP JWK set URL for id_token signatures (overrides discovery)") \
  X(OIDC_SCOPE, "GENERIC_SCOPE", 0, SSO_SET_STR, "openid email profile", 0, 0, 0, 0, 0, \
    "Scopes asked for, space-separated (openid is required)") \
  X(OIDC_USER_ID_ATTRIBUTE, "GENERIC_USER_ID_ATTRIBUTE", 0, SSO_SET_STR, "preferred_username", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the user id") \
  X(OIDC_USER_EMAIL_ATTRIBUTE, "GENERIC_USER_EMAIL_ATTRIBUTE", 0, SSO_SET_STR, "email", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the e-mail address") \
  X(OIDC_USER_DISPLAY_NAME_ATTRIBUTE, "GENERIC_USER_DISPLAY_NAME_ATTRIBUTE", 0, SSO_SET_STR, "sub", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the display name (LiteLLM's default)") \
  X(OIDC_USER_FIRST_NAME_ATTRIBUTE, "GENERIC_USER_FIRST_NAME_ATTRIBUTE", 0, SSO_SET_STR, "first_name", 0, 0, 0, 0, 0, \
    "Claim giving the first name (user id fallback)") \
  X(OIDC_USER_LAST_NAME_ATTRIBUTE, "GENERIC_USER_LAST_NAME_ATTRIBUTE", 0, SSO_SET_STR, "last_name", 0, 0, 0, 0, 0, \
    "Claim giving the last name (user id fallback)") \
  X(OIDC_USER_ROLE_ATTRIBUTE, "GENERIC_USER_ROLE_ATTRIBUTE", 0, SSO_SET_STR, "role", 0, 0, 0, 0, 0, \
    "Claim (dot-path) giving the role; a list counts by its first " \
    "element") \
  X(OIDC_INCLUDE_CLIENT_ID, "GENERIC_INCLUDE_CLIENT_ID", 0, SSO_SET_BOOL, \
    "false", 0, 0, 0, 0, 0, "Also send client_id in the token request body") \
  X(OIDC_CLIENT_AUTH, "SSOPROXY_CLIENT_AUTH_METHOD", 0, SSO_SET_ENUM, \
    "client_secret_basic", 0, 0, 0, "client_secret_basic|client_secret_post", \
    0, "How the client authenticates at the token endpoint") \
  X(OIDC_SSO_HEADERS, "GENERIC_SSO_HEADERS", 0, SSO_SET_STR, 0, 0, 0, 0, 0, \
    1, "Extra headers for the token and userinfo calls: Name=Value,...") \
  X(OIDC_ROLE_MAPPINGS, "GENERIC_ROLE_MAPPINGS_ROLES", 0, SSO_SET_STR, 0, 0, \
    0, 0, 0, 0, "Group to role map, JSON: {\"proxy_admin\":[\"group\"],...}") \
  X(OIDC_GROUP_CLAIM, "GENERIC_ROLE_MAPPINGS_GROUP_CLAIM", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Claim (dot-path) holding the user's groups") \
  X(OIDC_DEFAULT_ROLE, "GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Role of new users (and, with role mappings, of users " \
    "in no mapped group); unset = internal_user_viewer") \
  X(LOGOUT_URL, "PROXY_LOGOUT_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Where the browser goes after logout; unset = the IdP's end_session") \
  X(ALLOWED_EMAIL_DOMAINS, "ALLOWED_EMAIL_DOMAINS", 0, SSO_SET_STR, 0, 0, 0, \
    0, 0, 0, "SSO users must have an e-mail in one of these domains (comma " \
    "list); unset = any") \
  X(ADMIN_ID, "PROXY_ADMIN_ID", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "This SSO user id is always proxy_admin") \
  X(ROLE_SYNC, "SSOPROXY_ROLE_SYNC", 0, SSO_SET_ENUM, "always", 0, 0, 0, \
    "always|first_login", 0, "Whether an existing user's role follows the " \
    "IdP at every login or only the first") \
  X(LOGIN_STATE_TTL, "SSOPROXY_LOGIN_STATE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OIDC_STATE_TTL_S, 1, SSO_OIDC_STATE_TTL_MAX_S, 0, 0, \
    "Seconds a login may take at the IdP (state, nonce, PKCE verifier)") \
  X(IDP_TIMEOUT_MS, "SSOPROXY_IDP_TIMEOUT_MS", 0, SSO_SET_INT, 0, \
    SSO_OIDC_CALL_MS, 100, 600000, 0, 0, \
    "Outbound to the IdP: longest wait for an answer or inside one " \
    "(a 504 page past it)") \
  /* API keys for other programs (src/oauth.c) */ \
  X(OAUTH_ALLOWED_ORIGINS, "OAUTH_ALLOWED_ORIGINS", 0, SSO_SET_STR, 0, 0, 0, \
    0, 0, 0, "Comma list of web origins that may read the key endpoints' " \
    "answers (CORS, never with cookies); * = any; unset = none") \
  X(OAUTH_REDIRECT_SCHEMES, "OAUTH_ALLOWED_REDIRECT_SCHEMES", 0, SSO_SET_STR, \
    0, 0, 0, 0, 0, 0, "Comma list of extra custom URI schemes keys and codes " \
    "may be sent to, besides the IDE schemes (vscode, cursor, ...)") \
  X(OAUTH_REDIRECT_URIS, "SSOPROXY_ALLOWED_REDIRECT_URIS", 0, SSO_SET_STR, 0, \
    0, 0, 0, 0, 0, "Comma list of exact https (or custom-scheme) redirect " \
    "URIs allowed; http is allowed only to 127.0.0.1/[::1], any port") \
  X(OAUTH_KEY_TTL, "SSOPROXY_OAUTH_KEY_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_KEY_TTL_S, 60, 3153600000LL, 0, 0, \
    "Lifetime in seconds of keys from /sso/key/generate, /auth, /oauth/* " \
    "and the device flow (expires_in)") \
  X(OAUTH_CODE_TTL, "SSOPROXY_OAUTH_CODE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_CODE_TTL_S, 1, 600, 0, 0, \
    "Seconds an authorization code may wait for its exchange") \
  X(OAUTH_STATE_TTL, "SSOPROXY_OAUTH_STATE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_STATE_TTL_S, 1, 3600, 0, 0, \
    "Seconds a consent page stays valid") \
  X(OAUTH_CODE_ONLY, "SSOPROXY_OAUTH_ALLOW_CODE_ONLY", 0, SSO_SET_BOOL, \
    "true", 0, 0, 0, 0, 0, "POST /api/v1/auth/keys may exchange a code " \
    "without PKCE when /auth had no code_challenge (Roo Code, Cline)") \
  X(OAUTH_KEY_SHORTCUT, "SSOPROXY_OAUTH_KEY_SHORTCUT", 0, SSO_SET_BOOL, \
    "true", 0, 0, 0, 0, 0, "/sso/key/generate with a user's Bearer key " \
    "mints a key (same models, no longer life) without signing in") \
  X(DEVICE_CODE_TTL, "SSOPROXY_DEVICE_CODE_TTL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_DEVICE_TTL_S, 1, 86400, 0, 0, \
    "Seconds a device code waits for approval") \
  X(DEVICE_INTERVAL, "SSOPROXY_DEVICE_INTERVAL", 0, SSO_SET_INT, 0, \
    SSO_OAUTH_INTERVAL_S, 1, 60, 0, 0, \
    "Seconds device clients wait between polls (faster: slow_down)") \
  X(BASE_URL, "PROXY_BASE_URL", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 0, \
    "Public URL of ssoproxy (https://llm.example.com); https makes the " \
    "session cookie Secure with the __Host- prefix") \
  X(AUTO_REDIRECT_SSO, "AUTO_REDIRECT_UI_LOGIN_TO_SSO", 0, SSO_SET_BOOL, \
    "false", 0, 0, 0, 0, 0, \
    "Sign-in pages go straight to the IdP when single sign-on is set up") \
  X(UI_USERNAME, "UI_USERNAME", 0, SSO_SET_STR, "admin", 0, 0, 0, 0, 0, \
    "User id of the local admin who signs in with a password at /login") \
  X(UI_PASSWORD, "UI_PASSWORD", 0, SSO_SET_STR, 0, 0, 0, 0, 0, 1, \
    "Password of UI_USERNAME; the master key is accepted too; unset and " \
    "no master key = no password sign-in") \
  X(SESSION_IDLE_TIMEOUT, "SSOPROXY_SESSION_IDLE_TIMEOUT", 0, SSO_SET_INT, \
    0, SSO_SESSION_IDLE_S, 1, SSO_SESSION_MAX_S, 0, 0, \
    "Seconds without a request after which a browser session ends") \
  X(SESSION_MAX_AGE, "SSOPROXY_SESSION_MAX_AGE", 0, SSO_SET_INT, 0, \
    SSO_SESSION_MAX_AGE_S, 1, SSO_SESSION_MAX_S, 0, 0, \
    "Seconds after sign-in at which a browser session ends in any case") \
  X(LOGIN_MAX_FAILURES, "SSOPROXY_LOGIN_MAX_FAILURES", 0, SSO_SET_INT, 0, \
    SSO_UI_LOGIN_FAILURES, 1, 1000000, 0, 0, \
    "Wrong passwords per client address per minute at /login, then 429") \
  X(UPSTREAM_KEEPALIVE, "SSOPROXY_UPSTREAM_KEEPALIVE", 0, SSO_SET_INT, 0, \
    SSO_CLIENT_POOL_PER_ORIGIN, 0, 100000, 0, 0, \
    "Outbound: idle kept-alive connections per origin and worker (0: close " \
    "after each answer)")

#define SSO_SETTING_ENUM(id, ...) SSO_CFG_##id,
enum { SSO_SETTINGS(SSO_SETTING_ENUM) SSO_CFG_COUNT };

/* Where a value came from. */
#define SSO_SRC_DEFAULT 0
#define SSO_SRC_FILE    1
#define SSO_SRC_ENV     2
#define SSO_SRC_API     3   /* ssoproxy_config_set() */
#define SSO_SRC_FLAG    4   /* a command-line option */

SSO_PRIVATE int ssoConfigSet(ssoproxy_config*, const char *zName,
                             const char *zValue, int eSrc, const char *zWhere);
/* The value of setting iSet (its default if unset); NULL when unset with
** no default. Valid until the setting changes or the config is freed. */
SSO_PRIVATE const char *ssoConfigStr(const ssoproxy_config*, int iSet);
SSO_PRIVATE long long ssoConfigInt(const ssoproxy_config*, int iSet);
SSO_PRIVATE int ssoConfigBool(const ssoproxy_config*, int iSet);
SSO_PRIVATE int ssoConfigCopy(const ssoproxy_config*, ssoproxy_config **pp);
/* The effective configuration, secrets masked, one "NAME=value  # source"
** line per setting, into b. */
SSO_PRIVATE void ssoConfigDump(const ssoproxy_config*, SsoBuf *b);
/* Help lines for every setting, for --help. */
SSO_PRIVATE void ssoConfigHelp(SsoBuf *b);

#endif /* SSO_CONFIG_H */
