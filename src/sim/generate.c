/* The sample-base generator: tables, records, CVs and Notion pages from a seed (see generate.h). */
#include "sim/generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/util.h"
#include "llm/normalize_schema.h"
#include "pipeline/syncback.h"
#include "sim/generate_internal.h"
#include "sim/pdfgen.h"

#define CREATED_FROM_MS 1717200000000LL /* 2024-06-01: the base's first record */
#define CREATED_SPAN_MS (540LL * 24 * 3600 * 1000)

/*
 * Every ATS link-to-Talent field and the Talent field that holds its
 * inverse. The seed names two of them (Job Match, In Interview); the others
 * are named after the ATS column they mirror.
 */
static const struct {
	const char *ats;
	const char *talent;
} talent_links[] = {
	{ "Potential Talent Fit AI", "Job Match" },
	{ "Recruiter AI Result Rejection", "ATS: Recruiter AI Result Rejection" },
	{ "Shortlisted Talent", "ATS: Shortlisted Talent" },
	{ "Client Introduction", "ATS: Client Introduction" },
	{ "In Interview 1", "In Interview" },
	{ "In Interview 2", "ATS: In Interview 2" },
	{ "In Interview 3", "ATS: In Interview 3" },
	{ "In Interview 4", "ATS: In Interview 4" },
	{ "Interview: Assignment", "ATS: Interview: Assignment" },
	{ "Hired", "ATS: Hired" },
	{ "Introduction Rejected", "ATS: Introduction Rejected" },
	{ "Interview Rejected", "ATS: Interview Rejected" },
	{ "Assignment Rejected", "ATS: Assignment Rejected" },
	{ "Negotiations Rejection", "ATS: Negotiations Rejection" },
	{ "Talent Rejected Job", "ATS: Talent Rejected Job" },
	{ "Considered Talent (Job On Hold)", "ATS: Considered Talent (Job On Hold)" },
};

/* The Customers STT field holding the inverse of the ATS "Job" link. */
#define JOBS_ATS_FIELD "ATS"

const char *sample_talent_inverse(const char *ats_field)
{
	for (size_t i = 0; i < COUNT(talent_links); i++)
		if (strcmp(talent_links[i].ats, ats_field) == 0)
			return talent_links[i].talent;
	return NULL;
}

void sample_opts_init(struct sample_opts *o)
{
	o->seed = 1;
	o->candidates = 300;
	o->jobs = 12;
	o->base_id = "appScoutSample01";
	o->with_pdfs = 1;
	o->oversized_bytes = (size_t)21 * 1024 * 1024;
}

/* ---- schema ---- */

static json_t *fld(const char *name, const char *type)
{
	return json_pack("{s:s, s:s}", "name", name, "type", type);
}

static json_t *fld_choices(const char *name, const char *type, const char *const *choices,
			   size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s}", "name", choices[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr ? json_pack("{s:s, s:s, s:{s:o}}", "name", name, "type", type, "options",
			       "choices", arr)
		   : NULL;
}

static json_t *fld_link(const char *name, const char *table, const char *inverse)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", name, "type", "multipleRecordLinks",
			 "options", "linkedTableId", table, "inverseField", inverse);
}

static int push(json_t *arr, json_t *v)
{
	return v ? json_array_append_new(arr, v) : -1;
}

/*
 * The "(N)" fields scout writes back after normalization, named as the
 * config names them, with the types normalize_*_n_fields[] gives them
 * (select options and number precision as the sync-back writes them),
 * empty at generation: the simulator accepts scout's writes to them and
 * rejects fields a base lacks.
 */
static json_t *n_field(const struct config *c, const struct normalize_n_field *nf)
{
	const char *const *choices, *name = normalize_n_column(c, nf);
	size_t n;

	if (strcmp(nf->airtable_type, "singleSelect") == 0) {
		choices = syncback_select_choices(nf, &n);
		return choices ? fld_choices(name, nf->airtable_type, choices, n) : NULL;
	}
	if (strcmp(nf->airtable_type, "number") == 0)
		return json_pack("{s:s, s:s, s:{s:i}}", "name", name, "type", "number", "options",
				 "precision", syncback_number_precision(nf));
	return fld(name, nf->airtable_type);
}

