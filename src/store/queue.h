/*
 * The run queue in PostgreSQL: queueing runs (with run-key dedupe and at
 * most one QUEUED/STARTED run per partition of a job), claiming them under
 * a lease with FOR UPDATE SKIP LOCKED within the global and per-tag
 * concurrency limits, renewing and releasing leases, recording attempts,
 * retries with backoff, the reaper of expired leases, and cancellation.
 * Every change that makes a run QUEUED notifies QUEUE_CHANNEL.
 */
#ifndef SCOUT_STORE_QUEUE_H
#define SCOUT_STORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/* LISTEN/NOTIFY channel; the payload is the run id. */
#define QUEUE_CHANNEL "scout_runs"

struct run_request {
	const char *job;
	const char *partition_key; /* NULL for unpartitioned jobs */
	const char *run_key;	   /* NULL or a dedupe key: a second request with the same (job, run_key) creates nothing */
	const char *tags_json;	   /* JSON object or NULL, e.g. {"sensor":"airtable_candidate_sensor","input_hash":"..."} */
	int priority;		   /* higher first */
	const char *backfill_id;   /* NULL or the backfill that queued it */
	int max_attempts;	   /* 0 = the job definition's retries + 1 */
};

/*
 * Queue one run (QUEUED), inside the caller's open transaction when there is one.
 * *created = 0 and run_id = the existing run's id when the run key was used already
 * for the job, or when that partition of the job already has a QUEUED or STARTED
 * run (guaranteed by a unique partial index, not by a racy check).
 */
int queue_enqueue(struct store *s, const struct run_request *r, struct buf *run_id, int *created,
		  serr *e) SCOUT_MUST;

/*
 * Cancel a run: QUEUED -> CANCELED at once, STARTED -> CANCELING (the
 * worker stops between steps and marks it CANCELED). A run that already
 * ended is an error that says so.
 */
int queue_cancel(struct store *s, const char *run_id, serr *e) SCOUT_MUST;

#endif
