/*
** Benchmarks for the layer-1 codecs: JSON parse and write, base64url,
** and the SHA-256 of an API key that every authenticated request costs.
** Compiled against the amalgamation, like the unit tests, so the internal
** functions are reachable and what ships is what is measured.
** bench/run.sh builds and runs it; see bench/RESULTS.md for figures.
**
** Machines are shared and noisy, so no absolute time means much on its
** own: every workload has a reference measured in the same run (SQLite's
** JSON functions, mbedTLS's base64 and SHA-256, a memchr() scan that
** touches every byte once) and the figure that counts is the ratio
** ours/reference, lower is better. The sides of a workload are timed
** interleaved, A B C then C B A, for many rounds; each round times a
** batch of calls long enough for the clock to be precise yet short
** enough (about 4 ms) that most batches run without the scheduler
** preempting them on a loaded machine, and the median of the per-round
** ns/op is reported, with the quartiles of the per-round ratios.
**
**   codec [-r ROUNDS] [-t MS] [FILTER]   markdown table on stdout
**   codec --list                         one line per workload: ID, sides,
**                                        bytes, title, reference names
**                                        (tab-separated)
**   codec --info                         library versions
**   codec --once ID SIDE                 run one side a fixed number of
**                                        times (for callgrind); prints it
**   codec --once-all [FILTER]            the same for every side
**   codec --dump DIR                     write the generated JSON inputs
**
** All inputs are generated here from a fixed seed, so every run and
** every machine measures the same bytes.
*/
#include "../ssoproxy.c"
#include <mbedtls/base64.h>

#if defined(__GNUC__)
# define BENCH_NOINLINE __attribute__((noinline))
#else
# define BENCH_NOINLINE
#endif

#define BENCH_ROUNDS   25     /* Rounds per workload (odd: a true median) */
#define BENCH_MS       4      /* Target length of one timed batch */
#define BENCH_ONCE_BYTES 1000000  /* Input bytes per --once run */
#define BENCH_MAX_SIDE 3      /* Ours plus up to two references */
#define BENCH_MAX_ROUNDS 99

typedef struct Ctx Ctx;
typedef struct Work Work;
typedef int (*OpFn)(Ctx*);

/* One contender of a workload: aSide[0] is always ours. */
typedef struct Side Side;
struct Side {
  const char *zName;      /* "ours", "sqlite json_valid", ... */
  OpFn x;                 /* One operation; 0 on success */
};

/* One workload: an input and the sides that process it. */
struct Work {
  const char *zId;        /* Short name for filters and --once */
  const char *zTitle;     /* Row label in the table */
  const char *z;          /* Input for ours (and most references) */
  size_t n;               /* Bytes at z */
  const char *z2;         /* Input for the reference, when it differs */
  size_t n2;              /* Bytes at z2 */
  unsigned mFlags;        /* ssoJsonParse() flags */
  size_t nByte;           /* Bytes per operation, for MB/s */
  int nSide;              /* Entries used in aSide[] */
  Side aSide[BENCH_MAX_SIDE];
};

/* Everything the operations need; set up once, before any timing. */
struct Ctx {
  const Work *pW;               /* Workload being run */
  sqlite3 *db;                  /* In-memory database for the references */
  sqlite3_stmt *pValid;         /* SELECT json_valid(?1) */
  sqlite3_stmt *pMinify;        /* SELECT json(?1) */
  sqlite3_stmt *pEcho;          /* SELECT ?1: SQLite's fixed cost */
  SsoJsonDoc *pTreeDoc;         /* Parsed /key/list, for the write bench */
  unsigned long long iSink;     /* Results folded in so none is dead code */
  long long nFail;              /* Operations that returned an error */
  unsigned long long iRand;     /* Generator state */
  SsoBuf aDoc[4];               /* The generated JSON documents */
  unsigned char aBin32[32];     /* Random bytes for base64 */
  unsigned char aBin4k[4096];
  char zUrl32[64], zStd32[64];  /* Their encodings, both alphabets */
  char zUrl4k[5600], zStd4k[5600];
  char zKey[64];                /* An API key: sk- and 43 characters */
  unsigned char aOut[8192];     /* Decoder and hash output */
  char zOut[8192];              /* Encoder output */
};

/* ------------------------------------------------------------------ */
/* Inputs                                                             */

/* xorshift64*: deterministic, so every run sees the same bytes. */
static unsigned long long rnd(Ctx *p){
  p->iRand ^= p->iRand >> 12;
  p->iRand ^= p->iRand << 25;
  p->iRand ^= p->iRand >> 27;
  return p->iRand * 2685821657736338717ULL;
}
static unsigned rndBelow(Ctx *p, unsigned n){ return (unsigned)(rnd(p) % n); }

