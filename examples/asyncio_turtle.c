/* SPDX-License-Identifier: MIT */
/* Event-driven programming: the seeds' turtle, without a screen. Key
 * presses are events emitted from a keyboard thread; the loop picks them
 * up and runs the handler registered for each, as turtle's
 * window.onkey(moveForward, "Up") does. A key with no handler is reported
 * and ignored. */
#include <math.h>
#include <stdio.h>

#include "weft.h"

static weft_loop_t *turtle_loop;

struct turtle {
    double x, y, heading; /* degrees, 0 = east */
    weft_loop_t *loop;
};

static void show(const char *key, const char *handler, struct turtle *t)
{
    printf("%-6s -> %-11s turtle at (%.1f, %.1f) heading %.0f\n", key, handler,
           t->x, t->y, t->heading);
}

static int moveForward(void *arg, const char *event, void *data)
{
    struct turtle *t = arg;
    t->x += 50 * cos(t->heading * M_PI / 180);
    t->y += 50 * sin(t->heading * M_PI / 180);
    show(event, "moveForward", t);
    return 0;
}

static int moveLeft(void *arg, const char *event, void *data)
{
    struct turtle *t = arg;
    t->heading = fmod(t->heading + 30, 360);
    show(event, "moveLeft", t);
    return 0;
}

static int moveRight(void *arg, const char *event, void *data)
{
    struct turtle *t = arg;
    t->heading = fmod(t->heading + 330, 360);
    show(event, "moveRight", t);
    return 0;
}

static int quit(void *arg, const char *event, void *data)
{
    struct turtle *t = arg;
    printf("%-6s -> bye\n", event);
    weft_loop_stop(t->loop);
    return 0;
}

struct unhandled {
    const char *key;
    char why[128];
};

/* On the loop, in order with the handlers of the keys pressed before. */
static int say_unhandled(void *arg)
{
    struct unhandled *u = arg;
    printf("%-6s -> (ignored: %s)\n", u->key, u->why);
    return 0;
}

/* The keyboard: presses keys from its own thread, a little apart. */
static int keyboard(void *arg, void **result)
{
    weft_emitter_t *window = arg;
    static struct unhandled unhandled[4];
    int n = 0;
    const char *keys[] = {"Up", "Left", "Up",   "Up", "Right", "Right",
                          "Up", "Down", "Left", "Up", "Escape"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        weft_sleep(0.005);
        if (weft_emitter_emit(window, keys[i], NULL) == WEFT_EKEY && n < 4) {
            struct unhandled *u = &unhandled[n++];
            u->key = keys[i];
            snprintf(u->why, sizeof u->why, "%s", weft_last_message());
            weft_loop_call_soon_threadsafe(turtle_loop, say_unhandled, u);
        }
    }
    return 0;
}

int main(void)
{
    struct turtle nathan = {0, 0, 0, NULL};
    weft_loop_new(&nathan.loop);
    turtle_loop = nathan.loop;
    weft_emitter_t *window;
    weft_emitter_new(&window, nathan.loop);
    weft_emitter_on(window, "Up", moveForward, &nathan);
    weft_emitter_on(window, "Left", moveLeft, &nathan);
    weft_emitter_on(window, "Right", moveRight, &nathan);
    weft_emitter_on(window, "Escape", quit, &nathan);

    weft_thread_t *keys;
    weft_thread_new(&keys, keyboard, window, NULL);
    weft_thread_start(keys);
    weft_loop_run_forever(nathan.loop); /* window.listen(); mainloop() */
    weft_thread_join(keys, WEFT_FOREVER);
    weft_thread_free(keys);
    weft_emitter_free(window);
    weft_loop_free(nathan.loop);
    return 0;
}
