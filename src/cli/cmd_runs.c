/* `scout runs [--status S] [--job J] [--partition K] [--limit N]` and `scout logs RUN_ID`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "store/runs.h"

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
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
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	run_list_init(&l);
	if (runs_list(&st, &f, &l, &e) < 0) {
		cli_fail(&e);
	} else {
		printf("%-36s  %-9s  %-32s  %-18s  %s\n", "RUN", "STATUS", "JOB", "PARTITION",
		       "CREATED");
		for (size_t i = 0; i < l.n; i++) {
			const struct run_info *r = &l.items[i];
			printf("%-36s  %-9s  %-32s  %-18s  %s\n", r->id, r->status, r->job,
			       or_dash(r->partition_key), r->created_at);
		}
		rc = 0;
	}
	run_list_free(&l);
	store_close(&st);
	config_free(&cfg);
	return rc;
usage:
	fprintf(stderr, "usage: scout runs [--status S] [--job J] [--partition K] [--limit N]\n");
	return 2;
}

int cmd_logs(int argc, char **argv)
{
	struct run_list run;
	struct run_event_list ev;
	struct config cfg;
	struct store st;
	serr e;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: scout logs RUN_ID\n");
		return 2;
	}
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	run_list_init(&run);
	run_event_list_init(&ev);
	if (runs_get(&st, argv[1], &run, &e) < 0 || runs_events(&st, argv[1], 0, 0, &ev, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (run.n == 0) {
		fprintf(stderr, "scout: no run '%s' (see `scout runs`)\n", argv[1]);
		goto out;
	}
	printf("run %s  job %s  partition %s  status %s\n", run.items[0].id, run.items[0].job,
	       or_dash(run.items[0].partition_key), run.items[0].status);
	if (run.items[0].error)
		printf("error: %s\n", run.items[0].error);
	for (size_t i = 0; i < ev.n; i++) {
		const struct run_event *x = &ev.items[i];
		printf("%s  %-15s %-20s %s", x->ts, x->type, or_dash(x->step),
		       x->message ? x->message : "");
		if (x->metadata_json)
			printf("%s%s", x->message ? "  " : "", x->metadata_json);
		putchar('\n');
	}
	rc = 0;
out:
	run_list_free(&run);
	run_event_list_free(&ev);
	store_close(&st);
	config_free(&cfg);
	return rc;
}
