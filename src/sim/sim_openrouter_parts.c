/* Sentence-level reading for the LLM simulator's answers, and the input of a chat (see sim_openrouter_fill.h). */
#include "sim/sim_openrouter_fill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_openrouter.h"


/* Offset past a leading "Label: " of at most four words ("Professional Summary: ..."). */
static size_t label_len(const char *s, size_t n)
{
	size_t words = 1;

	for (size_t i = 0; i < n && i < 48; i++) {
		if (s[i] == ' ')
			words++;
		if (words > 4 || s[i] == '.' || s[i] == ',')
			return 0;
		if (s[i] == ':' && i + 2 < n && s[i + 1] == ' ')
			return i + 2;
	}
	return 0;
}

/* Sentence i without its label (malloc'd). */
char *fill_sentence(const struct fill *f, size_t i)
{
	const char *s;
	size_t n, l;

	if (i >= f->t->nsent)
		return strdup("");
	s = f->t->clean + f->t->sent[i].off;
	n = f->t->sent[i].len;
	l = label_len(s, n);
	return strndup(s + l, n - l);
}

/* "label: value" sentences: the value of the first whose label is one of keys. */
char *fill_labeled(const struct fill *f, const char *const *keys)
{
	const struct sor_text *t = f->t;

	for (const char *const *k = keys; *k; k++) {
		size_t kl = strlen(*k);
		for (size_t i = 0; i < t->nsent; i++) {
			const char *low = t->lower + t->sent[i].off;
			size_t n = t->sent[i].len, v;
			if (n <= kl + 1 || strncmp(low, *k, kl) != 0 || low[kl] != ':')
				continue;
			v = kl + 1;
			while (v < n && low[v] == ' ')
				v++;
			if (v < n)
				return strndup(t->clean + t->sent[i].off + v, n - v);
		}
	}
	return NULL;
}

size_t fill_words_in(const char *s, size_t n)
{
	size_t w = 0;
	int in = 0;

	for (size_t i = 0; i < n; i++) {
		int sp = s[i] == ' ' || s[i] == '\t';
		if (!sp && !in)
			w++;
		in = !sp;
	}
	return w;
}

/* Up to max sentences with at least min_words words, joined; the ones holding a cue word first. */
char *fill_sentences(const struct fill *f, const char *const *cues, size_t max, size_t min_words)
{
	const struct sor_text *t = f->t;
	struct buf b;
	size_t got = 0;

	buf_init(&b, 64 * 1024);
	for (int pass = cues ? 0 : 1; pass < 2 && got < max; pass++) {
		for (size_t i = 0; i < t->nsent && got < max; i++) {
			const char *s = t->clean + t->sent[i].off;
			size_t n = t->sent[i].len, l = label_len(s, n);
			int cued = 0;
			if (fill_words_in(s + l, n - l) < (pass == 1 && cues ? min_words + 2 : min_words))
				continue;
			if (b.len && memmem(b.data, b.len, s + l, n - l))
				continue; /* the same sentence twice (profile and CV) */
			for (const char *const *c = cues; cues && *c && !cued; c++)
				cued = sor_sentence_has(t, i, *c) ||
				       (!strcmp(*c, "%") && memchr(t->clean + t->sent[i].off, '%',
								   t->sent[i].len));
			if (pass == 0 ? !cued : (cues && cued))
				continue;
			if ((b.len && buf_putc(&b, ' ') < 0) || buf_append(&b, s + l, n - l) < 0)
				break;
			got++;
		}
	}
	if (!got) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* ---- categories ---- */

static void add_cat(struct fill *f, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '"' || *s == '\'' || *s == '[' || *s == '-'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '.' || s[n - 1] == '"' || s[n - 1] == '\'' ||
		     s[n - 1] == ']'))
		n--;
	if (!n || n > 120 || f->ncats == FILL_MAX_CATS)
		return;
	for (size_t i = 0; i < f->ncats; i++)
		if (strlen(f->cats[i]) == n && strncasecmp(f->cats[i], s, n) == 0)
			return;
	if ((f->cats[f->ncats] = strndup(s, n)) != NULL)
		f->ncats++;
}

/*
 * The categories the text asks about: a "...categories...: A, B; C" line,
 * or a line naming categories and ending with ':' followed by one category
 * per line. Lines about scoring or desired categories win over others
 * (a profile's "Talent Category" line, say).
 */
