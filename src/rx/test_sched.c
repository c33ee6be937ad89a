/* SPDX-License-Identifier: MIT */
/* The test scheduler (virtual time), marble strings, and the cold and hot
 * test observables: RxPY's TestScheduler, create_cold_observable,
 * create_hot_observable and start(), so that time operators are tested to
 * the tick, without sleeping.
 *
 * Actions wait on a list sorted by due time and then by the order they
 * were scheduled; advancing pops them one at a time under the lock, sets
 * the clock to the action's time, and runs it with the lock released, so
 * an action may schedule more (they run in the same advance if due).
 */
#include "rx_int.h"

#include <stdio.h>
#include <string.h>

#define FRAME 10.0
#define SUBSCRIBED 200.0
#define DISPOSED 1000.0

struct test_sched {
    weft_rx_scheduler_t base;
    pthread_mutex_t lock;
    double now;
    uint64_t seq;
    rx_action_t *head;
    _Atomic(pthread_t *) advancing; /* the thread in advance_to, if any */
    pthread_t advancer;
};

static const rx_sched_class_t test_class;

static struct test_sched *as_test(weft_rx_scheduler_t *s)
{
    return s && s->cls == &test_class ? (struct test_sched *)s : NULL;
}

static double t_now(const weft_rx_scheduler_t *s)
{
    struct test_sched *t = (struct test_sched *)s;
    pthread_mutex_lock(&t->lock);
    double now = t->now;
    pthread_mutex_unlock(&t->lock);
    return now;
}

