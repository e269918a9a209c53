"""The pipeline: taking files into jobs and carrying each job through every stage.

- ``intake``: the intake journal, durable moves, opening each file at take, recovery
- ``pages``: cleaning and recognizing pages in the worker pool as soon as they are taken
- ``layout``: the dossier's documents from the grouping and the clerk's edits
- ``run``: the orchestrator and its steps; it alone moves a job's state
- ``filing``: the signed dossier into the archive folder and the catalog
- ``states``: ``JobState``, its Vietnamese labels and allowed moves
- ``job``: the job folder and the typed values saved in it

Only this package touches the catalog's job rows, the work folders and the
process pool; the stages are plain functions of their inputs.
"""

from __future__ import annotations

from scanner.pipeline.job import DocumentOutcome, Edit, Edits, JobFolder, JobOutcome, Sidecar, TakeResult
from scanner.pipeline.run import Pipeline, make_pool
from scanner.pipeline.states import JobState

__all__ = [
    "DocumentOutcome",
    "Edit",
    "Edits",
    "JobFolder",
    "JobOutcome",
    "JobState",
    "Pipeline",
    "Sidecar",
    "TakeResult",
    "make_pool",
]
