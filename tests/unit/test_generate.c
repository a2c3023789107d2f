/* Unit tests of the sample-base generator: determinism, counts, field types, links, CVs and Notion pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "llm/normalize_schema.h"
#include "notion/notion.h"
#include "pdf/pdf.h"
#include "sim/generate.h"

static json_t *generate(uint64_t seed, int candidates, int jobs, size_t oversized)
{
	struct sample_opts o;
	json_t *b;
	serr e;

	sample_opts_init(&o);
	o.seed = seed;
	o.candidates = candidates;
	o.jobs = jobs;
	o.oversized_bytes = oversized;
	b = sample_generate(&o, &e);
	if (!b)
		fail_msg("generation failed: %s", e.msg);
	return b;
}

static char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(s);
	return s;
}

static json_t *table_named(const json_t *base, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(base, "tables"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0 ||
		    strcmp(json_string_value(json_object_get(t, "id")), name) == 0)
			return t;
	fail_msg("no table '%s'", name);
	return NULL;
}

static json_t *field_def(const json_t *table, const char *name)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(table, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
			return f;
	return NULL;
}

static json_t *record_by_id(const json_t *table, const char *id)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(table, "records"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			return r;
	return NULL;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 decoding into out; -1 on any bad character or length. */
static int b64_decode(const char *s, struct buf *out)
{
	size_t n = strlen(s);

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = s[i + k] == '=' && i + 4 == n && k >= 2 ? 0 : b64_value(s[i + k]);
			if (v[k] < 0)
				return -1;
		}
		unsigned w = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		char o[3] = { (char)(w >> 16), (char)(w >> 8), (char)w };
		size_t take = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
		if (buf_append(out, o, take) < 0)
			return -1;
	}
	return 0;
}

static void same_seed_gives_identical_bases(void **state)
{
	json_t *a = generate(42, 60, 6, 64 * 1024), *b = generate(42, 60, 6, 64 * 1024);
	char *sa = dump(a), *sb = dump(b);

	(void)state;
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}

static void different_seeds_give_different_bases(void **state)
{
	json_t *a = generate(1, 40, 4, 0), *b = generate(2, 40, 4, 0);
	char *sa = dump(a), *sb = dump(b);

	(void)state;
	assert_true(strcmp(sa, sb) != 0);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}

static void defaults_match_the_brief(void **state)
{
	struct sample_opts o;

	(void)state;
	sample_opts_init(&o);
	assert_int_equal(o.candidates, 300);
	assert_int_equal(o.jobs, 12);
	assert_string_equal(o.base_id, "appScoutSample01");
	assert_int_equal(o.with_pdfs, 1);
	assert_true(o.oversized_bytes > (size_t)20 * 1024 * 1024);
}

static void counts_follow_the_options(void **state)
{
	json_t *b = generate(7, 250, 12, 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(b, "id")), "appScoutSample01");
	assert_int_equal(json_array_size(json_object_get(b, "tables")), 3);
	assert_int_equal(json_array_size(json_object_get(table_named(b, "Talent"), "records")), 250);
	assert_int_equal(json_array_size(json_object_get(table_named(b, "Customers STT"), "records")), 12);
	/* two jobs in three come with an ATS row */
	assert_int_equal(json_array_size(json_object_get(table_named(b, "ATS"), "records")), 8);
	assert_int_equal(json_array_size(json_object_get(json_object_get(b, "notion"), "pages")), 6);
	json_decref(b);
}

static int in_choices(const json_t *def, const char *v)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(json_object_get(def, "options"), "choices"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), v) == 0)
			return 1;
	return 0;
}

static int looks_like_email(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at > s && !strchr(at + 1, '@') && strchr(at, '.') && !strpbrk(s, " \t\n");
}

