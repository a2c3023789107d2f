/*
 * Executing one run of a job: a run claimed from the queue under a lease,
 * one step after another, with the event log (run and step start/success/
 * failure, skipped steps of a resumed run, materializations, the log lines
 * written while a step ran). Between steps the run stops when it was
 * canceled or lost its lease; its end is recorded only by the lease holder,
 * so a run is never executed twice to completion. Workers call
 * run_execute; `scout job run` calls run_foreground, which queues the run
 * and claims it at once, so workers see it as STARTED.
 */
#ifndef SCOUT_ORCHESTRATOR_RUN_H
#define SCOUT_ORCHESTRATOR_RUN_H

#include "core/buf.h"
#include "core/err.h"

struct config;
struct store;
struct queue_claim;
struct lease;

enum run_outcome {
	RUN_SUCCEEDED,
	RUN_FAILED,	/* failed with no attempts left */
	RUN_RETRYING,	/* failed; queued again for another attempt after a backoff */
	RUN_CANCELED,
	RUN_LEASE_LOST, /* another worker owns the run now; nothing was recorded */
};

const char *run_outcome_name(enum run_outcome o);

/*
 * Execute the claimed run c from its resume step. lease (may be NULL) is
 * kept alive by a lease keeper and tells the run it was canceled or lost
 * its lease. *outcome says how it ended. Returns 0 only when it succeeded;
 * e then says why not (which step failed and why, or what stopped it).
 */
int run_execute(const struct config *cfg, struct store *st, const struct queue_claim *c,
		struct lease *lease, enum run_outcome *outcome, serr *e) SCOUT_MUST;

/*
 * Create a run of `job` (for `partition`, or NULL) and execute it now in
 * this process: one attempt (a failure is not retried; see `scout run
 * retry`), limits not applied. run_id receives the run's id as soon as it
 * exists, so a caller can point to the run log even when the run fails.
 * Fails without creating anything when the partition already has a queued
 * or running run. Returns 0 only when every step succeeded; e then says
 * which step failed and why.
 */
int run_foreground(const struct config *cfg, struct store *st, const char *job,
		   const char *partition, struct buf *run_id, serr *e) SCOUT_MUST;

/* Claim the QUEUED run run_id and execute it now in this process (`--foreground`). */
int run_execute_queued(const struct config *cfg, struct store *st, const char *run_id,
		       serr *e) SCOUT_MUST;

/*
 * Re-execute a run that ended: a new QUEUED run of the same job and
 * partition with the parent's id. from_failure resumes at the parent's
 * failed step (earlier steps are recorded SKIPPED) when the job's steps
 * read their inputs from the store; a job whose steps hand state to each
 * other in memory (state_new) restarts from its first step. resumed_step
 * (may be NULL) receives the step the new run starts at ("" = the first).
 */
int run_reexecute(struct store *st, const char *run_id, int from_failure, struct buf *new_id,
		  struct buf *resumed_step, serr *e) SCOUT_MUST;

#endif
