/* SPDX-License-Identifier: MIT */
/* Error codes, their texts, and each thread's last message. */
#include "base/check.h"
#include "weft/base.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[WEFT_MESSAGE_MAX];

const char *weft_strerror(int code)
{
    switch (code) {
    case WEFT_OK:
        return "success";
#define WEFT_TEXT_(name, value, text)                                          \
    case value:                                                                \
        return text;
        WEFT_ERRORS(WEFT_TEXT_)
#undef WEFT_TEXT_
    }
    return code >= WEFT_EUSER ? "application error" : "unknown error";
}

/* Names made up for codes the list does not hold: a few per thread, used
 * in turn, so that two names in one printf are both right. */
#define MADE_NAMES 4
static _Thread_local char made_names[MADE_NAMES][32];
static _Thread_local unsigned made_next;

static const char *made_up_name(int code)
{
    char *buf = made_names[made_next++ % MADE_NAMES];
    if (code == WEFT_EUSER)
        return "WEFT_EUSER";
    if (code > WEFT_EUSER)
        snprintf(buf, sizeof made_names[0], "WEFT_EUSER+%d", code - WEFT_EUSER);
    else
        snprintf(buf, sizeof made_names[0], "error %d", code);
    return buf;
}

const char *weft_errname(int code)
{
    switch (code) {
    case WEFT_OK:
        return "WEFT_OK";
#define WEFT_NAME_(name, value, text)                                          \
    case value:                                                                \
        return #name;
        WEFT_ERRORS(WEFT_NAME_)
#undef WEFT_NAME_
    }
    return made_up_name(code);
}

const char *weft_last_message(void)
{
    return last_message;
}

void weft_clear_message(void)
{
    last_message[0] = '\0';
}

int weft_vfail(int code, const char *fmt, va_list ap)
{
    if (fmt == NULL)
        snprintf(last_message, sizeof last_message, "%s", weft_strerror(code));
    else
        vsnprintf(last_message, sizeof last_message, fmt, ap);
    return code;
}

int weft_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weft_vfail(code, fmt, ap);
    va_end(ap);
    return code;
}

void weft_error_capture(weft_error_info_t *out, int code)
{
    WEFT_REFUSE_NULL_OR(out, );
    out->code = code;
    /* A task that returned a code without a message still says something. */
    const char *m = last_message[0] ? last_message : weft_strerror(code);
    snprintf(out->message, sizeof out->message, "%s", m);
}

const char *weft_version(void)
{
    return WEFT_VERSION_STRING;
}
