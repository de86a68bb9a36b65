"""The built functions and layer as Lambda unpacks them, for tests and the benchmark.

`sam package` zips each built folder with every entry dated 1980-01-01, and Lambda unpacks them
with those dates: bytecode checked against its source's time never matches there. ``unpack`` does
the same (``<root>/<FunctionId>/`` as /var/task, ``<root>/opt/python`` as the layer).
``use_host_native_code`` swaps the layer's native extensions (built for aarch64) for this
machine's builds of the same pinned versions (the test environment's), so that this machine can
import them: every Python file and its bytecode stay the artifact's.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sysconfig
import zipfile
from pathlib import Path

LAMBDA_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def unpack(build_dir: Path, layer_id: str, root: Path) -> Path:
    """Every built folder of ``build_dir`` zipped and unpacked under ``root`` as on Lambda."""
    root.mkdir(parents=True, exist_ok=True)
    for built in sorted(build_dir.iterdir()):
        if built.is_dir():
            _zip_and_unpack(built, root / ("opt" if built.name == layer_id else built.name))
    return root


def _zip_and_unpack(folder: Path, target: Path) -> None:
    archive = target.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                entry = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=LAMBDA_ZIP_DATE)
                entry.external_attr = 0o644 << 16
                zipped.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    stamp = datetime.datetime(*LAMBDA_ZIP_DATE).timestamp()
    with zipfile.ZipFile(archive) as zipped:
        for entry in zipped.infolist():
            os.utime(zipped.extract(entry, target), (stamp, stamp))
    archive.unlink()


def use_host_native_code(root: Path) -> None:
    layer = root / "opt" / "python"
    host_site = Path(sysconfig.get_paths()["purelib"])
    for native in layer.rglob("*.so"):
        stem = native.name.split(".")[0]
        (host,) = (host_site / native.parent.relative_to(layer)).glob(f"{stem}.*so")
        native.unlink()
        shutil.copy2(host, native.parent / host.name)


def without_bytecode(root: Path) -> None:
    """What SAM's own python builder ships: sources only."""
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
