"""Train and evaluate models on the project's labels (see the modules)."""
