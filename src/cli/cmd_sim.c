/*
 * `scout sim`: run the Airtable and Notion simulators in the foreground on
 * 127.0.0.1, optionally with a base loaded from a file or generated from a
 * seed; print the URL on stdout and stop on SIGINT or SIGTERM.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "sim/generate.h"
#include "sim/sim.h"

static void usage(FILE *out)
{
	fputs("usage: scout sim [--port N] [--api-key K] [--load FILE]\n"
	      "                 [--generate SEED [--candidates N] [--jobs N]]\n"
	      "  --port N        listen on 127.0.0.1:N (default 8765; 0 picks a free port)\n"
	      "  --api-key K     bearer the clients must send (default $AIRTABLE_API_KEY or sim-key)\n"
	      "  --load FILE     load a base in the docs/simulator.md format\n"
	      "  --generate SEED load a generated sample base\n"
	      "  --penalty-ms N  how long a base answers 429 after exceeding 5 requests/s (30000)\n",
	      out);
}

struct sim_args {
	int port;
	const char *key;
	const char *load;
	const char *seed;
	int candidates, jobs, penalty_ms;
};

static int bad_value(const char *opt, const char *val)
{
	fprintf(stderr, "scout sim: invalid value '%s' for %s\n", val, opt);
	return -1;
}

static int parse_args(int argc, char **argv, struct sim_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t seed;
		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (!val) {
			fprintf(stderr, "scout sim: '%s' needs a value or is unknown\n", opt);
			return -1;
		}
		i++;
		if (strcmp(opt, "--port") == 0) {
			if (parse_int(val, 0, 65535, &a->port) < 0)
				return bad_value(opt, val);
		} else if (strcmp(opt, "--api-key") == 0) {
			a->key = val;
		} else if (strcmp(opt, "--load") == 0) {
			a->load = val;
		} else if (strcmp(opt, "--generate") == 0) {
			if (parse_i64(val, 0, INT64_MAX, &seed) < 0)
				return bad_value(opt, val);
			a->seed = val;
		} else if (strcmp(opt, "--candidates") == 0) {
			if (parse_int(val, 1, 100000, &a->candidates) < 0)
				return bad_value(opt, val);
		} else if (strcmp(opt, "--jobs") == 0) {
			if (parse_int(val, 1, 10000, &a->jobs) < 0)
				return bad_value(opt, val);
		} else if (strcmp(opt, "--penalty-ms") == 0) {
			if (parse_int(val, 0, 3600000, &a->penalty_ms) < 0)
				return bad_value(opt, val);
		} else {
			fprintf(stderr, "scout sim: unknown option '%s'\n", opt);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

static int load_base(struct sim *s, const struct sim_args *a, serr *e)
{
	json_t *base = NULL;
	json_error_t je;
	int rc = -1;

	if (a->load) {
		base = json_load_file(a->load, 0, &je);
		if (!base)
			return serr_set(e, "cannot read '%s': line %d: %s", a->load, je.line, je.text);
	} else {
		struct sample_opts so;
		int64_t seed;
		sample_opts_init(&so);
		if (parse_i64(a->seed, 0, INT64_MAX, &seed) < 0)
			return serr_set(e, "invalid seed '%s'", a->seed);
		so.seed = (uint64_t)seed;
		if (a->candidates)
			so.candidates = a->candidates;
		if (a->jobs)
			so.jobs = a->jobs;
		base = sample_generate(&so, e);
		if (!base)
			return serr_wrap(e, "cannot generate the sample base");
	}
	if (sim_load_base(s, base, e) < 0)
		goto out;
	log_info("sim base loaded", "base=%s", json_string_value(json_object_get(base, "id")));
	rc = 0;
out:
	json_decref(base);
	return rc;
}

int cmd_sim(int argc, char **argv)
{
	struct sim_args a = { .port = 8765, .penalty_ms = -1 };
	struct sim_opts o;
	struct sim *s;
	sigset_t set;
	serr e;
	int sig, rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? 2 : 0;
	if (!a.key) {
		const char *env = getenv("AIRTABLE_API_KEY");
		a.key = env && *env ? env : "sim-key";
	}
	log_add_secret(a.key);
	/* block the signals before the server's threads start, so only sigwait sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sim_opts_init(&o);
	o.port = a.port;
	o.api_key = a.key;
	if (a.penalty_ms >= 0)
		o.penalty_ms = a.penalty_ms;
	s = sim_start(&o, &e);
	if (!s) {
		fprintf(stderr, "scout sim: %s\n", e.msg);
		return 1;
	}
	if ((a.load || a.seed) && load_base(s, &a, &e) < 0) {
		fprintf(stderr, "scout sim: %s\n", e.msg);
		sim_stop(s);
		return 1;
	}
	printf("%s\n", sim_url(s));
	fflush(stdout);
	log_info("sim listening", "url=%s", sim_url(s));
	if (sigwait(&set, &sig) != 0)
		sig = SIGTERM;
	log_info("sim stopping", "signal=%d", sig);
	sim_stop(s);
	return 0;
}
