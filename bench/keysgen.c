/*
** The key tables of bench/keys.sh: fill a database with N API keys the
** fast way, through the store (not HTTP), and write a sample of their
** plaintexts for the load generator.
**
**   keysgen DB N NSAMPLE SAMPLEFILE
**
** The keys are "sk-bench-" and a number, hashed like every key (SHA-256
** hex); they belong to one internal_user_viewer, so GET /key/info with
** any of them is an authenticated request that reads one key. The
** sample is NSAMPLE keys spread evenly over all N, so with N = 1,000,000
** the lookups land all over the B-tree, not in one corner of it. Rows go
** in by hash order in transactions of 10,000, which keeps the inserts
** appending to the table's last page.
*/
#define SSOPROXY_OMIT_MAIN 1
#include "../ssoproxy.c"

typedef struct KgRow KgRow;
struct KgRow { char zHash[SSO_KEY_HEX]; };

static int kgCmp(const void *a, const void *b){
  return strcmp(((const KgRow*)a)->zHash, ((const KgRow*)b)->zHash);
}

static void kgKey(long i, char *z, size_t n){
  snprintf(z, n, "sk-bench-%09ld-8Qx3Lr0vYb", i);
}

int main(int argc, char **argv){
  SsoStore *pStore = 0;
  SsoUser u;
  SsoKey k;
  KgRow *a;
  FILE *pOut;
  long i, n, nSample;
  int rc;
  if( argc!=5 ){
    fprintf(stderr, "usage: keysgen DB N NSAMPLE SAMPLEFILE\n");
    return 2;
  }
  n = atol(argv[2]);
  nSample = atol(argv[3]);
  if( n<1 || nSample<1 || nSample>n ) return 2;
  a = malloc(sizeof(KgRow)*(size_t)n);
  pOut = fopen(argv[4], "w");
  if( a==0 || pOut==0 ) return 1;
  for(i=0; i<n; i++){
    char z[64];
    kgKey(i, z, sizeof(z));
    ssoAuthzKeyHash(z, strlen(z), a[i].zHash);
  }
  for(i=0; i<nSample; i++){
    char z[64];
    kgKey(i*(n/nSample), z, sizeof(z));
    fprintf(pOut, "%s\n", z);
  }
  fclose(pOut);
  qsort(a, (size_t)n, sizeof(KgRow), kgCmp);
  rc = ssoStoreOpen(argv[1], &pStore);
  memset(&u, 0, sizeof(u));
  u.zId = "bench";
  u.zRole = "internal_user_viewer";
  u.zSource = "local";
  if( rc==SSOPROXY_OK ) rc = ssoStoreUserInsert(pStore, &u);
  memset(&k, 0, sizeof(k));
  k.zDisplay = "sk-...bench";
  k.zUserId = "bench";
  k.zIssuedVia = "cli";
  for(i=0; rc==SSOPROXY_OK && i<n; i++){
    if( i%10000==0 ) rc = ssoStoreBegin(pStore);
    k.zHash = a[i].zHash;
    if( rc==SSOPROXY_OK ) rc = ssoStoreKeyInsert(pStore, &k);
    if( rc==SSOPROXY_OK && (i%10000==9999 || i==n-1) ){
      rc = ssoStoreCommit(pStore);
    }
  }
  if( rc ) fprintf(stderr, "keysgen: %s\n", ssoStoreErrmsg(pStore));
  ssoStoreClose(pStore);
  free(a);
  return rc ? 1 : 0;
}
