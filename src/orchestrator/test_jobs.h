/*
 * Jobs for tests and benchmarks that the shipped job table does not hold:
 * test_noop, test_sleep (sleeps the run's tag "sleep_ms"), test_fail (always
 * fails) and test_flaky (fails until attempt "succeed_on_attempt"). A test
 * registers them in its own process; a `scout` process started by a test
 * (daemon, worker) registers them when the environment has SCOUT_TEST_JOBS=1.
 * Each executed step appends a LOG event "test step executed" to its run, so
 * a test can count executions.
 */
#ifndef SCOUT_ORCHESTRATOR_TEST_JOBS_H
#define SCOUT_ORCHESTRATOR_TEST_JOBS_H

#include "core/err.h"

#define TEST_JOBS_ENV "SCOUT_TEST_JOBS"
#define TEST_JOB_NOOP "test_noop"
#define TEST_JOB_SLEEP "test_sleep"
#define TEST_JOB_FAIL "test_fail"
#define TEST_JOB_FLAKY "test_flaky"
/* The message of the LOG event each executed test step appends. */
#define TEST_JOB_EXECUTED "test step executed"

/* Register the test jobs; calling it again is a no-op. */
int test_jobs_register(serr *e) SCOUT_MUST;

/* test_jobs_register when SCOUT_TEST_JOBS=1, else nothing. */
int test_jobs_register_from_env(serr *e) SCOUT_MUST;

#endif
