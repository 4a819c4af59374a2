/*
** Layer 5: the administration commands of the command line, working on
** the database file directly, so they are safe beside a running server
** (SQLite WAL, a busy timeout) and need no master key:
**
**   ssoproxy user list [--role ROLE]
**   ssoproxy user add ID [--email E] [--name N] [--role ROLE]
**   ssoproxy user set-role ID ROLE
**   ssoproxy user disable ID | enable ID | delete ID
**   ssoproxy key create [--user ID] [--alias A] [--duration D] [--models M,M]
**   ssoproxy key list [--user ID]
**   ssoproxy key revoke KEY|HASH|ALIAS
**   ssoproxy audit [--type key|user] [--id ID] [--limit N]
**
** Every change is audited like the API's, with the actor "cli:<login>".
*/
#ifndef SSO_ADMIN_H
#define SSO_ADMIN_H

/* 1 if zWord is one of the commands above ("user", "key", "audit"). */
SSO_PRIVATE int ssoAdminIsCommand(const char *zWord);
/*
** Run command zCmd with its nArg arguments on the database zDb. Prints
** results on stdout and errors on stderr; returns the exit status: 0
** done, 1 failed (unknown user or key, database error), 2 usage.
*/
SSO_PRIVATE int ssoAdminRun(const char *zDb, const char *zCmd, int nArg,
                            const char *const *azArg);

#endif /* SSO_ADMIN_H */
