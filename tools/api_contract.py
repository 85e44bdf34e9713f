#!/usr/bin/env python3
"""The dashboard's API contract: its OpenAPI document, and the frontend's TypeScript types generated from it.

The document is the one the app serves at /openapi.json, made here from an app over an empty data folder. The types
come from openapi-typescript (pinned in frontend/package.json) and are committed as frontend/src/lib/apiSchema.ts;
./build.sh rewrites that file when the document changes, and a test fails when the committed file differs.

usage: api_contract.py [--document FILE] [--types FILE]   (default: --types frontend/src/lib/apiSchema.ts)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPES = ROOT / "frontend" / "src" / "lib" / "apiSchema.ts"
GENERATOR = ROOT / "frontend" / "node_modules" / ".bin" / "openapi-typescript"
# A free-form JSON object becomes Record<string, unknown> (not Record<string, never>), and a request field with a
# default stays optional (the generator would otherwise require it).
GENERATOR_OPTIONS = ["--empty-objects-unknown", "--default-non-nullable", "false"]


def document() -> dict:
    """The OpenAPI document the app serves (it does not depend on the data folder or the settings)."""
    from bullet_dashboard.app import create_app
    from bullet_dashboard.settings import Settings

    with tempfile.TemporaryDirectory() as data:
        return create_app(Settings(data_dir=Path(data))).openapi()


def typescript(api: dict) -> str:
    """The TypeScript types openapi-typescript generates from the document."""
    if not GENERATOR.exists():
        raise SystemExit(f"{GENERATOR} is missing: run ./build.sh (it installs the frontend's npm packages)")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "openapi.json", Path(folder) / "types.ts"
        source.write_text(json.dumps(api))
        made = subprocess.run([str(GENERATOR), str(source), "-o", str(target), *GENERATOR_OPTIONS], capture_output=True, text=True)
        if made.returncode != 0:
            raise SystemExit(f"openapi-typescript failed:\n{made.stdout}{made.stderr}")
        return target.read_text()


def write_if_changed(path: Path, text: str) -> bool:
    """Writes the file only when its text changes (so builds that watch it do not rerun); True when it did."""
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--document", type=Path, help="write the OpenAPI document (JSON) here")
    parser.add_argument("--types", type=Path, help=f"write the TypeScript types here (default: {TYPES.relative_to(ROOT)})")
    args = parser.parse_args()
    api = document()
    if args.document:
        write_if_changed(args.document, json.dumps(api, indent=2) + "\n")
    if args.types or not args.document:
        target = args.types or TYPES
        if write_if_changed(target, typescript(api)):
            print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
