/*
 * `scout matches JOB_RECORD_ID [--json]`: the job's latest stored ranking:
 * each candidate with every score component and the flags, then the
 * candidates near the top that were left out and why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "store/matches.h"

#define USAGE "usage: scout matches JOB_RECORD_ID [--json]\n"
#define RECORD_ID_MAX 64

/* Names of the candidates and the job title, for people reading the output. */
static int names_read(struct store *st, const struct match_run *m, PGresult **names,
		      char *title, size_t title_n, serr *e)
{
	const json_t *x;
	struct buf arr;
	const char **ids = NULL;
	size_t n = 0, i;
	PGresult *r = NULL;
	int rc = -1;

	buf_init(&arr, 0);
	*names = NULL;
	title[0] = '\0';
	ids = calloc(m->n_results + json_array_size(m->excluded) + 1, sizeof(*ids));
	if (!ids) {
		serr_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_results; i++)
		ids[n++] = m->results[i].record_id;
	json_array_foreach(m->excluded, i, x) {
		const char *id = json_string_value(json_object_get(x, "record_id"));
		if (id)
			ids[n++] = id;
	}
	if (store_text_array(&arr, ids, n) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	{
		const char *p[] = { buf_cstr(&arr) };
		if (store_exec(st, "read candidate names",
			       "SELECT record_id, coalesce(full_name, '') FROM normalized_candidates "
			       "WHERE record_id = ANY($1::text[])",
			       1, p, names, e) < 0)
			goto out;
	}
	{
		const char *p[] = { m->job_record_id };
		if (store_exec(st, "read the job title",
			       "SELECT coalesce(job_title, '') FROM normalized_jobs WHERE record_id = $1",
			       1, p, &r, e) < 0)
			goto out;
		if (PQntuples(r) == 1)
			snprintf(title, title_n, "%s", PQgetvalue(r, 0, 0));
	}
	rc = 0;
out:
	PQclear(r);
	free(ids);
	buf_free(&arr);
	return rc;
}

static const char *name_of(const PGresult *names, const char *id)
{
	for (int i = 0; names && i < PQntuples(names); i++)
		if (strcmp(PQgetvalue(names, i, 0), id) == 0)
			return PQgetvalue(names, i, 1);
	return "";
}

static json_t *result_json(const struct match_result *r, size_t rank, const char *name)
{
	return json_pack("{s:I, s:s, s:s, s:f, s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
			 "s:f, s:f}, s:b, s:b, s:b}",
			 "rank", (json_int_t)rank, "candidate_record_id", r->record_id, "name",
			 name, "score", r->score, "components", "vector", r->vector, "skills",
			 r->skills, "comp", r->comp, "location", r->location, "penalty",
			 r->penalty, "boost", r->boost, "v_role", r->v_role, "v_domain",
			 r->v_domain, "v_culture", r->v_culture, "s_coverage", r->s_coverage,
			 "s_semantic", r->s_semantic, "verified", r->verified, "highlighted",
			 r->highlighted, "surfaced_by_highlight", r->surfaced_by_highlight);
}

static int print_json(const struct match_run *m, const PGresult *names, const char *title)
{
	json_t *o, *arr, *ex, *x;
	size_t i;
	int rc = -1;

	o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:O}", "job_record_id", m->job_record_id,
		      "job_title", title, "match_run_id", m->run_id, "job_run_id",
		      *m->job_run_id ? json_string(m->job_run_id) : json_null(), "created_at",
		      m->created_at, "pool_size", (json_int_t)m->pool_size, "weights",
		      m->weights ? m->weights : json_null());
	arr = json_array();
	ex = json_array();
	if (!o || !arr || !ex)
		goto out;
	for (i = 0; i < m->n_results; i++) {
		json_t *r = result_json(&m->results[i], i + 1,
					name_of(names, m->results[i].record_id));
		if (!r || json_array_append_new(arr, r) < 0)
			goto out;
	}
	json_array_foreach(m->excluded, i, x) {
		json_t *c = json_deep_copy(x);
		const char *id = json_string_value(json_object_get(x, "record_id"));

		if (!c || json_object_set_new(c, "name", json_string(name_of(names, id ? id : ""))) < 0 ||
		    json_array_append_new(ex, c) < 0) {
			json_decref(c);
			goto out;
		}
	}
	if (json_object_set(o, "matches", arr) < 0 || json_object_set(o, "excluded", ex) < 0 ||
	    json_dumpf(o, stdout, JSON_INDENT(2)) < 0)
		goto out;
	putchar('\n');
	rc = 0;