void fill_find_categories(struct fill *f)
{
	const struct sor_text *t = f->t;
	long best = -1;
	int best_prio = 0;

	for (size_t i = 0; i < t->nsent; i++) {
		int prio;
		if (!sor_sentence_has(t, i, "categories") && !sor_sentence_has(t, i, "category"))
			continue;
		if (!memchr(t->clean + t->sent[i].off, ':', t->sent[i].len))
			continue;
		prio = (sor_sentence_has(t, i, "score") || sor_sentence_has(t, i, "rate") ||
			sor_sentence_has(t, i, "fitness") || sor_sentence_has(t, i, "assess"))
			       ? 3
		       : sor_sentence_has(t, i, "desired") ? 2
							   : 1;
		if (prio >= best_prio) {
			best_prio = prio;
			best = (long)i;
		}
	}
	if (best < 0)
		return;
	f->cat_first = f->cat_last = (size_t)best;
	{
		const struct sor_span *sp = &t->sent[best];
		const char *s = t->clean + sp->off, *colon = memchr(s, ':', sp->len);
		size_t rest = sp->len - (size_t)(colon - s) - 1;
		const char *p = colon + 1;
		while (rest) {
			size_t n = 0;
			while (n < rest && p[n] != ',' && p[n] != ';' && p[n] != '|')
				n++;
			add_cat(f, p, n);
			p += n;
			rest -= n;
			if (rest) {
				p++;
				rest--;
			}
		}
		if (f->ncats)
			return;
		/* a header: the following lines, until a blank line */
		for (size_t i = (size_t)best + 1; i < t->nsent; i++) {
			if (t->sent[i].line != t->sent[i - 1].line + 1 &&
			    t->sent[i].line != t->sent[i - 1].line)
				break;
			f->cat_last = i;
			if (t->sent[i].line == t->sent[i - 1].line)
				continue;
			add_cat(f, t->clean + t->sent[i].off, t->sent[i].len);
		}
	}
}

/* 1 when word is in a sentence other than the ones listing the categories. */
static int mentioned_outside(const struct fill *f, const char *word)
{
	for (size_t i = 0; i < f->t->nsent; i++)
		if ((!f->ncats || i < f->cat_first || i > f->cat_last) && sor_sentence_has(f->t, i, word))
			return 1;
	return 0;
}

int fill_cat_score(const struct fill *f, const char *cat)
{
	static const char *const generic[] = { "engineer", "engineering", "developer", "manager",
					       "lead", "senior", "specialist", "and", "the", NULL };
	int score = 10, words = 0;
	char w[64];
	const char *p = cat;

	while (*p) {
		size_t n = 0;
		int skip = 0;
		while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p & 0x80)))
			p++;
		while (*p && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p & 0x80))) {
			if (n + 1 < sizeof(w))
				w[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
			p++;
		}
		w[n] = '\0';
		for (const char *const *g = generic; *g; g++)
			skip |= strcmp(*g, w) == 0;
		if (n >= 3 && !skip && words < 2 && mentioned_outside(f, w)) {
			score += 25;
			words++;
		}
	}
	score += 5 * (int)(f->t->nskills < 8 ? f->t->nskills : 8);
	return score > 100 ? 100 : score;
}

/* ---- sentences for array items ---- */

int fill_sent_is(const struct fill *f, size_t i, const char *const *words)
{
	for (const char *const *w = words; *w; w++)
		if (sor_sentence_has(f->t, i, *w))
			return 1;
	return 0;
}

const char *const fill_title_words[] = {
	"engineer", "developer", "manager", "designer", "lead", "analyst", "scientist", "architect",
	"consultant", "intern", "cto", "ceo", "founder", "co-founder", "head", "director",
	"researcher", "auditor", "advocate", "marketer", "writer", "specialist", "sre", "devops",
	"administrator", "programmer", "contractor", "freelancer", NULL
};



