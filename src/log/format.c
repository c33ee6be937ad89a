/* SPDX-License-Identifier: MIT */
/* Formats: Python's %(field)s strings, compiled once by basic_config into
 * pieces, then rendered into one line per record.
 *
 * Compiling checks everything Python would only find when a record is
 * formatted (an unknown field, %d on a text field, a stray '%'), so that a
 * bad format is refused up front and logging itself cannot fail. As in
 * Python's PercentStyle, a format must name at least one field. */
#include "log_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum field_type { TYPE_TEXT, TYPE_INT, TYPE_FLOAT };

struct field_info {
    const char *name;
    enum log_field field;
    enum field_type type;
};

static const struct field_info fields[] = {
    {"asctime", LOG_ASCTIME, TYPE_TEXT},
    {"created", LOG_CREATED, TYPE_FLOAT},
    {"msecs", LOG_MSECS, TYPE_FLOAT},
    {"levelname", LOG_LEVELNAME, TYPE_TEXT},
    {"levelno", LOG_LEVELNO, TYPE_INT},
    {"name", LOG_NAME, TYPE_TEXT},
    {"message", LOG_MESSAGE, TYPE_TEXT},
    {"process", LOG_PROCESS, TYPE_INT},
    {"processName", LOG_PROCESSNAME, TYPE_TEXT},
    {"thread", LOG_THREAD, TYPE_INT},
    {"threadName", LOG_THREADNAME, TYPE_TEXT},
};

static struct log_piece default_pieces[] = {
    {LOG_LEVELNAME, NULL, 0, "%s"}, {LOG_LITERAL, ":", 1, ""},
    {LOG_NAME, NULL, 0, "%s"},      {LOG_LITERAL, ":", 1, ""},
    {LOG_MESSAGE, NULL, 0, "%s"},
};

const struct log_format weft__log_default_format = {
    sizeof default_pieces / sizeof default_pieces[0], default_pieces, NULL};

/* ----- Compiling ----- */

static const struct field_info *find_field(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == len &&
            memcmp(fields[i].name, name, len) == 0)
            return &fields[i];
    return NULL;
}

/* Python's flags, width and precision, between "%(name)" and the
 * conversion. */
struct spec_parts {
    char flags[8]; /* of "#0- +", each at most once */
    int width;     /* -1: none */
    int precision; /* -1: none */
    size_t len;    /* bytes of the format they took */
};

static void parse_parts(const char *p, struct spec_parts *s)
{
    size_t n = 0, nflags = 0;
    for (; p[n] && strchr("#0- +", p[n]); n++)
        if (!memchr(s->flags, p[n], nflags) && nflags < sizeof s->flags - 1)
            s->flags[nflags++] = p[n];
    s->flags[nflags] = '\0';
    s->width = s->precision = -1;
    size_t digits = strspn(p + n, "0123456789");
    if (digits)
        s->width = digits > 3 ? 1000 : atoi(p + n);
    n += digits;
    if (p[n] == '.') {
        n++;
        digits = strspn(p + n, "0123456789");
        s->precision = digits > 3 ? 1000 : atoi(p + n);
        n += digits;
    }
    s->len = n;
}

/* Keep only the flags that C defines for the conversion (Python ignores
 * the others: "%05s" pads with spaces, "%#d" is "%d"). */
static void keep_flags(char *flags, const char *allowed)
{
    char *out = flags;
    for (const char *f = flags; *f; f++)
        if (strchr(allowed, *f))
            *out++ = *f;
    *out = '\0';
}

/* The C conversion (with length modifier) for Python's conv on a value of
 * the given type, and the flags C defines for it; NULL when the type does
 * not take conv. Numbers shown with 's' are turned into text first. */
static const char *c_conversion(char conv, enum field_type type,
                                const char **allowed)
{
    static const char int_convs[] = "xXo", float_convs[] = "fFeEgG";
    static const char *const ints[] = {"llx", "llX", "llo"};
    static const char *const floats[] = {"f", "F", "e", "E", "g", "G"};
    *allowed = "-+ 0";
    if (conv == 's') {
        *allowed = "-";
        return "s";
    }
    if (type == TYPE_TEXT || conv == '\0')
        return NULL;
    if (conv == 'd' || conv == 'i')
        return "lld";
    *allowed = "-+ 0#";
    const char *at = strchr(int_convs, conv);
    if (at && type == TYPE_INT)
        return ints[at - int_convs];
    at = strchr(float_convs, conv);
    return at ? floats[at - float_convs] : NULL;
}

