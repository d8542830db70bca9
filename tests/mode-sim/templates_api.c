/*
 * Templates of the endpoints the recordings lack: the workspace, memberships, report runs and
 * query runs, the v1 chart view. Their keys follow Mode's API reference (mode.com/developer);
 * link forms follow the recorded bodies (relative "/api/..." hrefs, {"href"} objects).
 */
#include "config.h"

#include "templates.h"

const char sim_tpl_workspace[] =
    "{\"username\":\"${ws}\",\"name\":\"${ws_name}\",\"id\":\"${account_id}\","
    "\"token\":\"${workspace_token}\",\"user\":false,\"plan_code\":\"enterprise\","
    "\"created_at\":\"${created_at}\",\"members_count\":\"${members_count}\","
    "\"_links\":{\"self\":{\"href\":\"/api/${ws}\"},\"web\":{\"href\":\"/${ws}\"},"
    "\"memberships\":{\"href\":\"/api/${ws}/memberships\"},"
    "\"spaces\":{\"href\":\"/api/${ws}/spaces\"},"
    "\"data_sources\":{\"href\":\"/api/${ws}/data_sources\"},"
    "\"definitions\":{\"href\":\"/api/${ws}/definitions\"}}}";

/* The Workspace Membership object of Mode's API reference (mode.com/developer/api-reference/
 * management/workspace-memberships): admin, invited, state, member_username, member_token,
 * activated_at, managed_by_scim and the links it names; no name and no email. */
const char sim_tpl_membership[] =
    "{\"admin\":\"${admin}\",\"invited\":false,\"state\":\"active\","
    "\"member_username\":\"${username}\",\"member_token\":\"${user_token}\","
    "\"activated_at\":\"${created_at}\",\"managed_by_scim\":false,"
    "\"_links\":{\"self\":{\"href\":\"/api/${ws}/memberships/${user_token}\"},"
    "\"groups\":{\"href\":\"/api/${ws}/memberships/${user_token}/groups\"},"
    "\"organization\":{\"href\":\"/api/${ws}\"},"
    "\"user\":{\"href\":\"/api/${username}\"},"
    "\"web_self\":{\"href\":\"/organizations/${ws}/members/${username}\"}}}";

const char sim_tpl_run[] =
    "{\"token\":\"${run}\",\"state\":\"succeeded\",\"parameters\":{},\"form_fields\":[],"
    "\"created_at\":\"${created_at}\",\"updated_at\":\"${updated_at}\","
    "\"completed_at\":\"${updated_at}\",\"purge_started_at\":null,\"purge_completed_at\":null,"
    "\"python_state\":\"none\",\"is_latest_report_run\":true,"
    "\"is_latest_successful_report_run\":true,\"report_has_python\":false,"
    "\"_links\":{\"self\":{\"href\":\"/api/${ws}/reports/${report}/runs/${run}\"},"
    "\"report\":{\"href\":\"/api/${ws}/reports/${report}\"},"
    "\"query_runs\":{\"href\":\"/api/${ws}/reports/${report}/runs/${run}/query_runs\"},"
    "\"web_report\":{\"href\":\"/${ws}/reports/${report}/runs/${run}\"},"
    "\"executed_by\":{\"href\":\"/api/${creator}\"}}}";

const char sim_tpl_query_run[] =
    "{\"token\":\"${query_run}\",\"state\":\"succeeded\",\"raw_source\":\"${raw_query}\","
    "\"rendered_source\":\"${rendered_source}\",\"data_source_id\":\"${data_source_id}\","
    "\"query_token\":\"${query}\",\"query_name\":\"${name}\",\"limit\":true,"
    "\"created_at\":\"${created_at}\",\"completed_at\":\"${updated_at}\","
    "\"_links\":{\"self\":{\"href\":\"/api/${ws}/reports/${report}/runs/${run}/query_runs/"
    "${query_run}\"},"
    "\"report_run\":{\"href\":\"/api/${ws}/reports/${report}/runs/${run}\"},"
    "\"query\":{\"href\":\"/api/${ws}/reports/${report}/queries/${query}\"},"
    "\"result\":{\"href\":\"/api/${ws}/reports/${report}/runs/${run}/query_runs/${query_run}/"
    "results\"}}}";

/* Charts saved before Mode's v2 (vega) charts: view_version 1, type in view.selectedChart. */
const char sim_tpl_view_v1[] =
    "{\"selectedChart\":\"${chart_type}\",\"chartTitle\":\"${title}\",\"chartDescription\":null,"
    "\"x\":{\"column\":\"${field}\"},\"y\":{\"columns\":[\"total\"]},\"hideLegend\":false}";
