/*
 * `scout partitions JOB [--status S] [--limit N] [--offset N]`: the
 * partitions of a partitioned job with their status (missing, queued,
 * running, succeeded, failed, stale), latest run and when it last changed,
 * then one line of counts per status.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/test_jobs.h"
#include "store/partition_status.h"

#define USAGE "usage: scout partitions JOB [--status S] [--limit N] [--offset N]\n"
#define LIMIT_DEFAULT 100

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int cmd_partitions(int argc, char **argv)
{
	struct partition_status_list l;
	struct partition_status_counts c;
	enum partition_state st_filter;
	const enum partition_state *filter = NULL;
	const char *job;
	struct config cfg;
	struct store st;
	int limit = LIMIT_DEFAULT, rc = 1;
	int64_t offset = 0, shown_total;
	serr e;

	if (argc < 2 || argv[1][0] == '-')
		goto usage;
	job = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			goto usage;
		if (strcmp(opt, "--status") == 0) {
			if (partition_state_parse(val, &st_filter) < 0) {
				fprintf(stderr, "scout: unknown partition status '%s' (missing, queued, "
						"running, succeeded, failed, stale)\n",
					val);
				return 2;
			}
			filter = &st_filter;
		} else if (strcmp(opt, "--limit") == 0) {
			if (parse_int(val, 1, PARTITION_STATUS_LIMIT_MAX, &limit) < 0)
				goto usage;
		} else if (strcmp(opt, "--offset") == 0) {
			if (parse_i64(val, 0, INT64_MAX, &offset) < 0)
				goto usage;
		} else {
			goto usage;
		}
		i++;
	}
	if (test_jobs_register_from_env(&e) < 0)
		return cli_fail(&e);
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	partition_status_list_init(&l);
	if (partition_status_list(&st, job, filter, limit, offset, &l, &e) < 0 ||
	    partition_status_counts(&st, job, &c, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	printf("%-24s  %-9s  %-36s  %s\n", "PARTITION", "STATUS", "LAST RUN", "UPDATED");
	for (size_t i = 0; i < l.n; i++) {
		const struct partition_status *p = &l.items[i];

		printf("%-24s  %-9s  %-36s  %s\n", p->key, partition_state_name(p->state),
		       or_dash(p->last_run_id), or_dash(p->updated_at));
	}
	printf("%s: %lld partitions:", job, (long long)c.total);
	for (int i = 0; i < PSTATE_COUNT; i++)
		printf("%s %lld %s", i ? "," : "", (long long)c.n[i],
		       partition_state_name((enum partition_state)i));
	putchar('\n');
	shown_total = filter ? c.n[*filter] : c.total;
	if (offset + (int64_t)l.n < shown_total)
		fprintf(stderr, "scout: showing %zu of %lld from offset %lld (see --limit and --offset)\n",
			l.n, (long long)shown_total, (long long)offset);
	rc = 0;
out:
	partition_status_list_free(&l);
	store_close(&st);
	config_free(&cfg);
	return rc;
usage:
	fputs(USAGE, stderr);
	return 2;
}
