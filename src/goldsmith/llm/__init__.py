"""LLM plumbing below every stage.

The OpenAI-compatible client, cache, budget, structured output, prompts and confidence.
"""
