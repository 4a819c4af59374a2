/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 1: URLs. Parsing absolute URLs (RFC 3986), percent-encoding
** (§2.1) and the application/x-www-form-urlencoded format used by query
** strings and OAuth token requests (WHATWG URL §5, RFC 6749 Appendix B).
**
** Its users decide security questions with what it returns: the OIDC
** relying party builds authorization URLs and reads ?code=&state= from
** callbacks, the OAuth flows decide whether a redirect_uri is loopback
** (RFC 8252 §7.3) or on an allow-list, the HTTP client connects to the
** host and port it reports. So the parser is strict rather than
** forgiving: where browsers, resolvers and RFC 3986 might read a string
** differently (backslashes, "127.1", '@' in odd places, raw spaces or
** non-ASCII bytes) it refuses the string instead of guessing, and every
** refusal carries the offset of the first bad byte.
**
** Parsing never allocates until the whole URL has been checked; then all
** parts are copied into one arena block (lower-casing scheme and host),
** so the caller frees a URL with its arena.
*/
#include "ssoInt.h"

/*
** Character classes, one bit per part of a URL (RFC 3986 §2.2, §2.3,
** §3.1-§3.5). Table-driven so each byte costs one lookup.
*/
#define U_SCHEME 0x01   /* ALPHA DIGIT + - . */
#define U_HOST   0x02   /* ALPHA DIGIT - . _ (our reg-name subset) */
#define U_USER   0x04   /* unreserved sub-delims : */
#define U_PATH   0x08   /* pchar and '/': unreserved sub-delims : @ / */
#define U_QUERY  0x10   /* query and fragment: U_PATH and '?' */
#define U_UNRES  0x20   /* unreserved: ALPHA DIGIT - . _ ~ */
#define U_FORM   0x40   /* kept by the form encoder: ALPHA DIGIT * - . _ */
#define U_HEX    0x80   /* HEXDIG */
static const unsigned char aClass[256] = {
  /* 0x00..0x1f: control bytes, nothing */
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0x00,0x1c,0x00,0x00,0x1c,0x00,0x1c,0x1c,  /* 20    ! " # $ % & ' */
  0x1c,0x1c,0x5c,0x1d,0x1c,0x7f,0x7f,0x18,  /* 28  ( ) * + , - . / */
  0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,  /* 30  0 1 2 3 4 5 6 7 */
  0xff,0xff,0x1c,0x1c,0x00,0x1c,0x00,0x10,  /* 38  8 9 : ; < = > ? */
  0x18,0xff,0xff,0xff,0xff,0xff,0xff,0x7f,  /* 40  @ A B C D E F G */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 48  H I J K L M N O */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 50  P Q R S T U V W */
  0x7f,0x7f,0x7f,0x00,0x00,0x00,0x00,0x7e,  /* 58  X Y Z [ \ ] ^ _ */
  0x00,0xff,0xff,0xff,0xff,0xff,0xff,0x7f,  /* 60  ` a b c d e f g */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 68  h i j k l m n o */
  0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,  /* 70  p q r s t u v w */
  0x7f,0x7f,0x7f,0x00,0x00,0x00,0x3c,0x00,  /* 78  x y z { | } ~ DEL */
  /* 0x80..0xff: nothing; bytes outside ASCII must be percent-encoded */
};

static int hexVal(unsigned char c){
  if( (aClass[c] & U_HEX)==0 ) return -1;
  return c<='9' ? c-'0' : (c|0x20)-'a'+10;
}

static int isHexEscape(const char *z, size_t i, size_t iEnd){
  return i+2<iEnd && (aClass[(unsigned char)z[i+1]] & U_HEX)
                  && (aClass[(unsigned char)z[i+2]] & U_HEX);
}

