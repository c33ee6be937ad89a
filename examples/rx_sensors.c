/* SPDX-License-Identifier: MIT */
/* The thermometer grown up: three sensors read on threads of a pool, each
 * in bursts of jittery readings that settle (debounce keeps a burst's last
 * reading); the settled readings of all three are merged into one stream,
 * averaged in windows of three on the loop, and a window whose average
 * passes the limit raises an alert.
 *
 * Each sensor waits until its settled reading has come out of debounce,
 * and the three meet at a barrier before their next burst, so that every
 * window holds one settled reading of each sensor, whatever order the
 * threads run in. */
#include <stdio.h>
#include <stdlib.h>

#include "weft.h"

enum { SENSORS = 3, ROUNDS = 5 };
#define LIMIT 30.0

/* The settled temperature of each sensor in each round. */
static const long settled[SENSORS][ROUNDS] = {
    {21, 24, 28, 33, 27}, {22, 25, 29, 31, 26}, {24, 27, 34, 35, 25}};

struct sensor {
    int id;
    weft_semaphore_t heard; /* its settled reading came through */
    weft_barrier_t *round;
};

static int read_sensor(void *ctx, weft_rx_emitter_t *e)
{
    struct sensor *s = ctx;
    static const long jitter[] = {-2, 1, -1, 2, 0};
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < 5; k++) /* a burst: the last one is settled */
            weft_rx_emitter_next(e, (void *)(intptr_t)(settled[s->id][r] +
                                                       jitter[k]));
        int rc = weft_semaphore_acquire(&s->heard, WEFT_FOREVER);
        if (rc == 0)
            rc = weft_barrier_wait(s->round, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* After debounce, on the loop: let the sensor go on. */
static void settled_reading(void *ctx, void *v)
{
    weft_semaphore_release(&((struct sensor *)ctx)->heard, 1);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

struct report {
    weft_loop_t *loop;
    int windows, alerts;
};

static void window(void *ctx, void *v)
{
    struct report *rep = ctx;
    const weft_rx_list_t *w = v;
    long t[SENSORS];
    double sum = 0;
    for (size_t i = 0; i < w->n; i++)
        sum += (double)(t[i] = (long)(intptr_t)w->items[i]);
    qsort(t, w->n, sizeof t[0], cmp_long);
    double avg = sum / (double)w->n;
    printf("window %d: %ld %ld %ld -> average %.1f", ++rep->windows, t[0],
           t[1], t[2], avg);
    if (avg > LIMIT) {
        printf("  ALERT: above %.1f", LIMIT);
        rep->alerts++;
    }
    printf("\n");
}

static void failed(void *ctx, const weft_error_info_t *e)
{
    printf("Error: %s\n", e->message);
    weft_loop_stop(((struct report *)ctx)->loop);
}

static void done(void *ctx)
{
    struct report *rep = ctx;
    printf("All sensors done: %d windows, %d alerts\n", rep->windows,
           rep->alerts);
    weft_loop_stop(rep->loop);
}

int main(void)
{
    weft_loop_t *loop;
    weft_loop_new(&loop);
    weft_executor_t *pool;
    weft_thread_pool_new(&pool, &(weft_thread_pool_opts_t){.max_workers =
                                                               SENSORS});
    weft_rx_scheduler_t *on_pool, *on_loop;
    weft_rx_executor_scheduler_new(&on_pool, pool);
    weft_rx_loop_scheduler_new(&on_loop, loop);

    weft_barrier_t round;
    weft_barrier_init(&round, SENSORS, NULL, NULL, WEFT_FOREVER);
    struct sensor sensors[SENSORS];
    weft_rx_observable_t *streams[SENSORS];
    for (int i = 0; i < SENSORS; i++) {
        sensors[i].id = i;
        sensors[i].round = &round;
        weft_semaphore_init(&sensors[i].heard, 0);
        weft_rx_observable_t *o;
        weft_rx_generate(&o, on_pool, read_sensor, &sensors[i]);
        weft_rx_debounce(&o, o, 0.05, on_loop);
        weft_rx_observer_t heard = {settled_reading, NULL, NULL, &sensors[i],
                                    NULL};
        weft_rx_tap(&o, o, &heard);
        streams[i] = o;
    }
    weft_rx_observable_t *all;
    weft_rx_merge(&all, streams, SENSORS);
    weft_rx_buffer_with_count(&all, all, SENSORS, 0);

    printf("%d sensors, %d rounds; alert when a window's average passes "
           "%.1f\n",
           SENSORS, ROUNDS, LIMIT);
    struct report rep = {loop, 0, 0};
    weft_rx_observer_t report = {window, failed, done, &rep, NULL};
    weft_rx_subscription_t *sub;
    weft_rx_observable_subscribe(all, &report, &sub);
    weft_loop_run_forever(loop);

    weft_rx_subscription_free(sub);
    weft_rx_observable_free(all);
    weft_executor_shutdown(pool, 1, 0, WEFT_FOREVER);
    weft_rx_scheduler_free(on_pool);
    weft_rx_scheduler_free(on_loop);
    weft_executor_free(pool);
    weft_loop_free(loop);
    return 0;
}
