/* Unit tests of the core helpers: capped buffer, number parsing, SHA-256, time, config, log redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

static void buf_grows_and_stays_terminated(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_string_equal(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%d,", i % 10), 0);
	assert_int_equal(b.len, 2000);
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

static void buf_refuses_to_pass_its_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, 'x'), -1);
	assert_int_equal(b.overflow, 1);
	assert_string_equal(buf_cstr(&b), "12345678");
	assert_int_equal(buf_printf(&b, "%s", "more"), -1);
	buf_free(&b);
}

static void parse_int_rejects_garbage_and_range(void **state)
{
	int v;
	int64_t w;

	(void)state;
	assert_int_equal(parse_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int("42x", 0, 100, &v), -1);
	assert_int_equal(parse_int("", 0, 100, &v), -1);
	assert_int_equal(parse_int("101", 0, 100, &v), -1);
	assert_int_equal(parse_i64("99999999999999999999", INT64_MIN, INT64_MAX, &w), -1);
}

static void sha256_matches_known_vectors(void **state)
{
	char out[65];

	(void)state;
	sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void iso8601_round_trips(void **state)
{
	int64_t ms;
	char out[32];

	(void)state;
	assert_int_equal(iso8601_parse("2024-02-29T13:45:10.250Z", &ms), 0);
	iso8601_ms(ms, out);
	assert_string_equal(out, "2024-02-29T13:45:10.250Z");
	assert_int_equal(iso8601_parse("2024-02-29T15:45:10.250+02:00", &ms), 0);
	iso8601_ms(ms, out);
	assert_string_equal(out, "2024-02-29T13:45:10.250Z");
	assert_int_equal(iso8601_parse("2024-02-29", &ms), 0);
	assert_int_equal(iso8601_parse("yesterday", &ms), -1);
}

static void config_defaults_match_the_seed(void **state)
{
	struct config c;
	serr e;

	(void)state;
	assert_int_equal(config_init(&c, &e), 0);
	assert_string_equal(c.talent_table, "tblOkLOSo4Zjwp0yF");
	assert_string_equal(c.jobs_table, "tbl9KNjT3G08f6oXh");
	assert_string_equal(c.ats_table, "tblrbhITEIBOxwcQV");
	assert_string_equal(c.a_potential_fit, "Potential Talent Fit AI");
	assert_true(c.airtable_rate == 5.0);
	assert_int_equal(config_set(&c, "airtable.talent_table", "tblX", &e), 0);
	assert_string_equal(c.talent_table, "tblX");
	assert_int_equal(config_set(&c, "no.such.key", "1", &e), -1);
	assert_non_null(strstr(e.msg, "'no.such.key'"));
	assert_int_equal(config_set(&c, "pdf.timeout_seconds", "ten", &e), -1);
	config_free(&c);
}

static void config_file_overrides_defaults(void **state)
{
	struct config c;
	serr e;
	char path[] = "/tmp/scout-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# comment\nfield.talent.cv = \"Resume\"\nairtable.requests_per_second=4\n", f);
	fclose(f);
	assert_int_equal(config_init(&c, &e), 0);
	assert_int_equal(config_read_file(&c, path, &e), 0);
	assert_string_equal(c.f_cv, "Resume");
	assert_true(c.airtable_rate == 4.0);
	config_free(&c);
	f = fopen(path, "w");
	fputs("field.talent.cv\n", f);
	fclose(f);
	assert_int_equal(config_init(&c, &e), 0);
	assert_int_equal(config_read_file(&c, path, &e), -1);
	assert_non_null(strstr(e.msg, "line 1"));
	config_free(&c);
	unlink(path);
}

static void log_redacts_registered_secrets(void **state)
{
	char line[] = "Authorization: Bearer patSECRET123456.abc and again patSECRET123456.abc";

	(void)state;
	log_add_secret("patSECRET123456.abc");
	log_redact(line);
	assert_null(strstr(line, "patSECRET"));
	assert_non_null(strstr(line, "[redacted]"));
}

/* docs/configuration.md is what `scout config doc` prints (run from the source tree). */
static void configuration_doc_matches_the_option_table(void **state)
{
	char *gen = NULL, *file = NULL;
	size_t gen_len = 0, file_len = 0;
	FILE *m = open_memstream(&gen, &gen_len), *f;

	(void)state;
	assert_non_null(m);
	config_doc(m);
	fclose(m);
	f = fopen("docs/configuration.md", "r");
	if (!f)
		fail_msg("docs/configuration.md not found: run the tests from the source tree");
	m = open_memstream(&file, &file_len);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	fclose(m);
	fclose(f);
	if (gen_len != file_len || memcmp(gen, file, gen_len) != 0)
		fail_msg("docs/configuration.md is out of date: run `make docs`");
	free(gen);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_and_stays_terminated),
		cmocka_unit_test(buf_refuses_to_pass_its_cap),
		cmocka_unit_test(parse_int_rejects_garbage_and_range),
		cmocka_unit_test(sha256_matches_known_vectors),
		cmocka_unit_test(iso8601_round_trips),
		cmocka_unit_test(config_defaults_match_the_seed),
		cmocka_unit_test(config_file_overrides_defaults),
		cmocka_unit_test(log_redacts_registered_secrets),
		cmocka_unit_test(configuration_doc_matches_the_option_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