/*
** Every byte of z[i..iEnd) must be in class m or start a %XX escape
** (§2.1). Returns SSOPROXY_PARSE with *piBad at the first that is not.
*/
static int checkPart(const char *z, size_t i, size_t iEnd, unsigned m,
                     size_t *piBad){
  for(; i<iEnd; i++){
    unsigned char c = (unsigned char)z[i];
    if( aClass[c] & m ) continue;
    if( c=='%' && isHexEscape(z, i, iEnd) ){
      i += 2;
      continue;
    }
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/* The default port of http and https (RFC 9110 §4.2.1, §4.2.2). */
SSO_PRIVATE int ssoUrlDefaultPort(const char *zScheme, size_t nScheme){
  if( nScheme==4 && strncmp(zScheme, "http", 4)==0 ) return 80;
  if( nScheme==5 && strncmp(zScheme, "https", 5)==0 ) return 443;
  return 0;
}

/* ssoUrlDefaultPort() for a scheme not yet lower-cased. */
static int schemeDefaultPort(const char *z, size_t n){
  char zLower[6];
  size_t k;
  if( n>5 ) return 0;
  for(k=0; k<n; k++) zLower[k] = (char)(z[k] | 0x20);
  return ssoUrlDefaultPort(zLower, n);
}

/*
** A dotted-quad IPv4 address, exactly as RFC 3986 §3.2.2 IPv4address:
** four dec-octets 0..255 without leading zeros. Returns 1 if z[0..n) is
** one, with the address in a[0..4).
*/
static int parseIpv4(const char *z, size_t n, unsigned char *a){
  size_t i = 0;
  int k;
  for(k=0; k<4; k++){
    size_t j = i;
    unsigned v = 0;
    while( j<n && j-i<3 && z[j]>='0' && z[j]<='9' ){
      v = v*10 + (unsigned)(z[j]-'0');
      j++;
    }
    if( j==i || v>255 || (z[i]=='0' && j-i>1) ) return 0;
    a[k] = (unsigned char)v;
    i = j;
    if( k<3 ){
      if( i>=n || z[i]!='.' ) return 0;
      i++;
    }
  }
  return i==n;
}

/*
** An IPv6 address (RFC 3986 §3.2.2 IPv6address, RFC 4291 §2.2): up to
** eight groups of 1-4 hex digits, at most one "::" standing for one or
** more zero groups, optionally ending in a dotted quad. z[0..n) is the
** text between the brackets. Zone ids (RFC 6874 "%25eth0") are refused
** like any other stray byte: a zone means nothing off the host that
** wrote it. Returns SSOPROXY_OK with a[0..16) set, or SSOPROXY_PARSE with
** *piBad an offset into z.
*/
static int parseIpv6(const char *z, size_t n, unsigned char *a,
                     size_t *piBad){
  unsigned aGroup[8];
  int nGroup = 0, iGap = -1, k;
  size_t i = 0;
  if( n>=2 && z[0]==':' && z[1]==':' ){
    iGap = 0;
    i = 2;
  }
  while( i<n ){
    size_t j = i;
    unsigned v = 0;
    while( j<n && j-i<4 && hexVal((unsigned char)z[j])>=0 ){
      v = v*16 + (unsigned)hexVal((unsigned char)z[j]);
      j++;
    }
    if( j<n && z[j]=='.' ){
      /* ls32 as a dotted quad: the rest of the text, two groups' worth */
      unsigned char a4[4];
      if( nGroup>6 || !parseIpv4(z+i, n-i, a4) ){ *piBad = i; goto bad; }
      aGroup[nGroup++] = (unsigned)a4[0]<<8 | a4[1];
      aGroup[nGroup++] = (unsigned)a4[2]<<8 | a4[3];
      i = n;
      break;
    }
    if( j==i || nGroup==8 ){ *piBad = j; goto bad; }
    if( j<n && hexVal((unsigned char)z[j])>=0 ){ *piBad = j; goto bad; }
    aGroup[nGroup++] = v;
    i = j;
    if( i==n ) break;
    if( z[i]!=':' || i+1==n ){ *piBad = i; goto bad; }
    i++;
    if( z[i]==':' ){
      if( iGap>=0 ){ *piBad = i; goto bad; }
      iGap = nGroup;
      i++;
    }
  }
  if( (iGap<0 && nGroup!=8) || (iGap>=0 && nGroup>7) ){
    *piBad = n;
    goto bad;
  }
  memset(a, 0, 16);
  for(k=0; k<nGroup; k++){
    int iAt = (iGap>=0 && k>=iGap) ? k + (8-nGroup) : k;
    a[2*iAt] = (unsigned char)(aGroup[k]>>8);
    a[2*iAt+1] = (unsigned char)(aGroup[k] & 0xff);
  }
  return SSOPROXY_OK;
bad:
  return SSOPROXY_PARSE;
}

/*
** Write a[0..16) as RFC 5952 §4 text: lower-case hex, no leading zeros,
** the longest run of two or more zero groups (the first if tied) as
** "::". Returns the length; zOut holds at least 40 bytes.
*/
static size_t formatIpv6(const unsigned char *a, char *zOut){
  int k, iBest = -1, nBest = 1, iRun = -1;
  size_t o = 0;
  for(k=0; k<=8; k++){
    int bZero = k<8 && a[2*k]==0 && a[2*k+1]==0;
    if( bZero && iRun<0 ) iRun = k;
    if( !bZero && iRun>=0 ){
      if( k-iRun>nBest ){ iBest = iRun; nBest = k-iRun; }
      iRun = -1;
    }
  }
  for(k=0; k<8; k++){
    if( k==iBest ){
      zOut[o++] = ':';
      zOut[o++] = ':';
      k += nBest-1;
      continue;
    }
    if( o>0 && zOut[o-1]!=':' ) zOut[o++] = ':';
    o += (size_t)snprintf(zOut+o, 5, "%x", (unsigned)a[2*k]<<8 | a[2*k+1]);
  }
  zOut[o] = 0;
  return o;
}

/*
** A reg-name host, in the subset DNS can carry: labels of ALPHA DIGIT
** '-' '_' separated by single dots, each 1..63 bytes, 253 in all
** (RFC 1035 §2.3.4). Percent-escapes and sub-delims, which RFC 3986
** allows but no resolver means the same way, are refused. A host whose
** last label is a number is an IPv4 address to browsers and to
** inet_aton() ("127.1", "0x7f.0.0.1", "2130706433" are all 127.0.0.1),
** so it must be a strict dotted quad or it is refused.
*/
static int parseHostName(const char *z, size_t i, size_t iEnd, SsoUrl *p,
                         size_t *piBad){
  size_t j, iLabel = i;
  int bNumber = 1, bHex = 0;
  if( iEnd-i>253 ){ *piBad = i+253; return SSOPROXY_PARSE; }
  for(j=i; j<=iEnd; j++){
    unsigned char c = j<iEnd ? (unsigned char)z[j] : '.';
    if( c=='.' ){
      if( j==iLabel || j-iLabel>63 ){
        *piBad = j==iLabel ? j : iLabel+63;
        return SSOPROXY_PARSE;
      }
      if( j<iEnd ){
        iLabel = j+1;
        bNumber = 1;
        bHex = 0;
      }
      continue;
    }
    if( (aClass[c] & U_HOST)==0 ){ *piBad = j; return SSOPROXY_PARSE; }
    /* Track whether the current label is a number (WHATWG "ends in a
    ** number"): all digits, or "0x" followed by hex digits. */
    if( j==iLabel+1 && z[iLabel]=='0' && (c|0x20)=='x' ){
      bHex = 1;
    }else if( !(c>='0' && c<='9') && !(bHex && (aClass[c] & U_HEX)) ){
      bNumber = 0;
    }
  }
  p->host.z = z+i;
  p->host.n = iEnd-i;
  if( !bNumber ){
    p->eHost = SSO_URL_HOST_NAME;
  }else if( parseIpv4(z+i, iEnd-i, p->aAddr) ){
    p->eHost = SSO_URL_HOST_IPV4;
  }else{
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/* port = 1..65535 in decimal, no sign, no leading zero. */
static int parsePort(const char *z, size_t i, size_t iEnd, int *piPort,
                     size_t *piBad){
  long v = 0;
  size_t j;
  if( i==iEnd || z[i]=='0' ){ *piBad = i; return SSOPROXY_PARSE; }
  for(j=i; j<iEnd; j++){
    if( z[j]<'0' || z[j]>'9' ){ *piBad = j; return SSOPROXY_PARSE; }
    v = v*10 + (z[j]-'0');
    if( v>65535 ){ *piBad = j; return SSOPROXY_PARSE; }
  }
  *piPort = (int)v;
  return SSOPROXY_OK;
}

/*
** authority = [ userinfo "@" ] host [ ":" port ]  (§3.2), in z[i..iEnd).
** userinfo cannot contain '@', so the first '@' ends it and a second one
** lands in the host, where it is refused: "http://a@b@c" has no reading
** we could be sure a browser shares.
*/
static int parseAuthority(const char *z, size_t i, size_t iEnd, SsoUrl *p,
                          size_t *piBad){
  size_t iAt = i, iHostEnd, j;
  int rc;
  while( iAt<iEnd && z[iAt]!='@' ) iAt++;
  if( iAt<iEnd ){
    rc = checkPart(z, i, iAt, U_USER, piBad);
    if( rc ) return rc;
    p->bUserinfo = 1;
    p->userinfo.z = z+i;
    p->userinfo.n = iAt-i;
    i = iAt+1;
  }
  p->host.z = z+i;
  if( i<iEnd && z[i]=='[' ){
    size_t iLocal = 0;
    j = i+1;
    while( j<iEnd && z[j]!=']' ) j++;
    if( j==iEnd ){ *piBad = iEnd; return SSOPROXY_PARSE; }
    if( parseIpv6(z+i+1, j-i-1, p->aAddr, &iLocal) ){
      *piBad = i+1+iLocal;
      return SSOPROXY_PARSE;
    }
    p->eHost = SSO_URL_HOST_IPV6;
    p->host.z = z+i+1;
    p->host.n = j-i-1;
    iHostEnd = j+1;
  }else{
    j = i;
    while( j<iEnd && z[j]!=':' ) j++;
    if( j>i ){
      rc = parseHostName(z, i, j, p, piBad);
      if( rc ) return rc;
    }
    iHostEnd = j;
  }
  if( iHostEnd<iEnd ){
    if( z[iHostEnd]!=':' ){ *piBad = iHostEnd; return SSOPROXY_PARSE; }
    rc = parsePort(z, iHostEnd+1, iEnd, &p->iPort, piBad);
    if( rc ) return rc;
    p->bPort = 1;
  }
  if( p->eHost==SSO_URL_HOST_NONE && (p->bUserinfo || p->bPort) ){
    *piBad = i;
    return SSOPROXY_PARSE;
  }
  return SSOPROXY_OK;
}

/*
** URI = scheme ":" [ "//" authority ] path [ "?" query ] [ "#" fragment ]
** (§3). Fills *p with views into z; nothing is copied yet.
*/
static int parseUrl(const char *z, size_t n, SsoUrl *p, size_t *piBad){
  size_t i = 0, iEnd;
  int rc, iDefault;
  /* §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
  if( n==0 || (z[0]|0x20)<'a' || (z[0]|0x20)>'z' ){
    *piBad = 0;
    return SSOPROXY_PARSE;
  }
  while( i<n && (aClass[(unsigned char)z[i]] & U_SCHEME) ) i++;
  if( i==n || z[i]!=':' ){ *piBad = i; return SSOPROXY_PARSE; }
  p->scheme.z = z;
  p->scheme.n = i;
  i++;
  if( i+1<n && z[i]=='/' && z[i+1]=='/' ){
    p->bAuthority = 1;
    i += 2;
    iEnd = i;
    while( iEnd<n && z[iEnd]!='/' && z[iEnd]!='?' && z[iEnd]!='#' ) iEnd++;
    rc = parseAuthority(z, i, iEnd, p, piBad);
    if( rc ) return rc;
    i = iEnd;
  }
  iEnd = i;
  while( iEnd<n && z[iEnd]!='?' && z[iEnd]!='#' ) iEnd++;
  rc = checkPart(z, i, iEnd, U_PATH, piBad);
  if( rc ) return rc;
  p->path.z = z+i;
  p->path.n = iEnd-i;
  i = iEnd;
  if( i<n && z[i]=='?' ){
    i++;
    iEnd = i;
    while( iEnd<n && z[iEnd]!='#' ) iEnd++;
    rc = checkPart(z, i, iEnd, U_QUERY, piBad);
    if( rc ) return rc;
    p->bQuery = 1;
    p->query.z = z+i;
    p->query.n = iEnd-i;
    i = iEnd;
  }
  if( i<n ){
    assert( z[i]=='#' );
    i++;
    rc = checkPart(z, i, n, U_QUERY, piBad);
    if( rc ) return rc;
    p->bFragment = 1;
    p->fragment.z = z+i;
    p->fragment.n = n-i;
  }
  /* http(s) URIs must have a non-empty host (RFC 9110 §4.2.1). The scheme
  ** is compared case-insensitively (§3.1) before it is lower-cased. */
  iDefault = schemeDefaultPort(p->scheme.z, p->scheme.n);
  if( iDefault ){
    if( !p->bAuthority ){ *piBad = p->scheme.n+1; return SSOPROXY_PARSE; }
    if( p->eHost==SSO_URL_HOST_NONE ){
      *piBad = (size_t)(p->host.z - z);
      return SSOPROXY_PARSE;
    }
  }
  if( !p->bPort ) p->iPort = iDefault;
  return SSOPROXY_OK;
}

/* Copy s to *pz, optionally lower-cased, NUL-terminated; s points there. */
static void putPart(char **pz, SsoStr *s, int bLower){
  char *zOut = *pz;
  size_t k;
  for(k=0; k<s->n; k++){
    char c = s->z[k];
    zOut[k] = (bLower && c>='A' && c<='Z') ? (char)(c+32) : c;
  }
  zOut[s->n] = 0;
  s->z = zOut;
  *pz = zOut + s->n + 1;
}

/* Move every part from the input into one arena block. */
static int copyParts(SsoArena *pArena, SsoUrl *p){
  size_t nAll = p->scheme.n + p->userinfo.n + p->host.n + p->path.n
              + p->query.n + p->fragment.n + 6 + 40;
  char *z = ssoArenaAlloc(pArena, nAll);
  if( z==0 ) return SSOPROXY_NOMEM;
  putPart(&z, &p->scheme, 1);
  putPart(&z, &p->userinfo, 0);
  if( p->eHost==SSO_URL_HOST_IPV6 ){
    p->host.n = formatIpv6(p->aAddr, z);
    p->host.z = z;
    z += p->host.n + 1;
  }else{
    putPart(&z, &p->host, 1);
  }
  putPart(&z, &p->path, 0);
  putPart(&z, &p->query, 0);
  putPart(&z, &p->fragment, 0);
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoUrlParse(SsoArena *pArena, const char *z, size_t n,
                            SsoUrl *pUrl, size_t *piErr){
  size_t iBad = 0;
  int rc;
  memset(pUrl, 0, sizeof(*pUrl));
  if( n>SSO_URL_MAX ){
    iBad = SSO_URL_MAX;
    rc = SSOPROXY_TOOBIG;
    goto end;
  }
  rc = parseUrl(z, n, pUrl, &iBad);
  if( rc ) goto end;
  rc = copyParts(pArena, pUrl);
end:
  if( rc ){
    memset(pUrl, 0, sizeof(*pUrl));
    pUrl->scheme.z = pUrl->userinfo.z = pUrl->host.z = "";
    pUrl->path.z = pUrl->query.z = pUrl->fragment.z = "";
    if( piErr && rc!=SSOPROXY_NOMEM ) *piErr = iBad;
  }
  return rc;
}

SSO_PRIVATE int ssoUrlIsLocalPath(const char *z, size_t n){
  size_t i;
  if( n==0 || n>SSO_URL_MAX || z[0]!='/' ) return 0;
  if( n>1 && (z[1]=='/' || z[1]=='\\') ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c<=0x20 || c>=0x7f || c=='\\' ) return 0;
  }
  return 1;
}

SSO_PRIVATE int ssoUrlIsLoopback(const SsoUrl *p){
  static const unsigned char aLoop6[16] = {0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1};
  if( p->eHost==SSO_URL_HOST_IPV4 ) return p->aAddr[0]==127;
  if( p->eHost==SSO_URL_HOST_IPV6 ) return memcmp(p->aAddr, aLoop6, 16)==0;
  return 0;
}

SSO_PRIVATE void ssoUrlAppendHostPort(SsoBuf *pBuf, const SsoUrl *p){
  int bV6 = p->eHost==SSO_URL_HOST_IPV6;
  if( bV6 ) ssoBufAppendChar(pBuf, '[');
  ssoBufAppend(pBuf, p->host.z, p->host.n);
  if( bV6 ) ssoBufAppendChar(pBuf, ']');
  if( p->iPort && p->iPort!=ssoUrlDefaultPort(p->scheme.z, p->scheme.n) ){
    ssoBufAppendChar(pBuf, ':');
    ssoBufAppendUint(pBuf, (unsigned)p->iPort);
  }
}

SSO_PRIVATE int ssoUrlAppendOrigin(SsoBuf *pBuf, const SsoUrl *p){
  if( p->eHost==SSO_URL_HOST_NONE ) return SSOPROXY_PARSE;
  ssoBufAppend(pBuf, p->scheme.z, p->scheme.n);
  ssoBufAppend(pBuf, "://", 3);
  ssoUrlAppendHostPort(pBuf, p);
  return pBuf->rc;
}

SSO_PRIVATE void ssoUrlAppendTarget(SsoBuf *pBuf, const SsoUrl *p){
  if( p->path.n ) ssoBufAppend(pBuf, p->path.z, p->path.n);
  else ssoBufAppendChar(pBuf, '/');
  if( p->bQuery ){
    ssoBufAppendChar(pBuf, '?');
    ssoBufAppend(pBuf, p->query.z, p->query.n);
  }
}

SSO_PRIVATE void ssoUrlAppend(SsoBuf *pBuf, const SsoUrl *p){
  ssoBufAppend(pBuf, p->scheme.z, p->scheme.n);
  ssoBufAppendChar(pBuf, ':');
  if( p->bAuthority ){
    int bV6 = p->eHost==SSO_URL_HOST_IPV6;
    ssoBufAppend(pBuf, "//", 2);
    if( p->bUserinfo ){
      ssoBufAppend(pBuf, p->userinfo.z, p->userinfo.n);
      ssoBufAppendChar(pBuf, '@');
    }
    if( bV6 ) ssoBufAppendChar(pBuf, '[');
    ssoBufAppend(pBuf, p->host.z, p->host.n);
    if( bV6 ) ssoBufAppendChar(pBuf, ']');
    if( p->bPort ) ssoBufPrintf(pBuf, ":%d", p->iPort);
  }
  ssoBufAppend(pBuf, p->path.z, p->path.n);
  if( p->bQuery ){
    ssoBufAppendChar(pBuf, '?');
    ssoBufAppend(pBuf, p->query.z, p->query.n);
  }
  if( p->bFragment ){
    ssoBufAppendChar(pBuf, '#');
    ssoBufAppend(pBuf, p->fragment.z, p->fragment.n);
  }
}

/* ---------------------------------------------------------------------
** Percent-encoding
*/

SSO_PRIVATE void ssoUrlEncode(SsoBuf *pBuf, const char *z, size_t n,
                              unsigned mFlags){
  static const char zHex[] = "0123456789ABCDEF";
  unsigned char mKeep = (mFlags & SSO_URL_FORM) ? U_FORM : U_UNRES;
  size_t i, iRun = 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    char aEsc[3];
    if( aClass[c] & mKeep ) continue;
    ssoBufAppend(pBuf, z+iRun, i-iRun);
    iRun = i+1;
    if( c==' ' && (mFlags & SSO_URL_FORM) ){
      ssoBufAppendChar(pBuf, '+');
      continue;
    }
    aEsc[0] = '%';
    aEsc[1] = zHex[c>>4];
    aEsc[2] = zHex[c&15];
    ssoBufAppend(pBuf, aEsc, 3);
  }
  ssoBufAppend(pBuf, z+iRun, n-iRun);
}

SSO_PRIVATE int ssoUrlDecode(const char *z, size_t n, unsigned mFlags,
                             char *zOut, size_t *pnOut, size_t *piErr){
  size_t i, o = 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    size_t iAt = i;
    if( c=='%' ){
      if( !isHexEscape(z, i, n) ) goto bad;
      c = (unsigned char)(hexVal((unsigned char)z[i+1])<<4
                          | hexVal((unsigned char)z[i+2]));
      i += 2;
    }else if( c=='+' && (mFlags & SSO_URL_FORM) ){
      c = ' ';
    }
    if( c==0 && (mFlags & SSO_URL_NONUL) ) goto bad;
    zOut[o++] = (char)c;
    continue;
  bad:
    zOut[o] = 0;
    *pnOut = 0;
    if( piErr ) *piErr = iAt;
    return SSOPROXY_PARSE;
  }
  zOut[o] = 0;
  *pnOut = o;
  return SSOPROXY_OK;
}

SSO_PRIVATE int ssoUrlDecodeArena(SsoArena *pArena, const char *z, size_t n,
                                  unsigned mFlags, SsoStr *pOut,
                                  size_t *piErr){
  char *zOut = ssoArenaAlloc(pArena, n+1);
  size_t nOut = 0;
  int rc;
  pOut->z = "";
  pOut->n = 0;
  if( zOut==0 ) return SSOPROXY_NOMEM;
  rc = ssoUrlDecode(z, n, mFlags, zOut, &nOut, piErr);
  if( rc==SSOPROXY_OK ){
    pOut->z = zOut;
    pOut->n = nOut;
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Query strings and form bodies
*/

SSO_PRIVATE int ssoFormParse(SsoArena *pArena, const char *z, size_t n,
                             SsoForm *pForm, size_t *piErr){
  SsoFormParam *aParam;
  char *zText;
  size_t i, iStart = 0, iBad = 0;
  int nPair = 0, k = 0, rc = SSOPROXY_OK;
  pForm->aParam = 0;
  pForm->nParam = 0;
  /* First pass: count the non-empty pairs, so that a body of a million
  ** '&'-separated pairs costs nothing before it is refused. */
  for(i=0; i<=n; i++){
    if( i<n && z[i]!='&' ) continue;
    if( i>iStart && ++nPair>SSO_FORM_MAX_PARAMS ){
      if( piErr ) *piErr = iStart;
      return SSOPROXY_TOOBIG;
    }
    iStart = i+1;
  }
  if( nPair==0 ) return SSOPROXY_OK;
  /* Decoded text is never longer than the input: n bytes plus a NUL
  ** after each name and each value is enough for all of it. */
  aParam = ssoArenaAlloc(pArena, sizeof(SsoFormParam)*(size_t)nPair);
  zText = ssoArenaAlloc(pArena, n + 2*(size_t)nPair);
  if( aParam==0 || zText==0 ) return SSOPROXY_NOMEM;
  iStart = 0;
  for(i=0; i<=n && rc==SSOPROXY_OK; i++){
    const char *zEq;
    size_t nName, iErr = 0;
    if( i<n && z[i]!='&' ) continue;
    if( i>iStart ){
      SsoFormParam *pP = &aParam[k++];
      zEq = memchr(z+iStart, '=', i-iStart);
      nName = zEq ? (size_t)(zEq - (z+iStart)) : i-iStart;
      rc = ssoUrlDecode(z+iStart, nName, SSO_URL_FORM|SSO_URL_NONUL, zText,
                        &pP->name.n, &iErr);
      if( rc ){ iBad = iStart + iErr; break; }
      pP->name.z = zText;
      zText += pP->name.n + 1;
      if( zEq ){
        size_t iVal = iStart + nName + 1;
        rc = ssoUrlDecode(z+iVal, i-iVal, SSO_URL_FORM|SSO_URL_NONUL, zText,
                          &pP->value.n, &iErr);
        if( rc ){ iBad = iVal + iErr; break; }
      }else{
        zText[0] = 0;
        pP->value.n = 0;
      }
      pP->value.z = zText;
      zText += pP->value.n + 1;
    }
    iStart = i+1;
  }
  if( rc ){
    if( piErr ) *piErr = iBad;
    return rc;
  }
  assert( k==nPair );
  pForm->aParam = aParam;
  pForm->nParam = nPair;
  return SSOPROXY_OK;
}

static int nameIs(const SsoStr *pName, const char *zName, size_t nName){
  return pName->n==nName && memcmp(pName->z, zName, nName)==0;
}

SSO_PRIVATE int ssoFormCount(const SsoForm *pForm, const char *zName){
  size_t nName = strlen(zName);
  int i, nFound = 0;
  for(i=0; i<pForm->nParam; i++){
    if( nameIs(&pForm->aParam[i].name, zName, nName) ) nFound++;
  }
  return nFound;
}

SSO_PRIVATE int ssoFormGet(const SsoForm *pForm, const char *zName,
                           SsoStr *pValue){
  size_t nName = strlen(zName);
  const SsoFormParam *pFound = 0;
  int i;
  if( pValue ){
    pValue->z = "";
    pValue->n = 0;
  }
  for(i=0; i<pForm->nParam; i++){
    if( !nameIs(&pForm->aParam[i].name, zName, nName) ) continue;
    if( pFound ) return SSOPROXY_CONSTRAINT;
    pFound = &pForm->aParam[i];
  }
  if( pFound==0 ) return SSOPROXY_NOTFOUND;
  if( pValue ) *pValue = pFound->value;
  return SSOPROXY_OK;
}

/* Quadratic, but nParam is at most SSO_FORM_MAX_PARAMS. */
SSO_PRIVATE int ssoFormFirstDuplicate(const SsoForm *pForm){
  int i, j;
  for(i=1; i<pForm->nParam; i++){
    const SsoStr *pName = &pForm->aParam[i].name;
    for(j=0; j<i; j++){
      if( nameIs(&pForm->aParam[j].name, pName->z, pName->n) ) return i;
    }
  }
  return -1;
}

SSO_PRIVATE void ssoFormAppend(SsoBuf *pBuf, const char *const *azPair,
                               int nPair){
  int k;
  for(k=0; k<nPair; k++){
    const char *zName = azPair[2*k], *zValue = azPair[2*k+1];
    if( zValue==0 ) continue;
    if( pBuf->n>0 && pBuf->z[pBuf->n-1]!='?' && pBuf->z[pBuf->n-1]!='&' ){
      ssoBufAppendChar(pBuf, '&');
    }
    ssoUrlEncode(pBuf, zName, strlen(zName), SSO_URL_FORM);
    ssoBufAppendChar(pBuf, '=');
    ssoUrlEncode(pBuf, zValue, strlen(zValue), SSO_URL_FORM);
  }
}

SSO_PRIVATE int ssoUrlAppendQuery(SsoBuf *pBuf, const char *zUrl,
                                  size_t nUrl, const char *const *azPair,
                                  int nPair, int bKeepFragment){
  const char *zHash = nUrl ? memchr(zUrl, '#', nUrl) : 0;
  size_t nBase = zHash ? (size_t)(zHash - zUrl) : nUrl;
  int k, bAny = 0;
  if( zHash && !bKeepFragment ) return SSOPROXY_PARSE;
  for(k=0; k<nPair; k++) bAny |= azPair[2*k+1]!=0;
  ssoBufAppend(pBuf, zUrl, nBase);
  if( bAny ){
    /* The builder's last byte is now the URL's, so ssoFormAppend()
    ** adds '&' after an existing query and nothing after '?' or '&'. */
    if( nBase==0 || memchr(zUrl, '?', nBase)==0 ){
      ssoBufAppendChar(pBuf, '?');
    }
    ssoFormAppend(pBuf, azPair, nPair);
  }
  if( zHash ) ssoBufAppend(pBuf, zHash, nUrl-nBase);
  return pBuf->rc;
}

#undef U_SCHEME
#undef U_HOST
#undef U_USER
#undef U_PATH
#undef U_QUERY
#undef U_UNRES
#undef U_FORM
#undef U_HEX
