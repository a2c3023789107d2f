/* Jobs (Customers STT), their Notion pages and the ATS rows of the sample base (see generate_internal.h). */
#include "sim/generate_internal.h"

#include <stdio.h>
#include <string.h>

#define JOBS_CREATED_FROM_MS 1735689600000LL /* 2025-01-01 */
#define JOBS_CREATED_SPAN_MS (300LL * 24 * 3600 * 1000)
#define JOBS_ATS_FIELD "ATS"

static int set_str(json_t *f, const char *k, const char *v)
{
	return json_object_set_new(f, k, json_string(v));
}

/* Add id to the link array f[field], once. */
static int add_link(json_t *fields, const char *field, const char *id)
{
	json_t *arr = json_object_get(fields, field), *v;
	size_t i;

	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(fields, field, arr) < 0)
			return -1;
	}
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 0;
	return json_array_append_new(arr, json_string(id));
}

static const char *rec_id(const json_t *rec)
{
	return json_string_value(json_object_get(rec, "id"));
}

static json_t *rec_fields(const json_t *rec)
{
	return json_object_get(rec, "fields");
}

/* Link an ATS row to a candidate in one stage column, and the candidate back. */
static int link_stage(struct gen *g, json_t *row, const char *ats_field, size_t cand)
{
	json_t *t = json_array_get(g->talent, cand);
	const char *inverse = sample_talent_inverse(ats_field);

	if (!t || !inverse)
		return -1;
	if (add_link(rec_fields(row), ats_field, rec_id(t)) < 0 ||
	    add_link(rec_fields(t), inverse, rec_id(row)) < 0)
		return -1;
	return 0;
}

/* A random candidate not marked Fraud, or -1 when there is none. */
static long pick_candidate(struct gen *g)
{
	size_t n = json_array_size(g->talent);

	for (int tries = 0; n && tries < 64; tries++) {
		size_t c = rng_index(&g->r, n);
		if (!g->fraud[c])
			return (long)c;
	}
	return -1;
}

static int link_some(struct gen *g, json_t *row, const char *field, int lo, int hi)
{
	int n = rng_int(&g->r, lo, hi);

	for (int i = 0; i < n; i++) {
		long c = pick_candidate(g);
		if (c >= 0 && link_stage(g, row, field, (size_t)c) < 0)
			return -1;
	}
	return 0;
}

static void job_profile(struct gen *g, int idx, struct gen_job *j)
{
	struct rng *r = &g->r;
	const struct region *reg;
	size_t start;

	memset(j, 0, sizeof(*j));
	do
		j->arch = &gen_archetypes[rng_index(r, gen_narchetypes)];
	while (!j->arch->engineering && rng_chance(r, 60));
	j->company = gen_hiring_companies[(size_t)idx % gen_nhiring_companies];
	j->title = j->arch->job_titles[rng_index(r, 3)];
	/* hiring teams sit mostly in Europe and the Americas */
	reg = &gen_regions[rng_chance(r, 70) ? rng_index(r, 4) : rng_index(r, gen_nregions)];
	j->place = &reg->places[rng_index(r, reg->nplaces)];
	j->setup = gen_work_setups[rng_index(r, gen_nwork_setups)];
	j->senior = rng_int(r, 1, 3);
	j->salary_min = (60000 + j->senior * 30000 + rng_int(r, 0, 20) * 1000) / 5000 * 5000;
	j->salary_max = j->salary_min * 13 / 10 / 5000 * 5000;
	j->nmust = (size_t)rng_int(r, 3, 5);
	start = rng_index(r, 2);
	for (size_t i = 0; i < j->nmust; i++)
		j->must[i] = j->arch->skills[(start + i) % 6];
	j->nnice = (size_t)rng_int(r, 2, 3);
	for (size_t i = 0; i < j->nnice; i++)
		j->nice[i] = j->arch->skills[6 + (start + 2 * i) % 6];
}

/* A notion.so / notion.site link in one of the shapes recruiters paste. */
static void notion_link(struct rng *r, const struct gen_job *j, const char *hex, char *out,
			size_t outsz)
{
	char ws[64], slug[160];

	gen_ascii_slug(j->company, 0, ws, sizeof(ws));
	gen_ascii_slug(j->title, '-', slug, sizeof(slug));
	switch (rng_int(r, 0, 3)) {
	case 0:
		snprintf(out, outsz, "https://www.notion.so/%s/%s-%s", ws, slug, hex);
		break;
	case 1:
		snprintf(out, outsz, "https://%s.notion.site/%s-%s", ws, slug, hex);
		break;
	case 2:
		snprintf(out, outsz, "https://www.notion.so/%s-%s?pvs=4", slug, hex);
		break;
	default:
		snprintf(out, outsz, "https://www.notion.so/%s/%s", ws, hex);
		break;
	}
}

