/*
** Tests for the OpenID Connect relying party (src/oidc.c).
**
** First the pure parts: start-up validation (one message per bad
** setting), the authorization URL, the role rules, e-mail domains. Then
** whole logins against an IdP made in this file on the project's own
** server (discovery, JWKS, token and userinfo endpoints on 127.0.0.1:0 in
** a thread), with id_tokens signed here with mbedTLS, while a second
** server runs the real /sso/key/generate and /sso/callback routes with
** per-worker stores and outbound clients, as the app does. The test
** thread plays the browser with the raw client of t_server.c.
**
** Each refusal case (iss parameter, userinfo sub, token error, nonce,
** alg none, expiry, state misuse) checks that no user was created and
** that the IdP call after the failed check never happened, so removing
** a check makes its case fail.
*/
#include <mbedtls/rsa.h>
#include <mbedtls/version.h>

/* ================= Settings ================= */

static void oiBaseConfig(SsoOidcConfig *c){
  memset(c, 0, sizeof(*c));
  c->zBaseUrl = "https://llm.example.com/";
  c->zClientId = "litellm";
  c->zClientSecret = "s3cret";
  c->zAuthorizationEndpoint = "https://auth.example.com/application/o/authorize/";
  c->zTokenEndpoint = "https://auth.example.com/application/o/token/";
  c->zUserinfoEndpoint = "https://auth.example.com/application/o/userinfo/";
}

/* ssoOidcNew's result for c; *zErr the message. */
static int oiNew(const SsoOidcConfig *c, char *zErr, size_t nErr){
  SsoSessions s;
  SsoOidc *p = 0;
  int rc;
  ssoSessionInit(&s, c->zBaseUrl, 1000, 2000);
  rc = ssoOidcNew(c, &s, &p, zErr, nErr);
  ssoOidcFree(p);
  return rc;
}

#define OI_BAD(field, value, want) do{ \
    SsoOidcConfig c_; char zE_[512]; \
    oiBaseConfig(&c_); c_.field = value; \
    CHECK_INT( oiNew(&c_, zE_, sizeof(zE_)), SSOPROXY_CONFIG ); \
    if( strstr(zE_, want)==0 ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: message \"%s\" lacks \"%s\"\n", \
              __FILE__, __LINE__, zE_, want); } \
  }while(0)

