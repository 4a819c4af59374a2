/*
** Layer 3: storage. The one module that speaks SQL: it opens the SQLite
** database, migrates its schema, and offers row functions for users, API
** keys and the audit log. Callers never see a SQLite type.
**
** Threads: an SsoStore is one SQLite connection opened without a mutex, so
** it belongs to one thread (one event loop) at a time. Several stores,
** in one process or several, may share one file: WAL lets readers run
** beside the one writer, and a writer waits up to SSO_DB_BUSY_TIMEOUT_MS.
**
** Rows: the getters fill a caller-provided struct whose strings (and, for
** lists, the array itself) are allocated from a caller-provided SsoArena;
** they stay valid until the caller's ssoArenaFree(). The setters read the
** strings they are given only during the call. NULL pointers stand for
** SQL NULL; for the optional integers 0 stands for NULL ("never" for a
** time, "no limit" for a limit), so a zeroed struct holds every default.
** Times are Unix milliseconds. JSON columns (metadata, models, before,
** after) are stored as the already-serialised text the caller gives.
**
** Results: SSOPROXY_OK; _NOTFOUND when the row does not exist; _CONSTRAINT
** when a uniqueness, reference or CHECK rule is broken (a duplicate alias,
** an unknown role, a key for a user who does not exist); _NOMEM; _MISUSE;
** _DB for everything else (locked, I/O error, disk full, corrupt). After
** any result but _OK, ssoStoreErrmsg() says what happened.
*/
#ifndef SSO_STORE_H
#define SSO_STORE_H

#define SSO_STORE_SCHEMA 2           /* Schema version this build writes */
#define SSO_STORE_APP_ID 0x53534f50  /* PRAGMA application_id: "SSOP" */

typedef struct SsoStore SsoStore;

/*
** Open (creating if need be) and migrate the database at zPath, like
** sqlite3_open(): *ppStore is set even on failure, except when out of
** memory or zPath is NULL (then it is NULL), so the caller can read
** ssoStoreErrmsg(); the caller always ssoStoreClose()s it. A file that is
** not a database, a database of another application, or one written by a
** newer ssoproxy is refused with a clear message and is never written to
** (an empty -wal/-shm pair may appear beside a WAL database). ":memory:"
** gives a private in-memory database.
*/
SSO_PRIVATE int ssoStoreOpen(const char *zPath, SsoStore **ppStore);
SSO_PRIVATE void ssoStoreClose(SsoStore*);          /* NULL is a no-op */
SSO_PRIVATE const char *ssoStoreErrmsg(const SsoStore*);  /* never NULL */

/* A cheap read of the database header: OK when the store can serve. */
SSO_PRIVATE int ssoStorePing(SsoStore*);

/*
** One write transaction around several calls, so a change and its audit
** row commit together. Begin takes the write lock at once (BEGIN
** IMMEDIATE), so a transaction never fails half way for lack of a lock.
** Transactions do not nest (_MISUSE). When Commit fails the transaction
** has been rolled back. Rollback with no transaction open is a no-op;
** call it after any failure inside Begin...Commit.
*/
SSO_PRIVATE int ssoStoreBegin(SsoStore*);
SSO_PRIVATE int ssoStoreCommit(SsoStore*);
SSO_PRIVATE int ssoStoreRollback(SsoStore*);

/* ---- Users ---- */
typedef struct SsoUser SsoUser;
struct SsoUser {
  const char *zId;          /* The IdP's id claim, or a local name */
  const char *zEmail;       /* NULL: none; compared without ASCII case */
  const char *zName;        /* Display name; NULL: none */
  const char *zRole;        /* proxy_admin, proxy_admin_viewer,
                            ** internal_user or internal_user_viewer */
  const char *zSource;      /* "sso" or "local" */
  long long tCreated;       /* 0 on insert: now */
  long long tUpdated;       /* 0 on insert or update: now */
  long long tLastLogin;     /* 0: never */
  int bDisabled;
  const char *zMetadata;    /* JSON object text; NULL on insert: "{}" */
};

SSO_PRIVATE int ssoStoreUserInsert(SsoStore*, const SsoUser*);
/*
** The row for a user who just signed in through SSO: create it (role
** pIn->zRole, source "sso") or refresh email, name and last login of the
** existing one, and its role only when bSetRole. Returns the stored row
** in *pOut (strings in pArena) and whether it was created in *pbCreated
** (may be NULL). An existing *local* user with the same id is never
** taken over: _CONSTRAINT. A disabled user stays disabled; the caller
** checks pOut->bDisabled.
*/
SSO_PRIVATE int ssoStoreUserUpsertSso(SsoStore*, const SsoUser *pIn,
                                      int bSetRole, SsoArena *pArena,
                                      SsoUser *pOut, int *pbCreated);
SSO_PRIVATE int ssoStoreUserGet(SsoStore*, const char *zId,
                                SsoArena *pArena, SsoUser *pOut);
