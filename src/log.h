/*
** Layer 0: structured log lines (logfmt or JSON), each written whole.
*/
#ifndef SSO_LOG_H
#define SSO_LOG_H

#define SSO_LOG_DEBUG 0
#define SSO_LOG_INFO  1
#define SSO_LOG_WARN  2
#define SSO_LOG_ERROR 3
#define SSO_LOG_OFF   4

struct timespec;

typedef struct SsoLog SsoLog;
struct SsoLog {
  int fd;               /* Where lines go; -1 discards them */
  int eMin;             /* Lowest level written (SSO_LOG_*) */
  int bJson;            /* One JSON object per line instead of logfmt */
};

SSO_PRIVATE void ssoLogInit(SsoLog*, int fd, int eMin, int bJson);
/*
** Write one line: time, level, msg, then the key/value pairs given as
** const char* arguments, ending with a NULL key. A NULL value is skipped.
** Callers never pass secrets; this module does not guess at them.
*/
SSO_PRIVATE void ssoLog(SsoLog*, int eLevel, const char *zMsg, ...);
SSO_PRIVATE int ssoLogLevelFromName(const char *zName);  /* -1 if unknown */

/*
** Batching, per thread: while on, the calling thread's lines are kept
** (up to 4 KiB) and written together, in whole lines, when the batch is
** turned off, when it fills, or by ssoLogFlush(). The event loop turns it
** on for each iteration, so a line waits at most until the end of the
** iteration that logged it. Returns the previous setting, for nesting.
*/
SSO_PRIVATE int ssoLogBatch(int bOn);
SSO_PRIVATE void ssoLogFlush(void);

/* The UTC time of *ts as "YYYY-MM-DDTHH:MM:SS.mmm" in z[0..23) (no NUL),
** as log lines carry it. Exposed for the tests. */
SSO_PRIVATE void ssoLogFormatTime(const struct timespec *ts, char *z);

#endif /* SSO_LOG_H */
