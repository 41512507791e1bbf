"""Action server package: one module per capability."""
