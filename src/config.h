/* Placeholder. */
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H
#endif
