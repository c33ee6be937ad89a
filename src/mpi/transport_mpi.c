/* SPDX-License-Identifier: MIT */
/* The MPI transport: messages of any size between the ranks of a
 * duplicate of the caller's communicator, with nonblocking calls only, all
 * made by one thread at a time (the progress thread).
 *
 * A message up to the piece size (1 GiB; WEFT_MPI_PIECE_BYTES lowers it
 * for tests) goes as one MPI message tagged WHOLE. A larger one, whose
 * count would overflow MPI's int, goes as a HEAD message holding its size,
 * then PIECE messages of at most the piece size. The receiver finds WHOLE
 * and HEAD messages with MPI_Improbe (any source, any tag); on a HEAD it
 * posts one receive per piece at once, and since posted receives match in
 * the order they were posted, and MPI keeps the order of messages between
 * two ranks, each piece lands where it belongs. Pieces therefore never
 * reach the probe. Messages are delivered in the order their first part
 * came, a source's later message waiting for its earlier, larger one.
 *
 * Errors come back as codes (MPI_ERRORS_RETURN on the duplicate), turned
 * into WEFT_ESYS with MPI's text. */
#include <mpi.h>

#include "mpi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_WHOLE = 1, TAG_HEAD, TAG_PIECE };

#define PIECE_DEFAULT ((size_t)1 << 30)

struct sendrec {
    struct sendrec *next;
    int peer;
    uint64_t total;
    weft_bytes_t data;
    int nreq;
    MPI_Request reqs[];
};

struct recvrec {
    struct recvrec *next;
    int peer;
    int nreq; /* receives not known complete; 0: whole */
    weft_bytes_t data;
    MPI_Request *reqs;
};

struct mpit {
    weft__mpi_transport_t base;
    MPI_Comm comm;
    size_t piece;
    struct sendrec *sends;
    size_t pending;
    struct recvrec *rhead, *rtail;
};

size_t weft__mpi_piece_max(void)
{
    const char *s = getenv("WEFT_MPI_PIECE_BYTES");
    long long v = s ? atoll(s) : 0;
    if (v >= 16 && (size_t)v < PIECE_DEFAULT)
        return (size_t)v;
    return PIECE_DEFAULT;
}

static int mpi_fail(int err, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", err);
    return weft_fail(WEFT_ESYS, "%s: %s", call, text);
}

/* ----- Sending ----- */

static size_t pieces(const struct mpit *m, size_t len)
{
    return (len + m->piece - 1) / m->piece;
}

static int start_send(struct mpit *m, struct sendrec *s)
{
    int err;
    size_t len = s->data.len;
    if (s->nreq == 1)
        return (err = MPI_Isend(s->data.data, (int)len, MPI_BYTE, s->peer,
                                TAG_WHOLE, m->comm, &s->reqs[0]))
                   ? mpi_fail(err, "MPI_Isend")
                   : 0;
    err = MPI_Isend(&s->total, (int)sizeof s->total, MPI_BYTE, s->peer,
                    TAG_HEAD, m->comm, &s->reqs[0]);
    for (int i = 1; err == MPI_SUCCESS && i < s->nreq; i++) {
        size_t off = (size_t)(i - 1) * m->piece;
        size_t n = len - off < m->piece ? len - off : m->piece;
        err = MPI_Isend(s->data.data + off, (int)n, MPI_BYTE, s->peer,
                        TAG_PIECE, m->comm, &s->reqs[i]);
    }
    return err ? mpi_fail(err, "MPI_Isend") : 0;
}

