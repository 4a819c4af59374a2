/*
** Fuzz target for the url module. For every input:
**  - as a URL: when it parses, rebuild it from its parts and parse that
**    again; every part must come back the same. The origin, host:port
**    and request target must build, and the query must survive adding
**    parameters with ssoUrlAppendQuery();
**  - as a query string or form body: when it parses, serialize the pairs
**    with ssoFormAppend() and parse them again; the same pairs, in order,
**    must come back, and duplicate reporting must agree with ssoFormGet();
**  - as percent-encoded text in both modes: what decodes re-encodes to
**    something that decodes to the same bytes; and the raw input encodes
**    to text that decodes back to the input.
** Any disagreement abort()s, so libFuzzer records the input.
*/
#include "../../ssoproxy.c"

static int strEq(const SsoStr *a, const SsoStr *b){
  return a->n==b->n && memcmp(a->z, b->z, a->n)==0
      && a->z[a->n]==0 && b->z[b->n]==0;
}

static void sameUrl(const SsoUrl *a, const SsoUrl *b){
  if( !strEq(&a->scheme, &b->scheme) || !strEq(&a->userinfo, &b->userinfo)
   || !strEq(&a->host, &b->host) || !strEq(&a->path, &b->path)
   || !strEq(&a->query, &b->query) || !strEq(&a->fragment, &b->fragment)
   || a->eHost!=b->eHost || a->iPort!=b->iPort
   || memcmp(a->aAddr, b->aAddr, 16)!=0
   || a->bAuthority!=b->bAuthority || a->bUserinfo!=b->bUserinfo
   || a->bPort!=b->bPort || a->bQuery!=b->bQuery
   || a->bFragment!=b->bFragment ){
    abort();
  }
}

static void checkUrl(const char *z, size_t n){
  static const char *azAdd[] = { "state", "x y", "code", "%&#" };
  SsoArena a;
  SsoUrl u, u2;
  SsoBuf b;
  SsoForm f;
  size_t iErr = 0, k;
  int rc;
  ssoArenaInit(&a, 0);
  ssoBufInit(&b, 0);
  rc = ssoUrlParse(&a, z, n, &u, &iErr);
  if( rc ){
    if( rc==SSOPROXY_PARSE && iErr>n ) abort();
    if( u.host.z==0 || u.host.n!=0 ) abort();
    goto end;
  }
  /* What the parser promises about the parts. */
  for(k=0; k<u.scheme.n; k++){
    if( u.scheme.z[k]>='A' && u.scheme.z[k]<='Z' ) abort();
  }
  for(k=0; k<u.host.n; k++){
    if( u.host.z[k]>='A' && u.host.z[k]<='Z' ) abort();
  }
  if( (u.scheme.n==4 && memcmp(u.scheme.z, "http", 4)==0)
   || (u.scheme.n==5 && memcmp(u.scheme.z, "https", 5)==0) ){
    if( u.eHost==SSO_URL_HOST_NONE || u.iPort<1 ) abort();
  }
  if( u.iPort<0 || u.iPort>65535 ) abort();
  if( ssoUrlIsLoopback(&u) && u.eHost!=SSO_URL_HOST_IPV4
      && u.eHost!=SSO_URL_HOST_IPV6 ) abort();
  /* Rebuild and re-parse. */
  ssoUrlAppend(&b, &u);
  if( b.rc ) goto end;
  rc = ssoUrlParse(&a, b.z, b.n, &u2, &iErr);
  if( rc ) abort();
  sameUrl(&u, &u2);
  ssoBufTruncate(&b, 0);
  ssoUrlAppendTarget(&b, &u);
  if( b.rc==0 && (b.n==0 || (u.bAuthority && b.z[0]!='/')) ) abort();
  ssoBufTruncate(&b, 0);
  rc = ssoUrlAppendOrigin(&b, &u);
  if( (rc==SSOPROXY_PARSE)!=(u.eHost==SSO_URL_HOST_NONE) ) abort();
  /* Parameters go into the query, before the fragment. */
  ssoBufTruncate(&b, 0);
  rc = ssoUrlAppendQuery(&b, z, n, azAdd, 2, 1);
  if( rc==SSOPROXY_OK ){
    SsoStr v;
    rc = ssoUrlParse(&a, b.z, b.n, &u2, &iErr);
    if( rc ) abort();
    if( !strEq(&u.fragment, &u2.fragment) || !strEq(&u.path, &u2.path) ){
      abort();
    }
    if( u2.query.n<u.query.n || memcmp(u2.query.z, u.query.z, u.query.n) ){
      abort();
    }
    rc = ssoFormParse(&a, u2.query.z, u2.query.n, &f, 0);
    if( rc==SSOPROXY_OK ){
      if( f.nParam<2 ) abort();
      if( strcmp(f.aParam[f.nParam-1].value.z, "%&#")!=0 ) abort();
      if( ssoFormGet(&f, "code", &v)==SSOPROXY_OK && strcmp(v.z, "%&#") ){
        abort();
      }
    }
  }
  if( u.bFragment ){
    ssoBufTruncate(&b, 0);
    if( ssoUrlAppendQuery(&b, z, n, azAdd, 2, 0)!=SSOPROXY_PARSE ) abort();
  }
end:
  ssoBufFree(&b);
  ssoArenaFree(&a);
}

