/* Placeholder: the url module is being written. */
#include "ssoInt.h"
