#!/usr/bin/env python3
"""Checks that libpetrel.so exports exactly the functions include/petrel.h declares.

Usage: check_exports.py HEADER LIBRARY. Prints the differences both ways and exits 1 when there are any.
The header's declarations are found after stripping comments: every `petrel_name(` that is not a
function-pointer typedef (`(*petrel_name)(`, or a return type before `(*`). The library's are the global defined dynamic symbols
(`nm -D --defined-only`, upper-case type letters) that start with `petrel_`; any other global
symbol is reported too, since the library should export nothing else.
"""
import re
import subprocess
import sys


def header_functions(text):
    """Names of the functions a C header declares."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return set(re.findall(r"(?<!\(\*)\b(petrel_[a-z0-9_]+)\s*\((?!\s*\*)", text))


def exported_symbols(library):
    """Global defined dynamic symbols of a shared library."""
    output = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    symbols = set()
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1].isupper():
            symbols.add(fields[2])
    return symbols


def main(header, library):
    declared = header_functions(open(header, encoding="utf-8").read())
    exported = exported_symbols(library)
    missing = sorted(declared - exported)
    extra = sorted(exported - declared)
    for name in missing:
        print(f"declared in {header} but not exported: {name}")
    for name in extra:
        print(f"exported but not declared in {header}: {name}")
    print(f"{len(declared)} declared, {len(exported)} exported")
    return 1 if missing or extra or not declared else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
