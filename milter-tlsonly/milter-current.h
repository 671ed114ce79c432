/*
 * milter-current.h - the configuration in force, shared by libmilter's
 * pooled worker threads and replaced on SIGHUP.
 *
 * Contract: milter_current_set() installs a loaded configuration and
 * takes ownership of it; the one it replaces is freed once the last
 * holder has released it. milter_current_acquire() returns the
 * configuration in force with a reference that the caller must give back
 * with milter_current_release(); until then the object stays valid and
 * unchanged, whatever reloads happen meanwhile. A connection takes one
 * reference when it starts and keeps it to the end, so that it sees one
 * configuration throughout. All functions are thread-safe (one mutex;
 * held only for a pointer swap and a counter update, never during a
 * decision). milter_current_set(NULL) at shutdown drops the installed
 * configuration.
 */
#ifndef MILTER_CURRENT_H
#define MILTER_CURRENT_H

#include "milter-config.h"

void milter_current_set(struct milter_config *conf);
/* NULL only before the first milter_current_set() or after set(NULL). */
struct milter_config *milter_current_acquire(void);
void milter_current_release(struct milter_config *conf);

#endif
