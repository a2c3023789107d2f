/* Unit tests of CV text extraction: round trips through pdfgen, every failure status, limits, normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "pdf/pdf.h"
#include "sim/pdfgen.h"

static const char *cv_lines[] = {
	"# Ada Lovelace",
	"Senior Rust Engineer - Lisbon, Portugal (Europe/Lisbon)",
	"Parentheses (like these) and a back\\slash survive; so do caf\xc3\xa9 and M\xc3\xbcller.",
	"# Experience",
	"2021 - present  Lumen Labs, Staff Engineer: built a zero-knowledge rollup sequencer in Rust "
	"handling 4,000 transactions per second, led a team of five and wrote the incident runbooks.",
};

struct fixture {
	struct config cfg;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	serr e;

	if (!f || config_init(&f->cfg, &e) < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/scout-pdf-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	config_free(&f->cfg);
	free(f);
	return 0;
}

/* Write an executable shell script into the fixture directory and point pdf.pdftotext at it. */
static void use_script_tool(struct fixture *f, const char *body)
{
	char path[128];
	FILE *fp;
	serr e;

	snprintf(path, sizeof(path), "%s/tool.sh", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(config_set(&f->cfg, "pdf.pdftotext", path, &e), 0);
}

static void text_pdf_round_trips_through_pdftotext(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_text(cv_lines, sizeof(cv_lines) / sizeof(cv_lines[0]), &pdf, &e), 0);
	assert_int_equal(memcmp(pdf.data, "%PDF-1.4", 8), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	assert_int_equal(st, PDF_OK);
	assert_non_null(strstr(text.data, "Ada Lovelace"));
	assert_non_null(strstr(text.data, "Parentheses (like these) and a back\\slash survive"));
	assert_non_null(strstr(text.data, "caf\xc3\xa9 and M\xc3\xbcller"));
	assert_non_null(strstr(text.data, "4,000 transactions per second"));
	assert_non_null(strstr(text.data, "incident runbooks."));
	buf_free(&pdf);
	buf_free(&text);
}

static void long_text_spans_pages_and_keeps_every_line(void **state)
{
	struct fixture *f = *state;
	const char *lines[300];
	char store[300][48];
	struct buf pdf, text;
	enum pdf_status st;
	serr e;

	for (int i = 0; i < 300; i++) {
		snprintf(store[i], sizeof(store[i]), "project line %03d shipped", i);
		lines[i] = store[i];
	}
	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_text(lines, 300, &pdf, &e), 0);
	assert_non_null(memmem(pdf.data, pdf.len, "/Count 7", 8));
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	for (int i = 0; i < 300; i++)
		assert_non_null(strstr(text.data, store[i]));
	buf_free(&pdf);
	buf_free(&text);
}

static void corrupt_pdf_is_reported_as_corrupt(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_corrupt(7, &pdf, &e), 0);
	assert_int_equal(pdf_extract_named(&f->cfg, "broken.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_CORRUPT);
	assert_non_null(strstr(e.msg, "cv 'broken.pdf' is damaged"));
	assert_int_equal(text.len, 0);
	buf_free(&pdf);
	buf_free(&text);
}

static void truncated_pdf_never_passes_as_text(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_text(cv_lines, 2, &pdf, &e), 0);
	/* cut inside the first object: nothing readable is left */
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, 40, &text, &st, &e), -1);
	assert_true(st == PDF_CORRUPT || st == PDF_EMPTY);
	buf_free(&pdf);
	buf_free(&text);
}

