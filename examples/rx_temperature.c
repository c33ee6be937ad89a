/* SPDX-License-Identifier: MIT */
/* Reactive programming: the seeds' data-centre thermometer. A stream of
 * temperature readings (rx.from_iterable(range(10))) is observed by an
 * observer with on_next, on_error and on_completed, which warns above 6
 * degrees and shuts the data centre down at 9. */
#include <stdio.h>

#include "weft.h"

/* class temperatureObserver(Observer): */
static void on_next(void *ctx, void *value) /* def on_next(self, x): */
{
    long x = (long)(intptr_t)value;
    printf("Temperature is: %ld degrees centigrade\n", x);
    if (x > 6)
        printf("Warning: Temperate Is Exceeding Recommended Limit\n");
    if (x == 9)
        printf("DataCenter is shutting down. Temperature is too high\n");
}

static void on_error(void *ctx, const weft_error_info_t *e) /* on_error */
{
    printf("Error: %s\n", e->message);
}

static void on_completed(void *ctx) /* def on_completed(self): */
{
    printf("All Temps Read\n");
}

int main(void)
{
    weft_rx_observable_t *xs; /* xs = Observable.from_iterable(range(10)) */
    weft_rx_range(&xs, 0, 10);
    weft_rx_observer_t observer = {on_next, on_error, on_completed, NULL,
                                   NULL};
    weft_rx_subscription_t *d; /* d = xs.subscribe(temperatureObserver()) */
    weft_rx_observable_subscribe(xs, &observer, &d);
    weft_rx_subscription_free(d);
    weft_rx_observable_free(xs);
    return 0;
}
