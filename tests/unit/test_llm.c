/* Unit tests of the LLM client's set-up and bookkeeping (the calls themselves are in tests/integration/test_llm.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "llm/llm.h"

static void init_needs_a_key_and_names_the_variable(void **state)
{
	struct config cfg;
	struct llm l;
	serr e;

	(void)state;
	assert_int_equal(config_init(&cfg, &e), 0);
	assert_int_equal(llm_init(&l, &cfg, &e), -1);
	assert_non_null(strstr(e.msg, "OPENROUTER_API_KEY"));
	assert_int_equal(config_set(&cfg, "openrouter.api_key", "sk-or-v1-unit-test-key", &e), 0);
	assert_int_equal(config_set(&cfg, "openrouter.api_url", "", &e), 0);
	assert_int_equal(llm_init(&l, &cfg, &e), -1);
	assert_non_null(strstr(e.msg, "OPENROUTER_API_URL"));
	assert_null(strstr(e.msg, "sk-or-v1-unit-test-key"));
	config_free(&cfg);
}

static void init_trims_the_root_and_starts_clean(void **state)
{
	struct config cfg;
	struct llm l;
	serr e;

	(void)state;
	assert_int_equal(config_init(&cfg, &e), 0);
	assert_int_equal(config_set(&cfg, "openrouter.api_key", "sk-or-v1-unit-test-key", &e), 0);
	assert_int_equal(config_set(&cfg, "openrouter.api_url", "http://127.0.0.1:9/api/v1//", &e), 0);
	assert_int_equal(llm_init(&l, &cfg, &e), 0);
	assert_string_equal(l.root, "http://127.0.0.1:9/api/v1");
	assert_int_equal(llm_last_error(&l), LLM_OK);
	assert_int_equal(l.total.calls, 0);
	llm_free(&l);
	config_free(&cfg);
}

static void defaults_match_the_documented_models(void **state)
{
	struct config cfg;
	struct llm_chat c;
	serr e;

	(void)state;
	assert_int_equal(config_init(&cfg, &e), 0);
	assert_string_equal(cfg.llm_chat_model, "openai/gpt-4o-mini");
	assert_string_equal(cfg.llm_embedding_model, "openai/text-embedding-3-small");
	assert_int_equal(cfg.llm_embedding_dimensions, 1536);
	assert_int_equal(cfg.llm_embedding_batch, 64);
	assert_string_equal(cfg.llm_pdf_engine, "pdf-text");
	assert_true(cfg.llm_temperature == 0);
	llm_chat_init(&c);
	assert_true(c.temperature < 0); /* the configured one */
	assert_null(c.schema);
	assert_int_equal(c.max_tokens, 0);
	config_free(&cfg);
}

static void usage_adds_every_counter(void **state)
{
	struct llm_usage a = { 1, 2, 3, 4, 5, 6, 0.5 }, b = { 10, 20, 30, 40, 50, 60, 0.25 };

	(void)state;
	llm_usage_add(&a, &b);
	assert_int_equal(a.calls, 11);
	assert_int_equal(a.retries, 22);
	assert_int_equal(a.prompt_tokens, 33);
	assert_int_equal(a.completion_tokens, 44);
	assert_int_equal(a.embedding_tokens, 55);
	assert_int_equal(a.embedding_inputs, 66);
	assert_true(a.cost_usd == 0.75);
}

static void error_kinds_have_names(void **state)
{
	(void)state;
	assert_string_equal(llm_error_kind_name(LLM_ERR_NO_CREDITS), "no_credits");
	assert_string_equal(llm_error_kind_name(LLM_ERR_RETRYABLE_EXHAUSTED), "retryable_exhausted");
	assert_string_equal(llm_error_kind_name(LLM_OK), "ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_needs_a_key_and_names_the_variable),
		cmocka_unit_test(init_trims_the_root_and_starts_clean),
		cmocka_unit_test(defaults_match_the_documented_models),
		cmocka_unit_test(usage_adds_every_counter),
		cmocka_unit_test(error_kinds_have_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
