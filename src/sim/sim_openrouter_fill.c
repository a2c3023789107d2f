/*
 * The simulated model's answers: walk the requested JSON Schema and fill
 * every value from what the input text says (see sim_openrouter.h). A
 * property's name decides where its value comes from (skills, years,
 * money, places, sentences); types, enums, bounds, lengths, patterns,
 * required properties and additionalProperties false are always honoured,
 * so the answer is valid whatever the text holds.
 */
#include "sim/sim_openrouter.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_openrouter_fill.h"
#include "sim/sim_openrouter_text.h"

static json_t *fill(struct fill *f, const json_t *s, const struct slot *sl, int nullable);

/* ---- small helpers ---- */

static int has(const char *name, const char *part)
{
	return strstr(name, part) != NULL;
}

static void slot_name(char *out, size_t outsz, const char *key)
{
	size_t n = 0;

	if (strncmp(key, "n_", 2) == 0)
		key += 2;
	if (strncmp(key, "narrative_", 10) == 0)
		key += 10;
	for (; *key && n + 1 < outsz; key++)
		out[n++] = (*key >= 'A' && *key <= 'Z') ? (char)(*key - 'A' + 'a') : *key;
	out[n] = '\0';
}

/* Valid UTF-8 copy of s[0..n) (bad bytes become '?'), cut to max bytes at a character boundary. */
static char *utf8_copy(const char *s, size_t n, size_t max)
{
	char *out = malloc(n + 1);
	size_t o = 0, i = 0;

	if (!out)
		return NULL;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (!ok)
			len = 1;
		if (o + len > max)
			break;
		if (ok) {
			memcpy(out + o, s + i, len);
		} else {
			out[o] = '?';
		}
		o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}

static int matches_pattern(const char *pattern, const char *v)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 1; /* a pattern the C library cannot read is not ours to judge */
	ok = regexec(&re, v, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* A string value honouring maxLength, minLength and pattern; NULL text means "nothing found". */
static json_t *str_json(const json_t *s, const char *text, int nullable)
{
	json_t *maxl = json_object_get(s, "maxLength"), *minl = json_object_get(s, "minLength");
	const char *pattern = json_string_value(json_object_get(s, "pattern"));
	size_t max = json_is_integer(maxl) && json_integer_value(maxl) >= 0
			     ? (size_t)json_integer_value(maxl)
			     : 16000;
	size_t min = json_is_integer(minl) && json_integer_value(minl) > 0
			     ? (size_t)json_integer_value(minl)
			     : 0;
	char *v;
	json_t *out;

	if (!text)
		return nullable ? json_null() : json_string("");
	v = utf8_copy(text, strlen(text), max);
	if (!v)
		return NULL;
	while (strlen(v) < min && strlen(v) < max) {
		char *w = realloc(v, strlen(v) + 2);
		if (!w) {
			free(v);
			return NULL;
		}
		v = w;
		strcat(v, ".");
	}
	if (pattern && !matches_pattern(pattern, v) && nullable) {
		free(v);
		return json_null();
	}
	out = json_string(v);
	free(v);
	return out;
}

/* ---- skills ---- */

static int skill_in_scope(const struct fill *f, const struct slot *sl, size_t k)
{
	const struct sor_skill *s = &f->t->skills[k];

	if (sl->focus && sl->focus->kind == F_SENT)
		return sor_sentence_has(f->t, sl->focus->sent, sor_skill_canonical(s->id)) ||
		       s->sent == sl->focus->sent;
	if (has(sl->name, "nice") || has(sl->name, "bonus") || has(sl->name, "optional"))
		return s->nice;
	if (has(sl->name, "must") || has(sl->name, "require"))
		return !s->nice;
	return 1;
}

/* Skill indexes in scope, strongest first when by_rating. */
static size_t skill_list(const struct fill *f, const struct slot *sl, int by_rating, size_t *out,
			 size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < f->t->nskills && n < max; k++)
		if (skill_in_scope(f, sl, k))
			out[n++] = k;
	if (by_rating) {
		/* insertion sort keeps text order among equal ratings */
		for (size_t i = 1; i < n; i++) {
			size_t v = out[i], j = i;
			while (j > 0 && f->t->skills[out[j - 1]].rating < f->t->skills[v].rating) {
				out[j] = out[j - 1];
				j--;
			}
			out[j] = v;
		}
	}
	return n;
}