static int mpit_send(weft__mpi_transport_t *t, int peer, weft_bytes_t *msg)
{
    struct mpit *m = (struct mpit *)t;
    size_t n = msg->len <= m->piece ? 1 : 1 + pieces(m, msg->len);
    struct sendrec *s = calloc(1, sizeof *s + n * sizeof(MPI_Request));
    if (s == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI send: no memory");
    s->peer = peer;
    s->total = msg->len;
    s->data = *msg;
    s->nreq = (int)n;
    for (size_t i = 0; i < n; i++)
        s->reqs[i] = MPI_REQUEST_NULL;
    int rc = start_send(m, s);
    if (rc) {
        /* Whatever started may still read the bytes: they are left. */
        free(s);
        return rc;
    }
    *msg = (weft_bytes_t){NULL, 0};
    s->next = m->sends;
    m->sends = s;
    m->pending++;
    return 0;
}

static int progress_sends(struct mpit *m)
{
    for (struct sendrec **it = &m->sends; *it;) {
        struct sendrec *s = *it;
        int flag = 0;
        int err = MPI_Testall(s->nreq, s->reqs, &flag, MPI_STATUSES_IGNORE);
        if (err)
            return mpi_fail(err, "MPI_Testall");
        if (!flag) {
            it = &s->next;
            continue;
        }
        *it = s->next;
        m->pending--;
        weft_bytes_free(&s->data);
        free(s);
    }
    return 0;
}

static size_t mpit_pending(weft__mpi_transport_t *t)
{
    return ((struct mpit *)t)->pending;
}

/* Sends to a dead rank may never complete: their requests are freed
 * (MPI finishes or drops them on its own) and their bytes are left. */
static void mpit_abandon(weft__mpi_transport_t *t, int peer)
{
    struct mpit *m = (struct mpit *)t;
    for (struct sendrec **it = &m->sends; *it;) {
        struct sendrec *s = *it;
        if (s->peer != peer) {
            it = &s->next;
            continue;
        }
        *it = s->next;
        m->pending--;
        for (int i = 0; i < s->nreq; i++)
            if (s->reqs[i] != MPI_REQUEST_NULL)
                MPI_Request_free(&s->reqs[i]);
        free(s);
    }
}

/* ----- Receiving ----- */

static void append(struct mpit *m, struct recvrec *r)
{
    if (m->rtail)
        m->rtail->next = r;
    else
        m->rhead = r;
    m->rtail = r;
}

static int recv_whole(struct mpit *m, MPI_Message *msg, int peer, int count)
{
    struct recvrec *r = calloc(1, sizeof *r);
    unsigned char *buf = malloc(count ? (size_t)count : 1);
    if (r == NULL || buf == NULL) {
        free(r);
        free(buf);
        return weft_fail(WEFT_ENOMEM, "MPI receive: no memory");
    }
    int err = MPI_Mrecv(buf, count, MPI_BYTE, msg, MPI_STATUS_IGNORE);
    if (err) {
        free(r);
        free(buf);
        return mpi_fail(err, "MPI_Mrecv");
    }
    r->peer = peer;
    if (count)
        r->data = (weft_bytes_t){buf, (size_t)count};
    else
        free(buf);
    append(m, r);
    return 0;
}

static int post_pieces(struct mpit *m, struct recvrec *r)
{
    size_t len = r->data.len;
    for (int i = 0; i < r->nreq; i++) {
        size_t off = (size_t)i * m->piece;
        size_t n = len - off < m->piece ? len - off : m->piece;
        int err = MPI_Irecv(r->data.data + off, (int)n, MPI_BYTE, r->peer,
                            TAG_PIECE, m->comm, &r->reqs[i]);
        if (err)
            return mpi_fail(err, "MPI_Irecv");
    }
    return 0;
}

static int recv_head(struct mpit *m, MPI_Message *msg, int peer)
{
    uint64_t total = 0;
    int err = MPI_Mrecv(&total, (int)sizeof total, MPI_BYTE, msg,
                        MPI_STATUS_IGNORE);
    if (err)
        return mpi_fail(err, "MPI_Mrecv");
    struct recvrec *r = calloc(1, sizeof *r);
    size_t n = pieces(m, (size_t)total);
    unsigned char *buf = malloc((size_t)total ? (size_t)total : 1);
    MPI_Request *reqs = calloc(n ? n : 1, sizeof *reqs);
    if (r == NULL || buf == NULL || reqs == NULL) {
        free(r);
        free(buf);
        free(reqs);
        return weft_fail(WEFT_ENOMEM, "MPI receive: no memory for a "
                                      "message of %llu bytes",
                         (unsigned long long)total);
    }
    *r = (struct recvrec){NULL, peer, (int)n, {buf, (size_t)total}, reqs};
    append(m, r);
    return post_pieces(m, r);
}

/* Take what the probe finds, a few messages at most. */
static int probe(struct mpit *m)
{
    for (int n = 0; n < 16; n++) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        int err = MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag,
                              &msg, &st);
        if (err)
            return mpi_fail(err, "MPI_Improbe");
        if (!flag)
            return 0;
        int count = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        int rc = st.MPI_TAG == TAG_WHOLE  ? recv_whole(m, &msg, st.MPI_SOURCE,
                                                       count)
                 : st.MPI_TAG == TAG_HEAD ? recv_head(m, &msg, st.MPI_SOURCE)
                                          : weft_fail(WEFT_EPROTO,
                                                      "MPI: a piece of a "
                                                      "message came alone");
        if (rc)
            return rc;
    }
    return 0;
}

