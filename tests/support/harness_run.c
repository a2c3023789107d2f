/* Runs of one job over all partitions from several threads (see harness_run.h). */
#include "support/harness_run.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/run.h"
#include "store/partitions.h"
#include "store/store.h"

#define MAX_THREADS 16

struct worker {
	const struct config *cfg;
	const char *url, *job;
	const struct partition_list *parts;
	size_t from, step;
	int failed;
	serr err;
};

static void *work(void *p)
{
	struct worker *w = p;
	struct store st;
	serr e;

	store_init(&st);
	if (store_open_url(&st, w->url, &e) < 0) {
		w->failed++;
		w->err = e;
		return NULL;
	}
	for (size_t i = w->from; i < w->parts->n; i += w->step) {
		struct buf id;
		buf_init(&id, 128);
		if (run_foreground(w->cfg, &st, w->job, w->parts->items[i].key, &id, &e) < 0) {
			w->failed++;
			w->err = e;
		}
		buf_free(&id);
	}
	store_close(&st);
	return NULL;
}

int harness_run_partitions(const struct config *cfg, const char *db_url, const char *job,
			   const char *kind, int threads, int *failed, serr *e)
{
	struct worker w[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	struct partition_list parts;
	struct store st;
	int started = 0, rc = -1;

	*failed = 0;
	if (threads < 1 || threads > MAX_THREADS)
		return serr_set(e, "threads must be 1 to %d", MAX_THREADS);
	partition_list_init(&parts);
	store_init(&st);
	if (store_open_url(&st, db_url, e) < 0 || partitions_list(&st, kind, 0, &parts, e) < 0)
		goto out;
	for (int i = 0; i < threads; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].cfg = cfg;
		w[i].url = db_url;
		w[i].job = job;
		w[i].parts = &parts;
		w[i].from = (size_t)i;
		w[i].step = (size_t)threads;
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
			serr_set(e, "cannot start worker thread %d", i);
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failed) {
			*failed += w[i].failed;
			*e = w[i].err;
		}
	}
	rc = started == threads && *failed == 0 ? 0 : -1;
out:
	store_close(&st);
	partition_list_free(&parts);
	return rc;
}
