"""Import: readers for tabular and interop formats, field mapping, the transactional pipeline."""
