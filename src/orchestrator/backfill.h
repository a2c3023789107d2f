/*
 * Backfills as the orchestrator runs them: check that the job is a
 * partitioned job definition, record the selection, queue one run per
 * selected partition through the run queue in chunks (workers then run
 * them within the concurrency limits), cancel, resume, and follow progress
 * until every run has ended.
 */
#ifndef SCOUT_ORCHESTRATOR_BACKFILL_H
#define SCOUT_ORCHESTRATOR_BACKFILL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/backfills.h"
#include "store/store.h"

#define BACKFILL_CHUNK_DEFAULT 1000

/* Called after each queued chunk: partitions with a run so far, of selected. */
typedef void (*backfill_queue_fn)(const char *id, int64_t done, int64_t selected, void *ud);

struct backfill_request {
	const char *job;
	enum backfill_selection selection;
	const char *const *keys; /* BACKFILL_LIST */
	size_t nkeys;
	int chunk; /* runs queued per transaction; 0: BACKFILL_CHUNK_DEFAULT */
	backfill_queue_fn on_chunk; /* may be NULL */
	void *ud;
};

struct backfill_result {
	int64_t selected;
	int64_t queued;		 /* runs created now */
	int64_t already_pending; /* partitions that had a queued or running run */
	int canceled;		 /* queuing stopped because the backfill was canceled */
};

/*
 * Request a backfill and queue its runs. id receives the backfill's id as
 * soon as it exists (also when queuing fails later: resume it then).
 */
int backfill_launch(struct store *s, const struct backfill_request *r, struct buf *id,
		    struct backfill_result *res, serr *e) SCOUT_MUST;

/*
 * Queue again the selected partitions that have no successful or pending
 * run in this backfill (failed, canceled, never queued); chunk 0 = default.
 */
int backfill_resume(struct store *s, const char *id, int chunk, backfill_queue_fn on_chunk,
		    void *ud, struct backfill_result *res, serr *e) SCOUT_MUST;

/* Stop queueing and cancel the queued runs; running runs finish. */
int backfill_cancel(struct store *s, const char *id, int64_t *canceled, serr *e) SCOUT_MUST;

/*
 * Finishing backfills whose launcher died: the sensor loop's leader adopts
 * REQUESTED backfills idle for BACKFILL_STALL_S and queues their remaining
 * runs a chunk per step, so a crash never leaves one half-queued. Queueing
 * holds the backfill's row, so a launcher that was only slow and the
 * keeper never queue a partition twice.
 */
#define BACKFILL_STALL_S 60
#define BACKFILL_KEEPER_MAX 8

struct backfill_keeper {
	char ids[BACKFILL_KEEPER_MAX][BACKFILL_ID_MAX]; /* adopted, still REQUESTED */
	size_t n;
	int64_t next_scan_ms; /* mono_ms of the next look for stalled backfills */
};

void backfill_keeper_init(struct backfill_keeper *k);
/* One step at monotonic time now_ms: look for stalled backfills every 30 s,
 * queue one chunk of each adopted one. *queued counts the runs created. */
int backfill_keeper_step(struct store *s, struct backfill_keeper *k, int64_t now_ms,
			 int64_t *queued, serr *e) SCOUT_MUST;

/* 1 when the backfill ended: COMPLETED, FAILED, or CANCELED with nothing queued or running. */
int backfill_done(const struct backfill *b);

/* Called by backfill_wait with the backfill's state each time it is read. */
typedef void (*backfill_progress_fn)(const struct backfill *b, void *ud);

/*
 * Read the backfill every poll_ms until backfill_done (or *stop is set),
 * calling on_progress each time. *all_succeeded = 1 when it ended with
 * every selected partition's run succeeded. stop may be NULL.
 */
int backfill_wait(struct store *s, const char *id, int poll_ms, volatile sig_atomic_t *stop,
		  backfill_progress_fn on_progress, void *ud, int *all_succeeded,
		  serr *e) SCOUT_MUST;

#endif
