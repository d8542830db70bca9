/*
 * sim-loadgen: a small HTTP load generator on libcurl multi, for benchmarking mode-sim.
 *   sim-loadgen URL... [-n REQUESTS] [-c CONCURRENCY] [-u USER:PASSWORD]
 * cycles through the URLs with CONCURRENCY requests in flight (keep-alive connections), and
 * prints one line: requests, seconds, requests/s, and the count of each status.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static CURL *make_handle(const char *url, const char *userpwd) {
  CURL *h = curl_easy_init();
  if (!h)
    return NULL;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  if (userpwd)
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
  return h;
}

int main(int argc, char **argv) {
  long total = 10000, conc = 32;
  const char *userpwd = NULL;
  int opt, rc = 1;
  while ((opt = getopt(argc, argv, "n:c:u:")) != -1) {
    if (opt == 'n')
      total = atol(optarg);
    else if (opt == 'c')
      conc = atol(optarg);
    else if (opt == 'u')
      userpwd = optarg;
    else
      goto usage;
  }
  if (optind >= argc || total < 1 || conc < 1)
    goto usage;
  char **urls = argv + optind;
  int nurls = argc - optind;
  long status[600] = {0}, failed = 0, started = 0, done = 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
  double t0 = now_s();
  for (; started < conc && started < total; started++)
    curl_multi_add_handle(m, make_handle(urls[started % nurls], userpwd));
  while (done < total) {
    int running, left;
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      CURL *h = msg->easy_handle;
      long code = 0;
      if (msg->data.result == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code > 0 && code < 600)
          status[code]++;
      } else {
        failed++;
      }
      done++;
      curl_multi_remove_handle(m, h);
      if (started < total) { /* reuse the handle: keeps its connection */
        curl_easy_setopt(h, CURLOPT_URL, urls[started % nurls]);
        curl_multi_add_handle(m, h);
        started++;
      } else {
        curl_easy_cleanup(h);
      }
    }
    if (done < total)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  double secs = now_s() - t0;
  printf("requests=%ld seconds=%.3f rps=%.0f failed=%ld", total, secs, total / secs, failed);
  for (int s = 0; s < 600; s++)
    if (status[s])
      printf(" %d=%ld", s, status[s]);
  printf("\n");
  curl_multi_cleanup(m);
  curl_global_cleanup();
  rc = failed ? 1 : 0;
  return rc;
usage:
  fputs("usage: sim-loadgen URL... [-n REQUESTS] [-c CONCURRENCY] [-u USER:PASSWORD]\n", stderr);
  return 2;
}