out:
	json_decref(arr);
	json_decref(ex);
	json_decref(o);
	return rc;
}

static void print_text(const struct match_run *m, const PGresult *names, const char *title)
{
	const json_t *x;
	size_t i;

	printf("job %s%s%s%s  run %s  %s  pool %zu candidates\n", m->job_record_id,
	       *title ? " (" : "", title, *title ? ")" : "", m->run_id, m->created_at,
	       m->pool_size);
	printf("%4s  %-18s %-22s %6s  %5s %5s %5s %5s %5s %5s  %5s %5s %5s  %5s %5s  %s\n",
	       "RANK", "CANDIDATE", "NAME", "SCORE", "V", "S", "C", "L", "PEN", "BOOST", "ROLE",
	       "DOM", "CULT", "COV", "SEM", "FLAGS");
	for (i = 0; i < m->n_results; i++) {
		const struct match_result *r = &m->results[i];
		char flags[64];

		snprintf(flags, sizeof(flags), "%s%s%s", r->verified ? "verified " : "",
			 r->highlighted ? "highlighted " : "",
			 r->surfaced_by_highlight ? "surfaced-by-highlight" : "");
		printf("%4zu  %-18s %-22.22s %6.3f  %5.3f %5.3f %5.3f %5.3f %5.3f %5.3f  %5.3f "
		       "%5.3f %5.3f  %5.3f %5.3f  %s\n",
		       i + 1, r->record_id, name_of(names, r->record_id), r->score, r->vector,
		       r->skills, r->comp, r->location, r->penalty, r->boost, r->v_role,
		       r->v_domain, r->v_culture, r->s_coverage, r->s_semantic,
		       *flags ? flags : "-");
	}
	if (m->n_results == 0)
		puts("(no candidate matched)");
	if (json_array_size(m->excluded) == 0) {
		puts("excluded near the top: none");
		return;
	}
	puts("excluded near the top:");
	json_array_foreach(m->excluded, i, x) {
		const char *id = json_string_value(json_object_get(x, "record_id"));
		const json_t *sc = json_object_get(x, "score");

		printf("  %-18s %-22.22s %6.3f  %s\n", id ? id : "?", name_of(names, id ? id : ""),
		       json_is_number(sc) ? json_number_value(sc) : NAN,
		       json_string_value(json_object_get(x, "reason"))
			       ? json_string_value(json_object_get(x, "reason"))
			       : "excluded");
	}
}

int cmd_matches(int argc, char **argv)
{
	struct match_run m;
	struct config cfg;
	struct store st;
	PGresult *names = NULL;
	const char *job = NULL;
	char title[256];
	int as_json = 0, found = 0, rc = 1;
	serr e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (argv[i][0] == '-' || job)
			goto usage;
		else
			job = argv[i];
	}
	if (!job)
		goto usage;
	if (strlen(job) > RECORD_ID_MAX) {
		fprintf(stderr, "scout: '%.64s...' is not a job record id (at most %d characters)\n",
			job, RECORD_ID_MAX);
		return 2;
	}
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	match_run_init(&m);
	if (matches_latest(&st, job, &m, &found, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (!found) {
		fprintf(stderr,
			"scout: job '%s' has no stored matches; rank it with 'scout job run "
			"matchmaking_job --partition %s'\n",
			job, job);
		goto out;
	}
	if (names_read(&st, &m, &names, title, sizeof(title), &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (as_json) {
		if (print_json(&m, names, title) < 0) {
			fputs("scout: out of memory printing the matches\n", stderr);
			goto out;
		}
	} else {
		print_text(&m, names, title);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	PQclear(names);
	match_run_free(&m);
	store_close(&st);
	config_free(&cfg);
	return rc;
usage:
	fputs(USAGE, stderr);
	return 2;
}
