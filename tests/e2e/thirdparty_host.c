/*
 * thirdparty_host.c -- a host that is not etlhost: it includes only <etl/plugin.h>, loads a
 * plugin with plain dlopen(), and runs it end to end. It proves that the header is the whole
 * contract, and doubles as a small tool for plugin authors:
 *
 *   thirdparty_host [--name NAME] [--state FILE] [--source-config FILE] [--test] PLUGIN.so
 * CONFIG.json
 *
 * prints each entity as one line on stdout, in the file sink's shape
 *   {"kind": ..., "id": ..., "source": NAME, <the entity's members>}
 * and a `state` entity as `# state {...}`. Diagnostics go to stderr. Exit status: 0 done,
 * 1 some items lost, 2 config or loading error, 3 auth/connection failure, 4 other failure.
 */
#include <etl/plugin.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct etl_run {
  const char *name;
  long lost, warnings;
};

static volatile sig_atomic_t stop;

static void on_sigint(int sig) {
  (void)sig;
  stop = 1;
}

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
  if (flags & ETL_DIAG_ITEM_LOST)
    run->lost++;
  if (sev == ETL_SEV_WARNING)
    run->warnings++;
  fprintf(stderr, "%s: %s: %s%s%s\n", run->name, severity_word(sev), item ? item : "",
          item ? ": " : "", message ? message : "");
}

static void host_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run;
  (void)c;
  (void)delta;
}

static int host_cancelled(struct etl_run *run) {
  (void)run;
  return stop != 0;
}

static void host_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                           const char *message) {
  static const char *const words[] = {"PASS", "FAIL", "SKIP"};
  printf("%s: %s %s: %s\n", run->name, v <= ETL_TEST_SKIP ? words[v] : "?", step ? step : "",
         message ? message : "");
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

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      char *grown = realloc(buf, cap = (cap + 4096) * 2);
      if (!grown) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Prints s as a JSON string (the only JSON this host writes itself). */
static void print_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

/* One entity as a line: kind, id, source, then the members of its JSON object. */
static void print_entity(const struct etl_entity *e, const char *source) {
  if (strcmp(e->kind, "state") == 0) {
    printf("# state %.*s\n", (int)e->json_len, e->json);
    return;
  }
  fputs("{\"kind\":", stdout);
  print_json_string(e->kind);
  fputs(",\"id\":", stdout);
  print_json_string(e->id);
  fputs(",\"source\":", stdout);
  print_json_string(source);
  size_t i = 0, end = e->json_len;
  while (i < end && e->json[i] != '{')
    i++;
  while (end > i && e->json[end - 1] != '}')
    end--;
  size_t j = i + 1;
  while (j + 1 < end && (e->json[j] == ' ' || e->json[j] == '\n' || e->json[j] == '\t'))
    j++;
  if (j + 1 < end) /* a non-empty object: splice its members in */
    printf(",%.*s", (int)(end - j), e->json + j);
  else
    putchar('}');
  putchar('\n');
}

static int exit_for(etl_status st) {
  switch (st) {
  case ETL_ERR_CONFIG:
    return 2;
  case ETL_ERR_AUTH:
  case ETL_ERR_CONNECT:
    return 3;
  default:
    return 4;
  }
}

int main(int argc, char **argv) {
  const char *name = "thirdparty", *state_path = NULL, *sc_path = NULL;
  int test_only = 0, argi = 1;
  for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
    if (strcmp(argv[argi], "--test") == 0)
      test_only = 1;
    else if (strcmp(argv[argi], "--name") == 0 && argi + 1 < argc)
      name = argv[++argi];
    else if (strcmp(argv[argi], "--state") == 0 && argi + 1 < argc)
      state_path = argv[++argi];
    else if (strcmp(argv[argi], "--source-config") == 0 && argi + 1 < argc)
      sc_path = argv[++argi];
    else
      break;
  }
  if (argc - argi != 2) {
    fprintf(stderr,
            "usage: %s [--name NAME] [--state FILE] [--source-config FILE] [--test] "
            "PLUGIN.so CONFIG.json\n",
            argv[0]);
    return 2;
  }
  int rc = 2;
  size_t cfg_len = 0, sc_len = 2, state_len = 0;
  char *cfg = slurp(argv[argi + 1], &cfg_len);
  char *sc = sc_path ? slurp(sc_path, &sc_len) : NULL;
  char *state = state_path ? slurp(state_path, &state_len) : NULL;
  if (!cfg || (sc_path && !sc) || (state_path && !state)) {
    fprintf(stderr, "cannot read a config or state file\n");
    goto out_files;
  }
  void *lib = dlopen(argv[argi], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    goto out_files;
  }
  etl_plugin_entry_fn entry;
  void *sym = dlsym(lib, ETL_PLUGIN_ENTRY_SYMBOL);
  memcpy(&entry, &sym, sizeof entry); /* POSIX: object pointers convert to function pointers */
  const struct etl_plugin *p = sym ? entry(&services) : NULL;
  if (!p || p->struct_size < offsetof(struct etl_plugin, close) + sizeof p->close ||
      p->abi_major != ETL_ABI_MAJOR || !p->open || !p->next_entity || !p->close) {
    fprintf(stderr, "%s: not a usable ABI %d plugin\n", argv[argi], ETL_ABI_MAJOR);
    goto out_lib;
  }
  signal(SIGINT, on_sigint);
  struct etl_run run = {.name = name};
  struct etl_open_args args = {
      .struct_size = sizeof args,
      .run = &run,
      .services = &services,
      .source_name = name,
      .config_json = cfg,
      .config_json_len = cfg_len,
      .source_config_json = sc ? sc : "{}",
      .source_config_json_len = sc_len,
      .state_json = state,
      .state_json_len = state_len,
  };
  void *inst = NULL;
  etl_status st = p->open(&args, &inst);
  if (st != ETL_OK) {
    rc = exit_for(st);
    goto out_lib;
  }
  if (test_only) {
    st = p->test ? p->test(inst) : ETL_OK;
  } else {
    const struct etl_entity *e = NULL;
    while ((st = p->next_entity(inst, &e)) == ETL_OK)
      print_entity(e, name);
  }
  p->close(inst);
  if (st == ETL_DONE || (test_only && st == ETL_OK))
    rc = run.lost ? 1 : 0;
  else
    rc = exit_for(st);
  fprintf(stderr, "%s: %s %s: %s, %ld lost, %ld warnings\n", name, p->name,
          p->version ? p->version : "", etl_status_name(st), run.lost, run.warnings);
out_lib:
  dlclose(lib);
out_files:
  free(cfg);
  free(sc);
  free(state);
  return rc;
}
