/*
 * loader.h -- finds plugins by name and loads them with libltdl, negotiating the ABI.
 *
 * Search order: the --plugin-dir directory, then each directory of ETL_PLUGIN_PATH
 * (colon-separated), then the compiled-in plugin directory (HOST_PLUGINDIR). A plugin `NAME`
 * is the file NAME.so (or NAME.la) in one of them; the first hit wins.
 *
 * Each failure has its own message: no such plugin (listing the directories searched), a file
 * without the entry symbol (lt_dlerror() and the path), another ABI major (both versions), a
 * malformed descriptor (which member is wrong). libltdl is not thread-safe: every call into it
 * goes through one mutex.
 */
#ifndef HOST_LOADER_H
#define HOST_LOADER_H

#include <etl/plugin.h>

struct host_log;
struct host_loader;

/* A loaded plugin. Owned by the loader; valid until host_loader_free. */
struct host_plugin {
  char *name;                    /* the name asked for */
  char *path;                    /* the file it came from */
  const struct etl_plugin *desc; /* the plugin's descriptor (owned by the plugin) */
};

/* Creates a loader. plugin_dir (may be NULL) is --plugin-dir; services is the table handed to
 * every entry function (borrowed: must outlive the loader). Returns NULL on OOM or when libltdl
 * cannot start (logged). */
struct host_loader *host_loader_new(const char *plugin_dir,
                                    const struct etl_host_services *services, struct host_log *log);

/* Loads plugin `name` (a source's type) once and returns it in *out (owned by the loader).
 * Returns ETL_OK, or ETL_ERR_CONFIG after logging why it cannot be used. */
etl_status host_loader_load(struct host_loader *loader, const char *name,
                            const struct host_plugin **out);

/* Calls fn for every plugin file in the search path, in search order, the first of each name
 * only. `plugin` is NULL when the file could not be loaded; `error` then says why (and is NULL
 * otherwise). Returns the number of files seen. */
typedef void (*host_loader_visit_fn)(void *ctx, const char *file, const struct host_plugin *plugin,
                                     const char *error);
size_t host_loader_each(struct host_loader *loader, host_loader_visit_fn fn, void *ctx);

/* The directories searched, in order, joined with ", " (static buffer in the loader). */
const char *host_loader_dirs(const struct host_loader *loader);

/* Unloads every plugin and frees the loader; NULL-safe; sets *loader to NULL. */
void host_loader_free(struct host_loader **loader);

#endif
