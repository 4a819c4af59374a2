/* Placeholder. */
#include "ssoInt.h"
