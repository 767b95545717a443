"""Quality: consensus over responses and gold sets (agreement and review come later)."""
