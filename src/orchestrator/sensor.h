/*
 * Sensors: the definitions table (name, interval, default on/off, job
 * launched, evaluation function), ticks, and the loop that evaluates due
 * sensors under a leader lease.
 *
 * An evaluation reads the outside world (Airtable) and returns run
 * requests and a new cursor; it never writes to the database. The tick
 * runs it in a forked child with a deadline and commits what it returned
 * in one transaction: the runs (through the queue), the partitions they
 * name, the new cursor and the tick record. A failing, crashing or hung
 * evaluation becomes a FAILURE tick; the cursor stays, the sensor stays on.
 */
#ifndef SCOUT_ORCHESTRATOR_SENSOR_H
#define SCOUT_ORCHESTRATOR_SENSOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct config;
struct store;
struct sensor_def;

/* What an evaluation sees. */
struct sensor_eval_ctx {
	const struct config *cfg;
	const struct sensor_def *def;
	int64_t tick_start_ms;	/* the database clock when the tick started */
	char tick_start[32];	/* the same as ISO-8601 UTC: the Airtable sensors' next cursor */
	int preview;		/* 1 when nothing will be committed */
};

/*
 * What an evaluation returns. requests: array of {"job", "partition_key",
 * "run_key", "tags", "priority"} (all but job optional; job defaults to the
 * definition's); cursor: the new cursor, NULL = unchanged; skip_reason:
 * why there is nothing to do; metadata: counters kept with the tick.
 */
struct sensor_result {
	json_t *requests;
	char *cursor;
	char *skip_reason;
	json_t *metadata;
};

typedef int (*sensor_eval_fn)(const struct sensor_eval_ctx *ctx, const char *cursor,
			      struct sensor_result *out, serr *e);

struct sensor_def {
	const char *name;
	const char *description;
	int interval_s;
	/* the configured interval (e.g. sensor.candidate_interval_s), or NULL = interval_s */
	int (*interval_from)(const struct config *cfg);
	int default_enabled;
	const char *job; /* the job it requests */
	sensor_eval_fn eval;
};

void sensor_result_init(struct sensor_result *r);
void sensor_result_free(struct sensor_result *r);
/* Append one request; tags (may be NULL) is stolen. */
int sensor_result_request(struct sensor_result *r, const char *job, const char *partition_key,
			  const char *run_key, json_t *tags, serr *e) SCOUT_MUST;
/* Set skip_reason (when there is nothing to do). */
int sensor_result_skip(struct sensor_result *r, const char *reason, serr *e) SCOUT_MUST;
/* Set the new cursor. */
int sensor_result_cursor(struct sensor_result *r, const char *cursor, serr *e) SCOUT_MUST;

/* The built-in definitions and those registered at run time, in that order. */
size_t sensor_defs_count(void);
const struct sensor_def *sensor_def_at(size_t i);
const struct sensor_def *sensor_def_find(const char *name);
/* The interval in seconds under this configuration (at least 1). */
int sensor_def_interval(const struct sensor_def *d, const struct config *cfg);

/*
 * Register an extra definition (tests and benchmarks: a sensor that raises,
 * one that runs long, one that requests N runs). The strings and function
 * must outlive the process; a second registration of a name replaces the
 * definition only when it is identical, else it fails.
 */
int sensor_defs_register(const struct sensor_def *def, serr *e) SCOUT_MUST;

/*
 * With SCOUT_TEST_SENSORS=1 in the environment, register `test_tick_sensor`
 * (every SCOUT_TEST_SENSOR_INTERVAL_S seconds, default 1; on by default;
 * every tick SKIPPED): a hook for tests that run scout as a separate
 * process (two daemons on one database). No-op otherwise.
 */
int sensor_defs_register_from_env(serr *e) SCOUT_MUST;

/* The outcome of one tick. */
struct sensor_tick_outcome {
	char status[16];     /* SKIPPED, SUCCESS or FAILURE; "" when the tick was superseded */
	int64_t tick_id;     /* 0 when nothing was recorded (preview, superseded) */
	json_t *requests;    /* what the evaluation returned (array) */
	json_t *run_ids;     /* runs this tick created (array of strings) */
	json_t *metadata;
	char *cursor_before; /* NULL when none */
	char *cursor_after;
	char *reason;	     /* SKIPPED: why; SUCCESS: a summary */
	char *error;	     /* FAILURE: why */
	int superseded;	     /* another tick committed first: nothing was recorded */
};

void sensor_tick_outcome_init(struct sensor_tick_outcome *o);
void sensor_tick_outcome_free(struct sensor_tick_outcome *o);

/*
 * One tick of `name` now, in the foreground (`scout sensor tick|preview`),
 * whatever its schedule and enabled flag, without the leader lease: two
 * ticks racing still commit once. commit = 0 evaluates only: nothing is
 * written, out says what would be requested and the cursor it would move
 * to. Returns 0 when the tick ran (a FAILURE tick included: see
 * out->status); -1 when it could not (unknown sensor, database down).
 */
int sensor_tick_now(const struct config *cfg, struct store *st, const char *name, int commit,
		    const char *holder, struct sensor_tick_outcome *out, serr *e) SCOUT_MUST;

/* The sensor loop of the daemon. */
struct sensor_loop_opts {
	const char *name;		/* heartbeat name; NULL = "sensors" */
	volatile sig_atomic_t *stop;	/* set: finish the ticks in flight, release the lease, return */
	int max_ticks;			/* return after this many recorded ticks; 0 = forever */
};

/*
 * Evaluate due sensors while this process holds the leader lease (any
 * number of loops may run on one database; one leads), each tick in its
 * own child with the tick timeout, several at once, so a slow sensor never
 * delays another. Writes a heartbeat ("sensors", name). Returns 0 after a
 * stop or max_ticks; -1 when the database cannot be opened at the start.
 */
int sensor_loop_main(const struct config *cfg, const struct sensor_loop_opts *o,
		     serr *e) SCOUT_MUST;

/* The lease the loops compete for. */
#define SENSOR_LEADER_LEASE "sensor_leader"

#endif
