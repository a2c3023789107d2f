/*
 * Running one job over every registered partition from several threads,
 * each with its own database connection, as workers would: used by the
 * ingestion tests and the ingestion benchmark.
 */
#ifndef SCOUT_TESTS_HARNESS_RUN_H
#define SCOUT_TESTS_HARNESS_RUN_H

#include "config/config.h"
#include "core/err.h"

/*
 * Run `job` once per active partition of `kind` found in the database at
 * db_url, spread over `threads` threads. 0 when every run succeeded; else
 * -1 with the number of failed runs in *failed and the last error in e.
 */
int harness_run_partitions(const struct config *cfg, const char *db_url, const char *job,
			   const char *kind, int threads, int *failed, serr *e) SCOUT_MUST;

#endif
