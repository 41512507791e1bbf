"""Chinese text handling for the NLU pipeline."""