static int t_schedule(weft_rx_scheduler_t *s, rx_action_t *a, double delay)
{
    struct test_sched *t = (struct test_sched *)s;
    pthread_mutex_lock(&t->lock);
    a->seq = t->seq++;
    rx_action_t **at = &t->head;
    while (*at && ((*at)->due < a->due ||
                   ((*at)->due == a->due && (*at)->seq < a->seq)))
        at = &(*at)->next;
    a->next = *at;
    *at = a;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

static void t_cancel(weft_rx_scheduler_t *s, rx_action_t *a)
{
    struct test_sched *t = (struct test_sched *)s;
    pthread_mutex_lock(&t->lock);
    int found = 0;
    for (rx_action_t **at = &t->head; *at; at = &(*at)->next)
        if (*at == a) {
            *at = a->next;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&t->lock);
    if (found)
        weft__rx_action_release(a);
}

static void t_destroy(weft_rx_scheduler_t *s)
{
    struct test_sched *t = (struct test_sched *)s;
    rx_action_t *a = t->head;
    while (a) {
        rx_action_t *next = a->next;
        a->sched = NULL; /* it would hold the scheduler: it is going */
        weft__rx_action_release(a);
        a = next;
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* The thread that advances the clock runs the actions: it cannot wait
 * for one. */
static int t_can_wait(const weft_rx_scheduler_t *s)
{
    struct test_sched *t = (struct test_sched *)s;
    pthread_t *adv = atomic_load(&t->advancing);
    return !adv || !pthread_equal(*adv, pthread_self());
}

static const rx_sched_class_t test_class = {
    "test", t_now, t_schedule, t_cancel, NULL, t_destroy, t_can_wait};

int weft_rx_test_scheduler_new(weft_rx_scheduler_t **out)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_test_scheduler_new: NULL out");
    struct test_sched *t = calloc(1, sizeof *t);
    if (!t)
        return weft_fail(WEFT_ENOMEM, "weft_rx_test_scheduler_new: no memory");
    atomic_init(&t->base.refs, 1);
    t->base.cls = &test_class;
    pthread_mutex_init(&t->lock, NULL);
    *out = &t->base;
    return 0;
}

int weft_rx_test_advance_to(weft_rx_scheduler_t *s, double when)
{
    struct test_sched *t = as_test(s);
    if (!t)
        return weft_fail(WEFT_EINVAL, "weft_rx_test_advance_to: not a test "
                                      "scheduler");
    t->advancer = pthread_self();
    atomic_store(&t->advancing, &t->advancer);
    for (;;) {
        pthread_mutex_lock(&t->lock);
        rx_action_t *a = t->head;
        if (!a || a->due > when) {
            if (when > t->now)
                t->now = when;
            pthread_mutex_unlock(&t->lock);
            atomic_store(&t->advancing, NULL);
            return 0;
        }
        t->head = a->next;
        a->next = NULL;
        if (a->due > t->now)
            t->now = a->due;
        pthread_mutex_unlock(&t->lock);
        weft__rx_action_fire(a);
    }
}

int weft_rx_test_advance_by(weft_rx_scheduler_t *s, double dt)
{
    if (!as_test(s))
        return weft_fail(WEFT_EINVAL, "weft_rx_test_advance_by: not a test "
                                      "scheduler");
    return weft_rx_test_advance_to(s, t_now(s) + dt);
}

int weft_rx_test_run(weft_rx_scheduler_t *s)
{
    if (!as_test(s))
        return weft_fail(WEFT_EINVAL, "weft_rx_test_run: not a test scheduler");
    for (;;) {
        struct test_sched *t = (struct test_sched *)s;
        pthread_mutex_lock(&t->lock);
        double last = t->head ? t->head->due : -1;
        pthread_mutex_unlock(&t->lock);
        if (last < 0)
            return 0;
        weft_rx_test_advance_to(s, last);
    }
}

/* ----- Marbles ----- */

struct tev {
    double t;
    int kind;
    intptr_t v;
};

struct marbles {
    struct tev *ev;
    size_t n;
    int caret; /* a '^' was given */
    int timed; /* "T:V" items: times as written */
};

static int bad_marbles(const char *m, size_t at, const char *why)
{
    return weft_fail(WEFT_EINVAL, "marbles \"%s\": %s at position %zu", m, why,
                     at);
}

static int add_ev(struct marbles *mb, long frame, int kind, intptr_t v)
{
    struct tev *ev = realloc(mb->ev, (mb->n + 1) * sizeof *ev);
    if (!ev)
        return weft_fail(WEFT_ENOMEM, "marbles: no memory");
    mb->ev = ev;
    ev[mb->n++] = (struct tev){(double)frame, kind, v};
    return 0;
}

/* One item at p: a number, '|' or '#'. Advances *p. */
static int parse_item(const char *m, const char **p, struct marbles *mb,
                      long frame)
{
    const char *c = *p;
    if (*c == '|' || *c == '#') {
        *p = c + 1;
        return add_ev(mb, frame, *c == '|' ? RX_COMPLETED : RX_ERROR, 0);
    }
    if ((*c >= '0' && *c <= '9') || (*c == '-' && c[1] >= '0' && c[1] <= '9')) {
        char *end;
        long v = strtol(c, &end, 10);
        *p = end;
        return add_ev(mb, frame, RX_NEXT, (intptr_t)v);
    }
    return bad_marbles(m, (size_t)(c - m), "unexpected character");
}

/* The timed form: "150:1 210:2 250:|", times as written. */
static int parse_timed(const char *m, struct marbles *mb)
{
    const char *p = m;
    int rc = 0;
    while (rc == 0 && *p) {
        if (*p == ' ') {
            p++;
            continue;
        }
        char *end;
        double t = strtod(p, &end);
        if (end == p || *end != ':')
            return bad_marbles(m, (size_t)(p - m), "expected TIME:");
        p = end + 1;
        size_t at = mb->n;
        rc = parse_item(m, &p, mb, 0);
        if (rc == 0)
            mb->ev[at].t = t;
    }
    return rc;
}

/* Parse m; times are frames counted from '^' (or the start), in ticks. */
static int parse_marbles(const char *m, struct marbles *mb)
{
    if (!m)
        return weft_fail(WEFT_EINVAL, "marbles: NULL string");
    long frame = 0, caret = -1;
    memset(mb, 0, sizeof *mb);
    const char *p = m;
    int rc = 0;
    if (strchr(m, ':')) {
        mb->timed = 1;
        rc = parse_timed(m, mb);
        if (rc)
            free(mb->ev);
        return rc;
    }
    while (*p && rc == 0) {
        if (*p == ' ') {
            p++;
        } else if (*p == '-') {
            frame++;
            p++;
        } else if (*p == '^') {
            if (caret >= 0)
                rc = bad_marbles(m, (size_t)(p - m), "a second '^'");
            caret = frame;
            p++;
        } else if (*p == '(') {
            p++;
            while (rc == 0 && *p && *p != ')') {
                rc = parse_item(m, &p, mb, frame);
                if (rc == 0 && *p == ',')
                    p++;
            }
            if (rc == 0 && *p != ')')
                rc = bad_marbles(m, (size_t)(p - m), "unclosed '('");
            if (*p == ')')
                p++;
            frame++;
        } else {
            rc = parse_item(m, &p, mb, frame);
            frame++;
        }
    }
    if (rc) {
        free(mb->ev);
        return rc;
    }
    mb->caret = caret >= 0;
    for (size_t i = 0; i < mb->n; i++)
        mb->ev[i].t = (mb->ev[i].t - (double)(caret < 0 ? 0 : caret)) * FRAME;
    return 0;
}

/* ----- Text of recordings ----- */

struct text {
    char *buf;
    size_t size, len;
};

static void put(struct text *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct text *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(x->len < x->size ? x->buf + x->len : NULL,
                      x->len < x->size ? x->size - x->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        x->len += (size_t)n;
}

static void put_time(struct text *x, double t)
{
    put(x, "%s", x->len ? " " : "");
    if (t == (double)(long)t)
        put(x, "%ld:", (long)t);
    else
        put(x, "%.3f:", t);
}

int weft_rx_test_marbles(const char *marbles, double start, char *buf,
                         size_t size)
{
    struct marbles mb;
    if (parse_marbles(marbles, &mb) != 0)
        return -1;
    struct text x = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < mb.n; i++) {
        put_time(&x, mb.timed ? mb.ev[i].t : start + mb.ev[i].t);
        if (mb.ev[i].kind == RX_NEXT)
            put(&x, "%ld", (long)mb.ev[i].v);
        else if (mb.ev[i].kind == RX_COMPLETED)
            put(&x, "|");
        else
            put(&x, "#WEFT_ETASK");
    }
    free(mb.ev);
    return (int)x.len;
}

/* ----- Cold and hot observables ----- */

struct span {
    double from, to; /* to < 0: still open */
};

struct test_obs {
    weft_rx_observable_t o;
    weft_rx_scheduler_t *sched;
    struct marbles mb;
    pthread_mutex_t lock;
    struct span *subs;
    size_t nsubs;
    /* hot only */
    weft_rx_subject_t *subject;
    rx_action_t **pushes;
};

static size_t log_subscribe(struct test_obs *t)
{
    pthread_mutex_lock(&t->lock);
    struct span *s = realloc(t->subs, (t->nsubs + 1) * sizeof *s);
    size_t i = SIZE_MAX;
    if (s) {
        t->subs = s;
        i = t->nsubs++;
        s[i] = (struct span){t_now(t->sched), -1};
    }
    pthread_mutex_unlock(&t->lock);
    return i;
}

static void log_unsubscribe(struct test_obs *t, size_t i)
{
    pthread_mutex_lock(&t->lock);
    if (i < t->nsubs)
        t->subs[i].to = t_now(t->sched);
    pthread_mutex_unlock(&t->lock);
}

/* A cold subscription: its pending emissions, and its log entry. */
struct cold_sink {
    rx_sink_t s;
    struct test_obs *t;
    size_t log;
    rx_action_t **acts;
    size_t n;
};

static void deliver(rx_sink_t *s, const struct tev *ev)
{
    if (ev->kind == RX_NEXT) {
        rx_emit_next(s, (void *)ev->v);
    } else if (ev->kind == RX_COMPLETED) {
        weft__rx_emit_completed(s);
    } else {
        weft_error_info_t e = {WEFT_ETASK, "error"};
        weft__rx_emit_error(s, &e);
    }
}

static void cold_run(rx_action_t *a)
{
    struct cold_sink *c = (struct cold_sink *)a->sink;
    deliver(&c->s, &c->t->mb.ev[a->tag]);
}

static void cold_stop(rx_sink_t *s)
{
    struct cold_sink *c = (struct cold_sink *)s;
    log_unsubscribe(c->t, c->log);
    for (size_t i = 0; i < c->n; i++) {
        weft__rx_action_cancel(c->acts[i]);
        c->acts[i] = NULL;
    }
}

static void cold_destroy(rx_sink_t *s)
{
    struct cold_sink *c = (struct cold_sink *)s;
    free(c->acts);
    weft_rx_observable_free(&c->t->o);
}

static const rx_sink_class_t cold_sink_class = {
    sizeof(struct cold_sink), weft__rx_pass_next, weft__rx_pass_error,
    weft__rx_pass_completed, cold_stop, cold_destroy, NULL};

static rx_sink_t *cold_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct test_obs *t = (struct test_obs *)o;
    struct cold_sink *c = weft__rx_sink_new(&cold_sink_class, down, NULL);
    if (!c)
        return NULL;
    c->t = (struct test_obs *)weft_rx_observable_ref(o);
    c->log = log_subscribe(t);
    c->acts = calloc(t->mb.n ? t->mb.n : 1, sizeof *c->acts);
    if (!c->acts) {
        weft__rx_emit_fail(&c->s, WEFT_ENOMEM);
        return &c->s;
    }
    for (size_t i = 0; i < t->mb.n; i++) {
        rx_action_t *a = weft__rx_action_new(cold_run, &c->s, i);
        if (!a || weft__rx_schedule(t->sched, a, t->mb.ev[i].t) != 0) {
            weft__rx_action_release(a);
            break;
        }
        c->acts[c->n++] = a;
    }
    return &c->s;
}

static void test_obs_destroy(weft_rx_observable_t *o)
{
    struct test_obs *t = (struct test_obs *)o;
    if (t->pushes) {
        for (size_t i = 0; i < t->mb.n; i++)
            weft__rx_action_cancel(t->pushes[i]);
        free(t->pushes);
    }
    weft_rx_subject_free(t->subject);
    free(t->mb.ev);
    free(t->subs);
    pthread_mutex_destroy(&t->lock);
    weft_rx_scheduler_free(t->sched);
}

static const rx_class_t cold_class = {"test_cold", sizeof(struct test_obs),
                                      cold_subscribe, test_obs_destroy};

static int test_obs_new(weft_rx_observable_t **out, weft_rx_scheduler_t *s,
                        const char *marbles, const rx_class_t *cls,
                        struct test_obs **t_out)
{
    if (!out || !as_test(s))
        return weft_fail(WEFT_EINVAL, "weft_rx_test_%s: %s", cls->name + 5,
                         out ? "not a test scheduler" : "NULL out");
    struct marbles mb;
    int rc = parse_marbles(marbles, &mb);
    if (rc)
        return rc;
    struct test_obs *t = weft__rx_observable_new(cls, NULL);
    if (!t) {
        free(mb.ev);
        return WEFT_ENOMEM;
    }
    t->sched = weft_rx_scheduler_ref(s);
    t->mb = mb;
    pthread_mutex_init(&t->lock, NULL);
    *t_out = t;
    *out = &t->o;
    return 0;
}

int weft_rx_test_cold(weft_rx_observable_t **out, weft_rx_scheduler_t *s,
                      const char *marbles)
{
    struct test_obs *t = NULL;
    return test_obs_new(out, s, marbles, &cold_class, &t);
}

/* A hot subscription: the subject's, with a log entry. */
struct hot_sink {
    rx_sink_t s;
    struct test_obs *t;
    size_t log;
};

static void hot_stop(rx_sink_t *s)
{
    struct hot_sink *h = (struct hot_sink *)s;
    log_unsubscribe(h->t, h->log);
}

static void hot_destroy(rx_sink_t *s)
{
    weft_rx_observable_free(&((struct hot_sink *)s)->t->o);
}

static const rx_sink_class_t hot_sink_class = {
    sizeof(struct hot_sink), weft__rx_pass_next, weft__rx_pass_error,
    weft__rx_pass_completed, hot_stop, hot_destroy, NULL};

static rx_sink_t *hot_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct test_obs *t = (struct test_obs *)o;
    struct hot_sink *h = weft__rx_sink_new(&hot_sink_class, down, NULL);
    if (!h)
        return NULL;
    h->t = (struct test_obs *)weft_rx_observable_ref(o);
    h->log = log_subscribe(t);
    weft_rx_observable_t *so = weft_rx_subject_observable(t->subject);
    weft__rx_set_up(&h->s, weft__rx_subscribe(so, &h->s));
    weft_rx_observable_free(so);
    return &h->s;
}

