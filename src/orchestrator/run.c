/* Execution of a claimed run with its steps and event log (see run.h). */
#include "orchestrator/run.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
#include "orchestrator/lease.h"
#include "store/queue.h"
#include "store/runs.h"
#include "store/store.h"

/* Log lines written by the thread that runs a step, kept until the step ends. */
#define CAPTURE_MAX_LINES 2000

struct capture {
	char *lines[CAPTURE_MAX_LINES];
	char levels[CAPTURE_MAX_LINES];
	int n;
	int dropped;
};

static _Thread_local struct capture *active_capture;

static void capture_hook(enum log_level lvl, const char *line, void *ud)
{
	struct capture *c = active_capture;

	(void)ud;
	if (!c || lvl < LOG_INFO)
		return;
	if (c->n >= CAPTURE_MAX_LINES) {
		c->dropped++;
		return;
	}
	c->lines[c->n] = strdup(line);
	if (!c->lines[c->n]) {
		c->dropped++;
		return;
	}
	c->levels[c->n] = (char)lvl;
	c->n++;
}

static const char *level_name(int lvl)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	return lvl >= 0 && lvl < 4 ? names[lvl] : "info";
}

/* Move captured log lines into the run's event log. */
static int capture_flush(struct capture *c, struct store *st, const char *run_id,
			 const char *step, serr *e)
{
	int rc = 0;

	for (int i = 0; i < c->n; i++) {
		if (rc == 0 && runs_event_add(st, run_id, "LOG", step, level_name(c->levels[i]),
					      c->lines[i], NULL, e) < 0)
			rc = -1;
		free(c->lines[i]);
		c->lines[i] = NULL;
	}
	if (rc == 0 && c->dropped) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%d log lines were not kept (limit %d per step)",
			 c->dropped, CAPTURE_MAX_LINES);
		rc = runs_event_add(st, run_id, "LOG", step, "warn", msg, NULL, e);
	}
	c->n = 0;
	c->dropped = 0;
	return rc;
}

static void capture_discard(struct capture *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->lines[i]);
	c->n = 0;
}

const char *run_outcome_name(enum run_outcome o)
{
	switch (o) {
	case RUN_SUCCEEDED:
		return "succeeded";
	case RUN_FAILED:
		return "failed";
	case RUN_RETRYING:
		return "retrying";
	case RUN_CANCELED:
		return "canceled";
	case RUN_LEASE_LOST:
		return "lease lost";
	}
	return "unknown";
}

/* Why the step loop stopped. */
enum stop_reason { STOP_DONE, STOP_FAILED, STOP_CANCELED, STOP_LOST };

