/* Reading skills, numbers, places and injected text out of an input, for the LLM simulator. */
#include "sim/sim_openrouter_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c & 0x80);
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int lower_c(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

long sor_word_at(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	if (!wl || wl > n)
		return -1;
	for (size_t i = 0; i + wl <= n; i++) {
		if (s[i] != word[0] || memcmp(s + i, word, wl) != 0)
			continue;
		if (i > 0 && is_alnum((unsigned char)s[i - 1]) && is_alnum((unsigned char)word[0]))
			continue;
		if (i + wl < n && is_alnum((unsigned char)word[wl - 1]) &&
		    (is_alnum((unsigned char)s[i + wl]) || s[i + wl] == '+' || s[i + wl] == '#'))
			continue;
		return (long)i;
	}
	return -1;
}

int sor_has_word(const struct sor_text *t, const char *word)
{
	return sor_word_at(t->lower, t->len, word) >= 0;
}

int sor_sentence_has(const struct sor_text *t, size_t i, const char *word)
{
	if (i >= t->nsent)
		return 0;
	return sor_word_at(t->lower + t->sent[i].off, t->sent[i].len, word) >= 0;
}

long sor_find_sentence(const struct sor_text *t, const char *const *words, size_t from)
{
	for (size_t i = from; i < t->nsent; i++)
		for (const char *const *w = words; *w; w++)
			if (sor_sentence_has(t, i, *w))
				return (long)i;
	return -1;
}

char *sor_sentence(const struct sor_text *t, size_t i)
{
	if (i >= t->nsent)
		return strdup("");
	return strndup(t->clean + t->sent[i].off, t->sent[i].len);
}

const char *sor_skill_name(int id)
{
	return id >= 0 && (size_t)id < sor_nskills ? sor_skills[id].name : "";
}

const char *sor_skill_canonical(int id)
{
	return id >= 0 && (size_t)id < sor_nskills ? sor_skills[id].canonical : "";
}

const char *sor_zone_name(int i)
{
	return i >= 0 && (size_t)i < sor_nplaces ? sor_places[i].zone : "UTC";
}

int sor_is_injection(const char *lower, size_t n)
{
	for (size_t i = 0; i < sor_ninjection_markers; i++) {
		size_t ml = strlen(sor_injection_markers[i]);
		for (size_t k = 0; k + ml <= n; k++)
			if (memcmp(lower + k, sor_injection_markers[i], ml) == 0)
				return 1;
	}
	return 0;
}

/* ---- sentences ---- */

static void add_span(struct sor_text *t, size_t off, size_t len, size_t line)
{
	if (t->nsent == SOR_MAX_SENTENCES)
		return;
	t->sent[t->nsent].off = off;
	t->sent[t->nsent].len = len;
	t->sent[t->nsent].line = line;
	t->nsent++;
}

/* Where the sentence starting at s[i] (within a line ending at end) ends. */
static size_t sentence_end(const char *s, size_t i, size_t end)
{
	size_t start = i;

	for (; i < end; i++) {
		char c = s[i];
		if ((c == '.' || c == '!' || c == '?') && (i + 1 == end || s[i + 1] == ' ')) {
			/* "1." of a numbered list, or a lone initial, is not an end */
			int digits = 1;
			for (size_t k = start; k < i; k++)
				if (!is_digit((unsigned char)s[k]) && s[k] != ' ')
					digits = 0;
			if (digits || (i >= 1 && i - start >= 1 && s[i - 1] >= 'A' && s[i - 1] <= 'Z' &&
				       (i < 2 || s[i - 2] == ' ')))
				continue;
			return i + 1;
		}
	}
	return end;
}

/* Split input into lines and sentences; keep the clean ones in t->clean. */
static int split(struct sor_text *t, const char *in, size_t n)
{
	size_t ls = 0, line = 0;
	struct buf clean;

	buf_init(&clean, 0);
	while (ls < n) {
		size_t le = ls, i;
		int line_has = 0;
		while (le < n && in[le] != '\n')
			le++;
		i = ls;
		while (i < le) {
			size_t se = sentence_end(in, i, le), a = i, b = se;
			char low[4096];
			size_t ll;
			for (;;) {
				if (a < b && (in[a] == ' ' || in[a] == '\t' || in[a] == '\r' || in[a] == '-' ||
					      in[a] == '*'))
					a++;
				else if (a + 2 < b && memcmp(in + a, "\xe2\x80\xa2", 3) == 0) /* "•" */
					a += 3;
				else
					break;
			}
			while (b > a && (in[b - 1] == ' ' || in[b - 1] == '\t' || in[b - 1] == '\r'))
				b--;
			i = se;
			if (b <= a)
				continue;
			ll = b - a < sizeof(low) ? b - a : sizeof(low);
			for (size_t k = 0; k < ll; k++)
				low[k] = (char)lower_c((unsigned char)in[a + k]);
			if (sor_is_injection(low, ll)) {
				t->injected = 1;
				if ((t->injection.len && buf_putc(&t->injection, ' ') < 0) ||
				    buf_append(&t->injection, in + a, b - a) < 0)
					goto oom;
				continue;
			}
			if (line_has && buf_putc(&clean, ' ') < 0)
				goto oom;
			add_span(t, clean.len, b - a, line);
			if (buf_append(&clean, in + a, b - a) < 0)
				goto oom;
			line_has = 1;
		}
		if (line_has && buf_putc(&clean, '\n') < 0)
			goto oom;
		ls = le + 1;
		line++;
	}
	t->len = clean.len;
	t->clean = buf_detach(&clean);
	if (!t->clean && !(t->clean = strdup("")))
		return -1;
	buf_free(&clean);
	return 0;
oom:
	buf_free(&clean);
	return -1;
}

/* ---- skills ---- */

/* The rating word closest to the mention at..at+len (gap between the two, earlier word on a tie). */
static int rating_near(const struct sor_text *t, size_t sent, size_t at, size_t len)
{
	const struct sor_span *sp = &t->sent[sent];
	long best = -1;
	int rating = 6;

	for (size_t i = 0; i < sor_nrating_words; i++) {
		long p = sor_word_at(t->lower + sp->off, sp->len, sor_rating_words[i].word);
		size_t w0, w1;
		long d;
		if (p < 0)
			continue;
		w0 = sp->off + (size_t)p;
		w1 = w0 + strlen(sor_rating_words[i].word);
		if (w1 > at && w0 < at + len)
			continue; /* part of the skill's own name */
		d = w1 <= at ? (long)(at - w1) : (long)(w0 - at - len) + 1;
		if (best < 0 || d < best) {
			best = d;
			rating = sor_rating_words[i].rating;
		}
	}
	return rating;
}

/* Earliest whole-word mention of skill k in the text, or -1. */
static long skill_at(const struct sor_text *t, size_t k)
{
	char low[64], alt[64];
	long best = -1, p;
	const char *a = sor_skills[k].alts;
	size_t j = 0;

	for (const char *s = sor_skills[k].name; *s && j + 1 < sizeof(low); s++)
		low[j++] = (char)lower_c((unsigned char)*s);
	low[j] = '\0';
	if (strcmp(sor_skills[k].name, "Go") == 0) {
		/* "go" is an ordinary word: only the capitalised name counts */
		best = sor_word_at(t->clean, t->len, "Go");
	} else {
		best = sor_word_at(t->lower, t->len, low);
	}
	while (*a) {
		size_t n = strcspn(a, "|");
		if (n < sizeof(alt)) {
			memcpy(alt, a, n);
			alt[n] = '\0';
			p = sor_word_at(t->lower, t->len, alt);
			if (p >= 0 && (best < 0 || p < best))
				best = p;
		}
		a += n;
		if (*a == '|')
			a++;
	}
	return best;
}

static size_t sentence_of(const struct sor_text *t, size_t at);

/*
 * The rating of skill k: in every sentence that mentions it, the rating
 * word nearest to the mention; the highest wins (its sentence becomes the
 * evidence). "Expert in Rust" outranks an earlier "uses Rust".
 */
static void rate_skill(const struct sor_text *t, size_t k, struct sor_skill *s)
{
	char low[64];
	size_t j = 0, best_sent = s->sent;
	int best = -1, cased = strcmp(sor_skills[k].name, "Go") == 0;
	const char *hay = cased ? t->clean : t->lower;

	for (const char *p = sor_skills[k].name; *p && j + 1 < sizeof(low); p++)
		low[j++] = cased ? *p : (char)lower_c((unsigned char)*p);
	low[j] = '\0';

	for (size_t i = 0; i < t->nsent; i++) {
		const struct sor_span *sp = &t->sent[i];
		long p = i == s->sent ? (long)(s->at - sp->off) : sor_word_at(hay + sp->off, sp->len, low);
		int r;
		if (p < 0)
			continue;
		r = rating_near(t, i, sp->off + (size_t)p, strlen(low));
		if (r > best) {
			best = r;
			best_sent = i;
		}
	}
	s->sent = best_sent;
	s->rating = best > 0 ? best : 6;
}

static size_t sentence_of(const struct sor_text *t, size_t at)
{
	for (size_t i = 0; i < t->nsent; i++)
		if (at >= t->sent[i].off && at < t->sent[i].off + t->sent[i].len)
			return i;
	return 0;
}

/* Per-sentence flag: the sentence belongs to a "nice to have" part of the text. */
static void nice_sections(const struct sor_text *t, unsigned char *nice)
{
	static const char *const start[] = { "nice to have", "nice-to-have", "bonus", "a plus",
					     "preferred", "good to have", "is a plus", NULL };
	static const char *const stop[] = { "must have", "must-have", "required", "requirements",
					    "responsibilities", "what you will", "you will", NULL };
	int in = 0;

	for (size_t i = 0; i < t->nsent; i++) {
		for (const char *const *w = stop; *w; w++)
			if (sor_sentence_has(t, i, *w))
				in = 0;
		for (const char *const *w = start; *w; w++)
			if (sor_sentence_has(t, i, *w))
				in = 1;
		nice[i] = (unsigned char)in;
	}
}

static int cmp_skill(const void *a, const void *b)
{
	const struct sor_skill *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static int find_skills(struct sor_text *t)
{
	unsigned char *nice = calloc(t->nsent ? t->nsent : 1, 1);

	if (!nice)
		return -1;
	nice_sections(t, nice);
	for (size_t k = 0; k < sor_nskills && t->nskills < SOR_MAX_SKILLS; k++) {
		long at = skill_at(t, k);
		struct sor_skill *s;
		if (at < 0)
			continue;
		s = &t->skills[t->nskills++];
		s->id = (int)k;
		s->at = (size_t)at;
		s->sent = sentence_of(t, (size_t)at);
		s->nice = t->nsent ? nice[s->sent] : 0;
		rate_skill(t, k, s);
	}
	free(nice);
	qsort(t->skills, t->nskills, sizeof(t->skills[0]), cmp_skill);
	return 0;
}

/* ---- numbers ---- */

/* A number at s[i] (digits, thousands commas, decimals): value and end; -1 when none. */
static int number_at(const char *s, size_t n, size_t i, double *v, size_t *end)
{
	double x = 0, frac = 0.1;
	int any = 0, dot = 0;

	if (i > 0 && (is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '.'))
		return -1;
	for (; i < n; i++) {
		char c = s[i];
		if (is_digit((unsigned char)c)) {
			if (dot) {
				x += (c - '0') * frac;
				frac /= 10;
			} else {
				x = x * 10 + (c - '0');
			}
			any = 1;
		} else if (c == ',' && !dot && i + 3 < n && is_digit((unsigned char)s[i + 1]) &&
			   is_digit((unsigned char)s[i + 2]) && is_digit((unsigned char)s[i + 3])) {
			continue;
		} else if (c == '.' && !dot && i + 1 < n && is_digit((unsigned char)s[i + 1])) {
			dot = 1;
		} else {
			break;
		}
	}
	if (!any || x > 1e12)
		return -1;
	*v = x;
	*end = i;
	return 0;
}

/*
 * Years of experience: the first "N years of experience", else the largest
 * "N years" in a sentence about experience, else the largest at all.
 */
static void find_years(struct sor_text *t)
{
	int best_exp = -1, best_any = -1, stated = -1;

	for (size_t si = 0; si < t->nsent && stated < 0; si++) {
		const char *s = t->lower + t->sent[si].off;
		size_t n = t->sent[si].len;
		int exp = sor_word_at(s, n, "experience") >= 0;
		for (size_t i = 0; i < n; i++) {
			double v;
			size_t e, k;
			if (!is_digit((unsigned char)s[i]) || number_at(s, n, i, &v, &e) < 0)
				continue;
			k = e;
			if (k < n && s[k] == '+')
				k++;
			while (k < n && s[k] == ' ')
				k++;
			if (v <= 60 && (strncmp(s + k, "year", 4) == 0 || strncmp(s + k, "yr", 2) == 0)) {
				const char *after = s + k;
				size_t left = n - k;
				if ((left > 20 && memmem(after, left < 40 ? left : 40, "of experience", 13)) ||
				    (left > 30 && memmem(after, left < 50 ? left : 50, "of professional experience", 26))) {
					stated = (int)v;
					break;
				}
				if (exp && (int)v > best_exp)
					best_exp = (int)v;
				if ((int)v > best_any)
					best_any = (int)v;
			}
			i = e;
		}
	}
	t->years = stated >= 0 ? stated : best_exp >= 0 ? best_exp : best_any;
}


static int pay_sentence(const char *s, size_t n)
{
	static const char *const cues[] = { "salary", "compensation", "pay", "paid", "rate",
					    "budget", "per hour", "per month", "per year",
					    "annual", "usd", "eur", "gbp", "$", "\xe2\x82\xac",
					    "\xc2\xa3", "k/year", "/hour", "/month", "/yr" };

	for (size_t i = 0; i < sizeof(cues) / sizeof(cues[0]); i++) {
		size_t cl = strlen(cues[i]);
		if (is_alnum((unsigned char)cues[i][0]) ? sor_word_at(s, n, cues[i]) >= 0
							 : memmem(s, n, cues[i], cl) != NULL)
			return 1;
	}
	return 0;
}

/* The currency named in a pay sentence (first mention), or NULL. */
static const char *currency_in(const char *s, size_t n)
{
	long best = -1;
	const char *code = NULL;

	for (size_t i = 0; i < sor_ncurrencies; i++) {
		const char *m = sor_currencies[i].mark;
		long p = is_alnum((unsigned char)m[0]) ? sor_word_at(s, n, m) : -1;
		if (!is_alnum((unsigned char)m[0])) {
			const char *q = memmem(s, n, m, strlen(m));
			p = q ? (long)(q - s) : -1;
		}
		if (p >= 0 && (best < 0 || p < best)) {
			best = p;
			code = sor_currencies[i].code;
		}
	}
	return code;
}

/* 1 when a currency code or sign follows the amount ending at e ("60 USD", "80k €"). */
static int currency_follows(const char *s, size_t n, size_t e)
{
	while (e < n && s[e] == ' ')
		e++;
	for (size_t i = 0; i < sor_ncurrencies; i++) {
		size_t ml = strlen(sor_currencies[i].mark);
		if (e + ml <= n && memcmp(s + e, sor_currencies[i].mark, ml) == 0 &&
		    (e + ml == n || !is_alnum((unsigned char)s[e + ml]) || !is_alnum((unsigned char)s[e])))
			return 1;
	}
	return 0;
}

static void find_money(struct sor_text *t)
{
	for (size_t si = 0; si < t->nsent && t->nmoney < SOR_MAX_MONEY; si++) {
		const char *s = t->lower + t->sent[si].off;
		size_t n = t->sent[si].len;
		const char *cur;
		size_t before = t->nmoney;
		if (!pay_sentence(s, n))
			continue;
		for (size_t i = 0; i < n && t->nmoney < SOR_MAX_MONEY; i++) {
			double v;
			size_t e;
			int k = 0, marked;
			if (!is_digit((unsigned char)s[i]) || number_at(s, n, i, &v, &e) < 0)
				continue;
			if (e < n && s[e] == 'k' && (e + 1 == n || !is_alnum((unsigned char)s[e + 1])))
				k = 1, v *= 1000, e++;
			else if (e < n && s[e] == 'm' && (e + 1 == n || !is_alnum((unsigned char)s[e + 1])))
				k = 1, v *= 1000000, e++;
			/* "90-120k": the k of the upper bound applies to the lower one */
			if (!k && e + 1 < n && (s[e] == '-' || s[e] == ' ')) {
				size_t j = e;
				double w;
				size_t we;
				while (j < n && (s[j] == '-' || s[j] == ' ' || s[j] == 't' || s[j] == 'o'))
					j++;
				if (j < n && number_at(s, n, j, &w, &we) == 0 && we < n && s[we] == 'k' &&
				    v < 1000)
					v *= 1000, k = 1;
			}
			marked = (i > 0 && (s[i - 1] == '$' || (unsigned char)s[i - 1] >= 0x80)) || k ||
				 currency_follows(s, n, e);
			if ((marked || v >= 1000) && !(v >= 1900 && v <= 2100 && !marked))
				t->money[t->nmoney++] = v;
			i = e;
		}
		if (t->nmoney == before)
			continue;
		if (!t->currency[0] && (cur = currency_in(s, n)) != NULL)
			memcpy(t->currency, cur, 4);
		if (t->period == SOR_PERIOD_NONE) {
			if (memmem(s, n, "hour", 4) || memmem(s, n, "/hr", 3))
				t->period = SOR_PERIOD_HOUR;
			else if (memmem(s, n, "month", 5) || memmem(s, n, "/mo", 3))
				t->period = SOR_PERIOD_MONTH;
			else
				t->period = SOR_PERIOD_YEAR;
		}
	}
}

double sor_annual_usd(const struct sor_text *t, double amount)
{
	double f = t->period == SOR_PERIOD_HOUR ? 2000 : t->period == SOR_PERIOD_MONTH ? 12 : 1;

	for (size_t i = 0; i < sor_ncurrencies; i++)
		if (strcmp(sor_currencies[i].code, t->currency) == 0) {
			f *= sor_currencies[i].usd;
			break;
		}
	return round(amount * f);
}

/* ---- places, contacts ---- */

/*
 * The place the text names: an IANA zone written out wins; else the
 * earliest city, preferring one whose country is named too (so "Cairo" the
 * language does not move a candidate to Egypt); else a country alone.
 */
static void find_place(struct sor_text *t)
{
	long best = -1;
	int bi = -1, best_rank = 0, written = -1;

	for (size_t i = 0; i < sor_nplaces && written < 0; i++) {
		char zl[64];
		size_t j = 0;
		for (const char *z = sor_places[i].zone; *z && j + 1 < sizeof(zl); z++)
			zl[j++] = (char)lower_c((unsigned char)*z);
		zl[j] = '\0';
		if (sor_word_at(t->lower, t->len, zl) >= 0)
			written = (int)i;
	}
	t->zone = written;
	for (size_t i = 0; i < sor_nplaces; i++) {
		long pc = sor_word_at(t->lower, t->len, sor_places[i].city);
		long pn = sor_word_at(t->lower, t->len, sor_places[i].country);
		int rank = pc >= 0 && pn >= 0 ? 3 : pc >= 0 ? 2 : pn >= 0 ? 1 : 0;
		long p = pc >= 0 ? pc : pn;
		if (!rank)
			continue;
		if (rank > best_rank || (rank == best_rank && p < best)) {
			best_rank = rank;
			best = p;
			bi = (int)i;
		}
	}
	if (bi < 0)
		return;
	if (best_rank == 1) {
		/* a country alone: its main zone, the first row naming it */
		for (size_t i = 0; i < (size_t)bi; i++)
			if (strcmp(sor_places[i].country_name, sor_places[bi].country_name) == 0) {
				bi = (int)i;
				break;
			}
	} else {
		snprintf(t->city, sizeof(t->city), "%s", sor_places[bi].city_name);
	}
	if (written < 0)
		t->zone = bi;
	snprintf(t->country, sizeof(t->country), "%s", sor_places[bi].country_name);
}

static int mail_c(int c)
{
	return is_alnum(c) && !(c & 0x80) ? 1 : (c == '.' || c == '_' || c == '-' || c == '+' || c == '%');
}

static void find_contacts(struct sor_text *t)
{
	const char *s = t->clean;
	const char *at = strchr(s, '@');
	const char *u;

	while (at && !t->email[0]) {
		const char *a = at, *b = at + 1;
		while (a > s && mail_c((unsigned char)a[-1]))
			a--;
		while (*b && mail_c((unsigned char)*b))
			b++;
		while (b > at + 1 && b[-1] == '.')
			b--;
		if (a < at && memchr(at, '.', (size_t)(b - at)) && (size_t)(b - a) < sizeof(t->email))
			snprintf(t->email, sizeof(t->email), "%.*s", (int)(b - a), a);
		at = strchr(at + 1, '@');
	}
	u = strstr(s, "https://");
	if (!u)
		u = strstr(s, "http://");
	if (u) {
		size_t n = strcspn(u, " \t\n\r)>\"'<,");
		while (n && (u[n - 1] == '.' || u[n - 1] == ';'))
			n--;
		if (n < sizeof(t->url))
			snprintf(t->url, sizeof(t->url), "%.*s", (int)n, u);
	}
}

/* ---- the whole reading ---- */

int sor_text_init(struct sor_text *t, const char *input)
{
	size_t n = strlen(input);

	memset(t, 0, sizeof(*t));
	t->years = -1;
	t->zone = -1;
	buf_init(&t->injection, 64 * 1024);
	if (n > SOR_MAX_INPUT)
		n = SOR_MAX_INPUT;
	t->sent = calloc(SOR_MAX_SENTENCES, sizeof(*t->sent));
	if (!t->sent || split(t, input, n) < 0)
		goto oom;
	t->lower = malloc(t->len + 1);
	if (!t->lower)
		goto oom;
	for (size_t i = 0; i <= t->len; i++)
		t->lower[i] = (char)lower_c((unsigned char)t->clean[i]);
	if (find_skills(t) < 0)
		goto oom;
	find_years(t);
	find_money(t);
	find_place(t);
	find_contacts(t);
	return 0;
oom:
	sor_text_free(t);
	return -1;
}

void sor_text_free(struct sor_text *t)
{
	free(t->clean);
	free(t->lower);
	free(t->sent);
	buf_free(&t->injection);
	t->clean = t->lower = NULL;
	t->sent = NULL;
}

/* ---- embeddings ---- */

static uint64_t fnv1a(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void add_feature(float *out, int dim, uint64_t h, float w)
{
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	out[h % (uint64_t)dim] += (h >> 63) ? -w : w;
}

void sor_embed(const char *text, int dim, float *out)
{
	const uint64_t basis = 14695981039346656037ULL;
	char prev[64], cur[64];
	size_t pl = 0;
	double norm = 0;

	memset(out, 0, (size_t)dim * sizeof(float));
	for (const char *p = text; *p;) {
		size_t cl = 0;
		while (*p && !is_alnum((unsigned char)*p))
			p++;
		while (*p && (is_alnum((unsigned char)*p) || *p == '+' || *p == '#')) {
			if (cl + 1 < sizeof(cur))
				cur[cl++] = (char)lower_c((unsigned char)*p);
			p++;
		}
		if (!cl)
			break;
		add_feature(out, dim, fnv1a(cur, cl, basis), 1.0f);
		if (pl) {
			uint64_t h = fnv1a(prev, pl, basis);
			h = fnv1a(" ", 1, h);
			add_feature(out, dim, fnv1a(cur, cl, h), 0.5f);
		}
		memcpy(prev, cur, cl);
		pl = cl;
	}
	for (int i = 0; i < dim; i++)
		norm += (double)out[i] * out[i];
	if (norm == 0) {
		out[0] = 1;
		return;
	}
	norm = sqrt(norm);
	for (int i = 0; i < dim; i++)
		out[i] = (float)(out[i] / norm);
}
