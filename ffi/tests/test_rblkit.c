/*
 * C tests of the rblkit C API: real results on the bundled sample data, error paths and
 * NULL handling, and lookups from several threads at once. Run by ffi/run-c-tests.sh
 * (normally, under AddressSanitizer/UBSan, and under valgrind).
 *
 * Usage: test_rblkit DATA_DIR TMP_DIR
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "rblkit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        checks++;                                                                   \
        if (!(cond)) {                                                              \
            failures++;                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_RESULT(call, want)                                                      \
    do {                                                                              \
        rblkit_result got_ = (call);                                                  \
        checks++;                                                                     \
        if (got_ != (want)) {                                                         \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: %s gave %s, wanted %s (%s)\n", __FILE__, __LINE__, \
                    #call, rblkit_result_name(got_), rblkit_result_name(want),        \
                    last_error());                                                    \
        }                                                                             \
    } while (0)

#define S(str) (str), strlen(str)

static const char *last_error(void) {
    static char buf[1024];
    if (rblkit_last_error(buf, sizeof buf, NULL) != RBLKIT_OK)
        strcpy(buf, "(too long)");
    return buf;
}

static const char *data_dir;
static const char *tmp_dir;

static rblkit_list *load(const char *zone_type, const char *file) {
    char spec[1024];
    snprintf(spec, sizeof spec, "%s:%s/%s", zone_type, data_dir, file);
    rblkit_list *l = NULL;
    CHECK_RESULT(rblkit_list_load(S(spec), 0, &l), RBLKIT_OK);
    return l;
}

/* The i-th TXT of the answer, or "" */
static const char *txt(const rblkit_answer *a, size_t i) {
    static char buf[512];
    buf[0] = 0;
    if (rblkit_answer_txt(a, i, buf, sizeof buf, NULL) != RBLKIT_OK)
        buf[0] = 0;
    return buf;
}

static uint32_t code(const rblkit_answer *a, size_t i) {
    uint32_t c = 0;
    if (rblkit_answer_code(a, i, &c) != RBLKIT_OK)
        return 0;
    return c;
}

