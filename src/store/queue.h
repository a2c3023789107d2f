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
#include "store/partitions.h"
#include "store/runs.h"
#include "store/store.h"

/*
 * LISTEN/NOTIFY channel, notified (empty payload) whenever a run becomes
 * QUEUED: queued, retried, released or reaped.
 */
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

/* 0 when run_id looks like a run id (a UUID); else -1 with a message saying so. */
int queue_run_id_check(const char *run_id, serr *e) SCOUT_MUST;

/* queue_enqueue flags. */
#define QUEUE_NO_ENQUEUED_EVENT 1 /* the run starts at once: no RUN_ENQUEUED event */

/* queue_enqueue with flags (QUEUE_NO_ENQUEUED_EVENT). */
int queue_enqueue_ex(struct store *s, const struct run_request *r, int flags, struct buf *run_id,
		     int *created, serr *e) SCOUT_MUST;

/*
 * Cancel a run: QUEUED -> CANCELED at once, STARTED -> CANCELING (the
 * worker stops between steps and marks it CANCELED). A run that already
 * ended is an error that says so.
 */
int queue_cancel(struct store *s, const char *run_id, serr *e) SCOUT_MUST;

/* queue_cancel that also says what happened: old/new status ("QUEUED" -> "CANCELED"). */
int queue_cancel_ex(struct store *s, const char *run_id, const char *reason, char old_status[16],
		    char new_status[16], serr *e) SCOUT_MUST;

/* Concurrency limits applied by the claim, over every worker on the database. */
#define QUEUE_TAG_LIMITS_MAX 1024
struct queue_limits {
	int max_running;			/* STARTED runs at most; 0 = no limit */
	char tags_json[QUEUE_TAG_LIMITS_MAX];	/* {"airtable":2,"llm":8} */
};

/*
 * Limits from the options queue.max_concurrent_runs and queue.tag_limits
 * ("airtable=2,llm=8": tag=limit pairs, comma-separated; spaces allowed).
 */
int queue_limits_parse(struct queue_limits *l, int max_running, const char *tag_spec,
		       serr *e) SCOUT_MUST;

#define QUEUE_ID_MAX 40
#define QUEUE_NAME_MAX 201
#define QUEUE_OWNER_MAX 160

/* A run claimed under a lease. */
struct queue_claim {
	char id[QUEUE_ID_MAX];
	char job[QUEUE_NAME_MAX];
	char partition_key[PARTITION_KEY_MAX + 1];
	int has_partition;
	char resume_from_step[QUEUE_NAME_MAX]; /* "" = from the first step */
	int attempt;
	int max_attempts;
	char worker[QUEUE_OWNER_MAX]; /* who holds it, for people */
	char owner[QUEUE_OWNER_MAX];  /* the lease token of this claim, unique per claim */
};

/*
 * Claim the next due QUEUED run within the limits, under a lease of
 * lease_ms. *claimed = 0 when there is none; then *next_due_ms (may be NULL)
 * is the time until the earliest backed-off run becomes due, or -1.
 */
int queue_claim_next(struct store *s, const struct queue_limits *l, const char *worker,
		     int lease_ms, struct queue_claim *c, int *claimed, int64_t *next_due_ms,
		     serr *e) SCOUT_MUST;

/* Claim one given run if it is still QUEUED (a foreground run; limits do not apply). */
int queue_claim_run(struct store *s, const char *run_id, const char *worker, int lease_ms,
		    struct queue_claim *c, int *claimed, serr *e) SCOUT_MUST;

enum queue_lease_state {
	QUEUE_LEASE_HELD = 0,
	QUEUE_LEASE_CANCELING, /* held, and someone asked to cancel the run */
	QUEUE_LEASE_LOST,      /* expired and taken back: stop, record nothing */
};

/* Whether c still holds its run's lease, and whether the run is being canceled. */
int queue_lease_check(struct store *s, const struct queue_claim *c, enum queue_lease_state *st,
		      serr *e) SCOUT_MUST;

/* Renew n leases (run ids and lease tokens) in one statement; states[i] says how each is. */
int queue_renew(struct store *s, const char *const *ids, const char *const *owners, size_t n,
		int lease_ms, enum queue_lease_state *states, serr *e) SCOUT_MUST;

/* The end of a run's last step, recorded together with the run's end. */
struct queue_step_end {
	const char *step;
	const char *status;	   /* SUCCESS or FAILURE */
	const char *message;	   /* the step's error, or NULL */
	const char *metadata_json; /* or NULL */
};

