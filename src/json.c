/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: JSON, RFC 8259. Every API request body, every IdP response and
** every JWT header and claim set passes through this parser, so it is
** strict and bounded rather than forgiving:
**
**   - exactly one value, optionally surrounded by the four whitespace
**     bytes of RFC 8259 §2; nothing else before or after it (no BOM, §8.1);
**   - strings: no raw byte below 0x20 (§7), only the escapes of §7,
**     valid UTF-8 (§8.1, RFC 3629: no overlong forms, no encoded
**     surrogates, nothing above U+10FFFF), \u surrogates only as a high
**     one followed by a low one;
**   - numbers: the grammar of §6 exactly (no "+1", ".5", "1.", "01", NaN);
**     the text is kept, and converted on request with range checks;
**   - nesting at most SSO_JSON_MAX_DEPTH, input at most
**     SSO_JSON_MAX_INPUT bytes, at most SSO_JSON_MAX_NODES values;
**   - with SSO_JSON_NODUP, an object may not repeat a name (§4 leaves
**     duplicates to the implementation; two readers that pick different
**     ones is how JWT claim-smuggling attacks work).
**
** The parser is a single pass without recursion: containers being parsed
** live on an explicit stack of nodes; when a container closes, its
** children are copied as one contiguous array into the document's arena,
** which gives O(1) indexed access and document-order iteration. The stack
** itself is one growing block (it starts on the C stack). Strings and
** number texts are decoded into one string block sized from the input
** (see ssoJsonParse()) and NUL-terminated; a string holding U+0000 is
** flagged so callers that need a C string can refuse it, and one with
** nothing the writer must escape is flagged so it can be copied out as it
** is. The whole tree is freed with the arena in one call.
**
** Speed matters as much as strictness here (this is every request and
** response), so the hot paths are written for it: strings are scanned
** eight bytes at a time, copied, decoded and validated in one pass; the
** first arena chunk holds the whole document in the common case, so a
** parse is one allocation; node and value dispatch stay in one loop.
** bench/RESULTS.md compares it with SQLite's JSON functions.
**
** The writer emits compact JSON into an SsoBuf and keeps track of commas
** and nesting itself, so callers cannot produce a malformed document. A
** parsed tree is written by measuring it first and reserving once.
*/
#include "ssoInt.h"
#include <float.h>
#include <math.h>

#if SSO_JSON_MAX_INPUT > 0xffffffffu || SSO_JSON_MAX_NODES > 0xffffffffu
# error "offsets and counts in a JSON node are 32-bit"
#endif

/*
** One value. Object members carry their name; the children of an array
** or object are one contiguous array in the arena. 32 bytes on LP64.
*/
struct SsoJson {
  const char *zKey;     /* Name, if this is an object member; else NULL */
  union {
    const char *z;      /* STRING: decoded bytes; NUMBER: text; both NUL-
                        ** terminated, in the arena */
    const SsoJson *a;   /* ARRAY, OBJECT: the n children */
  } u;
  uint32_t n;           /* Bytes at u.z, or children at u.a */
  uint32_t nKey;        /* Bytes at zKey */
  uint32_t iOfs;        /* Input offset of the key (members) or the value */
  uint8_t eType;        /* SSO_JSON_NULL ... SSO_JSON_OBJECT */
  uint8_t mFlag;        /* JSONF_* bits */
};
#define JSONF_NUL      0x01  /* The string value holds U+0000 */
#define JSONF_PLAIN    0x02  /* ...and has no byte the writer must escape */
#define JSONF_KEYSHIFT 2     /* The same two bits for the member name: */
#define JSONF_KEYNUL   (JSONF_NUL<<JSONF_KEYSHIFT)
#define JSONF_KEYPLAIN (JSONF_PLAIN<<JSONF_KEYSHIFT)

/* A document: the arena lives inside itself (in its first chunk). */
struct SsoJsonDoc {
  SsoArena arena;       /* Every node and string of this document */
  const SsoJson *pRoot; /* The top-level value */
};

/* Up to this many members, duplicate names are found by comparing every
** pair; above it, with a hash table or by sorting (see checkDup()). */
#define JSON_DUP_LINEAR 8
/* Nodes of parse stack held on the C stack before moving to the heap. */
#define JSON_STACK_INIT 32

/* Keep a rarely used function out of its caller, so that the caller
** stays small (a hint: without it the code is only a little slower). */
#if defined(__GNUC__)
# define JSON_NOINLINE __attribute__((noinline))
#else
# define JSON_NOINLINE
#endif

/* Parser state; lives on the C stack for the duration of ssoJsonParse(). */
typedef struct JsonParse JsonParse;
struct JsonParse {
  const unsigned char *z;   /* Input */
  size_t n;                 /* Bytes of input */
  size_t i;                 /* Where an error without its own offset is */
  unsigned mFlags;          /* SSO_JSON_NODUP ... */
  SsoJsonErr *pErr;         /* Where failures are described; never NULL */
  SsoArena *pArena;         /* The document's arena */
  SsoJson *aStk;            /* Open containers and their children so far */
  size_t nStk;              /* Nodes in use at aStk */
  size_t nStkAlloc;         /* Nodes allocated at aStk */
  size_t nNode;             /* Values parsed so far */
  const SsoJson **apSort;   /* Scratch for the duplicate-name check */
  size_t nSortAlloc;        /* Entries allocated at apSort */
  unsigned char *zOut;      /* Free space in the string block */
  int nDepth;               /* Containers open */
  uint32_t aFrame[SSO_JSON_MAX_DEPTH];  /* Of each open container: its aStk
                                        ** index <<1, | 1 for an object */
  SsoJson aStkSpace[JSON_STACK_INIT];   /* Initial aStk */
};

/* -------------------------------------------------------------------- */
/* Errors                                                               */

static int parseErr(JsonParse *p, int rc, size_t iOfs, const char *zMsg){
  p->pErr->rc = rc;
  p->pErr->iOfs = iOfs;
  snprintf(p->pErr->zMsg, sizeof(p->pErr->zMsg), "%s", zMsg);
  return rc;
}

static int nomemErr(JsonParse *p){
  return parseErr(p, SSOPROXY_NOMEM, p->i, "out of memory");
}

/* A byte where a value or punctuation was expected. */
static int unexpectedErr(JsonParse *p){
  char zMsg[40];
  unsigned char c;
  if( p->i>=p->n ){
    return parseErr(p, SSOPROXY_PARSE, p->n, "unexpected end of input");
  }
  c = p->z[p->i];
  if( c=='/' ){
    return parseErr(p, SSOPROXY_PARSE, p->i, "comments are not allowed");
  }
  if( c>0x20 && c<0x7f ){
    snprintf(zMsg, sizeof(zMsg), "unexpected character '%c'", c);
  }else{
    snprintf(zMsg, sizeof(zMsg), "unexpected byte 0x%02x", c);
  }
  return parseErr(p, SSOPROXY_PARSE, p->i, zMsg);
}

/* "duplicate key \"NAME\"", the name cut short and made printable. */
static int dupErr(JsonParse *p, const SsoJson *pDup){
  char zMsg[sizeof(p->pErr->zMsg)];
  size_t i, j = 0, nShow = pDup->nKey < 48 ? pDup->nKey : 48;
  memcpy(zMsg, "duplicate key \"", 15);
  j = 15;
  for(i=0; i<nShow; i++){
    unsigned char c = (unsigned char)pDup->zKey[i];
    zMsg[j++] = (c>=0x20 && c<0x7f && c!='"' && c!='\\') ? (char)c : '?';
  }
  if( nShow<pDup->nKey ){ memcpy(zMsg+j, "...", 3); j += 3; }
  zMsg[j++] = '"';
  zMsg[j] = 0;
  return parseErr(p, SSOPROXY_PARSE, pDup->iOfs, zMsg);
}

/* -------------------------------------------------------------------- */
/* UTF-8 and strings                                                    */

