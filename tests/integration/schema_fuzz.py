"""Schemathesis over a live server's ``/openapi.json``: generated requests, every answer checked.

For every operation the schema documents, Hypothesis draws requests from schemathesis'
strategies in three passes (the operation's documented examples, valid requests, and requests
that break the schema on purpose, where it has something to break) and each is sent over HTTP
to the server with its subscription key. Every response is checked against the document:
no 5xx, a documented status code, content type and headers, a body that matches its schema,
and a 4xx for every request that breaks the schema. The test suite (``test_schema_fuzz.py``)
and the reliability bench (``bench/reliability.py``) both run it.

Random names rarely hit anything that exists, so most valid requests would only ever meet a
404. A :class:`Targets` names real projects, deployments, models, jobs and files: a valid
case is *aimed* at them (an example always, a valid case two times in three: its path
parameters and the names inside its body are replaced), so job results, trained models and documents are generated answers
too. Writes (everything under the authoring and Studio APIs that is not a ``GET``) are only
aimed at a sacrificial project, so that the projects reads are aimed at stay as they were.
Job ids seen in ``Operation-Location`` headers join the targets as the run goes.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, load_all_checks, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

KEY_HEADER = "Ocp-Apim-Subscription-Key"

#: Body fields that name a resource, and the path parameter whose targets they take.
BODY_TARGETS = {
    "projectName": "project_name",
    "project-name": "project_name",
    "deploymentName": "deployment_name",
    "deployment-name": "deployment_name",
    "firstDeploymentName": "deployment_name",
    "secondDeploymentName": "deployment_name",
    "trainedModelLabel": "label",
}
#: Operations that change authoring state (aimed at the sacrificial project only): the
#: authoring, Studio and storage APIs, except reads.
WRITING_PREFIXES = ("/language/authoring/", "/language/lexicraft/")


# The checks every response goes through: schemathesis' own.
load_all_checks()
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    # A 2xx answered with the key is sent again without it, and with a wrong one: 401.
    openapi_checks.ignored_auth,
]


@dataclass
class Targets:
    """Real values for path parameters (by name) and the body fields of :data:`BODY_TARGETS`.

    ``reads`` serve operations that change nothing, ``writes`` the others; ``job_id`` lists
    grow with the job ids the run sees.
    """

    reads: dict[str, list[str]]
    writes: dict[str, list[str]]

    @classmethod
    def aimed_at(
        cls,
        projects: Sequence[str],
        sacrifice: str,
        container: str,
        location: str,
        *,
        deployments: Sequence[str] = ("production", "staging"),
        labels: Sequence[str] = ("m1", "m2"),
    ) -> Targets:
        """Reads aimed at ``projects`` (and the ``sacrifice``), writes only at the
        ``sacrifice`` project and its container; ``location`` is a document of ``container``."""
        names = {
            "deployment_name": list(deployments),
            "label": list(labels),
            "version": ["v3.2-preview.2", "v3.1-preview.ct.1"],
        }
        return cls(
            reads={
                **names,
                "project_name": [*projects, sacrifice],
                "container": [container],
                "location": [location],
            },
            writes={
                **names,
                "project_name": [sacrifice],
                "container": [sacrifice],
                "location": ["fuzz.txt", location],
            },
        )

    def for_operation(self, method: str, path: str) -> dict[str, list[str]]:
        """The targets of an operation."""
        writing = method.upper() != "GET" and path.startswith(WRITING_PREFIXES)
        return self.writes if writing else self.reads

    def add_job(self, location: str) -> None:
        """Remember the job id at the end of an ``Operation-Location`` path."""
        job_id = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
        for values in (self.reads.setdefault("job_id", []), self.writes.setdefault("job_id", [])):
            if job_id not in values:
                values.append(job_id)


@dataclass(frozen=True)
class Finding:
    """One failed check (or a request that got no answer)."""

    operation: str
    generation: str  # the pass: examples, positive or negative
    title: str
    status: int | None
    message: str
    reproduce: str


@dataclass
class FuzzReport:
    """What a run tried and found."""

    cases: int = 0
    server_errors: int = 0
    cases_per_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    #: (operation, pass: "examples", "positive" or "negative", status) → answers.
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    #: Operations whose key enforcement the ``ignored_auth`` check has seen.
    auth_verified: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def distinct_findings(self) -> dict[tuple[str, str, int | None], Finding]:
        """The first finding of each (operation, title, status)."""
        distinct: dict[tuple[str, str, int | None], Finding] = {}
        for finding in self.findings:
            distinct.setdefault((finding.operation, finding.title, finding.status), finding)
        return distinct

    def summary(self, limit: int = 30) -> str:
        """The distinct findings, one paragraph each (for an assertion message)."""
        lines = [f"{self.cases} cases, {self.server_errors} answered 5xx, findings:"]
        for (operation, title, status), finding in list(self.distinct_findings().items())[:limit]:
            lines.append(f"- {operation} [{finding.generation}] {title} (HTTP {status})")
            lines.append(f"    {finding.message.strip()[:400]}")
            lines.append(f"    {finding.reproduce[:400]}")
        return "\n".join(lines)


def _aim_body(body: Any, targets: Mapping[str, Sequence[str]], draw: Callable[..., Any]) -> None:
    """Replace, in place, every string under a :data:`BODY_TARGETS` key of ``body``."""
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                choices = targets.get(BODY_TARGETS.get(key, ""), [])
                if isinstance(item, str) and choices:
                    value[key] = draw(st.sampled_from(choices))
                else:
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


def _aim(case: schemathesis.Case, targets: Mapping[str, Sequence[str]], draw: Any) -> None:
    """Point a valid case at real resources: its path parameters and the names in its body."""
    for name in list(case.path_parameters or {}):
        choices = targets.get(name, [])
        if choices:
            case.path_parameters[name] = draw(st.sampled_from(choices))
    if isinstance(case.body, dict | list):
        _aim_body(case.body, targets, draw)


def fuzz(
    base_url: str,
    key: str,
    targets: Targets,
    *,
    examples: int,
    derandomize: bool = True,
    seed: int | None = None,
    operations: Iterable[str] | None = None,
    prepare: Callable[[str], None] | None = None,
    timeout_s: float = 60.0,
) -> FuzzReport:
    """Run up to ``examples`` valid and ``examples`` invalid cases per operation, and the
    operation's documented examples (aimed), each at most ``examples`` times.

    ``operations`` (labels such as ``"GET /metrics"``) limits the run; ``prepare(label)`` runs before each operation's cases (to restore what
    an earlier operation deleted). ``derandomize`` makes the draws the same on every run
    (CI); else ``seed`` fixes them, or nothing does.
    """
    headers = {KEY_HEADER: key}
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", headers=headers)
    chosen = set(operations) if operations is not None else None
    report = FuzzReport()
    started = time.perf_counter()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        if chosen is not None and label not in chosen:
            continue
        if prepare is not None:
            prepare(label)
        # The real key, fixed: a case whose only fault is a missing key says nothing (the
        # ``ignored_auth`` check sends every accepted request again without it, and with a
        # wrong one).
        passes: list[tuple[str, Any, float]] = [
            ("positive", operation.as_strategy(GenerationMode.POSITIVE, headers=headers), 2 / 3),
        ]
        if _negatable(operation, headers):
            # Aiming rewrites a case, which could make an invalid case valid: never aimed.
            passes.append(
                ("negative", operation.as_strategy(GenerationMode.NEGATIVE, headers=headers), 0.0)
            )
        documented = schema.get_strategies_from_examples(operation, headers=headers)
        if documented:
            passes.insert(0, ("examples", st.one_of(documented), 1.0))
        for name, strategy, aim in passes:
            run = _runner(
                operation, name, strategy, aim, targets, report, base_url, session,
                headers, timeout_s,
            )  # fmt: skip
            configured = settings(
                max_examples=examples,
                deadline=None,
                derandomize=derandomize,
                database=None,
                # No shrinking: every failure is recorded as it was found, not minimised.
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
                print_blob=False,
            )(run)
            if seed is not None and not derandomize:
                configured = hypothesis.seed(seed)(configured)
            # Unsatisfiable: nothing to negate (an operation without parameters or body).
            with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                configured()
    report.seconds = time.perf_counter() - started
    session.close()
    return report


#: Keywords of a parameter's schema that constrain nothing (a path parameter with only these
#: and ``type: string`` takes any string).
_ANNOTATIONS = {"type", "title", "description", "example", "examples", "default", "deprecated"}


def _negatable(operation: Any, fixed_headers: Mapping[str, str]) -> bool:
    """Whether a request can break the operation's schema: it has a body that can be broken, a
    query or cookie parameter, a header other than the ``fixed_headers`` sent as given, or a
    path parameter with a constraint (any string is a plain string path parameter).

    Hypothesis finds out for itself, but only after some 460 failed draws (a second or two per
    operation, a sixth of the run when a quarter of the operations are such reads).
    """
    if operation.body and any(item.is_negatable for item in operation.body.items):
        return True
    fixed = {name.lower() for name in fixed_headers}
    for parameter in operation.iter_parameters():
        location = str(parameter.location.value)
        if location in ("query", "cookie"):
            return True
        if location == "header" and parameter.name.lower() not in fixed:
            return True
        schema = parameter.definition.get("schema", {})
        if location == "path" and (schema.get("type") != "string" or set(schema) - _ANNOTATIONS):
            return True
    return False


def _runner(
    operation: Any,
    name: str,
    strategy: Any,
    aim: float,
    targets: Targets,
    report: FuzzReport,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    timeout_s: float,
) -> Callable[..., None]:
    """The Hypothesis test of one pass (``name``) over one operation: ``aim`` is the share
    of its cases pointed at :class:`Targets`."""
    aimed = targets.for_operation(operation.method, operation.path)
    # Only an operation with something to aim at draws whether to: a draw is entropy, and a
    # case that differs only in an unused draw would be the same request counted twice.
    aimable = operation.body or any(
        parameter.name in aimed for parameter in operation.path_parameters
    )

    @given(case=strategy, data=st.data())
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        if aimable and (aim >= 1 or (aim > 0 and data.draw(st.floats(0, 1), label="aim") < aim)):
            _aim(case, aimed, data.draw)
        report.cases += 1
        report.cases_per_operation[operation.label] += 1
        try:
            response = case.call(base_url=base_url, session=session, timeout=timeout_s)
        except requests.RequestException as error:
            report.findings.append(
                Finding(operation.label, name, "no answer", None, repr(error), "")
            )
            return
        report.statuses[response.status_code] += 1
        report.answers[operation.label, name, response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors += 1
        location = response.headers.get("Operation-Location")
        if response.status_code == 202 and location:
            targets.add_job(location)
        # ``ignored_auth`` sends two more requests per 2xx answer; once per operation proves
        # that its key is enforced.
        verified = operation.label in report.auth_verified
        if 200 <= response.status_code < 300:
            report.auth_verified.add(operation.label)
        try:
            case.validate_response(
                response,
                checks=[c for c in CHECKS if not (verified and c is openapi_checks.ignored_auth)],
                headers=headers,
                transport_kwargs={"base_url": base_url, "session": session},
            )
        except FailureGroup as group:
            reproduce = case.as_curl_command()
            for failure in group.exceptions:
                report.findings.append(
                    Finding(
                        operation.label,
                        name,
                        failure.title,
                        response.status_code,
                        failure.message,
                        reproduce,
                    )
                )

    return run
