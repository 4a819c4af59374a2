/*
** Layer 2: the event loop. One loop per thread drives every socket of
** that thread (accepted connections now, outbound ones later), its
** timers and its deferred tasks. epoll on Linux; poll() everywhere else,
** or anywhere when built with -DSSO_USE_POLL.
**
** Nothing in this interface allocates per event: timers and tasks are
** embedded in the caller's objects (intrusive), descriptors are indexed
** in a table that grows with the highest fd.
*/
#ifndef SSO_LOOP_H
#define SSO_LOOP_H

typedef struct SsoLoop SsoLoop;
typedef struct SsoLoopTimer SsoLoopTimer;
typedef struct SsoLoopTask SsoLoopTask;

/* Readiness bits, for interest masks and for callbacks. */
#define SSO_LOOP_READ   1
#define SSO_LOOP_WRITE  2
/*
** SSO_LOOP_HUP: the peer has shut its sending side (TCP FIN: a close or
** a half-close), or the connection failed (RST, error). Asking for it
** does not ask for input: bytes the peer sent and nobody read yet (a
** pipelined request) neither report it nor wake the loop, so a
** connection can watch for a departing client without reading ahead.
** Linux: EPOLLRDHUP / POLLRDHUP. Elsewhere: POLLIN with a recv(MSG_PEEK)
** that must see end of stream; once it sees data instead, only a full
** hang-up (POLLHUP) or error is noticed until the mask changes.
*/
#define SSO_LOOP_HUP    4

/*
** Called on the loop's thread when fd is ready. eEvents holds the ready
** bits among those asked for; an error or hang-up is reported as every
** bit asked for, so the next read or write sees it. The callback may add,
** change or remove any descriptor, its own included.
*/
typedef void (*SsoLoopFdFn)(SsoLoop*, int fd, int eEvents, void *pArg);

/* A timer, embedded in its owner. ssoLoopTimerInit() before first use. */
typedef void (*SsoLoopTimerFn)(SsoLoop*, SsoLoopTimer*, void *pArg);
struct SsoLoopTimer {
  long long iWhen;      /* Deadline the heap is ordered by (monotonic ms) */
  long long iWant;      /* Deadline asked for; > iWhen means "re-arm later" */
  int iHeap;            /* Position in the heap, -1 when not armed */
  SsoLoopTimerFn xFire; /* Called once when the deadline passes */
  void *pArg;
};

/* A task to run once, after the current batch of events. */
typedef void (*SsoLoopTaskFn)(SsoLoop*, SsoLoopTask*, void *pArg);
struct SsoLoopTask {
  SsoLoopTask *pNext;   /* Next queued task */
  int bQueued;          /* On the queue now */
  SsoLoopTaskFn xRun;
  void *pArg;
};

/*
** Create a loop (caller frees with ssoLoopFree) with its wake-up
** descriptor. Returns SSOPROXY_OK, _NOMEM, or _IOERR (errno kept).
*/
SSO_PRIVATE int ssoLoopNew(SsoLoop **ppLoop);
/* Free the loop. Descriptors still registered are not closed. */
SSO_PRIVATE void ssoLoopFree(SsoLoop*);

/*
** Watch fd (already non-blocking) for the events in eMask (0 allowed:
** registered but quiet). Returns SSOPROXY_OK, _NOMEM, _IOERR or _MISUSE
** (fd already watched).
*/
SSO_PRIVATE int ssoLoopAdd(SsoLoop*, int fd, int eMask, SsoLoopFdFn,
                           void *pArg);
/* Change the interest mask of a watched fd. Cheap when unchanged. */
SSO_PRIVATE int ssoLoopMod(SsoLoop*, int fd, int eMask);
/* Stop watching fd (call before close(fd)). No-op if not watched. */
SSO_PRIVATE void ssoLoopDel(SsoLoop*, int fd);

/* Monotonic milliseconds, read once per loop iteration. */
SSO_PRIVATE long long ssoLoopNow(SsoLoop*);

