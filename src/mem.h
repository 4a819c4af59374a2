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
** Allocation is a pointer bump, inlined at the call site (a JSON parse
** makes one per container); only a new chunk costs a call.
*/
typedef struct SsoArena SsoArena;
typedef struct SsoArenaChunk SsoArenaChunk;
struct SsoArena {
  char *pFree;            /* Next free byte of the newest chunk */
  size_t nFree;           /* Bytes free at pFree */
  SsoArenaChunk *pChunk;  /* Newest chunk; older ones follow pNext */
  size_t nChunk;          /* Least size of the next chunk to allocate */
  size_t nMax;            /* Total bytes this arena may hold; 0 = no cap */
  size_t nTotal;          /* Bytes allocated from ssoMalloc so far */
};
SSO_PRIVATE void ssoArenaInit(SsoArena*, size_t nMax);
/* Make the next chunk at least nByte, when the caller knows roughly how
** much it will allocate: one chunk instead of a doubling series. */
SSO_PRIVATE void ssoArenaSizeHint(SsoArena*, size_t nByte);
SSO_PRIVATE void *ssoArenaAllocSlow(SsoArena*, size_t n);
SSO_PRIVATE char *ssoArenaStrndup(SsoArena*, const char *z, size_t n);
SSO_PRIVATE void ssoArenaFree(SsoArena*);

/*
** Returns n bytes aligned to 8, valid until ssoArenaFree(), or NULL when
** out of memory or when the arena would exceed its cap. The test is
** written so that n==0 and sizes that overflow when rounded up (nNeed-1
** wraps to SIZE_MAX) take the slow path, which handles them.
*/
static inline void *ssoArenaAlloc(SsoArena *a, size_t n){
  size_t nNeed = (n + 7) & ~(size_t)7;
  if( nNeed-1 < a->nFree ){
    char *p = a->pFree;
    a->pFree += nNeed;
    a->nFree -= nNeed;
    return p;
  }
  return ssoArenaAllocSlow(a, n);
}

#endif /* SSO_MEM_H */
