/* Placeholder: the store module is being written. */
#ifndef SSO_STORE_H
#define SSO_STORE_H
#endif