SSO_PRIVATE void ssoLoopTimerInit(SsoLoopTimer*, SsoLoopTimerFn, void *pArg);
/*
** Arm (or re-arm) a timer to fire at monotonic time iWhen. Moving a
** deadline later is O(1) (the heap entry is re-armed lazily when the old
** deadline comes); moving it earlier or arming is O(log n). Returns
** SSOPROXY_OK or _NOMEM (the heap could not grow; the timer stays off).
*/
SSO_PRIVATE int ssoLoopTimerAt(SsoLoop*, SsoLoopTimer*, long long iWhen);
SSO_PRIVATE void ssoLoopTimerStop(SsoLoop*, SsoLoopTimer*);
SSO_PRIVATE int ssoLoopTimerArmed(const SsoLoopTimer*);

SSO_PRIVATE void ssoLoopTaskInit(SsoLoopTask*, SsoLoopTaskFn, void *pArg);
/* Queue a task to run on this loop's thread after the current events
** (at most once however often it is queued). */
SSO_PRIVATE void ssoLoopDefer(SsoLoop*, SsoLoopTask*);
/* Take a queued task back off the queue (its owner is going away). */
SSO_PRIVATE void ssoLoopUndefer(SsoLoop*, SsoLoopTask*);

/*
** Wake-ups. ssoLoopWake() may be called from any thread or from a signal
** handler: it only write()s to the wake descriptor. The loop then calls
** the xWake function set by ssoLoopOnWake() on its own thread.
*/
SSO_PRIVATE void ssoLoopWake(SsoLoop*);
SSO_PRIVATE void ssoLoopOnWake(SsoLoop*, void (*xWake)(SsoLoop*, void*),
                               void *pArg);

/*
** Wait up to msMax (-1: until the next timer or event) and dispatch what
** is ready: descriptors, then due timers, then deferred tasks. Returns
** SSOPROXY_OK or _IOERR if the poller itself failed.
*/
SSO_PRIVATE int ssoLoopRunOnce(SsoLoop*, int msMax);
/* Run iterations until ssoLoopExit() is called on this loop's thread. */
SSO_PRIVATE int ssoLoopRun(SsoLoop*);
SSO_PRIVATE void ssoLoopExit(SsoLoop*);

/* "epoll" or "poll": which backend this build uses. */
SSO_PRIVATE const char *ssoLoopBackend(void);

/*
** Transport methods. A connection reads and writes through a table of
** these, so TLS can slot in under the server and the client without
** either knowing. The plain table calls recv()/send() on the fd.
** Results: >0 bytes moved, 0 orderly end of stream (reads only), or one
** of the negative codes below. WANT_WRITE from a read (or WANT_READ from
** a write) happens with TLS: the caller waits for that event instead.
*/
#define SSO_IO_ERROR      (-1)   /* Connection broken; close it */
#define SSO_IO_WANT_READ  (-2)   /* Try again when readable */
#define SSO_IO_WANT_WRITE (-3)   /* Try again when writable */
typedef struct SsoIoMethods SsoIoMethods;
struct SsoIoMethods {
  long (*xRead)(void *pCtx, int fd, void *pBuf, size_t n);
  long (*xWrite)(void *pCtx, int fd, const void *pBuf, size_t n);
  void (*xFree)(void *pCtx);     /* Release pCtx; NULL if nothing to free */
};
SSO_PRIVATE const SsoIoMethods *ssoLoopPlainIo(void);

/*
** Socket helpers for the transport modules.
*/
/* Make fd non-blocking and close-on-exec. Returns 0 or -1 (errno). */
/*
** Block every asynchronous signal in the calling thread, saving the old
** mask in *pOld; call it around pthread_create() so helper threads never
** take the host's signals (its handler runs on its own thread). Faults
** (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP) stay deliverable:
** blocking them would hide a crash. Restore with pthread_sigmask().
*/
SSO_PRIVATE void ssoLoopBlockSignals(sigset_t *pOld);
SSO_PRIVATE int ssoLoopSetNonBlock(int fd);
/*
** Split "host:port", "[v6]:port" or ":port" into zHost (a buffer of
** nHost bytes; "" for ":port") and *piPort. Returns SSOPROXY_OK or
** SSOPROXY_CONFIG.
*/
SSO_PRIVATE int ssoLoopParseHostPort(const char *zSpec, char *zHost,
                                     size_t nHost, int *piPort);
/*
** Format a socket address as "1.2.3.4:80" or "[::1]:80" into z[nZ].
** pAddr is a struct sockaddr*; returns z.
*/
SSO_PRIVATE char *ssoLoopAddrString(const void *pAddr, char *z, size_t nZ);

#endif /* SSO_LOOP_H */