/*
** Length of the valid UTF-8 sequence that starts with the non-ASCII byte
** z[0] and fits in z[0..n), or 0 if there is none (RFC 3629 §4). The
** second byte's range rules out overlong forms (E0, F0), UTF-16
** surrogates (ED) and code points above U+10FFFF (F4).
*/
static size_t utf8Seq(const unsigned char *z, size_t n){
  unsigned c = z[0];
  unsigned lo = 0x80, hi = 0xbf;
  size_t nSeq, k;
  if( c<0xc2 ) return 0;              /* stray continuation, or overlong */
  if( c<0xe0 ){
    nSeq = 2;
  }else if( c<0xf0 ){
    nSeq = 3;
    if( c==0xe0 ) lo = 0xa0;
    if( c==0xed ) hi = 0x9f;
  }else if( c<0xf5 ){
    nSeq = 4;
    if( c==0xf0 ) lo = 0x90;
    if( c==0xf4 ) hi = 0x8f;
  }else{
    return 0;
  }
  if( n<nSeq || z[1]<lo || z[1]>hi ) return 0;
  for(k=2; k<nSeq; k++){
    if( (z[k] & 0xc0)!=0x80 ) return 0;
  }
  return nSeq;
}

/* ASCII is checked 8 bytes at a time. */
SSO_PRIVATE int ssoJsonUtf8Valid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    size_t nSeq;
    if( n-i>=8 && (ssoBufLoad64(z+i) & SSO_HIGHS)==0 ){   /* ASCII word */
      i += 8;
      continue;
    }
    if( z[i]<0x80 ){ i++; continue; }
    nSeq = utf8Seq(z+i, n-i);
    if( nSeq==0 ) return 0;
    i += nSeq;
  }
  return 1;
}

/* Value of four hex digits at z, or -1. */
static long hex4(const unsigned char *z){
  long v = 0;
  int k;
  for(k=0; k<4; k++){
    unsigned c = z[k];
    if( c>='0' && c<='9' ) c -= '0';
    else if( (c|0x20)>='a' && (c|0x20)<='f' ) c = (c|0x20) - 'a' + 10;
    else return -1;
    v = v*16 + (long)c;
  }
  return v;
}

/* Write code point c as UTF-8 at z; returns the bytes written. */
static size_t utf8Put(unsigned char *z, unsigned long c){
  if( c<0x80 ){ z[0] = (unsigned char)c; return 1; }
  if( c<0x800 ){
    z[0] = (unsigned char)(0xc0 | (c>>6));
    z[1] = (unsigned char)(0x80 | (c & 0x3f));
    return 2;
  }
  if( c<0x10000 ){
    z[0] = (unsigned char)(0xe0 | (c>>12));
    z[1] = (unsigned char)(0x80 | ((c>>6) & 0x3f));
    z[2] = (unsigned char)(0x80 | (c & 0x3f));
    return 3;
  }
  z[0] = (unsigned char)(0xf0 | (c>>18));
  z[1] = (unsigned char)(0x80 | ((c>>12) & 0x3f));
  z[2] = (unsigned char)(0x80 | ((c>>6) & 0x3f));
  z[3] = (unsigned char)(0x80 | (c & 0x3f));
  return 4;
}

/*
** Offset of the quote that closes the string whose contents start at
** z[iStart], or n if there is none: the first quote preceded by an even
** number of backslashes. Used only to word an error (see strErr()).
*/
static size_t stringEnd(const unsigned char *z, size_t iStart, size_t n){
  size_t i = iStart;
  for(;;){
    const unsigned char *pQ = memchr(z+i, '"', n-i);
    size_t iQ, nBs = 0;
    if( pQ==0 ) return n;
    iQ = (size_t)(pQ - z);
    while( iQ-nBs>iStart && z[iQ-nBs-1]=='\\' ) nBs++;
    if( (nBs & 1)==0 ) return iQ;
    i = iQ + 1;
  }
}

/*
** Report a problem found at z[k] in the string whose opening quote is at
** z[iQuote]. A string with no closing quote is reported as unterminated
** whatever else is wrong inside it, so the message names the real
** mistake (a missing quote usually swallows the rest of the document).
** Returns 0, the "no position" of parseString().
*/
static size_t strErr(JsonParse *p, size_t iQuote, size_t k, const char *zMsg){
  if( stringEnd(p->z, iQuote+1, p->n)>=p->n ){
    parseErr(p, SSOPROXY_PARSE, p->n, "unterminated string");
  }else{
    parseErr(p, SSOPROXY_PARSE, k, zMsg);
  }
  return 0;
}

/*
** Decode the \u escape at z[k] (z[k]=='\\', z[k+1]=='u') into zOut.
** A high surrogate must be followed at once by an escaped low one (RFC
** 8259 §7); the pair is one code point. Returns the offset after the
** escape, or 0 after an error. The closing quote of the string is never
** a hex digit, a backslash or a 'u', so reading up to the end of the
** input, not of the string, finds the same errors.
*/
static size_t decodeU(JsonParse *p, size_t iQuote, size_t k,
                      unsigned char **pzOut, uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n;
  long hi, lo;
  unsigned long c;
  if( n-k<6 || (hi = hex4(z+k+2))<0 ){
    return strErr(p, iQuote, k, "invalid \\u escape");
  }
  c = (unsigned long)hi;
  if( hi>=0xdc00 && hi<=0xdfff ){
    return strErr(p, iQuote, k, "unpaired surrogate in \\u escape");
  }
  if( hi>=0xd800 && hi<=0xdbff ){
    if( n-k<12 || z[k+6]!='\\' || z[k+7]!='u'
     || (lo = hex4(z+k+8))<0xdc00 || lo>0xdfff ){
      return strErr(p, iQuote, k, "unpaired surrogate in \\u escape");
    }
    c = 0x10000 + (((unsigned long)hi - 0xd800)<<10)
                + ((unsigned long)lo - 0xdc00);
    k += 6;
  }
  if( c==0 ) *pmFlag |= JSONF_NUL;
  *pzOut += utf8Put(*pzOut, c);
  return k + 6;
}

