/*
** Layer 5: settings. One table (the X-macro below) names every setting,
** its aliases, type, default, limits and help; the enum, the validation,
** `ssoproxy config`, --help and the README's table all come from it.
*/
#ifndef SSO_CONFIG_H
#define SSO_CONFIG_H

/* Setting types */
#define SSO_SET_STR    0    /* Any text */
#define SSO_SET_INT    1    /* Decimal integer in [iMin, iMax] */
#define SSO_SET_BOOL   2    /* true/false, 1/0, yes/no, on/off */
#define SSO_SET_ENUM   3    /* One of the '|'-separated words in zEnum */
#define SSO_SET_ADDR   4    /* host:port, [v6]:port; port 0..65535 */

/*
** X(id, name, alias, type, default, min, max, enum, secret, help)
** Add new settings at the end of their group; never rename a name
** (DESIGN.md: names users rely on).
*/
#define SSO_SETTINGS(X) \
  X(LISTEN, "SSOPROXY_LISTEN", 0, SSO_SET_ADDR, "127.0.0.1:4000", 0, 0, 0, 0, \
    "Address to listen on, host:port ([::1]:4000 for IPv6, port 0 = any)") \
  X(DB, "SSOPROXY_DB", 0, SSO_SET_STR, "ssoproxy.db", 0, 0, 0, 0, \
    "SQLite database file (created and migrated at start)") \
  X(MASTER_KEY, "LITELLM_MASTER_KEY", "SSOPROXY_MASTER_KEY", SSO_SET_STR, 0, \
    0, 0, 0, 1, "Admin credential (acts as proxy_admin); unset = none") \
  X(WORKERS, "SSOPROXY_WORKERS", 0, SSO_SET_INT, "0", 0, 256, 0, 0, \
    "Event-loop threads; 0 = one per processor") \
  X(LOG_FORMAT, "SSOPROXY_LOG_FORMAT", 0, SSO_SET_ENUM, "logfmt", 0, 0, \
    "logfmt|json", 0, "Log line format") \
  X(LOG_LEVEL, "SSOPROXY_LOG_LEVEL", 0, SSO_SET_ENUM, "info", 0, 0, \
    "debug|info|warn|error|off", 0, "Lowest level logged")

#define SSO_SETTING_ENUM(id, ...) SSO_CFG_##id,
enum { SSO_SETTINGS(SSO_SETTING_ENUM) SSO_CFG_COUNT };

/* Where a value came from. */
#define SSO_SRC_DEFAULT 0
#define SSO_SRC_FILE    1
#define SSO_SRC_ENV     2
#define SSO_SRC_API     3   /* ssoproxy_config_set() */
#define SSO_SRC_FLAG    4   /* a command-line option */

SSO_PRIVATE int ssoConfigSet(ssoproxy_config*, const char *zName,
                             const char *zValue, int eSrc, const char *zWhere);
/* The value of setting iSet (its default if unset); NULL when unset with
** no default. Valid until the setting changes or the config is freed. */
SSO_PRIVATE const char *ssoConfigStr(const ssoproxy_config*, int iSet);
SSO_PRIVATE long long ssoConfigInt(const ssoproxy_config*, int iSet);
SSO_PRIVATE int ssoConfigBool(const ssoproxy_config*, int iSet);
SSO_PRIVATE int ssoConfigCopy(const ssoproxy_config*, ssoproxy_config **pp);
/* The effective configuration, secrets masked, one "NAME=value  # source"
** line per setting, into b. */
SSO_PRIVATE void ssoConfigDump(const ssoproxy_config*, SsoBuf *b);
/* Help lines for every setting, for --help. */
SSO_PRIVATE void ssoConfigHelp(SsoBuf *b);

#endif /* SSO_CONFIG_H */
