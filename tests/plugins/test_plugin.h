/*
 * test_plugin.h -- what the test plugins (fake.c, rude.c) share: their descriptor and entry
 * point, and an entity made of borrowed strings. Header-only: each plugin is its own module.
 */
#ifndef TESTS_PLUGINS_TEST_PLUGIN_H
#define TESTS_PLUGINS_TEST_PLUGIN_H

#include <etl/plugin.h>

#include <string.h>

/* Points *e at an entity of kind `kind`, id `id` and JSON `json` (borrowed: they must live until
 * the plugin's next call, as <etl/plugin.h> asks of the entity itself). */
static inline void test_plugin_entity(struct etl_entity *e, const char *kind, const char *id,
                                      const char *json) {
  *e = (struct etl_entity){.struct_size = sizeof *e,
                           .kind = kind,
                           .id = id,
                           .json = json,
                           .json_len = strlen(json)};
}

/* The descriptor of test plugin `sym` (this ABI, a schema that takes any object) with the
 * members given (.name, .version, .description, the callbacks), and its entry point. */
#define TEST_PLUGIN_DEFINE(sym, ...)                                                               \
  static const struct etl_plugin test_plugin_descriptor = {                                        \
      .struct_size = sizeof(struct etl_plugin),                                                    \
      .abi_major = ETL_ABI_MAJOR,                                                                  \
      .abi_minor = ETL_ABI_MINOR,                                                                  \
      .config_schema = "{\"type\": \"object\"}",                                                   \
      __VA_ARGS__};                                                                                \
  ETL_PLUGIN_DEFINE(sym)(const struct etl_host_services *services) {                               \
    (void)services;                                                                                \
    return &test_plugin_descriptor;                                                                \
  }

#endif
