/*
** 2026 November 22
**
** ssoproxy is released under the MIT licence; see README.md.
**
*************************************************************************
**
** Layer 5: the program's entry point. All of the command line lives in
** ssoproxy_main() (src/app.c) so that a host embedding ssoproxy.c can offer
** the same CLI; define SSOPROXY_OMIT_MAIN to leave main() out.
*/
#include "ssoInt.h"

#ifndef SSOPROXY_OMIT_MAIN
int main(int argc, char **argv){
  return ssoproxy_main(argc, argv);
}
#endif
