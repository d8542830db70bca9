/*
 * Mode's response bodies as JSON templates (templates.c). A string value "${name}" is replaced
 * by a typed value and "${name}" inside a longer string is interpolated; see tpl.h.
 */
#ifndef SIM_TEMPLATES_H
#define SIM_TEMPLATES_H

extern const char sim_tpl_verify[];
extern const char sim_tpl_user[];
extern const char sim_tpl_space[];
extern const char sim_tpl_report[];
extern const char sim_tpl_dataset_item[];
extern const char sim_tpl_dataset[];
extern const char sim_tpl_query[];
extern const char sim_tpl_dataset_query[];
extern const char sim_tpl_chart[];
extern const char sim_tpl_view_vegas[];
extern const char sim_tpl_data_source[];
extern const char sim_tpl_definition[];
/* Hand-written for endpoints the recordings lack (shapes from Mode's API reference). */
extern const char sim_tpl_workspace[];
extern const char sim_tpl_membership[];
extern const char sim_tpl_run[];
extern const char sim_tpl_query_run[];
extern const char sim_tpl_view_v1[];

#endif
