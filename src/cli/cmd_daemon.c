/*
 * `scout daemon [--workers N] [--name NAME]`: the sensor loop and N worker
 * processes under one supervising parent (see orchestrator/daemon.h).
 * SIGTERM or SIGINT drains, a second one stops at once, SIGHUP reloads the
 * configuration file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/daemon.h"
#include "orchestrator/sensor.h"
#include "orchestrator/test_jobs.h"

static volatile sig_atomic_t stop_flag, stop_now_flag, reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	if (stop_flag)
		stop_now_flag = 1;
	stop_flag = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_flag = 1;
}

static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = on_reload;
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: scout daemon [--workers N] [--name NAME]\n");
	return 2;
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_opts o;
	struct config cfg;
	serr e;
	int rc = 1;

	daemon_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (parse_int(argv[++i], 0, DAEMON_WORKERS_MAX, &o.workers) < 0) {
				fprintf(stderr, "scout: --workers takes 0 to %d\n",
					DAEMON_WORKERS_MAX);
				return 2;
			}
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc && *argv[i + 1]) {
			o.name = argv[++i];
		} else {
			return usage();
		}
	}
	if (cli_config(&cfg) < 0)
		return 1;
	if (test_jobs_register_from_env(&e) < 0 || sensor_defs_register_from_env(&e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (install_handlers() < 0) {
		fprintf(stderr, "scout: cannot install the signal handlers\n");
		goto out;
	}
	o.stop = &stop_flag;
	o.stop_now = &stop_now_flag;
	o.reload = &reload_flag;
	if (daemon_main(&cfg, &o, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}