/* The oldest user with this e-mail address (ASCII case ignored). */
SSO_PRIVATE int ssoStoreUserGetByEmail(SsoStore*, const char *zEmail,
                                       SsoArena *pArena, SsoUser *pOut);
/* Overwrite email, name, role, last login, disabled and metadata of the
** user pUser->zId (metadata NULL: keep). id, source, created never change. */
SSO_PRIVATE int ssoStoreUserUpdate(SsoStore*, const SsoUser *pUser);
/* Delete a user and, by the foreign key, every key the user owns. */
SSO_PRIVATE int ssoStoreUserDelete(SsoStore*, const char *zId);
/*
** One page of users ordered by id, only those with role zRole unless it
** is NULL. nLimit outside 1..SSO_DB_MAX_PAGE means SSO_DB_MAX_PAGE.
** *paUser is an array of *pnUser rows in pArena (NULL when empty).
*/
SSO_PRIVATE int ssoStoreUserList(SsoStore*, const char *zRole, int iOffset,
                                 int nLimit, SsoArena *pArena,
                                 SsoUser **paUser, int *pnUser);
SSO_PRIVATE int ssoStoreUserCount(SsoStore*, const char *zRole, int *pnUser);

/* ---- API keys ---- */
typedef struct SsoKey SsoKey;
struct SsoKey {
  const char *zHash;        /* SHA-256 of the whole "sk-..." key, lower hex */
  const char *zDisplay;     /* "sk-...abcd" */
  const char *zUserId;      /* Owner; NULL: nobody (master key, CLI) */
  const char *zAlias;       /* NULL: none; unique otherwise */
  const char *zModels;      /* JSON array text; NULL on insert: "[]" = all */
  long long tExpires;       /* 0: never */
  long long tCreated;       /* 0 on insert: now */
  long long tLastUsed;      /* 0: never */
  int bBlocked;
  const char *zIssuedVia;   /* "api", "ui", "oauth", "device" or "cli" */
  long long nRpmLimit;      /* Requests per minute; 0: no limit */
  long long nTpmLimit;      /* Tokens per minute; 0: no limit */
  const char *zMetadata;    /* JSON object text; NULL on insert: "{}" */
  /* Usage, counted by the proxy (ssoStoreKeysUsage); read-only here:
  ** insert and update leave them alone. */
  long long nRequests;      /* Requests forwarded */
  long long nPromptTokens;  /* usage.prompt_tokens summed */
  long long nCompletionTokens;  /* usage.completion_tokens summed */
};

SSO_PRIVATE int ssoStoreKeyInsert(SsoStore*, const SsoKey*);
SSO_PRIVATE int ssoStoreKeyGet(SsoStore*, const char *zHash,
                               SsoArena *pArena, SsoKey *pOut);
/*
** The lookup behind every proxied request: the key and, in the same
** statement, its owner. pUser->zId is NULL when the key has no owner.
*/
SSO_PRIVATE int ssoStoreKeyAuth(SsoStore*, const char *zHash,
                                SsoArena *pArena, SsoKey *pKey,
                                SsoUser *pUser);
SSO_PRIVATE int ssoStoreKeyGetByAlias(SsoStore*, const char *zAlias,
                                      SsoArena *pArena, SsoKey *pOut);
/* Overwrite alias, models, expiry, blocked, limits and metadata of the
** key pKey->zHash (models or metadata NULL: keep). */
SSO_PRIVATE int ssoStoreKeyUpdate(SsoStore*, const SsoKey *pKey);
SSO_PRIVATE int ssoStoreKeyDelete(SsoStore*, const char *zHash);
SSO_PRIVATE int ssoStoreKeyDeleteByAlias(SsoStore*, const char *zAlias);
/* Delete every key of zUserId; *pnDeleted (may be NULL) how many. OK
** when there were none. */
SSO_PRIVATE int ssoStoreKeyDeleteByUser(SsoStore*, const char *zUserId,
                                        int *pnDeleted);
/* One page of keys, oldest first: all of them, or zUserId's. */
SSO_PRIVATE int ssoStoreKeyList(SsoStore*, const char *zUserId, int iOffset,
                                int nLimit, SsoArena *pArena,
                                SsoKey **paKey, int *pnKey);
SSO_PRIVATE int ssoStoreKeyCount(SsoStore*, const char *zUserId, int *pnKey);
/*
** Record the use of n keys in one transaction (joining the caller's if one
** is open): for each entry add the counts to the key's usage and move its
** last use to tAt, never backwards. Hashes no longer in the table are
** skipped. The proxy and the API batch these instead of writing on every
** request.
*/
typedef struct SsoKeyUsage SsoKeyUsage;
struct SsoKeyUsage {
  const char *zHash;
  long long tAt;            /* Last use, Unix ms */
  long long nRequests;
  long long nPromptTokens;
  long long nCompletionTokens;
};
SSO_PRIVATE int ssoStoreKeysUsage(SsoStore*, const SsoKeyUsage *a, int n);

