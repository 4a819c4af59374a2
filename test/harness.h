/*
** The C test harness. Tests are plain functions registered in a table;
** CHECK() records a failure and carries on, so one run reports every broken
** expectation. A test case passes when none of its checks failed and it
** leaked no memory (live bytes from ssoMemUsed() are compared before and
** after each case). main() prints "N passed, N failed" last.
**
** The fault injector replaces the allocator (ssoproxy_config_memory(),
** which also routes SQLite's allocations here) with one that can fail the
** Nth allocation from now, once (transient) or from then on (persistent).
** faultRun() drives an operation through every failure point, SQLite's
** test_malloc.c way: fail 1, 2, 3, ... until a run meets no failure.
*/
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase TestCase;
struct TestCase {
  const char *zName;
  void (*xTest)(void);
};

static struct {
  int nCheckFail;       /* Failed checks in the current case */
  const char *zCase;    /* Name of the current case */
  int bVerbose;
} tst;

#define CHECK(c) do{ if( !(c) ){ \
    tst.nCheckFail++; \
    fprintf(stderr, "  FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, \
            tst.zCase, #c); } }while(0)
#define CHECK_INT(a, b) do{ long long a_ = (long long)(a), b_ = (long long)(b); \
    if( a_!=b_ ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: %s: %s == %lld, expected %lld\n", \
              __FILE__, __LINE__, tst.zCase, #a, a_, b_); } }while(0)
#define CHECK_STR(a, b) do{ const char *a_ = (a), *b_ = (b); \
    if( a_==0 || b_==0 || strcmp(a_, b_)!=0 ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: %s: %s == \"%s\", expected \"%s\"\n", \
              __FILE__, __LINE__, tst.zCase, #a, a_ ? a_ : "(null)", \
              b_ ? b_ : "(null)"); } }while(0)
#define CHECK_MEM(a, b, n) CHECK( memcmp((a), (b), (n))==0 )

/* ---- Fault injection ---- */

/*
** A countdown that says when an operation should fail: the Nth call of
** faultCounterStep() after faultCounterArm() fails, and with bPersist
** every call after it too. Allocation faults use one (flt); the store
** tests' I/O-failing VFS uses another.
*/
typedef struct FaultCounter FaultCounter;
struct FaultCounter {
  int iCountdown;       /* Calls left before the next failure; 0=off */
  int bPersist;         /* Keep failing after the first failure */
  int bFailing;         /* A persistent failure has started */
  int nFail;            /* Failures injected since faultCounterArm() */
};

/* Returns 1 if this call should fail. */
static int faultCounterStep(FaultCounter *p){
  if( p->bFailing ){ p->nFail++; return 1; }
  if( p->iCountdown>0 && --p->iCountdown==0 ){
    p->nFail++;
    if( p->bPersist ) p->bFailing = 1;
    return 1;
  }
  return 0;
}
static void faultCounterArm(FaultCounter *p, int iNth, int bPersist){
  p->iCountdown = iNth;
  p->bPersist = bPersist;
  p->bFailing = 0;
  p->nFail = 0;
}
/* Stop injecting; returns how many failures were injected. */
static int faultCounterDisarm(FaultCounter *p){
  int n = p->nFail;
  faultCounterArm(p, 0, 0);
  return n;
}

static FaultCounter flt;    /* Allocation faults */
static int faultStep(void){ return faultCounterStep(&flt); }
static void *faultMalloc(size_t n){ return faultStep() ? 0 : malloc(n); }
static void *faultRealloc(void *p, size_t n){
  return faultStep() ? 0 : realloc(p, n);
}
static void faultFree(void *p){ free(p); }

static void faultArm(int iNth, int bPersist){
  faultCounterArm(&flt, iNth, bPersist);
}
static int faultDisarm(void){ return faultCounterDisarm(&flt); }

/*
** Drive an operation through every allocation failure point: run
** xBody(pArg) with allocation 1, 2, 3... failing, first once (transient)
** and then from that point on (persistent), until a run meets no failure.
** After each run xCheck(pArg, rc, bFaulted) says whether the outcome was
** acceptable: success with the right result when nothing failed, a clean
** error (or a success that survived the fault) otherwise. faultRun itself
** checks that the run left no memory behind. Returns the runs made.
*/
typedef int (*FaultBody)(void *pArg);
typedef int (*FaultCheck)(void *pArg, int rc, int bFaulted);
static int faultRun(FaultBody xBody, FaultCheck xCheck, void *pArg){
  int iFail, bPersist, nPoint = 0;
  for(bPersist=0; bPersist<2; bPersist++){
    for(iFail=1; iFail<100000; iFail++){
      long long nBefore = ssoMemUsed();
      int rc, nFailed;
      faultArm(iFail, bPersist);
      rc = xBody(pArg);
      nFailed = faultDisarm();
      if( !xCheck(pArg, rc, nFailed>0) ){
        tst.nCheckFail++;
        fprintf(stderr, "  FAIL %s: bad outcome rc=%d at allocation %d%s\n",
                tst.zCase, rc, iFail, bPersist ? " (persistent)" : "");
        return nPoint;
      }
      if( ssoMemUsed()!=nBefore ){
        tst.nCheckFail++;
        fprintf(stderr, "  FAIL %s: leaked %lld bytes at allocation %d%s\n",
                tst.zCase, ssoMemUsed()-nBefore, iFail,
                bPersist ? " (persistent)" : "");
        return nPoint;
      }
      nPoint++;
      if( nFailed==0 ) break;
    }
  }
  return nPoint;
}

/* Run the cases whose name contains zFilter (NULL: all). */
static int testRunCases(const TestCase *aCase, int nCase, const char *zFilter,
                        int *pnPass, int *pnFail){
  int i;
  for(i=0; i<nCase; i++){
    long long nBefore;
    if( zFilter && strstr(aCase[i].zName, zFilter)==0 ) continue;
    tst.zCase = aCase[i].zName;
    tst.nCheckFail = 0;
    nBefore = ssoMemUsed();
    aCase[i].xTest();
    if( ssoMemUsed()!=nBefore ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL %s: leaked %lld bytes\n", tst.zCase,
              ssoMemUsed()-nBefore);
    }
    if( tst.nCheckFail ){
      (*pnFail)++;
      fprintf(stderr, "not ok - %s\n", tst.zCase);
    }else{
      (*pnPass)++;
      if( tst.bVerbose ) fprintf(stderr, "ok - %s\n", tst.zCase);
    }
  }
  return 0;
}

#define TEST_CASE(name) { #name, name }

#endif /* TEST_HARNESS_H */