static const rx_class_t hot_class = {"test_hot", sizeof(struct test_obs),
                                     hot_subscribe, test_obs_destroy};

static void hot_run(rx_action_t *a)
{
    struct test_obs *t = (struct test_obs *)(uintptr_t)a->impl;
    const struct tev *ev = &t->mb.ev[a->tag];
    if (ev->kind == RX_NEXT)
        weft_rx_subject_on_next(t->subject, (void *)ev->v);
    else if (ev->kind == RX_COMPLETED)
        weft_rx_subject_on_completed(t->subject);
    else
        weft_rx_subject_on_error(t->subject, WEFT_ETASK, "error");
}

int weft_rx_test_hot(weft_rx_observable_t **out, weft_rx_scheduler_t *s,
                     const char *marbles)
{
    struct test_obs *t = NULL;
    int rc = test_obs_new(out, s, marbles, &hot_class, &t);
    if (rc)
        return rc;
    t->pushes = calloc(t->mb.n ? t->mb.n : 1, sizeof *t->pushes);
    if (!t->pushes || weft_rx_subject_new(&t->subject) != 0) {
        weft_rx_observable_free(&t->o);
        return weft_fail(WEFT_ENOMEM, "weft_rx_test_hot: no memory");
    }
    double now = t_now(s);
    for (size_t i = 0; i < t->mb.n; i++) {
        double at = t->mb.ev[i].t + (t->mb.caret ? SUBSCRIBED : 0);
        if (at < now)
            continue; /* already past: a hot source has no memory */
        rx_action_t *a = weft__rx_action_new(hot_run, NULL, i);
        if (!a)
            break;
        a->impl = t;
        t->pushes[i] = a;
        weft__rx_schedule(s, a, at - now);
    }
    return 0;
}

