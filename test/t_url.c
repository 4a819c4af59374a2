/*
** Tests for the url module: RFC 3986 examples (§1.1.2, §3, §5.4), IP
** literals, ports at their boundaries, the strings attackers use to make
** a parser and a browser disagree about the host, percent-encoding in
** both modes, query/form parsing with duplicates and limits, query
** building, and allocation failures.
*/

/* Expected parts of a URL; NULL query/fragment means "absent". */
typedef struct UrlCase UrlCase;
struct UrlCase {
  const char *zUrl;
  const char *zScheme, *zUser, *zHost;
  int eHost, iPort;
  const char *zPath, *zQuery, *zFrag;
};

/* Parse p->zUrl and compare every part; returns the number of mismatches. */
static int urlCheckCase(const UrlCase *p){
  SsoArena a;
  SsoUrl u;
  size_t iErr = 0;
  int rc, nBad = 0;
  ssoArenaInit(&a, 0);
  rc = ssoUrlParse(&a, p->zUrl, strlen(p->zUrl), &u, &iErr);
  if( rc!=SSOPROXY_OK ){
    fprintf(stderr, "  %s: rc=%d at %d\n", p->zUrl, rc, (int)iErr);
    ssoArenaFree(&a);
    return 1;
  }
#define URL_PART(F, Z) \
  if( strcmp(u.F.z, (Z) ? (Z) : "")!=0 || u.F.n!=strlen((Z) ? (Z) : "") ){ \
    fprintf(stderr, "  %s: " #F " is \"%s\"\n", p->zUrl, u.F.z); nBad++; }
  URL_PART(scheme, p->zScheme);
  URL_PART(userinfo, p->zUser);
  URL_PART(host, p->zHost);
  URL_PART(path, p->zPath);
  URL_PART(query, p->zQuery);
  URL_PART(fragment, p->zFrag);
#undef URL_PART
  if( u.bUserinfo!=(p->zUser!=0) ) nBad++;
  if( u.bQuery!=(p->zQuery!=0) || u.bFragment!=(p->zFrag!=0) ) nBad++;
  if( u.eHost!=p->eHost || u.iPort!=p->iPort ){
    fprintf(stderr, "  %s: eHost=%d iPort=%d\n", p->zUrl, u.eHost, u.iPort);
    nBad++;
  }
  ssoArenaFree(&a);
  return nBad;
}

/* Parse z; returns rc and sets *piErr. */
static int urlParseRc(const char *z, size_t *piErr){
  SsoArena a;
  SsoUrl u;
  int rc;
  ssoArenaInit(&a, 0);
  *piErr = 99999;
  rc = ssoUrlParse(&a, z, strlen(z), &u, piErr);
  ssoArenaFree(&a);
  return rc;
}

#define N SSO_URL_HOST_NAME
#define V4 SSO_URL_HOST_IPV4
#define V6 SSO_URL_HOST_IPV6
#define NO SSO_URL_HOST_NONE

/* RFC 3986 §1.1.2 and the §3 example. */
static void test_url_rfc3986_examples(void){
  static const UrlCase aCase[] = {
    { "ftp://ftp.is.co.za/rfc/rfc1808.txt", "ftp", 0, "ftp.is.co.za", N, 0,
      "/rfc/rfc1808.txt", 0, 0 },
    { "http://www.ietf.org/rfc/rfc2396.txt", "http", 0, "www.ietf.org", N, 80,
      "/rfc/rfc2396.txt", 0, 0 },
    { "ldap://[2001:db8::7]/c=GB?objectClass?one", "ldap", 0, "2001:db8::7",
      V6, 0, "/c=GB", "objectClass?one", 0 },
    { "mailto:John.Doe@example.com", "mailto", 0, "", NO, 0,
      "John.Doe@example.com", 0, 0 },
    { "news:comp.infosystems.www.servers.unix", "news", 0, "", NO, 0,
      "comp.infosystems.www.servers.unix", 0, 0 },
    { "tel:+1-816-555-1212", "tel", 0, "", NO, 0, "+1-816-555-1212", 0, 0 },
    { "telnet://192.0.2.16:80/", "telnet", 0, "192.0.2.16", V4, 80, "/", 0, 0 },
    { "urn:oasis:names:specification:docbook:dtd:xml:4.1.2", "urn", 0, "", NO,
      0, "oasis:names:specification:docbook:dtd:xml:4.1.2", 0, 0 },
    { "foo://example.com:8042/over/there?name=ferret#nose", "foo", 0,
      "example.com", N, 8042, "/over/there", "name=ferret", "nose" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++) CHECK_INT( urlCheckCase(&aCase[i]), 0 );
}

/*
** RFC 3986 §5.4: the base URI and the absolute results of resolving the
** normal and abnormal examples (the parser does not resolve, so these
** are parse cases), and the relative references themselves, which an
** absolute-URL parser must refuse.
*/
static void test_url_rfc3986_5_4(void){
  static const UrlCase aCase[] = {
    { "http://a/b/c/d;p?q", "http", 0, "a", N, 80, "/b/c/d;p", "q", 0 },
    { "g:h", "g", 0, "", NO, 0, "h", 0, 0 },
    { "http://a/b/c/g", "http", 0, "a", N, 80, "/b/c/g", 0, 0 },
    { "http://a/b/c/g/", "http", 0, "a", N, 80, "/b/c/g/", 0, 0 },
    { "http://a/g", "http", 0, "a", N, 80, "/g", 0, 0 },
    { "http://g", "http", 0, "g", N, 80, "", 0, 0 },
    { "http://a/b/c/d;p?y", "http", 0, "a", N, 80, "/b/c/d;p", "y", 0 },
    { "http://a/b/c/g?y", "http", 0, "a", N, 80, "/b/c/g", "y", 0 },
    { "http://a/b/c/d;p?q#s", "http", 0, "a", N, 80, "/b/c/d;p", "q", "s" },
    { "http://a/b/c/g#s", "http", 0, "a", N, 80, "/b/c/g", 0, "s" },
    { "http://a/b/c/g?y#s", "http", 0, "a", N, 80, "/b/c/g", "y", "s" },
    { "http://a/b/c/;x", "http", 0, "a", N, 80, "/b/c/;x", 0, 0 },
    { "http://a/b/c/g;x", "http", 0, "a", N, 80, "/b/c/g;x", 0, 0 },
    { "http://a/b/c/g;x?y#s", "http", 0, "a", N, 80, "/b/c/g;x", "y", "s" },
    { "http://a/b/", "http", 0, "a", N, 80, "/b/", 0, 0 },
    { "http://a/", "http", 0, "a", N, 80, "/", 0, 0 },
    { "http://a/b/c/g.", "http", 0, "a", N, 80, "/b/c/g.", 0, 0 },
    { "http://a/b/c/..g", "http", 0, "a", N, 80, "/b/c/..g", 0, 0 },
    { "http://a/b/c/g;x=1/y", "http", 0, "a", N, 80, "/b/c/g;x=1/y", 0, 0 },
    { "http://a/b/c/g?y/./x", "http", 0, "a", N, 80, "/b/c/g", "y/./x", 0 },
    { "http://a/b/c/g#s/../x", "http", 0, "a", N, 80, "/b/c/g", 0, "s/../x" },
    { "http://a/../g", "http", 0, "a", N, 80, "/../g", 0, 0 },
  };
  static const struct { const char *z; size_t iErr; } aRel[] = {
    { "g", 1 }, { "./g", 0 }, { "g/", 1 }, { "/g", 0 }, { "//g", 0 },
    { "?y", 0 }, { "g?y", 1 }, { "#s", 0 }, { "g;x", 1 }, { ";x", 0 },
    { "", 0 }, { ".", 0 }, { "../g", 0 }, { "1http://a/", 0 },
    /* "http:g" is the strict parser's reading of §5.4.2; http needs an
    ** authority, so it is refused where the "//" should be. */
    { "http:g", 5 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++) CHECK_INT( urlCheckCase(&aCase[i]), 0 );
  for(i=0; i<SSO_ARRAYSIZE(aRel); i++){
    size_t iErr;
    CHECK_INT( urlParseRc(aRel[i].z, &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, aRel[i].iErr );
  }
}

/* The URLs ssoproxy's callers meet, and the normalisation applied. */
static void test_url_common_forms(void){
  static const UrlCase aCase[] = {
    { "HTTPS://IdP.Example.COM/Realms/A?X=Y#Z", "https", 0, "idp.example.com",
      N, 443, "/Realms/A", "X=Y", "Z" },
    { "https://idp.example.com:8443", "https", 0, "idp.example.com", N, 8443,
      "", 0, 0 },
    { "http://127.0.0.1:51234/callback?code=x&state=y", "http", 0,
      "127.0.0.1", V4, 51234, "/callback", "code=x&state=y", 0 },
    { "vscode://publisher.ext/auth-complete?x=1", "vscode", 0, "publisher.ext",
      N, 0, "/auth-complete", "x=1", 0 },
    { "cursor://anysphere.cursor-retrieval/cb", "cursor", 0,
      "anysphere.cursor-retrieval", N, 0, "/cb", 0, 0 },
    { "com.example.app:/oauth2redirect", "com.example.app", 0, "", NO, 0,
      "/oauth2redirect", 0, 0 },
    { "file:///etc/passwd", "file", 0, "", NO, 0, "/etc/passwd", 0, 0 },
    { "foo://@h", "foo", "", "h", N, 0, "", 0, 0 },
    { "http://u:p%40ss@h/", "http", "u:p%40ss", "h", N, 80, "/", 0, 0 },
    { "http://h/?", "http", 0, "h", N, 80, "/", "", 0 },
    { "http://h/#", "http", 0, "h", N, 80, "/", 0, "" },
    { "http://my_service.internal/x", "http", 0, "my_service.internal", N, 80,
      "/x", 0, 0 },
    { "http://0.0.0.0/", "http", 0, "0.0.0.0", V4, 80, "/", 0, 0 },
    { "http://255.255.255.255/", "http", 0, "255.255.255.255", V4, 80, "/", 0,
      0 },
    { "http://1.2.3.4a/", "http", 0, "1.2.3.4a", N, 80, "/", 0, 0 },
    { "http://0x.com/", "http", 0, "0x.com", N, 80, "/", 0, 0 },
    { "javascript:alert(1)", "javascript", 0, "", NO, 0, "alert(1)", 0, 0 },
    { "http://h/a%2Fb%20c?q=%E2%82%AC", "http", 0, "h", N, 80, "/a%2Fb%20c",
      "q=%E2%82%AC", 0 },
    { "http://h/!$&'()*+,;=:@-._~", "http", 0, "h", N, 80,
      "/!$&'()*+,;=:@-._~", 0, 0 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++) CHECK_INT( urlCheckCase(&aCase[i]), 0 );
}

/* IPv6 literals: accepted forms, RFC 5952 text, refusals. */
static void test_url_ipv6(void){
  static const struct { const char *zUrl, *zHost; } aOk[] = {
    { "http://[::1]/", "::1" },
    { "http://[::1]:8080/cb", "::1" },
    { "http://[2001:db8::1]/", "2001:db8::1" },
    { "http://[2001:DB8:0:0:0:0:0:1]/", "2001:db8::1" },
    { "http://[0:0:0:0:0:0:0:1]/", "::1" },
    { "http://[::]/", "::" },
    { "http://[1::]/", "1::" },
    { "http://[1:2:3:4:5:6:7:8]/", "1:2:3:4:5:6:7:8" },
    { "http://[1:2:3:4:5:6:7::]/", "1:2:3:4:5:6:7:0" },
    { "http://[::2:3:4:5:6:7:8]/", "0:2:3:4:5:6:7:8" },
    { "http://[2001:db8:0:0:1:0:0:1]/", "2001:db8::1:0:0:1" },
    { "http://[2001:0:0:1:0:0:0:1]/", "2001:0:0:1::1" },
    { "http://[1:0:1:0:1:0:1:0]/", "1:0:1:0:1:0:1:0" },
    { "http://[0001:0db8::00ff]/", "1:db8::ff" },
    { "http://[::ffff:192.0.2.1]/", "::ffff:c000:201" },
    { "http://[::1.2.3.4]/", "::102:304" },
    { "http://[1:2:3:4:5:6:1.2.3.4]/", "1:2:3:4:5:6:102:304" },
  };
  static const char *azBad[] = {
    "http://[::1%25eth0]/", "http://[fe80::1%eth0]/", "http://[v1.fe]/",
    "http://[1:2:3:4:5:6:7:8:9]/", "http://[1::2::3]/", "http://[:::]/",
    "http://[1:]/", "http://[:1]/", "http://[12345::]/", "http://[::g]/",
    "http://[1:2:3:4:5:6:7:8::]/", "http://[::1.2.3]/",
    "http://[::256.1.1.1]/", "http://[::01.2.3.4]/", "http://[]/",
    "http://[::1/", "http://[::1]x/", "http://[::1]:/", "http://[[::1]]/",
    "http://[1:2:3:4:5:6:7:1.2.3.4]/", "http://[::1.2.3.4:5]/",
    "http://::1/", "http://[1:2:3:4:5:6:7]/",
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    UrlCase c;
    SsoArena a;
    SsoUrl u;
    SsoBuf b;
    memset(&c, 0, sizeof(c));
    c.zUrl = aOk[i].zUrl;
    ssoArenaInit(&a, 0);
    CHECK_INT( ssoUrlParse(&a, c.zUrl, strlen(c.zUrl), &u, 0), SSOPROXY_OK );
    CHECK_INT( u.eHost, SSO_URL_HOST_IPV6 );
    CHECK_STR( u.host.z, aOk[i].zHost );
    /* The canonical text parses to the same address. */
    ssoBufInit(&b, 0);
    ssoUrlAppend(&b, &u);
    {
      SsoUrl u2;
      CHECK_INT( ssoUrlParse(&a, b.z, b.n, &u2, 0), SSOPROXY_OK );
      CHECK_MEM( u2.aAddr, u.aAddr, 16 );
      CHECK_STR( u2.host.z, u.host.z );
    }
    ssoBufFree(&b);
    ssoArenaFree(&a);
  }
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    size_t iErr;
    int rc = urlParseRc(azBad[i], &iErr);
    if( rc!=SSOPROXY_PARSE ) fprintf(stderr, "  accepted %s\n", azBad[i]);
    CHECK_INT( rc, SSOPROXY_PARSE );
    CHECK( iErr>=7 && iErr<strlen(azBad[i]) );
  }
  /* The offset points at the zone id's '%'. */
  {
    size_t iErr;
    CHECK_INT( urlParseRc("http://[fe80::1%25eth0]/", &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, 15 );
  }
}

/* Ports: 1..65535, explicit or the scheme default; origin and host. */
static void test_url_ports(void){
  static const struct { const char *z; int rc; int iPort; int bPort; } aCase[]={
    { "http://h/", SSOPROXY_OK, 80, 0 },
    { "https://h/", SSOPROXY_OK, 443, 0 },
    { "https://h:443/", SSOPROXY_OK, 443, 1 },
    { "http://h:1/", SSOPROXY_OK, 1, 1 },
    { "http://h:65535/", SSOPROXY_OK, 65535, 1 },
    { "http://h:65535", SSOPROXY_OK, 65535, 1 },
    { "http://h:8080?x", SSOPROXY_OK, 8080, 1 },
    { "foo://h/", SSOPROXY_OK, 0, 0 },
    { "foo://h:7/", SSOPROXY_OK, 7, 1 },
    { "http://h:0/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:65536/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:99999/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:4294967377/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:080/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:", SSOPROXY_PARSE, 0, 0 },
    { "http://h:8a/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:-1/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:+80/", SSOPROXY_PARSE, 0, 0 },
    { "http://h:80:80/", SSOPROXY_PARSE, 0, 0 },
    { "http://h: 80/", SSOPROXY_PARSE, 0, 0 },
    { "http://:80/", SSOPROXY_PARSE, 0, 0 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoArena a;
    SsoUrl u;
    int rc;
    ssoArenaInit(&a, 0);
    rc = ssoUrlParse(&a, aCase[i].z, strlen(aCase[i].z), &u, 0);
    if( rc!=aCase[i].rc ) fprintf(stderr, "  %s: rc=%d\n", aCase[i].z, rc);
    CHECK_INT( rc, aCase[i].rc );
    CHECK_INT( u.iPort, aCase[i].iPort );
    CHECK_INT( u.bPort, aCase[i].bPort );
    ssoArenaFree(&a);
  }
  /* Offsets: the '0' of port 0, the digit that overflows, the end. */
  {
    size_t iErr;
    CHECK_INT( urlParseRc("http://h:0/", &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, 9 );
    CHECK_INT( urlParseRc("http://h:65536/", &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, 13 );
    CHECK_INT( urlParseRc("http://h:/x", &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, 9 );
    CHECK_INT( urlParseRc("http://h:8a/", &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, 10 );
  }
  CHECK_INT( ssoUrlDefaultPort("http", 4), 80 );
  CHECK_INT( ssoUrlDefaultPort("https", 5), 443 );
  CHECK_INT( ssoUrlDefaultPort("ftp", 3), 0 );
  CHECK_INT( ssoUrlDefaultPort("httpx", 4), 80 );
}

/* Origins (RFC 6454) and Host header values. */
static void test_url_origin(void){
  static const struct { const char *z, *zOrigin, *zHostPort; } aCase[] = {
    { "https://App.Example.com:443/x?y#z", "https://app.example.com",
      "app.example.com" },
    { "https://app.example.com:8443/", "https://app.example.com:8443",
      "app.example.com:8443" },
    { "http://h:80", "http://h", "h" },
    { "http://h:443/", "http://h:443", "h:443" },
    { "https://h:80/", "https://h:80", "h:80" },
    { "http://[::1]:8080/cb", "http://[::1]:8080", "[::1]:8080" },
    { "http://[2001:DB8::1]/", "http://[2001:db8::1]", "[2001:db8::1]" },
    { "http://user:pw@h:81/", "http://h:81", "h:81" },
    { "vscode://publisher.ext/x", "vscode://publisher.ext", "publisher.ext" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoArena a;
    SsoUrl u;
    SsoBuf b;
    ssoArenaInit(&a, 0);
    CHECK_INT( ssoUrlParse(&a, aCase[i].z, strlen(aCase[i].z), &u, 0),
               SSOPROXY_OK );
    ssoBufInit(&b, 0);
    CHECK_INT( ssoUrlAppendOrigin(&b, &u), SSOPROXY_OK );
    CHECK_STR( ssoBufStr(&b), aCase[i].zOrigin );
    ssoBufTruncate(&b, 0);
    ssoUrlAppendHostPort(&b, &u);
    CHECK_STR( ssoBufStr(&b), aCase[i].zHostPort );
    ssoBufFree(&b);
    ssoArenaFree(&a);
  }
  /* No host, no origin. */
  {
    SsoArena a;
    SsoUrl u;
    SsoBuf b;
    ssoArenaInit(&a, 0);
    ssoBufInit(&b, 0);
    CHECK_INT( ssoUrlParse(&a, "mailto:x@y", 10, &u, 0), SSOPROXY_OK );
    CHECK_INT( ssoUrlAppendOrigin(&b, &u), SSOPROXY_PARSE );
    CHECK_INT( b.n, 0 );
    ssoBufFree(&b);
    ssoArenaFree(&a);
  }
}

/* Loopback means an IP literal in 127/8 or ::1, never a name. */
static void test_url_loopback(void){
  static const struct { const char *z; int bLoop; } aCase[] = {
    { "http://127.0.0.1:8080/cb", 1 },
    { "http://127.0.0.1/", 1 },
    { "http://127.255.255.254:1/", 1 },
    { "http://[::1]:5000/", 1 },
    { "http://[0:0:0:0:0:0:0:1]/", 1 },
    { "http://localhost:8080/cb", 0 },
    { "http://localhost./cb", -1 },
    { "http://128.0.0.1/", 0 },
    { "http://126.255.255.255/", 0 },
    { "http://10.0.0.1/", 0 },
    { "http://0.0.0.0/", 0 },
    { "http://0.0.0.127/", 0 },
    { "http://1.127.0.0/", 0 },
    { "http://[::2]/", 0 },
    { "http://[::]/", 0 },
    { "http://[::ffff:127.0.0.1]/", 0 },
    { "http://[1::1]/", 0 },
    { "http://127.0.0.1.nip.io/", 0 },
    { "http://127.1/", -1 },
    { "http://0x7f000001/", -1 },
    { "http://2130706433/", -1 },
    { "http://017700000001/", -1 },
    { "mailto:127.0.0.1", 0 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoArena a;
    SsoUrl u;
    int rc;
    ssoArenaInit(&a, 0);
    rc = ssoUrlParse(&a, aCase[i].z, strlen(aCase[i].z), &u, 0);
    if( aCase[i].bLoop<0 ){
      CHECK_INT( rc, SSOPROXY_PARSE );
    }else{
      CHECK_INT( rc, SSOPROXY_OK );
      if( ssoUrlIsLoopback(&u)!=aCase[i].bLoop ){
        fprintf(stderr, "  %s: loopback=%d\n", aCase[i].z,
                ssoUrlIsLoopback(&u));
      }
      CHECK_INT( ssoUrlIsLoopback(&u), aCase[i].bLoop );
    }
    ssoArenaFree(&a);
  }
}

/*
** Strings that make lenient parsers and browsers disagree about the host,
** or smuggle bytes into headers. Either refused at the given offset, or
** parsed with the host an RFC 3986 reader (and a browser) would use.
*/
static void test_url_attacks(void){
  static const struct { const char *z; size_t iErr; } aBad[] = {
    { "http://evil.com\\@good.com/", 15 },
    { "http://evil.com\\good.com/", 15 },
    { "http:\\\\evil.com/", 5 },
    { "http:/\\evil.com/", 6 },
    { "/\\evil.com", 0 },
    { "//evil.com/x", 0 },
    { "http:/evil.com", 5 },
    { "http:evil.com", 5 },
    { "https:///x", 8 },
    { "http://", 7 },
    { "http://a@b@c/", 10 },
    { "http://[::1]@evil.com/", 7 },
    { "http://good.com @evil.com/", 15 },
    { "http://127.0.0.1 /", 16 },
    { "http://h/a b", 10 },
    { "http://h/\r\nSet-Cookie:x=1", 9 },
    { "http://h/?a=\n", 12 },
    { "http://h/\t", 9 },
    { "http://h/\x7f", 9 },
    { "http://h/\xc3\xa9", 9 },
    { "http://h\xc3\xa9.com/", 8 },
    { "http://h/%", 9 },
    { "http://h/%4", 9 },
    { "http://h/%zz", 9 },
    { "http://h/?q=%G0", 12 },
    { "http://h/#%0", 10 },
    { "http://exa%6Dple.com/", 10 },
    { "http://example.com%2F.evil.com/", 18 },
    { "http://h/a\"b", 10 },
    { "http://h/<script>", 9 },
    { "http://h/a{b}", 10 },
    { "http://h/a|b", 10 },
    { "http://h/a^b", 10 },
    { "http://h/a`b", 10 },
    { "http://h/a[0]", 10 },
    { "http://h/#x#y", 11 },
    { "http://127.1/", 7 },
    { "http://0x7f.0.0.1/", 7 },
    { "http://0x7F.1/", 7 },
    { "http://2130706433/", 7 },
    { "http://127.0.0.01/", 7 },
    { "http://0177.0.0.1/", 7 },
    { "http://1.2.3.4.5/", 7 },
    { "http://256.0.0.1/", 7 },
    { "http://example.123/", 7 },
    { "http://example.0x1f/", 7 },
    { "http://example.com./", 19 },
    { "http://a..b/", 9 },
    { "http://.a/", 7 },
    { "http://a_b.c!d/", 12 },
    { "foo://u@/x", 8 },
    { "foo://:1/x", 6 },
    { "ht\ttp://h/", 2 },
    { "h%74tp://h/", 1 },
    { "http\0://h/", 4 },
  };
  static const UrlCase aOk[] = {
    { "http://good.com@evil.com/", "http", "good.com", "evil.com", N, 80, "/",
      0, 0 },
    { "http://good.com:443@evil.com/", "http", "good.com:443", "evil.com", N,
      80, "/", 0, 0 },
    { "http://evil.com#@good.com/", "http", 0, "evil.com", N, 80, "", 0,
      "@good.com/" },
    { "http://evil.com?@good.com/", "http", 0, "evil.com", N, 80, "",
      "@good.com/", 0 },
    { "http://evil.com/@good.com/", "http", 0, "evil.com", N, 80,
      "/@good.com/", 0, 0 },
    { "http://evil.com%2F@good.com/", "http", "evil.com%2F", "good.com", N, 80,
      "/", 0, 0 },
    { "http://h/%0d%0aSet-Cookie:x", "http", 0, "h", N, 80,
      "/%0d%0aSet-Cookie:x", 0, 0 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aBad); i++){
    SsoArena a;
    SsoUrl u;
    size_t iErr = 99999, n = strlen(aBad[i].z);
    int rc;
    if( strncmp(aBad[i].z, "http", 4)==0 && aBad[i].z[4]==0 ) n = 10;
    ssoArenaInit(&a, 0);
    rc = ssoUrlParse(&a, aBad[i].z, n, &u, &iErr);
    if( rc!=SSOPROXY_PARSE || iErr!=aBad[i].iErr ){
      fprintf(stderr, "  %s: rc=%d iErr=%d\n", aBad[i].z, rc, (int)iErr);
    }
    CHECK_INT( rc, SSOPROXY_PARSE );
    CHECK_INT( iErr, aBad[i].iErr );
    /* A refused URL leaves empty parts behind, never stale pointers. */
    CHECK( u.host.z!=0 && u.host.n==0 && u.eHost==SSO_URL_HOST_NONE );
    ssoArenaFree(&a);
  }
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++) CHECK_INT( urlCheckCase(&aOk[i]), 0 );
}

/* Size limits: the whole URL, a DNS label, a host name. */
static void test_url_limits(void){
  char *z = ssoMalloc(SSO_URL_MAX + 2);
  SsoArena a;
  SsoUrl u;
  size_t iErr = 0, n;
  CHECK( z!=0 );
  if( z==0 ) return;
  ssoArenaInit(&a, 0);
  memcpy(z, "http://h/", 9);
  memset(z+9, 'a', SSO_URL_MAX + 2 - 9);
  CHECK_INT( ssoUrlParse(&a, z, SSO_URL_MAX, &u, &iErr), SSOPROXY_OK );
  CHECK_INT( u.path.n, SSO_URL_MAX - 8 );
  CHECK_INT( ssoUrlParse(&a, z, SSO_URL_MAX+1, &u, &iErr), SSOPROXY_TOOBIG );
  CHECK_INT( iErr, SSO_URL_MAX );
  /* A 63-byte label is fine, 64 is not. */
  memcpy(z, "http://", 7);
  memset(z+7, 'b', 64);
  memcpy(z+7+63, ".com/", 5);
  CHECK_INT( ssoUrlParse(&a, z, 7+63+5, &u, &iErr), SSOPROXY_OK );
  CHECK_INT( u.host.n, 67 );
  memset(z+7, 'b', 64);
  memcpy(z+7+64, ".com/", 5);
  CHECK_INT( ssoUrlParse(&a, z, 7+64+5, &u, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 7+63 );
  /* A 253-byte host is fine, 254 is not. Labels of 49 'c' and a dot. */
  for(n=0; n<260; n++) z[7+n] = (n%50==49) ? '.' : 'c';
  z[7+253] = '/';
  CHECK_INT( ssoUrlParse(&a, z, 7+253+1, &u, &iErr), SSOPROXY_OK );
  CHECK_INT( u.host.n, 253 );
  z[7+253] = 'c';
  z[7+254] = '/';
  CHECK_INT( ssoUrlParse(&a, z, 7+254+1, &u, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 7+253 );
  ssoArenaFree(&a);
  ssoFree(z);
}

/* Rebuilding from parts, and the request target for the HTTP client. */
static void test_url_rebuild(void){
  static const struct { const char *z, *zBuilt, *zTarget; } aCase[] = {
    { "HTTP://Example.COM:8080/a/b?c=d#e", "http://example.com:8080/a/b?c=d#e",
      "/a/b?c=d" },
    { "https://h", "https://h", "/" },
    { "https://h?x", "https://h?x", "/?x" },
    { "https://h:443/", "https://h:443/", "/" },
    { "http://u:p@[2001:DB8::0:1]:81/p?#", "http://u:p@[2001:db8::1]:81/p?#",
      "/p?" },
    { "mailto:a@b.c?subject=hi", "mailto:a@b.c?subject=hi",
      "a@b.c?subject=hi" },
    { "foo:////x", "foo:////x", "//x" },
    { "file:///etc/hosts", "file:///etc/hosts", "/etc/hosts" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoArena a;
    SsoUrl u;
    SsoBuf b;
    ssoArenaInit(&a, 0);
    ssoBufInit(&b, 0);
    CHECK_INT( ssoUrlParse(&a, aCase[i].z, strlen(aCase[i].z), &u, 0),
               SSOPROXY_OK );
    ssoUrlAppend(&b, &u);
    CHECK_STR( ssoBufStr(&b), aCase[i].zBuilt );
    ssoBufTruncate(&b, 0);
    ssoUrlAppendTarget(&b, &u);
    CHECK_STR( ssoBufStr(&b), aCase[i].zTarget );
    ssoBufFree(&b);
    ssoArenaFree(&a);
  }
}

/* Percent-encoding: component vs form, and every byte value. */
static void test_url_encode(void){
  static const struct { const char *zIn, *zComp, *zForm; } aVec[] = {
    { "", "", "" },
    { "abcXYZ019-._", "abcXYZ019-._", "abcXYZ019-._" },
    { "a b", "a%20b", "a+b" },
    { "~", "~", "%7E" },
    { "*", "%2A", "*" },
    { "+", "%2B", "%2B" },
    { "a&b=c/d?e#f", "a%26b%3Dc%2Fd%3Fe%23f", "a%26b%3Dc%2Fd%3Fe%23f" },
    { "%", "%25", "%25" },
    { "\xc3\xa9\xe2\x82\xac", "%C3%A9%E2%82%AC", "%C3%A9%E2%82%AC" },
    { "http://127.0.0.1:8080/cb", "http%3A%2F%2F127.0.0.1%3A8080%2Fcb",
      "http%3A%2F%2F127.0.0.1%3A8080%2Fcb" },
    { "openid email profile", "openid%20email%20profile",
      "openid+email+profile" },
    { "\r\n\x01\x7f\xff", "%0D%0A%01%7F%FF", "%0D%0A%01%7F%FF" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aVec); i++){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoUrlEncode(&b, aVec[i].zIn, strlen(aVec[i].zIn), 0);
    CHECK_STR( ssoBufStr(&b), aVec[i].zComp );
    ssoBufTruncate(&b, 0);
    ssoUrlEncode(&b, aVec[i].zIn, strlen(aVec[i].zIn), SSO_URL_FORM);
    CHECK_STR( ssoBufStr(&b), aVec[i].zForm );
    ssoBufFree(&b);
  }
  /* Every byte value: encoded text passes the URL parser's query check,
  ** and decodes back in the same mode. NUL included (length-counted). */
  {
    char aAll[256], zOut[1024];
    unsigned m;
    int k;
    for(k=0; k<256; k++) aAll[k] = (char)k;
    for(m=0; m<2; m++){
      SsoBuf b;
      SsoArena a;
      SsoUrl u;
      size_t nOut = 0;
      ssoBufInit(&b, 0);
      ssoBufAppendStr(&b, "http://h/?");
      ssoUrlEncode(&b, aAll, 256, m ? SSO_URL_FORM : 0);
      ssoArenaInit(&a, 0);
      CHECK_INT( ssoUrlParse(&a, b.z, b.n, &u, 0), SSOPROXY_OK );
      CHECK_INT( ssoUrlDecode(u.query.z, u.query.n, m ? SSO_URL_FORM : 0,
                              zOut, &nOut, 0), SSOPROXY_OK );
      CHECK_INT( nOut, 256 );
      CHECK_MEM( zOut, aAll, 256 );
      /* Only unreserved bytes survive unescaped in component mode. */
      if( m==0 ) CHECK_INT( u.query.n, 66 + 3*(256-66) );
      ssoArenaFree(&a);
      ssoBufFree(&b);
    }
  }
}

static void test_url_decode(void){
  static const struct { const char *zIn; unsigned m; const char *zOut; } aOk[]={
    { "", 0, "" },
    { "abc", 0, "abc" },
    { "%41%62%2f%2F", 0, "Ab//" },
    { "a+b", 0, "a+b" },
    { "a+b", SSO_URL_FORM, "a b" },
    { "%2B", SSO_URL_FORM, "+" },
    { "%20+%20", SSO_URL_FORM, "   " },
    { "%E2%82%AC%e2%82%ac", 0, "\xe2\x82\xac\xe2\x82\xac" },
    { "%25%32%35", 0, "%25" },
    { "a b\xff", 0, "a b\xff" },
  };
  static const struct { const char *zIn; unsigned m; size_t iErr; } aBad[] = {
    { "%", 0, 0 },
    { "ab%", 0, 2 },
    { "ab%4", 0, 2 },
    { "%4g", 0, 0 },
    { "%g4", 0, 0 },
    { "%%41", 0, 0 },
    { "a%-1", 0, 1 },
    { "a% 1", SSO_URL_FORM, 1 },
    { "x%00", SSO_URL_NONUL, 1 },
    { "x+%00", SSO_URL_NONUL|SSO_URL_FORM, 2 },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aOk); i++){
    char zOut[64];
    size_t nOut = 99;
    CHECK_INT( ssoUrlDecode(aOk[i].zIn, strlen(aOk[i].zIn), aOk[i].m, zOut,
                            &nOut, 0), SSOPROXY_OK );
    CHECK_STR( zOut, aOk[i].zOut );
    CHECK_INT( nOut, strlen(aOk[i].zOut) );
  }
  for(i=0; i<SSO_ARRAYSIZE(aBad); i++){
    char zOut[64];
    size_t nOut = 99, iErr = 99;
    CHECK_INT( ssoUrlDecode(aBad[i].zIn, strlen(aBad[i].zIn), aBad[i].m, zOut,
                            &nOut, &iErr), SSOPROXY_PARSE );
    CHECK_INT( iErr, aBad[i].iErr );
    CHECK_INT( nOut, 0 );
  }
  /* %00 is a byte like any other unless NUL is refused; so is a raw NUL. */
  {
    char zOut[8];
    size_t nOut = 0, iErr = 0;
    CHECK_INT( ssoUrlDecode("a%00b", 5, 0, zOut, &nOut, 0), SSOPROXY_OK );
    CHECK_INT( nOut, 3 );
    CHECK_MEM( zOut, "a\0b", 4 );
    CHECK_INT( ssoUrlDecode("a\0b", 3, SSO_URL_NONUL, zOut, &nOut, &iErr),
               SSOPROXY_PARSE );
    CHECK_INT( iErr, 1 );
  }
  /* In place, and into an arena. */
  {
    char z[] = "a%20b+c%21";
    size_t nOut = 0;
    SsoArena a;
    SsoStr s;
    CHECK_INT( ssoUrlDecode(z, strlen(z), SSO_URL_FORM, z, &nOut, 0),
               SSOPROXY_OK );
    CHECK_STR( z, "a b c!" );
    ssoArenaInit(&a, 0);
    CHECK_INT( ssoUrlDecodeArena(&a, "%2Fx", 4, 0, &s, 0), SSOPROXY_OK );
    CHECK_STR( s.z, "/x" );
    CHECK_INT( s.n, 2 );
    CHECK_INT( ssoUrlDecodeArena(&a, "%2", 2, 0, &s, 0), SSOPROXY_PARSE );
    CHECK_STR( s.z, "" );
    ssoArenaFree(&a);
  }
}

/* Query strings and form bodies. */
static void test_form_parse(void){
  const char *z;
  SsoArena a;
  SsoForm f;
  SsoStr v;
  size_t iErr = 0;
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoFormParse(&a, "a=1&b=2", 7, &f, 0), SSOPROXY_OK );
  CHECK_INT( f.nParam, 2 );
  CHECK_STR( f.aParam[0].name.z, "a" );
  CHECK_STR( f.aParam[0].value.z, "1" );
  CHECK_STR( f.aParam[1].name.z, "b" );
  CHECK_STR( f.aParam[1].value.z, "2" );
  /* Empty pairs are skipped; a name alone has the value "". */
  CHECK_INT( ssoFormParse(&a, "&&a=1&&flag&=x&b=c=d&", 21, &f, 0),
             SSOPROXY_OK );
  CHECK_INT( f.nParam, 4 );
  CHECK_STR( f.aParam[1].name.z, "flag" );
  CHECK_STR( f.aParam[1].value.z, "" );
  CHECK_INT( f.aParam[1].value.n, 0 );
  CHECK_STR( f.aParam[2].name.z, "" );
  CHECK_STR( f.aParam[2].value.z, "x" );
  CHECK_STR( f.aParam[3].value.z, "c=d" );
  CHECK_INT( ssoFormParse(&a, "", 0, &f, 0), SSOPROXY_OK );
  CHECK_INT( f.nParam, 0 );
  CHECK_INT( ssoFormParse(&a, "&&&", 3, &f, 0), SSOPROXY_OK );
  CHECK_INT( f.nParam, 0 );
  CHECK_INT( ssoFormGet(&f, "a", &v), SSOPROXY_NOTFOUND );
  /* Form decoding of names and values. */
  z = "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8"
      "080%2Fcb&scope=openid+email%20profile&code_verifier=a~b";
  CHECK_INT( ssoFormParse(&a, z, strlen(z), &f, 0), SSOPROXY_OK );
  CHECK_INT( f.nParam, 4 );
  CHECK_INT( ssoFormGet(&f, "redirect_uri", &v), SSOPROXY_OK );
  CHECK_STR( v.z, "http://127.0.0.1:8080/cb" );
  CHECK_INT( ssoFormGet(&f, "scope", &v), SSOPROXY_OK );
  CHECK_STR( v.z, "openid email profile" );
  CHECK_INT( ssoFormGet(&f, "code_verifier", &v), SSOPROXY_OK );
  CHECK_STR( v.z, "a~b" );
  CHECK_INT( ssoFormGet(&f, "grant_type", 0), SSOPROXY_OK );
  CHECK_INT( ssoFormFirstDuplicate(&f), -1 );
  /* Errors carry the offset in the whole input and leave f empty. */
  CHECK_INT( ssoFormParse(&a, "a=1&b=%zz", 9, &f, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 6 );
  CHECK_INT( f.nParam, 0 );
  CHECK( f.aParam==0 );
  CHECK_INT( ssoFormParse(&a, "a=1&b%=2", 8, &f, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 5 );
  CHECK_INT( ssoFormParse(&a, "state=x%00y", 11, &f, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 7 );
  CHECK_INT( ssoFormParse(&a, "n%00=1", 6, &f, &iErr), SSOPROXY_PARSE );
  CHECK_INT( iErr, 1 );
  ssoArenaFree(&a);
}

/* RFC 6749 §3.1: a parameter sent twice must be detectable. */
static void test_form_duplicates(void){
  SsoArena a;
  SsoForm f;
  SsoStr v;
  const char *z = "code=1&state=s&code=2&Code=3&code%20=4";
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoFormParse(&a, z, strlen(z), &f, 0), SSOPROXY_OK );
  CHECK_INT( f.nParam, 5 );
  CHECK_INT( ssoFormCount(&f, "code"), 2 );
  CHECK_INT( ssoFormCount(&f, "Code"), 1 );
  CHECK_INT( ssoFormCount(&f, "code "), 1 );
  CHECK_INT( ssoFormCount(&f, "cod"), 0 );
  v.z = "stale"; v.n = 5;
  CHECK_INT( ssoFormGet(&f, "code", &v), SSOPROXY_CONSTRAINT );
  CHECK_STR( v.z, "" );
  CHECK_INT( ssoFormGet(&f, "Code", &v), SSOPROXY_OK );
  CHECK_STR( v.z, "3" );
  CHECK_INT( ssoFormGet(&f, "state", &v), SSOPROXY_OK );
  CHECK_STR( v.z, "s" );
  CHECK_INT( ssoFormFirstDuplicate(&f), 2 );
  /* Names are compared after decoding: c%6Fde is code. */
  z = "state=a&c%6Fde=1&code=2";
  CHECK_INT( ssoFormParse(&a, z, strlen(z), &f, 0), SSOPROXY_OK );
  CHECK_INT( ssoFormGet(&f, "code", &v), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoFormFirstDuplicate(&f), 2 );
  /* Empty values still count as present. */
  z = "state=&state=x";
  CHECK_INT( ssoFormParse(&a, z, strlen(z), &f, 0), SSOPROXY_OK );
  CHECK_INT( ssoFormGet(&f, "state", &v), SSOPROXY_CONSTRAINT );
  CHECK_INT( ssoFormFirstDuplicate(&f), 1 );
  ssoArenaFree(&a);
}

/* SSO_FORM_MAX_PARAMS pairs parse; one more is TOOBIG. */
static void test_form_limit(void){
  SsoBuf b;
  SsoArena a;
  SsoForm f;
  size_t iErr = 0, iLast;
  int i;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "&&");
  for(i=0; i<SSO_FORM_MAX_PARAMS; i++) ssoBufPrintf(&b, "p%d=%d&&", i, i);
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoFormParse(&a, b.z, b.n, &f, &iErr), SSOPROXY_OK );
  CHECK_INT( f.nParam, SSO_FORM_MAX_PARAMS );
  CHECK_STR( f.aParam[SSO_FORM_MAX_PARAMS-1].value.z, "255" );
  CHECK_INT( ssoFormFirstDuplicate(&f), -1 );
  iLast = b.n;
  ssoBufAppendStr(&b, "x");
  CHECK_INT( ssoFormParse(&a, b.z, b.n, &f, &iErr), SSOPROXY_TOOBIG );
  CHECK_INT( iErr, iLast );
  CHECK_INT( f.nParam, 0 );
  ssoArenaFree(&a);
  ssoBufFree(&b);
}

/* Building queries and authorization/redirect URLs. */
static void test_url_build(void){
  static const char *azAuth[] = {
    "response_type", "code",
    "client_id", "ssoproxy",
    "redirect_uri", "http://127.0.0.1:4000/sso/callback",
    "scope", "openid email profile",
    "nonce", 0,
    "state", "a~b*c",
  };
  static const struct { const char *zUrl; int bKeep; int rc;
                        const char *zOut; } aCase[] = {
    { "https://idp/auth", 0, SSOPROXY_OK, "https://idp/auth?Q" },
    { "https://idp/auth?p=b2c", 0, SSOPROXY_OK, "https://idp/auth?p=b2c&Q" },
    { "https://idp/auth?", 0, SSOPROXY_OK, "https://idp/auth?Q" },
    { "https://idp/auth?p=1&", 0, SSOPROXY_OK, "https://idp/auth?p=1&Q" },
    { "https://idp", 0, SSOPROXY_OK, "https://idp?Q" },
    { "https://app/cb#frag", 1, SSOPROXY_OK, "https://app/cb?Q#frag" },
    { "https://app/cb?x=1#a?b", 1, SSOPROXY_OK, "https://app/cb?x=1&Q#a?b" },
    { "https://app/cb#", 1, SSOPROXY_OK, "https://app/cb?Q#" },
    { "https://app/cb#frag", 0, SSOPROXY_PARSE, "" },
    { "https://app/cb?x#", 0, SSOPROXY_PARSE, "" },
  };
  static const char zQ[] =
    "response_type=code&client_id=ssoproxy&redirect_uri=http%3A%2F%2F127.0"
    ".0.1%3A4000%2Fsso%2Fcallback&scope=openid+email+profile&state=a%7Eb*c";
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    SsoBuf b;
    char zWant[512];
    const char *zQPos = strchr(aCase[i].zOut, 'Q');
    ssoBufInit(&b, 0);
    CHECK_INT( ssoUrlAppendQuery(&b, aCase[i].zUrl, strlen(aCase[i].zUrl),
                                 azAuth, 6, aCase[i].bKeep), aCase[i].rc );
    if( zQPos ){
      snprintf(zWant, sizeof(zWant), "%.*s%s%s",
               (int)(zQPos - aCase[i].zOut), aCase[i].zOut, zQ, zQPos+1);
    }else{
      snprintf(zWant, sizeof(zWant), "%s", aCase[i].zOut);
    }
    CHECK_STR( ssoBufStr(&b), zWant );
    ssoBufFree(&b);
  }
  /* Nothing to add: the URL comes out as it went in, no stray '?'. */
  {
    static const char *azNone[] = { "a", 0, "b", 0 };
    SsoBuf b;
    ssoBufInit(&b, 0);
    CHECK_INT( ssoUrlAppendQuery(&b, "https://h/x", 11, azNone, 2, 0),
               SSOPROXY_OK );
    CHECK_STR( ssoBufStr(&b), "https://h/x" );
    CHECK_INT( ssoUrlAppendQuery(&b, "#f", 2, azNone, 0, 1), SSOPROXY_OK );
    CHECK_STR( ssoBufStr(&b), "https://h/x#f" );
    ssoBufFree(&b);
  }
  /* ssoFormAppend continues a body or a query. */
  {
    static const char *az[] = { "a b", "1&2", "c", "" };
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoFormAppend(&b, az, 2);
    CHECK_STR( ssoBufStr(&b), "a+b=1%262&c=" );
    ssoFormAppend(&b, az, 1);
    CHECK_STR( ssoBufStr(&b), "a+b=1%262&c=&a+b=1%262" );
    ssoBufTruncate(&b, 0);
    ssoBufAppendStr(&b, "x?");
    ssoFormAppend(&b, az+2, 1);
    CHECK_STR( ssoBufStr(&b), "x?c=" );
    ssoBufFree(&b);
  }
}

static unsigned urlRand(unsigned *pState){
  unsigned x = *pState;
  x ^= x<<13; x ^= x>>17; x ^= x<<5;
  *pState = x;
  return x;
}

/* What ssoFormAppend writes, ssoFormParse reads back: every byte but NUL. */
static void test_form_round_trip(void){
  unsigned seed = 12345;
  int iRound;
  for(iRound=0; iRound<50; iRound++){
    char aName[4][40], aValue[4][40];
    const char *az[8];
    SsoBuf b;
    SsoArena a;
    SsoForm f;
    int k, nBad = 0;
    for(k=0; k<4; k++){
      int j, nLen = (int)(urlRand(&seed) % 39);
      for(j=0; j<nLen; j++) aValue[k][j] = (char)(urlRand(&seed) % 255 + 1);
      aValue[k][nLen] = 0;
      snprintf(aName[k], sizeof(aName[k]), "n %d&=", k);
      az[2*k] = aName[k];
      az[2*k+1] = aValue[k];
    }
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "https://h/p?");
    ssoFormAppend(&b, az, 4);
    ssoArenaInit(&a, 0);
    {
      SsoUrl u;
      CHECK_INT( ssoUrlParse(&a, b.z, b.n, &u, 0), SSOPROXY_OK );
      CHECK_INT( ssoFormParse(&a, u.query.z, u.query.n, &f, 0), SSOPROXY_OK );
    }
    CHECK_INT( f.nParam, 4 );
    for(k=0; k<4 && k<f.nParam; k++){
      if( strcmp(f.aParam[k].name.z, aName[k]) ) nBad++;
      if( strcmp(f.aParam[k].value.z, aValue[k]) ) nBad++;
    }
    CHECK_INT( nBad, 0 );
    ssoArenaFree(&a);
    ssoBufFree(&b);
  }
}

/* ---- Allocation failures ---- */

static int urlOomFormBody(void *pArg){
  SsoArena a;
  SsoForm f;
  SsoStr v;
  const char *z = (const char*)pArg;
  int rc;
  ssoArenaInit(&a, 0);
  rc = ssoFormParse(&a, z, strlen(z), &f, 0);
  if( rc==SSOPROXY_OK ){
    rc = ssoFormGet(&f, "code", &v);
    if( rc==SSOPROXY_OK && strcmp(v.z, "x y")!=0 ) rc = SSOPROXY_ERROR;
  }
  ssoArenaFree(&a);
  return rc;
}
static int urlOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? (rc==SSOPROXY_OK || rc==SSOPROXY_NOMEM) : rc==SSOPROXY_OK;
}

static int urlOomBuildBody(void *pArg){
  static const char *az[] = {
    "response_type", "code", "client_id", "c", "state", "s",
    "redirect_uri", "http://127.0.0.1:4000/sso/callback",
  };
  SsoArena a;
  SsoUrl u;
  SsoBuf b;
  char *zOut;
  int i, rc;
  SSO_UNUSED(pArg);
  ssoArenaInit(&a, 0);
  ssoBufInit(&b, 0);
  rc = ssoUrlParse(&a, "https://idp.example.com/auth?x=1#f", 34, &u, 0);
  if( rc ) goto end;
  for(i=0; i<20; i++) ssoUrlAppend(&b, &u);
  ssoBufTruncate(&b, 0);
  rc = ssoUrlAppendQuery(&b, "https://idp/a#f", 15, az, 4, 1);
  if( rc ) goto end;
  zOut = ssoBufFinish(&b, 0);
  if( zOut==0 ){ rc = SSOPROXY_NOMEM; goto end; }
  if( strncmp(zOut, "https://idp/a?response_type=code&", 33)!=0 ){
    rc = SSOPROXY_ERROR;
  }
  ssoFree(zOut);
end:
  ssoBufFree(&b);
  ssoArenaFree(&a);
  return rc;
}

static void test_url_oom(void){
  static char zSmall[] = "a=1&code=x+y";
  char *zBody;
  SsoBuf b;
  int i;
  /* Big enough that the arena needs more than one chunk. */
  ssoBufInit(&b, 0);
  for(i=0; i<150; i++) ssoBufPrintf(&b, "p%d=%0100d&", i, i);
  ssoBufAppendStr(&b, "code=x+y");
  zBody = ssoBufFinish(&b, 0);
  CHECK( zBody!=0 );
  if( zBody ) CHECK( faultRun(urlOomFormBody, urlOomCheck, zBody)>=4 );
  ssoFree(zBody);
  CHECK( faultRun(urlOomFormBody, urlOomCheck, zSmall)>=2 );
  CHECK( faultRun(urlOomBuildBody, urlOomCheck, 0)>=4 );
}

#undef N
#undef V4
#undef V6
#undef NO

static void test_url_local_path(void){
  static const char *const azOk[] = {
    "/", "/ui", "/ui?x=1&y=%2F", "/auth?callback_url=http%3A%2F%2F127.0.0.1",
    "/a/b/../c", "/#frag",
  };
  static const char *const azBad[] = {
    "", "ui", "//evil.example", "/\\evil.example", "/a\\b",
    "http://evil.example/", "https:evil", " /ui", "/ui x", "/ui\r\nX: y",
    "/ui\t", "/\xc3\xa9", "javascript:alert(1)", "/\x7f",
  };
  char zLong[SSO_URL_MAX+2];
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azOk); i++){
    CHECK( ssoUrlIsLocalPath(azOk[i], strlen(azOk[i])) );
  }
  for(i=0; i<SSO_ARRAYSIZE(azBad); i++){
    CHECK( !ssoUrlIsLocalPath(azBad[i], strlen(azBad[i])) );
  }
  memset(zLong, 'a', sizeof(zLong));
  zLong[0] = '/';
  CHECK( ssoUrlIsLocalPath(zLong, SSO_URL_MAX) );
  CHECK( !ssoUrlIsLocalPath(zLong, SSO_URL_MAX+1) );
  /* The length given counts, not a NUL: "/ui" then a NUL is refused. */
  CHECK( !ssoUrlIsLocalPath("/ui\0x", 5) );
}

static const TestCase aUrlTests[] = {
  TEST_CASE(test_url_rfc3986_examples),
  TEST_CASE(test_url_rfc3986_5_4),
  TEST_CASE(test_url_common_forms),
  TEST_CASE(test_url_ipv6),
  TEST_CASE(test_url_ports),
  TEST_CASE(test_url_origin),
  TEST_CASE(test_url_loopback),
  TEST_CASE(test_url_attacks),
  TEST_CASE(test_url_limits),
  TEST_CASE(test_url_rebuild),
  TEST_CASE(test_url_encode),
  TEST_CASE(test_url_decode),
  TEST_CASE(test_form_parse),
  TEST_CASE(test_form_duplicates),
  TEST_CASE(test_form_limit),
  TEST_CASE(test_url_build),
  TEST_CASE(test_form_round_trip),
  TEST_CASE(test_url_oom),
  TEST_CASE(test_url_local_path),
};
