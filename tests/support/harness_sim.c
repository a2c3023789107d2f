/* The in-process simulator for tests (see harness_sim.h). */
#include "harness_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/http.h"

void harness_sim_opts_init(struct harness_sim_opts *o)
{
	o->penalty_ms = 1000;
	o->airtable_rate = 5;
	o->offset_ttl_ms = 300000;
	o->notion_rate = 3;
	o->load_small_base = 1;
}

static json_t *choices(const char *const *names)
{
	json_t *arr = json_array();

	for (; arr && *names; names++)
		json_array_append_new(arr, json_pack("{s:s}", "name", *names));
	return json_pack("{s:o}", "choices", arr);
}

static json_t *talent_table(void)
{
	static const char *const status[] = { "Lead", "Joined Talent Pool", "Actively looking",
					      "In interview process", "Hired", "No interest",
					      "Unresponsive", "Fraud", "Recently Hired (not STT)", NULL };
	static const char *const skills[] = { "Rust", "Go", "Python", "TypeScript", "SQL", NULL };
	/* "%PDF-1.4 tiny" */
	static const char cv[] = "JVBERi0xLjQgdGlueQ==";

	return json_pack(
		"{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, "
		"{s:s, s:s, s:o}, {s:s, s:s, s:o}, {s:s, s:s, s:{s:i}}, {s:s, s:s}, {s:s, s:s}, "
		"{s:s, s:s}, {s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s, s:s}}], "
		"s:[{s:s, s:s, s:{s:s, s:s, s:s, s:[s,s], s:s, s:i, s:b, s:[{s:s, s:s, s:s}]}}, "
		"{s:s, s:s, s:{s:s, s:s, s:[s], s:s}}, "
		"{s:s, s:s, s:{s:s, s:s}}]}",
		"id", HARNESS_TALENT, "name", "Talent", "fields",
		/* fields */
		"name", "Full Name", "type", "singleLineText",
		"name", "Mail", "type", "email",
		"name", "Location", "type", "singleLineText",
		"name", "Professional Summary", "type", "multilineText",
		"name", "CV", "type", "multipleAttachments",
		"name", "Skills", "type", "multipleSelects", "options", choices(skills),
		"name", "Job Status", "type", "singleSelect", "options", choices(status),
		"name", "Ranking", "type", "rating", "options", "max", 5,
		"name", "Highlight Talent", "type", "checkbox",
		"name", "(N) Years Of Experience", "type", "number",
		"name", "Last Modified", "type", "lastModifiedTime",
		"name", "Job Match", "type", "multipleRecordLinks", "options", "linkedTableId",
		HARNESS_ATS, "inverseField", "Potential Talent Fit AI",
		"name", "AI Rejected In", "type", "multipleRecordLinks", "options", "linkedTableId",
		HARNESS_ATS, "inverseField", "Recruiter AI Result Rejection",
		"records",
		"id", HARNESS_ADA, "createdTime", "2026-01-02T03:04:05.000Z", "fields", "Full Name",
		"Ada Lovelace", "Mail", "ada@example.com", "Professional Summary",
		"Analytical engines and Rust.", "Skills", "Rust", "SQL", "Job Status",
		"Actively looking", "Ranking", 5, "Highlight Talent", 1, "CV", "filename", "ada.pdf",
		"type", "application/pdf", "data_base64", cv,
		"id", HARNESS_GRACE, "createdTime", "2026-01-03T03:04:05.000Z", "fields", "Full Name",
		"Grace Hopper", "Location", "Arlington", "Skills", "Go", "Job Status", "Lead",
		"id", HARNESS_LINUS, "createdTime", "2026-01-04T03:04:05.000Z", "fields", "Full Name",
		"Linus Torvalds", "Job Status", "Fraud");
}

