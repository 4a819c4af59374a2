/* Placeholder: the b64 module is being written. */
#include "ssoInt.h"
