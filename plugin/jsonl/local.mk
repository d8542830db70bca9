# plugin/jsonl: rules for this area (owned by its module).
