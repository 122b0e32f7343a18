"""Pure domain values and rules: tags, units, quantities, enums. No database, no Qt."""
