/* SPDX-License-Identifier: MIT */
/* Processing a large CSV file in parallel chunks on worker processes (the
 * seeds' parallel_csv_processing): rows are read into chunks of 1,000, each
 * chunk goes to a worker as its text, and each worker gives back its rows
 * processed: the name in capitals, the value doubled, a category (low under
 * 10, medium under 100, high). Usage: procpool_csv [FILE.csv]; without a
 * file it makes one of 10,000 rows first (and removes it after). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft.h"

#define CHUNK_ROWS 1000

static const char *categorize(double v)
{
    return v < 10 ? "low" : v < 100 ? "medium" : "high";
}

/* One row "name,value" into "NAME,value*2,category\n" appended to out. */
static void process_row(char *row, char **out, size_t *len, size_t *cap)
{
    char *comma = strchr(row, ',');
    if (comma == NULL)
        return;
    *comma = '\0';
    double value = atof(comma + 1);
    for (char *c = row; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    if (*cap - *len < strlen(row) + 64) {
        *cap = 2 * *cap + strlen(row) + 64;
        *out = realloc(*out, *cap);
    }
    *len += (size_t)snprintf(*out + *len, *cap - *len, "%s,%g,%s\n", row,
                             value * 2, categorize(value));
}

/* process_chunk(chunk): runs in a worker process. */
static int process_chunk(const weft_bytes_t *arg, weft_bytes_t *result)
{
    char *text = strndup((const char *)arg->data, arg->len);
    size_t len = 0, cap = arg->len + 1024;
    char *out = malloc(cap);
    char *save = NULL;
    for (char *row = strtok_r(text, "\n", &save); row;
         row = strtok_r(NULL, "\n", &save))
        process_row(row, &out, &len, &cap);
    int rc = weft_bytes_copy(result, out, len);
    free(out);
    free(text);
    return rc;
}

static void make_csv(const char *path, int rows)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "name,value\n");
    for (int i = 0; i < rows; i++)
        fprintf(f, "item%05d,%d.5\n", i, (i * 37) % 250);
    fclose(f);
}

/* The chunks of the file: the text of up to CHUNK_ROWS rows each. */
static size_t read_chunks(const char *path, weft_bytes_t **chunks)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[512];
    size_t n = 0, rows = 0, len = 0;
    char *text = NULL;
    *chunks = NULL;
    if (fgets(line, sizeof line, f) == NULL) /* the header */
        line[0] = '\0';
    for (;;) {
        int more = fgets(line, sizeof line, f) != NULL;
        if (more) {
            text = realloc(text, len + strlen(line) + 1);
            memcpy(text + len, line, strlen(line) + 1);
            len += strlen(line);
            rows++;
        }
        if (rows == CHUNK_ROWS || (!more && rows > 0)) {
            *chunks = realloc(*chunks, (n + 1) * sizeof **chunks);
            (*chunks)[n++] = (weft_bytes_t){(unsigned char *)text, len};
            text = NULL;
            len = rows = 0;
        }
        if (!more)
            break;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    char made[64] = "";
    const char *path = argc > 1 ? argv[1] : NULL;
    if (path == NULL) {
        snprintf(made, sizeof made, "/tmp/weft-csv-%ld.csv", (long)getpid());
        make_csv(made, 10000);
        path = made;
    }
    weft_bytes_t *chunks = NULL;
    size_t n = read_chunks(path, &chunks);

    weft_executor_t *executor;
    weft_process_pool_new(&executor, NULL); /* ProcessPoolExecutor() */
    weft_map_t *m; /* list(executor.map(process_chunk, chunks)) */
    weft_executor_map_bytes(&m, executor, process_chunk, chunks, n, NULL);
    size_t rows = 0, low = 0, medium = 0, high = 0;
    const weft_bytes_t *r;
    int shown = 0;
    while (weft_map_next_bytes(m, &r, NULL) == 0) {
        const char *p = (const char *)r->data, *end = p + r->len;
        while (p < end) { /* flatten: one processed row a line */
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            rows++;
            low += memmem(p, (size_t)(nl - p), ",low", 4) != NULL;
            medium += memmem(p, (size_t)(nl - p), ",medium", 7) != NULL;
            high += memmem(p, (size_t)(nl - p), ",high", 5) != NULL;
            if (shown++ < 3)
                printf("%.*s\n", (int)(nl - p), p);
            p = nl + 1;
        }
    }
    weft_map_free(m);
    weft_executor_free(executor);
    printf("Processed %zu rows in %zu chunks\n", rows, n);
    printf("low: %zu, medium: %zu, high: %zu\n", low, medium, high);
    for (size_t i = 0; i < n; i++)
        free(chunks[i].data);
    free(chunks);
    if (made[0])
        unlink(made);
    return 0;
}
