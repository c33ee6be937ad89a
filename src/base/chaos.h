/* SPDX-License-Identifier: MIT */
/* Schedule perturbation: the chaos build (make test SAN=chaos).
 *
 * Every place where a lock-free or wait/wake algorithm publishes or reads
 * shared state carries WEFT_CHAOS_POINT(). In an ordinary build the point is
 * nothing. In the chaos build (WEFT_CHAOS=1) it may yield the processor or
 * sleep for a short random time, so that the schedules a quiet machine
 * never produces (a thread preempted between an exchange and a link, a
 * waker that stalls between a store and an unpark) come up in every run.
 *
 * Each thread draws from its own generator, seeded from WEFT_CHAOS_SEED
 * (an unsigned integer in the environment; 1 when unset) and the order in
 * which threads first reach a point, so a failing run is repeated with the
 * same seed. The OS still chooses the interleaving, so a seed makes a
 * failure likely again rather than certain.
 *
 * WEFT_CHAOS_RATE (default 8) sets how often a point acts: about one point
 * in RATE yields, one in 8 * RATE sleeps up to 50 us, one in 256 * RATE
 * sleeps up to 1 ms. 0 turns the points off at run time. The
 * ThreadSanitizer build carries the points too, off (rate 0) unless
 * WEFT_CHAOS_RATE is set: `make torture SAN=thread` sets it.
 *
 * Inside the library only; any layer may include it. */
#ifndef WEFT_BASE_CHAOS_H
#define WEFT_BASE_CHAOS_H

#if defined(WEFT_CHAOS) && WEFT_CHAOS
/* Exported from libweft.so in the chaos build alone (the layers' other
 * internals stay hidden), so that libweft_mpi, a library of its own over
 * libweft, shares these points and their seeding. */
__attribute__((visibility("default"))) void weft__chaos_point(void);
#define WEFT_CHAOS_POINT() weft__chaos_point()
#else
#define WEFT_CHAOS_POINT() ((void)0)
#endif

#endif
