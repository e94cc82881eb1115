#!/usr/bin/env python3
"""Write data/py_unprintable.txt: the code points (beyond ASCII) that Python 3.11's
`str.isprintable()` rejects, as `start-end` hex ranges, one per line. `repr()`
escapes exactly these, so src/pyfmt.rs needs them to reproduce `repr(str)`.

    /work/.venv-intelmq/bin/python scripts/oracle/gen_unprintable.py > data/py_unprintable.txt
"""
import sys

print(f"# Python {sys.version.split()[0]} str.isprintable() == False, beyond ASCII")
start = None
for c in range(0x80, 0x110000):
    unprintable = not chr(c).isprintable()
    if unprintable and start is None:
        start = c
    elif not unprintable and start is not None:
        print(f"{start:x}-{c - 1:x}")
        start = None
if start is not None:
    print(f"{start:x}-10ffff")
