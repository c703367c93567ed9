"""The ready-made studies of ``configs/studies/`` and ``docs/studies.md``, written from their
results (one module per study holds its question and answer, :mod:`.catalogue` lists them,
:mod:`.measure` the numbers, :mod:`.document` the page; ``python -m nnlab.studies`` or ``make studies`` runs them)."""
