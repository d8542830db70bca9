# tests/e2e: rules for this area (owned by its module).
