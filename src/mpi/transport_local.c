/* SPDX-License-Identifier: MIT */
/* The in-process transport: "ranks" that are threads of one process, each
 * with a mailbox in a shared hub. A send hands the message's bytes to the
 * receiver's mailbox (complete at once); a poll takes the oldest. It lets
 * the executor's core run, and be tested under the sanitizers, without
 * MPI; weft__mpi_hub_kill() stands in for a rank that dies. One lock
 * guards the whole hub. */
#include "mpi_int.h"

#include <stdlib.h>

struct letter {
    struct letter *next;
    int from;
    weft_bytes_t msg;
};

struct box {
    struct letter *head, *tail;
    int dead;
};

struct weft__mpi_hub {
    weft_lock_t lock;
    int size;
    struct box boxes[];
};

struct local {
    weft__mpi_transport_t base;
    weft__mpi_hub_t *hub;
};

int weft__mpi_hub_new(weft__mpi_hub_t **out, int size)
{
    weft__mpi_hub_t *h = calloc(1, sizeof *h + (size_t)size * sizeof(struct box));
    if (h == NULL)
        return weft_fail(WEFT_ENOMEM, "local hub: no memory");
    weft_lock_init(&h->lock);
    h->size = size;
    *out = h;
    return 0;
}

static void drop_letters(struct box *b)
{
    while (b->head) {
        struct letter *l = b->head;
        b->head = l->next;
        weft_bytes_free(&l->msg);
        free(l);
    }
    b->tail = NULL;
}

void weft__mpi_hub_free(weft__mpi_hub_t *hub)
{
    if (hub == NULL)
        return;
    for (int i = 0; i < hub->size; i++)
        drop_letters(&hub->boxes[i]);
    free(hub);
}

void weft__mpi_hub_kill(weft__mpi_hub_t *hub, int rank)
{
    weft_lock_acquire_shielded(&hub->lock);
    hub->boxes[rank].dead = 1;
    drop_letters(&hub->boxes[rank]);
    weft_lock_release(&hub->lock);
}

static int local_send(weft__mpi_transport_t *t, int peer, weft_bytes_t *msg)
{
    weft__mpi_hub_t *hub = ((struct local *)t)->hub;
    struct letter *l = malloc(sizeof *l);
    if (l == NULL)
        return weft_fail(WEFT_ENOMEM, "local send: no memory");
    *l = (struct letter){NULL, t->rank, *msg};
    *msg = (weft_bytes_t){NULL, 0};
    WEFT_CHAOS_POINT();
    weft_lock_acquire_shielded(&hub->lock);
    struct box *b = &hub->boxes[peer];
    int lost = b->dead || hub->boxes[t->rank].dead;
    if (!lost) {
        if (b->tail)
            b->tail->next = l;
        else
            b->head = l;
        b->tail = l;
    }
    weft_lock_release(&hub->lock);
    if (lost) {
        weft_bytes_free(&l->msg);
        free(l);
    }
    return 0;
}

static int local_poll(weft__mpi_transport_t *t, int *peer, weft_bytes_t *msg,
                      int *got)
{
    weft__mpi_hub_t *hub = ((struct local *)t)->hub;
    WEFT_CHAOS_POINT();
    weft_lock_acquire_shielded(&hub->lock);
    struct box *b = &hub->boxes[t->rank];
    int dead = b->dead;
    struct letter *l = dead ? NULL : b->head;
    if (l) {
        b->head = l->next;
        if (b->head == NULL)
            b->tail = NULL;
    }
    weft_lock_release(&hub->lock);
    *got = 0;
    if (dead)
        return weft_fail(WEFT_ECLOSED, "rank %d is cut off", t->rank);
    if (l) {
        *peer = l->from;
        *msg = l->msg;
        *got = 1;
        free(l);
    }
    return 0;
}

static size_t local_pending(weft__mpi_transport_t *t)
{
    return 0;
}

static void local_abandon(weft__mpi_transport_t *t, int peer)
{
}

static void local_destroy(weft__mpi_transport_t *t)
{
    free(t);
}

static const struct weft__mpi_transport_ops local_ops = {
    local_send, local_poll, local_pending, local_abandon, local_destroy};

int weft__mpi_transport_local_new(weft__mpi_transport_t **out,
                                  weft__mpi_hub_t *hub, int rank)
{
    struct local *l = calloc(1, sizeof *l);
    if (l == NULL)
        return weft_fail(WEFT_ENOMEM, "local transport: no memory");
    l->base = (weft__mpi_transport_t){&local_ops, rank, hub->size};
    l->hub = hub;
    *out = &l->base;
    return 0;
}
