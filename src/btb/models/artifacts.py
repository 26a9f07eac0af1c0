"""Model files without pickle: a folder of weight files beside a JSON manifest.

A saved model is a folder::

    <path>/manifest.json   what the model is and how to check it (below)
    <path>/model.txt       GBM: LightGBM's own text format
    <path>/model.pt        transformer: a tensor-only state dict (loaded with weights_only=True)

The manifest records the format, model type, btb version, creation time, the feature names in
order and the feature settings, the label (forward return over ``horizon`` bars), the scaler and
calibration parameters, the training window, the metrics, the model config, and for every weight
file its size and SHA-256. Its own ``checksum`` is the SHA-256 of the manifest's canonical JSON
without that field. Loading checks, in order: the manifest parses and its checksum matches, the
format version is known, every file exists with the recorded size (a truncated file is named as
such) and hash, and the feature list equals what the current feature pipeline produces. Any
failure is a :class:`~btb.errors.ModelError` that says which check failed and why.

The checksums detect corruption and accidental edits; they are not a signature (whoever can
write the folder can rewrite the manifest), so load models only from folders you trust.
Writes are atomic: files go to a temporary sibling folder that is renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from btb.errors import ModelError

MANIFEST_NAME = "manifest.json"
#: in a folder of model versions: the name of the live version (see btb.models.retrain).
CURRENT_NAME = "CURRENT"
FORMAT = "btb.model"
FORMAT_VERSION = 1


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (JSON has no NaN) and NumPy scalars
    (an ``np.int64`` setting from a parameter grid) as Python numbers, recursively."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(manifest: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def build_manifest(
    model_type: str, files: Mapping[str, bytes], fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The manifest for ``files`` (name -> bytes) plus descriptive ``fields``, checksummed."""
    from btb import __version__

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_type": model_type,
        "btb_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
        "files": {
            name: {"sha256": sha256_bytes(data), "bytes": len(data)} for name, data in files.items()
        },
    }
    try:
        manifest["checksum"] = sha256_bytes(_canonical(manifest))
    except ValueError as exc:  # NaN/inf in metrics or parameters
        raise ModelError(f"model manifest is not valid JSON: {exc}") from None
    return manifest


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_model_dir(
    path: str | os.PathLike[str], files: Mapping[str, bytes], manifest: Any
) -> Path:
    """Write weight files and the manifest into folder ``path`` atomically (replacing it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a model folder is ordinary data
        for name, data in files.items():
            _write_synced(staging / name, data)
        _write_synced(staging / MANIFEST_NAME, manifest_text(manifest).encode())
        replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_replaceable(target: str | os.PathLike[str]) -> None:
    """ModelError unless a model may be saved at ``target``: absent, an empty folder, or a
    btb model folder (a file, or a folder of other data, is never replaced)."""
    path = Path(target)
    if not path.exists():
        return
    if not path.is_dir():
        raise ModelError(f"{path} exists and is not a folder; not replacing it with a model")
    if not (path / MANIFEST_NAME).is_file() and any(path.iterdir()):
        raise ModelError(f"{path} exists and is not a btb model folder; not replacing it")


def replace_dir(source: Path, target: Path) -> None:
    """Move folder ``source`` to ``target``; an existing ``target`` is swapped out first."""
    check_replaceable(target)
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(target, retired)
        os.replace(source, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(source, target)
    _fsync_dir(target.parent)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem can fsync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_current_pointer(root: str | os.PathLike[str], version: str) -> None:
    """Atomically make ``root/version`` the live model of the versions folder ``root``."""
    folder = Path(root)
    if not (folder / version / MANIFEST_NAME).is_file():
        raise ModelError(f"{folder / version} is not a saved model; not publishing it")
    temp = folder / f".{CURRENT_NAME}.{os.getpid()}.tmp"
    _write_synced(temp, (version + "\n").encode())
    os.replace(temp, folder / CURRENT_NAME)
    _fsync_dir(folder)


def resolve_model_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the version its ``CURRENT`` pointer names (a versions folder)."""
    folder = Path(path)
    pointer = folder / CURRENT_NAME
    if (folder / MANIFEST_NAME).is_file() or not pointer.is_file():
        return folder
    version = pointer.read_text(encoding="utf-8").strip()
    if not version or Path(version).name != version or version.startswith("."):
        raise ModelError(f"{pointer}: invalid version name {version!r}")
    return folder / version


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The verified manifest of the model folder ``path`` (checksum and format checked)."""
    folder = Path(path)
    source = folder / MANIFEST_NAME
    if not source.is_file():
        raise ModelError(f"no model at {folder}: {MANIFEST_NAME} not found")
    try:
        manifest = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{source}: unreadable manifest (truncated or corrupted?): {exc}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{source}: not a btb model manifest (format must be {FORMAT!r})")
    try:
        expected = sha256_bytes(_canonical(manifest))
    except ValueError as exc:
        raise ModelError(f"{source}: manifest holds non-JSON numbers ({exc})") from None
    if manifest.get("checksum") != expected:
        raise ModelError(f"{source}: manifest checksum mismatch (modified or corrupted)")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{source}: model format version {version!r} is not supported by this btb "
            f"(reads version {FORMAT_VERSION}); retrain or upgrade btb"
        )
    for key in ("model_type", "feature_names", "files", "config"):
        if key not in manifest:
            raise ModelError(f"{source}: manifest lacks {key!r}")
    return manifest


def read_files(path: str | os.PathLike[str], manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """Every weight file listed in the manifest, checked for size and SHA-256."""
    folder = Path(path)
    listed = manifest["files"]
    if not isinstance(listed, dict) or not listed:
        raise ModelError(f"{folder}: manifest lists no model files")
    out: dict[str, bytes] = {}
    for name, meta in listed.items():
        if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
            raise ModelError(f"{folder}: manifest names an invalid file {name!r}")
        if not isinstance(meta, dict) or not {"sha256", "bytes"} <= set(meta):
            raise ModelError(f"{folder}: manifest entry for {name} lacks sha256/bytes")
        try:
            data = (folder / name).read_bytes()
        except OSError as exc:
            raise ModelError(f"{folder / name}: cannot read model file ({exc.strerror})") from None
        if len(data) != meta["bytes"]:
            kind = "truncated" if len(data) < meta["bytes"] else "longer than recorded"
            raise ModelError(
                f"{folder / name}: file is {kind}: {len(data)} bytes, manifest says {meta['bytes']}"
            )
        if sha256_bytes(data) != meta["sha256"]:
            raise ModelError(f"{folder / name}: checksum mismatch (file modified or corrupted)")
        out[name] = data
    return out


def check_feature_names(
    saved: Sequence[str], current: Sequence[str], source: str | os.PathLike[str]
) -> None:
    """ModelError naming the difference when the saved feature list is not ``current``."""
    saved, current = list(saved), list(current)
    if saved == current:
        return
    missing = [n for n in saved if n not in current]
    extra = [n for n in current if n not in saved]
    parts = []
    if missing:
        parts.append(f"model uses features the pipeline lacks: {', '.join(missing)}")
    if extra:
        parts.append(f"pipeline has features the model lacks: {', '.join(extra)}")
    if not parts:
        first = next(i for i, (a, b) in enumerate(zip(saved, current, strict=True)) if a != b)
        parts.append(
            f"same features in a different order (position {first}: model {saved[first]!r}, "
            f"pipeline {current[first]!r})"
        )
    raise ModelError(
        f"{source}: feature list differs from the current feature pipeline; "
        + "; ".join(parts)
        + ". Retrain the model with this btb version."
    )
