/* Placeholder. */
#ifndef SSO_APP_H
#define SSO_APP_H
#endif