static char *skill_names(const struct fill *f, const struct slot *sl, int with_rating)
{
	size_t idx[SOR_MAX_SKILLS], n = skill_list(f, sl, with_rating, idx, SOR_MAX_SKILLS);
	struct buf b;

	buf_init(&b, 64 * 1024);
	if (buf_puts(&b, "") < 0)
		return NULL;
	for (size_t i = 0; i < n && i < 30; i++) {
		const struct sor_skill *s = &f->t->skills[idx[i]];
		if ((i && buf_puts(&b, ", ") < 0) || buf_puts(&b, sor_skill_name(s->id)) < 0 ||
		    (with_rating && buf_printf(&b, " (%d)", s->rating) < 0))
			break;
	}
	return buf_detach(&b);
}

/* What each item of the array named sl->name is about: skills, categories, attributes, sentences. */
static size_t item_foci(struct fill *f, const struct slot *sl, const json_t *items,
			struct focus *out, size_t max)
{
	const char *name = sl->name;
	size_t n = 0;

	if (has(name, "skill")) {
		size_t idx[SOR_MAX_SKILLS], k;
		int by_rating = json_object_get(json_object_get(items, "properties"), "rating") != NULL;
		k = skill_list(f, sl, by_rating, idx, max);
		for (size_t i = 0; i < k; i++)
			out[n++] = (struct focus){ .kind = F_SKILL, .skill = idx[i],
						   .sent = f->t->skills[idx[i]].sent };
		return n;
	}
	if (has(name, "categor") || has(name, "fitness") || has(name, "scores")) {
		for (size_t i = 0; i < f->ncats && n < max; i++)
			out[n++] = (struct focus){ .kind = F_CAT, .label = f->cats[i] };
		return n;
	}
	if (has(name, "attribute") || has(name, "soft") || has(name, "trait")) {
		for (const char *const *w = fill_soft_words; *w && n < max; w++) {
			long i = sor_find_sentence(f->t, (const char *const[]){ *w, NULL }, 0);
			if (i >= 0)
				out[n++] = (struct focus){ .kind = F_ATTR, .sent = (size_t)i, .label = *w };
		}
		return n;
	}
	if (has(name, "verification") || has(name, "hint") || has(name, "link")) {
		if (f->t->url[0] && n < max)
			out[n++] = (struct focus){ .kind = F_NONE, .label = f->t->url };
		return n;
	}
	for (size_t i = 0; i < f->t->nsent && n < max; i++) {
		int take;
		if (has(name, "experience") || has(name, "position") || has(name, "employment") ||
		    has(name, "history") || !strcmp(name, "jobs"))
			take = fill_position_sentence(f, i);
		else if (has(name, "project") || has(name, "hackathon") || has(name, "publication") ||
			 has(name, "portfolio"))
			take = fill_project_sentence(f, i);
		else if (has(name, "responsib") || has(name, "dut") || has(name, "task"))
			take = fill_sent_is(f, i, fill_action_words) && !memchr(f->t->clean + f->t->sent[i].off, ':',
								     f->t->sent[i].len);
		else
			take = 0; /* an unknown list: empty unless minItems asks for more */
		for (size_t k = 0; take && k < n; k++) {
			const struct sor_span *a = &f->t->sent[out[k].sent], *b = &f->t->sent[i];
			if (a->len == b->len && !memcmp(f->t->clean + a->off, f->t->clean + b->off, a->len))
				take = 0; /* the same line twice */
		}
		if (take)
			out[n++] = (struct focus){ .kind = F_SENT, .sent = i };
	}
	return n;
}