/*
** Prose of about nTarget bytes, the way chat messages look: sentences,
** paragraphs ("\n\n"), now and then a quoted word, non-ASCII text (a few
** per cent of words) and a fenced code block with newlines, indentation
** and quotes, which are what JSON strings must escape.
*/
static void genText(Ctx *p, SsoBuf *pB, size_t nTarget){
  static const char *const azWord[] = {
    "the", "model", "request", "token", "user", "please", "explain", "why",
    "function", "returns", "value", "error", "when", "input", "is", "empty",
    "and", "a", "of", "to", "in", "that", "it", "for", "with", "as", "this",
    "on", "be", "are", "we", "can", "should", "data", "file", "line", "code",
    "test", "result", "server", "client", "response", "json", "string",
    "number", "array", "object", "parser", "memory", "buffer", "latency",
    "throughput", "cache", "database", "query", "index", "schema", "deploy",
    "café", "naïve", "résumé", "Zürich", "日本語", "—", "façade", "🙂",
  };
  static const char *const azCode[] = {
    "```python\ndef parse(doc):\n    \"\"\"Return the claims.\"\"\"\n"
    "    if not doc:\n        raise ValueError(\"empty\")\n"
    "    return json.loads(doc)[\"claims\"]\n```",
    "```c\nstatic int f(const char *z){\n\tif( z==0 ) return -1;\n"
    "\treturn (int)strlen(z);\n}\n```",
    "```\n$ curl -s -H \"Authorization: Bearer sk-...\" "
    "https://llm.example.com/v1/models | jq '.data[].id'\n```",
  };
  size_t n0 = pB->n;
  int nSentence = 0;
  while( pB->n - n0 < nTarget ){
    int nWord = 6 + (int)rndBelow(p, 14), i;
    for(i=0; i<nWord; i++){
      const char *zW = azWord[rndBelow(p, (unsigned)SSO_ARRAYSIZE(azWord))];
      if( i>0 ) ssoBufAppendChar(pB, ' ');
      if( i==0 && zW[0]>='a' && zW[0]<='z' ){
        ssoBufAppendChar(pB, (char)(zW[0] - 'a' + 'A'));
        ssoBufAppendStr(pB, zW+1);
      }else if( rndBelow(p, 40)==0 ){
        ssoBufPrintf(pB, "\"%s\"", zW);
      }else{
        ssoBufAppendStr(pB, zW);
      }
    }
    ssoBufAppendStr(pB, rndBelow(p, 6)==0 ? "? " : ". ");
    if( ++nSentence % 5==0 ){
      ssoBufAppendStr(pB, "\n\n");
      if( rndBelow(p, 3)==0 ){
        ssoBufAppendStr(pB, azCode[rndBelow(p, (unsigned)SSO_ARRAYSIZE(azCode))]);
        ssoBufAppendStr(pB, "\n\n");
      }
    }
  }
}

/* A chat message {"role":..., "content":...}, content of ~nText bytes. */
static void genMessage(Ctx *p, SsoJsonWriter *w, const char *zRole,
                       size_t nText){
  SsoBuf t;
  ssoBufInit(&t, 0);
  genText(p, &t, nText);
  ssoJsonWriteBeginObject(w);
  ssoJsonWriteKeyString(w, "role", zRole);
  ssoJsonWriteKey(w, "content");
  ssoJsonWriteStringN(w, t.z, t.n);
  ssoJsonWriteEndObject(w);
  ssoBufFree(&t);
}

/*
** An OpenAI chat-completions request as the official SDKs send it
** (compact, UTF-8 unescaped): a system prompt and nTurn messages
** alternating user/assistant, the whole body about nTarget bytes.
*/
static int genChat(Ctx *p, SsoBuf *pB, size_t nTarget, int nTurn){
  SsoJsonWriter w;
  size_t nEach = nTarget / (size_t)(nTurn + 1);
  int i;
  ssoJsonWriteInit(&w, pB);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "model", "gpt-4o-2024-08-06");
  ssoJsonWriteKey(&w, "messages");
  ssoJsonWriteBeginArray(&w);
  genMessage(p, &w, "system", nEach/3);
  for(i=0; i<nTurn; i++){
    genMessage(p, &w, i%2 ? "assistant" : "user",
               i==nTurn-1 ? nEach + nEach*2/3 : nEach);
  }
  ssoJsonWriteEndArray(&w);
  ssoJsonWriteKey(&w, "temperature"); ssoJsonWriteDouble(&w, 0.2);
  ssoJsonWriteKeyInt64(&w, "max_tokens", 1024);
  ssoJsonWriteKeyBool(&w, "stream", 1);
  ssoJsonWriteKey(&w, "stream_options");
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyBool(&w, "include_usage", 1);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteKeyString(&w, "user", "zoe.muller@example.com");
  ssoJsonWriteEndObject(&w);
  return ssoJsonWriteFinish(&w);
}

