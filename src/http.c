/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 2: the HTTP/1.1 message parser (RFC 9112), used by the server for
** requests and by the outbound client for responses. It is pure: it works
** on the caller's buffer, hands out (pointer, length) views, keeps no
** state between calls beyond the "previous length" the caller passes
** back, and never allocates. The head is scanned for its end only in the
** bytes that are new since the last call (picohttpparser's last_len idea),
** then parsed in full exactly once.
**
** It is strict on purpose. Request smuggling and response splitting live
** in the gaps between two parsers that disagree about where a message
** ends; every lenient rule here (bare LF, folded lines, "Content-Length"
** spelled twice, "chunked" that is not last) is such a gap, so each is a
** 400 instead of a guess. The chunked decoder is incremental and bounds
** the framing overhead a peer may send per byte of data.
*/
#include "ssoInt.h"

/*
** tchar (RFC 9110 §5.6.2): the bytes of a token (method, field name,
** transfer coding). 1 = allowed.
*/
static const unsigned char aTchar[256] = {
  /* 0x00 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
  /* 0x10 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
  /*  !"#$%&' */ 0,1,0,1,1,1,1,1,
  /* ()*+,-./ */ 0,0,1,1,0,1,1,0,
  /* 01234567 */ 1,1,1,1,1,1,1,1,
  /* 89:;<=>? */ 1,1,0,0,0,0,0,0,
  /* @ABCDEFG */ 0,1,1,1,1,1,1,1,
  /* HIJKLMNO */ 1,1,1,1,1,1,1,1,
  /* PQRSTUVW */ 1,1,1,1,1,1,1,1,
  /* XYZ[\]^_ */ 1,1,1,0,0,0,1,1,
  /* `abcdefg */ 1,1,1,1,1,1,1,1,
  /* hijklmno */ 1,1,1,1,1,1,1,1,
  /* pqrstuvw */ 1,1,1,1,1,1,1,1,
  /* xyz{|}~  */ 1,1,1,0,1,0,1,0,
  /* 0x80 and above: never in a token */
};

/* field-vchar / SP / HTAB (RFC 9110 §5.5): no CTL, no DEL. obs-text ok. */
static int isValueByte(unsigned char c){
  return c>=0x20 ? c!=0x7f : c=='\t';
}

SSO_PRIVATE int ssoHttpIsToken(const char *z, size_t n){
  size_t i;
  if( n==0 ) return 0;
  for(i=0; i<n; i++){
    if( !aTchar[(unsigned char)z[i]] ) return 0;
  }
  return 1;
}

static int lowerAscii(int c){
  return (c>='A' && c<='Z') ? c+('a'-'A') : c;
}

SSO_PRIVATE int ssoHttpStrIEqFull(SsoStr s, const char *z){
  size_t i;
  for(i=0; i<s.n; i++){
    if( z[i]==0 || lowerAscii((unsigned char)s.z[i])!=lowerAscii(z[i]) ){
      return 0;
    }
  }
  return z[i]==0;
}

SSO_PRIVATE int ssoHttpHeaderFind(const SsoHttpHead *p, const char *zName,
                                  SsoStr *pVal){
  int i;
  for(i=0; i<p->nHdr; i++){
    if( ssoHttpStrIEq(p->aHdr[i].name, zName) ){
      if( pVal ) *pVal = p->aHdr[i].value;
      return 1;
    }
  }
  return 0;
}

/*
** ---- Finding the end of the head ------------------------------------
**
** RFC 9112 §2.2: a recipient may skip empty lines before the start line;
** we skip up to four so a keep-alive client's stray CRLF after a body is
** harmless, and refuse more (a stream of CRLFs is not a request).
** Returns the offset of the start line, SSO_HTTP_PARTIAL, or -400.
*/
static int skipEmptyLines(const char *z, size_t n){
  size_t i = 0;
  int nLine = 0;
  while( i<n && z[i]=='\r' ){
    if( i+1>=n ) return SSO_HTTP_PARTIAL;
    if( z[i+1]!='\n' || ++nLine>4 ) return -400;
    i += 2;
  }
  if( i<n && z[i]=='\n' ) return -400;
  return (int)i;
}

/*
** Look for the CRLF CRLF that ends the head, examining only LFs at or
** after iFrom. Every LF must follow a CR: a bare LF is a line end to some
** parsers and not to others (RFC 9112 §2.2 allows recipients to accept
** it; we do not, as that is a classic desync). Returns the offset just
** past the head, 0 if not found yet, or -1 on a bare LF.
*/
static long findHeadEnd(const char *z, size_t n, size_t iStart,
                        size_t iFrom){
  const char *p = z + iFrom, *zEnd = z + n;
  while( p<zEnd ){
    const char *pLf = memchr(p, '\n', (size_t)(zEnd-p));
    size_t i;
    if( pLf==0 ) return 0;
    i = (size_t)(pLf - z);
    if( i<=iStart || z[i-1]!='\r' ) return -1;
    if( i>=iStart+3 && z[i-2]=='\n' && z[i-3]=='\r' ) return (long)(i+1);
    p = pLf + 1;
  }
  return 0;
}

/*
** Common front end of both head parsers: skip empty lines, check the
** limits that apply while the head is still incomplete, and find its end.
** Returns the head length (>0), SSO_HTTP_PARTIAL, or -status where
** eLine/eHead are the statuses for an over-long first line or head.
*/
static long scanHead(const char *z, size_t n, size_t nLast,
                     const SsoHttpLimits *pLim, int eLine, int eHead,
                     int eBad, size_t *piStart){
  int iStart = skipEmptyLines(z, n);
  size_t iFrom;
  long iEnd;
  if( iStart<0 ) return iStart==SSO_HTTP_PARTIAL ? iStart : -eBad;
  *piStart = (size_t)iStart;
  if( (size_t)iStart==n ) return SSO_HTTP_PARTIAL;
  /* A start line begins with a token character (method or "HTTP"); say
  ** no at once to a TLS hello or binary noise sent to a plain port. */
  if( !aTchar[(unsigned char)z[iStart]] ) return -eBad;
  iFrom = nLast>(size_t)iStart ? nLast : (size_t)iStart;
  if( iFrom>n ) iFrom = (size_t)iStart;
  iEnd = findHeadEnd(z, n, (size_t)iStart, iFrom);
  if( iEnd<0 ) return -eBad;
  if( iEnd>0 ){
    if( (size_t)iEnd-(size_t)iStart > pLim->mxHead ) return -eHead;
    return iEnd;
  }
  /* Incomplete. A first line that has already outgrown its limit is
  ** checked once, on the call whose bytes cross the limit. */
  if( n-(size_t)iStart > pLim->mxLine+1
   && (nLast<=(size_t)iStart || nLast-(size_t)iStart <= pLim->mxLine+1)
   && memchr(z+iStart, '\n', pLim->mxLine+2)==0 ){
    return -eLine;
  }
  if( n-(size_t)iStart >= pLim->mxHead ) return -eHead;
  return SSO_HTTP_PARTIAL;
}

/*
** ---- Parsing a complete head ----------------------------------------
**
** Within a complete head every LF is known to follow a CR, so a line is
** "bytes up to CR LF"; a CR anywhere else is a control byte and refused.
*/

/* Length of the line at z[i..), up to but excluding its CR. */
static size_t lineLen(const char *z, size_t i, size_t iEnd){
  const char *p = memchr(z+i, '\n', iEnd-i);
  assert( p!=0 && p>z+i && p[-1]=='\r' );
  return (size_t)(p - (z+i)) - 1;
}

/* "HTTP/1.1" and friends. Returns minor (0/1), -505 or -400. */
static int parseVersion(const char *z, size_t n){
  if( n!=8 || memcmp(z, "HTTP/", 5)!=0 || z[6]!='.'
   || z[5]<'0' || z[5]>'9' || z[7]<'0' || z[7]>'9' ){
    return -400;
  }
  if( z[5]!='1' || z[7]>'1' ) return -505;
  return z[7]-'0';
}

/* Request line: method SP request-target SP HTTP-version (§3). */
static int parseRequestLine(const char *z, size_t n, SsoHttpHead *p){
  size_t i = 0, iTarget;
  int iMinor;
  while( i<n && aTchar[(unsigned char)z[i]] ) i++;
  if( i==0 || i>=n || z[i]!=' ' ) return -400;
  p->method.z = z;
  p->method.n = i;
  iTarget = ++i;
  /* The target is visible ASCII only: no CTL, no space, no raw 8-bit
  ** (RFC 3986 §2; §3.2 of RFC 9112 has no obs-text here). */
  while( i<n && z[i]>0x20 && z[i]<0x7f ) i++;
  if( i==iTarget || i>=n || z[i]!=' ' ) return -400;
  p->target.z = z + iTarget;
  p->target.n = i - iTarget;
  iMinor = parseVersion(z+i+1, n-i-1);
  if( iMinor<0 ) return iMinor;
  p->iMinor = iMinor;
  return 0;
}

/* Status line: HTTP-version SP 3DIGIT SP [reason] (§4). */
static int parseStatusLine(const char *z, size_t n, SsoHttpHead *p){
  size_t i;
  int iMinor;
  if( n<12 || z[8]!=' ' ) return -502;
  iMinor = parseVersion(z, 8);
  if( iMinor<0 ) return -502;
  p->iMinor = iMinor;
  if( z[9]<'1' || z[9]>'9' || z[10]<'0' || z[10]>'9'
   || z[11]<'0' || z[11]>'9' ){
    return -502;
  }
  p->iStatus = (z[9]-'0')*100 + (z[10]-'0')*10 + (z[11]-'0');
  /* "HTTP/1.1 204\r\n" without the SP is common enough to accept. */
  if( n>12 && z[12]!=' ' ) return -502;
  for(i=13; i<n; i++){
    if( !isValueByte((unsigned char)z[i]) ) return -502;
  }
  p->reason.z = z + (n>13 ? 13 : n);
  p->reason.n = n>13 ? n-13 : 0;
  return 0;
}

/*
** One field line: field-name ":" OWS field-value OWS (§5). A name with
** whitespace before the colon is refused (§5.1: a known smuggling trick),
** as is a line starting with whitespace (obs-fold, §5.2).
*/
static int parseField(const char *z, size_t n, SsoHttpHeader *pHdr){
  size_t i = 0, iVal, iEnd;
  while( i<n && aTchar[(unsigned char)z[i]] ) i++;
  if( i==0 || i>=n || z[i]!=':' ) return -400;
  pHdr->name.z = z;
  pHdr->name.n = i;
  i++;
  while( i<n && (z[i]==' ' || z[i]=='\t') ) i++;
  iVal = i;
  for(; i<n; i++){
    if( !isValueByte((unsigned char)z[i]) ) return -400;
  }
  iEnd = n;
  while( iEnd>iVal && (z[iEnd-1]==' ' || z[iEnd-1]=='\t') ) iEnd--;
  pHdr->value.z = z + iVal;
  pHdr->value.n = iEnd - iVal;
  return 0;
}

/*
** Content-Length = 1*DIGIT (§6.2). We cap it at 2^60 so arithmetic on it
** can never overflow, and refuse the "5, 5" list form: two values for the
** length of one body is what smuggling attacks are made of.
*/
static int parseLength(SsoStr v, unsigned long long *pn){
  unsigned long long n = 0;
  size_t i;
  if( v.n==0 || v.n>18 ) return -400;
  for(i=0; i<v.n; i++){
    if( v.z[i]<'0' || v.z[i]>'9' ) return -400;
    n = n*10 + (unsigned)(v.z[i]-'0');
  }
  if( n>((unsigned long long)1<<60) ) return -400;
  *pn = n;
  return 0;
}

/*
** Iterate the comma-separated elements of a list field (RFC 9110 §5.6.1),
** skipping empty elements and OWS. Returns 0 at the end.
*/
static int nextListItem(SsoStr v, size_t *pi, SsoStr *pItem){
  size_t i = *pi, iStart;
  while( i<v.n && (v.z[i]==',' || v.z[i]==' ' || v.z[i]=='\t') ) i++;
  if( i>=v.n ){
    *pi = i;
    return 0;
  }
  iStart = i;
  while( i<v.n && v.z[i]!=',' ) i++;
  pItem->z = v.z + iStart;
  pItem->n = i - iStart;
  while( pItem->n>0 && (pItem->z[pItem->n-1]==' '
                        || pItem->z[pItem->n-1]=='\t') ){
    pItem->n--;
  }
  *pi = i;
  return 1;
}

/* What the framing fields of one head said, before they are judged. */
typedef struct Framing Framing;
struct Framing {
  int nLength;          /* Content-Length fields seen */
  int nCoding;          /* Transfer-Encoding fields seen */
  int nHost;            /* Host fields seen */
  int bChunkedOnly;     /* Transfer-Encoding was exactly "chunked" */
  int bChunkedLast;     /* ... or at least ended with "chunked" */
  int bKeepAlive;       /* Connection: keep-alive */
  int bClose;           /* Connection: close */
  int bContinue;        /* Expect: 100-continue */
  int bBadExpect;       /* Expect: anything else */
  unsigned long long nBody;
};

static int noteTransferCoding(SsoStr v, Framing *f){
  size_t i = 0;
  SsoStr item, last = {0, 0};
  int nItem = 0;
  while( nextListItem(v, &i, &item) ){
    last = item;
    nItem++;
  }
  f->bChunkedLast = nItem>0 && ssoHttpStrIEq(last, "chunked");
  f->bChunkedOnly = nItem==1 && f->bChunkedLast;
  return 0;
}

static void noteConnection(SsoStr v, Framing *f){
  size_t i = 0;
  SsoStr item;
  while( nextListItem(v, &i, &item) ){
    if( ssoHttpStrIEq(item, "close") ) f->bClose = 1;
    else if( ssoHttpStrIEq(item, "keep-alive") ) f->bKeepAlive = 1;
  }
}

/* Record one field that affects framing. Returns 0 or -400. */
static int noteField(const SsoHttpHeader *h, Framing *f){
  switch( h->name.n ){
    case 4:
      if( ssoHttpStrIEq(h->name, "host") ) f->nHost++;
      break;
    case 6:
      if( ssoHttpStrIEq(h->name, "expect") ){
        if( ssoHttpStrIEq(h->value, "100-continue") ) f->bContinue = 1;
        else f->bBadExpect = 1;
      }
      break;
    case 10:
      if( ssoHttpStrIEq(h->name, "connection") ) noteConnection(h->value, f);
      break;
    case 14:
      if( ssoHttpStrIEq(h->name, "content-length") ){
        if( ++f->nLength>1 ) return -400;
        return parseLength(h->value, &f->nBody);
      }
      break;
    case 17:
      if( ssoHttpStrIEq(h->name, "transfer-encoding") ){
        if( ++f->nCoding>1 ) return -400;
        return noteTransferCoding(h->value, f);
      }
      break;
  }
  return 0;
}

/*
** Parse the field lines of a complete head from z[i..iEnd). Stores the
** fields in p->aHdr and the framing facts in *f. Returns 0, -400, -431.
*/
static int parseFields(const char *z, size_t i, size_t iEnd,
                       SsoHttpHead *p, Framing *f){
  memset(f, 0, sizeof(*f));
  p->nHdr = 0;
  for(;;){
    size_t n = lineLen(z, i, iEnd);
    int rc;
    if( n==0 ) break;
    if( z[i]==' ' || z[i]=='\t' ) return -400;      /* obs-fold, §5.2 */
    if( p->nHdr>=p->mxHdr ) return -431;
    rc = parseField(z+i, n, &p->aHdr[p->nHdr]);
    if( rc==0 ) rc = noteField(&p->aHdr[p->nHdr], f);
    if( rc ) return rc;
    p->nHdr++;
    i += n + 2;
  }
  return 0;
}

static void clearHead(SsoHttpHead *p){
  SsoHttpHeader *aHdr = p->aHdr;
  int mxHdr = p->mxHdr;
  memset(p, 0, sizeof(*p));
  p->aHdr = aHdr;
  p->mxHdr = mxHdr;
}

/*
** Message framing for a request (RFC 9112 §6.1-6.3). Both length fields
** at once, or any coding but a lone "chunked", leaves the end of the body
** ambiguous between us and whatever sits in front of us: 400 and close.
*/
static int requestFraming(SsoHttpHead *p, const Framing *f){
  if( f->nCoding ){
    if( f->nLength || !f->bChunkedOnly || p->iMinor==0 ) return -400;
    p->eBody = SSO_HTTP_BODY_CHUNKED;
  }else if( f->nLength && f->nBody>0 ){
    p->eBody = SSO_HTTP_BODY_LENGTH;
    p->nBody = f->nBody;
  }
  /* §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0. */
  if( f->nHost>1 || (p->iMinor==1 && f->nHost==0) ) return -400;
  /* RFC 9110 §10.1.1: a 1.0 request's expectation is ignored. */
  if( p->iMinor==1 ){
    if( f->bBadExpect ) return -417;
    p->bContinue = (unsigned char)f->bContinue;
  }
  p->bClose = (unsigned char)(p->iMinor==0 ? !f->bKeepAlive : f->bClose);
  return 0;
}

/*
** Response framing (RFC 9112 §6.3 rules 3-8), from the fields alone.
** Both length fields, or a coding list whose last element is chunked but
** that also has codings we cannot undo, are refused rather than guessed.
*/
static int responseFraming(SsoHttpHead *p, const Framing *f){
  if( f->nCoding ){
    if( f->nLength || p->iMinor==0 ) return -502;
    if( f->bChunkedOnly ) p->eBody = SSO_HTTP_BODY_CHUNKED;
    else if( f->bChunkedLast ) return -502;
    else p->eBody = SSO_HTTP_BODY_EOF;
  }else if( f->nLength ){
    p->eBody = f->nBody ? SSO_HTTP_BODY_LENGTH : SSO_HTTP_BODY_NONE;
    p->nBody = f->nBody;
  }else{
    p->eBody = SSO_HTTP_BODY_EOF;
  }
  p->bClose = (unsigned char)(p->iMinor==0 ? !f->bKeepAlive : f->bClose);
  if( p->eBody==SSO_HTTP_BODY_EOF ) p->bClose = 1;
  return 0;
}

/*
** What differs between parsing a request head and a response head: the
** start line, the framing rules, and the statuses for a line too long, a
** head too big and a malformed head. A server answers a bad request with
** 414/431/400; a client treats any bad response as 502 Bad Gateway.
*/
typedef struct HeadKind HeadKind;
struct HeadKind {
  int (*xStartLine)(const char*, size_t, SsoHttpHead*);
  int (*xFraming)(SsoHttpHead*, const Framing*);
  int stLine, stHead, stBad;
};

static int parseHead(const char *z, size_t n, size_t nLast,
                     const SsoHttpLimits *pLim, SsoHttpHead *p,
                     const HeadKind *k){
  size_t iStart = 0, nLine;
  long iEnd = scanHead(z, n, nLast, pLim, k->stLine, k->stHead, k->stBad,
                       &iStart);
  Framing f;
  int rc;
  if( iEnd<0 ) return (int)iEnd;
  clearHead(p);
  nLine = lineLen(z, iStart, (size_t)iEnd);
  if( nLine>pLim->mxLine ) return -k->stLine;
  rc = k->xStartLine(z+iStart, nLine, p);
  if( rc==0 ) rc = parseFields(z, iStart+nLine+2, (size_t)iEnd, p, &f);
  /* Every error in a response is the same 502. */
  if( rc<0 && k->stBad==502 ) rc = -502;
  if( rc==0 ) rc = k->xFraming(p, &f);
  return rc ? rc : (int)iEnd;
}

SSO_PRIVATE int ssoHttpParseRequest(const char *z, size_t n, size_t nLast,
                                    const SsoHttpLimits *pLim,
                                    SsoHttpHead *p){
  static const HeadKind kind = { parseRequestLine, requestFraming,
                                 414, 431, 400 };
  return parseHead(z, n, nLast, pLim, p, &kind);
}

SSO_PRIVATE int ssoHttpParseResponse(const char *z, size_t n, size_t nLast,
                                     const SsoHttpLimits *pLim,
                                     SsoHttpHead *p){
  static const HeadKind kind = { parseStatusLine, responseFraming,
                                 502, 502, 502 };
  return parseHead(z, n, nLast, pLim, p, &kind);
}

/*
** ---- Chunked transfer coding (RFC 9112 §7.1) -------------------------
**
**   chunked-body = *chunk last-chunk trailer-section CRLF
**   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
**   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
**
** Extensions are checked for control bytes and skipped: nothing we serve
** gives them meaning. Each size line and trailer line is bounded, and so
** is the framing as a whole relative to the data it carries, so a peer
** cannot make us burn CPU on a megabyte of "1;xxxx...\r\nA\r\n".
*/
enum {
  CH_SIZE0,     /* First hex digit of a size */
  CH_SIZE,      /* More hex digits, BWS, ';' or CR */
  CH_BWS,       /* Whitespace after the size: only ';' may follow */
  CH_EXT,       /* Inside the extensions, up to CR */
  CH_SIZE_LF,   /* CR seen after the size line */
  CH_DATA,      /* nLeft bytes of data */
  CH_DATA_CR,   /* CR after the data */
  CH_DATA_LF,   /* LF after the data */
  CH_TRAILER0,  /* Start of a trailer line or the final CRLF */
  CH_TNAME,     /* Trailer field name */
  CH_TVALUE,    /* Trailer field value, up to CR */
  CH_TRAILER_LF,/* LF ending a trailer line */
  CH_END_LF,    /* LF of the final empty line */
  CH_DONE
};

SSO_PRIVATE void ssoHttpChunkedInit(SsoHttpChunked *p, size_t mxLine,
                                    size_t mxOver){
  memset(p, 0, sizeof(*p));
  p->eState = CH_SIZE0;
  p->mxLine = mxLine;
  p->mxOver = mxOver;
}

static int hexValue(unsigned char c){
  if( c>='0' && c<='9' ) return c-'0';
  c = (unsigned char)lowerAscii(c);
  if( c>='a' && c<='f' ) return c-'a'+10;
  return -1;
}

/* Advance the framing grammar by one byte. Returns 0 or -400. */
static int chunkStep(SsoHttpChunked *p, unsigned char c){
  int h;
  p->nOver++;
  if( ++p->nLine > p->mxLine ) return -400;
  switch( p->eState ){
    case CH_SIZE0:
      if( (h = hexValue(c))<0 ) return -400;
      p->nLeft = (unsigned)h;
      p->nDigit = h ? 1 : 0;
      p->eState = CH_SIZE;
      return 0;
    case CH_SIZE:
      if( (h = hexValue(c))>=0 ){
        if( p->nDigit || h ) p->nDigit++;
        if( p->nDigit>15 ) return -400;          /* over 2^60 */
        p->nLeft = p->nLeft*16 + (unsigned)h;
        return 0;
      }
      if( c==' ' || c=='\t' ){ p->eState = CH_BWS; return 0; }
      /* fall through */
    case CH_BWS:
      if( c==' ' || c=='\t' ) return 0;
      if( c==';' ){ p->eState = CH_EXT; return 0; }
      if( c=='\r' && p->eState==CH_SIZE ){ p->eState = CH_SIZE_LF; return 0; }
      return -400;
    case CH_EXT:
      if( c=='\r' ){ p->eState = CH_SIZE_LF; return 0; }
      return isValueByte(c) ? 0 : -400;
    case CH_SIZE_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = p->nLeft ? CH_DATA : CH_TRAILER0;
      return 0;
    case CH_DATA_CR:
      if( c!='\r' ) return -400;
      p->eState = CH_DATA_LF;
      return 0;
    case CH_DATA_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = CH_SIZE0;
      return 0;
    case CH_TRAILER0:
      if( c=='\r' ){ p->eState = CH_END_LF; return 0; }
      if( !aTchar[c] ) return -400;
      p->eState = CH_TNAME;
      return 0;
    case CH_TNAME:
      if( c==':' ){ p->eState = CH_TVALUE; return 0; }
      return aTchar[c] ? 0 : -400;
    case CH_TVALUE:
      if( c=='\r' ){ p->eState = CH_TRAILER_LF; return 0; }
      return isValueByte(c) ? 0 : -400;
    case CH_TRAILER_LF:
      if( c!='\n' ) return -400;
      p->nLine = 0;
      p->eState = CH_TRAILER0;
      return 0;
    case CH_END_LF:
      if( c!='\n' ) return -400;
      p->eState = CH_DONE;
      return 0;
  }
  return -400;
}

SSO_PRIVATE int ssoHttpChunkedDecode(SsoHttpChunked *p, const char *zIn,
                                     size_t nIn, char *zOut, size_t *pnIn,
                                     size_t *pnOut){
  size_t i = 0, nOut = 0;
  int rc = 0;
  while( i<nIn && p->eState!=CH_DONE ){
    if( p->eState==CH_DATA ){
      size_t n = nIn - i;
      if( (unsigned long long)n > p->nLeft ) n = (size_t)p->nLeft;
      if( zOut+nOut!=zIn+i ) memmove(zOut+nOut, zIn+i, n);
      nOut += n;
      i += n;
      p->nLeft -= n;
      p->nData += n;
      if( p->nLeft==0 ) p->eState = CH_DATA_CR;
      continue;
    }
    rc = chunkStep(p, (unsigned char)zIn[i]);
    if( rc ) break;
    i++;
    if( p->nOver>p->mxOver && p->nOver>p->nData ){
      rc = -400;
      break;
    }
  }
  *pnIn = i;
  *pnOut = nOut;
  if( rc ) return rc;
  return p->eState==CH_DONE ? 1 : 0;
}

/* ---- Status codes (RFC 9110 §15) ------------------------------------ */
SSO_PRIVATE const char *ssoHttpReason(int iStatus){
  switch( iStatus ){
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "";
}
