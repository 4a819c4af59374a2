/*
** ssoproxy public interface.
**
** This header is the whole contract between ssoproxy.c and a program that
** embeds it. Only the functions, types and codes declared here are exported
** from ssoproxy.c; everything else in that file is static. Structures are
** opaque: no layout, no mbedTLS or SQLite type appears here, so a host can
** compile against this header without either library's headers.
**
** Thread rules: one ssoproxy handle is driven by one thread calling
** ssoproxy_run(). ssoproxy_stop() may be called from any thread or from a
** signal handler. Configuration objects are not shared between threads.
**
** This file is generated from src/ssoproxy.h.in by tool/mkamalg.sh.
*/
#ifndef SSOPROXY_H
#define SSOPROXY_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SSOPROXY_API
# define SSOPROXY_API
#endif

#define SSOPROXY_VERSION        "0.1.0"
#define SSOPROXY_VERSION_NUMBER 0001000
#define SSOPROXY_SOURCE_ID      "6a7db95af5405625f288eeb865d48680b48fa50f631429d797bc78456dd5d812"

/*
** Result codes. Every fallible function returns one of these; 0 is success.
** The text of the last error is kept in the object that failed (see
** ssoproxy_errmsg() and ssoproxy_config_errmsg()), never in a global.
*/
#define SSOPROXY_OK        0   /* Success */
#define SSOPROXY_ERROR     1   /* Generic failure; see the error message */
#define SSOPROXY_NOMEM     2   /* A memory allocation failed */
#define SSOPROXY_CONFIG    3   /* Unknown or invalid setting */
#define SSOPROXY_IOERR     4   /* File or socket I/O failed */
#define SSOPROXY_DB        5   /* The database cannot be opened or used */
#define SSOPROXY_MISUSE    6   /* The API was called incorrectly */
#define SSOPROXY_PARSE     7   /* Input is malformed (JSON, URL, base64...) */
#define SSOPROXY_TOOBIG    8   /* Input exceeds a configured limit */
#define SSOPROXY_NOTFOUND  9   /* The thing asked for does not exist */
#define SSOPROXY_CONSTRAINT 10 /* A uniqueness or reference rule was broken */
#define SSOPROXY_NET      11   /* A network operation failed */

/* Version of the library actually linked, and the source it was built from. */
SSOPROXY_API const char *ssoproxy_libversion(void);
SSOPROXY_API int ssoproxy_libversion_number(void);
SSOPROXY_API const char *ssoproxy_sourceid(void);

/* English name of a result code, e.g. "out of memory". Never NULL. */
SSOPROXY_API const char *ssoproxy_errstr(int rc);

/*
** Memory. All of ssoproxy's allocations, and SQLite's when SQLite has not
** been initialised yet, go through these three functions. Call this before
** the first ssoproxy_config_new(); passing NULLs restores malloc/realloc/
** free. xRealloc(p, n) and xFree(p) are only ever given pointers returned
** by the same table. Returns SSOPROXY_MISUSE once any allocation is live.
*/
SSOPROXY_API int ssoproxy_config_memory(
  void *(*xMalloc)(size_t),
  void *(*xRealloc)(void*, size_t),
  void (*xFree)(void*)
);

/*
** Configuration. A configuration is a set of NAME=VALUE settings using the
** same names as the environment (SSOPROXY_LISTEN, SSOPROXY_DB,
** LITELLM_MASTER_KEY, ...; see README.md). Later sources override earlier
** ones; ssoproxy_config_set() overrides everything loaded so far.
**
** ssoproxy_config_new() makes an empty configuration (all defaults); the
** caller frees it with ssoproxy_config_free() once ssoproxy_open() returned
** (the server keeps its own copy).
*/
typedef struct ssoproxy_config ssoproxy_config;
SSOPROXY_API int ssoproxy_config_new(ssoproxy_config **ppCfg);
SSOPROXY_API int ssoproxy_config_set(ssoproxy_config*, const char *zName,
                                     const char *zValue);
SSOPROXY_API int ssoproxy_config_load_env(ssoproxy_config*);
SSOPROXY_API int ssoproxy_config_load_file(ssoproxy_config*, const char *zPath);
SSOPROXY_API const char *ssoproxy_config_errmsg(const ssoproxy_config*);
SSOPROXY_API void ssoproxy_config_free(ssoproxy_config*);

/*
** Server lifecycle.
**
** ssoproxy_open() validates the configuration, opens (and migrates) the
** database and binds the listening socket. On failure *ppSrv is still set
** unless out of memory, so the caller can read ssoproxy_errmsg() before
** ssoproxy_close().
**
** ssoproxy_run() serves until ssoproxy_stop() is called, then returns
** SSOPROXY_OK. ssoproxy_stop() only sets a flag and writes one byte to a
** wake-up descriptor: it is async-signal-safe and thread-safe.
**
** ssoproxy_close() releases everything; NULL is a no-op.
*/
typedef struct ssoproxy ssoproxy;
SSOPROXY_API int ssoproxy_open(const ssoproxy_config*, ssoproxy **ppSrv);
SSOPROXY_API int ssoproxy_run(ssoproxy*);
SSOPROXY_API void ssoproxy_stop(ssoproxy*);
/*
** Re-read SSOPROXY_MODELS_FILE (what SIGHUP does). It only writes one
** byte to a pipe, so it is async-signal-safe and thread-safe; a helper
** thread builds the new routing table and swaps it in. Requests in
** flight finish on the table they started with; a file with errors is
** logged and the models in use stay. No-op without a models file.
*/
SSOPROXY_API void ssoproxy_reload(ssoproxy*);
SSOPROXY_API int ssoproxy_close(ssoproxy*);
SSOPROXY_API const char *ssoproxy_errmsg(const ssoproxy*);

/*
** The address the server listens on, as "host:port" with the real port
** when port 0 was asked for (useful for tests and embedding). Valid until
** ssoproxy_close().
*/
SSOPROXY_API const char *ssoproxy_listen_address(const ssoproxy*);

/*
** The command-line program (the main() compiled unless SSOPROXY_OMIT_MAIN
** is defined) as a function, so a host can offer the same CLI. Returns
** the process exit status: 0 ok, 1 runtime failure, 2 bad configuration
** or usage.
*/
SSOPROXY_API int ssoproxy_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* SSOPROXY_H */