static void test_oidc_settings(void){
  SsoOidcConfig c;
  SsoSessions s;
  SsoOidc *p = 0;
  char zErr[512];
  /* SSO off: no client id, no object, no error. */
  memset(&c, 0, sizeof(c));
  ssoSessionInit(&s, 0, 1000, 2000);
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  CHECK( p==0 );
  /* The seed guide's settings. */
  oiBaseConfig(&c);
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  CHECK( p!=0 );
  CHECK_STR( p->zRedirectUri, "https://llm.example.com/sso/callback" );
  CHECK_STR( p->zScope, "openid email profile" );
  CHECK_STR( p->zIdAttr, "preferred_username" );
  CHECK_STR( p->zNameAttr, "sub" );
  CHECK_STR( p->zRoleAttr, "role" );
  CHECK_INT( p->eDefaultRole, SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_INT( p->bSecure, 1 );
  CHECK_INT( p->msStateTtl, 300000 );
  CHECK( ssoOidcBackChannelOnly(p) );
  /* RFC 6749 §2.3.1: both form-urlencoded before base64. */
  ssoOidcFree(p);
  c.zClientId = "a b";
  c.zClientSecret = "x+y%/";
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  {
    unsigned char a[64];
    size_t n = 0;
    CHECK_INT( ssoB64Decode(p->zBasic+6, strlen(p->zBasic+6), SSO_B64_STD, a,
                            sizeof(a), &n, 0), SSOPROXY_OK );
    CHECK( n==strlen("a+b:x%2By%25%2F")
           && memcmp(a, "a+b:x%2By%25%2F", n)==0 );
  }
  ssoOidcFree(p);
  /* Each refusal, its own message. */
  OI_BAD(zClientSecret, 0, "GENERIC_CLIENT_SECRET is not");
  OI_BAD(zClientSecret, "", "GENERIC_CLIENT_SECRET is not");
  OI_BAD(zBaseUrl, 0, "PROXY_BASE_URL is not set");
  OI_BAD(zBaseUrl, "llm.example.com", "PROXY_BASE_URL must be");
  OI_BAD(zBaseUrl, "ftp://llm.example.com", "PROXY_BASE_URL must be");
  OI_BAD(zBaseUrl, "https://llm.example.com/?a=1", "PROXY_BASE_URL must be");
  OI_BAD(zBaseUrl, "https://llm.example.com/#x", "PROXY_BASE_URL must be");
  OI_BAD(zTokenEndpoint, 0, "GENERIC_TOKEN_ENDPOINT is not");
  OI_BAD(zAuthorizationEndpoint, 0, "GENERIC_AUTHORIZATION_ENDPOINT is not");
  OI_BAD(zTokenEndpoint, "token", "GENERIC_TOKEN_ENDPOINT is not an http");
  OI_BAD(zUserinfoEndpoint, "https://u:p@a/x", "GENERIC_USERINFO_ENDPOINT");
  OI_BAD(zJwksEndpoint, "file:///etc/keys", "GENERIC_JWKS_ENDPOINT");
  OI_BAD(zScope, "email profile", "GENERIC_SCOPE must contain openid");
  OI_BAD(zRoleMappings, "{\"proxy_admin\":", "GENERIC_ROLE_MAPPINGS_ROLES is "
         "not a JSON object");
  OI_BAD(zRoleMappings, "[1]", "GENERIC_ROLE_MAPPINGS_ROLES is not");
  OI_BAD(zRoleMappings, "{\"boss\":[\"a\"]}", "unknown role \"boss\"");
  OI_BAD(zRoleMappings, "{\"proxy_admin\":[1]}", "non-empty strings");
  OI_BAD(zRoleMappings, "{\"proxy_admin\":[\"a\"]}",
         "GENERIC_ROLE_MAPPINGS_GROUP_CLAIM is not");
  OI_BAD(zDefaultRole, "root", "GENERIC_ROLE_MAPPINGS_DEFAULT_ROLE: unknown");
  OI_BAD(zSsoHeaders, "X-A", "GENERIC_SSO_HEADERS");
  OI_BAD(zSsoHeaders, "X A=1", "is not a header name");
  OI_BAD(zIssuer, "https://idp/?x", "GENERIC_ISSUER must not have a query");
  OI_BAD(zLogoutUrl, "/logout", "PROXY_LOGOUT_URL");
  /* Neither issuer nor endpoints. */
  oiBaseConfig(&c);
  c.zAuthorizationEndpoint = c.zTokenEndpoint = 0;
  CHECK_INT( oiNew(&c, zErr, sizeof(zErr)), SSOPROXY_CONFIG );
  CHECK( strstr(zErr, "neither GENERIC_ISSUER nor") );
  /* An issuer alone is enough; endpoints are then optional. */
  c.zIssuer = "https://idp.example.com";
  CHECK_INT( oiNew(&c, zErr, sizeof(zErr)), SSOPROXY_OK );
  /* Mappings in LiteLLM's Python-literal quoting, case-insensitive role
  ** names and the old viewer spelling. */
  oiBaseConfig(&c);
  c.zRoleMappings = "{'PROXY_ADMIN':['admins'],'internal_user_view_only':"
                    "'guests'}";
  c.zGroupClaim = "groups";
  c.zDefaultRole = "Internal_User";
  c.zSsoHeaders = "X-Tenant=blue, X-Trace = on";
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  if( p ){
    CHECK_INT( p->nMap, 2 );
    CHECK_STR( p->aMap[0].zGroup, "admins" );
    CHECK_INT( p->aMap[0].eRole, SSO_ROLE_PROXY_ADMIN );
    CHECK_INT( p->aMap[1].eRole, SSO_ROLE_INTERNAL_USER_VIEWER );
    CHECK_INT( p->eDefaultRole, SSO_ROLE_INTERNAL_USER );
    CHECK_INT( p->nHdr, 2 );
    CHECK( p->aHdr[1].name.n==7 && memcmp(p->aHdr[1].name.z, "X-Trace", 7)==0 );
    CHECK( p->aHdr[1].value.n==2 && memcmp(p->aHdr[1].value.z, "on", 2)==0 );
  }
  ssoOidcFree(p);
}

/* ================= Authorization URL, roles, domains ================= */

static void test_oidc_auth_url(void){
  SsoOidcConfig c;
  SsoSessions s;
  SsoOidc *p = 0;
  SsoBuf b;
  SsoArena a;
  SsoUrl u;
  SsoForm f;
  SsoStr v;
  char zErr[256];
  oiBaseConfig(&c);
  c.zScope = "openid profile email litellm_role";
  ssoSessionInit(&s, c.zBaseUrl, 1000, 2000);
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  if( p==0 ) return;
  ssoBufInit(&b, 0);
  ssoArenaInit(&a, 0);
  CHECK_INT( oidcAuthUrl(p, "https://auth.example.com/authorize?x=1", "st&1",
                         "n=2", "ch", &b), SSOPROXY_OK );
  CHECK_INT( ssoUrlParse(&a, b.z, b.n, &u, 0), SSOPROXY_OK );
  CHECK_STR( u.path.z, "/authorize" );
  CHECK_INT( ssoFormParse(&a, u.query.z, u.query.n, &f, 0), SSOPROXY_OK );
  CHECK_INT( ssoFormFirstDuplicate(&f), -1 );
  CHECK( ssoFormGet(&f, "x", &v)==0 && strcmp(v.z, "1")==0 );
  CHECK( ssoFormGet(&f, "response_type", &v)==0 && strcmp(v.z, "code")==0 );
  CHECK( ssoFormGet(&f, "client_id", &v)==0 && strcmp(v.z, "litellm")==0 );
  CHECK( ssoFormGet(&f, "redirect_uri", &v)==0
         && strcmp(v.z, "https://llm.example.com/sso/callback")==0 );
  CHECK( ssoFormGet(&f, "scope", &v)==0
         && strcmp(v.z, "openid profile email litellm_role")==0 );
  CHECK( ssoFormGet(&f, "state", &v)==0 && strcmp(v.z, "st&1")==0 );
  CHECK( ssoFormGet(&f, "nonce", &v)==0 && strcmp(v.z, "n=2")==0 );
  CHECK( ssoFormGet(&f, "code_challenge", &v)==0 && strcmp(v.z, "ch")==0 );
  CHECK( ssoFormGet(&f, "code_challenge_method", &v)==0
         && strcmp(v.z, "S256")==0 );
  ssoBufFree(&b);
  ssoArenaFree(&a);
  ssoOidcFree(p);
}

/* The identity and stored role for claims zUser (userinfo) and zId. */
static int oiRole(const SsoOidc *p, const char *zUser, const char *zId,
                  const char *zOldRole, const char **pzUserId){
  SsoJsonDoc *pU = 0, *pI = 0;
  OidcClaims c;
  OidcIdentity id;
  SsoArena a;
  SsoUser old;
  const char *zWhy;
  int eRole = -1;
  ssoArenaInit(&a, 0);
  if( zUser ) ssoJsonParse(zUser, strlen(zUser), 0, &pU, 0);
  if( zId ) ssoJsonParse(zId, strlen(zId), 0, &pI, 0);
  c.pUser = ssoJsonRoot(pU);
  c.pId = ssoJsonRoot(pI);
  memset(&old, 0, sizeof(old));
  old.zRole = zOldRole;
  if( oidcIdentity(p, &c, &a, &id, &zWhy)==SSOPROXY_OK ){
    eRole = oidcRoleToStore(p, &id, zOldRole ? &old : 0);
    if( pzUserId ){
      static char zKeep[64];
      snprintf(zKeep, sizeof(zKeep), "%s", id.zId);
      *pzUserId = zKeep;
    }
  }
  ssoJsonFree(pU);
  ssoJsonFree(pI);
  ssoArenaFree(&a);
  return eRole;
}

static void test_oidc_roles(void){
  SsoOidcConfig c;
  SsoSessions s;
  SsoOidc *p = 0;
  char zErr[256];
  const char *zId = 0;
  oiBaseConfig(&c);
  c.zRoleAttr = "claims.litellm_role";
  ssoSessionInit(&s, c.zBaseUrl, 1000, 2000);
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  if( p==0 ) return;
  /* Dot-path, case, first element of a list, unknown and missing. */
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"PROXY_ADMIN\"}}", 0, 0, &zId),
             SSO_ROLE_PROXY_ADMIN );
  CHECK_STR( zId, "al" );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":[\"internal_user\",\"proxy_admin\"]}}",
                    0, 0, 0), SSO_ROLE_INTERNAL_USER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"root\"}}", 0, 0, 0),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\"}", 0, 0, 0),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  /* A missing or unknown claim keeps an existing role, never raises it. */
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\"}", 0, "internal_user",
                    0), SSO_ROLE_INTERNAL_USER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":7}}", 0, "internal_user_viewer", 0),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  /* Sync "always": a valid claim replaces the stored role, down too. */
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"internal_user\"}}", 0,
                    "proxy_admin", 0), SSO_ROLE_INTERNAL_USER );
  /* Userinfo wins; the id_token fills in what userinfo lacks. */
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\"}",
                    "{\"claims\":{\"litellm_role\":\"proxy_admin_viewer\"}}",
                    0, 0), SSO_ROLE_PROXY_ADMIN_VIEWER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"internal_user\"}}",
                    "{\"claims\":{\"litellm_role\":\"proxy_admin\"}}", 0, 0),
             SSO_ROLE_INTERNAL_USER );
  /* User id fall-backs: first+last name, then e-mail; none: refused. */
  CHECK_INT( oiRole(p, "{\"first_name\":\"Ada\",\"last_name\":\"L\"}", 0, 0,
                    &zId), SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_STR( zId, "AdaL" );
  CHECK_INT( oiRole(p, "{\"email\":\"a@x.local\"}", 0, 0, &zId),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  CHECK_STR( zId, "a@x.local" );
  CHECK_INT( oiRole(p, "{\"sub\":\"1\"}", 0, 0, 0), -1 );
  /* PROXY_ADMIN_ID wins over everything. */
  p->zAdminId = "boss";
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"boss\",\"claims\":"
                    "{\"litellm_role\":\"internal_user\"}}", 0,
                    "internal_user", 0), SSO_ROLE_PROXY_ADMIN );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"bossy\"}", 0, 0, 0),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  p->zAdminId = 0;
  /* first_login: the stored role stays. */
  p->bRoleFirstLogin = 1;
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"proxy_admin\"}}", 0,
                    "internal_user", 0), SSO_ROLE_INTERNAL_USER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"al\",\"claims\":"
                    "{\"litellm_role\":\"proxy_admin\"}}", 0, 0, 0),
             SSO_ROLE_PROXY_ADMIN );
  ssoOidcFree(p);

  /* Group mappings: the highest wins, combined with the claim; no
  ** match means the default role, for existing users too. */
  oiBaseConfig(&c);
  c.zRoleMappings = "{\"proxy_admin\":[\"admins\"],\"internal_user\":"
                    "[\"staff\",\"team-a\"]}";
  c.zGroupClaim = "realm.groups";
  c.zDefaultRole = "internal_user_viewer";
  CHECK_INT( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  if( p==0 ) return;
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\",\"realm\":{\"groups\":"
                    "[\"team-a\",\"admins\"]}}", 0, 0, 0),
             SSO_ROLE_PROXY_ADMIN );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\",\"realm\":{\"groups\":"
                    "[\"team-a\",\"Admins\"]}}", 0, 0, 0),
             SSO_ROLE_INTERNAL_USER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\",\"realm\":{\"groups\":"
                    "\"staff\"}}", 0, 0, 0), SSO_ROLE_INTERNAL_USER );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\",\"role\":\"proxy_admin\","
                    "\"realm\":{\"groups\":[\"staff\"]}}", 0, 0, 0),
             SSO_ROLE_PROXY_ADMIN );
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\",\"realm\":{\"groups\":"
                    "[\"other\"]}}", 0, "proxy_admin", 0),
             SSO_ROLE_INTERNAL_USER_VIEWER );
  /* Groups only in the id_token (Okta) count too. */
  CHECK_INT( oiRole(p, "{\"preferred_username\":\"d\"}",
                    "{\"realm\":{\"groups\":[\"admins\"]}}", 0, 0),
             SSO_ROLE_PROXY_ADMIN );
  ssoOidcFree(p);
}

