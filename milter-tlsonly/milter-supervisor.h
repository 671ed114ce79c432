/*
 * milter-supervisor.h - the filter as two processes, so that a SIGHUP
 * never reaches libmilter.
 *
 * Why: smfi_main() runs a signal thread that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the filter on any of them (libmilter's
 * signal.c: SIGHUP and SIGTERM are mi_stop_milters(MILTER_STOP), which
 * closes the listening socket). In one process there is no mask that
 * keeps every SIGHUP of a burst away from that thread. So the process the
 * service manager knows (the supervisor) takes the signals and runs no
 * libmilter at all, and the server process it forks is told to reload
 * through a pipe.
 *
 * Contract: milter_supervise() is called once, with the filter
 * registered, its socket open and privileges dropped, and before any
 * thread exists. It forks:
 *
 *  - The server child runs serve(reload_fd, arg) and exit()s with its
 *    result (milter_supervise() never returns there). reload_fd gives one
 *    byte or more after each SIGHUP the supervisor got (a burst may come
 *    as fewer bytes; at least one is read after the last signal) and
 *    end-of-file once the supervisor is gone. In the child SIGHUP is
 *    ignored and not blocked in the calling (main) thread, which Linux
 *    checks when a process-directed signal is sent, so even a SIGHUP sent
 *    to the child itself is dropped; SIGTERM and SIGINT stay blocked, for
 *    libmilter's signal thread to take (a clean stop); SIGPIPE is
 *    ignored. serve() must keep its main thread's mask as it is.
 *
 *  - The supervisor holds nothing but the pipe's other end (it closes its
 *    copy of the listening socket). It forwards SIGTERM and SIGINT to the
 *    child, turns SIGHUP into a byte on the pipe, and returns when the
 *    child has ended: the child's exit status, or EX_SOFTWARE (logged)
 *    when the child was killed by a signal, so that the service manager
 *    restarts the filter. EX_OSERR (logged) when no child could be made.
 */
#ifndef MILTER_SUPERVISOR_H
#define MILTER_SUPERVISOR_H

typedef int milter_serve_fn(int reload_fd, void *arg);

int milter_supervise(milter_serve_fn *serve, void *arg);

#endif
