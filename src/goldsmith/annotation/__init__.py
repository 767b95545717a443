"""Handing records to annotators and taking their answers: the queue, leases and drafts."""
