/*
 * Every `scout` subcommand. Each returns the process exit status: 0 only on
 * success; data goes to stdout, diagnostics to stderr.
 */
#ifndef SCOUT_CLI_COMMANDS_H
#define SCOUT_CLI_COMMANDS_H

int cmd_db(int argc, char **argv);	/* db start|stop|status|url (cli/cmd_db.c) */
int cmd_migrate(int argc, char **argv); /* migrate (cli/cmd_db.c) */
int cmd_sim(int argc, char **argv);	/* sim: run the API simulators (cli/cmd_sim.c) */
int cmd_job(int argc, char **argv);	/* job list|run (cli/cmd_job.c) */
int cmd_runs(int argc, char **argv);	/* runs [--status S] (cli/cmd_runs.c) */
int cmd_logs(int argc, char **argv);	/* logs RUN_ID (cli/cmd_runs.c) */
int cmd_run(int argc, char **argv);	/* run cancel|retry RUN_ID (cli/cmd_runs.c) */
int cmd_worker(int argc, char **argv);	/* worker [--concurrency N] (cli/cmd_worker.c) */
int cmd_partitions(int argc, char **argv); /* partitions JOB [--status S] (cli/cmd_partitions.c) */
int cmd_backfill(int argc, char **argv);   /* backfill JOB ... | cancel|resume|status ID (cli/cmd_backfill.c) */
int cmd_backfills(int argc, char **argv);  /* backfills [--limit N] (cli/cmd_backfill.c) */
int cmd_config(int argc, char **argv);	/* config show|doc (cli/cmd_config.c) */
int cmd_daemon(int argc, char **argv);	/* daemon [--workers N] (cli/cmd_daemon.c) */
int cmd_doctor(int argc, char **argv);	/* doctor: health checks (cli/cmd_doctor.c) */
int cmd_sensor(int argc, char **argv);	/* sensor list|start|stop|tick|preview|ticks|reset (cli/cmd_sensor.c) */
int cmd_demo(int argc, char **argv);	/* demo (cli/cmd_demo.c) */
int cmd_matches(int argc, char **argv); /* matches JOB_RECORD_ID [--json] (cli/cmd_matches.c) */

#endif
