/* Foreground execution of a run with its steps and event log (see run.h). */
#include "orchestrator/run.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
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

static int run_steps(struct job_ctx *ctx, struct capture *cap, serr *e)
{
	struct store *st = ctx->store;
	const struct job_def *def = ctx->def;
	size_t n = job_def_nsteps(def);

	for (size_t i = 0; i < n; i++) {
		const struct job_step *step = &def->steps[i];
		int64_t t0 = mono_ms();
		serr se;
		char meta[96];

		ctx->step = step->name;
		if (runs_step_start(st, ctx->run_id, step->name, e) < 0 ||
		    runs_event_add(st, ctx->run_id, "STEP_START", step->name, "info", NULL, NULL,
				   e) < 0)
			return -1;
		active_capture = cap;
		serr_clear(&se);
		if (step->fn(ctx, &se) < 0) {
			active_capture = NULL;
			log_error("step failed", "step=%s error=\"%s\"", step->name, se.msg);
			if (capture_flush(cap, st, ctx->run_id, step->name, e) < 0 ||
			    runs_step_end(st, ctx->run_id, step->name, "FAILURE", se.msg, e) < 0 ||
			    runs_event_add(st, ctx->run_id, "STEP_FAILURE", step->name, "error",
					   se.msg, NULL, e) < 0)
				return -1;
			return serr_set(e, "step '%s' of job '%s' failed: %s", step->name, def->name,
					se.msg);
		}
		active_capture = NULL;
		snprintf(meta, sizeof(meta), "{\"duration_ms\": %lld}", (long long)(mono_ms() - t0));
		if (capture_flush(cap, st, ctx->run_id, step->name, e) < 0 ||
		    runs_step_end(st, ctx->run_id, step->name, "SUCCESS", NULL, e) < 0 ||
		    runs_event_add(st, ctx->run_id, "STEP_SUCCESS", step->name, "info", NULL, meta,
				   e) < 0)
			return -1;
	}
	ctx->step = NULL;
	return 0;
}

int run_foreground(const struct config *cfg, struct store *st, const char *job,
		   const char *partition, struct buf *run_id, serr *e)
{
	const struct job_def *def = job_def_find(job);
	struct job_ctx ctx;
	struct capture *cap = NULL;
	serr re;
	int rc = -1, ctx_ready = 0;

	if (!def)
		return serr_set(e, "unknown job '%s' (see `scout job list`)", job);
	if (def->partitioning == PART_NONE && partition)
		return serr_set(e, "job '%s' is not partitioned: drop --partition", job);
	if (def->partitioning != PART_NONE && !partition && !def->allow_all)
		return serr_set(e, "job '%s' is partitioned by %s: give --partition RECORD_ID", job,
				job_partitioning_name(def->partitioning));
	if (!(cap = calloc(1, sizeof(*cap))))
		return serr_set(e, "out of memory");

	job_ctx_init(&ctx, cfg, st, def, partition);
	ctx_ready = 1;
	if (def->state_new && !(ctx.state = def->state_new())) {
		serr_set(e, "out of memory creating the state of job '%s'", job);
		goto out;
	}
	if (runs_create(st, job, partition, NULL, "{}", run_id, e) < 0)
		goto out;
	snprintf(ctx.run_id, sizeof(ctx.run_id), "%s", buf_cstr(run_id));
	log_set_context(ctx.run_id, job, partition);
	/* the hook stays installed: it only captures on threads running a step */
	log_set_hook(capture_hook, NULL);
	if (runs_set_status(st, ctx.run_id, "STARTED", NULL, e) < 0 ||
	    runs_event_add(st, ctx.run_id, "RUN_START", NULL, "info", NULL, NULL, e) < 0)
		goto out;
	log_info("run started", "partition=%s", partition ? partition : "(all)");

	serr_clear(&re);
	if (run_steps(&ctx, cap, &re) < 0) {
		/* best effort: the run's own failure is the error to report */
		serr ignored;
		if (runs_set_status(st, ctx.run_id, "FAILURE", re.msg, &ignored) < 0 ||
		    runs_event_add(st, ctx.run_id, "RUN_FAILURE", NULL, "error", re.msg, NULL,
				   &ignored) < 0)
			log_error("cannot record run failure", "error=\"%s\"", ignored.msg);
		memcpy(e->msg, re.msg, sizeof(e->msg));
		goto out;
	}
	{
		char meta[96];
		snprintf(meta, sizeof(meta), "{\"records_written\": %ld}", ctx.records_written);
		if (runs_set_status(st, ctx.run_id, "SUCCESS", NULL, e) < 0 ||
		    runs_event_add(st, ctx.run_id, "RUN_SUCCESS", NULL, "info", NULL, meta, e) < 0)
			goto out;
	}
	log_info("run succeeded", "records_written=%ld", ctx.records_written);
	rc = 0;
out:
	active_capture = NULL;
	log_set_context(NULL, NULL, NULL);
	if (ctx_ready) {
		if (def->state_free && ctx.state)
			def->state_free(ctx.state);
		job_ctx_free(&ctx);
	}
	capture_discard(cap);
	free(cap);
	return rc;
}
