/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the configuration object behind ssoproxy_config_*. Settings
** come from defaults, a KEY=VALUE file (--config), the environment, the
** API and command-line flags, later sources overriding earlier ones; each
** value remembers where it came from so `ssoproxy config` can say.
**
** Every value is validated when it is set, against the type in the
** SSO_SETTINGS table, so a typo fails at start-up with one message naming
** the setting instead of surprising someone at the first request. In the
** environment, an unknown name with our SSOPROXY_ prefix is an error too
** (it is almost always a misspelling); other unknown variables are none
** of our business.
*/
#include "ssoInt.h"
#include <ctype.h>
#include <strings.h>

typedef struct Setting Setting;
struct Setting {
  const char *zName;      /* Canonical name */
  const char *zAlias;     /* Other accepted name, or NULL */
  int eType;              /* SSO_SET_* */
  const char *zDefault;   /* Default value, or NULL for none */
  long long iDefault;     /* Default of an SSO_SET_INT */
  long long iMin, iMax;   /* Range of an SSO_SET_INT */
  const char *zEnum;      /* Words of an SSO_SET_ENUM, '|'-separated */
  int bSecret;            /* Never print the value */
  const char *zHelp;      /* One line for --help and the README */
};

#define SSO_SETTING_ROW(id, name, alias, type, dflt, idflt, mn, mx, en, \
                        secret, help) \
  { name, alias, type, dflt, idflt, mn, mx, en, secret, help },
static const Setting aSetting[] = { SSO_SETTINGS(SSO_SETTING_ROW) };

typedef struct Value Value;
struct Value {
  char *zValue;           /* Owned; NULL = unset (use the default) */
  char *zWhere;           /* Owned; "FILE:LINE" for file values, else NULL */
  int eSrc;               /* SSO_SRC_* */
};

struct ssoproxy_config {
  Value aValue[SSO_CFG_COUNT];
  char zErr[1024];        /* Last error message */
};

#define cfgError(p, ...) \
  ssoErrorf((p)->zErr, sizeof((p)->zErr), SSOPROXY_CONFIG, __VA_ARGS__)

int ssoproxy_config_new(ssoproxy_config **pp){
  *pp = ssoMallocZero(sizeof(ssoproxy_config));
  return *pp ? SSOPROXY_OK : SSOPROXY_NOMEM;
}

void ssoproxy_config_free(ssoproxy_config *p){
  int i;
  if( p==0 ) return;
  for(i=0; i<SSO_CFG_COUNT; i++){
    ssoFree(p->aValue[i].zValue);
    ssoFree(p->aValue[i].zWhere);
  }
  ssoFree(p);
}

const char *ssoproxy_config_errmsg(const ssoproxy_config *p){
  if( p==0 ) return "no configuration";
  return p->zErr[0] ? p->zErr : "not an error";
}

static int findSetting(const char *zName){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    if( strcmp(aSetting[i].zName, zName)==0 ) return i;
    if( aSetting[i].zAlias && strcmp(aSetting[i].zAlias, zName)==0 ) return i;
  }
  return -1;
}

/* Parse a decimal integer with no sign tricks, spaces or overflow. */
static int parseInt(const char *z, long long *piOut){
  long long v = 0;
  int bNeg = 0;
  if( *z=='-' ){ bNeg = 1; z++; }
  if( *z==0 ) return 0;
  for(; *z; z++){
    if( *z<'0' || *z>'9' ) return 0;
    if( v > (LLONG_MAX - (*z-'0'))/10 ) return 0;
    v = v*10 + (*z-'0');
  }
  *piOut = bNeg ? -v : v;
  return 1;
}

static int boolValue(const char *z){
  static const char *const azTrue[] = { "1", "true", "yes", "on" };
  static const char *const azFalse[] = { "0", "false", "no", "off" };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTrue); i++){
    if( strcasecmp(z, azTrue[i])==0 ) return 1;
    if( strcasecmp(z, azFalse[i])==0 ) return 0;
  }
  return -1;
}

static int enumHas(const char *zEnum, const char *z){
  size_t n = strlen(z);
  while( zEnum && *zEnum ){
    const char *zEnd = strchr(zEnum, '|');
    size_t nWord = zEnd ? (size_t)(zEnd-zEnum) : strlen(zEnum);
    if( nWord==n && memcmp(zEnum, z, n)==0 ) return 1;
    zEnum = zEnd ? zEnd+1 : 0;
  }
  return 0;
}

