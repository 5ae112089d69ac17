"""Which use case runs each job kind (the table the workers are built with)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from lexicraft.domain.jobs import JobKind, JobOutcome
from lexicraft.services import analysis, deployments, projects, training
from lexicraft.services.context import ServiceContext
from lexicraft.services.job_context import JobContext

JobWork = Callable[[ServiceContext, JobContext], JobOutcome]

#: The use case that runs each job kind.
JOB_WORK: Mapping[JobKind, JobWork] = MappingProxyType(
    {
        JobKind.ANALYZE: analysis.run_analysis,
        JobKind.IMPORT: projects.run_import,
        JobKind.EXPORT: projects.run_export,
        JobKind.DELETE_PROJECT: projects.run_delete,
        JobKind.TRAIN: training.run_training,
        JobKind.DEPLOY: deployments.run_deploy,
        JobKind.DELETE_DEPLOYMENT: deployments.run_delete,
        JobKind.SWAP: deployments.run_swap,
    }
)
