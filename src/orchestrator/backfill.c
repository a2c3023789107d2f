/* Launching, resuming, cancelling and following backfills (see backfill.h). */
#include "orchestrator/backfill.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "orchestrator/job.h"

#define POLL_MS_MIN 10

/* Queue chunk after chunk until every selected partition has a run or the backfill stops. */
static int queue_all(struct store *s, const char *id, int chunk, int64_t selected,
		     backfill_queue_fn on_chunk, void *ud, struct backfill_result *res, serr *e)
{
	struct backfill_chunk c;

	if (chunk <= 0)
		chunk = BACKFILL_CHUNK_DEFAULT;
	for (;;) {
		if (backfills_queue_chunk(s, id, chunk, &c, e) < 0)
			return -1;
		if (c.stopped) {
			res->canceled = 1;
			log_info("backfill stopped queueing: it was canceled", "backfill=%s", id);
			return 0;
		}
		res->queued += c.queued;
		res->already_pending += c.already_pending;
		if (on_chunk)
			on_chunk(id, selected - c.remaining, selected, ud);
		if (c.remaining == 0)
			return 0;
	}
}

int backfill_launch(struct store *s, const struct backfill_request *r, struct buf *id,
		    struct backfill_result *res, serr *e)
{
	const struct job_def *d = r->job ? job_def_find(r->job) : NULL;

	memset(res, 0, sizeof(*res));
	buf_reset(id);
	if (!d)
		return serr_set(e, "cannot backfill job '%.200s': no such job (see `scout job list`)",
				r->job ? r->job : "");
	if (d->partitioning == PART_NONE)
		return serr_set(e, "cannot backfill job '%s': it is not partitioned; run it with "
				   "`scout job run %s`",
				d->name, d->name);
	if (r->chunk < 0 || r->chunk > BACKFILL_CHUNK_MAX)
		return serr_set(e, "cannot backfill job '%s': chunk size %d is not within 1 to %d",
				d->name, r->chunk, BACKFILL_CHUNK_MAX);
	if (backfills_create(s, d->name, job_partitioning_name(d->partitioning), r->selection,
			     r->keys, r->nkeys, id, &res->selected, e) < 0)
		return -1;
	log_info("backfill requested", "backfill=%s job=%s selection=%s partitions=%lld",
		 buf_cstr(id), d->name, backfill_selection_name(r->selection),
		 (long long)res->selected);
	if (queue_all(s, buf_cstr(id), r->chunk, res->selected, r->on_chunk, r->ud, res, e) < 0)
		return serr_wrap(e, "backfill '%s' was requested but not every run is queued "
				    "(`scout backfill resume %s` queues the rest)",
				 buf_cstr(id), buf_cstr(id));
	log_info("backfill queued", "backfill=%s queued=%lld already_pending=%lld", buf_cstr(id),
		 (long long)res->queued, (long long)res->already_pending);
	return 0;
}

int backfill_resume(struct store *s, const char *id, int chunk, backfill_queue_fn on_chunk,
		    void *ud, struct backfill_result *res, serr *e)
{
	struct backfill_list l;
	int64_t to_queue = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	backfill_list_init(&l);
	if (chunk < 0 || chunk > BACKFILL_CHUNK_MAX) {
		serr_set(e, "cannot resume backfill '%s': chunk size %d is not within 1 to %d",
			 id ? id : "", chunk, BACKFILL_CHUNK_MAX);
		goto out;
	}
	if (backfills_resume(s, id, &to_queue, e) < 0 || backfills_list(s, id, 1, &l, e) < 0)
		goto out;
	if (l.n != 1) {
		serr_set(e, "cannot resume backfill '%s': there is no such backfill", id);
		goto out;
	}
	res->selected = l.items[0].num_selected;
	log_info("backfill resumed", "backfill=%s to_queue=%lld", id, (long long)to_queue);
	if (to_queue > 0 &&
	    queue_all(s, id, chunk, res->selected, on_chunk, ud, res, e) < 0)
		goto out;
	rc = 0;
out:
	backfill_list_free(&l);
	return rc;
}

int backfill_cancel(struct store *s, const char *id, int64_t *canceled, serr *e)
{
	if (backfills_cancel(s, id, canceled, e) < 0)
		return -1;
	log_info("backfill canceled", "backfill=%s canceled_runs=%lld", id, (long long)*canceled);
	return 0;
}

int backfill_done(const struct backfill *b)
{
	const struct backfill_progress *g = &b->progress;

	if (backfill_status_final(b->status))
		return 1;
	/*
	 * REQUESTED is still being queued; RUNNING becomes COMPLETED or FAILED
	 * when a read finds every run ended (the next read, if the last run
	 * ended while this one ran); CANCELED is done once its running runs end.
	 */
	return strcmp(b->status, "CANCELED") == 0 && g->queued + g->running == 0;
}

int backfill_wait(struct store *s, const char *id, int poll_ms, volatile sig_atomic_t *stop,
		  backfill_progress_fn on_progress, void *ud, int *all_succeeded, serr *e)
{
	struct backfill_list l;
	int rc = -1;

	*all_succeeded = 0;
	backfill_list_init(&l);
	if (poll_ms < POLL_MS_MIN)
		poll_ms = POLL_MS_MIN;
	for (;;) {
		if (backfills_list(s, id, 1, &l, e) < 0)
			goto out;
		if (l.n != 1) {
			serr_set(e, "cannot follow backfill '%s': there is no such backfill", id);
			goto out;
		}
		if (on_progress)
			on_progress(&l.items[0], ud);
		if (backfill_done(&l.items[0])) {
			*all_succeeded = strcmp(l.items[0].status, "COMPLETED") == 0;
			break;
		}
		if (stop && *stop)
			break;
		sleep_ms(poll_ms);
	}
	rc = 0;
out:
	backfill_list_free(&l);
	return rc;
}

void backfill_keeper_init(struct backfill_keeper *k)
{
	memset(k, 0, sizeof(*k));
}

static void keeper_adopt(struct backfill_keeper *k, const char *id)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->ids[i], id) == 0)
			return;
	if (k->n == BACKFILL_KEEPER_MAX)
		return;
	snprintf(k->ids[k->n++], BACKFILL_ID_MAX, "%s", id);
	log_warn("backfill stalled while queuing; finishing it", "backfill=%s idle_s=%d", id,
		 BACKFILL_STALL_S);
}

int backfill_keeper_step(struct store *s, struct backfill_keeper *k, int64_t now_ms,
			 int64_t *queued, serr *e)
{
	*queued = 0;
	if (now_ms >= k->next_scan_ms) {
		char found[BACKFILL_KEEPER_MAX][BACKFILL_ID_MAX];
		size_t n = 0;

		k->next_scan_ms = now_ms + 30000;
		if (backfills_stalled(s, BACKFILL_STALL_S, BACKFILL_KEEPER_MAX, found, &n, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			keeper_adopt(k, found[i]);
	}
	for (size_t i = 0; i < k->n;) {
		struct backfill_chunk c;

		if (backfills_queue_chunk(s, k->ids[i], BACKFILL_CHUNK_DEFAULT, &c, e) < 0)
			return serr_wrap(e, "cannot finish queuing backfill '%s'", k->ids[i]);
		*queued += c.queued;
		if (c.stopped || c.remaining == 0) {
			log_info("backfill queued", "backfill=%s by=keeper stopped=%d", k->ids[i],
				 c.stopped);
			memmove(k->ids[i], k->ids[i + 1], (k->n - i - 1) * sizeof(k->ids[0]));
			k->n--;
			continue;
		}
		i++;
	}
	return 0;
}
