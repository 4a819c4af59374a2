/*
** Layer 1: JSON (RFC 8259). A strict parser that builds a read-only tree in
** one arena per document, getters over that tree, and a small writer on
** top of SsoBuf. See the head of src/json.c for the rules it enforces.
*/
#ifndef SSO_JSON_H
#define SSO_JSON_H

/* Value types; ssoJsonType(NULL) is SSO_JSON_NONE (a missing value). */
#define SSO_JSON_NONE    0
#define SSO_JSON_NULL    1
#define SSO_JSON_FALSE   2
#define SSO_JSON_TRUE    3
#define SSO_JSON_NUMBER  4
#define SSO_JSON_STRING  5
#define SSO_JSON_ARRAY   6
#define SSO_JSON_OBJECT  7

/* Parse flags */
#define SSO_JSON_NODUP   0x01   /* Reject an object with a repeated key */

typedef struct SsoJson SsoJson;         /* One value; layout in json.c */
typedef struct SsoJsonDoc SsoJsonDoc;   /* A parsed document and its arena */

/*
** Why a parse failed: a result code (SSOPROXY_PARSE, _TOOBIG, _NOMEM), the
** byte offset in the input where the problem was found, and a short
** English message such as "control character in string". Owned by the
** caller (usually on its stack); zMsg is always NUL-terminated.
*/
typedef struct SsoJsonErr SsoJsonErr;
struct SsoJsonErr {
  int rc;               /* SSOPROXY_OK or the failure code */
  size_t iOfs;          /* Byte offset of the problem in the input */
  char zMsg[96];        /* "" on success */
};

/*
** Parse z[0..n) as one JSON text. On success *ppDoc is a new document the
** caller frees with ssoJsonFree(); it does not refer to z, which the
** caller may free at once. On failure *ppDoc is NULL and, if pErr is not
** NULL, *pErr says why. Returns SSOPROXY_OK, _PARSE, _TOOBIG (input over
** SSO_JSON_MAX_INPUT, nesting over SSO_JSON_MAX_DEPTH, more than
** SSO_JSON_MAX_NODES values) or _NOMEM.
*/
SSO_PRIVATE int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr);
SSO_PRIVATE void ssoJsonFree(SsoJsonDoc*);                /* NULL is a no-op */
SSO_PRIVATE const SsoJson *ssoJsonRoot(const SsoJsonDoc*);

/*
** Getters. Every pointer they return lives as long as the document. All
** accept NULL for the value (a missing value), so lookups chain:
** ssoJsonCStr(ssoJsonGet(ssoJsonGet(pRoot, "a"), "b")).
*/
SSO_PRIVATE int ssoJsonType(const SsoJson*);
SSO_PRIVATE const char *ssoJsonTypeName(int eType);      /* "string" ... */
/* Byte offset of the value in the input (of its key, for an object member).*/
SSO_PRIVATE size_t ssoJsonOffset(const SsoJson*);

/* Elements of an array or members of an object, in document order.
** ssoJsonCount() is 0 for any other value; ssoJsonAt() NULL past the end. */
SSO_PRIVATE size_t ssoJsonCount(const SsoJson*);
SSO_PRIVATE const SsoJson *ssoJsonAt(const SsoJson*, size_t i);

/*
** The name of an object member (a value got from ssoJsonAt() on an
** object), NUL-terminated, NULL for any other value. Names and strings may
** hold U+0000 (escaped as \u0000): with pn the length is stored there and
** the bytes are returned as they are; with pn==NULL the caller means to
** use the result as a C string, so a name holding a NUL gives NULL.
*/
SSO_PRIVATE const char *ssoJsonKey(const SsoJson*, size_t *pn);

/*
** Object member by exact (case-sensitive, byte-wise) name; NULL if the
** value is not an object or has no such member. If the document repeats a
** name (parsed without SSO_JSON_NODUP), the last one wins, as in
** ECMAScript's JSON.parse.
*/
SSO_PRIVATE const SsoJson *ssoJsonGet(const SsoJson*, const char *zKey);
SSO_PRIVATE const SsoJson *ssoJsonGetN(const SsoJson*, const char *zKey,
                                       size_t nKey);
/*
** Follow a dot-separated path such as "realm_access.roles" (LiteLLM's
** role-claim syntax). A segment of decimal digits indexes an array. At
** each step a member named by the whole rest of the path is preferred, so
** a namespaced claim like "https://example.com/roles" is still found.
** An empty path returns the value itself.
*/
SSO_PRIVATE const SsoJson *ssoJsonGetPath(const SsoJson*, const char *zPath);

/* A string's decoded UTF-8 bytes, NUL-terminated; NULL if not a string.
** See ssoJsonKey() for what pn==NULL means. */
SSO_PRIVATE const char *ssoJsonStr(const SsoJson*, size_t *pn);
/* The string as a C string, or NULL if not a string or it holds U+0000. */
SSO_PRIVATE const char *ssoJsonCStr(const SsoJson*);
/* A number's text exactly as in the input, NUL-terminated; NULL if not a
** number. */
SSO_PRIVATE const char *ssoJsonNumText(const SsoJson*, size_t *pn);