/*
** An OIDC ID token's claims (Keycloak-shaped, ~600 B), as the jose layer
** will parse them: with SSO_JSON_NODUP.
*/
static int genClaims(SsoBuf *pB){
  ssoBufAppendStr(pB,
    "{\"exp\":1767229200,\"iat\":1767225600,\"auth_time\":1767225590,"
    "\"jti\":\"5c3b8a1e-7f2d-4e91-9a6b-2d1f0c8e4a77\","
    "\"iss\":\"https://idp.example.com/realms/corp\",\"aud\":\"ssoproxy\","
    "\"sub\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\",\"typ\":\"ID\","
    "\"azp\":\"ssoproxy\",\"nonce\":\"n-0S6_WzA2Mj4fQ9xLp7vK\","
    "\"session_state\":\"b1d3f7e2-0c4a-4b8e-8f6d-1a2b3c4d5e6f\","
    "\"at_hash\":\"77QmUPtjPfzWtF2AnpK9RQ\",\"acr\":\"1\","
    "\"sid\":\"b1d3f7e2-0c4a-4b8e-8f6d-1a2b3c4d5e6f\","
    "\"email_verified\":true,\"name\":\"Zoë Müller\","
    "\"preferred_username\":\"zmuller\",\"given_name\":\"Zoë\","
    "\"family_name\":\"Müller\",\"email\":\"zoe.muller@example.com\","
    "\"realm_access\":{\"roles\":[\"offline_access\",\"llm-user\","
    "\"uma_authorization\",\"default-roles-corp\"]},"
    "\"groups\":[\"/engineering\",\"/engineering/ml\"]}");
  return pB->rc;
}

/* Lower-case hex of nByte random bytes, into a writer as a string. */
static void genHexString(Ctx *p, SsoJsonWriter *w, size_t nByte){
  unsigned char a[32];
  char z[65];
  size_t i;
  assert( nByte<=sizeof(a) );
  for(i=0; i<nByte; i++) a[i] = (unsigned char)rnd(p);
  ssoHexEncode(a, nByte, z);
  ssoJsonWriteString(w, z);
}

/*
** A LiteLLM GET /key/list?return_full_object=true response: nKey key
** objects (~400 B each, the fields LiteLLM returns, trimmed of the
** always-empty ones) and the paging members.
*/
static int genKeyList(Ctx *p, SsoBuf *pB, int nKey){
  static const char *const azModel[] = {
    "gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "o3-mini", "llama-3.1-70b",
  };
  SsoJsonWriter w;
  int i, k;
  ssoJsonWriteInit(&w, pB);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "keys");
  ssoJsonWriteBeginArray(&w);
  for(i=0; i<nKey; i++){
    char z[96];
    int nModel = 1 + (int)rndBelow(p, 3);
    ssoJsonWriteBeginObject(&w);
    ssoJsonWriteKey(&w, "token"); genHexString(p, &w, 32);
    snprintf(z, sizeof(z), "sk-...%04x", (unsigned)rndBelow(p, 65536));
    ssoJsonWriteKeyString(&w, "key_name", z);
    snprintf(z, sizeof(z), "user%d-laptop", i % 250);
    ssoJsonWriteKeyString(&w, "key_alias", z);
    ssoJsonWriteKey(&w, "spend");
    ssoJsonWriteDouble(&w, (double)rndBelow(p, 10000000) / 1e5);
    ssoJsonWriteKey(&w, "max_budget"); ssoJsonWriteDouble(&w, 100.0);
    ssoJsonWriteKey(&w, "expires");
    if( i%3 ) ssoJsonWriteNull(&w);
    else ssoJsonWriteString(&w, "2026-12-31T00:00:00+00:00");
    ssoJsonWriteKey(&w, "models");
    ssoJsonWriteBeginArray(&w);
    for(k=0; k<nModel; k++){
      ssoJsonWriteString(&w, azModel[(i+k) % (int)SSO_ARRAYSIZE(azModel)]);
    }
    ssoJsonWriteEndArray(&w);
    snprintf(z, sizeof(z), "user%d@example.com", i % 250);
    ssoJsonWriteKeyString(&w, "user_id", z);
    ssoJsonWriteKeyString(&w, "team_id", i%2 ? "team-eng" : "team-research");
    ssoJsonWriteKey(&w, "metadata");
    ssoJsonWriteBeginObject(&w);
    ssoJsonWriteKey(&w, "sso_sub"); genHexString(p, &w, 16);
    ssoJsonWriteEndObject(&w);
    ssoJsonWriteKeyInt64(&w, "rpm_limit", 60);
    snprintf(z, sizeof(z), "2026-%02u-%02uT%02u:%02u:%02u.%03uZ",
             1 + rndBelow(p, 12), 1 + rndBelow(p, 28), rndBelow(p, 24),
             rndBelow(p, 60), rndBelow(p, 60), rndBelow(p, 1000));
    ssoJsonWriteKeyString(&w, "created_at", z);
    ssoJsonWriteKeyBool(&w, "blocked", 0);
    ssoJsonWriteEndObject(&w);
  }
  ssoJsonWriteEndArray(&w);
  ssoJsonWriteKeyInt64(&w, "total_count", nKey);
  ssoJsonWriteKeyInt64(&w, "current_page", 1);
  ssoJsonWriteKeyInt64(&w, "total_pages", 1);
  ssoJsonWriteEndObject(&w);
  return ssoJsonWriteFinish(&w);
}

