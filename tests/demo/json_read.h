/* SPDX-License-Identifier: MIT */
/* A small JSON reader for the demo's test, so that the test needs no JSON
 * library (and no Python): objects, arrays, strings (with the escapes
 * weft-demo writes), numbers, true, false and null. Strict: anything else,
 * or anything after the value, is an error. */
#ifndef WEFT_TEST_JSON_READ_H
#define WEFT_TEST_JSON_READ_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } json_type_t;

typedef struct json {
    json_type_t type;
    double num;         /* J_NUM, and J_BOOL as 0 or 1 */
    char *str;          /* J_STR */
    size_t n;           /* items of J_ARR and J_OBJ */
    char **keys;        /* J_OBJ */
    struct json *items; /* J_ARR, J_OBJ */
} json_t;

typedef struct json_cursor {
    const char *p;
} json_cursor_t;

static int json_value(json_cursor_t *c, json_t *out);

static void json_space(json_cursor_t *c)
{
    while (isspace((unsigned char)*c->p))
        c->p++;
}

static int json_string(json_cursor_t *c, char **out)
{
    if (*c->p != '"')
        return -1;
    c->p++;
    size_t cap = 16, len = 0;
    char *s = malloc(cap);
    while (s && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\0' || (unsigned char)ch < 0x20)
            break;
        if (ch == '\\') {
            char e = *c->p++;
            ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'u' ? '?' : e;
            if (e == 'u') {
                for (int i = 0; i < 4; i++)
                    if (!isxdigit((unsigned char)*c->p++))
                        ch = '\0';
            } else if (!strchr("\"\\/bfnrt", e)) {
                ch = '\0';
            }
            if (ch == '\0')
                break;
        }
        if (len + 2 > cap)
            s = realloc(s, cap *= 2);
        if (s)
            s[len++] = ch;
    }
    if (s == NULL || *c->p != '"') {
        free(s);
        return -1;
    }
    c->p++;
    s[len] = '\0';
    *out = s;
    return 0;
}

static int json_push(json_t *v, char *key, const json_t *item)
{
    json_t *items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (items == NULL)
        return -1;
    v->items = items;
    if (v->type == J_OBJ) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (keys == NULL)
            return -1;
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = *item;
    return 0;
}

static void json_free(json_t *v);

static int json_container(json_cursor_t *c, json_t *out, char close)
{
    out->type = close == '}' ? J_OBJ : J_ARR;
    c->p++;
    json_space(c);
    if (*c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        json_t item = {0};
        json_space(c);
        if (out->type == J_OBJ) {
            if (json_string(c, &key) != 0)
                return -1;
            json_space(c);
            if (*c->p++ != ':') {
                free(key);
                return -1;
            }
        }
        if (json_value(c, &item) != 0 || json_push(out, key, &item) != 0) {
            free(key);
            json_free(&item);
            return -1;
        }
        json_space(c);
        if (*c->p == close) {
            c->p++;
            return 0;
        }
        if (*c->p++ != ',')
            return -1;
    }
}

static int json_value(json_cursor_t *c, json_t *out)
{
    json_space(c);
    *out = (json_t){J_NULL, 0, NULL, 0, NULL, NULL};
    if (*c->p == '{')
        return json_container(c, out, '}');
    if (*c->p == '[')
        return json_container(c, out, ']');
    if (*c->p == '"') {
        out->type = J_STR;
        return json_string(c, &out->str);
    }
    static const struct {
        const char *word;
        json_type_t type;
        double num;
    } words[] = {
        {"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
    for (size_t i = 0; i < 3; i++)
        if (strncmp(c->p, words[i].word, strlen(words[i].word)) == 0) {
            c->p += strlen(words[i].word);
            out->type = words[i].type;
            out->num = words[i].num;
            return 0;
        }
    char *end;
    out->num = strtod(c->p, &end);
    if (end == c->p || !(*c->p == '-' || isdigit((unsigned char)*c->p)))
        return -1;
    out->type = J_NUM;
    c->p = end;
    return 0;
}

/* Parse all of text into *out: 0, or -1 (with *out freed). */
static int json_parse(const char *text, json_t *out)
{
    json_cursor_t c = {text};
    if (json_value(&c, out) != 0) {
        json_free(out);
        return -1;
    }
    json_space(&c);
    if (*c.p != '\0') {
        json_free(out);
        return -1;
    }
    return 0;
}

static void json_free(json_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        json_free(&v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->str);
    *v = (json_t){0};
}

/* The member key of object v, or NULL. */
static const json_t *json_get(const json_t *v, const char *key)
{
    if (v == NULL || v->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

/* Shorthands that fail soft: a missing member reads as 0, "" or false. */
static double json_num(const json_t *v, const char *key)
{
    const json_t *m = json_get(v, key);
    return m && (m->type == J_NUM || m->type == J_BOOL) ? m->num : 0;
}

static const char *json_str(const json_t *v, const char *key)
{
    const json_t *m = json_get(v, key);
    return m && m->type == J_STR ? m->str : "";
}

#endif
