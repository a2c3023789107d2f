/*
 * Runs of jobs, their steps and their event log. A run is (job, partition
 * key or none, run key, tags); its status moves through QUEUED, STARTED,
 * SUCCESS/FAILURE and CANCELING/CANCELED. Events (RUN_START, STEP_SUCCESS,
 * MATERIALIZATION, LOG, ...) are appended in order and read back by id.
 * Timestamps come back as ISO-8601 UTC text; run ids are UUID text.
 */
#ifndef SCOUT_STORE_RUNS_H
#define SCOUT_STORE_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

/* A run to create. */
struct run_new {
	const char *job;
	const char *partition_key; /* NULL: not partitioned / every record */
	const char *run_key;	   /* NULL, or a key that dedupes runs of the job */
	const char *tags_json;	   /* JSON object; NULL stores {} */
	const char *status;	   /* NULL stores QUEUED */
	int priority;
};

struct run_info {
	const char *id;
	const char *job;
	const char *partition_key;
	const char *run_key;
	const char *status;
	const char *tags_json;
	int priority;
	int attempt;
	const char *created_at;
	const char *started_at;
	const char *ended_at;
	const char *error;
	const char *worker;
};

struct run_list {
	struct run_info *items;
	size_t n;
	void *owner;
};

/* Filters of runs_list; NULL/0 members do not filter. */
struct run_filter {
	const char *status;
	const char *job;
	const char *partition_key;
	int limit; /* 0: 100 */
};

struct run_event {
	int64_t id;
	const char *run_id;
	const char *ts;
	const char *type;
	const char *step;
	const char *level;
	const char *message;
	const char *metadata_json;
};

struct run_event_list {
	struct run_event *items;
	size_t n;
	void *owner;
};

/* 1 for the six run statuses. */
int run_status_valid(const char *status);

/*
 * Create a run; its id goes to run_id. A run key already used for the job
 * returns that run's id instead and *created = 0 (created may be NULL).
 */
int runs_create_ex(struct store *s, const struct run_new *r, struct buf *run_id, int *created,
		   serr *e) SCOUT_MUST;

/* A QUEUED run of job (partition and run_key may be NULL). */
int runs_create(struct store *s, const char *job, const char *partition_key, const char *run_key,
		const char *tags_json, struct buf *run_id, serr *e) SCOUT_MUST;

/*
 * STARTED sets started_at; SUCCESS, FAILURE and CANCELED set ended_at and
 * error (may be NULL); QUEUED clears both for another attempt.
 */
int runs_set_status(struct store *s, const char *run_id, const char *status, const char *error,
		    serr *e) SCOUT_MUST;

/* A step starts (again): STARTED, started_at now, no end or error. */
int runs_step_start(struct store *s, const char *run_id, const char *step, serr *e) SCOUT_MUST;
/* A step ends with SUCCESS, FAILURE or SKIPPED; error may be NULL. */
int runs_step_end(struct store *s, const char *run_id, const char *step, const char *status,
		  const char *error, serr *e) SCOUT_MUST;

/* Append an event; step, level, message and metadata_json may be NULL. */
int runs_event_add(struct store *s, const char *run_id, const char *type, const char *step,
		   const char *level, const char *message, const char *metadata_json,
		   serr *e) SCOUT_MUST;

void run_list_init(struct run_list *l);
void run_list_free(struct run_list *l);
/* Newest first. */
int runs_list(struct store *s, const struct run_filter *f, struct run_list *out,
	      serr *e) SCOUT_MUST;
/* One run: out->n == 0 when there is none with that id. */
int runs_get(struct store *s, const char *run_id, struct run_list *out, serr *e) SCOUT_MUST;

void run_event_list_init(struct run_event_list *l);
void run_event_list_free(struct run_event_list *l);
/* Events of a run with id > after_id, oldest first, at most limit (0: all). */
/* Fill out from event rows (id, run_id, ts, type, step, level, message, metadata); out owns r. */
int run_event_list_fill(PGresult *r, const char *what, struct run_event_list *out,
			serr *e) SCOUT_MUST;

int runs_events(struct store *s, const char *run_id, int64_t after_id, int limit,
		struct run_event_list *out, serr *e) SCOUT_MUST;

#endif