static void test_loaded_ip_list(void) {
    rblkit_list *bl = load("bl.example:ip4set", "bl.ip4set");
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK(rblkit_list_warning_count(bl) == 0);

    char zone[64];
    size_t len = 0;
    CHECK_RESULT(rblkit_list_zone(bl, zone, sizeof zone, &len), RBLKIT_OK);
    CHECK(strcmp(zone, "bl.example") == 0 && len == 10);

    CHECK_RESULT(rblkit_list_lookup_ip(bl, S("198.51.100.23"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a));
    CHECK(rblkit_answer_code_count(a) == 1);
    CHECK(code(a, 0) == 0x7f000002u);
    uint8_t b[4] = {0};
    CHECK_RESULT(rblkit_answer_code_bytes(a, 0, b), RBLKIT_OK);
    CHECK(b[0] == 127 && b[1] == 0 && b[2] == 0 && b[3] == 2);
    CHECK(rblkit_answer_txt_count(a) == 1);
    CHECK(strcmp(txt(a, 0), "Listed: see https://bl.example/lookup?q=198.51.100.23") == 0);
    int64_t t = 0;
    CHECK_RESULT(rblkit_answer_since(a, &t), RBLKIT_ERR_ABSENT);

    /* binary form; the /24 with its own code and TXT; an exclusion; a miss */
    const uint8_t trap[4] = {203, 0, 113, 77};
    CHECK_RESULT(rblkit_list_lookup_ipv4(bl, trap, a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000003u);
    CHECK(strcmp(txt(a, 0), "Spamtrap hits from 203.0.113.77") == 0);
    const uint8_t excluded[4] = {203, 0, 113, 1};
    CHECK_RESULT(rblkit_list_lookup_ipv4(bl, excluded, a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    CHECK(rblkit_answer_code_count(a) == 0 && rblkit_answer_txt_count(a) == 0);
    CHECK_RESULT(rblkit_list_lookup_ip(bl, S("192.0.2.200"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f00000au);
    CHECK(strcmp(txt(a, 0), "Dynamic address 192.0.2.200") == 0);
    CHECK_RESULT(rblkit_list_lookup_ip(bl, S("198.51.100.25"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));

    /* an IPv4-mapped IPv6 address asks the IPv4 dataset, as rbldnsd does */
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 24};
    CHECK_RESULT(rblkit_list_lookup_ipv6(bl, mapped, a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000002u);
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK_RESULT(rblkit_list_lookup_ipv6(bl, v6, a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    /* a loaded dataset lists no email addresses */
    CHECK_RESULT(rblkit_list_lookup_email(bl, S("a@example.org"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));

    /* errors */
    CHECK_RESULT(rblkit_list_lookup_ip(bl, S("198.51.100.256"), a), RBLKIT_ERR_PARSE);
    CHECK(strstr(last_error(), "198.51.100.256") != NULL);
    CHECK_RESULT(rblkit_answer_code(a, 5, &(uint32_t){0}), RBLKIT_ERR_OUT_OF_RANGE);
    CHECK_RESULT(rblkit_answer_txt(a, 0, NULL, 0, NULL), RBLKIT_ERR_OUT_OF_RANGE);

    /* a buffer too small says what it needs and copies nothing */
    CHECK_RESULT(rblkit_list_lookup_ip(bl, S("198.51.100.23"), a), RBLKIT_OK);
    char small[8] = "xxxxxxx";
    len = 0;
    CHECK_RESULT(rblkit_answer_txt(a, 0, small, sizeof small, &len), RBLKIT_ERR_BUFFER_TOO_SMALL);
    CHECK(len == strlen("Listed: see https://bl.example/lookup?q=198.51.100.23"));
    CHECK(strcmp(small, "xxxxxxx") == 0);
    char exact[64];
    CHECK(len + 1 <= sizeof exact);
    CHECK_RESULT(rblkit_answer_txt(a, 0, exact, len + 1, &len), RBLKIT_OK);
    CHECK_RESULT(rblkit_answer_txt(a, 0, exact, len, &len), RBLKIT_ERR_BUFFER_TOO_SMALL);

    rblkit_answer_free(a);
    rblkit_list_free(bl);
}

static void test_loaded_domain_list(void) {
    rblkit_list *dbl = load("dbl.example:dnset", "dbl.dnset");
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_domain(dbl, S("WWW.Cheap-Pills.Example."), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000102u);
    CHECK(strcmp(txt(a, 0), "Spam domain cheap-pills.example") == 0);
    CHECK_RESULT(rblkit_list_lookup_domain(dbl, S("a.b.login.phish-bank.example"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000104u);
    CHECK(strcmp(txt(a, 0), "Phishing domain phish-bank.example") == 0);
    CHECK_RESULT(rblkit_list_lookup(dbl, S("phish-bank.example"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup_domain(dbl, S("pills.example"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup_domain(dbl, S("a..b"), a), RBLKIT_ERR_PARSE);
    /* not UTF-8 */
    CHECK_RESULT(rblkit_list_lookup_domain(dbl, "ex\xff" "ample", 8, a), RBLKIT_ERR_UTF8);
    CHECK(strstr(last_error(), "byte 2") != NULL);
    rblkit_answer_free(a);
    rblkit_list_free(dbl);
}

static void test_load_errors(void) {
    rblkit_list *l = (rblkit_list *)&l; /* set to NULL on failure */
    CHECK_RESULT(rblkit_list_load(S("bl.example:ip4set:/nonexistent/bl.txt"), 0, &l), RBLKIT_ERR_IO);
    CHECK(l == NULL);
    CHECK(strstr(last_error(), "/nonexistent/bl.txt") != NULL);
    CHECK_RESULT(rblkit_list_load(S("bl.example:nosuchtype:x"), 0, &l), RBLKIT_ERR_PARSE);
    CHECK_RESULT(rblkit_list_load(S("no-colons"), 0, &l), RBLKIT_ERR_PARSE);
    CHECK_RESULT(rblkit_list_load(S("bl.example:ip4set:x"), 0x80, &l), RBLKIT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(rblkit_list_load(NULL, 5, 0, &l), RBLKIT_ERR_NULL);
    CHECK(strstr(last_error(), "spec is NULL") != NULL);

    /* a bad line: skipped with a warning naming file and line, or an error when strict */
    char path[1024], spec[1100];
    snprintf(path, sizeof path, "%s/bad.ip4set", tmp_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("192.0.2.1\n192.0.2.300\n192.0.2.3\n", f);
    fclose(f);
    snprintf(spec, sizeof spec, "bad.example:ip4set:%s", path);
    CHECK_RESULT(rblkit_list_load(S(spec), 0, &l), RBLKIT_OK);
    CHECK(rblkit_list_warning_count(l) == 1);
    char w[512];
    CHECK_RESULT(rblkit_list_warning(l, 0, w, sizeof w, NULL), RBLKIT_OK);
    char want[1100];
    snprintf(want, sizeof want, "%s:2:", path);
    CHECK(strncmp(w, want, strlen(want)) == 0);
    CHECK_RESULT(rblkit_list_warning(l, 1, w, sizeof w, NULL), RBLKIT_ERR_OUT_OF_RANGE);
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(l, S("192.0.2.3"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a));
    rblkit_answer_free(a);
    rblkit_list_free(l);
    CHECK_RESULT(rblkit_list_load(S(spec), RBLKIT_LOAD_STRICT, &l), RBLKIT_ERR_DATA);
    CHECK(l == NULL);
    CHECK(strstr(last_error(), want) != NULL);
    remove(path);
}

static void test_builder(void) {
    rblkit_builder *b = NULL;
    CHECK_RESULT(rblkit_builder_new(&b), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("192.0.2.0/24"), 0x7f000002u, S("$ is listed")), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_exclude(b, S("192.0.2.10")), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("2001:db8:bad::/48"), 0x7f000003u, NULL, 0), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("*.spam.example"), 0x7f000102u, S("domain $")), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("Sender1@Relay.Example"), 0x7f000009u, S("blocked")), RBLKIT_OK);
    /* errors leave the builder usable */
    CHECK_RESULT(rblkit_builder_insert(b, S("192.0.2.1"), 0x0a000001u, NULL, 0), RBLKIT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "10.0.0.1") != NULL);
    CHECK_RESULT(rblkit_builder_insert(b, S("not a subject"), 0x7f000002u, NULL, 0), RBLKIT_ERR_PARSE);
    CHECK_RESULT(rblkit_builder_insert(b, S("x.example"), 0x7f000002u, NULL, 3), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_builder_insert(NULL, S("x.example"), 0x7f000002u, NULL, 0), RBLKIT_ERR_NULL);
    CHECK(strstr(last_error(), "builder is NULL") != NULL);

    rblkit_list *l = NULL;
    CHECK_RESULT(rblkit_builder_build(b, &l), RBLKIT_OK);
    CHECK(l != NULL);
    CHECK_RESULT(rblkit_list_zone(l, NULL, 0, NULL), RBLKIT_ERR_ABSENT);
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(l, S("192.0.2.77"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && strcmp(txt(a, 0), "192.0.2.77 is listed") == 0);
    CHECK_RESULT(rblkit_list_lookup_ip(l, S("192.0.2.10"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup_ip(l, S("2001:db8:bad:1::9"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000003u && rblkit_answer_txt_count(a) == 0);
    CHECK_RESULT(rblkit_list_lookup_domain(l, S("www.spam.example"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && strcmp(txt(a, 0), "domain spam.example") == 0);
    CHECK_RESULT(rblkit_list_lookup_domain(l, S("spam.example"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup_email(l, S("sender1@relay.example"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000009u);
    CHECK_RESULT(rblkit_list_lookup(l, S("SENDER1@relay.example"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup(l, S("192.0.2.128/25"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a));
    CHECK_RESULT(rblkit_list_lookup(l, S("192.0.2.0/28"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a)); /* holds the exclusion */
    CHECK_RESULT(rblkit_list_lookup_email(l, S("no-at-sign"), a), RBLKIT_ERR_PARSE);
    rblkit_answer_free(a);
    rblkit_list_free(l);

    /* building consumes the builder, also when it fails */
    CHECK_RESULT(rblkit_builder_new(&b), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_build(b, NULL), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_builder_build(NULL, &l), RBLKIT_ERR_NULL);
    CHECK(l == NULL);
    /* a builder that is not built is freed */
    CHECK_RESULT(rblkit_builder_new(&b), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("192.0.2.1"), 0x7f000002u, NULL, 0), RBLKIT_OK);
    rblkit_builder_free(b);
}

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    *size = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

static int has_hit(const rblkit_hits *h, rblkit_hit_kind kind, const char *host, const char *domain) {
    for (size_t i = 0; i < rblkit_hits_count(h); i++) {
        rblkit_hit_kind k;
        char hb[256], db[256];
        if (rblkit_hits_kind(h, i, &k) != RBLKIT_OK || k != kind)
            continue;
        if (rblkit_hits_host(h, i, hb, sizeof hb, NULL) != RBLKIT_OK || strcmp(hb, host) != 0)
            continue;
        rblkit_result r = rblkit_hits_registrable_domain(h, i, db, sizeof db, NULL);
        if (domain ? (r == RBLKIT_OK && strcmp(db, domain) == 0) : r == RBLKIT_ERR_ABSENT)
            return 1;
    }
    return 0;
}

static void test_extract(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spam.eml", data_dir);
    size_t size = 0;
    char *mail = read_file(path, &size);
    CHECK(mail != NULL && size > 100);
    if (!mail)
        return;
    rblkit_hits *h = NULL;
    CHECK_RESULT(rblkit_extract((const uint8_t *)mail, size, RBLKIT_FORMAT_AUTO, &h), RBLKIT_OK);
    CHECK(rblkit_hits_count(h) == 6);
    CHECK(has_hit(h, RBLKIT_HIT_URL, "www.cheap-pills.example", "cheap-pills.example"));
    CHECK(has_hit(h, RBLKIT_HIT_URL, "login.phish-bank.example", "phish-bank.example"));
    CHECK(has_hit(h, RBLKIT_HIT_EMAIL, "news.example.net", "example.net"));
    CHECK(has_hit(h, RBLKIT_HIT_URL, "203.0.113.77", NULL));
    /* the first hit: de-obfuscated URL, flagged, with its span in the decoded part */
    char url[256];
    size_t len = 0, start = 0, end = 0, part = 9;
    uint32_t flags = 0;
    CHECK_RESULT(rblkit_hits_url(h, 0, url, sizeof url, &len), RBLKIT_OK);
    CHECK(strcmp(url, "http://www.cheap-pills.example/buy?id=7") == 0);
    CHECK_RESULT(rblkit_hits_flags(h, 0, &flags), RBLKIT_OK);
    CHECK(flags & RBLKIT_FLAG_OBFUSCATED);
    CHECK_RESULT(rblkit_hits_span(h, 0, &start, &end), RBLKIT_OK);
    CHECK(start == 15 && end == 56);
    CHECK_RESULT(rblkit_hits_part(h, 0, &part), RBLKIT_OK);
    CHECK(part == 1); /* the message is part 0, its first subpart 1 */
    char email[64];
    CHECK_RESULT(rblkit_hits_email(h, 2, email, sizeof email, NULL), RBLKIT_OK);
    CHECK(strcmp(email, "unsub@news.example.net") == 0);
    CHECK_RESULT(rblkit_hits_email(h, 0, email, sizeof email, NULL), RBLKIT_ERR_ABSENT);
    CHECK_RESULT(rblkit_hits_url(h, 99, url, sizeof url, NULL), RBLKIT_ERR_OUT_OF_RANGE);
    rblkit_hits_free(h);

    /* HTML; empty input; errors */
    const char *html = "<a href=\"https://x.example.co.uk/p\">here</a>";
    CHECK_RESULT(rblkit_extract((const uint8_t *)html, strlen(html), RBLKIT_FORMAT_HTML, &h), RBLKIT_OK);
    CHECK(rblkit_hits_count(h) == 1 && has_hit(h, RBLKIT_HIT_URL, "x.example.co.uk", "example.co.uk"));
    rblkit_hits_free(h);
    CHECK_RESULT(rblkit_extract(NULL, 0, RBLKIT_FORMAT_TEXT, &h), RBLKIT_OK);
    CHECK(rblkit_hits_count(h) == 0);
    rblkit_hits_free(h);
    CHECK_RESULT(rblkit_extract((const uint8_t *)html, strlen(html), 42, &h), RBLKIT_ERR_INVALID_ARGUMENT);
    CHECK(h == NULL);
    CHECK_RESULT(rblkit_extract(NULL, 10, RBLKIT_FORMAT_TEXT, &h), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_extract((const uint8_t *)html, strlen(html), RBLKIT_FORMAT_TEXT, NULL), RBLKIT_ERR_NULL);
    free(mail);
}

static const char *EVIDENCE =
    "{\"at\":\"2026-11-20T10:00:00Z\",\"subject\":\"192.0.2.1\",\"event\":\"trap_hit\",\"trap\":\"t1\"}\n"
    "{\"at\":\"2026-11-20T10:01:00Z\",\"subject\":\"192.0.2.1\",\"event\":\"spam_report\",\"reporter\":\"alice\"}\n"
    "{\"at\":\"2026-11-20T10:02:00Z\",\"subject\":\"192.0.2.1\",\"event\":\"spam_report\",\"reporter\":\"bob\"}\n"
    "{\"at\":\"2026-11-20T10:03:00Z\",\"subject\":\"spam.example\",\"event\":\"spam_report\"}\n"
    "{\"at\":\"2026-11-20T10:04:00Z\",\"subject\":\"198.51.100.7\",\"event\":\"spam_report\",\"reporter\":\"carol\"}\n";

/* 2026-11-20T12:00:00Z */
#define NOON 1795176000LL

static void test_ledger(void) {
    rblkit_ledger *l = NULL;
    CHECK_RESULT(rblkit_ledger_open(NULL, 0, S("nope"), &l), RBLKIT_ERR_UNKNOWN_PROFILE);
    CHECK(l == NULL);
    CHECK_RESULT(rblkit_ledger_open(NULL, 0, NULL, 0, &l), RBLKIT_OK);
    rblkit_ingest_counts c;
    memset(&c, 0xff, sizeof c);
    CHECK_RESULT(rblkit_ledger_ingest(l, S(EVIDENCE), &c), RBLKIT_ERR_DATA);
    CHECK(c.lines == 5 && c.recorded == 4 && c.bad == 1 && c.first_bad_line == 4);
    CHECK(c.accepted == 0 && c.refused == 0 && c.duplicates == 0);
    CHECK(strstr(last_error(), "line 4") != NULL && strstr(last_error(), "reporter") != NULL);
    CHECK_RESULT(rblkit_ledger_ingest(l, S(""), NULL), RBLKIT_OK);

    /* compile at noon: 192.0.2.1 (a trap hit and two reports) is listed, 198.51.100.7 not */
    rblkit_list *list = NULL;
    CHECK_RESULT(rblkit_ledger_compile(l, S("spamcop"), NOON, &list), RBLKIT_OK);
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(list, S("192.0.2.1"), a), RBLKIT_OK);
    CHECK(rblkit_answer_listed(a) && code(a, 0) == 0x7f000002u);
    int64_t expires = 0;
    CHECK_RESULT(rblkit_answer_expires(a, &expires), RBLKIT_OK);
    CHECK(expires == NOON + 22 * 3600 + 120); /* 24 hours after the last report */
    CHECK_RESULT(rblkit_list_lookup_ip(list, S("198.51.100.7"), a), RBLKIT_OK);
    CHECK(!rblkit_answer_listed(a));
    rblkit_list_free(list);

    /* explain: ask for the length, then fetch */
    size_t len = 0;
    CHECK_RESULT(rblkit_ledger_explain(l, S("spamcop"), S("192.0.2.1"), NOON, RBLKIT_EXPLAIN_JSON, NULL, 0, &len),
                 RBLKIT_ERR_BUFFER_TOO_SMALL);
    char *json = malloc(len + 1);
    CHECK_RESULT(rblkit_ledger_explain(l, S("spamcop"), S("192.0.2.1"), NOON, RBLKIT_EXPLAIN_JSON, json, len + 1, &len),
                 RBLKIT_OK);
    CHECK(strlen(json) == len);
    CHECK(strstr(json, "\"listed\":true") != NULL);
    CHECK(strstr(json, "\"name\":\"weighted_reports\"") != NULL);
    CHECK(strstr(json, "\"until\":\"2026-11-21T10:02:00Z\"") != NULL);
    CHECK(strstr(json, "\"trap_hits\":1") != NULL);
    free(json);
    char text[2048];
    CHECK_RESULT(rblkit_ledger_explain(l, S("spamcop"), S("198.51.100.7"), NOON, RBLKIT_EXPLAIN_TEXT, text, sizeof text, NULL),
                 RBLKIT_OK);
    CHECK(strstr(text, "198.51.100.7 at 2026-11-20T12:00:00Z under spamcop: not listed\n") == text);
    CHECK(strstr(text, "evidence: 1 spam reports (1 reporters)") != NULL);

    /* errors */
    CHECK_RESULT(rblkit_ledger_compile(l, S("nope"), NOON, &list), RBLKIT_ERR_UNKNOWN_PROFILE);
    CHECK(list == NULL && strstr(last_error(), "spamcop") != NULL);
    CHECK_RESULT(rblkit_ledger_explain(l, S("spamcop"), S("not a subject"), NOON, RBLKIT_EXPLAIN_TEXT, text, sizeof text, NULL),
                 RBLKIT_ERR_PARSE);
    CHECK_RESULT(rblkit_ledger_explain(l, S("spamcop"), S("192.0.2.1"), NOON, 7, text, sizeof text, NULL),
                 RBLKIT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(rblkit_ledger_compile(l, S("spamcop"), INT64_MAX, &list), RBLKIT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(rblkit_ledger_compile(NULL, S("spamcop"), NOON, &list), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_ledger_ingest(l, NULL, 3, NULL), RBLKIT_ERR_NULL);
    rblkit_answer_free(a);
    rblkit_ledger_free(l);
}

/* a ledger in a state directory: durable, shared by handles (and processes), read again */
static void test_ledger_state_dir(void) {
    char dir[] = "/tmp/rblkit-c-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    rblkit_ledger *a = NULL, *b = NULL;
    CHECK_RESULT(rblkit_ledger_open(S(dir), S("spamcop"), &a), RBLKIT_OK);
    CHECK_RESULT(rblkit_ledger_open(S(dir), S("spamcop"), &b), RBLKIT_OK);
    rblkit_ingest_counts c;
    CHECK_RESULT(rblkit_ledger_ingest(a, S(EVIDENCE), &c), RBLKIT_ERR_DATA);
    CHECK(c.recorded == 4 && c.bad == 1);
    /* the other handle sees it at its next compile */
    rblkit_list *list = NULL;
    rblkit_answer *ans = NULL;
    CHECK_RESULT(rblkit_answer_new(&ans), RBLKIT_OK);
    CHECK_RESULT(rblkit_ledger_compile(b, S("spamcop"), NOON, &list), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(list, S("192.0.2.1"), ans), RBLKIT_OK);
    CHECK(rblkit_answer_listed(ans));
    rblkit_list_free(list);
    rblkit_ledger_free(a);
    rblkit_ledger_free(b);
    /* opened again after both closed: the evidence is there */
    CHECK_RESULT(rblkit_ledger_open(S(dir), NULL, 0, &a), RBLKIT_OK);
    CHECK_RESULT(rblkit_ledger_compile(a, S("spamcop"), NOON, &list), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(list, S("192.0.2.1"), ans), RBLKIT_OK);
    CHECK(rblkit_answer_listed(ans));
    rblkit_list_free(list);
    rblkit_ledger_free(a);
    rblkit_answer_free(ans);
    /* a file where the directory should be */
    char file[300];
    snprintf(file, sizeof file, "%s/plain-file", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fputs("x", f);
    fclose(f);
    CHECK_RESULT(rblkit_ledger_open(S(file), NULL, 0, &a), RBLKIT_ERR_IO);
    CHECK(a == NULL && strstr(last_error(), "plain-file") != NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_null_handling(void) {
    /* every _free accepts NULL; accessors of NULL handles answer nothing */
    rblkit_list_free(NULL);
    rblkit_answer_free(NULL);
    rblkit_builder_free(NULL);
    rblkit_hits_free(NULL);
    rblkit_ledger_free(NULL);
    CHECK(!rblkit_answer_listed(NULL));
    CHECK(rblkit_answer_code_count(NULL) == 0);
    CHECK(rblkit_answer_txt_count(NULL) == 0);
    CHECK(rblkit_hits_count(NULL) == 0);
    CHECK(rblkit_list_warning_count(NULL) == 0);
    rblkit_answer *a = NULL;
    CHECK_RESULT(rblkit_answer_new(&a), RBLKIT_OK);
    CHECK_RESULT(rblkit_list_lookup_ip(NULL, S("192.0.2.1"), a), RBLKIT_ERR_NULL);
    CHECK(strstr(last_error(), "rblkit_list_lookup_ip: list is NULL") != NULL);
    CHECK_RESULT(rblkit_list_lookup_ipv4(NULL, NULL, a), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_answer_code(NULL, 0, NULL), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_answer_new(NULL), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_builder_new(NULL), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_hits_host(NULL, 0, NULL, 0, NULL), RBLKIT_ERR_NULL);
    CHECK_RESULT(rblkit_ledger_open(NULL, 0, NULL, 0, NULL), RBLKIT_ERR_NULL);
    CHECK(strcmp(rblkit_result_name(RBLKIT_ERR_NULL), "RBLKIT_ERR_NULL") == 0);
    CHECK(strcmp(rblkit_result_name(999), "RBLKIT_UNKNOWN") == 0);
    CHECK(strlen(rblkit_version()) > 0);
    rblkit_answer_free(a);
}

/* Lookups in one list from several threads at once, each with its own answer. */
struct worker {
    const rblkit_list *list;
    int mismatches;
};

static void *work(void *arg) {
    struct worker *w = arg;
    rblkit_answer *a = NULL;
    if (rblkit_answer_new(&a) != RBLKIT_OK) {
        w->mismatches = -1;
        return NULL;
    }
    for (unsigned i = 0; i < 20000; i++) {
        uint8_t ip[4] = {192, 0, 2, (uint8_t)i};
        int want = ((uint8_t)i) != 10;
        if (rblkit_list_lookup_ipv4(w->list, ip, a) != RBLKIT_OK || rblkit_answer_listed(a) != want)
            w->mismatches++;
        if (want && rblkit_answer_txt_count(a) != 1)
            w->mismatches++;
    }
    rblkit_answer_free(a);
    return NULL;
}

static void test_threads(void) {
    rblkit_builder *b = NULL;
    CHECK_RESULT(rblkit_builder_new(&b), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_insert(b, S("192.0.2.0/24"), 0x7f000002u, S("$")), RBLKIT_OK);
    CHECK_RESULT(rblkit_builder_exclude(b, S("192.0.2.10")), RBLKIT_OK);
    rblkit_list *l = NULL;
    CHECK_RESULT(rblkit_builder_build(b, &l), RBLKIT_OK);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].list = l;
        w[i].mismatches = 0;
        CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].mismatches == 0);
    }
    rblkit_list_free(l);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR TMP_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    tmp_dir = argv[2];
    test_loaded_ip_list();
    test_loaded_domain_list();
    test_load_errors();
    test_builder();
    test_extract();
    test_ledger();
    test_ledger_state_dir();
    test_null_handling();
    test_threads();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