/* A job held: "<Title> at <Company>" or "<Title>, <Company> (2019 - 2022)", with a title word. */
int fill_position_sentence(const struct fill *f, size_t i)
{
	const char *s = f->t->clean + f->t->sent[i].off;
	size_t n = f->t->sent[i].len;
	long at = sor_word_at(f->t->lower + f->t->sent[i].off, n, "at");
	char d[8];

	if (!fill_sent_is(f, i, fill_title_words) || sor_sentence_has(f->t, i, "hackathon") ||
	    memchr(s, ':', n))
		return 0;
	if (at >= 0 && (size_t)at + 3 < n && s[at + 3] >= 'A' && s[at + 3] <= 'Z')
		return 1;
	return memchr(s, ',', n) && fill_date_of(f, i, 0, d) == 0;
}

const char *const fill_project_words[] = { "project", "projects", "hackathon", "open source",
					     "open-source", "side project", "published", "paper", "won",
					     "prize", "award", "maintainer", "github", NULL };
const char *const fill_action_words[] = { "build", "design", "own", "lead", "write", "maintain",
					    "ship", "mentor", "develop", "drive", "run", "manage",
					    "collaborate", "work", "create", "improve", "operate",
					    "review", "you will", NULL };
const char *const fill_soft_words[] = { "communication", "leadership", "mentoring", "mentored",
					  "teamwork", "ownership", "collaboration", "collaborated",
					  "problem solving", NULL };

/* A short line of its own without digits or punctuation: "Experience", "Projects and Hackathons". */
static int header_sentence(const struct fill *f, size_t i)
{
	const struct sor_text *t = f->t;
	const char *s = t->clean + t->sent[i].off;
	size_t n = t->sent[i].len;

	if ((i > 0 && t->sent[i - 1].line == t->sent[i].line) ||
	    (i + 1 < t->nsent && t->sent[i + 1].line == t->sent[i].line) ||
	    fill_words_in(s, n) > 4 || !(s[0] >= 'A' && s[0] <= 'Z'))
		return 0;
	for (size_t k = 0; k < n; k++)
		if ((s[k] >= '0' && s[k] <= '9') || s[k] == ':' || s[k] == '.' || s[k] == ',' ||
		    s[k] == '@' || s[k] == '/')
			return 0;
	return 1;
}

void fill_find_sections(struct fill *f)
{
	long cur = -1;

	f->section = calloc(f->t->nsent ? f->t->nsent : 1, sizeof(long));
	for (size_t i = 0; f->section && i < f->t->nsent; i++) {
		if (header_sentence(f, i))
			cur = (long)i;
		f->section[i] = cur;
	}
}

/* Under a "Projects"/"Hackathons" header, or naming project work outside of a position. */
int fill_project_sentence(const struct fill *f, size_t i)
{
	static const char *const heads[] = { "project", "projects", "hackathon", "hackathons",
					     "publications", "open source", NULL };
	long h = f->section ? f->section[i] : -1;
	const char *s = f->t->clean + f->t->sent[i].off;
	size_t n = f->t->sent[i].len;

	if (h == (long)i)
		return 0;
	if (h >= 0 && fill_sent_is(f, (size_t)h, heads))
		return 1;
	return fill_sent_is(f, i, fill_project_words) && !fill_position_sentence(f, i) && !memmem(s, n, "http", 4) &&
	       !memmem(s, n, ".com/", 5) && !header_sentence(f, i);
}

/* ---- strings ---- */

/* Capitalised words after " at " in sentence i: the company. */
char *fill_company_of(const struct fill *f, size_t i)
{
	const char *s = f->t->clean + f->t->sent[i].off;
	size_t n = f->t->sent[i].len, p, e;
	long at = sor_word_at(f->t->lower + f->t->sent[i].off, n, "at");

	if (at < 0) {
		/* "Title, Company (2019 - 2022)" */
		const char *c = memchr(s, ',', n);
		if (!c)
			return NULL;
		p = (size_t)(c - s) + 1;
		while (p < n && s[p] == ' ')
			p++;
		e = p;
		while (e < n && s[e] != '(' && s[e] != ',' && s[e] != ';')
			e++;
		while (e > p && s[e - 1] == ' ')
			e--;
		return e > p ? strndup(s + p, e - p) : NULL;
	}
	p = (size_t)at + 3;
	e = p;
	while (e < n && s[e] != ',' && s[e] != '(' && s[e] != ';' && s[e] != '.' &&
	       !(s[e] == ' ' && e + 1 < n && !(s[e + 1] >= 'A' && s[e + 1] <= 'Z') && s[e + 1] != '&'))
		e++;
	while (e > p && s[e - 1] == ' ')
		e--;
	return e > p ? strndup(s + p, e - p) : NULL;
}