/* The byte each one-letter escape stands for (RFC 8259 §7); 0 if none. */
static const unsigned char aUnescape[128] = {
  ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
  ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

/*
** Flags, in each byte of the word x, the bytes that end a run of bytes
** copied as they are: '"', '\\', controls below 0x20, DEL and everything
** from 0x80 (UTF-8, checked one sequence at a time). For a byte b:
**   b - 0x20 sets the top bit for b < 0x20 (it wraps) and b >= 0xa0;
**   b + 1 sets it for 0x7f ... 0x9f (and keeps it for the rest);
**   (b ^ '"') - 1 sets it for b == '"' and for most b >= 0x80, which are
**   flagged anyway; the same for '\\'.
** Carries and borrows leak only upwards from a flagged byte, so the
** lowest flag is exact (see ssoBufLoad64()).
*/
static uint64_t strStops(uint64_t x){
  return ((x - SSO_ONES*0x20) | (x + SSO_ONES)
        | ((x ^ SSO_ONES*'"') - SSO_ONES)
        | ((x ^ SSO_ONES*'\\') - SSO_ONES)) & SSO_HIGHS;
}

/*
** Strings are parsed in one pass: copy, decode escapes, validate UTF-8,
** find the closing quote. The decoded bytes go to the document's string
** block at p->zOut, NUL-terminated. Runs of ordinary ASCII are found 8
** bytes at a time; each word is stored before it is looked at, and the
** bytes after a stop are simply rewritten later. Writing 8 bytes is safe
** because decoding never makes text longer: the output so far is shorter
** than the input so far (see ssoJsonParse()), so out + 8 <= in + 8 <= n.
**
** parseString() is the common case, a string with nothing to decode,
** kept small so that it needs few registers; at the first escape,
** non-ASCII byte or control byte, or near the end of the input, it hands
** over to parseStringRest(), which does everything.
*/

/* The string ends at z[k]: store its length and flags, close it in the
** string block. Returns the offset after the quote. */
static size_t stringDone(JsonParse *p, size_t k, unsigned char *zOut,
                         const char **pz, uint32_t *pn, uint8_t *pmFlag,
                         uint8_t mFlag){
  *zOut = 0;
  *pz = (const char*)p->zOut;
  *pn = (uint32_t)(zOut - p->zOut);
  *pmFlag = mFlag;
  p->zOut = zOut + 1;
  return k + 1;
}

/*
** The general string decoder, from z[k] (output at zOut) on, of the
** string whose opening quote is at z[i]. Returns the offset after the
** closing quote, or 0 after an error. Kept out of line (where the
** compiler allows it to be asked) so that parseString() stays small.
*/
static JSON_NOINLINE size_t parseStringRest(JsonParse *p, size_t i,
                                            size_t k, unsigned char *zOut,
                                            const char **pz, uint32_t *pn,
                                            uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n, nSeq;
  uint8_t mFlag = JSONF_PLAIN;
  unsigned char c;
  for(;;){
    if( n-k>=8 ){
      uint64_t x = ssoBufLoad64(z+k), m = strStops(x);
      size_t s;
      memcpy(zOut, z+k, 8);
      if( m==0 ){
        zOut += 8;
        k += 8;
        continue;
      }
      s = ssoBufFirstMarked(m);
      zOut += s;
      k += s;
    }else{
      while( k<n && (unsigned)(z[k]-0x20)<0x5f && z[k]!='"' && z[k]!='\\' ){
        *zOut++ = z[k++];               /* the last few bytes of input */
      }
      if( k>=n ) return strErr(p, i, n, "unterminated string");
    }
    c = z[k];
    if( c=='"' ) break;
    if( c=='\\' ){
      mFlag &= ~JSONF_PLAIN;
      if( n-k<2 ) return strErr(p, i, k, "invalid escape in string");
      c = z[k+1];
      if( c<0x80 && aUnescape[c] ){
        *zOut++ = aUnescape[c];
        k += 2;
      }else if( c=='u' ){
        k = decodeU(p, i, k, &zOut, &mFlag);
        if( k==0 ) return 0;
      }else{
        return strErr(p, i, k, "invalid escape in string");
      }
    }else if( c>=0x80 ){
      nSeq = utf8Seq(z+k, n-k);
      if( nSeq==0 ) return strErr(p, i, k, "invalid UTF-8 in string");
      if( n-k>=4 ){
        memcpy(zOut, z+k, 4);           /* one fixed-size move */
      }else{
        memcpy(zOut, z+k, nSeq);
      }
      zOut += nSeq;
      k += nSeq;
    }else if( c==0x7f ){
      mFlag &= ~JSONF_PLAIN;            /* DEL is written as \u007f */
      *zOut++ = c;
      k++;
    }else{
      return strErr(p, i, k, "control character in string");
    }
  }
  return stringDone(p, k, zOut, pz, pn, pmFlag, mFlag);
}

/*
** Parse the string whose opening quote is at z[i]. Returns the offset
** after the closing quote, or 0 after an error; stores the decoded bytes,
** their count and JSONF_NUL | JSONF_PLAIN flags.
*/
static size_t parseString(JsonParse *p, size_t i, const char **pz,
                          uint32_t *pn, uint8_t *pmFlag){
  const unsigned char *z = p->z;
  size_t n = p->n, k = i + 1;
  unsigned char *zOut = p->zOut;
  while( n-k>=8 ){
    uint64_t x = ssoBufLoad64(z+k), m = strStops(x);
    memcpy(zOut, z+k, 8);
    if( m ){
      size_t s = ssoBufFirstMarked(m);
      zOut += s;
      k += s;
      if( z[k]!='"' ) break;
      return stringDone(p, k, zOut, pz, pn, pmFlag, JSONF_PLAIN);
    }
    zOut += 8;
    k += 8;
  }
  return parseStringRest(p, i, k, zOut, pz, pn, pmFlag);
}

/* -------------------------------------------------------------------- */
/* The parse stack                                                      */

/* Make room for one more node at the top of the stack, which starts on
** the C stack and doubles on the heap. */
static int stackGrow(JsonParse *p){
  size_t nNew = p->nStkAlloc*2;
  SsoJson *aNew;
  if( p->aStk==p->aStkSpace ){
    aNew = ssoMalloc(nNew*sizeof(SsoJson));
    if( aNew ) memcpy(aNew, p->aStk, p->nStk*sizeof(SsoJson));
  }else{
    aNew = ssoRealloc(p->aStk, nNew*sizeof(SsoJson));
  }
  if( aNew==0 ) return nomemErr(p);
  p->aStk = aNew;
  p->nStkAlloc = nNew;
  return SSOPROXY_OK;
}

/* The next free node of the stack (not yet in use), or NULL on OOM. */
static SsoJson *stackSlot(JsonParse *p){
  if( p->nStk>=p->nStkAlloc && stackGrow(p) ) return 0;
  return &p->aStk[p->nStk];
}

/* Take the slot from stackSlot() as a value found at iOfs: count it. */
static int stackPush(JsonParse *p, size_t iOfs){
  if( p->nNode>=SSO_JSON_MAX_NODES ){
    return parseErr(p, SSOPROXY_TOOBIG, iOfs, "too many values");
  }
  p->nNode++;
  p->nStk++;
  return SSOPROXY_OK;
}

/* Same name: length first, the cheap test that tells most names apart. */
static int keyEq(const SsoJson *a, const SsoJson *b){
  return a->nKey==b->nKey && memcmp(a->zKey, b->zKey, a->nKey)==0;
}

/* Order of two member names: bytes, then length. */
static int keyCmp(const SsoJson *a, const SsoJson *b){
  uint32_t n = a->nKey < b->nKey ? a->nKey : b->nKey;
  int c = memcmp(a->zKey, b->zKey, n);
  if( c ) return c;
  return (a->nKey > b->nKey) - (a->nKey < b->nKey);
}

/*
** Stable bottom-up merge sort of ap[0..n) by name, using aTmp[0..n).
** Hand-written because qsort() may allocate outside our allocator and
** promises neither stability nor O(n log n) on hostile input.
*/
static void sortByKey(const SsoJson **ap, size_t n, const SsoJson **aTmp){
  const SsoJson **aSrc = ap, **aDst = aTmp, **aSwap;
  size_t w, i;
  for(w=1; w<n; w*=2){
    for(i=0; i<n; i+=2*w){
      size_t iL = i, iMid = i+w<n ? i+w : n, iR = iMid;
      size_t iHi = i+2*w<n ? i+2*w : n, k = i;
      while( iL<iMid && iR<iHi ){
        aDst[k++] = keyCmp(aSrc[iR], aSrc[iL])<0 ? aSrc[iR++] : aSrc[iL++];
      }
      while( iL<iMid ) aDst[k++] = aSrc[iL++];
      while( iR<iHi ) aDst[k++] = aSrc[iR++];
    }
    aSwap = aSrc; aSrc = aDst; aDst = aSwap;
  }
  if( aSrc!=ap ) memcpy(ap, aSrc, n*sizeof(*ap));
}

/* The first repeat by sorting: a stable sort puts equal names side by
** side in document order, so the earliest repeat is the lowest-addressed
** right-hand side of an equal pair. O(n log n) whatever the names. */
static int checkDupSort(JsonParse *p, const SsoJson *a, size_t n){
  const SsoJson *pDup = 0;
  size_t i;
  if( p->nSortAlloc<2*n ){
    const SsoJson **apNew = ssoRealloc(p->apSort, 2*n*sizeof(*apNew));
    if( apNew==0 ) return nomemErr(p);
    p->apSort = apNew;
    p->nSortAlloc = 2*n;
  }
  for(i=0; i<n; i++) p->apSort[i] = a+i;
  sortByKey(p->apSort, n, p->apSort+n);
  for(i=1; i<n; i++){
    const SsoJson *pR = p->apSort[i];
    if( keyCmp(p->apSort[i-1], pR)==0 && (pDup==0 || pR<pDup) ) pDup = pR;
  }
  return pDup ? dupErr(p, pDup) : SSOPROXY_OK;
}

/*
** A hash of a member name, for checkDup(), a word at a time. A multiply
** only carries bits upwards, so each step folds the high half back down,
** and a final mix spreads every input bit over the low bits that pick a
** slot: names such as "member01" and "member02" differ only in their top
** bytes.
*/
static uint32_t keyHash(const SsoJson *a){
  const unsigned char *z = (const unsigned char*)a->zKey;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ a->nKey;
  size_t i = 0, n = a->nKey;
  for(; n-i>=8; i+=8){
    h = (h ^ ssoBufLoad64(z+i)) * 0xff51afd7ed558ccdULL;
    h ^= h>>32;
  }
  for(; i<n; i++) h = (h ^ z[i]) * 0x100000001b3ULL;
  h ^= h>>33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h>>33;
  return (uint32_t)h;
}

/*
** Fail if two of the n members at a[] share a name, reporting the first
** repeat in document order (the earliest member whose name appeared
** before it). Small objects compare every pair; medium ones (a JWT's
** claims, which is what NODUP is for: typically 5 to 30 members) insert
** the names into a small hash table on the C stack, in document order,
** which finds that same member. A hash can be attacked (names built to
** collide), so the table counts its probes and, past a linear budget,
** gives up for the sort, which is O(n log n) whatever the input, as are
** bigger objects (it needs one scratch allocation per parse).
*/
#define JSON_DUP_HASH   32      /* Most members for the hash table */
static int checkDup(JsonParse *p, const SsoJson *a, size_t n){
  uint16_t aSlot[2*JSON_DUP_HASH];    /* index+1 of a member, or 0 */
  uint32_t aHash[JSON_DUP_HASH];
  size_t i, j, mask, nProbe = 0;
  if( n<=JSON_DUP_LINEAR ){
    for(j=1; j<n; j++){
      for(i=0; i<j; i++){
        if( keyEq(a+i, a+j) ) return dupErr(p, a+j);
      }
    }
    return SSOPROXY_OK;
  }
  if( n>JSON_DUP_HASH ) return checkDupSort(p, a, n);
  for(mask=1; mask<2*n; mask*=2){}
  memset(aSlot, 0, mask*sizeof(aSlot[0]));
  mask--;
  for(j=0; j<n; j++){
    uint32_t h = aHash[j] = keyHash(a+j);
    for(i=h & mask; aSlot[i]; i=(i+1) & mask){
      size_t iOld = aSlot[i] - 1;
      if( aHash[iOld]==h && keyEq(a+iOld, a+j) ) return dupErr(p, a+j);
      if( ++nProbe>4*n ) return checkDupSort(p, a, n);
    }
    aSlot[i] = (uint16_t)(j+1);
  }
  return SSOPROXY_OK;
}

/* Close the innermost container: move its children into the arena. */
static int closeContainer(JsonParse *p){
  uint32_t iFrame = p->aFrame[--p->nDepth] >> 1;
  SsoJson *pNode = &p->aStk[iFrame];
  size_t nChild = p->nStk - iFrame - 1;
  int rc;
  pNode->u.a = 0;
  if( nChild>0 ){
    SsoJson *a;
    if( pNode->eType==SSO_JSON_OBJECT && (p->mFlags & SSO_JSON_NODUP) ){
      rc = checkDup(p, pNode+1, nChild);
      if( rc ) return rc;
    }
    a = ssoArenaAlloc(p->pArena, nChild*sizeof(SsoJson));
    if( a==0 ) return nomemErr(p);
    memcpy(a, pNode+1, nChild*sizeof(SsoJson));
    pNode->u.a = a;
  }
  pNode->n = (uint32_t)nChild;
  p->nStk = iFrame + 1;
  return SSOPROXY_OK;
}

/* -------------------------------------------------------------------- */
/* Grammar                                                              */

/* RFC 8259 §2: the only insignificant whitespace. Most documents on the
** wire have none between tokens, so the first test is the common exit. */
static size_t skipWs(const unsigned char *z, size_t i, size_t n){
  while( i<n && z[i]<=' '
      && (z[i]==' ' || z[i]=='\n' || z[i]=='\r' || z[i]=='\t') ){
    i++;
  }
  return i;
}

/* Error at offset i; returns 0, the "no position" of the scanners. */
static size_t errAt(JsonParse *p, size_t i, const char *zMsg){
  parseErr(p, SSOPROXY_PARSE, i, zMsg);
  return 0;
}
static size_t unexpectedAt(JsonParse *p, size_t i){
  p->i = i;
  unexpectedErr(p);
  return 0;
}

static size_t digitsEnd(const unsigned char *z, size_t i, size_t n){
  while( i<n && (unsigned)(z[i]-'0')<10 ) i++;
  return i;
}

/*
** RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
** The number starting at z[i0] goes into pNode, its text copied to the
** string block. Returns the offset after it, or 0 after an error.
*/
static size_t parseNumber(JsonParse *p, size_t i0, SsoJson *pNode){
  const unsigned char *z = p->z;
  size_t n = p->n, i = i0, iDig;
  if( z[i]=='-' ) i++;
  if( i>=n || (unsigned)(z[i]-'0')>=10 ){
    return errAt(p, i, "digit expected in number");
  }
  if( z[i]=='0' ){
    i++;
    if( i<n && (unsigned)(z[i]-'0')<10 ){
      return errAt(p, i0, "leading zero in number");
    }
  }else{
    i = digitsEnd(z, i+1, n);
  }
  if( i<n && z[i]=='.' ){
    iDig = ++i;
    i = digitsEnd(z, i, n);
    if( i==iDig ) return errAt(p, i, "digit expected after '.'");
  }
  if( i<n && (z[i]|0x20)=='e' ){
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) i++;
    iDig = i;
    i = digitsEnd(z, i, n);
    if( i==iDig ) return errAt(p, i, "digit expected in exponent");
  }
  /* Most numbers are short: one fixed 8-byte move, when the input has 8
  ** bytes from i0 (the string block has as much room as the input). */
  if( i-i0<8 && n-i0>=8 ){
    memcpy(p->zOut, z+i0, 8);
  }else{
    memcpy(p->zOut, z+i0, i-i0);
  }
  p->zOut[i-i0] = 0;
  pNode->u.z = (const char*)p->zOut;
  pNode->n = (uint32_t)(i - i0);
  pNode->eType = SSO_JSON_NUMBER;
  p->zOut += i - i0 + 1;
  return i;
}