static void encrypted_pdf_gets_its_own_status(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_encrypted(cv_lines, 2, &pdf, &e), 0);
	assert_non_null(memmem(pdf.data, pdf.len, "/Encrypt", 8));
	assert_int_equal(pdf_extract_named(&f->cfg, "locked.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_ENCRYPTED);
	assert_non_null(strstr(e.msg, "cv 'locked.pdf' is password-protected"));
	buf_free(&pdf);
	buf_free(&text);
}

static void the_word_encrypt_in_text_is_not_encryption(void **state)
{
	struct fixture *f = *state;
	const char *lines[] = { "Wrote the /Encrypt 7 handler docs for a PDF library" };
	struct buf pdf, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_text(lines, 1, &pdf, &e), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	assert_int_equal(st, PDF_OK);
	assert_non_null(strstr(text.data, "handler docs"));
	buf_free(&pdf);
	buf_free(&text);
}

static void scanned_pdf_is_reported_empty(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_scanned(3, &pdf, &e), 0);
	assert_int_equal(pdf_extract_named(&f->cfg, "scan.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_EMPTY);
	assert_non_null(strstr(e.msg, "no text layer"));
	buf_free(&pdf);
	buf_free(&text);
}

static void oversized_pdf_is_refused_before_parsing(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(config_set(&f->cfg, "pdf.max_file_mb", "1", &e), 0);
	/* a missing tool proves no child ran: the size check comes first */
	assert_int_equal(config_set(&f->cfg, "pdf.pdftotext", "/nonexistent/pdftotext", &e), 0);
	assert_int_equal(pdfgen_huge(cv_lines, 2, (size_t)1536 * 1024, 5, &pdf, &e), 0);
	assert_true(pdf.len >= (size_t)1536 * 1024);
	assert_int_equal(pdf_extract_named(&f->cfg, "big.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_TOO_LARGE);
	assert_non_null(strstr(e.msg, "over the 1 MB limit"));
	buf_free(&pdf);
	buf_free(&text);
}

static void huge_but_allowed_pdf_still_extracts(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_huge(cv_lines, 2, (size_t)3 * 1024 * 1024, 9, &pdf, &e), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	assert_non_null(strstr(text.data, "Ada Lovelace"));
	buf_free(&pdf);
	buf_free(&text);
}

static void non_pdf_files_are_named_for_what_they_are(void **state)
{
	struct fixture *f = *state;
	struct buf text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&text, 0);
	assert_int_equal(pdf_extract_named(&f->cfg, "cv.docx", "PK\x03\x04rest-of-zip", 16, &text, &st, &e), -1);
	assert_int_equal(st, PDF_NOT_PDF);
	assert_non_null(strstr(e.msg, "Word .docx"));
	assert_int_equal(pdf_extract_text(&f->cfg, "", 0, &text, &st, &e), -1);
	assert_int_equal(st, PDF_NOT_PDF);
	assert_non_null(strstr(e.msg, "empty file"));
	assert_int_equal(pdf_extract_text(&f->cfg, NULL, 0, &text, &st, &e), -1);
	assert_int_equal(st, PDF_NOT_PDF);
	assert_int_equal(pdf_extract_text(&f->cfg, "hello world, not a pdf", 22, &text, &st, &e), -1);
	assert_int_equal(st, PDF_NOT_PDF);
	buf_free(&text);
}

static void hostile_file_names_are_defanged_in_messages(void **state)
{
	struct fixture *f = *state;
	struct buf text;
	enum pdf_status st;
	serr e;

	buf_init(&text, 0);
	assert_int_equal(pdf_extract_named(&f->cfg, "x'\n\x1b[31mred.pdf", "nope!", 5, &text, &st, &e), -1);
	assert_non_null(strstr(e.msg, "cv 'x___[31mred.pdf'"));
	assert_null(strchr(e.msg, '\n'));
	buf_free(&text);
}

static void slow_tool_is_killed_at_the_timeout(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text, pidtxt;
	enum pdf_status st = PDF_OK;
	char pidfile[128], line[64], procpath[64];
	int64_t t0;
	int child_pid;
	ssize_t n;
	FILE *fp;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	buf_init(&pidtxt, 0);
	snprintf(pidfile, sizeof(pidfile), "%s/sleeper.pid", f->dir);
	/*
	 * The tool ignores its input and starts a grandchild that would outlive
	 * it; the pid goes out as a symlink because the tool may not write files.
	 */
	assert_true(buf_printf(&pidtxt, "sleep 120 &\nln -s $! %s\nwait", pidfile) == 0);
	use_script_tool(f, pidtxt.data);
	assert_int_equal(config_set(&f->cfg, "pdf.timeout_seconds", "1", &e), 0);
	assert_int_equal(pdfgen_huge(cv_lines, 2, (size_t)2 * 1024 * 1024, 1, &pdf, &e), 0);
	t0 = mono_ms();
	assert_int_equal(pdf_extract_named(&f->cfg, "slow.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_TIMEOUT);
	assert_non_null(strstr(e.msg, "longer than 1 s"));
	/* bounded by the limit, far from the 120 s the tool wanted */
	assert_true(mono_ms() - t0 < 60000);
	n = readlink(pidfile, line, sizeof(line) - 1);
	assert_true(n > 0);
	line[n] = '\0';
	assert_int_equal(parse_int(line, 1, 1 << 30, &child_pid), 0);
	/* the whole process group went: the grandchild is gone or a zombie */
	for (int i = 0; i < 200; i++) {
		char stat[256] = "";
		snprintf(procpath, sizeof(procpath), "/proc/%d/stat", child_pid);
		fp = fopen(procpath, "r");
		if (!fp)
			break;
		if (!fgets(stat, sizeof(stat), fp))
			stat[0] = '\0';
		fclose(fp);
		if (strstr(stat, ") Z "))
			break;
		assert_true(i < 199);
		sleep_ms(10);
	}
	buf_free(&pdf);
	buf_free(&text);
	buf_free(&pidtxt);
}

static void memory_hungry_extraction_hits_the_memory_limit(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	/* pdftotext keeps stdin in memory: 40 MB of input cannot fit in 32 MB */
	assert_int_equal(config_set(&f->cfg, "pdf.max_file_mb", "64", &e), 0);
	assert_int_equal(config_set(&f->cfg, "pdf.memory_mb", "32", &e), 0);
	assert_int_equal(pdfgen_huge(cv_lines, 2, (size_t)40 * 1024 * 1024, 2, &pdf, &e), 0);
	assert_int_equal(pdf_extract_named(&f->cfg, "hog.pdf", pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_LIMIT);
	assert_non_null(strstr(e.msg, "more than 32 MB of memory"));
	buf_free(&pdf);
	buf_free(&text);
}

static void missing_tool_is_reported(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(pdfgen_text(cv_lines, 1, &pdf, &e), 0);
	assert_int_equal(config_set(&f->cfg, "pdf.pdftotext", "scout-no-such-pdftotext", &e), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_TOOL_MISSING);
	assert_non_null(strstr(e.msg, "poppler-utils"));
	buf_free(&pdf);
	buf_free(&text);
}

static void tool_that_echoes_while_reading_does_not_deadlock(void **state)
{
	struct fixture *f = *state;
	struct buf in, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&in, 0);
	buf_init(&text, 0);
	/* cat writes as it reads: 4 MB through both pipes at once */
	use_script_tool(f, "exec cat");
	assert_int_equal(config_set(&f->cfg, "pdf.max_text_kb", "8192", &e), 0);
	assert_int_equal(buf_puts(&in, "%PDF-1.4\n"), 0);
	while (in.len < (size_t)4 * 1024 * 1024)
		assert_int_equal(buf_puts(&in, "solidity rust typescript kubernetes\n"), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, in.data, in.len, &text, &st, &e), 0);
	assert_int_equal(st, PDF_OK);
	assert_true(text.len > (size_t)3 * 1024 * 1024);
	buf_free(&in);
	buf_free(&text);
}

static void text_beyond_the_cap_is_cut_not_fatal(void **state)
{
	struct fixture *f = *state;
	struct buf in, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&in, 0);
	buf_init(&text, 0);
	use_script_tool(f, "exec cat");
	assert_int_equal(config_set(&f->cfg, "pdf.max_text_kb", "64", &e), 0);
	assert_int_equal(buf_puts(&in, "%PDF-1.4\n"), 0);
	while (in.len < (size_t)1024 * 1024)
		assert_int_equal(buf_puts(&in, "go postgres react\n"), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, in.data, in.len, &text, &st, &e), 0);
	assert_int_equal(st, PDF_OK);
	assert_true(text.len > 0 && text.len <= 64 * 1024 + 1);
	buf_free(&in);
	buf_free(&text);
}

static void tool_sees_none_of_scouts_environment(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_CORRUPT;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(setenv("SCOUT_TEST_SECRET_KEY", "patVerySecret123", 1), 0);
	use_script_tool(f, "cat >/dev/null; exec env");
	assert_int_equal(pdfgen_text(cv_lines, 1, &pdf, &e), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	assert_non_null(strstr(text.data, "PATH="));
	assert_null(strstr(text.data, "patVerySecret123"));
	assert_int_equal(unsetenv("SCOUT_TEST_SECRET_KEY"), 0);
	buf_free(&pdf);
	buf_free(&text);
}

static void tool_crash_is_reported_as_corrupt(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	enum pdf_status st = PDF_OK;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	use_script_tool(f, "cat >/dev/null; kill -SEGV $$");
	assert_int_equal(pdfgen_text(cv_lines, 1, &pdf, &e), 0);
	assert_int_equal(pdf_extract_text(&f->cfg, pdf.data, pdf.len, &text, &st, &e), -1);
	assert_int_equal(st, PDF_CORRUPT);
	assert_non_null(strstr(e.msg, "crashed"));
	buf_free(&pdf);
	buf_free(&text);
}

static void normalize_repairs_utf8_and_whitespace(void **state)
{
	struct buf out;
	const char in[] = "\n\n  Name:\tAda   \x01Lovelace  \r\n\r\n\r\n\r\nSkills\xff\xfe ok"
			  "\xc0\xaf \xed\xa0\x80 caf\xc3\xa9\xc2\xa0" "bar\xe2\x80\x8b!\fPage two\n\n";

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(pdf_normalize_text(in, sizeof(in) - 1, &out), 0);
	assert_string_equal(out.data, "Name: Ada   Lovelace\n\nSkills\xef\xbf\xbd\xef\xbf\xbd ok"
				      "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 bar!\n\nPage two\n");
	buf_reset(&out);
	assert_int_equal(pdf_normalize_text(" \n\f\t\n", 5, &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void status_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(pdf_status_name(PDF_OK), "ok");
	assert_string_equal(pdf_status_name(PDF_EMPTY), "empty");
	assert_string_equal(pdf_status_name(PDF_NOT_PDF), "not_pdf");
	assert_string_equal(pdf_status_name(PDF_TOO_LARGE), "too_large");
	assert_string_equal(pdf_status_name(PDF_ENCRYPTED), "encrypted");
	assert_string_equal(pdf_status_name(PDF_CORRUPT), "corrupt");
	assert_string_equal(pdf_status_name(PDF_TIMEOUT), "timeout");
	assert_string_equal(pdf_status_name(PDF_LIMIT), "limit");
	assert_string_equal(pdf_status_name(PDF_TOOL_MISSING), "tool_missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_pdf_round_trips_through_pdftotext, setup, teardown),
		cmocka_unit_test_setup_teardown(long_text_spans_pages_and_keeps_every_line, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_pdf_is_reported_as_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_pdf_never_passes_as_text, setup, teardown),
		cmocka_unit_test_setup_teardown(encrypted_pdf_gets_its_own_status, setup, teardown),
		cmocka_unit_test_setup_teardown(the_word_encrypt_in_text_is_not_encryption, setup, teardown),
		cmocka_unit_test_setup_teardown(scanned_pdf_is_reported_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_pdf_is_refused_before_parsing, setup, teardown),
		cmocka_unit_test_setup_teardown(huge_but_allowed_pdf_still_extracts, setup, teardown),
		cmocka_unit_test_setup_teardown(non_pdf_files_are_named_for_what_they_are, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_file_names_are_defanged_in_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(slow_tool_is_killed_at_the_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_hungry_extraction_hits_the_memory_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_tool_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(tool_that_echoes_while_reading_does_not_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(text_beyond_the_cap_is_cut_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(tool_sees_none_of_scouts_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(tool_crash_is_reported_as_corrupt, setup, teardown),
		cmocka_unit_test(normalize_repairs_utf8_and_whitespace),
		cmocka_unit_test(status_names_are_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
