/*
** Layer 0: the few operating-system services the upper layers need that
** are not sockets: clocks, whole-file reads, processor count.
*/
#ifndef SSO_OS_H
#define SSO_OS_H

SSO_PRIVATE long long ssoOsNowMs(void);     /* Unix time in milliseconds */
SSO_PRIVATE long long ssoOsMonoMs(void);    /* Monotonic milliseconds */
/*
** Read a whole regular file of at most mxBytes into a new NUL-terminated
** buffer (*pz, caller ssoFree()s; *pn its length). On failure returns
** SSOPROXY_IOERR (with errno preserved), _TOOBIG or _NOMEM and sets *pz=0.
*/
SSO_PRIVATE int ssoOsReadFile(const char *zPath, size_t mxBytes,
                              char **pz, size_t *pn);
SSO_PRIVATE int ssoOsCpuCount(void);

#endif /* SSO_OS_H */
