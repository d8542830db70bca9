# tests/mode-sim: rules for this area (owned by its module).
