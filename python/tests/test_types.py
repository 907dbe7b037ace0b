"""The type information the package ships (py.typed, the stub of the
compiled module) matches what runs: mypy's stubtest compares them, and mypy
checks the package and a sample of its use in strict mode."""
import subprocess
import sys

from conftest import optional

optional("mypy")

SAMPLE = '''
import idmefv2_rs as idmefv2
from idmefv2_rs import Message, SerializedMessage

message = Message.unserialize(SerializedMessage("application/json", b"{}"))
message.validate(strict=True)
upgraded: Message = message.upgrade(to="2.D.V09-Dev").message
kinds: list[str] = [note.kind for note in message.upgrade().report]
pointer: "str | None" = idmefv2.Path("Source.IP").pointer
errors = [r.error for r in idmefv2.validate_ndjson(b"") if not r.valid]
try:
    message.validate()
except idmefv2.ValidationError as e:
    where: list[str] = [v.pointer for v in e.violations]
'''


def mypy(*args):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *args], capture_output=True, text=True
    )


def test_the_stub_matches_the_compiled_module():
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "idmefv2_rs"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_strict_mypy_accepts_the_package_and_its_use(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from __future__ import annotations\n" + SAMPLE, encoding="utf-8")
    out = mypy("--strict", "-p", "idmefv2_rs")
    assert out.returncode == 0, out.stdout
    out = mypy("--strict", str(sample))
    assert out.returncode == 0, out.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("import idmefv2_rs\nn: int = idmefv2_rs.Path('Version').pointer\n", encoding="utf-8")
    assert mypy("--strict", str(bad)).returncode == 1, "mypy sees the types"