/* true, false or null at z[i] (whose first byte is t, f or n). */
static size_t parseLiteral(JsonParse *p, size_t i, SsoJson *pNode){
  static const struct { char z[6]; uint8_t n, eType; } aLit[] = {
    { "true", 4, SSO_JSON_TRUE },
    { "false", 5, SSO_JSON_FALSE },
    { "null", 4, SSO_JSON_NULL },
  };
  int k = p->z[i]=='t' ? 0 : p->z[i]=='f' ? 1 : 2;
  if( p->n - i < aLit[k].n || memcmp(p->z + i, aLit[k].z, aLit[k].n)!=0 ){
    return errAt(p, i, "invalid literal");
  }
  pNode->eType = aLit[k].eType;
  pNode->u.z = 0;
  pNode->n = 0;
  return i + aLit[k].n;
}

/*
** A member name and its colon at or after z[i], into the slot pNode that
** the member's value will complete. Returns the offset after the colon,
** or 0 after an error.
*/
static size_t parseKey(JsonParse *p, size_t i, SsoJson *pNode){
  const unsigned char *z = p->z;
  size_t n = p->n;
  uint8_t mFlag;
  i = skipWs(z, i, n);
  if( i>=n ) return unexpectedAt(p, i);
  if( z[i]!='"' ) return errAt(p, i, "expected a string key");
  pNode->iOfs = (uint32_t)i;
  i = parseString(p, i, &pNode->zKey, &pNode->nKey, &mFlag);
  if( i==0 ) return 0;
  pNode->mFlag = (uint8_t)(mFlag<<JSONF_KEYSHIFT);
  i = skipWs(z, i, n);
  if( i>=n ) return unexpectedAt(p, i);
  if( z[i]!=':' ) return errAt(p, i, "expected ':' after key");
  return i+1;
}