/*
** host:port as the transport layer reads it (ssoLoopParseHostPort: a name,
** an IPv4 address, a bracketed IPv6 address or nothing for every
** interface; port 0..65535), with a host made only of the characters a
** host can have. Resolution happens when the server binds.
*/
static int validAddr(const char *z){
  char zHost[256];
  int iPort;
  const char *c;
  if( ssoLoopParseHostPort(z, zHost, sizeof(zHost), &iPort) ) return 0;
  for(c=zHost; *c; c++){
    if( !isalnum((unsigned char)*c) && *c!='.' && *c!='-' && *c!=':' ){
      return 0;
    }
  }
  return 1;
}

/* Returns 1 if zValue is acceptable for setting i, else sets an error. */
static int validate(ssoproxy_config *p, int i, const char *zValue,
                    const char *zWhere){
  const Setting *s = &aSetting[i];
  const char *zPre = zWhere ? zWhere : "";
  const char *zSep = zWhere ? ": " : "";
  const char *zShow = s->bSecret ? "(hidden)" : zValue;
  long long v;
  const char *z;
  for(z=zValue; *z; z++){
    if( (unsigned char)*z<0x20 || *z==0x7f ){
      cfgError(p, "%s%sinvalid value for %s: control character", zPre, zSep,
               s->zName);
      return 0;
    }
  }
  if( z-zValue > SSO_CONFIG_MAX_VALUE ){
    cfgError(p, "%s%sinvalid value for %s: longer than %d bytes", zPre, zSep,
             s->zName, SSO_CONFIG_MAX_VALUE);
    return 0;
  }
  switch( s->eType ){
    case SSO_SET_INT:
      if( parseInt(zValue, &v) && v>=s->iMin && v<=s->iMax ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected an integer "
               "from %lld to %lld)", zPre, zSep, s->zName, zShow, s->iMin,
               s->iMax);
      return 0;
    case SSO_SET_BOOL:
      if( boolValue(zValue)>=0 ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected true or false)",
               zPre, zSep, s->zName, zShow);
      return 0;
    case SSO_SET_ENUM:
      if( enumHas(s->zEnum, zValue) ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected one of %s)",
               zPre, zSep, s->zName, zShow, s->zEnum);
      return 0;
    case SSO_SET_ADDR:
      if( validAddr(zValue) ) return 1;
      cfgError(p, "%s%sinvalid value for %s: \"%s\" (expected host:port, "
               "e.g. 127.0.0.1:4000 or [::1]:4000)", zPre, zSep, s->zName,
               zShow);
      return 0;
  }
  return 1;
}

/*
** Set zName to zValue (copied). An empty value unsets the setting, so a
** later source can return it to its default. On error the configuration
** is unchanged and the message is in ssoproxy_config_errmsg().
*/
SSO_PRIVATE int ssoConfigSet(ssoproxy_config *p, const char *zName,
                             const char *zValue, int eSrc,
                             const char *zWhere){
  int i = findSetting(zName);
  char *zNew = 0, *zNewWhere = 0;
  Value *v;
  if( i<0 ){
    cfgError(p, "%s%sunknown setting %s", zWhere ? zWhere : "",
             zWhere ? ": " : "", zName);
    return SSOPROXY_CONFIG;
  }
  if( zValue && zValue[0] ){
    if( !validate(p, i, zValue, zWhere) ) return SSOPROXY_CONFIG;
    zNew = ssoStrdup(zValue);
    if( zNew==0 ) return SSOPROXY_NOMEM;
  }
  if( zWhere ){
    zNewWhere = ssoStrdup(zWhere);
    if( zNewWhere==0 ){
      ssoFree(zNew);
      return SSOPROXY_NOMEM;
    }
  }
  v = &p->aValue[i];
  ssoFree(v->zValue);
  ssoFree(v->zWhere);
  v->zValue = zNew;
  v->zWhere = zNewWhere;
  v->eSrc = eSrc;
  return SSOPROXY_OK;
}

int ssoproxy_config_set(ssoproxy_config *p, const char *zName,
                        const char *zValue){
  if( p==0 || zName==0 ) return SSOPROXY_MISUSE;
  return ssoConfigSet(p, zName, zValue, SSO_SRC_API, 0);
}

