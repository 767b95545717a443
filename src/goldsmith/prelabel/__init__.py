"""Prelabeling: embedders, the in-the-loop classifier, calibration, and the LLM client."""
