/* Placeholder: the json module is being written. */
#include "ssoInt.h"
