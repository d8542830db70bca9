/*
 * fuzz_jsonl.c -- libFuzzer target for the jsonl replay source (plugin/jsonl/jsonl.c), driven
 * through the plugin ABI as the host drives it: the bytes are written to a temporary file,
 * the plugin is opened on it and next_entity is called until it is done or fails. jsonl.c is
 * compiled in with -DETL_PLUGIN_STATIC, as tests/unit/test_static_plugins.c does. Any crash,
 * leak or sanitizer report is a bug.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <etl/plugin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const struct etl_plugin *jsonl_LTX_etl_plugin_entry(const struct etl_host_services *);

static void on_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                    const char *message) {
  (void)run, (void)sev, (void)flags;
  if (item)
    (void)strlen(item);
  (void)strlen(message);
}

static void on_count(struct etl_run *run, enum etl_counter counter, int64_t delta) {
  (void)run, (void)counter, (void)delta;
}

static int not_cancelled(struct etl_run *run) {
  (void)run;
  return 0;
}

static const struct etl_host_services services = {
    .struct_size = sizeof services,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = on_diag,
    .count = on_count,
    .cancelled = not_cancelled,
};

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0])
    snprintf(path, sizeof path, "/tmp/fuzz-jsonl-%ld.jsonl", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  size_t w = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || w != size)
    return 0;
  const struct etl_plugin *p = jsonl_LTX_etl_plugin_entry(&services);
  char config[128];
  int n = snprintf(config, sizeof config, "{\"path\": \"%s\"}", path);
  struct etl_open_args args = {.struct_size = sizeof args,
                               .services = &services,
                               .source_name = "fuzz",
                               .config_json = config,
                               .config_json_len = (size_t)n,
                               .source_config_json = "{}",
                               .source_config_json_len = 2};
  void *inst = NULL;
  if (p && p->open(&args, &inst) == ETL_OK) {
    const struct etl_entity *e = NULL;
    /* Bounded: each call must consume input or end, so more calls than bytes is a hang. */
    for (size_t k = 0; k <= size + 1 && p->next_entity(inst, &e) == ETL_OK; k++) {
      (void)strlen(e->kind);
      (void)strlen(e->id);
      if (e->json_len)
        (void)((volatile const char *)e->json)[e->json_len - 1];
    }
    p->close(inst);
  }
  unlink(path);
  return 0;
}