int weft_rx_test_subscriptions(const weft_rx_observable_t *o, char *buf,
                               size_t size)
{
    if (!o || (o->cls != &cold_class && o->cls != &hot_class)) {
        weft_fail(WEFT_EINVAL, "weft_rx_test_subscriptions: not a test "
                               "observable");
        return -1;
    }
    struct test_obs *t = (struct test_obs *)o;
    struct text x = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nsubs; i++) {
        put(&x, "%s%ld-", i ? " " : "", (long)t->subs[i].from);
        if (t->subs[i].to >= 0)
            put(&x, "%ld", (long)t->subs[i].to);
    }
    pthread_mutex_unlock(&t->lock);
    return (int)x.len;
}

/* ----- start(): subscribe at 200, dispose at 1000 ----- */

struct recording {
    weft_rx_scheduler_t *sched;
    weft_rx_observable_t *o;
    weft_rx_subscription_t *sub;
    struct text x;
};

static void rec_next(void *ctx, void *v)
{
    struct recording *r = ctx;
    char item[256];
    weft__rx_format(r->o->values, v, item, sizeof item);
    put_time(&r->x, t_now(r->sched));
    put(&r->x, "%s", item);
}

static void rec_error(void *ctx, const weft_error_info_t *e)
{
    struct recording *r = ctx;
    put_time(&r->x, t_now(r->sched));
    const char *name = weft_errname(e->code);
    if (e->code == WEFT_EUSER)
        put(&r->x, "#WEFT_EUSER");
    else if (e->code > WEFT_EUSER)
        put(&r->x, "#WEFT_EUSER+%d", e->code - WEFT_EUSER);
    else if (name)
        put(&r->x, "#%s", name);
    else
        put(&r->x, "#%d", e->code);
}

