/*
 * Runs from the command line: `scout runs [--status S] [--job J]
 * [--partition K] [--limit N]`, `scout logs RUN_ID [--follow]`,
 * `scout logs --job J --partition K` (every run of a partition) and
 * `scout run cancel|retry RUN_ID [--from-failure] [--foreground]`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/run.h"
#include "orchestrator/test_jobs.h"
#include "store/queue.h"
#include "store/runs.h"

#define FOLLOW_POLL_MS 500
#define EVENTS_PAGE 1000

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Open the configuration and the store; 0 or the exit status 1 (already printed). */
static int open_all(struct config *cfg, struct store *st)
{
	if (cli_config(cfg) < 0)
		return 1;
	if (cli_store(cfg, st) < 0) {
		config_free(cfg);
		return 1;
	}
	return 0;
}

static void close_all(struct config *cfg, struct store *st)
{
	store_close(st);
	config_free(cfg);
}

int cmd_runs(int argc, char **argv)
{
	struct run_filter f = { 0 };
	struct run_list l;
	struct config cfg;
	struct store st;
	serr e;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			goto usage;
		if (strcmp(opt, "--status") == 0) {
			if (!run_status_valid(val)) {
				fprintf(stderr, "scout: unknown status '%s' (QUEUED, STARTED, SUCCESS, "
						"FAILURE, CANCELING, CANCELED)\n", val);
				return 2;
			}
			f.status = val;
		} else if (strcmp(opt, "--job") == 0) {
			f.job = val;
		} else if (strcmp(opt, "--partition") == 0) {
			f.partition_key = val;
		} else if (strcmp(opt, "--limit") == 0) {
			if (parse_int(val, 1, 100000, &f.limit) < 0)
				goto usage;
		} else {
			goto usage;
		}
		i++;
	}
	if (open_all(&cfg, &st))
		return 1;
	run_list_init(&l);
	if (runs_list(&st, &f, &l, &e) < 0) {
		cli_fail(&e);
	} else {
		printf("%-36s  %-9s  %-3s  %-32s  %-18s  %s\n", "RUN", "STATUS", "TRY", "JOB",
		       "PARTITION", "CREATED");
		for (size_t i = 0; i < l.n; i++) {
			const struct run_info *r = &l.items[i];
			printf("%-36s  %-9s  %-3d  %-32s  %-18s  %s\n", r->id, r->status, r->attempt,
			       r->job, or_dash(r->partition_key), r->created_at);
		}
		rc = 0;
	}
	run_list_free(&l);
	close_all(&cfg, &st);
	return rc;
usage:
	fprintf(stderr, "usage: scout runs [--status S] [--job J] [--partition K] [--limit N]\n");
	return 2;
}

static void print_event(const struct run_event *x, int with_run)
{
	if (with_run)
		printf("%.8s  ", x->run_id);
	printf("%s  %-15s %-20s %s", x->ts, x->type, or_dash(x->step), x->message ? x->message : "");
	if (x->metadata_json)
		printf("%s%s", x->message ? "  " : "", x->metadata_json);
	putchar('\n');
}

static int run_ended(const char *status)
{
	return strcmp(status, "SUCCESS") == 0 || strcmp(status, "FAILURE") == 0 ||
	       strcmp(status, "CANCELED") == 0;
}

/* The run's header: what it is, where it comes from, and its attempts. */
static int print_header(struct store *st, const struct run_info *r, serr *e)
{
	struct queue_run_facts facts;
	struct queue_attempt_list at;
	int found = 0;

	printf("run %s  job %s  partition %s  status %s  attempt %d\n", r->id, r->job,
	       or_dash(r->partition_key), r->status, r->attempt);
	if (queue_run_facts_get(st, r->id, &facts, &found, e) < 0)
		return -1;
	if (found && (facts.parent_run_id[0] || facts.backfill_id[0] || facts.resume_from_step[0]))
		printf("parent %s  backfill %s  resumed from %s\n", or_dash(facts.parent_run_id),
		       or_dash(facts.backfill_id), or_dash(facts.resume_from_step));
	if (r->error)
		printf("error: %s\n", r->error);
	queue_attempt_list_init(&at);
	if (queue_attempts(st, r->id, &at, e) < 0)
		return -1;
	for (size_t i = 0; i < at.n; i++) {
		const struct queue_attempt *a = &at.items[i];
		printf("attempt %d  %-8s  worker %s  %s .. %s%s%s\n", a->attempt, a->status,
		       or_dash(a->worker), or_dash(a->started_at), or_dash(a->ended_at),
		       a->error ? "  " : "", a->error ? a->error : "");
	}
	queue_attempt_list_free(&at);
	return 0;
}

