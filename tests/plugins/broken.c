/*
 * broken.c -- deliberately broken plugins for the loader's tests, one per build flag:
 *   BROKEN_WRONG_MAJOR      a descriptor of ABI major ETL_ABI_MAJOR + 1
 *   BROKEN_SHORT            a descriptor whose struct_size stops before `close`
 *   BROKEN_NULL_CALLBACKS   a descriptor without next_entity
 *   BROKEN_NO_ENTRY         a library that exports something, but not the entry symbol
 * Each is built as its own module (tests/plugins/local.mk).
 */
#include "config.h"

#include <etl/plugin.h>

#include <stddef.h>

static etl_status broken_open(const struct etl_open_args *args, void **instance) {
  (void)args;
  *instance = NULL;
  return ETL_ERR_CONFIG;
}
__attribute__((unused)) static etl_status broken_next(void *instance,
                                                      const struct etl_entity **out) {
  (void)instance;
  *out = NULL;
  return ETL_DONE;
}
static void broken_close(void *instance) {
  (void)instance;
}

#if defined(BROKEN_WRONG_MAJOR)
#define BROKEN_NAME "wrong_major"
#define BROKEN_MAJOR (ETL_ABI_MAJOR + 1)
#define BROKEN_MINOR 3
#define BROKEN_SIZE sizeof(struct etl_plugin)
#define BROKEN_NEXT broken_next
#elif defined(BROKEN_SHORT)
#define BROKEN_NAME "short_desc"
#define BROKEN_SIZE offsetof(struct etl_plugin, next_entity)
#define BROKEN_NEXT broken_next
#elif defined(BROKEN_NULL_CALLBACKS)
#define BROKEN_NAME "null_callbacks"
#define BROKEN_NEXT NULL
#else
#define BROKEN_NAME "no_entry"
#define BROKEN_NEXT broken_next
#endif
#ifndef BROKEN_MAJOR
#define BROKEN_MAJOR ETL_ABI_MAJOR
#define BROKEN_MINOR ETL_ABI_MINOR
#endif
#ifndef BROKEN_SIZE
#define BROKEN_SIZE sizeof(struct etl_plugin)
#endif

static const struct etl_plugin descriptor = {
    .struct_size = BROKEN_SIZE,
    .abi_major = BROKEN_MAJOR,
    .abi_minor = BROKEN_MINOR,
    .name = BROKEN_NAME,
    .version = "0.0.1",
    .description = "a deliberately broken plugin",
    .config_schema = "{}",
    .open = broken_open,
    .next_entity = BROKEN_NEXT,
    .close = broken_close,
};

#if defined(BROKEN_NO_ENTRY)
/* Looks like an entry function, under the wrong name. */
ETL_EXPORT const struct etl_plugin *not_the_entry(void);
ETL_EXPORT const struct etl_plugin *not_the_entry(void) {
  return &descriptor;
}
#else
ETL_PLUGIN_DEFINE(broken)(const struct etl_host_services *services) {
  (void)services;
  return &descriptor;
}
#endif