static int step_index(const struct job_def *def, const char *name)
{
	size_t n = job_def_nsteps(def);

	for (size_t i = 0; i < n; i++)
		if (strcmp(def->steps[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Between two steps: a cancel request ends the run CANCELED, a lost lease
 * ends this attempt without recording anything (another worker owns it).
 */
static enum stop_reason between_steps(struct store *st, const struct queue_claim *c,
				      struct lease *lease, serr *fail)
{
	enum queue_lease_state ls;

	if (lease && lease_state(lease) == QUEUE_LEASE_LOST)
		return STOP_LOST;
	if (queue_lease_check(st, c, &ls, fail) < 0)
		return STOP_FAILED;
	if (ls == QUEUE_LEASE_LOST)
		return STOP_LOST;
	if (ls == QUEUE_LEASE_CANCELING)
		return STOP_CANCELED;
	return STOP_DONE;
}

/* The steps before the resume point ran in an earlier run: SKIPPED here. */
static int skip_steps(struct job_ctx *ctx, const struct queue_claim *c, size_t start, serr *e)
{
	char msg[QUEUE_NAME_MAX + 64];

	snprintf(msg, sizeof(msg), "run resumed from step '%s'", c->resume_from_step);
	for (size_t i = 0; i < start; i++) {
		const char *step = ctx->def->steps[i].name;
		if (queue_step_end(ctx->store, c->id, step, "SKIPPED", msg, NULL, e) < 0)
			return -1;
	}
	return 0;
}

/* The end of the last step run, recorded with the run's end in one statement. */
struct last_step {
	struct queue_step_end end;
	int set;
	char message[SERR_MAX];
	char meta[96];
};

static void last_step_set(struct last_step *l, const char *step, const char *status,
			  const char *message, const char *meta)
{
	snprintf(l->message, sizeof(l->message), "%s", message ? message : "");
	snprintf(l->meta, sizeof(l->meta), "%s", meta ? meta : "");
	l->end.step = step;
	l->end.status = status;
	l->end.message = message ? l->message : NULL;
	l->end.metadata_json = meta ? l->meta : NULL;
	l->set = 1;
}

static enum stop_reason run_steps(struct job_ctx *ctx, const struct queue_claim *c,
				  struct lease *lease, size_t start, struct capture *cap,
				  struct last_step *last, serr *fail)
{
	struct store *st = ctx->store;
	const struct job_def *def = ctx->def;
	size_t n = job_def_nsteps(def);

	for (size_t i = start; i < n; i++) {
		const struct job_step *step = &def->steps[i];
		int64_t t0 = mono_ms();
		enum stop_reason why;
		serr se;
		char meta[96];

		if (i > start && (why = between_steps(st, c, lease, fail)) != STOP_DONE)
			return why;
		ctx->step = step->name;
		if (queue_step_begin(st, ctx->run_id, step->name, fail) < 0)
			return STOP_FAILED;
		active_capture = cap;
		serr_clear(&se);
		if (step->fn(ctx, &se) < 0) {
			active_capture = NULL;
			log_error("step failed", "step=%s error=\"%s\"", step->name, se.msg);
			if (capture_flush(cap, st, ctx->run_id, step->name, fail) < 0)
				return STOP_FAILED;
			last_step_set(last, step->name, "FAILURE", se.msg, NULL);
			serr_set(fail, "step '%s' of job '%s' failed: %s", step->name, def->name,
				 se.msg);
			return STOP_FAILED;
		}
		active_capture = NULL;
		snprintf(meta, sizeof(meta), "{\"duration_ms\": %lld}", (long long)(mono_ms() - t0));
		if (capture_flush(cap, st, ctx->run_id, step->name, fail) < 0)
			return STOP_FAILED;
		if (i + 1 == n) {
			last_step_set(last, step->name, "SUCCESS", NULL, meta);
			break;
		}
		if (queue_step_end(st, ctx->run_id, step->name, "SUCCESS", NULL, meta, fail) < 0)
			return STOP_FAILED;
	}
	ctx->step = NULL;
	return STOP_DONE;
}

/* Backoff before the next attempt, from the job's retry policy; -1 when none is left. */
static int retry_delay(const struct job_def *def, const struct queue_claim *c)
{
	int base = def && def->retry_backoff_ms > 0 ? def->retry_backoff_ms
						    : JOB_RETRY_BACKOFF_MS_DEFAULT;
	int max = def && def->retry_max_backoff_ms > 0 ? def->retry_max_backoff_ms
						       : JOB_RETRY_MAX_BACKOFF_MS_DEFAULT;

	if (c->attempt >= c->max_attempts)
		return -1;
	return queue_backoff_ms(base, max, c->attempt, rand_u64());
}

/* Record the attempt's end under the lease and turn the run's new status into an outcome. */
static int finish(struct store *st, const struct queue_claim *c, const struct job_def *def,
		  enum stop_reason why, const char *error, const char *meta,
		  const struct last_step *last, enum run_outcome *outcome, serr *e)
{
	const char *status = why == STOP_DONE ? "SUCCESS" : why == STOP_CANCELED ? "CANCELED"
										 : "FAILURE";
	char now[16];

	if (queue_finish(st, c, status, error, why == STOP_FAILED ? retry_delay(def, c) : -1, meta,
			 last->set ? &last->end : NULL, now, e) < 0)
		return -1;
	if (!now[0])
		*outcome = RUN_LEASE_LOST;
	else if (strcmp(now, "SUCCESS") == 0)
		*outcome = RUN_SUCCEEDED;
	else if (strcmp(now, "QUEUED") == 0)
		*outcome = RUN_RETRYING;
	else if (strcmp(now, "CANCELED") == 0)
		*outcome = RUN_CANCELED;
	else
		*outcome = RUN_FAILED;
	return 0;
}

int run_execute(const struct config *cfg, struct store *st, const struct queue_claim *c,
		struct lease *lease, enum run_outcome *outcome, serr *e)
{
	const struct job_def *def = job_def_find(c->job);
	const char *partition = c->has_partition ? c->partition_key : NULL;
	struct job_ctx ctx;
	struct capture *cap = NULL;
	enum stop_reason why = STOP_FAILED;
	struct last_step last = { .set = 0 };
	size_t start = 0;
	serr fail, fe;
	char meta[96];
	int rc = -1, ctx_ready = 0;

	*outcome = RUN_FAILED;
	serr_clear(&fail);
	log_set_context(c->id, c->job, partition);
	/* the hook stays installed: it only captures on threads running a step */
	log_set_hook(capture_hook, NULL);
	if (!def) {
		serr_set(&fail, "job '%s' is not defined in this scout binary (worker '%s'); is it "
				"older than the one that queued the run?",
			 c->job, c->worker);
		goto end;
	}
	if (!(cap = calloc(1, sizeof(*cap)))) {
		serr_set(&fail, "out of memory starting run '%s'", c->id);
		goto end;
	}
	job_ctx_init(&ctx, cfg, st, def, partition);
	ctx_ready = 1;
	snprintf(ctx.run_id, sizeof(ctx.run_id), "%s", c->id);
	if (def->state_new && !(ctx.state = def->state_new())) {
		serr_set(&fail, "out of memory creating the state of job '%s'", c->job);
		goto end;
	}
	if (c->resume_from_step[0]) {
		int at = step_index(def, c->resume_from_step);
		if (at < 0) {
			serr_set(&fail, "cannot resume run '%s' from step '%s': job '%s' has no such "
					"step",
				 c->id, c->resume_from_step, c->job);
			goto end;
		}
		start = (size_t)at;
		if (skip_steps(&ctx, c, start, &fail) < 0)
			goto end;
	}
	log_info("run started", "attempt=%d/%d worker=%s partition=%s", c->attempt, c->max_attempts,
		 c->worker, partition ? partition : "(all)");
	why = run_steps(&ctx, c, lease, start, cap, &last, &fail);
end:
	active_capture = NULL;
	meta[0] = '\0';
	if (why == STOP_DONE)
		snprintf(meta, sizeof(meta), "{\"records_written\": %ld}", ctx.records_written);
	if (why == STOP_CANCELED)
		serr_set(&fail, "run '%s' was canceled", c->id);
	if (why == STOP_LOST) {
		*outcome = RUN_LEASE_LOST;
	} else if (finish(st, c, def, why, why == STOP_DONE ? NULL : fail.msg,
			  meta[0] ? meta : NULL, &last, outcome, &fe) < 0) {
		/* the lease runs out and the reaper settles the run */
		log_error("cannot record the end of the run", "error=\"%s\"", fe.msg);
		serr_set(e, "%s", fe.msg);
		goto out;
	}
	switch (*outcome) {
	case RUN_SUCCEEDED:
		log_info("run succeeded", "records_written=%ld", ctx_ready ? ctx.records_written : 0L);
		rc = 0;
		break;
	case RUN_RETRYING:
		log_warn("run attempt failed, another attempt is queued", "attempt=%d/%d error=\"%s\"",
			 c->attempt, c->max_attempts, fail.msg);
		serr_set(e, "%s", fail.msg);
		break;
	case RUN_FAILED:
		serr_set(e, "%s", fail.msg);
		break;
	case RUN_CANCELED:
		log_info("run canceled", NULL);
		serr_set(e, "run '%s' was canceled", c->id);
		break;
	case RUN_LEASE_LOST:
		log_warn("run lost its lease to another worker; stopped without recording its end",
			 NULL);
		serr_set(e, "run '%s' lost its lease (it was taken back after the lease expired); "
			    "stopped without recording its end",
			 c->id);
		break;
	}
out:
	if (cap) {
		capture_discard(cap);
		free(cap);
	}
	if (ctx_ready) {
		if (def->state_free && ctx.state)
			def->state_free(ctx.state);
		job_ctx_free(&ctx);
	}
	log_set_context(NULL, NULL, NULL);
	return rc;
}

static void foreground_name(char *out, size_t n)
{
	char host[128];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, n, "foreground@%s:%ld", host, (long)getpid());
}

/* Execute a claim in this process with a lease keeper of its own. */
static int execute_here(const struct config *cfg, struct store *st, struct lease_keeper *k,
			const struct queue_claim *c, serr *e)
{
	struct lease l;
	enum run_outcome outcome;
	int rc;

	lease_keeper_add(k, &l, c);
	rc = run_execute(cfg, st, c, &l, &outcome, e);
	lease_keeper_remove(k, &l);
	return rc;
}

int run_foreground(const struct config *cfg, struct store *st, const char *job,
		   const char *partition, struct buf *run_id, serr *e)
{
	const struct job_def *def = job_def_find(job);
	struct run_request rq = { 0 };
	struct lease_keeper k;
	struct queue_claim c;
	char worker[QUEUE_OWNER_MAX];
	int created = 0, claimed = 0, rc = -1, own_tx;

	buf_reset(run_id);
	if (!def)
		return serr_set(e, "unknown job '%s' (see `scout job list`)", job);
	if (def->partitioning == PART_NONE && partition)
		return serr_set(e, "job '%s' is not partitioned: drop --partition", job);
	if (def->partitioning != PART_NONE && !partition && !def->allow_all)
		return serr_set(e, "job '%s' is partitioned by %s: give --partition RECORD_ID", job,
				job_partitioning_name(def->partitioning));
	if (lease_keeper_start(&k, st, cfg->queue_lease_ms, e) < 0)
		return -1;
	foreground_name(worker, sizeof(worker));
	rq.job = job;
	rq.partition_key = partition;
	rq.max_attempts = 1;
	/* queued and claimed in one transaction: no worker can take it first */
	own_tx = !store_in_tx(st);
	if (own_tx && store_begin(st, e) < 0)
		goto out;
	if (queue_enqueue_ex(st, &rq, QUEUE_NO_ENQUEUED_EVENT, run_id, &created, e) < 0)
		goto rollback;
	if (!created) {
		serr_set(e, "partition '%s' of job '%s' already has a queued or running run '%s': "
			    "wait for it, or cancel it with `scout run cancel %s`",
			 partition ? partition : "", job, buf_cstr(run_id), buf_cstr(run_id));
		buf_reset(run_id);
		goto rollback;
	}
	if (queue_claim_run(st, buf_cstr(run_id), worker, cfg->queue_lease_ms, &c, &claimed, e) < 0)
		goto rollback;
	if (!claimed) {
		serr_set(e, "cannot start run '%s': it was taken before it could start", buf_cstr(run_id));
		goto rollback;
	}
	if (own_tx && store_commit(st, e) < 0)
		goto rollback;
	rc = execute_here(cfg, st, &k, &c, e);
	goto out;
rollback:
	if (own_tx)
		store_rollback(st);
	if (!created)
		buf_reset(run_id);
out:
	lease_keeper_stop(&k);
	return rc;
}

int run_execute_queued(const struct config *cfg, struct store *st, const char *run_id, serr *e)
{
	struct lease_keeper k;
	struct queue_claim c;
	char worker[QUEUE_OWNER_MAX];
	int claimed = 0, rc = -1;

	if (lease_keeper_start(&k, st, cfg->queue_lease_ms, e) < 0)
		return -1;
	foreground_name(worker, sizeof(worker));
	if (queue_claim_run(st, run_id, worker, cfg->queue_lease_ms, &c, &claimed, e) < 0)
		goto out;
	if (!claimed) {
		serr_set(e, "cannot start run '%s': it is not queued (a worker may have taken it; "
			    "see `scout logs %s`)",
			 run_id, run_id);
		goto out;
	}
	rc = execute_here(cfg, st, &k, &c, e);
out:
	lease_keeper_stop(&k);
	return rc;
}

/* The first step of def that the run did not get past, or NULL when it passed them all. */
static const char *first_unfinished_step(const struct job_def *def, json_t *steps)
{
	size_t n = job_def_nsteps(def);

	for (size_t i = 0; i < n; i++) {
		const char *st = json_string_value(json_object_get(steps, def->steps[i].name));
		if (!st || (strcmp(st, "SUCCESS") != 0 && strcmp(st, "SKIPPED") != 0))
			return def->steps[i].name;
	}
	return NULL;
}

int run_reexecute(struct store *st, const char *run_id, int from_failure, struct buf *new_id,
		  struct buf *resumed_step, serr *e)
{
	struct run_list run;
	struct buf steps;
	json_t *obj = NULL;
	json_error_t je;
	const char *resume = NULL;
	int rc = -1;

	run_list_init(&run);
	buf_init(&steps, 0);
	buf_reset(new_id);
	if (resumed_step)
		buf_reset(resumed_step);
	if (runs_get(st, run_id, &run, e) < 0)
		goto out;
	if (run.n == 0) {
		serr_set(e, "cannot retry run '%s': there is no such run (see `scout runs`)", run_id);
		goto out;
	}
	if (from_failure) {
		const struct run_info *r = &run.items[0];
		const struct job_def *def = job_def_find(r->job);
		const char *first;

		if (!def) {
			serr_set(e, "cannot resume run '%s': job '%s' is not defined in this scout "
				    "binary",
				 run_id, r->job);
			goto out;
		}
		if (strcmp(r->status, "SUCCESS") == 0) {
			serr_set(e, "cannot resume run '%s' from its failure: it succeeded; retry it "
				    "whole without --from-failure",
				 run_id);
			goto out;
		}
		if (queue_steps_json(st, run_id, &steps, e) < 0)
			goto out;
		if (!(obj = json_loads(buf_cstr(&steps), 0, &je))) {
			serr_set(e, "cannot resume run '%s': its steps do not parse: %s", run_id,
				 je.text);
			goto out;
		}
		first = first_unfinished_step(def, obj);
		/* steps that hand state to each other in memory start from the first */
		if (first && !def->state_new && step_index(def, first) > 0)
			resume = first;
	}
	if (queue_reexecute(st, run_id, resume, new_id, e) < 0)
		goto out;
	if (resumed_step && resume && buf_puts(resumed_step, resume) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(obj);
	buf_free(&steps);
	run_list_free(&run);
	return rc;
}
