"""``lexicraft users`` and ``lexicraft keys create --scope``: the keys they print are accepted
with the rights of their role and scope, and a disabled user's are refused."""

from __future__ import annotations

from pathlib import Path

from lexicraft.domain.users import Permission
from lexicraft.services.keys import check_key
from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import Database
from tests.cli.helpers import run_cli


def permissions(data_dir: Path, key: str) -> set[Permission] | None:
    """What ``key`` may do on ``data_dir``'s database (None: refused)."""
    database = Database(Settings(data_dir=data_dir).resolved_database_url)
    try:
        checked = check_key(database, key, None)
    finally:
        database.engine.dispose()
    return set(checked.actor.permissions) if checked.actor is not None else None


def test_users_and_scoped_keys(tmp_path: Path) -> None:
    created = run_cli("users", "create", "ana", "--role", "annotator", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    ana = created.stdout.strip()
    assert "created user ana (annotator)" in created.stderr and ana not in created.stderr
    assert permissions(tmp_path, ana) == {Permission.VIEW, Permission.LABEL, Permission.ANALYZE}

    default = run_cli("keys", "create", "--name", "ci", data_dir=tmp_path)
    assert default.returncode == 0, default.stderr
    assert permissions(tmp_path, default.stdout.strip()) == set(Permission)
    runtime = run_cli("keys", "create", "--name", "web", "--scope", "runtime", data_dir=tmp_path)
    assert permissions(tmp_path, runtime.stdout.strip()) == {Permission.ANALYZE}
    narrowed = run_cli("users", "add-key", "ana", "--scope", "runtime", data_dir=tmp_path)
    assert permissions(tmp_path, narrowed.stdout.strip()) == {Permission.ANALYZE}

    listed = run_cli("keys", "list", data_dir=tmp_path)
    rows = [line for line in listed.stdout.splitlines() if " web " in line or " ci " in line]
    assert any("runtime" in row and "(machine)" in row for row in rows), listed.stdout
    assert any("full" in row for row in rows), listed.stdout

    disabled = run_cli("users", "disable", "ana", data_dir=tmp_path)
    assert disabled.returncode == 0, disabled.stderr
    assert permissions(tmp_path, ana) is None
    assert "disabled" in run_cli("users", "list", data_dir=tmp_path).stdout
    assert run_cli("users", "enable", "ana", data_dir=tmp_path).returncode == 0
    assert permissions(tmp_path, ana) is not None


def test_bad_names_roles_and_scopes_are_refused(tmp_path: Path) -> None:
    bad_role = run_cli("users", "create", "bob", "--role", "boss", data_dir=tmp_path)
    assert bad_role.returncode == 1 and "role 'boss' is not valid" in bad_role.stderr
    bad_name = run_cli("users", "create", "bob/x", data_dir=tmp_path)
    assert bad_name.returncode == 1 and "user name 'bob/x' is not valid" in bad_name.stderr
    bad_scope = run_cli("keys", "create", "--scope", "root", data_dir=tmp_path)
    assert bad_scope.returncode == 1 and "scope 'root' is not valid" in bad_scope.stderr
    missing = run_cli("users", "disable", "nobody", data_dir=tmp_path)
    assert missing.returncode == 1 and "user 'nobody' was not found" in missing.stderr
