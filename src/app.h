/*
** Layer 5: the server object behind the public ssoproxy_* lifecycle API.
** Everything is in src/app.c; nothing internal calls it.
*/
#ifndef SSO_APP_H
#define SSO_APP_H
#endif /* SSO_APP_H */