/* Indexes into Ctx.aDoc */
#define DOC_CHAT1K   0
#define DOC_CHAT100K 1
#define DOC_CLAIMS   2
#define DOC_KEYLIST  3

static int genInputs(Ctx *p){
  size_t i, n;
  int rc = SSOPROXY_OK;
  p->iRand = 0x9E3779B97F4A7C15ULL;
  for(i=0; i<SSO_ARRAYSIZE(p->aDoc); i++) ssoBufInit(&p->aDoc[i], 0);
  if( rc==SSOPROXY_OK ) rc = genChat(p, &p->aDoc[DOC_CHAT1K], 640, 1);
  if( rc==SSOPROXY_OK ) rc = genChat(p, &p->aDoc[DOC_CHAT100K], 100000, 40);
  if( rc==SSOPROXY_OK ) rc = genClaims(&p->aDoc[DOC_CLAIMS]);
  if( rc==SSOPROXY_OK ) rc = genKeyList(p, &p->aDoc[DOC_KEYLIST], 1000);
  if( rc ) return rc;
  for(i=0; i<sizeof(p->aBin32); i++) p->aBin32[i] = (unsigned char)rnd(p);
  for(i=0; i<sizeof(p->aBin4k); i++) p->aBin4k[i] = (unsigned char)rnd(p);
  ssoB64EncodeTo(p->aBin32, sizeof(p->aBin32), SSO_B64_URL, p->zUrl32);
  ssoB64EncodeTo(p->aBin32, sizeof(p->aBin32), SSO_B64_STD, p->zStd32);
  ssoB64EncodeTo(p->aBin4k, sizeof(p->aBin4k), SSO_B64_URL, p->zUrl4k);
  ssoB64EncodeTo(p->aBin4k, sizeof(p->aBin4k), SSO_B64_STD, p->zStd4k);
  /* An API key as ssoproxy mints them: sk- and 256 random bits. */
  memcpy(p->zKey, "sk-", 3);
  for(i=0; i<32; i++) p->aOut[i] = (unsigned char)rnd(p);
  n = ssoB64EncodeTo(p->aOut, 32, SSO_B64_URL, p->zKey+3);
  assert( n==43 );
  return SSOPROXY_OK;
}

/* ------------------------------------------------------------------ */
/* Operations: each does one unit of work and returns 0 on success    */

static int opJsonParse(Ctx *p){
  SsoJsonDoc *pDoc = 0;
  int rc = ssoJsonParse(p->pW->z, p->pW->n, p->pW->mFlags, &pDoc, 0);
  p->iSink += ssoJsonCount(ssoJsonRoot(pDoc));
  ssoJsonFree(pDoc);
  return rc;
}

/*
** Step a one-row, one-column statement with ?1 bound to the input; stores
** the column as an integer in *pi. The input is NUL-terminated and bound
** with length -1: SQLite then knows it is terminated and does not copy it
** to add the NUL (it would with an explicit length); the strlen() this
** costs is a memchr()-sized scan.
*/
static int sqlOne(Ctx *p, sqlite3_stmt *pStmt, const char *z, int *pi){
  int rc;
  sqlite3_bind_text(pStmt, 1, z, -1, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    *pi = sqlite3_column_int(pStmt, 0);
    p->iSink += (unsigned)sqlite3_column_bytes(pStmt, 0);
    rc = SQLITE_OK;
  }
  sqlite3_reset(pStmt);
  return rc;
}
/* json_valid() must also agree that the document is valid. */
static int opSqlValid(Ctx *p){
  int bValid = 0, rc = sqlOne(p, p->pValid, p->pW->z, &bValid);
  return rc ? rc : bValid!=1;
}
static int opSqlMinify(Ctx *p){
  int i;
  return sqlOne(p, p->pMinify, p->pW->z, &i);
}
static int opSqlEcho(Ctx *p){
  int i;
  return sqlOne(p, p->pEcho, p->pW->z, &i);
}

/* The floor: a scan that touches every byte once and finds nothing. */
static int opMemchr(Ctx *p){
  p->iSink += memchr(p->pW->z, 0, p->pW->n)!=0;
  return 0;
}

static int opJsonWrite(Ctx *p){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  rc = ssoJsonToBuf(ssoJsonRoot(p->pTreeDoc), &b);
  p->iSink += b.n;
  ssoBufFree(&b);
  return rc;
}

static int opJsonRoundTrip(Ctx *p){
  SsoJsonDoc *pDoc = 0;
  SsoBuf b;
  int rc = ssoJsonParse(p->pW->z, p->pW->n, p->pW->mFlags, &pDoc, 0);
  ssoBufInit(&b, 0);
  if( rc==SSOPROXY_OK ) rc = ssoJsonToBuf(ssoJsonRoot(pDoc), &b);
  p->iSink += b.n;
  ssoBufFree(&b);
  ssoJsonFree(pDoc);
  return rc;
}