/*
** '{' or '[' at z[i] opens a container in pNode. Returns the offset after
** it and any whitespace, or 0 after an error.
*/
static size_t openContainer(JsonParse *p, size_t i, SsoJson *pNode){
  int bObj = p->z[i]=='{';
  if( p->nDepth>=SSO_JSON_MAX_DEPTH ){
    parseErr(p, SSOPROXY_TOOBIG, i, "nesting too deep");
    return 0;
  }
  pNode->eType = bObj ? SSO_JSON_OBJECT : SSO_JSON_ARRAY;
  if( stackPush(p, i) ) return 0;
  p->aFrame[p->nDepth++] = (uint32_t)((p->nStk - 1)<<1 | (unsigned)bObj);
  return skipWs(p->z, i+1, p->n);
}

/*
** The whole text: one value, then only whitespace (RFC 8259 §2). One
** loop of two steps: read a value (a scalar, or the opening of a
** container), then what follows it (closing brackets, or a comma that
** leads to the next value). Open containers and their children so far
** are on the explicit stack, so nesting costs no C stack. bMember says
** the next value is an object member, to be preceded by its name.
*/
static int parseText(JsonParse *p){
  const unsigned char *z = p->z;
  const size_t n = p->n;
  size_t i = 0, iVal;
  int bMember = 0;
  if( n==0 ) return parseErr(p, SSOPROXY_PARSE, 0, "empty input");
  if( n>=3 && memcmp(z, "\xef\xbb\xbf", 3)==0 ){
    return parseErr(p, SSOPROXY_PARSE, 0, "byte order mark not allowed");
  }
  for(;;){
    SsoJson *pNode = stackSlot(p);
    unsigned char c;
    if( pNode==0 ) return p->pErr->rc;

    /* Step 1: a value, with its name first if it is a member. */
    if( bMember ){
      i = parseKey(p, i, pNode);
      if( i==0 ) return p->pErr->rc;
    }
    i = skipWs(z, i, n);
    if( i>=n ){
      unexpectedAt(p, i);
      return p->pErr->rc;
    }
    if( !bMember ){
      pNode->zKey = 0;
      pNode->nKey = 0;
      pNode->iOfs = (uint32_t)i;
      pNode->mFlag = 0;
    }
    iVal = i;
    c = z[i];
    if( c=='"' ){
      uint8_t mFlag = 0;
      i = parseString(p, i, &pNode->u.z, &pNode->n, &mFlag);
      pNode->eType = SSO_JSON_STRING;
      pNode->mFlag |= mFlag;
    }else if( (unsigned)(c-'0')<10 || c=='-' ){
      i = parseNumber(p, i, pNode);
    }else if( c=='{' || c=='[' ){
      i = openContainer(p, i, pNode);
      if( i==0 ) return p->pErr->rc;
      if( i>=n || z[i]!=(c=='{' ? '}' : ']') ){
        bMember = c=='{';             /* not empty: its first value next */
        continue;
      }
      p->i = ++i;
      if( closeContainer(p) ) return p->pErr->rc;
    }else if( c=='t' || c=='f' || c=='n' ){
      i = parseLiteral(p, i, pNode);
    }else{
      unexpectedAt(p, i);
      return p->pErr->rc;
    }
    if( i==0 ) return p->pErr->rc;
    if( c!='{' && c!='[' && stackPush(p, iVal) ) return p->pErr->rc;

    /* Step 2: close what ends here; a comma leads to the next value. */
    for(;;){
      int bObj;
      unsigned char cClose;
      if( p->nDepth==0 ){             /* the top-level value is complete */
        i = skipWs(z, i, n);
        if( i<n ){
          if( z[i]=='/' ){
            unexpectedAt(p, i);
            return p->pErr->rc;
          }
          return parseErr(p, SSOPROXY_PARSE, i,
                          "trailing characters after the value");
        }
        return SSOPROXY_OK;
      }
      bObj = p->aFrame[p->nDepth-1] & 1;
      cClose = bObj ? '}' : ']';
      i = skipWs(z, i, n);
      if( i>=n ){
        unexpectedAt(p, i);
        return p->pErr->rc;
      }
      if( z[i]==',' ){
        size_t iComma = i;
        i = skipWs(z, i+1, n);
        if( i<n && z[i]==cClose ){
          return parseErr(p, SSOPROXY_PARSE, iComma, "trailing comma");
        }
        bMember = bObj;
        break;
      }
      if( z[i]!=cClose ){
        if( z[i]=='/' ){
          unexpectedAt(p, i);
          return p->pErr->rc;
        }
        return parseErr(p, SSOPROXY_PARSE, i,
                        bObj ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      p->i = ++i;
      if( closeContainer(p) ) return p->pErr->rc;
    }
  }
}

/*
** Sizing. Every string and number is copied into one string block of
** n+1 bytes, allocated up front: each string's decoded bytes plus its NUL
** fit in the input bytes it came from (the quotes pay for the NUL), and
** so does each number's text plus NUL, the byte after a number being
** punctuation or whitespace - except for a bare top-level number at the
** very end of the input, which is the +1. The nodes go in the same first
** chunk, guessed at one node (32 bytes) per 24 input bytes plus a little
** (API bodies are mostly strings; key lists and claims run near one node
** per 24 bytes), so that most documents cost one allocation; the arena
** grows from there if the guess was short.
*/
#define JSON_NODE_GUESS(n) ((n)/24*sizeof(SsoJson) + 32*sizeof(SsoJson))

SSO_PRIVATE int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr){
  JsonParse sParse, *p = &sParse;
  SsoJsonErr sErr;
  SsoArena arena;
  SsoJsonDoc *pDoc;
  SsoJson *pRoot = 0;
  unsigned char *zStr;
  int rc;
  *ppDoc = 0;
  if( pErr==0 ) pErr = &sErr;
  memset(pErr, 0, sizeof(*pErr));
  memset(p, 0, offsetof(JsonParse, aStkSpace));
  p->z = (const unsigned char*)z;
  p->n = n;
  p->mFlags = mFlags;
  p->pErr = pErr;
  if( n>SSO_JSON_MAX_INPUT ){
    return parseErr(p, SSOPROXY_TOOBIG, 0, "document too large");
  }
  ssoArenaInit(&arena, 0);
  ssoArenaSizeHint(&arena, sizeof(*pDoc) + sizeof(*pRoot) + n + 8
                           + JSON_NODE_GUESS(n));
  p->pArena = &arena;
  p->aStk = p->aStkSpace;
  p->nStkAlloc = JSON_STACK_INIT;
  pDoc = ssoArenaAlloc(&arena, sizeof(*pDoc));
  pRoot = ssoArenaAlloc(&arena, sizeof(*pRoot));
  zStr = ssoArenaAlloc(&arena, n+1);
  p->zOut = zStr;
  rc = (pDoc && pRoot && zStr) ? parseText(p) : nomemErr(p);
  if( rc==SSOPROXY_OK ){
    assert( p->nStk==1 && p->nDepth==0 );
    assert( p->zOut <= zStr + n + 1 );
    *pRoot = p->aStk[0];
    pDoc->pRoot = pRoot;
    pDoc->arena = arena;      /* after the last allocation */
    *ppDoc = pDoc;
  }else{
    ssoArenaFree(&arena);
  }
  if( p->aStk!=p->aStkSpace ) ssoFree(p->aStk);
  ssoFree(p->apSort);
  return rc;
}

SSO_PRIVATE void ssoJsonFree(SsoJsonDoc *pDoc){
  if( pDoc ){
    SsoArena arena = pDoc->arena;   /* pDoc lives in the arena */
    ssoArenaFree(&arena);
  }
}

SSO_PRIVATE const SsoJson *ssoJsonRoot(const SsoJsonDoc *pDoc){
  return pDoc ? pDoc->pRoot : 0;
}

/* -------------------------------------------------------------------- */
/* Getters                                                              */

SSO_PRIVATE int ssoJsonType(const SsoJson *p){
  return p ? p->eType : SSO_JSON_NONE;
}

SSO_PRIVATE const char *ssoJsonTypeName(int eType){
  static const char *const azName[] = {
    "missing", "null", "false", "true", "number", "string", "array", "object"
  };
  if( eType<0 || eType>=(int)SSO_ARRAYSIZE(azName) ) return "unknown";
  return azName[eType];
}

SSO_PRIVATE size_t ssoJsonOffset(const SsoJson *p){
  return p ? p->iOfs : 0;
}

SSO_PRIVATE size_t ssoJsonCount(const SsoJson *p){
  if( p==0 || (p->eType!=SSO_JSON_ARRAY && p->eType!=SSO_JSON_OBJECT) ){
    return 0;
  }
  return p->n;
}

SSO_PRIVATE const SsoJson *ssoJsonAt(const SsoJson *p, size_t i){
  return i<ssoJsonCount(p) ? &p->u.a[i] : 0;
}

SSO_PRIVATE const char *ssoJsonKey(const SsoJson *p, size_t *pn){
  if( p==0 || p->zKey==0 ) return 0;
  if( pn ){
    *pn = p->nKey;
  }else if( p->mFlag & JSONF_KEYNUL ){
    return 0;
  }
  return p->zKey;
}

SSO_PRIVATE const SsoJson *ssoJsonGetN(const SsoJson *p, const char *zKey,
                                       size_t nKey){
  size_t i;
  if( p==0 || p->eType!=SSO_JSON_OBJECT ) return 0;
  for(i=p->n; i>0; i--){            /* backwards: the last one wins */
    const SsoJson *pM = &p->u.a[i-1];
    if( pM->nKey==nKey && memcmp(pM->zKey, zKey, nKey)==0 ) return pM;
  }
  return 0;
}

SSO_PRIVATE const SsoJson *ssoJsonGet(const SsoJson *p, const char *zKey){
  return zKey ? ssoJsonGetN(p, zKey, strlen(zKey)) : 0;
}

/* One path segment: an array index (decimal, no sign) or a member name. */
static const SsoJson *pathStep(const SsoJson *p, const char *z, size_t n){
  if( ssoJsonType(p)==SSO_JSON_ARRAY ){
    size_t i, iIdx = 0;
    if( n==0 || n>9 ) return 0;
    for(i=0; i<n; i++){
      if( z[i]<'0' || z[i]>'9' ) return 0;
      iIdx = iIdx*10 + (size_t)(z[i]-'0');
    }
    return ssoJsonAt(p, iIdx);
  }
  return ssoJsonGetN(p, z, n);
}

SSO_PRIVATE const SsoJson *ssoJsonGetPath(const SsoJson *p,
                                          const char *zPath){
  const char *z = zPath;
  if( z==0 ) return 0;
  if( z[0]==0 ) return p;
  while( p ){
    const SsoJson *pWhole = ssoJsonGet(p, z);
    const char *zDot;
    if( pWhole ) return pWhole;
    zDot = strchr(z, '.');
    if( zDot==0 ) return pathStep(p, z, strlen(z));
    p = pathStep(p, z, (size_t)(zDot - z));
    z = zDot + 1;
  }
  return 0;
}

SSO_PRIVATE const char *ssoJsonStr(const SsoJson *p, size_t *pn){
  if( p==0 || p->eType!=SSO_JSON_STRING ) return 0;
  if( pn ){
    *pn = p->n;
  }else if( p->mFlag & JSONF_NUL ){
    return 0;
  }
  return p->u.z;
}

SSO_PRIVATE const char *ssoJsonCStr(const SsoJson *p){
  return ssoJsonStr(p, 0);
}

SSO_PRIVATE const char *ssoJsonNumText(const SsoJson *p, size_t *pn){
  if( p==0 || p->eType!=SSO_JSON_NUMBER ) return 0;
  if( pn ) *pn = p->n;
  return p->u.z;
}

SSO_PRIVATE int ssoJsonBool(const SsoJson *p, int *pb){
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_TRUE && p->eType!=SSO_JSON_FALSE ){
    return SSOPROXY_PARSE;
  }
  *pb = p->eType==SSO_JSON_TRUE;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJsonInt64(const SsoJson *p, long long *pi){
  unsigned long long u = 0, uMax;
  size_t i;
  int bNeg;
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_NUMBER ) return SSOPROXY_PARSE;
  bNeg = p->u.z[0]=='-';
  for(i=(size_t)bNeg; i<p->n; i++){
    if( p->u.z[i]<'0' || p->u.z[i]>'9' ) return SSOPROXY_PARSE;
  }
  uMax = bNeg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
  for(i=(size_t)bNeg; i<p->n; i++){
    unsigned d = (unsigned)(p->u.z[i] - '0');
    if( u > (uMax - d)/10 ) return SSOPROXY_TOOBIG;
    u = u*10 + d;
  }
  if( !bNeg ) *pi = (long long)u;
  else if( u==uMax ) *pi = LLONG_MIN;
  else *pi = -(long long)u;
  return SSOPROXY_OK;
}

