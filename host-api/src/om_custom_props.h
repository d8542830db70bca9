/*
 * om_custom_props.h -- the dashboard custom properties of the metadata-rest sink: a Mode
 * report's freshness and activity (docs/entities.md, a dashboard record's `extension`) become
 * custom properties of OpenMetadata's dashboard type. OpenMetadata refuses an `extension` with a
 * property its type does not define ("Unknown custom field", CustomPropertyValidator), so the
 * properties are defined first, once per sink, and only when the user asked for it
 * (sink.config.customProperties: true): defining them changes the server's type system for
 * every user. Otherwise the sink says once that it left them out. One thread.
 */
#ifndef HOST_OM_CUSTOM_PROPS_H
#define HOST_OM_CUSTOM_PROPS_H

#include <stdbool.h>

struct host_log;
struct host_om_client;
struct host_om_custom_props;

/* wanted: sink.config.customProperties. Returns NULL on OOM; free with _free (NULL-safe, sets
 * *cp to NULL). */
struct host_om_custom_props *host_om_custom_props_new(bool wanted);
void host_om_custom_props_free(struct host_om_custom_props **cp);

/* Called before a window's dashboards are sent, with the client idle (it runs the client).
 * Returns true when their `extension` may be sent: the properties are defined on the dashboard
 * type (defining the missing ones on the first call). Returns false, after one line in the log,
 * when they were not asked for, or could not be defined (the server refused, or a property of
 * that name has another type): the dashboards then go without them. source names the log
 * line's source. */
bool host_om_custom_props_ready(struct host_om_custom_props *cp, struct host_om_client *client,
                                struct host_log *log, const char *source);

#endif