static int opB64Dec(Ctx *p){
  size_t nOut = 0;
  int rc = ssoB64Decode(p->pW->z, p->pW->n, SSO_B64_URL, p->aOut,
                        sizeof(p->aOut), &nOut, 0);
  p->iSink += nOut + p->aOut[0];
  return rc;
}
static int opMbedB64Dec(Ctx *p){
  size_t nOut = 0;
  int rc = mbedtls_base64_decode(p->aOut, sizeof(p->aOut), &nOut,
                                 (const unsigned char*)p->pW->z2, p->pW->n2);
  p->iSink += nOut + p->aOut[0];
  return rc;
}
static int opB64Enc(Ctx *p){
  p->iSink += ssoB64EncodeTo(p->pW->z, p->pW->n, SSO_B64_URL, p->zOut);
  p->iSink += (unsigned char)p->zOut[0];
  return 0;
}
static int opMbedB64Enc(Ctx *p){
  size_t nOut = 0;
  int rc = mbedtls_base64_encode((unsigned char*)p->zOut, sizeof(p->zOut),
                                 &nOut, (const unsigned char*)p->pW->z,
                                 p->pW->n);
  p->iSink += nOut + (unsigned char)p->zOut[0];
  return rc;
}

/* What authenticating one request costs: the key's hash, in hex, which
** is what the store looks up. */
static int opShaHex(Ctx *p){
  unsigned char a[SSO_SHA256_LEN];
  int rc = ssoSha256(p->pW->z, p->pW->n, a);
  ssoHexEncode(a, sizeof(a), p->zOut);
  p->iSink += (unsigned char)p->zOut[0];
  return rc;
}
static int opSha(Ctx *p){
  int rc = ssoSha256(p->pW->z, p->pW->n, p->aOut);
  p->iSink += p->aOut[0];
  return rc;
}
static int opMbedSha(Ctx *p){
#if MBEDTLS_VERSION_NUMBER < 0x03000000
  int rc = mbedtls_sha256_ret((const unsigned char*)p->pW->z, p->pW->n,
                              p->aOut, 0);
#else
  int rc = mbedtls_sha256((const unsigned char*)p->pW->z, p->pW->n,
                          p->aOut, 0);
#endif
  p->iSink += p->aOut[0];
  return rc;
}
#if MBEDTLS_VERSION_NUMBER < 0x03000000
# define MBED_SHA_NAME "mbedtls_sha256_ret"
#else
# define MBED_SHA_NAME "mbedtls_sha256"
#endif

/* ------------------------------------------------------------------ */
/* The workloads                                                      */

#define SIDE_SQL_VALID { "sqlite json_valid()", opSqlValid }
#define SIDE_MEMCHR    { "memchr() floor", opMemchr }
#define SIDE_MINIFY    { "sqlite json()", opSqlMinify }

/* Fill aW[] (room for 16); returns how many. */
static int setupWork(Ctx *p, Work *aW){
  static const struct { const char *zId, *zTitle; int iDoc; unsigned m; }
  aParse[] = {
    { "json-chat-1k",   "JSON parse: chat request ~1 KB", DOC_CHAT1K, 0 },
    { "json-chat-100k", "JSON parse: chat request ~100 KB", DOC_CHAT100K, 0 },
    { "json-claims",    "JSON parse: ID token claims (NODUP)", DOC_CLAIMS,
      SSO_JSON_NODUP },
    { "json-keylist",   "JSON parse: /key/list, 1000 keys", DOC_KEYLIST, 0 },
  };
  const SsoBuf *pKL = &p->aDoc[DOC_KEYLIST];
  int nW = 0;
  size_t i;
  memset(aW, 0, 16*sizeof(*aW));
  for(i=0; i<SSO_ARRAYSIZE(aParse); i++){
    const SsoBuf *pB = &p->aDoc[aParse[i].iDoc];
    Work w = { aParse[i].zId, aParse[i].zTitle, pB->z, pB->n, 0, 0,
               aParse[i].m, pB->n, 3,
               { { "ours", opJsonParse }, SIDE_SQL_VALID, SIDE_MEMCHR } };
    aW[nW++] = w;
  }
  {
    Work w1 = { "json-write-keylist", "JSON write: /key/list from a tree",
                pKL->z, pKL->n, 0, 0, 0, pKL->n, 2,
                { { "ours", opJsonWrite }, SIDE_MINIFY } };
    Work w2 = { "json-roundtrip-keylist", "JSON parse+write: /key/list",
                pKL->z, pKL->n, 0, 0, 0, pKL->n, 2,
                { { "ours", opJsonRoundTrip }, SIDE_MINIFY } };
    aW[nW++] = w1;
    aW[nW++] = w2;
  }
  {
    Work w[] = {
      { "b64-dec-32", "base64url decode, 32 B", p->zUrl32, strlen(p->zUrl32),
        p->zStd32, strlen(p->zStd32), 0, strlen(p->zUrl32), 2,
        { { "ours", opB64Dec }, { "mbedtls (std alphabet)", opMbedB64Dec } } },
      { "b64-dec-4k", "base64url decode, 4 KB", p->zUrl4k, strlen(p->zUrl4k),
        p->zStd4k, strlen(p->zStd4k), 0, strlen(p->zUrl4k), 2,
        { { "ours", opB64Dec }, { "mbedtls (std alphabet)", opMbedB64Dec } } },
      { "b64-enc-32", "base64url encode, 32 B", (const char*)p->aBin32,
        sizeof(p->aBin32), 0, 0, 0, sizeof(p->aBin32), 2,
        { { "ours", opB64Enc }, { "mbedtls (std alphabet)", opMbedB64Enc } } },
      { "b64-enc-4k", "base64url encode, 4 KB", (const char*)p->aBin4k,
        sizeof(p->aBin4k), 0, 0, 0, sizeof(p->aBin4k), 2,
        { { "ours", opB64Enc }, { "mbedtls (std alphabet)", opMbedB64Enc } } },
      { "sha-key-hex", "SHA-256 hex of an sk- key", p->zKey, strlen(p->zKey),
        0, 0, 0, strlen(p->zKey), 2,
        { { "ours", opShaHex }, { MBED_SHA_NAME, opMbedSha } } },
      { "sha-key", "SHA-256 of an sk- key (no hex)", p->zKey,
        strlen(p->zKey), 0, 0, 0, strlen(p->zKey), 2,
        { { "ours", opSha }, { MBED_SHA_NAME, opMbedSha } } },
    };
    for(i=0; i<SSO_ARRAYSIZE(w); i++) aW[nW++] = w[i];
  }
  assert( nW<=16 );
  return nW;
}

