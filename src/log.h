/*
** Layer 0: structured log lines (logfmt or JSON), one write(2) per line.
*/
#ifndef SSO_LOG_H
#define SSO_LOG_H

#define SSO_LOG_DEBUG 0
#define SSO_LOG_INFO  1
#define SSO_LOG_WARN  2
#define SSO_LOG_ERROR 3
#define SSO_LOG_OFF   4

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

#endif /* SSO_LOG_H */