static int add_n_fields(const struct config *c, json_t *fields, const struct normalize_n_field *nf,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (push(fields, n_field(c, &nf[i])) < 0)
			return -1;
	return 0;
}

static int add_normalized_talent_fields(const struct config *c, json_t *fields)
{
	return add_n_fields(c, fields, normalize_talent_n_fields, normalize_talent_n_count);
}

static int add_normalized_job_fields(const struct config *c, json_t *fields)
{
	return add_n_fields(c, fields, normalize_job_n_fields, normalize_job_n_count);
}

static json_t *talent_fields(const struct config *c)
{
	const char *desired[32];
	size_t ndesired = gen_desired_categories(desired, COUNT(desired));
	json_t *f = json_array();

	if (!f || push(f, fld(c->f_full_name, "singleLineText")) < 0 ||
	    push(f, fld(c->f_mail, "email")) < 0 ||
	    push(f, fld(c->f_telegram, "singleLineText")) < 0 ||
	    push(f, fld(c->f_location, "singleLineText")) < 0 ||
	    push(f, fld(c->f_summary, "multilineText")) < 0 ||
	    push(f, fld(c->f_cv, "multipleAttachments")) < 0 ||
	    push(f, fld(c->f_proof_of_work, "multilineText")) < 0 ||
	    push(f, fld(c->f_linkedin, "url")) < 0 || push(f, fld(c->f_github, "url")) < 0 ||
	    push(f, fld(c->f_x_profile, "url")) < 0 ||
	    push(f, fld_choices(c->f_talent_category, "multipleSelects", gen_categories,
				gen_ncategories)) < 0 ||
	    push(f, fld_choices(c->f_experience_levels, "multipleSelects", gen_levels,
				gen_nlevels)) < 0 ||
	    push(f, fld_choices(c->f_desired_category, "multipleSelects", desired, ndesired)) < 0 ||
	    push(f, fld_choices(c->f_skills, "multipleSelects", gen_skills, gen_nskills)) < 0 ||
	    push(f, json_pack("{s:s, s:s, s:{s:i, s:s, s:s}}", "name", c->f_ranking, "type", "rating",
			      "options", "max", 5, "icon", "star", "color", "yellowBright")) < 0 ||
	    push(f, json_pack("{s:s, s:s, s:{s:i}}", "name", c->f_overall_rating, "type", "number",
			      "options", "precision", 1)) < 0 ||
	    push(f, fld(c->f_highlight, "checkbox")) < 0 ||
	    push(f, fld_choices(c->f_job_status, "singleSelect", gen_job_statuses,
				gen_njob_statuses)) < 0 ||
	    push(f, fld(c->f_fraud_image, "multipleAttachments")) < 0)
		goto fail;
	for (size_t i = 0; i < COUNT(talent_links); i++)
		if (push(f, fld_link(talent_links[i].talent, c->ats_table, talent_links[i].ats)) < 0)
			goto fail;
	if (add_normalized_talent_fields(c, f) < 0)
		goto fail;
	return f;
fail:
	json_decref(f);
	return NULL;
}

