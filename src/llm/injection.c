/*
 * Phrase-based detection of instructions addressed to a model inside
 * untrusted text (see injection.h). The lists favour phrases that an
 * honest CV does not contain: "rate this candidate", "ignore previous
 * instructions", notes to an AI, chat-template tokens.
 */
#include "llm/injection.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

#define MAX_FINDINGS 256
#define CONTEXT_BEFORE 40
#define CONTEXT_AFTER 100
#define WINDOW_WORDS 5

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Normalized phrases: lowercase words separated by one space, apostrophes dropped. */
static const char *const phrases[] = {
	"note to ai", "note to the ai", "notes to ai", "note for ai", "note for the ai",
	"message to ai", "message to the ai", "dear ai", "hey ai", "hello ai", "attention ai",
	"to any ai", "ai reading this", "ai model reading this", "llm reading this",
	"model reading this", "if you are an ai", "if youre an ai", "if you are a language model",
	"if youre a language model", "if you are an llm", "if youre an llm",
	"if you are chatgpt", "if you are gpt", "if you are a bot", "ai screener", "ai screeners",
	"ai reviewer", "ai reviewers", "ai screening tool", "you are now", "from now on you",
	"new instructions", "updated instructions", "hidden instructions", "secret instructions",
	"do not reveal", "do not mention this", "dont mention this", "do not tell the recruiter",
	"dont tell the recruiter", "print the following", "output the following",
	"respond only with", "reply only with", "pretend you are", "pretend to be",
	"roleplay as", "jailbreak", "developer mode enabled", "is the best candidate",
	"is the perfect candidate", "is the ideal candidate", "is the strongest candidate",
	"is a perfect match", "is the perfect match", "must be hired", "should be hired",
	"must be shortlisted", "should be shortlisted", "must be rated", "should be rated",
	"must be ranked", "should be ranked", "must be scored", "should be scored",
	"must receive the highest", "give the highest score", "give the maximum score",
};

/* "<verb> <object>": "rate this candidate", "recommend this applicant", "rank me". */
static const char *const candidate_verbs[] = {
	"rate",	     "score",	  "rank",	"grade",  "give",    "hire",
	"recommend", "shortlist", "select",	"approve", "advance", "prioritize",
	"prioritise", "mark",
};
static const char *const candidate_objects[] = { "this candidate", "this applicant", "this cv",
						 "this resume", "this profile" };
static const char *const self_verbs[] = { "rate", "score", "rank", "grade" };
static const char *const self_objects[] = { "me", "him", "her" };

/* "<verb> ... <noun>" within a few words: "ignore all of the previous instructions". */
static const char *const override_verbs[] = { "ignore", "disregard", "forget",
					      "override", "bypass", "overwrite" };
static const char *const override_nouns[] = { "instructions", "instruction", "prompt",
					      "prompts", "rules", "guidelines", "directives" };

/* Chat-template tokens, matched in the original text, case-insensitively. */
static const char *const tokens[] = { "<|im_start|>", "<|im_end|>",    "<|system|>",
				      "<|user|>",     "<|assistant|>", "<|endoftext|>",
				      "[INST]",	      "[/INST]",       "<<SYS>>" };

struct norm {
	char *s;
	uint32_t *map; /* offset in the original text of each normalized byte */
	size_t len;
};

struct finding {
	size_t start, end; /* in the original text */
	const char *what;
	char phrase[64]; /* "" when the finding is not one phrase */
};

struct scan {
	const char *text;
	size_t tlen;
	struct norm n;
	struct finding f[MAX_FINDINGS];
	size_t nf;
};

static int alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Bytes of an invisible character at s (zero-width space/joiners, word joiner, BOM, soft hyphen). */
static size_t invisible(const unsigned char *s, size_t left)
{
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x8b && s[2] <= 0x8d)
		return 3;
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0xa0)
		return 3;
	if (left >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;
	if (left >= 2 && s[0] == 0xc2 && s[1] == 0xad)
		return 2;
	return 0;
}

