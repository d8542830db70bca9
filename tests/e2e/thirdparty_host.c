/*
 * thirdparty_host.c -- a host that is not etlhost: it includes only <etl/plugin.h> (and the C
 * and POSIX libraries), loads a plugin with plain dlopen(), and runs it end to end. It proves
 * that the header is the whole contract, is the driver of the Mode tests and of
 * tests/bench/mode-bench, and doubles as a small tool for plugin authors:
 *
 *   thirdparty_host [--name NAME] [--source-config FILE] [--state FILE] [--state-out FILE]
 *                   [--out FILE] [--test] [--interrupt-after-ms N] PLUGIN.so CONFIG.json
 *
 * CONFIG.json is serviceConnection.config, --source-config sourceConfig.config ({} without),
 * --state the state handed to open(), NAME the source's name ("thirdparty" without).
 * stdout (or --out FILE) gets each entity as one line, in the file sink's shape
 *   {"kind": ..., "id": ..., "source": NAME, <the entity's members>}
 * and a `state` entity as `# state {...}`; --state-out FILE also keeps the last state there, to
 * hand back with --state on the next run. --interrupt-after-ms calls the plugin's interrupt()
 * that long after open (Ctrl-C makes cancelled() true). stderr gets one line per diagnostic
 * (`diag SEVERITY[ lost] [ITEM] MESSAGE`) and per connection-test step
 * (`step PASS|FAIL|SKIP STEP: MESSAGE`), then, once the plugin is loaded, one summary line:
 *   summary {"plugin":..,"version":..,"status":"ETL_DONE","entities":N,"requests":N,...,
 *            "wall_s":S,"stop_after_interrupt_s":S,"peak_rss_kb":N}
 * Exit status: 0 done (or every test step passed; lost items are counted in the summary),
 * 1 another failure, 2 usage error, an unreadable file or a plugin that cannot be loaded,
 * 3 ETL_ERR_CONFIG, 4 ETL_ERR_AUTH or ETL_ERR_CONNECT, 5 ETL_ERR_CANCELLED.
 */
#define _POSIX_C_SOURCE 200809L
#include <etl/plugin.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <threads.h>
#include <time.h>

#define COUNTERS (ETL_COUNTER_THROTTLED + 1)

/* What the services record about one run. Owned by main; the plugin borrows it until close. */
struct etl_run {
  long long counters[COUNTERS];
  long warnings, errors, items_lost, steps_failed;
  atomic_int interrupted; /* set by the interrupter thread: cancelled() turns true */
};

static volatile sig_atomic_t stop; /* Ctrl-C */

static void on_sigint(int sig) {
  (void)sig;
  stop = 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the services ------------------------------------------------------------------------ */

static const char *severity_word(enum etl_severity s) {
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

static void host_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                      const char *message) {
  if (sev == ETL_SEV_WARNING)
    run->warnings++;
  if (sev >= ETL_SEV_ERROR)
    run->errors++;
  if (flags & ETL_DIAG_ITEM_LOST)
    run->items_lost++;
  fprintf(stderr, "diag %s%s [%s] %s\n", severity_word(sev),
          flags & ETL_DIAG_ITEM_LOST ? " lost" : "", item ? item : "-", message ? message : "");
}

static void host_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  if ((unsigned)c < COUNTERS)
    run->counters[c] += delta;
}

static int host_cancelled(struct etl_run *run) {
  return stop != 0 || atomic_load(&run->interrupted) != 0;
}

static void host_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                           const char *message) {
  static const char *const words[] = {"PASS", "FAIL", "SKIP"};
  if (v == ETL_TEST_FAIL)
    run->steps_failed++;
  fprintf(stderr, "step %s %s: %s\n", (unsigned)v <= ETL_TEST_SKIP ? words[v] : "?",
          step ? step : "", message ? message : "");
}

static const struct etl_host_services services = {
    .struct_size = sizeof services,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = host_diag,
    .count = host_count,
    .cancelled = host_cancelled,
    .test_step = host_test_step,
};

/* ---- interrupting after a delay ---------------------------------------------------------- */

/* A thread that interrupts the instance once the deadline passes, unless the run finished
 * first. main owns it and joins it before close(), so interrupt() never races close(). */
