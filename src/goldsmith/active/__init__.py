"""Active learning: query strategies, the stopping rule, and the label-savings simulator."""