/* ---- Browser sessions ----
** The cookie carries a random id; the row is found by its SHA-256, so a
** copy of the database does not hold usable sessions. Deleting a user
** deletes their sessions (foreign key).
*/
typedef struct SsoSessionRow SsoSessionRow;
struct SsoSessionRow {
  const char *zHash;        /* SHA-256 of the cookie's id, lower hex */
  const char *zUserId;      /* Whose session */
  long long tCreated;       /* 0 on insert: now */
  long long tSeen;          /* Last request seen; 0 on insert: now */
  long long tExpires;       /* Absolute end, Unix ms (required) */
  const char *zIdToken;     /* The IdP's id_token, for logout; NULL: none */
  const char *zData;        /* JSON object (groups, how it signed in...);
                            ** NULL on insert: "{}" */
};
SSO_PRIVATE int ssoStoreSessionInsert(SsoStore*, const SsoSessionRow*);
SSO_PRIVATE int ssoStoreSessionGet(SsoStore*, const char *zHash,
                                   SsoArena *pArena, SsoSessionRow *pOut);
/* Move tSeen forward to tSeen (never backwards). */
SSO_PRIVATE int ssoStoreSessionTouch(SsoStore*, const char *zHash,
                                     long long tSeen);
SSO_PRIVATE int ssoStoreSessionDelete(SsoStore*, const char *zHash);
/* Every session of zUserId; *pn (may be NULL) how many. */
SSO_PRIVATE int ssoStoreSessionDeleteUser(SsoStore*, const char *zUserId,
                                          int *pn);
/* Delete sessions past tExpires or unseen since tIdleBefore (0: no idle
** rule); *pn (may be NULL) how many. */
SSO_PRIVATE int ssoStoreSessionPurge(SsoStore*, long long tNow,
                                     long long tIdleBefore, int *pn);

/* ---- Short-lived grants ----
** Login states, OAuth codes, device codes...: one row each, named by the
** SHA-256 of its secret, with a kind chosen by the caller ("login",
** "oauth_code", "device", ...), a JSON payload and an expiry. Take is the
** single-use read: it counts the use atomically (so two workers racing
** for one code see nUse 1 and 2) and returns the row; the caller refuses
** when nUse>1 or the row has expired.
*/
typedef struct SsoGrant SsoGrant;
struct SsoGrant {
  const char *zHash;        /* SHA-256 of the secret, lower hex */
  const char *zKind;        /* Caller's kind; a lookup must name it */
  const char *zData;        /* JSON object text; NULL on insert: "{}" */
  long long tCreated;       /* 0 on insert: now */
  long long tExpires;       /* Unix ms (required) */
  int nUse;                 /* Takes so far; 0 on insert */
};
SSO_PRIVATE int ssoStoreGrantInsert(SsoStore*, const SsoGrant*);
/* Count one use of (zHash, zKind) and return the row as it is after. */
SSO_PRIVATE int ssoStoreGrantTake(SsoStore*, const char *zHash,
                                  const char *zKind, SsoArena *pArena,
                                  SsoGrant *pOut);
/* Read without using. */
SSO_PRIVATE int ssoStoreGrantGet(SsoStore*, const char *zHash,
                                 const char *zKind, SsoArena *pArena,
                                 SsoGrant *pOut);
/* Replace the payload of (zHash, zKind). */
SSO_PRIVATE int ssoStoreGrantUpdate(SsoStore*, const char *zHash,
                                    const char *zKind, const char *zData);
SSO_PRIVATE int ssoStoreGrantDelete(SsoStore*, const char *zHash,
                                    const char *zKind);
/* Delete grants that expired before tBefore; *pn (may be NULL) how many. */
SSO_PRIVATE int ssoStoreGrantPurge(SsoStore*, long long tBefore, int *pn);

/* ---- Audit log ---- */
typedef struct SsoAudit SsoAudit;
struct SsoAudit {
  long long iId;            /* Assigned on append, increasing */
  long long tAt;            /* 0 on append: now */
  const char *zActor;       /* User id, "master_key", "cli", ... */
  const char *zAction;      /* "create", "update", "delete", "role_change" */
  const char *zObjectType;  /* "user", "key", ... */
  const char *zObjectId;
  const char *zBefore;      /* JSON text of the old state; NULL: none */
  const char *zAfter;       /* JSON text of the new state; NULL: none */
};

/* Append one entry; *piId (may be NULL) receives its id. */
SSO_PRIVATE int ssoStoreAuditAppend(SsoStore*, const SsoAudit*,
                                    long long *piId);
/* One page, newest first; only entries about zObjectType/zObjectId when
** zObjectType is not NULL (zObjectId NULL: every object of that type). */
SSO_PRIVATE int ssoStoreAuditList(SsoStore*, const char *zObjectType,
                                  const char *zObjectId, int iOffset,
                                  int nLimit, SsoArena *pArena,
                                  SsoAudit **paAudit, int *pnAudit);
/* How many entries ssoStoreAuditList() pages through for these filters. */
SSO_PRIVATE int ssoStoreAuditCount(SsoStore*, const char *zObjectType,
                                   const char *zObjectId, int *pnAudit);

#endif /* SSO_STORE_H */
