# tests/bench: rules for this area (owned by its module).
