/*
** Layer 0: memory. One replaceable allocator for all of ssoproxy and
** SQLite, and a bump arena for objects that die together.
*/
#ifndef SSO_MEM_H
#define SSO_MEM_H

/*
** ssoMalloc/ssoRealloc return NULL on failure (never abort) and on
** requests above SSO_MAX_ALLOC. ssoFree(NULL) is a no-op. Every block
** carries its size, so ssoMemSize() works and live bytes are counted.
*/
SSO_PRIVATE void *ssoMalloc(size_t n);
SSO_PRIVATE void *ssoMallocZero(size_t n);
SSO_PRIVATE void *ssoRealloc(void *p, size_t n);
SSO_PRIVATE void ssoFree(void *p);
SSO_PRIVATE size_t ssoMemSize(const void *p);
SSO_PRIVATE char *ssoStrndup(const char *z, size_t n);   /* caller frees */
SSO_PRIVATE char *ssoStrdup(const char *z);              /* NULL in, NULL out */

/* Live bytes and live blocks right now; tests use these to find leaks. */
SSO_PRIVATE long long ssoMemUsed(void);
SSO_PRIVATE long long ssoMemBlocks(void);

/*
** Route SQLite's allocations through ssoMalloc. Safe to call many times;
** if the host already initialised SQLite with its own allocator, SQLite
** keeps it (a benign outcome, reported as SSOPROXY_OK).
*/
SSO_PRIVATE int ssoMemInitSqlite(void);

/*
** An arena hands out 8-byte-aligned pieces of larger chunks and frees them
** all in one ssoArenaFree(). Used for one JSON document, one request.
** The first chunk is allocated lazily, so an unused arena costs nothing.
*/
typedef struct SsoArena SsoArena;
typedef struct SsoArenaChunk SsoArenaChunk;
struct SsoArena {
  SsoArenaChunk *pChunk;  /* Newest chunk; older ones follow pNext */
  size_t nChunk;          /* Size of the next chunk to allocate */
  size_t nMax;            /* Total bytes this arena may hold; 0 = no cap */
  size_t nTotal;          /* Bytes allocated from ssoMalloc so far */
};
SSO_PRIVATE void ssoArenaInit(SsoArena*, size_t nMax);
SSO_PRIVATE void *ssoArenaAlloc(SsoArena*, size_t n);
SSO_PRIVATE char *ssoArenaStrndup(SsoArena*, const char *z, size_t n);
SSO_PRIVATE void ssoArenaFree(SsoArena*);

#endif /* SSO_MEM_H */
