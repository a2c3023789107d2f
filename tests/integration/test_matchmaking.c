/*
 * Integration tests of matchmaking against a real PostgreSQL database and
 * the simulator's OpenRouter answers: a generated base goes through the
 * candidate and job pipelines once, then matchmaking_job ranks its jobs.
 * Covered: 20 stored matches with every component; Fraud and rejected
 * candidates never matched and reported as exclusions; the in-memory pool
 * refreshed with only the changed candidates and agreeing with a full
 * load; one name vector per distinct skill name, read in full on a load and
 * only the new ones on a refresh; `scout matches` as the real binary, as
 * text and --json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "orchestrator/run.h"
#include "store/match_pool.h"
#include "pipeline/matchmaking.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/matches.h"
#include "store/normalized.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define BASE_ID "appMatchmaking001"
#define CANDIDATES 36
#define OUT_MAX (1024 * 1024)

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	struct sim *sim;
	struct config cfg;
	struct store st;
	struct buf url;
	json_t *base;
	char name[48];
	char home[PATH_MAX];
	char job[64];
	struct buf out, err;
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static int64_t count(struct fx *f, const char *sql, const char *param)
{
	const char *p[1] = { param };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count", sql, param ? 1 : 0, param ? p : NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

static void exec_sql(struct fx *f, const char *sql, int n, const char *const *p)
{
	serr e;

	if (store_exec(&f->st, "test statement", sql, n, p, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static void must_run(struct fx *f, const char *job, const char *partition)
{
	struct buf id;
	serr e;

	buf_init(&id, 128);
	if (run_foreground(&f->cfg, &f->st, job, partition, &id, &e) < 0)
		fail_msg("%s failed: %s", job, e.msg);
	buf_free(&id);
}

static int group_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	struct sample_opts go;
	const char *root = getenv("SCOUT_TEST_HOME");
	struct buf api;
	PGresult *r = NULL;
	serr e;

	if (!f)
		return -1;
	snprintf(f->name, sizeof(f->name), "matchmaking");
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = 100;
	so.notion_rate = 100;
	if (!(f->sim = harness_sim_start(&so)))
		return -1;
	sample_opts_init(&go);
	go.seed = 23;
	go.candidates = CANDIDATES;
	go.jobs = 3;
	go.base_id = BASE_ID;
	go.oversized_bytes = 0;
	if (!(f->base = sample_generate(&go, &e)) || sim_load_base(f->sim, f->base, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	if (config_init(&f->cfg, &e) < 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "%s/%s", root && *root ? root : "/tmp", f->name);
	mkdir(f->home, 0755);
	cfg_set(&f->cfg, "home", f->home);
	cfg_set(&f->cfg, "airtable.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "airtable.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "airtable.base_id", BASE_ID);
	cfg_set(&f->cfg, "airtable.requests_per_second", "100");
	cfg_set(&f->cfg, "notion.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "notion.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "notion.requests_per_second", "100");
	buf_init(&api, 0);
	if (buf_printf(&api, "%s/api/v1", sim_url(f->sim)) < 0)
		return -1;
	cfg_set(&f->cfg, "openrouter.api_url", buf_cstr(&api));
	buf_free(&api);
	cfg_set(&f->cfg, "openrouter.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "llm.embedding_dimensions", "64");
	cfg_set(&f->cfg, "llm.backoff_ms", "5");
	log_add_secret(HARNESS_SIM_KEY);
	buf_init(&f->url, 0);
	buf_init(&f->out, OUT_MAX);
	buf_init(&f->err, OUT_MAX);
	if (harness_db_create(f->name, &f->url, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		return -1;
	*state = f;
	must_run(f, "candidate_pipeline_job", NULL);
	must_run(f, "job_pipeline_job", NULL);
	if (store_exec(&f->st, "first job", "SELECT min(record_id) FROM normalized_jobs", 0, NULL,
		       &r, &e) < 0 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return -1;
	}
	snprintf(f->job, sizeof(f->job), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	/* no candidate starts excluded: the tests plant the exclusions */
	exec_sql(f, "UPDATE normalized_candidates SET is_excluded = false WHERE is_excluded", 0,
		 NULL);
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	serr e;

	pool_cache_drop();
	if (!f)
		return 0;
	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	harness_sim_stop(f->sim);
	json_decref(f->base);
	config_free(&f->cfg);
	buf_free(&f->url);
	buf_free(&f->out);
	buf_free(&f->err);
	free(f);
	return 0;
}

