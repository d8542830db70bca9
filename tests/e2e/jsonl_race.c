/*
 * jsonl_race.c -- jsonl's interrupt() from another thread while next_entity runs, for
 * ThreadSanitizer (tests/e2e/test_jsonl_tsan.sh builds it and plugin/jsonl/jsonl.c with
 * -fsanitize=thread -DETL_PLUGIN_STATIC). The flag interrupt() sets must be an atomic: a
 * `volatile sig_atomic_t` written here and read by the driving thread is a data race, which
 * TSan reports (exit 66). Usage: jsonl_race FILE.jsonl
 */
#include <etl/plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const struct etl_plugin *jsonl_LTX_etl_plugin_entry(const struct etl_host_services *);

static void quiet_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                       const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
}

static void no_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run, (void)c, (void)delta;
}

static int never_cancelled(struct etl_run *run) {
  (void)run;
  return 0; /* interrupt() is the only way to stop */
}

static const struct etl_host_services services = {
    .struct_size = sizeof services,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = quiet_diag,
    .count = no_count,
    .cancelled = never_cancelled,
};

static const struct etl_plugin *desc;

static void *interrupter(void *instance) {
  desc->interrupt(instance);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  char cfg[4200];
  snprintf(cfg, sizeof cfg, "{\"path\": \"%s\"}", argv[1]);
  desc = jsonl_LTX_etl_plugin_entry(&services);
  struct etl_open_args args = {.struct_size = sizeof args,
                               .services = &services,
                               .source_name = "race",
                               .config_json = cfg,
                               .config_json_len = strlen(cfg),
                               .source_config_json = "{}",
                               .source_config_json_len = 2};
  void *inst = NULL;
  if (desc->open(&args, &inst) != ETL_OK)
    return 2;
  pthread_t t;
  pthread_create(&t, NULL, interrupter, inst);
  const struct etl_entity *e;
  long n = 0;
  etl_status st;
  while ((st = desc->next_entity(inst, &e)) == ETL_OK)
    n++;
  pthread_join(t, NULL);
  desc->close(inst);
  printf("%ld entities, %s\n", n, etl_status_name(st));
  return st == ETL_ERR_CANCELLED || st == ETL_DONE ? 0 : 1;
}
