/* SPDX-License-Identifier: MIT */
/* asyncio's TCP echo server and client (the streams example of Python's
 * documentation): the server handles each connection as a task, and the
 * client's calls read like blocking code while they suspend only it.
 *
 *     async def handle_echo(reader, writer):
 *         data = await reader.readline()
 *         writer.write(data)
 *         await writer.drain()
 *         writer.close()
 *     server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
 */
#include <stdio.h>
#include <string.h>

#include "weft.h"

static int handle_echo(weft_stream_t *s, void *arg)
{
    char line[256];
    size_t n;
    int rc = weft_stream_readline(s, line, sizeof line, &n);
    if (rc == 0)
        rc = weft_stream_write(s, line, n);
    return rc;
}

static int client(void *arg, void **result)
{
    int port = *(int *)arg;
    weft_stream_t *s;
    int rc = weft_open_connection(&s, "127.0.0.1", port, 5.0);
    if (rc)
        return rc;
    const char *message = "Hello World!\n";
    printf("Send: %s", message);
    weft_stream_write(s, message, strlen(message));
    char reply[256];
    size_t n = 0;
    rc = weft_stream_readline(s, reply, sizeof reply - 1, &n);
    reply[n] = '\0';
    printf("Received: %s", reply);
    weft_stream_free(s);
    return rc;
}

static int main_task(void *arg, void **result)
{
    weft_server_t *server;
    int rc =
        weft_start_server(&server, NULL, "127.0.0.1", 0, handle_echo, NULL);
    if (rc)
        return rc;
    int port = weft_server_port(server);
    printf("Serving on 127.0.0.1 (a free port)\n");
    weft_future_t *clients[3];
    for (int i = 0; i < 3; i++)
        weft_task_create(&clients[i], NULL, client, &port);
    rc = weft_gather(clients, 3, 0, NULL, NULL);
    for (int i = 0; i < 3; i++)
        weft_future_free(clients[i]);
    weft_server_free(server);
    return rc;
}

int main(void)
{
    int rc = weft_run(main_task, NULL, NULL);
    if (rc)
        fprintf(stderr, "echo: %s\n", weft_last_message());
    return rc ? 1 : 0;
}
