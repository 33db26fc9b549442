/*
 * lookup.c: the rblkit C API on the bundled sample data.
 *
 * Loads the rbldnsd datasets data/sample/bl.ip4set (zone bl.example) and
 * data/sample/dbl.dnset (zone dbl.example), looks up a few subjects and prints their
 * return codes and TXT, then extracts the hosts of data/sample/spam.eml and checks their
 * registrable domains against the domain list and their addresses against the IP list.
 *
 * Build and run from the repository root:
 *   cargo build --release -p rblkit-ffi
 *   cc -std=c11 -Wall -Wextra ffi/examples/lookup.c -Iinclude \
 *      target/release/librblkit_ffi.a -lpthread -ldl -lm -o lookup
 *   ./lookup [DATA_DIR]
 */
#include "rblkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the last error of this thread and exits. */
static void fail(const char *what, rblkit_result r) {
    char msg[512];
    size_t len = 0;
    if (rblkit_last_error(msg, sizeof msg, &len) != RBLKIT_OK)
        snprintf(msg, sizeof msg, "(message of %zu bytes)", len);
    fprintf(stderr, "%s: %s: %s\n", what, rblkit_result_name(r), msg);
    exit(1);
}

static rblkit_list *load(const char *zone, const char *type, const char *dir, const char *file) {
    char spec[1024];
    int n = snprintf(spec, sizeof spec, "%s:%s:%s/%s", zone, type, dir, file);
    if (n < 0 || (size_t)n >= sizeof spec) {
        fprintf(stderr, "path too long\n");
        exit(1);
    }
    rblkit_list *list = NULL;
    rblkit_result r = rblkit_list_load(spec, (size_t)n, 0, &list);
    if (r != RBLKIT_OK)
        fail(spec, r);
    for (size_t i = 0; i < rblkit_list_warning_count(list); i++) {
        char w[512];
        if (rblkit_list_warning(list, i, w, sizeof w, NULL) == RBLKIT_OK)
            fprintf(stderr, "warning: %s\n", w);
    }
    return list;
}

/* Prints "listed 127.0.0.2 "TXT"" or "not listed" for the answer of the latest lookup. */
static void print_answer(const char *subject, const rblkit_answer *a) {
    printf("  %-40s ", subject);
    if (!rblkit_answer_listed(a)) {
        printf("not listed\n");
        return;
    }
    printf("listed");
    for (size_t i = 0; i < rblkit_answer_code_count(a); i++) {
        uint8_t b[4];
        if (rblkit_answer_code_bytes(a, i, b) == RBLKIT_OK)
            printf("%s%u.%u.%u.%u", i ? "," : " ", b[0], b[1], b[2], b[3]);
    }
    for (size_t i = 0; i < rblkit_answer_txt_count(a); i++) {
        char txt[256];
        size_t len = 0;
        if (rblkit_answer_txt(a, i, txt, sizeof txt, &len) == RBLKIT_OK)
            printf(" \"%.*s\"", (int)len, txt);
    }
    printf("\n");
}

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    *size = n;
    return buf;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "data/sample";
    printf("rblkit %s\n", rblkit_version());
    rblkit_list *bl = load("bl.example", "ip4set", dir, "bl.ip4set");
    rblkit_list *dbl = load("dbl.example", "dnset", dir, "dbl.dnset");
    rblkit_answer *a = NULL;
    rblkit_result r = rblkit_answer_new(&a);
    if (r != RBLKIT_OK)
        fail("rblkit_answer_new", r);

    printf("IP list bl.example:\n");
    const char *ips[] = {"198.51.100.23", "198.51.100.25", "203.0.113.77", "203.0.113.1", "192.0.2.99"};
    for (size_t i = 0; i < sizeof ips / sizeof *ips; i++) {
        if ((r = rblkit_list_lookup_ip(bl, ips[i], strlen(ips[i]), a)) != RBLKIT_OK)
            fail(ips[i], r);
        print_answer(ips[i], a);
    }
    /* the binary form, as a milter has it from the connection */
    const uint8_t peer[4] = {198, 51, 100, 24};
    if ((r = rblkit_list_lookup_ipv4(bl, peer, a)) != RBLKIT_OK)
        fail("rblkit_list_lookup_ipv4", r);
    print_answer("198.51.100.24 (binary)", a);

    printf("domain list dbl.example:\n");
    const char *names[] = {"www.cheap-pills.example", "cheap-pills.example", "login.phish-bank.example", "example.org"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if ((r = rblkit_list_lookup_domain(dbl, names[i], strlen(names[i]), a)) != RBLKIT_OK)
            fail(names[i], r);
        print_answer(names[i], a);
    }

    char path[1024];
    snprintf(path, sizeof path, "%s/spam.eml", dir);
    size_t size = 0;
    char *mail = read_file(path, &size);
    rblkit_hits *hits = NULL;
    if ((r = rblkit_extract((const uint8_t *)mail, size, RBLKIT_FORMAT_MESSAGE, &hits)) != RBLKIT_OK)
        fail("rblkit_extract", r);
    printf("what %s names (%zu hits), checked against the lists:\n", path, rblkit_hits_count(hits));
    for (size_t i = 0; i < rblkit_hits_count(hits); i++) {
        rblkit_hit_kind kind = RBLKIT_HIT_OTHER;
        char host[256], domain[256];
        uint32_t flags = 0;
        if (rblkit_hits_kind(hits, i, &kind) != RBLKIT_OK ||
            rblkit_hits_host(hits, i, host, sizeof host, NULL) != RBLKIT_OK ||
            rblkit_hits_flags(hits, i, &flags) != RBLKIT_OK)
            fail("hit", RBLKIT_ERR_DATA);
        const char *k = kind == RBLKIT_HIT_URL ? "url" : kind == RBLKIT_HIT_HOST ? "host" : kind == RBLKIT_HIT_EMAIL ? "email" : "ip";
        /* addresses go to the IP list, names (by registrable domain) to the domain list */
        r = rblkit_hits_registrable_domain(hits, i, domain, sizeof domain, NULL);
        if (r == RBLKIT_OK)
            r = rblkit_list_lookup_domain(dbl, domain, strlen(domain), a);
        else if (r == RBLKIT_ERR_ABSENT)
            r = rblkit_list_lookup_ip(bl, host, strlen(host), a);
        if (r != RBLKIT_OK && r != RBLKIT_ERR_PARSE)
            fail(host, r);
        char label[300];
        snprintf(label, sizeof label, "%-5s %s%s%s", k, host,
                 (flags & RBLKIT_FLAG_OBFUSCATED) ? " [obfuscated]" : "",
                 (flags & RBLKIT_FLAG_REDIRECTED) ? " [redirected]" : "");
        if (r == RBLKIT_OK)
            print_answer(label, a);
        else
            printf("  %-40s not checked (neither a name nor an address)\n", label);
    }
    rblkit_hits_free(hits);
    free(mail);
    rblkit_answer_free(a);
    rblkit_list_free(dbl);
    rblkit_list_free(bl);
    return 0;
}
