"""Print where `make install PREFIX=...` puts the progeny package: the purelib directory
that this interpreter (the Makefile runs /usr/bin/python3) would search for PREFIX.

sysconfig's default scheme on Debian is posix_local, whose purelib is
{base}/local/lib/python3.X/dist-packages: the "local" stands for /usr/local under base /usr.
So the layout below PREFIX is that path relative to {base}/local, which gives
/usr/local/lib/python3.11/dist-packages for PREFIX=/usr/local (on sys.path of Debian's
python3); elsewhere (posix_prefix) it is relative to {base}: PREFIX/lib/python3.X/site-packages.
"""
import os
import sys
import sysconfig

scheme = sysconfig.get_default_scheme()
base = "/progeny-base"
purelib = sysconfig.get_path("purelib", scheme, vars={"base": base, "platbase": base})
root = os.path.join(base, "local") if scheme == "posix_local" else base
print(os.path.join(sys.argv[1], os.path.relpath(purelib, root)))
