"""Common training templates, one module per use case."""