/*
** Convert the JSON number text z[0..n) to a double, whatever the C locale
** says the decimal point is: the digits are rewritten as an integer
** mantissa and a decimal exponent ("12.5e3" -> "125e2"), which strtod()
** reads identically in every locale and rounds correctly. Only the first
** JSON_DBL_DIGITS significant digits are kept, plus a final '1' standing
** for any non-zero digits dropped: that is enough for correct rounding
** (a double's exact halfway points have at most 767 significant digits).
*/
#define JSON_DBL_DIGITS 800
static int numToDouble(const char *z, size_t n, double *pr){
  char zBuf[JSON_DBL_DIGITS + 32];
  size_t i = 0, nBuf = 0;
  long long nSig = 0, nFrac = 0, nDrop = 0, iExp = 0, iE = 0;
  int bNeg = 0, bFrac = 0, bSticky = 0, bExpNeg = 0;
  double r;
  if( i<n && z[i]=='-' ){ bNeg = 1; i++; }
  for(; i<n; i++){
    char c = z[i];
    if( c=='.' ){ bFrac = 1; continue; }
    if( c<'0' || c>'9' ) break;
    nFrac += bFrac;
    if( nSig==0 && c=='0' ) continue;     /* leading zeros change nothing */
    if( nSig<JSON_DBL_DIGITS ){
      zBuf[nBuf++] = c;
    }else{
      nDrop++;
      if( c!='0' ) bSticky = 1;
    }
    nSig++;
  }
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) bExpNeg = z[i++]=='-';
    for(; i<n && z[i]>='0' && z[i]<='9'; i++){
      if( iE<1000000000000LL ) iE = iE*10 + (z[i]-'0');   /* saturate */
    }
  }
  if( nSig==0 ){
    *pr = bNeg ? -0.0 : 0.0;
    return SSOPROXY_OK;
  }
  if( bSticky ){
    zBuf[nBuf++] = '1';
    nDrop--;
  }
  iExp = (bExpNeg ? -iE : iE) - nFrac + nDrop;
  if( iExp>100000 ) iExp = 100000;          /* far past DBL_MAX / 0 */
  if( iExp<-100000 ) iExp = -100000;
  {                                         /* "e<iExp>", by hand */
    char zExp[12];
    size_t k = sizeof(zExp);
    unsigned long long u = iExp<0 ? (unsigned long long)-iExp
                                  : (unsigned long long)iExp;
    do{ zExp[--k] = (char)('0' + u%10); u /= 10; }while( u );
    if( iExp<0 ) zExp[--k] = '-';
    zBuf[nBuf++] = 'e';
    memcpy(zBuf+nBuf, zExp+k, sizeof(zExp)-k);
    zBuf[nBuf + sizeof(zExp)-k] = 0;
  }
  r = strtod(zBuf, 0);
  if( r>DBL_MAX ) return SSOPROXY_TOOBIG;
  *pr = bNeg ? -r : r;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJsonDouble(const SsoJson *p, double *pr){
  if( p==0 ) return SSOPROXY_NOTFOUND;
  if( p->eType!=SSO_JSON_NUMBER ) return SSOPROXY_PARSE;
  return numToDouble(p->u.z, p->n, pr);
}

