/*
 * milter-listen.h - the listening socket, made while still root, before
 * libmilter starts its threads (the privilege drop after it is
 * mf-daemon.h's).
 *
 * Contract: milter_listen_open() creates the socket of milter_listen
 * through libmilter (smfi_setconn + smfi_opensocket; the filter must be
 * registered first). A unix socket gets milter_socket_mode from the start
 * (umask around the bind) and then milter_socket_owner; a stale socket
 * file is replaced, but one another process listens on, or a file that is
 * no socket, is an error. Errors are logged; it returns a sysexits.h
 * code, 0 on success.
 */
#ifndef MILTER_LISTEN_H
#define MILTER_LISTEN_H

#include "milter-config.h"

int milter_listen_open(const struct milter_config *conf);

#endif
