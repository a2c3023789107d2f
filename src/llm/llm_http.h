/*
 * The request machinery the chat and embedding calls of the LLM client
 * share: one POST with the outcome classified the way OpenRouter documents
 * its errors (retry, fail for good, or a body to read), usage taken from
 * every answer, and the wait before a retry (Retry-After, else exponential
 * backoff with jitter) until llm.max_retries are used up. Internal to
 * src/llm.
 */
#ifndef SCOUT_LLM_LLM_HTTP_H
#define SCOUT_LLM_LLM_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "llm/llm.h"

/* Outcomes of one request or of reading its answer. */
enum { LLM_ANS_OK = 0, LLM_ANS_RETRY, LLM_ANS_LENGTH, LLM_ANS_FAIL };

#define LLM_MAX_URL 2048

struct llm_post {
	struct llm *l;
	char url[LLM_MAX_URL];
	const char *what;	/* "chat" or "embeddings", for messages */
	int embedding;		/* usage.prompt_tokens counts as embedding tokens */
	size_t max_response;
	double retry_after_s;	/* of the last answer, -1 when absent */
};

void llm_post_init(struct llm_post *p, struct llm *l, const char *path, const char *what);

/*
 * POST body once. LLM_ANS_OK: *resp is the JSON object of a 200 answer that
 * carries no "error" (new reference). LLM_ANS_RETRY: why says what went
 * wrong. LLM_ANS_FAIL: e and l->last_error are set. The call and the
 * answer's usage are added to u.
 */
int llm_post_once(struct llm_post *p, const json_t *body, json_t **resp, struct llm_usage *u,
		  char *why, size_t whysz, serr *e) SCOUT_MUST;

/*
 * Before retry number n (0-based): -1 with LLM_ERR_RETRYABLE_EXHAUSTED and
 * why in e when llm.max_retries are used up, else sleep and 0.
 */
int llm_post_wait(struct llm_post *p, int n, const char *why, serr *e) SCOUT_MUST;

/* An OpenRouter error object {"code","message","metadata"} as short printable words. */
void llm_error_words(const json_t *err, const char *dflt, char *out, size_t outsz);

#endif
