/* SPDX-License-Identifier: MIT */
/* loop_call_soon, loop_timers_zero and loop_timers_random: weft's loop
 * against libuv and libevent (Python's asyncio is in py_asyncio.py).
 *
 * Each measurement schedules n callbacks (or timers) and runs the loop
 * until all have run; the time covers both, per callback.
 *   loop_call_soon      weft: call_soon. libevent: event_assign +
 *                       event_active on n events (its way to make a
 *                       callback ready without I/O). libuv has no call_soon:
 *                       the closest is an idle handle, which runs in the
 *                       loop's next iteration (uv_idle_init + uv_idle_start,
 *                       stopped by its callback); uv_async_send coalesces
 *                       sends, so it cannot stand for n callbacks.
 *   loop_timers_zero    n timers with a delay of 0, set from inside the
 *                       running loop (where every loop caches the time).
 *   loop_timers_random  n timers with deadlines spread at random over the
 *                       next 10 ms (libuv's timers count in whole ms).
 * Each loop is made once and reused by every run, and the memory for the
 * peers' n event structs is allocated once, outside the timing: what is
 * measured is a loop in its steady state.
 */
#include <stdlib.h>

#include "bench.h"
#include "weft.h"

#ifdef HAVE_LIBEVENT
#include <event2/event.h>
#endif
#ifdef HAVE_LIBUV
#include <uv.h>
#endif

static long target;
static long count;

/* ----- weft ----- */

static weft_loop_t *wloop;

static int w_cb(void *arg)
{
    if (++count == target)
        weft_loop_stop(wloop);
    return 0;
}

static int64_t weft_call_soon(void *arg, long n)
{
    count = 0;
    target = n;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        weft_loop_call_soon(wloop, w_cb, NULL, NULL);
    weft_loop_run_forever(wloop);
    return bench_now_ns() - t0;
}

static double *delays;

static int w_set_timers(void *arg)
{
    int random = *(int *)arg;
    for (long i = 0; i < target; i++)
        weft_loop_call_later(wloop, random ? delays[i] : 0, w_cb, NULL, NULL);
    return 0;
}

static int64_t weft_timers(void *arg, long n)
{
    count = 0;
    target = n;
    int64_t t0 = bench_now_ns();
    weft_loop_call_soon(wloop, w_set_timers, arg, NULL);
    weft_loop_run_forever(wloop);
    return bench_now_ns() - t0;
}

/* ----- libevent ----- */

#ifdef HAVE_LIBEVENT
static struct event_base *ebase;
static unsigned char *evs;
static size_t evsize;

static void e_cb(evutil_socket_t fd, short what, void *arg)
{
    ++count;
}

static struct event *ev_at(long i)
{
    return (struct event *)(evs + (size_t)i * evsize);
}

static int64_t libevent_call_soon(void *arg, long n)
{
    ebase = event_base_new();
    count = 0;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        event_assign(ev_at(i), ebase, -1, 0, e_cb, NULL);
        event_active(ev_at(i), 0, 0);
    }
    event_base_loop(ebase, 0);
    int64_t dt = bench_now_ns() - t0;
    event_base_free(ebase);
    return dt;
}

static void e_set_timers(evutil_socket_t fd, short what, void *arg)
{
    int random = *(int *)arg;
    for (long i = 0; i < target; i++) {
        struct timeval tv = {0, 0};
        if (random)
            tv.tv_usec = (long)(delays[i] * 1e6);
        evtimer_assign(ev_at(i), ebase, e_cb, NULL);
        evtimer_add(ev_at(i), &tv);
    }
}

static int64_t libevent_timers(void *arg, long n)
{
    ebase = event_base_new();
    count = 0;
    target = n;
    struct event *start = evtimer_new(ebase, e_set_timers, arg);
    struct timeval zero = {0, 0};
    int64_t t0 = bench_now_ns();
    evtimer_add(start, &zero);
    event_base_loop(ebase, 0);
    int64_t dt = bench_now_ns() - t0;
    event_free(start);
    event_base_free(ebase);
    return dt;
}
#endif