static json_t *job_fields(const struct config *c)
{
	json_t *f = json_array();

	if (!f || push(f, fld(c->j_company, "singleLineText")) < 0 ||
	    push(f, fld(c->j_full_name, "singleLineText")) < 0 || push(f, fld(c->j_mail, "email")) < 0 ||
	    push(f, fld(c->j_website, "url")) < 0 || push(f, fld(c->j_jd_link, "url")) < 0 ||
	    push(f, fld(c->j_jd_text, "multilineText")) < 0 ||
	    push(f, fld(c->j_title, "singleLineText")) < 0 ||
	    push(f, fld_choices(c->j_work_setup, "singleSelect", gen_work_setups, gen_nwork_setups)) < 0 ||
	    push(f, fld(c->j_timezone, "singleLineText")) < 0 ||
	    push(f, fld(c->j_start_matchmaking, "checkbox")) < 0 ||
	    push(f, fld_link(JOBS_ATS_FIELD, c->ats_table, c->a_job)) < 0 ||
	    add_normalized_job_fields(c, f) < 0) {
		json_decref(f);
		return NULL;
	}
	return f;
}

static json_t *ats_fields(const struct config *c)
{
	json_t *f = json_array();

	if (!f || push(f, fld(c->a_open_position, "singleLineText")) < 0 ||
	    push(f, fld_choices(c->a_job_status, "singleSelect", gen_ats_statuses,
				gen_nats_statuses)) < 0 ||
	    push(f, fld_link(c->a_job, c->jobs_table, JOBS_ATS_FIELD)) < 0)
		goto fail;
	for (size_t i = 0; i < COUNT(talent_links); i++)
		if (push(f, fld_link(talent_links[i].ats, c->talent_table, talent_links[i].talent)) < 0)
			goto fail;
	if (push(f, fld(c->a_negotiations, "multilineText")) < 0 ||
	    push(f, fld(c->a_run_ai, "checkbox")) < 0)
		goto fail;
	return f;
fail:
	json_decref(f);
	return NULL;
}

/* ---- records ---- */

static void record_id(struct rng *r, char out[18])
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	memcpy(out, "rec", 3);
	for (int i = 3; i < 17; i++)
		out[i] = alpha[rng_index(r, sizeof(alpha) - 1)];
	out[17] = '\0';
}

json_t *gen_new_record(struct rng *ids, int64_t created_ms, json_t *fields)
{
	char id[18], iso[32];

	record_id(ids, id);
	iso8601_ms(created_ms, iso);
	return fields ? json_pack("{s:s, s:s, s:o}", "id", id, "createdTime", iso, "fields", fields)
		      : NULL;
}

static json_t *attachment(const char *filename, const struct buf *pdf)
{
	struct buf b64;
	json_t *a = NULL;

	buf_init(&b64, 0);
	if (base64_encode(pdf->data, pdf->len, &b64) == 0)
		a = json_pack("[{s:s, s:s, s:s}]", "filename", filename, "type", "application/pdf",
			      "data_base64", b64.data ? b64.data : "");
	buf_free(&b64);
	return a;
}

enum cv_kind { CV_NONE, CV_OK, CV_CORRUPT, CV_OVERSIZED, CV_SCANNED, CV_ENCRYPTED };

/* Build the PDF for one candidate (or a broken one) and its attachment value. */
static json_t *cv_attachment(struct rng *r, const struct gen_candidate *c, enum cv_kind kind,
			     const char *summary, const struct sample_opts *o, serr *e)
{
	struct buf store, pdf;
	const char *lines[160];
	size_t n = 0;
	char slug[128], fname[160];
	json_t *att = NULL;
	int rc = -1;

	buf_init(&store, 0);
	buf_init(&pdf, 0);
	gen_ascii_slug(c->name, '_', slug, sizeof(slug));
	snprintf(fname, sizeof(fname), "%s_CV.pdf", slug);
	if (gen_cv_lines(r, c, summary, &store) < 0) {
		serr_set(e, "cannot build the cv text of '%s'", c->name);
		goto out;
	}
	for (size_t off = 0; off < store.len && n < COUNT(lines); off += strlen(store.data + off) + 1)
		lines[n++] = store.data + off;
	switch (kind) {
	case CV_CORRUPT:
		snprintf(fname, sizeof(fname), "%s_cv_final_v3.pdf", slug);
		rc = pdfgen_corrupt(rng_next(r), &pdf, e);
		break;
	case CV_OVERSIZED:
		snprintf(fname, sizeof(fname), "%s_portfolio_and_cv.pdf", slug);
		rc = pdfgen_huge(lines, n, o->oversized_bytes, rng_next(r), &pdf, e);
		break;
	case CV_SCANNED:
		snprintf(fname, sizeof(fname), "%s_scan.pdf", slug);
		rc = pdfgen_scanned(rng_next(r), &pdf, e);
		break;
	case CV_ENCRYPTED:
		snprintf(fname, sizeof(fname), "%s_cv_protected.pdf", slug);
		rc = pdfgen_encrypted(lines, n, &pdf, e);
		break;
	default:
		rc = pdfgen_text(lines, n, &pdf, e);
		break;
	}
	if (rc < 0)
		goto out;
	att = attachment(fname, &pdf);
	if (!att)
		serr_set(e, "out of memory encoding the cv of '%s'", c->name);
out:
	buf_free(&store);
	buf_free(&pdf);
	return att;
}