static void test_oidc_email_domains(void){
  CHECK( oidcEmailAllowed(0, 0) );
  CHECK( oidcEmailAllowed(0, "a@b.local") );
  CHECK( oidcEmailAllowed("example.com, corp.local", "a@corp.local") );
  CHECK( oidcEmailAllowed("example.com,corp.local", "A@Example.COM") );
  CHECK( oidcEmailAllowed("@example.com", "a@example.com") );
  CHECK( !oidcEmailAllowed("example.com", "a@example.com.evil") );
  CHECK( !oidcEmailAllowed("example.com", "a@sub.example.com") );
  CHECK( !oidcEmailAllowed("example.com", "a@evil.com") );
  CHECK( !oidcEmailAllowed("example.com", "example.com") );
  CHECK( !oidcEmailAllowed("example.com", 0) );
  CHECK( !oidcEmailAllowed("example.com", "a@") );
  /* The last '@' decides: "example.com@evil.com" is at evil.com. */
  CHECK( !oidcEmailAllowed("example.com", "x@example.com@evil.com") );
}

/* ================= An IdP in this file ================= */

static int oiRngFn(void *p, unsigned char *a, size_t n){
  FILE *f = fopen("/dev/urandom", "rb");
  size_t k = f ? fread(a, 1, n, f) : 0;
  SSO_UNUSED(p);
  if( f ) fclose(f);
  return k==n ? 0 : -1;
}

/* Two RSA keys, made once (mbedTLS's own allocations, not counted). */
static mbedtls_rsa_context aOiKey[2];
static int bOiKeys;

static int oiKeys(void){
  int i;
  if( bOiKeys ) return 0;
  for(i=0; i<2; i++){
#if MBEDTLS_VERSION_NUMBER>=0x03000000
    mbedtls_rsa_init(&aOiKey[i]);
#else
    mbedtls_rsa_init(&aOiKey[i], MBEDTLS_RSA_PKCS_V15, 0);
#endif
    if( mbedtls_rsa_gen_key(&aOiKey[i], oiRngFn, 0, 2048, 65537) ) return -1;
  }
  bOiKeys = 1;
  return 0;
}

/* One JWK of key i with kid zKid, appended to b. */
static void oiJwk(SsoBuf *b, int i, const char *zKid){
  mbedtls_mpi N, E;
  unsigned char aN[256], aE[4];
  mbedtls_mpi_init(&N);
  mbedtls_mpi_init(&E);
  mbedtls_rsa_export(&aOiKey[i], &N, 0, 0, 0, &E);
  mbedtls_mpi_write_binary(&N, aN, sizeof(aN));
  mbedtls_mpi_write_binary(&E, aE, 3);
  ssoBufPrintf(b, "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"",
               zKid);
  ssoB64Encode(b, aN, sizeof(aN), SSO_B64_URL);
  ssoBufAppendStr(b, "\",\"e\":\"");
  ssoB64Encode(b, aE, 3, SSO_B64_URL);
  ssoBufAppendStr(b, "\"}");
  mbedtls_mpi_free(&N);
  mbedtls_mpi_free(&E);
}