static int setupSqlite(Ctx *p){
  int rc = ssoMemInitSqlite();       /* SQLite allocates as in the server */
  if( rc ) return rc;
  rc = sqlite3_open(":memory:", &p->db);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(p->db, "SELECT json_valid(?1)", -1, &p->pValid, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(p->db, "SELECT json(?1)", -1, &p->pMinify, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(p->db, "SELECT ?1", -1, &p->pEcho, 0);
  }
  if( rc ){
    fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(p->db));
    return SSOPROXY_DB;
  }
  return SSOPROXY_OK;
}

static void ctxFree(Ctx *p){
  size_t i;
  sqlite3_finalize(p->pValid);
  sqlite3_finalize(p->pMinify);
  sqlite3_finalize(p->pEcho);
  sqlite3_close(p->db);
  ssoJsonFree(p->pTreeDoc);
  for(i=0; i<SSO_ARRAYSIZE(p->aDoc); i++) ssoBufFree(&p->aDoc[i]);
}

/* Before timing anything, check that every side succeeds on its input
** (json_valid() failing includes its saying "not JSON"). */
static int checkWork(Ctx *p, const Work *aW, int nW){
  int i, s;
  for(i=0; i<nW; i++){
    p->pW = &aW[i];
    for(s=0; s<aW[i].nSide; s++){
      if( aW[i].aSide[s].x(p) ){
        fprintf(stderr, "%s: %s failed\n", aW[i].zId, aW[i].aSide[s].zName);
        return 1;
      }
    }
  }
  return 0;
}

/* 1 if SQLite's json() and our writer give the same bytes for z. */
static int sameAsSqlite(Ctx *p, const char *z){
  SsoBuf b;
  int bSame = 0;
  ssoBufInit(&b, 0);
  sqlite3_bind_text(p->pMinify, 1, z, -1, SQLITE_STATIC);
  if( ssoJsonToBuf(ssoJsonRoot(p->pTreeDoc), &b)==SSOPROXY_OK
   && sqlite3_step(p->pMinify)==SQLITE_ROW ){
    bSame = (size_t)sqlite3_column_bytes(p->pMinify, 0)==b.n
         && memcmp(sqlite3_column_text(p->pMinify, 0), b.z, b.n)==0;
  }
  sqlite3_reset(p->pMinify);
  ssoBufFree(&b);
  return bSame;
}

/* ------------------------------------------------------------------ */
/* Timing                                                             */

static double nowNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec*1e9 + (double)ts.tv_nsec;
}

/*
** The timed loop. Never inlined and always called through a pointer, so
** that it is one function callgrind can --toggle-collect, and so that the
** compiler cannot hoist a pure call such as memchr() out of it.
*/
static BENCH_NOINLINE void benchLoop(Ctx *p, OpFn x, long long n){
  long long i;
  for(i=0; i<n; i++){
    if( x(p) ) p->nFail++;
  }
}
static void (*const volatile xBenchLoop)(Ctx*, OpFn, long long) = benchLoop;

/* ns per operation over a batch of n. */
static double timeBatch(Ctx *p, OpFn x, long long n){
  double t0 = nowNs();
  xBenchLoop(p, x, n);
  return (nowNs() - t0) / (double)n;
}