/* Talent Job Status, weighted like a real pool: mostly pool members and active seekers. */
static const char *job_status(struct rng *r)
{
	static const int weight[] = { 7, 40, 30, 6, 3, 4, 4, 3, 3 }; /* order of gen_job_statuses */
	int x = rng_int(r, 0, 99);

	for (size_t i = 0; i < gen_njob_statuses && i < COUNT(weight); i++) {
		if (x < weight[i])
			return gen_job_statuses[i];
		x -= weight[i];
	}
	return gen_job_statuses[1];
}

static int set_str(json_t *f, const char *k, const char *v)
{
	return json_object_set_new(f, k, json_string(v));
}

/* Proof of Work: links with a line about each. */
static int proof_of_work(struct rng *r, const struct gen_candidate *c, struct buf *b)
{
	static const char *const repos[] = { "vault-contracts", "indexer", "zk-playground",
					     "wallet-ui", "node-tools", "dao-dashboard" };
	int n = rng_int(r, 1, 3);

	for (int i = 0; i < n; i++)
		if (buf_printf(b, "%shttps://github.com/%s/%s - %s side project", i ? "\n" : "",
			       c->handle, repos[rng_index(r, COUNT(repos))], c->skills[0]) < 0)
			return -1;
	return 0;
}

static json_t *candidate_fields(struct gen *g, int i, enum cv_kind kind, serr *e)
{
	const struct config *cf = g->cfg;
	struct gen_candidate c;
	struct buf summary, pow;
	char mail[200], f[48], l[48], url[256];
	json_t *fields = json_object(), *cv;
	const char *status;
	int minimal;

	buf_init(&summary, 0);
	buf_init(&pow, 0);
	gen_candidate_profile(&g->r, &c);
	/* a few leads are only a name, an email and a LinkedIn profile */
	minimal = kind == CV_NONE && rng_chance(&g->r, 10);
	if (!fields || gen_summary(&g->r, &c, &summary) < 0)
		goto oom;
	gen_ascii_slug(c.first, 0, f, sizeof(f));
	gen_ascii_slug(c.last, 0, l, sizeof(l));
	snprintf(mail, sizeof(mail), "%s.%s@%s", f, l, gen_mail_domains[rng_index(&g->r, gen_nmail_domains)]);
	if (set_str(fields, cf->f_full_name, c.name) < 0 || set_str(fields, cf->f_mail, mail) < 0)
		goto oom;
	snprintf(url, sizeof(url), "https://www.linkedin.com/in/%s", c.handle);
	if ((minimal || rng_chance(&g->r, 85)) && set_str(fields, cf->f_linkedin, url) < 0)
		goto oom;
	if (!minimal) {
		char loc[200];
		snprintf(loc, sizeof(loc), "%s, %s", c.place->city, c.place->country);
		char tg[80];
		snprintf(tg, sizeof(tg), "@%s", c.handle);
		if ((rng_chance(&g->r, 60) && set_str(fields, cf->f_telegram, tg) < 0) ||
		    (rng_chance(&g->r, 95) && set_str(fields, cf->f_location, loc) < 0))
			goto oom;
		if ((kind != CV_OK || rng_chance(&g->r, 85)) &&
		    set_str(fields, cf->f_summary, summary.data) < 0)
			goto oom;
		snprintf(url, sizeof(url), "https://github.com/%s", c.handle);
		if (c.arch->engineering && rng_chance(&g->r, 80) && set_str(fields, cf->f_github, url) < 0)
			goto oom;
		snprintf(url, sizeof(url), "https://x.com/%s", c.handle);
		if (rng_chance(&g->r, 25) && set_str(fields, cf->f_x_profile, url) < 0)
			goto oom;
		if (c.arch->engineering && rng_chance(&g->r, 35) &&
		    (proof_of_work(&g->r, &c, &pow) < 0 || set_str(fields, cf->f_proof_of_work, pow.data) < 0))
			goto oom;
		if (json_object_set_new(fields, cf->f_talent_category, json_pack("[s]", c.arch->category)) < 0 ||
		    json_object_set_new(fields, cf->f_experience_levels, json_pack("[s]", gen_levels[c.level])) < 0)
			goto oom;
		{
			json_t *d = json_pack("[s]", c.arch->desired[0]), *sk = json_array();
			if (d && c.arch->desired[1] && rng_chance(&g->r, 40))
				json_array_append_new(d, json_string(c.arch->desired[1]));
			for (size_t k = 0; sk && k < c.nskills; k++)
				json_array_append_new(sk, json_string(c.skills[k]));
			if (json_object_set_new(fields, cf->f_desired_category, d) < 0 ||
			    json_object_set_new(fields, cf->f_skills, sk) < 0)
				goto oom;
		}
		if (rng_chance(&g->r, 70) &&
		    json_object_set_new(fields, cf->f_ranking, json_integer(rng_int(&g->r, 1, 5))) < 0)
			goto oom;
		if (rng_chance(&g->r, 55) &&
		    json_object_set_new(fields, cf->f_overall_rating,
					json_real(rng_int(&g->r, 40, 98) / 10.0)) < 0)
			goto oom;
		if (rng_chance(&g->r, 6) && json_object_set_new(fields, cf->f_highlight, json_true()) < 0)
			goto oom;
	}
	status = minimal ? "Lead" : job_status(&g->r);
	/* a couple of frauds always, so the fraud paths have something to see */
	if (i == 7 || i == 41)
		status = "Fraud";
	g->fraud[i] = strcmp(status, "Fraud") == 0;
	if (set_str(fields, cf->f_job_status, status) < 0)
		goto oom;
	if (kind != CV_NONE) {
		cv = cv_attachment(&g->r, &c, kind, summary.data, g->o, e);
		if (!cv || json_object_set_new(fields, cf->f_cv, cv) < 0)
			goto fail;
	}
	buf_free(&summary);
	buf_free(&pow);
	return fields;
oom:
	serr_set(e, "out of memory generating candidate %d", i);
fail:
	buf_free(&summary);
	buf_free(&pow);
	json_decref(fields);
	return NULL;
}