/*
** A JWS of zPayload: alg zAlg ("RS256" signs with key iKey; "none" gives
** an empty signature), header kid zKid (NULL: none). Into b.
*/
static void oiSign(SsoBuf *b, const char *zAlg, int iKey, const char *zKid,
                   const char *zPayload){
  char zHead[128];
  unsigned char aHash[32], aSig[256];
  size_t nStart = b->n;
  snprintf(zHead, sizeof(zHead), "{\"alg\":\"%s\"%s%s%s,\"typ\":\"JWT\"}",
           zAlg, zKid ? ",\"kid\":\"" : "", zKid ? zKid : "",
           zKid ? "\"" : "");
  ssoB64Encode(b, zHead, strlen(zHead), SSO_B64_URL);
  ssoBufAppendChar(b, '.');
  ssoB64Encode(b, zPayload, strlen(zPayload), SSO_B64_URL);
  ssoBufAppendChar(b, '.');
  if( strcmp(zAlg, "none")==0 || b->rc ) return;
  ssoSha256(b->z+nStart, b->n-1-nStart, aHash);
#if MBEDTLS_VERSION_NUMBER>=0x03000000
  mbedtls_rsa_pkcs1_sign(&aOiKey[iKey], oiRngFn, 0, MBEDTLS_MD_SHA256, 32,
                         aHash, aSig);
#else
  mbedtls_rsa_pkcs1_sign(&aOiKey[iKey], oiRngFn, 0, MBEDTLS_RSA_PRIVATE,
                         MBEDTLS_MD_SHA256, 32, aHash, aSig);
#endif
  ssoB64Encode(b, aSig, sizeof(aSig), SSO_B64_URL);
}

/* What the IdP serves and what it saw; the test thread sets and reads it
** under mu, the IdP's worker reads and writes it under mu. */
static struct {
  pthread_mutex_t mu;
  char zIssuer[64];
  char zDisc[2048];
  char zJwks[4096];
  char zToken[8192];        /* Token endpoint answer */
  int iTokenStatus;
  char zUserinfo[2048];
  int nDisc, nJwks, nToken, nUserinfo;
  char zTokenAuth[256];     /* Authorization of the last token request */
  char zTokenBody[2048];
  char zUserinfoAuth[2048];
} gOi = { PTHREAD_MUTEX_INITIALIZER };

static void oiCopyHdr(SsoServerReq *req, const char *zName, char *z,
                      size_t n){
  SsoStr v;
  z[0] = 0;
  if( ssoServerHeader(req, zName, &v) ){
    snprintf(z, n, "%.*s", (int)v.n, v.z);
  }
}

static int oiIdpRoute(SsoServerReq *req, void *pArg){
  const char *zWhat = pArg;
  char zBody[8192];
  int iStatus = 200;
  pthread_mutex_lock(&gOi.mu);
  if( strcmp(zWhat, "disc")==0 ){
    gOi.nDisc++;
    snprintf(zBody, sizeof(zBody), "%s", gOi.zDisc);
  }else if( strcmp(zWhat, "jwks")==0 ){
    gOi.nJwks++;
    snprintf(zBody, sizeof(zBody), "%s", gOi.zJwks);
  }else if( strcmp(zWhat, "token")==0 ){
    gOi.nToken++;
    oiCopyHdr(req, "authorization", gOi.zTokenAuth, sizeof(gOi.zTokenAuth));
    snprintf(gOi.zTokenBody, sizeof(gOi.zTokenBody), "%.*s", (int)req->nBody,
             req->pBody ? req->pBody : "");
    snprintf(zBody, sizeof(zBody), "%s", gOi.zToken);
    iStatus = gOi.iTokenStatus;
  }else{
    gOi.nUserinfo++;
    oiCopyHdr(req, "authorization", gOi.zUserinfoAuth,
              sizeof(gOi.zUserinfoAuth));
    snprintf(zBody, sizeof(zBody), "%s", gOi.zUserinfo);
  }
  pthread_mutex_unlock(&gOi.mu);
  return ssoServerRespond(req, iStatus, "application/json", zBody,
                          strlen(zBody));
}

/* The relying party under test: its server, API, sessions, settings. */
typedef struct OiEnv OiEnv;
struct OiEnv {
  TSrv idp;                 /* The IdP (t_server.c's runner) */
  SsoServer *pSp;
  pthread_t tSp;
  int iSpPort;
  SsoApi api;
  SsoClientConfig cc;
  SsoSessions sess;
  SsoOidc *pOidc;
  SsoLog log;
  char zDb[64];
  char zIdp[64];            /* http://127.0.0.1:port */
};

static int oiWorkerInit(void *pArg, int iWorker, void **ppCtx){
  OiEnv *e = pArg;
  SsoStore *pStore = 0;
  SsoApiWorker *pW = 0;
  int rc = ssoStoreOpen(e->zDb, &pStore);
  SSO_UNUSED(iWorker);
  if( rc ){ ssoStoreClose(pStore); return rc; }
  rc = ssoApiWorkerNew(&e->api, pStore, &pW);
  if( rc ) return rc;
  *ppCtx = pW;
  return SSOPROXY_OK;
}
static void oiWorkerFree(void *pArg, int iWorker, void *pCtx){
  SSO_UNUSED(pArg); SSO_UNUSED(iWorker);
  ssoApiWorkerFree(pCtx);
}
static void *oiSpThread(void *pArg){
  OiEnv *e = pArg;
  ssoServerRun(e->pSp);
  return 0;
}

/* Start the IdP with its routes. */
static int oiIdpStart(OiEnv *e){
  SsoServerConfig c;
  static char zDisc[] = "disc", zJwks[] = "jwks", zToken[] = "token",
              zUser[] = "userinfo";
  ssoServerConfigInit(&c);
  c.zListen = "127.0.0.1:0";
  c.nWorker = 1;
  memset(&e->idp, 0, sizeof(e->idp));
  if( ssoServerNew(&c, &e->idp.p) ){ ssoServerFree(e->idp.p); return -1; }
  if( ssoServerRoute(e->idp.p, "GET", "/.well-known/openid-configuration",
                     oiIdpRoute, zDisc)
   || ssoServerRoute(e->idp.p, "GET", "/jwks", oiIdpRoute, zJwks)
   || ssoServerRoute(e->idp.p, "POST", "/token", oiIdpRoute, zToken)
   || ssoServerRoute(e->idp.p, "GET", "/userinfo", oiIdpRoute, zUser)
   || pthread_create(&e->idp.tid, 0, tsThread, &e->idp) ){
    ssoServerFree(e->idp.p);
    return -1;
  }
  e->idp.bRunning = 1;
  e->idp.iPort = tsPortOf(ssoServerAddress(e->idp.p));
  snprintf(e->zIdp, sizeof(e->zIdp), "http://127.0.0.1:%d", e->idp.iPort);
  return 0;
}

