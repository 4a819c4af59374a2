/* Placeholder: the url module is being written. */
#ifndef SSO_URL_H
#define SSO_URL_H
#endif