/* Which candidates get which CV: most a good one, some none, a few broken ones. */
static void plan_cvs(struct gen *g, enum cv_kind *kinds, int n)
{
	static const enum cv_kind special[] = { CV_CORRUPT, CV_CORRUPT, CV_OVERSIZED, CV_SCANNED,
						CV_ENCRYPTED };

	for (int i = 0; i < n; i++)
		kinds[i] = !g->o->with_pdfs ? CV_NONE : rng_chance(&g->r, 12) ? CV_NONE : CV_OK;
	if (!g->o->with_pdfs || n < 10)
		return;
	for (size_t s = 0; s < COUNT(special); s++) {
		int at;
		if (special[s] == CV_OVERSIZED && !g->o->oversized_bytes)
			continue;
		do
			at = rng_int(&g->r, 0, n - 1);
		while (kinds[at] > CV_OK);
		kinds[at] = special[s];
	}
}

static int gen_candidates(struct gen *g, serr *e)
{
	int n = g->o->candidates;
	enum cv_kind *kinds = calloc((size_t)(n > 0 ? n : 1), sizeof(*kinds));
	int rc = -1;

	if (!kinds) {
		serr_set(e, "out of memory planning %d candidates", n);
		goto out;
	}
	plan_cvs(g, kinds, n);
	for (int i = 0; i < n; i++) {
		int64_t created = CREATED_FROM_MS + CREATED_SPAN_MS * i / (n ? n : 1) +
				  rng_int(&g->r, 0, 3600 * 1000);
		json_t *fields = candidate_fields(g, i, kinds[i], e), *rec;
		if (!fields)
			goto out;
		rec = gen_new_record(&g->ids, created, fields);
		if (!rec || json_array_append_new(g->talent, rec) < 0) {
			serr_set(e, "out of memory adding candidate %d", i);
			goto out;
		}
	}
	rc = 0;
out:
	free(kinds);
	return rc;
}