struct interrupter {
  void (*interrupt)(void *instance); /* the plugin's, or NULL: then only cancelled() says so */
  void *instance;                    /* borrowed */
  struct etl_run *run;               /* borrowed */
  struct timespec deadline;          /* TIME_UTC, for cnd_timedwait */
  mtx_t lock;
  cnd_t done;
  int finished;    /* under lock: the run ended before the deadline */
  double fired_at; /* monotonic seconds of the interrupt, 0 if none; read after the join */
};

static int interrupt_at_deadline(void *arg) {
  struct interrupter *it = arg;
  int r = thrd_success;
  mtx_lock(&it->lock);
  while (!it->finished && r == thrd_success)
    r = cnd_timedwait(&it->done, &it->lock, &it->deadline);
  if (!it->finished) {
    it->fired_at = now_s();
    atomic_store(&it->run->interrupted, 1);
    if (it->interrupt)
      it->interrupt(it->instance);
  }
  mtx_unlock(&it->lock);
  return 0;
}

/* Starts the thread; returns 0, or -1 (nothing to undo) when it cannot. */
static int interrupter_start(struct interrupter *it, thrd_t *thread, long ms) {
  int rc = -1;
  timespec_get(&it->deadline, TIME_UTC);
  it->deadline.tv_sec += ms / 1000;
  it->deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (it->deadline.tv_nsec >= 1000000000L) {
    it->deadline.tv_sec++;
    it->deadline.tv_nsec -= 1000000000L;
  }
  if (mtx_init(&it->lock, mtx_plain) != thrd_success)
    goto out;
  if (cnd_init(&it->done) != thrd_success)
    goto out_mtx;
  if (thrd_create(thread, interrupt_at_deadline, it) == thrd_success) {
    rc = 0;
    goto out;
  }
  cnd_destroy(&it->done);
out_mtx:
  mtx_destroy(&it->lock);
out:
  return rc;
}

/* Tells the thread the run is over, waits for it and frees what interrupter_start made. */
static void interrupter_stop(struct interrupter *it, thrd_t thread) {
  mtx_lock(&it->lock);
  it->finished = 1;
  cnd_signal(&it->done);
  mtx_unlock(&it->lock);
  thrd_join(thread, NULL);
  cnd_destroy(&it->done);
  mtx_destroy(&it->lock);
}

/* ---- files and output -------------------------------------------------------------------- */

/* The whole file, NUL-terminated (caller frees), its length in *len; NULL if unreadable. */
static char *slurp(const char *path, size_t *len) {
  char *buf = NULL;
  size_t cap = 0, n = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    goto out;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      char *grown = realloc(buf, cap = (cap + 4096) * 2);
      if (!grown) {
        free(buf);
        buf = NULL;
        goto out;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    buf = NULL;
    goto out;
  }
  buf[n] = '\0';
  *len = n;
out:
  if (f)
    fclose(f);
  return buf;
}

/* Replaces path with the len bytes at text; 0 or -1. */
static int save(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  int ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* Writes s as a JSON string (the only JSON this host writes itself). */
static void print_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

/* One entity as a line: kind, id, source, then the members of its JSON object. */
static void print_entity(FILE *out, const struct etl_entity *e, const char *source) {
  if (strcmp(e->kind, "state") == 0) {
    fprintf(out, "# state %.*s\n", (int)e->json_len, e->json);
    return;
  }
  fputs("{\"kind\":", out);
  print_json_string(out, e->kind);
  fputs(",\"id\":", out);
  print_json_string(out, e->id);
  fputs(",\"source\":", out);
  print_json_string(out, source);
  size_t i = 0, end = e->json_len;
  while (i < end && e->json[i] != '{')
    i++;
  while (end > i && e->json[end - 1] != '}')
    end--;
  size_t j = i + 1;
  while (j + 1 < end && (e->json[j] == ' ' || e->json[j] == '\n' || e->json[j] == '\t'))
    j++;
  if (j + 1 < end) /* a non-empty object: splice its members in */
    fprintf(out, ",%.*s", (int)(end - j), e->json + j);
  else
    fputc('}', out);
  fputc('\n', out);
}

static void print_summary(const struct etl_plugin *p, const struct etl_run *run, etl_status st,
                          long entities, double wall, double stop_after_interrupt) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    ru.ru_maxrss = -1;
  fputs("summary {\"plugin\":", stderr);
  print_json_string(stderr, p->name ? p->name : "");
  fputs(",\"version\":", stderr);
  print_json_string(stderr, p->version ? p->version : "");
  fprintf(stderr,
          ",\"status\":\"%s\",\"entities\":%ld,\"requests\":%lld,\"retries\":%lld,"
          "\"filtered\":%lld,\"bytes\":%lld,\"throttled\":%lld,\"warnings\":%ld,\"errors\":%ld,"
          "\"items_lost\":%ld,\"steps_failed\":%ld,\"wall_s\":%.3f,"
          "\"stop_after_interrupt_s\":%.3f,\"peak_rss_kb\":%ld}\n",
          etl_status_name(st), entities, run->counters[ETL_COUNTER_REQUESTS],
          run->counters[ETL_COUNTER_RETRIES], run->counters[ETL_COUNTER_FILTERED],
          run->counters[ETL_COUNTER_BYTES], run->counters[ETL_COUNTER_THROTTLED], run->warnings,
          run->errors, run->items_lost, run->steps_failed, wall, stop_after_interrupt,
          (long)ru.ru_maxrss);
}