/* Where a string property's value comes from, by its name and the item it belongs to. */
static char *string_text(struct fill *f, const struct slot *sl, int nullable)
{
	const char *name = sl->name;
	const struct focus *fo = sl->focus;
	const struct sor_text *t = f->t;

	if (fo && fo->kind == F_SKILL) {
		const struct sor_skill *sk = &t->skills[fo->skill];
		if (has(name, "canonical"))
			return strdup(sor_skill_canonical(sk->id));
		if (has(name, "evidence") || has(name, "reason") || has(name, "capab") ||
		    has(name, "description") || has(name, "context"))
			return sor_sentence(t, sk->sent); /* with its label: "Python: expert" */
		return strdup(sor_skill_name(sk->id));
	}
	if (fo && fo->kind == F_CAT) {
		if (has(name, "reason") || has(name, "evidence") || has(name, "explanation")) {
			char *names = skill_names(f, sl, 0);
			char *r = NULL;
			if (names && asprintf(&r, "The text names %zu known skills%s%s.", t->nskills,
					      t->nskills ? ": " : "", names) < 0)
				r = NULL;
			free(names);
			return r;
		}
		return strdup(fo->label);
	}
	if (fo && fo->kind == F_ATTR) {
		if (has(name, "evidence") || has(name, "description"))
			return fill_sentence(f, fo->sent);
		if (has(name, "value"))
			return strdup(fo->label);
		return strdup(fo->label);
	}
	if (fo && fo->kind == F_NONE && fo->label)
		return strdup(fo->label);
	if (fo && fo->kind == F_SENT) {
		char d[8];
		if (has(name, "company") || has(name, "employer") || has(name, "organi") ||
		    has(name, "client")) {
			char *c = fill_company_of(f, fo->sent);
			return c ? c : strdup("Self-employed");
		}
		if (!strcmp(name, "start") || has(name, "start_") || !strcmp(name, "from"))
			return fill_date_of(f, fo->sent, 0, d) == 0 ? strdup(d) : NULL;
		if (!strcmp(name, "end") || has(name, "end_") || !strcmp(name, "to"))
			return fill_end_date(f, fo->sent);
		if (has(name, "url") || has(name, "link")) {
			char *s = fill_sentence(f, fo->sent), *u = s ? strstr(s, "http") : NULL;
			char *r = u ? strndup(u, strcspn(u, " \t),;\"'<>")) : NULL;
			free(s);
			return r;
		}
		if (has(name, "domain") || has(name, "industry") || has(name, "sector"))
			return fill_domain_of(f, sl->focus);
		if (!strcmp(name, "name") && !has(sl->parent, "experience") && !has(sl->parent, "position"))
			return fill_first_words(f, fo->sent, 6);
		if (has(name, "title") || has(name, "role") || has(name, "position") ||
		    !strcmp(name, "name"))
			return fill_title_of(f, fo->sent);
		return fill_sentence(f, fo->sent);
	}

	/* top-level and plain objects */
	if (has(name, "email") || has(name, "mail"))
		return t->email[0] ? strdup(t->email) : NULL;
	if (has(name, "github") || has(name, "linkedin") || has(name, "url") || has(name, "website") ||
	    has(name, "link"))
		return t->url[0] ? strdup(t->url) : NULL;
	if (has(name, "timezone") || has(name, "time_zone") || !strcmp(name, "tz"))
		return t->zone >= 0 ? strdup(sor_zone_name(t->zone)) : nullable ? NULL : strdup("UTC");
	if (has(name, "currency"))
		return t->currency[0] ? strdup(t->currency) : strdup("USD");
	if (!strcmp(name, "period"))
		return strdup(t->period == SOR_PERIOD_HOUR ? "hour" : t->period == SOR_PERIOD_MONTH ? "month" : "year");
	if (!strcmp(name, "city"))
		return t->city[0] ? strdup(t->city) : NULL;
	if (!strcmp(name, "country"))
		return t->country[0] ? strdup(t->country) : NULL;
	if (!strcmp(name, "location")) {
		char *r = NULL;
		if (t->city[0] && t->country[0] && asprintf(&r, "%s, %s", t->city, t->country) < 0)
			r = NULL;
		else if (!t->city[0] && t->country[0])
			r = strdup(t->country);
		return r;
	}
	if (has(name, "injection") || (has(name, "evidence") && has(sl->parent, "injection")))
		return t->injected ? utf8_copy(buf_cstr(&t->injection), t->injection.len, 300) : NULL;
	if (has(name, "skills_summary"))
		return skill_names(f, sl, 1);
	if (has(name, "skill"))
		return skill_names(f, sl, 0);
	if (has(name, "full_name") || !strcmp(name, "name") || has(name, "candidate_name")) {
		static const char *const keys[] = { "full name", "name", "candidate", NULL };
		char *v = fill_labeled(f, keys);
		return v ? v : fill_first_line(f, 6);
	}
	if (has(name, "title") || has(name, "headline") || !strcmp(name, "position")) {
		static const char *const keys[] = { "hiring job title", "job title", "title", "position",
						    "role", NULL };
		char *v = fill_labeled(f, keys);
		if (!v)
			v = fill_first_line(f, 12);
		return v ? v : fill_sentences(f, NULL, 1, 1);
	}
	if (has(name, "company")) {
		static const char *const keys[] = { "company", "employer", NULL };
		return fill_labeled(f, keys);
	}
	if (has(name, "work_setup") || has(name, "workplace") || has(name, "remote")) {
		return sor_has_word(t, "remote") ? strdup("remote") : sor_has_word(t, "hybrid") ? strdup("hybrid")
			: (sor_has_word(t, "onsite") || sor_has_word(t, "on-site")) ? strdup("onsite") : NULL;
	}
	if (has(name, "domain") && !has(name, "domains"))
		return fill_sentences(f, fill_domain_words, 2, 4);
	if (!strcmp(name, "experience"))
		return fill_sentences(f, fill_experience_cues, 2, 4);
	if (has(name, "personality") || has(name, "culture"))
		return fill_sentences(f, fill_personality_cues, 2, 4);
	if (has(name, "impact"))
		return fill_sentences(f, fill_impact_cues, 2, 4);
	if (has(name, "technical")) {
		const char *cues[SOR_MAX_SKILLS + 1];
		size_t n = 0;
		for (size_t k = 0; k < t->nskills; k++)
			cues[n++] = sor_skill_canonical(t->skills[k].id);
		cues[n] = NULL;
		return fill_sentences(f, cues, 2, 3);
	}
	if (!strcmp(name, "role"))
		return fill_sentences(f, fill_role_cues, 2, 4);
	if (has(name, "summary") || has(name, "about") || has(name, "overview") || has(name, "bio"))
		return fill_sentences(f, NULL, 2, 5);
	{
		/* any other text: the first sentence naming the property, else the first ones */
		char word[96];
		const char *p = name;
		while (*p) {
			size_t n = strcspn(p, "_");
			if (n >= 4 && n < sizeof(word)) {
				long i;
				memcpy(word, p, n);
				word[n] = '\0';
				i = sor_find_sentence(t, (const char *const[]){ word, NULL }, 0);
				if (i >= 0)
					return fill_sentence(f, (size_t)i);
			}
			p += n;
			if (*p)
				p++;
		}
	}
	return fill_sentences(f, NULL, 2, 3);
}

