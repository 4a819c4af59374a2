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

/* Configuration (src/config.c) */
#define SSO_CONFIG_MAX_FILE  (1u << 20) /* Bytes in a --config file */
#define SSO_CONFIG_MAX_VALUE 8192       /* Bytes in one setting's value */

/* Storage (src/store.c) */
#define SSO_DB_BUSY_TIMEOUT_MS 5000     /* Wait for a lock this long */
#define SSO_DB_MAX_PAGE      1000       /* Rows in one page of a list */

#endif /* SSO_LIMIT_H */