static int normalize(const char *text, size_t len, struct norm *n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t bytes, i = 0;

	if (size_mul(len + 1, sizeof(uint32_t), &bytes) < 0)
		return -1;
	n->s = malloc(len + 1);
	n->map = malloc(bytes);
	n->len = 0;
	if (!n->s || !n->map)
		return -1;
	while (i < len) {
		size_t skip = invisible(s + i, len - i);

		if (skip) {
			i += skip;
			continue;
		}
		if (s[i] == '\'' || s[i] == '`') {
			i++;
			continue;
		}
		if (len - i >= 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
			i += 3; /* right single quotation mark, the typographic apostrophe */
			continue;
		}
		if (alnum(s[i]) || s[i] >= 0x80) {
			n->s[n->len] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a')
								     : (char)s[i];
			n->map[n->len++] = (uint32_t)i;
		} else if (n->len > 0 && n->s[n->len - 1] != ' ') {
			n->s[n->len] = ' ';
			n->map[n->len++] = (uint32_t)i;
		}
		i++;
	}
	n->s[n->len] = '\0';
	n->map[n->len] = (uint32_t)len;
	return 0;
}

/* Record a finding unless it overlaps one already found. */
static void found(struct scan *sc, size_t start, size_t end, const char *what,
		  const char *phrase)
{
	for (size_t i = 0; i < sc->nf; i++)
		if (start < sc->f[i].end && sc->f[i].start < end)
			return;
	if (sc->nf == MAX_FINDINGS)
		return;
	sc->f[sc->nf].start = start;
	sc->f[sc->nf].end = end;
	sc->f[sc->nf].what = what;
	snprintf(sc->f[sc->nf].phrase, sizeof(sc->f[sc->nf].phrase), "%s", phrase ? phrase : "");
	sc->nf++;
}

/* Each whole-word occurrence of phrase in the normalized text, calling back with its span. */
static void find_words(struct scan *sc, const char *phrase, const char *what)
{
	const char *s = sc->n.s, *p = s;
	size_t plen = strlen(phrase);

	while ((p = memmem(p, sc->n.len - (size_t)(p - s), phrase, plen)) != NULL) {
		size_t pos = (size_t)(p - s), end = pos + plen;

		if ((pos == 0 || s[pos - 1] == ' ') && (end == sc->n.len || s[end] == ' '))
			found(sc, sc->n.map[pos], sc->n.map[end - 1] + 1, what, phrase);
		p++;
	}
}

static void find_pairs(struct scan *sc, const char *const *verbs, size_t nv,
		       const char *const *objs, size_t no, const char *what)
{
	char phrase[64];

	for (size_t v = 0; v < nv; v++)
		for (size_t o = 0; o < no; o++) {
			size_t a = strlen(verbs[v]), b = strlen(objs[o]);

			if (a + b + 2 > sizeof(phrase))
				continue;
			memcpy(phrase, verbs[v], a);
			phrase[a] = ' ';
			memcpy(phrase + a + 1, objs[o], b + 1);
			find_words(sc, phrase, what);
		}
}

static int word_is(const char *w, size_t wlen, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == wlen && memcmp(w, list[i], wlen) == 0)
			return 1;
	return 0;
}

/* An override verb followed within WINDOW_WORDS words by an instruction noun. */
static void find_overrides(struct scan *sc)
{
	const char *s = sc->n.s;
	size_t len = sc->n.len, i = 0;

	while (i < len) {
		size_t wend = i;

		while (wend < len && s[wend] != ' ')
			wend++;
		if (word_is(s + i, wend - i, override_verbs, COUNT(override_verbs))) {
			size_t j = wend;

			for (int w = 0; w < WINDOW_WORDS && j < len; w++) {
				size_t b = j + 1, e = b;

				while (e < len && s[e] != ' ')
					e++;
				if (e > b && word_is(s + b, e - b, override_nouns, COUNT(override_nouns))) {
					found(sc, sc->n.map[i], sc->n.map[e - 1] + 1,
					      "an instruction to ignore earlier instructions", NULL);
					break;
				}
				j = e;
			}
		}
		i = wend + 1;
	}
}