/* The default IdP: discovery, one key "k1", a good token and userinfo. */
static void oiIdpReset(OiEnv *e, int bIssParam){
  SsoBuf b;
  pthread_mutex_lock(&gOi.mu);
  snprintf(gOi.zIssuer, sizeof(gOi.zIssuer), "%s", e->zIdp);
  snprintf(gOi.zDisc, sizeof(gOi.zDisc), "{\"issuer\":\"%s\","
           "\"authorization_endpoint\":\"%s/auth\",\"token_endpoint\":"
           "\"%s/token\",\"userinfo_endpoint\":\"%s/userinfo\",\"jwks_uri\":"
           "\"%s/jwks\",\"end_session_endpoint\":\"%s/logout\"%s}",
           e->zIdp, e->zIdp, e->zIdp, e->zIdp, e->zIdp, e->zIdp,
           bIssParam ? ",\"authorization_response_iss_parameter_supported\":"
                       "true" : "");
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{\"keys\":[");
  oiJwk(&b, 0, "k1");
  ssoBufAppendStr(&b, "]}");
  snprintf(gOi.zJwks, sizeof(gOi.zJwks), "%s", ssoBufStr(&b));
  ssoBufFree(&b);
  gOi.nDisc = gOi.nJwks = gOi.nToken = gOi.nUserinfo = 0;
  gOi.iTokenStatus = 200;
  gOi.zToken[0] = 0;
  snprintf(gOi.zUserinfo, sizeof(gOi.zUserinfo), "{\"sub\":\"u-1\","
           "\"preferred_username\":\"ada\",\"email\":\"ada@corp.local\","
           "\"litellm_role\":\"proxy_admin\",\"groups\":[\"g1\"]}");
  pthread_mutex_unlock(&gOi.mu);
}

/*
** Start everything. bDisc: GENERIC_ISSUER (discovery); else explicit
** endpoints without a JWKS (the seed guide). Returns 0 on success.
*/
static int oiStart(OiEnv *e, int bDisc, const SsoOidcConfig *pExtra){
  SsoServerConfig sc;
  SsoOidcConfig c;
  char zErr[512], zAuth[96], zToken[96], zUser[96], zBase[64];
  memset(e, 0, sizeof(*e));
  if( oiKeys() || oiIdpStart(e) ) return -1;
  oiIdpReset(e, 0);
  snprintf(e->zDb, sizeof(e->zDb), "/tmp/ssoproxy-oidc-%d.db", (int)getpid());
  unlink(e->zDb);
  ssoLogInit(&e->log, -1, SSO_LOG_OFF, 0);
  ssoApiInit(&e->api, 0, &e->log);
  ssoClientConfigInit(&e->cc);
  e->cc.msFirstByte = 2000;
  e->api.pClientCfg = &e->cc;
  ssoServerConfigInit(&sc);
  sc.zListen = "127.0.0.1:0";
  sc.nWorker = 1;
  sc.xWorkerInit = oiWorkerInit;
  sc.xWorkerFree = oiWorkerFree;
  sc.pWorkerArg = e;
  if( ssoServerNew(&sc, &e->pSp) ){ ssoServerFree(e->pSp); e->pSp = 0;
                                    return -1; }
  e->iSpPort = tsPortOf(ssoServerAddress(e->pSp));
  snprintf(zBase, sizeof(zBase), "http://127.0.0.1:%d", e->iSpPort);
  if( pExtra ) c = *pExtra; else memset(&c, 0, sizeof(c));
  c.zBaseUrl = zBase;
  c.zClientId = "litellm";
  c.zClientSecret = "lite+llm%secret";
  c.zRoleAttr = c.zRoleAttr ? c.zRoleAttr : "litellm_role";
  snprintf(zAuth, sizeof(zAuth), "%s/auth", e->zIdp);
  snprintf(zToken, sizeof(zToken), "%s/token", e->zIdp);
  snprintf(zUser, sizeof(zUser), "%s/userinfo", e->zIdp);
  if( bDisc ){
    c.zIssuer = e->zIdp;
  }else{
    c.zAuthorizationEndpoint = zAuth;
    if( c.zTokenEndpoint==0 ) c.zTokenEndpoint = zToken;
    c.zUserinfoEndpoint = zUser;
  }
  ssoSessionInit(&e->sess, zBase, 3600000, 7200000);
  if( ssoOidcNew(&c, &e->sess, &e->pOidc, zErr, sizeof(zErr)) ){
    fprintf(stderr, "  oidc: %s\n", zErr);
    return -1;
  }
  if( ssoOidcRegister(e->pSp, e->pOidc)
   || pthread_create(&e->tSp, 0, oiSpThread, e) ){
    return -1;
  }
  return 0;
}

static void oiStop(OiEnv *e){
  if( e->pSp ){
    ssoServerStop(e->pSp);
    if( e->tSp ) pthread_join(e->tSp, 0);
    ssoServerFree(e->pSp);
  }
  tsStop(&e->idp);
  ssoOidcFree(e->pOidc);
  unlink(e->zDb);
  {
    char z[80];
    snprintf(z, sizeof(z), "%s-wal", e->zDb); unlink(z);
    snprintf(z, sizeof(z), "%s-shm", e->zDb); unlink(z);
  }
}

/* One browser's login in progress. */
typedef struct OiLogin OiLogin;
struct OiLogin {
  int iStatus;
  char zLocation[2048];
  char zCookie[128];        /* "ssoproxy_login=..." */
  char zState[64], zNonce[64], zChallenge[64];
};

/* A request to the relying party; the answer in *r (respFree it). */
static int oiGet(const OiEnv *e, const char *zTarget, const char *zCookie,
                 Resp *r){
  Cli c;
  char zReq[4096];
  int rc;
  memset(r, 0, sizeof(*r));
  if( cliOpenAt(&c, AF_INET, e->iSpPort) ) return -1;
  snprintf(zReq, sizeof(zReq), "GET %s HTTP/1.1\r\nHost: t\r\n%s%s%s"
           "Connection: close\r\n\r\n", zTarget, zCookie ? "Cookie: " : "",
           zCookie ? zCookie : "", zCookie ? "\r\n" : "");
  rc = cliSend(&c, zReq) ? -1 : cliRead(&c, r, 0);
  cliClose(&c);
  return rc;
}