static json_t *fill_string(struct fill *f, const json_t *s, const struct slot *sl, int nullable)
{
	char *text = string_text(f, sl, nullable);
	json_t *v;

	/* a required text with nothing specific found: the first sentences, else a plain statement */
	if (!text && !nullable && !sl->focus)
		text = fill_sentences(f, NULL, 2, 1);
	if (!text && !nullable)
		text = strdup(sl->focus ? "unknown" : "The input gives no details.");
	v = str_json(s, text, nullable);
	free(text);
	return v;
}

/* ---- numbers ---- */

static int money_name(const char *n)
{
	return has(n, "salary") || has(n, "compensation") || has(n, "comp_") || has(n, "pay") ||
	       has(n, "budget") || has(n, "wage") || !strcmp(n, "rate");
}

/* 1 with *v when the text gives a number for this property. */
static int number_for(struct fill *f, const struct slot *sl, double *v)
{
	const char *name = sl->name;
	const struct sor_text *t = f->t;
	const struct focus *fo = sl->focus;
	int in_money = money_name(sl->parent);

	if (fo && fo->kind == F_SKILL &&
	    (has(name, "rating") || has(name, "score") || has(name, "level") || has(name, "profic"))) {
		*v = t->skills[fo->skill].rating;
		return 1;
	}
	if (fo && fo->kind == F_CAT && (has(name, "score") || has(name, "fit") || has(name, "rating"))) {
		*v = fill_cat_score(f, fo->label);
		return 1;
	}
	if (has(name, "year") && !money_name(name)) {
		if (t->years < 0)
			return 0;
		*v = t->years;
		return 1;
	}
	if (money_name(name) || in_money || has(name, "annual")) {
		double lo = 0, hi = 0;
		int annual = has(name, "annual") || has(name, "usd") || !in_money;
		if (!t->nmoney)
			return 0;
		lo = hi = t->money[0];
		for (size_t i = 1; i < t->nmoney; i++) {
			if (t->money[i] < lo)
				lo = t->money[i];
			if (t->money[i] > hi)
				hi = t->money[i];
		}
		*v = has(name, "min") ? lo : hi;
		if (annual)
			*v = sor_annual_usd(t, *v);
		return 1;
	}
	if (has(name, "score") || has(name, "fit")) {
		*v = fill_cat_score(f, "");
		return 1;
	}
	return 0;
}

