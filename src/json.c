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
** itself is one growing block (it starts on the C stack, so a small
** document costs one arena chunk and no other allocation). Strings are
** decoded into the arena and NUL-terminated; a string holding U+0000 is
** flagged so callers that need a C string can refuse it. The whole tree
** is freed with the arena in one call.
**
** The writer emits compact JSON into an SsoBuf and keeps track of commas
** and nesting itself, so callers cannot produce a malformed document.
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
#define JSONF_NUL     0x01  /* The string value holds U+0000 */
#define JSONF_KEYNUL  0x02  /* The member name holds U+0000 */

/* A document: the arena lives inside itself (in its first chunk). */
struct SsoJsonDoc {
  SsoArena arena;       /* Every node and string of this document */
  const SsoJson *pRoot; /* The top-level value */
};

/* Up to this many members, duplicate names are found by comparing every
** pair; above it, by sorting the names (O(n log n) whatever the input). */
#define JSON_DUP_LINEAR 8
/* Nodes of parse stack held on the C stack before moving to the heap. */
#define JSON_STACK_INIT 32

/* Parser state; lives on the C stack for the duration of ssoJsonParse(). */
typedef struct JsonParse JsonParse;
struct JsonParse {
  const unsigned char *z;   /* Input */
  size_t n;                 /* Bytes of input */
  size_t i;                 /* Next byte to look at */
  unsigned mFlags;          /* SSO_JSON_NODUP ... */
  SsoJsonErr *pErr;         /* Where failures are described; never NULL */
  SsoArena *pArena;         /* The document's arena */
  SsoJson *aStk;            /* Open containers and their children so far */
  size_t nStk;              /* Nodes in use at aStk */
  size_t nStkAlloc;         /* Nodes allocated at aStk */
  size_t nNode;             /* Values parsed so far */
  const SsoJson **apSort;   /* Scratch for the duplicate-name check */
  size_t nSortAlloc;        /* Entries allocated at apSort */
  int nDepth;               /* Containers open */
  uint32_t aFrame[SSO_JSON_MAX_DEPTH];  /* aStk index of each open one */
  const char *zKey;         /* Name read for the next member, or NULL */
  uint32_t nKey;            /* Its length */
  uint32_t iKeyOfs;         /* Its offset */
  uint8_t mKeyFlag;         /* JSONF_KEYNUL if it holds U+0000 */
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

SSO_PRIVATE int ssoJsonUtf8Valid(const char *zIn, size_t n){
  const unsigned char *z = (const unsigned char*)zIn;
  size_t i = 0;
  while( i<n ){
    size_t nSeq;
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
** Decode the \u escape at z[k] (z[k]=='\\', z[k+1]=='u') of a string that
** ends before z[iEnd]. A high surrogate must be followed at once by an
** escaped low one (RFC 8259 §7); the pair is one code point. Stores the
** code point and the bytes of input used, or returns an error.
*/
static int decodeU(JsonParse *p, size_t k, size_t iEnd,
                   unsigned long *pc, size_t *pnUsed){
  const unsigned char *z = p->z;
  long hi, lo;
  if( k+6>iEnd || (hi = hex4(z+k+2))<0 ){
    return parseErr(p, SSOPROXY_PARSE, k, "invalid \\u escape");
  }
  *pnUsed = 6;
  *pc = (unsigned long)hi;
  if( hi>=0xdc00 && hi<=0xdfff ){
    return parseErr(p, SSOPROXY_PARSE, k, "unpaired surrogate in \\u escape");
  }
  if( hi<0xd800 || hi>0xdbff ) return SSOPROXY_OK;
  if( k+12>iEnd || z[k+6]!='\\' || z[k+7]!='u'
   || (lo = hex4(z+k+8))<0xdc00 || lo>0xdfff ){
    return parseErr(p, SSOPROXY_PARSE, k, "unpaired surrogate in \\u escape");
  }
  *pnUsed = 12;
  *pc = 0x10000 + (((unsigned long)hi - 0xd800)<<10)
                + ((unsigned long)lo - 0xdc00);
  return SSOPROXY_OK;
}

/* One escape at z[k]; appends its bytes at zOut[*pj] and advances *pk. */
static int decodeEscape(JsonParse *p, size_t *pk, size_t iEnd,
                        unsigned char *zOut, size_t *pj, uint8_t *pmFlag){
  size_t k = *pk, nUsed = 2;
  unsigned long c = 0;
  int rc;
  switch( p->z[k+1] ){
    case '"':  c = '"';  break;
    case '\\': c = '\\'; break;
    case '/':  c = '/';  break;
    case 'b':  c = '\b'; break;
    case 'f':  c = '\f'; break;
    case 'n':  c = '\n'; break;
    case 'r':  c = '\r'; break;
    case 't':  c = '\t'; break;
    case 'u':
      rc = decodeU(p, k, iEnd, &c, &nUsed);
      if( rc ) return rc;
      if( c==0 ) *pmFlag = 1;
      break;
    default:
      return parseErr(p, SSOPROXY_PARSE, k, "invalid escape in string");
  }
  *pj += utf8Put(zOut + *pj, c);
  *pk = k + nUsed;
  return SSOPROXY_OK;
}

/*
** Offset of the quote that closes the string whose contents start at
** z[iStart], or n if there is none. memchr() finds candidates quickly; a
** quote is the closing one when an even number of backslashes precede
** it. Each byte is looked at a bounded number of times.
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

/* 1 for a byte copied as it is: printable ASCII other than backslash. */
#define PLAIN(c) ((unsigned)((c) - 0x20)<0x60 && (c)!='\\')

/*
** Parse the string whose opening quote is at p->i. Its decoded bytes go
** into the arena, NUL-terminated; decoding never makes a string longer,
** so the raw length is enough room. *pbNul is set if it holds U+0000.
*/
static int parseString(JsonParse *p, const char **pz, uint32_t *pn,
                       uint8_t *pbNul){
  const unsigned char *z = p->z;
  size_t k = p->i + 1, j = 0, iEnd = stringEnd(z, p->i + 1, p->n);
  unsigned char *zOut;
  int rc;
  if( iEnd>=p->n ){
    return parseErr(p, SSOPROXY_PARSE, p->n, "unterminated string");
  }
  zOut = ssoArenaAlloc(p->pArena, iEnd - p->i);
  if( zOut==0 ) return nomemErr(p);
  *pbNul = 0;
  while( k<iEnd ){
    unsigned char c;
    size_t iRun = k;
    while( k<iEnd && PLAIN(z[k]) ) k++;
    memcpy(zOut+j, z+iRun, k-iRun);
    j += k-iRun;
    if( k>=iEnd ) break;
    c = z[k];
    if( c=='\\' ){
      rc = decodeEscape(p, &k, iEnd, zOut, &j, pbNul);
      if( rc ) return rc;
    }else if( c<0x20 ){
      return parseErr(p, SSOPROXY_PARSE, k, "control character in string");
    }else{
      size_t nSeq = utf8Seq(z+k, iEnd-k);
      if( nSeq==0 ){
        return parseErr(p, SSOPROXY_PARSE, k, "invalid UTF-8 in string");
      }
      memcpy(zOut+j, z+k, nSeq);
      j += nSeq;
      k += nSeq;
    }
  }
  zOut[j] = 0;
  *pz = (const char*)zOut;
  *pn = (uint32_t)j;
  p->i = iEnd + 1;
  return SSOPROXY_OK;
}

/* -------------------------------------------------------------------- */
/* The parse stack                                                      */

/* Push a new value of type eType found at offset iOfs; it takes the
** pending member name, if any. */
static int pushNode(JsonParse *p, int eType, size_t iOfs, SsoJson **ppNode){
  SsoJson *pNode;
  if( p->nNode>=SSO_JSON_MAX_NODES ){
    return parseErr(p, SSOPROXY_TOOBIG, iOfs, "too many values");
  }
  if( p->nStk>=p->nStkAlloc ){
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
  }
  p->nNode++;
  pNode = &p->aStk[p->nStk++];
  memset(pNode, 0, sizeof(*pNode));
  pNode->eType = (uint8_t)eType;
  pNode->iOfs = (uint32_t)iOfs;
  if( p->zKey ){
    pNode->zKey = p->zKey;
    pNode->nKey = p->nKey;
    pNode->iOfs = p->iKeyOfs;
    pNode->mFlag = p->mKeyFlag;
    p->zKey = 0;
  }
  *ppNode = pNode;
  return SSOPROXY_OK;
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

/*
** Fail if two of the n members at a[] share a name, reporting the first
** repeat in document order. Pairwise for small objects; for large ones a
** stable sort puts equal names side by side in document order, so the
** earliest repeat is the lowest-addressed right-hand side of a pair.
*/
static int checkDup(JsonParse *p, const SsoJson *a, size_t n){
  const SsoJson *pDup = 0;
  size_t i, j;
  if( n<=JSON_DUP_LINEAR ){
    for(j=1; j<n; j++){
      for(i=0; i<j; i++){
        if( keyCmp(a+i, a+j)==0 ) return dupErr(p, a+j);
      }
    }
    return SSOPROXY_OK;
  }
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

/* Close the innermost container: move its children into the arena. */
static int closeContainer(JsonParse *p){
  uint32_t iFrame = p->aFrame[--p->nDepth];
  SsoJson *pNode = &p->aStk[iFrame];
  size_t nChild = p->nStk - iFrame - 1;
  int rc;
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

/* RFC 8259 §2: the only insignificant whitespace. */
static void skipWs(JsonParse *p){
  while( p->i<p->n ){
    unsigned char c = p->z[p->i];
    if( c!=' ' && c!='\n' && c!='\r' && c!='\t' ) break;
    p->i++;
  }
}

static int isDigit(const JsonParse *p, size_t i){
  return i<p->n && p->z[i]>='0' && p->z[i]<='9';
}

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int parseNumber(JsonParse *p){
  size_t i0 = p->i, i = p->i;
  SsoJson *pNode;
  const char *zText;
  int rc;
  if( p->z[i]=='-' ) i++;
  if( !isDigit(p, i) ){
    return parseErr(p, SSOPROXY_PARSE, i, "digit expected in number");
  }
  if( p->z[i]=='0' ){
    i++;
    if( isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i0, "leading zero in number");
    }
  }else{
    while( isDigit(p, i) ) i++;
  }
  if( i<p->n && p->z[i]=='.' ){
    i++;
    if( !isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i, "digit expected after '.'");
    }
    while( isDigit(p, i) ) i++;
  }
  if( i<p->n && (p->z[i]=='e' || p->z[i]=='E') ){
    i++;
    if( i<p->n && (p->z[i]=='+' || p->z[i]=='-') ) i++;
    if( !isDigit(p, i) ){
      return parseErr(p, SSOPROXY_PARSE, i, "digit expected in exponent");
    }
    while( isDigit(p, i) ) i++;
  }
  zText = ssoArenaStrndup(p->pArena, (const char*)p->z + i0, i - i0);
  if( zText==0 ) return nomemErr(p);
  rc = pushNode(p, SSO_JSON_NUMBER, i0, &pNode);
  if( rc ) return rc;
  pNode->u.z = zText;
  pNode->n = (uint32_t)(i - i0);
  p->i = i;
  return SSOPROXY_OK;
}

static int parseLiteral(JsonParse *p){
  static const struct { const char *z; size_t n; int eType; } aLit[] = {
    { "true", 4, SSO_JSON_TRUE },
    { "false", 5, SSO_JSON_FALSE },
    { "null", 4, SSO_JSON_NULL },
  };
  size_t k;
  SsoJson *pNode;
  for(k=0; k<SSO_ARRAYSIZE(aLit); k++){
    if( p->z[p->i]!=(unsigned char)aLit[k].z[0] ) continue;
    if( p->n - p->i < aLit[k].n
     || memcmp(p->z + p->i, aLit[k].z, aLit[k].n)!=0 ){
      break;
    }
    p->i += aLit[k].n;
    return pushNode(p, aLit[k].eType, p->i - aLit[k].n, &pNode);
  }
  return parseErr(p, SSOPROXY_PARSE, p->i, "invalid literal");
}

/* A member name and its colon; the value follows. */
static int parseKey(JsonParse *p){
  int rc;
  size_t iKey;
  uint8_t bNul = 0;
  skipWs(p);
  if( p->i>=p->n ) return unexpectedErr(p);
  if( p->z[p->i]!='"' ){
    return parseErr(p, SSOPROXY_PARSE, p->i, "expected a string key");
  }
  iKey = p->i;
  rc = parseString(p, &p->zKey, &p->nKey, &bNul);
  if( rc ) return rc;
  p->iKeyOfs = (uint32_t)iKey;
  p->mKeyFlag = bNul ? JSONF_KEYNUL : 0;
  skipWs(p);
  if( p->i>=p->n || p->z[p->i]!=':' ){
    if( p->i>=p->n ) return unexpectedErr(p);
    return parseErr(p, SSOPROXY_PARSE, p->i, "expected ':' after key");
  }
  p->i++;
  return SSOPROXY_OK;
}

/* '[' or '{' at p->i. *pbOpen is cleared for an empty container (already
** closed), set when its first element (or first key and ':') comes next. */
static int openContainer(JsonParse *p, int *pbOpen){
  int bObj = p->z[p->i]=='{';
  SsoJson *pNode;
  int rc;
  if( p->nDepth>=SSO_JSON_MAX_DEPTH ){
    return parseErr(p, SSOPROXY_TOOBIG, p->i, "nesting too deep");
  }
  rc = pushNode(p, bObj ? SSO_JSON_OBJECT : SSO_JSON_ARRAY, p->i, &pNode);
  if( rc ) return rc;
  p->aFrame[p->nDepth++] = (uint32_t)(p->nStk - 1);
  p->i++;
  skipWs(p);
  if( p->i<p->n && p->z[p->i]==(bObj ? '}' : ']') ){
    p->i++;
    *pbOpen = 0;
    return closeContainer(p);
  }
  *pbOpen = 1;
  return bObj ? parseKey(p) : SSOPROXY_OK;
}

/* Parse one value at p->i: a whole scalar, or the start of a container. */
static int parseValue(JsonParse *p, int *pbOpen){
  uint8_t bNul = 0;
  SsoJson *pNode;
  int rc;
  *pbOpen = 0;
  skipWs(p);
  if( p->i>=p->n ) return unexpectedErr(p);
  switch( p->z[p->i] ){
    case '{': case '[':
      return openContainer(p, pbOpen);
    case '"': {
      const char *z = 0;
      uint32_t n = 0;
      size_t iOfs = p->i;
      rc = parseString(p, &z, &n, &bNul);
      if( rc ) return rc;
      rc = pushNode(p, SSO_JSON_STRING, iOfs, &pNode);
      if( rc ) return rc;
      pNode->u.z = z;
      pNode->n = n;
      if( bNul ) pNode->mFlag |= JSONF_NUL;
      return SSOPROXY_OK;
    }
    case 't': case 'f': case 'n':
      return parseLiteral(p);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return parseNumber(p);
    default:
      return unexpectedErr(p);
  }
}

/*
** After a complete value: close containers, or find the comma (and, in
** an object, the next key) that leads to the next value. *pbEnd is set
** when the top-level value is complete.
*/
static int afterValue(JsonParse *p, int *pbEnd){
  int rc;
  *pbEnd = 0;
  while( p->nDepth>0 ){
    int bObj = p->aStk[p->aFrame[p->nDepth-1]].eType==SSO_JSON_OBJECT;
    unsigned char cClose = bObj ? '}' : ']';
    skipWs(p);
    if( p->i>=p->n ) return unexpectedErr(p);
    if( p->z[p->i]==',' ){
      size_t iComma = p->i++;
      skipWs(p);
      if( p->i<p->n && p->z[p->i]==cClose ){
        return parseErr(p, SSOPROXY_PARSE, iComma, "trailing comma");
      }
      return bObj ? parseKey(p) : SSOPROXY_OK;
    }
    if( p->z[p->i]!=cClose ){
      if( p->z[p->i]=='/' ) return unexpectedErr(p);
      return parseErr(p, SSOPROXY_PARSE, p->i,
                      bObj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->i++;
    rc = closeContainer(p);
    if( rc ) return rc;
  }
  *pbEnd = 1;
  return SSOPROXY_OK;
}

/* The whole text: one value, then only whitespace (RFC 8259 §2). */
static int parseText(JsonParse *p){
  int rc, bOpen, bEnd;
  if( p->n==0 ) return parseErr(p, SSOPROXY_PARSE, 0, "empty input");
  if( p->n>=3 && memcmp(p->z, "\xef\xbb\xbf", 3)==0 ){
    return parseErr(p, SSOPROXY_PARSE, 0, "byte order mark not allowed");
  }
  for(;;){
    rc = parseValue(p, &bOpen);
    if( rc ) return rc;
    if( bOpen ) continue;
    rc = afterValue(p, &bEnd);
    if( rc ) return rc;
    if( bEnd ) break;
  }
  skipWs(p);
  if( p->i<p->n ){
    if( p->z[p->i]=='/' ) return unexpectedErr(p);
    return parseErr(p, SSOPROXY_PARSE, p->i,
                    "trailing characters after the value");
  }
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoJsonParse(const char *z, size_t n, unsigned mFlags,
                             SsoJsonDoc **ppDoc, SsoJsonErr *pErr){
  JsonParse sParse, *p = &sParse;   /* ~1.5 KB: fine on any thread stack */
  SsoJsonErr sErr;
  SsoArena arena;
  SsoJsonDoc *pDoc;
  SsoJson *pRoot = 0;
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
  p->pArena = &arena;
  p->aStk = p->aStkSpace;
  p->nStkAlloc = JSON_STACK_INIT;
  pDoc = ssoArenaAlloc(&arena, sizeof(*pDoc));
  rc = pDoc ? parseText(p) : nomemErr(p);
  if( rc==SSOPROXY_OK ){
    assert( p->nStk==1 && p->nDepth==0 );
    pRoot = ssoArenaAlloc(&arena, sizeof(*pRoot));
    if( pRoot==0 ) rc = nomemErr(p);
  }
  if( rc==SSOPROXY_OK ){
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
  snprintf(zBuf+nBuf, sizeof(zBuf)-nBuf, "e%lld", iExp);
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

SSO_PRIVATE void ssoJsonWriteInt64(SsoJsonWriter *w, long long i){
  if( wBeforeValue(w) ) ssoBufPrintf(w->pBuf, "%lld", i);
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
  /* The fewest significant digits that read back as exactly r... */
  for(nDigit=1; nDigit<=17; nDigit++){
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
** A parsed value, recursively. The recursion is bounded: a parsed tree is
** at most SSO_JSON_MAX_DEPTH deep and wBegin() refuses to go deeper.
** Strings and names came through the parser, so their UTF-8 is valid.
*/
static void writeValue(SsoJsonWriter *w, const SsoJson *p){
  uint32_t i;
  if( w->rc ) return;
  switch( p->eType ){
    case SSO_JSON_NULL:   ssoJsonWriteNull(w); break;
    case SSO_JSON_TRUE:   ssoJsonWriteBool(w, 1); break;
    case SSO_JSON_FALSE:  ssoJsonWriteBool(w, 0); break;
    case SSO_JSON_NUMBER: ssoJsonWriteRaw(w, p->u.z, p->n); break;
    case SSO_JSON_STRING:
      if( wBeforeValue(w) ) ssoBufAppendJsonString(w->pBuf, p->u.z, p->n);
      break;
    case SSO_JSON_ARRAY:
      wBegin(w, 0);
      for(i=0; i<p->n; i++) writeValue(w, &p->u.a[i]);
      wEnd(w, 0);
      break;
    case SSO_JSON_OBJECT:
      wBegin(w, 1);
      for(i=0; i<p->n; i++){
        wKey(w, p->u.a[i].zKey, p->u.a[i].nKey);
        writeValue(w, &p->u.a[i]);
      }
      wEnd(w, 1);
      break;
    default:
      wError(w, SSOPROXY_MISUSE);
      break;
  }
}

SSO_PRIVATE void ssoJsonWriteValue(SsoJsonWriter *w, const SsoJson *p){
  if( p==0 ){
    wError(w, SSOPROXY_MISUSE);
  }else{
    writeValue(w, p);
  }
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