static int exit_for(etl_status st) {
  switch (st) {
  case ETL_OK:
  case ETL_DONE:
    return 0;
  case ETL_ERR_CONFIG:
    return 3;
  case ETL_ERR_AUTH:
  case ETL_ERR_CONNECT:
    return 4;
  case ETL_ERR_CANCELLED:
    return 5;
  default:
    return 1;
  }
}

/* ---- the run ----------------------------------------------------------------------------- */

struct options {
  const char *name, *sc_path, *state_path, *state_out, *out_path, *plugin_path, *config_path;
  int test_only;
  long interrupt_ms; /* -1: never */
};

/* Fills o from argv; 0, or -1 after printing the usage. */
static int parse_options(int argc, char **argv, struct options *o) {
  *o = (struct options){.name = "thirdparty", .interrupt_ms = -1};
  int argi = 1;
  for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
    const char *a = argv[argi], *v = argi + 1 < argc ? argv[argi + 1] : NULL;
    char *end = NULL;
    if (strcmp(a, "--test") == 0) {
      o->test_only = 1;
      continue;
    }
    if (!v)
      break;
    argi++;
    if (strcmp(a, "--name") == 0)
      o->name = v;
    else if (strcmp(a, "--source-config") == 0)
      o->sc_path = v;
    else if (strcmp(a, "--state") == 0)
      o->state_path = v;
    else if (strcmp(a, "--state-out") == 0)
      o->state_out = v;
    else if (strcmp(a, "--out") == 0)
      o->out_path = v;
    else if (strcmp(a, "--interrupt-after-ms") == 0 &&
             (o->interrupt_ms = strtol(v, &end, 10)) >= 0 && *v && !*end)
      continue;
    else {
      fprintf(stderr, "%s: bad option %s %s\n", argv[0], a, v);
      argi = -1;
      break;
    }
  }
  if (argi < 0 || argc - argi != 2) {
    fprintf(stderr,
            "usage: %s [--name NAME] [--source-config FILE] [--state FILE] [--state-out FILE] "
            "[--out FILE] [--test] [--interrupt-after-ms N] PLUGIN.so CONFIG.json\n",
            argv[0]);
    return -1;
  }
  o->plugin_path = argv[argi];
  o->config_path = argv[argi + 1];
  return 0;
}

/* Streams every entity of inst to out (and the last state to o->state_out); the final status. */
static etl_status stream(const struct etl_plugin *p, void *inst, const struct options *o, FILE *out,
                         long *entities) {
  const struct etl_entity *e = NULL;
  etl_status st;
  while ((st = p->next_entity(inst, &e)) == ETL_OK) {
    print_entity(out, e, o->name);
    ++*entities;
    if (o->state_out && strcmp(e->kind, "state") == 0 &&
        save(o->state_out, e->json, e->json_len) != 0) {
      fprintf(stderr, "cannot write the state to %s\n", o->state_out);
      st = ETL_ERR_INTERNAL;
      break;
    }
  }
  return st;
}

/* dlopens path and checks its descriptor; NULL (after saying why) when it is not a usable
 * plugin. *lib is the handle to dlclose (NULL if dlopen failed), also on failure. */
