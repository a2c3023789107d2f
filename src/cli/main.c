/* scout's entry point: dispatches the subcommand from one table. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/err.h"
#include "core/http.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "db", cmd_db, "db start|stop|status|url   manage the private PostgreSQL cluster" },
	{ "migrate", cmd_migrate, "migrate                    apply pending database migrations" },
	{ "job", cmd_job, "job list | job run JOB [--partition KEY]" },
	{ "runs", cmd_runs, "runs [--status S] [--job J] [--partition K]" },
	{ "logs", cmd_logs, "logs RUN_ID                the event log of one run" },
	{ "run", cmd_run, "run cancel|retry RUN_ID [--from-failure]  cancel or re-execute a run" },
	{ "worker", cmd_worker, "worker [--concurrency N]   claim and execute queued runs" },
	{ "partitions", cmd_partitions, "partitions JOB [--status S] [--limit N]  partition status of a job" },
	{ "backfill", cmd_backfill, "backfill JOB (--all | --partitions K,... | --failed) [--wait] | cancel|resume|status ID" },
	{ "backfills", cmd_backfills, "backfills [--limit N]      backfills and their progress" },
	{ "sim", cmd_sim, "sim [--port N] [--generate SEED]  run the API simulators" },
	{ "config", cmd_config, "config show|doc            print the configuration" },
	{ "daemon", cmd_daemon, "daemon [--workers N]       sensors and workers under one supervisor" },
	{ "doctor", cmd_doctor, "doctor                     check the database, processes and endpoints" },
	{ "sensor", cmd_sensor, "sensor list|start|stop|tick|preview NAME  sensors and their ticks" },
	{ "matches", cmd_matches, "matches JOB_RECORD_ID [--json]  the job's latest ranked candidates" },
	{ "demo", cmd_demo, "demo                       run the main job on a generated sample base" },
};

static void usage(FILE *out)
{
	fputs("usage: scout COMMAND [ARGS]\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	serr e;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (http_global_init(&e) < 0) {
		fprintf(stderr, "scout: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "scout: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
