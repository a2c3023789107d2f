/* `scout job list` and `scout job run JOB [--partition KEY]`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "orchestrator/job.h"
#include "orchestrator/run.h"
#include "orchestrator/test_jobs.h"

static int job_list(void)
{
	serr e;

	/* jobs registered at start (SCOUT_TEST_JOBS=1) are listed too */
	if (test_jobs_register_from_env(&e) < 0)
		return cli_fail(&e);
	for (size_t i = 0; i < job_def_count(); i++) {
		const struct job_def *d = job_def_at(i);
		size_t n = job_def_nsteps(d);

		printf("%-40s partitions=%-10s steps=", d->name, job_partitioning_name(d->partitioning));
		for (size_t s = 0; s < n; s++)
			printf("%s%s", s ? "," : "", d->steps[s].name);
		printf("\n    %s\n", d->description);
	}
	return 0;
}

static int job_run(int argc, char **argv)
{
	const char *job = NULL, *partition = NULL;
	struct config cfg;
	struct store st;
	struct buf run_id;
	serr e;
	int rc = 1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--partition") == 0 && i + 1 < argc) {
			partition = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "scout: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (!job) {
			job = argv[i];
		} else {
			fprintf(stderr, "usage: scout job run JOB [--partition KEY]\n");
			return 2;
		}
	}
	if (!job) {
		fprintf(stderr, "usage: scout job run JOB [--partition KEY]\n");
		return 2;
	}
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	buf_init(&run_id, 128);
	if (run_foreground(&cfg, &st, job, partition, &run_id, &e) < 0) {
		if (run_id.len)
			fprintf(stderr, "scout: run %s failed (see `scout logs %s`)\n", run_id.data,
				run_id.data);
		cli_fail(&e);
		if (run_id.len)
			printf("%s\n", run_id.data);
	} else {
		printf("%s\n", run_id.data);
		rc = 0;
	}
	buf_free(&run_id);
	store_close(&st);
	config_free(&cfg);
	return rc;
}

int cmd_job(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return job_list();
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return job_run(argc - 2, argv + 2);
	fprintf(stderr, "usage: scout job list | scout job run JOB [--partition KEY]\n");
	return 2;
}
