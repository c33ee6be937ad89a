/* SPDX-License-Identifier: MIT */
/* shm: SharedMemory, anonymous and named, its ownership, and the tracker
 * that cleans up after a creator that ended without unlinking. */
#include "testing_proc.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* "weft-<pid>-<tag>": this test's names, which the snapshot checks. */
static const char *name_for(const char *tag, char *buf, size_t size)
{
    char prefix[64];
    snprintf(buf, size, "%s%s", testing_shm_prefix(prefix, sizeof prefix), tag);
    return buf;
}

static int in_dev_shm(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
}

/* Wait until name has left /dev/shm (the tracker's work), up to 5 s. */
static void wait_gone(const char *name)
{
    double t0 = weft_monotonic();
    while (in_dev_shm(name)) {
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
        weft_sleep(0.01);
    }
}

static int exit_code(weft_process_t *p)
{
    assert_int_equal(weft_process_join(p, 20 * testing_scale()), 0);
    int code = -1;
    weft_process_exitcode(p, &code);
    weft_process_free(p);
    return code;
}

/* ----- Anonymous ----- */

static int double_it(const weft_bytes_t *arg)
{
    weft_shm_t *s;
    if (weft_shm_from_share(&s, weft_arg_share(arg, 0)) != 0)
        return 1;
    if (weft_shm_name(s) != NULL || weft_shm_is_creator(s))
        return 2;
    if (weft_shm_unlink(s) != WEFT_EINVAL)
        return 3;
    long *n = weft_shm_buf(s);
    *n *= 2;
    weft_shm_free(s);
    return 0;
}

static void an_anonymous_segment_reaches_a_child_through_a_share(void **state)
{
    static const char *const methods[] = {"fork", "spawn", "forkserver"};
    for (int m = 0; m < 3; m++) {
        weft_shm_t *s;
        assert_int_equal(weft_shm_create(&s, NULL, 100), 0);
        assert_null(weft_shm_name(s));
        assert_true(weft_shm_is_creator(s));
        assert_int_equal(weft_shm_size(s), 100);
        long *n = weft_shm_buf(s);
        assert_int_equal(*n, 0); /* zero-filled */
        *n = 21;
        weft_share_t h;
        assert_int_equal(weft_shm_share(s, &h), 0);
        weft_context_t *ctx;
        weft_get_context(&ctx, methods[m]);
        weft_process_t *p;
        weft_context_process_new(ctx, &p, double_it, &h, sizeof h, NULL);
        weft_process_pass(p, &h);
        weft_process_start(p);
        assert_int_equal(exit_code(p), 0);
        assert_int_equal(*n, 42);
        weft_shm_free(s);
    }
}

/* ----- Named ----- */

static void a_named_segment_is_owner_only_and_attached_by_name(void **state)
{
    char name[64];
    name_for("named", name, sizeof name);
    weft_shm_t *s, *t;
    assert_int_equal(weft_shm_create(&s, name, 5000), 0);
    assert_string_equal(weft_shm_name(s), name);
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    strcpy(weft_shm_buf(s), "hello");
    char slashed[80];
    snprintf(slashed, sizeof slashed, "/%s", name);
    assert_int_equal(weft_shm_attach(&t, slashed), 0);
    assert_string_equal(weft_shm_name(t), name);
    assert_false(weft_shm_is_creator(t));
    assert_true(weft_shm_size(t) >= 5000);
    assert_string_equal(weft_shm_buf(t), "hello");
    assert_fails_with(weft_shm_unlink(t), WEFT_EPERM, "only the creator");
    assert_fails_with(weft_shm_create(&t, name, 10), WEFT_EEXIST, "exists");
    assert_int_equal(weft_shm_unlink(s), 0);
    assert_false(in_dev_shm(name));
    assert_fails_with(weft_shm_unlink(s), WEFT_ESTATE, "already");
    /* Mapped memory outlives the name. */
    assert_string_equal(weft_shm_buf(t), "hello");
    weft_shm_free(t);
    assert_int_equal(weft_shm_close(s), 0);
    assert_int_equal(weft_shm_close(s), 0);
    assert_null(weft_shm_buf(s));
    weft_share_t h;
    assert_fails_with(weft_shm_share(s, &h), WEFT_ESTATE, "closed");
    weft_shm_free(s);
    assert_fails_with(weft_shm_attach(&t, name), WEFT_EKEY, "no shared");
}

