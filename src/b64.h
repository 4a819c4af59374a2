/* Placeholder: the b64 module is being written. */
#ifndef SSO_B64_H
#define SSO_B64_H
#endif
