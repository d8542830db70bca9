# host-api: rules for this area (owned by its module).
