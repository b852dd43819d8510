"""lstm_core is the numerics: it must never import web code."""
import ast
from pathlib import Path

WEB = {"fastapi", "starlette", "uvicorn", "jinja2", "plotly", "app", "pydantic", "pydantic_settings", "httpx"}


def test_lstm_core_imports_no_web_code():
    core = Path(__file__).resolve().parents[2] / "lstm_core"
    files = list(core.rglob("*.py"))
    assert files, "lstm_core has no Python files to check"
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in WEB]
    assert not offenders, f"lstm_core imports web code: {offenders}"
