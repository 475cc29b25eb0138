"""Exit 0 when every requirement in the given file is already installed (so pip need not run), 1 otherwise."""
import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors packaging
    from pip._vendor.packaging.requirements import Requirement

ok = True
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        ok = False
        continue
    if req.specifier and version not in req.specifier:
        ok = False
sys.exit(0 if ok else 1)