static int test_pieces(struct mpit *m)
{
    for (struct recvrec *r = m->rhead; r; r = r->next) {
        if (r->nreq == 0)
            continue;
        int flag = 0;
        int err = MPI_Testall(r->nreq, r->reqs, &flag, MPI_STATUSES_IGNORE);
        if (err)
            return mpi_fail(err, "MPI_Testall");
        if (flag) {
            r->nreq = 0;
            free(r->reqs);
            r->reqs = NULL;
        }
    }
    return 0;
}

/* The first whole message whose source has no earlier one still coming. */
static struct recvrec *deliverable(struct mpit *m, struct recvrec **prev)
{
    *prev = NULL;
    for (struct recvrec *r = m->rhead, *p = NULL; r; p = r, r = r->next) {
        if (r->nreq)
            continue;
        int blocked = 0;
        for (struct recvrec *e = m->rhead; e != r && !blocked; e = e->next)
            blocked = e->peer == r->peer && e->nreq;
        if (!blocked) {
            *prev = p;
            return r;
        }
    }
    return NULL;
}

static int mpit_poll(weft__mpi_transport_t *t, int *peer, weft_bytes_t *out,
                     int *got)
{
    struct mpit *m = (struct mpit *)t;
    *got = 0;
    int rc = progress_sends(m);
    if (rc == 0)
        rc = probe(m);
    if (rc == 0)
        rc = test_pieces(m);
    if (rc)
        return rc;
    struct recvrec *prev, *r = deliverable(m, &prev);
    if (r == NULL)
        return 0;
    if (prev)
        prev->next = r->next;
    else
        m->rhead = r->next;
    if (m->rtail == r)
        m->rtail = prev;
    *peer = r->peer;
    *out = r->data;
    *got = 1;
    free(r);
    return 0;
}

static void mpit_destroy(weft__mpi_transport_t *t)
{
    struct mpit *m = (struct mpit *)t;
    while (m->sends) {
        struct sendrec *s = m->sends;
        mpit_abandon(t, s->peer);
    }
    while (m->rhead) {
        struct recvrec *r = m->rhead;
        m->rhead = r->next;
        for (int i = 0; i < r->nreq; i++)
            if (r->reqs[i] != MPI_REQUEST_NULL) {
                MPI_Cancel(&r->reqs[i]);
                MPI_Request_free(&r->reqs[i]);
            }
        free(r->reqs);
        weft_bytes_free(&r->data);
        free(r);
    }
    MPI_Comm_free(&m->comm);
    free(m);
}

static const struct weft__mpi_transport_ops mpit_ops = {
    mpit_send, mpit_poll, mpit_pending, mpit_abandon, mpit_destroy};

int weft__mpi_transport_mpi_new(weft__mpi_transport_t **out,
                                const void *comm)
{
    struct mpit *m = calloc(1, sizeof *m);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI transport: no memory");
    int err = MPI_Comm_dup(*(const MPI_Comm *)comm, &m->comm);
    if (err) {
        free(m);
        return mpi_fail(err, "MPI_Comm_dup");
    }
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    int rank = 0, size = 0;
    MPI_Comm_rank(m->comm, &rank);
    MPI_Comm_size(m->comm, &size);
    m->base = (weft__mpi_transport_t){&mpit_ops, rank, size};
    m->piece = weft__mpi_piece_max();
    *out = &m->base;
    return 0;
}
