"""What ADD unpacks: a tar, compressed or not, recognised by its bytes as Docker does."""
import bz2
import gzip
import io
import lzma
import tarfile

import pytest

from runtime.build.copy import is_archive


def tar_bytes(fmt=tarfile.USTAR_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    return out.getvalue()


@pytest.mark.parametrize("name,data,archive", [
    ("plain.tar", tar_bytes(), True),
    ("gnu.tar", tar_bytes(tarfile.GNU_FORMAT), True),
    ("pax.tar", tar_bytes(tarfile.PAX_FORMAT), True),
    ("a.tgz", gzip.compress(tar_bytes()), True),
    ("a.tar.bz2", bz2.compress(tar_bytes()), True),
    ("a.tar.xz", lzma.compress(tar_bytes()), True),
    # Compressed, but no tar inside: copied as it is (Docker's isArchivePath).
    ("notes.txt.gz", gzip.compress(b"plain text\n" * 100), False),
    ("notes.txt.bz2", bz2.compress(b"plain text\n"), False),
    ("corrupt.gz", b"\x1f\x8b\x08\x00junk", False),
    ("empty.tar", b"\0" * 1024, False),
    ("short.txt", b"ustar", False),
    ("empty", b"", False),
])
def test_is_archive(tmp_path, name, data, archive):
    path = tmp_path / name
    path.write_bytes(data)
    assert is_archive(path) is archive