static json_t *jobs_table(void)
{
	return json_pack(
		"{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, "
		"{s:s, s:s, s:{s:s, s:s}}], "
		"s:[{s:s, s:s, s:{s:s, s:s, s:s, s:b}}, {s:s, s:s, s:{s:s, s:s, s:s}}]}",
		"id", HARNESS_JOBS, "name", "Customers STT", "fields",
		"name", "Company", "type", "singleLineText",
		"name", "Hiring Job Title", "type", "singleLineText",
		"name", "Job Description Link", "type", "url",
		"name", "Job Description", "type", "multilineText",
		"name", "Start Matchmaking", "type", "checkbox",
		"name", "ATS", "type", "multipleRecordLinks", "options", "linkedTableId", HARNESS_ATS,
		"inverseField", "Job", "records",
		"id", HARNESS_JOB_RUST, "createdTime", "2026-01-05T00:00:00.000Z", "fields", "Company",
		"Ferrous Ltd", "Hiring Job Title", "Senior Rust Engineer", "Job Description Link",
		"https://www.notion.so/Senior-Rust-Engineer-" HARNESS_PAGE, "Start Matchmaking", 1,
		"id", HARNESS_JOB_DATA, "createdTime", "2026-01-06T00:00:00.000Z", "fields", "Company",
		"Tabular Inc", "Hiring Job Title", "Data Engineer", "Job Description",
		"Build pipelines in Python and SQL.");
}

static json_t *ats_table(void)
{
	static const char *const status[] = { "Sourcing", "Initial Recruiting", "Ongoing Recruiting",
					      "Client Introduction", "In Interview", "Offer",
					      "Probation period", "Hired", "On Hold", "Backlog",
					      "Position closed", "Disqualified", NULL };

	return json_pack(
		"{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s, s:o}, {s:s, s:s, s:{s:s, s:s}}, "
		"{s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s}}], "
		"s:[{s:s, s:s, s:{s:s, s:s, s:[s], s:[s,s]}}]}",
		"id", HARNESS_ATS, "name", "ATS", "fields",
		"name", "Open Position (Job Title)", "type", "singleLineText",
		"name", "Job Status", "type", "singleSelect", "options", choices(status),
		"name", "Job", "type", "multipleRecordLinks", "options", "linkedTableId", HARNESS_JOBS,
		"inverseField", "ATS",
		"name", "Potential Talent Fit AI", "type", "multipleRecordLinks", "options",
		"linkedTableId", HARNESS_TALENT, "inverseField", "Job Match",
		"name", "Recruiter AI Result Rejection", "type", "multipleRecordLinks", "options",
		"linkedTableId", HARNESS_TALENT, "inverseField", "AI Rejected In",
		"name", "Shortlisted Talent", "type", "multipleRecordLinks", "options",
		"linkedTableId", HARNESS_TALENT, "records",
		"id", HARNESS_ATS_RUST, "createdTime", "2026-01-07T00:00:00.000Z", "fields",
		"Open Position (Job Title)", "Senior Rust Engineer", "Job Status", "Sourcing", "Job",
		HARNESS_JOB_RUST, "Potential Talent Fit AI", HARNESS_ADA, HARNESS_GRACE);
}

static json_t *notion_pages(void)
{
	return json_pack(
		"{s:[{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s, s:[{s:s, s:s}]}, "
		"{s:s, s:[{s:s}, {s:s, s:b}]}]}]}",
		"pages", "id", HARNESS_PAGE, "title", "Senior Rust Engineer", "blocks",
		"type", "heading_2", "text", "About the role",
		"type", "paragraph", "text", "We build databases in Rust.",
		"type", "bulleted_list_item", "text", "Rust", "children", "type", "paragraph", "text",
		"five years or more",
		"type", "paragraph", "rich_text", "text", "Remote, ", "text", "EU time zones", "bold", 1);
}

json_t *harness_sim_small_base(void)
{
	return json_pack("{s:s, s:s, s:[o, o, o], s:o}", "id", HARNESS_SIM_BASE, "name",
			 "Harness Recruiting", "tables", talent_table(), jobs_table(), ats_table(),
			 "notion", notion_pages());
}

