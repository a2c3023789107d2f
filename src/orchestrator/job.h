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
	/*
	 * Retry policy: attempt n waits a random time in [0, min(max, base * 2^(n-1))]
	 * ms (exponential backoff with full jitter). 0 selects the defaults below.
	 */
	int retry_backoff_ms;
	int retry_max_backoff_ms;
	struct job_step steps[JOB_MAX_STEPS]; /* ends at the first NULL name */
	void *(*state_new)(void);	      /* per-run private state shared by steps */
	void (*state_free)(void *state);
};

extern const struct job_def job_defs[];
extern const size_t job_defs_count;

#define JOB_RETRY_BACKOFF_MS_DEFAULT 5000
#define JOB_RETRY_MAX_BACKOFF_MS_DEFAULT 300000
#define JOB_REGISTERED_MAX 64

/*
 * Extra definitions registered at run time (tests and benchmarks: noop, sleep, fail jobs).
 * The definition is copied; the strings and functions it points to must stay
 * valid for the life of the process. A name already defined is an error.
 */
int job_defs_register(const struct job_def *def, serr *e) SCOUT_MUST;

/* Every definition, built-in then registered: i in [0, job_def_count()). */
size_t job_def_count(void);
const struct job_def *job_def_at(size_t i);

/* Built-in or registered definition by name, NULL when unknown. */
const struct job_def *job_def_find(const char *name);
const char *job_partitioning_name(enum job_partitioning p);
size_t job_def_nsteps(const struct job_def *d);

#endif
