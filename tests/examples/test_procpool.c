/* SPDX-License-Identifier: MIT */
/* The seeds' process pool examples: each program runs, and what it prints
 * is checked. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void factorials_are_exact(void **state)
{
    int status;
    char *out = testing_run_example("procpool_factorials", NULL, &status);
    assert_int_equal(status, 0);
    if (strstr(out, "built without GMP")) {
        free(out);
        skip();
    }
    static const char *const expected[] = {
        "3628800", "2432902008176640000", "265252859812191058636308480000000",
        "815915283247897734345611269596115894272000000000",
        "30414093201713378043612608166064768844377641568960512000000000000"};
    for (int i = 0; i < 5; i++) {
        char line[128];
        snprintf(line, sizeof line, "Factorial computed: %s\n", expected[i]);
        assert_non_null(strstr(out, line));
        snprintf(line, sizeof line, "Computing factorial of %d...",
                 10 * (i + 1));
        assert_int_equal(testing_count_lines(out, line), 1);
    }
    free(out);
}

static void pool_of_four_squares_the_list(void **state)
{
    int status;
    char *out = testing_run_example("procpool_square", NULL, &status);
    assert_int_equal(status, 0);
    assert_string_equal(out, "[1, 4, 9, 16, 25]\n");
    free(out);
}

static void cpu_bound_sums_are_exact(void **state)
{
    int status;
    char *out = testing_run_example("procpool_cpu_bound", NULL, &status);
    assert_int_equal(status, 0);
    assert_int_equal(testing_count_lines(out, "Task "), 4);
    assert_non_null(strstr(out, "Task 1000000: result = 333332833333500000\n"));
    assert_non_null(
        strstr(out, "Task 2000000: result = 2666664666667000000\n"));
    assert_non_null(
        strstr(out, "Task 3000000: result = 8999995500000500000\n"));
    assert_non_null(
        strstr(out, "Task 4000000: result = 21333325333334000000\n"));
    free(out);
}

static void three_ways_to_factor_agree(void **state)
{
    int status;
    char *out = testing_run_example("procpool_primes", NULL, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Starting number crunching: 10000 numbers"));
    assert_non_null(strstr(out, "All three agree: yes\n"));
    /* The same checksum on each of the three lines. */
    const char *c = strstr(out, "checksum ");
    assert_non_null(c);
    char sum[17];
    memcpy(sum, c + 9, 16);
    sum[16] = '\0';
    assert_int_equal(testing_count_lines(out, sum), 3);
    free(out);
}

static void csv_chunks_are_processed_and_flattened(void **state)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/weft-test-csv-%ld.csv", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "name,value\n");
    size_t low = 0, medium = 0, high = 0;
    for (int i = 0; i < 2500; i++) {
        int v = (i * 13) % 300;
        fprintf(f, "row%d,%d\n", i, v);
        low += v < 10;
        medium += v >= 10 && v < 100;
        high += v >= 100;
    }
    fclose(f);
    int status;
    char *out = testing_run_example("procpool_csv", path, &status);
    unlink(path);
    assert_int_equal(status, 0);
    assert_non_null(
        strstr(out, "ROW0,0,low\nROW1,26,medium\nROW2,52,medium\n"));
    assert_non_null(strstr(out, "Processed 2500 rows in 3 chunks\n"));
    char line[128];
    snprintf(line, sizeof line, "low: %zu, medium: %zu, high: %zu\n", low,
             medium, high);
    assert_non_null(strstr(out, line));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(factorials_are_exact),
        cmocka_unit_test(pool_of_four_squares_the_list),
        cmocka_unit_test(cpu_bound_sums_are_exact),
        cmocka_unit_test(three_ways_to_factor_agree),
        cmocka_unit_test(csv_chunks_are_processed_and_flattened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
