/*
 * etl-plugin-check -- the conformance kit for plugin authors (issue 12 item 2):
 *
 *   etl-plugin-check PLUGIN.so [--config FILE]
 *
 * Loads a plugin as any third-party host would and checks the rules of <etl/plugin.h>, printing
 * one verdict per rule: "PASS rule", "FAIL rule: why" or "SKIP rule: why". Exits 0 when no rule
 * failed, 1 when one did, 2 on a usage error. Rules that need to drive the plugin (open, test,
 * next_entity) need a configuration (--config FILE, serviceConnection.config as a JSON object)
 * and are skipped without one.
 *
 * It uses only <etl/plugin.h>, libc, libdl and pthreads: it is what a third party runs, so it
 * knows nothing of the host's internals.
 */
/* clock_gettime without the host's config.h: this file builds from the installed header alone. */
#define _POSIX_C_SOURCE 200809L

#include "check_services.h"

#include <etl/plugin.h>

#include <ctype.h>
#include <dlfcn.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

static void verdict(const char *v, const char *rule, const char *why) {
  if (why)
    printf("%s %s: %s\n", v, rule, why);
  else
    printf("%s %s\n", v, rule);
  fflush(stdout);
  if (strcmp(v, "FAIL") == 0)
    failures++;
}

/* ---- a small JSON syntax check (RFC 8259 grammar, no semantics) ------------------------- */

static const char *json_value(const char *p, const char *end, int depth);

static const char *json_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static const char *json_string(const char *p, const char *end) {
  if (p >= end || *p != '"')
    return NULL;
  for (p++; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      return p + 1;
    if (c < 0x20)
      return NULL;
    if (c == '\\') {
      if (++p >= end)
        return NULL;
      if (*p == 'u') {
        for (int i = 0; i < 4; i++)
          if (++p >= end || !isxdigit((unsigned char)*p))
            return NULL;
      } else if (!strchr("\"\\/bfnrt", *p)) {
        return NULL;
      }
    }
  }
  return NULL;
}

static const char *json_number(const char *p, const char *end) {
  if (p < end && *p == '-')
    p++;
  if (p >= end || !isdigit((unsigned char)*p))
    return NULL;
  if (*p == '0')
    p++;
  else
    while (p < end && isdigit((unsigned char)*p))
      p++;
  if (p < end && *p == '.') {
    if (++p >= end || !isdigit((unsigned char)*p))
      return NULL;
    while (p < end && isdigit((unsigned char)*p))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !isdigit((unsigned char)*p))
      return NULL;
    while (p < end && isdigit((unsigned char)*p))
      p++;
  }
  return p;
}

static const char *json_container(const char *p, const char *end, int depth, char close) {
  p = json_ws(p + 1, end);
  if (p < end && *p == close)
    return p + 1;
  for (;;) {
    if (close == '}') {
      p = json_string(p, end);
      if (!p)
        return NULL;
      p = json_ws(p, end);
      if (p >= end || *p != ':')
        return NULL;
      p++;
    }
    p = json_value(p, end, depth + 1);
    if (!p)
      return NULL;
    p = json_ws(p, end);
    if (p < end && *p == ',') {
      p = json_ws(p + 1, end);
      continue;
    }
    return p < end && *p == close ? p + 1 : NULL;
  }
}

static const char *json_value(const char *p, const char *end, int depth) {
  if (depth > 256)
    return NULL;
  p = json_ws(p, end);
  if (p >= end)
    return NULL;
  switch (*p) {
  case '{': return json_container(p, end, depth, '}');
  case '[': return json_container(p, end, depth, ']');
  case '"': return json_string(p, end);
  case 't': return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
  case 'f': return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
  case 'n': return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
  default: return json_number(p, end);
  }
}

/* Non-zero when [p, p+len) is one JSON object and nothing else. */
static int json_is_object(const char *p, size_t len) {
  const char *end = p + len, *q = json_ws(p, end);
  if (q >= end || *q != '{')
    return 0;
  q = json_value(q, end, 0);
  return q && json_ws(q, end) == end;
}

/* ---- services tables -------------------------------------------------------------------- */

/* ok_*, trap_*, trapped and the minimal table: check_services.h. */

