/*
** Fuzz target for the cookie parser of the session module. The input is
** split at '\n' into Cookie header fields (so several fields are tried
** too). Checks, for every input:
**  - the parser never reads outside the fields;
**  - a value found lies inside one field, has no ';' in it, has no
**    whitespace at either end unless it was quoted, and the field really holds "name=" just
**    before it (allowing whitespace and an opening DQUOTE);
**  - the id check accepts only 43 base64url characters.
*/
#include "../../ssoproxy.c"

#define FUZZ_MAX_FIELDS 8

static void checkName(const SsoHttpHeader *aHdr, int nHdr, const char *zName){
  SsoStr v;
  const char *z;
  int i, rc = ssoSessionCookieGet(aHdr, nHdr, zName, &v);
  size_t nName = strlen(zName);
  if( rc==SSOPROXY_NOTFOUND ){
    if( v.n!=0 ) abort();
    return;
  }
  if( rc!=SSOPROXY_OK ) abort();
  for(i=0; i<nHdr; i++){
    const char *z0 = aHdr[i].value.z, *z1 = z0 + aHdr[i].value.n;
    if( v.z>=z0 && v.z+v.n<=z1 ) break;
  }
  if( i==nHdr ) abort();
  if( v.n>0 && memchr(v.z, ';', v.n) ) abort();
  /* Outside DQUOTEs a value never starts or ends with whitespace. */
  if( v.n>0 && !(v.z>aHdr[i].value.z && v.z[-1]=='"') ){
    if( v.z[0]==' ' || v.z[0]=='\t' ) abort();
    if( v.z[v.n-1]==' ' || v.z[v.n-1]=='\t' ) abort();
  }
  /* Walk back over an optional DQUOTE and whitespace to the '='. */
  z = v.z - 1;
  if( z>=aHdr[i].value.z && *z=='"' ) z--;
  while( z>=aHdr[i].value.z && (*z==' ' || *z=='\t') ) z--;
  if( z<aHdr[i].value.z || *z!='=' ) abort();
  z--;
  while( z>=aHdr[i].value.z && (*z==' ' || *z=='\t') ) z--;
  if( z+1-aHdr[i].value.z < (long)nName ) abort();
  if( memcmp(z+1-nName, zName, nName)!=0 ) abort();
  if( ssoSessionIdWellFormed(v.z, v.n) && v.n!=SSO_SESSION_ID_LEN ) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);
int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  SsoHttpHeader aHdr[FUZZ_MAX_FIELDS];
  const char *z = (const char*)aData, *zEnd = z + nData;
  int nHdr = 0;
  while( nHdr<FUZZ_MAX_FIELDS ){
    const char *zNl = memchr(z, '\n', (size_t)(zEnd-z));
    const char *zStop = zNl ? zNl : zEnd;
    aHdr[nHdr].name.z = "Cookie";
    aHdr[nHdr].name.n = 6;
    aHdr[nHdr].value.z = z;
    aHdr[nHdr].value.n = (size_t)(zStop-z);
    nHdr++;
    if( zNl==0 ) break;
    z = zNl+1;
  }
  checkName(aHdr, nHdr, "ssoproxy_session");
  checkName(aHdr, nHdr, "__Host-ssoproxy_session");
  checkName(aHdr, nHdr, "a");
  ssoSessionIdWellFormed((const char*)aData, nData);
  return 0;
}