static void a_generated_name_is_fresh(void **state)
{
    weft_shm_t *a, *b;
    assert_int_equal(weft_shm_create(&a, "", 64), 0);
    assert_int_equal(weft_shm_create(&b, "", 64), 0);
    char prefix[64];
    testing_shm_prefix(prefix, sizeof prefix);
    assert_memory_equal(weft_shm_name(a), prefix, strlen(prefix));
    assert_string_not_equal(weft_shm_name(a), weft_shm_name(b));
    assert_true(in_dev_shm(weft_shm_name(a)));
    weft_shm_unlink(a);
    weft_shm_unlink(b);
    weft_shm_free(a);
    weft_shm_free(b);
}

static void bad_arguments_are_refused(void **state)
{
    weft_shm_t *s;
    assert_fails_with(weft_shm_create(&s, NULL, 0), WEFT_EINVAL, "positive");
    assert_fails_with(weft_shm_create(&s, "a/b", 10), WEFT_EINVAL, "bad");
    assert_fails_with(weft_shm_create(&s, "/", 10), WEFT_EINVAL, "bad");
    assert_fails_with(weft_shm_attach(&s, ".."), WEFT_EINVAL, "bad");
    /* The tracker reads one name a line: a newline would hide it. */
    char name[64];
    name_for("two\nlines", name, sizeof name);
    assert_fails_with(weft_shm_create(&s, name, 10), WEFT_EINVAL, "newline");
    assert_false(in_dev_shm(name));
    weft_share_t h = {0};
    assert_fails_with(weft_shm_from_share(&s, &h), WEFT_EINVAL, "not a");
}

/* ----- The tracker ----- */

struct creator {
    char name[64];
    int unlink_first;
    int report; /* where to say "created" */
};

/* Create the segment, say so, then wait to be killed (or end at once). */
static int create_and_wait(const weft_bytes_t *arg)
{
    struct creator c;
    memcpy(&c, arg->data, sizeof c);
    weft_shm_t *s;
    if (weft_shm_create(&s, c.name, 4096) != 0)
        return 1;
    if (c.unlink_first)
        weft_shm_unlink(s);
    char x = 'x';
    if (write(c.report, &x, 1) != 1)
        return 2;
    close(c.report);
    if (c.unlink_first < 0)
        return 0; /* end without unlinking */
    for (;;)
        pause();
}

static weft_process_t *start_creator(const char *name, int unlink_first)
{
    int fds[2];
    testing_pipe(fds);
    struct creator c = {"", unlink_first, fds[1]};
    snprintf(c.name, sizeof c.name, "%s", name);
    weft_process_t *p;
    weft_process_new(&p, create_and_wait, &c, sizeof c, NULL);
    weft_process_pass_fd(p, fds[1]);
    assert_int_equal(weft_process_start(p), 0);
    close(fds[1]);
    char x;
    assert_int_equal(read(fds[0], &x, 1), 1);
    close(fds[0]);
    return p;
}

static void a_killed_creators_segment_is_removed(void **state)
{
    char name[64];
    name_for("killed", name, sizeof name);
    weft_process_t *p = start_creator(name, 0);
    assert_true(in_dev_shm(name));
    weft_process_kill(p);
    assert_int_equal(exit_code(p), -SIGKILL);
    wait_gone(name);
}

static void a_creator_that_forgot_to_unlink_is_cleaned_up_after(void **state)
{
    char name[64];
    name_for("forgot", name, sizeof name);
    weft_process_t *p = start_creator(name, -1);
    assert_int_equal(exit_code(p), 0);
    wait_gone(name);
}

