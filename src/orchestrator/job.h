/*
 * Job definitions: the one table through which the orchestrator knows
 * scout's jobs. A job is a name, a description, how it is partitioned
 * (per candidate record, per job record, or not at all), its ordered steps
 * and its concurrency tags. The steps are pipeline functions; the
 * orchestrator only calls them through this table.
 */
#ifndef SCOUT_ORCHESTRATOR_JOB_H
#define SCOUT_ORCHESTRATOR_JOB_H

#include <stddef.h>

#include "core/err.h"

struct job_ctx;

enum job_partitioning {
	PART_NONE = 0,	 /* one run covers the job */
	PART_CANDIDATES, /* partition key = Talent record id */
	PART_JOBS,	 /* partition key = Customers STT record id */
};

typedef int (*job_step_fn)(struct job_ctx *ctx, serr *e);

struct job_step {
	const char *name;
	job_step_fn fn;
};

#define JOB_MAX_STEPS 8

struct job_def {
	const char *name;
	const char *description;
	enum job_partitioning partitioning;
	/* a partitioned job run without a partition covers every record in one pass */
	int allow_all;
	const char *tags; /* comma-separated concurrency tags, e.g. "airtable" */
	int max_retries;
	struct job_step steps[JOB_MAX_STEPS]; /* ends at the first NULL name */
	void *(*state_new)(void);	      /* per-run private state shared by steps */
	void (*state_free)(void *state);
};

extern const struct job_def job_defs[];
extern const size_t job_defs_count;

const struct job_def *job_def_find(const char *name);
const char *job_partitioning_name(enum job_partitioning p);
size_t job_def_nsteps(const struct job_def *d);

#endif
