"""Is a folder of wheels complete for the device? (prepare.sh and run.sh of the GPU check)

    python3 check_bundle.py WHEEL_DIR --device-packages FILE [--require NAME ...] [--installed]
        [--report FILE]

Reads every wheel's METADATA (no install) and checks, for the device's interpreter (CPython 3.12,
Linux x86-64):

- every wheel installs there (its tags: py3/cp312 and none/abi3/cp312, any or manylinux ≤ 2.28);
- one version of each package (two stop the whole `pip install --no-deps`);
- every ``--require`` name has a wheel;
- every requirement of every wheel (markers evaluated for that interpreter, extras followed) is
  met by a bundled wheel of a matching version, or by a package of the device image
  (``--device-packages``: ``name`` or ``name==version`` lines; a version is checked where known).

With ``--installed`` (run.sh, on the device) the device side is what this interpreter really has
(``importlib.metadata``), and a version that does not match is reported as a conflict (a warning:
the tools may still run) instead of being trusted.

Prints one line per problem on stderr and a JSON report (``--report`` or stdout); exits 1 when
something is missing, 0 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from email.parser import HeaderParser

try:  # the device has `packaging`; a bare interpreter here has pip's copy
    from packaging.markers import Marker  # noqa: F401
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version
except ImportError:  # pragma: no cover - depends on the interpreter
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.version import Version

DEVICE_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}
PYTHON_TAGS = {"py3", "py2.py3", "cp312", "py312", "py3.py312"}
ABI_TAGS = {"none", "abi3", "cp312"}
MAX_GLIBC = (2, 28)


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def platform_ok(tag: str) -> bool:
    """Whether one platform tag (possibly a ``.``-joined set) installs on the device."""
    for part in tag.split("."):
        if part == "any":
            return True
        m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", part)
        if m and (int(m.group(1)), int(m.group(2))) <= MAX_GLIBC:
            return True
        if part in ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"):
            return True
    return False


def read_wheel(path: str) -> dict:
    """Name, version, tags and requirements of one wheel, from its file name and METADATA."""
    base = os.path.basename(path)
    parts = base[: -len(".whl")].split("-")
    if len(parts) < 5:
        raise ValueError(f"{base}: not a wheel file name")
    python_tag, abi_tag, platform_tag = parts[-3], parts[-2], parts[-1]
    with zipfile.ZipFile(path) as z:
        meta_name = next((n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        if meta_name is None:
            raise ValueError(f"{base}: no .dist-info/METADATA")
        meta = HeaderParser().parsestr(z.read(meta_name).decode("utf-8", "replace"))
    return {
        "file": base,
        "name": canonical(meta["Name"]),
        "version": meta["Version"],
        "requires": meta.get_all("Requires-Dist") or [],
        "installs": bool(set(python_tag.split(".")) & PYTHON_TAGS or python_tag in PYTHON_TAGS)
        and bool(set(abi_tag.split(".")) & ABI_TAGS)
        and platform_ok(platform_tag),
        "tags": f"{python_tag}-{abi_tag}-{platform_tag}",
    }


def read_device_packages(path: str) -> dict[str, str | None]:
    """``name`` → known version (or None) from the device list."""
    packages: dict[str, str | None] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, version = line.partition("==")
            packages[canonical(name)] = version.strip() or None
    return packages


def installed_packages() -> dict[str, str | None]:
    """``name`` → version of every distribution this interpreter sees (first on sys.path wins)."""
    from importlib.metadata import distributions

    found: dict[str, str | None] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical(name), dist.version)
    return found


def check(wheel_dir: str, device: dict[str, str | None], required: list[str], installed: bool) -> dict:
    """The report: wheels, problems (missing …), conflicts and unverified requirements."""
    problems: list[str] = []
    conflicts: list[str] = []
    unverified: set[str] = set()
    wheels: dict[str, dict] = {}
    files = sorted(f for f in os.listdir(wheel_dir) if f.endswith(".whl"))
    for file in files:
        try:
            info = read_wheel(os.path.join(wheel_dir, file))
        except (ValueError, zipfile.BadZipFile, KeyError) as error:
            problems.append(f"unreadable wheel: {error}")
            continue
        if info["name"] in wheels:
            problems.append(f"two versions of {info['name']}: {wheels[info['name']]['file']} and {file}")
        if not info["installs"]:
            problems.append(f"{file}: tags {info['tags']} do not install on CPython 3.12 Linux x86-64 (glibc ≤ 2.28)")
        wheels[info["name"]] = info
    for name in required:
        if canonical(name) not in wheels:
            problems.append(f"no wheel of {name} (a package the check needs)")

    seen: set[tuple[str, str]] = set()

    def visit(owner: dict, extras: frozenset[str]) -> None:
        for text in owner["requires"]:
            req = Requirement(text)
            if req.marker is not None and not any(req.marker.evaluate({**DEVICE_ENV, "extra": e}) for e in (extras or {""})):
                continue
            name = canonical(req.name)
            key = (owner["name"], f"{name}{sorted(req.extras)}")
            if key in seen:
                continue
            seen.add(key)
            where = f"{owner['file']} needs {text.split(';')[0].strip()}"
            if name in wheels:
                if not SpecifierSet(str(req.specifier)).contains(Version(wheels[name]["version"]), prereleases=True):
                    problems.append(f"{where}, the bundle has {wheels[name]['version']}")
                visit(wheels[name], frozenset(req.extras))
            elif name in device:
                version = device[name]
                if version is None:
                    if req.specifier:
                        unverified.add(f"{name}{req.specifier} ({owner['name']})")
                elif not SpecifierSet(str(req.specifier)).contains(Version(version), prereleases=True):
                    message = f"{where}, the device has {version}"
                    (conflicts if installed else problems).append(message)
            else:
                problems.append(f"{where}: neither bundled nor on the device")

    for info in list(wheels.values()):
        visit(info, frozenset())
    return {
        "ok": not problems,
        "wheels": [{"file": w["file"], "name": w["name"], "version": w["version"]} for w in wheels.values()],
        "problems": problems,
        "conflicts": conflicts,
        "unverified": sorted(unverified),
        "device_side": "installed" if installed else "list",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel_dir")
    parser.add_argument("--device-packages", required=True)
    parser.add_argument("--require", action="append", default=[])
    parser.add_argument("--installed", action="store_true", help="check against this interpreter's packages")
    parser.add_argument("--report", default=None)
    args = parser.parse_args(argv)
    if not os.path.isdir(args.wheel_dir):
        print(f"check_bundle: no wheel folder {args.wheel_dir}", file=sys.stderr)
        return 1
    device = read_device_packages(args.device_packages)
    if args.installed:
        bundled = {canonical(w.split("-")[0]) for w in os.listdir(args.wheel_dir)}
        device = {n: v for n, v in installed_packages().items() if n not in bundled}
    report = check(args.wheel_dir, device, args.require, args.installed)
    for line in report["problems"]:
        print(f"check_bundle: missing or wrong: {line}", file=sys.stderr)
    for line in report["conflicts"]:
        print(f"check_bundle: conflict on this interpreter: {line}", file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
