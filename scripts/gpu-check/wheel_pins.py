"""The `name==version` pins prepare.sh downloads wheels for, one a line on stdout.

    python3 wheel_pins.py REQUIREMENTS DEVICE_PACKAGES CARRY_TOO [EXTRA_PIN ...]

Every pin of REQUIREMENTS (python/requirements.txt) whose package the device image lacks
(DEVICE_PACKAGES), torch excepted (the image's CUDA build is what the check is for), plus the
packages named in CARRY_TOO at REQUIREMENTS' pin, plus EXTRA_PINs (`name==version`) as given.
"""
from __future__ import annotations

import re
import sys


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(path: str) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(canonical(line.split("==")[0]))
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    requirements, device_file, carry_file, *extra = argv
    pins: dict[str, str] = {}
    for line in open(requirements, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if m:
            pins[canonical(m.group(1))] = f"{m.group(1)}=={m.group(2)}"
    device = set(names(device_file))
    carry = names(carry_file)
    for name in carry:
        if name not in pins:
            print(f"wheel_pins: {carry_file} names {name}, which {requirements} does not pin", file=sys.stderr)
            return 1
    chosen = [pin for name, pin in pins.items() if name != "torch" and (name not in device or name in carry)]
    for pin in extra:
        if "==" not in pin:
            print(f"wheel_pins: extra pin {pin!r} is not name==version", file=sys.stderr)
            return 1
        chosen = [p for p in chosen if canonical(p.split("==")[0]) != canonical(pin.split("==")[0])] + [pin]
    print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