static const struct etl_plugin *load_plugin(const char *path, void **lib) {
  const struct etl_plugin *p = NULL;
  *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!*lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    goto out;
  }
  etl_plugin_entry_fn entry;
  void *sym = dlsym(*lib, ETL_PLUGIN_ENTRY_SYMBOL);
  memcpy(&entry, &sym, sizeof entry); /* POSIX: object pointers convert to function pointers */
  p = sym ? entry(&services) : NULL;
  if (!p || p->struct_size < offsetof(struct etl_plugin, close) + sizeof p->close ||
      p->abi_major != ETL_ABI_MAJOR || !p->open || !p->next_entity || !p->close) {
    fprintf(stderr, "%s: not a usable ABI %d plugin\n", path, ETL_ABI_MAJOR);
    p = NULL;
  }
out:
  return p;
}

/* Opens p with args (run is filled in here), runs its test or its stream to out, closes it and
 * prints the summary line. Returns the run's final status. */
static etl_status run_plugin(const struct etl_plugin *p, const struct options *o,
                             struct etl_open_args args, FILE *out) {
  struct etl_run run = {.warnings = 0};
  atomic_init(&run.interrupted, 0);
  args.run = &run;
  void *inst = NULL;
  long entities = 0;
  double t0 = now_s(), t_end = 0;
  /* interrupt is optional, and absent from a descriptor older than it. */
  int has_interrupt =
      p->struct_size >= offsetof(struct etl_plugin, interrupt) + sizeof p->interrupt;
  struct interrupter it = {.interrupt = has_interrupt ? p->interrupt : NULL, .run = &run};
  thrd_t thread;
  int interrupting = 0;
  etl_status st = p->open(&args, &inst);
  if (st == ETL_OK && o->interrupt_ms >= 0) {
    it.instance = inst;
    interrupting = interrupter_start(&it, &thread, o->interrupt_ms) == 0;
    if (!interrupting)
      fprintf(stderr, "cannot start the interrupter thread\n");
  }
  if (st == ETL_OK && o->test_only && !p->test)
    fprintf(stderr, "%s offers no connection test\n", o->plugin_path);
  else if (st == ETL_OK && o->test_only)
    st = p->test(inst);
  else if (st == ETL_OK)
    st = stream(p, inst, o, out, &entities);
  t_end = now_s();
  if (interrupting)
    interrupter_stop(&it, thread);
  p->close(inst);
  if (fflush(out) != 0 && st >= 0) {
    fprintf(stderr, "cannot write %s\n", o->out_path ? o->out_path : "stdout");
    st = ETL_ERR_INTERNAL;
  }
  print_summary(p, &run, st, entities, now_s() - t0, it.fired_at > 0 ? t_end - it.fired_at : -1.0);
  return st;
}

int main(int argc, char **argv) {
  struct options o;
  if (parse_options(argc, argv, &o) != 0)
    return 2;
  int rc = 2;
  void *lib = NULL;
  FILE *out = NULL;
  size_t cfg_len = 0, sc_len = 2, state_len = 0;
  char *cfg = slurp(o.config_path, &cfg_len);
  char *sc = o.sc_path ? slurp(o.sc_path, &sc_len) : NULL;
  char *state = o.state_path ? slurp(o.state_path, &state_len) : NULL;
  if (!cfg || (o.sc_path && !sc) || (o.state_path && !state)) {
    fprintf(stderr, "cannot read %s\n",
            !cfg                 ? o.config_path
            : (o.sc_path && !sc) ? o.sc_path
                                 : o.state_path);
    goto out;
  }
  out = o.out_path ? fopen(o.out_path, "w") : stdout;
  if (!out) {
    fprintf(stderr, "cannot write %s\n", o.out_path);
    goto out;
  }
  const struct etl_plugin *p = load_plugin(o.plugin_path, &lib);
  if (!p)
    goto out;
  signal(SIGINT, on_sigint);
  struct etl_open_args args = {
      .struct_size = sizeof args,
      .services = &services,
      .source_name = o.name,
      .config_json = cfg,
      .config_json_len = cfg_len,
      .source_config_json = sc ? sc : "{}",
      .source_config_json_len = sc_len,
      .state_json = state,
      .state_json_len = state_len,
  };
  rc = exit_for(run_plugin(p, &o, args, out));
out:
  if (out && out != stdout)
    fclose(out);
  if (lib)
    dlclose(lib);
  free(cfg);
  free(sc);
  free(state);
  return rc;
}
