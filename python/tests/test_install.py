"""make install PREFIX=...: the package lands where /usr/bin/python3 looks for PREFIX, and
finds the binary installed beside it."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
import unittest

import progeny

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.dirname(os.path.dirname(progeny.find_binary()))


class InstallTest(unittest.TestCase):
    def test_installed_module_is_found_by_system_python_and_finds_its_binary(self) -> None:
        if not os.path.exists(os.path.join(REPO, "Makefile")):
            self.skipTest("not run from the source tree")
        with tempfile.TemporaryDirectory() as prefix:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
            env["MAKELEVEL"] = "1"  # no -j$(nproc) of a top-level make: the host is shared
            subprocess.run(["make", "-s", "-C", REPO, "install", f"B={BUILD}", f"PREFIX={prefix}"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            # What /usr/bin/python3 itself computes for this PREFIX (Debian: posix_local's
            # dist-packages, without its /local: /usr/local/lib/python3.11/dist-packages).
            expected = subprocess.run(
                ["/usr/bin/python3", "-c",
                 "import sysconfig as s, os\n"
                 "sch = s.get_default_scheme()\n"
                 "p = s.get_path('purelib', sch, vars={'base': '/B', 'platbase': '/B'})\n"
                 "print(os.path.relpath(p, '/B/local' if sch == 'posix_local' else '/B'))"],
                stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
            site = os.path.join(prefix, expected)
            self.assertTrue(os.path.isfile(os.path.join(site, "progeny", "__init__.py")), site)
            clean = {"PATH": "/usr/bin:/bin", "PYTHONPATH": site}
            out = subprocess.run(
                ["/usr/bin/python3", "-c",
                 "import progeny\n"
                 "print(progeny.__file__)\n"
                 "print(progeny.find_binary())\n"
                 "print(len(progeny.run(['sh', '-c', 'sleep 100 &']).leftovers))"],
                env=clean, stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
        self.assertEqual(out[0], os.path.join(site, "progeny", "__init__.py"))
        self.assertEqual(out[1], os.path.join(prefix, "bin", "progeny"))
        self.assertEqual(out[2], "1")

    def test_debian_prefix_maps_to_the_dist_packages_on_sys_path(self) -> None:
        if sysconfig.get_default_scheme() != "posix_local":
            self.skipTest("not Debian's posix_local scheme")
        out = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "python", "install_dir.py"),
                              "/usr/local"], stdout=subprocess.PIPE, text=True, check=True)
        site = out.stdout.strip()
        self.assertEqual(site, f"/usr/local/lib/python{sys.version_info[0]}.{sys.version_info[1]}/dist-packages")
        system_path = subprocess.run(["/usr/bin/python3", "-c", "import sys; print('\\n'.join(sys.path))"],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout.split()
        self.assertIn(site, system_path)


if __name__ == "__main__":
    unittest.main()