extern char **environ;

int ssoproxy_config_load_env(ssoproxy_config *p){
  int i, rc;
  char **pz;
  if( p==0 ) return SSOPROXY_MISUSE;
  for(pz=environ; pz && *pz; pz++){
    const char *zEq = strchr(*pz, '=');
    char zName[128];
    size_t n;
    if( strncmp(*pz, "SSOPROXY_", 9)!=0 || zEq==0 ) continue;
    n = (size_t)(zEq - *pz);
    if( n>=sizeof(zName) ) n = sizeof(zName)-1;
    memcpy(zName, *pz, n);
    zName[n] = 0;
    if( findSetting(zName)<0 ){
      cfgError(p, "unknown setting %s in the environment", zName);
      return SSOPROXY_CONFIG;
    }
  }
  for(i=0; i<SSO_CFG_COUNT; i++){
    const char *zVal = getenv(aSetting[i].zName);
    const char *zName = aSetting[i].zName;
    if( zVal==0 && aSetting[i].zAlias ){
      zName = aSetting[i].zAlias;
      zVal = getenv(zName);
    }
    if( zVal==0 ) continue;
    rc = ssoConfigSet(p, zName, zVal, SSO_SRC_ENV, 0);
    if( rc ) return rc;
  }
  return SSOPROXY_OK;
}

/* Trim spaces and tabs from both ends of z[0..*pn). */
static const char *trim(const char *z, size_t *pn){
  size_t n = *pn;
  while( n>0 && (*z==' ' || *z=='\t') ){ z++; n--; }
  while( n>0 && (z[n-1]==' ' || z[n-1]=='\t' || z[n-1]=='\r') ) n--;
  *pn = n;
  return z;
}

/*
** One line of a config file: blank, "# comment", or NAME=VALUE with an
** optional "export " in front and optional matching quotes around the
** value (so a shell-style env file works unchanged).
*/
static int fileLine(ssoproxy_config *p, const char *z, size_t n,
                    const char *zWhere){
  const char *zEq;
  char zName[128];
  char *zValue;
  size_t nName, nVal;
  int rc;
  z = trim(z, &n);
  if( n==0 || z[0]=='#' ) return SSOPROXY_OK;
  if( n>7 && memcmp(z, "export ", 7)==0 ){ z += 7; n -= 7; z = trim(z, &n); }
  zEq = memchr(z, '=', n);
  if( zEq==0 ){
    cfgError(p, "%s: expected NAME=VALUE", zWhere);
    return SSOPROXY_CONFIG;
  }
  nName = (size_t)(zEq - z);
  trim(z, &nName);
  if( nName==0 || nName>=sizeof(zName) ){
    cfgError(p, "%s: expected NAME=VALUE", zWhere);
    return SSOPROXY_CONFIG;
  }
  memcpy(zName, z, nName);
  zName[nName] = 0;
  nVal = (size_t)((z+n) - (zEq+1));
  z = trim(zEq+1, &nVal);
  if( nVal>=2 && (z[0]=='"' || z[0]=='\'') && z[nVal-1]==z[0] ){
    z++;
    nVal -= 2;
  }else if( nVal>=1 && (z[0]=='"' || z[0]=='\'') ){
    cfgError(p, "%s: unterminated quote in the value of %s", zWhere, zName);
    return SSOPROXY_CONFIG;
  }
  zValue = ssoStrndup(z, nVal);
  if( zValue==0 ) return SSOPROXY_NOMEM;
  rc = ssoConfigSet(p, zName, zValue, SSO_SRC_FILE, zWhere);
  ssoFree(zValue);
  return rc;
}