static json_t *fill_number(struct fill *f, const json_t *s, const struct slot *sl, int nullable,
			   int integer)
{
	json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
	json_t *emn = json_object_get(s, "exclusiveMinimum"), *emx = json_object_get(s, "exclusiveMaximum");
	double v = 0, step = integer ? 1 : 1e-6;

	if (!number_for(f, sl, &v)) {
		if (nullable)
			return json_null();
		v = 0;
	}
	if (json_is_number(mn) && v < json_number_value(mn))
		v = json_number_value(mn);
	if (json_is_number(emn) && v <= json_number_value(emn))
		v = json_number_value(emn) + step;
	if (json_is_number(mx) && v > json_number_value(mx))
		v = json_number_value(mx);
	if (json_is_number(emx) && v >= json_number_value(emx))
		v = json_number_value(emx) - step;
	if (integer) {
		double r = round(v);
		if (json_is_number(mx) && r > json_number_value(mx))
			r = floor(v);
		if (json_is_number(mn) && r < json_number_value(mn))
			r = ceil(v);
		return json_integer((json_int_t)r);
	}
	return json_real(v);
}

/* ---- booleans and enums ---- */

static json_t *fill_bool(struct fill *f, const struct slot *sl)
{
	const char *p = sl->name;
	int all = 1, any = 0;

	if (has(p, "injection"))
		return json_boolean(f->t->injected);
	while (*p) {
		char w[64];
		size_t n = strcspn(p, "_");
		if (n >= 3 && n < sizeof(w) && strncmp(p, "is_", 3) != 0 && strncmp(p, "has", 3) != 0) {
			memcpy(w, p, n);
			w[n] = '\0';
			any = 1;
			if (!sor_has_word(f->t, w))
				all = 0;
		}
		p += n;
		if (*p)
			p++;
	}
	return json_boolean(any && all);
}

/* Lowercase value with non-alphanumerics as spaces (so "open_source" reads "open source"). */
static void enum_words(const char *v, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *v && n + 1 < outsz; v++) {
		char c = *v;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[n++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c & 0x80)) ? c : ' ';
	}
	out[n] = '\0';
}

static const char *seniority_for_years(int y)
{
	return y < 0 ? NULL : y < 2 ? "junior" : y < 5 ? "mid" : y < 8 ? "senior" : y < 12 ? "staff" : "principal";
}

