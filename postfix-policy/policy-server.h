/*
 * policy-server.h - mailfruit-policyd's standalone mode: one process, one
 * epoll loop, any number of persistent client connections.
 *
 * Contract: policy_server_run() binds every endpoint of the configuration
 * (or the override), sets socket owner and mode, raises the open-file
 * limit, drops root privileges for good, then serves until SIGTERM or
 * SIGINT, after which it closes everything and returns 0. SIGHUP reloads
 * the file: a good file replaces the decision parameters for every
 * connection, open ones included; a broken one is logged and the old
 * configuration stays. Returns a sysexits.h code when start-up fails
 * (after logging why). Takes ownership of conf.
 */
#ifndef POLICY_SERVER_H
#define POLICY_SERVER_H

#include "policy-config.h"

int policy_server_run(const char *config_path, struct policyd_config *conf,
		      const char *listen_override);

#endif