/*
** Typed getters return SSOPROXY_OK and store the value, SSOPROXY_NOTFOUND
** for a missing value (NULL) or SSOPROXY_PARSE for the wrong type; on
** failure the output is left as it was.
** ssoJsonInt64() accepts only an integer literal (no fraction, no
** exponent: SSOPROXY_PARSE) in the int64 range (else SSOPROXY_TOOBIG).
** ssoJsonDouble() converts any number, independently of the C locale,
** correctly rounded; SSOPROXY_TOOBIG if it overflows a double.
*/
SSO_PRIVATE int ssoJsonBool(const SsoJson*, int *pb);
SSO_PRIVATE int ssoJsonInt64(const SsoJson*, long long *pi);
SSO_PRIVATE int ssoJsonDouble(const SsoJson*, double *pr);

/* 1 if z[0..n) is valid UTF-8 (RFC 3629: no overlong forms, no
** surrogates, nothing above U+10FFFF). */
SSO_PRIVATE int ssoJsonUtf8Valid(const char *z, size_t n);

/*
** The writer: compact JSON appended to a caller-owned SsoBuf, with commas
** and nesting handled here. Errors are sticky, like SsoBuf's: write the
** whole value, then check ssoJsonWriteFinish() once.
**
**   SsoBuf b; SsoJsonWriter w;
**   ssoBufInit(&b, 0); ssoJsonWriteInit(&w, &b);
**   ssoJsonWriteBeginObject(&w);
**   ssoJsonWriteKey(&w, "error");
**   ssoJsonWriteBeginObject(&w);
**   ssoJsonWriteKeyString(&w, "message", zMsg);
**   ssoJsonWriteKeyString(&w, "code", "401");
**   ssoJsonWriteEndObject(&w);
**   ssoJsonWriteEndObject(&w);
**   rc = ssoJsonWriteFinish(&w);   then use b.z/b.n, and ssoBufFree(&b)
**
** Error codes: SSOPROXY_MISUSE for a call out of order (a value where a
** key is due, an unbalanced end, a second top-level value, nesting past
** SSO_JSON_MAX_DEPTH); SSOPROXY_PARSE for a value with no JSON form (a
** string that is not valid UTF-8, NaN or an infinity); the buffer's own
** SSOPROXY_NOMEM or _TOOBIG. The writer appends to what the buffer already
** holds, so one buffer can take several values, each with its own writer.
*/
typedef struct SsoJsonWriter SsoJsonWriter;
struct SsoJsonWriter {
  SsoBuf *pBuf;         /* Output; owned by the caller */
  int rc;               /* First writer error; sticky */
  int nDepth;           /* Containers open */
  int bDone;            /* The top-level value has been started */
  unsigned char aLevel[SSO_JSON_MAX_DEPTH];  /* JSONW_* bits per level */
};
SSO_PRIVATE void ssoJsonWriteInit(SsoJsonWriter*, SsoBuf*);
SSO_PRIVATE void ssoJsonWriteBeginObject(SsoJsonWriter*);
SSO_PRIVATE void ssoJsonWriteEndObject(SsoJsonWriter*);
SSO_PRIVATE void ssoJsonWriteBeginArray(SsoJsonWriter*);
SSO_PRIVATE void ssoJsonWriteEndArray(SsoJsonWriter*);
SSO_PRIVATE void ssoJsonWriteKey(SsoJsonWriter*, const char *zKey);
SSO_PRIVATE void ssoJsonWriteKeyN(SsoJsonWriter*, const char *zKey, size_t n);
/* A C string; NULL writes null. */
SSO_PRIVATE void ssoJsonWriteString(SsoJsonWriter*, const char *z);
SSO_PRIVATE void ssoJsonWriteStringN(SsoJsonWriter*, const char *z, size_t n);
SSO_PRIVATE void ssoJsonWriteInt64(SsoJsonWriter*, long long i);
/* Shortest text that reads back as the same double; "." whatever the
** locale. */
SSO_PRIVATE void ssoJsonWriteDouble(SsoJsonWriter*, double r);
SSO_PRIVATE void ssoJsonWriteBool(SsoJsonWriter*, int b);
SSO_PRIVATE void ssoJsonWriteNull(SsoJsonWriter*);
/* One complete, valid JSON value serialised by the caller; not checked. */
SSO_PRIVATE void ssoJsonWriteRaw(SsoJsonWriter*, const char *z, size_t n);
/* A parsed value (and everything under it), compact. */
SSO_PRIVATE void ssoJsonWriteValue(SsoJsonWriter*, const SsoJson*);
/* Key and value in one call, for the common flat members. */
SSO_PRIVATE void ssoJsonWriteKeyString(SsoJsonWriter*, const char *zKey,
                                       const char *z);
SSO_PRIVATE void ssoJsonWriteKeyInt64(SsoJsonWriter*, const char *zKey,
                                      long long i);
SSO_PRIVATE void ssoJsonWriteKeyBool(SsoJsonWriter*, const char *zKey, int b);
/* SSOPROXY_OK if exactly one complete value was written without error. */
SSO_PRIVATE int ssoJsonWriteFinish(SsoJsonWriter*);

/* Append pVal to pBuf as compact JSON; returns as ssoJsonWriteFinish(). */
SSO_PRIVATE int ssoJsonToBuf(const SsoJson *pVal, SsoBuf *pBuf);

#endif /* SSO_JSON_H */