static json_t *fill_enum(struct fill *f, const json_t *en, const struct slot *sl, int nullable)
{
	const struct sor_text *t = f->t;
	const char *scope = t->lower;
	size_t slen = t->len, i, bi = (size_t)-1;
	long best = -1;
	int best_count = 0, null_ok = nullable;
	const char *want = NULL;
	json_t *v;

	json_array_foreach(en, i, v)
		if (json_is_null(v))
			null_ok = 1;
	if (sl->focus && sl->focus->kind == F_SENT) {
		scope = t->lower + t->sent[sl->focus->sent].off;
		slen = t->sent[sl->focus->sent].len;
	}
	if (!strcmp(sl->name, "period"))
		want = !t->nmoney ? NULL : t->period == SOR_PERIOD_HOUR ? "hour" : t->period == SOR_PERIOD_MONTH ? "month" : "year";
	json_array_foreach(en, i, v) {
		char w[128], sq[128];
		long p, first = -1;
		int count = 0;
		size_t k = 0;
		if (!json_is_string(v))
			continue;
		if (want) {
			if (strstr(json_string_value(v), want)) {
				bi = i;
				break;
			}
			continue;
		}
		enum_words(json_string_value(v), w, sizeof(w));
		for (const char *c = w; *c; c++)
			if (*c != ' ')
				sq[k++] = *c;
		sq[k] = '\0';
		for (const char *q = scope; (p = sor_word_at(q, slen - (size_t)(q - scope), w)) >= 0;) {
			if (first < 0)
				first = (long)(q - scope) + p;
			count++;
			q += p + 1;
		}
		if (!count && strcmp(sq, w) != 0 && (p = sor_word_at(scope, slen, sq)) >= 0)
			count = 1, first = p;
		if (!count && !strcmp(w, "onsite") && (p = sor_word_at(scope, slen, "on-site")) >= 0)
			count = 1, first = p;
		if (count > best_count || (count && count == best_count && first < best)) {
			best_count = count;
			best = first;
			bi = i;
		}
	}
	if (bi == (size_t)-1 && !want && (has(sl->name, "seniority") || has(sl->name, "level"))) {
		const char *lvl = seniority_for_years(t->years);
		json_array_foreach(en, i, v)
			if (lvl && json_is_string(v) && strstr(json_string_value(v), lvl)) {
				bi = i;
				break;
			}
	}
	if (bi != (size_t)-1)
		return json_deep_copy(json_array_get(en, bi));
	if (null_ok && (want || !strcmp(sl->name, "period") || has(sl->name, "seniority") ||
			has(sl->name, "setup") || has(sl->name, "level")))
		return json_null();
	json_array_foreach(en, i, v)
		if (!json_is_null(v))
			return json_deep_copy(v);
	return json_null();
}

/* ---- objects and arrays ---- */

static int empty_value(const json_t *v)
{
	const char *k;
	json_t *x;

	if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
	    (json_is_array(v) && !json_array_size(v)))
		return 1;
	if (!json_is_object(v))
		return 0;
	json_object_foreach((json_t *)v, k, x)
		if (!empty_value(x))
			return 0;
	return 1;
}

