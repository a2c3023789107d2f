/*
 * What the ingest steps share: the per-run state, the choice of input
 * fields, input hashes and the Airtable half of a candidate's text.
 */
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/util.h"
#include "pipeline/ingest.h"

void *ingest_state_new(void)
{
	struct ingest_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->records = json_array();
	s->extras = json_object();
	if (!s->records || !s->extras) {
		ingest_state_free(s);
		return NULL;
	}
	return s;
}

void ingest_state_free(void *state)
{
	struct ingest_state *s = state;

	if (!s)
		return;
	json_decref(s->records);
	json_decref(s->extras);
	free(s);
}

/*
 * The fields a person or a form fills that the pipelines read. Status,
 * ranking, highlight and links are deliberately not inputs: they change
 * what matchmaking does with a candidate, not what the candidate is.
 */
void candidate_input_fields(const struct config *c, const char *out[], size_t max)
{
	const char *f[] = { c->f_full_name,	  c->f_mail,	       c->f_telegram,
			    c->f_location,	  c->f_summary,	       c->f_cv,
			    c->f_proof_of_work,	  c->f_linkedin,       c->f_github,
			    c->f_x_profile,	  c->f_talent_category, c->f_experience_levels,
			    c->f_desired_category, c->f_skills };
	size_t n = sizeof(f) / sizeof(f[0]), i;

	for (i = 0; i < n && i + 1 < max; i++)
		out[i] = f[i];
	out[i] = NULL;
}

void job_input_fields(const struct config *c, const char *out[], size_t max)
{
	const char *f[] = { c->j_company, c->j_jd_link,	 c->j_jd_text,	c->j_title,
			    c->j_work_setup, c->j_timezone, c->j_website };
	size_t n = sizeof(f) / sizeof(f[0]), i;

	for (i = 0; i < n && i + 1 < max; i++)
		out[i] = f[i];
	out[i] = NULL;
}

/* Attachments enter the hash by identity, never by their expiring URL. */
static json_t *stable_value(const json_t *v)
{
	size_t i;
	json_t *el, *arr;

	if (!json_is_array(v))
		return json_deep_copy(v);
	arr = json_array();
	if (!arr)
		return NULL;
	json_array_foreach(v, i, el) {
		json_t *copy;
		if (json_is_object(el) && json_object_get(el, "url")) {
			copy = json_pack("{s:O?,s:O?,s:O?}", "id", json_object_get(el, "id"),
					 "filename", json_object_get(el, "filename"), "size",
					 json_object_get(el, "size"));
		} else {
			copy = json_deep_copy(el);
		}
		if (!copy || json_array_append_new(arr, copy) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int hash_fields(const json_t *fields, const char *const *names, char out[65], serr *e)
{
	json_t *subset = json_object();
	char *text = NULL;
	int rc = -1;

	if (!subset)
		return serr_set(e, "out of memory");
	for (size_t i = 0; names[i]; i++) {
		json_t *v = json_object_get(fields, names[i]);
		json_t *sv;
		if (!v)
			continue; /* absent = empty, as Airtable sends it */
		if (!(sv = stable_value(v)) || json_object_set_new(subset, names[i], sv) < 0) {
			serr_set(e, "out of memory");
			goto out;
		}
	}
	text = json_dumps(subset, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!text) {
		serr_set(e, "out of memory");
		goto out;
	}
	sha256_hex(text, strlen(text), out);
	rc = 0;
out:
	free(text);
	json_decref(subset);
	return rc;
}

int candidate_input_hash(const struct config *cfg, const json_t *fields, char out[65], serr *e)
{
	const char *names[32];

	candidate_input_fields(cfg, names, 32);
	return hash_fields(fields, names, out, e);
}

int job_input_hash(const struct config *cfg, const json_t *fields, char out[65], serr *e)
{
	const char *names[32];

	job_input_fields(cfg, names, 32);
	return hash_fields(fields, names, out, e);
}

/* One "Label: value" line per non-empty text, number or list field. */
static int put_field(struct buf *out, const json_t *fields, const char *name)
{
	const json_t *v = json_object_get(fields, name);
	size_t i;
	json_t *el;
	int first = 1;

	if (!v)
		return 0;
	if (json_is_string(v)) {
		if (!*json_string_value(v))
			return 0;
		return buf_printf(out, "%s: %s\n", name, json_string_value(v));
	}
	if (json_is_number(v))
		return buf_printf(out, "%s: %g\n", name, json_number_value(v));
	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	if (buf_printf(out, "%s: ", name) < 0)
		return -1;
	json_array_foreach(v, i, el) {
		if (!json_is_string(el))
			continue;
		if (buf_printf(out, "%s%s", first ? "" : ", ", json_string_value(el)) < 0)
			return -1;
		first = 0;
	}
	return buf_putc(out, '\n');
}

int candidate_airtable_text(const struct config *c, const json_t *fields, struct buf *out)
{
	const char *names[] = { c->f_full_name,	     c->f_location,	  c->f_summary,
				c->f_talent_category, c->f_experience_levels, c->f_desired_category,
				c->f_skills,	      c->f_proof_of_work,   c->f_linkedin,
				c->f_github,	      c->f_x_profile,	  NULL };

	for (size_t i = 0; names[i]; i++)
		if (put_field(out, fields, names[i]) < 0)
			return -1;
	return 0;
}
