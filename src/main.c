/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the command line. ssoproxy_main() is the whole program as a
** function, so a host that embeds ssoproxy.c can offer the same CLI; the
** main() at the bottom is left out with -DSSOPROXY_OMIT_MAIN.
**
** Exit status: 0 success, 1 a runtime failure (database, socket...), 2 a
** usage or configuration error, so scripts can tell "fix your settings"
** from "something broke".
*/
#include "ssoInt.h"
#include <signal.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/*
** The server the signal handlers stop. A signal handler can reach nothing
** else; ssoproxy_stop() only sets a flag and writes to a wake-up fd, both
** async-signal-safe.
*/
static ssoproxy *volatile pSignalTarget;

/* SIGHUP: re-read the models file; the server keeps serving. */
static void onReloadSignal(int sig){
  int e = errno;
  SSO_UNUSED(sig);
  if( pSignalTarget ) ssoproxy_reload(pSignalTarget);
  errno = e;
}

static void onStopSignal(int sig){
  SSO_UNUSED(sig);
  if( pSignalTarget ) ssoproxy_stop(pSignalTarget);
}

static void printUsage(FILE *out){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoConfigHelp(&b);
  fprintf(out,
    "usage: ssoproxy [OPTIONS] [COMMAND]\n"
    "\n"
    "Single sign-on gateway for OpenAI-compatible LLM APIs.\n"
    "\n"
    "Commands:\n"
    "  serve          run the server (the default)\n"
    "  config         print the effective configuration, secrets masked,\n"
    "                 with where each value came from, and exit\n"
    "  user list [--role ROLE]      users and their roles\n"
    "  user add ID [--email E] [--name N] [--role ROLE]\n"
    "  user set-role ID ROLE        change a role (proxy_admin,\n"
    "                               proxy_admin_viewer, internal_user,\n"
    "                               internal_user_viewer)\n"
    "  user disable ID | enable ID  refuse or allow the user's keys\n"
    "  user delete ID               delete the user and their keys\n"
    "  key create [--user ID] [--alias A] [--duration 30d] [--models M,M]\n"
    "                               print a new key (shown only once)\n"
    "  key list [--user ID]         keys (never the keys themselves)\n"
    "  key revoke KEY|HASH|ALIAS    delete a key\n"
    "  audit [--type key|user] [--id ID] [--limit N]\n"
    "                               the latest changes, newest first\n"
    "                 (user, key and audit work on the database file and\n"
    "                 are safe while the server runs)\n"
    "  version        print the version and source id, and exit\n"
    "  help           print this text\n"
    "\n"
    "Options:\n"
    "  --config FILE  read NAME=VALUE lines from FILE (same names as the\n"
    "                 environment); the environment overrides the file and\n"
    "                 options override both\n"
    "  --listen ADDR  same as SSOPROXY_LISTEN\n"
    "  --db FILE      same as SSOPROXY_DB\n"
    "  -h, --help     print this text\n"
    "  -V, --version  print the version\n"
    "\n"
    "Settings (environment variables or --config lines):\n"
    "%s", ssoBufStr(&b));
  ssoBufFree(&b);
}

/* The options that name a setting, and the setting they set. */
static const struct { const char *zOpt; const char *zSetting; } aOptSet[] = {
  { "--listen", "SSOPROXY_LISTEN" },
  { "--db",     "SSOPROXY_DB" },
};

#define MAIN_MAX_ADMIN_ARGS 32   /* Words after user/key/audit */

typedef struct MainArgs MainArgs;
struct MainArgs {
  const char *zCommand;     /* "serve", "config", "version", "help",
                            ** or an admin command: "user", "key", "audit" */
  const char *zConfigFile;  /* --config FILE, or NULL */
  const char *azFlag[SSO_ARRAYSIZE(aOptSet)];   /* Option values */
  int nAdmin;               /* Arguments of the admin command */
  const char *azAdmin[MAIN_MAX_ADMIN_ARGS];
};

/*
** "--name value" or "--name=value": returns the value, or NULL when
** argv[*pi] is not this option. A missing value is reported and returned
** as "" with *pbErr set.
*/
static const char *optValue(int argc, char **argv, int *pi,
                            const char *zOpt, int *pbErr){
  size_t n = strlen(zOpt);
  const char *zArg = argv[*pi];
  if( strncmp(zArg, zOpt, n)!=0 ) return 0;
  if( zArg[n]=='=' ) return zArg+n+1;
  if( zArg[n]!=0 ) return 0;
  if( *pi+1>=argc ){
    fprintf(stderr, "ssoproxy: option %s needs a value\n", zOpt);
    *pbErr = 1;
    return "";
  }
  return argv[++*pi];
}

static int addAdminArg(MainArgs *pCli, const char *z){
  if( pCli->nAdmin>=MAIN_MAX_ADMIN_ARGS ){
    fprintf(stderr, "ssoproxy: too many arguments\n");
    return 1;
  }
  pCli->azAdmin[pCli->nAdmin++] = z;
  return 0;
}