/* A full table of this header's version: what the locale and interrupt rules drive under. */
static const struct etl_host_services full = {
    .struct_size = sizeof full,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = ok_diag,
    .count = ok_count,
    .cancelled = ok_cancelled,
    .test_step = ok_test_step,
};

/* A host of the next major: every service is a trap. */
static const struct etl_host_services other_major = {
    .struct_size = sizeof other_major,
    .abi_major = ETL_ABI_MAJOR + 1,
    .abi_minor = 0,
    .diag = trap_diag,
    .count = trap_count,
    .cancelled = trap_cancelled,
    .test_step = trap_test_step,
};

/* ---- loading ---------------------------------------------------------------------------- */

static const char *plugin_path;

/* dlopen + dlsym + entry(svc). Returns the handle (caller dlcloses) or NULL with *why set. */
static void *load(const struct etl_host_services *svc, const struct etl_plugin **desc,
                  char *why, size_t why_len) {
  *desc = NULL;
  void *lib = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(why, why_len, "dlopen: %s", dlerror());
    return NULL;
  }
  void *sym = dlsym(lib, ETL_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    snprintf(why, why_len, "no exported %s symbol", ETL_PLUGIN_ENTRY_SYMBOL);
    dlclose(lib);
    return NULL;
  }
  etl_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  *desc = entry(svc);
  if (!*desc) {
    snprintf(why, why_len, "%s returned NULL", ETL_PLUGIN_ENTRY_SYMBOL);
    dlclose(lib);
    return NULL;
  }
  return lib;
}

static struct etl_open_args open_args(const struct etl_host_services *svc, const char *config) {
  struct etl_open_args a;
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  a.services = svc;
  a.source_name = "check";
  a.config_json = config;
  a.config_json_len = strlen(config);
  a.source_config_json = "{}";
  a.source_config_json_len = 2;
  return a;
}

/* ---- driving ---------------------------------------------------------------------------- */

/* What one drive produced: the status it ended with, and a digest of the entities (count and
 * an FNV-1a hash over kind, id and json) to compare two drives. */
struct drive {
  etl_status open_st, end_st;
  long entities;
  unsigned long long hash;
};

