/*
 * The HTTP side: libmicrohttpd with an epoll thread pool, HTTP Basic auth, the rate limit,
 * faults, latency and slow bodies through suspended connections and one timer thread (so
 * thousands of delayed responses hold no thread each), the request log and /__sim/stats.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "routes.h"

/* Serves src on 127.0.0.1 until SIGTERM or SIGINT; prints "listening on
 * http://127.0.0.1:PORT" as the first stdout line. The caller must have blocked SIGTERM and
 * SIGINT in every thread (server_block_signals) before any thread starts. Returns 0 on a clean
 * stop, -1 if the server could not start. */
int server_run(const struct route_source *src);

/* Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (threads inherit it). */
void server_block_signals(void);

#endif