/* Calls of x that take about ms milliseconds (after a warm-up). */
static long long calibrate(Ctx *p, OpFn x, double ms){
  long long n = 1;
  double t = 0;
  for(;;){
    t = timeBatch(p, x, n) * (double)n;
    if( t>=ms*1e6/8 || n>=(1LL<<40) ) break;
    n *= 2;
  }
  n = (long long)((double)n * ms*1e6 / (t>0 ? t : 1));
  return n>0 ? n : 1;
}

static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return (x>y) - (x<y);
}
static double median(const double *a, int n){
  double aSort[BENCH_MAX_ROUNDS];
  memcpy(aSort, a, (size_t)n*sizeof(double));
  qsort(aSort, (size_t)n, sizeof(double), cmpDouble);
  return n%2 ? aSort[n/2] : (aSort[n/2-1] + aSort[n/2]) / 2;
}

/* The per-round ns/op of each side, interleaved: A B C, C B A, ... */
static void runWork(Ctx *p, const Work *pW, int nRound, double ms,
                    double aNs[BENCH_MAX_SIDE][BENCH_MAX_ROUNDS]){
  long long aN[BENCH_MAX_SIDE];
  int r, s;
  p->pW = pW;
  for(s=0; s<pW->nSide; s++) aN[s] = calibrate(p, pW->aSide[s].x, ms);
  for(r=0; r<nRound; r++){
    for(s=0; s<pW->nSide; s++){
      int k = r%2 ? pW->nSide-1-s : s;
      aNs[k][r] = timeBatch(p, pW->aSide[k].x, aN[k]);
    }
  }
}

static void fmtNs(char *z, size_t n, double ns){
  if( ns<100 ) snprintf(z, n, "%.1f", ns);
  else snprintf(z, n, "%.0f", ns);
}

