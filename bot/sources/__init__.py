"""Everything that arrives from another system, one package per source."""