static void oiHdr(const Resp *r, const char *zName, char *z, size_t n){
  SsoStr v;
  z[0] = 0;
  if( ssoHttpHeaderFind(&r->h, zName, &v) ){
    snprintf(z, n, "%.*s", (int)v.n, v.z);
  }
}

/* Start a login at /sso/key/generate[?rd=zRd]. Returns 0 on a redirect. */
static int oiBegin(const OiEnv *e, const char *zRd, OiLogin *pL){
  Resp r;
  char zTarget[512], zSet[512];
  SsoArena a;
  SsoUrl u;
  SsoForm f;
  SsoStr v;
  int rc = -1;
  memset(pL, 0, sizeof(*pL));
  snprintf(zTarget, sizeof(zTarget), "/sso/key/generate%s%s",
           zRd ? "?rd=" : "", zRd ? zRd : "");
  if( oiGet(e, zTarget, 0, &r) ) return -1;
  pL->iStatus = r.iStatus;
  oiHdr(&r, "location", pL->zLocation, sizeof(pL->zLocation));
  oiHdr(&r, "set-cookie", zSet, sizeof(zSet));
  respFree(&r);
  snprintf(pL->zCookie, sizeof(pL->zCookie), "%.*s",
           (int)strcspn(zSet, ";"), zSet);
  ssoArenaInit(&a, 0);
  if( ssoUrlParse(&a, pL->zLocation, strlen(pL->zLocation), &u, 0)==0
   && ssoFormParse(&a, u.query.z, u.query.n, &f, 0)==0 ){
    if( ssoFormGet(&f, "state", &v)==0 ){
      snprintf(pL->zState, sizeof(pL->zState), "%s", v.z);
    }
    if( ssoFormGet(&f, "nonce", &v)==0 ){
      snprintf(pL->zNonce, sizeof(pL->zNonce), "%s", v.z);
    }
    if( ssoFormGet(&f, "code_challenge", &v)==0 ){
      snprintf(pL->zChallenge, sizeof(pL->zChallenge), "%s", v.z);
    }
    rc = 0;
  }
  ssoArenaFree(&a);
  return rc;
}

/*
** The IdP's next token answer: an id_token with these claims (iss "" =
** the IdP; zNonce NULL = the login's; tExp seconds from now), signed as
** oiSign does.
*/
static void oiSetToken(const OiEnv *e, const OiLogin *pL, const char *zAlg,
                       int iKey, const char *zKid, const char *zIss,
                       const char *zSub, const char *zNonce, long long tExp){
  SsoBuf b, tok;
  char zPayload[1024];
  long long tNow = ssoOsNowMs()/1000;
  snprintf(zPayload, sizeof(zPayload), "{\"iss\":\"%s\",\"aud\":\"litellm\","
           "\"sub\":\"%s\",\"exp\":%lld,\"iat\":%lld,\"nonce\":\"%s\","
           "\"preferred_username\":\"ada\"}", zIss ? zIss : e->zIdp,
           zSub, tNow + tExp, tNow - 1, zNonce ? zNonce : pL->zNonce);
  ssoBufInit(&tok, 0);
  oiSign(&tok, zAlg, iKey, zKid, zPayload);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "{\"access_token\":\"at-%s\",\"token_type\":\"Bearer\","
               "\"id_token\":\"%s\"}", pL->zState, ssoBufStr(&tok));
  pthread_mutex_lock(&gOi.mu);
  snprintf(gOi.zToken, sizeof(gOi.zToken), "%s", ssoBufStr(&b));
  pthread_mutex_unlock(&gOi.mu);
  ssoBufFree(&tok);
  ssoBufFree(&b);
}

/* GET /sso/callback?code=c&state=<login's>[zExtra] with its cookie. */
static int oiCallback(const OiEnv *e, const OiLogin *pL, const char *zExtra,
                      int bCookie, Resp *r){
  char zTarget[1024];
  snprintf(zTarget, sizeof(zTarget), "/sso/callback?code=the-code&state=%s%s",
           pL->zState, zExtra ? zExtra : "");
  return oiGet(e, zTarget, bCookie ? pL->zCookie : 0, r);
}

/* The stored user "ada": 1 and her role in zRole, or 0. */
static int oiUser(const OiEnv *e, char *zRole, size_t nRole){
  SsoStore *pStore = 0;
  SsoArena a;
  SsoUser u;
  int bFound = 0;
  zRole[0] = 0;
  ssoArenaInit(&a, 0);
  if( ssoStoreOpen(e->zDb, &pStore)==SSOPROXY_OK
   && ssoStoreUserGet(pStore, "ada", &a, &u)==SSOPROXY_OK ){
    bFound = 1;
    snprintf(zRole, nRole, "%s", u.zRole);
  }
  ssoStoreClose(pStore);
  ssoArenaFree(&a);
  return bFound;
}

static int oiCount(int *pn){
  int n;
  pthread_mutex_lock(&gOi.mu);
  n = *pn;
  pthread_mutex_unlock(&gOi.mu);
  return n;
}

/* A refused callback: status, message, no user, calls stopped at nCalls
** token requests. */
#define OI_REFUSED(r, iWant, zWant) do{ \
    char zR_[64]; \
    CHECK_INT( (r).iStatus, iWant ); \
    if( (r).zBody==0 || strstr((r).zBody, zWant)==0 ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: body \"%s\" lacks \"%s\"\n", __FILE__, \
              __LINE__, (r).zBody ? (r).zBody : "", zWant); } \
    CHECK( !oiUser(&e, zR_, sizeof(zR_)) ); \
  }while(0)

/* ================= Whole logins ================= */

