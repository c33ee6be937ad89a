/* SPDX-License-Identifier: MIT */
/* The executor with in-process workers: rank 0 is the root (the caller),
 * ranks 1..n are threads that serve as worker ranks do, all over the
 * local transport. For tests: the core runs as it does over MPI, with no
 * MPI call, so the sanitizers see weft's code alone. */
#include "mpi_int.h"

#include <stdlib.h>

struct local_mode {
    weft__mpi_hub_t *hub;
    unsigned n;
    weft_thread_t **threads;
    weft__mpi_transport_t **tps;
};

static int worker_main(void *arg, void **result)
{
    weft__mpi_transport_t *t = arg;
    int rc = weft__mpi_serve(t, 0);
    *result = (void *)(intptr_t)rc;
    return 0;
}

/* Join the worker threads, then free their transports and the hub. */
static void local_free(void *arg)
{
    struct local_mode *m = arg;
    for (unsigned i = 0; i < m->n; i++)
        if (m->threads[i]) {
            weft_thread_join(m->threads[i], WEFT_FOREVER);
            weft_thread_free(m->threads[i]);
        }
    for (unsigned i = 0; i < m->n; i++)
        if (m->tps[i])
            m->tps[i]->ops->destroy(m->tps[i]);
    weft__mpi_hub_free(m->hub);
    free(m->threads);
    free(m->tps);
    free(m);
}

static int start_workers(struct local_mode *m)
{
    for (unsigned i = 0; i < m->n; i++) {
        int rc = weft__mpi_transport_local_new(&m->tps[i], m->hub, (int)i + 1);
        if (rc == 0)
            rc = weft_thread_new(&m->threads[i], worker_main, m->tps[i],
                                 &(weft_thread_opts_t){.name = "MPIWorker",
                                                       .daemon = 1});
        if (rc == 0 && (rc = weft_thread_start(m->threads[i])) != 0) {
            weft_thread_free(m->threads[i]);
            m->threads[i] = NULL;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int weft__mpi_local_executor_new(weft_executor_t **out, unsigned nworkers,
                                 const weft_mpi_opts_t *opts,
                                 weft__mpi_hub_t **hub)
{
    if (nworkers == 0)
        return weft_fail(WEFT_EINVAL, "an MPI executor needs a worker");
    struct local_mode *m = calloc(1, sizeof *m);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory");
    m->n = nworkers;
    m->threads = calloc(nworkers, sizeof *m->threads);
    m->tps = calloc(nworkers, sizeof *m->tps);
    int rc = m->threads && m->tps ? weft__mpi_hub_new(&m->hub, (int)nworkers + 1)
                                  : weft_fail(WEFT_ENOMEM, "no memory");
    weft__mpi_transport_t *t = NULL;
    if (rc == 0)
        rc = weft__mpi_transport_local_new(&t, m->hub, 0);
    if (rc == 0)
        rc = start_workers(m);
    if (rc == 0) {
        if (hub)
            *hub = m->hub;
        return weft__mpi_root_new(out, t, opts, local_free, m);
    }
    /* The workers started wait for the root's START: cut them off. */
    for (unsigned i = 1; m->hub && i <= nworkers; i++)
        weft__mpi_hub_kill(m->hub, (int)i);
    if (t)
        t->ops->destroy(t);
    local_free(m);
    return rc;
}