/* One value against its field definition; fails the test with the place named. */
static void check_value(const json_t *base, const json_t *table, const json_t *def,
			const char *rec_id, const json_t *v)
{
	const char *name = json_string_value(json_object_get(def, "name"));
	const char *type = json_string_value(json_object_get(def, "type"));
	const json_t *opts = json_object_get(def, "options");
	size_t i;
	json_t *x;

	if (!strcmp(type, "singleLineText") || !strcmp(type, "multilineText") ||
	    !strcmp(type, "email") || !strcmp(type, "url")) {
		const char *s = json_string_value(v);
		if (!s || !*s)
			fail_msg("%s.%s: not a non-empty string", rec_id, name);
		if (!strcmp(type, "singleLineText") && strchr(s, '\n'))
			fail_msg("%s.%s: single line text has a newline", rec_id, name);
		if (!strcmp(type, "email") && !looks_like_email(s))
			fail_msg("%s.%s: '%s' is not an email", rec_id, name, s);
		if (!strcmp(type, "url") && (!str_starts_with(s, "https://") || strchr(s, ' ')))
			fail_msg("%s.%s: '%s' is not a url", rec_id, name, s);
	} else if (!strcmp(type, "number")) {
		if (!json_is_number(v))
			fail_msg("%s.%s: not a number", rec_id, name);
	} else if (!strcmp(type, "rating")) {
		json_int_t max = json_integer_value(json_object_get(opts, "max"));
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
			fail_msg("%s.%s: rating out of 1..%lld", rec_id, name, (long long)max);
	} else if (!strcmp(type, "checkbox")) {
		/* unchecked boxes are absent, as Airtable sends them */
		if (!json_is_true(v))
			fail_msg("%s.%s: checkbox value must be true when present", rec_id, name);
	} else if (!strcmp(type, "singleSelect")) {
		if (!json_is_string(v) || !in_choices(def, json_string_value(v)))
			fail_msg("%s.%s: not one of the choices", rec_id, name);
	} else if (!strcmp(type, "multipleSelects")) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			fail_msg("%s.%s: empty or not an array", rec_id, name);
		json_array_foreach(v, i, x) {
			if (!json_is_string(x) || !in_choices(def, json_string_value(x)))
				fail_msg("%s.%s: '%s' is not a choice", rec_id, name,
					 json_string_value(x) ? json_string_value(x) : "?");
			for (size_t k = 0; k < i; k++)
				if (json_equal(x, json_array_get(v, k)))
					fail_msg("%s.%s: duplicate choice", rec_id, name);
		}
	} else if (!strcmp(type, "multipleAttachments")) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			fail_msg("%s.%s: empty attachment list", rec_id, name);
		json_array_foreach(v, i, x) {
			struct buf bytes;
			buf_init(&bytes, 0);
			if (!json_is_string(json_object_get(x, "filename")) ||
			    strcmp(json_string_value(json_object_get(x, "type")), "application/pdf") != 0 ||
			    !json_is_string(json_object_get(x, "data_base64")) ||
			    b64_decode(json_string_value(json_object_get(x, "data_base64")), &bytes) < 0 ||
			    bytes.len < 8 || memcmp(bytes.data, "%PDF-", 5) != 0)
				fail_msg("%s.%s: attachment %zu is not a base64 pdf", rec_id, name, i);
			buf_free(&bytes);
		}
	} else if (!strcmp(type, "multipleRecordLinks")) {
		const json_t *lt = table_named(base, json_string_value(json_object_get(opts, "linkedTableId")));
		if (!json_is_array(v) || json_array_size(v) == 0)
			fail_msg("%s.%s: empty link list", rec_id, name);
		json_array_foreach(v, i, x)
			if (!json_is_string(x) || !record_by_id(lt, json_string_value(x)))
				fail_msg("%s.%s: linked record missing", rec_id, name);
	} else {
		fail_msg("%s.%s: unexpected field type '%s'", rec_id, name, type);
	}
	(void)table;
}

static void every_value_is_valid_for_its_field_type(void **state)
{
	json_t *b = generate(11, 120, 9, 64 * 1024), *t, *r;
	json_t *seen = json_object();
	size_t i, k;

	(void)state;
	json_array_foreach(json_object_get(b, "tables"), i, t) {
		json_array_foreach(json_object_get(t, "records"), k, r) {
			const char *id = json_string_value(json_object_get(r, "id"));
			const char *key;
			json_t *v;
			int64_t ms;

			assert_non_null(id);
			assert_int_equal(strlen(id), 17);
			assert_true(str_starts_with(id, "rec"));
			for (const char *p = id + 3; *p; p++)
				assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					    (*p >= '0' && *p <= '9'));
			assert_null(json_object_get(seen, id));
			json_object_set_new(seen, id, json_true());
			assert_int_equal(iso8601_parse(json_string_value(json_object_get(r, "createdTime")), &ms), 0);
			json_object_foreach(json_object_get(r, "fields"), key, v) {
				json_t *def = field_def(t, key);
				if (!def)
					fail_msg("%s: field '%s' is not in the schema", id, key);
				check_value(b, t, def, id, v);
			}
		}
	}
	json_decref(seen);
	json_decref(b);
}