/* Discovery, JWKS, a signed token, userinfo: a user with the claim's role,
** and what went over the wire. */
static void test_oidc_login_discovery(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  char zRole[64], zWant[512], zExp[64];
  unsigned char aHash[32];
  SsoArena a;
  SsoForm f;
  SsoStr v;
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, "/keys%3Fx%3D1", &L), 0 );
  CHECK_INT( L.iStatus, 302 );
  snprintf(zWant, sizeof(zWant), "%s/auth?response_type=code&", e.zIdp);
  CHECK( strncmp(L.zLocation, zWant, strlen(zWant))==0 );
  CHECK( strncmp(L.zCookie, "ssoproxy_login=", 15)==0
         && strlen(L.zCookie)==15+43 );
  CHECK( strlen(L.zState)==43 && strlen(L.zNonce)==43 );
  CHECK_INT( oiCount(&gOi.nDisc), 1 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  CHECK( respHdr(&r, "location", "/keys?x=1") );
  respFree(&r);
  CHECK( oiUser(&e, zRole, sizeof(zRole)) );
  CHECK_STR( zRole, "proxy_admin" );
  /* Discovery and keys were read once and cached. */
  CHECK_INT( oiCount(&gOi.nDisc), 1 );
  CHECK_INT( oiCount(&gOi.nJwks), 1 );
  CHECK_INT( oiCount(&gOi.nUserinfo), 1 );
  pthread_mutex_lock(&gOi.mu);
  /* client_secret_basic, form-encoded first (RFC 6749 §2.3.1). */
  CHECK_STR( gOi.zTokenAuth, "Basic bGl0ZWxsbTpsaXRlJTJCbGxtJTI1c2VjcmV0" );
  snprintf(zWant, sizeof(zWant), "Bearer at-%s", L.zState);
  CHECK_STR( gOi.zUserinfoAuth, zWant );
  /* The PKCE verifier sent hashes to the challenge of the redirect. */
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoFormParse(&a, gOi.zTokenBody, strlen(gOi.zTokenBody), &f, 0),
             SSOPROXY_OK );
  CHECK( ssoFormGet(&f, "grant_type", &v)==0
         && strcmp(v.z, "authorization_code")==0 );
  CHECK( ssoFormGet(&f, "code", &v)==0 && strcmp(v.z, "the-code")==0 );
  CHECK( ssoFormGet(&f, "client_secret", 0)==SSOPROXY_NOTFOUND );
  if( ssoFormGet(&f, "code_verifier", &v)==0 ){
    ssoSha256(v.z, v.n, aHash);
    ssoB64EncodeTo(aHash, 32, SSO_B64_URL, zExp);
    CHECK_STR( zExp, L.zChallenge );
  }else{
    CHECK( 0 );
  }
  ssoArenaFree(&a);
  pthread_mutex_unlock(&gOi.mu);
  /* The state is used up: the same answer again is refused. */
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 400 );
  CHECK( r.zBody && strstr(r.zBody, "already been used") );
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nToken), 1 );
  /* A return-to that is not a local path becomes /ui. */
  CHECK_INT( oiBegin(&e, "//evil.example/x", &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  CHECK( respHdr(&r, "location", "/ui") );
  respFree(&r);
  /* Logout goes to the discovered end_session_endpoint. */
  {
    SsoBuf b;
    ssoBufInit(&b, 0);
    CHECK_INT( ssoOidcLogoutUrl(e.pOidc, "tok", &b), 1 );
    snprintf(zWant, sizeof(zWant), "%s/logout?id_token_hint=tok&"
             "post_logout_redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fui",
             e.zIdp, e.iSpPort);
    CHECK( strncmp(ssoBufStr(&b), zWant, strlen(zWant))==0 );
    ssoBufFree(&b);
  }
  oiStop(&e);
}

/* RFC 9207: an iss parameter naming another issuer stops the login before
** the code is sent anywhere. */
static void test_oidc_iss_param(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  char zExtra[128];
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, "&iss=https%3A%2F%2Fevil.example", 1, &r), 0 );
  OI_REFUSED(r, 400, "iss parameter");
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nToken), 0 );
  /* The right one passes. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  snprintf(zExtra, sizeof(zExtra), "&iss=http%%3A%%2F%%2F127.0.0.1%%3A%d",
           e.idp.iPort);
  CHECK_INT( oiCallback(&e, &L, zExtra, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  oiStop(&e);
  /* An IdP that announces the parameter must send it (§2.4). */
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  oiIdpReset(&e, 1);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "iss parameter");
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nToken), 0 );
  oiStop(&e);
}

/* Userinfo about someone else (OIDC Core 5.3.2). */
static void test_oidc_userinfo_sub(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-2", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "sub differs");
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nUserinfo), 1 );
  oiStop(&e);
}

/* The token endpoint refuses the code; then it cannot be reached. */
static void test_oidc_token_error(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  SsoOidcConfig x;
  if( oiStart(&e, 0, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  pthread_mutex_lock(&gOi.mu);
  gOi.iTokenStatus = 400;
  snprintf(gOi.zToken, sizeof(gOi.zToken), "{\"error\":\"invalid_grant\","
           "\"error_description\":\"grant request is <invalid>\"}");
  pthread_mutex_unlock(&gOi.mu);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "invalid_grant");
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nToken), 1 );
  CHECK_INT( oiCount(&gOi.nUserinfo), 0 );
  oiStop(&e);
  /* A token endpoint nobody listens on: 502, quickly. */
  memset(&x, 0, sizeof(x));
  x.zTokenEndpoint = "http://127.0.0.1:1/token";
  if( oiStart(&e, 0, &x) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 502, "token endpoint");
  respFree(&r);
  oiStop(&e);
}