/*
 * Record how the attempt ended: status SUCCESS, FAILURE or CANCELED, and
 * first the end of its last step when step is not NULL. A FAILURE with
 * attempts left is re-queued after retry_ms (retry_ms < 0: no retry).
 * new_status gets the run's status afterwards ("QUEUED" for a retry), or ""
 * when the lease was lost and nothing was recorded.
 */
int queue_finish(struct store *s, const struct queue_claim *c, const char *status,
		 const char *error, int retry_ms, const char *metadata_json,
		 const struct queue_step_end *step, char new_status[16], serr *e) SCOUT_MUST;

/* Give the run back for another worker without spending an attempt (shutdown). */
int queue_release(struct store *s, const struct queue_claim *c, const char *reason,
		  serr *e) SCOUT_MUST;

struct queue_reaped {
	int requeued;
	int failed;
	int canceled;
};

/* Settle at most limit runs whose lease expired (see scout_reap_runs in 0002_queue.sql). */
int queue_reap(struct store *s, int limit, struct queue_reaped *out, serr *e) SCOUT_MUST;

/*
 * Exponential backoff with full jitter: a value in [0, min(max_ms,
 * base_ms * 2^(attempt-1))] drawn from rnd. attempt counts from 1.
 */
int queue_backoff_ms(int base_ms, int max_ms, int attempt, uint64_t rnd);

/*
 * Re-execute a run that ended: a new QUEUED run of the same job and
 * partition with parent_run_id = parent and resume_from_step (NULL: the
 * whole job). Fails when the parent is still active or the partition has
 * an active run.
 */
int queue_reexecute(struct store *s, const char *parent_id, const char *resume_from_step,
		    struct buf *run_id, serr *e) SCOUT_MUST;

/* A step starts: its run_steps row (STARTED) and its STEP_START event, in one statement. */
int queue_step_begin(struct store *s, const char *run_id, const char *step, serr *e) SCOUT_MUST;

/*
 * A step ends SUCCESS, FAILURE or SKIPPED: its run_steps row and its
 * STEP_SUCCESS / STEP_FAILURE / STEP_SKIPPED event (message and metadata_json
 * may be NULL; message is also the step's error), in one statement.
 */
int queue_step_end(struct store *s, const char *run_id, const char *step, const char *status,
		   const char *message, const char *metadata_json, serr *e) SCOUT_MUST;

/* The run's steps and their statuses as a JSON object {"step": "SUCCESS", ...}. */
int queue_steps_json(struct store *s, const char *run_id, struct buf *json, serr *e) SCOUT_MUST;

/*
 * Append an event of any type, including the queue's own (RUN_RETRY,
 * RUN_CANCELING, RUN_CANCELED, RUN_RELEASED, RUN_ENQUEUED, STEP_SKIPPED).
 */
int queue_event_add(struct store *s, const char *run_id, const char *type, const char *step,
		    const char *level, const char *message, const char *metadata_json,
		    serr *e) SCOUT_MUST;

/* Events of every run of (job, partition) with id > after_id, oldest first (limit 0: all). */
int queue_partition_events(struct store *s, const char *job, const char *partition_key,
			   int64_t after_id, int limit, struct run_event_list *out,
			   serr *e) SCOUT_MUST;

/* One attempt of a run. */
struct queue_attempt {
	int attempt;
	const char *worker;
	const char *started_at;
	const char *ended_at;
	const char *status;
	const char *error;
};

struct queue_attempt_list {
	struct queue_attempt *items;
	size_t n;
	void *owner;
};

void queue_attempt_list_init(struct queue_attempt_list *l);
void queue_attempt_list_free(struct queue_attempt_list *l);
/* Attempts of a run, oldest first. */
int queue_attempts(struct store *s, const char *run_id, struct queue_attempt_list *out,
		   serr *e) SCOUT_MUST;

/* Queue facts of one run that runs.h does not carry. */
struct queue_run_facts {
	int max_attempts;
	char parent_run_id[QUEUE_ID_MAX];	   /* "" when none */
	char backfill_id[QUEUE_ID_MAX];		   /* "" when none */
	char resume_from_step[QUEUE_NAME_MAX];	   /* "" when none */
	char not_before[40];			   /* ISO-8601 UTC */
	char lease_expires_at[40];		   /* "" when not leased */
};

/* *found = 0 when there is no such run. */
int queue_run_facts_get(struct store *s, const char *run_id, struct queue_run_facts *f, int *found,
			serr *e) SCOUT_MUST;

#endif