/* -------------------------------------------------------------------- */
/* Writer                                                               */

#define JSONW_OBJECT 0x01   /* This level is an object (else an array) */
#define JSONW_MORE   0x02   /* Something was written: next needs a comma */
#define JSONW_KEY    0x04   /* A name was written; its value is due */

static void wError(SsoJsonWriter *w, int rc){
  if( w->rc==SSOPROXY_OK ) w->rc = rc;
}

SSO_PRIVATE void ssoJsonWriteInit(SsoJsonWriter *w, SsoBuf *pBuf){
  memset(w, 0, sizeof(*w));
  w->pBuf = pBuf;
}

/* Place a value: check it is allowed here, write the comma before it.
** Returns 0 if nothing may be written. */
static int wBeforeValue(SsoJsonWriter *w){
  unsigned char *pLevel;
  if( w->rc ) return 0;
  if( w->nDepth==0 ){
    if( w->bDone ){
      wError(w, SSOPROXY_MISUSE);
      return 0;
    }
    w->bDone = 1;
    return 1;
  }
  pLevel = &w->aLevel[w->nDepth-1];
  if( *pLevel & JSONW_OBJECT ){
    if( (*pLevel & JSONW_KEY)==0 ){
      wError(w, SSOPROXY_MISUSE);
      return 0;
    }
    *pLevel &= (unsigned char)~JSONW_KEY;
    return 1;
  }
  if( *pLevel & JSONW_MORE ) ssoBufAppendChar(w->pBuf, ',');
  *pLevel |= JSONW_MORE;
  return 1;
}