/* ----- libuv ----- */

#ifdef HAVE_LIBUV
static uv_loop_t uloop;
static uv_idle_t *idles;
static uv_timer_t *utimers;

static void u_idle_cb(uv_idle_t *h)
{
    ++count;
    uv_idle_stop(h);
}

static int64_t libuv_call_soon(void *arg, long n)
{
    uv_loop_init(&uloop);
    count = 0;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        uv_idle_init(&uloop, &idles[i]);
        uv_idle_start(&idles[i], u_idle_cb);
    }
    uv_run(&uloop, UV_RUN_DEFAULT);
    int64_t dt = bench_now_ns() - t0;
    for (long i = 0; i < n; i++)
        uv_close((uv_handle_t *)&idles[i], NULL);
    uv_run(&uloop, UV_RUN_DEFAULT);
    uv_loop_close(&uloop);
    return dt;
}

static void u_timer_cb(uv_timer_t *t)
{
    ++count;
}

static int random_timers;

static void u_set_timers(uv_idle_t *h)
{
    uv_idle_stop(h);
    for (long i = 0; i < target; i++) {
        uv_timer_init(&uloop, &utimers[i]);
        uint64_t ms = random_timers ? (uint64_t)(delays[i] * 1000) : 0;
        uv_timer_start(&utimers[i], u_timer_cb, ms, 0);
    }
}

static int64_t libuv_timers(void *arg, long n)
{
    uv_loop_init(&uloop);
    count = 0;
    target = n;
    random_timers = *(int *)arg;
    uv_idle_t start;
    int64_t t0 = bench_now_ns();
    uv_idle_init(&uloop, &start);
    uv_idle_start(&start, u_set_timers);
    uv_run(&uloop, UV_RUN_DEFAULT);
    int64_t dt = bench_now_ns() - t0;
    uv_close((uv_handle_t *)&start, NULL);
    for (long i = 0; i < n; i++)
        uv_close((uv_handle_t *)&utimers[i], NULL);
    uv_run(&uloop, UV_RUN_DEFAULT);
    uv_loop_close(&uloop);
    return dt;
}
#endif

static void timers(const char *name, int random, long n, int reps)
{
    bench_report(name, "weft", n, bench_median(weft_timers, &random, n, reps));
#ifdef HAVE_LIBEVENT
    bench_report(name, "libevent", n,
                 bench_median(libevent_timers, &random, n, reps));
#endif
#ifdef HAVE_LIBUV
    bench_report(name, "libuv", n,
                 bench_median(libuv_timers, &random, n, reps));
#endif
}

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(1000000);
    delays = malloc((size_t)n * sizeof *delays);
    srand(1);
    for (long i = 0; i < n; i++)
        delays[i] = (rand() % 10000) / 1e6; /* 0..10 ms */
#ifdef HAVE_LIBEVENT
    evsize = event_get_struct_event_size();
    evs = malloc((size_t)n * evsize);
#endif
#ifdef HAVE_LIBUV
    idles = malloc((size_t)n * sizeof *idles);
    utimers = malloc((size_t)n * sizeof *utimers);
#endif
    weft_loop_new(&wloop);
    bench_report("loop_call_soon", "weft", n,
                 bench_median(weft_call_soon, NULL, n, reps));
#ifdef HAVE_LIBEVENT
    bench_report("loop_call_soon", "libevent", n,
                 bench_median(libevent_call_soon, NULL, n, reps));
#endif
#ifdef HAVE_LIBUV
    bench_report("loop_call_soon", "libuv.idle", n,
                 bench_median(libuv_call_soon, NULL, n, reps));
#endif
    timers("loop_timers_zero", 0, n, reps);
    timers("loop_timers_random", 1, n, reps);
    weft_loop_free(wloop);
    return 0;
}