/* A replayed or foreign nonce (OIDC Core 3.1.3.7 item 11), an expired
** token, alg none: each refused before userinfo is called. */
static void test_oidc_id_token_checks(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", "another-nonce", 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "nonce");
  respFree(&r);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, -600);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "exp");
  respFree(&r);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "none", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "signature");
  respFree(&r);
  /* Signed by a key the IdP does not publish under that kid. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 1, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "signature");
  respFree(&r);
  /* Another issuer. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", "https://evil.example", "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "iss");
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nUserinfo), 0 );
  oiStop(&e);
}

/* Key rotation: an unknown kid makes one JWKS re-fetch, no more. */
static void test_oidc_jwks_refetch(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  char zRole[64];
  SsoBuf b;
  if( oiStart(&e, 1, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nJwks), 1 );
  /* The IdP rotates to k2; the cached set does not have it. */
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{\"keys\":[");
  oiJwk(&b, 1, "k2");
  ssoBufAppendStr(&b, "]}");
  pthread_mutex_lock(&gOi.mu);
  snprintf(gOi.zJwks, sizeof(gOi.zJwks), "%s", ssoBufStr(&b));
  pthread_mutex_unlock(&gOi.mu);
  ssoBufFree(&b);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 1, "k2", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nJwks), 2 );
  CHECK( oiUser(&e, zRole, sizeof(zRole)) );
  /* A made-up kid right after: refused without another fetch. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 1, "k3", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 400 );
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nJwks), 2 );
  oiStop(&e);
}

/* The seed guide's setup: no issuer, no JWKS; state misuse. */
static void test_oidc_state(void){
  OiEnv e;
  OiLogin L, L2, Ln;
  Resp r;
  SsoOidcConfig x;
  char zRole[64];
  memset(&x, 0, sizeof(x));
  x.nStateTtl = 1;
  if( oiStart(&e, 0, &x) ){ CHECK( 0 ); oiStop(&e); return; }
  /* Missing state. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  CHECK_INT( oiGet(&e, "/sso/callback?code=c", L.zCookie, &r), 0 );
  OI_REFUSED(r, 400, "no state");
  respFree(&r);
  /* Unknown state. */
  CHECK_INT( oiGet(&e, "/sso/callback?code=c&state=made-up", L.zCookie, &r),
             0 );
  OI_REFUSED(r, 400, "unknown");
  respFree(&r);
  /* Another browser (no cookie, or another browser's cookie): refused,
  ** and the state is used up for the right browser too. */
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 0, &r), 0 );
  OI_REFUSED(r, 400, "another browser");
  respFree(&r);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "already been used");
  respFree(&r);
  CHECK_INT( oiBegin(&e, 0, &L2), 0 );
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  memcpy(L.zCookie, L2.zCookie, sizeof(L.zCookie));
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "another browser");
  respFree(&r);
  /* An IdP error is shown, escaped by the page, after the state check. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  CHECK_INT( oiCallback(&e, &L, "&error=access_denied&error_description="
                        "User+said+no", 1, &r), 0 );
  OI_REFUSED(r, 403, "access_denied: User said no");
  respFree(&r);
  /* Expired (SSOPROXY_LOGIN_STATE_TTL=1). */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  usleep(1100*1000);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 400 );
  CHECK( r.zBody && (strstr(r.zBody, "expired") || strstr(r.zBody, "unknown")) );
  respFree(&r);
  CHECK_INT( oiCount(&gOi.nToken), 0 );
  /* Without a key set the back channel vouches for the token, but an
  ** unsigned one (alg none) is still refused. */
  CHECK_INT( oiBegin(&e, 0, &Ln), 0 );
  oiSetToken(&e, &Ln, "none", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &Ln, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "alg none");
  respFree(&r);
  /* Back-channel mode: an unverified signature is accepted, but an iss
  ** from another origin is not. */
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 1, "zz", "https://evil.example", "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 400, "issuer");
  respFree(&r);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 1, "zz", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  CHECK( oiUser(&e, zRole, sizeof(zRole)) );
  CHECK_STR( zRole, "proxy_admin" );
  oiStop(&e);
}

/* Policy: e-mail domains, disabled users, local users not taken over,
** role sync on the next login, audited. */
static void test_oidc_policy(void){
  OiEnv e;
  OiLogin L;
  Resp r;
  SsoOidcConfig x;
  SsoStore *pStore = 0;
  SsoArena a;
  SsoUser u;
  char zRole[64];
  int nAudit = 0;
  memset(&x, 0, sizeof(x));
  x.zEmailDomains = "example.com";
  if( oiStart(&e, 0, &x) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  OI_REFUSED(r, 403, "ALLOWED_EMAIL_DOMAINS");
  respFree(&r);
  oiStop(&e);

  if( oiStart(&e, 0, 0) ){ CHECK( 0 ); oiStop(&e); return; }
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  CHECK( oiUser(&e, zRole, sizeof(zRole)) );
  CHECK_STR( zRole, "proxy_admin" );
  /* The role changes at the IdP: synced, and audited as role_change. */
  pthread_mutex_lock(&gOi.mu);
  snprintf(gOi.zUserinfo, sizeof(gOi.zUserinfo), "{\"sub\":\"u-1\","
           "\"preferred_username\":\"ada\",\"email\":\"ada@corp.local\","
           "\"litellm_role\":\"Internal_User\"}");
  pthread_mutex_unlock(&gOi.mu);
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 302 );
  respFree(&r);
  CHECK( oiUser(&e, zRole, sizeof(zRole)) );
  CHECK_STR( zRole, "internal_user" );
  ssoArenaInit(&a, 0);
  CHECK_INT( ssoStoreOpen(e.zDb, &pStore), SSOPROXY_OK );
  {
    SsoAudit *aA = 0;
    int i;
    CHECK_INT( ssoStoreAuditList(pStore, "user", "ada", 0, 10, &a, &aA,
                                 &nAudit), SSOPROXY_OK );
    CHECK_INT( nAudit, 2 );
    for(i=0; i<nAudit; i++) CHECK_STR( aA[i].zActor, "sso" );
    if( nAudit==2 ){
      CHECK_STR( aA[0].zAction, "role_change" );
      CHECK_STR( aA[1].zAction, "create" );
    }
  }
  /* Disabled: refused. */
  CHECK_INT( ssoStoreUserGet(pStore, "ada", &a, &u), SSOPROXY_OK );
  u.bDisabled = 1;
  CHECK_INT( ssoStoreUserUpdate(pStore, &u), SSOPROXY_OK );
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 403 );
  CHECK( r.zBody && strstr(r.zBody, "disabled") );
  respFree(&r);
  /* A local user with that id: refused, not taken over. */
  CHECK_INT( ssoStoreUserDelete(pStore, "ada"), SSOPROXY_OK );
  memset(&u, 0, sizeof(u));
  u.zId = "ada";
  u.zRole = "internal_user_viewer";
  u.zSource = "local";
  CHECK_INT( ssoStoreUserInsert(pStore, &u), SSOPROXY_OK );
  CHECK_INT( oiBegin(&e, 0, &L), 0 );
  oiSetToken(&e, &L, "RS256", 0, "k1", 0, "u-1", 0, 300);
  CHECK_INT( oiCallback(&e, &L, 0, 1, &r), 0 );
  CHECK_INT( r.iStatus, 409 );
  CHECK( r.zBody && strstr(r.zBody, "created locally") );
  respFree(&r);
  CHECK_INT( ssoStoreUserGet(pStore, "ada", &a, &u), SSOPROXY_OK );
  CHECK_STR( u.zSource, "local" );
  CHECK_STR( u.zRole, "internal_user_viewer" );
  ssoStoreClose(pStore);
  ssoArenaFree(&a);
  oiStop(&e);
}

static const TestCase aOidcTests[] = {
  TEST_CASE(test_oidc_settings),
  TEST_CASE(test_oidc_auth_url),
  TEST_CASE(test_oidc_roles),
  TEST_CASE(test_oidc_email_domains),
  TEST_CASE(test_oidc_login_discovery),
  TEST_CASE(test_oidc_iss_param),
  TEST_CASE(test_oidc_userinfo_sub),
  TEST_CASE(test_oidc_token_error),
  TEST_CASE(test_oidc_id_token_checks),
  TEST_CASE(test_oidc_jwks_refetch),
  TEST_CASE(test_oidc_state),
  TEST_CASE(test_oidc_policy),
};
