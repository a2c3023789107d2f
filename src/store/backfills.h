/*
 * Backfills: one run per selected partition of a partitioned job, queued
 * through the run queue in chunks under the backfill's id. A backfill
 * remembers its selected partitions and the run each one got (the run it
 * queued, or the run that was already queued or running for it), so it can
 * be cancelled, resumed and followed. Statuses: REQUESTED (runs being
 * queued), RUNNING (every partition has a run), COMPLETED (every run
 * succeeded), FAILED (every run ended, some did not succeed), CANCELED.
 */
#ifndef SCOUT_STORE_BACKFILLS_H
#define SCOUT_STORE_BACKFILLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

enum backfill_selection {
	BACKFILL_ALL = 0, /* every active partition of the job's kind */
	BACKFILL_LIST,	  /* the partitions named */
	BACKFILL_FAILED,  /* the partitions whose status is failed */
};

const char *backfill_selection_name(enum backfill_selection s);

#define BACKFILL_ID_MAX 40
#define BACKFILL_CHUNK_MAX 10000
#define BACKFILL_LIST_MAX 100000 /* partitions named in one request */

/* Where the runs of a backfill are: each selected partition counts once, by its latest run. */
struct backfill_progress {
	int64_t unqueued; /* selected partitions without a run yet */
	int64_t queued;
	int64_t running; /* STARTED or CANCELING */
	int64_t succeeded;
	int64_t failed;
	int64_t canceled;
};

struct backfill {
	const char *id;
	const char *job;
	const char *kind;
	const char *selection; /* "all", "list", "failed" */
	const char *status;    /* REQUESTED, RUNNING, CANCELED, COMPLETED, FAILED */
	int64_t num_selected;
	int64_t num_queued;	     /* runs this backfill created */
	int64_t num_already_pending; /* partitions that had a queued or running run */
	const char *created_at;	     /* ISO-8601 UTC */
	const char *updated_at;
	const char *ended_at; /* NULL until COMPLETED, FAILED or CANCELED */
	struct backfill_progress progress;
};

struct backfill_list {
	struct backfill *items;
	size_t n;
	void *owner;
};

/* 1 for COMPLETED and FAILED (nothing of the backfill can change any more). */
int backfill_status_final(const char *status);

/*
 * Record a REQUESTED backfill of job (partitioned by kind) with its
 * selected partitions, in one transaction: keys/n for BACKFILL_LIST (each
 * must be an active partition of kind), ignored otherwise. Selecting
 * nothing is an error. id gets the backfill's id, *selected the count.
 */
int backfills_create(struct store *s, const char *job, const char *kind,
		     enum backfill_selection sel, const char *const *keys, size_t n,
		     struct buf *id, int64_t *selected, serr *e) SCOUT_MUST;

/* What one chunk did. */
struct backfill_chunk {
	int64_t queued;		 /* runs created */
	int64_t already_pending; /* partitions that had a queued or running run */
	int64_t remaining;	 /* selected partitions still without a run */
	int stopped;		 /* the backfill is not REQUESTED (canceled): nothing was queued */
};

/*
 * Queue runs for at most `chunk` selected partitions that have none yet, in
 * one transaction holding the backfill's row, with queue_enqueue (tags
 * {"backfill": id, "input_hash": the partition's}); the last chunk moves
 * the backfill to RUNNING. A partition with a queued or running run keeps
 * that run and counts as already pending.
 */
int backfills_queue_chunk(struct store *s, const char *id, int chunk, struct backfill_chunk *out,
			  serr *e) SCOUT_MUST;

/*
 * Mark the backfill CANCELED (no more runs get queued) and cancel its
 * QUEUED runs, chunk by chunk; running runs finish. *canceled counts the
 * runs canceled. A COMPLETED or FAILED backfill is an error that says so.
 */
int backfills_cancel(struct store *s, const char *id, int64_t *canceled, serr *e) SCOUT_MUST;

/*
 * Make the selected partitions whose latest run of the backfill failed or
 * was canceled (or that never got one) queueable again and the backfill
 * REQUESTED; *to_queue counts them. Partitions that succeeded or still have
 * a queued or running run are left alone. A COMPLETED backfill has nothing
 * to resume (*to_queue = 0).
 */
int backfills_resume(struct store *s, const char *id, int64_t *to_queue, serr *e) SCOUT_MUST;

/*
 * Up to max REQUESTED backfills whose row has not changed for idle_s
 * seconds, oldest first, into ids[]: their launcher died part-way (a live
 * one advances the row with every chunk). *n counts them.
 */
int backfills_stalled(struct store *s, int idle_s, size_t max, char (*ids)[BACKFILL_ID_MAX],
		      size_t *n, serr *e) SCOUT_MUST;

void backfill_list_init(struct backfill_list *l);
void backfill_list_free(struct backfill_list *l);

/*
 * Backfills with their progress, newest first (id NULL: the latest `limit`;
 * else that one, out->n == 0 when unknown). A RUNNING backfill whose runs
 * all ended becomes COMPLETED or FAILED here, so reading settles it.
 */
int backfills_list(struct store *s, const char *id, int limit, struct backfill_list *out,
		   serr *e) SCOUT_MUST;

#endif
