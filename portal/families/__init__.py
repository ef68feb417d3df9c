"""Families as staff see them: search by name, email, phone or student, one family's whole
account on one page, and resending a guardian's invitation. Reads and writes over
``portal.accounts``, ``portal.enrollment``, ``portal.requests`` and ``portal.billing``; no
models of its own."""
