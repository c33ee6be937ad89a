/* fuzz: build the frame reader's libFuzzer target (tests/fuzz/fuzz_frame.c)
 * and run it for a few seconds. libFuzzer comes with clang, so the test runs
 * only in builds made with clang (CI's address-sanitizer run); elsewhere it
 * is skipped. It builds the target itself rather than through CMake, from
 * the frame reader's one source file, which needs no other part of weft. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#if defined(__clang__)
/* CI's short run; `make fuzz FUZZ_SECONDS=600` runs longer. */
static int fuzz_seconds(void)
{
    const char *s = getenv("WEFT_FUZZ_SECONDS");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : 3;
}

/* Seeds: two good frames; a frame cut short; a header that lies. */
static void write_seeds(const char *dir)
{
    static const unsigned char good[] = {200, 7, 1, 'w', 'f', 1,   0,
                                         2,   0, 0, 0,   'h', 'i', 'w',
                                         'f', 1, 0, 0,   0,   0,   0};
    static const unsigned char cut[] = {200, 3, 0, 'w', 'f', 1,
                                        0,   9, 0, 0,   0,   'x'};
    static const unsigned char liar[] = {1, 5,   0,   'w', 'f', 1,
                                         0, 255, 255, 255, 255, 'y'};
    const struct {
        const char *name;
        const unsigned char *data;
        size_t len;
    } seeds[] = {{"good", good, sizeof good},
                 {"cut", cut, sizeof cut},
                 {"liar", liar, sizeof liar}};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(seeds[i].data, 1, seeds[i].len, f);
        fclose(f);
    }
}

static void the_frame_reader_survives_fuzzing(void **state)
{
    if (system("command -v clang >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/weft-fuzz-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char corpus[64], cmd[2048];
    snprintf(corpus, sizeof corpus, "%s/corpus", dir);
    snprintf(cmd, sizeof cmd, "mkdir %s", corpus);
    assert_int_equal(system(cmd), 0);
    write_seeds(corpus);
    snprintf(cmd, sizeof cmd,
             "clang -g -O1 -fsanitize=fuzzer,address,undefined "
             "-fno-sanitize-recover=undefined -I%s/src/ipc %s/tests/fuzz/"
             "fuzz_frame.c %s/src/ipc/frame.c -o %s/fuzz_frame",
             WEFT_SOURCE_DIR, WEFT_SOURCE_DIR, WEFT_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s/fuzz_frame -max_total_time=%d -max_len=4096 -seed=1 "
             "-print_final_stats=1 %s >%s/log 2>&1 || { cat %s/log; exit 1; }",
             dir, fuzz_seconds(), corpus, dir, dir);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "tail -n 3 %s/log; rm -rf %s", dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(rc, 0);
}
#else
static void the_frame_reader_survives_fuzzing(void **state)
{
    /* libFuzzer is clang's: built with another compiler, nothing to run. */
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_frame_reader_survives_fuzzing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