static json_t *fill_object(struct fill *f, const json_t *s, const struct slot *sl, int nullable)
{
	json_t *props = json_object_get(s, "properties"), *sub, *out = json_object();
	const char *key;

	if (!out)
		return NULL;
	if (nullable && money_name(sl->name) && !f->t->nmoney) {
		json_decref(out);
		return json_null();
	}
	json_object_foreach(props, key, sub) {
		struct slot child = { .focus = sl->focus, .depth = sl->depth + 1 };
		json_t *v;
		slot_name(child.name, sizeof(child.name), key);
		snprintf(child.parent, sizeof(child.parent), "%s", sl->name);
		v = fill(f, sub, &child, 0);
		if (!v || json_object_set_new(out, key, v) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	if (nullable && json_object_size(out) && empty_value(out)) {
		json_decref(out);
		return json_null();
	}
	return out;
}

static const json_t *resolve(const struct fill *f, const json_t *s);

static json_t *fill_array(struct fill *f, const json_t *s, const struct slot *sl)
{
	const json_t *items = json_object_get(s, "items");
	json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
	size_t min = json_is_integer(mn) && json_integer_value(mn) > 0 ? (size_t)json_integer_value(mn) : 0;
	size_t max = json_is_integer(mx) && json_integer_value(mx) >= 0 ? (size_t)json_integer_value(mx) : FILL_MAX_ITEMS * 4;
	struct focus foci[SOR_MAX_SKILLS + FILL_MAX_CATS];
	const json_t *ri = resolve(f, items);
	size_t n, cap = sizeof(foci) / sizeof(foci[0]);
	json_t *out = json_array();

	if (!out)
		return NULL;
	if (max > cap)
		max = cap;
	n = sl->depth > FILL_MAX_DEPTH ? 0 : item_foci(f, sl, ri, foci, max);
	if (!has(sl->name, "skill") && !has(sl->name, "categor") && !has(sl->name, "fitness") && n > FILL_MAX_ITEMS)
		n = FILL_MAX_ITEMS;
	/* minItems: more items about the first sentences */
	for (size_t i = 0; n < min && n < cap; i++)
		foci[n++] = (struct focus){ .kind = F_SENT, .sent = f->t->nsent ? i % f->t->nsent : 0 };
	for (size_t i = 0; i < n && items; i++) {
		struct slot child = { .focus = &foci[i], .depth = sl->depth + 1 };
		json_t *v;
		snprintf(child.name, sizeof(child.name), "%s", sl->name);
		snprintf(child.parent, sizeof(child.parent), "%s", sl->name);
		if (--f->budget < 0)
			break;
		v = fill(f, items, &child, 0);
		if (!v || json_array_append_new(out, v) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* ---- the walk ---- */

static const json_t *resolve(const struct fill *f, const json_t *s)
{
	for (int i = 0; i < 16 && s; i++) {
		const char *ref = json_string_value(json_object_get(s, "$ref"));
		if (!ref)
			return s;
		if (strcmp(ref, "#") == 0)
			s = f->root;
		else if (strncmp(ref, "#/$defs/", 8) == 0)
			s = json_object_get(json_object_get(f->root, "$defs"), ref + 8);
		else if (strncmp(ref, "#/definitions/", 14) == 0)
			s = json_object_get(json_object_get(f->root, "definitions"), ref + 14);
		else
			return NULL;
	}
	return NULL;
}

static json_t *fill(struct fill *f, const json_t *s, const struct slot *sl, int nullable)
{
	json_t *type, *any;
	const char *ty = NULL;
	size_t i;
	json_t *x;

	s = resolve(f, s);
	if (!json_is_object(s))
		return json_null();
	if (json_object_get(s, "const"))
		return json_deep_copy(json_object_get(s, "const"));
	any = json_object_get(s, "anyOf");
	if (json_is_array(any)) {
		const json_t *pick = NULL;
		json_array_foreach(any, i, x) {
			const json_t *b = resolve(f, x);
			const char *bt = json_string_value(json_object_get(b, "type"));
			if (bt && !strcmp(bt, "null"))
				nullable = 1;
			else if (!pick)
				pick = b;
		}
		if (!pick || (nullable && sl->depth > FILL_MAX_DEPTH))
			return json_null();
		return fill(f, pick, sl, nullable);
	}
	if (json_is_array(json_object_get(s, "enum")))
		return fill_enum(f, json_object_get(s, "enum"), sl, nullable);
	type = json_object_get(s, "type");
	if (json_is_string(type)) {
		ty = json_string_value(type);
	} else if (json_is_array(type)) {
		json_array_foreach(type, i, x) {
			const char *t = json_string_value(x);
			if (t && !strcmp(t, "null"))
				nullable = 1;
			else if (t && !ty)
				ty = t;
		}
	}
	if (!ty)
		ty = json_object_get(s, "properties") ? "object" : json_object_get(s, "items") ? "array" : nullable ? "null" : "string";
	if (nullable && sl->depth > FILL_MAX_DEPTH)
		return json_null();
	if (!strcmp(ty, "object"))
		return fill_object(f, s, sl, nullable);
	if (!strcmp(ty, "array"))
		return fill_array(f, s, sl);
	if (!strcmp(ty, "string"))
		return fill_string(f, s, sl, nullable);
	if (!strcmp(ty, "integer"))
		return fill_number(f, s, sl, nullable, 1);
	if (!strcmp(ty, "number"))
		return fill_number(f, s, sl, nullable, 0);
	if (!strcmp(ty, "boolean"))
		return fill_bool(f, sl);
	return json_null();
}

json_t *sim_openrouter_answer(const json_t *schema, const char *text)
{
	struct sor_text t;
	struct fill f = { 0 };
	struct slot root = { 0 };
	json_t *out;

	if (sor_text_init(&t, text ? text : "") < 0)
		return NULL;
	f.t = &t;
	f.root = schema;
	f.budget = 200000;
	fill_find_categories(&f);
	fill_find_sections(&f);
	out = fill(&f, schema, &root, 0);
	free(f.section);
	for (size_t i = 0; i < f.ncats; i++)
		free(f.cats[i]);
	sor_text_free(&t);
	return out;
}

void sim_openrouter_embed(const char *text, int dim, float *out)
{
	sor_embed(text, dim, out);
}
