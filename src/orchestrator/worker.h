/*
 * The worker loop: claims QUEUED runs from the database and executes up to
 * `concurrency` of them at once, each on its own thread and connection. It
 * wakes on LISTEN/NOTIFY (channel QUEUE_CHANNEL) with polling as fallback,
 * keeps the leases of its runs alive, reaps runs whose lease expired
 * (another worker died), writes a heartbeat and keeps the candidate pool
 * of matchmaking loaded (pool_warm.h). Any number of workers on any number
 * of machines can share one database.
 */
#ifndef SCOUT_ORCHESTRATOR_WORKER_H
#define SCOUT_ORCHESTRATOR_WORKER_H

#include <signal.h>

#include "core/err.h"

struct config;

#define WORKER_CONCURRENCY_MAX 64

struct worker_opts {
	const char *name;		  /* NULL: host:pid */
	int concurrency;		  /* 0: worker.concurrency */
	int poll_ms;			  /* 0: queue.poll_ms */
	int lease_ms;			  /* 0: queue.lease_ms */
	volatile sig_atomic_t *stop;	  /* drain when set: finish running runs, claim no more */
	volatile sig_atomic_t *stop_now; /* when set: release running runs for other workers, return */
	int max_runs;			  /* 0 = forever; else drain after claiming this many (tests) */
};

void worker_opts_init(struct worker_opts *o);

/*
 * Run the worker until *stop (drain: every running run finishes) or
 * *stop_now (running runs are released, re-queued for another worker, and
 * the function returns at once; steps still in flight are abandoned on
 * their threads, so the caller must then exit the process). Returns 0 on a
 * clean stop, -1 when the worker cannot start (database, options).
 */
int worker_main(const struct config *cfg, const struct worker_opts *o, serr *e) SCOUT_MUST;

#endif