static void latest(struct fx *f, struct match_run *m)
{
	int found = 0;
	serr e;

	if (matches_latest(&f->st, f->job, m, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(found, 1);
}

static int in_results(const struct match_run *m, const char *id)
{
	for (size_t i = 0; i < m->n_results; i++)
		if (strcmp(m->results[i].record_id, id) == 0)
			return 1;
	return 0;
}

static const char *exclusion_reason(const struct match_run *m, const char *id)
{
	size_t i;
	const json_t *x;

	json_array_foreach(m->excluded, i, x)
		if (strcmp(json_string_value(json_object_get(x, "record_id")), id) == 0)
			return json_string_value(json_object_get(x, "reason"));
	return NULL;
}

static void matchmaking_job_stores_twenty_matches_with_components(void **state)
{
	struct fx *f = *state;
	struct match_run m;
	int any_vector = 0, any_skills = 0;

	must_run(f, "matchmaking_job", f->job);
	latest(f, &m);
	assert_int_equal(m.n_results, MATCH_TOP);
	assert_int_equal(m.pool_size, CANDIDATES);
	assert_int_equal(count(f, "SELECT count(*) FROM matches WHERE job_record_id = $1", f->job),
			 MATCH_TOP);
	for (size_t i = 0; i < m.n_results; i++) {
		const struct match_result *r = &m.results[i];

		if (i > 0)
			assert_true(r->score <= m.results[i - 1].score + 1e-12 ||
				    r->surfaced_by_highlight);
		assert_true(r->vector >= 0 && r->vector <= 1);
		assert_true(r->skills >= 0 && r->skills <= 1);
		assert_true(r->comp >= 0 && r->comp <= 1);
		assert_true(r->location >= 0 && r->location <= 1);
		assert_true(r->penalty >= 0);
		any_vector |= r->v_role > 0 || r->v_domain > 0;
		any_skills |= r->s_coverage > 0;
	}
	assert_true(any_vector);
	assert_true(any_skills);
	assert_non_null(json_object_get(m.weights, "vector"));
	assert_true(fabs(json_number_value(json_object_get(m.weights, "skills")) -
			 f->cfg.match_w_skills) < 1e-9);
	/* the orchestrator run is linked, the materialization recorded */
	assert_true(*m.job_run_id);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE run_id = $1::uuid "
				  "AND type = 'MATERIALIZATION' AND metadata->>'pool_size' = '36'",
			       m.job_run_id),
			 1);
	match_run_free(&m);
}

