"""SecurityAuditor (seed 003) on temporary project trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from btb.utils.security_audit import SecurityAuditor, Severity, is_ignored

GOOD_GITIGNORE = ".venv/\n__pycache__/\n*.db\n.env\nuser_data/\n"
# Built from pieces so this test file holds no key-like literal itself.
REAL_LOOKING = "Zq8Lm3" + "Vx9Kp2Rt7Wn4Yb6"


def _project(tmp_path: Path, gitignore: str | None = GOOD_GITIGNORE, dotenv: str | None = None,
             dotenv_mode: int = 0o600) -> Path:  # fmt: skip
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        'import os\n\napi_key = os.environ["API_KEY"]\nsecret = os.getenv("API_SECRET", "")\n'
    )
    if gitignore is not None:
        (root / ".gitignore").write_text(gitignore)
    if dotenv is not None:
        (root / ".env").write_text(dotenv)
        os.chmod(root / ".env", dotenv_mode)
    return root


def test_clean_project_passes_everything(tmp_path: Path) -> None:
    root = _project(tmp_path, dotenv="API_KEY=k\nAPI_SECRET=s\n")
    report = SecurityAuditor(root, env={}).run_full_audit()
    assert report.passed
    assert report.failed_checks == [], report.failed_checks
    severities = {c.name: c.severity for c in report.checks}
    assert severities == {  # the seed's table
        "env_file_protected": Severity.CRITICAL,
        "no_hardcoded_secrets": Severity.CRITICAL,
        "gitignore_complete": Severity.WARNING,
        "debug_disabled": Severity.WARNING,
        "env_vars_set": Severity.WARNING,
        "database_url_secure": Severity.WARNING,
        "redis_url_secure": Severity.INFO,
    }


def test_env_not_ignored_is_critical(tmp_path: Path) -> None:
    root = _project(tmp_path, gitignore="*.db\n", dotenv="API_KEY=k\n")
    report = SecurityAuditor(root, env={}).run_full_audit()
    check = report.check("env_file_protected")
    assert not check.passed and ".gitignore" in check.message
    assert not report.passed  # a critical failure fails the audit


def test_env_readable_by_others_is_critical(tmp_path: Path) -> None:
    root = _project(tmp_path, dotenv="API_KEY=k\n", dotenv_mode=0o644)
    check = SecurityAuditor(root, env={}).check_env_file_protected()
    assert not check.passed and "chmod 600" in check.message


@pytest.mark.parametrize(
    ("relative", "content", "found"),
    [
        ("src/bot.py", f'API_KEY = "{REAL_LOOKING}"\n', True),
        ("src/bot.py", f'client = Client(api_secret="{REAL_LOOKING}")\n', True),
        ("src/bot.py", f'secret_key: str = "{REAL_LOOKING}"\n', True),
        ("configs/x.yaml", f"exchange:\n  api_secret: {REAL_LOOKING}\n", True),
        ("src/k.py", 'KEY = """\n-----BEGIN RSA ' + 'PRIVATE KEY-----\nMIIE\n"""\n', True),
        ("src/bot.py", 'API_KEY = "your_api_key_here_1234567"\n', False),  # placeholder
        ("src/bot.py", f'symbol_hash = "{REAL_LOOKING}"\n', False),  # not a secret name
        ("src/bot.py", 'api_key = "short1"\n', False),  # too short to be a key
        ("src/bot.py", 'password = "aaaaaaaaaaaaaaaaaaaa"\n', False),  # no entropy, no digits
        (".venv/lib/x.py", f'API_KEY = "{REAL_LOOKING}"\n', False),  # dependencies skipped
        ("notes.txt", f'API_KEY = "{REAL_LOOKING}"\n', False),  # not a scanned file type
    ],
)
def test_hardcoded_secret_detection(
    tmp_path: Path, relative: str, content: str, found: bool
) -> None:
    root = _project(tmp_path)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "# header\n" + content
    target.write_text(text)
    check = SecurityAuditor(root, env={}).check_no_hardcoded_secrets()
    assert check.passed is (not found), check.message
    if found:
        lines = text.splitlines()
        line = next(i for i, ln in enumerate(lines, 1) if REAL_LOOKING in ln or "PRIVATE" in ln)
        assert check.message.endswith(f": {relative}:{line}")  # file and line, to fix it
        assert REAL_LOOKING not in check.message  # but never the value


def test_dangling_link_is_skipped(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "src" / "old_settings.py").symlink_to(root / "gone.py")  # dangling
    (root / "src" / "bot.py").write_text(f'API_KEY = "{REAL_LOOKING}"\n')
    check = SecurityAuditor(root, env={}).check_no_hardcoded_secrets()
    assert not check.passed and check.message.endswith(": src/bot.py:1")


def test_gitignore_completeness_lists_missing_patterns(tmp_path: Path) -> None:
    root = _project(tmp_path, gitignore=".env\n__pycache__/\n")
    check = SecurityAuditor(root, env={}).check_gitignore_complete()
    assert not check.passed and check.severity is Severity.WARNING
    assert "*.db" in check.message and ".venv/" in check.message and "user_data/" in check.message
    assert ".env," not in check.message


def test_missing_gitignore(tmp_path: Path) -> None:
    root = _project(tmp_path, gitignore=None)
    report = SecurityAuditor(root, env={}).run_full_audit()
    assert not report.check("env_file_protected").passed
    assert not report.check("gitignore_complete").passed


@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        (".env", [".env"], True),
        (".env", [".env*"], True),
        (".env", ["*.env"], True),
        (".env", ["/.env"], True),
        (".env", [".env", "!.env"], False),  # a later negation re-includes it
        (".env", ["env"], False),
        ("btb.db", ["*.db"], True),
        ("data/state/btb.db", ["*.db"], True),
        (".venv/bin/python", [".venv/"], True),
        (".venv", [".venv/"], False),  # dir-only pattern, path given as a file
        ("src/__pycache__/m.pyc", ["__pycache__/"], True),
        ("user_data/data/x", ["/user_data/"], True),
        ("pkg/user_data/x", ["/user_data/"], False),  # anchored at the root
        ("pkg/user_data/x", ["**/user_data/"], True),
        ("bench/out/r.json", ["bench/out/"], True),
        ("other/bench/out/r.json", ["bench/out/"], False),
    ],
)
def test_is_ignored(path: str, patterns: list[str], ignored: bool) -> None:
    assert is_ignored(path, patterns) is ignored


@pytest.mark.parametrize(
    ("env", "passed"),
    [
        ({}, True),
        ({"DEBUG": "false"}, True),
        ({"DEBUG": "1"}, False),
        ({"BTB_DEBUG": "true"}, False),
        ({"LOG_LEVEL": "debug"}, False),
        ({"BTB_LOG_LEVEL": "INFO", "LOG_LEVEL": "DEBUG"}, True),  # BTB_ wins
    ],
)
def test_debug_disabled(tmp_path: Path, env: dict[str, str], passed: bool) -> None:
    check = SecurityAuditor(_project(tmp_path), env=env).check_debug_disabled()
    assert check.passed is passed


def test_env_vars_set_reads_env_and_dotenv(tmp_path: Path) -> None:
    root = _project(tmp_path, dotenv="API_KEY=abc\n")
    check = SecurityAuditor(root, env={}).check_env_vars_set()
    assert not check.passed and "API_SECRET" in check.message and "API_KEY " not in check.message
    assert SecurityAuditor(root, env={"BTB_API_SECRET": "x"}).check_env_vars_set().passed


@pytest.mark.parametrize(
    ("url", "passed"),
    [
        ("", True),
        ("sqlite+aiosqlite:///user_data/btb.db", True),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/btb", True),
        ("postgresql://bot:pw@localhost/btb", True),
        ("postgresql://bot:pw@db.example.com/btb", False),
        ("postgresql://bot:pw@db.example.com/btb?sslmode=disable", False),
        ("postgresql://bot:pw@db.example.com/btb?sslmode=require", True),
        ("postgresql+asyncpg://bot:pw@10.1.2.3/btb?ssl=require", True),
    ],
)
def test_database_url_secure(tmp_path: Path, url: str, passed: bool) -> None:
    check = SecurityAuditor(
        _project(tmp_path), env={"DATABASE_URL": url}
    ).check_database_url_secure()
    assert check.passed is passed
    assert "pw" not in check.message.split("@")[0]  # never echoes the password


@pytest.mark.parametrize(
    ("url", "passed"),
    [
        ("", True),
        ("redis://127.0.0.1:6379/0", True),
        ("redis://localhost", True),
        ("redis://cache.example.com:6379", False),
        ("rediss://cache.example.com:6380", True),
    ],
)
def test_redis_url_secure(tmp_path: Path, url: str, passed: bool) -> None:
    check = SecurityAuditor(_project(tmp_path), env={"BTB_REDIS_URL": url}).check_redis_url_secure()
    assert check.passed is passed and check.severity is Severity.INFO
