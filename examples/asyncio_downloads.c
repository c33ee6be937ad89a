/* SPDX-License-Identifier: MIT */
/* The seeds' concurrent downloads: ten "images" from a web server that
 * answers each request after a delay (a local HTTP server here, on a
 * thread of its own, answering after 0.2 s), fetched one after another,
 * then by ten threads, then by ten tasks on one loop. The same client call
 * serves all three (it blocks a thread, or suspends a task), and the two
 * concurrent forms take about one delay instead of ten: the server counts
 * how many requests it held at once, one for the first form, many for the
 * other two.
 *
 *     for i in range(10):
 *         urllib.request.urlretrieve(url, f"temp/image-{i}.jpg")
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define DELAY 0.2
#define IMAGES 10

/* ----- The web server ----- */

/* Requests in their delay now, and the most at once since the last reset. */
static _Atomic int held, most_held;

static void note_held(void)
{
    int now = atomic_fetch_add(&held, 1) + 1;
    int most = atomic_load(&most_held);
    while (now > most &&
           !atomic_compare_exchange_weak(&most_held, &most, now))
        ;
}

static int answer_slowly(const weft_http_message_t *req, weft_stream_t *s,
                         void *arg)
{
    note_held();
    weft_sleep(DELAY); /* a slow server: this connection's task waits */
    /* Let go before answering: the client's next request comes after. */
    atomic_fetch_sub(&held, 1);
    char image[2048];
    memset(image, 0xA5, sizeof image);
    /* Every other image comes in chunks, as servers that stream do. */
    size_t chunk = strstr(req->target, "image-1") ? 500 : 0;
    return weft_http_write_response(s, 200, "Content-Type: image/jpeg\r\n",
                                    image, sizeof image, chunk);
}

struct site {
    weft_loop_t *loop;
    weft_server_t *server;
    int port;
    weft_event_t ready;
};

static int serve(void *arg, void **result)
{
    struct site *site = arg;
    weft_loop_new(&site->loop);
    int rc = weft_http_serve(&site->server, site->loop, "127.0.0.1", 0,
                             answer_slowly, NULL);
    site->port = rc ? -1 : weft_server_port(site->server);
    weft_event_set(&site->ready);
    if (rc == 0)
        weft_loop_run_forever(site->loop);
    weft_loop_free(site->loop);
    return rc;
}

static int close_site(void *arg)
{
    struct site *site = arg;
    weft_server_free(site->server);
    weft_loop_stop(site->loop);
    return 0;
}

/* ----- The client ----- */

static int port;

static int download_image(void *arg, void **result)
{
    long i = (long)(intptr_t)arg;
    char target[32];
    snprintf(target, sizeof target, "/image-%ld.jpg", i);
    weft_http_message_t response;
    int rc = weft_http_request("GET", "127.0.0.1", port, target, NULL, 0, 5.0,
                               &response);
    if (rc)
        return rc;
    rc = response.status == 200 && response.body_len == 2048
             ? 0
             : weft_fail(WEFT_EPROTO, "bad answer for %s", target);
    weft_http_message_clear(&response);
    return rc;
}

static void report(const char *how, double t0, int failures)
{
    printf("%s: %d downloads in %.2f s, at most %d at the server at once%s\n",
           how, IMAGES, weft_monotonic() - t0,
           atomic_exchange(&most_held, 0), failures ? " (with failures)" : "");
}

static int sequential(void)
{
    double t0 = weft_monotonic();
    int failures = 0;
    for (long i = 0; i < IMAGES; i++)
        failures += download_image((void *)(intptr_t)i, NULL) != 0;
    report("sequential", t0, failures);
    return failures;
}

static int with_threads(void)
{
    double t0 = weft_monotonic();
    weft_thread_t *threads[IMAGES];
    for (long i = 0; i < IMAGES; i++) {
        weft_thread_new(&threads[i], download_image, (void *)(intptr_t)i, NULL);
        weft_thread_start(threads[i]);
    }
    int failures = 0;
    for (int i = 0; i < IMAGES; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER);
        void *unused;
        failures += weft_thread_result(threads[i], &unused) != 0;
        weft_thread_free(threads[i]);
    }
    report("threads", t0, failures);
    return failures;
}

static int all_tasks(void *arg, void **result)
{
    weft_future_t *tasks[IMAGES];
    for (long i = 0; i < IMAGES; i++)
        weft_task_create(&tasks[i], NULL, download_image, (void *)(intptr_t)i);
    weft_error_info_t errors[IMAGES];
    weft_gather(tasks, IMAGES, 1, NULL, errors);
    int failures = 0;
    for (int i = 0; i < IMAGES; i++) {
        failures += errors[i].code != 0;
        weft_future_free(tasks[i]);
    }
    *(int *)arg = failures;
    return 0;
}

static int with_tasks(void)
{
    double t0 = weft_monotonic();
    int failures = 0;
    weft_run(all_tasks, &failures, NULL);
    report("coroutines", t0, failures);
    return failures;
}

int main(void)
{
#ifndef WEFT_HAVE_HTTP_PARSER
    printf("downloads: weft was built without http-parser: skipped\n");
    return 0;
#endif
    struct site site = {0};
    weft_event_init(&site.ready);
    weft_thread_t *server;
    weft_thread_new(&server, serve, &site, NULL);
    weft_thread_start(server);
    weft_event_wait(&site.ready, WEFT_FOREVER);
    if (site.port < 0) {
        fprintf(stderr, "downloads: no server: %s\n", weft_last_message());
        return 1;
    }
    port = site.port;
    printf("a server answering each request after %.1f s\n", DELAY);
    int failures = sequential() + with_threads() + with_tasks();
    weft_loop_call_soon_threadsafe(site.loop, close_site, &site);
    weft_thread_join(server, WEFT_FOREVER);
    weft_thread_free(server);
    return failures ? 1 : 0;
}