static void rec_completed(void *ctx)
{
    struct recording *r = ctx;
    put_time(&r->x, t_now(r->sched));
    put(&r->x, "|");
}

static void start_run(rx_action_t *a)
{
    struct recording *r = (struct recording *)a->tag;
    weft_rx_observer_t obs = {rec_next, rec_error, rec_completed, r, NULL};
    weft_rx_observable_subscribe(r->o, &obs, &r->sub);
}

static void dispose_run(rx_action_t *a)
{
    struct recording *r = (struct recording *)a->tag;
    weft_rx_subscription_dispose(r->sub);
}

int weft_rx_test_start(weft_rx_scheduler_t *s, weft_rx_observable_t *o,
                       char *buf, size_t size)
{
    if (!as_test(s) || !o) {
        weft_fail(WEFT_EINVAL, "weft_rx_test_start: %s",
                  o ? "not a test scheduler" : "NULL observable");
        return -1;
    }
    struct recording r = {s, o, NULL, {buf, size, 0}};
    if (size)
        buf[0] = '\0';
    double now = t_now(s);
    rx_action_t *a = weft__rx_action_new(start_run, NULL, (uintptr_t)&r);
    rx_action_t *d = weft__rx_action_new(dispose_run, NULL, (uintptr_t)&r);
    if (!a || !d || weft__rx_schedule(s, a, SUBSCRIBED - now) != 0 ||
        weft__rx_schedule(s, d, DISPOSED - now) != 0) {
        weft__rx_action_release(a);
        weft__rx_action_release(d);
        weft_fail(WEFT_ENOMEM, "weft_rx_test_start: no memory");
        return -1;
    }
    weft__rx_action_release(a);
    weft__rx_action_release(d);
    weft_rx_test_run(s);
    weft_rx_subscription_free(r.sub);
    return (int)r.x.len;
}