static void links_are_kept_on_both_sides(void **state)
{
	json_t *b = generate(5, 150, 12, 0), *t, *r, *def;
	size_t i, k, d, links = 0;

	(void)state;
	json_array_foreach(json_object_get(b, "tables"), i, t) {
		json_array_foreach(json_object_get(t, "fields"), d, def) {
			const char *name = json_string_value(json_object_get(def, "name"));
			const json_t *opts = json_object_get(def, "options");
			const char *inv = json_string_value(json_object_get(opts, "inverseField"));
			const json_t *lt;
			json_t *invdef;

			if (strcmp(json_string_value(json_object_get(def, "type")), "multipleRecordLinks"))
				continue;
			lt = table_named(b, json_string_value(json_object_get(opts, "linkedTableId")));
			assert_non_null(inv);
			invdef = field_def(lt, inv);
			assert_non_null(invdef);
			assert_string_equal(json_string_value(json_object_get(json_object_get(invdef, "options"), "inverseField")), name);
			json_array_foreach(json_object_get(t, "records"), k, r) {
				json_t *ids = json_object_get(json_object_get(r, "fields"), name), *id;
				size_t x;
				json_array_foreach(ids, x, id) {
					json_t *other = record_by_id(lt, json_string_value(id));
					json_t *back = json_object_get(json_object_get(other, "fields"), inv), *bid;
					size_t y;
					int found = 0;
					json_array_foreach(back, y, bid)
						found |= json_equal(bid, json_object_get(r, "id"));
					if (!found)
						fail_msg("%s.%s -> %s has no link back in '%s'",
							 json_string_value(json_object_get(r, "id")), name,
							 json_string_value(id), inv);
					links++;
				}
			}
		}
	}
	assert_true(links > 20);
	json_decref(b);
}

static void field_names_are_the_configured_defaults(void **state)
{
	struct config c;
	json_t *b = generate(3, 20, 3, 0);
	json_t *talent = table_named(b, "Talent"), *jobs = table_named(b, "Customers STT"),
	       *ats = table_named(b, "ATS");
	serr e;

	(void)state;
	assert_int_equal(config_init(&c, &e), 0);
	assert_string_equal(json_string_value(json_object_get(talent, "id")), c.talent_table);
	assert_string_equal(json_string_value(json_object_get(jobs, "id")), c.jobs_table);
	assert_string_equal(json_string_value(json_object_get(ats, "id")), c.ats_table);
	{
		const char *names[] = { c.f_full_name, c.f_mail, c.f_telegram, c.f_location,
					c.f_summary, c.f_cv, c.f_proof_of_work, c.f_linkedin,
					c.f_github, c.f_x_profile, c.f_talent_category,
					c.f_experience_levels, c.f_desired_category, c.f_skills,
					c.f_ranking, c.f_overall_rating, c.f_highlight, c.f_job_status,
					c.f_fraud_image, c.f_job_match, c.f_in_interview };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!field_def(talent, names[i]))
				fail_msg("Talent lacks '%s'", names[i]);
	}
	{
		const char *names[] = { c.j_company, c.j_full_name, c.j_mail, c.j_website, c.j_jd_link,
					c.j_jd_text, c.j_title, c.j_work_setup, c.j_timezone,
					c.j_start_matchmaking };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!field_def(jobs, names[i]))
				fail_msg("Customers STT lacks '%s'", names[i]);
	}
	{
		const char *names[] = { c.a_open_position, c.a_job_status, c.a_job, c.a_potential_fit,
					c.a_ai_rejection, c.a_shortlisted, c.a_client_intro,
					c.a_interview1, c.a_interview2, c.a_interview3, c.a_interview4,
					c.a_assignment, c.a_negotiations, c.a_hired, c.a_intro_rejected,
					c.a_interview_rejected, c.a_assignment_rejected,
					c.a_negotiations_rejection, c.a_talent_rejected, c.a_on_hold,
					c.a_run_ai };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!field_def(ats, names[i]))
				fail_msg("ATS lacks '%s'", names[i]);
	}
	assert_string_equal(sample_talent_inverse(c.a_potential_fit), c.f_job_match);
	assert_string_equal(sample_talent_inverse(c.a_interview1), c.f_in_interview);
	assert_null(sample_talent_inverse("No Such Field"));
	config_free(&c);
	json_decref(b);
}