static int valid_base_id(const char *id)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++)
		if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= 'A' && id[n] <= 'Z') ||
		      (id[n] >= '0' && id[n] <= '9')))
			return 0;
	return n >= 1 && n <= 31;
}

static json_t *table(const char *id, const char *name, json_t *fields, json_t *records)
{
	if (!fields || !records) {
		json_decref(fields);
		json_decref(records);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "id", id, "name", name, "fields", fields, "records",
			 records);
}

json_t *sample_generate(const struct sample_opts *o, serr *e)
{
	struct config cfg;
	struct gen g;
	json_t *base = NULL, *tables;

	memset(&g, 0, sizeof(g));
	if (o->candidates < 0 || o->candidates > 100000 || o->jobs < 0 || o->jobs > 10000) {
		serr_set(e, "sample base wants 0..100000 candidates and 0..10000 jobs, got %d and %d",
			 o->candidates, o->jobs);
		return NULL;
	}
	if (!valid_base_id(o->base_id)) {
		serr_set(e, "sample base id '%.40s' must be 1..31 letters and digits", o->base_id ? o->base_id : "");
		return NULL;
	}
	if (config_init(&cfg, e) < 0)
		return NULL;
	g.o = o;
	g.cfg = &cfg;
	rng_seed(&g.r, o->seed);
	rng_seed(&g.ids, o->seed ^ 0x1D5EEDC0FFEEULL);
	g.talent = json_array();
	g.jobs = json_array();
	g.ats = json_array();
	g.pages = json_array();
	g.fraud = calloc((size_t)o->candidates + 1, sizeof(*g.fraud));
	if (!g.talent || !g.jobs || !g.ats || !g.pages || !g.fraud) {
		serr_set(e, "out of memory starting the sample base");
		goto out;
	}
	if (gen_candidates(&g, e) < 0 || gen_jobs_and_ats(&g, e) < 0)
		goto out;
	tables = json_pack("[o,o,o]",
			   table(cfg.talent_table, "Talent", talent_fields(&cfg), json_incref(g.talent)),
			   table(cfg.jobs_table, "Customers STT", job_fields(&cfg), json_incref(g.jobs)),
			   table(cfg.ats_table, "ATS", ats_fields(&cfg), json_incref(g.ats)));
	if (tables)
		base = json_pack("{s:s, s:s, s:o, s:{s:O}}", "id", o->base_id, "name",
				 "Scout sample base", "tables", tables, "notion", "pages", g.pages);
	if (!base)
		serr_set(e, "out of memory assembling the sample base");
out:
	json_decref(g.talent);
	json_decref(g.jobs);
	json_decref(g.ats);
	json_decref(g.pages);
	free(g.fraud);
	config_free(&cfg);
	return base;
}