static int parseArgs(int argc, char **argv, MainArgs *pCli){
  int i, bErr = 0;
  size_t j;
  memset(pCli, 0, sizeof(*pCli));
  pCli->zCommand = "serve";
  for(i=1; i<argc; i++){
    const char *z = argv[i], *zVal;
    /* After user/key/audit, words and options other than ours are that
    ** command's business. */
    if( ssoAdminIsCommand(pCli->zCommand) && z[0]!='-' ){
      if( addAdminArg(pCli, z) ) return EXIT_USAGE;
      continue;
    }
    if( ssoAdminIsCommand(z) ){
      pCli->zCommand = z;
      continue;
    }
    if( strcmp(z, "-h")==0 || strcmp(z, "--help")==0 || strcmp(z, "help")==0 ){
      pCli->zCommand = "help";
      continue;
    }
    if( strcmp(z, "-V")==0 || strcmp(z, "--version")==0
     || strcmp(z, "version")==0 ){
      pCli->zCommand = "version";
      continue;
    }
    if( strcmp(z, "serve")==0 || strcmp(z, "config")==0 ){
      pCli->zCommand = z;
      continue;
    }
    if( (zVal = optValue(argc, argv, &i, "--config", &bErr))!=0 ){
      if( bErr ) return EXIT_USAGE;
      pCli->zConfigFile = zVal;
      continue;
    }
    for(j=0; j<SSO_ARRAYSIZE(aOptSet); j++){
      zVal = optValue(argc, argv, &i, aOptSet[j].zOpt, &bErr);
      if( zVal ) break;
    }
    if( bErr ) return EXIT_USAGE;
    if( j<SSO_ARRAYSIZE(aOptSet) ){
      pCli->azFlag[j] = zVal;
      continue;
    }
    if( ssoAdminIsCommand(pCli->zCommand) ){
      if( addAdminArg(pCli, z) ) return EXIT_USAGE;
      continue;
    }
    fprintf(stderr, "ssoproxy: unknown %s %s; see ssoproxy --help\n",
            z[0]=='-' ? "option" : "command", z);
    return EXIT_USAGE;
  }
  return 0;
}

/* Defaults, then --config FILE, then the environment, then options. */
static int loadConfig(const MainArgs *pCli, ssoproxy_config **ppCfg){
  ssoproxy_config *pCfg = 0;
  size_t j;
  int rc = ssoproxy_config_new(&pCfg);
  if( rc==SSOPROXY_OK && pCli->zConfigFile ){
    rc = ssoproxy_config_load_file(pCfg, pCli->zConfigFile);
  }
  if( rc==SSOPROXY_OK ) rc = ssoproxy_config_load_env(pCfg);
  for(j=0; rc==SSOPROXY_OK && j<SSO_ARRAYSIZE(aOptSet); j++){
    if( pCli->azFlag[j]==0 ) continue;
    rc = ssoConfigSet(pCfg, aOptSet[j].zSetting, pCli->azFlag[j],
                      SSO_SRC_FLAG, aOptSet[j].zOpt);
  }
  if( rc ){
    fprintf(stderr, "ssoproxy: %s\n", rc==SSOPROXY_NOMEM ? "out of memory"
            : ssoproxy_config_errmsg(pCfg));
    ssoproxy_config_free(pCfg);
    return rc==SSOPROXY_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
  }
  *ppCfg = pCfg;
  return 0;
}

static int serve(const ssoproxy_config *pCfg){
  ssoproxy *pSrv = 0;
  struct sigaction sa;
  int rc = ssoproxy_open(pCfg, &pSrv);
  if( rc ){
    fprintf(stderr, "ssoproxy: %s\n", pSrv ? ssoproxy_errmsg(pSrv)
            : ssoproxy_errstr(rc));
    ssoproxy_close(pSrv);
    return rc==SSOPROXY_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  pSignalTarget = pSrv;
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  sa.sa_handler = onReloadSignal;
  sigaction(SIGHUP, &sa, 0);
  rc = ssoproxy_run(pSrv);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGHUP, &sa, 0);
  pSignalTarget = 0;
  if( rc ) fprintf(stderr, "ssoproxy: %s\n", ssoproxy_errmsg(pSrv));
  ssoproxy_close(pSrv);
  return rc ? EXIT_RUNTIME : 0;
}

int ssoproxy_main(int argc, char **argv){
  MainArgs cli;
  ssoproxy_config *pCfg = 0;
  int rc = parseArgs(argc, argv, &cli);
  if( rc ) return rc;
  if( strcmp(cli.zCommand, "help")==0 ){
    printUsage(stdout);
    return 0;
  }
  if( strcmp(cli.zCommand, "version")==0 ){
    printf("ssoproxy %s (source %s)\n", ssoproxy_libversion(),
           ssoproxy_sourceid());
    return 0;
  }
  rc = loadConfig(&cli, &pCfg);
  if( rc ) return rc;
  if( strcmp(cli.zCommand, "config")==0 ){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoConfigDump(pCfg, &b);
    fputs(ssoBufStr(&b), stdout);
    rc = b.rc ? EXIT_RUNTIME : 0;
    ssoBufFree(&b);
  }else if( ssoAdminIsCommand(cli.zCommand) ){
    rc = ssoAdminRun(ssoConfigStr(pCfg, SSO_CFG_DB), cli.zCommand,
                     cli.nAdmin, cli.azAdmin);
  }else{
    rc = serve(pCfg);
  }
  ssoproxy_config_free(pCfg);
  return rc;
}

#ifndef SSOPROXY_OMIT_MAIN
int main(int argc, char **argv){
  return ssoproxy_main(argc, argv);
}
#endif
