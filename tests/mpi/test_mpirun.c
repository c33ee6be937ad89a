/* SPDX-License-Identifier: MIT */
/* mpi: programs under mpirun, checked from outside: the seeds' CPU-bound
 * example on 5 ranks (weft_mpi_executor_new over MPI_COMM_WORLD, whose
 * workers end their process at shutdown), and a worker rank killed with
 * SIGKILL inside a task, which must not hang the job. Under `mpirun
 * --enable-recovery` the root reports it (the task's future fails with
 * WEFT_EWORKERDIED once the worker has been silent for worker_timeout),
 * the other tasks finish on the rank left, and the root frees the executor
 * and exits 0 (the program skips MPI_Finalize's fence, as weft/mpi.h says
 * a program that may lose a rank must). Under plain mpirun, Open MPI
 * aborts the whole job at once (a non-zero status, "exited on signal 9").
 * The program run is tests/mpi/ranks_executor.c in its "kill" mode.
 *
 * Run under the sanitizers too; under AddressSanitizer Open MPI's own
 * leaks are suppressed (tests/mpi/openmpi.lsan.supp). */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *run(const char *flags, int *status)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "timeout -s KILL %d %s --allow-run-as-root --oversubscribe "
             "--mca btl self,vader %s -n 3 %s 3 kill",
             (int)(120 * testing_scale()), WEFT_MPIEXEC, flags,
             WEFT_MPI_HELPER);
    return testing_run_program(cmd, status);
}

static void the_cpu_bound_example_runs_on_four_worker_ranks(void **state)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "timeout -s KILL %d %s --allow-run-as-root --oversubscribe "
             "--mca btl self,vader -n 5 %s/mpi_cpu_bound",
             (int)(120 * testing_scale()), WEFT_MPIEXEC, WEFT_EXAMPLES_DIR);
    int status;
    char *out = testing_run_program(cmd, &status);
    print_message("%s", out);
    assert_int_equal(status, 0);
    assert_int_equal(testing_count_lines(out, "Task "), 4);
    assert_non_null(strstr(out, "Task 1000000: result = 333332833333500000\n"));
    assert_non_null(strstr(out, "Task 4000000: result = 21333325333334000000\n"));
    free(out);
}

/* Three runs: the ranks left used to hang in MPI_Finalize's fence for the
 * dead rank in about one run in four on a loaded machine (weft/mpi.h,
 * "Ending a job that lost a rank"); each run is bounded by run()'s
 * timeout, which kills mpirun (status 0x89) rather than hang.
 *
 * On demand only (WEFT_MPI_RECOVERY=1): with that fence skipped, Open MPI
 * 4.1's --enable-recovery still hangs a job now and then on a loaded
 * machine, once before the root had printed anything. weft's part (a
 * silent rank presumed dead after worker_timeout, its task failed alone,
 * the rest served by the others) is checked in every build over the
 * in-process transport (test_core.c, a_silent_worker_fails_its_task_and_
 * the_rest_go_on). */
static void with_recovery_the_root_reports_the_dead_rank_and_exits(void **state)
{
    const char *want = getenv("WEFT_MPI_RECOVERY");
    if (want == NULL || strcmp(want, "1") != 0) {
        print_message("skipped: set WEFT_MPI_RECOVERY=1 to run mpirun "
                      "--enable-recovery with a rank killed\n");
        skip();
    }
    for (int i = 0; i < 3; i++) {
        int status;
        double t0 = weft_monotonic();
        char *out = run("--enable-recovery", &status);
        double took = weft_monotonic() - t0;
        print_message("run %d (%.1f s, status %#x):\n%s", i, took, status,
                      out);
        assert_int_equal(status, 0);
        assert_non_null(strstr(out, "die: WEFT_EWORKERDIED: MPI worker rank "
                                    "1 sent nothing for"));
        assert_non_null(strstr(out, "presumed dead, while running task 1 "
                                    "(die)"));
        assert_non_null(strstr(out, "squares ok: 20 of 20, live workers: 1"));
        assert_non_null(strstr(out, "root: freed the executor"));
        assert_true(took >= 2.0);
        free(out);
    }
}

static void without_recovery_mpirun_ends_the_whole_job(void **state)
{
    int status;
    char *out = run("", &status);
    assert_true(status != 0);
    /* mpirun itself says so (not a timeout killing it). */
    assert_non_null(strstr(out, "exited on signal 9"));
    assert_null(strstr(out, "root: freed the executor"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_cpu_bound_example_runs_on_four_worker_ranks),
        cmocka_unit_test(with_recovery_the_root_reports_the_dead_rank_and_exits),
        cmocka_unit_test(without_recovery_mpirun_ends_the_whole_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
