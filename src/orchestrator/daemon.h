/*
 * `scout daemon`: one process tree that runs scout. The parent supervises
 * its children (the sensor loop and N workers, later the web UI), restarts
 * the ones that crash with a backoff, and writes its own heartbeat. Stop
 * once = drain (workers finish or release their runs, sensors stop after
 * the current tick); stop again = children stop at once (their leases are
 * released so the runs are queued again), and are killed if they linger.
 * Reload = re-read the configuration and restart the children gracefully
 * with it.
 */
#ifndef SCOUT_ORCHESTRATOR_DAEMON_H
#define SCOUT_ORCHESTRATOR_DAEMON_H

#include <signal.h>

#include "core/err.h"

struct config;

#define DAEMON_WORKERS_MAX 64

struct daemon_opts {
	const char *name; /* heartbeat name; NULL: "<host>:<pid>" */
	int workers;	  /* < 0: the configuration's daemon.workers */
	volatile sig_atomic_t *stop;	 /* set: drain and return */
	volatile sig_atomic_t *stop_now; /* set: children stop at once */
	volatile sig_atomic_t *reload;	 /* set: reload the configuration; the daemon clears it */
	/* Called about every 100 ms in the parent; returning 1 drains and returns (the demo). */
	int (*idle)(void *ud);
	void *idle_ud;
};

void daemon_opts_init(struct daemon_opts *o);

/*
 * Run the process tree until told to stop. Opens the store first (which
 * starts the private cluster when there is no DATABASE_URL) and applies
 * pending migrations. 0 after a drain or a stop, -1 when it could not start.
 * The caller installs the signal handlers that set the flags; children
 * install their own.
 */
int daemon_main(const struct config *cfg, const struct daemon_opts *o, serr *e) SCOUT_MUST;

#endif
