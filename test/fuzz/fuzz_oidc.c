/*
** Fuzz target for the relying party's parsers (src/oidc.c): the settings
** it reads at start (GENERIC_ROLE_MAPPINGS_ROLES, GENERIC_SSO_HEADERS,
** ALLOWED_EMAIL_DOMAINS) and the identity it reads from an IdP's claims
** (dot-path claim lookup, role names, group lists). The input is
**
**   byte 0    which claims: 0 userinfo only, 1 id_token only, 2 both
**   then      up to three '\n'-separated fields: the role mappings, the
**             SSO headers, the allowed e-mail domains; the rest is the
**             claims JSON.
**
** A configuration is refused or accepted cleanly; with one accepted,
** the identity is refused or has a user id, a role that is one of the
** four (or none) and a groups list that is a JSON array; the stored role
** is always one of the four; no memory is left behind.
*/
#include "../../ssoproxy.c"

/* The next '\n'-separated field of z[0..*pn) as a C string in zOut. */
static void fzField(const char **pz, size_t *pn, char *zOut, size_t nOut){
  const char *zNl = memchr(*pz, '\n', *pn);
  size_t k = zNl ? (size_t)(zNl - *pz) : *pn;
  size_t nCopy = k < nOut-1 ? k : nOut-1;
  memcpy(zOut, *pz, nCopy);
  zOut[nCopy] = 0;
  if( memchr(zOut, 0, nCopy) ) zOut[0] = 0;
  *pz += k + (zNl ? 1 : 0);
  *pn -= k + (zNl ? 1 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  const char *z = (const char*)aData;
  char zMap[2048], zHdr[1024], zDom[512], zErr[512];
  long long nBefore;
  SsoOidcConfig c;
  SsoSessions s;
  SsoOidc *p = 0;
  size_t n;
  int eWhich;
  if( nData<1 ) return 0;
  nBefore = ssoMemUsed();
  eWhich = aData[0] % 3;
  z++;
  n = nData - 1;
  fzField(&z, &n, zMap, sizeof(zMap));
  fzField(&z, &n, zHdr, sizeof(zHdr));
  fzField(&z, &n, zDom, sizeof(zDom));
  memset(&c, 0, sizeof(c));
  c.zBaseUrl = "https://llm.example.com";
  c.zClientId = "litellm";
  c.zClientSecret = "secret";
  c.zIssuer = "https://idp.example.com";
  c.zRoleAttr = "realm_access.roles";
  c.zGroupClaim = "groups";
  c.zRoleMappings = zMap;
  c.zSsoHeaders = zHdr;
  c.zEmailDomains = zDom;
  ssoSessionInit(&s, c.zBaseUrl, 1000, 2000);
  if( ssoOidcNew(&c, &s, &p, zErr, sizeof(zErr))==SSOPROXY_OK ){
    SsoJsonDoc *pDoc = 0;
    if( p==0 ) abort();
    if( ssoJsonParse(z, n, 0, &pDoc, 0)==SSOPROXY_OK ){
      OidcClaims cl;
      OidcIdentity id;
      SsoArena a;
      const char *zWhy = 0;
      int rc;
      ssoArenaInit(&a, 0);
      cl.pUser = eWhich!=1 ? ssoJsonRoot(pDoc) : 0;
      cl.pId = eWhich!=0 ? ssoJsonRoot(pDoc) : 0;
      rc = oidcIdentity(p, &cl, &a, &id, &zWhy);
      if( rc==SSOPROXY_OK ){
        SsoJsonDoc *pGroups = 0;
        SsoUser old;
        int e;
        if( id.zId==0 || id.eRole<0 || id.eRole>=SSO_ROLE_COUNT ) abort();
        if( ssoJsonParse(id.zGroups, strlen(id.zGroups), 0, &pGroups, 0)
         || ssoJsonType(ssoJsonRoot(pGroups))!=SSO_JSON_ARRAY ){
          abort();
        }
        ssoJsonFree(pGroups);
        memset(&old, 0, sizeof(old));
        old.zRole = "internal_user";
        e = oidcRoleToStore(p, &id, 0);
        if( e<=SSO_ROLE_NONE || e>=SSO_ROLE_COUNT ) abort();
        e = oidcRoleToStore(p, &id, &old);
        if( e<=SSO_ROLE_NONE || e>=SSO_ROLE_COUNT ) abort();
      }else if( rc==SSOPROXY_CONSTRAINT ){
        if( zWhy==0 ) abort();
      }else if( rc!=SSOPROXY_NOMEM ){
        abort();
      }
      ssoArenaFree(&a);
      ssoJsonFree(pDoc);
    }
    ssoOidcFree(p);
  }else if( p!=0 || zErr[0]==0 ){
    abort();
  }
  if( ssoMemUsed()!=nBefore ) abort();
  return 0;
}