static void fraud_and_rejected_candidates_are_never_matched_and_are_reported(void **state)
{
	struct fx *f = *state;
	struct match_run before, after;
	char fraud[32], rejected[32];
	int found = 0;
	serr e;

	must_run(f, "matchmaking_job", f->job);
	latest(f, &before);
	snprintf(fraud, sizeof(fraud), "%s", before.results[0].record_id);
	snprintf(rejected, sizeof(rejected), "%s", before.results[1].record_id);
	match_run_free(&before);

	if (normalized_candidate_set_flag(&f->st, fraud, CANDIDATE_EXCLUDED, 1, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(found, 1);
	{
		const char *p[] = { f->job, rejected };
		exec_sql(f, "INSERT INTO ats_rows (record_id, job_record_id, fields, ai_rejection) "
			    "VALUES ('recAtsMatchTest01', $1, '{}', ARRAY[$2])",
			 2, p);
	}
	must_run(f, "matchmaking_job", f->job);
	latest(f, &after);
	assert_false(in_results(&after, fraud));
	assert_false(in_results(&after, rejected));
	assert_int_equal(after.n_results, MATCH_TOP);
	assert_non_null(exclusion_reason(&after, fraud));
	assert_non_null(exclusion_reason(&after, rejected));
	assert_string_equal(exclusion_reason(&after, fraud), "fraud");
	assert_string_equal(exclusion_reason(&after, rejected), "rejected for this job");
	match_run_free(&after);

	/* history keeps the earlier runs */
	{
		struct match_run_summary *h = NULL;
		size_t n = 0;

		if (matches_history(&f->st, f->job, 10, &h, &n, &e) < 0)
			fail_msg("%s", e.msg);
		assert_true(n >= 2);
		assert_int_equal(h[0].n_results, MATCH_TOP);
		assert_true(h[0].n_excluded >= 2);
		free(h);
	}
}

static void score(struct fx *f, struct matchmaking_summary *m)
{
	serr e;

	if (matchmaking_score_job(&f->st, &f->cfg, f->job, NULL, m, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Vectorization gives every distinct skill name one name vector; the pool
 * reads them all on a full load and only the new ones on a refresh, and a
 * record whose own vectors are unchanged still gets its missing names. */
static void every_skill_name_gets_one_name_vector_and_the_pool_reads_new_ones(void **state)
{
	struct fx *f = *state;
	struct matchmaking_summary m;
	const char *names_sql = "SELECT count(*) FROM (SELECT canonical FROM candidate_skills "
				"UNION SELECT canonical FROM job_required_skills) n";
	const char *vec_sql = "SELECT count(*) FROM skill_name_vectors";
	char cand[32];
	int64_t names = count(f, names_sql, NULL), dropped;
	PGresult *r = NULL;
	serr e;

	assert_true(names > 10);
	assert_int_equal(count(f, vec_sql, NULL), names);
	pool_cache_drop();
	score(f, &m);
	assert_int_equal(m.refresh.full, 1);
	assert_int_equal(m.refresh.names, names);

	if (store_exec(&f->st, "pick", "SELECT min(record_id) FROM candidate_skills", 0, NULL, &r,
		       &e) < 0)
		fail_msg("%s", e.msg);
	snprintf(cand, sizeof(cand), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	{
		const char *p[] = { cand };
		dropped = count(f, "SELECT count(*) FROM skill_name_vectors WHERE canonical IN "
				   "(SELECT canonical FROM candidate_skills WHERE record_id = $1)",
				cand);
		assert_true(dropped > 0);
		exec_sql(f, "DELETE FROM skill_name_vectors WHERE canonical IN "
			    "(SELECT canonical FROM candidate_skills WHERE record_id = $1)", 1, p);
	}
	assert_int_equal(count(f, vec_sql, NULL), names - dropped);
	must_run(f, "candidate_pipeline_job", cand);
	assert_int_equal(count(f, vec_sql, NULL), names);
	score(f, &m);
	assert_int_equal(m.refresh.full, 0);
	assert_int_equal(m.refresh.names, dropped);
}

static void same_ranking(struct fx *f, const char *run_a, const char *run_b)
{
	struct match_run a, b;
	int found = 0;
	serr e;

	if (matches_get_run(&f->st, run_a, &a, &found, &e) < 0 || !found ||
	    matches_get_run(&f->st, run_b, &b, &found, &e) < 0 || !found)
		fail_msg("cannot read runs: %s", e.msg);
	assert_int_equal(a.n_results, b.n_results);
	for (size_t i = 0; i < a.n_results; i++) {
		assert_string_equal(a.results[i].record_id, b.results[i].record_id);
		assert_true(fabs(a.results[i].score - b.results[i].score) < 1e-9);
	}
	assert_true(json_equal(a.excluded, b.excluded));
	match_run_free(&a);
	match_run_free(&b);
}

static void refresh_reads_only_changed_candidates_and_agrees_with_a_full_load(void **state)
{
	struct fx *f = *state;
	struct matchmaking_summary m;
	char full_run[40], changed[32], gone[32];
	PGresult *r = NULL;
	serr e;

	/* A transaction left open elsewhere (another worker, another database of
	 * the cluster) while a candidate changes and the pool loads: the change
	 * was seen by the load and must not be read again on every refresh. */
	{
		struct store other;
		PGresult *xr = NULL;

		if (store_open_url(&other, buf_cstr(&f->url), &e) < 0 ||
		    store_exec(&other, "begin", "BEGIN", 0, NULL, NULL, &e) < 0 ||
		    store_exec(&other, "take an xid", "SELECT pg_current_xact_id()", 0, NULL, &xr,
			       &e) < 0)
			fail_msg("%s", e.msg);
		PQclear(xr);
		exec_sql(f, "UPDATE normalized_candidates SET years_of_experience = "
			    "years_of_experience WHERE record_id = (SELECT min(record_id) FROM "
			    "normalized_candidates)", 0, NULL);
		pool_cache_drop();
		score(f, &m);
		assert_int_equal(m.refresh.full, 1);
		assert_int_equal(m.refresh.loaded, CANDIDATES);

		score(f, &m);
		assert_int_equal(m.refresh.full, 0);
		assert_int_equal(m.refresh.loaded, 0);
		assert_int_equal(m.pool_size, CANDIDATES);
		store_rollback(&other);
		store_close(&other);
	}

	/* one candidate's experience and vectors change, another disappears */
	if (store_exec(&f->st, "pick", "SELECT record_id FROM normalized_candidates "
				       "ORDER BY record_id LIMIT 2", 0, NULL, &r, &e) < 0)
		fail_msg("%s", e.msg);
	snprintf(changed, sizeof(changed), "%s", PQgetvalue(r, 0, 0));
	snprintf(gone, sizeof(gone), "%s", PQgetvalue(r, 1, 0));
	PQclear(r);
	{
		const char *p[] = { changed };
		exec_sql(f, "UPDATE normalized_candidates SET years_of_experience = 0, "
			    "verified = NOT verified WHERE record_id = $1", 1, p);
		exec_sql(f, "DELETE FROM candidate_vectors WHERE record_id = $1 "
			    "AND kind LIKE 'skill:%'", 1, p);
	}
	{
		const char *p[] = { gone };
		exec_sql(f, "DELETE FROM normalized_candidates WHERE record_id = $1", 1, p);
	}
	score(f, &m);
	assert_int_equal(m.refresh.full, 0);
	assert_int_equal(m.refresh.changed, 2);
	assert_int_equal(m.refresh.loaded, 1);
	assert_int_equal(m.refresh.removed, 1);
	assert_int_equal(m.pool_size, CANDIDATES - 1);
	snprintf(full_run, sizeof(full_run), "%s", m.match_run_id);

	/* a pool loaded from scratch ranks exactly the same */
	pool_cache_drop();
	score(f, &m);
	assert_int_equal(m.refresh.full, 1);
	assert_int_equal(m.refresh.connections, 1);
	assert_int_equal(m.refresh.loaded, CANDIDATES - 1);
	same_ranking(f, full_run, m.match_run_id);

	/* and so does one loaded in small chunks, two at a time over a second
	 * connection sharing the snapshot (an odd count: the last round has one) */
	pool_cache_chunk_set(4);
	pool_cache_drop();
	score(f, &m);
	pool_cache_chunk_set(0);
	assert_int_equal(m.refresh.full, 1);
	assert_int_equal(m.refresh.connections, 2);
	assert_int_equal(m.refresh.loaded, CANDIDATES - 1);
	same_ranking(f, full_run, m.match_run_id);
}

static void slurp(const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *in = fopen(path, "r");

	buf_reset(b);
	assert_non_null(in);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(in);
}

/* Run `scout ARGS...` (NULL-terminated) on the test's database; its exit status. */
static int scout(struct fx *f, ...)
{
	char *argv[8], dburl[4096], home[PATH_MAX + 16], outp[PATH_MAX + 16], errp[PATH_MAX + 16];
	char **env;
	size_t n = 0, k = 0;
	int argc = 1, st, fo, fe;
	va_list ap;
	pid_t pid;

	argv[0] = scout_bin;
	va_start(ap, f);
	while (argc < 7 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	while (environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++)
		if (strncmp(environ[i], "DATABASE_URL=", 13) != 0 &&
		    strncmp(environ[i], "SCOUT_", 6) != 0)
			env[k++] = environ[i];
	snprintf(dburl, sizeof(dburl), "DATABASE_URL=%s", buf_cstr(&f->url));
	snprintf(home, sizeof(home), "SCOUT_HOME=%s", f->home);
	env[k++] = dburl;
	env[k++] = home;
	env[k++] = "SCOUT_LOG_LEVEL=warn";
	snprintf(outp, sizeof(outp), "%s/out.txt", f->home);
	snprintf(errp, sizeof(errp), "%s/err.txt", f->home);
	fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fo >= 0 && fe >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execve(scout_bin, argv, env);
		_exit(127);
	}
	close(fo);
	close(fe);
	free(env);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	slurp(outp, &f->out);
	slurp(errp, &f->err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void has(const struct buf *b, const char *what)
{
	if (!strstr(buf_cstr(b), what))
		fail_msg("'%s' not in:\n%s", what, buf_cstr(b));
}

static void matches_command_prints_the_ranking_and_json(void **state)
{
	struct fx *f = *state;
	struct match_run m;
	json_t *j, *first;
	json_error_t je;

	must_run(f, "matchmaking_job", f->job);
	latest(f, &m);

	assert_int_equal(scout(f, "matches", f->job, NULL), 0);
	has(&f->out, f->job);
	has(&f->out, m.run_id);
	has(&f->out, "SCORE");
	has(&f->out, m.results[0].record_id);
	has(&f->out, m.results[MATCH_TOP - 1].record_id);
	has(&f->out, "excluded near the top:");
	has(&f->out, "fraud");
	has(&f->out, "rejected for this job");

	assert_int_equal(scout(f, "matches", f->job, "--json", NULL), 0);
	j = json_loads(buf_cstr(&f->out), 0, &je);
	if (!j)
		fail_msg("not json (%s):\n%s", je.text, buf_cstr(&f->out));
	assert_string_equal(json_string_value(json_object_get(j, "match_run_id")), m.run_id);
	assert_int_equal(json_array_size(json_object_get(j, "matches")), MATCH_TOP);
	first = json_array_get(json_object_get(j, "matches"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "candidate_record_id")),
			    m.results[0].record_id);
	assert_true(fabs(json_number_value(json_object_get(first, "score")) - m.results[0].score) <
		    1e-9);
	assert_true(json_is_number(json_object_get(json_object_get(first, "components"), "s_semantic")));
	assert_true(json_is_boolean(json_object_get(first, "verified")));
	assert_true(json_is_boolean(json_object_get(first, "highlighted")));
	assert_true(json_array_size(json_object_get(j, "excluded")) >= 2);
	json_decref(j);
	match_run_free(&m);

	/* an unranked job: a clear message and a failing status */
	assert_int_equal(scout(f, "matches", "recNoSuchJob00001", NULL), 1);
	has(&f->err, "no stored matches");
	assert_int_equal(scout(f, "matches", NULL), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matchmaking_job_stores_twenty_matches_with_components),
		cmocka_unit_test(fraud_and_rejected_candidates_are_never_matched_and_are_reported),
		cmocka_unit_test(matches_command_prints_the_ranking_and_json),
		cmocka_unit_test(refresh_reads_only_changed_candidates_and_agrees_with_a_full_load),
		cmocka_unit_test(every_skill_name_gets_one_name_vector_and_the_pool_reads_new_ones),
	};
	char self[PATH_MAX];
	char *cut;

	(void)argc;
	/* BUILD/tests/integration/test_matchmaking -> BUILD/scout */
	if (!realpath(argv[0], self))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(self, '/')); i++)
		*cut = '\0';
	snprintf(scout_bin, sizeof(scout_bin), "%s/scout", self);
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
