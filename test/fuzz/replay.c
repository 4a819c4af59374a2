/*
** Replays fuzz inputs without libFuzzer: each argument is a file or a
** directory of files, each file one input to LLVMFuzzerTestOneInput().
** Built with the sanitizers, so a crasher that comes back fails the run.
** Prints "N passed, N failed" (each input that returns is a pass).
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);

static int nPass;

static int replayFile(const char *zPath){
  FILE *f = fopen(zPath, "rb");
  uint8_t *a;
  long n;
  if( f==0 ) return 1;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* Exactly n bytes, so ASan catches a parser reading one byte past. */
  a = malloc(n>0 ? (size_t)n : 1);
  if( a==0 || fread(a, 1, (size_t)n, f)!=(size_t)n ){
    fclose(f);
    free(a);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(a, (size_t)n);
  free(a);
  nPass++;
  return 0;
}

static int replayPath(const char *zPath){
  struct stat st;
  DIR *d;
  struct dirent *e;
  int nErr = 0;
  if( stat(zPath, &st) ) return 0;         /* absent corpus: nothing to do */
  if( !S_ISDIR(st.st_mode) ) return replayFile(zPath);
  d = opendir(zPath);
  if( d==0 ) return 1;
  while( (e = readdir(d))!=0 ){
    char zChild[4096];
    if( e->d_name[0]=='.' ) continue;
    snprintf(zChild, sizeof(zChild), "%s/%s", zPath, e->d_name);
    nErr += replayPath(zChild);
  }
  closedir(d);
  return nErr;
}

int main(int argc, char **argv){
  int i, nErr = 0;
  for(i=1; i<argc; i++) nErr += replayPath(argv[i]);
  printf("%d passed, %d failed\n", nPass, nErr);
  return nErr!=0;
}
