/*
 * Executing one run of a job: the run row, one step after another, and the
 * event log (run and step start/success/failure, materializations, the log
 * lines written while a step ran). Used in the foreground by
 * `scout job run`, and by workers once the queue exists.
 */
#ifndef SCOUT_ORCHESTRATOR_RUN_H
#define SCOUT_ORCHESTRATOR_RUN_H

#include "core/buf.h"
#include "core/err.h"

struct config;
struct store;

/*
 * Create a run of `job` (for `partition`, or NULL) and execute it now.
 * run_id receives the run's id as soon as it exists, so a caller can point
 * to the run log even when the run fails. Returns 0 only when every step
 * succeeded; e then says which step failed and why.
 */
int run_foreground(const struct config *cfg, struct store *st, const char *job,
		   const char *partition, struct buf *run_id, serr *e) SCOUT_MUST;

#endif
