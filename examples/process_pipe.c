/* SPDX-License-Identifier: MIT */
/* A child sending a message back through a Pipe. Python:
 *
 *     def child(conn):
 *         conn.send("Data from child")
 *         conn.close()
 *
 *     parent_conn, child_conn = Pipe()
 *     p = Process(target=child, args=(child_conn,))
 *     p.start()
 *     print(parent_conn.recv())    # Data from child
 *     p.join()
 *
 * Python pickles the string; weft sends its bytes.
 */
#include <stdio.h>
#include <string.h>

#include <weft.h>

int child(const weft_bytes_t *arg)
{
    weft_connection_t *conn;
    if (weft_connection_from_share(&conn, weft_arg_share(arg, 0)) != 0)
        return 1;
    const char *data = "Data from child";
    int rc = weft_connection_send_bytes(conn, data, strlen(data));
    weft_connection_free(conn); /* conn.close() */
    return rc;
}

int main(void)
{
    weft_connection_t *parent_conn, *child_conn;
    if (weft_pipe(&parent_conn, &child_conn, 1) != 0)
        return 1;
    weft_share_t h;
    weft_connection_share(child_conn, &h);
    weft_process_t *p;
    if (weft_process_new(&p, child, &h, sizeof h, NULL) != 0 ||
        weft_process_pass(p, &h) != 0 || weft_process_start(p) != 0)
        return 1;
    weft_connection_free(child_conn); /* the child has its own */
    weft_bytes_t message;
    if (weft_connection_recv_bytes(parent_conn, &message) != 0)
        return 1;
    printf("%.*s\n", (int)message.len, (const char *)message.data);
    weft_bytes_free(&message);
    weft_process_join(p, WEFT_FOREVER);
    weft_process_free(p);
    weft_connection_free(parent_conn);
    return 0;
}
