/* SPDX-License-Identifier: MIT */
/* manager: the server's dicts and lists, proxies in children, keys, and a
 * server that always stops cleanly. */
#include "testing_proc.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/manager_int.h"

static weft_manager_t *manager(void)
{
    weft_manager_t *m;
    assert_int_equal(weft_manager_start(&m, NULL, NULL, 0), 0);
    return m;
}

static void expect(const weft_bytes_t *b, const char *text)
{
    assert_int_equal(b->len, strlen(text));
    assert_memory_equal(b->data, text, b->len);
}

static int exit_code(weft_process_t *p)
{
    assert_int_equal(weft_process_join(p, 20 * testing_scale()), 0);
    int code = -1;
    weft_process_exitcode(p, &code);
    weft_process_free(p);
    return code;
}

/* ----- Dicts and lists ----- */

static void a_dict_does_what_pythons_does(void **state)
{
    weft_manager_t *m = manager();
    weft_dict_proxy_t *d;
    assert_int_equal(weft_manager_dict(m, &d), 0);
    assert_int_equal(weft_dict_proxy_set(d, "b", 1, "two", 3), 0);
    assert_int_equal(weft_dict_proxy_set(d, "a", 1, "one", 3), 0);
    assert_int_equal(weft_dict_proxy_set(d, "b", 1, "TWO", 3), 0);
    weft_bytes_t v;
    assert_int_equal(weft_dict_proxy_get(d, "b", 1, &v), 0);
    expect(&v, "TWO");
    weft_bytes_free(&v);
    assert_fails_with(weft_dict_proxy_get(d, "zz", 2, &v), WEFT_EKEY,
                      "no such key");
    size_t n = 0;
    assert_int_equal(weft_dict_proxy_len(d, &n), 0);
    assert_int_equal(n, 2);
    weft_bytes_t *keys;
    assert_int_equal(weft_dict_proxy_keys(d, &keys, &n), 0);
    assert_int_equal(n, 2);
    expect(&keys[0], "b"); /* insertion order */
    expect(&keys[1], "a");
    weft_bytes_list_free(keys, n);
    assert_int_equal(weft_dict_proxy_pop(d, "a", 1, &v), 0);
    expect(&v, "one");
    weft_bytes_free(&v);
    assert_int_equal(weft_dict_proxy_delete(d, "b", 1), 0);
    assert_fails_with(weft_dict_proxy_delete(d, "b", 1), WEFT_EKEY, "key");
    assert_int_equal(weft_dict_proxy_len(d, &n), 0);
    assert_int_equal(n, 0);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

static void dict_updates_are_atomic_operations(void **state)
{
    weft_manager_t *m = manager();
    weft_dict_proxy_t *d;
    weft_manager_dict(m, &d);
    int64_t now = 0;
    assert_int_equal(weft_dict_proxy_add(d, "n", 1, 5, &now), 0);
    assert_int_equal(now, 5);
    assert_int_equal(weft_dict_proxy_add(d, "n", 1, -7, &now), 0);
    assert_int_equal(now, -2);
    weft_dict_proxy_set(d, "s", 1, "text", 4);
    assert_fails_with(weft_dict_proxy_add(d, "s", 1, 1, NULL), WEFT_EINVAL,
                      "not a counter");
    weft_bytes_t text = {(unsigned char *)"text", 4};
    assert_int_equal(
        weft_dict_proxy_compare_and_set(d, "s", 1, &text, "next", 4), 0);
    assert_fails_with(
        weft_dict_proxy_compare_and_set(d, "s", 1, &text, "again", 5),
        WEFT_ESTATE, "the value changed");
    assert_int_equal(
        weft_dict_proxy_compare_and_set(d, "new", 3, NULL, "born", 4), 0);
    assert_fails_with(
        weft_dict_proxy_compare_and_set(d, "new", 3, NULL, "twice", 5),
        WEFT_ESTATE, "changed");
    weft_bytes_t v;
    weft_dict_proxy_get(d, "s", 1, &v);
    expect(&v, "next");
    weft_bytes_free(&v);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

static void a_list_does_what_pythons_does(void **state)
{
    weft_manager_t *m = manager();
    weft_list_proxy_t *l;
    assert_int_equal(weft_manager_list(m, &l), 0);
    const char *words[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(weft_list_proxy_append(l, words[i], 1), 0);
    weft_bytes_t v;
    assert_int_equal(weft_list_proxy_get(l, -1, &v), 0);
    expect(&v, "d");
    weft_bytes_free(&v);
    assert_int_equal(weft_list_proxy_set(l, 0, "A", 1), 0);
    assert_int_equal(weft_list_proxy_delete(l, 1), 0); /* b */
    assert_int_equal(weft_list_proxy_pop(l, -1, &v), 0);
    expect(&v, "d");
    weft_bytes_free(&v);
    assert_fails_with(weft_list_proxy_get(l, 2, &v), WEFT_EKEY,
                      "list index out of range");
    assert_fails_with(weft_list_proxy_get(l, -3, &v), WEFT_EKEY, "range");
    weft_bytes_t *items;
    size_t n;
    assert_int_equal(weft_list_proxy_items(l, &items, &n), 0);
    assert_int_equal(n, 2);
    expect(&items[0], "A");
    expect(&items[1], "c");
    weft_bytes_list_free(items, n);
    assert_int_equal(weft_list_proxy_len(l, &n), 0);
    assert_int_equal(n, 2);
    weft_list_proxy_free(l);
    weft_manager_free(m);
}

/* ----- Proxies in children ----- */

static int append_pids(const weft_bytes_t *arg)
{
    weft_list_proxy_t *l;
    if (weft_list_proxy_from_share(&l, weft_arg_share(arg, 0)) != 0)
        return 1;
    for (int i = 0; i < 5; i++) {
        int pid = (int)getpid();
        if (weft_list_proxy_append(l, &pid, sizeof pid) != 0)
            return 2;
    }
    weft_list_proxy_free(l);
    return 0;
}

static void three_processes_append_to_one_list(void **state)
{
    static const char *const methods[] = {"fork", "spawn", "forkserver"};
    weft_manager_t *m = manager();
    weft_list_proxy_t *l;
    weft_manager_list(m, &l);
    weft_process_t *p[3];
    int pids[3];
    for (int i = 0; i < 3; i++) {
        weft_share_t h;
        assert_int_equal(weft_list_proxy_share(l, &h), 0);
        weft_context_t *ctx;
        weft_get_context(&ctx, methods[i]);
        weft_context_process_new(ctx, &p[i], append_pids, &h, sizeof h, NULL);
        weft_process_pass(p[i], &h);
        assert_int_equal(weft_process_start(p[i]), 0);
        close(h.fds[0]);
        pids[i] = weft_process_pid(p[i]);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(exit_code(p[i]), 0);
    weft_bytes_t *items;
    size_t n;
    assert_int_equal(weft_list_proxy_items(l, &items, &n), 0);
    assert_int_equal(n, 15);
    int seen[3] = {0, 0, 0};
    for (size_t k = 0; k < n; k++) {
        int pid;
        memcpy(&pid, items[k].data, sizeof pid);
        for (int i = 0; i < 3; i++)
            seen[i] += pid == pids[i];
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(seen[i], 5);
    weft_bytes_list_free(items, n);
    weft_list_proxy_free(l);
    weft_manager_free(m);
}

static int count_up(const weft_bytes_t *arg)
{
    weft_dict_proxy_t *d;
    if (weft_dict_proxy_from_share(&d, weft_arg_share(arg, 0)) != 0)
        return 1;
    for (int i = 0; i < 200; i++)
        if (weft_dict_proxy_add(d, "hits", 4, 1, NULL) != 0)
            return 2;
    weft_dict_proxy_free(d);
    return 0;
}

static void counting_from_many_processes_loses_nothing(void **state)
{
    weft_manager_t *m = manager();
    weft_dict_proxy_t *d;
    weft_manager_dict(m, &d);
    weft_process_t *p[4];
    for (int i = 0; i < 4; i++) {
        weft_share_t h;
        weft_dict_proxy_share(d, &h);
        weft_process_new(&p[i], count_up, &h, sizeof h, NULL);
        weft_process_pass(p[i], &h);
        weft_process_start(p[i]);
        close(h.fds[0]);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(exit_code(p[i]), 0);
    int64_t total = 0;
    weft_dict_proxy_add(d, "hits", 4, 0, &total);
    assert_int_equal(total, 800);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

/* ----- Keys and connections ----- */

static void a_wrong_key_is_refused(void **state)
{
    weft_manager_t *m = manager(), *other;
    assert_fails_with(
        weft_manager_connect(&other, weft_manager_address(m), "wrong", 5),
        WEFT_EAUTH, "refused");
    size_t len;
    const unsigned char *key = weft_process_authkey(&len);
    assert_int_equal(
        weft_manager_connect(&other, weft_manager_address(m), key, len), 0);
    assert_fails_with(weft_manager_shutdown(other), WEFT_EPERM,
                      "only the process that started");
    weft_manager_free(other);
    assert_fails_with(weft_manager_connect(&other, "/nonexistent/x", key, len),
                      WEFT_EKEY, "no manager");
    weft_manager_free(m);
}

/* An unrelated process: a fork that uses nothing but the address and the
 * key (passed as text, as another program would get them). */
static void an_unrelated_process_connects_with_address_and_key(void **state)
{
    weft_manager_t *m;
    assert_int_equal(weft_manager_start(&m, NULL, "sesame", 6), 0);
    weft_dict_proxy_t *d;
    weft_manager_dict(m, &d);
    weft_dict_proxy_set(d, "k", 1, "v", 1);
    char address[128];
    snprintf(address, sizeof address, "%s", weft_manager_address(m));
    pid_t pid = fork();
    if (pid == 0) {
        weft_manager_t *c;
        if (weft_manager_connect(&c, address, "sesame", 6) != 0)
            _exit(1);
        weft_dict_proxy_t *x; /* a fresh dict: the connection works */
        if (weft_manager_dict(c, &x) != 0 ||
            weft_dict_proxy_set(x, "from", 4, "child", 5) != 0)
            _exit(2);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

static void a_silent_client_holds_up_no_one(void **state)
{
    weft_manager_t *m = manager();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", weft_manager_address(m));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    /* It never answers the challenge; others still get served. */
    weft_list_proxy_t *l;
    assert_int_equal(weft_manager_list(m, &l), 0);
    assert_int_equal(weft_list_proxy_append(l, "x", 1), 0);
    weft_list_proxy_free(l);
    close(fd);
    weft_manager_free(m);
}

static void a_malformed_request_is_refused_and_the_server_goes_on(void **state)
{
    weft_manager_t *m = manager();
    size_t len;
    const unsigned char *key = weft_process_authkey(&len);
    unsigned char k[WEFT__MGR_KEY_BYTES];
    weft__mgr_derive_key(key, len, k);
    weft__mgr_client_t *c;
    assert_int_equal(weft__mgr_client_new(&c, weft_manager_address(m), k), 0);
    weft__wbuf_t w = {0};
    weft__w_raw(&w, "\x0b\0\0\0\x01\0\0\0\xff\xff", 10); /* a short blob */
    weft_bytes_t reply = {0};
    assert_fails_with(weft__mgr_call(c, &w, &reply), WEFT_EKEY, "no such");
    weft__w_free(&w);
    weft_dict_proxy_t *d;
    weft_manager_dict(m, &d); /* id 1 now exists */
    weft__w_raw(&w, "\x0b\0\0\0\x01\0\0\0\xff\xff", 10);
    assert_fails_with(weft__mgr_call(c, &w, &reply), WEFT_EPROTO, "malformed");
    weft__w_free(&w);
    weft__w_raw(&w, "\x63\0\0\0\x01\0\0\0", 8);
    assert_fails_with(weft__mgr_call(c, &w, &reply), WEFT_EPROTO, "unknown");
    weft__w_free(&w);
    assert_int_equal(weft_dict_proxy_set(d, "still", 5, "here", 4), 0);
    weft__mgr_client_unref(c);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

/* ----- Stopping ----- */

/* In a process other than the owner: connect with the right key and ask,
 * in a raw request, for the server to stop. The exit status says what the
 * server answered: 0 refused with WEFT_EPERM, 1 stopped, 2 something else. */
static _Noreturn void ask_for_a_stop(const char *address)
{
    size_t len;
    const unsigned char *key = weft_process_authkey(&len);
    unsigned char k[WEFT__MGR_KEY_BYTES];
    weft__mgr_client_t *c;
    if (weft__mgr_derive_key(key, len, k) != 0 ||
        weft__mgr_client_new(&c, address, k) != 0)
        _exit(3);
    weft__wbuf_t w = {0};
    weft__w_raw(&w, "\x1e\0\0\0\0\0\0\0", 8); /* OP_SHUTDOWN, id 0 */
    weft_bytes_t reply = {0};
    int rc = weft__mgr_call(c, &w, &reply);
    if (rc == WEFT_EPERM && testing_message_has("only the process that"))
        _exit(0);
    _exit(rc == 0 || rc == WEFT_EEOF ? 1 : 2);
}

static void only_the_owner_stops_the_server(void **state)
{
    weft_manager_t *m = manager();
    weft_dict_proxy_t *d;
    assert_int_equal(weft_manager_dict(m, &d), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        ask_for_a_stop(weft_manager_address(m));
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(weft_dict_proxy_set(d, "still", 5, "here", 4), 0);
    /* The owner's own raw request is obeyed. */
    weft__wbuf_t w = {0};
    weft__w_raw(&w, "\x1e\0\0\0\0\0\0\0", 8);
    size_t len;
    const unsigned char *key = weft_process_authkey(&len);
    unsigned char k[WEFT__MGR_KEY_BYTES];
    weft__mgr_derive_key(key, len, k);
    weft__mgr_client_t *c;
    assert_int_equal(weft__mgr_client_new(&c, weft_manager_address(m), k), 0);
    weft_bytes_t reply = {0};
    assert_int_equal(weft__mgr_call(c, &w, &reply), 0);
    weft_bytes_free(&reply);
    weft__w_free(&w);
    weft__mgr_client_unref(c);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

static void shutdown_removes_the_socket_and_ends_the_proxies(void **state)
{
    weft_manager_t *m = manager();
    char address[128];
    snprintf(address, sizeof address, "%s", weft_manager_address(m));
    struct stat st;
    assert_int_equal(stat(address, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    weft_list_proxy_t *l;
    weft_manager_list(m, &l);
    assert_int_equal(weft_manager_shutdown(m), 0);
    assert_int_equal(weft_manager_shutdown(m), 0);
    assert_int_not_equal(access(address, F_OK), 0);
    *strrchr(address, '/') = '\0';
    assert_int_not_equal(access(address, F_OK), 0); /* its directory too */
    assert_fails_with(weft_list_proxy_append(l, "x", 1), WEFT_EEOF, "stopped");
    weft_list_proxy_free(l);
    weft_manager_free(m);
}

static void a_manager_at_a_given_address(void **state)
{
    char dir[] = "/tmp/weft-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char address[64];
    snprintf(address, sizeof address, "%s/mgr", dir);
    weft_manager_t *m, *twice;
    assert_int_equal(weft_manager_start(&m, address, NULL, 0), 0);
    assert_string_equal(weft_manager_address(m), address);
    assert_fails_with(weft_manager_start(&twice, address, NULL, 0), WEFT_EEXIST,
                      "taken");
    weft_manager_free(m);
    assert_int_not_equal(access(address, F_OK), 0);
    assert_int_equal(rmdir(dir), 0); /* ours: left in place, empty */
}

static void the_server_stops_cleanly_when_its_owner_is_killed(void **state)
{
    int fds[2];
    testing_pipe(fds);
    pid_t owner = fork();
    if (owner == 0) {
        weft_manager_t *m;
        if (weft_manager_start(&m, NULL, NULL, 0) != 0)
            _exit(1);
        char address[128] = {0};
        snprintf(address, sizeof address, "%s", weft_manager_address(m));
        if (write(fds[1], address, sizeof address) != sizeof address)
            _exit(2);
        for (;;)
            pause();
    }
    close(fds[1]);
    char address[128];
    assert_int_equal(read(fds[0], address, sizeof address), sizeof address);
    close(fds[0]);
    kill(owner, SIGKILL);
    waitpid(owner, NULL, 0);
    *strrchr(address, '/') = '\0';
    for (double t0 = weft_monotonic(); access(address, F_OK) == 0;) {
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
        weft_sleep(0.01);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    return remove(path);
}

/* An owner killed at a random point of its start, many times over: once
 * its server has ended (we are the subreaper of both), its TMPDIR, where
 * the server's directory and socket go, is empty. */
static void an_owner_killed_while_it_starts_leaves_nothing(void **state)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    char before[4096];
    testing_list_children(before, sizeof before, 1);
    for (int round = 0; round < 30; round++) {
        char tmpdir[] = "/tmp/weft-test-XXXXXX";
        assert_non_null(mkdtemp(tmpdir));
        int fds[2];
        testing_pipe(fds);
        pid_t owner = fork();
        assert_true(owner >= 0);
        if (owner == 0) {
            setenv("TMPDIR", tmpdir, 1);
            char c = 'x';
            weft_manager_t *m;
            if (write(fds[1], &c, 1) != 1 ||
                weft_manager_start(&m, NULL, NULL, 0) != 0)
                _exit(1);
            for (;;)
                pause();
        }
        close(fds[1]);
        char c;
        assert_int_equal(read(fds[0], &c, 1), 1);
        close(fds[0]);
        weft_sleep((double)testing_rng_below(&rng, 30000) / 1e6);
        kill(owner, SIGKILL);
        for (double t0 = weft_monotonic();;) {
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            char now[4096];
            testing_list_children(now, sizeof now, 1);
            if (strcmp(now, before) == 0)
                break;
            if (weft_monotonic() - t0 > 10 * testing_scale())
                fail_msg("%d processes outlived the owner",
                         testing_kill_children_but(before));
            weft_sleep(0.005);
        }
        if (rmdir(tmpdir) != 0) {
            nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
            fail_msg("round %d left its socket behind", round);
        }
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(a_dict_does_what_pythons_does),
        testing_proc_test(dict_updates_are_atomic_operations),
        testing_proc_test(a_list_does_what_pythons_does),
        testing_proc_test(three_processes_append_to_one_list),
        testing_proc_test(counting_from_many_processes_loses_nothing),
        testing_proc_test(a_wrong_key_is_refused),
        testing_proc_test(an_unrelated_process_connects_with_address_and_key),
        testing_proc_test(a_silent_client_holds_up_no_one),
        testing_proc_test(
            a_malformed_request_is_refused_and_the_server_goes_on),
        testing_proc_test(only_the_owner_stops_the_server),
        testing_proc_test(shutdown_removes_the_socket_and_ends_the_proxies),
        testing_proc_test(a_manager_at_a_given_address),
        testing_proc_test(the_server_stops_cleanly_when_its_owner_is_killed),
        testing_proc_test(an_owner_killed_while_it_starts_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