/* The capitalised words just before " at ": the job title. */
char *fill_title_of(const struct fill *f, size_t i)
{
	const char *s = f->t->clean + f->t->sent[i].off;
	size_t n = f->t->sent[i].len, b, e;
	long at = sor_word_at(f->t->lower + f->t->sent[i].off, n, "at");

	e = at > 0 ? (size_t)at : n;
	if (at < 0 && memchr(s, ',', n))
		e = (size_t)((const char *)memchr(s, ',', n) - s);
	while (e > 0 && s[e - 1] == ' ')
		e--;
	b = e;
	while (b > 0) {
		size_t w = b;
		while (w > 0 && s[w - 1] != ' ')
			w--;
		if (!((s[w] >= 'A' && s[w] <= 'Z') || s[w] == '/' || s[w] == '&' || s[w] == '('))
			break;
		b = w;
		while (b > 0 && s[b - 1] == ' ')
			b--;
	}
	while (b < e && s[b] == ' ')
		b++;
	if (b == e) {
		/* no capitalised words: the first words of the sentence */
		size_t words = 0;
		b = 0;
		for (e = 0; e < n && words < 6; e++)
			if (s[e] == ' ')
				words++;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == ','))
			e--;
	}
	return e > b ? strndup(s + b, e - b) : NULL;
}

/* The first max words of sentence i, without trailing punctuation. */
char *fill_first_words(const struct fill *f, size_t i, size_t max)
{
	const char *s = f->t->clean + f->t->sent[i].off;
	size_t n = f->t->sent[i].len, e = 0, words = 0;

	while (e < n && words < max) {
		while (e < n && s[e] != ' ')
			e++;
		words++;
		if (words < max)
			while (e < n && s[e] == ' ')
				e++;
	}
	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == ',' || s[e - 1] == '.' || s[e - 1] == ';' ||
			 s[e - 1] == ':'))
		e--;
	return strndup(s, e);
}

/* The k-th date (0-based) in sentence i as YYYY-MM, with "present" ending a range. */
int fill_date_of(const struct fill *f, size_t i, int k, char out[8])
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec" };
	const char *s = f->t->lower + f->t->sent[i].off;
	size_t n = f->t->sent[i].len;
	int found = 0;

	for (size_t p = 0; p + 4 <= n; p++) {
		int y, m = k == 0 ? 1 : 12;
		if ((p > 0 && s[p - 1] >= '0' && s[p - 1] <= '9') ||
		    !(s[p] == '1' || s[p] == '2') || !(s[p + 1] == '9' || s[p + 1] == '0') ||
		    s[p + 2] < '0' || s[p + 2] > '9' || s[p + 3] < '0' || s[p + 3] > '9' ||
		    (p + 4 < n && s[p + 4] >= '0' && s[p + 4] <= '9'))
			continue;
		y = (s[p] - '0') * 1000 + (s[p + 1] - '0') * 100 + (s[p + 2] - '0') * 10 + (s[p + 3] - '0');
		if (y < 1970 || y > 2039)
			continue;
		if (p + 7 <= n && s[p + 4] == '-' && s[p + 5] >= '0' && s[p + 5] <= '1' &&
		    s[p + 6] >= '0' && s[p + 6] <= '9' && (p + 7 == n || s[p + 7] < '0' || s[p + 7] > '9')) {
			int mm = (s[p + 5] - '0') * 10 + (s[p + 6] - '0');
			if (mm >= 1 && mm <= 12)
				m = mm;
		}
		for (int mi = 0; mi < 12; mi++) {
			size_t w = p;
			while (w > 0 && s[w - 1] == ' ')
				w--;
			while (w > 0 && s[w - 1] >= 'a' && s[w - 1] <= 'z')
				w--;
			if (w + 3 <= p && strncmp(s + w, months[mi], 3) == 0)
				m = mi + 1;
		}
		if (found++ == k) {
			snprintf(out, 8, "%04d-%02d", y, m);
			return 0;
		}
		p += 3;
	}
	return -1;
}

