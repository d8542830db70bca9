# tests/om-sim: rules for this area (owned by its module).
