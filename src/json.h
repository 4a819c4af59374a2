/* Placeholder: the json module is being written. */
#ifndef SSO_JSON_H
#define SSO_JSON_H
#endif