/* Build piece->spec from the parts and conv. Returns 0, or -1 when the
 * type does not take conv or the numbers are absurd. */
static int make_spec(struct log_piece *piece, struct spec_parts *s, char conv,
                     enum field_type type)
{
    const char *allowed, *c = c_conversion(conv, type, &allowed);
    if (c == NULL || s->width > 999 || s->precision > 999)
        return -1;
    keep_flags(s->flags, allowed);
    char width[16] = "", precision[16] = "";
    if (s->width >= 0)
        snprintf(width, sizeof width, "%d", s->width);
    if (s->precision >= 0)
        snprintf(precision, sizeof precision, ".%d", s->precision);
    snprintf(piece->spec, sizeof piece->spec, "%%%s%s%s%s", s->flags, width,
             precision, c);
    return 0;
}

/* Parse the field at *p (just after "%("), filling piece; advance *p past
 * it. Errors: WEFT_EINVAL. */
static int parse_field(const char **p, struct log_piece *piece)
{
    const char *name = *p, *close = strchr(name, ')');
    if (close == NULL)
        return weft_fail(WEFT_EINVAL, "log format: unclosed '%%(' at \"%s\"",
                         name - 2);
    const struct field_info *f = find_field(name, (size_t)(close - name));
    if (f == NULL)
        return weft_fail(WEFT_EINVAL, "log format: unknown field '%%(%.*s)'",
                         (int)(close - name), name);
    const char *after = close + 1;
    struct spec_parts parts;
    parse_parts(after, &parts);
    char conv = after[parts.len];
    if (make_spec(piece, &parts, conv, f->type) != 0)
        return weft_fail(WEFT_EINVAL,
                         "log format: bad conversion for '%%(%s)' at \"%s\"",
                         f->name, after);
    piece->field = f->field;
    *p = after + parts.len + 1;
    return 0;
}

/* Parse what follows a '%' at *p (just after it). */
static int parse_percent(const char **p, struct log_piece *piece)
{
    if (**p == '%') {
        *piece = (struct log_piece){LOG_LITERAL, *p, 1, ""};
        (*p)++;
        return 0;
    }
    if (**p != '(')
        return weft_fail(WEFT_EINVAL,
                         "log format: '%%' must start '%%(field)' or be "
                         "doubled, at \"%s\"",
                         *p - 1);
    (*p)++;
    return parse_field(p, piece);
}

static int parse(const char *text, struct log_format *f)
{
    const char *p = text;
    int have_field = 0;
    while (*p) {
        struct log_piece *piece = &f->pieces[f->count++];
        const char *percent = strchr(p, '%');
        if (percent != p) {
            size_t len = percent ? (size_t)(percent - p) : strlen(p);
            *piece = (struct log_piece){LOG_LITERAL, p, len, ""};
            p += len;
            continue;
        }
        p++;
        int rc = parse_percent(&p, piece);
        if (rc)
            return rc;
        have_field |= piece->field != LOG_LITERAL;
    }
    if (!have_field)
        return weft_fail(WEFT_EINVAL, "log format: \"%s\" names no %%(field)",
                         text);
    return 0;
}