static int has_choice(const json_t *def, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(json_object_get(def, "options"), "choices"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return 1;
	return 0;
}

static void check_n_fields(const struct config *c, const json_t *table,
			   const struct normalize_n_field *nf, size_t n)
{
	size_t i;
	json_t *r;

	for (size_t k = 0; k < n; k++) {
		const char *name = normalize_n_column(c, &nf[k]);
		json_t *def = field_def(table, name);
		if (!def)
			fail_msg("'%s' lacks '%s'", json_string_value(json_object_get(table, "name")),
				 name);
		assert_string_equal(json_string_value(json_object_get(def, "type")),
				    nf[k].airtable_type);
		json_array_foreach(json_object_get(table, "records"), i, r)
			assert_null(json_object_get(json_object_get(r, "fields"), name));
	}
}

static void n_fields_exist_with_their_types_and_start_empty(void **state)
{
	json_t *b = generate(3, 20, 3, 0);
	json_t *talent = table_named(b, "Talent"), *jobs = table_named(b, "Customers STT");
	json_t *verification = field_def(talent, "(N) Verification Status");
	struct config c;
	serr e;

	(void)state;
	assert_int_equal(config_init(&c, &e), 0);
	check_n_fields(&c, talent, normalize_talent_n_fields, normalize_talent_n_count);
	check_n_fields(&c, jobs, normalize_job_n_fields, normalize_job_n_count);
	config_free(&c);
	assert_true(has_choice(verification, "unverified"));
	assert_true(has_choice(verification, "verified"));
	for (size_t i = 0; i < normalize_seniority_count; i++) {
		assert_true(has_choice(field_def(talent, "(N) Seniority Level"),
				       normalize_seniority_levels[i]));
		assert_true(has_choice(field_def(jobs, "(N) Seniority Level"),
				       normalize_seniority_levels[i]));
	}
	assert_true(has_choice(field_def(jobs, "(N) Work Setup"), "onsite"));
	json_decref(b);
}

static void pool_looks_like_an_agency_pool(void **state)
{
	json_t *b = generate(9, 300, 12, 0), *r;
	size_t i, pool = 0, fraud = 0, highlight = 0, cv = 0, no_cv = 0, jobs_checked = 0;
	json_t *talent = table_named(b, "Talent");

	(void)state;
	json_array_foreach(json_object_get(talent, "records"), i, r) {
		json_t *f = json_object_get(r, "fields");
		const char *st = json_string_value(json_object_get(f, "Job Status"));
		pool += st && (!strcmp(st, "Joined Talent Pool") || !strcmp(st, "Actively looking"));
		fraud += st && !strcmp(st, "Fraud");
		highlight += json_is_true(json_object_get(f, "Highlight Talent"));
		if (json_object_get(f, "CV"))
			cv++;
		else
			no_cv++;
	}
	json_array_foreach(json_object_get(table_named(b, "Customers STT"), "records"), i, r)
		jobs_checked += json_is_true(json_object_get(json_object_get(r, "fields"), "Start Matchmaking"));
	assert_true(pool > 150);
	assert_true(fraud >= 2 && fraud < 30);
	assert_true(highlight >= 1 && highlight < 40);
	assert_true(cv > 200 && no_cv >= 10);
	assert_int_equal(jobs_checked, 0);
	json_decref(b);
}

static void without_pdfs_no_candidate_has_a_cv(void **state)
{
	struct sample_opts o;
	json_t *b, *r;
	size_t i;
	serr e;

	(void)state;
	sample_opts_init(&o);
	o.candidates = 50;
	o.with_pdfs = 0;
	b = sample_generate(&o, &e);
	assert_non_null(b);
	json_array_foreach(json_object_get(table_named(b, "Talent"), "records"), i, r)
		assert_null(json_object_get(json_object_get(r, "fields"), "CV"));
	json_decref(b);
}

static void cvs_read_back_and_broken_ones_fail_as_planned(void **state)
{
	struct config cfg;
	json_t *b = generate(13, 40, 2, (size_t)21 * 1024 * 1024), *r;
	size_t i, ok = 0, corrupt = 0, big = 0, scanned = 0, locked = 0;
	serr e;

	(void)state;
	assert_int_equal(config_init(&cfg, &e), 0);
	json_array_foreach(json_object_get(table_named(b, "Talent"), "records"), i, r) {
		json_t *f = json_object_get(r, "fields"), *att = json_array_get(json_object_get(f, "CV"), 0);
		const char *fname = json_string_value(json_object_get(att, "filename"));
		struct buf bytes, text;
		enum pdf_status st;
		int rc;

		if (!att)
			continue;
		buf_init(&bytes, 0);
		buf_init(&text, 0);
		assert_int_equal(b64_decode(json_string_value(json_object_get(att, "data_base64")), &bytes), 0);
		rc = pdf_extract_named(&cfg, fname, bytes.data, bytes.len, &text, &st, &e);
		if (strstr(fname, "_cv_final_v3.pdf")) {
			assert_int_equal(st, PDF_CORRUPT);
			corrupt++;
		} else if (strstr(fname, "_portfolio_and_cv.pdf")) {
			assert_int_equal(st, PDF_TOO_LARGE);
			big++;
		} else if (strstr(fname, "_scan.pdf")) {
			assert_int_equal(st, PDF_EMPTY);
			scanned++;
		} else if (strstr(fname, "_cv_protected.pdf")) {
			assert_int_equal(st, PDF_ENCRYPTED);
			locked++;
		} else {
			if (rc != 0)
				fail_msg("cv '%s' did not extract: %s", fname, e.msg);
			assert_non_null(strstr(text.data, json_string_value(json_object_get(f, "Full Name"))));
			assert_non_null(strstr(text.data, "Experience"));
			ok++;
		}
		buf_free(&bytes);
		buf_free(&text);
	}
	assert_int_equal(corrupt, 2);
	assert_int_equal(big, 1);
	assert_int_equal(scanned, 1);
	assert_int_equal(locked, 1);
	assert_true(ok > 20);
	config_free(&cfg);
	json_decref(b);
}

static void notion_links_name_generated_pages(void **state)
{
	json_t *b = generate(17, 30, 12, 0), *r, *p;
	json_t *pages = json_object_get(json_object_get(b, "notion"), "pages");
	size_t i, k, notion_jobs = 0, text_jobs = 0, longest = 0;
	serr e;

	(void)state;
	json_array_foreach(json_object_get(table_named(b, "Customers STT"), "records"), i, r) {
		json_t *f = json_object_get(r, "fields");
		const char *link = json_string_value(json_object_get(f, "Job Description Link"));
		char id[37];
		int found = 0;

		if (!link) {
			assert_true(strlen(json_string_value(json_object_get(f, "Job Description"))) > 200);
			text_jobs++;
			continue;
		}
		if (notion_page_id_from_url(link, id, &e) != 0)
			fail_msg("'%s': %s", link, e.msg);
		json_array_foreach(pages, k, p) {
			char pid[37];
			assert_int_equal(notion_page_id_from_url(json_string_value(json_object_get(p, "id")), pid, &e), 0);
			found |= strcmp(pid, id) == 0;
		}
		assert_true(found);
		notion_jobs++;
	}
	json_array_foreach(pages, k, p) {
		size_t n = json_array_size(json_object_get(p, "blocks"));
		assert_true(strlen(json_string_value(json_object_get(p, "title"))) > 0);
		if (n > longest)
			longest = n;
	}
	assert_int_equal(notion_jobs, 6);
	assert_int_equal(text_jobs, 6);
	assert_true(longest > 100);
	json_decref(b);
}

static void bad_options_are_refused(void **state)
{
	struct sample_opts o;
	serr e;

	(void)state;
	sample_opts_init(&o);
	o.base_id = "app-with-dash";
	assert_null(sample_generate(&o, &e));
	assert_non_null(strstr(e.msg, "letters and digits"));
	sample_opts_init(&o);
	o.candidates = -1;
	assert_null(sample_generate(&o, &e));
	sample_opts_init(&o);
	o.candidates = 0;
	o.jobs = 0;
	json_t *empty = sample_generate(&o, &e);
	assert_non_null(empty);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_gives_identical_bases),
		cmocka_unit_test(different_seeds_give_different_bases),
		cmocka_unit_test(defaults_match_the_brief),
		cmocka_unit_test(counts_follow_the_options),
		cmocka_unit_test(every_value_is_valid_for_its_field_type),
		cmocka_unit_test(links_are_kept_on_both_sides),
		cmocka_unit_test(field_names_are_the_configured_defaults),
		cmocka_unit_test(n_fields_exist_with_their_types_and_start_empty),
		cmocka_unit_test(pool_looks_like_an_agency_pool),
		cmocka_unit_test(without_pdfs_no_candidate_has_a_cv),
		cmocka_unit_test(cvs_read_back_and_broken_ones_fail_as_planned),
		cmocka_unit_test(notion_links_name_generated_pages),
		cmocka_unit_test(bad_options_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