static unsigned long long fnv(unsigned long long h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

static int entity_ok(const struct etl_entity *e) {
  return e && e->struct_size >= sizeof *e && e->kind && e->id && e->json;
}

/* open, next_entity to the end (or the first error), close. A malformed entity ends the drive
 * with ETL_ERR_INTERNAL. */
static struct drive drive_all(const struct etl_plugin *d, const struct etl_host_services *svc,
                              const char *config) {
  struct drive r = {0, 0, 0, 14695981039346656037ULL};
  struct etl_open_args args = open_args(svc, config);
  void *inst = NULL;
  r.open_st = d->open(&args, &inst);
  if (r.open_st != ETL_OK)
    return r;
  const struct etl_entity *e;
  while ((r.end_st = d->next_entity(inst, &e)) == ETL_OK) {
    if (!entity_ok(e)) {
      r.end_st = ETL_ERR_INTERNAL;
      break;
    }
    r.entities++;
    r.hash = fnv(r.hash, e->kind, strlen(e->kind) + 1);
    r.hash = fnv(r.hash, e->id, strlen(e->id) + 1);
    r.hash = fnv(r.hash, e->json, e->json_len);
  }
  d->close(inst);
  return r;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct interrupter {
  const struct etl_plugin *d;
  void *inst;
  double delay;   /* seconds to wait before interrupt() */
  double sent_at; /* now_s() when interrupt() was called; read after pthread_join */
};

static void *interrupt_later(void *p) {
  struct interrupter *it = p;
  if (it->delay > 0) {
    struct timespec ts = {(time_t)it->delay, (long)((it->delay - (double)(time_t)it->delay) * 1e9)};
    nanosleep(&ts, NULL);
  }
  it->sent_at = now_s();
  it->d->interrupt(it->inst);
  return NULL;
}

/* ---- the rules -------------------------------------------------------------------------- */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len - 1 == 0) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* The descriptor rule; returns non-zero when the descriptor is usable for the rules after it. */
static int check_descriptor(const struct etl_plugin *d) {
  char why[256];
  const char *rule = "descriptor";
  if (d->struct_size < sizeof *d) {
    snprintf(why, sizeof why, "struct_size %zu is less than %zu (a 1.%d descriptor)",
             d->struct_size, sizeof *d, ETL_ABI_MINOR);
    verdict("FAIL", rule, why);
    return 0;
  }
  if (d->abi_major != ETL_ABI_MAJOR) {
    snprintf(why, sizeof why, "abi_major %u, this kit checks major %d", (unsigned)d->abi_major,
             ETL_ABI_MAJOR);
    verdict("FAIL", rule, why);
    return 0;
  }
  if (!d->name || !*d->name || strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
                                   strlen(d->name)) {
    verdict("FAIL", rule, "name is missing or not [a-z0-9_-]+");
    return 0;
  }
  if (!d->version || !*d->version) {
    verdict("FAIL", rule, "version is missing");
    return 0;
  }
  const char *missing = !d->open ? "open" : !d->next_entity ? "next_entity"
                                          : !d->close     ? "close"
                                                          : NULL;
  if (missing) {
    snprintf(why, sizeof why, "callback %s is NULL", missing);
    verdict("FAIL", rule, why);
    return 0;
  }
  snprintf(why, sizeof why, "%s %s, ABI %u.%u%s%s", d->name, d->version, (unsigned)d->abi_major,
           (unsigned)d->abi_minor, d->test ? "" : ", no test()",
           d->interrupt ? "" : ", no interrupt()");
  printf("PASS %s (%s)\n", rule, why);
  return 1;
}

static void check_schema(const struct etl_plugin *d) {
  if (!d->config_schema)
    verdict("SKIP", "schema-json", "the descriptor has no config_schema");
  else if (json_is_object(d->config_schema, strlen(d->config_schema)))
    verdict("PASS", "schema-json", NULL);
  else
    verdict("FAIL", "schema-json", "config_schema is not a JSON object");
}

/* Under the minimum table, with traps past it: open, test, next_entity to the end, close. */
static void check_min_services(const struct etl_plugin *d, const char *config) {
  const char *rule = "min-services";
  char why[256];
  trapped[0] = '\0';
  struct drive r = drive_all(d, &minimal, config);
  if (r.open_st == ETL_OK && d->test) {
    struct etl_open_args args = open_args(&minimal, config);
    void *inst = NULL;
    if (d->open(&args, &inst) == ETL_OK) {
      (void)d->test(inst);
      d->close(inst);
    }
  }
  if (trapped[0]) {
    snprintf(why, sizeof why, "called services a table of struct_size %zu lacks: %s",
             (size_t)ETL_HOST_SERVICES_MIN_SIZE, trapped);
    verdict("FAIL", rule, why);
  } else if (r.open_st != ETL_OK) {
    snprintf(why, sizeof why, "open() returned %s", etl_status_name(r.open_st));
    verdict("FAIL", rule, why);
  } else if (r.end_st != ETL_DONE) {
    snprintf(why, sizeof why, "next_entity() ended with %s after %ld entities",
             etl_status_name(r.end_st), r.entities);
    verdict("FAIL", rule, why);
  } else {
    snprintf(why, sizeof why, "%ld entities", r.entities);
    printf("PASS %s (%s)\n", rule, why);
  }
}

/* Under a host of another major: the descriptor still comes back, open() refuses (with this
 * config and a nonsense one), and no service is called, diag included. */
static void check_other_major(const char *config) {
  const char *rule = "other-major";
  char why[256];
  const struct etl_plugin *d;
  trapped[0] = '\0';
  void *lib = load(&other_major, &d, why, sizeof why);
  if (!lib) {
    verdict("FAIL", rule, why);
    return;
  }
  const char *configs[] = {config ? config : "{}", "{\"nonsense\": 1}"};
  for (size_t i = 0; i < 2; i++) {
    struct etl_open_args args = open_args(&other_major, configs[i]);
    void *inst = NULL;
    etl_status st = d->open(&args, &inst);
    if (st >= 0 || inst) {
      snprintf(why, sizeof why, "open() under ABI major %d returned %s%s%s", ETL_ABI_MAJOR + 1,
               etl_status_name(st), trapped[0] ? " and called " : "", trapped);
      verdict("FAIL", rule, why);
      if (st == ETL_OK)
        d->close(inst);
      dlclose(lib);
      return;
    }
  }
  if (trapped[0]) {
    snprintf(why, sizeof why, "called services of a host of major %d: %s", ETL_ABI_MAJOR + 1,
             trapped);
    verdict("FAIL", rule, why);
  } else {
    verdict("PASS", rule, NULL);
  }
  dlclose(lib);
}

/* The same entities under LC_ALL=de_DE.UTF-8 (decimal comma) as under C. */
static void check_locale(const struct etl_plugin *d, const char *config) {
  const char *rule = "locale";
  char why[256];
  const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", NULL};
  const char *got = NULL;
  setlocale(LC_ALL, "C");
  struct drive c = drive_all(d, &full, config);
  /* The name we asked for, not setlocale's answer, which the next setlocale overwrites. */
  for (size_t i = 0; names[i] && !got; i++)
    if (setlocale(LC_ALL, names[i]))
      got = names[i];
  if (!got) {
    verdict("SKIP", rule, "the de_DE.UTF-8 locale is not installed");
    return;
  }
  struct drive de = drive_all(d, &full, config);
  setlocale(LC_ALL, "C");
  if (c.open_st != de.open_st || c.end_st != de.end_st || c.entities != de.entities ||
      c.hash != de.hash) {
    snprintf(why, sizeof why,
             "under C: open %s, %ld entities, end %s; under %s: open %s, %ld entities, end %s%s",
             etl_status_name(c.open_st), c.entities, etl_status_name(c.end_st), got,
             etl_status_name(de.open_st), de.entities, etl_status_name(de.end_st),
             c.entities == de.entities ? " (entities differ)" : "");
    verdict("FAIL", rule, why);
  } else {
    snprintf(why, sizeof why, "%ld identical entities", c.entities);
    printf("PASS %s (%s)\n", rule, why);
  }
}

/* One interrupted run: open, the first entity, then interrupt() from another thread -- after
 * `delay` seconds while this thread goes on calling next_entity (so a plugin blocked in a wait
 * must wake up), or at once and joined before the run goes on (delay 0: deterministic, for a
 * plugin too fast to be caught mid-run). Returns 1 with a verdict printed, 0 when the stream
 * ended before the interrupt arrived (try again with delay 0). */
static int interrupted_run(const struct etl_plugin *d, const char *config, double delay) {
  const char *rule = "interrupt";
  char why[256];
  struct etl_open_args args = open_args(&full, config);
  void *inst = NULL;
  etl_status st = d->open(&args, &inst);
  if (st != ETL_OK) {
    snprintf(why, sizeof why, "open() returned %s", etl_status_name(st));
    verdict("FAIL", rule, why);
    return 1;
  }
  const struct etl_entity *e;
  st = d->next_entity(inst, &e);
  if (st != ETL_OK) {
    d->close(inst);
    snprintf(why, sizeof why, "the run produced no entity to interrupt (%s)", etl_status_name(st));
    verdict("SKIP", rule, why);
    return 1;
  }
  struct interrupter it = {d, inst, delay, 0};
  pthread_t th;
  if (pthread_create(&th, NULL, interrupt_later, &it) != 0) {
    d->close(inst);
    verdict("SKIP", rule, "cannot start a thread");
    return 1;
  }
  if (delay <= 0)
    pthread_join(th, NULL);
  long n = 0;
  double limit = now_s() + delay + 30;
  while ((st = d->next_entity(inst, &e)) == ETL_OK && now_s() < limit)
    n++;
  double ended = now_s();
  if (delay > 0)
    pthread_join(th, NULL);
  d->close(inst);
  if (st == ETL_DONE && ended < it.sent_at)
    return 0;
  double took = ended - it.sent_at;
  if (st != ETL_ERR_CANCELLED) {
    snprintf(why, sizeof why, "after interrupt() the run went on to %s (%ld more entities)",
             etl_status_name(st), n);
    verdict("FAIL", rule, why);
  } else if (took > 1.0) {
    snprintf(why, sizeof why, "the run stopped %.1f s after interrupt()", took);
    verdict("FAIL", rule, why);
  } else {
    snprintf(why, sizeof why, "ETL_ERR_CANCELLED %.3f s after interrupt() %s, %ld more entities",
             took < 0 ? 0 : took, delay > 0 ? "mid-run" : "between calls", n);
    printf("PASS %s (%s)\n", rule, why);
  }
  return 1;
}

static void check_interrupt(const struct etl_plugin *d, const char *config) {
  if (!d->interrupt) {
    verdict("SKIP", "interrupt", "the descriptor has no interrupt() (optional)");
    return;
  }
  if (!interrupted_run(d, config, 0.2))
    (void)interrupted_run(d, config, 0);
}

static void check_reload(void) {
  const char *rule = "reload";
  char why[256];
  for (int i = 0; i < 20; i++) {
    const struct etl_plugin *d;
    void *lib = load(&full, &d, why, sizeof why);
    if (!lib) {
      char msg[320];
      snprintf(msg, sizeof msg, "load %d of 20: %s", i + 1, why);
      verdict("FAIL", rule, msg);
      return;
    }
    if (dlclose(lib) != 0) {
      snprintf(why, sizeof why, "dlclose %d of 20: %s", i + 1, dlerror());
      verdict("FAIL", rule, why);
      return;
    }
  }
  verdict("PASS", rule, "20 dlopen/dlclose cycles");
}

static int usage(void) {
  fprintf(stderr, "usage: etl-plugin-check PLUGIN.so [--config FILE] [--verbose]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *config_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
      config_file = argv[++i];
    else if (strcmp(argv[i], "--verbose") == 0)
      check_verbose = 1;
    else if (argv[i][0] != '-' && !plugin_path)
      plugin_path = argv[i];
    else
      return usage();
  }
  if (!plugin_path)
    return usage();
  char *config = NULL;
  if (config_file) {
    config = read_file(config_file);
    if (!config) {
      fprintf(stderr, "etl-plugin-check: cannot read the config %s\n", config_file);
      return 2;
    }
    if (!json_is_object(config, strlen(config))) {
      fprintf(stderr, "etl-plugin-check: %s is not a JSON object\n", config_file);
      free(config);
      return 2;
    }
  }
  /* A path without a slash would make dlopen search the library path, not the file named. */
  char *path = NULL;
  if (!strchr(plugin_path, '/')) {
    path = malloc(strlen(plugin_path) + 3);
    if (!path)
      return 2;
    strcpy(path, "./");
    strcat(path, plugin_path);
    plugin_path = path;
  }

  char why[512];
  void *lib = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(why, sizeof why, "%s", dlerror());
    verdict("FAIL", "dlopen", why);
    goto out;
  }
  verdict("PASS", "dlopen", "RTLD_NOW|RTLD_LOCAL");
  void *sym = dlsym(lib, ETL_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    verdict("FAIL", "entry-symbol",
            "no unmangled etl_plugin_entry exported (C++: define it with ETL_PLUGIN_DEFINE, "
            "which gives it C linkage; check -fvisibility and export lists)");
    dlclose(lib);
    goto out;
  }
  verdict("PASS", "entry-symbol", ETL_PLUGIN_ENTRY_SYMBOL);
  etl_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  const struct etl_plugin *d = entry(&minimal);
  if (!d) {
    verdict("FAIL", "descriptor", "etl_plugin_entry returned NULL under a 1.0 host");
    dlclose(lib);
    goto out;
  }
  if (!check_descriptor(d)) {
    dlclose(lib);
    goto out;
  }
  check_schema(d);
  if (config) {
    check_min_services(d, config);
    check_locale(d, config);
    check_interrupt(d, config);
  } else {
    verdict("SKIP", "min-services", "no --config given");
    verdict("SKIP", "locale", "no --config given");
    verdict("SKIP", "interrupt", "no --config given");
  }
  dlclose(lib);
  check_other_major(config);
  check_reload();

out:
  printf("%s: %d rule(s) failed\n", plugin_path, failures);
  free(config);
  free(path);
  return failures ? 1 : 0;
}
