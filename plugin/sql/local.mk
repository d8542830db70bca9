# plugin/sql: rules for this area (owned by its module).
