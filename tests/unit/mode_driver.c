/*
 * mode_driver.c -- a minimal host for the Mode plugin's tests and benchmark: it dlopens a
 * plugin with nothing but <etl/plugin.h>, runs its connection test or its stream, writes the
 * entities as the file sink's JSON Lines, the diagnostics and test steps on stderr, and a
 * one-line JSON summary (counters, status, wall time, peak RSS) on stderr at the end.
 *
 *   mode-driver --plugin PATH --config JSON [--source-config JSON] [--service NAME]
 *               [--out FILE] [--test] [--interrupt-after-ms N]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <etl/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

struct etl_run {
  long long counters[5];
  long warnings, errors, items_lost, steps_failed;
  volatile int cancel;
};

static const char *sev_name(enum etl_severity s) {
  switch (s) {
  case ETL_SEV_DEBUG:
    return "debug";
  case ETL_SEV_INFO:
    return "info";
  case ETL_SEV_WARNING:
    return "warning";
  default:
    return "error";
  }
}

static void svc_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                     const char *message) {
  if (sev == ETL_SEV_WARNING)
    run->warnings++;
  if (sev >= ETL_SEV_ERROR)
    run->errors++;
  if (flags & ETL_DIAG_ITEM_LOST)
    run->items_lost++;
  fprintf(stderr, "diag %s%s [%s] %s\n", sev_name(sev), flags & ETL_DIAG_ITEM_LOST ? " lost" : "",
          item ? item : "-", message);
}

static void svc_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  if ((unsigned)c < 5)
    run->counters[c] += delta;
}

static int svc_cancelled(struct etl_run *run) {
  return run->cancel;
}

static void svc_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                          const char *message) {
  if (v == ETL_TEST_FAIL)
    run->steps_failed++;
  fprintf(stderr, "step %s %s: %s\n",
          v == ETL_TEST_PASS   ? "PASS"
          : v == ETL_TEST_FAIL ? "FAIL"
                               : "SKIP",
          step, message);
}

static const struct etl_host_services services = {sizeof(struct etl_host_services),
                                                  ETL_ABI_MAJOR,
                                                  ETL_ABI_MINOR,
                                                  svc_diag,
                                                  svc_count,
                                                  svc_cancelled,
                                                  svc_test_step};

struct interrupter {
  const struct etl_plugin *plugin;
  void *instance;
  long ms;
};

static void *interrupt_later(void *p) {
  struct interrupter *it = p;
  struct timespec ts = {it->ms / 1000, (it->ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  it->plugin->interrupt(it->instance);
  return NULL;
}

static void write_record(FILE *out, const char *source, const struct etl_entity *e) {
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *buf;
  size_t len;
  yajl_gen_map_open(g);
  yajl_gen_string(g, (const unsigned char *)"kind", 4);
  yajl_gen_string(g, (const unsigned char *)e->kind, strlen(e->kind));
  yajl_gen_string(g, (const unsigned char *)"id", 2);
  yajl_gen_string(g, (const unsigned char *)e->id, strlen(e->id));
  yajl_gen_string(g, (const unsigned char *)"source", 6);
  yajl_gen_string(g, (const unsigned char *)source, strlen(source));
  yajl_gen_get_buf(g, &buf, &len);
  /* buf is `{"kind":..,"source":".."`; the entity's members follow after a comma. */
  fwrite(buf, 1, len, out);
  size_t i = 0;
  while (i < e->json_len && e->json[i] != '{')
    i++;
  if (i + 1 < e->json_len) {
    fputc(',', out);
    fwrite(e->json + i + 1, 1, e->json_len - i - 1, out);
  } else {
    fputc('}', out);
  }
  fputc('\n', out);
  yajl_gen_free(g);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  const char *plugin_path = NULL, *conn = NULL, *src = "{}", *service = "mode_svc",
             *out_path = NULL;
  int test = 0;
  long interrupt_ms = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--test") == 0) {
      test = 1;
      continue;
    }
    if (v == NULL) {
      fprintf(stderr, "mode-driver: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (strcmp(a, "--plugin") == 0)
      plugin_path = v;
    else if (strcmp(a, "--config") == 0)
      conn = v;
    else if (strcmp(a, "--source-config") == 0)
      src = v;
    else if (strcmp(a, "--service") == 0)
      service = v;
    else if (strcmp(a, "--out") == 0)
      out_path = v;
    else if (strcmp(a, "--interrupt-after-ms") == 0)
      interrupt_ms = atol(v);
    else {
      fprintf(stderr, "mode-driver: unknown option %s\n", a);
      return 2;
    }
  }
  if (plugin_path == NULL || conn == NULL) {
    fprintf(stderr, "usage: mode-driver --plugin PATH --config JSON [--source-config JSON] "
                    "[--service NAME] [--out FILE] [--test] [--interrupt-after-ms N]\n");
    return 2;
  }
  void *so = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
  if (so == NULL) {
    fprintf(stderr, "mode-driver: %s\n", dlerror());
    return 2;
  }
  etl_plugin_entry_fn entry = (etl_plugin_entry_fn)dlsym(so, ETL_PLUGIN_ENTRY_SYMBOL);
  const struct etl_plugin *p = entry ? entry(&services) : NULL;
  if (p == NULL || p->abi_major != ETL_ABI_MAJOR) {
    fprintf(stderr, "mode-driver: %s: no usable descriptor\n", plugin_path);
    dlclose(so);
    return 2;
  }
  struct etl_run run = {0};
  struct etl_open_args args = {sizeof args,  &run, &services,   service, conn,
                               strlen(conn), src,  strlen(src), NULL,    0};
  void *inst = NULL;
  double t0 = now_s();
  etl_status st = p->open(&args, &inst);
  long entities = 0;
  FILE *out = NULL;
  pthread_t th;
  int have_thread = 0;
  struct interrupter it = {p, inst, interrupt_ms};
  double t_interrupt = 0, t_stop = 0;
  if (st == ETL_OK && test) {
    st = p->test(inst);
  } else if (st == ETL_OK) {
    out = out_path ? fopen(out_path, "w") : stdout;
    if (out == NULL) {
      perror(out_path);
      p->close(inst);
      dlclose(so);
      return 2;
    }
    if (interrupt_ms >= 0 && pthread_create(&th, NULL, interrupt_later, &it) == 0) {
      have_thread = 1;
      t_interrupt = t0 + (double)interrupt_ms / 1000.0;
    }
    const struct etl_entity *e;
    while ((st = p->next_entity(inst, &e)) == ETL_OK) {
      write_record(out, service, e);
      entities++;
    }
    t_stop = now_s();
    if (out != stdout)
      fclose(out);
    else
      fflush(out);
  }
  if (have_thread)
    pthread_join(th, NULL);
  p->close(inst);
  double wall = now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr,
          "summary {\"status\":\"%s\",\"entities\":%ld,\"requests\":%lld,\"retries\":%lld,"
          "\"filtered\":%lld,\"bytes\":%lld,\"throttled\":%lld,\"warnings\":%ld,\"errors\":%ld,"
          "\"items_lost\":%ld,\"steps_failed\":%ld,\"wall_s\":%.3f,\"stop_after_interrupt_s\":%.3f,"
          "\"peak_rss_kb\":%ld}\n",
          etl_status_name(st), entities, run.counters[ETL_COUNTER_REQUESTS],
          run.counters[ETL_COUNTER_RETRIES], run.counters[ETL_COUNTER_FILTERED],
          run.counters[ETL_COUNTER_BYTES], run.counters[ETL_COUNTER_THROTTLED], run.warnings,
          run.errors, run.items_lost, run.steps_failed, wall,
          t_interrupt > 0 && t_stop > 0 ? t_stop - t_interrupt : -1.0, ru.ru_maxrss);
  dlclose(so);
  if (st == ETL_DONE || st == ETL_OK)
    return 0;
  return st == ETL_ERR_CONFIG ? 3 : st == ETL_ERR_AUTH ? 4 : st == ETL_ERR_CANCELLED ? 5 : 1;
}