static void the_tracker_waits_until_nobody_maps_the_segment(void **state)
{
    char name[64];
    name_for("still-used", name, sizeof name);
    weft_process_t *p = start_creator(name, 0);
    weft_shm_t *s;
    assert_int_equal(weft_shm_attach(&s, name), 0);
    weft_process_kill(p);
    assert_int_equal(exit_code(p), -SIGKILL);
    /* We map it: the tracker must leave it be. */
    weft_sleep(0.3);
    assert_true(in_dev_shm(name));
    weft_shm_free(s);
    wait_gone(name);
}

static void a_name_unlinked_and_made_again_is_left_alone(void **state)
{
    char name[64];
    name_for("remade", name, sizeof name);
    /* The creator unlinks its segment; we make one of the same name. */
    weft_process_t *p = start_creator(name, 1);
    weft_shm_t *ours;
    assert_int_equal(weft_shm_create(&ours, name, 64), 0);
    weft_process_kill(p);
    assert_int_equal(exit_code(p), -SIGKILL);
    weft_sleep(0.3);
    assert_true(in_dev_shm(name));
    weft_shm_unlink(ours);
    weft_shm_free(ours);
}

/* ----- A creator killed anywhere ----- */

#define KILL_ROUNDS 40
#define SEGMENTS_PER_CREATOR 20

/* The creator: say it is about to begin, then create segments (never
 * unlinked) one after the other until killed, named prefix and a count. */
static _Noreturn void create_until_killed(const char *prefix, int report)
{
    char x = 'x';
    if (write(report, &x, 1) != 1)
        _exit(2);
    for (unsigned i = 0;; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s%u", prefix, i);
        weft_shm_t *s;
        if (i < SEGMENTS_PER_CREATOR && weft_shm_create(&s, name, 4096) != 0)
            _exit(1);
        if (i < SEGMENTS_PER_CREATOR)
            weft_shm_free(s);
        else
            pause();
    }
}

/* Whether /dev/shm holds a name that starts with prefix. */
static int any_in_dev_shm(const char *prefix)
{
    DIR *d = opendir("/dev/shm");
    assert_non_null(d);
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return found;
}

/* Reap the children that come to us (the creator, then its tracker, whose
 * subreaper we are) until only those of before are left: the tracker has
 * done its work and ended. */
static void reap_all_but(const char *before)
{
    double t0 = weft_monotonic();
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        char now[4096];
        testing_list_children(now, sizeof now, 1);
        if (strcmp(now, before) == 0)
            return;
        if (weft_monotonic() - t0 > 10 * testing_scale())
            fail_msg("%d processes did not end",
                     testing_kill_children_but(before));
        weft_sleep(0.005);
    }
}

static void a_creator_killed_anywhere_leaves_no_segment(void **state)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    char before[4096], prefix[64];
    testing_list_children(before, sizeof before, 1);
    name_for("crash", prefix, sizeof prefix);
    for (unsigned round = 0; round < KILL_ROUNDS; round++) {
        char names[96];
        snprintf(names, sizeof names, "%s%u-", prefix, round);
        int fds[2];
        testing_pipe(fds);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            create_until_killed(names, fds[1]);
        close(fds[1]);
        char x;
        assert_int_equal(read(fds[0], &x, 1), 1);
        close(fds[0]);
        /* From the first create (which starts the tracker) to the last. */
        weft_sleep((double)testing_rng_below(&rng, 15000) / 1e6);
        kill(pid, SIGKILL);
        reap_all_but(before);
        if (any_in_dev_shm(prefix))
            fail_msg("round %u left a segment behind", round);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(an_anonymous_segment_reaches_a_child_through_a_share),
        testing_proc_test(a_named_segment_is_owner_only_and_attached_by_name),
        testing_proc_test(a_generated_name_is_fresh),
        testing_proc_test(bad_arguments_are_refused),
        testing_proc_test(a_killed_creators_segment_is_removed),
        testing_proc_test(a_creator_that_forgot_to_unlink_is_cleaned_up_after),
        testing_proc_test(the_tracker_waits_until_nobody_maps_the_segment),
        testing_proc_test(a_name_unlinked_and_made_again_is_left_alone),
        testing_proc_test(a_creator_killed_anywhere_leaves_no_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