static int add_job(struct gen *g, int idx, int *long_page_left, serr *e)
{
	const struct config *cf = g->cfg;
	const struct region *reg = &gen_regions[rng_index(&g->r, gen_nregions)];
	const char *first = reg->first[rng_index(&g->r, reg->nfirst)];
	const char *last = reg->last[rng_index(&g->r, reg->nlast)];
	struct gen_job j;
	struct buf text;
	char name[100], dom[64], mail[160], web[160], hex[33], link[512], title[256];
	json_t *fields = json_object(), *rec = NULL, *blocks = NULL;
	int64_t created = JOBS_CREATED_FROM_MS +
			  JOBS_CREATED_SPAN_MS * idx / (g->o->jobs ? g->o->jobs : 1);
	int rc = -1;

	buf_init(&text, 0);
	job_profile(g, idx, &j);
	gen_ascii_slug(j.company, 0, dom, sizeof(dom));
	gen_ascii_slug(first, 0, mail, sizeof(mail));
	snprintf(name, sizeof(name), "%s %s", first, last);
	snprintf(mail + strlen(mail), sizeof(mail) - strlen(mail), "@%s.io", dom);
	snprintf(web, sizeof(web), "https://www.%s.io", dom);
	if (!fields || set_str(fields, cf->j_company, j.company) < 0 ||
	    set_str(fields, cf->j_full_name, name) < 0 || set_str(fields, cf->j_mail, mail) < 0 ||
	    set_str(fields, cf->j_website, web) < 0 || set_str(fields, cf->j_title, j.title) < 0 ||
	    set_str(fields, cf->j_work_setup, j.setup) < 0 ||
	    set_str(fields, cf->j_timezone, j.place->tz) < 0)
		goto oom;
	if (idx % 2 == 0) {
		/* about half the descriptions live in Notion */
		for (int i = 0; i < 4; i++)
			snprintf(hex + 8 * i, 9, "%08x", (unsigned)(rng_next(&g->r) >> 32));
		notion_link(&g->r, &j, hex, link, sizeof(link));
		snprintf(title, sizeof(title), "%s at %s", j.title, j.company);
		blocks = gen_jd_blocks(&g->r, &j, *long_page_left);
		*long_page_left = 0;
		if (!blocks || set_str(fields, cf->j_jd_link, link) < 0 ||
		    json_array_append_new(g->pages, json_pack("{s:s, s:s, s:o}", "id", hex, "title",
							       title, "blocks", blocks)) < 0)
			goto oom;
	} else {
		if (gen_jd_text(&g->r, &j, &text) < 0 || set_str(fields, cf->j_jd_text, text.data) < 0)
			goto oom;
	}
	rec = gen_new_record(&g->ids, created, fields);
	fields = NULL;
	if (!rec || json_array_append_new(g->jobs, rec) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory generating job %d", idx);
out:
	json_decref(fields);
	buf_free(&text);
	return rc;
}

/* One ATS row for a job, with talents spread over the stages its status implies. */
static int add_ats_row(struct gen *g, size_t job_idx, int first_row, serr *e)
{
	static const char *const statuses[] = { "Sourcing", "Initial Recruiting",
						"Ongoing Recruiting", "Client Introduction",
						"In Interview", "Offer", "Hired", "On Hold" };
	const struct config *cf = g->cfg;
	json_t *job = json_array_get(g->jobs, job_idx), *fields = json_object(), *row = NULL;
	const char *status = statuses[rng_index(&g->r, sizeof(statuses) / sizeof(statuses[0]))];
	int stage = 0;
	int64_t created = JOBS_CREATED_FROM_MS + JOBS_CREATED_SPAN_MS * (int64_t)job_idx /
						 (g->o->jobs ? g->o->jobs : 1) + 3600 * 1000;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i], status) == 0)
			stage = (int)i;
	if (!fields ||
	    set_str(fields, cf->a_open_position,
		    json_string_value(json_object_get(rec_fields(job), cf->j_title))) < 0 ||
	    set_str(fields, cf->a_job_status, status) < 0 ||
	    json_object_set_new(fields, cf->a_job, json_pack("[s]", rec_id(job))) < 0)
		goto oom;
	row = gen_new_record(&g->ids, created, fields);
	fields = NULL; /* the record owns it now */
	if (!row || json_array_append_new(g->ats, row) < 0)
		goto oom;
	if (add_link(rec_fields(job), JOBS_ATS_FIELD, rec_id(row)) < 0)
		goto oom;
	/* an earlier AI run left suggestions on the first row */
	if (first_row && link_some(g, row, cf->a_potential_fit, 3, 3) < 0)
		goto oom;
	if (link_some(g, row, cf->a_shortlisted, 0, 3) < 0 ||
	    link_some(g, row, cf->a_ai_rejection, 0, 2) < 0 ||
	    link_some(g, row, cf->a_talent_rejected, 0, 1) < 0)
		goto oom;
	if (stage >= 3 && (link_some(g, row, cf->a_client_intro, 1, 2) < 0 ||
			   link_some(g, row, cf->a_intro_rejected, 0, 1) < 0))
		goto oom;
	if (stage >= 4 && stage <= 6 &&
	    (link_some(g, row, cf->a_interview1, 1, 2) < 0 ||
	     link_some(g, row, cf->a_interview2, 0, 1) < 0 ||
	     link_some(g, row, cf->a_assignment, 0, 1) < 0 ||
	     link_some(g, row, cf->a_interview_rejected, 0, 1) < 0))
		goto oom;
	if (stage == 5 &&
	    set_str(rec_fields(row), cf->a_negotiations, "Offer sent, waiting for the candidate's answer") < 0)
		goto oom;
	if (stage == 6 && link_some(g, row, cf->a_hired, 1, 1) < 0)
		goto oom;
	if (stage == 7 && link_some(g, row, cf->a_on_hold, 1, 2) < 0)
		goto oom;
	return 0;
oom:
	json_decref(fields);
	return serr_set(e, "out of memory generating the ats row of job %zu", job_idx);
}

int gen_jobs_and_ats(struct gen *g, serr *e)
{
	int long_page_left = 1;

	for (int i = 0; i < g->o->jobs; i++)
		if (add_job(g, i, &long_page_left, e) < 0)
			return -1;
	/* two jobs in three have an ATS row already; scout creates the others */
	for (size_t i = 0; i < json_array_size(g->jobs); i++)
		if (i % 3 != 2 && add_ats_row(g, i, i == 0, e) < 0)
			return -1;
	return 0;
}
