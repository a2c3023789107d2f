/*
 * `scout worker [--concurrency N] [--name NAME] [--max-runs N]`: claim and
 * execute queued runs until SIGTERM or SIGINT (drain: running runs finish,
 * nothing new is claimed); a second signal releases the running runs to
 * other workers and exits at once. Workers on any number of machines can
 * share one database.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/test_jobs.h"
#include "orchestrator/worker.h"

static volatile sig_atomic_t stop_flag, stop_now_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		stop_now_flag = 1;
	stop_flag = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: scout worker [--concurrency N] [--name NAME] [--max-runs N]\n");
	return 2;
}

int cmd_worker(int argc, char **argv)
{
	struct worker_opts o;
	struct sigaction sa;
	struct config cfg;
	struct store st;
	serr e;
	int rc = 1;

	worker_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			return usage();
		if (strcmp(opt, "--concurrency") == 0) {
			if (parse_int(val, 1, WORKER_CONCURRENCY_MAX, &o.concurrency) < 0) {
				fprintf(stderr, "scout: --concurrency must be 1 to %d\n",
					WORKER_CONCURRENCY_MAX);
				return 2;
			}
		} else if (strcmp(opt, "--name") == 0) {
			o.name = val;
		} else if (strcmp(opt, "--max-runs") == 0) {
			if (parse_int(val, 1, 1000000000, &o.max_runs) < 0)
				return usage();
		} else {
			return usage();
		}
		i++;
	}
	if (cli_config(&cfg) < 0)
		return 1;
	if (test_jobs_register_from_env(&e) < 0) {
		cli_fail(&e);
		goto out;
	}
	/* apply pending migrations once, before the worker's own connections */
	if (cli_store(&cfg, &st) < 0)
		goto out;
	store_close(&st);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the main loop's wait returns at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	o.stop = &stop_flag;
	o.stop_now = &stop_now_flag;
	if (worker_main(&cfg, &o, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}
