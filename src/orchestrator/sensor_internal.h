/*
 * What the sensor files share: a tick evaluated in a child process
 * (sensor_eval.c) and the commit of its result (sensor_commit.c). Not for
 * use outside src/orchestrator/sensor*.c.
 */
#ifndef SCOUT_ORCHESTRATOR_SENSOR_INTERNAL_H
#define SCOUT_ORCHESTRATOR_SENSOR_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "orchestrator/sensor.h"
#include "store/store.h"

/* The largest result a child may send back (a full listing of a big table). */
#define SENSOR_RESULT_MAX ((size_t)256 * 1024 * 1024)

/* One tick: what it started from. */
struct sensor_tick_start {
	const struct sensor_def *def;
	char started_at[32]; /* ISO-8601 UTC, the database clock */
	int64_t started_ms;
	char *cursor_before; /* NULL when none */
	int64_t version;     /* of sensor_state when the tick started */
};

/* A tick being evaluated in a child process. */
struct sensor_child {
	struct sensor_tick_start tick;
	pid_t pid;	   /* 0 once reaped */
	int fd;		   /* read end of the result pipe; -1 once closed */
	struct buf out;	   /* what the child wrote */
	int64_t deadline;  /* mono_ms() past which it is killed */
	int timeout_s;
	int timed_out;
	int too_large;
};

void sensor_child_init(struct sensor_child *c);
void sensor_child_free(struct sensor_child *c);

/*
 * Fork a child that evaluates c->tick.def (c->tick filled by the caller)
 * and writes its result as JSON to a pipe; the deadline starts now.
 */
int sensor_child_spawn(struct sensor_child *c, const struct config *cfg, int preview,
		       serr *e) SCOUT_MUST;

/* Read what is there: 1 once the output ended, 0 when more may come, -1 on error. */
int sensor_child_pump(struct sensor_child *c, serr *e) SCOUT_MUST;

/* Stop the child now (deadline passed, or the result is too large). */
void sensor_child_kill(struct sensor_child *c);

/*
 * Reap the child and read its result: 0 with *res filled, or -1 with e
 * saying why the evaluation failed (its own error, a timeout, a crash).
 */
int sensor_child_finish(struct sensor_child *c, struct sensor_result *res, serr *e) SCOUT_MUST;

/* Evaluate in a child and wait for it (the foreground tick). */
int sensor_child_run(struct sensor_child *c, const struct config *cfg, int preview,
		     struct sensor_result *res, serr *e) SCOUT_MUST;

/*
 * Commit a tick: res != NULL is a successful evaluation (runs, partitions,
 * cursor and the tick record in one transaction; a failure of that
 * transaction is recorded as a FAILURE tick instead); res == NULL records a
 * FAILURE with eval_error. The schedule advances either way; the cursor
 * only with a committed success. 0 when the tick was recorded or
 * superseded (out says which), -1 when not even the failure could be.
 */
int sensor_commit(struct store *st, const struct config *cfg, const struct sensor_tick_start *t,
		  const char *holder, const struct sensor_result *res, const char *eval_error,
		  struct sensor_tick_outcome *out, serr *e) SCOUT_MUST;

/*
 * The thread that holds the leader lease and writes the heartbeat for a
 * sensor loop, on its own connection (sensor_keeper.c).
 */
struct sensor_keeper {
	pthread_t thread;
	const struct config *cfg;
	struct store st;
	char holder[256];
	char name[128];
	atomic_int leader;	/* 1 while the lease is ours */
	atomic_int stop;
	atomic_int inflight;	/* reported in the heartbeat */
	atomic_long ticks;	/* reported in the heartbeat */
	atomic_llong renewed_at; /* mono_ms() of the last successful renewal */
	int db_ok;
	int running;
};

/* Open the keeper's connection, try the lease once, start the thread. */
int sensor_keeper_start(struct sensor_keeper *k, const struct config *cfg, const char *name,
			const char *holder, serr *e) SCOUT_MUST;
/* 1 while the lease is held and was renewed recently. */
int sensor_keeper_leads(struct sensor_keeper *k);
/* Stop the thread, release the lease, remove the heartbeat. */
void sensor_keeper_stop(struct sensor_keeper *k);

#endif
