"""Shared models below every stage: embedders, the in-loop classifier, calibrators, vectors."""
