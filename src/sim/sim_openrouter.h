/*
 * The OpenRouter-compatible part of the simulator, served under /api/v1:
 * POST /api/v1/chat/completions and POST /api/v1/embeddings with bearer
 * auth and OpenRouter's error shape ({"error":{"code","message"}}).
 *
 * The "model" is deterministic and well behaved: its structured answer is
 * valid against the requested schema and derived from the input text
 * (skills, numbers, places and sentences found in it); sentences that try
 * to instruct the model are set aside and only reported, never followed.
 * Embeddings are feature hashes of word unigrams and bigrams, so similar
 * texts get similar vectors. A PDF file part is read with the same
 * pdftotext extraction as src/pdf and answered with OpenRouter's file
 * annotation. docs/llm.md describes the answer model and the faults.
 */
#ifndef SCOUT_SIM_SIM_OPENROUTER_H
#define SCOUT_SIM_SIM_OPENROUTER_H

#include <pthread.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "sim/sim.h"
#include "sim/sim_http.h"

#define SIM_OR_RECENT 32 /* chat request bodies kept for tests */

struct sim_openrouter {
	pthread_mutex_t lock;	 /* guards everything below; may be taken under the sim lock, never the reverse */
	int latency_ms;		 /* added to every /api/v1 request (benchmarks) */
	long chat, embeddings, embedding_inputs, tokens, pdf_files;
	double cost;
	json_t *recent;		 /* last SIM_OR_RECENT chat request bodies, oldest first */
	struct config pdfcfg;	 /* pdf.* options for the extraction */
	int pdfcfg_ok;
};

int sim_openrouter_init(struct sim_openrouter *o);
void sim_openrouter_free(struct sim_openrouter *o);

/*
 * Answer one /api/v1 request. api_key is the bearer required; fault is the
 * injected fault that matched (NULL for none). Runs without the sim lock.
 */
void sim_openrouter_handle(struct sim_openrouter *o, const char *api_key, struct sim_req *rq,
			   struct sim_resp *rs, const struct sim_fault *fault);

/* {"chat","embeddings","embedding_inputs","tokens","pdf_files","cost"} (new reference). */
json_t *sim_openrouter_stats(struct sim_openrouter *o);
void sim_openrouter_reset_stats(struct sim_openrouter *o);
/* The last chat request bodies, oldest first (new reference). */
json_t *sim_openrouter_recent(struct sim_openrouter *o);
void sim_openrouter_set_latency(struct sim_openrouter *o, int ms);
int sim_openrouter_latency(struct sim_openrouter *o);

/*
 * The model's input in a chat's messages: the last user message (answers
 * to "your previous answer was invalid" are skipped), reduced to the
 * lines between "<<<" and ">>>" marker lines when it has them. Appended
 * to out; -1 when memory runs out.
 */
int sim_openrouter_input(const json_t *messages, struct buf *out);

/* A value valid against schema derived from text (new reference; NULL when memory runs out). */
json_t *sim_openrouter_answer(const json_t *schema, const char *text);

/* The deterministic embedding of text: dim floats, L2-normalized. */
void sim_openrouter_embed(const char *text, int dim, float *out);

#endif
