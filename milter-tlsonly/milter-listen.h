/*
 * milter-listen.h - the listening socket and the privilege drop: all that
 * needs root happens here, once, before libmilter starts its threads.
 *
 * Contract: milter_listen_open() creates the socket of milter_listen
 * through libmilter (smfi_setconn + smfi_opensocket; the filter must be
 * registered first). A unix socket gets milter_socket_mode from the start
 * (umask around the bind) and then milter_socket_owner; a stale socket
 * file is replaced, but one another process listens on, or a file that is
 * no socket, is an error. milter_drop_privileges() switches to the user
 * (with its groups) when running as root and verifies that root cannot be
 * regained. Errors are logged; both return a sysexits.h code, 0 on
 * success.
 */
#ifndef MILTER_LISTEN_H
#define MILTER_LISTEN_H

#include "milter-config.h"

int milter_listen_open(const struct milter_config *conf);
int milter_drop_privileges(const char *user);

#endif