int weft__log_format_compile(const char *fmt, struct log_format **out)
{
    struct log_format *f = calloc(1, sizeof *f);
    /* Each piece takes at least one byte of fmt. */
    size_t most = strlen(fmt) + 1;
    if (f)
        f->pieces = calloc(most, sizeof *f->pieces);
    if (f)
        f->text = strdup(fmt);
    if (f == NULL || f->pieces == NULL || f->text == NULL) {
        weft__log_format_free(f);
        return weft_fail(WEFT_ENOMEM, "no memory for a log format");
    }
    int rc = parse(f->text, f);
    if (rc) {
        weft__log_format_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void weft__log_format_free(struct log_format *f)
{
    if (f == NULL || f == &weft__log_default_format)
        return;
    free(f->pieces);
    free(f->text);
    free(f);
}

/* ----- Rendering ----- */

struct line {
    char *buf;
    size_t size; /* room for text, the newline excluded */
    size_t len;
};

static void put(struct line *l, const char *text, size_t len)
{
    size_t room = l->size - l->len;
    size_t n = len < room ? len : room;
    memcpy(l->buf + l->len, text, n);
    l->len += n;
}

/* Python's asctime: "2003-07-08 16:49:45,896", or strftime(datefmt). */
static void format_asctime(const struct log_record *r, char *out, size_t size)
{
    struct tm tm;
    time_t secs = r->when.tv_sec;
    localtime_r(&secs, &tm);
    if (r->datefmt) {
        if (strftime(out, size, r->datefmt, &tm) == 0)
            out[0] = '\0';
        return;
    }
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, size, "%s,%03ld", date, r->when.tv_nsec / 1000000);
}

/* str(x) for a float, as Python prints it: the shortest text that reads
 * back the same, with ".0" when it would look like an integer. */
static void float_text(double x, char *out, size_t size)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, x);
        if (strtod(out, NULL) == x)
            break;
    }
    if (isfinite(x) && strpbrk(out, ".e") == NULL)
        strncat(out, ".0", size - strlen(out) - 1);
}

static const char *text_of(const struct log_piece *p,
                           const struct log_record *r, char *tmp, size_t size)
{
    switch (p->field) {
    case LOG_ASCTIME:
        format_asctime(r, tmp, size);
        return tmp;
    case LOG_LEVELNAME:
        return weft_log_level_name(r->level);
    case LOG_NAME:
        return r->name;
    case LOG_MESSAGE:
        return r->message;
    case LOG_PROCESSNAME:
        return r->process_name;
    case LOG_THREADNAME:
        return r->thread_name;
    default:
        return NULL;
    }
}

static double float_of(const struct log_piece *p, const struct log_record *r)
{
    if (p->field == LOG_MSECS)
        return (double)(r->when.tv_nsec / 1000000);
    return (double)r->when.tv_sec + (double)r->when.tv_nsec / 1e9;
}

static long long int_of(const struct log_piece *p, const struct log_record *r)
{
    switch (p->field) {
    case LOG_LEVELNO:
        return r->level;
    case LOG_PROCESS:
        return r->process;
    case LOG_THREAD:
        return r->thread;
    default: /* a float field under %d: Python truncates */
        return (long long)float_of(p, r);
    }
}

static int is_float_field(enum log_field f)
{
    return f == LOG_CREATED || f == LOG_MSECS;
}

/* Render the piece's value with its spec into out (size bytes, NUL
 * included), as snprintf does. */
static int render_value(const struct log_piece *p, const struct log_record *r,
                        char *out, size_t size)
{
    char tmp[256];
    const char *text = text_of(p, r, tmp, sizeof tmp);
    char conv = p->spec[strlen(p->spec) - 1];
    if (text == NULL && conv == 's') {
        if (is_float_field(p->field))
            float_text(float_of(p, r), tmp, sizeof tmp);
        else
            snprintf(tmp, sizeof tmp, "%lld", int_of(p, r));
        text = tmp;
    }
    if (text)
        return snprintf(out, size, p->spec, text);
    if (strchr("fFeEgG", conv))
        return snprintf(out, size, p->spec, float_of(p, r));
    return snprintf(out, size, p->spec, int_of(p, r));
}

static void render_piece(const struct log_piece *p, const struct log_record *r,
                         struct line *l)
{
    if (p->field == LOG_LITERAL) {
        put(l, p->text, p->len);
        return;
    }
    if (p->field == LOG_MESSAGE && strcmp(p->spec, "%s") == 0) {
        put(l, r->message, strlen(r->message)); /* the common case */
        return;
    }
    /* The room includes the byte kept for the newline, which takes the
     * NUL that snprintf writes. */
    size_t room = l->size - l->len;
    int n = render_value(p, r, l->buf + l->len, room + 1);
    if (n > 0)
        l->len += (size_t)n < room ? (size_t)n : room;
}

size_t weft__log_render(const struct log_format *f, const struct log_record *r,
                        char *buf, size_t size)
{
    struct line l = {buf, size - 1, 0};
    for (size_t i = 0; i < f->count && l.len < l.size; i++)
        render_piece(&f->pieces[i], r, &l);
    buf[l.len++] = '\n';
    return l.len;
}