static void find_tokens(struct scan *sc)
{
	for (size_t t = 0; t < COUNT(tokens); t++) {
		const char *p = sc->text;

		while ((p = strcasestr(p, tokens[t])) != NULL) {
			size_t pos = (size_t)(p - sc->text);

			if (pos >= sc->tlen)
				break;
			found(sc, pos, pos + strlen(tokens[t]), "a chat template token", tokens[t]);
			p += strlen(tokens[t]);
		}
	}
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The passage around a finding, cut at UTF-8 boundaries, control characters as spaces. */
static int describe(const struct scan *sc, const struct finding *f, struct buf *ev)
{
	size_t a = f->start > CONTEXT_BEFORE ? f->start - CONTEXT_BEFORE : 0;
	size_t b = f->end + CONTEXT_AFTER < sc->tlen ? f->end + CONTEXT_AFTER : sc->tlen;
	const unsigned char *t = (const unsigned char *)sc->text;
	int space = 0;

	while (a < f->start && (t[a] & 0xc0) == 0x80)
		a++;
	while (b > f->end && b < sc->tlen && (t[b] & 0xc0) == 0x80)
		b--;
	if (ev->len > 0 && buf_putc(ev, '\n') < 0)
		return -1;
	if (f->phrase[0] && buf_printf(ev, "%s ('%s'): \"", f->what, f->phrase) < 0)
		return -1;
	if (!f->phrase[0] && buf_printf(ev, "%s: \"", f->what) < 0)
		return -1;
	if (a > 0 && buf_puts(ev, "...") < 0)
		return -1;
	for (size_t i = a; i < b; i++) {
		int ws = t[i] < 0x20 || t[i] == 0x7f || t[i] == ' ';

		if (ws && space)
			continue;
		if (buf_putc(ev, ws ? ' ' : (char)t[i]) < 0)
			return -1;
		space = ws;
	}
	if (b < sc->tlen && buf_puts(ev, "...") < 0)
		return -1;
	return buf_putc(ev, '"');
}

int injection_scan(const char *text, struct buf *evidence)
{
	struct scan *sc;
	int count;

	if (!text || !*text)
		return 0;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -1;
	sc->text = text;
	sc->tlen = strnlen(text, INJECTION_MAX_SCAN);
	if (normalize(text, sc->tlen, &sc->n) < 0) {
		count = -1;
		goto out;
	}
	for (size_t i = 0; i < COUNT(phrases); i++)
		find_words(sc, phrases[i], "a note or instruction addressed to an AI");
	find_pairs(sc, candidate_verbs, COUNT(candidate_verbs), candidate_objects,
		   COUNT(candidate_objects), "an instruction about rating the candidate");
	find_pairs(sc, self_verbs, COUNT(self_verbs), self_objects, COUNT(self_objects),
		   "an instruction about rating the candidate");
	find_overrides(sc);
	find_tokens(sc);
	count = (int)sc->nf;
	qsort(sc->f, sc->nf, sizeof(sc->f[0]), cmp_finding);
	for (size_t i = 0; evidence && i < sc->nf && i < INJECTION_MAX_EVIDENCE; i++) {
		size_t keep = evidence->len;

		if (describe(sc, &sc->f[i], evidence) < 0) {
			/* Out of room: drop the partial line, keep the count. */
			evidence->len = keep;
			if (evidence->data)
				evidence->data[keep] = '\0';
			evidence->overflow = 0;
			break;
		}
	}
out:
	free(sc->n.s);
	free(sc->n.map);
	free(sc);
	return count;
}