/* Print the run's events, and with follow keep printing until the run ends. */
static int logs_run(struct store *st, const char *run_id, int follow, serr *e)
{
	struct run_list run;
	struct run_event_list ev;
	int64_t after = 0;
	int rc = -1, printed_header = 0;

	run_list_init(&run);
	run_event_list_init(&ev);
	for (;;) {
		int ended;

		if (runs_get(st, run_id, &run, e) < 0)
			goto out;
		if (run.n == 0) {
			serr_set(e, "no run '%s' (see `scout runs`)", run_id);
			goto out;
		}
		if (!printed_header) {
			if (print_header(st, &run.items[0], e) < 0)
				goto out;
			printed_header = 1;
		}
		ended = run_ended(run.items[0].status);
		/* read events after the status, so none written before the end is missed */
		do {
			if (runs_events(st, run_id, after, EVENTS_PAGE, &ev, e) < 0)
				goto out;
			for (size_t i = 0; i < ev.n; i++) {
				print_event(&ev.items[i], 0);
				after = ev.items[i].id;
			}
		} while (ev.n == EVENTS_PAGE);
		fflush(stdout);
		if (!follow || ended)
			break;
		sleep_ms(FOLLOW_POLL_MS);
	}
	if (follow)
		printf("run %s ended: %s\n", run_id, run.items[0].status);
	rc = follow && strcmp(run.items[0].status, "SUCCESS") != 0 ? 1 : 0;
out:
	run_list_free(&run);
	run_event_list_free(&ev);
	return rc;
}

static int logs_partition(struct store *st, const char *job, const char *partition, serr *e)
{
	struct run_event_list ev;
	int64_t after = 0;
	int rc = -1;

	run_event_list_init(&ev);
	printf("job %s  partition %s\n", job, partition);
	do {
		if (queue_partition_events(st, job, partition, after, EVENTS_PAGE, &ev, e) < 0)
			goto out;
		for (size_t i = 0; i < ev.n; i++) {
			print_event(&ev.items[i], 1);
			after = ev.items[i].id;
		}
	} while (ev.n == EVENTS_PAGE);
	rc = 0;
out:
	run_event_list_free(&ev);
	return rc;
}

int cmd_logs(int argc, char **argv)
{
	const char *run_id = NULL, *job = NULL, *partition = NULL;
	struct config cfg;
	struct store st;
	int follow = 0, rc;
	serr e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (strcmp(argv[i], "--job") == 0 && i + 1 < argc)
			job = argv[++i];
		else if (strcmp(argv[i], "--partition") == 0 && i + 1 < argc)
			partition = argv[++i];
		else if (argv[i][0] != '-' && !run_id)
			run_id = argv[i];
		else
			goto usage;
	}
	if (!run_id == !(job && partition) || (run_id && (job || partition)) ||
	    (follow && !run_id))
		goto usage;
	if (open_all(&cfg, &st))
		return 1;
	if (run_id)
		rc = logs_run(&st, run_id, follow, &e);
	else
		rc = logs_partition(&st, job, partition, &e);
	if (rc < 0)
		rc = cli_fail(&e);
	close_all(&cfg, &st);
	return rc;
usage:
	fprintf(stderr, "usage: scout logs RUN_ID [--follow] | scout logs --job J --partition K\n");
	return 2;
}

static int run_cancel(int argc, char **argv)
{
	char was[16], now[16];
	struct config cfg;
	struct store st;
	serr e;
	int rc = 1;

	if (argc != 1) {
		fprintf(stderr, "usage: scout run cancel RUN_ID\n");
		return 2;
	}
	if (open_all(&cfg, &st))
		return 1;
	if (queue_cancel_ex(&st, argv[0], "canceled from the command line", was, now, &e) < 0) {
		cli_fail(&e);
	} else {
		if (strcmp(now, "CANCELING") == 0)
			printf("%s %s: it stops after its current step\n", argv[0], now);
		else
			printf("%s %s\n", argv[0], now);
		rc = 0;
	}
	close_all(&cfg, &st);
	return rc;
}

static int run_retry(int argc, char **argv)
{
	const char *run_id = NULL;
	int from_failure = 0, foreground = 0, bad = 0, rc = 1;
	struct buf id, step;
	struct config cfg;
	struct store st;
	serr e;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--from-failure") == 0)
			from_failure = 1;
		else if (strcmp(argv[i], "--foreground") == 0)
			foreground = 1;
		else if (argv[i][0] != '-' && !run_id)
			run_id = argv[i];
		else
			bad = 1;
	}
	if (!run_id || bad) {
		fprintf(stderr, "usage: scout run retry RUN_ID [--from-failure] [--foreground]\n");
		return 2;
	}
	if (open_all(&cfg, &st))
		return 1;
	buf_init(&id, 128);
	buf_init(&step, 256);
	if (test_jobs_register_from_env(&e) < 0 ||
	    run_reexecute(&st, run_id, from_failure, &id, &step, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (from_failure)
		fprintf(stderr, "scout: run %s resumes %s%s%s\n", id.data,
			step.len ? "at step '" : "from the first step (the job's steps keep state in "
						  "memory or nothing before the failure succeeded)",
			step.len ? step.data : "", step.len ? "'" : "");
	printf("%s\n", id.data);
	fflush(stdout);
	if (foreground && run_execute_queued(&cfg, &st, id.data, &e) < 0) {
		fprintf(stderr, "scout: run %s failed (see `scout logs %s`)\n", id.data, id.data);
		cli_fail(&e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&id);
	buf_free(&step);
	close_all(&cfg, &st);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "cancel") == 0)
		return run_cancel(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "retry") == 0)
		return run_retry(argc - 2, argv + 2);
	fprintf(stderr, "usage: scout run cancel RUN_ID | scout run retry RUN_ID [--from-failure] "
			"[--foreground]\n");
	return 2;
}