json_t *harness_sim_numbered_table(const char *id, const char *name, int n)
{
	json_t *recs = json_array();

	for (int i = 0; recs && i < n; i++) {
		char person[32];
		snprintf(person, sizeof(person), "Person %04d", i);
		json_array_append_new(recs, json_pack("{s:{s:s, s:i}}", "fields", "Name", person,
						       "Number", i));
	}
	return json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:o}", "id", id, "name", name,
			 "fields", "name", "Name", "type", "singleLineText", "name", "Number", "type",
			 "number", "records", recs);
}

struct sim *harness_sim_start(const struct harness_sim_opts *ho)
{
	struct harness_sim_opts d;
	struct sim_opts o;
	struct sim *s;
	json_t *base;
	serr e;

	if (!ho) {
		harness_sim_opts_init(&d);
		ho = &d;
	}
	if (http_global_init(&e) < 0) {
		fprintf(stderr, "harness: %s\n", e.msg);
		return NULL;
	}
	sim_opts_init(&o);
	o.port = 0;
	o.api_key = HARNESS_SIM_KEY;
	o.penalty_ms = ho->penalty_ms;
	o.airtable_rate = ho->airtable_rate;
	o.offset_ttl_ms = ho->offset_ttl_ms;
	o.notion_rate = ho->notion_rate;
	o.quiet = 1;
	s = sim_start(&o, &e);
	if (!s) {
		fprintf(stderr, "harness: cannot start the simulator: %s\n", e.msg);
		return NULL;
	}
	if (!ho->load_small_base)
		return s;
	base = harness_sim_small_base();
	if (!base || sim_load_base(s, base, &e) < 0) {
		fprintf(stderr, "harness: cannot load the small base: %s\n",
			base ? e.msg : "json_pack failed");
		json_decref(base);
		sim_stop(s);
		return NULL;
	}
	json_decref(base);
	return s;
}

void harness_sim_stop(struct sim *s)
{
	sim_stop(s);
}

int harness_sim_call(struct sim *s, const char *method, const char *path_query, const char *body,
		     const char *bearer, const char *header, long timeout_ms,
		     struct harness_sim_reply *out)
{
	struct http_client c;
	struct http_request rq;
	struct http_response rs;
	struct buf url;
	serr e;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	buf_init(&url, 4 * 1024 * 1024);
	if (buf_printf(&url, "%s%s", sim_url(s), path_query) < 0)
		goto out;
	if (http_client_init(&c, &e) < 0)
		goto out;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url.data;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	rq.bearer = bearer;
	rq.headers[0] = header;
	rq.timeout_ms = timeout_ms ? timeout_ms : 20000;
	http_response_init(&rs);
	if (http_client_do(&c, &rq, &rs, &e) == 0) {
		json_error_t je;
		out->status = rs.status;
		out->retry_after = rs.retry_after_s;
		out->len = rs.body.len;
		out->body = buf_detach(&rs.body);
		if (out->body && out->len)
			out->json = json_loadb(out->body, out->len, 0, &je);
		rc = 0;
	} else {
		out->transport = rs.transport;
		out->timed_out = rs.timed_out;
	}
	http_response_free(&rs);
	http_client_free(&c);
out:
	buf_free(&url);
	return rc;
}

int harness_sim_airtable(struct sim *s, const char *method, const char *path_query,
			 const char *body, struct harness_sim_reply *out)
{
	return harness_sim_call(s, method, path_query, body, HARNESS_SIM_KEY, NULL, 0, out);
}

int harness_sim_notion(struct sim *s, const char *path_query, struct harness_sim_reply *out)
{
	return harness_sim_call(s, "GET", path_query, NULL, HARNESS_SIM_KEY,
				"Notion-Version: " HARNESS_NOTION_VERSION, 0, out);
}

void harness_sim_reply_free(struct harness_sim_reply *r)
{
	json_decref(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *harness_sim_error_type(const struct harness_sim_reply *r)
{
	json_t *err = json_object_get(r->json, "error");

	if (json_is_string(err))
		return json_string_value(err);
	if (json_is_object(err))
		return json_string_value(json_object_get(err, "type"));
	err = json_array_get(json_object_get(r->json, "errors"), 0);
	return json_string_value(json_object_get(err, "error"));
}
