"""The records browser: list records by filters and keyset pages, one record's whole story,
owners' bulk actions (front of the queue, review, gold) and background jobs with progress."""
