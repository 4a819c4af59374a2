/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** The one internal master header. Every src/ C file includes this file first
** and nothing else from src/: it sets the feature macros, pulls in the
** system headers, the public API, the limits, the types shared by several
** modules, and then each module's interface header in layer order (base,
** codecs, transport, storage, features, app). A module may use only the
** modules above it in that list; DESIGN.md names the layers.
**
** SSO_PRIVATE marks every function or object shared between modules. In
** the split build it is empty (ordinary external linkage); the amalgamator
** rewrites it to "static" at the start of a line, so in ssoproxy.c nothing
** but the ssoproxy_* API is exported and a host program's symbols never
** clash with ours.
*/
#ifndef SSO_INT_H
#define SSO_INT_H

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1      /* accept4(), SO_REUSEPORT, epoll on Linux */
#endif

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>         /* sigset_t in loop.h */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssoproxy.h"

#ifndef SSO_PRIVATE
# define SSO_PRIVATE
#endif

#define SSO_UNUSED(x) ((void)(x))
#define SSO_ARRAYSIZE(a) (sizeof(a)/sizeof((a)[0]))

/*
** Internal code uses the public result codes directly (SSOPROXY_OK ...),
** so nothing needs translating at the API boundary.
*/

/*
** A view: a pointer and a length into someone else's buffer, not NUL-
** terminated, not owned. Parsers hand these out; copy what must outlive
** the buffer.
*/
typedef struct SsoStr SsoStr;
struct SsoStr {
  const char *z;        /* First byte; not NUL-terminated */
  size_t n;             /* Number of bytes */
};

#include "limit.h"
#include "mem.h"
#include "buf.h"
#include "log.h"
#include "os.h"
#include "crypto.h"
#include "b64.h"
#include "json.h"
#include "url.h"
#include "jose.h"
#include "loop.h"
#include "http.h"
#include "tls.h"
#include "client.h"
#include "server.h"
#include "store.h"
#include "health.h"
#include "authz.h"
#include "api.h"
#include "page.h"
#include "session.h"
#include "oidc.h"
#include "ui.h"
#include "proxy.h"
#include "fauth.h"
#include "config.h"
#include "app.h"
#include "admin.h"

#endif /* SSO_INT_H */