static void wBegin(SsoJsonWriter *w, int bObj){
  if( !wBeforeValue(w) ) return;
  if( w->nDepth>=SSO_JSON_MAX_DEPTH ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  w->aLevel[w->nDepth++] = bObj ? JSONW_OBJECT : 0;
  ssoBufAppendChar(w->pBuf, bObj ? '{' : '[');
}

static void wEnd(SsoJsonWriter *w, int bObj){
  unsigned char m;
  if( w->rc ) return;
  if( w->nDepth==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  m = w->aLevel[w->nDepth-1];
  if( (m & JSONW_OBJECT)!=(bObj ? JSONW_OBJECT : 0) || (m & JSONW_KEY) ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  w->nDepth--;
  ssoBufAppendChar(w->pBuf, bObj ? '}' : ']');
}

SSO_PRIVATE void ssoJsonWriteBeginObject(SsoJsonWriter *w){ wBegin(w, 1); }
SSO_PRIVATE void ssoJsonWriteEndObject(SsoJsonWriter *w){ wEnd(w, 1); }
SSO_PRIVATE void ssoJsonWriteBeginArray(SsoJsonWriter *w){ wBegin(w, 0); }
SSO_PRIVATE void ssoJsonWriteEndArray(SsoJsonWriter *w){ wEnd(w, 0); }

/* A name whose UTF-8 is known to be valid. */
static void wKey(SsoJsonWriter *w, const char *zKey, size_t n){
  unsigned char *pLevel;
  if( w->rc ) return;
  pLevel = w->nDepth ? &w->aLevel[w->nDepth-1] : 0;
  if( pLevel==0 || (*pLevel & JSONW_OBJECT)==0 || (*pLevel & JSONW_KEY) ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( *pLevel & JSONW_MORE ) ssoBufAppendChar(w->pBuf, ',');
  *pLevel |= JSONW_MORE | JSONW_KEY;
  ssoBufAppendJsonString(w->pBuf, zKey, n);
  ssoBufAppendChar(w->pBuf, ':');
}

SSO_PRIVATE void ssoJsonWriteKeyN(SsoJsonWriter *w, const char *zKey,
                                  size_t n){
  if( w->rc ) return;
  if( zKey==0 ){
    wError(w, SSOPROXY_MISUSE);
  }else if( !ssoJsonUtf8Valid(zKey, n) ){
    wError(w, SSOPROXY_PARSE);
  }else{
    wKey(w, zKey, n);
  }
}

SSO_PRIVATE void ssoJsonWriteKey(SsoJsonWriter *w, const char *zKey){
  ssoJsonWriteKeyN(w, zKey, zKey ? strlen(zKey) : 0);
}

SSO_PRIVATE void ssoJsonWriteStringN(SsoJsonWriter *w, const char *z,
                                     size_t n){
  if( w->rc ) return;
  if( z==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( !ssoJsonUtf8Valid(z, n) ){
    wError(w, SSOPROXY_PARSE);
    return;
  }
  if( wBeforeValue(w) ) ssoBufAppendJsonString(w->pBuf, z, n);
}

SSO_PRIVATE void ssoJsonWriteString(SsoJsonWriter *w, const char *z){
  if( z==0 ){
    ssoJsonWriteNull(w);
  }else{
    ssoJsonWriteStringN(w, z, strlen(z));
  }
}

SSO_PRIVATE void ssoJsonWriteRaw(SsoJsonWriter *w, const char *z, size_t n){
  if( wBeforeValue(w) ) ssoBufAppend(w->pBuf, z, n);
}

/* Digits by hand: printf() would parse its format twice per number. */
SSO_PRIVATE void ssoJsonWriteInt64(SsoJsonWriter *w, long long i){
  char z[24];
  size_t k = sizeof(z);
  unsigned long long u = i<0 ? 0 - (unsigned long long)i
                             : (unsigned long long)i;
  do{
    z[--k] = (char)('0' + u%10);
    u /= 10;
  }while( u );
  if( i<0 ) z[--k] = '-';
  ssoJsonWriteRaw(w, z+k, sizeof(z)-k);
}

SSO_PRIVATE void ssoJsonWriteBool(SsoJsonWriter *w, int b){
  ssoJsonWriteRaw(w, b ? "true" : "false", b ? 4 : 5);
}

SSO_PRIVATE void ssoJsonWriteNull(SsoJsonWriter *w){
  ssoJsonWriteRaw(w, "null", 4);
}

/*
** printf("%.*g") in the current locale, with whatever it used as the
** decimal point turned back into '.'. The result is a valid RFC 8259
** number for any finite r. Returns its length.
*/
static size_t fmtDouble(char *zOut, size_t nOut, int nDigit, double r){
  char zRaw[64];
  size_t i, j = 0;
  int bPoint = 0;
  snprintf(zRaw, sizeof(zRaw), "%.*g", nDigit, r);
  for(i=0; zRaw[i] && j+1<nOut; i++){
    char c = zRaw[i];
    if( (c>='0' && c<='9') || c=='-' || c=='+' || c=='e' || c=='E' ){
      zOut[j++] = c;
      bPoint = 0;
    }else if( !bPoint ){
      zOut[j++] = '.';
      bPoint = 1;
    }
  }
  zOut[j] = 0;
  return j;
}

/*
** The common case without printf(): money, ratios, small counts. If the
** shortest decimal that reads back as r has at most 15 significant digits
** and 1e-4 <= |r| < 1e15, ssoJsonWriteDouble() writes it in fixed
** notation (%g would, or its "whole numbers in full" rule). So try k = 0,
** 1, 2... fraction digits: v = round(|r| * 10^k) below 10^15 stands for the
** decimal v/10^k, and v/10^k computed in doubles is the correctly rounded
** value of that decimal (both operands are exact), that is what reading
** it gives, so "== |r|" proves the round trip; the first k is the
** shortest. It is also the digits %g prints: 15-digit decimals are more
** than an ulp apart, so only one can read back as r. Returns the length
** written to z (room for 40), or 0 for "not this case".
*/
static size_t fmtDoubleFixed(char *z, double r){
  static const double aPow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
  };
  double a = fabs(r);
  size_t k, j, n = 0;
  char zDigit[24];
  if( !(a>=1e-4 && a<1e15) ) return 0;
  for(k=0; k<SSO_ARRAYSIZE(aPow10); k++){
    double t = a*aPow10[k];
    unsigned long long v;
    if( t>=1e15 ) return 0;
    v = (unsigned long long)(t + 0.5);      /* exact: t < 2^50 */
    if( (double)v / aPow10[k]!=a ) continue;
    /* Digits of v, at least k+1 of them so there is an integer part. */
    for(j=0; v || j<=k; j++){
      zDigit[j] = (char)('0' + v%10);
      v /= 10;
    }
    if( r<0 ) z[n++] = '-';
    while( j>k ) z[n++] = zDigit[--j];
    if( k ){
      z[n++] = '.';
      while( j>0 ) z[n++] = zDigit[--j];
    }
    return n;
  }
  return 0;
}

SSO_PRIVATE void ssoJsonWriteDouble(SsoJsonWriter *w, double r){
  char z[64];
  const char *zExp;
  size_t n = 0;
  int nDigit;
  if( w->rc ) return;
  if( isnan(r) || isinf(r) ){
    wError(w, SSOPROXY_PARSE);    /* RFC 8259 §6: no NaN, no Infinity */
    return;
  }
  n = fmtDoubleFixed(z, r);
  if( n ){
    ssoJsonWriteRaw(w, z, n);
    return;
  }
  /*
  ** The fewest significant digits that read back as exactly r. For a
  ** normal double the search can start at 15: if some decimal D of d<=15
  ** digits reads back as r, then |r-D| <= half an ulp < 2^-53 * 10^(E+1)
  ** (r = x.xx * 10^E), less than half the spacing 10^(E-14) of 15-digit
  ** decimals, so r rounded to 15 digits is D, and %g drops the zeros.
  ** Subnormals have fewer bits, so there the search starts at 1.
  */
  nDigit = (r!=0.0 && fabs(r)<DBL_MIN) ? 1 : 15;
  for(; nDigit<=17; nDigit++){
    double rBack = 0.0;
    n = fmtDouble(z, sizeof(z), nDigit, r);
    if( numToDouble(z, n, &rBack)==SSOPROXY_OK && rBack==r ) break;
  }
  /* ...but whole numbers below 1e17 in full: "100", not "1e+02". */
  zExp = strchr(z, 'e');
  if( zExp && zExp[1]=='+' && atoi(zExp+2)<17 ){
    n = fmtDouble(z, sizeof(z), atoi(zExp+2)+1, r);
  }
  ssoJsonWriteRaw(w, z, n);
}

SSO_PRIVATE void ssoJsonWriteKeyString(SsoJsonWriter *w, const char *zKey,
                                       const char *z){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteString(w, z);
}

SSO_PRIVATE void ssoJsonWriteKeyInt64(SsoJsonWriter *w, const char *zKey,
                                      long long i){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteInt64(w, i);
}

SSO_PRIVATE void ssoJsonWriteKeyBool(SsoJsonWriter *w, const char *zKey,
                                     int b){
  ssoJsonWriteKey(w, zKey);
  ssoJsonWriteBool(w, b);
}

/*
** Writing a parsed value. Its exact length is known before a byte is
** written: a string the parser found free of anything to escape
** (JSONF_PLAIN) takes its length plus the quotes, any other is measured
** by ssoBufJsonStringLen(). So the buffer grows once, and every byte is
** then stored directly, with no room check per token. The recursion is
** bounded: a parsed tree is at most SSO_JSON_MAX_DEPTH deep.
*/
static size_t treeLen(const SsoJson *p, int *pnDepth){
  size_t nOut, i;
  int nDepth = 0, nChild;
  switch( p->eType ){
    case SSO_JSON_NULL:   return 4;
    case SSO_JSON_TRUE:   return 4;
    case SSO_JSON_FALSE:  return 5;
    case SSO_JSON_NUMBER: return p->n;
    case SSO_JSON_STRING:
      return (p->mFlag & JSONF_PLAIN) ? (size_t)p->n + 2
                                      : ssoBufJsonStringLen(p->u.z, p->n);
    default:
      break;
  }
  nOut = p->n ? 1 + p->n : 2;         /* brackets and commas */
  for(i=0; i<p->n; i++){
    const SsoJson *pC = &p->u.a[i];
    if( p->eType==SSO_JSON_OBJECT ){
      nOut += 1 + ((pC->mFlag & JSONF_KEYPLAIN) ? (size_t)pC->nKey + 2
                                    : ssoBufJsonStringLen(pC->zKey, pC->nKey));
    }
    nChild = 0;
    nOut += treeLen(pC, &nChild);
    if( nChild>nDepth ) nDepth = nChild;
  }
  *pnDepth = nDepth + 1;
  return nOut;
}

/* A name or string value, escaped unless the parser found no need. */
static char *treeStr(char *z, const char *zStr, size_t n, int bPlain){
  if( !bPlain ) return ssoBufJsonStringTo(z, zStr, n);
  *z++ = '"';
  memcpy(z, zStr, n);
  z += n;
  *z++ = '"';
  return z;
}

/* Store p's compact JSON, treeLen() bytes, at z; returns the end. */
static char *treeWrite(const SsoJson *p, char *z){
  uint32_t i;
  switch( p->eType ){
    case SSO_JSON_NULL:   memcpy(z, "null", 4);  return z+4;
    case SSO_JSON_TRUE:   memcpy(z, "true", 4);  return z+4;
    case SSO_JSON_FALSE:  memcpy(z, "false", 5); return z+5;
    case SSO_JSON_NUMBER: memcpy(z, p->u.z, p->n); return z + p->n;
    case SSO_JSON_STRING:
      return treeStr(z, p->u.z, p->n, p->mFlag & JSONF_PLAIN);
    case SSO_JSON_ARRAY:
      *z++ = '[';
      for(i=0; i<p->n; i++){
        if( i ) *z++ = ',';
        z = treeWrite(&p->u.a[i], z);
      }
      *z++ = ']';
      return z;
    default:
      assert( p->eType==SSO_JSON_OBJECT );
      *z++ = '{';
      for(i=0; i<p->n; i++){
        const SsoJson *pC = &p->u.a[i];
        if( i ) *z++ = ',';
        z = treeStr(z, pC->zKey, pC->nKey, pC->mFlag & JSONF_KEYPLAIN);
        *z++ = ':';
        z = treeWrite(pC, z);
      }
      *z++ = '}';
      return z;
  }
}

SSO_PRIVATE void ssoJsonWriteValue(SsoJsonWriter *w, const SsoJson *p){
  SsoBuf *pBuf = w->pBuf;
  size_t nOut;
  int nDepth = 0;
  char *zEnd;
  if( p==0 ){
    wError(w, SSOPROXY_MISUSE);
    return;
  }
  if( !wBeforeValue(w) ) return;
  nOut = treeLen(p, &nDepth);
  if( w->nDepth + nDepth > SSO_JSON_MAX_DEPTH ){
    wError(w, SSOPROXY_MISUSE);       /* as wBegin() would have said */
    return;
  }
  if( ssoBufReserve(pBuf, nOut) ) return;
  zEnd = treeWrite(p, pBuf->z + pBuf->n);
  assert( zEnd==pBuf->z + pBuf->n + nOut );
  pBuf->n += nOut;
  *zEnd = 0;
}

SSO_PRIVATE int ssoJsonWriteFinish(SsoJsonWriter *w){
  if( w->rc ) return w->rc;
  if( w->pBuf->rc ) return w->pBuf->rc;
  if( w->nDepth!=0 || !w->bDone ) return SSOPROXY_MISUSE;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJsonToBuf(const SsoJson *pVal, SsoBuf *pBuf){
  SsoJsonWriter w;
  ssoJsonWriteInit(&w, pBuf);
  ssoJsonWriteValue(&w, pVal);
  return ssoJsonWriteFinish(&w);
}
