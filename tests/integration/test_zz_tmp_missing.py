from pathlib import Path
import tests.integration.test_authoring_sdk as m

def test_missing(monkeypatch):
    monkeypatch.setattr(m, "CLIENT_VENV", m.REPO_ROOT / ".venv-clients" / "nope")
    monkeypatch.setattr(m, "CLIENT_PYTHON", m.REPO_ROOT / ".venv-clients" / "nope" / "bin" / "python")
    m.client_python()
