"""Security audit of a btb deployment directory (seed 003's ``SecurityAuditor``).

::

    report = SecurityAuditor("/srv/btb").run_full_audit()
    report.passed            # False when a critical check failed
    for check in report.failed_checks: ...

=====================  ========  ===========================================================
check                  severity  passes when
=====================  ========  ===========================================================
env_file_protected     critical  ``.gitignore`` ignores ``.env``; an existing ``.env`` is not
                                 readable by group or others (chmod 600)
no_hardcoded_secrets   critical  no source/config file assigns a real-looking key, secret,
                                 token or password literal, and none holds a private key
gitignore_complete     warning   ``.gitignore`` ignores .env, ``*.db``, ``__pycache__/``,
                                 ``.venv/`` and ``user_data/``
debug_disabled         warning   ``DEBUG``/``BTB_DEBUG`` are not true and the log level
                                 (``LOG_LEVEL``/``BTB_LOG_LEVEL``) is not DEBUG
env_vars_set           warning   ``API_KEY`` and ``API_SECRET`` (or ``BTB_`` forms) are set
database_url_secure    warning   a non-local PostgreSQL ``DATABASE_URL`` requires SSL
redis_url_secure       info      a non-local ``REDIS_URL`` uses ``rediss://``
=====================  ========  ===========================================================

Environment values are read from the real environment (or the ``env`` given) over the
project's ``.env`` file. Findings name files and lines, never the secret values.
"""

from __future__ import annotations

import enum
import fnmatch
import math
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dotenv import dotenv_values


class Severity(enum.Enum):
    """How bad a failed check is."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class AuditCheck:
    """Outcome of one audit check."""

    name: str
    severity: Severity
    passed: bool
    message: str


@dataclass(frozen=True)
class AuditReport:
    """All audit checks; ``passed`` is False when any *critical* check failed."""

    checks: tuple[AuditCheck, ...]

    @property
    def passed(self) -> bool:
        return not any(c.severity is Severity.CRITICAL and not c.passed for c in self.checks)

    @property
    def failed_checks(self) -> list[AuditCheck]:
        return [c for c in self.checks if not c.passed]

    def check(self, name: str) -> AuditCheck:
        """The check called ``name`` (KeyError if it did not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)


SCANNED_SUFFIXES = frozenset(
    {".py", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".sh", ".js", ".ts", ".example"}
)
EXCLUDED_DIRS = frozenset(
    {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "build", "dist",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "user_data", ".tox"}
)  # fmt: skip
_MAX_SCAN_BYTES = 1_000_000
_SECRET_NAME = (
    r"""\b[\w-]*(?:api[_-]?key|api[_-]?secret|secret[_-]?key|secret|password|passwd|"""
    r"""passphrase|access[_-]?token|auth[_-]?token|private[_-]?key|token)[\w-]*["']?"""
    r"""(?:\s*:\s*[\w\[\]|. ]+?)?\s*[:=]\s*"""  # optional type annotation, then : or =
)
_QUOTED_SECRET = re.compile(_SECRET_NAME + r"""[rbuf]?["']([^"'\s]{16,})["']""", re.IGNORECASE)
# Config formats also allow unquoted values (api_key: abc123...).
_BARE_SECRET = re.compile(_SECRET_NAME + r"""([^"'\s#,]{16,})\s*(?:#.*)?$""", re.IGNORECASE)
_BARE_SUFFIXES = frozenset({".yaml", ".yml", ".ini", ".cfg", ".example"})
_KNOWN_TOKENS = re.compile(
    r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|"
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}"
)
_PLACEHOLDER = re.compile(
    r"(?i)your|example|changeme|change_me|dummy|placeholder|xxxx|\*\*\*|<|\$\{|\{\{|replace|"
    r"fake|sample|redacted|test"
)
_ESSENTIAL_IGNORES = {
    ".env": ".env",
    "*.db": "btb.db",
    "__pycache__/": "pkg/__pycache__/m.pyc",
    ".venv/": ".venv/bin/python",
    "user_data/": "user_data/data/x.parquet",
}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})
_TRUTHY = frozenset({"1", "true", "yes", "on"})


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_real(value: str) -> bool:
    """A literal that is long, mixed letters+digits, high-entropy and not a placeholder."""
    if _PLACEHOLDER.search(value):
        return False
    has_alpha = any(c.isalpha() for c in value)
    has_digit = any(c.isdigit() for c in value)
    return has_alpha and has_digit and _entropy(value) >= 3.0


