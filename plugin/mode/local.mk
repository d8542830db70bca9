# plugin/mode: rules for this area (owned by its module).