char *fill_end_date(const struct fill *f, size_t i)
{
	char start[8], end[8];

	if (sor_sentence_has(f->t, i, "present") || sor_sentence_has(f->t, i, "current") ||
	    sor_sentence_has(f->t, i, "now") || fill_date_of(f, i, 1, end) < 0 ||
	    fill_date_of(f, i, 0, start) < 0)
		return NULL;
	if (strcmp(end, start) < 0)
		memcpy(end, start, 8); /* never before the start */
	return strdup(end);
}

const char *const fill_domain_words[] = {
	"defi", "fintech", "payments", "banking", "insurance", "trading", "lending", "gaming",
	"healthcare", "health", "e-commerce", "ecommerce", "marketplace", "crypto", "blockchain",
	"web3", "infrastructure", "security", "analytics", "saas", "logistics", "education",
	"media", "telecom", "developer tools", "nfts", "exchange", NULL
};

char *fill_domain_of(const struct fill *f, const struct focus *fo)
{
	const char *const *w;

	for (w = fill_domain_words; *w; w++) {
		int hit = fo && fo->kind == F_SENT ? sor_sentence_has(f->t, fo->sent, *w)
						    : sor_has_word(f->t, *w);
		if (hit)
			return strdup(*w);
	}
	return NULL;
}

char *fill_first_line(const struct fill *f, size_t max_words)
{
	const struct sor_text *t = f->t;

	if (!t->nsent)
		return NULL;
	if (fill_words_in(t->clean + t->sent[0].off, t->sent[0].len) > max_words ||
	    memchr(t->clean + t->sent[0].off, '@', t->sent[0].len))
		return NULL;
	return fill_sentence(f, 0);
}

const char *const fill_experience_cues[] = { "years", "worked", "experience", "career", "joined",
					       NULL };
const char *const fill_personality_cues[] = { "team", "communication", "mentor", "mentored",
						"collaborative", "collaborated", "ownership",
						"curious", "leadership", "pragmatic", "independent",
						"culture", NULL };
const char *const fill_impact_cues[] = { "grew", "cut", "reduced", "increased", "improved",
					   "launched", "shipped", "saved", "scaled", "doubled",
					   "halved", "%", NULL };
const char *const fill_role_cues[] = { "role", "responsible", "responsibilities", "you will",
					 "looking for", "join", "report", "reporting", NULL };

/* ---- the input of a chat ---- */

static int message_text(const json_t *content, struct buf *out)
{
	size_t i;
	json_t *part;

	if (json_is_string(content))
		return buf_puts(out, json_string_value(content));
	json_array_foreach(content, i, part) {
		const char *t = json_string_value(json_object_get(part, "text"));
		if (t && ((out->len && buf_putc(out, '\n') < 0) || buf_puts(out, t) < 0))
			return -1;
	}
	return 0;
}

/* A line that opens or closes a data block: starts with "<<<" or ">>>", or ends with ">>>". */
static int marker_line(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return n >= 3 && (!strncmp(s, "<<<", 3) || !strncmp(s, ">>>", 3) || !strncmp(s + n - 3, ">>>", 3));
}

int sim_openrouter_input(const json_t *messages, struct buf *out)
{
	struct buf msg;
	int rc = -1, markers = 0, inside = 0;
	size_t i = json_array_size(messages);
	const char *p;

	buf_init(&msg, 0);
	while (i-- > 0) {
		json_t *m = json_array_get(messages, i);
		const char *role = json_string_value(json_object_get(m, "role"));
		buf_reset(&msg);
		if (!role || strcmp(role, "user") != 0)
			continue;
		if (message_text(json_object_get(m, "content"), &msg) < 0)
			goto out;
		if (strncasecmp(buf_cstr(&msg), FILL_INVALID_PREFIX, strlen(FILL_INVALID_PREFIX)) != 0)
			break;
	}
	for (p = buf_cstr(&msg); *p;) {
		size_t n = strcspn(p, "\n");
		if (marker_line(p, n))
			markers = 1;
		p += n + (p[n] == '\n');
	}
	for (p = buf_cstr(&msg); *p;) {
		size_t n = strcspn(p, "\n");
		if (markers && marker_line(p, n)) {
			inside = !inside;
		} else if (!markers || inside) {
			if (buf_append(out, p, n) < 0 || buf_putc(out, '\n') < 0)
				goto out;
		}
		p += n + (p[n] == '\n');
	}
	rc = 0;
out:
	buf_free(&msg);
	return rc;
}