def _gitignore_patterns(root: Path) -> list[str]:
    path = root / ".gitignore"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def is_ignored(relative_path: str, patterns: Sequence[str]) -> bool:
    """Whether ``relative_path`` (POSIX, relative to the root) is ignored by the patterns.

    A subset of gitignore semantics: ``!`` negation, trailing ``/`` for directories,
    patterns with a ``/`` anchored at the root, others matching any path component.
    """
    parts = relative_path.split("/")
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if pattern.startswith("**/"):  # "**/x" matches x at any depth, like a bare "x"
            pattern = pattern[3:]
        anchored = "/" in pattern
        pattern = pattern.lstrip("/")
        # Candidates: every directory prefix, plus the full path unless dir-only.
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        names = parts[:-1] if dir_only else parts
        candidates = prefixes if anchored else names
        if anchored and not dir_only:
            candidates = [*prefixes, relative_path]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            ignored = not negate
    return ignored


class SecurityAuditor:
    """Audits one project directory; ``env`` replaces ``os.environ`` (for tests)."""

    def __init__(
        self,
        project_root: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        required_env: Sequence[str] = ("API_KEY", "API_SECRET"),
        exclude_dirs: frozenset[str] = EXCLUDED_DIRS,
    ) -> None:
        self.root = Path(project_root)
        self.required_env = tuple(required_env)
        self.exclude_dirs = exclude_dirs
        dotenv = self.root / ".env"
        merged = {k: v for k, v in dotenv_values(dotenv).items() if v} if dotenv.is_file() else {}
        merged.update(os.environ if env is None else env)
        self.env = merged

    def run_full_audit(self) -> AuditReport:
        """Run all checks (see the module docstring) and return the report."""
        return AuditReport(
            (
                self.check_env_file_protected(),
                self.check_no_hardcoded_secrets(),
                self.check_gitignore_complete(),
                self.check_debug_disabled(),
                self.check_env_vars_set(),
                self.check_database_url_secure(),
                self.check_redis_url_secure(),
            )
        )

    def _get(self, name: str) -> str:
        return (self.env.get(f"BTB_{name}") or self.env.get(name) or "").strip()

    def check_env_file_protected(self) -> AuditCheck:
        """critical: .env is git-ignored and, if present, readable only by its owner."""
        name, sev = "env_file_protected", Severity.CRITICAL
        if not is_ignored(".env", _gitignore_patterns(self.root)):
            return AuditCheck(name, sev, False, ".env is not listed in .gitignore")
        env_file = self.root / ".env"
        if env_file.is_file() and env_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return AuditCheck(name, sev, False, ".env is readable by others; run chmod 600 .env")
        return AuditCheck(name, sev, True, ".env is git-ignored and private")

    def _source_files(self) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in self.exclude_dirs]
            for filename in filenames:
                path = Path(dirpath, filename)
                if path.suffix not in SCANNED_SUFFIXES:
                    continue
                try:
                    size = path.stat().st_size
                except OSError:  # a dangling symlink or a file removed meanwhile
                    continue
                if size <= _MAX_SCAN_BYTES:
                    yield path

    def check_no_hardcoded_secrets(self) -> AuditCheck:
        """critical: no real-looking secret literal or private key in source/config files."""
        findings: list[str] = []
        for path in self._source_files():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:  # unreadable (permissions, or a folder named like a file)
                continue
            for lineno, line in enumerate(text.splitlines(), start=1):
                hits = [m.group(1) for m in _QUOTED_SECRET.finditer(line)]
                if path.suffix in _BARE_SUFFIXES:
                    hits += [m.group(1) for m in _BARE_SECRET.finditer(line)]
                if _KNOWN_TOKENS.search(line) or any(_looks_real(h) for h in hits):
                    findings.append(f"{path.relative_to(self.root).as_posix()}:{lineno}")
        if findings:
            shown = ", ".join(findings[:10]) + (" ..." if len(findings) > 10 else "")
            return AuditCheck(
                "no_hardcoded_secrets",
                Severity.CRITICAL,
                False,
                f"possible secrets in {len(findings)} place(s): {shown}",
            )
        return AuditCheck("no_hardcoded_secrets", Severity.CRITICAL, True, "no secrets found")

    def check_gitignore_complete(self) -> AuditCheck:
        """warning: .gitignore covers the essential patterns."""
        patterns = _gitignore_patterns(self.root)
        missing = [
            p for p, sample in _ESSENTIAL_IGNORES.items() if not is_ignored(sample, patterns)
        ]
        if missing:
            return AuditCheck(
                "gitignore_complete",
                Severity.WARNING,
                False,
                f".gitignore does not cover: {', '.join(missing)}",
            )
        return AuditCheck(
            "gitignore_complete", Severity.WARNING, True, "essential patterns present"
        )

    def check_debug_disabled(self) -> AuditCheck:
        """warning: no DEBUG flag and no DEBUG log level in the environment."""
        if self._get("DEBUG").lower() in _TRUTHY:
            return AuditCheck("debug_disabled", Severity.WARNING, False, "DEBUG is enabled")
        if self._get("LOG_LEVEL").upper() == "DEBUG":
            return AuditCheck("debug_disabled", Severity.WARNING, False, "LOG_LEVEL is DEBUG")
        return AuditCheck("debug_disabled", Severity.WARNING, True, "debug mode is off")

    def check_env_vars_set(self) -> AuditCheck:
        """warning: the required variables (API_KEY, API_SECRET by default) are set."""
        missing = [n for n in self.required_env if not self._get(n)]
        if missing:
            listed = ", ".join(f"{n} (or BTB_{n})" for n in missing)
            return AuditCheck("env_vars_set", Severity.WARNING, False, f"not set: {listed}")
        return AuditCheck("env_vars_set", Severity.WARNING, True, "required variables are set")

    def check_database_url_secure(self) -> AuditCheck:
        """warning: a PostgreSQL URL to a non-local host requires SSL."""
        name, sev = "database_url_secure", Severity.WARNING
        url = self._get("DATABASE_URL")
        if not url or not url.startswith("postgres"):
            return AuditCheck(name, sev, True, "no remote PostgreSQL database configured")
        parts = urlsplit(url)
        if (parts.hostname or "") in _LOCAL_HOSTS:
            return AuditCheck(name, sev, True, "database is on this machine")
        query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
        ssl = query.get("sslmode") or query.get("ssl") or ""
        if ssl in {"require", "verify-ca", "verify-full", "true"}:
            return AuditCheck(name, sev, True, f"remote database uses SSL ({ssl})")
        return AuditCheck(
            name, sev, False, f"remote database {parts.hostname} without sslmode=require"
        )

    def check_redis_url_secure(self) -> AuditCheck:
        """info: a Redis URL to a non-local host uses TLS (rediss://)."""
        name, sev = "redis_url_secure", Severity.INFO
        url = self._get("REDIS_URL")
        if not url:
            return AuditCheck(name, sev, True, "no Redis configured")
        parts = urlsplit(url)
        if (parts.hostname or "") in _LOCAL_HOSTS or parts.scheme == "unix":
            return AuditCheck(name, sev, True, "Redis is on this machine")
        if parts.scheme == "rediss":
            return AuditCheck(name, sev, True, "remote Redis uses TLS")
        return AuditCheck(
            name, sev, False, f"remote Redis {parts.hostname} without TLS (rediss://)"
        )


__all__ = ["AuditCheck", "AuditReport", "SecurityAuditor", "Severity", "is_ignored"]