static void checkForm(const char *z, size_t n){
  SsoArena a;
  SsoForm f, f2;
  SsoBuf b;
  const char **az = 0;
  size_t iErr = 0;
  int i, rc, iDup;
  ssoArenaInit(&a, 0);
  ssoBufInit(&b, 0);
  rc = ssoFormParse(&a, z, n, &f, &iErr);
  if( rc ){
    if( iErr>n || f.nParam!=0 ) abort();
    goto end;
  }
  if( f.nParam>SSO_FORM_MAX_PARAMS ) abort();
  iDup = ssoFormFirstDuplicate(&f);
  for(i=0; i<f.nParam; i++){
    int nCount = ssoFormCount(&f, f.aParam[i].name.z);
    int rcGet = ssoFormGet(&f, f.aParam[i].name.z, 0);
    if( nCount<1 || (nCount==1)!=(rcGet==SSOPROXY_OK) ) abort();
    if( nCount>1 && (iDup<0 || rcGet!=SSOPROXY_CONSTRAINT) ) abort();
    if( strlen(f.aParam[i].name.z)!=f.aParam[i].name.n ) abort();
    if( strlen(f.aParam[i].value.z)!=f.aParam[i].value.n ) abort();
  }
  /* Serialize and parse again: the same pairs in the same order. */
  az = malloc(sizeof(char*)*2*(size_t)(f.nParam+1));
  if( az==0 ) goto end;
  for(i=0; i<f.nParam; i++){
    az[2*i] = f.aParam[i].name.z;
    az[2*i+1] = f.aParam[i].value.z;
  }
  ssoFormAppend(&b, az, f.nParam);
  if( b.rc ) goto end;
  rc = ssoFormParse(&a, b.z, b.n, &f2, &iErr);
  if( rc ) abort();
  /* An empty name with an empty value serializes as "=", which is one
  ** pair, so the count is the same. */
  if( f2.nParam!=f.nParam ) abort();
  for(i=0; i<f.nParam; i++){
    if( !strEq(&f.aParam[i].name, &f2.aParam[i].name) ) abort();
    if( !strEq(&f.aParam[i].value, &f2.aParam[i].value) ) abort();
  }
end:
  free(az);
  ssoBufFree(&b);
  ssoArenaFree(&a);
}

static void checkPercent(const char *z, size_t n, unsigned mFlags){
  char *zOut = malloc(n+1), *zBack = 0;
  size_t nOut = 0, nBack = 0, iErr = 0;
  SsoBuf b;
  int rc;
  if( zOut==0 ) return;
  ssoBufInit(&b, 0);
  rc = ssoUrlDecode(z, n, mFlags, zOut, &nOut, &iErr);
  if( rc==SSOPROXY_OK ){
    if( nOut>n || zOut[nOut]!=0 ) abort();
    if( (mFlags & SSO_URL_NONUL) && memchr(zOut, 0, nOut) ) abort();
    ssoUrlEncode(&b, zOut, nOut, mFlags);
    if( b.rc ) goto end;
    zBack = malloc(b.n+1);
    if( zBack==0 ) goto end;
    if( ssoUrlDecode(b.z, b.n, mFlags, zBack, &nBack, 0) ) abort();
    if( nBack!=nOut || memcmp(zBack, zOut, nOut) ) abort();
  }else if( rc!=SSOPROXY_PARSE || iErr>=n
             || (z[iErr]!='%' && z[iErr]!=0) ){
    abort();
  }
  /* The raw input, encoded, decodes back to itself (NUL allowed here). */
  ssoBufTruncate(&b, 0);
  ssoUrlEncode(&b, z, n, mFlags & SSO_URL_FORM);
  if( b.rc ) goto end;
  free(zBack);
  zBack = malloc(b.n+1);
  if( zBack==0 ) goto end;
  if( ssoUrlDecode(b.z, b.n, mFlags & SSO_URL_FORM, zBack, &nBack, 0) ){
    abort();
  }
  if( nBack!=n || memcmp(zBack, z, n) ) abort();
end:
  ssoBufFree(&b);
  free(zBack);
  free(zOut);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  const char *z = (const char*)aData;
  checkUrl(z, nData);
  checkForm(z, nData);
  checkPercent(z, nData, 0);
  checkPercent(z, nData, SSO_URL_FORM|SSO_URL_NONUL);
  return 0;
}
