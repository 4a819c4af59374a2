/* Placeholder: the store module is being written. */
#include "ssoInt.h"