static int runAll(Ctx *p, const Work *aW, int nW, const char *zFilter,
                  int nRound, double ms){
  static double aNs[BENCH_MAX_SIDE][BENCH_MAX_ROUNDS];
  int i, r, s;
  printf("| workload | bytes | ours ns/op | reference | ref ns/op "
         "| ratio ours/ref | round ratios p25–p75 | ours MB/s |\n");
  printf("|---|--:|--:|---|--:|--:|--:|--:|\n");
  for(i=0; i<nW; i++){
    const Work *pW = &aW[i];
    double rOurs;
    if( zFilter && strstr(pW->zId, zFilter)==0 ) continue;
    runWork(p, pW, nRound, ms, aNs);
    rOurs = median(aNs[0], nRound);
    for(s=1; s<pW->nSide; s++){
      double rRef = median(aNs[s], nRound), aRatio[BENCH_MAX_ROUNDS];
      char zOurs[32], zRef[32];
      for(r=0; r<nRound; r++) aRatio[r] = aNs[0][r] / aNs[s][r];
      qsort(aRatio, (size_t)nRound, sizeof(double), cmpDouble);
      fmtNs(zOurs, sizeof(zOurs), rOurs);
      fmtNs(zRef, sizeof(zRef), rRef);
      printf("| %s | %zu | %s | %s | %s | **%.2f** | %.2f–%.2f | %.0f |\n",
             pW->zTitle, pW->nByte, zOurs, pW->aSide[s].zName, zRef,
             rOurs/rRef, aRatio[nRound/4], aRatio[(3*nRound)/4],
             (double)pW->nByte / rOurs * 1e3);
    }
    fflush(stdout);
  }
  /* SQLite's fixed cost per call, to read the small-document rows by. */
  {
    Work w = { "sqlite-echo", "", p->aDoc[DOC_CLAIMS].z,
               p->aDoc[DOC_CLAIMS].n, 0, 0, 0, 0, 1,
               { { "SELECT ?1", opSqlEcho } } };
    char z[32];
    runWork(p, &w, nRound, ms, aNs);
    fmtNs(z, sizeof(z), median(aNs[0], nRound));
    printf("\nMedian of %d interleaved rounds of ~%.0f ms per side. "
           "SQLite's fixed cost per call (bind, step, reset of "
           "`SELECT ?1`): %s ns. Our /key/list writer output %s "
           "SQLite's json() byte for byte.\n",
           nRound, ms, z,
           sameAsSqlite(p, p->aDoc[DOC_KEYLIST].z) ? "equals" : "differs from");
  }
  if( p->nFail ){
    fprintf(stderr, "%lld operations failed\n", p->nFail);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Modes                                                              */

/* Calls of one side for an instruction count: about BENCH_ONCE_BYTES of
** input, within bounds. */
static long long onceCount(const Work *pW){
  long long n = (long long)(BENCH_ONCE_BYTES / (pW->nByte ? pW->nByte : 1));
  if( n<10 ) n = 10;
  if( n>20000 ) n = 20000;
  return n;
}

/*
** --once ID SIDE, or --once-all [FILTER] for every side of every
** workload (whose id contains FILTER): run each side onceCount() times in
** one benchLoop() call, after one warm-up call outside it, and print
** "ID<tab>SIDE<tab>COUNT" for each. Under callgrind with
** --toggle-collect=benchLoop --dump-after=benchLoop, part k of the
** profile is then the k-th line's loop and nothing else.
*/
static int runOnce(Ctx *p, const Work *aW, int nW, const char *zId,
                   int iSide, const char *zFilter){
  int i, s, nRun = 0;
  for(i=0; i<nW; i++){
    const Work *pW = &aW[i];
    if( zId && strcmp(pW->zId, zId)!=0 ) continue;
    if( zFilter && strstr(pW->zId, zFilter)==0 ) continue;
    for(s=0; s<pW->nSide; s++){
      long long n = onceCount(pW);
      if( zId && s!=iSide ) continue;
      p->pW = pW;
      pW->aSide[s].x(p);
      xBenchLoop(p, pW->aSide[s].x, n);
      printf("%s\t%d\t%lld\n", pW->zId, s, n);
      nRun++;
    }
  }
  if( nRun==0 ){
    fprintf(stderr, "no such workload or side\n");
    return 1;
  }
  return p->nFail!=0;
}

static int dumpInputs(Ctx *p, const char *zDir){
  static const char *const azName[] = {
    "chat-1k.json", "chat-100k.json", "claims.json", "keylist.json"
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azName); i++){
    char zPath[4096];
    FILE *f;
    snprintf(zPath, sizeof(zPath), "%s/%s", zDir, azName[i]);
    f = fopen(zPath, "wb");
    if( f==0 || fwrite(p->aDoc[i].z, 1, p->aDoc[i].n, f)!=p->aDoc[i].n ){
      fprintf(stderr, "cannot write %s\n", zPath);
      if( f ) fclose(f);
      return 1;
    }
    fclose(f);
  }
  return 0;
}

static void printInfo(void){
#ifdef MBEDTLS_VERSION_C
  char zMbed[32];
  mbedtls_version_get_string(zMbed);
#else
  const char *zMbed = MBEDTLS_VERSION_STRING;
#endif
  printf("SQLite %s, mbedTLS %s\n", sqlite3_libversion(), zMbed);
}

static int usage(void){
  fprintf(stderr,
    "usage: codec [-r ROUNDS] [-t MS] [FILTER]\n"
    "       codec --list | --info | --dump DIR\n"
    "       codec --once ID SIDE | --once-all [FILTER]\n");
  return 2;
}

int main(int argc, char **argv){
  static Ctx ctx;
  static Work aW[16];
  Ctx *p = &ctx;
  const char *zFilter = 0;
  int nRound = BENCH_ROUNDS, nW, i, rc = 1;
  double ms = BENCH_MS;
  if( argc>=2 && strcmp(argv[1], "--info")==0 ){
    printInfo();
    return 0;
  }
  if( genInputs(p) || setupSqlite(p) ) goto end;
  rc = ssoJsonParse(p->aDoc[DOC_KEYLIST].z, p->aDoc[DOC_KEYLIST].n, 0,
                    &p->pTreeDoc, 0);
  if( rc ) goto end;
  rc = 1;
  nW = setupWork(p, aW);
  if( checkWork(p, aW, nW) ) goto end;
  if( argc>=2 && strcmp(argv[1], "--list")==0 ){
    for(i=0; i<nW; i++){
      int k;
      printf("%s\t%d\t%zu\t%s", aW[i].zId, aW[i].nSide, aW[i].nByte,
             aW[i].zTitle);
      for(k=1; k<aW[i].nSide; k++) printf("\t%s", aW[i].aSide[k].zName);
      printf("\n");
    }
    rc = 0;
  }else if( argc==4 && strcmp(argv[1], "--once")==0 ){
    rc = runOnce(p, aW, nW, argv[2], atoi(argv[3]), 0);
  }else if( (argc==2 || argc==3) && strcmp(argv[1], "--once-all")==0 ){
    rc = runOnce(p, aW, nW, 0, 0, argc==3 ? argv[2] : 0);
  }else if( argc==3 && strcmp(argv[1], "--dump")==0 ){
    rc = dumpInputs(p, argv[2]);
  }else{
    for(i=1; i<argc; i++){
      if( strcmp(argv[i], "-r")==0 && i+1<argc ){
        nRound = atoi(argv[++i]);
      }else if( strcmp(argv[i], "-t")==0 && i+1<argc ){
        ms = atof(argv[++i]);
      }else if( argv[i][0]=='-' || zFilter ){
        rc = usage();
        goto end;
      }else{
        zFilter = argv[i];
      }
    }
    if( nRound<1 || nRound>BENCH_MAX_ROUNDS || !(ms>0) ){
      rc = usage();
      goto end;
    }
    rc = runAll(p, aW, nW, zFilter, nRound, ms);
  }
end:
  ctxFree(p);
  return rc;
}