int ssoproxy_config_load_file(ssoproxy_config *p, const char *zPath){
  char *zText = 0;
  size_t nText = 0, i = 0;
  int rc, iLine = 0;
  if( p==0 || zPath==0 ) return SSOPROXY_MISUSE;
  rc = ssoOsReadFile(zPath, SSO_CONFIG_MAX_FILE, &zText, &nText);
  if( rc==SSOPROXY_TOOBIG ){
    cfgError(p, "config file %s is larger than %u bytes", zPath,
             SSO_CONFIG_MAX_FILE);
    return SSOPROXY_CONFIG;
  }
  if( rc==SSOPROXY_IOERR ){
    cfgError(p, "cannot read config file %s: %s", zPath, strerror(errno));
    return SSOPROXY_CONFIG;
  }
  if( rc ) return rc;
  if( memchr(zText, 0, nText) ){
    cfgError(p, "config file %s contains a NUL byte", zPath);
    ssoFree(zText);
    return SSOPROXY_CONFIG;
  }
  while( i<nText && rc==SSOPROXY_OK ){
    const char *zEol = memchr(zText+i, '\n', nText-i);
    size_t n = zEol ? (size_t)(zEol-(zText+i)) : nText-i;
    char zWhere[512];
    snprintf(zWhere, sizeof(zWhere), "%s:%d", zPath, ++iLine);
    rc = fileLine(p, zText+i, n, zWhere);
    i += n+1;
  }
  ssoFree(zText);
  return rc;
}

SSO_PRIVATE const char *ssoConfigStr(const ssoproxy_config *p, int i){
  assert( i>=0 && i<SSO_CFG_COUNT );
  return p->aValue[i].zValue ? p->aValue[i].zValue : aSetting[i].zDefault;
}

SSO_PRIVATE long long ssoConfigInt(const ssoproxy_config *p, int i){
  long long v = aSetting[i].iDefault;
  const char *z = p->aValue[i].zValue;
  assert( aSetting[i].eType==SSO_SET_INT );
  if( z ) parseInt(z, &v);
  return v;
}

SSO_PRIVATE int ssoConfigBool(const ssoproxy_config *p, int i){
  const char *z = ssoConfigStr(p, i);
  assert( aSetting[i].eType==SSO_SET_BOOL );
  return z ? boolValue(z)==1 : 0;
}

SSO_PRIVATE int ssoConfigCopy(const ssoproxy_config *pFrom,
                              ssoproxy_config **pp){
  ssoproxy_config *p;
  int i, rc = ssoproxy_config_new(&p);
  if( rc ) return rc;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Value *v = &pFrom->aValue[i];
    p->aValue[i].eSrc = v->eSrc;
    if( (v->zValue && (p->aValue[i].zValue = ssoStrdup(v->zValue))==0)
     || (v->zWhere && (p->aValue[i].zWhere = ssoStrdup(v->zWhere))==0) ){
      ssoproxy_config_free(p);
      return SSOPROXY_NOMEM;
    }
  }
  *pp = p;
  return SSOPROXY_OK;
}

static const char *sourceName(const Value *v){
  static const char *const azSrc[] = { "default", "file", "env", "api", "flag" };
  if( v->zValue==0 && v->eSrc==SSO_SRC_DEFAULT ) return "default";
  return azSrc[v->eSrc];
}

SSO_PRIVATE void ssoConfigDump(const ssoproxy_config *p, SsoBuf *b){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Value *v = &p->aValue[i];
    const char *z = ssoConfigStr(p, i);
    char zInt[24];
    if( z==0 && aSetting[i].eType==SSO_SET_INT ){
      snprintf(zInt, sizeof(zInt), "%lld", aSetting[i].iDefault);
      z = zInt;
    }
    ssoBufPrintf(b, "%s=%s", aSetting[i].zName,
                 z==0 ? "" : aSetting[i].bSecret ? "********" : z);
    ssoBufPrintf(b, "  # %s%s%s%s\n", sourceName(v),
                 v->zWhere ? " " : "", v->zWhere ? v->zWhere : "",
                 z==0 ? ", unset" : "");
  }
}

SSO_PRIVATE void ssoConfigHelp(SsoBuf *b){
  int i;
  for(i=0; i<SSO_CFG_COUNT; i++){
    const Setting *s = &aSetting[i];
    ssoBufPrintf(b, "  %-30s %s", s->zName, s->zHelp);
    if( s->eType==SSO_SET_INT ){
      ssoBufPrintf(b, " [%lld]", s->iDefault);
    }else if( s->zDefault && s->zDefault[0] ){
      ssoBufPrintf(b, " [%s]", s->zDefault);
    }
    if( s->zAlias ) ssoBufPrintf(b, " (also %s)", s->zAlias);
    ssoBufAppendChar(b, '\n');
  }
}
