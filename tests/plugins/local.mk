# tests/plugins: rules for this area (owned by its module).
