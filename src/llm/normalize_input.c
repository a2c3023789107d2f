/* Composing the DATA of the normalization prompts (see normalize_input.h). */
#include "llm/normalize_input.h"

#include <string.h>

#include "llm/prompt.h"

#define HEADINGS_ROOM 256

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int nonempty(const char *s)
{
	return s && *s;
}

int normalize_candidate_input(const char *airtable_text, const char *cv_text, struct buf *out,
			      serr *e)
{
	size_t at = nonempty(airtable_text) ? strlen(airtable_text) : 0;
	size_t cv = nonempty(cv_text) ? strlen(cv_text) : 0, keep = cv;
	size_t budget = PROMPT_MAX_DATA - HEADINGS_ROOM;
	int cut = 0;

	if (at > budget)
		return serr_set(e, "the Airtable text of the candidate is %zu bytes, over the "
				   "limit of %zu",
				at, budget);
	if (at + cv > budget) {
		keep = budget - at;
		while (keep > 0 && ((unsigned char)cv_text[keep] & 0xc0) == 0x80)
			keep--;
		cut = 1;
	}
	if (at && (buf_puts(out, "Airtable profile:\n") < 0 ||
		   buf_append(out, airtable_text, at) < 0 || buf_puts(out, "\n") < 0))
		goto full;
	if (cv && (buf_puts(out, at ? "\nCV text (from the attached files):\n"
				    : "CV text (from the attached files):\n") < 0 ||
		   buf_append(out, cv_text, keep) < 0 || buf_puts(out, "\n") < 0))
		goto full;
	if (cut && buf_printf(out, "[%zu more bytes of CV text left out: the CV is longer than "
				   "the model is sent]\n",
			      cv - keep) < 0)
		goto full;
	if (!at && !cv && buf_puts(out, "(the candidate record has no text)\n") < 0)
		goto full;
	return cut;
full:
	return serr_set(e, "the candidate's text does not fit its buffer (%zu bytes)", out->max);
}

static int put_line(struct buf *out, const char *label, const char *value)
{
	if (!nonempty(value))
		return 0;
	return buf_printf(out, "%s: %s\n", label, value);
}

static int put_profile(const json_t *c, struct buf *out)
{
	const json_t *skills = json_object_get(c, "skills"), *exps = json_object_get(c, "experiences");
	const json_t *projs = json_object_get(c, "projects"), *narr = json_object_get(c, "narratives");
	const json_t *years = json_object_get(c, "years_of_experience"), *x;
	const char *k;
	size_t i;

	if (buf_puts(out, "Candidate profile:\n") < 0 ||
	    put_line(out, "Summary", str(c, "professional_summary")) < 0 ||
	    put_line(out, "Seniority", str(c, "seniority_level")) < 0)
		return -1;
	if (json_is_number(years) &&
	    buf_printf(out, "Years of experience: %g\n", json_number_value(years)) < 0)
		return -1;
	if (json_array_size(skills) && buf_puts(out, "Skills (rating 1-10):\n") < 0)
		return -1;
	json_array_foreach(skills, i, x)
		if (buf_printf(out, "- %s (%d): %s\n", str(x, "name") ? str(x, "name") : "",
			       (int)json_integer_value(json_object_get(x, "rating")),
			       str(x, "evidence") ? str(x, "evidence") : "") < 0)
			return -1;
	if (json_array_size(exps) && buf_puts(out, "Positions:\n") < 0)
		return -1;
	json_array_foreach(exps, i, x)
		if (buf_printf(out, "- %s at %s, %s to %s%s%s: %s\n",
			       str(x, "title") ? str(x, "title") : "",
			       str(x, "company") ? str(x, "company") : "",
			       str(x, "start") ? str(x, "start") : "unknown",
			       str(x, "end") ? str(x, "end") : "now",
			       str(x, "domain") ? ", " : "", str(x, "domain") ? str(x, "domain") : "",
			       str(x, "description") ? str(x, "description") : "") < 0)
			return -1;
	if (json_array_size(projs) && buf_puts(out, "Projects:\n") < 0)
		return -1;
	json_array_foreach(projs, i, x)
		if (buf_printf(out, "- %s (%s): %s\n", str(x, "name") ? str(x, "name") : "",
			       str(x, "kind") ? str(x, "kind") : "",
			       str(x, "description") ? str(x, "description") : "") < 0)
			return -1;
	json_object_foreach((json_t *)narr, k, x)
		if (put_line(out, k, json_string_value(x)) < 0)
			return -1;
	return 0;
}

int normalize_fitness_input(const json_t *candidate, const char *const *categories, size_t n,
			    struct buf *out, serr *e)
{
	if (!json_is_object(candidate))
		return serr_set(e, "cannot compose the role-fitness input: the candidate is not a "
				   "JSON object");
	if (put_profile(candidate, out) < 0 || buf_puts(out, "\nCategories to score:\n") < 0)
		goto full;
	for (size_t i = 0; i < n; i++)
		if (categories[i] && buf_printf(out, "- %s\n", categories[i]) < 0)
			goto full;
	return 0;
full:
	return serr_set(e, "the role-fitness input does not fit its buffer (%zu bytes)", out->max);
}
